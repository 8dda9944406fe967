//! TLS as companies run it: every provider reached over https through a server whose
//! certificate a private CA signed (as a TLS-inspecting proxy's is). Trusted through the
//! profile's `cacert`, or through `SSL_CERT_FILE` as for curl and the clouds' own CLIs; refused
//! without either; accepted with `insecure = true`, with a warning.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;

use common::Sandbox;
use keyctl_emulator::{Config, Emulator};
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use serde_json::Value;

/// A private CA and a certificate it signed for 127.0.0.1, as PEM (CA) and a server config.
fn private_ca() -> (String, rustls::ServerConfig) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "keyctl test private CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().unwrap();
    let params =
        CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
    let cert = params.signed_by(&key, &issuer).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![cert.der().clone()],
        rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
    )
    .unwrap();
    (ca.pem(), config)
}

/// An https front for the emulator at `backend`: TLS in, plain HTTP on to the emulator.
/// Runs on its own thread for as long as the test process.
fn tls_front(backend: SocketAddr, config: rustls::ServerConfig) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let Ok(mut plain) = tokio::net::TcpStream::connect(backend).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                });
            }
        });
    });
    format!("https://{}", rx.recv().unwrap())
}

struct Setup {
    _emu: Emulator,
    sb: Sandbox,
    front: String,
    ca_path: std::path::PathBuf,
}

fn setup() -> Setup {
    let config = Config::default();
    let emu = Emulator::start(config.clone());
    let backend: SocketAddr = emu
        .url()
        .trim_start_matches("http://")
        .parse()
        .expect("the emulator's address");
    let (ca_pem, server) = private_ca();
    let front = tls_front(backend, server);
    let sb = Sandbox::new();
    let ca_path = sb.home().join("private-ca.pem");
    std::fs::write(&ca_path, ca_pem).unwrap();
    Setup {
        _emu: emu,
        sb,
        front,
        ca_path,
    }
}

/// Every provider's profile, each pointed at the https front; `extra` goes into each.
fn config(s: &Setup, extra: &str) -> String {
    let base = keyctl_emulator::keyctl_config(&s.front, &Config::default());
    // The emulator's catalog names its own plain-http address: OpenStack's compute goes to the
    // front too.
    let base = base.replace(
        "[profiles.os]\n",
        &format!("[profiles.os]\nendpoint = \"{}\"\n", s.front),
    );
    let mut out = String::new();
    for line in base.lines() {
        out.push_str(line);
        out.push('\n');
        if line.starts_with("provider = ") {
            out.push_str(extra);
        }
    }
    out
}

fn list(s: &Setup, env: &[(&str, &str)]) -> (i32, Vec<Value>, String) {
    let mut cmd = s.sb.cmd();
    cmd.args(["list", "-o", "json", "--timeout", "10"]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let keys = serde_json::from_str(&stdout).unwrap_or_default();
    (
        out.status.code().unwrap_or(-1),
        keys,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn providers(keys: &[Value]) -> Vec<String> {
    let mut p: Vec<String> = keys
        .iter()
        .map(|k| k["provider"].as_str().unwrap().to_string())
        .collect();
    p.dedup();
    p
}

const EVERY_PROVIDER: [&str; 4] = ["huawei", "huawei-ecs", "openstack", "tencent"];

#[test]
fn every_provider_trusts_a_private_ca_given_as_cacert() {
    let s = setup();
    let cacert = format!("cacert = \"{}\"\n", s.ca_path.display());
    s.sb.write_config(&config(&s, &cacert));
    let (code, keys, err) = list(&s, &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(providers(&keys), EVERY_PROVIDER);
}

#[test]
fn without_the_ca_every_provider_refuses_the_certificate() {
    let s = setup();
    s.sb.write_config(&config(&s, ""));
    let (code, keys, err) = list(&s, &[]);
    assert_eq!(code, 3, "{err}");
    assert!(keys.is_empty());
    for profile in ["hw", "hw-ecs", "os", "tc"] {
        assert!(
            err.lines()
                .any(|l| l.contains(&format!("profile {profile}")) && l.contains("not trusted")),
            "{profile}: {err}"
        );
    }
}

#[test]
fn ssl_cert_file_is_the_trust_store_as_for_curl() {
    let s = setup();
    s.sb.write_config(&config(&s, ""));
    let ca = s.ca_path.display().to_string();
    let (code, keys, err) = list(&s, &[("SSL_CERT_FILE", &ca)]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(providers(&keys), EVERY_PROVIDER);
}

#[test]
fn insecure_accepts_any_certificate_and_says_so() {
    let s = setup();
    s.sb.write_config(&config(&s, "insecure = true\n"));
    let (code, keys, err) = list(&s, &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(providers(&keys), EVERY_PROVIDER);
    assert_eq!(err.matches("verification is OFF").count(), 4, "{err}");
}
