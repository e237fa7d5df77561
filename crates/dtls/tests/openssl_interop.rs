//! Tern against the OpenSSL command-line tool over loopback UDP, in both
//! roles: `openssl s_server` with a Tern client and `openssl s_client` with
//! a Tern server, each with `-dtls1_2 -use_srtp … -keymatexport
//! EXTRACTOR-dtls_srtp`. Both sides must derive the same keying material
//! (RFC 5764 §4.2) and negotiate the offered profile; a wrong remote
//! fingerprint must fail closed in each role.
//!
//! Needs the `openssl` binary: with `TERN_REQUIRE_PEERS` set a missing
//! binary fails the test, otherwise the test is skipped with a message.
#![allow(clippy::print_stderr)]

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use tern_dtls::{Certificate, Config, Dtls, Error, Event, Fingerprint, Profile, Role, SrtpKeys};

fn openssl_present() -> bool {
    let ok = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        if std::env::var_os("TERN_REQUIRE_PEERS").is_some() {
            panic!("the openssl binary is required (TERN_REQUIRE_PEERS is set) but was not found");
        }
        eprintln!("skipping: the openssl binary is not installed");
    }
    ok
}

/// A child process that is killed when dropped, with its output lines.
struct Peer {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
    _dir: TempDir,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Peer {
    /// Wait (bounded) for a line containing `needle`; returns it.
    fn wait_for(&mut self, needle: &str, timeout: Duration) -> Option<String> {
        if let Some(l) = self.seen.iter().find(|l| l.contains(needle)) {
            return Some(l.clone());
        }
        let until = Instant::now() + timeout;
        while let Some(left) = until.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(l) => {
                    self.seen.push(l.clone());
                    if l.contains(needle) {
                        return Some(l);
                    }
                }
                Err(_) => return None,
            }
        }
        None
    }

    fn drain(&mut self) {
        while let Ok(l) = self.lines.try_recv() {
            self.seen.push(l);
        }
    }
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let p = std::env::temp_dir().join(format!("tern-dtls-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn spawn(args: &[String], dir: TempDir) -> Peer {
    let mut child = Command::new("openssl")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn openssl");
    let (tx, rx) = channel();
    let out = child.stdout.take().unwrap();
    let err = child.stderr.take().unwrap();
    let tx2 = tx.clone();
    std::thread::spawn(move || {
        for l in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    std::thread::spawn(move || {
        for l in BufReader::new(err).lines().map_while(Result::ok) {
            if tx2.send(l).is_err() {
                break;
            }
        }
    });
    Peer {
        child,
        lines: rx,
        seen: Vec::new(),
        _dir: dir,
    }
}

fn write_pems(dir: &TempDir, cert: &Certificate) -> (String, String) {
    let c = dir.0.join("cert.pem");
    let k = dir.0.join("key.pem");
    std::fs::write(&c, cert.certificate_pem().unwrap()).unwrap();
    std::fs::write(&k, cert.private_key_pem().unwrap()).unwrap();
    (c.display().to_string(), k.display().to_string())
}

fn common_args(profile: Profile, cert: &str, key: &str) -> Vec<String> {
    [
        "-dtls1_2",
        "-cert",
        cert,
        "-key",
        key,
        "-use_srtp",
        profile.dtls_name(),
        "-keymatexport",
        "EXTRACTOR-dtls_srtp",
        "-keymatexportlen",
        &profile.keying_material_len().to_string(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn parse_material(line: &str) -> Vec<u8> {
    let hex = line.rsplit(':').next().unwrap().trim();
    (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

enum Outcome {
    Connected(SrtpKeys),
    Failed(Error),
}

/// Drive `dtls` over `sock` on the wall clock until it connects or fails
/// (bounded by `timeout`). `dtls` may be created lazily from the first
/// datagram's source (the server case: the endpoint is per 5-tuple).
fn run_udp(
    sock: &UdpSocket,
    mut dtls: Option<Dtls>,
    mut make: impl FnMut(SocketAddr) -> Dtls,
    timeout: Duration,
    after_connect: &[u8],
) -> (Outcome, Dtls) {
    sock.set_read_timeout(Some(Duration::from_millis(10)))
        .unwrap();
    let until = Instant::now() + timeout;
    let mut buf = [0u8; 2048];
    let mut outcome = None;
    loop {
        assert!(Instant::now() < until, "no outcome before the timeout");
        if let Some(d) = dtls.as_mut() {
            while let Some(t) = d.poll_transmit(&mut buf) {
                sock.send_to(&buf[..t.len], t.destination).unwrap();
            }
            while let Some(e) = d.poll_event() {
                match e {
                    Event::Connected(k) => {
                        d.send_application_data(after_connect).unwrap();
                        while let Some(t) = d.poll_transmit(&mut buf) {
                            sock.send_to(&buf[..t.len], t.destination).unwrap();
                        }
                        outcome = Some(Outcome::Connected(k));
                    }
                    Event::Failed(e) => outcome = Some(Outcome::Failed(e)),
                    _ => {}
                }
            }
            if let Some(o) = outcome.take() {
                // Flush any alert before returning.
                while let Some(t) = d.poll_transmit(&mut buf) {
                    sock.send_to(&buf[..t.len], t.destination).unwrap();
                }
                return (o, dtls.unwrap());
            }
        }
        match sock.recv_from(&mut buf) {
            Ok((n, from)) => {
                let d = dtls.get_or_insert_with(|| make(from));
                d.handle_receive(Instant::now(), from, &buf[..n]);
            }
            Err(_) => {
                if let Some(d) = dtls.as_mut() {
                    if d.poll_timeout().is_some_and(|t| t <= Instant::now()) {
                        d.handle_timeout(Instant::now());
                    }
                }
            }
        }
    }
}

fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Tern client against `openssl s_server`.
fn tern_client_vs_s_server(profile: Profile, wrong_fingerprint: bool) -> Option<(Outcome, Peer)> {
    if !openssl_present() {
        return None;
    }
    let dir = TempDir::new(&format!("srv-{}-{}", profile.dtls_id(), wrong_fingerprint));
    let peer_cert = Certificate::generate().unwrap();
    let (c, k) = write_pems(&dir, &peer_cert);
    let port = free_udp_port();
    let mut args = vec![
        "s_server".to_string(),
        "-accept".into(),
        format!("127.0.0.1:{port}"),
        "-verify".into(),
        "1".into(),
    ];
    args.extend(common_args(profile, &c, &k));
    let mut peer = spawn(&args, dir);
    peer.wait_for("ACCEPT", Duration::from_secs(10))
        .expect("s_server did not start");
    let tern_cert = Certificate::generate().unwrap();
    let expect = if wrong_fingerprint {
        Certificate::generate().unwrap().fingerprint()
    } else {
        peer_cert.fingerprint()
    };
    let server: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let dtls = Dtls::new(
        Role::Client,
        server,
        &tern_cert,
        expect,
        Config::default(),
        Instant::now(),
    )
    .unwrap();
    let (outcome, _) = run_udp(
        &sock,
        Some(dtls),
        |_| unreachable!(),
        Duration::from_secs(15),
        b"tern-ping\n",
    );
    Some((outcome, peer))
}

/// `openssl s_client` against a Tern server.
fn s_client_vs_tern_server(profile: Profile, wrong_fingerprint: bool) -> Option<(Outcome, Peer)> {
    if !openssl_present() {
        return None;
    }
    let dir = TempDir::new(&format!("cli-{}-{}", profile.dtls_id(), wrong_fingerprint));
    let peer_cert = Certificate::generate().unwrap();
    let (c, k) = write_pems(&dir, &peer_cert);
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = sock.local_addr().unwrap().port();
    let mut args = vec![
        "s_client".to_string(),
        "-connect".into(),
        format!("127.0.0.1:{port}"),
    ];
    args.extend(common_args(profile, &c, &k));
    let peer = spawn(&args, dir);
    let tern_cert = Certificate::generate().unwrap();
    let expect: Fingerprint = if wrong_fingerprint {
        Certificate::generate().unwrap().fingerprint()
    } else {
        peer_cert.fingerprint()
    };
    let make = |from: SocketAddr| {
        Dtls::new(
            Role::Server,
            from,
            &tern_cert,
            expect,
            Config::default(),
            Instant::now(),
        )
        .unwrap()
    };
    let (outcome, _) = run_udp(&sock, None, make, Duration::from_secs(15), b"tern-pong\n");
    Some((outcome, peer))
}

fn expect_same_material(outcome: Outcome, mut peer: Peer, profile: Profile, echo: &str) {
    let keys = match outcome {
        Outcome::Connected(k) => k,
        Outcome::Failed(e) => {
            peer.drain();
            panic!("handshake failed: {e}; openssl said {:#?}", peer.seen)
        }
    };
    assert_eq!(keys.profile, profile);
    let line = peer
        .wait_for("Keying material:", Duration::from_secs(10))
        .unwrap_or_else(|| {
            peer.drain();
            panic!("openssl printed no keying material: {:#?}", peer.seen)
        });
    assert_eq!(
        parse_material(&line),
        keys.keying_material(),
        "identical EXTRACTOR-dtls_srtp output"
    );
    assert!(
        peer.wait_for(profile.dtls_name(), Duration::from_secs(2))
            .is_some(),
        "openssl negotiated {profile:?}"
    );
    assert!(
        peer.wait_for(echo, Duration::from_secs(5)).is_some(),
        "openssl received Tern's application data"
    );
}

#[test]
fn openssl_s_server_with_tern_client_gcm() {
    let Some((o, p)) = tern_client_vs_s_server(Profile::AeadAes128Gcm, false) else {
        return;
    };
    expect_same_material(o, p, Profile::AeadAes128Gcm, "tern-ping");
}

#[test]
fn openssl_s_server_with_tern_client_aes_cm_sha1_80() {
    let Some((o, p)) = tern_client_vs_s_server(Profile::AesCm128HmacSha1_80, false) else {
        return;
    };
    expect_same_material(o, p, Profile::AesCm128HmacSha1_80, "tern-ping");
}

#[test]
fn openssl_s_client_with_tern_server_gcm() {
    let Some((o, p)) = s_client_vs_tern_server(Profile::AeadAes128Gcm, false) else {
        return;
    };
    expect_same_material(o, p, Profile::AeadAes128Gcm, "tern-pong");
}

#[test]
fn openssl_s_client_with_tern_server_aes_cm_sha1_80() {
    let Some((o, p)) = s_client_vs_tern_server(Profile::AesCm128HmacSha1_80, false) else {
        return;
    };
    expect_same_material(o, p, Profile::AesCm128HmacSha1_80, "tern-pong");
}

#[test]
fn openssl_s_server_with_wrong_fingerprint_fails_closed_on_tern_client() {
    let Some((o, _p)) = tern_client_vs_s_server(Profile::AeadAes128Gcm, true) else {
        return;
    };
    assert!(
        matches!(o, Outcome::Failed(Error::FingerprintMismatch)),
        "no keys on mismatch"
    );
}

#[test]
fn openssl_s_client_with_wrong_fingerprint_fails_closed_on_tern_server() {
    let Some((o, _p)) = s_client_vs_tern_server(Profile::AeadAes128Gcm, true) else {
        return;
    };
    assert!(
        matches!(o, Outcome::Failed(Error::FingerprintMismatch)),
        "no keys on mismatch"
    );
}
