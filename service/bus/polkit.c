/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The polkit client: CheckAuthorization over D-Bus with a system-bus-name
 * subject, the re-dispatch of the held message, and the mapping of polkit's
 * answer onto errors. When polkit is not on the bus the call fails at once
 * and the caller is refused (uid 0 never gets here).
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "errors.h"
#include "polkit.h"
#include "util/log.h"
#include "util/strutil.h"

/* An interactive authentication may wait for a person typing a password. */
#define POLKIT_TIMEOUT_USEC (5 * 60 * USEC_PER_SEC)
/* A verdict nobody collected (the handler failed before asking again) is dropped after this. */
#define POLKIT_STALE_USEC (60 * USEC_PER_SEC)

typedef struct PolkitQuery PolkitQuery;
struct PolkitQuery {
        PolkitQuery *next;
        sd_bus_message *request;
        char *action;
        sd_bus_slot *slot;
        bool done;
        int result;
        sd_bus_error error;
        uint64_t done_usec;
};

static PolkitQuery *queries;

static PolkitQuery *query_free(PolkitQuery *q) {
        if (!q)
                return NULL;
        sd_bus_slot_unref(q->slot);
        sd_bus_message_unref(q->request);
        sd_bus_error_free(&q->error);
        free(q->action);
        free(q);
        return NULL;
}

static void query_unlink(PolkitQuery *q) {
        for (PolkitQuery **i = &queries; *i; i = &(*i)->next)
                if (*i == q) {
                        *i = q->next;
                        return;
                }
}

static void queries_drop_stale(void) {
        uint64_t now = now_usec(CLOCK_MONOTONIC);

        for (PolkitQuery **i = &queries; *i;) {
                PolkitQuery *q = *i;

                if (q->done && now > q->done_usec + POLKIT_STALE_USEC) {
                        *i = q->next;
                        query_free(q);
                } else
                        i = &q->next;
        }
}

unsigned polkit_pending_count(void) {
        unsigned n = 0;

        for (PolkitQuery *q = queries; q; q = q->next)
                if (!q->done)
                        n++;
        return n;
}

void polkit_flush(void) {
        while (queries) {
                PolkitQuery *q = queries;

                queries = q->next;
                query_free(q);
        }
}

static int on_check_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        PolkitQuery *q = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        sd_bus *bus = sd_bus_message_get_bus(q->request);
        int authorized, challenge, r;

        q->slot = sd_bus_slot_unref(q->slot);
        q->done = true;
        q->done_usec = now_usec(CLOCK_MONOTONIC);

        if (e) {
                /* No polkit (or a broken one): only uid 0 is allowed, and it never asks. */
                log_debug("polkit did not answer for %s: %s", q->action, e->message ?: e->name);
                q->result = bus_error_setf_errno(&q->error, -EACCES,
                                                 "Not authorized for action %s: the authorization service is not available.",
                                                 q->action);
        } else {
                r = sd_bus_message_enter_container(reply, 'r', "bba{ss}");
                if (r >= 0)
                        r = sd_bus_message_read(reply, "bb", &authorized, &challenge);
                if (r < 0) {
                        q->result = bus_error_setf_errno(&q->error, -EACCES,
                                                         "Not authorized for action %s: the authorization service answered in an unexpected form.",
                                                         q->action);
                } else if (authorized)
                        q->result = 1;
                else if (challenge && !sd_bus_message_get_allow_interactive_authorization(q->request))
                        q->result = bus_error_setf_errno(&q->error, -EKEYREJECTED,
                                                         "Interactive authentication is required for action %s.", q->action);
                else
                        q->result = bus_error_setf_errno(&q->error, -EACCES, "Not authorized for action %s.", q->action);
        }

        /* Run the handler again from its first argument. */
        r = sd_bus_message_rewind(q->request, true);
        if (r >= 0)
                r = sd_bus_enqueue_for_read(bus, q->request);
        if (r < 0) {
                log_warning_errno(r, "Failed to resume a call after authorization");
                (void) sd_bus_reply_method_errorf(q->request, BUS_ERROR_UNKNOWN, "The call could not be resumed.");
                query_unlink(q);
                query_free(q);
        }
        return 0;
}

static int append_details(sd_bus_message *call, const char * const *details) {
        int r;

        r = sd_bus_message_open_container(call, 'a', "{ss}");
        for (const char * const *d = details; r >= 0 && d && d[0] && d[1]; d += 2)
                r = sd_bus_message_append(call, "{ss}", d[0], d[1]);
        if (r >= 0)
                r = sd_bus_message_close_container(call);
        return r;
}

int polkit_check_async(sd_bus_message *m, const char *action, const char * const *details, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        sd_bus *bus = sd_bus_message_get_bus(m);
        const char *sender = sd_bus_message_get_sender(m);
        PolkitQuery *q;
        int r;

        queries_drop_stale();
        for (q = queries; q; q = q->next)
                if (q->request == m && strcmp(q->action, action) == 0)
                        break;
        if (q) {
                if (!q->done)
                        return 0;
                r = q->result;
                if (r < 0)
                        sd_bus_error_set(error, q->error.name, q->error.message);
                query_unlink(q);
                query_free(q);
                return r;
        }

        if (!sender)
                return bus_error_setf_errno(error, -EACCES, "Not authorized for action %s: the caller has no bus name.", action);

        q = calloc(1, sizeof(PolkitQuery));
        if (!q)
                return -ENOMEM;
        q->action = strdup(action);
        q->request = sd_bus_message_ref(m);
        if (!q->action) {
                query_free(q);
                return -ENOMEM;
        }

        r = sd_bus_message_new_method_call(bus, &call, "org.freedesktop.PolicyKit1", "/org/freedesktop/PolicyKit1/Authority",
                                           "org.freedesktop.PolicyKit1.Authority", "CheckAuthorization");
        if (r >= 0)
                r = sd_bus_message_append(call, "(sa{sv})s", "system-bus-name", 1, "name", "s", sender, action);
        if (r >= 0)
                r = append_details(call, details);
        if (r >= 0)
                r = sd_bus_message_append(call, "us",
                                          (uint32_t) (sd_bus_message_get_allow_interactive_authorization(m) ? 1 : 0), "");
        if (r >= 0)
                r = sd_bus_call_async(bus, &q->slot, call, on_check_reply, q, POLKIT_TIMEOUT_USEC);
        if (r < 0) {
                query_free(q);
                return bus_error_setf_errno(error, -EACCES, "Not authorized for action %s: the authorization service could not be asked.",
                                            action);
        }
        q->next = queries;
        queries = q;
        return 0;
}
