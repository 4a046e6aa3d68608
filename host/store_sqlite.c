/* The embedded SQLite store (the default when Supabase is not configured): one file, WAL mode,
 * a busy timeout, and every multi-step operation inside one BEGIN IMMEDIATE transaction so
 * concurrent runners on the same machine see the same compare-and-set semantics as PostgREST.
 * Syncs to disk only where durability matters (the lock take, planned orders, the record, the
 * operator's commands); statements are prepared once per connection. */
#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "clock.h"
#include "store_impl.h"
#include "version.h"

#define SQ_BUSY_TIMEOUT_MS 15000
#define SQ_MAX_STATEMENTS 48
/* The WAL is kept between runs: closing without copying it into the file saves a run two syncs,
 * and the next run two more for a new WAL. Past this size a closing run copies it and empties it,
 * so opening (SQLite reads the WAL back on every open) stays cheap. */
#define SQ_WAL_KEEP_BYTES (512 * 1024)
/* Within one process SQLite copies the WAL into the file at this many pages (its default): a long
 * script's writes never pile up. */
#define SQ_WAL_AUTOCHECKPOINT_PAGES 1000
#define SQ_STR_(x) #x
#define SQ_STR(x) SQ_STR_(x)

/* A statement prepared once per connection, reset after each use. */
typedef struct sq_statement {
    const char *sql;
    sqlite3_stmt *stmt;
    int in_use;
} sq_statement;

typedef struct sq_store {
    sqlite3 *db;
    sq_statement statements[SQ_MAX_STATEMENTS];
    int batch;         /* inside store_batch_begin .. store_batch_end: operations are savepoints */
    int batch_durable; /* a durable write happened in the batch: its commit syncs */
    char prefix[4200]; /* "sqlite <path>" for messages */
} sq_store;

static const char sq_schema[] =
    "CREATE TABLE IF NOT EXISTS execution_logs ("
    " cycle_id TEXT PRIMARY KEY,"
    " strategy TEXT NOT NULL,"
    " mode TEXT NOT NULL CHECK (mode IN ('PAPER','LIVE')),"
    " status TEXT NOT NULL CHECK (status IN ('running','done','failed','halted','skipped','in_doubt')),"
    " holder TEXT NOT NULL,"
    " started_at TEXT NOT NULL,"
    " lease_until TEXT,"
    " finished_at TEXT,"
    " decision TEXT CHECK (decision IS NULL OR json_valid(decision)),"
    " orders TEXT CHECK (orders IS NULL OR json_valid(orders)),"
    " error TEXT,"
    " host_version TEXT);"
    "CREATE INDEX IF NOT EXISTS execution_logs_started_at ON execution_logs (started_at);"
    "CREATE INDEX IF NOT EXISTS execution_logs_status ON execution_logs (status);"
    "CREATE TABLE IF NOT EXISTS paper_balances ("
    " strategy TEXT NOT NULL,"
    " asset TEXT NOT NULL,"
    " amount REAL NOT NULL,"
    " updated_at TEXT NOT NULL,"
    " PRIMARY KEY (strategy, asset));"
    "CREATE TABLE IF NOT EXISTS paper_fills ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " strategy TEXT NOT NULL,"
    " cycle_id TEXT NOT NULL,"
    " order_ref TEXT,"
    " ts TEXT NOT NULL,"
    " pair TEXT NOT NULL,"
    " side TEXT NOT NULL CHECK (side IN ('buy','sell')),"
    " order_type TEXT NOT NULL CHECK (order_type IN ('market','limit')),"
    " volume REAL NOT NULL CHECK (volume > 0),"
    " price REAL NOT NULL CHECK (price > 0),"
    " cost REAL NOT NULL CHECK (cost >= 0),"
    " fee REAL NOT NULL CHECK (fee >= 0),"
    " base_asset TEXT NOT NULL,"
    " quote_asset TEXT NOT NULL,"
    " realized_pnl REAL NOT NULL DEFAULT 0,"
    " reason TEXT,"
    " created_at TEXT NOT NULL);"
    "CREATE UNIQUE INDEX IF NOT EXISTS paper_fills_order_ref ON paper_fills (strategy, order_ref)"
    " WHERE order_ref IS NOT NULL;"
    "CREATE INDEX IF NOT EXISTS paper_fills_strategy_ts ON paper_fills (strategy, ts);"
    "CREATE TABLE IF NOT EXISTS strategy_state ("
    " strategy TEXT NOT NULL,"
    " key TEXT NOT NULL,"
    " value TEXT NOT NULL CHECK (json_valid(value)),"
    " updated_at TEXT NOT NULL,"
    " PRIMARY KEY (strategy, key));"
    "CREATE TABLE IF NOT EXISTS control ("
    " key TEXT PRIMARY KEY,"
    " value TEXT NOT NULL,"
    " updated_at TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS locks ("
    " name TEXT PRIMARY KEY,"
    " holder TEXT NOT NULL,"
    " acquired_at TEXT NOT NULL,"
    " lease_until TEXT NOT NULL);"
    /* capsule: base64 of the gzip'd capsule (host/capsule.h); expired ones go with the next insert */
    "CREATE TABLE IF NOT EXISTS cycle_capsules ("
    " cycle_id TEXT PRIMARY KEY,"
    " strategy TEXT NOT NULL,"
    " recorded_at TEXT NOT NULL,"
    " expires_at TEXT NOT NULL,"
    " capsule TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS cycle_capsules_strategy_recorded ON cycle_capsules (strategy, recorded_at);"
    "CREATE TRIGGER IF NOT EXISTS cycle_capsules_prune AFTER INSERT ON cycle_capsules BEGIN"
    " DELETE FROM cycle_capsules WHERE expires_at < NEW.recorded_at; END;"
    /* one row per notification key, claimed before its message is sent (notify.c) */
    "CREATE TABLE IF NOT EXISTS notifications ("
    " key TEXT PRIMARY KEY,"
    " strategy TEXT NOT NULL,"
    " cycle_id TEXT,"
    " event TEXT NOT NULL,"
    " claimed_at TEXT NOT NULL,"
    " result TEXT CHECK (result IS NULL OR json_valid(result)),"
    " finished_at TEXT);";

#define SQ_CYCLE_COLUMNS                                                                                    \
    "cycle_id, strategy, mode, status, holder, started_at, lease_until, finished_at, decision, orders, error, " \
    "host_version"

static void sq_fail(sq_store *s, char *err, size_t errlen, const char *what)
{
    store_errorf(err, errlen, s->prefix, "%s: %s", what, sqlite3_errmsg(s->db));
}

/* Binds arguments by a format: s = text (NULL binds NULL), i = int64, d = double,
 * t = time in ms bound as ISO text (0 binds NULL). */
static int sq_bind(sqlite3_stmt *stmt, const char *fmt, va_list ap)
{
    int rc = SQLITE_OK;
    for (int i = 0; fmt[i] && rc == SQLITE_OK; i++) {
        int idx = i + 1;
        switch (fmt[i]) {
        case 's': {
            const char *v = va_arg(ap, const char *);
            rc = v ? sqlite3_bind_text(stmt, idx, v, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(stmt, idx);
            break;
        }
        case 'i': rc = sqlite3_bind_int64(stmt, idx, va_arg(ap, int64_t)); break;
        case 'd': rc = sqlite3_bind_double(stmt, idx, va_arg(ap, double)); break;
        case 't': {
            int64_t ms = va_arg(ap, int64_t);
            char iso[CLOCK_ISO_SIZE];
            rc = ms ? sqlite3_bind_text(stmt, idx, clock_iso(ms, iso), -1, SQLITE_TRANSIENT)
                    : sqlite3_bind_null(stmt, idx);
            break;
        }
        default: rc = SQLITE_MISUSE; break;
        }
    }
    return rc;
}

/* The connection's prepared statement for `sql` (prepared on first use). A statement already in
 * use (a caller nesting the same query) gets a one-off copy that sq_release finalizes. */
static sqlite3_stmt *sq_prepare(sq_store *s, const char *sql)
{
    sq_statement *free_slot = NULL;
    for (int i = 0; i < SQ_MAX_STATEMENTS; i++) {
        sq_statement *p = &s->statements[i];
        if (!p->sql) {
            if (!free_slot) free_slot = p;
        } else if ((p->sql == sql || strcmp(p->sql, sql) == 0) && !p->in_use) {
            p->in_use = 1;
            return p->stmt;
        }
    }
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v3(s->db, sql, -1, free_slot ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, NULL) != SQLITE_OK)
        return NULL;
    if (free_slot) *free_slot = (sq_statement){.sql = sql, .stmt = stmt, .in_use = 1};
    return stmt;
}

/* Done with a statement: a kept one is reset for its next use, a one-off finalized. */
static void sq_release(sq_store *s, sqlite3_stmt *stmt)
{
    if (!stmt) return;
    for (int i = 0; i < SQ_MAX_STATEMENTS; i++) {
        if (s->statements[i].stmt == stmt) {
            sqlite3_reset(stmt);
            sqlite3_clear_bindings(stmt);
            s->statements[i].in_use = 0;
            return;
        }
    }
    sqlite3_finalize(stmt);
}

/* Prepares (once) and binds; NULL + err on failure. */
static sqlite3_stmt *sq_query(sq_store *s, char *err, size_t errlen, const char *what, const char *sql,
                              const char *fmt, ...)
{
    sqlite3_stmt *stmt = sq_prepare(s, sql);
    if (!stmt) {
        sq_fail(s, err, errlen, what);
        return NULL;
    }
    va_list ap;
    va_start(ap, fmt);
    int rc = sq_bind(stmt, fmt, ap);
    va_end(ap);
    if (rc != SQLITE_OK) {
        sq_fail(s, err, errlen, what);
        sq_release(s, stmt);
        return NULL;
    }
    return stmt;
}

/* Steps a prepared statement (NULL = preparing failed, err already set) to the end and
 * releases it. 0 ok, -1 err. `constraint` (may be NULL) is set to 1 when it failed on a
 * constraint (err holds the message too). */
static int sq_run(sq_store *s, sqlite3_stmt *stmt, char *err, size_t errlen, int *constraint, const char *what)
{
    if (constraint) *constraint = 0;
    if (!stmt) return -1;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) {
        if (constraint && (rc & 0xff) == SQLITE_CONSTRAINT) *constraint = 1;
        sq_fail(s, err, errlen, what);
        sq_release(s, stmt);
        return -1;
    }
    sq_release(s, stmt);
    return 0;
}

#define sq_exec(s, err, errlen, constraint, what, sql, ...) \
    sq_run((s), sq_query((s), (err), (errlen), (what), (sql), __VA_ARGS__), (err), (errlen), (constraint), (what))

/* Runs a statement that returns no rows (transaction control), prepared once. */
static int sq_control(sq_store *s, const char *sql)
{
    sqlite3_stmt *stmt = sq_prepare(s, sql);
    if (!stmt) return SQLITE_ERROR;
    int rc = sqlite3_step(stmt);
    sq_release(s, stmt);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* ---- durability ----
 * The connection runs with synchronous=NORMAL: a commit appends to the WAL without waiting for
 * the disk. A durable write syncs the WAL once it has committed, which also makes every earlier
 * commit durable (the WAL is replayed in order, so a crash can only lose a suffix of commits). */
typedef enum { SQ_LAZY = 0, SQ_DURABLE = 1 } sq_durability;

/* fdatasync of the WAL (what synchronous=FULL does at every commit). 0 ok, -1 err. */
static int sq_sync(sq_store *s, char *err, size_t errlen)
{
    sqlite3_file *wal = NULL;
    int rc = sqlite3_file_control(s->db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal);
    if (rc == SQLITE_OK && wal && wal->pMethods) rc = wal->pMethods->xSync(wal, SQLITE_SYNC_NORMAL);
    if (rc != SQLITE_OK) {
        store_errorf(err, errlen, s->prefix, "the write was committed but could not be synced to disk (%s)",
                     sqlite3_errstr(rc));
        return -1;
    }
    return 0;
}

/* After a write outside a transaction of ours: syncs it when it must be durable (inside a batch,
 * the batch's commit does). */
static int sq_written(sq_store *s, sq_durability durability, char *err, size_t errlen)
{
    if (durability != SQ_DURABLE) return 0;
    if (s->batch) {
        s->batch_durable = 1;
        return 0;
    }
    return sq_sync(s, err, errlen);
}

static int sq_begin(sq_store *s, char *err, size_t errlen)
{
    /* IMMEDIATE takes the write lock now: the read that follows cannot go stale. Inside a batch
     * the lock is already held; a savepoint keeps this operation all-or-nothing. */
    if (sq_control(s, s->batch ? "SAVEPOINT sq_operation" : "BEGIN IMMEDIATE") != SQLITE_OK) {
        sq_fail(s, err, errlen, "cannot start a transaction");
        return -1;
    }
    return 0;
}

static void sq_rollback(sq_store *s)
{
    if (s->batch) {
        sq_control(s, "ROLLBACK TO sq_operation");
        sq_control(s, "RELEASE sq_operation");
    } else if (!sqlite3_get_autocommit(s->db)) {
        sq_control(s, "ROLLBACK");
    }
}

static int sq_commit(sq_store *s, sq_durability durability, char *err, size_t errlen)
{
    if (sq_control(s, s->batch ? "RELEASE sq_operation" : "COMMIT") != SQLITE_OK) {
        sq_fail(s, err, errlen, "commit failed");
        sq_rollback(s);
        return -1;
    }
    return sq_written(s, durability, err, errlen);
}

/* A cycle's last writes in one transaction: one commit, synced once if any of them is durable. */
static store_rc sq_batch_begin(void *impl, char *err, size_t errlen)
{
    sq_store *s = impl;
    if (s->batch) return STORE_OK;
    if (sq_control(s, "BEGIN IMMEDIATE") != SQLITE_OK) {
        sq_fail(s, err, errlen, "cannot start a transaction");
        return STORE_ERR;
    }
    s->batch = 1, s->batch_durable = 0;
    return STORE_OK;
}

static store_rc sq_batch_end(void *impl, char *err, size_t errlen)
{
    sq_store *s = impl;
    if (!s->batch) return STORE_OK;
    s->batch = 0;
    return sq_commit(s, s->batch_durable ? SQ_DURABLE : SQ_LAZY, err, errlen) == 0 ? STORE_OK : STORE_ERR;
}

static char *sq_column_dup(sqlite3_stmt *stmt, int col)
{
    const unsigned char *v = sqlite3_column_text(stmt, col);
    return v ? strdup((const char *)v) : NULL;
}

static int64_t sq_column_time(sqlite3_stmt *stmt, int col)
{
    const unsigned char *v = sqlite3_column_text(stmt, col);
    int64_t ms = 0;
    if (v && clock_parse_iso((const char *)v, &ms) != 0) ms = 0;
    return ms;
}

static void sq_read_cycle(sqlite3_stmt *stmt, store_cycle *c)
{
    c->cycle_id = sq_column_dup(stmt, 0);
    c->strategy = sq_column_dup(stmt, 1);
    c->mode = sq_column_dup(stmt, 2);
    c->status = sq_column_dup(stmt, 3);
    c->holder = sq_column_dup(stmt, 4);
    c->started_ms = sq_column_time(stmt, 5);
    c->lease_until_ms = sq_column_time(stmt, 6);
    c->finished_ms = sq_column_time(stmt, 7);
    c->decision_json = sq_column_dup(stmt, 8);
    c->orders_json = sq_column_dup(stmt, 9);
    c->error = sq_column_dup(stmt, 10);
    c->host_version = sq_column_dup(stmt, 11);
}

/* Reads one cycle row: STORE_OK, STORE_NOT_FOUND or STORE_ERR. */
static store_rc sq_load_cycle(sq_store *s, const char *cycle_id, store_cycle *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *stmt = sq_query(s, err, errlen, "cannot read execution_logs",
                                  "SELECT " SQ_CYCLE_COLUMNS " FROM execution_logs WHERE cycle_id = ?", "s", cycle_id);
    if (!stmt) return STORE_ERR;
    int rc = sqlite3_step(stmt);
    store_rc r = STORE_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        sq_read_cycle(stmt, out);
        r = out->cycle_id && out->status ? STORE_OK : STORE_ERR;
        if (r == STORE_ERR) store_errorf(err, errlen, s->prefix, "out of memory reading a cycle");
    } else if (rc != SQLITE_DONE) {
        sq_fail(s, err, errlen, "cannot read execution_logs");
        r = STORE_ERR;
    }
    sq_release(s, stmt);
    return r;
}

/* ---- open / close ---- */

/* Copies a WAL grown past SQ_WAL_KEEP_BYTES into the file and empties it. Never waits: when
 * another process is busy with the file, a later run does it. */
static void sq_trim_wal(sq_store *s)
{
    sqlite3_file *wal = NULL;
    sqlite3_int64 size = 0;
    if (sqlite3_file_control(s->db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal) != SQLITE_OK || !wal ||
        !wal->pMethods || wal->pMethods->xFileSize(wal, &size) != SQLITE_OK || size <= SQ_WAL_KEEP_BYTES)
        return;
    sqlite3_busy_timeout(s->db, 0);
    sqlite3_wal_checkpoint_v2(s->db, "main", SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
}

static void sq_close(void *impl)
{
    sq_store *s = impl;
    if (!s) return;
    if (s->batch) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);   /* a batch never ended: as if the process died */
    if (s->db) sq_trim_wal(s);
    for (int i = 0; i < SQ_MAX_STATEMENTS; i++) sqlite3_finalize(s->statements[i].stmt);
    sqlite3_close(s->db);
    free(s);
}

static int sq_check_folder(const char *path, char *err, size_t errlen, const char *prefix)
{
    char *copy = strdup(path);
    if (!copy) {
        store_errorf(err, errlen, prefix, "out of memory");
        return -1;
    }
    const char *dir = dirname(copy);
    struct stat sb;
    int ok = 1;
    if (stat(dir, &sb) != 0) {
        store_errorf(err, errlen, prefix, "folder %s does not exist (%s); create it or set TITAN_DB — no database was created elsewhere",
                     dir, strerror(errno));
        ok = 0;
    } else if (!S_ISDIR(sb.st_mode)) {
        store_errorf(err, errlen, prefix, "%s is not a folder", dir);
        ok = 0;
    } else if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        store_errorf(err, errlen, prefix, "is a folder, not a database file");
        ok = 0;
    }
    free(copy);
    return ok ? 0 : -1;
}

/* The WAL is kept between runs (see store_sqlite_open): one left behind by a database file that
 * was deleted would be replayed into a new file of the same name. Refused, never mixed. */
static int sq_check_orphan_wal(const char *path, char *err, size_t errlen, const char *prefix)
{
    char wal[4100];
    struct stat sb;
    snprintf(wal, sizeof wal, "%s-wal", path);
    if (stat(path, &sb) == 0 || errno != ENOENT || stat(wal, &sb) != 0) return 0;
    store_errorf(err, errlen, prefix, "the file is gone but %s (its latest writes) is still there: delete %s-wal and "
                                      "%s-shm too to start a new database, or restore the file",
                 wal, path, path);
    return -1;
}

/* Runs `sql` retrying while the database is busy beyond the busy handler (journal-mode switches
 * and first-time schema creation by many processes at once), within the store's timeout: another
 * process holding the write lock must not stall a cycle for 50 busy timeouts (12 minutes). */
static int sq_exec_retry(sq_store *s, const char *sql)
{
    int64_t until = clock_monotonic_ms() + store_timeout_ms();
    int rc;
    for (;;) {
        rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
        if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || clock_monotonic_ms() >= until) break;
        sqlite3_sleep(100);
    }
    return rc;
}

/* The schema's version stamp (PRAGMA user_version): a hash of its text, so a file is brought up to
 * date once after any change of sq_schema. Always at least 2 (0 = new file, 1 = older releases). */
static long sq_schema_id(void)
{
    uint32_t h = 2166136261u;   /* FNV-1a */
    for (const char *p = sq_schema; *p; p++) h = (h ^ (unsigned char)*p) * 16777619u;
    return (long)(h & 0x7fffffff) | 2;
}

static long sq_user_version(sq_store *s)
{
    sqlite3_stmt *stmt = sq_prepare(s, "PRAGMA user_version");
    long v = stmt && sqlite3_step(stmt) == SQLITE_ROW ? (long)sqlite3_column_int64(stmt, 0) : -1;
    sq_release(s, stmt);
    return v;
}

static const store_ops sq_ops;

void *store_sqlite_open(const char *path, const store_ops **ops, char *err, size_t errlen)
{
    char prefix[4200];
    snprintf(prefix, sizeof prefix, "sqlite %s", path && *path ? path : "(empty path)");
    if (!path || !*path) {
        store_errorf(err, errlen, prefix, "TITAN_DB is empty");
        return NULL;
    }
    if (strlen(path) > 4000) {
        store_errorf(err, errlen, "sqlite", "database path is too long");
        return NULL;
    }
    if (sq_check_folder(path, err, errlen, prefix) != 0 || sq_check_orphan_wal(path, err, errlen, prefix) != 0)
        return NULL;
    sq_store *s = calloc(1, sizeof *s);
    if (!s) {
        store_errorf(err, errlen, prefix, "out of memory");
        return NULL;
    }
    snprintf(s->prefix, sizeof s->prefix, "%s", prefix);
    int rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        store_errorf(err, errlen, prefix, "cannot open: %s", s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
        sq_close(s);
        return NULL;
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, store_timeout_ms());
    if (sqlite3_db_readonly(s->db, "main") == 1) {
        store_errorf(err, errlen, prefix, "the file is not writable (the lock and the ledger need to write)");
        sq_close(s);
        return NULL;
    }
    /* Reading the header here reports a corrupt or foreign file before anything else. */
    if (sq_exec_retry(s, "PRAGMA journal_mode=WAL") != SQLITE_OK) {
        sq_fail(s, err, errlen, "cannot use the file as a database");
        sq_close(s);
        return NULL;
    }
    /* Commits wait for no disk (durable writes sync themselves: sq_sync), and the WAL is kept at
     * close (sq_trim_wal). */
    if (sqlite3_exec(s->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(s->db, "PRAGMA wal_autocheckpoint=" SQ_STR(SQ_WAL_AUTOCHECKPOINT_PAGES), NULL, NULL, NULL) !=
            SQLITE_OK ||
        sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL) != SQLITE_OK) {
        sq_fail(s, err, errlen, "cannot configure the database");
        sq_close(s);
        return NULL;
    }
    if (sq_exec_retry(s, "BEGIN IMMEDIATE") != SQLITE_OK) {
        sq_fail(s, err, errlen, "cannot write to the database");
        sq_close(s);
        return NULL;
    }
    /* The tables are created once per version of the schema: a file already at it is not written. */
    int current = sq_user_version(s) == sq_schema_id();
    if (!current) {
        char set_version[64];
        snprintf(set_version, sizeof set_version, "PRAGMA user_version = %ld", sq_schema_id());
        rc = sqlite3_exec(s->db, sq_schema, NULL, NULL, NULL);
        if (rc == SQLITE_OK) rc = sqlite3_exec(s->db, set_version, NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
            sq_fail(s, err, errlen, "cannot create the tables");
            sq_rollback(s);
            sq_close(s);
            return NULL;
        }
    }
    if (sq_commit(s, SQ_LAZY, err, errlen) != 0) {
        sq_close(s);
        return NULL;
    }
    *ops = &sq_ops;
    return s;
}

/* ---- cycles ---- */

static store_acquire_result sq_acquire_cycle(void *impl, const char *cycle_id, const char *strategy,
                                             const char *mode, const char *holder, int lease_s, store_cycle *info,
                                             char *err, size_t errlen)
{
    sq_store *s = impl;
    int64_t now = clock_now_ms(), lease_until = now + (int64_t)lease_s * 1000;
    if (sq_begin(s, err, errlen) != 0) return STORE_ACQUIRE_ERROR;
    store_rc r = sq_load_cycle(s, cycle_id, info, err, errlen);
    store_acquire_result result = STORE_ACQUIRE_ERROR;
    if (r == STORE_NOT_FOUND) {
        if (sq_exec(s, err, errlen, NULL, "cannot insert into execution_logs",
                    "INSERT INTO execution_logs (cycle_id, strategy, mode, status, holder, started_at, lease_until, "
                    "host_version) VALUES (?, ?, ?, 'running', ?, ?, ?, ?)",
                    "sssstts", cycle_id, strategy, mode, holder, now, lease_until, TITAN_VERSION) == 0)
            result = STORE_ACQUIRED;
    } else if (r == STORE_OK) {
        if (strcmp(info->status, STORE_STATUS_RUNNING) != 0) {
            result = STORE_DONE;
        } else if (info->lease_until_ms >= now) {
            result = STORE_HELD;
        } else {
            /* compare-and-set on the exact row we read, as the PostgREST backend does */
            if (sq_exec(s, err, errlen, NULL, "cannot take over the expired cycle",
                        "UPDATE execution_logs SET holder = ?, lease_until = ?, host_version = ? "
                        "WHERE cycle_id = ? AND status = 'running' AND holder = ?",
                        "stsss", holder, lease_until, TITAN_VERSION, cycle_id, info->holder) == 0) {
                if (sqlite3_changes(s->db) == 1) result = STORE_TAKEN_OVER;
                else store_errorf(err, errlen, s->prefix, "takeover of %s changed nothing", cycle_id);
            }
        }
    }
    if (result == STORE_ACQUIRE_ERROR) {
        sq_rollback(s);
        return result;
    }
    /* the lock is on disk before anything runs under it; a slot found done or held wrote nothing */
    int wrote = result == STORE_ACQUIRED || result == STORE_TAKEN_OVER;
    if (sq_commit(s, wrote ? SQ_DURABLE : SQ_LAZY, err, errlen) != 0) return STORE_ACQUIRE_ERROR;
    return result;
}

/* Explains why a holder-conditioned update changed nothing (inside the transaction). */
static store_rc sq_explain_lost(sq_store *s, const char *cycle_id, const char *holder, const char *action, char *err,
                                size_t errlen)
{
    store_cycle row;
    store_rc r = sq_load_cycle(s, cycle_id, &row, err, errlen);
    return store_explain_lost(r, &row, s->prefix, cycle_id, holder, action, err, errlen);
}

/* Runs a prepared UPDATE conditioned on (cycle_id, holder, running) in one transaction:
 * STORE_OK when it changed the row, STORE_CONFLICT with the reason when it did not. */
static store_rc sq_update_held(sq_store *s, sqlite3_stmt *stmt, const char *cycle_id, const char *holder,
                               const char *action, sq_durability durability, char *err, size_t errlen)
{
    if (!stmt) return STORE_ERR;
    if (sq_begin(s, err, errlen) != 0) {
        sq_release(s, stmt);
        return STORE_ERR;
    }
    if (sq_run(s, stmt, err, errlen, NULL, action) != 0) {
        sq_rollback(s);
        return STORE_ERR;
    }
    if (sqlite3_changes(s->db) != 1) {
        store_rc r = sq_explain_lost(s, cycle_id, holder, action, err, errlen);
        sq_rollback(s);
        return r;
    }
    return sq_commit(s, durability, err, errlen) == 0 ? STORE_OK : STORE_ERR;
}

static store_rc sq_renew_lease(void *impl, const char *cycle_id, const char *holder, int lease_s, char *err,
                               size_t errlen)
{
    sq_store *s = impl;
    int64_t until = clock_now_ms() + (int64_t)lease_s * 1000;
    sqlite3_stmt *stmt = sq_query(s, err, errlen, "cannot renew the lease",
                                  "UPDATE execution_logs SET lease_until = ? "
                                  "WHERE cycle_id = ? AND holder = ? AND status = 'running'",
                                  "tss", until, cycle_id, holder);
    /* not synced: a renewal lost to a crash only shortens the lease of a runner that died with it */
    return sq_update_held(s, stmt, cycle_id, holder, "renew the lease of", SQ_LAZY, err, errlen);
}

static store_rc sq_update_cycle_orders(void *impl, const char *cycle_id, const char *holder, const char *orders_json,
                                       store_durability durability, char *err, size_t errlen)
{
    sq_store *s = impl;
    sqlite3_stmt *stmt = sq_query(s, err, errlen, "cannot record the orders",
                                  "UPDATE execution_logs SET orders = ? "
                                  "WHERE cycle_id = ? AND holder = ? AND status = 'running'",
                                  "sss", orders_json, cycle_id, holder);
    /* LIVE: the planned orders are on disk before anything is sent */
    return sq_update_held(s, stmt, cycle_id, holder, "record the orders of",
                          durability == STORE_DURABLE ? SQ_DURABLE : SQ_LAZY, err, errlen);
}

static store_rc sq_finish_cycle(void *impl, const char *cycle_id, const char *holder, const char *status,
                                const char *decision_json, const char *orders_json, const char *error, char *err,
                                size_t errlen)
{
    sq_store *s = impl;
    int64_t now = clock_now_ms();
    sqlite3_stmt *stmt = sq_query(s, err, errlen, "cannot finish the cycle",
                                  "UPDATE execution_logs SET status = ?, finished_at = ?, lease_until = ?, "
                                  "decision = COALESCE(?, decision), orders = COALESCE(?, orders), error = ? "
                                  "WHERE cycle_id = ? AND holder = ? AND status = 'running'",
                                  "sttsssss", status, now, now, decision_json, orders_json, error, cycle_id, holder);
    return sq_update_held(s, stmt, cycle_id, holder, "finish", SQ_DURABLE, err, errlen);
}

static store_rc sq_resolve_cycle(void *impl, const char *cycle_id, const char *from_status, const char *new_status,
                                 const char *orders_json, const char *note, char *err, size_t errlen)
{
    sq_store *s = impl;
    if (sq_begin(s, err, errlen) != 0) return STORE_ERR;
    store_cycle row;
    store_rc r = sq_load_cycle(s, cycle_id, &row, err, errlen);
    if (r == STORE_NOT_FOUND) store_errorf(err, errlen, s->prefix, "no cycle %s", cycle_id);
    if (r == STORE_OK && strcmp(row.status, from_status) != 0) {
        store_errorf(err, errlen, s->prefix, "cycle %s is %s, not %s (resolved already?); nothing changed",
                     cycle_id, row.status, from_status);
        r = STORE_CONFLICT;
    }
    if (r == STORE_OK) {
        char *error = NULL;
        if (note) {
            size_t n = (row.error ? strlen(row.error) + 3 : 0) + strlen(note) + 1;
            error = malloc(n);
            if (error) snprintf(error, n, "%s%s%s", row.error ? row.error : "", row.error ? "; " : "", note);
        }
        if (note && !error) {
            store_errorf(err, errlen, s->prefix, "out of memory");
            r = STORE_ERR;
        } else if (sq_exec(s, err, errlen, NULL, "cannot resolve the in-doubt cycle",
                           "UPDATE execution_logs SET status = ?, orders = COALESCE(?, orders), "
                           "error = COALESCE(?, error) WHERE cycle_id = ? AND status = ?",
                           "sssss", new_status, orders_json, error, cycle_id, from_status) != 0) {
            r = STORE_ERR;
        }
        free(error);
    }
    store_cycle_free(&row);
    if (r != STORE_OK) {
        sq_rollback(s);
        return r;
    }
    return sq_commit(s, SQ_LAZY, err, errlen) == 0 ? STORE_OK : STORE_ERR;
}

static store_rc sq_retry_cycle(void *impl, const char *cycle_id, const char *holder, int lease_s, char *err,
                               size_t errlen)
{
    sq_store *s = impl;
    int64_t now = clock_now_ms();
    if (sq_begin(s, err, errlen) != 0) return STORE_ERR;
    store_rc r = STORE_OK;
    if (sq_exec(s, err, errlen, NULL, "cannot re-open the failed cycle",
                "UPDATE execution_logs SET status = 'running', holder = ?, started_at = ?, lease_until = ?, "
                "finished_at = NULL, decision = NULL, orders = NULL, error = NULL, host_version = ? "
                "WHERE cycle_id = ? AND status = 'failed'",
                "sttss", holder, now, now + (int64_t)lease_s * 1000, TITAN_VERSION, cycle_id) != 0) {
        r = STORE_ERR;
    } else if (sqlite3_changes(s->db) != 1) {
        store_cycle row;
        r = sq_load_cycle(s, cycle_id, &row, err, errlen);
        r = store_explain_status(r, &row, s->prefix, cycle_id, STORE_STATUS_FAILED, err, errlen);
    }
    if (r != STORE_OK) {
        sq_rollback(s);
        return r;
    }
    return sq_commit(s, SQ_DURABLE, err, errlen) == 0 ? STORE_OK : STORE_ERR;
}

static store_rc sq_get_cycle(void *impl, const char *cycle_id, store_cycle *out, char *err, size_t errlen)
{
    sq_store *s = impl;
    store_rc r = sq_load_cycle(s, cycle_id, out, err, errlen);
    if (r == STORE_NOT_FOUND) store_errorf(err, errlen, s->prefix, "no cycle %s", cycle_id);
    return r;
}

static store_rc sq_list_cycles(void *impl, int limit, const char *strategy, const char *status, store_cycle **rows,
                               size_t *n, char *err, size_t errlen)
{
    sq_store *s = impl;
    sqlite3_stmt *stmt = sq_query(s, err, errlen, "cannot list execution_logs",
                                  "SELECT " SQ_CYCLE_COLUMNS " FROM execution_logs "
                                  "WHERE (?1 IS NULL OR strategy = ?1) AND (?2 IS NULL OR status = ?2) "
                                  "ORDER BY started_at DESC, cycle_id DESC LIMIT ?3",
                                  "ssi", strategy, status, (int64_t)limit);
    if (!stmt) return STORE_ERR;
    store_cycle *out = calloc((size_t)limit, sizeof *out);
    if (!out) {
        sq_release(s, stmt);
        store_errorf(err, errlen, s->prefix, "out of memory");
        return STORE_ERR;
    }
    size_t count = 0;
    int rc;
    while (count < (size_t)limit && (rc = sqlite3_step(stmt)) == SQLITE_ROW) sq_read_cycle(stmt, &out[count++]);
    if (count < (size_t)limit && rc != SQLITE_DONE) {
        sq_fail(s, err, errlen, "cannot list execution_logs");
        sq_release(s, stmt);
        store_cycles_free(out, count);
        return STORE_ERR;
    }
    sq_release(s, stmt);
    *rows = out, *n = count;
    return STORE_OK;
}

static store_rc sq_release_cycle(void *impl, const char *cycle_id, int force, store_cycle *removed, char *err,
                                 size_t errlen)
{
    sq_store *s = impl;
    if (sq_begin(s, err, errlen) != 0) return STORE_ERR;
    store_rc r = sq_load_cycle(s, cycle_id, removed, err, errlen);
    if (r == STORE_NOT_FOUND) store_errorf(err, errlen, s->prefix, "no cycle %s; nothing changed", cycle_id);
    if (r == STORE_OK && !force && strcmp(removed->status, STORE_STATUS_RUNNING) == 0 &&
        removed->lease_until_ms >= clock_now_ms()) {
        char iso[CLOCK_ISO_SIZE];
        store_errorf(err, errlen, s->prefix,
                     "cycle %s is running under %s with a live lease until %s; not released (use --force only if "
                     "that runner is gone)",
                     cycle_id, removed->holder, clock_iso(removed->lease_until_ms, iso));
        r = STORE_CONFLICT;
    }
    if (r == STORE_OK && sq_exec(s, err, errlen, NULL, "cannot delete the cycle",
                                 "DELETE FROM execution_logs WHERE cycle_id = ?", "s", cycle_id) != 0)
        r = STORE_ERR;
    if (r != STORE_OK) {
        sq_rollback(s);
        return r;
    }
    return sq_commit(s, SQ_DURABLE, err, errlen) == 0 ? STORE_OK : STORE_ERR;
}

/* ---- paper ledger ---- */

static store_rc sq_read_balances(sq_store *s, const char *strategy, store_balance **out, size_t *n, char *err,
                                 size_t errlen)
{
    sqlite3_stmt *stmt = sq_query(s, err, errlen, "cannot read paper_balances",
                                  "SELECT asset, amount FROM paper_balances WHERE strategy = ? ORDER BY asset", "s",
                                  strategy);
    if (!stmt) return STORE_ERR;
    size_t cap = 8, count = 0;
    store_balance *b = malloc(cap * sizeof *b);
    int rc = SQLITE_DONE;
    while (b && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        store_balance *nb = store_grow(b, &cap, count, sizeof *b);
        if (!nb) {
            free(b), b = NULL;
            break;
        }
        b = nb;
        const unsigned char *asset = sqlite3_column_text(stmt, 0);
        snprintf(b[count].asset, sizeof b[count].asset, "%s", asset ? (const char *)asset : "");
        b[count].amount = sqlite3_column_double(stmt, 1);
        count++;
    }
    if (!b || rc != SQLITE_DONE) {
        if (!b) store_errorf(err, errlen, s->prefix, "out of memory");
        else sq_fail(s, err, errlen, "cannot read paper_balances");
        sq_release(s, stmt);
        free(b);
        return STORE_ERR;
    }
    sq_release(s, stmt);
    *out = b, *n = count;
    return STORE_OK;
}

static store_rc sq_paper_balances(void *impl, const char *strategy, const char *seed_asset, double seed_amount,
                                  store_balance **out, size_t *n, char *err, size_t errlen)
{
    sq_store *s = impl;
    if (!seed_asset) return sq_read_balances(s, strategy, out, n, err, errlen);
    if (sq_begin(s, err, errlen) != 0) return STORE_ERR;
    /* seeding only when the strategy has no row at all: a spent-down ledger is never refilled */
    if (sq_exec(s, err, errlen, NULL, "cannot seed paper_balances",
                "INSERT INTO paper_balances (strategy, asset, amount, updated_at) "
                "SELECT ?1, ?2, ?3, ?4 WHERE NOT EXISTS (SELECT 1 FROM paper_balances WHERE strategy = ?1)",
                "ssdt", strategy, seed_asset, seed_amount, clock_now_ms()) != 0 ||
        sq_read_balances(s, strategy, out, n, err, errlen) != STORE_OK) {
        sq_rollback(s);
        return STORE_ERR;
    }
    if (sq_commit(s, SQ_LAZY, err, errlen) != 0) {
        free(*out), *out = NULL, *n = 0;
        return STORE_ERR;
    }
    return STORE_OK;
}

/* Adds delta to one balance inside the open transaction; STORE_CONFLICT when it would go negative. */
static store_rc sq_add_balance(sq_store *s, const char *strategy, const char *asset, double delta, int64_t now,
                               char *err, size_t errlen)
{
    sqlite3_stmt *stmt = sq_query(s, err, errlen, "cannot read paper_balances",
                                  "SELECT amount FROM paper_balances WHERE strategy = ? AND asset = ?", "ss", strategy,
                                  asset);
    if (!stmt) return STORE_ERR;
    double amount = 0;
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) amount = sqlite3_column_double(stmt, 0);
    else if (rc != SQLITE_DONE) {
        sq_fail(s, err, errlen, "cannot read paper_balances");
        sq_release(s, stmt);
        return STORE_ERR;
    }
    sq_release(s, stmt);
    double next = amount + delta;
    if (next < -STORE_BALANCE_EPSILON) {
        store_errorf(err, errlen, s->prefix,
                     "paper fill refused: %s balance %.10g cannot cover %.10g for strategy %s; nothing changed", asset,
                     amount, -delta, strategy);
        return STORE_CONFLICT;
    }
    if (next < 0) next = 0;
    return sq_exec(s, err, errlen, NULL, "cannot update paper_balances",
                   "INSERT INTO paper_balances (strategy, asset, amount, updated_at) VALUES (?, ?, ?, ?) "
                   "ON CONFLICT (strategy, asset) DO UPDATE SET amount = excluded.amount, updated_at = excluded.updated_at",
                   "ssdt", strategy, asset, next, now) == 0
               ? STORE_OK
               : STORE_ERR;
}

static store_rc sq_paper_apply_fill(void *impl, const char *strategy, const store_fill *f, int64_t *id_out, char *err,
                                    size_t errlen)
{
    sq_store *s = impl;
    int64_t now = clock_now_ms();
    int buy = strcmp(f->side, "buy") == 0;
    if (sq_begin(s, err, errlen) != 0) return STORE_ERR;
    int constraint = 0;
    store_rc r = STORE_OK;
    if (sq_exec(s, err, errlen, &constraint, "cannot insert into paper_fills",
                "INSERT INTO paper_fills (strategy, cycle_id, order_ref, ts, pair, side, order_type, volume, price, "
                "cost, fee, base_asset, quote_asset, realized_pnl, reason, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                "ssstsssddddssdst", strategy, f->cycle_id, f->order_ref, f->ts_ms, f->pair, f->side, f->order_type,
                f->volume, f->price, f->cost, f->fee, f->base_asset, f->quote_asset, f->realized_pnl, f->reason,
                now) != 0) {
        if (constraint && f->order_ref)
            store_errorf(err, errlen, s->prefix, "paper fill %s of strategy %s was already applied; nothing changed",
                         f->order_ref, strategy);
        r = constraint ? STORE_CONFLICT : STORE_ERR;
    }
    int64_t id = sqlite3_last_insert_rowid(s->db);
    if (r == STORE_OK)
        r = sq_add_balance(s, strategy, f->base_asset, buy ? f->volume : -f->volume, now, err, errlen);
    if (r == STORE_OK)
        r = sq_add_balance(s, strategy, f->quote_asset, buy ? -(f->cost + f->fee) : f->cost - f->fee, now, err, errlen);
    if (r != STORE_OK) {
        sq_rollback(s);
        return r;
    }
    if (sq_commit(s, SQ_LAZY, err, errlen) != 0) return STORE_ERR;
    if (id_out) *id_out = id;
    return STORE_OK;
}

static store_rc sq_paper_fills(void *impl, const char *strategy, const char *cycle_id, int64_t since_ms, int limit,
                               store_fill **rows, size_t *n, char *err, size_t errlen)
{
    sq_store *s = impl;
    char since[CLOCK_ISO_SIZE];
    clock_iso(since_ms > 0 ? since_ms : 0, since);
    sqlite3_stmt *stmt =
        sq_query(s, err, errlen, "cannot read paper_fills",
                 "SELECT id, cycle_id, order_ref, ts, pair, side, order_type, volume, price, cost, fee, base_asset, "
                 "quote_asset, realized_pnl, reason FROM paper_fills "
                 "WHERE strategy = ?1 AND (?2 IS NULL OR cycle_id = ?2) AND ts >= ?3 ORDER BY ts, id LIMIT ?4",
                 "sssi", strategy, cycle_id, since, (int64_t)limit);
    if (!stmt) return STORE_ERR;
    size_t cap = 16, count = 0;
    store_fill *out = calloc(cap, sizeof *out);
    int rc = SQLITE_DONE;
    while (out && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        store_fill *nf = store_grow(out, &cap, count, sizeof *out);
        if (!nf) {
            store_fills_free(out, count), out = NULL;
            break;
        }
        out = nf;
        store_fill *f = &out[count++];
        memset(f, 0, sizeof *f);
        f->id = sqlite3_column_int64(stmt, 0);
        f->cycle_id = sq_column_dup(stmt, 1);
        f->order_ref = sq_column_dup(stmt, 2);
        f->ts_ms = sq_column_time(stmt, 3);
        f->pair = sq_column_dup(stmt, 4);
        f->side = sq_column_dup(stmt, 5);
        f->order_type = sq_column_dup(stmt, 6);
        f->volume = sqlite3_column_double(stmt, 7);
        f->price = sqlite3_column_double(stmt, 8);
        f->cost = sqlite3_column_double(stmt, 9);
        f->fee = sqlite3_column_double(stmt, 10);
        f->base_asset = sq_column_dup(stmt, 11);
        f->quote_asset = sq_column_dup(stmt, 12);
        f->realized_pnl = sqlite3_column_double(stmt, 13);
        f->reason = sq_column_dup(stmt, 14);
    }
    if (!out || rc != SQLITE_DONE) {
        if (!out) store_errorf(err, errlen, s->prefix, "out of memory");
        else sq_fail(s, err, errlen, "cannot read paper_fills");
        sq_release(s, stmt);
        store_fills_free(out, count);
        return STORE_ERR;
    }
    sq_release(s, stmt);
    *rows = out, *n = count;
    return STORE_OK;
}

/* ---- state and control ---- */

/* Reads one text column of a one-row query into *value (NULL + STORE_NOT_FOUND when no row). */
static store_rc sq_read_text(sq_store *s, sqlite3_stmt *stmt, char **value, int64_t *time_ms, const char *what,
                             char *err, size_t errlen)
{
    if (!stmt) return STORE_ERR;
    int rc = sqlite3_step(stmt);
    store_rc r = STORE_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        *value = sq_column_dup(stmt, 0);
        if (time_ms) *time_ms = sq_column_time(stmt, 1);
        r = *value ? STORE_OK : STORE_ERR;
        if (!*value) store_errorf(err, errlen, s->prefix, "out of memory");
    } else if (rc != SQLITE_DONE) {
        sq_fail(s, err, errlen, what);
        r = STORE_ERR;
    }
    sq_release(s, stmt);
    return r;
}

static store_rc sq_state_get(void *impl, const char *strategy, const char *key, char **value_json, char *err,
                             size_t errlen)
{
    sq_store *s = impl;
    sqlite3_stmt *stmt = sq_query(s, err, errlen, "cannot read strategy_state",
                                  "SELECT value FROM strategy_state WHERE strategy = ? AND key = ?", "ss", strategy, key);
    return sq_read_text(s, stmt, value_json, NULL, "cannot read strategy_state", err, errlen);
}

static store_rc sq_state_set(void *impl, const char *strategy, const char *key, const char *value_json, char *err,
                             size_t errlen)
{
    sq_store *s = impl;
    int failed = value_json
                     ? sq_exec(s, err, errlen, NULL, "cannot write strategy_state",
                               "INSERT INTO strategy_state (strategy, key, value, updated_at) VALUES (?, ?, ?, ?) "
                               "ON CONFLICT (strategy, key) DO UPDATE SET value = excluded.value, "
                               "updated_at = excluded.updated_at",
                               "ssst", strategy, key, value_json, clock_now_ms())
                     : sq_exec(s, err, errlen, NULL, "cannot delete from strategy_state",
                               "DELETE FROM strategy_state WHERE strategy = ? AND key = ?", "ss", strategy, key);
    return failed ? STORE_ERR : STORE_OK;
}

static store_rc sq_state_list(void *impl, const char *strategy, store_kv **rows, size_t *n, char *err, size_t errlen)
{
    sq_store *s = impl;
    sqlite3_stmt *stmt = sq_query(s, err, errlen, "cannot read strategy_state",
                                  "SELECT key, value FROM strategy_state WHERE strategy = ? ORDER BY key", "s", strategy);
    if (!stmt) return STORE_ERR;
    size_t cap = 8, count = 0;
    store_kv *out = calloc(cap, sizeof *out);
    int rc = SQLITE_DONE;
    while (out && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        store_kv *nk = store_grow(out, &cap, count, sizeof *out);
        if (!nk) {
            store_kvs_free(out, count), out = NULL;
            break;
        }
        out = nk;
        out[count].key = sq_column_dup(stmt, 0);
        out[count].value = sq_column_dup(stmt, 1);
        count++;
    }
    if (!out || rc != SQLITE_DONE) {
        if (!out) store_errorf(err, errlen, s->prefix, "out of memory");
        else sq_fail(s, err, errlen, "cannot read strategy_state");
        sq_release(s, stmt);
        store_kvs_free(out, count);
        return STORE_ERR;
    }
    sq_release(s, stmt);
    *rows = out, *n = count;
    return STORE_OK;
}

static store_rc sq_control_get(void *impl, const char *key, char **value, int64_t *updated_ms, char *err,
                               size_t errlen)
{
    sq_store *s = impl;
    sqlite3_stmt *stmt = sq_query(s, err, errlen, "cannot read control",
                                  "SELECT value, updated_at FROM control WHERE key = ?", "s", key);
    return sq_read_text(s, stmt, value, updated_ms, "cannot read control", err, errlen);
}

static store_rc sq_control_set(void *impl, const char *key, const char *value, char *err, size_t errlen)
{
    sq_store *s = impl;
    /* an operator's switch (the halt flag) holds once the command says it does */
    return sq_exec(s, err, errlen, NULL, "cannot write control",
                   "INSERT INTO control (key, value, updated_at) VALUES (?, ?, ?) "
                   "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                   "sst", key, value, clock_now_ms()) == 0 &&
                   sq_written(s, SQ_DURABLE, err, errlen) == 0
               ? STORE_OK
               : STORE_ERR;
}

/* ---- named locks ---- */

static store_rc sq_lock_acquire(void *impl, const char *name, const char *holder, int ttl_s, char *current_holder,
                                size_t current_holder_len, char *err, size_t errlen)
{
    sq_store *s = impl;
    int64_t now = clock_now_ms(), until = now + (int64_t)ttl_s * 1000;
    if (sq_begin(s, err, errlen) != 0) return STORE_ERR;
    char *cur = NULL;
    int64_t cur_until = 0;
    sqlite3_stmt *stmt = sq_query(s, err, errlen, "cannot read locks",
                                  "SELECT holder, lease_until FROM locks WHERE name = ?", "s", name);
    store_rc r = sq_read_text(s, stmt, &cur, &cur_until, "cannot read locks", err, errlen);
    if (r == STORE_OK && strcmp(cur, holder) != 0 && cur_until >= now) {
        if (current_holder && current_holder_len) snprintf(current_holder, current_holder_len, "%s", cur);
        store_errorf(err, errlen, s->prefix, "lock %s is held by %s", name, cur);
        r = STORE_CONFLICT;
    } else if (r == STORE_OK || r == STORE_NOT_FOUND) {
        r = sq_exec(s, err, errlen, NULL, "cannot write locks",
                    "INSERT INTO locks (name, holder, acquired_at, lease_until) VALUES (?1, ?2, ?3, ?4) "
                    "ON CONFLICT (name) DO UPDATE SET acquired_at = CASE WHEN holder = ?2 THEN acquired_at ELSE ?3 END, "
                    "holder = ?2, lease_until = ?4",
                    "sstt", name, holder, now, until) == 0
                ? STORE_OK
                : STORE_ERR;
    }
    free(cur);
    if (r != STORE_OK) {
        sq_rollback(s);
        return r;
    }
    return sq_commit(s, SQ_LAZY, err, errlen) == 0 ? STORE_OK : STORE_ERR;
}

static store_rc sq_lock_release(void *impl, const char *name, const char *holder, char *err, size_t errlen)
{
    sq_store *s = impl;
    if (sq_exec(s, err, errlen, NULL, "cannot delete from locks", "DELETE FROM locks WHERE name = ? AND holder = ?",
                "ss", name, holder) != 0)
        return STORE_ERR;
    if (sqlite3_changes(s->db) == 0) {
        store_errorf(err, errlen, s->prefix, "lock %s is not held by %s", name, holder);
        return STORE_NOT_FOUND;
    }
    return STORE_OK;
}

/* ---- capsules ---- */

static store_rc sq_capsule_put(void *impl, const store_capsule *c, char *err, size_t errlen)
{
    sq_store *s = impl;
    return sq_exec(s, err, errlen, NULL, "cannot write cycle_capsules",
                   "INSERT INTO cycle_capsules (cycle_id, strategy, recorded_at, expires_at, capsule) "
                   "VALUES (?, ?, ?, ?, ?) ON CONFLICT (cycle_id) DO UPDATE SET strategy = excluded.strategy, "
                   "recorded_at = excluded.recorded_at, expires_at = excluded.expires_at, capsule = excluded.capsule",
                   "sstts", c->cycle_id, c->strategy, c->recorded_ms, c->expires_ms, c->capsule_b64) == 0
               ? STORE_OK
               : STORE_ERR;
}

/* Capsule rows from a statement selecting cycle_id, strategy, recorded_at, expires_at[, capsule]. */
static store_rc sq_read_capsules(sq_store *s, sqlite3_stmt *stmt, int with_text, store_capsule **rows, size_t *n,
                                 char *err, size_t errlen)
{
    if (!stmt) return STORE_ERR;
    size_t cap = 8, count = 0;
    store_capsule *out = calloc(cap, sizeof *out);
    int rc = SQLITE_DONE;
    while (out && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        store_capsule *grown = store_grow(out, &cap, count, sizeof *out);
        if (!grown) {
            store_capsules_free(out, count), out = NULL;
            break;
        }
        out = grown;
        store_capsule *c = &out[count++];
        memset(c, 0, sizeof *c);
        c->cycle_id = sq_column_dup(stmt, 0);
        c->strategy = sq_column_dup(stmt, 1);
        c->recorded_ms = sq_column_time(stmt, 2);
        c->expires_ms = sq_column_time(stmt, 3);
        if (with_text) c->capsule_b64 = sq_column_dup(stmt, 4);
    }
    if (!out || rc != SQLITE_DONE) {
        if (!out) store_errorf(err, errlen, s->prefix, "out of memory");
        else sq_fail(s, err, errlen, "cannot read cycle_capsules");
        sq_release(s, stmt);
        store_capsules_free(out, count);
        return STORE_ERR;
    }
    sq_release(s, stmt);
    *rows = out, *n = count;
    return STORE_OK;
}

static store_rc sq_capsule_get(void *impl, const char *cycle_id, store_capsule *out, char *err, size_t errlen)
{
    sq_store *s = impl;
    store_capsule *rows = NULL;
    size_t n = 0;
    store_rc rc = sq_read_capsules(s,
                                   sq_query(s, err, errlen, "cannot read cycle_capsules",
                                            "SELECT cycle_id, strategy, recorded_at, expires_at, capsule "
                                            "FROM cycle_capsules WHERE cycle_id = ?", "s", cycle_id),
                                   1, &rows, &n, err, errlen);
    if (rc == STORE_OK && n == 0) {
        store_errorf(err, errlen, s->prefix, "no capsule of cycle %s (never recorded, or expired)", cycle_id);
        rc = STORE_NOT_FOUND;
    } else if (rc == STORE_OK) {
        *out = rows[0];
        memset(&rows[0], 0, sizeof rows[0]);
    }
    store_capsules_free(rows, n);
    return rc;
}

static store_rc sq_capsule_list(void *impl, const char *strategy, int64_t since_ms, int64_t until_ms, int limit,
                                store_capsule **rows, size_t *n, char *err, size_t errlen)
{
    sq_store *s = impl;
    char since[CLOCK_ISO_SIZE] = "", until[CLOCK_ISO_SIZE] = "";
    if (since_ms) clock_iso(since_ms, since);
    if (until_ms) clock_iso(until_ms, until);
    sqlite3_stmt *stmt = sq_query(s, err, errlen, "cannot read cycle_capsules",
                                  "SELECT cycle_id, strategy, recorded_at, expires_at FROM cycle_capsules "
                                  "WHERE (?1 IS NULL OR strategy = ?1) AND (?2 = '' OR recorded_at >= ?2) "
                                  "AND (?3 = '' OR recorded_at < ?3) ORDER BY recorded_at, cycle_id LIMIT ?4",
                                  "sssi", strategy, since, until, (int64_t)limit);
    return sq_read_capsules(s, stmt, 0, rows, n, err, errlen);
}

/* ---- notifications ---- */

static store_rc sq_notify_claim(void *impl, const char *key, const char *strategy, const char *cycle_id,
                                const char *event, char *err, size_t errlen)
{
    sq_store *s = impl;
    int constraint = 0;
    if (sq_exec(s, err, errlen, &constraint, "cannot write notifications",
                "INSERT INTO notifications (key, strategy, cycle_id, event, claimed_at) VALUES (?, ?, ?, ?, ?)",
                "sssst", key, strategy, cycle_id, event, clock_now_ms()) == 0)
        return STORE_OK;
    if (!constraint) return STORE_ERR;
    store_errorf(err, errlen, s->prefix, "notification %s was claimed before", key);
    return STORE_CONFLICT;
}

static store_rc sq_notify_record(void *impl, const char *key, const char *result_json, char *err, size_t errlen)
{
    sq_store *s = impl;
    if (sq_exec(s, err, errlen, NULL, "cannot write notifications",
                "UPDATE notifications SET result = ?, finished_at = ? WHERE key = ?", "sts", result_json,
                clock_now_ms(), key) != 0)
        return STORE_ERR;
    if (sqlite3_changes(s->db) == 0) {
        store_errorf(err, errlen, s->prefix, "no notification %s", key);
        return STORE_NOT_FOUND;
    }
    return STORE_OK;
}

static const store_ops sq_ops = {
    .close = sq_close,
    .batch_begin = sq_batch_begin,
    .batch_end = sq_batch_end,
    .acquire_cycle = sq_acquire_cycle,
    .renew_lease = sq_renew_lease,
    .update_cycle_orders = sq_update_cycle_orders,
    .finish_cycle = sq_finish_cycle,
    .resolve_cycle = sq_resolve_cycle,
    .retry_cycle = sq_retry_cycle,
    .get_cycle = sq_get_cycle,
    .list_cycles = sq_list_cycles,
    .release_cycle = sq_release_cycle,
    .paper_balances = sq_paper_balances,
    .paper_apply_fill = sq_paper_apply_fill,
    .paper_fills = sq_paper_fills,
    .state_get = sq_state_get,
    .state_set = sq_state_set,
    .state_list = sq_state_list,
    .control_get = sq_control_get,
    .control_set = sq_control_set,
    .lock_acquire = sq_lock_acquire,
    .lock_release = sq_lock_release,
    .capsule_put = sq_capsule_put,
    .capsule_get = sq_capsule_get,
    .capsule_list = sq_capsule_list,
    .notify_claim = sq_notify_claim,
    .notify_record = sq_notify_record,
};
