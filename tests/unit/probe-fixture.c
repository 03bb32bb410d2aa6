/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The probe tests' loop, listeners and outcome (probe-fixture.h). */

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <glib.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "probe-fixture.h"

static int on_watchdog(sd_event_source *s, uint64_t usec, void *userdata) {
        fprintf(stderr, "# watchdog: the loop ran for %u s without finishing\n",
                (unsigned) (WATCHDOG_USEC / USEC_PER_SEC));
        return sd_event_exit(sd_event_source_get_event(s), -ETIMEDOUT);
}


/* A fresh loop per test, with a floating watchdog owned by the loop. */
sd_event *event_new_with_watchdog(void) {
        sd_event *e = NULL;

        g_assert_cmpint(sd_event_new(&e), ==, 0);
        g_assert_cmpint(sd_event_add_time(e, NULL, CLOCK_MONOTONIC,
                                          now_usec(CLOCK_MONOTONIC) + WATCHDOG_USEC, 0,
                                          on_watchdog, NULL), ==, 0);
        return e;
}

static int on_exit_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        return sd_event_exit(sd_event_source_get_event(s), 0);
}

static void add_exit_timer(sd_event *e, uint64_t after_usec) {
        g_assert_cmpint(sd_event_add_time(e, NULL, CLOCK_MONOTONIC,
                                          now_usec(CLOCK_MONOTONIC) + after_usec, 0,
                                          on_exit_timer, NULL), ==, 0);
}

/* The entries of a directory of /proc, not counting "." and "..". */
static unsigned count_entries(const char *path) {
        DIR *d = opendir(path);
        struct dirent *de;
        unsigned n = 0;

        g_assert_nonnull(d);
        while ((de = readdir(d)))
                if (de->d_name[0] != '.')
                        n++;
        closedir(d);
        return n;
}

unsigned count_open_fds(void) {
        return count_entries("/proc/self/fd");  /* includes the directory's own fd, as every count does */
}


bool make_sockaddr(const char *address, uint16_t port, struct sockaddr_storage *ss, socklen_t *len) {
        memset(ss, 0, sizeof(*ss));
        if (strchr(address, ':')) {
                struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) ss;

                sin6->sin6_family = AF_INET6;
                sin6->sin6_port = htons(port);
                *len = sizeof(*sin6);
                return inet_pton(AF_INET6, address, &sin6->sin6_addr) == 1;
        } else {
                struct sockaddr_in *sin = (struct sockaddr_in *) ss;

                sin->sin_family = AF_INET;
                sin->sin_port = htons(port);
                *len = sizeof(*sin);
                return inet_pton(AF_INET, address, &sin->sin_addr) == 1;
        }
}

static uint16_t sockaddr_port(const struct sockaddr_storage *ss) {
        if (ss->ss_family == AF_INET6)
                return ntohs(((const struct sockaddr_in6 *) ss)->sin6_port);
        return ntohs(((const struct sockaddr_in *) ss)->sin_port);
}

/* Non-blocking listener on address:port (0 for ephemeral); -errno on failure. */
int listener_open(const char *address, uint16_t port, int backlog, uint16_t *ret_port) {
        struct sockaddr_storage ss;
        socklen_t len;
        int fd;

        g_assert_true(make_sockaddr(address, port, &ss, &len));
        fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (bind(fd, (struct sockaddr *) &ss, len) < 0 || listen(fd, backlog) < 0) {
                int r = -errno;

                close(fd);
                return r;
        }

        len = sizeof(ss);
        g_assert_cmpint(getsockname(fd, (struct sockaddr *) &ss, &len), ==, 0);
        *ret_port = sockaddr_port(&ss);
        return fd;
}

void hanging_listener_close(HangingListener *h) {
        for (size_t i = 0; i < h->n_clients; i++)
                close(h->clients[i]);
        if (h->fd >= 0)
                close(h->fd);
        *h = (HangingListener) { .fd = -1 };
}

/*
 * Fills the accept queue of a listen(fd, 0) socket with clients that are never
 * accepted, until a new connect no longer completes within a short check —
 * from then on every SYN to it is dropped. Returns false (and skips the test)
 * when the network stack does not behave that way.
 */
bool hanging_listener_open(HangingListener *h, const char *address) {
        struct sockaddr_storage ss;
        socklen_t len;

        *h = (HangingListener) { .fd = -1 };
        h->fd = listener_open(address, 0, 0, &h->port);
        g_assert_cmpint(h->fd, >=, 0);
        g_assert_true(make_sockaddr(address, h->port, &ss, &len));

        while (h->n_clients < G_N_ELEMENTS(h->clients)) {
                struct pollfd pfd = { .events = POLLOUT };
                int r;

                pfd.fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
                g_assert_cmpint(pfd.fd, >=, 0);
                h->clients[h->n_clients++] = pfd.fd;

                if (connect(pfd.fd, (struct sockaddr *) &ss, len) < 0)
                        g_assert_cmpint(errno, ==, EINPROGRESS);
                else
                        continue;

                r = poll(&pfd, 1, 100);
                g_assert_cmpint(r, >=, 0);
                if (r == 0)
                        return true;
        }

        hanging_listener_close(h);
        g_test_skip("cannot make a listener that drops SYNs");
        return false;
}

void outcome_done(Outcome *o) {
        g_assert_null(o->probe);
        g_free(o->message);
        *o = (Outcome) {};
}

void on_probe_done(Probe *p, int error, Reason reason, const char *message, void *userdata) {
        Outcome *o = userdata;

        g_assert_true(p == o->probe);
        g_assert_nonnull(message);
        g_assert_cmpstr(message, !=, "");
        /* A failure always has a reason, a success never. */
        g_assert_cmpint(error < 0, ==, reason != REASON_NONE);

        o->n_calls++;
        o->error = error;
        o->reason = reason;
        g_free(o->message);
        o->message = g_strdup(message);
        o->finished_usec = now_usec(CLOCK_MONOTONIC);

        /* Freeing the probe from inside its own callback is part of the contract. */
        o->probe = probe_free(p);

        if (!o->n_running || --*o->n_running == 0)
                sd_event_exit(o->event, 0);
}

void start_target_probe(Outcome *o, sd_event *e, const ProbeTarget *target, uint64_t timeout_usec) {
        o->event = e;
        g_assert_cmpint(probe_start(e, target, timeout_usec, on_probe_done, o, &o->probe), ==, 0);
        g_assert_nonnull(o->probe);
        /* Never from inside probe_start(), whatever happens next. */
        g_assert_cmpuint(o->n_calls, ==, 0);
}

void start_probe(Outcome *o, sd_event *e, const char *source, const char *address, uint16_t port,
                 uint64_t timeout_usec) {
        const ProbeTarget target = {
                .source_address = source,
                .address = address,
                .port = port,
        };

        start_target_probe(o, e, &target, timeout_usec);
}

/* Runs one probe to completion and returns with its outcome in o. */
void run_probe(Outcome *o, const char *source, const char *address, uint16_t port, uint64_t timeout_usec) {
        sd_event *e = event_new_with_watchdog();

        start_probe(o, e, source, address, port, timeout_usec);
        g_assert_cmpint(sd_event_loop(e), ==, 0);
        g_assert_cmpuint(o->n_calls, ==, 1);
        sd_event_unref(e);
}

static int on_cancel_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        CancelContext *c = userdata;
        sd_event *e = sd_event_source_get_event(s);

        /* The probe's socket is the only fd it holds while connecting. */
        g_assert_cmpuint(count_open_fds(), ==, c->fds_before + 1);
        c->outcome.probe = probe_free(c->outcome.probe);
        g_assert_cmpuint(count_open_fds(), ==, c->fds_before);

        /* Let the loop run on for a while: the deadline passes, nothing may call back. */
        add_exit_timer(e, 2 * SHORT_DEADLINE_USEC);
        return 0;
}

void run_cancelled_probe(const ProbeTarget *target) {
        sd_event *e = event_new_with_watchdog();
        CancelContext c = {};

        c.fds_before = count_open_fds();
        start_target_probe(&c.outcome, e, target, SHORT_DEADLINE_USEC);
        g_assert_cmpint(sd_event_add_time(e, NULL, CLOCK_MONOTONIC,
                                          now_usec(CLOCK_MONOTONIC) + 50 * USEC_PER_MSEC, 0,
                                          on_cancel_timer, &c), ==, 0);

        g_assert_cmpint(sd_event_loop(e), ==, 0);
        g_assert_cmpuint(c.outcome.n_calls, ==, 0);
        g_assert_null(c.outcome.probe);
        g_assert_cmpuint(count_open_fds(), ==, c.fds_before);

        sd_event_unref(e);
        outcome_done(&c.outcome);
}


static int on_thread_poll_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        const uint64_t *give_up_usec = userdata;
        uint64_t now = now_usec(CLOCK_MONOTONIC);

        if (count_entries("/proc/self/task") == 1 || now >= *give_up_usec)
                return sd_event_exit(sd_event_source_get_event(s), 0);

        g_assert_cmpint(sd_event_source_set_time(s, now + 20 * USEC_PER_MSEC), ==, 0);
        return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

/*
 * glibc's lookup threads idle for a second before they exit, and a leak
 * checker counts the per-thread state of threads still alive at exit as lost.
 * Waiting for them (a few seconds at most, never failing) keeps such reports
 * about the probe code alone.
 */
void wait_for_lookup_threads(void) {
        uint64_t give_up_usec = now_usec(CLOCK_MONOTONIC) + 3 * USEC_PER_SEC;
        sd_event *e = NULL;

        g_assert_cmpint(sd_event_new(&e), ==, 0);
        g_assert_cmpint(sd_event_add_time(e, NULL, CLOCK_MONOTONIC, 0, 0,
                                          on_thread_poll_timer, &give_up_usec), ==, 0);
        g_assert_cmpint(sd_event_loop(e), ==, 0);
        sd_event_unref(e);
}
