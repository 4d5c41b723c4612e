//! Verification cost per image inside one process, as an admission webhook
//! pays it: without the cache (every call fetches and checks the
//! signatures over a reused connection) and with it (a tag costs one HEAD,
//! a digest nothing). Used by `scripts/bench-sign`.
//!
//! `cargo run --release -p rampart-sign --example verify_bench -- IMAGE[:TAG] KEY.pub [CALLS]`

use std::time::{Duration, Instant};

use rampart_artifact::image::{Reference, RegistryClient, RegistryOptions};
use rampart_sign::{PublicKey, Verifier};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(image), Some(key)) = (args.first(), args.get(1)) else {
        return Err("usage: verify_bench IMAGE[:TAG] KEY.pub [CALLS]".into());
    };
    let calls: usize = args.get(2).map(|n| n.parse()).transpose()?.unwrap_or(200);
    let key = PublicKey::from_pem(&std::fs::read(key)?, key)?;
    let client = RegistryClient::new(RegistryOptions::default())?;
    let digest = client.resolve_digest(&Reference::parse(image)?)?;
    let pinned = Reference::parse(image)?.with_digest(&digest).to_string();

    let uncached = Verifier::new(client.clone(), vec![key.clone()]).with_ttl(Duration::ZERO);
    let cached = Verifier::new(client, vec![key]).with_ttl(Duration::from_secs(600));
    let first = time(1, || cached.verify_image(image).map(drop))?;
    println!("| case | calls | median | p90 |");
    println!("|---|---:|---:|---:|");
    println!("| first call in the process (cache empty, new connection) | 1 | {} | |", ms(first[0]));
    for (name, verifier, reference) in [
        ("uncached, by tag (HEAD + .sig manifest + payload blob + ECDSA)", &uncached, image.as_str()),
        ("uncached, by digest (.sig manifest + payload blob + ECDSA)", &uncached, pinned.as_str()),
        ("cached, by tag (one HEAD)", &cached, image.as_str()),
        ("cached, by digest (no request)", &cached, pinned.as_str()),
    ] {
        let mut t = time(calls, || verifier.verify_image(reference).map(drop))?;
        t.sort();
        println!("| {name} | {calls} | {} | {} |", ms(t[t.len() / 2]), ms(t[t.len() * 9 / 10]));
    }
    Ok(())
}

fn time(
    n: usize,
    mut f: impl FnMut() -> Result<(), rampart_sign::VerifyError>,
) -> Result<Vec<Duration>, rampart_sign::VerifyError> {
    (0..n)
        .map(|_| {
            let start = Instant::now();
            f().map(|()| start.elapsed())
        })
        .collect()
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}
