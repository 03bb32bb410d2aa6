/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Verification probes on sd-event: connect to a remote portal (TCP, the
 * socket bound to the local access point's address first when one is given),
 * then check it. Each probe has its own deadline covering every stage; many
 * run at once on one event loop; freeing a probe aborts it at once and closes
 * its socket, without calling back.
 *
 * Stages: resolve (host names only) → connect → check. Without iscsi_check
 * a completed TCP connection is the whole check. With it, the check is the
 * iSCSI verification of API.md section 7, driven by libiscsi on the same
 * loop: a discovery session (login, SendTargets=All, logout) on the bound
 * connection; the expected names must be among the answers (the expected
 * node name also as the base of a target name, "<name>:…"); then, when a
 * target name is expected, a second bound connection carries a normal
 * session login to that target and a logout, which proves the credentials.
 * A logout decides nothing: unanswered (for a moment), answered by a close
 * or not even sent, the connection is closed and the session's verdict
 * stands.
 */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "core/reason.h"

/* Used when probe_start() is given a timeout of 0 (the contract's default). */
#define PROBE_TIMEOUT_DEFAULT_USEC (UINT64_C(10) * UINT64_C(1000000))

/* Longest address, host name or source address probe_start() accepts, in bytes. */
#define PROBE_ADDRESS_MAX 255

typedef struct Probe Probe;

/*
 * What to probe. Every string is borrowed for the duration of probe_start()
 * only and copied; "" and NULL both mean "none". The credentials are copied
 * into memory that is wiped when the probe ends, and appear in no message.
 */
typedef struct ProbeTarget {
        const char *source_address;     /* IP literal to bind to, NULL or "" for unbound */
        const char *address;            /* IP literal or host name */
        uint16_t port;
        const char *target_name;        /* expected iSCSI target; with iscsi_check also logged in to */

        /* Verify at the iSCSI level after connecting; false: the TCP connection is the whole check. */
        bool iscsi_check;
        const char *initiator_name;     /* required with iscsi_check: who logs in */
        const char *expected_node_name; /* must be among the SendTargets answers too (the peer's IQN/EUI/NAA) */
        const char *username;           /* CHAP: our name and secret, both or neither */
        const char *secret;
        const char *mutual_username;    /* mutual CHAP: the target's name and secret, both or neither; */
        const char *mutual_secret;      /*   only together with username/secret */
} ProbeTarget;

/*
 * error: 0 success; -ETIMEDOUT deadline passed (in any stage); -ECONNREFUSED,
 * -ECONNRESET (also a connection the peer closed during the iSCSI exchange;
 * one libiscsi gave up is -EPROTO, with libiscsi's reason when it gave one),
 * -EHOSTUNREACH, -EADDRNOTAVAIL (bind), -ENOENT (host name did not resolve, an
 * expected name is not offered, the target does not exist), -EACCES (login
 * rejected for its credentials or not authorized, mutual CHAP failed),
 * -EPROTO (any other iSCSI failure) and other negative errno. reason is the
 * stable reason of API.md section 7 (REASON_NONE on success). message is one
 * sentence saying what failed, naming the portal (never any secret; text from
 * the peer is reduced to printable ASCII). The probe is finished when this is
 * called; the callee may free it.
 */
typedef void (*probe_callback_t)(Probe *p, int error, Reason reason, const char *message, void *userdata);

/*
 * Starts a probe on event; the target's strings are copied. timeout_usec 0
 * means PROBE_TIMEOUT_DEFAULT_USEC. Returns -EINVAL for a missing or empty
 * address, port 0, an over-long string, a source_address that is not an IP
 * literal, iscsi_check without an initiator name, or a user name without its
 * secret (or the reverse, or mutual credentials alone); -ENOMEM and sd-event
 * errors otherwise. Everything that depends on
 * the network (including a source address that cannot be bound or does not
 * match the target's address family) is reported through the callback, which
 * is called exactly once and never from inside probe_start().
 */
int probe_start(sd_event *event,
                const ProbeTarget *target,
                uint64_t timeout_usec,
                probe_callback_t callback,
                void *userdata,
                Probe **ret);

/*
 * Aborts a running probe without calling back and closes its connections
 * (no iSCSI logout is attempted); NULL is fine. Safe inside the callback.
 */
Probe *probe_free(Probe *p);
static inline void probe_freep(Probe **p) {
        probe_free(*p);
}
