//! Reuse of evaluation results for identical inputs. Rego evaluation is a
//! pure function of (template, parameters, inventory, input) once volatile
//! builtins are excluded, so a review whose input bytes equal an earlier
//! one's gets the earlier violations. Keys hold the whole input, so a hit is
//! exact, never a hash collision. The cache is emptied whenever templates,
//! constraints or the inventory change.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use foldhash::quality::RandomState;
use serde_json::Value as Json;

use crate::reads::{Path, Step};

/// One constraint's violations: messages and details.
pub(crate) type Outcome = Arc<Vec<(String, Option<Json>)>>;

const SHARDS: usize = 16;

/// Input bytes → the outcomes of the constraints evaluated on that input.
/// A review finds its input once, then each constraint by its version: the
/// input is hashed and compared once per review, not once per constraint.
type Shard = Mutex<HashMap<InputKey, Arc<Outcomes>>>;

/// A review's input with its hash, computed once: it picks the shard and
/// keys the map; equality still compares every byte.
struct InputKey {
    hash: u64,
    bytes: Arc<[u8]>,
}

impl Hash for InputKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

impl PartialEq for InputKey {
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash && self.bytes == other.bytes
    }
}

impl Eq for InputKey {}

/// Constraint version → outcome, for one input.
#[derive(Default)]
pub(crate) struct Outcomes {
    by_constraint: Mutex<HashMap<u64, Outcome>>,
    /// Whether the input was looked up again since the shard last filled.
    reused: AtomicBool,
}

impl Outcomes {
    pub fn get(&self, constraint: u64) -> Option<Outcome> {
        self.by_constraint.lock().unwrap_or_else(|e| e.into_inner()).get(&constraint).cloned()
    }

    pub fn put(&self, constraint: u64, outcome: Outcome) {
        self.by_constraint.lock().unwrap_or_else(|e| e.into_inner()).insert(constraint, outcome);
    }
}

pub(crate) struct DecisionCache {
    shards: Vec<Shard>,
    per_shard: usize,
    /// Keyed per process, so crafted requests cannot aim at one shard.
    hasher: RandomState,
}

impl DecisionCache {
    /// Room for `capacity` distinct inputs.
    pub fn new(capacity: usize) -> Self {
        DecisionCache {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            per_shard: capacity.div_ceil(SHARDS),
            hasher: RandomState::default(),
        }
    }

    pub fn enabled(&self) -> bool {
        self.per_shard > 0
    }

    /// The outcomes kept for `input`, made empty if there are none yet.
    pub fn outcomes(&self, input: Arc<[u8]>) -> Arc<Outcomes> {
        let key = InputKey { hash: self.hasher.hash_one(&*input), bytes: input };
        let mut shard =
            self.shards[(key.hash >> 60) as usize % SHARDS].lock().unwrap_or_else(|e| e.into_inner());
        if let Some(found) = shard.get(&key) {
            found.reused.store(true, Ordering::Relaxed);
            return Arc::clone(found);
        }
        // A full shard keeps the inputs looked up again since it last filled
        // (one spec shared by many replicas) and drops the rest (each
        // replica's own name): cheaper than LRU bookkeeping on every hit.
        if shard.len() >= self.per_shard {
            shard.retain(|_, outcomes| outcomes.reused.swap(false, Ordering::Relaxed));
            if shard.len() >= self.per_shard / 2 {
                shard.clear();
            }
        }
        Arc::clone(shard.entry(key).or_default())
    }

    pub fn clear(&mut self) {
        for s in &mut self.shards {
            s.get_mut().unwrap_or_else(|e| e.into_inner()).clear();
        }
    }
}

/// The cache key of a review: the request's JSON without its `uid`,
/// followed by the Namespace object's.
pub(crate) fn request_key(request: &Json, namespace: Option<&Json>) -> Arc<[u8]> {
    let mut out = Vec::with_capacity(2048);
    if let Some(map) = request.as_object() {
        for (k, v) in map {
            if k == "uid" {
                continue;
            }
            // Writing JSON into a Vec cannot fail.
            let _ = serde_json::to_writer(&mut out, k);
            out.push(b':');
            let _ = serde_json::to_writer(&mut out, v);
            out.push(b',');
        }
    }
    out.push(b'|');
    if let Some(ns) = namespace {
        let _ = serde_json::to_writer(&mut out, ns);
    }
    out.into()
}

/// The cache key of a review for Rego that may read the uid: the key
/// without it, then the uid. The Namespace JSON before it is whole or
/// absent, so no key without a uid reads as one with.
pub(crate) fn with_uid(key: &[u8], request: &Json) -> Arc<[u8]> {
    let mut out = Vec::with_capacity(key.len() + 64);
    out.extend_from_slice(key);
    out.push(b'|');
    match request.get("uid") {
        Some(uid) => {
            let _ = serde_json::to_writer(&mut out, uid);
        }
        None => out.push(b'!'),
    }
    out.into()
}

/// The cache key of a review for a template that reads only `paths` of
/// `input.review`: each path with the JSON found there, resolved as
/// `input.review` is built (the object taken from `oldObject` when absent,
/// the Namespace object as `namespaceObject` and `_unstable.namespace`).
pub(crate) fn reads_bytes(
    paths: &[Path],
    request: &Json,
    subject: &Json,
    namespace: Option<&Json>,
) -> Arc<[u8]> {
    let mut out = Vec::with_capacity(1024);
    for path in paths {
        for step in path {
            match step {
                Step::Key(k) => {
                    let _ = serde_json::to_writer(&mut out, k);
                }
                Step::Index(i) => out.extend_from_slice(i.to_string().as_bytes()),
            }
            out.push(b'.');
        }
        out.push(b'=');
        match review_at(path, request, subject, namespace) {
            // Not valid JSON, so never equal to a value's text.
            None => out.push(b'!'),
            Some(v) => {
                let _ = serde_json::to_writer(&mut out, v);
            }
        }
        out.push(b'\n');
    }
    out.into()
}

/// The value at `path` of `input.review` (see `review_value` in lib.rs).
fn review_at<'a>(
    path: &[Step],
    request: &'a Json,
    subject: &'a Json,
    namespace: Option<&'a Json>,
) -> Option<&'a Json> {
    let (first, rest) = path.split_first()?;
    let base = match (first, namespace) {
        (Step::Key(k), _) if k == "object" => match request.get("object") {
            Some(o) if !o.is_null() => o,
            _ => subject,
        },
        (Step::Key(k), Some(ns)) if k == "namespaceObject" => ns,
        (Step::Key(k), Some(ns)) if k == "_unstable" => {
            // `_unstable` is `{"namespace": ns}`; a read of it whole is
            // keyed by the namespace object alone, under its own path.
            return match rest.split_first() {
                None => Some(ns),
                Some((Step::Key(k), rest)) if k == "namespace" => descend(ns, rest),
                Some(_) => None,
            };
        }
        _ => return descend(request, path),
    };
    descend(base, rest)
}

fn descend<'a>(mut value: &'a Json, path: &[Step]) -> Option<&'a Json> {
    for step in path {
        value = match (step, value) {
            (Step::Key(k), Json::Object(map)) => map.get(k)?,
            (Step::Index(i), Json::Array(items)) => items.get(usize::try_from(*i).ok()?)?,
            _ => return None,
        };
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> Arc<[u8]> {
        s.as_bytes().into()
    }

    #[test]
    fn inputs_looked_up_again_outlive_a_flood_of_one_off_inputs() {
        let cache = DecisionCache::new(1024);
        let outcome: Outcome = Arc::new(vec![("denied".to_string(), None)]);
        cache.outcomes(key("shared spec")).put(7, Arc::clone(&outcome));
        cache.outcomes(key("one replica's name")).put(7, outcome);
        for i in 0..20_000 {
            cache.outcomes(key(&format!("replica {i}")));
            if i % 10 == 0 {
                assert!(cache.outcomes(key("shared spec")).get(7).is_some(), "evicted after {i} inputs");
            }
        }
        assert!(cache.outcomes(key("one replica's name")).get(7).is_none());
        // Bounded: no shard holds more than its share.
        for shard in &cache.shards {
            assert!(shard.lock().unwrap().len() <= cache.per_shard);
        }
    }
}
