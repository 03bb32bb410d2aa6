/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The one logging sink: one line per call on stderr, prefixed with the
 * syslog level, errno text appended when an error is given.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static int max_level = LOG_INFO;

void log_set_max_level(int level) {
        max_level = level;
}

int log_get_max_level(void) {
        return max_level;
}

int log_internal(int level, int error, const char *format, ...) {
        char buf[2048];
        va_list ap;
        int saved = errno;

        error = abs(error);
        va_start(ap, format);
        vsnprintf(buf, sizeof(buf), format, ap);
        va_end(ap);

        /* One fprintf per line keeps lines whole when stderr is a pipe. */
        if (error > 0)
                fprintf(stderr, "<%d>%s: %s\n", level, buf, strerror(error));
        else
                fprintf(stderr, "<%d>%s\n", level, buf);

        errno = saved;
        return -error;
}
