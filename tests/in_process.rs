//! Commands run in this process through the library's entry points (`cli::parse`, `cli::run`),
//! over in-memory streams with the terminal facts each test chooses, against the in-process
//! emulator: no binary is spawned. The binary's own behaviour (signals, real pipes) stays in
//! tests/cli.rs and tests/e2e.rs.

mod common;

use std::io::Write;
use std::sync::Mutex;

use common::Sandbox;
use keyctl::cli::{self, Captured, IoStreams};
use keyctl_emulator::{huawei, tencent, Config, Emulator};
use serde_json::Value;

/// The diagnostics' sink and verbosity are the process's: one command at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// A config of two profiles against `url` with inline secrets: the test process's environment
/// is shared by every test, so no secret comes from it.
fn config(sb: &Sandbox, url: &str) -> String {
    let path = sb.write_config(&format!(
        r#"[profiles.hw]
provider = "huawei"
region = "cn-north-4"
endpoint = "{url}"
project_id = "{project}"
access_key = "{ak}"
secret_key = "{hw_sk}"

[profiles.tc]
provider = "tencent"
region = "ap-guangzhou"
endpoint = "{url}"
secret_id = "{sid}"
secret_key = "{tc_sk}"
"#,
        project = huawei::DEMO_PROJECT_ID,
        ak = huawei::DEMO_ACCESS_KEY,
        hw_sk = huawei::DEMO_SECRET_KEY,
        sid = tencent::DEMO_SECRET_ID,
        tc_sk = tencent::DEMO_SECRET_KEY,
    ));
    path.to_string_lossy().into_owned()
}

struct Run {
    code: i32,
    out: String,
    err: String,
}

/// `keyctl ARGS` with `io`, as the binary runs it (parse, then the command on a runtime).
fn keyctl(io: IoStreams, out: &Captured, err: &Captured, args: &[&str]) -> Run {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let argv = std::iter::once("keyctl").chain(args.iter().copied());
    let code = match cli::parse(argv, &io) {
        Ok(parsed) => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
            .block_on(cli::run(parsed, &io)),
        Err(code) => code,
    };
    Run {
        code,
        out: out.text(),
        err: err.text(),
    }
}

/// `keyctl ARGS --config …` over captured streams: stdout a terminal or not, `NO_COLOR` set or
/// not.
fn run_with(cfg: &str, args: &[&str], tty: bool, no_color: bool) -> Run {
    let (io, out, err) = IoStreams::capture();
    let io = io
        .with_terminals(false, tty, false)
        .with_no_color(no_color)
        .with_width(tty.then_some(120));
    let args: Vec<&str> = args.iter().copied().chain(["--config", cfg]).collect();
    keyctl(io, &out, &err, &args)
}

fn run(cfg: &str, args: &[&str]) -> Run {
    run_with(cfg, args, false, false)
}

fn setup() -> (Emulator, Sandbox, String) {
    let emu = Emulator::start(Config::default());
    let sb = Sandbox::new();
    let cfg = config(&sb, &emu.url());
    (emu, sb, cfg)
}

fn key_count(emu: &Emulator) -> usize {
    emu.state().config.huawei.keys.len() + emu.state().config.tencent.keys.len()
}

#[test]
fn list_as_json_in_process() {
    let (emu, _sb, cfg) = setup();
    let r = run(&cfg, &["list", "-o", "json"]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(r.err, "");
    let v: Vec<Value> = serde_json::from_str(&r.out).unwrap();
    assert_eq!(v.len(), key_count(&emu));
    assert_eq!(v[0]["provider"], "huawei");
    assert_eq!(v[v.len() - 1]["provider"], "tencent");
}

#[test]
fn a_table_is_coloured_on_a_terminal_unless_no_color() {
    let (emu, _sb, cfg) = setup();
    let esc = '\u{1b}';
    // A terminal, NO_COLOR unset: the default format is a table, its header bold.
    let tty = run_with(&cfg, &["list"], true, false);
    assert_eq!(tty.code, 0, "{}", tty.err);
    assert!(
        tty.out.contains("\u{1b}[1mPROFILE\u{1b}[0m"),
        "{:?}",
        tty.out
    );
    assert_eq!(tty.out.lines().count(), 1 + key_count(&emu));

    // The same table without colour: NO_COLOR on a terminal, or a table asked for in a pipe.
    let no_color = run_with(&cfg, &["list"], true, true);
    let piped = run_with(&cfg, &["list", "-o", "table"], false, false);
    assert!(!no_color.out.contains(esc), "{:?}", no_color.out);
    assert_eq!(no_color.out, piped.out);
    assert!(piped.out.starts_with("PROFILE"), "{:?}", piped.out);
    let stripped = tty.out.replace("\u{1b}[1m", "").replace("\u{1b}[0m", "");
    assert_eq!(stripped, piped.out);

    // `--color always` in a pipe; the default format in a pipe is TSV.
    let forced = run_with(
        &cfg,
        &["list", "-o", "table", "--color", "always"],
        false,
        false,
    );
    assert_eq!(forced.out, tty.out);
    let tsv = run_with(&cfg, &["list"], false, false);
    assert!(!tsv.out.contains(esc) && tsv.out.lines().all(|l| l.contains('\t')));
}

#[test]
fn a_usage_error_exits_2_with_its_error_and_hint_on_stderr() {
    let (_emu, _sb, cfg) = setup();
    let r = run(&cfg, &["list", "--sort", "nope"]);
    assert_eq!(r.code, 2);
    assert_eq!(r.out, "");
    let fields = keyctl::model::FIELDS.join(", ");
    assert_eq!(
        r.err,
        format!("error: cannot sort by unknown field `nope`\nhint: fields: {fields}\n")
    );

    let json = run(&cfg, &["list", "--sort", "nope", "--errors", "json"]);
    assert_eq!(json.code, 2);
    let v: Value = serde_json::from_str(json.err.trim_end()).unwrap();
    assert_eq!(v["error"], "cannot sort by unknown field `nope`");
    assert_eq!(v["kind"], "usage");
    assert_eq!(v["exit_code"], 2);
}

#[test]
fn flags_clap_refuses_are_usage_errors_on_the_injected_stderr() {
    let (io, out, err) = IoStreams::capture();
    let r = keyctl(io, &out, &err, &["list", "--bogus"]);
    assert_eq!(r.code, 2);
    assert_eq!(r.out, "");
    assert!(
        r.err.starts_with("error: unexpected argument '--bogus'"),
        "{:?}",
        r.err
    );
    assert!(!r.err.contains('\u{1b}'), "not a terminal: {:?}", r.err);

    let (io, out, err) = IoStreams::capture();
    let r = keyctl(io, &out, &err, &["list", "--bogus", "--errors", "json"]);
    assert_eq!(r.code, 2);
    let v: Value = serde_json::from_str(r.err.trim_end()).unwrap();
    assert_eq!(v["kind"], "usage");
    assert_eq!(v["error"], "unexpected argument '--bogus' found");

    let (io, out, err) = IoStreams::capture();
    let r = keyctl(io, &out, &err, &["--version"]);
    assert_eq!((r.code, r.err.as_str()), (0, ""));
    assert_eq!(r.out, format!("keyctl {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn profiles_in_process() {
    let (_emu, _sb, cfg) = setup();
    let r = run(&cfg, &["profiles", "-o", "json"]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(!r.out.contains(huawei::DEMO_SECRET_KEY) && !r.out.contains(tencent::DEMO_SECRET_KEY));
    let v: Vec<Value> = serde_json::from_str(&r.out).unwrap();
    let names: Vec<&str> = v.iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["hw", "tc"]);
    assert_eq!(v[0]["credentials"]["secret_key"], "inline in config");

    let table = run_with(&cfg, &["profiles"], true, true);
    assert_eq!(table.code, 0);
    assert!(table.out.starts_with("NAME"), "{:?}", table.out);
    assert_eq!(table.out.lines().count(), 3);
}

#[test]
fn diagnostics_of_a_run_go_to_its_stderr() {
    let (_emu, _sb, cfg) = setup();
    let r = run(&cfg, &["list", "-o", "name", "-vv"]);
    assert_eq!(r.code, 0, "{}", r.err);
    // -vv traces every request, credentials redacted.
    assert!(
        r.err.contains("> GET ") && r.err.contains("< 200 "),
        "{:?}",
        r.err
    );
    assert!(r.err.contains("Authorization: <redacted>"), "{:?}", r.err);
    assert!(!r.err.contains(huawei::DEMO_SECRET_KEY));
    let quiet = run(&cfg, &["list", "-o", "name"]);
    assert_eq!(quiet.err, "");
}

#[test]
fn stdin_is_the_injected_one() {
    let (_emu, _sb, cfg) = setup();
    let (io, out, err) = IoStreams::capture();
    let io = io.with_stdin(Box::new(std::io::Cursor::new(b"ssh-rsa !!!\n".to_vec())));
    let r = keyctl(io, &out, &err, &["find", "-", "--config", &cfg]);
    assert_eq!(r.code, 2, "{}", r.err);
    assert!(r.err.starts_with("error: "), "{:?}", r.err);
}

/// A stdout that fails every write with `kind`.
struct Failing(std::io::ErrorKind);

impl Write for Failing {
    fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
        Err(std::io::Error::new(self.0, "refused by the test"))
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_reader_that_left_is_exit_0_and_a_failed_write_is_an_error() {
    let (_emu, _sb, cfg) = setup();
    for (kind, code) in [
        (std::io::ErrorKind::BrokenPipe, 0),
        (std::io::ErrorKind::StorageFull, 1),
    ] {
        for args in [&["list", "-o", "json"][..], &["profiles"][..]] {
            let err = Captured::default();
            let io = IoStreams::new(
                Box::new(std::io::empty()),
                Box::new(Failing(kind)),
                Box::new(err.clone()),
            );
            let args: Vec<&str> = args.iter().copied().chain(["--config", &cfg]).collect();
            let r = keyctl(io, &Captured::default(), &err, &args);
            assert_eq!(r.code, code, "{kind:?} {args:?}: {}", r.err);
            if code == 0 {
                assert_eq!(r.err, "");
            } else {
                assert_eq!(
                    r.err, "error: cannot write output: refused by the test\n",
                    "{args:?}"
                );
            }
        }
    }
}
