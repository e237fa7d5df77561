//! Relay-baseline traffic stays off the streams the SFU sees. With one
//! sequence counter per publisher, `--repeat` found Tern forwarding
//! nothing in its second round at 10 subscribers: the relay phases in
//! between had sent over 100,000 packets on the stream, so the SFU's SRTP
//! could no longer tell the rollover counter (RFC 3711 §3.3.1) and every
//! packet failed authentication.

use super::zero_alloc_test::{push, worker_with_room};

#[test]
fn relay_phase_traffic_does_not_advance_the_streams_the_sfu_sees() {
    let (worker, mut room) = worker_with_room("streams", 1);
    assert_eq!(push(&worker, &mut room, 100), 100);

    // Relay phases' worth of video, written and protected as the sender
    // would, then dropped: more than 2^16 packets, so on one shared
    // counter the sequence number would wrap and land just past where the
    // SFU saw it last, with the rollover counter one ahead.
    let p = &mut room.publishers[0];
    let (video_seq, audio_seq) = (p.next_seq(1200, false), p.next_seq(160, false));
    let mut buf = [0u8; 2048];
    for _ in 0..70_000 {
        p.write_packet(&mut buf, 1200, true, false, 0).unwrap();
    }
    assert_eq!(p.next_seq(1200, false), video_seq);
    assert_eq!(p.next_seq(160, false), audio_seq);
    assert_eq!(p.next_seq(1200, true), (70_001 % 65_536) as u16);
    let ssrc = u32::from_be_bytes(buf[8..12].try_into().unwrap());
    assert_eq!(ssrc, p.video_ssrc + super::session::RELAY_SSRC_OFFSET);

    // The SFU's video stream continues where it was: everything is
    // forwarded (`push` fails if the SFU stops forwarding).
    assert_eq!(push(&worker, &mut room, 100), 100);
    room.remove(&worker);
}
