//! TLS for the database connection: rustls with the `ring` provider, configured per libpq
//! `sslmode`.
//!
//! - `allow`, `prefer`, `require`: encrypt, but do not verify the certificate (libpq semantics:
//!   these modes protect against passive eavesdropping only). The handshake signatures are still
//!   checked, so the session is bound to the certificate the server presented.
//! - `verify-ca`: the chain must lead to a trusted root; the host name is not checked.
//! - `verify-full`: the chain, and the certificate must name the host connected to.
//!
//! Trusted roots for the `verify-*` modes: the PEM file `sslrootcert` names; else
//! `~/.postgresql/root.crt` when it exists (libpq's default); else, and for
//! `sslrootcert=system`, the Mozilla roots bundled by `webpki-roots`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bluefox_core::db_url::SslMode;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio_postgres_rustls::MakeRustlsConnect;

/// Why the TLS configuration could not be built (before any connection is tried).
#[derive(Debug, thiserror::Error)]
pub enum TlsConfigError {
    /// `sslrootcert` (or `~/.postgresql/root.crt`) cannot be read or holds no certificate.
    #[error("cannot use the root certificates in {}: {reason}; point sslrootcert in DATABASE_URL at a PEM file of CA certificates", path.display())]
    RootCert {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// rustls refused the configuration (an internal error, reported as is).
    #[error("cannot configure TLS: {0}")]
    Rustls(#[from] rustls::Error),
}

/// The rustls connector for `mode` (`None` for `disable`, which never uses TLS).
///
/// # Errors
/// [`TlsConfigError`] when the root certificates cannot be loaded.
pub fn connector(
    mode: SslMode,
    sslrootcert: Option<&str>,
) -> Result<Option<MakeRustlsConnect>, TlsConfigError> {
    if mode == SslMode::Disable {
        // Nothing to build: a plain connection needs no provider or configuration.
        return Ok(None);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?;
    let config = match mode {
        SslMode::Disable => return Ok(None),
        SslMode::Allow | SslMode::Prefer | SslMode::Require => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate {
                algorithms: provider.signature_verification_algorithms,
            }))
            .with_no_client_auth(),
        SslMode::VerifyCa | SslMode::VerifyFull => {
            let roots = Arc::new(root_store(sslrootcert)?);
            let webpki = WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
                .build()
                .map_err(|e| TlsConfigError::Rustls(rustls::Error::General(e.to_string())))?;
            if mode == SslMode::VerifyFull {
                builder.with_webpki_verifier(webpki).with_no_client_auth()
            } else {
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(ChainOnly { inner: webpki }))
                    .with_no_client_auth()
            }
        }
    };
    Ok(Some(MakeRustlsConnect::new(config)))
}

/// The trusted roots for the `verify-*` modes (see the module docs for the order).
fn root_store(sslrootcert: Option<&str>) -> Result<RootCertStore, TlsConfigError> {
    let file = match sslrootcert {
        Some("system") => None,
        Some(path) => Some(PathBuf::from(path)),
        None => std::env::var_os("HOME")
            .map(|home| Path::new(&home).join(".postgresql").join("root.crt"))
            .filter(|path| path.is_file()),
    };
    let Some(path) = file else {
        return Ok(RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        });
    };
    let fail = |reason: String| TlsConfigError::RootCert {
        path: path.clone(),
        reason,
    };
    let mut store = RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(&path).map_err(|e| fail(e.to_string()))?;
    for cert in certs {
        let cert = cert.map_err(|e| fail(e.to_string()))?;
        store.add(cert).map_err(|e| fail(e.to_string()))?;
    }
    if store.is_empty() {
        return Err(fail("the file holds no PEM certificate".to_owned()));
    }
    Ok(store)
}

/// `allow`/`prefer`/`require`: any certificate, but valid handshake signatures.
#[derive(Debug)]
struct AnyCertificate {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// `verify-ca`: webpki's full check, forgiving only a name mismatch. webpki checks the chain
/// before the name, so a name error means the chain was trusted.
#[derive(Debug)]
struct ChainOnly {
    inner: Arc<WebPkiServerVerifier>,
}

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disable_has_no_connector_and_every_other_mode_has_one() {
        assert!(matches!(connector(SslMode::Disable, None), Ok(None)));
        for mode in [
            SslMode::Allow,
            SslMode::Prefer,
            SslMode::Require,
            SslMode::VerifyCa,
            SslMode::VerifyFull,
        ] {
            assert!(
                matches!(connector(mode, Some("system")), Ok(Some(_))),
                "{mode}"
            );
        }
    }

    #[test]
    fn a_missing_root_certificate_file_is_named() {
        let err = match connector(SslMode::VerifyFull, Some("/nonexistent/bluefox-ca.pem")) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("a missing sslrootcert must fail"),
        };
        assert!(
            err.starts_with("cannot use the root certificates in /nonexistent/bluefox-ca.pem: "),
            "{err}"
        );
        assert!(err.ends_with("point sslrootcert in DATABASE_URL at a PEM file of CA certificates"));
    }

    #[test]
    fn a_file_without_certificates_is_refused() {
        let path =
            std::env::temp_dir().join(format!("bluefox-empty-ca-{}.pem", std::process::id()));
        std::fs::write(&path, "not a certificate\n").unwrap_or_else(|e| panic!("{e}"));
        let result = root_store(path.to_str());
        let _ = std::fs::remove_file(&path);
        match result {
            Err(TlsConfigError::RootCert { reason, .. }) => {
                assert_eq!(reason, "the file holds no PEM certificate")
            }
            other => panic!("expected RootCert, got {other:?}"),
        }
    }
}
