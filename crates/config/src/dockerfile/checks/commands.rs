//! Checks on what RUN steps execute: sudo, cd, pipes, remote scripts,
//! permissions, disabled verification and privileged build steps.

use std::sync::LazyLock;

use rampart_types::Severity;
use regex::Regex;

use super::{Check, Ctx, Hit, Run};
use crate::dockerfile::model::Instr;
use crate::dockerfile::parse::{Keyword, short};
use crate::dockerfile::pkg::{Manager, PkgOp, pip_args};
use crate::dockerfile::shell::{Command, SHELLS};

pub(super) const CHECKS: &[Check] = &[
    Check {
        id: "DS010",
        title: "RUN using 'sudo'",
        severity: Severity::Critical,
        description: "Build steps already run as the current USER; sudo adds a setuid binary and a privilege \
                      escalation path to the image, with unpredictable TTY and signal behaviour.",
        resolution: "Drop sudo; switch with `USER root` for the steps that need it and back afterwards.",
        run: sudo,
    },
    Check {
        id: "DS013",
        title: "'RUN cd ...' to change directory",
        severity: Severity::Medium,
        description: "A `cd` lasts only for its RUN step, so later steps silently run elsewhere; WORKDIR makes \
                      the directory explicit and lasting.",
        resolution: "Use WORKDIR to change directory.",
        run: cd,
    },
    Check {
        id: "DS014",
        title: "RUN using 'wget' and 'curl'",
        severity: Severity::Low,
        description: "Using both wget and curl installs two tools that do the same job: a bigger image and twice \
                      the patching.",
        resolution: "Pick one of them for every download.",
        run: wget_and_curl,
    },
    Check {
        id: "DS032",
        title: "RUN with pipe without pipefail",
        severity: Severity::Low,
        description: "A pipeline's status is that of its last command: `curl … | tar x` succeeds even when the \
                      download failed, and the build goes on with a broken layer.",
        resolution: "Start the RUN with `set -o pipefail &&`, or set `SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]`.",
        run: pipefail,
    },
    Check {
        id: "RPT-DS-009",
        title: "Remote script piped into a shell",
        severity: Severity::High,
        description: "`curl … | sh` runs whatever the server returns at build time, unreviewed and unverified; a \
                      compromised or spoofed host owns the image.",
        resolution: "Download the script to a file, verify its checksum or signature, then run it.",
        run: curl_pipe_shell,
    },
    Check {
        id: "RPT-DS-011",
        title: "World-writable permissions",
        severity: Severity::High,
        description: "Files anyone can write (mode 777, 666, o+w) let any process in the container, whatever its \
                      user, replace programs or configuration.",
        resolution: "Give write access to the owning user only (755, 644), with the owner set by chown or \
                     `COPY --chown`.",
        run: world_writable,
    },
    Check {
        id: "RPT-DS-015",
        title: "Credentials in a URL",
        severity: Severity::High,
        description: "A `user:password@host` URL in the Dockerfile is stored in the image history and in source \
                      control.",
        resolution: "Pass credentials with `RUN --mount=type=secret` or a netrc file mounted as a secret.",
        run: url_credentials,
    },
    Check {
        id: "RPT-DS-016",
        title: "TLS or signature verification disabled",
        severity: Severity::High,
        description: "Options such as `curl -k`, `wget --no-check-certificate`, `pip --trusted-host`, \
                      `apk --allow-untrusted` or `--nogpgcheck` accept whatever a network attacker serves.",
        resolution: "Keep verification on; add the missing CA certificate or signing key instead.",
        run: verification_disabled,
    },
    Check {
        id: "RPT-DS-017",
        title: "RUN with '--security=insecure'",
        severity: Severity::High,
        description: "`RUN --security=insecure` runs the step with full privileges over the build host, \
                      like a privileged container.",
        resolution: "Remove the flag; do privileged setup outside the image build.",
        run: insecure_run,
    },
];

/// One hit per RUN, at its first command that `offends` (returning the message).
fn per_command(ctx: &Ctx<'_>, hits: &mut Vec<Hit>, offends: impl Fn(&Command) -> Option<String>) -> bool {
    for run in &ctx.runs {
        if let Some(message) = run.script.commands.iter().find_map(&offends) {
            hits.push(ctx.hit(run.idx, message));
        }
    }
    true
}

fn sudo(ctx: &Ctx<'_>, hits: &mut Vec<Hit>) -> bool {
    per_command(ctx, hits, |c| c.sudo.then(|| format!("RUN uses sudo: `sudo {}`", c.quote())))
}

fn cd(ctx: &Ctx<'_>, hits: &mut Vec<Hit>) -> bool {
    per_command(ctx, hits, |c| {
        (c.name() == "cd").then(|| format!("RUN changes directory with `{}`", c.quote()))
    })
}

fn wget_and_curl(ctx: &Ctx<'_>, hits: &mut Vec<Hit>) -> bool {
    let first = |tool: &str| ctx.runs.iter().find(|r| r.script.commands.iter().any(|c| c.name() == tool));
    if let (Some(curl), Some(wget)) = (first("curl"), first("wget")) {
        let (later, tool, other, earlier) =
            if curl.idx > wget.idx { (curl, "curl", "wget", wget) } else { (wget, "wget", "curl", curl) };
        let message = format!("RUN uses `{tool}` while line {} uses `{other}`", ctx.line(earlier.idx));
        hits.push(ctx.hit(later.idx, message));
    }
    true
}

/// `set -o pipefail`, `set -euxo pipefail`, or a SHELL with the same options.
fn sets_pipefail(args: &[String]) -> bool {
    args.windows(2).any(|w| {
        w[1] == "pipefail" && w[0].strip_prefix('-').is_some_and(|o| !o.starts_with('-') && o.contains('o'))
    })
}

fn pipefail(ctx: &Ctx<'_>, hits: &mut Vec<Hit>) -> bool {
    for run in &ctx.runs {
        let shell = run.instr.run.as_ref().and_then(|r| r.shell.as_deref());
        if run.instr.ins.json.is_some() || shell.is_some_and(sets_pipefail) {
            continue;
        }
        let mut on = false;
        for cmd in &run.script.commands {
            if cmd.name() == "set" && sets_pipefail(&cmd.argv) {
                on = true;
            }
            if cmd.pipes_out && !on {
                hits.push(
                    ctx.hit(run.idx, format!("RUN pipes `{} | …` without `set -o pipefail`", cmd.quote())),
                );
                break;
            }
        }
    }
    true
}

/// `sh -c "$(curl …)"`, `bash <(wget …)`, `eval "$(curl …)"`.
static SUBSTITUTED_DOWNLOAD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:(?:ba|z|da|k|a)?sh|eval|source)\b[^|;&\n]*?(?:\$\(|<\(|`)\s*(?:curl|wget)\b")
        .expect("valid regex")
});

fn curl_pipe_shell(ctx: &Ctx<'_>, hits: &mut Vec<Hit>) -> bool {
    for run in &ctx.runs {
        let cmds = &run.script.commands;
        let piped = cmds.iter().enumerate().find_map(|(i, c)| {
            if !c.piped_in || !SHELLS.contains(&c.name()) {
                return None;
            }
            // Walk back through the pipeline to its first command.
            let mut j = i;
            while j > 0 && cmds[j - 1].pipes_out {
                j -= 1;
                if matches!(cmds[j].name(), "curl" | "wget") {
                    return Some(format!("RUN pipes `{}` into `{}`", cmds[j].quote(), c.name()));
                }
            }
            None
        });
        let message = piped.or_else(|| {
            SUBSTITUTED_DOWNLOAD
                .find(&run.text)
                .map(|m| format!("RUN runs downloaded code: `{}`", short(m.as_str(), 70)))
        });
        if let Some(message) = message {
            hits.push(ctx.hit(run.idx, message));
        }
    }
    true
}

/// A chmod mode that lets others write, unless the sticky bit limits it (`1777` for /tmp).
fn world_writable_mode(mode: &str) -> bool {
    if !mode.is_empty() && mode.len() <= 4 && mode.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        let bits = u32::from_str_radix(mode, 8).unwrap_or(0);
        return bits & 0o002 != 0 && bits & 0o1000 == 0;
    }
    let (mut writable, mut sticky) = (false, false);
    for clause in mode.split(',') {
        let who_len = clause.bytes().take_while(|b| b"ugoa".contains(b)).count();
        let (who, actions) = clause.split_at(who_len);
        let others = who.contains(['o', 'a']);
        // `+rwx-s`: each operator applies to the permissions after it.
        let mut op = ' ';
        for c in actions.chars() {
            match c {
                '+' | '-' | '=' => op = c,
                'w' if others && op != '-' => writable = true,
                't' if op != '-' => sticky = true,
                _ => {}
            }
        }
    }
    writable && !sticky
}

fn world_writable(ctx: &Ctx<'_>, hits: &mut Vec<Hit>) -> bool {
    const CHMOD_OPTS: &[&str] = &[
        "-R",
        "-v",
        "-f",
        "-c",
        "--recursive",
        "--verbose",
        "--silent",
        "--quiet",
        "--changes",
        "--preserve-root",
        "--no-preserve-root",
    ];
    for (i, instr) in ctx.model.instrs.iter().enumerate() {
        let message = match instr.keyword() {
            Keyword::Run => ctx.run_at(i).and_then(|run| {
                run.script.commands.iter().filter(|c| c.name() == "chmod").find_map(|c| {
                    let mode = c
                        .args()
                        .iter()
                        .find(|a| !CHMOD_OPTS.contains(&a.as_str()) && !a.starts_with("--reference"))?;
                    world_writable_mode(mode)
                        .then(|| format!("RUN makes files world-writable: `{}`", c.quote()))
                })
            }),
            Keyword::Copy | Keyword::Add => instr
                .flag("chmod")
                .filter(|m| world_writable_mode(m))
                .map(|m| format!("{} --chmod={} makes files world-writable", instr.keyword(), short(m, 20))),
            _ => None,
        };
        if let Some(message) = message {
            hits.push(ctx.hit(i, message));
        }
    }
    true
}

/// `scheme://user:password@host` with a literal password.
static URL_WITH_PASSWORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"\b([a-zA-Z][a-zA-Z0-9+.-]*://[^\s/:@'"]+:)([^\s/@'"]+)(@[^\s/'"]*)"#).expect("valid regex")
});

/// The first URL in `text` with a literal password, password masked.
fn url_with_password(text: &str) -> Option<String> {
    URL_WITH_PASSWORD
        .captures_iter(text)
        .find(|c| !c[2].starts_with('$'))
        .map(|c| format!("{}***{}", short(&c[1], 60), short(&c[3], 60)))
}

fn url_credentials(ctx: &Ctx<'_>, hits: &mut Vec<Hit>) -> bool {
    for (i, instr) in ctx.model.instrs.iter().enumerate() {
        let found = match instr.keyword() {
            Keyword::Run => ctx.run_at(i).and_then(|r| url_with_password(&r.text)),
            Keyword::Add | Keyword::Copy => instr.words().iter().find_map(|w| url_with_password(w)),
            Keyword::Env | Keyword::Arg => {
                instr.pairs().iter().filter_map(|p| p.value.as_deref()).find_map(url_with_password)
            }
            _ => None,
        };
        if let Some(url) = found {
            hits.push(ctx.hit(i, format!("{} has a password in the URL `{url}`", instr.keyword())));
        }
    }
    true
}

/// Environment settings that turn verification off.
fn insecure_env(name: &str, value: &str) -> bool {
    let value = value.trim().to_ascii_lowercase();
    match name {
        "GIT_SSL_NO_VERIFY" => !value.is_empty() && value != "0" && value != "false",
        "NODE_TLS_REJECT_UNAUTHORIZED" | "PYTHONHTTPSVERIFY" => value == "0",
        "NPM_CONFIG_STRICT_SSL" | "YARN_STRICT_SSL" => value == "false",
        "PIP_TRUSTED_HOST" | "GOINSECURE" => !value.is_empty(),
        "GOSUMDB" => value == "off",
        _ => false,
    }
}

/// curl short options whose value may follow in the same word (`-ofile`).
const CURL_VALUE_SHORT: &str = "oOHduxXAeEwTFKbcCmrtyYzPQDU";

/// The option of `cmd` that disables verification, if any.
fn insecure_option(cmd: &Command) -> Option<String> {
    let args = cmd.args();
    let has = |o: &str| args.iter().any(|a| a == o || a.starts_with(&format!("{o}=")));
    if let Some(a) = cmd.assigns.iter().find(|a| a.split_once('=').is_some_and(|(n, v)| insecure_env(n, v))) {
        return Some(a.clone());
    }
    if let Some(pip) = pip_args(cmd) {
        return pip.iter().find(|a| a.starts_with("--trusted-host")).cloned();
    }
    let found = match cmd.name() {
        "curl" => {
            let short_k = args.iter().any(|a| {
                a.strip_prefix('-').filter(|g| !g.starts_with('-')).is_some_and(|g| {
                    g.chars().take_while(|&c| !CURL_VALUE_SHORT.contains(c)).any(|c| c == 'k')
                })
            });
            (has("--insecure") || short_k).then_some("-k")
        }
        "wget" => has("--no-check-certificate").then_some("--no-check-certificate"),
        "npm" | "yarn" | "pnpm" => {
            let config = args.windows(2).any(|w| w[0] == "strict-ssl" && w[1] == "false");
            (config || args.iter().any(|a| a == "--strict-ssl=false")).then_some("strict-ssl false")
        }
        "git" => {
            let lower: Vec<String> = args.iter().map(|a| a.to_ascii_lowercase()).collect();
            let off = lower.iter().enumerate().any(|(i, a)| {
                a.contains("http.sslverify")
                    && (a.ends_with("=false") || lower.get(i + 1).is_some_and(|n| n == "false"))
            });
            off.then_some("http.sslVerify false")
        }
        "rpm" => ["--nosignature", "--nodigest"].into_iter().find(|o| has(o)),
        _ => None,
    };
    if let Some(found) = found {
        return Some(found.to_string());
    }
    let op = PkgOp::parse(cmd)?;
    let lower_values = |name: &str| op.values(name).map(str::to_ascii_lowercase).collect::<Vec<_>>();
    match op.manager {
        Manager::AptGet | Manager::Apt => {
            let flags = ["--allow-unauthenticated", "--allow-insecure-repositories"];
            let config = lower_values("-o").into_iter().chain(lower_values("--option")).any(|v| {
                v.contains("verify-peer=false")
                    || v.contains("allowunauthenticated=true")
                    || v.contains("allowinsecurerepositories=true")
            });
            flags
                .into_iter()
                .find(|f| op.has(f))
                .map(str::to_string)
                .or_else(|| config.then(|| "-o …=false".into()))
        }
        Manager::Apk => op.has("--allow-untrusted").then(|| "--allow-untrusted".into()),
        Manager::Yum | Manager::Dnf | Manager::Microdnf => {
            let setopt = lower_values("--setopt").into_iter().any(|v| {
                matches!(
                    v.replace(' ', "").as_str(),
                    "sslverify=0" | "sslverify=false" | "gpgcheck=0" | "gpgcheck=false"
                )
            });
            if op.has("--nogpgcheck") {
                Some("--nogpgcheck".into())
            } else {
                setopt.then(|| "--setopt verification off".into())
            }
        }
        Manager::Zypper => op.has("--no-gpg-checks").then(|| "--no-gpg-checks".into()),
    }
}

fn verification_disabled(ctx: &Ctx<'_>, hits: &mut Vec<Hit>) -> bool {
    for (i, instr) in ctx.model.instrs.iter().enumerate() {
        let message = match instr.keyword() {
            Keyword::Run => ctx.run_at(i).and_then(|run| insecure_run_command(run)),
            Keyword::Env => insecure_env_pair(instr),
            _ => None,
        };
        if let Some(message) = message {
            hits.push(ctx.hit(i, message));
        }
    }
    true
}

fn insecure_run_command(run: &Run<'_>) -> Option<String> {
    run.script.commands.iter().find_map(|c| {
        insecure_option(c).map(|o| format!("`{}` turns verification off with `{}`", c.quote(), short(&o, 40)))
    })
}

fn insecure_env_pair(instr: &Instr) -> Option<String> {
    let p = instr.pairs().iter().find(|p| p.value.as_deref().is_some_and(|v| insecure_env(&p.key, v)))?;
    Some(format!("ENV `{}={}` turns verification off", p.key, short(p.value.as_deref().unwrap_or(""), 20)))
}

fn insecure_run(ctx: &Ctx<'_>, hits: &mut Vec<Hit>) -> bool {
    for run in &ctx.runs {
        if run.instr.flag("security").is_some_and(|v| v.eq_ignore_ascii_case("insecure")) {
            hits.push(ctx.hit(run.idx, "RUN --security=insecure runs the step with full privileges".into()));
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes() {
        for mode in ["777", "0777", "666", "2", "o+w", "a+rwx", "ugo=rwx", "u+x,o+w", "go+rw"] {
            assert!(world_writable_mode(mode), "{mode}");
        }
        for mode in ["755", "644", "1777", "a+rwxt", "+w", "u+w", "o-w", "a=rwx,+t", "g+w", "8", ""] {
            assert!(!world_writable_mode(mode), "{mode}");
        }
    }

    #[test]
    fn passwords_in_urls() {
        assert_eq!(
            url_with_password("git clone https://bob:hunter2@git.example.com/r.git").as_deref(),
            Some("https://bob:***@git.example.com")
        );
        assert_eq!(url_with_password("https://bob:${TOKEN}@host/x"), None);
        assert_eq!(url_with_password("https://host/x?a=b:c@d"), None);
        assert_eq!(url_with_password("git@github.com:org/repo.git"), None);
    }

    #[test]
    fn pipefail_options() {
        let words = |s: &str| s.split(' ').map(str::to_string).collect::<Vec<_>>();
        assert!(sets_pipefail(&words("set -o pipefail")));
        assert!(sets_pipefail(&words("set -euxo pipefail")));
        assert!(sets_pipefail(&words("/bin/bash -o pipefail -c")));
        assert!(!sets_pipefail(&words("set -e")));
        assert!(!sets_pipefail(&words("set --pipefail")));
    }
}
