//! Reading Kubernetes-style YAML/JSON files into JSON values.

use std::path::Path;

use crate::Error;

/// Files larger than this are refused before parsing: policy and test files
/// are small, and a huge one is a mistake or an attack.
pub(crate) const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

pub(crate) fn read_text(path: &Path) -> Result<String, Error> {
    let io = |source| Error::Io { path: path.to_path_buf(), source };
    let meta = std::fs::metadata(path).map_err(io)?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(Error::Invalid {
            source_name: path.display().to_string(),
            message: format!("file is {} bytes, more than the {MAX_FILE_BYTES} allowed", meta.len()),
        });
    }
    let bytes = std::fs::read(path).map_err(io)?;
    String::from_utf8(bytes).map_err(|e| Error::Invalid {
        source_name: path.display().to_string(),
        message: format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
    })
}

/// Every non-empty document of a YAML (or JSON) stream.
pub(crate) fn parse_documents(text: &str, source_name: &str) -> Result<Vec<serde_json::Value>, Error> {
    let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(text)
        .map_err(|e| Error::Yaml { source_name: source_name.to_string(), message: e.to_string() })?;
    Ok(docs.into_iter().filter(|d| !d.is_null()).collect())
}

pub(crate) fn read_documents(path: &Path) -> Result<Vec<serde_json::Value>, Error> {
    let text = read_text(path)?;
    parse_documents(&text, &path.display().to_string())
}

/// `obj[a][b]...` as a string, when present.
pub(crate) fn str_at<'a>(v: &'a serde_json::Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, k| v.get(k))?.as_str()
}
