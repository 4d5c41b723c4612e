//! Downloading OSV exports (`<mirror>/<ecosystem>/all.zip`).

use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use rampart_types::Progress;
use tempfile::NamedTempFile;

use crate::DbError;

/// The export URL of one ecosystem; the ecosystem is one path segment.
pub(crate) fn export_url(mirror: &str, ecosystem: &str) -> String {
    let mut segment = String::with_capacity(ecosystem.len());
    for b in ecosystem.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            segment.push(b as char);
        } else {
            segment.push_str(&format!("%{b:02X}"));
        }
    }
    format!("{}/{segment}/all.zip", mirror.trim_end_matches('/'))
}

pub(crate) fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(30)))
        // A stalled transfer fails instead of hanging; exports are large, so
        // there is no limit on the whole call.
        .timeout_per_read(Some(Duration::from_secs(60)))
        .user_agent(concat!("rampart/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

/// Streams `url` into a temporary file in `dir`, reporting bytes.
pub(crate) fn download(
    agent: &ureq::Agent,
    url: &str,
    label: &str,
    dir: &Path,
    progress: &dyn Progress,
) -> Result<NamedTempFile, DbError> {
    let fail = |message: String| DbError::Download { url: url.to_string(), message };
    let mut response = agent.get(url).call().map_err(|e| match e {
        ureq::Error::StatusCode(code) => fail(format!("HTTP status {code}")),
        e => fail(e.to_string()),
    })?;
    let expected = response.body().content_length();
    let mut file = tempfile::Builder::new()
        .prefix(".download.")
        .suffix(".zip")
        .tempfile_in(dir)
        .map_err(|source| DbError::Io { path: dir.to_path_buf(), source })?;
    progress.start(label, expected);
    let result = copy(&mut response.body_mut().as_reader(), file.as_file_mut(), progress);
    progress.finish();
    let received = result.map_err(|e| match e {
        CopyError::Read(e, n) => fail(format!("connection failed after {n} bytes: {e}")),
        CopyError::Write(source) => DbError::Io { path: file.path().to_path_buf(), source },
    })?;
    if let Some(expected) = expected.filter(|&n| n != received) {
        return Err(fail(format!("received {received} of {expected} bytes")));
    }
    file.as_file_mut().flush().map_err(|source| DbError::Io { path: file.path().to_path_buf(), source })?;
    Ok(file)
}

enum CopyError {
    /// Reading the body failed after this many bytes.
    Read(std::io::Error, u64),
    Write(std::io::Error),
}

fn copy(r: &mut impl Read, w: &mut impl Write, progress: &dyn Progress) -> Result<u64, CopyError> {
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0u64;
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CopyError::Read(e, total)),
        };
        w.write_all(&buf[..n]).map_err(CopyError::Write)?;
        total += n as u64;
        progress.advance(n as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_encode_the_ecosystem() {
        assert_eq!(export_url("https://m.example/", "crates.io"), "https://m.example/crates.io/all.zip");
        assert_eq!(export_url("https://m.example", "Red Hat"), "https://m.example/Red%20Hat/all.zip");
        assert_eq!(
            export_url("https://m.example", "Alpine:v3.18"),
            "https://m.example/Alpine%3Av3.18/all.zip"
        );
    }
}
