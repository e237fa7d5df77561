//! Steady-state protect and unprotect allocate nothing (DESIGN.md: zero
//! heap allocations per forwarded packet): the only allocation is the
//! table entry for a new SSRC.

mod common;
use common::{pair, rtcp, rtp};
use tern_srtp::Profile;

#[global_allocator]
static ALLOC: tern_alloc_count::CountingAlloc = tern_alloc_count::CountingAlloc;

#[test]
fn protect_and_unprotect_allocate_nothing_per_packet() {
    for p in Profile::ALL {
        let (mut tx, mut rx) = pair(p);
        let mut buf = [0u8; 1500];
        // First packet: creates the SSRC entry on each side.
        let n = rtp(&mut buf, 42, 1, 1000);
        let m = tx.protect_rtp(&mut buf, n).unwrap();
        rx.unprotect_rtp(&mut buf[..m]).unwrap();
        let n = rtcp(&mut buf, 42, 40);
        let m = tx.protect_rtcp(&mut buf, n).unwrap();
        rx.unprotect_rtcp(&mut buf[..m]).unwrap();
        for seq in 2..2000u16 {
            let ((), allocs) = tern_alloc_count::count(|| {
                let n = rtp(&mut buf, 42, seq, 1000);
                let m = tx.protect_rtp(&mut buf, n).unwrap();
                assert_eq!(rx.unprotect_rtp(&mut buf[..m]), Ok(n));
                let n = rtcp(&mut buf, 42, 40);
                let m = tx.protect_rtcp(&mut buf, n).unwrap();
                assert_eq!(rx.unprotect_rtcp(&mut buf[..m]), Ok(n));
            });
            assert_eq!(allocs, 0, "{p:?} seq {seq}");
        }
    }
}
