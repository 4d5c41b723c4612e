//! PEM armour (RFC 7468): a label and base64 between BEGIN and END lines.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// Keys and certificates are small; anything larger is not one.
const MAX_PEM: usize = 1 << 20;

pub(crate) struct Block {
    pub(crate) label: String,
    pub(crate) der: Vec<u8>,
}

/// Every PEM block of `text`, in order. Text outside blocks is ignored, as
/// OpenSSL does; a block with bad base64 or no END line is an error.
pub(crate) fn parse_all(text: &[u8]) -> Result<Vec<Block>, String> {
    if text.len() > MAX_PEM {
        return Err(format!("larger than {MAX_PEM} bytes; not a PEM key"));
    }
    let text = std::str::from_utf8(text).map_err(|_| "not text: PEM is ASCII".to_string())?;
    let mut blocks = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((_, line)) = lines.next() {
        let Some(label) = line.trim().strip_prefix("-----BEGIN ").and_then(|l| l.strip_suffix("-----"))
        else {
            continue;
        };
        let end = format!("-----END {label}-----");
        let mut body = String::new();
        let mut closed = false;
        for (n, line) in lines.by_ref() {
            let line = line.trim();
            if line == end {
                closed = true;
                break;
            }
            if line.starts_with("-----") {
                return Err(format!("line {}: {line:?} inside the {label} block", n + 1));
            }
            // RFC 1421 headers (Proc-Type, DEK-Info) mean legacy encryption.
            if line.contains(':') {
                return Err(format!("line {}: PEM headers (legacy encrypted keys) are not supported", n + 1));
            }
            body.push_str(line);
        }
        if !closed {
            return Err(format!("the {label} block has no END line"));
        }
        let der =
            STANDARD.decode(body.as_bytes()).map_err(|e| format!("the {label} block: bad base64: {e}"))?;
        blocks.push(Block { label: label.to_string(), der });
    }
    Ok(blocks)
}

/// The single block of `text`.
pub(crate) fn parse_one(text: &[u8]) -> Result<Block, String> {
    let mut blocks = parse_all(text)?;
    match blocks.len() {
        0 => Err("no PEM block (-----BEGIN …-----) found".to_string()),
        1 => Ok(blocks.remove(0)),
        n => Err(format!("{n} PEM blocks where one was expected")),
    }
}

pub(crate) fn encode(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_errors() {
        let text = encode("PUBLIC KEY", &[1u8; 100]);
        let block = parse_one(text.as_bytes()).unwrap();
        assert_eq!((block.label.as_str(), block.der.len()), ("PUBLIC KEY", 100));
        let cases: &[(&str, &str)] = &[
            ("", "no PEM block"),
            ("-----BEGIN X-----\nAAAA\n", "no END line"),
            ("-----BEGIN X-----\n!!!!\n-----END X-----\n", "bad base64"),
            ("-----BEGIN X-----\nProc-Type: 4,ENCRYPTED\n-----END X-----\n", "headers"),
        ];
        for (input, wanted) in cases {
            let err = parse_one(input.as_bytes()).err().unwrap();
            assert!(err.contains(wanted), "{input:?}: {err}");
        }
        let two = format!("{text}{text}");
        assert!(parse_one(two.as_bytes()).err().unwrap().contains("2 PEM blocks"));
    }
}
