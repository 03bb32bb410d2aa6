/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * net/probe's connection stage: connect, refuse, time out, bind, cancel and
 * resolve on a private sd-event loop. Every peer is a loopback address
 * (127.0.0.0/8, ::1), so nothing leaves the host; the one non-local address
 * (203.0.113.1, RFC 5737) is only ever bound to, which fails before any
 * packet is sent.
 */

#include <errno.h>
#include <glib.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "probe-fixture.h"

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

/*
 * A probe from source (NULL: unbound) to host at a listener on listen_at
 * connects, says "<before><port><after>" and reaches the listener from
 * accepted_from (NULL: any address).
 */
static void assert_connects(const char *listen_at, const char *source, const char *host, const char *before,
                            const char *after, const char *accepted_from) {
        g_autofree char *expected = NULL;
        Outcome o = {};
        uint16_t port;
        int listener;

        listener = listener_open(listen_at, 0, 16, &port);
        g_assert_cmpint(listener, >=, 0);

        run_probe(&o, source, host, port, 5 * USEC_PER_SEC);
        g_assert_cmpint(o.error, ==, 0);
        expected = g_strdup_printf("%s%u%s", before, port, after);
        g_assert_cmpstr(o.message, ==, expected);
        assert_accepted_from(listener, accepted_from);

        outcome_done(&o);
        close(listener);
}

static void test_connect_success(void) {
        assert_connects("127.0.0.2", NULL, "127.0.0.2", "Connected to 127.0.0.2:", ".", NULL);
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
        assert_connects("127.0.0.2", "127.0.0.5", "127.0.0.2", "Connected to 127.0.0.2:", " (local address 127.0.0.5).",
                        "127.0.0.5");
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

static void test_cancel(void) {
        HangingListener h;

        if (!hanging_listener_open(&h, "127.0.0.4"))
                return;

        /* The probe's socket, still connecting, is the only fd it holds when it is freed. */
        run_cancelled_probe(&(const ProbeTarget) { .address = "127.0.0.4", .port = h.port });
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
        /* If localhost also resolves to ::1, that address refuses and the next one is tried. */
        assert_connects("127.0.0.1", NULL, "localhost", "Connected to localhost:", " at 127.0.0.1.", "127.0.0.1");
}

static void test_hostname_source_bound(void) {
        /* An IPv4 source limits the lookup to IPv4 addresses. */
        assert_connects("127.0.0.1", "127.0.0.5", "localhost", "Connected to localhost:",
                        " at 127.0.0.1 (local address 127.0.0.5).", "127.0.0.5");
}

int main(int argc, char *argv[]) {
        int r;

        g_test_init(&argc, &argv, NULL);

        g_test_add_func("/probe/start/invalid", test_start_invalid);
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

        r = g_test_run();
        wait_for_lookup_threads();
        return r;
}
