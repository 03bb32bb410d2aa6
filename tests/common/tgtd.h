/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A real iSCSI target for tests and benchmarks: tgtd (Debian's tgt) on a
 * 127.0.0.x address of its own, with its own --control-port, configured with
 * tgtadm. Its logical units are backed by one sparse file of the size asked
 * for. Killed with SIGKILL and its files removed when freed, and killed with
 * the test program if that dies. Also the loop helper the data-path tests share.
 */

#include <glib.h>
#include <stdint.h>
#include <systemd/sd-event.h>

typedef struct Tgtd {
        char *address;
        guint16 port;                   /* its first portal */
        unsigned control_port;          /* names its management socket, /run/tgtd/socket.N */
        GPid pid;
        char *target_name;              /* the target tgtd_start() made, else NULL */
        char *backing_file;             /* the file every logical unit is backed by */
        int next_tid;
} Tgtd;

/* Why tgtd cannot run here (not root, tgt not installed), NULL when it can. */
const char *tgtd_unavailable_reason(void);

/* FALSE (and the test skipped) when not root or tgt is not installed. */
gboolean tgtd_available(void);

/* A tgtd listening on address, with no target yet; its backing file is a new sparse file of size bytes. */
Tgtd *tgtd_new(const char *address, uint64_t size);

/* As tgtd_new(), but NULL when tgtd does not come up. */
Tgtd *tgtd_try_new(const char *address, uint64_t size);

/* A target with no logical unit, offered to no initiator yet; returns its tid. */
int tgtd_add_bare_target(Tgtd *t, const char *name);

/* Offers tid to initiators connecting from initiator_address, or to all with "ALL". */
void tgtd_bind_initiator(Tgtd *t, int tid, const char *initiator_address);

/* A target with LUN 1 on the backing file, offered to every initiator; returns its tid. */
int tgtd_add_target(Tgtd *t, const char *name);

/* tgtd_new() with one target, tid 1, named target_name. */
Tgtd *tgtd_start(const char *address, const char *target_name, uint64_t size);

/* Incoming: initiators must log in to tid with it. Outgoing: tid proves itself with it (mutual CHAP). */
void tgtd_add_account(Tgtd *t, int tid, const char *user, const char *password, gboolean outgoing);

/* Initiators must log in to tid with the account user, made before by tgtd_add_account(). */
void tgtd_bind_account(Tgtd *t, int tid, const char *user);

/* Initiators must log in to target 1 with this CHAP user and secret. */
void tgtd_require_chap(Tgtd *t, const char *user, const char *secret);

/* Only initiators connecting from this address may log in to target 1 (tgt's initiator-address ACL). */
void tgtd_allow_only(Tgtd *t, const char *initiator_address);

/* One more portal of the same tgtd, on a new port of its address; returns the port. */
guint16 tgtd_add_portal(Tgtd *t);

/* SIGKILL, as a crashing target goes: the kernel resets its connections. */
void tgtd_kill(Tgtd *t);

/*
 * After tgtd_kill(): tgtd again on the same address and port, its target
 * (if tgtd_start() made one) back on the same backing file.
 */
void tgtd_restart(Tgtd *t);

void tgtd_free(Tgtd *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Tgtd, tgtd_free)

/* Runs the loop until a callback sets *stop; after watchdog_usec the test fails instead of hanging. */
void test_loop_until(sd_event *e, gboolean *stop, uint64_t watchdog_usec);
