//! The wire messages of signaling v1 (`shared/specs/signaling-v1.md`):
//! every client → server and server → client message, with the spec's exact
//! field names, and the parsing rules (UTF-8 JSON object, string `type`,
//! `id` string or number, unknown fields ignored, at most 64 KiB).
//!
//! Client messages are parsed in two steps so that the state machine can
//! apply the spec's order of checks: [`Envelope::parse`] reads `type` and
//! `id` (bad JSON → `bad-request`, unknown type → `unsupported`), then
//! [`ClientMessage::parse_body`] reads the fields of a known type (a missing
//! or ill-typed field → `bad-request`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The largest message either side may send: 64 KiB.
pub const MAX_MESSAGE_LEN: usize = 64 * 1024;
/// Room names: 1..=64 characters.
pub const MAX_ROOM_LEN: usize = 64;
/// Display names: 1..=64 characters (Unicode scalar values).
pub const MAX_NAME_LEN: usize = 64;

/// The `code` of an `error` message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorCode {
    /// Not JSON, no `type`, a missing or ill-typed field, an invalid SDP, a
    /// message over 64 KiB. The connection stays open.
    BadRequest,
    /// Anything but `join` before `join`. The connection stays open.
    NotJoined,
    /// A second `join`. The connection stays open.
    AlreadyJoined,
    /// An unknown `type`, or an offer with nothing the server can accept.
    /// The connection stays open.
    Unsupported,
    /// The room has the configured maximum of participants. The server
    /// closes the connection after sending it.
    RoomFull,
    /// A bug on the server side. The connection stays open where possible.
    Internal,
}

impl ErrorCode {
    /// Every code, in the spec's order.
    pub const ALL: [ErrorCode; 6] = [
        ErrorCode::BadRequest,
        ErrorCode::NotJoined,
        ErrorCode::AlreadyJoined,
        ErrorCode::Unsupported,
        ErrorCode::RoomFull,
        ErrorCode::Internal,
    ];

    /// The code as written on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad-request",
            ErrorCode::NotJoined => "not-joined",
            ErrorCode::AlreadyJoined => "already-joined",
            ErrorCode::Unsupported => "unsupported",
            ErrorCode::RoomFull => "room-full",
            ErrorCode::Internal => "internal",
        }
    }

    /// Whether the server closes the connection after sending this error.
    pub const fn closes_connection(self) -> bool {
        matches!(self, ErrorCode::RoomFull)
    }
}

/// A client's `id`: a string or a number, echoed verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MessageId {
    /// A JSON number (kept as written: integer or float).
    Number(serde_json::Number),
    /// A JSON string.
    String(String),
}

/// Which of a participant's two transports a message is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Pc {
    /// The publish transport: the client offers, the server answers.
    #[serde(rename = "pub")]
    Pub,
    /// The subscribe transport: the server offers, the client answers.
    #[serde(rename = "sub")]
    Sub,
}

impl Pc {
    /// `"pub"` or `"sub"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Pc::Pub => "pub",
            Pc::Sub => "sub",
        }
    }
}

/// An RTCIceCandidateInit object as the client sent it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct IceCandidateInit {
    /// The `candidate:...` line (without `a=`); empty means end of candidates
    /// for the generation, as browsers send it.
    pub candidate: String,
    /// `sdpMid`.
    #[serde(rename = "sdpMid", default, skip_serializing_if = "Option::is_none")]
    pub sdp_mid: Option<String>,
    /// `sdpMLineIndex`.
    #[serde(
        rename = "sdpMLineIndex",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub sdp_m_line_index: Option<u16>,
    /// `usernameFragment`.
    #[serde(
        rename = "usernameFragment",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub username_fragment: Option<String>,
}

/// An RTCIceServer object for the `joined` message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceServer {
    /// `urls`: one or more `stun:`/`turn:` URLs.
    pub urls: Vec<String>,
    /// `username`, for TURN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// `credential`, for TURN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

/// The message types a client may send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientType {
    /// `join`.
    Join,
    /// `offer`.
    Offer,
    /// `answer`.
    Answer,
    /// `candidate`.
    Candidate,
    /// `leave`.
    Leave,
}

impl ClientType {
    /// The type named by a `type` field, if the spec defines it.
    pub fn from_name(s: &str) -> Option<Self> {
        Some(match s {
            "join" => ClientType::Join,
            "offer" => ClientType::Offer,
            "answer" => ClientType::Answer,
            "candidate" => ClientType::Candidate,
            "leave" => ClientType::Leave,
            _ => return None,
        })
    }
}

/// Why a message was refused: the code and a human-readable message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The error code.
    pub code: ErrorCode,
    /// The `message` text.
    pub message: String,
}

impl Refusal {
    /// A refusal with the given code.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Refusal {
            code,
            message: message.into(),
        }
    }

    pub(crate) fn bad(message: impl Into<String>) -> Self {
        Refusal::new(ErrorCode::BadRequest, message)
    }
}

/// The first parsing step: the JSON object, its `id` and its `type`.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    /// The `id` to echo, if the message had a usable one.
    pub id: Option<MessageId>,
    /// The known type, or `Err(refusal)` for an unknown or missing one
    /// (the `id` is still echoed).
    pub kind: Result<ClientType, Refusal>,
    /// The whole object, for [`ClientMessage::parse_body`].
    pub object: Map<String, Value>,
}

impl Envelope {
    /// Parses the raw bytes of one WebSocket message. Errors are
    /// `bad-request` (with the `id` when one could be read).
    pub fn parse(bytes: &[u8]) -> Result<Envelope, (Option<MessageId>, Refusal)> {
        if bytes.len() > MAX_MESSAGE_LEN {
            return Err((
                None,
                Refusal::bad(format!(
                    "message of {} bytes is over the 64 KiB limit",
                    bytes.len()
                )),
            ));
        }
        let text = core::str::from_utf8(bytes)
            .map_err(|_| (None, Refusal::bad("message is not UTF-8 text")))?;
        let value: Value = serde_json::from_str(text)
            .map_err(|e| (None, Refusal::bad(format!("message is not JSON: {e}"))))?;
        let Value::Object(object) = value else {
            return Err((None, Refusal::bad("message is not a JSON object")));
        };
        let id = match object.get("id") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(MessageId::String(s.clone())),
            Some(Value::Number(n)) => Some(MessageId::Number(n.clone())),
            Some(_) => {
                return Err((None, Refusal::bad("\"id\" must be a string or a number")));
            }
        };
        let kind = match object.get("type") {
            None => Err(Refusal::bad("message has no \"type\"")),
            Some(Value::String(t)) => ClientType::from_name(t).ok_or_else(|| {
                Refusal::new(
                    ErrorCode::Unsupported,
                    format!("unknown message type {:?}", truncate(t, 64)),
                )
            }),
            Some(_) => Err(Refusal::bad("\"type\" must be a string")),
        };
        Ok(Envelope { id, kind, object })
    }
}

/// A client message with its fields checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientMessage {
    /// `join`.
    Join {
        /// Room name (validated).
        room: String,
        /// Display name (validated).
        name: String,
    },
    /// `offer` (always `pc: "pub"`).
    Offer {
        /// The offer.
        sdp: String,
    },
    /// `answer` (always `pc: "sub"`).
    Answer {
        /// The answer.
        sdp: String,
    },
    /// `candidate`.
    Candidate {
        /// Which transport.
        pc: Pc,
        /// The candidate, or `None` for end-of-candidates (`null`).
        candidate: Option<IceCandidateInit>,
    },
    /// `leave`.
    Leave,
}

fn field<'a>(obj: &'a Map<String, Value>, name: &str) -> Result<&'a Value, Refusal> {
    obj.get(name)
        .ok_or_else(|| Refusal::bad(format!("missing field \"{name}\"")))
}

fn string_field<'a>(obj: &'a Map<String, Value>, name: &str) -> Result<&'a str, Refusal> {
    field(obj, name)?
        .as_str()
        .ok_or_else(|| Refusal::bad(format!("field \"{name}\" must be a string")))
}

fn pc_field(obj: &Map<String, Value>) -> Result<Pc, Refusal> {
    match string_field(obj, "pc")? {
        "pub" => Ok(Pc::Pub),
        "sub" => Ok(Pc::Sub),
        _ => Err(Refusal::bad("field \"pc\" must be \"pub\" or \"sub\"")),
    }
}

fn optional_string(obj: &Map<String, Value>, name: &str) -> Result<Option<String>, Refusal> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Refusal::bad(format!(
            "candidate field \"{name}\" must be a string or null"
        ))),
    }
}

/// Whether `room` is a valid room name: 1..=64 of `A-Z a-z 0-9 _ -`.
pub fn is_valid_room(room: &str) -> bool {
    (1..=MAX_ROOM_LEN).contains(&room.len())
        && room
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Whether `name` is a valid display name: 1..=64 characters.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty() && name.chars().count() <= MAX_NAME_LEN
}

impl ClientMessage {
    /// Reads and checks the fields of a message of a known type.
    pub fn parse_body(kind: ClientType, obj: &Map<String, Value>) -> Result<Self, Refusal> {
        match kind {
            ClientType::Join => {
                let room = string_field(obj, "room")?;
                if !is_valid_room(room) {
                    return Err(Refusal::bad(
                        "room must be 1-64 characters from A-Z a-z 0-9 _ -",
                    ));
                }
                let name = string_field(obj, "name")?;
                if !is_valid_name(name) {
                    return Err(Refusal::bad("name must be 1-64 characters"));
                }
                Ok(ClientMessage::Join {
                    room: room.to_owned(),
                    name: name.to_owned(),
                })
            }
            ClientType::Offer => {
                let pc = pc_field(obj)?;
                let sdp = string_field(obj, "sdp")?;
                if pc != Pc::Pub {
                    return Err(Refusal::bad(
                        "offers come from the client only on pc \"pub\"",
                    ));
                }
                Ok(ClientMessage::Offer {
                    sdp: sdp.to_owned(),
                })
            }
            ClientType::Answer => {
                let pc = pc_field(obj)?;
                let sdp = string_field(obj, "sdp")?;
                if pc != Pc::Sub {
                    return Err(Refusal::bad(
                        "answers come from the client only on pc \"sub\"",
                    ));
                }
                Ok(ClientMessage::Answer {
                    sdp: sdp.to_owned(),
                })
            }
            ClientType::Candidate => {
                let pc = pc_field(obj)?;
                let candidate = match field(obj, "candidate")? {
                    Value::Null => None,
                    Value::Object(c) => Some(parse_candidate(c)?),
                    _ => {
                        return Err(Refusal::bad(
                            "field \"candidate\" must be an RTCIceCandidateInit object or null",
                        ))
                    }
                };
                Ok(ClientMessage::Candidate { pc, candidate })
            }
            ClientType::Leave => Ok(ClientMessage::Leave),
        }
    }
}

fn parse_candidate(c: &Map<String, Value>) -> Result<IceCandidateInit, Refusal> {
    let candidate = optional_string(c, "candidate")?.unwrap_or_default();
    let sdp_mid = optional_string(c, "sdpMid")?;
    let username_fragment = optional_string(c, "usernameFragment")?;
    let sdp_m_line_index = match c.get("sdpMLineIndex") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(
            n.as_u64()
                .and_then(|v| u16::try_from(v).ok())
                .ok_or_else(|| Refusal::bad("sdpMLineIndex must be an integer 0-65535"))?,
        ),
        Some(_) => {
            return Err(Refusal::bad(
                "candidate field \"sdpMLineIndex\" must be a number or null",
            ))
        }
    };
    if !candidate.is_empty() {
        let line = candidate.strip_prefix("candidate:").unwrap_or(&candidate);
        tern_sdp::Candidate::parse(line)
            .map_err(|e| Refusal::bad(format!("invalid ICE candidate ({e})")))?;
    }
    Ok(IceCandidateInit {
        candidate,
        sdp_mid,
        sdp_m_line_index,
        username_fragment,
    })
}

/// `{participant, name}` in `joined`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParticipantInfo {
    /// The participant id.
    pub participant: String,
    /// The display name.
    pub name: String,
}

/// `{participant, name, mid, kind, stream}` in `tracks`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackInfo {
    /// The publishing participant.
    pub participant: String,
    /// The publisher's display name.
    pub name: String,
    /// The mid in the subscribe transport.
    pub mid: String,
    /// `"audio"` or `"video"`.
    pub kind: String,
    /// The msid stream id (the publishing participant's id).
    pub stream: String,
}

/// Every message the server sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum ServerMessage {
    /// Reply to `join`.
    Joined {
        /// Echo of the join's `id`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<MessageId>,
        /// The new participant's own id.
        participant: String,
        /// The room.
        room: String,
        /// Participants already in the room.
        participants: Vec<ParticipantInfo>,
        /// ICE servers for the client (may be empty).
        #[serde(rename = "iceServers")]
        ice_servers: Vec<IceServer>,
    },
    /// Reply to a publish `offer`.
    Answer {
        /// Echo of the offer's `id`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<MessageId>,
        /// Always [`Pc::Pub`].
        pc: Pc,
        /// The answer.
        sdp: String,
    },
    /// A subscribe offer.
    Offer {
        /// Always [`Pc::Sub`].
        pc: Pc,
        /// The offer.
        sdp: String,
    },
    /// The full mid → track mapping, just before each subscribe offer.
    Tracks {
        /// Every track in the coming offer.
        tracks: Vec<TrackInfo>,
    },
    /// Another participant joined this room.
    ParticipantJoined {
        /// Its id.
        participant: String,
        /// Its display name.
        name: String,
    },
    /// Another participant left or was dropped.
    ParticipantLeft {
        /// Its id.
        participant: String,
    },
    /// An error about a client message.
    Error {
        /// The code.
        code: ErrorCode,
        /// For people.
        message: String,
        /// Echo of the failing message's `id`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<MessageId>,
    },
}

impl ServerMessage {
    /// The JSON text of the message (one WebSocket text frame).
    pub fn to_json(&self) -> String {
        // Serializing these types cannot fail: string keys, no maps with
        // non-string keys, no floats that are not finite.
        serde_json::to_string(self).unwrap_or_else(|_| {
            String::from(r#"{"type":"error","code":"internal","message":"serialization failed"}"#)
        })
    }

    /// The `type` field of the message.
    pub const fn type_name(&self) -> &'static str {
        match self {
            ServerMessage::Joined { .. } => "joined",
            ServerMessage::Answer { .. } => "answer",
            ServerMessage::Offer { .. } => "offer",
            ServerMessage::Tracks { .. } => "tracks",
            ServerMessage::ParticipantJoined { .. } => "participant-joined",
            ServerMessage::ParticipantLeft { .. } => "participant-left",
            ServerMessage::Error { .. } => "error",
        }
    }
}

pub(crate) fn truncate(s: &str, max_chars: usize) -> &str {
    match s.char_indices().nth(max_chars) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_messages_use_the_spec_field_names() {
        let m = ServerMessage::Joined {
            id: Some(MessageId::Number(1.into())),
            participant: "p7".into(),
            room: "demo".into(),
            participants: vec![ParticipantInfo {
                participant: "p3".into(),
                name: "bob".into(),
            }],
            ice_servers: vec![],
        };
        assert_eq!(
            m.to_json(),
            r#"{"type":"joined","id":1,"participant":"p7","room":"demo","participants":[{"participant":"p3","name":"bob"}],"iceServers":[]}"#
        );
        let e = ServerMessage::Error {
            code: ErrorCode::RoomFull,
            message: "full".into(),
            id: Some(MessageId::String("x".into())),
        };
        assert_eq!(
            e.to_json(),
            r#"{"type":"error","code":"room-full","message":"full","id":"x"}"#
        );
        let p = ServerMessage::ParticipantLeft {
            participant: "p3".into(),
        };
        assert_eq!(
            p.to_json(),
            r#"{"type":"participant-left","participant":"p3"}"#
        );
        for code in ErrorCode::ALL {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
    }

    #[test]
    fn room_and_name_rules() {
        assert!(is_valid_room("a"));
        assert!(is_valid_room(&"Z".repeat(64)));
        assert!(!is_valid_room(&"Z".repeat(65)));
        assert!(!is_valid_room(""));
        assert!(!is_valid_room("a b"));
        assert!(!is_valid_room("é"));
        assert!(is_valid_room("A-z_09"));
        assert!(is_valid_name("é"));
        assert!(is_valid_name(&"é".repeat(64)));
        assert!(!is_valid_name(&"é".repeat(65)));
        assert!(!is_valid_name(""));
    }
}
