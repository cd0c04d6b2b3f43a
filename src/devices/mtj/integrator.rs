//! One-device time stepping: stochastic Heun (noise on) or RK4 (noise off) for the
//! magnetization, exact exponential update for the thermal node, projection back onto the
//! unit sphere after every step. Plus the pure pieces (drift, Brown increment, dT/dt) a
//! circuit-level implicit integrator needs to advance m and T together with node voltages.
//!
//! Why this scheme (details in docs/device-model.md):
//! - The Brown field enters multiplicatively (`m × H_th`) and is defined in the Stratonovich
//!   sense (it is the white-noise limit of a physical coloured field); stochastic Heun —
//!   Euler predictor, trapezoidal corrector, *the same* noise sample in both stages —
//!   converges to the Stratonovich solution (weak order 1, deterministic order 2).
//! - Heun does not preserve |m|: one step changes |m|² by `dt² |f0 − f1|²/4 = O(dt²)` (the
//!   O(dt) parts cancel because each stage's drift is ⊥ its own m). Projecting back is a
//!   radial O(dt²) correction per step, O(dt) over a fixed time, so it vanishes in the
//!   dt → 0 limit and does not change the Stratonovich drift; it keeps |m| = 1 to rounding.
//! - Without noise, RK4 (order 4) + projection is used: its energy error per step is
//!   O((ω dt)⁶), small enough for the 10⁶-step conservation test at 60 steps per period.

use rand::Rng;
use rand_distr::StandardNormal;

use super::constants::{GAMMA_MU0, K_B};
use super::llgs::{CoeffConsts, MagCoeffs, rhs_with};
use super::params::{InstanceParams, MtjParams};
use super::temperature::{eta, stiffness_a_per_m, stt_coeff_per_a};
use super::thermal::{ThermalModel, dtemp_dt, temp_after_with_decay};
use super::transport::voltage_for_current_from;
use super::vec3::{V3, add, axpy, dot, norm, scale};

/// State of one macrospin device: unit magnetization and device temperature.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MacrospinState {
    pub m: V3,
    pub temp_k: f64,
}

impl MacrospinState {
    /// Initial state from an element's instance parameters. With an isothermal card
    /// (`rth = 0`) the temperature is the ambient one whatever `temp0` says.
    pub fn new(p: &MtjParams, ip: &InstanceParams) -> MacrospinState {
        let temp_k = match ThermalModel::of(p) {
            ThermalModel::Isothermal => p.tamb_k,
            _ => ip.temp0_k.unwrap_or(p.tamb_k),
        };
        MacrospinState {
            m: ip.initial_m(p),
            temp_k,
        }
    }

    /// Along `state · easy` (`+1` = P for the default reference), tilted by `theta0`, at tamb.
    pub fn along(p: &MtjParams, state: f64, theta0: f64) -> MacrospinState {
        let ip = InstanceParams {
            state,
            theta0,
            ..Default::default()
        };
        MacrospinState::new(p, &ip)
    }
}

/// How the device is biased during a step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bias {
    /// Current through the device (A), positive free → ref (favours P).
    Current(f64),
    /// Voltage free − ref (V); the current follows `G(m, V, T) V` within the step.
    Voltage(f64),
}

/// Drive of one step: bias plus a field added to the card's `hx, hy, hz` (A/m).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Drive {
    pub bias: Bias,
    pub h_applied: V3,
}

impl Drive {
    /// No current, no extra field.
    pub const OFF: Drive = Drive {
        bias: Bias::Current(0.0),
        h_applied: [0.0; 3],
    };
    /// Current drive (A).
    pub fn current(current_a: f64) -> Drive {
        Drive {
            bias: Bias::Current(current_a),
            h_applied: [0.0; 3],
        }
    }
    /// Voltage drive (V).
    pub fn voltage(voltage_v: f64) -> Drive {
        Drive {
            bias: Bias::Voltage(voltage_v),
            h_applied: [0.0; 3],
        }
    }
    /// Same drive with an extra applied field (A/m).
    pub fn with_field(self, h_applied: V3) -> Drive {
        Drive { h_applied, ..self }
    }
}

/// Electrical quantities at the start of a step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepOutput {
    pub current_a: f64,
    pub voltage_v: f64,
    /// Joule power `I V` (W).
    pub power_w: f64,
}

/// Cached per-temperature and per-step-size coefficients for stepping one device (or many
/// devices of the same card). Cheap to create; reuse it across steps so isothermal runs
/// never recompute Ms(T), Ku(T).
#[derive(Debug, Clone)]
pub struct Stepper<'a> {
    p: &'a MtjParams,
    consts: CoeffConsts,
    coeffs: MagCoeffs,
    thermal: ThermalModel,
    dt_s: f64,
    inv_sqrt_dt: f64,
    decay: f64,
    /// Last device voltage solved under current bias: the Newton guess for the next step.
    v_guess: f64,
}

impl<'a> Stepper<'a> {
    pub fn new(p: &'a MtjParams) -> Stepper<'a> {
        Stepper {
            p,
            consts: CoeffConsts::new(p),
            coeffs: MagCoeffs::new(p, p.tamb_k),
            thermal: ThermalModel::of(p),
            dt_s: f64::NAN,
            inv_sqrt_dt: f64::NAN,
            decay: f64::NAN,
            v_guess: f64::NAN,
        }
    }

    /// The card.
    pub fn params(&self) -> &'a MtjParams {
        self.p
    }

    /// The thermal law in use.
    pub fn thermal(&self) -> ThermalModel {
        self.thermal
    }

    /// Advance `state` by `dt_s` under `drive`. Stochastic Heun with the Brown field at the
    /// device's temperature at the start of the step when the card has `noise=1`, else RK4.
    /// The temperature is then advanced exactly with the Joule power at the start of the
    /// step. Returns the current, voltage and power at the start of the step.
    pub fn step<R: Rng + ?Sized>(
        &mut self,
        state: &mut MacrospinState,
        drive: &Drive,
        dt_s: f64,
        rng: &mut R,
    ) -> StepOutput {
        self.step_impl::<R, true>(state, drive, dt_s, rng)
    }

    /// As [`Stepper::step`] but skips the voltage/power bookkeeping when nothing needs it
    /// (isothermal card under current bias): then `voltage_v` and `power_w` are NaN.
    #[inline]
    pub fn step_fast<R: Rng + ?Sized>(
        &mut self,
        state: &mut MacrospinState,
        drive: &Drive,
        dt_s: f64,
        rng: &mut R,
    ) -> StepOutput {
        self.step_impl::<R, false>(state, drive, dt_s, rng)
    }

    #[inline(always)]
    fn step_impl<R: Rng + ?Sized, const OUT: bool>(
        &mut self,
        state: &mut MacrospinState,
        drive: &Drive,
        dt_s: f64,
        rng: &mut R,
    ) -> StepOutput {
        let p = self.p;
        if state.temp_k != self.coeffs.temp_k {
            self.coeffs = MagCoeffs::from_consts(p, &self.consts, state.temp_k);
        }
        if dt_s != self.dt_s {
            self.dt_s = dt_s;
            self.inv_sqrt_dt = 1.0 / dt_s.sqrt();
            self.decay = match self.thermal {
                ThermalModel::Dynamic { tau_s, .. } => (-dt_s / tau_s).exp(),
                _ => 0.0,
            };
        }
        let c = &self.coeffs;
        let h_ext = add(p.h_app_a_per_m, drive.h_applied);
        let m0 = state.m;
        let t0 = state.temp_k;

        // Current as a function of m within the step (bias and T fixed).
        let (i_fixed, v_bias, gp2, gap2) = match drive.bias {
            Bias::Current(i) => (Some(i), 0.0, 0.0, 0.0),
            Bias::Voltage(v) => {
                let gp = p.g_p_s();
                let gap = gp / (1.0 + super::temperature::tmr(p, v, t0));
                (None, v, 0.5 * gp, 0.5 * gap)
            }
        };
        let current = |m: V3| -> f64 {
            match i_fixed {
                Some(i) => i,
                None => {
                    let cdp = dot(m, p.mp);
                    v_bias * (gp2 * (1.0 + cdp) + gap2 * (1.0 - cdp))
                }
            }
        };

        let i0 = current(m0);
        let m1 = if p.noise {
            let sigma = c.noise_sqrt_s * self.inv_sqrt_dt;
            let xi = sample_xi(rng);
            let h = axpy(h_ext, sigma, xi);
            heun(p, c, m0, &current, h, dt_s, i0)
        } else {
            rk4(p, c, m0, &current, h_ext, dt_s, i0)
        };
        state.m = project(m1);

        let need_v = OUT || !matches!(self.thermal, ThermalModel::Isothermal);
        let mut out = StepOutput {
            current_a: i0,
            voltage_v: f64::NAN,
            power_w: f64::NAN,
        };
        if need_v {
            let v0 = match drive.bias {
                Bias::Voltage(v) => v,
                Bias::Current(i) => {
                    let v = voltage_for_current_from(p, dot(m0, p.mp), i, t0, self.v_guess);
                    self.v_guess = v;
                    v
                }
            };
            out.voltage_v = v0;
            out.power_w = i0 * v0;
        }
        state.temp_k = match self.thermal {
            ThermalModel::Isothermal => p.tamb_k,
            ThermalModel::Instant { rth_k_per_w } => p.tamb_k + out.power_w * rth_k_per_w,
            ThermalModel::Dynamic { .. } => temp_after_with_decay(p, t0, out.power_w, self.decay),
        };
        out
    }
}

/// One step of [`Stepper::step`] without a reusable stepper (recomputes the coefficients).
pub fn step<R: Rng + ?Sized>(
    p: &MtjParams,
    state: &mut MacrospinState,
    drive: &Drive,
    dt_s: f64,
    rng: &mut R,
) -> StepOutput {
    Stepper::new(p).step(state, drive, dt_s, rng)
}

/// Stochastic Heun: predictor Euler, corrector trapezoid, same field `h` (with the noise
/// sample) in both stages.
#[inline(always)]
fn heun(
    p: &MtjParams,
    c: &MagCoeffs,
    m0: V3,
    current: &impl Fn(V3) -> f64,
    h: V3,
    dt: f64,
    i0: f64,
) -> V3 {
    let f0 = rhs_with(p, c, m0, i0, h);
    let mp = axpy(m0, dt, f0);
    let f1 = rhs_with(p, c, mp, current(mp), h);
    let hdt = 0.5 * dt;
    [
        m0[0] + hdt * (f0[0] + f1[0]),
        m0[1] + hdt * (f0[1] + f1[1]),
        m0[2] + hdt * (f0[2] + f1[2]),
    ]
}

/// Classical RK4 for the deterministic path.
#[inline(always)]
fn rk4(
    p: &MtjParams,
    c: &MagCoeffs,
    m0: V3,
    current: &impl Fn(V3) -> f64,
    h: V3,
    dt: f64,
    i0: f64,
) -> V3 {
    let k1 = rhs_with(p, c, m0, i0, h);
    let m2 = axpy(m0, 0.5 * dt, k1);
    let k2 = rhs_with(p, c, m2, current(m2), h);
    let m3 = axpy(m0, 0.5 * dt, k2);
    let k3 = rhs_with(p, c, m3, current(m3), h);
    let m4 = axpy(m0, dt, k3);
    let k4 = rhs_with(p, c, m4, current(m4), h);
    let s = dt / 6.0;
    [
        m0[0] + s * (k1[0] + 2.0 * k2[0] + 2.0 * k3[0] + k4[0]),
        m0[1] + s * (k1[1] + 2.0 * k2[1] + 2.0 * k3[1] + k4[1]),
        m0[2] + s * (k1[2] + 2.0 * k2[2] + 2.0 * k3[2] + k4[2]),
    ]
}

/// Projection onto the unit sphere.
#[inline(always)]
fn project(m: V3) -> V3 {
    let inv = 1.0 / dot(m, m).sqrt();
    [m[0] * inv, m[1] * inv, m[2] * inv]
}

/// Three independent standard normal samples (the ξ of the Brown field).
#[inline(always)]
pub fn sample_xi<R: Rng + ?Sized>(rng: &mut R) -> V3 {
    [
        rng.sample(StandardNormal),
        rng.sample(StandardNormal),
        rng.sample(StandardNormal),
    ]
}

// ---------------------------------------------------------------------------------------
// Pure pieces for circuit-level (implicit) coupling.
// ---------------------------------------------------------------------------------------

/// Brown field standard deviation per component for a step `dt_s` at device temperature
/// `temp_k`: `σ = √(2 α k_B T / (γ μ0² Ms(T) V dt))` (A/m). Zero when the card has `noise=0`.
pub fn brown_sigma_a_per_m(p: &MtjParams, temp_k: f64, dt_s: f64) -> f64 {
    if !p.noise {
        return 0.0;
    }
    MagCoeffs::new(p, temp_k).brown_sigma_a_per_m(dt_s)
}

/// The Brown field held constant over a step of `dt_s`: `σ ξ` for a given standard normal
/// `xi` (A/m). An implicit solver adds this to `h_extra` of [`super::llgs::dm_dt`] for the
/// whole step (Stratonovich: same sample at both ends of a trapezoidal/midpoint step).
pub fn brown_field_increment(p: &MtjParams, temp_k: f64, dt_s: f64, xi: V3) -> V3 {
    scale(brown_sigma_a_per_m(p, temp_k, dt_s), xi)
}

/// Time derivatives of the device state as pure functions of it: `(dm/dt, dT/dt)` for
/// magnetization `m`, temperature `temp_k`, device current `current_a`, device voltage
/// `voltage_v` (power `I V` heats the node) and extra field `h_extra` (drive + Brown
/// sample). `dT/dt` is 0 when the card's temperature is algebraic (rth = 0 or cth = 0, see
/// [`super::thermal::steady_temp_k`]).
pub fn state_rates(
    p: &MtjParams,
    m: V3,
    temp_k: f64,
    current_a: f64,
    voltage_v: f64,
    h_extra: V3,
) -> (V3, f64) {
    (
        super::llgs::dm_dt(p, m, temp_k, current_a, h_extra),
        dtemp_dt(p, temp_k, current_a * voltage_v),
    )
}

/// A step size (s) that resolves the dynamics, used as the default by the experiments:
/// `min(z/ω, 2.25e-4/D)`, where `ω = γμ0 (max internal field + |H| + |a_J|(1+|β|))/(1+α²)`
/// bounds the precession rate, `z = 0.1` (≥ 60 steps per period; Heun's relative phase
/// error `(ω dt)²/6` < 0.2%) or smaller with noise on, where Heun's spurious anti-damping
/// `z³/8` per radian must stay ≤ 0.5% of α (`z ≤ (0.04 α)^(1/3)`), and `D = α γ k_B T / ((1+α²) Ms V)` is the angular diffusion
/// constant (the rms thermal kick per step `√(4 D dt)` stays ≤ 0.03 rad).
pub fn recommended_dt_s(p: &MtjParams, temp_k: f64, current_a: f64, h_drive: V3) -> f64 {
    let c = MagCoeffs::new(p, temp_k);
    // Largest internal field over the sphere: the eigenvalues of `Hk e eᵀ − Ms N` are
    // `Hk − Ms N_e` (along e) and `−Ms N_j` (j ⊥ e).
    let (e, u, v) = p.easy_axis.frame();
    let stiff = (c.hk_a_per_m - dot(c.demag_ms, e))
        .abs()
        .max(dot(c.demag_ms, u))
        .max(dot(c.demag_ms, v))
        .max(stiffness_a_per_m(p, temp_k)[0].abs())
        .max(stiffness_a_per_m(p, temp_k)[1].abs());
    let a = stt_coeff_per_a(p, temp_k) * eta(p, 1.0).max(eta(p, -1.0)) * current_a.abs();
    let h = norm(add(p.h_app_a_per_m, h_drive));
    let al2 = 1.0 + p.alpha * p.alpha;
    let omega = GAMMA_MU0 * (stiff + h + a * (1.0 + p.beta.abs())) / al2;
    // Heun's amplification factor for a rotation by z = ω dt is |R| = 1 + z⁴/8 per step, a
    // spurious anti-damping that must stay ≤ 0.5 % of the physical one (α z per step):
    // z³ ≤ 0.04 α. RK4's error (z⁶/144 per step) is far below that.
    let z = if p.noise {
        0.1f64.min((0.04 * p.alpha).cbrt()).max(0.01)
    } else {
        0.1
    };
    let mut dt = z / omega.max(1.0);
    if p.noise && p.alpha > 0.0 {
        let d =
            p.alpha * super::constants::GAMMA * K_B * temp_k / (al2 * c.ms_a_per_m * p.volume_m3);
        dt = dt.min(2.25e-4 / d);
    }
    dt
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    #[test]
    fn same_seed_bit_identical() {
        let p = MtjParams::default();
        let run = |seed| {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
            let mut s = MacrospinState::along(&p, 1.0, 0.02);
            let mut st = Stepper::new(&p);
            let mut out = Vec::new();
            for k in 0..2000 {
                st.step(
                    &mut s,
                    &Drive::current(-60e-6 * (k as f64 / 2000.0)),
                    1e-12,
                    &mut rng,
                );
                out.push(s.m);
            }
            out
        };
        let a = run(7);
        let b = run(7);
        assert!(
            a.iter()
                .zip(&b)
                .all(|(x, y)| x.iter().zip(y).all(|(u, v)| u.to_bits() == v.to_bits()))
        );
        assert_ne!(a, run(8));
    }

    #[test]
    fn norm_is_kept() {
        let p = MtjParams::default();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        let mut s = MacrospinState::along(&p, -1.0, 0.3);
        for _ in 0..10_000 {
            step(&p, &mut s, &Drive::voltage(0.4), 1e-12, &mut rng);
            assert!((norm(s.m) - 1.0).abs() < 1e-14);
        }
    }
}
