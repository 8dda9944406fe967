//! `keyctl-emulator`: the emulator library as a process, for the demo (scripts/demo.sh), the
//! benchmarks (bench/) and trying keyctl by hand. One loopback port serves every API.
//!
//! ```text
//! keyctl-emulator --port 0 --write-config /tmp/keyctl.toml
//! KEYCTL_CONFIG=/tmp/keyctl.toml keyctl list
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

use keyctl_emulator::{huawei, keyctl_config, nova, tencent, Config, Emulator};

/// A local emulator of the Huawei KPS, Huawei ECS, OpenStack Keystone+Nova and Tencent CVM key
/// pair APIs (real wire formats, real signature checks), on 127.0.0.1.
#[derive(Parser, Debug)]
#[command(name = "keyctl-emulator", version)]
struct Args {
    /// Port on 127.0.0.1 (0 = any free port; the chosen one is printed on stderr).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Least time from a request to its reply, in milliseconds (a model of a real network;
    /// the reply is built within it).
    #[arg(long, default_value_t = 0, value_name = "MS")]
    latency_ms: u64,
    /// Fraction (0–1) of requests answered as throttled, each cloud in its own wire format.
    #[arg(long, default_value_t = 0.0, value_name = "F", value_parser = fraction)]
    throttle_rate: f64,
    /// Fraction (0–1) of requests answered with a server error.
    #[arg(long, default_value_t = 0.0, value_name = "F", value_parser = fraction)]
    error_rate: f64,
    /// Fraction (0–1) of replies damaged on the way out (a value of the wrong type, the body
    /// cut short, another status, an odd header…), each damage printed on stderr: keyctl
    /// must answer every one with a clear error or a usable result.
    #[arg(long, default_value_t = 0.0, value_name = "F", value_parser = fraction)]
    mangle_rate: f64,
    /// Seed of the fault and damage dice, so a run is reproducible.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Serve N generated Huawei KPS key pairs (hw-00001 …) instead of the demo set.
    #[arg(long, value_name = "N")]
    huawei_keys: Option<usize>,
    /// Serve N generated Nova key pairs for the admin user (os-00001 …; also what Huawei ECS
    /// serves) instead of the demo set.
    #[arg(long, value_name = "N")]
    nova_keys: Option<usize>,
    /// Serve N generated Tencent CVM key pairs (tc_00001 …) instead of the demo set.
    #[arg(long, value_name = "N")]
    tencent_keys: Option<usize>,
    /// Tencent requests per second per SecretId, as the real API enforces (0 = no limit).
    #[arg(long, default_value_t = tencent::DEFAULT_RATE_LIMIT, value_name = "N")]
    tencent_rate_limit: u32,
    /// The Tencent SecretId to accept instead of the demo one. Each SecretId has its own rate
    /// limit (in the API and in keyctl), so benchmarks give each emulated account its own.
    /// Repeat it for more SecretIds (same SecretKey, each its own limit); the written config
    /// names the first.
    #[arg(long, value_name = "ID")]
    tencent_secret_id: Vec<String>,
    /// Once listening, write a keyctl config (mode 0600) with profiles hw, hw-ecs, os and tc
    /// pointing at this emulator, with its demo credentials inline.
    #[arg(long, value_name = "PATH")]
    write_config: Option<PathBuf>,
}

fn fraction(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(f) if (0.0..=1.0).contains(&f) => Ok(f),
        _ => Err(format!("`{s}` is not a fraction between 0 and 1")),
    }
}

fn config(args: &Args) -> Config {
    let mut config = Config {
        latency: Duration::from_millis(args.latency_ms),
        ..Default::default()
    };
    config.faults.throttle_rate = args.throttle_rate;
    config.faults.error_rate = args.error_rate;
    config.faults.seed = args.seed;
    config.mangle = keyctl_emulator::mangle::MangleConfig {
        rate: args.mangle_rate,
        seed: args.seed,
        echo: true,
    };
    if let Some(n) = args.huawei_keys {
        config.huawei.keys = huawei::generated_keys(n);
    }
    if let Some(n) = args.nova_keys {
        config.nova.admin_keys = nova::generated_keys(n);
    }
    if let Some(n) = args.tencent_keys {
        config.tencent.keys = tencent::generated_keys(n);
    }
    config.tencent.rate_limit_per_sec = args.tencent_rate_limit;
    if let Some((first, more)) = args.tencent_secret_id.split_first() {
        config.tencent.secret_id = first.clone();
        config.tencent.more_secret_ids = more.to_vec();
    }
    config
}

/// Writes `text` to `path` with mode 0600, through a temporary file renamed into place, so a
/// script polling for the file never reads half of it.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&tmp)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// Resolves when the process is asked to stop (SIGINT, or SIGTERM on Unix).
async fn stop_requested() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let config = config(&args);
    let counts = (
        config.huawei.keys.len(),
        config.nova.admin_keys.len(),
        config.tencent.keys.len(),
    );
    let emulator = match Emulator::start_on(config.clone(), args.port) {
        Ok(e) => e,
        Err(e) => {
            eprintln!(
                "keyctl-emulator: cannot listen on 127.0.0.1:{}: {e}",
                args.port
            );
            return ExitCode::FAILURE;
        }
    };
    let url = emulator.url();
    if let Some(path) = &args.write_config {
        if let Err(e) = write_private(path, &keyctl_config(&url, &config)) {
            eprintln!(
                "keyctl-emulator: cannot write the config {}: {e}",
                path.display()
            );
            return ExitCode::FAILURE;
        }
    }
    eprintln!("keyctl-emulator listening on {url}");
    eprintln!(
        "  key pairs: huawei {}, nova/ecs {}, tencent {}; latency {} ms; tencent limit {}",
        counts.0,
        counts.1,
        counts.2,
        args.latency_ms,
        match args.tencent_rate_limit {
            0 => "off".to_string(),
            n => format!("{n}/s"),
        }
    );
    if let Some(path) = &args.write_config {
        eprintln!("  keyctl config: {}", path.display());
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("keyctl-emulator: cannot start the signal runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(stop_requested());
    // Dropping the emulator shuts the server down gracefully and joins its thread.
    drop(emulator);
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_key_sets_replace_the_demo_sets() {
        let args = Args::parse_from([
            "keyctl-emulator",
            "--huawei-keys",
            "7",
            "--nova-keys",
            "5",
            "--tencent-keys",
            "3",
            "--tencent-rate-limit",
            "0",
            "--tencent-secret-id",
            "AKIDbench1",
            "--tencent-secret-id",
            "AKIDbench2",
        ]);
        let c = config(&args);
        assert_eq!(c.huawei.keys.len(), 7);
        assert_eq!(c.nova.admin_keys.len(), 5);
        assert_eq!(c.tencent.keys.len(), 3);
        assert_eq!(c.tencent.rate_limit_per_sec, 0);
        assert_eq!(c.tencent.secret_id, "AKIDbench1");
        assert_eq!(c.tencent.more_secret_ids, ["AKIDbench2"]);
        assert_eq!(c.huawei.keys[0].name, "hw-00001");
    }

    #[test]
    fn demo_sets_kept_without_counts() {
        let c = config(&Args::parse_from(["keyctl-emulator"]));
        assert!(c.huawei.keys.iter().any(|k| k.name == "hw key with spaces"));
        assert!(c.nova.admin_keys.iter().any(|k| k.name == "x509-cert"));
        assert_eq!(c.tencent.rate_limit_per_sec, tencent::DEFAULT_RATE_LIMIT);
    }

    #[test]
    fn fractions_outside_0_1_are_refused() {
        assert!(fraction("0.5").is_ok());
        assert!(fraction("1.5").is_err());
        assert!(fraction("-0.1").is_err());
        assert!(fraction("x").is_err());
    }

    #[test]
    fn written_config_is_private_and_complete() {
        let dir = std::env::temp_dir().join(format!("keyctl-emu-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config.toml");
        let c = Config::default();
        write_private(&path, &keyctl_config("http://127.0.0.1:1", &c)).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        for p in ["hw", "hw-ecs", "os", "tc"] {
            assert!(text.contains(&format!("[profiles.{p}]")), "{p}");
        }
        assert!(text.contains("auth_url = \"http://127.0.0.1:1/v3\""));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
