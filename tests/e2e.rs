//! The keyctl binary against the in-process emulator: several clouds at once, every output
//! format, the exit-code contract with real failures, and no secret in any output at any
//! verbosity.

mod common;

use std::net::TcpListener;

use common::Sandbox;
use keyctl_emulator::{huawei, tencent, Config, Emulator};
use serde_json::Value;

const HW_SK: &str = huawei::DEMO_SECRET_KEY;
const TC_SK: &str = tencent::DEMO_SECRET_KEY;

fn setup() -> (Emulator, Sandbox) {
    let emu = Emulator::start(Config::default());
    let sb = Sandbox::new();
    sb.write_config(&common::hw_and_tc_config(&emu.url()));
    (emu, sb)
}

fn run(sb: &Sandbox, args: &[&str]) -> (i32, String, String) {
    let out = sb.cmd().args(args).env("HW_SK", HW_SK).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A port that accepts connections and never answers, and its URL (it stays silent while the
/// listener lives).
fn silent_endpoint() -> (TcpListener, String) {
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    (silent, url)
}

fn expected_count(emu: &Emulator) -> usize {
    emu.state().config.huawei.keys.len() + emu.state().config.tencent.keys.len()
}

#[test]
fn list_merges_clouds_in_stable_order_as_json() {
    let (emu, sb) = setup();
    let (code, out, err) = run(&sb, &["list", "-o", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: Vec<Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(v.len(), expected_count(&emu));
    // provider, then profile, region, name
    let providers: Vec<&str> = v.iter().map(|k| k["provider"].as_str().unwrap()).collect();
    let first_tc = providers.iter().position(|p| *p == "tencent").unwrap();
    assert!(providers[..first_tc].iter().all(|p| *p == "huawei"));
    let hw_names: Vec<&str> = v[..first_tc]
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    let mut sorted = hw_names.clone();
    sorted.sort();
    assert_eq!(hw_names, sorted);
    // Every key has the full schema and locally computed fingerprints.
    for k in &v {
        for field in keyctl::model::FIELDS.iter() {
            assert!(k.get(*field).is_some(), "{field} missing in {k}");
        }
    }
    let tc = v.iter().find(|k| k["provider"] == "tencent").unwrap();
    assert!(tc["id"].as_str().unwrap().starts_with("skey-"));
    assert!(tc["fingerprint_sha256"]
        .as_str()
        .unwrap()
        .starts_with("SHA256:"));
    assert!(tc["provider_fingerprint"].is_null());
}

#[test]
fn piped_default_is_tsv_and_other_formats_agree() {
    let (emu, sb) = setup();
    let (code, tsv, _) = run(&sb, &["list"]);
    assert_eq!(code, 0);
    let lines: Vec<&str> = tsv.lines().collect();
    assert_eq!(lines.len(), expected_count(&emu));
    assert_eq!(
        lines[0].split('\t').count(),
        keyctl::output::DEFAULT_LIST_COLUMNS.len()
    );
    let (_, jsonl, _) = run(&sb, &["list", "-o", "jsonl"]);
    assert_eq!(jsonl.lines().count(), lines.len());
    let (_, names, _) = run(&sb, &["list", "-o", "name", "-p", "tc"]);
    assert_eq!(names.lines().count(), emu.state().config.tencent.keys.len());
    let (_, table, _) = run(
        &sb,
        &[
            "list",
            "-o",
            "table",
            "--limit",
            "3",
            "--columns",
            "profile,name,bits",
        ],
    );
    assert_eq!(table.lines().count(), 4, "{table}");
    assert!(table.starts_with("PROFILE"));
}

#[test]
fn table_colour_follows_the_color_flag_and_always_overrides_no_color() {
    let (_emu, sb) = setup();
    let table = |color: &str| {
        let out = sb
            .cmd()
            .args(["list", "-o", "table", "-p", "hw", "--limit", "3"])
            .args(["--columns", "name,status", "--color", color])
            .env("HW_SK", HW_SK)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let always = table("always");
    assert!(always.starts_with("\x1b[1mNAME\x1b[0m"), "{always:?}");
    assert!(always.contains("\x1b[38;5;2mactive\x1b[39m"), "{always:?}");
    for plain in ["never", "auto"] {
        let text = table(plain);
        assert!(!text.contains('\x1b'), "{plain}: {text:?}");
        assert!(
            text.starts_with("NAME ") && text.contains("active"),
            "{text:?}"
        );
    }
}

#[test]
fn filters_sort_and_limit_apply_to_the_merged_list() {
    let (_emu, sb) = setup();
    let (code, out, _) = run(
        &sb,
        &[
            "list", "-o", "json", "--name", "hw-0000?", "--sort", "-name", "--limit", "3",
        ],
    );
    assert_eq!(code, 0);
    let v: Vec<Value> = serde_json::from_str(&out).unwrap();
    let names: Vec<&str> = v.iter().map(|k| k["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["hw-00009", "hw-00008", "hw-00007"]);
    let (_, out, _) = run(&sb, &["list", "-o", "json", "--algorithm", "ssh-ed25519"]);
    let v: Vec<Value> = serde_json::from_str(&out).unwrap();
    assert!(!v.is_empty() && v.iter().all(|k| k["algorithm"] == "ssh-ed25519"));
    // A fingerprint found in one listing finds exactly the keys with it.
    let fp = v[0]["fingerprint_sha256"].as_str().unwrap().to_string();
    let (_, out, _) = run(
        &sb,
        &[
            "list",
            "-o",
            "json",
            "--fingerprint",
            fp.trim_start_matches("SHA256:"),
        ],
    );
    let hits: Vec<Value> = serde_json::from_str(&out).unwrap();
    assert!(!hits.is_empty() && hits.iter().all(|k| k["fingerprint_sha256"] == fp.as_str()));
}

#[test]
fn show_finds_the_key_in_whichever_profile_has_it() {
    let (_emu, sb) = setup();
    let (code, out, err) = run(&sb, &["show", "hw key with spaces", "-o", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["profile"], "hw");
    assert!(v["id"].is_string() && v["created_at"].is_string());
    let (code, _, err) = run(&sb, &["show", "no-such-key"]);
    assert_eq!(code, 5);
    assert!(
        err.contains("no key pair named `no-such-key` in hw (cn-north-4), tc (ap-guangzhou)"),
        "{err}"
    );
    let (code, out, _) = run(&sb, &["show", "hw-00001", "-o", "table"]);
    assert_eq!(code, 0);
    assert!(
        out.lines()
            .any(|l| l.starts_with("fingerprint_sha256") && l.contains("SHA256:")),
        "{out}"
    );
}

#[test]
fn wrong_secret_is_exit_4_with_hint_and_never_echoed() {
    let (_emu, sb) = setup();
    let out = sb
        .cmd()
        .args(["list", "-p", "hw"])
        .env("HW_SK", "WrongSecretKey-That-Must-Not-Leak")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("profile hw (huawei, cn-north-4)") && err.contains("hint:"),
        "{err}"
    );
    assert!(!err.contains("WrongSecretKey-That-Must-Not-Leak"));
}

/// Key pairs are written target by target as the targets answer: whatever order the config
/// names profiles in, and with a failing profile first in line, the output is the one stable
/// order, whole, and `--limit` cuts it across targets.
#[test]
fn streamed_listing_is_in_the_stable_order_whatever_the_config_order() {
    let emu = Emulator::start(Config::default());
    let sb = Sandbox::new();
    let base = common::hw_and_tc_config(&emu.url());
    let (hw, tc) = base.split_at(base.find("[profiles.tc]").unwrap());
    let hw2 = hw.replace("[profiles.hw]", "[profiles.hw2]");
    let bad = hw.replace("[profiles.hw]", "[profiles.a-bad]").replace(
        "secret_key_env = \"HW_SK\"",
        "secret_key = \"wrong-secret-key\"",
    );
    sb.write_config(&format!("{tc}\n{hw2}\n{hw}\n{bad}"));
    let (code, out, err) = run(&sb, &["list", "-o", "json"]);
    assert_eq!(code, 6, "{err}");
    assert!(err.contains("a-bad"), "{err}");
    let v: Vec<Value> = serde_json::from_str(&out).unwrap();
    let hw_count = emu.state().config.huawei.keys.len();
    assert_eq!(v.len(), expected_count(&emu) + hw_count);
    let rank = |p: &str| {
        ["huawei", "huawei-ecs", "openstack", "tencent"]
            .iter()
            .position(|x| *x == p)
    };
    let key = |k: &Value| {
        let s = |f: &str| k[f].as_str().unwrap_or("").to_string();
        (rank(&s("provider")), s("profile"), s("region"), s("name"))
    };
    let mut sorted = v.clone();
    sorted.sort_by_key(key);
    assert_eq!(v, sorted);
    assert_eq!(v[0]["profile"], "hw");
    assert_eq!(v[hw_count]["profile"], "hw2");
    // --limit counts across targets; JSONL carries the same objects one per line.
    let (_, out, _) = run(
        &sb,
        &["list", "-o", "json", "--limit", &(hw_count + 2).to_string()],
    );
    let limited: Vec<Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(limited[..], v[..hw_count + 2]);
    let (_, out, _) = run(&sb, &["list", "-o", "jsonl"]);
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines, v);
}

#[test]
fn one_dead_profile_never_hides_the_others() {
    let emu = Emulator::start(Config::default());
    let sb = Sandbox::new();
    let (silent, dead) = silent_endpoint();
    let mut config = common::hw_and_tc_config(&emu.url());
    config.push_str(&format!(
        "\n[profiles.dead]\nprovider = \"tencent\"\nregion = \"ap-guangzhou\"\nendpoint = \"{dead}\"\nsecret_id = \"x\"\nsecret_key = \"y\"\n"
    ));
    sb.write_config(&config);
    let out = sb
        .cmd()
        .args(["list", "-o", "json", "--timeout", "1", "--errors", "json"])
        .env("HW_SK", HW_SK)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(6));
    let v: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v.len(), expected_count(&emu));
    let err: Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stderr).lines().next().unwrap()).unwrap();
    assert_eq!(err["profile"], "dead");
    assert_eq!(err["kind"], "network");
    drop(silent);
}

#[test]
fn limit_stops_the_fan_out_once_the_rows_are_written() {
    let emu = Emulator::start(Config::default());
    let sb = Sandbox::new();
    // Last in the default order (tencent after huawei), and it would never answer: once
    // `--limit` rows came from the targets before it, it is not waited for.
    let (silent, dead) = silent_endpoint();
    let config = common::hw_and_tc_config(&emu.url())
        .replace(&emu.url(), &dead)
        .replacen(&dead, &emu.url(), 1);
    assert!(config.contains(&dead), "{config}");
    sb.write_config(&config);
    let (code, out, err) = run(
        &sb,
        &["list", "-o", "json", "--limit", "3", "--timeout", "5"],
    );
    assert_eq!(code, 0, "{err}");
    let v: Vec<Value> = serde_json::from_str(&out).unwrap();
    let names: Vec<&str> = v.iter().map(|k| k["name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(v.iter().all(|k| k["profile"] == "hw"), "{out}");
    assert!(
        err.is_empty(),
        "the unanswered target is not an error: {err}"
    );
    // (Without a limit it is waited for and reported: one_dead_profile_never_hides_the_others.)
    drop(silent);
}

#[test]
fn no_secret_appears_at_any_verbosity() {
    let (_emu, sb) = setup();
    for v in [&[][..], &["-v"][..], &["-vv"][..], &["-vvv"][..]] {
        let mut args = vec!["list", "-o", "json"];
        args.extend_from_slice(v);
        let (code, out, err) = run(&sb, &args);
        assert_eq!(code, 0, "{err}");
        for secret in [HW_SK, TC_SK] {
            assert!(
                !out.contains(secret) && !err.contains(secret),
                "secret leaked at {v:?}"
            );
        }
        if v.len() == 1 && v[0] == "-vv" {
            assert!(
                err.contains("> GET") && err.to_lowercase().contains("authorization: <redacted>"),
                "{err}"
            );
            // Each header on a line of its own, every line a request or a reply line.
            assert!(
                err.lines()
                    .any(|l| l.to_lowercase() == ">   authorization: <redacted>"),
                "{err}"
            );
            assert!(
                err.lines().all(|l| l.starts_with("> ")
                    || l.starts_with("< ")
                    || l.starts_with("keyctl: ")),
                "{err}"
            );
        }
    }
}

#[test]
fn closed_pipe_exits_quietly() {
    let (_emu, sb) = setup();
    let mut child = sb
        .std_cmd()
        .args(["list", "-o", "jsonl"])
        .env("HW_SK", HW_SK)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader goes away at once, like `| head -0`
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn find_and_audit_through_the_binary() {
    let (emu, sb) = setup();
    let key = &emu.state().config.huawei.keys[0];
    let pubfile = sb.home().join("k.pub");
    std::fs::write(&pubfile, format!("{}\n", key.public_key)).unwrap();
    let (code, out, err) = run(&sb, &["find", pubfile.to_str().unwrap(), "-o", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: Vec<Value> = serde_json::from_str(&out).unwrap();
    assert!(v.iter().any(|k| k["name"] == key.name.as_str()));
    let (code, _, _) = run(
        &sb,
        &["find", "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"],
    );
    assert_eq!(code, 5);
    let (code, out, _) = run(&sb, &["audit", "-o", "json"]);
    assert_eq!(code, 0);
    let findings: Vec<Value> = serde_json::from_str(&out).unwrap();
    assert!(findings.iter().any(|f| f["code"] == "frozen"), "{out}");
    let (code, _, _) = run(&sb, &["audit", "--fail-on", "info"]);
    assert_eq!(code, 1);
}

#[test]
fn twenty_percent_throttling_and_5xx_lose_nothing() {
    let clean = Emulator::start(Config::default());
    let sb_clean = Sandbox::new();
    sb_clean.write_config(&common::hw_and_tc_config(&clean.url()));
    let (_, clean_out, _) = run(&sb_clean, &["list", "-o", "json", "--page-size", "7"]);

    let config = Config {
        faults: keyctl_emulator::faults::FaultConfig {
            throttle_rate: 0.1,
            error_rate: 0.1,
            seed: 42,
            ..Default::default()
        },
        ..Default::default()
    };
    let flaky = Emulator::start(config);
    let sb = Sandbox::new();
    sb.write_config(&common::hw_and_tc_config(&flaky.url()));
    // Small pages: many requests, so many injected faults.
    let (code, out, err) = run(&sb, &["list", "-o", "json", "--page-size", "7"]);
    assert_eq!(code, 0, "{err}");
    let (served, injected) = flaky.state().faults.counts();
    assert!(injected >= 2, "only {injected} faults in {served} requests");
    let strip = |s: &str| -> Vec<(String, String, String)> {
        let v: Vec<Value> = serde_json::from_str(s).unwrap();
        v.iter()
            .map(|k| {
                (
                    k["profile"].to_string(),
                    k["name"].to_string(),
                    k["fingerprint_sha256"].to_string(),
                )
            })
            .collect()
    };
    assert_eq!(strip(&out), strip(&clean_out));
}

/// `show` and `find` where no profile could answer: the failure's own code (4), not "partial"
/// (6) and not "not found" (5); with one profile answering, a miss is partial.
#[test]
fn show_and_find_where_nobody_answered_exit_with_the_failure_code() {
    let (_emu, sb) = setup();
    let wrong = |args: &[&str]| {
        let out = sb
            .cmd()
            .args(args)
            .env("HW_SK", "WrongSecretKey-For-Exit-Codes")
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = wrong(&["show", "hw-00001", "-p", "hw"]);
    assert_eq!(code, 4, "{err}");
    assert!(!err.contains("no key pair named"), "{err}");
    let (code, err) = wrong(&["find", "hw-*", "-p", "hw"]);
    assert_eq!(code, 4, "{err}");
    // hw fails, tc answers but has no such key: partial.
    let (code, err) = wrong(&["show", "no-such-key"]);
    assert_eq!(code, 6, "{err}");
    // The miss names only where the name was looked for; hw may still hold it.
    assert!(
        err.contains(
            "no key pair named `no-such-key` in tc (ap-guangzhou); not searched: hw (cn-north-4) (errors above)"
        ),
        "{err}"
    );
    let (code, err) = wrong(&["find", "no-such-*"]);
    assert_eq!(code, 6, "{err}");
}

/// Ctrl-C while a cloud is slow to answer: exit 130 at once, "interrupted" on stderr.
#[test]
fn interrupt_exits_130() {
    let sb = Sandbox::new();
    let (silent, url) = silent_endpoint();
    sb.write_config(&format!(
        "[profiles.slow]\nprovider = \"tencent\"\nregion = \"ap-guangzhou\"\nendpoint = \"{url}\"\nsecret_id = \"slow-id\"\nsecret_key = \"slow-key\"\n"
    ));
    let child = sb
        .std_cmd()
        .args(["list", "--timeout", "60"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Give it time to start and connect; then interrupt as a terminal would.
    std::thread::sleep(std::time::Duration::from_millis(700));
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let started = std::time::Instant::now();
    let out = child.wait_with_output().unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(err.lines().any(|l| l == "error: interrupted"), "{err}");
    drop(silent);
}

/// On a terminal, a failure reported while the spinner is showing and the other profiles'
/// key pairs written beside it: the run ends (the two once nested indicatif's suspend, which
/// holds the bar's lock, and hung), with the data complete and exit 6. stderr is a real
/// terminal here, through `script`'s pseudo-terminal.
#[test]
fn a_failure_shown_beside_the_spinner_on_a_terminal_never_hangs() {
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("SKIPPED: no `script` (util-linux) to give keyctl a terminal");
        return;
    }
    // Slow enough for the spinner (it appears after 400 ms) to be up when the answers come.
    let emu = Emulator::start(Config {
        latency: std::time::Duration::from_millis(700),
        ..Config::default()
    });
    let sb = Sandbox::new();
    let base = common::hw_and_tc_config(&emu.url());
    let hw = &base[..base.find("[profiles.tc]").unwrap()];
    let bad = hw.replace("[profiles.hw]", "[profiles.a-bad]").replace(
        "secret_key_env = \"HW_SK\"",
        "secret_key = \"wrong-secret-key\"",
    );
    sb.write_config(&format!("{hw}\n{bad}"));
    let out_path = sb.home().join("out.json");
    let keyctl = assert_cmd::cargo::cargo_bin("keyctl");
    let inner = format!(
        "'{}' list -o json > '{}'",
        keyctl.display(),
        out_path.display()
    );
    // `script` runs the command on a pseudo-terminal, in the sandbox's environment.
    let home = sb.home();
    let mut child = std::process::Command::new("script")
        .args(["-qec", &inner, "/dev/null"])
        .env_clear()
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SHELL", "/bin/sh")
        .env("TERM", "xterm")
        .env("HW_SK", HW_SK)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > std::time::Duration::from_secs(30) {
            let _ = child.kill();
            panic!("keyctl hung with the spinner on a terminal");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(6));
    let v: Vec<Value> = serde_json::from_slice(&std::fs::read(&out_path).unwrap()).unwrap();
    assert_eq!(v.len(), emu.state().config.huawei.keys.len());
}

#[test]
fn a_key_that_does_not_parse_is_listed_and_named_in_one_warning() {
    use keyctl_emulator::keys::{openssh_key, Algo, SeedKey};
    let mut config = Config::default();
    config.huawei.keys = vec![
        huawei::HuaweiKey::new("hw-good", &openssh_key(Algo::Ed25519, 1, ""), 0),
        huawei::HuaweiKey::new("hw-garbage", "ssh-ed25519 AAAAnot-base64!!", 1),
    ];
    config.tencent.keys = tencent::seed_keys(&[
        SeedKey {
            name: "tc_good".into(),
            public_key: openssh_key(Algo::Ed25519, 2, ""),
        },
        SeedKey {
            name: "tc_garbage".into(),
            public_key: "ssh-rsa AAAAB3NzaC1yc2E= truncated".into(),
        },
    ]);
    let emu = Emulator::start(config);
    let sb = Sandbox::new();
    sb.write_config(&common::hw_and_tc_config(&emu.url()));
    let (code, out, err) = run(&sb, &["list", "-o", "json"]);
    assert_eq!(code, 0, "{err}");
    let keys: Vec<Value> = serde_json::from_str(&out).unwrap();
    let by_name = |name: &str| {
        keys.iter()
            .find(|k| k["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing: {out}"))
    };
    for name in ["hw-good", "tc_good"] {
        assert!(by_name(name)["fingerprint_sha256"].is_string(), "{name}");
    }
    for (name, profile) in [("hw-garbage", "profile hw"), ("tc_garbage", "profile tc")] {
        let k = by_name(name);
        assert!(k["public_key"].is_string(), "the key is kept as sent: {k}");
        assert!(k["fingerprint_sha256"].is_null(), "{k}");
        let warnings: Vec<&str> = err
            .lines()
            .filter(|l| l.contains(&format!("key pair {name}: cannot read its public key")))
            .collect();
        assert_eq!(warnings.len(), 1, "one warning for {name}: {err}");
        assert!(warnings[0].contains(profile), "{}", warnings[0]);
    }

    // With --errors json every stderr line is a JSON object, the warnings too.
    let (code, _, err) = run(&sb, &["list", "-o", "json", "--errors", "json"]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<Value> = err
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(lines.len(), 2, "{err}");
    for w in &lines {
        assert!(
            w["warning"]
                .as_str()
                .is_some_and(|m| m.contains("cannot read its public key")),
            "{w}"
        );
    }
}

/// A key set built to trigger every audit finding, served by Huawei KPS and Tencent.
fn audit_emulator() -> Emulator {
    use keyctl_emulator::keys::{openssh_key, Algo, SeedKey};
    let shared = openssh_key(Algo::Ed25519, 900, "shared@ops");
    let mut hw = vec![
        huawei::HuaweiKey::new("weak-1024", &openssh_key(Algo::Rsa(1024), 901, ""), 1),
        huawei::HuaweiKey::new("rsa-2048", &openssh_key(Algo::Rsa(2048), 902, ""), 2),
        huawei::HuaweiKey::new("old-dsa", &openssh_key(Algo::Dsa, 903, ""), 3),
        huawei::HuaweiKey::new("deploy", &shared, 4),
        huawei::HuaweiKey::new("deploy-copy", &shared, 5),
        huawei::HuaweiKey::new("frozen-one", &openssh_key(Algo::Ed25519, 906, ""), 6),
        huawei::HuaweiKey::new("lying-fp", &openssh_key(Algo::Ed25519, 907, ""), 7),
        huawei::HuaweiKey::new("garbage", "ssh-ed25519 AAAAnot-base64!!", 8),
        huawei::HuaweiKey::new("clean", &openssh_key(Algo::Ed25519, 909, ""), 9),
    ];
    hw[5].frozen_state = 2;
    hw[6].fingerprint = Some("00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff".into());
    let mut tc = tencent::seed_keys(&[
        SeedKey {
            name: "deploy".into(),
            public_key: openssh_key(Algo::Ed25519, 910, ""),
        },
        SeedKey {
            name: "attached".into(),
            public_key: openssh_key(Algo::Ed25519, 911, ""),
        },
    ]);
    tc[0].instance_ids.clear();
    tc[1].instance_ids = vec!["ins-1".into()];
    let mut config = Config::default();
    config.huawei.keys = hw;
    config.tencent.keys = tc;
    Emulator::start(config)
}

#[test]
fn audit_reports_every_finding_from_a_seeded_set() {
    let emu = audit_emulator();
    let sb = Sandbox::new();
    sb.write_config(&common::hw_and_tc_config(&emu.url()));
    let (code, out, err) = run(&sb, &["audit", "-o", "json"]);
    assert_eq!(code, 0, "{err}");
    let findings: Vec<Value> = serde_json::from_str(&out).unwrap();
    let has = |code: &str, name: &str| {
        findings.iter().any(|f| {
            f["code"] == code
                && f["key_pairs"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|k| k["name"] == name)
        })
    };
    let expect = [
        ("weak-rsa", "weak-1024", "high"),
        ("weak-rsa", "rsa-2048", "low"),
        ("dsa-key", "old-dsa", "high"),
        ("key-reused-under-different-names", "deploy-copy", ""),
        ("name-reused-with-different-key", "deploy", ""),
        ("frozen", "frozen-one", ""),
        ("fingerprint-mismatch", "lying-fp", ""),
        ("unparseable-key", "garbage", ""),
        ("unattached", "deploy", ""),
    ];
    for (code, name, severity) in expect {
        assert!(has(code, name), "no {code} for {name}: {out}");
        if !severity.is_empty() {
            let f = findings
                .iter()
                .find(|f| f["code"] == code && f["key_pairs"][0]["name"] == name)
                .unwrap_or_else(|| panic!("{code} {name}"));
            assert_eq!(f["severity"], severity, "{f}");
        }
    }
    assert!(!findings.iter().any(|f| f["key_pairs"]
        .as_array()
        .unwrap()
        .iter()
        .any(|k| k["name"] == "clean")));
    assert!(!has("unattached", "attached"));
    // The CI gate: high findings exist, so --fail-on high exits 1; a stricter policy in the
    // config file changes what counts.
    assert_eq!(run(&sb, &["audit", "--fail-on", "high", "-q"]).0, 1);
    let mut config = common::hw_and_tc_config(&emu.url());
    config.push_str("\n[audit]\nrsa_min_bits_high = 1024\nflag_dsa = false\n");
    sb.write_config(&config);
    let (code, out, _) = run(&sb, &["audit", "--fail-on", "high", "-o", "json"]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn show_in_several_profiles_is_ambiguous_for_json_unless_all() {
    let emu = Emulator::start(Config::default());
    let sb = Sandbox::new();
    let mut config = common::hw_and_tc_config(&emu.url());
    // A second profile on the same account: every Huawei key is now in two places.
    let hw2 = config
        .split("[profiles.tc]")
        .next()
        .unwrap()
        .replace("[profiles.hw]", "[profiles.hw2]");
    config.push('\n');
    config.push_str(&hw2);
    sb.write_config(&config);
    let (code, _, err) = run(&sb, &["show", "hw-00001", "-o", "json"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("ambiguous") && err.contains("hw (cn-north-4), hw2 (cn-north-4)"),
        "{err}"
    );
    let (code, out, _) = run(&sb, &["show", "hw-00001", "-o", "json", "--all"]);
    assert_eq!(code, 0);
    let v: Vec<Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(v.len(), 2);
    let (code, out, _) = run(&sb, &["show", "hw-00001", "-o", "table"]);
    assert_eq!(code, 0);
    assert_eq!(
        out.lines().filter(|l| l.starts_with("profile ")).count(),
        2,
        "{out}"
    );
    let (code, out, _) = run(&sb, &["show", "hw-00001", "-p", "hw2", "-o", "json"]);
    assert_eq!(code, 0);
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()["profile"],
        "hw2"
    );
}

#[test]
fn large_listings_spooled_to_a_temporary_file_come_out_in_the_stable_order() {
    // 6,000 rendered key pairs are more than the 4 MiB the spools may hold in memory, so the
    // later target's rows go to a temporary file; Tencent's, served in reverse name order,
    // are written back sorted. `--sort provider` merges the spools of every target at the end,
    // by a field whose ties fall back to the default order: the two must be the same bytes.
    let mut config = Config::default();
    config.huawei.keys = keyctl_emulator::keys::generate("hw", 3000, 1)
        .iter()
        .enumerate()
        .map(|(i, k)| huawei::HuaweiKey::new(&k.name, &k.public_key, i as i64))
        .collect();
    let mut tc_keys = keyctl_emulator::keys::generate("tc", 3000, 2);
    tc_keys.reverse();
    config.tencent.keys = tencent::seed_keys(&tc_keys);
    config.tencent.rate_limit_per_sec = 0;
    let emu = Emulator::start(config);
    let sb = Sandbox::new();
    sb.write_config(&common::hw_and_tc_config(&emu.url()));
    let (code, spooled, err) = run(&sb, &["list", "-o", "json", "-vv"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("copied out of a temporary file"), "{err}");
    let (code, held, err) = run(&sb, &["list", "-o", "json", "--sort", "provider"]);
    assert_eq!(code, 0, "{err}");
    assert!(spooled == held, "spooled and held listings differ");
    let v: Vec<Value> = serde_json::from_str(&spooled).unwrap();
    assert_eq!(v.len(), 6000);
    let tc: Vec<&str> = v[3000..]
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    assert!(
        tc.windows(2).all(|w| w[0] <= w[1]),
        "Tencent rows sorted by name"
    );
    let (_, tsv, _) = run(&sb, &["list", "-o", "tsv"]);
    let (_, held_tsv, _) = run(&sb, &["list", "-o", "tsv", "--sort", "provider"]);
    assert_eq!(tsv.lines().count(), 6000);
    assert!(tsv == held_tsv, "spooled and held TSV differ");
    // A table's rows go through the spools too; only its padding waits for the last row.
    let (_, table, _) = run(&sb, &["list", "-o", "table"]);
    let (_, held_table, _) = run(&sb, &["list", "-o", "table", "--sort", "provider"]);
    assert_eq!(
        table.lines().count(),
        6001,
        "a header and a line per key pair"
    );
    assert!(table == held_table, "spooled and held tables differ");
    // By a field that interleaves the two targets: the default listing stably sorted by it,
    // newest first and keys without a creation time last, is what `--sort -created_at` gives.
    let mut expected = v.clone();
    expected.sort_by(
        |a, b| match (a["created_at"].as_str(), b["created_at"].as_str()) {
            (Some(x), Some(y)) => y.cmp(x),
            (x, y) => y.is_some().cmp(&x.is_some()),
        },
    );
    let (code, by_time, err) = run(&sb, &["list", "-o", "json", "--sort", "-created_at"]);
    assert_eq!(code, 0, "{err}");
    let by_time: Vec<Value> = serde_json::from_str(&by_time).unwrap();
    let names = |v: &[Value]| -> Vec<String> { v.iter().map(|k| k["name"].to_string()).collect() };
    assert_eq!(names(&by_time), names(&expected));
    assert_ne!(names(&by_time), names(&v), "the field reorders the listing");
    let (_, first, _) = run(
        &sb,
        &[
            "list",
            "-o",
            "name",
            "--sort",
            "-created_at",
            "--limit",
            "5",
        ],
    );
    let first: Vec<&str> = first.lines().collect();
    let expected_first: Vec<&str> = expected[..5]
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    assert_eq!(first, expected_first);
}

/// `max_attempts` in the config caps the attempts per request: 1 never retries (a script that
/// would rather fail fast), the default retries a server error away.
#[test]
fn max_attempts_from_the_config_caps_retries() {
    let emu = Emulator::start(Config {
        faults: keyctl_emulator::faults::FaultConfig {
            fail_range: 0..1,
            ..Default::default()
        },
        ..Default::default()
    });
    let sb = Sandbox::new();
    sb.write_config(&format!(
        "max_attempts = 1\n{}",
        common::hw_and_tc_config(&emu.url())
    ));
    let (code, _, err) = run(&sb, &["list", "-p", "tc", "-o", "json"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("profile tc") && !err.contains("attempts"),
        "{err}"
    );

    let emu = Emulator::start(Config {
        faults: keyctl_emulator::faults::FaultConfig {
            fail_range: 0..2,
            ..Default::default()
        },
        ..Default::default()
    });
    sb.write_config(&format!(
        "max_attempts = 2\n{}",
        common::hw_and_tc_config(&emu.url())
    ));
    let (code, _, err) = run(&sb, &["list", "-p", "tc", "-o", "json"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("after 2 attempts"), "{err}");

    // The same two failures, on a fresh emulator, with the default: retried away.
    let emu = Emulator::start(Config {
        faults: keyctl_emulator::faults::FaultConfig {
            fail_range: 0..2,
            ..Default::default()
        },
        ..Default::default()
    });
    sb.write_config(&common::hw_and_tc_config(&emu.url()));
    let (code, out, err) = run(&sb, &["list", "-p", "tc", "-o", "json"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(emu.state().faults.counts().1, 2);
    assert!(out.contains("\"provider\": \"tencent\""), "{out}");
}

#[test]
fn all_regions_lists_every_region_of_an_openstack_catalog() {
    let mut config = Config::default();
    config.nova.extra_regions = vec!["RegionTwo".into()];
    let emu = Emulator::start(config.clone());
    let sb = Sandbox::new();
    sb.write_config(&keyctl_emulator::keyctl_config(&emu.url(), &config));
    let regions_of = |out: &str| -> Vec<(String, String)> {
        let v: Vec<Value> = serde_json::from_str(out).unwrap();
        v.iter()
            .map(|k| {
                (
                    k["region"].as_str().unwrap().to_string(),
                    k["name"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };

    let (code, out, err) = run(&sb, &["list", "-p", "os", "-o", "json"]);
    assert_eq!(code, 0, "{err}");
    let one = regions_of(&out);
    assert!(one.iter().all(|(r, _)| r == "RegionOne"), "{one:?}");

    // Cold (no token cache) and then warm: the catalog is read once per profile either way.
    for extra in [&["--no-cache"][..], &[][..]] {
        let mut args = vec!["list", "-p", "os", "-o", "json", "--all-regions", "-v"];
        args.extend(extra);
        let (code, out, err) = run(&sb, &args);
        assert_eq!(code, 0, "{err}");
        let both = regions_of(&out);
        assert_eq!(both.len(), 2 * one.len(), "{both:?}");
        for (region, name) in &one {
            assert!(both.contains(&(region.clone(), name.clone())));
            assert!(both.contains(&("RegionTwo".to_string(), name.clone())));
        }
        // In the stable order: every RegionOne key pair before RegionTwo's.
        let first_two = both.iter().position(|(r, _)| r == "RegionTwo").unwrap();
        assert!(both[first_two..].iter().all(|(r, _)| r == "RegionTwo"));
        assert!(
            err.contains("profile os: the catalog has public compute in RegionOne, RegionTwo"),
            "{err}"
        );
    }

    // Providers with a fixed list are not asked, and --region still picks one.
    let (code, out, err) = run(
        &sb,
        &["list", "-p", "os", "-o", "json", "--region", "RegionTwo"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(regions_of(&out).iter().all(|(r, _)| r == "RegionTwo"));
}

#[test]
fn all_regions_with_a_failing_catalog_reports_the_profile_once() {
    let config = Config::default();
    let emu = Emulator::start(config.clone());
    let sb = Sandbox::new();
    let text = keyctl_emulator::keyctl_config(&emu.url(), &config)
        .replace(keyctl_emulator::nova::ADMIN_PASSWORD, "not-the-password-1");
    sb.write_config(&text);
    let (code, _, err) = run(&sb, &["list", "-p", "os", "-o", "json", "--all-regions"]);
    assert_eq!(code, 4, "{err}");
    assert_eq!(err.matches("error: profile os").count(), 1, "{err}");
}

#[test]
fn all_users_lists_the_whole_project_through_the_binary() {
    let config = Config::default();
    let emu = Emulator::start(config.clone());
    let sb = Sandbox::new();
    sb.write_config(&keyctl_emulator::keyctl_config(&emu.url(), &config));
    let (code, out, err) = run(&sb, &["list", "-p", "os", "-o", "json"]);
    assert_eq!(code, 0, "{err}");
    let own: Vec<Value> = serde_json::from_str(&out).unwrap();
    let (code, out, err) = run(
        &sb,
        &["list", "-p", "os", "-o", "json", "--all-users", "-v"],
    );
    assert_eq!(code, 0, "{err}");
    let every: Vec<Value> = serde_json::from_str(&out).unwrap();
    let members = config.nova.member_keys.len();
    assert_eq!(every.len(), own.len() + members);
    let owners: std::collections::BTreeSet<&str> = every
        .iter()
        .map(|k| k["user_id"].as_str().unwrap())
        .collect();
    assert_eq!(owners.len(), 2, "{owners:?}");
    assert!(
        err.contains("profile os: 2 users have a role in project"),
        "{err}"
    );

    let (code, _, err) = run(&sb, &["list", "--all-users", "--user", "u1"]);
    assert_eq!(code, 2, "{err}");

    // find and audit take the flag too: the member's own key is only found with it.
    let (code, _, err) = run(&sb, &["find", "u2-00001", "-p", "os", "-o", "json"]);
    assert_eq!(code, 5, "{err}");
    let (code, out, err) = run(
        &sb,
        &["find", "u2-00001", "-p", "os", "-o", "json", "--all-users"],
    );
    assert_eq!(code, 0, "{err}");
    let hits: Vec<Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(hits.len(), 1, "{out}");
    assert_eq!(hits[0]["user_id"], keyctl_emulator::nova::MEMBER_ID);
    let (code, out, err) = run(&sb, &["audit", "-p", "os", "-o", "json", "--all-users"]);
    assert_eq!(code, 0, "{err}");
    // Both users own an `os-00003`, with different keys: the audit says so.
    assert!(
        out.contains("name-reused-with-different-key") && out.contains("os-00003"),
        "{out}"
    );
}

#[test]
fn all_regions_skips_regions_that_do_not_serve_the_account() {
    let (emu, sb) = setup();
    let (code, out, err) = run(&sb, &["list", "--all-regions", "-o", "json", "-v"]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("error:"), "{err}");
    let v: Vec<Value> = serde_json::from_str(&out).unwrap();
    // The emulated Tencent account answers the same key pairs in each region it serves.
    let hw = emu.state().config.huawei.keys.len();
    let tc = emu.state().config.tencent.keys.len();
    assert_eq!(v.len(), hw + tc * tencent::REGIONS.len());
    // Tencent answers UnsupportedRegion outside its regions; the emulated Huawei account has
    // a project in one region only: every other one is skipped, and -v says so.
    assert!(
        err.contains("keyctl: tc/ap-bangkok: skipped, the region does not serve this account"),
        "{err}"
    );
    assert!(err.contains("keyctl: hw/ap-southeast-1: skipped"), "{err}");
    // Named on purpose, the same region is an error.
    let (code, _, err) = run(
        &sb,
        &["list", "-p", "tc", "--region", "ap-bangkok", "-o", "json"],
    );
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("UnsupportedRegion"), "{err}");
}
