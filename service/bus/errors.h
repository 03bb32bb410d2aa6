/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The one place where negative errno values become D-Bus error names. */

#include <systemd/sd-bus.h>

#include "util/error.h"

#define BUS_ERROR_NOT_SUPPORTED "org.iscsi.ReplicationService.Error.NotSupported"
#define BUS_ERROR_UNKNOWN "org.iscsi.ReplicationService.Error.Unknown"
#define BUS_ERROR_TIMEOUT "org.iscsi.ReplicationService.Error.Timeout"
#define BUS_ERROR_FAILED "org.iscsi.ReplicationService.Error.Failed"
#define BUS_ERROR_INVALID_PARAMETER "org.iscsi.ReplicationService.Error.InvalidParameter"
#define BUS_ERROR_IN_USE "org.iscsi.ReplicationService.Error.InUse"
#define BUS_ERROR_INVALID_STATE_TRANSITION "org.iscsi.ReplicationService.Error.InvalidStateTransition"

/* The D-Bus error name for a negative errno. */
const char *bus_error_name_from_errno(int error);

/* Fills ret from e (name from e->error, message from e->message); returns e->error. */
int bus_error_set_repl(sd_bus_error *ret, const ReplError *e);

/* Shorthand: fills ret with the name for error and a formatted message; returns error. */
int bus_error_setf_errno(sd_bus_error *ret, int error, const char *format, ...) __attribute__((format(printf, 3, 4)));
