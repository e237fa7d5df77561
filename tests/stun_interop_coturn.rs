//! Interop with a real STUN client: coturn's `turnutils_stunclient`
//! (Debian package coturn) against `tern stun-server` on loopback.
// Tests say on stderr when they skip for want of a peer or IPv6.
#![allow(clippy::print_stderr)]

mod common;

use common::{peers_required, which, TernProcess};
use std::process::Command;

#[test]
fn coturn_stunclient_learns_its_reflexive_address_from_tern() {
    let Some(client) = which("turnutils_stunclient") else {
        assert!(
            !peers_required(),
            "turnutils_stunclient is missing (install coturn)"
        );
        eprintln!("skipping: turnutils_stunclient not installed (apt-get install coturn)");
        return;
    };
    let server = TernProcess::start(&["stun-server", "--bind", "127.0.0.1:0"]);
    let out = Command::new(client)
        .args(["-p", &server.addr.port().to_string(), "127.0.0.1"])
        .output()
        .expect("run turnutils_stunclient");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "turnutils_stunclient failed:\n{text}");
    // It prints e.g. "0: : IPv4. UDP reflexive addr: 127.0.0.1:38989".
    let addr: std::net::SocketAddr = text
        .lines()
        .find_map(|l| l.split("UDP reflexive addr: ").nth(1))
        .unwrap_or_else(|| panic!("no reflexive address in:\n{text}"))
        .trim()
        .parse()
        .expect("an address");
    assert_eq!(addr.ip(), server.addr.ip());
    assert_ne!(addr.port(), 0);
    assert_ne!(addr.port(), server.addr.port());
}
