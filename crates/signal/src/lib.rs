//! tern-signal: Tern's signaling protocol, version 1
//! (`shared/specs/signaling-v1.md`), as a sans-IO state machine.
//!
//! [`Signaling`] holds rooms, participants and connections. The caller (the
//! `tern serve` WebSocket server, or a test) feeds it:
//!
//! - [`Signaling::connect`] when a WebSocket opens (refused past
//!   [`Config::max_connections`]);
//! - [`Signaling::handle_message`] with the bytes of each complete message;
//! - [`Signaling::handle_oversized`] when the transport discarded a message
//!   over 64 KiB without buffering it, [`Signaling::handle_binary`] for a
//!   binary message;
//! - [`Signaling::handle_close`] when the socket closed (same as `leave`).
//!
//! After each call it drains [`Signaling::poll_output`] until `None`:
//! [`Output::Send`] is one text frame for one connection, in order;
//! [`Output::Close`] means "close this socket after sending what came
//! before"; the connection id is dead from then on.
//!
//! The media plane is a [`MediaPlane`] the machine calls synchronously.
//! No clock, no randomness, no I/O: participant ids (`p1`, `p2`, ...) and the
//! SSRCs the SFU forwards with come from counters.
//!
//! Bounded state: [`Config`] caps connections, rooms, participants per room,
//! tracks per publisher and the messages queued for one connection (a
//! connection that lets more pile up is dropped).
#![forbid(unsafe_code)]

#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod media;
pub mod msg;

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use tern_sdp::{
    Answerer, Capabilities, ErrorKind, ForwardedTrack, MediaKind, ServerConfig, SubscriberSession,
};

pub use media::{
    MediaCall, MediaError, MediaPlane, ParticipantTransports, PublishNegotiation, PublishedTrack,
    RecordingMediaPlane, SubscribeNegotiation, SubscribedTrack, TransportParams,
};
pub use msg::{
    ClientMessage, ClientType, Envelope, ErrorCode, IceCandidateInit, IceServer, MessageId,
    ParticipantInfo, Pc, Refusal, ServerMessage, TrackInfo, MAX_MESSAGE_LEN,
};

/// Computes `iceServers` for one participant's `joined`, called once per
/// join with the new participant's id. The machine stays sans-IO: what the
/// function needs (a clock for credential expiry, a secret) is the
/// caller's; it must not block.
#[derive(Clone)]
pub struct IceServerProvider(Arc<IceServerFn>);

/// The function behind an [`IceServerProvider`].
type IceServerFn = dyn Fn(&str) -> Vec<IceServer> + Send + Sync;

impl IceServerProvider {
    /// A provider from a function of the participant id.
    pub fn new(f: impl Fn(&str) -> Vec<IceServer> + Send + Sync + 'static) -> Self {
        IceServerProvider(Arc::new(f))
    }

    /// The servers for `participant`.
    pub fn ice_servers(&self, participant: &str) -> Vec<IceServer> {
        (self.0)(participant)
    }
}

impl std::fmt::Debug for IceServerProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IceServerProvider(..)")
    }
}

/// Limits and settings of a signaling server.
#[derive(Debug, Clone)]
pub struct Config {
    /// Open connections at most ([`Signaling::connect`] refuses more).
    pub max_connections: usize,
    /// Rooms at most; a `join` that would create one more gets `room-full`.
    pub max_rooms: usize,
    /// Participants per room; a `join` past it gets `room-full`.
    pub max_participants_per_room: usize,
    /// Tracks (sending sections) per publisher; an offer with more gets
    /// `unsupported`.
    pub max_tracks_per_participant: usize,
    /// Messages queued for one connection before it is dropped as too slow.
    pub max_pending_per_connection: usize,
    /// `iceServers` in `joined` (the same for everyone).
    pub ice_servers: Vec<IceServer>,
    /// More `iceServers` computed for each join (e.g. TURN with
    /// time-limited credentials), appended after `ice_servers`.
    pub ice_server_provider: Option<IceServerProvider>,
    /// Codecs and header extensions the SFU accepts and offers.
    pub capabilities: Capabilities,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_connections: 1024,
            max_rooms: 256,
            max_participants_per_room: 8,
            max_tracks_per_participant: 4,
            max_pending_per_connection: 256,
            ice_servers: Vec::new(),
            ice_server_provider: None,
            capabilities: Capabilities::default(),
        }
    }
}

/// Forwarded tracks per subscriber at most. The SDP layer caps a session at
/// 64 sections, and stopped sections await an answer before reuse, so live
/// tracks stay well below it; and a subscribe offer must fit one 64 KiB
/// message (a forwarded video section is about 2 KB of SDP).
const MAX_FORWARDED_TRACKS: usize = 24;

impl Config {
    /// Clamps the limits into ranges the state machine supports: at least
    /// one of everything, and at most 24 forwarded tracks per subscriber
    /// (`(participants - 1) * tracks`; so at most 25 participants per room).
    pub fn normalized(mut self) -> Self {
        self.max_connections = self.max_connections.max(1);
        self.max_rooms = self.max_rooms.max(1);
        self.max_participants_per_room = self
            .max_participants_per_room
            .clamp(1, MAX_FORWARDED_TRACKS + 1);
        self.max_tracks_per_participant = self.max_tracks_per_participant.max(1);
        let others = self.max_participants_per_room.saturating_sub(1).max(1);
        self.max_tracks_per_participant = self
            .max_tracks_per_participant
            .min(MAX_FORWARDED_TRACKS / others)
            .max(1);
        self.max_pending_per_connection = self.max_pending_per_connection.max(8);
        self
    }
}

/// A connection (one WebSocket).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnectionId(pub u64);

/// What the caller must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Send one text frame with `message.to_json()` on the connection.
    Send {
        /// The connection.
        conn: ConnectionId,
        /// The message.
        message: ServerMessage,
    },
    /// Close the connection after the frames queued before this.
    Close {
        /// The connection.
        conn: ConnectionId,
    },
}

/// Why [`Signaling::connect`] refused a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooManyConnections;

/// Counts of live state, for `/debug/state` and leak tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    /// Rooms.
    pub rooms: usize,
    /// Participants (joined connections).
    pub participants: usize,
    /// Open connections.
    pub connections: usize,
    /// Outputs not yet polled.
    pub pending_outputs: usize,
}

#[derive(Debug)]
struct Connection {
    participant: Option<String>,
    queued: usize,
}

#[derive(Debug)]
struct Participant {
    name: String,
    room: String,
    conn: ConnectionId,
    answerer: Answerer,
    subscriber: SubscriberSession,
    /// Tracks this participant publishes.
    published: Vec<PublishedTrack>,
    /// Codecs per published track id (as negotiated with the publisher).
    published_codecs: BTreeMap<String, Vec<tern_sdp::NegotiatedCodec>>,
    next_track: u64,
    /// What the latest subscribe offer carried.
    offered: Vec<ForwardedTrack>,
    /// The forwarded set changed while an offer was outstanding.
    dirty: bool,
}

#[derive(Debug, Default)]
struct Room {
    /// Participant ids in join order.
    members: Vec<String>,
}

/// The signaling server state machine. See the crate docs for the call
/// order; drain [`Self::poll_output`] after every handler.
#[derive(Debug)]
pub struct Signaling<M: MediaPlane> {
    config: Config,
    media: M,
    connections: BTreeMap<ConnectionId, Connection>,
    participants: BTreeMap<String, Participant>,
    rooms: BTreeMap<String, Room>,
    outputs: VecDeque<Output>,
    next_conn: u64,
    next_participant: u64,
    next_ssrc: u32,
}

fn sdp_refusal(e: tern_sdp::Error, what: &str) -> Refusal {
    match e.kind() {
        ErrorKind::Syntax | ErrorKind::Limit => {
            Refusal::bad(format!("invalid SDP {what}: {}", e.reason()))
        }
        ErrorKind::Negotiation if e.reason() == "no media section the server can accept" => {
            Refusal::new(ErrorCode::Unsupported, format!("{what}: {}", e.reason()))
        }
        ErrorKind::Negotiation => Refusal::bad(format!("unacceptable SDP {what}: {}", e.reason())),
        ErrorKind::ApiMisuse => Refusal::new(
            ErrorCode::Internal,
            format!("server error on the SDP {what}: {}", e.reason()),
        ),
    }
}

fn server_config(t: &TransportParams, session_id: u64) -> ServerConfig {
    let mut c = ServerConfig::new(session_id, &t.ice_ufrag, &t.ice_pwd);
    c.fingerprints = t.fingerprints.clone();
    c.candidates = t.candidates.clone();
    c.setup_when_actpass = t.setup_when_actpass;
    c.sctp_port = None;
    c
}

impl<M: MediaPlane> Signaling<M> {
    /// A server with no rooms. The config is [`Config::normalized`].
    pub fn new(config: Config, media: M) -> Self {
        Signaling {
            config: config.normalized(),
            media,
            connections: BTreeMap::new(),
            participants: BTreeMap::new(),
            rooms: BTreeMap::new(),
            outputs: VecDeque::new(),
            next_conn: 0,
            next_participant: 0,
            next_ssrc: 0x1000_0000,
        }
    }

    /// The effective config.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The media plane.
    pub fn media(&self) -> &M {
        &self.media
    }

    /// The media plane, mutably (tests inject failures through it).
    pub fn media_mut(&mut self) -> &mut M {
        &mut self.media
    }

    /// Counts of live state.
    pub fn counts(&self) -> Counts {
        Counts {
            rooms: self.rooms.len(),
            participants: self.participants.len(),
            connections: self.connections.len(),
            pending_outputs: self.outputs.len(),
        }
    }

    /// A new connection, or `Err` at [`Config::max_connections`].
    pub fn connect(&mut self) -> Result<ConnectionId, TooManyConnections> {
        if self.connections.len() >= self.config.max_connections {
            return Err(TooManyConnections);
        }
        self.next_conn += 1;
        let id = ConnectionId(self.next_conn);
        self.connections.insert(
            id,
            Connection {
                participant: None,
                queued: 0,
            },
        );
        Ok(id)
    }

    /// Whether the connection is open (known and not closed).
    pub fn is_open(&self, conn: ConnectionId) -> bool {
        self.connections.contains_key(&conn)
    }

    /// The participant id of a joined connection.
    pub fn participant_of(&self, conn: ConnectionId) -> Option<&str> {
        self.connections.get(&conn)?.participant.as_deref()
    }

    /// The next thing to do, oldest first.
    pub fn poll_output(&mut self) -> Option<Output> {
        let out = self.outputs.pop_front()?;
        if let Output::Send { conn, .. } = &out {
            if let Some(c) = self.connections.get_mut(conn) {
                c.queued = c.queued.saturating_sub(1);
            }
        }
        Some(out)
    }

    /// The socket closed (or failed): same as `leave`, without a `Close` output.
    pub fn handle_close(&mut self, conn: ConnectionId) {
        if let Some(c) = self.connections.remove(&conn) {
            self.outputs
                .retain(|o| !matches!(o, Output::Send { conn: x, .. } if *x == conn));
            if let Some(p) = c.participant {
                self.remove_participant(&p);
            }
        }
    }

    /// The transport dropped a message over 64 KiB: `bad-request`, the
    /// connection stays open.
    pub fn handle_oversized(&mut self, conn: ConnectionId, len: usize) {
        if self.connections.contains_key(&conn) {
            self.send_error(
                conn,
                None,
                Refusal::bad(format!("message of {len} bytes is over the 64 KiB limit")),
            );
        }
    }

    /// The transport received a binary message (signaling is text only):
    /// `bad-request`, the connection stays open.
    pub fn handle_binary(&mut self, conn: ConnectionId, len: usize) {
        if self.connections.contains_key(&conn) {
            self.send_error(
                conn,
                None,
                Refusal::bad(format!(
                    "binary message of {len} bytes rejected: signaling uses text frames only"
                )),
            );
        }
    }

    /// One complete message from the connection.
    pub fn handle_message(&mut self, conn: ConnectionId, bytes: &[u8]) {
        let Some(c) = self.connections.get(&conn) else {
            return;
        };
        let joined = c.participant.clone();
        let env = match Envelope::parse(bytes) {
            Ok(env) => env,
            Err((id, refusal)) => return self.send_error(conn, id, refusal),
        };
        let id = env.id;
        let kind = match env.kind {
            Ok(k) => k,
            Err(refusal) => return self.send_error(conn, id, refusal),
        };
        match (&joined, kind) {
            (None, k) if k != ClientType::Join => {
                return self.send_error(
                    conn,
                    id,
                    Refusal::new(ErrorCode::NotJoined, "send \"join\" first"),
                )
            }
            (Some(_), ClientType::Join) => {
                return self.send_error(
                    conn,
                    id,
                    Refusal::new(
                        ErrorCode::AlreadyJoined,
                        "this connection has already joined",
                    ),
                )
            }
            _ => {}
        }
        let msg = match ClientMessage::parse_body(kind, &env.object) {
            Ok(m) => m,
            Err(refusal) => return self.send_error(conn, id, refusal),
        };
        let result = match (msg, joined) {
            (ClientMessage::Join { room, name }, None) => self.join(conn, id.clone(), room, name),
            (ClientMessage::Offer { sdp }, Some(p)) => self.publish_offer(&p, id.clone(), &sdp),
            (ClientMessage::Answer { sdp }, Some(p)) => self.subscribe_answer(&p, &sdp),
            (ClientMessage::Candidate { pc, candidate }, Some(p)) => {
                self.media.remote_candidate(&p, pc, candidate.as_ref());
                Ok(())
            }
            (ClientMessage::Leave, Some(p)) => {
                self.connections.remove(&conn);
                self.remove_participant(&p);
                self.outputs.push_back(Output::Close { conn });
                Ok(())
            }
            _ => Err(Refusal::new(ErrorCode::Internal, "message out of state")),
        };
        if let Err(refusal) = result {
            self.send_error(conn, id, refusal);
        }
    }

    fn send(&mut self, conn: ConnectionId, message: ServerMessage) {
        let Some(c) = self.connections.get_mut(&conn) else {
            return;
        };
        if c.queued >= self.config.max_pending_per_connection {
            // The client does not read: drop it rather than grow.
            self.handle_close(conn);
            self.outputs.push_back(Output::Close { conn });
            return;
        }
        c.queued += 1;
        self.outputs.push_back(Output::Send { conn, message });
    }

    fn send_error(&mut self, conn: ConnectionId, id: Option<MessageId>, refusal: Refusal) {
        let code = refusal.code;
        let message = ServerMessage::Error {
            code,
            message: refusal.message,
            id,
        };
        if !code.closes_connection() {
            return self.send(conn, message);
        }
        // Closed after sending: free the connection now; the frames queued
        // before stay in order, then the error, then the close.
        let Some(c) = self.connections.remove(&conn) else {
            return;
        };
        if let Some(p) = c.participant {
            self.remove_participant(&p);
        }
        self.outputs.push_back(Output::Send { conn, message });
        self.outputs.push_back(Output::Close { conn });
    }

    fn join(
        &mut self,
        conn: ConnectionId,
        id: Option<MessageId>,
        room: String,
        name: String,
    ) -> Result<(), Refusal> {
        match self.rooms.get(&room) {
            Some(r) if r.members.len() >= self.config.max_participants_per_room => {
                return Err(Refusal::new(
                    ErrorCode::RoomFull,
                    format!(
                        "room {room:?} has the maximum of {} participants",
                        self.config.max_participants_per_room
                    ),
                ));
            }
            None if self.rooms.len() >= self.config.max_rooms => {
                return Err(Refusal::new(
                    ErrorCode::RoomFull,
                    "the server has the maximum number of rooms",
                ));
            }
            _ => {}
        }
        let n = self.next_participant + 1;
        let pid = format!("p{n}");
        let transports = self
            .media
            .create_participant(&pid, &room)
            .map_err(|e| Refusal::new(ErrorCode::Internal, format!("media plane: {e}")))?;
        self.next_participant = n;
        let caps = self.config.capabilities.clone();
        let built = Answerer::new(caps.clone(), server_config(&transports.publish, n * 2))
            .and_then(|a| {
                SubscriberSession::new(caps, server_config(&transports.subscribe, n * 2 + 1))
                    .map(|s| (a, s))
            });
        let (answerer, subscriber) = match built {
            Ok(x) => x,
            Err(e) => {
                self.media.remove_participant(&pid);
                return Err(Refusal::new(
                    ErrorCode::Internal,
                    format!("media plane gave an unusable transport: {}", e.reason()),
                ));
            }
        };
        let members = self
            .rooms
            .get(&room)
            .map(|r| r.members.clone())
            .unwrap_or_default();
        let others: Vec<ParticipantInfo> = members
            .iter()
            .filter_map(|m| {
                self.participants.get(m).map(|p| ParticipantInfo {
                    participant: m.clone(),
                    name: p.name.clone(),
                })
            })
            .collect();
        self.rooms
            .entry(room.clone())
            .or_default()
            .members
            .push(pid.clone());
        self.participants.insert(
            pid.clone(),
            Participant {
                name: name.clone(),
                room: room.clone(),
                conn,
                answerer,
                subscriber,
                published: Vec::new(),
                published_codecs: BTreeMap::new(),
                next_track: 0,
                offered: Vec::new(),
                dirty: false,
            },
        );
        if let Some(c) = self.connections.get_mut(&conn) {
            c.participant = Some(pid.clone());
        }
        let mut ice_servers = self.config.ice_servers.clone();
        if let Some(p) = &self.config.ice_server_provider {
            ice_servers.extend(p.ice_servers(&pid));
        }
        self.send(
            conn,
            ServerMessage::Joined {
                id,
                participant: pid.clone(),
                room,
                participants: others,
                ice_servers,
            },
        );
        for m in &members {
            if let Some(c) = self.participants.get(m).map(|p| p.conn) {
                self.send(
                    c,
                    ServerMessage::ParticipantJoined {
                        participant: pid.clone(),
                        name: name.clone(),
                    },
                );
            }
        }
        self.renegotiate(&pid);
        Ok(())
    }

    fn publish_offer(
        &mut self,
        pid: &str,
        id: Option<MessageId>,
        sdp: &str,
    ) -> Result<(), Refusal> {
        let max_tracks = self.config.max_tracks_per_participant;
        let Some(p) = self.participants.get(pid) else {
            return Err(Refusal::new(ErrorCode::Internal, "unknown participant"));
        };
        let mut trial = p.answerer.clone();
        let answer = trial
            .answer_text(sdp)
            .map_err(|e| sdp_refusal(e, "offer"))?;
        let sending: Vec<&tern_sdp::AcceptedMedia> = answer
            .media
            .iter()
            .filter(|m| m.offered_direction.sends())
            .collect();
        if sending.len() > max_tracks {
            return Err(Refusal::new(
                ErrorCode::Unsupported,
                format!("offer sends {} tracks; at most {max_tracks}", sending.len()),
            ));
        }
        let mut next_track = p.next_track;
        let mut tracks = Vec::with_capacity(sending.len());
        let mut codecs = BTreeMap::new();
        let mut next_ssrc = self.next_ssrc;
        for m in sending {
            let existing = p
                .published
                .iter()
                .find(|t| t.mid == m.mid && t.kind == m.kind);
            let track = match existing {
                Some(t) => t.clone(),
                None => {
                    let track_id = format!("{pid}-t{next_track}");
                    next_track += 1;
                    let ssrc = next_ssrc;
                    next_ssrc = next_ssrc.wrapping_add(2).max(0x1000_0000);
                    PublishedTrack {
                        track_id,
                        mid: m.mid.clone(),
                        kind: m.kind,
                        forward_ssrc: ssrc,
                        forward_rtx_ssrc: (m.kind == MediaKind::Video).then_some(ssrc + 1),
                    }
                }
            };
            codecs.insert(track.track_id.clone(), m.codecs.clone());
            tracks.push(track);
        }
        self.media
            .publish_changed(
                pid,
                &PublishNegotiation {
                    remote: &answer.remote,
                    dtls_role: answer.dtls_role,
                    ice_restart: answer.ice_restart,
                    media: &answer.media,
                    tracks: &tracks,
                },
            )
            .map_err(|e| Refusal::new(ErrorCode::Internal, format!("media plane: {e}")))?;
        self.next_ssrc = next_ssrc;
        let Some(p) = self.participants.get_mut(pid) else {
            return Err(Refusal::new(ErrorCode::Internal, "unknown participant"));
        };
        p.answerer = trial;
        p.published = tracks;
        p.published_codecs = codecs;
        p.next_track = next_track;
        let conn = p.conn;
        let room = p.room.clone();
        self.send(
            conn,
            ServerMessage::Answer {
                id,
                pc: Pc::Pub,
                sdp: answer.to_sdp_string(),
            },
        );
        let members = self
            .rooms
            .get(&room)
            .map(|r| r.members.clone())
            .unwrap_or_default();
        for m in members.iter().filter(|m| *m != pid) {
            self.renegotiate(m);
        }
        Ok(())
    }

    fn subscribe_answer(&mut self, pid: &str, sdp: &str) -> Result<(), Refusal> {
        let Some(p) = self.participants.get_mut(pid) else {
            return Err(Refusal::new(ErrorCode::Internal, "unknown participant"));
        };
        if !p.subscriber.has_pending_offer() {
            return Err(Refusal::bad("no subscribe offer is outstanding"));
        }
        let result = p
            .subscriber
            .apply_answer_text(sdp)
            .map_err(|e| sdp_refusal(e, "answer"))?;
        let tracks: Vec<SubscribedTrack> = result
            .tracks
            .iter()
            .map(|t| {
                let publisher_mid = self
                    .participants
                    .get(&t.stream_id)
                    .and_then(|q| q.published.iter().find(|x| x.track_id == t.track_id))
                    .map(|x| x.mid.clone())
                    .unwrap_or_default();
                SubscribedTrack {
                    publisher: t.stream_id.clone(),
                    publisher_mid,
                    track: t.clone(),
                }
            })
            .collect();
        self.media.subscribe_changed(
            pid,
            &SubscribeNegotiation {
                remote: &result.remote,
                dtls_role: result.dtls_role,
                ice_restart: result.ice_restart,
                tracks: &tracks,
                refused: &result.refused,
            },
        );
        if let Some(p) = self.participants.get_mut(pid) {
            if p.dirty {
                p.dirty = false;
                self.renegotiate(pid);
            }
        }
        Ok(())
    }

    /// The tracks `pid` should receive: every other member's, in join order.
    fn desired_tracks(&self, pid: &str) -> Vec<ForwardedTrack> {
        let Some(p) = self.participants.get(pid) else {
            return Vec::new();
        };
        let Some(room) = self.rooms.get(&p.room) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for m in room.members.iter().filter(|m| *m != pid) {
            let Some(q) = self.participants.get(m) else {
                continue;
            };
            for t in &q.published {
                out.push(ForwardedTrack {
                    id: t.track_id.clone(),
                    stream_id: m.clone(),
                    kind: t.kind,
                    ssrc: t.forward_ssrc,
                    rtx_ssrc: t.forward_rtx_ssrc,
                    cname: m.clone(),
                    codecs: q
                        .published_codecs
                        .get(&t.track_id)
                        .cloned()
                        .unwrap_or_default(),
                });
            }
        }
        out
    }

    /// Offers `pid` the latest state, unless an offer is outstanding (then
    /// it is marked dirty and offered when the answer comes).
    fn renegotiate(&mut self, pid: &str) {
        let desired = self.desired_tracks(pid);
        let Some(p) = self.participants.get_mut(pid) else {
            return;
        };
        if p.subscriber.has_pending_offer() {
            p.dirty = true;
            return;
        }
        if desired == p.offered {
            return;
        }
        let offer = match p.subscriber.create_offer(&desired) {
            Ok(o) => o,
            Err(e) => {
                let conn = p.conn;
                self.send_error(
                    conn,
                    None,
                    Refusal::new(
                        ErrorCode::Internal,
                        format!("could not make a subscribe offer: {}", e.reason()),
                    ),
                );
                return;
            }
        };
        let sdp = offer.to_sdp_string();
        // The offer must fit one message (JSON escaping adds 2 bytes a line).
        if sdp.len() + 2 * sdp.lines().count() + 64 > MAX_MESSAGE_LEN {
            p.subscriber.cancel_offer();
            let conn = p.conn;
            self.send_error(
                conn,
                None,
                Refusal::new(
                    ErrorCode::Internal,
                    "the subscribe offer would exceed 64 KiB; tracks not forwarded",
                ),
            );
            return;
        }
        p.offered = desired;
        let conn = p.conn;
        let mapping = p.subscriber.tracks();
        let tracks = mapping
            .into_iter()
            .map(|t| TrackInfo {
                name: self
                    .participants
                    .get(&t.stream_id)
                    .map(|q| q.name.clone())
                    .unwrap_or_default(),
                participant: t.stream_id.clone(),
                mid: t.mid,
                kind: t.kind.as_str().to_owned(),
                stream: t.stream_id,
            })
            .collect();
        self.send(conn, ServerMessage::Tracks { tracks });
        self.send(conn, ServerMessage::Offer { pc: Pc::Sub, sdp });
    }

    fn remove_participant(&mut self, pid: &str) {
        let Some(p) = self.participants.remove(pid) else {
            return;
        };
        if let Some(c) = self.connections.get_mut(&p.conn) {
            c.participant = None;
        }
        self.media.remove_participant(pid);
        let members = match self.rooms.get_mut(&p.room) {
            Some(r) => {
                r.members.retain(|m| m != pid);
                r.members.clone()
            }
            None => Vec::new(),
        };
        if members.is_empty() {
            self.rooms.remove(&p.room);
        }
        for m in &members {
            if let Some(c) = self.participants.get(m).map(|q| q.conn) {
                self.send(
                    c,
                    ServerMessage::ParticipantLeft {
                        participant: pid.to_owned(),
                    },
                );
            }
            self.renegotiate(m);
        }
    }

    /// Checks the internal invariants (for tests and fuzzing): every room
    /// non-empty and within its cap, every participant in its room and
    /// bound to an open connection, every queue within its cap.
    pub fn check_invariants(&self) -> Result<(), &'static str> {
        if self.rooms.len() > self.config.max_rooms {
            return Err("too many rooms");
        }
        if self.connections.len() > self.config.max_connections {
            return Err("too many connections");
        }
        let mut members = 0;
        for (name, r) in &self.rooms {
            if r.members.is_empty() {
                return Err("empty room kept");
            }
            if r.members.len() > self.config.max_participants_per_room {
                return Err("room over its cap");
            }
            for m in &r.members {
                let p = self
                    .participants
                    .get(m)
                    .ok_or("member without participant")?;
                if &p.room != name {
                    return Err("participant in the wrong room");
                }
                let c = self
                    .connections
                    .get(&p.conn)
                    .ok_or("participant without connection")?;
                if c.participant.as_deref() != Some(m.as_str()) {
                    return Err("connection not bound to its participant");
                }
                if p.published.len() > self.config.max_tracks_per_participant {
                    return Err("too many tracks");
                }
            }
            members += r.members.len();
        }
        if members != self.participants.len() {
            return Err("participant outside any room");
        }
        for c in self.connections.values() {
            if c.queued > self.config.max_pending_per_connection {
                return Err("queue over its cap");
            }
        }
        Ok(())
    }
}
