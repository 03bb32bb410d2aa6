/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What the iSCSI verification tests (test-iscsi.c, test-iscsi-faults.c)
 * share: the daemon's initiator name and the local access point every probe
 * is bound to, the CHAP accounts of their tgtd targets, and the running of a
 * job that adds remote access points to a collection.
 */

#include <glib.h>

#include "harness.h"

#define INITIATOR "iqn.2026-01.org.example.itest:initiator"
/* The local access point every probe is bound to. */
#define LOCAL_ADDRESS "127.0.0.70"

#define CHAP_USER "itest-user"
#define CHAP_SECRET "itest-chap-secret-4711"
#define MUTUAL_USER "itest-target"
#define MUTUAL_SECRET "itest-mutual-secret-0815"

/* The size of the file every logical unit of a test target is backed by. */
#define LUN_SIZE (1024 * 1024)

/* How a job ended, from its Completed signal. */
typedef struct Outcome {
        gboolean success;
        guint16 code;
        char *message;
        guint64 elapsed_usec;           /* from the call to the Completed signal */
} Outcome;

void outcome_clear(Outcome *o);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Outcome, outcome_clear)

/* Waits for job's Completed; elapsed_usec counts from started (monotonic). */
Outcome wait_job(Harness *h, const char *job, gint64 started);
/* AddTo with remote access points of system; waits for the job it starts. */
Outcome add_remote(Harness *h, const char *collection, const char *const *remotes, const char *system,
                   char **ret_job);

char *error_description(Harness *h, const char *job);
/* The failed job's MessageID and the access point's LastErrorID are both reason. */
void assert_reason(Harness *h, const char *job, const char *access_point, const char *reason);

/* A collection holding the local access point on LOCAL_ADDRESS, and nothing remote yet. */
char *local_collection(Harness *h);
void assert_nothing_remote(Harness *h, const char *collection);
