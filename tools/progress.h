/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The text of a job's progress: the bar drawn in place on a terminal and
 * the plain line written elsewhere. For a replica job it also carries what
 * the synchronization reports (bytes sent, rate) and the time left the job
 * expects. Pure formatting: job-watch.c gathers the values, the unit tests
 * pass fixed ones.
 */

#include <stdbool.h>
#include <stdint.h>

#define PROGRESS_BAR_WIDTH 24

typedef struct ProgressView {
        unsigned percent;               /* PercentComplete; above 100 counts as 100 */
        const char *status;             /* JobStatus, or the state's name when empty */
        bool transfer;                  /* a replica job: bytes and rate are known */
        uint64_t bytes;                 /* the synchronization's BytesTransferred */
        uint64_t rate;                  /* its Rate, bytes per second */
        uint64_t time_left_usec;        /* until the job's ExpectedEndTime; 0 while unknown */
} ProgressView;

/*
 * "[##########>.............]  42% 1.5 GiB sent, 85.0 MiB/s, 2:05 left, STATUS",
 * without the transfer part for other jobs, cut to fit in columns - 1 so that
 * it never wraps (a wrapped line cannot be redrawn with \r). NULL when out
 * of memory.
 */
char *progress_bar_line(const ProgressView *v, unsigned columns);

/* "42%, 1.5 GiB sent, 85.0 MiB/s, 2:05 left", or "42%" for other jobs; NULL when out of memory. */
char *progress_numbers(const ProgressView *v);
