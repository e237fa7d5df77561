//! Body of a fuzz target `signal_input` (feature `fuzzing`), here so
//! ordinary builds type-check it and tests run it.
//!
//! The input is a script: each step takes one op byte and, for messages, a
//! length-prefixed payload. Ops open and close connections and send
//! messages — raw bytes, or one of a few valid messages (join, publish
//! offer, subscribe answer to the latest offer the connection got) so the
//! machine reaches deep states. After every step the invariants must hold
//! and the state must stay within its caps; at the end, closing every
//! connection must free everything, in signaling and in the media plane.

use crate::{Config, ConnectionId, Counts, Output, RecordingMediaPlane, ServerMessage, Signaling};

const OFFER: &str = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n\
m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:abcd\r\n\
a=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=fingerprint:sha-256 \
AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99\r\n\
a=setup:actpass\r\na=mid:0\r\na=sendonly\r\na=msid:s a\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n\
a=ssrc:11 cname:c\r\n\
m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=sendonly\r\na=msid:s v\r\n\
a=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\na=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n\
a=ssrc-group:FID 22 23\r\na=ssrc:22 cname:c\r\na=ssrc:23 cname:c\r\n";

fn escape(s: &str) -> String {
    s.replace('\r', "\\r").replace('\n', "\\n")
}

/// Runs one script. Panics on a broken invariant.
pub fn signal_input(data: &[u8]) {
    run(data);
}

/// Runs a script; returns how many messages of each type were sent.
fn run(data: &[u8]) -> std::collections::BTreeMap<&'static str, usize> {
    let mut seen = std::collections::BTreeMap::new();
    let config = Config {
        max_connections: 8,
        max_rooms: 2,
        max_participants_per_room: 3,
        max_pending_per_connection: 16,
        ..Config::default()
    };
    let mut s = Signaling::new(config, RecordingMediaPlane::new());
    let mut conns: Vec<ConnectionId> = Vec::new();
    let mut offers: Vec<(ConnectionId, String)> = Vec::new();
    let mut i = 0;
    while i < data.len() {
        let op = data[i];
        i += 1;
        let pick =
            |conns: &[ConnectionId], b: u8| conns.get(usize::from(b) % conns.len().max(1)).copied();
        match op % 8 {
            0 => {
                if let Ok(c) = s.connect() {
                    conns.push(c);
                }
            }
            1 if op & 0x18 == 0 => {
                if let Some(c) = pick(&conns, op >> 5) {
                    s.handle_close(c);
                    conns.retain(|x| *x != c);
                }
            }
            1 => {
                if let Ok(c) = s.connect() {
                    conns.push(c);
                }
            }
            2 => {
                if let Some(c) = pick(&conns, op >> 3) {
                    let room = ["a", "a", "a", "b"][usize::from(op >> 3) % 4];
                    let msg =
                        format!(r#"{{"type":"join","room":"{room}","name":"n{op}","id":{i}}}"#);
                    s.handle_message(c, msg.as_bytes());
                }
            }
            3 => {
                if let Some(c) = pick(&conns, op >> 3) {
                    let msg = format!(r#"{{"type":"offer","pc":"pub","sdp":"{}"}}"#, escape(OFFER));
                    s.handle_message(c, msg.as_bytes());
                }
            }
            4 => {
                if let Some(c) = pick(&conns, op >> 3) {
                    if let Some((_, sdp)) = offers.iter().rev().find(|(x, _)| *x == c) {
                        let answer = tern_sdp::SessionDescription::parse(sdp)
                            .map(|sd| {
                                tern_sdp::subscriber::answer_like_a_browser(
                                    &sd,
                                    "cliu",
                                    "clientpassword012345678",
                                    ("sha-256", "AB:CD"),
                                )
                                .to_sdp_string()
                            })
                            .unwrap_or_default();
                        let msg = format!(
                            r#"{{"type":"answer","pc":"sub","sdp":"{}"}}"#,
                            escape(&answer)
                        );
                        s.handle_message(c, msg.as_bytes());
                    }
                }
            }
            5 => {
                if let Some(c) = pick(&conns, op >> 3) {
                    s.handle_oversized(c, 70_000);
                    s.handle_binary(c, 3);
                }
            }
            _ => {
                // Raw message: next byte is the length.
                let len = data.get(i).copied().map_or(0, usize::from);
                i += 1;
                let end = (i + len).min(data.len());
                let payload = data.get(i..end).unwrap_or(&[]);
                i = end;
                if let Some(c) = pick(&conns, op >> 3) {
                    s.handle_message(c, payload);
                }
            }
        }
        if op & 0x80 == 0 {
            while let Some(o) = s.poll_output() {
                match o {
                    Output::Send { conn, message } => {
                        *seen.entry(message.type_name()).or_insert(0) += 1;
                        if let ServerMessage::Offer { sdp, .. } = message {
                            offers.push((conn, sdp));
                            if offers.len() > 32 {
                                offers.remove(0);
                            }
                        }
                    }
                    Output::Close { conn } => conns.retain(|x| *x != conn),
                }
            }
        }
        if let Err(e) = s.check_invariants() {
            panic!("invariant broken: {e}");
        }
        let n = s.counts();
        assert!(
            n.connections <= 8 && n.rooms <= 2 && n.participants <= 6,
            "{n:?}"
        );
        assert!(n.pending_outputs <= 8 * 17 + 8, "{n:?}");
    }
    for c in conns {
        s.handle_close(c);
    }
    while s.poll_output().is_some() {}
    assert_eq!(s.counts(), Counts::default());
    assert!(s.media().live.is_empty(), "media state leaked");
    seen
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_handmade_script_reaches_every_flow() {
        // Two connections join room "a", the first publishes, the second
        // answers its subscribe offer, the first leaves by closing; then a
        // raw non-JSON message.
        let script = [0u8, 0, 2, 2 | 8, 3, 4 | 8, 1, 0, 6, 3, b'{', b'}', b'x'];
        let seen = super::run(&script);
        for t in [
            "joined",
            "answer",
            "tracks",
            "offer",
            "participant-joined",
            "participant-left",
        ] {
            assert!(seen.contains_key(t), "{t}: {seen:?}");
        }
    }

    #[test]
    fn random_scripts_run_clean() {
        let mut x = 0x1234_5678_9abc_def0u64;
        let mut total = std::collections::BTreeMap::new();
        for _ in 0..300 {
            let data: Vec<u8> = (0..256)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect();
            for (k, v) in super::run(&data) {
                *total.entry(k).or_insert(0) += v;
            }
        }
        for t in ["joined", "answer", "offer", "error"] {
            assert!(total.contains_key(t), "{t}: {total:?}");
        }
    }
}
