/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The daemon as a service (issue 2, item 8): readiness and stopping
 * notifications, exit when idle, the state directory, the command line and
 * the log. Most tests start the daemon themselves, with an environment or a
 * command line of their own, and watch it from the first moment.
 */

#include <errno.h>
#include <glib-unix.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define PROPERTIES "org.freedesktop.DBus.Properties"
#define PEER_IQN "iqn.2024-01.org.example:peer"
#define STORE_FILE "state.db"

/*
 * The private bus of harness_setup(), for tests that start the daemon
 * themselves. Receiving is allowed explicitly, which dbus-broker needs.
 */
static const char bus_policy[] =
        "  <policy context=\"default\">\n"
        "    <allow user=\"*\"/>\n"
        "    <allow own=\"*\"/>\n"
        "    <allow send_destination=\"*\"/>\n"
        "    <allow receive_sender=\"*\"/>\n"
        "  </policy>\n";

static void setup_without_daemon(Harness *h, gconstpointer data) {
        const HarnessConfig *config = data;

        harness_setup_with_bus_config(h, bus_policy, NULL);
        if (config)
                harness_set_daemon_args(h, config->daemon_args);
}

#define add_test_without_daemon(name, config, func) \
        g_test_add(name, Harness, config, setup_without_daemon, func, harness_teardown)

static const char *const idle_args[] = { "--exit-on-idle=0.5", NULL };
static const HarnessConfig idle = { .daemon_args = idle_args };
static const char *const idle_job_args[] = { "--exit-on-idle=0.5", "--probe-timeout=2", NULL };
static const HarnessConfig idle_job = { .daemon_args = idle_job_args };
static const char *const never_idle_args[] = { "--exit-on-idle=0", NULL };
static const HarnessConfig never_idle = { .daemon_args = never_idle_args };
/* Verification off keeps collection changes synchronous; Verify still starts a job, which the black hole holds. */
static const char *const logs_args[] = { "--verify-access-points=no", "--probe-timeout=60", NULL };
static const HarnessConfig logs = { .daemon_args = logs_args };
static const char *const slow_probe_args[] = { "--probe-timeout=60", NULL };
static const HarnessConfig slow_probe = { .daemon_args = slow_probe_args };
static const char *const quiet_args[] = { "--verify-access-points=no", "--log-level=err", NULL };
static const HarnessConfig quiet = { .daemon_args = quiet_args };

/* ------------------------------------------------------------------------ */
/* helpers */

static gboolean exited_with(int status, int code) {
        return WIFEXITED(status) && WEXITSTATUS(status) == code;
}

static void assert_clean_exit(Harness *h, int status) {
        if (!exited_with(status, 0)) {
                g_autofree char *log = harness_read_log(h);
                g_error("the daemon did not exit with status 0 (wait status 0x%x); log:\n%s", (unsigned) status, log);
        }
}

static gboolean path_exists(const char *dir, const char *name) {
        g_autofree char *path = name ? g_build_filename(dir, name, NULL) : g_strdup(dir);
        struct stat st;

        return lstat(path, &st) == 0;
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

/* ---- the log ---- */

static gsize log_mark(Harness *h) {
        g_autofree char *log = harness_read_log(h);
        return strlen(log);
}

/* Complete lines the daemon wrote after mark. */
static GPtrArray *log_lines_since(Harness *h, gsize mark) {
        g_autofree char *log = harness_read_log(h);
        GPtrArray *lines = g_ptr_array_new_with_free_func(g_free);

        g_assert_cmpuint(strlen(log), >=, mark);
        g_auto(GStrv) split = g_strsplit(log + mark, "\n", -1);
        for (size_t i = 0; split[i]; i++)
                if (split[i][0])
                        g_ptr_array_add(lines, g_strdup(split[i]));
        return lines;
}

static char *join_lines(GPtrArray *lines) {
        GString *s = g_string_new(NULL);

        for (guint i = 0; i < lines->len; i++)
                g_string_append_printf(s, "  %s\n", (const char *) lines->pdata[i]);
        return g_string_free(s, FALSE);
}

/* Whether line names path itself, not only a longer path starting with it (…/system/1 in …/system/12). */
static gboolean mentions_path(const char *line, const char *path) {
        size_t n = strlen(path);

        for (const char *p = strstr(line, path); p; p = strstr(p + 1, path))
                if (!g_ascii_isalnum(p[n]) && p[n] != '_' && p[n] != '/')
                        return TRUE;
        return FALSE;
}

/*
 * Asserts that what was logged since mark holds exactly `info_lines` lines
 * at info, that exactly one of them names a caller ("uid="), that this
 * caller is root, and that the line names every path in paths.
 */
static void assert_change_logged(Harness *h, gsize mark, guint info_lines, const char *const *paths) {
        g_autoptr(GPtrArray) lines = log_lines_since(h, mark);
        const char *change = NULL;
        guint info = 0, callers = 0;

        for (guint i = 0; i < lines->len; i++) {
                const char *line = lines->pdata[i];
                if (!g_str_has_prefix(line, "<6>"))
                        continue;
                info++;
                if (strstr(line, "uid=")) {
                        callers++;
                        change = line;
                }
        }
        if (info != info_lines || callers != 1) {
                g_autofree char *text = join_lines(lines);
                g_autofree char *all = harness_read_log(h);
                g_error("expected %u info line(s), one naming the caller; the change logged:\n%s"
                        "the whole log:\n%s", info_lines, text, all);
        }
        if (!g_regex_match_simple("\\buid=0\\b", change, 0, 0))
                g_error("the change does not name uid 0: %s", change);
        for (size_t i = 0; paths && paths[i]; i++)
                if (!mentions_path(change, paths[i]))
                        g_error("the change does not name %s: %s", paths[i], change);
}

static void assert_nothing_logged_at_info(Harness *h, gsize mark, const char *what) {
        g_autoptr(GPtrArray) lines = log_lines_since(h, mark);

        for (guint i = 0; i < lines->len; i++)
                if (g_str_has_prefix(lines->pdata[i], "<6>")) {
                        g_autofree char *text = join_lines(lines);
                        g_error("%s logged at info:\n%s", what, text);
                }
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
        harness_setup_with_bus_config(&next, bus_policy, NULL);
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

/* ------------------------------------------------------------------------ */
/* state directory */

static char *add_peer_and_stop(Harness *h) {
        char *peer = harness_add_peer(h, PEER_IQN, "kept");

        harness_stop_daemon(h);
        return peer;
}

static void assert_has_object(Harness *h, const char *path) {
        g_auto(GStrv) paths = harness_object_paths(h);
        g_assert_true(g_strv_contains((const char *const *) paths, path));
}

static void test_state_directory_from_environment(Harness *h, gconstpointer data) {
        g_autofree char *dir = g_build_filename(h->tmpdir, "from-env", NULL);
        g_autofree char *env_value = g_strdup_printf("STATE_DIRECTORY=%s", dir);
        const char *env[] = { env_value, NULL };

        harness_spawn_daemon(h, env, FALSE);
        harness_wait_daemon_name(h);
        g_assert_true(path_exists(dir, STORE_FILE));
        g_assert_false(path_exists(h->state_directory, STORE_FILE));
        g_autofree char *peer = add_peer_and_stop(h);

        /* The same environment finds the same state. */
        harness_spawn_daemon(h, env, FALSE);
        harness_wait_daemon_name(h);
        assert_has_object(h, peer);
        g_autofree char *log = harness_read_log(h);
        g_autofree char *serving = g_strdup_printf("state in %s.", dir);
        g_assert_nonnull(strstr(log, serving));
}

static void test_state_directory_first_of_list(Harness *h, gconstpointer data) {
        g_autofree char *first = g_build_filename(h->tmpdir, "first", NULL);
        g_autofree char *second = g_build_filename(h->tmpdir, "second", NULL);
        g_autofree char *env_value = g_strdup_printf("STATE_DIRECTORY=%s:%s", first, second);
        const char *env[] = { env_value, NULL };

        harness_spawn_daemon(h, env, FALSE);
        harness_wait_daemon_name(h);
        g_assert_true(path_exists(first, STORE_FILE));
        g_assert_false(path_exists(second, NULL));
        g_autofree char *peer = add_peer_and_stop(h);

        /* Only the first entry matters: without the second the state is the same. */
        g_autofree char *only_first = g_strdup_printf("STATE_DIRECTORY=%s", first);
        const char *env2[] = { only_first, NULL };
        harness_spawn_daemon(h, env2, FALSE);
        harness_wait_daemon_name(h);
        assert_has_object(h, peer);
        g_assert_false(path_exists(second, NULL));
}

static void test_state_directory_option_wins(Harness *h, gconstpointer data) {
        g_autofree char *dir = g_build_filename(h->tmpdir, "from-env", NULL);
        g_autofree char *env_value = g_strdup_printf("STATE_DIRECTORY=%s", dir);
        const char *env[] = { env_value, NULL };

        harness_spawn_daemon(h, env, TRUE);
        harness_wait_daemon_name(h);
        g_assert_true(path_exists(h->state_directory, STORE_FILE));
        g_assert_false(path_exists(dir, NULL));
        g_autofree char *peer = add_peer_and_stop(h);

        /* The option's state, not a fresh one, whatever the environment says. */
        harness_spawn_daemon(h, env, TRUE);
        harness_wait_daemon_name(h);
        assert_has_object(h, peer);
        g_assert_false(path_exists(dir, NULL));
}

/*
 * A second instance on the same state directory, even on another bus, exits
 * at once and names the directory and the first instance's pid; the first
 * keeps serving what it had.
 */
static void test_state_directory_one_instance(Harness *h, gconstpointer data) {
        g_autofree char *peer = harness_add_peer(h, PEER_IQN, "first");
        g_autofree char *before = harness_snapshot(h);
        Harness other;

        harness_setup_with_bus_config(&other, bus_policy, NULL);
        g_autofree char *address = g_strdup_printf("--address=%s", other.bus_address);
        g_autofree char *state = g_strdup_printf("--state-directory=%s", h->state_directory);
        /* Were it to run beside the first, it would leave by idling, with status 0. */
        const char *args[] = { address, state, "--exit-on-idle=2", NULL };
        const char *env[] = { "NOTIFY_SOCKET", NULL };
        g_autofree char *err = NULL;
        gint64 started = g_get_monotonic_time();
        int status = harness_run_daemon(&other, args, env, NULL, &err);
        gint64 took = g_get_monotonic_time() - started;

        g_test_message("second instance: wait status 0x%x after %.3f s; stderr:\n%s", (unsigned) status,
                       (double) took / G_USEC_PER_SEC, err);
        g_assert_true(WIFEXITED(status));
        g_assert_cmpint(WEXITSTATUS(status), !=, 0);
        g_assert_cmpint(took, <, 2 * G_USEC_PER_SEC);
        g_assert_nonnull(strstr(err, h->state_directory));
        g_autofree char *holder = g_strdup_printf("pid %s", g_subprocess_get_identifier(h->daemon));
        g_assert_nonnull(strstr(err, holder));
        harness_teardown(&other, NULL);

        g_autofree char *after = harness_snapshot(h);
        g_assert_cmpstr(before, ==, after);
        g_autoptr(GVariant) r = harness_call(h, peer, IRD_IFACE_SYSTEM, "Delete", NULL);
}

/* ------------------------------------------------------------------------ */
/* command line */

typedef struct BadCommandLine {
        const char *args[3];
        const char *named;              /* what the message must mention */
} BadCommandLine;

static const BadCommandLine bad_command_lines[] = {
        { { "--probe-timeout=abc" }, "--probe-timeout" },
        { { "--probe-timeout=0" }, "--probe-timeout" },
        { { "--probe-timeout=nan" }, "--probe-timeout" },
        { { "--probe-timeout=" }, "--probe-timeout" },
        { { "--exit-on-idle=-1" }, "--exit-on-idle" },
        { { "--exit-on-idle=5s" }, "--exit-on-idle" },
        { { "--max-running-jobs=-1" }, "--max-running-jobs" },
        { { "--max-running-jobs= -1" }, "--max-running-jobs" },
        { { "--max-array-entries=12abc" }, "--max-array-entries" },
        { { "--verify-access-points=maybe" }, "--verify-access-points" },
        { { "--log-level=loud" }, "--log-level" },
        { { "--no-such-option" }, "no-such-option" },
        { { "--address" }, "address" },
        { { "stray" }, "stray" },
        { { "--session", "stray" }, "stray" },
};

/*
 * Runs the daemon with a bus and state directories that must stay untouched,
 * then args; a command line accepted by mistake still ends soon, by idling.
 */
static int run_command_line(Harness *h, const char *const *args, char **ret_stdout, char **ret_stderr) {
        g_autofree char *address = g_strdup_printf("--address=%s", h->bus_address);
        g_autofree char *option_dir = g_build_filename(h->tmpdir, "untouched-option", NULL);
        g_autofree char *env_dir = g_build_filename(h->tmpdir, "untouched-env", NULL);
        g_autofree char *state = g_strdup_printf("--state-directory=%s", option_dir);
        g_autofree char *state_env = g_strdup_printf("STATE_DIRECTORY=%s", env_dir);
        const char *env[] = { state_env, "NOTIFY_SOCKET", NULL };
        g_autoptr(GPtrArray) argv = g_ptr_array_new();

        g_ptr_array_add(argv, address);
        g_ptr_array_add(argv, state);
        g_ptr_array_add(argv, (gpointer) "--exit-on-idle=0.2");
        for (size_t i = 0; args[i]; i++)
                g_ptr_array_add(argv, (gpointer) args[i]);
        g_ptr_array_add(argv, NULL);

        return harness_run_daemon(h, (const char *const *) argv->pdata, env, ret_stdout, ret_stderr);
}

static void assert_state_untouched(Harness *h) {
        g_autofree char *option_dir = g_build_filename(h->tmpdir, "untouched-option", NULL);
        g_autofree char *env_dir = g_build_filename(h->tmpdir, "untouched-env", NULL);

        g_assert_false(path_exists(option_dir, NULL));
        g_assert_false(path_exists(env_dir, NULL));
}

static void test_command_line_invalid(Harness *h, gconstpointer data) {
        for (size_t i = 0; i < G_N_ELEMENTS(bad_command_lines); i++) {
                const BadCommandLine *c = &bad_command_lines[i];
                g_autofree char *shown = g_strjoinv(" ", (char **) c->args);
                g_autofree char *out = NULL;
                g_autofree char *err = NULL;

                g_test_message("command line: %s", shown);
                int status = run_command_line(h, c->args, &out, &err);
                if (!WIFEXITED(status) || WEXITSTATUS(status) == 0)
                        g_error("'%s' was not refused: wait status 0x%x, stderr:\n%s", shown, (unsigned) status, err);
                if (!strstr(err, c->named))
                        g_error("'%s': stderr does not mention %s:\n%s", shown, c->named, err);
                g_assert_cmpstr(out, ==, "");
                assert_state_untouched(h);
                g_assert_null(h->daemon_owner);
        }
}

static void test_command_line_help_version(Harness *h, gconstpointer data) {
        const char *help[] = { "--help", NULL };
        const char *short_help[] = { "-h", NULL };
        const char *version[] = { "--version", NULL };
        g_autofree char *out = NULL, *err = NULL;

        int status = run_command_line(h, help, &out, &err);
        g_assert_true(exited_with(status, 0));
        g_assert_true(g_str_has_prefix(out, "Usage: iscsi-replicationd"));
        g_assert_nonnull(strstr(out, "--exit-on-idle=SECONDS"));
        g_assert_cmpstr(err, ==, "");
        assert_state_untouched(h);
        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);

        status = run_command_line(h, short_help, &out, &err);
        g_assert_true(exited_with(status, 0));
        g_assert_true(g_str_has_prefix(out, "Usage: iscsi-replicationd"));
        assert_state_untouched(h);
        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);

        status = run_command_line(h, version, &out, &err);
        g_assert_true(exited_with(status, 0));
        g_assert_true(g_regex_match_simple("^iscsi-replicationd [0-9][^\n]*\n$", out, 0, 0));
        g_assert_cmpstr(err, ==, "");
        assert_state_untouched(h);
        g_assert_null(h->daemon_owner);
}

/* ------------------------------------------------------------------------ */
/* log */

static guint32 state_change(Harness *h, const char *job, guint16 state) {
        g_autoptr(GVariant) reply = harness_call(h, job, IRD_IFACE_JOB, "RequestStateChange",
                                                 g_variant_new("(qt)", state, (guint64) 0));
        guint32 rv;
        g_variant_get(reply, "(u)", &rv);
        return rv;
}

static void set_job_property(Harness *h, const char *job, const char *name, GVariant *value) {
        g_autoptr(GVariant) reply = harness_call(h, job, PROPERTIES, "Set",
                                                 g_variant_new("(ssv)", IRD_IFACE_JOB, name, value));
}

static void delete_object(Harness *h, const char *path, const char *interface) {
        g_autoptr(GVariant) reply = harness_call(h, path, interface, "Delete", NULL);
}

/* Every change names root and what it touched, once; a failing call adds nothing at info. */
static void test_log_changes(Harness *h, gconstpointer data) {
        const char *secret_value = "never-in-the-log-4711";
        const char *names[] = { PEER_IQN, NULL };
        g_autoptr(HarnessPeer) hole = harness_peer_new(HARNESS_PEER_BLACK_HOLE, "127.0.0.2", names);
        gsize mark;

        mark = log_mark(h);
        g_autofree char *peer = harness_add_peer(h, PEER_IQN, "peer");
        assert_change_logged(h, mark, 1, (const char *[]) { peer, NULL });

        mark = log_mark(h);
        g_autofree char *local = harness_add_access_point(h, IRD_LOCAL_SYSTEM, "127.0.0.3", 3260, NULL);
        assert_change_logged(h, mark, 1, (const char *[]) { local, IRD_LOCAL_SYSTEM, NULL });

        mark = log_mark(h);
        g_autofree char *remote = harness_add_access_point(h, peer, "127.0.0.2", harness_peer_port(hole), NULL);
        assert_change_logged(h, mark, 1, (const char *[]) { remote, peer, NULL });

        mark = log_mark(h);
        g_autofree char *secret = harness_add_secret(h, remote, "alice", secret_value);
        assert_change_logged(h, mark, 1, (const char *[]) { secret, remote, NULL });

        mark = log_mark(h);
        const char *locals[] = { local, NULL };
        g_autofree char *collection = harness_create_collection(h, "logged", locals, NULL, NULL);
        assert_change_logged(h, mark, 1, (const char *[]) { collection, NULL });

        mark = log_mark(h);
        GVariantBuilder props;
        g_variant_builder_init(&props, G_VARIANT_TYPE("a{sv}"));
        g_variant_builder_add(&props, "{sv}", "ElementName", g_variant_new_string("renamed"));
        g_autoptr(GVariant) modified = harness_call(h, collection, IRD_IFACE_COLLECTION, "Modify",
                                                    g_variant_new("(a{sv})", &props));
        assert_change_logged(h, mark, 1, (const char *[]) { collection, NULL });

        mark = log_mark(h);
        const char *remotes[] = { remote, NULL };
        g_assert_cmpuint(harness_add_to_collection(h, collection, NULL, remotes, peer, NULL), ==, 0);
        assert_change_logged(h, mark, 1, (const char *[]) { collection, NULL });

        mark = log_mark(h);
        g_assert_cmpuint(harness_remove_from_collection(h, collection, NULL, remotes, peer, NULL), ==, 0);
        assert_change_logged(h, mark, 1, (const char *[]) { collection, NULL });

        /* The black hole keeps the job running for a minute: nothing else of it reaches the log meanwhile. */
        mark = log_mark(h);
        g_autoptr(GVariant) verify = harness_call(h, remote, IRD_IFACE_AP, "Verify", NULL);
        const char *job_path;
        g_variant_get(verify, "(u&o)", NULL, &job_path);
        g_autofree char *job = g_strdup(job_path);
        assert_change_logged(h, mark, 1, (const char *[]) { job, NULL });
        harness_wait_job_running(h, job);

        /* Failing calls, while the state they would change is there to change. */
        mark = log_mark(h);
        g_autoptr(GError) e1 = harness_call_result(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddPeerSystem",
                                                   g_variant_new_parsed("(%s, @a{sv} {})", ""), NULL);
        g_assert_nonnull(e1);
        g_autoptr(GError) e2 = harness_call_result(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddServiceAccessPoint",
                                                   g_variant_new_parsed("(%o, {'Address': <'127.0.0.2'>})",
                                                                        IRD_ROOT "/system/999999"),
                                                   NULL);
        g_assert_nonnull(e2);
        g_autoptr(GError) e3 = harness_call_result(h, job, IRD_IFACE_JOB, "Delete", NULL, NULL);
        g_assert_nonnull(e3);
        g_autoptr(GError) e4 = harness_call_result(h, job, IRD_IFACE_JOB, "RequestStateChange",
                                                   g_variant_new("(qt)", 2, (guint64) 0), NULL);
        g_assert_nonnull(e4);
        g_autoptr(GError) e5 = harness_call_result(h, peer, IRD_IFACE_SYSTEM, "Delete", NULL, NULL);
        g_assert_nonnull(e5);
        g_autofree char *denied = NULL;
        g_assert_false(harness_call_as_nobody(h, collection, IRD_IFACE_COLLECTION, "Delete", NULL, &denied));
        harness_sync(h);
        assert_nothing_logged_at_info(h, mark, "a failing call");

        /* Setting a property to the value it has changes nothing, so logs nothing. */
        gboolean doc = harness_get_boolean(h, job, IRD_IFACE_JOB, "DeleteOnCompletion");
        mark = log_mark(h);
        set_job_property(h, job, "DeleteOnCompletion", g_variant_new_boolean(doc));
        assert_nothing_logged_at_info(h, mark, "a no-op Set");

        mark = log_mark(h);
        g_assert_cmpuint(state_change(h, job, 3), ==, 0);
        assert_change_logged(h, mark, 1, (const char *[]) { job, NULL });

        mark = log_mark(h);
        g_assert_cmpuint(state_change(h, job, 2), ==, 0);
        assert_change_logged(h, mark, 1, (const char *[]) { job, NULL });

        mark = log_mark(h);
        set_job_property(h, job, "TimeBeforeRemoval", g_variant_new_uint64(600 * G_USEC_PER_SEC));
        assert_change_logged(h, mark, 1, (const char *[]) { job, NULL });

        mark = log_mark(h);
        set_job_property(h, job, "DeleteOnCompletion", g_variant_new_boolean(!doc));
        assert_change_logged(h, mark, 1, (const char *[]) { job, NULL });

        /* Terminating also ends the job, which the job's own line reports, without a caller. */
        mark = log_mark(h);
        g_assert_cmpuint(state_change(h, job, 4), ==, 0);
        assert_change_logged(h, mark, 2, (const char *[]) { job, NULL });

        mark = log_mark(h);
        delete_object(h, job, IRD_IFACE_JOB);
        assert_change_logged(h, mark, 1, (const char *[]) { job, NULL });

        mark = log_mark(h);
        delete_object(h, secret, IRD_IFACE_SECRET);
        assert_change_logged(h, mark, 1, (const char *[]) { secret, NULL });

        mark = log_mark(h);
        delete_object(h, collection, IRD_IFACE_COLLECTION);
        assert_change_logged(h, mark, 1, (const char *[]) { collection, NULL });

        mark = log_mark(h);
        delete_object(h, remote, IRD_IFACE_AP);
        assert_change_logged(h, mark, 1, (const char *[]) { remote, NULL });

        mark = log_mark(h);
        delete_object(h, local, IRD_IFACE_AP);
        assert_change_logged(h, mark, 1, (const char *[]) { local, NULL });

        mark = log_mark(h);
        delete_object(h, peer, IRD_IFACE_SYSTEM);
        assert_change_logged(h, mark, 1, (const char *[]) { peer, NULL });

        /* Every line carries its level for journald, and the secret is in none of them. */
        harness_stop_daemon(h);
        g_autoptr(GPtrArray) lines = log_lines_since(h, 0);
        g_assert_cmpuint(lines->len, >, 0);
        for (guint i = 0; i < lines->len; i++) {
                const char *line = lines->pdata[i];
                if (!g_regex_match_simple("^<[0-7]>[^<]", line, 0, 0))
                        g_error("log line without a level prefix: %s", line);
                g_assert_null(strstr(line, secret_value));
        }
}

static void test_log_level_err(Harness *h, gconstpointer data) {
        g_autofree char *peer = harness_add_peer(h, PEER_IQN, "quiet");
        g_autofree char *local = harness_add_access_point(h, IRD_LOCAL_SYSTEM, "127.0.0.3", 3260, NULL);
        const char *locals[] = { local, NULL };
        g_autofree char *collection = harness_create_collection(h, "quiet", locals, NULL, NULL);
        delete_object(h, collection, IRD_IFACE_COLLECTION);
        delete_object(h, peer, IRD_IFACE_SYSTEM);
        harness_stop_daemon(h);

        /* Start-up, every change and the stop all happened; only errors may show. */
        g_autoptr(GPtrArray) lines = log_lines_since(h, 0);
        for (guint i = 0; i < lines->len; i++)
                if (!g_regex_match_simple("^<[0-3]>", lines->pdata[i], 0, 0)) {
                        g_autofree char *text = join_lines(lines);
                        g_error("--log-level=err logged more than errors:\n%s", text);
                }
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
        add_test_without_daemon("/integration/daemon/state-directory/from-environment", NULL,
                                test_state_directory_from_environment);
        add_test_without_daemon("/integration/daemon/state-directory/first-of-list", NULL,
                                test_state_directory_first_of_list);
        add_test_without_daemon("/integration/daemon/state-directory/option-wins", NULL,
                                test_state_directory_option_wins);
        harness_add_test("/integration/daemon/state-directory/one-instance", NULL, test_state_directory_one_instance);
        add_test_without_daemon("/integration/daemon/command-line/invalid", NULL, test_command_line_invalid);
        add_test_without_daemon("/integration/daemon/command-line/help-version", NULL,
                                test_command_line_help_version);
        harness_add_test("/integration/daemon/log/changes", &logs, test_log_changes);
        harness_add_test("/integration/daemon/log/level-err", &quiet, test_log_level_err);

        return g_test_run();
}
