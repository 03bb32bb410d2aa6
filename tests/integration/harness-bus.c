/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The private message bus of an integration test: dbus-daemon, or
 * dbus-broker when IRD_TEST_BUS=dbus-broker, on a unix socket in the test's
 * temporary directory and configured by the same <busconfig> text either
 * way. See harness.h.
 *
 * How dbus-broker is started here, outside systemd. dbus-broker itself
 * (the broker) reads no configuration: a controller hands it the listening
 * socket, the compiled policy and the activatable names over a private
 * D-Bus connection. dbus-broker-launch is that controller: it parses the
 * <busconfig> XML (policy, <include>, <servicedir>) exactly as dbus-daemon
 * does, so the project's bus policy in units/ applies unchanged. Writing our
 * own controller would mean compiling the policy ourselves and testing that
 * instead of the launcher a system runs. The launcher needs three things
 * systemd would give it:
 *   - the listening socket, by socket activation: the harness binds and
 *     listens on the socket itself and passes it as fd 3 with LISTEN_FDS=1,
 *     LISTEN_FDNAMES=dbus.socket and LISTEN_PID set by the shell that then
 *     execs the launcher (what systemd-socket-activate does, without its
 *     wait for a first connection, and the address is known at once);
 *   - a journal: it logs only to /run/systemd/journal/socket and exits when
 *     that cannot be connected. The launcher runs in a mount namespace of its
 *     own (unshare, root only) with an empty tmpfs on /run and the test's
 *     journal directory bound to /run/systemd/journal; the harness reads the
 *     datagrams and appends their MESSAGE fields to the bus log (shown when
 *     a test fails), so the broker's word on a policy denial is kept;
 *   - a connection to the bus it runs (to watch systemd's signals), found
 *     through DBUS_SYSTEM_BUS_ADDRESS or DBUS_SESSION_BUS_ADDRESS by scope:
 *     both name our socket.
 * Bus activation is the one thing dbus-broker does not do alone: the
 * launcher asks systemd (org.freedesktop.systemd1 on the bus) to start the
 * activation file's unit or a transient one. Without systemd as the manager
 * a test that needs activation says so and is skipped on dbus-broker.
 */

#include "harness-internal.h"

#include <glib/gstdio.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define BUS_ENV "IRD_TEST_BUS"

HarnessBusKind harness_bus_kind(void) {
        const char *v = g_getenv(BUS_ENV);

        if (!v || !*v || g_str_equal(v, "dbus-daemon"))
                return HARNESS_BUS_DAEMON;
        if (g_str_equal(v, "dbus-broker"))
                return HARNESS_BUS_BROKER;
        g_error("%s=%s: expected dbus-daemon or dbus-broker", BUS_ENV, v);
}

const char *harness_bus_name(void) {
        return harness_bus_kind() == HARNESS_BUS_BROKER ? "dbus-broker" : "dbus-daemon";
}

static int bind_unix(int type, const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);

        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpuint(strlen(path), <, sizeof(sa.sun_path));
        strcpy(sa.sun_path, path);
        if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                g_error("bind %s: %s", path, g_strerror(errno));
        return fd;
}

static char *write_config(Harness *h, const char *body) {
        g_autoptr(GError) error = NULL;
        g_autofree char *socket_path = g_build_filename(h->tmpdir, "bus", NULL);
        char *config_path = g_build_filename(h->tmpdir, "bus.conf", NULL);
        g_autofree char *config = g_strdup_printf(
                "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
                " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
                "<busconfig>\n"
                "  <listen>unix:path=%s</listen>\n"
                "  <auth>EXTERNAL</auth>\n"
                "%s"
                "</busconfig>\n",
                socket_path, body);

        g_assert_true(g_file_set_contents(config_path, config, -1, &error));
        g_assert_no_error(error);
        return config_path;
}

/* stderr_path: where the bus's stderr goes; NULL leaves it on the test's. */
static GSubprocessLauncher *new_bus_launcher(const char *stderr_path, const char *const *env) {
        GSubprocessLauncher *launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);

        g_subprocess_launcher_set_child_setup(launcher, harness_die_with_parent, NULL, NULL);
        if (stderr_path) {
                int fd = open(stderr_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

                g_assert_cmpint(fd, >=, 0);
                g_subprocess_launcher_take_stderr_fd(launcher, fd);
        }
        for (size_t i = 0; env && env[i]; i++) {
                g_autofree char *assignment = g_strdup(env[i]);
                char *eq = strchr(assignment, '=');

                g_assert_nonnull(eq);
                *eq = '\0';
                g_subprocess_launcher_setenv(launcher, assignment, eq + 1, TRUE);
        }
        return launcher;
}

/* dbus-daemon prints its address on fd 3 once it listens. */
static void start_dbus_daemon(Harness *h, const char *config_path, const char *const *env, gboolean log_stderr) {
        g_autoptr(GError) error = NULL;
        /* Services it activates inherit its stderr: their messages belong in the daemon log. */
        g_autoptr(GSubprocessLauncher) launcher = new_bus_launcher(log_stderr ? h->log_path : NULL, env);
        g_autofree char *config_arg = g_strdup_printf("--config-file=%s", config_path);
        int pipe_fds[2];

        g_assert_cmpint(pipe2(pipe_fds, O_CLOEXEC), ==, 0);
        g_subprocess_launcher_take_fd(launcher, pipe_fds[1], 3);
        h->bus_process = g_subprocess_launcher_spawn(launcher, &error, "dbus-daemon", config_arg, "--nofork",
                                                     "--print-address=3", NULL);
        g_assert_no_error(error);
        /* Drop the launcher's copy of the write end, so a dead dbus-daemon reads as EOF. */
        g_clear_object(&launcher);

        GString *address = g_string_new(NULL);
        for (;;) {
                char c;
                ssize_t n = read(pipe_fds[0], &c, 1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n != 1) {
                        g_autofree char *log = harness_read_log(h);
                        g_error("dbus-daemon exited before printing its address; log:\n%s", log);
                }
                if (c == '\n')
                        break;
                g_string_append_c(address, c);
        }
        close(pipe_fds[0]);
        h->bus_address = g_string_free(address, FALSE);
        g_assert_cmpstr(h->bus_address, !=, "");
}

/* Runs as the launcher's own process: the exec keeps the pid that LISTEN_PID names. */
static const char broker_script[] =
        "set -e\n"
        "mount -t tmpfs -o mode=0755,size=1m ird-test-run /run\n"
        "mkdir -p /run/systemd/journal\n"
        "mount --bind \"$1\" /run/systemd/journal\n"
        "export LISTEN_FDS=1 LISTEN_FDNAMES=dbus.socket LISTEN_PID=$$\n"
        "exec dbus-broker-launch --scope \"$2\" --config-file \"$3\"\n";

static void start_dbus_broker(Harness *h, const char *config_path, const char *body, const char *const *env,
                              gboolean log_stderr) {
        g_autoptr(GError) error = NULL;
        g_autofree char *socket_path = g_build_filename(h->tmpdir, "bus", NULL);
        g_autofree char *journal_dir = g_build_filename(h->tmpdir, "journal", NULL);
        g_autofree char *journal_socket = g_build_filename(journal_dir, "socket", NULL);
        /* The launcher's scope decides which of the two variables it connects through. */
        gboolean system = strstr(body, "<type>system</type>") != NULL;
        int listen_fd;

        g_autofree char *machine_id = NULL;

        if (geteuid() != 0)
                g_error("dbus-broker here needs root: its launcher runs in a mount namespace of its own");
        /* The launcher hands the broker this machine's id and exits without one. */
        if (!g_file_get_contents("/etc/machine-id", &machine_id, NULL, NULL) || !*g_strstrip(machine_id))
                g_error("dbus-broker needs /etc/machine-id; systemd-machine-id-setup writes it");

        g_assert_cmpint(g_mkdir(journal_dir, 0755), ==, 0);
        h->bus_journal_fd = bind_unix(SOCK_DGRAM | SOCK_NONBLOCK, journal_socket);
        listen_fd = bind_unix(SOCK_STREAM, socket_path);
        g_assert_cmpint(listen(listen_fd, SOMAXCONN), ==, 0);
        /* Others (the nobody client, the daemon under its own user) connect too. */
        g_assert_cmpint(chmod(socket_path, 0666), ==, 0);
        h->bus_address = g_strdup_printf("unix:path=%s", socket_path);

        /* It starts no service itself (systemd would), so what it says goes to the bus log. */
        g_autoptr(GSubprocessLauncher) launcher = new_bus_launcher(log_stderr ? h->bus_log_path : NULL, env);
        g_subprocess_launcher_take_fd(launcher, listen_fd, 3);
        g_subprocess_launcher_setenv(launcher, system ? "DBUS_SYSTEM_BUS_ADDRESS" : "DBUS_SESSION_BUS_ADDRESS",
                                     h->bus_address, TRUE);
        h->bus_process = g_subprocess_launcher_spawn(launcher, &error, "unshare", "--mount", "--propagation",
                                                     "private", "--", "sh", "-c", broker_script, "sh", journal_dir,
                                                     system ? "system" : "user", config_path, NULL);
        g_assert_no_error(error);
        /*
         * Only the launcher holds the listening socket now: should it die, a
         * connection is refused instead of waiting for a bus that never comes.
         */
        g_clear_object(&launcher);
}

void harness_bus_start(Harness *h, const char *body, const char *const *env, gboolean log_stderr) {
        g_autofree char *config_path = write_config(h, body);

        h->bus_journal_fd = -1;
        h->bus_log_path = g_build_filename(h->tmpdir, "bus.log", NULL);
        if (harness_bus_kind() == HARNESS_BUS_BROKER)
                start_dbus_broker(h, config_path, body, env, log_stderr);
        else
                start_dbus_daemon(h, config_path, env, log_stderr);
}

/* Appends the MESSAGE field of each journal datagram the broker sent so far to the bus log. */
static void collect_journal(Harness *h) {
        g_autoptr(GString) text = g_string_new(NULL);
        char buf[65536];
        ssize_t n;

        if (h->bus_journal_fd < 0)
                return;
        while ((n = recv(h->bus_journal_fd, buf, sizeof(buf) - 1, 0)) > 0) {
                buf[n] = '\0';
                /* Text fields are "KEY=value\n"; MESSAGE comes as one of them. */
                for (char *line = buf; line && *line;) {
                        char *end = strchr(line, '\n');

                        if (end)
                                *end = '\0';
                        if (g_str_has_prefix(line, "MESSAGE="))
                                g_string_append_printf(text, "dbus-broker: %s\n", line + strlen("MESSAGE="));
                        line = end ? end + 1 : NULL;
                }
        }
        if (text->len == 0)
                return;
        FILE *f = fopen(h->bus_log_path, "ae");
        if (f) {
                fputs(text->str, f);
                fclose(f);
        }
}

void harness_bus_stop(Harness *h) {
        if (h->bus_process) {
                g_subprocess_send_signal(h->bus_process, SIGTERM);
                g_subprocess_wait(h->bus_process, NULL, NULL);
                g_clear_object(&h->bus_process);
        }
        collect_journal(h);
        if (h->bus_journal_fd >= 0)
                close(h->bus_journal_fd);
        h->bus_journal_fd = -1;
}

char *harness_bus_read_log(Harness *h) {
        collect_journal(h);
        return harness_read_file_or_empty(h->bus_log_path);
}
