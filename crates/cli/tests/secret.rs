//! Secret scanning end to end: found by default in `fs`, redacted in every
//! format, gated by `--exit-code`, tuned by `--secret-config`.

mod common;

use common::*;

/// Fake credentials: the key id is the one planted in the app image of `../shared/data`.
const DOTENV: &str = "APP_ENV=production\n\n# aws\nAWS_ACCESS_KEY_ID=AKIARAMPART2FIXTURE7\nAWS_SECRET_ACCESS_KEY=q8Ad3kLm9Zx1Vb7Ty5Ru2Wo4Pn6Hj0Gf/Ke+Ss3D\n";

#[test]
fn secrets_are_found_redacted_and_gated() {
    let dir = project(&[
        ("config/.env", DOTENV),
        ("Cargo.lock", CARGO_LOCK_VULNERABLE.replace("0.6.9", "0.6.14").as_str()),
    ]);
    let out = scan("fs", dir.path()).args(["-f", "json", "--exit-code", "4", "."]).output().unwrap();
    assert_eq!(code(&out), 4, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(!text.contains("RAMPART2FIXTURE7"), "the key id is redacted");
    assert!(!text.contains("q8Ad3kLm9Zx1Vb7Ty5Ru2Wo4Pn6Hj0Gf"), "the secret key is redacted");
    let report = json(&out);
    let result = report["Results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["Class"] == "secret")
        .expect("a secret result");
    assert_eq!(result["Target"], "config/.env");
    let found: Vec<(&str, u64)> = result["Secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["RuleID"].as_str().unwrap(), s["StartLine"].as_u64().unwrap()))
        .collect();
    assert_eq!(found, [("aws-access-key-id", 4), ("aws-secret-access-key", 5)]);

    for format in ["table", "sarif"] {
        let out = scan("fs", dir.path()).args(["-f", format, "."]).output().unwrap();
        assert!(!stdout(&out).contains("RAMPART2FIXTURE7"), "{format} output leaks the secret");
    }

    let out = scan("fs", dir.path()).args(["--scanners", "vuln", "--exit-code", "4", "."]).output().unwrap();
    assert_eq!(code(&out), 0, "no secret scanning asked for: {}", stderr(&out));

    let out = scan("fs", dir.path())
        .args(["--secret-max-file-size", "64", "--exit-code", "4", "."])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "the .env is over the limit and skipped: {}", stderr(&out));
}

#[test]
fn secret_config_disables_rules_and_rejects_bad_regexes() {
    let dir = project(&[
        ("config/.env", DOTENV),
        (
            "quiet.yaml",
            "disable-rules:\n  - aws-access-key-id\n  - aws-secret-access-key\n  - generic-api-key\n",
        ),
        (
            "bad.yaml",
            "rules:\n  - id: broken-rule\n    category: Test\n    title: Broken\n    severity: HIGH\n    regex: '(unclosed'\n",
        ),
    ]);
    let out = scan("fs", dir.path())
        .args(["--scanners", "secret", "--secret-config", "quiet.yaml", "--exit-code", "4", "."])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = scan("fs", dir.path())
        .args(["--scanners", "secret", "--secret-config", "bad.yaml", "."])
        .output()
        .unwrap();
    assert_eq!(code(&out), 64, "{}", stderr(&out));
    assert!(stderr(&out).contains("broken-rule"), "the error names the rule: {}", stderr(&out));
}

#[test]
fn a_big_file_is_streamed_and_its_secrets_found_at_their_lines() {
    // 200,000 lines of a log-like dump (about 9 MiB), with the key pair from
    // DOTENV after line 150,000; fs and rootfs stream it rather than read it whole.
    let mut dump = String::new();
    for i in 0..200_000 {
        if i == 150_000 {
            dump.push_str(&DOTENV[DOTENV.find("AWS_ACCESS").unwrap()..]);
        }
        dump.push_str(&format!("2026-11-24T12:00:00Z GET /items/{i} 200 {i}ms\n"));
    }
    assert!(dump.len() > 8 << 20);
    let dir = project(&[("var/log/app.log", dump.as_str())]);
    for command in ["fs", "rootfs"] {
        let out =
            scan(command, dir.path()).args(["--scanners", "secret", "-f", "json", "."]).output().unwrap();
        assert_eq!(code(&out), 0, "{command}: {}", stderr(&out));
        let report = json(&out);
        let secrets = &report["Results"][0]["Secrets"];
        let found: Vec<(&str, u64)> = secrets
            .as_array()
            .unwrap_or_else(|| panic!("{command}: no secrets in {report}"))
            .iter()
            .map(|s| (s["RuleID"].as_str().unwrap(), s["StartLine"].as_u64().unwrap()))
            .collect();
        assert_eq!(found, [("aws-access-key-id", 150_001), ("aws-secret-access-key", 150_002)], "{command}");
    }
}
