//! Evaluating `.meas` requests on simulation results (ngspice semantics).
//!
//! Owns: point-wise vector expressions, crossing search (RISE/FALL/CROSS, TD), linear
//! interpolation, and window statistics (AVG, RMS, INTEG by the trapezoidal rule on the
//! piecewise-linear waveform, MIN, MAX, PP). Must not parse text (that is
//! `netlist::meas`) or simulate.

use crate::analysis::record::ngspice_element_name;
use crate::circuit::sweep::{Edge, Event, MeasKind, StatFunc, VecExpr};
use crate::circuit::{Circuit, Measure, OutputRequest};
use crate::results::Plot;

/// One measured value, or why it could not be measured (ngspice prints "failed").
#[derive(Debug, Clone, PartialEq)]
pub struct MeasResult {
    pub name: String,
    pub value: Result<f64, String>,
}

/// Evaluate every measurement of `circuit` on the plots of one run.
pub fn measure_all(circuit: &Circuit, plots: &[Plot]) -> Vec<MeasResult> {
    let mut out: Vec<MeasResult> = Vec::new();
    for m in &circuit.measures {
        let value = match &m.kind {
            MeasKind::Param { text, inner } => param(text, *inner, &out),
            _ => plot_for(m, plots).and_then(|p| measure(m, p)),
        };
        out.push(MeasResult {
            name: m.name.clone(),
            value,
        });
    }
    out
}

/// `PARAM='expr'` over the measurements before it.
fn param(text: &str, inner: crate::diag::Span, before: &[MeasResult]) -> Result<f64, String> {
    use crate::netlist::expr::{ExprSrc, eval};
    let src = ExprSrc {
        text: text.to_string(),
        file: inner.file,
        start: inner.start,
        exact: true,
        whole: inner,
    };
    let mut missing = None;
    let mut lookup = |n: &str, _: crate::diag::Span, _: &mut crate::diag::Diagnostics| match before
        .iter()
        .find(|r| r.name == n)
        .map(|r| r.value.clone())
    {
        Some(Ok(v)) => Some(v),
        _ => {
            missing.get_or_insert(n.to_string());
            None
        }
    };
    let mut d = crate::diag::Diagnostics::default();
    let v = eval(&src, &mut lookup, &mut d);
    match (v, missing) {
        (Some(v), _) => Ok(v),
        (None, Some(n)) => Err(format!("measurement '{n}' failed")),
        (None, None) => Err(d
            .items
            .first()
            .map_or("cannot evaluate".into(), |x| x.message.clone())),
    }
}

/// The last plot of the measurement's analysis kind.
fn plot_for<'p>(m: &Measure, plots: &'p [Plot]) -> Result<&'p Plot, String> {
    let want = match m.analysis.as_str() {
        "tran" => "Transient Analysis",
        "dc" => "DC transfer characteristic",
        _ => "Operating Point",
    };
    plots
        .iter()
        .rev()
        .find(|p| p.name == want)
        .ok_or_else(|| format!("no {} results to measure", m.analysis))
}

/// Evaluate one measurement on one plot.
pub fn measure(m: &Measure, plot: &Plot) -> Result<f64, String> {
    let x = &plot.scale.data;
    if x.is_empty() {
        return Err("empty plot".into());
    }
    match &m.kind {
        MeasKind::TrigTarg { trig, targ } => Ok(event(targ, plot)? - event(trig, plot)?),
        MeasKind::FindAt { expr, at } => interp(x, &eval(expr, plot)?, *at),
        MeasKind::FindWhen { expr, when } => {
            let t = event(when, plot)?;
            match expr {
                Some(e) => interp(x, &eval(e, plot)?, t),
                None => Ok(t),
            }
        }
        MeasKind::Stat {
            func,
            expr,
            from,
            to,
        } => stat(*func, x, &eval(expr, plot)?, *from, *to),
        MeasKind::Param { .. } => Err("PARAM= is evaluated by measure_all".into()),
    }
}

/// Add save requests for every vector a measurement reads (when the netlist restricts
/// saving with `.save`), so a measurement never fails for lack of a saved vector.
pub fn ensure_saved(circuit: &mut Circuit) {
    if circuit.saves.is_empty() {
        return;
    }
    let mut refs = Vec::new();
    for m in &circuit.measures {
        for e in exprs(&m.kind) {
            crate::netlist::collect_refs(e, &mut refs);
        }
    }
    for r in refs {
        let VecExpr::Ref(f, args) = r else { continue };
        let reqs: Vec<OutputRequest> = match f.as_str() {
            "v" => args
                .iter()
                .filter(|a| *a != "0" && *a != "gnd")
                .map(|a| OutputRequest::Voltage(a.clone(), None))
                .collect(),
            "i" => element(circuit, &args[0])
                .map(OutputRequest::Current)
                .into_iter()
                .collect(),
            _ => element(circuit, &args[0])
                .map(|e| OutputRequest::Device(f.clone(), e))
                .into_iter()
                .collect(),
        };
        for q in reqs {
            if !circuit.saves.contains(&q) {
                circuit.saves.push(q);
            }
        }
    }
}

/// Element name as stored in the circuit, from our dotted or ngspice's lettered form.
fn element(c: &Circuit, name: &str) -> Option<String> {
    if let Some(i) = c.element(name) {
        return Some(c.elements[i].name.clone());
    }
    let (_, rest) = name.split_once('.')?;
    c.element(rest).map(|i| c.elements[i].name.clone())
}

fn exprs(k: &MeasKind) -> Vec<&VecExpr> {
    fn ev(e: &Event) -> Vec<&VecExpr> {
        match e {
            Event::At(_) => vec![],
            Event::Cross { lhs, rhs, .. } => vec![lhs, rhs],
        }
    }
    match k {
        MeasKind::TrigTarg { trig, targ } => ev(trig).into_iter().chain(ev(targ)).collect(),
        MeasKind::FindAt { expr, .. } => vec![expr],
        MeasKind::FindWhen { expr, when } => expr.iter().chain(ev(when)).collect(),
        MeasKind::Stat { expr, .. } => vec![expr],
        MeasKind::Param { .. } => vec![],
    }
}

/// A vector of the plot by reference.
fn lookup(plot: &Plot, f: &str, args: &[String]) -> Result<Vec<f64>, String> {
    let n = plot.len();
    let get = |name: &str| plot.get(name).map(|v| v.data.clone());
    let node = |a: &str| -> Result<Vec<f64>, String> {
        if a == "0" || a == "gnd" {
            return Ok(vec![0.0; n]);
        }
        get(&format!("v({a})")).ok_or_else(|| format!("v({a}) was not saved"))
    };
    match f {
        "v" if args.len() == 2 => {
            if let Some(d) = get(&format!("v({},{})", args[0], args[1])) {
                return Ok(d);
            }
            let (a, b) = (node(&args[0])?, node(&args[1])?);
            Ok(a.iter().zip(&b).map(|(x, y)| x - y).collect())
        }
        "v" => node(&args[0]),
        _ => {
            let a = &args[0];
            get(&format!("{f}({})", ngspice_element_name(a)))
                .or_else(|| get(&format!("{f}({a})")))
                .ok_or_else(|| format!("{f}({a}) was not saved"))
        }
    }
}

/// Evaluate a point-wise expression over the plot.
pub fn eval(e: &VecExpr, plot: &Plot) -> Result<Vec<f64>, String> {
    let n = plot.len();
    Ok(match e {
        VecExpr::Num(v) => vec![*v; n],
        VecExpr::Scale => plot.scale.data.clone(),
        VecExpr::Ref(f, args) => lookup(plot, f, args)?,
        VecExpr::Neg(a) => eval(a, plot)?.into_iter().map(|x| -x).collect(),
        VecExpr::Bin(op, a, b) => {
            let (a, b) = (eval(a, plot)?, eval(b, plot)?);
            a.iter()
                .zip(&b)
                .map(|(&x, &y)| match op {
                    '+' => x + y,
                    '-' => x - y,
                    '*' => x * y,
                    '/' => x / y,
                    _ => x.powf(y),
                })
                .collect()
        }
        VecExpr::Call(f, args) => {
            let a = eval(&args[0], plot)?;
            let b = match args.get(1) {
                Some(e) => eval(e, plot)?,
                None => vec![0.0; n],
            };
            a.iter()
                .zip(&b)
                .map(|(&x, &y)| match f.as_str() {
                    "abs" => x.abs(),
                    "sgn" if x == 0.0 => 0.0,
                    "sgn" => x.signum(),
                    "sqrt" => x.sqrt(),
                    "exp" => x.exp(),
                    "log" | "ln" => x.ln(),
                    "log10" => x.log10(),
                    "min" => x.min(y),
                    "max" => x.max(y),
                    _ => x.powf(y),
                })
                .collect()
        }
    })
}

/// Linear interpolation of `y` at scale value `at` (the scale must be monotonic).
pub fn interp(x: &[f64], y: &[f64], at: f64) -> Result<f64, String> {
    let n = x.len();
    if n == 1 {
        return Ok(y[0]);
    }
    let (lo, hi) = (x[0].min(x[n - 1]), x[0].max(x[n - 1]));
    if at < lo - 1e-12 * hi.abs().max(1e-300) || at > hi + 1e-12 * hi.abs().max(1e-300) {
        return Err(format!(
            "{at:e} is outside the simulated range [{lo:e}, {hi:e}]"
        ));
    }
    let inc = x[n - 1] >= x[0];
    let k = x.partition_point(|&v| if inc { v < at } else { v > at });
    if k == 0 {
        return Ok(y[0]);
    }
    if k >= n {
        return Ok(y[n - 1]);
    }
    let (x0, x1) = (x[k - 1], x[k]);
    if x1 == x0 {
        return Ok(y[k]);
    }
    let f = (at - x0) / (x1 - x0);
    Ok(y[k - 1] + f * (y[k] - y[k - 1]))
}

/// Scale value of an event.
fn event(e: &Event, plot: &Plot) -> Result<f64, String> {
    match e {
        Event::At(t) => Ok(*t),
        Event::Cross {
            lhs,
            rhs,
            edge,
            nth,
            td,
        } => {
            let (a, b) = (eval(lhs, plot)?, eval(rhs, plot)?);
            let d: Vec<f64> = a.iter().zip(&b).map(|(x, y)| x - y).collect();
            crossing(&plot.scale.data, &d, *edge, *nth, *td)
        }
    }
}

/// The `nth` (1-based; `None` = last) crossing of zero by `d` in direction `edge`, at or
/// after scale value `td`, linearly interpolated.
pub fn crossing(
    x: &[f64],
    d: &[f64],
    edge: Edge,
    nth: Option<usize>,
    td: f64,
) -> Result<f64, String> {
    let mut count = 0;
    let mut last = None;
    for k in 1..x.len() {
        let (d0, d1) = (d[k - 1], d[k]);
        let rise = d0 < 0.0 && d1 >= 0.0;
        let fall = d0 > 0.0 && d1 <= 0.0;
        let hit = match edge {
            Edge::Rise => rise,
            Edge::Fall => fall,
            Edge::Cross => rise || fall,
        };
        if !hit {
            continue;
        }
        let t = x[k - 1] + (x[k] - x[k - 1]) * (-d0) / (d1 - d0);
        if t < td {
            continue;
        }
        count += 1;
        last = Some(t);
        if nth == Some(count) {
            return Ok(t);
        }
    }
    let what = match edge {
        Edge::Rise => "rising crossing",
        Edge::Fall => "falling crossing",
        Edge::Cross => "crossing",
    };
    match (nth, last) {
        (None, Some(t)) => Ok(t),
        (None, None) => Err(format!("no {what} found")),
        (Some(n), _) => Err(format!("{what} #{n} not found (only {count})")),
    }
}

/// Window statistics of the piecewise-linear waveform `(x, y)` over `[from, to]`.
pub fn stat(
    func: StatFunc,
    x: &[f64],
    y: &[f64],
    from: Option<f64>,
    to: Option<f64>,
) -> Result<f64, String> {
    let n = x.len();
    let a = from.unwrap_or(x[0]);
    let b = to.unwrap_or(x[n - 1]);
    // Window samples: interpolated ends plus the interior points.
    let mut xs = vec![a];
    let mut ys = vec![interp(x, y, a)?];
    for k in 0..n {
        if x[k] > a && x[k] < b {
            xs.push(x[k]);
            ys.push(y[k]);
        }
    }
    if b > a {
        xs.push(b);
        ys.push(interp(x, y, b)?);
    }
    let trapz = |v: &dyn Fn(usize) -> f64| -> f64 {
        (1..xs.len())
            .map(|k| 0.5 * (v(k) + v(k - 1)) * (xs[k] - xs[k - 1]))
            .sum()
    };
    let span = b - a;
    let max = ys.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let min = ys.iter().copied().fold(f64::INFINITY, f64::min);
    Ok(match func {
        StatFunc::Integ => trapz(&|k| ys[k]),
        StatFunc::Avg if span > 0.0 => trapz(&|k| ys[k]) / span,
        StatFunc::Rms if span > 0.0 => (trapz(&|k| ys[k] * ys[k]) / span).sqrt(),
        // A zero-width window: the value at that point.
        StatFunc::Avg => ys[0],
        StatFunc::Rms => ys[0].abs(),
        StatFunc::Min => min,
        StatFunc::Max => max,
        StatFunc::Pp => max - min,
    })
}

/// Unit of a measurement's result for table headers and plot axes ("" when unknown or
/// dimensionless): seconds for delays, the signal's unit for FIND/AVG/..., unit·s for INTEG.
pub fn unit_of(m: &Measure) -> String {
    let scale = if m.analysis == "tran" { "s" } else { "" };
    let u = match &m.kind {
        MeasKind::Param { .. } => None,
        MeasKind::TrigTarg { .. } | MeasKind::FindWhen { expr: None, .. } => Some(scale.into()),
        MeasKind::FindAt { expr, .. }
        | MeasKind::FindWhen {
            expr: Some(expr), ..
        } => unit_expr(expr, scale),
        MeasKind::Stat { func, expr, .. } => {
            let u = unit_expr(expr, scale);
            if *func == StatFunc::Integ && scale == "s" {
                u.map(|u| match u.as_str() {
                    "W" => "J".to_string(),
                    "A" => "C".to_string(),
                    "" => "s".to_string(),
                    other => format!("{other}·s"),
                })
            } else if *func == StatFunc::Integ {
                None
            } else {
                u
            }
        }
    };
    u.unwrap_or_default()
}

fn unit_expr(e: &VecExpr, scale: &str) -> Option<String> {
    match e {
        VecExpr::Num(_) => Some(String::new()),
        VecExpr::Scale => Some(scale.into()),
        VecExpr::Ref(f, _) => Some(
            match f.as_str() {
                "v" => "V",
                "i" => "A",
                "temp" => "K",
                "r" => "Ω",
                "p" => "W",
                _ => "",
            }
            .into(),
        ),
        VecExpr::Neg(a) => unit_expr(a, scale),
        VecExpr::Call(f, args) if f == "sgn" => unit_expr(&args[0], scale).map(|_| String::new()),
        VecExpr::Call(f, args) if matches!(f.as_str(), "abs" | "min" | "max") => {
            unit_expr(&args[0], scale)
        }
        VecExpr::Call(..) => None,
        VecExpr::Bin(op, a, b) => {
            let (a, b) = (unit_expr(a, scale)?, unit_expr(b, scale)?);
            match (op, a.as_str(), b.as_str()) {
                ('+' | '-', x, y) if x == y => Some(a),
                ('*', "V", "A") | ('*', "A", "V") => Some("W".into()),
                ('/', "V", "A") => Some("Ω".into()),
                ('*' | '/', x, "") => Some(x.into()),
                ('*', "", y) => Some(y.into()),
                _ => None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crossings_interpolate_and_count() {
        // sin-like triangle: 0 → 1 → -1 → 1 over x = 0..3.
        let x = [0.0, 1.0, 2.0, 3.0];
        let y = [-0.5, 0.5, -0.5, 0.5];
        assert_eq!(crossing(&x, &y, Edge::Rise, Some(1), 0.0), Ok(0.5));
        assert_eq!(crossing(&x, &y, Edge::Fall, Some(1), 0.0), Ok(1.5));
        assert_eq!(crossing(&x, &y, Edge::Cross, Some(3), 0.0), Ok(2.5));
        assert_eq!(crossing(&x, &y, Edge::Rise, None, 0.0), Ok(2.5));
        assert_eq!(crossing(&x, &y, Edge::Rise, Some(1), 1.0), Ok(2.5));
        assert!(crossing(&x, &y, Edge::Rise, Some(3), 0.0).is_err());
    }

    #[test]
    fn window_statistics_of_a_ramp() {
        // y = x on [0, 2]: ∫_0.5^1.5 x dx = 1, avg 1, rms sqrt(13/12), pp 1.
        let x = [0.0, 1.0, 2.0];
        let y = [0.0, 1.0, 2.0];
        let s = |f| stat(f, &x, &y, Some(0.5), Some(1.5)).unwrap();
        assert!((s(StatFunc::Integ) - 1.0).abs() < 1e-15);
        assert!((s(StatFunc::Avg) - 1.0).abs() < 1e-15);
        assert!((s(StatFunc::Pp) - 1.0).abs() < 1e-15);
        assert_eq!(s(StatFunc::Min), 0.5);
        // Trapezoid on y² samples (0.25, 1, 2.25): (0.625 + 1.625) / 1 → sqrt(1.125).
        assert!((s(StatFunc::Rms) - 1.125f64.sqrt()).abs() < 1e-15);
        assert!(stat(StatFunc::Avg, &x, &y, Some(-1.0), None).is_err());
    }
}
