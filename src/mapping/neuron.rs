//! The intrinsic-plasticity (IP) neuron: behaviourally, and as `N` elements in a transient.
//!
//! One network time step of length `t_step` has three phases, identical in both models:
//! 1. reset (`t_reset`): a neuron that fired in the previous step is driven back to AP by a
//!    negative current `i_reset` (its Joule heat stays in the device: firing warms it);
//! 2. input pulse (`t_pulse`): the neuron's driver (behavioural current DAC) pushes
//!    `I = min(i_per_level · max(s, 0), i_max)` through the MTJ, `s` being the layer's
//!    digitised MVM output. The current heats the junction and, if strong enough at the
//!    present temperature, switches it AP → P: a spike (sensed by a behavioural comparator
//!    on the MTJ's state at the end of the pulse);
//!    The magnetization restarts each step at the thermal-equilibrium cone angle
//!    `1/√(2Δ(T))`; only P/AP and the temperature carry over from step to step.
//! 3. idle for the rest of the step: no current flows, the heat leaks away with
//!    `τ_th = rth·cth`. This phase is integrated analytically in both models (the thermal
//!    node is linear and nothing else moves), which is exact for the lumped model.
//!
//! Behavioural model (deterministic, from the card, no fitted numbers): heating of the
//! lumped thermal node with the AP (pulse) or P (reset) resistance at the actual bias;
//! fire iff `I > Ic0(T̄)` and the macrospin switching time at `T̄` (PHYSICS.md, exact
//! T = 0 formula, initial angle = thermal cone `1/√(2Δ(T̄))`) is shorter than the pulse,
//! `T̄` being the mean temperature over the pulse. The circuit model has thermal noise;
//! the agreement between the two is measured, not assumed.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::network::NeuronLayer;
use crate::analysis::simulate;
use crate::circuit::Model;
use crate::devices::mtj::analytic::t_sw_macrospin_s;
use crate::devices::mtj::params::MtjParams;
use crate::devices::mtj::temperature::{delta, ic0_a};
use crate::devices::mtj::transport::voltage_for_current;
use crate::netlist;

/// Timing and drive of the IP neurons (SI).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NeuronSpec {
    pub i_per_level: f64,
    pub i_max: f64,
    pub t_pulse: f64,
    pub t_reset: f64,
    pub i_reset: f64,
    pub t_step: f64,
}

impl NeuronSpec {
    /// Defaults for a card: pulses of 10 ns, reset 5 ns at −4·Ic0, a 20 ns step (= τ_th of
    /// the shipped ipn_neuron card), drive capped at 4·Ic0; `i_per_level` set by the caller.
    pub fn for_card(p: &MtjParams, i_per_level: f64) -> NeuronSpec {
        let ic = ic0_a(p, p.tamb_k, -1.0);
        NeuronSpec {
            i_per_level,
            i_max: 4.0 * ic,
            t_pulse: 10e-9,
            t_reset: 5e-9,
            i_reset: 4.0 * ic,
            t_step: 20e-9,
        }
    }
    pub fn drive(&self, s: i64) -> f64 {
        (self.i_per_level * s.max(0) as f64).min(self.i_max)
    }
}

/// Heat a lumped thermal node from `t0` for `dt` at current `i` in state `m_dot_p`.
/// Returns (end temperature, mean temperature over the interval).
fn heat(p: &MtjParams, t0: f64, i: f64, m_dot_p: f64, dt: f64) -> (f64, f64) {
    if p.rth_k_per_w <= 0.0 {
        return (p.tamb_k, p.tamb_k);
    }
    let v = if i == 0.0 {
        0.0
    } else {
        voltage_for_current(p, m_dot_p, i, t0)
    };
    let t_inf = p.tamb_k + (i * v).abs() * p.rth_k_per_w;
    let tau = p.rth_k_per_w * p.cth_j_per_k;
    if tau <= 0.0 {
        return (t_inf, t_inf);
    }
    let e = (-dt / tau).exp();
    let end = t_inf + (t0 - t_inf) * e;
    let mean = t_inf + (t0 - t_inf) * tau / dt * (1.0 - e);
    (end, mean)
}

fn decay(p: &MtjParams, t: f64, dt: f64) -> f64 {
    let tau = p.rth_k_per_w * p.cth_j_per_k;
    if tau <= 0.0 {
        return p.tamb_k;
    }
    p.tamb_k + (t - p.tamb_k) * (-dt / tau).exp()
}

/// Does a pulse of `i` (A) for `dt` switch AP → P at mean temperature `t_mean`?
pub fn fires(p: &MtjParams, i: f64, t_mean: f64, dt: f64) -> bool {
    let ic = ic0_a(p, t_mean, -1.0);
    if i.is_nan() || i <= ic {
        return false;
    }
    let theta0 = (1.0 / (2.0 * delta(p, t_mean).max(0.5))).sqrt().min(1.0);
    t_sw_macrospin_s(p, t_mean, i / ic, theta0) <= dt
}

/// Behavioural IP neurons (one state per neuron per layer, reset per sample).
pub struct BehaviouralNeurons {
    pub p: MtjParams,
    pub spec: NeuronSpec,
}

impl NeuronLayer for BehaviouralNeurons {
    fn layer(&mut self, _layer: usize, drive: &[Vec<i64>]) -> Result<Vec<Vec<u8>>, String> {
        let n = drive.first().map_or(0, Vec::len);
        let p = &self.p;
        let s = &self.spec;
        let mut temp = vec![p.tamb_k; n];
        let mut fired = vec![false; n];
        let mut out = Vec::with_capacity(drive.len());
        for d in drive {
            let mut row = vec![0u8; n];
            for o in 0..n {
                let mut t = temp[o];
                if fired[o] {
                    t = heat(p, t, -s.i_reset, 1.0, s.t_reset).0;
                } else {
                    t = decay(p, t, s.t_reset);
                }
                let i = s.drive(d[o]);
                let (end, mean) = heat(p, t, i, -1.0, s.t_pulse);
                fired[o] = fires(p, i, mean, s.t_pulse);
                row[o] = fired[o] as u8;
                temp[o] = decay(p, end, s.t_step - s.t_reset - s.t_pulse);
            }
            out.push(row);
        }
        Ok(out)
    }
}

/// Energy of one neuron-layer step split by what it paid for (J).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct NeuronEnergy {
    /// Input pulses of neurons that did not fire.
    pub heat_j: f64,
    /// Input pulses of neurons that fired.
    pub fire_j: f64,
    pub reset_j: f64,
}

/// IP neurons simulated as `N` elements, one transient per layer per time step.
pub struct CircuitNeurons<'a> {
    pub card: &'a Model,
    pub p: MtjParams,
    pub spec: NeuronSpec,
    pub noise: bool,
    pub seed: u64,
    /// Per (layer, step): energy, engine ∫v·i, netlist of the first step.
    pub energy: Vec<NeuronEnergy>,
    pub engine_energy_j: f64,
    pub netlist: Option<String>,
    pub wall_s: f64,
    pub runs: u64,
}

impl CircuitNeurons<'_> {
    fn step_netlist(&self, step: usize, temp0: &[f64], fired: &[bool], drive: &[f64]) -> String {
        use std::fmt::Write;
        let s = &self.spec;
        let mut o = String::new();
        let _ = writeln!(
            o,
            "* mtjsim ipnet: IP neuron layer, one network time step ({step})"
        );
        let _ = writeln!(
            o,
            "* i<n>: behavioural current driver (reset pulse, then input pulse)"
        );
        let _ = writeln!(
            o,
            ".options seed={}",
            self.seed.wrapping_add(self.runs * 7919)
        );
        let noise = if self.noise { 1.0 } else { 0.0 };
        let _ = writeln!(
            o,
            "{}",
            super::tile::model_line("ipn", self.card, &[("noise", noise)])
        );
        let (tr, tp, e) = (s.t_reset, s.t_pulse, 50e-12);
        for (n, (&t0, &f)) in temp0.iter().zip(fired).enumerate() {
            let ir = if f { -s.i_reset } else { 0.0 };
            let i = drive[n];
            let _ = writeln!(
                o,
                "i{n} 0 a{n} pwl(0 0 {e:e} {ir:e} {:e} {ir:e} {tr:e} 0 {:e} {i:e} {:e} {i:e} {:e} 0)",
                tr - e,
                tr + e,
                tr + tp - e,
                tr + tp
            );
            let st = if f { "p" } else { "ap" };
            // Restart from the thermal-equilibrium cone angle at the present temperature
            // (what the behavioural model assumes); only P/AP and T carry over steps.
            let theta0 = (1.0 / (2.0 * delta(&self.p, t0).max(0.5))).sqrt().min(1.0);
            let _ = writeln!(
                o,
                "n{n} a{n} 0 ipn state={st} temp0={t0:e} theta0={theta0:e}"
            );
        }
        let _ = writeln!(o, ".tran {:e} {:e}", 100e-12, tr + tp);
        let _ = writeln!(o, "{}", save_line(temp0.len()));
        let _ = writeln!(o, ".end");
        o
    }
}

/// Current of neuron `n`'s driver at time `t` (mirrors the PWL written above).
fn driver_current(spec: &NeuronSpec, fired: bool, drive: f64, t: f64) -> f64 {
    let e = 50e-12;
    let ir = if fired { -spec.i_reset } else { 0.0 };
    let pts = [
        (0.0, 0.0),
        (e, ir),
        (spec.t_reset - e, ir),
        (spec.t_reset, 0.0),
        (spec.t_reset + e, drive),
        (spec.t_reset + spec.t_pulse - e, drive),
        (spec.t_reset + spec.t_pulse, 0.0),
    ];
    for w in pts.windows(2) {
        if t <= w[1].0 {
            let f = if w[1].0 > w[0].0 {
                ((t - w[0].0) / (w[1].0 - w[0].0)).clamp(0.0, 1.0)
            } else {
                1.0
            };
            return w[0].1 + (w[1].1 - w[0].1) * f;
        }
    }
    0.0
}

impl NeuronLayer for CircuitNeurons<'_> {
    fn layer(&mut self, _layer: usize, drive: &[Vec<i64>]) -> Result<Vec<Vec<u8>>, String> {
        let n = drive.first().map_or(0, Vec::len);
        let mut temp = vec![self.p.tamb_k; n];
        let mut fired = vec![false; n];
        let mut out = Vec::with_capacity(drive.len());
        for (k, d) in drive.iter().enumerate() {
            let cur: Vec<f64> = d.iter().map(|&s| self.spec.drive(s)).collect();
            let text = self.step_netlist(k, &temp, &fired, &cur);
            let parsed = netlist::load_str("ip_neurons.cir", &text, Path::new("."));
            if parsed.diagnostics.has_errors() {
                return Err(parsed.render_diagnostics());
            }
            let sim = simulate(&parsed.circuit).map_err(|e| e.to_string())?;
            self.runs += 1;
            self.wall_s += sim.stats.wall_seconds;
            self.engine_energy_j += sim.source_energy_j.iter().sum::<f64>();
            if self.netlist.is_none() {
                self.netlist = Some(text);
            }
            let plot = sim.plots.last().ok_or("no transient plot")?;
            let time = &plot.scale.data;
            let mut e = NeuronEnergy::default();
            let mut row = vec![0u8; n];
            let last = time.len() - 1;
            for o in 0..n {
                let get = |name: String| {
                    plot.get(&name)
                        .map(|v| v.data.clone())
                        .ok_or_else(|| format!("missing {name}"))
                };
                let va = get(format!("v(a{o})"))?;
                let mz = get(format!("mz(n{o})"))?;
                let tk = get(format!("temp(n{o})"))?;
                let (mut er, mut ep) = (0.0, 0.0);
                for j in 1..time.len() {
                    let pw =
                        |j: usize| driver_current(&self.spec, fired[o], cur[o], time[j]) * va[j];
                    let de = 0.5 * (pw(j) + pw(j - 1)) * (time[j] - time[j - 1]);
                    if 0.5 * (time[j] + time[j - 1]) < self.spec.t_reset {
                        er += de;
                    } else {
                        ep += de;
                    }
                }
                let f = mz[last] > 0.0;
                row[o] = f as u8;
                e.reset_j += er;
                if f {
                    e.fire_j += ep;
                } else {
                    e.heat_j += ep;
                }
                let idle = self.spec.t_step - self.spec.t_reset - self.spec.t_pulse;
                temp[o] = decay(&self.p, tk[last], idle);
                fired[o] = f;
            }
            self.energy.push(e);
            out.push(row);
        }
        // Reset the neurons that fired in the last step (so every sample ends at AP).
        if fired.iter().any(|&f| f) {
            let zero = vec![0.0; n];
            let mut spec = self.spec.clone();
            spec.t_pulse = 100e-12;
            let saved = std::mem::replace(&mut self.spec, spec);
            let text = self.step_netlist(drive.len(), &temp, &fired, &zero);
            let parsed = netlist::load_str("ip_neurons_reset.cir", &text, Path::new("."));
            let sim = simulate(&parsed.circuit).map_err(|e| e.to_string());
            self.spec = saved;
            let sim = sim?;
            self.runs += 1;
            let en: f64 = sim.source_energy_j.iter().sum();
            self.engine_energy_j += en;
            self.energy.push(NeuronEnergy {
                reset_j: en,
                ..Default::default()
            });
        }
        Ok(out)
    }
}

/// `.save` card of `n` neurons `n0…`: anode voltage, magnetization z and temperature —
/// what the neuron readers (spike = m_z sign, energy, heat) take from a transient.
pub(super) fn save_line(n: usize) -> String {
    let saves: Vec<String> = (0..n)
        .flat_map(|k| {
            [
                format!("v(a{k})"),
                format!("mz(n{k})"),
                format!("temp(n{k})"),
            ]
        })
        .collect();
    format!(".save {}", saves.join(" "))
}
