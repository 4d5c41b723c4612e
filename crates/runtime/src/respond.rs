//! Response actions run when a rule fires: kill the process, freeze or kill
//! its container's cgroup, call a webhook. Off unless configured.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::Error;
use crate::view::EventView;

/// One response, for the rules it names (all rules when `rules` is empty).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Action {
    /// Rule names this action applies to.
    #[serde(default)]
    pub rules: Vec<String>,
    /// Also apply to rules at or above this priority (`Critical`, `Error`, ...).
    #[serde(default)]
    pub min_priority: Option<String>,
    #[serde(default)]
    pub kill_process: bool,
    /// cgroup v2 `cgroup.freeze` of the container.
    #[serde(default)]
    pub freeze_container: bool,
    /// cgroup v2 `cgroup.kill` of the container.
    #[serde(default)]
    pub kill_container: bool,
    /// POST the alert JSON here.
    #[serde(default)]
    pub webhook: Option<String>,
}

/// The response configuration file.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Actions {
    #[serde(default)]
    pub actions: Vec<Action>,
}

const PRIORITIES: &[&str] =
    &["debug", "informational", "notice", "warning", "error", "critical", "alert", "emergency"];

fn rank(p: &str) -> usize {
    let p = p.to_ascii_lowercase();
    let p = if p == "info" { "informational".to_string() } else { p };
    PRIORITIES.iter().position(|x| *x == p).unwrap_or(0)
}

impl Actions {
    /// Reads a YAML file (`actions: [{rules: [...], kill_process: true}]`).
    pub fn load(path: &Path) -> Result<Actions, Error> {
        let text =
            std::fs::read_to_string(path).map_err(|e| Error::Io { path: path.to_path_buf(), source: e })?;
        let a: Actions = serde_saphyr::from_str(&text)
            .map_err(|e| Error::Config { path: path.to_path_buf(), msg: e.to_string() })?;
        for (i, act) in a.actions.iter().enumerate() {
            if let Some(p) = &act.min_priority
                && !PRIORITIES.contains(&p.to_ascii_lowercase().as_str())
                && !p.eq_ignore_ascii_case("info")
            {
                return Err(Error::Config {
                    path: path.to_path_buf(),
                    msg: format!("actions[{i}].min_priority: unknown priority {p:?}"),
                });
            }
        }
        Ok(a)
    }

    /// The actions that apply to a rule.
    pub fn for_rule<'a>(&'a self, rule: &'a str, priority: &'a str) -> impl Iterator<Item = &'a Action> + 'a {
        self.actions.iter().filter(move |a| {
            let by_name = a.rules.iter().any(|r| r == rule);
            let by_prio = a.min_priority.as_deref().is_some_and(|p| rank(priority) >= rank(p));
            by_name || by_prio || (a.rules.is_empty() && a.min_priority.is_none())
        })
    }
}

/// What one action did and how long after the alert it was done.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub action: &'static str,
    pub target: String,
    pub result: Result<(), String>,
    /// From the alert being raised to the action completing.
    pub after_alert: Duration,
}

/// Runs actions against the event's process and container.
pub struct Responder {
    cgroup_root: PathBuf,
    agent: ureq::Agent,
}

impl Default for Responder {
    fn default() -> Self {
        Responder::new(crate::container::cgroup2_root().unwrap_or_else(|| PathBuf::from("/sys/fs/cgroup")))
    }
}

impl Responder {
    pub fn new(cgroup_root: PathBuf) -> Responder {
        let config = ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(2))).build();
        Responder { cgroup_root, agent: ureq::Agent::new_with_config(config) }
    }

    fn cgroup_file(&self, view: &EventView<'_>, file: &str) -> Option<PathBuf> {
        let c = view.container()?;
        let rel = c.cgroup.trim_start_matches('/');
        if rel.is_empty() || rel.split('/').any(|p| p == "..") {
            return None;
        }
        Some(self.cgroup_root.join(rel).join(file))
    }

    /// Runs `action` for an alert raised at `raised`; `alert_json` is what a webhook gets.
    pub fn run(
        &self,
        action: &Action,
        view: &EventView<'_>,
        alert_json: &str,
        raised: Instant,
    ) -> Vec<Outcome> {
        let mut out = Vec::new();
        let pid = view.evt.pid;
        if action.kill_process {
            let result = match rustix::process::Pid::from_raw(pid as i32) {
                Some(p) if pid > 1 => {
                    rustix::process::kill_process(p, rustix::process::Signal::KILL).map_err(|e| e.to_string())
                }
                _ => Err(format!("refusing to kill pid {pid}")),
            };
            out.push(Outcome {
                action: "kill_process",
                target: pid.to_string(),
                result,
                after_alert: raised.elapsed(),
            });
        }
        for (flag, name, file) in [
            (action.freeze_container, "freeze_container", "cgroup.freeze"),
            (action.kill_container, "kill_container", "cgroup.kill"),
        ] {
            if !flag {
                continue;
            }
            let (target, result) = match self.cgroup_file(view, file) {
                Some(path) => {
                    let r = std::fs::write(&path, "1").map_err(|e| format!("{}: {e}", path.display()));
                    (path.display().to_string(), r)
                }
                None => ("host".to_string(), Err("the process is not in a container".to_string())),
            };
            out.push(Outcome { action: name, target, result, after_alert: raised.elapsed() });
        }
        if let Some(url) = &action.webhook {
            let result = self
                .agent
                .post(url)
                .header("Content-Type", "application/json")
                .send(alert_json)
                .map(|_| ())
                .map_err(|e| e.to_string());
            out.push(Outcome {
                action: "webhook",
                target: url.clone(),
                result,
                after_alert: raised.elapsed(),
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_and_selects_actions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("actions.yaml");
        std::fs::write(
            &path,
            "actions:\n  - rules: [Terminal shell in container]\n    kill_process: true\n  - min_priority: Critical\n    freeze_container: true\n",
        )
        .unwrap();
        let a = Actions::load(&path).unwrap();
        let names = |rule: &str, prio: &str| -> Vec<(bool, bool)> {
            a.for_rule(rule, prio).map(|x| (x.kill_process, x.freeze_container)).collect()
        };
        assert_eq!(names("Terminal shell in container", "Notice"), vec![(true, false)]);
        assert_eq!(names("Other", "Critical"), vec![(false, true)]);
        assert_eq!(names("Other", "Emergency"), vec![(false, true)]);
        assert!(names("Other", "Warning").is_empty());
    }

    #[test]
    fn bad_config_names_the_file_and_field() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.yaml");
        std::fs::write(&path, "actions:\n  - kill_proc: true\n").unwrap();
        let err = Actions::load(&path).unwrap_err().to_string();
        assert!(err.contains("a.yaml") && err.contains("kill_proc"), "{err}");
        std::fs::write(&path, "actions:\n  - min_priority: Loud\n").unwrap();
        let err = Actions::load(&path).unwrap_err().to_string();
        assert!(err.contains("min_priority"), "{err}");
    }
}
