//! The binary, run hermetically: a cleared environment, a temporary HOME and config. Checks
//! help, formats, config errors and the exit-code contract. Cloud answers come from the
//! in-process emulator (tests/common).

mod common;

use common::{keyctl, Sandbox};
use predicates::prelude::*;

#[test]
fn help_tree_is_stable() {
    let sb = Sandbox::new();
    let mut all = String::new();
    for args in [
        vec!["--help"],
        vec!["list", "--help"],
        vec!["show", "--help"],
        vec!["find", "--help"],
        vec!["audit", "--help"],
        vec!["profiles", "--help"],
        vec!["completions", "--help"],
    ] {
        let out = sb.cmd().args(&args).env("COLUMNS", "100").output().unwrap();
        assert!(out.status.success(), "{args:?}");
        all.push_str(&format!(
            "$ keyctl {}\n{}\n",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout)
        ));
    }
    insta::assert_snapshot!("help", all);
}

#[test]
fn version_is_fast_and_plain() {
    keyctl()
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::starts_with("keyctl "));
}

#[test]
fn usage_errors_exit_2() {
    let sb = Sandbox::new();
    sb.cmd().arg("frobnicate").assert().code(2);
    sb.cmd()
        .args(["list", "--output", "yaml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("possible values"));
    sb.cmd().args(["list", "--timeout", "-1"]).assert().code(2);
    sb.cmd()
        .args(["list", "--all-regions", "--region", "ap-guangzhou"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot be used with"));
    sb.cmd()
        .args(["--provider", "aws", "list"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("huawei-ecs"));
    // Asked for JSON errors, a usage error is one JSON object too.
    for args in [
        &["--errors", "json", "list", "--output", "yaml"][..],
        &["list", "--errors=json", "--bogus"][..],
    ] {
        let out = sb.cmd().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{err}");
        let v: serde_json::Value = serde_json::from_str(&err).unwrap();
        assert_eq!(v["kind"], "usage", "{v}");
        assert_eq!(v["exit_code"], 2, "{v}");
        assert!(!v["error"].as_str().unwrap().starts_with("error:"), "{v}");
        assert!(v["hint"].as_str().unwrap().contains("--help"), "{v}");
    }
}

#[test]
fn no_config_and_no_env_is_a_config_error() {
    let sb = Sandbox::new();
    sb.cmd()
        .arg("list")
        .assert()
        .code(3)
        .stderr(predicate::str::contains("no config file").and(predicate::str::contains("hint:")));
}

#[test]
fn explicit_missing_config_is_exit_3() {
    let sb = Sandbox::new();
    sb.cmd()
        .args(["--config", "/nonexistent/k.toml", "profiles"])
        .assert()
        .code(3);
    sb.cmd()
        .env("KEYCTL_CONFIG", "/nonexistent/k.toml")
        .arg("profiles")
        .assert()
        .code(3);
}

#[test]
fn bad_config_names_file_line_and_fix() {
    let sb = Sandbox::new();
    sb.write_config(
        "[profiles.hw]\nprovider = \"huawei\"\nregion = \"cn-north-4\"\nsecret_kye = \"x\"\n",
    );
    let out = sb.cmd().arg("profiles").output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("config.toml:4"), "{err}");
    assert!(err.contains("hint: did you mean `secret_key`?"), "{err}");
}

#[test]
fn profiles_shows_sources_never_secrets() {
    let sb = Sandbox::new();
    sb.write_config(
        r#"default_profiles = ["hw"]
[profiles.hw]
provider = "huawei"
region = "cn-north-4"
project_id = "p"
access_key = "AK-INLINE-VALUE-1234"
secret_key_env = "HW_SK"
[profiles.tc]
provider = "tencent"
region = "ap-guangzhou"
secret_id_command = "echo SECRET-FROM-COMMAND"
secret_key_file = "/tmp/never-read"
"#,
    );
    let out = sb
        .cmd()
        .args(["profiles", "-o", "json"])
        .env("HW_SK", "SK-ENV-VALUE-9876")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for secret in [
        "AK-INLINE-VALUE-1234",
        "SK-ENV-VALUE-9876",
        "SECRET-FROM-COMMAND",
    ] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v[0]["name"], "hw");
    assert_eq!(v[0]["credentials"]["secret_key"], "env HW_SK");
    assert_eq!(v[0]["credentials"]["access_key"], "inline in config");
    assert_eq!(v[0]["default"], true);
    assert_eq!(v[1]["credentials"]["secret_id"], "command");
    assert_eq!(v[1]["default"], false);
    let tsv = sb
        .cmd()
        .args(["profiles", "--columns", "name,provider,region"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&tsv.stdout),
        "hw\thuawei\tcn-north-4\ntc\ttencent\tap-guangzhou\n"
    );
}

#[test]
fn readable_config_with_inline_secret_is_warned() {
    let sb = Sandbox::new();
    let path =
        sb.write_config("[profiles.tc]\nprovider = \"tencent\"\nsecret_key = \"inline-secret\"\n");
    common::chmod(&path, 0o644);
    sb.cmd()
        .arg("profiles")
        .assert()
        .success()
        .stderr(predicate::str::contains("chmod 600"));
    common::chmod(&path, 0o600);
    sb.cmd()
        .arg("profiles")
        .assert()
        .success()
        .stderr(predicate::str::is_empty());
}

#[test]
fn implicit_profiles_from_cloud_env_vars() {
    let sb = Sandbox::new();
    let out = sb
        .cmd()
        .args(["profiles", "-o", "json"])
        .env("TENCENTCLOUD_SECRET_ID", "id-value-123")
        .env("TENCENTCLOUD_SECRET_KEY", "key-value-456")
        .env("TENCENTCLOUD_REGION", "ap-singapore")
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["name"], "tencent");
    assert_eq!(v[0]["region"], "ap-singapore");
    assert_eq!(v[0]["source"], "environment");
    assert_eq!(
        v[0]["credentials"]["secret_key"],
        "env TENCENTCLOUD_SECRET_KEY"
    );
}

#[test]
fn unknown_profile_and_column_are_usage_errors() {
    let sb = Sandbox::new();
    sb.write_config("[profiles.tc]\nprovider = \"tencent\"\nregion = \"r\"\nsecret_id = \"a\"\nsecret_key = \"b\"\n");
    sb.cmd()
        .args(["list", "-p", "nope"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("profiles: tc"));
    sb.cmd()
        .args(["list", "--columns", "name,colour"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("valid columns")
                .and(predicate::str::contains("fingerprint_sha256")),
        );
}

#[test]
fn completions_and_man_need_no_config() {
    let sb = Sandbox::new();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        sb.cmd()
            .args(["completions", shell])
            .assert()
            .success()
            .stdout(predicate::str::contains("keyctl"));
    }
    sb.cmd()
        .arg("man")
        .assert()
        .success()
        .stdout(predicate::str::contains(".TH keyctl"));
}

#[test]
fn implicit_tencent_profile_from_tccli_files() {
    let sb = Sandbox::new();
    let dir = sb.home().join(".tccli");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("work.credential"),
        r#"{"secretId": "tccli-id-0001", "secretKey": "tccli-key-0002"}"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("work.configure"),
        r#"{"_sys_param": {"region": "ap-shanghai", "output": "json"}}"#,
    )
    .unwrap();
    let out = sb
        .cmd()
        .args(["profiles", "-o", "json"])
        .env("TCCLI_PROFILE", "work")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        !text.contains("tccli-key-0002") && !text.contains("tccli-id-0001"),
        "{text}"
    );
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v[0]["name"], "tencent");
    assert_eq!(v[0]["region"], "ap-shanghai");
    assert!(v[0]["credentials"]["secret_key"]
        .as_str()
        .unwrap()
        .ends_with(".tccli/work.credential"));
}

#[test]
fn implicit_openstack_profile_from_os_env() {
    let sb = Sandbox::new();
    let out = sb
        .cmd()
        .args(["profiles", "-o", "json"])
        .env("OS_AUTH_URL", "http://127.0.0.1:5000/v3")
        .env("OS_USERNAME", "ops")
        .env("OS_PASSWORD", "os-password-never-shown")
        .env("OS_PROJECT_NAME", "ops")
        .env("OS_REGION_NAME", "RegionTwo")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("os-password-never-shown"));
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v[0]["provider"], "openstack");
    assert_eq!(v[0]["credentials"]["password"], "env OS_PASSWORD");
}

/// stderr whose reader has already gone (`keyctl … 2>&1 | head -1`): writes to it fail with
/// EPIPE, which must not turn the documented exit code into a panic's 101.
#[test]
fn a_closed_stderr_keeps_the_exit_code() {
    use std::os::unix::net::UnixStream;
    use std::process::Stdio;
    let sb = Sandbox::new();
    // A config error (exit 3) is an error line and a hint line.
    sb.write_config("[profiles.t]\nprovider = \"tencent\"\nbogus = 1\n");
    for extra in [&[][..], &["--errors", "json"][..]] {
        let (ours, theirs) = UnixStream::pair().unwrap();
        drop(ours);
        let status = sb
            .std_cmd()
            .args(["list", "-o", "json"])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::from(std::os::fd::OwnedFd::from(theirs)))
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(3), "{extra:?}");
    }
}

#[test]
fn a_config_others_can_change_runs_no_command() {
    let sb = Sandbox::new();
    let marker = sb.home().join("PWNED");
    let path = sb.write_config(&format!(
        "[profiles.tc]\nprovider = \"tencent\"\nregion = \"ap-guangzhou\"\nendpoint = \"http://127.0.0.1:9\"\nsecret_id = \"AKIDx\"\nsecret_key_command = \"touch '{}'\"\n",
        marker.display()
    ));
    for (file_mode, dir_mode) in [(0o666, 0o755), (0o600, 0o777)] {
        common::chmod(&path, file_mode);
        common::chmod(path.parent().unwrap(), dir_mode);
        sb.cmd()
            .args(["list", "--timeout", "2"])
            .assert()
            .code(3)
            .stderr(predicate::str::contains("will not run"))
            .stderr(predicate::str::contains("chmod go-w"));
        assert!(
            !marker.exists(),
            "the command ran ({file_mode:o}, {dir_mode:o})"
        );
    }
    common::chmod(path.parent().unwrap(), 0o755);
    common::chmod(&path, 0o600);
    // Safe again: the command runs (and the listing then fails to connect, exit 1).
    sb.cmd().args(["list", "--timeout", "2"]).assert().failure();
    assert!(marker.exists());
}

#[test]
fn a_secret_command_that_hangs_is_stopped_at_the_timeout() {
    let sb = Sandbox::new();
    sb.write_config(
        "[profiles.tc]\nprovider = \"tencent\"\nregion = \"ap-guangzhou\"\nendpoint = \"http://127.0.0.1:9\"\nsecret_id = \"AKIDx\"\nsecret_key_command = \"sleep 30\"\n",
    );
    let started = std::time::Instant::now();
    sb.cmd()
        .args(["list", "--timeout", "1"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains(
            "secret_key of profile tc: its command did not finish within 1 s",
        ));
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}
