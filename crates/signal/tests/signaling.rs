//! Signaling v1 at the sans-IO level: every message flow and every error
//! code of `shared/specs/signaling-v1.md`, with the connection behaviour
//! the spec gives each.

use serde_json::{json, Value};
use tern_sdp::subscriber::answer_like_a_browser;
use tern_sdp::SessionDescription;
use tern_signal::*;

const CHROME_OFFER: &str = include_str!("data/chrome_offer_audio_video.sdp");
const FIREFOX_OFFER: &str = include_str!("data/firefox_offer_audio_video.sdp");
const DATA_ONLY_OFFER: &str = include_str!("data/chrome_offer_datachannel_only.sdp");

struct H {
    s: Signaling<RecordingMediaPlane>,
}

/// What one connection got from one drain.
#[derive(Debug, Default)]
struct Got {
    msgs: Vec<Value>,
    closed: bool,
}

impl Got {
    fn types(&self) -> Vec<String> {
        self.msgs
            .iter()
            .map(|m| m["type"].as_str().unwrap().to_owned())
            .collect()
    }
    fn only(&self) -> &Value {
        assert_eq!(self.msgs.len(), 1, "{:?}", self.msgs);
        &self.msgs[0]
    }
    fn error(&self) -> (&str, &Value) {
        let m = self.only();
        assert_eq!(m["type"], "error", "{m}");
        assert!(m["message"].is_string());
        (m["code"].as_str().unwrap(), &m["id"])
    }
}

impl H {
    fn new() -> Self {
        Self::with(Config::default())
    }
    fn with(config: Config) -> Self {
        H {
            s: Signaling::new(config, RecordingMediaPlane::new()),
        }
    }
    fn conn(&mut self) -> ConnectionId {
        self.s.connect().unwrap()
    }
    /// Sends and drains: what each connection got.
    fn send(
        &mut self,
        conn: ConnectionId,
        text: &str,
    ) -> std::collections::BTreeMap<ConnectionId, Got> {
        self.s.handle_message(conn, text.as_bytes());
        self.drain()
    }
    fn send_v(
        &mut self,
        conn: ConnectionId,
        v: Value,
    ) -> std::collections::BTreeMap<ConnectionId, Got> {
        self.send(conn, &v.to_string())
    }
    fn drain(&mut self) -> std::collections::BTreeMap<ConnectionId, Got> {
        let mut out: std::collections::BTreeMap<ConnectionId, Got> = Default::default();
        let mut closed = std::collections::BTreeSet::new();
        while let Some(o) = self.s.poll_output() {
            match o {
                Output::Send { conn, message } => {
                    assert!(!closed.contains(&conn), "frame after close");
                    let text = message.to_json();
                    assert!(text.len() <= MAX_MESSAGE_LEN * 2);
                    // Round trip through the typed form.
                    let back: ServerMessage = serde_json::from_str(&text).unwrap();
                    assert_eq!(back, message);
                    out.entry(conn)
                        .or_default()
                        .msgs
                        .push(serde_json::from_str(&text).unwrap());
                }
                Output::Close { conn } => {
                    closed.insert(conn);
                    out.entry(conn).or_default().closed = true;
                }
            }
        }
        self.s.check_invariants().unwrap();
        out
    }
    /// Joins and returns (connection, participant id, what others got).
    fn join(&mut self, room: &str, name: &str) -> (ConnectionId, String) {
        let c = self.conn();
        let got = self.send_v(c, json!({"type":"join","room":room,"name":name}));
        let j = &got[&c].msgs[0];
        assert_eq!(j["type"], "joined");
        (c, j["participant"].as_str().unwrap().to_owned())
    }
    fn publish(
        &mut self,
        c: ConnectionId,
        sdp: &str,
    ) -> std::collections::BTreeMap<ConnectionId, Got> {
        self.send_v(c, json!({"type":"offer","pc":"pub","sdp":sdp}))
    }
    /// Answers a subscribe offer like a browser.
    fn answer(
        &mut self,
        c: ConnectionId,
        offer: &str,
    ) -> std::collections::BTreeMap<ConnectionId, Got> {
        let sd = SessionDescription::parse(offer).unwrap();
        let ans =
            answer_like_a_browser(&sd, "cliu", "clientpassword012345678", ("sha-256", "AB:CD"));
        self.send_v(
            c,
            json!({"type":"answer","pc":"sub","sdp":ans.to_sdp_string()}),
        )
    }
}

fn offer_sdp(got: &Got) -> String {
    let offers: Vec<&Value> = got.msgs.iter().filter(|m| m["type"] == "offer").collect();
    assert_eq!(offers.len(), 1, "{:?}", got.msgs);
    assert_eq!(offers[0]["pc"], "sub");
    offers[0]["sdp"].as_str().unwrap().to_owned()
}

// ---------------------------------------------------------------- flows

#[test]
fn join_replies_joined_with_echoed_id_and_existing_participants() {
    let mut h = H::new();
    let (bob, bob_id) = h.join("demo", "bob");
    let alice = h.conn();
    let got = h.send(
        alice,
        r#"{"type":"join","room":"demo","name":"alice","id":1}"#,
    );
    let j = got[&alice].only();
    assert_eq!(j["type"], "joined");
    assert_eq!(j["id"], 1);
    assert_eq!(j["room"], "demo");
    assert_eq!(
        j["participants"],
        json!([{"participant": bob_id, "name": "bob"}])
    );
    assert_eq!(j["iceServers"], json!([]));
    let me = j["participant"].as_str().unwrap();
    assert_ne!(me, bob_id);
    // The other participant hears of it.
    assert_eq!(
        got[&bob].only(),
        &json!({"type":"participant-joined","participant":me,"name":"alice"})
    );
    // String ids are echoed too.
    let carol = h.conn();
    let got = h.send(
        carol,
        r#"{"type":"join","room":"demo","name":"carol","id":"j-1"}"#,
    );
    assert_eq!(got[&carol].only()["id"], "j-1");
}

#[test]
fn ice_servers_come_from_the_config() {
    let mut h = H::with(Config {
        ice_servers: vec![IceServer {
            urls: vec!["stun:127.0.0.1:3478".into()],
            username: None,
            credential: None,
        }],
        ..Config::default()
    });
    let c = h.conn();
    let got = h.send(c, r#"{"type":"join","room":"r","name":"n"}"#);
    assert_eq!(
        got[&c].only()["iceServers"],
        json!([{"urls":["stun:127.0.0.1:3478"]}])
    );
}

#[test]
fn ice_server_provider_adds_per_participant_servers_at_join() {
    let mut h = H::with(Config {
        ice_servers: vec![IceServer {
            urls: vec!["stun:127.0.0.1:3478".into()],
            username: None,
            credential: None,
        }],
        ice_server_provider: Some(tern_signal::IceServerProvider::new(|p| {
            vec![IceServer {
                urls: vec!["turn:127.0.0.1:3478?transport=udp".into()],
                username: Some(format!("1000:{p}")),
                credential: Some(format!("secret-for-{p}")),
            }]
        })),
        ..Config::default()
    });
    for name in ["a", "b"] {
        let c = h.conn();
        let got = h.send(
            c,
            &format!(r#"{{"type":"join","room":"r","name":"{name}"}}"#),
        );
        let j = got[&c].only();
        let p = j["participant"].as_str().unwrap().to_owned();
        assert_eq!(
            j["iceServers"],
            json!([
                {"urls": ["stun:127.0.0.1:3478"]},
                {"urls": ["turn:127.0.0.1:3478?transport=udp"],
                 "username": format!("1000:{p}"), "credential": format!("secret-for-{p}")}
            ])
        );
    }
}

#[test]
fn unknown_fields_are_ignored() {
    let mut h = H::new();
    let c = h.conn();
    let got = h.send(
        c,
        r#"{"type":"join","room":"r","name":"n","extra":{"deep":[1,2]},"v":2}"#,
    );
    assert_eq!(got[&c].only()["type"], "joined");
    let got = h.send(
        c,
        r#"{"type":"candidate","pc":"pub","candidate":null,"x":1}"#,
    );
    assert!(got.is_empty());
}

#[test]
fn publish_offer_is_answered_ice_lite_and_others_get_tracks_then_offer() {
    let mut h = H::new();
    let (bob, bob_id) = h.join("demo", "bob");
    let (alice, alice_id) = h.join("demo", "alice");
    h.drain();
    let got = h.send_v(
        alice,
        json!({"type":"offer","pc":"pub","sdp":CHROME_OFFER,"id":7}),
    );
    let a = got[&alice].only();
    assert_eq!(a["type"], "answer");
    assert_eq!(a["pc"], "pub");
    assert_eq!(a["id"], 7);
    let sdp = a["sdp"].as_str().unwrap();
    assert!(sdp.contains("a=ice-lite"), "{sdp}");
    assert!(sdp.contains("a=ice-ufrag:pub0002"), "{sdp}");
    assert!(sdp.contains("a=candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host"));
    // Bob: tracks, just before the offer.
    let b = &got[&bob];
    assert_eq!(b.types(), ["tracks", "offer"]);
    let tracks = b.msgs[0]["tracks"].as_array().unwrap();
    assert_eq!(tracks.len(), 2);
    assert_eq!(
        tracks[0],
        json!({"participant":alice_id,"name":"alice","mid":"0","kind":"audio","stream":alice_id})
    );
    assert_eq!(tracks[1]["kind"], "video");
    assert_eq!(tracks[1]["mid"], "1");
    // msid stream id = publishing participant.
    let offer = offer_sdp(b);
    let sd = SessionDescription::parse(&offer).unwrap();
    assert_eq!(sd.media.len(), 2);
    for m in &sd.media {
        assert_eq!(m.msids().next().unwrap().stream_id, alice_id);
    }
    assert!(offer.contains("a=ice-lite"));
    // Alice never receives her own tracks: nothing beyond the answer.
    assert_eq!(got[&alice].msgs.len(), 1);
    assert!(!got.contains_key(&bob) || got[&bob].msgs.len() == 2);
    // The media plane was told what Alice publishes.
    let publish =
        h.s.media()
            .calls
            .iter()
            .find_map(|c| match c {
                MediaCall::Publish {
                    participant,
                    media,
                    tracks,
                    ..
                } if *participant == alice_id => Some((media.clone(), tracks.clone())),
                _ => None,
            })
            .unwrap();
    assert_eq!(publish.0.len(), 2);
    assert_eq!(publish.0[0].ssrcs, vec![2739048672]);
    assert_eq!(publish.1.len(), 2);
    assert_eq!(publish.1[1].mid, "1");
    // Bob answers: the media plane learns what Bob receives.
    let got = h.answer(bob, &offer);
    assert!(got.is_empty(), "an answer has no reply: {got:?}");
    let sub =
        h.s.media()
            .calls
            .iter()
            .rev()
            .find_map(|c| match c {
                MediaCall::Subscribe {
                    participant,
                    tracks,
                    ..
                } if *participant == bob_id => Some(tracks.clone()),
                _ => None,
            })
            .unwrap();
    assert_eq!(sub.len(), 2);
    assert_eq!(sub[0].publisher, alice_id);
    assert_eq!(sub[0].publisher_mid, "0");
    assert!(!sub[0].track.codecs.is_empty());
}

#[test]
fn a_late_joiner_gets_existing_tracks_right_after_joined() {
    let mut h = H::new();
    let (alice, alice_id) = h.join("demo", "alice");
    let got = h.publish(alice, FIREFOX_OFFER);
    assert_eq!(got[&alice].types(), ["answer"], "nobody to forward to yet");
    let bob = h.conn();
    let got = h.send_v(bob, json!({"type":"join","room":"demo","name":"bob"}));
    assert_eq!(got[&bob].types(), ["joined", "tracks", "offer"]);
    assert_eq!(got[&bob].msgs[1]["tracks"][0]["stream"], alice_id.as_str());
    assert_eq!(got[&alice].types(), ["participant-joined"]);
}

#[test]
fn never_two_subscribe_offers_outstanding_then_the_latest_state() {
    let mut h = H::new();
    let (bob, _) = h.join("r", "bob");
    let (alice, alice_id) = h.join("r", "alice");
    let (carol, carol_id) = h.join("r", "carol");
    h.drain();
    let got = h.publish(alice, CHROME_OFFER);
    let first = offer_sdp(&got[&bob]);
    // Carol publishes while Bob's offer is unanswered: Bob gets nothing.
    let got = h.publish(carol, FIREFOX_OFFER);
    assert!(!got.contains_key(&bob), "{:?}", got.get(&bob));
    // Carol herself got Alice's tracks earlier; she answers later.
    // Bob answers: now the latest state (Alice and Carol) is offered.
    let got = h.answer(bob, &first);
    let b = &got[&bob];
    assert_eq!(b.types(), ["tracks", "offer"]);
    let streams: Vec<&str> = b.msgs[0]["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["stream"].as_str().unwrap())
        .collect();
    assert_eq!(
        streams,
        [
            alice_id.as_str(),
            alice_id.as_str(),
            carol_id.as_str(),
            carol_id.as_str()
        ]
    );
    // Mids of earlier tracks are stable.
    assert_eq!(b.msgs[0]["tracks"][0]["mid"], "0");
    assert_eq!(b.msgs[0]["tracks"][1]["mid"], "1");
    // Answering the second offer with no further change: nothing more.
    let second = offer_sdp(b);
    let got = h.answer(bob, &second);
    assert!(got.is_empty());
    // A repeated identical publish offer changes nothing for subscribers.
    let got = h.publish(alice, CHROME_OFFER);
    assert_eq!(got.keys().copied().collect::<Vec<_>>(), [alice]);
}

#[test]
fn leave_frees_the_participant_notifies_others_and_closes() {
    let mut h = H::new();
    let (bob, _) = h.join("r", "bob");
    let (alice, alice_id) = h.join("r", "alice");
    let got = h.publish(alice, CHROME_OFFER);
    let offer = offer_sdp(&got[&bob]);
    h.answer(bob, &offer);
    let got = h.send(alice, r#"{"type":"leave","id":3}"#);
    // Alice: no reply, closed.
    assert!(got[&alice].msgs.is_empty());
    assert!(got[&alice].closed);
    assert!(!h.s.is_open(alice));
    // Bob: participant-left, then a renegotiation without Alice's tracks.
    let b = &got[&bob];
    assert_eq!(b.types(), ["participant-left", "tracks", "offer"]);
    assert_eq!(b.msgs[0]["participant"], alice_id.as_str());
    assert_eq!(b.msgs[1]["tracks"], json!([]));
    let sd = SessionDescription::parse(b.msgs[2]["sdp"].as_str().unwrap()).unwrap();
    assert!(sd
        .media
        .iter()
        .all(|m| m.direction() == tern_sdp::Direction::Inactive));
    assert!(!h.s.media().live.contains(&alice_id));
    assert_eq!(h.s.counts().participants, 1);
    // Messages after close are ignored.
    h.s.handle_message(alice, br#"{"type":"join","room":"r","name":"x"}"#);
    assert!(h.drain().is_empty());
    // Last one out destroys the room.
    h.s.handle_close(bob);
    assert!(h.drain().is_empty());
    assert_eq!(
        h.s.counts(),
        Counts {
            rooms: 0,
            participants: 0,
            connections: 0,
            pending_outputs: 0
        }
    );
    assert!(h.s.media().live.is_empty());
}

#[test]
fn closing_the_socket_is_the_same_as_leave() {
    let mut h = H::new();
    let (bob, _) = h.join("r", "bob");
    let (alice, alice_id) = h.join("r", "alice");
    h.drain();
    h.s.handle_close(alice);
    let got = h.drain();
    assert!(!got.contains_key(&alice), "no frames to a closed socket");
    assert_eq!(
        got[&bob].only(),
        &json!({"type":"participant-left","participant":alice_id})
    );
    assert_eq!(h.s.counts().participants, 1);
    assert_eq!(h.s.counts().rooms, 1);
    // A connection that never joined just goes away.
    let c = h.conn();
    h.s.handle_close(c);
    assert_eq!(h.s.counts().connections, 1);
}

#[test]
fn rooms_are_created_on_first_join_and_independent() {
    let mut h = H::new();
    let (a, _) = h.join("one", "a");
    let (b, _) = h.join("two", "b");
    assert_eq!(h.s.counts().rooms, 2);
    let got = h.publish(a, CHROME_OFFER);
    assert!(!got.contains_key(&b), "another room hears nothing");
    let got = h.send(a, "garbage");
    assert!(!got.contains_key(&b));
    h.send(a, r#"{"type":"leave"}"#);
    assert_eq!(h.s.counts().rooms, 1);
}

#[test]
fn candidates_reach_the_media_plane() {
    let mut h = H::new();
    let (c, pid) = h.join("r", "n");
    let cand = json!({"candidate":"candidate:1 1 udp 2122260223 192.168.1.2 54321 typ host generation 0",
        "sdpMid":"0","sdpMLineIndex":0,"usernameFragment":"abcd"});
    assert!(h
        .send_v(c, json!({"type":"candidate","pc":"pub","candidate":cand}))
        .is_empty());
    assert!(h
        .send_v(c, json!({"type":"candidate","pc":"sub","candidate":null}))
        .is_empty());
    // Browsers' end-of-generation form: an empty candidate string.
    assert!(h
        .send_v(
            c,
            json!({"type":"candidate","pc":"pub","candidate":{"candidate":"","sdpMid":"0"}})
        )
        .is_empty());
    let cands: Vec<(Pc, Option<IceCandidateInit>)> =
        h.s.media()
            .calls
            .iter()
            .filter_map(|x| match x {
                MediaCall::Candidate {
                    participant,
                    pc,
                    candidate,
                } if *participant == pid => Some((*pc, candidate.clone())),
                _ => None,
            })
            .collect();
    assert_eq!(cands.len(), 3);
    assert_eq!(cands[0].0, Pc::Pub);
    assert_eq!(cands[0].1.as_ref().unwrap().sdp_mid.as_deref(), Some("0"));
    assert_eq!(cands[0].1.as_ref().unwrap().sdp_m_line_index, Some(0));
    assert_eq!(cands[1], (Pc::Sub, None));
}

// ---------------------------------------------------------------- errors

fn assert_open_and_usable(h: &mut H, c: ConnectionId) {
    assert!(h.s.is_open(c));
}

#[test]
fn bad_request_for_every_malformed_message_and_the_connection_stays_open() {
    let mut h = H::new();
    let c = h.conn();
    let before_join: &[&str] = &[
        "",
        "not json",
        "{",
        "[]",
        "42",
        "\"join\"",
        "null",
        r#"{"room":"r"}"#,
        r#"{"type":5}"#,
        r#"{"type":null}"#,
        r#"{"type":"join"}"#,
        r#"{"type":"join","room":"r"}"#,
        r#"{"type":"join","name":"n"}"#,
        r#"{"type":"join","room":5,"name":"n"}"#,
        r#"{"type":"join","room":"r","name":7}"#,
        r#"{"type":"join","room":"","name":"n"}"#,
        r#"{"type":"join","room":"a b","name":"n"}"#,
        r#"{"type":"join","room":"é","name":"n"}"#,
        r#"{"type":"join","room":"r/x","name":"n"}"#,
        r#"{"type":"join","room":"r","name":""}"#,
        r#"{"type":"join","room":"r","name":"n","id":{}}"#,
        r#"{"type":"join","room":"r","name":"n","id":[1]}"#,
        r#"{"type":"join","room":"r","name":"n","id":true}"#,
    ];
    for text in before_join {
        let got = h.send(c, text);
        assert_eq!(got[&c].error().0, "bad-request", "{text}");
        assert!(!got[&c].closed, "{text}");
        assert_open_and_usable(&mut h, c);
    }
    let long_room = "r".repeat(65);
    let got = h.send_v(c, json!({"type":"join","room":long_room,"name":"n","id":9}));
    let (code, id) = got[&c].error();
    assert_eq!(
        (code, id),
        ("bad-request", &json!(9)),
        "id echoed in the error"
    );
    let got = h.send_v(c, json!({"type":"join","room":"r","name":"x".repeat(65)}));
    assert_eq!(got[&c].error().0, "bad-request");
    // 64 characters (not bytes) is fine.
    let got = h.send_v(
        c,
        json!({"type":"join","room":"r".repeat(64),"name":"é".repeat(64)}),
    );
    assert_eq!(got[&c].only()["type"], "joined");

    let after_join: Vec<String> = vec![
        r#"{"type":"offer","pc":"pub"}"#.into(),
        r#"{"type":"offer","sdp":"v=0"}"#.into(),
        r#"{"type":"offer","pc":"sub","sdp":"v=0"}"#.into(),
        r#"{"type":"offer","pc":"pubx","sdp":"v=0"}"#.into(),
        r#"{"type":"offer","pc":"pub","sdp":5}"#.into(),
        r#"{"type":"offer","pc":"pub","sdp":"not sdp"}"#.into(),
        r#"{"type":"offer","pc":"pub","sdp":""}"#.into(),
        json!({"type":"offer","pc":"pub","sdp":CHROME_OFFER.replace("a=ice-ufrag", "a=x-ufrag")})
            .to_string(),
        json!({"type":"offer","pc":"pub","sdp":CHROME_OFFER.replace("a=fingerprint", "a=x-fingerprint")})
            .to_string(),
        r#"{"type":"answer","pc":"sub"}"#.into(),
        r#"{"type":"answer","pc":"pub","sdp":"v=0"}"#.into(),
        r#"{"type":"answer","pc":"sub","sdp":"v=0"}"#.into(), // no offer outstanding
        r#"{"type":"candidate","pc":"pub"}"#.into(),
        r#"{"type":"candidate","candidate":null}"#.into(),
        r#"{"type":"candidate","pc":"x","candidate":null}"#.into(),
        r#"{"type":"candidate","pc":"pub","candidate":"candidate:1 1 udp 1 1.2.3.4 5 typ host"}"#.into(),
        r#"{"type":"candidate","pc":"pub","candidate":{"candidate":"garbage"}}"#.into(),
        r#"{"type":"candidate","pc":"pub","candidate":{"candidate":5}}"#.into(),
        r#"{"type":"candidate","pc":"pub","candidate":{"candidate":"","sdpMLineIndex":-1}}"#.into(),
        r#"{"type":"candidate","pc":"pub","candidate":{"candidate":"","sdpMid":3}}"#.into(),
    ];
    for text in &after_join {
        let got = h.send(c, text);
        assert_eq!(got[&c].error().0, "bad-request", "{text}");
        assert!(!got[&c].closed);
    }
    // Oversized: in the machine and reported by the transport.
    let big = format!(
        r#"{{"type":"offer","pc":"pub","sdp":"{}","id":1}}"#,
        "a".repeat(MAX_MESSAGE_LEN)
    );
    let got = h.send(c, &big);
    assert_eq!(got[&c].error(), ("bad-request", &Value::Null));
    h.s.handle_oversized(c, 100_000);
    let got = h.drain();
    assert_eq!(got[&c].error().0, "bad-request");
    // Not UTF-8.
    h.s.handle_message(c, b"{\"type\":\"leave\xff\"}");
    assert_eq!(h.drain()[&c].error().0, "bad-request");
    // Still a working participant.
    assert!(h.s.is_open(c));
    let got = h.publish(c, CHROME_OFFER);
    assert_eq!(got[&c].only()["type"], "answer");
}

#[test]
fn a_message_of_exactly_64_kib_is_accepted() {
    let mut h = H::new();
    let c = h.conn();
    let head = r#"{"type":"join","room":"r","name":"n","pad":""#;
    let pad = MAX_MESSAGE_LEN - head.len() - 2;
    let text = format!("{head}{}\"}}", "x".repeat(pad));
    assert_eq!(text.len(), MAX_MESSAGE_LEN);
    assert_eq!(h.send(c, &text)[&c].only()["type"], "joined");
}

#[test]
fn not_joined_for_anything_but_join_first() {
    let mut h = H::new();
    let c = h.conn();
    for (i, text) in [
        json!({"type":"offer","pc":"pub","sdp":CHROME_OFFER,"id":1}),
        json!({"type":"answer","pc":"sub","sdp":"v=0","id":2}),
        json!({"type":"candidate","pc":"pub","candidate":null,"id":3}),
        json!({"type":"leave","id":4}),
        // Even an ill-formed one: the state is checked first.
        json!({"type":"offer","id":5}),
    ]
    .into_iter()
    .enumerate()
    {
        let got = h.send_v(c, text);
        let (code, id) = got[&c].error();
        assert_eq!(code, "not-joined");
        assert_eq!(id, &json!(i + 1));
        assert!(!got[&c].closed);
    }
    assert_eq!(h.s.counts().participants, 0);
    let got = h.send_v(c, json!({"type":"join","room":"r","name":"n"}));
    assert_eq!(got[&c].only()["type"], "joined");
}

#[test]
fn already_joined_for_a_second_join() {
    let mut h = H::new();
    let (c, pid) = h.join("r", "n");
    let got = h.send_v(
        c,
        json!({"type":"join","room":"other","name":"n","id":"again"}),
    );
    let (code, id) = got[&c].error();
    assert_eq!((code, id), ("already-joined", &json!("again")));
    assert!(!got[&c].closed);
    assert_eq!(h.s.participant_of(c), Some(pid.as_str()));
    assert_eq!(h.s.counts().rooms, 1, "no room created by the refused join");
}

#[test]
fn unsupported_for_unknown_types_and_unacceptable_offers() {
    let mut h = H::new();
    let c = h.conn();
    let got = h.send(c, r#"{"type":"subscribe","id":1}"#);
    assert_eq!(got[&c].error(), ("unsupported", &json!(1)));
    let (c, _) = h.join("r", "n");
    for t in ["ping", "JOIN", "", "offerx"] {
        let got = h.send_v(c, json!({"type":t}));
        assert_eq!(got[&c].error().0, "unsupported", "{t}");
        assert!(!got[&c].closed);
    }
    // Nothing the server can accept: data channel only.
    let got = h.send_v(
        c,
        json!({"type":"offer","pc":"pub","sdp":DATA_ONLY_OFFER,"id":"dc"}),
    );
    assert_eq!(got[&c].error(), ("unsupported", &json!("dc")));
    // Only unknown codecs.
    let weird = CHROME_OFFER
        .lines()
        .map(|l| {
            if let Some(rest) = l.strip_prefix("a=rtpmap:") {
                let (pt, _) = rest.split_once(' ').unwrap();
                format!("a=rtpmap:{pt} X-NOPE/90000")
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\r\n")
        .replace(" 111 63 9 0 8 13 110 126", " 111 63 13 110 126");
    let got = h.send_v(c, json!({"type":"offer","pc":"pub","sdp":weird}));
    assert_eq!(got[&c].error().0, "unsupported");
    // Still fine afterwards.
    assert_eq!(h.publish(c, CHROME_OFFER)[&c].only()["type"], "answer");
}

#[test]
fn too_many_tracks_is_unsupported() {
    let mut h = H::with(Config {
        max_tracks_per_participant: 1,
        ..Config::default()
    });
    let (c, _) = h.join("r", "n");
    let got = h.publish(c, CHROME_OFFER);
    assert_eq!(got[&c].error().0, "unsupported");
    h.s.check_invariants().unwrap();
}

#[test]
fn room_full_closes_after_sending_and_others_are_unaffected() {
    let mut h = H::with(Config {
        max_participants_per_room: 2,
        ..Config::default()
    });
    let (a, _) = h.join("r", "a");
    let (b, _) = h.join("r", "b");
    let (other, _) = h.join("elsewhere", "o");
    h.drain();
    let c = h.conn();
    let got = h.send_v(c, json!({"type":"join","room":"r","name":"c","id":5}));
    let (code, id) = got[&c].error();
    assert_eq!((code, id), ("room-full", &json!(5)));
    assert!(got[&c].closed, "closed after sending");
    assert!(!got.contains_key(&a) && !got.contains_key(&b) && !got.contains_key(&other));
    assert!(!h.s.is_open(c));
    assert_eq!(h.s.counts().participants, 3);
    // Once someone leaves there is room again.
    h.send(b, r#"{"type":"leave"}"#);
    let (_, _) = h.join("r", "d");
}

#[test]
fn room_full_when_the_server_has_its_maximum_of_rooms() {
    let mut h = H::with(Config {
        max_rooms: 2,
        ..Config::default()
    });
    h.join("a", "x");
    h.join("b", "x");
    let c = h.conn();
    let got = h.send(c, r#"{"type":"join","room":"c","name":"x"}"#);
    assert_eq!(got[&c].error().0, "room-full");
    assert!(got[&c].closed);
    // Existing rooms still take people.
    h.join("a", "y");
}

#[test]
fn internal_when_the_media_plane_fails_and_the_connection_stays_open() {
    let mut h = H::new();
    let c = h.conn();
    h.s.media_mut().fail_create = true;
    let got = h.send(c, r#"{"type":"join","room":"r","name":"n","id":1}"#);
    assert_eq!(got[&c].error(), ("internal", &json!(1)));
    assert!(!got[&c].closed);
    assert_eq!(h.s.counts().rooms, 0);
    h.s.media_mut().fail_create = false;
    h.s.media_mut().invalid_credentials = true;
    let got = h.send(c, r#"{"type":"join","room":"r","name":"n"}"#);
    assert_eq!(got[&c].error().0, "internal");
    assert!(
        h.s.media().live.is_empty(),
        "the half-made participant was removed"
    );
    h.s.media_mut().invalid_credentials = false;
    let got = h.send(c, r#"{"type":"join","room":"r","name":"n"}"#);
    assert_eq!(got[&c].only()["type"], "joined");
    let (bob, _) = h.join("r", "bob");
    h.drain();
    h.s.media_mut().fail_publish = true;
    let got = h.publish(c, CHROME_OFFER);
    assert_eq!(got[&c].error().0, "internal");
    assert!(
        !got.contains_key(&bob),
        "no renegotiation for a refused offer"
    );
    h.s.media_mut().fail_publish = false;
    assert_eq!(h.publish(c, CHROME_OFFER)[&c].only()["type"], "answer");
}

#[test]
fn every_error_code_is_produced_by_some_test() {
    // The list the tests above cover, checked against the spec's table.
    let covered = [
        "bad-request",
        "not-joined",
        "already-joined",
        "unsupported",
        "room-full",
        "internal",
    ];
    let all: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(all, covered);
    for c in ErrorCode::ALL {
        assert_eq!(c.closes_connection(), c == ErrorCode::RoomFull);
    }
}

#[test]
fn a_bad_subscribe_answer_keeps_the_offer_outstanding() {
    let mut h = H::new();
    let (bob, _) = h.join("r", "bob");
    let (alice, _) = h.join("r", "alice");
    let got = h.publish(alice, CHROME_OFFER);
    let offer = offer_sdp(&got[&bob]);
    let got = h.send_v(bob, json!({"type":"answer","pc":"sub","sdp":"v=0\r\n"}));
    assert_eq!(got[&bob].error().0, "bad-request");
    // Wrong number of sections.
    let got = h.send_v(
        bob,
        json!({"type":"answer","pc":"sub","sdp":FIREFOX_OFFER.replace("m=video", "m=audio")}),
    );
    assert_eq!(got[&bob].error().0, "bad-request");
    // The right answer still works.
    assert!(h.answer(bob, &offer).is_empty());
    // And a second answer has nothing to answer.
    let got = h.answer(bob, &offer);
    assert_eq!(got[&bob].error().0, "bad-request");
}

// ---------------------------------------------------------------- bounds

#[test]
fn connections_are_capped() {
    let mut h = H::with(Config {
        max_connections: 3,
        ..Config::default()
    });
    let cs: Vec<_> = (0..3).map(|_| h.conn()).collect();
    assert!(h.s.connect().is_err());
    h.s.handle_close(cs[0]);
    assert!(h.s.connect().is_ok());
}

#[test]
fn a_client_that_never_reads_is_dropped_not_buffered_forever() {
    let mut h = H::with(Config {
        max_pending_per_connection: 8,
        ..Config::default()
    });
    let (c, _) = h.join("r", "n");
    h.drain();
    // Send errors without draining.
    for _ in 0..100 {
        h.s.handle_message(c, b"x");
        assert!(h.s.counts().pending_outputs <= 9);
    }
    let mut closed = false;
    while let Some(o) = h.s.poll_output() {
        closed |= o == Output::Close { conn: c };
    }
    assert!(closed);
    assert_eq!(h.s.counts().participants, 0);
    h.s.check_invariants().unwrap();
}

#[test]
fn subscribe_offers_in_a_full_room_fit_in_one_message() {
    // Caps are clamped so that no subscriber gets more than 24 tracks.
    let h = H::with(Config {
        max_participants_per_room: 100,
        max_tracks_per_participant: 100,
        ..Config::default()
    });
    assert_eq!(h.s.config().max_participants_per_room, 25);
    assert_eq!(h.s.config().max_tracks_per_participant, 1);
    // The largest room where everyone sends audio and video: 13.
    let mut h = H::with(Config {
        max_participants_per_room: 13,
        max_tracks_per_participant: 100,
        ..Config::default()
    });
    let max_p = h.s.config().max_participants_per_room;
    assert_eq!((max_p, h.s.config().max_tracks_per_participant), (13, 2));
    let conns: Vec<ConnectionId> = (0..max_p)
        .map(|i| h.join("r", &format!("n{i}")).0)
        .collect();
    h.drain();
    let mut pending: Vec<(ConnectionId, String)> = Vec::new();
    for c in &conns {
        let got = h.publish(*c, CHROME_OFFER);
        assert_eq!(got[c].msgs[0]["type"], "answer");
        for (k, g) in got {
            for m in g.msgs.iter().filter(|m| m["type"] == "offer") {
                pending.push((k, m["sdp"].as_str().unwrap().to_owned()));
            }
        }
    }
    let mut largest = 0;
    let mut rounds = 0;
    while !pending.is_empty() {
        rounds += 1;
        assert!(rounds < 100);
        let mut next = Vec::new();
        for (c, sdp) in std::mem::take(&mut pending) {
            let got = h.answer(c, &sdp);
            for (k, g) in got {
                for m in &g.msgs {
                    assert_ne!(m["type"], "error", "{m}");
                    largest = largest.max(m.to_string().len());
                    if m["type"] == "offer" {
                        next.push((k, m["sdp"].as_str().unwrap().to_owned()));
                    }
                }
            }
        }
        pending = next;
    }
    assert!(largest <= MAX_MESSAGE_LEN, "{largest}");
    // Everyone ended up offered every other participant's two tracks.
    let subs =
        h.s.media()
            .calls
            .iter()
            .filter_map(|c| match c {
                MediaCall::Subscribe {
                    participant,
                    tracks,
                    ..
                } => Some((participant.clone(), tracks.len())),
                _ => None,
            })
            .fold(std::collections::BTreeMap::new(), |mut m, (p, n)| {
                m.insert(p, n);
                m
            });
    assert_eq!(subs.len(), max_p);
    assert!(subs.values().all(|&n| n == 2 * (max_p - 1)), "{subs:?}");
}

#[test]
fn browser_candidate_forms_are_accepted() {
    let mut h = H::new();
    let (c, _) = h.join("r", "n");
    for cand in [
        // Chrome with an mDNS host name.
        "candidate:3359427463 1 udp 2113937151 6f0b9a47-5d2c-4a1b-8e3f-2c9d7e1a4b60.local 54321 typ host generation 0 ufrag kT7e network-cost 999",
        // Chrome server-reflexive.
        "candidate:842163049 1 udp 1677729535 203.0.113.7 61000 typ srflx raddr 0.0.0.0 rport 0 generation 0 ufrag kT7e network-cost 999",
        // Firefox host and TCP.
        "candidate:0 1 UDP 2122252543 192.168.1.20 50123 typ host",
        "candidate:1 1 TCP 2105524479 192.168.1.20 9 typ host tcptype active",
        // IPv6.
        "candidate:2 1 udp 2122262783 2001:db8::1 50124 typ host generation 0",
    ] {
        let got = h.send_v(c, json!({"type":"candidate","pc":"pub","candidate":{"candidate":cand,"sdpMid":"0","sdpMLineIndex":0,"usernameFragment":"kT7e"}}));
        assert!(got.is_empty(), "{cand}: {got:?}");
    }
}
