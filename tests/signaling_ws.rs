//! `tern serve` end to end over real WebSockets: signaling v1 flows, every
//! error code the binary can produce from the network, WebSocket framing
//! (fragmentation, ping/pong, close, binary, oversized, protocol errors),
//! state freed after leave and socket close, the demo page, the config
//! file, TLS, and clean shutdown on SIGTERM/SIGINT.

mod common;

use common::ws::{body, http_get, WsClient};
use common::TernProcess;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tern_sdp::subscriber::answer_like_a_browser;
use tern_sdp::SessionDescription;

const CHROME_OFFER: &str = include_str!("../crates/signal/tests/data/chrome_offer_audio_video.sdp");
const FIREFOX_OFFER: &str =
    include_str!("../crates/signal/tests/data/firefox_offer_audio_video.sdp");

fn serve(extra: &[&str]) -> TernProcess {
    // Media port 0: parallel tests each bind their own media socket.
    let mut args = vec![
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--media-port",
        "0",
        "--log-level",
        "warn",
    ];
    args.extend_from_slice(extra);
    TernProcess::start(&args)
}

fn state(server: &TernProcess) -> Value {
    let (status, resp) = http_get(server.addr, "/debug/state", "");
    assert!(status.contains(" 200 "), "{status}");
    serde_json::from_str(body(&resp)).unwrap()
}

/// Polls /debug/state until it matches (the server frees state right after
/// the socket event, but the test cannot observe that instant).
fn wait_state(server: &TernProcess, rooms: u64, participants: u64, connections: u64) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let s = state(server);
        if s["rooms"] == rooms
            && s["participants"] == participants
            && s["connections"] == connections
        {
            assert_eq!(s["media_participants"], participants, "{s}");
            return;
        }
        assert!(Instant::now() < deadline, "state stayed {s}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn join(server: &TernProcess, room: &str, name: &str) -> (WsClient, String) {
    let mut c = WsClient::connect(server.addr);
    c.send_json(&json!({"type":"join","room":room,"name":name,"id":"j"}));
    let j = c.recv_json();
    assert_eq!(j["type"], "joined", "{j}");
    assert_eq!(j["id"], "j");
    (c, j["participant"].as_str().unwrap().to_owned())
}

fn browser_answer(offer: &str) -> String {
    let sd = SessionDescription::parse(offer).unwrap();
    answer_like_a_browser(&sd, "cliu", "clientpassword012345678", ("sha-256", "AB:CD"))
        .to_sdp_string()
}

#[test]
fn two_participants_publish_and_subscribe_over_websocket() {
    let server = serve(&[]);
    let (mut bob, bob_id) = join(&server, "demo", "bob");
    let mut alice = WsClient::connect(server.addr);
    alice.send_text(r#"{"type":"join","room":"demo","name":"alice","id":1}"#);
    let j = alice.recv_json();
    assert_eq!(j["type"], "joined");
    assert_eq!(j["id"], 1);
    assert_eq!(j["room"], "demo");
    assert_eq!(
        j["participants"],
        json!([{"participant": bob_id, "name":"bob"}])
    );
    assert_eq!(j["iceServers"], json!([]));
    let alice_id = j["participant"].as_str().unwrap().to_owned();
    assert_eq!(
        bob.recv_json(),
        json!({"type":"participant-joined","participant":alice_id,"name":"alice"})
    );

    // Alice publishes; the answer is ICE-lite with a real fingerprint and
    // the announced host candidate.
    alice.send_json(&json!({"type":"offer","pc":"pub","sdp":CHROME_OFFER,"id":2}));
    let a = alice.recv_json();
    assert_eq!(
        (a["type"].as_str(), a["pc"].as_str(), &a["id"]),
        (Some("answer"), Some("pub"), &json!(2))
    );
    let sdp = a["sdp"].as_str().unwrap();
    assert!(sdp.contains("a=ice-lite"));
    assert!(sdp.contains("a=fingerprint:sha-256 "));
    // The media socket's port (the test asks for port 0: a free one).
    let port: u16 = sdp
        .split("a=candidate:1 1 udp 2130706431 127.0.0.1 ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|p| p.parse().ok())
        .expect("host candidate at 127.0.0.1");
    assert_ne!(port, 0, "{sdp}");
    let answer = SessionDescription::parse(sdp).unwrap();
    let ufrag = answer.media[0].ice_ufrag().unwrap();
    assert!(ufrag.len() >= 4);

    // Bob: tracks, then the subscribe offer; stream id = Alice.
    let t = bob.recv_json();
    assert_eq!(t["type"], "tracks");
    assert_eq!(
        t["tracks"][0],
        json!({"participant":alice_id,"name":"alice","mid":"0","kind":"audio","stream":alice_id})
    );
    assert_eq!(t["tracks"][1]["kind"], "video");
    let o = bob.recv_json();
    assert_eq!(
        (o["type"].as_str(), o["pc"].as_str()),
        (Some("offer"), Some("sub"))
    );
    let offer = o["sdp"].as_str().unwrap().to_owned();
    let sd = SessionDescription::parse(&offer).unwrap();
    assert!(sd
        .media
        .iter()
        .all(|m| m.msids().next().unwrap().stream_id == alice_id));
    // Subscribe transport credentials differ from the publish ones.
    assert_ne!(sd.media[0].ice_ufrag().unwrap(), ufrag);

    // Bob publishes before answering: Alice gets Bob's tracks; Bob gets
    // nothing new while his offer is outstanding.
    bob.send_json(&json!({"type":"offer","pc":"pub","sdp":FIREFOX_OFFER}));
    assert_eq!(bob.recv_json()["type"], "answer");
    assert_eq!(alice.recv_json()["type"], "tracks");
    assert_eq!(alice.recv_json()["type"], "offer");
    assert!(bob.silent_for(Duration::from_millis(200)));
    // Bob answers: no reply (his set did not change).
    bob.send_json(&json!({"type":"answer","pc":"sub","sdp":browser_answer(&offer)}));
    bob.send_json(&json!({"type":"candidate","pc":"sub","candidate":{"candidate":"candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host","sdpMid":"0","sdpMLineIndex":0}}));
    bob.send_json(&json!({"type":"candidate","pc":"sub","candidate":null}));
    assert!(bob.silent_for(Duration::from_millis(200)));
    wait_state(&server, 1, 2, 2);

    // Alice leaves: closed; Bob hears and is renegotiated without her.
    alice.send_text(r#"{"type":"leave"}"#);
    assert_eq!(alice.recv_close(), Some(1000));
    assert_eq!(
        bob.recv_json(),
        json!({"type":"participant-left","participant":alice_id})
    );
    let t = bob.recv_json();
    assert_eq!(t, json!({"type":"tracks","tracks":[]}));
    assert_eq!(bob.recv_json()["type"], "offer");
    wait_state(&server, 1, 1, 1);
    // Bob's socket just drops: everything is freed.
    drop(bob);
    wait_state(&server, 0, 0, 0);
}

#[test]
fn every_network_reachable_error_code_with_its_connection_behaviour() {
    let server = serve(&["--max-participants", "2"]);
    let (mut bystander, _) = join(&server, "other", "bystander");
    let mut c = WsClient::connect(server.addr);
    // bad-request: not JSON, stays open.
    c.send_text("this is not json");
    assert_eq!(c.recv_error().0, "bad-request");
    // not-joined, id echoed.
    c.send_text(r#"{"type":"offer","pc":"pub","sdp":"v=0","id":"o1"}"#);
    assert_eq!(c.recv_error(), ("not-joined".into(), json!("o1")));
    // unsupported.
    c.send_text(r#"{"type":"dance","id":3}"#);
    assert_eq!(c.recv_error(), ("unsupported".into(), json!(3)));
    // bad-request for a bad room name.
    c.send_text(r#"{"type":"join","room":"no spaces","name":"n","id":4}"#);
    assert_eq!(c.recv_error(), ("bad-request".into(), json!(4)));
    // Join, then already-joined.
    c.send_text(r#"{"type":"join","room":"r","name":"n"}"#);
    assert_eq!(c.recv_json()["type"], "joined");
    c.send_text(r#"{"type":"join","room":"r","name":"n","id":5}"#);
    assert_eq!(c.recv_error(), ("already-joined".into(), json!(5)));
    // bad-request for an invalid SDP, unsupported for nothing acceptable.
    c.send_json(&json!({"type":"offer","pc":"pub","sdp":"v=0\r\nnonsense"}));
    assert_eq!(c.recv_error().0, "bad-request");
    let dc = include_str!("../crates/signal/tests/data/chrome_offer_datachannel_only.sdp");
    c.send_json(&json!({"type":"offer","pc":"pub","sdp":dc}));
    assert_eq!(c.recv_error().0, "unsupported");
    // Out of order: an answer with no subscribe offer outstanding.
    c.send_json(&json!({"type":"answer","pc":"sub","sdp":"v=0"}));
    assert_eq!(c.recv_error().0, "bad-request");
    // Still joined and working.
    c.send_json(&json!({"type":"offer","pc":"pub","sdp":CHROME_OFFER}));
    assert_eq!(c.recv_json()["type"], "answer");

    // room-full: error, then the server closes.
    let (_second, _) = join(&server, "r", "second");
    assert_eq!(c.recv_json()["type"], "participant-joined");
    let mut third = WsClient::connect(server.addr);
    third.send_text(r#"{"type":"join","room":"r","name":"third","id":9}"#);
    assert_eq!(third.recv_error(), ("room-full".into(), json!(9)));
    assert_eq!(third.recv_close(), Some(1000));
    assert!(third.reaches_eof());

    // None of this touched the other room.
    assert!(bystander.silent_for(Duration::from_millis(100)));
    bystander.send_json(&json!({"type":"offer","pc":"pub","sdp":FIREFOX_OFFER,"id":1}));
    assert_eq!(bystander.recv_json()["id"], 1);
    wait_state(&server, 2, 3, 3);
}

#[test]
fn oversized_binary_and_fragmented_messages() {
    let server = serve(&[]);
    let mut c = WsClient::connect(server.addr);
    // 70 KB text message in one frame: bad-request, connection kept.
    let big = format!(
        r#"{{"type":"join","room":"r","name":"{}"}}"#,
        "x".repeat(70_000)
    );
    c.send_text(&big);
    assert_eq!(c.recv_error().0, "bad-request");
    // The same over many fragments.
    let bytes = big.as_bytes();
    let chunks: Vec<&[u8]> = bytes.chunks(1000).collect();
    for (i, ch) in chunks.iter().enumerate() {
        let opcode = if i == 0 { 1 } else { 0 };
        c.send_raw(&WsClient::frame(i + 1 == chunks.len(), opcode, ch));
    }
    assert_eq!(c.recv_error().0, "bad-request");
    // Binary: rejected with bad-request, connection kept.
    c.send_raw(&WsClient::frame(true, 2, br#"{"type":"join"}"#));
    assert_eq!(c.recv_error().0, "bad-request");
    // A fragmented join with a ping in the middle: pong, then joined.
    let join = br#"{"type":"join","room":"r","name":"frag","id":"f"}"#;
    c.send_raw(&WsClient::frame(false, 1, &join[..10]));
    c.send_raw(&WsClient::frame(true, 9, b"are you there"));
    c.send_raw(&WsClient::frame(false, 0, &join[10..20]));
    c.send_raw(&WsClient::frame(true, 0, &join[20..]));
    let pong = c.recv_frame().unwrap();
    assert_eq!(
        (pong.opcode, pong.payload.as_slice()),
        (10, &b"are you there"[..])
    );
    let j = c.recv_json();
    assert_eq!(
        (j["type"].as_str(), &j["id"]),
        (Some("joined"), &json!("f"))
    );
    // Exactly 64 KiB is accepted.
    let head = r#"{"type":"candidate","pc":"pub","candidate":null,"pad":""#;
    let text = format!("{head}{}\"}}", "p".repeat(65536 - head.len() - 2));
    assert_eq!(text.len(), 65536);
    c.send_text(&text);
    assert!(c.silent_for(Duration::from_millis(200)));
    // Invalid UTF-8 in a text message: bad-request.
    c.send_raw(&WsClient::frame(true, 1, b"{\"type\":\"\xff\"}"));
    assert_eq!(c.recv_error().0, "bad-request");
    // Client close: echoed, then EOF; state freed.
    c.send_close(1000);
    assert_eq!(c.recv_close(), Some(1000));
    assert!(c.reaches_eof());
    wait_state(&server, 0, 0, 0);
}

#[test]
fn websocket_protocol_violations_fail_only_that_connection() {
    let server = serve(&[]);
    let (mut keeper, _) = join(&server, "r", "keeper");
    let violations: Vec<Vec<u8>> = vec![
        // Unmasked client frame.
        vec![0x81, 0x02, b'h', b'i'],
        // Continuation with no message.
        WsClient::frame(true, 0, b"x"),
        // Reserved opcode.
        WsClient::frame(true, 3, b"x"),
        // Fragmented ping.
        WsClient::frame(false, 9, b"x"),
        // RSV1 set.
        {
            let mut f = WsClient::frame(true, 1, b"{}");
            f[0] |= 0x40;
            f
        },
    ];
    for (i, v) in violations.iter().enumerate() {
        let (mut c, _) = join(&server, "r", &format!("bad{i}"));
        assert_eq!(keeper.recv_json()["type"], "participant-joined");
        c.send_raw(v);
        assert_eq!(c.recv_close(), Some(1002), "case {i}");
        assert!(c.reaches_eof());
        assert_eq!(keeper.recv_json()["type"], "participant-left", "case {i}");
    }
    wait_state(&server, 1, 1, 1);
    keeper.send_json(&json!({"type":"offer","pc":"pub","sdp":CHROME_OFFER}));
    assert_eq!(keeper.recv_json()["type"], "answer");
}

#[test]
fn many_clients_churn_and_all_state_is_freed() {
    let server = serve(&[]);
    let mut clients = Vec::new();
    for i in 0..24 {
        let room = format!("room-{}", i % 4);
        let (mut c, _) = join(&server, &room, &format!("n{i}"));
        c.send_json(&json!({"type":"offer","pc":"pub","sdp":CHROME_OFFER}));
        clients.push(c);
    }
    wait_state(&server, 4, 24, 24);
    // Half leave politely, half just vanish.
    for (i, mut c) in clients.into_iter().enumerate() {
        if i % 2 == 0 {
            c.send_text(r#"{"type":"leave"}"#);
        }
    }
    wait_state(&server, 0, 0, 0);
}

#[test]
fn http_routes_demo_page_and_refusals() {
    let server = serve(&[]);
    let (status, resp) = http_get(server.addr, "/", "");
    assert!(status.contains(" 200 "), "{status}");
    assert!(resp.contains("Content-Type: text/html"));
    let page = body(&resp);
    for needle in [
        "/ws",
        "RTCPeerConnection",
        "getStats",
        "streams[0]",
        "tracks",
        "leave",
    ] {
        assert!(page.contains(needle), "demo page lacks {needle}");
    }
    let (status, _) = http_get(server.addr, "/?room=a&name=b", "");
    assert!(status.contains(" 200 "));
    let (status, _) = http_get(server.addr, "/nope", "");
    assert!(status.contains(" 404 "), "{status}");
    let (status, _) = http_get(server.addr, "/ws", "");
    assert!(status.contains(" 400 "), "{status}");
    let (status, resp) = http_get(
        server.addr,
        "/ws",
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n",
    );
    assert!(status.contains(" 426 "), "{status}");
    assert!(resp.contains("Sec-WebSocket-Version: 13"));
    let s = state(&server);
    for (k, v) in [
        ("rooms", 0),
        ("participants", 0),
        ("connections", 0),
        ("media_participants", 0),
        ("media_rooms", 0),
        ("media_state_size", 0),
    ] {
        assert_eq!(s[k], v, "{k}: {s}");
    }
}

#[test]
fn config_file_sets_limits_and_flags_override_it() {
    let dir = std::env::temp_dir().join(format!("tern-serve-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("tern.toml");
    std::fs::write(
        &path,
        "listen = \"127.0.0.1:0\"\nmedia_address = \"127.0.0.2\"\nmedia_port = 41000\nmax_participants = 1\nlog_level = \"warn\"\n",
    )
    .unwrap();
    let server = TernProcess::start(&[
        "serve",
        "--config",
        path.to_str().unwrap(),
        "--media-port",
        "42000",
    ]);
    let (mut a, _) = join(&server, "r", "a");
    a.send_json(&json!({"type":"offer","pc":"pub","sdp":CHROME_OFFER}));
    let sdp = a.recv_json()["sdp"].as_str().unwrap().to_owned();
    assert!(sdp.contains("127.0.0.2 42000 typ host"), "{sdp}");
    let mut b = WsClient::connect(server.addr);
    b.send_text(r#"{"type":"join","room":"r","name":"b"}"#);
    assert_eq!(b.recv_error().0, "room-full");
    // A bad config file is an error at start-up.
    std::fs::write(&path, "listen = 5\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tern"))
        .args(["serve", "--config", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    std::fs::write(&path, "no_such_key = 1\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tern"))
        .args(["serve", "--config", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sigterm_and_sigint_shut_down_cleanly_and_close_websockets() {
    for signal in ["TERM", "INT"] {
        let mut server = serve(&[]);
        let (mut c, _) = join(&server, "r", "n");
        let status = server
            .signal_and_wait(signal, Duration::from_secs(5))
            .expect("exits");
        assert!(status.success(), "{signal}: {status:?}");
        assert_eq!(c.recv_close(), Some(1001), "{signal}: going away");
    }
}

/// HTTPS and WSS with `--tls-cert`/`--tls-key` (a self-signed certificate
/// made with the openssl command, which the test command installs).
#[test]
fn tls_serves_https_and_wss() {
    use std::io::{Read, Write};
    use std::sync::Arc;
    let Some(openssl) = common::which("openssl") else {
        assert!(!common::peers_required(), "openssl is missing");
        return;
    };
    let dir = std::env::temp_dir().join(format!("tern-serve-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let ok = std::process::Command::new(openssl)
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
        ])
        .args([
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap()
        .success();
    assert!(ok, "openssl req failed");
    let server = serve(&[
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ]);

    use rustls::pki_types::{pem::PemObject, CertificateDer, ServerName};
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(&cert).unwrap())
        .unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connect = || {
        let conn = rustls::ClientConnection::new(
            Arc::new(config.clone()),
            ServerName::try_from("localhost").unwrap(),
        )
        .unwrap();
        let tcp = std::net::TcpStream::connect(server.addr).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        rustls::StreamOwned::new(conn, tcp)
    };
    // HTTPS GET of the debug state.
    let mut s = connect();
    s.write_all(b"GET /debug/state HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("HTTP/1.1 200 "), "{text}");
    assert!(text.contains("\"rooms\":0"));
    // WSS: handshake and a join.
    let mut s = connect();
    s.write_all(b"GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").unwrap();
    let mut got = Vec::new();
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        let mut b = [0u8; 1024];
        let n = s.read(&mut b).unwrap();
        assert!(n > 0);
        got.extend_from_slice(&b[..n]);
    }
    assert!(got.starts_with(b"HTTP/1.1 101 "));
    let head_end = got.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let mut rest = got[head_end..].to_vec();
    s.write_all(&WsClient::frame(
        true,
        1,
        br#"{"type":"join","room":"tls","name":"t","id":1}"#,
    ))
    .unwrap();
    while rest.len() < 2 || rest.len() < 2 + usize::from(rest[1] & 0x7f) {
        let mut b = [0u8; 1024];
        let n = s.read(&mut b).unwrap();
        assert!(n > 0);
        rest.extend_from_slice(&b[..n]);
    }
    assert_eq!(rest[0], 0x81);
    let len = usize::from(rest[1] & 0x7f);
    assert!(len < 126);
    let msg: Value = serde_json::from_slice(&rest[2..2 + len]).unwrap();
    assert_eq!(msg["type"], "joined");
    assert_eq!(msg["id"], 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn silent_websockets_are_pinged_then_dropped_and_freed() {
    let server = TernProcess::serve_with_config(
        "serve-ping",
        "ws_ping_secs = 1\nlog_level = \"warn\"\n",
        &[],
    );
    let (mut alive, _) = join(&server, "r", "alive");
    let (mut silent, _) = join(&server, "r", "silent");
    assert_eq!(alive.recv_json()["type"], "participant-joined");
    let start = Instant::now();
    // The silent one gets a ping after ~1 s and, not answering, is closed
    // after ~3 s of silence; the one answering pings stays.
    let ping = silent.recv_frame().unwrap();
    assert_eq!(ping.opcode, 9);
    loop {
        let f = alive.recv_frame().unwrap();
        match f.opcode {
            9 => alive.send_raw(&WsClient::frame(true, 10, &f.payload)),
            1 => {
                let m: Value = serde_json::from_slice(&f.payload).unwrap();
                assert_eq!(m["type"], "participant-left");
                break;
            }
            other => panic!("unexpected opcode {other}"),
        }
        assert!(start.elapsed() < Duration::from_secs(10));
    }
    assert!(start.elapsed() >= Duration::from_secs(2));
    assert_eq!(silent.recv_close(), Some(1001));
    wait_state(&server, 1, 1, 1);
}
