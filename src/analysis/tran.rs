//! Transient analysis: variable-step trapezoidal (default) or Gear/BDF2 integration with
//! ngspice's local-truncation-error control, breakpoints at every source corner, and the
//! same default tolerances.

use super::record::Recorder;
use super::system::{NewtonParams, System};
use super::{SimError, op};
use crate::circuit::{Analysis, Circuit};
use crate::devices::{InitPhase, Mode, SourceEval};
use crate::results::{Plot, VecKind, Vector};

/// `.tran` parameters.
#[derive(Debug, Clone, Copy)]
pub struct TranSpec {
    pub tstep: f64,
    pub tstop: f64,
    pub tstart: f64,
    pub tmax: Option<f64>,
    pub uic: bool,
}

impl TranSpec {
    /// The spec of a `.tran` analysis (None for any other).
    pub fn of(analysis: &Analysis) -> Option<TranSpec> {
        match *analysis {
            Analysis::Tran {
                tstep,
                tstop,
                tstart,
                tmax,
                uic,
            } => Some(TranSpec {
                tstep,
                tstop,
                tstart,
                tmax,
                uic,
            }),
            _ => None,
        }
    }
}

/// Result of a transient run: the waveforms and the energy delivered by sources.
pub struct TranResult {
    pub plot: Plot,
    /// ∫ Σ p_source dt over the run (J), trapezoidal over accepted points.
    pub source_energy_j: f64,
}

/// Run a transient analysis.
pub fn run(sys: &mut System, circuit: &Circuit, spec: TranSpec) -> Result<TranResult, SimError> {
    let TranSpec {
        tstep,
        tstop,
        tstart,
        tmax,
        uic,
    } = spec;
    if !(tstep > 0.0 && tstop > 0.0) {
        return Err(SimError::simple(".tran needs TSTEP > 0 and TSTOP > 0"));
    }
    sys.tstep = tstep;
    sys.tstop = tstop;
    sys.uic = uic;
    let max_step = tmax
        .filter(|t| *t > 0.0)
        .unwrap_or_else(|| tstep.min((tstop - tstart) / 50.0))
        .min(sys.device_max_step());
    let delmin = 1e-11 * max_step;
    let scale = Vector {
        name: "time".into(),
        kind: VecKind::Time,
        data: Vec::new(),
    };
    let mut rec =
        Recorder::new(sys, circuit, "Transient Analysis", scale).map_err(SimError::simple)?;

    // Initial point.
    let ic: Vec<(usize, f64)> = circuit.ic.clone();
    if uic {
        sys.x.fill(0.0);
        for &(n, v) in &ic {
            sys.x[n] = v;
        }
        sys.init_uic_states();
    } else {
        op::solve_with(sys, &ic, &circuit.nodeset, true)?;
    }
    sys.fill_history();
    let at = |t: f64| SourceEval {
        mode: Mode::Tran,
        time: t,
        tstep,
        tstop,
        srcfact: 1.0,
    };
    let mut p_prev = sys.source_power(&at(0.0));
    let mut energy = 0.0;
    if tstart <= 0.0 {
        rec.record(sys, 0.0);
    }

    // Breakpoints: every source corner plus the stop time, sorted.
    let mut bps = Vec::new();
    for d in &sys.devices {
        d.breakpoints(tstep, tstop, &mut bps);
    }
    bps.push(0.0);
    bps.push(tstop);
    bps.retain(|t| *t >= 0.0 && *t <= tstop);
    bps.sort_by(f64::total_cmp);
    bps.dedup_by(|a, b| (*a - *b).abs() <= delmin.max(1e-15));
    let mut next_bp = 0usize;

    let mut time = 0.0;
    let mut delta = (tstop / 100.0).min(tstep) / 10.0;
    let mut save_delta = tstop / 50.0;
    let mut order = 1usize;
    let max_order = if sys.options.maxord >= 2 { 2 } else { 1 };
    sys.integ.delta_old = [max_step; 4];
    let mut first = true;
    sys.cap_lte.reset();
    let mut x_prev = sys.x.clone();
    // The point before the attempt (restored on rejection); swapped into `x_prev` on
    // acceptance, so no vector is allocated per step.
    let mut x_saved = sys.x.clone();

    while time < tstop * (1.0 - 1e-12) {
        // Breakpoint logic (ngspice dctran.c): after landing on a breakpoint restart at order 1
        // with a small step; otherwise shorten the step to land exactly on the next one.
        while next_bp < bps.len() && bps[next_bp] <= time + delmin {
            next_bp += 1;
            order = 1;
            let gap = bps.get(next_bp).map_or(tstop - time, |b| b - time);
            delta = delta.min(0.1 * save_delta.min(gap));
            if first {
                delta /= 10.0;
            }
            delta = delta.max(2.0 * delmin);
        }
        delta = delta.min(max_step);
        if let Some(&bp) = bps.get(next_bp)
            && time + delta > bp - delmin
        {
            save_delta = delta;
            delta = bp - time;
        }
        sys.rotate_states();
        sys.step_index += 1;
        sys.attempt = 0;
        let accepted = loop {
            sys.attempt += 1;
            sys.integ.set_step(delta, order);
            let t_new = time + delta;
            // The accepted point moves to `x_saved` (`sys.x` holds it: at a retry it was
            // restored), and the initial guess, a linear extrapolation of the last two
            // accepted points, is written over what `x_saved` held.
            std::mem::swap(&mut x_saved, &mut sys.x);
            if !first {
                let r = delta / sys.integ.delta_old[1];
                for ((p, x), xp) in sys.x.iter_mut().zip(&x_saved).zip(&x_prev) {
                    *p = x + r * (x - xp);
                }
            } else {
                sys.x.copy_from_slice(&x_saved);
            }
            if sys.attempt > 1 {
                // A rejected attempt wrote the present states; `rotate_states` already made
                // them equal to the last accepted point for the first attempt.
                sys.restore_present_states();
            }
            let params = NewtonParams {
                mode: Mode::Tran,
                time: t_new,
                // ngspice's NIiter never allows fewer than 100 iterations per point.
                max_iter: sys.options.itl4.max(100),
                srcfact: 1.0,
                diag_gmin: 0.0,
                pins: Vec::new(),
                sources_at_t0: false,
            };
            if let Err(failure) = sys.newton(&params, InitPhase::Normal) {
                // Newton failed: retry the point with an eighth of the step at order 1.
                sys.x.copy_from_slice(&x_saved);
                sys.stats.rejected_steps += 1;
                delta /= 8.0;
                order = 1;
                if delta < delmin {
                    let mut e = SimError::from_failure("transient", Some(t_new), &failure, sys);
                    e.message.push_str(" (timestep too small)");
                    break Err(e);
                }
                continue;
            }
            if first {
                break Ok((t_new, delta));
            }
            // ngspice CKTtrunc: the new step is at most twice the present one.
            let (bound, caps_order2) = sys.truncation();
            let mut new_delta = bound.min(2.0 * delta);
            if new_delta > 0.9 * delta {
                if order == 1 && max_order > 1 {
                    // Try order 2 (as ngspice does); keep it only if it allows a longer step.
                    new_delta = sys.truncation_order2(caps_order2).min(2.0 * delta);
                    order = if new_delta <= 1.05 * delta { 1 } else { 2 };
                }
                break Ok((t_new, new_delta));
            }
            sys.x.copy_from_slice(&x_saved);
            sys.stats.rejected_steps += 1;
            delta = new_delta;
            if delta < delmin {
                let e = SimError {
                    message: format!(
                        "transient at t = {}: timestep too small (truncation error control)",
                        super::fmt_time(t_new)
                    ),
                    help: "the circuit has a discontinuity or a very stiff element; try smaller \
                           tmax, method=gear, or larger trtol/reltol"
                        .into(),
                    worst: Vec::new(),
                    time: Some(t_new),
                    plots: Vec::new(),
                };
                break Err(e);
            }
        };
        match accepted {
            Ok((t_new, next_delta)) => {
                std::mem::swap(&mut x_prev, &mut x_saved);
                sys.accept_point();
                sys.integ.accept();
                sys.cap_lte.accept();
                sys.stats.accepted_steps += 1;
                let p_now = sys.source_power(&at(t_new));
                energy += 0.5 * (p_now + p_prev) * (t_new - time);
                p_prev = p_now;
                time = t_new;
                if time >= tstart {
                    rec.record(sys, time);
                }
                delta = next_delta;
                first = false;
            }
            Err(mut e) => {
                e.plots.push(rec.finish());
                return Err(e);
            }
        }
    }
    Ok(TranResult {
        plot: rec.finish(),
        source_energy_j: energy,
    })
}
