//! Subcircuits: grouping lines into bodies (`.subckt` … `.ends`) and flattening instances.
//!
//! Owns: the [`Body`] tree (which lines belong to which subcircuit definition, with nested
//! definitions), `.subckt` header parsing (pins, `params:` defaults), and expanding an `X`
//! line: pin mapping, the instance's parameter scope, local models, recursion and depth
//! limits. Hierarchical names are `x1.r1` (elements), `x1.mid` (nodes), `x1.x2.r1`.
//! Must not know how individual elements are parsed (that is `elements.rs`).

use rustc_hash::FxHashMap as HashMap;
use std::rc::Rc;

use super::elaborate::{Elab, Inst};
use super::lines::{Line, TokKind, split_kv};
use super::model;
use super::params::{self, ParamDef, Scope};
use super::{dot, elements};
use crate::diag::{Diagnostic, Diagnostics, SourceMap, Span};

/// Deepest subcircuit nesting (definitions and instances).
pub const MAX_DEPTH: usize = 64;

/// The statements of the top level or of one subcircuit definition.
#[derive(Debug, Default)]
pub struct Body {
    pub elements: Vec<Line>,
    pub params: Vec<ParamDef>,
    pub models: Vec<Line>,
    pub subckts: HashMap<String, Rc<SubcktDef>>,
    /// Other dot commands (only meaningful at the top level).
    pub commands: Vec<Line>,
}

/// One `.subckt NAME PINS... [params: a=1 b=2]` definition.
#[derive(Debug)]
pub struct SubcktDef {
    pub name: String,
    pub name_span: Span,
    pub pins: Vec<(String, Span)>,
    /// Declared parameters with their defaults.
    pub params: Vec<ParamDef>,
    pub body: Body,
}

/// Group lines into the top-level body.
pub fn build(lines: &[Line], sources: &SourceMap, diags: &mut Diagnostics) -> Body {
    let mut i = 0;
    parse_body(lines, &mut i, None, 0, sources, diags)
}

fn parse_body(
    lines: &[Line],
    i: &mut usize,
    header: Option<&Line>,
    depth: usize,
    sources: &SourceMap,
    diags: &mut Diagnostics,
) -> Body {
    let mut body = Body::default();
    while *i < lines.len() {
        let line = &lines[*i];
        *i += 1;
        match line.head() {
            ".subckt" => {
                if depth + 1 >= MAX_DEPTH {
                    diags.push(Diagnostic::error(
                        format!("subcircuit definitions nested more than {MAX_DEPTH} levels deep"),
                        Some(line.tokens[0].span),
                    ));
                    skip_definition(lines, i);
                    continue;
                }
                let def = parse_header(line, sources, diags);
                let inner = parse_body(lines, i, Some(line), depth + 1, sources, diags);
                if let Some((name, name_span, pins, params)) = def {
                    if body.subckts.contains_key(&name) {
                        diags.push(Diagnostic::warning(
                            format!(
                                "subcircuit '{name}' is defined again; the last definition is used"
                            ),
                            Some(name_span),
                        ));
                    }
                    let def = SubcktDef {
                        name: name.clone(),
                        name_span,
                        pins,
                        params,
                        body: inner,
                    };
                    body.subckts.insert(name, Rc::new(def));
                }
            }
            ".ends" => {
                if let Some(h) = header {
                    if let (Some(end), Some(name)) = (line.tokens.get(1), h.tokens.get(1))
                        && end.lower != name.lower
                    {
                        diags.push(Diagnostic::warning(
                            format!("'.ends {}' closes subcircuit '{}'", end.text, name.text),
                            Some(end.span),
                        ));
                    }
                    return body;
                }
                diags.push(
                    Diagnostic::error(
                        "'.ends' without a matching '.subckt'",
                        Some(line.tokens[0].span),
                    )
                    .with_help("remove it, or add the '.subckt NAME PINS...' line it closes"),
                );
            }
            ".param" => body
                .params
                .extend(params::parse_param_line(line, sources, diags)),
            ".model" => body.models.push(line.clone()),
            h if h.starts_with('.') => {
                if header.is_some() && !dot::allowed_in_subckt(h) {
                    diags.push(Diagnostic::warning(
                        format!(
                            "'{}' inside a subcircuit definition is ignored",
                            line.tokens[0].text
                        ),
                        Some(line.tokens[0].span),
                    ));
                } else {
                    body.commands.push(line.clone());
                }
            }
            _ => body.elements.push(line.clone()),
        }
    }
    if let Some(h) = header {
        let name = h.tokens.get(1).map_or("", |t| t.text.as_str());
        diags.push(
            Diagnostic::error(
                format!("missing .ends for subcircuit '{name}'"),
                Some(h.span_at(1)),
            )
            .with_help(format!(
                "add '.ends {name}' after the subcircuit's last line"
            )),
        );
    }
    body
}

fn skip_definition(lines: &[Line], i: &mut usize) {
    let mut depth = 1usize;
    while *i < lines.len() {
        match lines[*i].head() {
            ".subckt" => depth += 1,
            ".ends" => depth -= 1,
            _ => {}
        }
        *i += 1;
        if depth == 0 {
            return;
        }
    }
}

type Header = (String, Span, Vec<(String, Span)>, Vec<ParamDef>);

fn parse_header(line: &Line, _sources: &SourceMap, diags: &mut Diagnostics) -> Option<Header> {
    let toks = &line.tokens;
    let Some(name) = toks.get(1).filter(|t| t.kind == TokKind::Word) else {
        diags.push(
            Diagnostic::error(
                "expected a subcircuit name after .subckt",
                Some(line.span_at(1)),
            )
            .with_help(".subckt NAME PIN1 PIN2 ... [params: p=1 ...]"),
        );
        return None;
    };
    let mut pins: Vec<(String, Span)> = Vec::new();
    let mut k = 2;
    while k < toks.len() {
        let t = &toks[k];
        if t.is("params:") {
            k += 1;
            break;
        }
        if t.kind != TokKind::Word || toks.get(k + 1).is_some_and(|n| n.kind == TokKind::Eq) {
            break;
        }
        if t.lower == "0" || t.lower == "gnd" {
            diags.push(
                Diagnostic::error("ground cannot be a subcircuit pin", Some(t.span))
                    .with_help("ground is global; use it inside the subcircuit directly"),
            );
        } else if pins.iter().any(|(p, _)| *p == t.lower) {
            diags.push(Diagnostic::error(
                format!("pin '{}' is listed twice", t.text),
                Some(t.span),
            ));
        } else {
            pins.push((t.lower.clone(), t.span));
        }
        k += 1;
    }
    let (pos, kvs) = split_kv(&toks[k.min(toks.len())..], diags);
    for p in pos {
        if !p.is("params:") {
            diags.push(
                Diagnostic::error(
                    format!("unexpected '{}' in .subckt line", p.text),
                    Some(p.span),
                )
                .with_help("pins come first, then parameters as NAME=VALUE"),
            );
        }
    }
    let mut defs: Vec<ParamDef> = Vec::new();
    for kv in kvs {
        if !params::is_ident(&kv.key.lower) {
            diags.push(Diagnostic::error(
                format!("invalid parameter name '{}'", kv.key.text),
                Some(kv.key.span),
            ));
            continue;
        }
        defs.retain(|d| d.name != kv.key.lower);
        defs.push(ParamDef {
            name: kv.key.lower.clone(),
            span: kv.key.span,
            value: super::expr::ExprSrc::from_token(kv.value),
        });
    }
    Some((name.lower.clone(), name.span, pins, defs))
}

/// Expand every element of an instance's body (models are already in `inst`).
pub(crate) fn expand_body(el: &mut Elab, inst: &Inst) {
    for line in &inst.body.elements {
        if el.too_big {
            return;
        }
        elements::element(el, inst, line);
    }
}

/// Expand one `Xname nodes... subname [params:] [p=v ...]` line.
pub(crate) fn instance(el: &mut Elab, inst: &Inst, line: &Line, name: &str) {
    let toks = &line.tokens;
    let mut k = 1;
    let mut positional = Vec::new();
    while k < toks.len() {
        let t = &toks[k];
        if t.is("params:") || toks.get(k + 1).is_some_and(|n| n.kind == TokKind::Eq) {
            break;
        }
        positional.push(t);
        k += 1;
    }
    if toks.get(k).is_some_and(|t| t.is("params:")) {
        k += 1;
    }
    let Some((sub_tok, node_toks)) = positional.split_last() else {
        el.diags.push(
            Diagnostic::error(
                format!("'{}' needs nodes and a subcircuit name", toks[0].text),
                Some(line.end_span()),
            )
            .with_help("X<name> NODE1 NODE2 ... SUBCKT [param=value ...]"),
        );
        return;
    };
    if sub_tok.kind != TokKind::Word {
        el.diags.push(
            Diagnostic::error(
                format!("expected a subcircuit name, found '{}'", sub_tok.text),
                Some(sub_tok.span),
            )
            .with_help("X<name> NODE1 NODE2 ... SUBCKT [param=value ...]"),
        );
        return;
    }
    let sub = sub_tok.lower.as_str();
    let Some(def) = inst.find_subckt(sub) else {
        let mut names = inst.subckt_names();
        names.sort();
        let help = if names.is_empty() {
            format!("define it with '.subckt {sub} PINS...' ... '.ends'")
        } else {
            format!("defined subcircuits: {}", names.join(", "))
        };
        el.diags.push(
            Diagnostic::error(
                format!("unknown subcircuit '{}'", sub_tok.text),
                Some(sub_tok.span),
            )
            .with_help(help),
        );
        return;
    };
    // Recursion: the same definition already being expanded above us.
    let mut chain = Vec::new();
    let mut cur = Some(inst);
    while let Some(c) = cur {
        if let Some(d) = &c.def_name {
            chain.push(d.clone());
            if d == sub {
                chain.reverse();
                chain.push(sub.to_string());
                el.diags.push(
                    Diagnostic::error(format!("recursive subcircuit '{sub}'"), Some(sub_tok.span))
                        .with_help(format!("instantiation chain: {}", chain.join(" -> "))),
                );
                return;
            }
        }
        cur = c.parent;
    }
    if inst.depth + 1 >= MAX_DEPTH {
        el.diags.push(Diagnostic::error(
            format!("subcircuit instances nested more than {MAX_DEPTH} levels deep"),
            Some(toks[0].span),
        ));
        return;
    }
    if node_toks.len() != def.pins.len() {
        let pins: Vec<&str> = def.pins.iter().map(|(p, _)| p.as_str()).collect();
        let at = node_toks.first().map_or(sub_tok.span, |t| Span {
            end: node_toks[node_toks.len() - 1].span.end,
            ..t.span
        });
        el.diags.push(
            Diagnostic::error(
                format!(
                    "subcircuit '{sub}' has {} pin{} ({}), but '{}' connects {} node{}",
                    pins.len(),
                    if pins.len() == 1 { "" } else { "s" },
                    pins.join(" "),
                    toks[0].text,
                    node_toks.len(),
                    if node_toks.len() == 1 { "" } else { "s" },
                ),
                Some(at),
            )
            .with_help(format!(
                "X<name> {} {sub} [param=value ...]",
                pins.join(" ")
            )),
        );
        return;
    }
    if !el.register_instance(name, toks[0].span) {
        return;
    }
    let mut pins = HashMap::default();
    for ((pin, _), t) in def.pins.iter().zip(node_toks) {
        let Some(id) = el.node(inst, t) else { return };
        pins.insert(pin.clone(), id);
    }
    // Parameters: instance overrides (evaluated here, in the parent's scope), then defaults
    // and body `.param`s (evaluated lazily in the new scope).
    let scope = Scope::new(Some(inst.params));
    let (extra, kvs) = split_kv(&toks[k.min(toks.len())..], el.diags);
    for t in extra {
        el.diags.push(
            Diagnostic::error(
                format!("unexpected '{}' after the parameters", t.text),
                Some(t.span),
            )
            .with_help("parameters are written NAME=VALUE"),
        );
    }
    let mut ok = true;
    for kv in kvs {
        if !def.params.iter().any(|p| p.name == kv.key.lower) {
            let declared: Vec<&str> = def.params.iter().map(|p| p.name.as_str()).collect();
            let help = if declared.is_empty() {
                format!(
                    "'{sub}' declares no parameters; add 'params: {}=...' to its .subckt line",
                    kv.key.lower
                )
            } else {
                format!("its parameters are: {}", declared.join(", "))
            };
            el.diags.push(
                Diagnostic::error(
                    format!("subcircuit '{sub}' has no parameter '{}'", kv.key.text),
                    Some(kv.key.span),
                )
                .with_help(help),
            );
            ok = false;
            continue;
        }
        match el.value(inst, kv.value) {
            Some(v) => scope.set(&kv.key.lower, v),
            None => ok = false,
        }
    }
    if !ok {
        return;
    }
    for p in def.params.iter().chain(&def.body.params) {
        if !scope.has_local(&p.name) {
            scope.define(p, el.diags);
        }
    }
    scope.eval_all(el.diags);
    let prefix = format!("{name}.");
    let models = model::eval_models(el, &scope, &def.body.models, &prefix);
    let child = Inst {
        prefix,
        pins,
        params: &scope,
        models,
        body: &def.body,
        parent: Some(inst),
        depth: inst.depth + 1,
        def_name: Some(sub.to_string()),
    };
    expand_body(el, &child);
}

#[cfg(test)]
mod tests {
    use super::super::lines;
    use super::*;

    #[test]
    fn bodies_and_nesting() {
        let text = "R1 a 0 1\n.subckt inv in out params: w=1\n.subckt inner a\nR a 0 1\n.ends\nR2 in out 1\n.ends inv\n.param g=1\n.tran 1n 10n\n";
        let mut sm = SourceMap::default();
        let f = sm.add("t", text);
        let mut d = Diagnostics::default();
        let s = lines::split(f, text, false, &mut d);
        let b = build(&s.lines, &sm, &mut d);
        assert!(d.items.is_empty(), "{:?}", d.items);
        assert_eq!(b.elements.len(), 1);
        assert_eq!(b.params.len(), 1);
        assert_eq!(b.commands.len(), 1);
        let inv = &b.subckts["inv"];
        assert_eq!(
            inv.pins.iter().map(|p| p.0.as_str()).collect::<Vec<_>>(),
            ["in", "out"]
        );
        assert_eq!(inv.params[0].name, "w");
        assert_eq!(inv.body.elements.len(), 1);
        assert!(inv.body.subckts.contains_key("inner"));
    }

    #[test]
    fn missing_ends_and_stray_ends() {
        let text = ".ends\n.subckt a x\nR1 x 0 1\n";
        let mut sm = SourceMap::default();
        let f = sm.add("t", text);
        let mut d = Diagnostics::default();
        let s = lines::split(f, text, false, &mut d);
        let _ = build(&s.lines, &sm, &mut d);
        let m: Vec<&str> = d.items.iter().map(|x| x.message.as_str()).collect();
        assert_eq!(
            m,
            [
                "'.ends' without a matching '.subckt'",
                "missing .ends for subcircuit 'a'"
            ]
        );
    }

    #[test]
    fn deep_definitions_do_not_overflow() {
        let text = ".subckt a x\n".repeat(5000);
        let mut sm = SourceMap::default();
        let f = sm.add("t", text.as_str());
        let mut d = Diagnostics::default();
        let s = lines::split(f, &text, false, &mut d);
        let _ = build(&s.lines, &sm, &mut d);
        assert!(d.has_errors());
    }
}
