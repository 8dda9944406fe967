#!/usr/bin/env python3
"""keyctl benchmarks: wall time and peak memory of `keyctl list` against the bundled emulator
(with a per-request latency), each compared with the least time the APIs allow (the "floor"),
beside the peers doing the same job. Python 3 standard library only. See BENCHMARKS.md.

    bench/run.sh                   the full run (1,000 and 10,000 key pairs, 5 runs, 20 ms)
    bench/run.sh --quick           1,000 key pairs, 3 runs, peers at 1,000 only
    bench/run.sh --runs 7 --latency-ms 50 --sizes 1000,10000,25000

Every timed command runs as a child process; its wall time is taken around fork/exec and
`wait4` (so it includes process start). Its peak memory comes from separate runs under
`/usr/bin/time -f %M`, whose own fork/exec would otherwise be inside the time. Medians over
the runs; peak memory is the largest.
"""

import argparse
import datetime
import json
import math
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
KEYCTL = os.path.join(ROOT, "target", "release", "keyctl")
EMULATOR = os.path.join(ROOT, "target", "release", "keyctl-emulator")
VENV = os.path.join(BENCH, ".venv")
PEER_PACKAGES = ["tccli", "huaweicloudsdkkps", "huaweicloudsdkcore"]

# The emulator's fixed demo credentials (emulator/src/{huawei,tencent}.rs).
HW_AK = "HWEMUAKDEMO0000000001"
HW_SK = "HwEmuSkDemo0000000000000000000000000000001"
HW_PROJECT = "7d3f1c9a52e84b6f9a0c1e2d3b4a5f60"
TC_KEY = "EmulatorSecretKey000000000000001"

# API page sizes and limits, as each API's reference documents them (the emulator serves the same).
HW_PAGE = 1000  # KPS v3 limit max
NOVA_PAGE = 1000  # Nova [api] max_limit default
TC_PAGE = 100  # CVM DescribeKeyPairs Limit max
TC_RATE = 10  # CVM DescribeKeyPairs requests per second per SecretId

ACCOUNTS = 4  # emulated accounts per cloud for the 12-profile case

# Runs follow each other at once, as hyperfine runs them: on a VM a process started after a
# second of idleness runs its first ~100 ms markedly slower, with more CPU time for the same
# work, which is the machine waking up, not the command. Tencent's 10 requests/s per SecretId
# would throttle a run that starts within a second of the last one's requests, so every
# emulated account accepts SLOTS SecretIds (each its own window, same key) and consecutive runs
# rotate through them. Each case is also timed with --idle-gap seconds of idleness before every
# run, reported beside, so that cost stays visible.
SLOTS = 24
TC_WINDOW = 1.1  # seconds after a run before its SecretIds are used again

ROUND_TRIP = re.compile(r"^< \d{3} ", re.M)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Measuring


def run_once(argv, env=None, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, rss=False):
    """Runs argv; returns (wall seconds, peak RSS in MB or None, exit status, CPU seconds).

    The CPU time is the child's user + system time from wait4, all its threads included (under
    /usr/bin/time it also holds the wrapper's own few hundred microseconds).

    With rss, the command runs under `/usr/bin/time -f %M`, which reports its peak RSS: the
    child's own ru_maxrss from wait4 would include the Python parent it was forked from (Linux
    carries the pre-exec high-water mark over, vfork or not). The wrapper's own fork/exec is
    then inside the wall time, so `measure` times other runs than the ones it takes memory from."""
    rss_file = None
    if rss:
        fd, rss_file = tempfile.mkstemp(prefix="keyctl-bench-rss-")
        os.close(fd)
        argv = ["/usr/bin/time", "-f", "%M", "-o", rss_file] + argv
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=stdout, stderr=stderr, close_fds=False)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = code = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    peak = None
    if rss_file:
        try:
            text = open(rss_file).read().split()
            peak = int(text[-1]) / 1024.0 if text else None
        except (OSError, ValueError):
            peak = None
        os.unlink(rss_file)
    return wall, peak, code, cpu


def cpu_ticks(pids):
    """User + system clock ticks used so far by the processes `pids` (all their threads, live
    and gone), from /proc/PID/stat; 0 for a process that is gone or on a system without /proc."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
        except (OSError, IndexError, ValueError):
            pass
    return total


CLOCK_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


# Runs per case under /usr/bin/time, for peak memory only (--memory-runs).
MEMORY_RUNS = 2
# Untimed runs before the timed ones of a case under a second (besides the -vv run).
WARMUP = 3


class Rotation:
    """The argv of each run of a case: the config of the next slot whose last run ended at least
    `window` seconds ago (waiting for one if need be). Cases that walk Tencent accounts turn
    through the SecretId slots with TC_WINDOW, which with SLOTS slots waits only when runs are
    shorter than TC_WINDOW / SLOTS; the others use one config and no window."""

    def __init__(self, configs, window):
        self.configs = configs
        self.window = window
        self.free_at = [0.0] * len(configs)
        self.slot = -1

    def argv(self, make):
        self.slot = (self.slot + 1) % len(self.configs)
        wait = self.free_at[self.slot] - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        return make(self.configs[self.slot])

    def done(self):
        self.free_at[self.slot] = time.monotonic() + self.window


def measure(argv, runs, env=None, pause=0.0, label="", memory_runs=None, servers=(),
            rotation=None):
    """Median wall time of `runs` plain runs, then the peak RSS (the largest) of `memory_runs`
    more under /usr/bin/time. Their wall times are kept too ("wrapped"), comparable with figures
    taken under such a wrapper. Beside the wall time: the command's own CPU time (median) and,
    with `servers` (pids), what those processes spent per timed run (mean; they share the
    machine's cores with the command). `pause` seconds of idleness precede every run but the
    first. With a `rotation`, `argv` is a function of a config path, and each run takes its
    config from the rotation. A failed run aborts (never a silent number)."""
    memory_runs = MEMORY_RUNS if memory_runs is None else memory_runs
    walls, wrapped, peaks, cpus = [], [], [], []
    ticks_before = cpu_ticks(servers)
    ticks_timed = None  # the servers' ticks over the timed runs, once they are over
    make = argv
    for i in range(runs + memory_runs):
        if pause and i:
            time.sleep(pause)
        timed = i < runs
        if i == runs:
            ticks_timed = cpu_ticks(servers) - ticks_before
        argv = rotation.argv(make) if rotation else make
        wall, peak, code, cpu = run_once(argv, env=env, rss=not timed)
        if rotation:
            rotation.done()
        if timed:
            cpus.append(cpu)
        if code != 0:
            out = subprocess.run(argv, env=env, capture_output=True, text=True)
            raise SystemExit(
                f"benchmark command failed (exit {code}): {' '.join(argv)}\n{out.stderr[-2000:]}"
            )
        (walls if timed else wrapped).append(wall)
        if peak is not None:
            peaks.append(peak)
    if ticks_timed is None:
        ticks_timed = cpu_ticks(servers) - ticks_before
    # Counted in whole ticks (10 ms on Linux): none in the timed runs is shown as "under a tick".
    server_cpu = ticks_timed / CLOCK_TICK / runs if servers else None
    peak = max(peaks) if peaks else None
    log(f"  {label or ' '.join(argv[-4:])}: median {statistics.median(walls)*1000:.1f} ms "
        f"(runs {', '.join(f'{w*1000:.0f}' for w in walls)})"
        f", CPU median {statistics.median(cpus)*1000:.1f} ms"
        + (f", servers' CPU {server_cpu*1000:.0f} ms a run" if server_cpu is not None else "")
        + (f", under /usr/bin/time {', '.join(f'{w*1000:.0f}' for w in wrapped)}"
           if wrapped else "")
        + (f", peak {peak:.1f} MB" if peak is not None else ""))
    return {"median": statistics.median(walls), "min": min(walls), "max": max(walls),
            "runs": len(walls), "peak_mb": peak,
            "wrapped_median": statistics.median(wrapped) if wrapped else None,
            "cpu_median": statistics.median(cpus), "server_cpu": server_cpu,
            "server_cpu_resolution": 1 / CLOCK_TICK / runs if servers else None}


def round_trips(argv, env, emus=()):
    """HTTP exchanges keyctl made, counted from its -vv trace (one `< STATUS` line each)."""
    out = subprocess.run(argv + ["-vv"], env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    if out.returncode != 0:
        for e in emus:
            e.check()
        raise SystemExit(f"failed: {' '.join(argv)} -vv\n{out.stderr[-2000:]}")
    return len(ROUND_TRIP.findall(out.stderr))


# ---------------------------------------------------------------------------------------------
# Floors: the least wall time the API allows, given its page size, the latency L of one round
# trip and its rate limit. Sequential round trips (marker paging) cost one L each; keyctl's own
# CPU time, process start and the emulator's work are not part of a floor.


def hw_round_trips(n):
    # Marker paging, 1000 a page. The last page is short, or (exactly full) carries no
    # next_marker, so ceil(n/1000) requests, at least one.
    return max(1, math.ceil(n / HW_PAGE))


def nova_pages(n):
    # Nova (>= 2.35) links a next page whenever a page is full, so an exactly-full last page
    # costs one more (empty) request: floor(n/1000) + 1.
    return n // NOVA_PAGE + 1


def tc_pages(n):
    return max(1, math.ceil(n / TC_PAGE))


def tc_floor(n, lat):
    """Tencent: offset paging lets every page after the first go out in parallel once the first
    page's TotalCount is known, so only the rate limit orders them. The API allows 10 requests in
    any one-second window (the emulator's sliding window): request k (0-based) must start at
    least 1 s after request k-10. Request 0 starts at 0; requests 1-9 at L (after TotalCount);
    request 10j starts at j s, request 10j+r (r>0) at L + j s. The walk ends when the last
    request's reply is in:  P = 1: L;  P-1 = 10q + r:  r = 0 → q + L,  r > 0 → q + 2L."""
    p = tc_pages(n)
    if p == 1:
        return lat
    q, r = divmod(p - 1, TC_RATE)
    return q + lat if r == 0 else q + 2 * lat


def tc_paced_floor(n, lat):
    """Tencent, for a client that spaces requests evenly at 10/s (no burst: safe whatever the
    API's window alignment, which is undocumented): first page, then the rest 0.1 s apart:
    L + max(L, (P-1)/10 s)."""
    p = tc_pages(n)
    if p == 1:
        return lat
    return lat + max(lat, (p - 1) / TC_RATE)


def floor_for(kind, n, lat, cold=True):
    """(floor seconds, round trips the floor counts) for one profile of `kind`."""
    if kind == "hw":
        t = hw_round_trips(n)
        return t * lat, t
    if kind == "hw-ecs":
        # AK/SK signed: no token, no version discovery needed.
        t = nova_pages(n)
        return t * lat, t
    if kind == "os":
        # Cold: a Keystone token, then the pages. The version document is not needed: the
        # first page is asked for at 2.35 directly (a server below that answers 406). Warm:
        # the token is cached.
        t = nova_pages(n) + (1 if cold else 0)
        return t * lat, t
    if kind == "tc":
        return tc_floor(n, lat), tc_pages(n)
    raise ValueError(kind)


# ---------------------------------------------------------------------------------------------
# Emulators


class Emulator:
    """One keyctl-emulator process = one emulated account on each cloud."""

    def __init__(self, workdir, index, n, latency_ms, tc_limit=TC_RATE):
        self.index = index
        self.config = os.path.join(workdir, f"emulator-{index}.toml")
        self.log = open(os.path.join(workdir, f"emulator-{index}.log"), "w")
        # One SecretId per rotation slot (see SLOTS); the written config names the first.
        self.secret_ids = [f"AKIDBENCH{slot:03d}{index:024d}" for slot in range(SLOTS)]
        self.secret_id = self.secret_ids[0]
        argv = [EMULATOR, "--port", "0", "--latency-ms", str(latency_ms),
                "--huawei-keys", str(n), "--nova-keys", str(n), "--tencent-keys", str(n),
                "--tencent-rate-limit", str(tc_limit), "--write-config", self.config]
        for secret_id in self.secret_ids:
            argv += ["--tencent-secret-id", secret_id]
        # A config left by an earlier size's emulator would name its (closed) port: the
        # file's appearance is the signal that *this* emulator is listening.
        if os.path.exists(self.config):
            os.remove(self.config)
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while not os.path.exists(self.config):
            if self.proc.poll() is not None or time.time() > deadline:
                raise SystemExit(f"emulator {index} did not start; see {self.log.name}")
            time.sleep(0.05)
        text = open(self.config).read()
        self.url = re.search(r'endpoint = "(http://[^"]+)"', text).group(1)
        # Profiles renamed hw-0, os-0, tc-0, hw-ecs-0 … so several accounts share one config.
        self.profiles_toml = re.sub(r"^\[profiles\.([a-z-]+)\]", rf"[profiles.\1-{index}]",
                                    text, flags=re.M)

    def check(self):
        """Fails loudly (with the emulator's log) if the process is gone."""
        if self.proc.poll() is not None:
            self.log.flush()
            tail = open(self.log.name).read()[-2000:]
            raise SystemExit(f"emulator {self.index} exited ({self.proc.returncode}):\n{tail}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


def write_config(path, body):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(body)


# ---------------------------------------------------------------------------------------------
# Cases


def keyctl_env(cache):
    env = dict(os.environ)
    env["XDG_CACHE_HOME"] = cache
    env.pop("KEYCTL_CONFIG", None)
    env["NO_COLOR"] = "1"
    return env


def bench_list_cases(args, n, work, results):
    lat = args.latency_ms / 1000.0
    emus = []
    try:
        log(f"\n== {n} key pairs per profile, {args.latency_ms} ms latency: starting "
            f"{ACCOUNTS} emulators")
        for i in range(ACCOUNTS):
            emus.append(Emulator(work, i, n, args.latency_ms))
        # One config per SecretId slot: the same profiles, each Tencent account under that
        # slot's SecretId.
        configs = []
        for slot in range(SLOTS):
            path = os.path.join(work, f"keyctl-{n}-{slot}.toml")
            write_config(path, "\n".join(
                e.profiles_toml.replace(f'"{e.secret_id}"', f'"{e.secret_ids[slot]}"')
                for e in emus))
            configs.append(path)
        config = configs[0]
        rotation = Rotation(configs, TC_WINDOW)
        cache = os.path.join(work, f"cache-{n}")
        env = keyctl_env(cache)
        TWELVE = [f"{k}-{i}" for k in ("hw", "os", "tc") for i in range(ACCOUNTS)]
        cases = [
            ("1 profile: Huawei KPS", ["hw-0"], True),
            ("1 profile: Huawei ECS (Nova API)", ["hw-ecs-0"], True),
            ("1 profile: OpenStack, cold (--no-cache)", ["os-0"], True),
            ("1 profile: OpenStack, warm (cached token)", ["os-0"], False),
            ("1 profile: Tencent", ["tc-0"], True),
            ("3 profiles: one per cloud (cold)", ["hw-0", "os-0", "tc-0"], True),
            ("12 profiles: 4 accounts per cloud (cold)", TWELVE, True),
            # What a person at a terminal gets by default: every row held for the widths.
            ("3 profiles, -o table (cold)", ["hw-0", "os-0", "tc-0"], True,
             ["list", "-o", "table"]),
            # Ordered across every profile: nothing is written before the last one answers.
            ("12 profiles, --sort -bits (cold)", TWELVE, True,
             ["list", "-o", "json", "--sort", "-bits"]),
            # The other commands that read every key pair of every profile.
            # A name every size holds (the emulator names keys from 00001), 00042 as before.
            ("12 profiles, find one name (cold)", TWELVE, True,
             ["find", f"hw-{min(42, n):05d}", "-o", "json"]),
            ("12 profiles, audit (cold)", TWELVE, True, ["audit", "-o", "json"]),
        ]
        for label, profiles, cold, *command in cases:
            for e in emus:
                e.check()
            def make(config, profiles=profiles, cold=cold, command=command):
                return ([KEYCTL] + (["--no-cache"] if cold else []) + ["--config", config,
                        "-p", ",".join(profiles)] + (command[0] if command else ["list", "-o", "json"]))

            kinds = [p.rsplit("-", 1)[0] for p in profiles]
            # A Tencent walk spends its SecretId's rate budget for a second: runs that walk
            # Tencent accounts take turns among the SecretId slots.
            rot = rotation if "tc" in kinds else Rotation([config], 0.0)

            def one_run(run, rot=rot, make=make):
                """An untimed run in the case's rotation."""
                result = run(rot.argv(make))
                rot.done()
                return result

            if not cold:
                one_run(lambda argv: subprocess.run(argv, env=env, stdout=subprocess.DEVNULL,
                                                    check=True))
            floors = [floor_for(k, n, lat, cold) for k in kinds]
            floor = max(f for f, _ in floors)
            # Also the first warm-up run: the timed runs follow the warm-up at once.
            trips = one_run(lambda argv: round_trips(argv, env, emus))
            # More untimed runs first, as hyperfine's --warmup: on this VM the first ~0.5 s of
            # work after idleness runs slower (the idle column below is that case), and with
            # one warm-up run the first timed runs of a case still paid for the idle pause
            # before it. Not for walks of seconds, which do not start idle.
            if floor < 1.0:
                for _ in range(args.warmup):
                    one_run(lambda argv: subprocess.run(argv, env=env, stdout=subprocess.DEVNULL,
                                                        stderr=subprocess.DEVNULL, check=True))
            servers = [e.proc.pid for e in emus]
            m = measure(make, args.runs, env=env, label=label,
                        servers=servers, rotation=rot)
            row = {"case": label, "keys": n, "profiles": len(profiles), **m,
                   "floor": floor, "ratio": m["median"] / floor if floor else None,
                   "round_trips": trips, "floor_round_trips": sum(t for _, t in floors)}
            # (Not for walks of seconds, where the first 100 ms's slowness is noise.)
            if args.idle_gap > 0 and floor < 1.0:
                time.sleep(args.idle_gap)
                idle = measure(make, args.runs, env=env,
                               pause=args.idle_gap,
                               label=f"{label}, after {args.idle_gap:g} s idle",
                               memory_runs=0, servers=servers, rotation=rot)
                row.update(idle_gap=args.idle_gap, idle_median=idle["median"],
                           idle_ratio=idle["median"] / floor if floor else None,
                           idle_cpu_median=idle["cpu_median"])
            if kinds == ["tc"]:
                row["paced_floor"] = tc_paced_floor(n, lat)
            if len(profiles) > 1:
                row["slowest_single_floor"] = floor
            results["list"].append(row)
        if not args.no_peers:
            bench_peers(args, n, emus[0], work, results)
    finally:
        for e in emus:
            e.stop()


# ---------------------------------------------------------------------------------------------
# Peers


def venv_python():
    return os.path.join(VENV, "bin", "python")


def ensure_peers():
    """bench/.venv with the peers from PyPI (created once; `rm -rf bench/.venv` to refresh)."""
    if os.path.exists(os.path.join(VENV, "bin", "tccli")):
        return True
    log("installing the peers into bench/.venv (tccli, huaweicloudsdkkps) …")
    try:
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
        subprocess.run([venv_python(), "-m", "pip", "install", "-q"] + PEER_PACKAGES, check=True)
    except subprocess.CalledProcessError as e:
        log(f"cannot install the peers ({e}); skipping them")
        return False
    return True


def peer_versions():
    out = subprocess.run(
        [venv_python(), "-c",
         "import importlib.metadata as m; print(' '.join(f'{p}=={m.version(p)}' for p in "
         "['tccli','tencentcloud-sdk-python','huaweicloudsdkkps','huaweicloudsdkcore']))"],
        capture_output=True, text=True)
    return out.stdout.strip()


def bench_peers(args, n, emu, work, results):
    lat = args.latency_ms / 1000.0
    home = os.path.join(work, "home")  # tccli writes ~/.tccli; keep it out of the real home
    os.makedirs(home, exist_ok=True)
    env = dict(os.environ, HOME=home, HUAWEICLOUD_SDK_AK=HW_AK, HUAWEICLOUD_SDK_SK=HW_SK,
               TENCENTCLOUD_SECRET_ID=emu.secret_id, TENCENTCLOUD_SECRET_KEY=TC_KEY)

    # Huawei: the official SDK, one process following next_marker.
    argv = [venv_python(), os.path.join(BENCH, "peer_huawei.py"), emu.url, HW_PROJECT]
    m = measure(argv, args.runs, env=env, label="peer huaweicloudsdkkps loop")
    results["peers"].append({"case": "Python loop over huaweicloudsdkkps ListKeypairs",
                             "cloud": "Huawei KPS", "keys": n, **m,
                             "floor": floor_for("hw", n, lat)[0],
                             "round_trips": hw_round_trips(n)})

    # Tencent, the SDK tccli is built on, one process paging by offset (sequentially, as
    # the SDK's users write it; it has no paginator and no rate limiter).
    argv = [venv_python(), os.path.join(BENCH, "peer_tencent.py"), emu.url, "ap-guangzhou"]
    time.sleep(1.1)
    m = measure(argv, args.runs, env=env, pause=1.1, label="peer tencentcloud-sdk loop")
    results["peers"].append({"case": "Python loop over tencentcloud-sdk-python DescribeKeyPairs",
                             "cloud": "Tencent", "keys": n, **m,
                             "floor": tc_floor(n, lat), "round_trips": tc_pages(n)})

    # tccli itself: one invocation per page of 100 (tccli has no --all-pages). At 10,000 key
    # pairs that is 100 processes and ~40 s per run, so one timed run there, and one more under
    # /usr/bin/time for its memory.
    tccli = os.path.join(VENV, "bin", "tccli")
    pages = tc_pages(n)
    page_runs = args.runs if n <= 1000 else 1
    loop = ("set -e; for off in $(seq 0 100 $((N-1))); do "
            f"{tccli} cvm DescribeKeyPairs --region ap-guangzhou --endpoint {emu.url} "
            f"--secretId {emu.secret_id} --secretKey {TC_KEY} --Limit 100 --Offset $off "
            ">/dev/null; done")
    env_loop = dict(env, N=str(max(n, 1)))
    time.sleep(1.1)
    m = measure(["bash", "-c", loop], page_runs, env=env_loop, pause=1.1,
                label=f"peer tccli x{pages}", memory_runs=1 if page_runs == 1 else None)
    results["peers"].append({"case": f"tccli cvm DescribeKeyPairs, one call per page ({pages} calls)",
                             "cloud": "Tencent", "keys": n, **m,
                             "floor": tc_floor(n, lat), "round_trips": pages})


# ---------------------------------------------------------------------------------------------
# The real Keystone + Nova (openstack/), no added latency: keyctl beside `openstack keypair`.


def bench_real_nova(args, work, results):
    osh = os.path.join(ROOT, "openstack")
    venv = os.environ.get("OSH_VENV", os.path.join(osh, ".venv"))
    if not os.path.exists(os.path.join(venv, "bin", "openstack")):
        log(f"\n== real Nova: skipped (no {venv}; run openstack/setup.sh or set OSH_VENV)")
        return
    env = dict(os.environ, OSH_VENV=venv)
    env.setdefault("KEYSTONE_PORT", "25357")
    env.setdefault("NOVA_PORT", "28774")
    log(f"\n== real Keystone + Nova on ports {env['KEYSTONE_PORT']}/{env['NOVA_PORT']}, "
        f"{args.real_nova_keys} key pairs")
    subprocess.run([os.path.join(osh, "start.sh")], env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([os.path.join(osh, "seed.sh"), str(args.real_nova_keys)], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    # env.sh prints shell `export` lines; let bash evaluate them and hand back the result.
    dump = subprocess.run(["bash", "-c", f'source <("{osh}/env.sh") && env -0'], env=env,
                          check=True, capture_output=True).stdout.decode()
    os_env = dict(item.split("=", 1) for item in dump.split("\0") if "=" in item)
    for var in ("OS_CLOUD", "OS_TOKEN", "OS_SYSTEM_SCOPE", "OS_PROJECT_ID",
                "OS_COMPUTE_API_VERSION"):
        os_env.pop(var, None)
    config = os.path.join(work, "keyctl-real-nova.toml")
    write_config(config, f"""[profiles.real]
provider = "openstack"
auth_url = "{os_env['OS_AUTH_URL']}"
username = "{os_env['OS_USERNAME']}"
password = "{os_env['OS_PASSWORD']}"
user_domain_name = "Default"
project_name = "{os_env['OS_PROJECT_NAME']}"
project_domain_name = "Default"
region = "{os_env['OS_REGION_NAME']}"
""")
    cache = os.path.join(work, "cache-real")
    kenv = keyctl_env(cache)
    name = "kc-00500"
    openstack = os.path.join(venv, "bin", "openstack")
    rows = [
        ("keyctl list, cold (--no-cache)",
         [KEYCTL, "--no-cache", "--config", config, "list", "-o", "json"], kenv, False),
        ("keyctl list, warm (cached token)",
         [KEYCTL, "--config", config, "list", "-o", "json"], kenv, True),
        ("openstack keypair list", [openstack, "keypair", "list", "-f", "json"], os_env, False),
        (f"keyctl show {name}, cold",
         [KEYCTL, "--no-cache", "--config", config, "show", name, "-o", "json"], kenv, False),
        (f"keyctl show {name}, warm",
         [KEYCTL, "--config", config, "show", name, "-o", "json"], kenv, True),
        (f"openstack keypair show {name}", [openstack, "keypair", "show", name, "-f", "json"],
         os_env, False),
    ]
    for label, argv, e, warm in rows:
        if warm:
            subprocess.run(argv, env=e, stdout=subprocess.DEVNULL, check=True)
        m = measure(argv, args.runs, env=e, label=label)
        trips = round_trips(argv, e) if argv[0] == KEYCTL else None
        results["real_nova"].append({"case": label, "keys": args.real_nova_keys, **m,
                                     "round_trips": trips})
    results["meta"]["openstackclient"] = subprocess.run(
        [openstack, "--version"], capture_output=True, text=True).stdout.strip() or subprocess.run(
        [openstack, "--version"], capture_output=True, text=True).stderr.strip()


# ---------------------------------------------------------------------------------------------
# Report


def ms(s):
    return "-" if s is None else (f"{s*1000:.1f} ms" if s < 1 else f"{s:.2f} s")


def server_cpu_text(row):
    """The emulators' CPU a run, or "< one tick a run" when no tick fell in the timed runs."""
    cpu, step = row.get("server_cpu"), row.get("server_cpu_resolution")
    if cpu is None:
        return "-"
    return f"< {ms(step)}" if cpu == 0 and step else ms(cpu)


def report(results):
    meta = results["meta"]
    out = [f"# keyctl benchmark results ({meta['date']})", "",
           f"- machine: {meta['machine']}", f"- command: `{meta['command']}`",
           f"- keyctl: {meta['keyctl']}; latency per request: {meta['latency_ms']} ms; "
           f"runs per case: {meta['runs']} (median), then {meta.get('memory_runs', '-')} "
           "under /usr/bin/time for peak memory", ""]
    if results.get("version"):
        v = results["version"]
        out += ["## keyctl --version", "", "| median | min | peak memory |", "|---|---|---|",
                f"| {ms(v['median'])} | {ms(v['min'])} | {v['peak_mb']:.1f} MB |", "",
                f"({v['runs']} runs, timed without the /usr/bin/time wrapper; includes fork/exec "
                "from Python)", ""]
    gap = next((r["idle_gap"] for r in results["list"] if r.get("idle_gap")), None)
    idle_head = f" after {gap:g} s idle | ratio |" if gap else ""
    out += ["## keyctl list against the emulator", "",
            "| key pairs / profile | case | median | floor | ratio |" + idle_head +
            " round trips (floor's) | peak memory | median under /usr/bin/time | keyctl CPU "
            "| emulators' CPU |",
            "|---|---|---|---|---|" + ("---|---|" if gap else "") + "---|---|---|---|---|"]
    for r in results["list"]:
        extra = f" (evenly paced: {ms(r['paced_floor'])}, ×{r['median']/r['paced_floor']:.2f})" \
            if r.get("paced_floor") else ""
        idle = (f" {ms(r['idle_median'])} | ×{r['idle_ratio']:.2f} |"
                if r.get("idle_median") else (" - | - |" if gap else ""))
        out.append(f"| {r['keys']:,} | {r['case']} | {ms(r['median'])} | {ms(r['floor'])} | "
                   f"×{r['ratio']:.2f}{extra} |{idle} {r['round_trips']} "
                   f"({r['floor_round_trips']}) | "
                   f"{r['peak_mb']:.1f} MB | {ms(r.get('wrapped_median'))} | "
                   f"{ms(r.get('cpu_median'))} | {server_cpu_text(r)} |")
    out += ["", "Median: runs back to back (each Tencent account under a fresh SecretId per run, "
            "so no run is throttled by the one before)."
            + (f" After {gap:g} s idle: the same case with {gap:g} s of idleness before every "
               "run, as this benchmark measured until 2026-12-06." if gap else ""),
            "", f"CPU: keyctl's user + system time (median of the timed runs, all threads); the "
            f"emulators' is what the {ACCOUNTS} emulator processes spent per timed run (mean; "
            f"the kernel counts it in {1000 // CLOCK_TICK} ms ticks), on the same "
            f"{os.cpu_count()} cores."]
    if results["peers"]:
        out += ["", "## Peers against the same emulator", "",
                "| key pairs | peer | median | floor | ratio | round trips | peak memory |",
                "|---|---|---|---|---|---|---|"]
        for r in results["peers"]:
            out.append(f"| {r['keys']:,} | {r['case']} | {ms(r['median'])} (runs {r['runs']}) | "
                       f"{ms(r['floor'])} | ×{r['median']/r['floor']:.2f} | {r['round_trips']} | "
                       f"{r['peak_mb']:.1f} MB |")
        out.append(f"\nPeer versions: {meta.get('peers', '-')}")
    if results["real_nova"]:
        out += ["", f"## Real Keystone + Nova (no added latency), {meta.get('openstackclient', '')}",
                "", "| key pairs | command | median | round trips | peak memory |",
                "|---|---|---|---|---|"]
        for r in results["real_nova"]:
            out.append(f"| {r['keys']:,} | {r['case']} | {ms(r['median'])} | "
                       f"{'-' if r['round_trips'] is None else r['round_trips']} | "
                       f"{r['peak_mb']:.1f} MB |")
    return "\n".join(out) + "\n"


def machine():
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.system()} {platform.release()}, {os.cpu_count()} CPUs ({cpu})"


def main():
    global MEMORY_RUNS
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="1,000 key pairs only, 3 runs, no real Nova")
    ap.add_argument("--runs", type=int, help="runs per case (default 5; --quick 3)")
    ap.add_argument("--latency-ms", type=int, default=20, help="emulator latency per request")
    ap.add_argument("--sizes", help="key pairs per profile, comma-separated (default 1000,10000)")
    ap.add_argument("--no-peers", action="store_true", help="skip tccli and the SDK loops")
    ap.add_argument("--no-real-nova", action="store_true",
                    help="skip keyctl/openstack against the real Keystone+Nova (openstack/)")
    ap.add_argument("--real-nova-keys", type=int, default=1000)
    ap.add_argument("--no-build", action="store_true", help="use the existing release build")
    ap.add_argument("--idle-gap", type=float, default=TC_WINDOW, metavar="S",
                    help="also time every list case with S seconds of idleness before each run "
                         f"(default {TC_WINDOW}; 0 skips it)")
    ap.add_argument("--warmup", type=int, default=WARMUP, metavar="N",
                    help=f"untimed runs before each case under a second, after the -vv run "
                         f"(default {WARMUP})")
    ap.add_argument("--memory-runs", type=int, default=MEMORY_RUNS,
                    help=f"extra runs per case under /usr/bin/time for peak memory "
                         f"(default {MEMORY_RUNS})")
    ap.add_argument("--out", default=os.path.join(BENCH, "out"),
                    help="directory for results.md and results.json (default bench/out)")
    args = ap.parse_args()
    MEMORY_RUNS = max(1, args.memory_runs)
    args.runs = args.runs or (3 if args.quick else 5)
    sizes = [int(s) for s in (args.sizes or ("1000" if args.quick else "1000,10000")).split(",")]

    if not args.no_build:
        log("building keyctl and keyctl-emulator (release) …")
        subprocess.run(["cargo", "build", "--quiet", "--release", "-p", "keyctl", "-p",
                        "keyctl-emulator"], cwd=ROOT, check=True)
    if not args.no_peers and not ensure_peers():
        args.no_peers = True

    results = {"meta": {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(), "command": " ".join(["bench/run.sh"] + sys.argv[1:]),
        "keyctl": subprocess.run([KEYCTL, "--version"], capture_output=True,
                                 text=True).stdout.strip(),
        "latency_ms": args.latency_ms, "runs": args.runs, "sizes": sizes,
        "memory_runs": MEMORY_RUNS,
    }, "list": [], "peers": [], "real_nova": []}
    if not args.no_peers:
        results["meta"]["peers"] = peer_versions()

    work = tempfile.mkdtemp(prefix="keyctl-bench-")
    try:
        log("== keyctl --version")
        # Many short runs: the figure is a few milliseconds.
        results["version"] = measure([KEYCTL, "--version"], max(50, args.runs * 10),
                                     label="keyctl --version", memory_runs=3)
        for n in sizes:
            bench_list_cases(args, n, work, results)
        if not args.quick and not args.no_real_nova:
            bench_real_nova(args, work, results)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    os.makedirs(args.out, exist_ok=True)
    md = report(results)
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write(md)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    print(md)
    log(f"written: {os.path.join(args.out, 'results.md')} and results.json")


if __name__ == "__main__":
    main()
