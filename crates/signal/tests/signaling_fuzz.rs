//! Thousands of random and mutated messages into the signaling state
//! machine from many connections: no panic, invariants hold after every
//! step, state stays within its caps, and closing everything frees
//! everything.

use serde_json::{json, Value};
use tern_sdp::subscriber::answer_like_a_browser;
use tern_sdp::SessionDescription;
use tern_signal::*;

const CHROME_OFFER: &str = include_str!("data/chrome_offer_audio_video.sdp");
const FIREFOX_OFFER: &str = include_str!("data/firefox_offer_audio_video.sdp");

struct Rng<F: FnMut() -> u64>(F);
impl<F: FnMut() -> u64> Rng<F> {
    fn next(&mut self) -> u64 {
        (self.0)()
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn random_value(r: &mut Rng<impl FnMut() -> u64>, depth: u32) -> Value {
    match r.below(if depth > 2 { 5 } else { 7 }) {
        0 => Value::Null,
        1 => json!(r.below(2) == 0),
        2 => json!(r.next() as i64),
        3 => {
            let long = "x".repeat(70);
            let pick = ["", "pub", "sub", "join", "r", "p1", "0", "é", long.as_str()][r.below(9)];
            json!(pick)
        }
        4 => json!(1.5e300),
        5 => Value::Array(
            (0..r.below(3))
                .map(|_| random_value(r, depth + 1))
                .collect(),
        ),
        _ => {
            let mut m = serde_json::Map::new();
            for _ in 0..r.below(4) {
                let k = ["type", "room", "name", "pc", "sdp", "candidate", "id", "q"][r.below(8)];
                m.insert(k.into(), random_value(r, depth + 1));
            }
            Value::Object(m)
        }
    }
}

fn valid_message(r: &mut Rng<impl FnMut() -> u64>, last_offer: Option<&String>) -> Value {
    let rooms = ["a", "b", "c"];
    match r.below(9) {
        0 | 1 => {
            json!({"type":"join","room":rooms[r.below(3)],"name":format!("n{}", r.below(100)),"id":r.below(10)})
        }
        2 => json!({"type":"offer","pc":"pub","sdp":CHROME_OFFER,"id":"o"}),
        3 => json!({"type":"offer","pc":"pub","sdp":FIREFOX_OFFER}),
        4 | 5 => match last_offer {
            Some(o) => {
                let sd = SessionDescription::parse(o).unwrap();
                let a = answer_like_a_browser(
                    &sd,
                    "cliu",
                    "clientpassword012345678",
                    ("sha-256", "AB:CD"),
                );
                json!({"type":"answer","pc":"sub","sdp":a.to_sdp_string()})
            }
            None => json!({"type":"answer","pc":"sub","sdp":"v=0"}),
        },
        6 => {
            let pc = ["pub", "sub"][r.below(2)];
            json!({"type":"candidate","pc":pc,"candidate":null})
        }
        7 => json!({"type":"leave"}),
        _ => json!({"type":"nope"}),
    }
}

fn mutate(r: &mut Rng<impl FnMut() -> u64>, mut bytes: Vec<u8>) -> Vec<u8> {
    for _ in 0..=r.below(4) {
        if bytes.is_empty() {
            break;
        }
        let i = r.below(bytes.len());
        match r.below(5) {
            0 => bytes[i] = r.next() as u8,
            1 => bytes.truncate(i),
            2 => {
                bytes.remove(i);
            }
            3 => bytes.insert(i, b"{}[]\",:\\0"[r.below(9)]),
            _ => {
                let j = r.below(bytes.len());
                bytes.swap(i, j);
            }
        }
    }
    bytes
}

#[test]
fn random_and_mutated_messages_never_panic_and_state_stays_bounded() {
    let config = Config {
        max_connections: 16,
        max_rooms: 2,
        max_participants_per_room: 4,
        max_pending_per_connection: 32,
        ..Config::default()
    };
    let mut seen: std::collections::BTreeMap<&'static str, usize> = Default::default();
    for seed in 1..=6u64 {
        let mut r = Rng(tern_testkit::xorshift64(0x9E37_79B9_7F4A_7C15 ^ seed));
        let mut s = Signaling::new(config.clone(), RecordingMediaPlane::new());
        let mut conns: Vec<ConnectionId> = Vec::new();
        let mut offers: std::collections::BTreeMap<ConnectionId, String> = Default::default();
        for _ in 0..1500 {
            match r.below(20) {
                0 => {
                    if let Ok(c) = s.connect() {
                        conns.push(c);
                    }
                }
                1 if !conns.is_empty() => {
                    let c = conns.swap_remove(r.below(conns.len()));
                    s.handle_close(c);
                }
                2 if !conns.is_empty() => {
                    let c = conns[r.below(conns.len())];
                    s.handle_oversized(c, 70_000);
                }
                _ if !conns.is_empty() => {
                    let c = conns[r.below(conns.len())];
                    let msg = match r.below(4) {
                        0 => random_value(&mut r, 0).to_string().into_bytes(),
                        1 => {
                            let v = valid_message(&mut r, offers.get(&c)).to_string();
                            mutate(&mut r, v.into_bytes())
                        }
                        _ => valid_message(&mut r, offers.get(&c))
                            .to_string()
                            .into_bytes(),
                    };
                    s.handle_message(c, &msg);
                }
                _ => {}
            }
            // Drain only sometimes, so queues fill up.
            if r.below(4) != 0 {
                while let Some(o) = s.poll_output() {
                    match o {
                        Output::Send { conn, message } => {
                            assert!(message.to_json().len() < 4 * MAX_MESSAGE_LEN);
                            *seen.entry(message.type_name()).or_default() += 1;
                            if let ServerMessage::Offer { sdp, .. } = message {
                                offers.insert(conn, sdp);
                            }
                        }
                        Output::Close { conn } => {
                            conns.retain(|c| *c != conn);
                            offers.remove(&conn);
                        }
                    }
                }
            }
            s.check_invariants().unwrap();
            let n = s.counts();
            assert!(
                n.connections <= 16 && n.rooms <= 2 && n.participants <= 8,
                "{n:?}"
            );
            assert!(n.pending_outputs <= 16 * 33 + 16, "{n:?}");
            assert!(s.media().calls.len() <= RecordingMediaPlane::MAX_CALLS);
        }
        for c in conns.drain(..) {
            s.handle_close(c);
        }
        while s.poll_output().is_some() {}
        assert_eq!(s.counts(), Counts::default(), "seed {seed}");
        assert!(s.media().live.is_empty(), "seed {seed}: media state leaked");
    }
    // The run reached every kind of server message.
    for t in [
        "joined",
        "answer",
        "offer",
        "tracks",
        "participant-joined",
        "participant-left",
        "error",
    ] {
        assert!(
            seen.get(t).copied().unwrap_or(0) > 0,
            "{t} never sent: {seen:?}"
        );
    }
}
