//! A minimal blocking HTTP/1.1 GET, plain or over TLS, for polling nodes' `/health`,
//! `/ready` and `/cluster` without an async runtime or an HTTP client crate.

use colonies_client::admin::SECRET_HEADER;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

/// How long a poll waits for a node to accept the connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// How long it waits for the answer: room for `/cluster/digest` to hash a large state in a
/// debug build.
const READ_TIMEOUT: Duration = Duration::from_secs(15);

/// A GET of `path` on `addr`; `None` when the node does not answer in time.
pub fn http_get(addr: &str, path: &str) -> Option<(u16, String)> {
    http_get_with(addr, path, "")
}

/// A GET with extra header lines (each ending in CRLF).
pub fn http_get_with(addr: &str, path: &str, headers: &str) -> Option<(u16, String)> {
    exchange(connect(addr)?, addr, path, headers)
}

/// `http_get_with` over TLS with `config`; the server name is the address's IP.
pub fn https_get_with(
    addr: &str,
    path: &str,
    headers: &str,
    config: Arc<rustls::ClientConfig>,
) -> Option<(u16, String)> {
    let ip: SocketAddr = addr.parse().ok()?;
    let name = rustls::pki_types::ServerName::IpAddress(ip.ip().into());
    let connection = rustls::ClientConnection::new(config, name).ok()?;
    exchange(rustls::StreamOwned::new(connection, connect(addr)?), addr, path, headers)
}

/// The header line that carries `secret` to `/cluster` and `/cluster/digest`.
pub fn secret_header(secret: &str) -> String {
    format!("{SECRET_HEADER}: {secret}\r\n")
}

fn connect(addr: &str) -> Option<TcpStream> {
    let socket: SocketAddr = addr.parse().ok()?;
    let stream = TcpStream::connect_timeout(&socket, CONNECT_TIMEOUT).ok()?;
    stream.set_read_timeout(Some(READ_TIMEOUT)).ok()?;
    Some(stream)
}

fn exchange(mut stream: impl Read + Write, addr: &str, path: &str, headers: &str) -> Option<(u16, String)> {
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}Connection: close\r\n\r\n").ok()?;
    let mut bytes = Vec::new();
    // A TLS peer may close without close_notify; what arrived before still counts.
    let read = stream.read_to_end(&mut bytes);
    if bytes.is_empty() {
        read.ok()?;
    }
    let response = String::from_utf8_lossy(&bytes).into_owned();
    let status = response.split_whitespace().nth(1)?.parse().ok()?;
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    Some((status, body))
}

/// The text after `"field":` in a flat JSON object, without a JSON dependency.
fn value_after<'a>(body: &'a str, field: &str) -> Option<&'a str> {
    let key = format!("\"{field}\"");
    let rest = &body[body.find(&key)? + key.len()..];
    Some(rest.trim_start().strip_prefix(':')?.trim_start())
}

pub(crate) fn number_after(body: &str, field: &str) -> Option<u64> {
    let digits: String = value_after(body, field)?.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

pub(crate) fn string_after(body: &str, field: &str) -> Option<String> {
    let rest = value_after(body, field)?.strip_prefix('"')?;
    Some(rest[..rest.find('"')?].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_read_from_flat_json() {
        assert_eq!(number_after(r#"{"nodes":[],"leader": 2,"term":3}"#, "leader"), Some(2));
        assert_eq!(number_after(r#"{"leader":null}"#, "leader"), None);
        assert_eq!(string_after(r#"{"digest": "ab12", "x": 1}"#, "digest").as_deref(), Some("ab12"));
    }
}
