//! The demo page in headless Chromium (Debian's `chromium`, fake camera and
//! microphone) against `tern serve`: three participants join one room by
//! URL, each gets a tile per other participant labelled with its name (from
//! `RTCTrackEvent.streams[0].id` and the `tracks` message) carrying its
//! audio and video tracks, then one leaves: the others' tiles for it go away
//! and the server frees its state. Signaling only: decoding is checked by
//! `browser_group_call.rs`.
//!
//! Chromium is driven over the DevTools protocol with the tests' own
//! WebSocket client. Skipped when Chromium is missing, unless
//! TERN_REQUIRE_BROWSER is set (the test command installs Chromium and sets
//! it).
// Tests say on stderr when they skip for want of a peer.
#![allow(clippy::print_stderr)]

mod common;

use common::browser::{Chromium, Page};
use common::ws::{body, http_get};
use common::{which, TernProcess};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// How long each page may take to show what the test waits for.
const WITHIN: Duration = Duration::from_secs(20);

const REMOTE_LABELS: &str =
    "[...document.querySelectorAll('.tile:not(#local) .label')].map(e => e.textContent).sort()";
const REMOTE_TRACK_COUNTS: &str = "[...document.querySelectorAll('.tile:not(#local) video')].map(v => v.srcObject ? v.srcObject.getTracks().length : 0)";

fn debug_state(server: &TernProcess) -> Value {
    serde_json::from_str(body(&http_get(server.addr, "/debug/state", "").1)).unwrap()
}

#[test]
fn three_browsers_join_by_url_see_named_tiles_and_one_leaves() {
    let Some(program) = which("chromium") else {
        assert!(
            std::env::var_os("TERN_REQUIRE_BROWSER").is_none(),
            "chromium is missing (apt-get install chromium)"
        );
        eprintln!("skipping: chromium not installed (apt-get install chromium)");
        return;
    };
    let server = TernProcess::start(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--media-port",
        "0",
        "--log-level",
        "warn",
    ]);
    let chromium = Chromium::start(&program);
    let names = ["alice", "bob", "carol"];
    let mut pages: Vec<Page> = names
        .iter()
        .map(|n| {
            let page = chromium.open(&format!("http://{}/?room=browsers&name={n}", server.addr));
            // Join one after another so the order is deterministic.
            std::thread::sleep(Duration::from_millis(300));
            page
        })
        .collect();
    for (i, page) in pages.iter_mut().enumerate() {
        let mut others: Vec<&str> = names.iter().copied().filter(|n| *n != names[i]).collect();
        others.sort();
        page.wait_for(REMOTE_LABELS, &json!(others), WITHIN, names[i]);
        // Each remote tile got its participant's stream with audio and video.
        page.wait_for(REMOTE_TRACK_COUNTS, &json!([2, 2]), WITHIN, names[i]);
    }
    let s = debug_state(&server);
    assert_eq!(
        (s["rooms"].as_u64(), s["participants"].as_u64()),
        (Some(1), Some(3)),
        "{s}"
    );

    // Carol leaves with the button's handler.
    pages[2].eval("leave()");
    pages[0].wait_for(
        REMOTE_LABELS,
        &json!(["bob"]),
        WITHIN,
        "alice after carol left",
    );
    pages[1].wait_for(
        REMOTE_LABELS,
        &json!(["alice"]),
        WITHIN,
        "bob after carol left",
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let s = debug_state(&server);
        if s["participants"] == 2 && s["connections"] == 2 && s["media_participants"] == 2 {
            break;
        }
        assert!(Instant::now() < deadline, "state not freed: {s}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
