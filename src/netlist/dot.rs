//! Dot commands other than `.param`, `.model`, `.subckt` and includes: `.options`, `.temp`,
//! `.ic`, `.nodeset`, `.op`, `.dc`, `.tran`, `.save`, `.print`, `.title`, `.global`, `.end`.
//!
//! Owns: their syntax and the checks that the nodes/elements they name exist (they run after
//! flattening). Unknown commands are warnings; `.four` and friends are warnings
//! "not supported yet"; `.step` and `.meas` are parsed by `step.rs` / `meas.rs`. Must not
//! touch elements.

use super::elaborate::{Elab, Inst};
use super::lines::{Line, TokKind, Token, split_kv};
use crate::circuit::{Analysis, DcSweep, ElementKind, Method, NodeId, OutputRequest};
use crate::diag::Span;

/// Dot commands that make sense inside a subcircuit body (others are warned about).
pub fn allowed_in_subckt(head: &str) -> bool {
    matches!(head, ".global" | ".end")
}

/// Run one top-level dot command.
pub(crate) fn command(el: &mut Elab, inst: &Inst, line: &Line) {
    let head = line.head();
    match head {
        ".options" | ".option" | ".opt" | ".opts" => options(el, inst, line),
        ".temp" => temp(el, inst, line),
        ".ic" => initial(el, inst, line, true),
        ".nodeset" => initial(el, inst, line, false),
        ".op" => {
            extra(el, line, 1);
            el.circuit.analyses.push(Analysis::Op);
        }
        ".dc" => dc(el, inst, line),
        ".tran" => tran(el, inst, line),
        ".save" => saves(el, line, 1),
        ".print" | ".plot" => {
            let skip = line.tokens.get(1).is_some_and(|t| {
                matches!(t.lower.as_str(), "tran" | "dc" | "op" | "ac" | "noise")
                    && line.tokens.get(2).is_none_or(|n| n.kind != TokKind::LParen)
            });
            saves(el, line, if skip { 2 } else { 1 });
        }
        ".title" => {
            let text: Vec<&str> = line.tokens[1..].iter().map(|t| t.text.as_str()).collect();
            el.circuit.title = text.join(" ");
        }
        ".global" | ".end" => {}
        ".step" => super::step::step(el, inst, line),
        ".meas" | ".measure" => super::meas::meas(el, inst, line),
        ".four" | ".fourier" => {
            el.warn(
                format!("'{}' is not supported yet; ignored", line.tokens[0].text),
                line.tokens[0].span,
            );
        }
        ".ac" | ".noise" | ".tf" | ".sens" | ".pz" | ".disto" | ".pss" | ".sp" => {
            el.warn(
                format!(
                    "analysis '{}' is not supported; ignored",
                    line.tokens[0].text
                ),
                line.tokens[0].span,
            );
        }
        _ => el.warn(
            format!("unknown dot command '{}'; ignored", line.tokens[0].text),
            line.tokens[0].span,
        ),
    }
}

fn extra(el: &mut Elab, line: &Line, from: usize) {
    if let Some(t) = line.tokens.get(from) {
        el.warn(
            format!("extra text '{}' after {} is ignored", t.text, line.head()),
            t.span,
        );
    }
}

fn value(el: &mut Elab, inst: &Inst, t: &Token) -> Option<f64> {
    el.value(inst, t)
}

/// A non-negative integer value.
fn integer(el: &mut Elab, inst: &Inst, t: &Token) -> Option<u64> {
    let v = value(el, inst, t)?;
    if v >= 0.0 && v.fract() == 0.0 && v < 1.8e19 {
        Some(v as u64)
    } else {
        el.error(
            format!("expected a non-negative integer, found {v}"),
            t.span,
            "e.g. itl1=100",
        );
        None
    }
}

fn options(el: &mut Elab, inst: &Inst, line: &Line) {
    let toks: Vec<Token> = line.tokens[1..]
        .iter()
        .filter(|t| t.kind != TokKind::Comma)
        .cloned()
        .collect();
    let (flags, kvs) = split_kv(&toks, el.diags);
    for f in flags {
        if f.kind == TokKind::Word {
            el.circuit.options.extra.insert(f.lower.clone(), 1.0);
        } else {
            el.warn(format!("'{}' in .options is ignored", f.text), f.span);
        }
    }
    for kv in kvs {
        let key = kv.key.lower.as_str();
        let t = kv.value;
        let o = &mut el.circuit.options;
        match key {
            "method" => match t.lower.as_str() {
                "trap" | "trapezoidal" => o.method = Method::Trapezoidal,
                "gear" | "bdf" => o.method = Method::Gear,
                _ => el.error(
                    format!("unknown integration method '{}'", t.text),
                    t.span,
                    "method=trap or method=gear",
                ),
            },
            "reltol" | "abstol" | "vntol" | "chgtol" | "trtol" | "gmin" | "temp" => {
                let Some(v) = value(el, inst, t) else {
                    continue;
                };
                if key != "temp" && v <= 0.0 {
                    el.error(format!("{key} must be positive"), t.span, "");
                    continue;
                }
                let o = &mut el.circuit.options;
                match key {
                    "reltol" => o.reltol = v,
                    "abstol" => o.abstol = v,
                    "vntol" => o.vntol = v,
                    "chgtol" => o.chgtol = v,
                    "trtol" => o.trtol = v,
                    "gmin" => o.gmin = v,
                    _ => o.temp_k = v + 273.15,
                }
            }
            "maxord" | "itl1" | "itl4" | "seed" => {
                let Some(v) = integer(el, inst, t) else {
                    continue;
                };
                let o = &mut el.circuit.options;
                match key {
                    "maxord" => {
                        if !(1..=6).contains(&v) {
                            el.error("maxord must be between 1 and 6", t.span, "");
                            continue;
                        }
                        o.maxord = v as usize;
                    }
                    "itl1" => o.itl1 = v as usize,
                    "itl4" => o.itl4 = v as usize,
                    _ => o.seed = Some(v),
                }
            }
            "chordtol" => {
                let Some(v) = value(el, inst, t) else {
                    continue;
                };
                if !(v >= 0.0 && v.is_finite()) {
                    el.error(
                        format!("{key} must be zero or positive"),
                        t.span,
                        "chordtol=0 turns chord steps off",
                    );
                    continue;
                }
                el.circuit.options.extra.insert(key.to_string(), v);
            }
            _ => {
                if t.looks_numeric() {
                    if let Some(v) = value(el, inst, t) {
                        el.circuit.options.extra.insert(key.to_string(), v);
                    }
                } else {
                    el.warn(
                        format!(
                            "option '{}={}' is not numeric; ignored",
                            kv.key.text, t.text
                        ),
                        t.span,
                    );
                }
            }
        }
    }
}

fn temp(el: &mut Elab, inst: &Inst, line: &Line) {
    let Some(t) = line.tokens.get(1) else {
        el.error(
            "expected a temperature in °C after .temp",
            line.end_span(),
            ".temp 27",
        );
        return;
    };
    if let Some(v) = value(el, inst, t) {
        el.circuit.options.temp_k = v + 273.15;
    }
    if let Some(x) = line.tokens.get(2) {
        el.warn("only the first .temp value is used", x.span);
    }
}

/// Parse `v(NODE)` starting at token `i`; returns the node name token and the next index.
fn v_of(toks: &[Token], i: usize) -> Option<(&Token, usize)> {
    let (v, lp, n, rp) = (
        toks.get(i)?,
        toks.get(i + 1)?,
        toks.get(i + 2)?,
        toks.get(i + 3)?,
    );
    (v.is("v")
        && lp.kind == TokKind::LParen
        && n.kind == TokKind::Word
        && rp.kind == TokKind::RParen)
        .then_some((n, i + 4))
}

fn existing_node(el: &mut Elab, t: &Token) -> Option<NodeId> {
    match el.node_id(&t.lower) {
        Some(id) => Some(id),
        None => {
            el.error(
                format!("unknown node '{}'", t.text),
                t.span,
                "no element connects to a node of this name (subcircuit nodes are written x1.node)",
            );
            None
        }
    }
}

fn initial(el: &mut Elab, inst: &Inst, line: &Line, is_ic: bool) {
    let toks = &line.tokens;
    let usage = if is_ic {
        ".ic v(NODE)=VALUE ..."
    } else {
        ".nodeset v(NODE)=VALUE ..."
    };
    if toks.len() == 1 {
        el.error(
            format!("expected v(NODE)=VALUE after {}", line.head()),
            line.end_span(),
            usage,
        );
    }
    let mut i = 1;
    while i < toks.len() {
        if toks[i].kind == TokKind::Comma {
            i += 1;
            continue;
        }
        let parsed = v_of(toks, i).and_then(|(n, j)| {
            (toks.get(j)?.kind == TokKind::Eq).then_some(())?;
            let val = toks
                .get(j + 1)
                .filter(|t| matches!(t.kind, TokKind::Word | TokKind::Expr))?;
            Some((n, val, j + 2))
        });
        let Some((n, val, next)) = parsed else {
            el.error("expected v(NODE)=VALUE", toks[i].span, usage);
            return;
        };
        i = next;
        let (Some(id), Some(v)) = (existing_node(el, n), value(el, inst, val)) else {
            continue;
        };
        if id == 0 {
            el.warn("initial condition on ground is ignored", n.span);
            continue;
        }
        let list = if is_ic {
            &mut el.circuit.ic
        } else {
            &mut el.circuit.nodeset
        };
        list.retain(|(k, _)| *k != id);
        list.push((id, v));
    }
}

fn dc(el: &mut Elab, inst: &Inst, line: &Line) {
    const USAGE: &str = ".dc SRC START STOP STEP [SRC2 START2 STOP2 STEP2]";
    let toks: Vec<&Token> = line.tokens[1..]
        .iter()
        .filter(|t| t.kind != TokKind::Comma)
        .collect();
    let toks: Vec<&Token> = if toks.first().is_some_and(|t| t.is("lin")) {
        toks[1..].to_vec()
    } else {
        toks
    };
    if toks.len() != 4 && toks.len() != 8 {
        let at = toks.get(8).map_or_else(|| line.end_span(), |t| t.span);
        el.error(
            format!("expected 4 or 8 values after .dc, got {}", toks.len()),
            at,
            USAGE,
        );
        return;
    }
    let mut sweeps = Vec::new();
    for g in toks.chunks(4) {
        let src = g[0];
        let found = el.find_element(&src.lower);
        let kind = found.map(|i| &el.circuit.elements[i].kind);
        if !matches!(
            kind,
            Some(ElementKind::VSource { .. } | ElementKind::ISource { .. })
        ) {
            let msg = if kind.is_some() {
                format!("'{}' is not an independent source", src.text)
            } else {
                format!("unknown source '{}'", src.text)
            };
            el.error(
                msg,
                src.span,
                "sweep a V or I source defined in the netlist",
            );
            return;
        }
        let (Some(start), Some(stop), Some(step)) = (
            value(el, inst, g[1]),
            value(el, inst, g[2]),
            value(el, inst, g[3]),
        ) else {
            return;
        };
        if step == 0.0 {
            el.error("the .dc step must not be 0", g[3].span, USAGE);
            return;
        }
        if (stop - start) * step < 0.0 {
            el.error(
                "the .dc step goes away from STOP",
                g[3].span,
                "use a negative step to sweep downwards",
            );
            return;
        }
        let source = found.map_or_else(
            || src.lower.clone(),
            |i| el.circuit.elements[i].name.clone(),
        );
        sweeps.push(DcSweep {
            source,
            start,
            stop,
            step,
        });
    }
    el.circuit.analyses.push(Analysis::Dc { sweeps });
}

fn tran(el: &mut Elab, inst: &Inst, line: &Line) {
    const USAGE: &str = ".tran TSTEP TSTOP [TSTART [TMAX]] [uic]";
    let mut uic = false;
    let mut vals: Vec<(f64, Span)> = Vec::new();
    for t in &line.tokens[1..] {
        if t.is("uic") {
            uic = true;
        } else if t.kind == TokKind::Comma {
        } else if vals.len() >= 4 || !matches!(t.kind, TokKind::Word | TokKind::Expr) {
            el.error(format!("unexpected '{}' in .tran", t.text), t.span, USAGE);
            return;
        } else {
            let Some(v) = value(el, inst, t) else { return };
            vals.push((v, t.span));
        }
    }
    if vals.len() < 2 {
        el.error(
            "expected TSTEP and TSTOP after .tran",
            line.end_span(),
            USAGE,
        );
        return;
    }
    let (tstep, tstop) = (vals[0].0, vals[1].0);
    let tstart = vals.get(2).map_or(0.0, |v| v.0);
    let tmax = vals.get(3).map(|v| v.0);
    let check = [
        (tstep > 0.0, 0, "TSTEP must be positive"),
        (tstop > 0.0, 1, "TSTOP must be positive"),
        (
            tstart >= 0.0 && tstart < tstop,
            2,
            "TSTART must be between 0 and TSTOP",
        ),
        (tmax.is_none_or(|m| m > 0.0), 3, "TMAX must be positive"),
    ];
    for (ok, k, msg) in check {
        if !ok {
            el.error(msg, vals[k].1, USAGE);
            return;
        }
    }
    el.circuit.analyses.push(Analysis::Tran {
        tstep,
        tstop,
        tstart,
        tmax,
        uic,
    });
}

const DEVICE_FUNCS: [&str; 6] = ["mx", "my", "mz", "temp", "r", "p"];

fn saves(el: &mut Elab, line: &Line, from: usize) {
    let toks = &line.tokens;
    let mut all = false;
    let mut out = Vec::new();
    let mut i = from;
    while i < toks.len() {
        let t = &toks[i];
        if t.kind == TokKind::Comma {
            i += 1;
            continue;
        }
        if t.kind != TokKind::Word {
            el.error(
                format!("unexpected '{}' in {}", t.text, line.head()),
                t.span,
                "e.g. .save v(out) i(vdd) mz(n1)",
            );
            return;
        }
        if toks.get(i + 1).is_some_and(|n| n.kind == TokKind::LParen) {
            let mut args = Vec::new();
            let mut j = i + 2;
            while let Some(a) = toks.get(j) {
                match a.kind {
                    TokKind::RParen => break,
                    TokKind::Comma => {}
                    TokKind::Word => args.push(a),
                    _ => {
                        el.error(
                            format!("unexpected '{}'", a.text),
                            a.span,
                            "e.g. v(a) or v(a,b)",
                        );
                        return;
                    }
                }
                j += 1;
            }
            i = j + 1;
            if let Some(r) = request(el, t, &args) {
                out.push(r);
            }
        } else {
            i += 1;
            if t.is("all") {
                all = true;
            } else if t.text.starts_with('@') {
                el.warn(
                    format!("device parameter '{}' cannot be saved yet; ignored", t.text),
                    t.span,
                );
            } else if existing_node(el, t).is_some() {
                out.push(OutputRequest::Voltage(t.lower.clone(), None));
            }
        }
    }
    if all {
        // "Save everything" is an empty list, whatever else is asked for.
        el.circuit.saves.clear();
        el.save_all = true;
        return;
    }
    if el.save_all {
        return;
    }
    for r in out {
        if !el.circuit.saves.contains(&r) {
            el.circuit.saves.push(r);
        }
    }
}

fn request(el: &mut Elab, f: &Token, args: &[&Token]) -> Option<OutputRequest> {
    let func = f.lower.as_str();
    let arity_err = |el: &mut Elab, n: &str| {
        el.error(
            format!("{func}() takes {n}"),
            f.span,
            "e.g. v(out), v(a,b), i(vdd), mz(n1)",
        );
        None
    };
    match func {
        "v" => {
            if !(1..=2).contains(&args.len()) {
                return arity_err(el, "one or two node names");
            }
            existing_node(el, args[0])?;
            if let Some(b) = args.get(1) {
                existing_node(el, b)?;
            }
            Some(OutputRequest::Voltage(
                args[0].lower.clone(),
                args.get(1).map(|b| b.lower.clone()),
            ))
        }
        "i" => {
            if args.len() != 1 {
                return arity_err(el, "one source name");
            }
            let a = args[0];
            let found = el.find_element(&a.lower);
            match found.map(|k| &el.circuit.elements[k]) {
                Some(e)
                    if matches!(
                        e.kind,
                        ElementKind::VSource { .. }
                            | ElementKind::Inductor { .. }
                            | ElementKind::Vcvs { .. }
                            | ElementKind::Ccvs { .. }
                            | ElementKind::Mtj { .. }
                    ) =>
                {
                    Some(OutputRequest::Current(e.name.clone()))
                }
                Some(_) => {
                    el.error(
                        format!(
                            "i() needs a voltage source, inductor or E/H source; '{}' is none of these",
                            a.text
                        ),
                        a.span,
                        "put a 0 V source in series to measure a current",
                    );
                    None
                }
                None => {
                    el.error(
                        format!("unknown element '{}'", a.text),
                        a.span,
                        "i() takes a V, L, E or H element name (x1.vs or v.x1.vs inside subcircuits)",
                    );
                    None
                }
            }
        }
        _ if DEVICE_FUNCS.contains(&func) => {
            if args.len() != 1 {
                return arity_err(el, "one MTJ name");
            }
            let a = args[0];
            let found = el.find_element(&a.lower);
            match found.map(|k| &el.circuit.elements[k]) {
                Some(e) if matches!(e.kind, ElementKind::Mtj { .. }) => {
                    Some(OutputRequest::Device(func.to_string(), e.name.clone()))
                }
                Some(_) => {
                    el.error(
                        format!(
                            "{func}() applies to MTJ (N) elements; '{}' is not one",
                            a.text
                        ),
                        a.span,
                        "",
                    );
                    None
                }
                None => {
                    el.error(
                        format!("unknown element '{}'", a.text),
                        a.span,
                        format!("{func}() takes an MTJ name, e.g. {func}(n1)"),
                    );
                    None
                }
            }
        }
        _ => {
            el.error(
                format!("unknown output '{}(...)'", f.text),
                f.span,
                "use v(), i(), mx(), my(), mz(), temp(), r() or p()",
            );
            None
        }
    }
}
