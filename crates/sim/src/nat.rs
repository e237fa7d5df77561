//! NAT models (RFC 4787 terminology): endpoint-independent or
//! address-and-port-dependent mapping, three filtering behaviours, idle
//! timeouts and rebinding to new ports.
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

/// How a NAT picks the external address for outbound traffic (RFC 4787 §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mapping {
    /// One mapping per internal address, whatever the destination ("full
    /// cone", "restricted cone", "port-restricted cone").
    EndpointIndependent,
    /// One mapping per internal address and destination address and port
    /// ("symmetric NAT").
    AddressAndPortDependent,
}

/// Which inbound packets a NAT lets through a mapping (RFC 4787 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filtering {
    /// Anyone may send to the mapping.
    EndpointIndependent,
    /// Only IP addresses the inside has sent to.
    AddressDependent,
    /// Only IP address and port pairs the inside has sent to.
    AddressAndPortDependent,
}

/// A NAT's behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NatConfig {
    /// The NAT's public IP address.
    pub public_ip: IpAddr,
    /// Mapping behaviour.
    pub mapping: Mapping,
    /// Filtering behaviour.
    pub filtering: Filtering,
    /// A mapping idle (no outbound traffic) this long is dropped. RFC 4787
    /// REQ-5 asks for at least 2 minutes.
    pub mapping_timeout: Duration,
    /// The first external port handed out.
    pub first_port: u16,
}

impl NatConfig {
    /// A NAT with endpoint-independent mapping and address-and-port-dependent
    /// filtering (the common "port-restricted cone" home router).
    pub fn port_restricted(public_ip: IpAddr) -> Self {
        Self {
            public_ip,
            mapping: Mapping::EndpointIndependent,
            filtering: Filtering::AddressAndPortDependent,
            mapping_timeout: Duration::from_secs(120),
            first_port: 40_000,
        }
    }
    /// A "symmetric" NAT: address-and-port-dependent mapping and filtering.
    pub fn symmetric(public_ip: IpAddr) -> Self {
        Self {
            mapping: Mapping::AddressAndPortDependent,
            ..Self::port_restricted(public_ip)
        }
    }
    /// A "full cone" NAT: endpoint-independent mapping and filtering.
    pub fn full_cone(public_ip: IpAddr) -> Self {
        Self {
            filtering: Filtering::EndpointIndependent,
            ..Self::port_restricted(public_ip)
        }
    }
}

/// Most remote addresses one mapping remembers for filtering.
const MAX_PERMISSIONS: usize = 256;

#[derive(Debug, Clone)]
struct Binding {
    internal: SocketAddr,
    /// The destination this mapping is for (address-and-port-dependent
    /// mapping only).
    remote: Option<SocketAddr>,
    external_port: u16,
    permissions: Vec<SocketAddr>,
    last_outbound: Instant,
}

/// A NAT: its configuration and its mapping table.
#[derive(Debug, Clone)]
pub struct Nat {
    config: NatConfig,
    bindings: Vec<Binding>,
    next_port: u16,
}

impl Nat {
    pub(crate) fn new(config: NatConfig) -> Self {
        Self {
            config,
            bindings: Vec::new(),
            next_port: config.first_port,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &NatConfig {
        &self.config
    }

    /// Live mappings (including idle ones not yet swept).
    pub fn mapping_count(&self) -> usize {
        self.bindings.len()
    }

    fn alloc_port(&mut self) -> u16 {
        loop {
            let p = self.next_port;
            self.next_port = if self.next_port == u16::MAX {
                1024
            } else {
                self.next_port + 1
            };
            if !self.bindings.iter().any(|b| b.external_port == p) {
                return p;
            }
        }
    }

    fn sweep(&mut self, now: Instant) {
        let t = self.config.mapping_timeout;
        self.bindings
            .retain(|b| now.saturating_duration_since(b.last_outbound) < t);
    }

    /// Translates an outbound packet's source, creating or refreshing a
    /// mapping.
    pub(crate) fn outbound(
        &mut self,
        now: Instant,
        internal: SocketAddr,
        remote: SocketAddr,
    ) -> SocketAddr {
        self.sweep(now);
        let key_remote = match self.config.mapping {
            Mapping::EndpointIndependent => None,
            Mapping::AddressAndPortDependent => Some(remote),
        };
        let idx = match self
            .bindings
            .iter()
            .position(|b| b.internal == internal && b.remote == key_remote)
        {
            Some(i) => i,
            None => {
                let port = self.alloc_port();
                self.bindings.push(Binding {
                    internal,
                    remote: key_remote,
                    external_port: port,
                    permissions: Vec::new(),
                    last_outbound: now,
                });
                self.bindings.len() - 1
            }
        };
        let b = &mut self.bindings[idx];
        b.last_outbound = now;
        if !b.permissions.contains(&remote) {
            if b.permissions.len() >= MAX_PERMISSIONS {
                b.permissions.remove(0);
            }
            b.permissions.push(remote);
        }
        SocketAddr::new(self.config.public_ip, b.external_port)
    }

    /// The internal address an inbound packet from `remote` to external
    /// port `port` goes to, if a mapping exists and filtering allows it.
    pub(crate) fn inbound(
        &mut self,
        now: Instant,
        remote: SocketAddr,
        port: u16,
    ) -> Result<SocketAddr, &'static str> {
        self.sweep(now);
        let b = self
            .bindings
            .iter()
            .find(|b| b.external_port == port)
            .ok_or("no NAT mapping for the destination port")?;
        let allowed = match self.config.filtering {
            Filtering::EndpointIndependent => true,
            Filtering::AddressDependent => b.permissions.iter().any(|p| p.ip() == remote.ip()),
            Filtering::AddressAndPortDependent => b.permissions.contains(&remote),
        };
        if allowed {
            Ok(b.internal)
        } else {
            Err("filtered by the NAT")
        }
    }

    /// The internal address behind an external port, ignoring filtering
    /// (for choosing the link a packet travels on).
    pub(crate) fn peek(&self, port: u16) -> Option<SocketAddr> {
        self.bindings
            .iter()
            .find(|b| b.external_port == port)
            .map(|b| b.internal)
    }

    /// Rebinding: every mapping is forgotten and later traffic gets new
    /// external ports, as when a NAT reboots or reassigns ports.
    pub(crate) fn rebind(&mut self) {
        let skip = u16::try_from(self.bindings.len()).unwrap_or(0).max(1);
        self.bindings.clear();
        self.next_port = self.next_port.wrapping_add(skip).max(1024);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn endpoint_independent_mapping_reuses_the_port() {
        let t = Instant::now();
        let mut n = Nat::new(NatConfig::port_restricted("203.0.113.1".parse().unwrap()));
        let m1 = n.outbound(t, a("10.0.0.1:5000"), a("198.51.100.1:3478"));
        let m2 = n.outbound(t, a("10.0.0.1:5000"), a("198.51.100.2:9000"));
        assert_eq!(m1, m2);
        assert_eq!(m1, a("203.0.113.1:40000"));
        // Port-restricted filtering: only addresses sent to get in.
        assert_eq!(
            n.inbound(t, a("198.51.100.1:3478"), 40000),
            Ok(a("10.0.0.1:5000"))
        );
        assert!(n.inbound(t, a("198.51.100.1:3479"), 40000).is_err());
        assert!(n.inbound(t, a("198.51.100.3:9000"), 40000).is_err());
    }

    #[test]
    fn symmetric_mapping_differs_per_destination() {
        let t = Instant::now();
        let mut n = Nat::new(NatConfig::symmetric("203.0.113.1".parse().unwrap()));
        let m1 = n.outbound(t, a("10.0.0.1:5000"), a("198.51.100.1:3478"));
        let m2 = n.outbound(t, a("10.0.0.1:5000"), a("198.51.100.2:9000"));
        assert_ne!(m1, m2);
    }

    #[test]
    fn filtering_modes() {
        let t = Instant::now();
        for (f, same_ip_other_port, other_ip) in [
            (Filtering::EndpointIndependent, true, true),
            (Filtering::AddressDependent, true, false),
            (Filtering::AddressAndPortDependent, false, false),
        ] {
            let mut n = Nat::new(NatConfig {
                filtering: f,
                ..NatConfig::port_restricted("203.0.113.1".parse().unwrap())
            });
            let m = n.outbound(t, a("10.0.0.1:5000"), a("198.51.100.1:3478"));
            assert!(n.inbound(t, a("198.51.100.1:3478"), m.port()).is_ok());
            assert_eq!(
                n.inbound(t, a("198.51.100.1:1"), m.port()).is_ok(),
                same_ip_other_port,
                "{f:?}"
            );
            assert_eq!(
                n.inbound(t, a("192.0.2.9:3478"), m.port()).is_ok(),
                other_ip,
                "{f:?}"
            );
        }
    }

    #[test]
    fn idle_mappings_expire_and_rebinding_changes_the_port() {
        let t = Instant::now();
        let mut n = Nat::new(NatConfig::full_cone("203.0.113.1".parse().unwrap()));
        let m1 = n.outbound(t, a("10.0.0.1:5000"), a("198.51.100.1:3478"));
        n.rebind();
        assert!(n.inbound(t, a("198.51.100.1:3478"), m1.port()).is_err());
        let m2 = n.outbound(t, a("10.0.0.1:5000"), a("198.51.100.1:3478"));
        assert_ne!(m1.port(), m2.port());
        let later = t + Duration::from_secs(121);
        assert!(n.inbound(later, a("198.51.100.1:3478"), m2.port()).is_err());
        assert_eq!(n.mapping_count(), 0);
    }
}
