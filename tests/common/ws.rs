//! A small blocking WebSocket client (RFC 6455) for tests that talk to
//! `tern serve`: the opening handshake, masked client frames, raw frames
//! for protocol-violation tests, and reading the server's frames.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// One frame from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// FIN bit.
    pub fin: bool,
    /// Opcode.
    pub opcode: u8,
    /// Payload (servers do not mask).
    pub payload: Vec<u8>,
}

/// A connected WebSocket.
pub struct WsClient {
    stream: TcpStream,
    buf: Vec<u8>,
}

/// A minimal HTTP GET; returns (status line, headers+body text).
pub fn http_get(addr: SocketAddr, path: &str, extra_headers: &str) -> (String, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{extra_headers}\r\n"
    )
    .unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let (status, rest) = text.split_once("\r\n").unwrap_or((&text, ""));
    (status.to_owned(), rest.to_owned())
}

/// The body of an HTTP response text (after the blank line).
pub fn body(response: &str) -> &str {
    response.split_once("\r\n\r\n").map(|x| x.1).unwrap_or("")
}

impl WsClient {
    /// Connects to `ws://addr/ws` and completes the handshake.
    pub fn connect(addr: SocketAddr) -> WsClient {
        Self::connect_path(addr, "/ws")
    }

    /// Connects to `ws://addr{path}` and completes the handshake.
    pub fn connect_path(addr: SocketAddr, path: &str) -> WsClient {
        let stream = TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream.set_nodelay(true).unwrap();
        let mut c = WsClient {
            stream,
            buf: Vec::new(),
        };
        let key = "dGhlIHNhbXBsZSBub25jZQ==";
        write!(
            c.stream,
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        .unwrap();
        let head = c.read_until_blank_line();
        assert!(head.starts_with("HTTP/1.1 101 "), "no upgrade: {head:?}");
        assert!(
            head.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
            "{head}"
        );
        c
    }

    fn read_until_blank_line(&mut self) -> String {
        loop {
            if let Some(i) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&self.buf[..i]).into_owned();
                self.buf.drain(..i + 4);
                return head;
            }
            let mut chunk = [0u8; 4096];
            let n = self.stream.read(&mut chunk).expect("read handshake");
            assert!(n > 0, "closed during handshake");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Sends raw bytes.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write");
    }

    /// A masked frame as a client must send it.
    pub fn frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
        let mask = [0x12, 0x34, 0x56, 0x78];
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

    /// Sends one text message in one frame.
    pub fn send_text(&mut self, text: &str) {
        self.send_raw(&Self::frame(true, 1, text.as_bytes()));
    }

    /// Sends a JSON value as one text message.
    pub fn send_json(&mut self, v: &serde_json::Value) {
        self.send_text(&v.to_string());
    }

    fn fill(&mut self, need: usize) -> std::io::Result<()> {
        while self.buf.len() < need {
            let mut chunk = [0u8; 16384];
            let n = self.stream.read(&mut chunk)?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
        Ok(())
    }

    /// The next frame, or an error at EOF / timeout.
    pub fn recv_frame(&mut self) -> std::io::Result<Frame> {
        self.fill(2)?;
        let fin = self.buf[0] & 0x80 != 0;
        let opcode = self.buf[0] & 0x0f;
        assert_eq!(self.buf[1] & 0x80, 0, "server frames are not masked");
        let (len, pos) = match self.buf[1] & 0x7f {
            126 => {
                self.fill(4)?;
                (u16::from_be_bytes([self.buf[2], self.buf[3]]) as usize, 4)
            }
            127 => {
                self.fill(10)?;
                let mut x = [0u8; 8];
                x.copy_from_slice(&self.buf[2..10]);
                (u64::from_be_bytes(x) as usize, 10)
            }
            n => (n as usize, 2),
        };
        self.fill(pos + len)?;
        let payload = self.buf[pos..pos + len].to_vec();
        self.buf.drain(..pos + len);
        Ok(Frame {
            fin,
            opcode,
            payload,
        })
    }

    /// The next text message as JSON (fails on anything else).
    pub fn recv_json(&mut self) -> serde_json::Value {
        let f = self.recv_frame().expect("a frame from the server");
        assert_eq!(f.opcode, 1, "expected a text frame, got {f:?}");
        assert!(f.fin);
        serde_json::from_slice(&f.payload).expect("JSON from the server")
    }

    /// The next message, which must be an `error`: its code.
    pub fn recv_error(&mut self) -> (String, serde_json::Value) {
        let m = self.recv_json();
        assert_eq!(m["type"], "error", "{m}");
        (m["code"].as_str().unwrap().to_owned(), m["id"].clone())
    }

    /// Expects a close frame next; returns its status code.
    pub fn recv_close(&mut self) -> Option<u16> {
        let f = self.recv_frame().expect("a close frame");
        assert_eq!(f.opcode, 8, "expected close, got {f:?}");
        (f.payload.len() >= 2).then(|| u16::from_be_bytes([f.payload[0], f.payload[1]]))
    }

    /// Whether nothing arrives within `wait`.
    pub fn silent_for(&mut self, wait: Duration) -> bool {
        if !self.buf.is_empty() {
            return false;
        }
        self.stream.set_read_timeout(Some(wait)).unwrap();
        let mut b = [0u8; 1];
        let r = self.stream.peek(&mut b);
        self.stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        matches!(r, Err(ref e) if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut)
    }

    /// Sends a close frame with a code.
    pub fn send_close(&mut self, code: u16) {
        self.send_raw(&Self::frame(true, 8, &code.to_be_bytes()));
    }

    /// Whether the server has closed the TCP connection (EOF within 5 s).
    pub fn reaches_eof(&mut self) -> bool {
        self.stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        loop {
            let mut chunk = [0u8; 4096];
            match self.stream.read(&mut chunk) {
                Ok(0) => return true,
                Ok(_) => continue,
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
                Err(_) => return false,
            }
        }
    }
}
