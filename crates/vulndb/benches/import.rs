//! Times importing all of `shared/data/osv` and `shared/data/distro`
//! (`cargo bench -p rampart-vulndb`), then a burst of lookups.

use std::path::PathBuf;
use std::time::Instant;

use rampart_types::NoProgress;
use rampart_vulndb::{Db, import};

fn main() {
    let data = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data"));
    assert!(data.is_dir(), "../shared/data (the rampart test-data bundle) is required at {}", data.display());
    let paths = [data.join("osv"), data.join("distro")];
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut best = f64::MAX;
    for run in 1..=3 {
        let start = Instant::now();
        let summary = import(&paths, dir.path(), &NoProgress).expect("import");
        let secs = start.elapsed().as_secs_f64();
        best = best.min(secs);
        println!(
            "run {run}: imported {} advisories, {} packages in {secs:.3} s ({} warnings, {} withdrawn)",
            summary.advisories,
            summary.packages,
            summary.warnings.len(),
            summary.withdrawn
        );
    }
    println!("best import: {best:.3} s");

    let start = Instant::now();
    let db = Db::open(dir.path()).expect("open");
    let opened = start.elapsed();
    let start = Instant::now();
    let mut hits = 0;
    for _ in 0..100 {
        for (eco, name) in
            [("PyPI", "django"), ("Go", "stdlib"), ("crates.io", "tokio"), ("Debian:11", "openssl")]
        {
            hits += db.affected(eco, name).expect("lookup").len();
        }
    }
    println!("open: {opened:?}; 400 lookups ({hits} entries): {:?}", start.elapsed());
    for s in &db.metadata().sources {
        println!("  {} ({}): {} advisories {:?}", s.origin, s.kind, s.advisories, s.ecosystems);
    }
}
