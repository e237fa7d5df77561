//! The `tern` binary: command-line entry point. Each subcommand wires a
//! sans-IO state machine from Tern's protocol crates to real sockets.
// A command-line program reports to its terminal.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod bench;
mod media;
mod serve;
mod stun_cmd;
mod turn_cmd;
mod ws;

use clap::{Parser, Subcommand};

/// Counts heap allocations per thread (one thread-local increment each):
/// `tern bench` reports allocations per forwarded packet from it.
#[global_allocator]
static ALLOC: tern_alloc_count::CountingAlloc = tern_alloc_count::CountingAlloc;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

/// Tern: a from-scratch WebRTC media stack and research SFU.
#[derive(Debug, Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a STUN Binding server (RFC 8489) on UDP: tells each client the
    /// address and port it is seen from.
    StunServer {
        /// Local address to listen on (port 0 picks a free port).
        #[arg(long, default_value = "127.0.0.1:3478")]
        bind: SocketAddr,
        /// SOFTWARE attribute for responses (empty for none).
        #[arg(long, default_value = concat!("tern ", env!("CARGO_PKG_VERSION")))]
        software: String,
    },
    /// Run the SFU: HTTP + WebSocket signaling (signaling v1), the demo
    /// page, and media forwarding on one UDP port.
    Serve {
        /// TOML config file (keys: listen, media_address, media_port,
        /// media_bind, announce_ip, turn, turn_listen, turn_realm,
        /// turn_secret, turn_min_port, turn_max_port, turn_allow_peers,
        /// turn_credential_ttl_secs,
        /// max_participants, max_rooms, max_connections, log_level, tls_cert,
        /// tls_key, ws_ping_secs, consent_timeout_secs); flags override it.
        #[arg(long)]
        config: Option<PathBuf>,
        /// HTTP/WebSocket listen address [default: 127.0.0.1:8080; port 0 picks one].
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Address the media UDP socket binds to [default: 127.0.0.1]; also
        /// announced unless --announce-ip is given.
        #[arg(long)]
        media_address: Option<IpAddr>,
        /// Media bind address and port in one, e.g. 0.0.0.0:40000 or
        /// [::]:40000 (overrides --media-address and --media-port; a
        /// wildcard needs --announce-ip).
        #[arg(long)]
        media_bind: Option<SocketAddr>,
        /// IP announced to clients in the SDP host candidate [default: the
        /// bound address, when it is not a wildcard].
        #[arg(long)]
        announce_ip: Option<IpAddr>,
        /// Media UDP port [default: 40000; 0 picks a free one].
        #[arg(long)]
        media_port: Option<u16>,
        /// Maximum participants per room [default: 8].
        #[arg(long)]
        max_participants: Option<usize>,
        /// Maximum rooms [default: 256].
        #[arg(long)]
        max_rooms: Option<usize>,
        /// Log level: error, warn, info, debug, trace [default: info].
        #[arg(long)]
        log_level: Option<String>,
        /// PEM certificate chain: serve HTTPS/WSS (needs --tls-key).
        #[arg(long)]
        tls_cert: Option<PathBuf>,
        /// PEM private key for --tls-cert.
        #[arg(long)]
        tls_key: Option<PathBuf>,
        /// Run a TURN server (RFC 8656, UDP) beside the SFU and announce it
        /// to clients in `joined.iceServers` with time-limited credentials.
        #[arg(long)]
        turn: bool,
        /// TURN listen address [default: the media bind IP, port 3478].
        #[arg(long)]
        turn_listen: Option<SocketAddr>,
        /// TURN REALM [default: tern].
        #[arg(long)]
        turn_realm: Option<String>,
        /// TURN shared secret [default: generated at startup].
        #[arg(long)]
        turn_secret: Option<String>,
        /// Lowest TURN relay port [default: 49152].
        #[arg(long)]
        turn_min_port: Option<u16>,
        /// Highest TURN relay port [default: 65535].
        #[arg(long)]
        turn_max_port: Option<u16>,
        /// Let TURN also relay to this peer block (IP or IP/PREFIX;
        /// repeatable); the SFU's media address is always allowed.
        #[arg(long = "turn-allow-peer")]
        turn_allow_peers: Vec<String>,
    },
    /// Run a standalone TURN server (RFC 8656) on UDP.
    Turn(turn_cmd::TurnArgs),
    /// Benchmark packet throughput: the SFU and a load generator built
    /// from Tern's own client stack (ICE, DTLS, SRTP over loopback), beside
    /// a naive and a tuned relay; sweeps fan-out and packet size.
    Bench(bench::BenchArgs),
    /// Ask a STUN server which address this host is seen from.
    StunQuery {
        /// The server, e.g. 127.0.0.1:3478.
        server: SocketAddr,
        /// Local address to send from (default: any, same family as the server).
        #[arg(long)]
        bind: Option<SocketAddr>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::StunServer { bind, software } => {
            stun_cmd::serve(bind, (!software.is_empty()).then_some(software.as_str()))
        }
        Command::StunQuery { server, bind } => stun_cmd::query(server, bind),
        Command::Turn(args) => turn_cmd::run(args),
        Command::Bench(args) => bench::run(args).map_err(std::io::Error::other),
        Command::Serve {
            config,
            listen,
            media_address,
            media_port,
            media_bind,
            announce_ip,
            max_participants,
            max_rooms,
            log_level,
            tls_cert,
            tls_key,
            turn,
            turn_listen,
            turn_realm,
            turn_secret,
            turn_min_port,
            turn_max_port,
            turn_allow_peers,
        } => {
            let flags = serve::FileConfig {
                listen,
                media_address,
                media_port,
                media_bind,
                announce_ip,
                max_participants,
                max_rooms,
                max_connections: None,
                ws_ping_secs: None,
                consent_timeout_secs: None,
                drop_rtp_every: None,
                log_level,
                tls_cert,
                tls_key,
                turn: turn.then_some(true),
                turn_listen,
                turn_realm,
                turn_secret,
                turn_min_port,
                turn_max_port,
                turn_allow_peers: (!turn_allow_peers.is_empty()).then_some(turn_allow_peers),
                turn_credential_ttl_secs: None,
            };
            config
                .as_deref()
                .map(serve::FileConfig::load)
                .unwrap_or_else(|| Ok(serve::FileConfig::default()))
                .map(|file| file.merge(flags))
                .and_then(serve::ServeConfig::resolve)
                .and_then(serve::serve)
                .map_err(std::io::Error::other)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tern: {e}");
            ExitCode::FAILURE
        }
    }
}
