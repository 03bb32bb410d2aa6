/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * net/probe: connect, refuse, time out, bind, cancel and resolve on a private
 * sd-event loop. Every peer is a loopback address (127.0.0.0/8, ::1), so
 * nothing leaves the host; the one non-local address (203.0.113.1, RFC 5737)
 * is only ever bound to, which fails before any packet is sent.
 *
 * A "hanging" listener is one whose accept queue is full: Linux then drops
 * further SYNs, so a connect to it neither succeeds nor fails — the way an
 * unresponsive portal behaves. A "silent" listener completes the handshake
 * but never answers a byte, like a portal whose iSCSI layer hangs.
 *
 * The iSCSI stage runs against a real target: tgtd (Debian's tgt) on
 * 127.0.0.61, started once for those tests when we are root and tgtd is
 * installed, and skipped otherwise.
 */

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "net/iscsi-connection.h"
#include "net/probe.h"
#include "util/strutil.h"

/* A hung test fails after this long instead of blocking the whole run. */
#define WATCHDOG_USEC (10 * USEC_PER_SEC)

#define SHORT_DEADLINE_USEC (300 * USEC_PER_MSEC)

/* ---- loop helpers ---- */

static int on_watchdog(sd_event_source *s, uint64_t usec, void *userdata) {
        fprintf(stderr, "# watchdog: the loop ran for %u s without finishing\n",
                (unsigned) (WATCHDOG_USEC / USEC_PER_SEC));
        return sd_event_exit(sd_event_source_get_event(s), -ETIMEDOUT);
}

/* A fresh loop per test, with a floating watchdog owned by the loop. */
static sd_event *event_new_with_watchdog(void) {
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

static unsigned count_open_fds(void) {
        DIR *d = opendir("/proc/self/fd");
        struct dirent *de;
        unsigned n = 0;

        g_assert_nonnull(d);
        while ((de = readdir(d)))
                if (de->d_name[0] != '.')
                        n++;
        closedir(d);
        return n;       /* includes the directory's own fd, as every count does */
}

/* ---- listeners ---- */

static bool make_sockaddr(const char *address, uint16_t port, struct sockaddr_storage *ss, socklen_t *len) {
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
static int listener_open(const char *address, uint16_t port, int backlog, uint16_t *ret_port) {
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

typedef struct HangingListener {
        int fd;
        uint16_t port;
        int clients[16];
        size_t n_clients;
} HangingListener;

static void hanging_listener_close(HangingListener *h) {
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
static bool hanging_listener_open(HangingListener *h, const char *address) {
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

/* ---- probe outcome ---- */

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

static void outcome_done(Outcome *o) {
        g_assert_null(o->probe);
        g_free(o->message);
        *o = (Outcome) {};
}

static void on_probe_done(Probe *p, int error, Reason reason, const char *message, void *userdata) {
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

static void start_target_probe(Outcome *o, sd_event *e, const ProbeTarget *target, uint64_t timeout_usec) {
        o->event = e;
        g_assert_cmpint(probe_start(e, target, timeout_usec, on_probe_done, o, &o->probe), ==, 0);
        g_assert_nonnull(o->probe);
        /* Never from inside probe_start(), whatever happens next. */
        g_assert_cmpuint(o->n_calls, ==, 0);
}

static void start_probe(Outcome *o, sd_event *e, const char *source, const char *address, uint16_t port,
                        uint64_t timeout_usec) {
        const ProbeTarget target = {
                .source_address = source,
                .address = address,
                .port = port,
        };

        start_target_probe(o, e, &target, timeout_usec);
}

/* Runs one probe to completion and returns with its outcome in o. */
static void run_probe(Outcome *o, const char *source, const char *address, uint16_t port, uint64_t timeout_usec) {
        sd_event *e = event_new_with_watchdog();

        start_probe(o, e, source, address, port, timeout_usec);
        g_assert_cmpint(sd_event_loop(e), ==, 0);
        g_assert_cmpuint(o->n_calls, ==, 1);
        sd_event_unref(e);
}

/* The probe has closed its side by now; the connection still waits in the queue. */
static void assert_accepted_from(int listener, const char *address) {
        struct sockaddr_storage peer, expected;
        socklen_t len = sizeof(peer), expected_len;
        int fd;

        fd = accept4(listener, (struct sockaddr *) &peer, &len, SOCK_CLOEXEC);
        g_assert_cmpint(fd, >=, 0);
        close(fd);
        if (!address)
                return;

        g_assert_true(make_sockaddr(address, 0, &expected, &expected_len));
        g_assert_cmpint(peer.ss_family, ==, expected.ss_family);
        if (peer.ss_family == AF_INET)
                g_assert_cmpuint(((struct sockaddr_in *) &peer)->sin_addr.s_addr, ==,
                                 ((struct sockaddr_in *) &expected)->sin_addr.s_addr);
        else
                g_assert_cmpmem(&((struct sockaddr_in6 *) &peer)->sin6_addr, sizeof(struct in6_addr),
                                &((struct sockaddr_in6 *) &expected)->sin6_addr, sizeof(struct in6_addr));
}

/* ---- tests ---- */

static void test_start_invalid(void) {
        sd_event *e = event_new_with_watchdog();
        Outcome o = {};
        Probe *p = NULL;
        const ProbeTarget good = { .address = "127.0.0.2", .port = 3260 };
        const ProbeTarget no_address = { .port = 3260 };
        const ProbeTarget empty_address = { .address = "", .port = 3260 };
        const ProbeTarget no_port = { .address = "127.0.0.2" };
        const ProbeTarget bad_source = { .source_address = "not-an-address", .address = "127.0.0.2", .port = 3260 };
        g_autofree char *long_name = g_strnfill(PROBE_ADDRESS_MAX + 1, 'a');
        const ProbeTarget too_long = { .address = long_name, .port = 3260 };

        g_assert_cmpint(probe_start(NULL, &good, 0, on_probe_done, &o, &p), ==, -EINVAL);
        g_assert_cmpint(probe_start(e, NULL, 0, on_probe_done, &o, &p), ==, -EINVAL);
        g_assert_cmpint(probe_start(e, &good, 0, NULL, &o, &p), ==, -EINVAL);
        g_assert_cmpint(probe_start(e, &good, 0, on_probe_done, &o, NULL), ==, -EINVAL);
        g_assert_cmpint(probe_start(e, &no_address, 0, on_probe_done, &o, &p), ==, -EINVAL);
        g_assert_cmpint(probe_start(e, &empty_address, 0, on_probe_done, &o, &p), ==, -EINVAL);
        g_assert_cmpint(probe_start(e, &no_port, 0, on_probe_done, &o, &p), ==, -EINVAL);
        g_assert_cmpint(probe_start(e, &bad_source, 0, on_probe_done, &o, &p), ==, -EINVAL);
        g_assert_cmpint(probe_start(e, &too_long, 0, on_probe_done, &o, &p), ==, -EINVAL);
        g_assert_null(p);
        g_assert_null(probe_free(NULL));
        g_assert_cmpuint(o.n_calls, ==, 0);

        sd_event_unref(e);
}

static void test_connect_success(void) {
        g_autofree char *expected = NULL;
        Outcome o = {};
        uint16_t port;
        int listener;

        listener = listener_open("127.0.0.2", 0, 16, &port);
        g_assert_cmpint(listener, >=, 0);

        run_probe(&o, NULL, "127.0.0.2", port, 5 * USEC_PER_SEC);
        g_assert_cmpint(o.error, ==, 0);
        expected = g_strdup_printf("Connected to 127.0.0.2:%u.", port);
        g_assert_cmpstr(o.message, ==, expected);
        assert_accepted_from(listener, NULL);

        outcome_done(&o);
        close(listener);
}

static void test_connect_refused(void) {
        g_autofree char *expected = NULL;
        Outcome o = {};
        uint16_t port;
        int listener;

        /* The port is in use on 127.0.0.2 only, so 127.0.0.3 refuses it. */
        listener = listener_open("127.0.0.2", 0, 16, &port);
        g_assert_cmpint(listener, >=, 0);

        run_probe(&o, NULL, "127.0.0.3", port, 5 * USEC_PER_SEC);
        g_assert_cmpint(o.error, ==, -ECONNREFUSED);
        g_assert_cmpstr(reason_to_string(o.reason), ==, reason_to_string(REASON_REFUSED));
        expected = g_strdup_printf("Connection to 127.0.0.3:%u refused.", port);
        g_assert_cmpstr(o.message, ==, expected);

        outcome_done(&o);
        close(listener);
}

static void test_connect_timeout(void) {
        g_autofree char *expected = NULL;
        HangingListener h;
        Outcome o = {};
        uint64_t started, elapsed;

        if (!hanging_listener_open(&h, "127.0.0.4"))
                return;

        started = now_usec(CLOCK_MONOTONIC);
        run_probe(&o, NULL, "127.0.0.4", h.port, SHORT_DEADLINE_USEC);
        elapsed = o.finished_usec - started;

        g_assert_cmpint(o.error, ==, -ETIMEDOUT);
        g_assert_cmpstr(reason_to_string(o.reason), ==, reason_to_string(REASON_TIMEOUT));
        expected = g_strdup_printf("No answer from 127.0.0.4:%u within 300 ms.", h.port);
        g_assert_cmpstr(o.message, ==, expected);
        g_test_message("deadline %" G_GUINT64_FORMAT " us, callback after %" G_GUINT64_FORMAT " us",
                       SHORT_DEADLINE_USEC, elapsed);
        g_assert_cmpuint(elapsed, >=, SHORT_DEADLINE_USEC);
        g_assert_cmpuint(elapsed, <, SHORT_DEADLINE_USEC + USEC_PER_SEC);

        outcome_done(&o);
        hanging_listener_close(&h);
}

static void test_connect_source_bound(void) {
        g_autofree char *expected = NULL;
        Outcome o = {};
        uint16_t port;
        int listener;

        listener = listener_open("127.0.0.2", 0, 16, &port);
        g_assert_cmpint(listener, >=, 0);

        run_probe(&o, "127.0.0.5", "127.0.0.2", port, 5 * USEC_PER_SEC);
        g_assert_cmpint(o.error, ==, 0);
        expected = g_strdup_printf("Connected to 127.0.0.2:%u (local address 127.0.0.5).", port);
        g_assert_cmpstr(o.message, ==, expected);
        assert_accepted_from(listener, "127.0.0.5");

        outcome_done(&o);
        close(listener);
}

static void test_connect_bind_failure(void) {
        g_autofree char *expected = NULL;
        struct sockaddr_storage ss;
        socklen_t len;
        Outcome o = {};
        uint16_t port;
        int listener, fd;
        bool bindable;

        /* Only meaningful where 203.0.113.1 is not a local address. */
        g_assert_true(make_sockaddr("203.0.113.1", 0, &ss, &len));
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        g_assert_cmpint(fd, >=, 0);
        bindable = bind(fd, (struct sockaddr *) &ss, len) == 0;
        close(fd);
        if (bindable) {
                g_test_skip("203.0.113.1 is a local address here");
                return;
        }

        listener = listener_open("127.0.0.2", 0, 16, &port);
        g_assert_cmpint(listener, >=, 0);

        run_probe(&o, "203.0.113.1", "127.0.0.2", port, 5 * USEC_PER_SEC);
        g_assert_cmpint(o.error, ==, -EADDRNOTAVAIL);
        g_assert_cmpstr(reason_to_string(o.reason), ==, reason_to_string(REASON_UNREACHABLE));
        expected = g_strdup_printf("Cannot bind to local address 203.0.113.1 to reach 127.0.0.2:%u: ", port);
        g_assert_true(g_str_has_prefix(o.message, expected));

        outcome_done(&o);
        close(listener);
}

static void test_connect_family_mismatch(void) {
        Outcome o = {};

        run_probe(&o, "127.0.0.5", "::1", 3260, 5 * USEC_PER_SEC);
        g_assert_cmpint(o.error, ==, -EADDRNOTAVAIL);
        g_assert_cmpstr(reason_to_string(o.reason), ==, reason_to_string(REASON_UNREACHABLE));
        g_assert_cmpstr(o.message, ==, "Portal [::1]:3260 is IPv6 but local address 127.0.0.5 is IPv4.");

        outcome_done(&o);
}

static void test_connect_ipv6(void) {
        g_autofree char *expected = NULL;
        g_autofree char *refused = NULL;
        Outcome o = {};
        uint16_t port;
        int listener;

        listener = listener_open("::1", 0, 16, &port);
        if (listener < 0) {
                g_test_skip("no IPv6 loopback");
                return;
        }

        run_probe(&o, "::1", "::1", port, 5 * USEC_PER_SEC);
        g_assert_cmpint(o.error, ==, 0);
        expected = g_strdup_printf("Connected to [::1]:%u (local address ::1).", port);
        g_assert_cmpstr(o.message, ==, expected);
        assert_accepted_from(listener, "::1");
        outcome_done(&o);

        close(listener);

        run_probe(&o, NULL, "::1", port, 5 * USEC_PER_SEC);
        g_assert_cmpint(o.error, ==, -ECONNREFUSED);
        g_assert_cmpstr(reason_to_string(o.reason), ==, reason_to_string(REASON_REFUSED));
        refused = g_strdup_printf("Connection to [::1]:%u refused.", port);
        g_assert_cmpstr(o.message, ==, refused);
        outcome_done(&o);
}

typedef struct CancelContext {
        Outcome outcome;
        unsigned fds_before;
} CancelContext;

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

static void test_cancel(void) {
        HangingListener h;
        CancelContext c = {};
        sd_event *e;

        if (!hanging_listener_open(&h, "127.0.0.4"))
                return;

        e = event_new_with_watchdog();
        c.fds_before = count_open_fds();
        start_probe(&c.outcome, e, NULL, "127.0.0.4", h.port, SHORT_DEADLINE_USEC);
        g_assert_cmpint(sd_event_add_time(e, NULL, CLOCK_MONOTONIC,
                                          now_usec(CLOCK_MONOTONIC) + 50 * USEC_PER_MSEC, 0,
                                          on_cancel_timer, &c), ==, 0);

        g_assert_cmpint(sd_event_loop(e), ==, 0);
        g_assert_cmpuint(c.outcome.n_calls, ==, 0);
        g_assert_null(c.outcome.probe);
        g_assert_cmpuint(count_open_fds(), ==, c.fds_before);

        sd_event_unref(e);
        outcome_done(&c.outcome);
        hanging_listener_close(&h);
}

static int on_fd_poll_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        CancelContext *c = userdata;

        if (count_open_fds() == c->fds_before)
                return sd_event_exit(sd_event_source_get_event(s), 0);

        g_assert_cmpint(sd_event_source_set_time(s, now_usec(CLOCK_MONOTONIC) + 10 * USEC_PER_MSEC), ==, 0);
        return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

static void test_cancel_resolving(void) {
        CancelContext c = {};
        sd_event *e = event_new_with_watchdog();

        c.fds_before = count_open_fds();
        start_probe(&c.outcome, e, NULL, "localhost", 3260, 5 * USEC_PER_SEC);

        /* One iteration starts the lookup. (Counting fds now would race
         * with glibc's thread opening /etc/hosts.) */
        g_assert_cmpint(sd_event_run(e, 0), >, 0);

        /* Whether glibc has begun the lookup or not, freeing must neither
         * call back nor leave anything behind once glibc is done with it:
         * the fd count comes back once glibc has let go. */
        c.outcome.probe = probe_free(c.outcome.probe);

        g_assert_cmpint(sd_event_add_time(e, NULL, CLOCK_MONOTONIC, 0, 0, on_fd_poll_timer, &c), ==, 0);
        g_assert_cmpint(sd_event_loop(e), ==, 0);
        g_assert_cmpuint(c.outcome.n_calls, ==, 0);
        g_assert_cmpuint(count_open_fds(), ==, c.fds_before);

        sd_event_unref(e);
        outcome_done(&c.outcome);
}

#define N_CONCURRENT 50

static void test_concurrent(void) {
        Outcome o[N_CONCURRENT] = {};
        HangingListener h;
        unsigned n_running = N_CONCURRENT;
        uint64_t started, elapsed;
        sd_event *e;

        if (!hanging_listener_open(&h, "127.0.0.4"))
                return;

        e = event_new_with_watchdog();
        started = now_usec(CLOCK_MONOTONIC);
        for (size_t i = 0; i < N_CONCURRENT; i++) {
                o[i].n_running = &n_running;
                start_probe(&o[i], e, NULL, "127.0.0.4", h.port, SHORT_DEADLINE_USEC);
        }

        g_assert_cmpint(sd_event_loop(e), ==, 0);
        elapsed = now_usec(CLOCK_MONOTONIC) - started;
        g_test_message("%d probes with a %" G_GUINT64_FORMAT " us deadline took %" G_GUINT64_FORMAT " us",
                       N_CONCURRENT, SHORT_DEADLINE_USEC, elapsed);

        g_assert_cmpuint(n_running, ==, 0);
        for (size_t i = 0; i < N_CONCURRENT; i++) {
                g_assert_cmpuint(o[i].n_calls, ==, 1);
                g_assert_cmpint(o[i].error, ==, -ETIMEDOUT);
                g_assert_cmpstr(reason_to_string(o[i].reason), ==, reason_to_string(REASON_TIMEOUT));
                g_assert_cmpuint(o[i].finished_usec - started, >=, SHORT_DEADLINE_USEC);
                outcome_done(&o[i]);
        }
        /* Serially this would take 15 s; together, about one deadline. */
        g_assert_cmpuint(elapsed, <, SHORT_DEADLINE_USEC + 2 * USEC_PER_SEC);

        sd_event_unref(e);
        hanging_listener_close(&h);
}

static void test_hostname_localhost(void) {
        g_autofree char *expected = NULL;
        Outcome o = {};
        uint16_t port;
        int listener;

        listener = listener_open("127.0.0.1", 0, 16, &port);
        g_assert_cmpint(listener, >=, 0);

        /* If localhost also resolves to ::1, that address refuses and the next one is tried. */
        run_probe(&o, NULL, "localhost", port, 5 * USEC_PER_SEC);
        g_assert_cmpint(o.error, ==, 0);
        expected = g_strdup_printf("Connected to localhost:%u at 127.0.0.1.", port);
        g_assert_cmpstr(o.message, ==, expected);
        assert_accepted_from(listener, "127.0.0.1");

        outcome_done(&o);
        close(listener);
}

static void test_hostname_source_bound(void) {
        g_autofree char *expected = NULL;
        Outcome o = {};
        uint16_t port;
        int listener;

        listener = listener_open("127.0.0.1", 0, 16, &port);
        g_assert_cmpint(listener, >=, 0);

        /* An IPv4 source limits the lookup to IPv4 addresses. */
        run_probe(&o, "127.0.0.5", "localhost", port, 5 * USEC_PER_SEC);
        g_assert_cmpint(o.error, ==, 0);
        expected = g_strdup_printf("Connected to localhost:%u at 127.0.0.1 (local address 127.0.0.5).", port);
        g_assert_cmpstr(o.message, ==, expected);
        assert_accepted_from(listener, "127.0.0.5");

        outcome_done(&o);
        close(listener);
}

static unsigned count_threads(void) {
        DIR *d = opendir("/proc/self/task");
        struct dirent *de;
        unsigned n = 0;

        g_assert_nonnull(d);
        while ((de = readdir(d)))
                if (de->d_name[0] != '.')
                        n++;
        closedir(d);
        return n;
}

static int on_thread_poll_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        const uint64_t *give_up_usec = userdata;
        uint64_t now = now_usec(CLOCK_MONOTONIC);

        if (count_threads() == 1 || now >= *give_up_usec)
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
static void wait_for_lookup_threads(void) {
        uint64_t give_up_usec = now_usec(CLOCK_MONOTONIC) + 3 * USEC_PER_SEC;
        sd_event *e = NULL;

        g_assert_cmpint(sd_event_new(&e), ==, 0);
        g_assert_cmpint(sd_event_add_time(e, NULL, CLOCK_MONOTONIC, 0, 0,
                                          on_thread_poll_timer, &give_up_usec), ==, 0);
        g_assert_cmpint(sd_event_loop(e), ==, 0);
        sd_event_unref(e);
}

/* ---- the iSCSI stage ---- */

#define INITIATOR "iqn.2026-01.org.example.probe:initiator"

#define TGT_ADDRESS "127.0.0.61"
#define TGT_OPEN "iqn.2026-01.org.example.probe:open"
#define TGT_CHAP "iqn.2026-01.org.example.probe:chap"
#define TGT_ACL "iqn.2026-01.org.example.probe:acl"
#define TGT_ACL_INITIATOR "127.0.0.62"   /* the only address TGT_ACL admits */
#define TGT_OTHER_SOURCE "127.0.0.63"
#define CHAP_USER "probe-user"
#define CHAP_SECRET "probe-secret-0123"
#define MUTUAL_USER "probe-target"
#define MUTUAL_SECRET "target-secret-0123"

/* How long tgtd may take to come up; it has no readiness notification to wait for. */
#define TGT_START_USEC (5 * USEC_PER_SEC)

typedef struct Tgt {
        GPid pid;
        unsigned control_port;
        uint16_t port;
        char *backing_file;
        const char *skip_reason;        /* why the iSCSI tests cannot run, NULL when they can */
} Tgt;

static Tgt tgt = { .pid = -1 };

static void tgt_child_setup(gpointer data) {
        /* A test that crashes must not leave a target daemon behind. */
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
}

/* Runs tgtadm against our tgtd; the arguments are one string, split at spaces. */
static bool tgtadm(const char *format, ...) G_GNUC_PRINTF(1, 2);
static bool tgtadm(const char *format, ...) {
        g_autofree char *args = NULL, *command = NULL, *output = NULL;
        g_auto(GStrv) argv = NULL;
        va_list ap;
        int status = -1;

        va_start(ap, format);
        args = g_strdup_vprintf(format, ap);
        va_end(ap);
        command = g_strdup_printf("tgtadm -C %u --lld iscsi %s", tgt.control_port, args);
        g_assert_true(g_shell_parse_argv(command, NULL, &argv, NULL));
        if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
                          &output, NULL, &status, NULL))
                return false;
        return g_spawn_check_wait_status(status, NULL);
}

static bool port_accepts(const char *address, uint16_t port) {
        struct sockaddr_storage ss;
        socklen_t len;
        bool ok;
        int fd;

        g_assert_true(make_sockaddr(address, port, &ss, &len));
        fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        g_assert_cmpint(fd, >=, 0);
        ok = connect(fd, (struct sockaddr *) &ss, len) == 0;
        close(fd);
        return ok;
}

static void tgt_remove_control_socket(unsigned control_port) {
        g_autofree char *socket_path = g_strdup_printf("/run/tgtd/socket.%u", control_port);
        g_autofree char *lock_path = g_strdup_printf("/run/tgtd/socket.%u.lock", control_port);

        (void) g_unlink(socket_path);
        (void) g_unlink(lock_path);
}

static void tgt_stop(void) {
        if (tgt.pid > 0) {
                (void) kill(tgt.pid, SIGKILL);
                (void) waitpid(tgt.pid, NULL, 0);
                g_spawn_close_pid(tgt.pid);
                tgt_remove_control_socket(tgt.control_port);
        }
        tgt.pid = -1;
        if (tgt.backing_file) {
                (void) g_unlink(tgt.backing_file);
                g_clear_pointer(&tgt.backing_file, g_free);
        }
}

/* One tgtd instance on a free port and its own control port; false when it does not come up. */
static bool tgt_spawn(void) {
        g_autofree char *portal = NULL, *control = NULL, *socket_path = NULL;
        uint64_t give_up;
        int listener;

        /* A port that was free a moment ago on an address of our own. */
        listener = listener_open(TGT_ADDRESS, 0, 1, &tgt.port);
        g_assert_cmpint(listener, >=, 0);
        close(listener);

        tgt.control_port = (unsigned) g_random_int_range(20000, 32000);     /* tgtd takes at most 32767 */
        socket_path = g_strdup_printf("/run/tgtd/socket.%u", tgt.control_port);
        if (g_file_test(socket_path, G_FILE_TEST_EXISTS))
                return false;

        portal = g_strdup_printf("portal=%s:%u", TGT_ADDRESS, (unsigned) tgt.port);
        control = g_strdup_printf("%u", tgt.control_port);
        const char *argv[] = { "tgtd", "-f", "--iscsi", portal, "--control-port", control, NULL };
        if (!g_spawn_async(NULL, (char **) argv, NULL,
                           G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL |
                                   G_SPAWN_STDERR_TO_DEV_NULL,
                           tgt_child_setup, NULL, &tgt.pid, NULL))
                return false;

        give_up = now_usec(CLOCK_MONOTONIC) + TGT_START_USEC;
        while (now_usec(CLOCK_MONOTONIC) < give_up) {
                if (waitpid(tgt.pid, NULL, WNOHANG) == tgt.pid) {
                        g_spawn_close_pid(tgt.pid);
                        tgt.pid = -1;
                        return false;
                }
                if (port_accepts(TGT_ADDRESS, tgt.port) && tgtadm("--op show --mode sys"))
                        return true;
                /* tgtd announces no readiness (no sd_notify, nothing on stdout): poll, bounded by give_up. */
                g_usleep(20 * 1000);
        }
        tgt_stop();
        return false;
}

/*
 * Three targets: TGT_OPEN for anyone; TGT_CHAP, whose normal logins need
 * CHAP_USER's secret and which proves itself as MUTUAL_USER when asked; and
 * TGT_ACL, offered to and accepting only initiators at TGT_ACL_INITIATOR.
 */
static void tgt_start(void) {
        g_autoptr(GError) error = NULL;
        int fd;

        if (geteuid() != 0) {
                tgt.skip_reason = "tgtd needs root";
                return;
        }
        g_autofree char *tgtd = g_find_program_in_path("tgtd");
        g_autofree char *tgtadm_path = g_find_program_in_path("tgtadm");
        if (!tgtd || !tgtadm_path) {
                tgt.skip_reason = "tgtd/tgtadm are not installed (Debian package tgt)";
                return;
        }

        for (unsigned attempt = 0; attempt < 5 && tgt.pid < 0; attempt++)
                (void) tgt_spawn();
        if (tgt.pid < 0) {
                tgt.skip_reason = "tgtd did not start";
                return;
        }

        fd = g_file_open_tmp("probe-lun-XXXXXX", &tgt.backing_file, &error);
        g_assert_no_error(error);
        g_assert_cmpint(ftruncate(fd, 1024 * 1024), ==, 0);
        close(fd);

        g_assert_true(tgtadm("--op new --mode target --tid 1 -T %s", TGT_OPEN));
        g_assert_true(tgtadm("--op new --mode logicalunit --tid 1 --lun 1 -b %s", tgt.backing_file));
        g_assert_true(tgtadm("--op bind --mode target --tid 1 -I ALL"));

        g_assert_true(tgtadm("--op new --mode target --tid 2 -T %s", TGT_CHAP));
        g_assert_true(tgtadm("--op bind --mode target --tid 2 -I ALL"));
        g_assert_true(tgtadm("--op new --mode account --user %s --password %s", CHAP_USER, CHAP_SECRET));
        g_assert_true(tgtadm("--op bind --mode account --tid 2 --user %s", CHAP_USER));
        g_assert_true(tgtadm("--op new --mode account --user %s --password %s", MUTUAL_USER, MUTUAL_SECRET));
        g_assert_true(tgtadm("--op bind --mode account --tid 2 --user %s --outgoing", MUTUAL_USER));

        g_assert_true(tgtadm("--op new --mode target --tid 3 -T %s", TGT_ACL));
        g_assert_true(tgtadm("--op bind --mode target --tid 3 -I %s", TGT_ACL_INITIATOR));
}

static bool tgt_available(void) {
        if (tgt.skip_reason) {
                g_test_skip(tgt.skip_reason);
                return false;
        }
        return true;
}

static ProbeTarget iscsi_target(const char *address, uint16_t port, const char *target_name) {
        return (ProbeTarget) {
                .address = address,
                .port = port,
                .target_name = target_name,
                .iscsi_check = true,
                .initiator_name = INITIATOR,
        };
}

/* Runs one probe of target to completion; afterwards every fd it used is closed again. */
static void run_target_probe(Outcome *o, const ProbeTarget *target, uint64_t timeout_usec) {
        sd_event *e;
        unsigned fds_before;

        /* A lookup of an earlier test may still close its descriptor on glibc's thread. */
        wait_for_lookup_threads();
        e = event_new_with_watchdog();
        fds_before = count_open_fds();

        start_target_probe(o, e, target, timeout_usec);
        g_assert_cmpint(sd_event_loop(e), ==, 0);
        g_assert_cmpuint(o->n_calls, ==, 1);
        g_assert_cmpuint(count_open_fds(), ==, fds_before);
        sd_event_unref(e);
        g_test_message("%s", o->message);
}

static void assert_no_secret(const Outcome *o) {
        g_assert_null(strstr(o->message, CHAP_SECRET));
        g_assert_null(strstr(o->message, MUTUAL_SECRET));
}

static void test_iscsi_start_invalid(void) {
        sd_event *e = event_new_with_watchdog();
        Outcome o = {};
        Probe *p = NULL;
        ProbeTarget t;

        t = iscsi_target("127.0.0.2", 3260, NULL);
        t.initiator_name = NULL;
        g_assert_cmpint(probe_start(e, &t, 0, on_probe_done, &o, &p), ==, -EINVAL);

        t = iscsi_target("127.0.0.2", 3260, NULL);
        t.username = CHAP_USER;
        g_assert_cmpint(probe_start(e, &t, 0, on_probe_done, &o, &p), ==, -EINVAL);

        t = iscsi_target("127.0.0.2", 3260, NULL);
        t.secret = CHAP_SECRET;
        g_assert_cmpint(probe_start(e, &t, 0, on_probe_done, &o, &p), ==, -EINVAL);

        /* The target proves itself only to an initiator that proved itself first. */
        t = iscsi_target("127.0.0.2", 3260, NULL);
        t.mutual_username = MUTUAL_USER;
        t.mutual_secret = MUTUAL_SECRET;
        g_assert_cmpint(probe_start(e, &t, 0, on_probe_done, &o, &p), ==, -EINVAL);

        g_autofree char *long_name = g_strnfill(224, 'a');
        t = iscsi_target("127.0.0.2", 3260, long_name);
        g_assert_cmpint(probe_start(e, &t, 0, on_probe_done, &o, &p), ==, -EINVAL);

        g_assert_null(p);
        g_assert_cmpuint(o.n_calls, ==, 0);
        sd_event_unref(e);
}

static void test_iscsi_discovery(void) {
        g_autofree char *expected = NULL;
        Outcome o = {};
        ProbeTarget t;

        if (!tgt_available())
                return;

        t = iscsi_target(TGT_ADDRESS, tgt.port, NULL);
        run_target_probe(&o, &t, 5 * USEC_PER_SEC);
        g_assert_cmpint(o.error, ==, 0);
        expected = g_strdup_printf("Discovery session with %s:%u succeeded; targets offered: ", TGT_ADDRESS, tgt.port);
        g_assert_true(g_str_has_prefix(o.message, expected));
        outcome_done(&o);
}

static void test_iscsi_login(void) {
        g_autofree char *expected = NULL, *bound = NULL;
        Outcome o = {};
        ProbeTarget t;

        if (!tgt_available())
                return;

        t = iscsi_target(TGT_ADDRESS, tgt.port, TGT_OPEN);
        run_target_probe(&o, &t, 5 * USEC_PER_SEC);
        g_assert_cmpint(o.error, ==, 0);
        expected = g_strdup_printf("Logged in to target %s at %s:%u.", TGT_OPEN, TGT_ADDRESS, tgt.port);
        g_assert_cmpstr(o.message, ==, expected);
        outcome_done(&o);

        t.source_address = TGT_OTHER_SOURCE;
        run_target_probe(&o, &t, 5 * USEC_PER_SEC);
        g_assert_cmpint(o.error, ==, 0);
        bound = g_strdup_printf("Logged in to target %s at %s:%u (local address %s).", TGT_OPEN, TGT_ADDRESS,
                                tgt.port, TGT_OTHER_SOURCE);
        g_assert_cmpstr(o.message, ==, bound);
        outcome_done(&o);
}

static void test_iscsi_target_missing(void) {
        g_autofree char *expected = NULL;
        Outcome o = {};
        ProbeTarget t;

        if (!tgt_available())
                return;

        t = iscsi_target(TGT_ADDRESS, tgt.port, "iqn.2026-01.org.example.probe:absent");
        run_target_probe(&o, &t, 5 * USEC_PER_SEC);
        g_assert_cmpint(o.error, ==, -ENOENT);
        g_assert_cmpstr(reason_to_string(o.reason), ==, reason_to_string(REASON_TARGET_NOT_OFFERED));
        expected = g_strdup_printf("Target iqn.2026-01.org.example.probe:absent is not offered by %s:%u; it offers: ",
                                   TGT_ADDRESS, tgt.port);
        g_assert_true(g_str_has_prefix(o.message, expected));
        g_assert_nonnull(strstr(o.message, TGT_OPEN));
        g_assert_nonnull(strstr(o.message, TGT_CHAP));
        g_assert_null(strstr(o.message, TGT_ACL));
        outcome_done(&o);
}

static void test_iscsi_node_name(void) {
        g_autofree char *expected = NULL;
        g_autofree char *upper = g_ascii_strup(TGT_OPEN, -1);
        Outcome o = {};
        ProbeTarget t;

        if (!tgt_available())
                return;

        t = iscsi_target(TGT_ADDRESS, tgt.port, NULL);
        t.expected_node_name = "iqn.2026-01.org.example.probe:system";
        run_target_probe(&o, &t, 5 * USEC_PER_SEC);
        g_assert_cmpint(o.error, ==, -ENOENT);
        g_assert_cmpstr(reason_to_string(o.reason), ==, reason_to_string(REASON_SYSTEM_NOT_OFFERED));
        expected = g_strdup_printf("Neither iqn.2026-01.org.example.probe:system (the peer system's Name) nor a "
                                   "target named under it is offered by %s:%u; it offers: ", TGT_ADDRESS, tgt.port);
        g_assert_true(g_str_has_prefix(o.message, expected));
        outcome_done(&o);

        /* iSCSI names compare without regard to case. */
        t.expected_node_name = upper;
        run_target_probe(&o, &t, 5 * USEC_PER_SEC);
        g_assert_cmpint(o.error, ==, 0);
        outcome_done(&o);
}

static void test_iscsi_chap(void) {
        g_autofree char *rejected = NULL;
        Outcome o = {};
        ProbeTarget t;

        if (!tgt_available())
                return;

        rejected = g_strdup_printf("Login to target %s at %s:%u rejected: authentication failed.", TGT_CHAP,
                                   TGT_ADDRESS, tgt.port);

        /* tgt lets anyone discover, and checks the secret at the normal login. */
        t = iscsi_target(TGT_ADDRESS, tgt.port, TGT_CHAP);
        run_target_probe(&o, &t, 5 * USEC_PER_SEC);
        g_assert_cmpint(o.error, ==, -EACCES);
        g_assert_cmpstr(reason_to_string(o.reason), ==, reason_to_string(REASON_AUTHENTICATION_FAILED));
        g_assert_cmpstr(o.message, ==, rejected);
        outcome_done(&o);

        t.username = CHAP_USER;
        t.secret = "not-the-secret-0123";
        run_target_probe(&o, &t, 5 * USEC_PER_SEC);
        g_assert_cmpint(o.error, ==, -EACCES);
        g_assert_cmpstr(reason_to_string(o.reason), ==, reason_to_string(REASON_AUTHENTICATION_FAILED));
        g_assert_cmpstr(o.message, ==, rejected);
        outcome_done(&o);

        t.secret = CHAP_SECRET;
        run_target_probe(&o, &t, 5 * USEC_PER_SEC);
        g_assert_cmpint(o.error, ==, 0);
        assert_no_secret(&o);
        outcome_done(&o);
}

static void test_iscsi_mutual_chap(void) {
        g_autofree char *wrong = NULL;
        Outcome o = {};
        ProbeTarget t;

        if (!tgt_available())
                return;

        t = iscsi_target(TGT_ADDRESS, tgt.port, TGT_CHAP);
        t.username = CHAP_USER;
        t.secret = CHAP_SECRET;
        t.mutual_username = MUTUAL_USER;
        t.mutual_secret = MUTUAL_SECRET;
        run_target_probe(&o, &t, 5 * USEC_PER_SEC);
        g_assert_cmpint(o.error, ==, 0);
        assert_no_secret(&o);
        outcome_done(&o);

        /* The target answers with its own secret, which is not the one we expect. */
        t.mutual_secret = "not-the-target-0123";
        run_target_probe(&o, &t, 5 * USEC_PER_SEC);
        g_assert_cmpint(o.error, ==, -EACCES);
        g_assert_cmpstr(reason_to_string(o.reason), ==, reason_to_string(REASON_MUTUAL_AUTHENTICATION_FAILED));
        wrong = g_strdup_printf("Login to target %s at %s:%u failed: the target's mutual CHAP response is wrong.",
                                TGT_CHAP, TGT_ADDRESS, tgt.port);
        g_assert_cmpstr(o.message, ==, wrong);
        assert_no_secret(&o);
        outcome_done(&o);
}

/* The iSCSI sessions come from the bound source address: the target's initiator ACL sees it. */
static void test_iscsi_source_acl(void) {
        Outcome o = {};
        ProbeTarget t;

        if (!tgt_available())
                return;

        t = iscsi_target(TGT_ADDRESS, tgt.port, TGT_ACL);
        t.source_address = TGT_ACL_INITIATOR;
        run_target_probe(&o, &t, 5 * USEC_PER_SEC);
        g_assert_cmpint(o.error, ==, 0);
        outcome_done(&o);

        t.source_address = TGT_OTHER_SOURCE;
        run_target_probe(&o, &t, 5 * USEC_PER_SEC);
        g_assert_cmpint(o.error, ==, -ENOENT);
        g_assert_cmpstr(reason_to_string(o.reason), ==, reason_to_string(REASON_TARGET_NOT_OFFERED));
        g_assert_true(g_str_has_prefix(o.message, "Target " TGT_ACL " is not offered by "));
        outcome_done(&o);
}

static void test_iscsi_silent(void) {
        g_autofree char *expected = NULL;
        Outcome o = {};
        ProbeTarget t;
        uint64_t started, elapsed;
        uint16_t port;
        int listener;

        /* The kernel completes the handshake; nobody ever reads the login. */
        listener = listener_open("127.0.0.2", 0, 16, &port);
        g_assert_cmpint(listener, >=, 0);

        t = iscsi_target("127.0.0.2", port, NULL);
        started = now_usec(CLOCK_MONOTONIC);
        run_target_probe(&o, &t, SHORT_DEADLINE_USEC);
        elapsed = o.finished_usec - started;

        g_assert_cmpint(o.error, ==, -ETIMEDOUT);
        g_assert_cmpstr(reason_to_string(o.reason), ==, reason_to_string(REASON_TIMEOUT));
        expected = g_strdup_printf("No answer to the discovery login from 127.0.0.2:%u within 300 ms.", port);
        g_assert_cmpstr(o.message, ==, expected);
        g_test_message("deadline %" G_GUINT64_FORMAT " us, callback after %" G_GUINT64_FORMAT " us",
                       SHORT_DEADLINE_USEC, elapsed);
        g_assert_cmpuint(elapsed, >=, SHORT_DEADLINE_USEC);
        g_assert_cmpuint(elapsed, <, SHORT_DEADLINE_USEC + 100 * USEC_PER_MSEC);

        outcome_done(&o);
        close(listener);
}

static int on_accept_and_close(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

        if (c >= 0)
                close(c);
        return 0;
}

static void test_iscsi_closed(void) {
        g_autofree char *expected = NULL;
        sd_event_source *acceptor = NULL;
        sd_event *e = event_new_with_watchdog();
        Outcome o = {};
        ProbeTarget t;
        uint16_t port;
        int listener;

        listener = listener_open("127.0.0.2", 0, 16, &port);
        g_assert_cmpint(listener, >=, 0);
        g_assert_cmpint(sd_event_add_io(e, &acceptor, listener, EPOLLIN, on_accept_and_close, NULL), ==, 0);

        t = iscsi_target("127.0.0.2", port, NULL);
        start_target_probe(&o, e, &t, 5 * USEC_PER_SEC);
        g_assert_cmpint(sd_event_loop(e), ==, 0);
        g_assert_cmpuint(o.n_calls, ==, 1);

        g_assert_cmpint(o.error, ==, -ECONNRESET);
        g_assert_cmpstr(reason_to_string(o.reason), ==, reason_to_string(REASON_CONNECTION_LOST));
        expected = g_strdup_printf("Connection to 127.0.0.2:%u closed by the peer during the discovery login.", port);
        g_assert_cmpstr(o.message, ==, expected);

        sd_event_source_disable_unref(acceptor);
        sd_event_unref(e);
        outcome_done(&o);
        close(listener);
}

static void test_iscsi_cancel(void) {
        CancelContext c = {};
        sd_event *e = event_new_with_watchdog();
        ProbeTarget t;
        uint16_t port;
        int listener;

        listener = listener_open("127.0.0.2", 0, 16, &port);
        g_assert_cmpint(listener, >=, 0);

        wait_for_lookup_threads();
        c.fds_before = count_open_fds();
        t = iscsi_target("127.0.0.2", port, NULL);
        start_target_probe(&c.outcome, e, &t, SHORT_DEADLINE_USEC);
        /* By then the probe waits for the login answer, on the one connection libiscsi was handed. */
        g_assert_cmpint(sd_event_add_time(e, NULL, CLOCK_MONOTONIC,
                                          now_usec(CLOCK_MONOTONIC) + 50 * USEC_PER_MSEC, 0,
                                          on_cancel_timer, &c), ==, 0);

        g_assert_cmpint(sd_event_loop(e), ==, 0);
        g_assert_cmpuint(c.outcome.n_calls, ==, 0);
        g_assert_null(c.outcome.probe);
        g_assert_cmpuint(count_open_fds(), ==, c.fds_before);

        sd_event_unref(e);
        outcome_done(&c.outcome);
        close(listener);
}

static void test_iscsi_concurrent(void) {
        Outcome o[N_CONCURRENT] = {};
        unsigned n_running = N_CONCURRENT;
        uint64_t started, elapsed;
        sd_event *e;

        if (!tgt_available())
                return;

        e = event_new_with_watchdog();
        started = now_usec(CLOCK_MONOTONIC);
        for (size_t i = 0; i < N_CONCURRENT; i++) {
                ProbeTarget t = iscsi_target(TGT_ADDRESS, tgt.port, TGT_CHAP);

                t.username = CHAP_USER;
                t.secret = CHAP_SECRET;
                o[i].n_running = &n_running;
                start_target_probe(&o[i], e, &t, 5 * USEC_PER_SEC);
        }

        g_assert_cmpint(sd_event_loop(e), ==, 0);
        elapsed = now_usec(CLOCK_MONOTONIC) - started;
        g_test_message("%d concurrent discovery+login probes took %" G_GUINT64_FORMAT " us", N_CONCURRENT, elapsed);
        for (size_t i = 0; i < N_CONCURRENT; i++) {
                g_assert_cmpuint(o[i].n_calls, ==, 1);
                g_assert_cmpint(o[i].error, ==, 0);
                outcome_done(&o[i]);
        }
        sd_event_unref(e);
}

/* The status a rejected login reports, read from libiscsi's text as both login paths read it. */
static void test_login_error_status(void) {
        unsigned status = 0;

        g_assert_true(iscsi_connection_error_status("Failed to log in to target. Status: Authentication failure(513)",
                                                    &status));
        g_assert_cmpuint(status, ==, 0x0201);
        g_assert_true(iscsi_connection_error_status("x (1) Status: Target not found(515)", &status));
        g_assert_cmpuint(status, ==, 0x0203);

        status = 7;
        g_assert_false(iscsi_connection_error_status("Failed to log in: Invalid CHAP_R", &status));
        g_assert_false(iscsi_connection_error_status("Status: no number", &status));
        g_assert_false(iscsi_connection_error_status("Status: empty()", &status));
        g_assert_false(iscsi_connection_error_status("Status: unclosed(513", &status));
        g_assert_false(iscsi_connection_error_status("Status: too large(65536)", &status));
        g_assert_false(iscsi_connection_error_status("Status: negative(-1)", &status));
        g_assert_false(iscsi_connection_error_status(NULL, &status));
        g_assert_cmpuint(status, ==, 7);        /* written only when found */
}

int main(int argc, char *argv[]) {
        int r;

        g_test_init(&argc, &argv, NULL);

        g_test_add_func("/probe/start/invalid", test_start_invalid);
        g_test_add_func("/probe/login/error-status", test_login_error_status);
        g_test_add_func("/probe/connect/success", test_connect_success);
        g_test_add_func("/probe/connect/refused", test_connect_refused);
        g_test_add_func("/probe/connect/timeout", test_connect_timeout);
        g_test_add_func("/probe/connect/source-bound", test_connect_source_bound);
        g_test_add_func("/probe/connect/bind-failure", test_connect_bind_failure);
        g_test_add_func("/probe/connect/family-mismatch", test_connect_family_mismatch);
        g_test_add_func("/probe/connect/ipv6", test_connect_ipv6);
        g_test_add_func("/probe/cancel", test_cancel);
        g_test_add_func("/probe/cancel/resolving", test_cancel_resolving);
        g_test_add_func("/probe/concurrent", test_concurrent);
        g_test_add_func("/probe/hostname/localhost", test_hostname_localhost);
        g_test_add_func("/probe/hostname/source-bound", test_hostname_source_bound);
        g_test_add_func("/probe/iscsi/start-invalid", test_iscsi_start_invalid);
        g_test_add_func("/probe/iscsi/discovery", test_iscsi_discovery);
        g_test_add_func("/probe/iscsi/login", test_iscsi_login);
        g_test_add_func("/probe/iscsi/target-missing", test_iscsi_target_missing);
        g_test_add_func("/probe/iscsi/node-name", test_iscsi_node_name);
        g_test_add_func("/probe/iscsi/chap", test_iscsi_chap);
        g_test_add_func("/probe/iscsi/mutual-chap", test_iscsi_mutual_chap);
        g_test_add_func("/probe/iscsi/source-acl", test_iscsi_source_acl);
        g_test_add_func("/probe/iscsi/silent", test_iscsi_silent);
        g_test_add_func("/probe/iscsi/closed", test_iscsi_closed);
        g_test_add_func("/probe/iscsi/cancel", test_iscsi_cancel);
        g_test_add_func("/probe/iscsi/concurrent", test_iscsi_concurrent);

        tgt_start();
        r = g_test_run();
        tgt_stop();
        wait_for_lookup_threads();
        return r;
}
