/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The daemon's state directory and command line (issue 2, item 8): where
 * the state is kept, one instance to a directory, and the options refused,
 * each before anything is touched.
 */

#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "daemon-fixture.h"
#include "harness.h"

#define STORE_FILE "state.db"

static gboolean path_exists(const char *dir, const char *name) {
        g_autofree char *path = name ? g_build_filename(dir, name, NULL) : g_strdup(dir);
        struct stat st;

        return lstat(path, &st) == 0;
}

/* ------------------------------------------------------------------------ */
/* state directory */

static char *add_peer_and_stop(Harness *h) {
        char *peer = harness_add_peer(h, PEER_IQN, "kept");

        harness_stop_daemon(h);
        return peer;
}

static void assert_has_object(Harness *h, const char *path) {
        g_auto(GStrv) paths = harness_object_paths(h);
        g_assert_true(g_strv_contains((const char *const *) paths, path));
}

static void test_state_directory_from_environment(Harness *h, gconstpointer data) {
        g_autofree char *dir = g_build_filename(h->tmpdir, "from-env", NULL);
        g_autofree char *env_value = g_strdup_printf("STATE_DIRECTORY=%s", dir);
        const char *env[] = { env_value, NULL };

        harness_spawn_daemon(h, env, FALSE);
        harness_wait_daemon_name(h);
        g_assert_true(path_exists(dir, STORE_FILE));
        g_assert_false(path_exists(h->state_directory, STORE_FILE));
        g_autofree char *peer = add_peer_and_stop(h);

        /* The same environment finds the same state. */
        harness_spawn_daemon(h, env, FALSE);
        harness_wait_daemon_name(h);
        assert_has_object(h, peer);
        g_autofree char *log = harness_read_log(h);
        g_autofree char *serving = g_strdup_printf("state in %s.", dir);
        g_assert_nonnull(strstr(log, serving));
}

static void test_state_directory_first_of_list(Harness *h, gconstpointer data) {
        g_autofree char *first = g_build_filename(h->tmpdir, "first", NULL);
        g_autofree char *second = g_build_filename(h->tmpdir, "second", NULL);
        g_autofree char *env_value = g_strdup_printf("STATE_DIRECTORY=%s:%s", first, second);
        const char *env[] = { env_value, NULL };

        harness_spawn_daemon(h, env, FALSE);
        harness_wait_daemon_name(h);
        g_assert_true(path_exists(first, STORE_FILE));
        g_assert_false(path_exists(second, NULL));
        g_autofree char *peer = add_peer_and_stop(h);

        /* Only the first entry matters: without the second the state is the same. */
        g_autofree char *only_first = g_strdup_printf("STATE_DIRECTORY=%s", first);
        const char *env2[] = { only_first, NULL };
        harness_spawn_daemon(h, env2, FALSE);
        harness_wait_daemon_name(h);
        assert_has_object(h, peer);
        g_assert_false(path_exists(second, NULL));
}

static void test_state_directory_option_wins(Harness *h, gconstpointer data) {
        g_autofree char *dir = g_build_filename(h->tmpdir, "from-env", NULL);
        g_autofree char *env_value = g_strdup_printf("STATE_DIRECTORY=%s", dir);
        const char *env[] = { env_value, NULL };

        harness_spawn_daemon(h, env, TRUE);
        harness_wait_daemon_name(h);
        g_assert_true(path_exists(h->state_directory, STORE_FILE));
        g_assert_false(path_exists(dir, NULL));
        g_autofree char *peer = add_peer_and_stop(h);

        /* The option's state, not a fresh one, whatever the environment says. */
        harness_spawn_daemon(h, env, TRUE);
        harness_wait_daemon_name(h);
        assert_has_object(h, peer);
        g_assert_false(path_exists(dir, NULL));
}

/*
 * A second instance on the same state directory, even on another bus, exits
 * at once and names the directory and the first instance's pid; the first
 * keeps serving what it had.
 */
static void test_state_directory_one_instance(Harness *h, gconstpointer data) {
        g_autofree char *peer = harness_add_peer(h, PEER_IQN, "first");
        g_autofree char *before = harness_snapshot(h);
        Harness other;

        setup_without_daemon(&other, NULL);
        g_autofree char *address = g_strdup_printf("--address=%s", other.bus_address);
        g_autofree char *state = g_strdup_printf("--state-directory=%s", h->state_directory);
        /* Were it to run beside the first, it would leave by idling, with status 0. */
        const char *args[] = { address, state, "--exit-on-idle=2", NULL };
        const char *env[] = { "NOTIFY_SOCKET", NULL };
        g_autofree char *err = NULL;
        gint64 started = g_get_monotonic_time();
        int status = harness_run_daemon(&other, args, env, NULL, &err);
        gint64 took = g_get_monotonic_time() - started;

        g_test_message("second instance: wait status 0x%x after %.3f s; stderr:\n%s", (unsigned) status,
                       (double) took / G_USEC_PER_SEC, err);
        g_assert_true(WIFEXITED(status));
        g_assert_cmpint(WEXITSTATUS(status), !=, 0);
        g_assert_cmpint(took, <, 2 * G_USEC_PER_SEC);
        g_assert_nonnull(strstr(err, h->state_directory));
        g_autofree char *holder = g_strdup_printf("pid %s", g_subprocess_get_identifier(h->daemon));
        g_assert_nonnull(strstr(err, holder));
        harness_teardown(&other, NULL);

        g_autofree char *after = harness_snapshot(h);
        g_assert_cmpstr(before, ==, after);
        g_autoptr(GVariant) r = harness_call(h, peer, IRD_IFACE_SYSTEM, "Delete", NULL);
}

/* ------------------------------------------------------------------------ */
/* command line */

typedef struct BadCommandLine {
        const char *args[3];
        const char *named;              /* what the message must mention */
} BadCommandLine;

static const BadCommandLine bad_command_lines[] = {
        { { "--probe-timeout=abc" }, "--probe-timeout" },
        { { "--probe-timeout=0" }, "--probe-timeout" },
        { { "--probe-timeout=nan" }, "--probe-timeout" },
        { { "--probe-timeout=" }, "--probe-timeout" },
        { { "--exit-on-idle=-1" }, "--exit-on-idle" },
        { { "--exit-on-idle=5s" }, "--exit-on-idle" },
        { { "--max-running-jobs=-1" }, "--max-running-jobs" },
        { { "--max-running-jobs= -1" }, "--max-running-jobs" },
        { { "--max-array-entries=12abc" }, "--max-array-entries" },
        { { "--max-peer-systems=many" }, "--max-peer-systems" },
        { { "--max-collection-members=-1" }, "--max-collection-members" },
        { { "--max-message-size=32M" }, "--max-message-size" },
        { { "--verify-access-points=maybe" }, "--verify-access-points" },
        { { "--log-level=loud" }, "--log-level" },
        { { "--no-such-option" }, "no-such-option" },
        { { "--address" }, "address" },
        { { "stray" }, "stray" },
        { { "--session", "stray" }, "stray" },
};

/*
 * Runs the daemon with a bus and state directories that must stay untouched,
 * then args; a command line accepted by mistake still ends soon, by idling.
 */
static int run_command_line(Harness *h, const char *const *args, char **ret_stdout, char **ret_stderr) {
        g_autofree char *address = g_strdup_printf("--address=%s", h->bus_address);
        g_autofree char *option_dir = g_build_filename(h->tmpdir, "untouched-option", NULL);
        g_autofree char *env_dir = g_build_filename(h->tmpdir, "untouched-env", NULL);
        g_autofree char *state = g_strdup_printf("--state-directory=%s", option_dir);
        g_autofree char *state_env = g_strdup_printf("STATE_DIRECTORY=%s", env_dir);
        const char *env[] = { state_env, "NOTIFY_SOCKET", NULL };
        g_autoptr(GPtrArray) argv = g_ptr_array_new();

        g_ptr_array_add(argv, address);
        g_ptr_array_add(argv, state);
        g_ptr_array_add(argv, (gpointer) "--exit-on-idle=0.2");
        for (size_t i = 0; args[i]; i++)
                g_ptr_array_add(argv, (gpointer) args[i]);
        g_ptr_array_add(argv, NULL);

        return harness_run_daemon(h, (const char *const *) argv->pdata, env, ret_stdout, ret_stderr);
}

static void assert_state_untouched(Harness *h) {
        g_autofree char *option_dir = g_build_filename(h->tmpdir, "untouched-option", NULL);
        g_autofree char *env_dir = g_build_filename(h->tmpdir, "untouched-env", NULL);

        g_assert_false(path_exists(option_dir, NULL));
        g_assert_false(path_exists(env_dir, NULL));
}

static void test_command_line_invalid(Harness *h, gconstpointer data) {
        for (size_t i = 0; i < G_N_ELEMENTS(bad_command_lines); i++) {
                const BadCommandLine *c = &bad_command_lines[i];
                g_autofree char *shown = g_strjoinv(" ", (char **) c->args);
                g_autofree char *out = NULL;
                g_autofree char *err = NULL;

                g_test_message("command line: %s", shown);
                int status = run_command_line(h, c->args, &out, &err);
                if (!WIFEXITED(status) || WEXITSTATUS(status) == 0)
                        g_error("'%s' was not refused: wait status 0x%x, stderr:\n%s", shown, (unsigned) status, err);
                if (!strstr(err, c->named))
                        g_error("'%s': stderr does not mention %s:\n%s", shown, c->named, err);
                g_assert_cmpstr(out, ==, "");
                assert_state_untouched(h);
                g_assert_null(h->daemon_owner);
        }
}

static void test_command_line_help_version(Harness *h, gconstpointer data) {
        const char *help[] = { "--help", NULL };
        const char *short_help[] = { "-h", NULL };
        const char *version[] = { "--version", NULL };
        g_autofree char *out = NULL, *err = NULL;

        int status = run_command_line(h, help, &out, &err);
        g_assert_true(exited_with(status, 0));
        g_assert_true(g_str_has_prefix(out, "Usage: iscsi-replicationd"));
        g_assert_nonnull(strstr(out, "--exit-on-idle=SECONDS"));
        g_assert_cmpstr(err, ==, "");
        assert_state_untouched(h);
        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);

        status = run_command_line(h, short_help, &out, &err);
        g_assert_true(exited_with(status, 0));
        g_assert_true(g_str_has_prefix(out, "Usage: iscsi-replicationd"));
        assert_state_untouched(h);
        g_clear_pointer(&out, g_free);
        g_clear_pointer(&err, g_free);

        status = run_command_line(h, version, &out, &err);
        g_assert_true(exited_with(status, 0));
        g_assert_true(g_regex_match_simple("^iscsi-replicationd [0-9][^\n]*\n$", out, 0, 0));
        g_assert_cmpstr(err, ==, "");
        assert_state_untouched(h);
        g_assert_null(h->daemon_owner);
}


int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);

        add_test_without_daemon("/integration/daemon/state-directory/from-environment", NULL,
                                test_state_directory_from_environment);
        add_test_without_daemon("/integration/daemon/state-directory/first-of-list", NULL,
                                test_state_directory_first_of_list);
        add_test_without_daemon("/integration/daemon/state-directory/option-wins", NULL,
                                test_state_directory_option_wins);
        harness_add_test("/integration/daemon/state-directory/one-instance", NULL, test_state_directory_one_instance);
        add_test_without_daemon("/integration/daemon/command-line/invalid", NULL, test_command_line_invalid);
        add_test_without_daemon("/integration/daemon/command-line/help-version", NULL,
                                test_command_line_help_version);

        return g_test_run();
}
