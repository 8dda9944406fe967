//! Two proxies for tests of keyctl's proxy support, on loopback: an HTTP proxy (plain requests
//! in absolute form, and `CONNECT` tunnels) and a SOCKS5 proxy. Each can demand a user and
//! password, resolves every host name to one upstream address (so a profile can name a host
//! that only the proxy knows, which proves the request went through it) and records what it
//! was asked for.
//!
//! One request per connection (the HTTP proxy answers with the upstream's reply and closes), a
//! thread per connection: small and obviously correct matters more here than speed.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;

use base64::Engine;

/// What a proxy was asked for, in order: `GET http://host/path`, `CONNECT host:443`,
/// `SOCKS host:80`; a refusal is recorded with ` (refused)` after it.
pub type Log = Arc<Mutex<Vec<String>>>;

/// A running proxy; it stops accepting when dropped (its port is closed by then).
pub struct Proxy {
    pub addr: SocketAddr,
    log: Log,
    _stop: StopOnDrop,
}

impl Proxy {
    /// The requests seen so far.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

/// `user`, `password` a client must present; `None`: anyone may use the proxy.
pub type Credentials = Option<(String, String)>;

/// An HTTP proxy forwarding to `upstream`.
pub fn http(upstream: SocketAddr, credentials: Credentials) -> Proxy {
    serve(move |client, log| http_session(client, upstream, &credentials, log))
}

/// A SOCKS5 proxy (RFC 1928, with RFC 1929 user/password when `credentials` is given)
/// connecting every request to `upstream`.
pub fn socks5(upstream: SocketAddr, credentials: Credentials) -> Proxy {
    serve(move |client, log| socks_session(client, upstream, &credentials, log))
}

struct StopOnDrop(Arc<std::sync::atomic::AtomicBool>, SocketAddr);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
        // Wakes the accept loop so that it sees the flag and drops the listener.
        let _ = TcpStream::connect(self.1);
    }
}

fn serve(
    session: impl Fn(TcpStream, &Log) -> io::Result<()> + Send + Sync + Clone + 'static,
) -> Proxy {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let addr = listener.local_addr().expect("local address");
    let log: Log = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (log2, stop2) = (log.clone(), stop.clone());
    thread::spawn(move || {
        for client in listener.incoming() {
            if stop2.load(std::sync::atomic::Ordering::SeqCst) {
                break;
            }
            let Ok(client) = client else { continue };
            let (session, log) = (session.clone(), log2.clone());
            thread::spawn(move || {
                let _ = session(client, &log);
            });
        }
    });
    Proxy {
        addr,
        log,
        _stop: StopOnDrop(stop, addr),
    }
}

fn http_session(
    mut client: TcpStream,
    upstream: SocketAddr,
    credentials: &Credentials,
    log: &Log,
) -> io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        headers.push(line);
    }
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let seen = format!("{method} {target}");
    if !authorized(&headers, credentials) {
        log.lock().unwrap().push(format!("{seen} (refused)"));
        client.write_all(
            b"HTTP/1.1 407 Proxy Authentication Required\r\n\
              Proxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        )?;
        return Ok(());
    }
    log.lock().unwrap().push(seen);
    let mut server = TcpStream::connect(upstream)?;
    if method == "CONNECT" {
        client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
        return pipe(reader, client, server);
    }
    // Absolute form to origin form; the proxy's own header stays here.
    let path = target
        .split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
        .unwrap_or("/");
    let mut head = format!("{method} {path} HTTP/1.1\r\n");
    let mut length = 0usize;
    for h in &headers {
        let name = h
            .split(':')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match name.as_str() {
            "proxy-authorization" | "proxy-connection" | "connection" => continue,
            "content-length" => {
                length = h
                    .split(':')
                    .nth(1)
                    .unwrap_or("0")
                    .trim()
                    .parse()
                    .unwrap_or(0)
            }
            _ => {}
        }
        head.push_str(h);
    }
    head.push_str("Connection: close\r\n\r\n");
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    server.write_all(head.as_bytes())?;
    server.write_all(&body)?;
    // The upstream closes after its reply (Connection: close); so does the proxy.
    io::copy(&mut server, &mut client)?;
    client.shutdown(Shutdown::Both)
}

fn authorized(headers: &[String], credentials: &Credentials) -> bool {
    let Some((user, password)) = credentials else {
        return true;
    };
    let expected = format!(
        "basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    );
    headers.iter().any(|h| {
        h.split_once(':').is_some_and(|(name, value)| {
            name.trim().eq_ignore_ascii_case("proxy-authorization")
                && value.trim().eq_ignore_ascii_case(&expected)
        })
    })
}

fn socks_session(
    mut client: TcpStream,
    upstream: SocketAddr,
    credentials: &Credentials,
    log: &Log,
) -> io::Result<()> {
    let mut greeting = [0u8; 2];
    client.read_exact(&mut greeting)?;
    let mut methods = vec![0u8; greeting[1] as usize];
    client.read_exact(&mut methods)?;
    let wanted = if credentials.is_some() { 2 } else { 0 };
    if greeting[0] != 5 || !methods.contains(&wanted) {
        client.write_all(&[5, 0xff])?;
        return Ok(());
    }
    client.write_all(&[5, wanted])?;
    let mut refused = false;
    if let Some((user, password)) = credentials {
        let mut version = [0u8; 1];
        client.read_exact(&mut version)?;
        let given_user = read_short(&mut client)?;
        let given_password = read_short(&mut client)?;
        refused = given_user != user.as_bytes() || given_password != password.as_bytes();
        client.write_all(&[1, u8::from(refused)])?;
    }
    if refused {
        log.lock().unwrap().push("SOCKS (refused)".into());
        return Ok(());
    }
    let mut request = [0u8; 4];
    client.read_exact(&mut request)?;
    let host = match request[3] {
        1 => {
            let mut ip = [0u8; 4];
            client.read_exact(&mut ip)?;
            std::net::Ipv4Addr::from(ip).to_string()
        }
        3 => String::from_utf8_lossy(&read_short(&mut client)?).into_owned(),
        _ => {
            client.write_all(&[5, 8, 0, 1, 0, 0, 0, 0, 0, 0])?;
            return Ok(());
        }
    };
    let mut port = [0u8; 2];
    client.read_exact(&mut port)?;
    log.lock()
        .unwrap()
        .push(format!("SOCKS {host}:{}", u16::from_be_bytes(port)));
    let server = TcpStream::connect(upstream)?;
    client.write_all(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 0])?;
    let reader = BufReader::new(client.try_clone()?);
    pipe(reader, client, server)
}

/// A length-prefixed string of SOCKS (one byte of length).
fn read_short(stream: &mut TcpStream) -> io::Result<Vec<u8>> {
    let mut len = [0u8; 1];
    stream.read_exact(&mut len)?;
    let mut value = vec![0u8; len[0] as usize];
    stream.read_exact(&mut value)?;
    Ok(value)
}

/// Copies both ways until either side closes.
fn pipe(
    mut from_client: BufReader<TcpStream>,
    mut client: TcpStream,
    mut server: TcpStream,
) -> io::Result<()> {
    let mut to_server = server.try_clone()?;
    let upward = thread::spawn(move || {
        // What the client sent after the request head may already be buffered.
        let _ = io::copy(&mut from_client, &mut to_server);
        let _ = to_server.shutdown(Shutdown::Write);
    });
    let _ = io::copy(&mut server, &mut client);
    let _ = client.shutdown(Shutdown::Both);
    let _ = upward.join();
    Ok(())
}
