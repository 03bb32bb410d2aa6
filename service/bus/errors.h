/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The one place where negative errno values become D-Bus error names. */

#include <systemd/sd-bus.h>

#include "contract/names.h"
#include "util/error.h"

/* The D-Bus error name for a negative errno. */
const char *bus_error_name_from_errno(int error);

/* Fills ret from e (name from e->error, message from e->message); returns e->error. */
int bus_error_set_repl(sd_bus_error *ret, const ReplError *e);

/* Shorthand: fills ret with the name for error and a formatted message; returns error. */
int bus_error_setf_errno(sd_bus_error *ret, int error, const char *format, ...) __attribute__((format(printf, 3, 4)));
