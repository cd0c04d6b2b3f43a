//! SPICE junction diode (ngspice `dio` level 1): Shockley current with emission
//! coefficient, reverse-bias cubic roll-off and breakdown, optional high-injection knees,
//! series resistance on an internal anode node, depletion charge with the FC
//! linearisation plus diffusion charge `TT·id`, and ngspice's temperature laws.
//!
//! The load follows `dioload.c`: the junction voltage is limited with `DEVpnjlim` (in the
//! breakdown direction too), `gmin` is added across the junction, and the state vector
//! holds the voltage, current and conductance of the last evaluation for limiting and for
//! the current-convergence test ngspice runs in `DIOconvTest`.

use std::sync::OnceLock;

use super::junction::{CTOK, Depletion, KOVERQ, junction_temp};
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
        if !(par.is > 0.0) || !(par.n > 0.0) || !(par.nbv > 0.0) {
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
        if !(par.vj > 0.0) || !(0.0..1.0).contains(&par.fc) || !(par.m < 1.0) {
            return Err(format!(
                "{name}: diode model {} needs VJ > 0, 0 ≤ FC < 1 and M < 1",
                model.name
            ));
        }
        if par.bv.is_some_and(|bv| !(bv > 0.0)) {
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
    vt: f64,
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
    /// States: vd, id, gd, q, dq/dt.
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
        if !(area > 0.0) {
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
    fn temp(&self, t: f64) -> Temp {
        let cached = self.cache.get_or_init(|| self.compute_temp(t));
        if cached.temp == t {
            *cached
        } else {
            self.compute_temp(t)
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
            let mut cbv = p.ibv;
            if cbv < csat * tbv / vt {
                cbv = csat * tbv / vt;
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
            vt,
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

/// Junction current and conductance at `vd` (ngspice `dioload.c`): returns
/// `(cd, gd, cdb, gdb)` where `cd/gd` include knees and `gmin`, and `cdb/gdb` are the bare
/// junction current and conductance (what the diffusion charge follows).
fn junction_current(tp: &Temp, vd: f64, gmin: f64) -> (f64, f64, f64, f64) {
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
    (cd + gmin * vd, gd + gmin, cdb, gdb)
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
        self.state = s.states(5);
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
        let tp = self.temp(ctx.temp_k);
        let st = self.state;
        let mut limited = true;
        let vd = if ctx.init == InitPhase::Junction {
            if self.off { 0.0 } else { tp.vcrit }
        } else {
            let vd = ctx.v(self.ap, self.c);
            let vold = ctx.state0[st + ST_VD];
            // Current convergence test (DIOconvTest) of the previous evaluation.
            let cd_old = ctx.state0[st + ST_ID];
            let cdhat = cd_old + ctx.state0[st + ST_GD] * (vd - vold);
            if (cdhat - cd_old).abs() > CONV_RELTOL * cdhat.abs().max(cd_old.abs()) + CONV_ABSTOL {
                ctx.noncon += 1;
            }
            if ctx.uic_start {
                limited = false;
                vd
            } else {
                let (v, lim) = match tp.bv {
                    Some(bv) if vd < (-bv + 10.0 * tp.vtebrk).min(0.0) => {
                        let (vt, lim) = pnjlim(-(vd + bv), -(vold + bv), tp.vtebrk, tp.vcrit);
                        (-(vt + bv), lim)
                    }
                    _ => pnjlim(vd, vold, tp.vte, tp.vcrit),
                };
                limited = lim;
                v
            }
        };
        let (mut cd, mut gd, cdb, gdb) = junction_current(&tp, vd, ctx.gmin);

        // Charge: depletion + diffusion. Stored in DC too so a transient starts consistent.
        let (qdep, cdep) = tp.dep.eval(vd);
        let q = qdep + tp.tt * cdb;
        let capd = cdep + tp.tt * gdb;
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
