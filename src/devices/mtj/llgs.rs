//! Macrospin Landau–Lifshitz–Gilbert–Slonczewski dynamics: effective field, energy, the
//! explicit LL right-hand side with damping-like and field-like spin-transfer torque, and
//! its Jacobian for implicit (circuit-coupled) integration.
//!
//! ## From the Gilbert form to the explicit LL form
//! Gilbert (MTJ_CARD.md): `ṁ = −γμ0 m×h + α m×ṁ − γμ0 a m×(m×p) − γμ0 b m×p`, `b = β a`.
//! The three torques are all of the form `−γμ0 m×H'` with `H' = h + a m×p + b p`, so
//! `ṁ = A + α m×ṁ` with `A = −γμ0 m×H' ⊥ m`. Crossing with `m` and using `|m| = 1`,
//! `ṁ ⊥ m` (so `m×(m×ṁ) = −ṁ`): `m×ṁ = m×A − α ṁ`, hence `(1+α²) ṁ = A + α m×A`, i.e.
//! `(1+α²) ṁ = −γμ0 [m×H' + α m×(m×H')]`. Expanding with `m×(m×(m×p)) = −m×p`:
//!
//! ```text
//! (1+α²) ṁ = −γμ0 [ m×h + α m×(m×h) ]
//!            −γμ0 [ a m×(m×p) − α a m×p ]        (damping-like)
//!            −γμ0 [ b m×p + α b m×(m×p) ]        (field-like)
//! ```
//!
//! which is PHYSICS.md's form. We evaluate it as `m×F + α m×(m×F)` with `F = h + b p`
//! (exact for any `m`, not only unit `m`) plus the damping-like bracket, i.e. the expanded
//! form term by term; the unit tests check the α = 0 reduction and plug `ṁ` back into the
//! Gilbert equation.

use super::constants::{E_CHARGE, GAMMA_MU0, HBAR, K_B, MU0};
use super::params::MtjParams;
use super::temperature::{eta, ms_a_per_m, ms_ratio, pow_kexp, stt_coeff_per_a};
use super::vec3::{
    M3, V3, add, axpy, cross, diag_s, dot, mat_lin, mat_mul, outer, scale, skew, sub, transpose,
};

/// The temperature-dependent coefficients of the dynamics, frozen at one temperature so
/// the per-step right-hand side is a handful of multiply–adds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MagCoeffs {
    /// Temperature these were computed at (K).
    pub temp_k: f64,
    /// Ms(T) (A/m).
    pub ms_a_per_m: f64,
    /// Ku(T) (J/m³).
    pub ku_j_per_m3: f64,
    /// `2 Ku(T) / (μ0 Ms(T))` (A/m).
    pub hk_a_per_m: f64,
    /// `Ms(T) · (Nx, Ny, Nz)` (A/m).
    pub demag_ms: V3,
    /// `ħ / (2 e μ0 Ms(T) tfl area)`: a_J per ampere at η = 1 (A/m per A).
    pub stt_per_a: f64,
    /// `√(2 α k_B T / (γ μ0² Ms(T) V))` (A/m · √s): the Brown field standard deviation for a
    /// step `dt` is this divided by `√dt`.
    pub noise_sqrt_s: f64,
}

impl MagCoeffs {
    /// Coefficients at `temp_k`.
    pub fn new(p: &MtjParams, temp_k: f64) -> MagCoeffs {
        let r = ms_ratio(p, temp_k);
        let ms = p.ms_a_per_m * r;
        let ku = p.ku_j_per_m3 * pow_kexp(r, p.kexp);
        MagCoeffs {
            temp_k,
            ms_a_per_m: ms,
            ku_j_per_m3: ku,
            hk_a_per_m: 2.0 * ku / (MU0 * ms),
            demag_ms: scale(ms, p.demag),
            // = stt_coeff_per_a(p, temp_k), reusing Ms(T) (this runs every step when heated).
            stt_per_a: HBAR / (2.0 * E_CHARGE * MU0 * ms * p.tfl_m * p.area_m2),
            noise_sqrt_s: (2.0 * p.alpha * K_B * temp_k.max(0.0)
                / (GAMMA_MU0 * MU0 * ms * p.volume_m3))
                .sqrt(),
        }
    }

    /// Same coefficients as [`MagCoeffs::new`] (to rounding) from the temperature-independent
    /// constants `k`: one division, two square roots and one `powf` instead of six divisions.
    /// For the per-step path of heated devices, whose temperature changes every step.
    #[inline]
    pub fn from_consts(p: &MtjParams, k: &CoeffConsts, temp_k: f64) -> MagCoeffs {
        let x = (temp_k * k.inv_tc).max(0.0);
        let r = ((1.0 - x * x.sqrt()) * k.bloch_norm).max(super::temperature::MS_RATIO_FLOOR);
        let ms = p.ms_a_per_m * r;
        let inv_ms = 1.0 / ms;
        let ku = p.ku_j_per_m3 * pow_kexp(r, p.kexp);
        MagCoeffs {
            temp_k,
            ms_a_per_m: ms,
            ku_j_per_m3: ku,
            hk_a_per_m: 2.0 / MU0 * ku * inv_ms,
            demag_ms: scale(ms, p.demag),
            stt_per_a: k.stt_num * inv_ms,
            noise_sqrt_s: (k.noise_num * temp_k.max(0.0) * inv_ms).sqrt(),
        }
    }

    /// Brown field standard deviation per Cartesian component for a step `dt_s` (A/m).
    #[inline]
    pub fn brown_sigma_a_per_m(&self, dt_s: f64) -> f64 {
        self.noise_sqrt_s / dt_s.sqrt()
    }
}

/// Temperature-independent pieces of [`MagCoeffs`], computed once per card.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CoeffConsts {
    /// 1 / tc.
    pub inv_tc: f64,
    /// 1 / (1 − (tref/tc)^1.5).
    pub bloch_norm: f64,
    /// ħ / (2 e μ0 tfl area).
    pub stt_num: f64,
    /// 2 α k_B / (γ μ0² V).
    pub noise_num: f64,
}

impl CoeffConsts {
    pub fn new(p: &MtjParams) -> CoeffConsts {
        let y = p.tref_k / p.tc_k;
        CoeffConsts {
            inv_tc: 1.0 / p.tc_k,
            bloch_norm: 1.0 / (1.0 - y * y.sqrt()),
            stt_num: HBAR / (2.0 * E_CHARGE * MU0 * p.tfl_m * p.area_m2),
            noise_num: 2.0 * p.alpha * K_B / (GAMMA_MU0 * MU0 * p.volume_m3),
        }
    }
}

/// Internal effective field (anisotropy + demagnetization) plus `h_ext` (A/m).
#[inline(always)]
pub fn field_with(p: &MtjParams, c: &MagCoeffs, m: V3, h_ext: V3) -> V3 {
    let ke = c.hk_a_per_m * dot(m, p.easy);
    [
        ke * p.easy[0] - c.demag_ms[0] * m[0] + h_ext[0],
        ke * p.easy[1] - c.demag_ms[1] * m[1] + h_ext[1],
        ke * p.easy[2] - c.demag_ms[2] * m[2] + h_ext[2],
    ]
}

/// The explicit LL right-hand side `dm/dt` (1/s) with frozen coefficients `c`, current
/// `current_a` (positive free → ref, favours P) and external field `h_ext` (A/m: card field
/// + drive field + thermal field, whatever the caller wants included).
#[inline(always)]
pub fn rhs_with(p: &MtjParams, c: &MagCoeffs, m: V3, current_a: f64, h_ext: V3) -> V3 {
    let h = field_with(p, c, m, h_ext);
    // Λ = 1 (the default) makes η = P/2 independent of m: skip the division.
    let eta_m = if p.lambda == 1.0 {
        0.5 * p.pol
    } else {
        eta(p, dot(m, p.mp))
    };
    let a = c.stt_per_a * eta_m * current_a;
    let f = axpy(h, p.beta * a, p.mp);
    let mxf = cross(m, f);
    let mxmxf = cross(m, mxf);
    let mxp = cross(m, p.mp);
    let mxmxp = cross(m, mxp);
    let al = p.alpha;
    let k = -GAMMA_MU0 / (1.0 + al * al);
    [
        k * (mxf[0] + al * mxmxf[0] + a * (mxmxp[0] - al * mxp[0])),
        k * (mxf[1] + al * mxmxf[1] + a * (mxmxp[1] - al * mxp[1])),
        k * (mxf[2] + al * mxmxf[2] + a * (mxmxp[2] - al * mxp[2])),
    ]
}

/// Effective field `H_eff` (A/m) at temperature `temp_k`: anisotropy, demagnetization, the
/// card's applied field and `h_extra` (drive field, thermal field sample, ...).
pub fn effective_field(p: &MtjParams, temp_k: f64, m: V3, h_extra: V3) -> V3 {
    let c = MagCoeffs::new(p, temp_k);
    field_with(p, &c, m, add(p.h_app_a_per_m, h_extra))
}

/// Spin-torque field `a_J = ħ η(m) J / (2 e μ0 Ms(T) tfl)` (A/m) for current `current_a`.
pub fn stt_field_a_per_m(p: &MtjParams, temp_k: f64, m: V3, current_a: f64) -> f64 {
    stt_coeff_per_a(p, temp_k) * eta(p, dot(m, p.mp)) * current_a
}

/// Magnetic energy density (J/m³) at temperature `temp_k`:
/// `−Ku (m·e)² + (μ0/2) Ms² m·N·m − μ0 Ms m·(H_card + h_extra)`.
pub fn energy_density(p: &MtjParams, temp_k: f64, m: V3, h_extra: V3) -> f64 {
    let c = MagCoeffs::new(p, temp_k);
    let me = dot(m, p.easy);
    let ms = ms_a_per_m(p, temp_k);
    let mnm = p.demag[0] * m[0] * m[0] + p.demag[1] * m[1] * m[1] + p.demag[2] * m[2] * m[2];
    -c.ku_j_per_m3 * me * me + 0.5 * MU0 * ms * ms * mnm
        - MU0 * ms * dot(m, add(p.h_app_a_per_m, h_extra))
}

/// Deterministic `dm/dt` (1/s) as a pure function of the state: magnetization `m`, device
/// temperature `temp_k`, current `current_a` and extra field `h_extra` (A/m) on top of the
/// card's field. Pass a Brown field sample in `h_extra` to get the stochastic drift.
pub fn dm_dt(p: &MtjParams, m: V3, temp_k: f64, current_a: f64, h_extra: V3) -> V3 {
    let c = MagCoeffs::new(p, temp_k);
    rhs_with(p, &c, m, current_a, add(p.h_app_a_per_m, h_extra))
}

/// Partial derivatives of `dm/dt` for Newton iterations of an implicit integrator.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LlgsJacobian {
    /// `∂(dm/dt)_i / ∂m_j` (1/s), row-major.
    pub d_m: M3,
    /// `∂(dm/dt) / ∂I` (1/(s·A)).
    pub d_current: V3,
    /// `∂(dm/dt) / ∂T` (1/(s·K)), by central difference (T enters through Ms(T), Ku(T)).
    pub d_temp: V3,
}

/// Jacobian of [`dm_dt`] (analytic in `m` and `I`). Derivation, with `k = −γμ0/(1+α²)`,
/// `F = h(m) + β a(m) p`, `a(m) = κ I η(m·p)`, `q = m×(m×p) − α m×p`:
/// `f = k [m×F + α m×(m×F) + a q]`;
/// `∂(m×F) = −[F]× + [m]× ∂F`; `∂(m×(m×F)) = (m·F) 1 + m ⊗ (F + ∂Fᵀ m) − (m·m) ∂F − 2 F ⊗ m`;
/// `∂F = Hk e⊗e − diag(Ms N) + β p ⊗ ∇a`; `∇a = κ I η'(m·p) p`;
/// `∂q = (m·p) 1 + m⊗p − 2 p⊗m + α [p]×`.
pub fn dm_dt_jacobian(
    p: &MtjParams,
    m: V3,
    temp_k: f64,
    current_a: f64,
    h_extra: V3,
) -> LlgsJacobian {
    let c = MagCoeffs::new(p, temp_k);
    let h_ext = add(p.h_app_a_per_m, h_extra);
    let h = field_with(p, &c, m, h_ext);
    let mp = p.mp;
    let cdp = dot(m, mp);
    let l2 = p.lambda * p.lambda;
    let den = (l2 + 1.0) + (l2 - 1.0) * cdp;
    let eta_v = p.pol * l2 / den;
    let deta = -p.pol * l2 * (l2 - 1.0) / (den * den);
    let kappa = c.stt_per_a;
    let a = kappa * eta_v * current_a;
    let grad_a = scale(kappa * current_a * deta, mp);
    let f = axpy(h, p.beta * a, mp);
    let al = p.alpha;
    let k = -GAMMA_MU0 / (1.0 + al * al);

    let mut dh = outer(scale(c.hk_a_per_m, p.easy), p.easy);
    for (i, row) in dh.iter_mut().enumerate() {
        row[i] -= c.demag_ms[i];
    }
    let df = mat_lin(&[(1.0, &dh), (p.beta, &outer(mp, grad_a))]);
    // ∂(m×F)
    let d_mxf = mat_lin(&[(-1.0, &skew(f)), (1.0, &mat_mul(&skew(m), &df))]);
    // ∂(m×(m×F))
    let dft_m = super::vec3::mat_vec(&transpose(&df), m);
    let d_mmf = mat_lin(&[
        (dot(m, f), &diag_s(1.0)),
        (1.0, &outer(m, add(f, dft_m))),
        (-dot(m, m), &df),
        (-2.0, &outer(f, m)),
    ]);
    let mxp = cross(m, mp);
    let mxmxp = cross(m, mxp);
    let q = sub(mxmxp, scale(al, mxp));
    let dq = mat_lin(&[
        (cdp, &diag_s(1.0)),
        (1.0, &outer(m, mp)),
        (-2.0, &outer(mp, m)),
        (al, &skew(mp)),
    ]);
    let d_m = mat_lin(&[
        (k, &d_mxf),
        (k * al, &d_mmf),
        (k, &outer(q, grad_a)),
        (k * a, &dq),
    ]);

    let da_di = kappa * eta_v;
    let d_current = scale(k * da_di, add(scale(p.beta, add(mxp, scale(al, mxmxp))), q));

    let dt = 1e-3 * temp_k.max(1.0);
    let fp = dm_dt(p, m, temp_k + dt, current_a, h_extra);
    let fm = dm_dt(p, m, temp_k - dt, current_a, h_extra);
    let d_temp = scale(0.5 / dt, sub(fp, fm));
    LlgsJacobian {
        d_m,
        d_current,
        d_temp,
    }
}

/// Residual of the Gilbert form for a given `ṁ` (1/s): `ṁ − [−γμ0 m×H_eff + α m×ṁ −
/// γμ0 a m×(m×p) − γμ0 β a m×p]`. Zero (to rounding) for `ṁ` from [`dm_dt`] at unit `m`;
/// used by the tests to check the LL inversion.
pub fn gilbert_residual(
    p: &MtjParams,
    m: V3,
    temp_k: f64,
    current_a: f64,
    h_extra: V3,
    mdot: V3,
) -> V3 {
    let h = effective_field(p, temp_k, m, h_extra);
    let a = stt_field_a_per_m(p, temp_k, m, current_a);
    let b = p.beta * a;
    let mxp = cross(m, p.mp);
    let rhs = add(
        add(
            scale(-GAMMA_MU0, cross(m, h)),
            scale(p.alpha, cross(m, mdot)),
        ),
        add(
            scale(-GAMMA_MU0 * a, cross(m, mxp)),
            scale(-GAMMA_MU0 * b, mxp),
        ),
    );
    sub(mdot, rhs)
}

#[cfg(test)]
mod tests {
    use super::super::vec3::{norm, normalize};
    use super::*;
    use crate::circuit::Model;

    fn card(kv: &[(&str, f64)]) -> MtjParams {
        let m = Model {
            name: "t".into(),
            kind: "mtj".into(),
            params: kv.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            string_params: Default::default(),
            span: Default::default(),
        };
        MtjParams::from_model(&m).unwrap()
    }

    fn samples() -> Vec<V3> {
        vec![
            normalize([0.3, -0.4, 0.8]),
            normalize([-0.9, 0.1, -0.2]),
            normalize([0.01, 0.02, -1.0]),
            normalize([0.5, 0.5, 0.1]),
        ]
    }

    /// The LL form must satisfy the Gilbert form exactly (|m| = 1): residual relative to
    /// |ṁ| at the level of double rounding (≤ 1e-12), for asymmetric Λ, β ≠ 0, tilted p.
    #[test]
    fn ll_form_satisfies_gilbert_form() {
        let p = card(&[
            ("alpha", 0.3),
            ("beta", 0.4),
            ("lambda", 2.0),
            ("mpx", 0.3),
            ("mpz", 1.0),
            ("hx", 2e4),
        ]);
        for m in samples() {
            for i in [0.0, 5e-5, -1e-4] {
                let h_th = [1e3, -2e3, 5e2];
                let md = dm_dt(&p, m, 350.0, i, h_th);
                let r = gilbert_residual(&p, m, 350.0, i, h_th, md);
                assert!(norm(r) <= 1e-12 * norm(md), "residual {r:?} for ṁ {md:?}");
            }
        }
    }

    /// At α = 0 the LL torques are exactly the Gilbert torques (no α m×ṁ term to invert).
    #[test]
    fn alpha_zero_reduces_to_gilbert_torques() {
        let p = card(&[("alpha", 0.0), ("beta", 0.25), ("lambda", 1.5)]);
        for m in samples() {
            let i = 7e-5;
            let h = effective_field(&p, 300.0, m, [0.0; 3]);
            let a = stt_field_a_per_m(&p, 300.0, m, i);
            let mxp = cross(m, p.mp);
            let expect = add(
                scale(-GAMMA_MU0, cross(m, h)),
                add(
                    scale(-GAMMA_MU0 * a, cross(m, mxp)),
                    scale(-GAMMA_MU0 * p.beta * a, mxp),
                ),
            );
            let got = dm_dt(&p, m, 300.0, i, [0.0; 3]);
            assert!(norm(sub(got, expect)) <= 1e-13 * norm(expect));
        }
    }

    /// Analytic Jacobian against central differences (relative 1e-6: FD truncation with a
    /// 1e-6 step on O(1) curvature is ~1e-12, rounding ~1e-10 of |f|/step).
    #[test]
    fn jacobian_matches_finite_differences() {
        let p = card(&[
            ("alpha", 0.1),
            ("beta", 0.3),
            ("lambda", 1.7),
            ("nx", 0.1),
            ("ny", 0.2),
            ("nz", 0.7),
        ]);
        let i = 4e-5;
        for m in samples() {
            let j = dm_dt_jacobian(&p, m, 320.0, i, [1e3, 0.0, 0.0]);
            let scale_f = norm(dm_dt(&p, m, 320.0, i, [1e3, 0.0, 0.0])).max(1e9);
            let eps = 1e-6;
            for col in 0..3 {
                let mut mp = m;
                let mut mm = m;
                mp[col] += eps;
                mm[col] -= eps;
                let fp = dm_dt(&p, mp, 320.0, i, [1e3, 0.0, 0.0]);
                let fm = dm_dt(&p, mm, 320.0, i, [1e3, 0.0, 0.0]);
                for row in 0..3 {
                    let fd = (fp[row] - fm[row]) / (2.0 * eps);
                    assert!(
                        (fd - j.d_m[row][col]).abs() < 1e-6 * scale_f,
                        "d_m[{row}][{col}] {fd} vs {}",
                        j.d_m[row][col]
                    );
                }
            }
            let di = 1e-9;
            let fp = dm_dt(&p, m, 320.0, i + di, [1e3, 0.0, 0.0]);
            let fm = dm_dt(&p, m, 320.0, i - di, [1e3, 0.0, 0.0]);
            for row in 0..3 {
                let fd = (fp[row] - fm[row]) / (2.0 * di);
                assert!((fd - j.d_current[row]).abs() < 1e-6 * (fd.abs() + 1e9 / 1e-4));
            }
        }
    }

    /// Energy density of the perpendicular film: minimum at ±z, barrier μ0 Ms Hk,eff / 2 at
    /// the equator.
    #[test]
    fn fast_coefficients_match() {
        let p = card(&[("kexp", 2.3), ("tc", 800.0), ("alpha", 0.03)]);
        let k = CoeffConsts::new(&p);
        for t in [10.0, 300.0, 450.0, 790.0] {
            let a = MagCoeffs::new(&p, t);
            let b = MagCoeffs::from_consts(&p, &k, t);
            for (x, y) in [
                (a.ms_a_per_m, b.ms_a_per_m),
                (a.ku_j_per_m3, b.ku_j_per_m3),
                (a.hk_a_per_m, b.hk_a_per_m),
                (a.stt_per_a, b.stt_per_a),
                (a.noise_sqrt_s, b.noise_sqrt_s),
            ] {
                assert!((x / y - 1.0).abs() < 1e-13, "T {t}: {x} vs {y}");
            }
        }
    }

    #[test]
    fn energy_barrier_matches_hk_eff() {
        let p = MtjParams::default();
        let e_pole = energy_density(&p, 300.0, [0.0, 0.0, 1.0], [0.0; 3]);
        let e_eq = energy_density(&p, 300.0, [1.0, 0.0, 0.0], [0.0; 3]);
        let hk = super::super::temperature::hk_eff_a_per_m(&p, 300.0);
        let eb = 0.5 * MU0 * p.ms_a_per_m * hk;
        assert!(((e_eq - e_pole) / eb - 1.0).abs() < 1e-12);
    }
}
