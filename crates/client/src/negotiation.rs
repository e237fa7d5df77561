//! What signaling hands the SFU's [`tern_signal::MediaPlane`] for a simple
//! publisher or subscriber, without SDP: the accepted sections of a publish
//! offer (RFC 8829 §5.3 as the SFU's answerer would settle them) and the
//! tracks of a subscribe answer.
//!
//! Codecs: VP8 at 90 kHz (RFC 7741) with `nack`, `nack pli` and optional
//! RTX (RFC 4588) for video; Opus at 48 kHz, 2 channels (RFC 7587) for
//! audio. No header extensions.
use tern_sdp::codec::NegotiatedExtension;
use tern_sdp::{AcceptedMedia, Direction, MediaKind, NegotiatedCodec, SubscriberTrack};
use tern_signal::{PublishedTrack, SubscribedTrack};

/// The usual browser payload types.
pub const VP8_PT: u8 = 96;
/// RTX for [`VP8_PT`].
pub const VP8_RTX_PT: u8 = 97;
/// Opus.
pub const OPUS_PT: u8 = 111;

/// One track a publisher sends, and how the SFU forwards it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackSpec {
    /// Audio (Opus) or video (VP8).
    pub kind: MediaKind,
    /// The publisher's mid for the section.
    pub mid: String,
    /// Stable key of the forwarded track (the msid track id subscribers
    /// see).
    pub track_id: String,
    /// The SSRC the publisher sends.
    pub ssrc: u32,
    /// The publisher's RTX SSRC (video only).
    pub rtx_ssrc: Option<u32>,
    /// The publisher's payload type.
    pub pt: u8,
    /// The publisher's RTX payload type (video only).
    pub rtx_pt: Option<u8>,
    /// The SSRC the SFU uses toward subscribers.
    pub forward_ssrc: u32,
    /// The RTX SSRC the SFU uses toward subscribers (video only).
    pub forward_rtx_ssrc: Option<u32>,
}

impl TrackSpec {
    /// A VP8 video track on payload type 96, without RTX.
    pub fn video(mid: &str, track_id: &str, ssrc: u32, forward_ssrc: u32) -> TrackSpec {
        TrackSpec {
            kind: MediaKind::Video,
            mid: mid.to_owned(),
            track_id: track_id.to_owned(),
            ssrc,
            rtx_ssrc: None,
            pt: VP8_PT,
            rtx_pt: None,
            forward_ssrc,
            forward_rtx_ssrc: None,
        }
    }

    /// An Opus audio track on payload type 111.
    pub fn audio(mid: &str, track_id: &str, ssrc: u32, forward_ssrc: u32) -> TrackSpec {
        TrackSpec {
            kind: MediaKind::Audio,
            pt: OPUS_PT,
            ..TrackSpec::video(mid, track_id, ssrc, forward_ssrc)
        }
    }

    /// The same track with RTX: the publisher's RTX SSRC, RTX payload type
    /// 97 and the SFU's forwarded RTX SSRC.
    pub fn with_rtx(self, rtx_ssrc: u32, forward_rtx_ssrc: u32) -> TrackSpec {
        TrackSpec {
            rtx_ssrc: Some(rtx_ssrc),
            rtx_pt: Some(VP8_RTX_PT),
            forward_rtx_ssrc: Some(forward_rtx_ssrc),
            ..self
        }
    }

    /// The codec as negotiated on the publish side.
    pub fn codec(&self) -> NegotiatedCodec {
        match self.kind {
            MediaKind::Audio => opus(self.pt),
            MediaKind::Video => vp8(self.pt, self.rtx_pt),
        }
    }
}

/// VP8 at 90 kHz with `nack` and `nack pli`, RTX on `rtx_pt` if given.
pub fn vp8(pt: u8, rtx_pt: Option<u8>) -> NegotiatedCodec {
    NegotiatedCodec {
        pt,
        name: "VP8".into(),
        clock_rate: 90_000,
        channels: None,
        fmtp: String::new(),
        rtx_pt,
        rtcp_fb: vec!["nack".into(), "nack pli".into()],
    }
}

/// Opus at 48 kHz, 2 channels.
pub fn opus(pt: u8) -> NegotiatedCodec {
    NegotiatedCodec {
        pt,
        name: "opus".into(),
        clock_rate: 48_000,
        channels: Some(2),
        fmtp: "minptime=10;useinbandfec=1".into(),
        rtx_pt: None,
        rtcp_fb: vec![],
    }
}

/// The accepted sections and forwarded tracks of a publish offer sending
/// `tracks` (section `i` is `tracks[i]`, `sendonly` answered `recvonly`):
/// the `media` and `tracks` of a [`tern_signal::PublishNegotiation`].
pub fn publish_media(tracks: &[TrackSpec]) -> (Vec<AcceptedMedia>, Vec<PublishedTrack>) {
    let media = tracks
        .iter()
        .enumerate()
        .map(|(index, t)| AcceptedMedia {
            index,
            mid: t.mid.clone(),
            kind: t.kind,
            offered_direction: Direction::SendOnly,
            direction: Direction::RecvOnly,
            codecs: vec![t.codec()],
            extensions: Vec::<NegotiatedExtension>::new(),
            msid: None,
            ssrcs: vec![t.ssrc],
            rtx_ssrcs: t.rtx_ssrc.map(|r| (t.ssrc, r)).into_iter().collect(),
            rids: vec![],
            cname: None,
        })
        .collect();
    let published = tracks
        .iter()
        .map(|t| PublishedTrack {
            track_id: t.track_id.clone(),
            mid: t.mid.clone(),
            kind: t.kind,
            forward_ssrc: t.forward_ssrc,
            forward_rtx_ssrc: t.forward_rtx_ssrc,
        })
        .collect();
    (media, published)
}

/// The payload types a subscriber accepted in its answer (they may differ
/// from the publisher's: the SFU rewrites them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubscriberPts {
    /// VP8.
    pub video: u8,
    /// RTX for VP8; `None`: the subscriber takes no RTX.
    pub video_rtx: Option<u8>,
    /// Opus.
    pub audio: u8,
}

impl Default for SubscriberPts {
    /// 96 (VP8), 97 (RTX), 111 (Opus).
    fn default() -> Self {
        SubscriberPts {
            video: VP8_PT,
            video_rtx: Some(VP8_RTX_PT),
            audio: OPUS_PT,
        }
    }
}

/// The tracks a subscriber receives from `publisher`'s `tracks`, for a
/// [`tern_signal::SubscribeNegotiation`]. The subscriber's sections get
/// mids `first_mid`, `first_mid + 1`, … (mids must be unique across all the
/// subscriber's tracks: give each publisher its own range); the stream id
/// is the publisher's name. A video track carries RTX only when both the
/// publisher forwards RTX and `pts.video_rtx` is set.
pub fn subscribed_tracks(
    publisher: &str,
    tracks: &[TrackSpec],
    first_mid: usize,
    pts: SubscriberPts,
) -> Vec<SubscribedTrack> {
    tracks
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let (codec, rtx_ssrc) = match t.kind {
                MediaKind::Audio => (opus(pts.audio), None),
                MediaKind::Video => {
                    let rtx = t.forward_rtx_ssrc.zip(pts.video_rtx);
                    (vp8(pts.video, rtx.map(|r| r.1)), rtx.map(|r| r.0))
                }
            };
            SubscribedTrack {
                publisher: publisher.to_owned(),
                publisher_mid: t.mid.clone(),
                track: SubscriberTrack {
                    mid: (first_mid + i).to_string(),
                    kind: t.kind,
                    track_id: t.track_id.clone(),
                    stream_id: publisher.to_owned(),
                    ssrc: t.forward_ssrc,
                    rtx_ssrc,
                    codecs: vec![codec],
                    extensions: Vec::new(),
                },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_media_maps_rtx_pairs_and_forward_ssrcs() {
        let tracks = [
            TrackSpec::audio("0", "p-a", 0x10, 0xA0),
            TrackSpec::video("1", "p-v", 0x20, 0xB0).with_rtx(0x21, 0xB1),
        ];
        let (media, published) = publish_media(&tracks);
        assert_eq!(media.len(), 2);
        assert_eq!(media[0].codecs[0].name, "opus");
        assert!(media[0].rtx_ssrcs.is_empty());
        assert_eq!(media[1].index, 1);
        assert_eq!(media[1].rtx_ssrcs, vec![(0x20, 0x21)]);
        assert_eq!(media[1].codecs[0].rtx_pt, Some(VP8_RTX_PT));
        assert_eq!(published[1].forward_rtx_ssrc, Some(0xB1));
        assert_eq!(published[0].kind, MediaKind::Audio);
    }

    #[test]
    fn subscribed_tracks_number_mids_and_drop_rtx_when_refused() {
        let tracks = [
            TrackSpec::audio("0", "p-a", 0x10, 0xA0),
            TrackSpec::video("1", "p-v", 0x20, 0xB0).with_rtx(0x21, 0xB1),
        ];
        let pts = SubscriberPts {
            video: 100,
            video_rtx: None,
            audio: 109,
        };
        let subs = subscribed_tracks("p", &tracks, 4, pts);
        assert_eq!(subs[0].track.mid, "4");
        assert_eq!(subs[1].track.mid, "5");
        assert_eq!(subs[1].publisher_mid, "1");
        assert_eq!(subs[1].track.rtx_ssrc, None);
        assert_eq!(subs[1].track.codecs[0].pt, 100);
        assert_eq!(subs[1].track.codecs[0].rtx_pt, None);
        assert_eq!(subs[0].track.codecs[0].pt, 109);
        let subs = subscribed_tracks("p", &tracks, 0, SubscriberPts::default());
        assert_eq!(subs[1].track.rtx_ssrc, Some(0xB1));
        assert_eq!(subs[1].track.codecs[0].rtx_pt, Some(VP8_RTX_PT));
    }
}
