//! Independent voltage and current sources.

use super::waveform;
use super::{Device, LoadCtx, Setup, SourceEval};
use crate::circuit::Waveform;

/// V: branch current `i` enters `p`, flows through the source and leaves at `n`.
pub struct VSource {
    name: String,
    p: usize,
    n: usize,
    wave: Waveform,
    branch: usize,
    /// (p,br), (n,br), (br,p), (br,n)
    slots: [usize; 4],
    rhs_br: usize,
}

impl VSource {
    pub fn new(name: String, p: usize, n: usize, wave: Waveform) -> Self {
        VSource {
            name,
            p,
            n,
            wave,
            branch: 0,
            slots: [0; 4],
            rhs_br: 0,
        }
    }
    pub fn branch(&self) -> usize {
        self.branch
    }
}

impl Device for VSource {
    fn name(&self) -> &str {
        &self.name
    }
    fn setup_equations(&mut self, s: &mut Setup) -> Option<usize> {
        self.branch = s.new_equation(format!("{}#branch", self.name));
        Some(self.branch)
    }
    fn setup_slots(&mut self, s: &mut Setup) -> Result<(), String> {
        let br = self.branch;
        self.slots = [
            s.slot(self.p, br),
            s.slot(self.n, br),
            s.slot(br, self.p),
            s.slot(br, self.n),
        ];
        self.rhs_br = s.rhs(br);
        Ok(())
    }
    fn load(&self, ctx: &mut LoadCtx) {
        ctx.mat[self.slots[0]] += 1.0;
        ctx.mat[self.slots[1]] -= 1.0;
        ctx.mat[self.slots[2]] += 1.0;
        ctx.mat[self.slots[3]] -= 1.0;
        ctx.rhs[self.rhs_br] += ctx.source_eval().value(&self.wave);
    }
    fn breakpoints(&self, tstep: f64, tstop: f64, out: &mut Vec<f64>) {
        waveform::breakpoints(&self.wave, tstep, tstop, out);
    }
    fn set_dc(&mut self, value: f64) -> bool {
        self.wave.dc = value;
        true
    }
    fn dc_value(&self) -> Option<f64> {
        Some(self.wave.dc)
    }
    fn source_power(&self, x: &[f64], _at: &SourceEval) -> Option<f64> {
        Some(-(x[self.p] - x[self.n]) * x[self.branch])
    }
}

/// I: current flows from `p` through the source to `n` (it is drawn out of `p`).
pub struct ISource {
    name: String,
    p: usize,
    n: usize,
    wave: Waveform,
    rhs: [usize; 2],
}

impl ISource {
    pub fn new(name: String, p: usize, n: usize, wave: Waveform) -> Self {
        ISource {
            name,
            p,
            n,
            wave,
            rhs: [0; 2],
        }
    }
}

impl Device for ISource {
    fn name(&self) -> &str {
        &self.name
    }
    fn setup_equations(&mut self, _s: &mut Setup) -> Option<usize> {
        None
    }
    fn setup_slots(&mut self, s: &mut Setup) -> Result<(), String> {
        self.rhs = [s.rhs(self.p), s.rhs(self.n)];
        Ok(())
    }
    fn load(&self, ctx: &mut LoadCtx) {
        let i = ctx.source_eval().value(&self.wave);
        ctx.stamp_i(self.rhs[0], self.rhs[1], i);
    }
    fn breakpoints(&self, tstep: f64, tstop: f64, out: &mut Vec<f64>) {
        waveform::breakpoints(&self.wave, tstep, tstop, out);
    }
    fn set_dc(&mut self, value: f64) -> bool {
        self.wave.dc = value;
        true
    }
    fn dc_value(&self) -> Option<f64> {
        Some(self.wave.dc)
    }
    fn source_power(&self, x: &[f64], at: &SourceEval) -> Option<f64> {
        Some(at.value(&self.wave) * (x[self.n] - x[self.p]))
    }
}
