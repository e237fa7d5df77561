//! Shared helpers for the integration tests that run the `tern` binary.
#![allow(dead_code)]

pub mod browser;
pub mod ws;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

/// A running `tern` subprocess, killed when dropped (and its scratch
/// directory, if it has one, removed).
pub struct TernProcess {
    child: Child,
    /// The address it printed on its first line.
    pub addr: SocketAddr,
    scratch: Option<std::path::PathBuf>,
}

impl TernProcess {
    /// Starts `tern ARGS...` and waits for its "listening on udp ADDR" line.
    pub fn start(args: &[&str]) -> TernProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tern"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start tern");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read first line");
        let addr = line
            .trim()
            .rsplit(' ')
            .next()
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        TernProcess {
            child,
            addr,
            scratch: None,
        }
    }

    /// Starts `tern serve` on free HTTP and media ports with `toml` as its
    /// config file (written to a fresh directory named after `tag`, removed
    /// with the process) and `extra` flags after it.
    pub fn serve_with_config(tag: &str, toml: &str, extra: &[&str]) -> TernProcess {
        let dir = std::env::temp_dir().join(format!("tern-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch directory");
        let config = dir.join("tern.toml");
        std::fs::write(&config, toml).expect("write tern.toml");
        let mut args = vec![
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--media-port",
            "0",
            "--config",
            config.to_str().expect("UTF-8 temp path"),
        ];
        args.extend_from_slice(extra);
        let mut server = TernProcess::start(&args);
        server.scratch = Some(dir);
        server
    }

    /// The process id (for sending signals).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends a signal (`"TERM"`, `"INT"`) with kill(1) and waits up to
    /// `within` for the process to exit; its exit status if it did.
    pub fn signal_and_wait(
        &mut self,
        signal: &str,
        within: std::time::Duration,
    ) -> Option<std::process::ExitStatus> {
        let _ = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status();
        let deadline = std::time::Instant::now() + within;
        while std::time::Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Some(status);
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        None
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }
}

impl Drop for TernProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(dir) = &self.scratch {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Whether tests that need a real peer program must fail (rather than
/// skip) when it is missing. The test command sets this after installing
/// the peers.
pub fn peers_required() -> bool {
    std::env::var_os("TERN_REQUIRE_PEERS").is_some()
}

/// Finds a program on PATH.
pub fn which(program: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(program))
            .find(|p| p.is_file())
    })
}
