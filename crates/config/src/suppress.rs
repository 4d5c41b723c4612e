//! Inline suppressions: a comment `rampart:ignore:ID` (or Trivy's
//! `trivy:ignore:ID`, so existing files keep working) drops the findings of
//! check `ID` on its own line, or, written on comment lines of its own,
//! on the line that follows them and everything nested under it: the rest
//! of a YAML mapping, an HCL block up to its closing brace.

use rampart_types::Misconfiguration;

use crate::ConfigKind;

const MARKERS: &[&str] = &["rampart:ignore:", "trivy:ignore:"];

/// A suppression: check `id` ignored on lines `from..=to`.
struct Suppression {
    id: String,
    from: u32,
    to: u32,
}

/// Drops the failures an inline comment suppresses.
pub(crate) fn apply(kind: ConfigKind, text: &str, failures: &mut Vec<Misconfiguration>) {
    if !MARKERS.iter().any(|m| text.contains(m)) {
        return;
    }
    let suppressions = collect(kind, text);
    failures.retain(|f| {
        let line = f.cause_metadata.start_line;
        !suppressions.iter().any(|s| s.id.eq_ignore_ascii_case(&f.id) && (s.from..=s.to).contains(&line))
    });
}

fn collect(kind: ConfigKind, text: &str) -> Vec<Suppression> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let ids = ids(line);
        if ids.is_empty() {
            continue;
        }
        let own = u32::try_from(index + 1).unwrap_or(u32::MAX);
        // A comment after code covers that line; a comment line covers what follows it.
        let target = if is_comment(kind, line) {
            let next = lines[index + 1..].iter().position(|l| !l.trim().is_empty() && !is_comment(kind, l));
            match next {
                Some(offset) => index + 1 + offset,
                None => continue,
            }
        } else {
            index
        };
        let from = u32::try_from(target + 1).unwrap_or(u32::MAX);
        let to = u32::try_from(extent(kind, &lines, target) + 1).unwrap_or(u32::MAX);
        for id in ids {
            out.push(Suppression { id: id.to_string(), from: from.min(own), to });
        }
    }
    out
}

/// The check ids named by markers on one line.
fn ids(line: &str) -> Vec<&str> {
    let mut found = Vec::new();
    for marker in MARKERS {
        let mut rest = line;
        while let Some(at) = rest.find(marker) {
            rest = &rest[at + marker.len()..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
                .unwrap_or(rest.len());
            if end > 0 {
                found.push(&rest[..end]);
            }
        }
    }
    found
}

fn is_comment(kind: ConfigKind, line: &str) -> bool {
    let line = line.trim_start();
    match kind {
        ConfigKind::Terraform => line.starts_with('#') || line.starts_with("//") || line.starts_with("/*"),
        ConfigKind::Dockerfile | ConfigKind::Kubernetes => line.starts_with('#'),
    }
}

/// The last line (0-based) of what starts at line `start`: for YAML the
/// lines indented deeper than it, for HCL the block its `{` opens, for a
/// Dockerfile the instruction with its continuation lines.
fn extent(kind: ConfigKind, lines: &[&str], start: usize) -> usize {
    match kind {
        ConfigKind::Kubernetes => {
            let indent = |l: &str| l.len() - l.trim_start_matches(' ').len();
            let base = indent(lines[start]);
            let mut last = start;
            for (i, line) in lines.iter().enumerate().skip(start + 1) {
                let trimmed = line.trim();
                if trimmed.is_empty() || trimmed.starts_with('#') {
                    continue;
                }
                if indent(line) <= base || trimmed == "---" {
                    break;
                }
                last = i;
            }
            last
        }
        ConfigKind::Terraform => {
            let mut depth = 0i64;
            for (i, line) in lines.iter().enumerate().skip(start) {
                for c in line.chars() {
                    match c {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        _ => {}
                    }
                }
                if depth <= 0 {
                    return i;
                }
            }
            lines.len().saturating_sub(1)
        }
        ConfigKind::Dockerfile => {
            let mut last = start;
            while last + 1 < lines.len() && lines[last].trim_end().ends_with('\\') {
                last += 1;
            }
            last
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_name_one_or_several_ids() {
        assert_eq!(ids("# rampart:ignore:DS002"), ["DS002"]);
        assert_eq!(
            ids("  x = 1 # trivy:ignore:AVD-AWS-0086 rampart:ignore:RPT-TF-001"),
            ["RPT-TF-001", "AVD-AWS-0086"]
        );
        assert!(ids("# rampart:ignore:").is_empty());
        assert!(ids("# nothing here").is_empty());
    }

    #[test]
    fn yaml_comment_covers_the_nested_mapping() {
        let text =
            "spec:\n  # rampart:ignore:KSV017\n  securityContext:\n    privileged: true\n  hostPID: true\n";
        let s = collect(ConfigKind::Kubernetes, text);
        assert_eq!((s[0].from, s[0].to), (2, 4));
    }

    #[test]
    fn hcl_comment_covers_the_block() {
        let text = "# rampart:ignore:X\nresource \"a\" \"b\" {\n  tags = { a = \"${var.x}\" }\n  y = 1\n}\nresource \"c\" \"d\" {}\n";
        let s = collect(ConfigKind::Terraform, text);
        assert_eq!((s[0].from, s[0].to), (1, 5));
    }
}
