//! `tern serve`: the control plane. HTTP/1.1 on one TCP listener (TLS with
//! rustls when given a certificate and key): `GET /` the demo page,
//! `GET /ws` the signaling WebSocket, `GET /debug/state` live counts.
//!
//! One task (the hub) owns the sans-IO [`Signaling`] machine and the media
//! plane; each connection task parses HTTP and WebSocket frames and talks to
//! the hub over channels. Outbound queues are bounded: a client that does
//! not read is dropped.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use tern_signal::{Config as SignalConfig, ConnectionId, Counts, Output, Signaling};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};

use crate::media::{self, MediaHandle};
use crate::ws;

/// The demo page, compiled into the binary.
const DEMO_HTML: &str = include_str!("demo/index.html");

/// Frames queued towards one WebSocket before the client counts as too slow.
const OUTBOUND_QUEUE: usize = 256;
/// Longest HTTP request head accepted.
const MAX_REQUEST_HEAD: usize = 16 * 1024;
/// A WebSocket quiet this long gets a ping (default; `ws_ping_secs`).
const DEFAULT_PING_SECS: u64 = 20;
/// Consent timeout of RFC 7675 section 5.1 (default; `consent_timeout_secs`).
const DEFAULT_CONSENT_SECS: u64 = 30;
/// Time allowed for the request head and the TLS handshake.
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);

/// `tern serve` settings: defaults, then the TOML file, then flags.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// HTTP/WebSocket listen address.
    pub listen: Option<SocketAddr>,
    /// Address the media UDP socket binds to (may be unspecified, 0.0.0.0
    /// or ::, when `announce_ip` is given).
    pub media_address: Option<IpAddr>,
    /// UDP media port (0 picks a free one); announced with the address.
    pub media_port: Option<u16>,
    /// Media bind address and port in one (overrides `media_address` and
    /// `media_port`), e.g. `0.0.0.0:40000`.
    pub media_bind: Option<SocketAddr>,
    /// Address announced in the SDP host candidate [default: the bound
    /// address, when it is specific].
    pub announce_ip: Option<IpAddr>,
    /// Maximum participants per room.
    pub max_participants: Option<usize>,
    /// Maximum rooms.
    pub max_rooms: Option<usize>,
    /// Maximum WebSocket connections.
    pub max_connections: Option<usize>,
    /// `error`, `warn`, `info`, `debug` or `trace`.
    pub log_level: Option<String>,
    /// PEM certificate chain for TLS.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for TLS.
    pub tls_key: Option<PathBuf>,
    /// Seconds of WebSocket silence before a keepalive ping; a client
    /// silent for three times this is closed and its participant freed.
    pub ws_ping_secs: Option<u64>,
    /// Seconds without an authenticated ICE check after which a media
    /// transport's consent expires and its participant is removed (RFC
    /// 7675 uses 30; lower values are for tests).
    pub consent_timeout_secs: Option<u64>,
    /// Loss emulation for tests and experiments: drop every Nth RTP packet
    /// the media socket receives, before the SFU sees it (0: none).
    pub drop_rtp_every: Option<u32>,
    /// Run a TURN server beside the SFU and announce it in `joined`.
    pub turn: Option<bool>,
    /// TURN UDP listen address [default: the media bind IP, port 3478].
    pub turn_listen: Option<SocketAddr>,
    /// TURN REALM [default: "tern"].
    pub turn_realm: Option<String>,
    /// Shared secret for the time-limited credentials [default: 32 random
    /// bytes generated at startup].
    pub turn_secret: Option<String>,
    /// Lowest and highest relay port [default: 49152-65535].
    pub turn_min_port: Option<u16>,
    /// See `turn_min_port`.
    pub turn_max_port: Option<u16>,
    /// Peer blocks (CIDR) TURN may relay to beyond the SFU's own media
    /// address, which is always allowed (repeatable on the command line).
    pub turn_allow_peers: Option<Vec<String>>,
    /// Lifetime of the credentials handed out in `joined` [default: 3600].
    pub turn_credential_ttl_secs: Option<u64>,
}

impl FileConfig {
    /// Reads a TOML config file.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Fields set in `over` replace ours.
    pub fn merge(self, over: FileConfig) -> FileConfig {
        FileConfig {
            listen: over.listen.or(self.listen),
            media_address: over.media_address.or(self.media_address),
            media_port: over.media_port.or(self.media_port),
            media_bind: over.media_bind.or(self.media_bind),
            announce_ip: over.announce_ip.or(self.announce_ip),
            max_participants: over.max_participants.or(self.max_participants),
            max_rooms: over.max_rooms.or(self.max_rooms),
            max_connections: over.max_connections.or(self.max_connections),
            log_level: over.log_level.or(self.log_level),
            tls_cert: over.tls_cert.or(self.tls_cert),
            tls_key: over.tls_key.or(self.tls_key),
            ws_ping_secs: over.ws_ping_secs.or(self.ws_ping_secs),
            consent_timeout_secs: over.consent_timeout_secs.or(self.consent_timeout_secs),
            drop_rtp_every: over.drop_rtp_every.or(self.drop_rtp_every),
            turn: over.turn.or(self.turn),
            turn_listen: over.turn_listen.or(self.turn_listen),
            turn_realm: over.turn_realm.or(self.turn_realm),
            turn_secret: over.turn_secret.or(self.turn_secret),
            turn_min_port: over.turn_min_port.or(self.turn_min_port),
            turn_max_port: over.turn_max_port.or(self.turn_max_port),
            turn_allow_peers: over.turn_allow_peers.or(self.turn_allow_peers),
            turn_credential_ttl_secs: over
                .turn_credential_ttl_secs
                .or(self.turn_credential_ttl_secs),
        }
    }
}

/// The resolved settings.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// HTTP/WebSocket listen address.
    pub listen: SocketAddr,
    /// Address the media socket binds to (port 0: any free port).
    pub media_bind: SocketAddr,
    /// Address announced in the host candidate, with the bound port.
    pub announce_ip: IpAddr,
    /// Signaling limits.
    pub signal: SignalConfig,
    /// Log level.
    pub log_level: tracing::Level,
    /// TLS certificate and key paths.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// WebSocket keepalive ping interval.
    pub ws_ping: Duration,
    /// Media consent timeout (RFC 7675).
    pub consent_timeout: Duration,
    /// Drop every Nth received RTP packet (0: none).
    pub drop_rtp_every: u32,
    /// TURN beside the SFU, if enabled.
    pub turn: Option<TurnSettings>,
}

/// `tern serve --turn`: tern-turn in the same process.
#[derive(Debug, Clone)]
pub struct TurnSettings {
    /// UDP listen address.
    pub listen: SocketAddr,
    /// REALM.
    pub realm: String,
    /// Shared secret of the time-limited credentials.
    pub secret: String,
    /// Relay port range.
    pub ports: (u16, u16),
    /// Peer blocks allowed beyond the SFU's media address.
    pub allow_peers: Vec<String>,
    /// Credential lifetime.
    pub credential_ttl: Duration,
}

/// Longest credential lifetime: tern-turn refuses credentials that expire
/// later than its `max_credential_ttl` (24 h).
const MAX_TURN_TTL_SECS: u64 = 24 * 3600;

impl ServeConfig {
    /// Applies defaults to what the file and flags gave.
    pub fn resolve(f: FileConfig) -> Result<Self, String> {
        let log_level = match f.log_level.as_deref().unwrap_or("info") {
            "error" => tracing::Level::ERROR,
            "warn" => tracing::Level::WARN,
            "info" => tracing::Level::INFO,
            "debug" => tracing::Level::DEBUG,
            "trace" => tracing::Level::TRACE,
            other => return Err(format!("unknown log level {other:?}")),
        };
        let tls = match (f.tls_cert, f.tls_key) {
            (Some(c), Some(k)) => Some((c, k)),
            (None, None) => None,
            _ => return Err("TLS needs both a certificate and a key".into()),
        };
        let defaults = SignalConfig::default();
        let signal = SignalConfig {
            max_participants_per_room: f
                .max_participants
                .unwrap_or(defaults.max_participants_per_room),
            max_rooms: f.max_rooms.unwrap_or(defaults.max_rooms),
            max_connections: f.max_connections.unwrap_or(defaults.max_connections),
            ..defaults
        };
        if signal.max_participants_per_room == 0 {
            return Err("max participants must be at least 1".into());
        }
        let media_bind = f.media_bind.unwrap_or_else(|| {
            SocketAddr::new(
                f.media_address.unwrap_or(IpAddr::from([127, 0, 0, 1])),
                f.media_port.unwrap_or(40000),
            )
        });
        if media_bind.ip().is_multicast() {
            return Err(format!("media address {} is multicast", media_bind.ip()));
        }
        let announce_ip = match f.announce_ip {
            Some(a) => a,
            None if media_bind.ip().is_unspecified() => {
                return Err(format!(
                    "media bind address {} is unspecified: give --announce-ip (TOML announce_ip), the address clients reach this host at",
                    media_bind.ip()
                ))
            }
            None => media_bind.ip(),
        };
        if announce_ip.is_unspecified() || announce_ip.is_multicast() {
            return Err(format!(
                "announce address {announce_ip} cannot be announced to clients; give the address they reach this host at"
            ));
        }
        if announce_ip.is_ipv4() != media_bind.is_ipv4() {
            return Err(format!(
                "announce address {announce_ip} and media bind address {media_bind} are of different address families"
            ));
        }
        let turn = if f.turn.unwrap_or(false) {
            let secret = match f.turn_secret {
                Some(s) if s.is_empty() => return Err("the TURN secret is empty".into()),
                Some(s) => s,
                None => {
                    let mut b = [0u8; 32];
                    getrandom::fill(&mut b)
                        .map_err(|e| format!("operating system random source: {e}"))?;
                    b.iter().map(|x| format!("{x:02x}")).collect()
                }
            };
            let ports = (
                f.turn_min_port.unwrap_or(49152),
                f.turn_max_port.unwrap_or(65535),
            );
            if ports.0 == 0 || ports.1 < ports.0 {
                return Err(format!("TURN relay port range {}-{}", ports.0, ports.1));
            }
            let allow_peers = f.turn_allow_peers.unwrap_or_default();
            for p in &allow_peers {
                if tern_turn::IpRange::parse(p).is_none() {
                    return Err(format!(
                        "TURN allowed peer block {p:?} is not IP or IP/PREFIX"
                    ));
                }
            }
            let ttl = f.turn_credential_ttl_secs.unwrap_or(3600);
            if ttl == 0 || ttl > MAX_TURN_TTL_SECS {
                return Err(format!(
                    "TURN credential lifetime {ttl} s: give 1 to {MAX_TURN_TTL_SECS}"
                ));
            }
            Some(TurnSettings {
                listen: f
                    .turn_listen
                    .unwrap_or(SocketAddr::new(media_bind.ip(), 3478)),
                realm: f.turn_realm.unwrap_or_else(|| "tern".into()),
                secret,
                ports,
                allow_peers,
                credential_ttl: Duration::from_secs(ttl),
            })
        } else {
            None
        };
        Ok(ServeConfig {
            turn,
            listen: f.listen.unwrap_or(SocketAddr::from(([127, 0, 0, 1], 8080))),
            media_bind,
            announce_ip,
            signal,
            log_level,
            tls,
            ws_ping: Duration::from_secs(
                f.ws_ping_secs.unwrap_or(DEFAULT_PING_SECS).clamp(1, 3600),
            ),
            consent_timeout: Duration::from_secs(
                f.consent_timeout_secs
                    .unwrap_or(DEFAULT_CONSENT_SECS)
                    .clamp(1, 3600),
            ),
            drop_rtp_every: f.drop_rtp_every.unwrap_or(0),
        })
    }
}

// ------------------------------------------------------------------ hub

enum HubCmd {
    Open {
        tx: mpsc::Sender<Outbound>,
        reply: oneshot::Sender<Option<ConnectionId>>,
    },
    Message(ConnectionId, Vec<u8>),
    Oversized(ConnectionId, u64),
    Binary(ConnectionId, u64),
    Closed(ConnectionId),
    State(oneshot::Sender<Counts>),
    Shutdown(oneshot::Sender<()>),
}

#[derive(Debug)]
enum Outbound {
    Text(String),
    Close(u16),
}

struct Hub {
    signaling: Signaling<MediaHandle>,
    conns: HashMap<ConnectionId, mpsc::Sender<Outbound>>,
}

/// What `/debug/state` reports from the SFU core.
#[derive(Debug, Clone, Copy)]
struct SfuCounts {
    participants: usize,
    rooms: usize,
    state_size: usize,
    stats: tern_sfu::Stats,
}

/// The SFU's counters for `/debug/state`.
fn stats_json(s: &tern_sfu::Stats) -> serde_json::Value {
    serde_json::json!({
        "received": s.received,
        "rtp_received": s.rtp_received,
        "forwarded": s.forwarded,
        "retransmitted": s.retransmitted,
        "retransmit_misses": s.retransmit_misses,
        "nacks_sent": s.nacks_sent,
        "plis_sent": s.plis_sent,
        "keyframe_requests_throttled": s.keyframe_requests_throttled,
        "reports_sent": s.reports_sent,
        "unknown_tuple_drops": s.unknown_tuple_drops,
        "unknown_ufrag_drops": s.unknown_ufrag_drops,
        "unknown_kind_drops": s.unknown_kind_drops,
        "foreign_ssrc_drops": s.foreign_ssrc_drops,
        "unexpected_rtp_drops": s.unexpected_rtp_drops,
        "srtp_failures": s.srtp_failures,
        "malformed_rtp": s.malformed_rtp,
        "foreign_bye_ignored": s.foreign_bye_ignored,
        "foreign_feedback_ignored": s.foreign_feedback_ignored,
        "congestion_feedback_consumed": s.congestion_feedback_consumed,
        "queue_drops": s.queue_drops,
        "pt_unmapped_drops": s.pt_unmapped_drops,
    })
}

/// Asks the media worker for its counts (off the runtime's threads: the
/// call waits for the worker).
async fn sfu_counts(media: &MediaHandle) -> Option<SfuCounts> {
    let media = media.clone();
    tokio::task::spawn_blocking(move || {
        media
            .with_sfu(|s| SfuCounts {
                participants: s.participant_count(),
                rooms: s.room_count(),
                state_size: s.state_size(),
                stats: s.stats(),
            })
            .ok()
    })
    .await
    .ok()
    .flatten()
}

impl Hub {
    fn drain(&mut self) {
        while let Some(out) = self.signaling.poll_output() {
            match out {
                Output::Send { conn, message } => {
                    let Some(tx) = self.conns.get(&conn) else {
                        continue;
                    };
                    tracing::debug!(conn = conn.0, r#type = message.type_name(), "send");
                    if let tern_signal::ServerMessage::Error {
                        code, message: m, ..
                    } = &message
                    {
                        tracing::info!(conn = conn.0, code = code.as_str(), message = %m, "signaling error");
                    }
                    if tx.try_send(Outbound::Text(message.to_json())).is_err() {
                        tracing::warn!(conn = conn.0, "client too slow or gone; dropping it");
                        self.conns.remove(&conn);
                        self.signaling.handle_close(conn);
                    }
                }
                Output::Close { conn } => {
                    if let Some(tx) = self.conns.remove(&conn) {
                        let _ = tx.try_send(Outbound::Close(ws::close_code::NORMAL));
                    }
                }
            }
        }
    }

    /// The media plane found `participant`'s consent expired and freed it:
    /// remove it from signaling too (the others get `participant-left`) and
    /// close its WebSocket.
    fn consent_expired(&mut self, participant: &str) {
        let conn = self
            .conns
            .keys()
            .copied()
            .find(|c| self.signaling.participant_of(*c) == Some(participant));
        if let Some(conn) = conn {
            if let Some(tx) = self.conns.remove(&conn) {
                let _ = tx.try_send(Outbound::Close(ws::close_code::GOING_AWAY));
            }
            self.signaling.handle_close(conn);
        }
    }

    async fn run(
        mut self,
        mut rx: mpsc::Receiver<HubCmd>,
        mut expired: mpsc::UnboundedReceiver<String>,
    ) {
        loop {
            let cmd = tokio::select! {
                cmd = rx.recv() => match cmd {
                    Some(cmd) => cmd,
                    None => return,
                },
                Some(p) = expired.recv() => {
                    self.consent_expired(&p);
                    self.drain();
                    continue;
                }
            };
            match cmd {
                HubCmd::Open { tx, reply } => {
                    let id = self.signaling.connect().ok();
                    if let Some(id) = id {
                        self.conns.insert(id, tx);
                    }
                    let _ = reply.send(id);
                }
                HubCmd::Message(c, bytes) => self.signaling.handle_message(c, &bytes),
                HubCmd::Oversized(c, len) => self
                    .signaling
                    .handle_oversized(c, usize::try_from(len).unwrap_or(usize::MAX)),
                HubCmd::Binary(c, len) => self
                    .signaling
                    .handle_binary(c, usize::try_from(len).unwrap_or(usize::MAX)),
                HubCmd::Closed(c) => {
                    self.conns.remove(&c);
                    self.signaling.handle_close(c);
                }
                HubCmd::State(reply) => {
                    let _ = reply.send(self.signaling.counts());
                }
                HubCmd::Shutdown(done) => {
                    for (_, tx) in self.conns.drain() {
                        let _ = tx.try_send(Outbound::Close(ws::close_code::GOING_AWAY));
                    }
                    let _ = done.send(());
                    return;
                }
            }
            self.drain();
        }
    }
}

// ------------------------------------------------------------------ HTTP

struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn header_has_token(&self, name: &str, token: &str) -> bool {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .flat_map(|(_, v)| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    }
}

/// Reads one request head; returns it and the bytes read past it.
async fn read_head<S: AsyncRead + Unpin>(s: &mut S) -> io::Result<Option<(Request, Vec<u8>)>> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if buf.len() > MAX_REQUEST_HEAD {
            return Ok(None);
        }
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let rest = buf[end + 4..].to_vec();
    let Ok(head) = std::str::from_utf8(&buf[..end]) else {
        return Ok(None);
    };
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or("").split(' ');
    let (Some(method), Some(target), Some(version)) = (first.next(), first.next(), first.next())
    else {
        return Ok(None);
    };
    if !version.starts_with("HTTP/1.") {
        return Ok(None);
    }
    let mut headers = Vec::new();
    for l in lines {
        let Some((n, v)) = l.split_once(':') else {
            return Ok(None);
        };
        headers.push((n.trim().to_owned(), v.trim().to_owned()));
    }
    let path = target.split('?').next().unwrap_or("").to_owned();
    Ok(Some((
        Request {
            method: method.to_owned(),
            path,
            headers,
        },
        rest,
    )))
}

async fn respond<S: AsyncWrite + Unpin>(
    s: &mut S,
    status: &str,
    content_type: &str,
    extra: &str,
    body: &[u8],
) -> io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n{extra}\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await?;
    s.write_all(body).await?;
    s.flush().await?;
    let _ = s.shutdown().await;
    Ok(())
}

async fn handle_http<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    peer: SocketAddr,
    hub: mpsc::Sender<HubCmd>,
    sfu: MediaHandle,
    ping_after: Duration,
) -> io::Result<()> {
    let Ok(head) = tokio::time::timeout(HEAD_TIMEOUT, read_head(&mut s)).await else {
        return Ok(());
    };
    let Some((req, rest)) = head? else {
        return respond(
            &mut s,
            "400 Bad Request",
            "text/plain",
            "",
            b"bad request\n",
        )
        .await;
    };
    tracing::debug!(%peer, method = %req.method, path = %req.path, "http request");
    if req.method != "GET" {
        return respond(
            &mut s,
            "405 Method Not Allowed",
            "text/plain",
            "Allow: GET\r\n",
            b"method not allowed\n",
        )
        .await;
    }
    match req.path.as_str() {
        "/" | "/index.html" => {
            respond(
                &mut s,
                "200 OK",
                "text/html; charset=utf-8",
                "",
                DEMO_HTML.as_bytes(),
            )
            .await
        }
        "/debug/state" => {
            let (tx, rx) = oneshot::channel();
            if hub.send(HubCmd::State(tx)).await.is_err() {
                return respond(&mut s, "503 Service Unavailable", "text/plain", "", b"").await;
            }
            let Ok(c) = rx.await else {
                return respond(&mut s, "503 Service Unavailable", "text/plain", "", b"").await;
            };
            let Some(m) = sfu_counts(&sfu).await else {
                return respond(&mut s, "503 Service Unavailable", "text/plain", "", b"").await;
            };
            let body = serde_json::json!({
                "rooms": c.rooms,
                "participants": c.participants,
                "connections": c.connections,
                "media_participants": m.participants,
                "media_rooms": m.rooms,
                "media_state_size": m.state_size,
                "media_stats": stats_json(&m.stats),
            })
            .to_string();
            respond(&mut s, "200 OK", "application/json", "", body.as_bytes()).await
        }
        "/ws" => websocket(s, peer, req, rest, hub, ping_after).await,
        _ => respond(&mut s, "404 Not Found", "text/plain", "", b"not found\n").await,
    }
}

// ------------------------------------------------------------------ WebSocket

async fn websocket<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    peer: SocketAddr,
    req: Request,
    rest: Vec<u8>,
    hub: mpsc::Sender<HubCmd>,
    ping_after: Duration,
) -> io::Result<()> {
    let key = req.header("Sec-WebSocket-Key").unwrap_or("");
    let upgrade_ok = req.header_has_token("Upgrade", "websocket")
        && req.header_has_token("Connection", "upgrade")
        && ws::valid_key(key);
    if !upgrade_ok {
        return respond(
            &mut s,
            "400 Bad Request",
            "text/plain",
            "",
            b"expected a WebSocket upgrade\n",
        )
        .await;
    }
    if req.header("Sec-WebSocket-Version").map(str::trim) != Some("13") {
        return respond(
            &mut s,
            "426 Upgrade Required",
            "text/plain",
            "Sec-WebSocket-Version: 13\r\n",
            b"WebSocket version 13 only\n",
        )
        .await;
    }
    let (tx, mut out_rx) = mpsc::channel(OUTBOUND_QUEUE);
    let (reply_tx, reply_rx) = oneshot::channel();
    if hub
        .send(HubCmd::Open {
            tx,
            reply: reply_tx,
        })
        .await
        .is_err()
    {
        return respond(&mut s, "503 Service Unavailable", "text/plain", "", b"").await;
    }
    let Ok(Some(conn)) = reply_rx.await else {
        return respond(
            &mut s,
            "503 Service Unavailable",
            "text/plain",
            "",
            b"too many connections\n",
        )
        .await;
    };
    let accept = ws::accept_key(key);
    let head = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
    );
    if let Err(e) = s.write_all(head.as_bytes()).await {
        let _ = hub.send(HubCmd::Closed(conn)).await;
        return Err(e);
    }
    tracing::info!(conn = conn.0, %peer, "websocket open");
    let result = ws_loop(&mut s, conn, rest, &hub, &mut out_rx, ping_after).await;
    let _ = hub.send(HubCmd::Closed(conn)).await;
    tracing::info!(conn = conn.0, %peer, "websocket closed");
    result
}

async fn ws_loop<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut S,
    conn: ConnectionId,
    rest: Vec<u8>,
    hub: &mpsc::Sender<HubCmd>,
    out_rx: &mut mpsc::Receiver<Outbound>,
    ping_after: Duration,
) -> io::Result<()> {
    let mut dec = ws::Decoder::new();
    dec.feed(&rest);
    let mut buf = vec![0u8; 16 * 1024];
    // After we sent a close frame: wait a little for the client's.
    let mut closing: Option<tokio::time::Instant> = None;
    // Keepalive: ping a quiet client; drop one that stays silent.
    let mut last_heard = tokio::time::Instant::now();
    let mut pinged = false;
    loop {
        while let Some(ev) = dec.next_event() {
            match ev {
                ws::Event::Text(bytes) => {
                    if closing.is_none() && hub.send(HubCmd::Message(conn, bytes)).await.is_err() {
                        return Ok(());
                    }
                }
                ws::Event::Binary(len) => {
                    tracing::debug!(conn = conn.0, len, "binary message rejected");
                    if closing.is_none() {
                        let _ = hub.send(HubCmd::Binary(conn, len)).await;
                    }
                }
                ws::Event::Oversized(len) => {
                    if closing.is_none() {
                        let _ = hub.send(HubCmd::Oversized(conn, len)).await;
                    }
                }
                ws::Event::Ping(p) => s.write_all(&ws::pong_frame(&p)).await?,
                ws::Event::Pong => {}
                ws::Event::Close(code) => {
                    if closing.is_none() {
                        // Echo the status code (RFC 6455 section 5.5.1).
                        let echo = code.unwrap_or(ws::close_code::NORMAL);
                        s.write_all(&ws::close_frame(echo)).await?;
                    }
                    s.flush().await?;
                    let _ = s.shutdown().await;
                    return Ok(());
                }
                ws::Event::Fail(code, why) => {
                    tracing::info!(conn = conn.0, code, why, "websocket protocol error");
                    s.write_all(&ws::close_frame(code)).await?;
                    let _ = s.shutdown().await;
                    return Ok(());
                }
            }
        }
        let deadline = closing.unwrap_or(if pinged {
            last_heard + 3 * ping_after
        } else {
            last_heard + ping_after
        });
        tokio::select! {
            n = s.read(&mut buf) => {
                let n = n?;
                if n == 0 {
                    return Ok(());
                }
                last_heard = tokio::time::Instant::now();
                pinged = false;
                dec.feed(&buf[..n]);
            }
            out = out_rx.recv(), if closing.is_none() => {
                match out {
                    Some(Outbound::Text(t)) => {
                        s.write_all(&ws::text_frame(&t)).await?;
                        // Write everything already queued before flushing.
                        while let Ok(more) = out_rx.try_recv() {
                            match more {
                                Outbound::Text(t) => s.write_all(&ws::text_frame(&t)).await?,
                                Outbound::Close(code) => {
                                    s.write_all(&ws::close_frame(code)).await?;
                                    closing = Some(tokio::time::Instant::now() + Duration::from_secs(2));
                                    break;
                                }
                            }
                        }
                        s.flush().await?;
                    }
                    Some(Outbound::Close(code)) => {
                        s.write_all(&ws::close_frame(code)).await?;
                        s.flush().await?;
                        closing = Some(tokio::time::Instant::now() + Duration::from_secs(2));
                    }
                    None => {
                        // The hub dropped us (too slow).
                        s.write_all(&ws::close_frame(ws::close_code::POLICY)).await?;
                        s.flush().await?;
                        closing = Some(tokio::time::Instant::now() + Duration::from_secs(2));
                    }
                }
            }
            _ = tokio::time::sleep_until(deadline) => {
                if closing.is_some() {
                    let _ = s.shutdown().await;
                    return Ok(());
                }
                if pinged {
                    tracing::info!(conn = conn.0, "websocket silent too long; closing");
                    s.write_all(&ws::close_frame(ws::close_code::GOING_AWAY)).await?;
                    s.flush().await?;
                    let _ = s.shutdown().await;
                    return Ok(());
                }
                s.write_all(&ws::encode_ping(b"tern")).await?;
                s.flush().await?;
                pinged = true;
            }
        }
    }
}

// ------------------------------------------------------------------ TLS

fn tls_acceptor(cert: &Path, key: &Path) -> Result<tokio_rustls::TlsAcceptor, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| format!("{}: {e}", cert.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: {e}", cert.display()))?;
    if certs.is_empty() {
        return Err(format!("{}: no certificate", cert.display()));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| format!("{}: {e}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("TLS: {e}"))?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

// ------------------------------------------------------------------ main loop

fn init_logging(level: tracing::Level) {
    // Logs go to stderr; stdout carries the one "listening" line.
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(io::stderr)
        .with_ansi(false)
        .with_target(false)
        .try_init();
}

/// Runs `tern serve` until SIGINT or SIGTERM.
pub fn serve(cfg: ServeConfig) -> Result<(), String> {
    init_logging(cfg.log_level);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    rt.block_on(run(cfg))
}

async fn run(cfg: ServeConfig) -> Result<(), String> {
    let tls = match &cfg.tls {
        Some((c, k)) => Some(tls_acceptor(c, k)?),
        None => None,
    };
    let listener = TcpListener::bind(cfg.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", cfg.listen))?;
    let local = listener
        .local_addr()
        .map_err(|e| format!("local address: {e}"))?;
    let socket = media::bind_media_socket(cfg.media_bind)?;
    let bound = socket
        .local_addr()
        .map_err(|e| format!("media socket address: {e}"))?;
    // What clients are told (the host candidate) and what the SFU keys its
    // transports by: the announced IP with the port actually bound.
    let media_addr = SocketAddr::new(cfg.announce_ip, bound.port());
    let sfu = media::new_sfu(media_addr, cfg.consent_timeout)?;
    let fingerprint = sfu.config().certificate.fingerprint().to_string();
    let (expired_tx, expired_rx) = mpsc::unbounded_channel();
    if cfg.drop_rtp_every > 0 {
        tracing::warn!(
            every = cfg.drop_rtp_every,
            "loss emulation: dropping received RTP packets"
        );
    }
    let mut signal_config = cfg.signal.clone();
    let turn = match &cfg.turn {
        Some(t) => {
            let (thread, provider) = start_turn(t, cfg.announce_ip, media_addr)?;
            signal_config.ice_server_provider = Some(provider);
            Some(thread)
        }
        None => None,
    };
    let sfu = media::spawn_worker(socket, media_addr, sfu, expired_tx, cfg.drop_rtp_every)?;
    let signaling = Signaling::new(signal_config, sfu.clone());
    let (hub_tx, hub_rx) = mpsc::channel(1024);
    let hub = tokio::spawn(
        Hub {
            signaling,
            conns: HashMap::new(),
        }
        .run(hub_rx, expired_rx),
    );
    use tokio::signal::unix::{signal, SignalKind};
    let mut sigterm =
        signal(SignalKind::terminate()).map_err(|e| format!("SIGTERM handler: {e}"))?;
    let mut sigint = signal(SignalKind::interrupt()).map_err(|e| format!("SIGINT handler: {e}"))?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    {
        use std::io::Write as _;
        let mut out = io::stdout().lock();
        let _ = writeln!(out, "tern serve listening on {scheme} {local}");
        let _ = out.flush();
    }
    tracing::info!(%local, scheme, media = %media_addr, media_bound = %bound,
        max_participants = cfg.signal.max_participants_per_room, "tern serve started");
    tracing::info!(%fingerprint, "DTLS certificate generated (tern-dtls)");

    // Open TCP connections at most: the WebSocket cap plus room for page
    // loads and debug requests (each of which has a head timeout).
    let tcp_slots = Arc::new(tokio::sync::Semaphore::new(
        cfg.signal.max_connections.saturating_add(64),
    ));
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (tcp, peer) = match accepted {
                    Ok(x) => x,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let Ok(permit) = tcp_slots.clone().try_acquire_owned() else {
                    tracing::warn!(%peer, "too many TCP connections; refusing one");
                    drop(tcp);
                    continue;
                };
                spawn_connection(tcp, peer, tls.clone(), hub_tx.clone(), sfu.clone(), permit, cfg.ws_ping);
            }
            _ = sigint.recv() => {
                tracing::info!("SIGINT: shutting down");
                break;
            }
            _ = sigterm.recv() => {
                tracing::info!("SIGTERM: shutting down");
                break;
            }
        }
    }
    drop(listener);
    let (done_tx, done_rx) = oneshot::channel();
    if hub_tx.send(HubCmd::Shutdown(done_tx)).await.is_ok() {
        let _ = tokio::time::timeout(Duration::from_secs(2), done_rx).await;
    }
    // Give connection tasks a moment to write their close frames.
    tokio::time::sleep(Duration::from_millis(100)).await;
    hub.abort();
    // Stop the media worker off the runtime's threads (the last handle
    // joins it).
    sfu.stop();
    let _ = tokio::task::spawn_blocking(move || {
        drop(sfu);
        if let Some(t) = turn {
            t.stop();
        }
    })
    .await;
    tracing::info!("stopped");
    Ok(())
}

/// The TURN server thread of `tern serve --turn`.
struct TurnThread {
    stop: Arc<std::sync::atomic::AtomicBool>,
    handle: std::thread::JoinHandle<()>,
}

impl TurnThread {
    fn stop(self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let _ = self.handle.join();
    }
}

/// Starts tern-turn beside the SFU (crates/tern/src/turn_cmd.rs's loop on
/// a thread) and returns the provider of the `iceServers` every `joined`
/// carries: `turn:ANNOUNCE_IP:PORT?transport=udp` with a time-limited
/// credential (username `EXPIRY:PARTICIPANT`, credential
/// base64(HMAC-SHA1(secret, username))). TURN refuses loopback and private
/// peers by default; the SFU's own media address is allowed explicitly,
/// and only it (plus what `turn_allow_peers` adds), so a relayed client can
/// reach the SFU and nothing else.
fn start_turn(
    t: &TurnSettings,
    announce_ip: IpAddr,
    media_addr: SocketAddr,
) -> Result<(TurnThread, tern_signal::IceServerProvider), String> {
    let listener = std::net::UdpSocket::bind(t.listen)
        .map_err(|e| format!("cannot bind TURN UDP {}: {e}", t.listen))?;
    let local = listener
        .local_addr()
        .map_err(|e| format!("TURN socket address: {e}"))?;
    let relay_ip = if local.ip().is_unspecified() {
        announce_ip
    } else {
        local.ip()
    };
    let host = if media_addr.is_ipv4() { 32 } else { 128 };
    let mut allow_peers = vec![format!("{}/{host}", media_addr.ip())];
    allow_peers.extend(t.allow_peers.iter().cloned());
    let args = crate::turn_cmd::TurnArgs {
        bind: local,
        relay_ip: Some(relay_ip),
        realm: t.realm.clone(),
        users: Vec::new(),
        static_auth_secret: Some(t.secret.clone()),
        allow_peers,
        allow_loopback_peers: false,
        deny_peers: Vec::new(),
        min_port: t.ports.0,
        max_port: t.ports.1,
        max_allocations: 1000,
        user_quota: 10,
        rfc5766_channel_numbers: false,
        software: concat!("tern ", env!("CARGO_PKG_VERSION")).into(),
    };
    let server_config = crate::turn_cmd::config(&args, local).map_err(|e| format!("TURN: {e}"))?;
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = stop.clone();
    let handle = std::thread::Builder::new()
        .name("tern-turn".into())
        .spawn(move || {
            if let Err(e) = crate::turn_cmd::serve_loop(listener, server_config, &flag) {
                tracing::error!(error = %e, "TURN server stopped");
            }
        })
        .map_err(|e| format!("TURN thread: {e}"))?;
    let url = format!(
        "turn:{}?transport=udp",
        SocketAddr::new(announce_ip, local.port())
    );
    tracing::info!(turn = %local, %url, relay_ip = %relay_ip, allowed_peer = %media_addr.ip(),
        "TURN server started beside the SFU");
    let secret = t.secret.clone();
    let ttl = t.credential_ttl;
    let provider = tern_signal::IceServerProvider::new(move |participant| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let username = format!("{}:{participant}", (now + ttl).as_secs());
        let credential = tern_turn::rest_password(secret.as_bytes(), &username);
        vec![tern_signal::IceServer {
            urls: vec![url.clone()],
            username: Some(username),
            credential: Some(credential),
        }]
    });
    Ok((TurnThread { stop, handle }, provider))
}

fn spawn_connection(
    tcp: TcpStream,
    peer: SocketAddr,
    tls: Option<tokio_rustls::TlsAcceptor>,
    hub: mpsc::Sender<HubCmd>,
    sfu: MediaHandle,
    permit: tokio::sync::OwnedSemaphorePermit,
    ping_after: Duration,
) {
    let _ = tcp.set_nodelay(true);
    tokio::spawn(async move {
        let _permit = permit;
        let result = match tls {
            Some(acceptor) => {
                match tokio::time::timeout(HEAD_TIMEOUT, acceptor.accept(tcp)).await {
                    Ok(Ok(stream)) => handle_http(stream, peer, hub, sfu, ping_after).await,
                    Ok(Err(e)) => {
                        tracing::debug!(%peer, error = %e, "TLS handshake failed");
                        Ok(())
                    }
                    Err(_) => Ok(()),
                }
            }
            None => handle_http(tcp, peer, hub, sfu, ping_after).await,
        };
        if let Err(e) = result {
            tracing::debug!(%peer, error = %e, "connection ended with an error");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_defaults_and_an_unannounceable_media_address_is_refused() {
        let c = ServeConfig::resolve(FileConfig::default()).unwrap();
        assert_eq!(c.media_bind, SocketAddr::from(([127, 0, 0, 1], 40000)));
        assert_eq!(c.announce_ip, IpAddr::from([127, 0, 0, 1]));
        assert_eq!(c.consent_timeout, Duration::from_secs(30));
        assert_eq!(c.drop_rtp_every, 0);
        // Unspecified without an announce address, or multicast: refused.
        for bad in ["0.0.0.0", "::", "224.0.0.1"] {
            let f = FileConfig {
                media_address: Some(bad.parse().unwrap()),
                ..FileConfig::default()
            };
            assert!(ServeConfig::resolve(f).is_err(), "{bad}");
        }
        let f: FileConfig =
            toml::from_str("consent_timeout_secs = 8\ndrop_rtp_every = 20\n").unwrap();
        let c = ServeConfig::resolve(f).unwrap();
        assert_eq!(
            (c.consent_timeout, c.drop_rtp_every),
            (Duration::from_secs(8), 20)
        );
    }

    #[test]
    fn a_wildcard_media_bind_announces_the_given_ip() {
        let f: FileConfig =
            toml::from_str("media_bind = \"0.0.0.0:0\"\nannounce_ip = \"127.0.0.1\"\n").unwrap();
        let c = ServeConfig::resolve(f).unwrap();
        assert_eq!(c.media_bind, SocketAddr::from(([0, 0, 0, 0], 0)));
        assert_eq!(c.announce_ip, IpAddr::from([127, 0, 0, 1]));
        // A specific bind address is announced as it is.
        let f = FileConfig {
            media_address: Some("192.0.2.7".parse().unwrap()),
            ..FileConfig::default()
        };
        assert_eq!(
            ServeConfig::resolve(f).unwrap().announce_ip,
            IpAddr::from([192, 0, 2, 7])
        );
        // The wildcard alone is refused with a clear error.
        let f = FileConfig {
            media_bind: Some("0.0.0.0:40000".parse().unwrap()),
            ..FileConfig::default()
        };
        let e = ServeConfig::resolve(f).unwrap_err();
        assert!(e.contains("--announce-ip"), "{e}");
        // An announce address must be specific and of the bind's family.
        for (bind, announce) in [
            ("0.0.0.0:0", "0.0.0.0"),
            ("0.0.0.0:0", "::1"),
            ("[::]:0", "127.0.0.1"),
        ] {
            let f = FileConfig {
                media_bind: Some(bind.parse().unwrap()),
                announce_ip: Some(announce.parse().unwrap()),
                ..FileConfig::default()
            };
            assert!(ServeConfig::resolve(f).is_err(), "{bind} {announce}");
        }
    }

    #[test]
    fn turn_settings_default_and_a_secret_is_generated() {
        let c = ServeConfig::resolve(FileConfig::default()).unwrap();
        assert!(c.turn.is_none());
        let f: FileConfig = toml::from_str("turn = true\n").unwrap();
        let t = ServeConfig::resolve(f.clone()).unwrap().turn.unwrap();
        assert_eq!(t.listen, SocketAddr::from(([127, 0, 0, 1], 3478)));
        assert_eq!((t.realm.as_str(), t.ports), ("tern", (49152, 65535)));
        assert_eq!(t.secret.len(), 64);
        let again = ServeConfig::resolve(f).unwrap().turn.unwrap();
        assert_ne!(t.secret, again.secret, "a fresh secret per start");
        let f: FileConfig = toml::from_str(
            "turn = true\nturn_secret = \"s3cret\"\nturn_min_port = 50000\nturn_max_port = 50010\nturn_allow_peers = [\"10.1.0.0/16\"]\n",
        )
        .unwrap();
        let t = ServeConfig::resolve(f).unwrap().turn.unwrap();
        assert_eq!((t.secret.as_str(), t.ports), ("s3cret", (50000, 50010)));
        assert_eq!(t.allow_peers, vec!["10.1.0.0/16".to_string()]);
        for bad in [
            "turn = true\nturn_min_port = 60000\nturn_max_port = 50000\n",
            "turn = true\nturn_allow_peers = [\"nope\"]\n",
            "turn = true\nturn_secret = \"\"\n",
            "turn = true\nturn_credential_ttl_secs = 100000\n",
        ] {
            let f: FileConfig = toml::from_str(bad).unwrap();
            assert!(ServeConfig::resolve(f).is_err(), "{bad}");
        }
    }

    #[test]
    fn turn_credentials_name_the_participant_and_verify_under_the_secret() {
        let t = TurnSettings {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            realm: "tern".into(),
            secret: "s3cret".into(),
            ports: (50000, 50100),
            allow_peers: Vec::new(),
            credential_ttl: Duration::from_secs(600),
        };
        let media = SocketAddr::from(([127, 0, 0, 1], 40000));
        let (thread, provider) = start_turn(&t, IpAddr::from([127, 0, 0, 1]), media).unwrap();
        let servers = provider.ice_servers("p7");
        thread.stop();
        assert_eq!(servers.len(), 1);
        let s = &servers[0];
        assert!(s.urls[0].starts_with("turn:127.0.0.1:") && s.urls[0].ends_with("?transport=udp"));
        let user = s.username.as_deref().unwrap();
        let (expiry, who) = tern_turn::split_rest_username(user).unwrap();
        assert_eq!(who, "p7");
        let unix = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert!(
            (unix + 590..=unix + 610).contains(&expiry),
            "{expiry} vs {unix}"
        );
        assert_eq!(
            s.credential.as_deref(),
            Some(tern_turn::rest_password(b"s3cret", user).as_str())
        );
    }
}
