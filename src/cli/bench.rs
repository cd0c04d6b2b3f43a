//! `mtjsim bench crossbar`: mtjsim vs ngspice on generated N×N 1T1R crossbar reads.
//!
//! Both simulators run as child processes on the same netlist file, so wall time and peak
//! memory (max RSS from `wait4`) are measured the same way for both.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use clap::{Args, Subcommand};

use crate::generate::crossbar::{CrossbarSpec, netlist};
use crate::output::raw::read_raw;
use crate::testing::compare_plots;

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub which: BenchKind,
}

#[derive(Debug, Subcommand)]
pub enum BenchKind {
    /// N×N 1T1R crossbar read: mtjsim vs ngspice.
    Crossbar {
        /// Array sizes N.
        #[arg(long, value_delimiter = ',', default_value = "16,32,64")]
        sizes: Vec<usize>,
        /// Run ngspice only up to this N (it needs minutes at 64).
        #[arg(long, default_value_t = 64)]
        ngspice_max: usize,
        /// Where netlists and raw files go.
        #[arg(long, default_value = "out/bench")]
        out: PathBuf,
        /// Runs of each simulator per size, interleaved (mtjsim, ngspice, mtjsim, …); the
        /// table gives the fastest run and, in parentheses, the slowest, and the speed-up of
        /// each adjacent (mtjsim, ngspice) pair: the machines this was built on vary by up to
        /// 3× from minute to minute, and a pair run back to back sees the same state.
        #[arg(long, default_value_t = 3)]
        repeat: usize,
    },
}

/// Wall seconds, peak RSS bytes and success of one child process.
struct Measured {
    wall_s: f64,
    peak_rss: u64,
    ok: bool,
}

/// Several runs of one simulator on one netlist.
struct Runs {
    /// Wall seconds of each run, in the order they ran.
    walls: Vec<f64>,
    fastest_s: f64,
    slowest_s: f64,
    peak_rss: u64,
    ok: bool,
}

impl Runs {
    fn of(runs: &[Measured]) -> Runs {
        let walls: Vec<f64> = runs.iter().map(|m| m.wall_s).collect();
        Runs {
            fastest_s: walls.iter().copied().fold(f64::INFINITY, f64::min),
            slowest_s: walls.iter().copied().fold(0.0, f64::max),
            walls,
            peak_rss: runs.iter().map(|m| m.peak_rss).max().unwrap_or(0),
            ok: runs.iter().all(|m| m.ok),
        }
    }

    /// Speed-up of each run pair (`self` the reference, `ours` the runs interleaved with
    /// it): "median (min–max)", or the one ratio.
    fn pair_ratios(&self, ours: &Runs) -> String {
        let mut r: Vec<f64> = self
            .walls
            .iter()
            .zip(&ours.walls)
            .map(|(ng, us)| ng / us)
            .collect();
        r.sort_by(f64::total_cmp);
        match r.len() {
            0 => "–".into(),
            1 => format!("{:.1}×", r[0]),
            k => {
                let median = if k % 2 == 1 {
                    r[k / 2]
                } else {
                    0.5 * (r[k / 2 - 1] + r[k / 2])
                };
                format!("{median:.1}× ({:.1}–{:.1})", r[0], r[k - 1])
            }
        }
    }

    /// "fastest (slowest)" seconds, or just the one time.
    fn wall_text(&self) -> String {
        if self.slowest_s > self.fastest_s {
            format!("{:.2} ({:.2})", self.fastest_s, self.slowest_s)
        } else {
            format!("{:.2}", self.fastest_s)
        }
    }
}

/// Runs `cmd` with its stderr in the file `log` (a pipe nobody reads blocks the child once
/// its output fills the pipe's buffer).
fn measure(cmd: &mut Command, log: &Path) -> std::io::Result<Measured> {
    let start = Instant::now();
    let child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(log)?)
        .spawn()?;
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: rusage is plain old data; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall_s = start.elapsed().as_secs_f64();
    std::mem::forget(child);
    Ok(Measured {
        wall_s,
        peak_rss: usage.ru_maxrss as u64 * 1024,
        ok: rc == pid && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
    })
}

pub fn run(args: &BenchArgs) -> i32 {
    match &args.which {
        BenchKind::Crossbar {
            sizes,
            ngspice_max,
            out,
            repeat,
        } => crossbar(sizes, *ngspice_max, out, (*repeat).max(1)),
    }
}

fn crossbar(sizes: &[usize], ngspice_max: usize, out: &Path, repeat: usize) -> i32 {
    if let Err(e) = std::fs::create_dir_all(out) {
        eprintln!("error: cannot create {}: {e}", out.display());
        return 1;
    }
    let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("mtjsim"));
    let have_ngspice = crate::testing::ngspice_available();
    println!("{}", machine_probe("before"));
    println!();
    println!(
        "| N | unknowns | steps | Newton its | ngspice s | mtjsim s | speed-up | pair speed-ups | ngspice MB | mtjsim MB | max err (% range) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    let mut code = 0;
    for &n in sizes {
        let spec = CrossbarSpec::square(n);
        let net = out.join(format!("xbar{n}.cir"));
        if let Err(e) = std::fs::write(&net, netlist(&spec)) {
            eprintln!("error: {e}");
            return 1;
        }
        let ours_raw = out.join(format!("xbar{n}_mtjsim.raw"));
        let summary = out.join(format!("xbar{n}_mtjsim.json"));
        let ng_raw = out.join(format!("xbar{n}_ngspice.raw"));
        let (ours_log, ng_log) = (
            out.join(format!("xbar{n}_mtjsim.log")),
            out.join(format!("xbar{n}_ngspice.log")),
        );
        let run_ngspice = have_ngspice && n <= ngspice_max;
        let mut ours_runs = Vec::new();
        let mut ng_runs = Vec::new();
        for _ in 0..repeat {
            let ours = measure(
                Command::new(&exe)
                    .arg("run")
                    .arg(&net)
                    .arg("-r")
                    .arg(&ours_raw)
                    .arg("--summary-json")
                    .arg(&summary),
                &ours_log,
            );
            let Ok(ours) = ours else {
                eprintln!("error: cannot start {}", exe.display());
                return 1;
            };
            ours_runs.push(ours);
            if run_ngspice
                && let Ok(m) = measure(
                    Command::new("ngspice")
                        .arg("-b")
                        .arg("-r")
                        .arg(&ng_raw)
                        .arg(&net),
                    &ng_log,
                )
            {
                ng_runs.push(m);
            }
        }
        let ours = Runs::of(&ours_runs);
        let info: serde_json::Value = std::fs::read_to_string(&summary)
            .ok()
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default();
        let (mut ng_s, mut ng_mb, mut ratio, mut pairs, mut err) = (
            "–".to_string(),
            "–".to_string(),
            "–".to_string(),
            "–".to_string(),
            "–".to_string(),
        );
        if !ng_runs.is_empty() {
            let ng = Runs::of(&ng_runs);
            ng_s = ng.wall_text();
            ng_mb = format!("{:.0}", ng.peak_rss as f64 / 1e6);
            ratio = format!("{:.1}×", ng.fastest_s / ours.fastest_s);
            pairs = ng.pair_ratios(&ours);
            if let (Ok(a), Ok(b)) = (read_raw(&ng_raw), read_raw(&ours_raw))
                && let (Some(a), Some(b)) = (a.last(), b.last())
            {
                let c = compare_plots(a, b, None);
                let worst = c.per_vector.iter().map(|v| v.max_rel).fold(0.0, f64::max);
                err = format!("{:.3}", 100.0 * worst);
                if !c.passes(0.005, 0.03) || !c.missing.is_empty() {
                    code = 1;
                }
            }
        }
        println!(
            "| {n} | {} | {} | {} | {ng_s} | {} | {ratio} | {pairs} | {ng_mb} | {:.0} | {err} |",
            info["unknowns"],
            info["accepted_steps"],
            info["newton_iterations"],
            ours.wall_text(),
            ours.peak_rss as f64 / 1e6
        );
        if !ours.ok {
            eprintln!(
                "mtjsim failed on {} (its messages: {})",
                net.display(),
                ours_log.display()
            );
            code = 1;
        }
    }
    println!();
    println!("{}", machine_probe("after"));
    code
}

/// The card of `device_models/mtj.lib` whose kernel speed the docs quote for each machine
/// state (`mtjsim device device_models/mtj.lib pmtj_mem bench`).
const PROBE_CARD: &str = "pmtj_mem";

/// A compute-bound yardstick printed with the table: the MTJ stepper's device-steps per
/// second, one thread and a batch on all threads. This machine's speed changes by up to 3×
/// from hour to hour, and not by the same factor for every program; the yardstick says which
/// state a table saw (docs/performance.md quotes 16–17 M / 34–36 M for the fastest state
/// seen).
fn machine_probe(when: &str) -> String {
    let lib = Path::new(env!("CARGO_MANIFEST_DIR")).join("device_models/mtj.lib");
    let card = crate::netlist::load_models(&lib, Some(PROBE_CARD))
        .ok()
        .and_then(|(models, _)| models.get(PROBE_CARD).cloned())
        .and_then(|m| crate::devices::mtj::MtjParams::from_model(&m).ok());
    let (params, name) = match card {
        Some(p) => (p, PROBE_CARD),
        None => (
            crate::devices::mtj::MtjParams::default(),
            "the default card",
        ),
    };
    let r = crate::devices::mtj::experiments::bench(&params, 4000, 1000, 1);
    format!(
        "Machine probe ({when}): MTJ stepper on {name}, {:.1} M device-steps/s on one thread, \
         {:.1} M on {} threads ({} devices × {} steps).",
        r.single_steps_per_s / 1e6,
        r.batch_steps_per_s / 1e6,
        r.threads,
        r.devices,
        r.steps
    )
}
