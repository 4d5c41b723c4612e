//! DSSE envelopes (Dead Simple Signing Envelope): the signature covers the
//! pre-authentication encoding of the payload type and body, never the
//! JSON around them.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use crate::SignError;
use crate::keys::{PublicKey, SigningKey};

pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    /// Base64 of the body.
    pub payload: String,
    pub signatures: Vec<EnvelopeSignature>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvelopeSignature {
    #[serde(default)]
    pub keyid: String,
    /// Base64 of the signature.
    pub sig: String,
}

/// `DSSEv1 <len(type)> <type> <len(body)> <body>`, lengths in ASCII decimal.
pub fn pae(payload_type: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!("DSSEv1 {} {payload_type} {} ", payload_type.len(), body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

impl Envelope {
    /// Signs `body` with one key; cosign leaves `keyid` empty.
    pub fn sign(payload_type: &str, body: &[u8], key: &SigningKey) -> Result<Envelope, SignError> {
        let sig = key.sign(&pae(payload_type, body))?;
        Ok(Envelope {
            payload_type: payload_type.to_string(),
            payload: STANDARD.encode(body),
            signatures: vec![EnvelopeSignature { keyid: String::new(), sig: STANDARD.encode(sig) }],
        })
    }

    /// The decoded body. DSSE allows URL-safe base64 too.
    pub fn body(&self) -> Result<Vec<u8>, String> {
        STANDARD
            .decode(&self.payload)
            .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(&self.payload))
            .map_err(|e| format!("payload: bad base64: {e}"))
    }

    /// Whether any signature verifies with any key.
    pub fn verify(&self, keys: &[PublicKey]) -> Result<bool, String> {
        let body = self.body()?;
        let message = pae(&self.payload_type, &body);
        Ok(self
            .signatures
            .iter()
            .any(|s| STANDARD.decode(&s.sig).is_ok_and(|sig| keys.iter().any(|k| k.verify(&message, &sig)))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_matches_the_specification_example() {
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
        assert_eq!(pae("", b""), b"DSSEv1 0  0 ");
    }

    #[test]
    fn envelopes_verify_only_unaltered() {
        let key = SigningKey::generate().unwrap();
        let env = Envelope::sign(IN_TOTO_PAYLOAD_TYPE, b"{\"a\":1}", &key).unwrap();
        let keys = [key.public_key().clone()];
        assert!(env.verify(&keys).unwrap());
        let mut other_type = env.clone();
        other_type.payload_type = "text/plain".into();
        assert!(!other_type.verify(&keys).unwrap(), "the type is signed too");
        let mut other_body = env.clone();
        other_body.payload = STANDARD.encode(b"{\"a\":2}");
        assert!(!other_body.verify(&keys).unwrap());
        let stranger = SigningKey::generate().unwrap();
        assert!(!env.verify(&[stranger.public_key().clone()]).unwrap());
    }
}
