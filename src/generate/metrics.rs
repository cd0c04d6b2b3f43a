//! Read and write figures of merit of a generated array operation, computed from the
//! simulated waveforms (docs/crossbar.md defines each one). Pure functions of the
//! [`ArraySpec`] that generated the netlist and the transient [`Plot`] it produced.

use super::array::{ArraySpec, Op};
use crate::results::Plot;

/// Value of vector `name` at time `t` (linear interpolation; clamped at the ends).
pub fn sample(p: &Plot, name: &str, t: f64) -> Result<f64, String> {
    let v = &p
        .get(name)
        .ok_or_else(|| format!("the simulation did not save {name}"))?
        .data;
    let ts = &p.scale.data;
    if ts.is_empty() {
        return Err("empty transient".into());
    }
    let k = ts.partition_point(|x| *x < t);
    if k == 0 {
        return Ok(v[0]);
    }
    if k >= ts.len() {
        return Ok(v[ts.len() - 1]);
    }
    let (t0, t1) = (ts[k - 1], ts[k]);
    let w = if t1 > t0 { (t - t0) / (t1 - t0) } else { 1.0 };
    Ok(v[k - 1] + w * (v[k] - v[k - 1]))
}

/// Time after `t_edge` from which `|y − y(t_end)| ≤ tol·|y(t_end)|` holds up to `t_end`.
pub fn settling_time(
    p: &Plot,
    name: &str,
    t_edge: f64,
    t_end: f64,
    tol: f64,
) -> Result<f64, String> {
    let fin = sample(p, name, t_end)?;
    let v = &p.get(name).ok_or_else(|| format!("no vector {name}"))?.data;
    let ts = &p.scale.data;
    let mut last_out = t_edge;
    for (k, &t) in ts.iter().enumerate() {
        if t < t_edge || t > t_end {
            continue;
        }
        if (v[k] - fin).abs() > tol * fin.abs() {
            last_out = t;
        }
    }
    Ok(last_out - t_edge)
}

/// What a read of every row found.
#[derive(Debug, Clone)]
pub struct ReadReport {
    /// Sensed current of every cell of the rows read (A), `current[i][j]`.
    pub current: Vec<Vec<f64>>,
    /// Decision threshold (A): the largest gap of the sorted |currents| (on a log scale),
    /// found without knowing the stored pattern.
    pub threshold: f64,
    /// Bits decided from the currents (1 = above threshold = P).
    pub bits: Vec<Vec<bool>>,
    /// Cells whose decided bit differs from the stored one.
    pub errors: usize,
    /// Read margin (A): smallest current of a stored 1 minus the largest of a stored 0;
    /// negative means the pattern cannot be separated by any threshold.
    pub margin_a: f64,
    /// Margin relative to the threshold.
    pub margin_rel: f64,
    /// Worst word-line-edge-to-1 %-settling time over all cells (s).
    pub latency_s: f64,
    /// Energy from all sources over the whole read (J) and per row read.
    pub energy_j: f64,
    pub energy_per_row_j: f64,
}

pub fn read_report(s: &ArraySpec, p: &Plot, source_energy_j: f64) -> Result<ReadReport, String> {
    if s.op != Op::Read {
        return Err("read_report needs a read netlist".into());
    }
    let mut current = vec![vec![0.0; s.cols]; s.rows_read()];
    let mut latency: f64 = 0.0;
    for (i, row) in current.iter_mut().enumerate() {
        let t = s.read_sample_time(i);
        for (j, c) in row.iter_mut().enumerate() {
            let name = format!("i(vsl{j})");
            *c = sample(p, &name, t)?.abs();
            latency = latency.max(settling_time(p, &name, s.read_row_start(i), t, 0.01)?);
        }
    }
    let mut all: Vec<f64> = current.iter().flatten().map(|c| c.max(1e-30)).collect();
    all.sort_by(f64::total_cmp);
    let mut threshold = all[all.len() - 1] * 2.0;
    let mut best = 0.0;
    for w in all.windows(2) {
        let gap = (w[1] / w[0]).ln();
        if gap > best {
            best = gap;
            threshold = (w[0] * w[1]).sqrt();
        }
    }
    let bits: Vec<Vec<bool>> = current
        .iter()
        .map(|r| r.iter().map(|c| *c > threshold).collect())
        .collect();
    let mut errors = 0;
    let (mut min1, mut max0) = (f64::INFINITY, 0.0f64);
    for i in 0..s.rows_read() {
        for j in 0..s.cols {
            errors += usize::from(bits[i][j] != s.bits[i][j]);
            if s.bits[i][j] {
                min1 = min1.min(current[i][j]);
            } else {
                max0 = max0.max(current[i][j]);
            }
        }
    }
    let margin_a = if min1.is_finite() {
        min1 - max0
    } else {
        f64::NAN
    };
    Ok(ReadReport {
        current,
        threshold,
        bits,
        errors,
        margin_a,
        margin_rel: margin_a / threshold,
        latency_s: latency,
        energy_j: source_energy_j,
        energy_per_row_j: source_energy_j / s.rows_read() as f64,
    })
}

/// What one write did.
#[derive(Debug, Clone)]
pub struct WriteReport {
    /// The target ended in the written state (m·target > 0.5 at the end).
    pub switched: bool,
    /// Data-pulse start to the target's m_z crossing 0 (s); None if it never crossed.
    pub t_switch_s: Option<f64>,
    /// Worst `state·m_z` over time among the other cells (1 = untouched, < 0 = flipped).
    pub worst_other: f64,
    /// Largest |current| through any other cell (A) and through the target (A).
    pub max_other_a: f64,
    pub target_a: f64,
    /// Energy from all sources (J).
    pub energy_j: f64,
}

pub fn write_report(s: &ArraySpec, p: &Plot, source_energy_j: f64) -> Result<WriteReport, String> {
    let Op::Write { row, col } = s.op else {
        return Err("write_report needs a write netlist".into());
    };
    let want = if s.bits[row][col] { -1.0 } else { 1.0 };
    let (t0, _, tstop) = s.write_times();
    let mz_name = s.mtj_vec("mz", row, col);
    let mz = &p
        .get(&mz_name)
        .ok_or_else(|| format!("no {mz_name} saved"))?
        .data;
    let ts = &p.scale.data;
    let switched = want * sample(p, &mz_name, tstop)? > 0.5;
    let t_switch_s = ts
        .iter()
        .zip(mz)
        .find(|(t, m)| **t >= t0 && want * **m > 0.0)
        .map(|(t, _)| t - t0);
    let peak = |n: &str| -> Result<f64, String> {
        Ok(p.get(n)
            .ok_or_else(|| format!("no {n} saved"))?
            .data
            .iter()
            .fold(0.0f64, |a, v| a.max(v.abs())))
    };
    let target_a = peak(&s.mtj_vec("i", row, col))?;
    let (mut worst_other, mut max_other_a) = (1.0f64, 0.0f64);
    for i in 0..s.rows {
        for j in 0..s.cols {
            if (i, j) == (row, col) {
                continue;
            }
            let n = s.mtj_vec("mz", i, j);
            let sgn = if s.bits[i][j] { 1.0 } else { -1.0 };
            let w = p
                .get(&n)
                .ok_or_else(|| format!("no {n} saved"))?
                .data
                .iter()
                .fold(1.0f64, |a, v| a.min(sgn * v));
            worst_other = worst_other.min(w);
            max_other_a = max_other_a.max(peak(&s.mtj_vec("i", i, j))?);
        }
    }
    Ok(WriteReport {
        switched,
        t_switch_s,
        worst_other,
        max_other_a,
        target_a,
        energy_j: source_energy_j,
    })
}
