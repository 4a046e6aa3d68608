/* A cycle's capsule: everything its decision depended on — the strategy file's text and SHA-256,
 * the settings and AI providers, ctx.now, the random seed, the book and ctx.state before the call,
 * and the tape of Kraken answers, AI exchanges, clock readings and environment reads — with its
 * outcome (status, decision record, orders). One JSON document (layout version 1), gzip-compressed,
 * redacted of every secret before it is written anywhere. `replay` runs a strategy against it. */
#ifndef TITAN_CAPSULE_H
#define TITAN_CAPSULE_H
#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "tape.h"

#define CAPSULE_VERSION 1

/* Read from bytes, a capsule owns its strings (capsule_free); built to be written, it may borrow
 * them (then never capsule_free it). */
typedef struct capsule {
    const char *cycle_id, *strategy, *mode, *pair, *host_version;
    int interval, dry_run;
    int64_t now_ms, recorded_ms;
    int64_t seed;                       /* math.randomseed of the cycle, < 2^53 */
    const char *file, *sha256, *source;   /* the strategy file as it ran: path, hash, text */
    tape_env *settings;                 /* host settings that shape a decision (NULL value = unset) */
    size_t n_settings;
    const char **ai;                    /* ctx.ai: the providers configured */
    size_t n_ai;
    double cash, position, realized_today;   /* the book before the call */
    const store_balance *ledger;        /* PAPER: the ledger the strategy saw */
    size_t ledger_n;
    const char *state_json;             /* ctx.state before the call, JSON text (NULL = none) */
    tape tape;
    /* the outcome */
    const char *status, *error;
    const char *decision_json;          /* the decision record, exact bytes, without strategy_ms */
    const char *orders_json;
    int64_t strategy_ms;
} capsule;

void capsule_free(capsule *c);

/* The host settings a capsule records (and a replay restores), NULL-terminated. */
extern const char *const capsule_setting_names[];

/* The capsule as JSON text, every secret redacted; malloc'd, NULL when out of memory. */
char *capsule_to_json(const capsule *c, size_t *len);
/* Gzip of the redacted JSON (what the store and the file hold); 0, or -1 when out of memory. */
int capsule_pack(const capsule *c, unsigned char **out, size_t *out_len);
/* Reads a capsule from gzip or plain JSON bytes. 0, or -1 with the reason in err. */
int capsule_unpack(const unsigned char *data, size_t len, capsule *out, char *err, size_t errlen);
int capsule_read_file(const char *path, capsule *out, char *err, size_t errlen);
/* Writes data to `path` (through a temporary file renamed into place). 0, or -1 with err. */
int capsule_write_file(const char *path, const unsigned char *data, size_t len, char *err, size_t errlen);
/* "capsule-<cycle id>.json.gz" in the blackbox's folder, the id's characters outside
 * [A-Za-z0-9._@-] (':' of the time) written '-', so artifact uploads accept the name. */
void capsule_file_path(const char *blackbox_path, const char *cycle_id, char *out, size_t outlen);
/* Reads a strategy file whole: *text (malloc'd, NULL when unreadable or over 4 MiB) and the
 * SHA-256 of its bytes in hex ("unreadable" when it cannot be read). */
void capsule_read_source(const char *path, char **text, char sha256_hex[65]);
/* Packs c and keeps it: the file capsule_file_path names beside the blackbox, and the store's
 * row (st NULL: file only, as a dry run writes nothing in the store) kept `days` days. *file and
 * *packed_len (may be NULL) say what was written. 0, or -1 with the first failure in err (the
 * other copy is still attempted). */
int capsule_keep(const capsule *c, store *st, int days, char *file, size_t filelen, size_t *packed_len, char *err,
                 size_t errlen);
/* Base64 of the packed bytes (the store's text column) and back; malloc'd, NULL on failure. */
char *capsule_base64(const unsigned char *data, size_t len);
unsigned char *capsule_unbase64(const char *text, size_t *len);
#endif
