//! How errors read: one wording for file errors, and no name or cause
//! said twice when an error and its context both carry it.

use std::path::Path;

/// "PATH: no such file or directory": the wording of every command's
/// file errors, without std's "(os error 2)".
pub fn io_error(path: &Path, e: &std::io::Error) -> anyhow::Error {
    let what = match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory",
        std::io::ErrorKind::PermissionDenied => "permission denied",
        std::io::ErrorKind::IsADirectory => "is a directory",
        _ => return anyhow::anyhow!("{}: {e}", path.display()),
    };
    anyhow::anyhow!("{}: {what}", path.display())
}

/// Puts `context` in front of an error whose message does not already
/// start with `name` (most artifact errors name their input themselves).
pub fn unless_named<E>(context: String, name: &str) -> impl FnOnce(E) -> anyhow::Error + '_
where
    E: std::error::Error + Send + Sync + 'static,
{
    move |e| {
        let named = e.to_string().starts_with(name);
        let e = anyhow::Error::new(e);
        if named { e } else { e.context(context) }
    }
}

/// An error and its causes, "a: b: c", leaving out a cause the text before
/// it already ends with: many errors print their source in their own
/// message ("PATH: Address already in use"), which would then show twice.
pub fn describe(err: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if out.ends_with(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}
