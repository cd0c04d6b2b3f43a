//! `mtjsim run NETLIST`: simulate and write raw / csv / plots.
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Netlist file (ngspice dialect).
    pub netlist: PathBuf,
}

pub fn run(_args: &RunArgs) -> i32 {
    eprintln!("not yet implemented");
    2
}
