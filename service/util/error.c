/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Filling ReplError; first failure wins so callers can report the root cause. */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "error.h"

int repl_error_set(ReplError *e, int error, const char *format, ...) {
        va_list ap;

        error = -abs(error);
        if (!e || e->error != 0)
                return error;
        e->error = error;
        va_start(ap, format);
        vsnprintf(e->message, sizeof(e->message), format, ap);
        va_end(ap);
        return error;
}

void repl_error_clear(ReplError *e) {
        *e = REPL_ERROR_INIT;
}
