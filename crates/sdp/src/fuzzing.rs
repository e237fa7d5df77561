//! Bodies of the fuzz targets in `fuzz/fuzz_targets/` (feature `fuzzing`),
//! here so ordinary builds type-check them and tests run them over the seeds.

use crate::answer::Answerer;
use crate::codec::{Capabilities, MediaKind, ServerConfig};
use crate::session::SessionDescription;
use crate::subscriber::{answer_like_a_browser, ForwardedTrack, SubscriberSession};

/// parse → serialize → parse gives the same structure, and the serialized
/// form is a fixed point; every typed accessor runs without panicking.
pub fn sdp_parse(data: &[u8]) {
    let Ok(sd) = SessionDescription::parse_bytes(data) else {
        return;
    };
    let text = sd.to_sdp_string();
    let again = match SessionDescription::parse(&text) {
        Ok(a) => a,
        Err(e) => panic!("serialized description does not parse: {e}\n{text}"),
    };
    assert_eq!(again, sd, "structure changed through serialize");
    assert_eq!(
        again.to_sdp_string(),
        text,
        "serialization is not a fixed point"
    );
    touch(&sd);
}

fn touch(sd: &SessionDescription<'_>) {
    let _ = sd.bundle_group().map(|g| g.mids().count());
    let _ = (
        sd.ice_ufrag(),
        sd.ice_pwd(),
        sd.setup(),
        sd.fingerprints().count(),
    );
    for a in &sd.attributes {
        let _ = a.typed();
    }
    for m in &sd.media {
        for a in &m.attributes {
            let _ = a.typed();
        }
        let _ = (m.mid(), m.direction(), m.sctp_port(), m.max_message_size());
        let _ = m.rtpmaps().count() + m.fmtps().map(|f| f.params().count()).sum::<usize>();
        let _ = m.rtcp_fbs().count() + m.extmaps().count() + m.msids().count();
        let _ = m.ssrcs().count() + m.ssrc_groups().map(|g| g.ssrcs().count()).sum::<usize>();
        let _ = m.rids().map(|r| r.pts().count()).sum::<usize>();
        if let Some(sc) = m.simulcast() {
            let _ = sc
                .send_streams()
                .map(|s| s.alternatives().count())
                .sum::<usize>();
            let _ = sc.to_string();
        }
        for c in m.candidates() {
            let _ = (
                c.generation(),
                c.tcptype(),
                c.ufrag(),
                c.network_id(),
                c.network_cost(),
            );
            let _ = c.to_string();
        }
        for f in m.fingerprints() {
            let mut d = [0u8; 64];
            let _ = f.digest(&mut d);
        }
    }
}

/// A Chrome-shaped offer that fuzz input is spliced into.
const TEMPLATE: &str = "v=0\r\n\
o=- 4215775240449105457 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n\
a=extmap-allow-mixed\r\na=msid-semantic: WMS stream\r\n\
m=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n\
a=ice-ufrag:Fz9q\r\na=ice-pwd:q0bH2u2J7kVxoeDRbhNj8mXc\r\na=ice-options:trickle\r\n\
a=fingerprint:sha-256 0F:AA:31:52:9B:C2:77:D1:5E:01:8C:E6:40:3A:BB:90:12:74:C5:2E:9D:61:08:F3:A7:4B:DE:20:6C:95:31:E8\r\n\
a=setup:actpass\r\na=mid:0\r\na=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n\
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\na=sendrecv\r\na=msid:stream audio0\r\na=rtcp-mux\r\n\
a=rtpmap:111 opus/48000/2\r\na=rtcp-fb:111 transport-cc\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n\
a=ssrc:1001 cname:fuzz\r\n\
m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:Fz9q\r\n\
a=ice-pwd:q0bH2u2J7kVxoeDRbhNj8mXc\r\n\
a=fingerprint:sha-256 0F:AA:31:52:9B:C2:77:D1:5E:01:8C:E6:40:3A:BB:90:12:74:C5:2E:9D:61:08:F3:A7:4B:DE:20:6C:95:31:E8\r\n\
a=setup:actpass\r\na=mid:1\r\na=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\na=sendonly\r\n\
a=msid:stream video0\r\na=rtcp-mux\r\na=rtcp-rsize\r\na=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack\r\n\
a=rtcp-fb:96 nack pli\r\na=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\na=rtpmap:102 H264/90000\r\n\
a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n\
a=rtpmap:103 rtx/90000\r\na=fmtp:103 apt=102\r\n";

fn server_config() -> ServerConfig {
    let mut c = ServerConfig::new(7, "fuzzsrv1", "fuzzserverpassword0123456");
    c.fingerprints
        .push(("sha-256".into(), "01:23:45:67:89:AB:CD:EF".into()));
    c.candidates
        .push("1 1 udp 2130706431 192.0.2.10 3478 typ host".into());
    c
}

/// Valid-ish offers into the answerer: never panics; an answer it produces
/// always parses, round-trips, and drives a subscriber session whose offer
/// and browser-shaped answer both parse and apply.
///
/// Input starting with `v=` is taken as a whole offer; anything else is
/// spliced into a Chrome-shaped template as extra media-level lines.
pub fn sdp_negotiate(data: &[u8]) {
    let Ok(input) = core::str::from_utf8(data) else {
        return;
    };
    let text = if input.starts_with("v=") {
        input.to_owned()
    } else {
        let mut t = TEMPLATE.to_owned();
        for line in input.lines().take(64) {
            if line.len() > 1 && line.as_bytes().get(1) == Some(&b'=') {
                t.push_str(line);
            } else {
                t.push_str("a=");
                t.push_str(line);
            }
            t.push_str("\r\n");
        }
        t
    };
    let Ok(offer) = SessionDescription::parse(&text) else {
        return;
    };
    let Ok(mut answerer) = Answerer::new(Capabilities::default(), server_config()) else {
        panic!("fuzz server config rejected");
    };
    let Ok(answer) = answerer.answer(&offer) else {
        return;
    };
    let answer_text = answer.to_sdp_string();
    let parsed = match SessionDescription::parse(&answer_text) {
        Ok(p) => p,
        Err(e) => panic!("answer does not parse: {e}\n{answer_text}"),
    };
    assert_eq!(parsed, answer.sdp);
    assert_eq!(parsed.media.len(), offer.media.len());

    // Forward what was accepted to a subscriber.
    let tracks: Vec<ForwardedTrack> = answer
        .media
        .iter()
        .enumerate()
        .map(|(i, m)| ForwardedTrack {
            id: format!("t{i}"),
            stream_id: "pub".into(),
            kind: m.kind,
            ssrc: 1000 + u32::try_from(i).unwrap_or(0) * 2,
            rtx_ssrc: (m.kind == MediaKind::Video)
                .then_some(1001 + u32::try_from(i).unwrap_or(0) * 2),
            cname: "fuzz".into(),
            codecs: m.codecs.clone(),
        })
        .collect();
    let Ok(mut sub) = SubscriberSession::new(Capabilities::default(), server_config()) else {
        panic!("fuzz server config rejected");
    };
    let sub_offer = match sub.create_offer(&tracks) {
        Ok(o) => o,
        Err(e) => panic!("subscriber offer failed for accepted tracks: {e}"),
    };
    let sub_text = sub_offer.to_sdp_string();
    if let Err(e) = SessionDescription::parse(&sub_text) {
        panic!("subscriber offer does not parse: {e}\n{sub_text}");
    }
    let browser = answer_like_a_browser(
        &sub_offer,
        "fzcl",
        "fuzzclientpassword012345",
        ("sha-256", "AA:BB"),
    );
    if let Err(e) = sub.apply_answer(&browser) {
        panic!("browser-shaped answer refused: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use tern_testkit::fuzz_seeds as seeds;

    #[test]
    fn fuzz_bodies_run_over_the_seeds() {
        let p = seeds("sdp_parse");
        let n = seeds("sdp_negotiate");
        assert!(!p.is_empty() && !n.is_empty(), "seed corpus missing");
        for s in p.iter().chain(&n) {
            sdp_parse(s);
            sdp_negotiate(s);
        }
        sdp_negotiate(TEMPLATE.as_bytes());
        sdp_negotiate(b"a=rid:h send\na=rid:l send\na=simulcast:send h;l");
        sdp_parse(TEMPLATE.as_bytes());
    }
}
