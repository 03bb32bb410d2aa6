/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Which bus the client talks to, connecting to it, and what a user should
 * check when the bus cannot be reached or the service is not on it (and the
 * bus cannot start it). Messages name the bus: the system bus, the session
 * bus, the bus at an address, or the system bus of a host over ssh.
 */

#include <stdbool.h>
#include <stdio.h>
#include <systemd/sd-bus.h>

typedef enum BusKind {
        BUS_SYSTEM,
        BUS_SESSION,
        BUS_ADDRESS,
        BUS_REMOTE,
} BusKind;

typedef struct BusTarget {
        BusKind kind;
        const char *address;            /* BUS_ADDRESS */
        const char *host;               /* BUS_REMOTE */
} BusTarget;

/*
 * Connects to target. On failure prints which bus could not be reached and
 * what to check, and returns an exit status (replctl.h); 0 on success. The
 * target is remembered for bus_explain_service_missing().
 */
int bus_connect(const BusTarget *target, sd_bus **ret);

/*
 * Whether a call failed because the connection did: sd-bus connects to a
 * remote host (ssh) or finishes authenticating only with the first call.
 */
bool bus_errno_is_disconnect(int r);
/* For such a failure: which bus could not be reached and what to check. */
void bus_explain_disconnect(FILE *f, int r);

/* Whether a failed call says the service is not on the bus and was not (or could not be) started. */
bool bus_error_is_service_missing(const sd_bus_error *error);
/* For such an error: which bus, what it said, and what to check; one paragraph on f. */
void bus_explain_service_missing(FILE *f, const sd_bus_error *error);
