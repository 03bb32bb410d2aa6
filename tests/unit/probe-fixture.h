/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What the tests of net/probe (test-probe-*.c) share: a private sd-event loop
 * per test under a watchdog, loopback listeners, and the outcome of a probe
 * as its callback reported it.
 *
 * A "hanging" listener is one whose accept queue is full: Linux then drops
 * further SYNs, so a connect to it neither succeeds nor fails — the way an
 * unresponsive portal behaves.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "net/probe.h"
#include "unit-util.h"
#include "util/strutil.h"

#define SHORT_DEADLINE_USEC (300 * USEC_PER_MSEC)
#define N_CONCURRENT 50

sd_event *event_new_with_watchdog(void);
unsigned count_open_fds(void);
/*
 * glibc's lookup threads idle for a second before they exit: waits (a few
 * seconds at most, never failing) until they are gone.
 */
void wait_for_lookup_threads(void);

bool make_sockaddr(const char *address, uint16_t port, struct sockaddr_storage *ss, socklen_t *len);
int listener_open(const char *address, uint16_t port, int backlog, uint16_t *ret_port);

typedef struct HangingListener {
        int fd;
        uint16_t port;
        int clients[16];
        size_t n_clients;
} HangingListener;

bool hanging_listener_open(HangingListener *h, const char *address);
void hanging_listener_close(HangingListener *h);

typedef struct Outcome {
        sd_event *event;
        Probe *probe;
        unsigned n_calls;
        int error;
        Reason reason;
        char *message;
        uint64_t finished_usec;
        unsigned *n_running;    /* shared by concurrent probes; exit when it reaches 0 */
} Outcome;

void outcome_done(Outcome *o);
/* The probe callback: records the outcome in the Outcome it is given, frees the probe. */
void on_probe_done(Probe *p, int error, Reason reason, const char *message, void *userdata);
void start_target_probe(Outcome *o, sd_event *e, const ProbeTarget *target, uint64_t timeout_usec);
void start_probe(Outcome *o, sd_event *e, const char *source, const char *address, uint16_t port,
                 uint64_t timeout_usec);
void run_probe(Outcome *o, const char *source, const char *address, uint16_t port, uint64_t timeout_usec);

/* A probe cancelled while it runs: the fds before it started. */
typedef struct CancelContext {
        Outcome outcome;
        unsigned fds_before;
} CancelContext;

/*
 * Starts a probe of target with a short deadline and frees it 50 ms later,
 * while it waits; checks that it never calls back, even once its deadline
 * has passed, and that every fd it opened is closed again.
 */
void run_cancelled_probe(const ProbeTarget *target);
