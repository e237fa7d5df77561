//! A minimal scripted TURN client for driving `TurnServer` in tests.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tern_stun::{
    Attribute, Class, IntegrityKey, Message, MessageBuilder, MessageType, Method, TransactionId,
};
use tern_turn::{IpRange, SeededEnv, ServerConfig, Transmit, TurnServer};

pub const LISTEN: &str = "198.51.100.1:3478";
pub const RELAY_IP: &str = "198.51.100.1";
pub const REALM: &str = "tern.test";

pub fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

pub fn config() -> ServerConfig {
    let mut c = ServerConfig::new(REALM, RELAY_IP.parse().unwrap());
    c.users.push(("alice".into(), "wonderland".into()));
    c.users.push(("bob".into(), "builder".into()));
    c.relay_ports = (50000, 50999);
    c.peer_policy
        .server_addresses
        .push(RELAY_IP.parse().unwrap());
    c
}

pub fn server(c: ServerConfig, now: Instant) -> TurnServer<SeededEnv> {
    TurnServer::new(c, SeededEnv::new(7), now, 1_700_000_000)
}

/// A datagram taken out of the server.
#[derive(Debug, Clone)]
pub struct Out {
    pub t: Transmit,
    pub bytes: Vec<u8>,
}

pub fn drain(s: &mut TurnServer<SeededEnv>) -> Vec<Out> {
    let mut v = Vec::new();
    let mut buf = vec![0u8; 70_000];
    while let Some(t) = s.poll_transmit(&mut buf) {
        v.push(Out {
            t,
            bytes: buf[..t.len].to_vec(),
        });
    }
    v
}

pub fn allow(c: &mut ServerConfig, r: &str) {
    c.peer_policy.allow.push(IpRange::parse(r).unwrap());
}

pub struct Client {
    pub addr: SocketAddr,
    pub server: SocketAddr,
    pub user: String,
    pub pass: String,
    pub nonce: Option<String>,
    pub next_tid: u8,
    pub fingerprint: bool,
}

/// The parsed outcome of a request.
#[derive(Debug, Clone)]
pub struct Reply {
    pub bytes: Vec<u8>,
}

impl Reply {
    pub fn msg(&self) -> Message<'_> {
        Message::parse(&self.bytes).unwrap()
    }
    pub fn code(&self) -> Option<u16> {
        self.msg().error_code().map(|e| e.code)
    }
    pub fn ok(&self) -> bool {
        self.msg().message_type().class == Class::SuccessResponse
    }
}

impl Client {
    pub fn new(addr: &str, user: &str, pass: &str) -> Self {
        Self {
            addr: sa(addr),
            server: sa(LISTEN),
            user: user.into(),
            pass: pass.into(),
            nonce: None,
            next_tid: 1,
            fingerprint: true,
        }
    }

    pub fn key(&self) -> IntegrityKey {
        IntegrityKey::long_term(&self.user, REALM, &self.pass)
    }

    fn tid(&mut self) -> TransactionId {
        self.next_tid = self.next_tid.wrapping_add(1);
        let mut t = [0u8; 12];
        t[0] = self.next_tid;
        t[1..7].copy_from_slice(&self.addr.port().to_be_bytes().repeat(3));
        TransactionId(t)
    }

    /// Builds a request; authenticated if a nonce is known.
    pub fn build(
        &mut self,
        method: Method,
        attrs: &[Attribute<'_>],
        tid: TransactionId,
    ) -> Vec<u8> {
        let mut buf = vec![0u8; 2048];
        let mut b =
            MessageBuilder::new(&mut buf, MessageType::new(method, Class::Request), tid).unwrap();
        for a in attrs {
            b.add(a).unwrap();
        }
        if let Some(n) = self.nonce.clone() {
            b.add(&Attribute::Username(&self.user)).unwrap();
            b.add(&Attribute::Realm(REALM)).unwrap();
            b.add(&Attribute::Nonce(&n)).unwrap();
            b.message_integrity(&self.key()).unwrap();
        }
        if self.fingerprint {
            b.fingerprint().unwrap();
        }
        let n = b.finish();
        buf.truncate(n);
        buf
    }

    /// Sends one request, returns the one reply (asserting there is exactly
    /// one datagram back to us).
    pub fn send_raw(
        &mut self,
        s: &mut TurnServer<SeededEnv>,
        now: Instant,
        bytes: &[u8],
    ) -> Option<Reply> {
        s.handle_receive(now, self.addr, self.server, bytes);
        let out = drain(s);
        assert!(out.len() <= 1, "{out:?}");
        out.into_iter().next().map(|o| {
            assert_eq!(o.t.destination, self.addr);
            assert_eq!(o.t.source, self.server);
            Reply { bytes: o.bytes }
        })
    }

    /// A request with the 401/438 dance done as a real client would.
    pub fn request(
        &mut self,
        s: &mut TurnServer<SeededEnv>,
        now: Instant,
        method: Method,
        attrs: &[Attribute<'_>],
    ) -> Reply {
        for _ in 0..3 {
            let tid = self.tid();
            let req = self.build(method, attrs, tid);
            let r = self.send_raw(s, now, &req).expect("a reply");
            let m = r.msg();
            assert_eq!(m.transaction_id(), tid);
            let code = m.error_code().map(|e| e.code);
            let challenge = m.nonce().is_some() && m.message_integrity().is_none();
            if challenge && (code == Some(438) || (code == Some(401) && self.nonce.is_none())) {
                self.nonce = m.nonce().map(str::to_owned);
                continue;
            }
            if !challenge {
                // Every answer to an authenticated request carries
                // MESSAGE-INTEGRITY under our key.
                m.verify_integrity(&self.key())
                    .expect("integrity on authenticated answer");
            }
            return r;
        }
        panic!("no answer after three tries");
    }

    pub fn allocate(&mut self, s: &mut TurnServer<SeededEnv>, now: Instant) -> SocketAddr {
        let r = self.request(
            s,
            now,
            Method::ALLOCATE,
            &[Attribute::RequestedTransport(17)],
        );
        assert!(r.ok(), "allocate failed: {:?}", r.msg().error_code());
        let m = r.msg();
        assert_eq!(m.xor_mapped_address(), Some(self.addr));
        m.xor_relayed_address().unwrap()
    }

    pub fn permit(
        &mut self,
        s: &mut TurnServer<SeededEnv>,
        now: Instant,
        peer: SocketAddr,
    ) -> Reply {
        self.request(
            s,
            now,
            Method::CREATE_PERMISSION,
            &[Attribute::XorPeerAddress(peer)],
        )
    }

    pub fn bind(
        &mut self,
        s: &mut TurnServer<SeededEnv>,
        now: Instant,
        ch: u16,
        peer: SocketAddr,
    ) -> Reply {
        self.request(
            s,
            now,
            Method::CHANNEL_BIND,
            &[
                Attribute::ChannelNumber(ch),
                Attribute::XorPeerAddress(peer),
            ],
        )
    }

    pub fn refresh(&mut self, s: &mut TurnServer<SeededEnv>, now: Instant, lifetime: u32) -> Reply {
        self.request(s, now, Method::REFRESH, &[Attribute::Lifetime(lifetime)])
    }

    /// A Send indication's bytes.
    pub fn send_indication(&mut self, peer: SocketAddr, data: &[u8]) -> Vec<u8> {
        let mut buf = vec![0u8; 2048];
        let tid = self.tid();
        let mut b = MessageBuilder::new(
            &mut buf,
            MessageType::new(Method::SEND, Class::Indication),
            tid,
        )
        .unwrap();
        b.add(&Attribute::XorPeerAddress(peer)).unwrap();
        b.add(&Attribute::Data(data)).unwrap();
        let n = b.finish();
        buf.truncate(n);
        buf
    }
}

pub fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}
