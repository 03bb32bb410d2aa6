/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The integration fixture: private bus, daemon process, signal recorder,
 * fake peers and the unprivileged client. See harness.h.
 */

#include "harness.h"

#include <glib/gstdio.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define CALL_TIMEOUT_MSEC 20000

/* ------------------------------------------------------------------------ */
/* waiting */

static gboolean watchdog_fired(gpointer what) {
        g_error("watchdog: gave up after %d s waiting for %s", HARNESS_WATCHDOG_SECONDS, (const char *) what);
        return G_SOURCE_REMOVE;
}

/*
 * Everything the tests wait for arrives through the default main context, so
 * iterating it until a condition holds is the one way to wait; the watchdog
 * turns a lost event into an abort instead of a hang.
 */
#define WAIT_UNTIL(cond, what)                                                          \
        do {                                                                            \
                guint _watchdog = g_timeout_add_seconds(HARNESS_WATCHDOG_SECONDS,       \
                                                        watchdog_fired, (gpointer) (what)); \
                while (!(cond))                                                         \
                        g_main_context_iteration(NULL, TRUE);                           \
                g_source_remove(_watchdog);                                             \
        } while (0)

void harness_wait_for_flag(Harness *h, const gboolean *flag) {
        WAIT_UNTIL(*flag, "a flag");
}

static void drain_main_context(void) {
        while (g_main_context_iteration(NULL, FALSE))
                ;
}

/* ------------------------------------------------------------------------ */
/* private bus */

/*
 * A test that aborts must not leave its bus and daemon behind: they would
 * keep the test's output pipe open and the test runner waiting for EOF.
 */
static void die_with_parent(gpointer user_data) {
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
}

/*
 * Open to everyone: the access-denied tests run a client as uid 65534.
 * Receiving is allowed explicitly: dbus-daemon allows what no rule denies,
 * but dbus-broker's launcher denies what no rule allows, name owner changes
 * from the bus itself included.
 */
static const char default_bus_policy[] =
        "  <type>session</type>\n"
        "  <policy context=\"default\">\n"
        "    <allow user=\"*\"/>\n"
        "    <allow own=\"*\"/>\n"
        "    <allow send_destination=\"*\"/>\n"
        "    <allow receive_sender=\"*\"/>\n"
        "  </policy>\n";

/* ------------------------------------------------------------------------ */
/* signal recorder */

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

static void on_signal(GDBusConnection *connection, const char *sender, const char *path,
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
        drain_main_context();
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

gboolean harness_match_interfaces_added(const HarnessSignal *s, gpointer object_path) {
        const char *p = NULL;

        if (!g_str_equal(s->member, "InterfacesAdded"))
                return FALSE;
        g_variant_get_child(s->parameters, 0, "&o", &p);
        return g_str_equal(p, object_path);
}

gboolean harness_match_interfaces_removed(const HarnessSignal *s, gpointer object_path) {
        const char *p = NULL;

        if (!g_str_equal(s->member, "InterfacesRemoved"))
                return FALSE;
        g_variant_get_child(s->parameters, 0, "&o", &p);
        return g_str_equal(p, object_path);
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

/* ------------------------------------------------------------------------ */
/* daemon process */

static void on_name_appeared(GDBusConnection *connection, const char *name, const char *owner,
                             gpointer user_data) {
        Harness *h = user_data;
        g_free(h->daemon_owner);
        h->daemon_owner = g_strdup(owner);
}

static void on_name_vanished(GDBusConnection *connection, const char *name, gpointer user_data) {
        Harness *h = user_data;
        g_clear_pointer(&h->daemon_owner, g_free);
}

typedef struct ExitWatch {
        Harness *h;
        GSubprocess *process;
} ExitWatch;

static void on_daemon_exited(GObject *source, GAsyncResult *result, gpointer user_data) {
        ExitWatch *w = user_data;

        (void) g_subprocess_wait_finish(G_SUBPROCESS(source), result, NULL);
        if (w->h->daemon == w->process)
                w->h->daemon_exited = TRUE;
        g_object_unref(w->process);
        g_free(w);
}

void harness_set_daemon_args(Harness *h, const char *const *args) {
        g_ptr_array_set_size(h->daemon_args, 0);
        for (size_t i = 0; args && args[i]; i++)
                g_ptr_array_add(h->daemon_args, g_strdup(args[i]));
}

void harness_start_daemon(Harness *h) {
        g_autoptr(GError) error = NULL;
        const char *daemon = g_getenv("IRD_DAEMON");

        g_assert_null(h->daemon);
        if (!daemon)
                g_error("IRD_DAEMON is not set; run the tests through meson test");

        g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
        g_ptr_array_add(argv, g_strdup(daemon));
        g_ptr_array_add(argv, g_strdup_printf("--address=%s", h->bus_address));
        g_ptr_array_add(argv, g_strdup_printf("--state-directory=%s", h->state_directory));
        for (guint i = 0; i < h->daemon_args->len; i++)
                g_ptr_array_add(argv, g_strdup(h->daemon_args->pdata[i]));
        g_ptr_array_add(argv, NULL);

        /* Appending keeps the log of every run of this test in one file. */
        int log_fd = open(h->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        g_assert_cmpint(log_fd, >=, 0);
        g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
        g_subprocess_launcher_take_stdout_fd(launcher, dup(log_fd));
        g_subprocess_launcher_take_stderr_fd(launcher, log_fd);
        g_subprocess_launcher_set_child_setup(launcher, die_with_parent, NULL, NULL);

        h->daemon_exited = FALSE;
        h->daemon = g_subprocess_launcher_spawnv(launcher, (const char *const *) argv->pdata, &error);
        g_assert_no_error(error);

        ExitWatch *w = g_new0(ExitWatch, 1);
        w->h = h;
        w->process = g_object_ref(h->daemon);
        g_subprocess_wait_async(h->daemon, NULL, on_daemon_exited, w);

        WAIT_UNTIL(h->daemon_owner || h->daemon_exited, "the daemon to own " IRD_BUS_NAME);
        if (h->daemon_exited) {
                g_autofree char *log = harness_read_log(h);
                g_error("the daemon exited before owning its name (status %d); log:\n%s",
                        g_subprocess_get_status(h->daemon), log);
        }
}

static void wait_daemon_gone(Harness *h) {
        WAIT_UNTIL(h->daemon_exited, "the daemon to exit");
        /* The bus sees the disconnect independently; the next start must not mistake the old owner. */
        WAIT_UNTIL(!h->daemon_owner, "the daemon's name to be released");
}

void harness_stop_daemon(Harness *h) {
        g_assert_nonnull(h->daemon);
        g_subprocess_send_signal(h->daemon, SIGTERM);
        wait_daemon_gone(h);
        if (!g_subprocess_get_if_exited(h->daemon) || g_subprocess_get_exit_status(h->daemon) != 0) {
                g_autofree char *log = harness_read_log(h);
                g_test_message("daemon log:\n%s", log);
                g_test_fail_printf("daemon did not exit cleanly on SIGTERM: wait status 0x%x",
                                   (unsigned) g_subprocess_get_status(h->daemon));
        }
        g_clear_object(&h->daemon);
}

void harness_kill_daemon(Harness *h) {
        g_assert_nonnull(h->daemon);
        g_subprocess_send_signal(h->daemon, SIGKILL);
        wait_daemon_gone(h);
        g_clear_object(&h->daemon);
}

char *harness_read_log(Harness *h) {
        char *contents = NULL;
        if (!g_file_get_contents(h->log_path, &contents, NULL, NULL))
                return g_strdup("");
        return contents;
}

/* ------------------------------------------------------------------------ */
/* fixture */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) remove(path);
        return 0;
}

void harness_setup(Harness *h, gconstpointer data) {
        const HarnessConfig *config = data;
        g_autoptr(GError) error = NULL;

        memset(h, 0, sizeof(*h));
        g_queue_init(&h->signals);
        h->daemon_args = g_ptr_array_new_with_free_func(g_free);
        if (config)
                harness_set_daemon_args(h, config->daemon_args);

        h->tmpdir = g_dir_make_tmp("ird-itest-XXXXXX", &error);
        g_assert_no_error(error);
        /* The bus socket lives here and the nobody client must reach it. */
        g_assert_cmpint(chmod(h->tmpdir, 0755), ==, 0);
        h->state_directory = g_build_filename(h->tmpdir, "state", NULL);
        g_assert_cmpint(g_mkdir(h->state_directory, 0700), ==, 0);
        h->log_path = g_build_filename(h->tmpdir, "daemon.log", NULL);

        harness_bus_start(h, default_bus_policy, NULL, FALSE);

        h->connection = g_dbus_connection_new_for_address_sync(
                h->bus_address,
                G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                NULL, NULL, &error);
        g_assert_no_error(error);
        g_dbus_connection_set_exit_on_close(h->connection, FALSE);

        h->signal_subscription = g_dbus_connection_signal_subscribe(h->connection, NULL, NULL, NULL, NULL, NULL,
                                                                    G_DBUS_SIGNAL_FLAGS_NONE, on_signal, h,
                                                                    NULL);
        h->name_watch = g_bus_watch_name_on_connection(h->connection, IRD_BUS_NAME,
                                                       G_BUS_NAME_WATCHER_FLAGS_NONE, on_name_appeared,
                                                       on_name_vanished, h, NULL);

        harness_start_daemon(h);
        /* Objects announced during start-up are not what any test is about. */
        harness_clear_signals(h);
}

void harness_teardown(Harness *h, gconstpointer data) {
        if (h->daemon) {
                if (h->daemon_exited) {
                        g_autofree char *log = harness_read_log(h);
                        g_test_message("daemon log:\n%s", log);
                        g_test_fail_printf("the daemon died during the test: wait status 0x%x",
                                           (unsigned) g_subprocess_get_status(h->daemon));
                        g_clear_object(&h->daemon);
                } else
                        harness_stop_daemon(h);
        }
        if (g_test_failed()) {
                g_autofree char *log = harness_read_log(h);
                g_autofree char *bus_log = harness_bus_read_log(h);
                g_test_message("daemon log:\n%s", log);
                if (*bus_log)
                        g_test_message("%s log:\n%s", harness_bus_name(), bus_log);
        }

        g_bus_unwatch_name(h->name_watch);
        g_dbus_connection_signal_unsubscribe(h->connection, h->signal_subscription);
        g_dbus_connection_close_sync(h->connection, NULL, NULL);
        g_clear_object(&h->connection);
        drain_main_context();
        g_queue_clear_full(&h->signals, (GDestroyNotify) harness_signal_free);

        harness_bus_stop(h);

        (void) nftw(h->tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);

        g_free(h->daemon_owner);
        g_ptr_array_unref(h->daemon_args);
        g_free(h->tmpdir);
        g_free(h->state_directory);
        g_free(h->log_path);
        g_free(h->bus_log_path);
        g_free(h->bus_address);
}

/* ------------------------------------------------------------------------ */
/* calls */

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

static gint compare_strings(gconstpointer a, gconstpointer b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
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
        g_ptr_array_sort(lines, compare_strings);
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
        g_ptr_array_sort(paths, compare_strings);
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
/* domain helpers */

static char *join_paths(const char *const *paths) {
        g_autoptr(GString) s = g_string_new("[");
        for (size_t i = 0; paths && paths[i]; i++)
                g_string_append_printf(s, "%s%s", i ? ", " : "", paths[i]);
        g_string_append_c(s, ']');
        return g_strdup(s->str);
}

void harness_assert_strv_paths(char **actual, const char *const *expected) {
        g_autofree char *a = join_paths((const char *const *) actual);
        g_autofree char *e = join_paths(expected);
        g_assert_cmpstr(a, ==, e);
}

void harness_assert_paths(GVariant *ao, const char *const *expected) {
        g_assert_true(g_variant_is_of_type(ao, G_VARIANT_TYPE("ao")));
        g_autofree const char **actual = g_variant_get_objv(ao, NULL);
        harness_assert_strv_paths((char **) actual, expected);
}

void harness_sort_paths(const char **paths, size_t n) {
        qsort(paths, n, sizeof(char *), compare_strings);
}

GVariant *harness_paths(const char *const *paths) {
        GVariantBuilder b;

        g_variant_builder_init(&b, G_VARIANT_TYPE("ao"));
        for (size_t i = 0; paths && paths[i]; i++)
                g_variant_builder_add(&b, "o", paths[i]);
        return g_variant_builder_end(&b);
}

static char *expect_sync_object(GVariant *reply) {
        guint32 rv;
        const char *path;

        g_variant_get(reply, "(u&o)", &rv, &path);
        g_assert_cmpuint(rv, ==, 0);
        g_assert_cmpstr(path, !=, "/");
        return g_strdup(path);
}

char *harness_add_peer(Harness *h, const char *name, const char *element_name) {
        GVariantBuilder props;

        g_variant_builder_init(&props, G_VARIANT_TYPE("a{sv}"));
        if (element_name)
                g_variant_builder_add(&props, "{sv}", "ElementName", g_variant_new_string(element_name));
        g_autoptr(GVariant) reply = harness_call(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddPeerSystem",
                                                 g_variant_new("(sa{sv})", name, &props));
        return expect_sync_object(reply);
}

char *harness_add_access_point(Harness *h, const char *system, const char *address, guint16 port,
                               const char *target_name) {
        GVariantBuilder props;

        g_variant_builder_init(&props, G_VARIANT_TYPE("a{sv}"));
        g_variant_builder_add(&props, "{sv}", "Address", g_variant_new_string(address));
        if (port)
                g_variant_builder_add(&props, "{sv}", "Port", g_variant_new_uint16(port));
        if (target_name)
                g_variant_builder_add(&props, "{sv}", "TargetName", g_variant_new_string(target_name));
        g_autoptr(GVariant) reply = harness_call(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddServiceAccessPoint",
                                                 g_variant_new("(oa{sv})", system, &props));
        return expect_sync_object(reply);
}

char *harness_add_secret(Harness *h, const char *access_point, const char *username, const char *secret) {
        GVariantBuilder props;

        g_variant_builder_init(&props, G_VARIANT_TYPE("a{sv}"));
        g_variant_builder_add(&props, "{sv}", "Username", g_variant_new_string(username));
        g_variant_builder_add(&props, "{sv}", "Secret", g_variant_new_string(secret));
        g_autoptr(GVariant) reply = harness_call(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddSharedSecret",
                                                 g_variant_new("(a{sv}o)", &props, access_point));
        return expect_sync_object(reply);
}

char *harness_add_mutual_secret(Harness *h, const char *access_point, const char *username, const char *secret,
                                const char *mutual_username, const char *mutual_secret) {
        GVariantBuilder props;

        g_variant_builder_init(&props, G_VARIANT_TYPE("a{sv}"));
        g_variant_builder_add(&props, "{sv}", "Username", g_variant_new_string(username));
        g_variant_builder_add(&props, "{sv}", "Secret", g_variant_new_string(secret));
        g_variant_builder_add(&props, "{sv}", "MutualUsername", g_variant_new_string(mutual_username));
        g_variant_builder_add(&props, "{sv}", "MutualSecret", g_variant_new_string(mutual_secret));
        g_autoptr(GVariant) reply = harness_call(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddSharedSecret",
                                                 g_variant_new("(a{sv}o)", &props, access_point));
        return expect_sync_object(reply);
}

char *harness_create_collection(Harness *h, const char *element_name, const char *const *local_aps,
                                const char *const *remote_aps, const char *remote_system) {
        g_autoptr(GVariant) reply = harness_call(
                h, IRD_ROOT, IRD_IFACE_SERVICE, "CreateRemoteReplicationCollection",
                g_variant_new("(s@ao@aoobb)", element_name, harness_paths(local_aps), harness_paths(remote_aps),
                              remote_system ?: "/", TRUE, FALSE));
        guint32 rv;
        const char *job, *collection;

        g_variant_get(reply, "(u&o&o)", &rv, &job, &collection);
        g_assert_cmpuint(rv, ==, 0);
        g_assert_cmpstr(job, ==, "/");
        g_assert_cmpstr(collection, !=, "/");
        return g_strdup(collection);
}

static guint32 change_collection(Harness *h, const char *method, const char *collection,
                                 const char *const *local_aps, const char *const *remote_aps,
                                 const char *remote_system, char **ret_job) {
        g_autoptr(GVariant) reply = harness_call(
                h, IRD_ROOT, IRD_IFACE_SERVICE, method,
                g_variant_new("(@ao@aooo)", harness_paths(local_aps), harness_paths(remote_aps),
                              remote_system ?: "/", collection));
        guint32 rv;
        const char *job;

        g_variant_get(reply, "(u&o)", &rv, &job);
        if (rv == 0)
                g_assert_cmpstr(job, ==, "/");
        else {
                g_assert_cmpuint(rv, ==, 4096);
                g_assert_true(g_str_has_prefix(job, IRD_ROOT "/job/"));
        }
        if (ret_job)
                *ret_job = g_strdup(job);
        return rv;
}

guint32 harness_add_to_collection(Harness *h, const char *collection, const char *const *local_aps,
                                  const char *const *remote_aps, const char *remote_system, char **ret_job) {
        return change_collection(h, "AddToRemoteReplicationCollection", collection, local_aps, remote_aps,
                                 remote_system, ret_job);
}

guint32 harness_remove_from_collection(Harness *h, const char *collection, const char *const *local_aps,
                                       const char *const *remote_aps, const char *remote_system,
                                       char **ret_job) {
        return change_collection(h, "RemoveFromRemoteReplicationCollection", collection, local_aps,
                                 remote_aps, remote_system, ret_job);
}

/* ------------------------------------------------------------------------ */
/* peers */

struct HarnessPeer {
        HarnessPeerKind kind;
        char *address;
        guint16 port;
        int listen_fd;
        int filler_fd;
        int wake_fds[2];
        GThread *thread;
        char **target_names;
        gint connections;
        GMutex lock;
        char *last_source;
        char *chap_username;
        char *chap_secret;
        char *mutual_username;          /* NULL: the target does not demand mutual CHAP */
        char *mutual_secret;
        unsigned quirks;                /* HarnessPeerQuirk */
        gint *logouts;                  /* shared with connection threads, which may outlive the peer */
};

static socklen_t make_sockaddr(const char *address, guint16 port, struct sockaddr_storage *ss) {
        memset(ss, 0, sizeof(*ss));
        if (strchr(address, ':')) {
                struct sockaddr_in6 *sa6 = (struct sockaddr_in6 *) ss;
                sa6->sin6_family = AF_INET6;
                sa6->sin6_port = htons(port);
                g_assert_cmpint(inet_pton(AF_INET6, address, &sa6->sin6_addr), ==, 1);
                return sizeof(*sa6);
        }
        struct sockaddr_in *sa = (struct sockaddr_in *) ss;
        sa->sin_family = AF_INET;
        sa->sin_port = htons(port);
        g_assert_cmpint(inet_pton(AF_INET, address, &sa->sin_addr), ==, 1);
        return sizeof(*sa);
}

static guint16 sockaddr_port(const struct sockaddr_storage *ss) {
        if (ss->ss_family == AF_INET6)
                return ntohs(((const struct sockaddr_in6 *) ss)->sin6_port);
        return ntohs(((const struct sockaddr_in *) ss)->sin_port);
}

static char *sockaddr_address(const struct sockaddr_storage *ss) {
        char buf[INET6_ADDRSTRLEN];
        if (ss->ss_family == AF_INET6)
                inet_ntop(AF_INET6, &((const struct sockaddr_in6 *) ss)->sin6_addr, buf, sizeof(buf));
        else
                inet_ntop(AF_INET, &((const struct sockaddr_in *) ss)->sin_addr, buf, sizeof(buf));
        return g_strdup(buf);
}

/* Binds a TCP socket to address with an ephemeral port. */
static int bind_ephemeral(const char *address, guint16 *ret_port) {
        struct sockaddr_storage ss;
        socklen_t len = make_sockaddr(address, 0, &ss);
        int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        g_assert_cmpint(fd, >=, 0);
        if (bind(fd, (struct sockaddr *) &ss, len) < 0)
                g_error("bind to %s: %s", address, g_strerror(errno));
        len = sizeof(ss);
        g_assert_cmpint(getsockname(fd, (struct sockaddr *) &ss, &len), ==, 0);
        *ret_port = sockaddr_port(&ss);
        return fd;
}

gboolean harness_ipv6_loopback_usable(void) {
        struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
        int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
        gboolean ok;

        if (fd < 0)
                return FALSE;
        ok = bind(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0;
        close(fd);
        return ok;
}

/*
 * A minimal iSCSI target (RFC 7143): enough of Login, Text (SendTargets),
 * NOP and Logout for a discovery session and a normal session, without
 * authentication, with one-way CHAP (RFC 1994, MD5) or with mutual CHAP,
 * and with the quirks of HarnessPeerQuirk. Each connection runs in its own
 * thread so a slow client never holds up another probe.
 */
typedef struct TargetConnection {
        int fd;
        char **target_names;
        char *portal;                   /* "address:port,1" for TargetAddress */
        char *chap_username;            /* NULL: no authentication */
        char *chap_secret;
        char *mutual_username;          /* NULL: no mutual CHAP */
        char *mutual_secret;
        unsigned quirks;
        gint *logouts;                  /* a reference to the peer's counter */
} TargetConnection;

/* CHAP_R as the initiator must compute it: MD5(id || secret || challenge), "0x" + hex. */
static char *chap_expected_response(guint8 id, const char *secret, const guint8 *challenge, size_t len) {
        g_autoptr(GChecksum) md5 = g_checksum_new(G_CHECKSUM_MD5);
        g_checksum_update(md5, &id, 1);
        g_checksum_update(md5, (const guchar *) secret, strlen(secret));
        g_checksum_update(md5, challenge, len);
        return g_strconcat("0x", g_checksum_get_string(md5), NULL);
}

#define BHS_SIZE 48
#define ISCSI_OP_NOP_OUT 0x00
#define ISCSI_OP_LOGIN 0x03
#define ISCSI_OP_TEXT 0x04
#define ISCSI_OP_LOGOUT 0x06

static gboolean read_full(int fd, void *buf, size_t n) {
        guint8 *p = buf;
        while (n > 0) {
                ssize_t r = read(fd, p, n);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        return FALSE;
                p += r;
                n -= (size_t) r;
        }
        return TRUE;
}

static gboolean write_full(int fd, const void *buf, size_t n) {
        const guint8 *p = buf;
        while (n > 0) {
                ssize_t r = send(fd, p, n, MSG_NOSIGNAL);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        return FALSE;
                p += r;
                n -= (size_t) r;
        }
        return TRUE;
}

static guint32 get_be32(const guint8 *p) {
        return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

static void put_be32(guint8 *p, guint32 v) {
        p[0] = v >> 24;
        p[1] = v >> 16;
        p[2] = v >> 8;
        p[3] = v;
}

static gboolean send_pdu(int fd, guint8 bhs[BHS_SIZE], const GString *data) {
        static const guint8 zeros[4] = { 0 };
        size_t len = data ? data->len : 0;

        bhs[5] = len >> 16;
        bhs[6] = len >> 8;
        bhs[7] = len;
        if (!write_full(fd, bhs, BHS_SIZE))
                return FALSE;
        if (len > 0 && !write_full(fd, data->str, len))
                return FALSE;
        return write_full(fd, zeros, (4 - len % 4) % 4);
}

/* As send_pdu(), but the header and the first bytes of the data go first, the rest after a pause. */
static gboolean send_pdu_trickled(int fd, guint8 bhs[BHS_SIZE], const GString *data) {
        static const guint8 zeros[4] = { 0 };
        size_t len = data ? data->len : 0, head = MIN(len, 4);
        g_autofree guint8 *first = g_malloc(BHS_SIZE + head);

        if (len == 0)
                return send_pdu(fd, bhs, data);
        bhs[5] = len >> 16;
        bhs[6] = len >> 8;
        bhs[7] = len;
        memcpy(first, bhs, BHS_SIZE);
        memcpy(first + BHS_SIZE, data->str, head);
        if (!write_full(fd, first, BHS_SIZE + head))
                return FALSE;
        /* A slow sender: the initiator gets to see the first piece alone. */
        g_usleep(100 * G_TIME_SPAN_MILLISECOND);
        if (!write_full(fd, data->str + head, len - head))
                return FALSE;
        return write_full(fd, zeros, (4 - len % 4) % 4);
}

static void append_key(GString *out, const char *key, const char *value) {
        g_string_append_printf(out, "%s=%s", key, value);
        g_string_append_c(out, '\0');
}

/* Parses "key=value\0…" into a list of "key=value" strings. */
static char **parse_keys(const guint8 *data, size_t len) {
        g_autoptr(GStrvBuilder) b = g_strv_builder_new();
        size_t start = 0;

        for (size_t i = 0; i <= len; i++)
                if (i == len || data[i] == '\0') {
                        if (i > start) {
                                g_autofree char *key = g_strndup((const char *) data + start, i - start);
                                g_strv_builder_add(b, key);
                        }
                        start = i + 1;
                }
        return g_strv_builder_end(b);
}

/* The bytes of a CHAP_C value ("0x" + hex); FALSE when it is not one. */
static gboolean chap_challenge_parse(const char *value, GByteArray *ret) {
        if (!g_str_has_prefix(value, "0x") || strlen(value) % 2 != 0 || strlen(value) < 4)
                return FALSE;
        for (const char *c = value + 2; *c; c += 2) {
                int hi = g_ascii_xdigit_value(c[0]), lo = g_ascii_xdigit_value(c[1]);
                if (hi < 0 || lo < 0)
                        return FALSE;
                guint8 b = (guint8) (hi << 4 | lo);
                g_byte_array_append(ret, &b, 1);
        }
        return TRUE;
}

/* Picks our answer for a negotiated list: "None" when offered, else the first choice. */
static char *choose_value(const char *list) {
        g_auto(GStrv) choices = g_strsplit(list, ",", -1);
        for (size_t i = 0; choices[i]; i++)
                if (g_str_equal(choices[i], "None"))
                        return g_strdup("None");
        return g_strdup(choices[0] ? choices[0] : "");
}

static gpointer target_connection_thread(gpointer data) {
        TargetConnection *c = data;
        guint32 stat_sn = 1;
        /* RFC 7143: SessionType defaults to Normal. */
        gboolean normal_session = TRUE;
        gboolean authenticated = !c->chap_username;
        guint8 chap_id = 0;
        guint8 challenge[16];
        g_autofree char *chap_name = NULL, *chap_response = NULL;
        /* The initiator's challenge to us, for mutual CHAP. */
        g_autoptr(GByteArray) mutual_challenge = g_byte_array_new();
        int mutual_id = -1;
        g_autofree char *session_target = NULL;
        g_autofree guint8 *payload = NULL;

        for (;;) {
                guint8 bhs[BHS_SIZE], reply[BHS_SIZE] = { 0 };
                g_autoptr(GString) out = g_string_new(NULL);

                if (!read_full(c->fd, bhs, BHS_SIZE))
                        break;
                size_t ahs = (size_t) bhs[4] * 4;
                size_t dlen = ((size_t) bhs[5] << 16) | ((size_t) bhs[6] << 8) | bhs[7];
                size_t padded = ahs + dlen + (4 - dlen % 4) % 4;
                g_free(payload);
                payload = g_malloc(padded + 1);
                if (padded > 0 && !read_full(c->fd, payload, padded))
                        break;
                g_auto(GStrv) keys = parse_keys(payload + ahs, dlen);

                guint8 opcode = bhs[0] & 0x3f;
                guint32 cmd_sn = get_be32(bhs + 24);
                /* Immediate commands do not advance CmdSN (RFC 7143 3.2.2.1). */
                guint32 next_cmd_sn = (bhs[0] & 0x40) ? cmd_sn : cmd_sn + 1;
                memcpy(reply + 16, bhs + 16, 4); /* Initiator Task Tag */
                put_be32(reply + 24, stat_sn++);

                if (opcode == ISCSI_OP_LOGIN) {
                        guint8 flags = bhs[1];
                        gboolean transit = flags & 0x80;
                        guint8 csg = (flags >> 2) & 3, nsg = flags & 3;
                        guint8 status_class = 0, status_detail = 0;

                        for (size_t i = 0; keys[i]; i++) {
                                char *eq = strchr(keys[i], '=');
                                if (!eq)
                                        continue;
                                *eq = '\0';
                                const char *key = keys[i], *value = eq + 1;
                                if (g_str_equal(key, "SessionType"))
                                        normal_session = g_str_equal(value, "Normal");
                                else if (g_str_equal(key, "TargetName")) {
                                        g_free(session_target);
                                        session_target = g_strdup(value);
                                } else if (g_str_equal(key, "AuthMethod")) {
                                        g_auto(GStrv) offered = g_strsplit(value, ",", -1);
                                        const char *want = c->chap_username ? "CHAP" : "None";
                                        if (!g_strv_contains((const char *const *) offered, want)) {
                                                status_class = 2;
                                                status_detail = 1; /* Authentication Failure */
                                        }
                                        append_key(out, key, want);
                                } else if (g_str_equal(key, "CHAP_A")) {
                                        g_auto(GStrv) algorithms = g_strsplit(value, ",", -1);
                                        if (!c->chap_username ||
                                            !g_strv_contains((const char *const *) algorithms, "5")) {
                                                status_class = 2;
                                                status_detail = 1;
                                                continue;
                                        }
                                        chap_id = (guint8) g_random_int_range(0, 256);
                                        for (size_t k = 0; k < sizeof(challenge); k++)
                                                challenge[k] = (guint8) g_random_int_range(0, 256);
                                        g_autofree char *id_text = g_strdup_printf("%u", chap_id);
                                        g_autoptr(GString) hex = g_string_new("0x");
                                        for (size_t k = 0; k < sizeof(challenge); k++)
                                                g_string_append_printf(hex, "%02x", challenge[k]);
                                        append_key(out, "CHAP_A", "5");
                                        append_key(out, "CHAP_I", id_text);
                                        append_key(out, "CHAP_C", hex->str);
                                } else if (g_str_equal(key, "CHAP_N")) {
                                        g_free(chap_name);
                                        chap_name = g_strdup(value);
                                } else if (g_str_equal(key, "CHAP_R")) {
                                        g_free(chap_response);
                                        chap_response = g_ascii_strdown(value, -1);
                                } else if (g_str_equal(key, "CHAP_I") && c->mutual_username) {
                                        mutual_id = atoi(value);
                                } else if (g_str_equal(key, "CHAP_C") && c->mutual_username) {
                                        g_byte_array_set_size(mutual_challenge, 0);
                                        if (!chap_challenge_parse(value, mutual_challenge)) {
                                                status_class = 2;
                                                status_detail = 1;
                                        }
                                } else if (g_str_equal(key, "CHAP_I") || g_str_equal(key, "CHAP_C")) {
                                        /* Mutual CHAP is not offered by this target. */
                                        status_class = 2;
                                        status_detail = 1;
                                } else if (!g_str_equal(key, "InitiatorName") &&
                                           !g_str_equal(key, "InitiatorAlias")) {
                                        g_autofree char *v = choose_value(value);
                                        append_key(out, key, v);
                                }
                        }
                        if (c->chap_username && chap_response) {
                                g_autofree char *expected = chap_expected_response(chap_id, c->chap_secret,
                                                                                   challenge, sizeof(challenge));
                                if (g_strcmp0(chap_name, c->chap_username) == 0 &&
                                    g_str_equal(chap_response, expected))
                                        authenticated = TRUE;
                                else {
                                        status_class = 2;
                                        status_detail = 1;
                                }
                                g_clear_pointer(&chap_response, g_free);
                                /* A target that demands mutual CHAP refuses an initiator that does not challenge it. */
                                if (authenticated && c->mutual_username) {
                                        if (mutual_id < 0 || mutual_challenge->len == 0) {
                                                authenticated = FALSE;
                                                status_class = 2;
                                                status_detail = 1;
                                        } else {
                                                g_autofree char *answer = chap_expected_response(
                                                        (guint8) mutual_id, c->mutual_secret, mutual_challenge->data,
                                                        mutual_challenge->len);
                                                append_key(out, "CHAP_N", c->mutual_username);
                                                append_key(out, "CHAP_R", answer);
                                        }
                                }
                        }
                        /* Nobody leaves the security stage without having authenticated. */
                        if (!authenticated && csg != 0) {
                                status_class = 2;
                                status_detail = 1;
                        }
                        if (!authenticated)
                                transit = FALSE;
                        if (normal_session &&
                            (!session_target || !c->target_names ||
                             !g_strv_contains((const char *const *) c->target_names, session_target))) {
                                status_class = 2;
                                status_detail = 3; /* Not Found */
                        }

                        reply[0] = 0x23;
                        reply[1] = transit ? (0x80 | (csg << 2) | nsg) : (csg << 2);
                        memcpy(reply + 8, bhs + 8, 6); /* ISID */
                        if (transit && nsg == 3)
                                reply[15] = 1; /* TSIH */
                        put_be32(reply + 28, cmd_sn);
                        put_be32(reply + 32, cmd_sn + 8);
                        reply[36] = status_class;
                        reply[37] = status_detail;
                        gboolean sent = (c->quirks & HARNESS_QUIRK_LOGIN_TRICKLE)
                                                ? send_pdu_trickled(c->fd, reply, status_class ? NULL : out)
                                                : send_pdu(c->fd, reply, status_class ? NULL : out);
                        if (!sent || status_class)
                                break;
                } else if (opcode == ISCSI_OP_TEXT && (c->quirks & HARNESS_QUIRK_TEXT_OVERSIZED)) {
                        /* The header alone, announcing 16 MiB - 1; the connection stays open. */
                        reply[0] = 0x24;
                        reply[1] = 0x80;
                        reply[5] = reply[6] = reply[7] = 0xff;
                        put_be32(reply + 20, 0xffffffff);
                        put_be32(reply + 28, next_cmd_sn);
                        put_be32(reply + 32, cmd_sn + 8);
                        if (!write_full(c->fd, reply, BHS_SIZE))
                                break;
                } else if (opcode == ISCSI_OP_TEXT) {
                        for (size_t i = 0; keys[i]; i++)
                                if (g_str_has_prefix(keys[i], "SendTargets="))
                                        for (size_t j = 0; c->target_names && c->target_names[j]; j++) {
                                                append_key(out, "TargetName", c->target_names[j]);
                                                append_key(out, "TargetAddress", c->portal);
                                        }
                        reply[0] = 0x24;
                        reply[1] = 0x80;
                        put_be32(reply + 20, 0xffffffff);
                        put_be32(reply + 28, (c->quirks & HARNESS_QUIRK_CMDSN_SLIP) ? cmd_sn + 1 : next_cmd_sn);
                        put_be32(reply + 32, cmd_sn + 8);
                        if (!send_pdu(c->fd, reply, out))
                                break;
                } else if (opcode == ISCSI_OP_NOP_OUT) {
                        if (get_be32(bhs + 16) == 0xffffffff)
                                continue;
                        reply[0] = 0x20;
                        reply[1] = 0x80;
                        put_be32(reply + 20, 0xffffffff);
                        put_be32(reply + 28, next_cmd_sn);
                        put_be32(reply + 32, cmd_sn + 8);
                        if (!send_pdu(c->fd, reply, NULL))
                                break;
                } else if (opcode == ISCSI_OP_LOGOUT) {
                        g_atomic_int_inc(c->logouts);
                        if (c->quirks & HARNESS_QUIRK_LOGOUT_CLOSES)
                                break;
                        if (c->quirks & HARNESS_QUIRK_LOGOUT_SILENT)
                                continue;       /* until the initiator gives up and closes */
                        reply[0] = 0x26;
                        reply[1] = 0x80;
                        put_be32(reply + 28, next_cmd_sn);
                        put_be32(reply + 32, cmd_sn + 8);
                        (void) send_pdu(c->fd, reply, NULL);
                        break;
                } else
                        break;
        }

        close(c->fd);
        g_strfreev(c->target_names);
        g_free(c->portal);
        g_free(c->chap_username);
        g_free(c->chap_secret);
        g_free(c->mutual_username);
        g_free(c->mutual_secret);
        g_atomic_rc_box_release(c->logouts);
        g_free(c);
        return NULL;
}

static gpointer target_accept_thread(gpointer data) {
        HarnessPeer *p = data;

        for (;;) {
                struct pollfd fds[2] = {
                        { .fd = p->listen_fd, .events = POLLIN },
                        { .fd = p->wake_fds[0], .events = POLLIN },
                };
                if (poll(fds, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (fds[1].revents)
                        break;
                struct sockaddr_storage ss;
                socklen_t len = sizeof(ss);
                int fd = accept4(p->listen_fd, (struct sockaddr *) &ss, &len, SOCK_CLOEXEC);
                if (fd < 0)
                        continue;

                g_mutex_lock(&p->lock);
                g_free(p->last_source);
                p->last_source = sockaddr_address(&ss);
                g_mutex_unlock(&p->lock);
                g_atomic_int_inc(&p->connections);

                /* A stuck client must not keep a thread forever. */
                struct timeval tv = { .tv_sec = 10 };
                (void) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

                TargetConnection *c = g_new0(TargetConnection, 1);
                c->fd = fd;
                c->target_names = g_strdupv(p->target_names);
                g_mutex_lock(&p->lock);
                c->chap_username = g_strdup(p->chap_username);
                c->chap_secret = g_strdup(p->chap_secret);
                c->mutual_username = g_strdup(p->mutual_username);
                c->mutual_secret = g_strdup(p->mutual_secret);
                c->quirks = p->quirks;
                g_mutex_unlock(&p->lock);
                c->logouts = g_atomic_rc_box_acquire(p->logouts);
                c->portal = strchr(p->address, ':') ? g_strdup_printf("[%s]:%u,1", p->address, p->port)
                                                    : g_strdup_printf("%s:%u,1", p->address, p->port);
                g_thread_unref(g_thread_new("target-connection", target_connection_thread, c));
        }
        return NULL;
}

HarnessPeer *harness_peer_new(HarnessPeerKind kind, const char *address, const char *const *target_names) {
        HarnessPeer *p = g_new0(HarnessPeer, 1);

        p->kind = kind;
        p->address = g_strdup(address);
        p->listen_fd = -1;
        p->filler_fd = -1;
        p->wake_fds[0] = p->wake_fds[1] = -1;
        p->target_names = g_strdupv((char **) target_names);
        p->logouts = g_atomic_rc_box_new0(gint);
        g_mutex_init(&p->lock);

        switch (kind) {
        case HARNESS_PEER_REFUSING: {
                /* A port that was just ours and is now closed: nobody listens there. */
                int fd = bind_ephemeral(address, &p->port);
                close(fd);
                break;
        }
        case HARNESS_PEER_BLACK_HOLE: {
                /*
                 * Linux admits backlog + 1 connections to the accept queue
                 * and drops SYNs once it is full, so with backlog 0 and one
                 * never-accepted connection in the queue every later connect
                 * hangs in SYN_SENT until the client gives up.
                 */
                p->listen_fd = bind_ephemeral(address, &p->port);
                g_assert_cmpint(listen(p->listen_fd, 0), ==, 0);
                struct sockaddr_storage ss;
                socklen_t len = make_sockaddr(address, p->port, &ss);
                p->filler_fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
                g_assert_cmpint(p->filler_fd, >=, 0);
                if (connect(p->filler_fd, (struct sockaddr *) &ss, len) < 0)
                        g_error("filling the black hole's accept queue: %s", g_strerror(errno));
                break;
        }
        case HARNESS_PEER_TARGET:
                p->listen_fd = bind_ephemeral(address, &p->port);
                g_assert_cmpint(listen(p->listen_fd, 64), ==, 0);
                g_assert_cmpint(pipe2(p->wake_fds, O_CLOEXEC), ==, 0);
                p->thread = g_thread_new("target-accept", target_accept_thread, p);
                break;
        }
        return p;
}

void harness_peer_free(HarnessPeer *p) {
        if (!p)
                return;
        if (p->thread) {
                (void) write(p->wake_fds[1], "x", 1);
                g_thread_join(p->thread);
        }
        if (p->wake_fds[0] >= 0)
                close(p->wake_fds[0]);
        if (p->wake_fds[1] >= 0)
                close(p->wake_fds[1]);
        if (p->filler_fd >= 0)
                close(p->filler_fd);
        if (p->listen_fd >= 0)
                close(p->listen_fd);
        g_strfreev(p->target_names);
        g_free(p->last_source);
        g_free(p->chap_username);
        g_free(p->chap_secret);
        g_free(p->mutual_username);
        g_free(p->mutual_secret);
        g_atomic_rc_box_release(p->logouts);
        g_mutex_clear(&p->lock);
        g_free(p->address);
        g_free(p);
}

void harness_peer_require_chap(HarnessPeer *p, const char *username, const char *secret) {
        g_mutex_lock(&p->lock);
        g_free(p->chap_username);
        g_free(p->chap_secret);
        p->chap_username = g_strdup(username);
        p->chap_secret = g_strdup(secret);
        g_mutex_unlock(&p->lock);
}

void harness_peer_require_mutual_chap(HarnessPeer *p, const char *username, const char *secret,
                                      const char *mutual_username, const char *mutual_secret) {
        harness_peer_require_chap(p, username, secret);
        g_mutex_lock(&p->lock);
        g_free(p->mutual_username);
        g_free(p->mutual_secret);
        p->mutual_username = g_strdup(mutual_username);
        p->mutual_secret = g_strdup(mutual_secret);
        g_mutex_unlock(&p->lock);
}

void harness_peer_set_quirks(HarnessPeer *p, unsigned quirks) {
        g_mutex_lock(&p->lock);
        p->quirks = quirks;
        g_mutex_unlock(&p->lock);
}

guint harness_peer_logouts(const HarnessPeer *p) {
        return (guint) g_atomic_int_get(p->logouts);
}

guint16 harness_peer_port(const HarnessPeer *p) {
        return p->port;
}

const char *harness_peer_address(const HarnessPeer *p) {
        return p->address;
}

guint harness_peer_connections(const HarnessPeer *p) {
        return (guint) g_atomic_int_get(&p->connections);
}

char *harness_peer_last_source(const HarnessPeer *p) {
        HarnessPeer *mp = (HarnessPeer *) p;
        char *s;

        g_mutex_lock(&mp->lock);
        s = g_strdup(mp->last_source);
        g_mutex_unlock(&mp->lock);
        return s;
}

/* ------------------------------------------------------------------------ */
/* unprivileged client */

gboolean harness_call_as_nobody(Harness *h, const char *path, const char *interface, const char *method,
                                GVariant *params, char **ret_output) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GVariant) sunk = params ? g_variant_ref_sink(params) : NULL;

        g_ptr_array_add(argv, g_strdup("setpriv"));
        g_ptr_array_add(argv, g_strdup("--reuid=65534"));
        g_ptr_array_add(argv, g_strdup("--regid=65534"));
        g_ptr_array_add(argv, g_strdup("--clear-groups"));
        g_ptr_array_add(argv, g_strdup("gdbus"));
        g_ptr_array_add(argv, g_strdup("call"));
        g_ptr_array_add(argv, g_strdup("--address"));
        g_ptr_array_add(argv, g_strdup(h->bus_address));
        g_ptr_array_add(argv, g_strdup("--dest"));
        g_ptr_array_add(argv, g_strdup(IRD_BUS_NAME));
        g_ptr_array_add(argv, g_strdup("--object-path"));
        g_ptr_array_add(argv, g_strdup(path));
        g_ptr_array_add(argv, g_strdup("--method"));
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
/* custom bus */

void harness_wait_until(Harness *h, HarnessCondition cond, gpointer user_data, const char *what) {
        WAIT_UNTIL(cond(user_data), what);
}

static char *expand_tmpdir(const Harness *h, const char *text) {
        g_auto(GStrv) parts = g_strsplit(text, "@TMPDIR@", -1);
        return g_strjoinv(h->tmpdir, parts);
}

void harness_setup_with_bus_config(Harness *h, const char *bus_config, const char *const *bus_env) {
        g_autoptr(GError) error = NULL;

        memset(h, 0, sizeof(*h));
        g_queue_init(&h->signals);
        h->daemon_args = g_ptr_array_new_with_free_func(g_free);

        h->tmpdir = g_dir_make_tmp("ird-itest-XXXXXX", &error);
        g_assert_no_error(error);
        /* Callers under other uids (and services the bus starts) reach the socket here. */
        g_assert_cmpint(chmod(h->tmpdir, 0755), ==, 0);
        h->state_directory = g_build_filename(h->tmpdir, "state", NULL);
        g_assert_cmpint(g_mkdir(h->state_directory, 0700), ==, 0);
        h->log_path = g_build_filename(h->tmpdir, "daemon.log", NULL);

        g_autofree char *body = expand_tmpdir(h, bus_config);
        g_autoptr(GPtrArray) env = g_ptr_array_new_with_free_func(g_free);
        for (size_t i = 0; bus_env && bus_env[i]; i++)
                g_ptr_array_add(env, expand_tmpdir(h, bus_env[i]));
        g_ptr_array_add(env, NULL);
        harness_bus_start(h, body, (const char *const *) env->pdata, TRUE);

        h->connection = g_dbus_connection_new_for_address_sync(
                h->bus_address,
                G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                NULL, NULL, &error);
        g_assert_no_error(error);
        g_dbus_connection_set_exit_on_close(h->connection, FALSE);

        h->signal_subscription = g_dbus_connection_signal_subscribe(h->connection, NULL, NULL, NULL, NULL, NULL,
                                                                    G_DBUS_SIGNAL_FLAGS_NONE, on_signal, h,
                                                                    NULL);
        h->name_watch = g_bus_watch_name_on_connection(h->connection, IRD_BUS_NAME,
                                                       G_BUS_NAME_WATCHER_FLAGS_NONE, on_name_appeared,
                                                       on_name_vanished, h, NULL);
}

typedef struct DaemonUser {
        uid_t uid;
        gid_t gid;
} DaemonUser;

/* Runs in the forked child before exec: only async-signal-safe calls. */
static void drop_to_daemon_user(gpointer data) {
        const DaemonUser *u = data;

        if (setgroups(0, NULL) < 0 || setresgid(u->gid, u->gid, u->gid) < 0 || setresuid(u->uid, u->uid, u->uid) < 0)
                _exit(127);
}

void harness_start_daemon_as(Harness *h, uid_t uid, gid_t gid) {
        g_autoptr(GError) error = NULL;
        const char *daemon = g_getenv("IRD_DAEMON");
        DaemonUser user = { .uid = uid, .gid = gid };

        g_assert_null(h->daemon);
        if (!daemon)
                g_error("IRD_DAEMON is not set; run the tests through meson test");

        g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
        g_ptr_array_add(argv, g_strdup(daemon));
        g_ptr_array_add(argv, g_strdup_printf("--address=%s", h->bus_address));
        g_ptr_array_add(argv, g_strdup_printf("--state-directory=%s", h->state_directory));
        for (guint i = 0; i < h->daemon_args->len; i++)
                g_ptr_array_add(argv, g_strdup(h->daemon_args->pdata[i]));
        g_ptr_array_add(argv, NULL);

        int log_fd = open(h->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        g_assert_cmpint(log_fd, >=, 0);
        g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
        g_subprocess_launcher_take_stdout_fd(launcher, dup(log_fd));
        g_subprocess_launcher_take_stderr_fd(launcher, log_fd);
        /* The launcher calls it synchronously during the spawn, so a stack value lives long enough. */
        g_subprocess_launcher_set_child_setup(launcher, drop_to_daemon_user, &user, NULL);

        h->daemon_exited = FALSE;
        h->daemon = g_subprocess_launcher_spawnv(launcher, (const char *const *) argv->pdata, &error);
        g_assert_no_error(error);

        ExitWatch *w = g_new0(ExitWatch, 1);
        w->h = h;
        w->process = g_object_ref(h->daemon);
        g_subprocess_wait_async(h->daemon, NULL, on_daemon_exited, w);

        WAIT_UNTIL(h->daemon_owner || h->daemon_exited, "the daemon to own " IRD_BUS_NAME);
        if (h->daemon_exited) {
                g_autofree char *log = harness_read_log(h);
                g_error("the daemon (uid %u) exited before owning its name (status %d); log:\n%s", (unsigned) uid,
                        g_subprocess_get_status(h->daemon), log);
        }
}

/* ------------------------------------------------------------------------ */
/* daemon runs the test watches from the start */

static void launcher_apply_env(GSubprocessLauncher *launcher, const char *const *env) {
        for (size_t i = 0; env && env[i]; i++) {
                const char *eq = strchr(env[i], '=');

                if (eq) {
                        g_autofree char *name = g_strndup(env[i], (gsize) (eq - env[i]));
                        g_subprocess_launcher_setenv(launcher, name, eq + 1, TRUE);
                } else
                        g_subprocess_launcher_unsetenv(launcher, env[i]);
        }
}

static const char *daemon_binary(void) {
        const char *daemon = g_getenv("IRD_DAEMON");

        if (!daemon)
                g_error("IRD_DAEMON is not set; run the tests through meson test");
        return daemon;
}

void harness_spawn_daemon(Harness *h, const char *const *env, gboolean with_state_directory) {
        g_autoptr(GError) error = NULL;

        g_assert_null(h->daemon);
        /* A name still held by an earlier run would be taken for this one's. */
        g_assert_null(h->daemon_owner);

        g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
        g_ptr_array_add(argv, g_strdup(daemon_binary()));
        g_ptr_array_add(argv, g_strdup_printf("--address=%s", h->bus_address));
        if (with_state_directory)
                g_ptr_array_add(argv, g_strdup_printf("--state-directory=%s", h->state_directory));
        for (guint i = 0; i < h->daemon_args->len; i++)
                g_ptr_array_add(argv, g_strdup(h->daemon_args->pdata[i]));
        g_ptr_array_add(argv, NULL);

        int log_fd = open(h->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        g_assert_cmpint(log_fd, >=, 0);
        g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
        g_subprocess_launcher_take_stdout_fd(launcher, dup(log_fd));
        g_subprocess_launcher_take_stderr_fd(launcher, log_fd);
        g_subprocess_launcher_set_child_setup(launcher, die_with_parent, NULL, NULL);
        launcher_apply_env(launcher, env);

        h->daemon_exited = FALSE;
        h->daemon = g_subprocess_launcher_spawnv(launcher, (const char *const *) argv->pdata, &error);
        g_assert_no_error(error);

        ExitWatch *w = g_new0(ExitWatch, 1);
        w->h = h;
        w->process = g_object_ref(h->daemon);
        g_subprocess_wait_async(h->daemon, NULL, on_daemon_exited, w);
}

void harness_wait_daemon_name(Harness *h) {
        g_assert_nonnull(h->daemon);
        WAIT_UNTIL(h->daemon_owner || h->daemon_exited, "the daemon to own " IRD_BUS_NAME);
        if (h->daemon_exited) {
                g_autofree char *log = harness_read_log(h);
                g_error("the daemon exited before owning its name (status %d); log:\n%s",
                        g_subprocess_get_status(h->daemon), log);
        }
}

int harness_wait_daemon_exit(Harness *h) {
        g_assert_nonnull(h->daemon);
        wait_daemon_gone(h);
        int status = g_subprocess_get_status(h->daemon);
        g_clear_object(&h->daemon);
        return status;
}

typedef struct DaemonRun {
        gboolean done;
        char *out;
        char *err;
        GError *error;
} DaemonRun;

static void on_daemon_run_finished(GObject *source, GAsyncResult *result, gpointer user_data) {
        DaemonRun *run = user_data;

        (void) g_subprocess_communicate_utf8_finish(G_SUBPROCESS(source), result, &run->out, &run->err,
                                                    &run->error);
        run->done = TRUE;
}

int harness_run_daemon(Harness *h, const char *const *args, const char *const *env, char **ret_stdout,
                       char **ret_stderr) {
        g_autoptr(GError) error = NULL;
        DaemonRun run = {};

        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        g_ptr_array_add(argv, (gpointer) daemon_binary());
        for (size_t i = 0; args && args[i]; i++)
                g_ptr_array_add(argv, (gpointer) args[i]);
        g_ptr_array_add(argv, NULL);

        g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                                                            G_SUBPROCESS_FLAGS_STDERR_PIPE);
        g_subprocess_launcher_set_child_setup(launcher, die_with_parent, NULL, NULL);
        launcher_apply_env(launcher, env);
        g_autoptr(GSubprocess) process = g_subprocess_launcher_spawnv(launcher, (const char *const *) argv->pdata,
                                                                      &error);
        g_assert_no_error(error);

        /* Completes only when both pipes are drained and the process is reaped. */
        g_subprocess_communicate_utf8_async(process, NULL, NULL, on_daemon_run_finished, &run);
        WAIT_UNTIL(run.done, "a run of the daemon to finish");
        g_assert_no_error(run.error);

        if (ret_stdout)
                *ret_stdout = g_steal_pointer(&run.out);
        if (ret_stderr)
                *ret_stderr = g_steal_pointer(&run.err);
        g_free(run.out);
        g_free(run.err);
        return g_subprocess_get_status(process);
}
