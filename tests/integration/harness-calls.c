/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Calling the service in the integration tests (harness-calls.h). */

#include <stdarg.h>

#include "harness-calls.h"

GVariant *dict_of(const char *key, GVariant *value, ...) {
        GVariantBuilder b;
        va_list ap;

        g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
        va_start(ap, value);
        while (key) {
                g_variant_builder_add(&b, "{sv}", key, value);
                key = va_arg(ap, const char *);
                if (key)
                        value = va_arg(ap, GVariant *);
        }
        va_end(ap);
        return g_variant_builder_end(&b);
}

void assert_fails_unchanged(Harness *h, const char *path, const char *interface, const char *method,
                            GVariant *params, const char *error_name) {
        g_autofree char *before = harness_snapshot(h);
        harness_clear_signals(h);
        g_autofree char *message = harness_call_error(h, path, interface, method, params, error_name);
        g_test_message("%s: %s", method, message);
        g_autofree char *after = harness_snapshot(h);
        g_assert_cmpstr(before, ==, after);
        g_autoptr(GPtrArray) sigs = harness_take_signals(h, NULL, NULL, NULL);
        if (sigs->len > 0) {
                HarnessSignal *s = sigs->pdata[0];
                g_error("failed %s sent %s.%s on %s", method, s->interface, s->member, s->path);
        }
}

gsize managed_objects_size(Harness *h, char **ret_error) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GDBusMessage) call = g_dbus_message_new_method_call(IRD_BUS_NAME, IRD_ROOT,
                                                                      "org.freedesktop.DBus.ObjectManager",
                                                                      "GetManagedObjects");
        g_autoptr(GDBusMessage) reply = g_dbus_connection_send_message_with_reply_sync(
                h->connection, call, G_DBUS_SEND_MESSAGE_FLAGS_NONE, 10000, NULL, NULL, &error);
        gsize size = 0;

        g_assert_no_error(error);
        *ret_error = NULL;
        if (g_dbus_message_get_message_type(reply) == G_DBUS_MESSAGE_TYPE_ERROR) {
                *ret_error = g_strdup(g_dbus_message_get_error_name(reply));
                return 0;
        }
        g_autofree guchar *blob = g_dbus_message_to_blob(reply, &size, G_DBUS_CAPABILITY_FLAGS_NONE, &error);
        g_assert_no_error(error);
        return size;
}

char *collection_state(Harness *h, const char *collection) {
        g_autoptr(GVariant) all = harness_get_all(h, collection, IRD_IFACE_COLLECTION);
        GVariantDict d;
        g_variant_dict_init(&d, all);
        g_variant_dict_remove(&d, "Job");
        g_autoptr(GVariant) rest = g_variant_ref_sink(g_variant_dict_end(&d));
        return g_variant_print(rest, TRUE);
}
