//! The `tern` binary: command-line entry point. Each subcommand wires a
//! sans-IO state machine from Tern's protocol crates to real sockets.
// A command-line program reports to its terminal.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod stun_cmd;

use clap::{Parser, Subcommand};
use std::net::SocketAddr;
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
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tern: {e}");
            ExitCode::FAILURE
        }
    }
}
