//! Shared pieces of the semiconductor models: ngspice's physical constants, the silicon
//! band-gap / junction-potential temperature laws (`diotemp.c`, `mos1temp.c`) and the
//! depletion charge of a pn junction with the forward-bias (FC) linearisation.

/// Boltzmann constant (J/K), as ngspice's `const.h`.
pub const BOLTZ: f64 = 1.380_648_52e-23;
/// Elementary charge (C), as ngspice's `const.h`.
pub const CHARGE: f64 = 1.602_176_620_8e-19;
/// k/q (V/K).
pub const KOVERQ: f64 = BOLTZ / CHARGE;
/// 0 °C in kelvin.
pub const CTOK: f64 = 273.15;
/// ngspice's reference temperature, 27 °C (K).
pub const REFTEMP: f64 = 300.15;
/// Vacuum permittivity (F/m) as ngspice writes it.
pub const EPS0: f64 = 8.854_214_871e-12;
/// Largest argument ngspice passes to `exp` in the MOS junction diodes.
pub const MAX_EXP_ARG: f64 = 709.0;

/// `x > 0` and not NaN (parameter validation).
#[inline]
pub fn positive(x: f64) -> bool {
    x > 0.0
}

/// `x < 1` and not NaN (grading coefficients).
#[inline]
pub fn below_one(x: f64) -> bool {
    x < 1.0
}

/// Silicon band gap (eV) at temperature `t` (K).
#[inline]
pub fn egfet(t: f64) -> f64 {
    1.16 - (7.02e-4 * t * t) / (t + 1108.0)
}

/// ngspice's `pbfact`: the band-gap part of a junction potential at temperature `t`.
#[inline]
pub fn pbfact(t: f64) -> f64 {
    let vt = KOVERQ * t;
    let arg = -egfet(t) / (2.0 * BOLTZ * t) + 1.115_087_7 / (BOLTZ * (REFTEMP + REFTEMP));
    -2.0 * vt * (1.5 * (t / REFTEMP).ln() + CHARGE * arg)
}

/// Junction potential and zero-bias capacitance temperature scaling (ngspice's default
/// `tlevc = 0` law, shared by the diode and MOS1 junctions).
///
/// Returns `(pb(t), cap_factor)` for a junction with nominal potential `pb` measured at
/// `tnom`; `cap_factor` multiplies a zero-bias capacitance with grading coefficient `m`.
/// At `t == tnom` this is exactly `(pb, 1)`.
pub fn junction_temp(pb: f64, m: f64, tnom: f64, t: f64) -> (f64, f64) {
    let (pbo, gmaold) = pb_nominal(pb, tnom);
    let tpb = pb_at(pbo, t);
    (tpb, cap_factor(pbo, gmaold, tpb, m, tnom, t))
}

/// `pbo` (potential extrapolated to the reference temperature) and `gmaold` of a junction
/// whose potential is `pb` at `tnom`.
#[inline]
pub fn pb_nominal(pb: f64, tnom: f64) -> (f64, f64) {
    let fact1 = tnom / REFTEMP;
    let pbo = (pb - pbfact(tnom)) / fact1;
    (pbo, (pb - pbo) / pbo)
}

/// Junction potential at `t` from its reference-temperature value `pbo`.
#[inline]
pub fn pb_at(pbo: f64, t: f64) -> f64 {
    t / REFTEMP * pbo + pbfact(t)
}

/// Zero-bias capacitance factor from `tnom` to `t` for grading coefficient `m`.
#[inline]
pub fn cap_factor(pbo: f64, gmaold: f64, tpb: f64, m: f64, tnom: f64, t: f64) -> f64 {
    let gmanew = (tpb - pbo) / pbo;
    (1.0 + m * (4e-4 * (t - REFTEMP) - gmanew)) / (1.0 + m * (4e-4 * (tnom - REFTEMP) - gmaold))
}

/// Depletion charge of one junction: zero-bias capacitance `cz`, potential `pb`, grading
/// coefficient `m`, and the forward-bias coefficient `fc` above which the capacitance is
/// continued linearly (SPICE's FC rule).
#[derive(Debug, Clone, Copy, Default)]
pub struct Depletion {
    pub cz: f64,
    pub pb: f64,
    pub m: f64,
    /// `fc·pb`: voltage where the linear continuation starts.
    pub depcap: f64,
    f1: f64,
    f2: f64,
    f3: f64,
}

impl Depletion {
    pub fn new(cz: f64, pb: f64, m: f64, fc: f64) -> Self {
        let xfc = (1.0 - fc).ln();
        Depletion {
            cz,
            pb,
            m,
            depcap: fc * pb,
            f1: pb * (1.0 - ((1.0 - m) * xfc).exp()) / (1.0 - m),
            f2: ((1.0 + m) * xfc).exp(),
            f3: 1.0 - fc * (1.0 + m),
        }
    }

    /// ngspice's diode rule: if `fc·pb > 1` the potential is limited to `1/fc` (after F1
    /// was computed with the unlimited potential).
    pub fn limit_potential(mut self, fc: f64) -> Self {
        if self.depcap > 1.0 {
            self.pb = 1.0 / fc;
            self.depcap = fc * self.pb;
        }
        self
    }

    /// Charge and capacitance at junction voltage `v`.
    #[inline]
    pub fn eval(&self, v: f64) -> (f64, f64) {
        if self.cz == 0.0 {
            return (0.0, 0.0);
        }
        if v < self.depcap {
            let arg = 1.0 - v / self.pb;
            let sarg = if self.m == 0.5 {
                1.0 / arg.sqrt()
            } else {
                (-self.m * arg.ln()).exp()
            };
            (
                self.pb * self.cz * (1.0 - arg * sarg) / (1.0 - self.m),
                self.cz * sarg,
            )
        } else {
            let czof2 = self.cz / self.f2;
            let q = self.cz * self.f1
                + czof2
                    * (self.f3 * (v - self.depcap)
                        + (self.m / (self.pb + self.pb)) * (v * v - self.depcap * self.depcap));
            (q, czof2 * (self.f3 + self.m * v / self.pb))
        }
    }
}

/// Number of states [`hold_off`] uses for a device with `n` junction voltages.
pub const fn hold_states(n: usize) -> usize {
    2 + n
}

/// ngspice's `off` semantics for the operating point: an `off` device starts at zero
/// junction voltages (MODEINITJCT) and is *held* there through the MODEINITFIX phase,
/// i.e. until the rest of the circuit has settled with the device off; only then does it
/// float (MODEINITFLOAT). The engine has no FIX phase, so the device emulates it: it
/// holds while its terminal voltages `raw` still move between iterations (at most
/// `MAX_HOLD` iterations) and reports non-convergence meanwhile.
///
/// `base` is the first of [`hold_states`]`(raw.len())` states. Returns `true` while the
/// device must use its zero (off) voltages.
pub fn hold_off(ctx: &mut super::LoadCtx, off: bool, base: usize, raw: &[f64]) -> bool {
    const MAX_HOLD: f64 = 20.0;
    if !off || ctx.mode != super::Mode::Dc || ctx.uic_start {
        ctx.state0[base] = 0.0;
        return false;
    }
    let last = base + 2;
    if ctx.init == super::InitPhase::Junction {
        ctx.state0[base] = 1.0;
        ctx.state0[base + 1] = 0.0;
        ctx.state0[last..last + raw.len()].copy_from_slice(raw);
        return true;
    }
    if ctx.state0[base] == 0.0 {
        return false;
    }
    let settled = raw
        .iter()
        .zip(&ctx.state0[last..last + raw.len()])
        .all(|(v, old)| (v - old).abs() <= 1e-3 * v.abs().max(old.abs()) + 1e-6);
    ctx.state0[base + 1] += 1.0;
    ctx.state0[last..last + raw.len()].copy_from_slice(raw);
    if settled || ctx.state0[base + 1] >= MAX_HOLD {
        // Float from the next iteration on.
        ctx.state0[base] = 0.0;
    }
    ctx.noncon += 1;
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temperature_laws_reduce_to_nominal() {
        for tnom in [REFTEMP, 290.0, 350.0] {
            let (pb, f) = junction_temp(0.8, 0.4, tnom, tnom);
            assert!((pb - 0.8).abs() < 1e-12);
            assert!((f - 1.0).abs() < 1e-12);
        }
        // Junction potential falls with temperature (≈ −1.5…−2 mV/K for silicon).
        let (pb, _) = junction_temp(0.8, 0.5, REFTEMP, REFTEMP + 50.0);
        let slope = (pb - 0.8) / 50.0;
        assert!(slope < -1e-3 && slope > -3e-3, "slope {slope}");
    }

    #[test]
    fn depletion_charge_is_consistent() {
        for &(m, fc) in &[(0.5, 0.5), (0.33, 0.5), (0.5, 0.9), (0.7, 0.2)] {
            let d = Depletion::new(1e-12, 0.8, m, fc);
            // Capacitance is dq/dv everywhere, including across the FC corner.
            for k in -40..=40 {
                let v = k as f64 * 0.05;
                let h = 1e-6;
                let (qp, _) = d.eval(v + h);
                let (qm, _) = d.eval(v - h);
                let (_, c) = d.eval(v);
                let fd = (qp - qm) / (2.0 * h);
                assert!(
                    (fd - c).abs() <= 1e-6 * c.abs() + 1e-20,
                    "m={m} fc={fc} v={v}: {fd} vs {c}"
                );
            }
            // Continuity of charge and capacitance at the corner.
            let eps = 1e-9;
            let (q1, c1) = d.eval(d.depcap - eps);
            let (q2, c2) = d.eval(d.depcap + eps);
            assert!((q1 - q2).abs() < 1e-20);
            assert!((c1 - c2).abs() < 1e-6 * c1);
            // Zero charge and cz at zero bias.
            let (q0, c0) = d.eval(0.0);
            assert!(q0.abs() < 1e-30);
            assert!((c0 - 1e-12).abs() < 1e-24);
        }
    }
}

/// A stand-alone bench for device unit tests: allocates one device's equations, states and
/// slots like the engine does, loads it at a given `x` and returns the dense Jacobian and
/// right-hand side by equation index (ground row/column included as zeros).
#[cfg(test)]
pub(crate) mod bench {
    use std::collections::HashMap;

    use crate::devices::{Device, InitPhase, Integrator, LoadCtx, Mode, Setup};
    use crate::linalg::{Assembler, PatternBuilder};

    pub struct Bench<D: Device> {
        pub dev: D,
        pub n_eq: usize,
        asm: Assembler,
        pub state0: Vec<f64>,
        pub hist: [Vec<f64>; 3],
        pub integ: Integrator,
        pub mode: Mode,
        pub gmin: f64,
        pub temp_k: f64,
        /// Offer devices certified latency (`LoadCtx::latency`): the stamp buffers then keep
        /// what the last load wrote instead of starting from zero.
        pub latency: bool,
        mat: Vec<f64>,
        rhs: Vec<f64>,
    }

    /// Result of one load.
    pub struct Stamp {
        /// `jac[r][c]` by equation index.
        pub jac: Vec<Vec<f64>>,
        pub rhs: Vec<f64>,
        pub noncon: usize,
        /// Whether the device skipped this load under certified latency.
        pub latent: bool,
    }

    impl Stamp {
        /// Current the device draws out of equation `k`'s node at the load point `x`:
        /// `(J·x − b)_k`.
        pub fn current(&self, x: &[f64], k: usize) -> f64 {
            self.jac[k].iter().zip(x).map(|(j, v)| j * v).sum::<f64>() - self.rhs[k]
        }
    }

    impl<D: Device> Bench<D> {
        /// `n_nodes` counts ground.
        pub fn new(mut dev: D, n_nodes: usize) -> Self {
            let mut pattern = PatternBuilder::new();
            let mut names: Vec<String> = (0..n_nodes).map(|i| format!("n{i}")).collect();
            let branches = HashMap::new();
            let mut s = Setup {
                n_eq: n_nodes,
                n_states: 0,
                pattern: &mut pattern,
                eq_names: &mut names,
                branches: &branches,
            };
            dev.setup_equations(&mut s);
            dev.setup_slots(&mut s).expect("setup");
            let (n_eq, n_states) = (s.n_eq, s.n_states);
            let (mat_slots, rhs_slots) = (pattern.mat_slot_count(), pattern.rhs_slot_count());
            let asm = pattern.finish(n_eq);
            Bench {
                dev,
                n_eq,
                asm,
                state0: vec![0.0; n_states],
                hist: std::array::from_fn(|_| vec![0.0; n_states]),
                integ: Integrator::default(),
                mode: Mode::Dc,
                gmin: 1e-12,
                temp_k: super::REFTEMP,
                latency: false,
                mat: vec![0.0; mat_slots],
                rhs: vec![0.0; rhs_slots],
            }
        }

        /// Runs `f` on the device with the load context a load at `x` gets (to load it, or
        /// to call a device's own predicates on that context).
        pub fn with_ctx<R>(
            &mut self,
            x: &[f64],
            init: InitPhase,
            f: impl FnOnce(&D, &mut LoadCtx) -> R,
        ) -> R {
            let [h1, h2, h3] = &self.hist;
            let mut ctx = LoadCtx {
                x,
                mat: &mut self.mat,
                rhs: &mut self.rhs,
                state0: crate::devices::States::whole(&mut self.state0),
                hist: [h1, h2, h3],
                mode: self.mode,
                init,
                integ: &self.integ,
                time: 0.0,
                tstep: 1e-9,
                tstop: 1e-6,
                srcfact: 1.0,
                sources_at_t0: false,
                bypass: false,
                point_start: true,
                bypassed: 0,
                latent: 0,
                latency: self.latency,
                gmin: self.gmin,
                temp_k: self.temp_k,
                uic: false,
                uic_start: false,
                step_index: 0,
                attempt: 0,
                noncon: 0,
            };
            f(&self.dev, &mut ctx)
        }

        pub fn load(&mut self, x: &[f64], init: InitPhase) -> Stamp {
            assert_eq!(x.len(), self.n_eq);
            if !self.latency {
                self.mat.fill(0.0);
                self.rhs.fill(0.0);
            }
            let (noncon, latent) = self.with_ctx(x, init, |dev, ctx| {
                dev.load(ctx);
                (ctx.noncon, ctx.latent > 0)
            });
            let mut values = vec![0.0; self.asm.nnz()];
            let mut b = vec![0.0; self.asm.n];
            self.asm.gather(&self.mat, &self.rhs, &mut values, &mut b);
            let mut jac = vec![vec![0.0; self.n_eq]; self.n_eq];
            for c in 0..self.asm.n {
                for k in self.asm.col_ptr[c]..self.asm.col_ptr[c + 1] {
                    jac[self.asm.row_idx[k] + 1][c + 1] = values[k];
                }
            }
            let mut rhs_full = vec![0.0; self.n_eq];
            rhs_full[1..].copy_from_slice(&b);
            Stamp {
                jac,
                rhs: rhs_full,
                noncon,
                latent,
            }
        }

        /// Load repeatedly at `x` until the stored states stop changing (limiting has
        /// caught up with `x`); returns the last stamp.
        pub fn settle(&mut self, x: &[f64]) -> Stamp {
            let mut last = self.state0.clone();
            for _ in 0..200 {
                let s = self.load(x, InitPhase::Normal);
                if self.state0 == last {
                    return s;
                }
                last = self.state0.clone();
            }
            panic!("device states did not settle at {x:?}");
        }

        /// Compare the stamped Jacobian with central finite differences of the device
        /// currents `J·x − b` around the settled point `x` (states frozen at `x`).
        pub fn check_jacobian(&mut self, x: &[f64], rel: f64, abs: f64) {
            let base = self.settle(x);
            let frozen = self.state0.clone();
            for j in 1..self.n_eq {
                let h = 1e-6 * x[j].abs().max(1.0);
                let mut xp = x.to_vec();
                xp[j] += h;
                self.state0.copy_from_slice(&frozen);
                let sp = self.load(&xp, InitPhase::Normal);
                let mut xm = x.to_vec();
                xm[j] -= h;
                self.state0.copy_from_slice(&frozen);
                let sm = self.load(&xm, InitPhase::Normal);
                for k in 1..self.n_eq {
                    let fd = (sp.current(&xp, k) - sm.current(&xm, k)) / (2.0 * h);
                    let an = base.jac[k][j];
                    // J·x − b cancels terms of size |J_kj·x_j|: allow for that rounding.
                    let scale: f64 = base.jac[k]
                        .iter()
                        .zip(x)
                        .map(|(g, v)| (g * v.abs().max(1.0)).abs())
                        .sum();
                    assert!(
                        (fd - an).abs() <= rel * an.abs().max(fd.abs()) + abs + 1e-9 * scale,
                        "d I{k} / d x{j} at {x:?}: analytic {an:e}, finite difference {fd:e}"
                    );
                }
            }
            self.state0.copy_from_slice(&frozen);
        }
    }
}
