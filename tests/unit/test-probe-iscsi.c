/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * net/probe's iSCSI stage, against a real target: tgtd (Debian's tgt) on
 * 127.0.0.61, started once for these tests when we are root and tgtd is
 * installed, and skipped otherwise. A "silent" listener completes the
 * handshake but never answers a byte, like a portal whose iSCSI layer hangs.
 */

#include <errno.h>
#include <glib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/iscsi-connection.h"
#include "probe-fixture.h"
#include "tgtd.h"

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

static Tgtd *tgt;
static const char *tgt_skip_reason;     /* why the iSCSI tests cannot run, NULL when they can */

/*
 * Three targets: TGT_OPEN for anyone; TGT_CHAP, whose normal logins need
 * CHAP_USER's secret and which proves itself as MUTUAL_USER when asked; and
 * TGT_ACL, offered to and accepting only initiators at TGT_ACL_INITIATOR.
 */
static void tgt_start(void) {
        int chap, acl;

        tgt_skip_reason = tgtd_unavailable_reason();
        if (tgt_skip_reason)
                return;
        tgt = tgtd_try_new(TGT_ADDRESS, 1024 * 1024);
        if (!tgt) {
                tgt_skip_reason = "tgtd did not start";
                return;
        }

        tgtd_add_target(tgt, TGT_OPEN);

        chap = tgtd_add_bare_target(tgt, TGT_CHAP);
        tgtd_bind_initiator(tgt, chap, "ALL");
        tgtd_add_account(tgt, chap, CHAP_USER, CHAP_SECRET, FALSE);
        tgtd_add_account(tgt, chap, MUTUAL_USER, MUTUAL_SECRET, TRUE);

        acl = tgtd_add_bare_target(tgt, TGT_ACL);
        tgtd_bind_initiator(tgt, acl, TGT_ACL_INITIATOR);
}

static bool tgt_available(void) {
        if (tgt_skip_reason) {
                g_test_skip(tgt_skip_reason);
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

        t = iscsi_target(TGT_ADDRESS, tgt->port, NULL);
        run_target_probe(&o, &t, 5 * USEC_PER_SEC);
        g_assert_cmpint(o.error, ==, 0);
        expected = g_strdup_printf("Discovery session with %s:%u succeeded; targets offered: ", TGT_ADDRESS, tgt->port);
        g_assert_true(g_str_has_prefix(o.message, expected));
        outcome_done(&o);
}

static void test_iscsi_login(void) {
        g_autofree char *expected = NULL, *bound = NULL;
        Outcome o = {};
        ProbeTarget t;

        if (!tgt_available())
                return;

        t = iscsi_target(TGT_ADDRESS, tgt->port, TGT_OPEN);
        run_target_probe(&o, &t, 5 * USEC_PER_SEC);
        g_assert_cmpint(o.error, ==, 0);
        expected = g_strdup_printf("Logged in to target %s at %s:%u.", TGT_OPEN, TGT_ADDRESS, tgt->port);
        g_assert_cmpstr(o.message, ==, expected);
        outcome_done(&o);

        t.source_address = TGT_OTHER_SOURCE;
        run_target_probe(&o, &t, 5 * USEC_PER_SEC);
        g_assert_cmpint(o.error, ==, 0);
        bound = g_strdup_printf("Logged in to target %s at %s:%u (local address %s).", TGT_OPEN, TGT_ADDRESS,
                                tgt->port, TGT_OTHER_SOURCE);
        g_assert_cmpstr(o.message, ==, bound);
        outcome_done(&o);
}

static void test_iscsi_target_missing(void) {
        g_autofree char *expected = NULL;
        Outcome o = {};
        ProbeTarget t;

        if (!tgt_available())
                return;

        t = iscsi_target(TGT_ADDRESS, tgt->port, "iqn.2026-01.org.example.probe:absent");
        run_target_probe(&o, &t, 5 * USEC_PER_SEC);
        g_assert_cmpint(o.error, ==, -ENOENT);
        g_assert_cmpstr(reason_to_string(o.reason), ==, reason_to_string(REASON_TARGET_NOT_OFFERED));
        expected = g_strdup_printf("Target iqn.2026-01.org.example.probe:absent is not offered by %s:%u; it offers: ",
                                   TGT_ADDRESS, tgt->port);
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

        t = iscsi_target(TGT_ADDRESS, tgt->port, NULL);
        t.expected_node_name = "iqn.2026-01.org.example.probe:system";
        run_target_probe(&o, &t, 5 * USEC_PER_SEC);
        g_assert_cmpint(o.error, ==, -ENOENT);
        g_assert_cmpstr(reason_to_string(o.reason), ==, reason_to_string(REASON_SYSTEM_NOT_OFFERED));
        expected = g_strdup_printf("Neither iqn.2026-01.org.example.probe:system (the peer system's Name) nor a "
                                   "target named under it is offered by %s:%u; it offers: ", TGT_ADDRESS, tgt->port);
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
                                   TGT_ADDRESS, tgt->port);

        /* tgt lets anyone discover, and checks the secret at the normal login. */
        t = iscsi_target(TGT_ADDRESS, tgt->port, TGT_CHAP);
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

        t = iscsi_target(TGT_ADDRESS, tgt->port, TGT_CHAP);
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
                                TGT_CHAP, TGT_ADDRESS, tgt->port);
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

        t = iscsi_target(TGT_ADDRESS, tgt->port, TGT_ACL);
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
        ProbeTarget t;
        uint16_t port;
        int listener;

        listener = listener_open("127.0.0.2", 0, 16, &port);
        g_assert_cmpint(listener, >=, 0);

        wait_for_lookup_threads();
        t = iscsi_target("127.0.0.2", port, NULL);
        /* When it is freed, the probe waits for the login answer, on the one connection libiscsi was handed. */
        run_cancelled_probe(&t);
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
                ProbeTarget t = iscsi_target(TGT_ADDRESS, tgt->port, TGT_CHAP);

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

        g_test_add_func("/probe/login/error-status", test_login_error_status);
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
        g_clear_pointer(&tgt, tgtd_free);
        wait_for_lookup_threads();
        return r;
}
