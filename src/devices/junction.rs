//! Shared pieces of the semiconductor models: ngspice's physical constants, the silicon
//! band-gap / junction-potential temperature laws (`diotemp.c`, `mos1temp.c`) and the
//! depletion charge of a pn junction with the forward-bias (FC) linearisation.

/// Boltzmann constant (J/K), as ngspice's `const.h`.
pub const BOLTZ: f64 = 1.380_648_52e-23;
/// Elementary charge (C), as ngspice's `const.h`.
pub const CHARGE: f64 = 1.602_176_620_8e-19;
/// k/q (V/K).
pub const KOVERQ: f64 = BOLTZ / CHARGE;
/// 0 °C in kelvin.
pub const CTOK: f64 = 273.15;
/// ngspice's reference temperature, 27 °C (K).
pub const REFTEMP: f64 = 300.15;
/// Vacuum permittivity (F/m) as ngspice writes it.
pub const EPS0: f64 = 8.854_214_871e-12;
/// Largest argument ngspice passes to `exp` in the MOS junction diodes.
pub const MAX_EXP_ARG: f64 = 709.0;

/// Silicon band gap (eV) at temperature `t` (K).
#[inline]
pub fn egfet(t: f64) -> f64 {
    1.16 - (7.02e-4 * t * t) / (t + 1108.0)
}

/// ngspice's `pbfact`: the band-gap part of a junction potential at temperature `t`.
#[inline]
pub fn pbfact(t: f64) -> f64 {
    let vt = KOVERQ * t;
    let arg = -egfet(t) / (2.0 * BOLTZ * t) + 1.115_087_7 / (BOLTZ * (REFTEMP + REFTEMP));
    -2.0 * vt * (1.5 * (t / REFTEMP).ln() + CHARGE * arg)
}

/// Junction potential and zero-bias capacitance temperature scaling (ngspice's default
/// `tlevc = 0` law, shared by the diode and MOS1 junctions).
///
/// Returns `(pb(t), cap_factor)` for a junction with nominal potential `pb` measured at
/// `tnom`; `cap_factor` multiplies a zero-bias capacitance with grading coefficient `m`.
/// At `t == tnom` this is exactly `(pb, 1)`.
pub fn junction_temp(pb: f64, m: f64, tnom: f64, t: f64) -> (f64, f64) {
    let (pbo, gmaold) = pb_nominal(pb, tnom);
    let tpb = pb_at(pbo, t);
    (tpb, cap_factor(pbo, gmaold, tpb, m, tnom, t))
}

/// `pbo` (potential extrapolated to the reference temperature) and `gmaold` of a junction
/// whose potential is `pb` at `tnom`.
#[inline]
pub fn pb_nominal(pb: f64, tnom: f64) -> (f64, f64) {
    let fact1 = tnom / REFTEMP;
    let pbo = (pb - pbfact(tnom)) / fact1;
    (pbo, (pb - pbo) / pbo)
}

/// Junction potential at `t` from its reference-temperature value `pbo`.
#[inline]
pub fn pb_at(pbo: f64, t: f64) -> f64 {
    t / REFTEMP * pbo + pbfact(t)
}

/// Zero-bias capacitance factor from `tnom` to `t` for grading coefficient `m`.
#[inline]
pub fn cap_factor(pbo: f64, gmaold: f64, tpb: f64, m: f64, tnom: f64, t: f64) -> f64 {
    let gmanew = (tpb - pbo) / pbo;
    (1.0 + m * (4e-4 * (t - REFTEMP) - gmanew)) / (1.0 + m * (4e-4 * (tnom - REFTEMP) - gmaold))
}

/// Depletion charge of one junction: zero-bias capacitance `cz`, potential `pb`, grading
/// coefficient `m`, and the forward-bias coefficient `fc` above which the capacitance is
/// continued linearly (SPICE's FC rule).
#[derive(Debug, Clone, Copy, Default)]
pub struct Depletion {
    pub cz: f64,
    pub pb: f64,
    pub m: f64,
    /// `fc·pb`: voltage where the linear continuation starts.
    pub depcap: f64,
    f1: f64,
    f2: f64,
    f3: f64,
}

impl Depletion {
    pub fn new(cz: f64, pb: f64, m: f64, fc: f64) -> Self {
        let xfc = (1.0 - fc).ln();
        Depletion {
            cz,
            pb,
            m,
            depcap: fc * pb,
            f1: pb * (1.0 - ((1.0 - m) * xfc).exp()) / (1.0 - m),
            f2: ((1.0 + m) * xfc).exp(),
            f3: 1.0 - fc * (1.0 + m),
        }
    }

    /// ngspice's diode rule: if `fc·pb > 1` the potential is limited to `1/fc` (after F1
    /// was computed with the unlimited potential).
    pub fn limit_potential(mut self, fc: f64) -> Self {
        if self.depcap > 1.0 {
            self.pb = 1.0 / fc;
            self.depcap = fc * self.pb;
        }
        self
    }

    /// Charge and capacitance at junction voltage `v`.
    #[inline]
    pub fn eval(&self, v: f64) -> (f64, f64) {
        if self.cz == 0.0 {
            return (0.0, 0.0);
        }
        if v < self.depcap {
            let arg = 1.0 - v / self.pb;
            let sarg = if self.m == 0.5 {
                1.0 / arg.sqrt()
            } else {
                (-self.m * arg.ln()).exp()
            };
            (
                self.pb * self.cz * (1.0 - arg * sarg) / (1.0 - self.m),
                self.cz * sarg,
            )
        } else {
            let czof2 = self.cz / self.f2;
            let q = self.cz * self.f1
                + czof2
                    * (self.f3 * (v - self.depcap)
                        + (self.m / (self.pb + self.pb)) * (v * v - self.depcap * self.depcap));
            (q, czof2 * (self.f3 + self.m * v / self.pb))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temperature_laws_reduce_to_nominal() {
        for tnom in [REFTEMP, 290.0, 350.0] {
            let (pb, f) = junction_temp(0.8, 0.4, tnom, tnom);
            assert!((pb - 0.8).abs() < 1e-12);
            assert!((f - 1.0).abs() < 1e-12);
        }
        // Junction potential falls with temperature (≈ −1.5…−2 mV/K for silicon).
        let (pb, _) = junction_temp(0.8, 0.5, REFTEMP, REFTEMP + 50.0);
        let slope = (pb - 0.8) / 50.0;
        assert!(slope < -1e-3 && slope > -3e-3, "slope {slope}");
    }

    #[test]
    fn depletion_charge_is_consistent() {
        for &(m, fc) in &[(0.5, 0.5), (0.33, 0.5), (0.5, 0.9), (0.7, 0.2)] {
            let d = Depletion::new(1e-12, 0.8, m, fc);
            // Capacitance is dq/dv everywhere, including across the FC corner.
            for k in -40..=40 {
                let v = k as f64 * 0.05;
                let h = 1e-6;
                let (qp, _) = d.eval(v + h);
                let (qm, _) = d.eval(v - h);
                let (_, c) = d.eval(v);
                let fd = (qp - qm) / (2.0 * h);
                assert!(
                    (fd - c).abs() <= 1e-6 * c.abs() + 1e-20,
                    "m={m} fc={fc} v={v}: {fd} vs {c}"
                );
            }
            // Continuity of charge and capacitance at the corner.
            let eps = 1e-9;
            let (q1, c1) = d.eval(d.depcap - eps);
            let (q2, c2) = d.eval(d.depcap + eps);
            assert!((q1 - q2).abs() < 1e-20);
            assert!((c1 - c2).abs() < 1e-6 * c1);
            // Zero charge and cz at zero bias.
            let (q0, c0) = d.eval(0.0);
            assert!(q0.abs() < 1e-30);
            assert!((c0 - 1e-12).abs() < 1e-24);
        }
    }
}
