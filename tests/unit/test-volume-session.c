/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * net/volume-session against real targets: a "local" tgtd on 127.0.0.85 and
 * a "remote" one on 127.0.0.86, reached from 127.0.0.85 as the local access
 * point's address. Size, a LUN that is no disk, CHAP, a missing target, the
 * source address the target sees, and how writes leave on the wire:
 * in full segments, and at once when queued from a callback.
 * Skipped without root or tgt.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "net/volume-session.h"
#include "tgtd-endpoint.h"
#include "util/macros.h"

#define LOCAL_ADDRESS "127.0.0.85"
#define REMOTE_ADDRESS "127.0.0.86"
#define INITIATOR "iqn.2026-11.org.example.test:session"
#define SOURCE_TARGET "iqn.2026-11.org.example.test:source"
#define COPY_TARGET "iqn.2026-11.org.example.test:copy"
#define NAMED_TARGET "iqn.2026-11.org.example.test:named"
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

/*
 * A portal named by a host name ("localhost", which /etc/hosts maps to
 * 127.0.0.1): resolved as probes resolve names, off the loop, and still
 * reached from the local address, which the target's ACL checks. Once the
 * target is gone every address refuses.
 */
static void test_session_host_name(Fixture *f, gconstpointer data) {
        g_autoptr(Tgtd) named = NULL;
        g_autofree char *described = NULL;
        SessionOutcome o = {};
        VolumeSession *s = NULL;
        VolumeEndpoint e;

        if (!f->event)
                return;
        named = tgtd_start("127.0.0.1", NAMED_TARGET, VOLUME_SIZE);
        tgtd_allow_only(named, LOCAL_ADDRESS);
        e = tgtd_endpoint(named, LOCAL_ADDRESS, INITIATOR);
        e.address = "localhost";
        g_assert_cmpint(volume_session_open(f->event, &e, 0, on_session, &o, &s), ==, 0);
        test_loop_until(f->event, &o.called, WATCHDOG_USEC);
        g_assert_cmpint(o.error, ==, 0);
        g_assert_true(volume_session_is_ready(s));
        g_assert_cmpuint(volume_session_n_blocks(s), ==, VOLUME_SIZE / 512);
        described = g_strdup_printf("at localhost:%u (local address " LOCAL_ADDRESS ")", named->port);
        g_assert_nonnull(strstr(volume_session_describe(s), described));
        s = volume_session_free(s);

        tgtd_kill(named);
        o = (SessionOutcome) {};
        g_assert_cmpint(volume_session_open(f->event, &e, 0, on_session, &o, &s), ==, 0);
        test_loop_until(f->event, &o.called, WATCHDOG_USEC);
        g_assert_cmpint(o.error, ==, -ECONNREFUSED);
        g_assert_cmpint(o.reason, ==, REASON_REFUSED);
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

/* TCP segments this process sent on its connection to t's portal, from the socket's TCP_INFO. */
static uint32_t segments_sent_to(const Tgtd *t) {
        g_autoptr(GDir) dir = g_dir_open("/proc/self/fd", 0, NULL);
        const char *name;
        uint32_t found = 0;
        unsigned n_found = 0;

        g_assert_nonnull(dir);
        while ((name = g_dir_read_name(dir))) {
                struct sockaddr_in peer = {};
                socklen_t len = sizeof(peer);
                struct tcp_info info = {};
                socklen_t info_len = sizeof(info);
                char address[INET_ADDRSTRLEN];
                int fd = atoi(name);

                if (getpeername(fd, (struct sockaddr *) &peer, &len) < 0 || peer.sin_family != AF_INET ||
                    ntohs(peer.sin_port) != t->port || !inet_ntop(AF_INET, &peer.sin_addr, address, sizeof(address)) ||
                    strcmp(address, t->address) != 0)
                        continue;
                g_assert_cmpint(getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &info_len), ==, 0);
                found = info.tcpi_segs_out;
                n_found++;
        }
        g_assert_cmpuint(n_found, ==, 1);
        return found;
}

#define N_WRITES 4u

typedef struct Write {
        VolumeIo io;                    /* first: the callback's pointer is the write's */
        struct Writes *all;
} Write;

typedef struct Writes {
        Write write[N_WRITES];
        unsigned n_done;
        gboolean all_done;
} Writes;

static void on_write(VolumeIo *io, int error) {
        Write *w = (Write *) io;

        g_assert_cmpint(error, ==, 0);
        if (++w->all->n_done == N_WRITES)
                w->all->all_done = TRUE;
}

static void test_session_write_segments(Fixture *f, gconstpointer data) {
        const uint32_t length = VOLUME_SIZE / N_WRITES, blocks = length / 512;
        g_autoptr(VolumeSession) s = NULL;
        g_autofree uint8_t *buf = g_malloc(length);
        Writes writes = {};
        SessionOutcome o;
        uint32_t before, sent;

        if (!f->event)
                return;
        open_session(f, 1, &o, &s);
        g_assert_cmpint(o.error, ==, 0);
        memset(buf, 0x5a, length);
        before = segments_sent_to(f->local);
        for (unsigned i = 0; i < N_WRITES; i++) {
                writes.write[i].all = &writes;
                g_assert_cmpint(volume_session_write(s, &writes.write[i].io, i * blocks, blocks, buf, on_write), ==, 0);
        }
        test_loop_until(f->event, &writes.all_done, WATCHDOG_USEC);
        sent = segments_sent_to(f->local) - before;
        g_test_message("%u segments for %" G_GUINT64_FORMAT " bytes", sent, VOLUME_SIZE);
        /*
         * tgtd takes data in PDUs of at most 8 KiB (its MaxRecvDataSegmentLength):
         * 512 for 4 MiB, each a header and its data. Sent one by one they would
         * be two segments each; packed together, a loopback segment holds many.
         */
        g_assert_cmpuint(sent, <, VOLUME_SIZE / (4 * 8192));
}

#define N_CHAINED 32u

/* Reads of one block, each sent from the callback of the one before, as a copy's slot sends its next read. */
typedef struct Chain {
        VolumeIo io;                    /* first: the callback's pointer is the chain's */
        VolumeSession *session;
        uint8_t buf[512];
        unsigned n_done;
        gboolean done;
} Chain;

static void on_chained_read(VolumeIo *io, int error) {
        Chain *c = (Chain *) io;

        g_assert_cmpint(error, ==, 0);
        if (++c->n_done == N_CHAINED) {
                c->done = TRUE;
                return;
        }
        g_assert_cmpint(volume_session_read(c->session, &c->io, c->n_done, 1, c->buf, on_chained_read), ==, 0);
}

static int on_chain_watchdog(sd_event_source *s, uint64_t usec, void *userdata) {
        g_error("the chained reads did not finish in time");
        return 0;
}

/*
 * A command queued while the session handles a response (a slot's next
 * read, the Data-Out an R2T asks for) leaves in that same dispatch: one
 * trip round the loop per answer, not one more for the socket to report
 * that it is writable, while the target waits.
 */
static void test_session_sends_from_callbacks(Fixture *f, gconstpointer data) {
        g_autoptr(VolumeSession) s = NULL;
        sd_event_source *watchdog = NULL;
        unsigned iterations = 0;
        Chain chain = {};
        SessionOutcome o;

        if (!f->event)
                return;
        open_session(f, 1, &o, &s);
        g_assert_cmpint(o.error, ==, 0);
        chain.session = s;
        g_assert_cmpint(sd_event_add_time_relative(f->event, &watchdog, CLOCK_MONOTONIC, WATCHDOG_USEC, 0,
                                                   on_chain_watchdog, NULL), ==, 0);
        g_assert_cmpint(volume_session_read(s, &chain.io, 0, 1, chain.buf, on_chained_read), ==, 0);
        for (; !chain.done; iterations++)
                g_assert_cmpint(sd_event_run(f->event, UINT64_MAX), >=, 0);
        sd_event_source_disable_unref(watchdog);
        g_test_message("%u loop iterations for %u chained reads", iterations, N_CHAINED);
        /* Two per read if each waited for EPOLLOUT; a little more than one when sent at once. */
        g_assert_cmpuint(iterations, <, N_CHAINED * 3 / 2);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);

#define FIXTURE_TEST(path, fn) g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)

        FIXTURE_TEST("/volume-session/size", test_session_size);
        FIXTURE_TEST("/volume-session/not-a-disk", test_session_not_a_disk);
        FIXTURE_TEST("/volume-session/chap", test_session_chap);
        FIXTURE_TEST("/volume-session/no-such-target", test_session_no_such_target);
        FIXTURE_TEST("/volume-session/source-address", test_session_source_address);
        FIXTURE_TEST("/volume-session/host-name", test_session_host_name);
        FIXTURE_TEST("/volume-session/write-segments", test_session_write_segments);
        FIXTURE_TEST("/volume-session/sends-from-callbacks", test_session_sends_from_callbacks);
        return g_test_run();
}
