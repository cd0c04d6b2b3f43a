//! `mtjsim device MODEL_LIB SECTION EXPERIMENT`: single-MTJ characterisation.
//!
//! Loads the `mtj` model card of a `.lib` section, runs one experiment of
//! [`crate::devices::mtj::experiments`] and prints its summary; CSV and plots go to `--out`
//! (default `out/device/<section>/`). Every experiment has defaults that finish in well
//! under a minute on two cores.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::devices::mtj::experiments::{
    self, Ctx, HeatOpts, Report, RetentionOpts, RhOpts, RvOpts, SwitchOpts, TswOpts, Vary,
};
use crate::devices::mtj::params::MtjParams;
use crate::diag::Diagnostic;
use crate::netlist;

/// A number with optional SPICE suffix (`40n`, `1.5meg`).
fn si(s: &str) -> Result<f64, String> {
    netlist::number::parse(s.trim())
        .ok_or_else(|| format!("`{s}` is not a number (SPICE suffixes allowed: 40n, 2u, 1meg)"))
}

#[derive(Debug, Args)]
pub struct DeviceArgs {
    /// `.lib` file holding the model card(s), e.g. device_models/mtj.lib.
    pub model_lib: PathBuf,
    /// Section of the library (`.lib NAME` ... `.endl`).
    pub section: String,
    #[command(subcommand)]
    pub experiment: Experiment,
    /// Model inside the section [default: the only `mtj` model, else the one named like the section].
    #[arg(long, global = true)]
    pub model: Option<String>,
    /// Output directory [default: out/device/<section>/].
    #[arg(long, global = true)]
    pub out: Option<PathBuf>,
    /// Global Monte Carlo seed (per-device streams are derived from it).
    #[arg(long, global = true, default_value_t = 1)]
    pub seed: u64,
    /// Monte Carlo trials (devices) per point [default: per experiment].
    #[arg(long, global = true)]
    pub trials: Option<usize>,
    /// Time step (s) [default: derived from the card and drive, see docs/device-model.md].
    #[arg(long, global = true, value_parser = si)]
    pub dt: Option<f64>,
    /// Ambient temperature (K), overrides the card's `tamb`.
    #[arg(long, global = true, value_parser = si)]
    pub tamb: Option<f64>,
    /// Override the card's `noise` (1: Brown thermal field, 0: deterministic).
    #[arg(long, global = true)]
    pub noise: Option<u8>,
    /// Write SVG plots only (no PNG).
    #[arg(long, global = true)]
    pub no_png: bool,
    /// Worker threads [default: all cores]. Results do not depend on it.
    #[arg(long, global = true)]
    pub threads: Option<usize>,
}

/// The experiments.
#[derive(Debug, Subcommand)]
pub enum Experiment {
    /// Print the card's figures of merit (Δ, H_k,eff, Ic0, R_P, R_AP, τ_th, ...).
    Info,
    /// R–V hysteresis loop: triangular voltage sweep 0 → −vmax → +vmax → 0 from P.
    Rv {
        /// Peak voltage (V) [default: 1.6 × Ic0(AP→P) · R_AP, at most 1.5 V].
        #[arg(long, value_parser = si)]
        vmax: Option<f64>,
        /// Duration of the whole sweep (s).
        #[arg(long, value_parser = si, default_value = "200n")]
        period: f64,
        /// Samples written for the trace of trial 0.
        #[arg(long, default_value_t = 2000)]
        points: usize,
    },
    /// R–H loop: easy-axis field sweep 0 → −hmax → +hmax → 0 from P, read at a small bias.
    Rh {
        /// Peak field (A/m) [default: 1.5 H_k,eff].
        #[arg(long, value_parser = si)]
        hmax: Option<f64>,
        /// Duration of the whole sweep (s).
        #[arg(long, value_parser = si, default_value = "200n")]
        period: f64,
        /// Read bias (V).
        #[arg(long, value_parser = si, default_value = "10m")]
        vread: f64,
        #[arg(long, default_value_t = 2000)]
        points: usize,
    },
    /// Switching probability over pulse amplitude (× Ic0) × width, Monte Carlo.
    Switch {
        /// Smallest amplitude in units of Ic0 of the initial state.
        #[arg(long, default_value_t = 0.5)]
        amp_min: f64,
        #[arg(long, default_value_t = 4.0)]
        amp_max: f64,
        #[arg(long, default_value_t = 8)]
        n_amp: usize,
        /// Shortest pulse (s); widths are log-spaced.
        #[arg(long, value_parser = si, default_value = "2n")]
        w_min: f64,
        #[arg(long, value_parser = si, default_value = "100n")]
        w_max: f64,
        #[arg(long, default_value_t = 6)]
        n_w: usize,
        /// Start in AP (switch AP→P with positive pulses) instead of P.
        #[arg(long)]
        from_ap: bool,
        /// Voltage pulses of amplitude amp · Ic0 · R(initial state) instead of current pulses.
        #[arg(long)]
        voltage: bool,
        /// Relaxation time after the pulse before the state is read (s).
        #[arg(long, value_parser = si, default_value = "2n")]
        settle: f64,
    },
    /// Mean switching time vs constant current, thermally activated to precessional.
    Tsw {
        /// Smallest current in units of Ic0.
        #[arg(long, default_value_t = 0.7)]
        i_min: f64,
        #[arg(long, default_value_t = 3.0)]
        i_max: f64,
        #[arg(long, default_value_t = 12)]
        n_i: usize,
        /// Give up after this time (s); unswitched trials are reported as censored.
        #[arg(long, value_parser = si, default_value = "1u")]
        t_max: f64,
        #[arg(long)]
        from_ap: bool,
        /// Attempt time τ0 of the Néel–Brown reference curve (s).
        #[arg(long, value_parser = si, default_value = "1n")]
        tau0: f64,
    },
    /// Temperature step response to a current pulse and its decay, vs the analytic law.
    Heat {
        /// Pulse current in units of Ic0 (polarity that stabilises the initial state).
        #[arg(long, default_value_t = 2.0)]
        amp: f64,
        /// Pulse width (s) [default: 4 τ_th].
        #[arg(long, value_parser = si)]
        width: Option<f64>,
        /// Time after the pulse (s) [default: 4 τ_th].
        #[arg(long, value_parser = si)]
        tail: Option<f64>,
        #[arg(long)]
        from_ap: bool,
        #[arg(long, default_value_t = 2000)]
        points: usize,
    },
    /// Mean dwell time vs thermal stability Δ (set by scaling ku or the volume).
    Retention {
        #[arg(long, default_value_t = 1.0)]
        delta_min: f64,
        #[arg(long, default_value_t = 5.0)]
        delta_max: f64,
        #[arg(long, default_value_t = 5)]
        n_delta: usize,
        /// What to vary: `ku` (fixed volume) or `volume` (fixed H_k,eff).
        #[arg(long, default_value = "ku")]
        vary: String,
        /// Complete dwells recorded per device.
        #[arg(long, default_value_t = 3)]
        dwells: usize,
        /// Telegraph thresholds ±z on m·easy.
        #[arg(long, default_value_t = 0.5)]
        z_th: f64,
    },
    /// Throughput of the single-device stepper and of the parallel batch (device-steps/s).
    Bench {
        #[arg(long, default_value_t = 10_000)]
        devices: usize,
        #[arg(long, default_value_t = 2_000)]
        steps: usize,
    },
}

/// Load the card of `args`; on failure the rendered diagnostics.
fn load_card(args: &DeviceArgs) -> Result<MtjParams, String> {
    let (models, sources) = match netlist::load_models(&args.model_lib, Some(&args.section)) {
        Ok(x) => x,
        Err((diags, sources)) => return Err(diags.render(&sources)),
    };
    let mut mtj: Vec<_> = models
        .values()
        .filter(|m| m.kind.eq_ignore_ascii_case("mtj"))
        .collect();
    mtj.sort_by(|a, b| a.name.cmp(&b.name));
    let names = || {
        mtj.iter()
            .map(|m| m.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let model = if let Some(want) = &args.model {
        let want = want.to_ascii_lowercase();
        *mtj.iter()
            .find(|m| m.name.eq_ignore_ascii_case(&want))
            .ok_or_else(|| {
                format!(
                    "error: no mtj model `{want}` in section `{}`; available: {}",
                    args.section,
                    names()
                )
            })?
    } else if mtj.len() == 1 {
        mtj[0]
    } else if let Some(m) = mtj
        .iter()
        .find(|m| m.name.eq_ignore_ascii_case(&args.section))
    {
        m
    } else if mtj.is_empty() {
        return Err(format!(
            "error: section `{}` of {} holds no `mtj` model",
            args.section,
            args.model_lib.display()
        ));
    } else {
        return Err(format!(
            "error: section `{}` holds several mtj models ({}); pick one with --model",
            args.section,
            names()
        ));
    };
    let mut p = MtjParams::from_model(model)
        .map_err(|e| Diagnostic::error(e, Some(model.span)).render(&sources))?;
    if let Some(t) = args.tamb {
        if !(t > 0.0 && t < p.tc_k) {
            return Err(format!(
                "error: --tamb {t} must lie in (0, tc = {})",
                p.tc_k
            ));
        }
        p.tamb_k = t;
    }
    match args.noise {
        None => {}
        Some(0) => p.noise = false,
        Some(1) => p.noise = true,
        Some(n) => return Err(format!("error: --noise {n}: expected 0 or 1")),
    }
    Ok(p)
}

fn print_report(name: &str, rep: &Report) {
    println!("== {name}");
    for l in &rep.lines {
        println!("{l}");
    }
    for f in &rep.files {
        println!("wrote {}", f.display());
    }
}

/// Run and return the exit code: 0 ok, 1 bad input (card, options), 2 experiment failure.
pub fn run(args: &DeviceArgs) -> i32 {
    if let Some(n) = args.threads {
        // Only fails if a global pool exists already; the default pool is then used.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global();
    }
    let p = match load_card(args) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{}", e.trim_end());
            return 1;
        }
    };
    let ctx = Ctx {
        out_dir: args
            .out
            .clone()
            .unwrap_or_else(|| PathBuf::from("out/device").join(args.section.to_ascii_lowercase())),
        seed: args.seed,
        dt_s: args.dt,
        png: !args.no_png,
    };
    if let Some(dt) = args.dt
        && (dt.is_nan() || dt <= 0.0)
    {
        eprintln!("error: --dt must be > 0");
        return 1;
    }
    for l in experiments::summary(&p) {
        println!("{l}");
    }
    let trials = |d: usize| args.trials.unwrap_or(d);
    let (name, result) = match &args.experiment {
        Experiment::Info => return 0,
        Experiment::Rv {
            vmax,
            period,
            points,
        } => (
            "rv",
            experiments::rv(
                &p,
                &ctx,
                &RvOpts {
                    vmax_v: *vmax,
                    period_s: *period,
                    trials: trials(8),
                    points: *points,
                },
            ),
        ),
        Experiment::Rh {
            hmax,
            period,
            vread,
            points,
        } => (
            "rh",
            experiments::rh(
                &p,
                &ctx,
                &RhOpts {
                    hmax_a_per_m: *hmax,
                    period_s: *period,
                    vread_v: *vread,
                    trials: trials(8),
                    points: *points,
                },
            ),
        ),
        Experiment::Switch {
            amp_min,
            amp_max,
            n_amp,
            w_min,
            w_max,
            n_w,
            from_ap,
            voltage,
            settle,
        } => {
            if !(*w_min > 0.0 && w_max >= w_min && amp_max >= amp_min && *n_amp > 0 && *n_w > 0) {
                eprintln!("error: need 0 < w-min <= w-max, amp-min <= amp-max, n-amp, n-w > 0");
                return 1;
            }
            (
                "switch",
                experiments::switch_probability(
                    &p,
                    &ctx,
                    &SwitchOpts {
                        amp_min: *amp_min,
                        amp_max: *amp_max,
                        n_amp: *n_amp,
                        w_min_s: *w_min,
                        w_max_s: *w_max,
                        n_w: *n_w,
                        trials: trials(100),
                        from_ap: *from_ap,
                        voltage: *voltage,
                        settle_s: *settle,
                    },
                ),
            )
        }
        Experiment::Tsw {
            i_min,
            i_max,
            n_i,
            t_max,
            from_ap,
            tau0,
        } => (
            "tsw",
            experiments::tsw(
                &p,
                &ctx,
                &TswOpts {
                    i_min: *i_min,
                    i_max: *i_max,
                    n_i: *n_i,
                    trials: trials(64),
                    t_max_s: *t_max,
                    from_ap: *from_ap,
                    tau0_s: *tau0,
                },
            ),
        ),
        Experiment::Heat {
            amp,
            width,
            tail,
            from_ap,
            points,
        } => (
            "heat",
            experiments::heat_step(
                &p,
                &ctx,
                &HeatOpts {
                    amp: *amp,
                    width_s: *width,
                    tail_s: *tail,
                    from_ap: *from_ap,
                    points: *points,
                },
            ),
        ),
        Experiment::Retention {
            delta_min,
            delta_max,
            n_delta,
            vary,
            dwells,
            z_th,
        } => {
            let vary = match vary.to_ascii_lowercase().as_str() {
                "ku" => Vary::Ku,
                "volume" | "v" => Vary::Volume,
                other => {
                    eprintln!("error: --vary {other}: expected ku or volume");
                    return 1;
                }
            };
            if !(*delta_min > 0.0 && delta_max >= delta_min && *z_th > 0.0 && *z_th < 1.0) {
                eprintln!("error: need 0 < delta-min <= delta-max and 0 < z-th < 1");
                return 1;
            }
            (
                "retention",
                experiments::retention(
                    &p,
                    &ctx,
                    &RetentionOpts {
                        delta_min: *delta_min,
                        delta_max: *delta_max,
                        n_delta: *n_delta,
                        vary,
                        trials: trials(128),
                        dwells: *dwells,
                        z_th: *z_th,
                    },
                ),
            )
        }
        Experiment::Bench { devices, steps } => {
            let r = experiments::bench(&p, *devices, *steps, args.seed);
            println!("== bench");
            println!(
                "single device, 1 thread: {:.2} M device-steps/s",
                r.single_steps_per_s / 1e6
            );
            println!(
                "batch of {} devices x {} steps, {} threads: {:.2} M device-steps/s",
                r.devices,
                r.steps,
                r.threads,
                r.batch_steps_per_s / 1e6
            );
            return 0;
        }
    };
    match result {
        Ok(rep) => {
            print_report(name, &rep);
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}
