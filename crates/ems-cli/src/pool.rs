//! A worker pool over a list of inputs that hands the results back in input
//! order: `ems validate` uses every core and its output is the same as with
//! one job (`--jobs 1`).

use std::collections::BTreeMap;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Condvar, Mutex};
use std::thread;

/// How far the workers may run ahead of the oldest result not yet handed
/// back, per job (bounds the results held while one input is slow).
const AHEAD_PER_JOB: usize = 64;

/// The number of jobs when none is given: the available parallelism.
pub(crate) fn default_jobs() -> usize {
    thread::available_parallelism().map_or(1, |n| n.get())
}

/// Runs `work` on every item on `jobs` threads (the calling thread is one
/// of them, and the only one to call `emit`) and calls `emit` with each
/// item and its result in item order, as soon as it and every earlier one
/// are done. The items are taken from the iterator as the threads need
/// them, so a lazy listing overlaps the work. With one job it runs on the
/// calling thread. A panic in `work` is re-raised on the calling thread
/// when its item's turn comes, after the earlier results were emitted, as
/// a sequential run would.
///
/// The calling thread works too (rather than only collecting): with
/// `jobs` equal to the cores there is no third thread to wake for every
/// result, which on two cores cost a context switch per input. Workers
/// send their results on a channel the calling thread drains between its
/// own items, and block only when they would run more than the window
/// ahead of the oldest result not yet emitted.
pub(crate) fn ordered<I, R>(
    items: I,
    jobs: usize,
    work: impl Fn(&I::Item) -> R + Sync,
    mut emit: impl FnMut(I::Item, R),
) where
    I: Iterator + Send,
    I::Item: Send,
    R: Send,
{
    if jobs <= 1 {
        for item in items {
            let r = work(&item);
            emit(item, r);
        }
        return;
    }
    let window = jobs * AHEAD_PER_JOB;
    let source = Source::new(items);
    let progress = Progress::default();
    let (tx, rx) = mpsc::channel();
    thread::scope(|s| {
        for _ in 1..jobs {
            let tx = tx.clone();
            let (source, progress, work) = (&source, &progress, &work);
            s.spawn(move || {
                while let Some((i, item)) = source.take() {
                    if !progress.wait_for_turn(i, window) {
                        break;
                    }
                    let r = catch_unwind(AssertUnwindSafe(|| work(&item)));
                    if tx.send((i, item, r)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        // stops the workers however this thread leaves the scope
        let _stop = Stop(&progress);
        let mut pending = BTreeMap::new();
        let mut want = 0;
        // hands back every result that is next in order
        let mut flush = |pending: &mut BTreeMap<usize, (I::Item, thread::Result<R>)>,
                         want: &mut usize| {
            let before = *want;
            while let Some((item, r)) = pending.remove(want) {
                match r {
                    Ok(r) => emit(item, r),
                    Err(panic) => resume_unwind(panic),
                }
                *want += 1;
            }
            if *want != before {
                progress.emitted(*want);
            }
        };
        let mut taken_all = false;
        loop {
            pending.extend(rx.try_iter().map(|(i, item, r)| (i, (item, r))));
            flush(&mut pending, &mut want);
            let next = if taken_all { None } else { source.take() };
            if let Some((i, item)) = next {
                // this thread is held to the window as the workers are
                while i >= want + window {
                    match rx.recv() {
                        Ok((j, item, r)) => {
                            pending.insert(j, (item, r));
                        }
                        Err(_) => break,
                    }
                    flush(&mut pending, &mut want);
                }
                let r = catch_unwind(AssertUnwindSafe(|| work(&item)));
                pending.insert(i, (item, r));
                continue;
            }
            taken_all = true;
            if want == source.taken() {
                break;
            }
            // every item is taken: wait for the workers' results
            match rx.recv() {
                Ok((j, item, r)) => {
                    pending.insert(j, (item, r));
                }
                Err(_) => {
                    // every worker is done: what is left is pending
                    flush(&mut pending, &mut want);
                    break;
                }
            }
        }
    });
}

/// The items, handed out one at a time with their index.
struct Source<I> {
    /// (the items, how many were taken, exhausted)
    state: Mutex<(I, usize, bool)>,
}

impl<I: Iterator> Source<I> {
    fn new(items: I) -> Self {
        Source {
            state: Mutex::new((items, 0, false)),
        }
    }
    /// The next item and its index, or `None` when there are no more.
    fn take(&self) -> Option<(usize, I::Item)> {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if st.2 {
            return None;
        }
        match st.0.next() {
            Some(item) => {
                st.1 += 1;
                Some((st.1 - 1, item))
            }
            None => {
                st.2 = true;
                None
            }
        }
    }
    /// How many items were taken.
    fn taken(&self) -> usize {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).1
    }
}

/// What the calling thread has handed back, for the workers to wait on.
#[derive(Default)]
struct Progress {
    /// Index of the oldest result not yet emitted.
    emitted: AtomicUsize,
    /// Set when the pool stops early (the calling thread is unwinding).
    stopped: AtomicBool,
    /// Workers blocked in [`Progress::wait_for_turn`].
    waiting: AtomicUsize,
    lock: Mutex<()>,
    turn: Condvar,
}

impl Progress {
    /// Waits until item `i` is within `window` of the oldest result not yet
    /// emitted; `false` when the pool stopped. Takes no lock unless it has
    /// to wait.
    fn wait_for_turn(&self, i: usize, window: usize) -> bool {
        let ready = |p: &Progress| {
            p.stopped.load(Ordering::SeqCst) || i < p.emitted.load(Ordering::SeqCst) + window
        };
        if !ready(self) {
            let mut g = self.lock.lock().unwrap_or_else(|p| p.into_inner());
            // announced before the re-check: `emitted` then either sees
            // this waiter (and notifies under the lock) or this re-check
            // sees its store (SeqCst on both sides)
            self.waiting.fetch_add(1, Ordering::SeqCst);
            while !ready(self) {
                g = self.turn.wait(g).unwrap_or_else(|p| p.into_inner());
            }
            self.waiting.fetch_sub(1, Ordering::SeqCst);
        }
        !self.stopped.load(Ordering::SeqCst)
    }
    fn emitted(&self, n: usize) {
        self.emitted.store(n, Ordering::SeqCst);
        self.wake();
    }
    fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        self.wake();
    }
    /// Wakes the waiting workers, if any (no system call otherwise).
    fn wake(&self) {
        if self.waiting.load(Ordering::SeqCst) > 0 {
            let _g = self.lock.lock().unwrap_or_else(|p| p.into_inner());
            self.turn.notify_all();
        }
    }
}

/// Stops the workers when dropped (the calling thread is done or unwinding).
struct Stop<'a>(&'a Progress);

impl Drop for Stop<'_> {
    fn drop(&mut self) {
        self.0.stop();
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
                items.iter().copied(),
                jobs,
                |&n| {
                    // later items finish first
                    thread::sleep(std::time::Duration::from_micros((500 - n) % 7 * 50));
                    n * n
                },
                |n, sq| seen.push((n, sq)),
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
            items.iter().copied(),
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
    fn no_thread_runs_more_than_the_window_ahead_of_the_output() {
        // item 0 is slow: the others must wait for it once they are a
        // window ahead, whichever thread (worker or caller) claims them
        let items: Vec<usize> = (0..2_000).collect();
        for jobs in [2, 3] {
            let window = jobs * AHEAD_PER_JOB;
            let emitted = AtomicUsize::new(0);
            let started_too_early = AtomicUsize::new(0);
            ordered(
                items.iter().copied(),
                jobs,
                |&i| {
                    if i >= emitted.load(Ordering::SeqCst) + window {
                        started_too_early.fetch_add(1, Ordering::SeqCst);
                    }
                    if i == 0 {
                        thread::sleep(std::time::Duration::from_millis(30));
                    }
                    i
                },
                |_, i| {
                    emitted.store(i + 1, Ordering::SeqCst);
                },
            );
            assert_eq!(emitted.load(Ordering::SeqCst), items.len(), "jobs {jobs}");
            assert_eq!(started_too_early.load(Ordering::SeqCst), 0, "jobs {jobs}");
        }
    }

    #[test]
    fn a_panic_is_raised_after_the_earlier_results() {
        let items: Vec<u32> = (0..300).collect();
        let mut seen = Vec::new();
        let r = catch_unwind(AssertUnwindSafe(|| {
            ordered(
                items.iter().copied(),
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
