//! Every address form a relay refuses by default (RFC 8656 §21.3), one
//! named test each: CreatePermission and ChannelBind answer 403, a Send
//! indication is dropped and counted (indications have no response), and
//! nothing reaches the peer. IPv6 forms that embed a refused IPv4 address
//! are refused as that address.
mod common;

use common::*;
use std::time::Instant;
use tern_stun::Method;

fn assert_refused(peer: &str) {
    assert_refused_with(peer, config());
}

fn assert_refused_with(peer: &str, cfg: tern_turn::ServerConfig) {
    let peer = sa(peer);
    let now = Instant::now();
    let mut s = server(cfg, now);
    let mut c = Client::new("192.0.2.10:40000", "alice", "wonderland");
    c.allocate(&mut s, now);

    let r = c.permit(&mut s, now, peer);
    assert_eq!(r.code(), Some(403), "CreatePermission {peer}");
    let r = c.bind(&mut s, now, 0x4000, peer);
    assert_eq!(r.code(), Some(403), "ChannelBind {peer}");
    assert_eq!(s.state_size().permissions, 0);
    assert_eq!(s.state_size().channels, 0);

    let before = s.stats().peer_refused;
    let send = c.send_indication(peer, b"probe");
    s.handle_receive(now, c.addr, c.server, &send);
    assert!(drain(&mut s).is_empty(), "Send to {peer} relayed");
    assert_eq!(
        s.stats().peer_refused,
        before + 1,
        "Send to {peer} not counted"
    );
    // A CreatePermission with one good and one refused peer installs none.
    let r = c.request(
        &mut s,
        now,
        Method::CREATE_PERMISSION,
        &[
            tern_stun::Attribute::XorPeerAddress(sa("203.0.113.9:1")),
            tern_stun::Attribute::XorPeerAddress(peer),
        ],
    );
    assert_eq!(r.code(), Some(403));
    assert_eq!(s.state_size().permissions, 0);
}

macro_rules! refused {
    ($($name:ident => $addr:literal;)*) => {
        $(
            #[test]
            fn $name() {
                assert_refused($addr);
            }
        )*
    };
}

refused! {
    refuses_ipv4_loopback => "127.0.0.1:80";
    refuses_ipv4_loopback_range => "127.200.1.1:80";
    refuses_ipv6_loopback => "[::1]:80";
    refuses_ipv4_unspecified => "0.0.0.0:80";
    refuses_ipv4_this_network => "0.1.2.3:80";
    refuses_ipv6_unspecified => "[::]:80";
    refuses_private_10 => "10.1.2.3:80";
    refuses_private_172_16 => "172.16.0.1:80";
    refuses_private_172_31 => "172.31.255.254:80";
    refuses_private_192_168 => "192.168.1.1:80";
    refuses_ipv6_unique_local => "[fd00::1]:80";
    refuses_carrier_grade_nat => "100.64.0.1:80";
    refuses_carrier_grade_nat_top => "100.127.255.254:80";
    refuses_ipv4_link_local => "169.254.169.254:80";
    refuses_ipv6_link_local => "[fe80::1]:80";
    refuses_ipv6_site_local => "[fec0::1]:80";
    refuses_ipv4_multicast => "224.0.0.1:80";
    refuses_ipv4_multicast_top => "239.255.255.250:1900";
    refuses_ipv6_multicast => "[ff02::1]:80";
    refuses_ipv4_broadcast => "255.255.255.255:80";
    refuses_ipv4_reserved_240 => "240.0.0.1:80";
    refuses_ietf_protocol_assignments => "192.0.0.8:80";
    refuses_benchmarking => "198.18.0.1:80";
    refuses_ipv4_mapped_loopback => "[::ffff:127.0.0.1]:80";
    refuses_ipv4_mapped_private => "[::ffff:10.0.0.1]:80";
    refuses_ipv4_mapped_link_local => "[::ffff:169.254.169.254]:80";
    refuses_ipv4_mapped_cgnat => "[::ffff:100.64.0.1]:80";
    refuses_ipv4_mapped_unspecified => "[::ffff:0.0.0.0]:80";
    refuses_ipv4_mapped_multicast => "[::ffff:224.0.0.1]:80";
    refuses_ipv4_mapped_broadcast => "[::ffff:255.255.255.255]:80";
    refuses_ipv4_compatible_loopback => "[::127.0.0.1]:80";
    refuses_ipv4_compatible_private => "[::192.168.0.1]:80";
    refuses_6to4_loopback => "[2002:7f00:1::1]:80";
    refuses_6to4_private => "[2002:a00:1::1]:80";
    refuses_6to4_link_local => "[2002:a9fe:a9fe::]:80";
    refuses_nat64_loopback => "[64:ff9b::127.0.0.1]:80";
    refuses_nat64_private => "[64:ff9b::10.0.0.1]:80";
    refuses_nat64_local_use_prefix => "[64:ff9b:1::1]:80";
    refuses_teredo => "[2001:0:4136:e378::1]:80";
    refuses_discard_only_prefix => "[100::1]:80";
    refuses_server_own_relay_address => "198.51.100.1:80";
    refuses_server_own_address_ipv4_mapped => "[::ffff:198.51.100.1]:80";
    refuses_server_own_address_6to4 => "[2002:c633:6401::]:80";
    refuses_server_own_address_nat64 => "[64:ff9b::198.51.100.1]:80";
}

#[test]
fn refuses_server_listening_address_from_config() {
    let mut cfg = config();
    cfg.peer_policy
        .server_addresses
        .push("203.0.113.77".parse().unwrap());
    assert_refused_with("203.0.113.77:3478", cfg);
}

#[test]
fn refuses_operator_denied_range() {
    let mut cfg = config();
    cfg.peer_policy
        .deny
        .push(tern_turn::IpRange::parse("203.0.113.128/25").unwrap());
    assert_refused_with("203.0.113.200:9", cfg);
}

#[test]
fn operator_allow_lets_loopback_through_in_every_form() {
    let now = Instant::now();
    let mut cfg = config();
    allow(&mut cfg, "127.0.0.0/8");
    let mut s = server(cfg, now);
    let mut c = Client::new("192.0.2.10:40000", "alice", "wonderland");
    c.allocate(&mut s, now);
    for p in [
        "127.0.0.1:9",
        "[::ffff:127.0.0.1]:9",
        "[64:ff9b::127.0.0.1]:9",
    ] {
        let r = c.permit(&mut s, now, sa(p));
        // The IPv6 forms are allowed by policy and then fail on the family
        // check (an IPv4 allocation): 443, not 403.
        let want = if p.starts_with('[') { Some(443) } else { None };
        assert_eq!(r.code(), want, "{p}");
    }
    // Still refused: private ranges not in the allow list.
    assert_eq!(c.permit(&mut s, now, sa("10.0.0.1:9")).code(), Some(403));
}

#[test]
fn ordinary_public_peers_are_permitted() {
    let now = Instant::now();
    let mut s = server(config(), now);
    let mut c = Client::new("192.0.2.10:40000", "alice", "wonderland");
    c.allocate(&mut s, now);
    for p in [
        "8.8.8.8:53",
        "203.0.113.5:1",
        "172.32.0.1:1",
        "100.128.0.1:1",
        "192.0.1.1:1",
    ] {
        assert!(c.permit(&mut s, now, sa(p)).ok(), "{p}");
    }
}
