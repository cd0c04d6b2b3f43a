//! DC operating point: Newton from junction initial guesses, then gmin stepping, then source
//! stepping — the same fallback ladder as ngspice.

use super::SimError;
use super::system::{NewtonFailure, NewtonParams, System};
use crate::devices::{InitPhase, Mode};

/// Solve the operating point into `sys.x` / `sys.states[0]`.
/// `pins` hold node values fixed for the whole solve (`.ic` without UIC); `nodeset` values
/// guide only the first solve and are then released.
pub fn solve(
    sys: &mut System,
    pins: &[(usize, f64)],
    nodeset: &[(usize, f64)],
) -> Result<(), SimError> {
    solve_with(sys, pins, nodeset, false)
}

/// As [`solve`]; `sources_at_t0` evaluates sources at their waveform's t = 0 value, as the
/// operating point that starts a transient must.
pub fn solve_with(
    sys: &mut System,
    pins: &[(usize, f64)],
    nodeset: &[(usize, f64)],
    sources_at_t0: bool,
) -> Result<(), SimError> {
    let itl1 = sys.options.itl1;
    let base = |srcfact: f64, diag_gmin: f64, extra: &[(usize, f64)]| NewtonParams {
        mode: Mode::Dc,
        time: 0.0,
        max_iter: itl1,
        srcfact,
        diag_gmin,
        pins: pins.iter().chain(extra).copied().collect(),
        sources_at_t0,
    };
    let mut last_failure;
    // 1. Plain Newton (nodesets pinned first, then released).
    sys.x.fill(0.0);
    if !nodeset.is_empty() {
        let _ = sys.newton(&base(1.0, 0.0, nodeset), InitPhase::Junction);
    }
    let init = if nodeset.is_empty() {
        InitPhase::Junction
    } else {
        InitPhase::Normal
    };
    match sys.newton(&base(1.0, 0.0, &[]), init) {
        Ok(_) => return Ok(()),
        Err(e) => last_failure = e,
    }
    // 2. gmin stepping: a large conductance from every node to ground, reduced decade by decade.
    sys.x.fill(0.0);
    let mut ok = true;
    let mut g = 1e-2;
    let mut first = true;
    while g > sys.options.gmin {
        let init = if first {
            InitPhase::Junction
        } else {
            InitPhase::Normal
        };
        first = false;
        if let Err(e) = sys.newton(&base(1.0, g, &[]), init) {
            last_failure = e;
            ok = false;
            break;
        }
        g /= 10.0;
    }
    if ok {
        match sys.newton(&base(1.0, 0.0, &[]), InitPhase::Normal) {
            Ok(_) => return Ok(()),
            Err(e) => last_failure = e,
        }
    }
    // 3. Source stepping: ramp all independent sources from 0 to their values, adaptively.
    sys.x.fill(0.0);
    let mut f: f64 = 0.0;
    let mut df: f64 = 0.1;
    let mut first = true;
    let mut saved = sys.x.clone();
    while f < 1.0 {
        let next = (f + df).min(1.0);
        let init = if first {
            InitPhase::Junction
        } else {
            InitPhase::Normal
        };
        match sys.newton(&base(next, 0.0, &[]), init) {
            Ok(_) => {
                first = false;
                f = next;
                saved.copy_from_slice(&sys.x);
                df = (df * 1.5).min(0.25);
            }
            Err(e) => {
                last_failure = e;
                sys.x.copy_from_slice(&saved);
                df /= 4.0;
                if df < 1e-6 {
                    break;
                }
            }
        }
    }
    if f >= 1.0 {
        return Ok(());
    }
    Err(SimError::from_failure(
        "operating point",
        None,
        &last_failure,
        sys,
    ))
}

impl SimError {
    pub(crate) fn from_failure(
        what: &str,
        time: Option<f64>,
        f: &NewtonFailure,
        sys: &System,
    ) -> SimError {
        let at = time
            .map(|t| format!(" at t = {}", crate::analysis::fmt_time(t)))
            .unwrap_or_default();
        match f {
            NewtonFailure::Singular => SimError {
                message: format!("{what}{at}: singular matrix"),
                help: "check for floating nodes, loops of voltage sources/inductors, or a current \
                       source in series with a capacitor; add a large resistor to ground"
                    .into(),
                worst: sys.residual_report(),
                time,
                plots: Vec::new(),
            },
            NewtonFailure::NoConvergence { worst } => SimError {
                message: format!("{what}{at}: Newton iteration did not converge"),
                help: "try .nodeset near the expected solution, .options itl1=500 / itl4=50, a smaller \
                       tmax, relaxed reltol, or method=gear; check model parameters of the nodes listed"
                    .into(),
                worst: worst.clone(),
                time,
                plots: Vec::new(),
            },
        }
    }
}
