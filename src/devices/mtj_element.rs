//! The MTJ (`N`) element in circuits: each device's magnetization `m` and temperature `T`
//! are unknowns of the same implicit system as the node voltages, so the circuit, the spin
//! torque and the heat see each other at every Newton iteration of every step.
//!
//! Unknowns per device: `mx, my, mz, T` (equations named `<name>#mx` … `<name>#temp`).
//! Rows (transient, step h from t₀ to t₁ = t₀ + h):
//! - KCL at `free`/`ref`: `I = G(m, V, T)·V` leaves `free`, enters `ref`.
//! - magnetization: `m₁ − m₀ − h/2 [f(m₁, T₁, I₁, Hₜₕ) + f(m₀, T₀, I₀, Hₜₕ)] = 0` — the
//!   trapezoidal rule with *one* Brown-field sample `Hₜₕ` held over the step in both ends.
//!   For the stochastic equation this is the implicit (trapezoidal) form of stochastic
//!   Heun, which converges to the Stratonovich solution; a two-step recursion such as the
//!   circuit's own trapezoidal companion model would mix two steps' noise samples and is
//!   therefore not used for `m`. After each accepted step `m` is projected back onto
//!   |m| = 1 (the trapezoidal rule conserves |m| only to O(h³) per step).
//! - temperature: `cth dT/dt = I·V − (T − tamb)/rth`, integrated by the circuit's own
//!   method (trapezoidal or Gear) like any charge; `cth = 0` makes it algebraic and
//!   `rth = 0` pins `T = tamb`.
//!
//! In DC the magnetization is frozen at its initial state and the temperature is either
//! the instance's `temp0` or the Joule-heated steady state.
//!
//! Noise: the Brown field sample of a step attempt is drawn from a generator seeded by
//! (device seed, step index, attempt), so every Newton iteration of the attempt sees the
//! same sample and a run with the same seed reproduces bit for bit. With noise on, the
//! truncation-error control ignores `m` (white noise has no smooth derivative to estimate)
//! and the step is capped at the standalone stepper's `recommended_dt_s` instead (about 2 ps
//! for pmtj_mem; see docs/device-model.md "Step size in circuits").
//!
//! Multirate (`.options mtj_subcycle=N`, N ≥ 1): instead of forcing picosecond steps on
//! the whole circuit, each MTJ integrates m *inside* the circuit step with up to N substeps
//! of the standalone stepper (stochastic Heun / RK4 at `recommended_dt_s`), under the
//! device voltage interpolated linearly from the last accepted point to the present Newton
//! iterate and the present temperature. The m rows then just hold `m = m₁(V)` (identity
//! rows; ∂m₁/∂V is left out of the Jacobian, so Newton iterates m as a fixed point, which
//! converges because m moves little within one step), and the circuit step is limited to
//! N substeps. Noise: the substeps of a step attempt draw from the (seed, step, attempt)
//! generator in order, so every Newton iteration sees the same path and runs reproduce.
//!
//! Thermal node (optional third terminal): the temperature unknown is then an ordinary
//! circuit node whose voltage is the rise `T − tamb` (1 V ≡ 1 K) and whose KCL row is the
//! heat balance in watts, so resistors between thermal nodes (1 Ω ≡ 1 K/W) are thermal
//! conductances between devices: thermal crosstalk with ordinary netlist syntax.

use std::collections::HashMap;

use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::mtj::integrator::{Drive, MacrospinState, Stepper, recommended_dt_s};
use super::mtj::llgs::{MagCoeffs, dm_dt, dm_dt_jacobian};
use super::mtj::params::{InstanceParams, MtjParams};
use super::mtj::temperature::precession_frequency_hz;
use super::mtj::transport::conductance;
use super::mtj::vec3::{V3, dot};
use super::{Device, LoadCtx, Mode, Setup, TruncCtx};
use crate::circuit::{Model, Options};

/// Pinning conductance (in units of 1/rth) that holds a thermal node at `temp0` where the
/// temperature is prescribed (DC with `temp0=`, the t = 0 point of a UIC transient).
const PIN_G_PER_RTH: f64 = 1e6;
/// Lowest temperature the dynamics are evaluated at (K): guards the first Newton
/// iteration, where the temperature unknown may still be zero.
const MIN_TEMP_K: f64 = 1.0;
/// Multirate MTJs re-integrate m only when the voltage across them moved by more than this
/// since the last integration at the same step attempt (V): a thousandth of VNTOL, the
/// voltage resolution Newton's own convergence test works to.
const SUBCYCLE_REUSE_V: f64 = 1e-9;
/// … or their temperature by more than this (K).
const SUBCYCLE_REUSE_K: f64 = 1e-9;

/// Build the circuit device for an `N` element.
pub fn build(
    name: String,
    [free, reference]: [usize; 2],
    thermal: Option<usize>,
    card: &Model,
    params: &HashMap<String, f64>,
    options: &Options,
) -> Result<Box<dyn Device>, String> {
    let p = MtjParams::from_model_with_ambient(card, options.temp_k)
        .map_err(|e| format!("{name}: {e}"))?;
    let inst = InstanceParams::from_map(params).map_err(|e| format!("{name}: {e}"))?;
    let seed = inst.seed.unwrap_or_else(|| {
        let global = options.seed.unwrap_or(0);
        // Distinct, reproducible stream per element name.
        name.bytes().fold(global ^ 0x9E37_79B9_7F4A_7C15, |h, b| {
            (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01B3)
        })
    });
    if thermal.is_some() && p.rth_k_per_w <= 0.0 {
        return Err(format!(
            "{name}: a thermal node needs a model card with rth > 0 (the device's own heat path)"
        ));
    }
    let m_init = inst.initial_m(&p);
    let subcycle = match options.extra.get("mtj_subcycle").copied() {
        None => 0,
        Some(n) if n >= 0.0 && n.fract() == 0.0 && n <= 1e6 => n as u32,
        Some(n) => {
            return Err(format!(
                "mtj_subcycle must be a non-negative integer (substeps per circuit step), got {n}"
            ));
        }
    };
    let dt_sub = recommended_dt_s(&p, p.tamb_k, 0.0, [0.0; 3]);
    Ok(Box::new(MtjElement {
        subcycle,
        dt_sub,
        name,
        free,
        reference,
        thermal,
        m_init,
        temp0: inst.temp0_k,
        seed,
        p,
        eq_m: [0; 3],
        eq_t: 0,
        state: 0,
        kcl: [[0; 6]; 2],
        mrow: [[0; 6]; 3],
        trow: [0; 6],
        rhs: [0; 6],
    }))
}

/// One MTJ in a circuit.
pub struct MtjElement {
    name: String,
    free: usize,
    reference: usize,
    /// Thermal node: `eq_t` is this circuit node and holds `T − tamb` (K).
    thermal: Option<usize>,
    /// Multirate: at most this many internal substeps per circuit step (0 = off).
    subcycle: u32,
    /// Internal substep (s): the stepper's `recommended_dt_s` at ambient.
    dt_sub: f64,
    m_init: V3,
    temp0: Option<f64>,
    seed: u64,
    p: MtjParams,
    eq_m: [usize; 3],
    eq_t: usize,
    /// States: m_k at `state + 2k` with dm_k/dt at `+1`; T at `state + 6`, dT/dt at `+7`;
    /// the device current at `state + 8`, its voltage at `state + 9`; multirate: the voltage
    /// and temperature m was last integrated under (this step attempt) at `+10`, `+11`.
    state: usize,
    /// Matrix slots of the KCL rows (free, ref) × columns (free, ref, mx, my, mz, T).
    kcl: [[usize; 6]; 2],
    /// Slots of the m rows × columns (mx, my, mz, free, ref, T).
    mrow: [[usize; 6]; 3],
    /// Slots of the T row × columns (T, free, ref, mx, my, mz).
    trow: [usize; 6],
    /// Rhs slots: free, ref, mx, my, mz, T.
    rhs: [usize; 6],
}

impl MtjElement {
    /// Offset between the temperature unknown and the temperature (K): `tamb` on a
    /// thermal node (which holds the rise), 0 on the internal equation.
    fn t_offset(&self) -> f64 {
        if self.thermal.is_some() {
            self.p.tamb_k
        } else {
            0.0
        }
    }

    fn temp_of(&self, x: &[f64]) -> f64 {
        if self.p.rth_k_per_w > 0.0 {
            (x[self.eq_t] + self.t_offset()).max(MIN_TEMP_K)
        } else {
            self.p.tamb_k
        }
    }

    fn m_of(&self, x: &[f64]) -> V3 {
        [x[self.eq_m[0]], x[self.eq_m[1]], x[self.eq_m[2]]]
    }

    /// Brown field sample (A/m) for this step attempt at the start-of-step temperature.
    fn thermal_field(&self, ctx: &LoadCtx, temp0_k: f64, h: f64) -> V3 {
        if !self.p.noise || ctx.mode == Mode::Dc || h <= 0.0 {
            return [0.0; 3];
        }
        let sigma = MagCoeffs::new(&self.p, temp0_k).brown_sigma_a_per_m(h);
        let key = self.seed
            ^ ctx.step_index.wrapping_mul(0xD1B5_4A32_D192_ED03)
            ^ (ctx.attempt as u64).wrapping_mul(0xA24B_AED4_963E_E407);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(key);
        std::array::from_fn(|_| {
            let xi: f64 = StandardNormal.sample(&mut rng);
            sigma * xi
        })
    }
}

impl MtjElement {
    /// Multirate: m at the end of the circuit step from `m_old`, integrated with substeps of
    /// at most `dt_sub` under the voltage ramp `v_old → v_new` at temperature `temp_k`.
    fn subcycled_m(
        &self,
        ctx: &LoadCtx,
        m_old: V3,
        v_old: f64,
        v_new: f64,
        temp_k: f64,
        h: f64,
    ) -> V3 {
        if h <= 0.0 {
            return m_old;
        }
        let n = (h / self.dt_sub).ceil().max(1.0);
        let dt = h / n;
        let key = self.seed
            ^ ctx.step_index.wrapping_mul(0xD1B5_4A32_D192_ED03)
            ^ (ctx.attempt as u64).wrapping_mul(0xA24B_AED4_963E_E407);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(key);
        let mut stepper = Stepper::new(&self.p);
        let mut st = MacrospinState { m: m_old, temp_k };
        let n = n as u32;
        for k in 0..n {
            // The stepper evolves T itself for heated cards; the circuit owns T here.
            st.temp_k = temp_k;
            let vk = v_old + (v_new - v_old) * (k as f64 + 0.5) / n as f64;
            stepper.step_fast(&mut st, &Drive::voltage(vk), dt, &mut rng);
        }
        st.m
    }
}

impl Device for MtjElement {
    fn name(&self) -> &str {
        &self.name
    }
    fn setup_equations(&mut self, s: &mut Setup) -> Option<usize> {
        for (k, c) in ["mx", "my", "mz"].iter().enumerate() {
            self.eq_m[k] = s.new_equation(format!("{}#{c}", self.name));
        }
        self.eq_t = match self.thermal {
            Some(node) => node,
            None => s.new_equation(format!("{}#temp", self.name)),
        };
        None
    }
    fn setup_slots(&mut self, s: &mut Setup) -> Result<(), String> {
        self.state = s.states(12);
        let [mx, my, mz] = self.eq_m;
        let (f, r, t) = (self.free, self.reference, self.eq_t);
        for (row, slots) in [f, r].into_iter().zip(self.kcl.iter_mut()) {
            *slots = [f, r, mx, my, mz, t].map(|c| s.slot(row, c));
        }
        // Multirate m rows are `m = m₁` (identity rows): without their structurally zero
        // off-diagonal entries each m is a 1×1 block of the LU's block triangular form,
        // outside the array's blocks.
        let multirate = self.subcycle > 0;
        for (k, slots) in self.mrow.iter_mut().enumerate() {
            let row = self.eq_m[k];
            let cols = [mx, my, mz, f, r, t];
            *slots = std::array::from_fn(|j| {
                if multirate && j != k {
                    crate::linalg::TRASH
                } else {
                    s.slot(row, cols[j])
                }
            });
        }
        self.trow = [t, f, r, mx, my, mz].map(|c| s.slot(t, c));
        self.rhs = [f, r, mx, my, mz, t].map(|e| s.rhs(e));
        Ok(())
    }

    fn is_nonlinear(&self) -> bool {
        true
    }

    fn load(&self, ctx: &mut LoadCtx) {
        let x = ctx.x;
        let v = x[self.free] - x[self.reference];
        let m = self.m_of(x);
        let temp = self.temp_of(x);
        let mp = self.p.mp;
        let c = dot(m, mp);
        let g = conductance(&self.p, c, v, temp);
        let i = g.g_s * v;
        let di_dv = g.g_s + v * g.dg_dv;
        let di_dm: V3 = std::array::from_fn(|k| v * g.dg_dmdotp * mp[k]);
        let di_dt = v * g.dg_dtemp;
        let s = self.state;

        // KCL: I(V, m, T) leaves `free`, enters `ref`; linearised around the iterate.
        let cols_val = [
            x[self.free],
            x[self.reference],
            m[0],
            m[1],
            m[2],
            x[self.eq_t],
        ];
        let d_i = [
            di_dv,
            -di_dv,
            di_dm[0],
            di_dm[1],
            di_dm[2],
            if self.p.rth_k_per_w > 0.0 { di_dt } else { 0.0 },
        ];
        let lin: f64 = d_i.iter().zip(&cols_val).map(|(d, x)| d * x).sum();
        for (k, d) in d_i.iter().enumerate() {
            ctx.mat[self.kcl[0][k]] += d;
            ctx.mat[self.kcl[1][k]] -= d;
        }
        ctx.rhs[self.rhs[0]] -= i - lin;
        ctx.rhs[self.rhs[1]] += i - lin;
        ctx.state0[s + 8] = i;
        ctx.state0[s + 9] = v;

        // Temperature row.
        let p_w = i * v;
        let dp = [
            di_dv * v + i,
            -(di_dv * v + i),
            v * di_dm[0],
            v * di_dm[1],
            v * di_dm[2],
            v * di_dt,
        ];
        let (rth, cth) = (self.p.rth_k_per_w, self.p.cth_j_per_k);
        let t_unknown = x[self.eq_t];
        let t_off = self.t_offset();
        let pinned = if ctx.mode == Mode::Dc {
            self.temp0
        } else {
            None
        };
        if rth <= 0.0 || pinned.is_some() || ctx.uic_start {
            let target = pinned.unwrap_or(if rth <= 0.0 {
                self.p.tamb_k
            } else {
                self.temp0.unwrap_or(self.p.tamb_k)
            });
            if self.thermal.is_some() {
                // A shared node: pin it with a stiff conductance to `target` instead of
                // owning the row.
                let g = PIN_G_PER_RTH / rth;
                ctx.mat[self.trow[0]] += g;
                ctx.rhs[self.rhs[5]] += g * (target - t_off);
            } else {
                ctx.mat[self.trow[0]] += 1.0;
                ctx.rhs[self.rhs[5]] += target;
            }
            ctx.state0[s + 6] = target;
            ctx.state0[s + 7] = 0.0;
        } else {
            // F = cth dT/dt + (T − tamb)/rth − P = 0, scaled so the diagonal is O(1). The
            // state holds T itself, so its integrated "current" is dT/dt. On a thermal node
            // the row is a KCL row in watts shared with thermal resistors: no scaling.
            let temp_raw = t_unknown + t_off;
            ctx.state0[s + 6] = temp_raw;
            let (dtdt, ag0) = if ctx.mode == Mode::Tran && cth > 0.0 {
                ctx.integrate(s + 6)
            } else {
                (0.0, 0.0)
            };
            let f0 = cth * dtdt + (temp_raw - self.p.tamb_k) / rth - p_w;
            let scale = if self.thermal.is_some() {
                1.0
            } else {
                1.0 / (ag0 * cth + 1.0 / rth)
            };
            let diag = ag0 * cth + 1.0 / rth - dp[5];
            let mut lin = diag * t_unknown;
            ctx.mat[self.trow[0]] += diag * scale;
            let cols = [x[self.free], x[self.reference], m[0], m[1], m[2]];
            for k in 0..5 {
                let d = -dp[k];
                ctx.mat[self.trow[k + 1]] += d * scale;
                lin += d * cols[k];
            }
            ctx.rhs[self.rhs[5]] += (lin - f0) * scale;
            if ctx.mode == Mode::Dc {
                ctx.state0[s + 7] = 0.0;
            }
        }

        // Magnetization rows.
        if ctx.mode == Mode::Dc || ctx.uic_start {
            for k in 0..3 {
                ctx.mat[self.mrow[k][k]] += 1.0;
                ctx.rhs[self.rhs[2 + k]] += self.m_init[k];
                ctx.state0[s + 2 * k] = self.m_init[k];
                ctx.state0[s + 2 * k + 1] = 0.0;
            }
            return;
        }
        let h = ctx.integ.delta_old[0];
        let hist = ctx.hist[0];
        let m_old: V3 = [hist[s], hist[s + 2], hist[s + 4]];
        if self.subcycle > 0 {
            // The same step attempt, voltage and temperature give the same m (the noise is
            // keyed by the attempt): a later Newton iteration whose inputs moved less than
            // SUBCYCLE_REUSE_V / _K keeps the last iteration's m instead of integrating again
            // — an idle cell of an array (transistor off) does so at every iteration.
            let last = &ctx.state0[s..s + 12];
            let reuse = !ctx.point_start
                && (v - last[10]).abs() <= SUBCYCLE_REUSE_V
                && (temp - last[11]).abs() <= SUBCYCLE_REUSE_K;
            let m1 = if reuse {
                [last[0], last[2], last[4]]
            } else {
                ctx.state0[s + 10] = v;
                ctx.state0[s + 11] = temp;
                self.subcycled_m(ctx, m_old, hist[s + 9], v, temp, h)
            };
            for (k, &mk) in m1.iter().enumerate() {
                ctx.mat[self.mrow[k][k]] += 1.0;
                ctx.rhs[self.rhs[2 + k]] += mk;
                ctx.state0[s + 2 * k] = mk;
                ctx.state0[s + 2 * k + 1] = 0.0;
            }
            return;
        }
        let temp_old = hist[s + 6].max(MIN_TEMP_K);
        let i_old = hist[s + 8];
        let h_th = self.thermal_field(
            ctx,
            if self.p.rth_k_per_w > 0.0 {
                temp_old
            } else {
                self.p.tamb_k
            },
            h,
        );
        let f_new = dm_dt(&self.p, m, temp, i, h_th);
        let f_old = dm_dt(
            &self.p,
            m_old,
            if self.p.rth_k_per_w > 0.0 {
                temp_old
            } else {
                self.p.tamb_k
            },
            i_old,
            h_th,
        );
        let jac = dm_dt_jacobian(&self.p, m, temp, i, h_th);
        // Total derivatives of f through I(V, m, T).
        for k in 0..3 {
            let mut row = [0.0f64; 6];
            for j in 0..3 {
                let dfdm = jac.d_m[k][j] + jac.d_current[k] * di_dm[j];
                row[j] = if j == k { 1.0 } else { 0.0 } - 0.5 * h * dfdm;
            }
            let dfdv = jac.d_current[k] * di_dv;
            row[3] = -0.5 * h * dfdv;
            row[4] = 0.5 * h * dfdv;
            row[5] = if self.p.rth_k_per_w > 0.0 {
                -0.5 * h * (jac.d_temp[k] + jac.d_current[k] * di_dt)
            } else {
                0.0
            };
            let resid = m[k] - m_old[k] - 0.5 * h * (f_new[k] + f_old[k]);
            let lin: f64 = row
                .iter()
                .zip(&cols_val_m(&cols_val))
                .map(|(a, b)| a * b)
                .sum();
            for (j, a) in row.iter().enumerate() {
                ctx.mat[self.mrow[k][j]] += a;
            }
            ctx.rhs[self.rhs[2 + k]] += lin - resid;
            ctx.state0[s + 2 * k] = m[k];
            ctx.state0[s + 2 * k + 1] = f_new[k];
        }
    }

    fn truncate(&self, ctx: &TruncCtx) -> f64 {
        let mut dt = f64::INFINITY;
        if self.p.rth_k_per_w > 0.0 && self.p.cth_j_per_k > 0.0 {
            dt = dt.min(ctx.integ.truncation_step(&ctx.states, self.state + 6, ctx));
        }
        if !self.p.noise && self.subcycle == 0 {
            for k in 0..3 {
                dt = dt.min(
                    ctx.integ
                        .truncation_step(&ctx.states, self.state + 2 * k, ctx),
                );
            }
        }
        dt
    }

    fn max_step(&self) -> f64 {
        if self.subcycle > 0 {
            return self.subcycle as f64 * self.dt_sub;
        }
        if self.p.noise {
            // The standalone stepper's step (precession resolved to z ≤ (0.04α)^(1/3) rad
            // and rms thermal kick ≤ 0.03 rad per step) at ambient and zero current: the
            // equilibrium and switching statistics were validated at this step
            // (tests/mtj_circuit.rs compares the two).
            return recommended_dt_s(&self.p, self.p.tamb_k, 0.0, [0.0; 3]);
        }
        let f = precession_frequency_hz(&self.p, self.p.tamb_k);
        if f > 0.0 {
            1.0 / (10.0 * f)
        } else {
            f64::INFINITY
        }
    }

    fn accepts(&self) -> bool {
        true
    }

    fn accept(&self, x: &mut [f64], state0: &mut [f64]) {
        let m = self.m_of(x);
        let n = dot(m, m).sqrt();
        if n > 0.0 {
            for k in 0..3 {
                x[self.eq_m[k]] = m[k] / n;
                state0[self.state + 2 * k] = m[k] / n;
            }
        }
    }

    fn init_unknowns(&self, x: &mut [f64]) {
        for k in 0..3 {
            x[self.eq_m[k]] = self.m_init[k];
        }
        x[self.eq_t] = self.temp0.unwrap_or(self.p.tamb_k) - self.t_offset();
    }

    fn quantities(&self, x: &[f64], state0: &[f64]) -> Vec<(&'static str, f64)> {
        let v = x[self.free] - x[self.reference];
        let m = self.m_of(x);
        let temp = self.temp_of(x);
        let g = conductance(&self.p, dot(m, self.p.mp), v, temp).g_s;
        let i = state0[self.state + 8];
        vec![
            ("mx", m[0]),
            ("my", m[1]),
            ("mz", m[2]),
            ("temp", temp),
            ("r", 1.0 / g),
            ("p", i * v),
            ("i", i),
        ]
    }
}

/// Column values in m-row order (mx, my, mz, free, ref, T) from KCL order.
fn cols_val_m(kcl_order: &[f64; 6]) -> [f64; 6] {
    [
        kcl_order[2],
        kcl_order[3],
        kcl_order[4],
        kcl_order[0],
        kcl_order[1],
        kcl_order[5],
    ]
}
