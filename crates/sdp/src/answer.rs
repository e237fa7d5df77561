//! The SFU answering a client's offer (the publish transport).
//!
//! RFC 3264 sections 6 and 6.1 (answer generation, media formats, directions,
//! rejecting with port 0), RFC 8829 (JSEP) section 5.3.1 (initial answers:
//! mid, transport attributes, rtcp-mux, BUNDLE), RFC 9143 sections 7.3 and 9
//! (BUNDLE answers, shared transport), RFC 8842 section 5.3 (`setup` in
//! answers), RFC 8285 section 6 (extmap ids kept from the offer), RFC 4588
//! section 8 (RTX `apt`), RFC 8851 / 8853 (rid and simulcast reversed),
//! RFC 8841 section 6 (data channel m= line), RFC 8445 section 2.5 and
//! RFC 8839 section 5.3 (`a=ice-lite`).
//!
//! The answer keeps the offer's payload types and extension ids, lists the
//! accepted codecs in the offer's order, and reports what was accepted per
//! section ([`AcceptedMedia`]) so the SFU can route without parsing SDP again.

use std::borrow::Cow;

use crate::attr::{Direction, Extmap, Fmtp, Rid, RidDirection, Rtpmap, Setup, Simulcast};
use crate::codec::{
    Capabilities, CodecSpec, MediaKind, NegotiatedCodec, NegotiatedExtension, ServerConfig,
};
use crate::error::Error;
use crate::session::{Attribute, Connection, Media, Origin, SessionDescription};

/// The peer's transport parameters, taken from a description it sent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RemoteTransport {
    /// ICE ufrag.
    pub ice_ufrag: String,
    /// ICE password.
    pub ice_pwd: String,
    /// ICE options (`trickle`, ...).
    pub ice_options: Vec<String>,
    /// `(hash function, hex)` fingerprints; the certificate must match one.
    pub fingerprints: Vec<(String, String)>,
    /// Candidates given in the description (`a=candidate` values).
    pub candidates: Vec<String>,
    /// Whether the description carried `a=end-of-candidates`.
    pub end_of_candidates: bool,
    /// Whether the peer is ICE-lite.
    pub ice_lite: bool,
}

/// One accepted audio/video section of a publish offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptedMedia {
    /// Index of the m= line.
    pub index: usize,
    /// The section's mid.
    pub mid: String,
    /// Audio or video.
    pub kind: MediaKind,
    /// Direction as the offerer declared it.
    pub offered_direction: Direction,
    /// Direction in our answer (our point of view).
    pub direction: Direction,
    /// Accepted codecs, in the offerer's preference order, payload types from the offer.
    pub codecs: Vec<NegotiatedCodec>,
    /// Accepted header extensions with the offer's ids.
    pub extensions: Vec<NegotiatedExtension>,
    /// `a=msid`: stream id and track id.
    pub msid: Option<(String, Option<String>)>,
    /// Media SSRCs announced in the offer (not the RTX ones).
    pub ssrcs: Vec<u32>,
    /// `(media SSRC, RTX SSRC)` from `a=ssrc-group:FID`.
    pub rtx_ssrcs: Vec<(u32, u32)>,
    /// Simulcast rids the offerer will send, in its order (empty: no simulcast).
    pub rids: Vec<String>,
    /// `cname` of the first announced SSRC.
    pub cname: Option<String>,
}

/// An accepted data channel section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataChannel {
    /// Index of the m= line.
    pub index: usize,
    /// The section's mid.
    pub mid: String,
    /// The peer's SCTP port.
    pub remote_sctp_port: u16,
    /// The peer's `max-message-size` (RFC 8841 default 64 KiB when absent).
    pub remote_max_message_size: u64,
}

/// What [`Answerer::answer`] produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The answer to send.
    pub sdp: SessionDescription<'static>,
    /// Accepted audio/video sections.
    pub media: Vec<AcceptedMedia>,
    /// The accepted data channel section, if any.
    pub data_channel: Option<DataChannel>,
    /// Mids (or `index:N` for sections without one) that were rejected.
    pub rejected: Vec<String>,
    /// The offerer's transport.
    pub remote: RemoteTransport,
    /// Our DTLS role: `Active` (client) or `Passive` (server).
    pub dtls_role: Setup,
    /// True when the offer changed the ICE credentials of an earlier offer.
    pub ice_restart: bool,
}

impl Answer {
    /// The answer text (CRLF).
    pub fn to_sdp_string(&self) -> String {
        self.sdp.to_sdp_string()
    }
}

/// Answers the offers of one client's publish transport.
///
/// Stateful only in what the offer/answer model needs across renegotiations:
/// the session version and the peer's last ICE credentials.
#[derive(Debug, Clone)]
pub struct Answerer {
    caps: Capabilities,
    config: ServerConfig,
    version: u64,
    last_remote_ufrag: Option<String>,
    server_sends: bool,
}

/// RFC 3551 static payload types that may appear without an rtpmap.
fn static_rtpmap(pt: u8) -> Option<Rtpmap<'static>> {
    let (encoding, clock_rate) = match pt {
        0 => ("PCMU", 8000),
        8 => ("PCMA", 8000),
        9 => ("G722", 8000),
        _ => return None,
    };
    Some(Rtpmap {
        pt,
        encoding,
        clock_rate,
        channels: None,
    })
}

/// The codecs of an RTP section, in m= line order.
pub(crate) fn section_codecs<'s>(m: &'s Media<'_>) -> Vec<(Rtpmap<'s>, Option<Fmtp<'s>>)> {
    m.payload_types()
        .filter_map(|pt| {
            let r = m.rtpmap(pt).or_else(|| static_rtpmap(pt))?;
            Some((r, m.fmtp(pt)))
        })
        .collect()
}

pub(crate) fn is_rtx(r: &Rtpmap<'_>) -> bool {
    r.encoding.eq_ignore_ascii_case("rtx")
}

/// Transport attributes shared by every section we write.
pub(crate) fn push_transport(m: &mut Media<'static>, cfg: &ServerConfig, setup: Setup) {
    m.push_attr("ice-ufrag", &cfg.ice_ufrag);
    m.push_attr("ice-pwd", &cfg.ice_pwd);
    for (alg, v) in &cfg.fingerprints {
        m.push_attr("fingerprint", format_args!("{alg} {v}"));
    }
    m.push_attr("setup", setup);
}

pub(crate) fn push_candidates(m: &mut Media<'static>, cfg: &ServerConfig) {
    for c in &cfg.candidates {
        m.push_attr("candidate", c);
    }
    m.push_flag("end-of-candidates");
}

pub(crate) fn new_section(
    kind: &'static str,
    proto: &str,
    formats: String,
    cfg: &ServerConfig,
) -> Media<'static> {
    let (port, addr) = cfg.default_address();
    let mut m = Media::new(kind, port, "", formats);
    m.proto = Cow::Owned(proto.to_owned());
    m.connections.push(Connection::for_address(&addr));
    m
}

pub(crate) fn session_skeleton(cfg: &ServerConfig, version: u64) -> SessionDescription<'static> {
    let mut sd = SessionDescription::new(Origin {
        username: Cow::Borrowed("-"),
        session_id: cfg.session_id,
        session_version: version,
        net_type: Cow::Borrowed("IN"),
        addr_type: Cow::Borrowed("IP4"),
        address: Cow::Borrowed("0.0.0.0"),
    });
    sd.session_name = Cow::Borrowed("-");
    sd
}

/// Reads the transport of a description: from the first section of `sections`
/// that has the attribute, else session level.
pub(crate) fn remote_transport(
    sd: &SessionDescription<'_>,
    sections: &[usize],
) -> Result<(RemoteTransport, Option<Setup>), Error> {
    let first = sections.iter().filter_map(|&i| sd.media.get(i));
    let pick =
        |f: &dyn Fn(&Media<'_>) -> Option<String>| -> Option<String> { first.clone().find_map(f) };
    let ice_ufrag = pick(&|m| m.ice_ufrag().map(str::to_owned))
        .or_else(|| sd.ice_ufrag().map(str::to_owned))
        .ok_or(Error::negotiation(0, "no ICE ufrag"))?;
    let ice_pwd = pick(&|m| m.ice_pwd().map(str::to_owned))
        .or_else(|| sd.ice_pwd().map(str::to_owned))
        .ok_or(Error::negotiation(0, "no ICE password"))?;
    let tagged = sections.first().and_then(|&i| sd.media.get(i));
    let mut fingerprints: Vec<(String, String)> = tagged
        .map(|m| {
            m.fingerprints()
                .map(|f| (f.algorithm.to_owned(), f.value.to_owned()))
                .collect()
        })
        .unwrap_or_default();
    if fingerprints.is_empty() {
        fingerprints = sd
            .fingerprints()
            .map(|f| (f.algorithm.to_owned(), f.value.to_owned()))
            .collect();
    }
    if fingerprints.is_empty() {
        return Err(Error::negotiation(0, "no DTLS fingerprint"));
    }
    let setup = tagged.and_then(Media::setup).or_else(|| sd.setup());
    let ice_options: Vec<String> = tagged
        .map(|m| m.ice_options().map(str::to_owned).collect::<Vec<_>>())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| sd.ice_options().map(str::to_owned).collect());
    let mut candidates = Vec::new();
    let mut end_of_candidates = sd.has_attribute("end-of-candidates");
    for m in first {
        candidates.extend(m.candidates().map(|c| c.to_string()));
        end_of_candidates |= m.has_attribute("end-of-candidates");
    }
    Ok((
        RemoteTransport {
            ice_ufrag,
            ice_pwd,
            ice_options,
            fingerprints,
            candidates,
            end_of_candidates,
            ice_lite: sd.is_ice_lite(),
        },
        setup,
    ))
}

impl Answerer {
    /// An answerer for one publish transport. Checks both tables.
    pub fn new(caps: Capabilities, config: ServerConfig) -> Result<Self, Error> {
        caps.validate()?;
        config.validate()?;
        Ok(Answerer {
            caps,
            config,
            version: 0,
            last_remote_ufrag: None,
            server_sends: false,
        })
    }

    /// Whether the server also sends on this transport (default false: a
    /// publish transport only receives, so `sendrecv` is answered `recvonly`).
    pub fn set_server_sends(&mut self, sends: bool) {
        self.server_sends = sends;
    }

    /// Replaces the transport identity (new ICE credentials after a restart,
    /// new candidates). Takes effect in the next answer.
    pub fn set_config(&mut self, config: ServerConfig) -> Result<(), Error> {
        config.validate()?;
        self.config = config;
        Ok(())
    }

    /// The current transport identity.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// Parses and answers an offer.
    pub fn answer_text(&mut self, offer: &str) -> Result<Answer, Error> {
        let sd = SessionDescription::parse(offer)?;
        self.answer(&sd)
    }

    /// Answers a parsed offer.
    pub fn answer(&mut self, offer: &SessionDescription<'_>) -> Result<Answer, Error> {
        for (i, m) in offer.media.iter().enumerate() {
            if let Some(mid) = m.mid() {
                if offer.media.iter().take(i).any(|o| o.mid() == Some(mid)) {
                    return Err(Error::negotiation(0, "two media sections share a mid"));
                }
            }
        }
        let bundle: Option<Vec<&str>> = offer.bundle_group().map(|g| g.mids().collect());
        let mut plans: Vec<Plan> = Vec::with_capacity(offer.media.len());
        for (index, m) in offer.media.iter().enumerate() {
            plans.push(self.plan(index, m, bundle.as_deref(), offer));
        }
        let accepted: Vec<usize> = plans
            .iter()
            .enumerate()
            .filter(|(_, p)| !matches!(p, Plan::Reject))
            .map(|(i, _)| i)
            .collect();
        if accepted.is_empty() {
            return Err(Error::negotiation(
                0,
                "no media section the server can accept",
            ));
        }
        // Transport of the BUNDLE: the offerer-tagged section (first mid of the
        // group) if accepted, else the first accepted one.
        let mut order = accepted.clone();
        if let Some(tag) = bundle.as_ref().and_then(|b| b.first()) {
            if let Some(pos) = offer.media.iter().position(|m| m.mid() == Some(tag)) {
                order.retain(|&i| i != pos);
                order.insert(0, pos);
            }
        }
        let (remote, remote_setup) = remote_transport(offer, &order)?;
        let dtls_role = match remote_setup.unwrap_or(Setup::Active) {
            Setup::ActPass => self.config.setup_when_actpass,
            Setup::Active => Setup::Passive,
            Setup::Passive => Setup::Active,
            Setup::HoldConn => {
                return Err(Error::negotiation(0, "setup:holdconn is not supported"))
            }
        };
        let ice_restart = self
            .last_remote_ufrag
            .as_ref()
            .is_some_and(|u| *u != remote.ice_ufrag);
        self.last_remote_ufrag = Some(remote.ice_ufrag.clone());

        self.version += 1;
        let mut sd = session_skeleton(&self.config, self.version);
        let bundled: Vec<&str> = match &bundle {
            Some(b) => b
                .iter()
                .copied()
                .filter(|mid| {
                    offer
                        .media
                        .iter()
                        .position(|m| m.mid() == Some(mid))
                        .is_some_and(|i| accepted.contains(&i))
                })
                .collect(),
            None => Vec::new(),
        };
        if !bundled.is_empty() {
            sd.attributes.push(Attribute::new(
                "group",
                format_args!("BUNDLE {}", bundled.join(" ")),
            ));
        }
        if offer.has_attribute("extmap-allow-mixed") {
            sd.attributes.push(Attribute::flag("extmap-allow-mixed"));
        }
        sd.attributes.push(Attribute::flag("ice-lite"));
        sd.attributes.push(Attribute::new("msid-semantic", " WMS"));

        let mut media = Vec::new();
        let mut data_channel = None;
        let mut rejected = Vec::new();
        for (index, (m, plan)) in offer.media.iter().zip(plans).enumerate() {
            match plan {
                Plan::Reject => {
                    rejected.push(
                        m.mid()
                            .map(str::to_owned)
                            .unwrap_or_else(|| format!("index:{index}")),
                    );
                    sd.media.push(rejected_section(m));
                }
                Plan::Rtp(acc) => {
                    sd.media.push(self.rtp_section(m, &acc, dtls_role));
                    media.push(acc);
                }
                Plan::Data(dc) => {
                    sd.media.push(self.data_section(m, &dc, dtls_role));
                    data_channel = Some(dc);
                }
            }
        }
        Ok(Answer {
            sdp: sd,
            media,
            data_channel,
            rejected,
            remote,
            dtls_role,
            ice_restart,
        })
    }

    fn plan(
        &self,
        index: usize,
        m: &Media<'_>,
        bundle: Option<&[&str]>,
        offer: &SessionDescription<'_>,
    ) -> Plan {
        let Some(mid) = m.mid() else {
            return Plan::Reject;
        };
        if m.is_rejected() {
            return Plan::Reject;
        }
        match bundle {
            Some(b) if !b.contains(&mid) => return Plan::Reject,
            None if offer.media.len() > 1 => return Plan::Reject,
            _ => {}
        }
        if m.kind == "application" {
            let proto_ok = matches!(&*m.proto, "UDP/DTLS/SCTP" | "TCP/DTLS/SCTP");
            let fmt_ok = m.formats().any(|f| f == "webrtc-datachannel");
            return match (self.config.sctp_port, m.sctp_port()) {
                (Some(_), Some(port)) if proto_ok && fmt_ok => Plan::Data(DataChannel {
                    index,
                    mid: mid.to_owned(),
                    remote_sctp_port: port,
                    remote_max_message_size: m.max_message_size().unwrap_or(65_536),
                }),
                _ => Plan::Reject,
            };
        }
        let Some(kind) = MediaKind::from_name(&m.kind) else {
            return Plan::Reject;
        };
        if !m.proto.ends_with("RTP/SAVPF") || !m.has_attribute("rtcp-mux") {
            return Plan::Reject;
        }
        match self.accept_rtp(index, mid, kind, m, offer) {
            Some(acc) => Plan::Rtp(acc),
            None => Plan::Reject,
        }
    }

    fn accept_rtp(
        &self,
        index: usize,
        mid: &str,
        kind: MediaKind,
        m: &Media<'_>,
        offer: &SessionDescription<'_>,
    ) -> Option<AcceptedMedia> {
        let offered = section_codecs(m);
        let mut codecs: Vec<(NegotiatedCodec, &CodecSpec)> = Vec::new();
        for (r, f) in &offered {
            if is_rtx(r) {
                continue;
            }
            let Some(spec) = self.caps.find_codec(kind, r, f.as_ref()) else {
                continue;
            };
            let rtcp_fb = m
                .rtcp_fbs()
                .filter(|fb| fb.pt.matches(r.pt) && spec.accepts_fb(fb.kind, fb.param))
                .map(|fb| match fb.param {
                    Some(p) => format!("{} {}", fb.kind, p),
                    None => fb.kind.to_owned(),
                })
                .fold(Vec::new(), |mut v: Vec<String>, s| {
                    if !v.contains(&s) {
                        v.push(s);
                    }
                    v
                });
            codecs.push((
                NegotiatedCodec {
                    pt: r.pt,
                    name: r.encoding.to_owned(),
                    clock_rate: r.clock_rate,
                    channels: r.channels,
                    fmtp: f.map(|f| f.params.to_owned()).unwrap_or_default(),
                    rtx_pt: None,
                    rtcp_fb,
                },
                spec,
            ));
        }
        if codecs.is_empty() {
            return None;
        }
        // RTX: accepted when it repairs an accepted codec the server does RTX for.
        for (r, f) in &offered {
            if !is_rtx(r) {
                continue;
            }
            let Some(apt) = f
                .and_then(|f| f.param("apt"))
                .and_then(crate::syntax::parse_pt)
            else {
                continue;
            };
            if let Some((c, _)) = codecs
                .iter_mut()
                .find(|(c, s)| c.pt == apt && s.rtx_pt.is_some() && c.rtx_pt.is_none())
            {
                c.rtx_pt = Some(r.pt);
            }
        }
        let mut extensions: Vec<NegotiatedExtension> = Vec::new();
        for e in m.extmaps() {
            if e.id > 255 || extensions.iter().any(|x| x.id == e.id) {
                continue;
            }
            if self.caps.find_extension(kind, e.uri).is_some() {
                extensions.push(NegotiatedExtension {
                    id: e.id,
                    uri: e.uri.to_owned(),
                });
            }
        }
        let offered_direction = m.direction();
        let direction = Direction::from_flags(
            offered_direction.receives() && self.server_sends,
            offered_direction.sends(),
        );
        let msid = m
            .msids()
            .next()
            .map(|x| (x.stream_id.to_owned(), x.track_id.map(str::to_owned)))
            .or_else(|| {
                // Plan B style: msid only on the ssrc lines.
                m.ssrcs().find(|s| s.attribute == "msid").and_then(|s| {
                    let x = crate::attr::Msid::parse(s.value?).ok()?;
                    Some((x.stream_id.to_owned(), x.track_id.map(str::to_owned)))
                })
            });
        let rtx_ssrcs: Vec<(u32, u32)> = m
            .ssrc_groups()
            .filter(|g| g.semantics == "FID")
            .filter_map(|g| {
                let mut it = g.ssrcs();
                Some((it.next()?, it.next()?))
            })
            .collect();
        let mut ssrcs: Vec<u32> = Vec::new();
        for s in m.ssrcs() {
            if !ssrcs.contains(&s.ssrc) && !rtx_ssrcs.iter().any(|(_, r)| *r == s.ssrc) {
                ssrcs.push(s.ssrc);
            }
        }
        let cname = m
            .ssrcs()
            .find(|s| s.attribute == "cname")
            .and_then(|s| s.value.map(str::to_owned));
        let rids: Vec<String> = match m.simulcast() {
            Some(sc) => sc.send_streams().map(|s| s.first().0.to_owned()).collect(),
            None => Vec::new(),
        };
        let _ = offer;
        Some(AcceptedMedia {
            index,
            mid: mid.to_owned(),
            kind,
            offered_direction,
            direction,
            codecs: codecs.into_iter().map(|(c, _)| c).collect(),
            extensions,
            msid,
            ssrcs,
            rtx_ssrcs,
            rids,
            cname,
        })
    }

    fn rtp_section(&self, m: &Media<'_>, acc: &AcceptedMedia, role: Setup) -> Media<'static> {
        let mut formats = String::new();
        for c in &acc.codecs {
            for pt in core::iter::once(c.pt).chain(c.rtx_pt) {
                if !formats.is_empty() {
                    formats.push(' ');
                }
                crate::syntax::push_u64(&mut formats, u64::from(pt));
            }
        }
        let mut s = new_section(acc.kind.as_str(), &m.proto, formats, &self.config);
        push_transport(&mut s, &self.config, role);
        s.push_attr("mid", &acc.mid);
        for e in &acc.extensions {
            s.push_attr(
                "extmap",
                Extmap {
                    id: e.id,
                    direction: None,
                    uri: &e.uri,
                    attributes: None,
                },
            );
        }
        s.push_flag(acc.direction.as_str());
        s.push_flag("rtcp-mux");
        if m.has_attribute("rtcp-rsize") {
            s.push_flag("rtcp-rsize");
        }
        for c in &acc.codecs {
            push_codec(&mut s, c);
        }
        if !acc.rids.is_empty() {
            if let Some(sc) = m.simulcast() {
                for rid in m.rids().filter(|r| r.direction == RidDirection::Send) {
                    s.push_attr(
                        "rid",
                        Rid {
                            id: rid.id,
                            direction: RidDirection::Recv,
                            params: None,
                        },
                    );
                }
                s.push_attr(
                    "simulcast",
                    Simulcast {
                        send: None,
                        recv: sc.send,
                        recv_first: true,
                    },
                );
            }
        }
        push_candidates(&mut s, &self.config);
        s
    }

    fn data_section(&self, m: &Media<'_>, dc: &DataChannel, role: Setup) -> Media<'static> {
        let mut s = new_section(
            "application",
            &m.proto,
            "webrtc-datachannel".to_owned(),
            &self.config,
        );
        push_transport(&mut s, &self.config, role);
        s.push_attr("mid", &dc.mid);
        s.push_attr("sctp-port", self.config.sctp_port.unwrap_or(5000));
        s.push_attr("max-message-size", self.config.max_message_size);
        push_candidates(&mut s, &self.config);
        s
    }
}

/// rtpmap, rtcp-fb and fmtp of one codec, then its RTX.
pub(crate) fn push_codec(s: &mut Media<'static>, c: &NegotiatedCodec) {
    s.push_attr("rtpmap", c.rtpmap());
    for fb in &c.rtcp_fb {
        s.push_attr("rtcp-fb", format_args!("{} {fb}", c.pt));
    }
    if !c.fmtp.is_empty() {
        s.push_attr("fmtp", format_args!("{} {}", c.pt, c.fmtp));
    }
    if let Some(rtx) = c.rtx_pt {
        s.push_attr(
            "rtpmap",
            Rtpmap {
                pt: rtx,
                encoding: "rtx",
                clock_rate: c.clock_rate,
                channels: None,
            },
        );
        s.push_attr("fmtp", format_args!("{rtx} apt={}", c.pt));
    }
}

/// RFC 3264 section 6: same media type and proto, port 0, one format.
fn rejected_section(m: &Media<'_>) -> Media<'static> {
    let first = m.formats().next().unwrap_or("0").to_owned();
    let mut s = Media::new("", 0, "", first);
    s.kind = Cow::Owned(m.kind.to_string());
    s.proto = Cow::Owned(m.proto.to_string());
    s.connections.push(Connection::for_address("0.0.0.0"));
    if let Some(mid) = m.mid() {
        s.push_attr("mid", mid);
    }
    s
}

enum Plan {
    Reject,
    Rtp(AcceptedMedia),
    Data(DataChannel),
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn config() -> ServerConfig {
        let mut c = ServerConfig::new(42, "srvufrag", "srvpassword0123456789abc");
        c.fingerprints.push((
            "sha-256".into(),
            "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89".into(),
        ));
        c.candidates
            .push("1 1 udp 2130706431 198.51.100.2 40000 typ host".into());
        c
    }

    const OFFER: &str = "v=0\r\n\
o=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1 2 3\r\na=extmap-allow-mixed\r\n\
m=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n\
a=fingerprint:sha-256 01:02\r\na=setup:actpass\r\na=mid:0\r\na=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid\r\n\
a=extmap:9 urn:x-unknown\r\na=sendonly\r\na=msid:s1 t1\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n\
a=rtcp-fb:111 transport-cc\r\na=fmtp:111 minptime=10;useinbandfec=1\r\na=ssrc:11 cname:c\r\n\
m=video 9 UDP/TLS/RTP/SAVPF 96 97 120\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=sendonly\r\na=rtcp-mux\r\na=rtcp-rsize\r\n\
a=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\na=rtcp-fb:96 x-weird\r\n\
a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\na=rtpmap:120 x-unknown/90000\r\n\
a=rid:h send\r\na=rid:l send\r\na=simulcast:send h;l\r\n\
m=video 9 UDP/TLS/RTP/SAVPF 127\r\nc=IN IP4 0.0.0.0\r\na=mid:2\r\na=rtcp-mux\r\na=rtpmap:127 x-unknown/90000\r\n\
m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=mid:3\r\na=sctp-port:5000\r\n";

    #[test]
    fn answers_with_offer_payload_types_and_ids() {
        let mut a = Answerer::new(Capabilities::default(), config()).unwrap();
        let ans = a.answer_text(OFFER).unwrap();
        let text = ans.to_sdp_string();
        let sd = SessionDescription::parse(&text).unwrap();
        assert!(sd.is_ice_lite());
        assert_eq!(
            sd.bundle_group().unwrap().mids().collect::<Vec<_>>(),
            ["0", "1", "3"]
        );
        assert_eq!(sd.media.len(), 4);
        let audio = &sd.media[0];
        assert_eq!(audio.payload_types().collect::<Vec<_>>(), [111]);
        assert_eq!(audio.direction(), Direction::RecvOnly);
        assert_eq!(audio.setup(), Some(Setup::Passive));
        assert_eq!(audio.extmaps().map(|e| e.id).collect::<Vec<_>>(), [1]);
        let video = &sd.media[1];
        assert_eq!(video.payload_types().collect::<Vec<_>>(), [96, 97]);
        assert_eq!(
            video.rtcp_fbs().map(|f| f.to_string()).collect::<Vec<_>>(),
            ["96 nack", "96 nack pli"]
        );
        assert_eq!(video.simulcast().unwrap().recv, Some("h;l"));
        assert!(video.has_attribute("rtcp-rsize"));
        assert_eq!(sd.media[2].port, 0);
        assert_eq!(sd.media[3].sctp_port(), Some(5000));
        assert_eq!(ans.media.len(), 2);
        assert_eq!(ans.media[1].rids, ["h", "l"]);
        assert_eq!(ans.media[1].codecs[0].rtx_pt, Some(97));
        assert_eq!(ans.media[0].msid, Some(("s1".into(), Some("t1".into()))));
        assert_eq!(ans.rejected, ["2"]);
        assert_eq!(ans.remote.ice_ufrag, "abcd");
        assert_eq!(ans.dtls_role, Setup::Passive);
        assert!(!ans.ice_restart);
        assert!(ans.data_channel.is_some());
        // ICE restart: new credentials in a re-offer.
        let restarted = OFFER.replace("ice-ufrag:abcd", "ice-ufrag:wxyz");
        let ans2 = a.answer_text(&restarted).unwrap();
        assert!(ans2.ice_restart);
        assert_eq!(ans2.sdp.origin.session_version, 2);
    }

    #[test]
    fn offer_with_nothing_acceptable_is_an_error() {
        let mut a = Answerer::new(Capabilities::default(), config()).unwrap();
        let offer = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
m=video 9 UDP/TLS/RTP/SAVPF 127\r\na=mid:0\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n\
a=fingerprint:sha-256 01:02\r\na=rtcp-mux\r\na=rtpmap:127 x-unknown/90000\r\n";
        let e = a.answer_text(offer).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Negotiation);
    }

    #[test]
    fn setup_roles() {
        let mut a = Answerer::new(Capabilities::default(), config()).unwrap();
        let act = OFFER.replace("setup:actpass", "setup:active");
        assert_eq!(a.answer_text(&act).unwrap().dtls_role, Setup::Passive);
        let pas = OFFER.replace("setup:actpass", "setup:passive");
        assert_eq!(a.answer_text(&pas).unwrap().dtls_role, Setup::Active);
        let hold = OFFER.replace("setup:actpass", "setup:holdconn");
        assert!(a.answer_text(&hold).is_err());
    }
}
