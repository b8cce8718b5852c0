//! A minimal SMTP server on loopback (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) that
//! captures every accepted message. A real server over TCP, so lettre is exercised for real.
//! It can also offer STARTTLS or implicit TLS (with a self-signed certificate made by rcgen),
//! require AUTH PLAIN/LOGIN, answer DATA with a chosen 4xx or 5xx reply, and be "down" (every
//! connection gets `421` and is closed) while keeping its port.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

#[derive(Debug, Clone)]
pub struct Captured {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
}

impl Captured {
    /// The value of a header (first occurrence), unfolded.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next().unwrap_or_default();
        let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
        unfolded.lines().find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }

    /// Every body part, decoded (quoted-printable or base64), in order.
    pub fn parts(&self) -> Vec<(String, String)> {
        let mut parts = Vec::new();
        let content_type = self.header("Content-Type").unwrap_or_default();
        let Some(boundary) = content_type
            .split("boundary=")
            .nth(1)
            .map(|b| b.trim_matches('"').to_string())
        else {
            return parts;
        };
        let delimiter = format!("\r\n--{boundary}");
        for chunk in self.data.split(&delimiter) {
            let Some((head, body)) = chunk.split_once("\r\n\r\n") else {
                continue;
            };
            let head_l = head.to_ascii_lowercase();
            let Some(ct) = head_l.lines().find(|l| l.starts_with("content-type:")) else {
                continue;
            };
            if ct.contains("multipart/") {
                continue;
            }
            let decoded = if head_l.contains("content-transfer-encoding: base64") {
                base64(body)
            } else if head_l.contains("content-transfer-encoding: quoted-printable") {
                quoted_printable(body)
            } else {
                body.to_string()
            };
            parts.push((
                ct.trim_start_matches("content-type:").trim().to_string(),
                decoded,
            ));
        }
        parts
    }

    pub fn text(&self) -> String {
        self.parts()
            .into_iter()
            .find(|(ct, _)| ct.starts_with("text/plain"))
            .map(|(_, b)| b)
            .unwrap_or_default()
    }

    pub fn html(&self) -> String {
        self.parts()
            .into_iter()
            .find(|(ct, _)| ct.starts_with("text/html"))
            .map(|(_, b)| b)
            .unwrap_or_default()
    }

    /// The first URL in the text part containing `needle`.
    pub fn link(&self, needle: &str) -> Option<String> {
        self.text()
            .split_whitespace()
            .find(|w| w.starts_with("http") && w.contains(needle))
            .map(str::to_string)
    }
}

fn quoted_printable(body: &str) -> String {
    let joined = body.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn base64(body: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let mut buffer = 0u32;
    let mut bits = 0;
    for c in body.bytes() {
        let Some(v) = ALPHABET.iter().position(|a| *a == c) else {
            continue;
        };
        buffer = (buffer << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// How the server secures its connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain, upgraded when the client says STARTTLS (advertised in EHLO).
    Starttls,
    /// TLS from the first byte.
    Implicit,
}

/// What the server offers and demands.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub tls: Option<TlsMode>,
    /// `(user, password)`: AUTH PLAIN and LOGIN are offered and required before MAIL.
    pub auth: Option<(String, String)>,
}

/// A self-signed certificate for `localhost` and `127.0.0.1`.
pub struct TestCert {
    /// The certificate as PEM, for the mailer's `mail.ca_file`.
    pub pem: String,
    acceptor: TlsAcceptor,
}

impl TestCert {
    pub fn new() -> Self {
        let rcgen::CertifiedKey { cert, signing_key } =
            rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
                .unwrap();
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(signing_key.serialize_der().into());
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], key)
        .unwrap();
        Self {
            pem: cert.pem(),
            acceptor: TlsAcceptor::from(Arc::new(config)),
        }
    }

    /// Writes the PEM into `dir` and returns its path.
    pub fn write_pem(&self, dir: &std::path::Path) -> String {
        let path = dir.join("smtp-ca.pem");
        std::fs::write(&path, &self.pem).unwrap();
        path.display().to_string()
    }
}

/// What the running server does, changeable from the test.
#[derive(Default)]
struct Control {
    down: AtomicBool,
    /// The reply to the end of DATA instead of `250` (e.g. `451 4.3.0 try later`).
    data_reply: Mutex<Option<String>>,
    connections: AtomicUsize,
    /// TLS handshakes completed (implicit or after STARTTLS).
    tls_sessions: AtomicUsize,
    /// Successful AUTH exchanges.
    logins: AtomicUsize,
}

pub struct SmtpServer {
    pub port: u16,
    messages: Arc<Mutex<Vec<Captured>>>,
    arrived: watch::Receiver<usize>,
    control: Arc<Control>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

impl SmtpServer {
    /// A plain server without login.
    pub async fn start() -> Self {
        Self::start_with(Options::default(), None).await
    }

    /// A server with TLS (needs `cert`) and/or login.
    pub async fn start_with(options: Options, cert: Option<&TestCert>) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let messages = Arc::new(Mutex::new(Vec::new()));
        let (arrived_tx, arrived) = watch::channel(0usize);
        let arrived_tx = Arc::new(arrived_tx);
        let control = Arc::new(Control::default());
        let acceptor = cert.map(|c| c.acceptor.clone());
        assert!(
            options.tls.is_none() || acceptor.is_some(),
            "TLS needs a certificate"
        );
        let (store, ctl) = (messages.clone(), control.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    break;
                };
                ctl.connections.fetch_add(1, Ordering::SeqCst);
                let session = Session {
                    store: store.clone(),
                    arrived: arrived_tx.clone(),
                    control: ctl.clone(),
                    options: options.clone(),
                    acceptor: acceptor.clone(),
                };
                tokio::spawn(async move {
                    let _ = session.run(socket).await;
                });
            }
        });
        Self {
            port,
            messages,
            arrived,
            control,
            task,
        }
    }

    pub fn messages(&self) -> Vec<Captured> {
        self.messages.lock().unwrap().clone()
    }

    pub fn to(&self, address: &str) -> Vec<Captured> {
        self.messages()
            .into_iter()
            .filter(|m| m.to.iter().any(|t| t.eq_ignore_ascii_case(address)))
            .collect()
    }

    /// Waits (at most 10 s) until at least `n` messages arrived; returns them all.
    pub async fn wait_for(&self, n: usize) -> Vec<Captured> {
        let mut arrived = self.arrived.clone();
        let reached = tokio::time::timeout(Duration::from_secs(10), arrived.wait_for(|c| *c >= n))
            .await
            .map(|r| r.is_ok())
            .unwrap_or(false);
        let messages = self.messages();
        assert!(
            reached,
            "expected {n} mails, got {}: {messages:#?}",
            messages.len()
        );
        messages
    }

    /// While down, every connection is greeted with `421` and closed (the port stays ours).
    pub fn set_down(&self, down: bool) {
        self.control.down.store(down, Ordering::SeqCst);
    }

    /// Answers the end of DATA with `reply` (a full line such as `550 5.1.1 no such user`), or
    /// with `250` again when `None`.
    pub fn set_data_reply(&self, reply: Option<&str>) {
        *self.control.data_reply.lock().unwrap() = reply.map(str::to_string);
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.control.connections.load(Ordering::SeqCst)
    }

    /// TLS handshakes completed so far.
    pub fn tls_sessions(&self) -> usize {
        self.control.tls_sessions.load(Ordering::SeqCst)
    }

    /// Successful logins so far.
    pub fn logins(&self) -> usize {
        self.control.logins.load(Ordering::SeqCst)
    }
}

struct Session {
    store: Arc<Mutex<Vec<Captured>>>,
    arrived: Arc<watch::Sender<usize>>,
    control: Arc<Control>,
    options: Options,
    acceptor: Option<TlsAcceptor>,
}

impl Session {
    async fn run(self, socket: tokio::net::TcpStream) -> std::io::Result<()> {
        if self.control.down.load(Ordering::SeqCst) {
            let mut socket = socket;
            socket
                .write_all(b"421 4.3.2 service not available, try later\r\n")
                .await?;
            return socket.shutdown().await;
        }
        let mut encrypted = false;
        let mut stream: BufReader<Box<dyn Stream>> = match (self.options.tls, &self.acceptor) {
            (Some(TlsMode::Implicit), Some(acceptor)) => {
                let tls = acceptor.accept(socket).await?;
                self.control.tls_sessions.fetch_add(1, Ordering::SeqCst);
                encrypted = true;
                BufReader::new(Box::new(tls))
            }
            _ => BufReader::new(Box::new(socket)),
        };
        stream
            .write_all(b"220 localhost ESMTP kith-test\r\n")
            .await?;
        let mut authenticated = self.options.auth.is_none();
        let mut from = String::new();
        let mut to = Vec::new();
        let mut line = String::new();
        loop {
            line.clear();
            if stream.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let command = line.trim_end().to_string();
            let upper = command.to_ascii_uppercase();
            if upper.starts_with("EHLO") {
                let mut reply = String::from("250-localhost\r\n250-8BITMIME\r\n");
                if self.options.tls == Some(TlsMode::Starttls) && !encrypted {
                    reply.push_str("250-STARTTLS\r\n");
                }
                if self.options.auth.is_some() {
                    reply.push_str("250-AUTH PLAIN LOGIN\r\n");
                }
                reply.push_str("250 SMTPUTF8\r\n");
                stream.write_all(reply.as_bytes()).await?;
            } else if upper.starts_with("HELO") {
                stream.write_all(b"250 localhost\r\n").await?;
            } else if upper == "STARTTLS" && self.options.tls == Some(TlsMode::Starttls) {
                stream
                    .write_all(b"220 2.0.0 ready to start TLS\r\n")
                    .await?;
                stream.flush().await?;
                let acceptor = self.acceptor.clone().unwrap();
                let plain = stream.into_inner();
                let tls = acceptor.accept(plain).await?;
                self.control.tls_sessions.fetch_add(1, Ordering::SeqCst);
                encrypted = true;
                stream = BufReader::new(Box::new(tls));
            } else if upper.starts_with("AUTH ") && self.options.auth.is_some() {
                let ok = self.auth(&mut stream, &command[5..]).await?;
                if ok {
                    authenticated = true;
                    self.control.logins.fetch_add(1, Ordering::SeqCst);
                    stream
                        .write_all(b"235 2.7.0 authentication succeeded\r\n")
                        .await?;
                } else {
                    stream
                        .write_all(b"535 5.7.8 authentication credentials invalid\r\n")
                        .await?;
                }
            } else if upper.starts_with("MAIL FROM:") {
                if !authenticated {
                    stream
                        .write_all(b"530 5.7.0 authentication required\r\n")
                        .await?;
                    continue;
                }
                from = address(&command[10..]);
                to.clear();
                stream.write_all(b"250 OK\r\n").await?;
            } else if upper.starts_with("RCPT TO:") {
                to.push(address(&command[8..]));
                stream.write_all(b"250 OK\r\n").await?;
            } else if upper == "DATA" {
                stream.write_all(b"354 go ahead\r\n").await?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if stream.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    let unstuffed = line.strip_prefix('.').unwrap_or(&line);
                    data.push_str(unstuffed);
                }
                let refusal = self.control.data_reply.lock().unwrap().clone();
                if let Some(reply) = refusal {
                    stream.write_all(format!("{reply}\r\n").as_bytes()).await?;
                    continue;
                }
                let count = {
                    let mut store = self.store.lock().unwrap();
                    store.push(Captured {
                        from: from.clone(),
                        to: to.clone(),
                        data,
                    });
                    store.len()
                };
                self.arrived.send_replace(count);
                stream.write_all(b"250 2.0.0 OK queued as test\r\n").await?;
            } else if upper == "RSET" || upper == "NOOP" {
                stream.write_all(b"250 OK\r\n").await?;
            } else if upper == "QUIT" {
                stream.write_all(b"221 bye\r\n").await?;
                return Ok(());
            } else {
                stream.write_all(b"502 not implemented\r\n").await?;
            }
        }
    }

    /// AUTH PLAIN (initial response or after `334`) and AUTH LOGIN; true when the user and
    /// password match.
    async fn auth(
        &self,
        stream: &mut BufReader<Box<dyn Stream>>,
        rest: &str,
    ) -> std::io::Result<bool> {
        let Some((user, password)) = &self.options.auth else {
            return Ok(false);
        };
        let mut parts = rest.split_whitespace();
        let mechanism = parts.next().unwrap_or_default().to_ascii_uppercase();
        let initial = parts.next().map(str::to_string);
        let mut ask = async |prompt: &[u8]| -> std::io::Result<String> {
            stream.write_all(prompt).await?;
            let mut answer = String::new();
            stream.read_line(&mut answer).await?;
            Ok(answer.trim().to_string())
        };
        match mechanism.as_str() {
            "PLAIN" => {
                let encoded = match initial {
                    Some(i) => i,
                    None => ask(b"334 \r\n").await?,
                };
                let decoded = base64(&encoded);
                let mut fields = decoded.split('\0');
                let _authzid = fields.next();
                Ok(
                    fields.next() == Some(user.as_str())
                        && fields.next() == Some(password.as_str()),
                )
            }
            "LOGIN" => {
                let given_user = match initial {
                    Some(i) => base64(&i),
                    None => base64(&ask(b"334 VXNlcm5hbWU6\r\n").await?),
                };
                let given_password = base64(&ask(b"334 UGFzc3dvcmQ6\r\n").await?);
                Ok(&given_user == user && &given_password == password)
            }
            _ => Ok(false),
        }
    }
}

fn address(raw: &str) -> String {
    let raw = raw.trim();
    let start = raw.find('<').map(|i| i + 1).unwrap_or(0);
    let end = raw[start..]
        .find('>')
        .map(|i| start + i)
        .unwrap_or(raw.len());
    raw[start..end].to_string()
}
