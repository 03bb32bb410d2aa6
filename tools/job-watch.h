/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Following one job to its end: the PropertiesChanged and Completed
 * signals of every job are subscribed to before the call that starts the
 * job (its path is not known until the reply), kept until the path is known,
 * then filtered. Progress is a bar on a terminal and a line per change
 * elsewhere; SIGINT offers to cancel the job. For a replica job the bar also
 * shows what its synchronization has sent, at what rate, and the time left.
 */

#include <stdbool.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

typedef struct JobWatch {
        sd_bus *bus;
        sd_event *event;
        sd_bus_slot *job_match;
        sd_bus_slot *owner_match;
        sd_bus_slot *fetch_slot;        /* the GetAll of the job's properties, while it is pending */
        sd_event_source *sigint;
        bool sigint_blocked;

        char *path;                     /* NULL until the job is known */
        sd_bus_message **early;         /* job signals that came before the path was known */
        size_t n_early;

        char *name;
        unsigned state;
        unsigned percent;
        char *status;
        unsigned error_code;
        char *error_description;
        char **affected;                /* AffectedElements */

        bool completed;                 /* the Completed signal arrived */
        bool completed_success;
        bool service_gone;
        int fetch_failed;               /* exit status when reading the job's properties failed */

        uint64_t expected_end;          /* ExpectedEndTime; 0 while unknown */

        /* A replica job also shows its synchronization's progress (job_watch_follow()). */
        char *follow_path;
        sd_bus_slot *follow_match;
        sd_bus_slot *follow_fetch_slot;
        bool follow_known;              /* its properties have been read */
        uint64_t bytes_transferred;
        uint64_t rate;

        bool progress_bar;              /* draw a bar on stdout (a terminal) */
        bool ask_before_cancel;         /* stdin is a terminal: ask before cancelling */
        bool bar_visible;
        char *last_line;                /* the last bar or progress line, to print only changes */
        bool cancel_requested;
} JobWatch;

#define JOB_WATCH_INIT ((JobWatch) {})

/*
 * Subscribes to the signals of all jobs and prepares the event loop and
 * SIGINT handling. Call before the method that may start a job.
 */
int job_watch_begin(JobWatch *w, sd_bus *bus);
/*
 * Shows the progress of the synchronization at path (bytes sent, rate) with
 * the job's. Call after job_watch_begin(), before job_watch_wait(); before
 * the call that starts the job when the path is known then. Its signals are
 * not kept from before: its properties are read once, and they are newer.
 */
int job_watch_follow(JobWatch *w, const char *synchronization);
/* Waits until the job at path ends; returns the exit status (replctl.h). */
int job_watch_wait(JobWatch *w, const char *path);
void job_watch_done(JobWatch *w);
