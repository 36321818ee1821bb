//! Who is on the other end of a connection: the peer's socket address, or — only when that
//! peer is a configured trusted proxy — the client it names in `Forwarded` (RFC 7239) or
//! `X-Forwarded-For`. Throttling and the sign-in event log key on the result (issue 9 item 12),
//! so a header from anyone else must never move a client into another bucket.

use std::net::IpAddr;
use std::str::FromStr;

/// An address block such as `10.0.0.0/8` or `::1/128`; a bare address is a /32 or /128.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let network: IpAddr = addr
            .parse()
            .map_err(|_| format!("{s:?} is not an address or CIDR block"))?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{s:?}: the prefix length must be 0 to {max}"))?,
        };
        Ok(Cidr { network, prefix })
    }
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        // An IPv4 peer on a dual-stack socket arrives as ::ffff:a.b.c.d.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.network, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// One `for=` value of `Forwarded`, or one entry of `X-Forwarded-For`: an address, possibly
/// quoted, bracketed (IPv6) and with a port. Obfuscated identifiers and `unknown` are `None`.
fn node_address(raw: &str) -> Option<IpAddr> {
    let v = raw.trim().trim_matches('"');
    if let Some(rest) = v.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    if let Ok(ip) = v.parse() {
        return Some(ip);
    }
    // a.b.c.d:port
    let (host, _) = v.rsplit_once(':')?;
    host.parse().ok()
}

/// The chain of addresses a request passed through, as the forwarding headers tell it, client
/// first. `Forwarded` wins over `X-Forwarded-For` when both are present.
fn forwarded_chain(forwarded: &[&str], x_forwarded_for: &[&str]) -> Vec<Option<IpAddr>> {
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .flat_map(|h| h.split(','))
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.split_once('='))
                    .find(|(k, _)| k.trim().eq_ignore_ascii_case("for"))
                    .and_then(|(_, v)| node_address(v))
            })
            .collect();
    }
    x_forwarded_for
        .iter()
        .flat_map(|h| h.split(','))
        .map(node_address)
        .collect()
}

/// The client's address. The forwarding headers are read only when `peer` is a trusted proxy,
/// and then from the right: each hop appends, so the right-most address that is not itself a
/// trusted proxy is the first one no proxy of ours vouched for being forged.
pub fn client_address(
    peer: IpAddr,
    trusted: &[Cidr],
    forwarded: &[&str],
    x_forwarded_for: &[&str],
) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let mut client = peer;
    for hop in forwarded_chain(forwarded, x_forwarded_for)
        .into_iter()
        .rev()
    {
        match hop {
            Some(ip) => {
                client = ip;
                if !is_trusted(ip) {
                    break;
                }
            }
            // An unknown or obfuscated hop: nothing further left can be trusted.
            None => break,
        }
    }
    client
}

/// Did the request reach the first trusted proxy over TLS? Only a trusted proxy may say so.
pub fn forwarded_https(
    peer: IpAddr,
    trusted: &[Cidr],
    forwarded: &[&str],
    x_forwarded_proto: Option<&str>,
) -> bool {
    if !trusted.iter().any(|c| c.contains(peer)) {
        return false;
    }
    let in_forwarded = forwarded.iter().flat_map(|h| h.split([',', ';'])).any(|p| {
        p.split_once('=').is_some_and(|(k, v)| {
            k.trim().eq_ignore_ascii_case("proto") && v.trim().trim_matches('"') == "https"
        })
    });
    in_forwarded || x_forwarded_proto.is_some_and(|p| p.trim().eq_ignore_ascii_case("https"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn cidrs(list: &[&str]) -> Vec<Cidr> {
        list.iter().map(|c| c.parse().unwrap()).collect()
    }

    #[test]
    fn blocks_match_their_addresses_only() {
        let c: Cidr = "10.1.0.0/16".parse().unwrap();
        assert!(c.contains(ip("10.1.200.3")));
        assert!(!c.contains(ip("10.2.0.1")));
        assert!(c.contains(ip("::ffff:10.1.0.9")), "v4-mapped peers");
        let c: Cidr = "fd00::/8".parse().unwrap();
        assert!(c.contains(ip("fd12::1")) && !c.contains(ip("fe80::1")));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("203.0.113.9")));
        let one: Cidr = "192.0.2.7".parse().unwrap();
        assert!(one.contains(ip("192.0.2.7")) && !one.contains(ip("192.0.2.8")));
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
        assert!("proxy.example".parse::<Cidr>().is_err());
    }

    #[test]
    fn headers_count_only_from_trusted_proxies() {
        let trusted = cidrs(&["10.0.0.0/8"]);
        // A client forging the header directly is its own address.
        assert_eq!(
            client_address(ip("203.0.113.5"), &trusted, &[], &["198.51.100.1"]),
            ip("203.0.113.5")
        );
        // Behind our proxy: the address the proxy appended.
        assert_eq!(
            client_address(ip("10.0.0.2"), &trusted, &[], &["198.51.100.1"]),
            ip("198.51.100.1")
        );
        // A forged entry the client prepended is left of the one our proxy appended.
        assert_eq!(
            client_address(
                ip("10.0.0.2"),
                &trusted,
                &[],
                &["1.2.3.4, 198.51.100.1, 10.0.0.3"]
            ),
            ip("198.51.100.1")
        );
        // RFC 7239, quoted IPv6 with a port; Forwarded wins over X-Forwarded-For.
        assert_eq!(
            client_address(
                ip("10.0.0.2"),
                &trusted,
                &["for=192.0.2.60;proto=https, for=\"[2001:db8::1]:4711\""],
                &["198.51.100.1"]
            ),
            ip("2001:db8::1")
        );
        assert_eq!(
            client_address(ip("10.0.0.2"), &trusted, &["for=unknown"], &[]),
            ip("10.0.0.2")
        );
        assert_eq!(
            client_address(ip("10.0.0.2"), &[], &[], &["198.51.100.1"]),
            ip("10.0.0.2"),
            "no trusted proxies: headers ignored"
        );
    }

    #[test]
    fn only_a_trusted_proxy_says_https() {
        let trusted = cidrs(&["127.0.0.1"]);
        assert!(forwarded_https(
            ip("127.0.0.1"),
            &trusted,
            &[],
            Some("https")
        ));
        assert!(forwarded_https(
            ip("127.0.0.1"),
            &trusted,
            &["for=1.2.3.4;proto=https"],
            None
        ));
        assert!(!forwarded_https(
            ip("192.0.2.1"),
            &trusted,
            &[],
            Some("https")
        ));
    }
}
