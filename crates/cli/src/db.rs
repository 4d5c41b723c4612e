//! `rampart db …` and the database a scan needs.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use rampart_vulndb::{DEFAULT_ECOSYSTEMS, DEFAULT_MIRROR, Db, UpdateOptions};

use crate::Context;
use crate::cli::{DbCommand, InfoFormat, VulnOptions};

/// A database older than this is refreshed before a scan (unless offline).
const MAX_AGE: Duration = Duration::from_secs(24 * 3600);

pub fn run(ctx: &Context, cmd: DbCommand) -> Result<u8> {
    match cmd {
        DbCommand::Import { paths } => import(ctx, &paths),
        DbCommand::Update { db_mirror, ecosystems } => {
            if ctx.offline {
                bail!(crate::UsageError(
                    "`db update` downloads advisories and cannot run with --offline".into()
                ));
            }
            update(ctx, db_mirror.as_deref(), &ecosystems)?;
            Ok(0)
        }
        DbCommand::Info { format } => info(ctx, format),
    }
}

fn import(ctx: &Context, paths: &[PathBuf]) -> Result<u8> {
    let bar = ctx.ui.progress();
    let summary = rampart_vulndb::import(paths, &ctx.db_dir(), &bar).context("importing advisories")?;
    ctx.ui.warn_diagnostics(&summary.warnings);
    ctx.ui.info(format!(
        "imported {} advisories for {} packages into {}",
        summary.advisories,
        summary.packages,
        ctx.db_dir().display()
    ));
    Ok(0)
}

fn update(ctx: &Context, mirror: Option<&str>, ecosystems: &[String]) -> Result<()> {
    let opts = UpdateOptions {
        mirror: mirror.unwrap_or(DEFAULT_MIRROR).trim_end_matches('/').to_string(),
        ecosystems: if ecosystems.is_empty() {
            DEFAULT_ECOSYSTEMS.iter().map(|s| s.to_string()).collect()
        } else {
            ecosystems.to_vec()
        },
    };
    ctx.ui.info(format!("updating the vulnerability database from {}", opts.mirror));
    let bar = ctx.ui.progress();
    let summary = rampart_vulndb::update(&opts, &ctx.db_dir(), &bar).context("updating the database")?;
    ctx.ui.warn_diagnostics(&summary.warnings);
    ctx.ui.info(format!(
        "database updated: {} advisories for {} packages",
        summary.advisories, summary.packages
    ));
    Ok(())
}

/// Opens the database for a scan, refreshing it first when it is missing or
/// stale, unless `--offline` or `--skip-db-update`. A failed refresh falls
/// back to the existing database with a warning; with none to fall back
/// to, the refresh's error is the one reported.
pub fn open_for_scan(ctx: &Context, opts: &VulnOptions) -> Result<Db> {
    let dir = ctx.db_dir();
    let refresh_failed = if !ctx.offline && !opts.skip_db_update && rampart_vulndb::is_stale(&dir, MAX_AGE) {
        update(ctx, opts.db_mirror.as_deref(), &opts.db_ecosystems).err()
    } else {
        None
    };
    let db = match (Db::open(&dir), refresh_failed) {
        (Ok(db), None) => db,
        (Ok(db), Some(err)) => {
            ctx.ui.warn(format!("{}; scanning with the existing database", crate::errors::describe(&err)));
            db
        }
        (Err(_), Some(err)) => return Err(err),
        (Err(e), None) => return Err(e).context("opening the vulnerability database"),
    };
    ctx.ui.debug(format!("database {} built {}", dir.display(), db.metadata().built_at));
    Ok(db)
}

fn info(ctx: &Context, format: InfoFormat) -> Result<u8> {
    let db = Db::open(&ctx.db_dir()).context("opening the vulnerability database")?;
    let meta = db.metadata();
    if format == InfoFormat::Json {
        println!("{}", serde_json::to_string_pretty(meta)?);
        return Ok(0);
    }
    println!("Database:    {}", ctx.db_dir().display());
    println!("Built:       {} ({})", meta.built_at, age(&meta.built_at));
    println!("Advisories:  {}", meta.advisories);
    println!("Packages:    {}", meta.packages);
    println!("Sources:");
    for s in &meta.sources {
        println!("  {} ({}): {} advisories", s.origin, s.kind, s.advisories);
        for (eco, n) in &s.ecosystems {
            println!("    {eco:<24} {n}");
        }
    }
    Ok(0)
}

/// "3 hours ago" style age of an RFC 3339 time.
fn age(rfc3339: &str) -> String {
    let Ok(t) = time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339) else {
        return "unknown age".into();
    };
    let secs = (time::OffsetDateTime::now_utc() - t).whole_seconds().max(0);
    match secs {
        s if s < 120 => format!("{s} seconds ago"),
        s if s < 7200 => format!("{} minutes ago", s / 60),
        s if s < 172_800 => format!("{} hours ago", s / 3600),
        s => format!("{} days ago", s / 86_400),
    }
}
