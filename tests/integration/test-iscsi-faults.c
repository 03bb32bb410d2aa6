/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Verification at the iSCSI level (API.md section 7) when the peer fails
 * part-way, and probes that run together: a "silent" peer, a plain
 * listening socket that accepts and never says a word; a tgtd that dies
 * while the job waits; fifty portals behind a relay that passes nothing on
 * until all are open at once; and a job terminated while its probes wait.
 * All on 127.0.0.0/8; the daemon logs in as INITIATOR.
 *
 * tgtd needs root; without root or without tgt installed, the tests that
 * need it are skipped.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "iscsi-fixture.h"
#include "tgtd.h"

static const char *const default_args[] = { "--initiator-name=" INITIATOR, "--probe-timeout=5", NULL };
static const HarnessConfig defaults = { .daemon_args = default_args };
static const char *const silent_args[] = { "--initiator-name=" INITIATOR, "--probe-timeout=2", NULL };
static const HarnessConfig silent = { .daemon_args = silent_args };
static const char *const slow_args[] = { "--initiator-name=" INITIATOR, "--probe-timeout=60", NULL };
static const HarnessConfig slow = { .daemon_args = slow_args };

/* ------------------------------------------------------------------------ */
/* a peer that accepts connections and never answers */

typedef struct SilentPeer {
        int listen_fd;
        guint16 port;
        guint listen_watch;
        GHashTable *clients;            /* fd → GSource id */
        guint accepted;
        guint closed_by_prober;         /* connections the daemon closed (EOF seen) */
        guint expected;
        gboolean all_accepted;          /* accepted reached expected */
        gboolean all_closed;            /* closed_by_prober reached accepted */
} SilentPeer;

static gboolean silent_client_readable(gint fd, GIOCondition condition, gpointer user_data) {
        SilentPeer *p = user_data;
        char buf[4096];
        ssize_t n = read(fd, buf, sizeof(buf));

        if (n > 0 || (n < 0 && errno == EINTR))
                return G_SOURCE_CONTINUE;       /* a login request: ignored */

        p->closed_by_prober++;
        if (p->closed_by_prober == p->accepted)
                p->all_closed = TRUE;
        g_hash_table_remove(p->clients, GINT_TO_POINTER(fd));
        close(fd);
        return G_SOURCE_REMOVE;
}

static gboolean silent_accept(gint fd, GIOCondition condition, gpointer user_data) {
        SilentPeer *p = user_data;
        int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

        if (c < 0)
                return G_SOURCE_CONTINUE;
        p->accepted++;
        p->all_closed = FALSE;
        if (p->expected && p->accepted >= p->expected)
                p->all_accepted = TRUE;
        g_hash_table_insert(p->clients, GINT_TO_POINTER(c),
                            GUINT_TO_POINTER(g_unix_fd_add(c, G_IO_IN | G_IO_HUP | G_IO_ERR,
                                                           silent_client_readable, p)));
        return G_SOURCE_CONTINUE;
}

/* Accepts on the default main context, so while the harness waits. */
static SilentPeer *silent_peer_new(const char *address) {
        struct sockaddr_in sa = { .sin_family = AF_INET };
        socklen_t len = sizeof(sa);
        SilentPeer *p = g_new0(SilentPeer, 1);

        p->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        g_assert_cmpint(p->listen_fd, >=, 0);
        g_assert_cmpint(inet_pton(AF_INET, address, &sa.sin_addr), ==, 1);
        g_assert_cmpint(bind(p->listen_fd, (struct sockaddr *) &sa, len), ==, 0);
        g_assert_cmpint(listen(p->listen_fd, 128), ==, 0);
        g_assert_cmpint(getsockname(p->listen_fd, (struct sockaddr *) &sa, &len), ==, 0);
        p->port = ntohs(sa.sin_port);
        p->clients = g_hash_table_new(NULL, NULL);
        p->listen_watch = g_unix_fd_add(p->listen_fd, G_IO_IN, silent_accept, p);
        return p;
}

static void silent_peer_free(SilentPeer *p) {
        GHashTableIter iter;
        gpointer fd, source;

        if (!p)
                return;
        g_hash_table_iter_init(&iter, p->clients);
        while (g_hash_table_iter_next(&iter, &fd, &source)) {
                g_source_remove(GPOINTER_TO_UINT(source));
                close(GPOINTER_TO_INT(fd));
        }
        g_hash_table_unref(p->clients);
        g_source_remove(p->listen_watch);
        close(p->listen_fd);
        g_free(p);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SilentPeer, silent_peer_free)

/* Connections to port in any state but TIME-WAIT, as `ss` sees them from either end. */
static char *ss_connections_to(guint16 port) {
        g_autofree char *filter = g_strdup_printf("dport = :%u", port);
        g_autofree char *out = NULL;
        g_autoptr(GString) live = g_string_new(NULL);
        g_auto(GStrv) lines = NULL;
        int status = -1;
        const char *argv[] = { "ss", "-Htn", "state", "all", filter, NULL };

        if (!g_spawn_sync(NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
                          &out, NULL, &status, NULL))
                g_error("ss could not be run (Debian package iproute2)");
        g_assert_true(g_spawn_check_wait_status(status, NULL));

        lines = g_strsplit(out, "\n", -1);
        for (size_t i = 0; lines[i]; i++)
                if (*g_strstrip(lines[i]) && !g_str_has_prefix(lines[i], "TIME-WAIT") &&
                    !g_str_has_prefix(lines[i], "LISTEN"))
                        g_string_append_printf(live, "%s\n", lines[i]);
        return g_strdup(live->str);
}

/* ------------------------------------------------------------------------ */
/* a relay that holds every connection until enough are open at once */

/*
 * Proves that probes run concurrently without timing them. The relay
 * forwards each listening port to one upstream portal, but passes nothing
 * on, in either direction, until `gate` client connections are open at the
 * same time; from then on it forwards everything at once. Probes that ran
 * one after the other would each wait for an answer that never comes. It
 * runs on a thread of its own so it keeps going while the test waits in a
 * synchronous call.
 */

typedef struct RelayChunk {
        gsize len;                      /* 0: the sender closed its side */
        char data[];
} RelayChunk;

typedef struct RelayPipe {
        int from, to;
        GQueue chunks;
        gboolean from_client;           /* the client's side of its connection */
        gboolean closed;                /* end of file read from `from` */
        gboolean shut;                  /* passed on to `to` */
} RelayPipe;

typedef struct Relay {
        char *address;
        struct sockaddr_in upstream;
        guint gate;                     /* client connections open at once before anything passes */
        gint open;                      /* client connections open now */
        gint peak;                      /* the most that were open at once */
        int *listen_fds;
        guint16 *ports;
        guint n_ports;
        GPtrArray *pipes;               /* RelayPipe*, two per connection */
        int wake[2];
        GThread *thread;
} Relay;

static void relay_pipe_free(RelayPipe *rp) {
        g_queue_clear_full(&rp->chunks, g_free);
        g_free(rp);
}

static void relay_connect(Relay *r, int client) {
        int up = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        RelayPipe *a, *b;

        g_assert_cmpint(up, >=, 0);
        if (connect(up, (struct sockaddr *) &r->upstream, sizeof(r->upstream)) < 0) {
                close(up);
                close(client);
                return;
        }
        a = g_new0(RelayPipe, 1);
        b = g_new0(RelayPipe, 1);
        *a = (RelayPipe) { .from = client, .to = up, .from_client = TRUE };
        *b = (RelayPipe) { .from = up, .to = client };
        g_ptr_array_add(r->pipes, a);
        g_ptr_array_add(r->pipes, b);
        g_atomic_int_inc(&r->open);
        if (g_atomic_int_get(&r->open) > g_atomic_int_get(&r->peak))
                g_atomic_int_set(&r->peak, g_atomic_int_get(&r->open));
}

/* Reads what rp's sender sent, or its end, into rp's queue. */
static void relay_read(Relay *r, RelayPipe *rp) {
        char buf[65536];
        ssize_t k = read(rp->from, buf, sizeof(buf));

        if (k < 0 && errno == EINTR)
                return;
        RelayChunk *c = g_malloc(sizeof(RelayChunk) + (gsize) MAX(k, 0));
        c->len = (gsize) MAX(k, 0);
        if (k > 0)
                memcpy(c->data, buf, (gsize) k);
        else {
                rp->closed = TRUE;
                if (rp->from_client)
                        g_atomic_int_add(&r->open, -1);
        }
        g_queue_push_tail(&rp->chunks, c);
}

/* Passes on everything rp holds. */
static void relay_flush(RelayPipe *rp) {
        RelayChunk *c;

        while ((c = g_queue_pop_head(&rp->chunks))) {
                if (c->len > 0)
                        (void) send(rp->to, c->data, c->len, MSG_NOSIGNAL);
                else if (!rp->shut) {
                        (void) shutdown(rp->to, SHUT_WR);
                        rp->shut = TRUE;
                }
                g_free(c);
        }
}

static gpointer relay_thread(gpointer data) {
        Relay *r = data;

        for (;;) {
                g_autofree struct pollfd *fds = g_new0(struct pollfd, r->n_ports + r->pipes->len + 1);
                guint n = 0;

                fds[n++] = (struct pollfd) { .fd = r->wake[0], .events = POLLIN };
                for (guint i = 0; i < r->n_ports; i++)
                        fds[n++] = (struct pollfd) { .fd = r->listen_fds[i], .events = POLLIN };
                for (guint i = 0; i < r->pipes->len; i++) {
                        RelayPipe *rp = r->pipes->pdata[i];

                        fds[n++] = (struct pollfd) { .fd = rp->closed ? -1 : rp->from, .events = POLLIN };
                }

                if (poll(fds, n, -1) < 0 && errno != EINTR)
                        break;
                if (fds[0].revents)
                        break;

                for (guint i = 0; i < r->n_ports; i++)
                        if (fds[1 + i].revents & POLLIN) {
                                int c = accept4(r->listen_fds[i], NULL, NULL, SOCK_CLOEXEC);

                                if (c >= 0)
                                        relay_connect(r, c);
                        }

                for (guint i = 0; i < r->pipes->len && 1 + r->n_ports + i < n; i++)
                        if (fds[1 + r->n_ports + i].revents & (POLLIN | POLLHUP | POLLERR))
                                relay_read(r, r->pipes->pdata[i]);

                if ((guint) g_atomic_int_get(&r->peak) >= r->gate)
                        for (guint i = 0; i < r->pipes->len; i++)
                                relay_flush(r->pipes->pdata[i]);
        }
        return NULL;
}

/* n_ports listening ports on address, each relaying to upstream_address:upstream_port once gate are open. */
static Relay *relay_new(const char *address, guint n_ports, const char *upstream_address, guint16 upstream_port,
                        guint gate) {
        Relay *r = g_new0(Relay, 1);

        r->address = g_strdup(address);
        r->gate = gate;
        r->upstream = (struct sockaddr_in) { .sin_family = AF_INET, .sin_port = htons(upstream_port) };
        g_assert_cmpint(inet_pton(AF_INET, upstream_address, &r->upstream.sin_addr), ==, 1);
        r->n_ports = n_ports;
        r->listen_fds = g_new0(int, n_ports);
        r->ports = g_new0(guint16, n_ports);
        for (guint i = 0; i < n_ports; i++) {
                struct sockaddr_in sa = { .sin_family = AF_INET };
                socklen_t len = sizeof(sa);

                r->listen_fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                g_assert_cmpint(r->listen_fds[i], >=, 0);
                g_assert_cmpint(inet_pton(AF_INET, address, &sa.sin_addr), ==, 1);
                g_assert_cmpint(bind(r->listen_fds[i], (struct sockaddr *) &sa, len), ==, 0);
                g_assert_cmpint(listen(r->listen_fds[i], 64), ==, 0);
                g_assert_cmpint(getsockname(r->listen_fds[i], (struct sockaddr *) &sa, &len), ==, 0);
                r->ports[i] = ntohs(sa.sin_port);
        }
        r->pipes = g_ptr_array_new_with_free_func((GDestroyNotify) relay_pipe_free);
        g_assert_cmpint(pipe2(r->wake, O_CLOEXEC), ==, 0);
        r->thread = g_thread_new("relay", relay_thread, r);
        return r;
}

static void relay_free(Relay *r) {
        if (!r)
                return;
        (void) write(r->wake[1], "x", 1);
        g_thread_join(r->thread);
        for (guint i = 0; i < r->pipes->len; i++)
                close(((RelayPipe *) r->pipes->pdata[i])->from);
        g_ptr_array_unref(r->pipes);
        for (guint i = 0; i < r->n_ports; i++)
                close(r->listen_fds[i]);
        close(r->wake[0]);
        close(r->wake[1]);
        g_free(r->listen_fds);
        g_free(r->ports);
        g_free(r->address);
        g_free(r);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Relay, relay_free)

/* ------------------------------------------------------------------------ */
/* tests */

/* Accepts TCP, never answers the login: Timeout when the probe's deadline passes, not later. */
static void test_silent_peer(Harness *h, gconstpointer data) {
        g_autoptr(SilentPeer) quiet = silent_peer_new("127.0.0.76");
        g_autofree char *collection = local_collection(h);
        g_autofree char *peer = harness_add_peer(h, "silent.example.org", NULL);
        g_autofree char *ap = harness_add_access_point(h, peer, "127.0.0.76", quiet->port, NULL);
        const char *remotes[] = { ap, NULL };
        g_autofree char *job = NULL;
        const guint64 deadline = 2 * G_USEC_PER_SEC;
        gint64 started = g_get_monotonic_time();

        g_assert_cmpuint(harness_add_to_collection(h, collection, NULL, remotes, peer, &job), ==, 4096);
        harness_wait_job_running(h, job);
        /* JobStatus names the portal being probed, and from where. */
        g_autofree char *status = harness_get_string(h, job, IRD_IFACE_JOB, "JobStatus");
        g_autofree char *probing = g_strdup_printf("Probing 127.0.0.76:%u from %s; 0 of 1 done.", quiet->port,
                                                   LOCAL_ADDRESS);
        g_assert_cmpstr(status, ==, probing);

        g_auto(Outcome) o = wait_job(h, job, started);
        g_assert_false(o.success);
        g_assert_cmpuint(o.code, ==, 3);
        g_assert_cmpuint(quiet->accepted, ==, 1);
        g_autofree char *expected = g_strdup_printf("No answer to the discovery login from 127.0.0.76:%u within 2 s "
                                                    "(local address %s).", quiet->port, LOCAL_ADDRESS);
        g_autofree char *description = error_description(h, job);
        g_assert_nonnull(strstr(description, expected));
        assert_reason(h, job, ap, "Timeout");
        assert_nothing_remote(h, collection);

        g_test_message("probe deadline %.3f s; the job failed %.3f s after the call (%+.0f ms)",
                       (double) deadline / G_USEC_PER_SEC, (double) o.elapsed_usec / G_USEC_PER_SEC,
                       ((double) o.elapsed_usec - (double) deadline) / 1000.0);
        g_assert_cmpuint(o.elapsed_usec, >=, deadline);
        g_assert_cmpuint(o.elapsed_usec, <, deadline + 500 * 1000);
}

/* The target dies while the job waits for its answer: the job fails at once, the daemon serves on. */
static void test_target_killed(Harness *h, gconstpointer data) {
        const char *target = "iqn.2026-01.org.example.itest:doomed";

        if (!tgtd_available())
                return;
        g_autoptr(Tgtd) tgtd = tgtd_new("127.0.0.77", LUN_SIZE);
        tgtd_add_target(tgtd, target);
        g_autofree char *collection = local_collection(h);
        g_autofree char *peer = harness_add_peer(h, target, NULL);
        g_autofree char *ap = harness_add_access_point(h, peer, tgtd->address, tgtd->port, target);
        const char *remotes[] = { ap, NULL };
        g_autofree char *job = NULL;

        /* Stopped, tgtd still has the kernel accept connections but answers nothing. */
        g_assert_cmpint(kill(tgtd->pid, SIGSTOP), ==, 0);
        gint64 started = g_get_monotonic_time();
        g_assert_cmpuint(harness_add_to_collection(h, collection, NULL, remotes, peer, &job), ==, 4096);
        harness_wait_job_running(h, job);
        g_assert_cmpuint(harness_get_uint16(h, job, IRD_IFACE_JOB, "JobState"), ==, IRD_JOB_RUNNING);
        tgtd_kill(tgtd);

        g_auto(Outcome) o = wait_job(h, job, started);
        g_assert_false(o.success);
        g_assert_cmpuint(o.code, ==, 4);
        /* Well before the 5 s deadline: the closed connection ends the probe. */
        g_assert_cmpuint(o.elapsed_usec, <, 2 * G_USEC_PER_SEC);
        g_autofree char *description = error_description(h, job);
        g_autofree char *expected = g_strdup_printf("Connection to %s:%u closed by the peer during the discovery login",
                                                    tgtd->address, tgtd->port);
        g_assert_nonnull(strstr(description, expected));
        assert_reason(h, job, ap, "ConnectionLost");
        assert_nothing_remote(h, collection);

        /* Still serving. */
        g_autofree char *other = harness_add_peer(h, "after.example.org", NULL);
        g_autoptr(GVariant) reply = harness_call(h, IRD_ROOT, IRD_IFACE_SERVICE, "GetPeerSystems",
                                                 g_variant_new("(q)", 0));
        g_autoptr(GVariant) systems = g_variant_get_child_value(reply, 2);
        g_assert_cmpuint(g_variant_n_children(systems), ==, 2);
}

#define N_PORTALS 50

/* Verifies all of aps in one job, on a fresh collection: each is a member after. */
static void verify_portals_in_one_job(Harness *h, const char *local, const char *peer, const char *name,
                                      char **aps) {
        const char *locals[] = { local, NULL };
        g_autofree char *collection = harness_create_collection(h, name, locals, NULL, NULL);

        g_auto(Outcome) all = add_remote(h, collection, (const char *const *) aps, peer, NULL);
        g_assert_true(all.success);
        g_auto(GStrv) members = harness_get_paths(h, collection, IRD_IFACE_COLLECTION, "RemoteAccessPoints");
        g_assert_cmpuint(g_strv_length(members), ==, g_strv_length(aps));
}

/*
 * 50 portals of one host in one job are verified concurrently. Every probe
 * does the same work against tgtd: discovery login, SendTargets, logout,
 * CHAP login to the target, logout. Directly, tgtd answers all 50; through
 * a relay that passes nothing on until all 50 connections are open at
 * once, the job can succeed only if its probes run together (probes one
 * after the other would each time out, and the job would fail or trip the
 * harness's watchdog). How long such a job takes is not asserted here.
 */
static void test_fifty_portals(Harness *h, gconstpointer data) {
        const char *target = "iqn.2026-01.org.example.itest:busy";

        if (!tgtd_available())
                return;
        g_autoptr(Tgtd) tgtd = tgtd_new("127.0.0.78", LUN_SIZE);
        int tid = tgtd_add_target(tgtd, target);
        tgtd_add_account(tgtd, tid, CHAP_USER, CHAP_SECRET, FALSE);
        g_autofree char *local = harness_add_access_point(h, IRD_LOCAL_SYSTEM, LOCAL_ADDRESS, 3260, NULL);
        g_autofree char *peer = harness_add_peer(h, target, NULL);
        g_autoptr(Relay) relay = relay_new("127.0.0.81", N_PORTALS, tgtd->address, tgtd->port, N_PORTALS);
        g_auto(GStrv) direct = g_new0(char *, N_PORTALS + 1);
        g_auto(GStrv) gated = g_new0(char *, N_PORTALS + 1);

        for (unsigned i = 0; i < N_PORTALS; i++) {
                guint16 port = i == 0 ? tgtd->port : tgtd_add_portal(tgtd);

                direct[i] = harness_add_access_point(h, peer, tgtd->address, port, target);
                g_free(harness_add_secret(h, direct[i], CHAP_USER, CHAP_SECRET));
                gated[i] = harness_add_access_point(h, peer, relay->address, relay->ports[i], target);
                g_free(harness_add_secret(h, gated[i], CHAP_USER, CHAP_SECRET));
        }
        harness_clear_signals(h);

        verify_portals_in_one_job(h, local, peer, "direct", direct);

        verify_portals_in_one_job(h, local, peer, "gated", gated);
        /* All 50 discovery sessions were open at once (normal sessions may have joined them). */
        g_assert_cmpint(g_atomic_int_get(&relay->peak), >=, N_PORTALS);
}

#define N_SILENT 10

/* Terminate while probes wait on silent peers: Terminated at once, and every connection closed. */
static void test_cancel(Harness *h, gconstpointer data) {
        g_autoptr(SilentPeer) quiet = silent_peer_new("127.0.0.79");
        g_autofree char *collection = local_collection(h);
        g_autofree char *peer = harness_add_peer(h, "silent.example.org", NULL);
        g_autoptr(GPtrArray) aps = g_ptr_array_new_with_free_func(g_free);
        g_autofree char *job = NULL;

        /* Ten portals that are one listening socket under ten target names. */
        for (unsigned i = 0; i < N_SILENT; i++) {
                g_autofree char *name = g_strdup_printf("iqn.2026-01.org.example.itest:silent%u", i);
                g_ptr_array_add(aps, harness_add_access_point(h, peer, "127.0.0.79", quiet->port, name));
        }
        g_ptr_array_add(aps, NULL);
        quiet->expected = N_SILENT;

        g_assert_cmpuint(harness_add_to_collection(h, collection, NULL, (const char *const *) aps->pdata, peer, &job),
                         ==, 4096);
        harness_wait_for_flag(h, &quiet->all_accepted);
        g_autofree char *before = ss_connections_to(quiet->port);
        g_test_message("before Terminate:\n%s", before);
        g_assert_cmpstr(before, !=, "");

        gint64 started = g_get_monotonic_time();
        g_autoptr(GVariant) reply = harness_call(h, job, IRD_IFACE_JOB, "RequestStateChange",
                                                 g_variant_new("(qt)", 4, (guint64) 0));
        g_auto(Outcome) o = wait_job(h, job, started);
        g_assert_false(o.success);
        g_assert_cmpuint(harness_get_uint16(h, job, IRD_IFACE_JOB, "JobState"), ==, IRD_JOB_TERMINATED);
        g_test_message("Terminated %.1f ms after the request", o.elapsed_usec / 1000.0);
        g_assert_cmpuint(o.elapsed_usec, <, G_USEC_PER_SEC);
        assert_nothing_remote(h, collection);

        /* The daemon closed each connection: the peer read end-of-file on all of them. */
        harness_wait_for_flag(h, &quiet->all_closed);
        g_assert_cmpuint(quiet->closed_by_prober, ==, N_SILENT);
        /* Our side has closed too; the kernel may take a moment to move the daemon's end on. */
        g_autofree char *after = NULL;
        for (unsigned i = 0; i < 100; i++) {
                g_free(after);
                after = ss_connections_to(quiet->port);
                if (g_str_equal(after, ""))
                        break;
                /* The kernel moves a closed socket through FIN states with no event to wait on: poll, bounded. */
                g_usleep(10 * 1000);
        }
        g_assert_cmpstr(after, ==, "");
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);

        harness_add_test("/integration/iscsi/silent-peer", &silent, test_silent_peer);
        harness_add_test("/integration/iscsi/target-killed", &defaults, test_target_killed);
        harness_add_test("/integration/iscsi/fifty-portals", &defaults, test_fifty_portals);
        harness_add_test("/integration/iscsi/cancel", &slow, test_cancel);

        return g_test_run();
}
