//! Weight quantization onto binary MTJ cells (P = high conductance, AP = low).
//!
//! Every scheme is differential: each logical output has a `+` and a `−` column (or group
//! of columns) and the periphery subtracts their currents, so the AP-state leakage of "off"
//! cells cancels exactly and signed weights need no reference column.
//!
//! | scheme | cells per weight and side | integer levels `q` | columns per output |
//! |---|---|---|---|
//! | `binary` | 1 | {−1, +1} (sign of w) | 2 |
//! | `multi-cell` (bits = k) | k, in parallel on k columns wired to one sense node | −k … k (thermometer) | 2k |
//! | `differential` (bits = b) | 1 per bit slice, slices weighted 2^s by shift-and-add | −(2^b−1) … 2^b−1 | 2b |
//!
//! The represented weight is `q · scale` with `scale = max|w| / q_max`; the quantization
//! error per weight is at most `scale/2` (binary: at most `max|w|`).

use serde::{Deserialize, Serialize};

/// How weights become cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Scheme {
    Binary,
    MultiCell,
    Differential,
}

impl Scheme {
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Binary => "binary",
            Scheme::MultiCell => "multi-cell",
            Scheme::Differential => "differential",
        }
    }

    /// Largest integer level.
    pub fn q_max(self, bits: u32) -> i64 {
        match self {
            Scheme::Binary => 1,
            Scheme::MultiCell => bits.max(1) as i64,
            Scheme::Differential => (1i64 << bits.clamp(1, 16)) - 1,
        }
    }

    /// Physical columns per side (+ or −) of one logical output.
    pub fn columns_per_side(self, bits: u32) -> usize {
        match self {
            Scheme::Binary => 1,
            Scheme::MultiCell | Scheme::Differential => bits.max(1) as usize,
        }
    }

    /// Number of separately sensed slices per side (multi-cell columns share one sense node).
    pub fn slices(self, bits: u32) -> usize {
        match self {
            Scheme::Binary | Scheme::MultiCell => 1,
            Scheme::Differential => bits.max(1) as usize,
        }
    }

    /// Digital weight of slice `s` in the shift-and-add.
    pub fn slice_weight(self, s: usize) -> i64 {
        match self {
            Scheme::Differential => 1 << s,
            _ => 1,
        }
    }

    /// Cell states (true = P) of column `c` (0-based within the side) for level `q` on side
    /// `plus`.
    pub fn cell_is_p(self, q: i64, plus: bool, c: usize) -> bool {
        let m = if plus { q.max(0) } else { (-q).max(0) };
        match self {
            Scheme::Binary => m >= 1,
            Scheme::MultiCell => (c as i64) < m,
            Scheme::Differential => (m >> c) & 1 == 1,
        }
    }

    /// Sensed slice index of physical column `c` within a side.
    pub fn slice_of_column(self, c: usize) -> usize {
        match self {
            Scheme::Differential => c,
            _ => 0,
        }
    }
}

/// A quantized weight matrix, row-major `[out][in]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Quantized {
    pub out: usize,
    pub inp: usize,
    pub q: Vec<i64>,
    /// Weight represented by one level.
    pub scale: f64,
    pub q_max: i64,
}

impl Quantized {
    pub fn at(&self, o: usize, i: usize) -> i64 {
        self.q[o * self.inp + i]
    }
    /// Largest |w − q·scale| over the matrix.
    pub fn max_error(&self, w: &[f64]) -> f64 {
        w.iter()
            .zip(&self.q)
            .map(|(w, q)| (w - *q as f64 * self.scale).abs())
            .fold(0.0, f64::max)
    }
}

/// Quantize `w` (`[out][in]`, row-major) to integer levels.
pub fn quantize(w: &[f64], out: usize, inp: usize, scheme: Scheme, bits: u32) -> Quantized {
    let q_max = scheme.q_max(bits);
    let wmax = w.iter().fold(0.0f64, |a, b| a.max(b.abs()));
    let scale = if wmax > 0.0 { wmax / q_max as f64 } else { 1.0 };
    let q = w
        .iter()
        .map(|&x| match scheme {
            Scheme::Binary => {
                if x >= 0.0 {
                    1
                } else {
                    -1
                }
            }
            _ => ((x / scale).round() as i64).clamp(-q_max, q_max),
        })
        .collect();
    Quantized {
        out,
        inp,
        q,
        scale,
        q_max,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every scheme's cells encode exactly its level: Σ_s 2^s (P₊ − P₋) summed over columns = q.
    #[test]
    fn cells_encode_levels() {
        for (scheme, bits) in [
            (Scheme::Binary, 1),
            (Scheme::MultiCell, 3),
            (Scheme::Differential, 4),
        ] {
            let qm = scheme.q_max(bits);
            let levels: Vec<i64> = if scheme == Scheme::Binary {
                vec![-1, 1]
            } else {
                (-qm..=qm).collect()
            };
            for q in levels {
                let mut total = 0;
                for c in 0..scheme.columns_per_side(bits) {
                    let wgt = scheme.slice_weight(scheme.slice_of_column(c));
                    total += wgt * scheme.cell_is_p(q, true, c) as i64;
                    total -= wgt * scheme.cell_is_p(q, false, c) as i64;
                }
                assert_eq!(total, q, "{scheme:?} q={q}");
            }
        }
    }

    #[test]
    fn quantization_error_within_half_step() {
        let w: Vec<f64> = (0..200)
            .map(|k| ((k * 37 % 101) as f64 - 50.0) / 17.0)
            .collect();
        for (scheme, bits) in [(Scheme::MultiCell, 4), (Scheme::Differential, 3)] {
            let q = quantize(&w, 10, 20, scheme, bits);
            assert!(q.max_error(&w) <= 0.5 * q.scale + 1e-12);
        }
    }
}
