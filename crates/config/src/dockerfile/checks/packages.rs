//! Checks on package-manager use in RUN: prompts, caches left in layers,
//! stale indexes, upgrades, and tools that widen the attack surface.

use std::collections::HashMap;

use rampart_types::Severity;

use super::{Check, Ctx, Hit, Run};
use crate::dockerfile::parse::short;
use crate::dockerfile::pkg::{Manager, PkgOp, pip_args};
use crate::dockerfile::shell::Command;

pub(super) const CHECKS: &[Check] = &[
    Check {
        id: "DS015",
        title: "'yum clean all' missing",
        severity: Severity::High,
        description: "yum keeps downloaded packages and metadata under /var/cache/yum; left in the layer they \
                      bloat the image for nothing.",
        resolution: "End the same RUN with `yum clean all`.",
        run: yum_clean,
    },
    Check {
        id: "DS017",
        title: "'RUN <package-manager> update' instruction alone",
        severity: Severity::High,
        description: "An index update in its own RUN is cached as a layer; later installs reuse that stale index \
                      and can fail or install outdated, vulnerable versions.",
        resolution: "Update and install in one RUN: `apt-get update && apt-get install -y …`.",
        run: update_alone,
    },
    Check {
        id: "DS019",
        title: "'dnf clean all' missing",
        severity: Severity::High,
        description: "dnf keeps downloaded packages and metadata under /var/cache/dnf; left in the layer they \
                      bloat the image for nothing.",
        resolution: "End the same RUN with `dnf clean all`.",
        run: dnf_clean,
    },
    Check {
        id: "DS020",
        title: "'zypper clean' missing",
        severity: Severity::High,
        description: "zypper keeps downloaded packages and metadata under /var/cache/zypp; left in the layer they \
                      bloat the image for nothing.",
        resolution: "End the same RUN with `zypper clean --all`.",
        run: zypper_clean,
    },
    Check {
        id: "DS021",
        title: "'apt-get' missing '-y' to avoid manual input",
        severity: Severity::High,
        description: "Without `-y` apt-get asks for confirmation; a build has no one to answer, so it aborts.",
        resolution: "Add `-y` (or `--yes`) to apt-get install, upgrade and remove.",
        run: apt_yes,
    },
    Check {
        id: "DS024",
        title: "'apt-get upgrade' or 'dist-upgrade' used",
        severity: Severity::High,
        description: "Upgrading every package inside the build hides what the image contains behind whatever the \
                      mirror served that day; fixes belong in a newer base image.",
        resolution: "Use a newer base image, or upgrade only the named packages that need it.",
        run: apt_upgrade,
    },
    Check {
        id: "DS025",
        title: "'apk add' is missing '--no-cache'",
        severity: Severity::High,
        description: "Without `--no-cache` apk stores the package index in /var/cache/apk, which stays in the layer.",
        resolution: "Use `apk add --no-cache …`.",
        run: apk_no_cache,
    },
    Check {
        id: "DS027",
        title: "'microdnf clean all' missing",
        severity: Severity::High,
        description: "microdnf keeps downloaded packages and metadata in its cache; left in the layer they bloat \
                      the image for nothing.",
        resolution: "End the same RUN with `microdnf clean all`.",
        run: microdnf_clean,
    },
    Check {
        id: "DS029",
        title: "'apt-get' missing '--no-install-recommends'",
        severity: Severity::High,
        description: "By default apt also installs recommended packages: more software, more vulnerabilities, \
                      bigger images, none of it asked for.",
        resolution: "Use `apt-get install -y --no-install-recommends …`.",
        run: apt_recommends,
    },
    Check {
        id: "RPT-DS-003",
        title: "Network tool installed in the final image",
        severity: Severity::Medium,
        description: "curl, wget, netcat, socat, ssh, telnet and nmap in a runtime image are exactly what an \
                      attacker needs after a breach: to download tooling, open reverse shells or move laterally.",
        resolution: "Install such tools only in a build stage, or remove them in the same RUN after use \
                     (for apk, via `--virtual` and `apk del`).",
        run: network_tools,
    },
    Check {
        id: "RPT-DS-004",
        title: "apt package lists not removed",
        severity: Severity::Medium,
        description: "`apt-get update` downloads package lists to /var/lib/apt/lists; if the same RUN does not \
                      delete them they stay in the layer.",
        resolution: "End the RUN with `rm -rf /var/lib/apt/lists/*`, or use a cache mount for /var/lib/apt.",
        run: apt_lists,
    },
    Check {
        id: "RPT-DS-005",
        title: "pip install without '--no-cache-dir'",
        severity: Severity::Low,
        description: "pip keeps every downloaded wheel in ~/.cache/pip, which stays in the layer.",
        resolution: "Use `pip install --no-cache-dir …`, set `ENV PIP_NO_CACHE_DIR=1`, or use a cache mount.",
        run: pip_cache,
    },
    Check {
        id: "RPT-DS-006",
        title: "npm or yarn install leaves its cache",
        severity: Severity::Low,
        description: "npm and yarn keep downloaded tarballs in a cache directory that stays in the layer.",
        resolution: "End the RUN with `npm cache clean --force` or `yarn cache clean`, or use a cache mount.",
        run: npm_cache,
    },
    Check {
        id: "RPT-DS-012",
        title: "yum, dnf or zypper without non-interactive flag",
        severity: Severity::High,
        description: "Without `-y` (yum, dnf) or `-n` (zypper) the package manager asks for confirmation; a \
                      build has no one to answer, so it aborts.",
        resolution: "Use `yum install -y`, `dnf install -y` or `zypper -n install`.",
        run: rpm_yes,
    },
    Check {
        id: "RPT-DS-013",
        title: "'apt' used instead of 'apt-get'",
        severity: Severity::Low,
        description: "apt is meant for people at a terminal; its output and behaviour may change between \
                      releases, which scripts cannot rely on.",
        resolution: "Use apt-get (or apt-cache) in Dockerfiles.",
        run: apt_cli,
    },
];

/// Package-manager commands of a RUN, with their position.
fn ops<'r>(run: &'r Run<'_>) -> impl Iterator<Item = (usize, PkgOp<'r>)> + 'r {
    run.script.commands.iter().enumerate().filter_map(|(i, c)| PkgOp::parse(c).map(|op| (i, op)))
}

fn is_apt(op: &PkgOp<'_>) -> bool {
    matches!(op.manager, Manager::AptGet | Manager::Apt)
}

fn quote(op: &PkgOp<'_>) -> String {
    let mut words = vec![match op.manager {
        Manager::AptGet => "apt-get",
        Manager::Apt => "apt",
        Manager::Apk => "apk",
        Manager::Yum => "yum",
        Manager::Dnf => "dnf",
        Manager::Microdnf => "microdnf",
        Manager::Zypper => "zypper",
    }];
    words.push(op.sub);
    words.extend(op.operands.iter().copied());
    short(&words.join(" "), 70).into_owned()
}

/// One hit per RUN, at its first command that `offends` (returning the message).
fn per_run(ctx: &Ctx<'_>, hits: &mut Vec<Hit>, offends: impl Fn(&Run<'_>) -> Option<String>) -> bool {
    for run in &ctx.runs {
        if let Some(message) = offends(run) {
            hits.push(ctx.hit(run.idx, message));
        }
    }
    true
}

fn update_alone(ctx: &Ctx<'_>, hits: &mut Vec<Hit>) -> bool {
    per_run(ctx, hits, |run| {
        let is_update = |op: &PkgOp<'_>| match op.manager {
            Manager::AptGet | Manager::Apt | Manager::Apk => op.sub == "update",
            Manager::Zypper => matches!(op.sub, "refresh" | "ref"),
            Manager::Yum | Manager::Dnf | Manager::Microdnf => op.sub == "makecache",
        };
        let uses_index = |op: &PkgOp<'_>| {
            op.is_install()
                || matches!(op.sub, "upgrade" | "dist-upgrade" | "full-upgrade" | "dup" | "update" | "up")
        };
        let all: Vec<_> = ops(run).collect();
        let (pos, update) = all.iter().find(|(_, op)| is_update(op))?;
        let used = all.iter().any(|(i, op)| i > pos && !is_update(op) && uses_index(op));
        (!used).then(|| format!("`{}` has no install after it in the same RUN", quote(update)))
    })
}

fn assumes_yes(op: &PkgOp<'_>) -> bool {
    // `-qq` (quiet level 2) implies `-y` for apt-get.
    let quiet2 = op.opts.iter().any(|(o, _)| {
        matches!(*o, "-q=2" | "--quiet=2")
            || o.strip_prefix('-').is_some_and(|g| !g.starts_with('-') && g.matches('q').count() >= 2)
    });
    let config = op
        .values("-o")
        .chain(op.values("--option"))
        .any(|v| v.to_ascii_lowercase().replace(' ', "").starts_with("apt::get::assume-yes=true"));
    op.has("-y") || op.has("--yes") || op.has("--assume-yes") || quiet2 || config
}

fn apt_yes(ctx: &Ctx<'_>, hits: &mut Vec<Hit>) -> bool {
    const PROMPTS: &[&str] =
        &["install", "upgrade", "dist-upgrade", "full-upgrade", "remove", "purge", "autoremove"];
    per_run(ctx, hits, |run| {
        let (_, op) = ops(run).find(|(_, op)| is_apt(op) && PROMPTS.contains(&op.sub) && !assumes_yes(op))?;
        Some(format!("`{}` has no `-y`", quote(&op)))
    })
}

fn apt_upgrade(ctx: &Ctx<'_>, hits: &mut Vec<Hit>) -> bool {
    per_run(ctx, hits, |run| {
        let (_, op) = ops(run)
            .find(|(_, op)| is_apt(op) && matches!(op.sub, "upgrade" | "dist-upgrade" | "full-upgrade"))?;
        Some(format!("RUN upgrades all packages with `{}`", quote(&op)))
    })
}

fn apk_no_cache(ctx: &Ctx<'_>, hits: &mut Vec<Hit>) -> bool {
    per_run(ctx, hits, |run| {
        if run.cache_mount_covers("/var/cache/apk") || run.cache_mount_covers("/etc/apk/cache") {
            return None;
        }
        let (i, op) = ops(run)
            .find(|(_, op)| op.manager == Manager::Apk && op.sub == "add" && !op.has("--no-cache"))?;
        if run.removes_after(i, "/var/cache/apk") {
            return None;
        }
        Some(format!("`{}` has no `--no-cache`", quote(&op)))
    })
}

/// An install by one of `managers` with no cleanup after it in the same RUN.
fn missing_clean(
    ctx: &Ctx<'_>,
    hits: &mut Vec<Hit>,
    managers: &[Manager],
    is_clean: fn(&PkgOp<'_>) -> bool,
    cache_dirs: &[&str],
    clean_cmd: &str,
) -> bool {
    per_run(ctx, hits, |run| {
        if cache_dirs.iter().any(|d| run.cache_mount_covers(d)) {
            return None;
        }
        let all: Vec<_> = ops(run).collect();
        let (last, install) =
            all.iter().rev().find(|(_, op)| managers.contains(&op.manager) && op.is_install())?;
        let cleaned = all.iter().any(|(i, op)| i > last && is_clean(op))
            || cache_dirs.iter().any(|d| run.removes_after(*last, d));
        (!cleaned).then(|| format!("`{}` is not followed by `{clean_cmd}`", quote(install)))
    })
}

fn clean_all_rpm(op: &PkgOp<'_>) -> bool {
    matches!(op.manager, Manager::Yum | Manager::Dnf) && op.sub == "clean" && op.operands.contains(&"all")
}

fn yum_clean(ctx: &Ctx<'_>, hits: &mut Vec<Hit>) -> bool {
    missing_clean(
        ctx,
        hits,
        &[Manager::Yum],
        clean_all_rpm,
        &["/var/cache/yum", "/var/cache/dnf"],
        "yum clean all",
    )
}

fn dnf_clean(ctx: &Ctx<'_>, hits: &mut Vec<Hit>) -> bool {
    missing_clean(
        ctx,
        hits,
        &[Manager::Dnf],
        clean_all_rpm,
        &["/var/cache/dnf", "/var/cache/yum"],
        "dnf clean all",
    )
}

fn microdnf_clean(ctx: &Ctx<'_>, hits: &mut Vec<Hit>) -> bool {
    let clean =
        |op: &PkgOp<'_>| op.manager == Manager::Microdnf && op.sub == "clean" && op.operands.contains(&"all");
    missing_clean(
        ctx,
        hits,
        &[Manager::Microdnf],
        clean,
        &["/var/cache/yum", "/var/cache/dnf"],
        "microdnf clean all",
    )
}

fn zypper_clean(ctx: &Ctx<'_>, hits: &mut Vec<Hit>) -> bool {
    let clean = |op: &PkgOp<'_>| op.manager == Manager::Zypper && matches!(op.sub, "clean" | "cc");
    missing_clean(ctx, hits, &[Manager::Zypper], clean, &["/var/cache/zypp"], "zypper clean")
}

fn apt_recommends(ctx: &Ctx<'_>, hits: &mut Vec<Hit>) -> bool {
    let off = |v: &str| {
        let v = v.to_ascii_lowercase().replace(['"', ' '], "");
        v == "apt::install-recommends=false" || v == "apt::install-recommends=0"
    };
    // An apt.conf setting written by an earlier RUN of the stage, or of a
    // stage it is built on, counts as the flag. Parents come first, so their
    // state at the end is known when a child starts.
    let mut configured_at_end = vec![false; ctx.model.stages.len()];
    for (s, stage) in ctx.model.stages.iter().enumerate() {
        let mut configured = stage.parent.is_some_and(|p| configured_at_end[p]);
        for run in stage.body().filter_map(|i| ctx.run_at(i)) {
            let offending = ops(run).find(|(_, op)| {
                is_apt(op)
                    && op.sub == "install"
                    && !op.has("--no-install-recommends")
                    && !op.values("-o").chain(op.values("--option")).any(off)
            });
            if let Some((_, op)) = offending.filter(|_| !configured) {
                hits.push(ctx.hit(run.idx, format!("`{}` has no `--no-install-recommends`", quote(&op))));
            }
            configured |= run.text.to_ascii_lowercase().contains("apt::install-recommends");
        }
        configured_at_end[s] = configured;
    }
    true
}

fn apt_lists(ctx: &Ctx<'_>, hits: &mut Vec<Hit>) -> bool {
    per_run(ctx, hits, |run| {
        if run.cache_mount_covers("/var/lib/apt/lists") {
            return None;
        }
        let (i, op) = ops(run).filter(|(_, op)| is_apt(op) && op.sub == "update").last()?;
        (!run.removes_after(i, "/var/lib/apt/lists"))
            .then(|| format!("`{}` leaves /var/lib/apt/lists in the layer", quote(&op)))
    })
}

/// The first word that is not an option.
fn subcommand(args: &[String]) -> Option<&str> {
    args.iter().map(String::as_str).find(|a| !a.starts_with('-'))
}

fn pip_cache(ctx: &Ctx<'_>, hits: &mut Vec<Hit>) -> bool {
    per_run(ctx, hits, |run| {
        let env_off = run.instr.run.as_ref().is_some_and(|r| r.pip_no_cache);
        if env_off || run.mounts.iter().any(|m| m.kind == "cache" && m.target.contains(".cache")) {
            return None;
        }
        let cmds = &run.script.commands;
        let purged = |after: usize| {
            cmds.iter().skip(after + 1).any(|c| {
                pip_args(c).is_some_and(|a| subcommand(a) == Some("cache"))
                    || (c.name() == "rm"
                        && c.args()
                            .iter()
                            .any(|a| a.trim_end_matches('/').ends_with(".cache") || a.contains(".cache/pip")))
            })
        };
        let (_, cmd) = cmds.iter().enumerate().find(|(i, c)| {
            let Some(args) = pip_args(c) else { return false };
            let off = args.iter().any(|a| a == "--no-cache-dir" || a.starts_with("--no-cache-dir="))
                || c.assigns
                    .iter()
                    .any(|a| a.strip_prefix("PIP_NO_CACHE_DIR=").is_some_and(|v| !v.is_empty()));
            subcommand(args) == Some("install") && !off && !purged(*i)
        })?;
        Some(format!("`{}` has no `--no-cache-dir`", cmd.quote()))
    })
}

fn npm_cache(ctx: &Ctx<'_>, hits: &mut Vec<Hit>) -> bool {
    per_run(ctx, hits, |run| {
        let cmds = &run.script.commands;
        let cleaned = |tool: &str, after: usize| {
            let mount = run
                .mounts
                .iter()
                .any(|m| m.kind == "cache" && m.target.contains(if tool == "npm" { ".npm" } else { "yarn" }));
            let later = cmds.iter().skip(after + 1).any(|c: &Command| {
                let cache_clean = c.name() == tool
                    && c.args().first().is_some_and(|a| a == "cache")
                    && c.args().get(1).is_some_and(|a| a == "clean" || a == "purge");
                let rm = c.name() == "rm"
                    && c.args().iter().any(|a| a.contains(if tool == "npm" { ".npm" } else { "cache/yarn" }));
                cache_clean || rm
            });
            mount || later
        };
        cmds.iter().enumerate().find_map(|(i, c)| {
            let install = match (c.name(), subcommand(c.args())) {
                ("npm", Some("install" | "i" | "ci" | "add")) => !c.args().iter().any(|a| a == "--no-cache"),
                ("yarn", None | Some("install" | "add")) => true,
                _ => false,
            };
            (install && !cleaned(c.name(), i))
                .then(|| format!("`{}` leaves the package cache in the layer", c.quote()))
        })
    })
}

fn rpm_yes(ctx: &Ctx<'_>, hits: &mut Vec<Hit>) -> bool {
    const YUM_PROMPTS: &[&str] = &[
        "install",
        "groupinstall",
        "localinstall",
        "reinstall",
        "update",
        "upgrade",
        "remove",
        "erase",
        "downgrade",
        "distro-sync",
        "group",
    ];
    const ZYPPER_PROMPTS: &[&str] = &[
        "install",
        "in",
        "remove",
        "rm",
        "update",
        "up",
        "patch",
        "dist-upgrade",
        "dup",
        "source-install",
        "si",
    ];
    per_run(ctx, hits, |run| {
        let (_, op) = ops(run).find(|(_, op)| match op.manager {
            Manager::Yum | Manager::Dnf => {
                YUM_PROMPTS.contains(&op.sub) && !(op.has("-y") || op.has("--assumeyes"))
            }
            Manager::Zypper => {
                ZYPPER_PROMPTS.contains(&op.sub)
                    && !(op.has("-n")
                        || op.has("--non-interactive")
                        || op.has("-y")
                        || op.has("--no-confirm"))
            }
            _ => false,
        })?;
        Some(format!("`{}` would wait for confirmation", quote(&op)))
    })
}

fn apt_cli(ctx: &Ctx<'_>, hits: &mut Vec<Hit>) -> bool {
    per_run(ctx, hits, |run| {
        let (_, op) = ops(run).find(|(_, op)| op.manager == Manager::Apt)?;
        Some(format!("`{}` uses apt rather than apt-get", quote(&op)))
    })
}

/// Packages that give an intruder a way to fetch tools, tunnel or scan.
const NETWORK_TOOLS: &[&str] = &[
    "curl",
    "curl-minimal",
    "wget",
    "netcat",
    "netcat-openbsd",
    "netcat-traditional",
    "nc",
    "ncat",
    "nmap-ncat",
    "socat",
    "ssh",
    "openssh",
    "openssh-client",
    "openssh-clients",
    "openssh-server",
    "telnet",
    "telnetd",
    "nmap",
    "busybox-extras",
];

fn network_tools(ctx: &Ctx<'_>, hits: &mut Vec<Hit>) -> bool {
    let Some(last) = ctx.model.final_stage() else { return true };
    // (package, instruction that installed it); `None` once removed. Indexed
    // by package and by apk `--virtual` group so removals stay linear.
    let mut installed: Vec<Option<(String, usize)>> = Vec::new();
    let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
    for idx in ctx.model.lineage_body(last) {
        let Some(run) = ctx.run_at(idx) else { continue };
        for (_, op) in ops(run) {
            if op.is_install() {
                let group = op
                    .values("--virtual")
                    .chain(op.values("-t"))
                    .next()
                    .filter(|_| op.manager == Manager::Apk);
                for p in op.packages().filter(|p| NETWORK_TOOLS.contains(&p.as_str())) {
                    by_name.entry(p.clone()).or_default().push(installed.len());
                    if let Some(g) = group {
                        by_name.entry(g.to_string()).or_default().push(installed.len());
                    }
                    installed.push(Some((p, idx)));
                }
            } else if op.is_remove() {
                for p in op.packages() {
                    for i in by_name.remove(&p).unwrap_or_default() {
                        installed[i] = None;
                    }
                }
            }
        }
    }
    let left: Vec<(String, usize)> = installed.into_iter().flatten().collect();
    for group in left.chunk_by(|a, b| a.1 == b.1) {
        let names: Vec<&str> = group.iter().map(|(p, _)| p.as_str()).collect();
        hits.push(ctx.hit(group[0].1, format!("RUN installs `{}` into the final image", names.join("`, `"))));
    }
    true
}
