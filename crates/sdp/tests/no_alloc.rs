//! Allocation behaviour: typed attribute views never allocate, early
//! rejections allocate nothing, and a full parse allocates only a few
//! vectors per section (no string is copied).

mod common;

use tern_sdp::attr::AttributeValue;
use tern_sdp::{Candidate, SessionDescription};

#[global_allocator]
static ALLOC: tern_alloc_count::CountingAlloc = tern_alloc_count::CountingAlloc;

#[test]
fn typed_attribute_views_do_not_allocate() {
    for (name, text) in common::corpus() {
        let sd = SessionDescription::parse(&text).unwrap();
        let attrs: Vec<_> = sd
            .attributes
            .iter()
            .chain(sd.media.iter().flat_map(|m| &m.attributes))
            .collect();
        let (ok, allocs) = tern_alloc_count::count(|| {
            attrs
                .iter()
                .all(|a| AttributeValue::parse(&a.name, a.value.as_deref()).is_ok())
        });
        assert!(ok, "{name}");
        assert_eq!(allocs, 0, "{name}");
    }
    let (c, allocs) = tern_alloc_count::count(|| {
        Candidate::parse_line(
            "candidate:3325217935 1 udp 1686052607 203.0.113.44 54321 typ srflx raddr 192.168.1.20 rport 54321 generation 0 network-id 1 network-cost 10",
        )
        .map(|c| (c.generation(), c.network_cost()))
    });
    assert_eq!(c, Ok((Some(0), Some(10))));
    assert_eq!(allocs, 0);
}

#[test]
fn early_rejections_allocate_nothing() {
    let big = "v=0\r\n".repeat(20_000);
    for bad in [
        big.as_str(),
        "v=1\r\n",
        "x=0\r\n",
        "v=0\r\no=- 99999999999999999999 1 IN IP4 0.0.0.0\r\ns=-\r\n",
        "v=0\r\no=- 1 1 IN IP4\r\ns=-\r\n",
        "v=0\r\ns=-\r\n",
    ] {
        let (r, allocs) = tern_alloc_count::count(|| SessionDescription::parse(bad).map(|_| ()));
        assert!(r.is_err());
        assert_eq!(allocs, 0, "{:?}", r);
    }
}

#[test]
fn a_parse_allocates_a_few_vectors_per_section() {
    for (name, text) in common::corpus() {
        let (sd, allocs) = tern_alloc_count::count(|| SessionDescription::parse(&text).unwrap());
        let bound = 12 * (sd.media.len() as u64 + 1);
        assert!(allocs <= bound, "{name}: {allocs} allocations > {bound}");
    }
}
