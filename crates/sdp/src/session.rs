//! The session description: RFC 8866 sections 5 (every line type) and 9
//! (grammar), parsed into a structure that borrows from the input text and
//! serialized back with CRLF line endings.
//!
//! Attribute values are kept as text (each known one is checked against its
//! grammar while parsing, see [`crate::attr`]), so parse → serialize of a
//! well-formed description gives back the same bytes, unknown attributes
//! included, in order. Fields are `Cow<str>`: a parsed description borrows,
//! one built by the offer/answer code owns its text.

use std::borrow::Cow;

use crate::attr::{
    validate, AttributeValue, Candidate, Direction, Extmap, Fingerprint, Fmtp, Group, Msid, Rid,
    RtcpFb, Rtpmap, Setup, Simulcast, Ssrc, SsrcGroup,
};
use crate::error::Error;
use crate::limits::{
    MAX_ATTRIBUTES_PER_SECTION, MAX_CANDIDATES_PER_SECTION, MAX_LINE_LEN, MAX_MEDIA_SECTIONS,
    MAX_SDP_LEN,
};
use crate::syntax::{
    is_token, is_word, parse_u16, parse_u64, push_u64, split1, split_token, Words,
};

/// `o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>`
/// (RFC 8866 section 5.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin<'a> {
    /// Username, `-` when none.
    pub username: Cow<'a, str>,
    /// Session id.
    pub session_id: u64,
    /// Session version, incremented on each change.
    pub session_version: u64,
    /// `IN`.
    pub net_type: Cow<'a, str>,
    /// `IP4` / `IP6`.
    pub addr_type: Cow<'a, str>,
    /// Address (or FQDN).
    pub address: Cow<'a, str>,
}

/// `c=<nettype> <addrtype> <connection-address>` (RFC 8866 section 5.7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection<'a> {
    /// `IN`.
    pub net_type: Cow<'a, str>,
    /// `IP4` / `IP6`.
    pub addr_type: Cow<'a, str>,
    /// Address, with `/ttl` and `/count` suffixes as written.
    pub address: Cow<'a, str>,
}

impl Connection<'static> {
    /// `IN IP4 <addr>` or `IN IP6 <addr>` depending on the address text.
    pub fn for_address(address: &str) -> Self {
        let v6 = address.contains(':');
        Connection {
            net_type: Cow::Borrowed("IN"),
            addr_type: Cow::Borrowed(if v6 { "IP6" } else { "IP4" }),
            address: Cow::Owned(address.to_owned()),
        }
    }
}

/// `b=<bwtype>:<bandwidth>` (RFC 8866 section 5.8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bandwidth<'a> {
    /// `AS`, `CT`, `TIAS`, ...
    pub bw_type: Cow<'a, str>,
    /// The figure (kbit/s for AS and CT, bit/s for TIAS).
    pub bandwidth: u64,
}

/// `t=<start-time> <stop-time>` with its `r=` lines (RFC 8866 sections 5.9, 5.10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timing<'a> {
    /// Start (NTP seconds, 0 = unbounded).
    pub start: u64,
    /// Stop (NTP seconds, 0 = unbounded).
    pub stop: u64,
    /// `r=` values, as written.
    pub repeats: Vec<Cow<'a, str>>,
}

/// `a=<name>[:<value>]` (RFC 8866 section 5.13), kept as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute<'a> {
    /// Attribute name.
    pub name: Cow<'a, str>,
    /// Value; `None` for a property attribute.
    pub value: Option<Cow<'a, str>>,
}

impl<'a> Attribute<'a> {
    /// A property attribute (`a=rtcp-mux`).
    pub fn flag(name: &'a str) -> Self {
        Attribute {
            name: Cow::Borrowed(name),
            value: None,
        }
    }

    /// A value attribute from any displayable value (typed values from
    /// [`crate::attr`] write their canonical text).
    pub fn new(name: &'a str, value: impl core::fmt::Display) -> Self {
        Attribute {
            name: Cow::Borrowed(name),
            value: Some(Cow::Owned(value.to_string())),
        }
    }

    /// The value typed; `Other` for unknown names.
    pub fn typed(&self) -> Result<AttributeValue<'_>, &'static str> {
        AttributeValue::parse(&self.name, self.value.as_deref())
    }

    /// The value text (`""` for a property attribute).
    pub fn value_str(&self) -> &str {
        self.value.as_deref().unwrap_or("")
    }

    /// Converts into an owned attribute.
    pub fn into_owned(self) -> Attribute<'static> {
        Attribute {
            name: Cow::Owned(self.name.into_owned()),
            value: self.value.map(|v| Cow::Owned(v.into_owned())),
        }
    }
}

/// A media section: `m=` and what follows it (RFC 8866 section 5.14).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media<'a> {
    /// `audio`, `video`, `application`, ...
    pub kind: Cow<'a, str>,
    /// Port; 0 rejects the section (or marks it bundle-only).
    pub port: u16,
    /// `/<number of ports>`.
    pub port_count: Option<u16>,
    /// `UDP/TLS/RTP/SAVPF`, `UDP/DTLS/SCTP`, ...
    pub proto: Cow<'a, str>,
    /// Space separated formats, as written.
    pub formats: Cow<'a, str>,
    /// `i=`.
    pub information: Option<Cow<'a, str>>,
    /// `c=` lines.
    pub connections: Vec<Connection<'a>>,
    /// `b=` lines.
    pub bandwidths: Vec<Bandwidth<'a>>,
    /// `k=` (obsolete, kept for round trip).
    pub key: Option<Cow<'a, str>>,
    /// `a=` lines in order.
    pub attributes: Vec<Attribute<'a>>,
}

/// A whole session description (RFC 8866 section 5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDescription<'a> {
    /// `o=`.
    pub origin: Origin<'a>,
    /// `s=`.
    pub session_name: Cow<'a, str>,
    /// `i=`.
    pub information: Option<Cow<'a, str>>,
    /// `u=`.
    pub uri: Option<Cow<'a, str>>,
    /// `e=` lines.
    pub emails: Vec<Cow<'a, str>>,
    /// `p=` lines.
    pub phones: Vec<Cow<'a, str>>,
    /// `c=`.
    pub connection: Option<Connection<'a>>,
    /// `b=` lines.
    pub bandwidths: Vec<Bandwidth<'a>>,
    /// `t=` lines with their `r=` lines.
    pub timings: Vec<Timing<'a>>,
    /// `z=`, as written.
    pub zone: Option<Cow<'a, str>>,
    /// `k=` (obsolete, kept for round trip).
    pub key: Option<Cow<'a, str>>,
    /// Session-level `a=` lines in order.
    pub attributes: Vec<Attribute<'a>>,
    /// Media sections in order.
    pub media: Vec<Media<'a>>,
}

fn attrs_named<'s, 'a: 's>(
    attrs: &'s [Attribute<'a>],
    name: &'s str,
) -> impl Iterator<Item = &'s Attribute<'a>> + 's {
    attrs.iter().filter(move |a| a.name == name)
}

fn value_of<'s>(attrs: &'s [Attribute<'_>], name: &str) -> Option<&'s str> {
    attrs
        .iter()
        .find(|a| a.name == name)
        .and_then(|a| a.value.as_deref())
}

fn typed_all<'s, T: 's>(
    attrs: &'s [Attribute<'_>],
    name: &'s str,
    parse: fn(&'s str) -> Result<T, &'static str>,
) -> impl Iterator<Item = T> + 's {
    attrs
        .iter()
        .filter(move |a| a.name == name)
        .filter_map(move |a| a.value.as_deref().and_then(|v| parse(v).ok()))
}

macro_rules! shared_accessors {
    () => {
        /// Attributes with this name.
        pub fn attributes_named<'s>(
            &'s self,
            name: &'s str,
        ) -> impl Iterator<Item = &'s Attribute<'a>> + 's {
            attrs_named(&self.attributes, name)
        }

        /// Whether a property or value attribute with this name is present.
        pub fn has_attribute(&self, name: &str) -> bool {
            self.attributes.iter().any(|a| a.name == name)
        }

        /// The value of the first attribute with this name.
        pub fn attribute_value(&self, name: &str) -> Option<&str> {
            value_of(&self.attributes, name)
        }

        /// `a=ice-ufrag`.
        pub fn ice_ufrag(&self) -> Option<&str> {
            self.attribute_value("ice-ufrag")
        }

        /// `a=ice-pwd`.
        pub fn ice_pwd(&self) -> Option<&str> {
            self.attribute_value("ice-pwd")
        }

        /// `a=ice-options` tags.
        pub fn ice_options(&self) -> impl Iterator<Item = &str> {
            self.attribute_value("ice-options")
                .unwrap_or("")
                .split(' ')
                .filter(|s| !s.is_empty())
        }

        /// Every `a=fingerprint` (RFC 8122 allows several).
        pub fn fingerprints(&self) -> impl Iterator<Item = Fingerprint<'_>> {
            typed_all(&self.attributes, "fingerprint", Fingerprint::parse)
        }

        /// `a=setup`.
        pub fn setup(&self) -> Option<Setup> {
            self.attribute_value("setup")
                .and_then(|v| Setup::parse(v).ok())
        }

        /// Every `a=candidate`.
        pub fn candidates(&self) -> impl Iterator<Item = Candidate<'_>> {
            typed_all(&self.attributes, "candidate", Candidate::parse)
        }

        /// Every `a=extmap`.
        pub fn extmaps(&self) -> impl Iterator<Item = Extmap<'_>> {
            typed_all(&self.attributes, "extmap", Extmap::parse)
        }

        /// The direction attribute, if any.
        pub fn direction_attribute(&self) -> Option<Direction> {
            self.attributes.iter().find_map(|a| {
                if a.value.is_none() {
                    Direction::from_name(&a.name)
                } else {
                    None
                }
            })
        }
    };
}

impl<'a> Media<'a> {
    shared_accessors!();

    /// A new section with no lines beyond `m=`.
    pub fn new(kind: &'a str, port: u16, proto: &'a str, formats: impl Into<Cow<'a, str>>) -> Self {
        Media {
            kind: Cow::Borrowed(kind),
            port,
            port_count: None,
            proto: Cow::Borrowed(proto),
            formats: formats.into(),
            information: None,
            connections: Vec::new(),
            bandwidths: Vec::new(),
            key: None,
            attributes: Vec::new(),
        }
    }

    /// The formats of the m= line.
    pub fn formats(&self) -> impl Iterator<Item = &str> {
        self.formats.split(' ').filter(|s| !s.is_empty())
    }

    /// The formats that are RTP payload types.
    pub fn payload_types(&self) -> impl Iterator<Item = u8> + '_ {
        self.formats().filter_map(crate::syntax::parse_pt)
    }

    /// `a=mid`.
    pub fn mid(&self) -> Option<&str> {
        self.attribute_value("mid")
    }

    /// The effective direction (sendrecv when none is given, RFC 3264 section 5.1).
    pub fn direction(&self) -> Direction {
        self.direction_attribute().unwrap_or(Direction::SendRecv)
    }

    /// Whether the section is rejected (port 0 and not `a=bundle-only`).
    pub fn is_rejected(&self) -> bool {
        self.port == 0 && !self.has_attribute("bundle-only")
    }

    /// Whether the proto is RTP (`RTP/AVP`, `UDP/TLS/RTP/SAVPF`, ...).
    pub fn is_rtp(&self) -> bool {
        self.proto.contains("RTP/")
    }

    /// Every `a=rtpmap`.
    pub fn rtpmaps(&self) -> impl Iterator<Item = Rtpmap<'_>> {
        typed_all(&self.attributes, "rtpmap", Rtpmap::parse)
    }

    /// The `a=rtpmap` of one payload type.
    pub fn rtpmap(&self, pt: u8) -> Option<Rtpmap<'_>> {
        self.rtpmaps().find(|r| r.pt == pt)
    }

    /// Every `a=fmtp`.
    pub fn fmtps(&self) -> impl Iterator<Item = Fmtp<'_>> {
        typed_all(&self.attributes, "fmtp", Fmtp::parse)
    }

    /// The `a=fmtp` of one payload type.
    pub fn fmtp(&self, pt: u8) -> Option<Fmtp<'_>> {
        self.fmtps().find(|f| f.pt() == Some(pt))
    }

    /// Every `a=rtcp-fb`.
    pub fn rtcp_fbs(&self) -> impl Iterator<Item = RtcpFb<'_>> {
        typed_all(&self.attributes, "rtcp-fb", RtcpFb::parse)
    }

    /// Every `a=msid`.
    pub fn msids(&self) -> impl Iterator<Item = Msid<'_>> {
        typed_all(&self.attributes, "msid", Msid::parse)
    }

    /// Every `a=ssrc`.
    pub fn ssrcs(&self) -> impl Iterator<Item = Ssrc<'_>> {
        typed_all(&self.attributes, "ssrc", Ssrc::parse)
    }

    /// Every `a=ssrc-group`.
    pub fn ssrc_groups(&self) -> impl Iterator<Item = SsrcGroup<'_>> {
        typed_all(&self.attributes, "ssrc-group", SsrcGroup::parse)
    }

    /// Every `a=rid`.
    pub fn rids(&self) -> impl Iterator<Item = Rid<'_>> {
        typed_all(&self.attributes, "rid", Rid::parse)
    }

    /// `a=simulcast`.
    pub fn simulcast(&self) -> Option<Simulcast<'_>> {
        typed_all(&self.attributes, "simulcast", Simulcast::parse).next()
    }

    /// `a=sctp-port`.
    pub fn sctp_port(&self) -> Option<u16> {
        self.attribute_value("sctp-port").and_then(parse_u16)
    }

    /// `a=max-message-size`.
    pub fn max_message_size(&self) -> Option<u64> {
        self.attribute_value("max-message-size").and_then(parse_u64)
    }

    /// Appends a property attribute.
    pub fn push_flag(&mut self, name: &'a str) {
        self.attributes.push(Attribute::flag(name));
    }

    /// Appends a value attribute.
    pub fn push_attr(&mut self, name: &'a str, value: impl core::fmt::Display) {
        self.attributes.push(Attribute::new(name, value));
    }

    /// Converts into an owned section.
    pub fn into_owned(self) -> Media<'static> {
        Media {
            kind: own(self.kind),
            port: self.port,
            port_count: self.port_count,
            proto: own(self.proto),
            formats: own(self.formats),
            information: self.information.map(own),
            connections: self
                .connections
                .into_iter()
                .map(Connection::into_owned)
                .collect(),
            bandwidths: self
                .bandwidths
                .into_iter()
                .map(Bandwidth::into_owned)
                .collect(),
            key: self.key.map(own),
            attributes: self
                .attributes
                .into_iter()
                .map(Attribute::into_owned)
                .collect(),
        }
    }
}

fn own(c: Cow<'_, str>) -> Cow<'static, str> {
    Cow::Owned(c.into_owned())
}

impl Connection<'_> {
    /// Converts into an owned line.
    pub fn into_owned(self) -> Connection<'static> {
        Connection {
            net_type: own(self.net_type),
            addr_type: own(self.addr_type),
            address: own(self.address),
        }
    }
}

impl Bandwidth<'_> {
    /// Converts into an owned line.
    pub fn into_owned(self) -> Bandwidth<'static> {
        Bandwidth {
            bw_type: own(self.bw_type),
            bandwidth: self.bandwidth,
        }
    }
}

impl<'a> SessionDescription<'a> {
    shared_accessors!();

    /// Parses a description. Accepts CRLF or bare LF line endings; every
    /// limit in [`crate::limits`] is checked before the thing it bounds grows.
    pub fn parse(text: &'a str) -> Result<Self, Error> {
        Parser::run(text)
    }

    /// Parses bytes that must be UTF-8 (RFC 8866 section 5: the default charset).
    pub fn parse_bytes(bytes: &'a [u8]) -> Result<Self, Error> {
        if bytes.len() > MAX_SDP_LEN {
            return Err(Error::limit(0, "description longer than 64 KiB"));
        }
        let text = core::str::from_utf8(bytes).map_err(|_| Error::syntax(0, "not UTF-8"))?;
        Self::parse(text)
    }

    /// A minimal description: `v=0`, the given origin, `s=-`, `t=0 0`.
    pub fn new(origin: Origin<'a>) -> Self {
        SessionDescription {
            origin,
            session_name: Cow::Borrowed("-"),
            information: None,
            uri: None,
            emails: Vec::new(),
            phones: Vec::new(),
            connection: None,
            bandwidths: Vec::new(),
            timings: vec![Timing {
                start: 0,
                stop: 0,
                repeats: Vec::new(),
            }],
            zone: None,
            key: None,
            attributes: Vec::new(),
            media: Vec::new(),
        }
    }

    /// Every `a=group`.
    pub fn groups(&self) -> impl Iterator<Item = Group<'_>> {
        typed_all(&self.attributes, "group", Group::parse)
    }

    /// The first BUNDLE group.
    pub fn bundle_group(&self) -> Option<Group<'_>> {
        self.groups().find(Group::is_bundle)
    }

    /// `a=ice-lite` at session level.
    pub fn is_ice_lite(&self) -> bool {
        self.has_attribute("ice-lite")
    }

    /// The media section with this mid.
    pub fn media_by_mid(&self, mid: &str) -> Option<&Media<'a>> {
        self.media.iter().find(|m| m.mid() == Some(mid))
    }

    /// Serializes with CRLF line endings.
    pub fn to_sdp_string(&self) -> String {
        let mut out = String::with_capacity(self.estimated_len());
        self.write_to(&mut out);
        out
    }

    fn estimated_len(&self) -> usize {
        let attrs = |a: &[Attribute<'_>]| -> usize {
            a.iter()
                .map(|a| a.name.len() + a.value.as_ref().map_or(0, |v| v.len() + 1) + 4)
                .sum()
        };
        128 + attrs(&self.attributes)
            + self
                .media
                .iter()
                .map(|m| 64 + m.formats.len() + attrs(&m.attributes))
                .sum::<usize>()
    }

    /// Appends the serialized description to `out` (CRLF line endings).
    pub fn write_to(&self, out: &mut String) {
        out.push_str("v=0\r\n");
        let o = &self.origin;
        out.push_str("o=");
        out.push_str(&o.username);
        out.push(' ');
        push_u64(out, o.session_id);
        out.push(' ');
        push_u64(out, o.session_version);
        for s in [&o.net_type, &o.addr_type, &o.address] {
            out.push(' ');
            out.push_str(s);
        }
        out.push_str("\r\n");
        line(out, "s=", &self.session_name);
        if let Some(i) = &self.information {
            line(out, "i=", i);
        }
        if let Some(u) = &self.uri {
            line(out, "u=", u);
        }
        for e in &self.emails {
            line(out, "e=", e);
        }
        for p in &self.phones {
            line(out, "p=", p);
        }
        if let Some(c) = &self.connection {
            write_connection(out, c);
        }
        for b in &self.bandwidths {
            write_bandwidth(out, b);
        }
        for t in &self.timings {
            out.push_str("t=");
            push_u64(out, t.start);
            out.push(' ');
            push_u64(out, t.stop);
            out.push_str("\r\n");
            for r in &t.repeats {
                line(out, "r=", r);
            }
        }
        if let Some(z) = &self.zone {
            line(out, "z=", z);
        }
        if let Some(k) = &self.key {
            line(out, "k=", k);
        }
        write_attributes(out, &self.attributes);
        for m in &self.media {
            out.push_str("m=");
            out.push_str(&m.kind);
            out.push(' ');
            push_u64(out, u64::from(m.port));
            if let Some(n) = m.port_count {
                out.push('/');
                push_u64(out, u64::from(n));
            }
            out.push(' ');
            out.push_str(&m.proto);
            out.push(' ');
            out.push_str(&m.formats);
            out.push_str("\r\n");
            if let Some(i) = &m.information {
                line(out, "i=", i);
            }
            for c in &m.connections {
                write_connection(out, c);
            }
            for b in &m.bandwidths {
                write_bandwidth(out, b);
            }
            if let Some(k) = &m.key {
                line(out, "k=", k);
            }
            write_attributes(out, &m.attributes);
        }
    }

    /// Converts into an owned description.
    pub fn into_owned(self) -> SessionDescription<'static> {
        SessionDescription {
            origin: Origin {
                username: own(self.origin.username),
                session_id: self.origin.session_id,
                session_version: self.origin.session_version,
                net_type: own(self.origin.net_type),
                addr_type: own(self.origin.addr_type),
                address: own(self.origin.address),
            },
            session_name: own(self.session_name),
            information: self.information.map(own),
            uri: self.uri.map(own),
            emails: self.emails.into_iter().map(own).collect(),
            phones: self.phones.into_iter().map(own).collect(),
            connection: self.connection.map(Connection::into_owned),
            bandwidths: self
                .bandwidths
                .into_iter()
                .map(Bandwidth::into_owned)
                .collect(),
            timings: self
                .timings
                .into_iter()
                .map(|t| Timing {
                    start: t.start,
                    stop: t.stop,
                    repeats: t.repeats.into_iter().map(own).collect(),
                })
                .collect(),
            zone: self.zone.map(own),
            key: self.key.map(own),
            attributes: self
                .attributes
                .into_iter()
                .map(Attribute::into_owned)
                .collect(),
            media: self.media.into_iter().map(Media::into_owned).collect(),
        }
    }
}

impl core::fmt::Display for SessionDescription<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.to_sdp_string())
    }
}

fn line(out: &mut String, prefix: &str, value: &str) {
    out.push_str(prefix);
    out.push_str(value);
    out.push_str("\r\n");
}

fn write_connection(out: &mut String, c: &Connection<'_>) {
    out.push_str("c=");
    out.push_str(&c.net_type);
    out.push(' ');
    out.push_str(&c.addr_type);
    out.push(' ');
    out.push_str(&c.address);
    out.push_str("\r\n");
}

fn write_bandwidth(out: &mut String, b: &Bandwidth<'_>) {
    out.push_str("b=");
    out.push_str(&b.bw_type);
    out.push(':');
    push_u64(out, b.bandwidth);
    out.push_str("\r\n");
}

fn write_attributes(out: &mut String, attrs: &[Attribute<'_>]) {
    for a in attrs {
        out.push_str("a=");
        out.push_str(&a.name);
        if let Some(v) = &a.value {
            out.push(':');
            out.push_str(v);
        }
        out.push_str("\r\n");
    }
}

/// Where the parser is: session level or inside the last media section, and
/// the rank of the last line seen there (RFC 8866 section 5 fixes the order).
struct Parser<'a> {
    text: &'a str,
    pos: usize,
    line_no: u32,
}

/// Session-level line ranks, in RFC 8866 order.
mod rank {
    pub const START: u8 = 0;
    pub const I: u8 = 1;
    pub const U: u8 = 2;
    pub const E: u8 = 3;
    pub const P: u8 = 4;
    pub const C: u8 = 5;
    pub const B: u8 = 6;
    pub const T: u8 = 7;
    pub const Z: u8 = 8;
    pub const K: u8 = 9;
    pub const A: u8 = 10;
}

/// Media-level line ranks.
mod mrank {
    pub const START: u8 = 0;
    pub const I: u8 = 1;
    pub const C: u8 = 2;
    pub const B: u8 = 3;
    pub const K: u8 = 4;
    pub const A: u8 = 5;
}

fn order(cur: &mut u8, rank: u8, repeatable: bool, n: u32) -> Result<(), Error> {
    if rank < *cur {
        return Err(Error::syntax(n, "line out of RFC 8866 order"));
    }
    if rank == *cur && !repeatable {
        return Err(Error::syntax(n, "line type may appear only once here"));
    }
    *cur = rank;
    Ok(())
}

/// RFC 8866 `text`: any byte but NUL, CR, LF; the line scanner already
/// rejected all three, so every line value is valid text.
fn free_text(v: &str, _n: u32) -> Result<&str, Error> {
    Ok(v)
}

fn parse_connection(v: &str, n: u32) -> Result<Connection<'_>, Error> {
    let mut w = Words::new(v);
    let (Some(net), Some(addr_type), Some(addr)) = (w.next_word(), w.next_word(), w.next_word())
    else {
        return Err(Error::syntax(
            n,
            "c=: expected <nettype> <addrtype> <address>",
        ));
    };
    if !w.is_empty() || !is_token(net) || !is_token(addr_type) || !is_word(addr) {
        return Err(Error::syntax(n, "c=: bad connection data"));
    }
    Ok(Connection {
        net_type: Cow::Borrowed(net),
        addr_type: Cow::Borrowed(addr_type),
        address: Cow::Borrowed(addr),
    })
}

fn parse_bandwidth(v: &str, n: u32) -> Result<Bandwidth<'_>, Error> {
    let (t, bw) = split1(v, b':').ok_or(Error::syntax(n, "b=: expected <bwtype>:<bandwidth>"))?;
    if !is_token(t) {
        return Err(Error::syntax(n, "b=: bad bandwidth type"));
    }
    let bandwidth = parse_u64(bw).ok_or(Error::syntax(n, "b=: bad bandwidth"))?;
    Ok(Bandwidth {
        bw_type: Cow::Borrowed(t),
        bandwidth,
    })
}

/// `r=` / `z=` fields: numbers with an optional d/h/m/s unit, `z=` offsets signed.
fn check_time_words(v: &str, n: u32, signed: bool, reason: &'static str) -> Result<(), Error> {
    let mut w = Words::new(v);
    let mut count = 0usize;
    while let Some(word) = w.next_word() {
        let word = if signed {
            word.strip_prefix('-').unwrap_or(word)
        } else {
            word
        };
        let digits = word.strip_suffix(['d', 'h', 'm', 's']).unwrap_or(word);
        if parse_u64(digits).is_none() {
            return Err(Error::syntax(n, reason));
        }
        count += 1;
    }
    if !w.is_empty() || count < 2 {
        return Err(Error::syntax(n, reason));
    }
    Ok(())
}

#[inline]
fn parse_attribute(v: &str, n: u32) -> Result<(Attribute<'_>, bool), Error> {
    // One pass over the name: token characters up to the `:` or the end
    // (`:` is not a token character).
    let bad_name = Error::syntax(n, "a=: bad attribute name");
    let (name, value) = split_token(v, b':').ok_or(bad_name)?;
    if name.is_empty() {
        return Err(bad_name);
    }
    let is_candidate = validate(name, value).map_err(|r| Error::syntax(n, r))?;
    Ok((
        Attribute {
            name: Cow::Borrowed(name),
            value: value.map(Cow::Borrowed),
        },
        is_candidate,
    ))
}

#[inline]
fn push_attribute<'a>(
    attrs: &mut Vec<Attribute<'a>>,
    candidates: &mut usize,
    v: &'a str,
    n: u32,
) -> Result<(), Error> {
    if attrs.len() >= MAX_ATTRIBUTES_PER_SECTION {
        return Err(Error::limit(n, "too many attributes in one section"));
    }
    let (a, is_candidate) = parse_attribute(v, n)?;
    if is_candidate {
        *candidates += 1;
        if *candidates > MAX_CANDIDATES_PER_SECTION {
            return Err(Error::limit(n, "too many candidates in one section"));
        }
    }
    attrs.push(a);
    Ok(())
}

fn parse_media(v: &str, n: u32) -> Result<Media<'_>, Error> {
    let mut w = Words::new(v);
    let kind = w
        .word("m=: missing media type")
        .map_err(|r| Error::syntax(n, r))?;
    let port = w
        .word("m=: missing port")
        .map_err(|r| Error::syntax(n, r))?;
    let proto = w
        .word("m=: missing proto")
        .map_err(|r| Error::syntax(n, r))?;
    let formats = w.rest();
    if !is_token(kind) {
        return Err(Error::syntax(n, "m=: bad media type"));
    }
    let (port, port_count) = match split1(port, b'/') {
        Some((p, c)) => (
            p,
            Some(parse_u16(c).ok_or(Error::syntax(n, "m=: bad port count"))?),
        ),
        None => (port, None),
    };
    let port = parse_u16(port).ok_or(Error::syntax(n, "m=: bad port"))?;
    if !proto.split('/').all(is_token) {
        return Err(Error::syntax(n, "m=: bad proto"));
    }
    let mut fw = Words::new(formats);
    let mut any = false;
    while let Some(f) = fw.next_word() {
        if !is_token(f) {
            return Err(Error::syntax(n, "m=: bad format"));
        }
        any = true;
    }
    if !any || !fw.is_empty() {
        return Err(Error::syntax(n, "m=: bad format list"));
    }
    Ok(Media {
        kind: Cow::Borrowed(kind),
        port,
        port_count,
        proto: Cow::Borrowed(proto),
        formats: Cow::Borrowed(formats),
        information: None,
        connections: Vec::new(),
        bandwidths: Vec::new(),
        key: None,
        attributes: Vec::with_capacity(32),
    })
}

impl<'a> Parser<'a> {
    /// The next line without its ending, or `None` at the end. Blank lines are
    /// only allowed at the very end.
    #[inline(always)]
    fn next_line(&mut self) -> Result<Option<(u32, u8, &'a str)>, Error> {
        let bytes = self.text.as_bytes();
        let start = self.pos;
        if start >= bytes.len() {
            return Ok(None);
        }
        self.line_no += 1;
        let n = self.line_no;
        // One pass finds the line end and rejects NUL and bare CR (RFC 8866
        // `text` excludes NUL, CR and LF); most bytes take the first branch.
        let rest = bytes.get(start..).unwrap_or(&[]);
        let mut i = 0usize;
        let (end, next) = loop {
            // Skip 8 bytes at a time while none of them is below 0x0E (SWAR:
            // a byte b < 0x0E with its top bit clear makes (b - 0x0E) borrow
            // into bit 7). Bytes >= 0x80 are masked out by `!w`. Borrows only
            // travel upwards, so the lowest flagged byte is exactly the
            // first byte below 0x0E.
            let mut hit = None;
            let from = rest.get(i..).unwrap_or(&[]);
            for (k, chunk) in from.chunks_exact(8).enumerate() {
                // Always 8 bytes; 0xFF bytes would be ignored anyway.
                let w = u64::from_le_bytes(chunk.try_into().unwrap_or([0xFF; 8]));
                let m = w.wrapping_sub(0x0E0E_0E0E_0E0E_0E0E) & !w & 0x8080_8080_8080_8080;
                if m != 0 {
                    // trailing_zeros() / 8 < 8: the cast cannot truncate.
                    hit = Some(i + k * 8 + (m.trailing_zeros() / 8) as usize);
                    break;
                }
            }
            if hit.is_none() {
                i += from.len() & !7;
            }
            let j = match hit {
                Some(j) => j,
                None => match rest
                    .get(i..)
                    .and_then(|t| t.iter().position(|&b| b <= b'\r'))
                {
                    Some(p) => i + p,
                    None => break (bytes.len(), bytes.len()),
                },
            };
            // One pass finds the line end and rejects NUL and bare CR (RFC
            // 8866 `text` excludes NUL, CR and LF); other control bytes are text.
            match rest.get(j) {
                Some(b'\n') => break (start + j, start + j + 1),
                Some(b'\r') => {
                    if rest.get(j + 1) != Some(&b'\n') && j + 1 != rest.len() {
                        return Err(Error::syntax(n, "bare CR inside a line"));
                    }
                    let end = start + j;
                    break (end, (end + 2).min(bytes.len()));
                }
                Some(0) => return Err(Error::syntax(n, "NUL in a line")),
                _ => i = j + 1,
            }
        };
        self.pos = next;
        let l = self.text.get(start..end).unwrap_or("");
        if l.is_empty() {
            let tail = self.text.get(self.pos..).unwrap_or("");
            if tail.bytes().all(|b| b == b'\r' || b == b'\n') {
                self.pos = self.text.len();
                return Ok(None);
            }
            return Err(Error::syntax(n, "empty line"));
        }
        if l.len() > MAX_LINE_LEN {
            return Err(Error::limit(n, "line longer than the cap"));
        }
        let b = l.as_bytes();
        match (b.first(), b.get(1)) {
            (Some(&t), Some(b'=')) if t.is_ascii_lowercase() => {
                Ok(Some((n, t, l.get(2..).unwrap_or(""))))
            }
            _ => Err(Error::syntax(n, "expected <type>=<value>")),
        }
    }

    fn required(&mut self, t: u8, reason: &'static str) -> Result<(u32, &'a str), Error> {
        match self.next_line()? {
            Some((n, got, v)) if got == t => Ok((n, v)),
            Some((n, _, _)) => Err(Error::syntax(n, reason)),
            None => Err(Error::syntax(self.line_no.max(1), reason)),
        }
    }

    fn run(text: &'a str) -> Result<SessionDescription<'a>, Error> {
        if text.len() > MAX_SDP_LEN {
            return Err(Error::limit(0, "description longer than 64 KiB"));
        }
        let mut p = Parser {
            text,
            pos: 0,
            line_no: 0,
        };
        let (n, v) = p.required(b'v', "first line must be v=")?;
        if v != "0" {
            return Err(Error::syntax(n, "v=: only version 0 exists"));
        }
        let (n, o) = p.required(b'o', "second line must be o=")?;
        let origin = parse_origin(o, n)?;
        let (n, s) = p.required(b's', "third line must be s=")?;
        let mut sd = SessionDescription::new(origin);
        sd.session_name = Cow::Borrowed(free_text(s, n)?);
        sd.timings.clear();

        let mut cur = rank::START;
        let mut session_candidates = 0usize;
        loop {
            let Some((n, t, v)) = p.next_line()? else {
                return Ok(sd);
            };
            match t {
                b'i' => {
                    order(&mut cur, rank::I, false, n)?;
                    sd.information = Some(Cow::Borrowed(free_text(v, n)?));
                }
                b'u' => {
                    order(&mut cur, rank::U, false, n)?;
                    if !is_word(v) {
                        return Err(Error::syntax(n, "u=: bad URI"));
                    }
                    sd.uri = Some(Cow::Borrowed(v));
                }
                b'e' => {
                    order(&mut cur, rank::E, true, n)?;
                    sd.emails.push(Cow::Borrowed(free_text(v, n)?));
                }
                b'p' => {
                    order(&mut cur, rank::P, true, n)?;
                    sd.phones.push(Cow::Borrowed(free_text(v, n)?));
                }
                b'c' => {
                    order(&mut cur, rank::C, false, n)?;
                    sd.connection = Some(parse_connection(v, n)?);
                }
                b'b' => {
                    order(&mut cur, rank::B, true, n)?;
                    sd.bandwidths.push(parse_bandwidth(v, n)?);
                }
                b't' => {
                    order(&mut cur, rank::T, true, n)?;
                    let mut w = Words::new(v);
                    let (Some(a), Some(b)) = (w.next_word(), w.next_word()) else {
                        return Err(Error::syntax(n, "t=: expected <start> <stop>"));
                    };
                    let (Some(start), Some(stop)) = (parse_u64(a), parse_u64(b)) else {
                        return Err(Error::syntax(n, "t=: bad time"));
                    };
                    if !w.is_empty() {
                        return Err(Error::syntax(n, "t=: too many fields"));
                    }
                    sd.timings.push(Timing {
                        start,
                        stop,
                        repeats: Vec::new(),
                    });
                }
                b'r' => {
                    if cur != rank::T {
                        return Err(Error::syntax(n, "r= must follow t="));
                    }
                    check_time_words(v, n, false, "r=: bad repeat time")?;
                    if let Some(t) = sd.timings.last_mut() {
                        t.repeats.push(Cow::Borrowed(v));
                    }
                }
                b'z' => {
                    order(&mut cur, rank::Z, false, n)?;
                    check_time_words(v, n, true, "z=: bad time zone adjustment")?;
                    sd.zone = Some(Cow::Borrowed(v));
                }
                b'k' => {
                    order(&mut cur, rank::K, false, n)?;
                    sd.key = Some(Cow::Borrowed(free_text(v, n)?));
                }
                b'a' => {
                    order(&mut cur, rank::A, true, n)?;
                    push_attribute(&mut sd.attributes, &mut session_candidates, v, n)?;
                }
                b'm' => {
                    p.media_sections(&mut sd, n, v)?;
                    return Ok(sd);
                }
                _ => return Err(Error::syntax(n, "unknown line type")),
            }
        }
    }

    fn media_sections(
        &mut self,
        sd: &mut SessionDescription<'a>,
        first_n: u32,
        first_v: &'a str,
    ) -> Result<(), Error> {
        let mut next = Some((first_n, first_v));
        while let Some((n, v)) = next.take() {
            if sd.media.len() >= MAX_MEDIA_SECTIONS {
                return Err(Error::limit(n, "too many media sections"));
            }
            let mut m = parse_media(v, n)?;
            let mut cur = mrank::START;
            let mut candidates = 0usize;
            while let Some((n, t, v)) = self.next_line()? {
                match t {
                    b'i' => {
                        order(&mut cur, mrank::I, false, n)?;
                        m.information = Some(Cow::Borrowed(free_text(v, n)?));
                    }
                    b'c' => {
                        order(&mut cur, mrank::C, true, n)?;
                        if m.connections.len() >= 16 {
                            return Err(Error::limit(n, "too many c= lines"));
                        }
                        m.connections.push(parse_connection(v, n)?);
                    }
                    b'b' => {
                        order(&mut cur, mrank::B, true, n)?;
                        if m.bandwidths.len() >= 16 {
                            return Err(Error::limit(n, "too many b= lines"));
                        }
                        m.bandwidths.push(parse_bandwidth(v, n)?);
                    }
                    b'k' => {
                        order(&mut cur, mrank::K, false, n)?;
                        m.key = Some(Cow::Borrowed(free_text(v, n)?));
                    }
                    b'a' => {
                        order(&mut cur, mrank::A, true, n)?;
                        push_attribute(&mut m.attributes, &mut candidates, v, n)?;
                    }
                    b'm' => {
                        next = Some((n, v));
                        break;
                    }
                    b'v' | b'o' | b's' | b'u' | b'e' | b'p' | b't' | b'r' | b'z' => {
                        return Err(Error::syntax(
                            n,
                            "session-level line inside a media section",
                        ))
                    }
                    _ => return Err(Error::syntax(n, "unknown line type")),
                }
            }
            sd.media.push(m);
        }
        Ok(())
    }
}

fn parse_origin(v: &str, n: u32) -> Result<Origin<'_>, Error> {
    let mut w = Words::new(v);
    let mut f = [""; 6];
    for slot in &mut f {
        *slot = w
            .next_word()
            .ok_or(Error::syntax(n, "o=: expected six fields"))?;
    }
    if !w.is_empty() {
        return Err(Error::syntax(n, "o=: expected six fields"));
    }
    let [user, id, ver, net, addr_type, addr] = f;
    if !is_word(user) || !is_token(net) || !is_token(addr_type) || !is_word(addr) {
        return Err(Error::syntax(n, "o=: bad field"));
    }
    let session_id = parse_u64(id).ok_or(Error::syntax(n, "o=: bad session id"))?;
    let session_version = parse_u64(ver).ok_or(Error::syntax(n, "o=: bad session version"))?;
    Ok(Origin {
        username: Cow::Borrowed(user),
        session_id,
        session_version,
        net_type: Cow::Borrowed(net),
        addr_type: Cow::Borrowed(addr_type),
        address: Cow::Borrowed(addr),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    const SMALL: &str = "v=0\r\n\
o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n\
s=-\r\n\
i=A talk\r\n\
u=http://example.com/talk\r\n\
e=alice@example.com (Alice)\r\n\
p=+1 617 555-6011\r\n\
c=IN IP4 224.2.17.12/127\r\n\
b=CT:1000\r\n\
t=2873397496 2873404696\r\n\
r=7d 1h 0 25h\r\n\
z=2882844526 -1h 2898848070 0\r\n\
k=prompt\r\n\
a=recvonly\r\n\
a=x-unknown:some value\r\n\
m=audio 49170/2 RTP/AVP 0 8\r\n\
i=voice\r\n\
c=IN IP4 224.2.17.12/127\r\n\
b=AS:64\r\n\
k=clear:abc\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=x-other\r\n\
m=video 51372 RTP/AVP 99\r\n\
a=rtpmap:99 h263-1998/90000\r\n";

    #[test]
    fn rfc8866_every_line_type_round_trips() {
        let sd = SessionDescription::parse(SMALL).unwrap();
        assert_eq!(sd.origin.session_id, 4611731400430051336);
        assert_eq!(sd.timings.len(), 1);
        assert_eq!(sd.timings[0].repeats.len(), 1);
        assert_eq!(sd.media.len(), 2);
        assert_eq!(sd.media[0].port_count, Some(2));
        assert_eq!(sd.media[0].key.as_deref(), Some("clear:abc"));
        assert_eq!(sd.to_sdp_string(), SMALL);
        assert_eq!(sd.clone().into_owned(), sd);
    }

    #[test]
    fn lf_only_input_is_accepted_and_output_is_crlf() {
        let lf = SMALL.replace("\r\n", "\n");
        let sd = SessionDescription::parse(&lf).unwrap();
        assert_eq!(sd.to_sdp_string(), SMALL);
    }

    #[test]
    fn trailing_blank_lines_and_missing_final_newline() {
        let with_blank = format!("{SMALL}\r\n\r\n");
        assert_eq!(
            SessionDescription::parse(&with_blank)
                .unwrap()
                .to_sdp_string(),
            SMALL
        );
        let no_final = SMALL.strip_suffix("\r\n").unwrap();
        assert_eq!(
            SessionDescription::parse(no_final).unwrap().to_sdp_string(),
            SMALL
        );
    }

    fn err(text: &str) -> Error {
        SessionDescription::parse(text).unwrap_err()
    }

    #[test]
    fn errors_name_line_and_reason() {
        let e = err(
            "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 4294967296 RTP/AVP 0\r\n",
        );
        assert_eq!((e.line(), e.reason()), (5, "m=: bad port"));
        assert_eq!(e.kind(), ErrorKind::Syntax);
        let e = err("v=1\r\n");
        assert_eq!(e.line(), 1);
        let e = err("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n\r\na=x\r\n");
        assert_eq!((e.line(), e.reason()), (5, "empty line"));
        let e = err("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nx=1\r\n");
        assert_eq!(e.reason(), "unknown line type");
        let e = err("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\na=x\r\nt=0 0\r\n");
        assert_eq!((e.line(), e.reason()), (5, "line out of RFC 8866 order"));
        let e = err("v=0\r\no=- 18446744073709551616 1 IN IP4 0.0.0.0\r\ns=-\r\n");
        assert_eq!(e.reason(), "o=: bad session id");
        let e = err("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU\r\n");
        assert_eq!((e.line(), e.reason()), (6, "rtpmap: bad clock rate"));
        assert!(err("").line() <= 1);
        assert_eq!(
            err("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 RTP/AVP\r\n").reason(),
            "m=: bad format list"
        );
        assert_eq!(
            err("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nr=1 2\r\n").reason(),
            "r= must follow t="
        );
        assert_eq!(
            err(
                "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\nt=0 0\r\n"
            )
            .reason(),
            "session-level line inside a media section"
        );
        assert_eq!(
            err("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\na=x\ry\r\n").reason(),
            "bare CR inside a line"
        );
    }

    #[test]
    fn control_bytes_are_found_at_every_offset() {
        // The line scanner skips 8 bytes at a time; put the byte everywhere.
        let head = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n";
        for pad in 0..20 {
            let value = "x".repeat(pad);
            let ok = format!("{head}a=v:{value}\tz\r\n");
            assert!(SessionDescription::parse(&ok).is_ok(), "tab is text");
            let cr = format!("{head}a=v:{value}\rz\r\n");
            assert_eq!(err(&cr).reason(), "bare CR inside a line", "{pad}");
            let nul = format!("{head}a=v:{value}\0z\r\n");
            assert_eq!(err(&nul).reason(), "NUL in a line", "{pad}");
            let hi = format!("{head}a=v:{value}\u{e9}\u{2028}z\r\n");
            let sd = SessionDescription::parse(&hi).unwrap();
            assert_eq!(sd.to_sdp_string(), hi);
        }
    }

    #[test]
    fn limits_are_enforced() {
        let big = "a".repeat(MAX_SDP_LEN + 1);
        assert_eq!(err(&big).kind(), ErrorKind::Limit);
        let mut many = String::from("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n");
        for _ in 0..=MAX_MEDIA_SECTIONS {
            many.push_str("m=audio 9 RTP/AVP 0\r\n");
        }
        let e = err(&many);
        assert_eq!((e.kind(), e.line()), (ErrorKind::Limit, 4 + 65));
        let mut cands = String::from(
            "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n",
        );
        for i in 0..=MAX_CANDIDATES_PER_SECTION {
            cands.push_str(&format!(
                "a=candidate:{i} 1 udp 1 192.0.2.1 {} typ host\r\n",
                1000 + i
            ));
        }
        assert_eq!(err(&cands).kind(), ErrorKind::Limit);
        let long = format!(
            "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns={}\r\n",
            "x".repeat(MAX_LINE_LEN)
        );
        assert_eq!(err(&long).kind(), ErrorKind::Limit);
    }

    #[test]
    fn every_truncation_is_an_error_or_a_prefix_document() {
        // A truncated description either fails cleanly or parses into a
        // document that serializes back to a well-formed prefix; never panics.
        for i in 0..SMALL.len() {
            if let Some(prefix) = SMALL.get(..i) {
                if let Ok(sd) = SessionDescription::parse(prefix) {
                    let again = sd.to_sdp_string();
                    assert_eq!(SessionDescription::parse(&again).unwrap(), sd);
                }
            }
        }
    }

    #[test]
    fn accessors() {
        let text = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE a b\r\na=ice-lite\r\n\
m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\nc=IN IP4 0.0.0.0\r\na=mid:a\r\na=sendonly\r\na=rtpmap:96 VP8/90000\r\n\
a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\na=ssrc-group:FID 1 2\r\na=ssrc:1 cname:x\r\n\
m=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\na=bundle-only\r\na=mid:b\r\na=sctp-port:5000\r\n";
        let sd = SessionDescription::parse(text).unwrap();
        assert!(sd.is_ice_lite());
        assert_eq!(
            sd.bundle_group().unwrap().mids().collect::<Vec<_>>(),
            ["a", "b"]
        );
        let v = &sd.media[0];
        assert_eq!(v.mid(), Some("a"));
        assert_eq!(v.direction(), Direction::SendOnly);
        assert_eq!(v.payload_types().collect::<Vec<_>>(), [96, 97]);
        assert_eq!(v.fmtp(97).unwrap().param("apt"), Some("96"));
        assert_eq!(
            v.ssrc_groups().next().unwrap().ssrcs().collect::<Vec<_>>(),
            [1, 2]
        );
        let d = &sd.media[1];
        assert!(!d.is_rejected());
        assert_eq!(d.sctp_port(), Some(5000));
        assert_eq!(sd.media_by_mid("b").map(|m| &*m.kind), Some("application"));
    }
}
