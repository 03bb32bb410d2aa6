/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tgtd for tests; see tgtd.h.
 */

#include <arpa/inet.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tgtd.h"

#define START_SECONDS 5

const char *tgtd_unavailable_reason(void) {
        g_autofree char *tgtd = g_find_program_in_path("tgtd");
        g_autofree char *tgtadm = g_find_program_in_path("tgtadm");

        if (geteuid() != 0)
                return "tgtd needs root";
        if (!tgtd || !tgtadm)
                return "tgtd/tgtadm are not installed (Debian package tgt)";
        return NULL;
}

gboolean tgtd_available(void) {
        const char *reason = tgtd_unavailable_reason();

        if (reason)
                g_test_skip(reason);
        return !reason;
}

static void die_with_parent(gpointer data) {
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
}

/* A port that was free a moment ago on address, which only these tests use. */
static guint16 free_port(const char *address) {
        struct sockaddr_in sa = { .sin_family = AF_INET };
        socklen_t len = sizeof(sa);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(inet_pton(AF_INET, address, &sa.sin_addr), ==, 1);
        g_assert_cmpint(bind(fd, (struct sockaddr *) &sa, len), ==, 0);
        g_assert_cmpint(getsockname(fd, (struct sockaddr *) &sa, &len), ==, 0);
        close(fd);
        return ntohs(sa.sin_port);
}

static gboolean port_accepts(const char *address, guint16 port) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        gboolean ok;

        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(inet_pton(AF_INET, address, &sa.sin_addr), ==, 1);
        ok = connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0;
        close(fd);
        return ok;
}

/* tgtadm against t; the arguments are one string, split at spaces. TRUE on success. */
static gboolean tgtadm(Tgtd *t, const char *format, ...) G_GNUC_PRINTF(2, 3);
static gboolean tgtadm(Tgtd *t, const char *format, ...) {
        g_autofree char *args = NULL, *command = NULL;
        g_auto(GStrv) argv = NULL;
        va_list ap;
        int status = -1;

        va_start(ap, format);
        args = g_strdup_vprintf(format, ap);
        va_end(ap);
        command = g_strdup_printf("tgtadm -C %u --lld iscsi %s", t->control_port, args);
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

/* Starts tgtd on a new free port, or on the one it had (same_port, a restart). */
static gboolean tgtd_spawn(Tgtd *t, gboolean same_port) {
        g_autofree char *portal = NULL, *control = NULL, *socket_path = NULL;
        gint64 give_up;

        if (!same_port)
                t->port = free_port(t->address);
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
                if (port_accepts(t->address, t->port) && tgtadm(t, "--op show --mode sys"))
                        return TRUE;
                /* tgtd has no readiness notification: poll, bounded by give_up. */
                g_usleep(20 * 1000);
        }
        tgtd_kill(t);
        return FALSE;
}

Tgtd *tgtd_try_new(const char *address, uint64_t size) {
        g_autoptr(GError) error = NULL;
        Tgtd *t = g_new0(Tgtd, 1);
        int fd;

        t->address = g_strdup(address);
        t->next_tid = 1;
        fd = g_file_open_tmp("tgtd-lun-XXXXXX", &t->backing_file, &error);
        g_assert_no_error(error);
        g_assert_cmpint(ftruncate(fd, (off_t) size), ==, 0);
        close(fd);

        for (unsigned attempt = 0; attempt < 5 && t->pid <= 0; attempt++)
                (void) tgtd_spawn(t, FALSE);
        if (t->pid <= 0) {
                tgtd_free(t);
                return NULL;
        }
        return t;
}

Tgtd *tgtd_new(const char *address, uint64_t size) {
        Tgtd *t = tgtd_try_new(address, size);

        if (!t)
                g_error("tgtd did not start on %s", address);
        return t;
}

int tgtd_add_bare_target(Tgtd *t, const char *name) {
        int tid = t->next_tid++;

        g_assert_true(tgtadm(t, "--op new --mode target --tid %d -T %s", tid, name));
        return tid;
}

void tgtd_bind_initiator(Tgtd *t, int tid, const char *initiator_address) {
        g_assert_true(tgtadm(t, "--op bind --mode target --tid %d -I %s", tid, initiator_address));
}

int tgtd_add_target(Tgtd *t, const char *name) {
        int tid = tgtd_add_bare_target(t, name);

        g_assert_true(tgtadm(t, "--op new --mode logicalunit --tid %d --lun 1 -b %s", tid, t->backing_file));
        tgtd_bind_initiator(t, tid, "ALL");
        return tid;
}

void tgtd_restart(Tgtd *t) {
        tgtd_kill(t);
        t->next_tid = 1;
        for (unsigned attempt = 0; attempt < 5 && t->pid <= 0; attempt++)
                (void) tgtd_spawn(t, TRUE);
        if (t->pid <= 0)
                g_error("tgtd did not start again on %s:%u", t->address, t->port);
        if (t->target_name)
                g_assert_cmpint(tgtd_add_target(t, t->target_name), ==, 1);
}

Tgtd *tgtd_start(const char *address, const char *target_name, uint64_t size) {
        Tgtd *t = tgtd_new(address, size);

        t->target_name = g_strdup(target_name);
        g_assert_cmpint(tgtd_add_target(t, target_name), ==, 1);
        return t;
}

void tgtd_add_account(Tgtd *t, int tid, const char *user, const char *password, gboolean outgoing) {
        g_assert_true(tgtadm(t, "--op new --mode account --user %s --password %s", user, password));
        g_assert_true(tgtadm(t, "--op bind --mode account --tid %d --user %s%s", tid, user, outgoing ? " --outgoing" : ""));
}

void tgtd_bind_account(Tgtd *t, int tid, const char *user) {
        g_assert_true(tgtadm(t, "--op bind --mode account --tid %d --user %s", tid, user));
}

void tgtd_require_chap(Tgtd *t, const char *user, const char *secret) {
        tgtd_add_account(t, 1, user, secret, FALSE);
}

void tgtd_allow_only(Tgtd *t, const char *initiator_address) {
        g_assert_true(tgtadm(t, "--op unbind --mode target --tid 1 -I ALL"));
        tgtd_bind_initiator(t, 1, initiator_address);
}

guint16 tgtd_add_portal(Tgtd *t) {
        for (unsigned attempt = 0; attempt < 5; attempt++) {
                guint16 port = free_port(t->address);

                if (tgtadm(t, "--op new --mode portal --param portal=%s:%u", t->address, port))
                        return port;
        }
        g_error("tgtd would not add a portal on %s", t->address);
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
