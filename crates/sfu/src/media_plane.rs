//! [`tern_signal::MediaPlane`] for the SFU core: signaling's calls create
//! transports and update the routing table.
//!
//! The trait's calls carry no time: they use the latest `now` the SFU was
//! given ([`Sfu::set_now`], `handle_receive`, `handle_timeout`).

use tern_sdp::Setup;
use tern_signal::{
    IceCandidateInit, MediaError, MediaPlane, ParticipantTransports, Pc, PublishNegotiation,
    SubscribeNegotiation, TransportParams,
};

use crate::sfu::{Dir, Sfu};

impl Sfu {
    fn params(&self, ufrag: &str, pwd: &str) -> TransportParams {
        let fp = self.config().certificate.fingerprint();
        let addr = self.config().media_addr;
        TransportParams {
            ice_ufrag: ufrag.to_owned(),
            ice_pwd: pwd.to_owned(),
            fingerprints: vec![(fp.algorithm().to_owned(), fp.to_string())],
            // The SFU is the DTLS server whenever it may choose.
            setup_when_actpass: Setup::Passive,
            candidates: vec![format!(
                "1 1 udp 2130706431 {} {} typ host",
                addr.ip(),
                addr.port()
            )],
        }
    }
}

impl MediaPlane for Sfu {
    fn create_participant(
        &mut self,
        participant: &str,
        room: &str,
    ) -> Result<ParticipantTransports, MediaError> {
        let (p, s) = self
            .add_participant(participant, room)
            .map_err(MediaError::new)?;
        Ok(ParticipantTransports {
            publish: self.params(p.ufrag(), p.pwd()),
            subscribe: self.params(s.ufrag(), s.pwd()),
        })
    }

    fn publish_changed(
        &mut self,
        participant: &str,
        publish: &PublishNegotiation<'_>,
    ) -> Result<(), MediaError> {
        self.set_remote(
            participant,
            Dir::Publish,
            &publish.remote.ice_ufrag,
            &publish.remote.ice_pwd,
            &publish.remote.fingerprints,
            publish.dtls_role,
        )
        .map_err(MediaError::new)?;
        self.set_published(participant, publish.media, publish.tracks)
            .map_err(MediaError::new)
    }

    fn subscribe_changed(&mut self, participant: &str, subscribe: &SubscribeNegotiation<'_>) {
        // Errors here have no channel back to signaling (the trait returns
        // nothing); a transport that cannot be set up simply never connects.
        let _ = self.set_remote(
            participant,
            Dir::Subscribe,
            &subscribe.remote.ice_ufrag,
            &subscribe.remote.ice_pwd,
            &subscribe.remote.fingerprints,
            subscribe.dtls_role,
        );
        let _ = self.set_subscribed(participant, subscribe.tracks);
    }

    fn remote_candidate(
        &mut self,
        _participant: &str,
        _pc: Pc,
        _candidate: Option<&IceCandidateInit>,
    ) {
        // ICE-lite learns the peer's address from its authenticated checks
        // (RFC 8445 §2.5); candidates are not needed.
    }

    fn remove_participant(&mut self, participant: &str) {
        Sfu::remove_participant(self, participant);
    }
}
