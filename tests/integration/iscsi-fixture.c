/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Running the iSCSI verification tests' jobs (iscsi-fixture.h). */

#include "iscsi-fixture.h"

void outcome_clear(Outcome *o) {
        g_clear_pointer(&o->message, g_free);
}

Outcome wait_job(Harness *h, const char *job, gint64 started) {
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

Outcome add_remote(Harness *h, const char *collection, const char *const *remotes, const char *system,
                   char **ret_job) {
        g_autofree char *job = NULL;
        gint64 started = g_get_monotonic_time();

        g_assert_cmpuint(harness_add_to_collection(h, collection, NULL, remotes, system, &job), ==, 4096);
        Outcome o = wait_job(h, job, started);
        if (ret_job)
                *ret_job = g_steal_pointer(&job);
        return o;
}

char *error_description(Harness *h, const char *job) {
        return harness_get_string(h, job, IRD_IFACE_JOB, "ErrorDescription");
}

void assert_reason(Harness *h, const char *job, const char *access_point, const char *reason) {
        g_autofree char *message_id = harness_job_message_id(h, job);
        g_autofree char *last_error_id = harness_get_string(h, access_point, IRD_IFACE_AP, "LastErrorID");

        g_assert_cmpstr(message_id, ==, reason);
        g_assert_cmpstr(last_error_id, ==, reason);
}

char *local_collection(Harness *h) {
        g_autofree char *local = harness_add_access_point(h, IRD_LOCAL_SYSTEM, LOCAL_ADDRESS, 3260, NULL);
        const char *locals[] = { local, NULL };
        char *collection = harness_create_collection(h, "replicas", locals, NULL, NULL);

        harness_clear_signals(h);
        return collection;
}

void assert_nothing_remote(Harness *h, const char *collection) {
        g_auto(GStrv) remotes = harness_get_paths(h, collection, IRD_IFACE_COLLECTION, "RemoteAccessPoints");
        g_auto(GStrv) systems = harness_get_paths(h, collection, IRD_IFACE_COLLECTION, "RemoteSystems");

        g_assert_cmpuint(g_strv_length(remotes), ==, 0);
        g_assert_cmpuint(g_strv_length(systems), ==, 0);
}
