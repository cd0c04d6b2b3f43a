//! Topology checks on a flat circuit: nodes without a DC path to ground, loops of voltage
//! sources and inductors, and (as a warning) nodes with a single connection.
//!
//! Owns: these graph checks (union–find). Must not modify the circuit.
//!
//! DC-conducting connections: R, L, V, D, MTJ, the output ports of E and H, and the
//! drain–source–bulk of a MOSFET. Capacitors, I/G/F outputs, controlling inputs and MOSFET
//! gates do not conduct. Voltage-defined branches (for loops): V, L, E and H outputs.

use std::collections::HashMap;

use crate::circuit::{Circuit, ElementKind, NodeId};
use crate::diag::{Diagnostic, Diagnostics, Span};

struct Dsu {
    parent: Vec<usize>,
}

impl Dsu {
    fn new(n: usize) -> Self {
        Dsu {
            parent: (0..n).collect(),
        }
    }
    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }
    /// Join two sets; false if they were already joined.
    fn union(&mut self, a: usize, b: usize) -> bool {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return false;
        }
        self.parent[ra.max(rb)] = ra.min(rb);
        true
    }
}

/// Run all checks. `node_use[k]` is the span of a token that names node `k` (may be empty or
/// shorter than the node list; the element line is used then).
pub fn topology(c: &Circuit, node_use: &[Option<Span>], diags: &mut Diagnostics) {
    let n = c.nodes.len();
    if n == 0
        || c.elements
            .iter()
            .any(|e| e.kind.nodes().iter().any(|&k| k >= n))
    {
        return;
    }
    let span_of = |node: NodeId| -> Option<Span> {
        node_use.get(node).copied().flatten().or_else(|| {
            c.elements
                .iter()
                .find(|e| e.kind.nodes().contains(&node))
                .map(|e| e.span)
        })
    };

    // 1. Loops of voltage-defined branches.
    let mut vloop = Dsu::new(n);
    for e in &c.elements {
        let branch = match &e.kind {
            ElementKind::VSource { p, n, .. }
            | ElementKind::Vcvs { p, n, .. }
            | ElementKind::Ccvs { p, n, .. } => Some((*p, *n)),
            ElementKind::Inductor { a, b, .. } => Some((*a, *b)),
            _ => None,
        };
        if let Some((a, b)) = branch
            && !vloop.union(a, b)
        {
            diags.push(
                Diagnostic::error("voltage sources/inductors form a loop", Some(e.span)).with_help(format!(
                    "'{}' closes a loop made only of voltage sources, E/H outputs and inductors; \
                     add a series resistance or remove a source",
                    e.name
                )),
            );
        }
    }

    // 2. DC path to ground.
    let mut dc = Dsu::new(n);
    let mut terminals = vec![0usize; n];
    for e in &c.elements {
        for k in e.kind.nodes() {
            terminals[k] += 1;
        }
        match &e.kind {
            ElementKind::Mtj {
                free: a,
                reference: b,
                thermal: Some(t),
                ..
            } => {
                dc.union(*a, *b);
                // The device leaks heat to ambient through rth: a DC path to "ground" (rise 0).
                dc.union(*t, 0);
            }
            ElementKind::Resistor { a, b, .. }
            | ElementKind::Inductor { a, b, .. }
            | ElementKind::Diode { a, c: b, .. }
            | ElementKind::Mtj {
                free: a,
                reference: b,
                ..
            }
            | ElementKind::VSource { p: a, n: b, .. }
            | ElementKind::Vcvs { p: a, n: b, .. }
            | ElementKind::Ccvs { p: a, n: b, .. } => {
                dc.union(*a, *b);
            }
            ElementKind::Mosfet { d, s, b, .. } => {
                dc.union(*d, *s);
                dc.union(*s, *b);
            }
            ElementKind::Capacitor { .. }
            | ElementKind::ISource { .. }
            | ElementKind::Vccs { .. }
            | ElementKind::Cccs { .. } => {}
        }
    }
    let ground = dc.find(0);
    // Floating groups in order of their first node.
    let mut group_of: HashMap<usize, usize> = HashMap::new();
    let mut groups: Vec<Vec<NodeId>> = Vec::new();
    for node in 1..n {
        let r = dc.find(node);
        if r == ground {
            continue;
        }
        let g = *group_of.entry(r).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[g].push(node);
    }
    for nodes in &groups {
        let first = nodes[0];
        let mut help = "add a resistor to ground or check the node name".to_string();
        if nodes.len() > 1 {
            let others: Vec<&str> = nodes[1..]
                .iter()
                .take(8)
                .map(|&k| c.nodes[k].as_str())
                .collect();
            let more = if nodes.len() > 9 { ", ..." } else { "" };
            help.push_str(&format!(
                " (also without a DC path: {}{more})",
                others.join(", ")
            ));
        }
        diags.push(
            Diagnostic::error(
                format!("node '{}' has no DC path to ground", c.nodes[first]),
                span_of(first),
            )
            .with_help(help),
        );
    }

    // 3. Dangling nodes (a warning: harmless for the solver, but usually a typo).
    for (node, &count) in terminals.iter().enumerate().skip(1) {
        if count == 1 && !group_of.contains_key(&dc.find(node)) {
            diags.push(
                Diagnostic::warning(
                    format!("node '{}' is connected to only one terminal", c.nodes[node]),
                    span_of(node),
                )
                .with_help("check the node name"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::circuit::{Element, Waveform};

    fn el(name: &str, kind: ElementKind) -> Element {
        Element {
            name: name.into(),
            kind,
            span: Span::default(),
        }
    }

    fn circuit(nodes: usize, elements: Vec<Element>) -> Circuit {
        Circuit {
            nodes: (0..nodes).map(|k| k.to_string()).collect(),
            elements,
            ..Circuit::default()
        }
    }

    fn msgs(c: &Circuit) -> Vec<String> {
        let mut d = Diagnostics::default();
        topology(c, &[], &mut d);
        d.items.into_iter().map(|x| x.message).collect()
    }

    fn v(p: usize, n: usize) -> ElementKind {
        ElementKind::VSource {
            p,
            n,
            wave: Waveform::default(),
        }
    }

    #[test]
    fn clean_divider() {
        let c = circuit(
            3,
            vec![
                el("v1", v(1, 0)),
                el("r1", ElementKind::Resistor { a: 1, b: 2, r: 1.0 }),
                el("r2", ElementKind::Resistor { a: 2, b: 0, r: 1.0 }),
            ],
        );
        assert!(msgs(&c).is_empty());
    }

    #[test]
    fn capacitor_island_has_no_dc_path() {
        let c = circuit(
            3,
            vec![
                el("v1", v(1, 0)),
                el(
                    "c1",
                    ElementKind::Capacitor {
                        a: 1,
                        b: 2,
                        c: 1.0,
                        ic: None,
                    },
                ),
                el("r2", ElementKind::Resistor { a: 2, b: 2, r: 1.0 }),
            ],
        );
        assert_eq!(msgs(&c), ["node '2' has no DC path to ground"]);
    }

    #[test]
    fn source_loops() {
        let c = circuit(2, vec![el("v1", v(1, 0)), el("v2", v(1, 0))]);
        assert_eq!(msgs(&c), ["voltage sources/inductors form a loop"]);
        let c = circuit(
            2,
            vec![
                el("v1", v(1, 0)),
                el(
                    "l1",
                    ElementKind::Inductor {
                        a: 0,
                        b: 1,
                        l: 1.0,
                        ic: None,
                    },
                ),
            ],
        );
        assert_eq!(msgs(&c), ["voltage sources/inductors form a loop"]);
    }

    #[test]
    fn dangling_node_is_a_warning() {
        let c = circuit(
            3,
            vec![
                el("v1", v(1, 0)),
                el("r1", ElementKind::Resistor { a: 1, b: 2, r: 1.0 }),
            ],
        );
        assert_eq!(msgs(&c), ["node '2' is connected to only one terminal"]);
    }
}
