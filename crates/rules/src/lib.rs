//! The Falco-compatible rule language: rule files with lists, macros,
//! exceptions, `append` and `override`; conditions compiled once and
//! evaluated against any [`Event`], with rules indexed by event type.
//!
//! ```
//! use std::path::PathBuf;
//! use rampart_rules::{MapEvent, RuleSet};
//!
//! let text = "
//! - list: shells
//!   items: [bash, sh]
//! - rule: Shell in container
//!   desc: a shell started in a container
//!   condition: evt.type = execve and container.id != host and proc.name in (shells)
//!   output: shell %proc.name in %container.id (user=%user.name)
//!   priority: WARNING
//! ";
//! let (set, warnings) = RuleSet::load(&[(PathBuf::from("local.yaml"), text.into())]).unwrap();
//! assert!(warnings.is_empty());
//! let event = MapEvent::from_pairs("execve", &[("proc.name", "bash"), ("container.id", "3f2a1b9c8d7e")]).unwrap();
//! let matched = set.evaluate(&event);
//! assert_eq!(matched[0].name, "Shell in container");
//! assert_eq!(matched[0].format_output(&event).0, "shell bash in 3f2a1b9c8d7e (user=<NA>)");
//! ```

mod compile;
mod error;
mod event;
mod event_types;
mod load;
mod map_event;
mod open_filter;
mod parse;
mod ruleset;

#[cfg(test)]
mod regression;

pub use error::{ErrorKind, ItemKind, LoadError, LoadErrors, Location, Warning};
pub use event::{ArgKind, Event, Field, FieldArg, Value, ValueType};
pub use map_event::MapEvent;
pub use open_filter::{OPEN_EVENT_TYPES, OpenNeed, PathNeed};
pub use ruleset::{BUILTIN_RULES, BUILTIN_RULES_PATH, EventTypes, Priority, Rule, RuleSet, parse_field};
