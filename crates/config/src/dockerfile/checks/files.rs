//! Checks on what COPY and ADD bring into the image, and from where.

use std::path::Path;

use rampart_types::Severity;

use super::{Check, Ctx, Hit, copies_context, is_git, is_url, sources};
use crate::dockerfile::parse::{Keyword, short};
use crate::dockerfile::pkg::{PkgOp, pip_args};
use crate::dockerfile::shell::Command;

pub(super) const CHECKS: &[Check] = &[
    Check {
        id: "DS005",
        title: "ADD instead of COPY",
        severity: Severity::Low,
        description: "ADD also unpacks archives and fetches URLs; for plain files that hidden behaviour is a \
                      surprise waiting to happen, and COPY says what is meant.",
        resolution: "Use COPY for local files; keep ADD for archives that should be unpacked.",
        run: add_instead_of_copy,
    },
    Check {
        id: "DS011",
        title: "COPY with more than two arguments not ending with slash",
        severity: Severity::Critical,
        description: "With several sources the destination must be a directory, written with a trailing `/`; \
                      otherwise the build fails.",
        resolution: "End the destination with `/`.",
        run: multi_source_destination,
    },
    Check {
        id: "RPT-DS-002",
        title: "Build context copied before dependencies are installed",
        severity: Severity::Medium,
        description: "Copying the whole context before installing dependencies reruns the install on every source \
                      change, and the install step sees every file of the context, including stray credentials.",
        resolution: "Copy only the dependency manifests (package.json, requirements.txt, go.mod, …), install, \
                     then copy the rest.",
        run: context_before_install,
    },
    Check {
        id: "RPT-DS-007",
        title: "No .dockerignore for a whole-context copy",
        severity: Severity::Medium,
        description: "`COPY . …` without a .dockerignore sends everything beside the Dockerfile into the image: \
                      .git, .env files, keys, local build output.",
        resolution: "Add a .dockerignore (or `<Dockerfile name>.dockerignore`) that excludes .git, secrets and \
                     build artefacts.",
        run: no_dockerignore,
    },
    Check {
        id: "RPT-DS-008",
        title: "ADD with a URL",
        severity: Severity::Medium,
        description: "ADD downloads the URL at build time without checking what arrives; a changed or compromised \
                      file goes straight into the image.",
        resolution: "Use `ADD --checksum=sha256:…`, or download with curl and verify the checksum in the same RUN.",
        run: add_url,
    },
    Check {
        id: "RPT-DS-014",
        title: "Credential file copied into the image",
        severity: Severity::High,
        description: "Private keys, .env files and package-manager credential files copied into a layer stay \
                      readable to anyone with the image, even if a later step deletes them.",
        resolution: "Mount them at build time with `RUN --mount=type=secret`, and at run time from a secret store.",
        run: secret_files,
    },
];

/// Archive suffixes ADD unpacks (tar, possibly compressed).
const ARCHIVES: &[&str] = &[
    ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tbz", ".tar.xz", ".txz", ".tar.zst", ".tzst", ".gz",
    ".bz2", ".xz", ".zst",
];

fn is_archive(src: &str) -> bool {
    let lower = src.to_ascii_lowercase();
    ARCHIVES.iter().any(|a| lower.ends_with(a))
}

fn add_instead_of_copy(ctx: &Ctx<'_>, hits: &mut Vec<Hit>) -> bool {
    for (i, instr) in ctx.instrs(Keyword::Add).filter(|(_, i)| !i.unresolved) {
        let plain = sources(instr)
            .iter()
            .find(|s| !is_url(s) && !is_git(s) && (s.starts_with("<<") || !is_archive(s)));
        if let Some(src) = plain {
            hits.push(ctx.hit(i, format!("ADD `{}` copies a plain file", short(src, 60))));
        }
    }
    true
}

fn add_url(ctx: &Ctx<'_>, hits: &mut Vec<Hit>) -> bool {
    for (i, instr) in ctx.instrs(Keyword::Add).filter(|(_, i)| i.flag("checksum").is_none()) {
        if let Some(url) = sources(instr).iter().find(|s| is_url(s) && !is_git(s)) {
            hits.push(ctx.hit(i, format!("ADD downloads `{}` without --checksum", short(url, 70))));
        }
    }
    true
}

fn multi_source_destination(ctx: &Ctx<'_>, hits: &mut Vec<Hit>) -> bool {
    for (i, instr) in ctx.model.instrs.iter().enumerate() {
        let words = instr.words();
        if !matches!(instr.keyword(), Keyword::Copy | Keyword::Add) || instr.unresolved || words.len() < 3 {
            continue;
        }
        let dest = &words[words.len() - 1];
        if !dest.ends_with('/') && !dest.ends_with('\\') {
            let message = format!(
                "{} has {} sources but its destination `{}` does not end with `/`",
                instr.keyword(),
                words.len() - 1,
                short(dest, 60)
            );
            hits.push(ctx.hit(i, message));
        }
    }
    true
}

/// A command that installs dependencies: OS packages or a language's.
fn installs_dependencies(cmd: &Command) -> bool {
    if PkgOp::parse(cmd).is_some_and(|op| op.is_install()) {
        return true;
    }
    let first = |args: &[String]| args.iter().find(|a| !a.starts_with('-')).cloned();
    if let Some(args) = pip_args(cmd) {
        return first(args).as_deref() == Some("install");
    }
    let args = cmd.args();
    match (cmd.name(), first(args).as_deref()) {
        ("npm", Some("install" | "i" | "ci"))
        | ("pnpm", Some("install" | "i"))
        | ("yarn", None | Some("install"))
        | ("bundle", Some("install"))
        | ("composer", Some("install"))
        | ("poetry", Some("install"))
        | ("pipenv", Some("install" | "sync"))
        | ("uv", Some("sync"))
        | ("cargo", Some("fetch"))
        | ("dotnet", Some("restore")) => true,
        ("go", Some("mod")) => args.iter().any(|a| a == "download"),
        ("mvn" | "mvnw", _) => args.iter().any(|a| a.starts_with("dependency:")),
        _ => false,
    }
}

fn context_before_install(ctx: &Ctx<'_>, hits: &mut Vec<Hit>) -> bool {
    for stage in &ctx.model.stages {
        let Some(copy) = stage.body().find(|&i| copies_context(&ctx.model.instrs[i])) else { continue };
        let install = (copy + 1..stage.end).find_map(|i| {
            let run = ctx.run_at(i)?;
            run.script.commands.iter().find(|c| installs_dependencies(c)).map(|c| (i, c))
        });
        if let Some((i, cmd)) = install {
            let message = format!(
                "{} copies the whole context before `{}` at line {}",
                ctx.model.instrs[copy].quote(),
                cmd.quote(),
                ctx.line(i)
            );
            hits.push(ctx.hit(copy, message));
        }
    }
    true
}

fn no_dockerignore(ctx: &Ctx<'_>, hits: &mut Vec<Hit>) -> bool {
    let Some(copy) = ctx.model.instrs.iter().position(copies_context) else { return true };
    // Only a Dockerfile on disk has a directory to look in.
    if !ctx.path.is_file() {
        return false;
    }
    let dir = ctx.path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let own = ctx.path.file_name().map(|n| format!("{}.dockerignore", n.to_string_lossy()));
    let found = dir.join(".dockerignore").is_file() || own.is_some_and(|n| dir.join(n).is_file());
    if !found {
        let message = format!(
            "{} sends the whole context and there is no .dockerignore",
            ctx.model.instrs[copy].quote()
        );
        hits.push(ctx.hit(copy, message));
    }
    true
}

/// Files that hold credentials by name or place: keys, .env, registry logins.
fn is_secret_file(src: &str) -> bool {
    const NAMES: &[&str] = &[
        "id_rsa",
        "id_dsa",
        "id_ecdsa",
        "id_ed25519",
        ".env",
        ".npmrc",
        ".pypirc",
        ".netrc",
        ".git-credentials",
        ".dockercfg",
        ".htpasswd",
    ];
    const SUFFIXES: &[&str] = &[".key", ".p12", ".pfx", ".jks", ".keystore"];
    const EXAMPLES: &[&str] = &["example", "sample", "template", "dist", "defaults"];
    let lower = src.trim_end_matches('/').to_ascii_lowercase();
    let parts: Vec<&str> = lower.split('/').collect();
    let base = parts[parts.len() - 1];
    let env_variant =
        base.strip_prefix(".env.").is_some_and(|rest| !EXAMPLES.iter().any(|e| rest.contains(e)));
    NAMES.contains(&base)
        || env_variant
        || SUFFIXES.iter().any(|s| base.ends_with(s))
        || parts.iter().any(|p| matches!(*p, ".ssh" | ".aws" | ".gnupg"))
        || parts.windows(2).any(|w| matches!((w[0], w[1]), (".docker", "config.json") | (".kube", "config")))
}

fn secret_files(ctx: &Ctx<'_>, hits: &mut Vec<Hit>) -> bool {
    for (i, instr) in ctx.model.instrs.iter().enumerate() {
        if !matches!(instr.keyword(), Keyword::Copy | Keyword::Add) {
            continue;
        }
        let found = sources(instr).iter().find(|s| !s.starts_with("<<") && !is_url(s) && is_secret_file(s));
        if let Some(src) = found {
            hits.push(ctx.hit(i, format!("{} copies `{}` into the image", instr.keyword(), short(src, 60))));
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_file_names() {
        for src in [
            "id_rsa",
            "/root/.ssh/",
            ".ssh/known_hosts",
            "secrets/.env",
            ".env.production",
            "server.key",
            ".npmrc",
            "home/.docker/config.json",
            "certs/client.p12",
            ".aws/credentials",
        ] {
            assert!(is_secret_file(src), "{src}");
        }
        for src in ["id_rsa.pub", ".env.example", "keys.txt", "config.json", "app/", ".", "ca.pem", "monkey"]
        {
            assert!(!is_secret_file(src), "{src}");
        }
    }

    #[test]
    fn archives() {
        assert!(is_archive("rootfs.tar.gz") && is_archive("A.TGZ") && is_archive("x.tar"));
        assert!(!is_archive("app.jar") && !is_archive("script.sh"));
    }
}
