//! A sans-IO STUN Binding server (RFC 8489 §6.3, §6.3.1, §6.3.4): answers
//! Binding requests with XOR-MAPPED-ADDRESS and FINGERPRINT, and bad
//! requests with 400 or 420.
//!
//! Poll order: after each [`BindingServer::handle_receive`], drain
//! [`BindingServer::poll_transmit`] until it returns `None`. The server
//! keeps no per-client state and needs no timers; at most `max_pending`
//! answers wait for the caller, and anything beyond is dropped and counted.
use crate::attr::{AttrType, Attribute, ErrorCode, UnknownAttributes};
use crate::builder::MessageBuilder;
use crate::message::{looks_like_stun, Message, MAX_UNKNOWN_REPORTED};
use crate::types::{Class, MessageType, Method, TransactionId};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Instant;

/// A datagram to send: `len` bytes written at the start of the caller's
/// buffer, from `source` (the local address the request arrived on) to
/// `destination`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transmit {
    /// Where to send it.
    pub destination: SocketAddr,
    /// The local address to send from.
    pub source: SocketAddr,
    /// Bytes written into the buffer.
    pub len: usize,
}

/// Counters, for operators and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServerStats {
    /// Datagrams handed to the server.
    pub received: u64,
    /// Success responses queued.
    pub answered: u64,
    /// Error responses queued (400, 420).
    pub rejected: u64,
    /// Datagrams dropped: not STUN, not a request, bad FINGERPRINT, or the
    /// answer queue was full.
    pub dropped: u64,
}

#[derive(Debug, Clone, Copy)]
enum Reply {
    Success,
    BadRequest(&'static str),
    UnknownAttributes([u8; 2 * MAX_UNKNOWN_REPORTED], usize),
}

#[derive(Debug, Clone, Copy)]
struct Pending {
    destination: SocketAddr,
    source: SocketAddr,
    tid: TransactionId,
    method: Method,
    reply: Reply,
}

/// The Binding server state machine.
#[derive(Debug)]
pub struct BindingServer {
    software: Option<String>,
    pending: VecDeque<Pending>,
    max_pending: usize,
    stats: ServerStats,
}

impl Default for BindingServer {
    fn default() -> Self {
        Self::new(None)
    }
}

impl BindingServer {
    /// Default bound on queued answers.
    pub const DEFAULT_MAX_PENDING: usize = 256;

    /// A server that puts `software` (if any) in its responses' SOFTWARE.
    pub fn new(software: Option<&str>) -> Self {
        Self::with_capacity(software, Self::DEFAULT_MAX_PENDING)
    }

    /// As [`Self::new`] with a bound on queued answers.
    pub fn with_capacity(software: Option<&str>, max_pending: usize) -> Self {
        let software = software.map(|s| {
            // Keep SOFTWARE within its 763-byte limit on a char boundary.
            let mut end = s.len().min(crate::attr::MAX_QUOTED);
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            s[..end].to_owned()
        });
        Self {
            software,
            pending: VecDeque::with_capacity(max_pending.min(1024)),
            max_pending,
            stats: ServerStats::default(),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> ServerStats {
        self.stats
    }

    /// Feeds one datagram that arrived on `local` from `remote`. Returns
    /// whether it was a STUN message (consumed, answered or not).
    pub fn handle_receive(
        &mut self,
        _now: Instant,
        remote: SocketAddr,
        local: SocketAddr,
        bytes: &[u8],
    ) -> bool {
        self.stats.received += 1;
        if !looks_like_stun(bytes) {
            self.stats.dropped += 1;
            return false;
        }
        // The header is sound from here on, so the type and id can be read
        // even if the body is malformed (for a 400).
        let raw_type = u16::from_be_bytes([bytes[0], bytes[1]]);
        let Some(typ) = MessageType::from_u16(raw_type) else {
            self.stats.dropped += 1;
            return false;
        };
        let mut tid = [0u8; 12];
        tid.copy_from_slice(&bytes[8..20]);
        let tid = TransactionId(tid);
        if typ.class != Class::Request {
            // Indications (keepalives) and stray responses get no answer.
            self.stats.dropped += 1;
            return true;
        }
        let reply = match Message::parse(bytes) {
            Err(e) => Reply::BadRequest(e.reason()),
            Ok(msg) => {
                if msg.has(AttrType::FINGERPRINT) && msg.verify_fingerprint().is_err() {
                    // §7.3: a message with a wrong FINGERPRINT is discarded.
                    self.stats.dropped += 1;
                    return true;
                }
                let unknown = msg.unknown_comprehension_required();
                if !unknown.is_empty() {
                    let mut list = [0u8; 2 * MAX_UNKNOWN_REPORTED];
                    for (chunk, t) in list.chunks_exact_mut(2).zip(unknown) {
                        chunk.copy_from_slice(&t.to_be_bytes());
                    }
                    Reply::UnknownAttributes(list, unknown.len() * 2)
                } else if typ.method != Method::BINDING {
                    Reply::BadRequest("unsupported method")
                } else {
                    Reply::Success
                }
            }
        };
        if self.pending.len() >= self.max_pending {
            self.stats.dropped += 1;
            return true;
        }
        match reply {
            Reply::Success => self.stats.answered += 1,
            _ => self.stats.rejected += 1,
        }
        self.pending.push_back(Pending {
            destination: remote,
            source: local,
            tid,
            method: typ.method,
            reply,
        });
        true
    }

    /// Writes the next answer into `buf` (at least 548 bytes is always
    /// enough). Returns `None` when nothing is queued. An answer that does
    /// not fit `buf` is dropped and counted.
    pub fn poll_transmit(&mut self, buf: &mut [u8]) -> Option<Transmit> {
        while let Some(p) = self.pending.pop_front() {
            match self.write(&p, buf) {
                Ok(len) => {
                    return Some(Transmit {
                        destination: p.destination,
                        source: p.source,
                        len,
                    })
                }
                Err(_) => self.stats.dropped += 1,
            }
        }
        None
    }

    /// The server has no timers.
    pub fn poll_timeout(&self) -> Option<Instant> {
        None
    }

    fn write(&self, p: &Pending, buf: &mut [u8]) -> Result<usize, crate::Error> {
        let class = match p.reply {
            Reply::Success => Class::SuccessResponse,
            _ => Class::ErrorResponse,
        };
        let mut b = MessageBuilder::new(buf, MessageType::new(p.method, class), p.tid)?;
        match p.reply {
            Reply::Success => {
                b.add(&Attribute::XorMappedAddress(p.destination))?;
            }
            Reply::BadRequest(reason) => {
                b.add(&Attribute::ErrorCode(ErrorCode {
                    code: ErrorCode::BAD_REQUEST,
                    reason,
                }))?;
            }
            Reply::UnknownAttributes(list, n) => {
                b.add(&Attribute::ErrorCode(ErrorCode {
                    code: ErrorCode::UNKNOWN_ATTRIBUTE,
                    reason: "Unknown Attribute",
                }))?;
                b.add(&Attribute::UnknownAttributes(
                    UnknownAttributes::from_bytes(&list[..n]),
                ))?;
            }
        }
        if let Some(s) = &self.software {
            b.add(&Attribute::Software(s))?;
        }
        b.fingerprint()?;
        Ok(b.finish())
    }
}
