//! Cutting quantized layers into crossbar tiles and writing each tile as a netlist.
//!
//! Tile layout (`rows` inputs × `cols` physical columns, both ≤ `--tile`):
//! - input `i` drives row line `i` from its left end through a behavioural 1-bit driver,
//!   the source `vin<i>` (V_read for a spike, 0 V otherwise);
//! - physical column `c` is a bit line running down the array to its sense node
//!   `so<g>`, held at 0 V by the sense source `vs<g>` (the virtual ground of a behavioural
//!   transimpedance sense amplifier); `i(vs<g>)` is the sensed current. Columns of one
//!   multi-cell group share a sense node;
//! - cell (i, c) is an `N` element (free layer on the row side) in series with an NMOS access
//!   transistor whose gate is the shared read-enable word line `wl`;
//! - with `wire_r > 0`, every row and column is a chain of segments (R between cells, C to
//!   ground at each cell), which is where IR drop and sneak currents through the wires come
//!   from. With `wire_r = 0` every line is one node (ideal wires).
//!
//! Each MTJ gets its own `.model` when device-to-device variation is on (RA, TMR, Ku drawn
//! per cell from the seed), so the file is self-contained and a designer can edit any cell.

use std::collections::HashMap;
use std::fmt::Write;

use rand::SeedableRng;
use rand_distr::{Distribution, Normal};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

use super::quantize::{Quantized, Scheme};
use crate::circuit::Model;

/// Relative device-to-device variation (σ/μ) of model-card parameters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Variation {
    pub ra: f64,
    pub tmr: f64,
    pub ku: f64,
}

impl Variation {
    pub fn is_zero(&self) -> bool {
        self.ra == 0.0 && self.tmr == 0.0 && self.ku == 0.0
    }
}

/// Electrical parameters of the arrays (SI).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ArrayParams {
    /// Read voltage of an active row (V).
    pub v_read: f64,
    /// Word-line (read enable) level (V).
    pub v_wl: f64,
    /// Wire resistance (Ω) and capacitance (F) per cell pitch; 0 Ω = ideal wires.
    pub wire_r: f64,
    pub wire_c: f64,
    /// Length of one read window (s) and the input edge time (s).
    pub t_read: f64,
    pub t_edge: f64,
    /// Access transistor size (m).
    pub nmos_w: f64,
    pub nmos_l: f64,
    /// Brown thermal noise in the MTJs during reads.
    pub noise: bool,
    pub variation: Variation,
    pub seed: u64,
}

impl ArrayParams {
    /// These arrays with RA, TMR and Ku all varied by relative `sigma` and the cell draws
    /// seeded from (`seed`, `sigma`): one Monte Carlo point's chip, the same rule for every
    /// network path so equal settings draw equal chips.
    pub fn with_variation(&self, sigma: f64, seed: u64) -> ArrayParams {
        ArrayParams {
            variation: Variation {
                ra: sigma,
                tmr: sigma,
                ku: sigma,
            },
            seed: seed.wrapping_add((sigma * 1e6) as u64),
            ..self.clone()
        }
    }
}

impl Default for ArrayParams {
    fn default() -> Self {
        ArrayParams {
            v_read: 0.1,
            v_wl: 1.2,
            wire_r: 1.0,
            wire_c: 0.1e-15,
            t_read: 1e-9,
            t_edge: 50e-12,
            nmos_w: 1e-6,
            nmos_l: 0.1e-6,
            noise: true,
            variation: Variation::default(),
            seed: 1,
        }
    }
}

/// One physical column of a tile.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Column {
    /// Logical output (within the layer) and side.
    pub output: usize,
    pub plus: bool,
    /// Sense group (index into the tile's sense nodes) and its bit slice.
    pub group: usize,
    pub slice: usize,
}

/// A sense node: one ADC conversion per read.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SenseGroup {
    pub output: usize,
    pub plus: bool,
    pub slice: usize,
}

/// One crossbar tile.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tile {
    pub layer: usize,
    /// Position in the layer's tile grid (row block, column block).
    pub row_block: usize,
    pub col_block: usize,
    /// Inputs `row0 .. row0 + rows` of the layer.
    pub row0: usize,
    pub rows: usize,
    pub columns: Vec<Column>,
    pub groups: Vec<SenseGroup>,
    /// Cell states `[row][column]`, true = P.
    pub cells: Vec<Vec<bool>>,
}

impl Tile {
    pub fn n_cells(&self) -> usize {
        self.rows * self.columns.len()
    }
}

/// The mapping of a whole network.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Mapping {
    pub scheme: Scheme,
    pub bits: u32,
    pub tile: usize,
    pub tiles: Vec<Tile>,
}

impl Mapping {
    /// Tiles of one layer.
    pub fn layer_tiles(&self, layer: usize) -> impl Iterator<Item = &Tile> {
        self.tiles.iter().filter(move |t| t.layer == layer)
    }
    pub fn n_cells(&self) -> usize {
        self.tiles.iter().map(Tile::n_cells).sum()
    }
    /// Cells used / cells available in `tile × tile` arrays.
    pub fn utilization(&self) -> f64 {
        self.n_cells() as f64 / (self.tiles.len() * self.tile * self.tile).max(1) as f64
    }
}

/// Cut every layer into tiles of at most `tile` rows and `tile` physical columns.
pub fn map_layers(
    q: &[Quantized],
    scheme: Scheme,
    bits: u32,
    tile: usize,
) -> Result<Mapping, String> {
    let per_side = scheme.columns_per_side(bits);
    let per_output = 2 * per_side;
    if tile < per_output {
        return Err(format!(
            "--tile {tile} is smaller than the {per_output} columns one output needs with scheme {} and {bits} bits",
            scheme.name()
        ));
    }
    let outs_per_tile = tile / per_output;
    let mut tiles = Vec::new();
    for (l, qm) in q.iter().enumerate() {
        let row_blocks = qm.inp.div_ceil(tile);
        let col_blocks = qm.out.div_ceil(outs_per_tile);
        for rb in 0..row_blocks {
            let row0 = rb * tile;
            let rows = tile.min(qm.inp - row0);
            for cb in 0..col_blocks {
                let o0 = cb * outs_per_tile;
                let o1 = (o0 + outs_per_tile).min(qm.out);
                let mut columns = Vec::new();
                let mut groups: Vec<SenseGroup> = Vec::new();
                let mut group_of: HashMap<(usize, bool, usize), usize> = HashMap::new();
                for o in o0..o1 {
                    for plus in [true, false] {
                        for c in 0..per_side {
                            let slice = scheme.slice_of_column(c);
                            let g = *group_of.entry((o, plus, slice)).or_insert_with(|| {
                                groups.push(SenseGroup {
                                    output: o,
                                    plus,
                                    slice,
                                });
                                groups.len() - 1
                            });
                            columns.push(Column {
                                output: o,
                                plus,
                                group: g,
                                slice,
                            });
                        }
                    }
                }
                let cells = (0..rows)
                    .map(|r| {
                        let mut k = 0;
                        columns
                            .iter()
                            .map(|col| {
                                let c_in_side = k % per_side;
                                k += 1;
                                scheme.cell_is_p(qm.at(col.output, row0 + r), col.plus, c_in_side)
                            })
                            .collect()
                    })
                    .collect();
                tiles.push(Tile {
                    layer: l,
                    row_block: rb,
                    col_block: cb,
                    row0,
                    rows,
                    columns,
                    groups,
                    cells,
                });
            }
        }
    }
    Ok(Mapping {
        scheme,
        bits,
        tile,
        tiles,
    })
}

/// Write a `.model` line from a loaded card, with some parameters replaced.
pub fn model_line(name: &str, card: &Model, overrides: &[(&str, f64)]) -> String {
    let mut keys: Vec<&String> = card.params.keys().collect();
    keys.sort();
    let mut o = format!(".model {name} mtj (");
    for (k, v) in &card.string_params {
        let _ = write!(o, "{k}={v} ");
    }
    for k in keys {
        let v = overrides
            .iter()
            .find(|(n, _)| *n == k.as_str())
            .map_or(card.params[k], |x| x.1);
        let _ = write!(o, "{k}={v:e} ");
    }
    for (k, v) in overrides {
        if !card.params.contains_key(*k) {
            let _ = write!(o, "{k}={v:e} ");
        }
    }
    o.truncate(o.trim_end().len());
    o.push(')');
    o
}

/// Input drive of one tile: spikes per read window `[window][row]`.
pub type Windows<'a> = &'a [Vec<u8>];

/// Netlist text of one tile reading `windows` (one read window each, in sequence).
/// `card` is the synapse MTJ model card; `provenance` goes into the header comment.
pub fn netlist(
    t: &Tile,
    card: &Model,
    p: &ArrayParams,
    windows: Windows,
    provenance: &str,
) -> String {
    let mut o = String::new();
    let ncol = t.columns.len();
    let _ = writeln!(
        o,
        "* mtjsim ipnet map: layer {} tile ({}, {}): {} rows x {} columns of 1T1MTJ cells",
        t.layer, t.row_block, t.col_block, t.rows, ncol
    );
    for line in provenance.lines() {
        let _ = writeln!(o, "* {line}");
    }
    let _ = writeln!(
        o,
        "* vin<i>: 1-bit input drivers (behavioural: ideal sources, V_read = {} V per spike).",
        p.v_read
    );
    let _ = writeln!(
        o,
        "* vs<g>: sense nodes held at 0 V (behavioural TIA virtual ground); i(vs<g>) = sensed current."
    );
    let _ = writeln!(
        o,
        "* Each read window is {:e} s; column currents are sampled at the end of each window.",
        p.t_read
    );
    let _ = writeln!(
        o,
        ".model nacc nmos (level=1 vto=0.4 kp=200u gamma=0.4 phi=0.7 lambda=0.05)"
    );
    let _ = writeln!(o, ".options seed={}", p.seed);
    let noise = if p.noise { 1.0 } else { 0.0 };
    let _ = writeln!(o, "{}", model_line("syn", card, &[("noise", noise)]));
    // Per-cell variation.
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(
        p.seed ^ ((t.layer as u64) << 40 | (t.row_block as u64) << 20 | t.col_block as u64),
    );
    let n01 = Normal::new(0.0, 1.0).expect("valid normal");
    let vary = !p.variation.is_zero();
    let base = |k: &str, d: f64| card.params.get(k).copied().unwrap_or(d);
    let (ra0, tmr0, ku0) = (base("ra", 5e-12), base("tmr0", 1.5), base("ku", 1e6));
    let _ = writeln!(o, "vwl wl 0 dc {}", p.v_wl);
    let ideal = p.wire_r <= 0.0;
    let row_node = |i: usize, c: usize| {
        if ideal {
            format!("r{i}")
        } else {
            format!("r{i}_{c}")
        }
    };
    let col_node = |i: usize, c: usize| {
        if ideal {
            format!("so{}", t.columns[c].group)
        } else {
            format!("c{i}_{c}")
        }
    };
    // Drivers.
    for i in 0..t.rows {
        let drv = if ideal {
            row_node(i, 0)
        } else {
            format!("d{i}")
        };
        let mut pts = String::new();
        let mut prev = 0.0;
        for (k, w) in windows.iter().enumerate() {
            let v = if w[i] != 0 { p.v_read } else { 0.0 };
            let t0 = k as f64 * p.t_read;
            let _ = write!(pts, "{t0:e} {prev:e} {:e} {v:e} ", t0 + p.t_edge);
            prev = v;
        }
        let _ = writeln!(o, "vin{i} {drv} 0 pwl({})", pts.trim_end());
    }
    for g in 0..t.groups.len() {
        let _ = writeln!(o, "vs{g} so{g} 0 dc 0");
    }
    if !ideal {
        for i in 0..t.rows {
            let _ = writeln!(o, "rd{i} d{i} {} {:e}", row_node(i, 0), p.wire_r);
            for c in 0..ncol {
                if c + 1 < ncol {
                    let _ = writeln!(
                        o,
                        "rr{i}_{c} {} {} {:e}",
                        row_node(i, c),
                        row_node(i, c + 1),
                        p.wire_r
                    );
                }
                if p.wire_c > 0.0 {
                    let _ = writeln!(o, "cr{i}_{c} {} 0 {:e}", row_node(i, c), p.wire_c);
                    let _ = writeln!(o, "cc{i}_{c} {} 0 {:e}", col_node(i, c), p.wire_c);
                }
                let next = if i + 1 < t.rows {
                    col_node(i + 1, c)
                } else {
                    format!("so{}", t.columns[c].group)
                };
                let _ = writeln!(o, "rc{i}_{c} {} {next} {:e}", col_node(i, c), p.wire_r);
            }
        }
    }
    for i in 0..t.rows {
        for c in 0..ncol {
            let model = if vary {
                let mut d = |s: f64| (1.0 + s * n01.sample(&mut rng)).max(0.05);
                let (a, b, k) = (d(p.variation.ra), d(p.variation.tmr), d(p.variation.ku));
                let name = format!("syn{i}_{c}");
                let _ = writeln!(
                    o,
                    "{}",
                    model_line(
                        &name,
                        card,
                        &[
                            ("noise", noise),
                            ("ra", ra0 * a),
                            ("tmr0", tmr0 * b),
                            ("ku", ku0 * k)
                        ]
                    )
                );
                name
            } else {
                "syn".to_string()
            };
            let state = if t.cells[i][c] { "p" } else { "ap" };
            let _ = writeln!(
                o,
                "n{i}_{c} {} x{i}_{c} {model} state={state}",
                row_node(i, c)
            );
            let _ = writeln!(
                o,
                "m{i}_{c} x{i}_{c} wl {} 0 nacc w={:e} l={:e}",
                col_node(i, c),
                p.nmos_w,
                p.nmos_l
            );
        }
    }
    let tstop = windows.len().max(1) as f64 * p.t_read;
    let _ = writeln!(o, ".tran {:e} {tstop:e}", p.t_read / 20.0);
    let mut saves: Vec<String> = (0..t.groups.len()).map(|g| format!("i(vs{g})")).collect();
    saves.extend((0..t.rows).map(|i| format!("i(vin{i})")));
    saves.push("i(vwl)".into());
    let _ = writeln!(o, ".save {}", saves.join(" "));
    let _ = writeln!(o, ".end");
    o
}
