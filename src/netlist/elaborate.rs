//! Elaboration: from the grouped statements to a flat [`Circuit`].
//!
//! Owns: the node and element registries (numbering, hierarchical names, duplicates), value
//! evaluation in an instance's scope, model lookup through the scope chain, and the order of
//! the whole pass (globals, top-level params and models, elements, controlled-source
//! references, dot commands, topology checks). Must not parse individual element lines
//! (`elements.rs`), dot commands (`dot.rs`) or subcircuit instances (`subckt.rs`).

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::rc::Rc;

use super::expr::ExprSrc;
use super::lines::{Line, TokKind, Token};
use super::params::Scope;
use super::subckt::{self, Body, SubcktDef};
use super::{check, dot, model};
use crate::circuit::{Circuit, Element, ElementKind, GROUND, NodeId};
use crate::diag::{Diagnostic, Diagnostics, SourceMap, Span};

/// Upper bound on flattened elements (protects against exponential subcircuit blow-up).
pub const MAX_ELEMENTS: usize = 10_000_000;

/// One subcircuit instance being expanded (the top level is an instance with no prefix).
pub(crate) struct Inst<'a> {
    /// `""` at the top, `"x1."`, `"x1.x2."` below.
    pub prefix: String,
    /// Pin name → node in the parent.
    pub pins: HashMap<String, NodeId>,
    pub params: &'a Scope<'a>,
    /// Local model name → key in [`Circuit::models`].
    pub models: HashMap<String, String>,
    pub body: &'a Body,
    pub parent: Option<&'a Inst<'a>>,
    pub depth: usize,
    /// Name of the subcircuit definition (None at the top).
    pub def_name: Option<String>,
}

impl Inst<'_> {
    /// Model key for a local name, searching outward to the global models.
    pub fn find_model(&self, name: &str) -> Option<String> {
        let mut cur = Some(self);
        while let Some(c) = cur {
            if let Some(k) = c.models.get(name) {
                return Some(k.clone());
            }
            cur = c.parent;
        }
        None
    }

    /// All model names visible here.
    pub fn model_names(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut cur = Some(self);
        while let Some(c) = cur {
            out.extend(c.models.keys().cloned());
            cur = c.parent;
        }
        out.sort();
        out.dedup();
        out
    }

    /// Subcircuit definition visible here (innermost first).
    pub fn find_subckt(&self, name: &str) -> Option<Rc<SubcktDef>> {
        let mut cur = Some(self);
        while let Some(c) = cur {
            if let Some(d) = c.body.subckts.get(name) {
                return Some(d.clone());
            }
            cur = c.parent;
        }
        None
    }

    pub fn subckt_names(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut cur = Some(self);
        while let Some(c) = cur {
            out.extend(c.body.subckts.keys().cloned());
            cur = c.parent;
        }
        out.sort();
        out.dedup();
        out
    }
}

/// State of one elaboration pass.
pub(crate) struct Elab<'a> {
    pub sources: &'a SourceMap,
    pub diags: &'a mut Diagnostics,
    pub circuit: Circuit,
    node_ids: HashMap<String, NodeId>,
    /// First token that used each node (index-aligned with `circuit.nodes`).
    pub node_use: Vec<Option<Span>>,
    elem_ids: HashMap<String, usize>,
    inst_names: HashMap<String, Span>,
    /// (element name, controlling source name, span of the reference) for F and H.
    pub pending_ctrl: Vec<(String, String, Span)>,
    /// `.global` node names (not prefixed inside subcircuits).
    pub globals: HashSet<String>,
    /// Set when [`MAX_ELEMENTS`] is exceeded; expansion stops.
    pub too_big: bool,
    /// `.save all` was seen: `circuit.saves` stays empty.
    pub save_all: bool,
}

impl<'a> Elab<'a> {
    pub fn new(sources: &'a SourceMap, diags: &'a mut Diagnostics) -> Self {
        let circuit = Circuit {
            nodes: vec!["0".to_string()],
            ..Circuit::default()
        };
        Elab {
            sources,
            diags,
            circuit,
            node_ids: HashMap::default(),
            node_use: vec![None],
            elem_ids: HashMap::default(),
            inst_names: HashMap::default(),
            pending_ctrl: Vec::new(),
            globals: HashSet::default(),
            too_big: false,
            save_all: false,
        }
    }

    /// Report an error; an empty `help` is left out.
    pub fn error(&mut self, msg: impl Into<String>, span: Span, help: impl Into<String>) {
        let help = help.into();
        let d = Diagnostic::error(msg, Some(span));
        self.diags.push(if help.is_empty() {
            d
        } else {
            d.with_help(help)
        });
    }

    pub fn warn(&mut self, msg: impl Into<String>, span: Span) {
        self.diags.push(Diagnostic::warning(msg, Some(span)));
    }

    /// `file:line:col` of a span, for help texts.
    pub fn loc(&self, span: Span) -> String {
        let (l, c) = self.sources.line_col(span);
        let path = self
            .sources
            .files
            .get(span.file)
            .map_or("?", |f| f.path.as_str());
        format!("{path}:{l}:{c}")
    }

    /// Node id for a node token in an instance (creating the node on first use).
    pub fn node(&mut self, inst: &Inst, tok: &Token) -> Option<NodeId> {
        if tok.kind != TokKind::Word {
            self.error(
                format!("expected a node name, found '{}'", tok.text),
                tok.span,
                "node names are plain words",
            );
            return None;
        }
        let n = tok.lower.as_str();
        if n == "0" || n == "gnd" {
            return Some(GROUND);
        }
        if let Some(&id) = inst.pins.get(n) {
            return Some(id);
        }
        let full = if self.globals.contains(n) {
            n.to_string()
        } else {
            format!("{}{n}", inst.prefix)
        };
        if let Some(&id) = self.node_ids.get(&full) {
            return Some(id);
        }
        let id = self.circuit.nodes.len();
        self.circuit.nodes.push(full.clone());
        self.node_use.push(Some(tok.span));
        self.node_ids.insert(full, id);
        Some(id)
    }

    /// Evaluate a value token (`1k`, `{2*w}`, `'w/2'`, `w`) in the instance's scope.
    pub fn value(&mut self, inst: &Inst, tok: &Token) -> Option<f64> {
        if !matches!(tok.kind, TokKind::Word | TokKind::Expr) {
            self.error(
                format!("expected a value, found '{}'", tok.text),
                tok.span,
                "values are numbers (1k, 2.2e-9), parameter names or {expressions}",
            );
            return None;
        }
        inst.params.eval(&ExprSrc::from_token(tok), self.diags)
    }

    /// Resolve a model reference for an element that needs one of the types `want`.
    pub fn model(
        &mut self,
        inst: &Inst,
        tok: &Token,
        want: &[&str],
        letter: char,
        example: &str,
    ) -> Option<String> {
        if tok.kind != TokKind::Word {
            self.error(
                format!("expected a model name, found '{}'", tok.text),
                tok.span,
                format!("add a model name, e.g. {example}"),
            );
            return None;
        }
        let Some(key) = inst.find_model(&tok.lower) else {
            let names = inst.model_names();
            let help = if names.is_empty() {
                format!(
                    "no models are defined; add a .model line, e.g. '.model {} {example}'",
                    tok.lower
                )
            } else {
                format!(
                    "defined models: {} (or add a .model line)",
                    names.join(", ")
                )
            };
            self.error(format!("unknown model '{}'", tok.text), tok.span, help);
            return None;
        };
        let kind = self
            .circuit
            .models
            .get(&key)
            .map(|m| m.kind.clone())
            .unwrap_or_default();
        if !want.contains(&kind.as_str()) {
            self.error(
                format!(
                    "model '{}' has type '{kind}', but {letter} elements need a '{}' model",
                    tok.text,
                    want.join("' or '")
                ),
                tok.span,
                format!("use a model defined as '.model NAME {example}'"),
            );
            return None;
        }
        Some(key)
    }

    /// Register a subcircuit instance name; false (after reporting) if it is a duplicate.
    pub fn register_instance(&mut self, full: &str, span: Span) -> bool {
        if let Some(first) = self.inst_names.get(full).copied() {
            let at = self.loc(first);
            self.error(
                format!("duplicate instance name '{full}'"),
                span,
                format!("'{full}' is first defined at {at}"),
            );
            return false;
        }
        self.inst_names.insert(full.to_string(), span);
        true
    }

    /// Add an element, rejecting duplicate names.
    pub fn add(&mut self, name: String, name_span: Span, kind: ElementKind, line: &Line) {
        if let Some(&idx) = self.elem_ids.get(&name) {
            let at = self.loc(self.circuit.elements[idx].span);
            self.error(
                format!("duplicate element name '{name}'"),
                name_span,
                format!("'{name}' is first defined at {at}"),
            );
            return;
        }
        if self.circuit.elements.len() >= MAX_ELEMENTS {
            if !self.too_big {
                self.error(
                    format!("the flattened circuit has more than {MAX_ELEMENTS} elements"),
                    name_span,
                    "check for subcircuits that instantiate each other many times",
                );
            }
            self.too_big = true;
            return;
        }
        self.elem_ids
            .insert(name.clone(), self.circuit.elements.len());
        self.circuit.elements.push(Element {
            name,
            kind,
            span: line.span,
        });
    }

    /// Node id by full (hierarchical, lowercase) name, without creating it.
    pub fn node_id(&self, name: &str) -> Option<NodeId> {
        if name == "0" || name == "gnd" {
            return Some(GROUND);
        }
        self.node_ids.get(name).copied()
    }

    /// Element index by a name as written in `.save`/`.dc`: our dotted path (`x1.vs`) or
    /// ngspice's flattened form with the type letter in front (`v.x1.vs`).
    pub fn find_element(&self, name: &str) -> Option<usize> {
        if let Some(i) = self.element_index(name) {
            return Some(i);
        }
        let (letter, rest) = name.split_once('.')?;
        let last = rest.rsplit('.').next()?;
        (letter.len() == 1 && rest.contains('.') && last.starts_with(letter))
            .then(|| self.element_index(rest))
            .flatten()
    }

    /// Element index by full (hierarchical, lowercase) name.
    pub fn element_index(&self, name: &str) -> Option<usize> {
        self.elem_ids.get(name).copied()
    }

    fn resolve_controls(&mut self) {
        for (elem, ctrl, span) in std::mem::take(&mut self.pending_ctrl) {
            match self.element_index(&ctrl).map(|i| &self.circuit.elements[i].kind) {
                Some(ElementKind::VSource { .. }) => {}
                Some(_) => self.error(
                    format!("'{elem}' is controlled by '{ctrl}', which is not a voltage source"),
                    span,
                    "F and H elements sense the current through a voltage source (a 0 V source works)",
                ),
                None => self.error(
                    format!("controlling voltage source '{ctrl}' of '{elem}' not found"),
                    span,
                    "name a V source defined in the same subcircuit (add a 0 V source to sense a current)",
                ),
            }
        }
    }
}

/// Elaborate the (include-expanded) lines of a netlist into a circuit.
pub(crate) fn run(
    title: Option<String>,
    lines: &[Line],
    sources: &SourceMap,
    overrides: &[(String, f64)],
    diags: &mut Diagnostics,
) -> Circuit {
    let body = subckt::build(lines, sources, diags);
    let scope = Scope::new(None);
    for p in &body.params {
        scope.define(p, diags);
    }
    // Sweep points (`.step`, `mtjsim sweep --set`) replace top-level `.param` values.
    for (name, v) in overrides {
        scope.set(name, *v);
    }
    scope.eval_all(diags);
    let mut el = Elab::new(sources, diags);
    el.circuit.title = title.unwrap_or_default();
    for c in &body.commands {
        if c.head() == ".global" {
            for t in &c.tokens[1..] {
                if t.kind == TokKind::Word && t.lower != "0" && t.lower != "gnd" {
                    el.globals.insert(t.lower.clone());
                }
            }
        }
    }
    let models = model::eval_models(&mut el, &scope, &body.models, "");
    let top = Inst {
        prefix: String::new(),
        pins: HashMap::default(),
        params: &scope,
        models,
        body: &body,
        parent: None,
        depth: 0,
        def_name: None,
    };
    subckt::expand_body(&mut el, &top);
    el.resolve_controls();
    for c in &body.commands {
        dot::command(&mut el, &top, c);
    }
    let mut circuit = std::mem::take(&mut el.circuit);
    let node_use = std::mem::take(&mut el.node_use);
    drop(el);
    if !diags.has_errors() {
        check::topology(&circuit, &node_use, diags);
    }
    let asked = body
        .commands
        .iter()
        .any(|c| matches!(c.head(), ".op" | ".dc" | ".tran"));
    if circuit.analyses.is_empty() && !asked {
        diags.push(
            Diagnostic::warning("no analysis in the netlist", None)
                .with_help("add .op, .dc SRC START STOP STEP, or .tran TSTEP TSTOP"),
        );
    }
    circuit.saves.shrink_to_fit();
    circuit
}
