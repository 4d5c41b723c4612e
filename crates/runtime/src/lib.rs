//! Runtime detection: the eBPF sensor, the process/container state it keeps
//! up to date, the events rules are evaluated against, and recordings.
//!
//! Live: [`sensor::Sensor`] yields [`raw::RawEvent`]s; [`state::State::ingest`]
//! turns each into a [`model::SysEvent`]; [`view::EventView`] pairs it with
//! the state for `rampart_rules`. Replay: [`record::Replay`] yields the same
//! events with the state rebuilt from the recording.

pub mod alert;
pub mod container;
pub mod model;
pub mod names;
pub mod raw;
pub mod record;
pub mod respond;
#[cfg(target_os = "linux")]
pub mod sensor;
pub mod state;
pub mod syscalls;
pub mod view;

use std::path::PathBuf;

pub use model::{Container, Process, SysEvent};
pub use state::State;
pub use view::EventView;

/// What can go wrong in the runtime crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A sensor record that does not decode.
    #[error("sensor record: {0}")]
    Record(String),
    /// A recording line that does not decode.
    #[error("{}:{line}: {msg}", path.display())]
    Replay { path: PathBuf, line: usize, msg: String },
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    /// A configuration file that does not parse.
    #[error("{}: {msg}", path.display())]
    Config { path: PathBuf, msg: String },
    /// The kernel refused the sensor for lack of privileges.
    #[error("the eBPF sensor needs root (CAP_BPF, CAP_PERFMON): {0}")]
    Permission(String),
    /// The sensor could not be loaded or attached.
    #[error("eBPF sensor: {0}")]
    Sensor(String),
}
