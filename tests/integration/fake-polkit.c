/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The recording polkit authority (fake-polkit.h): one object,
 * /org/freedesktop/PolicyKit1/Authority, with CheckAuthorization and
 * CancelCheckAuthorization, on a connection and main loop of its own thread.
 */

#include <gio/gio.h>

#include "fake-polkit.h"

#define POLKIT_NAME "org.freedesktop.PolicyKit1"
#define POLKIT_PATH "/org/freedesktop/PolicyKit1/Authority"

static const char authority_xml[] =
        "<node>"
        "  <interface name='org.freedesktop.PolicyKit1.Authority'>"
        "    <method name='CheckAuthorization'>"
        "      <arg type='(sa{sv})' name='subject' direction='in'/>"
        "      <arg type='s' name='action_id' direction='in'/>"
        "      <arg type='a{ss}' name='details' direction='in'/>"
        "      <arg type='u' name='flags' direction='in'/>"
        "      <arg type='s' name='cancellation_id' direction='in'/>"
        "      <arg type='(bba{ss})' name='result' direction='out'/>"
        "    </method>"
        "    <method name='CancelCheckAuthorization'>"
        "      <arg type='s' name='cancellation_id' direction='in'/>"
        "    </method>"
        "  </interface>"
        "</node>";

struct FakePolkit {
        char *address;
        gboolean authorized;
        GThread *thread;
        GMainContext *context;
        GMainLoop *loop;

        GMutex lock;            /* guards what follows */
        GCond cond;
        gboolean ready;
        GString *checks;
};

static void on_method_call(GDBusConnection *connection, const char *sender, const char *path, const char *interface,
                           const char *method, GVariant *parameters, GDBusMethodInvocation *invocation,
                           gpointer user_data) {
        FakePolkit *p = user_data;
        const char *action;
        guint32 flags;

        if (!g_str_equal(method, "CheckAuthorization")) {
                g_dbus_method_invocation_return_value(invocation, NULL);
                return;
        }
        g_variant_get(parameters, "(@(sa{sv})&s@a{ss}u&s)", NULL, &action, NULL, &flags, NULL);
        g_mutex_lock(&p->lock);
        g_string_append_printf(p->checks, "%s %u\n", action, flags);
        g_mutex_unlock(&p->lock);
        g_dbus_method_invocation_return_value(invocation,
                                              g_variant_new("((bb@a{ss}))", p->authorized, FALSE,
                                                            g_variant_new_array(G_VARIANT_TYPE("{ss}"), NULL, 0)));
}

static const GDBusInterfaceVTable vtable = { .method_call = on_method_call };

static void set_ready(FakePolkit *p) {
        g_mutex_lock(&p->lock);
        p->ready = TRUE;
        g_cond_signal(&p->cond);
        g_mutex_unlock(&p->lock);
}

static gpointer serve(gpointer user_data) {
        FakePolkit *p = user_data;
        g_autoptr(GError) error = NULL;
        g_autoptr(GDBusNodeInfo) info = g_dbus_node_info_new_for_xml(authority_xml, &error);
        g_autoptr(GDBusConnection) connection = NULL;
        g_autoptr(GVariant) reply = NULL;
        guint32 result;
        guint id;

        g_assert_no_error(error);
        g_main_context_push_thread_default(p->context);
        connection = g_dbus_connection_new_for_address_sync(
                p->address, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                NULL, NULL, &error);
        g_assert_no_error(error);
        id = g_dbus_connection_register_object(connection, POLKIT_PATH, info->interfaces[0], &vtable, p, NULL, &error);
        g_assert_no_error(error);
        /* Synchronously, so the name is ours before the test makes its first call. */
        reply = g_dbus_connection_call_sync(connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                            "org.freedesktop.DBus", "RequestName",
                                            g_variant_new("(su)", POLKIT_NAME, 4 /* DO_NOT_QUEUE */),
                                            G_VARIANT_TYPE("(u)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
        g_assert_no_error(error);
        g_variant_get(reply, "(u)", &result);
        g_assert_cmpuint(result, ==, 1);        /* PRIMARY_OWNER */

        set_ready(p);
        g_main_loop_run(p->loop);

        g_dbus_connection_unregister_object(connection, id);
        g_dbus_connection_close_sync(connection, NULL, NULL);
        g_main_context_pop_thread_default(p->context);
        return NULL;
}

FakePolkit *fake_polkit_start(const char *bus_address, gboolean authorized) {
        FakePolkit *p = g_new0(FakePolkit, 1);

        p->address = g_strdup(bus_address);
        p->authorized = authorized;
        p->context = g_main_context_new();
        p->loop = g_main_loop_new(p->context, FALSE);
        p->checks = g_string_new(NULL);
        g_mutex_init(&p->lock);
        g_cond_init(&p->cond);
        p->thread = g_thread_new("fake-polkit", serve, p);

        g_mutex_lock(&p->lock);
        while (!p->ready)
                g_cond_wait(&p->cond, &p->lock);
        g_mutex_unlock(&p->lock);
        return p;
}

static gboolean quit(gpointer user_data) {
        g_main_loop_quit(user_data);
        return G_SOURCE_REMOVE;
}

void fake_polkit_stop(FakePolkit *p) {
        if (!p)
                return;
        g_main_context_invoke(p->context, quit, p->loop);
        g_thread_join(p->thread);
        g_main_loop_unref(p->loop);
        g_main_context_unref(p->context);
        g_string_free(p->checks, TRUE);
        g_mutex_clear(&p->lock);
        g_cond_clear(&p->cond);
        g_free(p->address);
        g_free(p);
}

char *fake_polkit_take_checks(FakePolkit *p) {
        char *s;

        g_mutex_lock(&p->lock);
        s = g_strdup(p->checks->str);
        g_string_truncate(p->checks, 0);
        g_mutex_unlock(&p->lock);
        return s;
}
