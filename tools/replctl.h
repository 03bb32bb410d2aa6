/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What every part of iscsi-replctl shares: the service's names (from the
 * contract library the service uses too), the exit statuses (documented in
 * iscsi-replctl(1)) and the mapping of D-Bus errors onto them.
 */

#include <systemd/sd-bus.h>

#include "contract/names.h"

/* ReturnValue of the CIM methods. */
#define CIM_COMPLETED 0u
#define CIM_JOB_STARTED 4096u

/* CIM ErrorCode a job reports when a deadline passed. */
#define CIM_ERROR_TIMEOUT 3u

typedef enum JobState {
        JOB_STATE_NEW = 2,
        JOB_STATE_RUNNING = 4,
        JOB_STATE_SUSPENDED = 5,
        JOB_STATE_COMPLETED = 7,
        JOB_STATE_TERMINATED = 8,
        JOB_STATE_KILLED = 9,
        JOB_STATE_EXCEPTION = 10,
} JobState;

const char *job_state_to_string(unsigned state);
static inline int job_state_is_finished(unsigned state) {
        return state >= JOB_STATE_COMPLETED && state <= JOB_STATE_EXCEPTION;
}

/* Exit statuses. */
enum {
        EXIT_OK = 0,
        EXIT_GENERIC = 1,
        EXIT_INVALID = 2,               /* bad usage, bad argument, unknown or ambiguous name */
        EXIT_DENIED = 3,                /* authorization refused */
        EXIT_JOB_FAILED = 4,            /* the job ended in Exception, Terminated or Killed */
        EXIT_TIMEOUT = 5,               /* a deadline passed: Error.Timeout or a job's ErrorCode 3 */
        EXIT_IN_USE = 6,
        EXIT_LIMITS = 7,
};

/* The exit status a failed call stands for; r is the call's negative errno. */
int exit_status_from_bus_error(const sd_bus_error *error, int r);
/* The exit status of a finished job. */
int exit_status_from_job(unsigned state, unsigned error_code);

/*
 * Prints "Failed to <what>: <message>" to stderr and returns the exit
 * status for it. what is a verb phrase ("add the peer system").
 */
int report_bus_error(const char *what, const sd_bus_error *error, int r);
