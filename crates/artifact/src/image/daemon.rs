//! Images held by a Docker Engine, read through its API on a unix socket:
//! `GET /images/{name}/json` for tags and digests, `GET /images/{name}/get`
//! for a docker-archive, which is spooled to an unlinked temporary file and
//! then read like `docker save` output.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use super::local::{self, TarTree};
use super::{Image, ImageError, OpenOptions, spec};

/// The engine prepares an export before sending the first byte.
const READ_TIMEOUT: Duration = Duration::from_secs(600);

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Inspect {
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    #[serde(default)]
    repo_digests: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct EngineError {
    message: String,
}

pub(crate) fn open(socket: &Path, name: &str, opts: &OpenOptions) -> Result<Image, ImageError> {
    let fail = |reason: String| ImageError::Daemon { socket: socket.to_path_buf(), reason };
    if name.is_empty() || name.starts_with('-') || name.chars().any(|c| c.is_control() || c == ' ') {
        return Err(fail(format!("{name:?} is not an image name")));
    }
    let path = encode(name);
    let mut inspect = get(socket, &format!("/images/{path}/json"))?;
    let body = read_small(&mut inspect.body).map_err(|e| fail(format!("reading the image details: {e}")))?;
    if inspect.status != 200 {
        return Err(fail(engine_message(inspect.status, &body, name)));
    }
    let details: Inspect = serde_json::from_slice(&body)
        .map_err(|e| fail(format!("unexpected image details for {name}: {e}")))?;

    let mut export = get(socket, &format!("/images/{path}/get"))?;
    if export.status != 200 {
        let body = read_small(&mut export.body).unwrap_or_default();
        return Err(fail(engine_message(export.status, &body, name)));
    }
    let shown = format!("docker:{name}");
    let file = local::spool(&mut export.body, &shown, &opts.limits).map_err(|e| match e {
        ImageError::Io { source, .. } => fail(format!("exporting {name}: {source}")),
        other => other,
    })?;
    let tree = TarTree::index(file, shown.clone(), &opts.limits)?;
    let mut image = local::open_tree(Box::new(tree), &shown, None, opts)?;
    image.metadata.name = name.to_string();
    image.metadata.repo_tags = details.repo_tags.unwrap_or_default();
    image.metadata.repo_digests = details.repo_digests.unwrap_or_default();
    Ok(image)
}

fn engine_message(status: u16, body: &[u8], name: &str) -> String {
    let message = serde_json::from_slice::<EngineError>(body).map(|e| e.message).unwrap_or_default();
    match (status, message.is_empty()) {
        (404, true) => format!("no such image: {name}"),
        (_, true) => format!("HTTP status {status} for {name}"),
        (_, false) => format!("{message} (HTTP status {status})"),
    }
}

fn read_small(body: &mut dyn Read) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    body.take(spec::MAX_DOCUMENT).read_to_end(&mut out)?;
    Ok(out)
}

/// Percent-encodes what may not appear in a path; `/`, `:` and `@` stay,
/// as the engine routes `/images/{name:.*}/get`.
fn encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/' | b':' | b'@') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

struct Response {
    status: u16,
    body: Box<dyn Read>,
}

/// One HTTP/1.1 GET on a fresh connection.
fn get(socket: &Path, path: &str) -> Result<Response, ImageError> {
    let fail = |reason: String| ImageError::Daemon { socket: socket.to_path_buf(), reason };
    let mut stream = UnixStream::connect(socket).map_err(|e| fail(format!("cannot connect: {e}")))?;
    stream.set_read_timeout(Some(READ_TIMEOUT)).map_err(|e| fail(e.to_string()))?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: docker\r\nUser-Agent: rampart/{}\r\nConnection: close\r\n\r\n",
        env!("CARGO_PKG_VERSION")
    );
    stream.write_all(request.as_bytes()).map_err(|e| fail(format!("sending a request: {e}")))?;
    let mut reader = BufReader::new(stream);
    let bad = |what: &str| fail(format!("malformed HTTP response: {what}"));
    let status_line = read_line(&mut reader).map_err(|e| fail(format!("reading the response: {e}")))?;
    let status: u16 = status_line
        .strip_prefix("HTTP/1.")
        .and_then(|rest| rest.get(2..5))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| bad("status line"))?;
    let mut chunked = false;
    let mut length = None;
    let mut header_bytes = 0;
    loop {
        let line = read_line(&mut reader).map_err(|e| fail(format!("reading the response: {e}")))?;
        header_bytes += line.len();
        if header_bytes > 64 * 1024 {
            return Err(bad("headers too long"));
        }
        if line.is_empty() {
            break;
        }
        let Some((key, value)) = line.split_once(':') else { return Err(bad("header line")) };
        let value = value.trim();
        if key.eq_ignore_ascii_case("transfer-encoding") && value.eq_ignore_ascii_case("chunked") {
            chunked = true;
        } else if key.eq_ignore_ascii_case("content-length") {
            length = Some(value.parse::<u64>().map_err(|_| bad("Content-Length"))?);
        }
    }
    let body: Box<dyn Read> = match (chunked, length) {
        (true, _) => Box::new(Chunked { inner: reader, left: 0, done: false }),
        (false, Some(n)) => Box::new(Exact { inner: reader, left: n }),
        (false, None) => Box::new(reader),
    };
    Ok(Response { status, body })
}

/// A CRLF-terminated line, bounded so a bad peer cannot exhaust memory.
fn read_line(r: &mut impl BufRead) -> io::Result<String> {
    let mut line = Vec::new();
    r.take(8 * 1024).read_until(b'\n', &mut line)?;
    if line.last() != Some(&b'\n') {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed mid-line"));
    }
    line.pop();
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    String::from_utf8(line).map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "non-UTF-8 header"))
}

/// A `Content-Length` body: a short one is an error, not an end.
struct Exact<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Exact<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = buf.len().min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// `Transfer-Encoding: chunked`, which the engine uses for exports.
struct Chunked<R> {
    inner: R,
    left: u64,
    done: bool,
}

impl<R: BufRead> Read for Chunked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            let line = read_line(&mut self.inner)?;
            let size = line.split(';').next().unwrap_or("").trim();
            self.left = u64::from_str_radix(size, 16)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad chunk size"))?;
            if self.left == 0 {
                while !read_line(&mut self.inner)?.is_empty() {}
                self.done = true;
                return Ok(0);
            }
        }
        let want = buf.len().min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        self.left -= n as u64;
        if self.left == 0 && !read_line(&mut self.inner)?.is_empty() {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "chunk not followed by CRLF"));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_bodies_decode_and_truncation_fails() {
        let wire = b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n";
        let mut out = String::new();
        Chunked { inner: &wire[..], left: 0, done: false }.read_to_string(&mut out).unwrap();
        assert_eq!(out, "hello world");
        let cut = b"5\r\nhel";
        assert!(Chunked { inner: &cut[..], left: 0, done: false }.read_to_end(&mut Vec::new()).is_err());
    }

    #[test]
    fn names_are_encoded_for_the_path() {
        assert_eq!(encode("docker.io/library/alpine:3.20"), "docker.io/library/alpine:3.20");
        assert_eq!(encode("a b?c#"), "a%20b%3Fc%23");
    }
}
