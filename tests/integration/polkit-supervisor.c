/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The parent process of the polkit tests (polkit_tests_run() in
 * polkit-fixture.h). As root, it installs what the tests need on the
 * machine, runs them in a child, and afterwards puts the machine back as it
 * was and ends what they left running — whether the child passes, fails,
 * aborts or is killed by meson's timeout.
 */

#include "polkit-fixture.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct PolicyBackup {
        gboolean existed;
        char *contents;
        gsize length;
} PolicyBackup;

static PolicyBackup policy_backup;
static gboolean service_user_created;
static pid_t tests_pid;

/* Who speaks in the messages below: the test program's name. */
static const char *me(void) {
        const char *name = g_get_prgname();
        const char *slash = name ? strrchr(name, '/') : NULL;

        return slash ? slash + 1 : name ?: "polkit tests";
}

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
                        fprintf(stderr, "%s: could not restore %s\n", me(), POLICY_INSTALL_PATH);
        } else if (unlink(POLICY_INSTALL_PATH) < 0 && errno != ENOENT)
                fprintf(stderr, "%s: could not remove %s: %s\n", me(), POLICY_INSTALL_PATH, strerror(errno));
        g_free(policy_backup.contents);
}

static gboolean run_quietly(const char *const *argv) {
        g_autofree char *out = NULL, *err = NULL;
        int status;

        if (!g_spawn_sync(NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status, NULL))
                return FALSE;
        if (!g_spawn_check_wait_status(status, NULL)) {
                fprintf(stderr, "%s: %s failed: %s%s\n", me(), argv[0], out ?: "", err ?: "");
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
                fprintf(stderr, "%s: %s did not create the user %s\n", me(), sysusers, SERVICE_USER);
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
                        fprintf(stderr, "%s: ending leftover process %d\n", me(), (int) pid);
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

/* Waits for the tests' process, passing on the signals meant for the run. */
static int wait_tests(void) {
        struct sigaction sa = { .sa_handler = forward_signal };
        int status;

        sigemptyset(&sa.sa_mask);
        (void) sigaction(SIGTERM, &sa, NULL);
        (void) sigaction(SIGINT, &sa, NULL);
        (void) sigaction(SIGHUP, &sa, NULL);

        while (waitpid(tests_pid, &status, 0) < 0)
                if (errno != EINTR)
                        return W_EXITCODE(1, 0);
        return status;
}

/* Runs the tests in a child process and cleans the system up after it. */
static int supervise(void) {
        /*
         * polkitd reads every file in the rules directory, and another run of
         * these tests (another program, another build directory) would write
         * the same ones: one run at a time, and the directory itself is the lock.
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
        int status = wait_tests();

        if (unlink(RULES_PATH) == 0)
                fprintf(stderr, "%s: removed %s left by the tests\n", me(), RULES_PATH);
        restore_policy();
        end_leftovers();
        delete_service_user();
        close(lock_fd);

        if (WIFSIGNALED(status)) {
                fprintf(stderr, "%s: the tests died of signal %d\n", me(), WTERMSIG(status));
                return 128 + WTERMSIG(status);
        }
        return WEXITSTATUS(status);
}

int polkit_tests_run(void) {
        if (getuid() != 0)
                return g_test_run();
        return supervise();
}
