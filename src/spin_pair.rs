//! Two-way fork–join for work split into halves of tens of microseconds: one helper thread
//! that spins between jobs.
//!
//! A transient step's device load, LU refactorization and solve each take 50–500 µs on a
//! large crossbar, and there are three of them per Newton iteration. A thread pool that
//! parks idle workers (rayon) needs ~85 µs to wake one on the 2-vCPU machines this project
//! runs on (measured: a `rayon::join` of two 50 µs halves after 100 µs of serial work took
//! 136 µs, slower than running both halves in turn), so the halves gain nothing. A helper
//! that keeps spinning for a while after each job answers within a microsecond (51 µs for
//! the same join). The price is one core kept busy while a simulation runs, so
//! [`SpinPair::for_simulation`] makes one only for big circuits, on machines with a second
//! core, outside rayon's pool (a parallel sweep already uses every core), and unless
//! `MTJSIM_THREADS=1`.
//!
//! Results do not depend on whether a helper exists: each half runs the same code on the
//! same data either way.

use std::cell::UnsafeCell;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How long the helper spins for the next job before it parks. Serial phases between jobs
/// last milliseconds on large arrays: with 5 ms the helper slept through them at 256×256 and
/// every job paid the wake-up (481 s at 110% CPU against 278 s at 199% with 50 ms).
const SPIN_BEFORE_PARK: Duration = Duration::from_millis(50);

/// Circuits smaller than this run on one thread: at 32×32 (3,264 unknowns) two threads took
/// 0.65 s against 0.57 s on one; at 64×64 (12,672) 2.4 s against 4.3 s.
pub const MIN_UNKNOWNS: usize = 4096;

/// A job as the helper sees it: a borrowed closure with its lifetime erased.
struct JobPtr(*mut (dyn FnMut() + Send + 'static));
// SAFETY: the closure behind the pointer is `Send`; the pointer is only dereferenced by
// the helper while `SpinPair::join` keeps the closure alive (see there).
unsafe impl Send for JobPtr {}

struct Shared {
    /// The posted job, taken by whichever thread runs it.
    slot: Mutex<Option<JobPtr>>,
    /// Number of jobs posted, and finished by the helper; the helper spins on `posted`.
    posted: AtomicU64,
    finished: AtomicU64,
    /// Set while the helper is parked (or about to park): posting must unpark it.
    sleeping: AtomicBool,
    stop: AtomicBool,
    /// A panic raised by a job on the helper, handed back to the poster.
    panic: UnsafeCell<Option<Box<dyn std::any::Any + Send>>>,
}

// SAFETY: `panic` is written by the helper before it publishes `finished` (Release) and
// read by the poster after it observes `finished` (Acquire); never concurrently.
unsafe impl Sync for Shared {}

/// A helper thread for [`SpinPair::join`]; dropped, it stops the helper.
pub struct SpinPair {
    /// Held through a whole join: one job in flight at a time, whoever calls.
    joining: Mutex<()>,
    shared: Arc<Shared>,
    helper: Option<JoinHandle<()>>,
}

impl SpinPair {
    /// A helper for a simulation with `unknowns` unknowns, or None when two threads would
    /// not pay (see the module doc).
    pub fn for_simulation(unknowns: usize) -> Option<Arc<SpinPair>> {
        let cores = thread::available_parallelism().map_or(1, |n| n.get());
        let disabled = std::env::var("MTJSIM_THREADS").is_ok_and(|v| v.trim() == "1");
        (unknowns >= MIN_UNKNOWNS
            && cores >= 2
            && !disabled
            && rayon::current_thread_index().is_none())
        .then(|| Arc::new(SpinPair::new()))
    }

    pub fn new() -> SpinPair {
        let shared = Arc::new(Shared {
            slot: Mutex::new(None),
            posted: AtomicU64::new(0),
            finished: AtomicU64::new(0),
            sleeping: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            panic: UnsafeCell::new(None),
        });
        let s = shared.clone();
        let helper = thread::Builder::new()
            .name("mtjsim-helper".into())
            .spawn(move || helper_loop(&s))
            .expect("spawn the helper thread");
        SpinPair {
            joining: Mutex::new(()),
            shared,
            helper: Some(helper),
        }
    }

    /// Runs `a` here and `b` on the helper (or here too, if the helper has not picked it up
    /// by the time `a` is done), and returns both results. A panic in either is resumed
    /// here after both have finished.
    pub fn join<RA, RB>(&self, a: impl FnOnce() -> RA, b: impl FnOnce() -> RB + Send) -> (RA, RB)
    where
        RB: Send,
    {
        let _one_at_a_time = self.joining.lock().unwrap_or_else(|e| e.into_inner());
        let sh = &*self.shared;
        let mut b = Some(b);
        let mut rb: Option<RB> = None;
        let mut task = || {
            if let Some(b) = b.take() {
                rb = Some(b());
            }
        };
        let task_ref: &mut (dyn FnMut() + Send + '_) = &mut task;
        // SAFETY: the erased borrow is used only until this function has seen the job
        // finished (by the helper) or has taken it back from the slot; it waits for one of
        // the two before returning or unwinding, so `task` outlives every use.
        let ptr: *mut (dyn FnMut() + Send + 'static) = unsafe {
            std::mem::transmute::<*mut (dyn FnMut() + Send + '_), *mut (dyn FnMut() + Send)>(
                task_ref,
            )
        };
        *sh.slot.lock().expect("slot lock") = Some(JobPtr(ptr));
        let ticket = sh.posted.fetch_add(1, Ordering::AcqRel) + 1;
        if sh.sleeping.load(Ordering::Acquire)
            && let Some(h) = &self.helper
        {
            h.thread().unpark();
        }
        let ra = catch_unwind(AssertUnwindSafe(a));
        // Take the job back if the helper has not started it; else wait for it.
        let taken_back = sh.slot.lock().expect("slot lock").take();
        let rb_panic = match taken_back {
            Some(JobPtr(p)) => {
                // SAFETY: the job was never started and `task` is alive.
                catch_unwind(AssertUnwindSafe(|| unsafe { (*p)() })).err()
            }
            None => {
                let mut spins = 0u32;
                while sh.finished.load(Ordering::Acquire) < ticket {
                    spin_or_yield(&mut spins);
                }
                // SAFETY: see `Shared`: the helper wrote it before publishing `finished`.
                unsafe { (*sh.panic.get()).take() }
            }
        };
        let ra = match ra {
            Ok(v) => v,
            Err(p) => resume_unwind(p),
        };
        if let Some(p) = rb_panic {
            resume_unwind(p);
        }
        (ra, rb.expect("the second half ran"))
    }
}

impl Default for SpinPair {
    fn default() -> Self {
        SpinPair::new()
    }
}

impl Drop for SpinPair {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        if let Some(h) = self.helper.take() {
            h.thread().unpark();
            let _ = h.join();
        }
    }
}

/// Spin, but give the core away now and then: should the scheduler put both threads on
/// one core, the one being waited for gets to run within microseconds.
#[inline]
fn spin_or_yield(spins: &mut u32) {
    *spins = spins.wrapping_add(1);
    if spins.is_multiple_of(SPINS_PER_YIELD) {
        thread::yield_now();
    } else {
        std::hint::spin_loop();
    }
}

/// About 10 µs of spinning between yields.
const SPINS_PER_YIELD: u32 = 256;

fn helper_loop(sh: &Shared) {
    let mut seen = 0u64;
    let mut idle_since = Instant::now();
    let mut spins = 0u32;
    loop {
        let posted = sh.posted.load(Ordering::Acquire);
        if posted != seen {
            seen = posted;
            let job = sh.slot.lock().expect("slot lock").take();
            if let Some(JobPtr(p)) = job {
                // SAFETY: the poster keeps the closure alive until it sees `finished`.
                let result = catch_unwind(AssertUnwindSafe(|| unsafe { (*p)() }));
                if let Err(payload) = result {
                    // SAFETY: see `Shared`.
                    unsafe { *sh.panic.get() = Some(payload) };
                }
            }
            // Jobs taken back by the poster count as finished too.
            sh.finished.store(seen, Ordering::Release);
            idle_since = Instant::now();
            continue;
        }
        if sh.stop.load(Ordering::Acquire) {
            return;
        }
        // The clock is read once per yield period, not at every turn (a `clock_gettime` per
        // turn was half of the spinning helper's samples).
        if !spins.is_multiple_of(SPINS_PER_YIELD) || idle_since.elapsed() < SPIN_BEFORE_PARK {
            spin_or_yield(&mut spins);
            continue;
        }
        sh.sleeping.store(true, Ordering::Release);
        if sh.posted.load(Ordering::Acquire) == seen && !sh.stop.load(Ordering::Acquire) {
            thread::park_timeout(Duration::from_millis(100));
        }
        sh.sleeping.store(false, Ordering::Release);
        idle_since = Instant::now();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both halves run exactly once and see their own borrowed data, also when the helper
    /// has parked in between.
    #[test]
    fn join_runs_both_halves_on_borrowed_data() {
        let pair = SpinPair::new();
        let mut left = vec![0u64; 1000];
        let mut right = vec![0u64; 1000];
        for round in 0..200u64 {
            if round == 100 {
                thread::sleep(SPIN_BEFORE_PARK * 2);
            }
            let (sa, sb) = pair.join(
                || {
                    left.iter_mut().for_each(|v| *v += round);
                    left.iter().sum::<u64>()
                },
                || {
                    right.iter_mut().for_each(|v| *v += 2 * round);
                    right.iter().sum::<u64>()
                },
            );
            let tri = round * (round + 1) / 2;
            assert_eq!(sa, 1000 * tri);
            assert_eq!(sb, 2000 * tri);
        }
    }

    /// A panic on either side reaches the caller, and the pair stays usable.
    #[test]
    fn panics_propagate_to_the_caller() {
        let pair = SpinPair::new();
        let r = catch_unwind(AssertUnwindSafe(|| {
            pair.join(|| 1, || -> u32 { panic!("second half") })
        }));
        assert!(r.is_err());
        let r = catch_unwind(AssertUnwindSafe(|| {
            pair.join(|| -> u32 { panic!("first half") }, || 2)
        }));
        assert!(r.is_err());
        assert_eq!(pair.join(|| 3, || 4), (3, 4));
    }
}
