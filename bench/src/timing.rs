//! Timing that stays meaningful on a shared machine: the least thread CPU
//! time over several batches, so other processes and the scheduler inflate
//! it far less than wall time.

/// CPU time of the calling thread, in nanoseconds.
pub fn thread_cpu_ns() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime only writes the timespec it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 * 1e9 + ts.tv_nsec as f64
}

/// Best time of one call of `job` in ns: one warm-up batch, then the minimum
/// over `batches` batches of `per_batch` calls.
pub fn best_ns(job: &mut dyn FnMut(), per_batch: usize, batches: usize) -> f64 {
    for _ in 0..per_batch {
        job();
    }
    let mut best = f64::MAX;
    for _ in 0..batches {
        let t = thread_cpu_ns();
        for _ in 0..per_batch {
            job();
        }
        best = best.min((thread_cpu_ns() - t) / per_batch as f64);
    }
    best
}
