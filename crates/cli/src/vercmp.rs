//! `rampart vercmp`: the version comparison the detector uses, for triaging
//! a suspected false positive by hand.

use std::cmp::Ordering;
use std::io::{BufRead, Write};

use anyhow::Result;
use rampart_version::Scheme;

use crate::cli::VercmpArgs;
use crate::{EXIT_FAILURE, UsageError};

pub fn run(args: VercmpArgs) -> Result<u8> {
    let scheme = Scheme::from_name(&args.ecosystem).ok_or_else(|| {
        UsageError(format!(
            "unknown ecosystem {:?} (try deb, apk, rpm, npm, pypi, go, maven, cargo, gem, nuget, composer)",
            args.ecosystem
        ))
    })?;
    if !args.batch {
        let (a, b) = (args.a.unwrap_or_default(), args.b.unwrap_or_default());
        let ord = scheme.compare(&a, &b).map_err(|e| UsageError(e.to_string()))?;
        println!("{}", symbol(ord));
        return Ok(0);
    }
    let stdin = std::io::stdin().lock();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut failed = false;
    for (n, line) in stdin.lines().enumerate() {
        let line = line?;
        let mut parts = line.split_whitespace();
        let result = match (parts.next(), parts.next(), parts.next()) {
            (Some(a), Some(b), None) => scheme.compare(a, b).map_err(|e| e.to_string()),
            (None, _, _) => Err("empty line".to_string()),
            _ => Err("expected two versions separated by whitespace".to_string()),
        };
        match result {
            Ok(ord) => writeln!(out, "{}", symbol(ord))?,
            Err(msg) => {
                failed = true;
                writeln!(out, "!")?;
                eprintln!("rampart: error: stdin line {}: {msg}", n + 1);
            }
        }
    }
    out.flush()?;
    Ok(if failed { EXIT_FAILURE } else { 0 })
}

fn symbol(ord: Ordering) -> &'static str {
    match ord {
        Ordering::Less => "<",
        Ordering::Equal => "=",
        Ordering::Greater => ">",
    }
}
