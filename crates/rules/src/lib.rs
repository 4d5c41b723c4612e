//! The Falco-compatible rule language: events and fields, rule files,
//! conditions compiled for fast evaluation.

mod event;

pub use event::{ArgKind, Event, Field, FieldArg, Value, ValueType};
