/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Group commit (change.h): changes queue up while the event loop has other
 * work ready; a deferred event source of idle priority commits them when it
 * has none, so everything one turn of the loop brought in shares one
 * transaction and one sync. Then, in the order they were made, each change
 * updates the model and is announced, and the callers waiting for the group
 * (engine_when_stored()) are answered.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "committer.h"
#include "engine-internal.h"
#include "util/log.h"

typedef struct Waiter {
        engine_stored_t done;
        void *userdata;
} Waiter;

struct Committer {
        sd_event_source *flush_source;
        Change **changes;
        size_t n_changes, n_changes_allocated;
        Waiter *waiters;
        size_t n_waiters, n_waiters_allocated;
        IdSet writes;                   /* objects the queued changes write */
        unsigned write_kinds;           /* kinds whose sets or memberships they change */
};

static bool group_pending(const Committer *c) {
        return c->n_changes > 0 || c->n_waiters > 0;
}

/* ---- announcing, through the engine's observer (the bus layer) ---- */

void engine_notify_added(Engine *e, ObjectKind kind, uint64_t id) {
        if (e->observer && e->observer->object_added)
                e->observer->object_added(kind, id, e->observer_userdata);
}

void engine_notify_removed(Engine *e, ObjectKind kind, uint64_t id) {
        if (e->observer && e->observer->object_removed)
                e->observer->object_removed(kind, id, e->observer_userdata);
}

void engine_notify_changed_strv(Engine *e, ObjectKind kind, uint64_t id, const char * const *props) {
        if (props && props[0] && e->observer && e->observer->properties_changed)
                e->observer->properties_changed(kind, id, props, e->observer_userdata);
}

void engine_notify_job_completed(Engine *e, const Job *j) {
        if (e->observer && e->observer->job_completed)
                e->observer->job_completed(j, e->observer_userdata);
}

void engine_notify_group_end(Engine *e) {
        if (e->observer && e->observer->group_end)
                e->observer->group_end(e->observer_userdata);
}

static int on_flush(sd_event_source *s, void *userdata) {
        (void) engine_flush(userdata);
        return 0;
}

int committer_new(Engine *e) {
        Committer *c;
        int r;

        c = calloc(1, sizeof(Committer));
        if (!c)
                return -ENOMEM;
        r = sd_event_add_defer(e->event, &c->flush_source, on_flush, e);
        if (r >= 0)
                r = sd_event_source_set_priority(c->flush_source, SD_EVENT_PRIORITY_IDLE);
        if (r >= 0)
                r = sd_event_source_set_enabled(c->flush_source, SD_EVENT_OFF);
        if (r < 0) {
                sd_event_source_disable_unref(c->flush_source);
                free(c);
                return r;
        }
        (void) sd_event_source_set_description(c->flush_source, "group-commit");
        e->committer = c;
        return 0;
}

void committer_free(Engine *e) {
        Committer *c = e->committer;

        if (!c)
                return;
        /* Applying a group may queue more (a job's end queues retention removals): commit those too. */
        do
                (void) engine_flush(e);
        while (group_pending(c));
        sd_event_source_disable_unref(c->flush_source);
        free(c->changes);
        free(c->waiters);
        idset_clear(&c->writes);
        free(c);
        e->committer = NULL;
}

int committer_open(Engine *e) {
        int r;

        if (e->committer->n_changes >= COMMITTER_GROUP_MAX)
                (void) engine_flush(e);
        if (!store_in_transaction(e->store)) {
                r = store_begin(e->store);
                if (r < 0)
                        return r;
        }
        return store_savepoint(e->store);
}

static int push(void **array, size_t *n, size_t *allocated, size_t size, const void *item) {
        if (*n == *allocated) {
                size_t k = *allocated ? *allocated * 2 : 16;
                void *a = reallocarray(*array, k, size);

                if (!a)
                        return -ENOMEM;
                *array = a;
                *allocated = k;
        }
        memcpy((char *) *array + *n * size, item, size);
        (*n)++;
        return 0;
}

int committer_queue(Engine *e, Change *ch) {
        Committer *c = e->committer;
        int r;

        r = push((void **) &c->changes, &c->n_changes, &c->n_changes_allocated, sizeof(Change *), &ch);
        if (r < 0)
                return r;
        r = change_merge_writes(ch, &c->writes, &c->write_kinds);
        if (r < 0) {
                c->n_changes--;
                return r;
        }
        /* Fails only once the loop has finished; the engine then flushes when it stops. */
        (void) sd_event_source_set_enabled(c->flush_source, SD_EVENT_ONESHOT);
        return 0;
}

void committer_unqueue(Engine *e, Change *ch) {
        Committer *c = e->committer;

        /* Its writes stay counted: at worst a later call settles early. */
        if (c->n_changes > 0 && c->changes[c->n_changes - 1] == ch)
                c->n_changes--;
}

/* Ends a group: every change and waiter learns its fate (error 0: committed and durable). */
static void group_end(Engine *e, int error) {
        Committer *c = e->committer;
        Change **changes = TAKE_PTR(c->changes);
        Waiter *waiters = TAKE_PTR(c->waiters);
        size_t n_changes = c->n_changes, n_waiters = c->n_waiters;

        /* Taken first: a callback may begin the next group. */
        c->n_changes = c->n_changes_allocated = c->n_waiters = c->n_waiters_allocated = 0;
        idset_clear(&c->writes);
        c->write_kinds = 0;
        (void) sd_event_source_set_enabled(c->flush_source, SD_EVENT_OFF);

        /* The group's log lines go out together: one write, not one per change. */
        log_hold();
        if (error >= 0)
                for (size_t i = 0; i < n_changes; i++)
                        change_apply(changes[i]);
        log_release();
        for (size_t i = 0; i < n_changes; i++)
                change_finish(changes[i], error);
        /* The group's signals go out before the replies that report it. */
        engine_notify_group_end(e);
        for (size_t i = 0; i < n_waiters; i++)
                waiters[i].done(error, waiters[i].userdata);
        free(changes);
        free(waiters);
}

void committer_undo(Engine *e) {
        if (store_rollback_to_savepoint(e->store) >= 0)
                return;
        /* The savepoint is gone with the whole transaction (SQLite does that on some I/O errors). */
        store_rollback(e->store);
        if (group_pending(e->committer)) {
                log_error("The store dropped a transaction; the changes of its group are not stored.");
                group_end(e, -EIO);
        }
}

int engine_flush(Engine *e) {
        Committer *c = e->committer;
        int r = 0;

        if (!c)
                return 0;
        if (store_in_transaction(e->store)) {
                r = store_commit(e->store);
                if (r < 0)
                        log_error_errno(r, "Failed to commit a group of %zu changes; none of them is stored", c->n_changes);
        }
        if (group_pending(c))
                group_end(e, r);
        return r;
}

void engine_settle(Engine *e, uint64_t id) {
        if (idset_contains(&e->committer->writes, id))
                (void) engine_flush(e);
}

void engine_settle_kind(Engine *e, ObjectKind kind) {
        if (e->committer->write_kinds & (1u << kind))
                (void) engine_flush(e);
}

int engine_when_stored(Engine *e, engine_stored_t done, void *userdata) {
        Committer *c = e->committer;
        Waiter w = { done, userdata };
        int r;

        if (!group_pending(c) && !store_in_transaction(e->store)) {
                done(0, userdata);
                return 0;
        }
        r = push((void **) &c->waiters, &c->n_waiters, &c->n_waiters_allocated, sizeof(Waiter), &w);
        if (r < 0)
                return r;
        /* The waiter is queued and will be answered: once the loop has finished, when the engine stops. */
        (void) sd_event_source_set_enabled(c->flush_source, SD_EVENT_ONESHOT);
        return 0;
}
