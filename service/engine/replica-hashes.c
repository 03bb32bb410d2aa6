/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A cycle's side of the chunk hash table (core/replica.h): the copy asks
 * for the hash confirmed before (one block of the store's table is kept in
 * memory at a time); chunks it is about to overwrite although a hash is
 * confirmed for them are unconfirmed by one change per turn of the loop,
 * and their writes released once that change is durable (net/copy-gate.c
 * says why); each confirmation (hashes and resume point) is stored as a
 * change. Everything goes through the committer, like every other write.
 */

#include <errno.h>
#include <stdlib.h>

#include "change.h"
#include "replica-internal.h"

/* The hashes confirmed before, from the block in memory: 1 (in ret), 0 none, -EIO unknown. */
int replica_previous_hash(uint64_t chunk, CopyHash *ret, void *userdata) {
        ReplicaWork *w = work_of(userdata);
        uint64_t b = chunk_hash_block_of(chunk);

        if (!w->block_loaded || w->block_index != b) {
                /* Reading outside the committer is fine: the store's own connection sees every change written. */
                if (store_load_chunk_hash_block(w->engine->store, w->sync_id, b, w->block) < 0)
                        return -EIO;    /* the chunk is written, after it was unconfirmed */
                w->block_index = b;
                w->block_loaded = true;
        }
        return chunk_hash_block_get(w->block, chunk, ret->bytes) ? 1 : 0;
}

static void fail_storing(JobRuntime *rt, const char *what) {
        job_finish(rt, JOB_STATE_EXCEPTION, REASON_STORAGE_FAILED, CIM_FAILED, what, NULL_PATH);
}

/* What the unconfirming change's end needs: the job may be gone by then, or have started another copy. */
typedef struct GateTicket {
        uint64_t job_id;
        unsigned run;
        uint64_t ticket;
} GateTicket;

/* The running work of the ticket's job and copy; NULL when that copy is gone. */
static JobRuntime *ticket_runtime(Engine *e, const GateTicket *t) {
        Job *j = model_get_job(e->model, t->job_id);
        JobRuntime *rt = j ? j->runtime : NULL;

        if (!rt || !rt->running || rt->work_ops != &replica_cycle_ops)
                return NULL;
        if (work_of(rt)->run != t->run || !work_of(rt)->copy)
                return NULL;
        return rt;
}

static void on_unconfirmed_stored(Engine *e, int error, void *userdata) {
        GateTicket *t = userdata;
        JobRuntime *rt = ticket_runtime(e, t);

        if (rt && error < 0)
                fail_storing(rt, "Chunks about to be overwritten could not be marked as such.");
        else if (rt)
                copy_release(work_of(rt)->copy, t->ticket);
        free(t);
}

void replica_unconfirm(Copy *c, uint64_t ticket, const uint64_t *chunks, size_t n, void *userdata) {
        JobRuntime *rt = userdata;
        ReplicaWork *w = work_of(rt);
        ReplError err = REPL_ERROR_INIT;
        GateTicket *t;
        Change *ch;

        t = malloc(sizeof(GateTicket));
        if (!t || change_begin(w->engine, NULL, &ch, &err) < 0) {
                free(t);
                fail_storing(rt, "Chunks about to be overwritten could not be marked as such.");
                return;
        }
        *t = (GateTicket) { .job_id = rt->job->id, .run = w->run, .ticket = ticket };
        change_unconfirm_chunk_hashes(ch, w->sync_id, chunks, n);
        change_on_done(ch, on_unconfirmed_stored, t);
        if (change_submit(ch, &err) < 0) {
                free(t);
                fail_storing(rt, "Chunks about to be overwritten could not be marked as such.");
        }
}

void replica_confirmed(Copy *c, const uint64_t *chunks, const CopyHash *hashes, size_t n, uint64_t resume_chunk,
                       void *userdata) {
        JobRuntime *rt = userdata;
        ReplicaWork *w = work_of(rt);
        Engine *e = w->engine;
        ReplError err = REPL_ERROR_INIT;
        Synchronization *s, *u;
        Change *ch;

        copy_get_progress(c, &w->progress);
        engine_settle(e, w->sync_id);
        s = model_get_synchronization(e->model, w->sync_id);
        u = s ? synchronization_copy(s) : NULL;
        if (!u || change_begin(e, NULL, &ch, &err) < 0) {
                synchronization_free(u);
                fail_storing(rt, "The confirmed chunks could not be stored.");
                return;
        }
        u->resume_chunk = resume_chunk;
        replica_progress_into(w, u);
        _Static_assert(sizeof(CopyHash) == REPLICA_HASH_SIZE, "hashes are stored as they are");
        change_save_chunk_hashes(ch, w->sync_id, chunks, (const uint8_t *) hashes, n);
        replica_change_sync(ch, e, u);
        if (change_submit(ch, &err) < 0)
                fail_storing(rt, "The confirmed chunks could not be stored.");
}
