//! The elaborated, flat circuit: what the netlist front end hands to the analyses.
//!
//! Owns: node numbering, element list with resolved values, models, analyses, options and
//! output requests. Must not know about text (only [`Span`]s pointing back into it) or about
//! how elements are stamped (that is `devices/`).

use std::collections::HashMap;

use crate::diag::Span;

pub mod sweep;
pub use sweep::{Measure, StepSpec};

/// Index of a circuit node. `0` is always ground (`0` or `gnd` in the netlist).
pub type NodeId = usize;

/// Ground node index.
pub const GROUND: NodeId = 0;

/// A flat circuit, ready to simulate.
#[derive(Debug, Clone, Default)]
pub struct Circuit {
    /// First line of the top-level netlist.
    pub title: String,
    /// Node names, lowercase, hierarchical (`x1.mid`); index 0 is `"0"` (ground).
    pub nodes: Vec<String>,
    pub elements: Vec<Element>,
    /// Models by lowercase (hierarchical, for models defined inside a subcircuit) name.
    pub models: HashMap<String, Model>,
    pub analyses: Vec<Analysis>,
    pub options: Options,
    /// `.ic v(node)=value`: initial conditions used by `.tran ... uic` and as the
    /// operating-point constraint otherwise (as ngspice does).
    pub ic: Vec<(NodeId, f64)>,
    /// `.nodeset v(node)=value`: initial Newton guesses for the operating point.
    pub nodeset: Vec<(NodeId, f64)>,
    /// `.save` / `.print` requests in order; empty means "save everything".
    pub saves: Vec<OutputRequest>,
    /// `.step param` lines in netlist order (the first is the outermost loop).
    pub steps: Vec<StepSpec>,
    /// `.meas` lines in netlist order.
    pub measures: Vec<Measure>,
}

impl Circuit {
    /// Index of a node by (case-insensitive) name.
    pub fn node(&self, name: &str) -> Option<NodeId> {
        let lower = name.to_ascii_lowercase();
        if lower == "0" || lower == "gnd" {
            return Some(GROUND);
        }
        self.nodes.iter().position(|n| *n == lower)
    }

    /// Index of an element by (case-insensitive, hierarchical) name.
    pub fn element(&self, name: &str) -> Option<usize> {
        let lower = name.to_ascii_lowercase();
        self.elements.iter().position(|e| e.name == lower)
    }
}

/// One element instance after subcircuit flattening and parameter evaluation.
#[derive(Debug, Clone)]
pub struct Element {
    /// Lowercase, hierarchical name as ngspice prints it: `r1`, `x1.r1` is written `r.x1.r1`
    /// by ngspice, but we keep the simple dotted path and let output map names.
    pub name: String,
    pub kind: ElementKind,
    /// Where the element's line is in the source (for diagnostics).
    pub span: Span,
}

/// All element kinds with their resolved numeric parameters (SI units).
#[derive(Debug, Clone)]
pub enum ElementKind {
    /// R: resistance in ohms.
    Resistor { a: NodeId, b: NodeId, r: f64 },
    /// C: capacitance in farads, optional initial voltage (used with UIC).
    Capacitor {
        a: NodeId,
        b: NodeId,
        c: f64,
        ic: Option<f64>,
    },
    /// L: inductance in henries, optional initial current (used with UIC).
    Inductor {
        a: NodeId,
        b: NodeId,
        l: f64,
        ic: Option<f64>,
    },
    /// V: independent voltage source, `p` positive terminal. Branch current flows p → n
    /// inside the source (SPICE convention: positive current enters `p`).
    VSource {
        p: NodeId,
        n: NodeId,
        wave: Waveform,
    },
    /// I: independent current source; current flows from `p` through the source to `n`.
    ISource {
        p: NodeId,
        n: NodeId,
        wave: Waveform,
    },
    /// E: voltage-controlled voltage source, v(p,n) = gain · v(cp,cn).
    Vcvs {
        p: NodeId,
        n: NodeId,
        cp: NodeId,
        cn: NodeId,
        gain: f64,
    },
    /// G: voltage-controlled current source, i(p→n) = gm · v(cp,cn).
    Vccs {
        p: NodeId,
        n: NodeId,
        cp: NodeId,
        cn: NodeId,
        gm: f64,
    },
    /// F: current-controlled current source, i(p→n) = gain · i(vctrl). `vctrl` is the
    /// (hierarchical, lowercase) name of a voltage source.
    Cccs {
        p: NodeId,
        n: NodeId,
        vctrl: String,
        gain: f64,
    },
    /// H: current-controlled voltage source, v(p,n) = r · i(vctrl).
    Ccvs {
        p: NodeId,
        n: NodeId,
        vctrl: String,
        r: f64,
    },
    /// D: junction diode, anode `a`, cathode `c`; `model` is a key of [`Circuit::models`].
    Diode {
        a: NodeId,
        c: NodeId,
        model: String,
        area: f64,
        off: bool,
    },
    /// M: MOSFET (level 1). `model` is a key of [`Circuit::models`]; geometry in metres.
    Mosfet {
        d: NodeId,
        g: NodeId,
        s: NodeId,
        b: NodeId,
        model: String,
        w: f64,
        l: f64,
        /// Drain / source diffusion areas (m²) and perimeters (m).
        ad: f64,
        as_: f64,
        pd: f64,
        ps: f64,
        m: f64,
        off: bool,
    },
    /// N: magnetic tunnel junction (MTJ_CARD.md). `free` is the free-layer terminal.
    Mtj {
        free: NodeId,
        reference: NodeId,
        /// Optional thermal node (`N name free ref tnode model`): its voltage is the
        /// device's temperature rise T − tamb in kelvin, so resistors between thermal nodes
        /// (Ω read as K/W) couple devices thermally (docs/crossbar.md).
        thermal: Option<NodeId>,
        model: String,
        /// Instance parameters (`state` is stored as `state` = +1 for p, -1 for ap;
        /// `theta0`, `phi0`, `temp0`, `seed`), lowercase keys.
        params: HashMap<String, f64>,
    },
}

impl ElementKind {
    /// The nodes this element connects, in terminal order.
    pub fn nodes(&self) -> Vec<NodeId> {
        use ElementKind::*;
        match self {
            Resistor { a, b, .. } | Capacitor { a, b, .. } | Inductor { a, b, .. } => vec![*a, *b],
            VSource { p, n, .. } | ISource { p, n, .. } => vec![*p, *n],
            Vcvs { p, n, cp, cn, .. } | Vccs { p, n, cp, cn, .. } => vec![*p, *n, *cp, *cn],
            Cccs { p, n, .. } | Ccvs { p, n, .. } => vec![*p, *n],
            Diode { a, c, .. } => vec![*a, *c],
            Mosfet { d, g, s, b, .. } => vec![*d, *g, *s, *b],
            Mtj {
                free,
                reference,
                thermal,
                ..
            } => {
                let mut v = vec![*free, *reference];
                v.extend(thermal);
                v
            }
        }
    }
}

/// A `.model` card with its parameters evaluated (lowercase keys, SI values).
#[derive(Debug, Clone)]
pub struct Model {
    pub name: String,
    /// Lowercase model type: `d`, `nmos`, `pmos`, `mtj`, `r`, `c`, ...
    pub kind: String,
    pub params: HashMap<String, f64>,
    /// String-valued parameters (e.g. MTJ `easy=z`), lowercase keys and values.
    pub string_params: HashMap<String, String>,
    pub span: Span,
}

impl Model {
    /// Parameter value or `default`.
    pub fn get(&self, key: &str, default: f64) -> f64 {
        self.params.get(key).copied().unwrap_or(default)
    }
}

/// An independent source's value: DC value (for `.op`/`.dc`) and an optional transient shape.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Waveform {
    pub dc: f64,
    pub tran: Option<TranShape>,
}

/// Transient source shapes with ngspice semantics (defaults resolved at evaluation time
/// against the `.tran` step/stop, as ngspice does: a zero `tr` means `tstep`, etc.).
#[derive(Debug, Clone, PartialEq)]
pub enum TranShape {
    /// PULSE(V1 V2 TD TR TF PW PER NP): zero/absent fields stored as `None`. NP is the
    /// number of pulses (ngspice-39 as packaged by Debian: after NP periods the source
    /// stays at V1; absent or 0 = repeat forever).
    Pulse {
        v1: f64,
        v2: f64,
        td: f64,
        tr: Option<f64>,
        tf: Option<f64>,
        pw: Option<f64>,
        per: Option<f64>,
        np: Option<f64>,
    },
    /// PWL(t1 v1 t2 v2 ...) with optional `r=` repeat start time and `td=` delay.
    Pwl {
        points: Vec<(f64, f64)>,
        repeat: Option<f64>,
        td: f64,
    },
    /// SIN(VO VA FREQ TD THETA PHASE); PHASE in degrees.
    Sin {
        vo: f64,
        va: f64,
        freq: Option<f64>,
        td: f64,
        theta: f64,
        phase: f64,
    },
    /// EXP(V1 V2 TD1 TAU1 TD2 TAU2).
    Exp {
        v1: f64,
        v2: f64,
        td1: Option<f64>,
        tau1: Option<f64>,
        td2: Option<f64>,
        tau2: Option<f64>,
    },
}

/// One analysis request.
#[derive(Debug, Clone, PartialEq)]
pub enum Analysis {
    Op,
    /// `.dc SRC START STOP STEP [SRC2 START2 STOP2 STEP2]`: first sweep is the inner loop.
    Dc {
        sweeps: Vec<DcSweep>,
    },
    /// `.tran TSTEP TSTOP [TSTART [TMAX]] [UIC]`.
    Tran {
        tstep: f64,
        tstop: f64,
        tstart: f64,
        tmax: Option<f64>,
        uic: bool,
    },
}

/// One swept source of a `.dc` analysis. `source` is a lowercase V or I source name.
#[derive(Debug, Clone, PartialEq)]
pub struct DcSweep {
    pub source: String,
    pub start: f64,
    pub stop: f64,
    pub step: f64,
}

/// Integration method for transient analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    #[default]
    Trapezoidal,
    /// Gear / BDF of order up to `maxord` (we implement orders 1 and 2).
    Gear,
}

/// `.options` with ngspice defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub reltol: f64,
    pub abstol: f64,
    pub vntol: f64,
    pub chgtol: f64,
    pub trtol: f64,
    pub method: Method,
    pub maxord: usize,
    pub gmin: f64,
    /// DC Newton iteration limit.
    pub itl1: usize,
    /// Transient Newton iteration limit per time point.
    pub itl4: usize,
    /// Circuit temperature in kelvin (`.temp` / `.options temp=` are given in °C).
    pub temp_k: f64,
    /// Global seed for stochastic devices (`.options seed=`).
    pub seed: Option<u64>,
    /// Any other option, lowercase key → value, kept so later layers can read them.
    pub extra: HashMap<String, f64>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            reltol: 1e-3,
            abstol: 1e-12,
            vntol: 1e-6,
            chgtol: 1e-14,
            trtol: 7.0,
            method: Method::Trapezoidal,
            maxord: 2,
            gmin: 1e-12,
            itl1: 100,
            itl4: 10,
            temp_k: 300.15,
            seed: None,
            extra: HashMap::new(),
        }
    }
}

/// A quantity the user asked to save / print.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OutputRequest {
    /// `v(a)` or `v(a,b)`: node names lowercase.
    Voltage(String, Option<String>),
    /// `i(vx)`: lowercase source (or inductor) name.
    Current(String),
    /// Device quantity such as `mz(n1)`, `temp(n1)`: (function, element), lowercase.
    Device(String, String),
}
