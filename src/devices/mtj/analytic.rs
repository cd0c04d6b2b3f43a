//! Closed-form (or quadrature) results the simulations are checked against (PHYSICS.md
//! "Analytic checks"): Larmor frequency, precessional switching time, Brown's mean
//! first-passage time for the axially symmetric macrospin, the Boltzmann density of m_z.

use super::constants::GAMMA_MU0;
use super::params::MtjParams;
use super::temperature::{delta, hk_eff_a_per_m, tau_n_s};

/// True when the closed forms below apply: the two transverse stiffnesses are equal (a
/// uniaxial film whose easy axis is the film normal, e.g. perpendicular with N = (0,0,1)),
/// the card field is zero and the reference layer is collinear with the easy axis.
pub fn is_axially_symmetric(p: &MtjParams) -> bool {
    let [h1, h2] = super::temperature::stiffness_a_per_m(p, p.tamb_k);
    (h1 - h2).abs() <= 1e-12 * (h1.abs() + h2.abs())
        && p.h_app_a_per_m == [0.0; 3]
        && super::vec3::dot(p.mp, p.easy).abs() > 1.0 - 1e-12
}

/// Larmor frequency `γμ0 H / 2π` (Hz) for a field `h_a_per_m` (A/m).
pub fn larmor_frequency_hz(h_a_per_m: f64) -> f64 {
    GAMMA_MU0 * h_a_per_m / (2.0 * std::f64::consts::PI)
}

/// PHYSICS.md's precessional switching time (T = 0, J > Jc0, initial tilt `theta0`):
/// `(1+α²) / (α γμ0 H_k,eff (J/Jc0 − 1)) · ln(π / (2θ0))` (s). Linearised growth all the way
/// to π/2, so it overestimates near threshold (see [`t_sw_macrospin_s`]).
pub fn t_sw_precessional_s(p: &MtjParams, temp_k: f64, j_over_jc0: f64, theta0: f64) -> f64 {
    let a = p.alpha;
    (1.0 + a * a) / (a * GAMMA_MU0 * hk_eff_a_per_m(p, temp_k) * (j_over_jc0 - 1.0))
        * (std::f64::consts::PI / (2.0 * theta0)).ln()
}

/// Exact macrospin time (s) for the angle to p to go from `π − theta0` to π/2 (m·p crosses
/// 0) for a perpendicular, axially symmetric free layer with Λ = 1, β = 0, T = 0, no field.
/// In that case θ decouples from φ: `ψ̇ = (αγμ0 H_k,eff/(1+α²)) sinψ (j − cosψ)` with ψ the
/// angle from the initial axis, so `t = τ_D ∫_0^{cos θ0} du / ((1 − u²)(j − u))` with
/// `τ_D = (1+α²)/(αγμ0 H_k,eff)`; the partial fractions give the closed form below.
pub fn t_sw_macrospin_s(p: &MtjParams, temp_k: f64, j: f64, theta0: f64) -> f64 {
    let a = p.alpha;
    let tau_d = (1.0 + a * a) / (a * GAMMA_MU0 * hk_eff_a_per_m(p, temp_k));
    let c0 = theta0.cos();
    // ∫_0^c0 [A/(1−u) + B/(1+u) + C/(j−u)] du, A = 1/(2(j−1)), B = 1/(2(j+1)), C = 1/(1−j²).
    let ca = 1.0 / (2.0 * (j - 1.0));
    let cb = 1.0 / (2.0 * (j + 1.0));
    let cc = 1.0 / (1.0 - j * j);
    // 1 − cos θ0 computed stably.
    let one_minus_c0 = 2.0 * (0.5 * theta0).sin().powi(2);
    let integral = -ca * one_minus_c0.ln() + cb * (1.0 + c0).ln() - cc * ((j - c0) / j).ln();
    tau_d * integral
}

/// Integrate `f` on `[a, b]` with composite Simpson, `n` (even) panels.
pub fn simpson(f: impl Fn(f64) -> f64, a: f64, b: f64, n: usize) -> f64 {
    let n = n + n % 2;
    let h = (b - a) / n as f64;
    let mut s = f(a) + f(b);
    for k in 1..n {
        let x = a + k as f64 * h;
        s += if k % 2 == 1 { 4.0 } else { 2.0 } * f(x);
    }
    s * h / 3.0
}

/// Mean first-passage time (s) of the axially symmetric macrospin at zero current and
/// field from `m·e = z_th` to `m·e = −z_th` (a hysteretic telegraph with thresholds ±z_th),
/// exact for Brown's Fokker–Planck equation in `z = m·e`:
/// `2τ_N ∂W/∂t = ∂_z[(1−z²)(∂_z W − 2Δ z W)]`, so with reflecting natural boundary at 1,
/// `T = 2τ_N ∫_{−z_th}^{z_th} dy e^{−Δy²}/(1−y²) ∫_y^1 e^{Δx²} dx`.
/// `delta` and `tau_n` are Δ and Brown's `τ_N = (1+α²) Ms V / (2αγ k_B T)`.
pub fn brown_mfpt_s(delta: f64, tau_n: f64, z_th: f64) -> f64 {
    // Inner integral I(y) = ∫_y^1 e^{Δx²} dx by cumulative trapezoid on a fine grid from 1
    // down to −z_th, outer by trapezoid on the same grid (smooth integrands, |y| ≤ z_th < 1).
    let n = 20_000;
    let lo = -z_th;
    let h = (1.0 - lo) / n as f64;
    let mut inner = vec![0.0; n + 1];
    for k in (0..n).rev() {
        let x0 = lo + k as f64 * h;
        let x1 = x0 + h;
        inner[k] = inner[k + 1] + 0.5 * h * ((delta * x0 * x0).exp() + (delta * x1 * x1).exp());
    }
    let mut outer = 0.0;
    let n_outer = ((2.0 * z_th) / h).round() as usize;
    for (k, inner_k) in inner.iter().enumerate().take(n_outer + 1) {
        let y = lo + k as f64 * h;
        let w = if k == 0 || k == n_outer { 0.5 } else { 1.0 };
        outer += w * h * (-delta * y * y).exp() / (1.0 - y * y) * inner_k;
    }
    2.0 * tau_n * outer
}

/// [`brown_mfpt_s`] for a card at temperature `temp_k`.
pub fn brown_mfpt_card_s(p: &MtjParams, temp_k: f64, z_th: f64) -> f64 {
    brown_mfpt_s(delta(p, temp_k), tau_n_s(p, temp_k), z_th)
}

/// Probability of each bin `[edges[k], edges[k+1]]` of `m_z` under the Boltzmann density
/// `∝ exp(Δ m_z²)` (uniform measure in m_z on the sphere).
pub fn boltzmann_mz_bin_probs(delta: f64, edges: &[f64]) -> Vec<f64> {
    let w = |u: f64| (delta * u * u).exp();
    let total = simpson(w, -1.0, 1.0, 20_000);
    edges
        .windows(2)
        .map(|e| simpson(w, e[0], e[1], 2_000) / total)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_form_t_sw_matches_quadrature() {
        let p = MtjParams::default();
        for j in [1.05, 1.5, 3.0] {
            let tau_d =
                (1.0 + p.alpha * p.alpha) / (p.alpha * GAMMA_MU0 * hk_eff_a_per_m(&p, 300.0));
            let q = simpson(
                |u| 1.0 / ((1.0 - u * u) * (j - u)),
                0.0,
                0.02f64.cos(),
                2_000_000,
            ) * tau_d;
            let c = t_sw_macrospin_s(&p, 300.0, j, 0.02);
            assert!((q / c - 1.0).abs() < 1e-6, "{q} {c}");
        }
    }

    #[test]
    fn mfpt_large_delta_matches_brown_asymptote() {
        // Brown: MFPT ≈ τ_N √π e^Δ / Δ^{3/2} for large Δ (escape over the full barrier,
        // thresholds ±z_th symmetric so the 1/2 of the saddle counts once); relative
        // corrections O(1/Δ).
        let d = 40.0;
        let t = brown_mfpt_s(d, 1.0, 0.5);
        let asym = std::f64::consts::PI.sqrt() * d.exp() / d.powf(1.5);
        assert!((t / asym - 1.0).abs() < 3.0 / d, "{t} {asym}");
    }
}
