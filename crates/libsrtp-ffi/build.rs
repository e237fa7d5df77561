//! Link the system libsrtp2 (Debian: libsrtp2-dev).
fn main() {
    println!("cargo:rustc-link-lib=srtp2");
}
