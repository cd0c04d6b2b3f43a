//! Digital baselines for the same layer sizes: operation and memory-access counts per time
//! step × per-operation energies ([`super::Digital`], Horowitz ISSCC 2014, 45 nm).
//!
//! "Memory" here is what holds the temporal state between steps and what must be touched
//! to update it — the quantity the IPNet paper compares (memory power). For each temporal
//! module with input size `I` (the layer's inputs) and hidden/state size `H`:
//!
//! | module | memory accesses per step (words) | MACs per step |
//! |---|---|---|
//! | RNN | recurrent weights H², state read + write 2H | H² (recurrent) |
//! | LSTM | recurrent weights 4H², h and c read + write 4H | 4H² (recurrent) |
//! | 2+1D CNN (temporal kernel k) | frame buffer write I + read k·I, temporal weights k·I·H | k·I·H |
//!
//! Energy per word = `E(64-bit SRAM access) · word_bits / 64`, the SRAM size tier chosen by
//! the bytes the module must hold (≤ 8 KB, ≤ 32 KB, else 1 MB; above 1 MB DRAM). These are
//! the assumptions that drive the ratio; the report prints them next to the result.

use serde::Serialize;

use super::Digital;

/// One baseline's per-step counts and energies.
#[derive(Debug, Clone, Serialize)]
pub struct Baseline {
    pub name: String,
    /// Words of state + weights the temporal module must hold.
    pub stored_words: f64,
    pub memory_accesses: f64,
    pub macs: f64,
    /// Energy per word access used (J) and the tier it came from.
    pub word_j: f64,
    pub tier: String,
    pub memory_j: f64,
    pub compute_j: f64,
}

fn tier(d: &Digital, bytes: f64) -> (f64, String) {
    let (e64, name) = if bytes <= 8.0 * 1024.0 {
        (d.sram8k_64b_j, "SRAM ≤ 8 KB")
    } else if bytes <= 32.0 * 1024.0 {
        (d.sram32k_64b_j, "SRAM ≤ 32 KB")
    } else if bytes <= 1024.0 * 1024.0 {
        (d.sram1m_64b_j, "SRAM ≤ 1 MB")
    } else {
        (d.dram_64b_j, "DRAM")
    };
    (e64 * d.word_bits / 64.0, name.to_string())
}

fn make(d: &Digital, name: &str, stored: f64, accesses: f64, macs: f64) -> Baseline {
    let (word_j, tier) = tier(d, stored * d.word_bits / 8.0);
    let mac_j = if d.word_bits <= 8.0 {
        d.mul8_j + d.add8_j
    } else {
        d.fmul32_j + d.fadd32_j
    };
    Baseline {
        name: name.into(),
        stored_words: stored,
        memory_accesses: accesses,
        macs,
        word_j,
        tier,
        memory_j: accesses * word_j,
        compute_j: macs * mac_j,
    }
}

/// RNN, LSTM and 2+1D-CNN (temporal kernel `k`) for input size `i` and state size `h`.
pub fn baselines(d: &Digital, i: usize, h: usize, k: usize) -> Vec<Baseline> {
    let (i, h, k) = (i as f64, h as f64, k as f64);
    vec![
        make(d, "RNN", h * h + h, h * h + 2.0 * h, h * h),
        make(
            d,
            "LSTM",
            4.0 * h * h + 2.0 * h,
            4.0 * h * h + 4.0 * h,
            4.0 * h * h,
        ),
        make(
            d,
            &format!("2+1D CNN (k={k})"),
            k * i + k * i * h,
            i + k * i + k * i * h,
            k * i * h,
        ),
    ]
}

/// A digital network part with `weights` stored words read `weight_reads` times per
/// inference in total and `macs` multiply-accumulates (same per-word and per-MAC energies
/// and SRAM tiers as the baselines): used for the trained IPNet's digital backbone.
pub fn digital_part(
    d: &Digital,
    name: &str,
    weights: f64,
    weight_reads: f64,
    macs: f64,
) -> Baseline {
    make(d, name, weights, weight_reads, macs)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// LSTM memory energy is its access count × the per-word energy of its tier, and grows
    /// 4× from RNN's recurrent weights at equal H (for H ≫ 1).
    #[test]
    fn counts_and_energies_are_consistent() {
        let d = Digital::default();
        let b = baselines(&d, 64, 32, 8);
        for x in &b {
            assert!(
                (x.memory_j - x.memory_accesses * x.word_j).abs() <= 1e-30 + 1e-12 * x.memory_j
            );
        }
        let ratio = b[1].memory_accesses / b[0].memory_accesses;
        assert!(ratio > 3.5 && ratio < 4.1, "{ratio}");
        // 8-bit words from an 8 KB SRAM: 10 pJ / 8.
        assert!((b[0].word_j - 1.25e-12).abs() < 1e-18);
    }
}
