//! Backbone, IP-layer placement and the baselines' temporal modules (candle, CPU).
//!
//! Why one module for all models: the comparison is only fair if every model shares the
//! same spatial backbone and readout; the models differ only in where memory lives.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use candle_core::{D, DType, Device, Result, Tensor, Var};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

use super::calib::CalibTable;
use super::ip::{ip_forward, ip_step};

/// Which temporal mechanism the network uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// IP neurons (MTJ heat) as the only memory.
    Ipnet,
    /// Vanilla tanh RNN after fc1.
    Rnn,
    /// LSTM after fc1.
    Lstm,
    /// Temporal convolution (kernel 3) after fc1: a 2+1D CNN.
    Cnn2p1d,
    /// Memory-less control: frames summed over time and polarity, one backbone pass. A
    /// sample and its time mirror give it identical input, so it is at chance on pairs.
    Sum,
    /// Frames summed over time, polarities kept: polarity is the pixel's own memory (its
    /// reference level), so this control still sees each edge's direction of motion.
    Sumpol,
}

/// Where the IP layer sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Placement {
    /// On the input (sensing interface).
    Frontier,
    /// After the first convolution.
    Middle,
    /// After the last hidden layer.
    End,
}

/// Architecture and provenance (the JSON sidecar of a checkpoint).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Arch {
    pub model: ModelKind,
    pub placement: Option<Placement>,
    pub classes: usize,
    /// Time bins per sample and frame size (pixels, square).
    pub bins: usize,
    pub size: usize,
    pub c1: usize,
    pub c2: usize,
    pub c3: usize,
    pub hidden: usize,
    /// IP neurons per pixel at the frontier.
    pub ip_channels: usize,
    /// Calibration table (path relative to the repo root) and its key constants.
    pub calib_path: Option<String>,
    pub ip_decay: Option<f64>,
    pub ip_step_s: Option<f64>,
    /// Tensor names and shapes (see `network` module doc).
    pub tensors: BTreeMap<String, Vec<usize>>,
    /// Filled by training.
    #[serde(default)]
    pub record: BTreeMap<String, serde_json::Value>,
}

impl Arch {
    /// Default sizes for `model` at `placement` (placement ignored unless ipnet).
    pub fn new(model: ModelKind, placement: Placement, classes: usize, bins: usize) -> Arch {
        let mut a = Arch {
            model,
            placement: (model == ModelKind::Ipnet).then_some(placement),
            classes,
            bins,
            size: 16,
            c1: 16,
            c2: 32,
            c3: 32,
            hidden: 64,
            ip_channels: 4,
            calib_path: None,
            ip_decay: None,
            ip_step_s: None,
            tensors: BTreeMap::new(),
            record: BTreeMap::new(),
        };
        a.tensors = a.shapes();
        a
    }

    fn frontier(&self) -> bool {
        self.placement == Some(Placement::Frontier)
    }

    fn memoryless(&self) -> bool {
        matches!(self.model, ModelKind::Sum | ModelKind::Sumpol)
    }

    /// Input channels of conv1.
    fn cin(&self) -> usize {
        if self.frontier() {
            self.ip_channels
        } else if self.model == ModelKind::Sum {
            1
        } else {
            2
        }
    }

    /// Names and shapes of all parameters.
    pub fn shapes(&self) -> BTreeMap<String, Vec<usize>> {
        let (h, s8) = (self.hidden, self.size / 8);
        let cin = self.cin();
        let mut m = BTreeMap::new();
        let mut put = |n: &str, s: &[usize]| {
            m.insert(n.to_string(), s.to_vec());
        };
        if self.frontier() {
            put("ip_in.w", &[self.ip_channels, 2, 1, 1]);
            put("ip_in.b", &[self.ip_channels]);
        }
        put("conv1.w", &[self.c1, cin, 2, 2]);
        put("conv1.b", &[self.c1]);
        put("conv2.w", &[self.c2, self.c1, 2, 2]);
        put("conv2.b", &[self.c2]);
        put("conv3.w", &[self.c3, self.c2, 2, 2]);
        put("conv3.b", &[self.c3]);
        put("fc1.w", &[h, self.c3 * s8 * s8]);
        put("fc1.b", &[h]);
        match self.model {
            ModelKind::Rnn => {
                put("rnn.wx", &[h, h]);
                put("rnn.wh", &[h, h]);
                put("rnn.b", &[h]);
            }
            ModelKind::Lstm => {
                put("lstm.wx", &[4 * h, h]);
                put("lstm.wh", &[4 * h, h]);
                put("lstm.b", &[4 * h]);
            }
            ModelKind::Cnn2p1d => {
                put("tconv.w", &[h, h, 3]);
                put("tconv.b", &[h]);
            }
            _ => {}
        }
        put("head.w", &[self.classes, h]);
        put("head.b", &[self.classes]);
        m
    }

    /// Trainable parameter count.
    pub fn param_count(&self) -> usize {
        self.shapes()
            .values()
            .map(|s| s.iter().product::<usize>())
            .sum()
    }

    /// Multiply-accumulates of one inference (all time bins), plus IP-neuron updates.
    pub fn inference_ops(&self) -> (u64, u64) {
        let (s, h) = (self.size as u64, self.hidden as u64);
        let cin = self.cin() as u64;
        let (c1, c2, c3) = (self.c1 as u64, self.c2 as u64, self.c3 as u64);
        let mut per_step = (s / 2).pow(2) * c1 * cin * 4
            + (s / 4).pow(2) * c2 * c1 * 4
            + (s / 8).pow(2) * c3 * c2 * 4
            + h * c3 * (s / 8).pow(2);
        if self.frontier() {
            per_step += s * s * self.ip_channels as u64 * 2;
        }
        per_step += match self.model {
            ModelKind::Rnn => 2 * h * h,
            ModelKind::Lstm => 8 * h * h,
            ModelKind::Cnn2p1d => 3 * h * h,
            _ => 0,
        };
        let t = self.bins as u64;
        let macs = if self.memoryless() {
            per_step + h * self.classes as u64
        } else {
            per_step * t + h * self.classes as u64
        };
        let ip_neurons = match self.placement {
            Some(Placement::Frontier) => s * s * self.ip_channels as u64,
            Some(Placement::Middle) => (s / 2).pow(2) * c1,
            Some(Placement::End) => h,
            None => 0,
        };
        (macs, ip_neurons * t)
    }
}

/// A network: architecture, parameters, and (for ipnet) the calibration table.
pub struct Network {
    pub arch: Arch,
    pub params: BTreeMap<String, Var>,
    pub table: Option<Arc<CalibTable>>,
}

/// Per time step of the IP layer for one sample: drive (units of Ic0), temperature rise
/// at the start of the step (K), spike (0/1). Neuron order = the layer's NCHW flattening.
#[derive(Debug, Clone, PartialEq)]
pub struct IpTrace {
    pub drive: Vec<Vec<f32>>,
    pub theta_k: Vec<Vec<f32>>,
    pub spikes: Vec<Vec<u8>>,
}

/// 2×2 stride-2 convolution on channels-last `[N, H, W, C]` as one matmul (patchify).
/// Why not `conv2d`: candle's CPU conv backward (transposed conv) is a naive loop; a
/// non-overlapping patch conv is a reshape + GEMM in both directions. `w` is
/// `[Cout, Cin, 2, 2]` (PyTorch layout); `[Cout, Cin, 1, 1]` gives a pointwise conv.
fn conv(x: &Tensor, w: &Tensor, b: &Tensor) -> Result<Tensor> {
    let (n, h, wd, c) = x.dims4()?;
    let (co, ci, kh, _) = w.dims4()?;
    if ci != c {
        candle_core::bail!("conv: input has {c} channels, kernel expects {ci}");
    }
    let wm = w.permute((0, 2, 3, 1))?.reshape((co, kh * kh * ci))?;
    let y = if kh == 1 {
        x.reshape((n * h * wd, c))?
            .matmul(&wm.t()?)?
            .reshape((n, h, wd, co))?
    } else {
        let (h2, w2) = (h / 2, wd / 2);
        x.reshape((n * h2, 2, w2, 2 * c))?
            .transpose(1, 2)?
            .contiguous()?
            .reshape((n * h2 * w2, 4 * c))?
            .matmul(&wm.t()?)?
            .reshape((n, h2, w2, co))?
    };
    y.broadcast_add(b)
}

fn linear(x: &Tensor, w: &Tensor, b: &Tensor) -> Result<Tensor> {
    x.matmul(&w.t()?)?.broadcast_add(b)
}

/// Input scaling of event counts.
/// Frames `[B][T][2][S][S]` → channels-last input `[B, T, S, S, 2]`.
pub fn frames_to_tensor(frames: &[u8], batch: usize, arch: &Arch) -> Result<Tensor> {
    let (t, s) = (arch.bins, arch.size);
    let plane = s * s;
    let mut v = vec![0f32; frames.len()];
    for (k, chunk) in frames.chunks(2 * plane).enumerate() {
        let out = &mut v[k * 2 * plane..(k + 1) * 2 * plane];
        for i in 0..plane {
            out[2 * i] = chunk[i].min(15) as f32 / 4.0;
            out[2 * i + 1] = chunk[plane + i].min(15) as f32 / 4.0;
        }
    }
    Tensor::from_vec(v, (batch, t, s, s, 2), &Device::Cpu)
}

impl Network {
    /// Fresh parameters (Kaiming-uniform weights, zero biases except the IP drives),
    /// deterministic in `seed`.
    pub fn new(arch: Arch, table: Option<Arc<CalibTable>>, seed: u64) -> Result<Network> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut params = BTreeMap::new();
        for (name, shape) in arch.shapes() {
            let n: usize = shape.iter().product();
            let fan_in: usize = if shape.len() > 1 {
                shape[1..].iter().product()
            } else {
                1
            };
            let v: Vec<f32> =
                if name.ends_with(".w") || name.ends_with(".wx") || name.ends_with(".wh") {
                    let a = (6.0 / fan_in as f32).sqrt()
                        * if name.starts_with("ip_in") { 0.5 } else { 1.0 };
                    (0..n).map(|_| rng.random_range(-a..a)).collect()
                } else if name == "ip_in.b" {
                    // Spread of sub-threshold bias currents: the hotter a neuron, the lower
                    // its threshold, so different biases read out different recencies.
                    (0..n).map(|i| 0.3 + 0.5 * i as f32 / n as f32).collect()
                } else if name == "lstm.b" {
                    // Forget-gate bias 1 (standard).
                    let h = n / 4;
                    (0..n)
                        .map(|i| if (h..2 * h).contains(&i) { 1.0 } else { 0.0 })
                        .collect()
                } else {
                    vec![0.0; n]
                };
            let t = Tensor::from_vec(v, shape.as_slice(), &Device::Cpu)?;
            params.insert(name, Var::from_tensor(&t)?);
        }
        Ok(Network {
            arch,
            params,
            table,
        })
    }

    fn p(&self, n: &str) -> Result<&Tensor> {
        self.params
            .get(n)
            .map(|v| v.as_tensor())
            .ok_or_else(|| candle_core::Error::Msg(format!("missing tensor {n}")))
    }

    fn table(&self) -> Result<&Arc<CalibTable>> {
        self.table
            .as_ref()
            .ok_or_else(|| candle_core::Error::Msg("ipnet needs a calibration table".into()))
    }

    /// Apply the IP layer over time to drives `[B·T, ...]` laid out batch-major.
    fn ip_over_time(&self, drive: &Tensor, b: usize, smooth: bool) -> Result<Tensor> {
        let t = self.arch.bins;
        let dims = drive.dims().to_vec();
        let mut shape = vec![b, t];
        shape.extend_from_slice(&dims[1..]);
        let d = drive.reshape(shape)?;
        let xs: Vec<Tensor> = (0..t).map(|k| d.narrow(1, k, 1)).collect::<Result<_>>()?;
        let s = ip_forward(self.table()?, &xs, smooth)?;
        Tensor::cat(&s, 1)?.reshape(dims)
    }

    /// Logits `[B, classes]` for input `[B, T, S, S, 2]` (see [`frames_to_tensor`]).
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.forward_opts(x, false).map(|(l, _)| l)
    }

    /// Forward pass; also returns the IP layer's drive `[B·T, ...]` when there is one.
    pub fn forward_opts(&self, x: &Tensor, smooth: bool) -> Result<(Tensor, Option<Tensor>)> {
        let a = &self.arch;
        let (b, t) = (x.dim(0)?, x.dim(1)?);
        let s = a.size;
        let mut ip_drive = None;
        let frames = if a.model == ModelKind::Sum {
            x.sum(1)?.sum_keepdim(3)?
        } else if a.model == ModelKind::Sumpol {
            x.sum(1)?
        } else {
            x.reshape((b * t, s, s, 2))?
        };
        let mut h = frames;
        if a.placement == Some(Placement::Frontier) {
            let d = conv(&h, self.p("ip_in.w")?, self.p("ip_in.b")?)?;
            h = self.ip_over_time(&d, b, smooth)?;
            ip_drive = Some(d);
        }
        let z1 = conv(&h, self.p("conv1.w")?, self.p("conv1.b")?)?;
        h = if a.placement == Some(Placement::Middle) {
            let s = self.ip_over_time(&z1, b, smooth)?;
            ip_drive = Some(z1);
            s
        } else {
            z1.relu()?
        };
        h = conv(&h, self.p("conv2.w")?, self.p("conv2.b")?)?.relu()?;
        h = conv(&h, self.p("conv3.w")?, self.p("conv3.b")?)?.relu()?;
        let n = h.dim(0)?;
        h = h.reshape((n, ()))?;
        let zf = linear(&h, self.p("fc1.w")?, self.p("fc1.b")?)?;
        h = if a.placement == Some(Placement::End) {
            let s = self.ip_over_time(&zf, b, smooth)?;
            ip_drive = Some(zf);
            s
        } else {
            zf.relu()?
        };
        let feat = if a.memoryless() {
            h
        } else {
            let seq = h.reshape((b, t, a.hidden))?;
            self.temporal(&seq)?.mean(1)?
        };
        let logits = linear(&feat, self.p("head.w")?, self.p("head.b")?)?;
        Ok((logits, ip_drive))
    }

    /// Logits `[1, classes]` of a frontier IPNet from given IP-layer spikes `[T][S·S·C]`
    /// (neuron index `(y·S + x)·C + c`, the order of [`Network::ip_trace`]): the digital
    /// backbone alone, so spikes from a simulated circuit can be classified by the trained
    /// network. Same operations as the tail of [`Network::forward_opts`] (a test checks that
    /// the two agree on the behavioural spikes).
    pub fn forward_from_frontier_spikes(&self, spikes: &[Vec<u8>]) -> Result<Tensor> {
        let a = &self.arch;
        if a.placement != Some(Placement::Frontier) {
            candle_core::bail!("forward_from_frontier_spikes needs a frontier IPNet");
        }
        let (t, s, c) = (a.bins, a.size, a.ip_channels);
        if spikes.len() != t || spikes.iter().any(|v| v.len() != s * s * c) {
            candle_core::bail!("spikes must be {t} steps x {} neurons", s * s * c);
        }
        let v: Vec<f32> = spikes.iter().flatten().map(|&x| x as f32).collect();
        let mut h = Tensor::from_vec(v, (t, s, s, c), &Device::Cpu)?;
        h = conv(&h, self.p("conv1.w")?, self.p("conv1.b")?)?.relu()?;
        h = conv(&h, self.p("conv2.w")?, self.p("conv2.b")?)?.relu()?;
        h = conv(&h, self.p("conv3.w")?, self.p("conv3.b")?)?.relu()?;
        h = h.reshape((t, ()))?;
        h = linear(&h, self.p("fc1.w")?, self.p("fc1.b")?)?.relu()?;
        let feat = h.reshape((1, t, a.hidden))?.mean(1)?;
        linear(&feat, self.p("head.w")?, self.p("head.b")?)
    }

    /// Temporal module on `[B, T, H]` → `[B, T, H]`.
    fn temporal(&self, seq: &Tensor) -> Result<Tensor> {
        let (b, t, hd) = seq.dims3()?;
        match self.arch.model {
            ModelKind::Ipnet | ModelKind::Sum | ModelKind::Sumpol => Ok(seq.clone()),
            ModelKind::Rnn => {
                let xw = linear(
                    &seq.reshape((b * t, hd))?,
                    self.p("rnn.wx")?,
                    self.p("rnn.b")?,
                )?
                .reshape((b, t, hd))?;
                let wh = self.p("rnn.wh")?.t()?;
                let mut h = Tensor::zeros((b, hd), DType::F32, &Device::Cpu)?;
                let mut out = Vec::with_capacity(t);
                for k in 0..t {
                    h = (xw.narrow(1, k, 1)?.squeeze(1)? + h.matmul(&wh)?)?.tanh()?;
                    out.push(h.unsqueeze(1)?);
                }
                Tensor::cat(&out, 1)
            }
            ModelKind::Lstm => {
                let xw = linear(
                    &seq.reshape((b * t, hd))?,
                    self.p("lstm.wx")?,
                    self.p("lstm.b")?,
                )?
                .reshape((b, t, 4 * hd))?;
                let wh = self.p("lstm.wh")?.t()?;
                let mut h = Tensor::zeros((b, hd), DType::F32, &Device::Cpu)?;
                let mut c = h.clone();
                let mut out = Vec::with_capacity(t);
                for k in 0..t {
                    let g = (xw.narrow(1, k, 1)?.squeeze(1)? + h.matmul(&wh)?)?;
                    let i = candle_nn::ops::sigmoid(&g.narrow(1, 0, hd)?)?;
                    let f = candle_nn::ops::sigmoid(&g.narrow(1, hd, hd)?)?;
                    let gg = g.narrow(1, 2 * hd, hd)?.tanh()?;
                    let o = candle_nn::ops::sigmoid(&g.narrow(1, 3 * hd, hd)?)?;
                    c = ((f * c)? + (i * gg)?)?;
                    h = (o * c.tanh()?)?;
                    out.push(h.unsqueeze(1)?);
                }
                Tensor::cat(&out, 1)
            }
            ModelKind::Cnn2p1d => {
                let x = seq.transpose(1, 2)?.contiguous()?; // [B, H, T]
                let y = x
                    .conv1d(self.p("tconv.w")?, 1, 1, 1, 1)?
                    .broadcast_add(&self.p("tconv.b")?.reshape((1, hd, 1))?)?
                    .relu()?;
                y.transpose(1, 2)?.contiguous()
            }
        }
    }

    /// Behavioural IP-layer trace of one sample `[T, 2, S, S]` (counts): the drives come
    /// from the network's layers before the IP layer; the IP layer is run with
    /// [`ip_step`] (plain Rust), independent of the autograd path.
    pub fn ip_trace(&self, frames: &[u8]) -> Result<Option<IpTrace>> {
        let Some(table) = &self.table else {
            return Ok(None);
        };
        if self.arch.placement.is_none() {
            return Ok(None);
        }
        let x = frames_to_tensor(frames, 1, &self.arch)?;
        let (_, drive) = self.forward_opts(&x, false)?;
        let Some(drive) = drive else { return Ok(None) };
        let t = self.arch.bins;
        let d: Vec<f32> = drive.flatten_all()?.to_vec1()?;
        let per = d.len() / t;
        let mut theta = vec![0f32; per];
        let mut tr = IpTrace {
            drive: Vec::new(),
            theta_k: Vec::new(),
            spikes: Vec::new(),
        };
        for k in 0..t {
            let xk = &d[k * per..(k + 1) * per];
            tr.theta_k.push(theta.clone());
            tr.spikes.push(ip_step(table, &mut theta, xk));
            tr.drive.push(xk.to_vec());
        }
        Ok(Some(tr))
    }

    /// Write `dir/name.safetensors` and `dir/name.json`.
    pub fn save(&self, dir: &Path, name: &str) -> std::result::Result<(PathBuf, PathBuf), String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let st = dir.join(format!("{name}.safetensors"));
        let js = dir.join(format!("{name}.json"));
        let map: std::collections::HashMap<String, Tensor> = self
            .params
            .iter()
            .map(|(k, v)| (k.clone(), v.as_tensor().clone()))
            .collect();
        candle_core::safetensors::save(&map, &st).map_err(|e| format!("{}: {e}", st.display()))?;
        let s = serde_json::to_string_pretty(&self.arch).map_err(|e| e.to_string())?;
        std::fs::write(&js, s).map_err(|e| format!("{}: {e}", js.display()))?;
        Ok((st, js))
    }

    /// Load a checkpoint written by [`Network::save`]; the calibration table is read from
    /// `arch.calib_path` (relative to `root`).
    pub fn load(dir: &Path, name: &str, root: &Path) -> std::result::Result<Network, String> {
        let js = dir.join(format!("{name}.json"));
        let st = dir.join(format!("{name}.safetensors"));
        let text = std::fs::read_to_string(&js).map_err(|e| format!("{}: {e}", js.display()))?;
        let arch: Arch = serde_json::from_str(&text)
            .map_err(|e| format!("{}:{}:{}: {e}", js.display(), e.line(), e.column()))?;
        let tensors = candle_core::safetensors::load(&st, &Device::Cpu)
            .map_err(|e| format!("{}: {e}", st.display()))?;
        let mut params = BTreeMap::new();
        for (name, shape) in arch.shapes() {
            let t = tensors
                .get(&name)
                .ok_or_else(|| format!("{}: missing tensor {name}", st.display()))?;
            if t.dims() != shape.as_slice() {
                return Err(format!(
                    "{}: tensor {name} has shape {:?}, architecture says {:?}",
                    st.display(),
                    t.dims(),
                    shape
                ));
            }
            params.insert(
                name,
                Var::from_tensor(&t.to_dtype(DType::F32).map_err(|e| e.to_string())?)
                    .map_err(|e| e.to_string())?,
            );
        }
        let table = match &arch.calib_path {
            Some(p) if arch.model == ModelKind::Ipnet => {
                Some(Arc::new(CalibTable::load(&root.join(p))?))
            }
            _ => None,
        };
        Ok(Network {
            arch,
            params,
            table,
        })
    }
}

/// Index of the largest logit per row.
pub fn argmax(logits: &Tensor) -> Result<Vec<u32>> {
    logits.argmax(D::Minus1)?.to_vec1::<u32>()
}
