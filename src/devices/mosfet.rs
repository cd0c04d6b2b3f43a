//! Level-1 MOSFET (placeholder until the model lands).
use super::{Device, LoadCtx, Setup};
use crate::circuit::Model;

/// Instance geometry (m, m²) and multiplier.
#[derive(Debug, Clone, Copy)]
pub struct Geometry {
    pub w: f64,
    pub l: f64,
    pub ad: f64,
    pub as_: f64,
    pub pd: f64,
    pub ps: f64,
    pub m: f64,
}

pub struct Mosfet {
    name: String,
}
impl Mosfet {
    #[allow(clippy::too_many_arguments)]
    pub fn new(name: String, _d: usize, _g: usize, _s: usize, _b: usize, _m: &Model, _geom: Geometry, _off: bool) -> Result<Self, String> {
        Err(format!("{name}: mosfet not yet implemented"))
    }
}
impl Device for Mosfet {
    fn name(&self) -> &str {
        &self.name
    }
    fn setup_equations(&mut self, _s: &mut Setup) -> Option<usize> {
        None
    }
    fn setup_slots(&mut self, _s: &mut Setup) -> Result<(), String> {
        Ok(())
    }
    fn load(&self, _ctx: &mut LoadCtx) {}
}
