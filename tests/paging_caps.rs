//! The paging caps through the binary, against the emulator: a walk that would pass
//! `KEYCTL_MAX_PAGES` or `KEYCTL_MAX_KEYPAIRS` stops there with a protocol error naming the cap
//! and how to raise it, having made no more requests than the cap allows.

mod common;

use common::Sandbox;
use keyctl_emulator::{huawei, Config, Emulator};
use serde_json::Value;

const HW_SK: &str = huawei::DEMO_SECRET_KEY;

/// `keyctl list -o json --errors json ARGS` with `env`: exit code, the listed key pairs, and
/// the first error line.
fn list(sb: &Sandbox, args: &[&str], env: &[(&str, &str)]) -> (i32, Vec<Value>, Option<Value>) {
    let mut cmd = sb.cmd();
    cmd.args(["list", "-o", "json", "--errors", "json"])
        .args(args)
        .env("HW_SK", HW_SK);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let keys = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let err = stderr.lines().find_map(|l| serde_json::from_str(l).ok());
    (out.status.code().unwrap_or(-1), keys, err)
}

fn setup() -> (Emulator, Sandbox) {
    let emu = Emulator::start(Config::default());
    let sb = Sandbox::new();
    sb.write_config(&common::hw_and_tc_config(&emu.url()));
    (emu, sb)
}

#[test]
fn a_marker_walk_stops_at_the_page_cap_and_says_how_to_raise_it() {
    let (emu, sb) = setup();
    let total = emu.state().config.huawei.keys.len();
    assert!(total > 15, "needs more than three pages of 5");
    let (code, _, err) = list(
        &sb,
        &["--profile", "hw", "--page-size", "5"],
        &[("KEYCTL_MAX_PAGES", "3")],
    );
    assert_ne!(code, 0);
    let err = err.expect("an error line");
    assert_eq!(err["kind"], "protocol", "{err}");
    let text = err.to_string();
    assert!(text.contains("page cap (3 requests"), "{text}");
    assert!(text.contains("KEYCTL_MAX_PAGES"), "{text}");
    assert_eq!(emu.state().huawei.kps_requests(), 3);

    // Raised far enough, the same walk lists everything.
    let (code, keys, _) = list(
        &sb,
        &["--profile", "hw", "--page-size", "5"],
        &[("KEYCTL_MAX_PAGES", "100")],
    );
    assert_eq!(code, 0);
    assert_eq!(keys.len(), total);
}

#[test]
fn an_offset_walk_refuses_a_total_past_the_key_pair_cap_after_one_request() {
    let (emu, sb) = setup();
    let total = emu.state().config.tencent.keys.len();
    assert!(total > 10);
    let (code, _, err) = list(
        &sb,
        &["--profile", "tc", "--page-size", "10"],
        &[("KEYCTL_MAX_KEYPAIRS", "10")],
    );
    assert_ne!(code, 0);
    let err = err.expect("an error line");
    assert_eq!(err["kind"], "protocol", "{err}");
    let text = err.to_string();
    assert!(text.contains(&format!("TotalCount is {total}")), "{text}");
    assert!(text.contains("KEYCTL_MAX_KEYPAIRS"), "{text}");
    assert_eq!(emu.state().tencent.requests(), 1);
}

#[test]
fn a_cap_that_is_not_a_number_is_a_config_error_before_any_request() {
    let (emu, sb) = setup();
    let (code, _, err) = list(&sb, &["--profile", "hw"], &[("KEYCTL_MAX_PAGES", "lots")]);
    assert_eq!(code, 3, "{err:?}");
    assert!(err.unwrap().to_string().contains("KEYCTL_MAX_PAGES"));
    assert_eq!(emu.state().huawei.kps_requests(), 0);
}
