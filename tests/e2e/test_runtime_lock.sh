#!/usr/bin/env bash
# The runtime lock, on fixtures only (never this machine's packages): tools/verify-deps and
# tools/runtime fetch against .debs built here, a snapshot archive served from file:// and from a
# loopback HTTP server, and dpkg databases made by dpkg from those .debs. Each way to fail closed
# (malformed lock, unknown snapshot, missing or other-hash .deb, missing, other-version, unlisted or
# half-installed package, another snapshot or lock) is checked to exit 1 and name the difference.
# The [source] section the same way: tools/lock-deps --sources-only against fixture Sources indexes,
# verify-deps sources, and tools/static-deps fetching and refusing source files before building.
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1
SNAP=20260101T000000Z
FX=$T_TMP/fx
mkdir -p "$FX/build" "$FX/archive"

# fx_deb NAME VERSION [CONTENT]: builds a tiny .deb into $FX/build; prints its path.
fx_deb() {
  local name=$1 version=$2 content=${3:-$1 $2} d out
  out=$(mktemp -d "$FX/build/deb.XXXXXX") && d=$out/src || return 1
  mkdir -p "$d/DEBIAN" "$d/usr/share/titan-fx"
  printf 'Package: %s\nVersion: %s\nArchitecture: all\nMaintainer: titan tests <tests@example.invalid>\nDescription: titan-host test fixture\n' \
    "$name" "$version" >"$d/DEBIAN/control"
  echo "$content" >"$d/usr/share/titan-fx/$name"
  dpkg-deb --root-owner-group -Zgzip --build "$d" "$out/${name}_${version}_all.deb" >/dev/null || return 1
  echo "$out/${name}_${version}_all.deb"
}
# fx_publish ARCHIVE DEB: puts DEB into the snapshot's pool; prints its pool path.
fx_publish() {
  local base name path
  base=$(basename "$2"); name=${base%%_*}
  path=pool/main/${name:0:1}/$name/$base
  mkdir -p "$FX/archive/$1/$SNAP/$(dirname "$path")" && cp "$2" "$FX/archive/$1/$SNAP/$path" && echo "$path"
}
for suite in bookworm bookworm-updates; do
  mkdir -p "$FX/archive/debian/$SNAP/dists/$suite" && printf 'Suite: %s\nCodename: %s\n' "$suite" "$suite" >"$FX/archive/debian/$SNAP/dists/$suite/Release"
done
mkdir -p "$FX/archive/debian-security/$SNAP/dists/bookworm-security"
printf 'Suite: bookworm-security\nCodename: bookworm-security\n' >"$FX/archive/debian-security/$SNAP/dists/bookworm-security/Release"

# Three packages: base and lib in both profiles, tool only in "test"; lib comes from the security archive.
declare -A DEB=() POOL=()
for spec in "titan-fx-base 1.0 debian" "titan-fx-lib 2.0 debian-security" "titan-fx-tool 3.0 debian"; do
  read -r name version archive <<<"$spec"
  DEB[$name]=$(fx_deb "$name" "$version") && POOL[$name]=$(fx_publish "$archive" "${DEB[$name]}") || t_fail "fixture $name"
done
t_check "fixture .debs built" test -f "${DEB[titan-fx-tool]}"
LOCK=$FX/good.lock
{
  printf '# fixture lock\nformat: 1\ndistribution: debian bookworm\narchitecture: amd64\nsnapshot: %s\n' "$SNAP"
  printf 'archive debian: bookworm bookworm-updates\narchive debian-security: bookworm-security\n'
  printf 'profile run: titan-fx-lib\nprofile test: titan-fx-lib titan-fx-tool\n\n[binary]\n# name=version sha256 archive pool-path profiles\n'
  printf 'titan-fx-base=1.0 %s debian %s run,test\n' "$(sha256sum "${DEB[titan-fx-base]}" | cut -d' ' -f1)" "${POOL[titan-fx-base]}"
  printf 'titan-fx-lib=2.0 %s debian-security %s run,test\n' "$(sha256sum "${DEB[titan-fx-lib]}" | cut -d' ' -f1)" "${POOL[titan-fx-lib]}"
  printf 'titan-fx-tool=3.0 %s debian %s test\n' "$(sha256sum "${DEB[titan-fx-tool]}" | cut -d' ' -f1)" "${POOL[titan-fx-tool]}"
  printf '\n[source]\n'
} >"$LOCK"
export TITAN_DEBIAN_MIRROR="file://$FX/archive/{archive}/{snapshot}"

vd() { T_OUT=$T_TMP/vd.out; T_ERR=$T_OUT; tools/verify-deps "$@" >"$T_OUT" 2>&1; T_RC=$?; }
# fails_closed NAME EXPECTED-TEXT COMMAND...: the command exits 1 and names the difference.
fails_closed() {
  local name=$1 want=$2; shift 2
  T_OUT=$T_TMP/fc.out; T_ERR=$T_OUT
  "$@" >"$T_OUT" 2>&1; T_RC=$?
  if [ "$T_RC" = 1 ] && grep -qF -- "$want" "$T_OUT" && grep -q 'fail closed\|refusing\|differ\|lacks' "$T_OUT"; then t_pass
  else t_fail "$name: exit $T_RC, want 1 naming '$want'"; sed 's/^/    /' "$T_OUT" >&2; fi
}
# lock_with NAME SED-EXPR: a copy of the good lock changed by SED-EXPR; prints its path.
lock_with() { sed "$2" "$LOCK" >"$FX/$1.lock"; echo "$FX/$1.lock"; }

# ---------------------------------------------------------------- the lock itself
vd --lock "$LOCK" lock
t_rc "a well-formed lock passes" 0
t_grep "lock check counts the packages" "3 packages, snapshot $SNAP" "$T_OUT"
fails_closed "snapshot not a timestamp" "snapshot 'yesterday' is not a snapshot timestamp" tools/verify-deps --lock "$(lock_with badsnap 's/^snapshot: .*/snapshot: yesterday/')" lock
fails_closed "unknown format" "lock format '2' is not 1" tools/verify-deps --lock "$(lock_with fmt 's/^format: 1/format: 2/')" lock
fails_closed "package listed twice" "titan-fx-tool is listed twice" tools/verify-deps --lock "$(lock_with twice '/^titan-fx-tool=/p')" lock
fails_closed "short hash" "malformed binary line" tools/verify-deps --lock "$(lock_with short 's/^\(titan-fx-base=1.0 \)\([0-9a-f]*\)/\1abc/')" lock
fails_closed "path out of the pool" "malformed binary line" tools/verify-deps --lock "$(lock_with dotdot 's#pool/main/t/titan-fx-base/#pool/../../etc/#')" lock
fails_closed "undeclared archive" "archive 'ubuntu' is not declared" tools/verify-deps --lock "$(lock_with arch 's/^\(titan-fx-tool=[^ ]* [^ ]*\) debian /\1 ubuntu /')" lock
fails_closed "undeclared profile" "profile 'prod' is not declared" tools/verify-deps --lock "$(lock_with prof 's/ run,test$/ run,prod/')" lock
fails_closed "a profile's root not locked in it" "profile run: its root package titan-fx-tool is not locked in it" tools/verify-deps --lock "$(lock_with root 's/^profile run: .*/profile run: titan-fx-lib titan-fx-tool/')" lock
fails_closed "unknown section" "unknown section [extras]" tools/verify-deps --lock "$(lock_with sect 's/^\[source\]/[extras]/')" lock
fails_closed "no lock file" "no lock at" tools/verify-deps --lock "$FX/absent.lock" lock
vd --lock "$(lock_with src 's#^\[source\]#[source]\ntitan-fx-base=1.0 0000000000000000000000000000000000000000000000000000000000000000 debian pool/main/t/titan-fx-base/titan-fx-base_1.0.dsc#')" lock
t_rc "a [source] section of .dsc/tarball lines is part of the format" 0
t_check "CRLF lock still parses" bash -c "sed 's/\$/\r/' '$LOCK' >'$FX/crlf.lock' && tools/verify-deps --lock '$FX/crlf.lock' lock >/dev/null 2>&1"
vd --lock "$LOCK" --profile prod debs "$FX"
t_rc "an unknown profile is a usage error" 2
vd --lock "$LOCK" bogus
t_rc "an unknown check is a usage error" 2

# ---------------------------------------------------------------- the snapshot
vd --lock "$LOCK" snapshot
t_rc "the snapshot exists on the file:// mirror" 0
fails_closed "unknown snapshot" "unknown snapshot 20991231T000000Z" tools/verify-deps --lock "$(lock_with future 's/^snapshot: .*/snapshot: 20991231T000000Z/')" snapshot
PORT=$(t_free_port)
python3 -m http.server --bind 127.0.0.1 --directory "$FX/archive" "$PORT" >"$T_TMP/http.log" 2>&1 &
T_PIDS+=($!)
t_check "loopback archive server up" t_wait_port "$PORT"
HTTP_MIRROR="http://127.0.0.1:$PORT/{archive}/{snapshot}"
TITAN_DEBIAN_MIRROR=$HTTP_MIRROR vd --lock "$LOCK" snapshot
t_rc "the snapshot exists on the HTTP mirror" 0
TITAN_DEBIAN_MIRROR=$HTTP_MIRROR fails_closed "unknown snapshot over HTTP (404)" "unknown snapshot 20991231T000000Z: http://127.0.0.1:$PORT/debian" tools/verify-deps --lock "$FX/future.lock" snapshot
TITAN_DEBIAN_MIRROR="http://127.0.0.1:9/{archive}/{snapshot}" vd --lock "$LOCK" snapshot
t_rc "an unreachable mirror is an environment error, not a pass" 2

# ---------------------------------------------------------------- the .debs (tools/runtime fetch)
RDIR=$FX/rt
rt() { T_OUT=$T_TMP/rt.out; T_ERR=$T_OUT; tools/runtime "$@" >"$T_OUT" 2>&1; T_RC=$?; }
TITAN_DEBIAN_MIRROR=$HTTP_MIRROR rt --lock "$LOCK" --profile test --dir "$RDIR" fetch
t_rc "fetch over HTTP: every .deb verified" 0
t_grep "fetch says what it verified" "verify-deps: OK 3 .deb files match good.lock (profile test)" "$T_OUT"
t_check "the three .debs are there" test "$(ls "$RDIR/debs"/*.deb | wc -l)" = 3
t_check "the .debs are the published bytes" cmp -s "$RDIR/debs/titan-fx-lib_2.0_all.deb" "${DEB[titan-fx-lib]}"
TITAN_DEBIAN_MIRROR="http://127.0.0.1:9/{archive}/{snapshot}" rt --lock "$LOCK" --profile test --dir "$RDIR" fetch
t_rc "a second fetch uses the verified files (mirror unreachable)" 0
rt --lock "$LOCK" --profile run --dir "$RDIR" fetch
t_rc "fetch of a smaller profile (file:// mirror)" 0
t_check "files outside the profile are removed" test ! -e "$RDIR/debs/titan-fx-tool_3.0_all.deb"
vd --lock "$LOCK" --profile run debs "$RDIR/debs"
t_rc "verify-deps debs on the fetched profile" 0

# Another .deb published under the locked name and version: refused before anything uses it.
other=$(fx_deb titan-fx-lib 2.0 "a rebuilt lib with other bytes")
cp "$other" "$FX/archive/debian-security/$SNAP/${POOL[titan-fx-lib]}"
rm -rf "$FX/rt2"
fails_closed "another .deb hash on the mirror" "another .deb hash: titan-fx-lib=2.0 titan-fx-lib_2.0_all.deb has sha256 $(sha256sum "$other" | cut -d' ' -f1), locked $(sha256sum "${DEB[titan-fx-lib]}" | cut -d' ' -f1)" \
  tools/runtime --lock "$LOCK" --profile run --dir "$FX/rt2" fetch
cp "${DEB[titan-fx-lib]}" "$FX/archive/debian-security/$SNAP/${POOL[titan-fx-lib]}"
# A locked file the mirror does not have.
mv "$FX/archive/debian/$SNAP/${POOL[titan-fx-tool]}" "$FX/tool.deb"
rm -rf "$FX/rt3"
fails_closed "a locked .deb missing from the mirror" "titan-fx-tool=3.0 is not on the mirror" tools/runtime --lock "$LOCK" --profile test --dir "$FX/rt3" fetch
mv "$FX/tool.deb" "$FX/archive/debian/$SNAP/${POOL[titan-fx-tool]}"
rm -rf "$FX/rt4"
fails_closed "fetch at an unknown snapshot" "unknown snapshot 20991231T000000Z" tools/runtime --lock "$FX/future.lock" --profile run --dir "$FX/rt4" fetch
# The same checks on a folder of .debs.
D=$FX/debs; mkdir -p "$D"; cp "${DEB[titan-fx-base]}" "${DEB[titan-fx-lib]}" "${DEB[titan-fx-tool]}" "$D/"
vd --lock "$LOCK" debs "$D"
t_rc "verify-deps debs: all three match" 0
cp "$other" "$D/titan-fx-lib_2.0_all.deb"
fails_closed "verify-deps debs: another hash" "another .deb hash: titan-fx-lib=2.0" tools/verify-deps --lock "$LOCK" debs "$D"
cp "${DEB[titan-fx-lib]}" "$D/"; rm "$D/titan-fx-base_1.0_all.deb"
fails_closed "verify-deps debs: a missing .deb" "missing .deb: titan-fx-base=1.0" tools/verify-deps --lock "$LOCK" debs "$D"
cp "${DEB[titan-fx-base]}" "$D/"; cp "$(fx_deb titan-fx-extra 9.9)" "$D/"
fails_closed "verify-deps debs: an unlisted .deb" "unlisted .deb: titan-fx-extra_9.9_all.deb" tools/verify-deps --lock "$LOCK" debs "$D"

# ---------------------------------------------------------------- source packages ([source])
# Fixture source packages named like the ones make static builds; each Sources stanza names the fixture
# binaries it builds. lua5.4 is in both archives (the binary's archive wins); lua-cjson has a decoy
# stanza at another version; curl's binary is a binNMU (+b1) of its source version.
declare -A SRC_SHA=()
fx_source() {   # fx_source ARCHIVE SUITE NAME VERSION BINARIES: publishes a .dsc and a tarball; appends the stanza
  local archive=$1 suite=$2 name=$3 version=$4 bins=$5 dir f
  dir=pool/main/${name:0:1}/$name
  mkdir -p "$FX/archive/$archive/$SNAP/$dir" "$FX/archive/$archive/$SNAP/dists/$suite/main/source"
  echo "Format: 3.0 (quilt) $name $version" >"$FX/archive/$archive/$SNAP/$dir/${name}_$version.dsc"
  echo "tarball of $name $version" >"$FX/archive/$archive/$SNAP/$dir/${name}_$version.orig.tar.gz"
  {
    printf 'Package: %s\nBinary: %s\nVersion: %s\nDirectory: %s\nChecksums-Sha256:\n' "$name" "$bins" "$version" "$dir"
    for f in "${name}_$version.dsc" "${name}_$version.orig.tar.gz"; do
      SRC_SHA[$f]=$(sha256sum "$FX/archive/$archive/$SNAP/$dir/$f" | cut -d' ' -f1)
      printf ' %s %s %s\n' "${SRC_SHA[$f]}" "$(stat -c %s "$FX/archive/$archive/$SNAP/$dir/$f")" "$f"
    done
    printf 'Section: misc\n\n'
  } >>"$FX/archive/$archive/$SNAP/dists/$suite/main/source/Sources"
}
fx_source debian bookworm curl 0.9 "titan-fx-docs,
 titan-fx-base"
fx_source debian bookworm lua5.4 2.0 "titan-fx-lib"
fx_source debian-security bookworm-security lua5.4 2.0 "titan-fx-lib"
fx_source debian bookworm lua-cjson 2.9 "titan-fx-tool"
fx_source debian bookworm-updates lua-cjson 3.0 "titan-fx-tool"
for idx in "$FX"/archive/*/"$SNAP"/dists/*/main/source/Sources; do xz -k "$idx"; done
SLOCK=$(lock_with src-base 's/^titan-fx-base=1.0 /titan-fx-base=0.9+b1 /')
TITAN_DEBIAN_MIRROR=$HTTP_MIRROR tools/lock-deps --sources-only --lock "$SLOCK" >"$T_TMP/ld.out" 2>"$T_TMP/ld.err"
T_RC=$? T_ERR=$T_TMP/ld.err
t_rc "lock-deps --sources-only writes [source] from the fixture Sources indexes" 0
t_grep "it lists the sources it added" "- added source lua-cjson 3.0" "$T_TMP/ld.out"
t_check "curl locked at the source version of its binNMU binary, both files" \
  test "$(grep -c '^curl=0.9 ' "$SLOCK")" = 2
t_check "lua5.4 taken from the archive its binary came from" grep -q '^lua5.4=2.0 [0-9a-f]* debian-security pool/main/l/lua5.4/lua5.4_2.0.dsc$' "$SLOCK"
t_check "lua-cjson at its binary's version, not the decoy" grep -q "^lua-cjson=3.0 ${SRC_SHA[lua-cjson_3.0.dsc]} debian pool/main/l/lua-cjson/lua-cjson_3.0.dsc$" "$SLOCK"
t_check "no decoy version" test "$(grep -c '^lua-cjson=2.9' "$SLOCK")" = 0
t_check "the binary section is untouched" cmp -s <(sed '/^\[source\]/,$d' "$SLOCK") <(sed '/^\[source\]/,$d' "$FX/src-base.lock")
vd --lock "$SLOCK" lock
t_rc "the lock with a [source] section is well formed" 0
cp "$SLOCK" "$FX/src-before.lock"
TITAN_DEBIAN_MIRROR=$HTTP_MIRROR tools/lock-deps --sources-only --lock "$SLOCK" >"$T_TMP/ld.out" 2>&1
t_check "a second --sources-only changes nothing" cmp -s "$SLOCK" "$FX/src-before.lock"
NOSRC=$(lock_with nosrc 's/^titan-fx-tool=3.0 /titan-fx-tool=4.0 /')
TITAN_DEBIAN_MIRROR=$HTTP_MIRROR tools/lock-deps --sources-only --lock "$NOSRC" >"$T_TMP/ld.out" 2>&1
T_RC=$?
t_check "a source not at its binary's version: exit 1, named, lock unchanged" \
  bash -c '[ '"$T_RC"' = 1 ] && grep -q "no Sources stanza of lua-cjson" "$1" && cmp -s "$2" "$3"' _ "$T_TMP/ld.out" "$NOSRC" <(sed 's/^titan-fx-tool=3.0 /titan-fx-tool=4.0 /' "$LOCK")
fails_closed "a source file listed twice" "source file curl_0.9.dsc is listed twice" tools/verify-deps --lock "$(sed '/^curl=.*\.dsc$/p' "$SLOCK" >"$FX/s2.lock"; echo "$FX/s2.lock")" lock
fails_closed "a source without its .dsc" "source curl has no .dsc line" tools/verify-deps --lock "$(sed '/^curl=.*\.dsc$/d' "$SLOCK" >"$FX/s3.lock"; echo "$FX/s3.lock")" lock
fails_closed "a source file that is no source file" "malformed source line" tools/verify-deps --lock "$(sed 's#curl_0.9.orig.tar.gz$#curl_0.9.sh#' "$SLOCK" >"$FX/s4.lock"; echo "$FX/s4.lock")" lock

# tools/static-deps fetch: the source files, each verified, over HTTP; refused before any build.
SD=$FX/sources
sd() { T_OUT=$T_TMP/sd.out; T_ERR=$T_OUT; tools/static-deps --lock "$SLOCK" --sources "$SD" "$@" >"$T_OUT" 2>&1; T_RC=$?; }
TITAN_DEBIAN_MIRROR=$HTTP_MIRROR sd fetch
t_rc "static-deps fetch over HTTP" 0
t_grep "fetch verifies every source file" "verify-deps: OK 6 files of 3 source packages match" "$T_OUT"
vd --lock "$SLOCK" sources "$SD"
t_rc "verify-deps sources on the fetched files" 0
TITAN_DEBIAN_MIRROR="http://127.0.0.1:9/{archive}/{snapshot}" sd fetch
t_rc "a second fetch uses the verified files (mirror unreachable)" 0
echo "someone else's tarball" >"$SD/lua5.4_2.0.orig.tar.gz"
fails_closed "verify-deps sources: another hash" "another source file hash: lua5.4=2.0 lua5.4_2.0.orig.tar.gz" tools/verify-deps --lock "$SLOCK" sources "$SD"
TITAN_DEBIAN_MIRROR="http://127.0.0.1:9/{archive}/{snapshot}" fails_closed "static-deps build refuses a tampered source it cannot replace, before building" \
  "another source file hash: lua5.4=2.0" tools/static-deps --lock "$SLOCK" --sources "$SD" build --out "$FX/deps.mk"
t_check "nothing was built from it" test ! -e "$FX/deps.mk"
rm "$SD/curl_0.9.dsc"; echo extra >"$SD/notes.txt"
vd --lock "$SLOCK" sources "$SD"
t_check "verify-deps sources names a missing and an unlisted file" \
  bash -c 'grep -q "missing source file: curl=0.9 (curl_0.9.dsc)" "$1" && grep -q "unlisted source file: notes.txt" "$1" && [ '"$T_RC"' = 1 ]' _ "$T_OUT"
TITAN_DEBIAN_MIRROR=$HTTP_MIRROR sd fetch
t_rc "fetch repairs the folder from the mirror" 0
t_check "fetch removed the unlisted file" test ! -e "$SD/notes.txt"
echo "a rebuilt tarball" >"$FX/archive/debian/$SNAP/pool/main/c/curl/curl_0.9.orig.tar.gz"
rm -rf "$FX/sources2"
TITAN_DEBIAN_MIRROR=$HTTP_MIRROR fails_closed "another source file on the mirror" "another source file hash: curl=0.9 curl_0.9.orig.tar.gz" \
  tools/static-deps --lock "$SLOCK" --sources "$FX/sources2" fetch
tools/static-deps --lock "$LOCK" --sources "$SD" build --out "$FX/deps.mk" >"$T_TMP/sd.out" 2>&1
T_RC=$? T_ERR=$T_TMP/sd.out
t_rc "a lock without the static sources is an environment error" 2
t_grep "it says which source is missing and how to lock it" "the lock has no source package curl in [source] (tools/lock-deps --sources-only)" "$T_ERR"

# ---------------------------------------------------------------- root filesystems (dpkg databases)
# fx_root NAME DEB...: a root filesystem whose dpkg database dpkg made by installing the DEBs, with
# the stamp tools/runtime writes; prints its path.
fx_root() {
  local r=$FX/roots/$1; shift
  rm -rf "$r"; mkdir -p "$r/var/lib/dpkg/info" "$r/var/lib/dpkg/updates" "$r/etc"; : >"$r/var/lib/dpkg/status"
  [ $# = 0 ] || dpkg --root="$r" --force-not-root --force-bad-path --log=/dev/null -i "$@" >"$r.log" 2>&1 || { cat "$r.log" >&2; return 1; }
  printf 'lock-sha256: %s\nsnapshot: %s\nprofile: test\n' "$(sha256sum "$LOCK" | cut -d' ' -f1)" "$SNAP" >"$r/etc/titan-runtime"
  echo "$r"
}
good_root=$(fx_root good "${DEB[titan-fx-base]}" "${DEB[titan-fx-lib]}" "${DEB[titan-fx-tool]}")
vd --lock "$LOCK" root "$good_root"
t_rc "a root with exactly the test profile passes" 0
t_grep "root check names profile and snapshot" "3 packages in $good_root match profile test of good.lock (snapshot $SNAP)" "$T_OUT"
fails_closed "the test root is not the run profile" "unlisted package: titan-fx-tool=3.0 is installed but not locked in profile run" tools/verify-deps --lock "$LOCK" --profile run root "$good_root"
r=$(fx_root missing "${DEB[titan-fx-base]}" "${DEB[titan-fx-lib]}")
fails_closed "root: a missing package" "missing package: titan-fx-tool (locked 3.0)" tools/verify-deps --lock "$LOCK" root "$r"
r=$(fx_root version "${DEB[titan-fx-base]}" "${DEB[titan-fx-lib]}" "$(fx_deb titan-fx-tool 3.1)")
fails_closed "root: another version" "another version: titan-fx-tool installed 3.1, locked 3.0" tools/verify-deps --lock "$LOCK" root "$r"
r=$(fx_root extra "${DEB[titan-fx-base]}" "${DEB[titan-fx-lib]}" "${DEB[titan-fx-tool]}" "$(fx_deb titan-fx-extra 9.9)")
fails_closed "root: an unlisted package" "unlisted package: titan-fx-extra=9.9" tools/verify-deps --lock "$LOCK" root "$r"
r=$(fx_root half "${DEB[titan-fx-base]}" "${DEB[titan-fx-lib]}" "${DEB[titan-fx-tool]}")
sed -i '/^Package: titan-fx-lib$/,/^$/s/^Status: install ok installed/Status: install ok half-configured/' "$r/var/lib/dpkg/status"
fails_closed "root: a half-installed package" "not fully installed: titan-fx-lib=2.0" tools/verify-deps --lock "$LOCK" root "$r"
r=$(fx_root snap "${DEB[titan-fx-base]}" "${DEB[titan-fx-lib]}" "${DEB[titan-fx-tool]}")
sed -i 's/^snapshot: .*/snapshot: 20250101T000000Z/' "$r/etc/titan-runtime"
fails_closed "root: built from another snapshot" "snapshot: $r was built from snapshot 20250101T000000Z, the lock says $SNAP" tools/verify-deps --lock "$LOCK" root "$r"
fails_closed "root: checked against another lock" "was built from another lock" tools/verify-deps --lock "$FX/crlf.lock" root "$good_root"
r=$(fx_root nostamp "${DEB[titan-fx-base]}" "${DEB[titan-fx-lib]}" "${DEB[titan-fx-tool]}")
rm "$r/etc/titan-runtime"
fails_closed "root: not built by tools/runtime" "was not built by tools/runtime" tools/verify-deps --lock "$LOCK" --profile test root "$r"
r=$(fx_root empty)
rm "$r/var/lib/dpkg/status"
fails_closed "root: no dpkg database" "has no dpkg database" tools/verify-deps --lock "$LOCK" root "$r"
r=$(fx_root two "${DEB[titan-fx-base]}" "$(fx_deb titan-fx-lib 1.9)")
vd --lock "$LOCK" root "$r"
t_check "root: every difference is named (two here)" test "$(grep -c '^verify-deps: FAIL' "$T_OUT")" = 2

# ---------------------------------------------------------------- pack and unpack (the cache's form)
if [ "$(id -u)" != 0 ]; then
  echo "SKIP $T_NAME: pack/unpack: unpack needs root" >&2
else
  mkdir -p "$FX/rtp" && cp -a "$good_root" "$FX/rtp/root"
  rt --lock "$LOCK" --profile test --dir "$FX/rtp" pack "$FX/rtp.tar"
  t_rc "pack a runtime into a tar" 0
  rm -rf "$FX/rtp/root"
  rt --lock "$LOCK" --profile test --dir "$FX/rtp" unpack "$FX/rtp.tar"
  t_rc "unpack it: verified against the lock" 0
  t_check "unpack restores the dpkg database" cmp -s "$good_root/var/lib/dpkg/status" "$FX/rtp/root/var/lib/dpkg/status"
  extra_root=$(fx_root tarextra "${DEB[titan-fx-base]}" "${DEB[titan-fx-lib]}" "${DEB[titan-fx-tool]}" "$(fx_deb titan-fx-extra 9.9)")
  tar -cpf "$FX/tampered.tar" -C "$extra_root" .
  fails_closed "unpack of a tampered cache fails closed" "unlisted package: titan-fx-extra=9.9" tools/runtime --lock "$LOCK" --profile test --dir "$FX/rtp" unpack "$FX/tampered.tar"
  rt --lock "$LOCK" --profile test --dir "$FX/rtp" pack "$FX/rtp.zip"
  t_rc "pack refuses an unknown archive type" 2
fi

# ---------------------------------------------------------------- the committed lock
vd lock
t_rc "tools/locks/debian-12.lock is well formed" 0
read_header() { sed -n "s/^$1: //p" tools/locks/debian-12.lock; }
t_check "the committed lock names a snapshot timestamp" grep -qE '^snapshot: [0-9]{8}T[0-9]{6}Z$' tools/locks/debian-12.lock
for p in $(tools/install-deps --print build); do
  t_check "profile run has the build package $p as a root" grep -qw -- "$p" <<<"$(read_header 'profile run')"
done
for p in $(tools/install-deps --print build test); do
  t_check "profile test has $p as a root" grep -qw -- "$p" <<<"$(read_header 'profile test')"
done
t_check "every locked package has a hash" test "$(grep -cE '^[a-z0-9][a-z0-9+.-]+=[^ ]+ [0-9a-f]{64} ' tools/locks/debian-12.lock)" -ge 100
for src in curl lua5.4 lua-cjson; do
  t_check "the committed lock has the source package $src (make static) with its .dsc" \
    grep -qE "^$src=[^ ]+ [0-9a-f]{64} debian[a-z-]* pool/[^ ]+\.dsc$" tools/locks/debian-12.lock
done
for deb in libcurl4-openssl-dev liblua5.4-dev lua-cjson-dev; do
  t_check "the source locked for $deb is at its binary's version" bash -c '
    v=$(sed -n "s/^$1=\([^ ]*\) .*/\1/p" tools/locks/debian-12.lock); v=${v#*:}
    grep -q "^$2=\([0-9]*:\)\?$v " tools/locks/debian-12.lock' _ "$deb" "$(case $deb in libcurl*) echo curl;; liblua*) echo lua5.4;; *) echo lua-cjson;; esac)"
done

t_finish
