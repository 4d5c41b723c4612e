//! `cargo bench -p rampart-version`: `osv::evaluate` throughput, the hot path
//! of matching (one call per installed package and candidate advisory).

use std::hint::black_box;
use std::time::Instant;

use rampart_version::Scheme;
use rampart_version::osv::{Event, Range, RangeType, evaluate};

fn range(kind: RangeType, bounds: &[&str]) -> Range {
    let events = bounds
        .iter()
        .enumerate()
        .map(|(i, v)| if i % 2 == 0 { Event::Introduced((*v).into()) } else { Event::Fixed((*v).into()) })
        .collect();
    Range { kind, events }
}

fn main() {
    let cases = [
        (
            Scheme::Go,
            "v1.4.1",
            range(RangeType::Semver, &["0", "0.17.0", "1.0.0", "1.4.2", "2.0.0", "2.1.0"]),
        ),
        (Scheme::Pep440, "2.0.0rc1", range(RangeType::Ecosystem, &["1.0", "1.5.post1", "2.0a1", "2.0.3"])),
        (Scheme::Dpkg, "1:2.38-4+deb12u1", range(RangeType::Ecosystem, &["0", "1:2.38-4+deb12u2"])),
        (Scheme::Apk, "1.36.1-r5", range(RangeType::Ecosystem, &["0", "1.36.1-r7"])),
        (Scheme::Rpm, "4.18.0-425.3.1.el8", range(RangeType::Ecosystem, &["0", "0:4.18.0-477.10.1.el8_8"])),
        (Scheme::Maven, "2.14.1", range(RangeType::Ecosystem, &["2.0-beta9", "2.15.0", "2.16.0", "2.17.1"])),
        (Scheme::Npm, "4.17.20", range(RangeType::Semver, &["0", "4.17.21"])),
    ];
    const ROUNDS: u32 = 200_000;
    for (scheme, version, range) in &cases {
        let ranges = std::slice::from_ref(range);
        let start = Instant::now();
        for _ in 0..ROUNDS {
            black_box(evaluate(*scheme, black_box(version), ranges, &[]).ok());
        }
        let per_call = start.elapsed() / ROUNDS;
        println!("{:<8} {version:<20} {per_call:>8.1?} per evaluate", scheme.name());
    }
}
