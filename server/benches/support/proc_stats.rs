//! What `/proc` tells about CPU use: a process's CPU seconds, those of the
//! PostgreSQL processes serving one database, the machine's busy share and
//! its load average.

use std::collections::HashMap;

/// Clock ticks per second of `/proc` CPU times.
fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(100.0)
}

/// User + system CPU seconds process `pid` used so far.
pub(crate) fn process_cpu_seconds(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which ends with ')').
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 here.
    (ticks(11) + ticks(12)) / clock_ticks()
}

/// User + system CPU seconds so far, by pid, of the `postgres` processes
/// that work for database `database`: its backends (the worker pools
/// connect before the measured span, so they exist at both ends) and the
/// server's own background processes (WAL writer, checkpointer, …), not
/// the backends of other databases on the same server.
pub(crate) fn postgres_cpu_seconds(database: &str) -> HashMap<String, f64> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return HashMap::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|pid| pid.bytes().all(|b| b.is_ascii_digit()))
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|comm| comm.trim() == "postgres")
        })
        .filter(|pid| {
            // Backends are titled `postgres: <user> <database> <host>(<port>) …`.
            let title = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let title = String::from_utf8_lossy(&title);
            title.contains(database) || !title.contains('(')
        })
        .map(|pid| {
            let seconds = process_cpu_seconds(&pid);
            (pid, seconds)
        })
        .collect()
}

/// CPU seconds the `postgres` processes used between two snapshots
/// (processes born in between count from zero).
pub(crate) fn postgres_cpu_between(
    before: &HashMap<String, f64>,
    after: &HashMap<String, f64>,
) -> f64 {
    after
        .iter()
        .map(|(pid, seconds)| seconds - before.get(pid).copied().unwrap_or(0.0))
        .filter(|delta| *delta > 0.0)
        .sum()
}

/// (busy, total) jiffies of the whole machine.
pub(crate) fn machine_jiffies() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let values: Vec<f64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    let total: f64 = values.iter().sum();
    let idle = values.get(3).copied().unwrap_or(0.0) + values.get(4).copied().unwrap_or(0.0);
    (total - idle, total)
}

/// The 1, 5 and 15 minute load averages, as `/proc/loadavg` gives them.
pub(crate) fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}
