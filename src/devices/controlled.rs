//! Linear controlled sources E (VCVS), G (VCCS), F (CCCS), H (CCVS).

use super::{Device, LoadCtx, Setup};

fn control_branch(s: &Setup, owner: &str, vctrl: &str) -> Result<usize, String> {
    s.branches
        .get(vctrl)
        .copied()
        .ok_or_else(|| format!("{owner}: controlling source '{vctrl}' does not exist"))
}

/// E: v(p) − v(n) = gain·(v(cp) − v(cn)), with its own branch current.
pub struct Vcvs {
    name: String,
    nodes: [usize; 4],
    gain: f64,
    branch: usize,
    /// (p,br) (n,br) (br,p) (br,n) (br,cp) (br,cn)
    slots: [usize; 6],
}

impl Vcvs {
    pub fn new(name: String, p: usize, n: usize, cp: usize, cn: usize, gain: f64) -> Self {
        Vcvs {
            name,
            nodes: [p, n, cp, cn],
            gain,
            branch: 0,
            slots: [0; 6],
        }
    }
}

impl Device for Vcvs {
    fn name(&self) -> &str {
        &self.name
    }
    fn setup_equations(&mut self, s: &mut Setup) -> Option<usize> {
        self.branch = s.new_equation(format!("{}#branch", self.name));
        Some(self.branch)
    }
    fn setup_slots(&mut self, s: &mut Setup) -> Result<(), String> {
        let [p, n, cp, cn] = self.nodes;
        let br = self.branch;
        self.slots = [
            s.slot(p, br),
            s.slot(n, br),
            s.slot(br, p),
            s.slot(br, n),
            s.slot(br, cp),
            s.slot(br, cn),
        ];
        Ok(())
    }
    fn load(&self, ctx: &mut LoadCtx) {
        let m = &mut ctx.mat;
        m[self.slots[0]] += 1.0;
        m[self.slots[1]] -= 1.0;
        m[self.slots[2]] += 1.0;
        m[self.slots[3]] -= 1.0;
        m[self.slots[4]] -= self.gain;
        m[self.slots[5]] += self.gain;
    }
}

/// G: current gm·(v(cp) − v(cn)) flows from `p` through the source to `n`.
pub struct Vccs {
    name: String,
    nodes: [usize; 4],
    gm: f64,
    /// (p,cp) (p,cn) (n,cp) (n,cn)
    slots: [usize; 4],
}

impl Vccs {
    pub fn new(name: String, p: usize, n: usize, cp: usize, cn: usize, gm: f64) -> Self {
        Vccs {
            name,
            nodes: [p, n, cp, cn],
            gm,
            slots: [0; 4],
        }
    }
}

impl Device for Vccs {
    fn name(&self) -> &str {
        &self.name
    }
    fn setup_equations(&mut self, _s: &mut Setup) -> Option<usize> {
        None
    }
    fn setup_slots(&mut self, s: &mut Setup) -> Result<(), String> {
        let [p, n, cp, cn] = self.nodes;
        self.slots = [s.slot(p, cp), s.slot(p, cn), s.slot(n, cp), s.slot(n, cn)];
        Ok(())
    }
    fn load(&self, ctx: &mut LoadCtx) {
        let m = &mut ctx.mat;
        m[self.slots[0]] += self.gm;
        m[self.slots[1]] -= self.gm;
        m[self.slots[2]] -= self.gm;
        m[self.slots[3]] += self.gm;
    }
}

/// F: current gain·i(vctrl) flows from `p` through the source to `n`.
pub struct Cccs {
    name: String,
    p: usize,
    n: usize,
    vctrl: String,
    gain: f64,
    /// (p,ctrl) (n,ctrl)
    slots: [usize; 2],
}

impl Cccs {
    pub fn new(name: String, p: usize, n: usize, vctrl: String, gain: f64) -> Self {
        Cccs {
            name,
            p,
            n,
            vctrl,
            gain,
            slots: [0; 2],
        }
    }
}

impl Device for Cccs {
    fn name(&self) -> &str {
        &self.name
    }
    fn setup_equations(&mut self, _s: &mut Setup) -> Option<usize> {
        None
    }
    fn setup_slots(&mut self, s: &mut Setup) -> Result<(), String> {
        let ctrl = control_branch(s, &self.name, &self.vctrl)?;
        self.slots = [s.slot(self.p, ctrl), s.slot(self.n, ctrl)];
        Ok(())
    }
    fn load(&self, ctx: &mut LoadCtx) {
        ctx.mat[self.slots[0]] += self.gain;
        ctx.mat[self.slots[1]] -= self.gain;
    }
}

/// H: v(p) − v(n) = r·i(vctrl), with its own branch current.
pub struct Ccvs {
    name: String,
    p: usize,
    n: usize,
    vctrl: String,
    r: f64,
    branch: usize,
    /// (p,br) (n,br) (br,p) (br,n) (br,ctrl)
    slots: [usize; 5],
}

impl Ccvs {
    pub fn new(name: String, p: usize, n: usize, vctrl: String, r: f64) -> Self {
        Ccvs {
            name,
            p,
            n,
            vctrl,
            r,
            branch: 0,
            slots: [0; 5],
        }
    }
}

impl Device for Ccvs {
    fn name(&self) -> &str {
        &self.name
    }
    fn setup_equations(&mut self, s: &mut Setup) -> Option<usize> {
        self.branch = s.new_equation(format!("{}#branch", self.name));
        Some(self.branch)
    }
    fn setup_slots(&mut self, s: &mut Setup) -> Result<(), String> {
        let ctrl = control_branch(s, &self.name, &self.vctrl)?;
        let br = self.branch;
        self.slots = [
            s.slot(self.p, br),
            s.slot(self.n, br),
            s.slot(br, self.p),
            s.slot(br, self.n),
            s.slot(br, ctrl),
        ];
        Ok(())
    }
    fn load(&self, ctx: &mut LoadCtx) {
        let m = &mut ctx.mat;
        m[self.slots[0]] += 1.0;
        m[self.slots[1]] -= 1.0;
        m[self.slots[2]] += 1.0;
        m[self.slots[3]] -= 1.0;
        m[self.slots[4]] -= self.r;
    }
}
