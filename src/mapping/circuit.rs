//! Circuit-in-the-loop matrix–vector products: simulate tile netlists with mtjsim's
//! transient engine and digitise the sensed currents.
//!
//! One transient per tile covers every read window of a sample (all time steps), so the
//! MNA pattern and the LU's symbolic analysis are computed once per tile per sample and
//! reused across every input vector (only source values change between windows).
//!
//! Digitisation (behavioural periphery, see docs/report.md): each sense group has an ADC
//! whose LSB is one cell's on/off current difference `I_unit = I_P − I_AP` at `V_read`,
//! calibrated by simulating a single cell pair through the same access transistor
//! ([`calibrate_unit`]). The output of logical neuron `o` is
//! `Σ_slices 2^s · round((I₊,s − I₋,s)/I_unit)` accumulated digitally over row blocks.

use std::path::Path;

use serde::Serialize;

use super::network::Mvm;
use super::quantize::Quantized;
use super::tile::{ArrayParams, Mapping, SenseGroup, Tile, netlist};
use crate::analysis::simulate;
use crate::circuit::Model;
use crate::netlist;
use crate::results::Plot;

/// Load the `mtj` model card of a library section (`LIB:SECTION`).
pub fn load_card(spec: &str) -> Result<(Model, String), String> {
    let (lib, section) = spec
        .rsplit_once(':')
        .ok_or_else(|| format!("--model-lib expects LIB:SECTION, got `{spec}`"))?;
    let (models, sources) =
        netlist::load_models(Path::new(lib), Some(section)).map_err(|(d, s)| d.render(&s))?;
    let _ = sources;
    let mut mtjs: Vec<&Model> = models.values().filter(|m| m.kind == "mtj").collect();
    mtjs.sort_by(|a, b| a.name.cmp(&b.name));
    let card = mtjs
        .iter()
        .find(|m| m.name == section.to_ascii_lowercase())
        .or(mtjs.first())
        .ok_or_else(|| format!("{lib}: section `{section}` has no mtj model"))?;
    Ok(((*card).clone(), spec.to_string()))
}

/// Simulated run of one tile over a sequence of read windows.
#[derive(Debug, Clone, Serialize)]
pub struct TileRun {
    /// Sensed current of each group at the end of each window (A), `[window][group]`.
    pub currents: Vec<Vec<f64>>,
    /// ∫ Σ −v·i of all sources over each window (J), from the recorded waveforms.
    pub window_energy_j: Vec<f64>,
    /// Time from the window's input edge until every sensed current stays within 1% of
    /// the full-scale current of its final value (s).
    pub settle_s: Vec<f64>,
    /// The engine's own ∫ source power over the whole run (J).
    pub engine_energy_j: f64,
    pub steps: usize,
    pub newton_iterations: usize,
    pub unknowns: usize,
    pub wall_s: f64,
}

/// Value of a driver's PWL at time `t` (same points as the netlist writes).
fn driver_value(windows: &[Vec<u8>], row: usize, p: &ArrayParams, t: f64) -> f64 {
    let k = ((t / p.t_read).floor() as isize).clamp(0, windows.len() as isize - 1) as usize;
    let level = |k: usize| {
        if windows[k][row] != 0 { p.v_read } else { 0.0 }
    };
    let prev = if k == 0 { 0.0 } else { level(k - 1) };
    let t0 = k as f64 * p.t_read;
    let f = ((t - t0) / p.t_edge).clamp(0.0, 1.0);
    prev + (level(k) - prev) * f
}

fn vector<'a>(plot: &'a Plot, name: &str) -> Result<&'a [f64], String> {
    plot.get(name)
        .map(|v| v.data.as_slice())
        .ok_or_else(|| format!("simulation did not record {name}"))
}

/// Simulate one tile reading `windows`; returns the run and the netlist text it simulated.
pub fn run_tile(
    t: &Tile,
    card: &Model,
    p: &ArrayParams,
    windows: &[Vec<u8>],
    provenance: &str,
) -> Result<(TileRun, String), String> {
    if windows.is_empty() {
        return Err("no read windows".into());
    }
    let text = netlist(t, card, p, windows, provenance);
    let name = format!("tile_l{}_{}_{}.cir", t.layer, t.row_block, t.col_block);
    let parsed = netlist::load_str(&name, &text, Path::new("."));
    if parsed.diagnostics.has_errors() {
        return Err(parsed.render_diagnostics());
    }
    let out = simulate(&parsed.circuit).map_err(|e| e.to_string())?;
    let plot = out
        .plots
        .iter()
        .find(|pl| pl.name == "Transient Analysis")
        .ok_or("no transient plot")?;
    let time = plot.scale.data.as_slice();
    let ng = t.groups.len();
    let sense: Vec<&[f64]> = (0..ng)
        .map(|g| vector(plot, &format!("i(vs{g})")))
        .collect::<Result<_, _>>()?;
    let iin: Vec<&[f64]> = (0..t.rows)
        .map(|i| vector(plot, &format!("i(vin{i})")))
        .collect::<Result<_, _>>()?;
    let iwl = vector(plot, "i(vwl)")?;
    // Instantaneous source power at each recorded point.
    let power: Vec<f64> = (0..time.len())
        .map(|k| {
            let mut pw = -p.v_wl * iwl[k];
            for (i, ii) in iin.iter().enumerate() {
                pw -= driver_value(windows, i, p, time[k]) * ii[k];
            }
            pw
        })
        .collect();
    let nw = windows.len();
    let mut window_energy = vec![0.0; nw];
    for k in 1..time.len() {
        let mid = 0.5 * (time[k] + time[k - 1]);
        let w = ((mid / p.t_read) as usize).min(nw - 1);
        window_energy[w] += 0.5 * (power[k] + power[k - 1]) * (time[k] - time[k - 1]);
    }
    // Sample at the last recorded point of each window; settling per window.
    let mut currents = Vec::with_capacity(nw);
    let mut settle = Vec::with_capacity(nw);
    for w in 0..nw {
        let (t0, t1) = (w as f64 * p.t_read, (w + 1) as f64 * p.t_read);
        let idx: Vec<usize> = (0..time.len())
            .filter(|&k| time[k] > t0 && time[k] <= t1 * (1.0 + 1e-12))
            .collect();
        let last = *idx.last().ok_or("window without recorded points")?;
        let finals: Vec<f64> = sense.iter().map(|s| s[last]).collect();
        let full = finals.iter().fold(0.0f64, |a, b| a.max(b.abs())).max(1e-12);
        let tol = 0.01 * full;
        let mut settled_at = t0;
        for &k in &idx {
            if sense
                .iter()
                .zip(&finals)
                .any(|(s, f)| (s[k] - f).abs() > tol)
            {
                settled_at = time[k];
            }
        }
        settle.push(settled_at - t0);
        currents.push(finals);
    }
    Ok((
        TileRun {
            currents,
            window_energy_j: window_energy,
            settle_s: settle,
            engine_energy_j: out.source_energy_j.iter().sum(),
            steps: out.stats.accepted_steps,
            newton_iterations: out.stats.newton_iterations,
            unknowns: out.unknowns,
            wall_s: out.stats.wall_seconds,
        },
        text,
    ))
}

/// One cell's on/off read currents at `V_read` through the access transistor, ideal wires,
/// no noise or variation: the ADC reference. Returns (I_P, I_AP) in A.
pub fn calibrate_unit(card: &Model, p: &ArrayParams) -> Result<(f64, f64), String> {
    let tile = Tile {
        layer: 0,
        row_block: 0,
        col_block: 0,
        row0: 0,
        rows: 1,
        columns: vec![
            super::tile::Column {
                output: 0,
                plus: true,
                group: 0,
                slice: 0,
            },
            super::tile::Column {
                output: 0,
                plus: false,
                group: 1,
                slice: 0,
            },
        ],
        groups: vec![
            SenseGroup {
                output: 0,
                plus: true,
                slice: 0,
            },
            SenseGroup {
                output: 0,
                plus: false,
                slice: 0,
            },
        ],
        cells: vec![vec![true, false]],
    };
    let mut ideal = p.clone();
    ideal.wire_r = 0.0;
    ideal.wire_c = 0.0;
    ideal.noise = false;
    ideal.variation = Default::default();
    let (run, _) = run_tile(&tile, card, &ideal, &[vec![1]], "ADC reference calibration")?;
    Ok((run.currents[0][0], run.currents[0][1]))
}

/// Circuit-in-the-loop [`Mvm`]: each call simulates every tile of the layer.
pub struct CircuitMvm<'a> {
    pub mapping: &'a Mapping,
    pub q: &'a [Quantized],
    pub card: &'a Model,
    pub params: ArrayParams,
    /// ADC LSB (A): I_P − I_AP of one cell.
    pub i_unit: f64,
    pub provenance: String,
    /// Every tile run so far: (tile index, run).
    pub runs: Vec<(usize, TileRun)>,
    /// Sample counter, mixed into the noise seed so samples draw different noise.
    pub sample: u64,
    /// Keep the netlist text of the first run of each tile (for the output folder).
    pub netlists: Vec<(usize, String)>,
    /// Largest |sensed (I₊ − I₋)/I_unit − ideal cell count| of any slice read so far (LSB,
    /// before rounding): the analog error the ADC had to absorb.
    pub max_analog_err_lsb: f64,
}

impl Mvm for CircuitMvm<'_> {
    fn layer(&mut self, layer: usize, inputs: &[Vec<u8>]) -> Result<Vec<Vec<i64>>, String> {
        let q = &self.q[layer];
        let mut out = vec![vec![0i64; q.out]; inputs.len()];
        for (ti, t) in self.mapping.tiles.iter().enumerate() {
            if t.layer != layer {
                continue;
            }
            let windows: Vec<Vec<u8>> = inputs
                .iter()
                .map(|x| x[t.row0..t.row0 + t.rows].to_vec())
                .collect();
            let mut p = self.params.clone();
            p.seed = self
                .params
                .seed
                .wrapping_add(self.sample.wrapping_mul(1_000_003));
            let (run, text) = run_tile(t, self.card, &p, &windows, &self.provenance)?;
            for (w, cur) in run.currents.iter().enumerate() {
                // Pair + and − groups of the same output and slice.
                for (g, grp) in t.groups.iter().enumerate() {
                    if !grp.plus {
                        continue;
                    }
                    let minus = t
                        .groups
                        .iter()
                        .position(|h| !h.plus && h.output == grp.output && h.slice == grp.slice)
                        .ok_or("sense group without its − partner")?;
                    let analog = (cur[g] - cur[minus]) / self.i_unit;
                    // What ideal cells would give: Σ_rows x·(P cells on + side − on − side).
                    let ideal: i64 = (0..t.rows)
                        .filter(|&r| windows[w][r] != 0)
                        .map(|r| {
                            t.columns
                                .iter()
                                .enumerate()
                                .filter(|(_, c)| c.group == g || c.group == minus)
                                .map(|(c, col)| {
                                    let on = t.cells[r][c] as i64;
                                    if col.plus { on } else { -on }
                                })
                                .sum::<i64>()
                        })
                        .sum();
                    self.max_analog_err_lsb =
                        self.max_analog_err_lsb.max((analog - ideal as f64).abs());
                    let level = analog.round() as i64;
                    out[w][grp.output] += self.mapping.scheme.slice_weight(grp.slice) * level;
                }
            }
            if !self.netlists.iter().any(|(k, _)| *k == ti) {
                self.netlists.push((ti, text));
            }
            self.runs.push((ti, run));
        }
        Ok(out)
    }
}

/// First-order bound on a sensed output's IR-drop error, in ADC LSBs (`I_unit`).
///
/// A column of `rows` cells all in P carries at most `rows·I_P`; the node farthest from
/// the sense amplifier rises by at most `wire_r·rows²·I_P/2`. A row feeding `cols` cells
/// drops at most `wire_r·cols²·I_P/2` at its far end. Each cell's current then errs by at
/// most `G_cell·(both)`, `G_cell ≤ I_P/V_read`, a column by `rows` times that, a sense group
/// of `per_group` columns by `per_group` times, and the + − difference by twice that.
pub fn ir_drop_bound_lsb(
    rows: usize,
    cols: usize,
    per_group: usize,
    wire_r: f64,
    i_p: f64,
    v_read: f64,
    i_unit: f64,
) -> f64 {
    let (r, c) = (rows as f64, cols as f64);
    let drop = wire_r * (r * r + c * c) * i_p / 2.0;
    2.0 * per_group as f64 * r * (i_p / v_read) * drop / i_unit
}
