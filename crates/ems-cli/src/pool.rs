//! A worker pool over a list of inputs that hands the results back in input
//! order: `ems validate` uses every core and its output is the same as with
//! one job (`--jobs 1`).

use std::collections::BTreeMap;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Condvar, Mutex};
use std::thread;

/// How far the workers may run ahead of the oldest result not yet handed
/// back, per job (bounds the results held while one input is slow).
const AHEAD_PER_JOB: usize = 64;

/// The number of jobs when none is given: the available parallelism.
pub(crate) fn default_jobs() -> usize {
    thread::available_parallelism().map_or(1, |n| n.get())
}

/// Runs `work` on every item on `jobs` threads (the calling thread only
/// collects) and calls `emit` with each result in item order, as soon as
/// it and every earlier one are done. With one job (or one item) it runs
/// on the calling thread. A panic in `work` is re-raised on the calling
/// thread when its item's turn comes, after the earlier results were
/// emitted, as a sequential run would.
pub(crate) fn ordered<T, R>(
    items: &[T],
    jobs: usize,
    work: impl Fn(&T) -> R + Sync,
    mut emit: impl FnMut(&T, R),
) where
    T: Sync,
    R: Send,
{
    if jobs <= 1 || items.len() <= 1 {
        for item in items {
            emit(item, work(item));
        }
        return;
    }
    let window = jobs * AHEAD_PER_JOB;
    let next = AtomicUsize::new(0);
    let progress = Progress::default();
    let (tx, rx) = mpsc::channel();
    thread::scope(|s| {
        for _ in 0..jobs.min(items.len()) {
            let tx = tx.clone();
            let (next, progress, work) = (&next, &progress, &work);
            s.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= items.len() || !progress.wait_for_turn(i, window) {
                    break;
                }
                let r = catch_unwind(AssertUnwindSafe(|| work(&items[i])));
                if tx.send((i, r)).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        // stops the workers however this thread leaves the scope
        let _stop = Stop(&progress);
        let mut pending = BTreeMap::new();
        let mut want = 0;
        for (i, r) in rx {
            pending.insert(i, r);
            while let Some(r) = pending.remove(&want) {
                match r {
                    Ok(r) => emit(&items[want], r),
                    Err(panic) => resume_unwind(panic),
                }
                want += 1;
                progress.emitted(want);
            }
        }
    });
}

/// What the collecting thread has handed back, for the workers to wait on.
#[derive(Default)]
struct Progress {
    /// (index of the oldest result not yet emitted, stopped)
    state: Mutex<(usize, bool)>,
    turn: Condvar,
}

impl Progress {
    /// Waits until item `i` is within `window` of the oldest result not yet
    /// emitted; `false` when the pool stopped.
    fn wait_for_turn(&self, i: usize, window: usize) -> bool {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        while i >= st.0 + window && !st.1 {
            st = self.turn.wait(st).unwrap_or_else(|p| p.into_inner());
        }
        !st.1
    }
    fn emitted(&self, n: usize) {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).0 = n;
        self.turn.notify_all();
    }
}

/// Stops the workers when dropped (the collecting thread is done or unwinding).
struct Stop<'a>(&'a Progress);

impl Drop for Stop<'_> {
    fn drop(&mut self) {
        self.0.state.lock().unwrap_or_else(|p| p.into_inner()).1 = true;
        self.0.turn.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_order_whatever_finishes_first() {
        let items: Vec<u64> = (0..500).collect();
        for jobs in [1, 2, 4, 7] {
            let mut seen = Vec::new();
            ordered(
                &items,
                jobs,
                |&n| {
                    // later items finish first
                    thread::sleep(std::time::Duration::from_micros((500 - n) % 7 * 50));
                    n * n
                },
                |&n, sq| seen.push((n, sq)),
            );
            let want: Vec<(u64, u64)> = items.iter().map(|&n| (n, n * n)).collect();
            assert_eq!(seen, want, "jobs {jobs}");
        }
    }

    #[test]
    fn runs_on_several_threads() {
        let items: Vec<u32> = (0..64).collect();
        let ids = Mutex::new(std::collections::HashSet::new());
        ordered(
            &items,
            4,
            |_| {
                ids.lock().unwrap().insert(thread::current().id());
                thread::sleep(std::time::Duration::from_millis(2));
            },
            |_, ()| {},
        );
        assert!(ids.into_inner().unwrap().len() > 1);
    }

    #[test]
    fn a_panic_is_raised_after_the_earlier_results() {
        let items: Vec<u32> = (0..300).collect();
        let mut seen = Vec::new();
        let r = catch_unwind(AssertUnwindSafe(|| {
            ordered(
                &items,
                3,
                |&n| {
                    assert!(n != 150, "boom");
                    n
                },
                |_, n| seen.push(n),
            )
        }));
        assert!(r.is_err());
        assert_eq!(seen, (0..150).collect::<Vec<_>>());
    }
}
