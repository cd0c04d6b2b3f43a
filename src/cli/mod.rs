//! Command-line interface: one file per subcommand; this file only dispatches.

use clap::{Parser, Subcommand};

pub mod bench;
pub mod check;
pub mod device;
pub mod ipnet_map;
pub mod run;

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
    /// IPNet on MTJ hardware: map, circuit-in-the-loop eval, report.
    Ipnet(ipnet_map::IpnetArgs),
}

/// Parse arguments and run; returns the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    match &cli.command {
        Command::Run(a) => run::run(a),
        Command::Check(a) => check::run(a),
        Command::Device(a) => device::run(a),
        Command::Bench(a) => bench::run(a),
        Command::Ipnet(a) => ipnet_map::run(a),
    }
}
