//! The MNA system of one circuit: devices, equation numbering, the fixed sparse pattern,
//! the LU solver, state history, and the Newton–Raphson loop every analysis uses.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use super::linear::{CapLteHistory, LinearPart};
use crate::circuit::{Circuit, Method, Options};
use crate::devices::{
    self, Device, InitPhase, Integrator, LoadCtx, Mode, Setup, SourceEval, States, TruncCtx,
};
use crate::linalg::{
    Assembler, Factored, GatherHalves, GpLu, LinearSolver, PatternBuilder, Pull, RowPattern,
};
use crate::results::Stats;
use crate::spin_pair::SpinPair;

/// Conductance (S) that pins a node to a `.nodeset` / `.ic` value during the operating point.
const PIN_CONDUCTANCE: f64 = 1e10;

/// Load devices on two threads (when a helper thread exists, see `SpinPair::for_simulation`)
/// from this many general devices on: fewer leave too little work per half. Not tuned as a
/// boundary; at 64×64 (4,288 general devices) the two halves cut the load from 1.85 s to
/// 1.35 s (2026-11-29).
const PARALLEL_MIN_DEVICES: usize = 2048;

/// Where the second half of the devices starts: position in `System::general`, first matrix
/// slot, first rhs slot and first state it owns.
#[derive(Debug, Clone, Copy)]
struct LoadSplit {
    device: usize,
    mat: usize,
    rhs: usize,
    state: usize,
}

/// Stamp-buffer slot ranges cleared before a load: those of the devices that do not own
/// their stamps (`Device::owns_stamps`). Owners overwrite their slots, or leave them as
/// their last load wrote them when it is still exact (`LoadCtx::latency`).
#[derive(Debug, Clone, Default)]
struct ClearRanges {
    mat: Vec<Range<usize>>,
    rhs: Vec<Range<usize>>,
}

impl ClearRanges {
    /// The slots of the non-owning devices among `devs` (positions in `System::general`),
    /// given each general device's matrix and rhs slot ranges.
    fn of(
        dev_slots: &[(Range<u32>, Range<u32>)],
        owns: &[bool],
        devs: Range<usize>,
    ) -> ClearRanges {
        fn push(v: &mut Vec<Range<usize>>, r: Range<usize>) {
            match v.last_mut() {
                Some(last) if last.end == r.start => last.end = r.end,
                _ if r.is_empty() => {}
                _ => v.push(r),
            }
        }
        let mut out = ClearRanges::default();
        let wide = |r: &Range<u32>| r.start as usize..r.end as usize;
        for k in devs.filter(|&k| !owns[k]) {
            let (mat, rhs) = &dev_slots[k];
            push(&mut out.mat, wide(mat));
            push(&mut out.rhs, wide(rhs));
        }
        out
    }

    fn clear(&self, mat: &mut [f64], rhs: &mut [f64]) {
        for r in &self.mat {
            mat[r.clone()].fill(0.0);
        }
        for r in &self.rhs {
            rhs[r.clone()].fill(0.0);
        }
    }
}

/// Why Newton failed at one point.
#[derive(Debug, Clone)]
pub enum NewtonFailure {
    /// Iteration limit reached; the unknowns with the largest last update.
    NoConvergence { worst: Vec<(String, f64)> },
    /// The matrix was singular.
    Singular,
}

/// Parameters of one Newton solve.
pub struct NewtonParams {
    pub mode: Mode,
    pub time: f64,
    pub max_iter: usize,
    pub srcfact: f64,
    /// Extra conductance to ground on every node (gmin stepping).
    pub diag_gmin: f64,
    /// Node pins (equation, value) active for the whole solve (`.ic` in the operating point).
    pub pins: Vec<(usize, f64)>,
    /// Evaluate sources at their t = 0 waveform value (operating point of a transient).
    pub sources_at_t0: bool,
}

/// The assembled MNA system.
pub struct System {
    pub devices: Vec<Box<dyn Device>>,
    pub n_eq: usize,
    pub n_nodes: usize,
    /// Names of equations: node names, then `<elem>#branch` / internal nodes.
    pub eq_names: Vec<String>,
    /// Branch equation of every element that defines one (V, L, E, H), by name.
    pub branches: HashMap<String, usize>,
    /// True for equations whose unknown is a current (tolerance abstol instead of vntol).
    pub is_current: Vec<bool>,
    asm: Assembler,
    /// Resistors and capacitors, stamped in bulk once per point (`analysis::linear`).
    linear: LinearPart,
    /// Indices of the devices loaded one by one (everything that is not bulk linear), in
    /// device order; their stamp slots start at `general_slots` (matrix, rhs).
    general: Vec<usize>,
    general_slots: (usize, usize),
    /// Per device: its states are only its last operating point, so the reload after
    /// convergence may skip it (`Device::needs_final_reload`).
    skip_final_reload: Vec<bool>,
    /// General devices with a truncation-error bound (`Device::truncates`).
    truncating: Vec<usize>,
    /// Independent sources (`Device::is_source`), for energy accounting, and devices with
    /// work to do at an accepted point (`Device::accepts`): both are asked once per step,
    /// and a crossbar has ~100 of them among ~25k devices.
    sources: Vec<usize>,
    acceptors: Vec<usize>,
    solver: Box<dyn LinearSolver>,
    mat_buf: Vec<f64>,
    rhs_buf: Vec<f64>,
    /// Second stamp buffers for the second half of the devices when
    /// loading in parallel (`split`): each half writes only its own slots and states.
    mat_buf2: Vec<f64>,
    rhs_buf2: Vec<f64>,
    split: Option<LoadSplit>,
    /// The split, also when the circuit is too small for it to pay.
    split_possible: Option<LoadSplit>,
    /// Where the capacitors' state updates split between the two loading halves (first
    /// capacitor and first state of the main thread's share; see `load_pass`).
    cap_split: Option<(usize, usize)>,
    /// The gather of the two halves' stamp buffers, split by position between the threads.
    gather_halves: Option<GatherHalves>,
    /// Slots cleared before a load: all devices on one thread, and each half of `split`.
    clear_whole: ClearRanges,
    clear_halves: [ClearRanges; 2],
    /// Every device's stamp-buffer slots hold what its last load wrote, computed from the
    /// present states (false after the states were restored or the buffers changed):
    /// devices may then skip loads that would repeat the last one (`LoadCtx::latency`).
    stamps_synced: bool,
    /// The helper thread that loads the second half (None: both halves load here).
    pair: Option<Arc<SpinPair>>,
    /// Rebuilds only the entries that evaluated devices stamp, at a time point's repeated
    /// Newton iterations (None when the devices' slots are not one contiguous range each).
    pull: Option<Pull>,
    /// The capacitors' charge differences of the last accepted points (truncation check).
    pub cap_lte: CapLteHistory,
    /// The pattern by rows, made at the first two-thread chord residual.
    residual_rows: Option<RowPattern>,
    /// Whether the LU is told each iteration's integration coefficient
    /// ([`LinearSolver::select_family`]).
    lu_families: bool,
    /// Per general device (position in `general`): its matrix and rhs slot ranges.
    dev_slots: Vec<(Range<u32>, Range<u32>)>,
    /// The general devices (positions in `general`) each loading half evaluated in the
    /// last load, collected when that load may be assembled by `pull`.
    evaluated: [Vec<u32>; 2],
    /// `values` and `rhs` equal the present point's linear part plus the stamp buffers as
    /// they are (set by a full assembly; cleared by a load that assembles nothing, and by
    /// diagonal additions).
    assembled: bool,
    /// The last load was assembled by `pull`: only its rebuilt positions changed.
    assembled_partially: bool,
    /// General devices evaluated by state-only loads since the last assembly.
    unassembled: Vec<u32>,
    values: Vec<f64>,
    rhs: Vec<f64>,
    /// Present solution by equation (x[0] = 0).
    pub x: Vec<f64>,
    /// states[0] = present point, states[1..4] = accepted history.
    pub states: [Vec<f64>; 4],
    /// The state words that are read at earlier points (`Device::keeps_state_history`),
    /// as sorted, merged ranges: only they are shifted into states[1..4] and restored after
    /// a rejected attempt; the rest live in states[0] alone.
    history: Vec<Range<usize>>,
    /// Their total length (decides at every step how the history is shifted).
    history_words: usize,
    pub integ: Integrator,
    pub options: Options,
    pub tstep: f64,
    pub tstop: f64,
    pub uic: bool,
    pub stats: Stats,
    /// Accepted-step counter and attempt within the step (for reproducible noise).
    pub step_index: u64,
    pub attempt: u32,
    nonlinear: bool,
    /// `.options bypass=1`: devices may skip re-evaluation (see `LoadCtx::bypass`).
    pub bypass_enabled: bool,
    /// Certified latency (`LoadCtx::latency`), on unless `.options latency=0`.
    pub latency_enabled: bool,
    /// `.options chordtol`: how far (relative to the diagonal scale) the matrix may move
    /// before a transient's confirming Newton iteration refactors instead of taking a chord
    /// step with the factors in hand; 0 always refactors.
    pub chord_tol: f64,
    /// Newton scratch: the new iterate and the unknowns that failed the convergence test.
    xnew: Vec<f64>,
    worst: Vec<(usize, f64)>,
}

/// Default `.options chordtol`: a confirming Newton iteration keeps the factors when no
/// entry moved by more than 3 % of its diagonal scale. On the 64×64 1T1R read this takes
/// a quarter of the LU work away with no added iterations (docs/performance.md).
pub const DEFAULT_CHORD_TOL: f64 = 0.03;

impl System {
    /// Number devices' unknowns, build the pattern and analyse it symbolically (once).
    pub fn new(circuit: &Circuit) -> Result<System, String> {
        let mut devices = devices::build(circuit)?;
        let mut pattern = PatternBuilder::new();
        let mut eq_names = circuit.nodes.clone();
        if eq_names.is_empty() {
            eq_names.push("0".into());
        }
        let n_nodes = eq_names.len();
        let mut branches = HashMap::new();
        let empty = HashMap::new();
        let mut n_eq = n_nodes;
        let mut n_states = 0;
        let first_pass_allocated;
        let bulk: Vec<bool> = devices.iter().map(|d| d.bulk_linear().is_some()).collect();
        let general: Vec<usize> = (0..devices.len()).filter(|&i| !bulk[i]).collect();
        // Per general device: (matrix slots, rhs slots, states) allocated before it.
        let mut starts: Vec<(usize, usize, usize)> = Vec::with_capacity(general.len());
        // Each device's state words allocated in the second pass.
        let mut state_ranges: Vec<(usize, Range<usize>)> = Vec::with_capacity(devices.len());
        let general_slots;
        {
            let mut s = Setup {
                n_eq,
                n_states,
                pattern: &mut pattern,
                eq_names: &mut eq_names,
                branches: &empty,
            };
            for d in devices.iter_mut() {
                if let Some(br) = d.setup_equations(&mut s) {
                    branches.insert(d.name().to_string(), br);
                }
            }
            // Parallel loading needs every device's slots and states allocated in device
            // order in the second pass.
            first_pass_allocated = s.n_states != 0
                || s.pattern.mat_slot_count() != 1
                || s.pattern.rhs_slot_count() != 1;
            n_eq = s.n_eq;
            n_states = s.n_states;
        }
        {
            let mut s = Setup {
                n_eq,
                n_states,
                pattern: &mut pattern,
                eq_names: &mut eq_names,
                branches: &branches,
            };
            // Bulk linear devices first, so the general devices' slots and states form one
            // contiguous range each (gathered per iteration, split for parallel loads).
            for (i, _) in bulk.iter().enumerate().filter(|(_, b)| **b) {
                let before = s.n_states;
                devices[i].setup_slots(&mut s)?;
                state_ranges.push((i, before..s.n_states));
            }
            general_slots = (s.pattern.mat_slot_count(), s.pattern.rhs_slot_count());
            for &i in &general {
                starts.push((
                    s.pattern.mat_slot_count(),
                    s.pattern.rhs_slot_count(),
                    s.n_states,
                ));
                let before = s.n_states;
                devices[i].setup_slots(&mut s)?;
                state_ranges.push((i, before..s.n_states));
            }
            n_eq = s.n_eq;
            n_states = s.n_states;
        }
        let history = if first_pass_allocated {
            // States allocated outside the per-device ranges: keep them all.
            std::iter::once(0..n_states).collect()
        } else {
            // The ranges come in allocation order: adjacent kept ones merge.
            let mut merged: Vec<Range<usize>> = Vec::new();
            for (i, r) in state_ranges {
                if r.is_empty() || !devices[i].keeps_state_history() {
                    continue;
                }
                match merged.last_mut() {
                    Some(last) if last.end == r.start => last.end = r.end,
                    _ => merged.push(r),
                }
            }
            merged
        };
        let history_words: usize = history.iter().map(|r| r.len()).sum();
        let is_current = eq_names.iter().map(|n| n.ends_with("#branch")).collect();
        let nonlinear = devices.iter().any(|d| d.is_nonlinear());
        let mat_slots = pattern.mat_slot_count();
        let rhs_slots = pattern.rhs_slot_count();
        let asm = pattern.finish(n_eq);
        // Split the devices into two halves of about equal stamp count for parallel loads.
        let split_possible = if !first_pass_allocated {
            let half = general_slots.0 + (mat_slots - general_slots.0) / 2;
            let k = starts.partition_point(|&(m, _, _)| m < half);
            starts.get(k).map(|&(m, r, st)| LoadSplit {
                device: k,
                mat: m,
                rhs: r,
                state: st,
            })
        } else {
            None
        };
        // Devices owning their stamps are not cleared between loads. Without one contiguous
        // slot range per device (slots allocated in the first pass) none counts as owner, and
        // the ranges merge into the whole general range.
        // Per general device: its matrix and rhs slot ranges (of the second pass).
        let ends = (mat_slots, rhs_slots);
        let dev_slots: Vec<(Range<u32>, Range<u32>)> = (0..starts.len())
            .map(|k| {
                let (m0, r0, _) = starts[k];
                let (m1, r1) = starts.get(k + 1).map_or(ends, |&(m, r, _)| (m, r));
                (m0 as u32..m1 as u32, r0 as u32..r1 as u32)
            })
            .collect();
        let owns: Vec<bool> = general
            .iter()
            .map(|&i| !first_pass_allocated && devices[i].owns_stamps())
            .collect();
        let clear_whole = ClearRanges::of(&dev_slots, &owns, 0..general.len());
        let clear_halves = split_possible.map_or_else(Default::default, |sp| {
            [
                ClearRanges::of(&dev_slots, &owns, 0..sp.device),
                ClearRanges::of(&dev_slots, &owns, sp.device..general.len()),
            ]
        });
        let pair = SpinPair::for_simulation(asm.n);
        // Repeated iterations of a point reassemble only what evaluated devices stamp, which
        // needs each device's slots as one range (slots allocated in device order).
        let pull = (!first_pass_allocated && nonlinear).then(|| asm.pull_plan(general_slots));
        let split =
            split_possible.filter(|_| pair.is_some() && general.len() >= PARALLEL_MIN_DEVICES);
        let linear = LinearPart::new(&devices, &bulk, &asm);
        let cap_split = split_possible
            .zip(linear.cap_split())
            .filter(|(sp, (_, cap_state))| *cap_state <= sp.state)
            .map(|(_, c)| c);
        let skip_final_reload = devices.iter().map(|d| !d.needs_final_reload()).collect();
        let sources = (0..devices.len())
            .filter(|&i| devices[i].is_source())
            .collect();
        let acceptors = (0..devices.len())
            .filter(|&i| devices[i].accepts())
            .collect();
        let truncating = general
            .iter()
            .copied()
            .filter(|&i| devices[i].truncates())
            .collect();
        let mut solver = GpLu::new(&asm).map_err(|e| e.to_string())?;
        solver.set_pair(pair.clone());
        let mut integ = Integrator {
            method: circuit.options.method,
            ..Default::default()
        };
        if circuit.options.maxord < 2 {
            integ.method = Method::Gear;
        }
        Ok(System {
            devices,
            n_eq,
            n_nodes,
            eq_names,
            branches,
            is_current,
            values: vec![0.0; asm.nnz()],
            rhs: vec![0.0; asm.n],
            mat_buf: vec![0.0; mat_slots],
            rhs_buf: vec![0.0; rhs_slots],
            mat_buf2: vec![0.0; if split.is_some() { mat_slots } else { 0 }],
            rhs_buf2: vec![0.0; if split.is_some() { rhs_slots } else { 0 }],
            split,
            split_possible,
            gather_halves: split_possible
                .map(|sp| asm.gather_halves(general_slots, (sp.mat, sp.rhs))),
            clear_whole,
            clear_halves,
            stamps_synced: false,
            pull,
            cap_lte: CapLteHistory::default(),
            residual_rows: None,
            lu_families: true,
            dev_slots,
            evaluated: Default::default(),
            assembled: false,
            assembled_partially: false,
            unassembled: Vec::new(),
            pair,
            cap_split,
            asm,
            linear,
            skip_final_reload,
            truncating,
            sources,
            acceptors,
            general,
            general_slots,
            solver: Box::new(solver),
            x: vec![0.0; n_eq],
            states: std::array::from_fn(|_| vec![0.0; n_states]),
            history,
            history_words,
            integ,
            options: circuit.options.clone(),
            tstep: 0.0,
            tstop: 0.0,
            uic: false,
            stats: Stats::default(),
            step_index: 0,
            attempt: 0,
            nonlinear,
            bypass_enabled: circuit
                .options
                .extra
                .get("bypass")
                .is_some_and(|&v| v != 0.0),
            latency_enabled: circuit
                .options
                .extra
                .get("latency")
                .is_none_or(|&v| v != 0.0),
            chord_tol: circuit
                .options
                .extra
                .get("chordtol")
                .copied()
                .filter(|v| v.is_finite() && *v >= 0.0)
                .unwrap_or(DEFAULT_CHORD_TOL),
            xnew: Vec::new(),
            worst: Vec::new(),
        })
    }

    /// Override the choice made in [`System::new`]: load devices on two threads (where the
    /// circuit allows it) or on one.
    pub fn set_parallel_load(&mut self, on: bool) {
        self.split = if on { self.split_possible } else { None };
        self.assembled = false;
        // The halves stamp into different buffers.
        self.stamps_synced = false;
        if self.split.is_some() && self.mat_buf2.is_empty() {
            self.mat_buf2 = vec![0.0; self.mat_buf.len()];
            self.rhs_buf2 = vec![0.0; self.rhs_buf.len()];
        }
    }
    /// Assemble every Newton iteration in full instead of rebuilding only the entries that
    /// evaluated devices stamp (partial assembly is on by default where the devices' slots
    /// allow it; results are the same bits either way, which tests check with this).
    pub fn disable_partial_assembly(&mut self) {
        self.pull = None;
    }

    /// Refactor every Newton iteration from the last factorization, without the factors
    /// kept per integration coefficient (answers agree to within the LU's change
    /// tolerance, which a test checks with this).
    pub fn disable_lu_families(&mut self) {
        self.lu_families = false;
    }

    /// Factorizations that started from the kept factors of their integration coefficient.
    pub fn lu_family_reuses(&self) -> usize {
        self.solver.family_reuses()
    }

    /// Are devices loaded on two threads?
    pub fn parallel_load(&self) -> bool {
        self.split.is_some()
    }

    /// Number of unknowns (matrix dimension).
    pub fn unknowns(&self) -> usize {
        self.asm.n
    }
    /// Nonzeros of L+U after the last full factorization (0 before any).
    pub fn factor_nnz(&self) -> usize {
        self.solver.factor_nnz()
    }
    /// LU columns recomputed by all factorizations so far.
    pub fn lu_columns_recomputed(&self) -> usize {
        self.solver.columns_recomputed()
    }
    /// Nonzeros of the MNA matrix pattern.
    pub fn nnz(&self) -> usize {
        self.asm.nnz()
    }

    /// Evaluate all devices at `x` into the stamp buffers and gather them. `repeat`: this
    /// point was evaluated before at the present step, so devices may bypass (when
    /// `.options bypass=1`, transient only; ngspice excludes MODEINITPRED the same way).
    fn load(&mut self, p: &NewtonParams, init: InitPhase, uic_start: bool, repeat: bool) -> usize {
        self.load_pass(p, init, uic_start, repeat, false)
    }

    /// After convergence: bring the states to the final iterate. Only devices whose states
    /// matter beyond their last operating point are evaluated (`Device::needs_final_reload`),
    /// and nothing is assembled.
    fn reload_states(&mut self, p: &NewtonParams) {
        self.load_pass(p, InitPhase::Normal, false, true, true);
    }

    fn load_pass(
        &mut self,
        p: &NewtonParams,
        init: InitPhase,
        uic_start: bool,
        repeat: bool,
        states_only: bool,
    ) -> usize {
        let [s0, s1, s2, s3] = &mut self.states;
        let hist = [&s1[..], &s2[..], &s3[..]];
        // A new point whose linear matrix part is the last point's (same integration
        // coefficient) may be assembled partially too; its rhs is rebuilt whole.
        let mut matrix_kept = false;
        if !repeat {
            let halves = self
                .split
                .and(self.gather_halves.as_ref())
                .map(|plan| (plan.split, self.pair.as_deref()));
            matrix_kept = !self
                .linear
                .begin_point(p.mode, uic_start, &self.integ, &hist, halves);
        }
        // Devices evaluated in this pass.
        let skip = &self.skip_final_reload;
        let wanted = |i: usize| !states_only || !skip[i];
        // With two halves, the second half's devices own the states from `sp.state` on,
        // and the capacitors' states are written half by each thread (the first half of
        // the capacitors, states below `cap_state`, by the helper).
        // Capacitor charges and currents are needed only at a solved point: in a nonlinear
        // transient the pass after convergence (`reload_states`) sets them, so the Newton
        // iterations before it skip them (their companions depend on the history alone).
        let cap_states = states_only || !(p.mode == Mode::Tran && !uic_start && self.nonlinear);
        let cap_split = self.split.and(self.cap_split);
        if cap_split.is_none() && cap_states {
            self.linear
                .set_states(&self.x, s0, &hist, &self.integ, p.mode, uic_start);
        }
        let (caps_first, s_first, s_second) = match (self.split, cap_split) {
            (Some(sp), Some((_, cap_state))) => {
                let (a, rest) = s0.split_at_mut(cap_state);
                let (b, c) = rest.split_at_mut(sp.state - cap_state);
                (
                    Some(a),
                    States::from(b, cap_state),
                    Some(States::from(c, sp.state)),
                )
            }
            (Some(sp), None) => {
                let (a, b) = s0.split_at_mut(sp.state);
                (None, States::whole(a), Some(States::from(b, sp.state)))
            }
            (None, _) => (None, States::whole(s0), None),
        };
        // A repeated iteration of a transient point, whose values still hold the last
        // assembly, rebuilds only the entries of the devices it evaluates (most devices of a
        // crossbar are latent and keep their stamps).
        let incremental = !states_only
            && (repeat || matrix_kept)
            && self.assembled
            && self.pull.is_some()
            && p.mode == Mode::Tran
            && p.diag_gmin == 0.0
            && p.pins.is_empty();
        // Devices evaluated by a state-only reload change their stamps unassembled: they are
        // remembered for the next partial assembly.
        let track = incremental || (states_only && self.assembled && self.pull.is_some());
        let [mut eval_first, mut eval_second] = std::mem::take(&mut self.evaluated);
        eval_first.clear();
        eval_second.clear();
        // Otherwise the matrix and rhs start from the linear part (copied by the loading
        // threads) and all slots are gathered onto it.
        let copy_base = !states_only && !incremental;
        if !states_only {
            self.assembled_partially = incremental;
        }
        let linear = &self.linear;
        let mut ctx = LoadCtx {
            x: &self.x,
            mat: &mut self.mat_buf,
            rhs: &mut self.rhs_buf,
            state0: s_first,
            hist,
            mode: p.mode,
            init,
            integ: &self.integ,
            time: p.time,
            tstep: self.tstep,
            tstop: self.tstop,
            srcfact: p.srcfact,
            sources_at_t0: p.sources_at_t0,
            gmin: self.options.gmin,
            temp_k: self.options.temp_k,
            uic: self.uic,
            uic_start,
            step_index: self.step_index,
            attempt: self.attempt,
            noncon: 0,
            bypass: self.bypass_enabled && p.mode == Mode::Tran && !uic_start,
            point_start: !repeat,
            bypassed: 0,
            latent: 0,
            latency: self.latency_enabled
                && self.stamps_synced
                && p.mode == Mode::Tran
                && !uic_start,
        };
        let noncon = if let (Some(sp), Some(s_second)) = (self.split, s_second) {
            // Two halves on two threads, each with its own stamp buffers and block of the
            // state vector. Results are bit-identical to the serial load.
            let clear_halves = &self.clear_halves;
            let mut ctx_b = LoadCtx {
                mat: &mut self.mat_buf2,
                rhs: &mut self.rhs_buf2,
                state0: s_second,
                ..ctx
            };
            let (first, second) = self.general.split_at(sp.device);
            let devices = &self.devices;
            // The linear part is copied, and the stamps gathered, into the halves of the plan.
            let plan = self
                .gather_halves
                .as_ref()
                .expect("split has a gather plan");
            let (vh, rh) = plan.split;
            let (values0, values1) = self.values.split_at_mut(vh);
            let (rhs0, rhs1) = self.rhs.split_at_mut(rh);
            let (x, integ, mode) = (&self.x[..], &self.integ, p.mode);
            let n_caps = linear.cap_count();
            let mut load_first = || {
                if copy_base {
                    linear.copy_part_into((0, 0), values0, rhs0);
                }
                if let Some((cap_mid, _)) = cap_split.filter(|_| cap_states) {
                    let caps = cap_mid..n_caps;
                    linear.set_states_of(caps, x, &mut ctx.state0, &hist, integ, mode, uic_start);
                }
                clear_halves[0].clear(ctx.mat, ctx.rhs);
                for (k, &i) in first.iter().enumerate().filter(|&(_, &i)| wanted(i)) {
                    let latent = ctx.latent;
                    devices[i].load(&mut ctx);
                    if track && ctx.latent == latent {
                        eval_first.push(k as u32);
                    }
                }
                (ctx.noncon, ctx.bypassed, ctx.latent)
            };
            let load_second = || {
                if copy_base {
                    linear.copy_part_into((vh, rh), values1, rhs1);
                }
                if let (Some((cap_mid, _)), Some(states), true) =
                    (cap_split, caps_first, cap_states)
                {
                    let mut states = States::whole(states);
                    linear.set_states_of(0..cap_mid, x, &mut states, &hist, integ, mode, uic_start);
                }
                clear_halves[1].clear(ctx_b.mat, ctx_b.rhs);
                for (k, &i) in second.iter().enumerate().filter(|&(_, &i)| wanted(i)) {
                    let latent = ctx_b.latent;
                    devices[i].load(&mut ctx_b);
                    if track && ctx_b.latent == latent {
                        eval_second.push((sp.device + k) as u32);
                    }
                }
                (ctx_b.noncon, ctx_b.bypassed, ctx_b.latent)
            };
            let ((na, ba, la), (nb, bb, lb)) = match &self.pair {
                Some(pair) => pair.join(load_first, load_second),
                None => (load_first(), load_second()),
            };
            self.stamps_synced = true;
            self.stats.device_bypasses += ba + bb;
            self.stats.latent_devices += la + lb;
            if copy_base {
                // Each thread adds the slots whose positions lie in its half.
                let mat = [&self.mat_buf[..], &self.mat_buf2[..]];
                let rhs_bufs = [&self.rhs_buf[..], &self.rhs_buf2[..]];
                let (values0, values1) = self.values.split_at_mut(vh);
                let (rhs0, rhs1) = self.rhs.split_at_mut(rh);
                let mut first = || plan.gather(0, mat, rhs_bufs, values0, rhs0);
                let mut second = || plan.gather(1, mat, rhs_bufs, values1, rhs1);
                match &self.pair {
                    Some(pair) => pair.join(first, second),
                    None => (first(), second()),
                };
            }
            na + nb
        } else {
            if copy_base {
                linear.copy_into(&mut self.values, &mut self.rhs);
            }
            self.clear_whole.clear(ctx.mat, ctx.rhs);
            for (k, &i) in self.general.iter().enumerate().filter(|&(_, &i)| wanted(i)) {
                let latent = ctx.latent;
                self.devices[i].load(&mut ctx);
                if track && ctx.latent == latent {
                    eval_first.push(k as u32);
                }
            }
            let noncon = ctx.noncon;
            self.stamps_synced = true;
            self.stats.device_bypasses += ctx.bypassed;
            self.stats.latent_devices += ctx.latent;
            if copy_base {
                let (m, r) = (self.mat_buf.len(), self.rhs_buf.len());
                self.asm.gather_onto(
                    [&self.mat_buf, &self.mat_buf],
                    [&self.rhs_buf, &self.rhs_buf],
                    self.general_slots,
                    (m, r),
                    &mut self.values,
                    &mut self.rhs,
                );
            }
            noncon
        };
        if states_only {
            self.remember_unassembled(track, &eval_first, &eval_second);
        } else if incremental {
            self.pull_evaluated(&eval_first, &eval_second, !repeat);
        }
        self.evaluated = [eval_first, eval_second];
        if states_only {
            return 0;
        }
        if incremental {
            return noncon;
        }
        // A full assembly: repeated iterations may rebuild only what changes, unless the
        // diagonal additions below change entries that no device stamp accounts for.
        self.assembled = p.diag_gmin == 0.0 && p.pins.is_empty();
        self.unassembled.clear();
        if p.diag_gmin > 0.0 {
            let nodes: Vec<usize> = (0..self.n_nodes.saturating_sub(1)).collect();
            self.asm
                .add_diagonal_at(&mut self.values, &nodes, p.diag_gmin);
        }
        for &(eq, v) in &p.pins {
            if eq > 0 {
                self.asm
                    .add_diagonal_at(&mut self.values, &[eq - 1], PIN_CONDUCTANCE);
                self.rhs[eq - 1] += PIN_CONDUCTANCE * v;
            }
        }
        noncon
    }

    /// Rebuild the values and rhs entries that the evaluated general devices (positions in
    /// `general`, each half's list) stamp, from the point's linear part and the stamp
    /// buffers (with a split, the second half's slots from its own buffers).
    fn pull_evaluated(&mut self, first: &[u32], second: &[u32], whole_rhs: bool) {
        self.stats.partial_assemblies += 1;
        let (mat_buf, rhs_buf, split) = match self.split {
            Some(sp) => (
                [&self.mat_buf[..], &self.mat_buf2[..]],
                [&self.rhs_buf[..], &self.rhs_buf2[..]],
                (sp.mat, sp.rhs),
            ),
            None => (
                [&self.mat_buf[..], &self.mat_buf[..]],
                [&self.rhs_buf[..], &self.rhs_buf[..]],
                (self.mat_buf.len(), self.rhs_buf.len()),
            ),
        };
        if whole_rhs {
            // A new point: every rhs row's linear part changed.
            self.rhs.copy_from_slice(self.linear.point().1);
            self.asm
                .gather_rhs_onto(rhs_buf, self.general_slots.1, split.1, &mut self.rhs);
        }
        let pull = self.pull.as_mut().expect("incremental assembly has a plan");
        let unassembled = std::mem::take(&mut self.unassembled);
        for &k in first.iter().chain(second).chain(&unassembled) {
            let (mat, rhs) = &self.dev_slots[k as usize];
            // After a whole rhs rebuild only the matrix entries are left to rebuild.
            let rhs = if whole_rhs {
                0..0
            } else {
                rhs.start as usize..rhs.end as usize
            };
            pull.touch(&self.asm, mat.start as usize..mat.end as usize, rhs);
        }
        pull.apply(
            mat_buf,
            rhs_buf,
            split,
            self.linear.point(),
            &mut self.values,
            &mut self.rhs,
        );
        self.unassembled = unassembled;
        self.unassembled.clear();
    }

    /// After a load that assembled nothing: with `track`, its evaluated devices (each
    /// half's list) join those the next partial assembly rebuilds; otherwise the next
    /// assembly must be full.
    fn remember_unassembled(&mut self, track: bool, first: &[u32], second: &[u32]) {
        if track {
            self.unassembled.extend_from_slice(first);
            self.unassembled.extend_from_slice(second);
        } else {
            self.assembled = false;
        }
    }

    /// Only set device states at the t = 0 point of a UIC transient (nothing is solved).
    pub fn init_uic_states(&mut self) {
        let p = NewtonParams {
            mode: Mode::Tran,
            time: 0.0,
            max_iter: 0,
            srcfact: 1.0,
            diag_gmin: 0.0,
            pins: Vec::new(),
            sources_at_t0: false,
        };
        // Devices set their states from the `.ic` node values only (as ngspice does); element
        // `ic=` values then fill in the unknowns shown at t = 0 and used as the first guess.
        self.load(&p, InitPhase::Normal, true, false);
        for d in &self.devices {
            d.init_unknowns(&mut self.x);
        }
    }

    /// Newton–Raphson at one point, starting from `self.x`. On success `self.x` and
    /// `self.states[0]` hold the converged point; returns the iteration count.
    pub fn newton(&mut self, p: &NewtonParams, init: InitPhase) -> Result<usize, NewtonFailure> {
        // Scratch vectors live in the system: no allocation inside the Newton loop.
        let mut xnew = std::mem::take(&mut self.xnew);
        let mut worst = std::mem::take(&mut self.worst);
        xnew.resize(self.asm.n, 0.0);
        let result = self.newton_inner(p, init, &mut xnew, &mut worst);
        self.xnew = xnew;
        self.worst = worst;
        result
    }

    fn newton_inner(
        &mut self,
        p: &NewtonParams,
        mut init: InitPhase,
        xnew: &mut [f64],
        worst: &mut Vec<(usize, f64)>,
    ) -> Result<usize, NewtonFailure> {
        let max_iter = p.max_iter.max(1);
        let mut last_was_chord = false;
        for iter in 0..max_iter {
            let noncon = self.load(p, init, false, iter > 0);
            self.stats.newton_iterations += 1;
            // A transient's confirming iterations may keep the factors when the matrix moved
            // little (a chord step); never twice in a row, so Newton keeps converging fast.
            let theta = if iter > 0 && !last_was_chord && p.mode == Mode::Tran {
                self.chord_tol
            } else {
                0.0
            };
            // After a partial assembly only the rebuilt positions can have moved since the
            // last iteration's factorization call.
            let moved_since_last = self
                .pull
                .as_ref()
                .filter(|_| self.assembled_partially)
                .map(|pull| pull.rebuilt_positions());
            if self.lu_families {
                // The capacitors' companion conductances, hence most of the matrix, depend
                // on the integration coefficient; the LU restarts from the factors of the
                // last point that had the same one.
                let family = if p.mode == Mode::Tran {
                    self.integ.ag[0].to_bits()
                } else {
                    0
                };
                self.solver.select_family(family);
            }
            let chord =
                match self
                    .solver
                    .factor_unless_close_since(&self.values, theta, moved_since_last)
                {
                    Ok(Factored::KeptClose) => true,
                    Ok(Factored::Recomputed) => {
                        self.stats.lu_factorizations += 1;
                        false
                    }
                    Ok(Factored::Unchanged) => false,
                    Err(_) => return Err(NewtonFailure::Singular),
                };
            if chord {
                // x + A₀⁻¹(b − A·x): the fixed point is the exact solution of A·x = b; the
                // older factors A₀ only slow the convergence towards it.
                self.stats.chord_iterations += 1;
                self.chord_residual(xnew);
                self.solver.solve(xnew);
                for (v, &x) in xnew.iter_mut().zip(&self.x[1..]) {
                    *v += x;
                }
            } else {
                self.solver.solve_from(&self.rhs, xnew);
            }
            if xnew.iter().any(|v| !v.is_finite()) {
                return Err(NewtonFailure::Singular);
            }
            // Convergence: every unknown moved less than reltol·|x| + vntol (abstol for currents).
            // The worst unknowns are only needed for the report after the last allowed iteration.
            worst.clear();
            let want_worst = iter + 1 == max_iter;
            let mut converged = true;
            let (o, is_current) = (&self.options, &self.is_current[1..]);
            // (|update|, tolerance) of unknown k (0-based).
            let deviation = |k: usize, new: f64, old: f64| {
                let atol = if is_current[k] { o.abstol } else { o.vntol };
                (
                    (new - old).abs(),
                    o.reltol * old.abs().max(new.abs()) + atol,
                )
            };
            if want_worst {
                for (k, (&new, &old)) in xnew.iter().zip(&self.x[1..]).enumerate() {
                    let (d, tol) = deviation(k, new, old);
                    converged &= d <= tol;
                    if d > tol {
                        worst.push((k + 1, d / tol));
                    }
                }
                self.x[1..].copy_from_slice(xnew);
            } else {
                // The test and the move to the new iterate in one pass over both vectors.
                for (k, (&new, old)) in xnew.iter().zip(&mut self.x[1..]).enumerate() {
                    let (d, tol) = deviation(k, new, *old);
                    converged &= d <= tol;
                    *old = new;
                }
            }
            let was_init = init == InitPhase::Junction;
            init = InitPhase::Normal;
            if !self.nonlinear && iter == 0 {
                // Linear circuit: one solve is exact; reload once so states match x.
                self.load(p, InitPhase::Normal, false, false);
                return Ok(1);
            }
            last_was_chord = chord;
            if converged && noncon == 0 && !was_init && iter > 0 {
                // Reload so the states (charges, limited voltages) correspond to the final x
                // (devices whose voltages did not move beyond the tolerances may bypass).
                self.reload_states(p);
                return Ok(iter + 1);
            }
        }
        worst.sort_by(|a, b| b.1.total_cmp(&a.1));
        Err(NewtonFailure::NoConvergence {
            worst: worst
                .iter()
                .take(5)
                .map(|&(eq, r)| (self.eq_names.get(eq).cloned().unwrap_or_default(), r))
                .collect(),
        })
    }

    /// The chord step's residual b − A·x into `out`: by rows in two halves when the
    /// helper thread is there (the same bits as the serial column sweep).
    fn chord_residual(&mut self, out: &mut [f64]) {
        let (values, x, rhs) = (&self.values[..], &self.x[1..], &self.rhs[..]);
        match self.pair.as_deref() {
            Some(pair) => {
                let rows = self
                    .residual_rows
                    .get_or_insert_with(|| self.asm.row_pattern());
                let mid = out.len() / 2;
                let n = out.len();
                let (first, second) = out.split_at_mut(mid);
                let rows = &*rows;
                pair.join(
                    || rows.residual_rows(0..mid, values, x, rhs, first),
                    || rows.residual_rows(mid..n, values, x, rhs, second),
                );
            }
            None => self.asm.residual_into(values, x, rhs, out),
        }
    }

    /// Shift state history after an accepted time point: states[k] ← states[k−1], for the
    /// words that keep a history. When they are few (a crossbar's charge-free access
    /// transistors hold 90 % of the words), copying them down the history is cheaper than
    /// rotating the buffers, which needs the whole present state copied back into
    /// states[0]; either way states[0] keeps the accepted point.
    pub fn rotate_states(&mut self) {
        if self.history_words * (self.states.len() - 1) < self.states[0].len() {
            for k in (1..self.states.len()).rev() {
                let (older, newer) = self.states.split_at_mut(k);
                let (from, to) = (&older[k - 1], &mut newer[0]);
                for r in &self.history {
                    to[r.clone()].copy_from_slice(&from[r.clone()]);
                }
            }
            return;
        }
        self.states.rotate_right(1);
        let (first, rest) = self.states.split_at_mut(1);
        let (to, from) = (&mut first[0], &rest[0]);
        match self.pair.as_deref() {
            // A megabyte at 64×64: two cores copy it faster than one.
            Some(pair) => {
                let half = to.len() / 2;
                let (to0, to1) = to.split_at_mut(half);
                pair.join(
                    || to0.copy_from_slice(&from[..half]),
                    || to1.copy_from_slice(&from[half..]),
                );
            }
            None => to.copy_from_slice(from),
        }
    }

    /// State words shifted into the history at every accepted point, out of
    /// `states[0].len()` (see `Device::keeps_state_history`).
    pub fn history_words(&self) -> usize {
        self.history_words
    }

    /// Make the present states those of the last accepted point again, after a rejected
    /// attempt wrote them (the words with a history; the others keep the attempt's last
    /// evaluation).
    pub fn restore_present_states(&mut self) {
        let (s0, s1) = self.states.split_at_mut(1);
        for r in &self.history {
            s0[0][r.clone()].copy_from_slice(&s1[0][r.clone()]);
        }
        self.stamps_synced = false;
    }

    /// Copy the present state into all history slots (after the operating point).
    pub fn fill_history(&mut self) {
        // A transient starts with every device evaluated afresh.
        self.stamps_synced = false;
        let (first, rest) = self.states.split_at_mut(1);
        for h in rest.iter_mut() {
            h.copy_from_slice(&first[0]);
        }
    }

    /// Let devices project their internal unknowns after an accepted point.
    pub fn accept_point(&mut self) {
        let (x, s0) = (&mut self.x, &mut self.states[0]);
        for &i in &self.acceptors {
            self.devices[i].accept(x, s0);
        }
    }

    /// Smallest step the local truncation error of all devices allows (ngspice CKTtrunc) at
    /// the present order. When that order is 1 also returns the capacitors' bound at order 2
    /// (computed in the same pass) for [`System::truncation_order2`].
    pub fn truncation(&mut self) -> (f64, f64) {
        // Built from the fields (not `trunc_ctx`) so that `cap_lte` can be borrowed apart.
        let ctx = trunc_ctx_of(&self.integ, &self.states, &self.options);
        let (caps, caps2) = self
            .linear
            .truncate(&ctx, self.pair.as_deref(), &mut self.cap_lte);
        let bound = self
            .truncating
            .iter()
            .map(|&i| self.devices[i].truncate(&ctx))
            .fold(caps, f64::min);
        (bound, caps2)
    }

    /// The order-2 trial after an order-1 step: the smallest step all devices allow at order
    /// 2, given the capacitors' bound already computed by [`System::truncation`].
    pub fn truncation_order2(&mut self, caps2: f64) -> f64 {
        let order = self.integ.order;
        self.integ.order = 2;
        let ctx = self.trunc_ctx();
        let bound = self
            .truncating
            .iter()
            .map(|&i| self.devices[i].truncate(&ctx))
            .fold(caps2, f64::min);
        self.integ.order = order;
        bound
    }

    fn trunc_ctx(&self) -> TruncCtx<'_> {
        trunc_ctx_of(&self.integ, &self.states, &self.options)
    }

    /// Smallest device-imposed maximum step (s).
    pub fn device_max_step(&self) -> f64 {
        self.devices
            .iter()
            .map(|d| d.max_step())
            .fold(f64::INFINITY, f64::min)
    }

    /// Total power (W) delivered by independent sources at the present point.
    pub fn source_power(&self, at: &SourceEval) -> f64 {
        self.sources
            .iter()
            .filter_map(|&i| self.devices[i].source_power(&self.x, at))
            .sum()
    }

    /// Residual norm per equation at the present point (for non-convergence reports).
    pub fn residual_report(&self) -> Vec<(String, f64)> {
        let x: Vec<f64> = self.x[1..].to_vec();
        let r = self.asm.residual(&self.values, &x, &self.rhs);
        let mut v: Vec<(String, f64)> = r
            .iter()
            .enumerate()
            .map(|(k, r)| {
                (
                    self.eq_names.get(k + 1).cloned().unwrap_or_default(),
                    r.abs(),
                )
            })
            .collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1));
        v.truncate(5);
        v
    }
}

/// The truncation check's view of an integrator, the state history and the tolerances.
fn trunc_ctx_of<'a>(integ: &'a Integrator, states: &'a [Vec<f64>; 4], o: &Options) -> TruncCtx<'a> {
    TruncCtx {
        integ,
        states: [&states[0], &states[1], &states[2], &states[3]],
        reltol: o.reltol,
        abstol: o.abstol,
        chgtol: o.chgtol,
        trtol: o.trtol,
    }
}
