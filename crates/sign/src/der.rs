//! Just enough DER to read what keys and certificates carry: definite
//! lengths, bounded by the input, no recursion.

pub(crate) const SEQUENCE: u8 = 0x30;
pub(crate) const OID: u8 = 0x06;
pub(crate) const BIT_STRING: u8 = 0x03;

/// id-ecPublicKey (1.2.840.10045.2.1).
pub(crate) const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// prime256v1 (1.2.840.10045.3.1.7).
pub(crate) const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// secp384r1 (1.3.132.0.34).
pub(crate) const OID_P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
/// id-Ed25519 (1.3.101.112).
pub(crate) const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];
/// rsaEncryption (1.2.840.113549.1.1.1).
pub(crate) const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
/// id-RSASSA-PSS (1.2.840.113549.1.1.10).
pub(crate) const OID_RSA_PSS: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a];

/// One element: its tag, its contents, and its whole encoding.
pub(crate) struct Element<'a> {
    pub(crate) tag: u8,
    pub(crate) value: &'a [u8],
    pub(crate) raw: &'a [u8],
}

pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(input: &'a [u8]) -> Reader<'a> {
        Reader { rest: input }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    pub(crate) fn element(&mut self) -> Result<Element<'a>, String> {
        let input = self.rest;
        let (&tag, after_tag) = input.split_first().ok_or("truncated DER: expected an element")?;
        if tag & 0x1f == 0x1f {
            return Err("DER tags above 30 are not used in keys".into());
        }
        let (&first, mut after_len) = after_tag.split_first().ok_or("truncated DER: missing length")?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 {
                return Err("DER length is indefinite or too large".into());
            }
            if after_len.len() < n {
                return Err("truncated DER length".into());
            }
            let mut len = 0usize;
            for &b in &after_len[..n] {
                len = (len << 8) | usize::from(b);
            }
            after_len = &after_len[n..];
            len
        };
        if after_len.len() < len {
            return Err(format!("truncated DER: element of {len} bytes, {} left", after_len.len()));
        }
        let header = input.len() - after_len.len();
        self.rest = &after_len[len..];
        Ok(Element { tag, value: &after_len[..len], raw: &input[..header + len] })
    }

    pub(crate) fn expect(&mut self, tag: u8, what: &str) -> Result<Element<'a>, String> {
        let e = self.element().map_err(|e| format!("{what}: {e}"))?;
        if e.tag != tag {
            return Err(format!("{what}: expected DER tag 0x{tag:02x}, found 0x{:02x}", e.tag));
        }
        Ok(e)
    }
}

/// A whole input that must be exactly one element of `tag`.
pub(crate) fn single<'a>(input: &'a [u8], tag: u8, what: &str) -> Result<&'a [u8], String> {
    let mut r = Reader::new(input);
    let e = r.expect(tag, what)?;
    if !r.is_empty() {
        return Err(format!("{what}: trailing bytes after the DER element"));
    }
    Ok(e.value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_and_truncation() {
        let mut long = vec![0x04, 0x81, 0x80];
        long.extend([7u8; 0x80]);
        assert_eq!(single(&long, 0x04, "x").unwrap().len(), 0x80);
        for bad in [&[0x30u8][..], &[0x30, 0x05, 1], &[0x30, 0x80], &[0x30, 0x85, 1, 1, 1, 1, 1], &[0x1f, 0]]
        {
            assert!(Reader::new(bad).element().is_err(), "{bad:?}");
        }
        assert!(single(&[0x05, 0x00, 0x00], 0x05, "x").unwrap_err().contains("trailing"));
        assert!(single(&[0x05, 0x00], SEQUENCE, "key").unwrap_err().contains("key: expected"));
    }
}
