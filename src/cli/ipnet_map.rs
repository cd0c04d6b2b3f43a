//! `mtjsim ipnet map|eval --circuit|report`: hardware mapping, circuit-in-the-loop inference
//! and the energy-per-inference report (dispatched from `ipnet.rs`, which owns the group).

use std::path::{Path, PathBuf};

use clap::Args;

use crate::mapping::circuit::load_card;
use crate::mapping::network::NetworkFile;
use crate::mapping::pipeline::{EvalConfig, evaluate};
use crate::mapping::quantize::Scheme;
use crate::mapping::tile::{ArrayParams, map_layers, netlist};
use crate::netlist::number;
use crate::report;

/// A number with optional SPICE suffix.
fn si(s: &str) -> Result<f64, String> {
    number::parse(s.trim()).ok_or_else(|| format!("`{s}` is not a number (SPICE suffixes allowed)"))
}

#[derive(Debug, Args, Clone)]
pub struct MapArgs {
    /// Network JSON (see src/mapping/network.rs); `default` = the documented default network.
    #[arg(default_value = "default")]
    pub weights: String,
    /// Synapse MTJ card, LIB:SECTION.
    #[arg(long, default_value = "device_models/mtj.lib:pmtj_mem")]
    pub model_lib: String,
    /// IP-neuron MTJ card, LIB:SECTION.
    #[arg(long, default_value = "device_models/mtj.lib:ipn_neuron")]
    pub neuron_lib: String,
    /// Tile size: rows (inputs) and physical columns per crossbar.
    #[arg(long, default_value_t = 32)]
    pub tile: usize,
    /// Bits per weight (multi-cell: cells per side; differential: bit slices).
    #[arg(long, default_value_t = 2)]
    pub bits: u32,
    #[arg(long, value_enum, default_value_t = Scheme::MultiCell)]
    pub scheme: Scheme,
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

#[derive(Debug, Args, Clone)]
pub struct EvalArgs {
    #[command(flatten)]
    pub map: MapArgs,
    /// Samples run circuit-in-the-loop.
    #[arg(long, default_value_t = 2)]
    pub samples: usize,
    /// Relative σ of RA, TMR and Ku for the Monte Carlo sweep (comma list; empty = none).
    #[arg(long, default_value = "0.02,0.05,0.1", value_delimiter = ',')]
    pub mc_sigma: Vec<f64>,
    /// Samples per Monte Carlo point.
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

/// Reject values the mapping cannot use (instead of producing NaNs or panicking later).
fn validate(m: &MapArgs) -> Result<(), String> {
    if m.tile == 0 {
        return Err("--tile must be at least 1".into());
    }
    if !(1..=16).contains(&m.bits) {
        return Err(format!("--bits {} is outside 1..=16", m.bits));
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
    let net = load_net(&m.weights, m.seed, 1)?;
    let (card, _) = load_card(&m.model_lib)?;
    let q = net.quantize(m.scheme, m.bits);
    let mapping = map_layers(&q, m.scheme, m.bits, m.tile)?;
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
        "scheme": m.scheme.name(),
        "bits": m.bits,
        "tile": m.tile,
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
    if e.mc_sigma.iter().any(|s| !(s.is_finite() && *s >= 0.0)) {
        return Err("--mc-sigma values must be >= 0".into());
    }
    let net = load_net(&m.weights, m.seed, e.samples)?;
    let (syn, _) = load_card(&m.model_lib)?;
    let (neu, _) = load_card(&m.neuron_lib)?;
    let table = crate::energy::EnergyTable::load(e.energy_table.as_deref())?;
    let cfg = EvalConfig {
        scheme: m.scheme,
        bits: m.bits,
        tile: m.tile,
        array: array_params(m, e.array_noise),
        neuron_noise: !e.no_noise,
        samples: e.samples,
        seed: m.seed,
        mc_sigmas: e.mc_sigma.clone(),
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
    println!("{}", rep.summary_text());
    if write_report {
        rep.write(&m.out)?;
        println!("report: {}", m.out.join("report.html").display());
    } else {
        rep.write_json(&m.out)?;
    }
    Ok(())
}
