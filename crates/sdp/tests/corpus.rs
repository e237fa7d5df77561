//! Every corpus document (tests/corpus, see its README) parses, round-trips
//! byte for byte, and negotiates: offers are answered by the SFU answerer and
//! the accepted tracks forwarded to a subscriber; subscriber answers are
//! applied to the subscribe offer they answer.

mod common;

use tern_sdp::subscriber::answer_like_a_browser;
use tern_sdp::{
    Answerer, Capabilities, Direction, ForwardedTrack, MediaKind, SessionDescription, Setup,
    SubscriberSession,
};

#[test]
fn corpus_has_at_least_twenty_documents() {
    assert!(common::corpus().len() >= 20);
}

#[test]
fn corpus_parses_and_round_trips_byte_for_byte() {
    for (name, text) in common::corpus() {
        let sd = SessionDescription::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let out = sd.to_sdp_string();
        let expected = if text.contains("\r\n") {
            text.clone()
        } else {
            text.replace('\n', "\r\n")
        };
        assert_eq!(out, expected, "{name}: round trip changed bytes");
        let owned = sd.clone().into_owned();
        assert_eq!(owned, sd, "{name}");
        // Every known attribute has a valid typed form.
        for a in sd
            .attributes
            .iter()
            .chain(sd.media.iter().flat_map(|m| &m.attributes))
        {
            a.typed()
                .unwrap_or_else(|e| panic!("{name}: a={}: {e}", a.name));
        }
    }
}

fn sub_tracks() -> Vec<ForwardedTrack> {
    vec![
        ForwardedTrack {
            id: "p1-audio".into(),
            stream_id: "p1".into(),
            kind: MediaKind::Audio,
            ssrc: 11_111,
            rtx_ssrc: None,
            cname: "p1cname".into(),
            codecs: Vec::new(),
        },
        ForwardedTrack {
            id: "p1-video".into(),
            stream_id: "p1".into(),
            kind: MediaKind::Video,
            ssrc: 22_222,
            rtx_ssrc: Some(22_223),
            cname: "p1cname".into(),
            codecs: Vec::new(),
        },
    ]
}

#[test]
fn corpus_negotiates() {
    let caps = Capabilities::default();
    for (name, text) in common::corpus() {
        let sd = SessionDescription::parse(&text).unwrap();
        if name.contains("_answer_subscribe") {
            // A browser's answer to Tern's subscribe offer.
            let mut s = SubscriberSession::new(caps.clone(), common::server_config()).unwrap();
            s.create_offer(&sub_tracks()).unwrap();
            let r = s
                .apply_answer(&sd)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(r.tracks.len(), 2, "{name}");
            assert_eq!(r.tracks[0].codecs[0].pt, 111, "{name}");
            assert!(
                r.tracks[1].codecs.iter().any(|c| c.rtx_pt.is_some()),
                "{name}"
            );
            assert!(r.tracks[1].extensions.iter().any(|e| e.id == 1), "{name}");
            assert_eq!(r.dtls_role, Setup::Passive, "{name}");
            assert!(!r.remote.fingerprints.is_empty(), "{name}");
            continue;
        }
        let mut a = Answerer::new(caps.clone(), common::server_config()).unwrap();
        let ans = a.answer(&sd).unwrap_or_else(|e| panic!("{name}: {e}"));
        let text = ans.to_sdp_string();
        let parsed =
            SessionDescription::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}\n{text}"));
        assert_eq!(parsed.media.len(), sd.media.len(), "{name}");
        assert!(parsed.is_ice_lite(), "{name}");
        for (o, m) in sd.media.iter().zip(&parsed.media) {
            assert_eq!(o.kind, m.kind, "{name}: media order");
            if m.port != 0 {
                assert_eq!(m.mid(), o.mid(), "{name}");
                assert!(
                    m.has_attribute("rtcp-mux") || m.kind == "application",
                    "{name}"
                );
                // Payload types come from the offer.
                let offered: Vec<u8> = o.payload_types().collect();
                assert!(m.payload_types().all(|p| offered.contains(&p)), "{name}");
                // Extension ids come from the offer.
                for e in m.extmaps() {
                    assert!(
                        o.extmaps().any(|x| x.id == e.id && x.uri == e.uri),
                        "{name}"
                    );
                }
                if o.direction() == Direction::SendOnly {
                    assert_eq!(m.direction(), Direction::RecvOnly, "{name}");
                }
            }
        }
        assert!(
            !ans.media.is_empty() || ans.data_channel.is_some(),
            "{name}"
        );
        // Forward every accepted track to a subscriber and complete that negotiation.
        let tracks: Vec<ForwardedTrack> = ans
            .media
            .iter()
            .enumerate()
            .map(|(i, m)| ForwardedTrack {
                id: format!("pub-{}", m.mid),
                stream_id: "publisher".into(),
                kind: m.kind,
                ssrc: 5000 + 2 * i as u32,
                rtx_ssrc: m
                    .codecs
                    .iter()
                    .any(|c| c.rtx_pt.is_some())
                    .then_some(5001 + 2 * i as u32),
                cname: "publisher".into(),
                codecs: m.codecs.clone(),
            })
            .collect();
        let mut s = SubscriberSession::new(caps.clone(), common::server_config()).unwrap();
        let offer = s
            .create_offer(&tracks)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let offer_text = offer.to_sdp_string();
        let reparsed = SessionDescription::parse(&offer_text).unwrap();
        assert_eq!(reparsed, offer, "{name}");
        for m in &reparsed.media {
            assert_eq!(
                m.msids().next().map(|x| x.stream_id),
                Some("publisher"),
                "{name}"
            );
        }
        let browser = answer_like_a_browser(
            &offer,
            "subu",
            "subscriberpassword01234",
            ("sha-256", "AA:BB"),
        );
        let r = s
            .apply_answer(&browser)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(r.tracks.len(), tracks.len(), "{name}");
    }
}

#[test]
fn simulcast_offers_report_rids_and_answer_recv() {
    for name in [
        "chrome_offer_simulcast.sdp",
        "firefox_offer_simulcast.sdp",
        "safari_offer_simulcast.sdp",
    ] {
        let (_, text) = common::corpus()
            .into_iter()
            .find(|(n, _)| n == name)
            .unwrap();
        let mut a = Answerer::new(Capabilities::default(), common::server_config()).unwrap();
        let ans = a.answer_text(&text).unwrap();
        let video = ans
            .media
            .iter()
            .find(|m| m.kind == MediaKind::Video)
            .unwrap();
        assert_eq!(video.rids.len(), 3, "{name}");
        let ans_text = ans.to_sdp_string();
        let sd = SessionDescription::parse(&ans_text).unwrap();
        let m = &sd.media[video.index];
        let sc = m.simulcast().unwrap();
        assert!(sc.send.is_none() && sc.recv.is_some(), "{name}");
        assert_eq!(m.rids().count(), 3, "{name}");
    }
}

#[test]
fn ice_restart_offer_is_detected() {
    let corpus = common::corpus();
    let first = &corpus
        .iter()
        .find(|(n, _)| n == "chrome_offer_audio_video.sdp")
        .unwrap()
        .1;
    let restart = &corpus
        .iter()
        .find(|(n, _)| n == "chrome_offer_ice_restart.sdp")
        .unwrap()
        .1;
    let mut a = Answerer::new(Capabilities::default(), common::server_config()).unwrap();
    assert!(!a.answer_text(first).unwrap().ice_restart);
    let ans = a.answer_text(restart).unwrap();
    assert!(ans.ice_restart);
    assert_eq!(ans.remote.candidates.len(), 3);
    assert_eq!(ans.sdp.origin.session_version, 2);
}

#[test]
fn bundle_only_sections_are_accepted() {
    let corpus = common::corpus();
    let gst = &corpus
        .iter()
        .find(|(n, _)| n == "gstreamer_webrtcbin_offer_vp8_opus.sdp")
        .unwrap()
        .1;
    let mut a = Answerer::new(Capabilities::default(), common::server_config()).unwrap();
    let ans = a.answer_text(gst).unwrap();
    assert_eq!(ans.media.len(), 2);
    assert_eq!(ans.media[1].mid, "audio1");
    assert_eq!(ans.media[1].codecs[0].name, "OPUS");
}
