//! SPICE junction diode (ngspice `dio` level 1): Shockley current with emission
//! coefficient, reverse-bias cubic roll-off and breakdown, optional high-injection knees,
//! series resistance on an internal anode node, depletion charge with the FC
//! linearisation plus diffusion charge `TT·id`, and ngspice's temperature laws.
//!
//! The load follows `dioload.c`: the junction voltage is limited with `DEVpnjlim` (in the
//! breakdown direction too), `gmin` is added across the junction, and the state vector
//! holds the voltage, current and conductance of the last evaluation for limiting and for
//! the current-convergence test ngspice runs in `DIOconvTest`.

use std::borrow::Cow;
use std::sync::OnceLock;

use super::junction::{self, CTOK, Depletion, KOVERQ, below_one, junction_temp, positive};
use super::limiting::pnjlim;
use super::{Device, InitPhase, LoadCtx, Mode, Setup, TruncCtx};
use crate::circuit::Model;

/// Relative / absolute tolerances of the device current-convergence test (ngspice defaults).
const CONV_RELTOL: f64 = 1e-3;
const CONV_ABSTOL: f64 = 1e-12;

/// Model parameters after defaulting (nominal temperature, not yet area-scaled).
#[derive(Debug, Clone)]
struct Params {
    is: f64,
    n: f64,
    rs: f64,
    cjo: f64,
    vj: f64,
    m: f64,
    fc: f64,
    tt: f64,
    bv: Option<f64>,
    ibv: f64,
    nbv: f64,
    ikf: f64,
    ikr: f64,
    eg: f64,
    xti: f64,
    tnom: f64,
    tcv: f64,
    trs1: f64,
    trs2: f64,
    ttt1: f64,
    ttt2: f64,
    tm1: f64,
    tm2: f64,
}

impl Params {
    fn from_model(name: &str, model: &Model) -> Result<Self, String> {
        let p = |k: &str| model.params.get(k).copied();
        let first = |keys: &[&str]| keys.iter().find_map(|k| p(k));
        let level = p("level").unwrap_or(1.0);
        if level != 1.0 {
            return Err(format!(
                "{name}: diode model {} level {level} is not supported (level 1 only)",
                model.name
            ));
        }
        for (key, what) in [
            ("isr", "recombination current (ISR)"),
            ("tlev", "TLEV"),
            ("tlevc", "TLEVC"),
        ] {
            if p(key).is_some_and(|v| v != 0.0) {
                return Err(format!(
                    "{name}: diode model {}: {what} is not supported",
                    model.name
                ));
            }
        }
        let n = p("n").unwrap_or(1.0);
        let par = Params {
            is: first(&["is", "js"]).unwrap_or(1e-14),
            n,
            rs: p("rs").unwrap_or(0.0),
            cjo: first(&["cjo", "cj0", "cj"]).unwrap_or(0.0),
            vj: first(&["vj", "pb"]).unwrap_or(1.0),
            m: first(&["m", "mj"]).unwrap_or(0.5),
            fc: p("fc").unwrap_or(0.5),
            tt: p("tt").unwrap_or(0.0),
            bv: p("bv").or_else(|| p("vb")).or_else(|| p("vrb")),
            ibv: first(&["ibv", "ib"]).unwrap_or(1e-3),
            nbv: p("nbv").unwrap_or(n),
            ikf: first(&["ikf", "ik"]).unwrap_or(0.0),
            ikr: p("ikr").unwrap_or(0.0),
            eg: p("eg").unwrap_or(1.11),
            xti: p("xti").unwrap_or(3.0),
            tnom: p("tnom").unwrap_or(27.0) + CTOK,
            tcv: p("tcv").unwrap_or(0.0),
            trs1: first(&["trs1", "trs"]).unwrap_or(0.0),
            trs2: p("trs2").unwrap_or(0.0),
            ttt1: p("ttt1").unwrap_or(0.0),
            ttt2: p("ttt2").unwrap_or(0.0),
            tm1: p("tm1").unwrap_or(0.0),
            tm2: p("tm2").unwrap_or(0.0),
        };
        if !positive(par.is) || !positive(par.n) || !positive(par.nbv) {
            return Err(format!(
                "{name}: diode model {} needs IS > 0, N > 0 and NBV > 0",
                model.name
            ));
        }
        if par.rs < 0.0 || par.cjo < 0.0 || par.tt < 0.0 {
            return Err(format!(
                "{name}: diode model {}: RS, CJO and TT must not be negative",
                model.name
            ));
        }
        if !positive(par.vj) || !(0.0..1.0).contains(&par.fc) || !below_one(par.m) {
            return Err(format!(
                "{name}: diode model {} needs VJ > 0, 0 ≤ FC < 1 and M < 1",
                model.name
            ));
        }
        if par.bv.is_some_and(|bv| !positive(bv)) {
            return Err(format!(
                "{name}: diode model {}: BV must be positive",
                model.name
            ));
        }
        Ok(par)
    }
}

/// Temperature- and area-adjusted quantities (ngspice `DIOtempUpdate`).
#[derive(Debug, Clone, Copy)]
struct Temp {
    temp: f64,
    vte: f64,
    vtebrk: f64,
    /// Area-scaled saturation current.
    csat: f64,
    vcrit: f64,
    /// Breakdown voltage matched to IBV, if BV was given.
    bv: Option<f64>,
    /// Area-scaled knee currents (0 = none).
    ikf: f64,
    ikr: f64,
    /// Series conductance (area-scaled), 0 without RS.
    gspr: f64,
    tt: f64,
    dep: Depletion,
}

/// D: junction diode.
pub struct Diode {
    name: String,
    a: usize,
    c: usize,
    /// Internal anode (after RS); equal to `a` without series resistance.
    ap: usize,
    area: f64,
    off: bool,
    par: Params,
    cache: OnceLock<Temp>,
    /// States: vd, id, gd, q, dq/dt, then the `off` hold.
    state: usize,
    /// (a,a) (c,c) (ap,ap) (a,ap) (c,ap) (ap,a) (ap,c).
    slots: [usize; 7],
    /// rhs of c and ap.
    rhs: [usize; 2],
}

const ST_VD: usize = 0;
const ST_ID: usize = 1;
const ST_GD: usize = 2;
const ST_Q: usize = 3;
/// `off` hold bookkeeping ([`junction::hold_off`]).
const ST_HOLD: usize = 5;
const N_STATES: usize = ST_HOLD + junction::hold_states(1);

impl Diode {
    pub fn new(
        name: String,
        a: usize,
        c: usize,
        m: &Model,
        area: f64,
        off: bool,
    ) -> Result<Self, String> {
        let par = Params::from_model(&name, m)?;
        if !positive(area) {
            return Err(format!("{name}: diode area must be positive (got {area})"));
        }
        Ok(Diode {
            name,
            a,
            c,
            ap: a,
            area,
            off,
            par,
            cache: OnceLock::new(),
            state: 0,
            slots: [0; 7],
            rhs: [0; 2],
        })
    }

    /// Temperature-dependent parameters at `t` (cached for the first temperature seen).
    fn temp(&self, t: f64) -> Cow<'_, Temp> {
        let cached = self.cache.get_or_init(|| self.compute_temp(t));
        if cached.temp == t {
            Cow::Borrowed(cached)
        } else {
            Cow::Owned(self.compute_temp(t))
        }
    }

    fn compute_temp(&self, t: f64) -> Temp {
        let p = &self.par;
        let vt = KOVERQ * t;
        let vte = p.n * vt;
        let dt = t - p.tnom;
        // Grading coefficient temperature adjust, limited to 0.9 as ngspice does.
        let m = (p.m * (1.0 + p.tm1 * dt + p.tm2 * dt * dt)).min(0.9);
        let (tvj, capfact) = junction_temp(p.vj, m, p.tnom, t);
        let cz = p.cjo * self.area * capfact;
        let dep = Depletion::new(cz, tvj, m, p.fc).limit_potential(p.fc);
        // Saturation current: IS·(T/Tnom)^(XTI/N)·exp((T/Tnom − 1)·EG/(N·vt)).
        let arg1 = (t / p.tnom - 1.0) * p.eg / vte;
        let arg2 = p.xti / p.n * (t / p.tnom).ln();
        let csat = p.is * self.area * (arg1 + arg2).exp();
        let vcrit = vte * (vte / (std::f64::consts::SQRT_2 * csat)).ln();
        let bv = p.bv.map(|bv0| {
            let tbv = bv0 - p.tcv * dt;
            let cbv = p.ibv;
            if cbv < csat * tbv / vt {
                // IBV too small to be matched: breakdown starts right at BV.
                tbv
            } else {
                // Match the breakdown exponential to IBV at BV (ngspice's 25-step iteration).
                let tol = CONV_RELTOL * cbv;
                let nvt = p.nbv * vt;
                let mut xbv = tbv - nvt * (1.0 + cbv / csat).ln();
                for _ in 0..25 {
                    xbv = tbv - nvt * (cbv / csat + 1.0 - xbv / vt).ln();
                    let xcbv = csat * (((tbv - xbv) / nvt).exp() - 1.0 + xbv / vt);
                    if (xcbv - cbv).abs() <= tol {
                        break;
                    }
                }
                xbv
            }
        });
        let gspr = if p.rs > 0.0 {
            self.area / (p.rs * (1.0 + p.trs1 * dt + p.trs2 * dt * dt))
        } else {
            0.0
        };
        Temp {
            temp: t,
            vte,
            vtebrk: p.nbv * vt,
            csat,
            vcrit,
            bv,
            ikf: p.ikf * self.area,
            ikr: p.ikr * self.area,
            gspr,
            tt: p.tt * (1.0 + p.ttt1 * dt + p.ttt2 * dt * dt),
            dep,
        }
    }
}

/// Junction current and conductance at `vd` (ngspice `dioload.c`), including the
/// high-injection knees and `gmin`.
fn junction_current(tp: &Temp, vd: f64, gmin: f64) -> (f64, f64) {
    let (cdb, gdb) = if vd >= -3.0 * tp.vte {
        let evd = (vd / tp.vte).exp();
        (tp.csat * (evd - 1.0), tp.csat * evd / tp.vte)
    } else if tp.bv.is_none_or(|bv| vd >= -bv) {
        let arg = 3.0 * tp.vte / (vd * std::f64::consts::E);
        let arg = arg * arg * arg;
        (-tp.csat * (1.0 + arg), tp.csat * 3.0 * arg / vd)
    } else {
        let bv = tp.bv.unwrap_or(f64::INFINITY);
        let evrev = (-(bv + vd) / tp.vtebrk).exp();
        (-tp.csat * evrev, tp.csat * evrev / tp.vtebrk)
    };
    let (mut cd, mut gd) = (cdb, gdb);
    if vd >= -3.0 * tp.vte {
        if tp.ikf > 0.0 && cd > 1e-18 {
            let s = (cd / tp.ikf).sqrt();
            gd = ((1.0 + s) * gd - cd * gd / (2.0 * s * tp.ikf)) / (1.0 + 2.0 * s + cd / tp.ikf);
            cd /= 1.0 + s;
        }
    } else if tp.ikr > 0.0 && cd < -1e-18 {
        let s = (cd / -tp.ikr).sqrt();
        gd = ((1.0 + s) * gd + cd * gd / (2.0 * s * tp.ikr)) / (1.0 + 2.0 * s - cd / tp.ikr);
        cd /= 1.0 + s;
    }
    (cd + gmin * vd, gd + gmin)
}

impl Device for Diode {
    fn name(&self) -> &str {
        &self.name
    }

    fn setup_equations(&mut self, s: &mut Setup) -> Option<usize> {
        if self.par.rs > 0.0 {
            self.ap = s.new_equation(format!("{}#internal", self.name));
        }
        None
    }

    fn setup_slots(&mut self, s: &mut Setup) -> Result<(), String> {
        let (a, c, ap) = (self.a, self.c, self.ap);
        self.state = s.states(N_STATES);
        self.slots = [
            s.slot(a, a),
            s.slot(c, c),
            s.slot(ap, ap),
            s.slot(a, ap),
            s.slot(c, ap),
            s.slot(ap, a),
            s.slot(ap, c),
        ];
        self.rhs = [s.rhs(c), s.rhs(ap)];
        Ok(())
    }

    fn load(&self, ctx: &mut LoadCtx) {
        let tp = &*self.temp(ctx.temp_k);
        let st = self.state;
        let mut limited = true;
        let raw = ctx.v(self.ap, self.c);
        let held = junction::hold_off(ctx, self.off, st + ST_HOLD, &[raw]);
        let vd = if ctx.uic_start {
            // ngspice (MODEINITJCT | MODETRANOP | MODEUIC): the device initial condition,
            // which DIOgetic takes from the external nodes' initial values.
            limited = false;
            ctx.v(self.a, self.c)
        } else if held && ctx.init == InitPhase::Normal {
            // MODEINITFIX for an `off` diode: held at 0 V, no limiting check.
            limited = false;
            0.0
        } else if ctx.init == InitPhase::Junction {
            if self.off { 0.0 } else { tp.vcrit }
        } else {
            let vd = raw;
            let vold = ctx.state0[st + ST_VD];
            // Current convergence test (DIOconvTest) of the previous evaluation.
            let cd_old = ctx.state0[st + ST_ID];
            let cdhat = cd_old + ctx.state0[st + ST_GD] * (vd - vold);
            if (cdhat - cd_old).abs() > CONV_RELTOL * cdhat.abs().max(cd_old.abs()) + CONV_ABSTOL {
                ctx.noncon += 1;
            }
            let (v, lim) = match tp.bv {
                Some(bv) if vd < (-bv + 10.0 * tp.vtebrk).min(0.0) => {
                    let (vt, lim) = pnjlim(-(vd + bv), -(vold + bv), tp.vtebrk, tp.vcrit);
                    (-(vt + bv), lim)
                }
                _ => pnjlim(vd, vold, tp.vte, tp.vcrit),
            };
            limited = lim;
            v
        };
        let (mut cd, mut gd) = junction_current(tp, vd, ctx.gmin);

        // Charge: depletion + diffusion TT·id (ngspice-39 uses the current after the knees,
        // gmin included). Stored in DC too so a transient starts consistent.
        let (qdep, cdep) = tp.dep.eval(vd);
        let q = qdep + tp.tt * cd;
        let capd = cdep + tp.tt * gd;
        ctx.state0[st + ST_Q] = q;
        if ctx.mode == Mode::Tran {
            if ctx.uic_start {
                ctx.state0[st + ST_Q + 1] = 0.0;
            } else {
                let (i, ag0) = ctx.integrate(st + ST_Q);
                gd += ag0 * capd;
                cd += i;
            }
        }
        if limited {
            ctx.noncon += 1;
        }
        ctx.state0[st + ST_VD] = vd;
        ctx.state0[st + ST_ID] = cd;
        ctx.state0[st + ST_GD] = gd;

        let cdeq = cd - gd * vd;
        ctx.rhs[self.rhs[0]] += cdeq;
        ctx.rhs[self.rhs[1]] -= cdeq;
        let gspr = tp.gspr;
        let sl = &self.slots;
        ctx.mat[sl[0]] += gspr;
        ctx.mat[sl[1]] += gd;
        ctx.mat[sl[2]] += gd + gspr;
        ctx.mat[sl[3]] -= gspr;
        ctx.mat[sl[4]] -= gd;
        ctx.mat[sl[5]] -= gspr;
        ctx.mat[sl[6]] -= gd;
    }

    fn truncate(&self, ctx: &TruncCtx) -> f64 {
        ctx.integ
            .truncation_step(&ctx.states, self.state + ST_Q, ctx)
    }

    fn is_nonlinear(&self) -> bool {
        true
    }

    fn quantities(&self, _x: &[f64], s: &[f64]) -> Vec<(&'static str, f64)> {
        let st = self.state;
        vec![
            ("i", s[st + ST_ID]),
            ("id", s[st + ST_ID]),
            ("vd", s[st + ST_VD]),
            ("gd", s[st + ST_GD]),
            ("q", s[st + ST_Q]),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::junction::REFTEMP;
    use crate::devices::junction::bench::Bench;

    fn model(params: &[(&str, f64)]) -> Model {
        Model {
            name: "dm".into(),
            kind: "d".into(),
            params: params.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            string_params: Default::default(),
            span: Default::default(),
        }
    }

    fn diode(params: &[(&str, f64)], area: f64) -> Bench<Diode> {
        Bench::new(
            Diode::new("d1".into(), 1, 2, &model(params), area, false).unwrap(),
            3,
        )
    }

    const VT: f64 = KOVERQ * REFTEMP;

    #[test]
    fn shockley_current_and_conductance() {
        for &(is, n) in &[(1e-14, 1.0), (2e-9, 1.8)] {
            let mut b = diode(&[("is", is), ("n", n)], 1.0);
            for v in [-0.05, 0.0, 0.1, 0.3, 0.5, 0.65, 0.75, 0.9] {
                let s = b.settle(&[0.0, v, 0.0]);
                let nvt = n * VT;
                let want = is * ((v / nvt).exp() - 1.0) + 1e-12 * v;
                let got = s.current(&[0.0, v, 0.0], 1);
                assert!(
                    (got - want).abs() <= 1e-9 * want.abs() + 1e-24,
                    "v={v}: {got} vs {want}"
                );
                // Current enters the anode and leaves the cathode.
                assert!((s.current(&[0.0, v, 0.0], 2) + got).abs() <= 1e-12 * got.abs() + 1e-24);
                let g = is / nvt * (v / nvt).exp() + 1e-12;
                assert!((s.jac[1][1] - g).abs() <= 1e-9 * g);
                assert!((s.jac[1][2] + g).abs() <= 1e-9 * g);
            }
        }
    }

    #[test]
    fn reverse_region_follows_spice_cubic() {
        let mut b = diode(&[("is", 1e-14)], 1.0);
        let v = -2.0;
        let s = b.settle(&[0.0, v, 0.0]);
        let arg = (3.0 * VT / (v * std::f64::consts::E)).powi(3);
        let want = -1e-14 * (1.0 + arg) + 1e-12 * v;
        assert!((s.current(&[0.0, v, 0.0], 1) - want).abs() < 1e-24);
    }

    #[test]
    fn conductances_match_finite_differences() {
        let cases: &[&[(&str, f64)]] = &[
            &[("is", 1e-14)],
            &[("is", 1e-14), ("rs", 10.0)],
            &[
                ("is", 1e-12),
                ("n", 1.5),
                ("rs", 2.0),
                ("bv", 5.0),
                ("ibv", 1e-4),
            ],
            &[("is", 1e-14), ("ikf", 1e-3), ("ikr", 1e-6), ("bv", 3.0)],
        ];
        for params in cases {
            let mut b = diode(params, 1.5);
            for v in [-6.0, -5.0, -3.02, -1.0, -0.05, 0.0, 0.2, 0.6, 0.7, 0.8] {
                let mut x = vec![0.0; b.n_eq];
                x[1] = v;
                if b.n_eq > 3 {
                    // Internal node: put it where the current through RS roughly balances.
                    x[3] = v * 0.98;
                }
                b.check_jacobian(&x, 1e-5, 1e-15);
            }
        }
    }

    #[test]
    fn transient_companion_matches_finite_differences() {
        // Depletion + diffusion charge integrated by backward Euler: the stamped
        // conductance must be d(i_dc + dq/dt)/dv.
        let mut b = diode(
            &[
                ("is", 1e-14),
                ("cjo", 2e-12),
                ("tt", 5e-9),
                ("vj", 0.7),
                ("m", 0.4),
            ],
            1.0,
        );
        b.mode = Mode::Tran;
        b.integ.set_step(1e-9, 1);
        for v in [-3.0, -0.5, 0.0, 0.3, 0.5, 0.65, 0.75] {
            b.check_jacobian(&[0.0, v, 0.0], 1e-5, 1e-15);
        }
    }

    #[test]
    fn series_resistance_adds_internal_node_only_when_nonzero() {
        assert_eq!(diode(&[("rs", 0.0)], 1.0).n_eq, 3);
        let mut b = diode(&[("rs", 10.0)], 2.0);
        assert_eq!(b.n_eq, 4);
        // RS is divided by the area.
        let s = b.settle(&[0.0, 0.0, 0.0, 0.0]);
        assert!((s.jac[1][1] - 0.2).abs() < 1e-15);
        assert!((s.jac[1][3] + 0.2).abs() < 1e-15);
    }

    #[test]
    fn junction_init_uses_vcrit_or_zero_when_off() {
        let is = 1e-14;
        let mut b = diode(&[("is", is)], 1.0);
        let s = b.load(&[0.0, 0.0, 0.0], InitPhase::Junction);
        let vcrit = VT * (VT / (std::f64::consts::SQRT_2 * is)).ln();
        assert!((b.state0[ST_VD] - vcrit).abs() < 1e-12);
        assert!(s.noncon > 0);
        let mut off = Bench::new(
            Diode::new("d1".into(), 1, 2, &model(&[]), 1.0, true).unwrap(),
            3,
        );
        off.load(&[0.0, 5.0, 0.0], InitPhase::Junction);
        assert_eq!(off.state0[ST_VD], 0.0);
    }

    #[test]
    fn pnjlim_limits_large_steps_and_flags_nonconvergence() {
        let mut b = diode(&[("is", 1e-14)], 1.0);
        b.settle(&[0.0, 0.6, 0.0]);
        let s = b.load(&[0.0, 5.0, 0.0], InitPhase::Normal);
        let vd = b.state0[ST_VD];
        assert!(vd > 0.6 && vd < 0.9, "limited to {vd}");
        assert!(s.noncon > 0);
        // The stamp is the linearisation at the limited voltage, not at 5 V.
        let i = 1e-14 * ((vd / VT).exp() - 1.0) + 1e-12 * vd;
        assert!((b.state0[ST_ID] - i).abs() < 1e-9 * i);
        // Settled: nothing limited, converged.
        let s = b.settle(&[0.0, 0.7, 0.0]);
        let s2 = b.load(&[0.0, 0.7, 0.0], InitPhase::Normal);
        assert_eq!(s2.noncon, 0);
        assert!(s.current(&[0.0, 0.7, 0.0], 1) > 0.0);
    }

    #[test]
    fn breakdown_is_matched_to_ibv() {
        for &(bv, ibv, n) in &[(5.0, 1e-3, 1.0), (10.0, 1e-6, 1.0), (3.0, 1e-2, 2.0)] {
            let mut b = diode(&[("is", 1e-14), ("bv", bv), ("ibv", ibv), ("n", n)], 1.0);
            let s = b.settle(&[0.0, -bv, 0.0]);
            let i = s.current(&[0.0, -bv, 0.0], 1);
            assert!((i + ibv).abs() < 0.02 * ibv, "bv={bv}: i={i}");
            // Exponential beyond: one more nbv·vt decade factor e.
            let s = b.settle(&[0.0, -bv - n * VT, 0.0]);
            let i2 = s.current(&[0.0, -bv - n * VT, 0.0], 1);
            assert!(
                (i2 / i - std::f64::consts::E).abs() < 0.05,
                "ratio {}",
                i2 / i
            );
        }
    }

    #[test]
    fn temperature_scaling_reduces_to_nominal_and_follows_xti_eg() {
        let d = Diode::new(
            "d1".into(),
            1,
            2,
            &model(&[("is", 1e-14), ("cjo", 1e-12)]),
            1.0,
            false,
        )
        .unwrap();
        let t0 = d.compute_temp(REFTEMP);
        assert!((t0.csat - 1e-14).abs() < 1e-26);
        assert!((t0.dep.pb - 1.0).abs() < 1e-12);
        assert!((t0.dep.cz - 1e-12).abs() < 1e-24);
        let t = 350.0;
        let t1 = d.compute_temp(t);
        let vt = KOVERQ * t;
        let want = 1e-14 * ((t / REFTEMP - 1.0) * 1.11 / vt).exp() * (t / REFTEMP).powf(3.0);
        assert!((t1.csat / want - 1.0).abs() < 1e-12);
        // Hotter: smaller junction potential, larger zero-bias capacitance.
        assert!(t1.dep.pb < 1.0 && t1.dep.cz > 1e-12);
        // TNOM given in °C.
        let d = Diode::new(
            "d1".into(),
            1,
            2,
            &model(&[("is", 1e-14), ("tnom", 50.0)]),
            1.0,
            false,
        )
        .unwrap();
        assert!((d.compute_temp(323.15).csat - 1e-14).abs() < 1e-26);
    }

    #[test]
    fn area_scales_current_and_capacitance() {
        let p = [("is", 1e-14), ("cjo", 1e-12)];
        let d1 = Diode::new("d".into(), 1, 2, &model(&p), 1.0, false)
            .unwrap()
            .compute_temp(REFTEMP);
        let d3 = Diode::new("d".into(), 1, 2, &model(&p), 3.0, false)
            .unwrap()
            .compute_temp(REFTEMP);
        assert!((d3.csat / d1.csat - 3.0).abs() < 1e-12);
        assert!((d3.dep.cz / d1.dep.cz - 3.0).abs() < 1e-12);
    }

    #[test]
    fn rejects_bad_models() {
        assert!(Diode::new("d".into(), 1, 2, &model(&[("is", -1.0)]), 1.0, false).is_err());
        assert!(Diode::new("d".into(), 1, 2, &model(&[("level", 3.0)]), 1.0, false).is_err());
        assert!(Diode::new("d".into(), 1, 2, &model(&[]), 0.0, false).is_err());
        assert!(Diode::new("d".into(), 1, 2, &model(&[("fc", 1.0)]), 1.0, false).is_err());
    }

    /// Whole-circuit operating points through the engine, against ngspice-39 output:
    /// forward bias, and reverse breakdown with area 2 (IBV not area-scaled, RS/area).
    #[test]
    fn operating_point_matches_ngspice() {
        use crate::circuit::{Analysis, Circuit, Element, ElementKind, Waveform};
        type Case<'a> = (f64, f64, &'a [(&'a str, f64)], f64);
        let cases: [Case; 2] = [
            (0.7, 1.0, &[("is", 1e-14)], -5.670347e-03),
            (
                -5.2,
                2.0,
                &[
                    ("is", 1e-14),
                    ("bv", 5.0),
                    ("ibv", 1e-3),
                    ("rs", 10.0),
                    ("cjo", 1e-12),
                ],
                2.363849e-02,
            ),
        ];
        for (v, area, params, want) in cases {
            let mut c = Circuit {
                title: "t".into(),
                ..Default::default()
            };
            c.nodes = vec!["0".into(), "a".into()];
            c.models.insert("dm".into(), model(params));
            c.elements = vec![
                Element {
                    name: "v1".into(),
                    kind: ElementKind::VSource {
                        p: 1,
                        n: 0,
                        wave: Waveform { dc: v, tran: None },
                    },
                    span: Default::default(),
                },
                Element {
                    name: "d1".into(),
                    kind: ElementKind::Diode {
                        a: 1,
                        c: 0,
                        model: "dm".into(),
                        area,
                        off: false,
                    },
                    span: Default::default(),
                },
            ];
            c.analyses = vec![Analysis::Op];
            let out = crate::analysis::simulate(&c).expect("operating point");
            let got = out.plots[0].get("i(v1)").expect("i(v1)").data[0];
            assert!(
                (got - want).abs() < 2e-6 * want.abs(),
                "v = {v}: {got} vs ngspice {want}"
            );
        }
    }
}
