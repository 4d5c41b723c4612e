//! Content digests (`sha256:<hex>`): parsing, hashing and verifying streams.

use std::fmt;
use std::io::{self, Read};

use sha2::{Digest as _, Sha256, Sha512};

/// A validated `algorithm:hex` digest. Validation matters: digests from
/// manifests become file names in a layout and URL path segments.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Digest(String);

impl Digest {
    pub(crate) fn parse(s: &str) -> Result<Digest, String> {
        let (alg, hex) = s.split_once(':').ok_or_else(|| format!("{s:?} is not an algorithm:hex digest"))?;
        let len = match alg {
            "sha256" => 64,
            "sha512" => 128,
            _ => return Err(format!("{s:?}: unsupported digest algorithm {alg:?}")),
        };
        if hex.len() != len || !hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            return Err(format!("{s:?}: expected {len} lowercase hex digits after {alg}:"));
        }
        Ok(Digest(s.to_string()))
    }

    pub(crate) fn sha256(bytes: &[u8]) -> Digest {
        let mut h = Hasher::Sha256(Sha256::new());
        h.update(bytes);
        h.finish()
    }

    /// Checks `bytes` against this digest; the actual digest on mismatch.
    pub(crate) fn verify(&self, bytes: &[u8]) -> Result<(), Digest> {
        let mut h = Hasher::for_digest(self);
        h.update(bytes);
        let actual = h.finish();
        if &actual == self { Ok(()) } else { Err(actual) }
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    pub(crate) fn algorithm(&self) -> &str {
        self.0.split_once(':').map_or("", |(a, _)| a)
    }

    pub(crate) fn hex(&self) -> &str {
        self.0.split_once(':').map_or("", |(_, h)| h)
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub(crate) enum Hasher {
    Sha256(Sha256),
    Sha512(Sha512),
}

impl Hasher {
    pub(crate) fn for_digest(d: &Digest) -> Hasher {
        match d.algorithm() {
            "sha512" => Hasher::Sha512(Sha512::new()),
            _ => Hasher::Sha256(Sha256::new()),
        }
    }

    pub(crate) fn update(&mut self, bytes: &[u8]) {
        match self {
            Hasher::Sha256(h) => h.update(bytes),
            Hasher::Sha512(h) => h.update(bytes),
        }
    }

    pub(crate) fn finish(self) -> Digest {
        let (alg, bytes) = match self {
            Hasher::Sha256(h) => ("sha256", h.finalize().to_vec()),
            Hasher::Sha512(h) => ("sha512", h.finalize().to_vec()),
        };
        let mut s = String::with_capacity(alg.len() + 1 + bytes.len() * 2);
        s.push_str(alg);
        s.push(':');
        for b in bytes {
            s.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
            s.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
        }
        Digest(s)
    }
}

/// A stream's content did not hash to the digest it was fetched by.
#[derive(Debug)]
pub(crate) struct Mismatch {
    pub(crate) expected: Digest,
    pub(crate) actual: Digest,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "digest mismatch: expected {}, got {}", self.expected, self.actual)
    }
}

impl std::error::Error for Mismatch {}

/// Hashes what passes through and fails the read that reaches the end if
/// the content does not match `expected`.
pub(crate) struct VerifyReader<R> {
    inner: R,
    hasher: Option<Hasher>,
    expected: Digest,
}

impl<R> VerifyReader<R> {
    pub(crate) fn new(inner: R, expected: Digest) -> Self {
        VerifyReader { inner, hasher: Some(Hasher::for_digest(&expected)), expected }
    }
}

impl<R: Read> Read for VerifyReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 {
            if let Some(h) = &mut self.hasher {
                h.update(&buf[..n]);
            }
        } else if !buf.is_empty()
            && let Some(h) = self.hasher.take()
        {
            let actual = h.finish();
            if actual != self.expected {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    Mismatch { expected: self.expected.clone(), actual },
                ));
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_rejects_what_could_escape_a_path() {
        assert!(Digest::parse("sha256:../../../../etc/passwd").is_err());
        assert!(Digest::parse(&format!("sha256:{}", "A".repeat(64))).is_err());
        assert!(Digest::parse(&format!("md5:{}", "a".repeat(32))).is_err());
        let d = Digest::parse(&format!("sha256:{}", "a".repeat(64))).unwrap();
        assert_eq!((d.algorithm(), d.hex().len()), ("sha256", 64));
    }

    #[test]
    fn verify_reader_fails_at_the_end_on_mismatch() {
        let good = Digest::sha256(b"hello");
        let mut out = Vec::new();
        VerifyReader::new(&b"hello"[..], good.clone()).read_to_end(&mut out).unwrap();
        assert_eq!(out, b"hello");
        let err = VerifyReader::new(&b"hellO"[..], good).read_to_end(&mut Vec::new()).unwrap_err();
        assert!(err.get_ref().unwrap().downcast_ref::<Mismatch>().is_some());
    }
}
