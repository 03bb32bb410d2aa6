/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A TCP relay in front of a real iSCSI target, for tests that must stop one
 * command on its way: the service connects to the relay as to a portal, and
 * the relay passes every byte both ways unchanged, on a thread of its own.
 * It cuts the initiator's stream into PDUs (the basic header segment, the
 * additional header segments, the data segment padded to 4 bytes: the
 * service negotiates no digests) so that, once armed, it holds the first
 * SCSI command that is a SYNCHRONIZE CACHE (10 or 16): that command and
 * everything after it on its connection never reach the target. Writes
 * before it do, so the target has the bytes but nobody had them confirmed.
 * Traffic stays on 127.0.0.0/8.
 */

#include <glib.h>

#include "harness.h"

typedef struct IscsiRelay IscsiRelay;

/* Listens on address (an ephemeral port) and relays to target_address:target_port. */
IscsiRelay *iscsi_relay_new(const char *address, const char *target_address, guint16 target_port);
void iscsi_relay_free(IscsiRelay *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(IscsiRelay, iscsi_relay_free)

guint16 iscsi_relay_port(const IscsiRelay *r);
/* Arms the relay: the next SYNCHRONIZE CACHE on any connection is held (once). */
void iscsi_relay_hold_sync(IscsiRelay *r);
/* Runs the main loop (under the harness's watchdog) until a SYNCHRONIZE CACHE is held. */
void iscsi_relay_wait_held(IscsiRelay *r, Harness *h);
