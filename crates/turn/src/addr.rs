//! Peer address policy: canonicalization and the ranges a relay refuses
//! by default (RFC 8656 §21.3 "Relaying to internal hosts"; special-purpose
//! registries RFC 6890, RFC 5735/6598 for IPv4, RFC 4291/4193/3056/6052 for
//! IPv6).
//!
//! Every comparison works on [`canonical`] addresses: an IPv6 address that
//! embeds an IPv4 address (IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible
//! `::a.b.c.d`, 6to4 `2002:AABB:CCDD::/48`, NAT64 `64:ff9b::/96`) is turned
//! into that IPv4 address first, so `::ffff:127.0.0.1` is loopback just as
//! `127.0.0.1` is.
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// An address block: an address and a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    addr: IpAddr,
    prefix: u8,
}

impl IpRange {
    /// A block; the address is canonicalized, and the prefix is clamped to
    /// the family's width (an IPv4-embedding IPv6 block given with a prefix
    /// of 96 or more becomes the matching IPv4 block).
    pub fn new(addr: IpAddr, prefix: u8) -> Self {
        match (addr, canonical(addr)) {
            (IpAddr::V6(_), IpAddr::V4(v4)) => Self {
                addr: IpAddr::V4(v4),
                prefix: prefix.saturating_sub(96).min(32),
            },
            (_, a @ IpAddr::V4(_)) => Self {
                addr: a,
                prefix: prefix.min(32),
            },
            (_, a) => Self {
                addr: a,
                prefix: prefix.min(128),
            },
        }
    }

    /// Parses `ADDR/PREFIX` or a bare address (a single host).
    pub fn parse(s: &str) -> Option<Self> {
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p.parse::<u8>().ok()?)),
            None => (s, None),
        };
        let addr: IpAddr = a.parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let p = p.unwrap_or(max);
        if p > max {
            return None;
        }
        Some(Self::new(addr, p))
    }

    /// Whether the block contains `ip` (compared canonically).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                prefix_eq(&net.octets(), &ip.octets(), self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                prefix_eq(&net.octets(), &ip.octets(), self.prefix)
            }
            _ => false,
        }
    }
}

fn prefix_eq(a: &[u8], b: &[u8], prefix: u8) -> bool {
    let full = usize::from(prefix / 8);
    let rem = prefix % 8;
    if a.get(..full) != b.get(..full) {
        return false;
    }
    if rem == 0 {
        return true;
    }
    let mask = 0xFFu8 << (8 - rem);
    match (a.get(full), b.get(full)) {
        (Some(x), Some(y)) => x & mask == y & mask,
        _ => false,
    }
}

/// The canonical form of an address: an IPv4 address embedded in an IPv6
/// one by any of the transition mechanisms below becomes that IPv4 address.
///
/// - IPv4-mapped `::ffff:0:0/96` (RFC 4291 §2.5.5.2)
/// - IPv4-compatible `::/96` except `::` and `::1` (RFC 4291 §2.5.5.1,
///   deprecated but still routable by some stacks)
/// - 6to4 `2002::/16`, the IPv4 address in bits 16–47 (RFC 3056 §2)
/// - NAT64 well-known prefix `64:ff9b::/96` (RFC 6052 §2.1)
///
/// Teredo (`2001::/32`) and the local-use NAT64 prefix `64:ff9b:1::/48`
/// (RFC 8215) are not unwrapped; [`is_forbidden_by_default`] refuses them
/// whole.
pub fn canonical(ip: IpAddr) -> IpAddr {
    let IpAddr::V6(v6) = ip else { return ip };
    let o = v6.octets();
    let s = v6.segments();
    let tail = Ipv4Addr::new(o[12], o[13], o[14], o[15]);
    if s[..5] == [0, 0, 0, 0, 0] && s[5] == 0xFFFF {
        return IpAddr::V4(tail);
    }
    if s[..6] == [0; 6] && !(s[6] == 0 && s[7] <= 1) {
        return IpAddr::V4(tail);
    }
    if s[0] == 0x2002 {
        return IpAddr::V4(Ipv4Addr::new(o[2], o[3], o[4], o[5]));
    }
    if s[..6] == [0x0064, 0xff9b, 0, 0, 0, 0] {
        return IpAddr::V4(tail);
    }
    ip
}

/// Why a peer address is refused by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `0.0.0.0/8`, `::`.
    Unspecified,
    /// `127.0.0.0/8`, `::1`.
    Loopback,
    /// `10/8`, `172.16/12`, `192.168/16` (RFC 1918), `fc00::/7` (RFC 4193).
    Private,
    /// `100.64.0.0/10` (RFC 6598).
    CarrierGradeNat,
    /// `169.254/16`, `fe80::/10` (and the deprecated site-local `fec0::/10`).
    LinkLocal,
    /// `224/4`, `ff00::/8`.
    Multicast,
    /// `255.255.255.255` and the rest of `240/4` (reserved).
    Broadcast,
    /// Other special-purpose blocks that are never a legitimate peer:
    /// `192.0.0.0/24`, `198.18.0.0/15`, `100::/64`, Teredo `2001::/32`,
    /// local-use NAT64 `64:ff9b:1::/48`.
    SpecialPurpose,
    /// One of the server's own addresses.
    ServerAddress,
}

/// The default refusal for `ip` (already canonicalized or not), ignoring
/// the server's own addresses; `None` if it is an ordinary unicast address.
pub fn is_forbidden_by_default(ip: IpAddr) -> Option<Refusal> {
    match canonical(ip) {
        IpAddr::V4(v4) => v4_refusal(v4),
        IpAddr::V6(v6) => v6_refusal(v6),
    }
}

fn v4_refusal(ip: Ipv4Addr) -> Option<Refusal> {
    let o = ip.octets();
    let r = match o {
        [0, ..] => Refusal::Unspecified,
        [127, ..] => Refusal::Loopback,
        [10, ..] => Refusal::Private,
        [172, b, ..] if (16..32).contains(&b) => Refusal::Private,
        [192, 168, ..] => Refusal::Private,
        [100, b, ..] if (64..128).contains(&b) => Refusal::CarrierGradeNat,
        [169, 254, ..] => Refusal::LinkLocal,
        [a, ..] if (224..240).contains(&a) => Refusal::Multicast,
        [a, ..] if a >= 240 => Refusal::Broadcast,
        [192, 0, 0, _] => Refusal::SpecialPurpose,
        [198, b, ..] if b == 18 || b == 19 => Refusal::SpecialPurpose,
        _ => return None,
    };
    Some(r)
}

fn v6_refusal(ip: Ipv6Addr) -> Option<Refusal> {
    let s = ip.segments();
    let r = if ip.is_unspecified() {
        Refusal::Unspecified
    } else if ip.is_loopback() {
        Refusal::Loopback
    } else if s[0] & 0xFE00 == 0xFC00 {
        Refusal::Private
    } else if s[0] & 0xFFC0 == 0xFE80 || s[0] & 0xFFC0 == 0xFEC0 {
        Refusal::LinkLocal
    } else if s[0] & 0xFF00 == 0xFF00 {
        Refusal::Multicast
    } else if s[..4] == [0x0100, 0, 0, 0]
        || s[..2] == [0x2001, 0]
        || s[..3] == [0x0064, 0xff9b, 0x0001]
    {
        Refusal::SpecialPurpose
    } else {
        return None;
    };
    Some(r)
}

/// The operator's peer policy: refused by default, unless allowed.
#[derive(Debug, Clone, Default)]
pub struct PeerPolicy {
    /// Blocks the operator allows even though they are refused by default
    /// (e.g. `127.0.0.0/8` for a loopback test). An allowed address is
    /// allowed even when it is one of the server's own addresses.
    pub allow: Vec<IpRange>,
    /// Extra blocks to refuse (checked after `allow`).
    pub deny: Vec<IpRange>,
    /// The server's own addresses (listening and relay); refused unless
    /// allowed.
    pub server_addresses: Vec<IpAddr>,
}

impl PeerPolicy {
    /// Whether a peer at `ip` may be relayed to; `Err` says why not.
    pub fn check(&self, ip: IpAddr) -> Result<(), Refusal> {
        let ip = canonical(ip);
        if self.allow.iter().any(|r| r.contains(ip)) {
            return Ok(());
        }
        if let Some(r) = is_forbidden_by_default(ip) {
            return Err(r);
        }
        if self.server_addresses.iter().any(|a| canonical(*a) == ip) {
            return Err(Refusal::ServerAddress);
        }
        if self.deny.iter().any(|r| r.contains(ip)) {
            return Err(Refusal::SpecialPurpose);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn embedded_ipv4_forms_canonicalize() {
        for s in [
            "::ffff:127.0.0.1",
            "::127.0.0.1",
            "2002:7f00:1::",
            "2002:7f00:0001:abcd::1",
            "64:ff9b::127.0.0.1",
        ] {
            assert_eq!(canonical(ip(s)), ip("127.0.0.1"), "{s}");
        }
        assert_eq!(canonical(ip("::1")), ip("::1"));
        assert_eq!(canonical(ip("::")), ip("::"));
        assert_eq!(canonical(ip("2001:db8::1")), ip("2001:db8::1"));
    }

    #[test]
    fn ranges_parse_and_match_canonically() {
        let r = IpRange::parse("127.0.0.0/8").unwrap();
        assert!(r.contains(ip("127.1.2.3")));
        assert!(r.contains(ip("::ffff:127.9.9.9")));
        assert!(!r.contains(ip("128.0.0.1")));
        let r = IpRange::parse("::ffff:10.0.0.0/104").unwrap();
        assert!(r.contains(ip("10.200.0.1")));
        assert!(IpRange::parse("1.2.3.4/33").is_none());
        assert!(IpRange::parse("2001:db8::/32")
            .unwrap()
            .contains(ip("2001:db8:1::1")));
        assert!(IpRange::parse("172.16.0.0/12")
            .unwrap()
            .contains(ip("172.31.255.255")));
        assert!(!IpRange::parse("172.16.0.0/12")
            .unwrap()
            .contains(ip("172.32.0.0")));
    }

    #[test]
    fn public_addresses_pass() {
        let p = PeerPolicy::default();
        for s in [
            "8.8.8.8",
            "2001:4860:4860::8888",
            "::ffff:8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
        ] {
            assert_eq!(p.check(ip(s)), Ok(()), "{s}");
        }
    }

    #[test]
    fn allow_overrides_default_and_server_address() {
        let p = PeerPolicy {
            allow: vec![IpRange::parse("127.0.0.0/8").unwrap()],
            deny: vec![IpRange::parse("203.0.113.0/24").unwrap()],
            server_addresses: vec![ip("127.0.0.1"), ip("198.51.100.7")],
        };
        assert_eq!(p.check(ip("127.0.0.1")), Ok(()));
        assert_eq!(p.check(ip("::ffff:127.0.0.1")), Ok(()));
        assert_eq!(p.check(ip("198.51.100.7")), Err(Refusal::ServerAddress));
        assert_eq!(p.check(ip("2002:c633:6407::")), Err(Refusal::ServerAddress));
        assert_eq!(p.check(ip("203.0.113.9")), Err(Refusal::SpecialPurpose));
        assert_eq!(p.check(ip("10.0.0.1")), Err(Refusal::Private));
    }
}
