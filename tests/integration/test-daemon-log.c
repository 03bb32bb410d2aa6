/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The daemon's log (issue 2, item 8): every change names its caller and
 * what it touched, once; failing calls and no-op changes add nothing at
 * info; every line carries its level; --log-level=err keeps only errors.
 */

#include <string.h>

#include "daemon-fixture.h"
#include "harness-calls.h"
#include "harness.h"

/* Verification off keeps collection changes synchronous; Verify still starts a job, which the black hole holds. */
static const char *const logs_args[] = { "--verify-access-points=no", "--probe-timeout=60", NULL };
static const HarnessConfig logs = { .daemon_args = logs_args };
static const char *const quiet_args[] = { "--verify-access-points=no", "--log-level=err", NULL };
static const HarnessConfig quiet = { .daemon_args = quiet_args };

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
        g_autoptr(GVariant) modified = harness_call(
                h, collection, IRD_IFACE_COLLECTION, "Modify",
                g_variant_new("(@a{sv})", dict_of("ElementName", g_variant_new_string("renamed"), NULL)));
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

        harness_add_test("/integration/daemon/log/changes", &logs, test_log_changes);
        harness_add_test("/integration/daemon/log/level-err", &quiet, test_log_level_err);

        return g_test_run();
}
