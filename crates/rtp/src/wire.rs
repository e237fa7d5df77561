//! Non-panicking big-endian readers and writers over byte slices.
//!
//! Views validate their lengths once in `new_checked`; afterwards accessors
//! read through these helpers, which return 0 (or do nothing) instead of
//! panicking if an offset were ever out of range. The branch is never taken
//! for a checked view and the optimiser usually removes it.

#[inline(always)]
pub(crate) fn u8_at(b: &[u8], at: usize) -> u8 {
    match b.get(at) {
        Some(v) => *v,
        None => 0,
    }
}

#[inline(always)]
pub(crate) fn u16_at(b: &[u8], at: usize) -> u16 {
    match b.get(at..at.wrapping_add(2)) {
        Some(&[x, y]) => u16::from_be_bytes([x, y]),
        _ => 0,
    }
}

#[inline(always)]
pub(crate) fn u24_at(b: &[u8], at: usize) -> u32 {
    match b.get(at..at.wrapping_add(3)) {
        Some(&[x, y, z]) => u32::from_be_bytes([0, x, y, z]),
        _ => 0,
    }
}

#[inline(always)]
pub(crate) fn u32_at(b: &[u8], at: usize) -> u32 {
    match b.get(at..at.wrapping_add(4)) {
        Some(&[w, x, y, z]) => u32::from_be_bytes([w, x, y, z]),
        _ => 0,
    }
}

#[inline(always)]
pub(crate) fn u64_at(b: &[u8], at: usize) -> u64 {
    (u64::from(u32_at(b, at)) << 32) | u64::from(u32_at(b, at.wrapping_add(4)))
}

#[inline(always)]
pub(crate) fn put_u8(b: &mut [u8], at: usize, v: u8) {
    if let Some(x) = b.get_mut(at) {
        *x = v;
    }
}

#[inline(always)]
pub(crate) fn put_u16(b: &mut [u8], at: usize, v: u16) {
    if let Some(x) = b.get_mut(at..at.wrapping_add(2)) {
        x.copy_from_slice(&v.to_be_bytes());
    }
}

#[inline(always)]
pub(crate) fn put_u24(b: &mut [u8], at: usize, v: u32) {
    if let Some(x) = b.get_mut(at..at.wrapping_add(3)) {
        let [_, p, q, r] = v.to_be_bytes();
        x.copy_from_slice(&[p, q, r]);
    }
}

#[inline(always)]
pub(crate) fn put_u32(b: &mut [u8], at: usize, v: u32) {
    if let Some(x) = b.get_mut(at..at.wrapping_add(4)) {
        x.copy_from_slice(&v.to_be_bytes());
    }
}

#[inline(always)]
pub(crate) fn put_u64(b: &mut [u8], at: usize, v: u64) {
    if let Some(x) = b.get_mut(at..at.wrapping_add(8)) {
        x.copy_from_slice(&v.to_be_bytes());
    }
}

/// Copies `src` into `b` at `at`; nothing if it does not fit.
#[inline(always)]
pub(crate) fn put_slice(b: &mut [u8], at: usize, src: &[u8]) {
    if let Some(x) = b.get_mut(at..at.wrapping_add(src.len())) {
        x.copy_from_slice(src);
    }
}

/// Zeroes `b[from..to]`; nothing if out of range.
#[inline(always)]
pub(crate) fn zero(b: &mut [u8], from: usize, to: usize) {
    if let Some(x) = b.get_mut(from..to) {
        x.fill(0);
    }
}

/// `b[from..to]`, or an empty slice if out of range.
#[inline(always)]
pub(crate) fn slice(b: &[u8], from: usize, to: usize) -> &[u8] {
    b.get(from..to).unwrap_or(&[])
}
