//! How the engine treats files: what it skips, how it resolves overlapping
//! rules, where it says a secret is, and how it redacts.

use rampart_secret::{DEFAULT_MAX_FILE_SIZE, Scanner};

const GITHUB: &str = "ghp_R8wKq2VnT5mZ3xLp9cHd4fJs7gBy1aE6uWoN";
const AWS_ID: &str = "AKIA5TQ7NWRJ3VXK2M8P";

fn scanner() -> Scanner {
    Scanner::new().unwrap()
}

fn ids(findings: &[rampart_types::SecretFinding]) -> Vec<(&str, u32)> {
    findings.iter().map(|f| (f.rule_id.as_str(), f.start_line)).collect()
}

#[test]
fn binary_content_is_not_scanned() {
    let text = format!("GITHUB_TOKEN={GITHUB}\n");
    assert_eq!(scanner().scan("a.env", text.as_bytes()).len(), 1);
    let binary = [b"\x7fELF\x02\x01\0\0".as_slice(), text.as_bytes()].concat();
    assert!(scanner().scan("a.env", &binary).is_empty());
}

#[test]
fn files_over_the_size_limit_are_not_scanned() {
    assert_eq!(scanner().max_file_size(), DEFAULT_MAX_FILE_SIZE);
    let text = format!("GITHUB_TOKEN={GITHUB}\n");
    let small = scanner().with_max_file_size(text.len() as u64 - 1);
    assert_eq!(small.max_file_size(), text.len() as u64 - 1);
    assert!(small.scan("a.env", text.as_bytes()).is_empty());
    let exact = scanner().with_max_file_size(text.len() as u64);
    assert_eq!(exact.scan("a.env", text.as_bytes()).len(), 1);
}

#[test]
fn paths_that_cannot_hold_text_secrets_are_skipped_unread() {
    let s = scanner();
    for skipped in [
        "assets/logo.png",
        "dist/app.tar.gz",
        "lib/x.jar",
        "fonts/a.woff2",
        "node_modules/pkg/.env",
        "vendor/github.com/x/y/config.go",
        "usr/share/doc/bash/README",
        "root/go/pkg/mod/a@v1/k.pem",
        "usr/lib/python3/dist-packages/x/settings.py",
    ] {
        assert!(s.skips_path(skipped), "{skipped}");
    }
    for read in [
        "Cargo.lock",
        "package-lock.json",
        ".env",
        "config/id_rsa",
        "src/vendors.rs",
        "usr/share/app/.env",
        "poetry.lock",
        "home/u/.pgpass",
    ] {
        assert!(!s.skips_path(read), "{read}");
    }
    let text = format!("GITHUB_TOKEN={GITHUB}\n");
    assert!(s.scan("web/node_modules/pkg/.env", text.as_bytes()).is_empty());
}

#[test]
fn a_specific_rule_wins_over_a_generic_one() {
    let text = format!("api_token = \"{GITHUB}\"\npassword: \"{AWS_ID}\"\n");
    let found = scanner().scan("settings.py", text.as_bytes());
    assert_eq!(ids(&found), [("github-pat", 1), ("aws-access-key-id", 2)]);
}

#[test]
fn generic_assignments_need_entropy_and_a_literal() {
    let s = scanner();
    let found = s.scan("app.yaml", b"db:\n  password: Xq7#vR2!mK9pL4wZ\n");
    assert_eq!(ids(&found), [("generic-password", 2)]);
    for quiet in [
        "password: aaaabbbb\n",
        "password = os.environ[\"DB_PASSWORD\"]\n",
        "password = self.password\n",
        "password: ${DB_PASSWORD}\n",
        "password: \"$DB_PASSWORD\"\n",
        "password: changeme123\n",
        "api_key = \"use-the-staging-key-here\"\n",
        "token = get_token()\n",
        // Source code: type annotations, paths and constants are not literals.
        "    pub Password: ::windows_sys::core::PCWSTR,\n",
        "    pub PresentHistoryToken: D3DKMT_PRESENTHISTORYTOKEN,\n",
        "    pub lpszPassword: mem::MaybeUninit::<u8>,\n",
        "see `passwd::pw_gecos` for the field\n",
        "let tokens = self.0.to_token_stream;\n",
        "let client_auth = emit_certificate_req_tls13(&mut flight)?;\n",
    ] {
        assert!(s.scan("app.py", quiet.as_bytes()).is_empty(), "{quiet}");
    }
}

#[test]
fn documentation_placeholders_are_not_reported() {
    let s = scanner();
    for placeholder in [
        "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
        "GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n",
        "GITHUB_TOKEN=ghp_000000000000000000000000000000000000\n",
        "token: ghp_123456789012345678901234567890123456\n",
        "STRIPE_SECRET_KEY=sk_live_YourSampleKeyGoesHere1234567890\n",
    ] {
        assert!(s.scan("README.txt", placeholder.as_bytes()).is_empty(), "{placeholder}");
    }
}

#[test]
fn every_secret_on_a_line_is_redacted_in_every_finding() {
    let text = format!("export A={AWS_ID} B={GITHUB} # again: {GITHUB}\n");
    let found = scanner().scan("env.sh", text.as_bytes());
    assert_eq!(ids(&found), [("aws-access-key-id", 1), ("github-pat", 1), ("github-pat", 1)]);
    for f in &found {
        assert!(!f.matched.contains(AWS_ID) && !f.matched.contains(GITHUB), "{}", f.matched);
        assert!(f.matched.starts_with("export A=****"), "{}", f.matched);
    }
}

#[test]
fn long_lines_are_shown_as_a_window_around_the_secret() {
    let text = format!("var a=\"{}\";var t=\"{GITHUB}\";var b=\"{}\";", "q".repeat(5000), "z".repeat(5000));
    let found = scanner().scan_located("bundle.min.js", text.as_bytes());
    assert_eq!(found.len(), 1);
    let shown = &found[0].finding.matched;
    assert!(shown.len() <= GITHUB.len() + 80, "{} bytes shown", shown.len());
    assert!(shown.contains(&format!("var t=\"{}\";var b=", "*".repeat(GITHUB.len()))), "{shown}");
    assert_eq!(found[0].start_column, 5000 + 17);
}

#[test]
fn windows_never_split_a_character() {
    let text = format!("{}GITHUB_TOKEN={GITHUB}{}", "é".repeat(300), "ü".repeat(300));
    let found = scanner().scan_located("notes.txt", text.as_bytes());
    assert_eq!(found.len(), 1);
    assert!(!found[0].finding.matched.contains('\u{fffd}'), "{}", found[0].finding.matched);
    // Columns count characters, not bytes.
    assert_eq!(found[0].start_column, 300 + 14);
    assert_eq!(found[0].end_column, 300 + 14 + GITHUB.len() as u32);
}

#[test]
fn crlf_line_endings() {
    let text = format!("# header\r\nGITHUB_TOKEN={GITHUB}\r\nNEXT=1\r\n");
    let found = scanner().scan("a.env", text.as_bytes());
    assert_eq!(ids(&found), [("github-pat", 2)]);
    assert_eq!(found[0].matched, format!("GITHUB_TOKEN={}", "*".repeat(GITHUB.len())));
}

#[test]
fn a_private_key_spans_its_body_lines() {
    let body = [
        "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun",
        "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK",
        "LxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW/VDL5AaWTg0nLVkjRo",
    ];
    let text = format!(
        "# deploy key\n-----BEGIN RSA PRIVATE KEY-----\n{}\n-----END RSA PRIVATE KEY-----\n",
        body.join("\n")
    );
    let found = scanner().scan("deploy/id_rsa", text.as_bytes());
    assert_eq!(found.len(), 1);
    assert_eq!((found[0].rule_id.as_str(), found[0].start_line, found[0].end_line), ("private-key", 3, 5));
    assert_eq!(found[0].matched, "*".repeat(64));
}

#[test]
fn invalid_utf8_around_a_secret_is_tolerated() {
    let text = [b"\xff\xfe junk ".as_slice(), format!("GITHUB_TOKEN={GITHUB}\n").as_bytes()].concat();
    let found = scanner().scan("odd.txt", &text);
    assert_eq!(ids(&found), [("github-pat", 1)]);
    assert!(found[0].matched.ends_with(&"*".repeat(GITHUB.len())));
}

#[test]
fn findings_come_in_file_order_and_leave_layer_and_commit_to_the_caller() {
    let text = format!("B={GITHUB}\nA={AWS_ID}\n\nC={GITHUB}\n");
    let found = scanner().scan("x.env", text.as_bytes());
    assert_eq!(ids(&found), [("github-pat", 1), ("aws-access-key-id", 2), ("github-pat", 4)]);
    assert!(found.iter().all(|f| f.layer.is_empty() && f.commit.is_none()));
}

#[test]
fn files_without_keywords_run_no_rule() {
    // Source text that mentions no keyword at all.
    let text = "fn main() {\n    println!(\"hello\");\n}\n".repeat(1000);
    assert!(scanner().scan("main.rs", text.as_bytes()).is_empty());
}

#[test]
fn one_scanner_serves_many_threads() {
    fn shareable<T: Send + Sync>(_: &T) {}
    let s = scanner();
    shareable(&s);
    let text = format!("GITHUB_TOKEN={GITHUB}\n");
    std::thread::scope(|scope| {
        let handles: Vec<_> =
            (0..4).map(|_| scope.spawn(|| s.scan("a.env", text.as_bytes()).len())).collect();
        assert!(handles.into_iter().all(|h| h.join().unwrap() == 1));
    });
}

/// A reader that hands out a few kilobytes per call, as pipes and tar
/// entries do.
struct Trickle<'a>(&'a [u8]);

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(7_919).min(self.0.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

/// About 9 MiB of text with secrets early, around the first window edge
/// (a one-line token and a private key that straddles it) and on the last
/// line, which has no line break.
fn big_file() -> (Vec<u8>, Vec<(&'static str, u32)>) {
    let mut text = String::new();
    let mut line = 0u32;
    let mut expected = Vec::new();
    let mut push = |text: &mut String, s: &str| {
        text.push_str(s);
        text.push('\n');
        line += 1;
        line
    };
    for i in 0..10 {
        push(&mut text, &format!("INSERT INTO log VALUES ({i}, 'request served in {i} ms');"));
    }
    expected.push(("github-pat", push(&mut text, &format!("GITHUB_TOKEN={GITHUB}"))));
    let edge = rampart_secret::STREAM_WINDOW - 200;
    let mut i = 0;
    while text.len() < edge {
        push(&mut text, &format!("INSERT INTO log VALUES ({i}, 'request served in {i} ms');"));
        i += 1;
    }
    expected.push(("aws-access-key-id", push(&mut text, &format!("aws_access_key_id = {AWS_ID}"))));
    let key_line = push(&mut text, "-----BEGIN RSA PRIVATE KEY-----") + 1;
    for _ in 0..4 {
        push(&mut text, "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun");
    }
    push(&mut text, "-----END RSA PRIVATE KEY-----");
    expected.push(("private-key", key_line));
    while text.len() < 9 * 1024 * 1024 {
        push(&mut text, &format!("INSERT INTO log VALUES ({i}, 'request served in {i} ms');"));
        i += 1;
    }
    let last = push(&mut text, "");
    text.pop();
    text.push_str(&format!("token: {GITHUB}"));
    expected.push(("github-pat", last));
    (text.into_bytes(), expected)
}

#[test]
fn a_streamed_file_gives_the_findings_of_a_whole_read() {
    let (content, expected) = big_file();
    let s = scanner();
    let streamed = s.scan_reader("dump.sql", &mut Trickle(&content)).unwrap();
    let streamed: Vec<_> = streamed.into_iter().map(|l| l.finding).collect();
    assert_eq!(ids(&streamed), expected);
    assert_eq!(streamed, s.scan("dump.sql", &content));
    assert!(streamed.iter().all(|f| !f.matched.contains(GITHUB) && !f.matched.contains(AWS_ID)));
}

#[test]
fn a_stream_longer_than_the_limit_or_binary_gives_nothing() {
    let (content, _) = big_file();
    let small = scanner().with_max_file_size(5 * 1024 * 1024);
    assert!(small.scan_reader("dump.sql", &mut Trickle(&content)).unwrap().is_empty());
    let binary = [b"\x7fELF\x02\x01\0\0".as_slice(), &content].concat();
    assert!(scanner().scan_reader("dump.sql", &mut Trickle(&binary)).unwrap().is_empty());
}
