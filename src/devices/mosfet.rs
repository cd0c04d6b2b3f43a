//! Level-1 MOSFET (Shichman–Hodges), ngspice `mos1`: square-law drain current with channel
//! length modulation and body effect, source/drain interchange for `vds < 0`, bulk–drain
//! and bulk–source junction diodes with depletion charges, Meyer gate capacitances plus
//! overlap capacitances, optional drain/source series resistances on internal nodes, the
//! `m` multiplier and ngspice's temperature laws.
//!
//! The load follows `mos1load.c` line by line where it matters for the waveforms:
//! voltages are internal "n-type" quantities (`type·v`), limited with `DEVfetlim`,
//! `DEVlimvds` and `DEVpnjlim`; the Meyer capacitances are half-capacitances from
//! `DEVqmeyer` summed with the previous time point's (ngspice's averaging) and turned into
//! incremental charges; `gmin` is added across both junctions.

use std::borrow::Cow;
use std::sync::OnceLock;

use super::junction::{
    self, CHARGE, CTOK, Depletion, EPS0, KOVERQ, MAX_EXP_ARG, REFTEMP, below_one, egfet, pbfact,
    positive,
};
use super::limiting::{fetlim, limvds, pnjlim};
use super::{Device, InitPhase, LATENCY_CURRENT_A, LoadCtx, Mode, Setup, TruncCtx};
use crate::circuit::Model;

/// Relative / absolute tolerances of the device current-convergence test (ngspice defaults).
const CONV_RELTOL: f64 = 1e-3;
const CONV_ABSTOL: f64 = 1e-12;
/// VNTOL of the bypass test (ngspice's default; V).
const BYPASS_VNTOL: f64 = 1e-6;

/// Default channel length and width when the instance gives none (ngspice `defl`/`defw`).
const DEFAULT_LW: f64 = 100e-6;

/// Instance geometry (m, m²) and multiplier.
#[derive(Debug, Clone, Copy)]
pub struct Geometry {
    pub w: f64,
    pub l: f64,
    pub ad: f64,
    pub as_: f64,
    pub pd: f64,
    pub ps: f64,
    pub m: f64,
}

/// Model parameters after ngspice's defaulting and `mos1temp.c` model preprocessing.
#[derive(Debug, Clone)]
struct Params {
    /// +1 NMOS, −1 PMOS.
    typ: f64,
    vto: f64,
    kp: f64,
    gamma: f64,
    phi: f64,
    lambda: f64,
    rd: f64,
    rs: f64,
    rsh: f64,
    cbd: Option<f64>,
    cbs: Option<f64>,
    is: f64,
    js: f64,
    pb: f64,
    cj: Option<f64>,
    mj: f64,
    cjsw: Option<f64>,
    mjsw: f64,
    fc: f64,
    cgso: f64,
    cgdo: f64,
    cgbo: f64,
    /// Oxide capacitance per area (F/m²), 0 without TOX.
    cox: f64,
    ld: f64,
    tnom: f64,
}

impl Params {
    fn from_model(name: &str, model: &Model) -> Result<Self, String> {
        let p = |k: &str| model.params.get(k).copied();
        let first = |keys: &[&str]| keys.iter().find_map(|k| p(k));
        let mname = &model.name;
        let typ = match model.kind.as_str() {
            "nmos" => 1.0,
            "pmos" => -1.0,
            k => {
                return Err(format!(
                    "{name}: model {mname} is a {k} model, not nmos/pmos"
                ));
            }
        };
        let level = p("level").unwrap_or(1.0);
        if level != 1.0 {
            return Err(format!(
                "{name}: MOSFET model {mname} level {level} is not supported (level 1 only)"
            ));
        }
        let tnom = p("tnom").unwrap_or(27.0) + CTOK;
        let mut par = Params {
            typ,
            vto: first(&["vto", "vt0"]).unwrap_or(0.0),
            kp: p("kp").unwrap_or(2e-5),
            gamma: p("gamma").unwrap_or(0.0),
            phi: p("phi").unwrap_or(0.6),
            lambda: p("lambda").unwrap_or(0.0),
            rd: p("rd").unwrap_or(0.0),
            rs: p("rs").unwrap_or(0.0),
            rsh: p("rsh").unwrap_or(0.0),
            cbd: p("cbd"),
            cbs: p("cbs"),
            is: p("is").unwrap_or(1e-14),
            js: p("js").unwrap_or(0.0),
            pb: p("pb").unwrap_or(0.8),
            cj: p("cj"),
            mj: p("mj").unwrap_or(0.5),
            cjsw: p("cjsw"),
            mjsw: p("mjsw").unwrap_or(0.5),
            fc: p("fc").unwrap_or(0.5),
            cgso: p("cgso").unwrap_or(0.0),
            cgdo: p("cgdo").unwrap_or(0.0),
            cgbo: p("cgbo").unwrap_or(0.0),
            cox: 0.0,
            ld: p("ld").unwrap_or(0.0),
            tnom,
        };
        // Process parameters (mos1temp.c): only with a nonzero oxide thickness.
        if let Some(tox) = p("tox").filter(|t| *t != 0.0) {
            if !positive(tox) {
                return Err(format!(
                    "{name}: MOSFET model {mname}: TOX must be positive"
                ));
            }
            par.cox = 3.9 * EPS0 / tox;
            if p("kp").is_none() {
                let uo = first(&["uo", "u0"]).unwrap_or(600.0);
                par.kp = uo * par.cox * 1e-4;
            }
            if let Some(nsub) = p("nsub") {
                if nsub * 1e6 > 1.45e16 {
                    let vtnom = tnom * KOVERQ;
                    let egfet1 = egfet(tnom);
                    if p("phi").is_none() {
                        par.phi = (2.0 * vtnom * (nsub * 1e6 / 1.45e16).ln()).max(0.1);
                    }
                    let fermis = typ * 0.5 * par.phi;
                    let tpg = p("tpg").unwrap_or(1.0);
                    let mut wkfng = 3.2;
                    if tpg != 0.0 {
                        let fermig = typ * tpg * 0.5 * egfet1;
                        wkfng = 3.25 + 0.5 * egfet1 - fermig;
                    }
                    let wkfngs = wkfng - (3.25 + 0.5 * egfet1 + fermis);
                    if p("gamma").is_none() {
                        par.gamma = (2.0 * 11.70 * EPS0 * CHARGE * nsub * 1e6).sqrt() / par.cox;
                    }
                    if first(&["vto", "vt0"]).is_none() {
                        let nss = p("nss").unwrap_or(0.0);
                        let vfb = wkfngs - nss * 1e4 * CHARGE / par.cox;
                        par.vto = vfb + typ * (par.gamma * par.phi.sqrt() + par.phi);
                    }
                } else {
                    return Err(format!("{name}: MOSFET model {mname}: NSUB < ni"));
                }
            }
        }
        if !positive(par.phi) {
            return Err(format!(
                "{name}: MOSFET model {mname}: PHI must be positive"
            ));
        }
        if !positive(par.pb)
            || !(0.0..1.0).contains(&par.fc)
            || !below_one(par.mj)
            || !below_one(par.mjsw)
        {
            return Err(format!(
                "{name}: MOSFET model {mname} needs PB > 0, 0 ≤ FC < 1, MJ < 1 and MJSW < 1"
            ));
        }
        if par.rd < 0.0 || par.rs < 0.0 || par.rsh < 0.0 {
            return Err(format!(
                "{name}: MOSFET model {mname}: RD, RS and RSH must not be negative"
            ));
        }
        Ok(par)
    }
}

/// Temperature- and geometry-dependent instance quantities (ngspice `MOS1temp`). `repr(C)`
/// keeps what every load reads in the leading cache lines and the depletion-charge data,
/// needed only by transistors with junction capacitance, at the end.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
struct Temp {
    temp: f64,
    vt: f64,
    /// Transconductance parameter KP at temperature.
    tkp: f64,
    tphi: f64,
    tvbi: f64,
    tvto: f64,
    drain_sat: f64,
    source_sat: f64,
    drain_vcrit: f64,
    source_vcrit: f64,
    /// Drain / source series conductances (0 = none).
    gdrain: f64,
    gsource: f64,
    /// No bulk depletion capacitance at all (no CJ, CJSW, CBD, CBS): the bulk charges are
    /// identically zero at every voltage.
    bulk_charge_free: bool,
    /// Bulk–drain / bulk–source depletion charges: bottom and sidewall.
    bd: [Depletion; 2],
    bs: [Depletion; 2],
}

/// Model and geometry constants every load reads, gathered in one place (see [`Mosfet`]).
#[derive(Debug, Clone, Copy)]
struct Hot {
    typ: f64,
    /// M·W/Leff: β = KP(T)·beta_geom.
    beta_geom: f64,
    /// Overlap capacitances (F): CGSO·M·W, CGDO·M·W, CGBO·M·Leff.
    ovl_gs: f64,
    ovl_gd: f64,
    ovl_gb: f64,
    /// COX·Leff·M·W (F).
    oxide_cap: f64,
    gamma: f64,
    lambda: f64,
    /// Any gate capacitance (oxide or overlap)?
    gate_caps: bool,
}

/// M: level-1 MOSFET.
///
/// `repr(C)` with what every load reads first (constants, nodes, state, slots as `u32`,
/// the temperature cache's leading fields): a crossbar's load loop streams thousands of
/// instances and was bound by cache misses on the ~1 KB instance, not by arithmetic.
#[repr(C)]
pub struct Mosfet {
    hot: Hot,
    d: usize,
    g: usize,
    s: usize,
    b: usize,
    /// Internal drain / source nodes (equal to `d` / `s` without series resistance).
    dp: usize,
    sp: usize,
    state: usize,
    slots: [u32; 22],
    /// rhs of g, b, dp, sp.
    rhs: [u32; 4],
    off: bool,
    cache: OnceLock<Temp>,
    name: String,
    geom: Geometry,
    leff: f64,
    par: Params,
}

// State layout (offsets from `state`). Charges are followed by their currents. The four
// voltages and the latency box come first: the fast latency test reads only the box.
const VBD: usize = 0;
const VBS: usize = 1;
const VGS: usize = 2;
const VDS: usize = 3;
/// The latency box ([`Mosfet::latency_box`]): bounds (V) on the present internal voltages
/// inside which the last evaluation is certified latent. An empty box (lower bounds +∞)
/// when it is not a candidate.
const LO_BS: usize = 4;
const HI_BS: usize = 5;
const LO_BD: usize = 6;
const HI_BD: usize = 7;
const HI_GS: usize = 8;
const HI_GD: usize = 9;
const CAPGS: usize = 10;
const QGS: usize = 11;
const CAPGD: usize = 13;
const QGD: usize = 14;
const CAPGB: usize = 16;
const QGB: usize = 17;
const QBD: usize = 19;
const QBS: usize = 21;
const VON: usize = 23;
const VDSAT: usize = 24;
const MODE: usize = 25;
const CD: usize = 26;
const CBS: usize = 27;
const CBD: usize = 28;
const GM: usize = 29;
const GDS: usize = 30;
const GMBS: usize = 31;
const GBD: usize = 32;
const GBS: usize = 33;
/// `off` hold bookkeeping ([`junction::hold_off`]).
const HOLD: usize = 34;
const N_STATES: usize = HOLD + junction::hold_states(3);

// Matrix slot indices.
const DD: usize = 0;
const GG: usize = 1;
const SS: usize = 2;
const BB: usize = 3;
const DPDP: usize = 4;
const SPSP: usize = 5;
const DDP: usize = 6;
const GB: usize = 7;
const GDP: usize = 8;
const GSP: usize = 9;
const SSP: usize = 10;
const BDP: usize = 11;
const BSP: usize = 12;
const DPSP: usize = 13;
const DPD: usize = 14;
const BG: usize = 15;
const DPG: usize = 16;
const SPG: usize = 17;
const SPS: usize = 18;
const DPB: usize = 19;
const SPB: usize = 20;
const SPDP: usize = 21;

impl Mosfet {
    /// Does the model give the gate any capacitance (Meyer or overlap)? Without it the gate
    /// charges are identically zero: no gate-row stamps and no truncation error.
    fn has_gate_caps(&self) -> bool {
        self.hot.gate_caps
    }

    /// No gate and no junction capacitance: the states hold only the operating point.
    fn charge_free(&self, tp: &Temp) -> bool {
        !self.has_gate_caps() && tp.bulk_charge_free
    }

    /// Certified latency of a charge-free transistor: its last evaluation was cut off, the
    /// present voltages are cut off too (the channel carries exactly zero current at both
    /// points), both junction tangents still give their currents to within
    /// [`LATENCY_CURRENT_A`], and the last evaluation passed the current convergence test
    /// at the present voltages. Reusing it then changes no current by more than 10⁻³ of
    /// ABSTOL, and the Newton iteration sees the same convergence verdict.
    fn latent(&self, ctx: &LoadCtx, tp: &Temp) -> bool {
        let s0 = &ctx.state0[self.state..self.state + N_STATES];
        if !evaluated_cut_off(s0) {
            return false;
        }
        let typ = self.hot.typ;
        let vbs = typ * ctx.v(self.b, self.sp);
        let vgs = typ * ctx.v(self.g, self.sp);
        let vds = typ * ctx.v(self.dp, self.sp);
        let vbd = vbs - vds;
        let conv = ConvTest::of(s0, vbs, vgs, vds);
        let vt = tp.vt;
        conv.cd_converged
            && conv.cb_converged
            && channel_off(tp, &self.hot, vgs, vds, vbs)
            && tangent_exact(vbs, s0[VBS], s0[CBS], s0[GBS], tp.source_sat, vt, ctx.gmin)
            && tangent_exact(vbd, s0[VBD], s0[CBD], s0[GBD], tp.drain_sat, vt, ctx.gmin)
    }

    /// The fast form of [`Mosfet::latent`]: whether the present internal voltages lie in
    /// the box stored with the last evaluation, inside which `latent` is certain to hold.
    /// It reads six state words, the node voltages and the instance's node indices instead
    /// of the temperature cache and the whole state block; outside the box `latent` decides.
    #[inline]
    fn inside_latency_box(&self, ctx: &LoadCtx) -> bool {
        let b = &ctx.state0[self.state..self.state + HI_GD + 1];
        let typ = self.hot.typ;
        let vbs = typ * ctx.v(self.b, self.sp);
        let vgs = typ * ctx.v(self.g, self.sp);
        let vds = typ * ctx.v(self.dp, self.sp);
        let vbd = vbs - vds;
        let gate_off = if vds >= 0.0 {
            vgs <= b[HI_GS]
        } else {
            vgs - vds <= b[HI_GD]
        };
        gate_off && vbs >= b[LO_BS] && vbs <= b[HI_BS] && vbd >= b[LO_BD] && vbd <= b[HI_BD]
    }

    /// The latency box of the evaluation stored in `s0` (written to its `LO_BS..=HI_GD`):
    /// every point with vbs in [LO_BS, HI_BS], vbd in [LO_BD, HI_BD] and, in the mode that
    /// vds selects, vgs ≤ HI_GS or vgd ≤ HI_GD passes [`Mosfet::latent`]. The bounds:
    /// - each junction within [`junction_interval`] of its stored voltage (its tangent
    ///   stays within [`LATENCY_CURRENT_A`], and its conductance times the move stays
    ///   under ABSTOL/4, so with gm = gds = gmbs = 0 both current convergence tests pass:
    ///   |Δcd| = GBD·|Δvbd| and |Δcb| ≤ GBD·|Δvbd| + GBS·|Δvbs| ≤ ABSTOL/2);
    /// - the gate below the threshold at the highest bulk voltage of the box (the
    ///   threshold falls as vb rises when γ ≥ 0), so the channel is cut off.
    ///
    /// The gate has no lower bound: a gate that falls further keeps the channel off, which
    /// keeps a transistor whose word line just went low latent.
    fn latency_box(&self, tp: &Temp, s0: &mut [f64]) {
        let p = &self.hot;
        let empty = [f64::INFINITY, f64::NEG_INFINITY];
        let candidate = self.charge_free(tp) && evaluated_cut_off(s0) && p.gamma >= 0.0;
        let (bs, bd) = if candidate {
            (
                junction_interval(s0[VBS], s0[GBS], tp.source_sat, tp.vt),
                junction_interval(s0[VBD], s0[GBD], tp.drain_sat, tp.vt),
            )
        } else {
            (empty, empty)
        };
        // A margin far above rounding and far below any voltage that matters.
        const MARGIN_V: f64 = 1e-9;
        let gate = |hi_b: f64| {
            if hi_b.is_finite() {
                threshold(tp, p, hi_b).0 - MARGIN_V
            } else {
                f64::NEG_INFINITY
            }
        };
        s0[LO_BS] = bs[0];
        s0[HI_BS] = bs[1];
        s0[LO_BD] = bd[0];
        s0[HI_BD] = bd[1];
        s0[HI_GS] = gate(bs[1]);
        s0[HI_GD] = gate(bd[1]);
    }

    #[allow(clippy::too_many_arguments)]
    pub fn new(
        name: String,
        d: usize,
        g: usize,
        s: usize,
        b: usize,
        m: &Model,
        geom: Geometry,
        off: bool,
    ) -> Result<Self, String> {
        let par = Params::from_model(&name, m)?;
        let mut geom = geom;
        if !positive(geom.w) {
            geom.w = DEFAULT_LW;
        }
        if !positive(geom.l) {
            geom.l = DEFAULT_LW;
        }
        if !positive(geom.m) {
            geom.m = 1.0;
        }
        if geom.ad < 0.0 || geom.as_ < 0.0 || geom.pd < 0.0 || geom.ps < 0.0 {
            return Err(format!("{name}: AD, AS, PD and PS must not be negative"));
        }
        let leff = geom.l - 2.0 * par.ld;
        if !positive(leff) {
            return Err(format!(
                "{name}: effective channel length L − 2·LD = {leff:e} m is not positive"
            ));
        }
        let hot = Hot {
            typ: par.typ,
            beta_geom: geom.m * geom.w / leff,
            ovl_gs: par.cgso * geom.m * geom.w,
            ovl_gd: par.cgdo * geom.m * geom.w,
            ovl_gb: par.cgbo * geom.m * leff,
            oxide_cap: par.cox * leff * geom.m * geom.w,
            gamma: par.gamma,
            lambda: par.lambda,
            gate_caps: par.cox != 0.0 || par.cgso != 0.0 || par.cgdo != 0.0 || par.cgbo != 0.0,
        };
        Ok(Mosfet {
            hot,
            name,
            d,
            g,
            s,
            b,
            dp: d,
            sp: s,
            geom,
            leff,
            off,
            par,
            cache: OnceLock::new(),
            state: 0,
            slots: [0; 22],
            rhs: [0; 4],
        })
    }

    fn drain_conductance(&self) -> f64 {
        let m = self.geom.m;
        if self.par.rd != 0.0 {
            m / self.par.rd
        } else if self.par.rsh != 0.0 {
            // NRD defaults to one square.
            m / self.par.rsh
        } else {
            0.0
        }
    }

    fn source_conductance(&self) -> f64 {
        let m = self.geom.m;
        if self.par.rs != 0.0 {
            m / self.par.rs
        } else if self.par.rsh != 0.0 {
            m / self.par.rsh
        } else {
            0.0
        }
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
        let gm = &self.geom;
        let tnom = p.tnom;
        let vt = t * KOVERQ;
        let vtnom = tnom * KOVERQ;
        let ratio = t / tnom;
        let fact1 = tnom / REFTEMP;
        let fact2 = t / REFTEMP;
        let eg = egfet(t);
        let eg1 = egfet(tnom);
        let tkp = p.kp / (ratio * ratio.sqrt());
        let phio = (p.phi - pbfact(tnom)) / fact1;
        let tphi = fact2 * phio + pbfact(t);
        let tvbi = p.vto - p.typ * (p.gamma * p.phi.sqrt())
            + 0.5 * (eg1 - eg)
            + p.typ * 0.5 * (tphi - p.phi);
        let tvto = tvbi + p.typ * p.gamma * tphi.sqrt();
        let sat_fact = (-eg / vt + eg1 / vtnom).exp();
        let tsat = p.is * sat_fact;
        let tsatdens = p.js * sat_fact;
        // Junction potential and capacitance temperature laws (one potential, PB).
        let (pbo, gmaold) = junction::pb_nominal(p.pb, tnom);
        let tpb = junction::pb_at(pbo, t);
        let f_bot = junction::cap_factor(pbo, gmaold, tpb, p.mj, tnom, t);
        let f_side = junction::cap_factor(pbo, gmaold, tpb, p.mjsw, tnom, t);
        let (drain_sat, source_sat, drain_vcrit, source_vcrit);
        if tsatdens == 0.0 || gm.ad == 0.0 || gm.as_ == 0.0 {
            drain_sat = gm.m * tsat;
            source_sat = drain_sat;
            drain_vcrit = vt * (vt / (std::f64::consts::SQRT_2 * gm.m * tsat)).ln();
            source_vcrit = drain_vcrit;
        } else {
            drain_sat = tsatdens * gm.m * gm.ad;
            source_sat = tsatdens * gm.m * gm.as_;
            drain_vcrit = vt * (vt / (std::f64::consts::SQRT_2 * drain_sat)).ln();
            source_vcrit = vt * (vt / (std::f64::consts::SQRT_2 * source_sat)).ln();
        }
        let bottom = |given: Option<f64>, area: f64| -> f64 {
            match (given, p.cj) {
                (Some(c), _) => c * f_bot * gm.m,
                (None, Some(cj)) => cj * f_bot * gm.m * area,
                (None, None) => 0.0,
            }
        };
        let side = |perim: f64| p.cjsw.map_or(0.0, |c| c * f_side * perim * gm.m);
        let dep = |cz: f64, mj: f64| Depletion::new(cz, tpb, mj, p.fc);
        let bd = [dep(bottom(p.cbd, gm.ad), p.mj), dep(side(gm.pd), p.mjsw)];
        let bs = [dep(bottom(p.cbs, gm.as_), p.mj), dep(side(gm.ps), p.mjsw)];
        Temp {
            temp: t,
            vt,
            tkp,
            tphi,
            tvbi,
            tvto,
            drain_sat,
            source_sat,
            drain_vcrit,
            source_vcrit,
            gdrain: self.drain_conductance(),
            gsource: self.source_conductance(),
            bulk_charge_free: bd.iter().chain(&bs).all(|d| d.cz == 0.0),
            bd,
            bs,
        }
    }
}

/// Meyer's gate capacitances (ngspice `DEVqmeyer`): returns half of the voltage-dependent
/// (gs, gd, gb) capacitances; the caller adds the previous time point's halves.
fn qmeyer(vgs: f64, vgd: f64, von: f64, vdsat: f64, phi: f64, cox: f64) -> (f64, f64, f64) {
    const MAGIC_VDS: f64 = 0.025;
    let vgst = vgs - von;
    let vdsat = vdsat.max(MAGIC_VDS);
    if vgst <= -phi {
        (0.0, 0.0, cox / 2.0)
    } else if vgst <= -phi / 2.0 {
        (0.0, 0.0, -vgst * cox / (2.0 * phi))
    } else if vgst <= 0.0 {
        let capgb = -vgst * cox / (2.0 * phi);
        let capgs = vgst * cox / (1.5 * phi) + cox / 3.0;
        let vds = vgs - vgd;
        if vds >= vdsat {
            (capgs, 0.0, capgb)
        } else {
            let vddif = 2.0 * vdsat - vds;
            let vddif1 = vdsat - vds;
            let vddif2 = vddif * vddif;
            (
                capgs * (1.0 - vddif1 * vddif1 / vddif2),
                capgs * (1.0 - vdsat * vdsat / vddif2),
                capgb,
            )
        }
    } else {
        let vds = vgs - vgd;
        if vdsat <= vds {
            (cox / 3.0, 0.0, 0.0)
        } else {
            let vddif = 2.0 * vdsat - vds;
            let vddif1 = vdsat - vds;
            let vddif2 = vddif * vddif;
            (
                cox * (1.0 - vddif1 * vddif1 / vddif2) / 3.0,
                cox * (1.0 - vdsat * vdsat / vddif2) / 3.0,
                0.0,
            )
        }
    }
}

/// Junction diode current and conductance of a MOS bulk junction (with `gmin`).
#[inline]
fn bulk_diode(v: f64, isat: f64, vt: f64, gmin: f64) -> (f64, f64) {
    if v <= -3.0 * vt {
        (gmin * v - isat, gmin)
    } else {
        let ev = (v / vt).min(MAX_EXP_ARG).exp();
        (isat * (ev - 1.0) + gmin * v, isat * ev / vt + gmin)
    }
}

/// Whether the evaluation stored in `s0` had the channel cut off (no channel conductance).
fn evaluated_cut_off(s0: &[f64]) -> bool {
    s0[GM] == 0.0 && s0[GDS] == 0.0 && s0[GMBS] == 0.0
}

/// ngspice's current convergence test (MOS1convTest) of the evaluation stored in `s0`, at
/// the internal voltages `vbs`, `vgs`, `vds`.
struct ConvTest {
    /// The linearised bulk current at the new voltages, and the stored one.
    cbhat: f64,
    cb: f64,
    cd_converged: bool,
    cb_converged: bool,
}

impl ConvTest {
    fn of(s0: &[f64], vbs: f64, vgs: f64, vds: f64) -> ConvTest {
        let vbd = vbs - vds;
        let delvbs = vbs - s0[VBS];
        let delvbd = vbd - s0[VBD];
        let delvgs = vgs - s0[VGS];
        let delvds = vds - s0[VDS];
        let delvgd = (vgs - vds) - (s0[VGS] - s0[VDS]);
        let cdhat = if s0[MODE] >= 0.0 {
            s0[CD] - s0[GBD] * delvbd + s0[GMBS] * delvbs + s0[GM] * delvgs + s0[GDS] * delvds
        } else {
            s0[CD] - (s0[GBD] - s0[GMBS]) * delvbd - s0[GM] * delvgd + s0[GDS] * delvds
        };
        let cb = s0[CBS] + s0[CBD];
        let cbhat = cb + s0[GBD] * delvbd + s0[GBS] * delvbs;
        ConvTest {
            cbhat,
            cb,
            cd_converged: (cdhat - s0[CD]).abs()
                < CONV_RELTOL * cdhat.abs().max(s0[CD].abs()) + CONV_ABSTOL,
            cb_converged: (cbhat - cb).abs()
                <= CONV_RELTOL * cbhat.abs().max(cb.abs()) + CONV_ABSTOL,
        }
    }
}

/// Whether the bulk junction's tangent at `v0` (current `c0`, conductance `g0`, as
/// [`bulk_diode`] gave them) still gives its current at `v` to within
/// [`LATENCY_CURRENT_A`]. Below −3·vt the junction is linear (`gmin·v − isat`), so two points
/// there are exact without evaluating anything. Two points on the exponential branch at or
/// below 0 V differ from the tangent by at most ½·(isat/vt²)·Δv² (the second derivative is
/// largest at 0 V), which decides most cases without an `exp`: the bound is never below the
/// true error.
fn tangent_exact(v: f64, v0: f64, c0: f64, g0: f64, isat: f64, vt: f64, gmin: f64) -> bool {
    let linear = -3.0 * vt;
    if v <= linear && v0 <= linear {
        return true;
    }
    if v > linear && v0 > linear && v.max(v0) <= 0.0 {
        let dv = v - v0;
        if 0.5 * isat / (vt * vt) * dv * dv <= LATENCY_CURRENT_A {
            return true;
        }
    }
    let (c, _) = bulk_diode(v, isat, vt, gmin);
    (c - (c0 + g0 * (v - v0))).abs() <= LATENCY_CURRENT_A
}

/// The interval of junction voltages around the stored `v0` (conductance `g0`) inside
/// which [`tangent_exact`] holds with a factor-2 margin and the current moves by at most
/// `g0`·|Δv| ≤ ABSTOL/4 along the tangent. On the linear branch below −3·vt the interval
/// may reach up to −3·vt (exact there); on the exponential branch it stays above −3·vt and
/// keeps the Taylor remainder ½·(isat/vt²)·e^{vmax/vt}·d² under half of
/// [`LATENCY_CURRENT_A`].
fn junction_interval(v0: f64, g0: f64, isat: f64, vt: f64) -> [f64; 2] {
    let conv = if g0 > 0.0 {
        0.25 * CONV_ABSTOL / g0
    } else {
        f64::INFINITY
    };
    let linear = -3.0 * vt;
    let [lo, hi] = if v0 <= linear {
        // Up to −3·vt itself (the same expression `tangent_exact` compares with).
        [v0 - conv, linear.min(v0 + conv)]
    } else if isat <= 0.0 {
        // No saturation current: gmin alone, exactly linear on both branches.
        [v0 - conv, v0 + conv]
    } else {
        let d_max = (LATENCY_CURRENT_A * vt * vt / isat).sqrt();
        let d = (d_max * (-(v0 + d_max).max(0.0) / (2.0 * vt)).exp())
            .min(0.5 * (v0 - linear))
            .min(conv);
        [v0 - d, v0 + d]
    };
    // At most a volt each way, so a NaN or an infinite conductance bound cannot make the
    // box unbounded; an empty box when nothing is certified.
    let [lo, hi] = [lo.max(v0 - 1.0), hi.min(v0 + 1.0)];
    if lo <= v0 && v0 <= hi {
        [lo, hi]
    } else {
        [f64::INFINITY, f64::NEG_INFINITY]
    }
}

/// Threshold `von` (V) and `sarg` = √(φ − vbs) (with ngspice's continuation for vbs > 0)
/// at internal bulk–source voltage `vbs`.
fn threshold(tp: &Temp, p: &Hot, vbs: f64) -> (f64, f64) {
    let sarg = if vbs <= 0.0 {
        (tp.tphi - vbs).sqrt()
    } else {
        let s = tp.tphi.sqrt();
        (s - vbs / (s + s)).max(0.0)
    };
    (tp.tvbi * p.typ + p.gamma * sarg, sarg)
}

/// Whether the channel is cut off (zero current, zero conductances) at internal voltages
/// `vgs`, `vds`, `vbs`, with the same source/drain interchange as the load.
fn channel_off(tp: &Temp, p: &Hot, vgs: f64, vds: f64, vbs: f64) -> bool {
    let (vg, vb) = if vds >= 0.0 {
        (vgs, vbs)
    } else {
        (vgs - vds, vbs - vds)
    };
    vg - threshold(tp, p, vb).0 <= 0.0
}

/// Shichman–Hodges drain current in normal mode (`vds ≥ 0` after interchange).
/// Returns `[cdrain, gm, gds, gmbs, von, vdsat]` for internal voltages `vgs`, `vds`, `vbs`.
fn drain_current(tp: &Temp, p: &Hot, beta: f64, vgs: f64, vds: f64, vbs: f64) -> [f64; 6] {
    let (gamma, lambda) = (p.gamma, p.lambda);
    let (von, sarg) = threshold(tp, p, vbs);
    let vgst = vgs - von;
    let vdsat = vgst.max(0.0);
    let arg = if sarg <= 0.0 {
        0.0
    } else {
        gamma / (sarg + sarg)
    };
    if vgst <= 0.0 {
        return [0.0, 0.0, 0.0, 0.0, von, vdsat];
    }
    let betap = beta * (1.0 + lambda * vds);
    if vgst <= vds {
        // Saturation.
        let gm = betap * vgst;
        [
            betap * vgst * vgst * 0.5,
            gm,
            lambda * beta * vgst * vgst * 0.5,
            gm * arg,
            von,
            vdsat,
        ]
    } else {
        // Linear region.
        let gm = betap * vds;
        let cdrain = betap * vds * (vgst - 0.5 * vds);
        let gds = betap * (vgst - vds) + lambda * beta * vds * (vgst - 0.5 * vds);
        [cdrain, gm, gds, gm * arg, von, vdsat]
    }
}

impl Device for Mosfet {
    fn name(&self) -> &str {
        &self.name
    }

    fn setup_equations(&mut self, s: &mut Setup) -> Option<usize> {
        if self.par.rd != 0.0 || self.par.rsh != 0.0 {
            self.dp = s.new_equation(format!("{}#drain", self.name));
        }
        if self.par.rs != 0.0 || self.par.rsh != 0.0 {
            self.sp = s.new_equation(format!("{}#source", self.name));
        }
        None
    }

    fn setup_slots(&mut self, s: &mut Setup) -> Result<(), String> {
        let (d, g, sn, b, dp, sp) = (self.d, self.g, self.s, self.b, self.dp, self.sp);
        self.state = s.states(N_STATES);
        let pairs = [
            (d, d),
            (g, g),
            (sn, sn),
            (b, b),
            (dp, dp),
            (sp, sp),
            (d, dp),
            (g, b),
            (g, dp),
            (g, sp),
            (sn, sp),
            (b, dp),
            (b, sp),
            (dp, sp),
            (dp, d),
            (b, g),
            (dp, g),
            (sp, g),
            (sp, sn),
            (dp, b),
            (sp, b),
            (sp, dp),
        ];
        // Without any gate capacitance the gate row carries no current and its off-diagonal
        // stamps are exactly zero; leaving them out of the pattern keeps a word line
        // driven by a source from coupling every cell on it into one block of the LU.
        let gate_caps = self.has_gate_caps();
        for (k, (slot, (r, c))) in self.slots.iter_mut().zip(pairs).enumerate() {
            let gate_row = matches!(k, GB | GDP | GSP | BG);
            *slot = if gate_row && !gate_caps {
                crate::linalg::TRASH
            } else {
                s.slot(r, c)
            } as u32;
        }
        self.rhs = [s.rhs(g), s.rhs(b), s.rhs(dp), s.rhs(sp)].map(|r| r as u32);
        Ok(())
    }

    fn load(&self, ctx: &mut LoadCtx) {
        let latency = ctx.latency
            && ctx.mode == Mode::Tran
            && ctx.init == InitPhase::Normal
            && !ctx.uic_start;
        if latency && self.inside_latency_box(ctx) {
            ctx.latent += 1;
            return;
        }
        let tp = &*self.temp(ctx.temp_k);
        if latency && self.charge_free(tp) && self.latent(ctx, tp) {
            // The stamps and states of the last evaluation stay where they are.
            ctx.latent += 1;
            return;
        }
        let p = &self.hot;
        let typ = p.typ;
        let st = self.state;
        let vt = tp.vt;
        let (ovl_gs, ovl_gd, ovl_gb) = (p.ovl_gs, p.ovl_gd, p.ovl_gb);
        let beta = tp.tkp * p.beta_geom;
        let oxide_cap = p.oxide_cap;

        let mut check = true;
        let mut bypass = false;
        let (mut vbs, mut vgs, mut vds);
        let raw = [
            typ * ctx.v(self.b, self.sp),
            typ * ctx.v(self.g, self.sp),
            typ * ctx.v(self.dp, self.sp),
        ];
        let held = junction::hold_off(ctx, self.off, st + HOLD, &raw);
        if ctx.uic_start {
            // ngspice (MODEINITJCT | MODETRANOP | MODEUIC): the instance initial conditions,
            // which MOS1getic takes from the external nodes' initial values.
            vbs = typ * ctx.v(self.b, self.s);
            vgs = typ * ctx.v(self.g, self.s);
            vds = typ * ctx.v(self.d, self.s);
            check = false;
        } else if held && ctx.init == InitPhase::Normal {
            // MODEINITFIX for an `off` device: zero voltages, no limiting check.
            (vbs, vgs, vds) = (0.0, 0.0, 0.0);
            check = false;
        } else if ctx.init == InitPhase::Junction {
            if self.off {
                (vbs, vgs, vds) = (0.0, 0.0, 0.0);
            } else {
                (vbs, vgs, vds) = (-1.0, typ * tp.tvto, 0.0);
            }
        } else {
            let s0: [f64; N_STATES] = ctx.state0[st..st + N_STATES]
                .try_into()
                .expect("state block");
            [vbs, vgs, vds] = raw;
            let mut vbd = vbs - vds;
            let mut vgd = vgs - vds;
            let vgdo = s0[VGS] - s0[VDS];
            let conv = ConvTest::of(&s0, vbs, vgs, vds);
            let (cbhat, cb) = (conv.cbhat, conv.cb);
            // ngspice's bypass test (mos1load.c): every controlling voltage and both
            // linearised currents within the Newton tolerances of the last evaluation.
            let small = |d: f64, now: f64, then: f64| {
                d.abs() < CONV_RELTOL * now.abs().max(then.abs()) + BYPASS_VNTOL
            };
            bypass = ctx.bypass
                && (!ctx.point_start || self.charge_free(tp))
                && conv.cd_converged
                && (cbhat - cb).abs() < CONV_RELTOL * (cbhat.abs().max(cb.abs()) + CONV_ABSTOL)
                && small(vbs - s0[VBS], vbs, s0[VBS])
                && small(vbd - s0[VBD], vbd, s0[VBD])
                && small(vgs - s0[VGS], vgs, s0[VGS])
                && small(vds - s0[VDS], vds, s0[VDS]);
            if bypass {
                ctx.bypassed += 1;
                (vbs, vgs, vds) = (s0[VBS], s0[VGS], s0[VDS]);
            } else if !(conv.cd_converged && conv.cb_converged) {
                ctx.noncon += 1;
            }
            // Limiting against the previous iteration (von of the last evaluation).
            let von = s0[VON];
            if bypass {
                check = false;
            } else {
                if s0[VDS] >= 0.0 {
                    vgs = fetlim(vgs, s0[VGS], von);
                    vds = vgs - vgd;
                    vds = limvds(vds, s0[VDS]);
                } else {
                    vgd = fetlim(vgd, vgdo, von);
                    vds = vgs - vgd;
                    vds = -limvds(-vds, -s0[VDS]);
                    vgs = vgd + vds;
                }
                if vds >= 0.0 {
                    let (v, lim) = pnjlim(vbs, s0[VBS], vt, tp.source_vcrit);
                    vbs = v;
                    check = lim;
                } else {
                    let (v, lim) = pnjlim(vbd, s0[VBD], vt, tp.drain_vcrit);
                    vbd = v;
                    check = lim;
                    vbs = vbd + vds;
                }
            }
        }
        let vbd = vbs - vds;
        let vgd = vgs - vds;
        let vgb = vgs - vbs;
        let tran = ctx.mode == Mode::Tran && !ctx.uic_start;

        let (mode, cdrain, gm, gds, gmbs, von, vdsat, cd, cbs, gbs, cbd, gbd);
        if bypass {
            // The last evaluation at this time point, bulk charge companions included (the
            // step, hence the integration coefficients, is the same).
            let s0 = &ctx.state0[st..st + N_STATES];
            (mode, gm, gds, gmbs, von, vdsat) =
                (s0[MODE], s0[GM], s0[GDS], s0[GMBS], s0[VON], s0[VDSAT]);
            (cd, cbs, gbs, cbd, gbd) = (s0[CD], s0[CBS], s0[GBS], s0[CBD], s0[GBD]);
            cdrain = mode * (cd + cbd);
        } else {
            // Bulk junction diodes.
            let (mut cbs_, mut gbs_) = bulk_diode(vbs, tp.source_sat, vt, ctx.gmin);
            let (mut cbd_, mut gbd_) = bulk_diode(vbd, tp.drain_sat, vt, ctx.gmin);

            // Drain current, with source/drain interchange for vds < 0.
            mode = if vds >= 0.0 { 1.0 } else { -1.0 };
            [cdrain, gm, gds, gmbs, von, vdsat] = if mode > 0.0 {
                drain_current(tp, p, beta, vgs, vds, vbs)
            } else {
                drain_current(tp, p, beta, vgd, -vds, vbd)
            };
            let mut cd_ = mode * cdrain - cbd_;

            // Bulk junction depletion charges (none at all for an access transistor without
            // CJ/CBD/CBS: its charge states stay zero, so nothing is integrated).
            if tp.bulk_charge_free {
                (cd, cbs, gbs, cbd, gbd) = (cd_, cbs_, gbs_, cbd_, gbd_);
            } else {
                let (qbs0, cbs0) = tp.bs[0].eval(vbs);
                let (qbs1, cbs1) = tp.bs[1].eval(vbs);
                let (qbd0, cbd0) = tp.bd[0].eval(vbd);
                let (qbd1, cbd1) = tp.bd[1].eval(vbd);
                let (capbs, capbd) = (cbs0 + cbs1, cbd0 + cbd1);
                ctx.state0[st + QBS] = qbs0 + qbs1;
                ctx.state0[st + QBD] = qbd0 + qbd1;
                if tran {
                    let (i, ag0) = ctx.integrate(st + QBD);
                    gbd_ += ag0 * capbd;
                    cbd_ += i;
                    cd_ -= i;
                    let (i, ag0) = ctx.integrate(st + QBS);
                    gbs_ += ag0 * capbs;
                    cbs_ += i;
                } else if ctx.mode == Mode::Tran {
                    ctx.state0[st + QBD + 1] = 0.0;
                    ctx.state0[st + QBS + 1] = 0.0;
                }
                (cd, cbs, gbs, cbd, gbd) = (cd_, cbs_, gbs_, cbd_, gbd_);
            }
        }
        if check {
            ctx.noncon += 1;
        }

        let gate_caps = self.has_gate_caps();
        // Meyer gate capacitances: half values now, averaged with the previous point's.
        let (cgs_h, cgd_h, cgb_h) = if !gate_caps {
            (0.0, 0.0, 0.0)
        } else if mode > 0.0 {
            qmeyer(vgs, vgd, von, vdsat, tp.tphi, oxide_cap)
        } else {
            let (gd, gs, gb) = qmeyer(vgd, vgs, von, vdsat, tp.tphi, oxide_cap);
            (gs, gd, gb)
        };
        let hist1: &[f64] = ctx.hist[0];
        let h1 = &hist1[st..st + N_STATES];
        let (capgs, capgd, capgb, qgs, qgd, qgb);
        if !gate_caps {
            // No gate capacitance at all: every gate charge is identically zero.
            (capgs, capgd, capgb, qgs, qgd, qgb) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
        } else if tran {
            capgs = cgs_h + h1[CAPGS] + ovl_gs;
            capgd = cgd_h + h1[CAPGD] + ovl_gd;
            capgb = cgb_h + h1[CAPGB] + ovl_gb;
            let vgs1 = h1[VGS];
            let vgd1 = vgs1 - h1[VDS];
            let vgb1 = vgs1 - h1[VBS];
            qgs = (vgs - vgs1) * capgs + h1[QGS];
            qgd = (vgd - vgd1) * capgd + h1[QGD];
            qgb = (vgb - vgb1) * capgb + h1[QGB];
        } else {
            capgs = 2.0 * cgs_h + ovl_gs;
            capgd = 2.0 * cgd_h + ovl_gd;
            capgb = 2.0 * cgb_h + ovl_gb;
            qgs = vgs * capgs;
            qgd = vgd * capgd;
            qgb = vgb * capgb;
        }
        {
            let s0 = &mut ctx.state0[st..st + N_STATES];
            s0[VBS] = vbs;
            s0[VBD] = vbd;
            s0[VGS] = vgs;
            s0[VDS] = vds;
            s0[CAPGS] = cgs_h;
            s0[CAPGD] = cgd_h;
            s0[CAPGB] = cgb_h;
            s0[QGS] = qgs;
            s0[QGD] = qgd;
            s0[QGB] = qgb;
        }
        let (mut gcgs, mut ceqgs, mut gcgd, mut ceqgd, mut gcgb, mut ceqgb) =
            (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
        if tran && gate_caps {
            let (i, ag0) = ctx.integrate(st + QGS);
            gcgs = ag0 * capgs;
            ceqgs = i - gcgs * vgs;
            let (i, ag0) = ctx.integrate(st + QGD);
            gcgd = ag0 * capgd;
            ceqgd = i - gcgd * vgd;
            let (i, ag0) = ctx.integrate(st + QGB);
            gcgb = ag0 * capgb;
            ceqgb = i - gcgb * vgb;
        } else if ctx.mode == Mode::Tran && gate_caps {
            ctx.state0[st + QGS + 1] = 0.0;
            ctx.state0[st + QGD + 1] = 0.0;
            ctx.state0[st + QGB + 1] = 0.0;
        }
        {
            let s0 = &mut ctx.state0[st..st + N_STATES];
            s0[VON] = von;
            s0[VDSAT] = vdsat;
            s0[MODE] = mode;
            s0[CD] = cd;
            s0[CBS] = cbs;
            s0[CBD] = cbd;
            s0[GM] = gm;
            s0[GDS] = gds;
            s0[GMBS] = gmbs;
            s0[GBD] = gbd;
            s0[GBS] = gbs;
            self.latency_box(tp, s0);
        }

        // Right-hand side.
        let ceqbs = typ * (cbs - gbs * vbs);
        let ceqbd = typ * (cbd - gbd * vbd);
        let (xnrm, xrev, cdreq) = if mode > 0.0 {
            (1.0, 0.0, typ * (cdrain - gds * vds - gm * vgs - gmbs * vbs))
        } else {
            (
                0.0,
                1.0,
                -typ * (cdrain - gds * (-vds) - gm * vgd - gmbs * vbd),
            )
        };
        let [rg, rb, rdp, rsp] = self.rhs.map(|r| r as usize);
        ctx.rhs[rg] = -typ * (ceqgs + ceqgb + ceqgd);
        ctx.rhs[rb] = -(ceqbs + ceqbd - typ * ceqgb);
        ctx.rhs[rdp] = ceqbd - cdreq + typ * ceqgd;
        ctx.rhs[rsp] = cdreq + ceqbs + typ * ceqgs;

        // Matrix. Every slot is this instance's own and written with `=` (`owns_stamps`).
        let (gdr, gsr) = (tp.gdrain, tp.gsource);
        let sl = &self.slots.map(|s| s as usize);
        let m = &mut *ctx.mat;
        m[sl[DD]] = gdr;
        m[sl[GG]] = gcgd + gcgs + gcgb;
        m[sl[SS]] = gsr;
        m[sl[BB]] = gbd + gbs + gcgb;
        m[sl[DPDP]] = gdr + gds + gbd + xrev * (gm + gmbs) + gcgd;
        m[sl[SPSP]] = gsr + gds + gbs + xnrm * (gm + gmbs) + gcgs;
        m[sl[DDP]] = -gdr;
        m[sl[GB]] = -gcgb;
        m[sl[GDP]] = -gcgd;
        m[sl[GSP]] = -gcgs;
        m[sl[SSP]] = -gsr;
        m[sl[BG]] = -gcgb;
        m[sl[BDP]] = -gbd;
        m[sl[BSP]] = -gbs;
        m[sl[DPD]] = -gdr;
        m[sl[DPG]] = (xnrm - xrev) * gm - gcgd;
        m[sl[DPB]] = -gbd + (xnrm - xrev) * gmbs;
        m[sl[DPSP]] = -gds - xnrm * (gm + gmbs);
        m[sl[SPG]] = -(xnrm - xrev) * gm - gcgs;
        m[sl[SPS]] = -gsr;
        m[sl[SPB]] = -gbs - (xnrm - xrev) * gmbs;
        m[sl[SPDP]] = -gds - xrev * (gm + gmbs);
    }

    fn truncate(&self, ctx: &TruncCtx) -> f64 {
        // As ngspice's MOS1trunc: the gate charges only. Charges that are identically zero
        // allow any step (ngspice's bound from chgtol alone is ~10³ s, never the minimum).
        if !self.has_gate_caps() {
            return f64::INFINITY;
        }
        [QGS, QGD, QGB]
            .iter()
            .map(|&q| ctx.integ.truncation_step(&ctx.states, self.state + q, ctx))
            .fold(f64::INFINITY, f64::min)
    }

    fn is_nonlinear(&self) -> bool {
        true
    }

    fn owns_stamps(&self) -> bool {
        true
    }

    fn truncates(&self) -> bool {
        self.has_gate_caps()
    }

    fn needs_final_reload(&self) -> bool {
        // Charge-free transistors (no gate capacitance, no junction capacitance given) keep
        // only their operating point in the states.
        let p = &self.par;
        let zero = |c: Option<f64>| c.is_none_or(|c| c == 0.0);
        self.hot.gate_caps || !(zero(p.cbd) && zero(p.cbs) && zero(p.cj) && zero(p.cjsw))
    }

    fn keeps_state_history(&self) -> bool {
        // Only the charges (and their capacitances) are read at earlier points.
        self.needs_final_reload()
    }

    fn quantities(&self, _x: &[f64], s: &[f64]) -> Vec<(&'static str, f64)> {
        let s = &s[self.state..self.state + N_STATES];
        let typ = self.par.typ;
        vec![
            ("id", typ * s[CD]),
            ("vgs", typ * s[VGS]),
            ("vds", typ * s[VDS]),
            ("vbs", typ * s[VBS]),
            ("gm", s[GM]),
            ("gds", s[GDS]),
            ("gmbs", s[GMBS]),
            ("vth", typ * s[VON]),
            ("vdsat", typ * s[VDSAT]),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::junction::bench::Bench;

    fn model(kind: &str, params: &[(&str, f64)]) -> Model {
        Model {
            name: "mm".into(),
            kind: kind.into(),
            params: params.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            string_params: Default::default(),
            span: Default::default(),
        }
    }

    fn geom(w: f64, l: f64) -> Geometry {
        Geometry {
            w,
            l,
            ad: 0.0,
            as_: 0.0,
            pd: 0.0,
            ps: 0.0,
            m: 1.0,
        }
    }

    /// d = 1, g = 2, s = 3, b = 4.
    fn bench(kind: &str, params: &[(&str, f64)], g: Geometry) -> Bench<Mosfet> {
        Bench::new(
            Mosfet::new("m1".into(), 1, 2, 3, 4, &model(kind, params), g, false).unwrap(),
            5,
        )
    }

    /// An n-type transistor on the bench in a transient step of 10 ps.
    fn tran_bench(params: &[(&str, f64)], g: Geometry) -> Bench<Mosfet> {
        let mut b = bench("nmos", params, g);
        b.mode = Mode::Tran;
        b.integ.set_step(1e-11, 1);
        b
    }

    fn x_of(b: &Bench<Mosfet>, vd: f64, vg: f64, vs: f64, vb: f64) -> Vec<f64> {
        let mut x = vec![0.0; b.n_eq];
        x[1..5].copy_from_slice(&[vd, vg, vs, vb]);
        // Internal drain / source nodes (if any) sit at their terminals.
        if let Some(v) = x.get_mut(5) {
            *v = vd;
        }
        if b.n_eq > 6 {
            x[6] = vs;
        }
        x
    }

    #[test]
    fn square_law_currents() {
        let (kp, vto, lambda) = (1e-4, 0.7, 0.02);
        let mut b = bench(
            "nmos",
            &[("kp", kp), ("vto", vto), ("lambda", lambda)],
            geom(10e-6, 2e-6),
        );
        let beta = kp * 5.0;
        // Saturation.
        let x = x_of(&b, 3.0, 2.0, 0.0, 0.0);
        let s = b.settle(&x);
        let want = 0.5 * beta * 1.3f64.powi(2) * (1.0 + lambda * 3.0);
        let id = s.current(&x, 1);
        // The bulk–drain diode adds −IS-ish leakage (reverse biased) plus gmin.
        assert!(
            (id - want).abs() < 1e-9 * want + 1e-11,
            "sat {id} vs {want}"
        );
        let q = b.dev.quantities(&x, &b.state0);
        let get = |k: &str| q.iter().find(|(n, _)| *n == k).unwrap().1;
        assert!((get("gm") - beta * 1.3 * (1.0 + lambda * 3.0)).abs() < 1e-12);
        assert!((get("vth") - vto).abs() < 1e-12);
        // Linear.
        let x = x_of(&b, 0.5, 2.0, 0.0, 0.0);
        let s = b.settle(&x);
        let want = beta * (1.0 + lambda * 0.5) * 0.5 * (1.3 - 0.25);
        assert!((s.current(&x, 1) - want).abs() < 1e-9 * want + 1e-11);
        // Cutoff: only leakage.
        let x = x_of(&b, 1.0, 0.3, 0.0, 0.0);
        let s = b.settle(&x);
        assert!(s.current(&x, 1).abs() < 1e-11);
        // Reverse: drain and source swap roles.
        let x = x_of(&b, -3.0, 2.0 - 3.0, 0.0, -3.0);
        let s = b.settle(&x);
        let id = s.current(&x, 1);
        assert!(
            (id + 0.5 * beta * 1.3f64.powi(2) * (1.0 + lambda * 3.0)).abs() < 1e-6 * id.abs(),
            "{id}"
        );
    }

    #[test]
    fn pmos_mirrors_nmos() {
        let p = [("kp", 5e-5), ("vto", 0.8), ("lambda", 0.05), ("gamma", 0.4)];
        let pn: Vec<_> = p.to_vec();
        let pp: Vec<_> = p
            .iter()
            .map(|&(k, v)| if k == "vto" { (k, -v) } else { (k, v) })
            .collect();
        let mut n = bench("nmos", &pn, geom(4e-6, 1e-6));
        let mut q = bench("pmos", &pp, geom(4e-6, 1e-6));
        for &(vd, vg, vs, vb) in &[
            (2.0, 1.5, 0.0, -0.5),
            (0.3, 2.5, 0.0, 0.0),
            (-1.0, 1.0, 0.0, -1.5),
        ] {
            let xn = x_of(&n, vd, vg, vs, vb);
            let xp = x_of(&q, -vd, -vg, -vs, -vb);
            let sn = n.settle(&xn);
            let sp = q.settle(&xp);
            for k in 1..5 {
                let (a, b) = (sn.current(&xn, k), sp.current(&xp, k));
                assert!(
                    (a + b).abs() < 1e-9 * a.abs() + 1e-18,
                    "node {k}: {a} vs {b}"
                );
            }
        }
    }

    #[test]
    fn conductances_match_finite_differences_in_all_regions() {
        let base = [
            ("kp", 8e-5),
            ("vto", 0.6),
            ("lambda", 0.04),
            ("gamma", 0.45),
            ("phi", 0.7),
            ("is", 1e-15),
        ];
        let with_r: Vec<_> = base
            .iter()
            .copied()
            .chain([("rd", 50.0), ("rs", 20.0)])
            .collect();
        for kind in ["nmos", "pmos"] {
            for params in [&base[..], &with_r[..]] {
                let params: Vec<_> = params
                    .iter()
                    .map(|&(k, v)| {
                        if k == "vto" && kind == "pmos" {
                            (k, -v)
                        } else {
                            (k, v)
                        }
                    })
                    .collect();
                let mut b = bench(kind, &params, geom(10e-6, 1e-6));
                let sg = if kind == "nmos" { 1.0 } else { -1.0 };
                // (vd, vg, vs, vb): cutoff, linear, saturation, reverse vds (both regions),
                // body effect. (With a forward-biased bulk ngspice's gmbs = gm·γ/(2·sarg)
                // is not the exact derivative of its linearised sarg, so that region is
                // left out here.)
                for &(vd, vg, vs, vb) in &[
                    (1.0, 0.2, 0.0, 0.0),
                    (0.2, 2.0, 0.0, 0.0),
                    (2.5, 1.5, 0.0, 0.0),
                    (2.5, 1.5, 0.3, -1.0),
                    (0.1, 1.8, 0.5, -0.7),
                    (-0.2, 2.0, 0.0, -0.5),
                    (-2.0, 0.5, 0.0, -2.5),
                    (-2.0, 0.1, 0.0, -2.5),
                ] {
                    let x = x_of(&b, sg * vd, sg * vg, sg * vs, sg * vb);
                    b.check_jacobian(&x, 2e-5, 1e-14);
                }
            }
        }
    }

    #[test]
    fn transient_companion_matches_finite_differences_for_fixed_caps() {
        // Overlap and junction capacitances only (no TOX → no Meyer): the companion model
        // is an exact Jacobian.
        let p = [
            ("kp", 8e-5),
            ("vto", 0.6),
            ("gamma", 0.3),
            ("cgso", 2e-10),
            ("cgdo", 3e-10),
            ("cgbo", 1e-10),
            ("cj", 2e-4),
            ("cjsw", 1e-9),
            ("mj", 0.4),
            ("mjsw", 0.3),
            ("rd", 10.0),
        ];
        let g = Geometry {
            w: 10e-6,
            l: 1e-6,
            ad: 20e-12,
            as_: 20e-12,
            pd: 14e-6,
            ps: 14e-6,
            m: 2.0,
        };
        let mut b = bench("nmos", &p, g);
        b.mode = Mode::Tran;
        b.integ.set_step(1e-10, 1);
        for &(vd, vg, vs, vb) in &[
            (1.0, 2.0, 0.0, 0.0),
            (2.0, 1.2, 0.0, -1.0),
            (-1.0, 1.0, 0.0, -1.5),
            (1.0, 0.0, 0.0, 0.45),
        ] {
            let x = x_of(&b, vd, vg, vs, vb);
            b.check_jacobian(&x, 2e-5, 1e-14);
        }
    }

    #[test]
    fn junction_init_values() {
        let mut b = bench(
            "pmos",
            &[("vto", -0.8), ("gamma", 0.5), ("phi", 0.65)],
            geom(1e-5, 1e-5),
        );
        let s = b.load(&[0.0; 5], InitPhase::Junction);
        assert!(s.noncon > 0);
        let st = &b.state0;
        assert_eq!(st[VBS], -1.0);
        assert_eq!(st[VDS], 0.0);
        // Internal (n-type) vgs = type·tVto = +0.8 at nominal temperature.
        assert!((st[VGS] - 0.8).abs() < 1e-12);
        let mut off = Bench::new(
            Mosfet::new(
                "m1".into(),
                1,
                2,
                3,
                4,
                &model("nmos", &[]),
                geom(1e-5, 1e-5),
                true,
            )
            .unwrap(),
            5,
        );
        off.load(&[0.0, 1.0, 2.0, 0.0, 0.0], InitPhase::Junction);
        assert_eq!(&off.state0[..4], &[0.0; 4]);
    }

    /// Certified latency: a cut-off access transistor whose source moved by 0.1 mV keeps its
    /// last stamps, and they give its terminal currents at the new voltages to within 1e-15 A
    /// of a full evaluation; a 50 mV move of the source junction (tangent error ≈ 2e-14 A) or
    /// a gate above threshold is evaluated again.
    #[test]
    fn cut_off_transistor_is_latent_only_within_the_current_bound() {
        let nmos = || tran_bench(&[("vto", 0.5)], geom(1e-6, 1e-6));
        // Nodes: d = 1, g = 2, s = 3, b = 4 (grounded bulk as in a crossbar).
        let x0 = [0.0, 0.2, 0.0, 0.001, 0.0];
        let mut b = nmos();
        assert!(
            !b.load(&x0, InitPhase::Normal).latent,
            "latency not offered"
        );
        b.latency = true;
        let moved = |dv: f64| [0.0, 0.2, 0.0, 0.001 + dv, 0.0];
        let near = moved(1e-4);
        let kept = b.load(&near, InitPhase::Normal);
        assert!(kept.latent);
        let mut fresh = nmos();
        let full = fresh.load(&near, InitPhase::Normal);
        for k in 1..4 {
            let err = (kept.current(&near, k) - full.current(&near, k)).abs();
            assert!(err <= 1.01 * LATENCY_CURRENT_A, "node {k}: {err:e} A");
        }
        assert!(!b.load(&moved(0.05), InitPhase::Normal).latent);
        assert!(
            !b.load(&[0.0, 0.2, 1.0, 0.001, 0.0], InitPhase::Normal)
                .latent
        );
    }

    /// The latency box is inside the certified region: at every point of the box stored
    /// with a cut-off evaluation (corners, edges and random interior points; gates far
    /// below threshold included), the exact test [`Mosfet::latent`] holds. Evaluations
    /// cover forward- and reverse-mode cut-off, source junctions slightly forward-biased,
    /// at 0 V and deep in reverse, larger saturation currents, and γ = 0. The box must also
    /// be useful: for the crossbar's access transistor it spans millivolts on the source
    /// junction and the whole way to −3·vt on the drain junction.
    #[test]
    fn latency_box_lies_inside_the_certified_region() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(7);
        let mut boxes = 0;
        let mut tested = 0;
        for params in [
            vec![("vto", 0.4), ("gamma", 0.4), ("phi", 0.7)],
            vec![("vto", 0.5)],
            vec![("vto", 0.3), ("gamma", 0.8), ("is", 1e-12)],
        ] {
            for (vd, vg, vs) in [
                (0.2, 0.0, 0.0),
                (0.2, 0.0, 1e-4),
                (0.14, 0.0, -0.002),
                (0.0, 0.0, 0.05),
                (-0.05, 0.1, 0.0),
                (0.3, 0.35, 0.001),
                (0.001, 0.2, 0.0),
            ] {
                let mut b = tran_bench(&params, geom(0.5e-6, 0.1e-6));
                let x0 = x_of(&b, vd, vg, vs, 0.0);
                b.load(&x0, InitPhase::Normal);
                b.latency = true;
                let st = b.dev.state;
                let bx: [f64; 6] = b.state0[st + LO_BS..=st + HI_GD].try_into().unwrap();
                let [lo_bs, hi_bs, lo_bd, hi_bd, hi_gs, hi_gd] = bx;
                if lo_bs > hi_bs {
                    continue;
                }
                boxes += 1;
                for i in 0..400 {
                    // Corners first, then uniform points; the gate anywhere up to its bound.
                    let pick = |lo: f64, hi: f64, rng: &mut rand_xoshiro::Xoshiro256PlusPlus| {
                        match i % 4 {
                            0 => lo,
                            1 => hi,
                            _ => rng.random_range(lo..=hi),
                        }
                    };
                    let vbs = pick(lo_bs, hi_bs, &mut rng);
                    let vbd = pick(lo_bd, hi_bd, &mut rng);
                    let vds = vbs - vbd;
                    let g_hi = if vds >= 0.0 { hi_gs } else { hi_gd + vds };
                    let vgs = g_hi
                        - if i % 3 == 0 {
                            0.0
                        } else {
                            rng.random_range(0.0..1.0)
                        };
                    // Internal voltages of an n-type device with the bulk at ground.
                    let s = -vbs;
                    let x = x_of(&b, s + vds, s + vgs, s, 0.0);
                    let (inside, latent) = b.with_ctx(&x, InitPhase::Normal, |m, ctx| {
                        let tp = m.temp(ctx.temp_k);
                        (m.inside_latency_box(ctx), m.latent(ctx, &tp))
                    });
                    if inside {
                        tested += 1;
                        assert!(
                            latent,
                            "{params:?} at ({vd}, {vg}, {vs}): box {bx:?} admits \
                             vbs {vbs:e} vbd {vbd:e} vgs {vgs:e}"
                        );
                    }
                }
            }
        }
        assert!(
            boxes >= 15 && tested > 5000,
            "{boxes} boxes, {tested} points"
        );
        // The access transistor of the 1T1R bench: source junction at 0 V, drain at −0.2 V.
        let mut b = tran_bench(&[("vto", 0.4), ("gamma", 0.4)], geom(0.5e-6, 0.1e-6));
        b.load(&x_of(&b, 0.2, 0.0, 0.0, 0.0), InitPhase::Normal);
        let st = b.dev.state;
        let vt = b.dev.temp(b.temp_k).vt;
        assert!(b.state0[st + HI_BS] - b.state0[st + LO_BS] > 2e-3);
        assert_eq!(b.state0[st + HI_BD], -3.0 * vt);
    }

    #[test]
    fn off_device_is_held_until_its_terminals_settle() {
        let mut b = Bench::new(
            Mosfet::new(
                "m1".into(),
                1,
                2,
                3,
                4,
                &model("nmos", &[("vto", 0.5)]),
                geom(1e-5, 1e-5),
                true,
            )
            .unwrap(),
            5,
        );
        let x1 = [0.0, 1.0, 2.0, 0.0, 0.0];
        b.load(&x1, InitPhase::Junction);
        assert_eq!(&b.state0[..4], &[0.0; 4]);
        // Terminals still moving: held at zero, not converged.
        let x2 = [0.0, 1.5, 2.5, 0.0, 0.0];
        let s = b.load(&x2, InitPhase::Normal);
        assert!(s.noncon > 0);
        assert_eq!(b.state0[VGS], 0.0);
        // Settled: this iteration is still held, the next one floats.
        let s = b.load(&x2, InitPhase::Normal);
        assert!(s.noncon > 0);
        assert_eq!(b.state0[VGS], 0.0);
        b.load(&x2, InitPhase::Normal);
        assert!(b.state0[VGS] > 0.0);
        // In a transient the flag plays no role.
        b.mode = Mode::Tran;
        b.integ.set_step(1e-9, 1);
        b.load(&x1, InitPhase::Normal);
        assert!(b.state0[VGS] > 0.0);
    }

    #[test]
    fn process_parameters_match_ngspice() {
        // Values printed by ngspice-39 `showmod` for the same cards.
        let n = Params::from_model(
            "m",
            &model("nmos", &[("tox", 20e-9), ("nsub", 1e16), ("uo", 500.0)]),
        )
        .unwrap();
        let p = Params::from_model(
            "m",
            &model(
                "pmos",
                &[
                    ("tox", 20e-9),
                    ("nsub", 1e16),
                    ("uo", 200.0),
                    ("nss", 1e10),
                    ("tpg", -1.0),
                ],
            ),
        )
        .unwrap();
        let close = |a: f64, b: f64| (a - b).abs() <= 5e-6 * b.abs();
        assert!(close(n.vto, 0.0684662), "{}", n.vto);
        assert!(close(n.kp, 8.63286e-05), "{}", n.kp);
        assert!(close(n.gamma, 0.333698), "{}", n.gamma);
        assert!(close(n.phi, 0.695453), "{}", n.phi);
        assert!(close(p.vto, -1.19283), "{}", p.vto);
        assert!(close(p.kp, 3.45314e-05), "{}", p.kp);
        // Defaults without TOX.
        let d = Params::from_model("m", &model("nmos", &[])).unwrap();
        assert_eq!((d.kp, d.vto, d.phi, d.cox), (2e-5, 0.0, 0.6, 0.0));
    }

    #[test]
    fn temperature_reduces_to_nominal() {
        let m = Mosfet::new(
            "m1".into(),
            1,
            2,
            3,
            4,
            &model(
                "nmos",
                &[
                    ("vto", 0.7),
                    ("kp", 1e-4),
                    ("gamma", 0.4),
                    ("phi", 0.7),
                    ("cj", 1e-4),
                    ("pb", 0.9),
                ],
            ),
            Geometry {
                w: 1e-5,
                l: 1e-6,
                ad: 1e-11,
                as_: 1e-11,
                pd: 0.0,
                ps: 0.0,
                m: 1.0,
            },
            false,
        )
        .unwrap();
        let t = m.compute_temp(REFTEMP);
        assert!((t.tvto - 0.7).abs() < 1e-12);
        assert!((t.tkp - 1e-4).abs() < 1e-18);
        assert!((t.tphi - 0.7).abs() < 1e-12);
        assert!((t.bd[0].cz - 1e-15).abs() < 1e-27 && (t.bd[0].pb - 0.9).abs() < 1e-12);
        // Hotter: lower threshold and mobility.
        let h = m.compute_temp(REFTEMP + 75.0);
        assert!(h.tvto < 0.7 && h.tkp < 1e-4);
    }

    #[test]
    fn meyer_capacitances() {
        let cox = 3e-15;
        let phi = 0.7;
        // Accumulation: all to bulk (half values).
        assert_eq!(
            qmeyer(-2.0, -2.0, 0.5, 0.0, phi, cox),
            (0.0, 0.0, cox / 2.0)
        );
        // Saturation: 2/3 Cox to source.
        let (gs, gd, gb) = qmeyer(2.0, 0.0, 0.5, 1.5, phi, cox);
        assert!((gs - cox / 3.0).abs() < 1e-30 && gd == 0.0 && gb == 0.0);
        // Linear with vds → 0: Cox/2 each, split evenly.
        let (gs, gd, _) = qmeyer(2.0, 2.0 - 1e-9, 0.5, 1.5, phi, cox);
        assert!((gs - cox / 4.0).abs() < 1e-6 * cox && (gd - cox / 4.0).abs() < 1e-6 * cox);
        // Continuity across vgst = 0 and vgst = −phi/2.
        for (a, b) in [
            (0.5 - 1e-12, 0.5 + 1e-12),
            (0.5 - phi / 2.0 - 1e-12, 0.5 - phi / 2.0 + 1e-12),
        ] {
            let ca = qmeyer(a, a - 1.0, 0.5, (a - 0.5f64).max(0.0), phi, cox);
            let cb = qmeyer(b, b - 1.0, 0.5, (b - 0.5f64).max(0.0), phi, cox);
            assert!(
                (ca.0 - cb.0).abs() < 1e-9 * cox && (ca.2 - cb.2).abs() < 1e-9 * cox,
                "{ca:?} {cb:?}"
            );
        }
    }

    #[test]
    fn series_resistances_add_internal_nodes() {
        assert_eq!(bench("nmos", &[], geom(1e-5, 1e-5)).n_eq, 5);
        assert_eq!(bench("nmos", &[("rd", 10.0)], geom(1e-5, 1e-5)).n_eq, 6);
        assert_eq!(
            bench("nmos", &[("rd", 10.0), ("rs", 5.0)], geom(1e-5, 1e-5)).n_eq,
            7
        );
        assert_eq!(bench("nmos", &[("rsh", 5.0)], geom(1e-5, 1e-5)).n_eq, 7);
    }

    #[test]
    fn rejects_bad_models() {
        let g = geom(1e-5, 1e-6);
        assert!(Mosfet::new("m".into(), 1, 2, 3, 4, &model("d", &[]), g, false).is_err());
        assert!(
            Mosfet::new(
                "m".into(),
                1,
                2,
                3,
                4,
                &model("nmos", &[("level", 2.0)]),
                g,
                false
            )
            .is_err()
        );
        assert!(
            Mosfet::new(
                "m".into(),
                1,
                2,
                3,
                4,
                &model("nmos", &[("ld", 1e-6)]),
                g,
                false
            )
            .is_err()
        );
        assert!(
            Mosfet::new(
                "m".into(),
                1,
                2,
                3,
                4,
                &model("nmos", &[("tox", 1e-8), ("nsub", 1e9)]),
                g,
                false
            )
            .is_err()
        );
        // Zero W/L fall back to the 100 µm defaults.
        let m = Mosfet::new(
            "m".into(),
            1,
            2,
            3,
            4,
            &model("nmos", &[]),
            geom(0.0, 0.0),
            false,
        )
        .unwrap();
        assert_eq!((m.geom.w, m.geom.l), (DEFAULT_LW, DEFAULT_LW));
    }

    /// Whole-circuit operating points through the engine, against ngspice-39 output for
    /// the same netlist (RD/RS internal nodes, body effect, PMOS with forward-biased bulk).
    #[test]
    fn operating_point_matches_ngspice() {
        use crate::circuit::{Analysis, Circuit, Element, ElementKind, Waveform};
        let dc = |v: f64| Waveform { dc: v, tran: None };
        let mut c = Circuit {
            title: "t".into(),
            ..Default::default()
        };
        c.nodes = ["0", "d", "g", "b", "dp", "gp", "bp"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        c.models.insert(
            "nm".into(),
            Model {
                name: "nm".into(),
                ..model(
                    "nmos",
                    &[
                        ("vto", 0.7),
                        ("kp", 110e-6),
                        ("gamma", 0.4),
                        ("phi", 0.65),
                        ("lambda", 0.04),
                        ("rd", 20.0),
                        ("rs", 15.0),
                    ],
                )
            },
        );
        c.models.insert(
            "pm".into(),
            Model {
                name: "pm".into(),
                ..model(
                    "pmos",
                    &[
                        ("vto", -0.8),
                        ("kp", 40e-6),
                        ("gamma", 0.5),
                        ("phi", 0.7),
                        ("lambda", 0.05),
                        ("rs", 30.0),
                    ],
                )
            },
        );
        let mos = |d, g, b, model: &str, w, l| ElementKind::Mosfet {
            d,
            g,
            s: 0,
            b,
            model: model.into(),
            w,
            l,
            ad: 0.0,
            as_: 0.0,
            pd: 0.0,
            ps: 0.0,
            m: 1.0,
            off: false,
        };
        let el = |name: &str, kind| Element {
            name: name.into(),
            kind,
            span: Default::default(),
        };
        c.elements = vec![
            el(
                "vdd",
                ElementKind::VSource {
                    p: 1,
                    n: 0,
                    wave: dc(2.0),
                },
            ),
            el(
                "vg",
                ElementKind::VSource {
                    p: 2,
                    n: 0,
                    wave: dc(1.5),
                },
            ),
            el(
                "vb",
                ElementKind::VSource {
                    p: 3,
                    n: 0,
                    wave: dc(-0.7),
                },
            ),
            el("m1", mos(1, 2, 3, "nm", 10e-6, 2e-6)),
            el("mp1", mos(4, 5, 6, "pm", 6e-6, 1e-6)),
            el(
                "vdp",
                ElementKind::VSource {
                    p: 4,
                    n: 0,
                    wave: dc(-1.2),
                },
            ),
            el(
                "vgp",
                ElementKind::VSource {
                    p: 5,
                    n: 0,
                    wave: dc(-2.0),
                },
            ),
            el(
                "vbp",
                ElementKind::VSource {
                    p: 6,
                    n: 0,
                    wave: dc(0.5),
                },
            ),
        ];
        c.analyses = vec![Analysis::Op];
        let out = crate::analysis::simulate(&c).expect("operating point");
        let get = |n: &str| out.plots[0].get(n).unwrap_or_else(|| panic!("{n}")).data[0];
        for (name, want) in [("i(vdd)", -1.275897041e-04), ("i(vdp)", 1.4432267333e-04)] {
            let got = get(name);
            assert!(
                (got - want).abs() < 1e-6 * want.abs(),
                "{name}: {got} vs ngspice {want}"
            );
        }
    }
}
