//! Package-manager invocations: which manager, which subcommand, which
//! options (with their values) and which packages.

use super::shell::Command;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Manager {
    AptGet,
    Apt,
    Apk,
    Yum,
    Dnf,
    Microdnf,
    Zypper,
}

impl Manager {
    fn of(name: &str) -> Option<Manager> {
        Some(match name {
            "apt-get" => Manager::AptGet,
            "apt" => Manager::Apt,
            "apk" => Manager::Apk,
            "yum" => Manager::Yum,
            "dnf" | "dnf5" => Manager::Dnf,
            "microdnf" => Manager::Microdnf,
            "zypper" => Manager::Zypper,
            _ => return None,
        })
    }

    fn value_opts(self) -> &'static [&'static str] {
        match self {
            Manager::AptGet | Manager::Apt => &[
                "-o",
                "--option",
                "-c",
                "--config-file",
                "-t",
                "--target-release",
                "--default-release",
                "-a",
            ],
            Manager::Apk => &[
                "-X",
                "--repository",
                "-t",
                "--virtual",
                "-p",
                "--root",
                "--arch",
                "--cache-dir",
                "--keys-dir",
                "--repositories-file",
                "--cache-max-age",
            ],
            Manager::Yum | Manager::Dnf | Manager::Microdnf => &[
                "-c",
                "--config",
                "--enablerepo",
                "--disablerepo",
                "--repo",
                "--repoid",
                "--releasever",
                "--installroot",
                "-x",
                "--exclude",
                "--setopt",
                "-d",
                "--debuglevel",
                "-e",
                "--errorlevel",
                "--forcearch",
            ],
            Manager::Zypper => &[
                "-R",
                "--root",
                "-c",
                "--config",
                "-D",
                "--reposd-dir",
                "-C",
                "--cache-dir",
                "-r",
                "--repo",
                "--from",
                "-t",
                "--type",
            ],
        }
    }
}

/// One package-manager command.
#[derive(Debug)]
pub(crate) struct PkgOp<'c> {
    pub manager: Manager,
    pub sub: &'c str,
    /// Options anywhere on the line, with the value of those that take one.
    pub opts: Vec<(&'c str, Option<&'c str>)>,
    /// Operands after the subcommand: packages for install and remove.
    pub operands: Vec<&'c str>,
}

impl<'c> PkgOp<'c> {
    pub(crate) fn parse(cmd: &'c Command) -> Option<PkgOp<'c>> {
        let manager = Manager::of(cmd.name())?;
        let value_opts = manager.value_opts();
        let mut op = PkgOp { manager, sub: "", opts: Vec::new(), operands: Vec::new() };
        let mut args = cmd.args().iter();
        let mut rest_are_operands = false;
        while let Some(a) = args.next() {
            let a = a.as_str();
            if rest_are_operands || !a.starts_with('-') || a == "-" {
                if op.sub.is_empty() {
                    op.sub = a;
                } else {
                    op.operands.push(a);
                }
            } else if a == "--" {
                rest_are_operands = true;
            } else if value_opts.contains(&a) {
                op.opts.push((a, args.next().map(String::as_str)));
            } else {
                op.opts.push((a, None));
            }
        }
        (!op.sub.is_empty()).then_some(op)
    }

    /// `--name`, `--name=value` or, for a one-letter name, `-x` alone or in a group (`-qy`).
    pub(crate) fn has(&self, name: &str) -> bool {
        self.opts.iter().any(|(o, _)| {
            if let Some(short) = name.strip_prefix('-').filter(|n| n.len() == 1) {
                o.strip_prefix('-').is_some_and(|g| !g.starts_with('-') && g.contains(short))
            } else {
                *o == name || o.strip_prefix(name).is_some_and(|r| r.starts_with('='))
            }
        })
    }

    /// Values of an option, given as `--name value` or `--name=value`.
    pub(crate) fn values(&self, name: &str) -> impl Iterator<Item = &'c str> {
        let prefix = format!("{name}=");
        self.opts
            .iter()
            .filter_map(move |(o, v)| if *o == name { *v } else { o.strip_prefix(prefix.as_str()) })
    }

    /// An install: `apt-get install`, `apk add`, `yum install`, `zypper in`, …
    pub(crate) fn is_install(&self) -> bool {
        match self.manager {
            Manager::AptGet | Manager::Apt => self.sub == "install",
            Manager::Apk => self.sub == "add",
            Manager::Yum | Manager::Dnf | Manager::Microdnf => {
                matches!(self.sub, "install" | "groupinstall" | "localinstall" | "reinstall")
            }
            Manager::Zypper => matches!(self.sub, "install" | "in"),
        }
    }

    pub(crate) fn is_remove(&self) -> bool {
        match self.manager {
            Manager::AptGet | Manager::Apt => matches!(self.sub, "remove" | "purge"),
            Manager::Apk => self.sub == "del",
            Manager::Yum | Manager::Dnf | Manager::Microdnf => matches!(self.sub, "remove" | "erase"),
            Manager::Zypper => matches!(self.sub, "remove" | "rm"),
        }
    }

    /// Package names without version, release or architecture.
    pub(crate) fn packages(&self) -> impl Iterator<Item = String> + '_ {
        self.operands.iter().map(|p| package_name(p))
    }
}

/// `curl=7.88.1-10`, `curl~8`, `curl>8.0`, `curl:amd64`, `curl-7.61.1-1.el8` → `curl`.
fn package_name(spec: &str) -> String {
    let end = spec.find(['=', '~', '<', '>', ':']).unwrap_or(spec.len());
    let mut name = &spec[..end];
    // RPM-style `name-version`: cut at the first `-` that starts a number.
    if let Some(i) = name.bytes().zip(name.bytes().skip(1)).position(|(a, b)| a == b'-' && b.is_ascii_digit())
    {
        name = &name[..i];
    }
    name.to_ascii_lowercase()
}

/// `pip install …`, `pip3.12 install …` or `python -m pip install …`: the words after `pip`.
pub(crate) fn pip_args(cmd: &Command) -> Option<&[String]> {
    let is_pip =
        |w: &str| w.strip_prefix("pip").is_some_and(|v| v.bytes().all(|b| b.is_ascii_digit() || b == b'.'));
    if is_pip(cmd.name()) {
        return Some(cmd.args());
    }
    let is_python =
        cmd.name().strip_prefix("python").is_some_and(|v| v.bytes().all(|b| b.is_ascii_digit() || b == b'.'));
    match cmd.args() {
        [m, p, rest @ ..] if is_python && m == "-m" && is_pip(p) => Some(rest),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::shell::Script;
    use super::*;

    fn op(text: &str) -> (Manager, String, Vec<String>, Vec<String>) {
        let s = Script::parse(text);
        let op = PkgOp::parse(&s.commands[0]).expect("a package command");
        let opts = op
            .opts
            .iter()
            .map(|(o, v)| format!("{o}{}", v.map(|v| format!(" {v}")).unwrap_or_default()))
            .collect();
        (op.manager, op.sub.to_string(), opts, op.packages().collect())
    }

    #[test]
    fn parses_options_and_packages() {
        assert_eq!(
            op(
                "apt-get -o Dpkg::Options::=--force-confnew -qy install --no-install-recommends curl=7.88 ca-certificates"
            ),
            (
                Manager::AptGet,
                "install".into(),
                vec![
                    "-o Dpkg::Options::=--force-confnew".into(),
                    "-qy".into(),
                    "--no-install-recommends".into()
                ],
                vec!["curl".into(), "ca-certificates".into()]
            )
        );
        assert_eq!(
            op("apk add --no-cache --virtual .build-deps gcc musl-dev"),
            (
                Manager::Apk,
                "add".into(),
                vec!["--no-cache".into(), "--virtual .build-deps".into()],
                vec!["gcc".into(), "musl-dev".into()]
            )
        );
        assert_eq!(op("zypper -n in -y openssh-clients").3, ["openssh-clients"]);
        assert_eq!(op("dnf install -y nmap-ncat-7.92-1.el9 curl-minimal").3, ["nmap-ncat", "curl-minimal"]);
        assert_eq!(op("yum -- install -y").1, "install");
    }

    #[test]
    fn option_lookup() {
        let s = Script::parse("apt-get -qy install --option=APT::Install-Recommends=false x");
        let op = PkgOp::parse(&s.commands[0]).expect("apt-get");
        assert!(op.has("-y") && op.has("-q") && !op.has("-o"));
        assert!(op.has("--option") && !op.has("--opt"));
        assert_eq!(op.values("--option").collect::<Vec<_>>(), ["APT::Install-Recommends=false"]);
        assert!(op.is_install() && !op.is_remove());
        assert!(PkgOp::parse(&Script::parse("apt-get -y").commands[0]).is_none(), "no subcommand");
        assert!(PkgOp::parse(&Script::parse("aptitude install x").commands[0]).is_none());
    }

    #[test]
    fn pip_forms() {
        for (text, want) in [
            ("pip install -r req.txt", Some(3)),
            ("pip3.12 install x", Some(2)),
            ("python3 -m pip install --no-cache-dir x", Some(3)),
            ("python -m venv /v", None),
            ("pipx install x", None),
        ] {
            let s = Script::parse(text);
            assert_eq!(pip_args(&s.commands[0]).map(<[String]>::len), want, "{text}");
        }
    }
}
