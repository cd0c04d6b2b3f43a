//! `.model NAME TYPE (PARAM=VALUE ...)` cards.
//!
//! Owns: parsing and evaluating one model card into a [`Model`] (numeric values may be
//! numbers or `{expressions}`; a bare word such as `easy=z` is a string parameter), and the
//! LEVEL check for MOSFET models. Must not know which element uses which parameter.

use std::collections::HashMap;

use super::elaborate::Elab;
use super::expr::ExprSrc;
use super::lines::{Line, TokKind, split_kv};
use super::params::Scope;
use crate::circuit::Model;
use crate::diag::{Diagnostic, Diagnostics};

/// Parse and evaluate one `.model` line in `scope`. Returns the local (lowercase) name and
/// the model, whose `name` is `prefix` + local name.
pub fn parse_model(
    line: &Line,
    scope: &Scope,
    prefix: &str,
    diags: &mut Diagnostics,
) -> Option<(String, Model)> {
    let toks = &line.tokens;
    let usage = ".model NAME TYPE (PARAM=VALUE ...), e.g. .model d1 d (is=1e-14 n=1.05)";
    let Some(name) = toks.get(1).filter(|t| t.kind == TokKind::Word) else {
        diags.push(
            Diagnostic::error("expected a model name after .model", Some(line.span_at(1)))
                .with_help(usage),
        );
        return None;
    };
    let Some(kind) = toks
        .get(2)
        .filter(|t| t.kind == TokKind::Word && toks.get(3).is_none_or(|n| n.kind != TokKind::Eq))
    else {
        diags.push(
            Diagnostic::error(
                format!("expected a model type after '.model {}'", name.text),
                Some(line.span_at(2)),
            )
            .with_help(usage),
        );
        return None;
    };
    let rest: Vec<_> = toks[3..]
        .iter()
        .filter(|t| !matches!(t.kind, TokKind::LParen | TokKind::RParen | TokKind::Comma))
        .cloned()
        .collect();
    let (pos, kvs) = split_kv(&rest, diags);
    for p in pos {
        diags.push(
            Diagnostic::warning(
                format!("'{}' in a .model line is ignored", p.text),
                Some(p.span),
            )
            .with_help("model parameters are written NAME=VALUE"),
        );
    }
    let mut model = Model {
        name: format!("{prefix}{}", name.lower),
        kind: kind.lower.clone(),
        params: HashMap::new(),
        string_params: HashMap::new(),
        span: line.span,
    };
    for kv in kvs {
        let key = kv.key.lower.clone();
        let v = kv.value;
        let is_string = v.kind == TokKind::Str || (v.kind == TokKind::Word && !v.looks_numeric());
        if is_string {
            model.string_params.insert(key, v.lower.clone());
            continue;
        }
        // On error the parameter is left out but the model is still defined, so the
        // elements that use it do not report a second, misleading "unknown model".
        let Some(x) = scope.eval(&ExprSrc::from_token(v), diags) else {
            continue;
        };
        if key == "level" && matches!(model.kind.as_str(), "nmos" | "pmos") && x != 1.0 {
            diags.push(
                Diagnostic::error("only LEVEL=1 MOSFETs are supported", Some(v.span))
                    .with_help("remove LEVEL or set level=1 (Shichman-Hodges)"),
            );
        }
        model.params.insert(key, x);
    }
    Some((name.lower.clone(), model))
}

/// Evaluate the `.model` lines of one body into the circuit; returns local name → key.
pub(crate) fn eval_models(
    el: &mut Elab,
    scope: &Scope,
    lines: &[Line],
    prefix: &str,
) -> rustc_hash::FxHashMap<String, String> {
    let mut local = rustc_hash::FxHashMap::default();
    for line in lines {
        let Some((name, model)) = parse_model(line, scope, prefix, el.diags) else {
            continue;
        };
        if local.contains_key(&name) {
            el.warn(
                format!("model '{name}' is defined again; the last definition is used"),
                line.span_at(1),
            );
        }
        local.insert(name, model.name.clone());
        el.circuit.models.insert(model.name.clone(), model);
    }
    local
}
