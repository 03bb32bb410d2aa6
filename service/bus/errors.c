/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * errno → D-Bus error name, and the CIM code each name stands for (API.md
 * section 2). Nothing else in the service names an error.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "errors.h"

const char *bus_error_name_from_errno(int error) {
        switch (abs(error)) {
        case EOPNOTSUPP:
                return BUS_ERROR_NOT_SUPPORTED;
        case ETIMEDOUT:
                return BUS_ERROR_TIMEOUT;
        case EIO:
        case ECONNREFUSED:
        case ECONNRESET:
        case EHOSTUNREACH:
        case EPROTO:
                return BUS_ERROR_FAILED;
        case EINVAL:
        case ENOENT:
        case EEXIST:
        case EADDRNOTAVAIL:
        case ENXIO:
                return BUS_ERROR_INVALID_PARAMETER;
        case EBUSY:
                return BUS_ERROR_IN_USE;
        case EBADRQC:
                return BUS_ERROR_INVALID_STATE_TRANSITION;
        case EACCES:
        case EPERM:
                return SD_BUS_ERROR_ACCESS_DENIED;
        case EKEYREJECTED:
                return SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED;
        case EDQUOT:
        case E2BIG:
                return SD_BUS_ERROR_LIMITS_EXCEEDED;
        default:
                return BUS_ERROR_UNKNOWN;
        }
}

int bus_error_set_repl(sd_bus_error *ret, const ReplError *e) {
        int error = e->error < 0 ? e->error : -EIO;
        const char *name = bus_error_name_from_errno(error);

        /* Messages are written for callers by the layers below; none carries SQLite text. */
        sd_bus_error_set(ret, name, e->message[0] ? e->message : "An internal error occurred.");
        return error;
}

int bus_error_setf_errno(sd_bus_error *ret, int error, const char *format, ...) {
        ReplError e = REPL_ERROR_INIT;
        va_list ap;

        e.error = -abs(error);
        va_start(ap, format);
        vsnprintf(e.message, sizeof(e.message), format, ap);
        va_end(ap);
        return bus_error_set_repl(ret, &e);
}
