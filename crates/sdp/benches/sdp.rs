//! `sdp/parse` and `sdp/serialize`: Tern beside webrtc-rs `sdp` on a ~5.7 KB
//! Chrome-style offer with three media sections (audio, video, data channel).

use std::hint::black_box;
use std::io::Cursor;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tern_sdp::SessionDescription;
use webrtc_sdp::description::session::SessionDescription as WrSession;

const OFFER: &str = include_str!("../tests/corpus/chrome_offer_audio_video_data.sdp");

fn parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("sdp/parse");
    g.throughput(Throughput::Bytes(OFFER.len() as u64));
    g.bench_function("tern", |b| {
        b.iter(|| SessionDescription::parse(black_box(OFFER)).map(|s| s.media.len()))
    });
    g.bench_function("webrtc-rs", |b| {
        b.iter(|| {
            WrSession::unmarshal(&mut Cursor::new(black_box(OFFER).as_bytes()))
                .map(|s| s.media_descriptions.len())
        })
    });
    g.finish();
}

fn serialize(c: &mut Criterion) {
    let ours = SessionDescription::parse(OFFER).expect("offer parses");
    let theirs = WrSession::unmarshal(&mut Cursor::new(OFFER.as_bytes())).expect("offer parses");
    let mut g = c.benchmark_group("sdp/serialize");
    g.throughput(Throughput::Bytes(OFFER.len() as u64));
    g.bench_function("tern", |b| b.iter(|| black_box(&ours).to_sdp_string()));
    g.bench_function("webrtc-rs", |b| b.iter(|| black_box(&theirs).marshal()));
    g.finish();
}

criterion_group!(benches, parse, serialize);
criterion_main!(benches);
