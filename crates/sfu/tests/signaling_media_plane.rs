//! The SFU as tern-signal's `MediaPlane`: a real signaling flow (join,
//! Chrome's publish offer, a browser-like subscribe answer, close) creates
//! transports, fills and empties the routing table.

use std::net::SocketAddr;
use std::time::Instant;

use tern_dtls::Certificate;
use tern_sdp::subscriber::answer_like_a_browser;
use tern_sdp::SessionDescription;
use tern_sfu::{Sfu, SfuConfig};
use tern_signal::{Config, ConnectionId, Output, ServerMessage, Signaling};

const CHROME_OFFER: &str = include_str!("../../signal/tests/data/chrome_offer_audio_video.sdp");

fn json_str(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\r' => o.push_str("\\r"),
            '\n' => o.push_str("\\n"),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

fn drain(s: &mut Signaling<Sfu>) -> Vec<(ConnectionId, ServerMessage)> {
    let mut v = Vec::new();
    while let Some(o) = s.poll_output() {
        if let Output::Send { conn, message } = o {
            v.push((conn, message));
        }
    }
    v
}

#[test]
fn signaling_flow_drives_transports_and_routing() {
    let addr: SocketAddr = "127.0.0.1:40000".parse().unwrap();
    let sfu = Sfu::new(
        SfuConfig::new(addr, Certificate::generate().unwrap(), 3),
        Instant::now(),
    );
    let fp = sfu.config().certificate.fingerprint().to_string();
    let mut s = Signaling::new(Config::default(), sfu);
    let a = s.connect().unwrap();
    s.handle_message(a, br#"{"type":"join","room":"r","name":"alice"}"#);
    let alice = match &drain(&mut s)[0].1 {
        ServerMessage::Joined { participant, .. } => participant.clone(),
        m => panic!("{m:?}"),
    };
    let b = s.connect().unwrap();
    s.handle_message(b, br#"{"type":"join","room":"r","name":"bob"}"#);
    let bob = match &drain(&mut s)[0].1 {
        ServerMessage::Joined { participant, .. } => participant.clone(),
        m => panic!("{m:?}"),
    };
    let msg = format!(
        r#"{{"type":"offer","pc":"pub","sdp":{}}}"#,
        json_str(CHROME_OFFER)
    );
    s.handle_message(a, msg.as_bytes());
    let out = drain(&mut s);
    let answer = out
        .iter()
        .find_map(|(c, m)| match m {
            ServerMessage::Answer { sdp, .. } if *c == a => Some(sdp.clone()),
            _ => None,
        })
        .expect("publish answer");
    // The answer carries the SFU's identity.
    assert!(answer.contains("a=ice-lite"));
    assert!(answer.contains(&fp), "certificate fingerprint in the SDP");
    assert!(answer.contains("127.0.0.1 40000 typ host"));
    let offer = out
        .iter()
        .find_map(|(c, m)| match m {
            ServerMessage::Offer { sdp, .. } if *c == b => Some(sdp.clone()),
            _ => None,
        })
        .expect("bob gets a subscribe offer");
    assert_eq!(s.media().track_counts(&alice), Some((2, 0)));
    let sd = SessionDescription::parse(&offer).unwrap();
    let fp_hex = (0..32)
        .map(|i| format!("{i:02X}"))
        .collect::<Vec<_>>()
        .join(":");
    let ans = answer_like_a_browser(
        &sd,
        "bobu",
        "bobpassword0123456789012",
        ("sha-256", &fp_hex),
    );
    let msg = format!(
        r#"{{"type":"answer","pc":"sub","sdp":{}}}"#,
        json_str(&ans.to_sdp_string())
    );
    s.handle_message(b, msg.as_bytes());
    drain(&mut s);
    assert_eq!(
        s.media().track_counts(&bob),
        Some((0, 2)),
        "bob receives alice's audio and video"
    );
    s.handle_close(a);
    drain(&mut s);
    assert!(!s.media().has_participant(&alice));
    assert_eq!(s.media().track_counts(&bob), Some((0, 0)));
    s.handle_close(b);
    drain(&mut s);
    assert_eq!(s.media().state_size(), 0);
}
