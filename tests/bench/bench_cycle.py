# Whole-process benchmarks against the loopback fake Kraken (bench_cycle.sh starts it): one PAPER
# cycle of strategies/default.lua by titan-host, by the plain-Python peer (paper_cycle.py) and by
# the ccxt peer (paper_cycle.mjs, when Node.js and ccxt are installed), alternating, each run a new
# cycle id; then `titan-host version` alone. Prints each figure beside its target and its peers.
# Wall time from spawn to exit (posix_spawn + wait4); peak RSS from separate runs under /usr/bin/time
# (a child's maximum RSS counts the process it was forked from: a small one must fork it). stdlib only.
# Usage: bench_cycle.py RUNS TITAN_BIN ROOT WORKDIR
import os
import shutil
import statistics
import subprocess
import sys
import time

runs, titan, root, work = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
bench = os.path.join(root, "tests", "bench")
env = dict(os.environ, SYSTEM_MODE="PAPER", TITAN_DB=os.path.join(work, "titan.db"), TITAN_LOG_LEVEL="warn",
           TITAN_BLACKBOX=os.path.join(work, "blackbox.log"), TITAN_HOME=root)
for name in ("KRAKEN_API_KEY", "KRAKEN_SECRET", "SUPABASE_URL", "SUPABASE_KEY", "OPENAI_API_KEY", "GROQ_API_KEY",
             "GEMINI_API_KEY", "TITAN_FAKE_NOW_MS"):
    env.pop(name, None)
devnull = [(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0), (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0)]


# The peers do the lock, the requests, the indicators and the record: titan-host doing the same work
# writes no capsule (TITAN_CAPSULE_DAYS=0); "titan+capsule" is the default run, which also keeps the
# cycle's replay capsule (issue 16) in the store and beside the blackbox.
no_capsule = dict(env, TITAN_CAPSULE_DAYS="0")
env_of = {"titan-host": no_capsule}


def run_once(argv, name=None):
    """Seconds of one run; exits with its output when it fails."""
    run_env = env_of.get(name, env)
    t0 = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, run_env, file_actions=devnull)
    _, status = os.waitpid(pid, 0)
    dt = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        p = subprocess.run(argv, env=run_env, capture_output=True, text=True)
        sys.exit("bench_cycle: %s failed (%d): %s" % (" ".join(argv), p.returncode, (p.stdout + p.stderr)[-600:]))
    return dt


def peak_rss_mib(argv, name=None):
    """Peak RSS of one run under /usr/bin/time, MiB (None without it)."""
    if not os.path.exists("/usr/bin/time"):
        return None
    p = subprocess.run(["/usr/bin/time", "-f", "maxrss %M"] + argv, env=env_of.get(name, env), capture_output=True,
                       text=True)
    kb = [l for l in p.stderr.splitlines() if l.startswith("maxrss ")]
    return int(kb[-1].split()[1]) / 1024 if p.returncode == 0 and kb else None


contenders = [("titan-host", lambda n: [titan, "run", os.path.join(root, "strategies", "default.lua"),
                                        "--cycle-id", "bench-%d" % n]),
              ("titan+capsule", lambda n: [titan, "run", os.path.join(root, "strategies", "default.lua"),
                                           "--cycle-id", "bench-%d" % n]),
              ("python3", lambda n: ["/usr/bin/python3", os.path.join(bench, "paper_cycle.py"),
                                     os.path.join(work, "peer.db"), "bench-%d" % n])]
node = shutil.which("node")
ccxt_dir = os.path.join(root, "tests", "conformance", "node_modules", "ccxt")
skipped = None
if not node:
    skipped = "Node.js is not installed"
elif not os.path.isdir(ccxt_dir):
    skipped = "ccxt is not installed (tools/install-deps test runs npm ci in tests/conformance)"
else:
    os.makedirs(os.path.join(work, "ccxt"), exist_ok=True)
    contenders.append(("ccxt", lambda n: [node, os.path.join(bench, "paper_cycle.mjs"), os.path.join(work, "ccxt"),
                                          "bench-%d" % n]))

times = {name: [] for name, _ in contenders}
rss = {name: [] for name, _ in contenders}
n = 0
for name, argv in contenders:     # warm-up: creates the stores, fills the page cache
    n += 1
    run_once(argv(n), name)
for i in range(runs):
    for name, argv in contenders:
        n += 1
        if name == "ccxt" and i >= max(5, runs // 4):   # half a second a run: a few are enough
            continue
        times[name].append(run_once(argv(n), name) * 1000)
for i in range(3):
    for name, argv in contenders:
        n += 1
        mib = peak_rss_mib(argv(n), name)
        if mib is not None:
            rss[name].append(mib)


def verdict(ok):
    return "met" if ok else "MISSED"


med = {k: statistics.median(v) for k, v in times.items()}
mrss = {k: statistics.median(v) if v else float("nan") for k, v in rss.items()}
print("-- one PAPER cycle of strategies/default.lua against the loopback fake (lock, 3 requests, strategy, record),")
print("   alternating runs, a new cycle id each; medians. titan-host does the peers' work (no capsule);")
print("   titan+capsule is the default run, which also keeps the cycle's replay capsule")
for name in times:
    v = sorted(times[name])
    line = "%-13s %8.2f ms  (min %.2f, max %.2f, n=%d)   peak RSS %6.2f MiB" % (
        name, med[name], v[0], v[-1], len(v), mrss[name])
    if name == "python3":
        ratio = med["python3"] / med["titan-host"]
        line += "   titan-host %.1fx faster (target >= 5x: %s); with its capsule %.1fx" % (
            ratio, verdict(ratio >= 5), med["python3"] / med["titan+capsule"])
    if name == "ccxt":
        ratio = med["ccxt"] / med["titan-host"]
        line += "   titan-host %.0fx faster (target >= 50x: %s)" % (ratio, verdict(ratio >= 50))
    print(line)
if skipped:
    print("ccxt        skipped: %s (target >= 50x: not measured)" % skipped)
print("titan-host peak RSS %.2f MiB, %.2f MiB with its capsule (median of 3 under /usr/bin/time; target <= 8.5 MiB: %s)" % (
    mrss["titan-host"], mrss["titan+capsule"], verdict(max(mrss["titan-host"], mrss["titan+capsule"]) <= 8.5)))

if shutil.which("strace"):
    trace = os.path.join(work, "cycle.strace")
    n += 1
    subprocess.run(["strace", "-f", "-y", "-e", "trace=fsync,fdatasync", "-o", trace, titan, "run",
                    os.path.join(root, "strategies", "default.lua"), "--cycle-id", "bench-%d" % n],
                   env=env, capture_output=True)
    lines = open(trace).read().splitlines()
    wal = sum("-wal>" in l for l in lines if "sync(" in l)
    other = sum("sync(" in l for l in lines) - wal
    print("syncs in that cycle: %d of the WAL (the lock, the record) + %d other (SQLite's folder sync); "
          "8 before this change" % (wal, other))

starts = []
for _ in range(max(100, runs * 5)):
    starts.append(run_once([titan, "version"]) * 1000)
v = sorted(starts)
print("-- start-up: titan-host version, median of %d runs: %.2f ms (min %.2f; target <= 2.5 ms: %s)" % (
    len(v), statistics.median(v), v[0], verdict(statistics.median(v) <= 2.5)))
