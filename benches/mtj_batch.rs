//! Throughput of the MTJ macrospin kernels (device-steps per second).
//! Needs in Cargo.toml:  [[bench]] name = "mtj_batch" harness = false

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mtjsim::devices::mtj::batch::Batch;
use mtjsim::devices::mtj::{Drive, MacrospinState, MtjParams, Stepper};
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

fn kernels(c: &mut Criterion) {
    let p = MtjParams::default();
    let mut g = c.benchmark_group("mtj");
    g.sample_size(10);

    let steps = 1_000u64;
    g.throughput(Throughput::Elements(steps));
    g.bench_function("single_device_heun_1k_steps", |b| {
        let mut s = MacrospinState::along(&p, 1.0, 0.02);
        let mut st = Stepper::new(&p);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        b.iter(|| {
            for _ in 0..steps {
                st.step_fast(&mut s, &Drive::OFF, 1e-12, &mut rng);
            }
            s.m
        })
    });

    let (devices, bsteps) = (10_000usize, 100usize);
    g.throughput(Throughput::Elements((devices * bsteps) as u64));
    g.bench_function("batch_10k_devices_100_steps", |b| {
        let mut batch = Batch::new(p.clone(), devices, 1, |i| {
            MacrospinState::along(&p, if i % 2 == 0 { 1.0 } else { -1.0 }, 0.02)
        });
        b.iter(|| {
            batch.run_uniform(bsteps, 1e-12, Drive::OFF);
            batch.mz[0]
        })
    });
    g.finish();
}

criterion_group!(benches, kernels);
criterion_main!(benches);
