/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Driving iscsi-replctl in the CLI tests (test-cli-*.c): the client runs on
 * the harness's bus with its output on pipes, or on a pseudo-terminal of its
 * own for what only a terminal sees (progress bars, prompts, Ctrl-C), and
 * --json output is parsed with json-glib.
 */

#include <glib.h>
#include <json-glib/json-glib.h>

#include "harness.h"

#define PEER_IQN "iqn.2024-01.org.example:peer"

/* Exit statuses, as iscsi-replctl(1) documents them. */
enum {
        CLI_OK = 0,
        CLI_GENERIC = 1,
        CLI_INVALID = 2,
        CLI_DENIED = 3,
        CLI_JOB_FAILED = 4,
        CLI_TIMEOUT = 5,
        CLI_IN_USE = 6,
        CLI_LIMITS = 7,
};

/* Daemons with options some tests need. */
extern const HarnessConfig no_verify;       /* --verify-access-points=no */
extern const HarnessConfig slow_probes;     /* --probe-timeout=30 */
extern const HarnessConfig quick_probes;    /* --probe-timeout=0.5 */
extern const HarnessConfig one_entry;       /* --max-array-entries=1 */

/* ---- running the client ---- */

typedef struct CliResult {
        int status;                     /* exit status; 128 + signal when killed */
        char *out;
        char *err;
} CliResult;

void cli_result_free(CliResult *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CliResult, cli_result_free)

typedef struct Pending {
        GSubprocess *process;
        gboolean done;
        char *out, *err;
} Pending;

const char *cli_path(void);
void on_communicated(GObject *source, GAsyncResult *result, gpointer user_data);
Pending *cli_start_env(Harness *h, const char *const *prefix, const char *const *args, const char *const *env);
Pending *cli_start(Harness *h, const char *const *prefix, const char *const *args);
CliResult *cli_finish(Harness *h, Pending *p);
CliResult *cli_runv(Harness *h, const char *const *args);
char *cli_expect(Harness *h, int status, const char *const *args);

#define CLI(h, ...) cli_runv((h), (const char *const[]) { __VA_ARGS__, NULL })
#define CLI_OUT(h, ...) cli_expect((h), CLI_OK, (const char *const[]) { __VA_ARGS__, NULL })

/* ---- pseudo-terminal ---- */

typedef struct Pty {
        int master;
        GSubprocess *process;
        GString *output;
} Pty;

void pty_start_full(Harness *h, Pty *t, const char *const *prefix, const char *const *args,
                    const char *const *env);
void pty_start_env(Harness *h, Pty *t, const char *const *args, const char *const *env);
void pty_start(Harness *h, Pty *t, const char *const *args);
gboolean pty_read(Pty *t, const char *until);
void pty_write(Pty *t, const char *s);
int pty_finish(Harness *h, Pty *t);
void pty_clear(Pty *t);

/* ---- JSON ---- */

JsonNode *parse_json(const char *text);
JsonObject *find_by_path(JsonNode *root, const char *path);
void assert_json_paths(JsonObject *o, const char *member, const char *const *expected);

/* ---- helpers ---- */

char *write_temp_file(Harness *h, const char *name, const char *contents);
char *wait_for_running_job(Harness *h);
