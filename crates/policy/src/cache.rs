//! Reuse of evaluation results for identical inputs. Rego evaluation is a
//! pure function of (template, parameters, inventory, input) once volatile
//! builtins are excluded, so a review whose input bytes equal an earlier
//! one's gets the earlier violations. Keys hold the whole input, so a hit is
//! exact, never a hash collision. The cache is emptied whenever templates,
//! constraints or the inventory change.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::Value as Json;

/// One constraint's violations: messages and details.
pub(crate) type Outcome = Arc<Vec<(String, Option<Json>)>>;

const SHARDS: usize = 16;

/// Input bytes → the outcomes of the constraints evaluated on that input.
/// A review finds its input once, then each constraint by its version: the
/// input is hashed and compared once per review, not once per constraint.
type Shard = Mutex<HashMap<Arc<[u8]>, Arc<Outcomes>>>;

/// Constraint version → outcome, for one input.
#[derive(Default)]
pub(crate) struct Outcomes(Mutex<HashMap<u64, Outcome>>);

impl Outcomes {
    pub fn get(&self, constraint: u64) -> Option<Outcome> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).get(&constraint).cloned()
    }

    pub fn put(&self, constraint: u64, outcome: Outcome) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).insert(constraint, outcome);
    }
}

pub(crate) struct DecisionCache {
    shards: Vec<Shard>,
    per_shard: usize,
}

impl DecisionCache {
    /// Room for `capacity` distinct inputs.
    pub fn new(capacity: usize) -> Self {
        DecisionCache {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            per_shard: capacity.div_ceil(SHARDS),
        }
    }

    pub fn enabled(&self) -> bool {
        self.per_shard > 0
    }

    /// The outcomes kept for `input`, made empty if there are none yet.
    pub fn outcomes(&self, input: &Arc<[u8]>) -> Arc<Outcomes> {
        // Cheap spread over a few input bytes; the map hashes the whole input.
        let mix =
            input.iter().rev().take(32).fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(*b)));
        let mut shard = self.shards[(mix as usize) % SHARDS].lock().unwrap_or_else(|e| e.into_inner());
        if let Some(found) = shard.get(input) {
            return Arc::clone(found);
        }
        // A full shard starts over: cheaper than LRU bookkeeping on every hit.
        if shard.len() >= self.per_shard {
            shard.clear();
        }
        Arc::clone(shard.entry(Arc::clone(input)).or_default())
    }

    pub fn clear(&mut self) {
        for s in &mut self.shards {
            s.get_mut().unwrap_or_else(|e| e.into_inner()).clear();
        }
    }
}

/// The cache key of a review: the request's JSON (without `uid` unless
/// wanted) followed by the Namespace object's.
pub(crate) fn input_bytes(request: &Json, namespace: Option<&Json>, with_uid: bool) -> Arc<[u8]> {
    let mut out = Vec::with_capacity(2048);
    if let Some(map) = request.as_object() {
        for (k, v) in map {
            if k == "uid" && !with_uid {
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
