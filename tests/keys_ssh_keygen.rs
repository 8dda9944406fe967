//! keyctl's parser and fingerprints against real `ssh-keygen` output: the saved fixtures in
//! tests/data/keys (made once with OpenSSH 9.2p1, see its README), and, when `ssh-keygen` is
//! installed, freshly generated keys and the emulator's seeded keys checked live.

use std::path::{Path, PathBuf};
use std::process::Command;

use keyctl::keys::{x509_sha1_fingerprint, PublicKeyInfo};

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/keys")
}

/// One `ssh-keygen -l` line: `BITS FINGERPRINT COMMENT (TYPE)`.
#[derive(Debug)]
struct KeygenLine {
    bits: u32,
    fingerprint: String,
    label: String,
}

fn parse_keygen_line(out: &str) -> KeygenLine {
    let out = out.trim();
    let mut words = out.split_whitespace();
    let bits = words.next().and_then(|b| b.parse().ok()).expect("bits");
    let fingerprint = words.next().expect("fingerprint").to_string();
    let label = out
        .rsplit('(')
        .next()
        .expect("type")
        .trim_end_matches(')')
        .to_string();
    KeygenLine {
        bits,
        fingerprint,
        label,
    }
}

/// ssh-keygen's type label for an algorithm (sshkey.c `sshkey_type()`), so the test also
/// proves the algorithm we read is the one ssh-keygen read.
fn keygen_label(algorithm: &str) -> &'static str {
    match algorithm {
        "ssh-rsa" => "RSA",
        "ssh-dss" => "DSA",
        "ecdsa-sha2-nistp256" | "ecdsa-sha2-nistp384" | "ecdsa-sha2-nistp521" => "ECDSA",
        "ssh-ed25519" => "ED25519",
        "sk-ssh-ed25519@openssh.com" => "ED25519-SK",
        "sk-ecdsa-sha2-nistp256@openssh.com" => "ECDSA-SK",
        "ssh-rsa-cert-v01@openssh.com" => "RSA-CERT",
        "ssh-ed25519-cert-v01@openssh.com" => "ED25519-CERT",
        "ecdsa-sha2-nistp384-cert-v01@openssh.com" => "ECDSA-CERT",
        other => panic!("no ssh-keygen label known for {other}"),
    }
}

fn check(pub_line: &str, sha256_out: &str, md5_out: &str, what: &str) {
    let info = PublicKeyInfo::parse(pub_line).unwrap_or_else(|e| panic!("{what}: {e}"));
    let sha = parse_keygen_line(sha256_out);
    let md5 = parse_keygen_line(md5_out);
    assert_eq!(info.fingerprint_sha256, sha.fingerprint, "{what}: SHA256");
    assert_eq!(info.fingerprint_md5, md5.fingerprint, "{what}: MD5");
    assert_eq!(info.bits, Some(sha.bits), "{what}: bits");
    assert_eq!(keygen_label(&info.algorithm), sha.label, "{what}: type");
    assert_eq!(
        pub_line.split_whitespace().next(),
        Some(info.algorithm.as_str())
    );
}

#[test]
fn saved_fixtures_match_ssh_keygen() {
    let mut checked = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(data_dir()).unwrap().flatten().collect();
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("pub") {
            continue;
        }
        let stem = path.file_stem().unwrap().to_string_lossy().to_string();
        let read =
            |suffix: &str| std::fs::read_to_string(data_dir().join(format!("{stem}{suffix}")));
        let line = read(".pub").unwrap();
        check(
            &line,
            &read(".sha256.txt").unwrap(),
            &read(".md5.txt").unwrap(),
            &stem,
        );
        checked.push(stem);
    }
    // Guard against a fixture directory that silently lost its files.
    for expected in [
        "rsa1024",
        "rsa1500",
        "rsa2048",
        "rsa2049",
        "rsa3072",
        "rsa4096",
        "ed25519",
        "ecdsa256",
        "ecdsa384",
        "ecdsa521",
        "dsa",
        "sk-ed25519",
        "sk-ecdsa256",
        "ed25519-cert",
        "rsa3072-cert",
        "ecdsa384-cert",
    ] {
        assert!(
            checked.iter().any(|c| c == expected),
            "fixture {expected} missing: {checked:?}"
        );
    }
}

#[test]
fn x509_fixture_matches_openssl() {
    let pem = std::fs::read_to_string(data_dir().join("x509.pem")).unwrap();
    let openssl = std::fs::read_to_string(data_dir().join("x509.sha1.txt")).unwrap();
    // `sha1 Fingerprint=9E:02:…` (openssl x509 -fingerprint -sha1): Nova prints it lowercase.
    let expected = openssl
        .trim()
        .rsplit('=')
        .next()
        .unwrap()
        .to_ascii_lowercase();
    assert_eq!(
        x509_sha1_fingerprint(&pem).as_deref(),
        Some(expected.as_str())
    );
}

fn ssh_keygen() -> Option<&'static str> {
    let path = "/usr/bin/ssh-keygen";
    Path::new(path).exists().then_some(path)
}

fn keygen_fingerprint(keygen: &str, file: &Path, md5: bool) -> String {
    let mut cmd = Command::new(keygen);
    cmd.arg("-l");
    if md5 {
        cmd.args(["-E", "md5"]);
    }
    let out = cmd.arg("-f").arg(file).output().unwrap();
    assert!(
        out.status.success(),
        "ssh-keygen -l failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Fresh keys every run, so the comparison is not limited to the saved fixtures.
#[test]
fn fresh_keys_match_ssh_keygen() {
    let Some(keygen) = ssh_keygen() else {
        eprintln!("skipped: /usr/bin/ssh-keygen not installed");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let kinds: &[&[&str]] = &[
        &["-t", "ed25519"],
        &["-t", "rsa", "-b", "1024"],
        &["-t", "rsa", "-b", "2048"],
        &["-t", "rsa", "-b", "1537"],
        &["-t", "ecdsa", "-b", "256"],
        &["-t", "ecdsa", "-b", "384"],
        &["-t", "ecdsa", "-b", "521"],
    ];
    for (i, args) in kinds.iter().enumerate() {
        let key = dir.path().join(format!("k{i}"));
        let status = Command::new(keygen)
            .args(*args)
            .args(["-q", "-N", "", "-C", "fresh key with spaces", "-f"])
            .arg(&key)
            .status()
            .unwrap();
        assert!(status.success(), "ssh-keygen {args:?}");
        let public = key.with_extension("pub");
        let line = std::fs::read_to_string(&public).unwrap();
        let sha = keygen_fingerprint(keygen, &public, false);
        let md5 = keygen_fingerprint(keygen, &public, true);
        check(&line, &sha, &md5, &format!("{args:?}"));
        let info = PublicKeyInfo::parse(&line).unwrap();
        assert_eq!(info.comment.as_deref(), Some("fresh key with spaces"));
    }
}

/// The emulator's seeded keys (what the adapter tests see) must fingerprint as ssh-keygen says.
/// ECDSA ones are left out: their points are random, so ssh-keygen refuses them as off-curve.
#[test]
fn emulator_keys_match_ssh_keygen() {
    use keyctl_emulator::keys::{openssh_key, Algo};
    let Some(keygen) = ssh_keygen() else {
        eprintln!("skipped: /usr/bin/ssh-keygen not installed");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let algos = [
        Algo::Ed25519,
        Algo::Rsa(2048),
        Algo::Rsa(3072),
        Algo::Rsa(1024),
        Algo::Dsa,
    ];
    for (i, algo) in algos.into_iter().enumerate() {
        let line = openssh_key(algo, 40 + i as u64, "seeded");
        let file = dir.path().join(format!("e{i}.pub"));
        std::fs::write(&file, format!("{line}\n")).unwrap();
        let sha = keygen_fingerprint(keygen, &file, false);
        let md5 = keygen_fingerprint(keygen, &file, true);
        check(&line, &sha, &md5, &format!("{algo:?}"));
    }
}
