//! The completion scripts, run in the real shells: bash always, zsh and fish where they are
//! installed (CI installs them where it can). Each test completes command lines against a
//! sandbox whose default config has the profiles `alpha`, `beta` and `gamma-x`, and whose
//! `other.toml` (named with `--config`) has `other-one` and `other-two`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::Sandbox;

struct Shells {
    sb: Sandbox,
    other: PathBuf,
    /// PATH with keyctl's directory first, as an installed keyctl would be.
    path: String,
}

impl Shells {
    fn new() -> Shells {
        let sb = Sandbox::new();
        sb.write_config(
            "[profiles.alpha]\nprovider = \"huawei\"\nregion = \"cn-north-4\"\nproject_id = \"p\"\n\
             access_key_env = \"AK\"\nsecret_key_env = \"SK\"\n\n\
             [profiles.beta]\nprovider = \"tencent\"\nregion = \"ap-guangzhou\"\n\
             secret_id_env = \"SI\"\nsecret_key_env = \"SK\"\n\n\
             [profiles.gamma-x]\nprovider = \"openstack\"\nauth_url = \"http://127.0.0.1:1/v3\"\n\
             username = \"u\"\npassword_env = \"PW\"\nproject_name = \"p\"\n",
        );
        let other = sb.home().join("other.toml");
        std::fs::write(
            &other,
            "[profiles.other-one]\nprovider = \"tencent\"\nregion = \"r\"\nsecret_id_env = \"A\"\nsecret_key_env = \"B\"\n\n\
             [profiles.other-two]\nprovider = \"tencent\"\nregion = \"r\"\nsecret_id_env = \"A\"\nsecret_key_env = \"B\"\n",
        )
        .unwrap();
        common::chmod(&other, 0o600);
        let bin = assert_cmd::cargo::cargo_bin("keyctl");
        let path = format!(
            "{}:{}",
            bin.parent().unwrap().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        Shells { sb, other, path }
    }

    /// The sandbox, or `None` (said on stderr) when `program` is not installed.
    fn for_shell(program: &str) -> Option<Shells> {
        let installed = Command::new(program)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !installed {
            eprintln!("skipped: {program} is not installed (CI installs it where it can)");
        }
        installed.then(Shells::new)
    }

    /// `keyctl completions SHELL`, saved in the sandbox as `name`.
    fn script(&self, shell: &str, name: &str) -> PathBuf {
        let out = self
            .sb
            .std_cmd()
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success(), "completions {shell}");
        let path = self.sb.home().join(name);
        std::fs::write(&path, out.stdout).unwrap();
        path
    }

    /// A shell run in the sandbox's environment.
    fn shell(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env_clear()
            .env("HOME", self.sb.home())
            .env("XDG_CONFIG_HOME", self.sb.home().join(".config"))
            .env("PATH", &self.path)
            .env("TERM", "dumb");
        c
    }

    /// The command lines every shell is asked to complete, with what it must offer, for
    /// `--config` given as `config`.
    fn cases(&self) -> Vec<(String, Vec<&'static str>)> {
        let other = self.other.display();
        vec![
            ("keyctl list -p ".into(), vec!["alpha", "beta", "gamma-x"]),
            ("keyctl show --profile g".into(), vec!["gamma-x"]),
            (
                format!("keyctl list --config {other} -p "),
                vec!["other-one", "other-two"],
            ),
            (
                "keyctl list --columns fingerprint_s".into(),
                vec!["fingerprint_sha256"],
            ),
            (
                "keyctl profiles --columns name,cre".into(),
                vec!["name,credentials"],
            ),
            ("keyctl list --sort crea".into(), vec!["created_at"]),
            (
                "keyctl list --provider h".into(),
                vec!["huawei", "huawei-ecs"],
            ),
            ("keyctl list --type ".into(), vec!["ssh", "x509"]),
        ]
    }
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v.dedup();
    v
}

fn expect(line: &str, got: Vec<String>, want: &[&str]) {
    let want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
    assert_eq!(sorted(got), sorted(want), "completing `{line}`");
}

/// bash: `_keyctl` called as bash calls it, with COMP_WORDS split the way readline splits them
/// (at spaces, and around `=` and `:`).
fn bash_complete(shells: &Shells, script: &Path, line: &str) -> Vec<String> {
    let mut bash = shells.shell("bash");
    bash.args([
        "-c",
        r#"source "$1"
           line="$2"
           COMP_LINE="$line"; COMP_POINT=${#line}
           read -r -a COMP_WORDS <<< "$line"
           [[ "$line" == *" " ]] && COMP_WORDS+=("")
           COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
           _keyctl keyctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
           printf '%s\n' "${COMPREPLY[@]}""#,
        "bash",
    ])
    .arg(script)
    .arg(line);
    stdout_of(bash)
        .lines()
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

/// What `command` printed; it must have succeeded.
fn stdout_of(mut command: Command) -> String {
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn bash_completes_profiles_fields_and_fixed_values() {
    let shells = Shells::new();
    let script = shells.script("bash", "keyctl.bash");
    for (line, want) in shells.cases() {
        expect(&line, bash_complete(&shells, &script, &line), &want);
    }
    // bash only: a comma list goes on after its last comma, and `--sort -…` is descending.
    expect(
        "keyctl -p alpha,g",
        bash_complete(&shells, &script, "keyctl list -p alpha,g"),
        &["alpha,gamma-x"],
    );
    expect(
        "keyctl list --sort -bi",
        bash_complete(&shells, &script, "keyctl list --sort -bi"),
        &["-bits"],
    );
    // A config keyctl cannot read offers nothing (bash then falls back to file names).
    let bad = format!(
        "keyctl list --config {}/nope.toml -p ",
        shells.sb.home().display()
    );
    expect(&bad, bash_complete(&shells, &script, &bad), &[]);
}

/// zsh drives completion from its line editor only, so it runs in a pseudo-terminal (zpty):
/// compinit loads the script from `fpath`, `compadd` is wrapped to log every candidate to a
/// file, and a TAB after the line completes it.
const ZSH_HARNESS: &str = r#"
zmodload zsh/zpty
dir=$1; log=$2; line=$3
rm -f $log
zpty -b z zsh -f -i
zpty -w z "PS1='> '; fpath=($dir \$fpath); autoload -U compinit; compinit -u -D"
zpty -w z 'compadd() { local -a got; builtin compadd -O got "$@"; (( $#got )) && print -rl -- $got >> '$log'; builtin compadd "$@" }'
zpty -w z "echo READY-\$((40+2))"
out=''
for i in {1..250}; do zpty -r -t z chunk && out+=$chunk; [[ $out == *READY-42* ]] && break; sleep 0.02; done
zpty -w -n z "$line"$'\t'
for i in {1..250}; do [[ -s $log ]] && break; sleep 0.02; done
sleep 0.3
zpty -d z
cat $log 2>/dev/null
true
"#;

#[test]
fn zsh_completes_profiles_fields_and_fixed_values() {
    let Some(shells) = Shells::for_shell("zsh") else {
        return;
    };
    let dir = shells.sb.home().join("zfunc");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::rename(shells.script("zsh", "_keyctl"), dir.join("_keyctl")).unwrap();
    let harness = shells.sb.home().join("harness.zsh");
    std::fs::write(&harness, ZSH_HARNESS).unwrap();
    let log = shells.sb.home().join("candidates.txt");
    let mut cases = shells.cases();
    // zsh completes the last element of a comma list itself, and leaves out those given.
    cases.push(("keyctl list -p alpha,".into(), vec!["beta", "gamma-x"]));
    cases.push(("keyctl audit --columns se".into(), vec!["severity"]));
    for (line, want) in cases {
        let mut zsh = shells.shell("zsh");
        zsh.arg("-f").arg(&harness).arg(&dir).arg(&log).arg(&line);
        let got = stdout_of(zsh)
            .lines()
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect();
        // zsh offers a comma list's next element on its own.
        let want: Vec<&str> = want
            .iter()
            .map(|w| w.rsplit(',').next().unwrap_or(w))
            .collect();
        expect(&line, got, &want);
    }
}

#[test]
fn fish_completes_profiles_fields_and_fixed_values() {
    let Some(shells) = Shells::for_shell("fish") else {
        return;
    };
    let script = shells.script("fish", "keyctl.fish");
    let mut cases = shells.cases();
    cases.push(("keyctl list -p alpha,g".into(), vec!["alpha,gamma-x"]));
    for (line, want) in cases {
        let mut fish = shells.shell("fish");
        fish.args(["--no-config", "-c", "source $argv[1]; complete -C $argv[2]"])
            .arg(&script)
            .arg(&line);
        // One candidate a line, with its description after a tab.
        let got = stdout_of(fish)
            .lines()
            .map(|l| l.split('\t').next().unwrap_or("").to_string())
            .collect();
        expect(&line, got, &want);
    }
}
