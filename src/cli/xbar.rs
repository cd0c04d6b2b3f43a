//! `mtjsim xbar …`: generate a crossbar operation, simulate it in-process and print its
//! figures of merit (energy, latency, read margin, write error rate; docs/crossbar.md).

use std::path::{Path, PathBuf};

use clap::Args;
use rayon::prelude::*;

use super::gencmd::ArrayArgs;
use crate::analysis::{SimOutput, simulate};
use crate::generate::array::{self, ArraySpec, Op};
use crate::generate::metrics::{WriteReport, read_report, write_report};
use crate::netlist::load_str;

#[derive(Debug, Args)]
pub struct XbarArgs {
    #[command(flatten)]
    pub array: ArrayArgs,
    /// Write: number of Monte Carlo trials (seeds seed, seed+1, …) for the write error rate.
    #[arg(long, default_value_t = 1)]
    pub trials: usize,
    /// Instead of a transient, solve the steady state of the write (`.op`) and draw each
    /// cell's temperature rise as a heat map (SVG/PNG): heat spreading by thermal coupling.
    #[arg(long, value_name = "FILE.svg")]
    pub heat_map: Option<PathBuf>,
}

/// Generate and simulate one spec.
pub fn simulate_spec(s: &ArraySpec) -> Result<SimOutput, String> {
    let text = array::netlist(s);
    let parsed = load_str("<generated crossbar>", &text, Path::new("."));
    if parsed.diagnostics.has_errors() {
        return Err(parsed.render_diagnostics());
    }
    simulate(&parsed.circuit).map_err(|e| e.to_string())
}

/// One write per seed `seed, seed+1, …` (thermal noise differs per seed), in parallel:
/// (report, unknowns, accepted steps, wall seconds) per trial, in seed order.
pub fn write_trials(
    s: &ArraySpec,
    trials: usize,
) -> Result<Vec<(WriteReport, usize, usize, f64)>, String> {
    (0..trials as u64)
        .into_par_iter()
        .map(|k| {
            let mut t = s.clone();
            t.seed = s.seed.wrapping_add(k);
            let out = simulate_spec(&t)?;
            let p = out.plots.last().ok_or("no transient")?;
            let w = write_report(&t, p, *out.source_energy_j.last().unwrap_or(&0.0))?;
            Ok((
                w,
                out.unknowns,
                out.stats.accepted_steps,
                out.stats.wall_seconds,
            ))
        })
        .collect()
}

pub fn run(args: &XbarArgs) -> i32 {
    match run_inner(args) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

fn run_inner(args: &XbarArgs) -> Result<(), String> {
    let mut s = args.array.spec(Path::new("."))?;
    let cells = s.rows_read() * s.cols;
    if let Some(path) = &args.heat_map {
        let Op::Write { .. } = s.op else {
            return Err("--heat-map needs --op write (the heated cell is --target)".into());
        };
        s.dc_op = true;
        let out = simulate_spec(&s)?;
        let p = out.plots.last().ok_or("no operating point")?;
        let mut z = vec![vec![0.0; s.cols]; s.rows];
        for (i, row) in z.iter_mut().enumerate() {
            for (j, c) in row.iter_mut().enumerate() {
                *c = p
                    .get(&format!("v(tn_{i}_{j})"))
                    .ok_or("no thermal nodes: use --thermal-coupling > 0 with a card with rth > 0")?
                    .data[0];
            }
        }
        println!("| row | temperature rise per column (K) |");
        println!("|---|---|");
        for (i, row) in z.iter().enumerate() {
            let cols: Vec<String> = row.iter().map(|v| format!("{v:.3}")).collect();
            println!("| {i} | {} |", cols.join(" "));
        }
        let xs: Vec<f64> = (0..s.cols).map(|j| j as f64).collect();
        let ys: Vec<f64> = (0..s.rows).map(|i| i as f64).collect();
        crate::output::plot::heatmap(
            path,
            &format!(
                "Steady temperature rise, {}x{} {}, G = {:e} W/K",
                s.rows, s.cols, s.section, s.thermal_g_w_per_k
            ),
            "column",
            "row",
            "T - Tamb (K)",
            &xs,
            &ys,
            &z,
        )?;
        eprintln!("wrote {}", path.display());
        return Ok(());
    }
    match s.op {
        Op::Read => {
            let out = simulate_spec(&s)?;
            let p = out.plots.last().ok_or("no transient")?;
            let r = read_report(&s, p, *out.source_energy_j.last().unwrap_or(&0.0))?;
            println!("| quantity | value |");
            println!("|---|---|");
            println!(
                "| array | {}x{} {:?}, {} |",
                s.rows, s.cols, s.cell, s.section
            );
            println!("| unknowns | {} |", out.unknowns);
            println!("| time steps (accepted) | {} |", out.stats.accepted_steps);
            println!("| wall (s) | {:.3} |", out.stats.wall_seconds);
            println!("| read energy, whole array (J) | {:.4e} |", r.energy_j);
            println!("| read energy per row (J) | {:.4e} |", r.energy_per_row_j);
            println!(
                "| latency, WL edge to 1 % settling (s) | {:.4e} |",
                r.latency_s
            );
            println!("| decision threshold (A) | {:.4e} |", r.threshold);
            println!(
                "| read margin: min I(1) - max I(0) (A) | {:.4e} ({:+.1} % of threshold) |",
                r.margin_a,
                100.0 * r.margin_rel
            );
            println!("| bit errors | {} of {cells} |", r.errors);
        }
        Op::Write { row, col } => {
            let trials = args.trials.max(1);
            let reps = write_trials(&s, trials)?;
            let fails = reps.iter().filter(|r| !r.0.switched).count();
            let tsw: Vec<f64> = reps.iter().filter_map(|r| r.0.t_switch_s).collect();
            let mean_tsw = tsw.iter().sum::<f64>() / tsw.len().max(1) as f64;
            let worst = reps.iter().fold(1.0f64, |a, r| a.min(r.0.worst_other));
            let max_other = reps.iter().fold(0.0f64, |a, r| a.max(r.0.max_other_a));
            let target = reps.iter().fold(0.0f64, |a, r| a.max(r.0.target_a));
            let energy = reps.iter().map(|r| r.0.energy_j).sum::<f64>() / reps.len() as f64;
            println!("| quantity | value |");
            println!("|---|---|");
            println!(
                "| array | {}x{} {:?}, {}, write ({row},{col}) to {} |",
                s.rows,
                s.cols,
                s.cell,
                s.section,
                if s.bits[row][col] { "0 (AP)" } else { "1 (P)" }
            );
            println!("| unknowns | {} |", reps[0].1);
            println!("| time steps (accepted, trial 0) | {} |", reps[0].2);
            println!("| wall per trial (s, trial 0) | {:.3} |", reps[0].3);
            println!(
                "| write error rate | {fails} / {trials} = {:.3} |",
                fails as f64 / trials as f64
            );
            println!(
                "| latency, data pulse to m_z crossing 0 (s, mean of {}) | {:.4e} |",
                tsw.len(),
                mean_tsw
            );
            println!("| energy per write (J, mean) | {energy:.4e} |");
            println!("| peak target current (A) | {target:.4e} |");
            println!("| peak current in any other cell (A) | {max_other:.4e} |");
            println!(
                "| disturb margin: worst state·m_z of other cells (1 = untouched) | {worst:.4} |"
            );
        }
    }
    Ok(())
}
