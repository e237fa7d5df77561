//! Fuzz target bodies (feature `fuzzing`). The files under `fuzz/` call
//! these; ordinary builds type-check them and `cargo test --all-features`
//! runs them over the committed seeds. Every `assert!` here is a property
//! the parsers and builders promise; a failure is a bug.

use crate::ext::{
    self, AbsSendTime, AudioLevel, ExtensionForm, ExtensionIter, ExtensionValue, ExtensionWriter,
    Mid, RepairedRid, Rid, TransportSeq, VideoOrientation,
};
use crate::rtcp::roundtrip::{rebuild, twcc_header};
use crate::rtcp::twcc::{Status, TwccBuilder};
use crate::rtcp::{self, CompoundIter, RtcpPacket, RtcpWrite, Twcc};
use crate::{Pt, RtpPacket, Ssrc};
use std::fmt::Write as _;
use std::string::String;
use std::vec::Vec;

/// Parse an RTP packet, read every field, rewrite in place and re-parse;
/// compare with webrtc-rs `rtp` where it also accepts the bytes; rebuild
/// through the builder.
pub fn rtp_parse(data: &[u8]) {
    let _ = crate::classify(data);
    let Ok(p) = RtpPacket::new_checked(data) else {
        return;
    };
    let _ = describe_rtp(&p);
    differential_webrtc_rs(data, &p);

    // Rewrite in place; read back; nothing else changed.
    let mut buf = data.to_vec();
    let new_ssrc = Ssrc(!p.ssrc().0);
    let new_seq = p.sequence_number().wrapping_add(0x8001);
    let new_ts = p.timestamp() ^ 0xa5a5_5a5a;
    let new_pt = Pt::new((p.payload_type().get() + 1) & 0x7f).unwrap_or_default();
    let first_ext = p.extensions().next().map(|e| (e.id, e.value.len()));
    let mut q = RtpPacket::new_checked(&mut buf[..]).expect("a valid packet re-parses");
    q.set_ssrc(new_ssrc);
    q.set_sequence_number(new_seq);
    q.set_timestamp(new_ts);
    q.set_payload_type(new_pt);
    let mut ext_range = 0..0;
    if let Some((id, len)) = first_ext {
        let val: Vec<u8> = (0..len).map(|i| i as u8 ^ 0x3c).collect();
        q.set_extension(id, &val)
            .expect("same-length rewrite succeeds");
        let v = q.extension_mut(id).expect("still there");
        assert_eq!(v, &val[..]);
        let start = v.as_ptr() as usize - buf.as_ptr() as usize;
        ext_range = start..start + len;
    }
    let r = RtpPacket::new_checked(&buf[..]).expect("a rewritten packet re-parses");
    assert_eq!(r.ssrc(), new_ssrc);
    assert_eq!(r.sequence_number(), new_seq);
    assert_eq!(r.timestamp(), new_ts);
    assert_eq!(r.payload_type(), new_pt);
    assert_eq!(r.marker(), p.marker());
    assert_eq!(r.payload(), p.payload());
    assert_eq!(r.header_len(), p.header_len());
    for (i, (a, b)) in data.iter().zip(buf.iter()).enumerate() {
        if !(1..12).contains(&i) && !ext_range.contains(&i) {
            assert_eq!(a, b, "byte {i} changed by a rewrite");
        }
    }

    // Remap every id to itself: no change at all.
    let mut same = data.to_vec();
    let mut s = RtpPacket::new_checked(&mut same[..]).expect("re-parses");
    s.remap_extension_ids(Some)
        .expect("identity remap is valid");
    assert_eq!(&same[..], data);

    // Rebuild: same bytes, except the filler of the padding (zeroed).
    let b = p.to_builder();
    let mut out = vec![0u8; b.buffer_len()];
    let n = b.write(&mut out).expect("a parsed packet rebuilds");
    assert_eq!(n, data.len());
    let fill = data.len() - p.padding_len()..data.len().saturating_sub(1);
    for (i, (a, b)) in data.iter().zip(out.iter()).enumerate() {
        if !fill.contains(&i) {
            assert_eq!(a, b, "rebuilt byte {i} differs");
        }
    }
}

fn describe_rtp<T: AsRef<[u8]>>(p: &RtpPacket<T>) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "{} {} {} {} {} {} {} {} {:?} {:?} {} {}",
        p.version(),
        p.has_padding(),
        p.has_extension(),
        p.marker(),
        p.payload_type(),
        p.sequence_number(),
        p.timestamp(),
        p.ssrc(),
        p.csrcs().collect::<Vec<_>>(),
        p.extension_profile(),
        p.payload().len(),
        p.padding_len()
    );
    for e in p.extensions() {
        let _ = write!(s, " {}:{:?}", e.id, e.value);
        assert!(p.extension(e.id).is_some());
        typed_values(e.value);
    }
    s
}

fn differential_webrtc_rs<T: AsRef<[u8]>>(data: &[u8], p: &RtpPacket<T>) {
    use webrtc_util::Unmarshal;
    let mut rd = data;
    let Ok(w) = webrtc_rtp::packet::Packet::unmarshal(&mut rd) else {
        return;
    };
    let h = &w.header;
    assert_eq!(h.version, p.version());
    assert_eq!(h.padding, p.has_padding());
    assert_eq!(h.extension, p.has_extension());
    assert_eq!(h.marker, p.marker());
    assert_eq!(h.payload_type, p.payload_type().get());
    assert_eq!(h.sequence_number, p.sequence_number());
    assert_eq!(h.timestamp, p.timestamp());
    assert_eq!(h.ssrc, p.ssrc().0);
    assert_eq!(h.csrc, p.csrcs().map(|c| c.0).collect::<Vec<_>>());
    let form = p.extension_form();
    if p.has_extension() {
        assert_eq!(h.extension_profile, p.extension_profile().unwrap_or(0));
    }
    // Known difference: webrtc-rs reads only profile 0x1000 as the
    // two-byte form; 0x1001..=0x100F (non-zero appbits) it returns as one
    // opaque extension. Tern follows RFC 8285 §4.3.
    let appbits = matches!(form, Some(ExtensionForm::TwoByte { appbits }) if appbits != 0);
    if matches!(form, Some(ExtensionForm::Other(_))) || appbits {
        if !appbits {
            assert_eq!(h.extensions.len(), 1);
            assert_eq!(&h.extensions[0].payload[..], p.extension_data());
        }
    } else {
        let theirs: Vec<(u8, &[u8])> = h
            .extensions
            .iter()
            .map(|e| (e.id, &e.payload[..]))
            .collect();
        let ours: Vec<(u8, &[u8])> = p.extensions().map(|e| (e.id, e.value)).collect();
        assert_eq!(theirs, ours, "extensions differ from webrtc-rs");
    }
    // Known difference: after a one-byte id 15, webrtc-rs leaves the rest
    // of the extension block in the payload.
    let stops = form.is_some_and(|f| ext::stops_early(f, p.extension_data()));
    if !stops {
        assert_eq!(
            &w.payload[..],
            p.payload(),
            "payload differs from webrtc-rs"
        );
    }
}

/// Every typed extension parser on `v`; what parses writes back to a value
/// that parses the same (bits a parser ignores, like the upper nibble of
/// video orientation, are written as zero).
fn typed_values(v: &[u8]) {
    macro_rules! check {
        ($t:ty) => {
            if let Ok(x) = <$t>::parse(v) {
                let mut out = [0u8; 256];
                let n = x.write(&mut out).expect("a parsed value writes");
                assert_eq!(n, v.len(), "{} changes length", <$t>::URI);
                assert_eq!(
                    <$t>::parse(&out[..n]),
                    Ok(x),
                    "{} does not round-trip",
                    <$t>::URI
                );
            }
        };
    }
    check!(AbsSendTime);
    check!(TransportSeq);
    check!(AudioLevel);
    check!(VideoOrientation);
    check!(Mid<'_>);
    check!(Rid<'_>);
    check!(RepairedRid<'_>);
}

/// Header extension blocks: the first byte picks the form, the rest is the
/// block body. Valid blocks rewrite through the writer to the same
/// elements, and agree with a whole-packet parse.
pub fn rtp_header_ext(data: &[u8]) {
    let Some((&sel, body)) = data.split_first() else {
        return;
    };
    let form = match sel & 3 {
        0 => ExtensionForm::OneByte,
        1 => ExtensionForm::TwoByte { appbits: sel >> 4 },
        _ => ExtensionForm::Other(u16::from(sel)),
    };
    let body = &body[..body.len() / 4 * 4];
    let valid = ext::validate(form, body).is_ok();
    assert_eq!(
        ext::validate_by_walking(form, body),
        ext::validate(form, body),
        "fast validation disagrees"
    );
    let elems: Vec<_> = ExtensionIter::new(form, body).collect();

    // The same block inside a packet is accepted exactly when valid.
    let b =
        crate::RtpBuilder::new(Pt::default(), 1, 2, Ssrc(3)).raw_extension(form.profile(), body);
    let mut pkt = vec![0u8; b.buffer_len()];
    if let Ok(n) = b.write(&mut pkt) {
        let parsed = RtpPacket::new_checked(&pkt[..n]);
        assert_eq!(parsed.is_ok(), valid);
        if let Ok(p) = parsed {
            assert_eq!(p.extensions().collect::<Vec<_>>(), elems);
            // Lookup by id finds the first element with that id.
            for e in &elems {
                let first = elems.iter().find(|x| x.id == e.id).map(|x| x.value);
                assert_eq!(p.extension(e.id), first);
            }
        }
    }
    if !valid || matches!(form, ExtensionForm::Other(_)) {
        return;
    }
    for e in &elems {
        typed_values(e.value);
    }
    // Write the elements again and read them back.
    let mut out = vec![0u8; 4 + body.len() * 2 + 4];
    let mut w = ExtensionWriter::new(&mut out, form).expect("room");
    for e in &elems {
        w.push(e.id, e.value)
            .expect("a parsed element fits its form");
    }
    let n = w.finish();
    assert_eq!(u16::from_be_bytes([out[0], out[1]]), form.profile());
    let again: Vec<_> = ExtensionIter::new(form, &out[4..n]).collect();
    assert_eq!(again, elems);
    // Remap: drop odd ids; the even ones stay in order.
    let mut copy = body.to_vec();
    ext::remap_ids(form, &mut copy, |id| (id % 2 == 0).then_some(id)).expect("same ids are valid");
    let kept: Vec<_> = ExtensionIter::new(form, &copy).collect();
    let want: Vec<_> = elems.iter().copied().filter(|e| e.id % 2 == 0).collect();
    assert_eq!(kept, want);
}

/// A text digest of every accessor of a view (padding and reserved fields
/// excluded), for semantic comparison.
fn describe(p: &RtcpPacket<'_>) -> String {
    let mut s = String::new();
    let _ = match p {
        RtcpPacket::SenderReport(x) => write!(
            s,
            "SR {} {:?} {:?} {:?}",
            x.ssrc(),
            x.sender_info(),
            x.report_blocks().collect::<Vec<_>>(),
            x.profile_ext()
        ),
        RtcpPacket::ReceiverReport(x) => write!(
            s,
            "RR {} {:?} {:?}",
            x.ssrc(),
            x.report_blocks().collect::<Vec<_>>(),
            x.profile_ext()
        ),
        RtcpPacket::Sdes(x) => {
            let mut r = write!(s, "SDES");
            for c in x.chunks() {
                r = write!(
                    s,
                    " {} {:?} {:?}",
                    c.ssrc,
                    c.cname(),
                    c.items().collect::<Vec<_>>()
                );
            }
            r
        }
        RtcpPacket::Bye(x) => write!(
            s,
            "BYE {:?} {:?}",
            x.ssrcs().collect::<Vec<_>>(),
            x.reason()
        ),
        RtcpPacket::App(x) => write!(
            s,
            "APP {} {} {:?} {:?}",
            x.subtype(),
            x.ssrc(),
            x.name(),
            x.data()
        ),
        RtcpPacket::Xr(x) => {
            let mut r = write!(s, "XR {}", x.ssrc());
            for b in x.blocks() {
                r = write!(s, " {:?} {:?}", b, b.dlrr_items().collect::<Vec<_>>());
            }
            r
        }
        RtcpPacket::Nack(x) => write!(
            s,
            "NACK {} {} {:?} {:?}",
            x.sender_ssrc(),
            x.media_ssrc(),
            x.pairs().collect::<Vec<_>>(),
            x.lost().collect::<Vec<_>>()
        ),
        RtcpPacket::Pli(x) => write!(s, "PLI {} {}", x.sender_ssrc(), x.media_ssrc()),
        // FIR and REMB builders write media SSRC 0 as their specs say.
        RtcpPacket::Fir(x) => write!(
            s,
            "FIR {} {:?}",
            x.sender_ssrc(),
            x.entries().collect::<Vec<_>>()
        ),
        RtcpPacket::Remb(x) => write!(
            s,
            "REMB {} {:?} {} {:?}",
            x.sender_ssrc(),
            x.bitrate(),
            x.bps(),
            x.ssrcs().collect::<Vec<_>>()
        ),
        RtcpPacket::Twcc(x) => write!(s, "{:?}", describe_twcc(x)),
        RtcpPacket::Feedback(x) => write!(
            s,
            "FB {} {} {} {} {:?}",
            x.packet_type(),
            x.fmt(),
            x.sender_ssrc(),
            x.media_ssrc(),
            x.fci()
        ),
        RtcpPacket::Unknown(b) => write!(s, "? {:?}", b),
    };
    s
}

/// Every TWCC field and status, for comparison (a `Vec`, not a string: a
/// feedback can report 65535 packets).
type TwccDigest = ((Ssrc, Ssrc, u16, u16, i32, u8), Vec<(u16, Status)>);

fn describe_twcc(x: &Twcc<&[u8]>) -> TwccDigest {
    (
        (
            x.sender_ssrc(),
            x.media_ssrc(),
            x.base_seq(),
            x.status_count(),
            x.reference_time(),
            x.fb_count(),
        ),
        x.statuses().collect(),
    )
}

/// Walk a compound packet; read every view; rebuild each valid packet and
/// check the rebuilt bytes parse to the same values (and, for types with
/// no reserved or filler bits and no padding, are the same bytes).
pub fn rtcp_compound(data: &[u8]) {
    let _ = rtcp::check_compound(data);
    for p in CompoundIter::new(data) {
        let Ok(p) = p else { continue };
        let d = describe(&p);
        let Some(r) = rebuild(&p) else { continue };
        let padded = p.as_bytes().first().is_some_and(|b| b & 0x20 != 0);
        let out = match r {
            Ok(out) => out,
            // A padding count that is not a multiple of 4 can leave a body
            // no builder writes (e.g. an FCI of 3 bytes).
            Err(e) => {
                assert!(padded, "builder rejects a parsed packet: {e}");
                continue;
            }
        };
        let q = RtcpPacket::parse(&out).expect("rebuilt packet parses");
        assert_eq!(describe(&q), d, "rebuilt packet reads differently");
        let again = rebuild(&q).expect("same type").expect("rebuilds");
        assert_eq!(again, out, "rebuild is not a fixed point");
        let exact = matches!(
            p,
            RtcpPacket::SenderReport(_)
                | RtcpPacket::ReceiverReport(_)
                | RtcpPacket::App(_)
                | RtcpPacket::Nack(_)
                | RtcpPacket::Pli(_)
                | RtcpPacket::Feedback(_)
        );
        if exact && !padded {
            assert_eq!(&out[..], p.as_bytes(), "re-serialised bytes differ");
        }
    }
}

/// TWCC feedback: `data` is the body after the common header (base seq
/// onwards), wrapped into a packet. Valid packets rebuild from their chunks
/// and deltas, and their statuses survive the encoder.
pub fn rtcp_twcc(data: &[u8]) {
    // Also try the bytes as a whole packet.
    let _ = Twcc::new_checked(data).map(|t| t.statuses().count());
    let body = &data[..data.len().min(4096) / 4 * 4];
    let mut pkt = vec![0x8f, 205, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2];
    pkt.extend_from_slice(body);
    let words = (pkt.len() / 4 - 1) as u16;
    pkt[2..4].copy_from_slice(&words.to_be_bytes());
    let Ok(t) = Twcc::new_checked(&pkt[..]) else {
        return;
    };
    let statuses: Vec<(u16, Status)> = t.statuses().collect();
    assert_eq!(statuses.len(), usize::from(t.status_count()));
    let d = describe_twcc(&t);

    // Raw rebuild: same chunks and deltas; same bytes up to the deltas.
    let Some(Ok(out)) = rebuild(&RtcpPacket::Twcc(t)) else {
        panic!("a parsed TWCC rebuilds");
    };
    let q = Twcc::new_checked(&out[..]).expect("rebuilt TWCC parses");
    assert_eq!(describe_twcc(&q), d);
    let used = pkt.len() - t.padding_len();
    assert_eq!(&out[4..used], &pkt[4..used]);

    // Encoder: its own chunk choice, same statuses.
    let only: Vec<Status> = statuses.iter().map(|s| s.1).collect();
    let b = TwccBuilder {
        header: twcc_header(&t),
        statuses: &only,
    };
    let mut enc = vec![0u8; b.buffer_len()];
    let n = b.write(&mut enc).expect("statuses encode");
    let e = Twcc::new_checked(&enc[..n]).expect("encoded TWCC parses");
    assert_eq!(describe_twcc(&e), d, "encoder changed the statuses");
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    fn run_seeds(target: &str, f: fn(&[u8])) {
        for seed in tern_testkit::fuzz_seeds(target) {
            f(&seed);
        }
    }

    /// Regenerates the committed seeds from the unit-test vectors:
    /// `cargo test -p tern-rtp --all-features -- --ignored write_fuzz_seeds`.
    #[test]
    #[ignore]
    fn write_fuzz_seeds() {
        use crate::rtcp::tests as c;
        use crate::rtp::tests as r;
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
        let put = |target: &str, name: &str, bytes: &[u8]| {
            std::fs::write(root.join(target).join(format!("seed-{name}")), bytes)
                .expect("write seed");
        };
        put("rtp_parse", "plain", r::PLAIN);
        put("rtp_parse", "full", r::FULL);
        put("rtp_parse", "two-byte", r::TWO_BYTE);
        put("rtp_parse", "video-3ext", &r::video(40));
        put(
            "rtp_header_ext",
            "rfc8285-one-byte",
            &[&[0u8][..], &r::FULL[24..36]].concat(),
        );
        put(
            "rtp_header_ext",
            "rfc8285-two-byte",
            &[&[1u8][..], &r::TWO_BYTE[16..28]].concat(),
        );
        put(
            "rtp_header_ext",
            "video-3ext",
            &[&[0u8][..], &r::video(0)[16..]].concat(),
        );
        for (name, v) in [
            ("sr", c::SR),
            ("rr", c::RR),
            ("sdes", c::SDES),
            ("bye", c::BYE),
            ("app", c::APP),
            ("xr", c::XR),
            ("nack", c::NACK),
            ("pli", c::PLI),
            ("fir", c::FIR),
            ("remb", c::REMB),
            ("twcc", c::TWCC),
        ] {
            put("rtcp_compound", name, v);
        }
        put("rtcp_compound", "rr-sdes-nack", &c::compound());
        put("rtcp_twcc", "draft-3-1", &c::TWCC[12..]);
    }

    #[test]
    fn fuzz_rtp_parse_seeds() {
        run_seeds("rtp_parse", super::rtp_parse);
    }

    #[test]
    fn fuzz_rtp_header_ext_seeds() {
        run_seeds("rtp_header_ext", super::rtp_header_ext);
    }

    #[test]
    fn fuzz_rtcp_compound_seeds() {
        run_seeds("rtcp_compound", super::rtcp_compound);
    }

    #[test]
    fn fuzz_rtcp_twcc_seeds() {
        run_seeds("rtcp_twcc", super::rtcp_twcc);
    }
}
