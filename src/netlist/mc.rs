//! Monte Carlo variation in parameter expressions: ngspice's `gauss`, `agauss`, `unif`,
//! `aunif` (and `limit`).
//!
//! Owns: the per-thread random stream these functions draw from while one sweep point is
//! elaborated. Why a thread-local: expressions are evaluated deep inside elaboration, and a
//! sweep elaborates one point per rayon task; a scoped context keeps the expression
//! evaluator free of sweep knowledge and makes every point's draws depend only on its seed.
//! Without an active context (a plain `mtjsim run`) every function returns its nominal
//! value, so the same netlist simulates the nominal device outside a sweep.

use std::cell::RefCell;

use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;

thread_local! {
    static STREAM: RefCell<Option<Xoshiro256PlusPlus>> = const { RefCell::new(None) };
}

/// Run `f` with the variation functions drawing from a stream seeded by `seed`; `None`
/// gives nominal values. The previous context is restored afterwards.
pub fn with_seed<T>(seed: Option<u64>, f: impl FnOnce() -> T) -> T {
    let new = seed.map(Xoshiro256PlusPlus::seed_from_u64);
    let old = STREAM.with(|s| std::mem::replace(&mut *s.borrow_mut(), new));
    let out = f();
    STREAM.with(|s| *s.borrow_mut() = old);
    out
}

fn normal() -> Option<f64> {
    STREAM.with(|s| s.borrow_mut().as_mut().map(|r| r.sample(StandardNormal)))
}

/// Uniform on [-1, 1).
fn uniform() -> Option<f64> {
    STREAM.with(|s| {
        s.borrow_mut()
            .as_mut()
            .map(|r| 2.0 * r.random::<f64>() - 1.0)
    })
}

/// Evaluate a variation function; `None` if `name` is not one. Semantics as ngspice:
/// `agauss(nom, avar, sigma)` = nom + avar/sigma·N(0,1); `gauss(nom, rvar, sigma)` =
/// nom·(1 + rvar/sigma·N(0,1)); `aunif(nom, avar)` = nom + avar·U(-1,1);
/// `unif(nom, rvar)` = nom·(1 + rvar·U(-1,1)); `limit(nom, avar)` = nom ± avar (random sign).
pub fn call(name: &str, a: &[f64]) -> Option<f64> {
    let g = |k: f64| normal().map_or(0.0, |n| k * n);
    let u = || uniform().unwrap_or(0.0);
    Some(match name {
        "agauss" => a[0] + g(a[1] / a[2]),
        "gauss" => a[0] * (1.0 + g(a[1] / a[2])),
        "aunif" => a[0] + a[1] * u(),
        "unif" => a[0] * (1.0 + a[1] * u()),
        "limit" => {
            let s = u();
            a[0] + if s > 0.0 {
                a[1]
            } else if s < 0.0 {
                -a[1]
            } else {
                0.0
            }
        }
        _ => return None,
    })
}

/// The functions [`call`] knows, with their number of arguments.
pub const FUNCTIONS: &[(&str, usize)] = &[
    ("agauss", 3),
    ("gauss", 3),
    ("aunif", 2),
    ("unif", 2),
    ("limit", 2),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nominal_without_context_and_reproducible_with_one() {
        assert_eq!(call("gauss", &[5.0, 0.1, 1.0]), Some(5.0));
        let draw = |seed| with_seed(Some(seed), || call("gauss", &[5.0, 0.1, 1.0]).unwrap());
        assert_eq!(draw(3).to_bits(), draw(3).to_bits());
        assert_ne!(draw(3), draw(4));
        // Context is restored: nominal again afterwards.
        assert_eq!(call("agauss", &[1.0, 0.5, 3.0]), Some(1.0));
    }

    #[test]
    fn gauss_has_the_requested_relative_spread() {
        // gauss(nom, 5%, 1): mean nom, standard deviation 5% of nom (4000 draws: the
        // sample std is within 5% of the true one with overwhelming probability).
        let xs: Vec<f64> = with_seed(Some(11), || {
            (0..4000)
                .map(|_| call("gauss", &[2.0, 0.05, 1.0]).unwrap())
                .collect()
        });
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        assert!((mean - 2.0).abs() < 4.0 * 0.1 / n.sqrt(), "{mean}");
        assert!((sd / 0.1 - 1.0).abs() < 0.05, "{sd}");
        let us: Vec<f64> = with_seed(Some(5), || {
            (0..1000)
                .map(|_| call("aunif", &[1.0, 0.2]).unwrap())
                .collect()
        });
        assert!(us.iter().all(|u| (0.8..1.2).contains(u)));
    }
}
