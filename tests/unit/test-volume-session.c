/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * net/volume-session against real targets: a "local" tgtd on 127.0.0.85 and
 * a "remote" one on 127.0.0.86, reached from 127.0.0.85 as the local access
 * point's address. Size, a LUN that is no disk, CHAP, a missing target, and
 * the source address the target sees. Skipped without root or tgt.
 */

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "net/volume-session.h"
#include "tgtd-endpoint.h"
#include "util/macros.h"

#define LOCAL_ADDRESS "127.0.0.85"
#define REMOTE_ADDRESS "127.0.0.86"
#define INITIATOR "iqn.2026-11.org.example.test:session"
#define SOURCE_TARGET "iqn.2026-11.org.example.test:source"
#define COPY_TARGET "iqn.2026-11.org.example.test:copy"
#define VOLUME_SIZE (UINT64_C(4) * 1024 * 1024)

/* A hung test fails after this long instead of blocking the run. */
#define WATCHDOG_USEC (30 * USEC_PER_SEC)

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VolumeSession, volume_session_free)

typedef struct Fixture {
        Tgtd *local, *remote;
        sd_event *event;
} Fixture;

static void fixture_setup(Fixture *f, gconstpointer data) {
        if (!tgtd_available())
                return;
        f->local = tgtd_start(LOCAL_ADDRESS, SOURCE_TARGET, VOLUME_SIZE);
        f->remote = tgtd_start(REMOTE_ADDRESS, COPY_TARGET, VOLUME_SIZE);
        g_assert_cmpint(sd_event_new(&f->event), ==, 0);
}

static void fixture_teardown(Fixture *f, gconstpointer data) {
        tgtd_free(f->local);
        tgtd_free(f->remote);
        sd_event_unref(f->event);
}

static VolumeEndpoint endpoint(const Tgtd *t) {
        return tgtd_endpoint(t, LOCAL_ADDRESS, INITIATOR);
}

typedef struct SessionOutcome {
        gboolean called;
        int error;
        Reason reason;
} SessionOutcome;

static void on_session(VolumeSession *s, int error, Reason reason, const char *message, void *userdata) {
        SessionOutcome *o = userdata;

        o->called = TRUE;
        o->error = error;
        o->reason = reason;
        g_test_message("session: %s", message);
}

static void open_session(Fixture *f, uint16_t lun, SessionOutcome *o, VolumeSession **ret) {
        VolumeEndpoint e = endpoint(f->local);

        e.lun = lun;
        *o = (SessionOutcome) {};
        g_assert_cmpint(volume_session_open(f->event, &e, 0, on_session, o, ret), ==, 0);
        g_assert_false(o->called);
        test_loop_until(f->event, &o->called, WATCHDOG_USEC);
}

static void test_session_size(Fixture *f, gconstpointer data) {
        g_autoptr(VolumeSession) s = NULL;
        SessionOutcome o;

        if (!f->event)
                return;
        open_session(f, 1, &o, &s);
        g_assert_cmpint(o.error, ==, 0);
        g_assert_true(volume_session_is_ready(s));
        g_assert_cmpuint(volume_session_block_size(s), ==, 512);
        g_assert_cmpuint(volume_session_n_blocks(s), ==, VOLUME_SIZE / 512);
}

static void test_session_not_a_disk(Fixture *f, gconstpointer data) {
        g_autoptr(VolumeSession) s = NULL;
        SessionOutcome o;

        if (!f->event)
                return;
        /* tgt's LUN 0 is the target's controller, not a block device. */
        open_session(f, 0, &o, &s);
        g_assert_cmpint(o.error, ==, -ENODEV);
        g_assert_cmpint(o.reason, ==, REASON_VOLUME_UNSUITABLE);
        g_assert_false(volume_session_is_ready(s));
}

static void test_session_chap(Fixture *f, gconstpointer data) {
        VolumeEndpoint e = endpoint(f->local);
        SessionOutcome o = {};
        VolumeSession *s = NULL;

        if (!f->event)
                return;
        tgtd_require_chap(f->local, "replica", "replica-secret-0815");

        e.username = "replica";
        e.secret = "wrong-secret-4711";
        g_assert_cmpint(volume_session_open(f->event, &e, 0, on_session, &o, &s), ==, 0);
        test_loop_until(f->event, &o.called, WATCHDOG_USEC);
        g_assert_cmpint(o.error, ==, -EACCES);
        g_assert_cmpint(o.reason, ==, REASON_AUTHENTICATION_FAILED);
        s = volume_session_free(s);

        e.secret = "replica-secret-0815";
        g_assert_cmpint(volume_session_open(f->event, &e, 0, on_session, &o, &s), ==, 0);
        test_loop_until(f->event, &o.called, WATCHDOG_USEC);
        g_assert_cmpint(o.error, ==, 0);
        g_assert_true(volume_session_is_ready(s));
        s = volume_session_free(s);
}

/* The session comes from the local access point's address: the target's ACL sees that address. */
static void test_session_source_address(Fixture *f, gconstpointer data) {
        VolumeEndpoint e = endpoint(f->remote);
        SessionOutcome o = {};
        VolumeSession *s = NULL;

        if (!f->event)
                return;
        tgtd_allow_only(f->remote, LOCAL_ADDRESS);

        e.source_address = "127.0.0.83";
        g_assert_cmpint(volume_session_open(f->event, &e, 0, on_session, &o, &s), ==, 0);
        test_loop_until(f->event, &o.called, WATCHDOG_USEC);
        g_assert_cmpint(o.error, <, 0);
        g_assert_cmpint(o.reason, ==, REASON_LOGIN_REJECTED);
        s = volume_session_free(s);

        e.source_address = LOCAL_ADDRESS;
        g_assert_cmpint(volume_session_open(f->event, &e, 0, on_session, &o, &s), ==, 0);
        test_loop_until(f->event, &o.called, WATCHDOG_USEC);
        g_assert_cmpint(o.error, ==, 0);
        g_assert_nonnull(strstr(volume_session_describe(s), "(local address " LOCAL_ADDRESS ")"));
        s = volume_session_free(s);
}

static void test_session_no_such_target(Fixture *f, gconstpointer data) {
        VolumeEndpoint e = endpoint(f->local);
        SessionOutcome o = {};
        VolumeSession *s = NULL;

        if (!f->event)
                return;
        e.target_name = "iqn.2026-11.org.example.test:nothing";
        g_assert_cmpint(volume_session_open(f->event, &e, 0, on_session, &o, &s), ==, 0);
        test_loop_until(f->event, &o.called, WATCHDOG_USEC);
        g_assert_cmpint(o.error, ==, -ENOENT);
        g_assert_cmpint(o.reason, ==, REASON_LOGIN_REJECTED);
        volume_session_free(s);
}


int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);

#define FIXTURE_TEST(path, fn) g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)

        FIXTURE_TEST("/volume-session/size", test_session_size);
        FIXTURE_TEST("/volume-session/not-a-disk", test_session_not_a_disk);
        FIXTURE_TEST("/volume-session/chap", test_session_chap);
        FIXTURE_TEST("/volume-session/no-such-target", test_session_no_such_target);
        FIXTURE_TEST("/volume-session/source-address", test_session_source_address);
        return g_test_run();
}
