# Shared by tools/lock-deps, tools/verify-deps, tools/runtime and tools/fresh-check (bash, sourced):
# reading the runtime lock (tools/locks/debian-12.lock), the archive URLs of its Debian snapshot,
# downloads, and entering a root filesystem. Functions and globals are prefixed rt_ / RT_.

RT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
RT_LOCK_DEFAULT=$RT_ROOT/tools/locks/debian-12.lock
# Where the packages come from: {archive} and {snapshot} are filled in from the lock. The snapshot
# archive never changes what a URL serves; tests and development point this at any mirror
# (file://, a loopback server, or http://deb.debian.org/{archive} for today's packages).
RT_SNAPSHOT_ARCHIVE='https://snapshot.debian.org/archive/{archive}/{snapshot}'
RT_MIRROR=${TITAN_DEBIAN_MIRROR:-$RT_SNAPSHOT_ARCHIVE}
RT_STAMP=etc/titan-runtime   # inside a built root filesystem: which lock and profile it was built from

RT_NAME_RE='^[a-z0-9][a-z0-9+.-]+$'
RT_VERSION_RE='^[A-Za-z0-9.+:~-]+$'
RT_SNAPSHOT_RE='^[0-9]{8}T[0-9]{6}Z$'
# The source packages tools/static-deps compiles into the self-contained binary (`make static`);
# tools/lock-deps locks each at the version of its binary packages in the lock.
RT_STATIC_SOURCES="curl lua5.4 lua-cjson"

rt_die() { echo "${RT_TOOL:-runtime}: $*" >&2; exit 2; }

# rt_lock_read FILE: parses the lock into RT_* globals; every problem is appended to RT_PROBLEMS
# (the caller reports them). Returns 0 when the lock is well formed.
#   header   format: 1 | distribution: debian SUITE | architecture: ARCH | snapshot: YYYYMMDDTHHMMSSZ
#            archive NAME: SUITE...    (an archive of the snapshot and the suites taken from it)
#            profile NAME: PACKAGE...  (a runtime: its root packages; the lock holds their closure)
#   [binary] NAME=VERSION SHA256 ARCHIVE POOL-PATH PROFILE,...
#   [source] NAME=VERSION SHA256 ARCHIVE POOL-PATH   (one line per file of a source package: .dsc, tarballs)
rt_lock_read() {
  local file=$1 line n=0 section="" key value name version sha archive path profiles p
  RT_PROBLEMS=() RT_FORMAT="" RT_SUITE="" RT_ARCH="" RT_SNAPSHOT="" RT_LOCK_FILE=$file
  declare -gA RT_ARCHIVES=() RT_PROFILES=() RT_VERSION=() RT_SHA=() RT_ARCHIVE_OF=() RT_PATH=() RT_IN=()
  declare -gA RT_SRC_VERSION=() RT_SRC_SHA=() RT_SRC_ARCHIVE=() RT_SRC_PATH=() RT_SRC_OF=() RT_SRC_DSC=()
  declare -ga RT_PACKAGES=() RT_SOURCES=() RT_SRC_FILES=()
  if [ ! -f "$file" ]; then RT_PROBLEMS+=("no lock at $file"); return 1; fi
  while IFS= read -r line || [ -n "$line" ]; do
    n=$((n + 1))
    line=${line%$'\r'}
    case "$line" in ""|"#"*) continue ;; esac
    if [[ "$line" =~ ^\[([a-z]+)\]$ ]]; then
      section=${BASH_REMATCH[1]}
      case "$section" in binary|source) ;; *) RT_PROBLEMS+=("line $n: unknown section [$section]") ;; esac
      continue
    fi
    if [ -z "$section" ]; then
      if [[ "$line" =~ ^([a-z]+)(\ ([a-z0-9-]+))?:\ *(.*)$ ]]; then
        key=${BASH_REMATCH[1]} name=${BASH_REMATCH[3]} value=${BASH_REMATCH[4]}
        case "$key" in
          format) RT_FORMAT=$value ;;
          distribution) RT_SUITE=${value#debian }; [ "$RT_SUITE" != "$value" ] || RT_PROBLEMS+=("line $n: distribution must be 'debian SUITE'") ;;
          architecture) RT_ARCH=$value ;;
          snapshot) RT_SNAPSHOT=$value ;;
          archive) [ -n "$name" ] && RT_ARCHIVES[$name]=$value || RT_PROBLEMS+=("line $n: archive without a name") ;;
          profile) [ -n "$name" ] && RT_PROFILES[$name]=$value || RT_PROBLEMS+=("line $n: profile without a name") ;;
          *) RT_PROBLEMS+=("line $n: unknown header '$key'") ;;
        esac
      else
        RT_PROBLEMS+=("line $n: malformed header: '$line'")
      fi
      continue
    fi
    read -r p sha archive path profiles value <<<"$line"
    name=${p%%=*} version=${p#*=}
    if [ "$name" = "$p" ] || ! [[ "$name" =~ $RT_NAME_RE ]] || ! [[ "$version" =~ $RT_VERSION_RE ]] \
       || ! [[ "$sha" =~ ^[0-9a-f]{64}$ ]] || [ -z "$archive" ] || ! [[ "$path" =~ ^pool/[A-Za-z0-9_./+~%-]+$ ]] \
       || [[ "$path" == *..* ]] || [ -n "$value" ]; then
      RT_PROBLEMS+=("line $n: malformed $section line: '$line'"); continue
    fi
    [ -n "${RT_ARCHIVES[$archive]+set}" ] || RT_PROBLEMS+=("line $n: $name: archive '$archive' is not declared in the header")
    if [ "$section" = source ]; then
      rt_lock_source_line "$n" "$name" "$version" "$sha" "$archive" "$path" "$profiles" "$line"; continue
    fi
    [[ "$path" == *.deb ]] || RT_PROBLEMS+=("line $n: $name: $path is not a .deb")
    if [ -n "${RT_VERSION[$name]+set}" ]; then RT_PROBLEMS+=("line $n: $name is listed twice"); continue; fi
    for p in ${profiles//,/ }; do
      [ -n "${RT_PROFILES[$p]+set}" ] || RT_PROBLEMS+=("line $n: $name: profile '$p' is not declared in the header")
    done
    [ -n "$profiles" ] || RT_PROBLEMS+=("line $n: $name belongs to no profile")
    RT_PACKAGES+=("$name")
    RT_VERSION[$name]=$version RT_SHA[$name]=$sha RT_ARCHIVE_OF[$name]=$archive RT_PATH[$name]=$path RT_IN[$name]=",$profiles,"
  done <"$file"
  [ "$RT_FORMAT" = 1 ] || RT_PROBLEMS+=("lock format '${RT_FORMAT:-none}' is not 1")
  [[ "$RT_SNAPSHOT" =~ $RT_SNAPSHOT_RE ]] || RT_PROBLEMS+=("snapshot '${RT_SNAPSHOT:-none}' is not a snapshot timestamp YYYYMMDDTHHMMSSZ")
  [ -n "$RT_SUITE" ] || RT_PROBLEMS+=("no distribution in the header")
  [ -n "$RT_ARCH" ] || RT_PROBLEMS+=("no architecture in the header")
  [ ${#RT_ARCHIVES[@]} -gt 0 ] || RT_PROBLEMS+=("no archive in the header")
  [ ${#RT_PROFILES[@]} -gt 0 ] || RT_PROBLEMS+=("no profile in the header")
  for name in "${RT_SOURCES[@]}"; do
    [ -n "${RT_SRC_DSC[$name]+set}" ] || RT_PROBLEMS+=("source $name has no .dsc line")
  done
  for p in "${!RT_PROFILES[@]}"; do
    for name in ${RT_PROFILES[$p]}; do
      [[ "${RT_IN[$name]:-}" == *",$p,"* ]] || RT_PROBLEMS+=("profile $p: its root package $name is not locked in it")
    done
  done
  [ ${#RT_PROBLEMS[@]} = 0 ]
}

# rt_lock_source_line N NAME VERSION SHA ARCHIVE PATH EXTRA LINE: one file of a source package
# (rt_lock_read's [source] section). Files are keyed by their name, which a source package's .dsc
# names them by; RT_SOURCES lists the package names in lock order.
rt_lock_source_line() {
  local n=$1 name=$2 version=$3 sha=$4 archive=$5 path=$6 extra=$7 line=$8 file
  file=${path##*/}
  if [ -n "$extra" ] || ! [[ "$file" =~ ^[A-Za-z0-9][A-Za-z0-9_.+~-]*\.(dsc|tar\.(gz|xz|bz2|lzma)|tar\.(gz|xz|bz2|lzma)\.asc|diff\.gz)$ ]]; then
    RT_PROBLEMS+=("line $n: malformed source line: '$line'"); return
  fi
  if [ -n "${RT_SRC_SHA[$file]+set}" ]; then RT_PROBLEMS+=("line $n: source file $file is listed twice"); return; fi
  if [ -n "${RT_SRC_VERSION[$name]+set}" ] && [ "${RT_SRC_VERSION[$name]}" != "$version" ]; then
    RT_PROBLEMS+=("line $n: source $name is locked at two versions (${RT_SRC_VERSION[$name]}, $version)"); return
  fi
  [ -n "${RT_SRC_VERSION[$name]+set}" ] || RT_SOURCES+=("$name")
  RT_SRC_VERSION[$name]=$version RT_SRC_SHA[$file]=$sha RT_SRC_ARCHIVE[$file]=$archive RT_SRC_PATH[$file]=$path RT_SRC_OF[$file]=$name
  RT_SRC_FILES+=("$file")
  [[ "$file" != *.dsc ]] || RT_SRC_DSC[$name]=$file
}

# rt_profile_packages PROFILE: the locked package names of PROFILE ("all": every one), sorted.
rt_profile_packages() {
  local name
  for name in "${RT_PACKAGES[@]}"; do
    if [ "$1" = all ] || [[ "${RT_IN[$name]}" == *",$1,"* ]]; then echo "$name"; fi
  done | sort
}

# rt_archive_url ARCHIVE [SNAPSHOT]: the mirror URL of one archive of the snapshot.
rt_archive_url() {
  local a='{archive}' s='{snapshot}' url
  url=${RT_MIRROR//"$a"/$1}
  echo "${url//"$s"/${2:-$RT_SNAPSHOT}}"
}

# rt_fetch URL DEST: downloads URL (http, https or file) to DEST atomically.
# Returns 0 done, 4 the server says it has no such file, 1 any other failure (message on stderr).
rt_fetch() {
  local url=$1 dest=$2 code rc
  command -v curl >/dev/null 2>&1 || { echo "curl not found (tools/install-deps runtime)" >&2; return 1; }
  code=$(curl -sSL --retry 3 --retry-delay 2 --connect-timeout 20 --max-time 600 -o "$dest.part" \
         -w '%{http_code}' "$url" 2>"$dest.err"); rc=$?
  if [ $rc = 0 ] && { [ "$code" = 200 ] || [ "$code" = 000 ]; }; then mv "$dest.part" "$dest"; rm -f "$dest.err"; return 0; fi
  rm -f "$dest.part"
  if [ "$code" = 404 ] || [ "$code" = 410 ] || [ $rc = 37 ]; then rm -f "$dest.err"; return 4; fi
  echo "$url: ${code:+HTTP $code }$(head -c 300 "$dest.err")" >&2; rm -f "$dest.err"
  return 1
}

rt_sha256() { sha256sum "$1" | cut -d' ' -f1; }

# rt_stamp_write ROOT PROFILE: records in the root filesystem which lock and profile built it.
rt_stamp_write() {
  printf '# titan-host runtime built by tools/runtime from this lock; tools/verify-deps reads it\nlock-sha256: %s\nsnapshot: %s\nprofile: %s\n' \
    "$(rt_sha256 "$RT_LOCK_FILE")" "$RT_SNAPSHOT" "$2" >"$1/$RT_STAMP"
}

# rt_stamp_get ROOT KEY: a value of the root filesystem's stamp (empty when absent).
rt_stamp_get() { sed -n "s/^$2: //p" "$1/$RT_STAMP" 2>/dev/null | head -n 1; }
