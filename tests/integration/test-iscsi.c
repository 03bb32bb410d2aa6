/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Verification at the iSCSI level (API.md section 7) against real targets:
 * tgtd from Debian's tgt, one instance per test host, each on its own
 * 127.0.0.x address and control port, configured with tgtadm and killed
 * when the test ends. Also a "silent" peer, a plain listening socket that
 * accepts and never says a word. The daemon logs in as INITIATOR.
 *
 * tgtd needs root; without root or without tgt installed, the tests that
 * need it are skipped.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "tgtd.h"

#define PROPERTIES "org.freedesktop.DBus.Properties"
#define INITIATOR "iqn.2026-01.org.example.itest:initiator"
/* The local access point every probe is bound to. */
#define LOCAL_ADDRESS "127.0.0.70"

#define CHAP_USER "itest-user"
#define CHAP_SECRET "itest-chap-secret-4711"
#define MUTUAL_USER "itest-target"
#define MUTUAL_SECRET "itest-mutual-secret-0815"

static const char *const default_args[] = { "--initiator-name=" INITIATOR, "--probe-timeout=5", NULL };
static const HarnessConfig defaults = { .daemon_args = default_args };
static const char *const silent_args[] = { "--initiator-name=" INITIATOR, "--probe-timeout=2", NULL };
static const HarnessConfig silent = { .daemon_args = silent_args };
static const char *const slow_args[] = { "--initiator-name=" INITIATOR, "--probe-timeout=60", NULL };
static const HarnessConfig slow = { .daemon_args = slow_args };
static const char *const debug_args[] = { "--initiator-name=" INITIATOR, "--probe-timeout=5", "--log-level=debug",
                                          NULL };
static const HarnessConfig debug = { .daemon_args = debug_args };

/* The size of the file every logical unit of a test target is backed by. */
#define LUN_SIZE (1024 * 1024)

/* The names `iscsi-ls` lists for the portal, in its order: an answer from another initiator. */
static char **iscsi_ls_targets(const char *address, guint16 port) {
        g_autofree char *url = g_strdup_printf("iscsi://%s:%u/", address, port);
        g_autofree char *out = NULL;
        g_autoptr(GStrvBuilder) names = g_strv_builder_new();
        g_auto(GStrv) lines = NULL;
        int status = -1;
        const char *argv[] = { "iscsi-ls", "-i", "iqn.2026-01.org.example.itest:iscsi-ls", url, NULL };

        if (!g_spawn_sync(NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                          NULL, &out, NULL, &status, NULL))
                g_error("iscsi-ls could not be run (Debian package libiscsi-bin)");
        g_assert_true(g_spawn_check_wait_status(status, NULL));

        /* "Target:<name> Portal:<address>:<port>,<tag>" */
        lines = g_strsplit(out, "\n", -1);
        for (size_t i = 0; lines[i]; i++) {
                if (!g_str_has_prefix(lines[i], "Target:"))
                        continue;
                const char *name = lines[i] + strlen("Target:");
                const char *end = strchr(name, ' ');
                g_autofree char *n = end ? g_strndup(name, (gsize) (end - name)) : g_strdup(name);

                g_strv_builder_add(names, n);
        }
        return g_strv_builder_end(names);
}

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
/* service helpers */

typedef struct Outcome {
        gboolean success;
        guint16 code;
        char *message;
        guint64 elapsed_usec;           /* from the call to the Completed signal */
} Outcome;

static void outcome_clear(Outcome *o) {
        g_clear_pointer(&o->message, g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Outcome, outcome_clear)

static Outcome wait_job(Harness *h, const char *job, gint64 started) {
        g_autoptr(HarnessSignal) s = harness_wait_signal(h, job, IRD_IFACE_JOB, "Completed", NULL, NULL);
        Outcome o = {};
        const char *message;

        g_variant_get(s->parameters, "(bq&s)", &o.success, &o.code, &message);
        o.message = g_strdup(message);
        o.elapsed_usec = s->received_usec - (guint64) started;
        g_test_message("%s: %s %u %s (%.3f s)", job, o.success ? "completed" : "failed", o.code, o.message,
                       (double) o.elapsed_usec / G_USEC_PER_SEC);
        return o;
}

/* AddTo with remote access points of system; waits for the job it starts. */
static Outcome add_remote(Harness *h, const char *collection, const char *const *remotes, const char *system,
                          char **ret_job) {
        g_autofree char *job = NULL;
        gint64 started = g_get_monotonic_time();

        g_assert_cmpuint(harness_add_to_collection(h, collection, NULL, remotes, system, &job), ==, 4096);
        Outcome o = wait_job(h, job, started);
        if (ret_job)
                *ret_job = g_steal_pointer(&job);
        return o;
}

static char *error_description(Harness *h, const char *job) {
        return harness_get_string(h, job, IRD_IFACE_JOB, "ErrorDescription");
}

/* The failed job's MessageID and the access point's LastErrorID are both reason. */
static void assert_reason(Harness *h, const char *job, const char *access_point, const char *reason) {
        g_autofree char *message_id = harness_job_message_id(h, job);
        g_autofree char *last_error_id = harness_get_string(h, access_point, IRD_IFACE_AP, "LastErrorID");

        g_assert_cmpstr(message_id, ==, reason);
        g_assert_cmpstr(last_error_id, ==, reason);
}

/* A collection holding the local access point on LOCAL_ADDRESS, and nothing remote yet. */
static char *local_collection(Harness *h, char **ret_local) {
        g_autofree char *local = harness_add_access_point(h, IRD_LOCAL_SYSTEM, LOCAL_ADDRESS, 3260, NULL);
        const char *locals[] = { local, NULL };
        char *collection = harness_create_collection(h, "replicas", locals, NULL, NULL);

        if (ret_local)
                *ret_local = g_steal_pointer(&local);
        harness_clear_signals(h);
        return collection;
}

static void assert_nothing_remote(Harness *h, const char *collection) {
        g_auto(GStrv) remotes = harness_get_paths(h, collection, IRD_IFACE_COLLECTION, "RemoteAccessPoints");
        g_auto(GStrv) systems = harness_get_paths(h, collection, IRD_IFACE_COLLECTION, "RemoteSystems");

        g_assert_cmpuint(g_strv_length(remotes), ==, 0);
        g_assert_cmpuint(g_strv_length(systems), ==, 0);
}

/* ------------------------------------------------------------------------ */
/* tests */

/* A good peer: the job completes, the collection holds the portal, the verdicts are recorded. */
static void test_good_peer(Harness *h, gconstpointer data) {
        const char *target = "iqn.2026-01.org.example.itest:good";

        if (!tgtd_available())
                return;
        g_autoptr(Tgtd) tgtd = tgtd_new("127.0.0.71", LUN_SIZE);
        tgtd_add_target(tgtd, target);
        g_autofree char *collection = local_collection(h, NULL);
        /* The peer is named by its target's node name, so both names are checked. */
        g_autofree char *peer = harness_add_peer(h, target, "good");
        g_autofree char *ap = harness_add_access_point(h, peer, tgtd->address, tgtd->port, target);
        const char *remotes[] = { ap, NULL };
        guint64 t0 = (guint64) g_get_real_time();

        g_auto(Outcome) o = add_remote(h, collection, remotes, peer, NULL);
        g_assert_true(o.success);
        g_assert_cmpuint(o.code, ==, 0);

        g_autoptr(GVariant) members = harness_get_property(h, collection, IRD_IFACE_COLLECTION, "RemoteAccessPoints");
        harness_assert_paths(members, remotes);
        g_autofree char *reachable = harness_get_string(h, ap, IRD_IFACE_AP, "Reachable");
        g_assert_cmpstr(reachable, ==, "yes");
        g_autofree char *last_error = harness_get_string(h, ap, IRD_IFACE_AP, "LastError");
        g_assert_cmpstr(last_error, ==, "");
        g_autofree char *last_error_id = harness_get_string(h, ap, IRD_IFACE_AP, "LastErrorID");
        g_assert_cmpstr(last_error_id, ==, "");
        g_assert_cmpuint(harness_get_uint64(h, ap, IRD_IFACE_AP, "LastVerified"), >=, t0);
        g_autofree char *system_reachable = harness_get_string(h, peer, IRD_IFACE_SYSTEM, "Reachable");
        g_assert_cmpstr(system_reachable, ==, "yes");
        g_assert_cmpuint(harness_get_uint64(h, peer, IRD_IFACE_SYSTEM, "LastVerified"), >=, t0);

        /* Another initiator sees the same answer. */
        g_auto(GStrv) listed = iscsi_ls_targets(tgtd->address, tgtd->port);
        g_assert_true(g_strv_contains((const char *const *) listed, target));
}

/*
 * The access point names a target the portal does not offer: Failed, nothing
 * committed, and the description lists what the portal offers — the same
 * list iscsi-ls gets.
 */
static void test_target_name_differs(Harness *h, gconstpointer data) {
        if (!tgtd_available())
                return;
        g_autoptr(Tgtd) tgtd = tgtd_new("127.0.0.72", LUN_SIZE);
        tgtd_add_target(tgtd, "iqn.2026-01.org.example.itest:disk-a");
        tgtd_add_target(tgtd, "iqn.2026-01.org.example.itest:disk-b");
        g_autofree char *collection = local_collection(h, NULL);
        g_autofree char *peer = harness_add_peer(h, "differs.example.org", NULL);
        g_autofree char *ap = harness_add_access_point(h, peer, tgtd->address, tgtd->port,
                                                       "iqn.2026-01.org.example.itest:disk-c");
        const char *remotes[] = { ap, NULL };
        g_autofree char *before = harness_snapshot(h);
        g_autofree char *job = NULL;

        g_auto(Outcome) o = add_remote(h, collection, remotes, peer, &job);
        g_assert_false(o.success);
        g_assert_cmpuint(o.code, ==, 4);
        g_assert_cmpuint(harness_get_uint16(h, job, IRD_IFACE_JOB, "JobState"), ==, IRD_JOB_EXCEPTION);
        assert_nothing_remote(h, collection);

        g_autofree char *expected = g_strdup_printf(
                "Target iqn.2026-01.org.example.itest:disk-c is not offered by %s:%u (local address %s); "
                "it offers: iqn.2026-01.org.example.itest:disk-a, iqn.2026-01.org.example.itest:disk-b.",
                tgtd->address, tgtd->port, LOCAL_ADDRESS);
        g_autofree char *description = error_description(h, job);
        g_assert_nonnull(strstr(description, expected));
        g_autofree char *last_error = harness_get_string(h, ap, IRD_IFACE_AP, "LastError");
        g_assert_cmpstr(last_error, ==, expected);
        assert_reason(h, job, ap, "TargetNotOffered");

        /* iscsi-ls, another initiator, gets the same names (libiscsi lists them newest first). */
        g_auto(GStrv) listed = iscsi_ls_targets(tgtd->address, tgtd->port);
        g_assert_cmpuint(g_strv_length(listed), ==, 2);
        for (size_t i = 0; listed[i]; i++)
                g_assert_nonnull(strstr(last_error, listed[i]));
        g_autofree char *reachable = harness_get_string(h, ap, IRD_IFACE_AP, "Reachable");
        g_assert_cmpstr(reachable, ==, "no");

        /* Only the verdict and the job itself differ from before. */
        g_autofree char *after = harness_snapshot(h);
        g_auto(GStrv) before_lines = g_strsplit(before, "\n", -1);
        for (size_t i = 0; before_lines[i]; i++)
                if (!g_str_has_prefix(before_lines[i], ap) && !g_str_has_prefix(before_lines[i], peer))
                        g_assert_nonnull(strstr(after, before_lines[i]));
}

/* The peer system's IQN must be offered too; a host-named peer needs nothing. */
static void test_system_name_differs(Harness *h, gconstpointer data) {
        const char *target = "iqn.2026-01.org.example.itest:disk";

        if (!tgtd_available())
                return;
        g_autoptr(Tgtd) tgtd = tgtd_new("127.0.0.73", LUN_SIZE);
        tgtd_add_target(tgtd, target);
        g_autofree char *collection = local_collection(h, NULL);
        g_autofree char *peer = harness_add_peer(h, "iqn.2026-01.org.example.itest:another-system", NULL);
        g_autofree char *ap = harness_add_access_point(h, peer, tgtd->address, tgtd->port, target);
        const char *remotes[] = { ap, NULL };
        g_autofree char *job = NULL;

        g_auto(Outcome) o = add_remote(h, collection, remotes, peer, &job);
        g_assert_cmpuint(o.code, ==, 4);
        assert_nothing_remote(h, collection);
        g_autofree char *expected = g_strdup_printf(
                "Neither iqn.2026-01.org.example.itest:another-system (the peer system's Name) nor a target named "
                "under it is offered by %s:%u (local address %s); it offers: %s.", tgtd->address, tgtd->port,
                LOCAL_ADDRESS, target);
        g_autofree char *description = error_description(h, job);
        g_assert_nonnull(strstr(description, expected));
        assert_reason(h, job, ap, "SystemNotOffered");

        /* Case does not matter in iSCSI names. */
        g_autofree char *upper = g_ascii_strup(target, -1);
        g_autofree char *same = harness_add_peer(h, upper, NULL);
        g_autofree char *same_ap = harness_add_access_point(h, same, tgtd->address, tgtd->port, NULL);
        const char *same_remotes[] = { same_ap, NULL };
        g_auto(Outcome) ok = add_remote(h, collection, same_remotes, same, NULL);
        g_assert_true(ok.success);
}

/* tgt checks CHAP at the normal login: no secret and a wrong one fail, the right one passes. */
static void test_chap(Harness *h, gconstpointer data) {
        const char *target = "iqn.2026-01.org.example.itest:guarded";

        if (!tgtd_available())
                return;
        g_autoptr(Tgtd) tgtd = tgtd_new("127.0.0.74", LUN_SIZE);
        int tid = tgtd_add_target(tgtd, target);
        tgtd_add_account(tgtd, tid, CHAP_USER, CHAP_SECRET, FALSE);
        g_autofree char *collection = local_collection(h, NULL);
        g_autofree char *peer = harness_add_peer(h, "guarded.example.org", NULL);
        g_autofree char *ap = harness_add_access_point(h, peer, tgtd->address, tgtd->port, target);
        const char *remotes[] = { ap, NULL };
        g_autofree char *rejected = g_strdup_printf(
                "Login to target %s at %s:%u (local address %s) rejected: authentication failed.", target,
                tgtd->address, tgtd->port, LOCAL_ADDRESS);
        g_autofree char *job1 = NULL, *job2 = NULL;

        g_auto(Outcome) none = add_remote(h, collection, remotes, peer, &job1);
        g_assert_cmpuint(none.code, ==, 4);
        g_autofree char *d1 = error_description(h, job1);
        g_assert_nonnull(strstr(d1, rejected));
        assert_reason(h, job1, ap, "AuthenticationFailed");
        assert_nothing_remote(h, collection);

        g_autofree char *wrong = harness_add_secret(h, ap, CHAP_USER, "itest-wrong-secret-0000");
        g_auto(Outcome) bad = add_remote(h, collection, remotes, peer, &job2);
        g_assert_cmpuint(bad.code, ==, 4);
        g_autofree char *d2 = error_description(h, job2);
        g_assert_nonnull(strstr(d2, rejected));
        assert_reason(h, job2, ap, "AuthenticationFailed");
        assert_nothing_remote(h, collection);

        g_autofree char *right = harness_add_secret(h, ap, CHAP_USER, CHAP_SECRET);
        g_auto(Outcome) good = add_remote(h, collection, remotes, peer, NULL);
        g_assert_true(good.success);
        g_autoptr(GVariant) members = harness_get_property(h, collection, IRD_IFACE_COLLECTION, "RemoteAccessPoints");
        harness_assert_paths(members, remotes);
}

/*
 * Mutual CHAP, both ways: we prove our secret to the target and the target
 * proves its own to us. Either side wrong fails the probe; so does a target
 * that has no secret of its own to prove.
 */
static void test_mutual_chap(Harness *h, gconstpointer data) {
        const char *mutual = "iqn.2026-01.org.example.itest:mutual";
        const char *one_way = "iqn.2026-01.org.example.itest:one-way";

        if (!tgtd_available())
                return;
        g_autoptr(Tgtd) tgtd = tgtd_new("127.0.0.75", LUN_SIZE);
        int tid = tgtd_add_target(tgtd, mutual);
        tgtd_add_account(tgtd, tid, CHAP_USER, CHAP_SECRET, FALSE);
        tgtd_add_account(tgtd, tid, MUTUAL_USER, MUTUAL_SECRET, TRUE);
        int tid2 = tgtd_add_target(tgtd, one_way);
        tgtd_bind_account(tgtd, tid2, CHAP_USER);

        g_autofree char *collection = local_collection(h, NULL);
        g_autofree char *peer = harness_add_peer(h, "mutual.example.org", NULL);
        g_autofree char *ap = harness_add_access_point(h, peer, tgtd->address, tgtd->port, mutual);
        g_autofree char *ap2 = harness_add_access_point(h, peer, tgtd->address, tgtd->port, one_way);
        const char *remotes[] = { ap, NULL };
        const char *remotes2[] = { ap2, NULL };
        g_autofree char *job1 = NULL, *job2 = NULL, *job3 = NULL;

        /* Our secret wrong: the target rejects us. */
        g_autofree char *s1 = harness_add_mutual_secret(h, ap, CHAP_USER, "itest-wrong-secret-0000", MUTUAL_USER,
                                                MUTUAL_SECRET);
        g_auto(Outcome) o1 = add_remote(h, collection, remotes, peer, &job1);
        g_assert_cmpuint(o1.code, ==, 4);
        g_autofree char *d1 = error_description(h, job1);
        g_assert_nonnull(strstr(d1, "rejected: authentication failed."));
        assert_reason(h, job1, ap, "AuthenticationFailed");

        /* The target's secret is not the one we expect: we reject it. */
        g_autofree char *s2 = harness_add_mutual_secret(h, ap, CHAP_USER, CHAP_SECRET, MUTUAL_USER,
                                                "itest-wrong-mutual-0000");
        g_auto(Outcome) o2 = add_remote(h, collection, remotes, peer, &job2);
        g_assert_cmpuint(o2.code, ==, 4);
        g_autofree char *d2 = error_description(h, job2);
        g_assert_nonnull(strstr(d2, "failed: the target's mutual CHAP response is wrong."));
        assert_reason(h, job2, ap, "MutualAuthenticationFailed");
        assert_nothing_remote(h, collection);

        /* A target with no secret of its own cannot prove itself; tgt refuses such a login. */
        g_autofree char *s3 = harness_add_mutual_secret(h, ap2, CHAP_USER, CHAP_SECRET, MUTUAL_USER, MUTUAL_SECRET);
        g_auto(Outcome) o3 = add_remote(h, collection, remotes2, peer, &job3);
        g_assert_cmpuint(o3.code, ==, 4);
        g_autofree char *d3 = error_description(h, job3);
        g_assert_nonnull(strstr(d3, "rejected: authentication failed."));
        assert_reason(h, job3, ap2, "AuthenticationFailed");

        /* Both right. */
        g_autofree char *s4 = harness_add_mutual_secret(h, ap, CHAP_USER, CHAP_SECRET, MUTUAL_USER, MUTUAL_SECRET);
        g_auto(Outcome) o4 = add_remote(h, collection, remotes, peer, NULL);
        g_assert_true(o4.success);
        g_autoptr(GVariant) members = harness_get_property(h, collection, IRD_IFACE_COLLECTION, "RemoteAccessPoints");
        harness_assert_paths(members, remotes);
}

/* Accepts TCP, never answers the login: Timeout when the probe's deadline passes, not later. */
static void test_silent_peer(Harness *h, gconstpointer data) {
        g_autoptr(SilentPeer) quiet = silent_peer_new("127.0.0.76");
        g_autofree char *collection = local_collection(h, NULL);
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
        g_autofree char *collection = local_collection(h, NULL);
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
        g_autofree char *collection = local_collection(h, NULL);
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

/* Nothing the service emits — log at debug level, objects, introspection, properties, signals — holds a secret. */
static void test_secret_never_emitted(Harness *h, gconstpointer data) {
        const char *target = "iqn.2026-01.org.example.itest:secretive";

        if (!tgtd_available())
                return;
        g_autoptr(Tgtd) tgtd = tgtd_new("127.0.0.80", LUN_SIZE);
        int tid = tgtd_add_target(tgtd, target);
        tgtd_add_account(tgtd, tid, CHAP_USER, CHAP_SECRET, FALSE);
        tgtd_add_account(tgtd, tid, MUTUAL_USER, MUTUAL_SECRET, TRUE);
        int tid2 = tgtd_add_target(tgtd, "iqn.2026-01.org.example.itest:secretive-too");
        tgtd_bind_account(tgtd, tid2, CHAP_USER);
        g_autofree char *collection = local_collection(h, NULL);
        g_autofree char *peer = harness_add_peer(h, target, NULL);
        g_autofree char *ap = harness_add_access_point(h, peer, tgtd->address, tgtd->port, target);
        g_autofree char *ap2 = harness_add_access_point(h, peer, tgtd->address, tgtd->port,
                                                        "iqn.2026-01.org.example.itest:secretive-too");
        g_autofree char *secret = harness_add_mutual_secret(h, ap, CHAP_USER, CHAP_SECRET, MUTUAL_USER, MUTUAL_SECRET);
        /* An unbound secret, and one a failing probe used. */
        g_autofree char *spare = harness_add_secret(h, "/", "spare-user", "itest-spare-secret-1234");
        g_autofree char *wrong = harness_add_mutual_secret(h, ap2, CHAP_USER, "itest-failing-secret-99", MUTUAL_USER,
                                                   "itest-failing-mutual-99");
        const char *secrets[] = { CHAP_SECRET, MUTUAL_SECRET, "itest-spare-secret-1234", "itest-failing-secret-99",
                                  "itest-failing-mutual-99", NULL };
        const char *remotes[] = { ap, NULL };
        g_autoptr(GString) emitted = g_string_new(NULL);

        g_auto(Outcome) good = add_remote(h, collection, remotes, peer, NULL);
        g_assert_true(good.success);
        g_autoptr(GVariant) verify = harness_call(h, ap2, IRD_IFACE_AP, "Verify", NULL);
        const char *verify_job;
        g_variant_get(verify, "(u&o)", NULL, &verify_job);
        g_auto(Outcome) checked = wait_job(h, verify_job, g_get_monotonic_time());
        g_assert_cmpuint(checked.code, ==, 4);

        /* Every object: GetManagedObjects, Introspect, and GetAll of each of its interfaces. */
        g_autoptr(GVariant) objects = harness_get_managed_objects(h);
        g_autofree char *objects_text = g_variant_print(objects, TRUE);
        g_string_append(emitted, objects_text);
        g_auto(GStrv) paths = harness_object_paths(h);
        g_autoptr(GPtrArray) all_paths = g_ptr_array_new_with_free_func(g_free);
        g_ptr_array_add(all_paths, g_strdup("/"));
        g_ptr_array_add(all_paths, g_strdup("/org"));
        g_ptr_array_add(all_paths, g_strdup("/org/iscsi"));
        g_ptr_array_add(all_paths, g_strdup(IRD_ROOT));
        for (size_t i = 0; paths[i]; i++)
                g_ptr_array_add(all_paths, g_strdup(paths[i]));
        for (guint i = 0; i < all_paths->len; i++) {
                const char *path = all_paths->pdata[i];
                g_autofree char *xml = harness_introspect(h, path);
                g_autoptr(GDBusNodeInfo) node = g_dbus_node_info_new_for_xml(xml, NULL);

                g_string_append(emitted, xml);
                for (size_t k = 0; node && node->interfaces && node->interfaces[k]; k++) {
                        const char *iface = node->interfaces[k]->name;

                        /* The standard interfaces have no properties; "/" and the like are nodes only. */
                        if (g_str_has_prefix(iface, "org.freedesktop.DBus.") || !node->interfaces[k]->properties ||
                            !node->interfaces[k]->properties[0])
                                continue;
                        g_autoptr(GVariant) props = harness_get_all(h, path, iface);
                        g_autofree char *text = g_variant_print(props, TRUE);

                        g_string_append(emitted, text);
                        /* And each property on its own, the way a client reads one. */
                        for (size_t m = 0; node->interfaces[k]->properties && node->interfaces[k]->properties[m];
                             m++) {
                                g_autoptr(GVariant) v = harness_get_property(h, path, iface,
                                                                            node->interfaces[k]->properties[m]->name);
                                g_autofree char *vtext = g_variant_print(v, TRUE);
                                g_string_append(emitted, vtext);
                        }
                }
        }
        g_assert_nonnull(strstr(emitted->str, secret));
        g_assert_nonnull(strstr(emitted->str, CHAP_USER));

        /* Every signal the service sent during the test. */
        g_autoptr(GPtrArray) signals = harness_take_signals(h, NULL, NULL, NULL);
        g_assert_cmpuint(signals->len, >, 0);
        for (guint i = 0; i < signals->len; i++) {
                HarnessSignal *s = signals->pdata[i];
                g_autofree char *text = g_variant_print(s->parameters, TRUE);
                g_string_append(emitted, text);
        }

        /* The daemon's log, at debug level. */
        g_autofree char *log = harness_read_log(h);
        g_assert_nonnull(strstr(log, "rejected: authentication failed."));
        g_string_append(emitted, log);

        for (size_t i = 0; secrets[i]; i++)
                if (strstr(emitted->str, secrets[i]))
                        g_error("secret %zu found in what the service emitted", i);

        /* The store that holds them: readable by the service alone. */
        g_autofree char *db = NULL;
        g_autoptr(GDir) dir = g_dir_open(h->state_directory, 0, NULL);
        struct stat st;
        const char *entry;
        g_assert_nonnull(dir);
        g_assert_cmpint(stat(h->state_directory, &st), ==, 0);
        g_assert_cmpuint(st.st_mode & 07777, ==, 0700);
        while ((entry = g_dir_read_name(dir))) {
                g_autofree char *file = g_build_filename(h->state_directory, entry, NULL);

                g_assert_cmpint(stat(file, &st), ==, 0);
                g_test_message("%s: %04o", entry, st.st_mode & 07777);
                g_assert_cmpuint(st.st_mode & 0077, ==, 0);
        }
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);

        harness_add_test("/integration/iscsi/good-peer", &defaults, test_good_peer);
        harness_add_test("/integration/iscsi/target-name-differs", &defaults, test_target_name_differs);
        harness_add_test("/integration/iscsi/system-name-differs", &defaults, test_system_name_differs);
        harness_add_test("/integration/iscsi/chap", &defaults, test_chap);
        harness_add_test("/integration/iscsi/mutual-chap", &defaults, test_mutual_chap);
        harness_add_test("/integration/iscsi/silent-peer", &silent, test_silent_peer);
        harness_add_test("/integration/iscsi/target-killed", &defaults, test_target_killed);
        harness_add_test("/integration/iscsi/fifty-portals", &defaults, test_fifty_portals);
        harness_add_test("/integration/iscsi/cancel", &slow, test_cancel);
        harness_add_test("/integration/iscsi/secret-never-emitted", &debug, test_secret_never_emitted);

        return g_test_run();
}
