/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Calling the service: method calls that assert their outcome, properties,
 * GetManagedObjects as a comparable snapshot, the same call from an
 * unprivileged client, and the a{sv} and no-change helpers of
 * harness-calls.h.
 */

#include "harness-calls.h"
#include "harness-internal.h"

#include <stdarg.h>

/* ------------------------------------------------------------------------ */
/* calls and properties */

GError *harness_call_result(Harness *h, const char *path, const char *interface, const char *method,
                            GVariant *params, GVariant **ret_reply) {
        GError *error = NULL;
        GVariant *reply = g_dbus_connection_call_sync(h->connection, IRD_BUS_NAME, path, interface, method,
                                                      params, NULL, G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MSEC,
                                                      NULL, &error);
        if (ret_reply)
                *ret_reply = reply;
        else if (reply)
                g_variant_unref(reply);
        return error;
}

GVariant *harness_call(Harness *h, const char *path, const char *interface, const char *method,
                       GVariant *params) {
        GVariant *reply = NULL;
        g_autoptr(GError) error = harness_call_result(h, path, interface, method, params, &reply);

        if (error)
                g_error("%s.%s on %s failed: %s", interface, method, path, error->message);
        return reply;
}

char *harness_call_error(Harness *h, const char *path, const char *interface, const char *method,
                         GVariant *params, const char *error_name) {
        g_autoptr(GVariant) reply = NULL;
        g_autoptr(GError) error = harness_call_result(h, path, interface, method, params, &reply);

        if (!error) {
                g_autofree char *text = g_variant_print(reply, TRUE);
                g_error("%s.%s on %s succeeded with %s, expected %s", interface, method, path, text, error_name);
        }
        g_autofree char *remote = g_dbus_error_get_remote_error(error);
        if (g_strcmp0(remote, error_name) != 0)
                g_error("%s.%s on %s: expected %s, got %s", interface, method, path, error_name,
                        error->message);
        g_dbus_error_strip_remote_error(error);
        g_assert_cmpstr(error->message, !=, "");
        return g_strdup(error->message);
}

GVariant *harness_get_property(Harness *h, const char *path, const char *interface, const char *name) {
        g_autoptr(GVariant) reply = harness_call(h, path, "org.freedesktop.DBus.Properties", "Get",
                                                 g_variant_new("(ss)", interface, name));
        GVariant *value = NULL;
        g_variant_get(reply, "(v)", &value);
        return value;
}

GVariant *harness_get_all(Harness *h, const char *path, const char *interface) {
        g_autoptr(GVariant) reply = harness_call(h, path, "org.freedesktop.DBus.Properties", "GetAll",
                                                 g_variant_new("(s)", interface));
        return g_variant_get_child_value(reply, 0);
}

GVariant *harness_get_managed_objects(Harness *h) {
        g_autoptr(GVariant) reply = harness_call(h, IRD_ROOT, "org.freedesktop.DBus.ObjectManager",
                                                 "GetManagedObjects", NULL);
        g_assert_true(g_variant_is_of_type(reply, G_VARIANT_TYPE("(a{oa{sa{sv}}})")));
        return g_variant_get_child_value(reply, 0);
}

char *harness_snapshot(Harness *h) {
        g_autoptr(GVariant) objects = harness_get_managed_objects(h);
        g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);
        GVariantIter iter;
        const char *path;
        GVariant *interfaces;

        g_variant_iter_init(&iter, objects);
        while (g_variant_iter_next(&iter, "{&o@a{sa{sv}}}", &path, &interfaces)) {
                GVariantIter iiter;
                const char *iface;
                GVariant *props;

                g_variant_iter_init(&iiter, interfaces);
                while (g_variant_iter_next(&iiter, "{&s@a{sv}}", &iface, &props)) {
                        GVariantIter piter;
                        const char *name;
                        GVariant *value;

                        g_variant_iter_init(&piter, props);
                        while (g_variant_iter_next(&piter, "{&sv}", &name, &value)) {
                                if (!g_str_equal(name, "ElapsedTime")) {
                                        g_autofree char *text = g_variant_print(value, TRUE);
                                        g_ptr_array_add(lines, g_strdup_printf("%s %s.%s=%s", path, iface, name,
                                                                               text));
                                }
                                g_variant_unref(value);
                        }
                        g_ptr_array_add(lines, g_strdup_printf("%s %s", path, iface));
                        g_variant_unref(props);
                }
                g_variant_unref(interfaces);
        }
        g_ptr_array_sort(lines, harness_compare_strings);
        g_ptr_array_add(lines, NULL);
        return g_strjoinv("\n", (char **) lines->pdata);
}

char **harness_object_paths(Harness *h) {
        g_autoptr(GVariant) objects = harness_get_managed_objects(h);
        g_autoptr(GPtrArray) paths = g_ptr_array_new();
        GVariantIter iter;
        const char *path;

        g_variant_iter_init(&iter, objects);
        while (g_variant_iter_next(&iter, "{&o@a{sa{sv}}}", &path, NULL))
                g_ptr_array_add(paths, g_strdup(path));
        g_ptr_array_sort(paths, harness_compare_strings);
        g_ptr_array_add(paths, NULL);
        return (char **) g_ptr_array_free(g_steal_pointer(&paths), FALSE);
}

char *harness_introspect(Harness *h, const char *path) {
        g_autoptr(GVariant) reply = harness_call(h, path, "org.freedesktop.DBus.Introspectable", "Introspect",
                                                 NULL);
        char *xml = NULL;
        g_variant_get(reply, "(s)", &xml);
        return xml;
}

static GVariant *get_typed(Harness *h, const char *path, const char *interface, const char *name,
                           const char *type) {
        GVariant *v = harness_get_property(h, path, interface, name);
        if (!g_variant_is_of_type(v, G_VARIANT_TYPE(type)))
                g_error("%s.%s on %s has type %s, expected %s", interface, name, path,
                        g_variant_get_type_string(v), type);
        return v;
}

char *harness_get_string(Harness *h, const char *path, const char *interface, const char *name) {
        g_autoptr(GVariant) v = harness_get_property(h, path, interface, name);
        g_assert_true(g_variant_is_of_type(v, G_VARIANT_TYPE_STRING) ||
                      g_variant_is_of_type(v, G_VARIANT_TYPE_OBJECT_PATH));
        return g_variant_dup_string(v, NULL);
}

guint16 harness_get_uint16(Harness *h, const char *path, const char *interface, const char *name) {
        g_autoptr(GVariant) v = get_typed(h, path, interface, name, "q");
        return g_variant_get_uint16(v);
}

guint64 harness_get_uint64(Harness *h, const char *path, const char *interface, const char *name) {
        g_autoptr(GVariant) v = get_typed(h, path, interface, name, "t");
        return g_variant_get_uint64(v);
}

gboolean harness_get_boolean(Harness *h, const char *path, const char *interface, const char *name) {
        g_autoptr(GVariant) v = get_typed(h, path, interface, name, "b");
        return g_variant_get_boolean(v);
}

char **harness_get_paths(Harness *h, const char *path, const char *interface, const char *name) {
        g_autoptr(GVariant) v = get_typed(h, path, interface, name, "ao");
        return g_variant_dup_objv(v, NULL);
}

/* ------------------------------------------------------------------------ */
/* unprivileged client */

gboolean harness_call_as_nobody(Harness *h, const char *path, const char *interface, const char *method,
                                GVariant *params, char **ret_output) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GVariant) sunk = params ? g_variant_ref_sink(params) : NULL;
        const char *const command[] = { "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                        "gdbus", "call", "--address", h->bus_address, "--dest", IRD_BUS_NAME,
                                        "--object-path", path, "--method", NULL };

        for (size_t i = 0; command[i]; i++)
                g_ptr_array_add(argv, g_strdup(command[i]));
        g_ptr_array_add(argv, g_strdup_printf("%s.%s", interface, method));
        for (gsize i = 0; sunk && i < g_variant_n_children(sunk); i++) {
                g_autoptr(GVariant) child = g_variant_get_child_value(sunk, i);
                g_ptr_array_add(argv, g_variant_print(child, TRUE));
        }
        g_ptr_array_add(argv, NULL);

        g_autoptr(GSubprocess) proc = g_subprocess_newv((const char *const *) argv->pdata,
                                                        G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                                                G_SUBPROCESS_FLAGS_STDERR_MERGE,
                                                        &error);
        g_assert_no_error(error);
        char *output = NULL;
        g_subprocess_communicate_utf8(proc, NULL, NULL, &output, NULL, &error);
        g_assert_no_error(error);
        gboolean ok = g_subprocess_get_if_exited(proc) && g_subprocess_get_exit_status(proc) == 0;
        if (ret_output)
                *ret_output = output;
        else
                g_free(output);
        return ok;
}

/* ------------------------------------------------------------------------ */
/* harness-calls.h */

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
