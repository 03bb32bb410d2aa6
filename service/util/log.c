/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The one logging sink: one line per call on stderr, prefixed with the
 * syslog level, errno text appended when an error is given. While held
 * (log_hold()), lines are gathered and written together on release, so a
 * group of changes costs one write, not one per change.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

#define LOG_MESSAGE_MAX 2048
/* Held lines beyond this are written at once, to keep the memory bounded. */
#define LOG_HELD_MAX (64 * 1024)

static int max_level = LOG_INFO;
static unsigned holds;
static char held[LOG_HELD_MAX];
static size_t n_held;

void log_set_max_level(int level) {
        max_level = level;
}

int log_get_max_level(void) {
        return max_level;
}

/* Whole lines to stderr; a write cut short (a signal, a full pipe) goes on with the rest. */
static void write_out(const char *p, size_t n) {
        while (n > 0) {
                ssize_t k = write(STDERR_FILENO, p, n);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return;         /* nowhere to report it */
                p += k;
                n -= (size_t) k;
        }
}

static void flush_held(void) {
        write_out(held, n_held);
        n_held = 0;
}

static void emit(const char *line, size_t n) {
        if (holds == 0) {
                write_out(line, n);
                return;
        }
        if (n_held + n > LOG_HELD_MAX)
                flush_held();
        memcpy(held + n_held, line, n);
        n_held += n;
}

void log_hold(void) {
        holds++;
}

void log_release(void) {
        if (holds == 0 || --holds > 0)
                return;
        flush_held();
}

int log_internal(int level, int error, const char *format, ...) {
        char buf[LOG_MESSAGE_MAX], line[LOG_MESSAGE_MAX + 256];
        va_list ap;
        int saved = errno, n;

        error = abs(error);
        va_start(ap, format);
        vsnprintf(buf, sizeof(buf), format, ap);
        va_end(ap);

        /* Each line is written whole: one write, or one piece of a held batch. */
        if (error > 0)
                n = snprintf(line, sizeof(line), "<%d>%s: %s\n", level, buf, strerror(error));
        else
                n = snprintf(line, sizeof(line), "<%d>%s\n", level, buf);
        if (n > 0 && (size_t) n >= sizeof(line)) {
                n = sizeof(line) - 1;
                line[n - 1] = '\n';
        }
        if (n > 0)
                emit(line, (size_t) n);
        errno = saved;
        return -error;
}
