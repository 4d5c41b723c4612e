//! The serving certificate, reloaded from disk when its files change, so a
//! rotated Secret (cert-manager, a re-run of `rampart admission certs`) takes
//! effect without a restart.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use crate::Error;

pub struct CertStore {
    cert_path: PathBuf,
    key_path: PathBuf,
    current: RwLock<Arc<CertifiedKey>>,
    stamp: RwLock<Stamp>,
}

/// What the files looked like when last loaded.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Stamp([Option<(SystemTime, u64)>; 2]);

fn stamp(cert: &Path, key: &Path) -> Stamp {
    let one = |p: &Path| std::fs::metadata(p).ok().and_then(|m| Some((m.modified().ok()?, m.len())));
    Stamp([one(cert), one(key)])
}

impl CertStore {
    pub fn load(cert_path: &Path, key_path: &Path) -> Result<Self, Error> {
        let s = stamp(cert_path, key_path);
        let key = load_pair(cert_path, key_path)?;
        Ok(CertStore {
            cert_path: cert_path.to_path_buf(),
            key_path: key_path.to_path_buf(),
            current: RwLock::new(Arc::new(key)),
            stamp: RwLock::new(s),
        })
    }

    /// Reloads the pair if either file changed since the last load.
    /// `Ok(false)`: unchanged. On error the previous pair stays in use.
    pub fn reload_if_changed(&self) -> Result<bool, Error> {
        let now = stamp(&self.cert_path, &self.key_path);
        if *self.stamp.read().unwrap_or_else(|e| e.into_inner()) == now {
            return Ok(false);
        }
        // Record the stamp first so a bad pair is reported once, not every poll.
        *self.stamp.write().unwrap_or_else(|e| e.into_inner()) = now;
        let key = load_pair(&self.cert_path, &self.key_path)?;
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(key);
        Ok(true)
    }
}

impl fmt::Debug for CertStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertStore").field("cert", &self.cert_path).field("key", &self.key_path).finish()
    }
}

impl ResolvesServerCert for CertStore {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.read().unwrap_or_else(|e| e.into_inner()).clone())
    }
}

fn load_pair(cert_path: &Path, key_path: &Path) -> Result<CertifiedKey, Error> {
    let tls = |path: &Path, message: String| Error::Tls { path: path.to_path_buf(), message };
    let certs = CertificateDer::pem_file_iter(cert_path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| tls(cert_path, e.to_string()))?;
    if certs.is_empty() {
        return Err(tls(cert_path, "no PEM certificate found".into()));
    }
    let key = PrivateKeyDer::from_pem_file(key_path).map_err(|e| tls(key_path, e.to_string()))?;
    let signer =
        rustls::crypto::ring::sign::any_supported_type(&key).map_err(|e| tls(key_path, e.to_string()))?;
    let pair = CertifiedKey::new(certs, signer);
    pair.keys_match().map_err(|e| tls(key_path, format!("does not match {}: {e}", cert_path.display())))?;
    Ok(pair)
}

pub fn server_config(store: Arc<CertStore>) -> Result<rustls::ServerConfig, Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Tls { path: PathBuf::new(), message: e.to_string() })?
        .with_no_client_auth()
        .with_cert_resolver(store);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}
