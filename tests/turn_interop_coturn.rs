//! Interop with real TURN peers (Debian's coturn): `turnutils_uclient`
//! relays through `tern turn` to a `turnutils_peer` echo server on
//! loopback, in both the ChannelData and the Send/Data forms, with static
//! and time-limited credentials. Loopback peers are explicitly allowed for
//! the test (`--allow-loopback-peers`); by default `tern turn` refuses them.
// Tests say on stderr when they skip for want of a peer.
#![allow(clippy::print_stderr)]

mod common;

use common::{peers_required, which, TernProcess};
use std::net::UdpSocket;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process killed when dropped.
struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn tools() -> Option<(PathBuf, PathBuf)> {
    match (which("turnutils_uclient"), which("turnutils_peer")) {
        (Some(c), Some(p)) => Some((c, p)),
        _ => {
            assert!(
                !peers_required(),
                "turnutils_uclient/turnutils_peer missing (install coturn)"
            );
            eprintln!(
                "skipping: turnutils_uclient/turnutils_peer not installed (apt-get install coturn)"
            );
            None
        }
    }
}

fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("a free port")
        .port()
}

fn start_peer(peer: &PathBuf) -> (Kill, u16) {
    let port = free_udp_port();
    let child = Command::new(peer)
        .args(["-L", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start turnutils_peer");
    // Wait (bounded) until it echoes: turnutils_peer sends every datagram
    // back to its source.
    let probe = UdpSocket::bind("127.0.0.1:0").expect("bind probe");
    probe
        .set_read_timeout(Some(Duration::from_millis(100)))
        .expect("timeout");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut buf = [0u8; 16];
    loop {
        let _ = probe.send_to(b"ping", ("127.0.0.1", port));
        if probe.recv_from(&mut buf).is_ok() {
            break;
        }
        assert!(Instant::now() < deadline, "turnutils_peer did not start");
    }
    (Kill(child), port)
}

/// Runs turnutils_uclient with a deadline; returns (success, output).
fn run_uclient(client: &PathBuf, args: &[String], within: Duration) -> (bool, String) {
    let mut child = Command::new(client)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run turnutils_uclient");
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            let out = child.wait_with_output().expect("output");
            let text = String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr);
            return (status.success(), text);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            let text = String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr);
            panic!("turnutils_uclient did not finish within {within:?}:\n{text}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The figure after `label` on uclient's last line that has it, e.g.
/// "Total lost packets 0 (0.000000%)".
fn figure(text: &str, label: &str) -> Option<u64> {
    text.lines()
        .rev()
        .find_map(|l| l.split(label).nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.trim_end_matches(',').parse().ok())
}

fn relay_round_trip(extra: &[&str], auth: &[&str], server_args: &[&str]) {
    let Some((client, peer)) = tools() else {
        return;
    };
    let (_peer, peer_port) = start_peer(&peer);
    let mut args = vec!["turn", "--bind", "127.0.0.1:0", "--allow-loopback-peers"];
    args.extend_from_slice(server_args);
    let server = TernProcess::start(&args);
    let mut cargs: Vec<String> = vec![
        "-p".into(),
        server.addr.port().to_string(),
        "-e".into(),
        "127.0.0.1".into(),
        "-r".into(),
        peer_port.to_string(),
        "-n".into(),
        "20".into(),
        "-l".into(),
        "120".into(),
        "-z".into(),
        "5".into(),
        "-c".into(),
    ];
    cargs.extend(auth.iter().chain(extra).map(|s| s.to_string()));
    cargs.push("127.0.0.1".into());
    let (mut ok, mut text) = run_uclient(&client, &cargs, Duration::from_secs(60));
    if !ok && text.contains("channel bind: error 400") {
        // uclient picks its channel numbers at random (0x4000-0x7FFF) and
        // binds two peers: once in a while it picks the same number twice,
        // and the second bind is rightly refused (RFC 8656 §12). One more
        // run with fresh allocations tells that from a server that
        // refuses a valid bind, which would fail again.
        let first = std::mem::take(&mut text);
        (ok, text) = run_uclient(&client, &cargs, Duration::from_secs(60));
        assert!(
            ok,
            "turnutils_uclient failed twice:\n{text}\n(first run:)\n{first}"
        );
    }
    assert!(ok, "turnutils_uclient failed:\n{text}");
    let lost =
        figure(&text, "Total lost packets").unwrap_or_else(|| panic!("no summary in:\n{text}"));
    assert_eq!(lost, 0, "packets lost through tern turn:\n{text}");
    assert_eq!(figure(&text, "tot_send_msgs="), Some(20), "{text}");
    assert_eq!(
        figure(&text, "tot_recv_msgs="),
        Some(20),
        "echoes back:\n{text}"
    );
}

#[test]
fn coturn_uclient_channeldata_round_trips_through_tern_turn() {
    relay_round_trip(
        &[],
        &["-u", "ada", "-w", "lovelace"],
        // uclient picks channel numbers from RFC 5766's wider range.
        &["--user", "ada:lovelace", "--rfc5766-channel-numbers"],
    );
}

#[test]
fn coturn_uclient_send_and_data_indications_round_trip_through_tern_turn() {
    relay_round_trip(
        &["-s"],
        &["-u", "ada", "-w", "lovelace"],
        &["--user", "ada:lovelace"],
    );
}

#[test]
fn coturn_uclient_time_limited_credentials_round_trip_through_tern_turn() {
    // uclient computes `EXPIRY:USER` and base64(HMAC-SHA1(secret, it)) itself.
    relay_round_trip(
        &[],
        &["-u", "grace", "-W", "shared-secret"],
        &[
            "--static-auth-secret",
            "shared-secret",
            "--rfc5766-channel-numbers",
        ],
    );
}

#[test]
fn tern_turn_refuses_loopback_peers_by_default() {
    let Some((client, peer)) = tools() else {
        return;
    };
    let (_peer, peer_port) = start_peer(&peer);
    let server = TernProcess::start(&[
        "turn",
        "--bind",
        "127.0.0.1:0",
        "--user",
        "ada:lovelace",
        "--rfc5766-channel-numbers",
    ]);
    let cargs: Vec<String> = [
        "-p",
        &server.addr.port().to_string(),
        "-e",
        "127.0.0.1",
        "-r",
        &peer_port.to_string(),
        "-n",
        "3",
        "-c",
        "-u",
        "ada",
        "-w",
        "lovelace",
        "127.0.0.1",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let (ok, text) = run_uclient(&client, &cargs, Duration::from_secs(60));
    assert!(
        text.contains("error 403 (Forbidden: loopback peer address)"),
        "loopback peer not refused with 403 (exit ok: {ok}):\n{text}"
    );
    assert_eq!(figure(&text, "tot_recv_msgs="), None, "{text}");
}
