#!/usr/bin/env bash
# The binary under test, whichever build it is (`make test` or `make test VARIANT=static`): TLS trusts
# exactly Debian's CA locations (the bundle /etc/ssl/certs/ca-certificates.crt, then the hashed folder
# /etc/ssl/certs), proven against an HTTPS loopback server whose CA is placed there in a private mount
# namespace; and, for the self-contained build, that only the libc family stays dynamic (glibc 2.34 or
# newer) and libcurl carries nothing but HTTP/HTTPS over OpenSSL and zlib.
. "$(dirname "$0")/lib.sh"

FAKE=$ROOT/tests/fakes/http_server.py
export TITAN_BLACKBOX=$T_TMP/blackbox.log TITAN_LOG_LEVEL=error
unset SUPABASE_URL SUPABASE_KEY

# ---- a CA of our own, and a certificate for 127.0.0.1 signed by it ----
mk() { openssl "$@" >/dev/null 2>&1; }
if ! { mk req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=titan test CA" -keyout "$T_TMP/ca.key" -out "$T_TMP/ca.pem" &&
       mk req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$T_TMP/key.pem" -out "$T_TMP/srv.csr" &&
       printf 'subjectAltName=IP:127.0.0.1\n' >"$T_TMP/san.ext" &&
       mk x509 -req -in "$T_TMP/srv.csr" -CA "$T_TMP/ca.pem" -CAkey "$T_TMP/ca.key" -CAcreateserial -days 1 \
          -extfile "$T_TMP/san.ext" -out "$T_TMP/cert.pem" &&
       mk req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=another CA" -keyout "$T_TMP/other.key" -out "$T_TMP/other.pem"; }; then
  t_fail "openssl could not make the test certificates"
  t_finish; exit
fi
TLS_PORT=$(t_free_port)
python3 "$FAKE" "$TLS_PORT" --tls "$T_TMP/cert.pem" "$T_TMP/key.pem" 2>"$T_TMP/fake_tls.err" & T_PIDS+=($!)
t_check "fake https server up" t_wait_port "$TLS_PORT"
cat >"$T_TMP/get.lua" <<'EOF'
local res, err = titan.http.request{ url = arg[1], timeout_ms = 5000 }
if res then print("status " .. res.status) else print("error " .. err.code .. ": " .. err.message) end
EOF

# in_certs DIR CMD...: CMD with DIR mounted over /etc/ssl/certs, in a private mount namespace.
in_certs() {
  local dir=$1; shift
  unshare --mount --propagation private "${UNSHARE_USER[@]}" -- sh -c 'mount --bind "$1" /etc/ssl/certs && shift && exec "$@"' \
    _ "$dir" "$@"
}
UNSHARE_USER=()
[ "$(id -u)" = 0 ] || UNSHARE_USER=(--map-root-user)
mkdir -p "$T_TMP/probe"
if ! [ -d /etc/ssl/certs ] || ! in_certs "$T_TMP/probe" true 2>"$T_TMP/unshare.err"; then
  echo "SKIP $T_NAME: CA locations: cannot mount over /etc/ssl/certs in a private namespace ($(head -c 200 "$T_TMP/unshare.err"))" >&2
else
  URL=https://127.0.0.1:$TLS_PORT/echo
  # 1. the CA in the bundle file
  mkdir -p "$T_TMP/bundle"; cat "$T_TMP/other.pem" "$T_TMP/ca.pem" >"$T_TMP/bundle/ca-certificates.crt"
  out=$(in_certs "$T_TMP/bundle" "$TITAN_BIN" script "$T_TMP/get.lua" "$URL" 2>&1)
  t_check "CA in /etc/ssl/certs/ca-certificates.crt: trusted ($out)" test "$out" = "status 200"
  # 2. the CA only in the hashed folder (the bundle holds another CA)
  mkdir -p "$T_TMP/hashed"; cp "$T_TMP/other.pem" "$T_TMP/hashed/ca-certificates.crt"
  cp "$T_TMP/ca.pem" "$T_TMP/hashed/$(openssl x509 -noout -subject_hash -in "$T_TMP/ca.pem").0"
  out=$(in_certs "$T_TMP/hashed" "$TITAN_BIN" script "$T_TMP/get.lua" "$URL" 2>&1)
  t_check "CA hashed in /etc/ssl/certs: trusted ($out)" test "$out" = "status 200"
  # 3. the CA nowhere: refused, as an unknown certificate always is
  mkdir -p "$T_TMP/untrusted"; cp "$T_TMP/other.pem" "$T_TMP/untrusted/ca-certificates.crt"
  out=$(in_certs "$T_TMP/untrusted" "$TITAN_BIN" script "$T_TMP/get.lua" "$URL" 2>&1)
  t_check "CA in neither place: http.tls ($out)" bash -c '[[ "$1" == "error http.tls:"* ]]' _ "$out"
  # 4. SSL_CERT_FILE and SSL_CERT_DIR change nothing: the locations are compiled in, as Debian's libcurl's are
  out=$(SSL_CERT_FILE=$T_TMP/ca.pem SSL_CERT_DIR=$T_TMP/hashed in_certs "$T_TMP/untrusted" "$TITAN_BIN" script "$T_TMP/get.lua" "$URL" 2>&1)
  t_check "SSL_CERT_FILE/SSL_CERT_DIR do not widen the trust ($out)" bash -c '[[ "$1" == "error http.tls:"* ]]' _ "$out"
fi

# ---- the self-contained build ----
static=0
if [ "${TITAN_VARIANT:-}" = static ]; then static=1
elif [ -z "${TITAN_VARIANT:-}" ] && ! ldd "$TITAN_BIN" 2>/dev/null | grep -q libcurl; then static=1; fi
if [ "$static" = 0 ]; then
  echo "SKIP $T_NAME: self-contained checks: $TITAN_BIN is the dynamic build (make test VARIANT=static checks them)" >&2
else
  ldd "$TITAN_BIN" >"$T_TMP/ldd.out" 2>&1
  others=$(grep -vE '^\s*(linux-vdso\.so\.1|/lib64/ld-linux-x86-64\.so\.2|(libc|libm|libpthread|libdl)\.so\.[0-9]+ => )' "$T_TMP/ldd.out")
  t_check "ldd lists only the libc family (others: ${others:-none})" test -z "$others"
  t_check "ldd: libc is there (a dynamic executable, not a fully static one)" grep -q 'libc\.so\.6' "$T_TMP/ldd.out"
  t_run version
  t_rc "version" 0
  t_grep "version: libcurl over OpenSSL and zlib" "libcurl/7.88.1 OpenSSL/" "$T_OUT"
  t_grep "version: zlib" " zlib/" "$T_OUT"
  for lib in nghttp2 brotli zstd libidn2 libpsl libssh GnuTLS NSS librtmp; do
    t_nogrep "version: libcurl without $lib" "$lib" "$T_OUT"
  done
  t_check "no shared libcurl, Lua, OpenSSL or SQLite is looked for" \
    bash -c '! grep -qE "libcurl|liblua|libssl|libcrypto|libsqlite|libz\.so" "$1"' _ "$T_TMP/ldd.out"
  # README and the release notes promise any x86_64 Linux with glibc 2.34 or newer
  newest=$(objdump -T "$TITAN_BIN" 2>/dev/null | grep -o 'GLIBC_[0-9][0-9.]*' | sort -V | tail -n 1)
  t_check "needs nothing newer than glibc 2.34 (newest symbol version: ${newest:-none})" \
    bash -c '[ -n "$1" ] && [ "$(printf "%s\n" "$1" GLIBC_2.34 | sort -V | tail -n 1)" = GLIBC_2.34 ]' _ "$newest"
fi

t_finish
