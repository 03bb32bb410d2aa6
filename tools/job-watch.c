/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Waiting for a job with progress output and cancel on Ctrl-C. */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bus-value.h"
#include "job-watch.h"
#include "progress.h"
#include "replctl.h"
#include "terminal.h"
#include "util/strutil.h"

/* CIM_ConcreteJob.RequestStateChange: 4 Terminate. */
#define JOB_REQUEST_TERMINATE 4

static void set_string(char **p, const char *s) {
        char *c = strdup(s ? s : "");

        if (c) {
                free(*p);
                *p = c;
        }
}

static void apply_properties(JobWatch *w, const PropertyList *l) {
        const Value *v;

        if ((v = property_list_get(l, "Name")))
                set_string(&w->name, value_get_string(v));
        if ((v = property_list_get(l, "JobState")))
                w->state = (unsigned) value_get_unsigned(v, w->state);
        if ((v = property_list_get(l, "PercentComplete")))
                w->percent = (unsigned) value_get_unsigned(v, w->percent);
        if ((v = property_list_get(l, "ExpectedEndTime")))
                w->expected_end = value_get_unsigned(v, w->expected_end);
        if ((v = property_list_get(l, "JobStatus")))
                set_string(&w->status, value_get_string(v));
        if ((v = property_list_get(l, "ErrorCode")))
                w->error_code = (unsigned) value_get_unsigned(v, w->error_code);
        if ((v = property_list_get(l, "ErrorDescription")))
                set_string(&w->error_description, value_get_string(v));
        if ((v = property_list_get(l, "AffectedElements"))) {
                char **a = calloc(value_array_length(v) + 1, sizeof(char *));

                if (a) {
                        for (size_t i = 0; i < value_array_length(v); i++)
                                if (!(a[i] = strdup(value_array_string(v, i) ?: ""))) {
                                        a = strv_free(a);
                                        break;
                                }
                        if (a) {
                                strv_free(w->affected);
                                w->affected = a;
                        }
                }
        }
}

static void clear_bar(JobWatch *w) {
        if (!w->bar_visible)
                return;
        fputs("\r\x1b[K", stdout);
        fflush(stdout);
        w->bar_visible = false;
}

/* What the bar and the line show, from the job's and the followed synchronization's properties. */
static ProgressView progress_view(const JobWatch *w) {
        ProgressView v = {
                .percent = w->percent,
                .status = w->status && *w->status ? w->status : job_state_to_string(w->state),
                .transfer = w->follow_path && w->follow_known,
                .bytes = w->bytes_transferred,
                .rate = w->rate,
        };
        struct timespec ts;

        /* A finished job has no time left, whatever it last expected. */
        if (w->expected_end > 0 && !job_state_is_finished(w->state) && clock_gettime(CLOCK_REALTIME, &ts) == 0) {
                uint64_t now = (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;

                v.time_left_usec = w->expected_end > now ? w->expected_end - now : 0;
        }
        return v;
}

static void draw_bar(JobWatch *w) {
        ProgressView v = progress_view(w);
        char *line = progress_bar_line(&v, terminal_columns());

        if (!line)
                return;
        /* Properties other than the ones shown change too; redraw only what the user would see change. */
        if (w->bar_visible && w->last_line && strcmp(w->last_line, line) == 0) {
                free(line);
                return;
        }
        printf("\r%s\x1b[K", line);
        fflush(stdout);
        w->bar_visible = true;
        free(w->last_line);
        w->last_line = line;
}

static void print_line(JobWatch *w) {
        ProgressView v = progress_view(w);
        _cleanup_free_ char *numbers = progress_numbers(&v);
        char *line = NULL;

        if (!numbers || asprintf(&line, "%s: %s, %s%s%s", w->path, job_state_to_string(w->state), numbers,
                                 w->status && *w->status ? ", " : "", w->status ? w->status : "") < 0)
                return;
        if (w->last_line && strcmp(w->last_line, line) == 0) {
                free(line);
                return;
        }
        fprintf(stderr, "%s\n", line);
        free(w->last_line);
        w->last_line = line;
}

static void show_progress(JobWatch *w) {
        if (w->progress_bar)
                draw_bar(w);
        else
                print_line(w);
}

static void apply_synchronization(JobWatch *w, const PropertyList *l) {
        const Value *v;

        if ((v = property_list_get(l, "BytesTransferred"))) {
                w->bytes_transferred = value_get_unsigned(v, w->bytes_transferred);
                w->follow_known = true;
        }
        if ((v = property_list_get(l, "Rate")))
                w->rate = value_get_unsigned(v, w->rate);
}

/* Whether the job's own properties have been read, so that a line drawn now is not a made-up start. */
static bool job_read(const JobWatch *w) {
        return w->path && !w->fetch_slot;
}

static int on_synchronization_changed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        JobWatch *w = userdata;
        PropertyList changed = {};
        const char *interface;

        if (sd_bus_message_read(m, "s", &interface) < 0 || strcmp(interface, SYNCHRONIZATION_INTERFACE) != 0)
                return 0;
        if (property_list_read(m, &changed) >= 0 && !w->completed) {
                apply_synchronization(w, &changed);
                if (job_read(w))
                        show_progress(w);
        }
        property_list_clear(&changed);
        return 0;
}

static int on_synchronization_fetched(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        JobWatch *w = userdata;
        PropertyList props = {};

        w->follow_fetch_slot = sd_bus_slot_unref(w->follow_fetch_slot);
        /* Unreadable (detached meanwhile, an older service): the bar goes on without the numbers. */
        if (sd_bus_message_is_method_error(reply, NULL) || w->completed)
                return 0;
        if (property_list_read(reply, &props) >= 0) {
                apply_synchronization(w, &props);
                if (job_read(w))
                        show_progress(w);
        }
        property_list_clear(&props);
        return 0;
}

int job_watch_follow(JobWatch *w, const char *synchronization) {
        _cleanup_free_ char *match = NULL;
        int r;

        w->follow_path = strdup(synchronization);
        if (!w->follow_path)
                return -ENOMEM;
        if (asprintf(&match,
                     "type='signal',sender='" SERVICE_BUS_NAME "',path='%s',"
                     "interface='org.freedesktop.DBus.Properties',member='PropertiesChanged',"
                     "arg0='" SYNCHRONIZATION_INTERFACE "'",
                     synchronization) < 0)
                return -ENOMEM;
        /* Synchronous AddMatch first: whatever changes after the read below is then seen. */
        r = sd_bus_add_match(w->bus, &w->follow_match, match, on_synchronization_changed, w);
        if (r < 0)
                return r;
        return sd_bus_call_method_async(w->bus, &w->follow_fetch_slot, SERVICE_BUS_NAME, synchronization,
                                        "org.freedesktop.DBus.Properties", "GetAll", on_synchronization_fetched, w,
                                        "s", SYNCHRONIZATION_INTERFACE);
}

static void finish(JobWatch *w, int r) {
        if (w->event)
                (void) sd_event_exit(w->event, r);
}

static int on_properties_changed(JobWatch *w, sd_bus_message *m) {
        PropertyList changed = {};
        const char *interface;
        int r;

        r = sd_bus_message_read(m, "s", &interface);
        if (r < 0 || strcmp(interface, JOB_INTERFACE) != 0)
                return 0;
        r = property_list_read(m, &changed);
        if (r >= 0 && !w->completed) {
                apply_properties(w, &changed);
                show_progress(w);
        }
        property_list_clear(&changed);
        return 0;
}

static int on_completed(JobWatch *w, sd_bus_message *m) {
        const char *message;
        uint16_t code;
        int success, r;

        r = sd_bus_message_read(m, "bqs", &success, &code, &message);
        if (r < 0)
                return 0;
        w->completed = true;
        w->completed_success = success;
        if (code != 0)
                w->error_code = code;
        if (*message && (!w->error_description || !*w->error_description))
                set_string(&w->error_description, message);
        finish(w, 0);
        return 0;
}

static int dispatch_job_signal(JobWatch *w, sd_bus_message *m) {
        if (!w->path || strcmp(sd_bus_message_get_path(m), w->path) != 0)
                return 0;
        if (sd_bus_message_is_signal(m, "org.freedesktop.DBus.Properties", "PropertiesChanged"))
                return on_properties_changed(w, m);
        if (sd_bus_message_is_signal(m, JOB_INTERFACE, "Completed"))
                return on_completed(w, m);
        return 0;
}

static int on_job_signal(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        JobWatch *w = userdata;

        if (!w->path) {
                sd_bus_message **early = realloc(w->early, (w->n_early + 1) * sizeof(sd_bus_message *));
                if (!early)
                        return 0;
                w->early = early;
                w->early[w->n_early++] = sd_bus_message_ref(m);
                return 0;
        }
        return dispatch_job_signal(w, m);
}

static int on_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        JobWatch *w = userdata;
        const char *name, *old_owner, *new_owner;

        if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0)
                return 0;
        if (strcmp(name, SERVICE_BUS_NAME) == 0 && !*new_owner) {
                w->service_gone = true;
                finish(w, 0);
        }
        return 0;
}

static int request_cancel(JobWatch *w) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_message_new_method_call(w->bus, &m, SERVICE_BUS_NAME, w->path, JOB_INTERFACE, "RequestStateChange");
        if (r >= 0)
                r = sd_bus_message_append(m, "qt", (uint16_t) JOB_REQUEST_TERMINATE, (uint64_t) 0);
        if (r >= 0)
                r = sd_bus_call(w->bus, m, 0, &error, &reply);
        if (r < 0) {
                /* The job may have ended meanwhile; its Completed signal is on the way then. */
                if (!sd_bus_error_has_name(&error, BUS_ERROR_INVALID_STATE_TRANSITION))
                        (void) report_bus_error("cancel the job", &error, r);
                sd_bus_error_free(&error);
                return r;
        }
        w->cancel_requested = true;
        return 0;
}

static int on_sigint(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        JobWatch *w = userdata;

        if (w->cancel_requested) {
                /* A second Ctrl-C after cancelling: stop waiting, the service finishes the job alone. */
                clear_bar(w);
                fprintf(stderr, "Not waiting for %s any longer.\n", w->path);
                return sd_event_exit(w->event, -EINTR);
        }
        if (w->ask_before_cancel) {
                char *question = NULL;
                bool yes;

                clear_bar(w);
                if (asprintf(&question, "Cancel job %s? [y/N] ", w->path) < 0)
                        return 0;
                yes = terminal_ask_yes_no(question);
                free(question);
                if (!yes) {
                        show_progress(w);
                        return 0;
                }
        } else {
                fprintf(stderr, "Cancelling %s.\n", w->path);
        }
        (void) request_cancel(w);
        if (!w->completed)
                show_progress(w);
        return 0;
}

int job_watch_begin(JobWatch *w, sd_bus *bus) {
        sigset_t mask;
        int r;

        w->bus = sd_bus_ref(bus);
        w->progress_bar = isatty(STDOUT_FILENO);
        w->ask_before_cancel = isatty(STDIN_FILENO);

        r = sd_event_default(&w->event);
        if (r < 0)
                return r;
        r = sd_bus_attach_event(bus, w->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return r;
        /* A lost connection ends the loop; job_watch_wait() then reports it. */
        r = sd_bus_set_exit_on_disconnect(bus, true);
        if (r < 0)
                return r;

        /* Blocked from now on, Ctrl-C during the call waits for the loop instead of killing us. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return -errno;
        w->sigint_blocked = true;
        r = sd_event_add_signal(w->event, &w->sigint, SIGINT, on_sigint, w);
        if (r < 0)
                return r;

        /* Synchronous AddMatch: the bus applies it before it sees our next call. */
        r = sd_bus_add_match(bus, &w->job_match,
                             "type='signal',sender='" SERVICE_BUS_NAME "',path_namespace='" JOB_PATH_PREFIX "'",
                             on_job_signal, w);
        if (r < 0)
                return r;
        return sd_bus_add_match(bus, &w->owner_match,
                                "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
                                "interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='" SERVICE_BUS_NAME "'",
                                on_owner_changed, w);
}

/*
 * The job's properties as they are now, read asynchronously: the reply is
 * dispatched in its place among the job's signals. Signals queued before
 * it (during the call that started the job, or while it was on its way)
 * are older than its values, and a synchronous read would have applied
 * them after it, drawing an older JobStatus over a newer one.
 */
static int on_state_fetched(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        JobWatch *w = userdata;
        const sd_bus_error *error = sd_bus_message_get_error(reply);
        PropertyList props = {};
        int r;

        w->fetch_slot = sd_bus_slot_unref(w->fetch_slot);
        if (w->completed)
                return 0;
        if (error) {
                clear_bar(w);
                w->fetch_failed = report_bus_error("read the job", error, sd_bus_message_get_errno(reply));
                finish(w, 0);
                return 0;
        }
        r = property_list_read(reply, &props);
        if (r >= 0)
                apply_properties(w, &props);
        property_list_clear(&props);
        if (r < 0) {
                clear_bar(w);
                w->fetch_failed = report_bus_error("parse the job's properties", NULL, r);
                finish(w, 0);
                return 0;
        }
        /* A job that ended before we listened sends nothing more. */
        if (job_state_is_finished(w->state))
                finish(w, 0);
        else
                show_progress(w);
        return 0;
}

static int fetch_state(JobWatch *w) {
        int r;

        r = sd_bus_call_method_async(w->bus, &w->fetch_slot, SERVICE_BUS_NAME, w->path, "org.freedesktop.DBus.Properties",
                                     "GetAll", on_state_fetched, w, "s", JOB_INTERFACE);
        return r < 0 ? report_bus_error("read the job", NULL, r) : 0;
}

static int report_result(JobWatch *w) {
        const char *name = w->name && *w->name ? w->name : "job";
        int status;

        if (w->completed && !job_state_is_finished(w->state))
                w->state = w->completed_success ? JOB_STATE_COMPLETED : JOB_STATE_EXCEPTION;
        status = exit_status_from_job(w->state, w->error_code);

        /* The bar stays, in its final state, above the result line. */
        if (w->progress_bar) {
                draw_bar(w);
                fputc('\n', stdout);
                w->bar_visible = false;
        }
        if (status == EXIT_OK) {
                if (w->progress_bar)
                        printf("Job %s (%s) completed.\n", w->path, name);
                else
                        print_line(w);
        } else if (w->state == JOB_STATE_TERMINATED || w->state == JOB_STATE_KILLED)
                fprintf(stderr, "Job %s (%s) was %s.\n", w->path, name, job_state_to_string(w->state));
        else
                fprintf(stderr, "Job %s (%s) failed: %s\n", w->path, name,
                        w->error_description && *w->error_description ? w->error_description : "no reason given");
        fflush(stdout);
        return status;
}

int job_watch_wait(JobWatch *w, const char *path) {
        int r;

        w->path = strdup(path);
        if (!w->path)
                return EXIT_GENERIC;
        w->state = JOB_STATE_NEW;

        /* Whatever the service sent before we knew the path, in the order it came. */
        for (size_t i = 0; i < w->n_early; i++) {
                (void) dispatch_job_signal(w, w->early[i]);
                sd_bus_message_unref(w->early[i]);
        }
        free(w->early);
        w->early = NULL;
        w->n_early = 0;

        if (!w->completed) {
                r = fetch_state(w);
                if (r > 0)
                        return r;

                r = sd_event_loop(w->event);
                if (r == -EINTR) {
                        clear_bar(w);
                        return EXIT_GENERIC;
                }
                if (r < 0) {
                        clear_bar(w);
                        fprintf(stderr, "Failed to wait for %s: %s\n", path, strerror(-r));
                        return EXIT_GENERIC;
                }
        }
        if (w->fetch_failed)
                return w->fetch_failed;
        if (job_state_is_finished(w->state) && !w->completed)
                return report_result(w);
        if (w->service_gone && !w->completed) {
                clear_bar(w);
                fprintf(stderr, "The service exited while %s was running.\n", path);
                return EXIT_GENERIC;
        }
        if (!w->completed) {
                clear_bar(w);
                fprintf(stderr, "Lost the connection to the bus while waiting for %s.\n", path);
                return EXIT_GENERIC;
        }
        return report_result(w);
}

void job_watch_done(JobWatch *w) {
        for (size_t i = 0; i < w->n_early; i++)
                sd_bus_message_unref(w->early[i]);
        free(w->early);
        sd_bus_slot_unref(w->fetch_slot);
        sd_bus_slot_unref(w->follow_fetch_slot);
        sd_bus_slot_unref(w->follow_match);
        free(w->follow_path);
        sd_bus_slot_unref(w->job_match);
        sd_bus_slot_unref(w->owner_match);
        sd_event_source_unref(w->sigint);
        if (w->bus) {
                /* Without the loop, a disconnect must not exit() the program behind the caller's back. */
                (void) sd_bus_set_exit_on_disconnect(w->bus, false);
                (void) sd_bus_detach_event(w->bus);
                sd_bus_unref(w->bus);
        }
        sd_event_unref(w->event);
        if (w->sigint_blocked) {
                sigset_t mask;
                sigemptyset(&mask);
                sigaddset(&mask, SIGINT);
                (void) sigprocmask(SIG_UNBLOCK, &mask, NULL);
        }
        free(w->path);
        free(w->name);
        free(w->status);
        free(w->error_description);
        free(w->last_line);
        strv_free(w->affected);
        *w = JOB_WATCH_INIT;
}
