//! `mtjsim ipnet calibrate|train|eval|memory|table` and `mtjsim data gestures`: the IPNet
//! workflow of `network` (see docs/ipnet.md). `map`, `eval --circuit` and `report` are
//! dispatched to `ipnet_map.rs` (hardware mapping and the energy report, docs/report.md).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use clap::{Args, Subcommand};

use crate::devices::mtj::params::MtjParams;
use crate::diag::Diagnostic;
use crate::netlist;
use crate::network::calib::{CalibOpts, CalibTable, calibrate};
use crate::network::gestures::{self, GestureConfig};
use crate::network::model::{Arch, ModelKind, Network, Placement};
use crate::network::train::{self, Dataset, TrainOpts};

/// Default calibration table shipped with the weights.
pub const DEFAULT_CALIB: &str = "weights/ipn_calib.json";
/// Seeds of the held-out test sets (never used for training).
pub const TEST_SEED: u64 = 0x7e57;

#[derive(Debug, Args)]
pub struct IpnetArgs {
    #[command(subcommand)]
    pub cmd: IpnetCmd,
}

#[derive(Debug, Subcommand)]
pub enum IpnetCmd {
    /// Simulate the IP-neuron card and write the calibration table the layer uses.
    Calibrate {
        #[arg(long, default_value = "device_models/mtj.lib")]
        lib: PathBuf,
        #[arg(long, default_value = "ipn_neuron")]
        section: String,
        #[arg(long, default_value = DEFAULT_CALIB)]
        out: PathBuf,
        /// Monte Carlo devices per (drive, temperature) point.
        #[arg(long, default_value_t = 256)]
        trials: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Device time of one network step (s).
        #[arg(long, default_value_t = 10e-9)]
        step: f64,
        /// Directory for the calibration plots.
        #[arg(long, default_value = "plots")]
        plots: PathBuf,
    },
    /// Train one model on the synthetic gesture set and write weights/NAME.{safetensors,json}.
    Train(TrainArgs),
    /// Evaluate every checkpoint in --weights on held-out sets and print the accuracy table;
    /// with `--circuit DIR`, run NET circuit-in-the-loop instead and write DIR/report.json.
    Eval {
        #[arg(long = "weights", default_value = "weights")]
        weights_dir: PathBuf,
        /// Held-out samples per dataset.
        #[arg(long, default_value_t = 1100)]
        n: usize,
        /// Circuit-in-the-loop: folder for the simulated tile netlists and report.json.
        #[arg(long)]
        circuit: Option<PathBuf>,
        #[command(flatten)]
        hw: super::ipnet_map::EvalArgs,
    },
    /// Map a network onto 1T1MTJ crossbar tiles: one netlist per tile + mapping.json.
    Map(super::ipnet_map::MapArgs),
    /// Map, run circuit-in-the-loop on a few samples and write report.md/html/json.
    Report(super::ipnet_map::EvalArgs),
    /// Working-memory tasks on calibrated IP neurons; writes plots/ipn_<task>.svg.
    Memory {
        #[arg(value_enum)]
        task: MemTask,
        #[arg(long, default_value = DEFAULT_CALIB)]
        calib: PathBuf,
        #[arg(long, default_value = "plots")]
        plots: PathBuf,
        #[arg(long, default_value_t = 2000)]
        trials: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Retrain every model of the accuracy table (slow), then evaluate.
    Table {
        #[arg(long, default_value = "weights")]
        weights: PathBuf,
        #[arg(long, default_value_t = 1100)]
        n: usize,
        #[command(flatten)]
        budget: Budget,
    },
}

/// Which working-memory task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MemTask {
    NBack,
    Recall,
    Interference,
}

fn memory_task(
    task: MemTask,
    calib: &Path,
    dir: &Path,
    trials: usize,
    seed: u64,
) -> Result<(), String> {
    use crate::network::memory::{self, MemOpts};
    use crate::output::plot::line_chart;
    let t = CalibTable::load(calib)?;
    let o = MemOpts {
        trials,
        seed,
        ..MemOpts::default()
    };
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let (file, title, xl, yl, series) = match task {
        MemTask::NBack => {
            let ns: Vec<usize> = (1..=8).collect();
            let acc = memory::n_back(&t, &ns, &o);
            for (n, a) in ns.iter().zip(&acc) {
                println!("{n}-back: accuracy {:.1} %", 100.0 * a);
            }
            (
                "ipn_nback.svg",
                "n-back accuracy of IP neurons (humans: falls with n)",
                "n",
                "accuracy",
                vec![
                    (
                        "IP neurons".to_string(),
                        ns.iter().map(|&n| n as f64).zip(acc).collect(),
                    ),
                    ("chance".to_string(), vec![(1.0, 0.5), (8.0, 0.5)]),
                ],
            )
        }
        MemTask::Recall => {
            let mut series = Vec::new();
            for delay in [0usize, 2] {
                let r = memory::recall(&t, 10, delay, &o);
                println!(
                    "recall after delay {delay}: {}",
                    r.iter()
                        .map(|v| format!("{v:.2}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                );
                series.push((
                    format!("IP neurons, delay {delay} steps"),
                    r.iter()
                        .enumerate()
                        .map(|(i, &v)| ((i + 1) as f64, v))
                        .collect(),
                ));
            }
            (
                "ipn_recall.svg",
                "Free recall serial-position curve (humans: recency, which a delay removes)",
                "serial position",
                "P(recall)",
                series,
            )
        }
        MemTask::Interference => {
            let f: Vec<f64> = (0..=8).map(|k| k as f64 / 8.0).collect();
            let r = memory::interference(&t, &f, &o);
            for (fi, (fa, hit)) in f.iter().zip(&r) {
                println!(
                    "overlap {fi:.3}: false alarms {:.1} %, hits {:.1} %",
                    100.0 * fa,
                    100.0 * hit
                );
            }
            (
                "ipn_interference.svg",
                "Interference: false recognition of a lure vs its similarity to the studied item",
                "neurons shared with the studied item (fraction)",
                "rate",
                vec![
                    (
                        "false alarms (lure)".to_string(),
                        f.iter().cloned().zip(r.iter().map(|x| x.0)).collect(),
                    ),
                    (
                        "hits (studied item)".to_string(),
                        f.iter().cloned().zip(r.iter().map(|x| x.1)).collect(),
                    ),
                ],
            )
        }
    };
    let path = dir.join(file);
    line_chart(&path, title, xl, yl, &series)?;
    println!("wrote {}", path.display());
    Ok(())
}

/// Training budget (identical for every model of the table).
#[derive(Debug, Args, Clone)]
pub struct Budget {
    #[arg(long, default_value_t = 2400)]
    pub n_train: usize,
    #[arg(long, default_value_t = 6)]
    pub epochs: usize,
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    #[arg(long, default_value_t = 3e-3)]
    pub lr: f64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    #[arg(long, value_enum, default_value = "ipnet")]
    pub model: ModelKind,
    #[arg(long, value_enum, default_value = "frontier")]
    pub placement: Placement,
    /// 11 (gestures) or 22 (gestures + time mirrors).
    #[arg(long, default_value_t = 22)]
    pub classes: usize,
    #[arg(long, default_value = DEFAULT_CALIB)]
    pub calib: PathBuf,
    #[arg(long, default_value = "weights")]
    pub out: PathBuf,
    /// Checkpoint name [default: MODEL[_PLACEMENT]_CLASSES].
    #[arg(long)]
    pub name: Option<String>,
    #[command(flatten)]
    pub budget: Budget,
}

#[derive(Debug, Args)]
pub struct DataArgs {
    #[command(subcommand)]
    pub cmd: DataCmd,
}

#[derive(Debug, Subcommand)]
pub enum DataCmd {
    /// Write synthetic DVS gesture recordings as CSV (t_us,x,y,p) plus labels.csv.
    Gestures {
        #[arg(long, default_value_t = 22)]
        classes: usize,
        #[arg(long, default_value_t = 22)]
        n: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, default_value = "out/gestures")]
        out: PathBuf,
    },
}

/// Frame bins per sample (also fixes the mirror-exact binning of 1.2 s recordings).
pub const BINS: usize = 8;
/// Frame size (the 32×32 sensor pooled 2×2).
pub const SIZE: usize = 16;

fn load_card(lib: &Path, section: &str) -> Result<MtjParams, String> {
    let (models, sources) = match netlist::load_models(lib, Some(section)) {
        Ok(x) => x,
        Err((d, s)) => return Err(d.render(&s)),
    };
    let mut mtj: Vec<_> = models
        .values()
        .filter(|m| m.kind.eq_ignore_ascii_case("mtj"))
        .collect();
    mtj.sort_by(|a, b| a.name.cmp(&b.name));
    let m = mtj.first().ok_or_else(|| {
        format!(
            "section `{section}` of {} holds no mtj model",
            lib.display()
        )
    })?;
    MtjParams::from_model(m).map_err(|e| Diagnostic::error(e, Some(m.span)).render(&sources))
}

fn default_name(model: ModelKind, placement: Placement, classes: usize) -> String {
    let m = format!("{model:?}").to_lowercase();
    if model == ModelKind::Ipnet {
        format!("{m}_{}_{classes}", format!("{placement:?}").to_lowercase())
    } else {
        format!("{m}_{classes}")
    }
}

/// The held-out synthetic test set of `classes` classes (seed TEST_SEED + classes).
pub(crate) fn test_set(classes: usize, n: usize) -> Dataset {
    train::synthetic(
        classes,
        n,
        TEST_SEED + classes as u64,
        BINS,
        SIZE,
        &GestureConfig::default(),
    )
}

/// Train one model; returns (name, test accuracy line).
#[allow(clippy::too_many_arguments)]
fn train_one(
    model: ModelKind,
    placement: Placement,
    classes: usize,
    calib: &Path,
    out: &Path,
    name: Option<String>,
    b: &Budget,
    data: Option<&Dataset>,
) -> Result<String, String> {
    if classes != 11 && classes != 22 {
        return Err(format!("--classes {classes}: expected 11 or 22"));
    }
    let mut arch = Arch::new(model, placement, classes, BINS);
    let table = if model == ModelKind::Ipnet {
        let t = CalibTable::load(calib).map_err(|e| {
            format!("{e}\nhelp: run `mtjsim ipnet calibrate` first (writes {DEFAULT_CALIB})")
        })?;
        arch.calib_path = Some(calib.display().to_string());
        arch.ip_decay = Some(t.decay);
        arch.ip_step_s = Some(t.opts.step_s);
        Some(Arc::new(t))
    } else {
        None
    };
    let name = name.unwrap_or_else(|| default_name(model, placement, classes));
    let owned;
    let data = match data {
        Some(d) => d,
        None => {
            let t0 = Instant::now();
            owned = train::synthetic(
                classes,
                b.n_train,
                b.seed,
                BINS,
                SIZE,
                &GestureConfig::default(),
            );
            eprintln!(
                "generated {} training samples in {:.1} s",
                owned.len(),
                t0.elapsed().as_secs_f64()
            );
            &owned
        }
    };
    let mut net = Network::new(arch, table, b.seed).map_err(|e| e.to_string())?;
    let t0 = Instant::now();
    let losses = train::train(
        &mut net,
        data,
        &TrainOpts {
            epochs: b.epochs,
            batch: b.batch,
            lr: b.lr,
            seed: b.seed,
            progress: true,
        },
    )
    .map_err(|e| e.to_string())?;
    let secs = t0.elapsed().as_secs_f64();
    let rec = &mut net.arch.record;
    rec.insert("epoch_loss".into(), serde_json::json!(losses));
    rec.insert("train_seconds".into(), serde_json::json!(secs));
    rec.insert("n_train".into(), serde_json::json!(b.n_train));
    rec.insert("epochs".into(), serde_json::json!(b.epochs));
    rec.insert("batch".into(), serde_json::json!(b.batch));
    rec.insert("lr".into(), serde_json::json!(b.lr));
    rec.insert("seed".into(), serde_json::json!(b.seed));
    rec.insert(
        "dataset".into(),
        serde_json::json!(format!(
            "synthetic gestures, {classes} classes, data seed {}",
            b.seed
        )),
    );
    net.save(out, &name)?;
    Ok(format!(
        "{name}: {} params, trained {:.0} s, final epoch loss {:.3}",
        net.arch.param_count(),
        secs,
        losses.last().copied().unwrap_or(f32::NAN)
    ))
}

/// The models of the accuracy table: (kind, placement).
pub fn table_models() -> Vec<(ModelKind, Placement)> {
    vec![
        (ModelKind::Ipnet, Placement::Frontier),
        (ModelKind::Ipnet, Placement::Middle),
        (ModelKind::Ipnet, Placement::End),
        (ModelKind::Rnn, Placement::End),
        (ModelKind::Lstm, Placement::End),
        (ModelKind::Cnn2p1d, Placement::End),
        (ModelKind::Sum, Placement::End),
        (ModelKind::Sumpol, Placement::End),
    ]
}

fn eval_table(weights: &Path, n: usize) -> Result<(), String> {
    let t0 = Instant::now();
    let mut rows = Vec::new();
    for classes in [11usize, 22] {
        let data = test_set(classes, n);
        for (m, p) in table_models() {
            let name = default_name(m, p, classes);
            if !weights.join(format!("{name}.json")).exists() {
                rows.push(format!("| {name} | missing | | | | |"));
                continue;
            }
            let net = Network::load(weights, &name, Path::new("."))?;
            let r = train::evaluate(&net, &data, 64).map_err(|e| e.to_string())?;
            let (macs, ipu) = net.arch.inference_ops();
            rows.push(format!(
                "| {name} | {classes} | {:.2} % | {} | {} | {:.2} M MAC + {} IP updates |",
                100.0 * r.accuracy,
                r.direction_accuracy
                    .map(|d| format!("{:.1} %", 100.0 * d))
                    .unwrap_or_else(|| "–".into()),
                net.arch.param_count(),
                macs as f64 / 1e6,
                ipu
            ));
        }
    }
    println!("held-out synthetic test sets: {n} samples each (seed {TEST_SEED:#x} + classes)");
    println!("| model | classes | accuracy | fwd/mirror decision | params | inference ops |");
    println!("|---|---|---|---|---|---|");
    for r in rows {
        println!("{r}");
    }
    eprintln!("eval took {:.1} s", t0.elapsed().as_secs_f64());
    Ok(())
}

/// Plots of a calibration: heating per step, P_sw(x) per start temperature, and the
/// working-memory trace (temperature and threshold after a burst), device vs layer.
fn calib_plots(p: &MtjParams, t: &CalibTable, dir: &Path) -> Result<(), String> {
    use crate::output::plot::line_chart;
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let heat: Vec<(f64, f64)> = t
        .x_grid
        .iter()
        .cloned()
        .zip(t.heat_k.iter().cloned())
        .collect();
    let f1 = dir.join("ipn_calib_heat.svg");
    line_chart(
        &f1,
        &format!(
            "IP neuron heating per {:.0} ns step ({})",
            t.opts.step_s * 1e9,
            t.card
        ),
        "drive x (units of Ic0)",
        "temperature rise per step (K)",
        &[("device simulation".into(), heat)],
    )?;
    let mut series = Vec::new();
    for (j, th) in t.theta_grid_k.iter().enumerate().step_by(2) {
        series.push((
            format!("theta = {th:.0} K"),
            t.x_grid
                .iter()
                .cloned()
                .zip(t.p_sw[j].iter().cloned())
                .collect(),
        ));
    }
    let f2 = dir.join("ipn_calib_switch.svg");
    line_chart(
        &f2,
        "P_sw per step vs drive and start temperature (Monte Carlo)",
        "drive x (units of Ic0)",
        "switching probability",
        &series,
    )?;
    // Working memory: 3 strong pulses, then silence; the device's temperature vs the layer.
    let xs: Vec<f64> = (0..14).map(|k| if k < 3 { 2.2 } else { 0.0 }).collect();
    let dev = crate::network::calib::simulate_heating(p, t.opts.step_s, 0.0, &xs);
    let mut th = 0.0;
    let (mut lay, mut thr) = (Vec::new(), Vec::new());
    for (k, &x) in xs.iter().enumerate() {
        th = t.decay * th + t.heat(x).0;
        lay.push(((k + 1) as f64, th));
        thr.push(((k + 1) as f64, 10.0 * t.x50(th).0));
    }
    let f3 = dir.join("ipn_memory_trace.svg");
    line_chart(
        &f3,
        "Working memory: temperature after 3 pulses of 2.2 Ic0",
        "network step",
        "theta (K); 10 x threshold x50 (Ic0)",
        &[
            (
                "device theta (K)".into(),
                dev.iter()
                    .enumerate()
                    .map(|(k, &v)| ((k + 1) as f64, v))
                    .collect(),
            ),
            ("layer theta (K)".into(), lay),
            ("10 x x50(theta)".into(), thr),
        ],
    )?;
    for f in [f1, f2, f3] {
        println!("wrote {}", f.display());
    }
    Ok(())
}

pub fn run(a: &IpnetArgs) -> i32 {
    let r = match &a.cmd {
        IpnetCmd::Calibrate {
            lib,
            section,
            out,
            trials,
            seed,
            step,
            plots,
        } => (|| {
            let p = load_card(lib, section)?;
            let o = CalibOpts {
                trials: *trials,
                seed: *seed,
                step_s: *step,
                ..CalibOpts::default()
            };
            let t0 = Instant::now();
            let t = calibrate(&p, &format!("{} section {section}", lib.display()), &o)?;
            t.save(out)?;
            println!(
                "card {}: Ic0 = {:.3e} A, tau_th = {:.3e} s, step {:.3e} s, decay {:.4} (analytic {:.4})",
                t.card, t.ic0_a, t.tau_th_s, o.step_s, t.decay, t.decay_analytic
            );
            for (x, h) in t.x_grid.iter().zip(&t.heat_k).step_by(4) {
                println!("  heat: x = {x:.2} Ic0 -> +{h:.2} K per step");
            }
            for (j, th) in t.theta_grid_k.iter().enumerate() {
                println!(
                    "  switch: theta = {th:>4.0} K -> x50 = {:.3} Ic0 (MC {:.3}), width {:.3}",
                    t.x50[j], t.x50_raw[j], t.width[j]
                );
            }
            println!(
                "wrote {} ({:.1} s)",
                out.display(),
                t0.elapsed().as_secs_f64()
            );
            calib_plots(&p, &t, plots)
        })(),
        IpnetCmd::Train(t) => train_one(
            t.model,
            t.placement,
            t.classes,
            &t.calib,
            &t.out,
            t.name.clone(),
            &t.budget,
            None,
        )
        .map(|s| println!("{s}")),
        IpnetCmd::Eval {
            weights_dir,
            n,
            circuit,
            hw,
        } => match circuit {
            None => eval_table(weights_dir, *n),
            Some(dir) => {
                let mut hw = hw.clone();
                hw.map.out = dir.clone();
                super::ipnet_map::eval(&hw, false)
            }
        },
        IpnetCmd::Map(m) => super::ipnet_map::map(m),
        IpnetCmd::Report(e) => super::ipnet_map::eval(e, true),
        IpnetCmd::Memory {
            task,
            calib,
            plots,
            trials,
            seed,
        } => memory_task(*task, calib, plots, *trials, *seed),
        IpnetCmd::Table { weights, n, budget } => (|| {
            for classes in [11usize, 22] {
                let data = train::synthetic(
                    classes,
                    budget.n_train,
                    budget.seed,
                    BINS,
                    SIZE,
                    &GestureConfig::default(),
                );
                for (m, p) in table_models() {
                    let s = train_one(
                        m,
                        p,
                        classes,
                        Path::new(DEFAULT_CALIB),
                        weights,
                        None,
                        budget,
                        Some(&data),
                    )?;
                    println!("{s}");
                }
            }
            eval_table(weights, *n)
        })(),
    };
    match r {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

pub fn run_data(a: &DataArgs) -> i32 {
    let DataCmd::Gestures {
        classes,
        n,
        seed,
        out,
    } = &a.cmd;
    let r = (|| -> Result<(), String> {
        if *classes != 11 && *classes != 22 {
            return Err(format!("--classes {classes}: expected 11 or 22"));
        }
        std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
        let cfg = GestureConfig::default();
        let mut labels = String::from("file,label,name\n");
        for i in 0..*n {
            let (l, s) = gestures::sample(*classes, *seed, i as u64, &cfg);
            let file = format!("sample_{i:05}.csv");
            let mut csv = String::from("t_us,x,y,p\n");
            for e in &s.events {
                csv.push_str(&format!("{},{},{},{}\n", e.t_us, e.x, e.y, e.on as u8));
            }
            std::fs::write(out.join(&file), csv).map_err(|e| format!("{file}: {e}"))?;
            let base = gestures::CLASS_NAMES[l % gestures::N_BASE];
            let name = if l >= gestures::N_BASE {
                format!("{base}_mirrored")
            } else {
                base.to_string()
            };
            labels.push_str(&format!("{file},{l},{name}\n"));
        }
        std::fs::write(out.join("labels.csv"), labels).map_err(|e| e.to_string())?;
        println!(
            "wrote {n} recordings ({classes} classes, seed {seed}) to {}",
            out.display()
        );
        Ok(())
    })();
    match r {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}
