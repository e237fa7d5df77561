//! Headless Chromium for end-to-end tests, driven over the DevTools
//! protocol with the tests' own WebSocket client: start it with a fresh
//! profile, open pages, evaluate JavaScript (awaiting promises). Every wait
//! is bounded; the process is killed and its profile removed on drop.
//!
//! Set `TERN_BROWSER_LOG=1` to copy Chromium's stderr to the test's stderr,
//! and `TERN_CHROMIUM_ARGS` to add flags (e.g. `--enable-logging=stderr
//! --v=1`).
#![allow(dead_code, clippy::print_stderr)]

use super::ws::WsClient;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Headless Chromium with fake camera and microphone and no background
/// services (the flag set the project standardised on for browser tests).
pub const FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
];

/// A running Chromium.
pub struct Chromium {
    child: Child,
    devtools: SocketAddr,
    profile: PathBuf,
}

impl Drop for Chromium {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

impl Chromium {
    /// Starts `program` with [`FLAGS`].
    pub fn start(program: &Path) -> Chromium {
        Self::start_with(program, &[])
    }

    /// Starts `program` with [`FLAGS`] and `extra` flags, a fresh profile
    /// and DevTools on a free loopback port (waits 30 s at most).
    pub fn start_with(program: &Path, extra: &[&str]) -> Chromium {
        static N: AtomicU32 = AtomicU32::new(0);
        let profile = std::env::temp_dir().join(format!(
            "tern-chromium-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&profile);
        let mut child = Command::new(program)
            .args(FLAGS)
            .args(extra)
            .args(
                std::env::var("TERN_CHROMIUM_ARGS")
                    .unwrap_or_default()
                    .split_whitespace(),
            )
            .args([
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
        let (tx, rx) = std::sync::mpsc::channel();
        let echo = std::env::var_os("TERN_BROWSER_LOG").is_some();
        // Read stderr on a thread (bounded wait for the DevTools line), and
        // keep draining it so Chromium never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if echo {
                    eprintln!("[chromium] {line}");
                }
                if let Some(rest) = line.strip_prefix("DevTools listening on ws://") {
                    let hostport = rest.split('/').next().unwrap_or("").to_owned();
                    let _ = tx.send(hostport);
                }
            }
        });
        let mut chromium = Chromium {
            child,
            devtools: SocketAddr::from(([127, 0, 0, 1], 0)),
            profile,
        };
        let hostport = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("chromium did not report its DevTools address within 30 s");
        chromium.devtools = hostport.parse().expect("DevTools address");
        chromium
    }

    /// Opens a page at `url` and returns a DevTools session on it.
    pub fn open(&self, url: &str) -> Page {
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

/// A DevTools session on one page.
pub struct Page {
    ws: WsClient,
    next_id: u64,
}

impl Page {
    /// Evaluates a JavaScript expression (awaiting it if it is a promise)
    /// and returns its value (`null` on an exception).
    pub fn eval(&mut self, expr: &str) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.ws
            .send_json(&json!({"id": id, "method": "Runtime.evaluate",
            "params": {"expression": expr, "returnByValue": true, "awaitPromise": true}}));
        loop {
            let m = self.ws.recv_json();
            if m["id"] == id {
                if let Some(ex) = m["result"].get("exceptionDetails") {
                    eprintln!("page exception in {expr:?}: {ex}");
                }
                return m["result"]["result"]["value"].clone();
            }
        }
    }

    /// Polls `expr` until it equals `want`, at most `within`; panics with
    /// the last value and the page's status line otherwise.
    pub fn wait_for(&mut self, expr: &str, want: &Value, within: Duration, what: &str) {
        let deadline = Instant::now() + within;
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
