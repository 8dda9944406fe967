//! Which servers keyctl trusts: the system's CAs (with `SSL_CERT_FILE` and `SSL_CERT_DIR`, as
//! OpenSSL reads them, so a company's TLS-inspecting proxy works as it does for curl and the
//! clouds' own CLIs), the bundled Mozilla roots where a system has none, and a profile's own
//! `cacert` bundle. `insecure = true` accepts any certificate (warned about by the caller).
//!
//! The system store is read once per run, on the first certificate there is to check: reading
//! and parsing it costs milliseconds, which a run against plain-http endpoints (the bundled
//! emulator) never pays, and every client of the run (one per profile with its own proxy or
//! CA) shares it.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::error::{Error, Result};

/// A client TLS configuration: the system's roots (read on first use) plus `cacert`'s, or no
/// verification at all with `insecure`. HTTP/2 is offered beside HTTP/1.1.
pub fn client_config(cacert: Option<&Path>, insecure: bool) -> Result<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let extra = match cacert {
        Some(path) => read_bundle(path)?,
        None => Vec::new(),
    };
    let verifier: Arc<dyn ServerCertVerifier> = Arc::new(SystemAndExtra {
        extra,
        insecure,
        provider: provider.clone(),
        inner: OnceLock::new(),
    });
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::other(format!("TLS cannot be set up: {e}")).with_source(e))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// The certificates of a PEM bundle (a `cacert` file).
fn read_bundle(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let pem = std::fs::read(path).map_err(|e| {
        Error::config(format!("cannot read CA bundle {}: {e}", path.display())).with_source(e)
    })?;
    let mut reader = pem.as_slice();
    let certs = pem_certificates(&mut reader).map_err(|e| {
        Error::config(format!(
            "CA bundle {} is not valid PEM: {e}",
            path.display()
        ))
        .with_source(e)
    })?;
    if certs.is_empty() {
        return Err(
            Error::config(format!("CA bundle {} holds no certificate", path.display()))
                .with_hint("give a PEM file with one or more -----BEGIN CERTIFICATE----- blocks"),
        );
    }
    Ok(certs)
}

fn pem_certificates(reader: &mut &[u8]) -> std::io::Result<Vec<CertificateDer<'static>>> {
    use rustls::pki_types::pem::PemObject;
    CertificateDer::pem_reader_iter(reader)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()))
}

/// The system's roots, or the bundled ones where the system has none: read once per process.
fn system_roots() -> &'static RootCertStore {
    static ROOTS: OnceLock<RootCertStore> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let mut store = RootCertStore::empty();
        let found = rustls_native_certs::load_native_certs();
        // A system store often holds a few certificates rustls cannot use; the rest serve.
        let (added, _ignored) = store.add_parsable_certificates(found.certs);
        if added == 0 {
            store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        store
    })
}

/// The standard WebPKI verification against the system's roots and the profile's own; with
/// `insecure`, any certificate is accepted (the handshake's signatures are still checked, so
/// the connection is at least to whoever holds the certificate's key).
#[derive(Debug)]
struct SystemAndExtra {
    extra: Vec<CertificateDer<'static>>,
    insecure: bool,
    provider: Arc<CryptoProvider>,
    inner: OnceLock<std::result::Result<Arc<WebPkiServerVerifier>, String>>,
}

impl SystemAndExtra {
    fn verifier(&self) -> std::result::Result<&Arc<WebPkiServerVerifier>, rustls::Error> {
        self.inner
            .get_or_init(|| {
                let mut roots = system_roots().clone();
                let (_added, ignored) = roots.add_parsable_certificates(self.extra.clone());
                if ignored > 0 && roots.is_empty() {
                    return Err("the CA bundle holds no usable certificate".to_string());
                }
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), self.provider.clone())
                    .build()
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| rustls::Error::General(e.clone()))
    }
}

impl ServerCertVerifier for SystemAndExtra {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        if self.insecure {
            return Ok(ServerCertVerified::assertion());
        }
        self.verifier()?.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
