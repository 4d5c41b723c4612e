//! Builtins implemented here because regorus's versions cost more than the
//! policies calling them: its `regex.match` clones the cached `Regex`, which
//! gives the clone a fresh match cache to build on every call.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use regorus::Value;

use crate::Error;

/// A native builtin: `Err` only for what regorus treats as a hard error;
/// other failures are `Value::Undefined`, as regorus's VM makes them.
pub(crate) type Native = fn(&[Value]) -> Result<Value, Error>;

/// The builtins replaced, by name, with their arity.
pub(crate) fn native(name: &str) -> Option<(Native, usize)> {
    match name {
        "regex.match" => Some((regex_match, 2)),
        _ => None,
    }
}

/// Patterns kept compiled; the cache starts over when full.
const MAX_PATTERNS: usize = 512;

/// The compiled-size limit regorus applies, so the same patterns are refused.
const REGEX_SIZE_LIMIT: usize = 100 * 1024;

static PATTERNS: LazyLock<Mutex<HashMap<String, Arc<regex::Regex>>>> = LazyLock::new(Default::default);

fn regex_match(args: &[Value]) -> Result<Value, Error> {
    let (Value::String(pattern), Value::String(text)) = (&args[0], &args[1]) else {
        return Ok(Value::Undefined);
    };
    let cached = PATTERNS.lock().unwrap_or_else(|e| e.into_inner()).get(pattern.as_ref()).cloned();
    let re = match cached {
        Some(re) => re,
        None => {
            let re = match regex::RegexBuilder::new(pattern).size_limit(REGEX_SIZE_LIMIT).build() {
                Ok(re) => Arc::new(re),
                Err(regex::Error::CompiledTooBig(_)) => {
                    return Err(Error::Eval(format!(
                        "regex.match: pattern exceeds {REGEX_SIZE_LIMIT} bytes compiled"
                    )));
                }
                Err(_) => return Ok(Value::Undefined),
            };
            let mut patterns = PATTERNS.lock().unwrap_or_else(|e| e.into_inner());
            if patterns.len() >= MAX_PATTERNS {
                patterns.clear();
            }
            patterns.insert(pattern.to_string(), Arc::clone(&re));
            re
        }
    };
    Ok(Value::Bool(re.is_match(text)))
}
