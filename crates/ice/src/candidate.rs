//! Candidates (RFC 8445 §5.1): kinds, foundations, priorities (§5.1.2),
//! pair priorities (§6.1.2.3), and the SDP `candidate` attribute
//! (RFC 8839 §5.1) for trickle (RFC 8838).
use crate::error::Error;
use core::fmt;
use std::net::{IpAddr, SocketAddr};

/// The type of a candidate (§5.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CandidateKind {
    /// An address on a local interface.
    Host,
    /// The address a NAT gave us, learned from a STUN server.
    ServerReflexive,
    /// The address a NAT gave us (or the peer), learned from a check.
    PeerReflexive,
    /// An address on a TURN relay.
    Relayed,
}

impl CandidateKind {
    /// The recommended type preference (§5.1.2.2).
    pub const fn type_preference(self) -> u32 {
        match self {
            CandidateKind::Host => 126,
            CandidateKind::PeerReflexive => 110,
            CandidateKind::ServerReflexive => 100,
            CandidateKind::Relayed => 0,
        }
    }
    /// The SDP `typ` token (RFC 8839 §5.1).
    pub const fn sdp_name(self) -> &'static str {
        match self {
            CandidateKind::Host => "host",
            CandidateKind::ServerReflexive => "srflx",
            CandidateKind::PeerReflexive => "prflx",
            CandidateKind::Relayed => "relay",
        }
    }
    fn from_sdp(s: &str) -> Option<Self> {
        Some(match s {
            "host" => CandidateKind::Host,
            "srflx" => CandidateKind::ServerReflexive,
            "prflx" => CandidateKind::PeerReflexive,
            "relay" => CandidateKind::Relayed,
            _ => return None,
        })
    }
}

/// The component every Tern candidate has: RTP and RTCP are multiplexed
/// (RFC 8843 BUNDLE, RFC 5761 rtcp-mux), so there is only component 1.
pub const COMPONENT_RTP: u16 = 1;

/// A candidate's priority (§5.1.2.1):
/// `2^24 * type preference + 2^8 * local preference + (256 - component)`.
pub const fn candidate_priority(kind: CandidateKind, local_preference: u16, component: u16) -> u32 {
    let component = if component == 0 || component > 256 {
        256
    } else {
        component as u32
    };
    (kind.type_preference() << 24) + ((local_preference as u32) << 8) + (256 - component)
}

/// A pair's priority (§6.1.2.3), from the controlling agent's candidate
/// priority `g` and the controlled agent's `d`:
/// `2^32 * min(g, d) + 2 * max(g, d) + (g > d ? 1 : 0)`.
pub const fn pair_priority(g: u32, d: u32) -> u64 {
    let (min, max) = if g < d { (g, d) } else { (d, g) };
    ((min as u64) << 32) + 2 * (max as u64) + if g > d { 1 } else { 0 }
}

/// Longest foundation (RFC 8839 §5.1: 1 to 32 ice-chars).
pub const MAX_FOUNDATION: usize = 32;

/// A candidate foundation: 1 to 32 `ice-char`s (ALPHA / DIGIT / "+" / "/").
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Foundation {
    bytes: [u8; MAX_FOUNDATION],
    len: u8,
}

impl Foundation {
    /// A foundation from text; `None` if empty, too long or not ice-chars.
    pub fn new(s: &str) -> Option<Self> {
        if s.is_empty() || s.len() > MAX_FOUNDATION || !s.bytes().all(is_ice_char) {
            return None;
        }
        let mut bytes = [0u8; MAX_FOUNDATION];
        bytes[..s.len()].copy_from_slice(s.as_bytes());
        Some(Self {
            bytes,
            len: s.len() as u8,
        })
    }
    /// A foundation from a number (how the agent names its own).
    pub fn from_u32(v: u32) -> Self {
        let mut bytes = [0u8; MAX_FOUNDATION];
        let mut digits = [0u8; 10];
        let mut n = v;
        let mut i = 0;
        loop {
            digits[i] = b'0' + (n % 10) as u8;
            i += 1;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        for (k, d) in digits[..i].iter().rev().enumerate() {
            bytes[k] = *d;
        }
        Self {
            bytes,
            len: i as u8,
        }
    }
    /// The text.
    pub fn as_str(&self) -> &str {
        // Only ASCII ice-chars are ever stored.
        core::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("")
    }
}

impl fmt::Debug for Foundation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Foundation({})", self.as_str())
    }
}
impl fmt::Display for Foundation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

pub(crate) fn is_ice_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/'
}

/// A candidate as exchanged in signaling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    /// Candidates with the same foundation share type, base IP, server
    /// and transport (§5.1.1.3).
    pub foundation: Foundation,
    /// Always [`COMPONENT_RTP`] for Tern.
    pub component: u16,
    /// The priority (§5.1.2).
    pub priority: u32,
    /// The transport address.
    pub address: SocketAddr,
    /// The type.
    pub kind: CandidateKind,
    /// `raddr`/`rport`: the related address (the base of a reflexive
    /// candidate), if given.
    pub related: Option<SocketAddr>,
}

/// Longest `candidate` attribute value accepted.
pub const MAX_CANDIDATE_LINE: usize = 1024;

impl Candidate {
    /// A host candidate with the recommended priority for `local_preference`.
    pub fn host(address: SocketAddr, local_preference: u16) -> Self {
        Self {
            foundation: Foundation::from_u32(foundation_of(
                CandidateKind::Host,
                address.ip(),
                None,
            )),
            component: COMPONENT_RTP,
            priority: candidate_priority(CandidateKind::Host, local_preference, COMPONENT_RTP),
            address,
            kind: CandidateKind::Host,
            related: None,
        }
    }

    /// Parses an SDP candidate attribute value (RFC 8839 §5.1), with or
    /// without the leading `a=` and `candidate:`. Only UDP candidates for
    /// component 1 with a literal IP address are accepted: TCP candidates,
    /// RTCP (component 2) candidates and mDNS host names (`*.local`) are
    /// refused with an `InvalidInput` error so the caller can ignore them.
    pub fn from_sdp(line: &str) -> Result<Self, Error> {
        if line.len() > MAX_CANDIDATE_LINE {
            return Err(Error::invalid("candidate line too long"));
        }
        let line = line.trim_end_matches(['\r', '\n']);
        let line = line.strip_prefix("a=").unwrap_or(line);
        let line = line.strip_prefix("candidate:").unwrap_or(line);
        let mut it = line.split(' ').filter(|t| !t.is_empty());
        let mut next = |what: &'static str| it.next().ok_or(Error::invalid(what));
        let foundation =
            Foundation::new(next("no foundation")?).ok_or(Error::invalid("bad foundation"))?;
        let component: u16 = next("no component")?
            .parse()
            .map_err(|_| Error::invalid("bad component"))?;
        let transport = next("no transport")?;
        let priority: u32 = next("no priority")?
            .parse()
            .map_err(|_| Error::invalid("bad priority"))?;
        let addr = next("no connection address")?;
        let port: u16 = next("no port")?
            .parse()
            .map_err(|_| Error::invalid("bad port"))?;
        if next("no typ")? != "typ" {
            return Err(Error::invalid("expected typ"));
        }
        let kind = CandidateKind::from_sdp(next("no candidate type")?)
            .ok_or(Error::invalid("bad candidate type"))?;
        let mut raddr: Option<IpAddr> = None;
        let mut rport: Option<u16> = None;
        // Extension attributes come in name/value pairs.
        let mut rest = 0usize;
        while let Some(name) = it.next() {
            rest += 1;
            if rest > 32 {
                return Err(Error::invalid("too many candidate extensions"));
            }
            let value = it
                .next()
                .ok_or(Error::invalid("candidate extension without a value"))?;
            match name {
                "raddr" => raddr = value.parse().ok(),
                "rport" => rport = value.parse().ok(),
                _ => {}
            }
        }
        if !transport.eq_ignore_ascii_case("udp") {
            return Err(Error::invalid("only UDP candidates are supported"));
        }
        if component != COMPONENT_RTP {
            return Err(Error::invalid("only component 1 is supported (rtcp-mux)"));
        }
        if priority == 0 {
            return Err(Error::invalid("priority must be positive"));
        }
        let ip: IpAddr = addr
            .parse()
            .map_err(|_| Error::invalid("connection address is not an IP address"))?;
        if port == 0 {
            return Err(Error::invalid("port 0"));
        }
        Ok(Self {
            foundation,
            component,
            priority,
            address: SocketAddr::new(ip, port),
            kind,
            related: match (raddr, rport) {
                (Some(a), Some(p)) => Some(SocketAddr::new(a, p)),
                _ => None,
            },
        })
    }
}

impl fmt::Display for Candidate {
    /// The SDP attribute value: `candidate:<foundation> 1 udp <priority>
    /// <ip> <port> typ <type> [raddr <ip> rport <port>]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "candidate:{} {} udp {} {} {} typ {}",
            self.foundation,
            self.component,
            self.priority,
            self.address.ip(),
            self.address.port(),
            self.kind.sdp_name()
        )?;
        if let Some(r) = self.related {
            write!(f, " raddr {} rport {}", r.ip(), r.port())?;
        }
        Ok(())
    }
}

/// A numeric foundation (§5.1.1.3): equal for the same type, base IP and
/// STUN server. FNV-1a over those fields.
pub(crate) fn foundation_of(kind: CandidateKind, base: IpAddr, server: Option<SocketAddr>) -> u32 {
    let mut h: u32 = 0x811C_9DC5;
    let mut eat = |b: &[u8]| {
        for x in b {
            h ^= u32::from(*x);
            h = h.wrapping_mul(0x0100_0193);
        }
    };
    eat(kind.sdp_name().as_bytes());
    match base {
        IpAddr::V4(a) => eat(&a.octets()),
        IpAddr::V6(a) => eat(&a.octets()),
    }
    if let Some(s) = server {
        match s.ip() {
            IpAddr::V4(a) => eat(&a.octets()),
            IpAddr::V6(a) => eat(&a.octets()),
        }
        eat(&s.port().to_be_bytes());
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc8445_5_1_2_1_candidate_priorities() {
        // Local preference 65535, component 1.
        let p = |k| candidate_priority(k, 65535, 1);
        assert_eq!(p(CandidateKind::Host), 2_130_706_431);
        assert_eq!(p(CandidateKind::PeerReflexive), 1_862_270_975);
        assert_eq!(p(CandidateKind::ServerReflexive), 1_694_498_815);
        assert_eq!(p(CandidateKind::Relayed), 16_777_215);
        // Component 2 is one less; local preference shifts by 8 bits.
        assert_eq!(
            candidate_priority(CandidateKind::Host, 65535, 2),
            2_130_706_430
        );
        assert_eq!(candidate_priority(CandidateKind::Host, 0, 1), 2_113_929_471);
    }

    #[test]
    fn rfc8445_6_1_2_3_pair_priorities_both_role_orders() {
        let host = 2_130_706_431u32;
        let srflx = 1_694_498_815u32;
        // Controlling has host, controlled has srflx:
        // 2^32 * 1694498815 + 2 * 2130706431 + 1.
        assert_eq!(pair_priority(host, srflx), 7_277_816_997_797_167_103);
        // Roles swapped: the same min and max, no tie bit.
        assert_eq!(pair_priority(srflx, host), 7_277_816_997_797_167_102);
        // Equal priorities: 2^32 * p + 2 * p.
        assert_eq!(pair_priority(host, host), 9_151_314_442_783_293_438);
        // Relay against prflx.
        assert_eq!(
            pair_priority(16_777_215, 1_862_270_975),
            72_057_593_467_502_590
        );
        assert_eq!(
            pair_priority(1_862_270_975, 16_777_215),
            72_057_593_467_502_591
        );
    }

    #[test]
    fn foundation_text() {
        assert_eq!(Foundation::from_u32(0).as_str(), "0");
        assert_eq!(Foundation::from_u32(4_294_967_295).as_str(), "4294967295");
        assert!(Foundation::new("").is_none());
        assert!(Foundation::new("a b").is_none());
        assert!(Foundation::new(&"a".repeat(33)).is_none());
        assert_eq!(Foundation::new("a+/Z9").unwrap().as_str(), "a+/Z9");
    }

    #[test]
    fn sdp_candidate_round_trip() {
        let s = "candidate:842163049 1 udp 1677729535 203.0.113.7 61000 typ srflx raddr 10.0.0.2 rport 5000 generation 0 ufrag abcd network-cost 999";
        let c = Candidate::from_sdp(s).unwrap();
        assert_eq!(c.kind, CandidateKind::ServerReflexive);
        assert_eq!(c.address, "203.0.113.7:61000".parse().unwrap());
        assert_eq!(c.related, Some("10.0.0.2:5000".parse().unwrap()));
        assert_eq!(c.priority, 1_677_729_535);
        let again = Candidate::from_sdp(&format!("a={c}\r\n")).unwrap();
        assert_eq!(again, c);
        let h = Candidate::host("[2001:db8::1]:9".parse().unwrap(), 65535);
        assert_eq!(Candidate::from_sdp(&h.to_string()).unwrap(), h);
    }

    #[test]
    fn sdp_candidate_rejections_are_errors() {
        for bad in [
            "",
            "candidate:",
            "candidate:1 1 tcp 1 192.0.2.1 9 typ host tcptype active",
            "candidate:1 2 udp 1 192.0.2.1 9 typ host",
            "candidate:1 1 udp 1 abc.local 9 typ host",
            "candidate:1 1 udp 1 192.0.2.1 0 typ host",
            "candidate:1 1 udp 0 192.0.2.1 9 typ host",
            "candidate:1 1 udp 1 192.0.2.1 9 typ bogus",
            "candidate:1 1 udp 1 192.0.2.1 9 type host",
            "candidate:1 1 udp 99999999999 192.0.2.1 9 typ host",
            "candidate:1 1 udp 1 192.0.2.1 9 typ host raddr",
        ] {
            assert!(Candidate::from_sdp(bad).is_err(), "{bad}");
        }
        let good = "candidate:1 1 udp 1 192.0.2.1 9 typ host";
        for n in 0..good.len() {
            // Every truncation is an error, not a panic (some cut inside the
            // port number still parse, so only check no panic there).
            let _ = Candidate::from_sdp(&good[..n]);
        }
        assert!(Candidate::from_sdp(&"x".repeat(2000)).is_err());
    }
}
