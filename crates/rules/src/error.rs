//! Load errors and warnings, each naming the file, line, column and the
//! rule, macro or list it is about.

use std::fmt;
use std::path::PathBuf;

/// What kind of item a problem is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ItemKind {
    Rule,
    Macro,
    List,
    Exception,
}

impl fmt::Display for ItemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ItemKind::Rule => "rule",
            ItemKind::Macro => "macro",
            ItemKind::List => "list",
            ItemKind::Exception => "exception",
        })
    }
}

/// Where a problem is: file, 1-based line and column (0 when unknown), and
/// the item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    pub file: PathBuf,
    pub line: u32,
    pub col: u32,
    pub item: Option<(ItemKind, String)>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)?;
        if self.col > 0 {
            write!(f, ":{}", self.col)?;
        }
        if let Some((kind, name)) = &self.item {
            write!(f, ": {kind} '{name}'")?;
        }
        Ok(())
    }
}

/// Why a rules file does not load.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ErrorKind {
    #[error("YAML syntax: {0}")]
    Yaml(String),
    #[error("{0}")]
    Schema(String),
    #[error("condition syntax: {0}")]
    Syntax(String),
    #[error("unknown field: {0}")]
    UnknownField(String),
    #[error("undefined macro '{0}'")]
    UnknownMacro(String),
    #[error("undefined list '{0}'")]
    UnknownList(String),
    #[error("bad operator: {0}")]
    BadOperator(String),
    #[error("bad regular expression '{pattern}': {message}")]
    BadRegex { pattern: String, message: String },
    #[error("wrong value type: {0}")]
    WrongValueType(String),
    #[error("{kind} loop: {path}")]
    Cycle { kind: ItemKind, path: String },
    #[error("invalid output: {0}")]
    Output(String),
    #[error("{0}")]
    Append(String),
}

/// One problem that stops a rules file from loading.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {kind}")]
pub struct LoadError {
    pub location: Location,
    pub kind: ErrorKind,
}

/// Every problem found while loading, in file order.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct LoadErrors(pub Vec<LoadError>);

impl fmt::Display for LoadErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// Something that loads but deserves attention (unknown keys, rules that
/// match every event type, rules of sources that are not evaluated).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    pub location: Location,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}
