//! Parameter sweeps and Monte Carlo: which points exist, how one point runs, and running a
//! set of points in parallel.
//!
//! Owns: the [`Plan`] (stepped axes × Monte Carlo runs, in a fixed order so that a point's
//! id means the same thing in every process, shard and resume), per-point seeds, running
//! one point (elaborate with overrides → simulate → `.meas`), sharding. The netlist is read
//! once ([`netlist::Prepared`]) and elaborated per point — elaboration is cheap next to a
//! transient and keeps every point an ordinary, independent circuit. Must not write files
//! (that is [`store`]) or draw (that is [`plots`]).

pub mod plots;
pub mod store;

use std::panic::AssertUnwindSafe;
use std::time::Instant;

use crate::analysis;
use crate::circuit::Circuit;
use crate::meas;
use crate::netlist::{self, Prepared};
use crate::results::Plot;

/// One swept parameter.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Axis {
    /// Lowercase `.param` name.
    pub name: String,
    pub values: Vec<f64>,
    /// Unit for plot axes ("" when unknown).
    #[serde(default)]
    pub unit: String,
}

/// All points of a sweep: the Cartesian product of `axes` (first = outermost, last varies
/// fastest) times `mc` Monte Carlo runs (innermost; 0 = no Monte Carlo).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Plan {
    pub axes: Vec<Axis>,
    pub mc: usize,
    /// Base seed: Monte Carlo run `m` uses [`point_seed`]`(seed, m)`.
    pub seed: u64,
    /// `.meas` names, in netlist order (the measured columns).
    pub measures: Vec<String>,
    /// Units of the measured columns ("" when unknown), index-aligned with `measures`.
    #[serde(default)]
    pub measure_units: Vec<String>,
}

/// One point of a plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub id: usize,
    /// Parameter values, index-aligned with [`Plan::axes`].
    pub values: Vec<f64>,
    /// Monte Carlo run index, when the plan has Monte Carlo runs.
    pub mc: Option<usize>,
}

/// What a point produced.
#[derive(Debug, Clone, PartialEq)]
pub struct PointResult {
    pub id: usize,
    pub values: Vec<f64>,
    pub mc: Option<usize>,
    /// `None` when the run succeeded; otherwise why it failed (first line of the error).
    pub error: Option<String>,
    /// Measured values (`None` when the measurement failed), index-aligned with the plan.
    pub measures: Vec<Option<f64>>,
    /// Energy delivered by independent sources over all transients (J).
    pub energy_j: Option<f64>,
    pub newton_iterations: usize,
    pub accepted_steps: usize,
    /// Seconds spent elaborating (the per-point overhead) and in total.
    pub setup_s: f64,
    pub wall_s: f64,
}

/// Seed of Monte Carlo run `mc` from the base seed (splitmix64: independent streams for
/// consecutive runs; the same for every step point so step values compare like with like).
pub fn point_seed(base: u64, mc: usize) -> u64 {
    let mut z = base
        ^ (mc as u64)
            .wrapping_add(1)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Columns of the tidy table that are not parameters or measurements
/// (see [`store::header`]).
pub const FIXED_COLUMNS: [&str; 6] = ["id", "mc", "status", "energy_j", "newton", "error"];

impl Plan {
    /// A `.meas` whose name is already a column of the table (a swept parameter, a fixed
    /// column, or another `.meas`) would make the table ambiguous: the message to show.
    pub fn column_clash(&self) -> Option<String> {
        for (k, m) in self.measures.iter().enumerate() {
            let what = if self.axes.iter().any(|a| &a.name == m) {
                "a swept parameter"
            } else if FIXED_COLUMNS.contains(&m.as_str()) {
                "a fixed column of the sweep table (id, mc, status, energy_j, newton, error)"
            } else if self.measures[..k].contains(m) {
                "another .meas"
            } else {
                continue;
            };
            return Some(format!(
                ".meas result '{m}' has the name of {what}, so the sweep table would have two \
                 '{m}' columns; rename the .meas"
            ));
        }
        None
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.axes.iter().map(|a| a.values.len()).product::<usize>() * self.mc.max(1)
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The point with id `id` (< `len()`): mixed-radix decoding, Monte Carlo innermost.
    pub fn point(&self, id: usize) -> Point {
        let mut rest = id;
        let mc = if self.mc > 0 {
            let m = rest % self.mc;
            rest /= self.mc;
            Some(m)
        } else {
            None
        };
        let mut values = vec![0.0; self.axes.len()];
        for (k, a) in self.axes.iter().enumerate().rev() {
            values[k] = a.values[rest % a.values.len()];
            rest /= a.values.len();
        }
        Point { id, values, mc }
    }
}

/// Shard `k` of `n` (0-based): the ids `i` with `i % n == k`. Round-robin, so shards get
/// an even mix of cheap and expensive corners of the parameter space.
pub fn shard_ids(total: usize, shard: Option<(usize, usize)>) -> Vec<usize> {
    match shard {
        None => (0..total).collect(),
        Some((k, n)) => (k..total).step_by(n.max(1)).collect(),
    }
}

/// Build the plan of a netlist: its `.step` axes, then `extra` axes (`--set`, which replace
/// a `.step` of the same name), `mc` runs (default: `.options mcruns=`) and the seed
/// (default: `.options seed=`, else 0).
pub fn plan_for(nominal: &Circuit, extra: &[Axis], mc: Option<usize>, seed: Option<u64>) -> Plan {
    let mut axes: Vec<Axis> = nominal
        .steps
        .iter()
        .map(|s| Axis {
            name: s.param.clone(),
            values: s.values.clone(),
            unit: s.unit.clone(),
        })
        .collect();
    for e in extra {
        match axes.iter_mut().find(|a| a.name == e.name) {
            Some(a) => *a = e.clone(),
            None => axes.push(e.clone()),
        }
    }
    let mc = mc.unwrap_or_else(|| {
        nominal
            .options
            .extra
            .get("mcruns")
            .map_or(0, |&v| v.max(0.0) as usize)
    });
    Plan {
        axes,
        mc,
        seed: seed.or(nominal.options.seed).unwrap_or(0),
        measures: nominal.measures.iter().map(|m| m.name.clone()).collect(),
        measure_units: nominal.measures.iter().map(meas::unit_of).collect(),
    }
}

/// Run one point. Never panics: a panic inside the simulator is recorded as a failure.
/// `keep_plots` returns the waveforms too (for `mtjsim run` of a stepped netlist).
pub fn run_point(
    prepared: &Prepared,
    plan: &Plan,
    point: &Point,
    keep_plots: bool,
) -> (PointResult, Vec<Plot>) {
    let start = Instant::now();
    let overrides: Vec<(String, f64)> = plan
        .axes
        .iter()
        .zip(&point.values)
        .map(|(a, &v)| (a.name.clone(), v))
        .collect();
    let seed = point.mc.map(|m| point_seed(plan.seed, m));
    let parsed = prepared.elaborate(&overrides, seed);
    let mut res = PointResult {
        id: point.id,
        values: point.values.clone(),
        mc: point.mc,
        error: None,
        measures: vec![None; plan.measures.len()],
        energy_j: None,
        newton_iterations: 0,
        accepted_steps: 0,
        setup_s: 0.0,
        wall_s: 0.0,
    };
    if parsed.diagnostics.has_errors() {
        let text = parsed.render_diagnostics();
        let first = text
            .lines()
            .find(|l| l.contains("error"))
            .unwrap_or("netlist error");
        res.error = Some(first.trim().to_string());
        res.wall_s = start.elapsed().as_secs_f64();
        return (res, Vec::new());
    }
    let mut circuit = parsed.circuit;
    if let Some(s) = seed {
        circuit.options.seed = Some(s);
    }
    meas::ensure_saved(&mut circuit);
    res.setup_s = start.elapsed().as_secs_f64();
    let sim = std::panic::catch_unwind(AssertUnwindSafe(|| analysis::simulate(&circuit)));
    let plots = match sim {
        Ok(Ok(out)) => {
            res.energy_j = Some(out.source_energy_j.iter().sum());
            res.newton_iterations = out.stats.newton_iterations;
            res.accepted_steps = out.stats.accepted_steps;
            out.plots
        }
        Ok(Err(e)) => {
            res.error = Some(e.message.lines().next().unwrap_or("").to_string());
            e.plots
        }
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            res.error = Some(format!("internal error (panic): {msg}"));
            Vec::new()
        }
    };
    if res.error.is_none() {
        let by_name = meas::measure_all(&circuit, &plots);
        for (slot, name) in res.measures.iter_mut().zip(&plan.measures) {
            *slot = by_name
                .iter()
                .find(|m| &m.name == name)
                .and_then(|m| m.value.clone().ok());
        }
    }
    res.wall_s = start.elapsed().as_secs_f64();
    (res, if keep_plots { plots } else { Vec::new() })
}

/// Load a netlist for sweeping: the prepared text and the nominal circuit, or the rendered
/// diagnostics.
pub fn load(path: &std::path::Path) -> Result<(Prepared, Circuit, String), String> {
    let prepared = netlist::prepare(path);
    let nominal = prepared.elaborate(&[], None);
    let text = nominal.render_diagnostics();
    if nominal.diagnostics.has_errors() {
        return Err(text);
    }
    Ok((prepared, nominal.circuit, text))
}

/// Run the points `ids` of `plan` on `jobs` threads (one point per task), calling `done`
/// as each finishes (from the worker thread, in completion order).
pub fn run_points(
    prepared: &Prepared,
    plan: &Plan,
    ids: &[usize],
    jobs: usize,
    done: &(dyn Fn(PointResult) + Sync),
) -> Result<(), String> {
    use rayon::prelude::*;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.max(1))
        .build()
        .map_err(|e| format!("cannot start {jobs} threads: {e}"))?;
    pool.install(|| {
        ids.par_iter().with_max_len(1).for_each(|&id| {
            let (r, _) = run_point(prepared, plan, &plan.point(id), false);
            done(r);
        })
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Plan {
        Plan {
            axes: vec![
                Axis {
                    name: "a".into(),
                    values: vec![1.0, 2.0],
                    unit: String::new(),
                },
                Axis {
                    name: "b".into(),
                    values: vec![10.0, 20.0, 30.0],
                    unit: String::new(),
                },
            ],
            mc: 2,
            seed: 1,
            measures: vec![],
            measure_units: vec![],
        }
    }

    /// A `.meas` named like a swept parameter, a fixed column or another `.meas` is
    /// refused; distinct names pass; the check agrees with the header it protects.
    #[test]
    fn measure_names_must_not_clash_with_columns() {
        let mut p = plan();
        p.measures = vec!["delay".into(), "energy".into()];
        assert_eq!(p.column_clash(), None);
        let cols = store::header(&p);
        let cols: Vec<&str> = cols.trim_end().split(',').collect();
        for fixed in FIXED_COLUMNS {
            assert!(cols.contains(&fixed), "{fixed} is a column");
        }
        for (name, what) in [
            ("b", "swept parameter"),
            ("status", "fixed column"),
            ("delay", "another .meas"),
        ] {
            p.measures = vec!["delay".into(), name.into()];
            let msg = p.column_clash().expect(name);
            assert!(msg.contains(what) && msg.contains(name), "{msg}");
        }
    }

    #[test]
    fn points_enumerate_the_product_once() {
        let p = plan();
        assert_eq!(p.len(), 12);
        let pts: Vec<Point> = (0..p.len()).map(|i| p.point(i)).collect();
        // Last axis varies fastest after the Monte Carlo index.
        assert_eq!(pts[0].values, vec![1.0, 10.0]);
        assert_eq!(pts[1].mc, Some(1));
        assert_eq!(pts[2].values, vec![1.0, 20.0]);
        assert_eq!(pts[6].values, vec![2.0, 10.0]);
        let mut seen: Vec<(u64, u64, usize)> = pts
            .iter()
            .map(|q| (q.values[0].to_bits(), q.values[1].to_bits(), q.mc.unwrap()))
            .collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 12);
    }

    #[test]
    fn shards_partition_the_ids() {
        for n in 1..6 {
            let mut all: Vec<usize> = (0..n).flat_map(|k| shard_ids(17, Some((k, n)))).collect();
            all.sort();
            assert_eq!(all, (0..17).collect::<Vec<_>>());
        }
        assert_ne!(point_seed(1, 0), point_seed(1, 1));
        assert_ne!(point_seed(1, 0), point_seed(2, 0));
    }
}
