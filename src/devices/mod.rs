//! Element models: how each element kind allocates unknowns and stamps into MNA.
//!
//! Owns the [`Device`] trait and the contexts devices see. A device never touches the CSC
//! layout or the solver: during [`Device::setup`] it asks [`Setup`] for equation indices
//! (branch currents, internal nodes), state slots (charges and their currents for
//! integration) and stamp slots; during [`Device::load`] it writes the linearised companion
//! model at the present Newton iterate into its own slots of [`LoadCtx`].
//!
//! Sign convention (SPICE): we solve `J·x = b` for the full unknown vector each Newton
//! iteration, where a nonlinear branch current `i(v)` is linearised as
//! `i ≈ g·v + (i0 − g·v0)`: `g` goes into the matrix, `−(i0 − g·v0)` into the
//! right-hand side of the node the current leaves.

use std::collections::HashMap;

use crate::circuit::{Circuit, ElementKind};
use crate::linalg::PatternBuilder;

pub mod controlled;
pub mod diode;
pub mod integrate;
pub mod junction;
pub mod limiting;
pub mod mosfet;
pub mod mtj;
pub mod mtj_element;
pub mod passive;
pub mod sources;
pub mod waveform;

pub use integrate::Integrator;

/// What the analysis is doing when it asks devices to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// DC operating point or DC sweep: capacitors open, inductors shorted.
    Dc,
    /// Transient time point.
    Tran,
}

/// Newton initialisation phase (ngspice's MODEINIT* flags, reduced to what we need).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitPhase {
    /// First DC iteration: junctions start at their critical / `off` voltages, not `x`.
    Junction,
    /// Ordinary iteration: use `x`, with voltage limiting against the previous iteration.
    Normal,
}

/// Where independent sources are evaluated: DC value or waveform at `time`.
#[derive(Debug, Clone, Copy)]
pub struct SourceEval {
    pub mode: Mode,
    pub time: f64,
    pub tstep: f64,
    pub tstop: f64,
    pub srcfact: f64,
}

impl SourceEval {
    pub fn value(&self, w: &crate::circuit::Waveform) -> f64 {
        let v = match self.mode {
            Mode::Dc => w.dc,
            Mode::Tran => waveform::value(w, self.time, self.tstep, self.tstop),
        };
        v * self.srcfact
    }
}

/// Equation/state/slot allocation during setup.
pub struct Setup<'a> {
    /// Number of equations so far (ground + nodes + branches + internal nodes).
    pub n_eq: usize,
    pub n_states: usize,
    pub pattern: &'a mut PatternBuilder,
    /// Names of allocated equations (for output and diagnostics), index = equation.
    pub eq_names: &'a mut Vec<String>,
    /// Branch-current equation of every voltage-defined element by lowercase name,
    /// filled in the first setup pass; current-controlled sources read it in the second.
    pub branches: &'a HashMap<String, usize>,
}

impl Setup<'_> {
    /// Allocate a new equation (branch current or internal node) named `name`.
    pub fn new_equation(&mut self, name: String) -> usize {
        self.eq_names.push(name);
        self.n_eq += 1;
        self.n_eq - 1
    }
    /// Allocate `count` consecutive state slots; returns the first.
    pub fn states(&mut self, count: usize) -> usize {
        self.n_states += count;
        self.n_states - count
    }
    /// Matrix stamp slot for (row, col) equations.
    pub fn slot(&mut self, row: usize, col: usize) -> usize {
        self.pattern.slot(row, col)
    }
    /// Right-hand-side slot for equation `row`.
    pub fn rhs(&mut self, row: usize) -> usize {
        self.pattern.rhs_slot(row)
    }
    /// The four slots of a conductance between `a` and `b`: (aa, bb, ab, ba).
    pub fn conductance_slots(&mut self, a: usize, b: usize) -> [usize; 4] {
        [
            self.slot(a, a),
            self.slot(b, b),
            self.slot(a, b),
            self.slot(b, a),
        ]
    }
}

/// Everything a device needs to stamp one Newton iteration.
pub struct LoadCtx<'a> {
    /// Present Newton iterate by equation index (`x[0]` = 0 is ground).
    pub x: &'a [f64],
    /// Matrix stamp buffer by slot.
    pub mat: &'a mut [f64],
    /// Right-hand-side stamp buffer by slot.
    pub rhs: &'a mut [f64],
    /// States at the present time point (written by devices: charges, currents, limited
    /// junction voltages), indexed by absolute state number.
    pub state0: States<'a>,
    /// States at the previous accepted time points: `hist[0]` one step back, then two, three.
    pub hist: [&'a [f64]; 3],
    pub mode: Mode,
    pub init: InitPhase,
    /// Integration coefficients for the present step (transient only).
    pub integ: &'a Integrator,
    /// Simulation time (s) of the point being solved.
    pub time: f64,
    /// `.tran` step and stop time: resolve source defaults (PULSE rise time = tstep, ...).
    pub tstep: f64,
    pub tstop: f64,
    /// Source scale factor for source stepping (1 normally).
    pub srcfact: f64,
    /// The operating point that starts a transient: sources take their waveform value at
    /// t = 0 (ngspice uses the `dc` value only for `.op` and `.dc`).
    pub sources_at_t0: bool,
    /// Minimum conductance (S) placed across junctions.
    pub gmin: f64,
    /// Circuit temperature (K).
    pub temp_k: f64,
    /// Transient started with UIC: capacitors/inductors take their `ic=` at t = 0.
    pub uic: bool,
    /// This is the t = 0 point of a UIC transient (no operating point was solved).
    pub uic_start: bool,
    /// Index of the time step being attempted (0 for DC) and of the attempt within it:
    /// stochastic devices derive their noise from (seed, step, attempt) so runs reproduce
    /// bit for bit without mutable generator state.
    pub step_index: u64,
    pub attempt: u32,
    /// Devices increment this when they limited a junction voltage (not converged yet).
    pub noncon: usize,
    /// A device may reuse its last evaluation when its controlling voltages and currents
    /// moved less than the Newton tolerances (ngspice's BYPASS test, `.options bypass`).
    /// On the first iteration of a time point (`point_start`) only devices without charges
    /// may, since a companion model must see the present step.
    pub bypass: bool,
    /// This is the first evaluation at the present time point (or operating point).
    pub point_start: bool,
    /// Devices increment this when they bypassed their evaluation.
    pub bypassed: usize,
    /// The stamp buffers hold exactly what each device's last load wrote, and the present
    /// states its last evaluation: a device that [owns its stamps](Device::owns_stamps) may
    /// then skip a load whose result would equal the last one to within
    /// [`LATENCY_CURRENT_A`], writing nothing.
    pub latency: bool,
    /// Devices increment this when they reused their last evaluation because it is exact to
    /// within [`LATENCY_CURRENT_A`] at the present voltages (always on; no tolerance
    /// trade-off, unlike `bypass`).
    pub latent: usize,
}

/// Largest current error (A) a device may accept by reusing its last linearisation instead
/// of evaluating again ("certified latency"): 10⁻³ of ngspice's ABSTOL, so the converged
/// point differs from a full evaluation by far less than Newton's own tolerance.
pub const LATENCY_CURRENT_A: f64 = 1e-15;

impl LoadCtx<'_> {
    pub fn source_eval(&self) -> SourceEval {
        SourceEval {
            mode: if self.sources_at_t0 {
                Mode::Tran
            } else {
                self.mode
            },
            time: self.time,
            tstep: self.tstep,
            tstop: self.tstop,
            srcfact: self.srcfact,
        }
    }
    /// Voltage between two equations at the present iterate.
    #[inline]
    pub fn v(&self, a: usize, b: usize) -> f64 {
        self.x[a] - self.x[b]
    }
    /// Add a conductance `g` between the nodes of `slots` (from [`Setup::conductance_slots`]).
    #[inline]
    pub fn stamp_g(&mut self, slots: &[usize; 4], g: f64) {
        self.mat[slots[0]] += g;
        self.mat[slots[1]] += g;
        self.mat[slots[2]] -= g;
        self.mat[slots[3]] -= g;
    }
    /// A current `i` flowing from node `a` through the device to node `b`, as the rhs sees
    /// it: it leaves `a` (rhs −i) and enters `b` (rhs +i).
    #[inline]
    pub fn stamp_i(&mut self, rhs_a: usize, rhs_b: usize, i: f64) {
        self.rhs[rhs_a] -= i;
        self.rhs[rhs_b] += i;
    }
    /// Integrate the charge in `state0[q]` (history in `state1`...), writing its current
    /// into `state0[q + 1]`; returns (current, d current / d charge). Transient only.
    #[inline]
    pub fn integrate(&mut self, q: usize) -> (f64, f64) {
        self.integ.integrate(&mut self.state0, &self.hist, q)
    }
}

/// The present state vector as one loading thread sees it: indexed by absolute state
/// number, backed by the block of states that thread's devices own. Two threads loading
/// two halves of the devices each get their own block of the one vector, with no copying.
pub struct States<'a> {
    data: &'a mut [f64],
    /// Absolute number of `data[0]`.
    base: usize,
}

impl<'a> States<'a> {
    /// The whole state vector.
    pub fn whole(data: &'a mut [f64]) -> Self {
        States { data, base: 0 }
    }
    /// The states from `base` on, still indexed by absolute number.
    pub fn from(data: &'a mut [f64], base: usize) -> Self {
        States { data, base }
    }
}

impl std::ops::Index<usize> for States<'_> {
    type Output = f64;
    #[inline]
    fn index(&self, i: usize) -> &f64 {
        &self.data[i - self.base]
    }
}
impl std::ops::IndexMut<usize> for States<'_> {
    #[inline]
    fn index_mut(&mut self, i: usize) -> &mut f64 {
        &mut self.data[i - self.base]
    }
}
impl std::ops::Index<std::ops::Range<usize>> for States<'_> {
    type Output = [f64];
    #[inline]
    fn index(&self, r: std::ops::Range<usize>) -> &[f64] {
        &self.data[r.start - self.base..r.end - self.base]
    }
}
impl std::ops::IndexMut<std::ops::Range<usize>> for States<'_> {
    #[inline]
    fn index_mut(&mut self, r: std::ops::Range<usize>) -> &mut [f64] {
        &mut self.data[r.start - self.base..r.end - self.base]
    }
}

/// Local-truncation-error context (after a converged time point).
pub struct TruncCtx<'a> {
    pub integ: &'a Integrator,
    /// States at the new point (`[0]`) and the three accepted points before it.
    pub states: [&'a [f64]; 4],
    pub reltol: f64,
    pub abstol: f64,
    pub chgtol: f64,
    pub trtol: f64,
}

/// A linear passive that the analysis stamps in bulk instead of through [`Device::load`]:
/// its matrix entries are constant (resistor) or constant within a time point
/// (capacitor companion), so they are added once per point rather than once per Newton
/// iteration, and no virtual call or stamp buffer is spent on them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BulkLinear {
    /// Conductance `g` (S) between equations `a` and `b`.
    Conductance { a: usize, b: usize, g: f64 },
    /// Capacitance `c` (F) between `a` and `b`; charge `q = c·v` in state `state`, its
    /// current in `state + 1`; `ic` (V) is used at the start of a UIC transient.
    Capacitance {
        a: usize,
        b: usize,
        c: f64,
        ic: Option<f64>,
        state: usize,
    },
}

/// One element model instance.
pub trait Device: Send + Sync {
    /// Lowercase element name.
    fn name(&self) -> &str;
    /// First setup pass: allocate branch equations and internal nodes. Return the branch
    /// equation if this element defines one that `i(name)` and F/H sources refer to.
    fn setup_equations(&mut self, s: &mut Setup) -> Option<usize>;
    /// Second setup pass: allocate states and stamp slots (all branches now known).
    fn setup_slots(&mut self, s: &mut Setup) -> Result<(), String>;
    /// Stamp the linearised model at `ctx.x`.
    fn load(&self, ctx: &mut LoadCtx);
    /// Largest next step (s) the local truncation error of this device allows.
    fn truncate(&self, _ctx: &TruncCtx) -> f64 {
        f64::INFINITY
    }
    /// Does [`Device::truncate`] ever bound the step? `false` lets the step controller skip
    /// the call (a MOSFET without gate capacitance; every device without charges).
    fn truncates(&self) -> bool {
        true
    }
    /// Largest time step (s) this device tolerates regardless of truncation error (e.g. a
    /// fraction of an MTJ's precession period when thermal noise is on).
    fn max_step(&self) -> f64 {
        f64::INFINITY
    }
    /// Called once per accepted time point with the solution and the device's states, to
    /// project internal unknowns back onto their constraint (|m| = 1 for an MTJ).
    fn accept(&self, _x: &mut [f64], _state0: &mut [f64]) {}
    /// Does [`Device::accept`] do anything? `false` lets the stepper skip the call.
    fn accepts(&self) -> bool {
        false
    }
    /// Set internal unknowns (not node voltages) at the start of a UIC transient, where no
    /// operating point is solved.
    fn init_unknowns(&self, _x: &mut [f64]) {}
    /// Source corners in `[0, tstop]` the time stepper must land on.
    fn breakpoints(&self, _tstep: f64, _tstop: f64, _out: &mut Vec<f64>) {}
    /// This device as a bulk linear passive (see [`BulkLinear`]), if it is one. The answer
    /// must not change after construction; state indices are valid after setup.
    fn bulk_linear(&self) -> Option<BulkLinear> {
        None
    }
    /// Must this device be evaluated once more at the converged iterate? Yes when its
    /// states hold charges (truncation error and the next step integrate them) or internal
    /// dynamics. A device whose states are only its last operating point (for voltage
    /// limiting, bypass and the convergence test) may answer no: its states then lag one
    /// Newton iteration, as every device's do in ngspice, which never reloads.
    fn needs_final_reload(&self) -> bool {
        true
    }
    /// Are this device's states ever read at an earlier time point (`LoadCtx::hist`,
    /// truncation error)? A device whose states hold only its last operating point answers
    /// no; a transient then shifts none of its words into the history and does not restore
    /// them after a rejected attempt (they keep that attempt's last evaluation, which is
    /// what limiting and the convergence test compare against).
    fn keeps_state_history(&self) -> bool {
        true
    }
    /// Does every load write each of this device's matrix and rhs slots with `=` (never
    /// `+=`), or leave them all untouched when it reuses its last evaluation
    /// ([`LoadCtx::latency`])? The system then does not clear its slots between loads.
    fn owns_stamps(&self) -> bool {
        false
    }
    /// Does this device need Newton iterations (nonlinear)?
    fn is_nonlinear(&self) -> bool {
        false
    }
    /// Set a swept DC value (V and I sources only).
    fn set_dc(&mut self, _value: f64) -> bool {
        false
    }
    /// Present DC value (V and I sources only).
    fn dc_value(&self) -> Option<f64> {
        None
    }
    /// Extra saved quantities (name like `temp`, value) computed from the converged point.
    fn quantities(&self, _x: &[f64], _state0: &[f64]) -> Vec<(&'static str, f64)> {
        Vec::new()
    }
    /// Instantaneous power (W) *delivered to the circuit* by this element if it is an
    /// independent source, used by energy accounting; `None` for everything else.
    fn source_power(&self, _x: &[f64], _at: &SourceEval) -> Option<f64> {
        None
    }
    /// Is this an independent source (the devices [`Device::source_power`] reports for)?
    /// Exactly the devices with a DC value.
    fn is_source(&self) -> bool {
        self.dc_value().is_some()
    }
}

/// Build one device per element of the circuit.
pub fn build(circuit: &Circuit) -> Result<Vec<Box<dyn Device>>, String> {
    let mut out: Vec<Box<dyn Device>> = Vec::with_capacity(circuit.elements.len());
    for el in &circuit.elements {
        let name = el.name.clone();
        let dev: Box<dyn Device> = match &el.kind {
            ElementKind::Resistor { a, b, r } => Box::new(passive::Resistor::new(name, *a, *b, *r)),
            ElementKind::Capacitor { a, b, c, ic } => {
                Box::new(passive::Capacitor::new(name, *a, *b, *c, *ic))
            }
            ElementKind::Inductor { a, b, l, ic } => {
                Box::new(passive::Inductor::new(name, *a, *b, *l, *ic))
            }
            ElementKind::VSource { p, n, wave } => {
                Box::new(sources::VSource::new(name, *p, *n, wave.clone()))
            }
            ElementKind::ISource { p, n, wave } => {
                Box::new(sources::ISource::new(name, *p, *n, wave.clone()))
            }
            ElementKind::Vcvs { p, n, cp, cn, gain } => {
                Box::new(controlled::Vcvs::new(name, *p, *n, *cp, *cn, *gain))
            }
            ElementKind::Vccs { p, n, cp, cn, gm } => {
                Box::new(controlled::Vccs::new(name, *p, *n, *cp, *cn, *gm))
            }
            ElementKind::Cccs { p, n, vctrl, gain } => {
                Box::new(controlled::Cccs::new(name, *p, *n, vctrl.clone(), *gain))
            }
            ElementKind::Ccvs { p, n, vctrl, r } => {
                Box::new(controlled::Ccvs::new(name, *p, *n, vctrl.clone(), *r))
            }
            ElementKind::Diode {
                a,
                c,
                model,
                area,
                off,
            } => {
                let m = circuit
                    .models
                    .get(model)
                    .ok_or_else(|| format!("{name}: unknown model {model}"))?;
                Box::new(diode::Diode::new(name, *a, *c, m, *area, *off)?)
            }
            ElementKind::Mosfet {
                d,
                g,
                s,
                b,
                model,
                w,
                l,
                ad,
                as_,
                pd,
                ps,
                m,
                off,
            } => {
                let card = circuit
                    .models
                    .get(model)
                    .ok_or_else(|| format!("{name}: unknown model {model}"))?;
                let geom = mosfet::Geometry {
                    w: *w,
                    l: *l,
                    ad: *ad,
                    as_: *as_,
                    pd: *pd,
                    ps: *ps,
                    m: *m,
                };
                Box::new(mosfet::Mosfet::new(name, *d, *g, *s, *b, card, geom, *off)?)
            }
            ElementKind::Mtj {
                free,
                reference,
                thermal,
                model,
                params,
            } => {
                let card = circuit
                    .models
                    .get(model)
                    .ok_or_else(|| format!("{name}: unknown model {model}"))?;
                mtj_element::build(
                    name,
                    [*free, *reference],
                    *thermal,
                    card,
                    params,
                    &circuit.options,
                )?
            }
        };
        out.push(dev);
    }
    Ok(out)
}
