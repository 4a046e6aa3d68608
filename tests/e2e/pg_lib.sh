# A real PostgreSQL for the end-to-end suites that need one (sourced after lib.sh): the python3
# that has psycopg2 (for the PostgREST fake) and a throwaway server (tests/fakes/pg.sh).

# pg_python: sets PY to a python3 with psycopg2 (the pyenv python on PATH may lack the Debian
# module), or fails the suite.
pg_python() {
  PY=""
  local p
  for p in python3 /usr/bin/python3; do
    if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import psycopg2' 2>/dev/null; then PY=$p; return 0; fi
  done
  t_fail "no python3 with psycopg2 (install python3-psycopg2: tools/install-deps test)"; t_finish; exit 1
}

# pg_start: starts the server, stopped whatever happens (sets PGDIR PGHOST PGPORT PGBIN), or fails
# the suite. psql_run ARGS... then runs psql on its postgres database, stopping at the first error.
PGDIR=""
pg_cleanup() { [ -n "$PGDIR" ] && "$ROOT/tests/fakes/pg.sh" stop "$PGDIR"; t_cleanup; }
pg_start() {
  trap pg_cleanup EXIT
  local pg_env
  pg_env=$("$ROOT/tests/fakes/pg.sh" start) || { t_fail "PostgreSQL did not start"; t_finish; exit 1; }
  eval "$pg_env"
}
psql_run() { "$PGBIN/psql" -h "$PGHOST" -p "$PGPORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -q "$@"; }
