//! `mtjsim ipnet map|eval --circuit|report`: hardware mapping, circuit-in-the-loop inference
//! and the energy-per-inference report (dispatched from `ipnet.rs`, which owns the group).

use std::path::{Path, PathBuf};

use clap::Args;

use crate::mapping::circuit::load_card;
use crate::mapping::network::{Layer, LayerKind, NetworkFile};
use crate::mapping::pipeline::{EvalConfig, evaluate};
use crate::mapping::quantize::Scheme;
use crate::mapping::tile::{ArrayParams, map_layers, netlist};
use crate::mapping::trained::{
    FrontierAdapter, HwConfig, ROWS, evaluate_trained, neuron_step_netlist, pixel_tile,
};
use crate::netlist::number;
use crate::network::model::Network;
use crate::report;

/// A number with optional SPICE suffix.
fn si(s: &str) -> Result<f64, String> {
    number::parse(s.trim()).ok_or_else(|| format!("`{s}` is not a number (SPICE suffixes allowed)"))
}

#[derive(Debug, Args, Clone)]
pub struct MapArgs {
    /// Network: a trained IPNet checkpoint (path stem such as `weights/ipnet_frontier_11`, or
    /// its .json sidecar: IP layer simulated, backbone digital), a network JSON (see
    /// src/mapping/network.rs), or `default` = the documented untrained default network.
    #[arg(default_value = "default")]
    pub weights: String,
    /// Synapse MTJ card, LIB:SECTION.
    #[arg(long, default_value = "device_models/mtj.lib:pmtj_mem")]
    pub model_lib: String,
    /// IP-neuron MTJ card, LIB:SECTION.
    #[arg(long, default_value = "device_models/mtj.lib:ipn_neuron")]
    pub neuron_lib: String,
    /// Tile size: rows (inputs) and physical columns per crossbar [default: 32; trained
    /// checkpoints: 64].
    #[arg(long)]
    pub tile: Option<usize>,
    /// Bits per weight (multi-cell: cells per side; differential: bit slices) [default: 2;
    /// trained checkpoints: 6].
    #[arg(long)]
    pub bits: Option<u32>,
    /// Weight scheme [default: multi-cell; trained checkpoints: differential].
    #[arg(long, value_enum)]
    pub scheme: Option<Scheme>,
    /// Wire resistance per cell pitch (Ω); 0 = ideal wires.
    #[arg(long, default_value = "1", value_parser = si)]
    pub wire_r: f64,
    /// Wire capacitance per cell pitch (F).
    #[arg(long, default_value = "0.1f", value_parser = si)]
    pub wire_c: f64,
    /// Read voltage (V).
    #[arg(long, default_value = "0.1", value_parser = si)]
    pub v_read: f64,
    /// Read window per time step (s).
    #[arg(long, default_value = "1n", value_parser = si)]
    pub t_read: f64,
    /// Seed for samples, variation and noise.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output folder.
    #[arg(short, long, default_value = "out/ipnet")]
    pub out: PathBuf,
}

/// Default `--mc-sigma`: the untrained network, and trained checkpoints (whose points each
/// simulate all 256 pixel tiles, hence one point).
const MC_SIGMAS: [f64; 3] = [0.02, 0.05, 0.1];
const TRAINED_MC_SIGMAS: [f64; 1] = [0.1];

#[derive(Debug, Args, Clone)]
pub struct EvalArgs {
    #[command(flatten)]
    pub map: MapArgs,
    /// Samples run circuit-in-the-loop.
    #[arg(long, default_value_t = 2)]
    pub samples: usize,
    /// Relative σ of RA, TMR and Ku for the device-variation Monte Carlo, comma list
    /// [default: 0.02,0.05,0.1; trained checkpoints: 0.1 (each point simulates all 256
    /// pixel tiles on their own: ≈ 2.5 min per point and sample on 2 cores)].
    #[arg(long, value_delimiter = ',')]
    pub mc_sigma: Option<Vec<f64>>,
    /// Samples per Monte Carlo point (0 = no Monte Carlo).
    #[arg(long, default_value_t = 1)]
    pub mc_samples: usize,
    /// Turn off thermal noise in the neuron MTJs.
    #[arg(long)]
    pub no_noise: bool,
    /// Thermal noise in the synapse MTJs too (Δ = 45 memory cells read at 0.1 V: a small
    /// effect that costs ~5× simulation time because the step follows the precession).
    #[arg(long)]
    pub array_noise: bool,
    /// TOML file overriding the periphery / digital energy table.
    #[arg(long)]
    pub energy_table: Option<PathBuf>,
}

fn load_net(weights: &str, seed: u64, samples: usize) -> Result<NetworkFile, String> {
    if weights == "default" {
        Ok(NetworkFile::default_network(seed, samples.max(1)))
    } else {
        NetworkFile::load(Path::new(weights))
    }
}

/// A trained checkpoint (`DIR/NAME.json` + `DIR/NAME.safetensors`) named by its path stem
/// or one of its two files: (DIR, NAME).
pub fn trained_checkpoint(w: &str) -> Option<(PathBuf, String)> {
    let p = Path::new(w);
    let stem = if p
        .extension()
        .is_some_and(|e| e == "json" || e == "safetensors")
    {
        p.with_extension("")
    } else {
        p.to_path_buf()
    };
    let name = stem.file_name()?.to_str()?.to_string();
    let dir = stem
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    (dir.join(format!("{name}.json")).is_file()
        && dir.join(format!("{name}.safetensors")).is_file())
    .then_some((dir, name))
}

/// Scheme, bits and tile after defaults: a trained IPNet's 9-row input layer spans an 8×
/// range of weights (count bits 2^b), so it gets 6-bit differential weights (36 weights of
/// which the largest error is then 1/126 of the largest weight) on one 9 × 48 tile.
fn settings(m: &MapArgs, trained: bool) -> (Scheme, u32, usize) {
    let (s, b, t) = if trained {
        (Scheme::Differential, 6, 64)
    } else {
        (Scheme::MultiCell, 2, 32)
    };
    (
        m.scheme.unwrap_or(s),
        m.bits.unwrap_or(b),
        m.tile.unwrap_or(t),
    )
}

/// Reject values the mapping cannot use (instead of producing NaNs or panicking later).
fn validate(m: &MapArgs) -> Result<(), String> {
    let (_, bits, tile) = settings(m, trained_checkpoint(&m.weights).is_some());
    if tile == 0 {
        return Err("--tile must be at least 1".into());
    }
    if !(1..=16).contains(&bits) {
        return Err(format!("--bits {bits} is outside 1..=16"));
    }
    if !(m.v_read.is_finite() && m.v_read > 0.0) {
        return Err("--v-read must be a positive voltage".into());
    }
    if !(m.t_read.is_finite() && m.t_read > 4.0 * ArrayParams::default().t_edge) {
        return Err("--t-read must be longer than 200 ps (4 input edges)".into());
    }
    if !(m.wire_r >= 0.0 && m.wire_c >= 0.0) {
        return Err("--wire-r and --wire-c must be >= 0".into());
    }
    Ok(())
}

fn array_params(m: &MapArgs, noise: bool) -> ArrayParams {
    ArrayParams {
        v_read: m.v_read,
        wire_r: m.wire_r,
        wire_c: m.wire_c,
        t_read: m.t_read,
        noise,
        seed: m.seed,
        ..ArrayParams::default()
    }
}

/// The command line as run (for provenance).
pub fn command_line() -> String {
    std::env::args().collect::<Vec<_>>().join(" ")
}

pub fn map(m: &MapArgs) -> Result<(), String> {
    validate(m)?;
    if let Some((dir, name)) = trained_checkpoint(&m.weights) {
        return map_trained(m, &dir, &name);
    }
    let (scheme, bits, tile) = settings(m, false);
    let net = load_net(&m.weights, m.seed, 1)?;
    let (card, _) = load_card(&m.model_lib)?;
    let q = net.quantize(scheme, bits);
    let mapping = map_layers(&q, scheme, bits, tile)?;
    std::fs::create_dir_all(&m.out).map_err(|e| format!("{}: {e}", m.out.display()))?;
    let p = array_params(m, true);
    let prov = format!(
        "command: {}\nsynapse card: {}\nseed: {}",
        command_line(),
        m.model_lib,
        m.seed
    );
    let mut top =
        String::from("* mtjsim ipnet map: top level (each tile is an independent netlist)\n");
    for t in &mapping.tiles {
        // One read window with every input active: a worst-case read a designer can rerun.
        let windows = vec![vec![1u8; t.rows]];
        let name = format!("tile_l{}_r{}_c{}.cir", t.layer, t.row_block, t.col_block);
        std::fs::write(m.out.join(&name), netlist(t, &card, &p, &windows, &prov))
            .map_err(|e| format!("{name}: {e}"))?;
        top.push_str(&format!(
            "* {name}: layer {} rows {}..{} columns {}\n",
            t.layer,
            t.row0,
            t.row0 + t.rows,
            t.columns.len()
        ));
    }
    std::fs::write(m.out.join("top.txt"), top).map_err(|e| e.to_string())?;
    let summary = serde_json::json!({
        "network": net.name,
        "scheme": scheme.name(),
        "bits": bits,
        "tile": tile,
        "tiles": mapping.tiles.len(),
        "cells": mapping.n_cells(),
        "utilization": mapping.utilization(),
        "layers": net.layers.iter().enumerate().map(|(k, l)| serde_json::json!({
            "name": l.name, "out": l.out, "in": l.inp,
            "tiles": mapping.layer_tiles(k).count(),
            "cells": mapping.layer_tiles(k).map(|t| t.n_cells()).sum::<usize>(),
            "scale": q[k].scale, "q_max": q[k].q_max,
        })).collect::<Vec<_>>(),
    });
    let text = serde_json::to_string_pretty(&summary).map_err(|e| e.to_string())?;
    std::fs::write(m.out.join("mapping.json"), &text).map_err(|e| e.to_string())?;
    println!(
        "{} tiles, {} cells, utilization {:.1}% -> {}",
        mapping.tiles.len(),
        mapping.n_cells(),
        100.0 * mapping.utilization(),
        m.out.display()
    );
    Ok(())
}

pub fn eval(e: &EvalArgs, write_report: bool) -> Result<(), String> {
    let m = &e.map;
    validate(m)?;
    if e.samples == 0 {
        return Err("--samples must be at least 1".into());
    }
    if e.mc_sigma
        .iter()
        .flatten()
        .any(|s| !(s.is_finite() && *s >= 0.0))
    {
        return Err("--mc-sigma values must be >= 0".into());
    }
    if let Some((dir, name)) = trained_checkpoint(&m.weights) {
        return eval_trained(e, &dir, &name, write_report);
    }
    let (scheme, bits, tile) = settings(m, false);
    let net = load_net(&m.weights, m.seed, e.samples)?;
    let (syn, _) = load_card(&m.model_lib)?;
    let (neu, _) = load_card(&m.neuron_lib)?;
    let table = crate::energy::EnergyTable::load(e.energy_table.as_deref())?;
    let cfg = EvalConfig {
        scheme,
        bits,
        tile,
        array: array_params(m, e.array_noise),
        neuron_noise: !e.no_noise,
        samples: e.samples,
        seed: m.seed,
        mc_sigmas: e.mc_sigma.clone().unwrap_or_else(|| MC_SIGMAS.to_vec()),
        mc_samples: e.mc_samples,
    };
    let cmd = command_line();
    let prov = format!(
        "command: {cmd}\nsynapse card: {}\nneuron card: {}\nseed: {}",
        m.model_lib, m.neuron_lib, m.seed
    );
    let start = std::time::Instant::now();
    let res = evaluate(&net, &syn, &neu, &cfg, &prov, &|s| eprintln!("  {s}"))?;
    let wall = start.elapsed().as_secs_f64();
    std::fs::create_dir_all(&m.out).map_err(|x| format!("{}: {x}", m.out.display()))?;
    for (name, text) in &res.netlists {
        std::fs::write(m.out.join(name), text).map_err(|x| format!("{name}: {x}"))?;
    }
    let rep = report::Report::build(
        &net,
        &res,
        &table,
        &report::Provenance {
            command: cmd,
            synapse_card: m.model_lib.clone(),
            neuron_card: m.neuron_lib.clone(),
            seed: m.seed,
            network: if m.weights == "default" {
                "default (seeded random, built in)".into()
            } else {
                m.weights.clone()
            },
            wall_s: wall,
        },
    );
    emit(&rep, &m.out, write_report)
}

/// Load a trained checkpoint for the hardware path (calibration table relative to the
/// working directory, as the checkpoint records it).
fn load_trained(dir: &Path, name: &str) -> Result<Network, String> {
    let net = Network::load(dir, name, Path::new("."))?;
    if net.table.is_none() {
        return Err(format!(
            "{}/{name}: not an IPNet with a calibration table (the hardware path maps IP neurons)",
            dir.display()
        ));
    }
    Ok(net)
}

/// `ipnet map CHECKPOINT`: the per-pixel tile of the IP input layer and one neuron step.
fn map_trained(m: &MapArgs, dir: &Path, name: &str) -> Result<(), String> {
    let (scheme, bits, tile) = settings(m, true);
    let net = load_trained(dir, name)?;
    let ad = FrontierAdapter::from_network(&net)?;
    let q = ad.quantize(scheme, bits);
    let mapping = pixel_tile(std::slice::from_ref(&q), scheme, bits, tile)?;
    let (card, _) = load_card(&m.model_lib)?;
    let (neu, _) = load_card(&m.neuron_lib)?;
    std::fs::create_dir_all(&m.out).map_err(|e| format!("{}: {e}", m.out.display()))?;
    let prov = format!(
        "command: {}\ncheckpoint: {}/{name}\nsynapse card: {}\nseed: {}",
        command_line(),
        dir.display(),
        m.model_lib,
        m.seed
    );
    let p = array_params(m, true);
    let t = mapping.tiles.first().ok_or("empty mapping")?;
    // Worst-case read: every count bit and the bias row active.
    std::fs::write(
        m.out.join("tile_pixel.cir"),
        netlist(t, &card, &p, &[vec![1u8; t.rows]], &prov),
    )
    .map_err(|e| format!("tile_pixel.cir: {e}"))?;
    let table = net.table.as_deref().ok_or("no calibration table")?;
    // One neuron group at its largest drive, from ambient (a designer can rerun it).
    let x: Vec<f64> = (0..ad.channels)
        .map(|o| q.scale * (0..ROWS).map(|r| q.at(o, r).max(0)).sum::<i64>() as f64)
        .collect();
    let np = crate::devices::mtj::params::MtjParams::from_model(&neu)?;
    std::fs::write(
        m.out.join("ip_neurons_pixel.cir"),
        neuron_step_netlist(
            &neu,
            table.ic0_a,
            table.opts.step_s,
            true,
            m.seed,
            &vec![np.tamb_k; ad.channels],
            &x,
            "the 4 IP neurons of one pixel, one network step at the largest drive",
        ),
    )
    .map_err(|e| format!("ip_neurons_pixel.cir: {e}"))?;
    let px = ad.pixels();
    let summary = serde_json::json!({
        "network": format!("{}/{name}", dir.display()),
        "scheme": scheme.name(),
        "bits": bits,
        "tile": tile,
        "pixels": px,
        "tiles": px,
        "cells": px * mapping.n_cells(),
        "cells_per_pixel": mapping.n_cells(),
        "utilization": mapping.utilization(),
        "ip_neurons": px * ad.channels,
        "layers": [{
            "name": "ip_in (per pixel: 2 polarities x 4 count bits + bias -> IP drives)",
            "out": ad.channels, "in": ROWS, "scale_ic0": q.scale, "q_max": q.q_max,
            "weights_ic0": ad.weights,
            "max_quant_error_ic0": q.max_error(&ad.weights.iter().flatten().copied().collect::<Vec<_>>()),
        }],
        "digital": "conv1..conv3, fc1, head stay digital (see ipnet report)",
    });
    let text = serde_json::to_string_pretty(&summary).map_err(|e| e.to_string())?;
    std::fs::write(m.out.join("mapping.json"), &text).map_err(|e| e.to_string())?;
    println!(
        "{px} pixel tiles of {} cells ({} cells), {} IP neurons -> {}",
        mapping.n_cells(),
        px * mapping.n_cells(),
        px * ad.channels,
        m.out.display()
    );
    Ok(())
}

/// `ipnet report|eval --circuit CHECKPOINT`: the trained network with its IP layer on
/// simulated hardware (see src/mapping/trained.rs).
fn eval_trained(e: &EvalArgs, dir: &Path, name: &str, write_report: bool) -> Result<(), String> {
    let m = &e.map;
    let (scheme, bits, tile) = settings(m, true);
    let net = load_trained(dir, name)?;
    let (syn, _) = load_card(&m.model_lib)?;
    let (neu, _) = load_card(&m.neuron_lib)?;
    let table = crate::energy::EnergyTable::load(e.energy_table.as_deref())?;
    let a = &net.arch;
    let data = super::ipnet::test_set(a.classes, e.samples);
    let cfg = HwConfig {
        scheme,
        bits,
        tile,
        array: array_params(m, e.array_noise),
        neuron_noise: !e.no_noise,
        seed: m.seed,
        mc_sigmas: e
            .mc_sigma
            .clone()
            .unwrap_or_else(|| TRAINED_MC_SIGMAS.to_vec()),
        mc_samples: e.mc_samples,
    };
    let cmd = command_line();
    let ckpt = format!("{}/{name}", dir.display());
    let calib = a.calib_path.clone().unwrap_or_default();
    let prov = format!(
        "command: {cmd}\ncheckpoint: {ckpt}\ncalibration: {calib}\nsynapse card: {}\nneuron card: {}\nseed: {}",
        m.model_lib, m.neuron_lib, m.seed
    );
    let start = std::time::Instant::now();
    let (res, extra) = evaluate_trained(
        &net,
        &ckpt,
        &data,
        e.samples,
        &syn,
        &neu,
        &cfg,
        &prov,
        &|s| eprintln!("  {s}"),
    )?;
    let wall = start.elapsed().as_secs_f64();
    std::fs::create_dir_all(&m.out).map_err(|x| format!("{}: {x}", m.out.display()))?;
    for (f, text) in &res.netlists {
        std::fs::write(m.out.join(f), text).map_err(|x| format!("{f}: {x}"))?;
    }
    let px = a.size * a.size;
    // What Report::build needs of the network: the simulated IP layer (its inputs = the
    // 2 polarity channels of every pixel, for the memory baselines) and the time steps.
    let view = NetworkFile {
        name: name.to_string(),
        description: format!(
            "trained {:?} IPNet, IP layer at the {:?}, {} classes ({}); held-out synthetic gestures",
            a.model,
            a.placement
                .unwrap_or(crate::network::model::Placement::Frontier),
            a.classes,
            a.record
                .get("dataset")
                .and_then(|v| v.as_str())
                .unwrap_or("training data not recorded")
        ),
        inputs: 2 * px,
        steps: a.bins,
        layers: vec![Layer {
            name: "ip_in + IP neurons (per pixel: 9 rows -> 4 neurons)".into(),
            out: px * a.ip_channels,
            inp: 2 * px,
            kind: LayerKind::Ip,
            weights: Vec::new(),
        }],
        samples: Vec::new(),
        labels: Vec::new(),
    };
    let rep = report::Report::build(
        &view,
        &res,
        &table,
        &report::Provenance {
            command: cmd,
            synapse_card: m.model_lib.clone(),
            neuron_card: m.neuron_lib.clone(),
            seed: m.seed,
            network: format!("{ckpt} (calibration {calib})"),
            wall_s: wall,
        },
    )
    .with_trained(&extra, a, &table);
    emit(&rep, &m.out, write_report)
}

/// Print the summary and write the full report (`report`) or report.json only (`eval`).
fn emit(rep: &report::Report, out: &Path, write_report: bool) -> Result<(), String> {
    println!("{}", rep.summary_text());
    if write_report {
        rep.write(out)?;
        println!("report: {}", out.join("report.html").display());
    } else {
        rep.write_json(out)?;
    }
    Ok(())
}
