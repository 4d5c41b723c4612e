//! The engine: one keyword automaton picks the rules worth running on a
//! file, their regexes find candidates, filters drop placeholders and
//! allowed values, and overlapping candidates are resolved in favour of
//! the most specific rule.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{self, Read};
use std::ops::Range;

use aho_corasick::AhoCorasick;
use rampart_types::{Diagnostic, SecretFinding};
use regex::bytes::{Regex as BytesRegex, RegexBuilder as BytesRegexBuilder};
use regex::{Regex, RegexBuilder};

use crate::SecretError;
use crate::builtin::BUILTIN;
use crate::config::SecretConfig;
use crate::filter::{BUILTIN_PATH_ALLOW, entropy, has_binary_extension, is_placeholder, looks_binary};
use crate::rule::{AllowRule, Rule};

/// Files larger than this are skipped unless the caller sets another limit.
/// Memory does not grow with it: big files are scanned in windows.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 64 * 1024 * 1024;

/// [`Scanner::scan_reader`] holds at most this much of a file (plus the
/// overlap); callers stream files above it rather than read them whole.
pub const STREAM_WINDOW: usize = 4 * 1024 * 1024;
/// How much consecutive windows share, so that a multi-line secret (a PEM
/// key) up to this long is seen whole by the window where it starts.
const WINDOW_OVERLAP: usize = 64 * 1024;

/// Lines longer than this are shown as a window around the secret.
const MAX_MATCH_LINE: usize = 200;
/// Bytes of context kept on each side of the secret in such a window.
const MATCH_CONTEXT: usize = 40;

/// Where the built-in rules are said to come from in errors.
const BUILTIN_ORIGIN: &str = "built-in rules";

/// All the built-in rules, in the order they are checked.
pub fn builtin_rules() -> Vec<Rule> {
    BUILTIN.iter().map(|b| b.to_rule()).collect()
}

/// The built-in global allow rules (dependency trees, OS documentation).
pub fn builtin_allow_rules() -> Vec<AllowRule> {
    BUILTIN_PATH_ALLOW
        .iter()
        .map(|(id, description, path)| AllowRule {
            id: id.to_string(),
            description: description.to_string(),
            regex: None,
            path: Some(path.to_string()),
        })
        .collect()
}

/// A finding and where its secret starts and ends within its lines.
#[derive(Clone, Debug, PartialEq)]
pub struct Located {
    pub finding: SecretFinding,
    /// 1-based, in characters, on `finding.start_line`.
    pub start_column: u32,
    /// 1-based and exclusive, in characters, on `finding.end_line`.
    pub end_column: u32,
}

/// Compiled rules ready to scan; build once and share across threads.
#[derive(Debug)]
pub struct Scanner {
    rules: Vec<CompiledRule>,
    allow: Vec<CompiledAllow>,
    /// Every keyword of every rule; `None` when no rule has one.
    prefilter: Option<AhoCorasick>,
    /// For each keyword pattern, the rules it enables.
    keyword_rules: Vec<Vec<usize>>,
    /// Rules without keywords, which run on every file.
    unconditional: Vec<usize>,
    max_file_size: u64,
    warnings: Vec<Diagnostic>,
}

#[derive(Debug)]
struct CompiledRule {
    rule: Rule,
    regex: BytesRegex,
    /// Index of the capture group holding the secret; `None`: the whole match.
    group: Option<usize>,
    path: Option<Regex>,
    allow: Vec<CompiledAllow>,
    /// Generic rules lose every overlap with a provider-specific one.
    generic: bool,
}

#[derive(Debug)]
struct CompiledAllow {
    regex: Option<BytesRegex>,
    path: Option<Regex>,
}

impl CompiledAllow {
    fn compile(allow: &AllowRule, origin: &str, rule: &str) -> Result<CompiledAllow, SecretError> {
        if allow.regex.is_none() && allow.path.is_none() {
            return Err(SecretError::InvalidRule {
                origin: origin.to_string(),
                rule: rule.to_string(),
                reason: format!("allow rule {:?} has neither `regex` nor `path`", allow.id),
            });
        }
        let field = |name: &str| format!("allow rule {:?} {name}", allow.id);
        Ok(CompiledAllow {
            regex: allow
                .regex
                .as_deref()
                .map(|r| bytes_regex(r, origin, rule, &field("regex")))
                .transpose()?,
            path: allow.path.as_deref().map(|p| path_regex(p, origin, rule, &field("path"))).transpose()?,
        })
    }

    /// Path-only rules: the whole file is allowed.
    fn allows_path(&self, path: &str) -> bool {
        self.regex.is_none() && self.path.as_ref().is_some_and(|p| p.is_match(path))
    }

    fn allows_secret(&self, secret: &[u8], path: &str) -> bool {
        self.regex.as_ref().is_some_and(|r| r.is_match(secret))
            && self.path.as_ref().is_none_or(|p| p.is_match(path))
    }
}

fn bytes_regex(pattern: &str, origin: &str, rule: &str, field: &str) -> Result<BytesRegex, SecretError> {
    BytesRegexBuilder::new(pattern).unicode(false).build().map_err(|source| SecretError::BadRegex {
        origin: origin.to_string(),
        rule: rule.to_string(),
        field: field.to_string(),
        source,
    })
}

fn path_regex(pattern: &str, origin: &str, rule: &str, field: &str) -> Result<Regex, SecretError> {
    RegexBuilder::new(pattern).build().map_err(|source| SecretError::BadRegex {
        origin: origin.to_string(),
        rule: rule.to_string(),
        field: field.to_string(),
        source,
    })
}

impl CompiledRule {
    fn compile(rule: Rule, origin: &str) -> Result<CompiledRule, SecretError> {
        let invalid = |reason: String| SecretError::InvalidRule {
            origin: origin.to_string(),
            rule: rule.id.clone(),
            reason,
        };
        if rule.id.trim().is_empty() {
            return Err(invalid("the rule id is empty".to_string()));
        }
        if rule.keywords.iter().any(|k| k.is_empty()) {
            return Err(invalid("a keyword is empty".to_string()));
        }
        let regex = bytes_regex(&rule.regex, origin, &rule.id, "regex")?;
        let group = match &rule.secret_group {
            Some(name) => Some(
                regex
                    .capture_names()
                    .position(|n| n == Some(name.as_str()))
                    .ok_or_else(|| invalid(format!("the regex has no capture group named {name:?}")))?,
            ),
            None => regex.capture_names().position(|n| n == Some("secret")),
        };
        let path = rule.path.as_deref().map(|p| path_regex(p, origin, &rule.id, "path")).transpose()?;
        let allow = rule
            .allow
            .iter()
            .map(|a| CompiledAllow::compile(a, origin, &rule.id))
            .collect::<Result<_, _>>()?;
        let generic = rule.category.eq_ignore_ascii_case("generic");
        Ok(CompiledRule { rule, regex, group, path, allow, generic })
    }

    /// Whether the rule runs on this file at all.
    fn applies_to(&self, path: &str) -> bool {
        self.path.as_ref().is_none_or(|p| p.is_match(path)) && !self.allow.iter().any(|a| a.allows_path(path))
    }
}

/// A secret one rule found, before overlaps are resolved.
struct Candidate {
    rule: usize,
    secret: Range<usize>,
}

impl Scanner {
    /// The built-in rules and allow rules.
    pub fn new() -> Result<Scanner, SecretError> {
        Scanner::with_config(&SecretConfig::default())
    }

    /// Built-in rules adjusted by a `--secret-config` file. A bad regex or an
    /// incomplete rule is an error naming the file and the rule id; ids the
    /// config disables but no rule has are only warnings (see [`Scanner::warnings`]),
    /// as Trivy configs may name rules rampart does not have.
    pub fn with_config(config: &SecretConfig) -> Result<Scanner, SecretError> {
        let origin = config.origin.display().to_string();
        let mut warnings = Vec::new();
        let mut unknown = |field: &str, id: &str| {
            warnings.push(Diagnostic::new(&origin, format!("{field}: no rule has the id {id:?}")));
        };
        for id in &config.enable_builtin_rules {
            if !BUILTIN.iter().any(|b| b.id == id) {
                unknown("enable-builtin-rules", id);
            }
        }
        for id in &config.disable_rules {
            if !BUILTIN.iter().any(|b| b.id == id) && !config.rules.iter().any(|r| &r.id == id) {
                unknown("disable-rules", id);
            }
        }
        for id in &config.disable_allow_rules {
            if !BUILTIN_PATH_ALLOW.iter().any(|(a, _, _)| a == id) {
                unknown("disable-allow-rules", id);
            }
        }

        let mut custom_ids = HashSet::new();
        for rule in &config.rules {
            if !custom_ids.insert(rule.id.as_str()) {
                return Err(SecretError::InvalidRule {
                    origin: origin.clone(),
                    rule: rule.id.clone(),
                    reason: "the id is used by another rule in the same file".to_string(),
                });
            }
        }
        let disabled = |id: &str| config.disable_rules.iter().any(|d| d == id);
        let mut rules = Vec::new();
        for builtin in BUILTIN {
            let enabled = config.enable_builtin_rules.is_empty()
                || config.enable_builtin_rules.iter().any(|e| e == builtin.id);
            // A custom rule with a built-in id takes the built-in's place.
            if enabled && !disabled(builtin.id) && !custom_ids.contains(builtin.id) {
                rules.push(CompiledRule::compile(builtin.to_rule(), BUILTIN_ORIGIN)?);
            }
        }
        for rule in &config.rules {
            if !disabled(&rule.id) {
                rules.push(CompiledRule::compile(rule.clone(), &origin)?);
            }
        }

        let mut allow = Vec::new();
        for builtin in builtin_allow_rules() {
            if !config.disable_allow_rules.contains(&builtin.id) {
                allow.push(CompiledAllow::compile(&builtin, BUILTIN_ORIGIN, "global allow-rules")?);
            }
        }
        for custom in &config.allow_rules {
            allow.push(CompiledAllow::compile(custom, &origin, "global allow-rules")?);
        }

        let mut keyword_ids: HashMap<&str, usize> = HashMap::new();
        let mut keyword_rules: Vec<Vec<usize>> = Vec::new();
        let mut unconditional = Vec::new();
        for (index, compiled) in rules.iter().enumerate() {
            if compiled.rule.keywords.is_empty() {
                unconditional.push(index);
            }
            for keyword in &compiled.rule.keywords {
                let next = keyword_ids.len();
                let id = *keyword_ids.entry(keyword.as_str()).or_insert(next);
                if id == keyword_rules.len() {
                    keyword_rules.push(Vec::new());
                }
                keyword_rules[id].push(index);
            }
        }
        let mut patterns = vec![""; keyword_ids.len()];
        for (keyword, id) in &keyword_ids {
            patterns[*id] = keyword;
        }
        let prefilter = if patterns.is_empty() {
            None
        } else {
            Some(AhoCorasick::builder().ascii_case_insensitive(true).build(&patterns).map_err(|e| {
                SecretError::InvalidRule {
                    origin: origin.clone(),
                    rule: "keywords".to_string(),
                    reason: e.to_string(),
                }
            })?)
        };
        Ok(Scanner {
            rules,
            allow,
            prefilter,
            keyword_rules,
            unconditional,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            warnings,
        })
    }

    /// Files above `bytes` are not scanned.
    pub fn with_max_file_size(mut self, bytes: u64) -> Scanner {
        self.max_file_size = bytes;
        self
    }

    /// The size limit, so a caller can skip big files before reading them.
    pub fn max_file_size(&self) -> u64 {
        self.max_file_size
    }

    /// The rules in force, in the order they are checked.
    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.rules.iter().map(|r| &r.rule)
    }

    /// Problems with the config that did not stop the build.
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    /// Whether a file can be left unread: a binary format by its extension,
    /// or a path a global allow rule covers.
    pub fn skips_path(&self, rel_path: &str) -> bool {
        has_binary_extension(rel_path) || self.allow.iter().any(|a| a.allows_path(rel_path))
    }

    /// Findings in one file, in file order. `path` is what the report shows
    /// and what path regexes are tested against; `layer` and `commit` are
    /// left for the caller to fill.
    pub fn scan(&self, path: &str, content: &[u8]) -> Vec<SecretFinding> {
        self.scan_located(path, content).into_iter().map(|l| l.finding).collect()
    }

    /// [`Scanner::scan`] with the columns of each secret.
    pub fn scan_located(&self, path: &str, content: &[u8]) -> Vec<Located> {
        if content.len() as u64 > self.max_file_size
            || looks_binary(content)
            || self.allow.iter().any(|a| a.allows_path(path))
        {
            return Vec::new();
        }
        let accepted = self.accepted(path, content);
        render(&self.rules, content, &accepted, 0)
    }

    /// [`Scanner::scan_located`] over a reader, holding at most
    /// [`STREAM_WINDOW`] plus a small overlap in memory, whatever the file's
    /// size. Windows end on line breaks, so a one-line secret is never cut;
    /// each secret is reported by the window where it starts. A file that
    /// turns out larger than the size limit gives no findings, as it would
    /// read whole.
    pub fn scan_reader(&self, path: &str, reader: &mut dyn Read) -> io::Result<Vec<Located>> {
        if self.allow.iter().any(|a| a.allows_path(path)) {
            return Ok(Vec::new());
        }
        let mut window: Vec<u8> = Vec::with_capacity(STREAM_WINDOW + WINDOW_OVERLAP);
        let mut read_total = 0u64;
        let mut lines_before = 0usize;
        let mut located = Vec::new();
        let mut first = true;
        loop {
            let before = window.len();
            let eof = fill(reader, &mut window, STREAM_WINDOW + WINDOW_OVERLAP)?;
            read_total += (window.len() - before) as u64;
            if read_total > self.max_file_size {
                return Ok(Vec::new());
            }
            if std::mem::replace(&mut first, false) && looks_binary(&window) {
                return Ok(Vec::new());
            }
            let owned_end = if eof {
                window.len()
            } else {
                let limit = window.len() - WINDOW_OVERLAP;
                window[..limit].iter().rposition(|&b| b == b'\n').map_or(limit, |i| i + 1)
            };
            let mut accepted = self.accepted(path, &window);
            accepted.retain(|c| c.secret.start < owned_end);
            located.extend(render(&self.rules, &window, &accepted, lines_before));
            if eof {
                return Ok(located);
            }
            lines_before += window[..owned_end].iter().filter(|&&b| b == b'\n').count();
            window.drain(..owned_end);
        }
    }

    /// The secrets in `content` that survive the filters and overlap
    /// resolution, by position.
    fn accepted(&self, path: &str, content: &[u8]) -> Vec<Candidate> {
        let mut candidates = Vec::new();
        for index in self.active_rules(content) {
            let compiled = &self.rules[index];
            if compiled.applies_to(path) {
                self.find(index, compiled, path, content, &mut candidates);
            }
        }
        if candidates.is_empty() {
            return candidates;
        }
        self.resolve_overlaps(candidates)
    }

    /// Indexes of the rules whose keywords occur in `content`, ascending.
    fn active_rules(&self, content: &[u8]) -> Vec<usize> {
        let mut active = vec![false; self.rules.len()];
        for &index in &self.unconditional {
            active[index] = true;
        }
        if let Some(prefilter) = &self.prefilter {
            let mut seen = vec![false; self.keyword_rules.len()];
            let mut missing = seen.len();
            for m in prefilter.find_overlapping_iter(content) {
                let pattern = m.pattern().as_usize();
                if !std::mem::replace(&mut seen[pattern], true) {
                    for &index in &self.keyword_rules[pattern] {
                        active[index] = true;
                    }
                    missing -= 1;
                    if missing == 0 {
                        break;
                    }
                }
            }
        }
        active.iter().enumerate().filter(|(_, on)| **on).map(|(i, _)| i).collect()
    }

    fn find(
        &self,
        index: usize,
        compiled: &CompiledRule,
        path: &str,
        content: &[u8],
        out: &mut Vec<Candidate>,
    ) {
        for caps in compiled.regex.captures_iter(content) {
            let Some(whole) = caps.get(0) else { continue };
            let secret = compiled.group.and_then(|g| caps.get(g)).unwrap_or(whole);
            let bytes = secret.as_bytes();
            if bytes.is_empty()
                || compiled.rule.min_entropy.is_some_and(|min| entropy(bytes) < min)
                || is_placeholder(bytes)
                || compiled.allow.iter().chain(&self.allow).any(|a| a.allows_secret(bytes, path))
            {
                continue;
            }
            out.push(Candidate { rule: index, secret: secret.range() });
        }
    }

    /// Keeps one finding per stretch of text: specific rules before generic
    /// ones, then the longer secret, then the earlier rule.
    fn resolve_overlaps(&self, mut candidates: Vec<Candidate>) -> Vec<Candidate> {
        candidates.sort_by_key(|c| {
            (self.rules[c.rule].generic, std::cmp::Reverse(c.secret.len()), c.rule, c.secret.start)
        });
        // Accepted secrets by start; they never overlap, so the one starting
        // last before a candidate's end is the only one that can overlap it.
        let mut taken: BTreeMap<usize, usize> = BTreeMap::new();
        let mut accepted = Vec::new();
        for candidate in candidates {
            let overlaps = taken
                .range(..candidate.secret.end)
                .next_back()
                .is_some_and(|(_, &end)| end > candidate.secret.start);
            if !overlaps {
                taken.insert(candidate.secret.start, candidate.secret.end);
                accepted.push(candidate);
            }
        }
        accepted.sort_by_key(|c| (c.secret.start, c.rule));
        accepted
    }
}

/// Turns accepted candidates into findings with line numbers (counted
/// from `lines_before`, the lines of the file before `content`) and a
/// redacted `Match`.
fn render(
    rules: &[CompiledRule],
    content: &[u8],
    accepted: &[Candidate],
    lines_before: usize,
) -> Vec<Located> {
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(content.iter().enumerate().filter(|(_, b)| **b == b'\n').map(|(i, _)| i + 1))
        .collect();
    let line_of = |offset: usize| line_starts.partition_point(|&s| s <= offset) - 1;
    let secrets: Vec<Range<usize>> = accepted.iter().map(|c| c.secret.clone()).collect();
    accepted
        .iter()
        .map(|c| {
            let rule = &rules[c.rule].rule;
            let start_line = line_of(c.secret.start);
            let last_byte = c.secret.end.saturating_sub(1).max(c.secret.start);
            let end_line = line_of(last_byte);
            let column = |line: usize, offset: usize| {
                let chars = String::from_utf8_lossy(&content[line_starts[line]..offset]).chars().count();
                u32::try_from(chars + 1).unwrap_or(u32::MAX)
            };
            let finding = SecretFinding {
                rule_id: rule.id.clone(),
                category: rule.category.clone(),
                severity: rule.severity,
                title: rule.title.clone(),
                start_line: u32::try_from(lines_before + start_line + 1).unwrap_or(u32::MAX),
                end_line: u32::try_from(lines_before + end_line + 1).unwrap_or(u32::MAX),
                matched: redacted_line(
                    content,
                    line_bounds(content, line_starts[start_line]),
                    &c.secret,
                    &secrets,
                ),
                layer: Default::default(),
                commit: None,
            };
            Located {
                finding,
                start_column: column(start_line, c.secret.start),
                end_column: column(end_line, c.secret.end),
            }
        })
        .collect()
}

/// Reads into `buf` until it holds `cap` bytes or the reader ends; true at
/// the end.
fn fill(reader: &mut dyn Read, buf: &mut Vec<u8>, cap: usize) -> io::Result<bool> {
    while buf.len() < cap {
        let want = (cap - buf.len()) as u64;
        match reader.take(want).read_to_end(buf) {
            Ok(0) => return Ok(true),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(false)
}

/// The line starting at `start`, without its line break.
fn line_bounds(content: &[u8], start: usize) -> Range<usize> {
    let end = content[start..].iter().position(|&b| b == b'\n').map_or(content.len(), |p| start + p);
    let end = if end > start && content[end - 1] == b'\r' { end - 1 } else { end };
    start..end
}

/// The line (or, for a long one, a window around the secret) with every
/// secret on it, and any other copy of this one, replaced by `*`.
fn redacted_line(content: &[u8], line: Range<usize>, own: &Range<usize>, secrets: &[Range<usize>]) -> String {
    let (mut start, mut end) = (line.start, line.end);
    if line.len() > MAX_MATCH_LINE {
        start = own.start.saturating_sub(MATCH_CONTEXT).max(line.start);
        end = own.end.saturating_add(MATCH_CONTEXT).min(line.end);
        let continuation = |b: u8| b & 0xC0 == 0x80;
        while start < end && continuation(content[start]) {
            start += 1;
        }
        while end > start && end < line.end && continuation(content[end]) {
            end -= 1;
        }
    }
    let mut shown = content[start..end].to_vec();
    for secret in secrets {
        let from = secret.start.max(start);
        let to = secret.end.min(end);
        if from < to {
            shown[from - start..to - start].fill(b'*');
        }
    }
    let own_text = &content[own.clone()];
    if !own_text.is_empty() && own_text.len() <= shown.len() {
        let mut at = 0;
        while at + own_text.len() <= shown.len() {
            if &shown[at..at + own_text.len()] == own_text {
                shown[at..at + own_text.len()].fill(b'*');
                at += own_text.len();
            } else {
                at += 1;
            }
        }
    }
    String::from_utf8_lossy(&shown).trim().to_string()
}
