/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * iscsi-replctl against the daemon on a private bus: waiting for jobs, their
 * progress on a pseudo-terminal and as lines, failures and timeouts, and
 * cancelling with Ctrl-C or a command. Driving the client: cli-fixture.h.
 */

#include <signal.h>
#include <string.h>

#include "cli-fixture.h"

/* A peer served by `kind` on 127.0.0.2, a local access point, and the peer's portal; returns the portal's Name. */
static char *add_peer_portal(Harness *h, HarnessPeer *peer) {
        g_free(CLI_OUT(h, "add-peer", PEER_IQN, "--element-name=site-b"));
        g_free(CLI_OUT(h, "add-access-point", "local", "127.0.0.1", "--element-name=lan"));
        char *name = g_strdup_printf("127.0.0.2:%u", harness_peer_port(peer));
        g_free(CLI_OUT(h, "add-access-point", "site-b", name));
        return name;
}

static void test_job_progress_terminal(Harness *h, gconstpointer data) {
        const char *names[] = { PEER_IQN, NULL };
        g_autoptr(HarnessPeer) target = harness_peer_new(HARNESS_PEER_TARGET, "127.0.0.2", names);
        g_autofree char *portal = add_peer_portal(h, target);
        Pty t = {};

        pty_start(h, &t, (const char *const[]) { "create-collection", "backup-set", "--local=lan", "--remote", portal,
                                                 "--system", "site-b", NULL });
        g_assert_cmpint(pty_finish(h, &t), ==, CLI_OK);

        /* The bar is drawn in place, ends full, and the result line follows. */
        g_assert_nonnull(strstr(t.output->str, "\r["));
        g_assert_nonnull(strstr(t.output->str, "] 100% "));
        g_assert_nonnull(strstr(t.output->str, "(CreateRemoteReplicationCollection) completed."));
        g_autofree char *json = CLI_OUT(h, "list-collections", "--json");
        g_autoptr(JsonNode) root = parse_json(json);
        g_assert_cmpuint(json_array_get_length(json_node_get_array(root)), ==, 1);
        JsonObject *o = json_array_get_object_element(json_node_get_array(root), 0);
        /* The new collection's path is printed after the job, as without a job. */
        g_assert_nonnull(strstr(t.output->str, json_object_get_string_member(o, "Path")));
        g_assert_cmpuint(json_array_get_length(json_object_get_array_member(o, "RemoteAccessPoints")), ==, 1);
        pty_clear(&t);
}

static void test_job_progress_lines(Harness *h, gconstpointer data) {
        const char *names[] = { PEER_IQN, NULL };
        g_autoptr(HarnessPeer) target = harness_peer_new(HARNESS_PEER_TARGET, "127.0.0.2", names);
        g_autofree char *portal = add_peer_portal(h, target);
        g_autofree char *collection = CLI_OUT(h, "create-collection", "backup-set", "--local=lan", "--system=site-b");

        g_autoptr(CliResult) r = CLI(h, "add", "backup-set", "--remote", portal);
        g_assert_cmpint(r->status, ==, CLI_OK);
        /* Not a terminal: no bar, plain lines on stderr, nothing on stdout. */
        g_assert_cmpstr(r->out, ==, "");
        g_assert_null(strstr(r->err, "\r"));
        g_assert_nonnull(strstr(r->err, "/job/"));
        g_assert_nonnull(strstr(r->err, ": completed, 100%"));

        g_autofree char *verified = CLI_OUT(h, "verify", portal);
        g_autofree char *shown = CLI_OUT(h, "show", portal, "--json");
        g_autoptr(JsonNode) ap = parse_json(shown);
        g_assert_cmpstr(json_object_get_string_member(json_node_get_object(ap), "Reachable"), ==, "yes");

        g_autofree char *jobs = CLI_OUT(h, "list-jobs", "--json");
        g_autoptr(JsonNode) root = parse_json(jobs);
        JsonArray *a = json_node_get_array(root);
        g_assert_cmpuint(json_array_get_length(a), ==, 2);
        for (guint i = 0; i < 2; i++)
                g_assert_cmpint(json_object_get_int_member(json_array_get_object_element(a, i), "JobState"), ==,
                                IRD_JOB_COMPLETED);
        g_autofree char *table = CLI_OUT(h, "list-jobs");
        g_assert_nonnull(strstr(table, "AddToRemoteReplicationCollection"));
        g_assert_nonnull(strstr(table, "Verify"));
}

/* The JobStatus values the service sent for job, in the order it sent them (InterfacesAdded, then each change). */
static GPtrArray *sent_job_statuses(Harness *h, const char *job) {
        g_autoptr(GPtrArray) signals = harness_take_signals(h, NULL, NULL, NULL);
        GPtrArray *statuses = g_ptr_array_new_with_free_func(g_free);

        for (guint i = 0; i < signals->len; i++) {
                const HarnessSignal *s = signals->pdata[i];
                g_autoptr(GVariant) dict = NULL;
                const char *status = NULL;

                if (g_str_equal(s->member, "InterfacesAdded")) {
                        const char *path = NULL;
                        g_autoptr(GVariant) interfaces = NULL;

                        g_variant_get(s->parameters, "(&o@a{sa{sv}})", &path, &interfaces);
                        if (g_str_equal(path, job))
                                dict = g_variant_lookup_value(interfaces, IRD_IFACE_JOB, G_VARIANT_TYPE("a{sv}"));
                } else if (g_str_equal(s->member, "PropertiesChanged") && g_str_equal(s->path, job))
                        dict = harness_properties_changed_dict(s);
                if (dict && g_variant_lookup(dict, "JobStatus", "&s", &status))
                        g_ptr_array_add(statuses, g_strdup(status));
        }
        return statuses;
}

typedef struct StatusWait {
        Harness *h;
        const char *job;
        const char *suffix;
} StatusWait;

/* Whether a recorded PropertiesChanged of the job carries a JobStatus ending in suffix; leaves the queue as it is. */
static gboolean status_was_sent(gpointer user_data) {
        const StatusWait *w = user_data;

        for (GList *l = w->h->signals.head; l; l = l->next) {
                const HarnessSignal *s = l->data;
                const char *status;

                if (!g_str_equal(s->member, "PropertiesChanged") || !g_str_equal(s->path, w->job))
                        continue;
                g_autoptr(GVariant) dict = harness_properties_changed_dict(s);
                if (g_variant_lookup(dict, "JobStatus", "&s", &status) && g_str_has_suffix(status, w->suffix))
                        return TRUE;
        }
        return FALSE;
}

/* The status texts of the progress bars drawn on the terminal, in drawing order, repeats folded. */
static GPtrArray *drawn_bar_statuses(const char *output) {
        g_auto(GStrv) redraws = g_strsplit(output, "\r", -1);
        GPtrArray *statuses = g_ptr_array_new_with_free_func(g_free);

        for (size_t i = 0; redraws[i]; i++) {
                const char *percent = redraws[i][0] == '[' ? strstr(redraws[i], "% ") : NULL;
                if (!percent)
                        continue;
                g_autofree char *status = g_strndup(percent + 2, strcspn(percent + 2, "\x1b\n"));
                if (statuses->len == 0 || !g_str_equal(statuses->pdata[statuses->len - 1], status))
                        g_ptr_array_add(statuses, g_steal_pointer(&status));
        }
        return statuses;
}

/*
 * The bar shows JobStatus in the order the service sent the values: once a
 * newer one is drawn, an older one never comes back. The first probe is
 * refused at once, so the status moves on while the client still reads the
 * job's properties; signals that arrived before that reply were older than
 * it, and drawing them after it put the bar back in time.
 */
static void test_job_progress_order(Harness *h, gconstpointer data) {
        g_autoptr(HarnessPeer) refusing = harness_peer_new(HARNESS_PEER_REFUSING, "127.0.0.3", NULL);
        g_autoptr(HarnessPeer) hole = harness_peer_new(HARNESS_PEER_BLACK_HOLE, "127.0.0.2", NULL);
        g_autofree char *refusing_portal = g_strdup_printf("127.0.0.3:%u", harness_peer_port(refusing));
        g_autofree char *hole_portal = g_strdup_printf("127.0.0.2:%u", harness_peer_port(hole));
        g_autofree char *first = harness_add_peer(h, "first.example", NULL);
        g_autofree char *second = harness_add_peer(h, "second.example", NULL);
        g_autofree char *refusing_ap = harness_add_access_point(h, first, "127.0.0.3", harness_peer_port(refusing), NULL);
        g_autofree char *hole_ap = harness_add_access_point(h, second, "127.0.0.2", harness_peer_port(hole), NULL);
        Pty t = {};

        harness_clear_signals(h);
        pty_start(h, &t, (const char *const[]) { "probe-peers", NULL });
        /* The refused probe is done; the black hole keeps the job running. */
        g_assert_true(pty_read(&t, "1 of 2 done."));
        g_auto(GStrv) paths = harness_object_paths(h);
        const char *job = NULL;
        for (size_t i = 0; paths[i]; i++)
                if (g_str_has_prefix(paths[i], IRD_ROOT "/job/"))
                        job = paths[i];
        g_assert_nonnull(job);
        /* The bar may show the value before the service announces it; the check needs it announced. */
        StatusWait wait = { h, job, "1 of 2 done." };
        harness_wait_until(h, status_was_sent, &wait, "the job to announce its second status");
        g_autoptr(GVariant) reply = harness_call(h, job, IRD_IFACE_JOB, "RequestStateChange",
                                                 g_variant_new("(qt)", 4, (guint64) 0));
        g_assert_cmpint(pty_finish(h, &t), ==, CLI_JOB_FAILED);
        g_assert_nonnull(strstr(t.output->str, "was terminated"));

        g_autoptr(GPtrArray) sent = sent_job_statuses(h, job);
        g_autoptr(GPtrArray) drawn = drawn_bar_statuses(t.output->str);
        g_assert_cmpuint(drawn->len, >=, 2);
        /*
         * A drawn value the service never sent as a signal came from the
         * client's read of the properties; it has no place to check.
         */
        guint last = 0;
        for (guint i = 0; i < drawn->len; i++) {
                guint at;
                if (!g_ptr_array_find_with_equal_func(sent, drawn->pdata[i], g_str_equal, &at))
                        continue;
                if (at < last)
                        g_error("\"%s\" drawn after \"%s\", which the service sent later",
                                (const char *) drawn->pdata[i], (const char *) sent->pdata[last]);
                last = at;
        }
        g_assert_cmpstr(drawn->pdata[drawn->len - 1], ==, "Terminated.");
        pty_clear(&t);
}

static void test_job_no_wait(Harness *h, gconstpointer data) {
        const char *names[] = { PEER_IQN, NULL };
        g_autoptr(HarnessPeer) target = harness_peer_new(HARNESS_PEER_TARGET, "127.0.0.2", names);
        g_autofree char *portal = add_peer_portal(h, target);

        g_autofree char *job = CLI_OUT(h, "verify", portal, "--no-wait");
        g_assert_true(g_str_has_prefix(job, IRD_ROOT "/job/"));
        g_assert_null(strchr(job, '\n'));

        /* wait by number; the job may have finished already, which wait reports as well. */
        g_autofree char *waited = CLI_OUT(h, "wait", strrchr(job, '/') + 1);
        g_autofree char *json = CLI_OUT(h, "job", job, "--json");
        g_autoptr(JsonNode) root = parse_json(json);
        JsonObject *o = json_node_get_object(root);
        g_assert_cmpstr(json_object_get_string_member(o, "Path"), ==, job);
        g_assert_cmpstr(json_object_get_string_member(o, "Name"), ==, "Verify");
        g_assert_cmpint(json_object_get_int_member(o, "JobState"), ==, IRD_JOB_COMPLETED);
        g_assert_cmpint(json_object_get_int_member(o, "PercentComplete"), ==, 100);
        g_assert_cmpint(json_object_get_int_member(o, "ErrorCode"), ==, 0);

        g_autofree char *text = CLI_OUT(h, "job", job);
        g_assert_nonnull(strstr(text, "State: completed (7)"));

        g_free(CLI_OUT(h, "delete", job));
        g_auto(GStrv) paths = harness_object_paths(h);
        g_assert_false(g_strv_contains((const char *const *) paths, job));
}

static void test_probe_peers(Harness *h, gconstpointer data) {
        const char *names[] = { PEER_IQN, NULL };
        g_autoptr(HarnessPeer) target = harness_peer_new(HARNESS_PEER_TARGET, "127.0.0.2", names);
        g_autoptr(HarnessPeer) refusing = harness_peer_new(HARNESS_PEER_REFUSING, "127.0.0.3", NULL);
        g_autofree char *portal = add_peer_portal(h, target);
        g_autofree char *silent = CLI_OUT(h, "add-peer", "silent.example");
        g_autofree char *silent_portal = g_strdup_printf("127.0.0.3:%u", harness_peer_port(refusing));
        g_free(CLI_OUT(h, "add-access-point", silent, silent_portal));

        /* Only the peer that answers is listed. */
        g_autofree char *reachable = CLI_OUT(h, "probe-peers");
        g_auto(GStrv) lines = g_strsplit(reachable, "\n", -1);
        g_assert_cmpuint(g_strv_length(lines), ==, 1);
        g_assert_true(g_str_has_prefix(lines[0], IRD_ROOT "/system/"));
        g_autofree char *name = harness_get_string(h, lines[0], IRD_IFACE_SYSTEM, "Name");
        g_assert_cmpstr(name, ==, PEER_IQN);
}

static void test_job_failed(Harness *h, gconstpointer data) {
        g_autoptr(HarnessPeer) refusing = harness_peer_new(HARNESS_PEER_REFUSING, "127.0.0.2", NULL);
        g_autofree char *portal = add_peer_portal(h, refusing);

        g_autoptr(CliResult) r = CLI(h, "verify", portal);
        g_assert_cmpint(r->status, ==, CLI_JOB_FAILED);
        g_assert_nonnull(strstr(r->err, "failed: "));
        g_assert_nonnull(strstr(r->err, portal));
}

static void test_job_timeout(Harness *h, gconstpointer data) {
        g_autoptr(HarnessPeer) hole = harness_peer_new(HARNESS_PEER_BLACK_HOLE, "127.0.0.2", NULL);
        g_autofree char *portal = add_peer_portal(h, hole);

        g_autoptr(CliResult) r = CLI(h, "verify", portal);
        g_assert_cmpint(r->status, ==, CLI_TIMEOUT);
}

static void test_job_cancel_sigint(Harness *h, gconstpointer data) {
        g_autoptr(HarnessPeer) hole = harness_peer_new(HARNESS_PEER_BLACK_HOLE, "127.0.0.2", NULL);
        g_autofree char *portal = add_peer_portal(h, hole);

        harness_clear_signals(h);
        Pending *p = cli_start(h, NULL, (const char *const[]) { "verify", portal, NULL });
        /* The client blocks SIGINT before its call, so by the time the job runs it waits for it. */
        g_autofree char *job = wait_for_running_job(h);
        g_subprocess_send_signal(p->process, SIGINT);
        g_autoptr(CliResult) r = cli_finish(h, p);

        g_assert_cmpint(r->status, ==, CLI_JOB_FAILED);
        g_assert_nonnull(strstr(r->err, "was terminated"));
        g_assert_cmpuint(harness_get_uint16(h, job, IRD_IFACE_JOB, "JobState"), ==, IRD_JOB_TERMINATED);
}

/* How the client starts drawing its progress bar on a terminal. */
#define PROGRESS_BAR "\r["

static void test_job_cancel_terminal(Harness *h, gconstpointer data) {
        g_autoptr(HarnessPeer) hole = harness_peer_new(HARNESS_PEER_BLACK_HOLE, "127.0.0.2", NULL);
        g_autofree char *portal = add_peer_portal(h, hole);
        Pty t = {};

        harness_clear_signals(h);
        pty_start(h, &t, (const char *const[]) { "verify", portal, NULL });
        g_autofree char *job = wait_for_running_job(h);
        /*
         * The client is watching once it draws its bar ("\r[", whatever the
         * status text says by then: how soon JobStatus moves on from "Running."
         * is the service's progress interval, not this test's business).
         */
        g_assert_true(pty_read(&t, PROGRESS_BAR));
        /* Ctrl-C on the terminal asks first; "n" goes on waiting, "y" cancels. */
        pty_write(&t, "\x03");
        g_assert_true(pty_read(&t, "? [y/N] "));
        g_string_truncate(t.output, 0);
        pty_write(&t, "n\n");
        /* Answered: the bar comes back and the job still runs. */
        g_assert_true(pty_read(&t, PROGRESS_BAR));
        g_assert_cmpuint(harness_get_uint16(h, job, IRD_IFACE_JOB, "JobState"), ==, IRD_JOB_RUNNING);
        pty_write(&t, "\x03");
        g_assert_true(pty_read(&t, "? [y/N] "));
        pty_write(&t, "y\n");
        g_assert_cmpint(pty_finish(h, &t), ==, CLI_JOB_FAILED);
        g_assert_nonnull(strstr(t.output->str, "was terminated"));
        g_assert_cmpuint(harness_get_uint16(h, job, IRD_IFACE_JOB, "JobState"), ==, IRD_JOB_TERMINATED);
        pty_clear(&t);
}

static void test_job_cancel_command(Harness *h, gconstpointer data) {
        g_autoptr(HarnessPeer) hole = harness_peer_new(HARNESS_PEER_BLACK_HOLE, "127.0.0.2", NULL);
        g_autofree char *portal = add_peer_portal(h, hole);

        g_autofree char *job = CLI_OUT(h, "verify", portal, "--no-wait");
        harness_wait_job_running(h, job);
        /* wait follows the job; cancel from a second client ends both. */
        Pending *waiting = cli_start(h, NULL, (const char *const[]) { "wait", job, NULL });
        g_free(CLI_OUT(h, "cancel", job));
        g_autoptr(CliResult) r = cli_finish(h, waiting);
        g_assert_cmpint(r->status, ==, CLI_JOB_FAILED);
        g_assert_cmpuint(harness_get_uint16(h, job, IRD_IFACE_JOB, "JobState"), ==, IRD_JOB_TERMINATED);

        /* Cancelling a finished job is refused by the service. */
        g_autoptr(CliResult) again = CLI(h, "cancel", job);
        g_assert_cmpint(again->status, ==, CLI_GENERIC);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);

        harness_add_test("/integration/cli/job/progress-terminal", NULL, test_job_progress_terminal);
        harness_add_test("/integration/cli/job/progress-lines", NULL, test_job_progress_lines);
        harness_add_test("/integration/cli/job/progress-order", &slow_probes, test_job_progress_order);
        harness_add_test("/integration/cli/job/no-wait", NULL, test_job_no_wait);
        harness_add_test("/integration/cli/job/probe-peers", NULL, test_probe_peers);
        harness_add_test("/integration/cli/job/failed", NULL, test_job_failed);
        harness_add_test("/integration/cli/job/timeout", &quick_probes, test_job_timeout);
        harness_add_test("/integration/cli/job/cancel-sigint", &slow_probes, test_job_cancel_sigint);
        harness_add_test("/integration/cli/job/cancel-terminal", &slow_probes, test_job_cancel_terminal);
        harness_add_test("/integration/cli/job/cancel-command", &slow_probes, test_job_cancel_command);

        return g_test_run();
}
