/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What the harness-*.c files share among themselves and no test uses: the
 * watchdog-guarded wait, the callbacks the fixture connects, and the fake
 * target's connection handed from the peer that accepts it to the thread
 * that speaks iSCSI on it. Tests include harness.h only.
 */

#include "harness.h"

#define CALL_TIMEOUT_MSEC 20000

/* Arms the watchdog: unless removed first, it aborts the test naming what. */
guint harness_watchdog_start(const char *what);

/*
 * Everything the tests wait for arrives through the default main context, so
 * iterating it until a condition holds is the one way to wait; the watchdog
 * turns a lost event into an abort instead of a hang.
 */
#define WAIT_UNTIL(cond, what)                                                  \
        do {                                                                    \
                guint _watchdog = harness_watchdog_start(what);                 \
                while (!(cond))                                                 \
                        g_main_context_iteration(NULL, TRUE);                   \
                g_source_remove(_watchdog);                                     \
        } while (0)

/* Dispatches whatever the default main context has ready, without blocking. */
void harness_drain_main_context(void);

/*
 * A GSpawnChildSetupFunc: a test that aborts must not leave its bus and
 * daemon behind; they would keep the test's output pipe open and the test
 * runner waiting for EOF.
 */
void harness_die_with_parent(gpointer user_data);

/* strcmp() for g_ptr_array_sort() and qsort() over char pointers. */
gint harness_compare_strings(gconstpointer a, gconstpointer b);

/* The file's contents, or "" when it is missing (path may be NULL). */
char *harness_read_file_or_empty(const char *path);

/* The GDBusSignalCallback that records the service's signals in h->signals (harness-signals.c). */
void harness_record_signal(GDBusConnection *connection, const char *sender, const char *path,
                           const char *interface, const char *member, GVariant *parameters, gpointer user_data);
/* Watches IRD_BUS_NAME on h->connection, keeping h->daemon_owner current (harness-daemon.c). */
void harness_watch_daemon_name(Harness *h);

/* One accepted connection of the fake target, with what the peer demanded when it came. */
typedef struct TargetConnection {
        int fd;
        char **target_names;
        char *portal;                   /* "address:port,1" for TargetAddress */
        char *chap_username;            /* NULL: no authentication */
        char *chap_secret;
        char *mutual_username;          /* NULL: no mutual CHAP */
        char *mutual_secret;
        unsigned quirks;
        gint *logouts;                  /* a reference to the peer's counter */
} TargetConnection;

/* Serves c in a thread of its own, which frees it (harness-target.c). */
void harness_target_serve(TargetConnection *c);
