/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Authorization and system integration against the real components: a
 * private dbus-daemon configured like the system bus and including the
 * project's bus policy, the real polkitd on it with the project's actions
 * installed, the built daemon, and callers running under unprivileged uids.
 * Also the files a distribution ships: the activation file (a bus starts the
 * daemon through one), the bus policy (who may own the name) and the systemd
 * unit (systemd-analyze verify and security).
 *
 * The polkit cases need root: they install the .policy into polkit's actions
 * directory and rules into /etc/polkit-1/rules.d, create the service's user
 * from the project's sysusers file when the machine lacks it, and run callers
 * as other users. A supervising parent process undoes all of that, and ends
 * whatever process the tests left behind, however the tests end — an
 * assertion aborts the test process, so a fixture teardown alone could not
 * promise that.
 */

#include "harness-calls.h"
#include "harness.h"

#include <glib/gstdio.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define POLKITD_DEFAULT_PATH "/usr/lib/polkit-1/polkitd"
#define POLKIT_ACTIONS_DIR "/usr/share/polkit-1/actions"
#define POLKIT_RULES_DIR "/etc/polkit-1/rules.d"
#define POLICY_INSTALL_PATH POLKIT_ACTIONS_DIR "/org.iscsi.replication.policy"
/* Sorts before the distribution's rules, so ours decide for our actions. */
#define RULES_PATH POLKIT_RULES_DIR "/10-iscsi-replicationd-test.rules"

#define POLKIT_NAME "org.freedesktop.PolicyKit1"
#define ERROR_INTERACTIVE "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired"

#define ACTION_COLLECTIONS "org.iscsi.replication.manage-collections"
#define ACTION_PEERS "org.iscsi.replication.manage-peers"
#define ACTION_SECRETS "org.iscsi.replication.manage-secrets"
#define ACTION_JOBS "org.iscsi.replication.manage-jobs"
#define ACTION_REPLICAS "org.iscsi.replication.manage-replicas"

/* A rule calls this object of the test while it holds an authorization. */
#define HOLD_PATH "/org/iscsi/test/PolkitHold"
#define HOLD_INTERFACE "org.iscsi.test.PolkitHold"

/* The service's own user, as units/iscsi-replicationd.sysusers creates it. */
#define SERVICE_USER "iscsi-replication"

#define NOBODY_UID 65534
#define NOBODY_GID 65534

/* Refusals without polkit must not wait for anything; this bounds a whole client process run. */
#define REFUSED_AT_ONCE_USEC G_USEC_PER_SEC

/* ------------------------------------------------------------------------ */
/* fixture */

typedef struct FixtureConfig {
        gboolean start_daemon;
        gboolean with_service_dir;      /* a <servicedir> for bus activation */
} FixtureConfig;

typedef struct Fixture {
        Harness h;
        gboolean skipped;

        char *service_dir;

        const char *polkitd_path;
        char *polkitd_log;
        GSubprocess *polkitd;
        gboolean polkitd_exited;
        char *polkit_owner;
        guint polkit_watch;
        gboolean rules_written;

        GDBusNodeInfo *hold_info;
        guint hold_registration;
        GDBusMethodInvocation *held;
        char *held_detail;
        char *held_sender;      /* the rule's helper, waiting for our reply */

        HarnessPeer *refusing;
        HarnessPeer *black_hole;
} Fixture;

typedef struct Seeds {
        char *peer;             /* a peer system with access points */
        char *spare_peer;       /* a peer system nothing refers to */
        char *local_ap;
        char *remote_ap;        /* on peer, has secret; connections to it are refused */
        char *spare_ap;         /* on peer, nothing refers to it */
        char *probe_ap;         /* on peer, a black hole: verifying it keeps a job running */
        char *secret;
        char *collection;
        char *job;              /* started by root, running */
} Seeds;

static void seeds_clear(Seeds *s) {
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
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Seeds, seeds_clear)

static const char *need_env(const char *name) {
        const char *v = g_getenv(name);

        if (!v)
                g_error("%s is not set; run the tests through meson test", name);
        return v;
}

static void on_polkit_appeared(GDBusConnection *connection, const char *name, const char *owner,
                               gpointer user_data) {
        Fixture *f = user_data;

        g_free(f->polkit_owner);
        f->polkit_owner = g_strdup(owner);
}

static void on_polkit_vanished(GDBusConnection *connection, const char *name, gpointer user_data) {
        Fixture *f = user_data;

        g_clear_pointer(&f->polkit_owner, g_free);
}

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

static void fixture_setup(Fixture *f, gconstpointer data) {
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

        f->polkit_watch = g_bus_watch_name_on_connection(f->h.connection, POLKIT_NAME, G_BUS_NAME_WATCHER_FLAGS_NONE,
                                                         on_polkit_appeared, on_polkit_vanished, f, NULL);

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

static gboolean polkitd_gone(gpointer user_data) {
        Fixture *f = user_data;
        return f->polkitd_exited && !f->polkit_owner;
}

static void polkitd_stop(Fixture *f) {
        g_assert_nonnull(f->polkitd);
        g_subprocess_send_signal(f->polkitd, SIGTERM);
        harness_wait_until(&f->h, polkitd_gone, f, "polkitd to exit and release its name");
        g_clear_object(&f->polkitd);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) remove(path);
        return 0;
}

static void fixture_teardown(Fixture *f, gconstpointer data) {
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

#define SKIP_UNLESS_READY(f)            \
        do {                            \
                if ((f)->skipped)       \
                        return;         \
        } while (0)

/* ------------------------------------------------------------------------ */
/* polkitd */

static void on_polkitd_exited(GObject *source, GAsyncResult *result, gpointer user_data) {
        Fixture *f = user_data;

        (void) g_subprocess_wait_finish(G_SUBPROCESS(source), result, NULL);
        f->polkitd_exited = TRUE;
}

static gboolean polkitd_ready_or_gone(gpointer user_data) {
        Fixture *f = user_data;
        return f->polkit_owner || f->polkitd_exited;
}

/* Starts the real polkitd on the private bus and waits until it owns its name. */
static void polkitd_start(Fixture *f) {
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

/* polkitd watches its rules directories, but only a restart says when a change has been read. */
static void polkitd_restart(Fixture *f) {
        polkitd_stop(f);
        polkitd_start(f);
}

static void write_rules(Fixture *f, const char *rules) {
        g_autoptr(GError) error = NULL;
        g_autofree char *text = g_strdup_printf("// Written by iscsi-replicationd's test-polkit for one test; "
                                                "removed when it ends.\n%s",
                                                rules);

        g_assert_true(g_file_set_contents_full(RULES_PATH, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644, &error));
        g_assert_no_error(error);
        f->rules_written = TRUE;
}

/* ------------------------------------------------------------------------ */
/* callers under other uids */

typedef struct CallResult {
        gboolean ok;
        char *output;
        char *error_name;       /* the D-Bus error, NULL on success */
        gint64 elapsed_usec;
} CallResult;

static void call_result_clear(CallResult *r) {
        g_free(r->output);
        g_free(r->error_name);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(CallResult, call_result_clear)

/*
 * `gdbus call` as uid/gid (no supplementary groups), with or without the
 * allow-interactive-authorization flag. Arguments are the children of params
 * in GVariant text form.
 */
static GSubprocess *spawn_call_as(Fixture *f, uid_t uid, gid_t gid, gboolean interactive, const char *dest,
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

static char *error_name_from_output(const char *output) {
        const char *p = strstr(output, "GDBus.Error:");

        if (!p)
                return g_strdup("(no D-Bus error name)");
        p += strlen("GDBus.Error:");
        return g_strndup(p, strcspn(p, ": \n"));
}

static void collect_call(GSubprocess *proc, const char *output, gint64 started, CallResult *ret) {
        ret->elapsed_usec = g_get_monotonic_time() - started;
        ret->ok = g_subprocess_get_if_exited(proc) && g_subprocess_get_exit_status(proc) == 0;
        ret->output = g_strdup(output ?: "");
        ret->error_name = ret->ok ? NULL : error_name_from_output(ret->output);
}

static void call_as(Fixture *f, uid_t uid, gid_t gid, gboolean interactive, const char *dest, const char *path,
                    const char *interface, const char *method, GVariant *params, CallResult *ret) {
        g_autoptr(GError) error = NULL;
        g_autofree char *output = NULL;
        gint64 started = g_get_monotonic_time();
        g_autoptr(GSubprocess) proc = spawn_call_as(f, uid, gid, interactive, dest, path, interface, method, params);

        g_subprocess_communicate_utf8(proc, NULL, NULL, &output, NULL, &error);
        g_assert_no_error(error);
        collect_call(proc, output, started, ret);
}

static void call_service_as(Fixture *f, uid_t uid, gid_t gid, gboolean interactive, const char *path,
                            const char *interface, const char *method, GVariant *params, CallResult *ret) {
        call_as(f, uid, gid, interactive, IRD_BUS_NAME, path, interface, method, params, ret);
}

/* ------------------------------------------------------------------------ */
/* the objects and the calls */

/* Root builds a small world with one object of every kind and a running job. */
static void seed(Fixture *f, Seeds *s) {
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

typedef struct Call {
        char *path;
        const char *interface;
        const char *method;
        GVariant *params;
        const char *action;     /* the polkit action guarding it (API.md section 9) */
} Call;

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

/*
 * Every mutating method once, with arguments that are all valid and in an
 * order in which all of them succeed for a caller who is allowed: the same
 * list shows refusal (nothing changes) and permission (everything happens).
 */
static GPtrArray *mutating_calls(const Seeds *s) {
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

static void assert_refused(const Call *c, const CallResult *r, const char *error_name) {
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

static void run_permitted_as_root(Fixture *f, GPtrArray *calls) {
        for (guint i = 0; i < calls->len; i++) {
                const Call *c = calls->pdata[i];
                g_autoptr(GVariant) reply = NULL;
                g_autoptr(GError) error = harness_call_result(&f->h, c->path, c->interface, c->method, c->params,
                                                              &reply);
                if (error)
                        g_error("root: %s.%s on %s failed: %s", c->interface, c->method, c->path, error->message);
                check_permitted_reply(f, c, reply);
        }
}

static void run_permitted_as(Fixture *f, uid_t uid, gid_t gid, GPtrArray *calls) {
        for (guint i = 0; i < calls->len; i++) {
                const Call *c = calls->pdata[i];
                g_auto(CallResult) r = { 0 };
                g_autoptr(GError) error = NULL;

                call_service_as(f, uid, gid, FALSE, c->path, c->interface, c->method,
                                c->params, &r);
                if (!r.ok)
                        g_error("uid %u: %s.%s on %s failed: %s", (unsigned) uid, c->interface, c->method, c->path,
                                r.output);
                g_autoptr(GVariant) reply = g_variant_parse(NULL, r.output, NULL, NULL, &error);
                g_assert_no_error(error);
                check_permitted_reply(f, c, reply);
        }
}

/* What the permitted sequence leaves behind. */
static void assert_sequence_done(Fixture *f, const Seeds *s) {
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

/* ------------------------------------------------------------------------ */
/* tests: polkit */

static const FixtureConfig with_daemon = { .start_daemon = TRUE };
static const FixtureConfig bus_only = { .start_daemon = FALSE };
static const FixtureConfig with_service_dir = { .start_daemon = FALSE, .with_service_dir = TRUE };

static void test_unprivileged_refused(Fixture *f, gconstpointer data) {
        SKIP_UNLESS_READY(f);
        g_auto(Seeds) s = { 0 };

        polkitd_start(f);
        seed(f, &s);
        g_autoptr(GPtrArray) calls = mutating_calls(&s);
        g_autofree char *before = harness_snapshot(&f->h);

        for (guint i = 0; i < calls->len; i++) {
                const Call *c = calls->pdata[i];
                g_auto(CallResult) plain = { 0 };
                g_auto(CallResult) interactive = { 0 };

                /* polkit would ask for a password, but the caller did not allow it to. */
                call_service_as(f, NOBODY_UID, NOBODY_GID, FALSE, c->path, c->interface, c->method,
                                c->params, &plain);
                assert_refused(c, &plain, ERROR_INTERACTIVE);
                /* Allowed to ask, but there is no agent to ask with. */
                call_service_as(f, NOBODY_UID, NOBODY_GID, TRUE, c->path, c->interface, c->method,
                                c->params, &interactive);
                assert_refused(c, &interactive, IRD_ERROR_ACCESS_DENIED);
        }

        /* A job property is not polkit's to decide (a setter cannot wait): only root and the starter. */
        g_auto(CallResult) set = { 0 };
        call_service_as(f, NOBODY_UID, NOBODY_GID, TRUE, s.job, "org.freedesktop.DBus.Properties", "Set",
                        g_variant_new("(ssv)", IRD_IFACE_JOB, "DeleteOnCompletion", g_variant_new_boolean(TRUE)),
                        &set);
        g_assert_false(set.ok);
        g_assert_cmpstr(set.error_name, ==, IRD_ERROR_ACCESS_DENIED);

        g_autofree char *after = harness_snapshot(&f->h);
        g_assert_cmpstr(after, ==, before);
        g_assert_cmpuint(harness_get_uint16(&f->h, s.job, IRD_IFACE_JOB, "JobState"), ==, IRD_JOB_RUNNING);
}

static void test_unprivileged_reads(Fixture *f, gconstpointer data) {
        SKIP_UNLESS_READY(f);
        g_auto(Seeds) s = { 0 };

        polkitd_start(f);
        seed(f, &s);
        g_autofree char *before = harness_snapshot(&f->h);

        struct {
                const char *path, *interface, *method;
                GVariant *params;
                const char *expect;     /* a path the answer must contain */
        } reads[] = {
                { IRD_ROOT, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", NULL, s.collection },
                { IRD_ROOT, IRD_IFACE_SERVICE, "GetPeerSystems", g_variant_new("(q)", 0), s.spare_peer },
                { IRD_ROOT, IRD_IFACE_SERVICE, "GetServiceAccessPoints", g_variant_new("(o)", s.peer), s.probe_ap },
                { IRD_ROOT, "org.freedesktop.DBus.Properties", "Get",
                  g_variant_new("(ss)", IRD_IFACE_SERVICE, "LocalSystem"), IRD_LOCAL_SYSTEM },
                { s.collection, "org.freedesktop.DBus.Properties", "GetAll", g_variant_new("(s)", IRD_IFACE_COLLECTION),
                  "'c1'" },
                { s.remote_ap, "org.freedesktop.DBus.Properties", "Get", g_variant_new("(ss)", IRD_IFACE_AP, "SharedSecret"),
                  s.secret },
                { s.job, "org.freedesktop.DBus.Properties", "GetAll", g_variant_new("(s)", IRD_IFACE_JOB), s.probe_ap },
                { s.job, IRD_IFACE_JOB, "GetError", NULL, "{}" },
        };
        for (size_t i = 0; i < G_N_ELEMENTS(reads); i++) {
                g_auto(CallResult) r = { 0 };

                /* With the flag too: reading never involves polkit, so there is nothing to ask. */
                call_service_as(f, NOBODY_UID, NOBODY_GID, TRUE, reads[i].path, reads[i].interface, reads[i].method,
                                reads[i].params, &r);
                if (!r.ok)
                        g_error("nobody: %s.%s on %s failed: %s", reads[i].interface, reads[i].method, reads[i].path,
                                r.output);
                g_assert_nonnull(strstr(r.output, reads[i].expect));
        }

        g_autofree char *after = harness_snapshot(&f->h);
        g_assert_cmpstr(after, ==, before);
}

static void test_group_rule_grants(Fixture *f, gconstpointer data) {
        SKIP_UNLESS_READY(f);
        g_auto(Seeds) s = { 0 };

        /* nobody's own group, granted only our actions, and only for this test. */
        struct group *gr = getgrgid(NOBODY_GID);
        g_assert_nonnull(gr);
        g_autofree char *group = g_strdup(gr->gr_name);

        polkitd_start(f);
        seed(f, &s);
        g_autoptr(GPtrArray) calls = mutating_calls(&s);

        /* Without the rule the first call is refused… */
        const Call *first = calls->pdata[0];
        g_auto(CallResult) refused = { 0 };
        call_service_as(f, NOBODY_UID, NOBODY_GID, FALSE, first->path, first->interface, first->method,
                        first->params, &refused);
        assert_refused(first, &refused, ERROR_INTERACTIVE);

        g_autofree char *rules = g_strdup_printf(
                "polkit.addRule(function(action, subject) {\n"
                "        if (action.id.indexOf(\"org.iscsi.replication.\") == 0 &&\n"
                "            subject.isInGroup(\"%s\"))\n"
                "                return polkit.Result.YES;\n"
                "});\n",
                group);
        write_rules(f, rules);
        polkitd_restart(f);

        /* …and with it every call succeeds, without any authentication. */
        run_permitted_as(f, NOBODY_UID, NOBODY_GID, calls);
        assert_sequence_done(f, &s);
        g_autofree char *log = harness_read_log(&f->h);
        g_assert_nonnull(strstr(log, "uid=65534"));
}

static void test_rule_says_no(Fixture *f, gconstpointer data) {
        SKIP_UNLESS_READY(f);
        g_auto(Seeds) s = { 0 };

        write_rules(f,
                    "polkit.addRule(function(action, subject) {\n"
                    "        if (action.id.indexOf(\"org.iscsi.replication.\") == 0)\n"
                    "                return polkit.Result.NO;\n"
                    "});\n");
        polkitd_start(f);
        seed(f, &s);
        g_autoptr(GPtrArray) calls = mutating_calls(&s);
        g_autofree char *before = harness_snapshot(&f->h);

        /* A plain no is no challenge: AccessDenied, whether or not the caller allowed interaction. */
        for (guint i = 0; i < calls->len; i++) {
                const Call *c = calls->pdata[i];
                g_auto(CallResult) r = { 0 };

                call_service_as(f, NOBODY_UID, NOBODY_GID, FALSE, c->path, c->interface, c->method,
                                c->params, &r);
                assert_refused(c, &r, IRD_ERROR_ACCESS_DENIED);
        }

        g_autofree char *after = harness_snapshot(&f->h);
        g_assert_cmpstr(after, ==, before);
}

static void test_polkit_absent(Fixture *f, gconstpointer data) {
        SKIP_UNLESS_READY(f);
        g_auto(Seeds) s = { 0 };
        gint64 slowest = 0;

        /* polkit was there and went away: nothing may be cached from when it ran. */
        polkitd_start(f);
        polkitd_stop(f);

        seed(f, &s);
        g_autoptr(GPtrArray) calls = mutating_calls(&s);
        g_autofree char *before = harness_snapshot(&f->h);

        for (guint i = 0; i < calls->len; i++) {
                const Call *c = calls->pdata[i];

                for (int interactive = 0; interactive <= 1; interactive++) {
                        g_auto(CallResult) r = { 0 };

                        call_service_as(f, NOBODY_UID, NOBODY_GID, interactive, c->path, c->interface, c->method,
                                        c->params, &r);
                        assert_refused(c, &r, IRD_ERROR_ACCESS_DENIED);
                        if (r.elapsed_usec >= REFUSED_AT_ONCE_USEC)
                                g_error("%s.%s was refused only after %" G_GINT64_FORMAT " ms", c->interface,
                                        c->method, r.elapsed_usec / 1000);
                        slowest = MAX(slowest, r.elapsed_usec);
                }
        }
        g_test_message("slowest refusal without polkit, client process included: %" G_GINT64_FORMAT " ms",
                       slowest / 1000);

        g_autofree char *after = harness_snapshot(&f->h);
        g_assert_cmpstr(after, ==, before);

        run_permitted_as_root(f, calls);
        assert_sequence_done(f, &s);
}

typedef struct PendingCall {
        GSubprocess *proc;
        gboolean done;
        gboolean ok;
        char *output;
} PendingCall;

static void pending_call_clear(PendingCall *p) {
        g_clear_object(&p->proc);
        g_free(p->output);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(PendingCall, pending_call_clear)

static void on_pending_call_done(GObject *source, GAsyncResult *result, gpointer user_data) {
        PendingCall *p = user_data;
        g_autoptr(GError) error = NULL;
        GSubprocess *proc = G_SUBPROCESS(source);

        g_subprocess_communicate_utf8_finish(proc, result, &p->output, NULL, &error);
        g_assert_no_error(error);
        p->ok = g_subprocess_get_if_exited(proc) && g_subprocess_get_exit_status(proc) == 0;
        p->done = TRUE;
}

typedef struct HoldWait {
        Fixture *f;
        PendingCall *pending;
} HoldWait;

static gboolean held_or_answered(gpointer user_data) {
        HoldWait *w = user_data;
        return w->f->held || w->pending->done;
}

static gboolean pending_done(gpointer user_data) {
        return ((PendingCall *) user_data)->done;
}

/*
 * polkit answers a collection Modify only when the test says so: the rule
 * calls the test and waits for the reply, then says yes. The authorization
 * is pending for exactly as long as the test needs, with no clock involved,
 * and polkitd answers nothing else meanwhile (a rule runs to completion).
 */
static void write_hold_rule(Fixture *f) {
        g_autofree char *gdbus = g_find_program_in_path("gdbus");
        g_assert_nonnull(gdbus);
        for (const char *p = f->h.bus_address; *p; p++)
                g_assert_true(*p != '"' && *p != '\\');

        g_autofree char *rules = g_strdup_printf(
                "polkit.addRule(function(action, subject) {\n"
                "        if (action.id == \"" ACTION_COLLECTIONS "\" && action.lookup(\"method\") == \"Modify\") {\n"
                "                polkit.spawn([\"%s\", \"call\", \"--address=%s\", \"--dest=%s\",\n"
                "                              \"--object-path=" HOLD_PATH "\", \"--method=" HOLD_INTERFACE ".Wait\",\n"
                "                              action.lookup(\"method\") + \" \" + action.lookup(\"collection\")]);\n"
                "                return polkit.Result.YES;\n"
                "        }\n"
                "});\n",
                gdbus, f->h.bus_address, g_dbus_connection_get_unique_name(f->h.connection));
        write_rules(f, rules);
}

/* nobody renames the collection; returns once polkit holds the authorization. */
static void start_held_modify(Fixture *f, const char *collection, const char *new_name, PendingCall *ret) {
        ret->proc = spawn_call_as(f, NOBODY_UID, NOBODY_GID, FALSE, IRD_BUS_NAME, collection, IRD_IFACE_COLLECTION,
                                  "Modify",
                                  g_variant_new("(@a{sv})",
                                                dict_of("ElementName", g_variant_new_string(new_name), NULL)));
        g_subprocess_communicate_utf8_async(ret->proc, NULL, NULL, on_pending_call_done, ret);

        HoldWait w = { f, ret };
        harness_wait_until(&f->h, held_or_answered, &w, "polkit to hold the caller's authorization");
        if (!f->held)
                g_error("the call was answered without waiting for polkit: %s", ret->output);
        /* The rule saw the details the service passes for rules to match on. */
        g_autofree char *detail = g_strdup_printf("Modify %s", collection);
        g_assert_cmpstr(f->held_detail, ==, detail);
        g_clear_pointer(&f->held_detail, g_free);
}

/*
 * polkitd gives up on a rule's helper after a while and kills it; the
 * helper still being there shows polkit has been holding all along, so
 * whatever completed meanwhile did not wait for polkit.
 */
static void assert_still_held(Fixture *f, const PendingCall *pending) {
        g_autoptr(GError) error = NULL;

        g_assert_nonnull(f->held);
        g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
                f->h.connection, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                "NameHasOwner", g_variant_new("(s)", f->held_sender), G_VARIANT_TYPE("(b)"), G_DBUS_CALL_FLAGS_NONE,
                -1, NULL, &error);
        g_assert_no_error(error);
        gboolean alive;
        g_variant_get(reply, "(b)", &alive);
        g_assert_true(alive);
        g_assert_false(pending->done);
}

static void release_held(Fixture *f, PendingCall *pending) {
        g_dbus_method_invocation_return_value(f->held, NULL);
        f->held = NULL;
        harness_wait_until(&f->h, pending_done, pending, "the held caller's answer");
}

static void test_pending_serves_others(Fixture *f, gconstpointer data) {
        SKIP_UNLESS_READY(f);

        struct passwd *pw = getpwnam("daemon");
        g_assert_nonnull(pw);
        uid_t other_uid = pw->pw_uid;
        gid_t other_gid = pw->pw_gid;
        g_assert_cmpuint(other_uid, !=, 0);
        g_assert_cmpuint(other_uid, !=, NOBODY_UID);

        write_hold_rule(f);
        polkitd_start(f);
        g_autofree char *collection = harness_create_collection(&f->h, "before", NULL, NULL, "/");
        harness_clear_signals(&f->h);

        g_auto(PendingCall) first = { 0 };
        start_held_modify(f, collection, "after", &first);

        /* root is served while polkit thinks. */
        g_autofree char *peer = harness_add_peer(&f->h, "iqn.2026-11.org.example:while-pending", NULL);
        /* So is a reader under another uid. */
        g_auto(CallResult) read = { 0 };
        call_service_as(f, other_uid, other_gid, FALSE, IRD_ROOT, "org.freedesktop.DBus.ObjectManager",
                        "GetManagedObjects", NULL, &read);
        if (!read.ok)
                g_error("a read by uid %u failed while an authorization was pending: %s", (unsigned) other_uid,
                        read.output);
        g_assert_nonnull(strstr(read.output, peer));

        /* The first caller still waits, and nothing of its call has happened. */
        assert_still_held(f, &first);
        g_autofree char *name = harness_get_string(&f->h, collection, IRD_IFACE_COLLECTION, "ElementName");
        g_assert_cmpstr(name, ==, "before");

        release_held(f, &first);
        if (!first.ok)
                g_error("the held call failed after polkit said yes: %s", first.output);
        g_autoptr(HarnessSignal) changed = harness_wait_signal(&f->h, collection, "org.freedesktop.DBus.Properties",
                                                               "PropertiesChanged", NULL, NULL);
        g_autoptr(GVariant) dict = harness_properties_changed_dict(changed);
        const char *value = NULL;
        g_assert_true(g_variant_lookup(dict, "ElementName", "&s", &value));
        g_assert_cmpstr(value, ==, "after");
}

/*
 * polkit itself allows uid 0 whatever the rules say, so only a polkitd that
 * cannot answer shows that the service does not ask it for root: while it is
 * held, root makes every mutating call.
 */
static void test_root_never_asks(Fixture *f, gconstpointer data) {
        SKIP_UNLESS_READY(f);
        g_auto(Seeds) s = { 0 };

        write_hold_rule(f);
        polkitd_start(f);
        seed(f, &s);
        g_autoptr(GPtrArray) calls = mutating_calls(&s);

        g_auto(PendingCall) held = { 0 };
        start_held_modify(f, s.collection, "held", &held);

        run_permitted_as_root(f, calls);
        assert_still_held(f, &held);
        assert_sequence_done(f, &s);

        /*
         * Meanwhile root deleted the collection the held call is about: on
         * its second pass the call finds no object, and says so (the bus
         * library's own answer for a path that names nothing).
         */
        release_held(f, &held);
        g_assert_false(held.ok);
        g_autofree char *error_name = error_name_from_output(held.output);
        g_test_message("held call on a deleted collection: %s", held.output);
        g_assert_cmpstr(error_name, ==, "org.freedesktop.DBus.Error.UnknownObject");
        harness_sync(&f->h);
}

/*
 * Whoever started a job controls it without asking polkit again; anyone else
 * needs manage-jobs. The rule grants nobody's group manage-peers only, so a
 * job control call that reached polkit would be challenged.
 */
static void test_job_starter(Fixture *f, gconstpointer data) {
        SKIP_UNLESS_READY(f);
        g_auto(Seeds) s = { 0 };
        Harness *h = &f->h;

        struct group *gr = getgrgid(NOBODY_GID);
        g_assert_nonnull(gr);
        g_autofree char *rules = g_strdup_printf(
                "polkit.addRule(function(action, subject) {\n"
                "        if (action.id == \"" ACTION_PEERS "\" && subject.isInGroup(\"%s\"))\n"
                "                return polkit.Result.YES;\n"
                "});\n",
                gr->gr_name);
        write_rules(f, rules);
        polkitd_start(f);
        seed(f, &s);
        struct passwd *pw = getpwnam("daemon");
        g_assert_nonnull(pw);

        /* nobody starts a job that keeps running (a probe of the black hole). */
        g_auto(CallResult) started = { 0 };
        call_service_as(f, NOBODY_UID, NOBODY_GID, FALSE, s.probe_ap, IRD_IFACE_AP, "Verify", NULL, &started);
        if (!started.ok)
                g_error("nobody could not start a job with manage-peers granted: %s", started.output);
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = g_variant_parse(G_VARIANT_TYPE("(uo)"), started.output, NULL, NULL, &error);
        g_assert_no_error(error);
        const char *job = NULL;
        guint32 rv;
        g_variant_get(reply, "(u&o)", &rv, &job);
        g_assert_cmpuint(rv, ==, 4096);
        harness_wait_job_running(h, job);
        g_autoptr(GVariant) starter = harness_get_property(h, job, IRD_IFACE_JOB, "StartedByUID");
        g_assert_cmpuint(g_variant_get_uint32(starter), ==, NOBODY_UID);

        /* Another user is asked about through polkit, which wants a password for manage-jobs. */
        const char *const methods[] = { "RequestStateChange", "Delete" };
        for (size_t i = 0; i < G_N_ELEMENTS(methods); i++) {
                g_auto(CallResult) other = { 0 };
                Call c = { .path = (char *) job, .interface = IRD_IFACE_JOB, .method = methods[i],
                           .action = ACTION_JOBS };

                call_service_as(f, pw->pw_uid, pw->pw_gid, FALSE, job, IRD_IFACE_JOB, methods[i],
                                i == 0 ? g_variant_new("(qt)", 3, G_GUINT64_CONSTANT(0)) : NULL, &other);
                assert_refused(&c, &other, ERROR_INTERACTIVE);
        }
        g_assert_cmpuint(harness_get_uint16(h, job, IRD_IFACE_JOB, "JobState"), ==, IRD_JOB_RUNNING);

        /* The starter suspends, resumes and ends it, and deletes it, with no rule for manage-jobs. */
        const guint16 states[] = { 3, 2, 4 };
        for (size_t i = 0; i < G_N_ELEMENTS(states); i++) {
                g_auto(CallResult) own = { 0 };

                call_service_as(f, NOBODY_UID, NOBODY_GID, FALSE, job, IRD_IFACE_JOB, "RequestStateChange",
                                g_variant_new("(qt)", states[i], G_GUINT64_CONSTANT(0)), &own);
                if (!own.ok)
                        g_error("the job's starter could not request state %u: %s", states[i], own.output);
        }
        g_autoptr(GVariant) completed = harness_wait_job_completed(h, job);
        g_assert_cmpuint(harness_get_uint16(h, job, IRD_IFACE_JOB, "JobState"), ==, IRD_JOB_TERMINATED);
        g_auto(CallResult) deleted = { 0 };
        call_service_as(f, NOBODY_UID, NOBODY_GID, FALSE, job, IRD_IFACE_JOB, "Delete", NULL, &deleted);
        if (!deleted.ok)
                g_error("the job's starter could not delete it: %s", deleted.output);
        g_auto(GStrv) paths = harness_object_paths(h);
        g_assert_false(g_strv_contains((const char *const *) paths, job));
}

/*
 * As installed, the daemon is not root: polkit answers a caller that asks
 * about someone else only when it is root or the action's owner, which the
 * policy's org.freedesktop.policykit.owner annotation makes the service user.
 */
static void test_service_user(Fixture *f, gconstpointer data) {
        SKIP_UNLESS_READY(f);
        g_autoptr(GError) error = NULL;
        Harness *h = &f->h;

        struct passwd *pw = getpwnam(SERVICE_USER);
        g_assert_nonnull(pw);
        uid_t service_uid = pw->pw_uid;
        gid_t service_gid = pw->pw_gid;
        struct group *gr = getgrgid(NOBODY_GID);
        g_assert_nonnull(gr);
        g_autofree char *rules = g_strdup_printf(
                "polkit.addRule(function(action, subject) {\n"
                "        if (action.id.indexOf(\"org.iscsi.replication.\") == 0 &&\n"
                "            subject.isInGroup(\"%s\"))\n"
                "                return polkit.Result.YES;\n"
                "});\n",
                gr->gr_name);
        write_rules(f, rules);
        polkitd_start(f);

        /* StateDirectory= hands the unit's user its directory; here the test does. */
        g_assert_cmpint(chown(h->state_directory, service_uid, service_gid), ==, 0);
        harness_start_daemon_as(h, service_uid, service_gid);

        /* The bus policy let that user own the name. */
        g_autoptr(GVariant) owner_uid = g_dbus_connection_call_sync(
                h->connection, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                "GetConnectionUnixUser", g_variant_new("(s)", h->daemon_owner), G_VARIANT_TYPE("(u)"),
                G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
        g_assert_no_error(error);
        guint32 uid;
        g_variant_get(owner_uid, "(u)", &uid);
        g_assert_cmpuint(uid, ==, service_uid);

        /* Granted by the rule: polkit answered the service about another user. */
        g_auto(CallResult) granted = { 0 };
        call_service_as(f, NOBODY_UID, NOBODY_GID, FALSE, IRD_ROOT, IRD_IFACE_SERVICE, "AddPeerSystem",
                        g_variant_new("(sa{sv})", "iqn.2026-11.org.example:by-nobody", NULL),
                        &granted);
        if (!granted.ok)
                g_error("a granted caller was refused by a daemon running as %s: %s", SERVICE_USER, granted.output);

        /* Not granted: polkit's own default, a challenge, not a failure to ask. */
        pw = getpwnam("daemon");
        g_assert_nonnull(pw);
        g_auto(CallResult) challenged = { 0 };
        call_service_as(f, pw->pw_uid, pw->pw_gid, FALSE, IRD_ROOT, IRD_IFACE_SERVICE, "AddPeerSystem",
                        g_variant_new("(sa{sv})", "iqn.2026-11.org.example:by-daemon", NULL),
                        &challenged);
        g_assert_false(challenged.ok);
        g_assert_cmpstr(challenged.error_name, ==, ERROR_INTERACTIVE);

        /* root needs no polkit, whoever the daemon runs as. */
        g_autofree char *peer = harness_add_peer(h, "iqn.2026-11.org.example:by-root", NULL);
        g_assert_nonnull(peer);
}

/* ------------------------------------------------------------------------ */
/* tests: the shipped actions, as polkitd reads them */

/* PolkitImplicitAuthorization: what <allow_*> says in the .policy. */
enum {
        IMPLICIT_AUTH_ADMIN = 2,
        IMPLICIT_AUTH_ADMIN_KEEP = 4,
};

/* API.md sections 9 and 10: every action with its defaults (any / inactive / active), and no other. */
static void test_actions_as_documented(Fixture *f, gconstpointer data) {
        static const struct {
                const char *id;
                guint32 any, inactive, active;
        } expected[] = {
                { ACTION_COLLECTIONS, IMPLICIT_AUTH_ADMIN, IMPLICIT_AUTH_ADMIN, IMPLICIT_AUTH_ADMIN_KEEP },
                { ACTION_PEERS, IMPLICIT_AUTH_ADMIN, IMPLICIT_AUTH_ADMIN, IMPLICIT_AUTH_ADMIN_KEEP },
                { ACTION_SECRETS, IMPLICIT_AUTH_ADMIN, IMPLICIT_AUTH_ADMIN, IMPLICIT_AUTH_ADMIN },
                { ACTION_JOBS, IMPLICIT_AUTH_ADMIN, IMPLICIT_AUTH_ADMIN, IMPLICIT_AUTH_ADMIN_KEEP },
                { ACTION_REPLICAS, IMPLICIT_AUTH_ADMIN, IMPLICIT_AUTH_ADMIN, IMPLICIT_AUTH_ADMIN_KEEP },
        };
        SKIP_UNLESS_READY(f);
        g_autoptr(GError) error = NULL;
        guint found = 0;

        polkitd_start(f);
        g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
                f->h.connection, POLKIT_NAME, "/org/freedesktop/PolicyKit1/Authority",
                "org.freedesktop.PolicyKit1.Authority", "EnumerateActions", g_variant_new("(s)", "C"),
                G_VARIANT_TYPE("(a(ssssssuuua{ss}))"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
        g_assert_no_error(error);

        g_autoptr(GVariantIter) actions = NULL;
        g_variant_get(reply, "(a(ssssssuuua{ss}))", &actions);
        const char *id, *description, *message, *vendor, *vendor_url, *icon;
        guint32 any, inactive, active;
        GVariantIter *annotations;
        while (g_variant_iter_next(actions, "(&s&s&s&s&s&suuua{ss})", &id, &description, &message, &vendor,
                                   &vendor_url, &icon, &any, &inactive, &active, &annotations)) {
                g_autoptr(GVariantIter) owned_annotations = annotations;
                const char *key, *value, *owner = NULL;
                gsize i;

                if (!g_str_has_prefix(id, "org.iscsi.replication."))
                        continue;
                for (i = 0; i < G_N_ELEMENTS(expected); i++)
                        if (g_str_equal(expected[i].id, id))
                                break;
                if (i == G_N_ELEMENTS(expected))
                        g_error("the policy has action %s, which the contract does not name", id);
                found++;
                if (any != expected[i].any || inactive != expected[i].inactive || active != expected[i].active)
                        g_error("%s: defaults %u/%u/%u, contract says %u/%u/%u", id, any, inactive, active,
                                expected[i].any, expected[i].inactive, expected[i].active);
                g_assert_cmpstr(vendor, ==, "iscsi-replicationd");
                /* What an authentication dialog shows: one sentence that names the matter. */
                g_assert_cmpuint(strlen(description), >, 10);
                g_assert_true(g_str_has_prefix(message, "Authentication is required to "));
                while (g_variant_iter_next(owned_annotations, "{&s&s}", &key, &value))
                        if (g_str_equal(key, "org.freedesktop.policykit.owner"))
                                owner = value;
                g_assert_cmpstr(owner, ==, "unix-user:" SERVICE_USER);
        }
        g_assert_cmpuint(found, ==, G_N_ELEMENTS(expected));
}

/* ------------------------------------------------------------------------ */
/* tests: bus policy and activation */

static void test_own_name(Fixture *f, gconstpointer data) {
        SKIP_UNLESS_READY(f);
        g_autoptr(GError) error = NULL;

        g_auto(CallResult) r = { 0 };
        call_as(f, NOBODY_UID, NOBODY_GID, FALSE, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                "org.freedesktop.DBus", "RequestName", g_variant_new("(su)", IRD_BUS_NAME, 4), &r);
        g_assert_false(r.ok);
        g_assert_cmpstr(r.error_name, ==, IRD_ERROR_ACCESS_DENIED);

        /* root may (it runs the daemon by hand); 1 is DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER. */
        g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
                f->h.connection, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                "RequestName", g_variant_new("(su)", IRD_BUS_NAME, 4), G_VARIANT_TYPE("(u)"),
                G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
        g_assert_no_error(error);
        guint32 result;
        g_variant_get(reply, "(u)", &result);
        g_assert_cmpuint(result, ==, 1);

        /* Anyone may call the name's owner, though: the service decides, through polkit. */
        g_auto(CallResult) ping = { 0 };
        call_as(f, NOBODY_UID, NOBODY_GID, FALSE, IRD_BUS_NAME, "/", "org.freedesktop.DBus.Peer", "Ping", NULL, &ping);
        if (!ping.ok)
                g_error("an unprivileged caller could not reach the name's owner: %s", ping.output);
}

static gboolean daemon_owns_name(gpointer user_data) {
        return ((Harness *) user_data)->daemon_owner != NULL;
}

static gboolean daemon_released_name(gpointer user_data) {
        return ((Harness *) user_data)->daemon_owner == NULL;
}

static void test_activation(Fixture *f, gconstpointer data) {
        SKIP_UNLESS_READY(f);
        g_autoptr(GError) error = NULL;
        Harness *h = &f->h;
        const char *daemon = need_env("IRD_DAEMON");

        if (harness_bus_kind() == HARNESS_BUS_BROKER) {
                /* Its launcher asks systemd to start a unit for the name; the tests have no systemd manager. */
                g_test_skip("dbus-broker activates services only through systemd");
                return;
        }

        g_autofree char *quoted_daemon = g_shell_quote(daemon);
        g_autofree char *quoted_state = g_shell_quote(h->state_directory);
        g_autofree char *activation = g_strdup_printf("[D-BUS Service]\n"
                                                      "Name=" IRD_BUS_NAME "\n"
                                                      "Exec=%s --system --state-directory=%s\n"
                                                      "User=root\n",
                                                      quoted_daemon, quoted_state);
        g_autofree char *activation_path = g_build_filename(f->service_dir, IRD_BUS_NAME ".service", NULL);
        g_assert_true(g_file_set_contents(activation_path, activation, -1, &error));
        g_assert_no_error(error);
        /* The bus answers ReloadConfig after re-reading its service directories. */
        g_autoptr(GVariant) reloaded = g_dbus_connection_call_sync(
                h->connection, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                "ReloadConfig", NULL, NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
        g_assert_no_error(error);

        g_autoptr(GVariant) has_owner = g_dbus_connection_call_sync(
                h->connection, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                "NameHasOwner", g_variant_new("(s)", IRD_BUS_NAME), G_VARIANT_TYPE("(b)"), G_DBUS_CALL_FLAGS_NONE,
                -1, NULL, &error);
        g_assert_no_error(error);
        gboolean owned;
        g_variant_get(has_owner, "(b)", &owned);
        g_assert_false(owned);

        /* A plain call (auto-start is GDBus's default) starts the daemon and is answered by it. */
        g_autofree char *version = harness_get_string(h, IRD_ROOT, IRD_IFACE_SERVICE, "Version");
        g_assert_cmpstr(version, !=, "");
        harness_wait_until(h, daemon_owns_name, h, "the activated daemon's name to be seen");

        g_autoptr(GVariant) pid_reply = g_dbus_connection_call_sync(
                h->connection, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                "GetConnectionUnixProcessID", g_variant_new("(s)", h->daemon_owner), G_VARIANT_TYPE("(u)"),
                G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
        g_assert_no_error(error);
        guint32 pid;
        g_variant_get(pid_reply, "(u)", &pid);

        /* It is the built daemon, and it found this bus through --system. */
        g_autofree char *exe_link = g_strdup_printf("/proc/%u/exe", pid);
        g_autofree char *exe = g_file_read_link(exe_link, &error);
        g_assert_no_error(error);
        g_autofree char *expected_exe = realpath(daemon, NULL);
        g_assert_cmpstr(exe, ==, expected_exe);
        g_autofree char *cmdline_path = g_strdup_printf("/proc/%u/cmdline", pid);
        g_autofree char *cmdline = NULL;
        gsize len = 0;
        g_assert_true(g_file_get_contents(cmdline_path, &cmdline, &len, NULL));
        gboolean system_flag = FALSE;
        for (gsize off = 0; off < len; off += strlen(cmdline + off) + 1)
                system_flag = system_flag || g_str_equal(cmdline + off, "--system");
        g_assert_true(system_flag);
        g_autofree char *log = harness_read_log(h);
        g_assert_nonnull(strstr(log, "Activating service name='" IRD_BUS_NAME "'"));

        /* The bus started it, so the test stops it: the process is not the harness's child. */
        g_assert_cmpint(kill((pid_t) pid, SIGTERM), ==, 0);
        harness_wait_until(h, daemon_released_name, h, "the activated daemon to exit");
}

/* The shipped activation file hands activation to the unit, by the unit's own name (no alias to enable). */
static void test_activation_file(void) {
        g_autoptr(GError) error = NULL;
        const char *units_dir = need_env("IRD_UNITS_DIR");
        g_autofree char *path = g_build_filename(units_dir, IRD_BUS_NAME ".service", NULL);
        g_autoptr(GKeyFile) kf = g_key_file_new();

        g_assert_true(g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &error));
        g_assert_no_error(error);
        g_autofree char *name = g_key_file_get_string(kf, "D-BUS Service", "Name", &error);
        g_assert_no_error(error);
        g_assert_cmpstr(name, ==, IRD_BUS_NAME);
        g_autofree char *unit_name = g_key_file_get_string(kf, "D-BUS Service", "SystemdService", &error);
        g_assert_no_error(error);

        g_assert_cmpstr(unit_name, ==, "iscsi-replicationd.service");
        g_autofree char *unit_in_path = g_build_filename(units_dir, "iscsi-replicationd.service.in", NULL);
        g_autofree char *unit = NULL;
        g_assert_true(g_file_get_contents(unit_in_path, &unit, NULL, &error));
        g_assert_no_error(error);
        g_assert_nonnull(strstr(unit, "\nBusName=" IRD_BUS_NAME "\n"));
}

/* ------------------------------------------------------------------------ */
/* tests: the systemd unit */

/* The unit as meson generates it, with the built daemon as ExecStart, in a fresh directory. */
static char *write_unit(char **ret_dir) {
        g_autoptr(GError) error = NULL;
        g_autofree char *in_path = g_build_filename(need_env("IRD_UNITS_DIR"), "iscsi-replicationd.service.in", NULL);
        g_autofree char *text = NULL;

        g_assert_true(g_file_get_contents(in_path, &text, NULL, &error));
        g_assert_no_error(error);
        g_auto(GStrv) parts = g_strsplit(text, "@libexecdir@/iscsi-replicationd", -1);
        g_assert_cmpuint(g_strv_length(parts), ==, 2);
        g_autofree char *unit = g_strjoinv(need_env("IRD_DAEMON"), parts);
        g_assert_false(g_regex_match_simple("@[A-Za-z_]+@", unit, 0, 0));

        char *dir = g_dir_make_tmp("ird-unit-XXXXXX", &error);
        g_assert_no_error(error);
        char *path = g_build_filename(dir, "iscsi-replicationd.service", NULL);
        g_assert_true(g_file_set_contents(path, unit, -1, &error));
        g_assert_no_error(error);
        *ret_dir = dir;
        return path;
}

static void remove_unit(char *dir, char *path) {
        g_assert_cmpint(g_unlink(path), ==, 0);
        g_assert_cmpint(g_rmdir(dir), ==, 0);
        g_free(path);
        g_free(dir);
}

static void run_tool(const char *const *argv, int *ret_status, char **ret_stdout, char **ret_stderr) {
        g_autoptr(GError) error = NULL;

        g_assert_true(g_spawn_sync(NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, ret_stdout,
                                   ret_stderr, ret_status, &error));
        g_assert_no_error(error);
}

static void test_unit_verify(void) {
        char *dir = NULL;
        char *path = write_unit(&dir);
        g_autofree char *out = NULL, *err = NULL;
        int status;

        const char *const argv[] = { "systemd-analyze", "verify", "--man=no", path, NULL };
        run_tool(argv, &status, &out, &err);
        g_test_message("systemd-analyze verify: %s%s", out, err);
        g_assert_true(WIFEXITED(status));
        g_assert_cmpint(WEXITSTATUS(status), ==, 0);

        /* The one complaint allowed: the service's user is created at install time (sysusers), not here. */
        g_auto(GStrv) lines = g_strsplit(err, "\n", -1);
        for (size_t i = 0; lines[i]; i++) {
                if (!*lines[i])
                        continue;
                g_autofree char *lower = g_ascii_strdown(lines[i], -1);
                if (strstr(lower, "iscsi-replication") && strstr(lower, "user"))
                        continue;
                g_error("systemd-analyze verify complained: %s", lines[i]);
        }
        remove_unit(dir, path);
}

static void test_unit_security(void) {
        char *dir = NULL;
        char *path = write_unit(&dir);
        g_autofree char *out = NULL, *err = NULL;
        int status;

        const char *const argv[] = { "systemd-analyze", "security", "--offline=yes", "--no-pager", path, NULL };
        run_tool(argv, &status, &out, &err);
        g_assert_true(WIFEXITED(status));
        g_assert_cmpint(WEXITSTATUS(status), ==, 0);

        g_autoptr(GRegex) re = g_regex_new("Overall exposure level for iscsi-replicationd\\.service: ([0-9]+\\.[0-9]+)",
                                           0, 0, NULL);
        g_autoptr(GMatchInfo) match = NULL;
        if (!g_regex_match(re, out, 0, &match))
                g_error("no overall exposure level in:\n%s%s", out, err);
        g_autofree char *figure = g_match_info_fetch(match, 1);
        double exposure = g_ascii_strtod(figure, NULL);
        g_test_message("overall exposure level: %s", figure);
        /* systemd-hostnamed scores 1.5 and systemd-localed 1.2 on the reference machine; ours must beat both. */
        g_assert_cmpfloat(exposure, <, 1.2);
        remove_unit(dir, path);
}

/* ------------------------------------------------------------------------ */
/* supervisor */

typedef struct PolicyBackup {
        gboolean existed;
        char *contents;
        gsize length;
} PolicyBackup;

static PolicyBackup policy_backup;
static gboolean service_user_created;
static pid_t tests_pid;

static void forward_signal(int sig) {
        if (tests_pid > 0)
                (void) kill(tests_pid, sig);
}

static void install_policy(void) {
        g_autoptr(GError) error = NULL;
        g_autofree char *policy = NULL;
        gsize length;

        /* Someone may have installed the project here before; it is put back as it was. */
        policy_backup.existed = g_file_get_contents(POLICY_INSTALL_PATH, &policy_backup.contents,
                                                    &policy_backup.length, NULL);
        g_assert_true(g_file_get_contents(need_env("IRD_POLKIT_POLICY"), &policy, &length, &error));
        g_assert_no_error(error);
        g_assert_true(g_file_set_contents_full(POLICY_INSTALL_PATH, policy, (gssize) length,
                                               G_FILE_SET_CONTENTS_CONSISTENT, 0644, &error));
        g_assert_no_error(error);
}

static void restore_policy(void) {
        if (policy_backup.existed) {
                if (!g_file_set_contents_full(POLICY_INSTALL_PATH, policy_backup.contents,
                                              (gssize) policy_backup.length, G_FILE_SET_CONTENTS_CONSISTENT, 0644,
                                              NULL))
                        fprintf(stderr, "test-polkit: could not restore %s\n", POLICY_INSTALL_PATH);
        } else if (unlink(POLICY_INSTALL_PATH) < 0 && errno != ENOENT)
                fprintf(stderr, "test-polkit: could not remove %s: %s\n", POLICY_INSTALL_PATH, strerror(errno));
        g_free(policy_backup.contents);
}

static gboolean run_quietly(const char *const *argv) {
        g_autofree char *out = NULL, *err = NULL;
        int status;

        if (!g_spawn_sync(NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status, NULL))
                return FALSE;
        if (!g_spawn_check_wait_status(status, NULL)) {
                fprintf(stderr, "test-polkit: %s failed: %s%s\n", argv[0], out ?: "", err ?: "");
                return FALSE;
        }
        return TRUE;
}

/*
 * The unit runs the daemon as the user the project's sysusers file
 * declares; for the run, that file creates it (when the machine has not),
 * and it is deleted again afterwards.
 */
static void create_service_user(void) {
        g_autofree char *sysusers = g_build_filename(need_env("IRD_UNITS_DIR"), "iscsi-replicationd.sysusers", NULL);

        if (getpwnam(SERVICE_USER))
                return;
        /* Not fatal here, where nothing would clean up: the test that needs the user fails instead. */
        const char *const argv[] = { "systemd-sysusers", sysusers, NULL };
        (void) run_quietly(argv);
        service_user_created = getpwnam(SERVICE_USER) != NULL;
        if (!service_user_created)
                fprintf(stderr, "test-polkit: %s did not create the user %s\n", sysusers, SERVICE_USER);
}

static void delete_service_user(void) {
        if (!service_user_created)
                return;
        const char *const userdel[] = { "userdel", SERVICE_USER, NULL };
        (void) run_quietly(userdel);
        /* userdel drops the user's own group too where USERGROUPS_ENAB is set; elsewhere it stays. */
        if (getgrnam(SERVICE_USER)) {
                const char *const groupdel[] = { "groupdel", SERVICE_USER, NULL };
                (void) run_quietly(groupdel);
        }
}

static pid_t parent_of(const char *pid) {
        g_autofree char *path = g_strdup_printf("/proc/%s/stat", pid);
        g_autofree char *stat = NULL;
        char state;
        int ppid;

        if (!g_file_get_contents(path, &stat, NULL, NULL))
                return 0;
        /* The command name may hold anything, parentheses included; the fields after it do not. */
        const char *p = strrchr(stat, ')');
        if (!p || sscanf(p + 1, " %c %d", &state, &ppid) != 2)
                return 0;
        return (pid_t) ppid;
}

/*
 * Processes a test left when it aborted (bus, polkitd, daemon) were
 * reparented to us, the subreaper: end them by pid, then those they in turn
 * leave, until we have no children.
 */
static void end_leftovers(void) {
        g_autoptr(GHashTable) ended = g_hash_table_new(NULL, NULL);

        for (;;) {
                g_autoptr(GDir) proc = g_dir_open("/proc", 0, NULL);
                const char *name;

                while (proc && (name = g_dir_read_name(proc))) {
                        pid_t pid = (pid_t) atoi(name);

                        if (pid <= 0 || parent_of(name) != getpid() ||
                            g_hash_table_contains(ended, GINT_TO_POINTER(pid)))
                                continue;
                        fprintf(stderr, "test-polkit: ending leftover process %d\n", (int) pid);
                        (void) kill(pid, SIGKILL);
                        g_hash_table_add(ended, GINT_TO_POINTER(pid));
                }
                pid_t reaped = waitpid(-1, NULL, 0);
                if (reaped < 0 && errno == ECHILD)
                        return;
                if (reaped > 0)
                        g_hash_table_remove(ended, GINT_TO_POINTER(reaped));
        }
}

/*
 * Runs the tests in a child process and cleans the system up after it,
 * whether it passes, fails, aborts or is killed by meson's timeout.
 */
static int supervise(void) {
        int status;

        /*
         * polkitd reads every file in the rules directory, and another run of
         * this test (another build directory) would write the same ones: one
         * run at a time, and the directory itself is the lock.
         */
        int lock_fd = open(POLKIT_RULES_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        g_assert_cmpint(lock_fd, >=, 0);
        while (flock(lock_fd, LOCK_EX) < 0)
                g_assert_cmpint(errno, ==, EINTR);

        g_assert_cmpint(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), ==, 0);
        create_service_user();
        install_policy();
        /* A previous run that was killed outright may have left its rules. */
        (void) unlink(RULES_PATH);

        fflush(NULL);
        tests_pid = fork();
        g_assert_cmpint(tests_pid, >=, 0);
        if (tests_pid == 0)
                return g_test_run();

        struct sigaction sa = { .sa_handler = forward_signal };
        sigemptyset(&sa.sa_mask);
        (void) sigaction(SIGTERM, &sa, NULL);
        (void) sigaction(SIGINT, &sa, NULL);
        (void) sigaction(SIGHUP, &sa, NULL);

        while (waitpid(tests_pid, &status, 0) < 0)
                if (errno != EINTR) {
                        status = W_EXITCODE(1, 0);
                        break;
                }

        if (unlink(RULES_PATH) == 0)
                fprintf(stderr, "test-polkit: removed %s left by the tests\n", RULES_PATH);
        restore_policy();
        end_leftovers();
        delete_service_user();
        close(lock_fd);

        if (WIFSIGNALED(status)) {
                fprintf(stderr, "test-polkit: the tests died of signal %d\n", WTERMSIG(status));
                return 128 + WTERMSIG(status);
        }
        return WEXITSTATUS(status);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);

        g_test_add("/polkit/unprivileged/refused", Fixture, &with_daemon, fixture_setup, test_unprivileged_refused,
                   fixture_teardown);
        g_test_add("/polkit/unprivileged/reads", Fixture, &with_daemon, fixture_setup, test_unprivileged_reads,
                   fixture_teardown);
        g_test_add("/polkit/rules/group-granted", Fixture, &with_daemon, fixture_setup, test_group_rule_grants,
                   fixture_teardown);
        g_test_add("/polkit/rules/no-is-access-denied", Fixture, &with_daemon, fixture_setup, test_rule_says_no,
                   fixture_teardown);
        g_test_add("/polkit/root/never-asks", Fixture, &with_daemon, fixture_setup, test_root_never_asks,
                   fixture_teardown);
        g_test_add("/polkit/absent/refused-at-once", Fixture, &with_daemon, fixture_setup, test_polkit_absent,
                   fixture_teardown);
        g_test_add("/polkit/jobs/starter-needs-no-authorization", Fixture, &with_daemon, fixture_setup,
                   test_job_starter, fixture_teardown);
        g_test_add("/polkit/service-user/asks-for-others", Fixture, &bus_only, fixture_setup, test_service_user,
                   fixture_teardown);
        g_test_add("/polkit/pending/others-served", Fixture, &with_daemon, fixture_setup, test_pending_serves_others,
                   fixture_teardown);
        g_test_add("/polkit/actions/as-documented", Fixture, &bus_only, fixture_setup, test_actions_as_documented,
                   fixture_teardown);
        g_test_add("/units/bus-policy/own-name", Fixture, &bus_only, fixture_setup, test_own_name, fixture_teardown);
        g_test_add("/units/activation/starts-daemon", Fixture, &with_service_dir, fixture_setup, test_activation,
                   fixture_teardown);
        g_test_add_func("/units/activation/file", test_activation_file);
        g_test_add_func("/units/service/verify", test_unit_verify);
        g_test_add_func("/units/service/security", test_unit_security);

        if (getuid() != 0)
                return g_test_run();
        return supervise();
}
