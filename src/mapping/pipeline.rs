//! Circuit-in-the-loop inference: the behavioural network and the simulated hardware run
//! the same samples; this module compares them and collects energy and latency.

use serde::Serialize;

use super::circuit::{CircuitMvm, TileRun, calibrate_unit};
use super::network::{IdealMvm, Mvm, NetworkFile, forward};
use super::neuron::{BehaviouralNeurons, CircuitNeurons, NeuronEnergy, NeuronSpec};
use super::quantize::{Quantized, Scheme};
use super::tile::{ArrayParams, Mapping, map_layers};
use crate::circuit::Model;
use crate::devices::mtj::params::MtjParams;
use crate::devices::mtj::temperature::ic0_a;
use crate::energy::EnergyTable;

/// What to run.
#[derive(Debug, Clone, Serialize)]
pub struct EvalConfig {
    pub scheme: Scheme,
    pub bits: u32,
    pub tile: usize,
    pub array: ArrayParams,
    /// Thermal noise in the neuron MTJs.
    pub neuron_noise: bool,
    pub samples: usize,
    pub seed: u64,
    /// Relative σ of RA, TMR and Ku for the Monte Carlo sweep, and samples per point.
    pub mc_sigmas: Vec<f64>,
    pub mc_samples: usize,
}

/// Records both the circuit's and the ideal product on the same inputs.
struct Checked<'a, 'b> {
    circuit: &'b mut CircuitMvm<'a>,
    q: &'a [Quantized],
    equal: usize,
    total: usize,
    max_abs_err: i64,
}

impl Mvm for Checked<'_, '_> {
    fn layer(&mut self, layer: usize, inputs: &[Vec<u8>]) -> Result<Vec<Vec<i64>>, String> {
        let got = self.circuit.layer(layer, inputs)?;
        let want = IdealMvm { q: self.q }.layer(layer, inputs)?;
        for (a, b) in got.iter().flatten().zip(want.iter().flatten()) {
            self.total += 1;
            self.equal += (a == b) as usize;
            self.max_abs_err = self.max_abs_err.max((a - b).abs());
        }
        Ok(got)
    }
}

/// One sample's comparison.
#[derive(Debug, Clone, Serialize)]
pub struct SampleResult {
    pub behavioural_class: usize,
    pub circuit_class: usize,
    pub label: Option<usize>,
    pub spikes_equal: usize,
    pub spikes_total: usize,
    pub behavioural_spikes: usize,
    pub circuit_spikes: usize,
}

/// One Monte Carlo point.
#[derive(Debug, Clone, Serialize)]
pub struct McPoint {
    pub sigma: f64,
    pub samples: usize,
    pub class_agreement: f64,
    pub mvm_exact: f64,
    pub accuracy: Option<f64>,
    /// Spike agreement of the IP layer with the behavioural network (trained path only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spike_agreement: Option<f64>,
}

/// Everything `eval --circuit` measured.
#[derive(Debug, Clone, Serialize)]
pub struct EvalResult {
    pub config: EvalConfig,
    pub mapping: Mapping,
    pub i_p_a: f64,
    pub i_ap_a: f64,
    pub i_unit_a: f64,
    pub neuron: NeuronSpec,
    pub samples: Vec<SampleResult>,
    /// MVM outputs equal to the ideal integer product (circuit inputs), fraction.
    pub mvm_exact: f64,
    pub mvm_max_abs_err: i64,
    /// Largest analog error of a sensed slice before the ADC rounds (LSB), main pass.
    pub max_analog_err_lsb: f64,
    pub tile_runs: Vec<(usize, TileRun)>,
    pub neuron_energy: Vec<NeuronEnergy>,
    pub neuron_engine_energy_j: f64,
    pub neuron_wall_s: f64,
    pub neuron_runs: u64,
    pub mc: Vec<McPoint>,
    /// First netlist of each tile and of the neuron layer (for the output folder).
    #[serde(skip)]
    pub netlists: Vec<(String, String)>,
    /// Quantization: max |w − q·scale| per layer, and scale.
    pub quant_error: Vec<(f64, f64)>,
}

/// Driver gain: 2·Ic0 at ambient (where the macrospin switching time of a cold neuron is
/// close to the 10 ns pulse) for the 75th percentile of positive layer-1 drives in the
/// behavioural run, so some neurons fire cold and more fire when warm.
pub fn neuron_gain(
    net: &NetworkFile,
    q: &[Quantized],
    p: &MtjParams,
    samples: &[Vec<Vec<u8>>],
) -> f64 {
    let mut drives: Vec<i64> = Vec::new();
    for s in samples {
        if let Ok(y) = (IdealMvm { q }).layer(0, s) {
            drives.extend(y.iter().flatten().filter(|&&v| v > 0));
        }
    }
    let _ = net;
    drives.sort_unstable();
    let p75 = drives
        .get(drives.len() * 3 / 4)
        .copied()
        .unwrap_or(1)
        .max(1);
    2.0 * ic0_a(p, p.tamb_k, -1.0) / p75 as f64
}

fn samples_of(net: &NetworkFile, n: usize) -> Vec<Vec<Vec<u8>>> {
    net.samples.iter().take(n).cloned().collect()
}

/// Run behavioural and circuit-in-the-loop inference.
pub fn evaluate(
    net: &NetworkFile,
    syn: &Model,
    neuron_card: &Model,
    cfg: &EvalConfig,
    provenance: &str,
    progress: &dyn Fn(&str),
) -> Result<EvalResult, String> {
    let q = net.quantize(cfg.scheme, cfg.bits);
    let mapping = map_layers(&q, cfg.scheme, cfg.bits, cfg.tile)?;
    let (i_p, i_ap) = calibrate_unit(syn, &cfg.array)?;
    let i_unit = i_p - i_ap;
    if i_unit.is_nan() || i_unit <= 0.0 {
        return Err(format!(
            "cell on/off currents do not differ (I_P = {i_p:e} A, I_AP = {i_ap:e} A)"
        ));
    }
    let np = MtjParams::from_model(neuron_card)?;
    let samples = samples_of(net, cfg.samples);
    if samples.is_empty() {
        return Err("the network file has no input samples".into());
    }
    let gain = neuron_gain(net, &q, &np, &samples);
    let spec = NeuronSpec::for_card(&np, gain);
    let mut cm = CircuitMvm {
        mapping: &mapping,
        q: &q,
        card: syn,
        params: cfg.array.clone(),
        i_unit,
        provenance: provenance.to_string(),
        runs: Vec::new(),
        sample: 0,
        netlists: Vec::new(),
        max_analog_err_lsb: 0.0,
    };
    let mut cn = CircuitNeurons {
        card: neuron_card,
        p: np.clone(),
        spec: spec.clone(),
        noise: cfg.neuron_noise,
        seed: cfg.seed,
        energy: Vec::new(),
        engine_energy_j: 0.0,
        netlist: None,
        wall_s: 0.0,
        runs: 0,
    };
    let mut results = Vec::new();
    let (mut eq, mut tot, mut maxe) = (0, 0, 0);
    for (k, s) in samples.iter().enumerate() {
        progress(&format!("sample {}/{}", k + 1, samples.len()));
        let mut bn = BehaviouralNeurons {
            p: np.clone(),
            spec: spec.clone(),
        };
        let b = forward(net, s, &mut IdealMvm { q: &q }, &mut bn)?;
        cm.sample = k as u64;
        let mut chk = Checked {
            circuit: &mut cm,
            q: &q,
            equal: 0,
            total: 0,
            max_abs_err: 0,
        };
        let c = forward(net, s, &mut chk, &mut cn)?;
        eq += chk.equal;
        tot += chk.total;
        maxe = maxe.max(chk.max_abs_err);
        let (mut se, mut st, mut bs, mut cs) = (0, 0, 0, 0);
        for (lb, lc) in b.spikes.iter().zip(&c.spikes) {
            for (x, y) in lb.iter().flatten().zip(lc.iter().flatten()) {
                st += 1;
                se += (x == y) as usize;
                bs += *x as usize;
                cs += *y as usize;
            }
        }
        results.push(SampleResult {
            behavioural_class: b.class,
            circuit_class: c.class,
            label: net.labels.get(k).copied(),
            spikes_equal: se,
            spikes_total: st,
            behavioural_spikes: bs,
            circuit_spikes: cs,
        });
    }
    // Monte Carlo over device variation: tiles with variation, behavioural neurons (so the
    // sweep isolates what synapse variation does to the products and the decisions).
    let mut mc = Vec::new();
    for &sigma in cfg.mc_sigmas.iter().filter(|_| cfg.mc_samples > 0) {
        progress(&format!("Monte Carlo σ = {sigma}"));
        let arr = cfg.array.with_variation(sigma, cfg.seed);
        let mut mcm = CircuitMvm {
            mapping: &mapping,
            q: &q,
            card: syn,
            params: arr,
            i_unit,
            provenance: provenance.to_string(),
            runs: Vec::new(),
            sample: 0,
            netlists: Vec::new(),
            max_analog_err_lsb: 0.0,
        };
        let (mut agree, mut correct, mut n, mut e2, mut t2) = (0, 0, 0, 0, 0);
        for (k, s) in samples.iter().take(cfg.mc_samples).enumerate() {
            let mut bn = BehaviouralNeurons {
                p: np.clone(),
                spec: spec.clone(),
            };
            let b = forward(net, s, &mut IdealMvm { q: &q }, &mut bn)?;
            let mut bn2 = BehaviouralNeurons {
                p: np.clone(),
                spec: spec.clone(),
            };
            mcm.sample = k as u64;
            let mut chk = Checked {
                circuit: &mut mcm,
                q: &q,
                equal: 0,
                total: 0,
                max_abs_err: 0,
            };
            let c = forward(net, s, &mut chk, &mut bn2)?;
            e2 += chk.equal;
            t2 += chk.total;
            n += 1;
            agree += (b.class == c.class) as usize;
            if let Some(&l) = net.labels.get(k) {
                correct += (c.class == l) as usize;
            }
        }
        mc.push(McPoint {
            sigma,
            samples: n,
            class_agreement: agree as f64 / n.max(1) as f64,
            mvm_exact: e2 as f64 / t2.max(1) as f64,
            accuracy: (!net.labels.is_empty()).then(|| correct as f64 / n.max(1) as f64),
            spike_agreement: None,
        });
    }
    let mut netlists: Vec<(String, String)> = cm
        .netlists
        .iter()
        .map(|(ti, text)| {
            let t = &mapping.tiles[*ti];
            (
                format!("tile_l{}_r{}_c{}.cir", t.layer, t.row_block, t.col_block),
                text.clone(),
            )
        })
        .collect();
    if let Some(n) = &cn.netlist {
        netlists.push(("ip_neurons_step0.cir".into(), n.clone()));
    }
    let quant_error = net
        .layers
        .iter()
        .zip(&q)
        .map(|(l, qq)| {
            let flat: Vec<f64> = l.weights.iter().flatten().copied().collect();
            (qq.max_error(&flat), qq.scale)
        })
        .collect();
    Ok(EvalResult {
        config: cfg.clone(),
        mapping: mapping.clone(),
        i_p_a: i_p,
        i_ap_a: i_ap,
        i_unit_a: i_unit,
        neuron: spec,
        samples: results,
        mvm_exact: eq as f64 / tot.max(1) as f64,
        mvm_max_abs_err: maxe,
        max_analog_err_lsb: cm.max_analog_err_lsb,
        tile_runs: cm.runs.clone(),
        neuron_energy: cn.energy.clone(),
        neuron_engine_energy_j: cn.engine_energy_j,
        neuron_wall_s: cn.wall_s,
        neuron_runs: cn.runs,
        mc,
        netlists,
        quant_error,
    })
}

/// Energy table of the periphery loaded elsewhere; kept here so callers import one place.
pub type Table = EnergyTable;
