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

use common::ws::{body, http_get, WsClient};
use common::{which, TernProcess};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Chromium {
    child: Child,
    devtools: SocketAddr,
    profile: std::path::PathBuf,
}

impl Drop for Chromium {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

impl Chromium {
    fn start(program: &std::path::Path) -> Chromium {
        let profile = std::env::temp_dir().join(format!("tern-chromium-{}", std::process::id()));
        let mut child = Command::new(program)
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start chromium");
        let stderr = child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        let devtools = loop {
            let line = lines
                .next()
                .expect("chromium exited before DevTools was listening")
                .unwrap();
            if let Some(rest) = line.strip_prefix("DevTools listening on ws://") {
                let hostport = rest.split('/').next().unwrap();
                break hostport.parse::<SocketAddr>().expect("DevTools address");
            }
        };
        // Keep draining stderr so Chromium never blocks on it.
        std::thread::spawn(move || for _ in lines {});
        Chromium {
            child,
            devtools,
            profile,
        }
    }

    /// Opens a page and returns a DevTools session on it.
    fn open(&self, url: &str) -> Page {
        let encoded: String = url
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        let mut s = TcpStream::connect(self.devtools).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(
            s,
            "PUT /json/new?{encoded} HTTP/1.1\r\nHost: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.devtools
        )
        .unwrap();
        // DevTools keeps the connection open: read exactly Content-Length.
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        let target: Value = loop {
            let n = s.read(&mut chunk).expect("DevTools reply");
            assert!(n > 0, "DevTools closed without a reply");
            buf.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&buf);
            if let Some((head, rest)) = text.split_once("\r\n\r\n") {
                let len: usize = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse().ok())?
                    })
                    .expect("Content-Length");
                if rest.len() >= len {
                    break serde_json::from_str(&rest[..len]).expect("target JSON");
                }
            }
        };
        let ws_url = target["webSocketDebuggerUrl"].as_str().unwrap();
        let path = ws_url.split_once("//").unwrap().1;
        let path = &path[path.find('/').unwrap()..];
        Page {
            ws: WsClient::connect_path(self.devtools, path),
            next_id: 0,
        }
    }
}

struct Page {
    ws: WsClient,
    next_id: u64,
}

impl Page {
    /// Evaluates a JavaScript expression and returns its value.
    fn eval(&mut self, expr: &str) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.ws
            .send_json(&json!({"id": id, "method": "Runtime.evaluate",
            "params": {"expression": expr, "returnByValue": true}}));
        loop {
            let m = self.ws.recv_json();
            if m["id"] == id {
                return m["result"]["result"]["value"].clone();
            }
        }
    }

    /// Polls `expr` until it equals `want` (20 s at most).
    fn wait_for(&mut self, expr: &str, want: &Value, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let got = self.eval(expr);
            if &got == want {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: got {got}, want {want}; status: {}",
                self.eval("document.getElementById('status').textContent")
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

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
        page.wait_for(REMOTE_LABELS, &json!(others), names[i]);
        // Each remote tile got its participant's stream with audio and video.
        page.wait_for(REMOTE_TRACK_COUNTS, &json!([2, 2]), names[i]);
    }
    let s = debug_state(&server);
    assert_eq!(
        (s["rooms"].as_u64(), s["participants"].as_u64()),
        (Some(1), Some(3)),
        "{s}"
    );

    // Carol leaves with the button's handler.
    pages[2].eval("leave()");
    pages[0].wait_for(REMOTE_LABELS, &json!(["bob"]), "alice after carol left");
    pages[1].wait_for(REMOTE_LABELS, &json!(["alice"]), "bob after carol left");
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
