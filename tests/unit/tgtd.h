/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A real iSCSI target for tests and benchmarks: tgtd (Debian's tgt) on a
 * 127.0.0.x address of its own, with its own --control-port, serving one
 * target whose LUN 1 is a backing file (sparse, of the size asked for).
 * Killed with SIGKILL and its files removed when freed, and killed with the
 * test program if that dies. Also the loop helper the data-path tests share.
 */

#include <glib.h>
#include <stdint.h>
#include <systemd/sd-event.h>

typedef struct Tgtd {
        char *address;
        guint16 port;
        unsigned control_port;
        GPid pid;
        char *target_name;
        char *backing_file;
} Tgtd;

/* FALSE (and the test skipped) when not root or tgt is not installed. */
gboolean tgtd_available(void);

/* Starts tgtd on address serving target_name, LUN 1 backed by a new sparse file of size bytes. */
Tgtd *tgtd_start(const char *address, const char *target_name, uint64_t size);

/* Initiators must log in to the target with this CHAP user and secret. */
void tgtd_require_chap(Tgtd *t, const char *user, const char *secret);

/* Only initiators connecting from this address may log in (tgt's initiator-address ACL). */
void tgtd_allow_only(Tgtd *t, const char *initiator_address);

/* SIGKILL, as a crashing target goes: the kernel resets its connections. */
void tgtd_kill(Tgtd *t);

void tgtd_free(Tgtd *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Tgtd, tgtd_free)

/* Runs the loop until a callback sets *stop; after watchdog_usec the test fails instead of hanging. */
void test_loop_until(sd_event *e, gboolean *stop, uint64_t watchdog_usec);
