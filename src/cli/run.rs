//! `mtjsim run NETLIST`: simulate every analysis and write raw / csv / plots / a summary.

use std::path::PathBuf;

use clap::Args;

use crate::analysis::{self, SimOutput};
use crate::netlist;
use crate::output::{self, raw::RawFormat};
use crate::results::Plot;

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Netlist file (ngspice dialect).
    pub netlist: PathBuf,
    /// Write an ngspice-compatible raw file (binary unless --ascii).
    #[arg(short = 'r', long = "raw", value_name = "OUT.raw")]
    pub raw: Option<PathBuf>,
    /// Write the raw file in ngspice's ASCII format.
    #[arg(long)]
    pub ascii: bool,
    /// Write the last analysis's vectors as CSV.
    #[arg(long, value_name = "OUT.csv")]
    pub csv: Option<PathBuf>,
    /// Plot the last analysis's vectors (SVG or PNG by extension).
    #[arg(long, value_name = "OUT.svg|png")]
    pub plot: Option<PathBuf>,
    /// Write a machine-readable run summary (JSON).
    #[arg(long, value_name = "OUT.json")]
    pub summary_json: Option<PathBuf>,
}

/// Run and return the process exit code: 0 ok, 1 input errors, 2 simulation failure.
pub fn run(args: &RunArgs) -> i32 {
    let parsed = netlist::load(&args.netlist);
    if !parsed.diagnostics.items.is_empty() {
        eprint!("{}", parsed.diagnostics.render(&parsed.sources));
    }
    if parsed.diagnostics.has_errors() {
        return 1;
    }
    let mut circuit = parsed.circuit;
    if circuit.analyses.is_empty() {
        eprintln!("warning: the netlist has no analysis (.op, .dc or .tran); nothing to run");
        return 0;
    }
    if !circuit.steps.is_empty() {
        return run_stepped(args, &circuit);
    }
    crate::meas::ensure_saved(&mut circuit);
    let (plots, result) = match analysis::simulate(&circuit) {
        Ok(out) => (out.plots.clone(), Ok(out)),
        Err(e) => (e.plots.clone(), Err(e)),
    };
    let mut code = 0;
    if let Err(e) = write_outputs(args, &plots) {
        eprintln!("error: {e}");
        code = 1;
    }
    match result {
        Ok(out) => {
            if args.raw.is_none()
                && let Some(last) = plots.last()
            {
                print!("{}", output::table::final_values_table(last));
            }
            for m in crate::meas::measure_all(&circuit, &plots) {
                match m.value {
                    Ok(v) => println!("{:<20} = {v:e}", m.name),
                    Err(e) => println!("{:<20} = failed ({e})", m.name),
                }
            }
            println!("{}", summary_line(&out));
            if let Some(path) = &args.summary_json
                && let Err(e) = std::fs::write(path, summary_json(&out))
            {
                eprintln!("error: cannot write {}: {e}", path.display());
                code = 1;
            }
        }
        Err(e) => {
            eprint!("{e}");
            if !plots.is_empty() {
                eprintln!("  (waveforms up to the failure were written)");
            }
            code = 2;
        }
    }
    code
}

fn write_outputs(args: &RunArgs, plots: &[Plot]) -> Result<(), String> {
    // Output folders are created on demand so `-r out/x.raw` works on a fresh clone.
    for path in [&args.raw, &args.csv, &args.plot, &args.summary_json]
        .into_iter()
        .flatten()
    {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
    }
    if let Some(path) = &args.raw {
        let fmt = if args.ascii {
            RawFormat::Ascii
        } else {
            RawFormat::Binary
        };
        output::raw::write_raw(path, plots, fmt)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    let last = plots.last();
    if let (Some(path), Some(p)) = (&args.csv, last) {
        output::csv::write_csv(path, p)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    if let (Some(path), Some(p)) = (&args.plot, last) {
        output::plot::plot_waveforms(path, p, None)?;
    }
    Ok(())
}

fn summary_line(out: &SimOutput) -> String {
    let s = &out.stats;
    format!(
        "{} unknowns, {} steps ({} rejected), {} Newton iterations, {:.3} s",
        out.unknowns, s.accepted_steps, s.rejected_steps, s.newton_iterations, s.wall_seconds
    )
}

fn summary_json(out: &SimOutput) -> String {
    let s = &out.stats;
    serde_json::json!({
        "unknowns": out.unknowns,
        "matrix_nnz": out.matrix_nnz,
        "factor_nnz": out.factor_nnz,
        "accepted_steps": s.accepted_steps,
        "rejected_steps": s.rejected_steps,
        "newton_iterations": s.newton_iterations,
        "lu_factorizations": s.lu_factorizations,
        "lu_columns_recomputed": out.lu_columns_recomputed,
        "lu_family_reuses": out.lu_family_reuses,
        "device_bypasses": s.device_bypasses,
        "latent_devices": s.latent_devices,
        "chord_iterations": s.chord_iterations,
        "partial_assemblies": s.partial_assemblies,
        "wall_seconds": s.wall_seconds,
        "source_energy_j": out.source_energy_j,
    })
    .to_string()
}

/// A netlist with `.step`: run every point (in parallel, results in point order), write all
/// plots into one raw file (one plot per point, as ngspice does for repeated analyses) and
/// print the tidy table (parameters + `.meas` values) on stdout.
fn run_stepped(args: &RunArgs, nominal: &crate::circuit::Circuit) -> i32 {
    use rayon::prelude::*;
    let prepared = netlist::prepare(&args.netlist);
    let plan = crate::sweep::plan_for(nominal, &[], None, None);
    if let Some(msg) = plan.column_clash() {
        eprintln!("error: {msg}");
        return 1;
    }
    let results: Vec<_> = (0..plan.len())
        .into_par_iter()
        .with_max_len(1)
        .map(|id| crate::sweep::run_point(&prepared, &plan, &plan.point(id), true))
        .collect();
    let mut plots = Vec::new();
    let mut table = crate::sweep::store::header(&plan);
    let mut failed = 0;
    for (r, ps) in results {
        let label: Vec<String> = plan
            .axes
            .iter()
            .zip(&r.values)
            .map(|(a, v)| format!("{}={v:e}", a.name))
            .collect();
        for mut p in ps {
            p.title = format!("{} [step {}]", p.title, label.join(" "));
            plots.push(p);
        }
        if let Some(e) = &r.error {
            eprintln!("error: point {} ({}): {e}", r.id, label.join(" "));
            failed += 1;
        }
        table.push_str(&crate::sweep::store::csv_row(&plan, &r));
    }
    let mut code = 0;
    if let Err(e) = write_outputs(args, &plots) {
        eprintln!("error: {e}");
        code = 1;
    }
    print!("{table}");
    println!("{} stepped points, {failed} failed", plan.len());
    if failed > 0 { 2 } else { code }
}
