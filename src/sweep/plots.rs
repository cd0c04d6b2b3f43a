//! Plots of sweep tables: line plots (one parameter), heat maps (two parameters, e.g. a
//! switching "phase diagram"), histograms (Monte Carlo), as SVG and PNG.
//!
//! Owns: reading a tidy table, grouping repeated points (Monte Carlo runs) by their mean,
//! and choosing the chart; drawing is `output::plot`. Must not run simulations.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{Plan, PointResult};
use crate::output::plot;

/// A table read from CSV: column names and rows of optional numbers (empty / text = None).
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<f64>>>,
}

impl Table {
    /// Read a CSV file with a header line (quoted cells may contain commas).
    pub fn read(path: &Path) -> Result<Table, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut lines = text.lines();
        let columns: Vec<String> = split_csv(lines.next().unwrap_or(""))
            .into_iter()
            .map(|c| c.trim().to_string())
            .collect();
        if columns.iter().all(|c| c.is_empty()) {
            return Err(format!("{}: empty table", path.display()));
        }
        let rows = lines
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                split_csv(l)
                    .iter()
                    .map(|c| c.trim().parse::<f64>().ok())
                    .collect()
            })
            .collect();
        Ok(Table { columns, rows })
    }

    /// Values of a column (None where missing), or an error naming the columns.
    pub fn column(&self, name: &str) -> Result<Vec<Option<f64>>, String> {
        let k = self
            .columns
            .iter()
            .position(|c| c.eq_ignore_ascii_case(name))
            .ok_or_else(|| format!("no column '{name}'; columns: {}", self.columns.join(", ")))?;
        Ok(self
            .rows
            .iter()
            .map(|r| r.get(k).copied().flatten())
            .collect())
    }
}

fn split_csv(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    for ch in line.chars() {
        match ch {
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(String::new()),
            _ => out.last_mut().expect("non-empty").push(ch),
        }
    }
    out
}

/// Axis label `name [unit]`.
pub fn label(name: &str, unit: &str) -> String {
    if unit.is_empty() {
        name.to_string()
    } else {
        format!("{name} [{unit}]")
    }
}

/// Mean of the finite values per key.
fn means<K: Ord>(pairs: impl Iterator<Item = (K, f64)>) -> BTreeMap<K, f64> {
    let mut acc: BTreeMap<K, (f64, usize)> = BTreeMap::new();
    for (k, v) in pairs.filter(|(_, v)| v.is_finite()) {
        let e = acc.entry(k).or_insert((0.0, 0));
        e.0 += v;
        e.1 += 1;
    }
    acc.into_iter()
        .map(|(k, (s, n))| (k, s / n as f64))
        .collect()
}

/// Totally ordered f64 key (by bits of the value, sorted numerically).
#[derive(Debug, Clone, Copy)]
struct Key(f64);
impl PartialEq for Key {
    fn eq(&self, o: &Self) -> bool {
        self.0.total_cmp(&o.0).is_eq()
    }
}
impl Eq for Key {}
impl PartialOrd for Key {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Key {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&o.0)
    }
}

/// Write `base.svg` and `base.png`; returns the paths written.
fn both(base: &Path, draw: &dyn Fn(&Path) -> Result<(), String>) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for ext in ["svg", "png"] {
        let p = base.with_extension(ext);
        draw(&p)?;
        out.push(p);
    }
    Ok(out)
}

/// A column to plot: name, SI unit ("" if none) and values.
pub struct Col {
    pub name: String,
    pub unit: String,
    pub values: Vec<Option<f64>>,
}

impl Col {
    /// Values rescaled to an engineering prefix (1e-9 s → 1 ns) and the axis label.
    fn scaled(&self) -> (String, Vec<Option<f64>>) {
        let max = self
            .values
            .iter()
            .flatten()
            .filter(|v| v.is_finite())
            .fold(0.0f64, |m, v| m.max(v.abs()));
        let exp3 = if max > 0.0 {
            ((max.log10() / 3.0).floor() as i32).clamp(-5, 3)
        } else {
            0
        };
        let prefix = ["f", "p", "n", "µ", "m", "", "k", "M", "G"][(exp3 + 5) as usize];
        let f = 10f64.powi(-3 * exp3);
        let vals = self.values.iter().map(|v| v.map(|x| x * f)).collect();
        let label = match (self.unit.is_empty(), exp3) {
            (_, 0) => label(&self.name, &self.unit),
            (false, _) => format!("{} [{prefix}{}]", self.name, self.unit),
            (true, _) => format!("{} [×1e{}]", self.name, 3 * exp3),
        };
        (label, vals)
    }
}

/// Columns to plot and the chart title.
pub struct Spec<'a> {
    pub title: &'a str,
    pub x: Col,
    pub y: Option<Col>,
    pub color: Option<Col>,
}

/// Heat map if `color` is given (mean per (x, y) cell), line plot of the mean y per x if
/// `y` is given, histogram of x otherwise. Axes are labelled `name [unit]`, with values
/// rescaled to an engineering prefix.
pub fn plot_spec(spec: &Spec, base: &Path) -> Result<Vec<PathBuf>, String> {
    let (xl, x) = spec.x.scaled();
    let y = spec.y.as_ref().map(Col::scaled);
    let color = spec.color.as_ref().map(Col::scaled);
    match (&y, &color) {
        (Some((yl, y)), Some((zl, z))) => {
            let m = means(x.iter().zip(y).zip(z).filter_map(|((a, b), c)| {
                Some(((Key((*b)?), Key((*a)?)), (*c).unwrap_or(f64::NAN)))
            }));
            let xs: Vec<f64> = uniq(&x);
            let ys: Vec<f64> = uniq(y);
            if xs.is_empty() || ys.is_empty() {
                return Err("heat map: no numeric x/y values".into());
            }
            let z: Vec<Vec<f64>> = ys
                .iter()
                .map(|&b| {
                    xs.iter()
                        .map(|&a| m.get(&(Key(b), Key(a))).copied().unwrap_or(f64::NAN))
                        .collect()
                })
                .collect();
            both(base, &|p| {
                plot::heatmap(p, spec.title, &xl, yl, zl, &xs, &ys, &z)
            })
        }
        (Some((yl, y)), None) => {
            let m = means(
                x.iter()
                    .zip(y)
                    .filter_map(|(a, b)| Some((Key((*a)?), (*b).unwrap_or(f64::NAN)))),
            );
            let pts: Vec<(f64, f64)> = m.into_iter().map(|(k, v)| (k.0, v)).collect();
            both(base, &|p| {
                plot::line_chart(p, spec.title, &xl, yl, &[(String::new(), pts.clone())])
            })
        }
        (None, _) => {
            let v: Vec<f64> = x
                .iter()
                .flatten()
                .copied()
                .filter(|v| v.is_finite())
                .collect();
            let bins = ((v.len() as f64).sqrt().round() as usize).clamp(5, 50);
            both(base, &|p| plot::histogram(p, spec.title, &xl, &v, bins))
        }
    }
}

fn uniq(v: &[Option<f64>]) -> Vec<f64> {
    let mut u: Vec<f64> = v
        .iter()
        .flatten()
        .copied()
        .filter(|x| x.is_finite())
        .collect();
    u.sort_by(f64::total_cmp);
    u.dedup();
    u
}

/// The automatic plots of a finished sweep, one per measurement, into `dir`: line plot for
/// one stepped parameter, heat map for two (first = y axis, second = x axis), histogram for
/// Monte Carlo without steps. Monte Carlo runs of a step point are averaged (so a 0/1
/// "switched" measurement becomes a switching probability).
pub fn auto_plots(dir: &Path, plan: &Plan, rows: &[PointResult]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    let axis = |k: usize| Col {
        name: plan.axes[k].name.clone(),
        unit: plan.axes[k].unit.clone(),
        values: rows.iter().map(|r| Some(r.values[k])).collect(),
    };
    for (m, name) in plan.measures.iter().enumerate() {
        let z = Col {
            name: name.clone(),
            unit: plan.measure_units.get(m).cloned().unwrap_or_default(),
            values: rows.iter().map(|r| r.measures[m]).collect(),
        };
        if z.values.iter().all(Option::is_none) {
            continue;
        }
        let (title, base, spec_axes) = match plan.axes.len() {
            0 if plan.mc > 0 => (
                format!("{name}: {} Monte Carlo runs", plan.mc),
                format!("{name}_hist"),
                (None, None),
            ),
            1 => (
                format!("{name} vs {}", plan.axes[0].name),
                format!("{name}_vs_{}", plan.axes[0].name),
                (Some(axis(0)), None),
            ),
            2 => (
                format!("{name} over {} × {}", plan.axes[1].name, plan.axes[0].name),
                format!("{name}_map"),
                (Some(axis(1)), Some(axis(0))),
            ),
            _ => continue,
        };
        let spec = match spec_axes {
            (None, _) => Spec {
                title: &title,
                x: z,
                y: None,
                color: None,
            },
            (Some(x), None) => Spec {
                title: &title,
                x,
                y: Some(z),
                color: None,
            },
            (Some(x), Some(y)) => Spec {
                title: &title,
                x,
                y: Some(y),
                color: Some(z),
            },
        };
        out.extend(plot_spec(&spec, &dir.join(base))?);
    }
    Ok(out)
}
