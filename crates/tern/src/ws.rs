//! WebSocket (RFC 6455), server side, written for signaling: the opening
//! handshake's `Sec-WebSocket-Accept` (section 4.2.2), frame decoding with
//! client masking (sections 5.2, 5.3), fragmentation (5.4), control frames
//! (5.5: close, ping, pong), and frame encoding for the server's unmasked
//! frames. No extensions, no subprotocols.
//!
//! [`Decoder`] is sans-IO: feed it the bytes read from the socket and take
//! [`Event`]s. It never buffers more than one message of at most
//! [`MAX_MESSAGE`] bytes plus one frame header and one read: a message that
//! would exceed the cap, and every binary message, is discarded as its bytes
//! arrive and reported by its length only.

use base64::Engine as _;
use sha1::{Digest, Sha1};

/// Largest text message kept (signaling v1: 64 KiB).
pub const MAX_MESSAGE: usize = tern_signal::MAX_MESSAGE_LEN;

/// The GUID of RFC 6455 section 1.3.
const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key` (section 4.2.2 step 5.4).
pub fn accept_key(key: &str) -> String {
    let mut h = Sha1::new();
    h.update(key.trim().as_bytes());
    h.update(GUID.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(h.finalize())
}

/// Whether a `Sec-WebSocket-Key` is valid: base64 of 16 bytes (section 4.1).
pub fn valid_key(key: &str) -> bool {
    base64::engine::general_purpose::STANDARD
        .decode(key.trim())
        .is_ok_and(|k| k.len() == 16)
}

/// Close status codes used here (section 7.4.1).
pub mod close_code {
    /// Normal closure.
    pub const NORMAL: u16 = 1000;
    /// Going away (server shutdown).
    pub const GOING_AWAY: u16 = 1001;
    /// Protocol error.
    pub const PROTOCOL_ERROR: u16 = 1002;
    /// Payload not consistent with the message type (bad UTF-8 in a close reason).
    pub const INVALID_PAYLOAD: u16 = 1007;
    /// Too slow a reader, or a policy reason.
    pub const POLICY: u16 = 1008;
}

/// What the decoder found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A complete text message (its bytes; UTF-8 is checked by the consumer).
    Text(Vec<u8>),
    /// A complete binary message, discarded; its length.
    Binary(u64),
    /// A text message over [`MAX_MESSAGE`], discarded; its length.
    Oversized(u64),
    /// A ping with its payload (answer with a pong carrying it).
    Ping(Vec<u8>),
    /// A pong (ignored).
    Pong,
    /// The peer's close frame: its status code, if any.
    Close(Option<u16>),
    /// The peer broke the protocol: fail the connection with this close code.
    Fail(u16, &'static str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Msg {
    /// No message in progress.
    None,
    /// A text message being collected in `msg`.
    Text,
    /// A message being discarded: binary, or text over the cap.
    Discard { binary: bool },
}

/// Incremental frame decoder for one connection (client → server frames).
#[derive(Debug)]
pub struct Decoder {
    input: Vec<u8>,
    msg: Vec<u8>,
    msg_state: Msg,
    msg_len: u64,
    /// Payload bytes of the current (discarded) frame still to skip, its
    /// mask and the offset into it, and whether it ends the message.
    skip: u64,
    skip_fin: bool,
    failed: bool,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Decoder {
    /// A decoder at the start of a connection.
    pub fn new() -> Self {
        Decoder {
            input: Vec::new(),
            msg: Vec::new(),
            msg_state: Msg::None,
            msg_len: 0,
            skip: 0,
            skip_fin: false,
            failed: false,
        }
    }

    /// Bytes buffered (bounded by one frame of at most the cap plus one read).
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn buffered(&self) -> usize {
        self.input.len() + self.msg.len()
    }

    /// Adds bytes read from the socket.
    pub fn feed(&mut self, data: &[u8]) {
        if !self.failed {
            self.input.extend_from_slice(data);
        }
    }

    fn fail(&mut self, code: u16, why: &'static str) -> Option<Event> {
        self.failed = true;
        self.input.clear();
        self.msg = Vec::new();
        Some(Event::Fail(code, why))
    }

    /// The next event, or `None` until more bytes arrive.
    pub fn next_event(&mut self) -> Option<Event> {
        loop {
            if self.failed {
                return None;
            }
            // Skipping the payload of a discarded frame.
            if self.skip > 0 {
                let n = (self.skip.min(self.input.len() as u64)) as usize;
                self.input.drain(..n);
                self.skip -= n as u64;
                if self.skip > 0 {
                    return None;
                }
                if self.skip_fin {
                    return Some(self.finish_discard());
                }
                continue;
            }
            let b = &self.input;
            if b.len() < 2 {
                return None;
            }
            let fin = b[0] & 0x80 != 0;
            let rsv = b[0] & 0x70;
            let opcode = b[0] & 0x0f;
            let masked = b[1] & 0x80 != 0;
            let len7 = b[1] & 0x7f;
            let (len, mut pos) = match len7 {
                126 => {
                    if b.len() < 4 {
                        return None;
                    }
                    (u64::from(u16::from_be_bytes([b[2], b[3]])), 4)
                }
                127 => {
                    if b.len() < 10 {
                        return None;
                    }
                    let mut x = [0u8; 8];
                    x.copy_from_slice(&b[2..10]);
                    (u64::from_be_bytes(x), 10)
                }
                n => (u64::from(n), 2),
            };
            if rsv != 0 {
                return self.fail(close_code::PROTOCOL_ERROR, "reserved bits set");
            }
            if !masked {
                return self.fail(close_code::PROTOCOL_ERROR, "client frame not masked");
            }
            if len >> 63 != 0 {
                return self.fail(close_code::PROTOCOL_ERROR, "64-bit length with top bit set");
            }
            if b.len() < pos + 4 {
                return None;
            }
            let mut mask = [0u8; 4];
            mask.copy_from_slice(&b[pos..pos + 4]);
            pos += 4;
            let control = opcode & 0x08 != 0;
            if control {
                if !fin {
                    return self.fail(close_code::PROTOCOL_ERROR, "fragmented control frame");
                }
                if len > 125 {
                    return self.fail(close_code::PROTOCOL_ERROR, "control frame over 125 bytes");
                }
                if !matches!(opcode, 8..=10) {
                    return self.fail(close_code::PROTOCOL_ERROR, "reserved control opcode");
                }
                let end = pos + len as usize;
                if self.input.len() < end {
                    return None;
                }
                let payload: Vec<u8> = self.input[pos..end]
                    .iter()
                    .enumerate()
                    .map(|(i, x)| x ^ mask[i % 4])
                    .collect();
                self.input.drain(..end);
                return match opcode {
                    8 => self.close_event(&payload),
                    9 => Some(Event::Ping(payload)),
                    _ => Some(Event::Pong),
                };
            }
            // Data frames.
            match (opcode, self.msg_state) {
                (0, Msg::None) => {
                    return self.fail(close_code::PROTOCOL_ERROR, "continuation without a message")
                }
                (1 | 2, Msg::Text | Msg::Discard { .. }) => {
                    return self.fail(
                        close_code::PROTOCOL_ERROR,
                        "new message inside a fragmented one",
                    )
                }
                (0..=2, _) => {}
                _ => return self.fail(close_code::PROTOCOL_ERROR, "reserved data opcode"),
            }
            // Work out the message state this frame leads to; commit it only
            // once the frame is consumed (or discarding starts).
            let (mut state, prev_len) = match opcode {
                1 => (Msg::Text, 0),
                2 => (Msg::Discard { binary: true }, 0),
                _ => (self.msg_state, self.msg_len),
            };
            let msg_len = prev_len.saturating_add(len);
            if state == Msg::Text && msg_len > MAX_MESSAGE as u64 {
                state = Msg::Discard { binary: false };
            }
            if let Msg::Discard { .. } = state {
                self.msg_state = state;
                self.msg_len = msg_len;
                self.msg = Vec::new();
                self.input.drain(..pos);
                self.skip = len;
                self.skip_fin = fin;
                if len == 0 && fin {
                    return Some(self.finish_discard());
                }
                continue;
            }
            // A text frame that fits: wait for all of it.
            let end = pos + len as usize;
            if self.input.len() < end {
                return None;
            }
            if opcode == 1 {
                self.msg.clear();
            }
            self.msg_state = state;
            self.msg_len = msg_len;
            self.msg.extend(
                self.input[pos..end]
                    .iter()
                    .enumerate()
                    .map(|(i, x)| x ^ mask[i % 4]),
            );
            self.input.drain(..end);
            if fin {
                self.msg_state = Msg::None;
                return Some(Event::Text(std::mem::take(&mut self.msg)));
            }
        }
    }

    fn finish_discard(&mut self) -> Event {
        let binary = matches!(self.msg_state, Msg::Discard { binary: true });
        self.msg_state = Msg::None;
        self.skip_fin = false;
        if binary {
            Event::Binary(self.msg_len)
        } else {
            Event::Oversized(self.msg_len)
        }
    }

    fn close_event(&mut self, payload: &[u8]) -> Option<Event> {
        match payload.len() {
            0 => Some(Event::Close(None)),
            1 => self.fail(close_code::PROTOCOL_ERROR, "close payload of one byte"),
            _ => {
                let code = u16::from_be_bytes([payload[0], payload[1]]);
                let valid = matches!(code, 1000..=1003 | 1007..=1011 | 3000..=4999);
                if !valid {
                    return self.fail(close_code::PROTOCOL_ERROR, "invalid close code");
                }
                if core::str::from_utf8(&payload[2..]).is_err() {
                    return self.fail(close_code::INVALID_PAYLOAD, "close reason not UTF-8");
                }
                Some(Event::Close(Some(code)))
            }
        }
    }
}

/// Encodes one unmasked server frame (FIN set).
pub fn encode_frame(opcode: u8, payload: &[u8], out: &mut Vec<u8>) {
    out.push(0x80 | (opcode & 0x0f));
    match payload.len() {
        n @ 0..=125 => out.push(n as u8),
        n @ 126..=0xffff => {
            out.push(126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(payload);
}

/// A text frame.
pub fn text_frame(text: &str) -> Vec<u8> {
    let mut v = Vec::with_capacity(text.len() + 10);
    encode_frame(1, text.as_bytes(), &mut v);
    v
}

/// A close frame with a status code.
pub fn close_frame(code: u16) -> Vec<u8> {
    let mut v = Vec::with_capacity(4);
    encode_frame(8, &code.to_be_bytes(), &mut v);
    v
}

/// A ping (server keepalive).
pub fn encode_ping(payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(payload.len() + 2);
    encode_frame(9, payload, &mut v);
    v
}

/// A pong answering a ping.
pub fn pong_frame(payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(payload.len() + 2);
    encode_frame(10, payload, &mut v);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A masked client frame.
    pub(crate) fn client_frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
        let mask = [0x37, 0xfa, 0x21, 0x3d];
        let mut v = vec![(if fin { 0x80 } else { 0 }) | opcode];
        match payload.len() {
            n @ 0..=125 => v.push(0x80 | n as u8),
            n @ 126..=0xffff => {
                v.push(0x80 | 126);
                v.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                v.push(0x80 | 127);
                v.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        v.extend_from_slice(&mask);
        v.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        v
    }

    fn events(bytes: &[u8], chunk: usize) -> Vec<Event> {
        let mut d = Decoder::new();
        let mut out = Vec::new();
        for c in bytes.chunks(chunk.max(1)) {
            d.feed(c);
            while let Some(e) = d.next_event() {
                out.push(e);
            }
            assert!(d.buffered() <= MAX_MESSAGE + 14 + chunk);
        }
        out
    }

    #[test]
    fn rfc6455_1_3_accept_key_example() {
        assert_eq!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
        assert!(valid_key("dGhlIHNhbXBsZSBub25jZQ=="));
        assert!(!valid_key("c2hvcnQ="));
        assert!(!valid_key("not base64!"));
    }

    #[test]
    fn rfc6455_5_7_examples() {
        // A single-frame masked text message "Hello".
        let hello = [
            0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
        ];
        assert_eq!(events(&hello, 100), [Event::Text(b"Hello".to_vec())]);
        assert_eq!(events(&hello, 1), [Event::Text(b"Hello".to_vec())]);
        // Unmasked frames from a client are a protocol error.
        let unmasked = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
        assert!(matches!(events(&unmasked, 100)[..], [Event::Fail(1002, _)]));
        // The server's own frame encoding matches the unmasked example.
        assert_eq!(text_frame("Hello"), unmasked);
        // 256 bytes and 64 KiB binary in one frame: lengths 126 and 127 forms.
        let mut v = Vec::new();
        encode_frame(2, &[0u8; 256], &mut v);
        assert_eq!(&v[..4], &[0x82, 0x7e, 0x01, 0x00]);
        let mut v = Vec::new();
        encode_frame(2, &vec![0u8; 65536], &mut v);
        assert_eq!(
            &v[..10],
            &[0x82, 0x7f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00]
        );
    }

    #[test]
    fn fragments_with_interleaved_control_frames() {
        let mut b = client_frame(false, 1, b"Hel");
        b.extend(client_frame(true, 9, b"ping!"));
        b.extend(client_frame(false, 0, b"l"));
        b.extend(client_frame(true, 0, b"o"));
        for chunk in [1, 3, 1000] {
            assert_eq!(
                events(&b, chunk),
                [
                    Event::Ping(b"ping!".to_vec()),
                    Event::Text(b"Hello".to_vec())
                ]
            );
        }
    }

    #[test]
    fn binary_and_oversized_messages_are_discarded_unbuffered() {
        let mut b = client_frame(true, 2, &[1, 2, 3]);
        b.extend(client_frame(true, 1, &vec![b'x'; MAX_MESSAGE + 1]));
        b.extend(client_frame(false, 1, &vec![b'y'; MAX_MESSAGE - 10]));
        b.extend(client_frame(true, 0, &[b'z'; 20]));
        b.extend(client_frame(true, 1, &vec![b'k'; MAX_MESSAGE]));
        for chunk in [7, 4096, 70_000] {
            let ev = events(&b, chunk);
            assert_eq!(ev.len(), 4);
            assert_eq!(ev[0], Event::Binary(3));
            assert_eq!(ev[1], Event::Oversized(MAX_MESSAGE as u64 + 1));
            assert_eq!(ev[2], Event::Oversized(MAX_MESSAGE as u64 + 10));
            assert_eq!(ev[3], Event::Text(vec![b'k'; MAX_MESSAGE]));
        }
        // Empty binary frame.
        assert_eq!(events(&client_frame(true, 2, b""), 10), [Event::Binary(0)]);
    }

    #[test]
    fn close_frames() {
        assert_eq!(
            events(&client_frame(true, 8, b""), 10),
            [Event::Close(None)]
        );
        assert_eq!(
            events(&client_frame(true, 8, &[0x03, 0xe8, b'o', b'k']), 10),
            [Event::Close(Some(1000))]
        );
        assert!(matches!(
            events(&client_frame(true, 8, &[0x03]), 10)[..],
            [Event::Fail(1002, _)]
        ));
        assert!(matches!(
            events(&client_frame(true, 8, &[0x03, 0xed]), 10)[..], // 1005 is reserved
            [Event::Fail(1002, _)]
        ));
        assert!(matches!(
            events(&client_frame(true, 8, &[0x03, 0xe8, 0xff]), 10)[..],
            [Event::Fail(1007, _)]
        ));
    }

    #[test]
    fn protocol_errors() {
        let cases: Vec<Vec<u8>> = vec![
            client_frame(true, 0, b"x"),        // continuation first
            client_frame(false, 9, b"x"),       // fragmented ping
            client_frame(true, 9, &[0u8; 126]), // big ping
            client_frame(true, 3, b"x"),        // reserved data opcode
            client_frame(true, 0xb, b"x"),      // reserved control opcode
            {
                let mut f = client_frame(true, 1, b"x");
                f[0] |= 0x40; // RSV1
                f
            },
            {
                let mut f = client_frame(false, 1, b"x");
                f.extend(client_frame(true, 1, b"y")); // new message mid-fragment
                f
            },
            {
                let mut f = vec![0x81, 0xff];
                f.extend_from_slice(&[0x80, 0, 0, 0, 0, 0, 0, 1]);
                f.extend_from_slice(&[0; 4]);
                f
            },
        ];
        for (i, c) in cases.iter().enumerate() {
            let ev = events(c, 1000);
            assert!(
                matches!(ev.last(), Some(Event::Fail(1002, _))),
                "case {i}: {ev:?}"
            );
        }
    }

    #[test]
    fn random_bytes_never_panic_and_stay_bounded() {
        let mut rnd = tern_testkit::xorshift64(0x2545_f491_4f6c_dd1du64);
        let mut d = Decoder::new();
        for _ in 0..20_000 {
            let s = rnd();
            let bytes = s.to_le_bytes();
            d.feed(&bytes[..(s as usize % 8)]);
            while let Some(e) = d.next_event() {
                if matches!(e, Event::Fail(..)) {
                    d = Decoder::new();
                }
            }
            assert!(d.buffered() <= MAX_MESSAGE + 14 + 8);
        }
    }
}
