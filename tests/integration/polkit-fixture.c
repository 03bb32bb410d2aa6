/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The polkit tests' fixture (polkit-fixture.h): a bus shaped like the system
 * bus, the real polkitd on it and the rules it reads, a test object a rule
 * can call, callers under other uids, and the world root seeds with the
 * list of every mutating call on it.
 */

#include "polkit-fixture.h"

#include <glib/gstdio.h>

#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define POLKITD_DEFAULT_PATH "/usr/lib/polkit-1/polkitd"

const FixtureConfig with_daemon = { .start_daemon = TRUE };
const FixtureConfig bus_only = { .start_daemon = FALSE };
const FixtureConfig with_service_dir = { .start_daemon = FALSE, .with_service_dir = TRUE };

const char *need_env(const char *name) {
        const char *v = g_getenv(name);

        if (!v)
                g_error("%s is not set; run the tests through meson test", name);
        return v;
}

/* ------------------------------------------------------------------------ */
/* fixture */

static void on_hold_call(GDBusConnection *connection, const char *sender, const char *path,
                         const char *interface, const char *method, GVariant *parameters,
                         GDBusMethodInvocation *invocation, gpointer user_data) {
        Fixture *f = user_data;

        /* Only one authorization is held at a time in these tests. */
        g_assert_null(f->held);
        g_variant_get(parameters, "(s)", &f->held_detail);
        g_free(f->held_sender);
        f->held_sender = g_strdup(sender);
        f->held = invocation;
}

static const GDBusInterfaceVTable hold_vtable = { .method_call = on_hold_call };

/*
 * The system bus's shape: method calls are denied unless a policy allows
 * them, so the project's policy file is what lets callers reach the service;
 * polkit's own policy (own the name, be called, call back) is restated here
 * since the test does not read the system's bus configuration.
 */
static char *system_like_bus_config(const Fixture *f) {
        g_autofree char *units_conf = g_build_filename(need_env("IRD_UNITS_DIR"), "org.iscsi.ReplicationService.conf",
                                                       NULL);
        g_autofree char *service_dir = f->service_dir ? g_strdup_printf("  <servicedir>%s</servicedir>\n",
                                                                        f->service_dir)
                                                      : g_strdup("");

        return g_strdup_printf(
                "  <type>system</type>\n"
                "%s"
                "  <policy context=\"default\">\n"
                "    <allow user=\"*\"/>\n"
                "    <deny own=\"*\"/>\n"
                "    <deny send_type=\"method_call\"/>\n"
                "    <allow send_type=\"signal\"/>\n"
                "    <allow send_requested_reply=\"true\" send_type=\"method_return\"/>\n"
                "    <allow send_requested_reply=\"true\" send_type=\"error\"/>\n"
                "    <allow receive_type=\"method_call\"/>\n"
                "    <allow receive_type=\"method_return\"/>\n"
                "    <allow receive_type=\"error\"/>\n"
                "    <allow receive_type=\"signal\"/>\n"
                "    <allow send_destination=\"org.freedesktop.DBus\"/>\n"
                "    <allow send_destination=\"" POLKIT_NAME "\"/>\n"
                "  </policy>\n"
                /* polkitd answers, and the helper a rule of the tests spawns calls the test back. */
                "  <policy user=\"polkitd\">\n"
                "    <allow own=\"" POLKIT_NAME "\"/>\n"
                "    <allow send_destination=\"*\"/>\n"
                "    <allow receive_sender=\"*\"/>\n"
                "  </policy>\n"
                "  <include>%s</include>\n",
                service_dir, units_conf);
}

static void register_hold_object(Fixture *f) {
        g_autoptr(GError) error = NULL;

        f->hold_info = g_dbus_node_info_new_for_xml(
                "<node><interface name='" HOLD_INTERFACE "'>"
                "<method name='Wait'><arg type='s' name='detail' direction='in'/></method>"
                "</interface></node>",
                &error);
        g_assert_no_error(error);
        f->hold_registration = g_dbus_connection_register_object(f->h.connection, HOLD_PATH,
                                                                 f->hold_info->interfaces[0], &hold_vtable, f,
                                                                 NULL, &error);
        g_assert_no_error(error);
}

void fixture_setup(Fixture *f, gconstpointer data) {
        const FixtureConfig *config = data;
        g_autoptr(GError) error = NULL;

        memset(f, 0, sizeof(*f));
        if (getuid() != 0) {
                g_test_skip("needs root: polkit's files, callers under other uids, the bus policy's owner");
                f->skipped = TRUE;
                return;
        }

        f->polkitd_path = g_getenv("IRD_POLKITD") ?: POLKITD_DEFAULT_PATH;
        if (config->with_service_dir) {
                f->service_dir = g_dir_make_tmp("ird-services-XXXXXX", &error);
                g_assert_no_error(error);
        }

        g_autofree char *bus_config = system_like_bus_config(f);
        const char *const bus_env[] = {
                /* `--system` in an activated daemon must find this bus, not the machine's. */
                "DBUS_SYSTEM_BUS_ADDRESS=unix:path=@TMPDIR@/bus",
                NULL,
        };
        harness_setup_with_bus_config(&f->h, bus_config, bus_env);
        f->polkitd_log = g_build_filename(f->h.tmpdir, "polkitd.log", NULL);

        f->polkit_watch = harness_watch_owner(f->h.connection, POLKIT_NAME, &f->polkit_owner);
        register_hold_object(f);

        if (config->start_daemon) {
                /*
                 * Adding remote access points completes at once without
                 * verification; a probe of the black hole outlives the test.
                 */
                const char *const args[] = { "--verify-access-points=no", "--probe-timeout=600", NULL };
                harness_set_daemon_args(&f->h, args);
                harness_start_daemon(&f->h);
        }
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) remove(path);
        return 0;
}

void fixture_teardown(Fixture *f, gconstpointer data) {
        if (f->skipped)
                return;

        if (f->held) {
                /* A failed test may leave polkit waiting on us; let it finish. */
                g_dbus_method_invocation_return_value(f->held, NULL);
                f->held = NULL;
        }
        if (f->polkitd)
                polkitd_stop(f);
        if (g_test_failed()) {
                g_autofree char *log = NULL;
                if (g_file_get_contents(f->polkitd_log, &log, NULL, NULL))
                        g_test_message("polkitd log:\n%s", log);
        }
        if (f->rules_written) {
                g_assert_cmpint(g_unlink(RULES_PATH), ==, 0);
                f->rules_written = FALSE;
        }

        g_dbus_connection_unregister_object(f->h.connection, f->hold_registration);
        g_bus_unwatch_name(f->polkit_watch);
        harness_teardown(&f->h, NULL);

        g_clear_pointer(&f->hold_info, g_dbus_node_info_unref);
        g_free(f->held_detail);
        g_free(f->held_sender);
        g_free(f->polkit_owner);
        g_free(f->polkitd_log);
        g_clear_pointer(&f->refusing, harness_peer_free);
        g_clear_pointer(&f->black_hole, harness_peer_free);
        if (f->service_dir) {
                (void) nftw(f->service_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
                g_free(f->service_dir);
        }
}

/* ------------------------------------------------------------------------ */
/* polkitd and its rules */

static void on_polkitd_exited(GObject *source, GAsyncResult *result, gpointer user_data) {
        Fixture *f = user_data;

        (void) g_subprocess_wait_finish(G_SUBPROCESS(source), result, NULL);
        f->polkitd_exited = TRUE;
}

static gboolean polkitd_ready_or_gone(gpointer user_data) {
        Fixture *f = user_data;
        return f->polkit_owner || f->polkitd_exited;
}

void polkitd_start(Fixture *f) {
        g_autoptr(GError) error = NULL;

        g_assert_null(f->polkitd);
        if (!g_file_test(f->polkitd_path, G_FILE_TEST_IS_EXECUTABLE))
                g_error("%s is missing: install polkitd (scripts/install-deps)", f->polkitd_path);

        int log_fd = open(f->polkitd_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        g_assert_cmpint(log_fd, >=, 0);
        g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
        g_subprocess_launcher_take_stdout_fd(launcher, dup(log_fd));
        g_subprocess_launcher_take_stderr_fd(launcher, log_fd);
        /* polkitd knows only "the system bus"; this one is it for the test. */
        g_subprocess_launcher_setenv(launcher, "DBUS_SYSTEM_BUS_ADDRESS", f->h.bus_address, TRUE);

        f->polkitd_exited = FALSE;
        f->polkitd = g_subprocess_launcher_spawn(launcher, &error, f->polkitd_path, NULL);
        g_assert_no_error(error);
        g_subprocess_wait_async(f->polkitd, NULL, on_polkitd_exited, f);

        harness_wait_until(&f->h, polkitd_ready_or_gone, f, "polkitd to own " POLKIT_NAME);
        if (!f->polkit_owner) {
                g_autofree char *log = NULL;
                (void) g_file_get_contents(f->polkitd_log, &log, NULL, NULL);
                g_error("polkitd exited before owning its name; log:\n%s", log ?: "");
        }
}

static gboolean polkitd_gone(gpointer user_data) {
        Fixture *f = user_data;
        return f->polkitd_exited && !f->polkit_owner;
}

void polkitd_stop(Fixture *f) {
        g_assert_nonnull(f->polkitd);
        g_subprocess_send_signal(f->polkitd, SIGTERM);
        harness_wait_until(&f->h, polkitd_gone, f, "polkitd to exit and release its name");
        g_clear_object(&f->polkitd);
}

void polkitd_restart(Fixture *f) {
        polkitd_stop(f);
        polkitd_start(f);
}

void write_rules(Fixture *f, const char *rules) {
        g_autoptr(GError) error = NULL;
        g_autofree char *text = g_strdup_printf("// Written by iscsi-replicationd's polkit tests for one test; "
                                                "removed when it ends.\n%s",
                                                rules);

        g_assert_true(g_file_set_contents_full(RULES_PATH, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644, &error));
        g_assert_no_error(error);
        f->rules_written = TRUE;
}

void grant_to_nobody_group(Fixture *f, const char *action) {
        /* nobody's own group, which callers run with and nothing else is in. */
        struct group *gr = getgrgid(NOBODY_GID);
        g_assert_nonnull(gr);
        g_autofree char *which = action ? g_strdup_printf("action.id == \"%s\"", action)
                                        : g_strdup("action.id.indexOf(\"" ACTION_PREFIX "\") == 0");
        g_autofree char *rules = g_strdup_printf("polkit.addRule(function(action, subject) {\n"
                                                 "        if (%s && subject.isInGroup(\"%s\"))\n"
                                                 "                return polkit.Result.YES;\n"
                                                 "});\n",
                                                 which, gr->gr_name);
        write_rules(f, rules);
}

/* ------------------------------------------------------------------------ */
/* callers under other uids */

void other_user(uid_t *ret_uid, gid_t *ret_gid) {
        struct passwd *pw = getpwnam("daemon");

        g_assert_nonnull(pw);
        g_assert_cmpuint(pw->pw_uid, !=, 0);
        g_assert_cmpuint(pw->pw_uid, !=, NOBODY_UID);
        *ret_uid = pw->pw_uid;
        *ret_gid = pw->pw_gid;
}

void call_result_clear(CallResult *r) {
        g_free(r->output);
        g_free(r->error_name);
}

GSubprocess *spawn_call_as(Fixture *f, uid_t uid, gid_t gid, gboolean interactive, const char *dest,
                           const char *path, const char *interface, const char *method, GVariant *params) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GVariant) sunk = params ? g_variant_ref_sink(params) : NULL;

        g_ptr_array_add(argv, g_strdup("setpriv"));
        g_ptr_array_add(argv, g_strdup_printf("--reuid=%u", (unsigned) uid));
        g_ptr_array_add(argv, g_strdup_printf("--regid=%u", (unsigned) gid));
        g_ptr_array_add(argv, g_strdup("--clear-groups"));
        g_ptr_array_add(argv, g_strdup("gdbus"));
        g_ptr_array_add(argv, g_strdup("call"));
        if (interactive)
                g_ptr_array_add(argv, g_strdup("--interactive"));
        g_ptr_array_add(argv, g_strdup("--timeout=25"));
        g_ptr_array_add(argv, g_strdup_printf("--address=%s", f->h.bus_address));
        g_ptr_array_add(argv, g_strdup_printf("--dest=%s", dest));
        g_ptr_array_add(argv, g_strdup_printf("--object-path=%s", path));
        g_ptr_array_add(argv, g_strdup_printf("--method=%s.%s", interface, method));
        for (gsize i = 0; sunk && i < g_variant_n_children(sunk); i++) {
                g_autoptr(GVariant) child = g_variant_get_child_value(sunk, i);
                g_ptr_array_add(argv, g_variant_print(child, TRUE));
        }
        g_ptr_array_add(argv, NULL);

        g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                                                            G_SUBPROCESS_FLAGS_STDERR_MERGE);
        /* The client is not under test; a warning of its own must not abort it. */
        g_subprocess_launcher_unsetenv(launcher, "G_DEBUG");
        GSubprocess *proc = g_subprocess_launcher_spawnv(launcher, (const char *const *) argv->pdata, &error);
        g_assert_no_error(error);
        return proc;
}

char *error_name_from_output(const char *output) {
        const char *p = strstr(output, "GDBus.Error:");

        if (!p)
                return g_strdup("(no D-Bus error name)");
        p += strlen("GDBus.Error:");
        return g_strndup(p, strcspn(p, ": \n"));
}

void call_as(Fixture *f, uid_t uid, gid_t gid, gboolean interactive, const char *dest, const char *path,
             const char *interface, const char *method, GVariant *params, CallResult *ret) {
        g_autoptr(GError) error = NULL;
        g_autofree char *output = NULL;
        gint64 started = g_get_monotonic_time();
        g_autoptr(GSubprocess) proc = spawn_call_as(f, uid, gid, interactive, dest, path, interface, method, params);

        g_subprocess_communicate_utf8(proc, NULL, NULL, &output, NULL, &error);
        g_assert_no_error(error);
        ret->elapsed_usec = g_get_monotonic_time() - started;
        ret->ok = g_subprocess_get_if_exited(proc) && g_subprocess_get_exit_status(proc) == 0;
        ret->output = g_strdup(output ?: "");
        ret->error_name = ret->ok ? NULL : error_name_from_output(ret->output);
}

void call_service_as(Fixture *f, uid_t uid, gid_t gid, gboolean interactive, const char *path,
                     const char *interface, const char *method, GVariant *params, CallResult *ret) {
        call_as(f, uid, gid, interactive, IRD_BUS_NAME, path, interface, method, params, ret);
}

GVariant *bus_driver_call(Fixture *f, const char *method, GVariant *params, const char *reply_type) {
        g_autoptr(GError) error = NULL;
        GVariant *reply = g_dbus_connection_call_sync(f->h.connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                                      "org.freedesktop.DBus", method, params,
                                                      reply_type ? G_VARIANT_TYPE(reply_type) : NULL,
                                                      G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);

        g_assert_no_error(error);
        return reply;
}

/* ------------------------------------------------------------------------ */
/* the objects and the calls */

void seeds_clear(Seeds *s) {
        g_free(s->peer);
        g_free(s->spare_peer);
        g_free(s->local_ap);
        g_free(s->remote_ap);
        g_free(s->spare_ap);
        g_free(s->probe_ap);
        g_free(s->secret);
        g_free(s->collection);
        g_free(s->job);
}

void seed(Fixture *f, Seeds *s) {
        Harness *h = &f->h;

        f->refusing = harness_peer_new(HARNESS_PEER_REFUSING, "127.0.0.1", NULL);
        f->black_hole = harness_peer_new(HARNESS_PEER_BLACK_HOLE, "127.0.0.1", NULL);

        s->peer = harness_add_peer(h, "iqn.2026-11.org.example:peer", "peer");
        s->spare_peer = harness_add_peer(h, "iqn.2026-11.org.example:spare", NULL);
        s->local_ap = harness_add_access_point(h, IRD_LOCAL_SYSTEM, "127.0.0.1", 3260, NULL);
        s->remote_ap = harness_add_access_point(h, s->peer, "127.0.0.1", harness_peer_port(f->refusing), NULL);
        s->spare_ap = harness_add_access_point(h, s->peer, "127.0.0.1", harness_peer_port(f->refusing),
                                               "iqn.2026-11.org.example:spare-target");
        s->probe_ap = harness_add_access_point(h, s->peer, "127.0.0.1", harness_peer_port(f->black_hole), NULL);
        s->secret = harness_add_secret(h, s->remote_ap, "replicator", "twelve-bytes-at-least");
        s->collection = harness_create_collection(h, "c1", NULL, NULL, "/");

        g_autoptr(GVariant) reply = harness_call(h, s->probe_ap, IRD_IFACE_AP, "Verify", NULL);
        guint32 rv;
        g_variant_get(reply, "(uo)", &rv, &s->job);
        g_assert_cmpuint(rv, ==, 4096);
        harness_wait_job_running(h, s->job);
        harness_clear_signals(h);
}

static void call_free(Call *c) {
        g_free(c->path);
        g_clear_pointer(&c->params, g_variant_unref);
        g_free(c);
}

static void add_call(GPtrArray *calls, const char *path, const char *interface, const char *method,
                     GVariant *params, const char *action) {
        Call *c = g_new0(Call, 1);

        c->path = g_strdup(path);
        c->interface = interface;
        c->method = method;
        c->params = params ? g_variant_ref_sink(params) : NULL;
        c->action = action;
        g_ptr_array_add(calls, c);
}

GPtrArray *mutating_calls(const Seeds *s) {
        GPtrArray *calls = g_ptr_array_new_with_free_func((GDestroyNotify) call_free);
        const char *const local[] = { s->local_ap, NULL };
        const char *const remote[] = { s->remote_ap, NULL };

        add_call(calls, IRD_ROOT, IRD_IFACE_SERVICE, "CreateRemoteReplicationCollection",
                 g_variant_new("(s@ao@aoobb)", "created", harness_paths(NULL), harness_paths(NULL), "/", TRUE, FALSE),
                 ACTION_COLLECTIONS);
        add_call(calls, IRD_ROOT, IRD_IFACE_SERVICE, "AddToRemoteReplicationCollection",
                 g_variant_new("(@ao@aooo)", harness_paths(local), harness_paths(remote), s->peer, s->collection),
                 ACTION_COLLECTIONS);
        add_call(calls, IRD_ROOT, IRD_IFACE_SERVICE, "RemoveFromRemoteReplicationCollection",
                 g_variant_new("(@ao@aooo)", harness_paths(local), harness_paths(remote), s->peer, s->collection),
                 ACTION_COLLECTIONS);
        add_call(calls, IRD_ROOT, IRD_IFACE_SERVICE, "AddPeerSystem",
                 g_variant_new("(s@a{sv})", "iqn.2026-11.org.example:added",
                               dict_of("ElementName", g_variant_new_string("added"), NULL)),
                 ACTION_PEERS);
        add_call(calls, IRD_ROOT, IRD_IFACE_SERVICE, "AddServiceAccessPoint",
                 g_variant_new("(o@a{sv})", s->peer,
                               dict_of("Address", g_variant_new_string("127.0.0.3"), "Port",
                                       g_variant_new_uint16(3260), NULL)),
                 ACTION_PEERS);
        /* Before AddSharedSecret, which replaces this secret. */
        add_call(calls, s->secret, IRD_IFACE_SECRET, "Delete", NULL, ACTION_SECRETS);
        add_call(calls, IRD_ROOT, IRD_IFACE_SERVICE, "AddSharedSecret",
                 g_variant_new("(@a{sv}o)",
                               dict_of("Username", g_variant_new_string("replicator2"), "Secret",
                                       g_variant_new_string("another-long-secret"), NULL),
                               s->remote_ap),
                 ACTION_SECRETS);
        add_call(calls, s->collection, IRD_IFACE_COLLECTION, "Modify",
                 g_variant_new("(@a{sv})", dict_of("ElementName", g_variant_new_string("renamed"), NULL)),
                 ACTION_COLLECTIONS);
        add_call(calls, s->collection, IRD_IFACE_COLLECTION, "Delete", NULL, ACTION_COLLECTIONS);
        add_call(calls, s->spare_peer, IRD_IFACE_SYSTEM, "Delete", NULL, ACTION_PEERS);
        add_call(calls, s->remote_ap, IRD_IFACE_AP, "Verify", NULL, ACTION_PEERS);
        add_call(calls, s->spare_ap, IRD_IFACE_AP, "Delete", NULL, ACTION_PEERS);
        /* Terminate (4); the job then has finished and may be deleted. */
        add_call(calls, s->job, IRD_IFACE_JOB, "RequestStateChange", g_variant_new("(qt)", 4, G_GUINT64_CONSTANT(0)),
                 ACTION_JOBS);
        add_call(calls, s->job, IRD_IFACE_JOB, "Delete", NULL, ACTION_JOBS);
        /* Last: its job probes every peer access point, the black hole too, and holds them meanwhile. */
        add_call(calls, IRD_ROOT, IRD_IFACE_SERVICE, "GetPeerSystems", g_variant_new("(q)", 2), ACTION_PEERS);
        return calls;
}

void assert_refused(const Call *c, const CallResult *r, const char *error_name) {
        if (r->ok)
                g_error("%s.%s on %s succeeded for an unprivileged caller: %s", c->interface, c->method, c->path,
                        r->output);
        if (g_strcmp0(r->error_name, error_name) != 0)
                g_error("%s.%s on %s: expected %s, got %s", c->interface, c->method, c->path, error_name,
                        r->output);
        /* The refusal names the action, so an administrator knows which rule to write. */
        if (!strstr(r->output, c->action))
                g_error("%s.%s on %s: the refusal does not name %s: %s", c->interface, c->method, c->path,
                        c->action, r->output);
}

/*
 * After a permitted call: the ReturnValue the API promises (0, or 4096 for
 * the calls that start a job), and the job control sequence kept consistent.
 */
static void check_permitted_reply(Fixture *f, const Call *c, GVariant *reply) {
        g_autoptr(GVariant) first = g_variant_n_children(reply) > 0 ? g_variant_get_child_value(reply, 0) : NULL;

        if (first && g_variant_is_of_type(first, G_VARIANT_TYPE_UINT32)) {
                guint32 rv = g_variant_get_uint32(first);
                gboolean starts_job = g_str_equal(c->method, "GetPeerSystems") || g_str_equal(c->method, "Verify");
                if (g_str_equal(c->method, "RequestStateChange"))
                        g_assert_true(rv == 0 || rv == 4096);
                else
                        g_assert_cmpuint(rv, ==, starts_job ? 4096 : 0);
        }
        if (g_str_equal(c->method, "RequestStateChange")) {
                g_autoptr(GVariant) completed = harness_wait_job_completed(&f->h, c->path);
        }
}

/* The reply to a call that must succeed: root calls on the test's connection, anyone else through gdbus. */
static GVariant *call_permitted(Fixture *f, uid_t uid, gid_t gid, const Call *c) {
        g_autoptr(GError) error = NULL;
        GVariant *reply = NULL;

        if (uid == 0) {
                error = harness_call_result(&f->h, c->path, c->interface, c->method, c->params, &reply);
                if (error)
                        g_error("root: %s.%s on %s failed: %s", c->interface, c->method, c->path, error->message);
                return reply;
        }

        g_auto(CallResult) r = { 0 };
        call_service_as(f, uid, gid, FALSE, c->path, c->interface, c->method, c->params, &r);
        if (!r.ok)
                g_error("uid %u: %s.%s on %s failed: %s", (unsigned) uid, c->interface, c->method, c->path, r.output);
        reply = g_variant_parse(NULL, r.output, NULL, NULL, &error);
        g_assert_no_error(error);
        return reply;
}

void run_permitted(Fixture *f, uid_t uid, gid_t gid, GPtrArray *calls) {
        for (guint i = 0; i < calls->len; i++) {
                const Call *c = calls->pdata[i];
                g_autoptr(GVariant) reply = call_permitted(f, uid, gid, c);

                check_permitted_reply(f, c, reply);
        }
}

void assert_sequence_done(Fixture *f, const Seeds *s) {
        g_auto(GStrv) paths = harness_object_paths(&f->h);

        g_assert_false(g_strv_contains((const char *const *) paths, s->collection));
        g_assert_false(g_strv_contains((const char *const *) paths, s->spare_peer));
        g_assert_false(g_strv_contains((const char *const *) paths, s->spare_ap));
        g_assert_false(g_strv_contains((const char *const *) paths, s->secret));
        g_assert_false(g_strv_contains((const char *const *) paths, s->job));
        g_autofree char *secret = harness_get_string(&f->h, s->remote_ap, IRD_IFACE_AP, "SharedSecret");
        g_assert_cmpstr(secret, !=, "/");
        g_assert_cmpstr(secret, !=, s->secret);

        g_autoptr(GVariant) reply = harness_call(&f->h, IRD_ROOT, IRD_IFACE_SERVICE, "GetPeerSystems",
                                                 g_variant_new("(q)", 0));
        g_autoptr(GVariant) systems = g_variant_get_child_value(reply, 2);
        gsize n = 0;
        g_autofree const char **list = g_variant_get_objv(systems, &n);
        gboolean added = FALSE;
        for (gsize i = 0; i < n; i++) {
                g_autofree char *name = harness_get_string(&f->h, list[i], IRD_IFACE_SYSTEM, "Name");
                added = added || g_str_equal(name, "iqn.2026-11.org.example:added");
        }
        g_assert_true(added);
}
