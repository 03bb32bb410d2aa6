/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Exit statuses and error reporting shared by every command. */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bus-connect.h"
#include "replctl.h"

const char *job_state_to_string(unsigned state) {
        switch (state) {
        case JOB_STATE_NEW:
                return "new";
        case JOB_STATE_RUNNING:
                return "running";
        case JOB_STATE_SUSPENDED:
                return "suspended";
        case JOB_STATE_COMPLETED:
                return "completed";
        case JOB_STATE_TERMINATED:
                return "terminated";
        case JOB_STATE_KILLED:
                return "killed";
        case JOB_STATE_EXCEPTION:
                return "exception";
        default:
                return "unknown";
        }
}

int exit_status_from_bus_error(const sd_bus_error *error, int r) {
        if (sd_bus_error_is_set(error)) {
                if (sd_bus_error_has_names(error, BUS_ERROR_INVALID_PARAMETER, SD_BUS_ERROR_INVALID_ARGS,
                                           SD_BUS_ERROR_UNKNOWN_OBJECT, SD_BUS_ERROR_UNKNOWN_METHOD,
                                           SD_BUS_ERROR_UNKNOWN_INTERFACE, SD_BUS_ERROR_UNKNOWN_PROPERTY))
                        return EXIT_INVALID;
                if (sd_bus_error_has_names(error, SD_BUS_ERROR_ACCESS_DENIED,
                                           SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED))
                        return EXIT_DENIED;
                if (sd_bus_error_has_names(error, BUS_ERROR_TIMEOUT, SD_BUS_ERROR_TIMEOUT, SD_BUS_ERROR_NO_REPLY))
                        return EXIT_TIMEOUT;
                if (sd_bus_error_has_name(error, BUS_ERROR_IN_USE))
                        return EXIT_IN_USE;
                if (sd_bus_error_has_name(error, SD_BUS_ERROR_LIMITS_EXCEEDED))
                        return EXIT_LIMITS;
                return EXIT_GENERIC;
        }
        switch (-r) {
        case ETIMEDOUT:
                return EXIT_TIMEOUT;
        case EACCES:
        case EPERM:
                return EXIT_DENIED;
        case EINVAL:
        case ENOENT:
                return EXIT_INVALID;
        default:
                return EXIT_GENERIC;
        }
}

int exit_status_from_job(unsigned state, unsigned error_code) {
        if (state == JOB_STATE_COMPLETED)
                return EXIT_OK;
        if (state == JOB_STATE_EXCEPTION && error_code == CIM_ERROR_TIMEOUT)
                return EXIT_TIMEOUT;
        return EXIT_JOB_FAILED;
}

int report_bus_error(const char *what, const sd_bus_error *error, int r) {
        if (bus_error_is_service_missing(error)) {
                fprintf(stderr, "Failed to %s: ", what);
                bus_explain_service_missing(stderr, error);
        } else if (bus_errno_is_disconnect(r))
                bus_explain_disconnect(stderr, r);
        else if (sd_bus_error_has_name(error, SD_BUS_ERROR_UNKNOWN_METHOD))
                /* A client newer than the service: say so rather than only echo sd-bus. */
                fprintf(stderr, "Failed to %s: the service does not offer this call (%s). It may be older than "
                        "iscsi-replctl.\n", what, error->message && *error->message ? error->message : error->name);
        else if (sd_bus_error_is_set(error) && error->message && *error->message)
                fprintf(stderr, "Failed to %s: %s\n", what, error->message);
        else if (sd_bus_error_is_set(error))
                fprintf(stderr, "Failed to %s: %s\n", what, error->name);
        else
                fprintf(stderr, "Failed to %s: %s\n", what, strerror(r < 0 ? -r : r));
        return exit_status_from_bus_error(error, r);
}
