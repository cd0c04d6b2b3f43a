//! Physical laws the MTJ device model must reproduce (PHYSICS.md "Analytic checks").
//! Each test states its tolerance and why. Long Monte Carlo versions are `#[ignore]`d
//! (run with `cargo test --release --test mtj_physics -- --ignored`); the default variants
//! are reduced but can still fail.

use std::collections::HashMap;

use mtjsim::circuit::Model;
use mtjsim::devices::mtj::analytic::{
    boltzmann_mz_bin_probs, brown_mfpt_s, larmor_frequency_hz, t_sw_macrospin_s,
    t_sw_precessional_s,
};
use mtjsim::devices::mtj::batch::{Batch, Observer};
use mtjsim::devices::mtj::constants::{GAMMA_MU0, K_B, MU0};
use mtjsim::devices::mtj::integrator::{Drive, MacrospinState, Stepper, recommended_dt_s};
use mtjsim::devices::mtj::params::{MtjParams, initial_m};
use mtjsim::devices::mtj::temperature::{
    delta, hk_eff_a_per_m, ic0_a, ku_j_per_m3, ms_a_per_m, relaxation_rate_per_s, tau_n_s, tmr,
};
use mtjsim::devices::mtj::vec3::{V3, dot, norm};
use mtjsim::devices::mtj::{energy_density, transport};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

fn card(kv: &[(&str, f64)]) -> MtjParams {
    let m = Model {
        name: "test".into(),
        kind: "mtj".into(),
        params: kv
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect::<HashMap<_, _>>(),
        string_params: HashMap::new(),
        span: Default::default(),
    };
    MtjParams::from_model(&m).unwrap()
}

fn rng(seed: u64) -> Xoshiro256PlusPlus {
    Xoshiro256PlusPlus::seed_from_u64(seed)
}

/// Ku giving thermal stability `delta` at 300 K for a perpendicular film of the default
/// geometry (Δ = μ0 Ms Hk,eff V / 2kT, Hk,eff = 2Ku/(μ0Ms) − Ms).
fn ku_for_delta(delta: f64, ms: f64, volume: f64) -> f64 {
    let hk_eff = 2.0 * delta * K_B * 300.0 / (MU0 * ms * volume);
    0.5 * MU0 * ms * (hk_eff + ms)
}

// ---------------------------------------------------------------------------------------
// 1. Larmor precession, energy and norm conservation
// ---------------------------------------------------------------------------------------

/// α = 0, no anisotropy or demag, H along z: m precesses counter-clockwise (ṁ = −γμ0 m×H)
/// at f = γμ0H/2π. Frequency from the first and last upward zero crossings of mx over 40
/// periods (200 RK4 steps per period; RK4 phase error ~ (ωdt)⁴/120 ≈ 3e-9 per radian,
/// linear interpolation of crossings ~ (ωdt)²/8 · (1/40 periods) ≈ 3e-6): assert 1e-4,
/// well inside PHYSICS.md's 0.5 %.
#[test]
fn larmor_frequency() {
    let h = 8e4;
    let p = card(&[
        ("alpha", 0.0),
        ("ku", 0.0),
        ("nz", 0.0),
        ("hz", h),
        ("noise", 0.0),
    ]);
    let f = larmor_frequency_hz(h);
    let dt = 1.0 / (200.0 * f);
    let mut s = MacrospinState {
        m: initial_m(p.easy_axis, 1.0, 0.7, 0.0),
        temp_k: 300.0,
    };
    let mut st = Stepper::new(&p);
    let mut r = rng(0);
    let mut crossings = Vec::new();
    let mut prev = s.m;
    for k in 0..(200 * 40 + 10) {
        st.step(&mut s, &Drive::OFF, dt, &mut r);
        if k == 0 {
            // counter-clockwise about +z: starting at +x, my grows positive.
            assert!(s.m[1] > 0.0, "precession sense wrong: {:?}", s.m);
        }
        if prev[0] < 0.0 && s.m[0] >= 0.0 {
            let frac = -prev[0] / (s.m[0] - prev[0]);
            crossings.push((k as f64 + frac) * dt);
        }
        prev = s.m;
    }
    let n = crossings.len() - 1;
    let f_sim = n as f64 / (crossings[n] - crossings[0]);
    eprintln!("Larmor: f_sim/f - 1 = {:.2e}", f_sim / f - 1.0);
    assert!((f_sim / f - 1.0).abs() < 1e-4, "f_sim {f_sim} vs {f}");
    // RK4 shrinks the precessing component by (ωdt)⁶/144 ≈ 7e-12 per step; after projection
    // that moves m_z by ~ sinθ cosθ · 8000 · 7e-12 ≈ 3e-8.
    assert!(
        (s.m[2] - 0.7f64.cos()).abs() < 1e-7,
        "mz not conserved: {}",
        s.m[2]
    );
}

/// α = 0, perpendicular anisotropy + demag + an oblique field, 10⁶ RK4 steps at ~190 steps
/// per precession period (ωdt ≈ 0.033): |m| − 1 < 1e-9 (projection) and the energy, a
/// conserved quantity of the α = 0 flow, drifts < 1e-4 relative. RK4's dissipative error is
/// (ωdt)⁶/144 per step ≈ 1e-11, ≈ 1e-5 after 10⁶ steps. (At the default ωdt = 0.1 it would
/// be 7e-9 per step, 7e-3 after 10⁶ steps: an effective extra damping of 7e-7/α relative,
/// irrelevant for α ≥ 1e-3, but not "conservation".)
#[test]
fn alpha_zero_conserves_energy_and_norm() {
    let p = card(&[("alpha", 0.0), ("noise", 0.0), ("hx", 3e4), ("hz", 1e4)]);
    let m0 = initial_m(p.easy_axis, 1.0, 0.6, 0.3);
    let e0 = energy_density(&p, 300.0, m0, [0.0; 3]);
    let dt = recommended_dt_s(&p, 300.0, 0.0, [0.0; 3]) / 3.0;
    let mut s = MacrospinState {
        m: m0,
        temp_k: 300.0,
    };
    let mut st = Stepper::new(&p);
    let mut r = rng(0);
    let mut worst_norm: f64 = 0.0;
    for _ in 0..1_000_000 {
        st.step_fast(&mut s, &Drive::OFF, dt, &mut r);
        worst_norm = worst_norm.max((norm(s.m) - 1.0).abs());
    }
    let e1 = energy_density(&p, 300.0, s.m, [0.0; 3]);
    eprintln!(
        "alpha = 0: max ||m| - 1| = {worst_norm:.1e}, energy drift {:.2e}",
        (e1 - e0) / e0
    );
    assert!(worst_norm < 1e-9, "|m| drift {worst_norm}");
    assert!(
        ((e1 - e0) / e0).abs() < 1e-4,
        "energy drift {} (E0 {e0})",
        (e1 - e0) / e0
    );
}

// ---------------------------------------------------------------------------------------
// 2. Damped relaxation
// ---------------------------------------------------------------------------------------

/// Small tilt relaxes as θ ∝ exp(−t/τ), 1/τ = αγμ0Hk,eff/(1+α²). Fit of ln θ over θ from
/// 0.02 down to 0.002: the nonlinear correction of the stiffness is O(θ²) ≈ 4e-4 and RK4 is
/// exact to 1e-8 here, so we assert 0.3 % — tighter than PHYSICS.md's 2 % and tight enough to
/// see the (1+α²) factor (1 % at α = 0.1).
#[test]
fn damped_relaxation_rate() {
    for alpha in [0.01, 0.1] {
        let p = card(&[("alpha", alpha), ("noise", 0.0)]);
        let rate = relaxation_rate_per_s(&p, 300.0);
        let expect = alpha * GAMMA_MU0 * hk_eff_a_per_m(&p, 300.0) / (1.0 + alpha * alpha);
        assert!((rate / expect - 1.0).abs() < 1e-12);
        let dt = recommended_dt_s(&p, 300.0, 0.0, [0.0; 3]);
        let mut s = MacrospinState {
            m: initial_m(p.easy_axis, 1.0, 0.02, 0.0),
            temp_k: 300.0,
        };
        let mut st = Stepper::new(&p);
        let mut r = rng(0);
        let (mut sx, mut sy, mut sxx, mut sxy, mut n) = (0.0, 0.0, 0.0, 0.0, 0.0);
        let mut t = 0.0;
        loop {
            st.step(&mut s, &Drive::OFF, dt, &mut r);
            t += dt;
            let theta = s.m[2].clamp(-1.0, 1.0).acos();
            if theta < 0.002 {
                break;
            }
            let y = theta.ln();
            sx += t;
            sy += y;
            sxx += t * t;
            sxy += t * y;
            n += 1.0;
        }
        let slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
        eprintln!(
            "relaxation alpha = {alpha}: rate/expected - 1 = {:.2e}",
            -slope / expect - 1.0
        );
        assert!(
            (-slope / expect - 1.0).abs() < 3e-3,
            "alpha {alpha}: rate {} vs {expect}",
            -slope
        );
    }
}

// ---------------------------------------------------------------------------------------
// 3–4. Critical current and precessional switching time (T = 0: noise off)
// ---------------------------------------------------------------------------------------

/// Run from `state` (±1) with current `i` until m·p crosses 0 or `t_max`; returns the
/// crossing time (linear interpolation) or None.
fn time_to_cross(
    p: &MtjParams,
    state: f64,
    theta0: f64,
    current_a: f64,
    t_max: f64,
) -> Option<f64> {
    let dt = recommended_dt_s(p, 300.0, current_a, [0.0; 3]).min(2e-12);
    let mut s = MacrospinState {
        m: initial_m(p.easy_axis, state, theta0, 0.0),
        temp_k: 300.0,
    };
    let mut st = Stepper::new(p);
    let mut r = rng(0);
    let mut t = 0.0;
    let mut prev = dot(s.m, p.mp);
    while t < t_max {
        st.step_fast(&mut s, &Drive::current(current_a), dt, &mut r);
        t += dt;
        let c = dot(s.m, p.mp);
        if prev * c <= 0.0 {
            return Some(t - dt + dt * prev / (prev - c));
        }
        prev = c;
    }
    None
}

/// PHYSICS.md check 3. At 0.95 Ic0 the state is stable: no switching in 50 ns (we check
/// 400 ns). At 1.05 Ic0 it switches; the exact macrospin time from θ0 = 0.02 is
/// τ_D ∫₀^{cos θ0} du/((1−u²)(j−u)) ≈ 56 τ_D, with τ_D = (1+α²)/(αγμ0Hk,eff) = 1.3 ns for the
/// default card (Hk,eff = 3.47e5 A/m): 73 ns. (For pmtj_mem, Hk,eff = 1.65e5 A/m, it is
/// 150 ns; near threshold t ∝ 1/(j − 1).) Hence the 400 ns window. Both directions (AP→P
/// with positive current, P→AP with negative). The time at 1.05 must match the exact
/// macrospin value within 0.5 % (observed 1e-4: RK4 at ωdt ≤ 0.1 plus interpolated
/// crossing); since t ∝ 1/(j − 1) this pins Jc0 to 0.03 %.
#[test]
fn critical_current_threshold() {
    let p = card(&[("noise", 0.0)]);
    for state in [-1.0, 1.0] {
        let ic0 = ic0_a(&p, 300.0, state);
        let sign = -state; // current that pushes away from `state`
        assert!(
            time_to_cross(&p, state, 0.02, sign * 0.95 * ic0, 400e-9).is_none(),
            "switched at 0.95 Ic0"
        );
        let t = time_to_cross(&p, state, 0.02, sign * 1.05 * ic0, 400e-9)
            .expect("no switching at 1.05 Ic0");
        let exact = t_sw_macrospin_s(&p, 300.0, 1.05, 0.02);
        eprintln!(
            "Jc0 (state {state}): t_sw(1.05 Ic0) = {t:.4e} s, exact {exact:.4e} s, ratio - 1 = {:.2e}",
            t / exact - 1.0
        );
        assert!(
            (t / exact - 1.0).abs() < 5e-3,
            "t_sw(1.05) {t} vs exact {exact}"
        );
    }
}

/// PHYSICS.md check 4: t_sw vs J/Jc0 in the precessional regime. The formula linearises
/// the growth up to π/2; the exact macrospin integral (analytic::t_sw_macrospin_s) is
/// 10.9 % below it at J/Jc0 = 1.5, 5 % at 2, 2 % at 5. So: simulation vs exact macrospin
/// within 1e-3 for all J (integrator check; observed ≤ 1.3e-5), and vs the formula within
/// 10 % for J/Jc0 ∈
/// [1.6, 5], within 12 % at 1.5 (the formula's own error there).
#[test]
fn precessional_switching_time() {
    let p = card(&[("noise", 0.0)]);
    let ic0 = ic0_a(&p, 300.0, -1.0);
    for j in [1.5, 1.6, 2.0, 3.0, 4.0, 5.0] {
        let t = time_to_cross(&p, -1.0, 0.02, j * ic0, 100e-9).unwrap();
        let exact = t_sw_macrospin_s(&p, 300.0, j, 0.02);
        let formula = t_sw_precessional_s(&p, 300.0, j, 0.02);
        eprintln!(
            "t_sw J/Jc0 = {j}: sim {t:.4e} s, vs exact macrospin {:+.2e}, vs formula {:+.3}",
            t / exact - 1.0,
            t / formula - 1.0
        );
        assert!(
            (t / exact - 1.0).abs() < 1e-3,
            "j {j}: {t} vs exact {exact}"
        );
        let tol = if j < 1.55 { 0.12 } else { 0.10 };
        assert!(
            (t / formula - 1.0).abs() < tol,
            "j {j}: {t} vs formula {formula}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// 5. Boltzmann equilibrium of m_z
// ---------------------------------------------------------------------------------------

/// Samples m from the Boltzmann density ∝ exp(Δ m_z²) (uniform measure in m_z, uniform φ)
/// by rejection.
fn boltzmann_sample(delta: f64, r: &mut impl Rng) -> V3 {
    loop {
        let z: f64 = r.random_range(-1.0..1.0);
        if r.random::<f64>() < (delta * (z * z - 1.0)).exp() {
            let phi: f64 = r.random_range(0.0..std::f64::consts::TAU);
            let s = (1.0 - z * z).sqrt();
            return [s * phi.cos(), s * phi.sin(), z];
        }
    }
}

/// Start `n` devices in the Boltzmann distribution, evolve them with thermal noise for a
/// few intra-well relaxation times, and test that the distribution is stationary. A wrong
/// noise amplitude, an Itô-type drift or a wrong Δ relaxes the m_z histogram towards a
/// different density within one relaxation time. Returns (chi², <m_z²>, its standard
/// error, exact <m_z²>).
fn boltzmann_run(n: usize, n_relax: f64, seed: u64) -> (f64, f64, f64, f64) {
    let d = 3.0;
    let ms = 1.1e6;
    let v = std::f64::consts::PI * 4e-16 * 1.3e-9;
    // α = 0.2 shortens the relaxation time (Boltzmann does not depend on α).
    let p = card(&[("ku", ku_for_delta(d, ms, v)), ("alpha", 0.2)]);
    assert!((delta(&p, 300.0) / d - 1.0).abs() < 1e-9);
    let dt = recommended_dt_s(&p, 300.0, 0.0, [0.0; 3]);
    let t_relax = 1.0 / relaxation_rate_per_s(&p, 300.0);
    let steps = (n_relax * t_relax / dt).ceil() as usize;
    let mut r0 = rng(seed ^ 0xB01);
    let init: Vec<V3> = (0..n).map(|_| boltzmann_sample(d, &mut r0)).collect();
    let mut b = Batch::new(p.clone(), n, seed, |i| MacrospinState {
        m: init[i],
        temp_k: 300.0,
    });
    b.run_uniform(steps, dt, Drive::OFF);
    let nb = 20;
    let edges: Vec<f64> = (0..=nb)
        .map(|k| -1.0 + 2.0 * k as f64 / nb as f64)
        .collect();
    let probs = boltzmann_mz_bin_probs(d, &edges);
    let mut counts = vec![0usize; nb];
    for &z in &b.mz {
        counts[(((z + 1.0) / 2.0 * nb as f64) as usize).min(nb - 1)] += 1;
    }
    let chi2: f64 = counts
        .iter()
        .zip(&probs)
        .map(|(&c, &pr)| {
            let e = pr * n as f64;
            (c as f64 - e).powi(2) / e
        })
        .sum();
    let z2: Vec<f64> = b.mz.iter().map(|z| z * z).collect();
    let mean = z2.iter().sum::<f64>() / n as f64;
    let var = z2.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let w = |u: f64| (d * u * u).exp();
    let exact = mtjsim::devices::mtj::analytic::simpson(|u| u * u * w(u), -1.0, 1.0, 20_000)
        / mtjsim::devices::mtj::analytic::simpson(w, -1.0, 1.0, 20_000);
    (chi2, mean, (var / n as f64).sqrt(), exact)
}

/// χ² critical value for 19 degrees of freedom (20 bins, no fitted parameter) at
/// p = 0.001: 43.82. A correct sampler fails this with probability 0.1 %; the seed is
/// fixed so the test is deterministic. <m_z²> is checked within 4 standard errors.
const CHI2_19_P001: f64 = 43.82;

#[test]
fn boltzmann_equilibrium_reduced() {
    let (chi2, mean, se, exact) = boltzmann_run(4000, 3.0, 11);
    eprintln!(
        "chi2 {chi2:.2} (crit {CHI2_19_P001}), <mz²> {mean:.5} ± {se:.5} vs exact {exact:.5}"
    );
    assert!(chi2 < CHI2_19_P001, "chi2 {chi2}");
    assert!(
        (mean - exact).abs() < 4.0 * se,
        "<mz²> {mean} ± {se} vs {exact}"
    );
}

#[test]
#[ignore]
fn boltzmann_equilibrium_long() {
    let (chi2, mean, se, exact) = boltzmann_run(100_000, 6.0, 12);
    eprintln!(
        "chi2 {chi2:.2} (crit {CHI2_19_P001}), <mz²> {mean:.5} ± {se:.5} vs exact {exact:.5}"
    );
    assert!(chi2 < CHI2_19_P001, "chi2 {chi2}");
    assert!(
        (mean - exact).abs() < 4.0 * se,
        "<mz²> {mean} ± {se} vs {exact}"
    );
}

// ---------------------------------------------------------------------------------------
// 6. Néel–Brown: dwell times of a low-barrier device
// ---------------------------------------------------------------------------------------

/// Hysteretic telegraph on m_z (flip when crossing ∓z_th) that records complete dwells
/// and stops after `k_max`. Devices start exactly at m_z = z_th, so every dwell (the first
/// included) is a first passage from +z_th to −z_th or back: no initial-transient bias.
struct Dwell {
    z_th: f64,
    state: f64,
    last_t: f64,
    sum: f64,
    n: usize,
    k_max: usize,
}

impl Observer for Dwell {
    #[inline]
    fn observe(&mut self, _: usize, t: f64, m: V3, _: f64) -> bool {
        if self.state * m[2] < -self.z_th {
            self.state = -self.state;
            self.sum += t - self.last_t;
            self.last_t = t;
            self.n += 1;
        }
        self.n < self.k_max
    }
}

/// Mean dwell time (s) at thermal stability `d` (Ku varied, volume fixed) from `n` devices
/// × `k` complete dwells; returns (mean, exact Brown MFPT, number of dwells).
fn dwell_time(d: f64, n: usize, k: usize, seed: u64) -> (f64, f64, usize) {
    let ms = 1.1e6;
    let v = std::f64::consts::PI * 4e-16 * 1.3e-9;
    // α = 1 minimises τ_N = (1+α²) Ms V/(2αγkT); the MFPT in units of τ_N depends only on Δ.
    let p = card(&[("ku", ku_for_delta(d, ms, v)), ("alpha", 1.0)]);
    let z_th = 0.5;
    let exact = brown_mfpt_s(delta(&p, 300.0), tau_n_s(&p, 300.0), z_th);
    let dt = recommended_dt_s(&p, 300.0, 0.0, [0.0; 3]);
    let steps = (30.0 * k as f64 * exact / dt).ceil() as usize;
    let m0 = initial_m(p.easy_axis, 1.0, z_th.acos(), 0.0);
    let mut b = Batch::new(p.clone(), n, seed, |_| MacrospinState {
        m: m0,
        temp_k: 300.0,
    });
    let mut obs: Vec<Dwell> = (0..n)
        .map(|_| Dwell {
            z_th,
            state: 1.0,
            last_t: 0.0,
            sum: 0.0,
            n: 0,
            k_max: k,
        })
        .collect();
    b.run(steps, dt, &|_, _| Drive::OFF, &mut obs);
    let n_dw: usize = obs.iter().map(|o| o.n).sum();
    let total: f64 = obs.iter().map(|o| o.sum).sum();
    (total / n_dw as f64, exact, n_dw)
}

/// PHYSICS.md check 6. Mean dwell time vs the exact Brown MFPT for the axially symmetric
/// macrospin within 4 standard errors (≤ 1/√dwells: the dwell distribution is at most as
/// broad as an exponential) + 3 % (the crossing is only checked at the end of each step, so
/// short excursions across the threshold are missed: this delays detection by
/// ~0.58·(rms step in z) ≈ 0.01 in z, +2 % at Δ = 2 and less at higher Δ), and
/// the slope of ln τ vs Δ within 10 % of the exact slope. Note: the exact slope is not 1
/// at these low barriers because the prefactor depends on Δ: with Ku varied at fixed V,
/// τ ∝ Δ^{-3/2} e^Δ asymptotically, and the exact d ln τ/dΔ over [2, 6] is ≈ 0.62 (≈ 0.90
/// when V is varied at fixed H_k). What is Arrhenius-linear with unit slope is ln(τ/τ_pre).
/// (Δ, ln τ simulated, ln τ exact, relative standard error of τ).
type Point = (f64, f64, f64, f64);

fn neel_brown(deltas: &[f64], n: usize, dwells: usize) {
    let mut pts = Vec::new();
    for (k, &d) in deltas.iter().enumerate() {
        let (tau, exact, sw) = dwell_time(d, n, dwells, 100 + k as u64);
        let se = 1.0 / (sw as f64).sqrt();
        eprintln!(
            "Δ {d}: mean dwell {tau:.4e} s, exact Brown MFPT {exact:.4e} s, ratio {:.4}, {sw} dwells",
            tau / exact
        );
        assert!(
            (tau / exact - 1.0).abs() < 4.0 * se + 0.03,
            "Δ {d}: τ {tau} vs exact {exact} ({sw} dwells)"
        );
        pts.push((d, tau.ln(), exact.ln(), se));
    }
    let slope = |f: &dyn Fn(&Point) -> f64| {
        let n = pts.len() as f64;
        let sx: f64 = pts.iter().map(|q| q.0).sum();
        let sy: f64 = pts.iter().map(f).sum();
        let sxx: f64 = pts.iter().map(|q| q.0 * q.0).sum();
        let sxy: f64 = pts.iter().map(|q| q.0 * f(q)).sum();
        (n * sxy - sx * sy) / (n * sxx - sx * sx)
    };
    let s_sim = slope(&|q| q.1);
    let s_exact = slope(&|q| q.2);
    // Standard error of the least-squares slope from the per-point errors of ln τ.
    let xm = pts.iter().map(|q| q.0).sum::<f64>() / pts.len() as f64;
    let sxx: f64 = pts.iter().map(|q| (q.0 - xm).powi(2)).sum();
    let s_se = (pts
        .iter()
        .map(|q| (q.0 - xm).powi(2) * q.3 * q.3)
        .sum::<f64>())
    .sqrt()
        / sxx;
    eprintln!("slope d ln τ/dΔ: simulated {s_sim:.4} ± {s_se:.4}, exact {s_exact:.4}");
    // 10 % of the exact slope, or 3 standard errors if the sample is too small for that.
    let tol = (0.10 * s_exact).max(3.0 * s_se);
    assert!(
        (s_sim - s_exact).abs() < tol,
        "slope {s_sim} ± {s_se} vs exact {s_exact}"
    );
}

#[test]
fn neel_brown_dwell_reduced() {
    neel_brown(&[2.0, 3.0, 4.0], 256, 3);
}

#[test]
#[ignore]
fn neel_brown_dwell_long() {
    neel_brown(&[2.0, 3.0, 4.0, 5.0, 6.0], 2000, 5);
}

// ---------------------------------------------------------------------------------------
// 7. Joule heating
// ---------------------------------------------------------------------------------------

/// T(t) = tamb + P rth (1 − e^{−t/τ}) during a current step and e^{−t/τ} decay after it.
/// The device sits exactly in P (θ0 = 0) under a current that stabilises P, so P = I²/G_P is
/// constant and the exponential update is exact: assert 1e-3 relative to the rise (the
/// PHYSICS.md bound); the observed error is rounding, ~1e-12.
#[test]
fn heat_step_response() {
    let (rth, cth) = (4e5, 5e-14);
    let tau = rth * cth;
    for noise in [0.0, 1.0] {
        let p = card(&[("rth", rth), ("cth", cth), ("noise", noise)]);
        let i = 60e-6;
        let pw = i * i / p.g_p_s();
        let rise = pw * rth;
        let mut s = MacrospinState {
            m: [0.0, 0.0, 1.0],
            temp_k: 300.0,
        };
        let mut st = Stepper::new(&p);
        let mut r = rng(1);
        let dt = 1e-12;
        let n_on = (3.0 * tau / dt) as usize;
        let mut worst: f64 = 0.0;
        for k in 1..=2 * n_on {
            let on = k <= n_on;
            let out = st.step(
                &mut s,
                &Drive::current(if on { i } else { 0.0 }),
                dt,
                &mut r,
            );
            let t = k as f64 * dt;
            let expect = if on {
                300.0 + rise * (1.0 - (-t / tau).exp())
            } else {
                let t_off = n_on as f64 * dt;
                300.0 + rise * (1.0 - (-t_off / tau).exp()) * (-(t - t_off) / tau).exp()
            };
            if noise == 0.0 {
                assert!((out.power_w - if on { pw } else { 0.0 }).abs() < 1e-12 * pw);
            }
            worst = worst.max((s.temp_k - expect).abs() / rise);
        }
        // With noise, m fluctuates about P by θ_rms = 1/√Δ ≈ 0.1 rad (Δ ≈ 95 for the default
        // card), changing G, hence P, by ≈ θ²/4 · (1 − G_AP/G_P) ≈ 1.5e-3: compare at 5e-3.
        let tol = if noise == 0.0 { 1e-3 } else { 5e-3 };
        eprintln!("heat step (noise {noise}): max |T - analytic| / rise = {worst:.2e}");
        assert!(worst < tol, "noise {noise}: worst {worst}");
    }
    // Instant thermal node (cth = 0) and isothermal (rth = 0).
    let p = card(&[("rth", rth), ("noise", 0.0)]);
    let mut s = MacrospinState {
        m: [0.0, 0.0, 1.0],
        temp_k: 300.0,
    };
    let mut st = Stepper::new(&p);
    st.step(&mut s, &Drive::current(50e-6), 1e-12, &mut rng(0));
    assert!((s.temp_k - 300.0 - 50e-6 * 50e-6 / p.g_p_s() * rth).abs() < 1e-9);
    let p = card(&[("noise", 0.0)]);
    let mut s = MacrospinState {
        m: [0.0, 0.0, 1.0],
        temp_k: 300.0,
    };
    Stepper::new(&p).step(&mut s, &Drive::current(50e-6), 1e-12, &mut rng(0));
    assert_eq!(s.temp_k, 300.0);
}

// ---------------------------------------------------------------------------------------
// 8. Temperature laws and TMR(V)
// ---------------------------------------------------------------------------------------

/// Bloch law normalised at tref, Callen–Callen Ku ∝ Ms^kexp, Δ(T) computed from them, at
/// several temperatures (exact formulas: 1e-12).
#[test]
fn bloch_and_anisotropy_scaling() {
    let p = card(&[("tc", 900.0), ("kexp", 2.5), ("tref", 300.0)]);
    let bloch = |t: f64| 1.0 - (t / 900.0f64).powf(1.5);
    for t in [50.0, 150.0, 300.0, 450.0, 600.0, 800.0] {
        let r = bloch(t) / bloch(300.0);
        assert!((ms_a_per_m(&p, t) / (p.ms_a_per_m * r) - 1.0).abs() < 1e-12);
        assert!((ku_j_per_m3(&p, t) / (p.ku_j_per_m3 * r.powf(2.5)) - 1.0).abs() < 1e-12);
        let ms = p.ms_a_per_m * r;
        let hk_eff = 2.0 * p.ku_j_per_m3 * r.powf(2.5) / (MU0 * ms) - ms;
        let d = MU0 * ms * hk_eff * p.volume_m3 / (2.0 * K_B * t);
        assert!((delta(&p, t) / d - 1.0).abs() < 1e-12);
    }
    // Δ, Hk,eff and Ic0 all fall with T.
    assert!(delta(&p, 400.0) < delta(&p, 300.0) && ic0_a(&p, 400.0, 1.0) < ic0_a(&p, 300.0, 1.0));
}

/// TMR(V) halves at vh and falls linearly with T by ttmr; R_AP follows.
#[test]
fn tmr_bias_and_temperature() {
    let p = card(&[("tmr0", 1.2), ("vh", 0.4), ("ttmr", 1e-3)]);
    assert!((tmr(&p, 0.4, 300.0) - 0.6).abs() < 1e-15);
    assert!((tmr(&p, -0.4, 300.0) - 0.6).abs() < 1e-15);
    assert!((tmr(&p, 0.0, 400.0) - 1.2 * 0.9).abs() < 1e-14);
    let r_ap = transport::resistance_ohm(&p, -1.0, 0.4, 300.0);
    assert!((r_ap * p.g_p_s() - 1.6).abs() < 1e-12);
}

// ---------------------------------------------------------------------------------------
// Reproducibility
// ---------------------------------------------------------------------------------------

/// Same seed ⇒ bit-identical trajectory, also with voltage drive and a thermal node (the
/// temperature feeds back into the noise amplitude and Ms every step).
#[test]
fn same_seed_is_bit_identical() {
    let p = card(&[("rth", 3e5), ("cth", 3e-14)]);
    let run = |seed: u64| {
        let mut s = MacrospinState::along(&p, -1.0, 0.02);
        let mut st = Stepper::new(&p);
        let mut r = rng(seed);
        let mut trace = Vec::new();
        for k in 0..20_000 {
            let v = if k < 10_000 { 0.6 } else { 0.0 };
            st.step(&mut s, &Drive::voltage(v), 1e-12, &mut r);
            trace.push((
                s.m[0].to_bits(),
                s.m[1].to_bits(),
                s.m[2].to_bits(),
                s.temp_k.to_bits(),
            ));
        }
        trace
    };
    assert_eq!(run(5), run(5));
    assert_ne!(run(5), run(6));
}

/// The batch gives bit-identical results on 1, 2 and 4 threads.
#[test]
fn batch_independent_of_thread_count() {
    let p = card(&[("rth", 3e5), ("cth", 3e-14)]);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let mut b = Batch::new(p.clone(), 333, 9, |i| {
                MacrospinState::along(&p, if i % 3 == 0 { 1.0 } else { -1.0 }, 0.02)
            });
            b.run(
                500,
                1e-12,
                &|i, _| Drive::voltage(0.2 + 1e-3 * i as f64),
                &mut [(); 333],
            );
            (b.mx, b.my, b.mz, b.temp_k)
        })
    };
    let one = run(1);
    assert_eq!(one, run(2));
    assert_eq!(one, run(4));
}
