//! Cheap tests that decide what is not worth scanning or reporting: binary
//! content, file types that cannot hold a text secret, dependency trees, and
//! placeholder values.

/// Third-party and OS-owned trees, skipped unless a config disables the id.
/// Secrets there are someone else's samples, and reading them is slow.
#[rustfmt::skip]
pub(crate) const BUILTIN_PATH_ALLOW: &[(&str, &str, &str)] = &[
    ("dependency-dirs", "installed dependencies (node_modules, vendor, site-packages, …)",
        r"(?:^|/)(?:node_modules|bower_components|jspm_packages|vendor|site-packages|dist-packages)/"),
    ("go-module-cache", "the Go module cache", r"(?:^|/)go/pkg/mod/"),
    ("cargo-registry", "the Cargo registry cache", r"(?:^|/)\.cargo/registry/"),
    ("os-docs", "documentation, locales and headers shipped by OS packages",
        r"(?:^|/)usr/(?:share/(?:doc|man|info|locale|i18n|zoneinfo|common-licenses|licenses)|include)/"),
];

/// Extensions of formats that are binary or compressed: a regex sees noise.
/// Lockfiles and other text formats are never listed: they can carry URLs
/// with credentials.
const BINARY_EXTENSIONS: &[&str] = &[
    "png", "jpg", "jpeg", "gif", "bmp", "ico", "webp", "tif", "tiff", "psd", "heic", "avif", "mp3", "mp4",
    "m4a", "m4v", "wav", "flac", "ogg", "oga", "ogv", "webm", "avi", "mov", "mkv", "wmv", "woff", "woff2",
    "ttf", "otf", "eot", "zip", "gz", "tgz", "bz2", "xz", "zst", "7z", "rar", "jar", "war", "ear", "whl",
    "egg", "deb", "rpm", "class", "pyc", "pyo", "o", "a", "so", "dylib", "dll", "exe", "obj", "wasm", "pdf",
];

pub(crate) fn has_binary_extension(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => {
            BINARY_EXTENSIONS.iter().any(|b| b.eq_ignore_ascii_case(ext))
        }
        _ => false,
    }
}

/// Git's heuristic: a NUL byte near the start means binary.
pub(crate) fn looks_binary(content: &[u8]) -> bool {
    content[..content.len().min(8 * 1024)].contains(&0)
}

/// Shannon entropy in bits per byte.
pub(crate) fn entropy(bytes: &[u8]) -> f64 {
    if bytes.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in bytes {
        counts[b as usize] += 1;
    }
    let len = bytes.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / len;
            -p * p.log2()
        })
        .sum()
}

/// Words that mark a value as documentation or a template, matched
/// case-insensitively anywhere in the secret.
const STOPWORDS: &[&str] = &[
    "example",
    "<your",
    "your_",
    "${",
    "{{",
    "changeme",
    "change_me",
    "dummy",
    "sample",
    "placeholder",
    "replaceme",
    "replace_me",
    "redacted",
];

/// Whether a secret is a placeholder rather than a credential.
pub(crate) fn is_placeholder(secret: &[u8]) -> bool {
    if STOPWORDS.iter().any(|w| contains_ignore_case(secret, w.as_bytes())) {
        return true;
    }
    // Kilobytes of random base64 (a private key) contain `xxxx` by chance.
    if secret.len() <= 128 && contains_ignore_case(secret, b"xxxx") {
        return true;
    }
    is_repetitive(secret)
}

/// `AKIAAAAAAAAAAAAAAAAA`, `********`, `ghp_000…`, `12345678…`: one symbol
/// or an ascending run dominating the value.
fn is_repetitive(secret: &[u8]) -> bool {
    if secret.len() < 8 {
        return false;
    }
    let mut distinct = [false; 256];
    for &b in secret {
        distinct[b as usize] = true;
    }
    if distinct.iter().filter(|&&d| d).count() <= 3 {
        return true;
    }
    let (mut same, mut ascending) = (1usize, 1usize);
    for pair in secret.windows(2) {
        same = if pair[1] == pair[0] { same + 1 } else { 1 };
        ascending = if pair[1] == pair[0].wrapping_add(1) { ascending + 1 } else { 1 };
        if same * 2 >= secret.len() || ascending >= 8 {
            return true;
        }
    }
    false
}

fn contains_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.len() >= needle.len() && haystack.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_of_uniform_and_constant_input() {
        assert_eq!(entropy(b"aaaa"), 0.0);
        assert!((entropy(b"abcd") - 2.0).abs() < 1e-9);
        assert!((entropy(b"0123456789abcdef") - 4.0).abs() < 1e-9);
    }

    #[test]
    fn placeholders_are_recognised() {
        for p in [
            &b"AKIAIOSFODNN7EXAMPLE"[..],
            b"AKIAAAAAAAAAAAAAAAAA",
            b"********",
            b"ghp_000000000000000000000000000000000000",
            b"<your-token-here>",
            b"${GITHUB_TOKEN}",
            b"xxxxxxxxxxxxxxxx",
            b"abc12345678xyz",
            b"ChangeMe-please",
        ] {
            assert!(is_placeholder(p), "{}", String::from_utf8_lossy(p));
        }
        for real in [&b"AKIARAMPART2FIXTURE7"[..], b"alEMVotYoB/5/GYechNWKfG2sPTvSDzU8Ye6ndD+", b"hunter2!"] {
            assert!(!is_placeholder(real), "{}", String::from_utf8_lossy(real));
        }
        let long_key = [b"MIIEvQIBADAN".repeat(20), b"xxxx".to_vec(), b"BgkqhkiG9w0B".repeat(20)].concat();
        assert!(!is_placeholder(&long_key));
    }

    #[test]
    fn binary_formats_by_extension() {
        assert!(has_binary_extension("img/logo.PNG"));
        assert!(has_binary_extension("dist/app.tar.gz"));
        assert!(!has_binary_extension("Cargo.lock"));
        assert!(!has_binary_extension(".env"));
        assert!(!has_binary_extension("a/.png"));
        assert!(!has_binary_extension("src/main.rs"));
    }

    #[test]
    fn nul_bytes_mark_binary() {
        assert!(looks_binary(b"ELF\0\x01"));
        assert!(!looks_binary(b"plain text"));
        let mut late = vec![b'a'; 9000];
        late.push(0);
        assert!(!looks_binary(&late));
    }
}
