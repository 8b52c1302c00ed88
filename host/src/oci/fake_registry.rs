//! A tiny HTTP/1.1 server for unit tests of the registry client: answers each request with
//! what a closure returns and records the request heads. (Integration tests use the test
//! ground's real registry instead.)

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

/// One request as received: the request line, lowercased header lines, and the body.
#[derive(Debug, Clone)]
pub struct Seen {
    pub line: String,
    pub headers: Vec<String>,
    pub body: Vec<u8>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<String> {
        let prefix = format!("{}:", name.to_ascii_lowercase());
        self.headers
            .iter()
            .find(|h| h.to_ascii_lowercase().starts_with(&prefix))
            .map(|h| h[prefix.len()..].trim().to_string())
    }
}

/// A status, extra headers and a body.
pub type Answer = (u16, Vec<(String, String)>, Vec<u8>);

pub struct FakeRegistry {
    pub addr: String,
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

/// Starts a server on a free loopback port; it lives as long as the test process.
pub fn start(answer: impl Fn(&Seen) -> Answer + Send + 'static) -> FakeRegistry {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                continue;
            }
            let mut headers = Vec::new();
            loop {
                let mut h = String::new();
                reader.read_line(&mut h).unwrap();
                let h = h.trim_end().to_string();
                if h.is_empty() {
                    break;
                }
                headers.push(h);
            }
            let mut request = Seen {
                line: line.trim_end().to_string(),
                headers,
                body: Vec::new(),
            };
            let length: usize = request
                .header("content-length")
                .and_then(|l| l.parse().ok())
                .unwrap_or(0);
            request.body = vec![0; length];
            reader.read_exact(&mut request.body).unwrap();
            let (status, extra, body) = answer(&request);
            log.lock().unwrap().push(request);
            let mut head = format!(
                "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
                body.len()
            );
            for (k, v) in extra {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            head.push_str("\r\n");
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    FakeRegistry { addr, seen }
}
