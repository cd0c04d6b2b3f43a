//! `mtjsim sweep NETLIST` (parallel, resumable, shardable parameter sweeps and Monte Carlo)
//! and `mtjsim sweep-merge DIR…`. Simulation logic lives in `crate::sweep`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use clap::Args;

use crate::sweep::{self, Axis, PointResult, store};

#[derive(Debug, Args)]
pub struct SweepArgs {
    /// Netlist with `.step param` lines and/or `.meas` (ngspice dialect).
    pub netlist: PathBuf,
    /// Sweep a top-level .param linearly: NAME=START:STOP:N (N points, ends included), or
    /// a list NAME=V1,V2,... Replaces a `.step` of the same parameter. Repeatable.
    #[arg(long = "set", value_name = "NAME=START:STOP:N")]
    pub set: Vec<String>,
    /// Unit of a swept parameter for plot axes, NAME=UNIT (e.g. pw=s). Repeatable.
    #[arg(long = "unit", value_name = "NAME=UNIT")]
    pub unit: Vec<String>,
    /// Monte Carlo runs per point (default: `.options mcruns=`, else none). Each run draws
    /// its own gauss()/agauss()/unif() values and device noise seed.
    #[arg(long)]
    pub mc: Option<usize>,
    /// Base seed (default: `.options seed=`, else 0).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Worker threads (default: all cores).
    #[arg(short = 'j', long)]
    pub jobs: Option<usize>,
    /// Output folder (default: sweep_out/<netlist stem>, or .../shard-K-of-N when sharded).
    #[arg(short = 'o', long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Run only shard K of N (0-based; points with id % N == K). Defaults from
    /// SLURM_ARRAY_TASK_ID (minus SLURM_ARRAY_TASK_MIN) and SLURM_ARRAY_TASK_COUNT.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// Continue a killed sweep in the same --out: finished points are skipped.
    #[arg(long)]
    pub resume: bool,
    /// Do not draw the automatic plots.
    #[arg(long)]
    pub no_plots: bool,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Shard output folders of one sweep.
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Folder for the merged table (plan.json, points.jsonl, table.csv and plots).
    #[arg(short = 'o', long, value_name = "DIR", default_value = "sweep_merged")]
    pub out: PathBuf,
    /// Do not draw the automatic plots.
    #[arg(long)]
    pub no_plots: bool,
}

fn parse_set(s: &str) -> Result<Axis, String> {
    let usage = "expected NAME=START:STOP:N or NAME=V1,V2,... (e.g. pw=1n:10n:10)";
    let (name, spec) = s.split_once('=').ok_or(usage)?;
    let name = name.trim().to_ascii_lowercase();
    if !crate::netlist::params::is_ident(&name) {
        return Err(format!("--set {s}: '{name}' is not a parameter name"));
    }
    let num = |t: &str| {
        crate::netlist::number::parse(t.trim())
            .ok_or_else(|| format!("--set {s}: '{t}' is not a number"))
    };
    let values = if spec.contains(':') {
        let parts: Vec<&str> = spec.split(':').collect();
        if parts.len() != 3 {
            return Err(format!("--set {s}: {usage}"));
        }
        let (a, b) = (num(parts[0])?, num(parts[1])?);
        let n: usize = parts[2]
            .trim()
            .parse()
            .map_err(|_| format!("--set {s}: N must be a positive integer"))?;
        if n == 0 || n > crate::netlist::step_max_points() {
            return Err(format!(
                "--set {s}: N must be between 1 and {}",
                crate::netlist::step_max_points()
            ));
        }
        (0..n)
            .map(|k| {
                if n == 1 {
                    a
                } else {
                    a + (b - a) * k as f64 / (n - 1) as f64
                }
            })
            .collect()
    } else {
        spec.split(',').map(num).collect::<Result<Vec<_>, _>>()?
    };
    Ok(Axis {
        name,
        values,
        unit: String::new(),
    })
}

/// `K/N` from the flag or from Slurm's array variables.
fn shard(arg: Option<&str>) -> Result<Option<(usize, usize)>, String> {
    let parse = |k: &str, n: &str, what: &str| -> Result<(usize, usize), String> {
        let k: usize = k
            .trim()
            .parse()
            .map_err(|_| format!("{what}: bad shard index '{k}'"))?;
        let n: usize = n
            .trim()
            .parse()
            .map_err(|_| format!("{what}: bad shard count '{n}'"))?;
        if n == 0 || k >= n {
            return Err(format!("{what}: shard {k}/{n}: need 0 <= K < N"));
        }
        Ok((k, n))
    };
    if let Some(s) = arg {
        let (k, n) = s.split_once('/').ok_or("--shard: expected K/N, e.g. 0/4")?;
        return parse(k, n, "--shard").map(Some);
    }
    let env = |v: &str| std::env::var(v).ok();
    match (env("SLURM_ARRAY_TASK_ID"), env("SLURM_ARRAY_TASK_COUNT")) {
        (Some(id), Some(count)) => {
            let min: usize = env("SLURM_ARRAY_TASK_MIN")
                .and_then(|m| m.trim().parse().ok())
                .unwrap_or(0);
            let id: usize = id
                .trim()
                .parse()
                .map_err(|_| format!("SLURM_ARRAY_TASK_ID='{id}' is not a number"))?;
            parse(
                &id.saturating_sub(min).to_string(),
                &count,
                "SLURM_ARRAY_TASK_*",
            )
            .map(Some)
        }
        _ => Ok(None),
    }
}

/// Run `mtjsim sweep`; exit code 0 when every point ran (failed points are data), 1 on
/// input errors, 2 on output errors.
pub fn run(args: &SweepArgs) -> i32 {
    match run_inner(args) {
        Ok(()) => 0,
        Err((code, msg)) => {
            eprintln!("error: {msg}");
            code
        }
    }
}

fn run_inner(args: &SweepArgs) -> Result<(), (i32, String)> {
    let input = |e: String| (1, e);
    let (prepared, nominal, diags) =
        sweep::load(&args.netlist).map_err(|e| (1, e.trim_end().to_string()))?;
    if !diags.is_empty() {
        eprint!("{diags}");
    }
    if nominal.analyses.is_empty() {
        return Err(input(
            "the netlist has no analysis (.op, .dc or .tran)".into(),
        ));
    }
    let mut extra = args
        .set
        .iter()
        .map(|s| parse_set(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(input)?;
    let mut plan = sweep::plan_for(&nominal, &extra, args.mc, args.seed);
    for u in &args.unit {
        let (n, unit) = u
            .split_once('=')
            .ok_or_else(|| input(format!("--unit {u}: expected NAME=UNIT")))?;
        let n = n.trim().to_ascii_lowercase();
        match plan.axes.iter_mut().find(|a| a.name == n) {
            Some(a) => a.unit = unit.trim().to_string(),
            None => return Err(input(format!("--unit {u}: '{n}' is not swept"))),
        }
    }
    if let Some(msg) = plan.column_clash() {
        return Err(input(msg));
    }
    extra.clear();
    for a in &plan.axes {
        if !nominal_has_param(&prepared, &a.name) {
            return Err(input(format!(
                "'{}' is not a top-level .param of {}; add '.param {}=NOMINAL'",
                a.name,
                args.netlist.display(),
                a.name
            )));
        }
    }
    let shard = shard(args.shard.as_deref()).map_err(input)?;
    let out = args.out.clone().unwrap_or_else(|| {
        let stem = args
            .netlist
            .file_stem()
            .map_or("sweep".into(), |s| s.to_string_lossy().to_string());
        let base = Path::new("sweep_out").join(stem);
        match shard {
            Some((k, n)) => base.join(format!("shard-{k}-of-{n}")),
            None => base,
        }
    });
    let (log, done) = store::open(&out, &plan, args.resume).map_err(|e| (2, e))?;
    let ids = sweep::shard_ids(plan.len(), shard);
    let have: std::collections::HashSet<usize> = done.iter().map(|r| r.id).collect();
    let todo: Vec<usize> = ids.iter().copied().filter(|i| !have.contains(i)).collect();
    let jobs = args.jobs.unwrap_or_else(rayon::current_num_threads).max(1);
    let shard_txt = shard.map_or(String::new(), |(k, n)| format!(", shard {k}/{n}"));
    eprintln!(
        "sweep: {} points in the plan{shard_txt}: {} to run ({} already done), {jobs} thread(s) -> {}",
        plan.len(),
        todo.len(),
        ids.len() - todo.len(),
        out.display()
    );
    let progress = Progress::new(todo.len() as u64);
    let state = Mutex::new((log, Vec::<PointResult>::new(), None::<String>));
    let start = Instant::now();
    sweep::run_points(&prepared, &plan, &todo, jobs, &|r: PointResult| {
        let mut g = state.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = g.0.append(&plan, &r) {
            g.2.get_or_insert(format!("cannot write to {}: {e}", out.display()));
        }
        progress.tick(r.error.is_some());
        g.1.push(r);
    })
    .map_err(|e| (2, e))?;
    progress.finish();
    let elapsed = start.elapsed().as_secs_f64();
    let (_, new, werr) = state.into_inner().unwrap_or_else(|p| p.into_inner());
    if let Some(e) = werr {
        return Err((2, e));
    }
    let mut rows = done;
    rows.extend(new.iter().cloned());
    rows.sort_by_key(|r| r.id);
    store::write_table(&out.join("table.csv"), &plan, &rows).map_err(|e| (2, e))?;
    let failed = rows.iter().filter(|r| r.error.is_some()).count();
    if !new.is_empty() {
        let setup: f64 = new.iter().map(|r| r.setup_s).sum();
        let wall: f64 = new.iter().map(|r| r.wall_s).sum();
        eprintln!(
            "sweep: ran {} points in {elapsed:.2} s ({:.1} points/s on {jobs} thread(s)); per-point setup (elaboration) {:.2}% of point time",
            new.len(),
            new.len() as f64 / elapsed.max(1e-9),
            100.0 * setup / wall.max(1e-300)
        );
    }
    for r in rows.iter().filter(|r| r.error.is_some()).take(5) {
        eprintln!(
            "  point {} failed: {}",
            r.id,
            r.error.as_deref().unwrap_or("")
        );
    }
    if failed > 0 {
        eprintln!(
            "sweep: {failed} of {} points failed (status=failed in the table)",
            rows.len()
        );
    }
    println!("{}", out.join("table.csv").display());
    if shard.is_none() && !args.no_plots && rows.len() == plan.len() {
        match sweep::plots::auto_plots(&out, &plan, &rows) {
            Ok(paths) => paths.iter().for_each(|p| println!("{}", p.display())),
            Err(e) => eprintln!("warning: plots: {e}"),
        }
    }
    Ok(())
}

/// An override of a name no `.param` defines would silently change nothing.
fn nominal_has_param(prepared: &crate::netlist::Prepared, name: &str) -> bool {
    prepared.has_top_param(name)
}

/// A progress bar with ETA on a terminal; plain lines (every 5 s) otherwise.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    total: u64,
    count: Mutex<(u64, u64, Instant, Instant)>,
}

impl Progress {
    fn new(total: u64) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let b = indicatif::ProgressBar::new(total);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} points {per_sec} ETA {eta} {msg}",
            ) {
                b.set_style(style);
            }
            b
        });
        let now = Instant::now();
        Progress {
            bar,
            total,
            count: Mutex::new((0, 0, now, now)),
        }
    }
    fn tick(&self, failed: bool) {
        let mut c = self.count.lock().unwrap_or_else(|p| p.into_inner());
        c.0 += 1;
        c.1 += failed as u64;
        if let Some(b) = &self.bar {
            b.inc(1);
            if c.1 > 0 {
                b.set_message(format!("({} failed)", c.1));
            }
        } else if c.3.elapsed().as_secs_f64() >= 5.0 || c.0 == self.total {
            c.3 = Instant::now();
            let t = c.2.elapsed().as_secs_f64();
            let rate = c.0 as f64 / t.max(1e-9);
            let eta = (self.total - c.0) as f64 / rate.max(1e-9);
            eprintln!(
                "sweep: {}/{} points ({} failed), {rate:.1} points/s, ETA {eta:.0} s",
                c.0, self.total, c.1
            );
        }
    }
    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish();
        }
    }
}

/// Run `mtjsim sweep-merge`.
pub fn merge(args: &MergeArgs) -> i32 {
    match store::merge(&args.dirs, &args.out) {
        Ok((plan, rows, missing)) => {
            println!("{}", args.out.join("table.csv").display());
            eprintln!(
                "sweep-merge: {} of {} points from {} folder(s){}",
                rows.len(),
                plan.len(),
                args.dirs.len(),
                if missing > 0 {
                    format!("; {missing} missing (run the missing shards, or --resume them)")
                } else {
                    String::new()
                }
            );
            if missing == 0 && !args.no_plots {
                match sweep::plots::auto_plots(&args.out, &plan, &rows) {
                    Ok(paths) => paths.iter().for_each(|p| println!("{}", p.display())),
                    Err(e) => eprintln!("warning: plots: {e}"),
                }
            }
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}
