//! The network the mapper consumes and its behavioural forward pass.
//!
//! A network is a feed-forward stack of layers, each a weight matrix `[out][in]` followed by
//! either a layer of intrinsic-plasticity (IP) neurons (`ip`) or a readout that accumulates
//! its outputs over time (`readout`, class = argmax). Inputs are binary spike vectors, one
//! per time step. Because nothing feeds back, a layer's matrix–vector products for *all*
//! time steps can be computed before the next layer runs — which is what lets one crossbar
//! transient cover every time step of a sample (one symbolic factorization per tile).
//!
//! The matrix–vector product and the neuron update are traits ([`Mvm`], [`NeuronLayer`]) so
//! the same forward pass runs on ideal integer arithmetic (behavioural) or on simulated
//! circuits (circuit-in-the-loop); equality of the two is then a test, not an assumption.
//!
//! File format (JSON, `mtjsim ipnet map WEIGHTS`): see [`NetworkFile`]. This is the adapter
//! point for trained networks (IPNet's safetensors + JSON sidecar converts to it 1:1).

use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Normal};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

use super::quantize::{Quantized, Scheme, quantize};

/// What follows a layer's weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LayerKind {
    /// Intrinsic-plasticity MTJ neurons (spiking, heat = memory).
    Ip,
    /// Accumulate outputs over all time steps; the class is the argmax.
    Readout,
}

/// One layer: weights `[out][in]` (row-major) and what follows them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Layer {
    pub name: String,
    pub out: usize,
    pub inp: usize,
    pub kind: LayerKind,
    pub weights: Vec<Vec<f64>>,
}

/// The JSON network file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NetworkFile {
    pub name: String,
    /// Where the weights came from (training command, or "seeded random default").
    pub description: String,
    pub inputs: usize,
    /// Time steps per sample.
    pub steps: usize,
    pub layers: Vec<Layer>,
    /// Optional input samples (`[sample][step][input]` spikes 0/1) and labels.
    #[serde(default)]
    pub samples: Vec<Vec<Vec<u8>>>,
    #[serde(default)]
    pub labels: Vec<usize>,
}

impl NetworkFile {
    /// Read and validate a network file.
    pub fn load(path: &Path) -> Result<NetworkFile, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let net: NetworkFile = serde_json::from_str(&text)
            .map_err(|e| format!("{}:{}:{}: {e}", path.display(), e.line(), e.column()))?;
        net.validate()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(net)
    }

    /// Shapes chain, weights are finite, samples match.
    pub fn validate(&self) -> Result<(), String> {
        if self.layers.is_empty() {
            return Err("network has no layers".into());
        }
        let mut n = self.inputs;
        for (k, l) in self.layers.iter().enumerate() {
            if l.inp != n {
                return Err(format!(
                    "layer {k} ({}) expects {} inputs but receives {n}",
                    l.name, l.inp
                ));
            }
            if l.weights.len() != l.out || l.weights.iter().any(|r| r.len() != l.inp) {
                return Err(format!(
                    "layer {k} ({}): weights must be {}x{}",
                    l.name, l.out, l.inp
                ));
            }
            if l.weights.iter().flatten().any(|w| !w.is_finite()) {
                return Err(format!("layer {k} ({}): non-finite weight", l.name));
            }
            n = l.out;
        }
        if self.layers.last().map(|l| l.kind) != Some(LayerKind::Readout) {
            return Err("the last layer must be a readout".into());
        }
        for (s, sample) in self.samples.iter().enumerate() {
            if sample.len() != self.steps || sample.iter().any(|x| x.len() != self.inputs) {
                return Err(format!(
                    "sample {s} must be {} steps x {} inputs",
                    self.steps, self.inputs
                ));
            }
        }
        Ok(())
    }

    /// The documented default network used until trained IPNet weights are shipped: a
    /// frontier IP layer (32 inputs = 4×4 pixels × 2 polarities → 16 IP neurons) and an
    /// 11-class readout, Gaussian weights from `seed`, with `n_samples` seeded Bernoulli
    /// spike trains (rate 0.25) as inputs. Its accuracy means nothing (untrained); it
    /// exercises every part of the hardware mapping at IPNet's layer sizes' scale.
    pub fn default_network(seed: u64, n_samples: usize) -> NetworkFile {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let (inputs, hidden, classes, steps) = (32usize, 16usize, 11usize, 8usize);
        let normal = Normal::new(0.0, 1.0).expect("valid normal");
        let mut mat = |o: usize, i: usize, bias: f64| -> Vec<Vec<f64>> {
            (0..o)
                .map(|_| {
                    (0..i)
                        .map(|_| normal.sample(&mut rng) / (i as f64).sqrt() + bias)
                        .collect()
                })
                .collect()
        };
        let w1 = mat(hidden, inputs, 0.08);
        let w2 = mat(classes, hidden, 0.0);
        let samples = (0..n_samples)
            .map(|_| {
                (0..steps)
                    .map(|_| (0..inputs).map(|_| rng.random_bool(0.25) as u8).collect())
                    .collect()
            })
            .collect();
        NetworkFile {
            name: "default-ip-32-16-11".into(),
            description: format!(
                "seeded random default network (seed {seed}); untrained: used until trained \
                 IPNet weights are available"
            ),
            inputs,
            steps,
            layers: vec![
                Layer {
                    name: "ip1".into(),
                    out: hidden,
                    inp: inputs,
                    kind: LayerKind::Ip,
                    weights: w1,
                },
                Layer {
                    name: "readout".into(),
                    out: classes,
                    inp: hidden,
                    kind: LayerKind::Readout,
                    weights: w2,
                },
            ],
            samples,
            labels: Vec::new(),
        }
    }

    /// Quantize every layer.
    pub fn quantize(&self, scheme: Scheme, bits: u32) -> Vec<Quantized> {
        self.layers
            .iter()
            .map(|l| {
                let flat: Vec<f64> = l.weights.iter().flatten().copied().collect();
                quantize(&flat, l.out, l.inp, scheme, bits)
            })
            .collect()
    }
}

/// Integer matrix–vector products of one layer over all time steps.
pub trait Mvm {
    /// `inputs[t][i]` ∈ {0,1} → `out[t][o]` = Σ_i q[o][i]·inputs[t][i] (as sensed).
    fn layer(&mut self, layer: usize, inputs: &[Vec<u8>]) -> Result<Vec<Vec<i64>>, String>;
}

/// One layer of IP neurons over all time steps.
pub trait NeuronLayer {
    /// `drive[t][o]` (integer MVM output) → spikes `[t][o]`.
    fn layer(&mut self, layer: usize, drive: &[Vec<i64>]) -> Result<Vec<Vec<u8>>, String>;
}

/// Exact integer products of the quantized weights: what ideal hardware computes.
pub struct IdealMvm<'a> {
    pub q: &'a [Quantized],
}

impl Mvm for IdealMvm<'_> {
    fn layer(&mut self, layer: usize, inputs: &[Vec<u8>]) -> Result<Vec<Vec<i64>>, String> {
        let q = &self.q[layer];
        Ok(inputs
            .iter()
            .map(|x| {
                (0..q.out)
                    .map(|o| (0..q.inp).map(|i| q.at(o, i) * x[i] as i64).sum())
                    .collect()
            })
            .collect())
    }
}

/// Everything one forward pass produced.
#[derive(Debug, Clone, Serialize)]
pub struct Trace {
    /// Spikes of each IP layer, `[layer][t][o]` (readout layers: empty).
    pub spikes: Vec<Vec<Vec<u8>>>,
    /// Readout accumulated over time.
    pub readout: Vec<i64>,
    pub class: usize,
}

/// Forward pass of one sample.
pub fn forward(
    net: &NetworkFile,
    sample: &[Vec<u8>],
    mvm: &mut dyn Mvm,
    neurons: &mut dyn NeuronLayer,
) -> Result<Trace, String> {
    let mut x: Vec<Vec<u8>> = sample.to_vec();
    let mut spikes = Vec::new();
    let mut readout = Vec::new();
    for (k, l) in net.layers.iter().enumerate() {
        let y = mvm.layer(k, &x)?;
        match l.kind {
            LayerKind::Ip => {
                let s = neurons.layer(k, &y)?;
                spikes.push(s.clone());
                x = s;
            }
            LayerKind::Readout => {
                readout = (0..l.out).map(|o| y.iter().map(|v| v[o]).sum()).collect();
                spikes.push(Vec::new());
                break;
            }
        }
    }
    let class = argmax(&readout);
    Ok(Trace {
        spikes,
        readout,
        class,
    })
}

/// Index of the largest value (first on ties).
pub fn argmax(v: &[i64]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}
