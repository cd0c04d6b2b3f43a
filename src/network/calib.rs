//! Device calibration of the IP neuron: the maps the network layer uses, measured by
//! simulating the IP-neuron model card with the repo's MTJ physics (`devices::mtj`).
//!
//! Why tables rather than formulas: the network and the device must never disagree, and a
//! change of the model card (rth, cth, Δ(T), Ic0(T), TMR…) must change the network. So
//! `mtjsim ipnet calibrate` runs the device simulations below and writes a JSON table;
//! the layer (`ip.rs`) only interpolates it.
//!
//! One network step is a drive pulse of length `step_s` (default 10 ns) of current
//! `x · Ic0(tamb)` (x = the neuron's dimensionless input). Three maps:
//! * heating `h(x)`: temperature rise over one step from ambient (deterministic LLGS +
//!   thermal node, stabilising current so the state stays put); the thermal node is linear
//!   with piecewise-constant power, so `θ' = d·θ + h(x)` holds exactly for any history;
//! * decay `d`: the fraction of a temperature rise left after one unpowered step;
//! * switching `P_sw(x, θ)`: Monte Carlo (Brown thermal field, `batch.rs`) of a pulse in
//!   the switching direction (P → AP) starting at `tamb + θ`, with the heating during the
//!   pulse simulated; summarised per θ by the 50 % current `x50(θ)` and a logistic width.

use serde::{Deserialize, Serialize};

use crate::devices::mtj::batch::{Batch, Observer};
use crate::devices::mtj::temperature::ic0_a;
use crate::devices::mtj::thermal::ThermalModel;
use crate::devices::mtj::vec3::{V3, dot};
use crate::devices::mtj::{Drive, MacrospinState, MtjParams, Stepper, recommended_dt_s};

/// Settings of [`calibrate`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CalibOpts {
    /// Device time of one network step = drive pulse width (s).
    pub step_s: f64,
    /// Drive grid `x ∈ [0, x_max]` (units of Ic0 at ambient) for heating and switching.
    pub x_max: f64,
    pub n_x: usize,
    /// Start-temperature grid `θ ∈ [0, theta_max]` (K above ambient) for switching.
    pub theta_max_k: f64,
    pub n_theta: usize,
    /// Monte Carlo devices per (x, θ) point.
    pub trials: usize,
    pub seed: u64,
}

impl Default for CalibOpts {
    fn default() -> Self {
        CalibOpts {
            step_s: 10e-9,
            x_max: 2.4,
            n_x: 25,
            theta_max_k: 80.0,
            n_theta: 9,
            trials: 256,
            seed: 1,
        }
    }
}

/// The calibration table (JSON file). Temperatures in K, currents in units of `ic0_a`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CalibTable {
    /// Model card name and where it came from.
    pub card: String,
    pub source: String,
    pub opts: CalibOpts,
    pub tamb_k: f64,
    /// Critical current at ambient (A): the unit of the drive x.
    pub ic0_a: f64,
    pub tau_th_s: f64,
    /// Measured decay factor per step (device simulation) and the analytic `e^(−step/τ)`.
    pub decay: f64,
    pub decay_analytic: f64,
    /// Heating per step from ambient: `heat_k[i]` at `x_grid[i]`.
    pub x_grid: Vec<f64>,
    pub heat_k: Vec<f64>,
    /// Switching: `p_sw[j][i]` at `theta_grid[j]`, `x_grid[i]`.
    pub theta_grid_k: Vec<f64>,
    pub p_sw: Vec<Vec<f64>>,
    /// Logistic summary per θ: `P_sw ≈ 1/(1+exp(−(x − x50)/width))`. `x50` is the
    /// non-increasing (isotonic, pool-adjacent-violators) fit of the Monte Carlo crossings
    /// `x50_raw`: heat only lowers the barrier, so a rise is sampling noise, and a
    /// non-monotone table would give the surrogate gradient the wrong sign.
    pub x50: Vec<f64>,
    pub x50_raw: Vec<f64>,
    pub width: Vec<f64>,
}

/// Piecewise-linear interpolation on an ascending grid, clamped at the ends; returns
/// (value, slope) with slope 0 outside the grid.
pub fn interp(grid: &[f64], vals: &[f64], x: f64) -> (f64, f64) {
    let n = grid.len();
    if n == 0 {
        return (0.0, 0.0);
    }
    if n == 1 || x <= grid[0] {
        return (vals[0], 0.0);
    }
    if x >= grid[n - 1] {
        return (vals[n - 1], 0.0);
    }
    let i = grid.partition_point(|&g| g <= x).clamp(1, n - 1);
    let (x0, x1) = (grid[i - 1], grid[i]);
    let s = (vals[i] - vals[i - 1]) / (x1 - x0);
    (vals[i - 1] + s * (x - x0), s)
}

impl CalibTable {
    /// Temperature rise (K) over one step from ambient at drive `x` (either sign: Joule
    /// heat goes as I²), and dh/dx. Beyond the grid: `h ∝ x²` from the last point.
    pub fn heat(&self, x: f64) -> (f64, f64) {
        // Interpolate in u = x² (Joule heat ∝ I²): exact for a bias-independent resistance,
        // so the table error is the residual TMR(V) curvature only.
        let a = x.abs();
        let xm = *self.x_grid.last().unwrap_or(&1.0);
        let (h, s) = if a > xm {
            let hm = *self.heat_k.last().unwrap_or(&0.0);
            (hm * (a / xm).powi(2), 2.0 * hm * a / (xm * xm))
        } else {
            let u: Vec<f64> = self.x_grid.iter().map(|v| v * v).collect();
            let (h, su) = interp(&u, &self.heat_k, a * a);
            (h, su * 2.0 * a)
        };
        (h, if x < 0.0 { -s } else { s })
    }

    /// 50 % switching drive at start temperature `θ` (K above ambient) and d x50/dθ.
    pub fn x50(&self, theta_k: f64) -> (f64, f64) {
        interp(&self.theta_grid_k, &self.x50, theta_k)
    }

    /// Logistic width of P_sw at `θ`.
    pub fn width(&self, theta_k: f64) -> f64 {
        interp(&self.theta_grid_k, &self.width, theta_k).0.max(1e-3)
    }

    /// Switching probability from the logistic summary.
    pub fn p_switch(&self, x: f64, theta_k: f64) -> f64 {
        let (x50, _) = self.x50(theta_k);
        1.0 / (1.0 + (-(x - x50) / self.width(theta_k)).exp())
    }

    /// Read a table written by [`CalibTable::save`].
    pub fn load(path: &std::path::Path) -> Result<CalibTable, String> {
        let s = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read calibration {}: {e}", path.display()))?;
        serde_json::from_str(&s).map_err(|e| {
            format!(
                "{}:{}:{}: bad calibration table: {e}",
                path.display(),
                e.line(),
                e.column()
            )
        })
    }

    pub fn save(&self, path: &std::path::Path) -> Result<(), String> {
        if let Some(d) = path.parent() {
            std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
        }
        let s = serde_json::to_string_pretty(self).map_err(|e| e.to_string())?;
        std::fs::write(path, s).map_err(|e| format!("cannot write {}: {e}", path.display()))
    }
}

/// Sign of the P state's projection (which way the free layer points in P).
fn p_state(p: &MtjParams) -> (f64, f64) {
    let s0 = if dot(p.mp, p.easy) >= 0.0 { 1.0 } else { -1.0 };
    (s0, s0 * dot(p.mp, p.easy))
}

/// Deterministic device run (noise off) from `tamb + theta0` in P: one step of drive
/// `x_seq[k]` (units of Ic0, stabilising direction) per entry; temperature rise (K) after
/// each step. The reference the layer is checked against.
pub fn simulate_heating(p: &MtjParams, step_s: f64, theta0_k: f64, x_seq: &[f64]) -> Vec<f64> {
    let mut q = p.clone();
    q.noise = false;
    let (s0, c0) = p_state(&q);
    let ic0 = ic0_a(&q, q.tamb_k, s0);
    let x_big = x_seq.iter().fold(0.0f64, |a, &b| a.max(b.abs()));
    let dt = recommended_dt_s(&q, q.tamb_k, x_big * ic0, [0.0; 3]).min(step_s / 400.0);
    let n = (step_s / dt).round().max(1.0) as usize;
    let dt = step_s / n as f64;
    let mut s = MacrospinState::along(&q, s0, 0.0);
    s.temp_k = q.tamb_k + theta0_k;
    let mut st = Stepper::new(&q);
    let mut rng = <rand_xoshiro::Xoshiro256PlusPlus as rand::SeedableRng>::seed_from_u64(0);
    let mut out = Vec::with_capacity(x_seq.len());
    for &x in x_seq {
        // Stabilising sign: heats without switching (|x| only matters for Joule heat).
        let i = c0.signum() * x.abs() * ic0;
        for _ in 0..n {
            st.step(&mut s, &Drive::current(i), dt, &mut rng);
        }
        out.push(s.temp_k - q.tamb_k);
    }
    out
}

/// Records whether a device has left its initial well; stops it once clearly switched.
struct Switched {
    mp: V3,
    c0: f64,
    c_end: f64,
}

impl Observer for Switched {
    fn observe(&mut self, _: usize, _: f64, m: V3, _: f64) -> bool {
        self.c_end = dot(m, self.mp);
        self.c_end * self.c0 > -0.9
    }
}

/// Least-squares non-increasing fit (pool adjacent violators).
pub fn isotonic_non_increasing(v: &[f64]) -> Vec<f64> {
    let mut blocks: Vec<(f64, usize)> = Vec::new();
    for &x in v {
        blocks.push((x, 1));
        while blocks.len() > 1 {
            let (b, nb) = blocks[blocks.len() - 1];
            let (a, na) = blocks[blocks.len() - 2];
            if a >= b {
                break;
            }
            blocks.pop();
            let l = blocks.len() - 1;
            blocks[l] = ((a * na as f64 + b * nb as f64) / (na + nb) as f64, na + nb);
        }
    }
    blocks
        .iter()
        .flat_map(|&(x, n)| std::iter::repeat_n(x, n))
        .collect()
}

/// Run the calibration simulations for card `p`.
pub fn calibrate(p: &MtjParams, source: &str, o: &CalibOpts) -> Result<CalibTable, String> {
    let tau = match ThermalModel::of(p) {
        ThermalModel::Dynamic { tau_s, .. } => tau_s,
        _ => {
            return Err(format!(
                "model {}: the IP neuron needs a thermal node with rth > 0 and cth > 0",
                p.name
            ));
        }
    };
    if o.n_x < 2 || o.n_theta < 2 || o.trials == 0 || o.step_s <= 0.0 || o.x_max <= 0.0 {
        return Err("calibration grid needs n_x ≥ 2, n_theta ≥ 2, trials ≥ 1, step > 0".into());
    }
    let (s0, c0) = p_state(p);
    let ic0 = ic0_a(p, p.tamb_k, s0);
    let x_grid: Vec<f64> = (0..o.n_x)
        .map(|i| o.x_max * i as f64 / (o.n_x - 1) as f64)
        .collect();
    let heat_k: Vec<f64> = x_grid
        .iter()
        .map(|&x| simulate_heating(p, o.step_s, 0.0, &[x])[0])
        .collect();
    let theta_ref = 20.0;
    let decay = simulate_heating(p, o.step_s, theta_ref, &[0.0])[0] / theta_ref;
    let theta_grid_k: Vec<f64> = (0..o.n_theta)
        .map(|j| o.theta_max_k * j as f64 / (o.n_theta - 1) as f64)
        .collect();
    // Switching Monte Carlo: device index = (j θ, i x, trial).
    let (nx, tr) = (o.n_x, o.trials);
    let n = o.n_theta * nx * tr;
    let sign = -c0.signum();
    let hot = p.tamb_k + o.theta_max_k;
    let dt = recommended_dt_s(p, hot, o.x_max * ic0, [0.0; 3]).min(o.step_s / 400.0);
    let steps = (o.step_s / dt).round().max(1.0) as usize;
    let dt = o.step_s / steps as f64;
    let mut b = Batch::new(p.clone(), n, o.seed, |k| {
        let j = k / (nx * tr);
        let mut s = MacrospinState::along(p, s0, 0.02);
        s.temp_k = p.tamb_k + theta_grid_k[j];
        s
    });
    let mut obs: Vec<Switched> = (0..n)
        .map(|_| Switched {
            mp: p.mp,
            c0,
            c_end: c0,
        })
        .collect();
    let xg = x_grid.clone();
    b.run(
        steps,
        dt,
        &|k, _| Drive::current(sign * xg[(k / tr) % nx] * ic0),
        &mut obs,
    );
    let mut p_sw = vec![vec![0.0; nx]; o.n_theta];
    for (k, ob) in obs.iter().enumerate() {
        if ob.c_end * c0 < 0.0 {
            p_sw[k / (nx * tr)][(k / tr) % nx] += 1.0 / tr as f64;
        }
    }
    let mut x50 = Vec::new();
    let mut width = Vec::new();
    for row in &p_sw {
        // Monotone envelope (MC noise) before reading the crossings.
        let mut m = row.clone();
        for i in 1..m.len() {
            m[i] = m[i].max(m[i - 1]);
        }
        let cross = |level: f64| -> f64 {
            for i in 1..m.len() {
                if m[i - 1] < level && m[i] >= level {
                    return x_grid[i - 1]
                        + (level - m[i - 1]) / (m[i] - m[i - 1]) * (x_grid[i] - x_grid[i - 1]);
                }
            }
            if m[0] >= level { 0.0 } else { o.x_max }
        };
        x50.push(cross(0.5));
        width.push(((cross(0.75) - cross(0.25)) / (2.0 * 3f64.ln())).max(0.01));
    }
    let x50_raw = x50.clone();
    let x50 = isotonic_non_increasing(&x50);
    Ok(CalibTable {
        x50_raw,
        card: p.name.clone(),
        source: source.to_string(),
        opts: o.clone(),
        tamb_k: p.tamb_k,
        ic0_a: ic0,
        tau_th_s: tau,
        decay,
        decay_analytic: (-o.step_s / tau).exp(),
        x_grid,
        heat_k,
        theta_grid_k,
        p_sw,
        x50,
        width,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    pub fn ipn_card() -> MtjParams {
        let (m, _) = crate::netlist::load_models(
            std::path::Path::new("device_models/mtj.lib"),
            Some("ipn_neuron"),
        )
        .map_err(|_| "load")
        .unwrap();
        MtjParams::from_model(m.values().next().unwrap()).unwrap()
    }

    fn quick() -> CalibOpts {
        CalibOpts {
            trials: 4,
            n_theta: 3,
            n_x: 13,
            ..CalibOpts::default()
        }
    }

    /// The calibrated layer's recursion `θ' = d θ + h(x)` reproduces a direct device
    /// simulation of an arbitrary drive sequence within 2 % (heating and decay).
    #[test]
    fn layer_reproduces_device_heating_and_decay() {
        let p = ipn_card();
        let t = calibrate(&p, "test", &quick()).unwrap();
        assert!(
            (t.decay / t.decay_analytic - 1.0).abs() < 1e-3,
            "{} vs {}",
            t.decay,
            t.decay_analytic
        );
        let mut r = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(5);
        let xs: Vec<f64> = (0..24)
            .map(|k| {
                if k % 5 == 4 {
                    0.0
                } else {
                    r.random_range(0.05..2.3)
                }
            })
            .collect();
        let sim = simulate_heating(&p, t.opts.step_s, 0.0, &xs);
        let mut th = 0.0;
        let peak = sim.iter().cloned().fold(0.0, f64::max);
        assert!(
            peak > 10.0,
            "the IP card must heat by tens of K, got {peak}"
        );
        for (k, (&x, &s)) in xs.iter().zip(&sim).enumerate() {
            th = t.decay * th + t.heat(x).0;
            assert!(
                (th - s).abs() <= 0.02 * s.max(1.0),
                "step {k}: layer {th} vs device {s}"
            );
        }
    }

    /// Intrinsic plasticity from the device: a hotter neuron switches at a lower drive;
    /// and the table follows the card: halving rth halves the heating.
    #[test]
    fn hot_neurons_fire_easier_and_card_changes_table() {
        let p = ipn_card();
        let o = CalibOpts {
            trials: 16,
            n_theta: 3,
            n_x: 13,
            theta_max_k: 60.0,
            ..CalibOpts::default()
        };
        let t = calibrate(&p, "test", &o).unwrap();
        assert!(t.x50[2] < t.x50[0] - 0.1, "x50 vs theta: {:?}", t.x50);
        let mut q = p.clone();
        q.rth_k_per_w *= 0.5;
        q.cth_j_per_k *= 2.0; // same tau
        let hq = simulate_heating(&q, o.step_s, 0.0, &[1.5])[0];
        let hp = t.heat(1.5).0;
        assert!((hq / hp - 0.5).abs() < 0.01, "{hq} vs {hp}");
    }
}
