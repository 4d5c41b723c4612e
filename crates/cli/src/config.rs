//! The config file (`rampart.yaml`): every flag can be set by its long name,
//! and Trivy's nested layout (`scan: {skip-dirs: …}`, `cache: {dir: …}`,
//! `db: {skip-update: …}`) is understood too.
//!
//! Values become clap defaults, so the precedence is
//! flag > `RAMPART_*` environment variable > config file > built-in default.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::Value;

/// Config values by long flag name.
#[derive(Debug, Default)]
pub struct ConfigFile {
    pub path: Option<PathBuf>,
    entries: Vec<Entry>,
}

#[derive(Debug)]
struct Entry {
    /// The key as written (`scan.skip-dirs`), for messages.
    shown: String,
    /// The key flattened with dashes (`scan-skip-dirs`).
    flat: String,
    values: Vec<String>,
}

/// Trivy spellings whose nested path does not flatten to our flag name.
const ALIASES: &[(&str, &str)] = &[
    ("db-skip-update", "skip-db-update"),
    ("db-repository", "db-mirror"),
    ("scan-offline-scan", "offline"),
    ("offline-scan", "offline"),
];

impl ConfigFile {
    /// Finds the config file: `--config`/`-c` on the command line, then
    /// `RAMPART_CONFIG`, then `rampart.yaml` in the current directory.
    pub fn locate(args: &[OsString]) -> Result<ConfigFile> {
        let explicit = explicit_path(args).or_else(|| std::env::var_os("RAMPART_CONFIG").map(PathBuf::from));
        let path = match explicit {
            Some(p) => {
                if !p.is_file() {
                    bail!("config file {} not found", p.display());
                }
                p
            }
            None => {
                let default = PathBuf::from("rampart.yaml");
                if !default.is_file() {
                    return Ok(ConfigFile::default());
                }
                default
            }
        };
        ConfigFile::load(&path)
    }

    pub fn load(path: &Path) -> Result<ConfigFile> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading config file {}", path.display()))?;
        let doc: Value = if text.trim().is_empty() {
            Value::Object(Default::default())
        } else {
            serde_saphyr::from_str(&text).with_context(|| format!("config file {}", path.display()))?
        };
        let Value::Object(map) = doc else {
            bail!("config file {}: expected a mapping of option names to values", path.display());
        };
        let mut entries = Vec::new();
        for (key, value) in map {
            match value {
                Value::Object(inner) => {
                    for (k2, v2) in inner {
                        let shown = format!("{key}.{k2}");
                        let values = scalar_list(path, &shown, v2)?;
                        entries.push(Entry { shown, flat: format!("{key}-{k2}"), values });
                    }
                }
                other => {
                    let values = scalar_list(path, &key, other)?;
                    entries.push(Entry { shown: key.clone(), flat: key, values });
                }
            }
        }
        Ok(ConfigFile { path: Some(path.to_path_buf()), entries })
    }

    /// Applies the values as defaults of the matching flags; returns the keys
    /// no flag took, so the caller can warn about them.
    pub fn apply(&self, mut cmd: clap::Command) -> (clap::Command, Vec<String>) {
        let mut unused = Vec::new();
        for entry in &self.entries {
            match resolve_key(&cmd, &entry.flat) {
                Some(name) => cmd = set_default(cmd, &name, &entry.values),
                None => unused.push(entry.shown.clone()),
            }
        }
        (cmd, unused)
    }
}

/// Finds the flag a config key names: the key itself, its last segment
/// (`scan-skip-dirs` → `skip-dirs`), or a Trivy alias.
fn resolve_key(cmd: &clap::Command, key: &str) -> Option<String> {
    let mut candidates = vec![key.to_string()];
    if let Some((_, alias)) = ALIASES.iter().find(|(k, _)| *k == key) {
        candidates.push(alias.to_string());
    }
    let mut rest = key;
    while let Some((_, tail)) = rest.split_once('-') {
        candidates.push(tail.to_string());
        rest = tail;
    }
    candidates.into_iter().find(|c| has_long(cmd, c))
}

fn has_long(cmd: &clap::Command, long: &str) -> bool {
    cmd.get_arguments().any(|a| a.get_long() == Some(long))
        || cmd.get_subcommands().any(|s| has_long(s, long))
}

fn set_default(cmd: clap::Command, long: &str, vals: &[String]) -> clap::Command {
    let ids: Vec<String> =
        cmd.get_arguments().filter(|a| a.get_long() == Some(long)).map(|a| a.get_id().to_string()).collect();
    let mut cmd = cmd;
    for id in ids {
        let vals = vals.to_vec();
        cmd = cmd.mut_arg(id, move |a| a.default_values(vals));
    }
    let subs: Vec<String> = cmd.get_subcommands().map(|s| s.get_name().to_string()).collect();
    for sub in subs {
        let vals = vals.to_vec();
        let long = long.to_string();
        cmd = cmd.mut_subcommand(sub, move |s| set_default(s, &long, &vals));
    }
    cmd
}

fn scalar_list(path: &Path, key: &str, v: Value) -> Result<Vec<String>> {
    match v {
        Value::Array(items) => items.into_iter().map(|i| scalar(path, key, i)).collect(),
        other => Ok(vec![scalar(path, key, other)?]),
    }
}

fn scalar(path: &Path, key: &str, v: Value) -> Result<String> {
    match v {
        Value::String(s) => Ok(s),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Null => bail!("config file {}: option {key:?} has no value", path.display()),
        _ => bail!("config file {}: option {key:?} must be a value or a list of values", path.display()),
    }
}

fn explicit_path(args: &[OsString]) -> Option<PathBuf> {
    let mut it = args.iter().skip(1);
    while let Some(a) = it.next() {
        let s = a.to_string_lossy();
        if s == "--" {
            break;
        }
        if s == "-c" || s == "--config" {
            return it.next().map(PathBuf::from);
        }
        if let Some(v) = s.strip_prefix("--config=") {
            return Some(PathBuf::from(v));
        }
    }
    None
}
