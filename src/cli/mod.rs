//! Command-line interface: one file per subcommand; this file only dispatches.

use clap::{Parser, Subcommand};

pub mod bench;
pub mod check;
pub mod device;
pub mod gencmd;
pub mod ipnet;
pub mod ipnet_map;
pub mod plot;
pub mod run;
pub mod sweep;
pub mod xbar;

/// mtjsim — circuit simulator for spintronic (MTJ) neuromorphic hardware.
#[derive(Debug, Parser)]
#[command(name = "mtjsim", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run every analysis in a netlist and write waveforms.
    Run(run::RunArgs),
    /// Parse and elaborate a netlist; print diagnostics; exit non-zero on errors.
    Check(check::CheckArgs),
    /// Characterise one MTJ model card (R–V, R–H, switching probability, ...).
    Device(device::DeviceArgs),
    /// Benchmarks against ngspice (prints Markdown tables).
    Bench(bench::BenchArgs),
    /// Write an editable netlist (crossbar arrays; docs/crossbar.md).
    Gen(gencmd::GenArgs),
    /// Simulate a crossbar read/write and print energy, latency, margin, error rate.
    Xbar(xbar::XbarArgs),
    /// Parameter sweep / Monte Carlo: parallel, resumable, shardable (docs/sweeps.md).
    Sweep(sweep::SweepArgs),
    /// Join the output folders of sweep shards into one table.
    SweepMerge(sweep::MergeArgs),
    /// Line plot, heat map or histogram of a sweep table (SVG and PNG).
    Plot(plot::PlotArgs),
    /// IPNet: calibrate the MTJ IP neuron, train/evaluate networks on event gestures, map them
    /// onto crossbars, run circuit-in-the-loop and write the energy report.
    Ipnet(ipnet::IpnetArgs),
    /// Synthetic datasets (DVS gestures).
    Data(ipnet::DataArgs),
}

/// Parse arguments and run; returns the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    match &cli.command {
        Command::Run(a) => run::run(a),
        Command::Check(a) => check::run(a),
        Command::Device(a) => device::run(a),
        Command::Bench(a) => bench::run(a),
        Command::Gen(a) => gencmd::run(a),
        Command::Xbar(a) => xbar::run(a),
        Command::Sweep(a) => sweep::run(a),
        Command::SweepMerge(a) => sweep::merge(a),
        Command::Plot(a) => plot::run(a),
        Command::Ipnet(a) => ipnet::run(a),
        Command::Data(a) => ipnet::run_data(a),
    }
}
