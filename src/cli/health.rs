//! `newsd health`: asks the running daemon's admin endpoint whether it is healthy (`/healthz`)
//! or, with `--ready`, ready (`/readyz`); exit 0 on 200, 1 otherwise. The container's
//! HEALTHCHECK runs it, so the image needs no curl.

use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::time::Duration;

use anyhow::{Context, bail};

use crate::config::Config;

/// Longest the whole check may take: a probe that hangs is a failed probe.
const TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, clap::Args)]
pub struct HealthArgs {
    /// Ask /readyz (ready to work) instead of /healthz (alive)
    #[arg(long)]
    pub ready: bool,
}

pub fn run(cfg: &Config, args: &HealthArgs) -> anyhow::Result<()> {
    let addr = match cfg.daemon.admin_addr() {
        Ok(Some(addr)) => reachable(addr),
        Ok(None) => bail!("daemon.admin_listen is off: there is no endpoint to ask"),
        Err(e) => bail!("daemon.admin_listen: {e}"),
    };
    let path = if args.ready { "/readyz" } else { "/healthz" };
    let status = get(addr, path).with_context(|| format!("http://{addr}{path}"))?;
    if status.split(' ').nth(1) != Some("200") {
        bail!("http://{addr}{path} answered {status:?}");
    }
    super::output::status(format_args!("{path}: {status}\n"));
    Ok(())
}

/// A daemon listening on every address is asked on loopback.
fn reachable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => (Ipv4Addr::LOCALHOST, addr.port()).into(),
        IpAddr::V6(ip) if ip.is_unspecified() => (Ipv6Addr::LOCALHOST, addr.port()).into(),
        _ => addr,
    }
}

/// The status line of `GET path`.
fn get(addr: SocketAddr, path: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect_timeout(&addr, TIMEOUT)?;
    stream.set_read_timeout(Some(TIMEOUT))?;
    stream.set_write_timeout(Some(TIMEOUT))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line)?;
    Ok(line.trim_end().to_string())
}
