//! Characterisation experiments behind `mtjsim device` (placeholder while being written).

use std::time::Instant;

use super::batch::Batch;
use super::integrator::{Drive, MacrospinState, Stepper};
use super::params::MtjParams;

/// Throughput of the stepping kernels.
#[derive(Debug, Clone, Copy)]
pub struct BenchResult {
    /// Single device, one thread (device-steps/s).
    pub single_steps_per_s: f64,
    /// Batch on the current rayon pool (device-steps/s).
    pub batch_steps_per_s: f64,
    pub threads: usize,
    pub devices: usize,
    pub steps: usize,
}

/// Time `steps` steps of one device and of a batch of `devices` devices (thermal noise as on
/// the card, zero drive, dt = 1 ps).
pub fn bench(p: &MtjParams, devices: usize, steps: usize, seed: u64) -> BenchResult {
    let dt = 1e-12;
    let mut rng = <rand_xoshiro::Xoshiro256PlusPlus as rand::SeedableRng>::seed_from_u64(seed);
    let mut s = MacrospinState::along(p, 1.0, 0.02);
    let mut st = Stepper::new(p);
    let single_n = (steps * 20).max(100_000);
    let t = Instant::now();
    for _ in 0..single_n {
        st.step_fast(&mut s, &Drive::OFF, dt, &mut rng);
    }
    let single = single_n as f64 / t.elapsed().as_secs_f64();
    std::hint::black_box(s);
    let mut b = Batch::new(p.clone(), devices, seed, |i| MacrospinState::along(p, if i % 2 == 0 { 1.0 } else { -1.0 }, 0.02));
    let t = Instant::now();
    b.run_uniform(steps, dt, Drive::OFF);
    let batch = (devices * steps) as f64 / t.elapsed().as_secs_f64();
    std::hint::black_box(&b.mz);
    BenchResult {
        single_steps_per_s: single,
        batch_steps_per_s: batch,
        threads: rayon::current_num_threads(),
        devices,
        steps,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    #[ignore]
    fn print_bench() {
        let p = super::MtjParams::default();
        let r = super::bench(&p, 10_000, 2_000, 1);
        println!("{r:?}");
    }
}
