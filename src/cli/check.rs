//! `mtjsim check NETLIST`: parse and elaborate only.
//!
//! Prints every diagnostic (rendered with file:line:col and a caret) to stderr and, when
//! there are no errors, a short summary of the circuit to stdout. Exit code 0 without
//! errors, 1 with errors.
use clap::Args;
use std::path::PathBuf;

use crate::circuit::{Analysis, Circuit, ElementKind};
use crate::diag::Severity;

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Netlist file (ngspice dialect).
    pub netlist: PathBuf,
}

pub fn run(args: &CheckArgs) -> i32 {
    let parsed = crate::netlist::load(&args.netlist);
    let d = &parsed.diagnostics;
    if !d.items.is_empty() {
        eprint!("{}", parsed.render_diagnostics());
    }
    let errors = d
        .items
        .iter()
        .filter(|x| x.severity == Severity::Error)
        .count();
    if errors > 0 {
        let warnings = d.items.len() - errors;
        eprintln!(
            "{}: {errors} error{}, {warnings} warning{}",
            args.netlist.display(),
            plural(errors),
            plural(warnings)
        );
        return 1;
    }
    print!("{}", summary(&parsed.circuit));
    0
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// A few lines describing a circuit: title, nodes, elements by kind, models, analyses.
pub fn summary(c: &Circuit) -> String {
    let mut counts: Vec<(char, usize)> = Vec::new();
    for e in &c.elements {
        let letter = match e.kind {
            ElementKind::Resistor { .. } => 'R',
            ElementKind::Capacitor { .. } => 'C',
            ElementKind::Inductor { .. } => 'L',
            ElementKind::VSource { .. } => 'V',
            ElementKind::ISource { .. } => 'I',
            ElementKind::Vcvs { .. } => 'E',
            ElementKind::Vccs { .. } => 'G',
            ElementKind::Cccs { .. } => 'F',
            ElementKind::Ccvs { .. } => 'H',
            ElementKind::Diode { .. } => 'D',
            ElementKind::Mosfet { .. } => 'M',
            ElementKind::Mtj { .. } => 'N',
        };
        match counts.iter_mut().find(|(l, _)| *l == letter) {
            Some((_, n)) => *n += 1,
            None => counts.push((letter, 1)),
        }
    }
    let order = "RCLVIEGFHDMN";
    counts.sort_by_key(|(l, _)| order.find(*l));
    let by_kind: Vec<String> = counts.iter().map(|(l, n)| format!("{l} {n}")).collect();
    let analyses: Vec<String> = c
        .analyses
        .iter()
        .map(|a| match a {
            Analysis::Op => ".op".to_string(),
            Analysis::Dc { sweeps } => {
                let s: Vec<String> = sweeps
                    .iter()
                    .map(|s| {
                        format!(
                            "{} {} {} {}",
                            s.source,
                            eng(s.start),
                            eng(s.stop),
                            eng(s.step)
                        )
                    })
                    .collect();
                format!(".dc {}", s.join(" "))
            }
            Analysis::Tran {
                tstep,
                tstop,
                tstart,
                tmax,
                uic,
            } => {
                let mut s = format!(".tran {} {}", eng(*tstep), eng(*tstop));
                if *tstart != 0.0 || tmax.is_some() {
                    s.push_str(&format!(" {}", eng(*tstart)));
                }
                if let Some(m) = tmax {
                    s.push_str(&format!(" {}", eng(*m)));
                }
                if *uic {
                    s.push_str(" uic");
                }
                s
            }
        })
        .collect();
    let mut out = String::new();
    out.push_str(&format!("title:     {}\n", c.title));
    out.push_str(&format!(
        "nodes:     {} (plus ground)\n",
        c.nodes.len().saturating_sub(1)
    ));
    out.push_str(&format!(
        "elements:  {} ({})\n",
        c.elements.len(),
        by_kind.join(", ")
    ));
    out.push_str(&format!("models:    {}\n", c.models.len()));
    let a = if analyses.is_empty() {
        "none".to_string()
    } else {
        analyses.join("; ")
    };
    out.push_str(&format!("analyses:  {a}\n"));
    let saves = if c.saves.is_empty() {
        "all".to_string()
    } else {
        format!("{} quantities", c.saves.len())
    };
    out.push_str(&format!("saves:     {saves}\n"));
    out
}

/// A number with a SPICE suffix: `1e-12` → `1p`, `2500` → `2.5k`.
fn eng(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    const SUFFIX: [(i32, &str); 9] = [
        (12, "t"),
        (9, "g"),
        (6, "meg"),
        (3, "k"),
        (0, ""),
        (-3, "m"),
        (-6, "u"),
        (-9, "n"),
        (-12, "p"),
    ];
    let e = (x.abs().log10() + 1e-9).floor() as i32;
    let (p, s) = SUFFIX
        .iter()
        .find(|(p, _)| e >= *p)
        .copied()
        .unwrap_or((-15, "f"));
    let v = x / 10f64.powi(p);
    let mut t = format!("{v:.4}");
    while t.contains('.') && (t.ends_with('0') || t.ends_with('.')) {
        t.pop();
    }
    format!("{t}{s}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engineering_notation() {
        assert_eq!(eng(1e-12), "1p");
        assert_eq!(eng(2500.0), "2.5k");
        assert_eq!(eng(10e-9), "10n");
        assert_eq!(eng(0.0), "0");
        assert_eq!(eng(-0.1), "-100m");
        assert_eq!(eng(1.5e6), "1.5meg");
    }

    #[test]
    fn summary_lists_kinds_and_analyses() {
        let p = crate::netlist::load_str(
            "t.cir",
            "demo\nV1 a 0 1\nR1 a b 1k\nR2 b 0 1k\nC1 b 0 1p\n.op\n.tran 1p 10n\n",
            std::path::Path::new("."),
        );
        let s = summary(&p.circuit);
        assert!(s.contains("nodes:     2 (plus ground)"), "{s}");
        assert!(s.contains("elements:  4 (R 2, C 1, V 1)"), "{s}");
        assert!(s.contains("analyses:  .op; .tran 1p 10n"), "{s}");
    }
}
