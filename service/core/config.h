/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The service's tunables: limits of API.md section 8 and verification settings. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/macros.h"

typedef struct ServiceConfig {
        uint64_t probe_timeout_usec;
        bool verify_access_points;
        uint64_t job_time_before_removal_usec;
        size_t max_finished_jobs;
        size_t max_running_jobs;
        size_t max_running_jobs_per_user;
        size_t max_array_entries;
        /* Object limits (API.md section 8), sized so GetManagedObjects fits max_message_size. */
        size_t max_peer_systems;
        size_t max_access_points;
        size_t max_collections;
        size_t max_collection_members;
        /* Replicas (API.md section 10): more cycles than this wait (ProgressStatus Dormant). */
        size_t max_volumes;
        size_t max_synchronizations;
        size_t max_running_cycles;
        /* The bus's message limit: a reply larger than this fails instead of being sent. */
        size_t max_message_size;
        /*
         * iSCSI initiator name used when connecting out (owned by the daemon).
         * Verification logs in with it; NULL (an engine without a daemon, as
         * in unit tests) verifies only that the TCP connection succeeds.
         */
        const char *initiator_name;
        /* PercentComplete/ExpectedEndTime are sent at most this often. */
        uint64_t progress_interval_usec;
} ServiceConfig;

#define SERVICE_CONFIG_INIT                                             \
        ((ServiceConfig) {                                              \
                .probe_timeout_usec = 10 * USEC_PER_SEC,                \
                .verify_access_points = true,                           \
                .job_time_before_removal_usec = 300 * USEC_PER_SEC,     \
                .max_finished_jobs = 1024,                              \
                .max_running_jobs = 64,                                 \
                .max_running_jobs_per_user = 16,                        \
                .max_array_entries = 1024,                              \
                .max_peer_systems = 2000,                               \
                .max_access_points = 20000,                             \
                .max_collections = 2000,                                \
                .max_collection_members = 4096,                         \
                .max_volumes = 1000,                                    \
                .max_synchronizations = 256,                            \
                .max_running_cycles = 8,                                \
                .max_message_size = 32 * 1024 * 1024,                   \
                .progress_interval_usec = 250 * USEC_PER_MSEC,          \
        })
