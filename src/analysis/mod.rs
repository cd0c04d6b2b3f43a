//! Analyses over the MNA system: operating point, DC sweep, transient.
//!
//! Owns the order in which analyses run and how failures are reported; the numerics of one
//! Newton solve live in [`system`], time stepping in [`tran`].

pub mod dc;
mod linear;
pub mod op;
pub mod record;
pub mod system;
pub mod tran;

use std::time::Instant;

use crate::circuit::{Analysis, Circuit};
use crate::results::{Plot, Stats, VecKind, Vector};
pub use system::System;

/// A simulation failure with what the user can try, and the waveforms computed so far.
#[derive(Debug, Clone)]
pub struct SimError {
    pub message: String,
    pub help: String,
    /// Unknowns with the largest residual / update, (name, magnitude).
    pub worst: Vec<(String, f64)>,
    pub time: Option<f64>,
    /// Plots completed before (and up to) the failure.
    pub plots: Vec<Plot>,
}

impl SimError {
    pub fn simple(message: impl Into<String>) -> SimError {
        SimError {
            message: message.into(),
            help: String::new(),
            worst: Vec::new(),
            time: None,
            plots: Vec::new(),
        }
    }
}

impl std::fmt::Display for SimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "error: {}", self.message)?;
        if !self.worst.is_empty() {
            writeln!(f, "  largest residuals / updates:")?;
            for (name, v) in &self.worst {
                let shown = name
                    .strip_suffix("#branch")
                    .map_or(format!("v({name})"), |e| format!("i({e})"));
                writeln!(f, "    {shown:<24} {v:.3e}")?;
            }
        }
        if !self.help.is_empty() {
            writeln!(f, "  = help: {}", self.help)?;
        }
        Ok(())
    }
}

/// Everything a run produced.
#[derive(Debug, Clone)]
pub struct SimOutput {
    pub plots: Vec<Plot>,
    pub stats: Stats,
    /// Energy delivered by independent sources in each transient (J), in analysis order.
    pub source_energy_j: Vec<f64>,
    pub unknowns: usize,
    /// Nonzeros of the MNA matrix and of its LU factors (fill-in).
    pub matrix_nnz: usize,
    pub factor_nnz: usize,
    /// LU columns recomputed over the run (partial refactorization's work).
    pub lu_columns_recomputed: usize,
    /// Factorizations that restarted from the factors kept for their integration
    /// coefficient (step size and order).
    pub lu_family_reuses: usize,
}

/// Format a time with an engineering prefix for messages.
pub fn fmt_time(t: f64) -> String {
    let a = t.abs();
    let (s, u) = if a == 0.0 {
        (1.0, "s")
    } else if a < 1e-12 {
        (1e15, "fs")
    } else if a < 1e-9 {
        (1e12, "ps")
    } else if a < 1e-6 {
        (1e9, "ns")
    } else if a < 1e-3 {
        (1e6, "µs")
    } else if a < 1.0 {
        (1e3, "ms")
    } else {
        (1.0, "s")
    };
    format!("{:.6} {u}", t * s)
}

/// Run every analysis of the circuit in netlist order.
pub fn simulate(circuit: &Circuit) -> Result<SimOutput, SimError> {
    let start = Instant::now();
    let mut sys = System::new(circuit).map_err(SimError::simple)?;
    let mut plots = Vec::new();
    let mut energies = Vec::new();
    // A failed analysis returns the plots of the analyses before it plus its partial plot.
    let finish = |_: &System, mut e: SimError, mut plots: Vec<Plot>| {
        plots.append(&mut e.plots);
        e.plots = plots;
        e
    };
    for analysis in &circuit.analyses {
        match analysis {
            Analysis::Op => {
                if let Err(e) = op::solve(&mut sys, &[], &circuit.nodeset) {
                    return Err(finish(&sys, e, plots));
                }
                let mut rec = record::Recorder::new(
                    &sys,
                    circuit,
                    "Operating Point",
                    Vector {
                        name: String::new(),
                        kind: VecKind::Voltage,
                        data: Vec::new(),
                    },
                )
                .map_err(SimError::simple)?;
                rec.record(&sys, 0.0);
                let mut plot = rec.finish();
                // ngspice's operating-point plot has no scale: the first vector plays that role.
                if !plot.vectors.is_empty() {
                    plot.scale = plot.vectors.remove(0);
                }
                plots.push(plot);
            }
            Analysis::Dc { sweeps } => match dc::run(&mut sys, circuit, sweeps) {
                Ok(p) => plots.push(p),
                Err(e) => return Err(finish(&sys, e, plots)),
            },
            Analysis::Tran { .. } => {
                let spec = tran::TranSpec::of(analysis).expect("a transient analysis");
                match tran::run(&mut sys, circuit, spec) {
                    Ok(r) => {
                        plots.push(r.plot);
                        energies.push(r.source_energy_j);
                    }
                    Err(e) => return Err(finish(&sys, e, plots)),
                }
            }
        }
    }
    let mut stats = sys.stats;
    stats.wall_seconds = start.elapsed().as_secs_f64();
    Ok(SimOutput {
        plots,
        stats,
        source_energy_j: energies,
        unknowns: sys.unknowns(),
        matrix_nnz: sys.nnz(),
        factor_nnz: sys.factor_nnz(),
        lu_columns_recomputed: sys.lu_columns_recomputed(),
        lu_family_reuses: sys.lu_family_reuses(),
    })
}
#[cfg(test)]
mod tests;
