//! The SFU's offers to a subscriber (the subscribe transport).
//!
//! RFC 8829 (JSEP) sections 5.2.1 and 5.2.2 (initial and subsequent offers:
//! m= sections are never removed, mids never change, a stopped track's
//! section goes `inactive`, a rejected section is recycled), section 5.3.1
//! from the answer side, RFC 8830 (msid: stream id = publishing
//! participant), RFC 5576 (ssrc cname/msid lines, `ssrc-group:FID`),
//! RFC 4588 (RTX), RFC 9143 (one BUNDLE group with every live section),
//! RFC 8842 section 5.2 (offers say `actpass`), RFC 3264 section 8
//! (session version incremented per offer).
//!
//! Mids are allocated once per section and never change. A section whose
//! track went away is offered `inactive`; once the subscriber has answered
//! that offer, the section may carry a new track of the same kind. A section
//! the subscriber rejected (port 0) is recycled for any kind with a fresh mid.

use std::borrow::Cow;

use crate::answer::{
    is_rtx, new_section, push_candidates, push_codec, push_transport, remote_transport,
    section_codecs, session_skeleton, RemoteTransport,
};
use crate::attr::{Direction, Extmap, Msid, Setup};
use crate::codec::{Capabilities, MediaKind, NegotiatedCodec, NegotiatedExtension, ServerConfig};
use crate::error::Error;
use crate::limits::MAX_MEDIA_SECTIONS;
use crate::session::{Attribute, Connection, Media, SessionDescription};

const PROTO: &str = "UDP/TLS/RTP/SAVPF";

/// A track the SFU wants to forward to this subscriber.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardedTrack {
    /// Stable key of the track across offers (the SFU's choice, e.g.
    /// `"p3:1"`); also written as the msid track id.
    pub id: String,
    /// The msid stream id: the publishing participant's id.
    pub stream_id: String,
    /// Audio or video.
    pub kind: MediaKind,
    /// The SSRC the SFU sends this track with.
    pub ssrc: u32,
    /// The RTX SSRC, if the SFU retransmits with RTX.
    pub rtx_ssrc: Option<u32>,
    /// RTCP CNAME.
    pub cname: String,
    /// Codecs the track may be sent in (as negotiated with the publisher);
    /// empty means every server codec of this kind. They are offered with the
    /// server's payload types from [`Capabilities`].
    pub codecs: Vec<NegotiatedCodec>,
}

/// What one subscribe section carries, for the signaling `tracks` message
/// and, after an answer, for the forwarding path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriberTrack {
    /// The section's mid.
    pub mid: String,
    /// Audio or video.
    pub kind: MediaKind,
    /// [`ForwardedTrack::id`].
    pub track_id: String,
    /// [`ForwardedTrack::stream_id`] (the publisher).
    pub stream_id: String,
    /// SSRC the SFU sends.
    pub ssrc: u32,
    /// RTX SSRC the SFU sends.
    pub rtx_ssrc: Option<u32>,
    /// Codecs the subscriber accepted (server payload types); empty before an answer.
    pub codecs: Vec<NegotiatedCodec>,
    /// Header extensions the subscriber accepted (server ids); empty before an answer.
    pub extensions: Vec<NegotiatedExtension>,
}

/// The result of applying a subscriber's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriberAnswer {
    /// Tracks the subscriber accepted, with negotiated payload types and extension ids.
    pub tracks: Vec<SubscriberTrack>,
    /// Track ids whose sections the subscriber rejected or made inactive.
    pub refused: Vec<String>,
    /// The subscriber's transport.
    pub remote: RemoteTransport,
    /// Our DTLS role.
    pub dtls_role: Setup,
    /// True when the answer changed the subscriber's ICE credentials.
    pub ice_restart: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum SlotState {
    /// Carries a track.
    Live(Box<ForwardedTrack>),
    /// Track removed in the outstanding offer; not reusable until answered.
    Stopping,
    /// Inactive and answered: reusable for a track of the same kind.
    Free,
    /// The subscriber rejected it: recycled with a new mid.
    Rejected,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Slot {
    mid: String,
    kind: MediaKind,
    state: SlotState,
    codecs: Vec<NegotiatedCodec>,
    extensions: Vec<NegotiatedExtension>,
}

/// Offer/answer state of one subscriber's transport.
#[derive(Debug, Clone)]
pub struct SubscriberSession {
    caps: Capabilities,
    config: ServerConfig,
    slots: Vec<Slot>,
    next_mid: u64,
    version: u64,
    /// Slots as they were before the outstanding offer (for [`Self::cancel_offer`]).
    pending: Option<(Vec<Slot>, u64)>,
    last_remote: Option<(RemoteTransport, Setup)>,
}

impl SubscriberSession {
    /// A session with no sections yet. Checks both tables.
    pub fn new(caps: Capabilities, config: ServerConfig) -> Result<Self, Error> {
        caps.validate()?;
        config.validate()?;
        Ok(SubscriberSession {
            caps,
            config,
            slots: Vec::new(),
            next_mid: 0,
            version: 0,
            pending: None,
            last_remote: None,
        })
    }

    /// Replaces the transport identity for the next offer (ICE restart, new candidates).
    pub fn set_config(&mut self, config: ServerConfig) -> Result<(), Error> {
        config.validate()?;
        self.config = config;
        Ok(())
    }

    /// Whether an offer awaits its answer.
    pub fn has_pending_offer(&self) -> bool {
        self.pending.is_some()
    }

    /// The current mapping (after the latest offer) of mids to tracks: the
    /// content of the signaling `tracks` message.
    pub fn tracks(&self) -> Vec<SubscriberTrack> {
        self.slots
            .iter()
            .filter_map(|s| match &s.state {
                SlotState::Live(t) => Some(SubscriberTrack {
                    mid: s.mid.clone(),
                    kind: t.kind,
                    track_id: t.id.clone(),
                    stream_id: t.stream_id.clone(),
                    ssrc: t.ssrc,
                    rtx_ssrc: t.rtx_ssrc,
                    codecs: s.codecs.clone(),
                    extensions: s.extensions.clone(),
                }),
                _ => None,
            })
            .collect()
    }

    /// Creates an offer carrying exactly `tracks`. Tracks already offered
    /// keep their mids; tracks gone make their sections inactive.
    /// Fails while another offer is outstanding (signaling-v1: never two).
    pub fn create_offer(
        &mut self,
        tracks: &[ForwardedTrack],
    ) -> Result<SessionDescription<'static>, Error> {
        if self.pending.is_some() {
            return Err(Error::misuse("an offer is already outstanding"));
        }
        for (i, t) in tracks.iter().enumerate() {
            if tracks.iter().take(i).any(|o| o.id == t.id) {
                return Err(Error::misuse("duplicate track id"));
            }
            if !crate::syntax::is_token(&t.id) || t.id.len() > 64 {
                return Err(Error::misuse(
                    "track id must be a token of at most 64 characters",
                ));
            }
            if !crate::syntax::is_token(&t.stream_id) || t.stream_id.len() > 64 {
                return Err(Error::misuse(
                    "stream id must be a token of at most 64 characters",
                ));
            }
            if !crate::syntax::is_word(&t.cname) || t.cname.contains(':') {
                return Err(Error::misuse("cname must be one word"));
            }
            if self.offer_codecs(t).is_empty() {
                return Err(Error::misuse("no server codec for a forwarded track"));
            }
        }
        let before = self.slots.clone();
        // Tracks that stay, or go.
        for s in &mut self.slots {
            if let SlotState::Live(t) = &s.state {
                match tracks.iter().find(|n| n.id == t.id) {
                    Some(n) if n.kind == s.kind => s.state = SlotState::Live(Box::new(n.clone())),
                    _ => {
                        s.state = SlotState::Stopping;
                        s.codecs.clear();
                        s.extensions.clear();
                    }
                }
            }
        }
        // New tracks: reuse a free section of the kind, recycle a rejected one, or append.
        for t in tracks {
            let present = self
                .slots
                .iter()
                .any(|s| matches!(&s.state, SlotState::Live(x) if x.id == t.id));
            if present {
                continue;
            }
            let state = SlotState::Live(Box::new(t.clone()));
            if let Some(s) = self
                .slots
                .iter_mut()
                .find(|s| s.state == SlotState::Free && s.kind == t.kind)
            {
                s.state = state;
            } else if let Some(s) = self
                .slots
                .iter_mut()
                .find(|s| s.state == SlotState::Rejected)
            {
                s.mid = self.next_mid.to_string();
                self.next_mid += 1;
                s.kind = t.kind;
                s.state = state;
            } else {
                if self.slots.len() >= MAX_MEDIA_SECTIONS {
                    self.slots = before;
                    return Err(Error::limit(
                        0,
                        "too many media sections for one subscriber",
                    ));
                }
                self.slots.push(Slot {
                    mid: self.next_mid.to_string(),
                    kind: t.kind,
                    state,
                    codecs: Vec::new(),
                    extensions: Vec::new(),
                });
                self.next_mid += 1;
            }
        }
        let version_before = self.version;
        self.version += 1;
        self.pending = Some((before, version_before));
        Ok(self.build_offer())
    }

    /// Abandons the outstanding offer (the subscriber never answered, or
    /// answered with an error): the sections go back to how they were.
    pub fn cancel_offer(&mut self) {
        if let Some((slots, _)) = self.pending.take() {
            self.slots = slots;
        }
    }

    fn offer_codecs(&self, t: &ForwardedTrack) -> Vec<NegotiatedCodec> {
        let mut out: Vec<NegotiatedCodec> = Vec::new();
        let specs: Vec<&crate::codec::CodecSpec> = if t.codecs.is_empty() {
            self.caps
                .codecs
                .iter()
                .filter(|c| c.kind == t.kind)
                .collect()
        } else {
            t.codecs
                .iter()
                .filter_map(|c| {
                    let f = c.fmtp();
                    self.caps.find_codec(t.kind, &c.rtpmap(), Some(&f))
                })
                .collect()
        };
        for spec in specs {
            if out.iter().any(|c| c.pt == spec.pt) {
                continue;
            }
            out.push(spec_codec(spec, t.rtx_ssrc.is_some()));
        }
        out
    }

    fn kind_codecs(&self, kind: MediaKind) -> Vec<NegotiatedCodec> {
        self.caps
            .codecs
            .iter()
            .filter(|c| c.kind == kind)
            .map(|c| spec_codec(c, false))
            .collect()
    }

    fn build_offer(&self) -> SessionDescription<'static> {
        let mut sd = session_skeleton(&self.config, self.version);
        let live: Vec<&str> = self
            .slots
            .iter()
            .filter(|s| s.state != SlotState::Rejected)
            .map(|s| s.mid.as_str())
            .collect();
        if !live.is_empty() {
            sd.attributes.push(Attribute::new(
                "group",
                format_args!("BUNDLE {}", live.join(" ")),
            ));
        }
        sd.attributes.push(Attribute::flag("ice-lite"));
        sd.attributes.push(Attribute::new("msid-semantic", " WMS"));
        for s in &self.slots {
            let codecs = match &s.state {
                SlotState::Live(t) => self.offer_codecs(t),
                _ => self.kind_codecs(s.kind),
            };
            if s.state == SlotState::Rejected {
                let first = codecs.first().map_or(0, |c| c.pt);
                let mut m = Media::new(s.kind.as_str(), 0, PROTO, first.to_string());
                m.connections.push(Connection::for_address("0.0.0.0"));
                m.push_attr("mid", &s.mid);
                sd.media.push(m);
                continue;
            }
            let mut formats = String::new();
            for c in &codecs {
                for pt in core::iter::once(c.pt).chain(c.rtx_pt) {
                    if !formats.is_empty() {
                        formats.push(' ');
                    }
                    crate::syntax::push_u64(&mut formats, u64::from(pt));
                }
            }
            let mut m = new_section(s.kind.as_str(), PROTO, formats, &self.config);
            push_transport(&mut m, &self.config, Setup::ActPass);
            m.push_attr("mid", &s.mid);
            for e in self.caps.send_extensions(s.kind) {
                m.push_attr(
                    "extmap",
                    Extmap {
                        id: u16::from(e.id),
                        direction: None,
                        uri: &e.uri,
                        attributes: None,
                    },
                );
            }
            match &s.state {
                SlotState::Live(t) => {
                    m.push_flag("sendonly");
                    m.push_attr(
                        "msid",
                        Msid {
                            stream_id: &t.stream_id,
                            track_id: Some(&t.id),
                        },
                    );
                }
                _ => m.push_flag("inactive"),
            }
            m.push_flag("rtcp-mux");
            m.push_flag("rtcp-rsize");
            for c in &codecs {
                push_codec(&mut m, c);
            }
            if let SlotState::Live(t) = &s.state {
                if let Some(rtx) = t.rtx_ssrc {
                    m.push_attr("ssrc-group", format_args!("FID {} {rtx}", t.ssrc));
                }
                for ssrc in core::iter::once(t.ssrc).chain(t.rtx_ssrc) {
                    m.push_attr("ssrc", format_args!("{ssrc} cname:{}", t.cname));
                    m.push_attr("ssrc", format_args!("{ssrc} msid:{} {}", t.stream_id, t.id));
                }
            }
            push_candidates(&mut m, &self.config);
            sd.media.push(m);
        }
        sd
    }

    /// Parses and applies the subscriber's answer to the outstanding offer.
    pub fn apply_answer_text(&mut self, answer: &str) -> Result<SubscriberAnswer, Error> {
        let sd = SessionDescription::parse(answer)?;
        self.apply_answer(&sd)
    }

    /// Applies the subscriber's answer to the outstanding offer. On error the
    /// offer stays outstanding (call [`Self::cancel_offer`] to drop it).
    pub fn apply_answer(
        &mut self,
        answer: &SessionDescription<'_>,
    ) -> Result<SubscriberAnswer, Error> {
        if self.pending.is_none() {
            return Err(Error::misuse("no offer outstanding"));
        }
        if answer.media.len() != self.slots.len() {
            return Err(Error::negotiation(
                0,
                "answer has a different number of media sections",
            ));
        }
        // Validate everything before changing any state.
        let mut results: Vec<Option<(Vec<NegotiatedCodec>, Vec<NegotiatedExtension>)>> =
            Vec::with_capacity(self.slots.len());
        let mut accepted_idx = Vec::new();
        for (i, (s, m)) in self.slots.iter().zip(&answer.media).enumerate() {
            if m.kind != s.kind.as_str() {
                return Err(Error::negotiation(
                    0,
                    "answer changed a section's media type",
                ));
            }
            if m.is_rejected() || s.state == SlotState::Rejected {
                results.push(None);
                continue;
            }
            if m.mid() != Some(s.mid.as_str()) {
                return Err(Error::negotiation(0, "answer changed a section's mid"));
            }
            if !m.has_attribute("rtcp-mux") {
                return Err(Error::negotiation(0, "answer without rtcp-mux"));
            }
            accepted_idx.push(i);
            if !matches!(s.state, SlotState::Live(_)) {
                results.push(None);
                continue;
            }
            if m.direction().sends() || !m.direction().receives() {
                results.push(None);
                continue;
            }
            let offered = match &s.state {
                SlotState::Live(t) => self.offer_codecs(t),
                _ => Vec::new(),
            };
            let mut codecs = Vec::new();
            for (r, f) in section_codecs(m) {
                if is_rtx(&r) {
                    continue;
                }
                let Some(o) = offered.iter().find(|c| c.pt == r.pt) else {
                    return Err(Error::negotiation(
                        0,
                        "answer uses a payload type that was not offered",
                    ));
                };
                if !r.encoding.eq_ignore_ascii_case(&o.name) || r.clock_rate != o.clock_rate {
                    return Err(Error::negotiation(0, "answer remapped a payload type"));
                }
                let answered_rtx = o.rtx_pt.filter(|rtx| m.payload_types().any(|p| p == *rtx));
                let rtcp_fb = m
                    .rtcp_fbs()
                    .filter(|fb| fb.pt.matches(r.pt))
                    .map(|fb| match fb.param {
                        Some(p) => format!("{} {p}", fb.kind),
                        None => fb.kind.to_owned(),
                    })
                    .filter(|fb| o.rtcp_fb.contains(fb))
                    .collect();
                codecs.push(NegotiatedCodec {
                    pt: r.pt,
                    name: o.name.clone(),
                    clock_rate: o.clock_rate,
                    channels: o.channels,
                    fmtp: f
                        .map(|f| f.params.to_owned())
                        .unwrap_or_else(|| o.fmtp.clone()),
                    rtx_pt: answered_rtx,
                    rtcp_fb,
                });
            }
            if codecs.is_empty() {
                return Err(Error::negotiation(
                    0,
                    "answer accepted a section with no codec",
                ));
            }
            let mut extensions = Vec::new();
            for e in m.extmaps() {
                let ours = self
                    .caps
                    .send_extensions(s.kind)
                    .find(|x| u16::from(x.id) == e.id && x.uri == e.uri);
                if ours.is_some() {
                    extensions.push(NegotiatedExtension {
                        id: e.id,
                        uri: e.uri.to_owned(),
                    });
                }
            }
            results.push(Some((codecs, extensions)));
        }
        let (remote, dtls_role, ice_restart) = if accepted_idx.is_empty() {
            // Everything rejected: no transport in the answer; keep the last one.
            let (remote, role) = self
                .last_remote
                .clone()
                .unwrap_or_else(|| (RemoteTransport::default(), Setup::Passive));
            (remote, role, false)
        } else {
            let (remote, remote_setup) = remote_transport(answer, &accepted_idx)?;
            let dtls_role = match remote_setup {
                Some(Setup::Active) | None => Setup::Passive,
                Some(Setup::Passive) => Setup::Active,
                Some(_) => {
                    return Err(Error::negotiation(
                        0,
                        "answer setup must be active or passive",
                    ))
                }
            };
            let ice_restart = self
                .last_remote
                .as_ref()
                .is_some_and(|(r, _)| r.ice_ufrag != remote.ice_ufrag);
            (remote, dtls_role, ice_restart)
        };
        self.last_remote = Some((remote.clone(), dtls_role));

        let mut refused = Vec::new();
        for ((s, m), r) in self.slots.iter_mut().zip(&answer.media).zip(results) {
            if m.is_rejected() {
                if let SlotState::Live(t) = &s.state {
                    refused.push(t.id.clone());
                }
                s.state = SlotState::Rejected;
                s.codecs.clear();
                s.extensions.clear();
                continue;
            }
            match (&s.state, r) {
                (SlotState::Live(_), Some((codecs, extensions))) => {
                    s.codecs = codecs;
                    s.extensions = extensions;
                }
                (SlotState::Live(t), None) => {
                    refused.push(t.id.clone());
                    s.codecs.clear();
                    s.extensions.clear();
                }
                (SlotState::Stopping, _) => s.state = SlotState::Free,
                _ => {}
            }
        }
        self.pending = None;
        let refused_ids = refused.clone();
        let tracks = self
            .tracks()
            .into_iter()
            .filter(|t| !refused_ids.contains(&t.track_id))
            .collect();
        Ok(SubscriberAnswer {
            tracks,
            refused,
            remote,
            dtls_role,
            ice_restart,
        })
    }
}

fn spec_codec(spec: &crate::codec::CodecSpec, with_rtx: bool) -> NegotiatedCodec {
    NegotiatedCodec {
        pt: spec.pt,
        name: spec.name.to_string(),
        clock_rate: spec.clock_rate,
        channels: spec.channels,
        fmtp: spec.fmtp.to_string(),
        rtx_pt: if with_rtx { spec.rtx_pt } else { None },
        rtcp_fb: spec.rtcp_fb.iter().map(|s| s.to_string()).collect(),
    }
}

/// Builds the answer a browser would give to a subscribe offer: every
/// section accepted `recvonly` (inactive ones stay inactive), first codec
/// and its RTX kept, every extension kept, `setup:active`. For tests, fuzzing
/// and the simulator; a real subscriber produces its own.
pub fn answer_like_a_browser(
    offer: &SessionDescription<'_>,
    ice_ufrag: &str,
    ice_pwd: &str,
    fingerprint: (&str, &str),
) -> SessionDescription<'static> {
    let mut sd = offer.clone().into_owned();
    sd.origin.username = Cow::Borrowed("-");
    sd.origin.session_id = sd.origin.session_id.wrapping_add(1);
    sd.attributes.retain(|a| a.name == "group");
    for m in &mut sd.media {
        if m.port == 0 {
            continue;
        }
        let dir = m.direction();
        let pts: Vec<u8> = m.payload_types().collect();
        let first = pts.first().copied();
        let rtx = first.and_then(|p| {
            m.fmtps()
                .find(|f| f.param("apt") == Some(&p.to_string()))
                .and_then(|f| f.pt())
        });
        let keep = |pt: u8| Some(pt) == first || Some(pt) == rtx;
        let keep_attr = |a: &Attribute<'_>| -> bool {
            match &*a.name {
                "mid" | "extmap" | "rtcp-mux" | "rtcp-rsize" => true,
                "rtpmap" | "fmtp" | "rtcp-fb" => a
                    .value
                    .as_deref()
                    .and_then(|v| v.split(' ').next())
                    .and_then(crate::syntax::parse_pt)
                    .is_some_and(keep),
                _ => false,
            }
        };
        let kept: Vec<Attribute<'static>> = m
            .attributes
            .iter()
            .filter(|a| keep_attr(a))
            .cloned()
            .collect();
        let formats: Vec<String> = pts
            .into_iter()
            .filter(|p| keep(*p))
            .map(|p| p.to_string())
            .collect();
        m.formats = Cow::Owned(formats.join(" "));
        m.attributes = vec![
            Attribute::new("ice-ufrag", ice_ufrag).into_owned(),
            Attribute::new("ice-pwd", ice_pwd).into_owned(),
            Attribute::new(
                "fingerprint",
                format_args!("{} {}", fingerprint.0, fingerprint.1),
            )
            .into_owned(),
            Attribute::new("setup", "active").into_owned(),
        ];
        m.attributes.extend(kept);
        let answer_dir = Direction::from_flags(false, dir.sends());
        m.attributes.push(Attribute::flag(answer_dir.as_str()));
    }
    sd
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answer::tests::config;

    fn track(id: &str, stream: &str, kind: MediaKind, ssrc: u32) -> ForwardedTrack {
        ForwardedTrack {
            id: id.into(),
            stream_id: stream.into(),
            kind,
            ssrc,
            rtx_ssrc: (kind == MediaKind::Video).then_some(ssrc + 1),
            cname: format!("{stream}-cname"),
            codecs: Vec::new(),
        }
    }

    fn answer(sd: &SessionDescription<'_>) -> SessionDescription<'static> {
        answer_like_a_browser(
            sd,
            "cliu",
            "clientpassword012345678",
            ("sha-256", "01:02:03"),
        )
    }

    #[test]
    fn renegotiation_keeps_mids_and_recycles_sections() {
        let mut s = SubscriberSession::new(Capabilities::default(), config()).unwrap();
        let a = track("p3-a", "p3", MediaKind::Audio, 1000);
        let v = track("p3-v", "p3", MediaKind::Video, 2000);
        let offer = s.create_offer(&[a.clone(), v.clone()]).unwrap();
        let text = offer.to_sdp_string();
        let parsed = SessionDescription::parse(&text).unwrap();
        assert_eq!(parsed, offer);
        assert_eq!(parsed.media.len(), 2);
        assert_eq!(parsed.media[1].msids().next().unwrap().stream_id, "p3");
        assert_eq!(
            parsed.media[1].ssrc_groups().next().unwrap().to_string(),
            "FID 2000 2001"
        );
        assert_eq!(parsed.media[0].setup(), Some(Setup::ActPass));
        assert!(s.create_offer(&[]).is_err(), "two outstanding offers");
        let res = s.apply_answer(&answer(&offer)).unwrap();
        assert_eq!(res.tracks.len(), 2);
        assert_eq!(res.tracks[0].codecs[0].pt, 111);
        assert_eq!(res.tracks[1].codecs[0].rtx_pt, Some(97));
        assert!(res.tracks[1]
            .extensions
            .iter()
            .any(|e| e.uri == crate::codec::EXT_MID));
        assert_eq!(res.dtls_role, Setup::Passive);

        // p5 joins, p3's audio leaves.
        let b = track("p5-a", "p5", MediaKind::Audio, 3000);
        let offer2 = s.create_offer(&[v.clone(), b.clone()]).unwrap();
        assert_eq!(offer2.origin.session_version, 2);
        let mids: Vec<_> = offer2
            .media
            .iter()
            .map(|m| m.mid().unwrap().to_owned())
            .collect();
        assert_eq!(
            mids,
            ["0", "1", "2"],
            "stopped section is not reused before its answer"
        );
        assert_eq!(offer2.media[0].direction(), Direction::Inactive);
        assert_eq!(offer2.media[2].msids().next().unwrap().stream_id, "p5");
        s.apply_answer(&answer(&offer2)).unwrap();
        // Another audio track: reuses the freed mid 0.
        let c = track("p6-a", "p6", MediaKind::Audio, 4000);
        let offer3 = s.create_offer(&[v, b, c]).unwrap();
        assert_eq!(offer3.media.len(), 3);
        assert_eq!(offer3.media[0].msids().next().unwrap().stream_id, "p6");
        assert_eq!(
            s.tracks()
                .iter()
                .map(|t| t.mid.as_str())
                .collect::<Vec<_>>(),
            ["0", "1", "2"]
        );
        s.cancel_offer();
        assert!(!s.has_pending_offer());
        assert_eq!(s.tracks().len(), 2);
    }

    #[test]
    fn rejected_sections_are_recycled_with_new_mids() {
        let mut s = SubscriberSession::new(Capabilities::default(), config()).unwrap();
        let v = track("p3-v", "p3", MediaKind::Video, 2000);
        let offer = s.create_offer(&[v]).unwrap();
        let mut ans = answer(&offer);
        ans.media[0].port = 0;
        let r = s.apply_answer(&ans).unwrap();
        assert_eq!(r.refused, ["p3-v"]);
        let a = track("p4-a", "p4", MediaKind::Audio, 5000);
        let offer2 = s.create_offer(&[a]).unwrap();
        assert_eq!(offer2.media.len(), 1);
        assert_eq!(offer2.media[0].mid(), Some("1"));
        assert_eq!(&*offer2.media[0].kind, "audio");
    }

    #[test]
    fn bad_answers_are_refused() {
        let mut s = SubscriberSession::new(Capabilities::default(), config()).unwrap();
        assert_eq!(
            s.apply_answer_text("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n")
                .unwrap_err()
                .kind(),
            crate::ErrorKind::ApiMisuse
        );
        let offer = s
            .create_offer(&[track("t", "p", MediaKind::Audio, 1)])
            .unwrap();
        let mut ans = answer(&offer);
        ans.media[0].attributes.retain(|a| a.name != "mid");
        ans.media[0]
            .attributes
            .push(Attribute::new("mid", "zz").into_owned());
        assert!(s.apply_answer(&ans).is_err());
        assert!(s.has_pending_offer());
        let mut ans = answer(&offer);
        ans.media[0].formats = Cow::Borrowed("100");
        assert!(s.apply_answer(&ans).is_err());
        assert!(s.apply_answer(&answer(&offer)).is_ok());
    }
}
