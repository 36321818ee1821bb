//! SHA-256 of the bytes that pass through a reader or writer, computed while streaming.
//!
//! The server records the hash of every imported or exported file in its audit log, so the
//! hash must cover exactly the bytes read (BOM included) without a second pass over the input.

use serde::Serialize;
use sha2::{Digest, Sha256};
use std::io::{self, Read, Write};

/// The hash and size of a whole file.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct FileDigest {
    /// Lowercase hex SHA-256 of every byte of the file.
    pub sha256: String,
    /// The file's length in bytes.
    pub bytes: u64,
}

impl FileDigest {
    /// The digest of an in-memory byte string (what a streamed digest must equal).
    pub fn of(data: &[u8]) -> FileDigest {
        FileDigest {
            sha256: hex::encode(Sha256::digest(data)),
            bytes: data.len() as u64,
        }
    }
}

/// Hashes every byte read; the digest exists once the source has returned end of file.
pub(crate) struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
    digest: Option<FileDigest>,
}

impl<R: Read> HashingReader<R> {
    pub(crate) fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
            digest: None,
        }
    }

    /// `Some` only after end of file was reached: a partial hash would be a wrong audit record.
    pub(crate) fn digest(&self) -> Option<&FileDigest> {
        self.digest.as_ref()
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() || self.digest.is_some() {
            return Ok(0);
        }
        let n = self.inner.read(buf)?;
        if n == 0 {
            let hasher = std::mem::take(&mut self.hasher);
            self.digest = Some(FileDigest {
                sha256: hex::encode(hasher.finalize()),
                bytes: self.bytes,
            });
        } else {
            let chunk = buf.get(..n).unwrap_or_default();
            self.hasher.update(chunk);
            self.bytes += n as u64;
        }
        Ok(n)
    }
}

/// Hashes every byte written, so an export can be recorded like an import.
pub(crate) struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> HashingWriter<W> {
    pub(crate) fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    pub(crate) fn finish(mut self) -> io::Result<FileDigest> {
        self.inner.flush()?;
        Ok(FileDigest {
            sha256: hex::encode(self.hasher.finalize()),
            bytes: self.bytes,
        })
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        let chunk = buf.get(..n).unwrap_or_default();
        self.hasher.update(chunk);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streamed_digest_equals_one_shot_digest_and_waits_for_eof() {
        let data = b"Email\r\na@example.com\r\n".repeat(1000);
        let mut r = HashingReader::new(&data[..]);
        let mut buf = [0u8; 7];
        let mut total = 0;
        loop {
            assert!(r.digest().is_none() || total == data.len());
            let n = r.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            total += n;
        }
        assert_eq!(r.digest(), Some(&FileDigest::of(&data)));
        // sha256("") is well known: checks the encoding, not only self-consistency.
        assert_eq!(
            FileDigest::of(b"").sha256,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
