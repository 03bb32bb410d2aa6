/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The pager: $SYSTEMD_PAGER, then $PAGER, then less with the options
 * systemd uses (FRSXMK: quit if one screen, raw colours, chop long lines,
 * keep the screen, long prompt, Ctrl-C quits). An empty value or "cat"
 * means no pager.
 */

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pager.h"
#include "util/macros.h"

FILE *output_open(Output *o, bool pager) {
        *o = OUTPUT_INIT;
        if (pager && isatty(STDOUT_FILENO)) {
                o->f = open_memstream(&o->buf, &o->size);
                if (o->f)
                        return o->f;
        }
        o->f = stdout;
        return o->f;
}

static bool in_path(const char *name) {
        const char *path = getenv("PATH");

        if (!path)
                path = "/usr/bin:/bin";
        while (*path) {
                size_t n = strcspn(path, ":");
                _cleanup_free_ char *full = NULL;

                if (asprintf(&full, "%.*s/%s", (int) n, path, name) >= 0 && access(full, X_OK) == 0)
                        return true;
                path += n;
                if (*path == ':')
                        path++;
        }
        return false;
}

static const char *pager_command(void) {
        const char *p = getenv("SYSTEMD_PAGER");

        if (!p)
                p = getenv("PAGER");
        if (p)
                return *p && strcmp(p, "cat") != 0 ? p : NULL;
        return in_path("less") ? "less" : NULL;
}

static size_t count_lines(const char *buf, size_t size) {
        size_t n = 0;

        for (size_t i = 0; i < size; i++)
                if (buf[i] == '\n')
                        n++;
        return n;
}

static int run_pager(const char *command, const char *buf, size_t size) {
        struct sigaction ignore = { .sa_handler = SIG_IGN }, old;
        FILE *p;
        int status;

        /* The same defaults as systemd; a user's own $LESS wins. */
        (void) setenv("LESS", "FRSXMK", 0);
        (void) setenv("LESSCHARSET", "utf-8", 0);

        p = popen(command, "we");
        if (!p)
                return -errno;
        /* Quitting the pager early closes the pipe; that is not an error. */
        (void) sigaction(SIGPIPE, &ignore, &old);
        (void) fwrite(buf, 1, size, p);
        status = pclose(p);
        (void) sigaction(SIGPIPE, &old, NULL);
        if (status < 0)
                return -errno;
        /* 127: the shell did not find the command, so nothing was shown. */
        if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
                return -ENOENT;
        return 0;
}

int output_close(Output *o) {
        struct winsize ws = {};
        const char *command;
        int r = 0;

        if (!o->f || o->f == stdout) {
                o->f = NULL;
                return fflush(stdout) == 0 ? 0 : -errno;
        }
        if (fclose(o->f) != 0) {
                o->f = NULL;
                free(o->buf);
                return -errno;
        }
        o->f = NULL;

        command = pager_command();
        if (command && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 &&
            count_lines(o->buf, o->size) >= ws.ws_row) {
                fflush(stdout);
                r = run_pager(command, o->buf, o->size);
                if (r == 0) {
                        free(o->buf);
                        o->buf = NULL;
                        return 0;
                }
        }
        if (o->size > 0 && fwrite(o->buf, 1, o->size, stdout) != o->size)
                r = -EIO;
        else
                r = fflush(stdout) == 0 ? 0 : -errno;
        free(o->buf);
        o->buf = NULL;
        return r;
}
