//! `mtjsim device MODEL_LIB SECTION EXPERIMENT`: single-MTJ characterisation.
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct DeviceArgs {
    /// `.lib` file holding the model card.
    pub model_lib: PathBuf,
}

pub fn run(_args: &DeviceArgs) -> i32 {
    eprintln!("not yet implemented");
    2
}
