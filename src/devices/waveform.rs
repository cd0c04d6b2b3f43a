//! Time-dependent values of independent sources, with ngspice's defaults and breakpoints.

use crate::circuit::{TranShape, Waveform};

/// Evaluate a source waveform at time `t` (s). `tstep`/`tstop` resolve ngspice's defaults
/// (PULSE rise/fall default to `tstep`, width and period to `tstop`, SIN frequency to 1/tstop).
pub fn value(w: &Waveform, t: f64, tstep: f64, tstop: f64) -> f64 {
    let Some(shape) = &w.tran else { return w.dc };
    match shape {
        TranShape::Pulse {
            v1,
            v2,
            td,
            tr,
            tf,
            pw,
            per,
            np,
        } => {
            let tr = nonzero(*tr).unwrap_or(tstep);
            let tf = nonzero(*tf).unwrap_or(tstep);
            let pw = nonzero(*pw).unwrap_or(tstop);
            let per = nonzero(*per).unwrap_or(tstop);
            let mut time = t - td;
            if time <= 0.0 {
                return *v1;
            }
            // After NP whole periods the pulse train is over.
            if let Some(np) = nonzero(*np)
                && per > 0.0
                && time >= np * per
            {
                return *v1;
            }
            if per > 0.0 && time > per {
                time -= per * (time / per).floor();
            }
            if time <= tr {
                v1 + (v2 - v1) * time / tr
            } else if time <= tr + pw {
                *v2
            } else if time <= tr + pw + tf {
                v2 + (v1 - v2) * (time - tr - pw) / tf
            } else {
                *v1
            }
        }
        TranShape::Pwl { points, repeat, td } => pwl_value(points, *repeat, t - td),
        TranShape::Sin {
            vo,
            va,
            freq,
            td,
            theta,
            phase,
        } => {
            let freq = nonzero(*freq).unwrap_or(1.0 / tstop);
            let ph = phase.to_radians();
            if t <= *td {
                vo + va * ph.sin()
            } else {
                let tt = t - td;
                vo + va * (2.0 * std::f64::consts::PI * freq * tt + ph).sin() * (-tt * theta).exp()
            }
        }
        TranShape::Exp {
            v1,
            v2,
            td1,
            tau1,
            td2,
            tau2,
        } => {
            let td1 = nonzero(*td1).unwrap_or(0.0);
            let tau1 = nonzero(*tau1).unwrap_or(tstep);
            let td2 = nonzero(*td2).unwrap_or(td1 + tstep);
            let tau2 = nonzero(*tau2).unwrap_or(tstep);
            if t <= td1 {
                *v1
            } else if t <= td2 {
                v1 + (v2 - v1) * (1.0 - (-(t - td1) / tau1).exp())
            } else {
                v1 + (v2 - v1) * (1.0 - (-(t - td1) / tau1).exp())
                    + (v1 - v2) * (1.0 - (-(t - td2) / tau2).exp())
            }
        }
    }
}

fn nonzero(v: Option<f64>) -> Option<f64> {
    v.filter(|x| *x != 0.0)
}

fn pwl_value(points: &[(f64, f64)], repeat: Option<f64>, t: f64) -> f64 {
    let Some(&(t0, v0)) = points.first() else {
        return 0.0;
    };
    let &(tl, vl) = points.last().unwrap_or(&(t0, v0));
    let mut t = t;
    if let Some(r) = repeat {
        let period = tl - r;
        if t > tl && period > 0.0 {
            t = r + (t - tl) % period;
        }
    }
    if t <= t0 {
        return v0;
    }
    if t >= tl {
        return vl;
    }
    let k = points.partition_point(|p| p.0 <= t);
    let (ta, va) = points[k - 1];
    let (tb, vb) = points[k];
    if tb <= ta {
        vb
    } else {
        va + (vb - va) * (t - ta) / (tb - ta)
    }
}

/// Corners of the waveform in `[0, tstop]` the time stepper must land on exactly.
pub fn breakpoints(w: &Waveform, tstep: f64, tstop: f64, out: &mut Vec<f64>) {
    let Some(shape) = &w.tran else { return };
    let mut push = |t: f64| {
        if t >= 0.0 && t <= tstop {
            out.push(t);
        }
    };
    match shape {
        TranShape::Pulse {
            td,
            tr,
            tf,
            pw,
            per,
            np,
            ..
        } => {
            let tr = nonzero(*tr).unwrap_or(tstep);
            let tf = nonzero(*tf).unwrap_or(tstep);
            let pw = nonzero(*pw).unwrap_or(tstop);
            let per = nonzero(*per).unwrap_or(tstop);
            let mut base = *td;
            // Cap the number of periods so absurd inputs cannot exhaust memory.
            let periods = nonzero(*np).map_or(1_000_000, |n| (n as usize).min(1_000_000));
            for _ in 0..periods {
                if base > tstop {
                    break;
                }
                for c in [base, base + tr, base + tr + pw, base + tr + pw + tf] {
                    push(c);
                }
                if per <= 0.0 {
                    break;
                }
                base += per;
            }
        }
        TranShape::Pwl { points, repeat, td } => {
            let Some(&(tl, _)) = points.last() else {
                return;
            };
            for p in points {
                push(p.0 + td);
            }
            if let Some(r) = repeat {
                let start = points.iter().position(|p| p.0 >= *r).unwrap_or(0);
                let period = tl - r;
                if period > 0.0 {
                    let mut k = 1.0;
                    while td + r + k * period <= tstop && k < 1e6 {
                        for p in &points[start..] {
                            push(p.0 + td + k * period);
                        }
                        k += 1.0;
                    }
                }
            }
        }
        TranShape::Sin { td, .. } => push(*td),
        TranShape::Exp { td1, td2, .. } => {
            let td1 = nonzero(*td1).unwrap_or(0.0);
            push(td1);
            push(nonzero(*td2).unwrap_or(td1 + tstep));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pulse() -> Waveform {
        Waveform {
            dc: 0.0,
            tran: Some(TranShape::Pulse {
                v1: 0.0,
                v2: 1.0,
                td: 1e-9,
                tr: Some(1e-9),
                tf: Some(2e-9),
                pw: Some(5e-9),
                per: Some(20e-9),
                np: None,
            }),
        }
    }

    /// NP = 2: the second period still pulses, the third does not (the source rests at
    /// V1), and no breakpoints are placed after the second period.
    #[test]
    fn pulse_count_stops_the_train() {
        let mut w = pulse();
        if let Some(TranShape::Pulse { np, .. }) = &mut w.tran {
            *np = Some(2.0);
        }
        let (step, stop) = (1e-10, 1e-7);
        assert_eq!(value(&w, 24e-9, step, stop), 1.0, "second pulse");
        assert_eq!(value(&w, 44e-9, step, stop), 0.0, "no third pulse");
        assert_eq!(
            value(&pulse(), 44e-9, step, stop),
            1.0,
            "without NP it repeats"
        );
        let mut bp = Vec::new();
        breakpoints(&w, step, stop, &mut bp);
        assert_eq!(bp.len(), 8);
        assert!(bp.iter().all(|&t| t < 41e-9), "{bp:?}");
    }

    #[test]
    fn pulse_shape_and_period() {
        let w = pulse();
        assert_eq!(value(&w, 0.5e-9, 1e-10, 1e-7), 0.0);
        assert!((value(&w, 1.5e-9, 1e-10, 1e-7) - 0.5).abs() < 1e-12);
        assert_eq!(value(&w, 4e-9, 1e-10, 1e-7), 1.0);
        assert!((value(&w, 8e-9, 1e-10, 1e-7) - 0.5).abs() < 1e-12);
        // One period later the same value.
        assert!((value(&w, 21.5e-9, 1e-10, 1e-7) - 0.5).abs() < 1e-9);
    }

    #[test]
    fn pwl_repeat() {
        let w = Waveform {
            dc: 0.0,
            tran: Some(TranShape::Pwl {
                points: vec![(0.0, 0.0), (1.0, 1.0), (2.0, 0.0)],
                repeat: Some(0.0),
                td: 0.0,
            }),
        };
        assert!((value(&w, 0.5, 0.1, 10.0) - 0.5).abs() < 1e-12);
        assert!((value(&w, 2.5, 0.1, 10.0) - 0.5).abs() < 1e-12);
        assert!((value(&w, 3.5, 0.1, 10.0) - 0.5).abs() < 1e-12);
        let mut bp = Vec::new();
        breakpoints(&w, 0.1, 5.0, &mut bp);
        assert!(bp.contains(&3.0) && bp.contains(&4.0));
    }
}
