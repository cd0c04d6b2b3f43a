//! Characterisation experiments behind `mtjsim device`: R–V and R–H loops, switching
//! probability over pulse amplitude × width, mean switching time vs current, Joule heating
//! step response, retention (dwell time) vs barrier, and a throughput benchmark.
//!
//! Each experiment writes CSV (always) plus SVG and PNG plots into the output directory and
//! returns a short text summary. Monte Carlo runs use [`Batch`] (rayon, per-device seeds), so
//! results depend on `--seed` only, never on the thread count.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::analytic::{brown_mfpt_s, is_axially_symmetric, t_sw_macrospin_s, t_sw_precessional_s};
use super::batch::{Batch, Observer};
use super::integrator::{Drive, MacrospinState, Stepper, recommended_dt_s};
use super::params::MtjParams;
use super::temperature::{
    delta, hk_eff_a_per_m, ic0_a, jc0_a_per_m2, precession_frequency_hz, relaxation_rate_per_s,
    tau_n_s,
};
use super::thermal::ThermalModel;
use super::transport::{g_s, resistance_ohm};
use super::vec3::{V3, dot};
use crate::output::table::eng;

/// Settings shared by all experiments.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// Output directory (created if missing).
    pub out_dir: PathBuf,
    /// Global seed of the Monte Carlo runs.
    pub seed: u64,
    /// Time step override (s); `None` = [`recommended_dt_s`] for the experiment's drive.
    pub dt_s: Option<f64>,
    /// Also write PNG next to every SVG.
    pub png: bool,
}

/// What an experiment produced: summary lines and written files.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub lines: Vec<String>,
    pub files: Vec<PathBuf>,
}

impl Report {
    fn line(&mut self, s: impl Into<String>) {
        self.lines.push(s.into());
    }
}

// ---------------------------------------------------------------------------------------
// Output helpers
// ---------------------------------------------------------------------------------------

fn ensure_dir(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("cannot create output directory {}: {e}", dir.display()))
}

/// Write `rows` under `header` as CSV (full precision, `NaN` for missing values).
fn write_csv(
    rep: &mut Report,
    ctx: &Ctx,
    name: &str,
    header: &[&str],
    rows: &[Vec<f64>],
) -> Result<(), String> {
    ensure_dir(&ctx.out_dir)?;
    let path = ctx.out_dir.join(name);
    let mut s = String::with_capacity(rows.len() * header.len() * 14);
    s.push_str(&header.join(","));
    s.push('\n');
    for r in rows {
        for (k, v) in r.iter().enumerate() {
            if k > 0 {
                s.push(',');
            }
            let _ = write!(s, "{v:e}");
        }
        s.push('\n');
    }
    let mut f = std::fs::File::create(&path)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    f.write_all(s.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    rep.files.push(path);
    Ok(())
}

type Series = Vec<(String, Vec<(f64, f64)>)>;

/// Line chart as `stem.svg` (+ `stem.png`). A plotting failure is reported in the summary,
/// not fatal: the CSV already holds the data.
fn chart(
    rep: &mut Report,
    ctx: &Ctx,
    stem: &str,
    title: &str,
    xl: &str,
    yl: &str,
    series: &Series,
) {
    let mut exts = vec!["svg"];
    if ctx.png {
        exts.push("png");
    }
    for ext in exts {
        let path = ctx.out_dir.join(format!("{stem}.{ext}"));
        match crate::output::plot::line_chart(&path, title, xl, yl, series) {
            Ok(()) => rep.files.push(path),
            Err(e) => rep.line(format!("warning: plot {} not written: {e}", path.display())),
        }
    }
}

/// Heatmap as `stem.svg` (+ `stem.png`).
#[allow(clippy::too_many_arguments)]
fn heat(
    rep: &mut Report,
    ctx: &Ctx,
    stem: &str,
    title: &str,
    labels: [&str; 3],
    x: &[f64],
    y: &[f64],
    z: &[Vec<f64>],
) {
    let mut exts = vec!["svg"];
    if ctx.png {
        exts.push("png");
    }
    for ext in exts {
        let path = ctx.out_dir.join(format!("{stem}.{ext}"));
        match crate::output::plot::heatmap(&path, title, labels[0], labels[1], labels[2], x, y, z) {
            Ok(()) => rep.files.push(path),
            Err(e) => rep.line(format!("warning: plot {} not written: {e}", path.display())),
        }
    }
}

fn linspace(a: f64, b: f64, n: usize) -> Vec<f64> {
    if n <= 1 {
        return vec![a];
    }
    (0..n)
        .map(|k| a + (b - a) * k as f64 / (n - 1) as f64)
        .collect()
}

fn logspace(a: f64, b: f64, n: usize) -> Vec<f64> {
    linspace(a.ln(), b.ln(), n)
        .into_iter()
        .map(f64::exp)
        .collect()
}

/// Initial sign along the easy axis from `from` ("p" → +1 relative to the reference layer).
fn state_sign(p: &MtjParams, from_ap: bool) -> f64 {
    let s = if dot(p.mp, p.easy) >= 0.0 { 1.0 } else { -1.0 };
    if from_ap { -s } else { s }
}

/// Temperature to size the time step for: ambient plus the steady heating at `current_a`
/// in the AP state, capped below tc.
fn hot_temp(p: &MtjParams, current_a: f64) -> f64 {
    let g_ap = g_s(p, -1.0, 0.0, p.tamb_k);
    (p.tamb_k + current_a * current_a / g_ap * p.rth_k_per_w).min(0.95 * p.tc_k)
}

fn step_size(p: &MtjParams, ctx: &Ctx, current_a: f64, h: V3) -> f64 {
    ctx.dt_s
        .unwrap_or_else(|| recommended_dt_s(p, hot_temp(p, current_a), current_a, h))
}

/// Figures of merit of the card at ambient temperature.
pub fn summary(p: &MtjParams) -> Vec<String> {
    let t = p.tamb_k;
    let mut v = Vec::new();
    let r_p = resistance_ohm(p, 1.0, 0.0, t);
    let r_ap = resistance_ohm(p, -1.0, 0.0, t);
    v.push(format!(
        "model {}: d = {}, tfl = {}, V = {:.3e} m^3, easy = {:?}, T_amb = {} K",
        p.name,
        eng(p.diameter_m, "m"),
        eng(p.tfl_m, "m"),
        p.volume_m3,
        p.easy_axis,
        t
    ));
    v.push(format!(
        "H_k,eff = {:.4e} A/m (mu0 H = {}), Delta = {:.2}, f_FMR = {}, tau_relax = {}",
        hk_eff_a_per_m(p, t),
        eng(super::constants::MU0 * hk_eff_a_per_m(p, t), "T"),
        delta(p, t),
        eng(precession_frequency_hz(p, t), "Hz"),
        eng(1.0 / relaxation_rate_per_s(p, t), "s")
    ));
    let sp = state_sign(p, false);
    v.push(format!(
        "Ic0(P->AP) = {}, Ic0(AP->P) = {}, Jc0 = {:.3e} A/m^2",
        eng(ic0_a(p, t, sp), "A"),
        eng(ic0_a(p, t, -sp), "A"),
        jc0_a_per_m2(p, t, sp)
    ));
    v.push(format!(
        "R_P = {}, R_AP(0 V) = {}, TMR = {:.1} %",
        eng(r_p, "Ohm"),
        eng(r_ap, "Ohm"),
        100.0 * p.tmr0
    ));
    match ThermalModel::of(p) {
        ThermalModel::Isothermal => v.push("thermal: isothermal (rth = 0)".into()),
        ThermalModel::Instant { rth_k_per_w } => {
            v.push(format!("thermal: instant, rth = {rth_k_per_w:.3e} K/W"))
        }
        ThermalModel::Dynamic {
            rth_k_per_w, tau_s, ..
        } => v.push(format!(
            "thermal: rth = {rth_k_per_w:.3e} K/W, tau_th = {}, dT at Ic0 (AP) = {:.1} K",
            eng(tau_s, "s"),
            ic0_a(p, t, -sp).powi(2) * r_ap * rth_k_per_w
        )),
    }
    v.push(format!(
        "Brown tau_N = {}, default dt = {}, noise = {}",
        eng(tau_n_s(p, t), "s"),
        eng(recommended_dt_s(p, t, 0.0, [0.0; 3]), "s"),
        if p.noise { "on" } else { "off" }
    ));
    v.extend(p.warnings().into_iter().map(|w| format!("warning: {w}")));
    v
}

// ---------------------------------------------------------------------------------------
// Observers
// ---------------------------------------------------------------------------------------

/// Hysteretic telegraph on `m·axis`: flips when it crosses `∓th`; optionally records a
/// decimated trace.
struct Telegraph {
    axis: V3,
    th: f64,
    state: f64,
    flips: Vec<(f64, f64)>,
    every: usize,
    trace: Vec<(f64, V3, f64)>,
}

impl Telegraph {
    fn new(axis: V3, th: f64, m0: V3, every: usize) -> Telegraph {
        let c = dot(m0, axis);
        Telegraph {
            axis,
            th,
            state: if c >= 0.0 { 1.0 } else { -1.0 },
            flips: Vec::new(),
            every,
            trace: Vec::new(),
        }
    }
}

impl Observer for Telegraph {
    #[inline]
    fn observe(&mut self, step: usize, t: f64, m: V3, temp_k: f64) -> bool {
        let c = dot(m, self.axis);
        if self.state * c < -self.th {
            self.state = -self.state;
            self.flips.push((t, self.state));
        }
        if self.every > 0 && step.is_multiple_of(self.every) {
            self.trace.push((t, m, temp_k));
        }
        true
    }
}

/// Stops at the first crossing of `m·p = 0` away from the initial side.
struct FirstCross {
    mp: V3,
    side: f64,
    t_sw: f64,
}

impl Observer for FirstCross {
    #[inline]
    fn observe(&mut self, _: usize, t: f64, m: V3, _: f64) -> bool {
        if self.side * dot(m, self.mp) < 0.0 {
            self.t_sw = t;
            return false;
        }
        true
    }
}

/// Runs until `t_end`, then keeps `m·p`.
struct EndState {
    mp: V3,
    t_end: f64,
    c_end: f64,
}

impl Observer for EndState {
    #[inline]
    fn observe(&mut self, _: usize, t: f64, m: V3, _: f64) -> bool {
        self.c_end = dot(m, self.mp);
        t < self.t_end
    }
}

/// Mean and sample standard deviation.
fn mean_sd(v: &[f64]) -> (f64, f64) {
    if v.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let sd = if v.len() > 1 {
        (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
    } else {
        0.0
    };
    (m, sd)
}

/// "mean +- sd unit (n events)" or "no switching".
fn events_summary(v: &[f64], unit: &str, digits: usize) -> String {
    if v.is_empty() {
        return "no switching in the sweep".into();
    }
    let (m, sd) = mean_sd(v);
    format!("{m:.digits$e} +- {sd:.2e} {unit} ({} events)", v.len())
}

/// Triangular sweep 0 → −amp → +amp → 0 over `period` (value at time t).
fn triangle(t: f64, period: f64, amp: f64) -> f64 {
    let u = (t / period).clamp(0.0, 1.0) * 4.0;
    if u < 1.0 {
        -amp * u
    } else if u < 3.0 {
        amp * (u - 2.0)
    } else {
        amp * (4.0 - u)
    }
}

// ---------------------------------------------------------------------------------------
// R–V loop
// ---------------------------------------------------------------------------------------

/// Options of [`rv`].
#[derive(Debug, Clone)]
pub struct RvOpts {
    /// Peak voltage (V); `None` = 1.6 × the AP→P critical voltage Ic0 · R_AP(0) (capped at 1.5 V).
    pub vmax_v: Option<f64>,
    /// Duration of the whole 0 → −vmax → +vmax → 0 sweep (s).
    pub period_s: f64,
    pub trials: usize,
    /// Samples in the written trace.
    pub points: usize,
}

/// R–V hysteresis loop under a slow triangular voltage ramp, starting in P: negative bias
/// switches P→AP, positive AP→P. Writes the trace of trial 0 and the switching voltages of
/// all trials.
pub fn rv(p: &MtjParams, ctx: &Ctx, o: &RvOpts) -> Result<Report, String> {
    let mut rep = Report::default();
    let t = p.tamb_k;
    let sp = state_sign(p, false);
    let vmax = o
        .vmax_v
        .unwrap_or_else(|| (1.6 * ic0_a(p, t, -sp) * resistance_ohm(p, -1.0, 0.0, t)).min(1.5));
    let i_max = vmax * g_s(p, 1.0, vmax, t);
    let dt = step_size(p, ctx, i_max, [0.0; 3]);
    let steps = (o.period_s / dt).ceil() as usize;
    let every = (steps / o.points.max(1)).max(1);
    let n = o.trials.max(1);
    let m0 = MacrospinState::along(p, sp, 0.02);
    let mut b = Batch::new(p.clone(), n, ctx.seed, |_| m0);
    let mut obs: Vec<Telegraph> = (0..n)
        .map(|i| Telegraph::new(p.mp, 0.5, m0.m, if i == 0 { every } else { 0 }))
        .collect();
    let period = o.period_s;
    b.run(
        steps,
        dt,
        &|_, t| Drive::voltage(triangle(t + 0.5 * dt, period, vmax)),
        &mut obs,
    );

    let rows: Vec<Vec<f64>> = obs[0]
        .trace
        .iter()
        .map(|&(tt, m, tk)| {
            let v = triangle(tt, period, vmax);
            let g = g_s(p, dot(m, p.mp), v, tk);
            vec![tt, v, g * v, 1.0 / g, dot(m, p.mp), tk]
        })
        .collect();
    write_csv(
        &mut rep,
        ctx,
        "rv.csv",
        &["t_s", "v_v", "i_a", "r_ohm", "m_dot_p", "temp_k"],
        &rows,
    )?;
    let mut to_ap = Vec::new();
    let mut to_p = Vec::new();
    let mut ev_rows = Vec::new();
    for (k, ob) in obs.iter().enumerate() {
        for &(tt, s) in &ob.flips {
            let v = triangle(tt, period, vmax);
            if s < 0.0 {
                to_ap.push(v)
            } else {
                to_p.push(v)
            }
            ev_rows.push(vec![k as f64, tt, v, s]);
        }
    }
    write_csv(
        &mut rep,
        ctx,
        "rv_switching.csv",
        &["trial", "t_s", "v_v", "new_state_m_dot_p_sign"],
        &ev_rows,
    )?;
    let pts: Vec<(f64, f64)> = rows.iter().map(|r| (r[1], r[3])).collect();
    chart(
        &mut rep,
        ctx,
        "rv",
        &format!("R-V loop, {} (sweep {})", p.name, eng(period, "s")),
        "V (V)",
        "R (Ohm)",
        &vec![(String::new(), pts)],
    );
    rep.line(format!(
        "R-V: vmax = {vmax:.3} V, sweep {}, dt = {}, {n} trial(s)",
        eng(period, "s"),
        eng(dt, "s")
    ));
    rep.line(format!(
        "V_sw(P->AP) = {}, V_sw(AP->P) = {}",
        events_summary(&to_ap, "V", 4),
        events_summary(&to_p, "V", 4)
    ));
    Ok(rep)
}

// ---------------------------------------------------------------------------------------
// R–H loop
// ---------------------------------------------------------------------------------------

/// Options of [`rh`].
#[derive(Debug, Clone)]
pub struct RhOpts {
    /// Peak field along the easy axis (A/m); `None` = 1.5 H_k,eff.
    pub hmax_a_per_m: Option<f64>,
    pub period_s: f64,
    /// Read bias (V) at which R is reported (its small current also acts on m).
    pub vread_v: f64,
    pub trials: usize,
    pub points: usize,
}

/// R–H loop: field along the easy axis swept 0 → −hmax → +hmax → 0, starting in P.
pub fn rh(p: &MtjParams, ctx: &Ctx, o: &RhOpts) -> Result<Report, String> {
    let mut rep = Report::default();
    let t = p.tamb_k;
    let hmax = o
        .hmax_a_per_m
        .unwrap_or_else(|| 1.5 * hk_eff_a_per_m(p, t).abs().max(1.0));
    let e = p.easy;
    let dt = step_size(
        p,
        ctx,
        o.vread_v * g_s(p, 1.0, 0.0, t),
        [hmax * e[0], hmax * e[1], hmax * e[2]],
    );
    let steps = (o.period_s / dt).ceil() as usize;
    let every = (steps / o.points.max(1)).max(1);
    let n = o.trials.max(1);
    let m0 = MacrospinState::along(p, state_sign(p, false), 0.02);
    let mut b = Batch::new(p.clone(), n, ctx.seed, |_| m0);
    let mut obs: Vec<Telegraph> = (0..n)
        .map(|i| Telegraph::new(p.easy, 0.5, m0.m, if i == 0 { every } else { 0 }))
        .collect();
    let period = o.period_s;
    let vread = o.vread_v;
    b.run(
        steps,
        dt,
        &|_, t| {
            let h = triangle(t + 0.5 * dt, period, hmax);
            Drive::voltage(vread).with_field([h * e[0], h * e[1], h * e[2]])
        },
        &mut obs,
    );
    let rows: Vec<Vec<f64>> = obs[0]
        .trace
        .iter()
        .map(|&(tt, m, tk)| {
            let h = triangle(tt, period, hmax);
            let r = resistance_ohm(p, dot(m, p.mp), vread, tk);
            vec![tt, h, super::constants::MU0 * h * 1e3, r, dot(m, p.easy)]
        })
        .collect();
    write_csv(
        &mut rep,
        ctx,
        "rh.csv",
        &["t_s", "h_a_per_m", "mu0h_mt", "r_ohm", "m_dot_easy"],
        &rows,
    )?;
    let mut down = Vec::new();
    let mut up = Vec::new();
    for ob in &obs {
        for &(tt, s) in &ob.flips {
            let h = triangle(tt, period, hmax);
            if s < 0.0 { down.push(h) } else { up.push(h) }
        }
    }
    let pts: Vec<(f64, f64)> = rows.iter().map(|r| (r[2], r[3])).collect();
    chart(
        &mut rep,
        ctx,
        "rh",
        &format!("R-H loop, {} (sweep {})", p.name, eng(period, "s")),
        "mu0 H (mT)",
        "R (Ohm)",
        &vec![(String::new(), pts)],
    );
    rep.line(format!(
        "R-H: hmax = {hmax:.4e} A/m, H_k,eff = {:.4e} A/m, dt = {}, {n} trial(s)",
        hk_eff_a_per_m(p, t),
        eng(dt, "s")
    ));
    rep.line(format!(
        "switching fields: {} (+ -> -), {} (- -> +); the loop is dynamic: slower sweeps \
         switch closer to the thermally activated field",
        events_summary(&down, "A/m", 4),
        events_summary(&up, "A/m", 4)
    ));
    Ok(rep)
}

// ---------------------------------------------------------------------------------------
// Switching probability
// ---------------------------------------------------------------------------------------

/// Options of [`switch_probability`].
#[derive(Debug, Clone)]
pub struct SwitchOpts {
    /// Amplitude range in units of Ic0 (of the initial state), linear grid.
    pub amp_min: f64,
    pub amp_max: f64,
    pub n_amp: usize,
    /// Pulse width range (s), logarithmic grid.
    pub w_min_s: f64,
    pub w_max_s: f64,
    pub n_w: usize,
    pub trials: usize,
    /// Start in AP (else P).
    pub from_ap: bool,
    /// Voltage pulses of amplitude `amp · Ic0 · R(initial state)` instead of current pulses.
    pub voltage: bool,
    /// Relaxation after the pulse before reading the state (s).
    pub settle_s: f64,
}

/// Switching probability over a grid of pulse amplitude × width, Monte Carlo with `trials`
/// devices per point (thermal noise per the card), starting at T = tamb in P (or AP).
pub fn switch_probability(p: &MtjParams, ctx: &Ctx, o: &SwitchOpts) -> Result<Report, String> {
    let mut rep = Report::default();
    let t = p.tamb_k;
    let s0 = state_sign(p, o.from_ap);
    let c0 = s0 * dot(p.mp, p.easy);
    let ic0 = ic0_a(p, t, s0);
    let sign = -c0.signum(); // positive current favours P: leave P with negative current
    let amps = linspace(o.amp_min, o.amp_max, o.n_amp);
    let widths = logspace(o.w_min_s, o.w_max_s, o.n_w);
    let r0 = resistance_ohm(p, c0, 0.0, t);
    let unit = if o.voltage { ic0 * r0 } else { ic0 };
    let dt = step_size(p, ctx, 1.5 * o.amp_max * ic0, [0.0; 3]);
    let n_pts = amps.len() * widths.len();
    let trials = o.trials.max(1);
    let n = n_pts * trials;
    let t_end: Vec<f64> = (0..n_pts)
        .map(|k| widths[k % widths.len()] + o.settle_s)
        .collect();
    let steps = (t_end.iter().cloned().fold(0.0, f64::max) / dt).ceil() as usize + 1;
    let m0 = MacrospinState::along(p, s0, 0.02);
    let mut b = Batch::new(p.clone(), n, ctx.seed, |_| m0);
    let mut obs: Vec<EndState> = (0..n)
        .map(|i| EndState {
            mp: p.mp,
            t_end: t_end[i / trials],
            c_end: c0,
        })
        .collect();
    let nw = widths.len();
    let voltage = o.voltage;
    let started = Instant::now();
    b.run(
        steps,
        dt,
        &|i, tt| {
            let k = i / trials;
            let (ia, iw) = (k / nw, k % nw);
            let a = if tt < widths[iw] {
                sign * amps[ia] * unit
            } else {
                0.0
            };
            if voltage {
                Drive::voltage(a)
            } else {
                Drive::current(a)
            }
        },
        &mut obs,
    );
    let elapsed = started.elapsed().as_secs_f64();
    let mut z = vec![vec![0.0; nw]; amps.len()];
    let mut rows = Vec::new();
    for (ia, &a) in amps.iter().enumerate() {
        for (iw, &w) in widths.iter().enumerate() {
            let k = ia * nw + iw;
            let sw = obs[k * trials..(k + 1) * trials]
                .iter()
                .filter(|o| o.c_end * c0 < 0.0)
                .count();
            let pr = sw as f64 / trials as f64;
            z[ia][iw] = pr;
            // Wilson 95 % interval half-width.
            let nn = trials as f64;
            let zz = 1.96f64;
            let half = zz * (pr * (1.0 - pr) / nn + zz * zz / (4.0 * nn * nn)).sqrt()
                / (1.0 + zz * zz / nn);
            rows.push(vec![w, a, sign * a * unit, pr, nn, half]);
        }
    }
    let unit_col = if o.voltage { "pulse_v" } else { "pulse_a" };
    write_csv(
        &mut rep,
        ctx,
        "switch.csv",
        &[
            "width_s",
            "amp_over_ic0",
            unit_col,
            "p_sw",
            "trials",
            "ci95_half",
        ],
        &rows,
    )?;
    let logw: Vec<f64> = widths.iter().map(|w| w.log10()).collect();
    heat(
        &mut rep,
        ctx,
        "switch_heatmap",
        &format!(
            "Switching probability, {} ({} -> {})",
            p.name,
            if o.from_ap { "AP" } else { "P" },
            if o.from_ap { "P" } else { "AP" }
        ),
        ["log10 pulse width (s)", "amplitude / Ic0", "P_sw"],
        &logw,
        &amps,
        &z,
    );
    let series: Series = widths
        .iter()
        .enumerate()
        .map(|(iw, w)| {
            (
                format!("w = {}", eng(*w, "s")),
                amps.iter()
                    .enumerate()
                    .map(|(ia, a)| (*a, z[ia][iw]))
                    .collect(),
            )
        })
        .collect();
    chart(
        &mut rep,
        ctx,
        "switch_vs_amp",
        &format!("P_sw vs amplitude, {}", p.name),
        "amplitude / Ic0",
        "P_sw",
        &series,
    );
    rep.line(format!(
        "switch: {} amplitudes x {} widths x {trials} trials, Ic0 = {}, unit = {}, dt = {}, {:.1} M device-steps/s",
        amps.len(),
        widths.len(),
        eng(ic0, "A"),
        if o.voltage { eng(unit, "V") } else { eng(unit, "A") },
        eng(dt, "s"),
        n as f64 * steps as f64 / elapsed / 1e6 // upper bound: devices stop after settle
    ));
    // The amplitude at which P_sw crosses 0.5 for each width (linear interpolation).
    for (iw, w) in widths.iter().enumerate() {
        let a50 = (1..amps.len()).find_map(|ia| {
            let (p0, p1) = (z[ia - 1][iw], z[ia][iw]);
            (p0 < 0.5 && p1 >= 0.5)
                .then(|| amps[ia - 1] + (0.5 - p0) / (p1 - p0) * (amps[ia] - amps[ia - 1]))
        });
        match a50 {
            Some(a) => rep.line(format!(
                "  width {}: P_sw = 0.5 at {a:.3} Ic0",
                eng(*w, "s")
            )),
            None => rep.line(format!(
                "  width {}: P_sw does not cross 0.5 in the amplitude range",
                eng(*w, "s")
            )),
        }
    }
    Ok(rep)
}

// ---------------------------------------------------------------------------------------
// Switching time vs current
// ---------------------------------------------------------------------------------------

/// Options of [`tsw`].
#[derive(Debug, Clone)]
pub struct TswOpts {
    /// Current range in units of Ic0.
    pub i_min: f64,
    pub i_max: f64,
    pub n_i: usize,
    pub trials: usize,
    /// Give up after this time (s); unswitched trials are counted as censored.
    pub t_max_s: f64,
    pub from_ap: bool,
    /// Attempt time of the Néel–Brown reference curve (s).
    pub tau0_s: f64,
}

/// Mean switching time (first crossing of m·p = 0) vs constant current, from the thermally
/// activated (I < Ic0) to the precessional regime (I > Ic0), with the analytic references.
pub fn tsw(p: &MtjParams, ctx: &Ctx, o: &TswOpts) -> Result<Report, String> {
    let mut rep = Report::default();
    let t = p.tamb_k;
    let s0 = state_sign(p, o.from_ap);
    let c0 = s0 * dot(p.mp, p.easy);
    let ic0 = ic0_a(p, t, s0);
    let sign = -c0.signum();
    let js = linspace(o.i_min, o.i_max, o.n_i);
    let trials = o.trials.max(1);
    let d = delta(p, t);
    let mut rows = Vec::new();
    let mut sim = Vec::new();
    let mut prec = Vec::new();
    let mut exact = Vec::new();
    let mut nb = Vec::new();
    let mut prec_th = Vec::new();
    // The precessional formulas are for the axially symmetric (perpendicular) macrospin.
    let sym = is_axially_symmetric(p);
    let started = Instant::now();
    let mut work = 0.0;
    for (k, &j) in js.iter().enumerate() {
        let i = sign * j * ic0;
        let dt = step_size(p, ctx, i, [0.0; 3]);
        let steps = (o.t_max_s / dt).ceil() as usize;
        let m0 = MacrospinState::along(p, s0, 0.02);
        let mut b = Batch::new(
            p.clone(),
            trials,
            ctx.seed.wrapping_add(k as u64 * 0x1000_0000),
            |_| m0,
        );
        let mut obs: Vec<FirstCross> = (0..trials)
            .map(|_| FirstCross {
                mp: p.mp,
                side: c0.signum(),
                t_sw: f64::NAN,
            })
            .collect();
        b.run(steps, dt, &|_, _| Drive::current(i), &mut obs);
        let times: Vec<f64> = obs
            .iter()
            .map(|o| o.t_sw)
            .filter(|x| x.is_finite())
            .collect();
        work += times.iter().sum::<f64>() / dt + (trials - times.len()) as f64 * steps as f64;
        let (m, sd) = mean_sd(&times);
        let mut sorted = times.clone();
        sorted.sort_by(f64::total_cmp);
        let median = if sorted.is_empty() {
            f64::NAN
        } else {
            sorted[sorted.len() / 2]
        };
        let f_prec = if j > 1.0 && sym {
            t_sw_precessional_s(p, t, j, 0.02)
        } else {
            f64::NAN
        };
        let f_exact = if j > 1.0 && sym {
            t_sw_macrospin_s(p, t, j, 0.02)
        } else {
            f64::NAN
        };
        // Sun's formula with the thermal initial angle θ0 = √(kT/(μ0 Ms Hk V)) = 1/√(2Δ).
        let f_thermal = if j > 1.0 && d > 1.0 && sym {
            t_sw_precessional_s(p, t, j, (0.5 / d).sqrt())
        } else {
            f64::NAN
        };
        let f_nb = if j < 1.0 {
            o.tau0_s * (d * (1.0 - j).powi(2)).exp()
        } else {
            f64::NAN
        };
        rows.push(vec![
            i,
            j,
            m,
            median,
            sd,
            times.len() as f64,
            trials as f64,
            f_prec,
            f_exact,
            f_nb,
            f_thermal,
        ]);
        if m.is_finite() {
            sim.push((j, m.log10()));
        }
        if f_prec.is_finite() {
            prec.push((j, f_prec.log10()));
            exact.push((j, f_exact.log10()));
        }
        if f_thermal.is_finite() {
            prec_th.push((j, f_thermal.log10()));
        }
        if f_nb.is_finite() {
            nb.push((j, f_nb.log10()));
        }
    }
    write_csv(
        &mut rep,
        ctx,
        "tsw.csv",
        &[
            "i_a",
            "i_over_ic0",
            "mean_tsw_s",
            "median_tsw_s",
            "sd_tsw_s",
            "switched",
            "trials",
            "formula_precessional_s",
            "macrospin_t0_s",
            "neel_brown_s",
            "formula_thermal_theta0_s",
        ],
        &rows,
    )?;
    let series: Series = vec![
        ("simulation (mean)".into(), sim),
        ("precessional formula, theta0 = 0.02".into(), prec),
        (
            "precessional formula, theta0 = 1/sqrt(2 Delta)".into(),
            prec_th,
        ),
        ("macrospin, T = 0".into(), exact),
        (
            format!("tau0 exp(Delta (1-I/Ic0)^2), tau0 = {}", eng(o.tau0_s, "s")),
            nb,
        ),
    ];
    chart(
        &mut rep,
        ctx,
        "tsw",
        &format!("Switching time vs current, {}", p.name),
        "I / Ic0",
        "log10 t_sw (s)",
        &series,
    );
    let elapsed = started.elapsed().as_secs_f64();
    rep.line(format!(
        "tsw: Ic0 = {}, Delta = {d:.2}, {} currents x {trials} trials, t_max = {}, {:.1} M device-steps/s",
        eng(ic0, "A"),
        js.len(),
        eng(o.t_max_s, "s"),
        work / elapsed / 1e6
    ));
    for r in &rows {
        rep.line(format!(
            "  I/Ic0 = {:.2}: mean t_sw = {} ({} of {} switched){}",
            r[1],
            if r[2].is_finite() {
                eng(r[2], "s")
            } else {
                "-".into()
            },
            r[5],
            r[6],
            if r[7].is_finite() {
                format!(
                    ", formula {} (theta0 = 0.02), {} (thermal theta0)",
                    eng(r[7], "s"),
                    eng(r[10], "s")
                )
            } else {
                String::new()
            }
        ));
    }
    Ok(rep)
}

// ---------------------------------------------------------------------------------------
// Heating
// ---------------------------------------------------------------------------------------

/// Options of [`heat_step`].
#[derive(Debug, Clone)]
pub struct HeatOpts {
    /// Pulse current in units of Ic0 (sign chosen to stabilise the initial state).
    pub amp: f64,
    /// Pulse width (s); `None` = 4 τ_th.
    pub width_s: Option<f64>,
    /// Time after the pulse (s); `None` = 4 τ_th.
    pub tail_s: Option<f64>,
    pub from_ap: bool,
    pub points: usize,
}

/// Temperature step response to a current pulse and its decay, vs the analytic
/// `tamb + P rth (1 − e^{−t/τ})` with P the Joule power at the start of the pulse.
pub fn heat_step(p: &MtjParams, ctx: &Ctx, o: &HeatOpts) -> Result<Report, String> {
    let mut rep = Report::default();
    let tau = match ThermalModel::of(p) {
        ThermalModel::Isothermal => {
            return Err(format!(
                "model {} is isothermal (rth = 0): nothing to heat",
                p.name
            ));
        }
        ThermalModel::Instant { .. } => 0.0,
        ThermalModel::Dynamic { tau_s, .. } => tau_s,
    };
    let t0 = p.tamb_k;
    let s0 = state_sign(p, o.from_ap);
    let c0 = s0 * dot(p.mp, p.easy);
    let i = c0.signum() * o.amp * ic0_a(p, t0, s0);
    let scale_t = if tau > 0.0 { tau } else { 1e-9 };
    let width = o.width_s.unwrap_or(4.0 * scale_t);
    let tail = o.tail_s.unwrap_or(4.0 * scale_t);
    let dt = step_size(p, ctx, i, [0.0; 3]).min(scale_t / 200.0);
    let steps = ((width + tail) / dt).ceil() as usize;
    let every = (steps / o.points.max(1)).max(1);
    let mut s = MacrospinState::along(p, s0, 0.0);
    let mut st = Stepper::new(p);
    let mut rng = <rand_xoshiro::Xoshiro256PlusPlus as rand::SeedableRng>::seed_from_u64(ctx.seed);
    let v_start = super::transport::voltage_for_current(p, c0, i, t0);
    let p0 = i * v_start;
    let rise = p0 * p.rth_k_per_w;
    let mut rows = Vec::new();
    let mut worst: f64 = 0.0;
    let analytic = |t: f64| -> f64 {
        if tau == 0.0 {
            return if t <= width { t0 + rise } else { t0 };
        }
        if t <= width {
            t0 + rise * (1.0 - (-t / tau).exp())
        } else {
            t0 + rise * (1.0 - (-width / tau).exp()) * (-(t - width) / tau).exp()
        }
    };
    for k in 0..steps {
        let tt = k as f64 * dt;
        let on = tt < width;
        let out = st.step(
            &mut s,
            &Drive::current(if on { i } else { 0.0 }),
            dt,
            &mut rng,
        );
        let t_end = tt + dt;
        let a = analytic(t_end);
        worst = worst.max((s.temp_k - a).abs());
        if k % every == 0 {
            rows.push(vec![
                t_end,
                if on { i } else { 0.0 },
                out.power_w,
                s.temp_k,
                a,
                dot(s.m, p.mp),
            ]);
        }
    }
    write_csv(
        &mut rep,
        ctx,
        "heat.csv",
        &["t_s", "i_a", "p_w", "temp_k", "temp_analytic_k", "m_dot_p"],
        &rows,
    )?;
    let sim: Vec<(f64, f64)> = rows.iter().map(|r| (r[0] * 1e9, r[3])).collect();
    let ana: Vec<(f64, f64)> = rows.iter().map(|r| (r[0] * 1e9, r[4])).collect();
    chart(
        &mut rep,
        ctx,
        "heat",
        &format!("Joule heating, {}", p.name),
        "t (ns)",
        "T (K)",
        &vec![("simulation".into(), sim), ("analytic".into(), ana)],
    );
    rep.line(format!(
        "heat: I = {}, P = {}, rth = {:.3e} K/W, tau_th = {}, dT_ss = {:.3} K",
        eng(i, "A"),
        eng(p0, "W"),
        p.rth_k_per_w,
        eng(tau, "s"),
        rise
    ));
    rep.line(format!(
        "max |T - T_analytic| = {worst:.3e} K ({:.2e} of the rise); Delta drops from {:.2} to {:.2} at the peak",
        worst / rise.max(1e-300),
        delta(p, t0),
        delta(p, t0 + rise * (1.0 - (-width / tau.max(1e-300)).exp()))
    ));
    Ok(rep)
}

// ---------------------------------------------------------------------------------------
// Retention / dwell time vs barrier
// ---------------------------------------------------------------------------------------

/// What is varied to set Δ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vary {
    Ku,
    Volume,
}

/// Options of [`retention`].
#[derive(Debug, Clone)]
pub struct RetentionOpts {
    pub delta_min: f64,
    pub delta_max: f64,
    pub n_delta: usize,
    pub vary: Vary,
    /// Devices per Δ.
    pub trials: usize,
    /// Complete dwells recorded per device.
    pub dwells: usize,
    /// Telegraph thresholds ±z_th on m·e.
    pub z_th: f64,
}

/// Records complete dwells of a hysteretic telegraph on `m·axis` (flip when crossing
/// `∓th`) and stops after `k_max` of them. Started exactly at the threshold, every dwell —
/// the first included — is a first passage from `+th` to `−th` (or back), so the mean of
/// complete dwells is an unbiased estimate of Brown's MFPT (no initial-transient bias, no
/// censoring bias from a fixed observation window).
struct Dwells {
    axis: V3,
    th: f64,
    state: f64,
    last_t: f64,
    sum: f64,
    n: usize,
    k_max: usize,
}

impl Observer for Dwells {
    #[inline]
    fn observe(&mut self, _: usize, t: f64, m: V3, _: f64) -> bool {
        if self.state * dot(m, self.axis) < -self.th {
            self.state = -self.state;
            self.sum += t - self.last_t;
            self.last_t = t;
            self.n += 1;
        }
        self.n < self.k_max
    }
}

/// A copy of the card with the barrier at tamb set to `target` by scaling Ku (at fixed
/// volume) or the free-layer area (at fixed H_k,eff).
pub fn with_delta(p: &MtjParams, target: f64, vary: Vary) -> Result<MtjParams, String> {
    let t = p.tamb_k;
    let mut q = p.clone();
    match vary {
        Vary::Ku => {
            // Δ is affine in ku at fixed T: Δ = A ku + B.
            let mut q0 = p.clone();
            q0.ku_j_per_m3 = 0.0;
            let b = delta(&q0, t);
            let mut q1 = p.clone();
            q1.ku_j_per_m3 = 1e6;
            let a = (delta(&q1, t) - b) / 1e6;
            q.ku_j_per_m3 = (target - b) / a;
            if q.ku_j_per_m3 < 0.0 {
                return Err(format!("Delta = {target} needs ku < 0 for this card"));
            }
        }
        Vary::Volume => {
            let d0 = delta(p, t);
            if d0 <= 0.0 {
                return Err("H_k,eff <= 0: cannot set Delta by volume".into());
            }
            q.area_m2 = p.area_m2 * target / d0;
            q.volume_m3 = q.area_m2 * q.tfl_m;
            q.diameter_m = 2.0 * (q.area_m2 / std::f64::consts::PI).sqrt();
        }
    }
    Ok(q)
}

/// Mean dwell time of a low-barrier device vs Δ, with Brown's exact mean first-passage time
/// for the axially symmetric macrospin as the reference. Each device starts at the
/// threshold `m·e = z_th` and runs until it has completed `dwells` dwells (capped at 20×
/// the expected time; censored devices are reported).
pub fn retention(p: &MtjParams, ctx: &Ctx, o: &RetentionOpts) -> Result<Report, String> {
    let mut rep = Report::default();
    let t = p.tamb_k;
    let deltas = linspace(o.delta_min, o.delta_max, o.n_delta);
    let trials = o.trials.max(1);
    let k_max = o.dwells.max(1);
    let axially_symmetric = is_axially_symmetric(p);
    let mut rows = Vec::new();
    let started = Instant::now();
    let mut work = 0.0;
    let theta_th = o.z_th.acos();
    for (k, &dv) in deltas.iter().enumerate() {
        let q = with_delta(p, dv, o.vary)?;
        let expect = brown_mfpt_s(delta(&q, t), tau_n_s(&q, t), o.z_th);
        let dt = ctx
            .dt_s
            .unwrap_or_else(|| recommended_dt_s(&q, t, 0.0, [0.0; 3]));
        let steps = (20.0 * k_max as f64 * expect / dt).ceil() as usize;
        let init = MacrospinState::along(&q, 1.0, theta_th);
        let mut b = Batch::new(
            q.clone(),
            trials,
            ctx.seed.wrapping_add(k as u64 * 0x1000_0000),
            |_| init,
        );
        let mut obs: Vec<Dwells> = (0..trials)
            .map(|_| Dwells {
                axis: q.easy,
                th: o.z_th,
                state: 1.0,
                last_t: 0.0,
                sum: 0.0,
                n: 0,
                k_max,
            })
            .collect();
        b.run(steps, dt, &|_, _| Drive::OFF, &mut obs);
        let n_dw: usize = obs.iter().map(|o| o.n).sum();
        let censored = obs.iter().filter(|o| o.n < k_max).count();
        work += obs
            .iter()
            .map(|o| {
                if o.n < k_max {
                    steps as f64
                } else {
                    o.last_t / dt
                }
            })
            .sum::<f64>();
        let tau = if n_dw > 0 {
            obs.iter().map(|o| o.sum).sum::<f64>() / n_dw as f64
        } else {
            f64::NAN
        };
        let sd = {
            // Per-device means are independent; their spread gives the standard error.
            let means: Vec<f64> = obs
                .iter()
                .filter(|o| o.n > 0)
                .map(|o| o.sum / o.n as f64)
                .collect();
            let (_, s) = mean_sd(&means);
            s / (means.len() as f64).sqrt()
        };
        let knob = match o.vary {
            Vary::Ku => q.ku_j_per_m3,
            Vary::Volume => q.diameter_m,
        };
        rows.push(vec![
            dv,
            knob,
            tau,
            sd,
            expect,
            n_dw as f64,
            censored as f64,
            tau_n_s(&q, t),
            dt,
        ]);
    }
    let knob = match o.vary {
        Vary::Ku => "ku_j_per_m3",
        Vary::Volume => "diameter_m",
    };
    write_csv(
        &mut rep,
        ctx,
        "retention.csv",
        &[
            "delta",
            knob,
            "mean_dwell_s",
            "se_s",
            "brown_mfpt_s",
            "dwells",
            "censored_devices",
            "tau_n_s",
            "dt_s",
        ],
        &rows,
    )?;
    let sim: Vec<(f64, f64)> = rows
        .iter()
        .filter(|r| r[2].is_finite())
        .map(|r| (r[0], r[2].ln()))
        .collect();
    let ana: Vec<(f64, f64)> = rows.iter().map(|r| (r[0], r[4].ln())).collect();
    chart(
        &mut rep,
        ctx,
        "retention",
        &format!("Dwell time vs Delta, {} (varying {knob})", p.name),
        "Delta",
        "ln(mean dwell time / s)",
        &vec![
            ("simulation".into(), sim.clone()),
            ("Brown MFPT (axially symmetric)".into(), ana.clone()),
        ],
    );
    let slope = |pts: &[(f64, f64)]| {
        let n = pts.len() as f64;
        let sx: f64 = pts.iter().map(|q| q.0).sum();
        let sy: f64 = pts.iter().map(|q| q.1).sum();
        let sxx: f64 = pts.iter().map(|q| q.0 * q.0).sum();
        let sxy: f64 = pts.iter().map(|q| q.0 * q.1).sum();
        (n * sxy - sx * sy) / (n * sxx - sx * sx)
    };
    let elapsed = started.elapsed().as_secs_f64();
    rep.line(format!(
        "retention: {} Delta values x {trials} devices x {k_max} dwells, thresholds +-{}, {:.1} M device-steps/s{}",
        deltas.len(),
        o.z_th,
        work / elapsed / 1e6,
        if axially_symmetric { "" } else { " (card not axially symmetric: Brown reference is indicative only)" }
    ));
    for r in &rows {
        rep.line(format!(
            "  Delta = {:.2}: mean dwell {} +- {} ({} dwells{}), Brown exact {}",
            r[0],
            eng(r[2], "s"),
            eng(r[3], "s"),
            r[5],
            if r[6] > 0.0 {
                format!(", {} devices censored", r[6])
            } else {
                String::new()
            },
            eng(r[4], "s")
        ));
    }
    if sim.len() >= 2 {
        rep.line(format!(
            "slope d ln(tau)/d Delta: simulation {:.3}, Brown exact {:.3} (not 1: the prefactor depends on Delta)",
            slope(&sim),
            slope(&ana)
        ));
    }
    Ok(rep)
}

// ---------------------------------------------------------------------------------------
// Throughput
// ---------------------------------------------------------------------------------------

/// Throughput of the stepping kernels.
#[derive(Debug, Clone, Copy)]
pub struct BenchResult {
    /// Single device, one thread (device-steps/s).
    pub single_steps_per_s: f64,
    /// Batch on the current rayon pool (device-steps/s).
    pub batch_steps_per_s: f64,
    pub threads: usize,
    pub devices: usize,
    pub steps: usize,
}

/// Time single-device stepping and a batch of `devices` devices for `steps` steps (noise as
/// on the card, dt = 1 ps, a constant current of 0.3 Ic0 so the spin-torque terms are
/// exercised).
pub fn bench(p: &MtjParams, devices: usize, steps: usize, seed: u64) -> BenchResult {
    let dt = 1e-12;
    let drive = Drive::current(0.3 * ic0_a(p, p.tamb_k, 1.0));
    let mut rng = <rand_xoshiro::Xoshiro256PlusPlus as rand::SeedableRng>::seed_from_u64(seed);
    let mut s = MacrospinState::along(p, 1.0, 0.02);
    let mut st = Stepper::new(p);
    let single_n = (steps * 20).max(100_000);
    let t = Instant::now();
    for _ in 0..single_n {
        st.step_fast(&mut s, &drive, dt, &mut rng);
    }
    let single = single_n as f64 / t.elapsed().as_secs_f64();
    std::hint::black_box(s);
    let mut b = Batch::new(p.clone(), devices, seed, |i| {
        MacrospinState::along(p, if i % 2 == 0 { 1.0 } else { -1.0 }, 0.02)
    });
    let t = Instant::now();
    b.run_uniform(steps, dt, drive);
    let batch = (devices * steps) as f64 / t.elapsed().as_secs_f64();
    std::hint::black_box(&b.mz);
    BenchResult {
        single_steps_per_s: single,
        batch_steps_per_s: batch,
        threads: rayon::current_num_threads(),
        devices,
        steps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triangle_sweep_shape() {
        assert_eq!(triangle(0.0, 4.0, 1.0), 0.0);
        assert_eq!(triangle(1.0, 4.0, 1.0), -1.0);
        assert_eq!(triangle(3.0, 4.0, 1.0), 1.0);
        assert_eq!(triangle(4.0, 4.0, 1.0), 0.0);
        assert_eq!(triangle(3.5, 4.0, 1.0), 0.5);
        assert_eq!(triangle(0.5, 4.0, 1.0), -0.5);
        assert_eq!(triangle(2.5, 4.0, 1.0), 0.5);
    }

    #[test]
    fn with_delta_hits_target() {
        let p = MtjParams::default();
        for vary in [Vary::Ku, Vary::Volume] {
            let q = with_delta(&p, 3.0, vary).unwrap();
            assert!((delta(&q, 300.0) - 3.0).abs() < 1e-9);
        }
    }
}
