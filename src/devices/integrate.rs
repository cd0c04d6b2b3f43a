//! Numerical integration of charges (and fluxes) for transient analysis, ngspice-style:
//! every reactive element stores its charge `q` in a state slot and the current `dq/dt` in
//! the next slot; the integrator turns the charge at the present iterate into a current and
//! its derivative, and estimates the local truncation error from divided differences.

use crate::circuit::Method;

/// Integration method, order and step-dependent coefficients of the present step.
#[derive(Debug, Clone)]
pub struct Integrator {
    pub method: Method,
    /// 1 (backward Euler) or 2 (trapezoidal / BDF2).
    pub order: usize,
    /// Present step h_n and the previous ones: `delta_old[0]` = h_n, `[1]` = h_{n−1}, ...
    pub delta_old: [f64; 4],
    /// `i_n = ag[0]·q_n + ag[1]·q_{n−1} + ag[2]·q_{n−2}` (Gear / BE), or for trapezoidal
    /// order 2 `i_n = ag[0]·(q_n − q_{n−1}) − i_{n−1}`.
    pub ag: [f64; 3],
}

impl Default for Integrator {
    fn default() -> Self {
        Integrator {
            method: Method::Trapezoidal,
            order: 1,
            delta_old: [0.0; 4],
            ag: [0.0; 3],
        }
    }
}

/// Companion formulas ([`Integrator::formula`]): backward Euler (order 1), trapezoidal,
/// Gear order 2.
pub const EULER: u8 = 0;
pub const TRAPEZOIDAL: u8 = 1;
pub const GEAR2: u8 = 2;

impl Integrator {
    /// Set coefficients for a step of length `h` (history of steps in `delta_old[1..]`).
    pub fn set_step(&mut self, h: f64, order: usize) {
        self.delta_old[0] = h;
        self.order = order.clamp(1, 2);
        self.ag = match (self.method, self.order) {
            (_, 1) => [1.0 / h, -1.0 / h, 0.0],
            (Method::Trapezoidal, _) => [2.0 / h, 0.0, 0.0],
            (Method::Gear, _) => {
                // Variable-step BDF2: r = h_n / h_{n-1}.
                let r = h / self.delta_old[1];
                [
                    (1.0 + 2.0 * r) / (h * (1.0 + r)),
                    -(1.0 + r) / h,
                    r * r / (h * (1.0 + r)),
                ]
            }
        };
    }

    /// Shift the step history after an accepted step.
    pub fn accept(&mut self) {
        self.delta_old[3] = self.delta_old[2];
        self.delta_old[2] = self.delta_old[1];
        self.delta_old[1] = self.delta_old[0];
    }

    /// The companion formula of the present method and order: one of [`EULER`],
    /// [`TRAPEZOIDAL`], [`GEAR2`], for [`Integrator::current`] and
    /// [`Integrator::history_current_of`] (loops over many capacitors choose it once).
    #[inline]
    pub fn formula(&self) -> u8 {
        match (self.method, self.order) {
            (_, 1) => EULER,
            (Method::Trapezoidal, _) => TRAPEZOIDAL,
            (Method::Gear, _) => GEAR2,
        }
    }

    /// Current of the charge `q_now` at the state `q`, given its history, by formula `F`.
    #[inline(always)]
    pub fn current<const F: u8>(&self, q_now: f64, hist: &[&[f64]; 3], q: usize) -> f64 {
        match F {
            EULER => self.ag[0] * q_now + self.ag[1] * hist[0][q],
            TRAPEZOIDAL => self.ag[0] * (q_now - hist[0][q]) - hist[0][q + 1],
            _ => self.ag[0] * q_now + self.ag[1] * hist[0][q] + self.ag[2] * hist[1][q],
        }
    }

    /// Current of the charge in `state0[q]` given history; writes it into `state0[q+1]`.
    /// Returns `(i, ∂i/∂q)`.
    #[inline]
    pub fn integrate<S>(&self, state0: &mut S, hist: &[&[f64]; 3], q: usize) -> (f64, f64)
    where
        S: std::ops::IndexMut<usize, Output = f64> + ?Sized,
    {
        let q_now = state0[q];
        let i = match self.formula() {
            EULER => self.current::<EULER>(q_now, hist, q),
            TRAPEZOIDAL => self.current::<TRAPEZOIDAL>(q_now, hist, q),
            _ => self.current::<GEAR2>(q_now, hist, q),
        };
        state0[q + 1] = i;
        (i, self.ag[0])
    }

    /// The part of [`Integrator::current`] that does not depend on the present charge
    /// (`i = ag[0]·q + history current`), by formula `F`: a linear capacitor's companion
    /// source.
    #[inline(always)]
    pub fn history_current_of<const F: u8>(&self, hist: &[&[f64]; 3], q: usize) -> f64 {
        match F {
            EULER => self.ag[1] * hist[0][q],
            TRAPEZOIDAL => -self.ag[0] * hist[0][q] - hist[0][q + 1],
            _ => self.ag[1] * hist[0][q] + self.ag[2] * hist[1][q],
        }
    }

    /// Largest step the truncation error of the charge at `q` allows (ngspice CKTterr).
    pub fn truncation_step(&self, states: &[&[f64]; 4], q: usize, ctx: &super::TruncCtx) -> f64 {
        let order = self.order;
        let i0 = states[0][q + 1].abs();
        let i1 = states[1][q + 1].abs();
        let volttol = ctx.abstol + ctx.reltol * i0.max(i1);
        let chargetol = ctx.reltol * states[0][q].abs().max(states[1][q].abs()).max(ctx.chgtol)
            / self.delta_old[0];
        let tol = volttol.max(chargetol);
        // Divided differences of q over order+2 points.
        let mut diff = [0.0f64; 4];
        for (k, d) in diff.iter_mut().enumerate().take(order + 2) {
            *d = states[k][q];
        }
        let mut deltmp = [0.0f64; 4];
        deltmp[..=order].copy_from_slice(&self.delta_old[..=order]);
        let mut j = order as isize;
        loop {
            for i in 0..=(j as usize) {
                diff[i] = (diff[i] - diff[i + 1]) / deltmp[i];
            }
            j -= 1;
            if j < 0 {
                break;
            }
            for i in 0..=(j as usize) {
                deltmp[i] = deltmp[i + 1] + self.delta_old[i];
            }
        }
        let factor = match (self.method, order) {
            (_, 1) => 0.5,
            (Method::Trapezoidal, _) => 1.0 / 12.0,
            (Method::Gear, _) => 2.0 / 9.0,
        };
        let del = ctx.trtol * tol / ctx.abstol.max(factor * diff[0].abs());
        if order == 2 { del.sqrt() } else { del }
    }
}
