//! ngspice cross-check harness for integration tests and benches: run a netlist through
//! ngspice, read its raw file, and compare waveforms against ours with range-relative
//! error measures that work across different time grids.
//!
//! Not part of the public API (hidden from docs); it lives in the library so every test
//! binary and bench can share it.

use crate::output::raw::read_raw;
use crate::output::table::eng;
use crate::results::{Plot, Vector};
use std::fmt;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Seconds before a hung ngspice run is killed (override with `MTJSIM_NGSPICE_TIMEOUT`).
const DEFAULT_TIMEOUT_S: u64 = 600;

/// Whether an `ngspice` executable is on PATH (checked once per process).
pub fn ngspice_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        Command::new("ngspice")
            .arg("--version")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// The skip rule for ngspice-dependent tests: `true` if ngspice can be used; otherwise
/// prints a note and returns `false` so the test can return early — unless the `CI`
/// environment variable is set, where a missing ngspice is a setup error and panics.
///
/// ```ignore
/// if !mtjsim::testing::require_ngspice("rc_matches_ngspice") { return; }
/// ```
pub fn require_ngspice(test: &str) -> bool {
    if ngspice_available() {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("{test}: ngspice is not on PATH but CI is set; install ngspice");
    }
    // Straight to the stderr handle, not `eprintln!`, so libtest's capture does not hide it.
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "note: {test} skipped: ngspice is not on PATH"
    );
    false
}

/// A scratch directory removed on drop, unique per process and call.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Create `$TMPDIR/mtjsim-<prefix>-<pid>-<n>-<nanos>`.
    pub fn new(prefix: &str) -> std::io::Result<Self> {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path = std::env::temp_dir().join(format!(
            "mtjsim-{prefix}-{}-{n}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&path)?;
        Ok(TempDir { path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Does ngspice's log show a failed or untrustworthy run? Any `Error` line, any singular
/// matrix (even one ngspice recovered from with gmin stepping: such a reference is not
/// worth comparing against), a too-small timestep or an aborted run.
fn log_failure(log: &str) -> Option<&str> {
    log.lines().find(|l| {
        let lower = l.to_ascii_lowercase();
        l.contains("Error")
            || lower.contains("singular")
            || lower.contains("timestep too small")
            || lower.contains("simulation(s) aborted")
    })
}

/// Run `ngspice -b -r <tmp>/out.raw <netlist>` in a scratch directory and return the plots
/// it wrote. `Err` carries the reason and ngspice's full log when ngspice is missing,
/// exits non-zero, prints an error / singular-matrix / timestep-too-small line, or writes
/// no raw file. Relative `.include`s resolve against the netlist (it is passed as an
/// absolute path).
pub fn run_ngspice(netlist: &Path) -> Result<Vec<Plot>, String> {
    let netlist = netlist
        .canonicalize()
        .map_err(|e| format!("{}: {e}", netlist.display()))?;
    let dir = TempDir::new("ngspice").map_err(|e| format!("temp dir: {e}"))?;
    let raw = dir.path().join("out.raw");
    let log_path = dir.path().join("ngspice.log");
    let log = File::create(&log_path).map_err(|e| format!("ngspice log: {e}"))?;
    let log_err = log.try_clone().map_err(|e| format!("ngspice log: {e}"))?;
    let mut child = Command::new("ngspice")
        .arg("-b")
        .arg("-r")
        .arg(&raw)
        .arg(&netlist)
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .spawn()
        .map_err(|e| format!("cannot start ngspice: {e}"))?;
    let timeout = std::env::var("MTJSIM_NGSPICE_TIMEOUT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_TIMEOUT_S);
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if start.elapsed() > Duration::from_secs(timeout) => {
                let _ = child.kill();
                let _ = child.wait();
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                return Err(format!(
                    "ngspice timed out after {timeout} s on {}\n{log}",
                    netlist.display()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(format!("waiting for ngspice: {e}")),
        }
    };
    let log = String::from_utf8_lossy(&std::fs::read(&log_path).unwrap_or_default()).into_owned();
    let fail = |why: String| {
        Err(format!(
            "{why} ({})\n--- ngspice log ---\n{log}",
            netlist.display()
        ))
    };
    if !status.success() {
        return fail(format!("ngspice exited with {status}"));
    }
    if let Some(line) = log_failure(&log) {
        return fail(format!("ngspice reported: {}", line.trim()));
    }
    if !raw.exists() {
        return fail("ngspice wrote no raw file (no analysis?)".into());
    }
    read_raw(&raw).or_else(|e| fail(format!("reading ngspice raw file: {e}")))
}

/// Errors of one vector, relative to the reference vector's range.
#[derive(Debug, Clone, PartialEq)]
pub struct VecCompare {
    pub name: String,
    /// RMS of (ours − reference) over the common grid, divided by `range`.
    pub rms_rel: f64,
    /// Max |ours − reference| over the common grid, divided by `range`.
    pub max_rel: f64,
    /// The normaliser: reference max − min, or max |v| for (nearly) constant vectors.
    pub range: f64,
    /// Max |ours − reference| in the vector's own unit, to judge near-zero vectors.
    pub max_abs: f64,
    /// Points on the common grid.
    pub points: usize,
}

/// Result of [`compare_plots`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Comparison {
    pub per_vector: Vec<VecCompare>,
    /// Vectors asked for (or present in the reference) but absent from one of the plots.
    pub missing: Vec<String>,
}

impl Comparison {
    /// True when something was compared, nothing is missing, and every vector is within
    /// both tolerances (NaN errors fail).
    pub fn passes(&self, rms: f64, max: f64) -> bool {
        !self.per_vector.is_empty()
            && self.missing.is_empty()
            && self
                .per_vector
                .iter()
                .all(|v| v.rms_rel <= rms && v.max_rel <= max)
    }

    /// The comparison of one vector by case-insensitive name.
    pub fn get(&self, name: &str) -> Option<&VecCompare> {
        self.per_vector
            .iter()
            .find(|v| v.name.eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w = self
            .per_vector
            .iter()
            .map(|v| v.name.len())
            .chain([6])
            .max()
            .unwrap_or(6);
        writeln!(
            f,
            "{:<w$}  {:>10}  {:>10}  {:>10}  {:>10}  {:>7}",
            "vector", "range", "rms_rel", "max_rel", "max_abs", "points"
        )?;
        for v in &self.per_vector {
            writeln!(
                f,
                "{:<w$}  {:>10.3e}  {:>10.3e}  {:>10.3e}  {:>10.3e}  {:>7}",
                v.name, v.range, v.rms_rel, v.max_rel, v.max_abs, v.points
            )?;
        }
        if !self.missing.is_empty() {
            writeln!(f, "missing: {}", self.missing.join(", "))?;
        }
        Ok(())
    }
}

/// Smallest normaliser, so an all-zero reference gives 0 error when ours is zero too.
const TINY: f64 = f64::MIN_POSITIVE;

fn find<'a>(plot: &'a Plot, name: &str) -> Option<&'a Vector> {
    std::iter::once(&plot.scale)
        .chain(&plot.vectors)
        .find(|v| v.name.eq_ignore_ascii_case(name))
}

/// Do the two plots share the same scale values (DC sweeps, operating points)? Then
/// vectors are compared point by point, with no interpolation.
fn same_scale(a: &Plot, b: &Plot) -> bool {
    if a.len() != b.len() || a.is_empty() {
        return false;
    }
    if a.len() == 1 {
        return true;
    }
    let (lo, hi) = min_max(&a.scale.data);
    let tol = 1e-9 * (hi - lo).abs().max(lo.abs().max(hi.abs()) * 1e-3);
    a.scale
        .data
        .iter()
        .zip(&b.scale.data)
        .all(|(x, y)| (x - y).abs() <= tol)
}

fn min_max(v: &[f64]) -> (f64, f64) {
    v.iter()
        .filter(|x| x.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(x), hi.max(x))
        })
}

/// Range normaliser per the harness rule: max − min, or max |v| (at least [`TINY`]) when
/// the range is below 1e-12·max |v| (constant vectors, operating points).
fn normaliser(reference: &[f64]) -> f64 {
    let (lo, hi) = min_max(reference);
    if lo > hi {
        return TINY;
    }
    let amax = lo.abs().max(hi.abs());
    let range = hi - lo;
    if range < 1e-12 * amax || range == 0.0 {
        amax.max(TINY)
    } else {
        range
    }
}

/// (x, y) pairs sorted by x (stable), so descending DC sweeps interpolate correctly.
fn sorted_xy(x: &[f64], y: &[f64]) -> (Vec<f64>, Vec<f64>) {
    if x.windows(2).all(|w| w[0] <= w[1]) {
        return (x.to_vec(), y.to_vec());
    }
    let mut idx: Vec<usize> = (0..x.len()).collect();
    idx.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    (
        idx.iter().map(|&i| x[i]).collect(),
        idx.iter().map(|&i| y[i]).collect(),
    )
}

/// Linear interpolation on sorted `xs`, clamped at the ends; at repeated x (breakpoints)
/// the last sample wins.
fn interp(xs: &[f64], ys: &[f64], t: f64) -> f64 {
    let i = xs.partition_point(|&x| x <= t);
    if i == 0 {
        return ys[0];
    }
    if i == xs.len() {
        return ys[xs.len() - 1];
    }
    let (x0, x1) = (xs[i - 1], xs[i]);
    if x1 == x0 {
        return ys[i - 1];
    }
    ys[i - 1] + (ys[i] - ys[i - 1]) * (t - x0) / (x1 - x0)
}

fn errors(name: &str, reference: &[f64], diffs: impl Iterator<Item = f64>) -> VecCompare {
    let range = normaliser(reference);
    let (mut sum2, mut max, mut n) = (0.0, 0.0f64, 0usize);
    for d in diffs {
        let d = if d.is_finite() {
            d.abs()
        } else {
            f64::INFINITY
        };
        sum2 += d * d;
        max = max.max(d);
        n += 1;
    }
    let rms = if n == 0 {
        f64::INFINITY
    } else {
        (sum2 / n as f64).sqrt()
    };
    let max = if n == 0 { f64::INFINITY } else { max };
    VecCompare {
        name: name.to_string(),
        rms_rel: rms / range,
        max_rel: max / range,
        range,
        max_abs: max,
        points: n,
    }
}

/// Compare `ours` against `reference` (normally ngspice's plot of the same analysis).
///
/// Vectors are matched by case-insensitive name: `names` if given, else every reference
/// vector. Transient-like plots are compared on the union of both scales' points within
/// their overlap, each side linearly interpolated, because the two simulators pick
/// different time steps. Plots with identical scales (DC sweeps, operating points) are
/// compared point by point. For operating points the reference's scale vector is compared
/// too when ours has a vector of that name (an ngspice `.op` plot's "scale" is just its
/// first node).
/// Errors are relative to the reference vector's range (see [`VecCompare`]).
pub fn compare_plots(reference: &Plot, ours: &Plot, names: Option<&[&str]>) -> Comparison {
    let pointwise = same_scale(reference, ours);
    let candidates: Vec<&str> = match names {
        Some(n) => n.to_vec(),
        None => {
            let mut c: Vec<&str> = Vec::new();
            if pointwise && reference.len() == 1 && find(ours, &reference.scale.name).is_some() {
                c.push(&reference.scale.name);
            }
            c.extend(reference.vectors.iter().map(|v| v.name.as_str()));
            c
        }
    };
    let mut out = Comparison::default();
    let grid = (!pointwise).then(|| common_grid(reference, ours));
    let ref_xy = |v: &Vector| sorted_xy(&reference.scale.data, &v.data);
    let our_xy = |v: &Vector| sorted_xy(&ours.scale.data, &v.data);
    for name in candidates {
        let (Some(r), Some(o)) = (find(reference, name), find(ours, name)) else {
            out.missing.push(name.to_string());
            continue;
        };
        let cmp = match &grid {
            None => errors(
                &r.name,
                &r.data,
                r.data.iter().zip(&o.data).map(|(a, b)| b - a),
            ),
            Some(grid) => {
                let (rx, ry) = ref_xy(r);
                let (ox, oy) = our_xy(o);
                if rx.is_empty() || ox.is_empty() || ry.len() != rx.len() || oy.len() != ox.len() {
                    errors(&r.name, &r.data, std::iter::empty())
                } else {
                    errors(
                        &r.name,
                        &r.data,
                        grid.iter()
                            .map(|&t| interp(&ox, &oy, t) - interp(&rx, &ry, t)),
                    )
                }
            }
        };
        out.per_vector.push(cmp);
    }
    out
}

/// Union of both scales' points inside the overlap of their spans, sorted, deduplicated.
/// Empty when the spans do not overlap (every vector then reports infinite error).
fn common_grid(a: &Plot, b: &Plot) -> Vec<f64> {
    let (alo, ahi) = min_max(&a.scale.data);
    let (blo, bhi) = min_max(&b.scale.data);
    let (lo, hi) = (alo.max(blo), ahi.min(bhi));
    if lo > hi {
        return Vec::new();
    }
    let mut g: Vec<f64> = a
        .scale
        .data
        .iter()
        .chain(&b.scale.data)
        .copied()
        .filter(|&t| t >= lo && t <= hi)
        .collect();
    g.sort_by(f64::total_cmp);
    g.dedup();
    g
}

/// One-line summary for assertion messages: `v(out) max 1.2e-4 of 1 V`.
pub fn describe(v: &VecCompare, unit: &str) -> String {
    format!(
        "{}: rms {:.2e}, max {:.2e} of range {}",
        v.name,
        v.rms_rel,
        v.max_rel,
        eng(v.range, unit)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::VecKind;

    fn plot(name: &str, t: &[f64], vecs: &[(&str, Vec<f64>)]) -> Plot {
        Plot {
            title: "t".into(),
            name: name.into(),
            scale: Vector {
                name: "time".into(),
                kind: VecKind::Time,
                data: t.to_vec(),
            },
            vectors: vecs
                .iter()
                .map(|(n, d)| Vector {
                    name: n.to_string(),
                    kind: VecKind::Voltage,
                    data: d.clone(),
                })
                .collect(),
        }
    }

    fn grid(n: usize, end: f64) -> Vec<f64> {
        (0..=n).map(|i| end * i as f64 / n as f64).collect()
    }

    #[test]
    fn identical_plots_have_zero_error() {
        let t = grid(100, 1e-9);
        let v: Vec<f64> = t.iter().map(|x| (x * 3e9).sin()).collect();
        let p = plot("Transient Analysis", &t, &[("v(out)", v)]);
        let c = compare_plots(&p, &p, None);
        assert_eq!(c.per_vector.len(), 1);
        assert_eq!(c.per_vector[0].rms_rel, 0.0);
        assert_eq!(c.per_vector[0].max_rel, 0.0);
        assert!(c.passes(0.0, 0.0));
        assert!(c.missing.is_empty());
    }

    #[test]
    fn known_offset_gives_known_error() {
        let t = grid(50, 2.0);
        let r: Vec<f64> = t.iter().map(|x| 5.0 * x).collect(); // range 10
        let o: Vec<f64> = r.iter().map(|x| x + 0.1).collect();
        let c = compare_plots(
            &plot("Transient Analysis", &t, &[("v(a)", r)]),
            &plot("Transient Analysis", &t, &[("V(A)", o)]),
            None,
        );
        let v = c.get("v(a)").unwrap();
        assert!((v.range - 10.0).abs() < 1e-12);
        assert!((v.rms_rel - 0.01).abs() < 1e-12, "{c}");
        assert!((v.max_rel - 0.01).abs() < 1e-12);
        assert!((v.max_abs - 0.1).abs() < 1e-12);
        assert!(c.passes(0.011, 0.011));
        assert!(!c.passes(0.009, 1.0));
    }

    #[test]
    fn different_grids_are_interpolated() {
        // A linear waveform is reproduced exactly by interpolation from either grid.
        let f = |x: f64| 2.0 * x - 0.3;
        let t1 = vec![0.0, 0.25, 0.5, 0.75, 1.0];
        let t2: Vec<f64> = grid(40, 1.2);
        let r = plot(
            "Transient Analysis",
            &t1,
            &[("v(x)", t1.iter().map(|&x| f(x)).collect())],
        );
        let o = plot(
            "Transient Analysis",
            &t2,
            &[("v(x)", t2.iter().map(|&x| f(x)).collect())],
        );
        let c = compare_plots(&r, &o, None);
        let v = c.get("v(x)").unwrap();
        assert!(v.max_rel < 1e-12, "{c}");
        // Grid: union clipped to the overlap [0, 1]: 5 + 34 points minus shared ones.
        let expect = {
            let mut g: Vec<f64> = t1
                .iter()
                .chain(&t2)
                .copied()
                .filter(|&x| x <= 1.0)
                .collect();
            g.sort_by(f64::total_cmp);
            g.dedup();
            g.len()
        };
        assert_eq!(v.points, expect);

        // A time shift on a ramp gives a computable error: ours(t) = ref(t) - 0.1 on the
        // rising part of r(t) = t, range 1.
        let t3 = grid(1000, 1.0);
        let r = plot("Transient Analysis", &t3, &[("v(x)", t3.clone())]);
        let t4: Vec<f64> = grid(333, 1.0);
        let o = plot(
            "Transient Analysis",
            &t4,
            &[("v(x)", t4.iter().map(|x| x - 0.1).collect())],
        );
        let c = compare_plots(&r, &o, None);
        let v = c.get("v(x)").unwrap();
        assert!(
            (v.max_rel - 0.1).abs() < 1e-12 && (v.rms_rel - 0.1).abs() < 1e-12,
            "{c}"
        );
    }

    #[test]
    fn operating_point_pointwise_with_constant_normaliser() {
        let mk = |vin: f64, vout: f64, iv: f64| Plot {
            title: "t".into(),
            name: "Operating Point".into(),
            scale: Vector {
                name: "v(in)".into(),
                kind: VecKind::Voltage,
                data: vec![vin],
            },
            vectors: vec![
                Vector {
                    name: "v(out)".into(),
                    kind: VecKind::Voltage,
                    data: vec![vout],
                },
                Vector {
                    name: "i(v1)".into(),
                    kind: VecKind::Current,
                    data: vec![iv],
                },
            ],
        };
        let c = compare_plots(&mk(1.0, 0.5, -5e-4), &mk(1.0, 0.5005, -5e-4), None);
        assert_eq!(c.per_vector.len(), 3, "{c}");
        assert_eq!(c.get("v(in)").unwrap().max_rel, 0.0);
        let v = c.get("v(out)").unwrap();
        assert!((v.range - 0.5).abs() < 1e-15);
        assert!((v.max_rel - 1e-3).abs() < 1e-12);
        let i = c.get("i(v1)").unwrap();
        assert!((i.range - 5e-4).abs() < 1e-18 && i.max_rel == 0.0);
    }

    #[test]
    fn dc_sweep_with_renamed_scale_and_missing_vectors() {
        let s = vec![2.0, 1.0, 0.0];
        let mut r = plot(
            "DC transfer characteristic",
            &s,
            &[("v(out)", vec![1.0, 0.5, 0.0])],
        );
        r.scale.name = "v(v-sweep)".into();
        let mut o = plot(
            "DC transfer characteristic",
            &s,
            &[("v(out)", vec![1.0, 0.5, 0.0])],
        );
        o.scale.name = "v-sweep".into();
        let c = compare_plots(&r, &o, None);
        assert!(c.passes(0.0, 0.0), "{c}");
        assert_eq!(c.per_vector.len(), 1);

        let c = compare_plots(&r, &o, Some(&["v(out)", "i(v9)"]));
        assert_eq!(c.missing, vec!["i(v9)".to_string()]);
        assert!(!c.passes(1.0, 1.0));
        let text = c.to_string();
        assert!(
            text.contains("v(out)") && text.contains("missing: i(v9)"),
            "{text}"
        );
    }

    #[test]
    fn nan_and_disjoint_spans_fail() {
        let t = grid(10, 1.0);
        let r = plot("Transient Analysis", &t, &[("v(x)", t.clone())]);
        let mut bad = t.clone();
        bad[3] = f64::NAN;
        let o = plot(
            "Transient Analysis",
            &grid(7, 1.0),
            &[("v(x)", grid(7, 1.0))],
        );
        assert!(compare_plots(&r, &o, None).passes(1e-12, 1e-12));
        let o = plot("Transient Analysis", &t, &[("v(x)", bad)]);
        assert!(!compare_plots(&r, &o, None).passes(1.0, 1.0));
        let late: Vec<f64> = t.iter().map(|x| x + 5.0).collect();
        let o = plot("Transient Analysis", &late, &[("v(x)", t.clone())]);
        let c = compare_plots(&r, &o, None);
        assert_eq!(c.per_vector[0].points, 0);
        assert!(!c.passes(1.0, 1.0));
    }

    #[test]
    fn log_failure_patterns() {
        assert!(log_failure("Note: ok\nError: unknown subckt").is_some());
        assert!(log_failure("Warning: singular matrix:  check node out").is_some());
        assert!(log_failure("doAnalyses: TRAN:  Timestep too small").is_some());
        assert!(log_failure("Note: No compatibility mode selected!\nCircuit: rc").is_none());
    }
}
