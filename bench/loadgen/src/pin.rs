//! One-connection figures on a shared 2-core machine swing between runs (by 2× and more),
//! depending on whether the server and the load generator happen to share a core or wake each
//! other across cores. A closed loop over one connection does one thing at a time, so for those
//! rows both are pinned to the same CPU, every peer alike: a request then costs the two sides'
//! work and two context switches, not a cross-core wake-up from idle (on this kind of virtual
//! machine that was ~100 µs a round trip pinned apart, ~40 µs together; see bench/README.md).
//! Dropping the guard gives every thread its mask back; threads started meanwhile inherit the
//! mask of the thread that starts them.

/// The CPUs this process may run on.
fn allowed() -> Vec<usize> {
    // SAFETY: sched_getaffinity writes at most size_of::<cpu_set_t>() bytes into the set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) };
    if r != 0 {
        return Vec::new();
    }
    (0..libc::CPU_SETSIZE as usize)
        .filter(|&c| unsafe { libc::CPU_ISSET(c, &set) })
        .collect()
}

fn set(tid: i32, cpus: &[usize]) {
    // SAFETY: a zeroed cpu_set_t with bits set by CPU_SET, passed with its size.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    for &c in cpus {
        unsafe { libc::CPU_SET(c, &mut set) };
    }
    // A thread that ended meanwhile answers ESRCH: nothing to pin.
    let _ = unsafe { libc::sched_setaffinity(tid, std::mem::size_of::<libc::cpu_set_t>(), &set) };
}

/// The threads of a process (`/proc/PID/task`).
fn threads(pid: &str) -> Vec<i32> {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse().ok()))
                .collect()
        })
        .unwrap_or_default()
}

/// Pinned threads, unpinned on drop.
pub struct Pinned {
    tids: Vec<i32>,
    all: Vec<usize>,
}

impl Drop for Pinned {
    fn drop(&mut self) {
        for &t in &self.tids {
            set(t, &self.all);
        }
    }
}

/// Pins the load generator and `server` (the process tree's pids) to the first CPU this
/// process may use; `None` (nothing pinned) when it may use only one anyway.
pub fn together(server: &[i32]) -> Option<Pinned> {
    let all = allowed();
    if all.len() < 2 {
        return None;
    }
    let cpu = [all[0]];
    let mut tids = Vec::new();
    for pid in server
        .iter()
        .map(i32::to_string)
        .chain(["self".to_string()])
    {
        for t in threads(&pid) {
            set(t, &cpu);
            tids.push(t);
        }
    }
    Some(Pinned { tids, all })
}
