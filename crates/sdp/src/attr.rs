//! Typed views of the WebRTC attributes.
//!
//! Implements the value grammars of: `group` and `bundle-only` (RFC 9143
//! sections 6, 7), `mid` (RFC 5888 section 4), `msid` (RFC 8830 section 2),
//! `rtpmap` and `fmtp` (RFC 8866 section 6.6, 6.15), `rtcp-fb` (RFC 4585
//! section 4.2), `extmap` and `extmap-allow-mixed` (RFC 8285 sections 5, 6),
//! `ssrc` and `ssrc-group` (RFC 5576 sections 4.1, 4.2), `rid` (RFC 8851
//! section 10), `simulcast` (RFC 8853 section 5.1), `ice-ufrag`, `ice-pwd`,
//! `ice-options`, `ice-lite`, `candidate`, `end-of-candidates` (RFC 8839
//! sections 5.1-5.6), `fingerprint` (RFC 8122 section 5), `setup` (RFC 4145
//! section 4), `rtcp` (RFC 3605), `rtcp-mux` (RFC 5761), `rtcp-mux-only`
//! (RFC 8858), `rtcp-rsize` (RFC 5506), the direction attributes (RFC 8866
//! section 6.7), `sctp-port` and `max-message-size` (RFC 8841 sections 5, 6).
//!
//! Each typed value borrows from the attribute text and never allocates when
//! parsed; list-valued attributes keep the list as text and hand out
//! iterators. Each one's `Display` writes the canonical value text (what goes
//! after `a=name:`), which is how owned descriptions are built.

use core::fmt;

use crate::syntax::{
    is_ice_char, is_token, is_word, parse_pt, parse_u16, parse_u32, parse_u64, split1, split_token,
    word_len, Words,
};

/// Media direction (RFC 8866 section 6.7, RFC 3264 section 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// `a=sendrecv` (the default when none is given).
    SendRecv,
    /// `a=sendonly`.
    SendOnly,
    /// `a=recvonly`.
    RecvOnly,
    /// `a=inactive`.
    Inactive,
}

impl Direction {
    /// The attribute name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    /// Parses an attribute name.
    pub fn from_name(s: &str) -> Option<Self> {
        Some(match s {
            "sendrecv" => Direction::SendRecv,
            "sendonly" => Direction::SendOnly,
            "recvonly" => Direction::RecvOnly,
            "inactive" => Direction::Inactive,
            _ => return None,
        })
    }

    /// The direction seen from the other side: sendonly <-> recvonly.
    pub const fn reverse(self) -> Self {
        match self {
            Direction::SendOnly => Direction::RecvOnly,
            Direction::RecvOnly => Direction::SendOnly,
            d => d,
        }
    }

    /// Whether this side sends.
    pub const fn sends(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::SendOnly)
    }

    /// Whether this side receives.
    pub const fn receives(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::RecvOnly)
    }

    /// The direction made of the given send and receive flags.
    pub const fn from_flags(send: bool, recv: bool) -> Self {
        match (send, recv) {
            (true, true) => Direction::SendRecv,
            (true, false) => Direction::SendOnly,
            (false, true) => Direction::RecvOnly,
            (false, false) => Direction::Inactive,
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `a=setup` (RFC 4145 section 4, RFC 8842 section 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Setup {
    /// Will initiate the DTLS connection (DTLS client).
    Active,
    /// Will accept the DTLS connection (DTLS server).
    Passive,
    /// Either; only valid in offers.
    ActPass,
    /// Do not set up a connection now.
    HoldConn,
}

impl Setup {
    /// The attribute value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Setup::Active => "active",
            Setup::Passive => "passive",
            Setup::ActPass => "actpass",
            Setup::HoldConn => "holdconn",
        }
    }

    /// Parses the attribute value.
    pub fn parse(s: &str) -> Result<Self, &'static str> {
        Ok(match s {
            "active" => Setup::Active,
            "passive" => Setup::Passive,
            "actpass" => Setup::ActPass,
            "holdconn" => Setup::HoldConn,
            _ => return Err("setup: unknown role"),
        })
    }
}

impl fmt::Display for Setup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `a=group:<semantics> <tag>*` (RFC 5888 section 5, RFC 9143 section 7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Group<'a> {
    /// `BUNDLE`, `LS`, `FID`, ...
    pub semantics: &'a str,
    /// Space separated identification tags (may be empty).
    pub mids: &'a str,
}

impl<'a> Group<'a> {
    /// Parses the value.
    pub fn parse(v: &'a str) -> Result<Self, &'static str> {
        let (semantics, mids) = split1(v, b' ').unwrap_or((v, ""));
        if !is_token(semantics) {
            return Err("group: bad semantics");
        }
        let g = Group { semantics, mids };
        if !mids.is_empty() {
            let mut w = Words::new(mids);
            while let Some(m) = w.next_word() {
                if !is_token(m) {
                    return Err("group: bad identification tag");
                }
            }
            if !w.is_empty() {
                return Err("group: empty identification tag");
            }
        }
        Ok(g)
    }

    /// The identification tags in order.
    pub fn mids(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.mids.split(' ').filter(|m| !m.is_empty())
    }

    /// Whether this is a BUNDLE group.
    pub fn is_bundle(&self) -> bool {
        self.semantics == "BUNDLE"
    }
}

impl fmt::Display for Group<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.semantics)?;
        if !self.mids.is_empty() {
            write!(f, " {}", self.mids)?;
        }
        Ok(())
    }
}

/// `a=mid` value check (RFC 5888 section 4: a token).
pub fn parse_mid(v: &str) -> Result<&str, &'static str> {
    if is_token(v) && v.len() <= 256 {
        Ok(v)
    } else {
        Err("mid: not a token")
    }
}

/// `a=msid:<stream id> [<track id>]` (RFC 8830 section 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Msid<'a> {
    /// The MediaStream id; `-` means "no stream".
    pub stream_id: &'a str,
    /// The application data (historically the track id).
    pub track_id: Option<&'a str>,
}

impl<'a> Msid<'a> {
    /// Parses the value.
    pub fn parse(v: &'a str) -> Result<Self, &'static str> {
        let mut w = Words::new(v);
        let stream_id = w.word("msid: missing id")?;
        let track_id = w.next_word();
        if !w.is_empty() {
            return Err("msid: too many fields");
        }
        let ok = |s: &str| is_token(s) && s.len() <= 64;
        if !ok(stream_id) || !track_id.is_none_or(ok) {
            return Err("msid: id is not a token of at most 64 characters");
        }
        Ok(Msid {
            stream_id,
            track_id,
        })
    }
}

impl fmt::Display for Msid<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.stream_id)?;
        if let Some(t) = self.track_id {
            write!(f, " {t}")?;
        }
        Ok(())
    }
}

/// `a=rtpmap:<pt> <encoding>/<clock rate>[/<channels>]` (RFC 8866 section 6.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rtpmap<'a> {
    /// Payload type, 0..=127.
    pub pt: u8,
    /// Encoding name as written (compare case-insensitively).
    pub encoding: &'a str,
    /// Clock rate in Hz.
    pub clock_rate: u32,
    /// Channel count for audio, if given.
    pub channels: Option<u16>,
}

impl<'a> Rtpmap<'a> {
    /// Parses the value.
    pub fn parse(v: &'a str) -> Result<Self, &'static str> {
        let (pt, rest) = split1(v, b' ').ok_or("rtpmap: missing encoding")?;
        let pt = parse_pt(pt).ok_or("rtpmap: payload type not in 0..=127")?;
        // `<encoding>/<clock>[/<channels>]`, split by byte rather than
        // through the generic pattern machinery.
        let (encoding, clock) = split_token(rest, b'/').ok_or("rtpmap: bad encoding name")?;
        if encoding.is_empty() {
            return Err("rtpmap: bad encoding name");
        }
        let clock = clock.ok_or("rtpmap: bad clock rate")?;
        let (clock, channels) = match split1(clock, b'/') {
            Some((r, c)) => (r, Some(c)),
            None => (clock, None),
        };
        let clock_rate = parse_u32(clock).ok_or("rtpmap: bad clock rate")?;
        let channels = match channels {
            None => None,
            Some(c) => {
                let (c, more) = match split1(c, b'/') {
                    Some((c, m)) => (c, Some(m)),
                    None => (c, None),
                };
                let c = parse_u16(c).ok_or("rtpmap: bad channel count")?;
                if more.is_some() {
                    return Err("rtpmap: too many fields");
                }
                Some(c)
            }
        };
        Ok(Rtpmap {
            pt,
            encoding,
            clock_rate,
            channels,
        })
    }
}

impl fmt::Display for Rtpmap<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}/{}", self.pt, self.encoding, self.clock_rate)?;
        if let Some(c) = self.channels {
            write!(f, "/{c}")?;
        }
        Ok(())
    }
}

/// `a=fmtp:<format> <parameters>` (RFC 8866 section 6.15).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fmtp<'a> {
    /// The format (a payload type for RTP media).
    pub format: &'a str,
    /// The format-specific parameters, as written.
    pub params: &'a str,
}

impl<'a> Fmtp<'a> {
    /// Parses the value.
    pub fn parse(v: &'a str) -> Result<Self, &'static str> {
        let (format, params) = split1(v, b' ').unwrap_or((v, ""));
        if !is_token(format) {
            return Err("fmtp: bad format");
        }
        Ok(Fmtp { format, params })
    }

    /// The payload type, if the format is one.
    pub fn pt(&self) -> Option<u8> {
        parse_pt(self.format)
    }

    /// `key=value` pairs separated by `;` (spaces around them trimmed); a
    /// parameter without `=` yields an empty value.
    pub fn params(&self) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.params
            .split(';')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| match split1(p, b'=') {
                Some((k, v)) => (k.trim(), v.trim()),
                None => (p, ""),
            })
    }

    /// The value of one parameter (key compared case-insensitively).
    pub fn param(&self, key: &str) -> Option<&'a str> {
        self.params()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    }
}

impl fmt::Display for Fmtp<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.format)?;
        if !self.params.is_empty() {
            write!(f, " {}", self.params)?;
        }
        Ok(())
    }
}

/// The payload type an `rtcp-fb` line applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FbPt {
    /// `*`: every payload type of the section.
    Any,
    /// One payload type.
    Pt(u8),
}

impl FbPt {
    /// Whether this applies to `pt`.
    pub fn matches(self, pt: u8) -> bool {
        match self {
            FbPt::Any => true,
            FbPt::Pt(p) => p == pt,
        }
    }
}

/// `a=rtcp-fb:<pt|*> <type> [<param>]` (RFC 4585 section 4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtcpFb<'a> {
    /// The payload type it applies to.
    pub pt: FbPt,
    /// `nack`, `ccm`, `goog-remb`, `transport-cc`, ...
    pub kind: &'a str,
    /// `pli`, `fir`, ... (may contain spaces, e.g. `tmmbr smaxpr=120`).
    pub param: Option<&'a str>,
}

impl<'a> RtcpFb<'a> {
    /// Parses the value.
    pub fn parse(v: &'a str) -> Result<Self, &'static str> {
        let (pt, rest) = split1(v, b' ').ok_or("rtcp-fb: missing type")?;
        let pt = if pt == "*" {
            FbPt::Any
        } else {
            FbPt::Pt(parse_pt(pt).ok_or("rtcp-fb: bad payload type")?)
        };
        let (kind, param) = split_token(rest, b' ').ok_or("rtcp-fb: bad type")?;
        if kind.is_empty() {
            return Err("rtcp-fb: bad type");
        }
        if let Some(p) = param {
            if p.is_empty()
                || p.starts_with(' ')
                || p.ends_with(' ')
                || !p.bytes().all(|b| b >= 0x20 && b != 0x7F)
            {
                return Err("rtcp-fb: bad parameter");
            }
        }
        Ok(RtcpFb { pt, kind, param })
    }
}

impl fmt::Display for RtcpFb<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.pt {
            FbPt::Any => f.write_str("*")?,
            FbPt::Pt(p) => write!(f, "{p}")?,
        }
        write!(f, " {}", self.kind)?;
        if let Some(p) = self.param {
            write!(f, " {p}")?;
        }
        Ok(())
    }
}

/// `a=extmap:<id>[/<direction>] <uri> [<attributes>]` (RFC 8285 section 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extmap<'a> {
    /// 1..=14 (one-byte), 1..=255 (two-byte), or 4096..=4351 (RFC 8285 section 7).
    pub id: u16,
    /// Optional direction.
    pub direction: Option<Direction>,
    /// The extension URI.
    pub uri: &'a str,
    /// Extension attributes, as written.
    pub attributes: Option<&'a str>,
}

impl<'a> Extmap<'a> {
    /// Parses the value.
    pub fn parse(v: &'a str) -> Result<Self, &'static str> {
        let (id_dir, rest) = split1(v, b' ').ok_or("extmap: missing URI")?;
        let (id, direction) = match split1(id_dir, b'/') {
            Some((id, d)) => (
                id,
                Some(Direction::from_name(d).ok_or("extmap: bad direction")?),
            ),
            None => (id_dir, None),
        };
        let id = parse_u16(id).ok_or("extmap: bad id")?;
        if !matches!(id, 1..=255 | 4096..=4351) {
            return Err("extmap: id out of range");
        }
        // One pass over the URI: it ends at the first byte that cannot be
        // in a word, which must be the space before the attributes.
        let i = word_len(rest.as_bytes());
        let (uri, attributes) = match rest.as_bytes().get(i) {
            None => (rest, None),
            Some(b' ') => (rest.get(..i).unwrap_or(""), rest.get(i + 1..)),
            Some(_) => return Err("extmap: bad URI"),
        };
        if uri.is_empty() {
            return Err("extmap: bad URI");
        }
        if attributes.is_some_and(|a| a.is_empty()) {
            return Err("extmap: empty attributes");
        }
        Ok(Extmap {
            id,
            direction,
            uri,
            attributes,
        })
    }
}

impl fmt::Display for Extmap<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.id)?;
        if let Some(d) = self.direction {
            write!(f, "/{d}")?;
        }
        write!(f, " {}", self.uri)?;
        if let Some(a) = self.attributes {
            write!(f, " {a}")?;
        }
        Ok(())
    }
}

/// `a=ssrc:<ssrc> <attribute>[:<value>]` (RFC 5576 section 4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ssrc<'a> {
    /// The synchronisation source.
    pub ssrc: u32,
    /// The source attribute name (`cname`, `msid`, ...).
    pub attribute: &'a str,
    /// Its value, if any (may contain spaces).
    pub value: Option<&'a str>,
}

impl<'a> Ssrc<'a> {
    /// Parses the value.
    pub fn parse(v: &'a str) -> Result<Self, &'static str> {
        let (ssrc, rest) = split1(v, b' ').ok_or("ssrc: missing attribute")?;
        let ssrc = parse_u32(ssrc).ok_or("ssrc: bad SSRC")?;
        let (attribute, value) = split_token(rest, b':').ok_or("ssrc: bad attribute name")?;
        if attribute.is_empty() {
            return Err("ssrc: bad attribute name");
        }
        Ok(Ssrc {
            ssrc,
            attribute,
            value,
        })
    }
}

impl fmt::Display for Ssrc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.ssrc, self.attribute)?;
        if let Some(v) = self.value {
            write!(f, ":{v}")?;
        }
        Ok(())
    }
}

/// `a=ssrc-group:<semantics> <ssrc>*` (RFC 5576 section 4.2): `FID`, `SIM`, `FEC-FR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SsrcGroup<'a> {
    /// `FID`, `SIM`, ...
    pub semantics: &'a str,
    /// Space separated SSRCs (already checked to be u32s).
    pub ssrcs: &'a str,
}

impl<'a> SsrcGroup<'a> {
    /// Parses the value.
    pub fn parse(v: &'a str) -> Result<Self, &'static str> {
        let (semantics, ssrcs) = split1(v, b' ').ok_or("ssrc-group: no SSRCs")?;
        if !is_token(semantics) {
            return Err("ssrc-group: bad semantics");
        }
        let mut w = Words::new(ssrcs);
        while let Some(s) = w.next_word() {
            parse_u32(s).ok_or("ssrc-group: bad SSRC")?;
        }
        if !w.is_empty() {
            return Err("ssrc-group: empty SSRC");
        }
        Ok(SsrcGroup { semantics, ssrcs })
    }

    /// The SSRCs in order.
    pub fn ssrcs(&self) -> impl Iterator<Item = u32> + 'a {
        self.ssrcs.split(' ').filter_map(parse_u32)
    }
}

impl fmt::Display for SsrcGroup<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.semantics, self.ssrcs)
    }
}

/// RFC 8851 `rid-id` / RFC 8853 `rid-id`: 1*(ALPHA / DIGIT / "-" / "_").
fn is_rid_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 255
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Direction of a `rid` or a `simulcast` stream list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RidDirection {
    /// `send`.
    Send,
    /// `recv`.
    Recv,
}

impl RidDirection {
    /// The keyword.
    pub const fn as_str(self) -> &'static str {
        match self {
            RidDirection::Send => "send",
            RidDirection::Recv => "recv",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "send" => Some(RidDirection::Send),
            "recv" => Some(RidDirection::Recv),
            _ => None,
        }
    }
}

/// `a=rid:<id> <send|recv> [pt=<fmt>,...;<key>=<value>;...]` (RFC 8851 section 10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rid<'a> {
    /// The RTP stream id.
    pub id: &'a str,
    /// Direction.
    pub direction: RidDirection,
    /// The restriction list, as written (`pt=96,97;max-width=1280`).
    pub params: Option<&'a str>,
}

impl<'a> Rid<'a> {
    /// Parses the value.
    pub fn parse(v: &'a str) -> Result<Self, &'static str> {
        let mut w = Words::new(v);
        let id = w.word("rid: missing id")?;
        if !is_rid_id(id) {
            return Err("rid: bad id");
        }
        let direction =
            RidDirection::parse(w.word("rid: missing direction")?).ok_or("rid: bad direction")?;
        let params = if w.is_empty() {
            None
        } else {
            let p = w.rest();
            if p.is_empty() || p.contains(' ') {
                return Err("rid: bad restriction list");
            }
            for item in p.split(';') {
                let (k, val) = split1(item, b'=').unwrap_or((item, ""));
                if !is_token(k) {
                    return Err("rid: bad restriction name");
                }
                if k == "pt" && val.split(',').any(|f| parse_pt(f).is_none()) {
                    return Err("rid: bad payload type list");
                }
            }
            Some(p)
        };
        Ok(Rid {
            id,
            direction,
            params,
        })
    }

    /// The restrictions as `(key, value)` pairs.
    pub fn params(&self) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.params
            .unwrap_or("")
            .split(';')
            .filter(|p| !p.is_empty())
            .map(|p| split1(p, b'=').unwrap_or((p, "")))
    }

    /// The payload types of the `pt=` restriction, if any.
    pub fn pts(&self) -> impl Iterator<Item = u8> + 'a {
        self.params()
            .filter(|(k, _)| *k == "pt")
            .flat_map(|(_, v)| v.split(','))
            .filter_map(parse_pt)
    }
}

impl fmt::Display for Rid<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.id, self.direction.as_str())?;
        if let Some(p) = self.params {
            write!(f, " {p}")?;
        }
        Ok(())
    }
}

/// One simulcast stream: alternatives of rids, each possibly paused (`~`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimulcastStream<'a> {
    alternatives: &'a str,
}

impl<'a> SimulcastStream<'a> {
    /// `(rid, paused)` for each alternative, in preference order.
    pub fn alternatives(&self) -> impl Iterator<Item = (&'a str, bool)> + 'a {
        self.alternatives
            .split(',')
            .map(|a| match a.strip_prefix('~') {
                Some(r) => (r, true),
                None => (a, false),
            })
    }

    /// The first (preferred) rid and whether it is paused.
    pub fn first(&self) -> (&'a str, bool) {
        self.alternatives().next().unwrap_or(("", false))
    }
}

/// `a=simulcast:<send|recv> <streams> [<recv|send> <streams>]` (RFC 8853 section 5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Simulcast<'a> {
    /// The send stream list (`1;2;3`, `~h;m,l`), as written.
    pub send: Option<&'a str>,
    /// The receive stream list, as written.
    pub recv: Option<&'a str>,
    /// Whether `recv` was written before `send`.
    pub recv_first: bool,
}

fn check_sc_list(list: &str) -> Result<(), &'static str> {
    for stream in list.split(';') {
        for alt in stream.split(',') {
            let rid = alt.strip_prefix('~').unwrap_or(alt);
            if !is_rid_id(rid) {
                return Err("simulcast: bad rid in stream list");
            }
        }
    }
    Ok(())
}

impl<'a> Simulcast<'a> {
    /// Parses the value.
    pub fn parse(v: &'a str) -> Result<Self, &'static str> {
        let mut w = Words::new(v);
        let mut sc = Simulcast {
            send: None,
            recv: None,
            recv_first: false,
        };
        let mut first = true;
        while let Some(dir) = w.next_word() {
            let dir = RidDirection::parse(dir).ok_or("simulcast: expected send or recv")?;
            let list = w.word("simulcast: missing stream list")?;
            check_sc_list(list)?;
            let slot = match dir {
                RidDirection::Send => &mut sc.send,
                RidDirection::Recv => &mut sc.recv,
            };
            if slot.is_some() {
                return Err("simulcast: direction given twice");
            }
            *slot = Some(list);
            if first {
                sc.recv_first = dir == RidDirection::Recv;
                first = false;
            }
        }
        if !w.is_empty() || first {
            return Err("simulcast: bad value");
        }
        Ok(sc)
    }

    /// The send streams.
    pub fn send_streams(&self) -> impl Iterator<Item = SimulcastStream<'a>> + 'a {
        self.send
            .unwrap_or("")
            .split(';')
            .filter(|s| !s.is_empty())
            .map(|alternatives| SimulcastStream { alternatives })
    }

    /// The receive streams.
    pub fn recv_streams(&self) -> impl Iterator<Item = SimulcastStream<'a>> + 'a {
        self.recv
            .unwrap_or("")
            .split(';')
            .filter(|s| !s.is_empty())
            .map(|alternatives| SimulcastStream { alternatives })
    }
}

impl fmt::Display for Simulcast<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts = if self.recv_first {
            [("recv", self.recv), ("send", self.send)]
        } else {
            [("send", self.send), ("recv", self.recv)]
        };
        let mut sep = "";
        for (name, list) in parts {
            if let Some(l) = list {
                write!(f, "{sep}{name} {l}")?;
                sep = " ";
            }
        }
        Ok(())
    }
}

/// `a=ice-ufrag` (RFC 8839 section 5.4): 4..=256 ice-chars.
pub fn parse_ice_ufrag(v: &str) -> Result<&str, &'static str> {
    if (4..=256).contains(&v.len()) && v.bytes().all(is_ice_char) {
        Ok(v)
    } else {
        Err("ice-ufrag: not 4 to 256 ice-chars")
    }
}

/// `a=ice-pwd` (RFC 8839 section 5.4): 22..=256 ice-chars.
pub fn parse_ice_pwd(v: &str) -> Result<&str, &'static str> {
    if (22..=256).contains(&v.len()) && v.bytes().all(is_ice_char) {
        Ok(v)
    } else {
        Err("ice-pwd: not 22 to 256 ice-chars")
    }
}

/// `a=ice-options` (RFC 8839 section 5.6): space separated tags.
pub fn parse_ice_options(v: &str) -> Result<&str, &'static str> {
    let mut w = Words::new(v);
    let mut any = false;
    while let Some(t) = w.next_word() {
        if !t.bytes().all(is_ice_char) {
            return Err("ice-options: bad option tag");
        }
        any = true;
    }
    if !any || !w.is_empty() {
        return Err("ice-options: bad option list");
    }
    Ok(v)
}

/// The candidate type (RFC 8839 section 5.1 `candidate-types`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CandidateType<'a> {
    /// `host`.
    Host,
    /// `srflx`.
    Srflx,
    /// `prflx`.
    Prflx,
    /// `relay`.
    Relay,
    /// An extension type token.
    Other(&'a str),
}

impl<'a> CandidateType<'a> {
    /// The token.
    pub fn as_str(&self) -> &'a str {
        match *self {
            CandidateType::Host => "host",
            CandidateType::Srflx => "srflx",
            CandidateType::Prflx => "prflx",
            CandidateType::Relay => "relay",
            CandidateType::Other(s) => s,
        }
    }

    fn parse(s: &'a str) -> Self {
        match s {
            "host" => CandidateType::Host,
            "srflx" => CandidateType::Srflx,
            "prflx" => CandidateType::Prflx,
            "relay" => CandidateType::Relay,
            other => CandidateType::Other(other),
        }
    }
}

/// `a=candidate` (RFC 8839 section 5.1), with RFC 6544 `tcptype` and the
/// common extensions (`generation`, `ufrag`, `network-id`, `network-cost`);
/// unknown extensions are kept in order in [`Candidate::extensions`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate<'a> {
    /// 1..=32 ice-chars.
    pub foundation: &'a str,
    /// Component id (1 = RTP), 1..=256.
    pub component: u16,
    /// `UDP` / `udp` / `tcp` / an extension token.
    pub transport: &'a str,
    /// Priority, 1..=2^31-1 in practice; any u32 accepted.
    pub priority: u32,
    /// IPv4, IPv6, FQDN or mDNS name.
    pub address: &'a str,
    /// Port.
    pub port: u16,
    /// Candidate type.
    pub kind: CandidateType<'a>,
    /// `raddr`.
    pub related_address: Option<&'a str>,
    /// `rport`.
    pub related_port: Option<u16>,
    /// The extension name/value pairs after `rport`, as written
    /// (`tcptype passive generation 0 ufrag x`); empty when none.
    pub extensions: &'a str,
}

impl<'a> Candidate<'a> {
    /// Parses the attribute value (what follows `a=candidate:`).
    pub fn parse(v: &'a str) -> Result<Self, &'static str> {
        let mut w = Words::new(v);
        let foundation = w.word("candidate: missing foundation")?;
        if foundation.len() > 32 || !foundation.bytes().all(is_ice_char) {
            return Err("candidate: bad foundation");
        }
        let component = w.word("candidate: missing component")?;
        if component.len() > 3 {
            return Err("candidate: bad component id");
        }
        let component = parse_u16(component).ok_or("candidate: bad component id")?;
        if component == 0 || component > 256 {
            return Err("candidate: component id out of range");
        }
        let transport = w.word("candidate: missing transport")?;
        if !is_token(transport) {
            return Err("candidate: bad transport");
        }
        let priority = w.word("candidate: missing priority")?;
        if priority.len() > 10 {
            return Err("candidate: bad priority");
        }
        let priority = parse_u32(priority).ok_or("candidate: bad priority")?;
        let address = w.word("candidate: missing address")?;
        if !is_word(address) {
            return Err("candidate: bad address");
        }
        let port = parse_u16(w.word("candidate: missing port")?).ok_or("candidate: bad port")?;
        if w.word("candidate: missing typ")? != "typ" {
            return Err("candidate: expected typ");
        }
        let kind = w.word("candidate: missing type")?;
        if !is_token(kind) {
            return Err("candidate: bad type");
        }
        let kind = CandidateType::parse(kind);
        let mut c = Candidate {
            foundation,
            component,
            transport,
            priority,
            address,
            port,
            kind,
            related_address: None,
            related_port: None,
            extensions: "",
        };
        let mut probe = w.clone();
        if probe.next_word() == Some("raddr") {
            w = probe;
            let a = w.word("candidate: missing raddr")?;
            if !is_word(a) {
                return Err("candidate: bad raddr");
            }
            c.related_address = Some(a);
        }
        let mut probe = w.clone();
        if probe.next_word() == Some("rport") {
            w = probe;
            c.related_port =
                Some(parse_u16(w.word("candidate: missing rport")?).ok_or("candidate: bad rport")?);
        }
        c.extensions = w.rest();
        while let Some(name) = w.next_word() {
            let value = w.word("candidate: extension without value")?;
            if !is_token(name) || !is_word(value) {
                return Err("candidate: bad extension");
            }
            let ok = match name {
                "generation" | "network-id" | "network-cost" => parse_u32(value).is_some(),
                "tcptype" => matches!(value, "active" | "passive" | "so"),
                "ufrag" => value.bytes().all(is_ice_char),
                _ => true,
            };
            if !ok {
                return Err("candidate: bad value for a known extension");
            }
        }
        if !w.is_empty() {
            return Err("candidate: empty field");
        }
        Ok(c)
    }

    /// Parses a candidate as trickled in signaling: `candidate:...`, with or
    /// without a leading `a=`.
    pub fn parse_line(line: &'a str) -> Result<Self, &'static str> {
        let line = line.strip_prefix("a=").unwrap_or(line);
        let v = line
            .strip_prefix("candidate:")
            .ok_or("candidate: missing candidate: prefix")?;
        Candidate::parse(v)
    }

    /// The extension pairs in order (known and unknown).
    pub fn extension_pairs(&self) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        let mut w = Words::new(self.extensions);
        core::iter::from_fn(move || {
            let n = w.next_word()?;
            let v = w.next_word()?;
            Some((n, v))
        })
    }

    fn ext(&self, name: &str) -> Option<&'a str> {
        self.extension_pairs()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
    }

    /// RFC 6544 `tcptype`.
    pub fn tcptype(&self) -> Option<&'a str> {
        self.ext("tcptype")
    }

    /// `generation`.
    pub fn generation(&self) -> Option<u32> {
        self.ext("generation").and_then(parse_u32)
    }

    /// `ufrag`.
    pub fn ufrag(&self) -> Option<&'a str> {
        self.ext("ufrag")
    }

    /// `network-id`.
    pub fn network_id(&self) -> Option<u32> {
        self.ext("network-id").and_then(parse_u32)
    }

    /// `network-cost`.
    pub fn network_cost(&self) -> Option<u32> {
        self.ext("network-cost").and_then(parse_u32)
    }

    /// Whether the transport is UDP (case-insensitive).
    pub fn is_udp(&self) -> bool {
        self.transport.eq_ignore_ascii_case("udp")
    }
}

impl fmt::Display for Candidate<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {} {} {} typ {}",
            self.foundation,
            self.component,
            self.transport,
            self.priority,
            self.address,
            self.port,
            self.kind.as_str()
        )?;
        if let Some(a) = self.related_address {
            write!(f, " raddr {a}")?;
        }
        if let Some(p) = self.related_port {
            write!(f, " rport {p}")?;
        }
        if !self.extensions.is_empty() {
            write!(f, " {}", self.extensions)?;
        }
        Ok(())
    }
}

/// `a=fingerprint:<hash-func> <XX:XX:...>` (RFC 8122 section 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint<'a> {
    /// `sha-256`, `sha-1`, ... as written (compare case-insensitively).
    pub algorithm: &'a str,
    /// Colon separated hex pairs, as written.
    pub value: &'a str,
}

impl<'a> Fingerprint<'a> {
    /// Parses the value.
    pub fn parse(v: &'a str) -> Result<Self, &'static str> {
        let (algorithm, value) = split1(v, b' ').ok_or("fingerprint: missing value")?;
        if !is_token(algorithm) {
            return Err("fingerprint: bad hash function");
        }
        if value.is_empty() || value.len() > 3 * 64 {
            return Err("fingerprint: bad length");
        }
        // `XX(:XX)*`: with the length 2 mod 3, every 3-byte chunk is `XX:`
        // and the last is `XX` (one pass, no splitting).
        let hex_pairs = value.len() % 3 == 2
            && value.as_bytes().chunks(3).all(|c| match *c {
                [a, b] | [a, b, b':'] => a.is_ascii_hexdigit() && b.is_ascii_hexdigit(),
                _ => false,
            });
        if !hex_pairs {
            return Err("fingerprint: not colon separated hex pairs");
        }
        Ok(Fingerprint { algorithm, value })
    }

    /// The digest bytes, written into `out`; returns how many.
    pub fn digest(&self, out: &mut [u8; 64]) -> usize {
        let mut n = 0;
        for (slot, pair) in out.iter_mut().zip(self.value.split(':')) {
            *slot = u8::from_str_radix(pair, 16).unwrap_or(0);
            n += 1;
        }
        n
    }
}

impl fmt::Display for Fingerprint<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.algorithm, self.value)
    }
}

/// `a=rtcp:<port> [<nettype> <addrtype> <address>]` (RFC 3605 section 2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rtcp<'a> {
    /// Port.
    pub port: u16,
    /// `(nettype, addrtype, address)`.
    pub address: Option<(&'a str, &'a str, &'a str)>,
}

impl<'a> Rtcp<'a> {
    /// Parses the value.
    pub fn parse(v: &'a str) -> Result<Self, &'static str> {
        let mut w = Words::new(v);
        let port = parse_u16(w.word("rtcp: missing port")?).ok_or("rtcp: bad port")?;
        let address = match w.next_word() {
            None => None,
            Some(n) => {
                let a = w.word("rtcp: missing address type")?;
                let addr = w.word("rtcp: missing address")?;
                if !is_token(n) || !is_token(a) || !is_word(addr) {
                    return Err("rtcp: bad address");
                }
                Some((n, a, addr))
            }
        };
        if !w.is_empty() {
            return Err("rtcp: too many fields");
        }
        Ok(Rtcp { port, address })
    }
}

impl fmt::Display for Rtcp<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.port)?;
        if let Some((n, a, addr)) = self.address {
            write!(f, " {n} {a} {addr}")?;
        }
        Ok(())
    }
}

/// An attribute with its value typed, when Tern knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttributeValue<'a> {
    /// `a=group`.
    Group(Group<'a>),
    /// `a=bundle-only`.
    BundleOnly,
    /// `a=mid`.
    Mid(&'a str),
    /// `a=msid`.
    Msid(Msid<'a>),
    /// `a=rtpmap`.
    Rtpmap(Rtpmap<'a>),
    /// `a=fmtp`.
    Fmtp(Fmtp<'a>),
    /// `a=rtcp-fb`.
    RtcpFb(RtcpFb<'a>),
    /// `a=extmap`.
    Extmap(Extmap<'a>),
    /// `a=extmap-allow-mixed`.
    ExtmapAllowMixed,
    /// `a=ssrc`.
    Ssrc(Ssrc<'a>),
    /// `a=ssrc-group`.
    SsrcGroup(SsrcGroup<'a>),
    /// `a=rid`.
    Rid(Rid<'a>),
    /// `a=simulcast`.
    Simulcast(Simulcast<'a>),
    /// `a=ice-ufrag`.
    IceUfrag(&'a str),
    /// `a=ice-pwd`.
    IcePwd(&'a str),
    /// `a=ice-options`.
    IceOptions(&'a str),
    /// `a=ice-lite`.
    IceLite,
    /// `a=candidate`.
    Candidate(Candidate<'a>),
    /// `a=end-of-candidates`.
    EndOfCandidates,
    /// `a=fingerprint`.
    Fingerprint(Fingerprint<'a>),
    /// `a=setup`.
    Setup(Setup),
    /// `a=rtcp`.
    Rtcp(Rtcp<'a>),
    /// `a=rtcp-mux`.
    RtcpMux,
    /// `a=rtcp-mux-only`.
    RtcpMuxOnly,
    /// `a=rtcp-rsize`.
    RtcpRsize,
    /// `a=sendrecv` / `sendonly` / `recvonly` / `inactive`.
    Direction(Direction),
    /// `a=sctp-port`.
    SctpPort(u16),
    /// `a=max-message-size`.
    MaxMessageSize(u64),
    /// Any other attribute, kept as text.
    Other(&'a str, Option<&'a str>),
}

fn flag<T>(v: Option<&str>, t: T) -> Result<T, &'static str> {
    match v {
        None => Ok(t),
        Some(_) => Err("property attribute must not have a value"),
    }
}

/// The attribute names [`AttributeValue::parse`] types.
#[derive(Clone, Copy)]
enum KnownName {
    Candidate,
    Rtpmap,
    RtcpFb,
    Fmtp,
    Extmap,
    Ssrc,
    SsrcGroup,
    Mid,
    Msid,
    Group,
    Rid,
    SctpPort,
    Simulcast,
    IceUfrag,
    IcePwd,
    IceOptions,
    Fingerprint,
    Setup,
    Rtcp,
    MaxMessageSize,
    SendRecv,
    SendOnly,
    RtcpMux,
    RecvOnly,
    Inactive,
    IceLite,
    RtcpRsize,
    RtcpMuxOnly,
    BundleOnly,
    ExtmapAllowMixed,
    EndOfCandidates,
}

/// Equality of two byte strings of the same length up to 24, with a few
/// word-sized compares (overlapping at the end) instead of a byte loop.
#[inline]
fn same_short(a: &[u8], b: &[u8]) -> bool {
    fn w8(s: &[u8], at: usize) -> u64 {
        s.get(at..at + 8)
            .and_then(|c| c.try_into().ok())
            .map_or(u64::MAX, u64::from_ne_bytes)
    }
    fn w4(s: &[u8], at: usize) -> u32 {
        s.get(at..at + 4)
            .and_then(|c| c.try_into().ok())
            .map_or(u32::MAX, u32::from_ne_bytes)
    }
    let n = a.len();
    if n != b.len() {
        return false;
    }
    match n {
        0..=3 => a == b,
        4..=8 => w4(a, 0) == w4(b, 0) && w4(a, n - 4) == w4(b, n - 4),
        9..=16 => w8(a, 0) == w8(b, 0) && w8(a, n - 8) == w8(b, n - 8),
        17..=24 => w8(a, 0) == w8(b, 0) && w8(a, 8) == w8(b, 8) && w8(a, n - 8) == w8(b, n - 8),
        _ => a == b,
    }
}

impl KnownName {
    /// The known name `name` is, if any.
    #[inline]
    fn of(name: &str) -> Option<Self> {
        use KnownName as K;
        // Narrow to the one known name this could be by length and first
        // byte, so at most one string comparison runs per attribute.
        let (known, k) = match (name.len(), name.as_bytes().first()) {
            (9, Some(b'c')) => ("candidate", K::Candidate),
            (6, Some(b'r')) => ("rtpmap", K::Rtpmap),
            (7, Some(b'r')) => ("rtcp-fb", K::RtcpFb),
            (4, Some(b'f')) => ("fmtp", K::Fmtp),
            (6, Some(b'e')) => ("extmap", K::Extmap),
            (4, Some(b's')) => ("ssrc", K::Ssrc),
            (10, Some(b's')) => ("ssrc-group", K::SsrcGroup),
            (3, Some(b'm')) => ("mid", K::Mid),
            (4, Some(b'm')) => ("msid", K::Msid),
            (5, Some(b'g')) => ("group", K::Group),
            (3, Some(b'r')) => ("rid", K::Rid),
            (9, Some(b's')) if name.as_bytes().get(1) == Some(&b'c') => ("sctp-port", K::SctpPort),
            (9, Some(b's')) => ("simulcast", K::Simulcast),
            (9, Some(b'i')) => ("ice-ufrag", K::IceUfrag),
            (7, Some(b'i')) => ("ice-pwd", K::IcePwd),
            (11, Some(b'i')) => ("ice-options", K::IceOptions),
            (11, Some(b'f')) => ("fingerprint", K::Fingerprint),
            (5, Some(b's')) => ("setup", K::Setup),
            (4, Some(b'r')) => ("rtcp", K::Rtcp),
            (16, Some(b'm')) => ("max-message-size", K::MaxMessageSize),
            (8, Some(b's')) if name.as_bytes().get(4) == Some(&b'r') => ("sendrecv", K::SendRecv),
            (8, Some(b's')) => ("sendonly", K::SendOnly),
            (8, Some(b'r')) if name.as_bytes().get(4) == Some(&b'-') => ("rtcp-mux", K::RtcpMux),
            (8, Some(b'r')) => ("recvonly", K::RecvOnly),
            (8, Some(b'i')) if name.as_bytes().get(1) == Some(&b'n') => ("inactive", K::Inactive),
            (8, Some(b'i')) => ("ice-lite", K::IceLite),
            (10, Some(b'r')) => ("rtcp-rsize", K::RtcpRsize),
            (13, Some(b'r')) => ("rtcp-mux-only", K::RtcpMuxOnly),
            (11, Some(b'b')) => ("bundle-only", K::BundleOnly),
            (18, Some(b'e')) => ("extmap-allow-mixed", K::ExtmapAllowMixed),
            (17, Some(b'e')) => ("end-of-candidates", K::EndOfCandidates),
            _ => return None,
        };
        // Lengths are equal here; compare inline rather than through memcmp.
        if !same_short(name.as_bytes(), known.as_bytes()) {
            return None;
        }
        Some(k)
    }
}

impl<'a> AttributeValue<'a> {
    /// Types an attribute from its name and value; unknown names give
    /// [`AttributeValue::Other`], known ones with a broken value an error.
    pub fn parse(name: &'a str, value: Option<&'a str>) -> Result<Self, &'static str> {
        use AttributeValue as A;
        use KnownName as K;
        let v = || value.ok_or("value attribute is missing its value");
        let Some(k) = KnownName::of(name) else {
            return Ok(A::Other(name, value));
        };
        // Dispatch on the small enum: one jump, no second string match.
        Ok(match k {
            K::Candidate => A::Candidate(Candidate::parse(v()?)?),
            K::Rtpmap => A::Rtpmap(Rtpmap::parse(v()?)?),
            K::RtcpFb => A::RtcpFb(RtcpFb::parse(v()?)?),
            K::Fmtp => A::Fmtp(Fmtp::parse(v()?)?),
            K::Extmap => A::Extmap(Extmap::parse(v()?)?),
            K::Ssrc => A::Ssrc(Ssrc::parse(v()?)?),
            K::SsrcGroup => A::SsrcGroup(SsrcGroup::parse(v()?)?),
            K::Mid => A::Mid(parse_mid(v()?)?),
            K::Msid => A::Msid(Msid::parse(v()?)?),
            K::Group => A::Group(Group::parse(v()?)?),
            K::Rid => A::Rid(Rid::parse(v()?)?),
            K::Simulcast => A::Simulcast(Simulcast::parse(v()?)?),
            K::IceUfrag => A::IceUfrag(parse_ice_ufrag(v()?)?),
            K::IcePwd => A::IcePwd(parse_ice_pwd(v()?)?),
            K::IceOptions => A::IceOptions(parse_ice_options(v()?)?),
            K::Fingerprint => A::Fingerprint(Fingerprint::parse(v()?)?),
            K::Setup => A::Setup(Setup::parse(v()?)?),
            K::Rtcp => A::Rtcp(Rtcp::parse(v()?)?),
            K::SctpPort => A::SctpPort(parse_u16(v()?).ok_or("sctp-port: bad port")?),
            K::MaxMessageSize => {
                A::MaxMessageSize(parse_u64(v()?).ok_or("max-message-size: bad size")?)
            }
            K::SendRecv => flag(value, A::Direction(Direction::SendRecv))?,
            K::SendOnly => flag(value, A::Direction(Direction::SendOnly))?,
            K::RecvOnly => flag(value, A::Direction(Direction::RecvOnly))?,
            K::Inactive => flag(value, A::Direction(Direction::Inactive))?,
            K::RtcpMux => flag(value, A::RtcpMux)?,
            K::RtcpRsize => flag(value, A::RtcpRsize)?,
            K::RtcpMuxOnly => flag(value, A::RtcpMuxOnly)?,
            K::BundleOnly => flag(value, A::BundleOnly)?,
            K::ExtmapAllowMixed => flag(value, A::ExtmapAllowMixed)?,
            K::IceLite => flag(value, A::IceLite)?,
            K::EndOfCandidates => flag(value, A::EndOfCandidates)?,
        })
    }
}

/// Checks an attribute exactly as [`AttributeValue::parse`] does (same
/// grammar, same errors) without building the typed value; `Ok(true)` for
/// `a=candidate`. The parser runs this on every line.
pub(crate) fn validate(name: &str, value: Option<&str>) -> Result<bool, &'static str> {
    use KnownName as K;
    let Some(k) = KnownName::of(name) else {
        return Ok(false);
    };
    let v = || value.ok_or("value attribute is missing its value");
    match k {
        K::Candidate => {
            Candidate::parse(v()?)?;
            return Ok(true);
        }
        K::Rtpmap => drop(Rtpmap::parse(v()?)?),
        K::RtcpFb => drop(RtcpFb::parse(v()?)?),
        K::Fmtp => drop(Fmtp::parse(v()?)?),
        K::Extmap => drop(Extmap::parse(v()?)?),
        K::Ssrc => drop(Ssrc::parse(v()?)?),
        K::SsrcGroup => drop(SsrcGroup::parse(v()?)?),
        K::Mid => drop(parse_mid(v()?)?),
        K::Msid => drop(Msid::parse(v()?)?),
        K::Group => drop(Group::parse(v()?)?),
        K::Rid => drop(Rid::parse(v()?)?),
        K::Simulcast => drop(Simulcast::parse(v()?)?),
        K::IceUfrag => drop(parse_ice_ufrag(v()?)?),
        K::IcePwd => drop(parse_ice_pwd(v()?)?),
        K::IceOptions => drop(parse_ice_options(v()?)?),
        K::Fingerprint => drop(Fingerprint::parse(v()?)?),
        K::Setup => drop(Setup::parse(v()?)?),
        K::Rtcp => drop(Rtcp::parse(v()?)?),
        K::SctpPort => drop(parse_u16(v()?).ok_or("sctp-port: bad port")?),
        K::MaxMessageSize => drop(parse_u64(v()?).ok_or("max-message-size: bad size")?),
        K::SendRecv
        | K::SendOnly
        | K::RecvOnly
        | K::Inactive
        | K::RtcpMux
        | K::RtcpRsize
        | K::RtcpMuxOnly
        | K::BundleOnly
        | K::ExtmapAllowMixed
        | K::IceLite
        | K::EndOfCandidates => flag(value, ())?,
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc8839_5_1_candidate_with_everything() {
        let v = "842163049 1 udp 1677729535 203.0.113.7 46154 typ srflx raddr 10.0.0.5 rport 46154 generation 0 ufrag EEtu network-id 3 network-cost 10 x-future yes";
        let c = Candidate::parse(v).unwrap();
        assert_eq!(c.foundation, "842163049");
        assert_eq!(c.component, 1);
        assert!(c.is_udp());
        assert_eq!(c.priority, 1677729535);
        assert_eq!(c.address, "203.0.113.7");
        assert_eq!(c.port, 46154);
        assert_eq!(c.kind, CandidateType::Srflx);
        assert_eq!(c.related_address, Some("10.0.0.5"));
        assert_eq!(c.related_port, Some(46154));
        assert_eq!(c.generation(), Some(0));
        assert_eq!(c.ufrag(), Some("EEtu"));
        assert_eq!(c.network_id(), Some(3));
        assert_eq!(c.network_cost(), Some(10));
        assert_eq!(c.extension_pairs().last(), Some(("x-future", "yes")));
        assert_eq!(c.to_string(), v);
    }

    #[test]
    fn rfc6544_tcptype_candidate() {
        let c = Candidate::parse("1 1 TCP 1518280447 192.0.2.1 9 typ host tcptype active").unwrap();
        assert_eq!(c.tcptype(), Some("active"));
        assert!(!c.is_udp());
        assert!(Candidate::parse("1 1 TCP 1 192.0.2.1 9 typ host tcptype sideways").is_err());
    }

    #[test]
    fn candidate_rejects_bad_numbers_and_shapes() {
        for bad in [
            "1 1 udp 4294967296 192.0.2.1 9 typ host",
            "1 1 udp 1 192.0.2.1 65536 typ host",
            "1 0 udp 1 192.0.2.1 9 typ host",
            "1 1 udp 1 192.0.2.1 9 type host",
            "1 1 udp 1 192.0.2.1 9 typ",
            "1 1 udp 1 192.0.2.1 9 typ host generation",
            "1 1 udp 1 192.0.2.1 9 typ host generation x",
            "1 1 udp 1  192.0.2.1 9 typ host",
            "1 1 udp 1 192.0.2.1 9 typ host ",
            "1 1 udp 1 192.0.2.1 9 typ host raddr",
            "",
        ] {
            assert!(Candidate::parse(bad).is_err(), "{bad}");
        }
        assert!(Candidate::parse_line("a=candidate:1 1 udp 1 192.0.2.1 9 typ host").is_ok());
        assert!(Candidate::parse_line("candidate:1 1 udp 1 192.0.2.1 9 typ host").is_ok());
    }

    #[test]
    fn rfc8853_simulcast_lists() {
        let s = Simulcast::parse("send h;~m;l,l2 recv r").unwrap();
        let streams: Vec<_> = s.send_streams().map(|s| s.first()).collect();
        assert_eq!(streams, vec![("h", false), ("m", true), ("l", false)]);
        assert_eq!(s.recv_streams().count(), 1);
        assert_eq!(s.to_string(), "send h;~m;l,l2 recv r");
        let r = Simulcast::parse("recv 1;2 send 3").unwrap();
        assert!(r.recv_first);
        assert_eq!(r.to_string(), "recv 1;2 send 3");
        assert!(Simulcast::parse("send").is_err());
        assert!(Simulcast::parse("send a send b").is_err());
        assert!(Simulcast::parse("send a;;b").is_err());
        assert!(Simulcast::parse("").is_err());
    }

    #[test]
    fn rfc8851_rid_restrictions() {
        let r = Rid::parse("hi send pt=96,97;max-width=1280;max-height=720").unwrap();
        assert_eq!(r.pts().collect::<Vec<_>>(), vec![96, 97]);
        assert_eq!(r.params().nth(1), Some(("max-width", "1280")));
        assert_eq!(Rid::parse("q recv").unwrap().to_string(), "q recv");
        assert!(Rid::parse("q sideways").is_err());
        assert!(Rid::parse("q send pt=300").is_err());
        assert!(Rid::parse("q! send").is_err());
    }

    #[test]
    fn rfc8285_extmap_ids() {
        let e = Extmap::parse("3/sendonly urn:ietf:params:rtp-hdrext:sdes:mid").unwrap();
        assert_eq!(e.id, 3);
        assert_eq!(e.direction, Some(Direction::SendOnly));
        assert_eq!(
            e.to_string(),
            "3/sendonly urn:ietf:params:rtp-hdrext:sdes:mid"
        );
        assert!(Extmap::parse("0 urn:x").is_err());
        assert!(Extmap::parse("256 urn:x").is_err());
        assert!(Extmap::parse("4096 urn:x").is_ok());
        assert!(Extmap::parse("1/sideways urn:x").is_err());
    }

    #[test]
    fn rfc8122_5_fingerprint() {
        let f = Fingerprint::parse("sha-256 0A:1b:FF").unwrap();
        let mut d = [0u8; 64];
        assert_eq!(f.digest(&mut d), 3);
        assert_eq!(&d[..3], &[0x0a, 0x1b, 0xff]);
        assert!(Fingerprint::parse("sha-256 0A:1").is_err());
        assert!(Fingerprint::parse("sha-256 0G").is_err());
        assert!(Fingerprint::parse("sha-256").is_err());
    }

    #[test]
    fn flags_and_values_are_checked() {
        assert_eq!(
            AttributeValue::parse("rtcp-mux", None),
            Ok(AttributeValue::RtcpMux)
        );
        assert!(AttributeValue::parse("rtcp-mux", Some("x")).is_err());
        assert!(AttributeValue::parse("mid", None).is_err());
        assert!(AttributeValue::parse("sctp-port", Some("65536")).is_err());
        assert_eq!(
            AttributeValue::parse("x-custom", Some("anything at all")),
            Ok(AttributeValue::Other("x-custom", Some("anything at all")))
        );
        assert_eq!(
            AttributeValue::parse("setup", Some("actpass")),
            Ok(AttributeValue::Setup(Setup::ActPass))
        );
        assert!(AttributeValue::parse("ice-ufrag", Some("abc")).is_err());
        assert!(AttributeValue::parse("ice-pwd", Some("short")).is_err());
    }

    #[test]
    fn every_known_name_is_dispatched() {
        let cases: [(&str, Option<&str>); 31] = [
            ("candidate", Some("1 1 udp 1 192.0.2.1 9 typ host")),
            ("rtpmap", Some("96 VP8/90000")),
            ("rtcp-fb", Some("96 nack")),
            ("fmtp", Some("96 x=1")),
            ("extmap", Some("1 urn:x")),
            ("ssrc", Some("1 cname:x")),
            ("ssrc-group", Some("FID 1 2")),
            ("mid", Some("0")),
            ("msid", Some("s t")),
            ("group", Some("BUNDLE 0")),
            ("rid", Some("h send")),
            ("simulcast", Some("send h")),
            ("ice-ufrag", Some("abcd")),
            ("ice-pwd", Some("abcdefghijklmnopqrstuv")),
            ("ice-options", Some("trickle")),
            ("fingerprint", Some("sha-256 AB")),
            ("setup", Some("active")),
            ("rtcp", Some("9")),
            ("sctp-port", Some("5000")),
            ("max-message-size", Some("1")),
            ("sendrecv", None),
            ("sendonly", None),
            ("recvonly", None),
            ("inactive", None),
            ("rtcp-mux", None),
            ("rtcp-rsize", None),
            ("rtcp-mux-only", None),
            ("bundle-only", None),
            ("extmap-allow-mixed", None),
            ("ice-lite", None),
            ("end-of-candidates", None),
        ];
        for (name, value) in cases {
            let t = AttributeValue::parse(name, value).unwrap();
            assert!(!matches!(t, AttributeValue::Other(..)), "{name}");
            // A near miss of the same length and first letter is not typed.
            let mut near = name.to_owned();
            near.pop();
            near.push('~');
            assert!(matches!(
                AttributeValue::parse(&near, value),
                Ok(AttributeValue::Other(..))
            ));
        }
    }

    #[test]
    fn validate_agrees_with_typed_parse() {
        // The parser's check and the typed view accept and reject the same
        // values, with the same reasons; only candidates report `true`.
        let names = [
            "candidate",
            "rtpmap",
            "rtcp-fb",
            "fmtp",
            "extmap",
            "ssrc",
            "ssrc-group",
            "mid",
            "msid",
            "group",
            "rid",
            "simulcast",
            "ice-ufrag",
            "ice-pwd",
            "ice-options",
            "fingerprint",
            "setup",
            "rtcp",
            "sctp-port",
            "max-message-size",
            "sendrecv",
            "sendonly",
            "recvonly",
            "inactive",
            "rtcp-mux",
            "rtcp-rsize",
            "rtcp-mux-only",
            "bundle-only",
            "extmap-allow-mixed",
            "ice-lite",
            "end-of-candidates",
            "x-other",
            "rtcp-mu~",
            "c",
        ];
        let values = [
            None,
            Some(""),
            Some("x"),
            Some("1 1 udp 1 192.0.2.1 9 typ host"),
            Some("96 VP8/90000"),
            Some("111 opus/48000/2"),
            Some("111 opus/48000/2/1"),
            Some("111 opus/48000/x"),
            Some("111 opus"),
            Some("111 op us/48000"),
            Some("96 nack pli"),
            Some("96 nack "),
            Some("1 urn:x"),
            Some("1/sendonly urn:x attr"),
            Some("1 urn:x "),
            Some("1 urn\x7fx"),
            Some("1 urn:x\ty"),
            Some("0 urn:x"),
            Some("sha-256 AB:CD"),
            Some("sha-256 AB:CD:"),
            Some("sha-256 AB:C"),
            Some("sha-256 ABC:D"),
            Some("sha-256 AB::D"),
            Some("sha-256 G0"),
            Some("FID 1 2"),
            Some("BUNDLE 0 1"),
            Some("h send pt=96"),
            Some("send h;m"),
            Some("abcdefghijklmnopqrstuv"),
            Some("trickle"),
            Some("actpass"),
            Some("9 IN IP4 0.0.0.0"),
            Some("5000"),
            Some("18446744073709551615"),
            Some("18446744073709551616"),
            Some("s t"),
        ];
        for name in names {
            for value in values {
                let typed = AttributeValue::parse(name, value);
                let checked = validate(name, value);
                assert_eq!(
                    checked,
                    typed.map(|t| matches!(t, AttributeValue::Candidate(_))),
                    "{name} {value:?}"
                );
            }
        }
    }

    #[test]
    fn rtpmap_fmtp_rtcpfb() {
        let r = Rtpmap::parse("111 opus/48000/2").unwrap();
        assert_eq!(
            (r.pt, r.encoding, r.clock_rate, r.channels),
            (111, "opus", 48000, Some(2))
        );
        assert!(Rtpmap::parse("128 opus/48000").is_err());
        assert!(Rtpmap::parse("96 VP8").is_err());
        let f = Fmtp::parse("111 minptime=10; useinbandfec=1").unwrap();
        assert_eq!(f.param("useinbandfec"), Some("1"));
        assert_eq!(f.pt(), Some(111));
        let fb = RtcpFb::parse("96 ccm fir").unwrap();
        assert_eq!((fb.kind, fb.param), ("ccm", Some("fir")));
        assert_eq!(RtcpFb::parse("* transport-cc").unwrap().pt, FbPt::Any);
        assert!(RtcpFb::parse("96").is_err());
    }
}
