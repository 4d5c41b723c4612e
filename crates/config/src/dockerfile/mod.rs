use std::path::Path;

use crate::{CheckInfo, ConfigError, Outcome};

pub(crate) fn scan(path: &Path, display: &str, content: &[u8]) -> Result<Outcome, ConfigError> {
    todo!("{} {display} {}", path.display(), content.len())
}

pub(crate) fn checks() -> Vec<CheckInfo> {
    todo!()
}
