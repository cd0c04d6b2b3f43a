//! A trained frontier IPNet on simulated MTJ hardware: the IP layer (its 1×1 input
//! convolution on crossbar tiles and its 1,024 IP neurons as `N` elements) is simulated;
//! the CNN backbone after it stays digital (the trained candle network, energy from the
//! cited per-operation table).
//!
//! Adapter (why bit rows): the crossbar machinery multiplies *binary* inputs by integer
//! weight levels. The network's input to `ip_in` is `min(count, 15)/4` per polarity, so
//! each polarity count becomes 4 binary rows (its bits b = 0..3) with weights `w·2^b/4`,
//! plus one always-on row carrying the bias: 9 rows → 4 IP drives per pixel, identical
//! for all 256 pixels, so every pixel owns one small tile (the in-sensor picture) and the
//! drive `x = scale·Σ q·bit` equals the trained convolution up to the quantization of the
//! 36 weights (`|Δx| ≤ Σ_active-rows scale/2`).
//!
//! Neuron protocol (why it differs from [`super::neuron`]): the network was trained on the
//! calibration table of [`crate::network::calib`], whose step is *one* pulse of
//! `opts.step_s` (10 ns) of current `x·Ic0(tamb)` in the switching direction (P → AP) from
//! the P state, with the thermal node integrating heat and leak during the same pulse
//! (θ' = d·θ + h(x), d = e^(−step/τ)); a neuron that fired is back in P at the start of the
//! next step and its heat is kept. So here one network step = one transient of length
//! `step_s` per neuron group: every neuron starts in P at the temperature the previous step
//! left (recorded by the circuit), magnetization at the calibration's initial angle
//! (0.02 rad) with the Brown thermal field on (the table is a Monte Carlo of exactly that);
//! a spike = the free layer ended on the AP side. The reset between steps is ideal (zero
//! time, its heat not fed back), as in training; its energy is estimated by simulating one
//! reset pulse of a fired neuron (reported separately). Negative drives flow in the
//! stabilising direction: they heat (the table's h(|x|)) but cannot fire.

use std::path::Path;

use rayon::prelude::*;
use serde::Serialize;

use super::circuit::{CircuitMvm, TileRun, calibrate_unit};
use super::network::{IdealMvm, Mvm};
use super::neuron::{NeuronEnergy, NeuronSpec};
use super::pipeline::{EvalConfig, EvalResult, McPoint, SampleResult};
use super::quantize::{Quantized, Scheme, quantize};
use super::tile::{ArrayParams, Mapping, map_layers, model_line};
use crate::analysis::simulate;
use crate::circuit::Model;
use crate::devices::mtj::params::MtjParams;
use crate::network::calib::CalibTable;
use crate::network::ip::ip_step;
use crate::network::model::{Network, Placement, frames_to_tensor};
use crate::network::train::Dataset;

/// Binary rows per pixel: 2 polarities × 4 count bits + the bias row.
pub const ROWS: usize = 9;
/// Count bits per polarity (`min(count, 15)`).
pub const COUNT_BITS: usize = 4;
/// Initial magnetization angle of a neuron at each step (rad): the calibration's
/// `MacrospinState::along(p, s0, 0.02)`.
pub const THETA0_RAD: f64 = 0.02;

/// The trained IP input layer as a crossbar layer with binary inputs.
#[derive(Debug, Clone, Serialize)]
pub struct FrontierAdapter {
    /// IP neurons per pixel, pixels per side, time bins.
    pub channels: usize,
    pub size: usize,
    pub bins: usize,
    /// `[channel][row]` in units of Ic0: rows 4p + b = polarity p bit b (`w·2^b/4`), row 8 = bias.
    pub weights: Vec<Vec<f64>>,
}

impl FrontierAdapter {
    /// Read `ip_in` of a trained frontier IPNet.
    pub fn from_network(net: &Network) -> Result<FrontierAdapter, String> {
        let a = &net.arch;
        if a.placement != Some(Placement::Frontier) {
            return Err(
                "the hardware path maps a frontier IPNet (IP layer on the input); \
                 this checkpoint has its IP layer elsewhere or none"
                    .into(),
            );
        }
        let get = |n: &str| -> Result<Vec<f32>, String> {
            net.params
                .get(n)
                .ok_or_else(|| format!("checkpoint has no tensor {n}"))?
                .as_tensor()
                .flatten_all()
                .and_then(|t| t.to_vec1::<f32>())
                .map_err(|e| e.to_string())
        };
        let (w, b) = (get("ip_in.w")?, get("ip_in.b")?);
        let c = a.ip_channels;
        if w.len() != 2 * c || b.len() != c {
            return Err(format!("ip_in must be [{c},2,1,1] + [{c}]"));
        }
        let weights = (0..c)
            .map(|o| {
                let mut row = Vec::with_capacity(ROWS);
                for p in 0..2 {
                    for bit in 0..COUNT_BITS {
                        row.push(w[o * 2 + p] as f64 * (1u32 << bit) as f64 / 4.0);
                    }
                }
                row.push(b[o] as f64);
                row
            })
            .collect();
        Ok(FrontierAdapter {
            channels: c,
            size: a.size,
            bins: a.bins,
            weights,
        })
    }

    pub fn pixels(&self) -> usize {
        self.size * self.size
    }

    /// Quantize the `[channels][9]` matrix.
    pub fn quantize(&self, scheme: Scheme, bits: u32) -> Quantized {
        let flat: Vec<f64> = self.weights.iter().flatten().copied().collect();
        quantize(&flat, self.channels, ROWS, scheme, bits)
    }

    /// Binary rows of every pixel over time, `[pixel][t][row]`, from frames `[T][2][S][S]`.
    pub fn rows(&self, frames: &[u8]) -> Vec<Vec<Vec<u8>>> {
        let plane = self.pixels();
        (0..plane)
            .map(|px| {
                (0..self.bins)
                    .map(|t| {
                        let mut r = Vec::with_capacity(ROWS);
                        for p in 0..2 {
                            let n = frames[t * 2 * plane + p * plane + px].min(15);
                            for bit in 0..COUNT_BITS {
                                r.push((n >> bit) & 1);
                            }
                        }
                        r.push(1);
                        r
                    })
                    .collect()
            })
            .collect()
    }

    /// Exact drive of one pixel step from its rows (what the trained conv computes).
    pub fn drive(&self, rows: &[u8]) -> Vec<f64> {
        self.weights
            .iter()
            .map(|w| w.iter().zip(rows).map(|(w, &x)| w * x as f64).sum())
            .collect()
    }
}

/// Map the quantized 9-row layer onto the one tile each pixel owns.
pub fn pixel_tile(
    qs: &[Quantized],
    scheme: Scheme,
    bits: u32,
    tile: usize,
) -> Result<Mapping, String> {
    let mapping = map_layers(qs, scheme, bits, tile)?;
    if mapping.tiles.len() != 1 {
        let cols = qs.first().map_or(0, |q| q.out) * 2 * scheme.columns_per_side(bits);
        return Err(format!(
            "a pixel's IP input layer ({ROWS} rows x {cols} columns with scheme {} and {bits} bits) must fit one tile; --tile {tile} gives {} tiles",
            scheme.name(),
            mapping.tiles.len()
        ));
    }
    Ok(mapping)
}

/// Settings of the hardware run.
#[derive(Debug, Clone, Serialize)]
pub struct HwConfig {
    pub scheme: Scheme,
    pub bits: u32,
    pub tile: usize,
    pub array: ArrayParams,
    /// Brown thermal field in the neuron MTJs (the calibration's protocol: on).
    pub neuron_noise: bool,
    pub seed: u64,
    /// Device-variation Monte Carlo: relative σ values and samples per point (see
    /// [`variation_point`]); empty or 0 = none.
    pub mc_sigmas: Vec<f64>,
    pub mc_samples: usize,
}

/// What the trained-network path measured beyond [`EvalResult`].
#[derive(Debug, Clone, Serialize)]
pub struct HwExtra {
    pub checkpoint: String,
    pub calib_card: String,
    pub calib_source: String,
    pub step_s: f64,
    pub decay: f64,
    pub ic0_a: f64,
    pub pixels: usize,
    pub channels: usize,
    /// Classes from the trained float network (software reference), per sample.
    pub reference_classes: Vec<usize>,
    /// Spike agreement of the behavioural IP layer on the sensed (quantized) drives with
    /// the behavioural layer on the float drives: what quantization + ADC cost.
    pub spike_agreement_mvm: f64,
    /// Spike agreement of the circuit neurons with the behavioural layer on the same
    /// sensed drives: what the neuron circuit (noise, AP-state heating) costs.
    pub spike_agreement_neuron: f64,
    /// Neuron-steps where both the circuit and the behavioural layer (float drives) spiked:
    /// with the spike totals, the hit rate of the circuit on the behavioural spikes.
    pub spikes_both: usize,
    /// Circuit-only spikes (the behavioural layer on the same sensed drives did not fire),
    /// and how many of them came from a neuron that had already fired in the circuit at an
    /// earlier step (after a spike the device heats in AP, which the table's h(x), measured
    /// in P, does not include).
    pub circuit_only: usize,
    pub circuit_only_after_fire: usize,
    /// Σ over neuron-steps of the calibration's Monte Carlo switching probability P_sw(x, θ)
    /// (bilinear in the table, not the logistic summary whose tails are too heavy) on the sensed
    /// drives: the spike count stochastic devices should give (the trained layer fires
    /// deterministically at x ≥ x50(θ)).
    pub expected_stochastic_spikes: f64,
    /// Largest |x_sensed − x_float| (units of Ic0) and the stated bound.
    pub drive_max_err: f64,
    pub drive_err_bound: f64,
    /// Tile transients simulated / pixel-samples they covered (see `pixel_reads`: distinct
    /// reads are simulated once when the tiles are deterministic; no pixel is dropped).
    pub tile_transients: usize,
    pub tile_pixel_runs: usize,
    /// The first sample's tile transients: (name, windows, unknowns, steps, Newton
    /// iterations, wall s).
    pub tile_sims: Vec<(String, usize, usize, usize, usize, f64)>,
    /// One reset pulse of a fired neuron: energy (J), and whether it returned to P.
    pub reset_j: f64,
    pub reset_ok: bool,
    pub reset_i_a: f64,
    pub reset_s: f64,
}

/// One pixel's sensed drives `[t][channel]` (integer levels) and its tile run.
struct PixelMvm {
    levels: Vec<Vec<i64>>,
    runs: Vec<(usize, TileRun)>,
    netlist: Option<String>,
    equal: usize,
    total: usize,
    max_err: i64,
    max_analog: f64,
}

#[allow(clippy::too_many_arguments)]
fn run_pixel_tile(
    mapping: &Mapping,
    q: &[Quantized],
    card: &Model,
    params: &ArrayParams,
    i_unit: f64,
    provenance: &str,
    sample_key: u64,
    windows: &[Vec<u8>],
) -> Result<PixelMvm, String> {
    let mut cm = CircuitMvm {
        mapping,
        q,
        card,
        params: params.clone(),
        i_unit,
        provenance: provenance.to_string(),
        runs: Vec::new(),
        sample: sample_key,
        netlists: Vec::new(),
        max_analog_err_lsb: 0.0,
    };
    let got = cm.layer(0, windows)?;
    let want = IdealMvm { q }.layer(0, windows)?;
    let (mut equal, mut total, mut max_err) = (0, 0, 0);
    for (a, b) in got.iter().flatten().zip(want.iter().flatten()) {
        total += 1;
        equal += (a == b) as usize;
        max_err = max_err.max((a - b).abs());
    }
    Ok(PixelMvm {
        levels: got,
        netlist: cm.netlists.first().map(|(_, t)| t.clone()),
        runs: cm.runs,
        equal,
        total,
        max_err,
        max_analog: cm.max_analog_err_lsb,
    })
}

/// Every pixel's reads of one sample.
struct Reads {
    pixels: Vec<PixelMvm>,
    /// The transients actually simulated: (name, windows, unknowns, steps, Newton
    /// iterations, wall s).
    transients: Vec<(String, usize, usize, usize, usize, f64)>,
    netlist: Option<String>,
}

/// Distinct input vectors per tile transient (fixed, so results do not depend on the
/// thread count).
const READS_PER_TRANSIENT: usize = 16;

/// Read every pixel's 9-row inputs on its tile over all steps.
///
/// Deterministic tiles (no array noise, no variation): every pixel's tile is the same
/// circuit, and a read settles within its window (the report shows the settling time
/// against the window), so the sensed currents of a read depend only on that read's input
/// vector (levels identical to per-pixel simulation: tested). Its energy also carries the
/// charge moved by the change from the previous read (up to ≈ 10 % of a read; +0.29 % of
/// a whole sample's array energy in `distinct_reads_whole_sample`), which this shortcut attributes as in the distinct-read
/// transient. Each *distinct* input vector of the sample is therefore simulated once (in
/// transients of [`READS_PER_TRANSIENT`] windows, in parallel) and its currents, levels
/// and energy are used for every pixel-step that applies it; each pixel then gets a
/// [`TileRun`] assembled from its own windows (the engine's ∫v·i of a transient is
/// apportioned to its windows in proportion to their integrated energies). Otherwise each
/// pixel's tile is simulated on its own (own noise/variation seed).
#[allow(clippy::too_many_arguments)]
fn pixel_reads(
    mapping: &Mapping,
    qs: &[Quantized],
    syn: &Model,
    params: &ArrayParams,
    i_unit: f64,
    provenance: &str,
    sample: usize,
    rows: &[Vec<Vec<u8>>],
    deterministic: bool,
) -> Result<Reads, String> {
    let px = rows.len();
    let name = |r: &TileRun, what: String| {
        (
            what,
            r.currents.len(),
            r.unknowns,
            r.steps,
            r.newton_iterations,
            r.wall_s,
        )
    };
    if !deterministic {
        let pixels: Vec<PixelMvm> = (0..px)
            .into_par_iter()
            .map(|p| {
                run_pixel_tile(
                    mapping,
                    qs,
                    syn,
                    params,
                    i_unit,
                    provenance,
                    (sample * px + p) as u64,
                    &rows[p],
                )
            })
            .collect::<Result<_, _>>()?;
        let transients = pixels
            .iter()
            .enumerate()
            .flat_map(|(p, m)| {
                m.runs
                    .iter()
                    .map(move |(_, r)| name(r, format!("tile of pixel {p}")))
            })
            .collect();
        let netlist = pixels.first().and_then(|m| m.netlist.clone());
        return Ok(Reads {
            pixels,
            transients,
            netlist,
        });
    }
    let mut distinct: Vec<Vec<u8>> = Vec::new();
    let mut index: std::collections::HashMap<&[u8], usize> = Default::default();
    let ids: Vec<Vec<usize>> = rows
        .iter()
        .map(|seq| {
            seq.iter()
                .map(|w| {
                    *index.entry(w.as_slice()).or_insert_with(|| {
                        distinct.push(w.clone());
                        distinct.len() - 1
                    })
                })
                .collect()
        })
        .collect();
    let chunks: Vec<&[Vec<u8>]> = distinct.chunks(READS_PER_TRANSIENT).collect();
    let runs: Vec<PixelMvm> = chunks
        .par_iter()
        .enumerate()
        .map(|(c, w)| {
            run_pixel_tile(
                mapping,
                qs,
                syn,
                params,
                i_unit,
                provenance,
                (sample * 1000 + c) as u64,
                w,
            )
        })
        .collect::<Result<_, _>>()?;
    let want = IdealMvm { q: qs }.layer(0, &distinct)?;
    let mut transients = Vec::new();
    for (c, m) in runs.iter().enumerate() {
        for (_, r) in &m.runs {
            transients.push(name(
                r,
                format!(
                    "tile_pixel.cir: distinct reads {}..{}",
                    c * READS_PER_TRANSIENT,
                    c * READS_PER_TRANSIENT + r.currents.len()
                ),
            ));
        }
    }
    let at = |g: usize| {
        let m = &runs[g / READS_PER_TRANSIENT];
        (m, g % READS_PER_TRANSIENT)
    };
    let pixels = ids
        .iter()
        .map(|seq| {
            let (mut levels, mut currents, mut energy, mut settle) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            let (mut engine, mut equal, mut total, mut max_err, mut max_analog) =
                (0.0, 0, 0, 0i64, 0.0f64);
            let mut unknowns = 0;
            for &g in seq {
                let (m, j) = at(g);
                let r = &m.runs[0].1;
                let integrated: f64 = r.window_energy_j.iter().sum();
                let ratio = if integrated != 0.0 {
                    r.engine_energy_j / integrated
                } else {
                    1.0
                };
                levels.push(m.levels[j].clone());
                currents.push(r.currents[j].clone());
                energy.push(r.window_energy_j[j]);
                settle.push(r.settle_s[j]);
                engine += r.window_energy_j[j] * ratio;
                unknowns = r.unknowns;
                for (a, b) in m.levels[j].iter().zip(&want[g]) {
                    total += 1;
                    equal += (a == b) as usize;
                    max_err = max_err.max((a - b).abs());
                }
                max_analog = max_analog.max(m.max_analog);
            }
            let run = TileRun {
                currents,
                window_energy_j: energy,
                settle_s: settle,
                engine_energy_j: engine,
                steps: 0,
                newton_iterations: 0,
                unknowns,
                wall_s: 0.0,
            };
            PixelMvm {
                levels,
                runs: vec![(0, run)],
                netlist: None,
                equal,
                total,
                max_err,
                max_analog,
            }
        })
        .collect();
    let netlist = runs.first().and_then(|m| m.netlist.clone());
    Ok(Reads {
        pixels,
        transients,
        netlist,
    })
}

/// Circuit neurons of one group over all steps.
struct NeuronGroupRun {
    /// `[t][n]`
    spikes: Vec<Vec<u8>>,
    energy: Vec<NeuronEnergy>,
    engine_j: f64,
    wall_s: f64,
    runs: u64,
    netlist: String,
}

/// Netlist of one network step of a neuron group (drives in units of Ic0).
#[allow(clippy::too_many_arguments)]
pub fn neuron_step_netlist(
    card: &Model,
    ic0: f64,
    step_s: f64,
    noise: bool,
    seed: u64,
    temp0: &[f64],
    x: &[f64],
    title: &str,
) -> String {
    use std::fmt::Write;
    let mut o = String::new();
    let _ = writeln!(o, "* mtjsim ipnet (trained frontier IPNet): {title}");
    let _ = writeln!(
        o,
        "* i<n>: behavioural current driver, -x*Ic0 for one network step (negative = P->AP, the firing direction)"
    );
    let _ = writeln!(o, ".options seed={seed}");
    let nz = if noise { 1.0 } else { 0.0 };
    let _ = writeln!(o, "{}", model_line("ipn", card, &[("noise", nz)]));
    let e = 10e-12;
    for (n, (&t0, &xn)) in temp0.iter().zip(x).enumerate() {
        let i = -xn * ic0;
        let _ = writeln!(
            o,
            "i{n} 0 a{n} pwl(0 0 {e:e} {i:e} {:e} {i:e} {step_s:e} 0)",
            step_s - e
        );
        let _ = writeln!(
            o,
            "n{n} a{n} 0 ipn state=p temp0={t0:e} theta0={THETA0_RAD:e}"
        );
    }
    let _ = writeln!(o, ".tran {:e} {step_s:e}", 100e-12);
    let _ = writeln!(o, "{}", super::neuron::save_line(x.len()));
    let _ = writeln!(o, ".end");
    o
}

fn pwl_current(i: f64, step_s: f64, t: f64) -> f64 {
    let e = 10e-12;
    if t <= e {
        i * t / e
    } else if t <= step_s - e {
        i
    } else {
        i * ((step_s - t) / e).clamp(0.0, 1.0)
    }
}

/// Simulate one group of neurons over all steps. `x[t][n]` in units of Ic0.
fn run_neuron_group(
    card: &Model,
    tamb_k: f64,
    ic0: f64,
    step_s: f64,
    noise: bool,
    seed: u64,
    x: &[Vec<f64>],
) -> Result<NeuronGroupRun, String> {
    let n = x.first().map_or(0, Vec::len);
    let mut temp = vec![tamb_k; n];
    let mut out = NeuronGroupRun {
        spikes: Vec::new(),
        energy: Vec::new(),
        engine_j: 0.0,
        wall_s: 0.0,
        runs: 0,
        netlist: String::new(),
    };
    for (k, xk) in x.iter().enumerate() {
        let s = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(k as u64 * 1442695040888963407)
            >> 33; // netlist seeds are read as numbers: keep them below 2^31
        let text = neuron_step_netlist(
            card,
            ic0,
            step_s,
            noise,
            s,
            &temp,
            xk,
            &format!("IP neurons, network step {k}"),
        );
        let parsed = crate::netlist::load_str("ip_neurons.cir", &text, Path::new("."));
        if parsed.diagnostics.has_errors() {
            return Err(parsed.render_diagnostics());
        }
        let sim = simulate(&parsed.circuit).map_err(|e| e.to_string())?;
        out.runs += 1;
        out.wall_s += sim.stats.wall_seconds;
        out.engine_j += sim.source_energy_j.iter().sum::<f64>();
        if k == 0 {
            out.netlist = text;
        }
        let plot = sim.plots.last().ok_or("no transient plot")?;
        let time = &plot.scale.data;
        let last = time.len() - 1;
        let mut e = NeuronEnergy::default();
        let mut row = vec![0u8; n];
        for o in 0..n {
            let get = |name: String| {
                plot.get(&name)
                    .map(|v| v.data.as_slice())
                    .ok_or_else(|| format!("missing {name}"))
            };
            let va = get(format!("v(a{o})"))?;
            let mz = get(format!("mz(n{o})"))?;
            let tk = get(format!("temp(n{o})"))?;
            let i = -xk[o] * ic0;
            let mut ej = 0.0;
            for j in 1..time.len() {
                let pw = |j: usize| pwl_current(i, step_s, time[j]) * va[j];
                ej += 0.5 * (pw(j) + pw(j - 1)) * (time[j] - time[j - 1]);
            }
            let fired = mz[last] * mz[0] < 0.0;
            row[o] = fired as u8;
            if fired {
                e.fire_j += ej;
            } else {
                e.heat_j += ej;
            }
            temp[o] = tk[last];
        }
        out.energy.push(e);
        out.spikes.push(row);
    }
    Ok(out)
}

/// Energy of one reset pulse (AP → P, `i_reset` for `t_reset`) of a neuron at ambient,
/// noise off, from the thermal cone angle `1/√(2Δ)`; returns (J, back in P).
pub fn reset_energy(card: &Model, i_reset: f64, t_reset: f64) -> Result<(f64, bool), String> {
    // A fired neuron sits in AP: start from the thermal-equilibrium cone angle at ambient,
    // as the untrained path's reset does (src/mapping/neuron.rs).
    let p = MtjParams::from_model(card)?;
    let theta0 = (1.0 / (2.0 * crate::devices::mtj::temperature::delta(&p, p.tamb_k).max(0.5)))
        .sqrt()
        .min(1.0);
    let text = format!(
        "* mtjsim ipnet: reset pulse of a fired IP neuron (AP -> P)\n{}\n\
         i0 0 a0 pwl(0 0 10p {i_reset:e} {:e} {i_reset:e} {t_reset:e} 0)\n\
         n0 a0 0 ipn state=ap theta0={theta0:e}\n.tran 100p {t_reset:e}\n.save mz(n0)\n.end\n",
        model_line("ipn", card, &[("noise", 0.0)]),
        t_reset - 10e-12
    );
    let parsed = crate::netlist::load_str("ip_reset.cir", &text, Path::new("."));
    if parsed.diagnostics.has_errors() {
        return Err(parsed.render_diagnostics());
    }
    let sim = simulate(&parsed.circuit).map_err(|e| e.to_string())?;
    let plot = sim.plots.last().ok_or("no transient plot")?;
    let mz = &plot.get("mz(n0)").ok_or("missing mz(n0)")?.data;
    let ok = mz.first().zip(mz.last()).is_some_and(|(a, b)| a * b < 0.0);
    Ok((sim.source_energy_j.iter().sum(), ok))
}

/// Pixels per neuron netlist (4 neurons each): groups run in parallel, deterministic in
/// the seed whatever the thread count.
const PIXELS_PER_GROUP: usize = 32;

/// Run `data`'s first `n` samples through the trained network in software and with its IP
/// layer on simulated hardware.
#[allow(clippy::too_many_arguments)]
pub fn evaluate_trained(
    net: &Network,
    checkpoint: &str,
    data: &Dataset,
    n: usize,
    syn: &Model,
    neuron_card: &Model,
    cfg: &HwConfig,
    provenance: &str,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<(EvalResult, HwExtra), String> {
    let table: &CalibTable = net
        .table
        .as_deref()
        .ok_or("the checkpoint has no calibration table (calib_path)")?;
    let ad = FrontierAdapter::from_network(net)?;
    let q = ad.quantize(cfg.scheme, cfg.bits);
    let qs = vec![q.clone()];
    let mapping = pixel_tile(&qs, cfg.scheme, cfg.bits, cfg.tile)?;
    let (i_p, i_ap) = calibrate_unit(syn, &cfg.array)?;
    let i_unit = i_p - i_ap;
    if i_unit.is_nan() || i_unit <= 0.0 {
        return Err(format!(
            "cell on/off currents do not differ (I_P = {i_p:e} A, I_AP = {i_ap:e} A)"
        ));
    }
    let np = MtjParams::from_model(neuron_card)?;
    let (ic0, step_s) = (table.ic0_a, table.opts.step_s);
    let n = n.min(data.len());
    if n == 0 {
        return Err("no samples".into());
    }
    let (px, ch, bins) = (ad.pixels(), ad.channels, ad.bins);
    let deterministic = !cfg.array.noise && cfg.array.variation.is_zero();
    let mut out = EvalResult {
        config: EvalConfig {
            scheme: cfg.scheme,
            bits: cfg.bits,
            tile: cfg.tile,
            array: cfg.array.clone(),
            neuron_noise: cfg.neuron_noise,
            samples: n,
            seed: cfg.seed,
            mc_sigmas: Vec::new(),
            mc_samples: 0,
        },
        mapping: mapping.clone(),
        i_p_a: i_p,
        i_ap_a: i_ap,
        i_unit_a: i_unit,
        neuron: NeuronSpec {
            i_per_level: q.scale * ic0,
            i_max: q.scale
                * ic0
                * (0..ch)
                    .map(|o| (0..ROWS).map(|r| q.at(o, r).abs()).sum::<i64>())
                    .max()
                    .unwrap_or(0) as f64,
            t_pulse: step_s,
            t_reset: 0.0,
            i_reset: 0.0,
            t_step: step_s,
        },
        samples: Vec::new(),
        mvm_exact: 0.0,
        mvm_max_abs_err: 0,
        max_analog_err_lsb: 0.0,
        tile_runs: Vec::new(),
        neuron_energy: Vec::new(),
        neuron_engine_energy_j: 0.0,
        neuron_wall_s: 0.0,
        neuron_runs: 0,
        mc: Vec::new(),
        netlists: Vec::new(),
        quant_error: vec![(
            q.max_error(&ad.weights.iter().flatten().copied().collect::<Vec<_>>()),
            q.scale,
        )],
    };
    let mut extra = HwExtra {
        checkpoint: checkpoint.to_string(),
        calib_card: table.card.clone(),
        calib_source: table.source.clone(),
        step_s,
        decay: table.decay,
        ic0_a: ic0,
        pixels: px,
        channels: ch,
        reference_classes: Vec::new(),
        spike_agreement_mvm: 0.0,
        spike_agreement_neuron: 0.0,
        spikes_both: 0,
        circuit_only: 0,
        circuit_only_after_fire: 0,
        expected_stochastic_spikes: 0.0,
        drive_max_err: 0.0,
        drive_err_bound: 0.5 * q.scale * ROWS as f64,
        tile_transients: 0,
        tile_pixel_runs: 0,
        tile_sims: Vec::new(),
        reset_j: 0.0,
        reset_ok: false,
        reset_i_a: 4.0 * ic0,
        reset_s: 5e-9,
    };
    let (rj, rok) = reset_energy(neuron_card, extra.reset_i_a, extra.reset_s)?;
    extra.reset_j = rj;
    extra.reset_ok = rok;
    let (mut eq, mut tot) = (0usize, 0usize);
    let (mut agree_mvm, mut agree_neu, mut n_spk) = (0usize, 0usize, 0usize);
    // σ = 0 point of the variation sweep, by the sweep's own method (behavioural IP layer on
    // the sensed drives of the variation-free tiles): class agreement and correct answers.
    let (mut zero_agree, mut zero_correct) = (0usize, 0usize);
    // The behavioural layer's spikes per sample (float drives): the variation sweep's reference.
    let mut reference_spikes = Vec::with_capacity(n);
    for k in 0..n {
        let frames = data.sample(k);
        progress(&format!("sample {}/{}: software reference", k + 1, n));
        // Software reference: the trained network, float drives, behavioural IP layer.
        let x = frames_to_tensor(frames, 1, &net.arch).map_err(|e| e.to_string())?;
        let logits = net.forward(&x).map_err(|e| e.to_string())?;
        let ref_class = crate::network::model::argmax(&logits).map_err(|e| e.to_string())?[0];
        extra.reference_classes.push(ref_class as usize);
        let tr = net
            .ip_trace(frames)
            .map_err(|e| e.to_string())?
            .ok_or("no IP trace")?;
        let beh = tr.spikes;
        let beh_class = class_of(net, &beh)?;
        // Crossbar: one tile per pixel (see `pixel_reads`).
        let rows = ad.rows(frames);
        progress(&format!(
            "sample {}/{}: crossbar tiles ({px} pixels)",
            k + 1,
            n
        ));
        let reads = pixel_reads(
            &mapping,
            &qs,
            syn,
            &cfg.array,
            i_unit,
            provenance,
            k,
            &rows,
            deterministic,
        )?;
        extra.tile_transients += reads.transients.len();
        extra.tile_pixel_runs += px;
        if k == 0 {
            extra.tile_sims = reads.transients.clone();
        }
        if out.netlists.is_empty()
            && let Some(t) = reads.netlist.clone()
        {
            out.netlists.push(("tile_pixel.cir".into(), t));
        }
        let by_pixel: Vec<&PixelMvm> = reads.pixels.iter().collect();
        let rep_of: Vec<usize> = (0..px).collect();
        // Sensed drives [t][px·ch] (units of Ic0), and per-pixel bookkeeping.
        let mut xs = vec![vec![0.0f64; px * ch]; bins];
        for p in 0..px {
            let r = by_pixel[rep_of[p]];
            eq += r.equal;
            tot += r.total;
            out.mvm_max_abs_err = out.mvm_max_abs_err.max(r.max_err);
            out.max_analog_err_lsb = out.max_analog_err_lsb.max(r.max_analog);
            out.tile_runs.extend(r.runs.iter().cloned());
            for t in 0..bins {
                let exact = ad.drive(&rows[p][t]);
                for c in 0..ch {
                    let xv = q.scale * r.levels[t][c] as f64;
                    xs[t][p * ch + c] = xv;
                    extra.drive_max_err = extra.drive_max_err.max((xv - exact[c]).abs());
                }
            }
        }
        // Behavioural IP layer on the sensed drives (isolates the neuron circuit).
        let mut theta = vec![0f32; px * ch];
        let beh_q: Vec<Vec<u8>> = xs
            .iter()
            .map(|x| {
                let xf: Vec<f32> = x.iter().map(|&v| v as f32).collect();
                // Expected spikes of stochastic devices: the table's P_sw(x, θ).
                extra.expected_stochastic_spikes += xf
                    .iter()
                    .zip(&theta)
                    .map(|(&xi, &th)| p_sw_table(table, xi as f64, th as f64))
                    .sum::<f64>();
                ip_step(table, &mut theta, &xf)
            })
            .collect();
        // Circuit neurons, groups of pixels in parallel.
        progress(&format!(
            "sample {}/{}: {} IP neurons × {bins} steps (MTJ transients)",
            k + 1,
            n,
            px * ch
        ));
        let gsz = PIXELS_PER_GROUP * ch;
        let groups: Vec<usize> = (0..(px * ch).div_ceil(gsz)).collect();
        let gruns: Vec<NeuronGroupRun> = groups
            .par_iter()
            .map(|&g| {
                let lo = g * gsz;
                let hi = (lo + gsz).min(px * ch);
                let xg: Vec<Vec<f64>> = xs.iter().map(|x| x[lo..hi].to_vec()).collect();
                let seed = cfg
                    .seed
                    .wrapping_mul(1_000_003)
                    .wrapping_add((k * 1000 + g) as u64);
                run_neuron_group(
                    neuron_card,
                    np.tamb_k,
                    ic0,
                    step_s,
                    cfg.neuron_noise,
                    seed,
                    &xg,
                )
            })
            .collect::<Result<_, _>>()?;
        let mut circ = vec![Vec::with_capacity(px * ch); bins];
        let mut step_energy = vec![NeuronEnergy::default(); bins];
        for gr in &gruns {
            for t in 0..bins {
                circ[t].extend_from_slice(&gr.spikes[t]);
                step_energy[t].heat_j += gr.energy[t].heat_j;
                step_energy[t].fire_j += gr.energy[t].fire_j;
            }
            out.neuron_engine_energy_j += gr.engine_j;
            out.neuron_wall_s += gr.wall_s;
            out.neuron_runs += gr.runs;
        }
        if k == 0
            && let Some(gr) = gruns.first()
        {
            out.netlists
                .push(("ip_neurons_step0.cir".into(), gr.netlist.clone()));
        }
        let circ_spikes: usize = circ.iter().flatten().map(|&s| s as usize).sum();
        // Reset of every fired neuron: one simulated reset pulse each (see module doc).
        let reset = circ_spikes as f64 * extra.reset_j;
        out.neuron_energy.extend(step_energy);
        out.neuron_energy.push(NeuronEnergy {
            reset_j: reset,
            ..Default::default()
        });
        out.neuron_engine_energy_j += reset;
        let circ_class = class_of(net, &circ)?;
        let sensed_class = class_of(net, &beh_q)?;
        zero_agree += (sensed_class == ref_class as usize) as usize;
        if let Some(&l) = data.labels.get(k) {
            zero_correct += (sensed_class == l as usize) as usize;
        }
        let (mut se, mut bs) = (0, 0);
        for t in 0..bins {
            for j in 0..px * ch {
                se += (beh[t][j] == circ[t][j]) as usize;
                agree_mvm += (beh[t][j] == beh_q[t][j]) as usize;
                agree_neu += (beh_q[t][j] == circ[t][j]) as usize;
                bs += beh[t][j] as usize;
                extra.spikes_both += (beh[t][j] & circ[t][j]) as usize;
            }
        }
        for j in 0..px * ch {
            let mut fired_before = false;
            for t in 0..bins {
                if circ[t][j] == 1 && beh_q[t][j] == 0 {
                    extra.circuit_only += 1;
                    extra.circuit_only_after_fire += fired_before as usize;
                }
                fired_before |= circ[t][j] == 1;
            }
        }
        n_spk += bins * px * ch;
        out.samples.push(SampleResult {
            behavioural_class: beh_class,
            circuit_class: circ_class,
            label: data.labels.get(k).map(|&l| l as usize),
            spikes_equal: se,
            spikes_total: bins * px * ch,
            behavioural_spikes: bs,
            circuit_spikes: circ_spikes,
        });
        reference_spikes.push(beh);
    }
    out.mvm_exact = eq as f64 / tot.max(1) as f64;
    out.config.mc_sigmas = cfg.mc_sigmas.clone();
    out.config.mc_samples = cfg.mc_samples.min(n);
    extra.spike_agreement_mvm = agree_mvm as f64 / n_spk.max(1) as f64;
    if cfg.mc_samples > 0 && !cfg.mc_sigmas.is_empty() && !cfg.mc_sigmas.contains(&0.0) {
        out.mc.push(McPoint {
            sigma: 0.0,
            samples: n,
            class_agreement: zero_agree as f64 / n as f64,
            mvm_exact: out.mvm_exact,
            accuracy: (data.labels.len() >= n).then(|| zero_correct as f64 / n as f64),
            spike_agreement: Some(extra.spike_agreement_mvm),
        });
    }
    for &sigma in cfg.mc_sigmas.iter().filter(|_| cfg.mc_samples > 0) {
        progress(&format!(
            "Monte Carlo σ = {sigma}: per-pixel tiles with variation"
        ));
        out.mc.push(variation_point(
            net,
            &ad,
            &mapping,
            &qs,
            data,
            cfg.mc_samples.min(n),
            syn,
            &cfg.array,
            sigma,
            cfg.seed,
            i_unit,
            provenance,
            &extra.reference_classes,
            &reference_spikes,
        )?);
    }
    extra.spike_agreement_neuron = agree_neu as f64 / n_spk.max(1) as f64;
    Ok((out, extra))
}

/// One point of the device-variation Monte Carlo: RA, TMR and Ku of every synapse cell
/// drawn with relative σ, a new chip per sample (each of the 256 pixel tiles its own draw),
/// every pixel's tile simulated on its own, and the *behavioural* IP layer on the sensed
/// drives (as in the untrained pipeline: the sweep isolates what synapse variation does to
/// the products and the decisions; the neuron circuit's own cost is the main table's).
///
/// A pixel's tile is one fixed circuit during a sample and a read settles within its
/// window, so a pixel's repeated input vectors (a quiet pixel applies only its bias row,
/// step after step) sense the same levels: each pixel simulates its *distinct* reads once
/// (checked against the full per-step transient in `repeated_reads_sense_alike_with_variation`).
#[allow(clippy::too_many_arguments)]
fn variation_point(
    net: &Network,
    ad: &FrontierAdapter,
    mapping: &Mapping,
    qs: &[Quantized],
    data: &Dataset,
    samples: usize,
    syn: &Model,
    array: &ArrayParams,
    sigma: f64,
    seed: u64,
    i_unit: f64,
    provenance: &str,
    reference_classes: &[usize],
    reference_spikes: &[Vec<Vec<u8>>],
) -> Result<McPoint, String> {
    let table: &CalibTable = net.table.as_deref().ok_or("no calibration table")?;
    let arr = array.with_variation(sigma, seed);
    let q = &qs[0];
    let (px, ch, bins) = (ad.pixels(), ad.channels, ad.bins);
    let (mut agree, mut correct, mut labelled) = (0usize, 0usize, 0usize);
    let (mut equal, mut total, mut spikes_equal, mut spikes_total) =
        (0usize, 0usize, 0usize, 0usize);
    for (k, reference) in reference_spikes.iter().enumerate().take(samples) {
        let rows = ad.rows(data.sample(k));
        let levels: Vec<Vec<Vec<i64>>> = (0..px)
            .into_par_iter()
            .map(|p| {
                let (windows, of_step) = distinct_windows(&rows[p]);
                let m = run_pixel_tile(
                    mapping,
                    qs,
                    syn,
                    &arr,
                    i_unit,
                    provenance,
                    (k * px + p) as u64,
                    &windows,
                )?;
                let lv: Vec<Vec<i64>> = of_step.iter().map(|&j| m.levels[j].clone()).collect();
                // Exactness per pixel-step (as in the main table), not per distinct read.
                let want = IdealMvm { q: qs }.layer(0, &rows[p])?;
                let pairs = lv.iter().flatten().zip(want.iter().flatten());
                let eq = pairs.filter(|(a, b)| a == b).count();
                Ok((lv, eq, bins * ch))
            })
            .collect::<Result<Vec<_>, String>>()?
            .into_iter()
            .map(|(lv, e, t)| {
                equal += e;
                total += t;
                lv
            })
            .collect();
        let mut theta = vec![0f32; px * ch];
        let spikes: Vec<Vec<u8>> = (0..bins)
            .map(|t| {
                let x: Vec<f32> = (0..px * ch)
                    .map(|j| (q.scale * levels[j / ch][t][j % ch] as f64) as f32)
                    .collect();
                ip_step(table, &mut theta, &x)
            })
            .collect();
        for (a, b) in spikes.iter().flatten().zip(reference.iter().flatten()) {
            spikes_total += 1;
            spikes_equal += (a == b) as usize;
        }
        let class = class_of(net, &spikes)?;
        agree += (Some(&class) == reference_classes.get(k)) as usize;
        if let Some(&l) = data.labels.get(k) {
            labelled += 1;
            correct += (class == l as usize) as usize;
        }
    }
    Ok(McPoint {
        sigma,
        samples,
        class_agreement: agree as f64 / samples.max(1) as f64,
        mvm_exact: equal as f64 / total.max(1) as f64,
        accuracy: (labelled > 0).then(|| correct as f64 / labelled as f64),
        spike_agreement: Some(spikes_equal as f64 / spikes_total.max(1) as f64),
    })
}

/// A pixel's distinct input vectors (first-seen order) and, per step, the index of its own.
fn distinct_windows(steps: &[Vec<u8>]) -> (Vec<Vec<u8>>, Vec<usize>) {
    let mut distinct: Vec<Vec<u8>> = Vec::new();
    let of_step = steps
        .iter()
        .map(|w| {
            distinct.iter().position(|d| d == w).unwrap_or_else(|| {
                distinct.push(w.clone());
                distinct.len() - 1
            })
        })
        .collect();
    (distinct, of_step)
}

/// The calibration's Monte Carlo switching probability at (x, θ), bilinear on its grids
/// (clamped at the ends; 0 for x ≤ 0, where the current does not push towards AP).
pub fn p_sw_table(t: &CalibTable, x: f64, theta_k: f64) -> f64 {
    use crate::network::calib::interp;
    if x <= 0.0 || t.p_sw.is_empty() {
        return 0.0;
    }
    let rows: Vec<f64> = t.p_sw.iter().map(|r| interp(&t.x_grid, r, x).0).collect();
    interp(&t.theta_grid_k, &rows, theta_k).0.clamp(0.0, 1.0)
}

/// Class of the trained backbone on IP spikes `[T][S·S·C]`.
pub fn class_of(net: &Network, spikes: &[Vec<u8>]) -> Result<usize, String> {
    let l = net
        .forward_from_frontier_spikes(spikes)
        .map_err(|e| e.to_string())?;
    Ok(crate::network::model::argmax(&l).map_err(|e| e.to_string())?[0] as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::circuit::load_card;
    use crate::mapping::tile::Variation;
    use crate::network::gestures::GestureConfig;

    fn root() -> &'static Path {
        Path::new(env!("CARGO_MANIFEST_DIR"))
    }

    fn frontier() -> Network {
        Network::load(&root().join("weights"), "ipnet_frontier_11", root()).unwrap()
    }

    fn card(section: &str) -> Model {
        let spec = format!("{}/device_models/mtj.lib:{section}", root().display());
        load_card(&spec).unwrap().0
    }

    /// The trained checkpoint's pixel tile (6-bit differential, tile 64) with noise-free
    /// cells, ready to read.
    struct PixelRig {
        net: Network,
        ad: FrontierAdapter,
        qs: Vec<Quantized>,
        mapping: Mapping,
        syn: Model,
        params: ArrayParams,
        i_unit: f64,
    }

    impl PixelRig {
        fn new() -> PixelRig {
            let net = frontier();
            let ad = FrontierAdapter::from_network(&net).unwrap();
            let qs = vec![ad.quantize(Scheme::Differential, 6)];
            let mapping = pixel_tile(&qs, Scheme::Differential, 6, 64).unwrap();
            let syn = card("pmtj_mem");
            let params = ArrayParams {
                noise: false,
                ..ArrayParams::default()
            };
            let (i_p, i_ap) = calibrate_unit(&syn, &params).unwrap();
            PixelRig {
                net,
                ad,
                qs,
                mapping,
                syn,
                params,
                i_unit: i_p - i_ap,
            }
        }
    }

    fn one_sample(net: &Network) -> Dataset {
        crate::network::train::synthetic(
            net.arch.classes,
            1,
            0x7e57 + net.arch.classes as u64,
            net.arch.bins,
            net.arch.size,
            &GestureConfig::default(),
        )
    }

    /// The bit-row adapter reproduces the trained `ip_in` convolution (float, up to f32
    /// rounding), and the quantized integer drive stays within the stated bound
    /// Σ_active rows |w − q·scale| ≤ 9·scale/2 of it.
    #[test]
    #[allow(clippy::needless_range_loop)]
    fn adapter_drive_equals_trained_conv_within_quantization() {
        let net = frontier();
        let ad = FrontierAdapter::from_network(&net).unwrap();
        let data = one_sample(&net);
        let frames = data.sample(0);
        let tr = net.ip_trace(frames).unwrap().unwrap();
        let rows = ad.rows(frames);
        let q = ad.quantize(Scheme::Differential, 6);
        let bound = 0.5 * q.scale * ROWS as f64;
        let (mut worst, mut active) = (0.0f64, 0usize);
        for (p, seq) in rows.iter().enumerate() {
            for (t, r) in seq.iter().enumerate() {
                let exact = ad.drive(r);
                active += r[..8].iter().any(|&b| b != 0) as usize;
                for c in 0..ad.channels {
                    let want = tr.drive[t][p * ad.channels + c] as f64;
                    assert!(
                        (exact[c] - want).abs() < 1e-5 * (1.0 + want.abs()),
                        "pixel {p} t {t} c {c}: adapter {} vs trained conv {want}",
                        exact[c]
                    );
                    let qd: i64 = (0..ROWS).map(|i| q.at(c, i) * r[i] as i64).sum();
                    let err = (q.scale * qd as f64 - exact[c]).abs();
                    worst = worst.max(err);
                    let own: f64 = (0..ROWS)
                        .filter(|&i| r[i] != 0)
                        .map(|i| (ad.weights[c][i] - q.at(c, i) as f64 * q.scale).abs())
                        .sum();
                    assert!(err <= own + 1e-12 && own <= bound + 1e-12);
                }
            }
        }
        assert!(active > 0, "the sample must have events");
        assert!(worst > 0.0 && worst <= bound);
    }

    /// The digital backbone fed with the behavioural IP spikes gives the trained network's
    /// own logits (same layout and operations as `forward`).
    #[test]
    fn backbone_on_behavioural_spikes_equals_forward() {
        let net = frontier();
        let data = one_sample(&net);
        let frames = data.sample(0);
        let tr = net.ip_trace(frames).unwrap().unwrap();
        let a: Vec<f32> = net
            .forward_from_frontier_spikes(&tr.spikes)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        let x = frames_to_tensor(frames, 1, &net.arch).unwrap();
        let b: Vec<f32> = net
            .forward(&x)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        assert_eq!(a.len(), net.arch.classes);
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() < 1e-4 * (1.0 + y.abs()), "{a:?} vs {b:?}");
        }
        // A different spike map changes the logits (the spikes are really used).
        let mut other = tr.spikes.clone();
        for s in other.iter_mut().flatten() {
            *s = 1 - *s;
        }
        let c: Vec<f32> = net
            .forward_from_frontier_spikes(&other)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        assert!(c.iter().zip(&a).any(|(x, y)| (x - y).abs() > 1e-3));
    }

    /// Circuit neurons under the calibration protocol (10 ns pulse of x·Ic0 from P, Brown
    /// noise on) fire exactly where the behavioural `ip_step` does for drives far from
    /// threshold — cold 0.3 and 2.4 Ic0, and −2.0 Ic0 (stabilising: heats, never fires) — and
    /// a non-firing neuron's temperature follows θ' = d·θ + h(x) of the table within 3 %.
    #[test]
    fn circuit_neurons_match_ip_step_far_from_threshold() {
        let net = frontier();
        let table = net.table.as_deref().unwrap();
        let neu = card("ipn_neuron");
        let xs = [0.3, 2.4, -2.0, 0.8];
        let steps = 4;
        let drive: Vec<Vec<f64>> = (0..steps).map(|_| xs.to_vec()).collect();
        let g = run_neuron_group(
            &neu,
            table.tamb_k,
            table.ic0_a,
            table.opts.step_s,
            true,
            7,
            &drive,
        )
        .unwrap();
        let mut theta = vec![0f32; xs.len()];
        let xf: Vec<f32> = xs.iter().map(|&v| v as f32).collect();
        for (t, row) in g.spikes.iter().enumerate() {
            let want = ip_step(table, &mut theta, &xf);
            assert_eq!(row, &want, "step {t}");
        }
        assert_eq!(g.spikes[0], vec![0, 1, 0, 0]);
        // Temperature: rerun the stabilising neuron alone and read its rise per step.
        let mut th = 0.0;
        let mut temp = vec![table.tamb_k];
        for _ in 0..steps {
            let text = neuron_step_netlist(
                &neu,
                table.ic0_a,
                table.opts.step_s,
                false,
                1,
                &temp,
                &[-2.0],
                "test",
            );
            let parsed = crate::netlist::load_str("t.cir", &text, Path::new("."));
            let sim = simulate(&parsed.circuit).unwrap();
            let plot = sim.plots.last().unwrap();
            let tk = *plot.get("temp(n0)").unwrap().data.last().unwrap();
            th = table.decay * th + table.heat(-2.0).0;
            let got = tk - table.tamb_k;
            assert!(
                (got - th).abs() <= 0.03 * th,
                "circuit rise {got} K vs table {th} K"
            );
            temp[0] = tk;
        }
        assert!(th > 20.0, "the drive must heat the neuron: {th} K");
    }

    /// The Monte Carlo P_sw lookup used for the expected spike count hits the table at its
    /// nodes, interpolates between them, and is 0 for drives that do not push towards AP.
    #[test]
    fn p_sw_lookup_matches_calibration_table() {
        let net = frontier();
        let t = net.table.as_deref().unwrap();
        for (j, th) in t.theta_grid_k.iter().enumerate() {
            for (i, x) in t.x_grid.iter().enumerate().skip(1) {
                assert!((p_sw_table(t, *x, *th) - t.p_sw[j][i]).abs() < 1e-12);
            }
        }
        let (x0, x1) = (t.x_grid[15], t.x_grid[16]);
        let (a, b) = (t.p_sw[2][15], t.p_sw[2][16]);
        let mid = p_sw_table(t, 0.5 * (x0 + x1), t.theta_grid_k[2]);
        assert!((mid - 0.5 * (a + b)).abs() < 1e-12);
        assert_eq!(p_sw_table(t, -2.0, 40.0), 0.0);
        // Hot neurons switch more easily at the same drive (intrinsic plasticity).
        assert!(p_sw_table(t, 1.5, 80.0) > p_sw_table(t, 1.5, 0.0));
    }

    /// With device variation (σ = 10 % of RA, TMR, Ku) a pixel's tile is still one fixed
    /// circuit during a sample: repeated reads in its full per-step transient sense the same
    /// levels as its distinct reads simulated once (what `variation_point` relies on), and
    /// the variation is real (the varied tile's analog error differs from the ideal tile's).
    #[test]
    fn repeated_reads_sense_alike_with_variation() {
        let PixelRig {
            qs,
            mapping,
            syn,
            params: ideal,
            i_unit,
            ..
        } = PixelRig::new();
        let mut varied = ideal.clone();
        varied.variation = Variation {
            ra: 0.1,
            tmr: 0.1,
            ku: 0.1,
        };
        let bias = vec![0, 0, 0, 0, 0, 0, 0, 0, 1];
        let busy = vec![1, 1, 0, 1, 0, 0, 1, 0, 1];
        let steps = vec![bias.clone(), busy.clone(), bias.clone(), bias.clone(), busy];
        let (distinct, of_step) = distinct_windows(&steps);
        assert_eq!(distinct.len(), 2);
        assert_eq!(of_step, vec![0, 1, 0, 0, 1]);
        let run = |p: &ArrayParams, w: &[Vec<u8>]| {
            run_pixel_tile(&mapping, &qs, &syn, p, i_unit, "test", 7, w).unwrap()
        };
        let full = run(&varied, &steps);
        let once = run(&varied, &distinct);
        for (t, &j) in of_step.iter().enumerate() {
            assert_eq!(full.levels[t], once.levels[j], "step {t}");
        }
        let clean = run(&ideal, &distinct);
        assert!(
            (once.max_analog - clean.max_analog).abs() > 1e-3,
            "variation must change the sensed currents: {} vs {}",
            once.max_analog,
            clean.max_analog
        );
    }

    /// Simulating each distinct read once (deterministic tiles) gives every pixel the same
    /// levels as simulating each pixel's tile over its own read sequence. The energy of a
    /// read depends on the read before it (wire and driver charge: up to ≈ 10 % here), so
    /// per read the two agree within 15 % and summed within 3 %.
    #[test]
    fn distinct_reads_equal_per_pixel_tiles() {
        let PixelRig {
            qs,
            mapping,
            syn,
            params: p,
            i_unit,
            ..
        } = PixelRig::new();
        let bias = vec![0, 0, 0, 0, 0, 0, 0, 0, 1];
        let busy = vec![1, 1, 0, 1, 0, 0, 1, 0, 1];
        let other = vec![0, 1, 0, 0, 1, 1, 1, 1, 1];
        let rows = vec![
            vec![bias.clone(), busy.clone(), bias.clone()],
            vec![busy.clone(), other.clone(), bias.clone()],
            vec![bias.clone(), busy.clone(), bias.clone()],
        ];
        let run =
            |det| pixel_reads(&mapping, &qs, &syn, &p, i_unit, "test", 0, &rows, det).unwrap();
        let (a, b) = (run(true), run(false));
        assert_eq!(a.transients.len(), 1, "3 distinct reads fit one transient");
        assert_eq!(b.transients.len(), 3);
        for (x, y) in a.pixels.iter().zip(&b.pixels) {
            assert_eq!(x.levels, y.levels);
            let (ex, ey) = (&x.runs[0].1.window_energy_j, &y.runs[0].1.window_energy_j);
            for (e1, e2) in ex.iter().zip(ey) {
                assert!((e1 - e2).abs() <= 0.15 * e2.abs(), "{e1:e} vs {e2:e}");
            }
        }
        // Summed over all reads the two agree within 3 %.
        let total = |r: &Reads| -> f64 {
            r.pixels
                .iter()
                .flat_map(|x| &x.runs[0].1.window_energy_j)
                .sum()
        };
        let (ta, tb) = (total(&a), total(&b));
        assert!((ta - tb).abs() <= 0.03 * tb, "{ta:e} vs {tb:e}");
        // The busy read really differs from the bias-only read.
        assert_ne!(a.pixels[0].levels[0], a.pixels[0].levels[1]);
    }

    /// The same comparison on a whole held-out sample (256 pixels × 8 reads; ≈ 3 min on 2
    /// cores, hence ignored: `cargo test --release -- --ignored distinct_reads_whole_sample`):
    /// identical levels for every pixel-step; prints the array-energy difference.
    #[test]
    #[ignore]
    fn distinct_reads_whole_sample() {
        let PixelRig {
            net,
            ad,
            qs,
            mapping,
            syn,
            params: p,
            i_unit,
        } = PixelRig::new();
        let data = one_sample(&net);
        let rows = ad.rows(data.sample(0));
        let run =
            |det| pixel_reads(&mapping, &qs, &syn, &p, i_unit, "test", 0, &rows, det).unwrap();
        let (a, b) = (run(true), run(false));
        let total = |r: &Reads| -> f64 {
            r.pixels
                .iter()
                .flat_map(|x| &x.runs[0].1.window_energy_j)
                .sum()
        };
        for (x, y) in a.pixels.iter().zip(&b.pixels) {
            assert_eq!(x.levels, y.levels);
        }
        let (ta, tb) = (total(&a), total(&b));
        eprintln!(
            "array energy: distinct reads {ta:e} J, per-pixel tiles {tb:e} J ({:+.2} %)",
            100.0 * (ta / tb - 1.0)
        );
        assert!((ta - tb).abs() <= 0.03 * tb);
    }

    /// A fired neuron's reset pulse returns it to P and costs about I²·R_P·t (R between
    /// R_P and R_AP while it switches).
    #[test]
    fn reset_pulse_switches_back_and_costs_joule_energy() {
        let neu = card("ipn_neuron");
        let p = MtjParams::from_model(&neu).unwrap();
        let ic = crate::devices::mtj::temperature::ic0_a(&p, p.tamb_k, -1.0);
        let (e, ok) = reset_energy(&neu, 4.0 * ic, 5e-9).unwrap();
        assert!(ok, "reset must switch AP -> P");
        // R_P = 11.9 kΩ, R_AP = 26.3 kΩ at zero bias (card comment); bias lowers R_AP.
        let lo = (4.0 * ic).powi(2) * 11.0e3 * 5e-9;
        let hi = (4.0 * ic).powi(2) * 26.3e3 * 5e-9;
        assert!(e > lo && e < hi, "{e:e} J not in [{lo:e}, {hi:e}]");
    }

    /// Ideal wires, no noise, no variation: every sensed level of a pixel tile equals the
    /// ideal integer product, including a read with every row on.
    #[test]
    fn ideal_tile_reads_equal_integer_products() {
        let net = frontier();
        let ad = FrontierAdapter::from_network(&net).unwrap();
        let q = ad.quantize(Scheme::Differential, 6);
        let qs = vec![q];
        let mapping = map_layers(&qs, Scheme::Differential, 6, 64).unwrap();
        let syn = card("pmtj_mem");
        let p = ArrayParams {
            wire_r: 0.0,
            wire_c: 0.0,
            noise: false,
            ..ArrayParams::default()
        };
        let (i_p, i_ap) = calibrate_unit(&syn, &p).unwrap();
        let windows = vec![
            vec![1u8; ROWS],
            vec![0, 0, 0, 0, 0, 0, 0, 0, 1],
            vec![1, 0, 1, 0, 0, 1, 1, 0, 1],
        ];
        let r = run_pixel_tile(&mapping, &qs, &syn, &p, i_p - i_ap, "test", 0, &windows).unwrap();
        assert_eq!(r.equal, r.total);
        assert_eq!(r.total, windows.len() * ad.channels);
        assert!(r.max_analog < 0.05, "analog error {} LSB", r.max_analog);
    }

    /// End to end on one held-out sample (≈ 40 s on 2 cores, hence ignored; run with
    /// `cargo test --release -- --ignored trained_ipnet_end_to_end`): default settings
    /// (wire R = 1 Ω, neuron noise on). The circuit-in-the-loop class equals the trained
    /// network's, the behavioural class equals the software reference (same spikes, same
    /// backbone), spikes agree on ≥ 97 % of neuron-steps, every pixel read is accounted
    /// for, and the simulated energies equal the engine's ∫v·i.
    #[test]
    #[ignore]
    fn trained_ipnet_end_to_end() {
        let net = frontier();
        let data = one_sample(&net);
        let cfg = HwConfig {
            scheme: Scheme::Differential,
            bits: 6,
            tile: 64,
            array: ArrayParams {
                noise: false,
                ..ArrayParams::default()
            },
            neuron_noise: true,
            seed: 1,
            mc_sigmas: Vec::new(),
            mc_samples: 0,
        };
        let (r, x) = evaluate_trained(
            &net,
            "weights/ipnet_frontier_11",
            &data,
            1,
            &card("pmtj_mem"),
            &card("ipn_neuron"),
            &cfg,
            "test",
            &|_| {},
        )
        .unwrap();
        let s = &r.samples[0];
        assert_eq!(s.behavioural_class, x.reference_classes[0]);
        assert_eq!(s.circuit_class, x.reference_classes[0]);
        assert!(s.behavioural_spikes > 0 && s.circuit_spikes > 0);
        assert!(s.spikes_equal as f64 >= 0.97 * s.spikes_total as f64);
        assert_eq!(x.tile_pixel_runs, 256);
        assert_eq!(r.tile_runs.len(), 256);
        assert!(r.tile_runs.iter().all(|(_, t)| t.currents.len() == 8));
        let sim: f64 = r
            .tile_runs
            .iter()
            .flat_map(|(_, t)| &t.window_energy_j)
            .sum::<f64>()
            + r.neuron_energy
                .iter()
                .map(|e| e.heat_j + e.fire_j + e.reset_j)
                .sum::<f64>();
        let engine: f64 = r
            .tile_runs
            .iter()
            .map(|(_, t)| t.engine_energy_j)
            .sum::<f64>()
            + r.neuron_engine_energy_j;
        assert!(
            (sim - engine).abs() <= 1e-6 * engine,
            "{sim:e} vs {engine:e}"
        );
        // Quantization bound + what the ADC misrounded (levels × scale).
        let adc = r.mvm_max_abs_err as f64 * r.quant_error[0].1;
        assert!(x.drive_max_err <= x.drive_err_bound + adc + 1e-9);
    }
}
