//! The seam between signaling and the media plane.
//!
//! The signaling state machine decides *what* is negotiated; the media plane
//! (ICE-lite + DTLS + SRTP forwarding, the SFU core) owns the transports and
//! the packets. [`MediaPlane`] is every call signaling makes into it, in the
//! order a participant's life produces them:
//!
//! 1. [`MediaPlane::create_participant`] on `join`: allocate the publish and
//!    subscribe transports and return their identities (ICE-lite ufrag/pwd,
//!    DTLS fingerprints and role, host candidates) for the SDP.
//! 2. [`MediaPlane::publish_changed`] after each accepted publish offer, just
//!    before the answer is sent: the client's transport and every accepted
//!    section (SSRCs, rids, payload types, extension ids), plus the
//!    forwarded-track identity signaling assigned to each sending section.
//! 3. [`MediaPlane::subscribe_changed`] after each subscribe answer: which
//!    forwarded tracks the subscriber receives, in which mid, with its
//!    negotiated payload types and extension ids.
//! 4. [`MediaPlane::remote_candidate`] for every client candidate.
//! 5. [`MediaPlane::remove_participant`] on `leave`, socket close, or any
//!    other drop: free everything of the participant.
//!
//! Calls are synchronous and must not block: a real implementation forwards
//! them to its workers over channels.

use tern_sdp::{AcceptedMedia, MediaKind, RemoteTransport, Setup, SubscriberTrack};

use crate::msg::{IceCandidateInit, Pc};

/// The server side of one WebRTC transport, as the SDP announces it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportParams {
    /// ICE-lite username fragment (4..=256 ice-chars).
    pub ice_ufrag: String,
    /// ICE-lite password (22..=256 ice-chars).
    pub ice_pwd: String,
    /// `(hash function, colon-separated hex)` of the DTLS certificate(s).
    pub fingerprints: Vec<(String, String)>,
    /// The DTLS role taken when the peer offers `actpass` (publish
    /// transport); the subscribe transport always offers `actpass`.
    pub setup_when_actpass: Setup,
    /// Host candidates as `a=candidate` values (`1 1 udp 2130706431
    /// 127.0.0.1 40000 typ host`).
    pub candidates: Vec<String>,
}

/// Both transports of a participant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParticipantTransports {
    /// The publish transport (`pc: "pub"`).
    pub publish: TransportParams,
    /// The subscribe transport (`pc: "sub"`).
    pub subscribe: TransportParams,
}

/// A track a publisher sends, as signaling forwards it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedTrack {
    /// Stable key of the forwarded track (`"p3-t0"`); the msid track id
    /// in subscribe offers.
    pub track_id: String,
    /// The publisher's mid for the section.
    pub mid: String,
    /// Audio or video.
    pub kind: MediaKind,
    /// The SSRC the SFU uses when sending this track to subscribers.
    pub forward_ssrc: u32,
    /// The RTX SSRC the SFU uses towards subscribers (video only).
    pub forward_rtx_ssrc: Option<u32>,
}

/// What a publish offer negotiated, given to [`MediaPlane::publish_changed`].
#[derive(Debug, Clone, Copy)]
pub struct PublishNegotiation<'a> {
    /// The client's transport (ICE credentials, fingerprints, candidates).
    pub remote: &'a RemoteTransport,
    /// Our DTLS role.
    pub dtls_role: Setup,
    /// The client changed its ICE credentials.
    pub ice_restart: bool,
    /// Every accepted audio/video section: mid, kind, SSRCs, RTX SSRCs,
    /// rids, payload types (the offer's), extension ids (the offer's).
    pub media: &'a [AcceptedMedia],
    /// The sections the client sends on, as forwarded tracks (full set:
    /// a track absent here is no longer published).
    pub tracks: &'a [PublishedTrack],
}

/// One track a subscriber receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscribedTrack {
    /// The publishing participant.
    pub publisher: String,
    /// The publisher's mid for the source section.
    pub publisher_mid: String,
    /// The section in the subscribe transport: mid, SSRCs the SFU sends,
    /// the subscriber's accepted payload types and extension ids.
    pub track: SubscriberTrack,
}

/// What a subscribe answer settled, given to [`MediaPlane::subscribe_changed`].
#[derive(Debug, Clone, Copy)]
pub struct SubscribeNegotiation<'a> {
    /// The subscriber's transport.
    pub remote: &'a RemoteTransport,
    /// Our DTLS role.
    pub dtls_role: Setup,
    /// The subscriber changed its ICE credentials.
    pub ice_restart: bool,
    /// Every track the subscriber now receives (full set).
    pub tracks: &'a [SubscribedTrack],
    /// Track ids the subscriber rejected or made inactive.
    pub refused: &'a [String],
}

/// A media-plane failure (reported to the client as `internal`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaError {
    /// Why, for logs and the error message.
    pub reason: String,
}

impl MediaError {
    /// An error with a reason.
    pub fn new(reason: impl Into<String>) -> Self {
        MediaError {
            reason: reason.into(),
        }
    }
}

impl core::fmt::Display for MediaError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.reason)
    }
}

/// The calls signaling makes into the media plane. See the module docs for
/// the order. Participant ids are the server-chosen signaling ids.
pub trait MediaPlane {
    /// A participant joined `room`: create its two transports.
    fn create_participant(
        &mut self,
        participant: &str,
        room: &str,
    ) -> Result<ParticipantTransports, MediaError>;

    /// A publish offer was accepted; the answer goes out after this returns
    /// `Ok`. On `Err` the offer is refused with `internal` and nothing changes.
    fn publish_changed(
        &mut self,
        participant: &str,
        publish: &PublishNegotiation<'_>,
    ) -> Result<(), MediaError>;

    /// A subscribe answer was applied.
    fn subscribe_changed(&mut self, participant: &str, subscribe: &SubscribeNegotiation<'_>);

    /// A client candidate for one of the participant's transports; `None`
    /// is end-of-candidates. ICE-lite does not depend on them.
    fn remote_candidate(&mut self, participant: &str, pc: Pc, candidate: Option<&IceCandidateInit>);

    /// The participant is gone: free everything it had.
    fn remove_participant(&mut self, participant: &str);
}

/// One recorded call to [`RecordingMediaPlane`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaCall {
    /// [`MediaPlane::create_participant`].
    Create {
        /// Participant id.
        participant: String,
        /// Room.
        room: String,
    },
    /// [`MediaPlane::publish_changed`].
    Publish {
        /// Participant id.
        participant: String,
        /// The client's ICE ufrag.
        remote_ufrag: String,
        /// Accepted sections.
        media: Vec<AcceptedMedia>,
        /// Forwarded tracks.
        tracks: Vec<PublishedTrack>,
    },
    /// [`MediaPlane::subscribe_changed`].
    Subscribe {
        /// Participant id.
        participant: String,
        /// Received tracks.
        tracks: Vec<SubscribedTrack>,
        /// Refused track ids.
        refused: Vec<String>,
    },
    /// [`MediaPlane::remote_candidate`].
    Candidate {
        /// Participant id.
        participant: String,
        /// Which transport.
        pc: Pc,
        /// The candidate.
        candidate: Option<IceCandidateInit>,
    },
    /// [`MediaPlane::remove_participant`].
    Remove {
        /// Participant id.
        participant: String,
    },
}

/// A media plane for tests: deterministic transport identities, every call
/// recorded in [`Self::calls`] (bounded: the oldest are dropped past
/// [`Self::MAX_CALLS`]), live participants tracked, failures injectable.
#[derive(Debug, Default)]
pub struct RecordingMediaPlane {
    /// The calls, oldest first.
    pub calls: Vec<MediaCall>,
    /// Participants created and not yet removed.
    pub live: std::collections::BTreeSet<String>,
    /// Make the next `create_participant` calls fail.
    pub fail_create: bool,
    /// Make the next `publish_changed` calls fail.
    pub fail_publish: bool,
    /// Make `create_participant` return credentials the SDP layer rejects.
    pub invalid_credentials: bool,
    created: u64,
}

impl RecordingMediaPlane {
    /// At most this many calls are kept.
    pub const MAX_CALLS: usize = 4096;

    /// An empty recorder.
    pub fn new() -> Self {
        Self::default()
    }

    fn record(&mut self, call: MediaCall) {
        if self.calls.len() >= Self::MAX_CALLS {
            self.calls.drain(..Self::MAX_CALLS / 2);
        }
        self.calls.push(call);
    }

    /// A deterministic transport identity.
    pub fn transport(n: u64, which: &str) -> TransportParams {
        TransportParams {
            ice_ufrag: format!("{which}{n:04}"),
            ice_pwd: format!("{which}password{n:016}"),
            fingerprints: vec![(
                "sha-256".to_owned(),
                (0..32)
                    .map(|i| format!("{:02X}", (i as u64 * 7 + n) & 0xff))
                    .collect::<Vec<_>>()
                    .join(":"),
            )],
            setup_when_actpass: Setup::Passive,
            candidates: vec!["1 1 udp 2130706431 127.0.0.1 40000 typ host".to_owned()],
        }
    }
}

impl MediaPlane for RecordingMediaPlane {
    fn create_participant(
        &mut self,
        participant: &str,
        room: &str,
    ) -> Result<ParticipantTransports, MediaError> {
        self.record(MediaCall::Create {
            participant: participant.to_owned(),
            room: room.to_owned(),
        });
        if self.fail_create {
            return Err(MediaError::new("injected create failure"));
        }
        self.created += 1;
        self.live.insert(participant.to_owned());
        let mut t = ParticipantTransports {
            publish: Self::transport(self.created, "pub"),
            subscribe: Self::transport(self.created, "sub"),
        };
        if self.invalid_credentials {
            t.publish.ice_pwd = "short".to_owned();
        }
        Ok(t)
    }

    fn publish_changed(
        &mut self,
        participant: &str,
        publish: &PublishNegotiation<'_>,
    ) -> Result<(), MediaError> {
        self.record(MediaCall::Publish {
            participant: participant.to_owned(),
            remote_ufrag: publish.remote.ice_ufrag.clone(),
            media: publish.media.to_vec(),
            tracks: publish.tracks.to_vec(),
        });
        if self.fail_publish {
            return Err(MediaError::new("injected publish failure"));
        }
        Ok(())
    }

    fn subscribe_changed(&mut self, participant: &str, subscribe: &SubscribeNegotiation<'_>) {
        self.record(MediaCall::Subscribe {
            participant: participant.to_owned(),
            tracks: subscribe.tracks.to_vec(),
            refused: subscribe.refused.to_vec(),
        });
    }

    fn remote_candidate(
        &mut self,
        participant: &str,
        pc: Pc,
        candidate: Option<&IceCandidateInit>,
    ) {
        self.record(MediaCall::Candidate {
            participant: participant.to_owned(),
            pc,
            candidate: candidate.cloned(),
        });
    }

    fn remove_participant(&mut self, participant: &str) {
        self.live.remove(participant);
        self.record(MediaCall::Remove {
            participant: participant.to_owned(),
        });
    }
}
