/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Jobs (API.md sections 3 and 6): the lifecycle of a job that adds a remote
 * portal to a collection — against a fake iSCSI target, a refusing port and
 * a black hole on 127.0.0.0/8 — its signals, its errors, the collection it
 * holds, and the state changes a client may ask for.
 */

#include <string.h>

#include "harness-calls.h"
#include "harness.h"
#include "jobs-fixture.h"

static const char *const quick_args[] = { "--probe-timeout=0.5", NULL };
static const HarnessConfig quick = { .daemon_args = quick_args };
/* Long enough that a black-holed job is still running whenever the test looks. */
static const char *const slow_args[] = { "--probe-timeout=60", NULL };
static const HarnessConfig slow = { .daemon_args = slow_args };

/* ------------------------------------------------------------------------ */

/* Deletes a finished job and waits for it to go, which it does at once. */
static void delete_finished_job(Harness *h, const char *job) {
        harness_clear_signals(h);
        g_autoptr(GVariant) r = harness_call(h, job, IRD_IFACE_JOB, "Delete", NULL);
        g_autoptr(HarnessSignal) removed = harness_wait_signal(h, IRD_ROOT, NULL, "InterfacesRemoved",
                                                               harness_match_interfaces_removed, (gpointer) job);
}

static void test_add_success(Harness *h, gconstpointer data) {
        Scene s;
        scene_init(h, &s, HARNESS_PEER_TARGET);
        guint64 before_usec = (guint64) g_get_real_time();

        g_autofree char *job = scene_start_add(h, &s);
        g_autoptr(GVariant) done = wait_completed(h, job, IRD_JOB_COMPLETED);
        guint16 code;
        g_variant_get(done, "(bq&s)", NULL, &code, NULL);
        g_assert_cmpuint(code, ==, 0);

        /* The job object. */
        g_autofree char *name = harness_get_string(h, job, IRD_IFACE_JOB, "Name");
        g_assert_cmpstr(name, ==, "AddToRemoteReplicationCollection");
        assert_operational_status(h, job, 2);
        g_assert_cmpuint(harness_get_uint16(h, job, IRD_IFACE_JOB, "PercentComplete"), ==, 100);
        g_assert_cmpuint(harness_get_uint16(h, job, IRD_IFACE_JOB, "ErrorCode"), ==, 0);
        g_autofree char *description = harness_get_string(h, job, IRD_IFACE_JOB, "ErrorDescription");
        g_assert_cmpstr(description, ==, "");
        const char *affected[] = { s.collection, NULL };
        g_autoptr(GVariant) elements = harness_get_property(h, job, IRD_IFACE_JOB, "AffectedElements");
        harness_assert_paths(elements, affected);
        g_autoptr(GVariant) error = harness_call(h, job, IRD_IFACE_JOB, "GetError", NULL);
        g_autoptr(GVariant) error_dict = g_variant_get_child_value(error, 0);
        g_assert_cmpuint(g_variant_n_children(error_dict), ==, 0);
        g_autofree char *instance = harness_get_string(h, job, IRD_IFACE_JOB, "InstanceID");
        g_assert_cmpstr(instance, !=, "");
        guint64 submitted = harness_get_uint64(h, job, IRD_IFACE_JOB, "TimeSubmitted");
        guint64 started = harness_get_uint64(h, job, IRD_IFACE_JOB, "StartTime");
        guint64 changed = harness_get_uint64(h, job, IRD_IFACE_JOB, "TimeOfLastStateChange");
        g_assert_cmpuint(submitted, >=, before_usec - G_USEC_PER_SEC);
        g_assert_cmpuint(started, >=, submitted);
        g_assert_cmpuint(changed, >=, started);
        g_assert_cmpuint(changed, <=, (guint64) g_get_real_time() + G_USEC_PER_SEC);
        g_assert_cmpuint(harness_get_uint64(h, job, IRD_IFACE_JOB, "TimeBeforeRemoval"), ==,
                         300 * G_USEC_PER_SEC);
        g_assert_cmpuint(harness_get_uint64(h, job, IRD_IFACE_JOB, "ElapsedTime"), <=,
                         (guint64) g_get_real_time() - before_usec + G_USEC_PER_SEC);
        g_autoptr(GVariant) uid = harness_get_property(h, job, IRD_IFACE_JOB, "StartedByUID");
        g_assert_cmpuint(g_variant_get_uint32(uid), ==, 0);
        g_autofree char *owner = harness_get_string(h, job, IRD_IFACE_JOB, "Owner");
        g_assert_nonnull(strstr(owner, g_dbus_connection_get_unique_name(h->connection)));

        /* The collection told the world it was busy, and then that it was done. */
        g_autoptr(GPtrArray) changes = harness_take_signals(h, s.collection, PROPERTIES, "PropertiesChanged");
        gboolean saw_busy = FALSE, saw_idle = FALSE, saw_remote = FALSE, saw_systems = FALSE;
        for (guint i = 0; i < changes->len; i++) {
                g_autoptr(GVariant) dict = harness_properties_changed_dict(changes->pdata[i]);
                const char *j = NULL;
                if (g_variant_lookup(dict, "Job", "&o", &j)) {
                        if (g_str_equal(j, job)) {
                                g_assert_false(saw_busy);
                                saw_busy = TRUE;
                        } else {
                                g_assert_cmpstr(j, ==, "/");
                                g_assert_true(saw_busy);
                                saw_idle = TRUE;
                        }
                }
                g_assert_false(g_variant_lookup_value(dict, "LocalAccessPoints", NULL));
                g_autoptr(GVariant) remote = g_variant_lookup_value(dict, "RemoteAccessPoints", NULL);
                if (remote) {
                        const char *expected[] = { s.remote, NULL };
                        harness_assert_paths(remote, expected);
                        g_assert_false(saw_remote);
                        saw_remote = TRUE;
                }
                g_autoptr(GVariant) systems = g_variant_lookup_value(dict, "RemoteSystems", NULL);
                if (systems) {
                        const char *expected[] = { s.peer, NULL };
                        harness_assert_paths(systems, expected);
                        g_assert_false(saw_systems);
                        saw_systems = TRUE;
                }
        }
        g_assert_true(saw_busy && saw_idle && saw_remote && saw_systems);
        g_autofree char *now_job = harness_get_string(h, s.collection, IRD_IFACE_COLLECTION, "Job");
        g_assert_cmpstr(now_job, ==, "/");

        /* The probe came from the local portal's address. */
        g_assert_cmpuint(harness_peer_connections(s.peer_socket), >=, 1);
        g_autofree char *source = harness_peer_last_source(s.peer_socket);
        g_assert_cmpstr(source, ==, "127.0.0.3");

        /* Deleting a finished job removes it at once. */
        delete_finished_job(h, job);
        scene_clear(&s);
}

static void test_job_progress_signals(Harness *h, gconstpointer data) {
        Scene s;
        scene_init(h, &s, HARNESS_PEER_TARGET);

        g_autofree char *job = scene_start_add(h, &s);
        g_autoptr(GVariant) done = wait_completed(h, job, IRD_JOB_COMPLETED);

        /* The job was announced with its properties, in state New or Running. */
        g_autoptr(HarnessSignal) added = harness_wait_signal(h, IRD_ROOT, NULL, "InterfacesAdded",
                                                             harness_match_interfaces_added, job);
        g_autoptr(GVariant) ifaces = g_variant_get_child_value(added->parameters, 1);
        g_autoptr(GVariant) props = g_variant_lookup_value(ifaces, IRD_IFACE_JOB, NULL);
        g_assert_nonnull(props);
        guint16 initial;
        g_assert_true(g_variant_lookup(props, "JobState", "q", &initial));
        g_assert_true(initial == IRD_JOB_NEW || initial == IRD_JOB_RUNNING);
        const char *name;
        g_assert_true(g_variant_lookup(props, "Name", "&s", &name));
        g_assert_cmpstr(name, ==, "AddToRemoteReplicationCollection");

        /* States only move forward: 2 → 4 → 7, each change once. */
        g_autoptr(GPtrArray) changes = harness_take_signals(h, job, PROPERTIES, "PropertiesChanged");
        guint16 last = initial;
        guint16 last_percent = 0;
        for (guint i = 0; i < changes->len; i++) {
                g_autoptr(GVariant) dict = harness_properties_changed_dict(changes->pdata[i]);
                guint16 state, percent;
                if (g_variant_lookup(dict, "JobState", "q", &state)) {
                        g_assert_cmpuint(state, !=, last);
                        g_assert_true((last == IRD_JOB_NEW && state == IRD_JOB_RUNNING) ||
                                      (last == IRD_JOB_NEW && state == IRD_JOB_COMPLETED) ||
                                      (last == IRD_JOB_RUNNING && state == IRD_JOB_COMPLETED));
                        last = state;
                }
                if (g_variant_lookup(dict, "PercentComplete", "q", &percent)) {
                        g_assert_cmpuint(percent, >, last_percent);
                        g_assert_cmpuint(percent, <=, 100);
                        last_percent = percent;
                }
        }
        g_assert_cmpuint(last, ==, IRD_JOB_COMPLETED);
        scene_clear(&s);
}

static void test_refused(Harness *h, gconstpointer data) {
        Scene s;
        scene_init(h, &s, HARNESS_PEER_REFUSING);
        g_autofree char *before = collection_state(h, s.collection);

        g_autofree char *job = scene_start_add(h, &s);
        g_autoptr(GVariant) done = wait_completed(h, job, IRD_JOB_EXCEPTION);
        guint16 code;
        g_variant_get(done, "(bq&s)", NULL, &code, NULL);
        g_assert_cmpuint(code, ==, 4);

        g_assert_cmpuint(harness_get_uint16(h, job, IRD_IFACE_JOB, "ErrorCode"), ==, 4);
        assert_operational_status(h, job, 6);
        g_autofree char *description = harness_get_string(h, job, IRD_IFACE_JOB, "ErrorDescription");
        g_test_message("ErrorDescription: %s", description);
        /* It names the pair: the remote portal and the local one it was tried from. */
        g_assert_nonnull(strstr(description, s.remote_name));
        g_assert_nonnull(strstr(description, "127.0.0.3"));

        g_autoptr(GVariant) reply = harness_call(h, job, IRD_IFACE_JOB, "GetError", NULL);
        g_autoptr(GVariant) error = g_variant_get_child_value(reply, 0);
        guint16 error_code, error_type;
        const char *error_description, *error_source;
        g_assert_true(g_variant_lookup(error, "ErrorCode", "q", &error_code));
        g_assert_cmpuint(error_code, ==, 4);
        g_assert_true(g_variant_lookup(error, "ErrorDescription", "&s", &error_description));
        g_assert_cmpstr(error_description, ==, description);
        g_assert_true(g_variant_lookup(error, "ErrorSource", "&o", &error_source));
        g_assert_true(g_variant_lookup(error, "ErrorType", "q", &error_type));
        g_autofree char *message_id = harness_job_message_id(h, job);
        g_assert_cmpstr(message_id, ==, "Refused");
        g_autofree char *last_error_id = harness_get_string(h, s.remote, IRD_IFACE_AP, "LastErrorID");
        g_assert_cmpstr(last_error_id, ==, "Refused");

        /* Nothing of the call was committed. */
        g_autofree char *after = collection_state(h, s.collection);
        g_assert_cmpstr(before, ==, after);
        g_auto(GStrv) cols = harness_get_paths(h, s.remote, IRD_IFACE_AP, "Collections");
        g_assert_cmpuint(g_strv_length(cols), ==, 0);
        g_auto(GStrv) sys_cols = harness_get_paths(h, s.peer, IRD_IFACE_SYSTEM, "Collections");
        g_assert_cmpuint(g_strv_length(sys_cols), ==, 0);
        g_autofree char *job_now = harness_get_string(h, s.collection, IRD_IFACE_COLLECTION, "Job");
        g_assert_cmpstr(job_now, ==, "/");

        /* Finished jobs accept no state change, and can be deleted. */
        for (guint16 st = 2; st <= 5; st++) {
                g_autofree char *m = harness_call_error(h, job, IRD_IFACE_JOB, "RequestStateChange",
                                                        g_variant_new("(qt)", st, (guint64) 0),
                                                        IRD_ERROR_INVALID_STATE_TRANSITION);
        }
        delete_finished_job(h, job);
        scene_clear(&s);
}

static void test_black_hole_timeout(Harness *h, gconstpointer data) {
        Scene s;
        scene_init(h, &s, HARNESS_PEER_BLACK_HOLE);
        g_autofree char *before = collection_state(h, s.collection);

        gint64 start = g_get_monotonic_time();
        g_autofree char *job = scene_start_add(h, &s);
        g_autoptr(GVariant) done = wait_completed(h, job, IRD_JOB_EXCEPTION);
        gint64 elapsed = g_get_monotonic_time() - start;

        guint16 code;
        g_variant_get(done, "(bq&s)", NULL, &code, NULL);
        g_assert_cmpuint(code, ==, 3);
        g_assert_cmpuint(harness_get_uint16(h, job, IRD_IFACE_JOB, "ErrorCode"), ==, 3);
        g_autofree char *description = harness_get_string(h, job, IRD_IFACE_JOB, "ErrorDescription");
        g_assert_nonnull(strstr(description, s.remote_name));
        g_autofree char *message_id = harness_job_message_id(h, job);
        g_assert_cmpstr(message_id, ==, "Timeout");
        g_autofree char *last_error_id = harness_get_string(h, s.remote, IRD_IFACE_AP, "LastErrorID");
        g_assert_cmpstr(last_error_id, ==, "Timeout");
        /* Probe timeout 0.5 s: not before it, and not much after. */
        g_test_message("timed out after %" G_GINT64_FORMAT " µs", elapsed);
        g_assert_cmpint(elapsed, >=, 400 * 1000);
        g_assert_cmpint(elapsed, <=, 2500 * 1000);

        g_autofree char *after = collection_state(h, s.collection);
        g_assert_cmpstr(before, ==, after);
        scene_clear(&s);
}

/* ------------------------------------------------------------------------ */

static void test_in_use_while_running(Harness *h, gconstpointer data) {
        Scene s;
        scene_init(h, &s, HARNESS_PEER_BLACK_HOLE);
        g_autofree char *before = collection_state(h, s.collection);
        g_autofree char *job = scene_start_add(h, &s);
        harness_wait_job_running(h, job);

        g_autofree char *busy = harness_get_string(h, s.collection, IRD_IFACE_COLLECTION, "Job");
        g_assert_cmpstr(busy, ==, job);
        g_assert_true(harness_get_boolean(h, job, IRD_IFACE_JOB, "Cancelable"));
        g_autoptr(GVariant) affected = harness_get_property(h, job, IRD_IFACE_JOB, "AffectedElements");
        g_assert_cmpuint(g_variant_n_children(affected), >=, 1);
        g_autoptr(GVariant) error = harness_call(h, job, IRD_IFACE_JOB, "GetError", NULL);
        g_autoptr(GVariant) error_dict = g_variant_get_child_value(error, 0);
        g_assert_cmpuint(g_variant_n_children(error_dict), ==, 0);
        g_assert_cmpuint(harness_get_uint16(h, job, IRD_IFACE_JOB, "ErrorCode"), ==, 0);

        const char *locals[] = { s.local, NULL };
        g_autofree char *other_local = harness_add_access_point(h, IRD_LOCAL_SYSTEM, "127.0.0.5", 3260, NULL);
        const char *other_locals[] = { other_local, NULL };
        g_autofree char *m1 = harness_call_error(
                h, IRD_ROOT, IRD_IFACE_SERVICE, "AddToRemoteReplicationCollection",
                g_variant_new("(@ao@aooo)", harness_paths(other_locals), harness_paths(NULL), "/", s.collection),
                IRD_ERROR_IN_USE);
        g_autofree char *m2 = harness_call_error(
                h, IRD_ROOT, IRD_IFACE_SERVICE, "RemoveFromRemoteReplicationCollection",
                g_variant_new("(@ao@aooo)", harness_paths(locals), harness_paths(NULL), "/", s.collection),
                IRD_ERROR_IN_USE);
        g_autofree char *m3 = harness_call_error(h, s.collection, IRD_IFACE_COLLECTION, "Modify",
                                                 g_variant_new_parsed("({'ElementName': <'renamed'>},)"),
                                                 IRD_ERROR_IN_USE);
        g_autofree char *m4 = harness_call_error(h, s.collection, IRD_IFACE_COLLECTION, "Delete", NULL,
                                                 IRD_ERROR_IN_USE);
        /* Each refusal names the collection and the job that holds it. */
        g_autofree char *in_use = g_strdup_printf("Collection %s is being changed by job %s.", s.collection, job);
        g_assert_cmpstr(m1, ==, in_use);
        g_assert_cmpstr(m2, ==, in_use);
        g_assert_cmpstr(m3, ==, in_use);
        g_assert_cmpstr(m4, ==, in_use);

        /* Running jobs can be neither deleted nor started again. */
        g_autofree char *m5 = harness_call_error(h, job, IRD_IFACE_JOB, "Delete", NULL,
                                                 IRD_ERROR_INVALID_STATE_TRANSITION);
        g_autofree char *m6 = harness_call_error(h, job, IRD_IFACE_JOB, "RequestStateChange",
                                                 g_variant_new("(qt)", 2, (guint64) 0),
                                                 IRD_ERROR_INVALID_STATE_TRANSITION);
        g_autofree char *m7 = harness_call_error(h, job, IRD_IFACE_JOB, "RequestStateChange",
                                                 g_variant_new("(qt)", 4, (guint64) G_USEC_PER_SEC),
                                                 IRD_ERROR_NOT_SUPPORTED);
        g_assert_cmpuint(job_state(h, job), ==, IRD_JOB_RUNNING);

        /* Terminate: nothing committed. */
        request_state_change(h, job, 4);
        g_autoptr(GVariant) done = wait_completed(h, job, IRD_JOB_TERMINATED);
        assert_operational_status(h, job, 6);
        g_autofree char *message_id = harness_job_message_id(h, job);
        g_assert_cmpstr(message_id, ==, "Terminated");
        g_autofree char *after = collection_state(h, s.collection);
        g_assert_cmpstr(before, ==, after);
        g_autofree char *idle = harness_get_string(h, s.collection, IRD_IFACE_COLLECTION, "Job");
        g_assert_cmpstr(idle, ==, "/");

        /* Free again. */
        g_autoptr(GVariant) r = harness_call(h, s.collection, IRD_IFACE_COLLECTION, "Modify",
                                             g_variant_new_parsed("({'ElementName': <'renamed'>},)"));
        scene_clear(&s);
}

static void test_kill(Harness *h, gconstpointer data) {
        Scene s;
        scene_init(h, &s, HARNESS_PEER_BLACK_HOLE);
        g_autofree char *before = collection_state(h, s.collection);
        g_autofree char *job = scene_start_add(h, &s);
        harness_wait_job_running(h, job);

        /* Cancelling aborts the probe at once, long before its 60 s deadline. */
        gint64 start = g_get_monotonic_time();
        request_state_change(h, job, 5);
        g_autoptr(GVariant) done = wait_completed(h, job, IRD_JOB_KILLED);
        g_assert_cmpint(g_get_monotonic_time() - start, <, 2 * G_USEC_PER_SEC);
        g_autofree char *message_id = harness_job_message_id(h, job);
        g_assert_cmpstr(message_id, ==, "Killed");
        g_autofree char *after = collection_state(h, s.collection);
        g_assert_cmpstr(before, ==, after);
        g_autofree char *m = harness_call_error(h, job, IRD_IFACE_JOB, "RequestStateChange",
                                                g_variant_new("(qt)", 4, (guint64) 0),
                                                IRD_ERROR_INVALID_STATE_TRANSITION);
        scene_clear(&s);
}

static void test_suspend_resume(Harness *h, gconstpointer data) {
        Scene s;
        scene_init(h, &s, HARNESS_PEER_BLACK_HOLE);
        g_autofree char *job = scene_start_add(h, &s);
        harness_wait_job_running(h, job);

        request_state_change(h, job, 3);
        g_autoptr(HarnessSignal) suspended = harness_wait_signal(h, job, PROPERTIES, "PropertiesChanged",
                                                                 harness_match_job_state,
                                                                 GUINT_TO_POINTER(IRD_JOB_SUSPENDED));
        g_assert_cmpuint(job_state(h, job), ==, IRD_JOB_SUSPENDED);
        g_autofree char *m = harness_call_error(h, job, IRD_IFACE_JOB, "RequestStateChange",
                                                g_variant_new("(qt)", 3, (guint64) 0),
                                                IRD_ERROR_INVALID_STATE_TRANSITION);
        /* Still holding its collection. */
        g_autofree char *busy = harness_get_string(h, s.collection, IRD_IFACE_COLLECTION, "Job");
        g_assert_cmpstr(busy, ==, job);

        request_state_change(h, job, 2);
        g_autoptr(HarnessSignal) resumed = harness_wait_signal(h, job, PROPERTIES, "PropertiesChanged",
                                                               harness_match_job_state,
                                                               GUINT_TO_POINTER(IRD_JOB_RUNNING));
        g_assert_cmpuint(job_state(h, job), ==, IRD_JOB_RUNNING);

        request_state_change(h, job, 4);
        g_autoptr(GVariant) done = wait_completed(h, job, IRD_JOB_TERMINATED);
        scene_clear(&s);
}

static void test_job_authorization(Harness *h, gconstpointer data) {
        Scene s;
        scene_init(h, &s, HARNESS_PEER_BLACK_HOLE);
        g_autofree char *job = scene_start_add(h, &s);
        harness_wait_job_running(h, job);

        /* Someone else's job needs manage-jobs, which nobody has without polkit. */
        g_autofree char *out = NULL;
        gboolean ok = harness_call_as_nobody(h, job, IRD_IFACE_JOB, "RequestStateChange",
                                             g_variant_new("(qt)", 4, (guint64) 0), &out);
        g_assert_false(ok);
        g_assert_nonnull(strstr(out, IRD_ERROR_ACCESS_DENIED));
        g_assert_cmpuint(job_state(h, job), ==, IRD_JOB_RUNNING);
        g_clear_pointer(&out, g_free);
        g_assert_true(harness_call_as_nobody(h, job, PROPERTIES, "Get",
                                             g_variant_new("(ss)", IRD_IFACE_JOB, "JobState"), &out));

        request_state_change(h, job, 4);
        g_autoptr(GVariant) done = wait_completed(h, job, IRD_JOB_TERMINATED);
        g_clear_pointer(&out, g_free);
        ok = harness_call_as_nobody(h, job, IRD_IFACE_JOB, "Delete", g_variant_new("()"), &out);
        g_assert_false(ok);
        g_assert_nonnull(strstr(out, IRD_ERROR_ACCESS_DENIED));
        g_auto(GStrv) paths = harness_object_paths(h);
        g_assert_true(g_strv_contains((const char *const *) paths, job));
        scene_clear(&s);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);

        harness_add_test("/integration/jobs/add-success", &quick, test_add_success);
        harness_add_test("/integration/jobs/progress-signals", &quick, test_job_progress_signals);
        harness_add_test("/integration/jobs/refused", &quick, test_refused);
        harness_add_test("/integration/jobs/black-hole-timeout", &quick, test_black_hole_timeout);
        harness_add_test("/integration/jobs/in-use-while-running", &slow, test_in_use_while_running);
        harness_add_test("/integration/jobs/kill", &slow, test_kill);
        harness_add_test("/integration/jobs/suspend-resume", &slow, test_suspend_resume);
        harness_add_test("/integration/jobs/authorization", &slow, test_job_authorization);

        return g_test_run();
}
