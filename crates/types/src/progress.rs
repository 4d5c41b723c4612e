/// Progress of a long task (a download, an import, a walk), reported by
/// library crates and drawn by the binary, which decides whether a bar fits
/// (a TTY, no `--quiet`, no `--no-progress`).
pub trait Progress: Sync {
    /// A new phase begins; `total` is known for downloads and imports.
    fn start(&self, label: &str, total: Option<u64>);
    /// `n` more units (bytes, files, records) are done.
    fn advance(&self, n: u64);
    /// The current phase is over.
    fn finish(&self);
}

/// Reports nothing: for tests and quiet runs.
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _label: &str, _total: Option<u64>) {}
    fn advance(&self, _n: u64) {}
    fn finish(&self) {}
}
