//! Shared helpers for the integration tests: the corpus and a server config.
#![allow(dead_code)]

use tern_sdp::ServerConfig;

/// `(file name, text)` for every corpus document, sorted by name.
pub fn corpus() -> Vec<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut out: Vec<(String, String)> = std::fs::read_dir(&dir)
        .expect("corpus folder")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".sdp"))
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read_to_string(e.path()).expect("corpus file"),
            )
        })
        .collect();
    out.sort();
    out
}

pub fn server_config() -> ServerConfig {
    let mut c = ServerConfig::new(6_000_000_001, "tern", "ternserverpassword0123456789");
    c.fingerprints.push((
        "sha-256".into(),
        "3A:9F:12:C4:5B:E0:77:81:2D:6A:F3:08:B9:4C:D5:1E:60:A2:7B:93:C8:04:5F:E1:2B:76:9D:30:AE:15:C7:48".into(),
    ));
    c.candidates
        .push("1 1 udp 2130706431 198.51.100.2 3478 typ host".into());
    c.candidates
        .push("2 1 tcp 1518280447 198.51.100.2 3478 typ host tcptype passive".into());
    c
}
