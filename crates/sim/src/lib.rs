//! tern-sim — a deterministic network simulator for Tern's sans-IO state
//! machines.
//!
//! A [`Sim`] owns a virtual clock, a set of endpoints (anything that
//! implements [`Endpoint`]: the sans-IO contract of DESIGN.md), the links
//! between them ([`LinkConfig`]: delay, jitter, random or Gilbert-Elliott
//! loss, duplication, reordering, MTU) and NATs ([`NatConfig`]:
//! endpoint-independent or address-and-port-dependent mapping, three
//! filtering behaviours, rebinding). Time never passes on its own: each
//! [`Sim::step`] jumps the clock to the next deadline (a datagram arriving
//! or an endpoint's timer) and runs what is due. There are no sleeps, no
//! threads, no sockets and no clock reads; the only randomness is a seeded
//! [`Rng`], so one seed always gives the same run. When a test panics while
//! a `Sim` is alive, the seed is printed so the run can be replayed (see
//! [`seed_from_env`]).
//!
//! # Addresses and routing
//!
//! Each endpoint owns one or more IP addresses. An endpoint added with
//! [`Sim::add_endpoint`] is on the public network; one added with
//! [`Sim::add_endpoint_behind`] sits behind a NAT, in that NAT's private
//! realm. A datagram is routed by its destination IP:
//!
//! - to an endpoint in the same realm: delivered as is;
//! - from a private realm to anywhere else: the source is translated by
//!   the realm's NAT (creating or refreshing a mapping);
//! - to a NAT's public IP: translated on arrival through the mapping for
//!   the destination port, if the NAT's filtering lets it in;
//! - to a private address of another realm, or back to one's own NAT's
//!   public address (hairpinning): dropped.
//!
//! A datagram whose source IP is not one of the sending endpoint's
//! addresses is dropped (no spoofing from endpoints; use [`Sim::inject`]
//! to model an attacker).
//!
//! # Driving loop
//!
//! [`Sim::step`]: advance the clock to the earliest deadline; deliver every
//! datagram due (calling `handle_receive`); call `handle_timeout` on every
//! endpoint whose `poll_timeout` is due; then drain `poll_transmit` of
//! every endpoint until it returns `None` (the drain-until-None rule). The
//! order is always by endpoint index, then by send order, so runs are
//! reproducible.
#![forbid(unsafe_code)]

mod link;
mod nat;
mod rng;

pub use link::{LinkConfig, Loss};
pub use nat::{Filtering, Mapping, Nat, NatConfig};
pub use rng::{Rng, SplitMix64};

use link::{Fate, LinkState};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

/// A datagram an endpoint wants sent: `len` bytes at the start of the
/// buffer it was given, from `source` (one of its addresses) to
/// `destination`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transmit {
    /// The local address to send from.
    pub source: SocketAddr,
    /// Where to send it.
    pub destination: SocketAddr,
    /// Bytes written into the buffer.
    pub len: usize,
}

/// A sans-IO state machine the simulator can drive (DESIGN.md's contract).
pub trait Endpoint {
    /// A datagram arrived on local address `to` from `from`.
    fn handle_receive(&mut self, now: Instant, from: SocketAddr, to: SocketAddr, data: &[u8]);
    /// Time has advanced to `now` (at or after the last `poll_timeout`).
    fn handle_timeout(&mut self, now: Instant);
    /// The next datagram to send, written into `buf`; `None` when nothing
    /// is queued. The simulator calls this until it returns `None`.
    fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<Transmit>;
    /// When `handle_timeout` is next due; `None` if no timer is set.
    fn poll_timeout(&self) -> Option<Instant>;
}

impl<E: Endpoint + ?Sized> Endpoint for Box<E> {
    fn handle_receive(&mut self, now: Instant, from: SocketAddr, to: SocketAddr, data: &[u8]) {
        (**self).handle_receive(now, from, to, data)
    }
    fn handle_timeout(&mut self, now: Instant) {
        (**self).handle_timeout(now)
    }
    fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<Transmit> {
        (**self).poll_transmit(now, buf)
    }
    fn poll_timeout(&self) -> Option<Instant> {
        (**self).poll_timeout()
    }
}

/// Names an endpoint in a [`Sim`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EndpointId(pub usize);

/// Names a NAT in a [`Sim`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NatId(pub usize);

/// Counters of what the network did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Datagrams endpoints sent.
    pub sent: u64,
    /// Datagrams handed to endpoints (duplicates included).
    pub delivered: u64,
    /// Lost on a link.
    pub lost: u64,
    /// Extra copies made by duplication.
    pub duplicated: u64,
    /// Dropped for exceeding the MTU.
    pub too_big: u64,
    /// Dropped by a NAT (no mapping, or filtered).
    pub nat_dropped: u64,
    /// Dropped as unroutable (unknown or foreign private destination,
    /// hairpinning, spoofed source, endpoint down).
    pub unroutable: u64,
}

/// Simulation parameters.
#[derive(Debug, Clone, Copy)]
pub struct SimConfig {
    /// The seed of every random choice.
    pub seed: u64,
    /// Virtual time zero. Any instant works; only differences matter (the
    /// simulator never reads the clock itself).
    pub epoch: Instant,
    /// The link used between endpoints that have no explicit link.
    pub default_link: LinkConfig,
    /// `Sim::step` panics (printing the seed) after this many steps
    /// without the clock moving: an endpoint that keeps asking for a
    /// timeout in the past is a livelock.
    pub max_steps_at_one_instant: u32,
}

impl SimConfig {
    /// Defaults with this seed and epoch.
    pub fn new(seed: u64, epoch: Instant) -> Self {
        Self {
            seed,
            epoch,
            default_link: LinkConfig::default(),
            max_steps_at_one_instant: 100_000,
        }
    }
}

/// The seed from the `TERN_SIM_SEED` environment variable if set (to replay
/// a printed failure), else `default`.
pub fn seed_from_env(default: u64) -> u64 {
    std::env::var("TERN_SIM_SEED")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(default)
}

#[derive(Debug)]
struct Node<E> {
    endpoint: E,
    ips: Vec<IpAddr>,
    realm: Option<NatId>,
    up: bool,
}

#[derive(Debug)]
struct Link {
    from: EndpointId,
    to: EndpointId,
    config: Option<LinkConfig>,
    state: LinkState,
}

#[derive(Debug, PartialEq, Eq)]
struct InFlight {
    at: Instant,
    seq: u64,
    from: SocketAddr,
    to: SocketAddr,
    /// Set when `to` is a NAT's public address to translate on arrival.
    via_nat: Option<NatId>,
    data: Vec<u8>,
}

impl Ord for InFlight {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}
impl PartialOrd for InFlight {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Largest datagram an endpoint may write.
const MAX_DATAGRAM: usize = 65_535;

/// The simulator. Generic over one endpoint type; use an enum of your
/// state machines (or `Box<dyn Endpoint>`) for mixed networks.
#[derive(Debug)]
pub struct Sim<E: Endpoint> {
    config: SimConfig,
    now: Instant,
    rng: Rng,
    nodes: Vec<Node<E>>,
    nats: Vec<Nat>,
    links: Vec<Link>,
    queue: BinaryHeap<Reverse<InFlight>>,
    seq: u64,
    stats: Stats,
    buf: Vec<u8>,
    steps_here: u32,
}

impl<E: Endpoint> Drop for Sim<E> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            #[allow(clippy::print_stderr)] // the whole point: tell the person the seed
            {
                eprintln!(
                    "tern-sim: failed with seed {} at t={:?} (replay with TERN_SIM_SEED={})",
                    self.config.seed,
                    self.elapsed(),
                    self.config.seed
                );
            }
        }
    }
}

impl<E: Endpoint> Sim<E> {
    /// An empty network.
    pub fn new(config: SimConfig) -> Self {
        Self {
            config,
            now: config.epoch,
            rng: Rng::new(config.seed),
            nodes: Vec::new(),
            nats: Vec::new(),
            links: Vec::new(),
            queue: BinaryHeap::new(),
            seq: 0,
            stats: Stats::default(),
            buf: vec![0; MAX_DATAGRAM],
            steps_here: 0,
        }
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.config.seed
    }
    /// The current virtual time.
    pub fn now(&self) -> Instant {
        self.now
    }
    /// Virtual time since the epoch.
    pub fn elapsed(&self) -> Duration {
        self.now - self.config.epoch
    }
    /// The simulator's random source, for tests that want derived seeds
    /// (e.g. to seed an endpoint): using it keeps the run reproducible.
    pub fn rng(&mut self) -> &mut Rng {
        &mut self.rng
    }
    /// Network counters.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Adds a NAT.
    pub fn add_nat(&mut self, config: NatConfig) -> NatId {
        self.nats.push(Nat::new(config));
        NatId(self.nats.len() - 1)
    }
    /// A NAT, to inspect.
    pub fn nat(&self, id: NatId) -> &Nat {
        &self.nats[id.0]
    }
    /// Forgets every mapping of a NAT; later traffic gets new external
    /// ports (RFC 4787 "rebinding").
    pub fn rebind_nat(&mut self, id: NatId) {
        self.nats[id.0].rebind();
    }

    /// Adds an endpoint on the public network owning `ips`.
    pub fn add_endpoint(&mut self, endpoint: E, ips: &[IpAddr]) -> EndpointId {
        self.add_node(endpoint, ips, None)
    }
    /// Adds an endpoint behind `nat`, owning the private addresses `ips`.
    pub fn add_endpoint_behind(&mut self, nat: NatId, endpoint: E, ips: &[IpAddr]) -> EndpointId {
        assert!(nat.0 < self.nats.len(), "unknown NAT");
        self.add_node(endpoint, ips, Some(nat))
    }
    fn add_node(&mut self, endpoint: E, ips: &[IpAddr], realm: Option<NatId>) -> EndpointId {
        for ip in ips {
            assert!(
                self.owner(*ip).is_none() && !self.nats.iter().any(|n| n.config().public_ip == *ip),
                "address {ip} is already in use"
            );
        }
        self.nodes.push(Node {
            endpoint,
            ips: ips.to_vec(),
            realm,
            up: true,
        });
        EndpointId(self.nodes.len() - 1)
    }
    /// Gives an endpoint one more address (a new interface).
    pub fn add_ip(&mut self, id: EndpointId, ip: IpAddr) {
        assert!(self.owner(ip).is_none(), "address {ip} is already in use");
        self.nodes[id.0].ips.push(ip);
    }

    /// An endpoint.
    pub fn endpoint(&self, id: EndpointId) -> &E {
        &self.nodes[id.0].endpoint
    }
    /// An endpoint, mutably (e.g. to feed it signaling). Call
    /// [`Sim::flush`] afterwards if that made it want to send.
    pub fn endpoint_mut(&mut self, id: EndpointId) -> &mut E {
        &mut self.nodes[id.0].endpoint
    }
    /// Every endpoint id.
    pub fn endpoint_ids(&self) -> impl Iterator<Item = EndpointId> {
        (0..self.nodes.len()).map(EndpointId)
    }

    /// Takes an endpoint off the network (it vanished: crashed, unplugged)
    /// or puts it back. While down it is neither driven nor reachable, and
    /// datagrams in flight to it are lost.
    pub fn set_up(&mut self, id: EndpointId, up: bool) {
        self.nodes[id.0].up = up;
    }

    /// Sets the link from `a` to `b` (one direction).
    pub fn set_link_one_way(&mut self, a: EndpointId, b: EndpointId, config: LinkConfig) {
        let l = self.link_mut(a, b);
        l.config = Some(config);
    }
    /// Sets the link between `a` and `b`, both directions.
    pub fn set_link(&mut self, a: EndpointId, b: EndpointId, config: LinkConfig) {
        self.set_link_one_way(a, b, config);
        self.set_link_one_way(b, a, config);
    }
    /// Changes the default link (used where no link was set).
    pub fn set_default_link(&mut self, config: LinkConfig) {
        self.config.default_link = config;
    }

    fn link_mut(&mut self, from: EndpointId, to: EndpointId) -> &mut Link {
        let i = match self.links.iter().position(|l| l.from == from && l.to == to) {
            Some(i) => i,
            None => {
                self.links.push(Link {
                    from,
                    to,
                    config: None,
                    state: LinkState::default(),
                });
                self.links.len() - 1
            }
        };
        &mut self.links[i]
    }

    fn owner(&self, ip: IpAddr) -> Option<EndpointId> {
        self.nodes
            .iter()
            .position(|n| n.ips.contains(&ip))
            .map(EndpointId)
    }
    fn nat_by_public(&self, ip: IpAddr) -> Option<NatId> {
        self.nats
            .iter()
            .position(|n| n.config().public_ip == ip)
            .map(NatId)
    }

    /// Puts a datagram on the wire as if it came from `from`, arriving at
    /// `to` after the default link's base delay: an attacker or a
    /// misbehaving host outside any NAT. It bypasses source checks and
    /// outbound NAT translation, but not inbound NAT filtering.
    pub fn inject(&mut self, from: SocketAddr, to: SocketAddr, data: &[u8]) {
        if self
            .owner(to.ip())
            .is_some_and(|o| self.nodes[o.0].realm.is_some())
        {
            // Private addresses are not reachable from outside.
            self.stats.unroutable += 1;
            return;
        }
        let via_nat = self.nat_by_public(to.ip());
        let at = self.now + self.config.default_link.delay;
        self.enqueue(at, from, to, via_nat, data.to_vec());
    }

    fn enqueue(
        &mut self,
        at: Instant,
        from: SocketAddr,
        to: SocketAddr,
        via_nat: Option<NatId>,
        data: Vec<u8>,
    ) {
        self.seq += 1;
        self.queue.push(Reverse(InFlight {
            at,
            seq: self.seq,
            from,
            to,
            via_nat,
            data,
        }));
    }

    /// Routes one datagram sent by `src_id`.
    fn send(&mut self, src_id: EndpointId, t: Transmit) {
        self.stats.sent += 1;
        let data = self.buf[..t.len].to_vec();
        let node = &self.nodes[src_id.0];
        if !node.ips.contains(&t.source.ip()) {
            self.stats.unroutable += 1;
            return;
        }
        let realm = node.realm;
        let mut from = t.source;
        let to = t.destination;
        let dst_owner = self.owner(to.ip());
        let dst_realm = dst_owner.map(|o| self.nodes[o.0].realm);
        let same_realm = dst_realm == Some(realm);
        let mut via_nat = None;
        let dst_id;
        if same_realm {
            dst_id = dst_owner;
        } else {
            if let Some(nat) = realm {
                if self.nats[nat.0].config().public_ip == to.ip() {
                    // Hairpinning is not modelled.
                    self.stats.unroutable += 1;
                    return;
                }
                from = self.nats[nat.0].outbound(self.now, from, to);
            }
            match dst_realm {
                Some(None) => dst_id = dst_owner,
                Some(Some(_)) => {
                    // A private address of another realm.
                    self.stats.unroutable += 1;
                    return;
                }
                None => match self.nat_by_public(to.ip()) {
                    Some(n) => {
                        via_nat = Some(n);
                        dst_id = self.nats[n.0]
                            .peek(to.port())
                            .and_then(|a| self.owner(a.ip()));
                    }
                    None => {
                        self.stats.unroutable += 1;
                        return;
                    }
                },
            }
        }
        let default = self.config.default_link;
        let fate = match dst_id {
            Some(d) => {
                let link = self.link_mut(src_id, d);
                let cfg = link.config.unwrap_or(default);
                let mut state = std::mem::take(&mut link.state);
                let fate = state.fate(&cfg, data.len(), &mut self.rng);
                self.link_mut(src_id, d).state = state;
                fate
            }
            None => LinkState::default().fate(&default, data.len(), &mut self.rng),
        };
        match fate {
            Fate::TooBig => self.stats.too_big += 1,
            Fate::Lost => self.stats.lost += 1,
            Fate::Deliver(d1, d2) => {
                if let Some(d2) = d2 {
                    self.stats.duplicated += 1;
                    self.enqueue(self.now + d2, from, to, via_nat, data.clone());
                }
                self.enqueue(self.now + d1, from, to, via_nat, data);
            }
        }
    }

    fn deliver(&mut self, p: InFlight) {
        let mut to = p.to;
        if let Some(n) = p.via_nat {
            match self.nats[n.0].inbound(self.now, p.from, to.port()) {
                Ok(internal) => to = internal,
                Err(_) => {
                    self.stats.nat_dropped += 1;
                    return;
                }
            }
        }
        let Some(id) = self.owner(to.ip()) else {
            self.stats.unroutable += 1;
            return;
        };
        let node = &mut self.nodes[id.0];
        if !node.up {
            self.stats.unroutable += 1;
            return;
        }
        self.stats.delivered += 1;
        node.endpoint.handle_receive(self.now, p.from, to, &p.data);
    }

    /// Drains every endpoint's `poll_transmit` until `None`.
    pub fn flush(&mut self) {
        for i in 0..self.nodes.len() {
            if !self.nodes[i].up {
                continue;
            }
            loop {
                let now = self.now;
                let mut buf = std::mem::take(&mut self.buf);
                let t = self.nodes[i].endpoint.poll_transmit(now, &mut buf);
                self.buf = buf;
                match t {
                    Some(t) if t.len <= MAX_DATAGRAM => self.send(EndpointId(i), t),
                    Some(_) => self.stats.too_big += 1,
                    None => break,
                }
            }
        }
    }

    /// The earliest pending deadline: a datagram arriving or an endpoint
    /// timer (never earlier than now).
    pub fn next_deadline(&self) -> Option<Instant> {
        let packet = self.queue.peek().map(|p| p.0.at);
        let timer = self
            .nodes
            .iter()
            .filter(|n| n.up)
            .filter_map(|n| n.endpoint.poll_timeout())
            .min();
        match (packet, timer) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
        .map(|t| t.max(self.now))
    }

    /// One step: flush pending transmits, jump to the next deadline (if it
    /// is not after `limit`), deliver what arrives, fire due timers, and
    /// flush again. Returns the new time, or `None` if nothing is pending
    /// before `limit` (the clock then moves to `limit`).
    pub fn step(&mut self, limit: Instant) -> Option<Instant> {
        self.flush();
        let next = match self.next_deadline() {
            Some(t) if t <= limit => t,
            _ => {
                if limit > self.now {
                    self.now = limit;
                    self.steps_here = 0;
                }
                return None;
            }
        };
        if next > self.now {
            self.now = next;
            self.steps_here = 0;
        } else {
            self.steps_here += 1;
            assert!(
                self.steps_here < self.config.max_steps_at_one_instant,
                "tern-sim: livelock: {} steps without time advancing (seed {})",
                self.steps_here,
                self.config.seed
            );
        }
        while self.queue.peek().is_some_and(|p| p.0.at <= self.now) {
            let Some(Reverse(p)) = self.queue.pop() else {
                break;
            };
            self.deliver(p);
        }
        for i in 0..self.nodes.len() {
            let n = &mut self.nodes[i];
            if n.up && n.endpoint.poll_timeout().is_some_and(|t| t <= self.now) {
                n.endpoint.handle_timeout(self.now);
            }
        }
        self.flush();
        Some(self.now)
    }

    /// Runs until `done` holds (checked after every step) or `duration` of
    /// virtual time has passed. Returns whether `done` held.
    pub fn run_until(&mut self, duration: Duration, mut done: impl FnMut(&Self) -> bool) -> bool {
        let limit = self.now + duration;
        loop {
            if done(self) {
                return true;
            }
            if self.now >= limit {
                return false;
            }
            self.step(limit);
        }
    }

    /// Runs for `duration` of virtual time.
    pub fn run_for(&mut self, duration: Duration) {
        self.run_until(duration, |_| false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Echoes every datagram back; optionally pings a peer every second.
    #[derive(Debug, Default)]
    struct Echo {
        addr: Option<SocketAddr>,
        ping: Option<SocketAddr>,
        next_ping: Option<Instant>,
        out: Vec<(SocketAddr, SocketAddr, Vec<u8>)>,
        got: Vec<(Instant, SocketAddr, SocketAddr, Vec<u8>)>,
        counter: u32,
    }

    impl Endpoint for Echo {
        fn handle_receive(&mut self, now: Instant, from: SocketAddr, to: SocketAddr, data: &[u8]) {
            self.got.push((now, from, to, data.to_vec()));
            if self.ping.is_none() {
                self.out.push((to, from, data.to_vec()));
            }
        }
        fn handle_timeout(&mut self, now: Instant) {
            if let (Some(p), Some(a)) = (self.ping, self.addr) {
                self.counter += 1;
                self.out.push((a, p, self.counter.to_be_bytes().to_vec()));
                self.next_ping = Some(now + Duration::from_secs(1));
            }
        }
        fn poll_transmit(&mut self, _now: Instant, buf: &mut [u8]) -> Option<Transmit> {
            let (source, destination, d) = self.out.pop()?;
            buf[..d.len()].copy_from_slice(&d);
            Some(Transmit {
                source,
                destination,
                len: d.len(),
            })
        }
        fn poll_timeout(&self) -> Option<Instant> {
            self.next_ping
        }
    }

    fn a(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    fn pinger(sim_epoch: Instant, from: &str, to: &str) -> Echo {
        Echo {
            addr: Some(a(from)),
            ping: Some(a(to)),
            next_ping: Some(sim_epoch),
            ..Echo::default()
        }
    }

    #[test]
    fn clock_jumps_to_deadlines_and_delivers_after_delay() {
        let t0 = Instant::now();
        let mut sim = Sim::new(SimConfig::new(1, t0));
        let c = sim.add_endpoint(
            pinger(t0, "192.0.2.1:1000", "192.0.2.2:2000"),
            &["192.0.2.1".parse().unwrap()],
        );
        let s = sim.add_endpoint(Echo::default(), &["192.0.2.2".parse().unwrap()]);
        sim.set_link(c, s, LinkConfig::with_delay(Duration::from_millis(40)));
        sim.run_for(Duration::from_millis(2500));
        let got = &sim.endpoint(c).got;
        // Pings at 0, 1, 2 s; echoes back 80 ms later each.
        let times: Vec<_> = got.iter().map(|g| (g.0 - t0).as_millis()).collect();
        assert_eq!(times, [80, 1080, 2080]);
        assert_eq!(got[0].1, a("192.0.2.2:2000"));
        assert_eq!(sim.endpoint(s).got.len(), 3);
        assert_eq!(sim.elapsed(), Duration::from_millis(2500));
    }

    #[test]
    fn nat_translates_and_filters() {
        let t0 = Instant::now();
        let mut sim = Sim::new(SimConfig::new(2, t0));
        let nat = sim.add_nat(NatConfig::port_restricted("203.0.113.1".parse().unwrap()));
        let c = sim.add_endpoint_behind(
            nat,
            pinger(t0, "10.0.0.2:1000", "192.0.2.2:2000"),
            &["10.0.0.2".parse().unwrap()],
        );
        let s = sim.add_endpoint(Echo::default(), &["192.0.2.2".parse().unwrap()]);
        sim.run_for(Duration::from_millis(500));
        // The server saw the mapped address; the echo came back through.
        assert_eq!(sim.endpoint(s).got[0].1, a("203.0.113.1:40000"));
        assert_eq!(sim.endpoint(c).got.len(), 1);
        // A stranger cannot reach the mapping (port-restricted filtering).
        sim.inject(a("198.51.100.9:1"), a("203.0.113.1:40000"), b"hi");
        sim.run_for(Duration::from_millis(100));
        assert_eq!(sim.endpoint(c).got.len(), 1);
        assert_eq!(sim.stats().nat_dropped, 1);
        // After rebinding, the server sees a new port.
        sim.rebind_nat(nat);
        sim.run_for(Duration::from_secs(1));
        let last = sim.endpoint(s).got.last().unwrap().1;
        assert_eq!(last.ip(), "203.0.113.1".parse::<IpAddr>().unwrap());
        assert_ne!(last.port(), 40000);
        // Private addresses of another realm are unreachable.
        sim.inject(a("192.0.2.2:2000"), a("10.0.0.2:1000"), b"x");
        sim.run_for(Duration::from_millis(100));
        assert_eq!(sim.endpoint(c).got.len(), 2);
    }

    fn lossy_run(seed: u64) -> (Stats, Vec<u128>) {
        let t0 = Instant::now();
        let mut sim = Sim::new(SimConfig::new(seed, t0));
        sim.set_default_link(LinkConfig {
            delay: Duration::from_millis(30),
            jitter: Duration::from_millis(30),
            loss: Loss::Random(0.2),
            duplicate: 0.05,
            reorder: 0.1,
            ..LinkConfig::default()
        });
        let c = sim.add_endpoint(
            pinger(t0, "192.0.2.1:1000", "192.0.2.2:2000"),
            &["192.0.2.1".parse().unwrap()],
        );
        sim.add_endpoint(Echo::default(), &["192.0.2.2".parse().unwrap()]);
        sim.run_for(Duration::from_secs(200));
        let t: Vec<_> = sim
            .endpoint(c)
            .got
            .iter()
            .map(|g| (g.0 - t0).as_nanos())
            .collect();
        (sim.stats(), t)
    }

    #[test]
    fn same_seed_same_run() {
        let (s1, t1) = lossy_run(99);
        let (s2, t2) = lossy_run(99);
        let (s3, t3) = lossy_run(100);
        assert_eq!(s1, s2);
        assert_eq!(t1, t2);
        assert!(s1 != s3 || t1 != t3);
        assert!(s1.lost > 0 && s1.duplicated > 0);
    }

    #[test]
    fn endpoints_can_go_down() {
        let t0 = Instant::now();
        let mut sim = Sim::new(SimConfig::new(3, t0));
        let c = sim.add_endpoint(
            pinger(t0, "192.0.2.1:1000", "192.0.2.2:2000"),
            &["192.0.2.1".parse().unwrap()],
        );
        let s = sim.add_endpoint(Echo::default(), &["192.0.2.2".parse().unwrap()]);
        sim.run_for(Duration::from_millis(1500));
        sim.set_up(s, false);
        sim.run_for(Duration::from_secs(3));
        assert_eq!(sim.endpoint(c).got.len(), 2);
        assert_eq!(sim.endpoint(s).got.len(), 2);
    }

    #[test]
    fn spoofed_sources_are_dropped() {
        let t0 = Instant::now();
        let mut sim = Sim::new(SimConfig::new(4, t0));
        sim.add_endpoint(
            pinger(t0, "192.0.2.9:1000", "192.0.2.2:2000"),
            &["192.0.2.1".parse().unwrap()],
        );
        let s = sim.add_endpoint(Echo::default(), &["192.0.2.2".parse().unwrap()]);
        sim.run_for(Duration::from_millis(500));
        assert!(sim.endpoint(s).got.is_empty());
        assert_eq!(sim.stats().unroutable, 1);
    }
}
