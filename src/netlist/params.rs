//! `.param` definitions and parameter scopes.
//!
//! Owns: parsing `.param` lines into [`ParamDef`]s and resolving names in nested scopes
//! (global → subcircuit instance → nested instance). Must not know about elements.
//!
//! Rules: within one scope definitions are order-independent and evaluated lazily, so a
//! parameter may reference one defined later; a name is looked up in the innermost scope
//! that defines it, then outward. A subcircuit instance's scope holds the subcircuit's
//! `params:` defaults (overridden by the instance's `name=value`, which are evaluated in the
//! *instantiating* scope) and the `.param` lines of its body. A definition that depends on
//! itself (directly or through others) is an error, as is a reference chain deeper than
//! [`expr::MAX_DEPTH`]. The constant `pi` is used when no scope defines `pi`.

use rustc_hash::FxHashMap as HashMap;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

use super::expr::{self, ExprSrc};
use super::lines::{Line, TokKind};
use crate::diag::{Diagnostic, Diagnostics, SourceMap, Span};

/// One `name = expression` definition.
#[derive(Debug, Clone)]
pub struct ParamDef {
    pub name: String,
    pub span: Span,
    pub value: ExprSrc,
}

/// Whether `s` is a valid parameter name: a letter or `_`, then letters, digits, `_`.
pub fn is_ident(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(ch) if ch.is_ascii_alphabetic() || ch == '_')
        && c.all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
}

/// Parse `.param a=1 b={2*a} c = 3 * a` (values may span several tokens).
pub fn parse_param_line(
    line: &Line,
    sources: &SourceMap,
    diags: &mut Diagnostics,
) -> Vec<ParamDef> {
    let toks = &line.tokens;
    let mut out = Vec::new();
    let mut i = 1;
    if toks.len() == 1 {
        diags.push(
            Diagnostic::error("expected NAME=VALUE after .param", Some(line.end_span()))
                .with_help("e.g. .param vdd=1.2 w={2*l}"),
        );
    }
    while i < toks.len() {
        let t = &toks[i];
        if t.kind == TokKind::Comma {
            i += 1;
            continue;
        }
        let has_eq = toks.get(i + 1).is_some_and(|n| n.kind == TokKind::Eq);
        if t.kind != TokKind::Word || !has_eq {
            diags.push(
                Diagnostic::error(
                    format!("expected NAME=VALUE, found '{}'", t.text),
                    Some(t.span),
                )
                .with_help("e.g. .param vdd=1.2 w={2*l}"),
            );
            return out;
        }
        if !is_ident(&t.lower) {
            diags.push(
                Diagnostic::error(format!("invalid parameter name '{}'", t.text), Some(t.span))
                    .with_help(
                        "parameter names start with a letter and contain letters, digits and '_'",
                    ),
            );
            return out;
        }
        let v0 = i + 2;
        let mut j = v0;
        while j < toks.len()
            && !(toks[j].kind == TokKind::Word
                && toks.get(j + 1).is_some_and(|n| n.kind == TokKind::Eq))
        {
            j += 1;
        }
        let mut vend = j;
        while vend > v0 && toks[vend - 1].kind == TokKind::Comma {
            vend -= 1;
        }
        match ExprSrc::from_tokens(&toks[v0..vend], sources) {
            Some(value) => out.push(ParamDef {
                name: t.lower.clone(),
                span: t.span,
                value,
            }),
            None => {
                diags.push(
                    Diagnostic::error(
                        format!("expected a value after '{}='", t.text),
                        Some(line.span_at(i + 1)),
                    )
                    .with_help("e.g. .param vdd=1.2 w={2*l}"),
                );
                return out;
            }
        }
        i = j;
    }
    out
}

#[derive(Debug, Clone)]
enum Entry {
    Value(f64),
    Pending(Rc<ExprSrc>, Span),
    Busy,
    Failed,
}

/// A parameter scope; child scopes borrow their parent.
#[derive(Debug)]
pub struct Scope<'p> {
    parent: Option<&'p Scope<'p>>,
    entries: RefCell<HashMap<String, Entry>>,
    order: RefCell<Vec<String>>,
    /// Names being evaluated in this scope (for cycle messages).
    stack: RefCell<Vec<String>>,
    /// Total evaluation depth, shared with all scopes of the same tree.
    depth: Rc<Cell<usize>>,
}

impl<'p> Scope<'p> {
    pub fn new(parent: Option<&'p Scope<'p>>) -> Self {
        Scope {
            parent,
            entries: RefCell::default(),
            order: RefCell::default(),
            stack: RefCell::default(),
            depth: parent.map_or_else(Rc::default, |p| p.depth.clone()),
        }
    }

    /// Whether this scope itself (not a parent) defines `name`.
    pub fn has_local(&self, name: &str) -> bool {
        self.entries.borrow().contains_key(name)
    }

    /// Set an already-evaluated value.
    pub fn set(&self, name: &str, v: f64) {
        if self
            .entries
            .borrow_mut()
            .insert(name.to_string(), Entry::Value(v))
            .is_none()
        {
            self.order.borrow_mut().push(name.to_string());
        }
    }

    /// Add a lazily evaluated definition; a redefinition in the same scope wins, with a warning.
    pub fn define(&self, def: &ParamDef, diags: &mut Diagnostics) {
        let old = self.entries.borrow_mut().insert(
            def.name.clone(),
            Entry::Pending(Rc::new(def.value.clone()), def.span),
        );
        match old {
            None => self.order.borrow_mut().push(def.name.clone()),
            Some(_) => diags.push(Diagnostic::warning(
                format!(
                    "parameter '{}' is defined again; the last definition is used",
                    def.name
                ),
                Some(def.span),
            )),
        }
    }

    /// Evaluate every pending definition (so errors in unused parameters are reported too).
    pub fn eval_all(&self, diags: &mut Diagnostics) {
        let names = self.order.borrow().clone();
        for n in names {
            let span = match self.entries.borrow().get(&n) {
                Some(Entry::Pending(_, s)) => Some(*s),
                _ => None,
            };
            if let Some(span) = span {
                self.resolve(&n, span, diags);
            }
        }
    }

    /// Evaluate an expression in this scope.
    pub fn eval(&self, src: &ExprSrc, diags: &mut Diagnostics) -> Option<f64> {
        let mut f = |name: &str, span: Span, d: &mut Diagnostics| self.lookup(name, span, d);
        expr::eval(src, &mut f, diags)
    }

    /// Value of a parameter referenced at `span`, searching outward.
    pub fn lookup(&self, name: &str, span: Span, diags: &mut Diagnostics) -> Option<f64> {
        let mut s = Some(self);
        while let Some(sc) = s {
            if sc.has_local(name) {
                return sc.resolve(name, span, diags);
            }
            s = sc.parent;
        }
        if name == "pi" {
            return Some(std::f64::consts::PI);
        }
        let mut names = self.visible();
        let help = if names.is_empty() {
            format!("no parameters are defined here; add '.param {name}=VALUE'")
        } else {
            names.sort();
            names.dedup();
            let more = if names.len() > 12 { ", ..." } else { "" };
            names.truncate(12);
            format!("defined parameters: {}{more}", names.join(", "))
        };
        diags.push(
            Diagnostic::error(format!("undefined parameter '{name}'"), Some(span)).with_help(help),
        );
        None
    }

    fn visible(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut s = Some(self);
        while let Some(sc) = s {
            out.extend(sc.order.borrow().iter().cloned());
            s = sc.parent;
        }
        out
    }

    fn resolve(&self, name: &str, span: Span, diags: &mut Diagnostics) -> Option<f64> {
        let entry = self.entries.borrow().get(name).cloned();
        match entry {
            Some(Entry::Value(v)) => Some(v),
            None | Some(Entry::Failed) => None,
            Some(Entry::Busy) => {
                let stack = self.stack.borrow();
                let from = stack.iter().position(|n| n == name).unwrap_or(0);
                let mut cycle: Vec<&str> = stack[from..].iter().map(String::as_str).collect();
                cycle.push(name);
                diags.push(
                    Diagnostic::error(format!("parameter '{name}' depends on itself"), Some(span))
                        .with_help(format!("cycle: {}", cycle.join(" -> "))),
                );
                None
            }
            Some(Entry::Pending(src, _)) => {
                if self.depth.get() >= expr::MAX_DEPTH {
                    diags.push(
                        Diagnostic::error(
                            format!(
                                "parameter references nested more than {} levels deep",
                                expr::MAX_DEPTH
                            ),
                            Some(span),
                        )
                        .with_help("simplify the chain of parameter definitions"),
                    );
                    return None;
                }
                self.entries
                    .borrow_mut()
                    .insert(name.to_string(), Entry::Busy);
                self.stack.borrow_mut().push(name.to_string());
                self.depth.set(self.depth.get() + 1);
                let r = self.eval(&src, diags);
                self.depth.set(self.depth.get() - 1);
                self.stack.borrow_mut().pop();
                let e = r.map_or(Entry::Failed, Entry::Value);
                self.entries.borrow_mut().insert(name.to_string(), e);
                r
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::lines;
    use super::*;

    fn scope_from(text: &str) -> (SourceMap, Vec<ParamDef>, Diagnostics) {
        let mut sm = SourceMap::default();
        let f = sm.add("t.cir", text);
        let mut d = Diagnostics::default();
        let s = lines::split(f, text, false, &mut d);
        let mut defs = Vec::new();
        for l in &s.lines {
            defs.extend(parse_param_line(l, &sm, &mut d));
        }
        (sm, defs, d)
    }

    fn val(s: &Scope, name: &str, d: &mut Diagnostics) -> Option<f64> {
        s.lookup(name, Span::default(), d)
    }

    #[test]
    fn forward_references_and_unbraced_values() {
        let (_sm, defs, mut d) =
            scope_from(".param a={b*2} b=3\n.param c = a + (b - 1) * 2, e='c/2'\n");
        let g = Scope::new(None);
        for p in &defs {
            g.define(p, &mut d);
        }
        g.eval_all(&mut d);
        assert!(d.items.is_empty(), "{:?}", d.items);
        assert_eq!(val(&g, "a", &mut d), Some(6.0));
        assert_eq!(val(&g, "c", &mut d), Some(10.0));
        assert_eq!(val(&g, "e", &mut d), Some(5.0));
    }

    #[test]
    fn child_scope_shadows_and_sees_parent() {
        let (_sm, defs, mut d) = scope_from(".param w=1 l={w*2}\n");
        let g = Scope::new(None);
        for p in &defs {
            g.define(p, &mut d);
        }
        let c = Scope::new(Some(&g));
        c.set("w", 5.0);
        let (_sm2, defs2, _) = scope_from(".param area={w*l}\n");
        c.define(&defs2[0], &mut d);
        // `l` is global and sees the global `w`; `area` sees the local `w`.
        assert_eq!(val(&c, "area", &mut d), Some(10.0));
        assert_eq!(val(&g, "w", &mut d), Some(1.0));
    }

    #[test]
    fn cycles_are_reported_once() {
        let (_sm, defs, mut d) = scope_from(".param a={b} b={c+1} c={a}\n.param s={s}\n");
        let g = Scope::new(None);
        for p in &defs {
            g.define(p, &mut d);
        }
        g.eval_all(&mut d);
        let errs: Vec<_> = d
            .items
            .iter()
            .map(|x| (x.message.clone(), x.help.clone()))
            .collect();
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert_eq!(errs[0].0, "parameter 'a' depends on itself");
        assert_eq!(errs[0].1.as_deref(), Some("cycle: a -> b -> c -> a"));
        assert_eq!(errs[1].0, "parameter 's' depends on itself");
    }

    #[test]
    fn long_chains_are_limited() {
        let mut text = String::from(".param p0=1\n");
        for i in 1..200 {
            text.push_str(&format!(".param p{i}={{p{}+1}}\n", i - 1));
        }
        let (_sm, defs, mut d) = scope_from(&text);
        let g = Scope::new(None);
        for p in &defs {
            g.define(p, &mut d);
        }
        assert_eq!(val(&g, "p199", &mut d), None);
        assert!(d.items[0].message.contains("nested more than"));
        let mut d = Diagnostics::default();
        assert_eq!(val(&g, "p30", &mut d), Some(31.0));
    }

    #[test]
    fn bad_param_lines() {
        for text in [".param\n", ".param a\n", ".param 1a=2\n", ".param a=\n"] {
            let (_sm, _defs, d) = scope_from(text);
            assert!(d.has_errors(), "{text}");
        }
    }
}
