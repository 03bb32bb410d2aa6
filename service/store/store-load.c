/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading the database back into the model at start-up: the next id, then
 * systems, access points, secrets, collections with their members, volumes
 * and synchronizations (store-replica.c), and jobs,
 * each row checked as the model would check a caller's value.
 */

#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>

#include "store-internal.h"
#include "util/log.h"
#include "util/macros.h"
#include "util/strutil.h"

static int load_next_id(Store *s, Model *m) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        r = store_prepare(s, "SELECT next_id FROM meta WHERE singleton = 0", &st);
        if (r < 0)
                return r;
        r = store_step_row(s, st, "read the next id");
        if (r < 0)
                return r;
        if (r == 0) {
                log_error("Store %s: the next id is missing.", s->path);
                return -EIO;
        }
        m->next_id = MAX(m->next_id, store_column_u64(st, 0));
        return 0;
}

static int load_systems(Store *s, Model *m) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        r = store_prepare(s, "SELECT id, name, element_name, reachable, last_verified FROM systems ORDER BY id", &st);
        if (r < 0)
                return r;

        for (;;) {
                _cleanup_(system_freep) System *x = NULL;

                r = store_step_row(s, st, "read systems");
                if (r <= 0)
                        return r;

                x = system_new();
                if (!x)
                        return -ENOMEM;
                x->id = store_column_u64(st, 0);
                if (store_column_strdup(st, 1, &x->name) < 0 ||
                    store_column_strdup(st, 2, &x->element_name) < 0)
                        return -ENOMEM;
                x->reachable = store_column_reachability(s, st, 3);
                x->last_verified = store_column_u64(st, 4);

                r = model_add_system(m, x);
                if (r < 0)
                        return log_error_errno(r, "Store %s: failed to load system %" PRIu64, s->path, x->id);
                TAKE_PTR(x);
        }
}

static int load_access_points(Store *s, Model *m) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        r = store_prepare(s,
                          "SELECT id, system_id, element_name, address, port, target_name, portal_group_tag, "
                          "secret_id, reachable, last_verified, last_error, last_error_id FROM access_points ORDER BY id",
                          &st);
        if (r < 0)
                return r;

        for (;;) {
                _cleanup_(access_point_freep) AccessPoint *x = NULL;

                r = store_step_row(s, st, "read access points");
                if (r <= 0)
                        return r;

                x = access_point_new();
                if (!x)
                        return -ENOMEM;
                x->id = store_column_u64(st, 0);
                x->system_id = store_column_u64(st, 1);
                if (store_column_strdup(st, 2, &x->element_name) < 0 ||
                    store_column_strdup(st, 3, &x->address) < 0 ||
                    store_column_strdup(st, 5, &x->target_name) < 0 ||
                    store_column_strdup(st, 10, &x->last_error) < 0)
                        return -ENOMEM;
                x->port = (uint16_t) sqlite3_column_int(st, 4);
                x->portal_group_tag = (uint16_t) sqlite3_column_int(st, 6);
                x->secret_id = store_column_u64(st, 7);
                x->reachable = store_column_reachability(s, st, 8);
                x->last_verified = store_column_u64(st, 9);
                x->last_error_reason = store_column_reason(s, st, 11);

                r = model_add_access_point(m, x);
                if (r < 0)
                        return log_error_errno(r, "Store %s: failed to load access point %" PRIu64,
                                               s->path, x->id);
                TAKE_PTR(x);
        }
}

static int load_secrets(Store *s, Model *m) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        r = store_prepare(s,
                          "SELECT id, access_point_id, username, secret, mutual_username, mutual_secret "
                          "FROM secrets ORDER BY id",
                          &st);
        if (r < 0)
                return r;

        for (;;) {
                _cleanup_(secret_freep) SharedSecret *x = NULL;

                r = store_step_row(s, st, "read secrets");
                if (r <= 0)
                        return r;

                x = secret_new();
                if (!x)
                        return -ENOMEM;
                x->id = store_column_u64(st, 0);
                x->access_point_id = store_column_u64(st, 1);
                if (store_column_strdup(st, 2, &x->username) < 0 ||
                    store_column_strdup(st, 3, &x->secret) < 0 ||
                    store_column_strdup(st, 4, &x->mutual_username) < 0 ||
                    store_column_strdup(st, 5, &x->mutual_secret) < 0)
                        return -ENOMEM;

                r = model_add_secret(m, x);
                if (r < 0)
                        return log_error_errno(r, "Store %s: failed to load secret %" PRIu64, s->path, x->id);
                TAKE_PTR(x);
        }
}

static int load_collection_members(Store *s, Model *m) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        r = store_prepare(s, "SELECT collection_id, kind, member_id FROM collection_members", &st);
        if (r < 0)
                return r;

        for (;;) {
                const char *kind;
                Collection *c;
                IdSet *set;

                r = store_step_row(s, st, "read collection members");
                if (r <= 0)
                        return r;

                c = model_get_collection(m, store_column_u64(st, 0));
                if (!c)
                        continue;       /* cannot happen with the foreign key; nothing to attach it to */

                kind = (const char *) sqlite3_column_text(st, 1);
                if (streq_ptr(kind, "local"))
                        set = &c->local_access_points;
                else if (streq_ptr(kind, "remote"))
                        set = &c->remote_access_points;
                else if (streq_ptr(kind, "system"))
                        set = &c->remote_systems;
                else {
                        log_error("Store %s: collection %" PRIu64 " has a member of unknown kind \"%s\".",
                                  s->path, c->id, kind ?: "");
                        return -EIO;
                }

                if (idset_add(set, store_column_u64(st, 2)) < 0)
                        return -ENOMEM;
        }
}

static int load_collections(Store *s, Model *m) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        r = store_prepare(s, "SELECT id, element_name, active, delete_on_unassociated FROM collections ORDER BY id",
                          &st);
        if (r < 0)
                return r;

        for (;;) {
                _cleanup_(collection_freep) Collection *x = NULL;

                r = store_step_row(s, st, "read collections");
                if (r < 0)
                        return r;
                if (r == 0)
                        break;

                x = collection_new();
                if (!x)
                        return -ENOMEM;
                x->id = store_column_u64(st, 0);
                if (store_column_strdup(st, 1, &x->element_name) < 0)
                        return -ENOMEM;
                x->active = sqlite3_column_int(st, 2) != 0;
                x->delete_on_unassociated = sqlite3_column_int(st, 3) != 0;

                r = model_add_collection(m, x);
                if (r < 0)
                        return log_error_errno(r, "Store %s: failed to load collection %" PRIu64,
                                               s->path, x->id);
                TAKE_PTR(x);
        }

        r = load_collection_members(s, m);
        if (r < 0)
                return r;
        /* The members were filled in place, after the collections entered the model. */
        return model_rebuild_indexes(m);
}

static int load_jobs(Store *s, Model *m) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        r = store_prepare(s,
                          "SELECT id, name, state, status, percent_complete, expected_end_time, time_submitted, "
                          "start_time, time_of_last_state_change, delete_on_completion, time_before_removal, "
                          "error_code, error_description, error_source, error_type, started_by_uid, owner, "
                          "affected_elements, collection_id, message_id FROM jobs ORDER BY id",
                          &st);
        if (r < 0)
                return r;

        for (;;) {
                _cleanup_(job_freep) Job *x = NULL;
                char **affected;

                r = store_step_row(s, st, "read jobs");
                if (r <= 0)
                        return r;

                x = job_new();
                if (!x)
                        return -ENOMEM;
                x->id = store_column_u64(st, 0);
                if (store_column_strdup(st, 1, &x->name) < 0 ||
                    store_column_strdup(st, 3, &x->status) < 0 ||
                    store_column_strdup(st, 12, &x->error_description) < 0 ||
                    store_column_strdup(st, 13, &x->error_source) < 0 ||
                    store_column_strdup(st, 16, &x->owner) < 0)
                        return -ENOMEM;
                x->state = (JobState) sqlite3_column_int(st, 2);
                x->percent_complete = (unsigned) sqlite3_column_int64(st, 4);
                x->expected_end_time = store_column_u64(st, 5);
                x->time_submitted = store_column_u64(st, 6);
                x->start_time = store_column_u64(st, 7);
                x->time_of_last_state_change = store_column_u64(st, 8);
                x->delete_on_completion = sqlite3_column_int(st, 9) != 0;
                x->time_before_removal = store_column_u64(st, 10);
                x->error_code = (uint16_t) sqlite3_column_int(st, 11);
                x->error_type = (uint16_t) sqlite3_column_int(st, 14);
                x->started_by_uid = (uint32_t) sqlite3_column_int64(st, 15);
                x->collection_id = store_column_u64(st, 18);
                x->error_reason = store_column_reason(s, st, 19);

                affected = strv_split((const char *) sqlite3_column_text(st, 17), '\n');
                if (!affected)
                        return -ENOMEM;
                strv_free(x->affected_elements);
                x->affected_elements = affected;

                r = model_add_job(m, x);
                if (r < 0)
                        return log_error_errno(r, "Store %s: failed to load job %" PRIu64, s->path, x->id);
                TAKE_PTR(x);
        }
}

static int load_all(Store *s, Model *m) {
        int r;

        r = load_systems(s, m);
        if (r < 0)
                return r;
        r = load_access_points(s, m);
        if (r < 0)
                return r;
        r = load_secrets(s, m);
        if (r < 0)
                return r;
        r = load_collections(s, m);
        if (r < 0)
                return r;
        r = store_load_replicas(s, m);
        if (r < 0)
                return r;
        r = load_jobs(s, m);
        if (r < 0)
                return r;

        /* After the objects: model_add_*() has raised next_id past every id already. */
        return load_next_id(s, m);
}

/**
 * store_load() - fill a model with every stored object
 * @s: the store
 * @m: a model fresh from model_new(), holding only the local system
 *
 * Reads one consistent snapshot. Jobs come back as they were stored, also
 * those that were running; what to make of them is the daemon's decision.
 * Afterwards m->next_id is past every loaded id and not below the stored
 * next id.
 *
 * Return: 0; -ENOMEM; -EIO; -EEXIST when a stored id clashes with one the
 * model holds already. On failure m holds part of the objects and should be
 * discarded.
 */
int store_load(Store *s, Model *m) {
        bool own_transaction;
        int r;

        /* A read transaction, so that all tables are read at one point in time. */
        own_transaction = sqlite3_get_autocommit(s->db);
        if (own_transaction) {
                r = store_exec(s, "BEGIN");
                if (r < 0)
                        return r;
        }

        r = load_all(s, m);

        if (own_transaction)
                store_rollback(s);
        if (r < 0)
                return r;

        log_debug("Store %s: loaded %zu systems, %zu access points, %zu secrets, %zu collections, %zu volumes, "
                  "%zu synchronizations, %zu jobs.",
                  s->path, m->systems.n, m->access_points.n, m->secrets.n, m->collections.n, m->volumes.n,
                  m->synchronizations.n, m->jobs.n);
        return 0;
}

