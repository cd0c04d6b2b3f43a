//! Which vectors an analysis saves, and how each is read off a converged point.

use super::system::System;
use crate::circuit::{Circuit, OutputRequest};
use crate::results::{Plot, VecKind, Vector};

/// How one saved vector is computed from the system.
#[derive(Debug, Clone)]
enum Probe {
    Eq(usize),
    Diff(usize, usize),
    Device { index: usize, quantity: String },
}

/// Collects saved vectors point by point.
pub struct Recorder {
    probes: Vec<Probe>,
    pub plot: Plot,
}

/// ngspice's name for an element in vectors: `v1`, or `v.x1.v1` inside subcircuits.
pub fn ngspice_element_name(name: &str) -> String {
    match name.rsplit_once('.') {
        Some((_, last)) => {
            let letter = last.chars().next().unwrap_or('x');
            format!("{letter}.{name}")
        }
        None => name.to_string(),
    }
}

fn kind_of_quantity(q: &str) -> VecKind {
    match q {
        "temp" => VecKind::Temperature,
        "p" => VecKind::Power,
        "r" => VecKind::Resistance,
        "i" | "id" => VecKind::Current,
        "v" | "vd" | "vgs" | "vds" => VecKind::Voltage,
        _ => VecKind::Other,
    }
}

impl Recorder {
    /// Vectors for `circuit.saves`, or every node voltage and branch current if empty.
    pub fn new(
        sys: &System,
        circuit: &Circuit,
        plot_name: &str,
        scale: Vector,
    ) -> Result<Recorder, String> {
        let mut probes = Vec::new();
        let mut vectors = Vec::new();
        let mut add = |p: Probe, name: String, kind: VecKind| {
            probes.push(p);
            vectors.push(Vector {
                name,
                kind,
                data: Vec::new(),
            });
        };
        if circuit.saves.is_empty() {
            for (eq, name) in sys
                .eq_names
                .iter()
                .enumerate()
                .skip(1)
                .take(sys.n_nodes - 1)
            {
                add(Probe::Eq(eq), format!("v({name})"), VecKind::Voltage);
            }
            for (eq, name) in sys.eq_names.iter().enumerate().skip(sys.n_nodes) {
                if let Some(elem) = name.strip_suffix("#branch") {
                    add(
                        Probe::Eq(eq),
                        format!("i({})", ngspice_element_name(elem)),
                        VecKind::Current,
                    );
                }
            }
        } else {
            for req in &circuit.saves {
                match req {
                    OutputRequest::Voltage(a, b) => {
                        let ea = circuit.node(a).ok_or_else(|| format!("no node '{a}'"))?;
                        match b {
                            None => add(Probe::Eq(ea), format!("v({a})"), VecKind::Voltage),
                            Some(b) => {
                                let eb = circuit.node(b).ok_or_else(|| format!("no node '{b}'"))?;
                                add(Probe::Diff(ea, eb), format!("v({a},{b})"), VecKind::Voltage)
                            }
                        }
                    }
                    OutputRequest::Current(el) => {
                        let name = format!("i({})", ngspice_element_name(el));
                        if let Some(&br) = sys.branches.get(el) {
                            add(Probe::Eq(br), name, VecKind::Current);
                        } else if let Some(index) = sys.devices.iter().position(|d| d.name() == el)
                        {
                            add(
                                Probe::Device {
                                    index,
                                    quantity: "i".into(),
                                },
                                name,
                                VecKind::Current,
                            );
                        } else {
                            return Err(format!("no element '{el}' for i({el})"));
                        }
                    }
                    OutputRequest::Device(q, el) => {
                        let index = sys
                            .devices
                            .iter()
                            .position(|d| d.name() == el)
                            .ok_or_else(|| format!("no element '{el}' for {q}({el})"))?;
                        add(
                            Probe::Device {
                                index,
                                quantity: q.clone(),
                            },
                            format!("{q}({})", ngspice_element_name(el)),
                            kind_of_quantity(q),
                        );
                    }
                }
            }
        }
        Ok(Recorder {
            probes,
            plot: Plot {
                title: circuit.title.clone(),
                name: plot_name.into(),
                scale,
                vectors,
            },
        })
    }

    /// Append the present point with scale value `scale`.
    pub fn record(&mut self, sys: &System, scale: f64) {
        self.plot.scale.data.push(scale);
        for (probe, vec) in self.probes.iter().zip(self.plot.vectors.iter_mut()) {
            let v = match probe {
                Probe::Eq(e) => sys.x[*e],
                Probe::Diff(a, b) => sys.x[*a] - sys.x[*b],
                Probe::Device { index, quantity } => sys.devices[*index]
                    .quantities(&sys.x, &sys.states[0])
                    .into_iter()
                    .find(|(n, _)| n == quantity)
                    .map_or(f64::NAN, |(_, v)| v),
            };
            vec.data.push(v);
        }
    }

    /// The recorded plot.
    pub fn finish(self) -> Plot {
        self.plot
    }
}
