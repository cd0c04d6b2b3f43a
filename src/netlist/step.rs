//! `.step` cards (LTspice syntax): `.step param NAME START STOP STEP`,
//! `.step param NAME LIST v1 v2 …`, `.step dec|oct param NAME START STOP N`, each with an
//! optional trailing `unit=UNIT` (mtjsim extension: the unit shown on plot axes).
//!
//! Owns: their syntax and the list of values each produces. The sweep driver re-elaborates
//! the netlist with the parameter overridden; the parameter must therefore be a top-level
//! `.param` (so that the nominal netlist is complete without the sweep).

use super::elaborate::{Elab, Inst};
use super::lines::{Line, TokKind};
use crate::circuit::StepSpec;

/// Upper bound on the points of one `.step` line (protects memory on typos like 1e12).
pub const MAX_STEP_POINTS: usize = 1_000_000;

const USAGE: &str = ".step param NAME START STOP STEP | .step param NAME LIST V1 V2 ... | .step dec param NAME START STOP POINTS_PER_DECADE";

/// Parse one `.step` line into `el.circuit.steps`.
pub(crate) fn step(el: &mut Elab, inst: &Inst, line: &Line) {
    let mut toks: Vec<_> = line.tokens[1..]
        .iter()
        .filter(|t| t.kind != TokKind::Comma)
        .collect();
    // Optional trailing `unit=UNIT` (an mtjsim extension, for axis labels).
    let mut unit = String::new();
    let n = toks.len();
    if n >= 3 && toks[n - 3].is("unit") && toks[n - 2].kind == TokKind::Eq {
        unit = toks[n - 1].text.clone();
        toks.truncate(n - 3);
    }
    let mut i = 0;
    let mut scale = "lin";
    if let Some(t) = toks.first()
        && matches!(t.lower.as_str(), "lin" | "dec" | "oct")
    {
        scale = if t.lower == "dec" {
            "dec"
        } else if t.lower == "oct" {
            "oct"
        } else {
            "lin"
        };
        i = 1;
    }
    match toks.get(i) {
        Some(t) if t.is("param") => i += 1,
        Some(t) => {
            el.error(
                format!("only '.step param' is supported, found '{}'", t.text),
                t.span,
                "define a .param and step it; use it as the source value: V1 in 0 {vin}",
            );
            return;
        }
        None => {
            el.error(
                "expected 'param NAME ...' after .step",
                line.end_span(),
                USAGE,
            );
            return;
        }
    }
    let Some(name) = toks.get(i).filter(|t| t.kind == TokKind::Word) else {
        el.error(
            "expected a parameter name",
            line.span_at(line.tokens.len()),
            USAGE,
        );
        return;
    };
    i += 1;
    if !inst.params.has_local(&name.lower) {
        el.error(
            format!(
                "'.step param {}': no top-level .param defines it",
                name.text
            ),
            name.span,
            format!(
                "add '.param {}=NOMINAL' (used when the netlist runs unswept)",
                name.lower
            ),
        );
        return;
    }
    if el.circuit.steps.iter().any(|s| s.param == name.lower) {
        el.error(
            format!("parameter '{}' is stepped twice", name.text),
            name.span,
            "one .step line per parameter",
        );
        return;
    }
    if el.circuit.steps.len() >= 3 {
        el.error(
            "at most three nested .step lines are supported",
            line.tokens[0].span,
            "combine the rest into a LIST or use `mtjsim sweep --set`",
        );
        return;
    }
    let mut values = Vec::new();
    if toks.get(i).is_some_and(|t| t.is("list")) {
        if scale != "lin" {
            el.error("LIST cannot be combined with dec/oct", toks[i].span, USAGE);
            return;
        }
        for t in &toks[i + 1..] {
            match el.value(inst, t) {
                Some(v) => values.push(v),
                None => return,
            }
        }
        if values.is_empty() {
            el.error("expected values after LIST", line.end_span(), USAGE);
            return;
        }
    } else {
        if toks.len() != i + 3 {
            let at = toks.get(i + 3).map_or_else(|| line.end_span(), |t| t.span);
            el.error(
                format!(
                    "expected START STOP STEP, got {} values",
                    toks.len().saturating_sub(i)
                ),
                at,
                USAGE,
            );
            return;
        }
        let (Some(a), Some(b), Some(s)) = (
            el.value(inst, toks[i]),
            el.value(inst, toks[i + 1]),
            el.value(inst, toks[i + 2]),
        ) else {
            return;
        };
        match range(scale, a, b, s) {
            Ok(v) => values = v,
            Err(msg) => {
                el.error(msg, toks[i + 2].span, USAGE);
                return;
            }
        }
    }
    el.circuit.steps.push(StepSpec {
        param: name.lower.clone(),
        values,
        unit,
        span: line.span,
    });
}

/// Values of a linear (`step` is the increment) or logarithmic (`step` is points per
/// decade / octave) range, `stop` included when it falls on the grid (within 1e-9 steps).
pub fn range(scale: &str, start: f64, stop: f64, step: f64) -> Result<Vec<f64>, String> {
    let n = if scale == "lin" {
        if step == 0.0 {
            return Err("the step must not be 0".into());
        }
        if (stop - start) * step < 0.0 {
            return Err("the step goes away from STOP; use a negative step to sweep down".into());
        }
        ((stop - start) / step + 1e-9).floor() + 1.0
    } else {
        if start <= 0.0 || stop <= 0.0 {
            return Err("dec/oct sweeps need positive START and STOP".into());
        }
        if step < 1.0 || step.fract() != 0.0 {
            return Err("points per decade/octave must be a positive integer".into());
        }
        let base: f64 = if scale == "dec" { 10.0 } else { 2.0 };
        ((stop / start).log(base).abs() * step + 1e-9).floor() + 1.0
    };
    if !n.is_finite() || n > MAX_STEP_POINTS as f64 {
        return Err(format!("more than {MAX_STEP_POINTS} points"));
    }
    let n = n as usize;
    Ok((0..n)
        .map(|k| {
            let k = k as f64;
            match scale {
                "lin" => start + k * step,
                "dec" => start * 10f64.powf(k / step * (stop / start).signum_log()),
                _ => start * 2f64.powf(k / step * (stop / start).signum_log()),
            }
        })
        .collect())
}

/// +1 for an increasing log sweep, -1 for a decreasing one.
trait SignumLog {
    fn signum_log(self) -> f64;
}
impl SignumLog for f64 {
    fn signum_log(self) -> f64 {
        if self >= 1.0 { 1.0 } else { -1.0 }
    }
}

#[cfg(test)]
mod tests {
    use super::range;

    #[test]
    fn ranges_include_stop_and_follow_the_scale() {
        let v = range("lin", 0.0, 1.0, 0.1).unwrap();
        assert_eq!(v.len(), 11);
        assert!((v[10] - 1.0).abs() < 1e-12);
        let d = range("dec", 1.0, 1000.0, 2.0).unwrap();
        assert_eq!(d.len(), 7);
        assert!((d[1] - 10f64.sqrt()).abs() < 1e-12 && (d[6] - 1000.0).abs() < 1e-9);
        let o = range("oct", 8.0, 1.0, 1.0).unwrap();
        assert_eq!(o.len(), 4);
        assert!((o[3] - 1.0).abs() < 1e-12);
        assert!(range("lin", 0.0, 1.0, -0.1).is_err());
        assert!(range("lin", 0.0, 1.0, 1e-12).is_err());
    }
}
