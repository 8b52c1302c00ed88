//! The TCP connections a process holds, read from `/proc` (Linux), for tests that check how
//! many connections devloop opens to a server.

use anyhow::{Context, Result};
use std::net::{IpAddr, SocketAddr};

/// How many established TCP connections process `pid` holds to `server`.
pub fn connections_to(pid: u32, server: SocketAddr) -> Result<usize> {
    let mut inodes = std::collections::HashSet::new();
    let fds = format!("/proc/{pid}/fd");
    for entry in std::fs::read_dir(&fds).with_context(|| format!("reading {fds}"))? {
        // A socket's link reads `socket:[<inode>]`; a descriptor closed meanwhile is gone.
        let Ok(target) = std::fs::read_link(entry?.path()) else {
            continue;
        };
        if let Some(inode) = target
            .to_str()
            .and_then(|t| t.strip_prefix("socket:["))
            .and_then(|t| t.strip_suffix(']'))
        {
            inodes.insert(inode.to_string());
        }
    }
    let mut count = 0;
    for table in ["tcp", "tcp6"] {
        let path = format!("/proc/{pid}/net/{table}");
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
        // `sl local_address rem_address st ... inode`: addresses in hex, state 01 established.
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() > 9
                && fields[3] == "01"
                && inodes.contains(fields[9])
                && parse_address(fields[2]) == Some(server)
            {
                count += 1;
            }
        }
    }
    Ok(count)
}

/// `0100007F:1A0B` (IPv4, the address's bytes as the kernel stores them) or the IPv6 form.
fn parse_address(text: &str) -> Option<SocketAddr> {
    let (ip, port) = text.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let ip = match ip.len() {
        8 => IpAddr::from(u32::from_str_radix(ip, 16).ok()?.to_ne_bytes()),
        32 => {
            let mut bytes = [0u8; 16];
            for (i, word) in bytes.chunks_mut(4).enumerate() {
                let value = u32::from_str_radix(&ip[i * 8..i * 8 + 8], 16).ok()?;
                word.copy_from_slice(&value.to_ne_bytes());
            }
            let ip = std::net::Ipv6Addr::from(bytes);
            ip.to_ipv4_mapped().map_or(IpAddr::V6(ip), IpAddr::V4)
        }
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_kernels_addresses() {
        assert_eq!(
            parse_address("0100007F:1A0B"),
            Some("127.0.0.1:6667".parse().unwrap())
        );
        assert_eq!(
            parse_address("0000000000000000FFFF00000100007F:1A0B"),
            Some("127.0.0.1:6667".parse().unwrap())
        );
        assert_eq!(parse_address("zz:1"), None);
    }
}
