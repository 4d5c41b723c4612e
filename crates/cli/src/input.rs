//! What a command is given to read, bounded so that a huge file or an
//! endless pipe is refused instead of filling memory.

use std::io::Read;
use std::path::Path;

use anyhow::{Context as _, Result, bail};

use crate::errors::io_error;

/// The bytes of `path`, or of stdin when it is `-`; more than `max` is an
/// error naming the input.
pub fn read_bounded(path: &Path, max: u64) -> Result<Vec<u8>> {
    let mut content = Vec::new();
    let name = if path.as_os_str() == "-" {
        std::io::stdin().take(max + 1).read_to_end(&mut content).context("reading stdin")?;
        "stdin".to_string()
    } else {
        std::fs::File::open(path)
            .and_then(|f| f.take(max + 1).read_to_end(&mut content))
            .map_err(|e| io_error(path, &e))?;
        path.display().to_string()
    };
    if content.len() as u64 > max {
        bail!("{name}: larger than {max} bytes");
    }
    Ok(content)
}

/// [`read_bounded`] as UTF-8 text.
pub fn read_text(path: &Path, max: u64) -> Result<String> {
    String::from_utf8(read_bounded(path, max)?)
        .map_err(|e| anyhow::anyhow!("{}: not UTF-8: {e}", path.display()))
}
