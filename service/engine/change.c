/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Building a change (change.h): rows go into the change's savepoint as they
 * are named; model updates and announcements are recorded as a list of
 * operations that committer.c applies, in order, once the group is durable.
 */

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "change.h"
#include "committer.h"
#include "engine-internal.h"
#include "util/log.h"
#include "util/strutil.h"

#define CHANGE_PROPS_MAX 15

typedef enum ChangeOpType {
        CHANGE_OP_ADD,
        CHANGE_OP_REMOVE,
        CHANGE_OP_REPLACE,
        CHANGE_OP_CALL,
        CHANGE_OP_NOTIFY,
} ChangeOpType;

typedef struct ChangeOp {
        ChangeOpType type;
        ObjectKind kind;
        uint64_t id;
        void *object;                                   /* ADD, REPLACE: owned until applied */
        change_apply_t apply;                           /* CALL */
        void *data;
        void (*free_data)(void *data);
        const char *props[CHANGE_PROPS_MAX + 1];        /* NOTIFY */
} ChangeOp;

struct Change {
        Engine *engine;
        uint32_t uid;
        bool has_caller;
        int error;                      /* the first row that could not be written */
        ChangeOp *ops;
        size_t n_ops, n_allocated;
        IdSet writes;
        unsigned write_kinds;           /* bit per ObjectKind whose set of objects or memberships changes */
        char *log;
        change_done_t done;
        void *done_userdata;
};

static void object_free(ObjectKind kind, void *object) {
        switch (kind) {
        case OBJECT_SYSTEM:
                system_free(object);
                break;
        case OBJECT_ACCESS_POINT:
                access_point_free(object);
                break;
        case OBJECT_SECRET:
                secret_free(object);
                break;
        case OBJECT_COLLECTION:
                collection_free(object);
                break;
        case OBJECT_JOB:
                jobs_free_runtime(object);
                job_free(object);
                break;
        case OBJECT_VOLUME:
                volume_free(object);
                break;
        case OBJECT_SYNCHRONIZATION:
                synchronization_free(object);
                break;
        default:
                break;
        }
}

static void op_done(ChangeOp *op) {
        if (op->object)
                object_free(op->kind, TAKE_PTR(op->object));
        if (op->free_data)
                op->free_data(TAKE_PTR(op->data));
}

int change_begin(Engine *e, const Caller *caller, Change **ret, ReplError *err) {
        Change *ch;
        int r;

        ch = calloc(1, sizeof(Change));
        if (!ch)
                return repl_error_set(err, -ENOMEM, "Out of memory.");
        ch->engine = e;
        if (caller) {
                ch->has_caller = true;
                ch->uid = caller->uid;
        }
        r = committer_open(e);
        if (r < 0) {
                free(ch);
                return repl_error_set(err, r == -ENOMEM ? -ENOMEM : -EIO,
                                      "The change could not be stored; nothing was changed.");
        }
        *ret = ch;
        return 0;
}

static void keep_error(Change *ch, int r) {
        if (r < 0 && ch->error == 0)
                ch->error = r;
}

void change_fail(Change *ch, int error) {
        keep_error(ch, error);
}

static void written(Change *ch, ObjectKind kind, uint64_t id, bool set_changes) {
        keep_error(ch, idset_add(&ch->writes, id));
        if (set_changes)
                ch->write_kinds |= 1u << kind;
}

void change_save(Change *ch, ObjectKind kind, const void *object) {
        Store *s = ch->engine->store;
        int r;

        if (ch->error < 0)
                return;
        switch (kind) {
        case OBJECT_SYSTEM:
                r = store_save_system(s, object);
                break;
        case OBJECT_ACCESS_POINT:
                r = store_save_access_point(s, object);
                break;
        case OBJECT_SECRET:
                r = store_save_secret(s, object);
                break;
        case OBJECT_COLLECTION:
                r = store_save_collection(s, object);
                break;
        case OBJECT_JOB:
                r = store_save_job(s, object);
                break;
        case OBJECT_VOLUME:
                r = store_save_volume(s, object);
                break;
        case OBJECT_SYNCHRONIZATION:
                r = store_save_synchronization(s, object);
                break;
        default:
                r = -EINVAL;
        }
        keep_error(ch, r);
        /* Every object starts with its id. */
        written(ch, kind, *(const uint64_t *) object, false);
}

void change_delete(Change *ch, ObjectKind kind, uint64_t id) {
        Store *s = ch->engine->store;
        int r;

        if (ch->error < 0)
                return;
        switch (kind) {
        case OBJECT_SYSTEM:
                r = store_delete_system(s, id);
                break;
        case OBJECT_ACCESS_POINT:
                r = store_delete_access_point(s, id);
                break;
        case OBJECT_SECRET:
                r = store_delete_secret(s, id);
                break;
        case OBJECT_COLLECTION:
                r = store_delete_collection(s, id);
                break;
        case OBJECT_JOB:
                r = store_delete_job(s, id);
                break;
        case OBJECT_VOLUME:
                r = store_delete_volume(s, id);
                break;
        case OBJECT_SYNCHRONIZATION:
                r = store_delete_synchronization(s, id);
                break;
        default:
                r = -EINVAL;
        }
        keep_error(ch, r);
        written(ch, kind, id, true);
}

void change_save_members(Change *ch, uint64_t collection_id, const CollectionPlan *p) {
        Store *s = ch->engine->store;

        if (ch->error == 0)
                keep_error(ch, store_save_collection_members(s, collection_id, "local", &p->added_local,
                                                             &p->removed_local));
        if (ch->error == 0)
                keep_error(ch, store_save_collection_members(s, collection_id, "remote", &p->added_remote,
                                                             &p->removed_remote));
        if (ch->error == 0)
                keep_error(ch, store_save_collection_members(s, collection_id, "system", &p->added_systems,
                                                             &p->removed_systems));
        written(ch, OBJECT_COLLECTION, collection_id, false);
}

void change_save_chunk_hashes(Change *ch, uint64_t synchronization_id, const uint64_t *chunks, const uint8_t *hashes,
                              size_t n) {
        if (ch->error == 0 && n > 0)
                keep_error(ch, store_save_chunk_hashes(ch->engine->store, synchronization_id, chunks, hashes, n));
        written(ch, OBJECT_SYNCHRONIZATION, synchronization_id, false);
}

void change_unconfirm_chunk_hashes(Change *ch, uint64_t synchronization_id, const uint64_t *chunks, size_t n) {
        if (ch->error == 0 && n > 0)
                keep_error(ch, store_unconfirm_chunk_hashes(ch->engine->store, synchronization_id, chunks, n));
        written(ch, OBJECT_SYNCHRONIZATION, synchronization_id, false);
}

void change_delete_chunk_hashes(Change *ch, uint64_t synchronization_id) {
        if (ch->error == 0)
                keep_error(ch, store_delete_chunk_hashes(ch->engine->store, synchronization_id));
        written(ch, OBJECT_SYNCHRONIZATION, synchronization_id, false);
}

void change_save_next_id(Change *ch) {
        if (ch->error == 0)
                keep_error(ch, store_save_next_id(ch->engine->store, ch->engine->model->next_id));
}

static ChangeOp *op_push(Change *ch, ChangeOpType type, ObjectKind kind, uint64_t id) {
        if (ch->n_ops == ch->n_allocated) {
                size_t n = ch->n_allocated ? ch->n_allocated * 2 : 4;
                ChangeOp *ops = reallocarray(ch->ops, n, sizeof(ChangeOp));

                if (!ops) {
                        keep_error(ch, -ENOMEM);
                        return NULL;
                }
                ch->ops = ops;
                ch->n_allocated = n;
        }
        ch->ops[ch->n_ops] = (ChangeOp) { .type = type, .kind = kind, .id = id };
        return &ch->ops[ch->n_ops++];
}

void change_add(Change *ch, ObjectKind kind, void *object) {
        uint64_t id = *(const uint64_t *) object;
        ChangeOp *op = op_push(ch, CHANGE_OP_ADD, kind, id);

        if (!op) {
                object_free(kind, object);
                return;
        }
        op->object = object;
        written(ch, kind, id, true);
}

void change_remove(Change *ch, ObjectKind kind, uint64_t id) {
        if (op_push(ch, CHANGE_OP_REMOVE, kind, id))
                written(ch, kind, id, true);
}

void change_replace(Change *ch, ObjectKind kind, void *object) {
        uint64_t id = *(const uint64_t *) object;
        ChangeOp *op = op_push(ch, CHANGE_OP_REPLACE, kind, id);

        if (!op) {
                object_free(kind, object);
                return;
        }
        op->object = object;
        /* A collection's new version changes the memberships other objects show. */
        written(ch, kind, id, true);
}

void change_call(Change *ch, uint64_t writes_id, change_apply_t apply, void *data, void (*free_data)(void *)) {
        ChangeOp *op = op_push(ch, CHANGE_OP_CALL, OBJECT_NONE, writes_id);

        if (!op) {
                if (free_data)
                        free_data(data);
                return;
        }
        op->apply = apply;
        op->data = data;
        op->free_data = free_data;
        if (writes_id)
                written(ch, OBJECT_NONE, writes_id, false);
}

void change_notify_strv(Change *ch, ObjectKind kind, uint64_t id, const char * const *props) {
        ChangeOp *op;
        size_t k = 0;

        if (!props || !props[0])
                return;
        op = op_push(ch, CHANGE_OP_NOTIFY, kind, id);
        if (!op)
                return;
        for (; props[k] && k < CHANGE_PROPS_MAX; k++)
                op->props[k] = props[k];
        assert(!props[k]);
        op->props[k] = NULL;
}

void change_log(Change *ch, const char *format, ...) {
        va_list ap;
        char *line = NULL;
        int n;

        va_start(ap, format);
        n = vasprintf(&line, format, ap);
        va_end(ap);
        if (n < 0) {
                keep_error(ch, -ENOMEM);
                return;
        }
        free(ch->log);
        ch->log = line;
}

void change_on_done(Change *ch, change_done_t done, void *userdata) {
        ch->done = done;
        ch->done_userdata = userdata;
}

int change_merge_writes(const Change *ch, IdSet *ids, unsigned *kinds) {
        for (size_t i = 0; i < ch->writes.n; i++)
                if (idset_add(ids, ch->writes.ids[i]) < 0)
                        return -ENOMEM;
        *kinds |= ch->write_kinds;
        return 0;
}

static void change_free(Change *ch) {
        for (size_t i = 0; i < ch->n_ops; i++)
                op_done(&ch->ops[i]);
        free(ch->ops);
        idset_clear(&ch->writes);
        free(ch->log);
        free(ch);
}

int change_submit(Change *ch, ReplError *err) {
        int r = ch->error;

        if (r >= 0)
                r = committer_queue(ch->engine, ch);
        if (r >= 0) {
                r = store_release_savepoint(ch->engine->store);
                if (r < 0)
                        committer_unqueue(ch->engine, ch);
        }
        if (r < 0) {
                change_abandon(ch);
                return repl_error_set(err, r == -ENOMEM ? -ENOMEM : -EIO,
                                      "The change could not be stored; nothing was changed.");
        }
        return 0;
}

void change_abandon(Change *ch) {
        committer_undo(ch->engine);
        change_free(ch);
}

static void apply_op(Engine *e, ChangeOp *op) {
        switch (op->type) {
        case CHANGE_OP_ADD:
                if (model_add_object(e->model, op->kind, op->object) < 0) {
                        /* Only on allocation failure; the store has it and the next start loads it. */
                        log_error("Out of memory while adding %s %" PRIu64 " to the model.",
                                  object_kind_to_string(op->kind), op->id);
                        return;
                }
                op->object = NULL;
                engine_notify_added(e, op->kind, op->id);
                return;
        case CHANGE_OP_REMOVE:
                engine_notify_removed(e, op->kind, op->id);
                object_free(op->kind, model_remove_object(e->model, op->kind, op->id));
                return;
        case CHANGE_OP_REPLACE: {
                Collection *old = model_remove_collection(e->model, op->id), *n = op->object;

                n->job_id = old ? old->job_id : 0;
                collection_free(old);
                if (model_add_collection(e->model, n) < 0) {
                        log_error("Out of memory while updating collection %" PRIu64 " in the model.", op->id);
                        engine_notify_removed(e, OBJECT_COLLECTION, op->id);
                        return;
                }
                op->object = NULL;
                return;
        }
        case CHANGE_OP_CALL:
                if (op->apply)
                        op->apply(e, op->data);
                return;
        case CHANGE_OP_NOTIFY:
                engine_notify_changed_strv(e, op->kind, op->id, op->props);
                return;
        }
}

void change_apply(Change *ch) {
        for (size_t i = 0; i < ch->n_ops; i++)
                apply_op(ch->engine, &ch->ops[i]);
        if (ch->log) {
                if (ch->has_caller)
                        log_info("uid=%" PRIu32 " %s", ch->uid, ch->log);
                else
                        log_info("%s", ch->log);
        }
}

void change_finish(Change *ch, int error) {
        if (ch->done)
                ch->done(ch->engine, error, ch->done_userdata);
        change_free(ch);
}
