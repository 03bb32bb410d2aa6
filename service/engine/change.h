/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A change is a value: the rows it writes, the model updates and
 * announcements that follow once those rows are durable, and one log line.
 * Every mutation of the service — a method call, a job's start and end, a
 * removal — is built as one Change and handed to the committer
 * (committer.c), the only code that begins, commits or rolls back a store
 * transaction.
 *
 * Group commit: the changes made in one turn of the event loop share one
 * transaction and one sync. Each change's rows go into the open transaction
 * inside a SAVEPOINT of its own, written while the change is built, so a
 * change whose rows cannot be written is undone alone and its caller gets
 * its own error at once. The model updates, announcements, log lines and
 * the callers' replies (engine_when_stored()) wait until the whole group is
 * committed; if that commit fails, none of them happens and every caller of
 * the group is told that nothing was stored.
 *
 * Because the model is updated only after the commit, a call that reads
 * what a pending change writes first asks the committer to settle:
 * engine_settle() / engine_settle_kind() commit the pending group when it
 * writes the object / a member of the kind the call is about to read. Changes
 * that touch disjoint objects (AddTo on different collections, say) share a
 * group.
 *
 *         Change *ch;
 *         engine_settle_kind(e, OBJECT_SYSTEM);            // before reading
 *         ... validate against e->model ...
 *         r = change_begin(e, caller, &ch, err);
 *         change_save(ch, OBJECT_SYSTEM, s);               // row, now
 *         change_add(ch, OBJECT_SYSTEM, TAKE_PTR(s));      // model, after commit
 *         change_notify(ch, OBJECT_SYSTEM, id, "Name");    // announcement
 *         change_log(ch, "added peer system %s", path);
 *         return change_submit(ch, err);
 */

#include <stdbool.h>
#include <stdint.h>

#include "engine.h"

typedef struct Change Change;

/* A model update that is not an add, remove or replace of a whole object. */
typedef void (*change_apply_t)(Engine *e, void *data);
/* After the group is committed (error 0) or not (error < 0, the model untouched). */
typedef void (*change_done_t)(Engine *e, int error, void *userdata);

/*
 * Opens the change's savepoint (and the group's transaction, if this is the
 * first change of the group). caller may be NULL for the service's own
 * changes (retention, recovery). On failure err says nothing was changed.
 */
int change_begin(Engine *e, const Caller *caller, Change **ret, ReplError *err);

/* Rows, written into the change's savepoint now; the first failure is kept and reported by change_submit(). */
void change_save(Change *ch, ObjectKind kind, const void *object);
void change_delete(Change *ch, ObjectKind kind, uint64_t id);
void change_save_next_id(Change *ch);
/* A stored collection's membership change: only the member rows that change are written. */
void change_save_members(Change *ch, uint64_t collection_id, const CollectionPlan *p);
/*
 * A synchronization's chunk hashes confirmed on the copy (store.h,
 * store_save_chunk_hashes()); n hashes of REPLICA_HASH_SIZE bytes. Deleting
 * forgets all of them, so that the next cycle writes every chunk.
 */
void change_save_chunk_hashes(Change *ch, uint64_t synchronization_id, const uint64_t *chunks, const uint8_t *hashes,
                              size_t n);
void change_delete_chunk_hashes(Change *ch, uint64_t synchronization_id);
/* Chunks about to be overwritten on the copy: their hashes are no longer confirmed (store_unconfirm_chunk_hashes()). */
void change_unconfirm_chunk_hashes(Change *ch, uint64_t synchronization_id, const uint64_t *chunks, size_t n);
/* Marks the change failed (e.g. -ENOMEM while building it): change_submit() undoes it. */
void change_fail(Change *ch, int error);

/*
 * Model updates, applied in the order they were added once the group is
 * committed. change_add() takes the new object (announced as added);
 * change_remove() announces the object removed and frees it (jobs: see
 * jobs-end.c); change_replace() swaps a collection for its new version,
 * keeping the job that holds it. change_call() runs apply(e, data) and then
 * free_data(data) — also when the change is dropped.
 */
void change_add(Change *ch, ObjectKind kind, void *object);
void change_remove(Change *ch, ObjectKind kind, uint64_t id);
void change_replace(Change *ch, ObjectKind kind, void *object);
void change_call(Change *ch, uint64_t writes_id, change_apply_t apply, void *data, void (*free_data)(void *));

/* A PropertiesChanged for properties (NULL-terminated, static strings), in order with the updates. */
void change_notify_strv(Change *ch, ObjectKind kind, uint64_t id, const char * const *props);
#define change_notify(ch, kind, id, ...) \
        change_notify_strv(ch, kind, id, (const char * const[]) { __VA_ARGS__, NULL })

/* The one log line, written after the commit; "uid=N " is put in front when the change has a caller. */
_printf_(2, 3) void change_log(Change *ch, const char *format, ...);

/* Called once the group's fate is known, after the model updates. */
void change_on_done(Change *ch, change_done_t done, void *userdata);

/*
 * Ends the change: its savepoint is kept and the change queued for the
 * group's commit (0), or, when a row could not be written, undone alone:
 * -EIO/-ENOMEM with err set, nothing changed. Takes ch either way.
 */
int change_submit(Change *ch, ReplError *err);

/* Drops a change that was begun but not submitted: its rows are undone. */
void change_abandon(Change *ch);
static inline void change_abandonp(Change **ch) {
        if (*ch)
                change_abandon(*ch);
}

/* ---- for committer.c ---- */
/* Adds the ids and kinds the change writes to *ids and *kinds (a bit per ObjectKind). */
int change_merge_writes(const Change *ch, IdSet *ids, unsigned *kinds);
/* After the group's commit: model updates, announcements, the log line, then done(0). */
void change_apply(Change *ch);
/* Calls the done callback with error (unless it ran already) and frees the change. */
void change_finish(Change *ch, int error);
