//! `tern stun-server` and `tern stun-query`: tern-stun's sans-IO Binding
//! server and client on a blocking UDP socket.
use std::io::{self, Read, Write};
use std::net::{SocketAddr, UdpSocket};
use std::time::Instant;
use tern_stun::{BindingClient, BindingServer, ClientEvent, RetransmitPolicy, TransactionId};

/// Largest UDP payload we accept; anything longer is not a STUN message we
/// answer, and the kernel truncates it into this buffer.
const RECV_BUF: usize = 2048;

/// Serves Binding requests until the process is stopped.
pub fn serve(bind: SocketAddr, software: Option<&str>) -> io::Result<()> {
    let socket = UdpSocket::bind(bind)?;
    let local = socket.local_addr()?;
    // The first line names the bound address, so scripts and tests that
    // asked for port 0 learn the real one.
    println!("tern stun-server listening on udp {local}");
    io::stdout().flush()?;
    let mut server = BindingServer::new(software);
    let mut inbuf = [0u8; RECV_BUF];
    let mut outbuf = [0u8; tern_stun::MAX_UDP_MESSAGE_WITHOUT_PMTU];
    loop {
        let (n, from) = match socket.recv_from(&mut inbuf) {
            Ok(r) => r,
            // ICMP errors from earlier sends surface here on some systems;
            // they say nothing about the next datagram.
            Err(e) if is_transient(&e) => continue,
            Err(e) => return Err(e),
        };
        server.handle_receive(Instant::now(), from, local, &inbuf[..n]);
        while let Some(t) = server.poll_transmit(&mut outbuf) {
            if let Err(e) = socket.send_to(&outbuf[..t.len], t.destination) {
                if !is_transient(&e) {
                    return Err(e);
                }
            }
        }
    }
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

/// A transaction id from the operating system's CSPRNG (RFC 8489 §6
/// asks for cryptographically random ids).
fn random_transaction_id() -> io::Result<TransactionId> {
    let mut id = [0u8; 12];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut id)?;
    Ok(TransactionId(id))
}

/// Runs one Binding transaction and prints the mapped address.
pub fn query(server: SocketAddr, bind: Option<SocketAddr>) -> io::Result<()> {
    let bind = bind.unwrap_or_else(|| match server {
        SocketAddr::V4(_) => SocketAddr::from(([0, 0, 0, 0], 0)),
        SocketAddr::V6(_) => SocketAddr::from(([0u16; 8], 0)),
    });
    let socket = UdpSocket::bind(bind)?;
    let mut client = BindingClient::new(
        socket.local_addr()?,
        server,
        random_transaction_id()?,
        RetransmitPolicy::default(),
    );
    match run_client(&socket, &mut client)? {
        ClientEvent::Mapped(addr) => {
            println!("mapped address: {addr}");
            Ok(())
        }
        ClientEvent::Failed(code) => Err(io::Error::other(format!(
            "server {server} answered with error {code}"
        ))),
        ClientEvent::Invalid => Err(io::Error::other(format!(
            "server {server} sent an unusable response"
        ))),
        ClientEvent::TimedOut => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("no answer from {server}"),
        )),
    }
}

/// Drives a [`BindingClient`] on a blocking socket until it concludes.
pub fn run_client(socket: &UdpSocket, client: &mut BindingClient) -> io::Result<ClientEvent> {
    let local = socket.local_addr()?;
    let mut buf = [0u8; RECV_BUF];
    loop {
        let now = Instant::now();
        client.handle_timeout(now);
        while let Some(t) = client.poll_transmit(now, &mut buf) {
            socket.send_to(&buf[..t.len], t.destination)?;
        }
        if let Some(e) = client.poll_event() {
            return Ok(e);
        }
        let wait = client
            .poll_timeout()
            .map(|d| d.saturating_duration_since(Instant::now()))
            .unwrap_or_default()
            .max(std::time::Duration::from_millis(1));
        socket.set_read_timeout(Some(wait))?;
        match socket.recv_from(&mut buf) {
            Ok((n, from)) => {
                client.handle_receive(Instant::now(), from, local, &buf[..n]);
            }
            Err(e) if is_transient(&e) => {}
            Err(e) => return Err(e),
        }
    }
}
