//! Linear passives: resistor, capacitor (charge-integrated), inductor (branch current).

use super::{BulkLinear, Device, LoadCtx, Mode, Setup, TruncCtx};

/// R: a conductance between two nodes.
pub struct Resistor {
    name: String,
    a: usize,
    b: usize,
    g: f64,
    slots: [usize; 4],
}

impl Resistor {
    pub fn new(name: String, a: usize, b: usize, r: f64) -> Self {
        Resistor {
            name,
            a,
            b,
            g: 1.0 / r,
            slots: [0; 4],
        }
    }
}

impl Device for Resistor {
    fn name(&self) -> &str {
        &self.name
    }
    fn setup_equations(&mut self, _s: &mut Setup) -> Option<usize> {
        None
    }
    fn setup_slots(&mut self, s: &mut Setup) -> Result<(), String> {
        self.slots = s.conductance_slots(self.a, self.b);
        Ok(())
    }
    fn load(&self, ctx: &mut LoadCtx) {
        ctx.stamp_g(&self.slots, self.g);
    }
    fn bulk_linear(&self) -> Option<BulkLinear> {
        Some(BulkLinear::Conductance {
            a: self.a,
            b: self.b,
            g: self.g,
        })
    }
    fn quantities(&self, x: &[f64], _s: &[f64]) -> Vec<(&'static str, f64)> {
        let v = x[self.a] - x[self.b];
        vec![("i", v * self.g), ("p", v * v * self.g)]
    }
}

/// C: charge q = C·v integrated by the transient integrator; open in DC.
pub struct Capacitor {
    name: String,
    a: usize,
    b: usize,
    c: f64,
    ic: Option<f64>,
    state: usize,
    slots: [usize; 4],
    rhs: [usize; 2],
}

impl Capacitor {
    pub fn new(name: String, a: usize, b: usize, c: f64, ic: Option<f64>) -> Self {
        Capacitor {
            name,
            a,
            b,
            c,
            ic,
            state: 0,
            slots: [0; 4],
            rhs: [0; 2],
        }
    }
}

impl Device for Capacitor {
    fn name(&self) -> &str {
        &self.name
    }
    fn setup_equations(&mut self, _s: &mut Setup) -> Option<usize> {
        None
    }
    fn setup_slots(&mut self, s: &mut Setup) -> Result<(), String> {
        self.state = s.states(2);
        self.slots = s.conductance_slots(self.a, self.b);
        self.rhs = [s.rhs(self.a), s.rhs(self.b)];
        Ok(())
    }
    fn load(&self, ctx: &mut LoadCtx) {
        let v = if ctx.uic_start {
            self.ic.unwrap_or_else(|| ctx.v(self.a, self.b))
        } else {
            ctx.v(self.a, self.b)
        };
        ctx.state0[self.state] = self.c * v;
        if ctx.mode == Mode::Dc {
            return;
        }
        if ctx.uic_start {
            // t = 0 of a UIC run is not solved (as in ngspice): only the charge is set.
            ctx.state0[self.state + 1] = 0.0;
            return;
        }
        let (i, ag0) = ctx.integrate(self.state);
        let geq = ag0 * self.c;
        ctx.stamp_g(&self.slots, geq);
        ctx.stamp_i(self.rhs[0], self.rhs[1], i - geq * v);
    }
    fn truncate(&self, ctx: &TruncCtx) -> f64 {
        ctx.integ.truncation_step(&ctx.states, self.state, ctx)
    }
    fn bulk_linear(&self) -> Option<BulkLinear> {
        Some(BulkLinear::Capacitance {
            a: self.a,
            b: self.b,
            c: self.c,
            ic: self.ic,
            state: self.state,
        })
    }
    fn init_unknowns(&self, x: &mut [f64]) {
        // UIC start: show the capacitor's ic= across its terminals (ground stays 0).
        if let Some(ic) = self.ic {
            if self.a != 0 {
                x[self.a] = x[self.b] + ic;
            } else if self.b != 0 {
                x[self.b] = -ic;
            }
        }
    }
    fn quantities(&self, _x: &[f64], s: &[f64]) -> Vec<(&'static str, f64)> {
        vec![("i", s[self.state + 1]), ("q", s[self.state])]
    }
}

/// L: branch current unknown; flux φ = L·i integrated; short in DC.
pub struct Inductor {
    name: String,
    a: usize,
    b: usize,
    l: f64,
    ic: Option<f64>,
    branch: usize,
    state: usize,
    /// Slots: (a,br), (b,br), (br,a), (br,b), (br,br).
    slots: [usize; 5],
    rhs_br: usize,
}

impl Inductor {
    pub fn new(name: String, a: usize, b: usize, l: f64, ic: Option<f64>) -> Self {
        Inductor {
            name,
            a,
            b,
            l,
            ic,
            branch: 0,
            state: 0,
            slots: [0; 5],
            rhs_br: 0,
        }
    }
}

impl Device for Inductor {
    fn name(&self) -> &str {
        &self.name
    }
    fn setup_equations(&mut self, s: &mut Setup) -> Option<usize> {
        self.branch = s.new_equation(format!("{}#branch", self.name));
        Some(self.branch)
    }
    fn setup_slots(&mut self, s: &mut Setup) -> Result<(), String> {
        let br = self.branch;
        self.state = s.states(2);
        self.slots = [
            s.slot(self.a, br),
            s.slot(self.b, br),
            s.slot(br, self.a),
            s.slot(br, self.b),
            s.slot(br, br),
        ];
        self.rhs_br = s.rhs(br);
        Ok(())
    }
    fn load(&self, ctx: &mut LoadCtx) {
        // KCL: branch current leaves a, enters b. Branch equation: v(a) − v(b) − L di/dt = 0.
        ctx.mat[self.slots[0]] += 1.0;
        ctx.mat[self.slots[1]] -= 1.0;
        ctx.mat[self.slots[2]] += 1.0;
        ctx.mat[self.slots[3]] -= 1.0;
        let i = if ctx.uic_start {
            self.ic.unwrap_or(ctx.x[self.branch])
        } else {
            ctx.x[self.branch]
        };
        ctx.state0[self.state] = self.l * i;
        if ctx.mode == Mode::Dc {
            return;
        }
        if ctx.uic_start {
            // t = 0 of a UIC run is not solved (as in ngspice): only the flux is set.
            ctx.state0[self.state + 1] = 0.0;
            return;
        }
        let (v_l, ag0) = ctx.integrate(self.state);
        let req = ag0 * self.l;
        ctx.mat[self.slots[4]] -= req;
        ctx.rhs[self.rhs_br] += v_l - req * i;
    }
    fn truncate(&self, ctx: &TruncCtx) -> f64 {
        ctx.integ.truncation_step(&ctx.states, self.state, ctx)
    }
    fn init_unknowns(&self, x: &mut [f64]) {
        if let Some(ic) = self.ic {
            x[self.branch] = ic;
        }
    }
    fn quantities(&self, x: &[f64], _s: &[f64]) -> Vec<(&'static str, f64)> {
        vec![("i", x[self.branch])]
    }
}
