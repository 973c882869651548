//! A TCP proxy in front of the live server that can lose the reply to one command: it
//! forwards the command (so the server executes it) and then, instead of the reply,
//! closes the connection or goes silent. This is how a dropped connection or a timeout
//! after a write was applied looks to a client.
//!
//! It reads the wire protocol's message framing (a 16-byte header: length, requestID,
//! responseTo, opCode) and, for `OP_MSG`, the command name (the first key of the body).

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};

const OP_MSG: i32 = 2013;

/// What to do with the reply to the next command of the armed name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lose {
    /// Close the connection instead of forwarding the reply.
    Drop,
    /// Never forward the reply, keep the connection open.
    Stall,
}

#[derive(Debug, Default)]
struct State {
    armed: Option<(String, Lose)>,
    /// requestIDs whose replies are to be lost, and how.
    doomed: Vec<(i32, Lose)>,
    lost: usize,
}

/// The proxy; it runs until the runtime that started it stops.
#[derive(Debug, Clone)]
pub struct Proxy {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl Proxy {
    /// Listens on a free local port and forwards every connection to `upstream`.
    pub async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a local port");
        let addr = listener.local_addr().expect("an address");
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(&upstream).await else { continue };
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = server.into_split();
                tokio::spawn(requests(client_read, server_write, shared.clone()));
                tokio::spawn(replies(server_read, client_write, shared.clone()));
            }
        });
        Self { addr, state }
    }

    /// `host:port` of the proxy.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Loses the reply to the next command named `command` (e.g. `update`, `find`).
    pub fn arm(&self, command: &str, how: Lose) {
        self.lock().armed = Some((command.to_owned(), how));
    }

    /// How many replies have been lost so far.
    pub fn lost(&self) -> usize {
        self.lock().lost
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Reads one wire message (header included), or `None` at the end of the stream.
async fn read_message(from: &mut OwnedReadHalf) -> Option<Vec<u8>> {
    let mut header = [0u8; 16];
    from.read_exact(&mut header).await.ok()?;
    let length = usize::try_from(i32::from_le_bytes(header[0..4].try_into().ok()?)).ok()?;
    let mut message = header.to_vec();
    message.resize(length.max(16), 0);
    from.read_exact(&mut message[16..]).await.ok()?;
    Some(message)
}

fn int(message: &[u8], at: usize) -> i32 {
    message.get(at..at + 4).and_then(|b| b.try_into().ok()).map(i32::from_le_bytes).unwrap_or_default()
}

/// The command name of an `OP_MSG`: the first key of its body section.
fn command_name(message: &[u8]) -> Option<String> {
    if int(message, 12) != OP_MSG || message.get(20) != Some(&0) {
        return None;
    }
    // Body document: 4-byte length, then elements: 1-byte type, C-string key, ...
    let key = message.get(21 + 4 + 1..)?;
    let end = key.iter().position(|b| *b == 0)?;
    Some(String::from_utf8_lossy(&key[..end]).into_owned())
}

async fn requests(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, state: Arc<Mutex<State>>) {
    while let Some(message) = read_message(&mut from).await {
        {
            let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
            if let (Some((armed, how)), Some(name)) = (s.armed.clone(), command_name(&message)) {
                if armed == name {
                    s.armed = None;
                    s.doomed.push((int(&message, 4), how));
                }
            }
        }
        if to.write_all(&message).await.is_err() {
            return;
        }
    }
}

async fn replies(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, state: Arc<Mutex<State>>) {
    let mut stalled = BTreeSet::new();
    while let Some(message) = read_message(&mut from).await {
        let fate = {
            let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
            let responds_to = int(&message, 8);
            let fate = s.doomed.iter().position(|(id, _)| *id == responds_to).map(|i| s.doomed.remove(i).1);
            if fate.is_some() {
                s.lost += 1;
            }
            fate
        };
        match fate {
            Some(Lose::Drop) => {
                let _ = to.shutdown().await;
                return;
            }
            Some(Lose::Stall) => {
                stalled.insert(int(&message, 8));
            }
            None if !stalled.is_empty() => {} // the connection is wedged behind the lost reply
            None => {
                if to.write_all(&message).await.is_err() {
                    return;
                }
            }
        }
    }
}
