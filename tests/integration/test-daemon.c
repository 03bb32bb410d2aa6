/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The daemon as a service (issue 2, item 8): readiness and stopping
 * notifications, exit when idle, and losing the bus. Most tests start the
 * daemon themselves, with an environment of their own, and watch it from
 * the first moment. The state directory and the command line have
 * test-daemon-state.c, the log test-daemon-log.c.
 */

#include <errno.h>
#include <glib-unix.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon-fixture.h"
#include "harness.h"

static const char *const idle_args[] = { "--exit-on-idle=0.5", NULL };
static const HarnessConfig idle = { .daemon_args = idle_args };
static const char *const idle_job_args[] = { "--exit-on-idle=0.5", "--probe-timeout=2", NULL };
static const HarnessConfig idle_job = { .daemon_args = idle_job_args };
static const char *const never_idle_args[] = { "--exit-on-idle=0", NULL };
static const HarnessConfig never_idle = { .daemon_args = never_idle_args };
static const char *const slow_probe_args[] = { "--probe-timeout=60", NULL };
static const HarnessConfig slow_probe = { .daemon_args = slow_probe_args };

/* ------------------------------------------------------------------------ */
/* helpers */

static void assert_clean_exit(Harness *h, int status) {
        if (!exited_with(status, 0)) {
                g_autofree char *log = harness_read_log(h);
                g_error("the daemon did not exit with status 0 (wait status 0x%x); log:\n%s", (unsigned) status, log);
        }
}

/* The owner of the service's name as the bus driver sees it right now, NULL when nobody owns it. */
static char *current_name_owner(Harness *h) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
                h->connection, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                "GetNameOwner", g_variant_new("(s)", IRD_BUS_NAME), G_VARIANT_TYPE("(s)"), G_DBUS_CALL_FLAGS_NONE,
                -1, NULL, &error);
        if (!reply)
                return NULL;
        char *owner = NULL;
        g_variant_get(reply, "(s)", &owner);
        return owner;
}

/* ---- the notification socket ---- */

/* What the daemon sends to $NOTIFY_SOCKET, one entry per datagram, in order. */
typedef struct NotifySocket {
        int fd;
        char *path;
        guint watch;
        GPtrArray *messages;
} NotifySocket;

static void notify_socket_drain(NotifySocket *ns) {
        char buf[4096];

        for (;;) {
                ssize_t n = recv(ns->fd, buf, sizeof(buf), MSG_DONTWAIT);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        g_assert_cmpint(errno, ==, EAGAIN);
                        return;
                }
                g_ptr_array_add(ns->messages, g_strndup(buf, (gsize) n));
        }
}

static gboolean on_notify_readable(int fd, GIOCondition condition, gpointer user_data) {
        notify_socket_drain(user_data);
        return G_SOURCE_CONTINUE;
}

static NotifySocket *notify_socket_new(Harness *h) {
        NotifySocket *ns = g_new0(NotifySocket, 1);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        ns->path = g_build_filename(h->tmpdir, "notify", NULL);
        g_assert_cmpuint(strlen(ns->path), <, sizeof(sa.sun_path));
        strcpy(sa.sun_path, ns->path);
        ns->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        g_assert_cmpint(ns->fd, >=, 0);
        g_assert_cmpint(bind(ns->fd, (struct sockaddr *) &sa, sizeof(sa)), ==, 0);
        ns->messages = g_ptr_array_new_with_free_func(g_free);
        ns->watch = g_unix_fd_add(ns->fd, G_IO_IN, on_notify_readable, ns);
        return ns;
}

static void notify_socket_free(NotifySocket *ns) {
        if (!ns)
                return;
        g_source_remove(ns->watch);
        close(ns->fd);
        g_ptr_array_unref(ns->messages);
        g_free(ns->path);
        g_free(ns);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NotifySocket, notify_socket_free)

/* The index of the first datagram carrying the line `assignment` ("READY=1"), or -1. */
static int notify_find(const NotifySocket *ns, const char *assignment) {
        for (guint i = 0; i < ns->messages->len; i++) {
                g_auto(GStrv) lines = g_strsplit(ns->messages->pdata[i], "\n", -1);
                if (g_strv_contains((const char *const *) lines, assignment))
                        return (int) i;
        }
        return -1;
}

static guint notify_count(const NotifySocket *ns, const char *assignment) {
        guint n = 0;

        for (guint i = 0; i < ns->messages->len; i++) {
                g_auto(GStrv) lines = g_strsplit(ns->messages->pdata[i], "\n", -1);
                n += g_strv_contains((const char *const *) lines, assignment) ? 1 : 0;
        }
        return n;
}

typedef struct ReadyWait {
        Harness *h;
        NotifySocket *ns;
} ReadyWait;

static gboolean ready_or_exited(gpointer user_data) {
        ReadyWait *w = user_data;
        return notify_find(w->ns, "READY=1") >= 0 || w->h->daemon_exited;
}

/* ------------------------------------------------------------------------ */
/* readiness and stopping */

static void test_notify_ready_stopping(Harness *h, gconstpointer data) {
        g_autoptr(NotifySocket) ns = notify_socket_new(h);
        g_autofree char *notify_env = g_strdup_printf("NOTIFY_SOCKET=%s", ns->path);
        const char *env[] = { notify_env, NULL };
        ReadyWait w = { h, ns };

        harness_spawn_daemon(h, env, TRUE);
        harness_wait_until(h, ready_or_exited, &w, "READY=1 on the notification socket");
        g_assert_false(h->daemon_exited);
        /* Readiness promises the name: a client that starts now must find it owned. */
        g_autofree char *owner = current_name_owner(h);
        g_assert_nonnull(owner);

        harness_wait_daemon_name(h);
        g_assert_cmpstr(owner, ==, h->daemon_owner);
        harness_sync(h);
        notify_socket_drain(ns);
        g_assert_cmpuint(notify_count(ns, "READY=1"), ==, 1);
        g_assert_cmpint(notify_find(ns, "STOPPING=1"), <, 0);

        g_subprocess_send_signal(h->daemon, SIGTERM);
        int status = harness_wait_daemon_exit(h);
        assert_clean_exit(h, status);
        /*
         * A datagram is queued on the socket when it is sent, so one that is
         * there after the exit was sent while the daemon still lived.
         */
        notify_socket_drain(ns);
        int ready = notify_find(ns, "READY=1");
        int stopping = notify_find(ns, "STOPPING=1");
        g_assert_cmpint(stopping, >, ready);
        g_assert_cmpuint(notify_count(ns, "READY=1"), ==, 1);
        g_assert_cmpuint(notify_count(ns, "STOPPING=1"), ==, 1);
}

/* ------------------------------------------------------------------------ */
/* exit when idle */

/*
 * Two daemons on two buses, neither called: the one with --exit-on-idle=0.5
 * leaves by itself, the one with --exit-on-idle=0 outlives it.
 */
static void test_idle_exit_without_calls(Harness *h, gconstpointer data) {
        Harness never = {};

        setup_without_daemon(&never, &never_idle);
        harness_spawn_daemon(&never, NULL, TRUE);
        harness_wait_daemon_name(&never);

        /* Taken before the start: the idle period cannot have begun earlier. */
        gint64 start = g_get_monotonic_time();
        harness_spawn_daemon(h, NULL, TRUE);
        harness_wait_daemon_name(h);
        int status = harness_wait_daemon_exit(h);
        gint64 elapsed = g_get_monotonic_time() - start;

        assert_clean_exit(h, status);
        g_assert_cmpint(elapsed, >=, 500 * 1000);
        g_assert_cmpint(elapsed, <, 5 * G_USEC_PER_SEC);
        g_autofree char *log = harness_read_log(h);
        g_assert_nonnull(strstr(log, "<6>Idle for 0.5 s, exiting."));

        /* Idle longer than that by now, and still serving. */
        g_assert_false(never.daemon_exited);
        g_autoptr(GVariant) version = harness_get_property(&never, IRD_ROOT, IRD_IFACE_SERVICE, "Version");
        g_assert_nonnull(version);
        harness_teardown(&never, &never_idle);
}

/* Calls made from a GLib timeout at a fixed pace, each answered asynchronously. */
typedef struct Pacer {
        Harness *h;
        guint total;
        guint sent;
        guint answered;
        guint failed;
        gint64 first_sent_usec;
        gint64 last_sent_usec;
        gint64 longest_gap_usec;
} Pacer;

static void on_paced_reply(GObject *source, GAsyncResult *result, gpointer user_data) {
        Pacer *p = user_data;
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);

        if (error) {
                g_test_message("paced call %u failed: %s", p->answered + 1, error->message);
                p->failed++;
        }
        p->answered++;
}

static gboolean on_pace(gpointer user_data) {
        Pacer *p = user_data;
        gint64 now = g_get_monotonic_time();

        if (p->sent == 0)
                p->first_sent_usec = now;
        else
                p->longest_gap_usec = MAX(p->longest_gap_usec, now - p->last_sent_usec);
        p->last_sent_usec = now;
        g_dbus_connection_call(p->h->connection, IRD_BUS_NAME, IRD_ROOT, PROPERTIES, "Get",
                               g_variant_new("(ss)", IRD_IFACE_SERVICE, "Version"), G_VARIANT_TYPE("(v)"),
                               G_DBUS_CALL_FLAGS_NONE, -1, NULL, on_paced_reply, p);
        p->sent++;
        return p->sent < p->total ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static gboolean pacer_done(gpointer user_data) {
        Pacer *p = user_data;
        return p->answered == p->total || p->h->daemon_exited;
}

static void test_idle_calls_restart_period(Harness *h, gconstpointer data) {
        /* Eight calls 0.2 s apart span 1.4 s, almost three idle periods. */
        Pacer p = { .h = h, .total = 8 };

        harness_spawn_daemon(h, NULL, TRUE);
        harness_wait_daemon_name(h);
        on_pace(&p);
        guint source = g_timeout_add(200, on_pace, &p);
        harness_wait_until(h, pacer_done, &p, "the paced calls to be answered");
        if (p.sent < p.total)
                g_source_remove(source);

        g_assert_false(h->daemon_exited);
        g_assert_cmpuint(p.answered, ==, p.total);
        g_assert_cmpuint(p.failed, ==, 0);
        g_assert_cmpint(p.last_sent_usec - p.first_sent_usec, >=, 1400 * 1000);
        /* A gap as long as the idle period would let it go for a reason this test is not about. */
        g_assert_cmpint(p.longest_gap_usec, <, 450 * 1000);

        int status = harness_wait_daemon_exit(h);
        gint64 after_last = g_get_monotonic_time() - p.last_sent_usec;
        assert_clean_exit(h, status);
        g_assert_cmpint(after_last, >=, 500 * 1000);
        g_assert_cmpint(after_last, <, 1500 * 1000);
}

typedef struct JobWait {
        Harness *h;
        const char *job;
} JobWait;

static gboolean completed_or_exited(gpointer user_data) {
        JobWait *w = user_data;

        if (w->h->daemon_exited)
                return TRUE;
        for (GList *l = w->h->signals.head; l; l = l->next) {
                HarnessSignal *s = l->data;
                if (g_str_equal(s->path, w->job) && g_str_equal(s->member, "Completed"))
                        return TRUE;
        }
        return FALSE;
}

static void test_idle_not_while_job_runs(Harness *h, gconstpointer data) {
        const char *names[] = { PEER_IQN, NULL };
        g_autoptr(HarnessPeer) hole = harness_peer_new(HARNESS_PEER_BLACK_HOLE, "127.0.0.2", names);

        harness_spawn_daemon(h, NULL, TRUE);
        harness_wait_daemon_name(h);
        g_autofree char *local = harness_add_access_point(h, IRD_LOCAL_SYSTEM, "127.0.0.3", 3260, NULL);
        g_autofree char *peer = harness_add_peer(h, PEER_IQN, "peer");
        g_autofree char *remote = harness_add_access_point(h, peer, "127.0.0.2", harness_peer_port(hole), NULL);
        const char *locals[] = { local, NULL };
        g_autofree char *collection = harness_create_collection(h, "idle", locals, NULL, NULL);
        const char *remotes[] = { remote, NULL };
        g_autofree char *job = NULL;
        gint64 started = g_get_monotonic_time();
        g_assert_cmpuint(harness_add_to_collection(h, collection, NULL, remotes, peer, &job), ==, 4096);

        /* From here on nobody calls: only the job keeps the daemon, for four idle periods. */
        JobWait w = { h, job };
        harness_wait_until(h, completed_or_exited, &w, "the job to complete");
        if (h->daemon_exited) {
                g_autofree char *log = harness_read_log(h);
                g_error("the daemon left %.2f s into a running job; log:\n%s",
                        (double) (g_get_monotonic_time() - started) / G_USEC_PER_SEC, log);
        }
        g_assert_nonnull(h->daemon_owner);
        g_autoptr(GVariant) done = harness_wait_job_completed(h, job);
        guint16 code;
        g_variant_get(done, "(bq&s)", NULL, &code, NULL);
        g_assert_cmpuint(code, ==, 3);
        g_assert_cmpint(g_get_monotonic_time() - started, >=, 2 * G_USEC_PER_SEC);

        int status = harness_wait_daemon_exit(h);
        assert_clean_exit(h, status);
}

static gboolean pacer_drained(gpointer user_data) {
        Pacer *p = user_data;
        return p->answered == p->sent;
}

/*
 * A client polls while the job runs, as one showing progress does, and stops
 * when it completes: the end of the job starts a whole idle period, so that
 * client gets that long to read the result, however its last poll fell.
 */
static void test_idle_period_after_job(Harness *h, gconstpointer data) {
        const char *names[] = { PEER_IQN, NULL };
        g_autoptr(HarnessPeer) hole = harness_peer_new(HARNESS_PEER_BLACK_HOLE, "127.0.0.2", names);
        Pacer p = { .h = h, .total = G_MAXUINT };

        harness_spawn_daemon(h, NULL, TRUE);
        harness_wait_daemon_name(h);
        g_autofree char *peer = harness_add_peer(h, PEER_IQN, "peer");
        g_autofree char *remote = harness_add_access_point(h, peer, "127.0.0.2", harness_peer_port(hole), NULL);
        g_autoptr(GVariant) verify = harness_call(h, remote, IRD_IFACE_AP, "Verify", NULL);
        const char *job_path;
        g_variant_get(verify, "(u&o)", NULL, &job_path);
        g_autofree char *job = g_strdup(job_path);

        guint source = g_timeout_add(300, on_pace, &p);
        JobWait w = { h, job };
        harness_wait_until(h, completed_or_exited, &w, "the job to complete");
        g_source_remove(source);
        g_assert_false(h->daemon_exited);
        g_autoptr(GVariant) done = harness_wait_job_completed(h, job);
        g_autoptr(HarnessSignal) final = harness_wait_signal(h, job, PROPERTIES, "PropertiesChanged",
                                                             harness_match_job_state,
                                                             GUINT_TO_POINTER(IRD_JOB_EXCEPTION));
        g_autoptr(GVariant) changed = harness_properties_changed_dict(final);
        guint64 ended_realtime;
        g_assert_true(g_variant_lookup(changed, "TimeOfLastStateChange", "t", &ended_realtime));
        harness_wait_until(h, pacer_drained, &p, "the last poll to be answered");
        g_assert_cmpuint(p.failed, ==, 0);
        g_assert_cmpuint(p.sent, >=, 5);

        int status = harness_wait_daemon_exit(h);
        gint64 after_end = g_get_real_time() - (gint64) ended_realtime;
        assert_clean_exit(h, status);
        g_test_message("exit %.3f s after the job ended", (double) after_end / G_USEC_PER_SEC);
        g_assert_cmpint(after_end, >=, 500 * 1000);
}

/* ------------------------------------------------------------------------ */
/* bus loss */

/*
 * The bus daemon dies under the service while a job runs: the service ends
 * the job as interrupted and stores it, as on any stop, and exits with a
 * failure status within a moment, so activation can start a fresh one. The
 * next instance, on a new bus, shows the job interrupted without having to
 * close it itself.
 */
static void test_bus_lost(Harness *h, gconstpointer data) {
        const char *names[] = { PEER_IQN, NULL };
        g_autoptr(HarnessPeer) hole = harness_peer_new(HARNESS_PEER_BLACK_HOLE, "127.0.0.2", names);
        g_autofree char *local = harness_add_access_point(h, IRD_LOCAL_SYSTEM, "127.0.0.3", 3260, NULL);
        g_autofree char *peer = harness_add_peer(h, PEER_IQN, "peer");
        g_autofree char *remote = harness_add_access_point(h, peer, "127.0.0.2", harness_peer_port(hole), NULL);
        const char *locals[] = { local, NULL };
        g_autofree char *collection = harness_create_collection(h, "lost", locals, NULL, NULL);
        const char *remotes[] = { remote, NULL };
        g_autofree char *job = NULL;
        g_assert_cmpuint(harness_add_to_collection(h, collection, NULL, remotes, peer, &job), ==, 4096);
        harness_wait_job_running(h, job);
        const char *id = strrchr(job, '/') + 1;

        gint64 killed = g_get_monotonic_time();
        g_subprocess_send_signal(h->bus_process, SIGKILL);
        harness_wait_for_flag(h, &h->daemon_exited);
        gint64 took = g_get_monotonic_time() - killed;
        int status = g_subprocess_get_status(h->daemon);
        g_clear_object(&h->daemon);
        g_autofree char *log = harness_read_log(h);
        g_test_message("exit 0x%x %.3f s after the bus died; log:\n%s", (unsigned) status,
                       (double) took / G_USEC_PER_SEC, log);
        g_assert_cmpint(took, <, 2 * G_USEC_PER_SEC);
        g_assert_true(WIFEXITED(status));
        g_assert_cmpint(WEXITSTATUS(status), ==, 1);
        g_assert_nonnull(strstr(log, "Lost the connection to the bus"));
        g_autofree char *ended = g_strdup_printf("job %s ended exception: Interrupted", id);
        g_assert_nonnull(strstr(log, ended));

        Harness next;
        setup_without_daemon(&next, NULL);
        g_free(next.state_directory);
        next.state_directory = g_strdup(h->state_directory);
        harness_start_daemon(&next);
        g_assert_cmpuint(harness_get_uint16(&next, job, IRD_IFACE_JOB, "JobState"), ==, IRD_JOB_EXCEPTION);
        g_autofree char *description = harness_get_string(&next, job, IRD_IFACE_JOB, "ErrorDescription");
        g_assert_true(g_str_has_prefix(description, "Interrupted"));
        g_autofree char *reason = harness_job_message_id(&next, job);
        g_assert_cmpstr(reason, ==, "Interrupted");
        g_autofree char *busy = harness_get_string(&next, collection, IRD_IFACE_COLLECTION, "Job");
        g_assert_cmpstr(busy, ==, "/");
        g_auto(GStrv) members = harness_get_paths(&next, collection, IRD_IFACE_COLLECTION, "RemoteAccessPoints");
        g_assert_cmpuint(g_strv_length(members), ==, 0);
        /* The stop stored it: the new instance found no job left running. */
        g_autofree char *next_log = harness_read_log(&next);
        g_assert_null(strstr(next_log, "was running when the service stopped"));
        harness_teardown(&next, NULL);
}


int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);

        add_test_without_daemon("/integration/daemon/notify/ready-stopping", NULL, test_notify_ready_stopping);
        add_test_without_daemon("/integration/daemon/idle/exit-without-calls", &idle, test_idle_exit_without_calls);
        add_test_without_daemon("/integration/daemon/idle/calls-restart-period", &idle,
                                test_idle_calls_restart_period);
        add_test_without_daemon("/integration/daemon/idle/not-while-job-runs", &idle_job,
                                test_idle_not_while_job_runs);
        add_test_without_daemon("/integration/daemon/idle/period-after-job", &idle_job, test_idle_period_after_job);
        harness_add_test("/integration/daemon/bus-lost", &slow_probe, test_bus_lost);

        return g_test_run();
}
