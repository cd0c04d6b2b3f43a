//! `mtjsim check NETLIST`: parse and elaborate only.
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Netlist file (ngspice dialect).
    pub netlist: PathBuf,
}

pub fn run(_args: &CheckArgs) -> i32 {
    eprintln!("not yet implemented");
    2
}
