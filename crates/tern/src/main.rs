//! The `tern` binary: command-line entry point.
use clap::Parser;

/// Tern: a from-scratch WebRTC media stack and research SFU.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {}

fn main() {
    let _ = Cli::parse();
}
