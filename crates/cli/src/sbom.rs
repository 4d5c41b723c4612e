//! `rampart sbom`: scan the packages an SBOM lists, without the artifact.

use anyhow::Result;
use rampart_catalog::os;
use rampart_catalog::sbom::{Sbom, SbomFormat, decode};
use rampart_detect::Detector;
use rampart_types::{ArtifactType, Diagnostic, Metadata, ReportPackage, ResultClass, ScanResult};

use crate::Context;
use crate::cli::{SbomArgs, VulnOptions};
use crate::output::{OutputPlan, finish, new_report};
use crate::scan::open_db;

/// SBOMs larger than this are refused rather than read.
const MAX_SBOM_BYTES: u64 = 512 * 1024 * 1024;

pub fn run(ctx: &Context, args: SbomArgs) -> Result<u8> {
    let plan = OutputPlan::from_options(&args.report, args.vuln.ignore_unfixed)?;
    let display = args.target.display().to_string();
    let content = crate::input::read_bounded(&args.target, MAX_SBOM_BYTES)?;
    let sbom = decode(&display, &content).map_err(|e| anyhow::anyhow!("{e}"))?;
    let kind = match sbom.format {
        SbomFormat::CycloneDx => ArtifactType::Cyclonedx,
        SbomFormat::Spdx => ArtifactType::Spdx,
    };
    scan_decoded(ctx, sbom, &args.vuln, &plan, display, kind, Metadata::default())
}

/// Matches a decoded SBOM's packages and writes the report; `rampart
/// image` comes here too when the SBOM is a verified attestation.
pub fn scan_decoded(
    ctx: &Context,
    sbom: Sbom,
    vuln: &VulnOptions,
    plan: &OutputPlan,
    name: String,
    kind: ArtifactType,
    metadata: Metadata,
) -> Result<u8> {
    ctx.ui.warn_diagnostics(&sbom.warnings);
    let db = open_db(ctx, vuln)?;
    let detector = db.as_ref().map(Detector::new);
    let release = sbom.os.as_ref().and_then(os::advisory_release).map(|(_, r)| r);
    let list_packages = vuln.list_all_pkgs || plan.wants_packages();

    let mut results = Vec::new();
    for group in sbom.groups {
        let mut packages = group.packages;
        if !vuln.include_dev_deps {
            packages.retain(|p| !p.dev);
        }
        let mut result = ScanResult::new(group.target.clone(), group.class, group.kind);
        if let Some(detector) = &detector {
            let group_release = if group.class == ResultClass::OsPkgs { release.as_deref() } else { None };
            if group.class == ResultClass::OsPkgs && group_release.is_none() {
                ctx.ui.warn(format!(
                    "{}: the SBOM names no distribution release; its OS packages were not matched",
                    group.target
                ));
            } else {
                match detector.detect(&packages, group_release) {
                    Ok(found) => {
                        warn_all(ctx, &group.target, found.warnings);
                        result.vulnerabilities = found.vulnerabilities;
                    }
                    Err(e) => ctx.ui.warn(format!("{}: matching failed: {e}", group.target)),
                }
            }
        }
        if list_packages {
            result.packages = packages.iter().map(ReportPackage::from).collect();
        }
        results.push(result);
    }
    let metadata = Metadata { os: sbom.os, ..metadata };
    let report = new_report(name, kind, metadata, results);
    finish(ctx, report, plan, None)
}

fn warn_all(ctx: &Context, target: &str, warnings: Vec<Diagnostic>) {
    for w in warnings {
        ctx.ui.warn(format!("{target}: {w}"));
    }
}
