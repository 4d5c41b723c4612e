//! Checks on the shape of the image: base images, stages, USER, HEALTHCHECK,
//! CMD/ENTRYPOINT, WORKDIR, EXPOSE, MAINTAINER and secrets in ENV/ARG.

use std::collections::HashMap;

use rampart_types::Severity;

use super::{Check, Ctx, Hit};
use crate::dockerfile::model::Args;
use crate::dockerfile::parse::{Keyword, short};

pub(super) const CHECKS: &[Check] = &[
    Check {
        id: "DS001",
        title: "':latest' tag used",
        severity: Severity::Medium,
        description: "A base image without a tag, or tagged `latest`, changes whenever the publisher pushes; \
                      builds stop being reproducible and can pick up breaking or vulnerable releases unnoticed.",
        resolution: "Name an explicit version tag in FROM, such as `alpine:3.20`.",
        run: latest_tag,
    },
    Check {
        id: "DS002",
        title: "Image user should not be 'root'",
        severity: Severity::High,
        description: "A container whose process runs as root turns any code-execution flaw into root inside the \
                      container, one kernel bug away from the host.",
        resolution: "Create an unprivileged user and end the final stage with `USER <name or uid>`.",
        run: root_user,
    },
    Check {
        id: "DS004",
        title: "Port 22 exposed",
        severity: Severity::Medium,
        description: "Exposing port 22 means running an SSH daemon in the container: another service to patch \
                      and a remote way in. Use `docker exec` or `kubectl exec` to get a shell instead.",
        resolution: "Remove port 22 from EXPOSE.",
        run: port_22,
    },
    Check {
        id: "DS006",
        title: "COPY '--from' referring to the current image",
        severity: Severity::Critical,
        description: "`COPY --from` naming the stage it is in cannot work: a stage cannot read its own result.",
        resolution: "Point `--from` at an earlier stage or an image.",
        run: copy_from_self,
    },
    Check {
        id: "DS007",
        title: "Multiple ENTRYPOINT instructions listed",
        severity: Severity::Critical,
        description: "Only the last ENTRYPOINT of a stage takes effect; earlier ones are dead code that misleads readers.",
        resolution: "Keep one ENTRYPOINT per stage.",
        run: multiple_entrypoints,
    },
    Check {
        id: "DS008",
        title: "Exposed port out of range",
        severity: Severity::Critical,
        description: "Ports are 16-bit numbers; an EXPOSE value above 65535 or not a number is invalid.",
        resolution: "Use port numbers from 0 to 65535.",
        run: port_range,
    },
    Check {
        id: "DS009",
        title: "WORKDIR path not absolute",
        severity: Severity::High,
        description: "A relative WORKDIR depends on the directory the base image left behind, which can change \
                      under you when the base image changes.",
        resolution: "Give WORKDIR an absolute path.",
        run: relative_workdir,
    },
    Check {
        id: "DS012",
        title: "Duplicate aliases defined in different FROMs",
        severity: Severity::Critical,
        description: "Two stages with the same name make `COPY --from` and `FROM <stage>` ambiguous.",
        resolution: "Give every stage a distinct name.",
        run: duplicate_aliases,
    },
    Check {
        id: "DS016",
        title: "Multiple CMD instructions listed",
        severity: Severity::High,
        description: "Only the last CMD of a stage takes effect; earlier ones are dead code that misleads readers.",
        resolution: "Keep one CMD per stage.",
        run: multiple_cmds,
    },
    Check {
        id: "DS018",
        title: "'COPY --from' refers to a stage defined later",
        severity: Severity::High,
        description: "`COPY --from` can only read stages that come before it; a later stage name or a too-large \
                      index fails the build or silently pulls an image of that name.",
        resolution: "Reorder the stages or fix the `--from` value.",
        run: copy_from_later,
    },
    Check {
        id: "DS022",
        title: "Deprecated MAINTAINER used",
        severity: Severity::High,
        description: "MAINTAINER is deprecated and not shown by tooling that reads OCI labels.",
        resolution: "Use `LABEL org.opencontainers.image.authors=\"…\"` instead.",
        run: maintainer,
    },
    Check {
        id: "DS023",
        title: "Multiple HEALTHCHECK defined",
        severity: Severity::Medium,
        description: "Only the last HEALTHCHECK of a stage takes effect; earlier ones are dead code.",
        resolution: "Keep one HEALTHCHECK per stage.",
        run: multiple_healthchecks,
    },
    Check {
        id: "DS026",
        title: "No HEALTHCHECK defined",
        severity: Severity::Low,
        description: "Without a HEALTHCHECK the runtime only knows whether the process is alive, not whether it \
                      serves; a hung service stays in rotation.",
        resolution: "Add a HEALTHCHECK to the final stage, or `HEALTHCHECK NONE` to say it is deliberate.",
        run: no_healthcheck,
    },
    Check {
        id: "DS030",
        title: "WORKDIR should not be a system directory",
        severity: Severity::High,
        description: "A WORKDIR under /proc, /sys, /dev or /boot makes the application write into kernel or boot \
                      interfaces, which can break the container or help an escape.",
        resolution: "Use an application directory such as /app or /srv.",
        run: system_workdir,
    },
    Check {
        id: "DS031",
        title: "Secrets passed via build args, environment or commands",
        severity: Severity::Critical,
        description: "ENV values live in the image configuration and ARG defaults and RUN commands in its \
                      history: anyone who can pull the image can read them.",
        resolution: "Pass secrets with `RUN --mount=type=secret` at build time and with the orchestrator's \
                     secret store at run time.",
        run: secrets,
    },
    Check {
        id: "RPT-DS-001",
        title: "Base image not pinned by digest",
        severity: Severity::Low,
        description: "Tags can be moved to other content; only a digest names exactly the image that was \
                      reviewed, so a compromised or re-pushed tag cannot slip into the build.",
        resolution: "Append the digest: `FROM alpine:3.20@sha256:…`, and let a bot such as Renovate update it.",
        run: unpinned_digest,
    },
    Check {
        id: "RPT-DS-010",
        title: "Shell-form ENTRYPOINT or CMD",
        severity: Severity::Low,
        description: "In shell form `/bin/sh -c` is PID 1: it does not pass SIGTERM on, so the application gets \
                      killed instead of shutting down cleanly; a shell-form ENTRYPOINT also ignores CMD and \
                      `docker run` arguments.",
        resolution: "Use the JSON form, `CMD [\"app\", \"--flag\"]`, or start the shell command with `exec`.",
        run: shell_form,
    },
];

/// The tag and digest of an image reference.
struct ImageRef<'a> {
    tag: Option<&'a str>,
    digest: Option<&'a str>,
}

fn image_ref(image: &str) -> ImageRef<'_> {
    let (name, digest) = match image.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (image, None),
    };
    let last = name.rsplit('/').next().unwrap_or(name);
    ImageRef { tag: last.split_once(':').map(|(_, t)| t), digest }
}

fn latest_tag(ctx: &Ctx<'_>, hits: &mut Vec<Hit>) -> bool {
    for stage in &ctx.model.stages {
        let Some(image) = stage.external_image() else { continue };
        let r = image_ref(image);
        let image = short(image, 80);
        let message = match (r.digest, r.tag) {
            (None, None) => format!("FROM `{image}` has no tag, so it builds on whatever `latest` is today"),
            (None, Some(t)) if t.eq_ignore_ascii_case("latest") => {
                format!("FROM `{image}` uses the `latest` tag")
            }
            _ => continue,
        };
        hits.push(ctx.hit(stage.from, message));
    }
    true
}

fn unpinned_digest(ctx: &Ctx<'_>, hits: &mut Vec<Hit>) -> bool {
    for stage in &ctx.model.stages {
        if let Some(image) = stage.external_image()
            && image_ref(image).digest.is_none()
        {
            hits.push(ctx.hit(stage.from, format!("FROM `{}` is not pinned by digest", short(image, 80))));
        }
    }
    true
}

fn is_root(user: &str) -> bool {
    let name = user.split(':').next().unwrap_or("").trim();
    name == "root" || name == "0"
}

fn root_user(ctx: &Ctx<'_>, hits: &mut Vec<Hit>) -> bool {
    let Some(last) = ctx.model.final_stage() else {
        hits.push(Hit::file("there is no FROM, so nothing sets a non-root USER".into()));
        return true;
    };
    let users: Vec<usize> = ctx
        .model
        .lineage_body(last)
        .into_iter()
        .filter(|&i| ctx.model.instrs[i].keyword() == Keyword::User)
        .collect();
    let stage = &ctx.model.stages[last];
    let Some(&user) = users.last() else {
        let lineage = ctx.model.lineage(last);
        let base = &ctx.model.stages[lineage[lineage.len() - 1]].image;
        // Distroless and similar `:nonroot` images already set an unprivileged user.
        if !image_ref(base).tag.is_some_and(|t| t.contains("nonroot")) {
            let message = format!(
                "the final stage (FROM `{}`) never sets USER, so it runs as root",
                short(&stage.image, 80)
            );
            hits.push(ctx.hit(stage.from, message));
        }
        return true;
    };
    let instr = &ctx.model.instrs[user];
    if instr.unresolved || !is_root(instr.text()) {
        return true;
    }
    let earlier =
        users.iter().rev().skip(1).map(|&i| (i, &ctx.model.instrs[i])).find(|(_, u)| !is_root(u.text()));
    let message = match earlier {
        Some((i, u)) => format!(
            "USER `{}` switches back to root after USER `{}` at line {}",
            short(instr.text(), 40),
            short(u.text(), 40),
            ctx.line(i)
        ),
        None => format!("the final stage ends with USER `{}`", short(instr.text(), 40)),
    };
    hits.push(ctx.hit(user, message));
    true
}

fn no_healthcheck(ctx: &Ctx<'_>, hits: &mut Vec<Hit>) -> bool {
    let Some(last) = ctx.model.final_stage() else {
        hits.push(Hit::file("there is no FROM, so no stage has a HEALTHCHECK".into()));
        return true;
    };
    let has = ctx
        .model
        .lineage_body(last)
        .into_iter()
        .any(|i| ctx.model.instrs[i].keyword() == Keyword::Healthcheck);
    if !has {
        let stage = &ctx.model.stages[last];
        let message = format!("the final stage (FROM `{}`) has no HEALTHCHECK", short(&stage.image, 80));
        hits.push(ctx.hit(stage.from, message));
    }
    true
}

/// Every repeat of `keyword` within a stage.
fn repeated(ctx: &Ctx<'_>, hits: &mut Vec<Hit>, keyword: Keyword) -> bool {
    for stage in &ctx.model.stages {
        let mut first = None;
        for i in stage.body().filter(|&i| ctx.model.instrs[i].keyword() == keyword) {
            match first {
                None => first = Some(i),
                Some(f) => {
                    let message = format!("{keyword} replaces the {keyword} at line {}", ctx.line(f));
                    hits.push(ctx.hit(i, message));
                }
            }
        }
    }
    true
}

fn multiple_cmds(ctx: &Ctx<'_>, hits: &mut Vec<Hit>) -> bool {
    repeated(ctx, hits, Keyword::Cmd)
}

fn multiple_entrypoints(ctx: &Ctx<'_>, hits: &mut Vec<Hit>) -> bool {
    repeated(ctx, hits, Keyword::Entrypoint)
}

fn multiple_healthchecks(ctx: &Ctx<'_>, hits: &mut Vec<Hit>) -> bool {
    repeated(ctx, hits, Keyword::Healthcheck)
}

fn duplicate_aliases(ctx: &Ctx<'_>, hits: &mut Vec<Hit>) -> bool {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for stage in &ctx.model.stages {
        let Some(name) = stage.name.as_deref() else { continue };
        match seen.get(name) {
            Some(&first) => {
                let message =
                    format!("stage name `{}` is already used at line {}", short(name, 40), ctx.line(first));
                hits.push(ctx.hit(stage.from, message));
            }
            None => {
                seen.insert(name, stage.from);
            }
        }
    }
    true
}

/// Each `COPY --from` with the index of the stage it is in.
fn copies_from<'c>(ctx: &'c Ctx<'_>) -> impl Iterator<Item = (usize, usize, &'c str)> + 'c {
    ctx.model.stages.iter().enumerate().flat_map(move |(s, stage)| {
        stage.body().filter_map(move |i| {
            let instr = &ctx.model.instrs[i];
            let from =
                instr.flag("from").filter(|_| instr.keyword() == Keyword::Copy && !instr.unresolved)?;
            Some((s, i, from))
        })
    })
}

fn copy_from_self(ctx: &Ctx<'_>, hits: &mut Vec<Hit>) -> bool {
    for (s, i, from) in copies_from(ctx) {
        let own_name = ctx.model.stages[s].name.as_deref().is_some_and(|n| from.eq_ignore_ascii_case(n));
        if own_name || from.parse::<usize>() == Ok(s) {
            hits.push(ctx.hit(i, format!("COPY --from=`{}` names the stage it is in", short(from, 40))));
        }
    }
    true
}

fn copy_from_later(ctx: &Ctx<'_>, hits: &mut Vec<Hit>) -> bool {
    for (s, i, from) in copies_from(ctx) {
        let message = match (from.parse::<usize>(), ctx.model.stage_ref(from)) {
            (Ok(n), _) if n > s => format!("COPY --from={n} refers to a stage that does not come before it"),
            (Err(_), Some(t)) if t > s => {
                format!(
                    "COPY --from=`{}` refers to the stage defined later at line {}",
                    short(from, 40),
                    ctx.line(ctx.model.stages[t].from)
                )
            }
            _ => continue,
        };
        hits.push(ctx.hit(i, message));
    }
    true
}

fn maintainer(ctx: &Ctx<'_>, hits: &mut Vec<Hit>) -> bool {
    for (i, instr) in ctx.instrs(Keyword::Maintainer) {
        hits.push(ctx.hit(i, format!("MAINTAINER `{}` is deprecated", short(instr.text(), 60))));
    }
    true
}

fn is_absolute(path: &str) -> bool {
    let b = path.as_bytes();
    path.starts_with('/')
        || path.starts_with('\\')
        || (b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && matches!(b[2], b'\\' | b'/'))
}

fn relative_workdir(ctx: &Ctx<'_>, hits: &mut Vec<Hit>) -> bool {
    for (i, instr) in ctx.instrs(Keyword::Workdir) {
        let path = instr.text().trim();
        if !instr.unresolved && !path.is_empty() && !is_absolute(path) {
            hits.push(ctx.hit(i, format!("WORKDIR `{}` is a relative path", short(path, 60))));
        }
    }
    true
}

fn system_workdir(ctx: &Ctx<'_>, hits: &mut Vec<Hit>) -> bool {
    const SYSTEM: &[&str] = &["/proc", "/sys", "/dev", "/boot", "/initrd", "/lost+found"];
    for (i, instr) in ctx.instrs(Keyword::Workdir) {
        let path = instr.text().trim();
        let system =
            SYSTEM.iter().any(|d| path.strip_prefix(d).is_some_and(|r| r.is_empty() || r.starts_with('/')));
        if system && !instr.unresolved {
            hits.push(ctx.hit(i, format!("WORKDIR `{}` is a system directory", short(path, 60))));
        }
    }
    true
}

/// The port range of an EXPOSE word (`80`, `8000-8010/tcp`); `None` when invalid.
fn port_range_of(word: &str) -> Option<(u64, u64)> {
    let ports = word.split('/').next().unwrap_or(word);
    let (lo, hi) = ports.split_once('-').unwrap_or((ports, ports));
    let parse = |p: &str| p.bytes().all(|b| b.is_ascii_digit()).then(|| p.parse::<u64>().ok()).flatten();
    Some((parse(lo)?, parse(hi)?))
}

/// EXPOSE words with their instruction, where every variable resolved.
fn exposed<'c>(ctx: &'c Ctx<'_>) -> impl Iterator<Item = (usize, &'c str)> + 'c {
    ctx.instrs(Keyword::Expose)
        .filter(|(_, instr)| !instr.unresolved)
        .flat_map(|(i, instr)| instr.words().iter().map(move |w| (i, w.as_str())))
}

fn port_22(ctx: &Ctx<'_>, hits: &mut Vec<Hit>) -> bool {
    let mut last = None;
    for (i, word) in exposed(ctx) {
        if last != Some(i) && port_range_of(word).is_some_and(|(lo, hi)| lo <= 22 && 22 <= hi) {
            hits.push(ctx.hit(i, format!("EXPOSE `{}` opens the SSH port", short(word, 40))));
            last = Some(i);
        }
    }
    true
}

fn port_range(ctx: &Ctx<'_>, hits: &mut Vec<Hit>) -> bool {
    let mut last = None;
    for (i, word) in exposed(ctx) {
        let bad = match port_range_of(word) {
            Some((lo, hi)) => lo > 65535 || hi > 65535,
            None => true,
        };
        if bad && last != Some(i) {
            hits.push(ctx.hit(i, format!("EXPOSE `{}` is not a port from 0 to 65535", short(word, 40))));
            last = Some(i);
        }
    }
    true
}

fn shell_form(ctx: &Ctx<'_>, hits: &mut Vec<Hit>) -> bool {
    for (i, instr) in ctx.model.instrs.iter().enumerate() {
        if !matches!(instr.args, Args::Shell) || instr.ins.args.is_empty() {
            continue;
        }
        let message = match instr.keyword() {
            Keyword::Entrypoint => format!("ENTRYPOINT `{}` is in shell form", short(&instr.ins.args, 60)),
            Keyword::Cmd if !instr.ins.args.starts_with("exec ") => {
                format!("CMD `{}` is in shell form", short(&instr.ins.args, 60))
            }
            _ => continue,
        };
        hits.push(ctx.hit(i, message));
    }
    true
}

/// Upper-case words of a name: `dbPassword` and `DB_PASSWORD` both give `DB`, `PASSWORD`.
fn name_words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
        cur.push(c.to_ascii_uppercase());
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// Whether a variable name says it holds a credential (`DB_PASSWORD`,
/// `apiKey`), and not a reference to one (`PASSWORD_FILE`, `TOKEN_URL`).
pub(super) fn is_secret_name(name: &str) -> bool {
    const SECRET: &[&str] = &[
        "PASSWORD",
        "PASSWD",
        "PASS",
        "PWD",
        "PASSPHRASE",
        "SECRET",
        "TOKEN",
        "APIKEY",
        "CREDENTIAL",
        "CREDENTIALS",
        "PRIVATEKEY",
        "ACCESSKEY",
        "AUTHTOKEN",
    ];
    const KEY_KINDS: &[&str] = &["API", "PRIVATE", "ACCESS", "SECRET", "ENCRYPTION", "SIGNING", "MASTER"];
    const NOT_SECRET: &[&str] = &[
        "FILE",
        "PATH",
        "DIR",
        "NAME",
        "LENGTH",
        "LEN",
        "URL",
        "URI",
        "ENDPOINT",
        "TYPE",
        "HEADER",
        "ID",
        "ENABLED",
        "REQUIRED",
        "POLICY",
        "TTL",
        "EXPIRY",
        "MIN",
        "MAX",
        "COUNT",
        "SIZE",
        "PROVIDER",
        "MODE",
        "HOST",
        "PORT",
        "USER",
        "USERNAME",
        "PREFIX",
        "FORMAT",
        "ALGORITHM",
        "LOCATION",
        "VERSION",
        "REGION",
    ];
    let words = name_words(name);
    let Some(last) = words.last() else { return false };
    if NOT_SECRET.contains(&last.as_str()) || name.eq_ignore_ascii_case("pwd") {
        return false;
    }
    words.iter().any(|w| SECRET.contains(&w.as_str()))
        || words.windows(2).any(|w| w[1] == "KEY" && KEY_KINDS.contains(&w[0].as_str()))
}

/// A command that writes a credential into the layer or history.
fn credential_command(args: &[String], name: &str) -> bool {
    let has = |w: &str| args.iter().any(|a| a == w);
    let opt = |o: &str| args.iter().any(|a| a == o || a.starts_with(&format!("{o}=")));
    match name {
        "aws" => {
            has("configure")
                && has("set")
                && args.iter().any(|a| {
                    matches!(a.as_str(), "aws_access_key_id" | "aws_secret_access_key" | "aws_session_token")
                })
        }
        "docker" | "podman" | "buildah" | "helm" => has("login") && (opt("-p") || opt("--password")),
        "az" => has("login") && (opt("-p") || opt("--password")),
        "gcloud" => has("activate-service-account") && opt("--key-file"),
        "npm" | "yarn" | "pnpm" => {
            has("config") && args.iter().any(|a| a.contains("_authToken") || a.contains("_auth="))
        }
        _ => false,
    }
}

fn secrets(ctx: &Ctx<'_>, hits: &mut Vec<Hit>) -> bool {
    for (i, instr) in ctx.model.instrs.iter().enumerate() {
        let what = match instr.keyword() {
            Keyword::Env => "is set to a literal value kept in the image configuration",
            Keyword::Arg => "has a literal default kept in the image history",
            _ => continue,
        };
        let names: Vec<&str> = instr
            .pairs()
            .iter()
            .filter(|p| {
                p.literal
                    && p.value.as_deref().is_some_and(|v| !v.trim().is_empty())
                    && is_secret_name(&p.key)
            })
            .map(|p| p.key.as_str())
            .collect();
        if let Some(first) = names.first() {
            let more =
                if names.len() > 1 { format!(" (and {} more)", names.len() - 1) } else { String::new() };
            hits.push(ctx.hit(i, format!("{} `{}`{more} {what}", instr.keyword(), short(first, 40))));
        }
    }
    for run in &ctx.runs {
        if run.mounts.iter().any(|m| m.kind == "secret") {
            continue;
        }
        let found = run.script.commands.iter().find(|c| credential_command(c.args(), c.name()));
        if let Some(cmd) = found {
            hits.push(
                ctx.hit(run.idx, format!("RUN `{}` puts a credential into the image history", cmd.quote())),
            );
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_references() {
        let table = [
            ("alpine", None, None),
            ("alpine:3.20", Some("3.20"), None),
            ("localhost:5000/app", None, None),
            ("localhost:5000/app:1", Some("1"), None),
            ("alpine@sha256:abc", None, Some("sha256:abc")),
            ("alpine:3@sha256:abc", Some("3"), Some("sha256:abc")),
        ];
        for (image, tag, digest) in table {
            let r = image_ref(image);
            assert_eq!((r.tag, r.digest), (tag, digest), "{image}");
        }
    }

    #[test]
    fn secret_names() {
        for name in [
            "DB_PASSWORD",
            "dbPassword",
            "API_KEY",
            "apiKey",
            "APIKey",
            "GITHUB_TOKEN",
            "AWS_SECRET_ACCESS_KEY",
            "SSH_PRIVATE_KEY",
            "JWT_SECRET",
            "SECRET_KEY_BASE",
            "DB_PASS",
            "client-secret",
        ] {
            assert!(is_secret_name(name), "{name}");
        }
        for name in [
            "PASSWORD_FILE",
            "TOKEN_URL",
            "AWS_ACCESS_KEY_ID",
            "PWD",
            "OLDPWD",
            "GPG_KEY",
            "TOKENIZERS_PARALLELISM",
            "PATH",
            "KEYCLOAK_HOST",
            "SECRET_NAME",
            "",
        ] {
            assert!(!is_secret_name(name), "{name}");
        }
    }

    #[test]
    fn ports() {
        assert_eq!(port_range_of("80"), Some((80, 80)));
        assert_eq!(port_range_of("20-25/tcp"), Some((20, 25)));
        assert_eq!(port_range_of("70000"), Some((70000, 70000)));
        assert_eq!(port_range_of("http"), None);
        assert_eq!(port_range_of("99999999999999999999999"), None);
        assert_eq!(port_range_of("+80"), None);
    }

    #[test]
    fn absolute_paths() {
        for p in ["/app", "C:\\app", "c:/app", "\\app"] {
            assert!(is_absolute(p), "{p}");
        }
        for p in ["app", "./app", "C:app"] {
            assert!(!is_absolute(p), "{p}");
        }
    }
}
