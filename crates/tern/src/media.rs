//! The media plane `tern serve` uses until the SFU core (crates/sfu) lands.
//!
//! [`SignalingOnlyMediaPlane`] allocates real ICE-lite credentials (tern-ice
//! [`Credentials::random`] seeded from the OS RNG), generates a real DTLS
//! certificate with tern-dtls ([`Certificate::generate`], self-signed ECDSA
//! P-256) whose SHA-256 fingerprint goes into every SDP, and announces one
//! host candidate at the configured media address and UDP port, so the SDP
//! a browser gets is complete and valid. It does **not** forward media: no
//! UDP socket is bound and no ICE/DTLS endpoint runs ([`NOT_FORWARDING`]).
//! The SFU issue replaces this type with one backed by tern-sfu (which can
//! take over the certificate); the [`MediaPlane`] calls stay the same.

use std::collections::BTreeMap;
use std::net::IpAddr;

use tern_dtls::Certificate;
use tern_ice::{Credentials, IceRng};
use tern_sdp::Setup;
use tern_signal::{
    IceCandidateInit, MediaError, MediaPlane, ParticipantTransports, Pc, PublishNegotiation,
    SubscribeNegotiation, TransportParams,
};

/// What this media plane does not do, for logs and docs.
pub const NOT_FORWARDING: &str =
    "media forwarding is not implemented yet (signaling only: no UDP socket, no ICE/DTLS/SRTP endpoint until the SFU core lands)";

/// 64 bits from the operating system's RNG.
#[derive(Debug, Default)]
pub struct OsRng;

impl IceRng for OsRng {
    fn next_u64(&mut self) -> u64 {
        // getrandom only fails when the OS has no entropy source at all;
        // the process cannot do anything safe without one.
        getrandom::u64().expect("operating system random source")
    }
}

#[derive(Debug, Default)]
struct Tracked {
    published_tracks: usize,
    subscribed_tracks: usize,
    candidates: usize,
}

/// Signaling-only media plane: credentials and SDP identity, no forwarding.
#[derive(Debug)]
pub struct SignalingOnlyMediaPlane {
    candidate: String,
    certificate: Certificate,
    fingerprint: (String, String),
    participants: BTreeMap<String, Tracked>,
}

impl SignalingOnlyMediaPlane {
    /// A media plane announcing `media_addr:media_port` as the host candidate.
    /// Generates the DTLS certificate.
    pub fn new(media_addr: IpAddr, media_port: u16) -> Result<Self, String> {
        let certificate =
            Certificate::generate().map_err(|e| format!("DTLS certificate: {e:?}"))?;
        let fp = certificate.fingerprint();
        Ok(SignalingOnlyMediaPlane {
            candidate: format!("1 1 udp 2130706431 {media_addr} {media_port} typ host"),
            fingerprint: (fp.algorithm().to_owned(), fp.to_string()),
            certificate,
            participants: BTreeMap::new(),
        })
    }

    /// The DTLS certificate announced in every SDP (for the SFU core).
    #[allow(dead_code)]
    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    /// The announced `(hash function, fingerprint)`.
    pub fn fingerprint(&self) -> &(String, String) {
        &self.fingerprint
    }

    /// Participants it holds state for (must match signaling's).
    pub fn participants(&self) -> usize {
        self.participants.len()
    }

    fn transport(&self) -> TransportParams {
        let creds = Credentials::random(&mut OsRng);
        TransportParams {
            ice_ufrag: creds.ufrag().to_owned(),
            ice_pwd: creds.pwd().to_owned(),
            fingerprints: vec![self.fingerprint.clone()],
            setup_when_actpass: Setup::Passive,
            candidates: vec![self.candidate.clone()],
        }
    }
}

impl MediaPlane for SignalingOnlyMediaPlane {
    fn create_participant(
        &mut self,
        participant: &str,
        room: &str,
    ) -> Result<ParticipantTransports, MediaError> {
        let t = ParticipantTransports {
            publish: self.transport(),
            subscribe: self.transport(),
        };
        tracing::debug!(participant, room, publish_ufrag = %t.publish.ice_ufrag,
            subscribe_ufrag = %t.subscribe.ice_ufrag, "media: transports allocated");
        self.participants
            .insert(participant.to_owned(), Tracked::default());
        Ok(t)
    }

    fn publish_changed(
        &mut self,
        participant: &str,
        publish: &PublishNegotiation<'_>,
    ) -> Result<(), MediaError> {
        let p = self
            .participants
            .get_mut(participant)
            .ok_or_else(|| MediaError::new("unknown participant"))?;
        p.published_tracks = publish.tracks.len();
        for m in publish.media {
            tracing::debug!(participant, mid = %m.mid, kind = m.kind.as_str(), ssrcs = ?m.ssrcs,
                rids = ?m.rids, pts = ?m.codecs.iter().map(|c| c.pt).collect::<Vec<_>>(),
                "media: publishing (not forwarded yet)");
        }
        Ok(())
    }

    fn subscribe_changed(&mut self, participant: &str, subscribe: &SubscribeNegotiation<'_>) {
        if let Some(p) = self.participants.get_mut(participant) {
            p.subscribed_tracks = subscribe.tracks.len();
        }
        tracing::debug!(
            participant,
            tracks = subscribe.tracks.len(),
            refused = subscribe.refused.len(),
            "media: subscription settled"
        );
    }

    fn remote_candidate(
        &mut self,
        participant: &str,
        pc: Pc,
        candidate: Option<&IceCandidateInit>,
    ) {
        if let Some(p) = self.participants.get_mut(participant) {
            p.candidates = p.candidates.saturating_add(1);
        }
        tracing::trace!(participant, pc = pc.as_str(), candidate = ?candidate.map(|c| &c.candidate),
            "media: remote candidate (ICE-lite does not need it)");
    }

    fn remove_participant(&mut self, participant: &str) {
        self.participants.remove(participant);
        tracing::debug!(participant, "media: participant freed");
    }
}
