/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Driving iscsi-replctl in the CLI tests (cli-fixture.h). */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "cli-fixture.h"

const HarnessConfig no_verify = { .daemon_args = (const char *const[]) { "--verify-access-points=no", NULL } };
/* Long enough that a probe of a black hole is still running when the test cancels it. */
const HarnessConfig slow_probes = { .daemon_args = (const char *const[]) { "--probe-timeout=30", NULL } };
const HarnessConfig quick_probes = { .daemon_args = (const char *const[]) { "--probe-timeout=0.5", NULL } };
const HarnessConfig one_entry = {
        .daemon_args = (const char *const[]) { "--verify-access-points=no", "--max-array-entries=1", NULL },
};

/* ------------------------------------------------------------------------ */
/* running the client */

void cli_result_free(CliResult *r) {
        if (!r)
                return;
        g_free(r->out);
        g_free(r->err);
        g_free(r);
}

const char *cli_path(void) {
        const char *cli = g_getenv("IRD_CLI");

        if (!cli)
                g_error("IRD_CLI is not set; run the tests through meson test");
        return cli;
}

/* argv for the client on the harness bus; prefix (NULL-terminated, may be NULL) runs it through another program. */
static GPtrArray *cli_argv(Harness *h, const char *const *prefix, const char *const *args) {
        GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);

        for (size_t i = 0; prefix && prefix[i]; i++)
                g_ptr_array_add(argv, g_strdup(prefix[i]));
        g_ptr_array_add(argv, g_strdup(cli_path()));
        g_ptr_array_add(argv, g_strdup_printf("--address=%s", h->bus_address));
        for (size_t i = 0; args[i]; i++)
                g_ptr_array_add(argv, g_strdup(args[i]));
        g_ptr_array_add(argv, NULL);
        return argv;
}

static int wait_status(GSubprocess *p) {
        if (g_subprocess_get_if_exited(p))
                return g_subprocess_get_exit_status(p);
        g_assert_true(g_subprocess_get_if_signaled(p));
        return 128 + g_subprocess_get_term_sig(p);
}

void on_communicated(GObject *source, GAsyncResult *result, gpointer user_data) {
        Pending *p = user_data;
        g_autoptr(GError) error = NULL;

        g_subprocess_communicate_utf8_finish(G_SUBPROCESS(source), result, &p->out, &p->err, &error);
        g_assert_no_error(error);
        p->done = TRUE;
}

/*
 * Starts the client with stdout and stderr on pipes and stdin closed (so no
 * terminal anywhere). env: NAME, VALUE pairs added to its environment,
 * NULL-terminated; may be NULL.
 */
Pending *cli_start_env(Harness *h, const char *const *prefix, const char *const *args, const char *const *env) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) argv = cli_argv(h, prefix, args);
        g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(
                G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
        Pending *p = g_new0(Pending, 1);

        for (size_t i = 0; env && env[i]; i += 2)
                g_subprocess_launcher_setenv(launcher, env[i], env[i + 1], TRUE);
        p->process = g_subprocess_launcher_spawnv(launcher, (const char *const *) argv->pdata, &error);
        g_assert_no_error(error);
        g_subprocess_communicate_utf8_async(p->process, NULL, NULL, on_communicated, p);
        return p;
}

Pending *cli_start(Harness *h, const char *const *prefix, const char *const *args) {
        return cli_start_env(h, prefix, args, NULL);
}

/* Waits (under the harness watchdog) for the client to exit and collects its output. */
CliResult *cli_finish(Harness *h, Pending *p) {
        CliResult *r = g_new0(CliResult, 1);

        harness_wait_for_flag(h, &p->done);
        g_assert_true(g_subprocess_wait(p->process, NULL, NULL));
        r->status = wait_status(p->process);
        r->out = g_steal_pointer(&p->out);
        r->err = g_steal_pointer(&p->err);
        g_test_message("exit %d\nstdout:\n%s\nstderr:\n%s", r->status, r->out, r->err);
        g_object_unref(p->process);
        g_free(p);
        return r;
}

CliResult *cli_runv(Harness *h, const char *const *args) {
        return cli_finish(h, cli_start(h, NULL, args));
}

/* Runs the client, asserts the exit status, and returns stdout with its trailing newline removed. */
char *cli_expect(Harness *h, int status, const char *const *args) {
        g_autoptr(CliResult) r = cli_runv(h, args);

        if (r->status != status)
                g_error("%s %s: exit %d, expected %d; stderr: %s", args[0], args[1] ? args[1] : "", r->status,
                        status, r->err);
        return g_strchomp(g_steal_pointer(&r->out));
}

/* ------------------------------------------------------------------------ */
/* pseudo-terminal */

static void make_controlling_terminal(gpointer user_data) {
        /* A session of its own with the pty as its terminal, so Ctrl-C there is SIGINT here. */
        (void) setsid();
        (void) ioctl(STDIN_FILENO, TIOCSCTTY, 0);
}

/* env: NAME, VALUE pairs (VALUE NULL unsets), NULL-terminated; may be NULL. */
void pty_start_full(Harness *h, Pty *t, const char *const *prefix, const char *const *args,
                    const char *const *env) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) argv = cli_argv(h, prefix, args);
        struct winsize ws = { .ws_row = 24, .ws_col = 100 };
        int slave;

        t->output = g_string_new(NULL);
        t->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        g_assert_cmpint(t->master, >=, 0);
        g_assert_cmpint(grantpt(t->master), ==, 0);
        g_assert_cmpint(unlockpt(t->master), ==, 0);
        slave = open(ptsname(t->master), O_RDWR | O_NOCTTY | O_CLOEXEC);
        g_assert_cmpint(slave, >=, 0);
        g_assert_cmpint(ioctl(slave, TIOCSWINSZ, &ws), ==, 0);

        g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
        g_subprocess_launcher_take_stdin_fd(launcher, dup(slave));
        g_subprocess_launcher_take_stdout_fd(launcher, dup(slave));
        g_subprocess_launcher_take_stderr_fd(launcher, slave);
        g_subprocess_launcher_set_child_setup(launcher, make_controlling_terminal, NULL, NULL);
        /* A pager or a polkit agent would only get in the way of reading the output. */
        g_subprocess_launcher_setenv(launcher, "SYSTEMD_PAGER", "", TRUE);
        for (size_t i = 0; env && env[i]; i += 2) {
                if (env[i + 1])
                        g_subprocess_launcher_setenv(launcher, env[i], env[i + 1], TRUE);
                else
                        g_subprocess_launcher_unsetenv(launcher, env[i]);
        }
        t->process = g_subprocess_launcher_spawnv(launcher, (const char *const *) argv->pdata, &error);
        g_assert_no_error(error);
}

void pty_start_env(Harness *h, Pty *t, const char *const *args, const char *const *env) {
        pty_start_full(h, t, NULL, args, env);
}

void pty_start(Harness *h, Pty *t, const char *const *args) {
        pty_start_full(h, t, NULL, args, NULL);
}

/*
 * Reads what the client writes until `until` appears (NULL: until the
 * terminal closes, which it does when the client exits). Gives up after the
 * harness watchdog time.
 */
gboolean pty_read(Pty *t, const char *until) {
        gint64 deadline = g_get_monotonic_time() + HARNESS_WATCHDOG_SECONDS * G_USEC_PER_SEC;

        for (;;) {
                char buf[4096];
                gint64 left;
                struct pollfd p = { .fd = t->master, .events = POLLIN };

                if (until && strstr(t->output->str, until))
                        return TRUE;
                left = (deadline - g_get_monotonic_time()) / 1000;
                if (left <= 0)
                        g_error("watchdog: no \"%s\" from the client; output so far:\n%s", until ? until : "EOF",
                                t->output->str);
                if (poll(&p, 1, (int) left) < 0) {
                        g_assert_cmpint(errno, ==, EINTR);
                        continue;
                }
                if (!p.revents)
                        continue;
                ssize_t n = read(t->master, buf, sizeof(buf));
                /* Linux reports EIO once every slave descriptor is closed. */
                if (n == 0 || (n < 0 && errno == EIO))
                        return FALSE;
                if (n < 0 && errno == EINTR)
                        continue;
                g_assert_cmpint(n, >, 0);
                g_string_append_len(t->output, buf, n);
        }
}

void pty_write(Pty *t, const char *s) {
        g_assert_cmpint(write(t->master, s, strlen(s)), ==, (ssize_t) strlen(s));
}

/* Reads to the end and returns the exit status. */
int pty_finish(Harness *h, Pty *t) {
        g_assert_false(pty_read(t, NULL));
        g_assert_true(g_subprocess_wait(t->process, NULL, NULL));
        int status = wait_status(t->process);
        g_test_message("exit %d, terminal output:\n%s", status, t->output->str);
        close(t->master);
        g_clear_object(&t->process);
        return status;
}

void pty_clear(Pty *t) {
        if (t->output)
                g_string_free(t->output, TRUE);
}

/* ------------------------------------------------------------------------ */
/* JSON */

JsonNode *parse_json(const char *text) {
        g_autoptr(JsonParser) parser = json_parser_new();
        g_autoptr(GError) error = NULL;

        if (!json_parser_load_from_data(parser, text, -1, &error))
                g_error("not JSON (%s):\n%s", error->message, text);
        return json_node_copy(json_parser_get_root(parser));
}

/* The element of a JSON array whose "Path" is path; asserts there is one. */
JsonObject *find_by_path(JsonNode *root, const char *path) {
        g_assert_true(JSON_NODE_HOLDS_ARRAY(root));
        JsonArray *a = json_node_get_array(root);

        for (guint i = 0; i < json_array_get_length(a); i++) {
                JsonObject *o = json_array_get_object_element(a, i);
                if (g_strcmp0(json_object_get_string_member(o, "Path"), path) == 0)
                        return o;
        }
        g_error("no element with Path %s", path);
}

void assert_json_paths(JsonObject *o, const char *member, const char *const *expected) {
        JsonArray *a = json_object_get_array_member(o, member);
        size_t n = expected ? g_strv_length((char **) expected) : 0;

        g_assert_nonnull(a);
        g_assert_cmpuint(json_array_get_length(a), ==, n);
        for (guint i = 0; i < n; i++)
                g_assert_cmpstr(json_array_get_string_element(a, i), ==, expected[i]);
}

/* ------------------------------------------------------------------------ */
/* helpers */

char *write_temp_file(Harness *h, const char *name, const char *contents) {
        char *path = g_build_filename(h->tmpdir, name, NULL);
        g_autoptr(GError) error = NULL;

        g_assert_true(g_file_set_contents(path, contents, -1, &error));
        g_assert_no_error(error);
        g_assert_cmpint(chmod(path, 0600), ==, 0);
        return path;
}

static gboolean match_job_added(const HarnessSignal *s, gpointer user_data) {
        const char *p = NULL;

        if (!g_str_equal(s->member, "InterfacesAdded"))
                return FALSE;
        g_variant_get_child(s->parameters, 0, "&o", &p);
        return g_str_has_prefix(p, IRD_ROOT "/job/");
}

/* Waits until the service announces a job and it runs; returns its path. */
char *wait_for_running_job(Harness *h) {
        g_autoptr(HarnessSignal) s = harness_wait_signal(h, IRD_ROOT, "org.freedesktop.DBus.ObjectManager",
                                                         "InterfacesAdded", match_job_added, NULL);
        char *job = NULL;

        g_variant_get_child(s->parameters, 0, "o", &job);
        harness_wait_job_running(h, job);
        return job;
}
