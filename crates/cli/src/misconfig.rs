//! `rampart config`: Dockerfiles and Kubernetes manifests, from a path or stdin.

use std::path::Path;

use anyhow::{Result, bail};
use rampart_config::ConfigKind;
use rampart_types::{ArtifactType, Metadata};

use crate::Context;
use crate::analyze::{Analyzers, misconfigurations, scan_tree};
use crate::cli::ConfigArgs;
use crate::output::{OutputPlan, finish, new_report};
use crate::scan::walk_options;

/// Input on stdin larger than this is refused rather than buffered.
const MAX_STDIN_BYTES: u64 = 64 * 1024 * 1024;

pub fn run(ctx: &Context, args: ConfigArgs) -> Result<u8> {
    let plan = OutputPlan::from_options(&args.report, false)?;
    if args.target.as_os_str() == "-" {
        let content = crate::input::read_bounded(&args.target, MAX_STDIN_BYTES)?;
        let kind = sniff(&content);
        let mut warnings = Vec::new();
        let checks = crate::user_checks::load(&args.config_check, true)?;
        let results =
            misconfigurations(kind, "stdin", Path::new("-"), &content, checks.as_deref(), &mut warnings);
        ctx.ui.warn_diagnostics(&warnings);
        let report = new_report(
            "stdin".into(),
            ArtifactType::Filesystem,
            Metadata::default(),
            results.into_iter().collect(),
        );
        return finish(ctx, report, &plan, None);
    }
    if std::fs::symlink_metadata(&args.target).is_err() {
        bail!("{}: no such file or directory", args.target.display());
    }
    let analyzers = Analyzers {
        detector: None,
        misconfig: true,
        secrets: None,
        list_all_pkgs: false,
        include_dev_deps: false,
        user_checks: crate::user_checks::load(&args.config_check, true)?,
        system: false,
    };
    let results = scan_tree(ctx, &args.target, &walk_options(&args.walk), &analyzers)?;
    let report =
        new_report(args.target.display().to_string(), ArtifactType::Filesystem, Metadata::default(), results);
    finish(ctx, report, &plan, Some(&args.target))
}

/// Stdin has no file name: a document whose first instruction is `FROM` (or
/// a parser directive) is a Dockerfile, anything else is read as manifests.
fn sniff(content: &[u8]) -> ConfigKind {
    let text = String::from_utf8_lossy(&content[..content.len().min(64 * 1024)]);
    let first = text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('#'));
    match first {
        Some(l) if l.len() >= 5 && l[..5].eq_ignore_ascii_case("FROM ") => ConfigKind::Dockerfile,
        Some(l) if l.len() >= 4 && l[..4].eq_ignore_ascii_case("ARG ") => ConfigKind::Dockerfile,
        _ => ConfigKind::Kubernetes,
    }
}
