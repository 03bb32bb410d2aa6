/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Verification probes on sd-event: connect to a remote portal (TCP, the
 * socket bound to the local access point's address first when one is given),
 * then check it. Each probe has its own deadline covering every stage; many
 * run at once on one event loop; freeing a probe aborts it at once and closes
 * its socket, without calling back.
 *
 * Stages: resolve (host names only) → connect → check. The check stage is
 * where the iSCSI-level verification goes; today a completed TCP connection
 * is the whole check.
 */

#include <stdint.h>
#include <systemd/sd-event.h>

/* Used when probe_start() is given a timeout of 0 (the contract's default). */
#define PROBE_TIMEOUT_DEFAULT_USEC (UINT64_C(10) * UINT64_C(1000000))

/* Longest address, host name or source address probe_start() accepts, in bytes. */
#define PROBE_ADDRESS_MAX 255

typedef struct Probe Probe;

typedef struct ProbeTarget {
        const char *source_address;     /* IP literal to bind to, NULL or "" for unbound */
        const char *address;            /* IP literal or host name */
        uint16_t port;
        const char *target_name;        /* expected iSCSI target, "" or NULL for none */
} ProbeTarget;

/*
 * error: 0 success; -ETIMEDOUT deadline passed; -ECONNREFUSED, -ECONNRESET,
 * -EHOSTUNREACH, -EADDRNOTAVAIL (bind), -ENOENT (name did not resolve),
 * -EPROTO (check failed) and other negative errno. message is one sentence
 * saying what failed, naming the portal (never any secret). The probe is
 * finished when this is called; the callee may free it.
 */
typedef void (*probe_callback_t)(Probe *p, int error, const char *message, void *userdata);

/*
 * Starts a probe on event; the target's strings are copied. timeout_usec 0
 * means PROBE_TIMEOUT_DEFAULT_USEC. Returns -EINVAL for a missing or empty
 * address, port 0, an over-long string or a source_address that is not an IP
 * literal; -ENOMEM and sd-event errors otherwise. Everything that depends on
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

/* Aborts a running probe without calling back; NULL is fine. Safe inside the callback. */
Probe *probe_free(Probe *p);
static inline void probe_freep(Probe **p) {
        probe_free(*p);
}
