/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Replica objects: constructors, destructors, copies, and the names of the
 * CIM values; see replica.h.
 */

#include <stdlib.h>
#include <string.h>

#include "replica.h"
#include "util/strutil.h"

bool copy_state_is_valid(int v) {
        switch (v) {
        case COPY_STATE_INITIALIZED:
        case COPY_STATE_UNSYNCHRONIZED:
        case COPY_STATE_SYNCHRONIZED:
        case COPY_STATE_BROKEN:
        case COPY_STATE_FRACTURED:
        case COPY_STATE_SUSPENDED:
                return true;
        default:
                return false;
        }
}

bool progress_status_is_valid(int v) {
        switch (v) {
        case PROGRESS_STATUS_COMPLETED:
        case PROGRESS_STATUS_DORMANT:
        case PROGRESS_STATUS_INITIALIZING:
        case PROGRESS_STATUS_SYNCHRONIZING:
        case PROGRESS_STATUS_RESYNCING:
                return true;
        default:
                return false;
        }
}

const char *copy_state_to_string(CopyState s) {
        switch (s) {
        case COPY_STATE_INITIALIZED:    return "Initialized";
        case COPY_STATE_UNSYNCHRONIZED: return "Unsynchronized";
        case COPY_STATE_SYNCHRONIZED:   return "Synchronized";
        case COPY_STATE_BROKEN:         return "Broken";
        case COPY_STATE_FRACTURED:      return "Fractured";
        case COPY_STATE_SUSPENDED:      return "Suspended";
        }
        return "Unknown";
}

const char *sync_type_to_string(SyncType t) {
        switch (t) {
        case SYNC_TYPE_MIRROR:   return "Mirror";
        case SYNC_TYPE_SNAPSHOT: return "Snapshot";
        case SYNC_TYPE_CLONE:    return "Clone";
        }
        return "Unknown";
}

Volume *volume_new(void) {
        Volume *v = calloc(1, sizeof(Volume));

        if (!v)
                return NULL;
        v->element_name = strdup("");
        v->target_name = strdup("");
        if (!v->element_name || !v->target_name)
                return volume_free(v);
        return v;
}

Volume *volume_free(Volume *v) {
        if (!v)
                return NULL;
        idset_clear(&v->synchronizations);
        free(v->element_name);
        free(v->target_name);
        free(v);
        return NULL;
}

Volume *volume_copy(const Volume *v) {
        Volume *n = volume_new();

        if (!n)
                return NULL;
        n->id = v->id;
        n->access_point_id = v->access_point_id;
        n->lun = v->lun;
        n->block_size = v->block_size;
        n->n_blocks = v->n_blocks;
        n->last_verified = v->last_verified;
        if (free_and_strdup(&n->element_name, v->element_name) < 0 ||
            free_and_strdup(&n->target_name, v->target_name) < 0 ||
            idset_copy(&n->synchronizations, &v->synchronizations) < 0)
                return volume_free(n);
        return n;
}

Synchronization *synchronization_new(void) {
        Synchronization *s = calloc(1, sizeof(Synchronization));

        if (!s)
                return NULL;
        s->sync_type = SYNC_TYPE_MIRROR;
        s->mode = SYNC_MODE_ASYNCHRONOUS;
        s->copy_state = COPY_STATE_INITIALIZED;
        s->progress_status = PROGRESS_STATUS_INITIALIZING;
        s->cycle_interval = REPLICA_CYCLE_INTERVAL_DEFAULT_USEC;
        s->chunk_size = REPLICA_CHUNK_SIZE_DEFAULT;
        s->element_name = strdup("");
        s->last_error = strdup("");
        if (!s->element_name || !s->last_error)
                return synchronization_free(s);
        return s;
}

Synchronization *synchronization_free(Synchronization *s) {
        if (!s)
                return NULL;
        free(s->element_name);
        free(s->last_error);
        free(s);
        return NULL;
}

Synchronization *synchronization_copy(const Synchronization *s) {
        Synchronization *n = synchronization_new();
        char *element_name, *last_error;

        if (!n)
                return NULL;
        element_name = n->element_name;
        last_error = n->last_error;
        *n = *s;
        n->element_name = element_name;
        n->last_error = last_error;
        if (free_and_strdup(&n->element_name, s->element_name) < 0 ||
            free_and_strdup(&n->last_error, s->last_error) < 0)
                return synchronization_free(n);
        return n;
}
