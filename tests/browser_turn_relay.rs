//! Issue 9's end-to-end test: the browser call through `tern serve --turn`
//! with every page set to `iceTransportPolicy: "relay"` (the demo page's
//! `relay=1`). Each page learns the TURN server and its time-limited
//! credential from `joined.iceServers`, allocates a relay on Tern's TURN
//! (which allows exactly the SFU's own loopback media address as a peer),
//! and reaches the SFU only through it. Both must decode the other's video
//! and audio (getStats: `framesDecoded` > 30, `packetsReceived` > 50), and
//! the selected candidate pair of both PeerConnections must have a local
//! candidate of type `relay`.
//!
//! Fails when Chromium is missing and TERN_REQUIRE_BROWSER is set (the test
//! command sets it after installing Chromium); skips with a message
//! otherwise.
#![allow(clippy::print_stderr)]

mod common;

use common::browser::{Chromium, Page};
use common::ws::{body, http_get};
use common::{which, TernProcess};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const MEDIA_WITHIN: Duration = Duration::from_secs(30);

/// Per remote track of the subscribe PeerConnection, keyed `name/kind`:
/// frames decoded (video) or packets received (audio).
const REMOTE_MEDIA: &str = r#"(async () => {
  const out = {};
  if (typeof subPc === "undefined" || !subPc) return out;
  for (const tr of subPc.getTransceivers()) {
    const info = tr.mid != null && midInfo.get(tr.mid);
    if (!info) continue;
    (await tr.receiver.getStats()).forEach((s) => {
      if (s.type !== "inbound-rtp") return;
      out[info.name + "/" + info.kind] =
        info.kind === "video" ? (s.framesDecoded || 0) : (s.packetsReceived || 0);
    });
  }
  return out;
})()"#;

/// The local and remote candidate types of each PeerConnection's selected
/// pair, e.g. `{"pub": ["relay", "host"], "sub": ["relay", "host"]}`, and
/// what the page was configured with.
const SELECTED_PAIRS: &str = r#"(async () => {
  const out = { policy: [pubPc.getConfiguration().iceTransportPolicy,
                         subPc.getConfiguration().iceTransportPolicy],
                servers: iceServers.map(s => s.urls).flat() };
  for (const [name, pc] of [["pub", pubPc], ["sub", subPc]]) {
    const r = await pc.getStats();
    r.forEach((s) => {
      if (s.type !== "transport" || !s.selectedCandidatePairId) return;
      const pair = r.get(s.selectedCandidatePairId);
      out[name] = [r.get(pair.localCandidateId).candidateType,
                   r.get(pair.remoteCandidateId).candidateType];
    });
  }
  return out;
})()"#;

fn flowing(media: &Value, other: &str) -> bool {
    media[format!("{other}/video")]
        .as_u64()
        .is_some_and(|f| f > 30)
        && media[format!("{other}/audio")]
            .as_u64()
            .is_some_and(|p| p > 50)
}

#[test]
fn two_browsers_relayed_through_terns_turn_decode_each_other() {
    let Some(program) = which("chromium") else {
        assert!(
            std::env::var_os("TERN_REQUIRE_BROWSER").is_none(),
            "chromium is missing (apt-get install chromium) and TERN_REQUIRE_BROWSER is set"
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
        "--turn",
        "--turn-listen",
        "127.0.0.1:0",
        "--log-level",
        "info",
    ]);
    let started = Instant::now();
    let chromium = Chromium::start(&program);
    let url = |n: &str| format!("http://{}/?room=relay&name={n}&relay=1", server.addr);
    let mut pages: Vec<Page> = vec![chromium.open(&url("a")), chromium.open(&url("b"))];
    let deadline = Instant::now() + MEDIA_WITHIN;
    loop {
        let ma = pages[0].eval(REMOTE_MEDIA);
        let mb = pages[1].eval(REMOTE_MEDIA);
        if flowing(&ma, "b") && flowing(&mb, "a") {
            eprintln!(
                "relayed media decoding both ways {:.1} s after start: {ma} / {mb}",
                started.elapsed().as_secs_f64()
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "relayed media not decoded within {MEDIA_WITHIN:?}: {ma} / {mb}; pairs {} / {}; server: {}",
            pages[0].eval(SELECTED_PAIRS),
            pages[1].eval(SELECTED_PAIRS),
            body(&http_get(server.addr, "/debug/state", "").1)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    for (name, page) in ["a", "b"].iter().zip(pages.iter_mut()) {
        let pairs = page.eval(SELECTED_PAIRS);
        eprintln!("{name}: {pairs}");
        assert_eq!(
            pairs["policy"],
            json!(["relay", "relay"]),
            "{name}: {pairs}"
        );
        let url = pairs["servers"][0].as_str().unwrap_or("");
        assert!(
            url.starts_with("turn:127.0.0.1:") && url.ends_with("?transport=udp"),
            "{name}: {pairs}"
        );
        assert_eq!(pairs["pub"][0], "relay", "{name}: {pairs}");
        assert_eq!(pairs["sub"][0], "relay", "{name}: {pairs}");
    }
}
