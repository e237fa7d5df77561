//! What the server supports and how an offered codec is matched against it.
//!
//! Codec matching follows each payload format's offer/answer rules:
//! H.264 by `packetization-mode` and the profile part of `profile-level-id`
//! (RFC 6184 sections 8.1 and 8.2.2, profile table in section 8.1); VP9 by
//! `profile-id` (RFC 9628 section 6); AV1 by `profile` (AV1 RTP
//! specification, section 7.2); everything else by name, clock rate and
//! channel count (RFC 3264 section 6.1). RTX follows RFC 4588 section 8.

use std::borrow::Cow;

use crate::attr::{Fmtp, Rtpmap, Setup};
use crate::error::Error;

/// Audio or video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaKind {
    /// `m=audio`.
    Audio,
    /// `m=video`.
    Video,
}

impl MediaKind {
    /// The m= line media type.
    pub const fn as_str(self) -> &'static str {
        match self {
            MediaKind::Audio => "audio",
            MediaKind::Video => "video",
        }
    }

    /// Parses an m= line media type.
    pub fn from_name(s: &str) -> Option<Self> {
        match s {
            "audio" => Some(MediaKind::Audio),
            "video" => Some(MediaKind::Video),
            _ => None,
        }
    }
}

/// One codec the server accepts and offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodecSpec {
    /// Audio or video.
    pub kind: MediaKind,
    /// Encoding name (`opus`, `VP8`, `H264`, ...), compared case-insensitively.
    pub name: Cow<'static, str>,
    /// Clock rate.
    pub clock_rate: u32,
    /// Channels (`Some(2)` for Opus).
    pub channels: Option<u16>,
    /// fmtp written in the server's own offers; also what H.264/VP9/AV1
    /// matching compares against.
    pub fmtp: Cow<'static, str>,
    /// Payload type in the server's offers (unique in one [`Capabilities`]).
    pub pt: u8,
    /// RTX payload type in the server's offers; `None`: no RTX for this codec.
    pub rtx_pt: Option<u8>,
    /// rtcp-fb the server accepts and offers (`nack`, `nack pli`, `ccm fir`,
    /// `goog-remb`, `transport-cc`).
    pub rtcp_fb: Vec<Cow<'static, str>>,
}

const VIDEO_FB: [&str; 5] = ["goog-remb", "transport-cc", "ccm fir", "nack", "nack pli"];

impl CodecSpec {
    fn video(name: &'static str, fmtp: &'static str, pt: u8, rtx_pt: u8) -> Self {
        CodecSpec {
            kind: MediaKind::Video,
            name: Cow::Borrowed(name),
            clock_rate: 90_000,
            channels: None,
            fmtp: Cow::Borrowed(fmtp),
            pt,
            rtx_pt: Some(rtx_pt),
            rtcp_fb: VIDEO_FB.iter().map(|s| Cow::Borrowed(*s)).collect(),
        }
    }

    /// Opus, 48 kHz stereo, PT 111, with in-band FEC.
    pub fn opus() -> Self {
        CodecSpec {
            kind: MediaKind::Audio,
            name: Cow::Borrowed("opus"),
            clock_rate: 48_000,
            channels: Some(2),
            fmtp: Cow::Borrowed("minptime=10;useinbandfec=1"),
            pt: 111,
            rtx_pt: None,
            rtcp_fb: vec![Cow::Borrowed("transport-cc")],
        }
    }

    /// VP8, PT 96 / RTX 97.
    pub fn vp8() -> Self {
        Self::video("VP8", "", 96, 97)
    }

    /// VP9 profile 0, PT 98 / RTX 99.
    pub fn vp9() -> Self {
        Self::video("VP9", "profile-id=0", 98, 99)
    }

    /// H.264 constrained baseline, packetization-mode 1, PT 102 / RTX 103.
    pub fn h264_constrained_baseline() -> Self {
        Self::video(
            "H264",
            "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
            102,
            103,
        )
    }

    /// H.264 constrained baseline, packetization-mode 0, PT 104 / RTX 105.
    pub fn h264_constrained_baseline_mode0() -> Self {
        Self::video(
            "H264",
            "level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f",
            104,
            105,
        )
    }

    /// H.264 high, packetization-mode 1, PT 106 / RTX 107.
    pub fn h264_high() -> Self {
        Self::video(
            "H264",
            "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=640c1f",
            106,
            107,
        )
    }

    /// AV1 profile 0, PT 45 / RTX 46.
    pub fn av1() -> Self {
        Self::video("AV1", "", 45, 46)
    }

    /// Whether an offered codec (its rtpmap and fmtp) is this codec.
    pub fn matches(&self, rtpmap: &Rtpmap<'_>, fmtp: Option<&Fmtp<'_>>) -> bool {
        if !rtpmap.encoding.eq_ignore_ascii_case(&self.name) || rtpmap.clock_rate != self.clock_rate
        {
            return false;
        }
        if self.kind == MediaKind::Audio
            && rtpmap.channels.unwrap_or(1) != self.channels.unwrap_or(1)
        {
            return false;
        }
        let theirs = |k: &str| fmtp.and_then(|f| f.param(k));
        let ours = Fmtp {
            format: "0",
            params: &self.fmtp,
        };
        let mine = |k: &str| ours.param(k);
        if self.name.eq_ignore_ascii_case("H264") {
            let pm = |v: Option<&str>| v.unwrap_or("0").to_owned();
            if pm(theirs("packetization-mode")) != pm(mine("packetization-mode")) {
                return false;
            }
            let (Some(a), Some(b)) = (
                h264_profile(theirs("profile-level-id").unwrap_or("42000a")),
                h264_profile(mine("profile-level-id").unwrap_or("42000a")),
            ) else {
                return false;
            };
            return a == b;
        }
        if self.name.eq_ignore_ascii_case("VP9") {
            return theirs("profile-id").unwrap_or("0") == mine("profile-id").unwrap_or("0");
        }
        if self.name.eq_ignore_ascii_case("AV1") {
            return theirs("profile").unwrap_or("0") == mine("profile").unwrap_or("0");
        }
        true
    }

    /// Whether this codec (as offered or answered with `params`) accepts an
    /// rtcp-fb `kind [param]`.
    pub fn accepts_fb(&self, kind: &str, param: Option<&str>) -> bool {
        self.rtcp_fb.iter().any(|fb| {
            let (k, p) = match fb.split_once(' ') {
                Some((k, p)) => (k, Some(p)),
                None => (&**fb, None),
            };
            k == kind && p == param
        })
    }
}

/// H.264 profiles as RFC 6184 section 8.1 classifies `profile_idc` + `profile-iop`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum H264Profile {
    /// Constrained Baseline.
    ConstrainedBaseline,
    /// Baseline.
    Baseline,
    /// Main.
    Main,
    /// Extended.
    Extended,
    /// High.
    High,
    /// Constrained High.
    ConstrainedHigh,
    /// Another `profile_idc` (High 10, 4:2:2, 4:4:4, ...), kept by value.
    Other(u8),
}

/// Classifies a `profile-level-id` (six hex digits).
pub fn h264_profile(profile_level_id: &str) -> Option<H264Profile> {
    if profile_level_id.len() != 6 {
        return None;
    }
    let v = u32::from_str_radix(profile_level_id, 16).ok()?;
    let idc = ((v >> 16) & 0xff) as u8;
    let iop = ((v >> 8) & 0xff) as u8;
    // constraint_set0..3 flags are the top four bits of profile-iop.
    let set0 = iop & 0x80 != 0;
    let set1 = iop & 0x40 != 0;
    let set3 = iop & 0x10 != 0;
    Some(match idc {
        0x42 if set1 => H264Profile::ConstrainedBaseline,
        0x42 => H264Profile::Baseline,
        0x4d if set0 => H264Profile::ConstrainedBaseline,
        0x4d => H264Profile::Main,
        0x58 if set0 && set1 => H264Profile::ConstrainedBaseline,
        0x58 if set0 => H264Profile::Baseline,
        0x58 => H264Profile::Extended,
        0x64 if iop & 0x0c == 0x0c => H264Profile::ConstrainedHigh,
        0x64 if !set3 => H264Profile::High,
        other => H264Profile::Other(other),
    })
}

/// An RTP header extension the server understands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionSpec {
    /// The URI.
    pub uri: Cow<'static, str>,
    /// Which media it applies to; `None`: both.
    pub kind: Option<MediaKind>,
    /// Id in the server's own offers (1..=14).
    pub id: u8,
    /// Whether the server writes it on forwarded streams (offered to
    /// subscribers); receive-only extensions like `rtp-stream-id` are not.
    pub send: bool,
}

impl ExtensionSpec {
    /// A spec.
    pub const fn new(uri: &'static str, kind: Option<MediaKind>, id: u8, send: bool) -> Self {
        ExtensionSpec {
            uri: Cow::Borrowed(uri),
            kind,
            id,
            send,
        }
    }

    fn applies_to(&self, kind: MediaKind) -> bool {
        self.kind.is_none_or(|k| k == kind)
    }
}

/// URI of the `mid` header extension (RFC 9143 section 15).
pub const EXT_MID: &str = "urn:ietf:params:rtp-hdrext:sdes:mid";
/// URI of `rtp-stream-id` (RFC 8852).
pub const EXT_RID: &str = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";
/// URI of `repaired-rtp-stream-id` (RFC 8852).
pub const EXT_REPAIRED_RID: &str = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id";
/// URI of the audio level extension (RFC 6464).
pub const EXT_AUDIO_LEVEL: &str = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";
/// URI of absolute send time.
pub const EXT_ABS_SEND_TIME: &str = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";
/// URI of transport-wide congestion control sequence numbers.
pub const EXT_TWCC: &str =
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
/// URI of the coordination of video orientation (3GPP TS 26.114).
pub const EXT_VIDEO_ORIENTATION: &str = "urn:3gpp:video-orientation";

/// Codecs and header extensions the server supports: shared by every
/// participant of a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    /// Codecs in the server's preference order (for its own offers).
    pub codecs: Vec<CodecSpec>,
    /// Header extensions.
    pub extensions: Vec<ExtensionSpec>,
}

impl Default for Capabilities {
    /// Opus; VP8, VP9 profile 0, H.264 (constrained baseline modes 1 and 0,
    /// high mode 1), AV1, all with RTX; mid, rid, repaired-rid, audio level,
    /// abs-send-time, transport-cc, video orientation.
    fn default() -> Self {
        Capabilities {
            codecs: vec![
                CodecSpec::opus(),
                CodecSpec::vp8(),
                CodecSpec::vp9(),
                CodecSpec::h264_constrained_baseline(),
                CodecSpec::h264_constrained_baseline_mode0(),
                CodecSpec::h264_high(),
                CodecSpec::av1(),
            ],
            extensions: vec![
                ExtensionSpec::new(EXT_MID, None, 1, true),
                ExtensionSpec::new(EXT_AUDIO_LEVEL, Some(MediaKind::Audio), 2, true),
                ExtensionSpec::new(EXT_ABS_SEND_TIME, None, 3, true),
                ExtensionSpec::new(EXT_TWCC, None, 4, true),
                ExtensionSpec::new(EXT_RID, Some(MediaKind::Video), 10, false),
                ExtensionSpec::new(EXT_REPAIRED_RID, Some(MediaKind::Video), 11, false),
                ExtensionSpec::new(EXT_VIDEO_ORIENTATION, Some(MediaKind::Video), 13, true),
            ],
        }
    }
}

impl Capabilities {
    /// Checks the tables: unique payload types and extension ids, ids in 1..=14.
    pub fn validate(&self) -> Result<(), Error> {
        let mut pts = [false; 128];
        for c in &self.codecs {
            for pt in core::iter::once(c.pt).chain(c.rtx_pt) {
                let slot = pts
                    .get_mut(usize::from(pt))
                    .ok_or(Error::misuse("codec payload type above 127"))?;
                if *slot {
                    return Err(Error::misuse("duplicate payload type in capabilities"));
                }
                *slot = true;
            }
        }
        let mut ids = [false; 15];
        for e in &self.extensions {
            let slot = ids
                .get_mut(usize::from(e.id))
                .filter(|_| e.id != 0)
                .ok_or(Error::misuse("extension id outside 1..=14"))?;
            if *slot {
                return Err(Error::misuse("duplicate extension id in capabilities"));
            }
            *slot = true;
        }
        Ok(())
    }

    /// The first codec spec matching an offered codec.
    pub fn find_codec(
        &self,
        kind: MediaKind,
        rtpmap: &Rtpmap<'_>,
        fmtp: Option<&Fmtp<'_>>,
    ) -> Option<&CodecSpec> {
        self.codecs
            .iter()
            .find(|c| c.kind == kind && c.matches(rtpmap, fmtp))
    }

    /// The extension spec for a URI and kind.
    pub fn find_extension(&self, kind: MediaKind, uri: &str) -> Option<&ExtensionSpec> {
        self.extensions
            .iter()
            .find(|e| e.applies_to(kind) && e.uri == uri)
    }

    /// Extensions offered to subscribers for a kind.
    pub fn send_extensions(&self, kind: MediaKind) -> impl Iterator<Item = &ExtensionSpec> {
        self.extensions
            .iter()
            .filter(move |e| e.send && e.applies_to(kind))
    }
}

/// The server's transport identity for one peer connection. Everything
/// random (session id, ICE credentials) is chosen by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// `o=` session id.
    pub session_id: u64,
    /// Our ICE ufrag (4..=256 ice-chars).
    pub ice_ufrag: String,
    /// Our ICE password (22..=256 ice-chars).
    pub ice_pwd: String,
    /// `(hash function, colon separated hex)` of our DTLS certificate(s).
    pub fingerprints: Vec<(String, String)>,
    /// Our candidates as `a=candidate` values (ICE-lite: all of them, up front).
    pub candidates: Vec<String>,
    /// The DTLS role we take when the offer says `actpass`: `Passive`
    /// (DTLS server, the usual choice of an ICE-lite server) or `Active`.
    pub setup_when_actpass: Setup,
    /// Our SCTP port; `None` rejects data channel sections.
    pub sctp_port: Option<u16>,
    /// Our `max-message-size`.
    pub max_message_size: u64,
}

impl ServerConfig {
    /// A config with the usual defaults (passive, SCTP on port 5000, 256 KiB messages).
    pub fn new(session_id: u64, ice_ufrag: &str, ice_pwd: &str) -> Self {
        ServerConfig {
            session_id,
            ice_ufrag: ice_ufrag.to_owned(),
            ice_pwd: ice_pwd.to_owned(),
            fingerprints: Vec::new(),
            candidates: Vec::new(),
            setup_when_actpass: Setup::Passive,
            sctp_port: Some(5000),
            max_message_size: 262_144,
        }
    }

    /// Checks that every field serializes into valid SDP.
    pub fn validate(&self) -> Result<(), Error> {
        crate::attr::parse_ice_ufrag(&self.ice_ufrag)
            .map_err(|_| Error::misuse("invalid ICE ufrag"))?;
        crate::attr::parse_ice_pwd(&self.ice_pwd)
            .map_err(|_| Error::misuse("invalid ICE password"))?;
        if self.fingerprints.is_empty() {
            return Err(Error::misuse("no DTLS fingerprint"));
        }
        for (alg, value) in &self.fingerprints {
            crate::attr::Fingerprint::parse(&format!("{alg} {value}"))
                .map_err(|_| Error::misuse("invalid fingerprint"))?;
        }
        if self.candidates.len() > crate::limits::MAX_CANDIDATES_PER_SECTION {
            return Err(Error::misuse("too many candidates"));
        }
        for c in &self.candidates {
            crate::attr::Candidate::parse(c).map_err(|_| Error::misuse("invalid candidate"))?;
        }
        if !matches!(self.setup_when_actpass, Setup::Active | Setup::Passive) {
            return Err(Error::misuse(
                "setup_when_actpass must be active or passive",
            ));
        }
        Ok(())
    }

    /// Port and address for m= and c=: the first candidate's, else 9 and 0.0.0.0.
    pub(crate) fn default_address(&self) -> (u16, String) {
        self.candidates
            .first()
            .and_then(|c| crate::attr::Candidate::parse(c).ok())
            .map(|c| (c.port, c.address.to_owned()))
            .unwrap_or((9, "0.0.0.0".to_owned()))
    }
}

/// A codec both sides agreed on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NegotiatedCodec {
    /// Payload type on the wire.
    pub pt: u8,
    /// Encoding name as the peer wrote it.
    pub name: String,
    /// Clock rate.
    pub clock_rate: u32,
    /// Channels.
    pub channels: Option<u16>,
    /// fmtp parameters as agreed.
    pub fmtp: String,
    /// RTX payload type, if RTX was agreed for this codec.
    pub rtx_pt: Option<u8>,
    /// rtcp-fb agreed for this codec (`nack`, `nack pli`, ...).
    pub rtcp_fb: Vec<String>,
}

impl NegotiatedCodec {
    /// The codec as an rtpmap (for matching against a [`CodecSpec`]).
    pub fn rtpmap(&self) -> Rtpmap<'_> {
        Rtpmap {
            pt: self.pt,
            encoding: &self.name,
            clock_rate: self.clock_rate,
            channels: self.channels,
        }
    }

    /// The codec's fmtp (for matching against a [`CodecSpec`]).
    pub fn fmtp(&self) -> Fmtp<'_> {
        Fmtp {
            format: "0",
            params: &self.fmtp,
        }
    }
}

/// A header extension both sides agreed on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NegotiatedExtension {
    /// The id on the wire.
    pub id: u16,
    /// The URI.
    pub uri: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6184_8_1_profile_classification() {
        assert_eq!(
            h264_profile("42e01f"),
            Some(H264Profile::ConstrainedBaseline)
        );
        assert_eq!(h264_profile("42001f"), Some(H264Profile::Baseline));
        assert_eq!(h264_profile("4d001f"), Some(H264Profile::Main));
        assert_eq!(
            h264_profile("4d801f"),
            Some(H264Profile::ConstrainedBaseline)
        );
        assert_eq!(h264_profile("640c1f"), Some(H264Profile::ConstrainedHigh));
        assert_eq!(h264_profile("64001f"), Some(H264Profile::High));
        assert_eq!(h264_profile("f4001f"), Some(H264Profile::Other(0xf4)));
        assert_eq!(h264_profile("42e01"), None);
        assert_eq!(h264_profile("zze01f"), None);
    }

    #[test]
    fn h264_matching_uses_mode_and_profile_not_level() {
        let spec = CodecSpec::h264_constrained_baseline();
        let r = Rtpmap::parse("102 H264/90000").unwrap();
        let f = Fmtp::parse(
            "102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e034",
        )
        .unwrap();
        assert!(spec.matches(&r, Some(&f)));
        let f0 = Fmtp::parse("102 packetization-mode=0;profile-level-id=42e01f").unwrap();
        assert!(!spec.matches(&r, Some(&f0)));
        let main = Fmtp::parse("102 packetization-mode=1;profile-level-id=4d001f").unwrap();
        assert!(!spec.matches(&r, Some(&main)));
        assert!(!spec.matches(&r, None), "defaults are baseline mode 0");
    }

    #[test]
    fn default_capabilities_are_consistent() {
        Capabilities::default().validate().unwrap();
        let mut c = Capabilities::default();
        c.codecs.push(CodecSpec::vp8());
        assert!(c.validate().is_err());
    }
}
