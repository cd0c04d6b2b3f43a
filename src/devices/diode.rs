//! SPICE level-1 junction diode (placeholder until the model lands).
use super::{Device, LoadCtx, Setup};
use crate::circuit::Model;

pub struct Diode {
    name: String,
}
impl Diode {
    pub fn new(name: String, _a: usize, _c: usize, _m: &Model, _area: f64, _off: bool) -> Result<Self, String> {
        Err(format!("{name}: diode not yet implemented"))
    }
}
impl Device for Diode {
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
