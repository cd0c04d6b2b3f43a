//! Temperature laws and the derived device figures of merit: Ms(T) (Bloch), Ku(T)
//! (Callen–Callen), TMR(V, T), H_k,eff(T), Δ(T), Jc0(T), Ic0(T).
//!
//! Everything here is a pure function of the card and a temperature (and bias), so the
//! integrator, the circuit element and the experiments agree on every number.

use super::constants::{E_CHARGE, GAMMA_MU0, HBAR, K_B, MU0};
use super::params::MtjParams;
use super::vec3::dot;

/// Lowest Ms(T)/Ms(tref) used by the dynamics. The Bloch law reaches zero at tc where the
/// macrospin picture (and 1/Ms in a_J and the Brown field) breaks down; clamping keeps a run
/// that overheats finite instead of producing NaN. Physically such a run is meaningless.
pub const MS_RATIO_FLOOR: f64 = 1e-3;

/// Ms(T)/Ms(tref) from the Bloch law normalised at `tref`:
/// `(1 − (T/tc)^1.5) / (1 − (tref/tc)^1.5)`, clamped to ≥ [`MS_RATIO_FLOOR`].
#[inline]
pub fn ms_ratio(p: &MtjParams, temp_k: f64) -> f64 {
    let x = (temp_k / p.tc_k).max(0.0);
    let y = p.tref_k / p.tc_k;
    ((1.0 - x * x.sqrt()) / (1.0 - y * y.sqrt())).max(MS_RATIO_FLOOR)
}

/// Saturation magnetization at `temp_k` (A/m).
#[inline]
pub fn ms_a_per_m(p: &MtjParams, temp_k: f64) -> f64 {
    p.ms_a_per_m * ms_ratio(p, temp_k)
}

/// `r^kexp` with the common integer exponents done by multiplication (this sits in the
/// per-step path of thermally coupled devices).
#[inline]
pub fn pow_kexp(r: f64, kexp: f64) -> f64 {
    if kexp == 2.0 {
        r * r
    } else if kexp == 3.0 {
        r * r * r
    } else if kexp == 1.0 {
        r
    } else {
        r.powf(kexp)
    }
}

/// Anisotropy energy density `ku (Ms(T)/Ms(tref))^kexp` (J/m³).
#[inline]
pub fn ku_j_per_m3(p: &MtjParams, temp_k: f64) -> f64 {
    p.ku_j_per_m3 * pow_kexp(ms_ratio(p, temp_k), p.kexp)
}

/// Bare uniaxial anisotropy field `2 Ku(T) / (μ0 Ms(T))` (A/m), without demagnetization.
#[inline]
pub fn hk_a_per_m(p: &MtjParams, temp_k: f64) -> f64 {
    2.0 * ku_j_per_m3(p, temp_k) / (MU0 * ms_a_per_m(p, temp_k))
}

/// The two transverse stiffness fields at the easy-axis minimum (A/m), for the two
/// coordinate axes `j ⊥ e` in the order of [`super::params::Axis::frame`] (`u`, `v`):
/// `h_j = 2Ku/(μ0Ms) + Ms (N_j − N_e)`. They are the curvatures of the energy around
/// `m = ±e` in field units: `E/V ≈ const + (μ0 Ms/2) Σ_j h_j m_j²`.
pub fn stiffness_a_per_m(p: &MtjParams, temp_k: f64) -> [f64; 2] {
    let ms = ms_a_per_m(p, temp_k);
    let hk = hk_a_per_m(p, temp_k);
    let (e, u, v) = p.easy_axis.frame();
    let ne = dot(p.demag, e);
    [
        hk + ms * (dot(p.demag, u) - ne),
        hk + ms * (dot(p.demag, v) - ne),
    ]
}

/// Effective anisotropy field `H_k,eff` (A/m) that sets the barrier: the smaller transverse
/// stiffness (the saddle is along the softer hard direction). For a perpendicular thin film
/// (N = (0,0,1), e = z) this is `2Ku/(μ0Ms) − Ms`, as in PHYSICS.md.
pub fn hk_eff_a_per_m(p: &MtjParams, temp_k: f64) -> f64 {
    let [h1, h2] = stiffness_a_per_m(p, temp_k);
    h1.min(h2)
}

/// Energy barrier `μ0 Ms(T) H_k,eff(T) V / 2` (J) at zero field and current.
pub fn barrier_j(p: &MtjParams, temp_k: f64) -> f64 {
    0.5 * MU0 * ms_a_per_m(p, temp_k) * hk_eff_a_per_m(p, temp_k) * p.volume_m3
}

/// Thermal stability `Δ(T) = E_b(T) / (k_B T)`.
pub fn delta(p: &MtjParams, temp_k: f64) -> f64 {
    barrier_j(p, temp_k) / (K_B * temp_k)
}

/// TMR(V, T) = tmr0 (1 − ttmr (T − tref)) / (1 + V²/vh²), clamped at ≥ 0 (a large `ttmr`
/// extrapolated far would otherwise give negative TMR).
#[inline]
pub fn tmr(p: &MtjParams, voltage_v: f64, temp_k: f64) -> f64 {
    let x = voltage_v / p.vh_v;
    (p.tmr0 * (1.0 - p.ttmr_per_k * (temp_k - p.tref_k))).max(0.0) / (1.0 + x * x)
}

/// Slonczewski efficiency `η(m·p) = PΛ² / ((Λ²+1) + (Λ²−1) m·p)`.
#[inline]
pub fn eta(p: &MtjParams, m_dot_p: f64) -> f64 {
    let l2 = p.lambda * p.lambda;
    p.pol * l2 / ((l2 + 1.0) + (l2 - 1.0) * m_dot_p)
}

/// Spin-torque field per ampere at efficiency 1: `a_J = stt_coeff · η · I` with
/// `stt_coeff = ħ / (2 e μ0 Ms(T) tfl area)` (A/m per A).
#[inline]
pub fn stt_coeff_per_a(p: &MtjParams, temp_k: f64) -> f64 {
    HBAR / (2.0 * E_CHARGE * MU0 * ms_a_per_m(p, temp_k) * p.tfl_m * p.area_m2)
}

/// Zero-temperature critical current density (A/m², magnitude) to destabilise the state
/// `m = s·e` (`s = +1` or `−1`) at the material parameters of temperature `temp_k`.
///
/// Linearising the LL equation around `m0 = s e` (reference layer collinear, `c0 = m0·p`):
/// precession is traceless, Gilbert damping contributes `−α γμ0 (h1 + h2)/(1+α²)` to the
/// trace of the 2×2 linear map and the damping-like torque `−2 γμ0 a c0/(1+α²)`, so the
/// state becomes unstable when `|a| = α h̄` with `h̄ = (h1 + h2)/2` the mean transverse
/// stiffness (+ the applied field along `m0`). A field-like torque `b = β a` adds `b c0` to
/// the stiffness, giving `|a| = α h̄ / (1 + αβ)`. For the perpendicular film with Λ = 1 and
/// β = 0 this is PHYSICS.md's `Jc0 = 2 e α μ0 Ms tfl H_k,eff / (ħ η)`; for an in-plane film
/// it is the familiar `α (H_k + Ms/2)` form.
pub fn jc0_a_per_m2(p: &MtjParams, temp_k: f64, s: f64) -> f64 {
    let [h1, h2] = stiffness_a_per_m(p, temp_k);
    let h_bar = 0.5 * (h1 + h2) + s * dot(p.h_app_a_per_m, p.easy);
    let c0 = s * dot(p.mp, p.easy);
    let a_c = p.alpha * h_bar / (1.0 + p.alpha * p.beta);
    a_c / (stt_coeff_per_a(p, temp_k) * p.area_m2 * eta(p, c0))
}

/// Critical current magnitude `Jc0 · area` (A) to leave `m = s·e`.
pub fn ic0_a(p: &MtjParams, temp_k: f64, s: f64) -> f64 {
    jc0_a_per_m2(p, temp_k, s) * p.area_m2
}

/// Small-angle (Kittel) precession frequency around the easy axis, `γμ0 √(h1 h2) / 2π` (Hz).
/// With α > 0 the damped frequency is this divided by (1+α²).
pub fn precession_frequency_hz(p: &MtjParams, temp_k: f64) -> f64 {
    let [h1, h2] = stiffness_a_per_m(p, temp_k);
    GAMMA_MU0 * (h1 * h2).max(0.0).sqrt() / (2.0 * std::f64::consts::PI)
}

/// Small-angle relaxation rate of a tilt, `α γμ0 h̄ / (1+α²)` (1/s) (PHYSICS.md check 2).
pub fn relaxation_rate_per_s(p: &MtjParams, temp_k: f64) -> f64 {
    let [h1, h2] = stiffness_a_per_m(p, temp_k);
    p.alpha * GAMMA_MU0 * 0.5 * (h1 + h2) / (1.0 + p.alpha * p.alpha)
}

/// Brown's free-diffusion time `τ_N = (1+α²) Ms V / (2 α γ k_B T)` (s), with γ in
/// rad/(s·T) and Ms in A/m times μ0 … written as `(1+α²) μ0 Ms V / (2 α γμ0 k_B T)`.
pub fn tau_n_s(p: &MtjParams, temp_k: f64) -> f64 {
    (1.0 + p.alpha * p.alpha) * MU0 * ms_a_per_m(p, temp_k) * p.volume_m3
        / (2.0 * p.alpha * GAMMA_MU0 * K_B * temp_k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bloch_law_and_ku_scaling() {
        let p = MtjParams::default();
        assert!((ms_ratio(&p, p.tref_k) - 1.0).abs() < 1e-15);
        // At T = 500 K, tc = 1000 K: (1 − 0.5^1.5)/(1 − 0.3^1.5).
        let expect = (1.0 - 0.5f64.powf(1.5)) / (1.0 - 0.3f64.powf(1.5));
        assert!((ms_ratio(&p, 500.0) - expect).abs() < 1e-14);
        assert!((ku_j_per_m3(&p, 500.0) / p.ku_j_per_m3 - expect * expect).abs() < 1e-14);
        assert_eq!(ms_ratio(&p, 2000.0), MS_RATIO_FLOOR);
    }

    #[test]
    fn tmr_halves_at_vh() {
        let p = MtjParams::default();
        assert!((tmr(&p, p.vh_v, p.tref_k) - p.tmr0 / 2.0).abs() < 1e-15);
        assert!((tmr(&p, -p.vh_v, p.tref_k) - p.tmr0 / 2.0).abs() < 1e-15);
    }

    #[test]
    fn perpendicular_hk_eff_and_jc0_match_physics_md() {
        let p = MtjParams::default();
        let t = p.tref_k;
        let hk = 2.0 * p.ku_j_per_m3 / (MU0 * p.ms_a_per_m) - p.ms_a_per_m;
        assert!((hk_eff_a_per_m(&p, t) / hk - 1.0).abs() < 1e-14);
        let eta = p.pol / 2.0;
        let jc0 = 2.0 * E_CHARGE * p.alpha * MU0 * p.ms_a_per_m * p.tfl_m * hk / (HBAR * eta);
        assert!((jc0_a_per_m2(&p, t, 1.0) / jc0 - 1.0).abs() < 1e-12);
        assert!((jc0_a_per_m2(&p, t, -1.0) / jc0 - 1.0).abs() < 1e-12);
    }
}
