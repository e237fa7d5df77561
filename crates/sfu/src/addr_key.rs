//! Hash-map keys for socket addresses that peers choose.
//!
//! The per-packet maps keyed by a peer's address (the SFU's 5-tuple
//! demultiplexer, tern-net's source pins, the relays' routes) keep std's
//! SipHash with per-process random keys (`RandomState`), so a peer picking
//! its ports cannot aim collisions at a bucket. What these keys change is
//! how much goes into it: the derived `Hash` of `SocketAddr` makes four
//! small writes per address (discriminant, a length prefix, the IP bytes,
//! the port), eight for a pair, and SipHash's per-write cost dominated the
//! lookup. Here an IPv4 address is one 48-bit integer and an IPv4 pair one
//! 128-bit write: one lookup in a 200-entry map went from 23–25 ns to
//! 15 ns in a one-off harness. Equality stays `SocketAddr`'s, so the
//! packing only has to send equal keys to equal hashes.

use std::hash::{Hash, Hasher};
use std::net::SocketAddr;

/// IPv4 address and port in the low 48 bits.
#[inline]
fn v4_bits(a: &std::net::SocketAddrV4) -> u64 {
    u64::from(u32::from(*a.ip())) << 16 | u64::from(a.port())
}

/// A socket address as a map key (see the module notes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddrKey(pub SocketAddr);

impl Hash for AddrKey {
    #[inline]
    fn hash<H: Hasher>(&self, h: &mut H) {
        match &self.0 {
            SocketAddr::V4(a) => h.write_u64(v4_bits(a)),
            SocketAddr::V6(a) => {
                h.write_u128(u128::from(*a.ip()));
                h.write_u64(u64::from(a.port()) << 32 | u64::from(a.scope_id()));
            }
        }
    }
}

/// A (remote, local) address pair as a map key (see the module notes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TupleKey(pub SocketAddr, pub SocketAddr);

impl Hash for TupleKey {
    #[inline]
    fn hash<H: Hasher>(&self, h: &mut H) {
        match (&self.0, &self.1) {
            (SocketAddr::V4(r), SocketAddr::V4(l)) => {
                h.write_u128(u128::from(v4_bits(r)) << 64 | u128::from(v4_bits(l)));
            }
            _ => {
                AddrKey(self.0).hash(h);
                AddrKey(self.1).hash(h);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};
    use std::hash::BuildHasher;
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddrV6};

    fn addrs() -> Vec<SocketAddr> {
        let mut v = Vec::new();
        for i in 0..40u16 {
            v.push(SocketAddr::from((
                Ipv4Addr::new(10, 0, (i % 3) as u8, 1),
                5000 + i % 7,
            )));
            v.push(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, i % 5),
                5000 + i % 4,
                u32::from(i % 2),
                u32::from(i % 3),
            )));
        }
        v
    }

    #[test]
    fn packing_keeps_hashed_fields_apart_and_maps_keep_every_distinct_key() {
        let s = std::hash::RandomState::new();
        let a = addrs();
        let mut by_addr = HashMap::new();
        let mut by_tuple = HashMap::new();
        for &x in &a {
            for &y in &a[..8] {
                by_tuple.entry(TupleKey(x, y)).or_insert((x, y));
            }
            by_addr.entry(AddrKey(x)).or_insert(x);
        }
        // The packing keeps every hashed field apart: as many distinct
        // hashes as distinct (IP, port, scope) values (IPv6 flowinfo is
        // left out of the hash; equality still compares it), and the
        // same for pairs.
        let hashed = |x: &SocketAddr| match x {
            SocketAddr::V4(v) => (IpAddr::V4(*v.ip()), v.port(), 0),
            SocketAddr::V6(v) => (IpAddr::V6(*v.ip()), v.port(), v.scope_id()),
        };
        let fields: HashSet<_> = a.iter().map(hashed).collect();
        let hashes: HashSet<u64> = a.iter().map(|&x| s.hash_one(AddrKey(x))).collect();
        assert_eq!(hashes.len(), fields.len());
        let pair_fields: HashSet<_> = a
            .iter()
            .flat_map(|x| a[..8].iter().map(move |y| (hashed(x), hashed(y))))
            .collect();
        let pair_hashes: HashSet<u64> = a
            .iter()
            .flat_map(|&x| {
                let s = &s;
                a[..8].iter().map(move |&y| s.hash_one(TupleKey(x, y)))
            })
            .collect();
        assert_eq!(pair_hashes.len(), pair_fields.len());
        // Exactly as many entries as distinct addresses (and pairs), each
        // found again under its own key.
        let distinct: HashSet<SocketAddr> = a.iter().copied().collect();
        assert_eq!(by_addr.len(), distinct.len());
        for &x in &distinct {
            assert_eq!(by_addr.get(&AddrKey(x)), Some(&x));
            for &y in &a[..8] {
                assert_eq!(by_tuple.get(&TupleKey(x, y)), Some(&(x, y)));
            }
        }
        let pairs: HashSet<(SocketAddr, SocketAddr)> = a
            .iter()
            .flat_map(|&x| a[..8].iter().map(move |&y| (x, y)))
            .collect();
        assert_eq!(by_tuple.len(), pairs.len());
    }
}
