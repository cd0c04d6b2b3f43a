//! The device's lumped thermal node: `cth dT/dt = P − (T − tamb)/rth`.
//!
//! Three cases from the card: `rth = 0` isothermal (T = tamb); `rth > 0, cth = 0` the node
//! follows the power instantly (T = tamb + P rth); both > 0 a first-order lag with
//! `τ_th = rth cth`, integrated exactly over a step for piecewise-constant power.

use super::params::MtjParams;

/// Which thermal law a card selects.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ThermalModel {
    /// T = tamb always.
    Isothermal,
    /// T = tamb + P rth (no heat capacity).
    Instant { rth_k_per_w: f64 },
    /// cth dT/dt = P − (T − tamb)/rth, τ = rth·cth.
    Dynamic {
        rth_k_per_w: f64,
        cth_j_per_k: f64,
        tau_s: f64,
    },
}

impl ThermalModel {
    /// The law selected by the card's `rth`, `cth`.
    pub fn of(p: &MtjParams) -> ThermalModel {
        if p.rth_k_per_w == 0.0 {
            ThermalModel::Isothermal
        } else if p.cth_j_per_k == 0.0 {
            ThermalModel::Instant {
                rth_k_per_w: p.rth_k_per_w,
            }
        } else {
            ThermalModel::Dynamic {
                rth_k_per_w: p.rth_k_per_w,
                cth_j_per_k: p.cth_j_per_k,
                tau_s: p.rth_k_per_w * p.cth_j_per_k,
            }
        }
    }

    /// Thermal time constant (s): 0 for isothermal/instant.
    pub fn tau_s(&self) -> f64 {
        match self {
            ThermalModel::Dynamic { tau_s, .. } => *tau_s,
            _ => 0.0,
        }
    }
}

/// `dT/dt` (K/s) for the dynamic law; 0 when T is algebraic (isothermal or instant, where
/// the caller should use [`steady_temp_k`] instead).
pub fn dtemp_dt(p: &MtjParams, temp_k: f64, power_w: f64) -> f64 {
    match ThermalModel::of(p) {
        ThermalModel::Dynamic {
            rth_k_per_w,
            cth_j_per_k,
            ..
        } => (power_w - (temp_k - p.tamb_k) / rth_k_per_w) / cth_j_per_k,
        _ => 0.0,
    }
}

/// Steady-state temperature `tamb + P rth` (K) (= tamb when isothermal).
pub fn steady_temp_k(p: &MtjParams, power_w: f64) -> f64 {
    p.tamb_k + power_w * p.rth_k_per_w
}

/// Temperature after `dt_s` at constant power, exact: `T∞ + (T − T∞) e^(−dt/τ)`,
/// `T∞ = tamb + P rth`.
pub fn temp_after_k(p: &MtjParams, temp_k: f64, power_w: f64, dt_s: f64) -> f64 {
    match ThermalModel::of(p) {
        ThermalModel::Isothermal => p.tamb_k,
        ThermalModel::Instant { .. } => steady_temp_k(p, power_w),
        ThermalModel::Dynamic { tau_s, .. } => {
            let t_inf = steady_temp_k(p, power_w);
            t_inf + (temp_k - t_inf) * (-dt_s / tau_s).exp()
        }
    }
}

/// Exact update with a precomputed decay factor `e^(−dt/τ)` (the per-step hot path).
#[inline(always)]
pub fn temp_after_with_decay(p: &MtjParams, temp_k: f64, power_w: f64, decay: f64) -> f64 {
    let t_inf = p.tamb_k + power_w * p.rth_k_per_w;
    t_inf + (temp_k - t_inf) * decay
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_update_composes() {
        let p = MtjParams {
            rth_k_per_w: 5e5,
            cth_j_per_k: 4e-14,
            ..MtjParams::default()
        };
        let tau = 2e-8;
        assert!((ThermalModel::of(&p).tau_s() - tau).abs() < 1e-22);
        // Two half steps equal one full step (exactness of the exponential update).
        let a = temp_after_k(&p, 300.0, 1e-4, 1e-9);
        let b = temp_after_k(&p, temp_after_k(&p, 300.0, 1e-4, 5e-10), 1e-4, 5e-10);
        assert!((a - b).abs() < 1e-11);
        assert!((dtemp_dt(&p, 300.0, 1e-4) - 1e-4 / 4e-14).abs() < 1e-3);
    }
}
