/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The signal recorder: every signal the service sends below its root is
 * queued in arrival order, and tests take what they expect from the queue,
 * waiting under the watchdog when it has not come yet. Also the waits on a
 * job built from it. See harness.h.
 */

#include "harness-internal.h"

void harness_signal_free(HarnessSignal *s) {
        if (!s)
                return;
        g_free(s->sender);
        g_free(s->path);
        g_free(s->interface);
        g_free(s->member);
        g_clear_pointer(&s->parameters, g_variant_unref);
        g_free(s);
}

void harness_record_signal(GDBusConnection *connection, const char *sender, const char *path,
                           const char *interface, const char *member, GVariant *parameters, gpointer user_data) {
        Harness *h = user_data;

        /* Only the service sends below its root; the bus driver's own signals are noise here. */
        if (!g_str_has_prefix(path, IRD_ROOT))
                return;

        HarnessSignal *s = g_new0(HarnessSignal, 1);
        s->sender = g_strdup(sender);
        s->path = g_strdup(path);
        s->interface = g_strdup(interface);
        s->member = g_strdup(member);
        s->parameters = g_variant_ref(parameters);
        s->received_usec = g_get_monotonic_time();
        s->seq = ++h->next_seq;
        g_queue_push_tail(&h->signals, s);
}

void harness_sync(Harness *h) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = g_dbus_connection_call_sync(h->connection, IRD_BUS_NAME, IRD_ROOT,
                                                                "org.freedesktop.DBus.Peer", "Ping", NULL,
                                                                NULL, G_DBUS_CALL_FLAGS_NONE,
                                                                CALL_TIMEOUT_MSEC, NULL, &error);
        g_assert_no_error(error);
        /*
         * The reply came after every signal the service sent before it, and
         * GDBus queued their dispatch before handing us the reply: draining
         * the context now delivers all of them.
         */
        harness_drain_main_context();
}

void harness_clear_signals(Harness *h) {
        harness_sync(h);
        g_queue_clear_full(&h->signals, (GDestroyNotify) harness_signal_free);
}

static gboolean signal_matches(const HarnessSignal *s, const char *path, const char *interface,
                               const char *member, HarnessSignalPredicate predicate, gpointer user_data) {
        if (path && !g_str_equal(s->path, path))
                return FALSE;
        if (interface && !g_str_equal(s->interface, interface))
                return FALSE;
        if (member && !g_str_equal(s->member, member))
                return FALSE;
        return !predicate || predicate(s, user_data);
}

static HarnessSignal *take_first_match(Harness *h, const char *path, const char *interface,
                                       const char *member, HarnessSignalPredicate predicate,
                                       gpointer user_data) {
        for (GList *l = h->signals.head; l; l = l->next) {
                HarnessSignal *s = l->data;
                if (signal_matches(s, path, interface, member, predicate, user_data)) {
                        g_queue_delete_link(&h->signals, l);
                        return s;
                }
        }
        return NULL;
}

HarnessSignal *harness_wait_signal(Harness *h, const char *path, const char *interface, const char *member,
                                   HarnessSignalPredicate predicate, gpointer user_data) {
        HarnessSignal *found = NULL;
        g_autofree char *what = g_strdup_printf("signal %s %s.%s", path ?: "*", interface ?: "*", member ?: "*");

        WAIT_UNTIL((found = take_first_match(h, path, interface, member, predicate, user_data)), what);
        return found;
}

GPtrArray *harness_take_signals(Harness *h, const char *path, const char *interface, const char *member) {
        GPtrArray *result = g_ptr_array_new_with_free_func((GDestroyNotify) harness_signal_free);
        HarnessSignal *s;

        harness_sync(h);
        while ((s = take_first_match(h, path, interface, member, NULL, NULL)))
                g_ptr_array_add(result, s);
        return result;
}

void harness_assert_no_properties_changed(Harness *h, const char *path) {
        harness_sync(h);
        for (GList *l = h->signals.head; l; l = l->next) {
                HarnessSignal *s = l->data;
                if (g_str_equal(s->path, path) && g_str_equal(s->member, "PropertiesChanged")) {
                        g_autofree char *text = g_variant_print(s->parameters, TRUE);
                        g_error("unexpected PropertiesChanged on %s: %s", path, text);
                }
        }
}

/* An ObjectManager signal named member about object_path (its first argument). */
static gboolean match_object_manager(const HarnessSignal *s, const char *member, const char *object_path) {
        const char *p = NULL;

        if (!g_str_equal(s->member, member))
                return FALSE;
        g_variant_get_child(s->parameters, 0, "&o", &p);
        return g_str_equal(p, object_path);
}

gboolean harness_match_interfaces_added(const HarnessSignal *s, gpointer object_path) {
        return match_object_manager(s, "InterfacesAdded", object_path);
}

gboolean harness_match_interfaces_removed(const HarnessSignal *s, gpointer object_path) {
        return match_object_manager(s, "InterfacesRemoved", object_path);
}

GVariant *harness_properties_changed_dict(const HarnessSignal *s) {
        g_assert_cmpstr(s->member, ==, "PropertiesChanged");
        return g_variant_get_child_value(s->parameters, 1);
}

gboolean harness_match_job_state(const HarnessSignal *s, gpointer state) {
        guint16 v;

        if (!g_str_equal(s->member, "PropertiesChanged"))
                return FALSE;
        g_autoptr(GVariant) dict = harness_properties_changed_dict(s);
        if (!g_variant_lookup(dict, "JobState", "q", &v))
                return FALSE;
        return v == GPOINTER_TO_UINT(state);
}

GVariant *harness_wait_job_completed(Harness *h, const char *job) {
        g_autoptr(HarnessSignal) s = harness_wait_signal(h, job, IRD_IFACE_JOB, "Completed", NULL, NULL);
        g_assert_true(g_variant_is_of_type(s->parameters, G_VARIANT_TYPE("(bqs)")));
        return g_variant_ref(s->parameters);
}

void harness_wait_job_running(Harness *h, const char *job) {
        harness_sync(h);
        if (harness_get_uint16(h, job, IRD_IFACE_JOB, "JobState") == IRD_JOB_RUNNING)
                return;
        g_autoptr(HarnessSignal) s = harness_wait_signal(h, job, "org.freedesktop.DBus.Properties",
                                                         "PropertiesChanged", harness_match_job_state,
                                                         GUINT_TO_POINTER(IRD_JOB_RUNNING));
}

char *harness_job_message_id(Harness *h, const char *job) {
        g_autoptr(GVariant) reply = harness_call(h, job, IRD_IFACE_JOB, "GetError", NULL);
        g_autoptr(GVariant) error = g_variant_get_child_value(reply, 0);
        char *id = NULL;

        if (!g_variant_lookup(error, "MessageID", "s", &id))
                g_error("GetError of %s has no MessageID", job);
        return id;
}
