//! A sans-IO Binding client transaction (RFC 8489 §6.2.1 retransmission over
//! UDP, §6.3.3 success processing, §6.3.4 error processing): learns the
//! server-reflexive address of the socket it is sent from.
//!
//! Poll order: `poll_transmit` until `None`, then `poll_event`, then
//! `poll_timeout` to know when to call `handle_timeout`. Time is always an
//! argument.
use crate::attr::{AttrType, Attribute};
use crate::builder::MessageBuilder;
use crate::message::Message;
use crate::server::Transmit;
use crate::types::{Class, MessageType, Method, TransactionId};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Retransmission parameters (§6.2.1): RTO, Rc and Rm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetransmitPolicy {
    /// Initial retransmission timeout (default 500 ms), doubled each time.
    pub rto: Duration,
    /// Rc: requests sent in all (default 7).
    pub max_transmits: u32,
    /// Rm: after the last request, wait `rto * last_wait_multiplier`
    /// (default 16) for a response.
    pub last_wait_multiplier: u32,
}

impl Default for RetransmitPolicy {
    fn default() -> Self {
        Self {
            rto: Duration::from_millis(500),
            max_transmits: 7,
            last_wait_multiplier: 16,
        }
    }
}

/// What the transaction concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientEvent {
    /// The server saw us at this address (XOR-MAPPED-ADDRESS, or
    /// MAPPED-ADDRESS from an old server).
    Mapped(SocketAddr),
    /// The server answered with an error code.
    Failed(u16),
    /// The server's response was unusable: a success response with unknown
    /// comprehension-required attributes or without a mapped address
    /// (§6.3.3 counts both as a failed transaction).
    Invalid,
    /// No answer within the retransmission schedule.
    TimedOut,
}

/// One Binding transaction to one server.
#[derive(Debug)]
pub struct BindingClient {
    server: SocketAddr,
    local: SocketAddr,
    tid: TransactionId,
    policy: RetransmitPolicy,
    sent: u32,
    send_now: bool,
    next_timeout: Option<Instant>,
    started: Option<Instant>,
    event: Option<ClientEvent>,
    done: bool,
}

impl BindingClient {
    /// A transaction from `local` to `server` with a caller-chosen random
    /// transaction id (sans-IO: Tern's protocol crates hold no RNG). The
    /// first request is ready to poll at once.
    pub fn new(
        local: SocketAddr,
        server: SocketAddr,
        tid: TransactionId,
        policy: RetransmitPolicy,
    ) -> Self {
        Self {
            server,
            local,
            tid,
            policy,
            sent: 0,
            send_now: true,
            next_timeout: None,
            started: None,
            event: None,
            done: false,
        }
    }

    /// The transaction id.
    pub fn transaction_id(&self) -> TransactionId {
        self.tid
    }

    /// Whether the transaction has concluded.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Writes the next request, if one is due, into `buf`.
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<Transmit> {
        if self.done || !self.send_now {
            return None;
        }
        let mut b = MessageBuilder::new(
            buf,
            MessageType::new(Method::BINDING, Class::Request),
            self.tid,
        )
        .ok()?;
        b.fingerprint().ok()?;
        let len = b.finish();
        self.send_now = false;
        self.sent += 1;
        let started = *self.started.get_or_insert(now);
        // Request k (1-based) is sent at RTO * (2^(k-1) - 1); after the
        // last one the client waits Rm * RTO.
        let deadline = if self.sent >= self.policy.max_transmits {
            now + self.policy.rto * self.policy.last_wait_multiplier
        } else {
            started + self.policy.rto * ((1u32 << self.sent.min(20)) - 1)
        };
        self.next_timeout = Some(deadline);
        Some(Transmit {
            destination: self.server,
            source: self.local,
            len,
        })
    }

    /// When `handle_timeout` is next due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.done {
            None
        } else {
            self.next_timeout
        }
    }

    /// Advances time: schedules a retransmission or gives up.
    pub fn handle_timeout(&mut self, now: Instant) {
        let Some(t) = self.next_timeout else { return };
        if self.done || now < t {
            return;
        }
        if self.sent >= self.policy.max_transmits {
            self.finish(ClientEvent::TimedOut);
        } else {
            self.send_now = true;
            self.next_timeout = None;
        }
    }

    /// Feeds a datagram that arrived on `local` from `remote`. Returns
    /// whether it was this transaction's response (and was consumed).
    pub fn handle_receive(
        &mut self,
        _now: Instant,
        remote: SocketAddr,
        local: SocketAddr,
        bytes: &[u8],
    ) -> bool {
        if self.done || remote != self.server || local != self.local {
            return false;
        }
        let Ok(msg) = Message::parse(bytes) else {
            return false;
        };
        if msg.transaction_id() != self.tid || msg.message_type().method != Method::BINDING {
            return false;
        }
        if msg.has(AttrType::FINGERPRINT) && msg.verify_fingerprint().is_err() {
            return false;
        }
        match msg.message_type().class {
            Class::SuccessResponse if !msg.unknown_comprehension_required().is_empty() => {
                self.finish(ClientEvent::Invalid)
            }
            Class::SuccessResponse => {
                let mapped = msg.xor_mapped_address().or_else(|| msg.mapped_address());
                match mapped {
                    Some(a) => self.finish(ClientEvent::Mapped(a)),
                    // §6.3.3: a success without a mapped address is a failure.
                    None => self.finish(ClientEvent::Invalid),
                }
            }
            Class::ErrorResponse => {
                let code = match msg.get(AttrType::ERROR_CODE) {
                    Some(Attribute::ErrorCode(e)) => e.code,
                    _ => 500,
                };
                self.finish(ClientEvent::Failed(code));
            }
            _ => return false,
        }
        true
    }

    /// The conclusion, once.
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.event.take()
    }

    fn finish(&mut self, e: ClientEvent) {
        self.done = true;
        self.event = Some(e);
        self.next_timeout = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BindingServer;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn rfc8489_6_2_1_retransmission_schedule() {
        // §6.2.1: with RTO 500 ms and Rc 7, requests go out at 0, 500, 1500,
        // 3500, 7500, 15500 and 31500 ms; the client gives up at 39500 ms.
        let t0 = Instant::now();
        let mut c = BindingClient::new(
            addr("10.0.0.1:5000"),
            addr("192.0.2.1:3478"),
            TransactionId([3; 12]),
            RetransmitPolicy::default(),
        );
        let mut buf = [0u8; 128];
        let mut sent_at = vec![];
        let mut now = t0;
        loop {
            while c.poll_transmit(now, &mut buf).is_some() {
                sent_at.push((now - t0).as_millis());
            }
            if let Some(e) = c.poll_event() {
                assert_eq!(e, ClientEvent::TimedOut);
                break;
            }
            now = c.poll_timeout().expect("a timer while running");
            c.handle_timeout(now);
        }
        assert_eq!(sent_at, [0, 500, 1500, 3500, 7500, 15500, 31500]);
        assert_eq!((now - t0).as_millis(), 39500);
    }

    #[test]
    fn learns_mapped_address_from_binding_server() {
        let now = Instant::now();
        let local = addr("10.0.0.1:5000");
        let server_addr = addr("192.0.2.1:3478");
        let mut c = BindingClient::new(
            local,
            server_addr,
            TransactionId([9; 12]),
            RetransmitPolicy::default(),
        );
        let mut s = BindingServer::new(Some("tern test"));
        let mut buf = [0u8; 548];
        let t = c.poll_transmit(now, &mut buf).unwrap();
        // The NAT rewrote our source to 203.0.113.7:61000.
        let seen_as = addr("203.0.113.7:61000");
        assert!(s.handle_receive(now, seen_as, t.destination, &buf[..t.len]));
        let mut out = [0u8; 548];
        let r = s.poll_transmit(&mut out).unwrap();
        assert_eq!(r.destination, seen_as);
        // A response from the wrong address is not ours.
        assert!(!c.handle_receive(now, addr("192.0.2.2:3478"), local, &out[..r.len]));
        assert!(c.handle_receive(now, server_addr, local, &out[..r.len]));
        assert_eq!(c.poll_event(), Some(ClientEvent::Mapped(seen_as)));
        assert!(c.is_done());
        assert_eq!(c.poll_timeout(), None);
    }

    #[test]
    fn rfc8489_6_3_3_unusable_success_responses_fail_the_transaction() {
        let now = Instant::now();
        let local = addr("10.0.0.1:5000");
        let server = addr("192.0.2.1:3478");
        let tid = TransactionId([4; 12]);
        let cases: [&dyn Fn(&mut MessageBuilder<'_>); 2] = [
            // No mapped address at all.
            &|_| {},
            // A mapped address, but also an unknown comprehension-required attribute.
            &|b| {
                b.add(&Attribute::XorMappedAddress(addr("203.0.113.1:1")))
                    .unwrap();
                b.add_raw(AttrType(0x7F00), b"?").unwrap();
            },
        ];
        for f in cases {
            let mut c = BindingClient::new(local, server, tid, RetransmitPolicy::default());
            let mut buf = [0u8; 128];
            c.poll_transmit(now, &mut buf).unwrap();
            let mut b = MessageBuilder::new(
                &mut buf,
                MessageType::new(Method::BINDING, Class::SuccessResponse),
                tid,
            )
            .unwrap();
            f(&mut b);
            let n = b.finish();
            assert!(c.handle_receive(now, server, local, &buf[..n]));
            assert_eq!(c.poll_event(), Some(ClientEvent::Invalid));
        }
    }

    #[test]
    fn error_response_reports_its_code() {
        let now = Instant::now();
        let local = addr("10.0.0.1:5000");
        let server = addr("192.0.2.1:3478");
        let tid = TransactionId([6; 12]);
        let mut c = BindingClient::new(local, server, tid, RetransmitPolicy::default());
        let mut buf = [0u8; 128];
        c.poll_transmit(now, &mut buf).unwrap();
        let mut b = MessageBuilder::new(
            &mut buf,
            MessageType::new(Method::BINDING, Class::ErrorResponse),
            tid,
        )
        .unwrap();
        b.add(&Attribute::ErrorCode(crate::ErrorCode {
            code: 420,
            reason: "Unknown Attribute",
        }))
        .unwrap();
        let n = b.finish();
        // The wrong transaction id is not this transaction's answer.
        let mut other = buf;
        other[8] ^= 1;
        assert!(!c.handle_receive(now, server, local, &other[..n]));
        assert!(c.handle_receive(now, server, local, &buf[..n]));
        assert_eq!(c.poll_event(), Some(ClientEvent::Failed(420)));
    }
}
