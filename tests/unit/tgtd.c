/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tgtd for tests; see tgtd.h.
 */

#include <arpa/inet.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tgtd.h"

#define START_SECONDS 5

gboolean tgtd_available(void) {
        g_autofree char *tgtd = g_find_program_in_path("tgtd");
        g_autofree char *tgtadm = g_find_program_in_path("tgtadm");

        if (geteuid() != 0) {
                g_test_skip("tgtd needs root");
                return FALSE;
        }
        if (!tgtd || !tgtadm) {
                g_test_skip("tgtd/tgtadm are not installed (Debian package tgt)");
                return FALSE;
        }
        return TRUE;
}

static void die_with_parent(gpointer data) {
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
}

/* connect() to address:port; port 0 asks the kernel for a free port and returns it instead. */
static guint16 tcp_probe(const char *address, guint16 port, gboolean *ret_accepts) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
        socklen_t len = sizeof(sa);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(inet_pton(AF_INET, address, &sa.sin_addr), ==, 1);
        if (port == 0) {
                g_assert_cmpint(bind(fd, (struct sockaddr *) &sa, len), ==, 0);
                g_assert_cmpint(getsockname(fd, (struct sockaddr *) &sa, &len), ==, 0);
                port = ntohs(sa.sin_port);
        } else
                *ret_accepts = connect(fd, (struct sockaddr *) &sa, len) == 0;
        close(fd);
        return port;
}

static gboolean tgtadm(Tgtd *t, const char *arguments) {
        g_autofree char *command = g_strdup_printf("tgtadm -C %u --lld iscsi %s", t->control_port, arguments);
        g_auto(GStrv) argv = NULL;
        int status = -1;

        g_assert_true(g_shell_parse_argv(command, NULL, &argv, NULL));
        if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                          NULL, NULL, NULL, NULL, &status, NULL))
                return FALSE;
        return g_spawn_check_wait_status(status, NULL);
}

static void tgtd_reap(Tgtd *t) {
        g_autofree char *socket_path = g_strdup_printf("/run/tgtd/socket.%u", t->control_port);
        g_autofree char *lock_path = g_strdup_printf("/run/tgtd/socket.%u.lock", t->control_port);

        (void) waitpid(t->pid, NULL, 0);
        g_spawn_close_pid(t->pid);
        t->pid = 0;
        (void) g_unlink(socket_path);
        (void) g_unlink(lock_path);
}

void tgtd_kill(Tgtd *t) {
        if (t->pid <= 0)
                return;
        (void) kill(t->pid, SIGKILL);   /* also when stopped */
        tgtd_reap(t);
}

static gboolean tgtd_spawn(Tgtd *t) {
        g_autofree char *portal = NULL, *control = NULL, *socket_path = NULL;
        gboolean accepts = FALSE;
        gint64 give_up;

        t->port = tcp_probe(t->address, 0, NULL);
        t->control_port = (unsigned) g_random_int_range(20000, 32000);     /* tgtd takes at most 32767 */
        socket_path = g_strdup_printf("/run/tgtd/socket.%u", t->control_port);
        if (g_file_test(socket_path, G_FILE_TEST_EXISTS))
                return FALSE;
        portal = g_strdup_printf("portal=%s:%u", t->address, t->port);
        control = g_strdup_printf("%u", t->control_port);
        const char *argv[] = { "tgtd", "-f", "--iscsi", portal, "--control-port", control, NULL };
        if (!g_spawn_async(NULL, (char **) argv, NULL,
                           G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL |
                                   G_SPAWN_STDERR_TO_DEV_NULL,
                           die_with_parent, NULL, &t->pid, NULL))
                return FALSE;

        give_up = g_get_monotonic_time() + START_SECONDS * G_USEC_PER_SEC;
        while (g_get_monotonic_time() < give_up) {
                if (waitpid(t->pid, NULL, WNOHANG) == t->pid) {
                        g_spawn_close_pid(t->pid);
                        t->pid = 0;
                        return FALSE;   /* the port or control port was taken meanwhile */
                }
                (void) tcp_probe(t->address, t->port, &accepts);
                if (accepts && tgtadm(t, "--op show --mode sys"))
                        return TRUE;
                /* tgtd has no readiness notification: poll, bounded by give_up. */
                g_usleep(20 * 1000);
        }
        tgtd_kill(t);
        return FALSE;
}

Tgtd *tgtd_start(const char *address, const char *target_name, uint64_t size) {
        g_autofree char *new_target = NULL, *new_lun = NULL;
        g_autoptr(GError) error = NULL;
        Tgtd *t = g_new0(Tgtd, 1);
        int fd;

        t->address = g_strdup(address);
        t->target_name = g_strdup(target_name);
        fd = g_file_open_tmp("copy-lun-XXXXXX", &t->backing_file, &error);
        g_assert_no_error(error);
        g_assert_cmpint(ftruncate(fd, (off_t) size), ==, 0);
        close(fd);

        for (unsigned attempt = 0; attempt < 5 && t->pid <= 0; attempt++)
                (void) tgtd_spawn(t);
        if (t->pid <= 0)
                g_error("tgtd did not start on %s", address);

        new_target = g_strdup_printf("--op new --mode target --tid 1 -T %s", target_name);
        new_lun = g_strdup_printf("--op new --mode logicalunit --tid 1 --lun 1 -b %s", t->backing_file);
        g_assert_true(tgtadm(t, new_target));
        g_assert_true(tgtadm(t, new_lun));
        g_assert_true(tgtadm(t, "--op bind --mode target --tid 1 -I ALL"));
        return t;
}

void tgtd_require_chap(Tgtd *t, const char *user, const char *secret) {
        g_autofree char *account = g_strdup_printf("--op new --mode account --user %s --password %s", user, secret);
        g_autofree char *bind = g_strdup_printf("--op bind --mode account --tid 1 --user %s", user);

        g_assert_true(tgtadm(t, account));
        g_assert_true(tgtadm(t, bind));
}

void tgtd_allow_only(Tgtd *t, const char *initiator_address) {
        g_autofree char *bind = g_strdup_printf("--op bind --mode target --tid 1 -I %s", initiator_address);

        g_assert_true(tgtadm(t, "--op unbind --mode target --tid 1 -I ALL"));
        g_assert_true(tgtadm(t, bind));
}

void tgtd_free(Tgtd *t) {
        if (!t)
                return;
        tgtd_kill(t);
        if (t->backing_file)
                (void) g_unlink(t->backing_file);
        g_free(t->backing_file);
        g_free(t->target_name);
        g_free(t->address);
        g_free(t);
}

static int on_watchdog(sd_event_source *s, uint64_t usec, void *userdata) {
        g_error("watchdog: the loop ran too long without finishing");
        return 0;
}

void test_loop_until(sd_event *e, gboolean *stop, uint64_t watchdog_usec) {
        sd_event_source *watchdog = NULL;

        g_assert_cmpint(sd_event_add_time_relative(e, &watchdog, CLOCK_MONOTONIC, watchdog_usec, 0, on_watchdog, NULL), ==, 0);
        *stop = FALSE;
        while (!*stop)
                g_assert_cmpint(sd_event_run(e, UINT64_MAX), >=, 0);
        sd_event_source_disable_unref(watchdog);
}
