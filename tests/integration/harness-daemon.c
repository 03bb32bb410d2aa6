/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The daemon under test as a process of the fixture: started on the private
 * bus (as root or as its own user), watched until it owns its name, stopped,
 * killed, or run to completion with chosen arguments. Its stdout and stderr
 * go to the test's daemon log. See harness.h.
 */

#include "harness-internal.h"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static void on_owner_appeared(GDBusConnection *connection, const char *name, const char *owner, gpointer user_data) {
        char **slot = user_data;

        g_free(*slot);
        *slot = g_strdup(owner);
}

static void on_owner_vanished(GDBusConnection *connection, const char *name, gpointer user_data) {
        g_clear_pointer((char **) user_data, g_free);
}

guint harness_watch_owner(GDBusConnection *connection, const char *name, char **owner) {
        return g_bus_watch_name_on_connection(connection, name, G_BUS_NAME_WATCHER_FLAGS_NONE, on_owner_appeared,
                                              on_owner_vanished, owner, NULL);
}

void harness_watch_daemon_name(Harness *h) {
        h->name_watch = harness_watch_owner(h->connection, IRD_BUS_NAME, &h->daemon_owner);
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

static const char *daemon_binary(void) {
        const char *daemon = g_getenv("IRD_DAEMON");

        if (!daemon)
                g_error("IRD_DAEMON is not set; run the tests through meson test");
        return daemon;
}

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

/*
 * Spawns the daemon on the test's bus with the extra arguments, env applied
 * as harness_spawn_daemon() describes, and child_setup run before its exec;
 * watches for its exit. Returns at once.
 */
static void spawn_daemon(Harness *h, const char *const *env, gboolean with_state_directory,
                         GSpawnChildSetupFunc child_setup, gpointer child_data) {
        g_autoptr(GError) error = NULL;

        g_assert_null(h->daemon);

        g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
        g_ptr_array_add(argv, g_strdup(daemon_binary()));
        g_ptr_array_add(argv, g_strdup_printf("--address=%s", h->bus_address));
        if (with_state_directory)
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
        g_subprocess_launcher_set_child_setup(launcher, child_setup, child_data, NULL);
        launcher_apply_env(launcher, env);

        h->daemon_exited = FALSE;
        h->daemon = g_subprocess_launcher_spawnv(launcher, (const char *const *) argv->pdata, &error);
        g_assert_no_error(error);

        ExitWatch *w = g_new0(ExitWatch, 1);
        w->h = h;
        w->process = g_object_ref(h->daemon);
        g_subprocess_wait_async(h->daemon, NULL, on_daemon_exited, w);
}

/* Waits until the spawned daemon owns its name; who names it when it exits first. */
static void wait_daemon_name(Harness *h, const char *who) {
        WAIT_UNTIL(h->daemon_owner || h->daemon_exited, "the daemon to own " IRD_BUS_NAME);
        if (h->daemon_exited) {
                g_autofree char *log = harness_read_log(h);
                g_error("%s exited before owning its name (status %d); log:\n%s", who,
                        g_subprocess_get_status(h->daemon), log);
        }
}

void harness_start_daemon(Harness *h) {
        spawn_daemon(h, NULL, TRUE, harness_die_with_parent, NULL);
        wait_daemon_name(h, "the daemon");
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
        DaemonUser user = { .uid = uid, .gid = gid };

        /* The launcher calls it synchronously during the spawn, so a stack value lives long enough. */
        spawn_daemon(h, NULL, TRUE, drop_to_daemon_user, &user);
        g_autofree char *who = g_strdup_printf("the daemon (uid %u)", (unsigned) uid);
        wait_daemon_name(h, who);
}

void harness_spawn_daemon(Harness *h, const char *const *env, gboolean with_state_directory) {
        /* A name still held by an earlier run would be taken for this one's. */
        g_assert_null(h->daemon_owner);
        spawn_daemon(h, env, with_state_directory, harness_die_with_parent, NULL);
}

void harness_wait_daemon_name(Harness *h) {
        g_assert_nonnull(h->daemon);
        wait_daemon_name(h, "the daemon");
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

int harness_wait_daemon_exit(Harness *h) {
        g_assert_nonnull(h->daemon);
        wait_daemon_gone(h);
        int status = g_subprocess_get_status(h->daemon);
        g_clear_object(&h->daemon);
        return status;
}

char *harness_read_log(Harness *h) {
        return harness_read_file_or_empty(h->log_path);
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
        g_subprocess_launcher_set_child_setup(launcher, harness_die_with_parent, NULL, NULL);
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
