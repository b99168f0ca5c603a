//! How a call fails: no usable answer ([`CallError`], with its [`TransportKind`]), or an answer
//! that is not the typed one ([`ApiError`]).

use crate::wire;
use std::sync::Arc;

/// What kind of failure a call met, for callers that act on it: read from the error itself
/// (reqwest's flags, the I/O error in its chain), never from its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransportKind {
    /// No answer in time.
    Timeout,
    /// The connection was reset, closed or broken during the exchange.
    Reset,
    /// No connection at all: refused, unreachable, no such host.
    Connect,
    /// The answer is longer than the client reads.
    TooLarge,
    /// The request could not be signed.
    Signing,
    /// A write refused in read-only mode, never sent.
    ReadOnly,
    /// The run stopped before the call was answered.
    Stopped,
    /// Anything else: a protocol error, a task that stopped.
    Other,
}

/// What a transport failure carries as its source: reqwest's error (without its URL, which can
/// hold a user name and password) or a stopped task's.
pub type TransportSource = Arc<dyn std::error::Error + Send + Sync>;

/// A call that got no usable HTTP answer. Equality is on what the error says (variant, operation,
/// message), not on its source: two identical failures are equal.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CallError {
    #[error("{operation}: {message}")]
    Transport {
        operation: String,
        message: String,
        #[source]
        source: Option<TransportSource>,
    },
    #[error("{operation}: the answer is longer than {limit} bytes; not read further")]
    TooLarge { operation: String, limit: usize },
    #[error("{operation}: cannot sign the request: {message}")]
    Signing { operation: String, message: String },
    #[error("{operation}: refused: the run is read-only and {operation} writes")]
    ReadOnly { operation: String },
    /// The run stopped (`EcrClient::with_stop`) before the call was answered: not sent, or not
    /// retried.
    #[error("{operation}: not sent: {reason}")]
    Stopped { operation: String, reason: String },
}

impl PartialEq for CallError {
    fn eq(&self, other: &Self) -> bool {
        use CallError::*;
        match (self, other) {
            (
                Transport {
                    operation: a,
                    message: m,
                    ..
                },
                Transport {
                    operation: b,
                    message: n,
                    ..
                },
            ) => a == b && m == n,
            (TooLarge { operation: a, limit: x }, TooLarge { operation: b, limit: y }) => a == b && x == y,
            (
                Signing {
                    operation: a,
                    message: m,
                },
                Signing {
                    operation: b,
                    message: n,
                },
            ) => a == b && m == n,
            (ReadOnly { operation: a }, ReadOnly { operation: b }) => a == b,
            (
                Stopped {
                    operation: a,
                    reason: m,
                },
                Stopped {
                    operation: b,
                    reason: n,
                },
            ) => a == b && m == n,
            _ => false,
        }
    }
}

impl Eq for CallError {}

impl CallError {
    /// What kind of failure this is.
    pub fn kind(&self) -> TransportKind {
        match self {
            CallError::Transport { source, .. } => source.as_deref().map_or(TransportKind::Other, classify),
            CallError::TooLarge { .. } => TransportKind::TooLarge,
            CallError::Signing { .. } => TransportKind::Signing,
            CallError::ReadOnly { .. } => TransportKind::ReadOnly,
            CallError::Stopped { .. } => TransportKind::Stopped,
        }
    }

    /// A transport failure of `operation`, in one line (see [`describe`]), the error kept as its
    /// source; `broke_off_after`: the bytes of the answer read before it broke off.
    pub(super) fn transport(operation: &str, e: reqwest::Error, broke_off_after: Option<usize>) -> Self {
        let e = e.without_url();
        let what = describe(&e);
        let message = match broke_off_after {
            None => what,
            Some(n) => format!("the answer broke off after {n} bytes: {what}"),
        };
        CallError::Transport {
            operation: operation.to_string(),
            message,
            source: Some(Arc::new(e)),
        }
    }
}

/// The kind of a transport error: a timeout wherever it arose, then the first I/O error (or
/// hyper's closed-connection errors) in its chain, then reqwest's connect flag.
fn classify(e: &(dyn std::error::Error + Send + Sync + 'static)) -> TransportKind {
    use std::io::ErrorKind as Io;
    let top = e.downcast_ref::<reqwest::Error>();
    if top.is_some_and(reqwest::Error::is_timeout) {
        return TransportKind::Timeout;
    }
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = next {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            match io.kind() {
                Io::TimedOut => return TransportKind::Timeout,
                Io::ConnectionReset | Io::ConnectionAborted | Io::BrokenPipe | Io::UnexpectedEof | Io::NotConnected => {
                    return TransportKind::Reset;
                }
                Io::ConnectionRefused | Io::HostUnreachable | Io::NetworkUnreachable | Io::AddrNotAvailable => {
                    return TransportKind::Connect;
                }
                _ => {}
            }
        }
        if let Some(h) = err.downcast_ref::<hyper::Error>()
            && (h.is_incomplete_message() || h.is_closed() || h.is_canceled())
        {
            return TransportKind::Reset;
        }
        next = err.source();
    }
    if top.is_some_and(reqwest::Error::is_connect) {
        return TransportKind::Connect;
    }
    TransportKind::Other
}

/// A typed call that did not give the typed answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Call(#[from] CallError),
    #[error("{operation}: HTTP {status} {}: {}", error_type.as_deref().unwrap_or("(no __type)"), message.as_deref().unwrap_or(""))]
    Service {
        operation: String,
        status: u16,
        error_type: Option<String>,
        message: Option<String>,
    },
    #[error("{operation}: HTTP 200 whose body is not the operation's answer: {detail}")]
    Unreadable { operation: String, detail: String },
}

impl ApiError {
    /// The normalised `__type` of a service error.
    pub fn error_type(&self) -> Option<&str> {
        match self {
            ApiError::Service {
                error_type: Some(t), ..
            } => Some(wire::normalise_error_type(t)),
            _ => None,
        }
    }
}

/// A transport error in one line, with its cause (reqwest's top line alone says little). Without
/// its URL: reqwest quotes the URL with its user name and password.
fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "the body could not be read"
    } else {
        "the request failed"
    };
    let mut causes = Vec::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        causes.push(s.to_string());
        source = s.source();
    }
    match causes.last() {
        Some(root) => format!("{kind}: {root}"),
        None => format!("{kind}: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    async fn failure(url: String, timeout: Duration) -> CallError {
        let client = reqwest::Client::builder().build().expect("a client");
        let e = client.post(url).timeout(timeout).send().await.expect_err("no answer");
        CallError::transport("BatchGetImage", e, None)
    }

    #[tokio::test]
    async fn a_refused_connection_is_connect_and_keeps_its_source() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        drop(listener);
        let e = failure(format!("http://{addr}/"), Duration::from_secs(5)).await;
        assert_eq!(e.kind(), TransportKind::Connect, "{e}");
        assert!(std::error::Error::source(&e).is_some());
    }

    #[tokio::test]
    async fn a_connection_closed_before_the_answer_is_reset() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            if let Ok((mut socket, _)) = listener.accept().await {
                let mut buf = [0u8; 1024];
                let _ = tokio::io::AsyncReadExt::read(&mut socket, &mut buf).await;
            }
        });
        let e = failure(format!("http://{addr}/"), Duration::from_secs(5)).await;
        assert_eq!(e.kind(), TransportKind::Reset, "{e}");
    }

    #[tokio::test]
    async fn no_answer_in_time_is_timeout() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let held = tokio::spawn(async move { listener.accept().await.map(|(socket, _)| socket) });
        let e = failure(format!("http://{addr}/"), Duration::from_millis(200)).await;
        assert_eq!(e.kind(), TransportKind::Timeout, "{e}");
        held.abort();
    }

    #[test]
    fn equality_is_on_what_the_error_says() {
        let a = CallError::Transport {
            operation: "X".into(),
            message: "m".into(),
            source: None,
        };
        let b = CallError::Transport {
            operation: "X".into(),
            message: "m".into(),
            source: Some(Arc::new(std::io::Error::other("m"))),
        };
        assert_eq!(a, b);
        assert_eq!(a.kind(), TransportKind::Other);
        assert_eq!(
            CallError::ReadOnly {
                operation: "PutImage".into()
            }
            .kind(),
            TransportKind::ReadOnly
        );
    }
}
