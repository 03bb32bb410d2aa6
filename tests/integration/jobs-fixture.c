/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The jobs tests' scene and their reading of a job (jobs-fixture.h). */

#include "jobs-fixture.h"

void scene_init(Harness *h, Scene *s, HarnessPeerKind kind) {
        const char *names[] = { PEER_IQN, NULL };

        s->peer_socket = harness_peer_new(kind, "127.0.0.2", names);
        s->local = harness_add_access_point(h, IRD_LOCAL_SYSTEM, "127.0.0.3", 3260, NULL);
        s->peer = harness_add_peer(h, PEER_IQN, "peer");
        s->remote = harness_add_access_point(h, s->peer, "127.0.0.2", harness_peer_port(s->peer_socket), NULL);
        s->remote_name = g_strdup_printf("127.0.0.2:%u", harness_peer_port(s->peer_socket));
        const char *locals[] = { s->local, NULL };
        s->collection = harness_create_collection(h, "scene", locals, NULL, NULL);
        harness_clear_signals(h);
}

void scene_clear(Scene *s) {
        harness_peer_free(s->peer_socket);
        g_free(s->local);
        g_free(s->peer);
        g_free(s->remote);
        g_free(s->remote_name);
        g_free(s->collection);
}

char *scene_start_add(Harness *h, Scene *s) {
        const char *remotes[] = { s->remote, NULL };
        char *job = NULL;
        g_assert_cmpuint(harness_add_to_collection(h, s->collection, NULL, remotes, s->peer, &job), ==, 4096);
        return job;
}

static gboolean has_value(GVariant *aq, guint16 value) {
        gsize n;
        const guint16 *v = g_variant_get_fixed_array(aq, &n, sizeof(guint16));
        for (gsize i = 0; i < n; i++)
                if (v[i] == value)
                        return TRUE;
        return FALSE;
}

guint16 job_state(Harness *h, const char *job) {
        return harness_get_uint16(h, job, IRD_IFACE_JOB, "JobState");
}

guint32 request_state_change(Harness *h, const char *job, guint16 state) {
        g_autoptr(GVariant) reply = harness_call(h, job, IRD_IFACE_JOB, "RequestStateChange",
                                                 g_variant_new("(qt)", state, (guint64) 0));
        guint32 rv;
        g_variant_get(reply, "(u)", &rv);
        g_assert_true(rv == 0 || rv == 4096);
        return rv;
}

GVariant *wait_completed(Harness *h, const char *job, guint16 final_state) {
        g_autoptr(HarnessSignal) done = harness_wait_signal(h, job, IRD_IFACE_JOB, "Completed", NULL, NULL);
        guint64 final_seq = 0;

        harness_sync(h);
        for (GList *l = h->signals.head; l; l = l->next) {
                HarnessSignal *s = l->data;
                if (!g_str_equal(s->path, job))
                        continue;
                if (g_str_equal(s->member, "Completed"))
                        g_error("%s sent Completed twice", job);
                if (!g_str_equal(s->member, "PropertiesChanged"))
                        continue;
                if (s->seq > done->seq) {
                        g_autofree char *text = g_variant_print(s->parameters, TRUE);
                        g_error("%s changed after Completed: %s", job, text);
                }
                if (harness_match_job_state(s, GUINT_TO_POINTER(final_state)))
                        final_seq = s->seq;
        }
        if (final_seq == 0)
                g_error("%s sent Completed without announcing JobState %u first", job, final_state);
        g_assert_cmpuint(final_seq, <, done->seq);
        g_assert_cmpuint(job_state(h, job), ==, final_state);

        gboolean success;
        guint16 code;
        const char *message;
        g_variant_get(done->parameters, "(bq&s)", &success, &code, &message);
        g_assert_cmpint(success, ==, final_state == IRD_JOB_COMPLETED);
        g_test_message("%s Completed(%d, %u, %s)", job, success, code, message);
        return g_variant_ref(done->parameters);
}

void assert_operational_status(Harness *h, const char *job, guint16 health) {
        g_autoptr(GVariant) status = harness_get_property(h, job, IRD_IFACE_JOB, "OperationalStatus");
        g_autofree char *text = g_variant_print(status, FALSE);
        g_assert_cmpstr(g_variant_get_type_string(status), ==, "aq");
        if (!has_value(status, 17) || !has_value(status, health))
                g_error("%s OperationalStatus is %s, expected 17 Completed with %u", job, text, health);
}
