//! Shared by the integration tests.

#![allow(dead_code)] // each test binary uses a different part

use std::path::PathBuf;

/// The rampart test-data bundle, next to the workspace.
pub fn data_dir() -> PathBuf {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data"));
    assert!(
        dir.join("osv").is_dir() && dir.join("distro").is_dir(),
        "the test-data bundle ../shared/data (relative to the workspace) is required, \
         with osv/ and distro/; not found at {}",
        dir.display()
    );
    dir
}

/// Files left in a database directory: the database and nothing else.
pub fn dir_entries(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}
