//! `tern bench` output: a progress line on stderr, a table (or JSON) on
//! stdout, and an SVG plot of throughput and latency against fan-out.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use serde::Serialize;

use super::{PhaseResult, System};

/// One system at one sweep point: its load phase and its half-load phase.
#[derive(Debug, Clone, Serialize)]
pub struct Measurement {
    pub system: &'static str,
    pub subscribers: usize,
    pub size: usize,
    pub workers: usize,
    /// Load phase: offered and forwarded packets per second.
    pub offered_pps: f64,
    pub forwarded_pps: f64,
    /// Forwarded packets per CPU-second of the forwarding threads.
    pub pkts_per_cpu_s: f64,
    /// CPU nanoseconds per forwarded packet (the inverse).
    pub cpu_ns_per_pkt: f64,
    pub load_loss: f64,
    /// Half-load phase (half of what the load phase forwarded).
    pub half_offered_pps: f64,
    pub half_loss: f64,
    pub half_pkts_per_cpu_s: f64,
    /// Added latency in the half-load phase, microseconds.
    pub latency_p50_us: Option<u32>,
    pub latency_p99_us: Option<u32>,
    pub latency_p999_us: Option<u32>,
    pub latency_samples: usize,
    /// Heap allocations per forwarded packet on the forwarding threads
    /// (Tern only).
    pub allocs_per_pkt: Option<f64>,
    pub syscalls_per_pkt: f64,
}

fn percentile(sorted: &[u32], p: f64) -> Option<u32> {
    if sorted.is_empty() {
        return None;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied()
}

/// One row from the two phases.
pub fn merge(
    system: System,
    subscribers: usize,
    size: usize,
    workers: usize,
    load: PhaseResult,
    mut half: PhaseResult,
) -> Measurement {
    half.latencies_us.sort_unstable();
    let lat = &half.latencies_us;
    Measurement {
        system: system.name(),
        subscribers,
        size,
        workers,
        offered_pps: load.offered_pps,
        forwarded_pps: load.forwarded_pps,
        pkts_per_cpu_s: load.pkts_per_cpu_s,
        cpu_ns_per_pkt: if load.pkts_per_cpu_s > 0.0 {
            1e9 / load.pkts_per_cpu_s
        } else {
            0.0
        },
        load_loss: load.loss,
        half_offered_pps: half.offered_pps,
        half_loss: half.loss,
        half_pkts_per_cpu_s: half.pkts_per_cpu_s,
        latency_p50_us: percentile(lat, 0.50),
        latency_p99_us: percentile(lat, 0.99),
        latency_p999_us: percentile(lat, 0.999),
        latency_samples: lat.len(),
        allocs_per_pkt: load.allocs_per_pkt,
        syscalls_per_pkt: load.syscalls_per_pkt,
    }
}

/// Everything a run produced.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub results: Vec<Measurement>,
    pub workers: usize,
    pub publishers: usize,
    pub rate: u64,
    pub seconds: f64,
    pub elapsed: f64,
    pub cores: usize,
}

impl Summary {
    fn find(&self, system: System, subs: usize, size: usize) -> Option<&Measurement> {
        self.results
            .iter()
            .find(|m| m.system == system.name() && m.subscribers == subs && m.size == size)
    }

    /// Tern's packets per CPU-second over the baseline's at one point.
    pub fn ratio(&self, base: System, subs: usize, size: usize) -> Option<f64> {
        let t = self.find(System::Tern, subs, size)?;
        let b = self.find(base, subs, size)?;
        (b.pkts_per_cpu_s > 0.0).then(|| t.pkts_per_cpu_s / b.pkts_per_cpu_s)
    }
}

/// The progress line on stderr.
#[derive(Debug)]
pub struct Progress {
    total: usize,
    done: usize,
    started: std::time::Instant,
}

impl Progress {
    pub fn new(total: usize) -> Self {
        Progress {
            total,
            done: 0,
            started: std::time::Instant::now(),
        }
    }

    fn line(&self, what: &str) {
        let mut e = std::io::stderr().lock();
        let _ = write!(
            e,
            "\r\x1b[2K[{:>3}/{}] {:>5.1}s {what}",
            self.done.min(self.total),
            self.total,
            self.started.elapsed().as_secs_f64()
        );
        let _ = e.flush();
    }

    pub fn step(&mut self, what: &str) {
        self.done += 1;
        self.line(what);
    }

    pub fn note(&self, what: &str) {
        self.line(what);
    }

    pub fn done(&self) {
        let mut e = std::io::stderr().lock();
        let _ = writeln!(
            e,
            "\r\x1b[2Kdone in {:.1}s",
            self.started.elapsed().as_secs_f64()
        );
    }
}

fn opt_us(v: Option<u32>) -> String {
    v.map_or("-".into(), |v| v.to_string())
}

fn fmt_ratio(r: Option<f64>) -> String {
    r.map_or("-".into(), |r| format!("{r:.2}x"))
}

/// The table on stdout.
pub fn print_table(s: &Summary) {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "tern bench: {} worker(s), {} publisher(s)/room, offered {} pkt/s, {:.1}s phases, {} cores, {:.0}s total",
        s.workers, s.publishers, s.rate, s.seconds, s.cores, s.elapsed
    );
    let _ =
        writeln!(
        out,
        "{:<12} {:>5} {:>5} {:>11} {:>12} {:>8} {:>7} {:>7} {:>7} {:>7} {:>8} {:>9} {:>8} {:>8}",
        "system", "subs", "bytes", "fwd pkt/s", "pkt/CPU-s", "ns/pkt", "loss%", "p50us",
        "p99us", "p99.9us", "alloc/pk", "sysc/pkt", "vs naive", "vs tuned"
    );
    for m in &s.results {
        let is_tern = m.system == System::Tern.name();
        let _ = writeln!(
            out,
            "{:<12} {:>5} {:>5} {:>11.0} {:>12.0} {:>8.0} {:>7.2} {:>7} {:>7} {:>7} {:>8} {:>9.4} {:>8} {:>8}",
            m.system,
            m.subscribers,
            m.size,
            m.forwarded_pps,
            m.pkts_per_cpu_s,
            m.cpu_ns_per_pkt,
            m.load_loss * 100.0,
            opt_us(m.latency_p50_us),
            opt_us(m.latency_p99_us),
            opt_us(m.latency_p999_us),
            m.allocs_per_pkt
                .map_or("-".into(), |a| format!("{a:.4}")),
            m.syscalls_per_pkt,
            if is_tern {
                fmt_ratio(s.ratio(System::Naive, m.subscribers, m.size))
            } else {
                String::new()
            },
            if is_tern {
                fmt_ratio(s.ratio(System::Tuned, m.subscribers, m.size))
            } else {
                String::new()
            },
        );
    }
    let _ = writeln!(
        out,
        "pkt/CPU-s: forwarded packets per CPU-second of the forwarding threads (load phase); \
         latency and half-load loss: at half of the load phase's forwarded rate; \
         ratios: Tern's pkt/CPU-s over the baseline's."
    );
    let mut o = std::io::stdout().lock();
    let _ = o.write_all(out.as_bytes());
}

/// JSON on stdout.
pub fn print_json(s: &Summary) -> Result<(), String> {
    let mut v = serde_json::to_value(s).map_err(|e| e.to_string())?;
    let mut ratios = Vec::new();
    for m in s.results.iter().filter(|m| m.system == System::Tern.name()) {
        ratios.push(serde_json::json!({
            "subscribers": m.subscribers,
            "size": m.size,
            "vs_naive": s.ratio(System::Naive, m.subscribers, m.size),
            "vs_tuned": s.ratio(System::Tuned, m.subscribers, m.size),
        }));
    }
    v["ratios"] = serde_json::Value::Array(ratios);
    let mut o = std::io::stdout().lock();
    writeln!(o, "{v}").map_err(|e| e.to_string())
}

const COLORS: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
];

/// An SVG with two panels against fan-out (log scale): forwarded packets
/// per CPU-second, and p99 latency at half load; one line per system and
/// size.
pub fn write_svg(s: &Summary, path: &Path) -> Result<(), String> {
    let (w, h) = (960.0_f64, 460.0_f64);
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let mut subs: Vec<usize> = s.results.iter().map(|m| m.subscribers).collect();
    subs.sort_unstable();
    subs.dedup();
    let mut series: Vec<(String, Vec<&Measurement>)> = Vec::new();
    for m in &s.results {
        let key = format!("{} {} B", m.system, m.size);
        match series.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => v.push(m),
            None => series.push((key, vec![m])),
        }
    }
    let xmin = (*subs.first().unwrap_or(&1)).max(1) as f64;
    let xmax = (*subs.last().unwrap_or(&1)).max(2) as f64;
    type Value = fn(&Measurement) -> Option<f64>;
    let panels: [(&str, Value); 2] = [
        ("forwarded packets per CPU-second", |m| {
            Some(m.pkts_per_cpu_s)
        }),
        ("added latency p99 at half load (µs)", |m| {
            m.latency_p99_us.map(f64::from)
        }),
    ];
    for (pi, (title, value)) in panels.iter().enumerate() {
        let x0 = 70.0 + pi as f64 * (w / 2.0);
        let (pw, ph, y0) = (w / 2.0 - 110.0, h - 160.0, 40.0);
        let ymax = s
            .results
            .iter()
            .filter_map(value)
            .fold(0.0_f64, f64::max)
            .max(1.0)
            * 1.1;
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="22" text-anchor="middle" font-weight="bold">{title}</text>"#,
            x0 + pw / 2.0
        );
        let _ = writeln!(
            svg,
            r#"<rect x="{x0}" y="{y0}" width="{pw}" height="{ph}" fill="none" stroke="black"/>"#
        );
        let xpos = |x: f64| {
            if xmax > xmin {
                x0 + (x.ln() - xmin.ln()) / (xmax.ln() - xmin.ln()) * pw
            } else {
                x0 + pw / 2.0
            }
        };
        let ypos = |y: f64| y0 + ph - y / ymax * ph;
        for &x in &subs {
            let _ = writeln!(
                svg,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{x}</text>"#,
                xpos(x as f64),
                y0 + ph + 16.0
            );
        }
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">subscribers (fan-out, log scale)</text>"#,
            x0 + pw / 2.0,
            y0 + ph + 34.0
        );
        for k in 0..=4 {
            let y = ymax * f64::from(k) / 4.0;
            let _ = writeln!(
                svg,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
                x0 - 4.0,
                ypos(y) + 4.0,
                short(y)
            );
        }
        for (si, (name, points)) in series.iter().enumerate() {
            let color = COLORS[si % COLORS.len()];
            let pts: Vec<String> = points
                .iter()
                .filter_map(|m| {
                    value(m)
                        .map(|v| format!("{:.1},{:.1}", xpos(m.subscribers.max(1) as f64), ypos(v)))
                })
                .collect();
            if pts.is_empty() {
                continue;
            }
            let _ = writeln!(
                svg,
                r#"<polyline fill="none" stroke="{color}" stroke-width="2" points="{}"/>"#,
                pts.join(" ")
            );
            if pi == 0 {
                let ly = h - 52.0 + (si / 3) as f64 * 18.0;
                let lx = 70.0 + (si % 3) as f64 * 300.0;
                let _ = writeln!(
                    svg,
                    r#"<rect x="{lx}" y="{:.1}" width="12" height="4" fill="{color}"/><text x="{:.1}" y="{:.1}">{name}</text>"#,
                    ly - 4.0,
                    lx + 16.0,
                    ly
                );
            }
        }
    }
    let _ = writeln!(svg, "</svg>");
    std::fs::write(path, svg).map_err(|e| format!("{}: {e}", path.display()))
}

fn short(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if v >= 1e3 {
        format!("{:.0}k", v / 1e3)
    } else {
        format!("{v:.0}")
    }
}
