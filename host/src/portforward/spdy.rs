//! The SPDY/3.1 frames a port-forward client sends and reads (the framing of the
//! `portforward.k8s.io` protocol that kubectl speaks): one connection to the pod carries any
//! number of streams, so a new local connection costs two frames rather than a handshake.
//!
//! Only what a port-forward client needs is here. Header blocks the server sends (the
//! replies to our streams) are skipped by their length and never decompressed: a forward
//! needs their stream ids, not their headers, so the server's shared compression context is
//! never needed either.

use bytes::{BufMut, BytesMut};
use flate2::{Compress, Compression, FlushCompress};

const VERSION: u16 = 3;
/// The largest payload a frame can declare (24 bits of length).
pub const MAX_PAYLOAD: usize = (1 << 24) - 1;

pub const SYN_STREAM: u16 = 1;
pub const RST_STREAM: u16 = 3;
pub const PING: u16 = 6;
pub const GOAWAY: u16 = 7;

/// The FIN flag: the sender sends nothing more on the stream.
const FLAG_FIN: u8 = 0x01;
/// RST_STREAM status CANCEL: the stream is no longer needed.
pub const CANCEL: u32 = 5;

/// A frame's first eight bytes, decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Head {
    Data { stream: u32, fin: bool, len: usize },
    Control { kind: u16, flags: u8, len: usize },
}

impl Head {
    pub fn parse(b: [u8; 8]) -> Result<Head, String> {
        let len = u32::from_be_bytes([0, b[5], b[6], b[7]]) as usize;
        let flags = b[4];
        if b[0] & 0x80 == 0 {
            let stream = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
            return Ok(Head::Data {
                stream,
                fin: flags & FLAG_FIN != 0,
                len,
            });
        }
        let version = u16::from_be_bytes([b[0], b[1]]) & 0x7fff;
        if version != VERSION {
            return Err(format!("SPDY version {version}, expected {VERSION}"));
        }
        Ok(Head::Control {
            kind: u16::from_be_bytes([b[2], b[3]]),
            flags,
            len,
        })
    }

    pub fn len(&self) -> usize {
        match *self {
            Head::Data { len, .. } | Head::Control { len, .. } => len,
        }
    }
}

/// The stream id a control frame's payload starts with (SYN_REPLY, RST_STREAM, HEADERS).
pub fn stream_of(payload: &[u8]) -> Option<u32> {
    let b: [u8; 4] = payload.get(..4)?.try_into().ok()?;
    Some(u32::from_be_bytes(b) & 0x7fff_ffff)
}

fn control(out: &mut BytesMut, kind: u16, flags: u8, payload: &[u8]) {
    out.put_u16(0x8000 | VERSION);
    out.put_u16(kind);
    out.put_u32(((flags as u32) << 24) | payload.len() as u32);
    out.put_slice(payload);
}

/// A DATA frame; `data` must not pass [`MAX_PAYLOAD`].
pub fn data(out: &mut BytesMut, stream: u32, fin: bool, data: &[u8]) {
    debug_assert!(data.len() <= MAX_PAYLOAD);
    out.put_u32(stream & 0x7fff_ffff);
    out.put_u32(((if fin { FLAG_FIN } else { 0 } as u32) << 24) | data.len() as u32);
    out.put_slice(data);
}

pub fn rst_stream(out: &mut BytesMut, stream: u32, status: u32) {
    let mut p = [0u8; 8];
    p[..4].copy_from_slice(&stream.to_be_bytes());
    p[4..].copy_from_slice(&status.to_be_bytes());
    control(out, RST_STREAM, 0, &p);
}

pub fn ping(out: &mut BytesMut, id: u32) {
    control(out, PING, 0, &id.to_be_bytes());
}

/// Writes the header blocks of the streams we open. SPDY compresses every header block of a
/// connection with one zlib stream, flushed at each block's end. The zlib header names no
/// preset dictionary, which readers then do not ask for.
pub struct HeaderWriter {
    zlib: Compress,
}

impl Default for HeaderWriter {
    fn default() -> Self {
        HeaderWriter {
            zlib: Compress::new(Compression::fast(), true),
        }
    }
}

impl HeaderWriter {
    /// A SYN_STREAM opening `stream` (odd, above every id this connection opened before)
    /// with `headers`.
    pub fn syn_stream(&mut self, out: &mut BytesMut, stream: u32, headers: &[(&str, &str)]) {
        let mut block = BytesMut::new();
        block.put_u32(headers.len() as u32);
        for (name, value) in headers {
            block.put_u32(name.len() as u32);
            block.put_slice(name.to_ascii_lowercase().as_bytes());
            block.put_u32(value.len() as u32);
            block.put_slice(value.as_bytes());
        }
        let mut compressed = Vec::with_capacity(block.len() + 64);
        let mut input: &[u8] = &block;
        // A sync flush ends the block on a byte boundary with everything emitted; the
        // output grows until the compressor has taken all the input and flushed.
        loop {
            let before = self.zlib.total_in();
            compressed.reserve(256);
            self.zlib
                .compress_vec(input, &mut compressed, FlushCompress::Sync)
                .expect("compressing into a growable buffer cannot fail");
            input = &input[(self.zlib.total_in() - before) as usize..];
            if input.is_empty() && compressed.len() < compressed.capacity() {
                break;
            }
        }
        let mut payload = BytesMut::with_capacity(10 + compressed.len());
        payload.put_u32(stream & 0x7fff_ffff);
        payload.put_u32(0); // associated-to stream: none
        payload.put_u16(0); // priority 0 (highest), slot 0
        payload.put_slice(&compressed);
        control(out, SYN_STREAM, 0, &payload);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Decompress, FlushDecompress};

    fn head(b: &[u8]) -> Head {
        Head::parse(b[..8].try_into().unwrap()).unwrap()
    }

    #[test]
    fn data_frames_round_trip_their_stream_flag_and_length() {
        let mut out = BytesMut::new();
        data(&mut out, 7, true, b"hello");
        assert_eq!(
            head(&out),
            Head::Data {
                stream: 7,
                fin: true,
                len: 5
            }
        );
        assert_eq!(&out[8..], b"hello");
    }

    #[test]
    fn control_frames_carry_version_three_and_their_kind() {
        let mut out = BytesMut::new();
        rst_stream(&mut out, 9, CANCEL);
        assert_eq!(
            head(&out),
            Head::Control {
                kind: RST_STREAM,
                flags: 0,
                len: 8
            }
        );
        assert_eq!(stream_of(&out[8..]), Some(9));
        assert_eq!(&out[12..16], &CANCEL.to_be_bytes());
        // Another version is refused, not misread.
        let mut other = out.to_vec();
        other[1] = 2;
        assert!(Head::parse(other[..8].try_into().unwrap()).is_err());
    }

    /// The header blocks of successive streams form one zlib stream whose every block can
    /// be read as soon as its frame arrives (what the server's reader does).
    #[test]
    fn header_blocks_decompress_one_after_another() {
        let mut w = HeaderWriter::default();
        let mut inflate = Decompress::new(true);
        for (id, kind) in [(1u32, "error"), (3, "data")] {
            let mut out = BytesMut::new();
            w.syn_stream(
                &mut out,
                id,
                &[("streamType", kind), ("port", "8080"), ("requestID", "0")],
            );
            let Head::Control { kind: k, len, .. } = head(&out) else {
                panic!("a control frame")
            };
            assert_eq!((k, len), (SYN_STREAM, out.len() - 8));
            assert_eq!(stream_of(&out[8..]), Some(id));
            let mut block = Vec::with_capacity(4096);
            inflate
                .decompress_vec(&out[18..], &mut block, FlushDecompress::Sync)
                .unwrap();
            let mut expect = BytesMut::new();
            expect.put_u32(3);
            for (n, v) in [("streamtype", kind), ("port", "8080"), ("requestid", "0")] {
                expect.put_u32(n.len() as u32);
                expect.put_slice(n.as_bytes());
                expect.put_u32(v.len() as u32);
                expect.put_slice(v.as_bytes());
            }
            assert_eq!(block, expect.to_vec(), "stream {id}");
        }
    }

    #[test]
    fn a_large_header_block_is_emitted_whole() {
        let mut w = HeaderWriter::default();
        let mut out = BytesMut::new();
        let value: String = (0..20_000)
            .map(|i| char::from(b'a' + (i * 7 % 26) as u8))
            .collect();
        w.syn_stream(&mut out, 1, &[("x", &value)]);
        let mut inflate = Decompress::new(true);
        let mut block = Vec::with_capacity(64 * 1024);
        inflate
            .decompress_vec(&out[18..], &mut block, FlushDecompress::Sync)
            .unwrap();
        assert_eq!(block.len(), 4 + 4 + 1 + 4 + value.len());
        assert!(block.ends_with(value.as_bytes()));
    }
}
