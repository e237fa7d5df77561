//! `tern bench` end to end (short): the SFU and both relay baselines are
//! measured in one run, the JSON carries every metric and the ratios, and
//! the plot is written.

use std::process::Command;

#[test]
fn tern_bench_measures_sfu_and_both_relays_and_writes_json_and_plot() {
    let dir = std::env::temp_dir().join(format!("tern-bench-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let plot = dir.join("plot.svg");
    let out = Command::new(env!("CARGO_BIN_EXE_tern"))
        .args([
            "bench",
            "--subscribers",
            "1,3",
            "--sizes",
            "1200",
            "--seconds",
            "0.4",
            "--rate",
            "6000",
            "--repeat",
            "2",
            "--json",
            "--plot",
        ])
        .arg(&plot)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "tern bench failed: {stderr}");
    assert!(stderr.contains("done in"), "progress line: {stderr}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 6, "3 systems x 2 fan-outs: {v}");
    for system in ["tern", "naive-relay", "tuned-relay"] {
        for subs in [1, 3] {
            let r = results
                .iter()
                .find(|r| r["system"] == system && r["subscribers"] == subs)
                .unwrap_or_else(|| panic!("{system} at {subs}: {v}"));
            let fwd = r["forwarded_pps"].as_f64().unwrap();
            assert!(fwd > 500.0, "{system} at {subs} forwarded {fwd} pkt/s");
            assert!(r["pkts_per_cpu_s"].as_f64().unwrap() > 0.0);
            assert_eq!(r["rounds"], 2, "{r}");
            assert_eq!(
                r["pkts_per_cpu_s_rounds"].as_array().unwrap().len(),
                2,
                "{r}"
            );
            assert!(r["syscalls_per_pkt"].as_f64().unwrap() > 0.0);
            assert!(r["latency_samples"].as_u64().unwrap() > 0, "{r}");
            assert!(r["latency_p99_us"].as_u64().is_some());
            // Every sample's kernel arrival stamp precedes its read, so
            // every percentile does too (1 µs for the two clocks' pairing).
            for p in ["p50", "p99"] {
                let arrival = r[format!("latency_{p}_us")].as_u64().unwrap();
                let read = r[format!("latency_read_{p}_us")].as_u64().unwrap();
                assert!(arrival <= read + 1, "{system} at {subs}: {p} {r}");
            }
        }
    }
    // The latency phase offers half of the SFU's capacity (its load
    // phase's packets per CPU-second, one worker), to every system alike.
    assert_eq!(v["latency_load"], "half-capacity", "{v}");
    for subs in [1, 3] {
        let at = |system: &str| {
            results
                .iter()
                .find(|r| r["system"] == system && r["subscribers"] == subs)
                .unwrap()
        };
        let tern = at("tern");
        let half = tern["half_offered_pps"].as_f64().unwrap();
        let capacity = tern["pkts_per_cpu_s"].as_f64().unwrap();
        assert!(
            (half - capacity / 2.0).abs() <= capacity * 1e-9,
            "half of {capacity} pkt/CPU-s: {tern}"
        );
        for system in ["naive-relay", "tuned-relay"] {
            assert_eq!(at(system)["half_offered_pps"].as_f64(), Some(half), "{v}");
        }
        for system in ["tern", "naive-relay", "tuned-relay"] {
            let share = at(system)["half_cpu_share"].as_f64().unwrap();
            assert!(share > 0.0 && share < 2.0, "{system}: {share}");
        }
    }
    let tern = results
        .iter()
        .find(|r| r["system"] == "tern" && r["subscribers"] == 3)
        .unwrap();
    // A short window may still see a first-time periodic task; the exact
    // zero is proven by the worker's zero-allocation test.
    let allocs = tern["allocs_per_pkt"].as_f64().unwrap();
    assert!(allocs < 0.01, "allocations per forwarded packet: {tern}");
    let ratios = v["ratios"].as_array().unwrap();
    assert_eq!(ratios.len(), 2);
    assert!(ratios[0]["vs_naive"].as_f64().unwrap() > 0.0);
    assert!(ratios[0]["vs_tuned"].as_f64().unwrap() > 0.0);
    for r in ratios {
        let s = &r["vs_tuned_spread"];
        let (lo, mid, hi) = (
            s["min"].as_f64().unwrap(),
            s["median"].as_f64().unwrap(),
            s["max"].as_f64().unwrap(),
        );
        assert!(lo <= mid && mid <= hi, "{r}");
    }
    let lin = v["linearity"].as_array().unwrap();
    assert_eq!(lin.len(), 3, "one per system: {v}");
    for (l, system) in lin.iter().zip(["tern", "naive-relay", "tuned-relay"]) {
        assert_eq!(l["system"], system);
        assert_eq!(l["from_subscribers"], 1);
        assert_eq!(l["to_subscribers"], 3);
        let (lo, mid, hi) = (
            l["min"].as_f64().unwrap(),
            l["ratio"].as_f64().unwrap(),
            l["max"].as_f64().unwrap(),
        );
        assert!(0.0 < lo && lo <= mid && mid <= hi, "{l}");
    }
    let svg = std::fs::read_to_string(&plot).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("polyline"), "{svg}");
    let _ = std::fs::remove_dir_all(&dir);
}
