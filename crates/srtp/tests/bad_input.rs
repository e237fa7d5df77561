//! Bad input: packets shorter than header plus tag, every truncation of a
//! valid packet, bad tags (each bit), wrong versions, unknown SSRCs, too
//! many SSRCs, and caller misuse. Errors, never panics, and no state is
//! created by a packet that fails.

mod common;
use common::{pair, protected, rtcp, rtp};
use tern_srtp::{Config, Context, Error, MasterKey, Profile, Ssrc};

const SSRC: u32 = 0xdead_beef;

#[test]
fn every_truncation_of_srtp_is_an_error() {
    for p in Profile::ALL {
        let (mut tx, _) = pair(p);
        let pkt = protected(&mut tx, SSRC, 1, 40);
        for n in 0..pkt.len() {
            let (_, mut rx) = pair(p);
            let mut b = pkt[..n].to_vec();
            assert!(rx.unprotect_rtp(&mut b).is_err(), "{p:?} len {n}");
            assert_eq!(rx.stream_count(), 0);
        }
    }
}

#[test]
fn every_truncation_of_srtcp_is_an_error() {
    for p in Profile::ALL {
        let (mut tx, _) = pair(p);
        let mut pkt = vec![0u8; 128];
        let n = rtcp(&mut pkt, SSRC, 20);
        let m = tx.protect_rtcp(&mut pkt, n).unwrap();
        for k in 0..m {
            let (_, mut rx) = pair(p);
            let mut b = pkt[..k].to_vec();
            assert!(rx.unprotect_rtcp(&mut b).is_err(), "{p:?} len {k}");
        }
    }
}

#[test]
fn short_packets_are_malformed() {
    for p in Profile::ALL {
        let (_, mut rx) = pair(p);
        let mut b = vec![0x80u8; 12 + p.rtp_tag_len() - 1];
        assert!(matches!(rx.unprotect_rtp(&mut b), Err(Error::Malformed(_))));
        let mut b = vec![0x80u8; 8 + p.rtcp_overhead() - 1];
        assert!(matches!(
            rx.unprotect_rtcp(&mut b),
            Err(Error::Malformed(_))
        ));
        let mut empty: [u8; 0] = [];
        assert!(rx.unprotect_rtp(&mut empty).is_err());
        assert!(rx.unprotect_rtcp(&mut empty).is_err());
    }
}

#[test]
fn every_flipped_bit_fails_authentication() {
    for p in Profile::ALL {
        let (mut tx, _) = pair(p);
        let pkt = protected(&mut tx, SSRC, 9, 24);
        for bit in 0..pkt.len() * 8 {
            let (_, mut rx) = pair(p);
            let mut b = pkt.clone();
            b[bit / 8] ^= 1 << (bit % 8);
            let r = rx.unprotect_rtp(&mut b);
            assert!(r.is_err(), "{p:?} bit {bit}");
            assert_eq!(rx.stream_count(), 0);
        }
        let mut b = vec![0u8; 96];
        let n = rtcp(&mut b, SSRC, 16);
        let m = tx.protect_rtcp(&mut b, n).unwrap();
        for bit in 0..m * 8 {
            let (_, mut rx) = pair(p);
            let mut c = b[..m].to_vec();
            c[bit / 8] ^= 1 << (bit % 8);
            assert!(rx.unprotect_rtcp(&mut c).is_err(), "{p:?} rtcp bit {bit}");
        }
    }
}

#[test]
fn wrong_key_fails_authentication() {
    for p in Profile::ALL {
        let (mut tx, _) = pair(p);
        let pkt = protected(&mut tx, SSRC, 9, 24);
        let other = MasterKey::new(
            p,
            &[9u8; 32][..p.master_key_len()],
            &[9u8; 14][..p.master_salt_len()],
        )
        .unwrap();
        let mut rx = Context::new(&other).unwrap();
        let mut b = pkt.clone();
        assert_eq!(rx.unprotect_rtp(&mut b), Err(Error::AuthFailed));
    }
}

#[test]
fn unknown_ssrc_is_rejected_when_ssrcs_are_listed() {
    for p in Profile::ALL {
        let (mut tx, _) = pair(p);
        let key = MasterKey::new(
            p,
            &[0x42u8; 32][..p.master_key_len()],
            &[0x24u8; 14][..p.master_salt_len()],
        )
        .unwrap();
        let mut rx = Context::with_config(
            &key,
            Config {
                accept_new_ssrcs: false,
                ..Config::default()
            },
        )
        .unwrap();
        let pkt = protected(&mut tx, SSRC, 1, 10);
        let mut b = pkt.clone();
        assert_eq!(rx.unprotect_rtp(&mut b), Err(Error::UnknownSsrc));
        let mut r = vec![0u8; 64];
        let n = rtcp(&mut r, SSRC, 8);
        let m = tx.protect_rtcp(&mut r, n).unwrap();
        assert_eq!(rx.unprotect_rtcp(&mut r[..m]), Err(Error::UnknownSsrc));
        rx.add_ssrc(Ssrc(SSRC)).unwrap();
        let mut b = pkt.clone();
        assert_eq!(rx.unprotect_rtp(&mut b), Ok(22));
    }
}

#[test]
fn per_ssrc_state_is_bounded() {
    let p = Profile::AeadAes128Gcm;
    let key = MasterKey::new(p, &[0x42u8; 16], &[0x24u8; 12]).unwrap();
    let cfg = Config {
        max_streams: 8,
        ..Config::default()
    };
    let mut tx = Context::with_config(
        &key,
        Config {
            max_streams: 100,
            ..Config::default()
        },
    )
    .unwrap();
    let mut rx = Context::with_config(&key, cfg).unwrap();
    for ssrc in 0..8u32 {
        let mut b = protected(&mut tx, ssrc, 1, 10);
        assert!(rx.unprotect_rtp(&mut b).is_ok());
    }
    let mut b = protected(&mut tx, 99, 1, 10);
    assert_eq!(rx.unprotect_rtp(&mut b), Err(Error::TooManyStreams));
    assert_eq!(rx.stream_count(), 8);
    rx.remove_ssrc(Ssrc(0));
    let mut b = protected(&mut tx, 99, 2, 10);
    assert!(rx.unprotect_rtp(&mut b).is_ok());
}

#[test]
fn caller_misuse_is_reported() {
    for p in Profile::ALL {
        let (mut tx, _) = pair(p);
        // No room for the tag.
        let mut b = vec![0u8; 40];
        let n = rtp(&mut b, SSRC, 1, 28);
        assert_eq!(tx.protect_rtp(&mut b, n), Err(Error::BufferTooSmall));
        // len past the buffer.
        assert!(matches!(
            tx.protect_rtp(&mut b, 41),
            Err(Error::ApiMisuse(_))
        ));
        // Not RTP.
        let mut b = vec![0u8; 64];
        assert!(matches!(
            tx.protect_rtp(&mut b, 20),
            Err(Error::ApiMisuse(_))
        ));
        assert!(matches!(
            tx.protect_rtcp(&mut b, 4),
            Err(Error::ApiMisuse(_))
        ));
        let mut b = vec![0u8; 30];
        let n = rtcp(&mut b, SSRC, 16);
        assert_eq!(tx.protect_rtcp(&mut b, n), Err(Error::BufferTooSmall));
    }
    assert!(MasterKey::new(Profile::AeadAes128Gcm, &[0; 16], &[0; 14]).is_err());
    assert!(MasterKey::new(Profile::AeadAes256Gcm, &[0; 16], &[0; 12]).is_err());
}

#[test]
fn rtp_with_csrcs_extension_and_padding_round_trips() {
    use tern_rtp::ext::Extension;
    use tern_rtp::{Pt, RtpBuilder};
    for p in Profile::ALL {
        let (mut tx, mut rx) = pair(p);
        let exts = [
            Extension {
                id: 3,
                value: &[1, 2],
            },
            Extension {
                id: 5,
                value: &[9; 5],
            },
        ];
        let csrcs = [Ssrc(1), Ssrc(2)];
        let mut buf = [0u8; 300];
        let n = RtpBuilder::new(Pt::new(111).unwrap(), 65535, 77, Ssrc(SSRC))
            .csrcs(&csrcs)
            .extensions(&exts)
            .payload(&[7u8; 33])
            .padding(3)
            .write(&mut buf)
            .unwrap();
        let plain = buf[..n].to_vec();
        let m = tx.protect_rtp(&mut buf, n).unwrap();
        // Header (with CSRCs and extensions) stays in the clear.
        let hdr = tern_rtp::RtpPacket::new_checked(&plain[..])
            .unwrap()
            .header_len();
        assert_eq!(&buf[..hdr], &plain[..hdr]);
        assert_ne!(&buf[hdr..n], &plain[hdr..n]);
        let k = rx.unprotect_rtp(&mut buf[..m]).unwrap();
        assert_eq!(&buf[..k], &plain[..]);
    }
}

#[test]
fn extension_length_past_the_end_is_malformed() {
    for p in Profile::ALL {
        let (_, mut rx) = pair(p);
        let mut b = vec![0u8; 12 + 4 + p.rtp_tag_len()];
        b[0] = 0x90; // X bit
        b[14] = 0xff; // extension length 0xffxx words
        assert!(matches!(rx.unprotect_rtp(&mut b), Err(Error::Malformed(_))));
        let mut b = vec![0u8; 12 + p.rtp_tag_len()];
        b[0] = 0x8f; // 15 CSRCs
        assert!(matches!(rx.unprotect_rtp(&mut b), Err(Error::Malformed(_))));
        b[0] = 0x40; // version 1
        assert!(matches!(rx.unprotect_rtp(&mut b), Err(Error::Malformed(_))));
    }
}
