//! Human-like working-memory tasks run on a population of calibrated IP neurons (no
//! training): the only memory is each neuron's temperature, so every effect below comes
//! from Joule heating, thermal decay `d = e^(−Δt/τ_th)` and the threshold drop `x50(θ)`.
//!
//! Items are groups of neurons. Presenting an item drives its neurons with a strong pulse
//! (heating them); a probe drives a group with a weak pulse `x_probe` (cold neurons rarely
//! switch) and reads how many switch, with the device's stochastic `P_sw(x, θ)`. A probe
//! is a read on copies of the state (it does not heat the population).

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::calib::CalibTable;

/// Settings shared by the tasks.
#[derive(Debug, Clone)]
pub struct MemOpts {
    /// Neurons per item.
    pub neurons: usize,
    /// Presentation drive (units of Ic0).
    pub x_present: f64,
    /// Probe drive; `None` = `x50(0) − width(0)` (cold neurons fire with ~27 %).
    pub x_probe: Option<f64>,
    pub trials: usize,
    pub seed: u64,
}

impl Default for MemOpts {
    fn default() -> Self {
        MemOpts {
            neurons: 64,
            x_present: 2.4,
            x_probe: None,
            trials: 2000,
            seed: 1,
        }
    }
}

fn probe_x(t: &CalibTable, o: &MemOpts) -> f64 {
    o.x_probe.unwrap_or_else(|| t.x50(0.0).0 - t.width(0.0))
}

/// "Old" criterion: the switched fraction exceeds a cold group's expected fraction by two
/// binomial standard deviations.
fn old_threshold(t: &CalibTable, o: &MemOpts) -> f64 {
    let p0 = t.p_switch(probe_x(t, o), 0.0);
    p0 + 2.0 * (p0 * (1.0 - p0) / o.neurons.max(1) as f64).sqrt()
}

/// Advance a population one step: `driven` neurons get `x`, the rest nothing.
fn step(t: &CalibTable, theta: &mut [f64], driven: &[usize], x: f64) {
    for th in theta.iter_mut() {
        *th *= t.decay;
    }
    let h = t.heat(x).0;
    for &i in driven {
        theta[i] += h;
    }
}

/// Fraction of `group` that switches under the probe drive.
fn probe<R: Rng>(t: &CalibTable, theta: &[f64], group: &[usize], x: f64, rng: &mut R) -> f64 {
    let k = group
        .iter()
        .filter(|&&i| rng.random_bool(t.p_switch(x, theta[i]).clamp(0.0, 1.0)))
        .count();
    k as f64 / group.len().max(1) as f64
}

fn group(item: usize, n: usize) -> Vec<usize> {
    (item * n..(item + 1) * n).collect()
}

/// Free recall after a list of `len` items (one per step) and `delay` empty steps:
/// probability that an item is recalled (majority of its neurons switch) by serial
/// position ("recalled" = switched fraction above a cold group's by 2σ). Thermal decay gives recency; nothing in the device gives primacy.
pub fn recall(t: &CalibTable, len: usize, delay: usize, o: &MemOpts) -> Vec<f64> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(o.seed);
    let xp = probe_x(t, o);
    let thr = old_threshold(t, o);
    let mut hits = vec![0usize; len];
    for _ in 0..o.trials {
        let mut theta = vec![0.0; len * o.neurons];
        for i in 0..len {
            step(t, &mut theta, &group(i, o.neurons), o.x_present);
        }
        for _ in 0..delay {
            step(t, &mut theta, &[], 0.0);
        }
        for (i, h) in hits.iter_mut().enumerate() {
            *h += (probe(t, &theta, &group(i, o.neurons), xp, &mut rng) > thr) as usize;
        }
    }
    hits.iter().map(|&h| h as f64 / o.trials as f64).collect()
}

/// n-back: before each new item, probe its neurons; the item is a "match" if it was shown
/// exactly `n` steps ago, a non-match if never shown. The decision threshold on the
/// switched fraction is the best one on a first half of trials, scored on the second.
/// Returns accuracy for each n in `ns`.
pub fn n_back(t: &CalibTable, ns: &[usize], o: &MemOpts) -> Vec<f64> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(o.seed);
    let xp = probe_x(t, o);
    ns.iter()
        .map(|&n| {
            // Trial: n+1 distinct items A, X1..X(n-1), then probe A (match) or a fresh B.
            let mut samples: Vec<(f64, bool)> = Vec::with_capacity(o.trials);
            for k in 0..o.trials {
                let is_match = k % 2 == 0;
                let items = n + 1;
                let mut theta = vec![0.0; items * o.neurons];
                for i in 0..n {
                    step(t, &mut theta, &group(i, o.neurons), o.x_present);
                }
                let target = if is_match { 0 } else { n };
                samples.push((
                    probe(t, &theta, &group(target, o.neurons), xp, &mut rng),
                    is_match,
                ));
            }
            let (fit, test) = samples.split_at(samples.len() / 2);
            let score = |thr: f64, set: &[(f64, bool)]| {
                set.iter().filter(|(f, m)| (*f >= thr) == *m).count() as f64
                    / set.len().max(1) as f64
            };
            let best = (0..=o.neurons)
                .map(|k| k as f64 / o.neurons as f64)
                .max_by(|a, b| score(*a, fit).total_cmp(&score(*b, fit)))
                .unwrap_or(0.5);
            score(best, test)
        })
        .collect()
}

/// Interference: item A is studied, one step later probe a never-shown lure that shares
/// a fraction `f` of A's neurons. Returns (false-alarm rate, hit rate for A itself) per f;
/// "old" = switched fraction above a cold group's by 2σ.
pub fn interference(t: &CalibTable, overlaps: &[f64], o: &MemOpts) -> Vec<(f64, f64)> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(o.seed);
    let xp = probe_x(t, o);
    let n = o.neurons;
    let thr = old_threshold(t, o);
    overlaps
        .iter()
        .map(|&f| {
            let shared = ((f * n as f64).round() as usize).min(n);
            let a = group(0, n);
            let lure: Vec<usize> = (0..shared).chain(n..2 * n - shared).collect();
            let (mut fa, mut hit) = (0usize, 0usize);
            for _ in 0..o.trials {
                let mut theta = vec![0.0; 2 * n];
                step(t, &mut theta, &a, o.x_present);
                step(t, &mut theta, &[], 0.0);
                fa += (probe(t, &theta, &lure, xp, &mut rng) > thr) as usize;
                hit += (probe(t, &theta, &a, xp, &mut rng) > thr) as usize;
            }
            (fa as f64 / o.trials as f64, hit as f64 / o.trials as f64)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Uses the shipped calibration of the `ipn_neuron` card (`mtjsim ipnet calibrate`).
    #[test]
    fn memory_effects_follow_thermal_decay() {
        let t = CalibTable::load(std::path::Path::new("weights/ipn_calib.json")).unwrap();
        let o = MemOpts {
            trials: 1000,
            ..MemOpts::default()
        };
        let r = recall(&t, 10, 0, &o);
        assert!(r[9] > r[7] && r[7] > r[0] + 0.05, "recency: {r:?}");
        let nb = n_back(&t, &[1, 2, 4, 8], &o);
        assert!(
            nb[0] > nb[2] && nb[0] > 0.75 && nb[3] < 0.65,
            "n-back: {nb:?}"
        );
        let inf = interference(&t, &[0.0, 0.5, 1.0], &o);
        assert!(inf[2].0 > inf[0].0 + 0.15, "interference: {inf:?}");
        assert!(
            (inf[2].0 - inf[2].1).abs() < 0.1,
            "a full-overlap lure is the target itself"
        );
    }
}
