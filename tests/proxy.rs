//! The binary through HTTP and SOCKS5 proxies taken from the standard variables. The profiles
//! name a host only the proxy can resolve (`cloud.keyctl.test`, mapped to the emulator), so a
//! listing that answers went through the proxy; the proxy's password never shows.

mod common;

use common::Sandbox;
use keyctl_emulator::{huawei, proxy, tencent, Config, Emulator};
use serde_json::Value;

const HW_SK: &str = huawei::DEMO_SECRET_KEY;
/// Holds a `/`, sent percent-encoded in the variable.
const PASSWORD: &str = "px/pass-word-4417";
const PASSWORD_IN_URL: &str = "px%2Fpass-word-4417";
/// Only the proxies resolve it (`.test` is reserved, RFC 2606).
const HOST: &str = "cloud.keyctl.test";

/// The emulator, and a sandbox whose profiles name it by a host only a proxy can resolve.
fn behind_a_proxy(scheme: &str) -> (Emulator, Sandbox) {
    let emu = Emulator::start(Config::default());
    let sb = Sandbox::new();
    sb.write_config(&common::hw_and_tc_config(&format!("{scheme}://{HOST}")));
    (emu, sb)
}

fn credentials() -> proxy::Credentials {
    Some(("alice".into(), PASSWORD.into()))
}

/// keyctl with `vars` set in its (otherwise empty) environment.
fn run(sb: &Sandbox, vars: &[(&str, String)], args: &[&str]) -> (i32, String, String) {
    let mut cmd = sb.cmd();
    cmd.env("HW_SK", HW_SK);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = cmd.args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn assert_no_password(text: &str) {
    let basic = base64_of(&format!("alice:{PASSWORD}"));
    for secret in [PASSWORD, PASSWORD_IN_URL, basic.as_str()] {
        assert!(!text.contains(secret), "the proxy password leaked: {text}");
    }
}

fn base64_of(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn names(stdout: &str) -> Vec<String> {
    let v: Vec<Value> = serde_json::from_str(stdout).unwrap();
    v.iter()
        .map(|k| k["name"].as_str().unwrap().to_string())
        .collect()
}

fn expected_count(emu: &Emulator) -> usize {
    emu.state().config.huawei.keys.len() + emu.state().config.tencent.keys.len()
}

#[test]
fn an_http_proxy_carries_every_request_and_its_password_never_shows() {
    let (emu, sb) = behind_a_proxy("http");
    let px = proxy::http(emu.addr, credentials());
    let vars = [(
        "HTTP_PROXY",
        format!("http://alice:{PASSWORD_IN_URL}@{}", px.addr),
    )];
    let (code, out, err) = run(&sb, &vars, &["list", "-o", "json", "-vv"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(names(&out).len(), expected_count(&emu));
    let log = px.log();
    assert!(
        log.iter()
            .any(|l| l.starts_with(&format!("GET http://{HOST}/v3/"))),
        "{log:?}"
    );
    assert!(
        log.iter().any(|l| l == &format!("POST http://{HOST}/")),
        "{log:?}"
    );
    assert!(!log.iter().any(|l| l.ends_with("(refused)")), "{log:?}");
    assert!(
        err.contains(&format!(
            "keyctl: proxy: https direct; http through http://{} (HTTP_PROXY)",
            px.addr
        )),
        "{err}"
    );
    assert_no_password(&out);
    assert_no_password(&err);
}

#[test]
fn a_proxy_that_wants_other_credentials_is_a_config_error_not_retried() {
    let (emu, sb) = behind_a_proxy("http");
    let px = proxy::http(emu.addr, credentials());
    let vars = [(
        "http_proxy",
        format!("http://alice:wrong-pass-0@{}", px.addr),
    )];
    let (code, out, err) = run(&sb, &vars, &["list", "-o", "json", "-p", "hw"]);
    assert_eq!(code, 3, "{err}");
    assert_eq!(out, "", "nothing listed, nothing printed");
    assert!(
        err.contains(&format!(
            "the proxy http://{} (http_proxy) asks for credentials to reach {HOST} (HTTP 407",
            px.addr
        )),
        "{err}"
    );
    assert!(
        err.contains("hint: put the proxy's user and password in http_proxy"),
        "{err}"
    );
    assert!(!err.contains("wrong-pass-0"), "{err}");
    assert_eq!(px.log().len(), 1, "a 407 is not retried: {:?}", px.log());
}

#[test]
fn a_connect_tunnel_refused_for_credentials_names_the_proxy() {
    // An https endpoint goes through CONNECT; the proxy refuses it before any TLS.
    let (emu, sb) = behind_a_proxy("https");
    let px = proxy::http(emu.addr, credentials());
    let vars = [("HTTPS_PROXY", format!("http://{}", px.addr))];
    let (code, _, err) = run(&sb, &vars, &["list", "-o", "json", "-p", "hw"]);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains(&format!(
            "the proxy http://{} (HTTPS_PROXY) refused its credentials for {HOST}:443",
            px.addr
        )),
        "{err}"
    );
    assert_eq!(
        px.log(),
        vec![format!("CONNECT {HOST}:443 (refused)")],
        "not retried"
    );
}

#[test]
fn socks5h_resolves_names_at_the_proxy() {
    let (emu, sb) = behind_a_proxy("http");
    let px = proxy::socks5(emu.addr, credentials());
    let vars = [(
        "ALL_PROXY",
        format!("socks5h://alice:{PASSWORD_IN_URL}@{}", px.addr),
    )];
    let (code, out, err) = run(&sb, &vars, &["list", "-o", "json", "-vv"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(names(&out).len(), expected_count(&emu));
    assert!(
        px.log().iter().all(|l| l == &format!("SOCKS {HOST}:80")),
        "{:?}",
        px.log()
    );
    assert_no_password(&err);

    let vars = [(
        "ALL_PROXY",
        format!("socks5h://alice:nope-1234@{}", px.addr),
    )];
    let (code, _, err) = run(&sb, &vars, &["list", "-o", "json", "-p", "tc"]);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains(&format!(
            "the proxy socks5h://{} (ALL_PROXY) refused its credentials",
            px.addr
        )),
        "{err}"
    );
    assert!(!err.contains("nope-1234"), "{err}");
}

#[test]
fn no_proxy_and_an_unusable_value_connect_directly() {
    let emu = Emulator::start(Config::default());
    let sb = Sandbox::new();
    sb.write_config(&common::hw_and_tc_config(&emu.url()));
    // A proxy that is not there, which 127.0.0.1 is exempt from.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let vars = [
        ("HTTP_PROXY", dead.clone()),
        ("NO_PROXY", "localhost,127.0.0.1".to_string()),
    ];
    let (code, out, err) = run(&sb, &vars, &["list", "-o", "json"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(names(&out).len(), expected_count(&emu));

    // Without the exemption the same dead proxy is named in the error (one attempt: a dead
    // proxy is retried like any connection failure, which is not what this test is about).
    sb.write_config(&format!(
        "max_attempts = 1\n{}",
        common::hw_and_tc_config(&emu.url())
    ));
    let vars = [("HTTP_PROXY", dead.clone())];
    let (code, _, err) = run(
        &sb,
        &vars,
        &["list", "-o", "json", "-p", "hw", "--timeout", "5"],
    );
    assert_ne!(code, 0);
    assert!(
        err.contains(&format!("through the proxy {dead} (HTTP_PROXY)")),
        "{err}"
    );
    assert!(err.contains("or add 127.0.0.1 to NO_PROXY"), "{err}");

    // A value the proxy matcher cannot use is named, then ignored.
    let vars = [("HTTP_PROXY", "ftp://bob:ftp-pw-5521@mirror:21".to_string())];
    let (code, out, err) = run(&sb, &vars, &["list", "-o", "json"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(names(&out).len(), expected_count(&emu));
    assert!(
        err.contains(
            "warning: ignoring HTTP_PROXY: `ftp://bob:<redacted>@mirror:21` is not a proxy URL"
        ),
        "{err}"
    );
    assert!(!err.contains("ftp-pw-5521"), "{err}");
}

#[test]
fn a_profile_s_own_proxy_replaces_the_environment_s() {
    let emu = Emulator::start(Config::default());
    let http_px = proxy::http(emu.addr, credentials());
    let socks_px = proxy::socks5(emu.addr, None);
    let sb = Sandbox::new();
    // hw through an HTTP proxy with a password, tc through SOCKS5, both by a name only the
    // proxies know; the environment's proxy is dead and must not be used by either.
    let config = format!(
        r#"[profiles.hw]
provider = "huawei"
region = "cn-north-4"
endpoint = "http://{HOST}"
proxy = "http://alice:{PASSWORD_IN_URL}@{http}"
project_id = "{project}"
access_key = "{ak}"
secret_key_env = "HW_SK"

[profiles.tc]
provider = "tencent"
region = "ap-guangzhou"
endpoint = "http://{HOST}"
proxy = "socks5h://{socks}"
secret_id = "{sid}"
secret_key = "{tc_sk}"

[profiles.direct]
provider = "huawei"
region = "cn-north-4"
endpoint = "{direct}"
proxy = "none"
project_id = "{project}"
access_key = "{ak}"
secret_key_env = "HW_SK"
"#,
        http = http_px.addr,
        socks = socks_px.addr,
        direct = emu.url(),
        project = huawei::DEMO_PROJECT_ID,
        ak = huawei::DEMO_ACCESS_KEY,
        sid = tencent::DEMO_SECRET_ID,
        tc_sk = tencent::DEMO_SECRET_KEY,
    );
    sb.write_config(&config);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let vars = [
        ("HTTP_PROXY", dead),
        ("HTTPS_PROXY", "http://127.0.0.1:9".to_string()),
    ];
    let (code, out, err) = run(&sb, &vars, &["list", "-o", "json", "-vv"]);
    assert_eq!(code, 0, "{err}");
    let hw = emu.state().config.huawei.keys.len();
    assert_eq!(
        names(&out).len(),
        2 * hw + emu.state().config.tencent.keys.len()
    );
    assert!(!http_px.log().is_empty() && !socks_px.log().is_empty());
    assert!(
        http_px
            .log()
            .iter()
            .all(|l| l.starts_with(&format!("GET http://{HOST}/v3/"))),
        "only hw's requests: {:?}",
        http_px.log()
    );
    assert!(
        err.contains(&format!(
            "keyctl: profile tc: proxy socks5h://{}",
            socks_px.addr
        )),
        "{err}"
    );
    assert!(
        err.contains("keyctl: profile direct: no proxy (proxy = \"none\")"),
        "{err}"
    );
    assert_no_password(&out);
    assert_no_password(&err);

    // `profiles` shows the setting without its password.
    let (code, out, err) = run(&sb, &[], &["profiles", "-o", "json"]);
    assert_eq!(code, 0, "{err}");
    assert_no_password(&out);
    assert_no_password(&err);

    // A value that is not a proxy is a config error naming the file and line.
    sb.write_config(&config.replace("socks5h://", "ftp://"));
    let (code, _, err) = run(&sb, &[], &["list", "-o", "json"]);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("config.toml:14: profile `tc`: proxy `ftp://"),
        "{err}"
    );
}
