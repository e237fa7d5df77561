//! `tern turn`: tern-turn's sans-IO TURN server (RFC 8656 over UDP) on
//! blocking UDP sockets.
//!
//! One thread reads each socket (the listening socket and every relay
//! socket) and hands datagrams to the main thread, which owns the server,
//! over a channel; the main thread sends everything the server queues from
//! the socket its `source` names. Relay sockets are opened and closed when
//! the server asks (`TurnEnv::open_relay`/`close_relay`); randomness comes
//! from the operating system's CSPRNG (getrandom).
//!
//! [`serve_loop`] is that loop on a bound listener; `tern turn` runs it on
//! the main thread, `tern serve --turn` on a thread beside the SFU.
use std::collections::HashMap;
use std::io::{self, Write};
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tern_turn::{IpRange, ServerConfig, TurnEnv, TurnServer};

/// Largest datagram read from any socket.
const RECV_BUF: usize = 65_536;

/// Options of `tern turn`.
#[derive(Debug, clap::Args)]
pub struct TurnArgs {
    /// Local UDP address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:3478")]
    pub(crate) bind: SocketAddr,
    /// Address relay sockets are opened on and advertised (default: the
    /// --bind address).
    #[arg(long)]
    pub(crate) relay_ip: Option<IpAddr>,
    /// REALM for the long-term credential mechanism.
    #[arg(long, default_value = "tern")]
    pub(crate) realm: String,
    /// A static user, `NAME:PASSWORD` (repeatable).
    #[arg(long = "user")]
    pub(crate) users: Vec<String>,
    /// Shared secret for time-limited credentials (username
    /// `EXPIRY:USER`, password base64(HMAC-SHA1(secret, username))).
    #[arg(long)]
    pub(crate) static_auth_secret: Option<String>,
    /// Allow relaying to peers in this block even though it is refused by
    /// default (e.g. 127.0.0.0/8 for a loopback test; repeatable).
    #[arg(long = "allow-peer")]
    pub(crate) allow_peers: Vec<String>,
    /// Shorthand for --allow-peer 127.0.0.0/8 --allow-peer ::1.
    #[arg(long)]
    pub(crate) allow_loopback_peers: bool,
    /// Refuse peers in this block too (repeatable).
    #[arg(long = "deny-peer")]
    pub(crate) deny_peers: Vec<String>,
    /// Lowest relay port.
    #[arg(long, default_value_t = 49152)]
    pub(crate) min_port: u16,
    /// Highest relay port.
    #[arg(long, default_value_t = 65535)]
    pub(crate) max_port: u16,
    /// Allocations in total.
    #[arg(long, default_value_t = 1000)]
    pub(crate) max_allocations: usize,
    /// Allocations per user.
    #[arg(long, default_value_t = 10)]
    pub(crate) user_quota: usize,
    /// Also accept channel numbers 0x5000-0x7FFF (RFC 5766's range, which
    /// older clients such as coturn's turnutils_uclient pick); RFC 8656
    /// answers them 400.
    #[arg(long)]
    pub(crate) rfc5766_channel_numbers: bool,
    /// SOFTWARE attribute for responses (empty for none).
    #[arg(long, default_value = concat!("tern ", env!("CARGO_PKG_VERSION")))]
    pub(crate) software: String,
}

type Inbound = (SocketAddr, SocketAddr, Vec<u8>);

struct Relay {
    socket: Arc<UdpSocket>,
    closed: Arc<AtomicBool>,
}

impl Drop for Relay {
    /// Its reader thread ends within one read timeout.
    fn drop(&mut self) {
        self.closed.store(true, Ordering::Relaxed);
    }
}

/// The server's environment: OS randomness and real relay sockets.
struct OsEnv {
    relays: HashMap<SocketAddr, Relay>,
    tx: mpsc::SyncSender<Inbound>,
}

impl std::fmt::Debug for OsEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "OsEnv({} relays)", self.relays.len())
    }
}

impl TurnEnv for OsEnv {
    fn fill_random(&mut self, buf: &mut [u8]) {
        // Without the OS CSPRNG nonces and tokens would be guessable:
        // refuse to go on.
        getrandom::fill(buf).expect("the operating system's CSPRNG");
    }
    fn open_relay(&mut self, relay: SocketAddr) -> bool {
        let Ok(socket) = UdpSocket::bind(relay) else {
            return false;
        };
        let socket = Arc::new(socket);
        let closed = Arc::new(AtomicBool::new(false));
        if spawn_reader(socket.clone(), relay, closed.clone(), self.tx.clone()).is_err() {
            return false;
        }
        self.relays.insert(relay, Relay { socket, closed });
        true
    }
    fn close_relay(&mut self, relay: SocketAddr) {
        self.relays.remove(&relay);
    }
}

/// Reads `socket` until `closed` is set, forwarding datagrams to the main
/// thread. The read timeout bounds how long a closed relay's thread lives.
fn spawn_reader(
    socket: Arc<UdpSocket>,
    local: SocketAddr,
    closed: Arc<AtomicBool>,
    tx: mpsc::SyncSender<Inbound>,
) -> io::Result<()> {
    socket.set_read_timeout(Some(Duration::from_millis(200)))?;
    std::thread::Builder::new()
        .name(format!("turn-rx-{local}"))
        .spawn(move || {
            let mut buf = vec![0u8; RECV_BUF];
            while !closed.load(Ordering::Relaxed) {
                match socket.recv_from(&mut buf) {
                    Ok((n, from)) => {
                        // A full channel means the server is behind:
                        // drop, as a congested link would.
                        if let Err(mpsc::TrySendError::Disconnected(_)) =
                            tx.try_send((local, from, buf[..n].to_vec()))
                        {
                            return;
                        }
                    }
                    Err(e) if is_transient(&e) => {}
                    Err(_) => return,
                }
            }
        })?;
    Ok(())
}

fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
            | io::ErrorKind::WouldBlock
            | io::ErrorKind::TimedOut
    )
}

/// The server configuration `args` describe, for a listener bound to `local`.
pub(crate) fn config(args: &TurnArgs, local: SocketAddr) -> io::Result<ServerConfig> {
    let bad =
        |what: &str, v: &str| io::Error::new(io::ErrorKind::InvalidInput, format!("{what}: {v:?}"));
    let relay_ip = args.relay_ip.unwrap_or(local.ip());
    if relay_ip.is_unspecified() {
        return Err(bad(
            "--relay-ip must be a concrete address",
            &relay_ip.to_string(),
        ));
    }
    let mut cfg = ServerConfig::new(&args.realm, relay_ip);
    if relay_ip.is_ipv6() {
        cfg.relay_v4 = None;
        cfg.relay_v6 = Some(relay_ip);
    }
    cfg.software = (!args.software.is_empty()).then(|| args.software.clone());
    for u in &args.users {
        let (name, pass) = u
            .split_once(':')
            .ok_or_else(|| bad("--user wants NAME:PASSWORD", u))?;
        cfg.users.push((name.to_owned(), pass.to_owned()));
    }
    cfg.shared_secret = args
        .static_auth_secret
        .as_ref()
        .map(|s| s.as_bytes().to_vec());
    if cfg.users.is_empty() && cfg.shared_secret.is_none() {
        return Err(bad("give at least one --user or --static-auth-secret", ""));
    }
    for p in &args.allow_peers {
        cfg.peer_policy
            .allow
            .push(IpRange::parse(p).ok_or_else(|| bad("--allow-peer", p))?);
    }
    if args.allow_loopback_peers {
        cfg.peer_policy
            .allow
            .push(IpRange::new(IpAddr::from([127, 0, 0, 0]), 8));
        cfg.peer_policy
            .allow
            .push(IpRange::new(IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1]), 128));
    }
    for p in &args.deny_peers {
        cfg.peer_policy
            .deny
            .push(IpRange::parse(p).ok_or_else(|| bad("--deny-peer", p))?);
    }
    cfg.peer_policy.server_addresses = vec![local.ip(), relay_ip];
    if args.min_port == 0 || args.max_port < args.min_port {
        return Err(bad(
            "relay port range",
            &format!("{}-{}", args.min_port, args.max_port),
        ));
    }
    cfg.relay_ports = (args.min_port, args.max_port);
    cfg.max_allocations = args.max_allocations;
    cfg.max_allocations_per_user = args.user_quota;
    // Setting DF needs socket options std does not offer: DONT-FRAGMENT
    // gets 420, as RFC 8656 §7.2 asks of a server that cannot honour it.
    cfg.support_dont_fragment = false;
    cfg.rfc5766_channel_numbers = args.rfc5766_channel_numbers;
    Ok(cfg)
}

/// Runs the TURN server until the process is stopped.
pub fn run(args: TurnArgs) -> io::Result<()> {
    let listener = UdpSocket::bind(args.bind)?;
    let local = listener.local_addr()?;
    let cfg = config(&args, local)?;
    // The first line names the bound address, so scripts and tests that
    // asked for port 0 learn the real one.
    println!("tern turn listening on udp {local}");
    io::stdout().flush()?;
    serve_loop(listener, cfg, &AtomicBool::new(false))
}

/// Runs tern-turn's server with `cfg` on `listener` until `stop` is set
/// (noticed within a second) or a socket fails; relay sockets and reader
/// threads end with it.
pub fn serve_loop(listener: UdpSocket, cfg: ServerConfig, stop: &AtomicBool) -> io::Result<()> {
    let local = listener.local_addr()?;
    let listener = Relay {
        socket: Arc::new(listener),
        closed: Arc::new(AtomicBool::new(false)),
    };
    let (tx, rx) = mpsc::sync_channel::<Inbound>(4096);
    spawn_reader(
        listener.socket.clone(),
        local,
        listener.closed.clone(),
        tx.clone(),
    )?;
    let env = OsEnv {
        relays: HashMap::new(),
        tx,
    };
    let unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(io::Error::other)?
        .as_secs();
    let mut server = TurnServer::new(cfg, env, Instant::now(), unix);
    let mut out = vec![0u8; RECV_BUF];
    while !stop.load(Ordering::Relaxed) {
        let wait = server
            .poll_timeout()
            .map(|t| t.saturating_duration_since(Instant::now()))
            .unwrap_or(Duration::from_secs(1))
            .min(Duration::from_secs(1));
        match rx.recv_timeout(wait) {
            Ok((to, from, data)) => server.handle_receive(Instant::now(), from, to, &data),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(io::Error::other("socket readers stopped"))
            }
        }
        let now = Instant::now();
        if server.poll_timeout().is_some_and(|t| t <= now) {
            server.handle_timeout(now);
        }
        while let Some(t) = server.poll_transmit(&mut out) {
            let socket = if t.source == local {
                Some(listener.socket.clone())
            } else {
                server.env().relays.get(&t.source).map(|r| r.socket.clone())
            };
            if let Some(s) = socket {
                if let Err(e) = s.send_to(&out[..t.len], t.destination) {
                    if !is_transient(&e) {
                        return Err(e);
                    }
                }
            }
        }
    }
    Ok(())
}
