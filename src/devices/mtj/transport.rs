//! Tunnel conductance `G(m, V, T)` and its partial derivatives for the circuit stamp:
//! `G = G_P (1 + m·p)/2 + G_AP (1 − m·p)/2`, `G_P = area/ra`, `G_AP = G_P / (1 + TMR(V, T))`.

use super::params::MtjParams;
use super::temperature::tmr;
use super::vec3::{V3, dot, scale};

/// Conductance and its partial derivatives at one operating point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Conductance {
    /// G (S).
    pub g_s: f64,
    /// ∂G/∂V through TMR(V) (S/V).
    pub dg_dv: f64,
    /// ∂G/∂(m·p) = (G_P − G_AP)/2 (S).
    pub dg_dmdotp: f64,
    /// ∂G/∂T through the TMR temperature coefficient (S/K).
    pub dg_dtemp: f64,
}

/// `G(m·p, V, T)` and derivatives. `m_dot_p` is the cosine between free and reference
/// layers; `∂G/∂m = dg_dmdotp · p`.
pub fn conductance(p: &MtjParams, m_dot_p: f64, voltage_v: f64, temp_k: f64) -> Conductance {
    let gp = p.g_p_s();
    let x = voltage_v / p.vh_v;
    let bias = 1.0 + x * x;
    let t_raw = p.tmr0 * (1.0 - p.ttmr_per_k * (temp_k - p.tref_k));
    let t0 = t_raw.max(0.0);
    let tmr_v = t0 / bias;
    let gap = gp / (1.0 + tmr_v);
    let dgap_dtmr = -gp / ((1.0 + tmr_v) * (1.0 + tmr_v));
    let dtmr_dv = -t0 * 2.0 * voltage_v / (p.vh_v * p.vh_v * bias * bias);
    let dtmr_dt = if t_raw > 0.0 {
        -p.tmr0 * p.ttmr_per_k / bias
    } else {
        0.0
    };
    let wap = 0.5 * (1.0 - m_dot_p);
    Conductance {
        g_s: gp * 0.5 * (1.0 + m_dot_p) + gap * wap,
        dg_dv: wap * dgap_dtmr * dtmr_dv,
        dg_dmdotp: 0.5 * (gp - gap),
        dg_dtemp: wap * dgap_dtmr * dtmr_dt,
    }
}

/// Conductance only (S).
#[inline]
pub fn g_s(p: &MtjParams, m_dot_p: f64, voltage_v: f64, temp_k: f64) -> f64 {
    let gp = p.g_p_s();
    let gap = gp / (1.0 + tmr(p, voltage_v, temp_k));
    gp * 0.5 * (1.0 + m_dot_p) + gap * 0.5 * (1.0 - m_dot_p)
}

/// Resistance `1/G` (Ω).
pub fn resistance_ohm(p: &MtjParams, m_dot_p: f64, voltage_v: f64, temp_k: f64) -> f64 {
    1.0 / g_s(p, m_dot_p, voltage_v, temp_k)
}

/// Device current `I = G V` and its derivatives, what the MNA stamp needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CurrentJacobian {
    /// I (A), positive free → ref.
    pub current_a: f64,
    /// ∂I/∂V = G + V ∂G/∂V (S).
    pub di_dv: f64,
    /// ∂I/∂m = V ∂G/∂(m·p) p (A).
    pub di_dm: V3,
    /// ∂I/∂T = V ∂G/∂T (A/K).
    pub di_dtemp: f64,
}

/// `I(m, V, T)` with its partial derivatives.
pub fn current_jacobian(p: &MtjParams, m: V3, voltage_v: f64, temp_k: f64) -> CurrentJacobian {
    let c = conductance(p, dot(m, p.mp), voltage_v, temp_k);
    CurrentJacobian {
        current_a: c.g_s * voltage_v,
        di_dv: c.g_s + voltage_v * c.dg_dv,
        di_dm: scale(voltage_v * c.dg_dmdotp, p.mp),
        di_dtemp: voltage_v * c.dg_dtemp,
    }
}

/// The voltage across the device that carries `current_a` (V): solves `G(V) V = I` by
/// Newton's method inside the bracket `[I/G_P, I/G(0)]` (G grows with |V| from G(0) towards
/// G_P because TMR falls with bias, so the root lies there; `I(V)` is monotone).
pub fn voltage_for_current(p: &MtjParams, m_dot_p: f64, current_a: f64, temp_k: f64) -> f64 {
    voltage_for_current_from(p, m_dot_p, current_a, temp_k, f64::NAN)
}

/// [`voltage_for_current`] starting Newton from `v_guess` (e.g. the previous time step's
/// voltage; NaN or a guess outside the bracket falls back to `I/G(0)`). From a close guess
/// it converges in two iterations, which matters in the per-step path of heated devices.
pub fn voltage_for_current_from(
    p: &MtjParams,
    m_dot_p: f64,
    current_a: f64,
    temp_k: f64,
    v_guess: f64,
) -> f64 {
    if current_a == 0.0 {
        return 0.0;
    }
    if v_guess.is_finite() && v_guess * current_a > 0.0 {
        // Lean Newton from the guess: with u = 1 + V²/vh², G = A + B u/(u + τ), two divisions
        // per iteration. Falls through to the bracketed solver if it does not settle.
        let a = 0.5 * p.g_p_s() * (1.0 + m_dot_p);
        let b = 0.5 * p.g_p_s() * (1.0 - m_dot_p);
        let tau = (p.tmr0 * (1.0 - p.ttmr_per_k * (temp_k - p.tref_k))).max(0.0);
        let inv_vh2 = 1.0 / (p.vh_v * p.vh_v);
        let mut v = v_guess;
        for _ in 0..8 {
            let u = 1.0 + v * v * inv_vh2;
            let w = 1.0 / (u + tau);
            let g = a + b * u * w;
            let dg_dv = 2.0 * b * tau * w * w * v * inv_vh2;
            let vn = v - (g * v - current_a) / (g + v * dg_dv);
            if !vn.is_finite() || vn * current_a <= 0.0 {
                break;
            }
            if (vn - v).abs() <= 1e-8 * v.abs() {
                return vn;
            }
            v = vn;
        }
    }
    let g0 = g_s(p, m_dot_p, 0.0, temp_k);
    let gp = p.g_p_s();
    let (mut lo, mut hi) = {
        let a = current_a / gp;
        let b = current_a / g0;
        (a.min(b), a.max(b))
    };
    if hi - lo <= 1e-15 * hi.abs() {
        return 0.5 * (lo + hi);
    }
    let mut v = if v_guess >= lo && v_guess <= hi {
        v_guess
    } else {
        current_a / g0
    };
    for _ in 0..60 {
        let c = conductance(p, m_dot_p, v, temp_k);
        let f = c.g_s * v - current_a;
        if f == 0.0 {
            return v;
        }
        if f > 0.0 {
            hi = v;
        } else {
            lo = v;
        }
        let dfdv = c.g_s + v * c.dg_dv;
        let mut vn = v - f / dfdv;
        // Outside the bracket (or NaN): bisect. The bracket is closed: in P (m·p = 1) G does
        // not depend on V and the root is exactly its lower end I/G_P.
        if vn.is_nan() || vn < lo || vn > hi {
            vn = 0.5 * (lo + hi);
        }
        // Newton converges quadratically: after a step of relative size δ the error of `vn`
        // is O(δ²), so δ ≤ 1e-8 leaves ≤ ~1e-16 (saves the extra confirming iteration).
        if (vn - v).abs() <= 1e-8 * v.abs() {
            return vn;
        }
        v = vn;
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p_and_ap_resistances() {
        let p = MtjParams::default();
        let rp = p.ra_ohm_m2 / p.area_m2;
        assert!((resistance_ohm(&p, 1.0, 0.0, 300.0) / rp - 1.0).abs() < 1e-14);
        assert!((resistance_ohm(&p, -1.0, 0.0, 300.0) / (rp * (1.0 + p.tmr0)) - 1.0).abs() < 1e-14);
        // TMR halves at vh: R_AP(vh) = R_P (1 + tmr0/2).
        assert!(
            (resistance_ohm(&p, -1.0, p.vh_v, 300.0) / (rp * (1.0 + p.tmr0 / 2.0)) - 1.0).abs()
                < 1e-14
        );
    }

    #[test]
    fn derivatives_match_finite_differences() {
        let p = MtjParams {
            ttmr_per_k: 1e-3,
            ..MtjParams::default()
        };
        for (c, v, t) in [(0.3, 0.2, 320.0), (-0.9, -0.4, 280.0), (1.0, 0.7, 300.0)] {
            let g = conductance(&p, c, v, t);
            let h = 1e-6;
            let fd_v = (g_s(&p, c, v + h, t) - g_s(&p, c, v - h, t)) / (2.0 * h);
            let fd_c = (g_s(&p, c + h, v, t) - g_s(&p, c - h, v, t)) / (2.0 * h);
            let fd_t = (g_s(&p, c, v, t + 1e-3) - g_s(&p, c, v, t - 1e-3)) / 2e-3;
            assert!((fd_v - g.dg_dv).abs() < 1e-7 * g.g_s, "{fd_v} {}", g.dg_dv);
            assert!((fd_c - g.dg_dmdotp).abs() < 1e-7 * g.g_s);
            assert!((fd_t - g.dg_dtemp).abs() < 1e-9 * g.g_s);
        }
    }

    #[test]
    fn voltage_for_current_from_a_guess() {
        let p = MtjParams::default();
        let v = voltage_for_current(&p, -0.3, 8e-5, 300.0);
        for guess in [f64::NAN, 0.0, v * 1.01, v, -v, 1e9] {
            let w = voltage_for_current_from(&p, -0.3, 8e-5, 300.0, guess);
            assert!((w / v - 1.0).abs() < 1e-13, "guess {guess}: {w} vs {v}");
        }
    }

    #[test]
    fn voltage_for_current_inverts_iv() {
        let p = MtjParams::default();
        for c in [1.0, 1.0 - 1e-9, 0.0, -1.0] {
            for i in [1e-6, 5e-5, -2e-4, 1e-3] {
                let v = voltage_for_current(&p, c, i, 300.0);
                assert!((g_s(&p, c, v, 300.0) * v / i - 1.0).abs() < 1e-12);
            }
        }
    }
}
