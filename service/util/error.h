/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A negative errno together with one human sentence naming the offending
 * argument or object. Lower layers fill it; the bus layer turns the errno
 * into a D-Bus error name (bus/errors.c) and sends the sentence.
 */

#include "macros.h"

typedef struct ReplError {
        int error;              /* negative errno, 0 when unset */
        char message[512];
} ReplError;

#define REPL_ERROR_INIT ((ReplError) {})

/* Sets the error unless one is set already (the first failure wins); returns error. */
int repl_error_set(ReplError *e, int error, const char *format, ...) _printf_(3, 4);
void repl_error_clear(ReplError *e);
