/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * iscsi-replctl against the daemon on a private bus: every command's
 * success path, --json output parsed and compared with the service's
 * properties, exit statuses, job progress on a pseudo-terminal, cancelling
 * with Ctrl-C, and an unprivileged caller.
 */

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

#include "fake-polkit.h"
#include "harness.h"
#include "replica-standin.h"

#define PEER_IQN "iqn.2024-01.org.example:peer"

/* Exit statuses, as iscsi-replctl(1) documents them. */
enum {
        CLI_OK = 0,
        CLI_GENERIC = 1,
        CLI_INVALID = 2,
        CLI_DENIED = 3,
        CLI_JOB_FAILED = 4,
        CLI_TIMEOUT = 5,
        CLI_IN_USE = 6,
        CLI_LIMITS = 7,
};

static const char *const no_verify_args[] = { "--verify-access-points=no", NULL };
static const HarnessConfig no_verify = { .daemon_args = no_verify_args };
/* Long enough that a probe of a black hole is still running when the test cancels it. */
static const char *const slow_args[] = { "--probe-timeout=30", NULL };
static const HarnessConfig slow_probes = { .daemon_args = slow_args };
static const char *const quick_args[] = { "--probe-timeout=0.5", NULL };
static const HarnessConfig quick_probes = { .daemon_args = quick_args };
static const char *const one_entry_args[] = { "--verify-access-points=no", "--max-array-entries=1", NULL };
static const HarnessConfig one_entry = { .daemon_args = one_entry_args };

/* ------------------------------------------------------------------------ */
/* running the client */

typedef struct CliResult {
        int status;                     /* exit status; 128 + signal when killed */
        char *out;
        char *err;
} CliResult;

static void cli_result_free(CliResult *r) {
        if (!r)
                return;
        g_free(r->out);
        g_free(r->err);
        g_free(r);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CliResult, cli_result_free)

static const char *cli_path(void) {
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

typedef struct Pending {
        GSubprocess *process;
        gboolean done;
        char *out, *err;
} Pending;

static void on_communicated(GObject *source, GAsyncResult *result, gpointer user_data) {
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
static Pending *cli_start_env(Harness *h, const char *const *prefix, const char *const *args, const char *const *env) {
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

static Pending *cli_start(Harness *h, const char *const *prefix, const char *const *args) {
        return cli_start_env(h, prefix, args, NULL);
}

/* Waits (under the harness watchdog) for the client to exit and collects its output. */
static CliResult *cli_finish(Harness *h, Pending *p) {
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

static CliResult *cli_runv(Harness *h, const char *const *args) {
        return cli_finish(h, cli_start(h, NULL, args));
}

#define CLI(h, ...) cli_runv((h), (const char *const[]) { __VA_ARGS__, NULL })

/* Runs the client, asserts the exit status, and returns stdout with its trailing newline removed. */
static char *cli_expect(Harness *h, int status, const char *const *args) {
        g_autoptr(CliResult) r = cli_runv(h, args);

        if (r->status != status)
                g_error("%s %s: exit %d, expected %d; stderr: %s", args[0], args[1] ? args[1] : "", r->status,
                        status, r->err);
        return g_strchomp(g_steal_pointer(&r->out));
}

#define CLI_OUT(h, ...) cli_expect((h), CLI_OK, (const char *const[]) { __VA_ARGS__, NULL })

/* ------------------------------------------------------------------------ */
/* pseudo-terminal */

typedef struct Pty {
        int master;
        GSubprocess *process;
        GString *output;
} Pty;

static void make_controlling_terminal(gpointer user_data) {
        /* A session of its own with the pty as its terminal, so Ctrl-C there is SIGINT here. */
        (void) setsid();
        (void) ioctl(STDIN_FILENO, TIOCSCTTY, 0);
}

/* env: NAME, VALUE pairs (VALUE NULL unsets), NULL-terminated; may be NULL. */
static void pty_start_full(Harness *h, Pty *t, const char *const *prefix, const char *const *args,
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

static void pty_start_env(Harness *h, Pty *t, const char *const *args, const char *const *env) {
        pty_start_full(h, t, NULL, args, env);
}

static void pty_start(Harness *h, Pty *t, const char *const *args) {
        pty_start_full(h, t, NULL, args, NULL);
}

/*
 * Reads what the client writes until `until` appears (NULL: until the
 * terminal closes, which it does when the client exits). Gives up after the
 * harness watchdog time.
 */
static gboolean pty_read(Pty *t, const char *until) {
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

static void pty_write(Pty *t, const char *s) {
        g_assert_cmpint(write(t->master, s, strlen(s)), ==, (ssize_t) strlen(s));
}

/* Reads to the end and returns the exit status. */
static int pty_finish(Harness *h, Pty *t) {
        g_assert_false(pty_read(t, NULL));
        g_assert_true(g_subprocess_wait(t->process, NULL, NULL));
        int status = wait_status(t->process);
        g_test_message("exit %d, terminal output:\n%s", status, t->output->str);
        close(t->master);
        g_clear_object(&t->process);
        return status;
}

static void pty_clear(Pty *t) {
        if (t->output)
                g_string_free(t->output, TRUE);
}

/* ------------------------------------------------------------------------ */
/* JSON */

static JsonNode *parse_json(const char *text) {
        g_autoptr(JsonParser) parser = json_parser_new();
        g_autoptr(GError) error = NULL;

        if (!json_parser_load_from_data(parser, text, -1, &error))
                g_error("not JSON (%s):\n%s", error->message, text);
        return json_node_copy(json_parser_get_root(parser));
}

/* The element of a JSON array whose "Path" is path; asserts there is one. */
static JsonObject *find_by_path(JsonNode *root, const char *path) {
        g_assert_true(JSON_NODE_HOLDS_ARRAY(root));
        JsonArray *a = json_node_get_array(root);

        for (guint i = 0; i < json_array_get_length(a); i++) {
                JsonObject *o = json_array_get_object_element(a, i);
                if (g_strcmp0(json_object_get_string_member(o, "Path"), path) == 0)
                        return o;
        }
        g_error("no element with Path %s", path);
}

static void assert_json_paths(JsonObject *o, const char *member, const char *const *expected) {
        JsonArray *a = json_object_get_array_member(o, member);
        size_t n = expected ? g_strv_length((char **) expected) : 0;

        g_assert_nonnull(a);
        g_assert_cmpuint(json_array_get_length(a), ==, n);
        for (guint i = 0; i < n; i++)
                g_assert_cmpstr(json_array_get_string_element(a, i), ==, expected[i]);
}

/* ------------------------------------------------------------------------ */
/* helpers */

static char *write_temp_file(Harness *h, const char *name, const char *contents) {
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
static char *wait_for_running_job(Harness *h) {
        g_autoptr(HarnessSignal) s = harness_wait_signal(h, IRD_ROOT, "org.freedesktop.DBus.ObjectManager",
                                                         "InterfacesAdded", match_job_added, NULL);
        char *job = NULL;

        g_variant_get_child(s->parameters, 0, "o", &job);
        harness_wait_job_running(h, job);
        return job;
}

/* ------------------------------------------------------------------------ */
/* reading */

static void test_status(Harness *h, gconstpointer data) {
        g_autofree char *version = harness_get_string(h, IRD_ROOT, IRD_IFACE_SERVICE, "Version");
        g_autofree char *initiator = harness_get_string(h, IRD_ROOT, IRD_IFACE_SERVICE, "InitiatorName");

        g_autofree char *text = CLI_OUT(h, "status");
        g_assert_nonnull(strstr(text, version));
        g_assert_nonnull(strstr(text, initiator));
        g_assert_nonnull(strstr(text, "Verify access points: yes"));

        g_autofree char *json = CLI_OUT(h, "status", "--json");
        g_autoptr(JsonNode) root = parse_json(json);
        JsonObject *o = json_node_get_object(root);
        g_assert_cmpstr(json_object_get_string_member(o, "Path"), ==, IRD_ROOT);
        g_assert_cmpstr(json_object_get_string_member(o, "Version"), ==, version);
        g_assert_cmpstr(json_object_get_string_member(o, "InitiatorName"), ==, initiator);
        g_assert_cmpstr(json_object_get_string_member(o, "LocalSystem"), ==, IRD_LOCAL_SYSTEM);
        g_assert_true(json_object_get_boolean_member(o, "VerifyAccessPoints"));
        JsonArray *sync = json_object_get_array_member(o, "SupportedSynchronousActions");
        g_assert_cmpuint(json_array_get_length(sync), ==, 7);
        g_assert_cmpint(json_array_get_int_element(sync, 0), ==, 9);
}

static void test_systems(Harness *h, gconstpointer data) {
        g_autofree char *peer = CLI_OUT(h, "add-peer", PEER_IQN, "--element-name=site-b");
        g_assert_true(g_str_has_prefix(peer, IRD_ROOT "/system/"));
        g_autofree char *element_name = harness_get_string(h, peer, IRD_IFACE_SYSTEM, "ElementName");
        g_assert_cmpstr(element_name, ==, "site-b");

        g_autofree char *table = CLI_OUT(h, "list-systems");
        g_assert_true(g_str_has_prefix(table, "PATH "));
        g_assert_nonnull(strstr(table, PEER_IQN));
        g_assert_nonnull(strstr(table, "2 systems listed."));

        /* Without the legend: one line per system, the path first, as completion reads it. */
        g_autofree char *bare = CLI_OUT(h, "list-systems", "--no-legend");
        g_auto(GStrv) lines = g_strsplit(bare, "\n", -1);
        g_assert_cmpuint(g_strv_length(lines), ==, 2);
        g_assert_true(g_str_has_prefix(lines[0], IRD_LOCAL_SYSTEM " "));
        g_assert_true(g_str_has_prefix(lines[1], peer));

        g_autofree char *json = CLI_OUT(h, "list-systems", "--json");
        g_autoptr(JsonNode) root = parse_json(json);
        g_assert_cmpuint(json_array_get_length(json_node_get_array(root)), ==, 2);
        JsonObject *o = find_by_path(root, peer);
        g_assert_cmpstr(json_object_get_string_member(o, "Name"), ==, PEER_IQN);
        g_assert_cmpstr(json_object_get_string_member(o, "NameFormat"), ==, "IQN");
        g_assert_cmpstr(json_object_get_string_member(o, "ElementName"), ==, "site-b");
        g_assert_false(json_object_get_boolean_member(o, "IsLocal"));
        g_assert_cmpstr(json_object_get_string_member(o, "Reachable"), ==, "unknown");
        g_assert_cmpint(json_object_get_int_member(o, "LastVerified"), ==, 0);
        assert_json_paths(o, "AccessPoints", NULL);
        JsonObject *local = find_by_path(root, IRD_LOCAL_SYSTEM);
        g_assert_true(json_object_get_boolean_member(local, "IsLocal"));
}

static void test_access_points(Harness *h, gconstpointer data) {
        g_autofree char *peer = CLI_OUT(h, "add-peer", PEER_IQN, "--element-name=site-b");
        g_autofree char *local = CLI_OUT(h, "add-access-point", "local", "127.0.0.1:3261", "--element-name=lan");
        /* The system by its ElementName, the port defaulted. */
        g_autofree char *remote = CLI_OUT(h, "add-access-point", "site-b", "127.0.0.2", "--target-name",
                                          PEER_IQN ":disk", "--portal-group-tag", "3");

        g_autofree char *json = CLI_OUT(h, "list-access-points", "--json");
        g_autoptr(JsonNode) root = parse_json(json);
        JsonObject *l = find_by_path(root, local);
        g_assert_cmpstr(json_object_get_string_member(l, "Name"), ==, "127.0.0.1:3261");
        g_assert_cmpstr(json_object_get_string_member(l, "ElementName"), ==, "lan");
        g_assert_cmpstr(json_object_get_string_member(l, "System"), ==, IRD_LOCAL_SYSTEM);
        g_assert_true(json_object_get_boolean_member(l, "IsLocal"));
        g_assert_cmpint(json_object_get_int_member(l, "Port"), ==, 3261);
        JsonObject *r = find_by_path(root, remote);
        g_assert_cmpstr(json_object_get_string_member(r, "Address"), ==, "127.0.0.2");
        g_assert_cmpint(json_object_get_int_member(r, "Port"), ==, 3260);
        g_assert_cmpstr(json_object_get_string_member(r, "TargetName"), ==, PEER_IQN ":disk");
        g_assert_cmpint(json_object_get_int_member(r, "PortalGroupTag"), ==, 3);
        g_assert_cmpint(json_object_get_int_member(r, "ProtocolIFType"), ==, 4096);
        g_assert_cmpstr(json_object_get_string_member(r, "System"), ==, peer);
        g_assert_cmpstr(json_object_get_string_member(r, "SharedSecret"), ==, "/");

        g_autofree char *table = CLI_OUT(h, "list-access-points");
        g_assert_nonnull(strstr(table, "127.0.0.2:3260"));
        g_assert_nonnull(strstr(table, PEER_IQN ":disk"));
        g_assert_nonnull(strstr(table, "2 access points listed."));

        if (harness_ipv6_loopback_usable()) {
                g_autofree char *v6 = CLI_OUT(h, "add-access-point", PEER_IQN, "[::1]:3262");
                g_autofree char *name = harness_get_string(h, v6, IRD_IFACE_AP, "Name");
                g_assert_cmpstr(name, ==, "[::1]:3262");
        }
}

static void test_show(Harness *h, gconstpointer data) {
        g_autofree char *peer = CLI_OUT(h, "add-peer", PEER_IQN);
        const char *number = strrchr(peer, '/') + 1;

        g_autofree char *text = CLI_OUT(h, "show", number);
        g_autofree char *path_line = g_strdup_printf("Path=%s\n", peer);
        g_assert_true(g_str_has_prefix(text, path_line));
        g_assert_nonnull(strstr(text, "\nName=" PEER_IQN "\n"));
        g_assert_nonnull(strstr(text, "\nIsLocal=no\n"));

        g_autofree char *kind_number = g_strdup_printf("system/%s", number);
        g_autofree char *json = CLI_OUT(h, "show", kind_number, "--json");
        g_autoptr(JsonNode) root = parse_json(json);
        JsonObject *o = json_node_get_object(root);
        g_assert_cmpstr(json_object_get_string_member(o, "Path"), ==, peer);
        g_assert_cmpstr(json_object_get_string_member(o, "NameFormat"), ==, "IQN");

        g_autofree char *local = CLI_OUT(h, "show", "local", "--json");
        g_autoptr(JsonNode) local_root = parse_json(local);
        g_assert_true(json_object_get_boolean_member(json_node_get_object(local_root), "IsLocal"));

        g_autofree char *service = CLI_OUT(h, "show", "service");
        g_assert_nonnull(strstr(service, "LocalSystem=" IRD_LOCAL_SYSTEM "\n"));
}

static void test_json_escaping(Harness *h, gconstpointer data) {
        /* Quotes, a backslash, a tab-free non-ASCII name: all must survive a round trip. */
        const char *name = "Z\xc3\xbcrich \"A\" \\ \xe2\x9c\x93 </script>";
        g_autofree char *option = g_strdup_printf("--element-name=%s", name);
        g_autofree char *peer = CLI_OUT(h, "add-peer", "peer.example", option);

        g_autofree char *json = CLI_OUT(h, "show", peer, "--json");
        g_autoptr(JsonNode) root = parse_json(json);
        g_assert_cmpstr(json_object_get_string_member(json_node_get_object(root), "ElementName"), ==, name);
}

static void test_secrets(Harness *h, gconstpointer data) {
        g_autofree char *peer = CLI_OUT(h, "add-peer", PEER_IQN);
        g_autofree char *ap = CLI_OUT(h, "add-access-point", peer, "127.0.0.2");
        g_autofree char *secret_file = write_temp_file(h, "secret", "twelve-bytes-or-more\n");
        g_autofree char *mutual_file = write_temp_file(h, "mutual", "another-long-secret");
        g_autofree char *secret_option = g_strdup_printf("--secret-file=%s", secret_file);
        g_autofree char *mutual_option = g_strdup_printf("--mutual-secret-file=%s", mutual_file);

        g_autofree char *secret = CLI_OUT(h, "add-secret", "127.0.0.2:3260", "--username", "initiator",
                                          secret_option, "--mutual-username=target", mutual_option);
        g_assert_true(g_str_has_prefix(secret, IRD_ROOT "/secret/"));
        g_autofree char *linked = harness_get_string(h, ap, IRD_IFACE_AP, "SharedSecret");
        g_assert_cmpstr(linked, ==, secret);

        g_autofree char *json = CLI_OUT(h, "show", secret, "--json");
        g_autoptr(JsonNode) root = parse_json(json);
        JsonObject *o = json_node_get_object(root);
        g_assert_cmpstr(json_object_get_string_member(o, "Username"), ==, "initiator");
        g_assert_cmpstr(json_object_get_string_member(o, "MutualUsername"), ==, "target");
        g_assert_cmpstr(json_object_get_string_member(o, "ServiceAccessPoint"), ==, ap);
        g_assert_false(json_object_has_member(o, "Secret"));

        /* Never from the command line, and without a terminal only from a file. */
        g_autoptr(CliResult) inline_secret = CLI(h, "add-secret", ap, "--username=u", "--secret=twelve-bytes-or-more");
        g_assert_cmpint(inline_secret->status, ==, CLI_INVALID);
        g_autoptr(CliResult) no_tty = CLI(h, "add-secret", ap, "--username=u");
        g_assert_cmpint(no_tty->status, ==, CLI_INVALID);
        g_assert_nonnull(strstr(no_tty->err, "--secret-file"));
        /* Too short for RFC 7143: the service says InvalidParameter. */
        g_autofree char *short_file = write_temp_file(h, "short", "short");
        g_autofree char *short_option = g_strdup_printf("--secret-file=%s", short_file);
        g_autoptr(CliResult) too_short = CLI(h, "add-secret", ap, "--username=u", short_option);
        g_assert_cmpint(too_short->status, ==, CLI_INVALID);
}

static void test_secret_prompt(Harness *h, gconstpointer data) {
        g_autofree char *peer = CLI_OUT(h, "add-peer", PEER_IQN);
        g_autofree char *ap = CLI_OUT(h, "add-access-point", peer, "127.0.0.2");
        Pty t = {};

        pty_start(h, &t, (const char *const[]) { "add-secret", ap, "--username=initiator", NULL });
        g_assert_true(pty_read(&t, "Secret for initiator: "));
        pty_write(&t, "prompted-secret-123\n");
        g_assert_true(pty_read(&t, "Repeat the secret: "));
        pty_write(&t, "prompted-secret-123\n");
        g_assert_cmpint(pty_finish(h, &t), ==, CLI_OK);
        /* Typed without echo: the terminal never shows it. */
        g_assert_null(strstr(t.output->str, "prompted-secret"));
        g_assert_nonnull(strstr(t.output->str, IRD_ROOT "/secret/"));
        g_autofree char *linked = harness_get_string(h, ap, IRD_IFACE_AP, "SharedSecret");
        g_assert_true(g_str_has_prefix(linked, IRD_ROOT "/secret/"));
        pty_clear(&t);
}

/* iscsi-replctl(1): entries that differ are invalid input (exit 2), and nothing is added. */
static void test_secret_prompt_mismatch(Harness *h, gconstpointer data) {
        g_autofree char *peer = CLI_OUT(h, "add-peer", PEER_IQN);
        g_autofree char *ap = CLI_OUT(h, "add-access-point", peer, "127.0.0.2");
        g_autofree char *before = harness_snapshot(h);
        g_autofree char *after = NULL, *linked = NULL;
        Pty t = {};

        harness_clear_signals(h);
        pty_start(h, &t, (const char *const[]) { "add-secret", ap, "--username=initiator", NULL });
        g_assert_true(pty_read(&t, "Secret for initiator: "));
        pty_write(&t, "prompted-secret-123\n");
        g_assert_true(pty_read(&t, "Repeat the secret: "));
        pty_write(&t, "prompted-secret-124\n");
        g_assert_cmpint(pty_finish(h, &t), ==, CLI_INVALID);
        g_assert_nonnull(strstr(t.output->str, "differ"));
        g_assert_null(strstr(t.output->str, "prompted-secret"));
        g_assert_null(strstr(t.output->str, IRD_ROOT "/secret/"));

        after = harness_snapshot(h);
        g_assert_cmpstr(after, ==, before);
        g_autoptr(GPtrArray) added = harness_take_signals(h, IRD_ROOT, "org.freedesktop.DBus.ObjectManager",
                                                          "InterfacesAdded");
        g_assert_cmpuint(added->len, ==, 0);
        linked = harness_get_string(h, ap, IRD_IFACE_AP, "SharedSecret");
        g_assert_cmpstr(linked, ==, "/");
        pty_clear(&t);
}

static void test_collections(Harness *h, gconstpointer data) {
        g_autofree char *peer = CLI_OUT(h, "add-peer", PEER_IQN, "--element-name=site-b");
        g_autofree char *local = CLI_OUT(h, "add-access-point", "local", "127.0.0.1", "--element-name=lan");
        g_autofree char *remote = CLI_OUT(h, "add-access-point", "site-b", "127.0.0.2:3260");
        g_autofree char *remote2 = CLI_OUT(h, "add-access-point", "site-b", "127.0.0.5:3260");

        /* Names everywhere; "--system SYS" after the command names the remote system. */
        g_autofree char *collection = CLI_OUT(h, "create-collection", "backup-set", "--local", "lan", "--remote",
                                              "127.0.0.2:3260", "--system", "site-b", "--inactive",
                                              "--delete-on-unassociated");
        g_assert_true(g_str_has_prefix(collection, IRD_ROOT "/collection/"));

        g_autofree char *json = CLI_OUT(h, "list-collections", "--json");
        g_autoptr(JsonNode) root = parse_json(json);
        JsonObject *o = find_by_path(root, collection);
        g_assert_cmpstr(json_object_get_string_member(o, "ElementName"), ==, "backup-set");
        g_assert_false(json_object_get_boolean_member(o, "Active"));
        g_assert_true(json_object_get_boolean_member(o, "DeleteOnUnassociated"));
        g_assert_cmpstr(json_object_get_string_member(o, "Job"), ==, "/");
        assert_json_paths(o, "LocalAccessPoints", (const char *const[]) { local, NULL });
        assert_json_paths(o, "RemoteAccessPoints", (const char *const[]) { remote, NULL });
        assert_json_paths(o, "RemoteSystems", (const char *const[]) { peer, NULL });

        g_autofree char *table = CLI_OUT(h, "list-collections");
        g_assert_nonnull(strstr(table, "backup-set"));
        g_assert_nonnull(strstr(table, "1 collection listed."));

        /* add by the collection's name, the access point by its address alone */
        g_autofree char *added = CLI_OUT(h, "add", "backup-set", "--remote", "127.0.0.5");
        g_assert_cmpstr(added, ==, "");
        g_auto(GStrv) remotes = harness_get_paths(h, collection, IRD_IFACE_COLLECTION, "RemoteAccessPoints");
        harness_assert_strv_paths(remotes, (const char *const[]) { remote, remote2, NULL });

        g_autofree char *modified = CLI_OUT(h, "modify", "backup-set", "--element-name=renamed", "--active=yes",
                                            "--delete-on-unassociated=no");
        g_autofree char *new_name = harness_get_string(h, collection, IRD_IFACE_COLLECTION, "ElementName");
        g_assert_cmpstr(new_name, ==, "renamed");
        g_assert_true(harness_get_boolean(h, collection, IRD_IFACE_COLLECTION, "Active"));
        g_assert_false(harness_get_boolean(h, collection, IRD_IFACE_COLLECTION, "DeleteOnUnassociated"));

        g_autofree char *removed = CLI_OUT(h, "remove", "renamed", "--system=site-b");
        g_auto(GStrv) systems = harness_get_paths(h, collection, IRD_IFACE_COLLECTION, "RemoteSystems");
        harness_assert_strv_paths(systems, NULL);
        g_auto(GStrv) remotes_after = harness_get_paths(h, collection, IRD_IFACE_COLLECTION, "RemoteAccessPoints");
        harness_assert_strv_paths(remotes_after, NULL);

        /* The collection still holds the local access point: in use. */
        g_autoptr(CliResult) in_use = CLI(h, "delete", local);
        g_assert_cmpint(in_use->status, ==, CLI_IN_USE);

        g_autofree char *deleted = CLI_OUT(h, "delete", "renamed");
        g_auto(GStrv) paths = harness_object_paths(h);
        g_assert_false(g_strv_contains((const char *const *) paths, collection));
}

static void test_delete(Harness *h, gconstpointer data) {
        g_autofree char *peer = CLI_OUT(h, "add-peer", PEER_IQN);
        g_autofree char *ap = CLI_OUT(h, "add-access-point", peer, "127.0.0.2");
        g_autofree char *secret_file = write_temp_file(h, "secret", "twelve-bytes-or-more");
        g_autofree char *secret_option = g_strdup_printf("--secret-file=%s", secret_file);
        g_autofree char *secret = CLI_OUT(h, "add-secret", ap, "--username=u", secret_option);

        g_free(CLI_OUT(h, "delete", secret));
        g_free(CLI_OUT(h, "delete", ap));
        g_free(CLI_OUT(h, "delete", PEER_IQN));
        g_auto(GStrv) paths = harness_object_paths(h);
        harness_assert_strv_paths(paths, (const char *const[]) { IRD_LOCAL_SYSTEM, NULL });

        /* This host cannot be deleted; the service says why. */
        g_autoptr(CliResult) local = CLI(h, "delete", "local");
        g_assert_cmpint(local->status, ==, CLI_INVALID);
        g_assert_cmpstr(local->err, !=, "");
}

static void test_pager(Harness *h, gconstpointer data) {
        /* Taller than the 24-line terminal. */
        for (int i = 0; i < 30; i++) {
                g_autofree char *name = g_strdup_printf("peer%d.example", i);
                g_free(harness_add_peer(h, name, NULL));
        }
        const char *const pager_env[] = { "SYSTEMD_PAGER", NULL, "PAGER", "sed -e s/^/paged:/", NULL };
        Pty t = {};

        pty_start_env(h, &t, (const char *const[]) { "list-systems", NULL }, pager_env);
        g_assert_cmpint(pty_finish(h, &t), ==, CLI_OK);
        g_assert_nonnull(strstr(t.output->str, "paged:PATH "));
        g_assert_nonnull(strstr(t.output->str, "paged:31 systems listed."));
        pty_clear(&t);

        pty_start_env(h, &t, (const char *const[]) { "list-systems", "--no-pager", NULL }, pager_env);
        g_assert_cmpint(pty_finish(h, &t), ==, CLI_OK);
        g_assert_null(strstr(t.output->str, "paged:"));
        g_assert_nonnull(strstr(t.output->str, "31 systems listed."));
        pty_clear(&t);

        /* What fits on the screen is shown as it is. */
        pty_start_env(h, &t, (const char *const[]) { "status", NULL }, pager_env);
        g_assert_cmpint(pty_finish(h, &t), ==, CLI_OK);
        g_assert_null(strstr(t.output->str, "paged:"));
        pty_clear(&t);
}

static void test_bash_completion(Harness *h, gconstpointer data) {
        const char *completion = g_getenv("IRD_BASH_COMPLETION");
        const char *framework = "/usr/share/bash-completion/bash_completion";
        g_autoptr(GError) error = NULL;

        g_assert_nonnull(completion);
        if (!g_file_test(framework, G_FILE_TEST_EXISTS)) {
                g_test_skip("bash-completion is not installed");
                return;
        }
        g_autofree char *peer = CLI_OUT(h, "add-peer", PEER_IQN, "--element-name=site-b");
        g_autofree char *collection = CLI_OUT(h, "create-collection", "backup-set");

        /* Completes the words after `line`, as bash would on Tab, and prints the candidates. */
        static const char script[] =
                "source \"$1\"; source \"$2\"\n"
                /* Outside of a real completion compopt complains; nothing here needs it. */
                "compopt() { :; }\n"
                "complete_line() {\n"
                "    COMP_LINE=$1; COMP_POINT=${#COMP_LINE}\n"
                "    read -ra COMP_WORDS <<<\"$COMP_LINE\"\n"
                "    [[ $COMP_LINE == *' ' ]] && COMP_WORDS+=('')\n"
                "    COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=()\n"
                "    _iscsi_replctl iscsi-replctl \"${COMP_WORDS[COMP_CWORD]}\" \"${COMP_WORDS[COMP_CWORD-1]}\"\n"
                "    printf '%s\\n' \"${COMPREPLY[@]}\"\n"
                "}\n"
                "echo '## verbs'; complete_line 'iscsi-replctl list-'\n"
                "echo '## show'; complete_line \"iscsi-replctl --address=$3 show \"\n"
                "echo '## modify'; complete_line \"iscsi-replctl --address $3 modify \"\n"
                "echo '## options'; complete_line \"iscsi-replctl --address=$3 add-secret x --mut\"\n"
                "echo '## replica options'; complete_line \"iscsi-replctl --address=$3 create-replica r --c\"\n"
                "echo '## collection value'; complete_line \"iscsi-replctl --address=$3 create-replica r --collection \"\n"
                "echo '## replica verbs'; complete_line 'iscsi-replctl res'\n";
        g_autofree char *cli_dir = g_path_get_dirname(cli_path());
        g_autofree char *path = g_strdup_printf("%s:%s", cli_dir, g_getenv("PATH"));
        g_autoptr(GSubprocessLauncher) launcher =
                g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE);
        g_subprocess_launcher_setenv(launcher, "PATH", path, TRUE);
        g_autoptr(GSubprocess) bash = g_subprocess_launcher_spawn(launcher, &error, "bash", "-c", script, "bash",
                                                                  framework, completion, h->bus_address, NULL);
        g_assert_no_error(error);
        Pending p = { .process = bash };
        g_subprocess_communicate_utf8_async(bash, NULL, NULL, on_communicated, &p);
        harness_wait_for_flag(h, &p.done);
        g_test_message("completions:\n%s", p.out);
        g_assert_true(g_subprocess_get_if_exited(bash) && g_subprocess_get_exit_status(bash) == 0);

        g_autofree char *show = g_strdup_printf("## show\nlocal\n" IRD_LOCAL_SYSTEM "\n");
        g_assert_nonnull(strstr(p.out, "## verbs\nlist-systems\nlist-access-points\nlist-collections\nlist-jobs\n"));
        g_assert_nonnull(strstr(p.out, show));
        g_assert_nonnull(strstr(p.out, peer));
        g_assert_nonnull(strstr(p.out, "\n" PEER_IQN "\n"));
        g_assert_nonnull(strstr(p.out, "\nsite-b\n"));
        g_autofree char *modify = g_strdup_printf("## modify\n%s\nbackup-set\n## options", collection);
        g_assert_nonnull(strstr(p.out, modify));
        g_assert_nonnull(strstr(p.out, "## options\n--mutual-username=\n--mutual-secret-file=\n"));
        g_assert_nonnull(strstr(p.out, "## replica options\n--clone\n--collection=\n--chunk-size=\n## collection value\n"));
        g_autofree char *collection_value = g_strdup_printf("## collection value\n%s\nbackup-set\n", collection);
        g_assert_nonnull(strstr(p.out, collection_value));
        g_assert_true(g_str_has_suffix(p.out, "## replica verbs\nresume\nresync\n"));
        g_free(p.out);
        g_free(p.err);
}

/* ------------------------------------------------------------------------ */
/* names and errors */

static void test_names(Harness *h, gconstpointer data) {
        g_autofree char *a = CLI_OUT(h, "add-peer", "a.example", "--element-name=twin");
        g_autofree char *b = CLI_OUT(h, "add-peer", "b.example", "--element-name=twin");

        /* Ambiguous: both candidates are listed. */
        g_autoptr(CliResult) ambiguous = CLI(h, "add-access-point", "twin", "127.0.0.2");
        g_assert_cmpint(ambiguous->status, ==, CLI_INVALID);
        g_assert_nonnull(strstr(ambiguous->err, "ambiguous"));
        g_assert_nonnull(strstr(ambiguous->err, a));
        g_assert_nonnull(strstr(ambiguous->err, b));

        /* Unknown: the known ones are listed. */
        g_autoptr(CliResult) unknown = CLI(h, "show", "nonexistent");
        g_assert_cmpint(unknown->status, ==, CLI_INVALID);
        g_assert_nonnull(strstr(unknown->err, "nonexistent"));
        g_assert_nonnull(strstr(unknown->err, a));

        /* The wrong kind for the command. */
        g_autoptr(CliResult) wrong_kind = CLI(h, "verify", a);
        g_assert_cmpint(wrong_kind->status, ==, CLI_INVALID);

        /* The unique Name still works where the ElementName does not. */
        g_autofree char *ap = CLI_OUT(h, "add-access-point", "b.example", "127.0.0.2");
        g_autofree char *system = harness_get_string(h, ap, IRD_IFACE_AP, "System");
        g_assert_cmpstr(system, ==, b);

        /* The same address on both sides: --local and --remote pick the right one. */
        g_autofree char *local = CLI_OUT(h, "add-access-point", "local", "127.0.0.2");
        g_autofree char *collection = CLI_OUT(h, "create-collection", "pair", "--local", "127.0.0.2", "--remote",
                                              "127.0.0.2", "--system=b.example");
        g_auto(GStrv) locals = harness_get_paths(h, collection, IRD_IFACE_COLLECTION, "LocalAccessPoints");
        harness_assert_strv_paths(locals, (const char *const[]) { local, NULL });
        g_auto(GStrv) remotes = harness_get_paths(h, collection, IRD_IFACE_COLLECTION, "RemoteAccessPoints");
        harness_assert_strv_paths(remotes, (const char *const[]) { ap, NULL });
}

/*
 * "kind/number" follows the service's path syntax (the contract library):
 * numbers start at 1 and have no leading zeros, so "job/0" names nothing
 * instead of being looked up as a path the service never hands out.
 */
static void test_object_numbers(Harness *h, gconstpointer data) {
        g_autofree char *peer = CLI_OUT(h, "add-peer", "numbered.example");
        const char *number = strrchr(peer, '/') + 1;
        g_autofree char *by_number = g_strdup_printf("system/%s", number);
        g_autofree char *zero_padded = g_strdup_printf("system/0%s", number);
        static const char *const refused[][2] = { { "job", "job/0" }, { "show", "access-point/0" } };

        g_autofree char *shown = CLI_OUT(h, "show", by_number, "--json");
        g_autoptr(JsonNode) root = parse_json(shown);
        g_assert_cmpstr(json_object_get_string_member(json_node_get_object(root), "Path"), ==, peer);

        g_autoptr(CliResult) padded = CLI(h, "show", zero_padded);
        g_assert_cmpint(padded->status, ==, CLI_INVALID);
        g_autofree char *padded_expected = g_strdup_printf(
                "\"%s\" names no object: object numbers start at 1, without leading zeros.\n", zero_padded);
        g_assert_cmpstr(padded->err, ==, padded_expected);
        for (size_t i = 0; i < G_N_ELEMENTS(refused); i++) {
                g_autoptr(CliResult) r = CLI(h, refused[i][0], refused[i][1]);
                g_autofree char *expected = g_strdup_printf(
                        "\"%s\" names no object: object numbers start at 1, without leading zeros.\n", refused[i][1]);

                g_assert_cmpint(r->status, ==, CLI_INVALID);
                g_assert_cmpstr(r->err, ==, expected);
        }
}

static void test_usage_errors(Harness *h, gconstpointer data) {
        const char *const *const cases[] = {
                (const char *const[]) { NULL },
                (const char *const[]) { "frobnicate", NULL },
                (const char *const[]) { "show", NULL },
                (const char *const[]) { "show", "a", "b", NULL },
                (const char *const[]) { "add-peer", "x", "--json", NULL },
                (const char *const[]) { "list-systems", "--local=x", NULL },
                (const char *const[]) { "add-access-point", "local", "127.0.0.1:99999", NULL },
                (const char *const[]) { "add-access-point", "local", "[::1", NULL },
                (const char *const[]) { "modify", "x", "--active=maybe", NULL },
                (const char *const[]) { "modify", "x", NULL },
                (const char *const[]) { "add", "x", NULL },
                (const char *const[]) { "add-secret", "/", NULL },
                (const char *const[]) { "--no-such-option", "status", NULL },
        };

        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(CliResult) r = cli_runv(h, cases[i]);
                if (r->status != CLI_INVALID)
                        g_error("case %zu (%s): exit %d, expected %d", i, cases[i][0] ? cases[i][0] : "(none)",
                                r->status, CLI_INVALID);
                g_assert_cmpstr(r->err, !=, "");
        }

        /* Refused by the service: a second peer of the same name. */
        g_free(CLI_OUT(h, "add-peer", PEER_IQN));
        g_autoptr(CliResult) duplicate = CLI(h, "add-peer", PEER_IQN);
        g_assert_cmpint(duplicate->status, ==, CLI_INVALID);
        g_assert_true(g_str_has_prefix(duplicate->err, "Failed to add the peer system: "));

        g_autofree char *help = CLI_OUT(h, "--help");
        g_assert_nonnull(strstr(help, "create-collection"));
        g_autofree char *version = CLI_OUT(h, "--version");
        g_assert_true(g_str_has_prefix(version, "iscsi-replctl "));
}

/* An option getopt refuses gets a sentence naming it and pointing to --help, and nothing is called. */
static void test_bad_options(Harness *h, gconstpointer data) {
        static const struct {
                const char *args[3];
                const char *message;
        } cases[] = {
                { { "--no-such-option", "status" }, "Unknown option \"--no-such-option\"; see --help.\n" },
                { { "--no-such=1", "status" }, "Unknown option \"--no-such\"; see --help.\n" },
                { { "-x", "status" }, "Unknown option \"-x\"; see --help.\n" },
                { { "--no-wait=yes", "status" }, "Option \"--no-wait\" takes no value; see --help.\n" },
                { { "status", "--element-name" }, "Option \"--element-name\" needs a value; see --help.\n" },
                { { "status", "-H" }, "Option \"-H\" needs a value; see --help.\n" },
        };
        g_autofree char *before = harness_snapshot(h);

        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(CliResult) r = cli_runv(h, cases[i].args);

                g_assert_cmpint(r->status, ==, CLI_INVALID);
                g_assert_cmpstr(r->err, ==, cases[i].message);
                g_assert_cmpstr(r->out, ==, "");
        }
        g_autofree char *after = harness_snapshot(h);
        g_assert_cmpstr(after, ==, before);
}

/* A bus that cannot be reached is named, with what to check; --system and an address each say theirs. */
static void test_bus_unreachable(Harness *h, gconstpointer data) {
        g_autofree char *address = g_strdup_printf("unix:path=%s/no-bus", h->tmpdir);
        g_autofree char *address_arg = g_strdup_printf("--address=%s", address);
        const char *const env[] = { "DBUS_SYSTEM_BUS_ADDRESS", address, NULL };

        g_autoptr(CliResult) at = CLI(h, address_arg, "status");
        g_assert_cmpint(at->status, ==, CLI_GENERIC);
        g_autofree char *at_expected = g_strdup_printf(
                "Failed to connect to the bus at %s: No such file or directory.\n"
                "Check the address, and that a bus listens there and lets this user connect.\n",
                address);
        g_assert_cmpstr(at->err, ==, at_expected);

        g_autoptr(CliResult) sys = cli_finish(h, cli_start_env(h, NULL, (const char *const[]) { "--system", "status", NULL }, env));
        g_assert_cmpint(sys->status, ==, CLI_GENERIC);
        g_autofree char *sys_expected = g_strdup_printf(
                "Failed to connect to the system bus (%s): No such file or directory.\n"
                "Is the D-Bus system bus running (systemctl status dbus)? DBUS_SYSTEM_BUS_ADDRESS names another one.\n",
                address);
        g_assert_cmpstr(sys->err, ==, sys_expected);
}

/* A bus without the service, which it cannot start either: the message says which bus and what to check. */
static void test_service_not_on_bus(Harness *h, gconstpointer data) {
        const char *const env[] = { "DBUS_SYSTEM_BUS_ADDRESS", h->bus_address, NULL };

        harness_stop_daemon(h);

        g_autoptr(CliResult) at = CLI(h, "status");
        g_assert_cmpint(at->status, ==, CLI_GENERIC);
        g_autofree char *at_bus = g_strdup_printf(": " IRD_BUS_NAME " is not running on the bus at %s, and that bus "
                                                  "cannot start it (", h->bus_address);
        g_assert_nonnull(strstr(at->err, at_bus));
        g_assert_nonnull(strstr(at->err, ").\nStart it there with \"iscsi-replicationd --address=ADDRESS\", or name "
                                         "the bus it serves.\n"));

        g_autoptr(CliResult) sys = cli_finish(h, cli_start_env(h, NULL, (const char *const[]) { "--system", "list-systems", NULL }, env));
        g_assert_cmpint(sys->status, ==, CLI_GENERIC);
        g_autofree char *sys_bus = g_strdup_printf(": " IRD_BUS_NAME " is not running on the system bus (%s), and that "
                                                   "bus cannot start it (", h->bus_address);
        g_assert_nonnull(strstr(sys->err, sys_bus));
        g_assert_nonnull(strstr(sys->err, "Check that iscsi-replicationd is installed"));
}

static void test_limits(Harness *h, gconstpointer data) {
        g_free(CLI_OUT(h, "add-access-point", "local", "127.0.0.1"));
        g_free(CLI_OUT(h, "add-access-point", "local", "127.0.0.4"));

        g_autoptr(CliResult) r = CLI(h, "create-collection", "big", "--local=127.0.0.1", "--local=127.0.0.4");
        g_assert_cmpint(r->status, ==, CLI_LIMITS);
}

static const char *const nobody[] = { "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", NULL };

static void test_unprivileged(Harness *h, gconstpointer data) {
        g_autoptr(CliResult) denied = cli_finish(h, cli_start(h, nobody, (const char *const[]) { "add-peer", PEER_IQN, NULL }));
        g_assert_cmpint(denied->status, ==, CLI_DENIED);
        g_assert_nonnull(strstr(denied->err, "Failed to add the peer system"));
        g_auto(GStrv) paths = harness_object_paths(h);
        harness_assert_strv_paths(paths, (const char *const[]) { IRD_LOCAL_SYSTEM, NULL });

        /* Reading needs no authorization. */
        g_autoptr(CliResult) reading = cli_finish(h, cli_start(h, nobody, (const char *const[]) { "list-systems", "--json", NULL }));
        g_assert_cmpint(reading->status, ==, CLI_OK);
        g_autoptr(JsonNode) root = parse_json(reading->out);
        find_by_path(root, IRD_LOCAL_SYSTEM);
}

/*
 * On a terminal, a user other than root gets a polkit agent for the call:
 * a stand-in pkttyagent records how it was started, says it is ready by
 * closing the notify descriptor, and must be stopped after the call.
 */
/*
 * Installs the stand-in pkttyagent in h->tmpdir; returns the PATH that finds
 * it first and where it records its arguments.
 */
static char *install_stand_in_agent(Harness *h, char **ret_record) {
        g_autofree char *bin = g_build_filename(h->tmpdir, "bin", NULL);
        g_autofree char *records = g_build_filename(h->tmpdir, "records", NULL);
        g_autofree char *agent = g_build_filename(bin, "pkttyagent", NULL);
        g_autoptr(GError) error = NULL;
        static const char script[] =
                "#!/bin/sh\n"
                "echo \"$@\" > \"$AGENT_RECORD\"\n"
                "eval \"exec $2>&-\"\n"
                "exec sleep 3600\n";

        g_assert_cmpint(g_mkdir(bin, 0755), ==, 0);
        g_assert_cmpint(g_mkdir(records, 0777), ==, 0);
        g_assert_cmpint(chmod(records, 0777), ==, 0);
        g_assert_true(g_file_set_contents(agent, script, -1, &error));
        g_assert_cmpint(chmod(agent, 0755), ==, 0);
        *ret_record = g_build_filename(records, "agent", NULL);
        return g_strdup_printf("%s:%s", bin, g_getenv("PATH"));
}

static void test_polkit_agent(Harness *h, gconstpointer data) {
        g_autofree char *record = NULL;
        g_autofree char *path = install_stand_in_agent(h, &record);
        g_autoptr(GError) error = NULL;
        const char *const env[] = { "PATH", path, "AGENT_RECORD", record, NULL };
        Pty t = {};

        pty_start_full(h, &t, nobody, (const char *const[]) { "add-peer", PEER_IQN, NULL }, env);
        /* Returns at all only when the agent was stopped: the client reaps it. */
        g_assert_cmpint(pty_finish(h, &t), ==, CLI_DENIED);
        g_autofree char *args = NULL;
        g_assert_true(g_file_get_contents(record, &args, NULL, &error));
        g_assert_true(g_regex_match_simple("^--notify-fd [0-9]+ --fallback\n$", args, 0, 0));
        pty_clear(&t);

        /* --no-ask-password: no agent. */
        g_assert_cmpint(g_unlink(record), ==, 0);
        pty_start_full(h, &t, nobody, (const char *const[]) { "add-peer", PEER_IQN, "--no-ask-password", NULL }, env);
        g_assert_cmpint(pty_finish(h, &t), ==, CLI_DENIED);
        g_assert_false(g_file_test(record, G_FILE_TEST_EXISTS));
        pty_clear(&t);
}

/*
 * What polkit is asked (a recording authority stands in for it): on a
 * terminal the client allows interactive authorization, flags 1; with
 * --no-ask-password, or without a terminal, it does not, flags 0.
 */
static void test_interactive_flag(Harness *h, gconstpointer data) {
        g_autoptr(FakePolkit) polkit = fake_polkit_start(h->bus_address, TRUE);
        g_autofree char *record = NULL;
        g_autofree char *path = install_stand_in_agent(h, &record);
        g_autofree char *on_terminal = NULL, *no_ask = NULL, *no_terminal = NULL;
        const char *const env[] = { "PATH", path, "AGENT_RECORD", record, NULL };
        Pty t = {};

        pty_start_full(h, &t, nobody, (const char *const[]) { "add-peer", PEER_IQN, NULL }, env);
        g_assert_cmpint(pty_finish(h, &t), ==, CLI_OK);
        pty_clear(&t);
        on_terminal = fake_polkit_take_checks(polkit);
        g_assert_cmpstr(on_terminal, ==, "org.iscsi.replication.manage-peers 1\n");

        pty_start_full(h, &t, nobody, (const char *const[]) { "add-peer", PEER_IQN "2", "--no-ask-password", NULL },
                       env);
        g_assert_cmpint(pty_finish(h, &t), ==, CLI_OK);
        pty_clear(&t);
        no_ask = fake_polkit_take_checks(polkit);
        g_assert_cmpstr(no_ask, ==, "org.iscsi.replication.manage-peers 0\n");

        g_autoptr(CliResult) piped = cli_finish(h, cli_start(h, nobody, (const char *const[]) { "add-peer", PEER_IQN "3",
                                                                                                  NULL }));
        g_assert_cmpint(piped->status, ==, CLI_OK);
        no_terminal = fake_polkit_take_checks(polkit);
        g_assert_cmpstr(no_terminal, ==, "org.iscsi.replication.manage-peers 0\n");
}

/* ------------------------------------------------------------------------ */
/* volumes and replicas (API.md section 10) */

/* Refused by the client itself, each with its own sentence on stderr, and nothing changes. */
static void test_replica_usage(Harness *h, gconstpointer data) {
        static const struct {
                const char *args[8];
                const char *message;
        } cases[] = {
                { { "add-volume", "lan" }, "add-volume needs --lun=N.\n" },
                { { "add-volume", "lan", "--lun=65536" }, "Invalid LUN \"65536\" (expected 0…65535).\n" },
                { { "add-volume", "lan", "--lun", "-1" }, "Invalid LUN \"-1\" (expected 0…65535).\n" },
                { { "create-replica", "r" }, "create-replica needs --mirror (kept in sync) or --clone (one copy).\n" },
                { { "create-replica", "r", "--mirror", "--clone" }, "--mirror and --clone exclude each other.\n" },
                { { "create-replica", "r", "--clone", "--source=a", "--collection=c" },
                  "create-replica needs --source=VOLUME, --target=VOLUME and --collection=COLLECTION.\n" },
                { { "create-replica", "r", "--mirror", "--chunk-size=1.5M" },
                  "Invalid value for --chunk-size: \"1.5M\" (expected a number of bytes, or with K, M, G or T).\n" },
                { { "create-replica", "r", "--mirror", "--chunk-size", "4G" },
                  "Invalid value for --chunk-size: \"4G\" (too large).\n" },
                { { "create-replica", "r", "--mirror", "--interval=5m" },
                  "Invalid value for --interval: \"5m\" (expected seconds, or a number with ms, s, min, h or d).\n" },
                { { "create-replica", "r", "--mirror", "--bandwidth=fast" },
                  "Invalid value for --bandwidth: \"fast\" (expected a number of bytes, or with K, M, G or T).\n" },
                { { "create-replica", "r", "--mirror", "--lun=1" }, "--lun does not apply to create-replica.\n" },
                { { "suspend", "r", "--bandwidth=1M" }, "--bandwidth does not apply to suspend.\n" },
                { { "resync", "r", "--mirror" }, "--mirror/--clone does not apply to resync.\n" },
                { { "add-volume", "lan", "--lun=0", "--collection=c" }, "--collection does not apply to add-volume.\n" },
                { { "modify", "backup-set", "--bandwidth=1M" },
                  "--bandwidth and --interval apply to replicas, not to collections.\n" },
                { { "create-replica", "r", "--mirror", "--source=volume/1", "--target=volume/2", "--collection=c" },
                  "No object " IRD_ROOT "/volume/1 exists.\n" },
                { { "detach", "7" }, NULL },
        };

        g_free(CLI_OUT(h, "add-access-point", "local", "127.0.0.1", "--element-name=lan"));
        g_autofree char *collection = CLI_OUT(h, "create-collection", "backup-set", "--local=lan");
        g_autofree char *before = harness_snapshot(h);

        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(CliResult) r = cli_runv(h, cases[i].args);

                if (r->status != CLI_INVALID)
                        g_error("case %zu (%s): exit %d, expected %d", i, cases[i].args[0], r->status, CLI_INVALID);
                if (cases[i].message)
                        g_assert_cmpstr(r->err, ==, cases[i].message);
                else
                        g_assert_cmpstr(r->err, !=, "");
                g_assert_cmpstr(r->out, ==, "");
        }
        /* A name of the wrong kind says which kind was meant. */
        g_autoptr(CliResult) wrong_kind = CLI(h, "compare", collection);
        g_assert_cmpint(wrong_kind->status, ==, CLI_INVALID);
        g_autofree char *expected = g_strdup_printf("%s is a collection, where a replica is expected.\n", collection);
        g_assert_cmpstr(wrong_kind->err, ==, expected);
        g_autofree char *after = harness_snapshot(h);
        g_assert_cmpstr(after, ==, before);

        g_autofree char *help = CLI_OUT(h, "--help");
        g_assert_nonnull(strstr(help, "create-replica NAME --mirror|--clone"));
}

static void test_replica_lists(Harness *h, gconstpointer data) {
        g_autofree char *volumes = CLI_OUT(h, "list-volumes");
        g_assert_true(g_str_has_prefix(volumes, "PATH NAME ACCESS POINT TARGET LUN SIZE LOCAL"));
        g_assert_true(g_str_has_suffix(volumes, "\n0 volumes listed."));
        g_autofree char *replicas = CLI_OUT(h, "list-replicas");
        g_assert_true(g_str_has_prefix(replicas, "PATH NAME TYPE STATE PROGRESS SOURCE COPY LAST SYNC"));
        g_assert_true(g_str_has_suffix(replicas, "\n0 replicas listed."));
        g_autofree char *json = CLI_OUT(h, "list-replicas", "--json");
        g_assert_cmpstr(json, ==, "[]");
        g_autofree char *bare = CLI_OUT(h, "list-volumes", "--no-legend");
        g_assert_cmpstr(bare, ==, "");

        g_autofree char *status = CLI_OUT(h, "status");
        g_assert_nonnull(strstr(status, "            Volumes: 0\n"));
        g_assert_nonnull(strstr(status, "           Replicas: 0\n"));
}

/*
 * Against a service without the replica methods, the client says what is
 * missing and that the service may be older, instead of only sd-bus's words.
 * Once the service implements AddStorageVolume there is nothing to check.
 */
static void test_replica_service_without(Harness *h, gconstpointer data) {
        g_autofree char *introspection = harness_introspect(h, IRD_ROOT);
        if (strstr(introspection, "\"AddStorageVolume\"")) {
                g_test_skip("the service implements the replica methods");
                return;
        }
        g_free(CLI_OUT(h, "add-access-point", "local", "127.0.0.1", "--element-name=lan"));

        g_autoptr(CliResult) r = CLI(h, "add-volume", "lan", "--lun=0");
        g_assert_cmpint(r->status, ==, CLI_INVALID);
        g_assert_true(g_str_has_prefix(r->err, "Failed to add the volume: the service does not offer this call ("));
        g_assert_nonnull(strstr(r->err, "AddStorageVolume"));
        g_assert_true(g_str_has_suffix(r->err, "). It may be older than iscsi-replctl.\n"));
        g_assert_cmpstr(r->out, ==, "");
}

/*
 * A replica job's progress carries what its synchronization has sent, at
 * what rate, and the time the job expects to need. Against the stand-in
 * until the daemon serves replicas (replica-standin.h).
 */
static void test_replica_progress(Harness *h, gconstpointer data) {
        harness_stop_daemon(h);
        g_autoptr(ReplicaStandin) standin = replica_standin_new(h->bus_address);

        g_autoptr(CliResult) r = CLI(h, "resync", "db-mirror");
        g_assert_cmpint(r->status, ==, CLI_OK);
        g_assert_cmpstr(replica_standin_job_method(standin), ==, "ModifyReplicaSynchronization");
        g_autofree char *args = g_variant_print(replica_standin_job_arguments(standin), FALSE);
        g_assert_cmpstr(args, ==, "(14, '" STANDIN_SYNCHRONIZATION "', {})");
        g_assert_cmpstr(r->out, ==, "");
        /* While running: the numbers and a time left (the clock moved on a little since the call). */
        const char *running = strstr(r->err, STANDIN_JOB ": running, 42%, 1.5 GiB sent, 85.0 MiB/s, ");
        g_assert_nonnull(running);
        g_assert_true(g_str_has_prefix(running + strlen(STANDIN_JOB ": running, 42%, 1.5 GiB sent, 85.0 MiB/s, "),
                                       "2:0"));
        g_assert_nonnull(strstr(running, " left, Copying\n"));
        /* Finished: no time left any more. */
        g_assert_nonnull(strstr(r->err, STANDIN_JOB ": completed, 100%, 1.5 GiB sent, 85.0 MiB/s, Copying\n"));
}

/* create-replica sends what was typed, in the contract's units, and prints the replica once its cycle ended. */
static void test_replica_create(Harness *h, gconstpointer data) {
        harness_stop_daemon(h);
        g_autoptr(ReplicaStandin) standin = replica_standin_new(h->bus_address);

        g_autoptr(CliResult) r = CLI(h, "create-replica", "db-mirror", "--mirror", "--source=db", "--target", "db-copy",
                                     "--collection=backup-set", "--interval=10min", "--bandwidth=50M",
                                     "--chunk-size", "4M");
        g_assert_cmpint(r->status, ==, CLI_OK);
        g_assert_cmpstr(r->out, ==, STANDIN_SYNCHRONIZATION "\n");
        /* The synchronization the reply named is followed from the start. */
        g_assert_nonnull(strstr(r->err, STANDIN_JOB ": running, 42%, 1.5 GiB sent, 85.0 MiB/s, "));

        g_assert_cmpstr(replica_standin_job_method(standin), ==, "CreateElementReplica");
        GVariant *args = replica_standin_job_arguments(standin);
        g_autoptr(GVariant) settings = NULL;
        const char *name, *source, *target, *collection;
        guint16 type, mode;
        g_variant_get(args, "(&sqq&o&o&o@a{sv})", &name, &type, &mode, &source, &target, &collection, &settings);
        g_assert_cmpstr(name, ==, "db-mirror");
        g_assert_cmpuint(type, ==, 6);
        g_assert_cmpuint(mode, ==, 3);
        g_assert_cmpstr(source, ==, STANDIN_SOURCE);
        g_assert_cmpstr(target, ==, STANDIN_TARGET);
        g_assert_cmpstr(collection, ==, STANDIN_COLLECTION);
        g_autofree char *text = g_variant_print(settings, TRUE);
        g_assert_cmpstr(text, ==,
                        "{'CycleInterval': <uint64 600000000>, 'BandwidthLimit': <uint64 52428800>, "
                        "'ChunkSize': <uint32 4194304>}");
}

/* The lists name a replica's volumes, and modify and delete treat a replica as the contract says. */
static void test_replica_objects(Harness *h, gconstpointer data) {
        harness_stop_daemon(h);
        g_autoptr(ReplicaStandin) standin = replica_standin_new(h->bus_address);

        g_autofree char *volumes = CLI_OUT(h, "list-volumes", "--no-legend");
        g_auto(GStrv) volume_rows = g_strsplit(volumes, "\n", -1);
        g_assert_cmpuint(g_strv_length(volume_rows), ==, 2);
        g_assert_true(g_regex_match_simple("^" STANDIN_SOURCE " +db +- +iqn.2026-11.org.example:disk +1 +1.0 GiB +yes$",
                                           volume_rows[0], 0, 0));
        g_assert_true(g_regex_match_simple("^" STANDIN_TARGET " +db-copy +.* +2 +1.0 GiB +no$", volume_rows[1], 0, 0));

        g_autofree char *replicas = CLI_OUT(h, "list-replicas");
        g_assert_true(g_regex_match_simple("\n" STANDIN_SYNCHRONIZATION
                                           " +db-mirror +mirror +synchronized +synchronizing 42% +db +db-copy +-\n",
                                           replicas, 0, 0));
        g_assert_true(g_str_has_suffix(replicas, "\n1 replica listed."));

        g_autoptr(CliResult) deleted = CLI(h, "delete", "db-mirror");
        g_assert_cmpint(deleted->status, ==, CLI_INVALID);
        g_assert_cmpstr(deleted->err, ==,
                        "A replica is not deleted but detached: iscsi-replctl detach " STANDIN_SYNCHRONIZATION "\n");

        g_free(CLI_OUT(h, "modify", "db-mirror", "--bandwidth=0", "--interval=0", "--element-name=db-mirror-2"));
        GVariant *modify = replica_standin_modify_arguments(standin);
        g_assert_nonnull(modify);
        g_autofree char *text = g_variant_print(modify, TRUE);
        g_assert_cmpstr(text, ==,
                        "({'ElementName': <'db-mirror-2'>, 'BandwidthLimit': <uint64 0>, 'CycleInterval': <uint64 0>},)");
        g_autoptr(CliResult) flags = CLI(h, "modify", "db-mirror", "--active=no");
        g_assert_cmpint(flags->status, ==, CLI_INVALID);
        g_assert_cmpstr(flags->err, ==, "--active and --delete-on-unassociated apply to collections, not to replicas.\n");
}

/* add-volume prints the volume its job found, compare says when the copy is equal; neither shows bytes sent. */
static void test_replica_volume_and_compare(Harness *h, gconstpointer data) {
        harness_stop_daemon(h);
        g_autoptr(ReplicaStandin) standin = replica_standin_new(h->bus_address);

        g_autoptr(CliResult) added = CLI(h, "add-volume", "127.0.0.1:3260", "--lun=7",
                                         "--target-name=iqn.2026-11.org.example:t", "--element-name=db");
        g_assert_cmpint(added->status, ==, CLI_OK);
        g_assert_cmpstr(added->out, ==, STANDIN_SOURCE "\n");
        g_assert_cmpstr(replica_standin_job_method(standin), ==, "AddStorageVolume");
        g_autofree char *args = g_variant_print(replica_standin_job_arguments(standin), TRUE);
        g_assert_cmpstr(args, ==,
                        "(objectpath '" STANDIN_ACCESS_POINT "', {'LUN': <uint16 7>, "
                        "'TargetName': <'iqn.2026-11.org.example:t'>, 'ElementName': <'db'>})");
        g_assert_nonnull(strstr(added->err, STANDIN_JOB ": running, 42%, Copying\n"));
        g_assert_null(strstr(added->err, "sent"));

        /* The stand-in's one job has ended: the client sees that at once and reports the result. */
        g_autoptr(CliResult) compared = CLI(h, "compare", "db-mirror");
        g_assert_cmpint(compared->status, ==, CLI_OK);
        g_assert_cmpstr(compared->out, ==, "The copy equals the source.\n");
        g_assert_cmpstr(replica_standin_job_method(standin), ==, "Compare");
        g_assert_null(strstr(compared->err, "sent"));
}

/* ------------------------------------------------------------------------ */
/* jobs */

/* A peer served by `kind` on 127.0.0.2, a local access point, and the peer's portal; returns the portal's Name. */
static char *add_peer_portal(Harness *h, HarnessPeer *peer) {
        g_free(CLI_OUT(h, "add-peer", PEER_IQN, "--element-name=site-b"));
        g_free(CLI_OUT(h, "add-access-point", "local", "127.0.0.1", "--element-name=lan"));
        char *name = g_strdup_printf("127.0.0.2:%u", harness_peer_port(peer));
        g_free(CLI_OUT(h, "add-access-point", "site-b", name));
        return name;
}

static void test_job_progress_terminal(Harness *h, gconstpointer data) {
        const char *names[] = { PEER_IQN, NULL };
        g_autoptr(HarnessPeer) target = harness_peer_new(HARNESS_PEER_TARGET, "127.0.0.2", names);
        g_autofree char *portal = add_peer_portal(h, target);
        Pty t = {};

        pty_start(h, &t, (const char *const[]) { "create-collection", "backup-set", "--local=lan", "--remote", portal,
                                                 "--system", "site-b", NULL });
        g_assert_cmpint(pty_finish(h, &t), ==, CLI_OK);

        /* The bar is drawn in place, ends full, and the result line follows. */
        g_assert_nonnull(strstr(t.output->str, "\r["));
        g_assert_nonnull(strstr(t.output->str, "] 100% "));
        g_assert_nonnull(strstr(t.output->str, "(CreateRemoteReplicationCollection) completed."));
        g_autofree char *json = CLI_OUT(h, "list-collections", "--json");
        g_autoptr(JsonNode) root = parse_json(json);
        g_assert_cmpuint(json_array_get_length(json_node_get_array(root)), ==, 1);
        JsonObject *o = json_array_get_object_element(json_node_get_array(root), 0);
        /* The new collection's path is printed after the job, as without a job. */
        g_assert_nonnull(strstr(t.output->str, json_object_get_string_member(o, "Path")));
        g_assert_cmpuint(json_array_get_length(json_object_get_array_member(o, "RemoteAccessPoints")), ==, 1);
        pty_clear(&t);
}

static void test_job_progress_lines(Harness *h, gconstpointer data) {
        const char *names[] = { PEER_IQN, NULL };
        g_autoptr(HarnessPeer) target = harness_peer_new(HARNESS_PEER_TARGET, "127.0.0.2", names);
        g_autofree char *portal = add_peer_portal(h, target);
        g_autofree char *collection = CLI_OUT(h, "create-collection", "backup-set", "--local=lan", "--system=site-b");

        g_autoptr(CliResult) r = CLI(h, "add", "backup-set", "--remote", portal);
        g_assert_cmpint(r->status, ==, CLI_OK);
        /* Not a terminal: no bar, plain lines on stderr, nothing on stdout. */
        g_assert_cmpstr(r->out, ==, "");
        g_assert_null(strstr(r->err, "\r"));
        g_assert_nonnull(strstr(r->err, "/job/"));
        g_assert_nonnull(strstr(r->err, ": completed, 100%"));

        g_autofree char *verified = CLI_OUT(h, "verify", portal);
        g_autofree char *shown = CLI_OUT(h, "show", portal, "--json");
        g_autoptr(JsonNode) ap = parse_json(shown);
        g_assert_cmpstr(json_object_get_string_member(json_node_get_object(ap), "Reachable"), ==, "yes");

        g_autofree char *jobs = CLI_OUT(h, "list-jobs", "--json");
        g_autoptr(JsonNode) root = parse_json(jobs);
        JsonArray *a = json_node_get_array(root);
        g_assert_cmpuint(json_array_get_length(a), ==, 2);
        for (guint i = 0; i < 2; i++)
                g_assert_cmpint(json_object_get_int_member(json_array_get_object_element(a, i), "JobState"), ==,
                                IRD_JOB_COMPLETED);
        g_autofree char *table = CLI_OUT(h, "list-jobs");
        g_assert_nonnull(strstr(table, "AddToRemoteReplicationCollection"));
        g_assert_nonnull(strstr(table, "Verify"));
}

/* The JobStatus values the service sent for job, in the order it sent them (InterfacesAdded, then each change). */
static GPtrArray *sent_job_statuses(Harness *h, const char *job) {
        g_autoptr(GPtrArray) signals = harness_take_signals(h, NULL, NULL, NULL);
        GPtrArray *statuses = g_ptr_array_new_with_free_func(g_free);

        for (guint i = 0; i < signals->len; i++) {
                const HarnessSignal *s = signals->pdata[i];
                g_autoptr(GVariant) dict = NULL;
                const char *status = NULL;

                if (g_str_equal(s->member, "InterfacesAdded")) {
                        const char *path = NULL;
                        g_autoptr(GVariant) interfaces = NULL;

                        g_variant_get(s->parameters, "(&o@a{sa{sv}})", &path, &interfaces);
                        if (g_str_equal(path, job))
                                dict = g_variant_lookup_value(interfaces, IRD_IFACE_JOB, G_VARIANT_TYPE("a{sv}"));
                } else if (g_str_equal(s->member, "PropertiesChanged") && g_str_equal(s->path, job))
                        dict = harness_properties_changed_dict(s);
                if (dict && g_variant_lookup(dict, "JobStatus", "&s", &status))
                        g_ptr_array_add(statuses, g_strdup(status));
        }
        return statuses;
}

typedef struct StatusWait {
        Harness *h;
        const char *job;
        const char *suffix;
} StatusWait;

/* Whether a recorded PropertiesChanged of the job carries a JobStatus ending in suffix; leaves the queue as it is. */
static gboolean status_was_sent(gpointer user_data) {
        const StatusWait *w = user_data;

        for (GList *l = w->h->signals.head; l; l = l->next) {
                const HarnessSignal *s = l->data;
                const char *status;

                if (!g_str_equal(s->member, "PropertiesChanged") || !g_str_equal(s->path, w->job))
                        continue;
                g_autoptr(GVariant) dict = harness_properties_changed_dict(s);
                if (g_variant_lookup(dict, "JobStatus", "&s", &status) && g_str_has_suffix(status, w->suffix))
                        return TRUE;
        }
        return FALSE;
}

/* The status texts of the progress bars drawn on the terminal, in drawing order, repeats folded. */
static GPtrArray *drawn_bar_statuses(const char *output) {
        g_auto(GStrv) redraws = g_strsplit(output, "\r", -1);
        GPtrArray *statuses = g_ptr_array_new_with_free_func(g_free);

        for (size_t i = 0; redraws[i]; i++) {
                const char *percent = redraws[i][0] == '[' ? strstr(redraws[i], "% ") : NULL;
                if (!percent)
                        continue;
                g_autofree char *status = g_strndup(percent + 2, strcspn(percent + 2, "\x1b\n"));
                if (statuses->len == 0 || !g_str_equal(statuses->pdata[statuses->len - 1], status))
                        g_ptr_array_add(statuses, g_steal_pointer(&status));
        }
        return statuses;
}

/*
 * The bar shows JobStatus in the order the service sent the values: once a
 * newer one is drawn, an older one never comes back. The first probe is
 * refused at once, so the status moves on while the client still reads the
 * job's properties; signals that arrived before that reply were older than
 * it, and drawing them after it put the bar back in time.
 */
static void test_job_progress_order(Harness *h, gconstpointer data) {
        g_autoptr(HarnessPeer) refusing = harness_peer_new(HARNESS_PEER_REFUSING, "127.0.0.3", NULL);
        g_autoptr(HarnessPeer) hole = harness_peer_new(HARNESS_PEER_BLACK_HOLE, "127.0.0.2", NULL);
        g_autofree char *refusing_portal = g_strdup_printf("127.0.0.3:%u", harness_peer_port(refusing));
        g_autofree char *hole_portal = g_strdup_printf("127.0.0.2:%u", harness_peer_port(hole));
        g_autofree char *first = harness_add_peer(h, "first.example", NULL);
        g_autofree char *second = harness_add_peer(h, "second.example", NULL);
        g_autofree char *refusing_ap = harness_add_access_point(h, first, "127.0.0.3", harness_peer_port(refusing), NULL);
        g_autofree char *hole_ap = harness_add_access_point(h, second, "127.0.0.2", harness_peer_port(hole), NULL);
        Pty t = {};

        harness_clear_signals(h);
        pty_start(h, &t, (const char *const[]) { "probe-peers", NULL });
        /* The refused probe is done; the black hole keeps the job running. */
        g_assert_true(pty_read(&t, "1 of 2 done."));
        g_auto(GStrv) paths = harness_object_paths(h);
        const char *job = NULL;
        for (size_t i = 0; paths[i]; i++)
                if (g_str_has_prefix(paths[i], IRD_ROOT "/job/"))
                        job = paths[i];
        g_assert_nonnull(job);
        /* The bar may show the value before the service announces it; the check needs it announced. */
        StatusWait wait = { h, job, "1 of 2 done." };
        harness_wait_until(h, status_was_sent, &wait, "the job to announce its second status");
        g_autoptr(GVariant) reply = harness_call(h, job, IRD_IFACE_JOB, "RequestStateChange",
                                                 g_variant_new("(qt)", 4, (guint64) 0));
        g_assert_cmpint(pty_finish(h, &t), ==, CLI_JOB_FAILED);
        g_assert_nonnull(strstr(t.output->str, "was terminated"));

        g_autoptr(GPtrArray) sent = sent_job_statuses(h, job);
        g_autoptr(GPtrArray) drawn = drawn_bar_statuses(t.output->str);
        g_assert_cmpuint(drawn->len, >=, 2);
        /*
         * A drawn value the service never sent as a signal came from the
         * client's read of the properties; it has no place to check.
         */
        guint last = 0;
        for (guint i = 0; i < drawn->len; i++) {
                guint at;
                if (!g_ptr_array_find_with_equal_func(sent, drawn->pdata[i], g_str_equal, &at))
                        continue;
                if (at < last)
                        g_error("\"%s\" drawn after \"%s\", which the service sent later",
                                (const char *) drawn->pdata[i], (const char *) sent->pdata[last]);
                last = at;
        }
        g_assert_cmpstr(drawn->pdata[drawn->len - 1], ==, "Terminated.");
        pty_clear(&t);
}

static void test_job_no_wait(Harness *h, gconstpointer data) {
        const char *names[] = { PEER_IQN, NULL };
        g_autoptr(HarnessPeer) target = harness_peer_new(HARNESS_PEER_TARGET, "127.0.0.2", names);
        g_autofree char *portal = add_peer_portal(h, target);

        g_autofree char *job = CLI_OUT(h, "verify", portal, "--no-wait");
        g_assert_true(g_str_has_prefix(job, IRD_ROOT "/job/"));
        g_assert_null(strchr(job, '\n'));

        /* wait by number; the job may have finished already, which wait reports as well. */
        g_autofree char *waited = CLI_OUT(h, "wait", strrchr(job, '/') + 1);
        g_autofree char *json = CLI_OUT(h, "job", job, "--json");
        g_autoptr(JsonNode) root = parse_json(json);
        JsonObject *o = json_node_get_object(root);
        g_assert_cmpstr(json_object_get_string_member(o, "Path"), ==, job);
        g_assert_cmpstr(json_object_get_string_member(o, "Name"), ==, "Verify");
        g_assert_cmpint(json_object_get_int_member(o, "JobState"), ==, IRD_JOB_COMPLETED);
        g_assert_cmpint(json_object_get_int_member(o, "PercentComplete"), ==, 100);
        g_assert_cmpint(json_object_get_int_member(o, "ErrorCode"), ==, 0);

        g_autofree char *text = CLI_OUT(h, "job", job);
        g_assert_nonnull(strstr(text, "State: completed (7)"));

        g_free(CLI_OUT(h, "delete", job));
        g_auto(GStrv) paths = harness_object_paths(h);
        g_assert_false(g_strv_contains((const char *const *) paths, job));
}

static void test_probe_peers(Harness *h, gconstpointer data) {
        const char *names[] = { PEER_IQN, NULL };
        g_autoptr(HarnessPeer) target = harness_peer_new(HARNESS_PEER_TARGET, "127.0.0.2", names);
        g_autoptr(HarnessPeer) refusing = harness_peer_new(HARNESS_PEER_REFUSING, "127.0.0.3", NULL);
        g_autofree char *portal = add_peer_portal(h, target);
        g_autofree char *silent = CLI_OUT(h, "add-peer", "silent.example");
        g_autofree char *silent_portal = g_strdup_printf("127.0.0.3:%u", harness_peer_port(refusing));
        g_free(CLI_OUT(h, "add-access-point", silent, silent_portal));

        /* Only the peer that answers is listed. */
        g_autofree char *reachable = CLI_OUT(h, "probe-peers");
        g_auto(GStrv) lines = g_strsplit(reachable, "\n", -1);
        g_assert_cmpuint(g_strv_length(lines), ==, 1);
        g_assert_true(g_str_has_prefix(lines[0], IRD_ROOT "/system/"));
        g_autofree char *name = harness_get_string(h, lines[0], IRD_IFACE_SYSTEM, "Name");
        g_assert_cmpstr(name, ==, PEER_IQN);
}

static void test_job_failed(Harness *h, gconstpointer data) {
        g_autoptr(HarnessPeer) refusing = harness_peer_new(HARNESS_PEER_REFUSING, "127.0.0.2", NULL);
        g_autofree char *portal = add_peer_portal(h, refusing);

        g_autoptr(CliResult) r = CLI(h, "verify", portal);
        g_assert_cmpint(r->status, ==, CLI_JOB_FAILED);
        g_assert_nonnull(strstr(r->err, "failed: "));
        g_assert_nonnull(strstr(r->err, portal));
}

static void test_job_timeout(Harness *h, gconstpointer data) {
        g_autoptr(HarnessPeer) hole = harness_peer_new(HARNESS_PEER_BLACK_HOLE, "127.0.0.2", NULL);
        g_autofree char *portal = add_peer_portal(h, hole);

        g_autoptr(CliResult) r = CLI(h, "verify", portal);
        g_assert_cmpint(r->status, ==, CLI_TIMEOUT);
}

static void test_job_cancel_sigint(Harness *h, gconstpointer data) {
        g_autoptr(HarnessPeer) hole = harness_peer_new(HARNESS_PEER_BLACK_HOLE, "127.0.0.2", NULL);
        g_autofree char *portal = add_peer_portal(h, hole);

        harness_clear_signals(h);
        Pending *p = cli_start(h, NULL, (const char *const[]) { "verify", portal, NULL });
        /* The client blocks SIGINT before its call, so by the time the job runs it waits for it. */
        g_autofree char *job = wait_for_running_job(h);
        g_subprocess_send_signal(p->process, SIGINT);
        g_autoptr(CliResult) r = cli_finish(h, p);

        g_assert_cmpint(r->status, ==, CLI_JOB_FAILED);
        g_assert_nonnull(strstr(r->err, "was terminated"));
        g_assert_cmpuint(harness_get_uint16(h, job, IRD_IFACE_JOB, "JobState"), ==, IRD_JOB_TERMINATED);
}

/* How the client starts drawing its progress bar on a terminal. */
#define PROGRESS_BAR "\r["

static void test_job_cancel_terminal(Harness *h, gconstpointer data) {
        g_autoptr(HarnessPeer) hole = harness_peer_new(HARNESS_PEER_BLACK_HOLE, "127.0.0.2", NULL);
        g_autofree char *portal = add_peer_portal(h, hole);
        Pty t = {};

        harness_clear_signals(h);
        pty_start(h, &t, (const char *const[]) { "verify", portal, NULL });
        g_autofree char *job = wait_for_running_job(h);
        /*
         * The client is watching once it draws its bar ("\r[", whatever the
         * status text says by then: how soon JobStatus moves on from "Running."
         * is the service's progress interval, not this test's business).
         */
        g_assert_true(pty_read(&t, PROGRESS_BAR));
        /* Ctrl-C on the terminal asks first; "n" goes on waiting, "y" cancels. */
        pty_write(&t, "\x03");
        g_assert_true(pty_read(&t, "? [y/N] "));
        g_string_truncate(t.output, 0);
        pty_write(&t, "n\n");
        /* Answered: the bar comes back and the job still runs. */
        g_assert_true(pty_read(&t, PROGRESS_BAR));
        g_assert_cmpuint(harness_get_uint16(h, job, IRD_IFACE_JOB, "JobState"), ==, IRD_JOB_RUNNING);
        pty_write(&t, "\x03");
        g_assert_true(pty_read(&t, "? [y/N] "));
        pty_write(&t, "y\n");
        g_assert_cmpint(pty_finish(h, &t), ==, CLI_JOB_FAILED);
        g_assert_nonnull(strstr(t.output->str, "was terminated"));
        g_assert_cmpuint(harness_get_uint16(h, job, IRD_IFACE_JOB, "JobState"), ==, IRD_JOB_TERMINATED);
        pty_clear(&t);
}

static void test_job_cancel_command(Harness *h, gconstpointer data) {
        g_autoptr(HarnessPeer) hole = harness_peer_new(HARNESS_PEER_BLACK_HOLE, "127.0.0.2", NULL);
        g_autofree char *portal = add_peer_portal(h, hole);

        g_autofree char *job = CLI_OUT(h, "verify", portal, "--no-wait");
        harness_wait_job_running(h, job);
        /* wait follows the job; cancel from a second client ends both. */
        Pending *waiting = cli_start(h, NULL, (const char *const[]) { "wait", job, NULL });
        g_free(CLI_OUT(h, "cancel", job));
        g_autoptr(CliResult) r = cli_finish(h, waiting);
        g_assert_cmpint(r->status, ==, CLI_JOB_FAILED);
        g_assert_cmpuint(harness_get_uint16(h, job, IRD_IFACE_JOB, "JobState"), ==, IRD_JOB_TERMINATED);

        /* Cancelling a finished job is refused by the service. */
        g_autoptr(CliResult) again = CLI(h, "cancel", job);
        g_assert_cmpint(again->status, ==, CLI_GENERIC);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);

        harness_add_test("/integration/cli/status", NULL, test_status);
        harness_add_test("/integration/cli/systems", NULL, test_systems);
        harness_add_test("/integration/cli/access-points", NULL, test_access_points);
        harness_add_test("/integration/cli/show", NULL, test_show);
        harness_add_test("/integration/cli/json-escaping", NULL, test_json_escaping);
        harness_add_test("/integration/cli/secrets", NULL, test_secrets);
        harness_add_test("/integration/cli/secret-prompt", NULL, test_secret_prompt);
        harness_add_test("/integration/cli/secret-prompt-mismatch", NULL, test_secret_prompt_mismatch);
        harness_add_test("/integration/cli/collections", &no_verify, test_collections);
        harness_add_test("/integration/cli/delete", NULL, test_delete);
        harness_add_test("/integration/cli/pager", NULL, test_pager);
        harness_add_test("/integration/cli/bash-completion", NULL, test_bash_completion);
        harness_add_test("/integration/cli/names", &no_verify, test_names);
        harness_add_test("/integration/cli/object-numbers", NULL, test_object_numbers);
        harness_add_test("/integration/cli/usage-errors", NULL, test_usage_errors);
        harness_add_test("/integration/cli/bad-options", NULL, test_bad_options);
        harness_add_test("/integration/cli/bus-unreachable", NULL, test_bus_unreachable);
        harness_add_test("/integration/cli/service-not-on-bus", NULL, test_service_not_on_bus);
        harness_add_test("/integration/cli/limits", &one_entry, test_limits);
        harness_add_test("/integration/cli/unprivileged", NULL, test_unprivileged);
        harness_add_test("/integration/cli/polkit-agent", NULL, test_polkit_agent);
        harness_add_test("/integration/cli/interactive-flag", NULL, test_interactive_flag);
        harness_add_test("/integration/cli/replicas/usage", NULL, test_replica_usage);
        harness_add_test("/integration/cli/replicas/lists", NULL, test_replica_lists);
        harness_add_test("/integration/cli/replicas/service-without", NULL, test_replica_service_without);
        harness_add_test("/integration/cli/replicas/progress", NULL, test_replica_progress);
        harness_add_test("/integration/cli/replicas/create", NULL, test_replica_create);
        harness_add_test("/integration/cli/replicas/objects", NULL, test_replica_objects);
        harness_add_test("/integration/cli/replicas/volume-and-compare", NULL, test_replica_volume_and_compare);
        harness_add_test("/integration/cli/job/progress-terminal", NULL, test_job_progress_terminal);
        harness_add_test("/integration/cli/job/progress-lines", NULL, test_job_progress_lines);
        harness_add_test("/integration/cli/job/progress-order", &slow_probes, test_job_progress_order);
        harness_add_test("/integration/cli/job/no-wait", NULL, test_job_no_wait);
        harness_add_test("/integration/cli/job/probe-peers", NULL, test_probe_peers);
        harness_add_test("/integration/cli/job/failed", NULL, test_job_failed);
        harness_add_test("/integration/cli/job/timeout", &quick_probes, test_job_timeout);
        harness_add_test("/integration/cli/job/cancel-sigint", &slow_probes, test_job_cancel_sigint);
        harness_add_test("/integration/cli/job/cancel-terminal", &slow_probes, test_job_cancel_terminal);
        harness_add_test("/integration/cli/job/cancel-command", &slow_probes, test_job_cancel_command);

        return g_test_run();
}
