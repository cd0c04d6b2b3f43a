//! Resistors and capacitors stamped in bulk, outside the per-device `load` loop.
//!
//! In a crossbar most elements are wire resistors and capacitors: at 64×64 they are 20k of
//! the 24.8k devices. Their stamps do not depend on the Newton iterate: a resistor's never
//! changes, and a capacitor's companion model (`g = ag₀·C`, `i = ag₀·q + history`) is fixed
//! for one time point. So the matrix and right-hand side of the linear part are built once
//! per point (`begin_point`) and copied under every Newton iteration's nonlinear stamps
//! (`copy_into`), instead of re-evaluating 20k devices through a virtual call and summing
//! their stamp slots each iteration. The capacitor charges and currents (states) are still
//! written at every iterate (`set_states`), exactly as `Capacitor::load` writes them, so
//! truncation error, history and saved quantities see the same numbers.

use crate::circuit::Method;
use crate::devices::integrate::{EULER, GEAR2, TRAPEZOIDAL};
use crate::devices::{BulkLinear, Device, Integrator, Mode, States, TruncCtx};
use crate::linalg::Assembler;
use crate::spin_pair::SpinPair;

/// No matrix position / rhs row (a terminal on ground).
const NONE: u32 = u32::MAX;

/// One capacitor in structure-of-arrays friendly form.
#[derive(Debug, Clone, Copy)]
struct BulkCap {
    c: f64,
    /// `ic=` (V), NaN when absent.
    ic: f64,
    a: u32,
    b: u32,
    state: u32,
    /// CSC positions of (a,a), (b,b), (a,b), (b,a); [`NONE`] where a node is ground.
    pos: [u32; 4],
}

/// Divided differences of the capacitors' charges (per capacitor, in capacitor order) kept
/// from the last accepted point, so that the truncation check computes only the newest
/// ones. They are bit for bit what it would recompute: f₁ at point n is (q₁ − q₂)/h₁ with
/// the operands f₀ had at point n − 1 (the history shifted down, h₁ the old h₀), and so
/// g₁(n) = g₀(n − 1) as well; f₂ is needed only for g₁. This saves three of the nine
/// divisions per capacitor and the reads of the two oldest charges.
#[derive(Debug, Default)]
pub struct CapLteHistory {
    /// f₀ and g₀ of the last check (the candidate point).
    f0: Vec<f64>,
    g0: Vec<f64>,
    /// f₀ and g₀ of the last accepted point.
    f1: Vec<f64>,
    g1: Vec<f64>,
    /// Accepted points in a row whose check was recorded; from 1 on the history is usable.
    accepted: u32,
    /// `f0` and `g0` hold the last check's values.
    checked: bool,
    /// Never use the history (tests compare against this).
    disabled: bool,
}

impl CapLteHistory {
    /// Check every point in full, without the history (the same bits; tests compare).
    pub fn disable(&mut self) {
        self.disabled = true;
    }

    /// Forget the history (a new transient: its first points are checked in full).
    pub fn reset(&mut self) {
        self.accepted = 0;
        self.checked = false;
    }

    /// The candidate point was accepted: its differences become the history (the state
    /// history shifts the same way); without a check of it, the history is broken.
    pub fn accept(&mut self) {
        if self.checked && !self.disabled {
            std::mem::swap(&mut self.f1, &mut self.f0);
            std::mem::swap(&mut self.g1, &mut self.g0);
            self.accepted = self.accepted.saturating_add(1);
        } else {
            self.accepted = 0;
        }
        self.checked = false;
    }
}

/// One half (or the whole) of the capacitors' differences for [`truncate_caps`].
struct LteSlices<'a> {
    f0: &'a mut [f64],
    g0: &'a mut [f64],
    /// (f₁, g₁) of the history, when usable.
    prev: Option<(&'a [f64], &'a [f64])>,
}

/// The bulk linear part of one system.
pub struct LinearPart {
    /// Resistor stamps in CSC order: constant for the whole run.
    static_values: Vec<f64>,
    caps: Vec<BulkCap>,
    /// Matrix and rhs of the linear part at the present point.
    point_values: Vec<f64>,
    point_rhs: Vec<f64>,
    /// What `point_values` was built for: the resistors alone (None inside) or with the
    /// capacitor companions at the integration coefficient with these bits.
    point_matrix: Option<Option<u64>>,
}

impl LinearPart {
    /// Collect the bulk devices (`bulk[i]` true for device `i`) after setup.
    pub fn new(devices: &[Box<dyn Device>], bulk: &[bool], asm: &Assembler) -> LinearPart {
        let mut static_values = vec![0.0; asm.nnz()];
        let mut caps = Vec::new();
        let positions = |a: usize, b: usize| -> [u32; 4] {
            let at = |r: usize, c: usize| asm.position(r, c).map_or(NONE, |p| p as u32);
            [at(a, a), at(b, b), at(a, b), at(b, a)]
        };
        for (d, _) in devices.iter().zip(bulk).filter(|(_, b)| **b) {
            match d.bulk_linear() {
                Some(BulkLinear::Conductance { a, b, g }) => {
                    let pos = positions(a, b);
                    for (k, p) in pos.into_iter().enumerate() {
                        if p != NONE {
                            static_values[p as usize] += if k < 2 { g } else { -g };
                        }
                    }
                }
                Some(BulkLinear::Capacitance { a, b, c, ic, state }) => caps.push(BulkCap {
                    c,
                    ic: ic.unwrap_or(f64::NAN),
                    a: a as u32,
                    b: b as u32,
                    state: state as u32,
                    pos: positions(a, b),
                }),
                None => {}
            }
        }
        LinearPart {
            point_matrix: None,
            point_values: static_values.clone(),
            point_rhs: vec![0.0; asm.n],
            static_values,
            caps,
        }
    }

    /// Build the linear part's matrix and rhs for a new point: resistors plus, in a solved
    /// transient point, every capacitor's companion conductance and history current.
    pub fn begin_point(
        &mut self,
        mode: Mode,
        uic_start: bool,
        integ: &Integrator,
        hist: &[&[f64]; 3],
        halves: Option<((usize, usize), Option<&SpinPair>)>,
    ) -> bool {
        let companions = !(mode == Mode::Dc || uic_start);
        // The matrix part depends on the step only through ag0: with the same ag0 it is the
        // last point's, bit for bit, and only the rhs (history currents) is rebuilt.
        let key = Some(companions.then(|| integ.ag[0].to_bits()));
        let matrix = self.point_matrix != key;
        self.point_matrix = key;
        let (fixed, caps) = (&self.static_values[..], &self.caps[..]);
        let part = |first: (usize, usize), values: &mut [f64], rhs: &mut [f64]| {
            build_point_part(
                fixed,
                caps,
                first,
                matrix.then_some(values),
                rhs,
                companions.then_some((integ, hist)),
            );
        };
        match halves {
            // Each thread builds the half of the values and rhs that it copies under its
            // Newton iterations' stamps (`copy_part_into`), so it finds them in its cache.
            // Without a helper (a test of the split) the halves run one after the other.
            Some(((vh, rh), pair)) => {
                let (v0, v1) = self.point_values.split_at_mut(vh);
                let (r0, r1) = self.point_rhs.split_at_mut(rh);
                let mut first = || part((0, 0), v0, r0);
                let mut second = || part((vh, rh), v1, r1);
                match pair {
                    Some(pair) => pair.join(first, second),
                    None => (first(), second()),
                };
            }
            None => part((0, 0), &mut self.point_values, &mut self.point_rhs),
        }
        matrix
    }

    /// The present point's matrix values and rhs of the linear part.
    pub fn point(&self) -> (&[f64], &[f64]) {
        (&self.point_values, &self.point_rhs)
    }

    /// Start a Newton iteration's matrix and rhs from the linear part of the present point.
    #[inline]
    pub fn copy_into(&self, values: &mut [f64], rhs: &mut [f64]) {
        values.copy_from_slice(&self.point_values);
        rhs.copy_from_slice(&self.point_rhs);
    }

    /// [`LinearPart::copy_into`] for the entries from `first` (values, rhs) on, into slices
    /// that start there: two threads copy one half each.
    #[inline]
    pub fn copy_part_into(&self, first: (usize, usize), values: &mut [f64], rhs: &mut [f64]) {
        values.copy_from_slice(&self.point_values[first.0..first.0 + values.len()]);
        rhs.copy_from_slice(&self.point_rhs[first.1..first.1 + rhs.len()]);
    }

    /// Capacitor charges (and, in a solved transient point, currents) at the iterate `x`.
    pub fn set_states(
        &self,
        x: &[f64],
        state0: &mut [f64],
        hist: &[&[f64]; 3],
        integ: &Integrator,
        mode: Mode,
        uic_start: bool,
    ) {
        let all = 0..self.caps.len();
        let mut states = States::whole(state0);
        self.set_states_of(all, x, &mut states, hist, integ, mode, uic_start);
    }

    /// [`LinearPart::set_states`] for the capacitors `caps` only, into a block of the state
    /// vector indexed by absolute state number (two loading threads take one half each).
    #[allow(clippy::too_many_arguments)]
    pub fn set_states_of(
        &self,
        caps: std::ops::Range<usize>,
        x: &[f64],
        state0: &mut States<'_>,
        hist: &[&[f64]; 3],
        integ: &Integrator,
        mode: Mode,
        uic_start: bool,
    ) {
        let caps = &self.caps[caps];
        if mode == Mode::Dc || uic_start {
            for cap in caps {
                let s = cap.state as usize;
                let mut v = x[cap.a as usize] - x[cap.b as usize];
                if uic_start && !cap.ic.is_nan() {
                    v = cap.ic;
                }
                state0[s] = cap.c * v;
                if mode != Mode::Dc {
                    state0[s + 1] = 0.0;
                }
            }
            return;
        }
        // A transient iterate: the companion formula chosen once, outside the loop (the
        // arithmetic of `Integrator::integrate`).
        match integ.formula() {
            EULER => set_cap_states::<EULER>(caps, x, state0, hist, integ),
            TRAPEZOIDAL => set_cap_states::<TRAPEZOIDAL>(caps, x, state0, hist, integ),
            _ => set_cap_states::<GEAR2>(caps, x, state0, hist, integ),
        }
    }

    pub fn cap_count(&self) -> usize {
        self.caps.len()
    }

    /// Where the capacitors split in two for [`LinearPart::set_states_of`]: (first
    /// capacitor of the second half, its first state), or None when there are too few or
    /// their states are not in capacitor order.
    pub fn cap_split(&self) -> Option<(usize, usize)> {
        let mid = self.caps.len() / 2;
        let ordered = self.caps.windows(2).all(|w| w[0].state < w[1].state);
        (mid >= MIN_CAPS_PER_THREAD && ordered).then(|| (mid, self.caps[mid].state as usize))
    }

    /// Largest step the capacitors' truncation error allows (ngspice CKTterr per charge) at
    /// the present order and, when that order is 1, also at order 2 (the step controller's
    /// trial of a higher order), in one pass over the charges.
    pub fn truncate(
        &self,
        ctx: &TruncCtx,
        pair: Option<&SpinPair>,
        lte: &mut CapLteHistory,
    ) -> (f64, f64) {
        let n = self.caps.len();
        for v in [&mut lte.f0, &mut lte.g0, &mut lte.f1, &mut lte.g1] {
            if v.len() != n {
                *v = vec![0.0; n];
                lte.accepted = 0;
            }
        }
        let usable = lte.accepted >= 1;
        lte.checked = true;
        let CapLteHistory { f0, g0, f1, g1, .. } = lte;
        let (min1, min2_squared) = match pair {
            Some(pair) if n >= 2 * MIN_CAPS_PER_THREAD => {
                let mid = n / 2;
                let (a, b) = self.caps.split_at(mid);
                let (f0a, f0b) = f0.split_at_mut(mid);
                let (g0a, g0b) = g0.split_at_mut(mid);
                let (f1a, f1b) = f1.split_at(mid);
                let (g1a, g1b) = g1.split_at(mid);
                let ha = LteSlices {
                    f0: f0a,
                    g0: g0a,
                    prev: usable.then_some((f1a, g1a)),
                };
                let hb = LteSlices {
                    f0: f0b,
                    g0: g0b,
                    prev: usable.then_some((f1b, g1b)),
                };
                let (a, b) = pair.join(|| truncate_caps(a, ctx, ha), || truncate_caps(b, ctx, hb));
                (a.0.min(b.0), a.1.min(b.1))
            }
            _ => {
                let h = LteSlices {
                    f0,
                    g0,
                    prev: usable.then_some((&f1[..], &g1[..])),
                };
                truncate_caps(&self.caps, ctx, h)
            }
        };
        // √ is monotonic and correctly rounded: the root of the least argument is the least
        // root, bit for bit, for one square root per point instead of one per capacitor.
        let min2 = min2_squared.sqrt();
        if ctx.integ.order == 1 {
            (min1, min2)
        } else {
            (min2, min2)
        }
    }
}

/// [`LinearPart::set_states_of`] in a transient, by companion formula `F`.
fn set_cap_states<const F: u8>(
    caps: &[BulkCap],
    x: &[f64],
    state0: &mut States<'_>,
    hist: &[&[f64]; 3],
    integ: &Integrator,
) {
    for cap in caps {
        let s = cap.state as usize;
        let q = cap.c * (x[cap.a as usize] - x[cap.b as usize]);
        state0[s] = q;
        state0[s + 1] = integ.current::<F>(q, hist, s);
    }
}

/// Below this many capacitors per half, splitting the truncation check does not pay.
const MIN_CAPS_PER_THREAD: usize = 2048;

/// (least order-1 step, least *square* of the order-2 step) the capacitors in `caps` allow;
/// their newest differences f₀, g₀ are written to `h`, the older ones read from it when it
/// has them.
fn truncate_caps(caps: &[BulkCap], ctx: &TruncCtx, h: LteSlices) -> (f64, f64) {
    let integ = ctx.integ;
    let [s0, s1, s2, s3] = ctx.states;
    let d = integ.delta_old;
    let factor2 = match integ.method {
        Method::Trapezoidal => 1.0 / 12.0,
        Method::Gear => 2.0 / 9.0,
    };
    let want1 = integ.order == 1;
    let (mut min1, mut min2) = (f64::INFINITY, f64::INFINITY);
    let LteSlices {
        f0: f0_out,
        g0: g0_out,
        prev,
    } = h;
    assert!(f0_out.len() == caps.len() && g0_out.len() == caps.len());
    if let Some((f1s, g1s)) = prev {
        assert!(f1s.len() == caps.len() && g1s.len() == caps.len());
    }
    for (k, cap) in caps.iter().enumerate() {
        let q = cap.state as usize;
        // The arithmetic of `Integrator::truncation_step`, both orders at once.
        let volttol = ctx.abstol + ctx.reltol * s0[q + 1].abs().max(s1[q + 1].abs());
        let chargetol = ctx.reltol * s0[q].abs().max(s1[q].abs()).max(ctx.chgtol) / d[0];
        let tol = volttol.max(chargetol);
        let (q0, q1) = (s0[q], s1[q]);
        let f0 = (q0 - q1) / d[0];
        let (f1, g1) = match prev {
            Some((f1s, g1s)) => (f1s[k], g1s[k]),
            None => {
                let q2 = s2[q];
                let f1 = (q1 - q2) / d[1];
                let f2 = (q2 - s3[q]) / d[2];
                (f1, (f1 - f2) / (d[2] + d[1]))
            }
        };
        let g0 = (f0 - f1) / (d[1] + d[0]);
        f0_out[k] = f0;
        g0_out[k] = g0;
        if want1 {
            min1 = min1.min(ctx.trtol * tol / ctx.abstol.max(0.5 * g0.abs()));
        }
        let h0 = (g0 - g1) / ((d[2] + d[1]) + d[0]);
        min2 = min2.min(ctx.trtol * tol / ctx.abstol.max(factor2 * h0.abs()));
    }
    (min1, min2)
}

/// [`LinearPart::begin_point`] for the entries from `first` (values, rhs) on, into slices
/// that start there: resistors, then (with `companions`) every capacitor's companion
/// conductance and history current, in capacitor order; the values only when given. Each
/// entry receives the same additions in the same order whichever part it falls in, so the
/// halves built by two threads equal the whole built by one, bit for bit.
fn build_point_part(
    fixed: &[f64],
    caps: &[BulkCap],
    first: (usize, usize),
    mut values: Option<&mut [f64]>,
    rhs: &mut [f64],
    companions: Option<(&Integrator, &[&[f64]; 3])>,
) {
    if let Some(values) = values.as_deref_mut() {
        values.copy_from_slice(&fixed[first.0..first.0 + values.len()]);
    }
    rhs.fill(0.0);
    let Some((integ, hist)) = companions else {
        return;
    };
    // The companion formula chosen once, outside the capacitor loop.
    match integ.formula() {
        EULER => add_companions::<EULER>(caps, first, values, rhs, integ, hist),
        TRAPEZOIDAL => add_companions::<TRAPEZOIDAL>(caps, first, values, rhs, integ, hist),
        _ => add_companions::<GEAR2>(caps, first, values, rhs, integ, hist),
    }
}

/// The capacitors' companions of [`build_point_part`], by companion formula `F`.
fn add_companions<const F: u8>(
    caps: &[BulkCap],
    first: (usize, usize),
    mut values: Option<&mut [f64]>,
    rhs: &mut [f64],
    integ: &Integrator,
    hist: &[&[f64]; 3],
) {
    let ag0 = integ.ag[0];
    // Row r of the rhs is `rhs[r - 1 - first.1]` here; ground (0) and rows outside the part
    // wrap to indices past the end.
    let (v0, r0) = (first.0 as u32, first.1 as u32 + 1);
    for cap in caps {
        let geq = ag0 * cap.c;
        if let Some(values) = values.as_deref_mut() {
            for (k, &p) in cap.pos.iter().enumerate() {
                if let Some(v) = values.get_mut(p.wrapping_sub(v0) as usize) {
                    *v += if k < 2 { geq } else { -geq };
                }
            }
        }
        // The companion source i − g·v = history current leaves a, enters b.
        let (a, b) = (
            cap.a.wrapping_sub(r0) as usize,
            cap.b.wrapping_sub(r0) as usize,
        );
        if a < rhs.len() || b < rhs.len() {
            let ih = integ.history_current_of::<F>(hist, cap.state as usize);
            if let Some(r) = rhs.get_mut(a) {
                *r -= ih;
            }
            if let Some(r) = rhs.get_mut(b) {
                *r += ih;
            }
        }
    }
}
