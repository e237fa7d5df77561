//! Differential test against webrtc-rs `sdp` (crates.io `sdp` 0.17): both
//! parsers read every corpus document, and they agree on the media sections,
//! mids, codecs, fingerprints, ICE credentials and candidates.

mod common;

use std::io::Cursor;

use tern_sdp::SessionDescription;
use webrtc_sdp::description::session::SessionDescription as WrSession;

fn wr_attr<'a>(attrs: &'a [webrtc_sdp::description::common::Attribute], key: &str) -> Vec<&'a str> {
    attrs
        .iter()
        .filter(|a| a.key == key)
        .map(|a| a.value.as_deref().unwrap_or(""))
        .collect()
}

#[test]
fn corpus_agrees_with_webrtc_rs() {
    for (name, text) in common::corpus() {
        let ours = SessionDescription::parse(&text).unwrap();
        let theirs = WrSession::unmarshal(&mut Cursor::new(text.as_bytes()))
            .unwrap_or_else(|e| panic!("{name}: webrtc-rs: {e}"));
        assert_eq!(ours.origin.session_id, theirs.origin.session_id, "{name}");
        assert_eq!(
            ours.origin.session_version, theirs.origin.session_version,
            "{name}"
        );
        assert_eq!(ours.media.len(), theirs.media_descriptions.len(), "{name}");
        // Session-level fingerprints and ICE credentials.
        let ours_fp: Vec<String> = ours.fingerprints().map(|f| f.to_string()).collect();
        assert_eq!(
            ours_fp,
            wr_attr(&theirs.attributes, "fingerprint"),
            "{name}"
        );
        assert_eq!(
            ours.ice_ufrag(),
            wr_attr(&theirs.attributes, "ice-ufrag").first().copied(),
            "{name}"
        );
        for (i, (m, w)) in ours
            .media
            .iter()
            .zip(&theirs.media_descriptions)
            .enumerate()
        {
            let ctx = format!("{name} m[{i}]");
            assert_eq!(&*m.kind, w.media_name.media, "{ctx}");
            assert_eq!(i64::from(m.port), w.media_name.port.value as i64, "{ctx}");
            assert_eq!(*m.proto, w.media_name.protos.join("/"), "{ctx}");
            assert_eq!(
                m.formats().collect::<Vec<_>>(),
                w.media_name.formats,
                "{ctx}"
            );
            assert_eq!(
                m.mid(),
                wr_attr(&w.attributes, "mid").first().copied(),
                "{ctx}"
            );
            assert_eq!(
                m.ice_ufrag(),
                wr_attr(&w.attributes, "ice-ufrag").first().copied(),
                "{ctx}"
            );
            assert_eq!(
                m.ice_pwd(),
                wr_attr(&w.attributes, "ice-pwd").first().copied(),
                "{ctx}"
            );
            let fps: Vec<String> = m.fingerprints().map(|f| f.to_string()).collect();
            assert_eq!(fps, wr_attr(&w.attributes, "fingerprint"), "{ctx}");
            // Candidates: our typed form serializes to exactly their text.
            let cands: Vec<String> = m.candidates().map(|c| c.to_string()).collect();
            assert_eq!(cands, wr_attr(&w.attributes, "candidate"), "{ctx}");
            // Codecs: every rtpmap agrees with webrtc-rs's codec table.
            for r in m.rtpmaps() {
                let c = theirs
                    .get_codec_for_payload_type(r.pt)
                    .unwrap_or_else(|e| panic!("{ctx}: pt {}: {e}", r.pt));
                let clash = ours
                    .media
                    .iter()
                    .flat_map(|x| x.rtpmaps())
                    .filter(|x| x.pt == r.pt)
                    .any(|x| x.encoding != r.encoding);
                if !clash {
                    assert_eq!(c.name, r.encoding, "{ctx} pt {}", r.pt);
                    assert_eq!(c.clock_rate, r.clock_rate, "{ctx} pt {}", r.pt);
                }
            }
            assert_eq!(
                m.attributes.len(),
                w.attributes.len(),
                "{ctx}: attribute count"
            );
        }
        // webrtc-rs's serialization of the same document reads back the same in Tern.
        let again = theirs.marshal();
        let ours_again =
            SessionDescription::parse(&again).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(ours_again.media.len(), ours.media.len(), "{name}");
    }
}
