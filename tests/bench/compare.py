# Runs two commands alternately N times each, prints the median wall time of each, their ratio,
# and the peak RSS of one more run of each under /usr/bin/time -v.
# Usage: compare.py [--plain] N NAME_A "COMMAND A" NAME_B "COMMAND B"   (stdlib only)
# --plain: times only (no targets, no RSS), e.g. for the process-start floor.
import os
import re
import shlex
import statistics
import subprocess
import sys
import time

plain = sys.argv[1] == "--plain"
args = sys.argv[2:] if plain else sys.argv[1:]
n = int(args[0])
jobs = [(args[1], shlex.split(args[2])), (args[3], shlex.split(args[4]))]
times = {name: [] for name, _ in jobs}


def run(cmd):
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit("compare: %s failed (%d): %s" % (cmd[0], p.returncode, p.stderr.decode()[-500:]))
    return dt


for name, cmd in jobs:  # warm caches once
    run(cmd)
for _ in range(n):
    for name, cmd in jobs:
        times[name].append(run(cmd))

med = {name: statistics.median(v) * 1000 for name, v in times.items()}
a, b = jobs[0][0], jobs[1][0]
for name, _ in jobs:
    v = sorted(times[name])
    print("%-10s median %7.2f ms  (min %.2f, max %.2f, n=%d)" % (name, med[name], v[0] * 1000, v[-1] * 1000, len(v)))
ratio = med[b] / med[a]
if plain:
    sys.exit(0)
print("ratio     %s is %.1fx faster than %s  (target >= 3x: %s; %s under 10 ms: %s)" % (
    a, ratio, b, "met" if ratio >= 3 else "MISSED", a, "met" if med[a] < 10 else "MISSED"))

if os.path.exists("/usr/bin/time"):
    for name, cmd in jobs:
        p = subprocess.run(["/usr/bin/time", "-v"] + cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        m = re.search(rb"Maximum resident set size \(kbytes\): (\d+)", p.stderr)
        kb = int(m.group(1)) if m else -1
        extra = ""
        if name == a:
            extra = "  (target < 8 MiB: %s)" % ("met" if 0 < kb < 8192 else "MISSED")
        print("%-10s peak RSS %6.2f MiB%s" % (name, kb / 1024, extra))
else:
    print("peak RSS: /usr/bin/time missing (apt-get install time)")
