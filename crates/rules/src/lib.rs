//! The Falco-compatible rule language: rule files with lists, macros,
//! exceptions, `append` and `override`; conditions compiled once and
//! evaluated against any [`Event`], with rules indexed by event type.

mod compile;
mod error;
mod event;
mod event_types;
mod load;
mod map_event;
mod parse;
mod ruleset;
mod yaml;

#[cfg(test)]
mod regression;

pub use error::{ErrorKind, ItemKind, LoadError, LoadErrors, Location, Warning};
pub use event::{ArgKind, Event, Field, FieldArg, Value, ValueType};
pub use map_event::MapEvent;
pub use ruleset::{BUILTIN_RULES, BUILTIN_RULES_PATH, EventTypes, Priority, Rule, RuleSet, parse_field};
