//! The MTJ (`N`) element in circuits: couples each device's macrospin and temperature to MNA.

use std::collections::HashMap;

use super::Device;
use crate::circuit::{Model, Options};

/// Build the circuit device for an `N` element.
pub fn build(
    name: String,
    _free: usize,
    _reference: usize,
    _card: &Model,
    _params: &HashMap<String, f64>,
    _options: &Options,
) -> Result<Box<dyn Device>, String> {
    Err(format!("{name}: MTJ elements are not yet supported inside circuit analyses"))
}
