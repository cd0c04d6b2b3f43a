//! Many independent devices of one card, stepped in parallel: structure-of-arrays state
//! (mx, my, mz, T), one RNG stream per device, devices split into chunks over rayon.
//!
//! Each device's trajectory depends only on its own seed `device_seed(global, index)` and
//! its drive, never on how devices are grouped into chunks or threads, so results are
//! bit-identical for any thread count. The inner loop (one device, all steps) keeps the
//! state in registers and allocates nothing.

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;

use super::integrator::{Drive, MacrospinState, Stepper};
use super::params::MtjParams;
use super::vec3::V3;

/// Devices per rayon task: large enough to amortise scheduling, small enough to balance.
const CHUNK: usize = 64;

/// SplitMix64 finaliser: a bijective 64-bit mixer with good avalanche.
#[inline]
pub fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Seed of device `index` in a run with seed `global`: `hash(global, index)`.
pub fn device_seed(global: u64, index: u64) -> u64 {
    splitmix64(splitmix64(global) ^ index.wrapping_mul(0xD6E8_FEB8_6659_FD93))
}

/// Watches one device during [`Batch::run`]; return `false` to stop that device early.
pub trait Observer: Send {
    fn observe(&mut self, step: usize, time_s: f64, m: V3, temp_k: f64) -> bool;
}

/// Observer that never stops.
impl Observer for () {
    #[inline(always)]
    fn observe(&mut self, _: usize, _: f64, _: V3, _: f64) -> bool {
        true
    }
}

/// Batch of `n` devices sharing one card.
#[derive(Debug, Clone)]
pub struct Batch {
    pub params: MtjParams,
    pub mx: Vec<f64>,
    pub my: Vec<f64>,
    pub mz: Vec<f64>,
    pub temp_k: Vec<f64>,
    rngs: Vec<Xoshiro256PlusPlus>,
    /// Time of the batch clock (s): start time of the next [`Batch::run`].
    pub time_s: f64,
}

impl Batch {
    /// `n` devices, device `i` starting in `init(i)`, RNG seeded with
    /// `device_seed(global_seed, i)`.
    pub fn new(
        params: MtjParams,
        n: usize,
        global_seed: u64,
        init: impl Fn(usize) -> MacrospinState,
    ) -> Batch {
        let mut b = Batch {
            params,
            mx: Vec::with_capacity(n),
            my: Vec::with_capacity(n),
            mz: Vec::with_capacity(n),
            temp_k: Vec::with_capacity(n),
            rngs: Vec::with_capacity(n),
            time_s: 0.0,
        };
        for i in 0..n {
            let s = init(i);
            b.mx.push(s.m[0]);
            b.my.push(s.m[1]);
            b.mz.push(s.m[2]);
            b.temp_k.push(s.temp_k);
            b.rngs.push(Xoshiro256PlusPlus::seed_from_u64(device_seed(
                global_seed,
                i as u64,
            )));
        }
        b
    }

    /// Number of devices.
    pub fn len(&self) -> usize {
        self.mx.len()
    }

    /// True when the batch holds no device.
    pub fn is_empty(&self) -> bool {
        self.mx.is_empty()
    }

    /// State of device `i`.
    pub fn state(&self, i: usize) -> MacrospinState {
        MacrospinState {
            m: [self.mx[i], self.my[i], self.mz[i]],
            temp_k: self.temp_k[i],
        }
    }

    /// Overwrite the state of device `i`.
    pub fn set_state(&mut self, i: usize, s: MacrospinState) {
        self.mx[i] = s.m[0];
        self.my[i] = s.m[1];
        self.mz[i] = s.m[2];
        self.temp_k[i] = s.temp_k;
    }

    /// Advance every device by `n_steps` steps of `dt_s` under the same drive.
    pub fn run_uniform(&mut self, n_steps: usize, dt_s: f64, drive: Drive) {
        let mut obs = vec![(); self.len()];
        self.run(n_steps, dt_s, &|_, _| drive, &mut obs);
    }

    /// Advance every device by up to `n_steps` steps of `dt_s`. `drive(i, t)` gives the
    /// drive of device `i` for the step starting at time `t`; `observers[i]` sees device
    /// `i` after every step (step index, end time, m, T) and may stop it early (its state is
    /// then kept as it was at that step). The batch clock advances by `n_steps · dt_s`.
    pub fn run<D, O>(&mut self, n_steps: usize, dt_s: f64, drive: &D, observers: &mut [O])
    where
        D: Fn(usize, f64) -> Drive + Sync,
        O: Observer,
    {
        assert_eq!(observers.len(), self.len(), "one observer per device");
        let p = &self.params;
        let t0 = self.time_s;
        (
            self.mx.par_chunks_mut(CHUNK),
            self.my.par_chunks_mut(CHUNK),
            self.mz.par_chunks_mut(CHUNK),
            self.temp_k.par_chunks_mut(CHUNK),
            self.rngs.par_chunks_mut(CHUNK),
            observers.par_chunks_mut(CHUNK),
        )
            .into_par_iter()
            .enumerate()
            .for_each(|(chunk, (mx, my, mz, tk, rngs, obs))| {
                let mut stepper = Stepper::new(p);
                for j in 0..mx.len() {
                    let idx = chunk * CHUNK + j;
                    let mut s = MacrospinState {
                        m: [mx[j], my[j], mz[j]],
                        temp_k: tk[j],
                    };
                    let rng = &mut rngs[j];
                    let ob = &mut obs[j];
                    for k in 0..n_steps {
                        let t = t0 + k as f64 * dt_s;
                        stepper.step_fast(&mut s, &drive(idx, t), dt_s, rng);
                        if !ob.observe(k, t + dt_s, s.m, s.temp_k) {
                            break;
                        }
                    }
                    mx[j] = s.m[0];
                    my[j] = s.m[1];
                    mz[j] = s.m[2];
                    tk[j] = s.temp_k;
                }
            });
        self.time_s = t0 + n_steps as f64 * dt_s;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bit-identical results on 1 and 3 threads, and with the sequential reference.
    #[test]
    fn independent_of_thread_count() {
        let p = MtjParams::default();
        let init = |i: usize| {
            MacrospinState::along(&p, if i.is_multiple_of(2) { 1.0 } else { -1.0 }, 0.05)
        };
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let mut b = Batch::new(p.clone(), 200, 42, init);
                b.run_uniform(300, 1e-12, Drive::current(30e-6));
                (b.mx, b.my, b.mz)
            })
        };
        let a = run(1);
        let b = run(3);
        assert_eq!(a, b);
        // Device 5 alone with its own seed reproduces its batch trajectory.
        let mut s = init(5);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(device_seed(42, 5));
        let mut st = Stepper::new(&p);
        for _ in 0..300 {
            st.step(&mut s, &Drive::current(30e-6), 1e-12, &mut rng);
        }
        assert_eq!([a.0[5], a.1[5], a.2[5]], s.m);
    }
}
