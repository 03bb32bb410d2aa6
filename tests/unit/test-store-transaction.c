/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Changing the SQLite store as a whole: deleting every kind, transactions
 * (commit, rollback, nesting, what another connection sees before the
 * commit, what a close loses) and the next-id rule.
 */

#include <errno.h>
#include <glib.h>

#include "store-fixture.h"

static void test_delete_every_kind(Fixture *f, gconstpointer data) {
        Objects o = make_objects();
        Model *m;

        g_assert_cmpint(store_begin(f->store), ==, 0);
        save_objects(f->store, &o);
        g_assert_cmpint(store_commit(f->store), ==, 0);

        g_assert_cmpint(store_begin(f->store), ==, 0);
        g_assert_cmpint(store_delete_system(f->store, 2), ==, 0);
        g_assert_cmpint(store_delete_access_point(f->store, 3), ==, 0);
        g_assert_cmpint(store_delete_access_point(f->store, 5), ==, 0);
        g_assert_cmpint(store_delete_secret(f->store, 7), ==, 0);
        g_assert_cmpint(store_delete_collection(f->store, 4), ==, 0);
        g_assert_cmpint(store_delete_job(f->store, 6), ==, 0);
        g_assert_cmpint(store_commit(f->store), ==, 0);

        /* Absent rows: nothing to do, and no error. */
        g_assert_cmpint(store_delete_system(f->store, 2), ==, 0);
        g_assert_cmpint(store_delete_access_point(f->store, 1000), ==, 0);
        g_assert_cmpint(store_delete_secret(f->store, 1000), ==, 0);
        g_assert_cmpint(store_delete_collection(f->store, 1000), ==, 0);
        g_assert_cmpint(store_delete_job(f->store, 1000), ==, 0);

        reopen(f);
        m = load(f);
        g_assert_cmpuint(m->systems.n, ==, 1);
        g_assert_cmpuint(m->access_points.n, ==, 0);
        g_assert_cmpuint(m->secrets.n, ==, 0);
        g_assert_cmpuint(m->collections.n, ==, 0);
        g_assert_cmpuint(m->jobs.n, ==, 0);
        g_assert_cmpint(raw_int(f->db_path, "SELECT COUNT(*) FROM collection_members"), ==, 0);
        /* Ids of deleted objects are not handed out again. */
        g_assert_cmpuint(m->next_id, ==, 8);
        model_free(m);
        objects_free(&o);
}

/* What the store holds now, as the next start would load it. */
static void assert_stored_empty(Fixture *f) {
        Model *m = load(f);

        assert_model_empty(m);
        model_free(m);
}

static void assert_stored_objects(Fixture *f, const Objects *o) {
        Model *m = load(f);

        assert_objects_loaded(m, o);
        model_free(m);
}

static void test_transaction_commit_reopen(Fixture *f, gconstpointer data) {
        Objects o = make_objects();

        g_assert_cmpint(store_begin(f->store), ==, 0);
        save_objects(f->store, &o);
        g_assert_cmpint(store_commit(f->store), ==, 0);

        reopen(f);
        assert_stored_objects(f, &o);
        objects_free(&o);
}

static void test_transaction_rollback(Fixture *f, gconstpointer data) {
        Objects o = make_objects();

        g_assert_cmpint(store_begin(f->store), ==, 0);
        save_objects(f->store, &o);
        g_assert_cmpint(store_save_next_id(f->store, 500), ==, 0);
        store_rollback(f->store);

        assert_stored_empty(f);

        reopen(f);
        assert_stored_empty(f);
        g_assert_cmpint(raw_int(f->db_path, "SELECT COUNT(*) FROM collection_members"), ==, 0);
        objects_free(&o);
}

static void test_transaction_rollback_of_changes(Fixture *f, gconstpointer data) {
        Objects o = make_objects();

        g_assert_cmpint(store_begin(f->store), ==, 0);
        save_objects(f->store, &o);
        g_assert_cmpint(store_commit(f->store), ==, 0);

        /* Replacing, deleting and rewriting members, then changing one's mind. */
        g_assert_cmpint(store_begin(f->store), ==, 0);
        set_string(&o.system->element_name, "changed");
        g_assert_cmpint(store_save_system(f->store, o.system), ==, 0);
        g_assert_cmpint(store_delete_access_point(f->store, 3), ==, 0);
        g_assert_cmpint(store_delete_job(f->store, 6), ==, 0);
        idset_clear(&o.collection->remote_systems);
        g_assert_cmpint(store_save_collection(f->store, o.collection), ==, 0);
        store_rollback(f->store);

        objects_free(&o);
        o = make_objects();
        assert_stored_objects(f, &o);
        objects_free(&o);
}

static void test_transaction_lost_on_close(Fixture *f, gconstpointer data) {
        Objects o = make_objects();

        g_assert_cmpint(store_begin(f->store), ==, 0);
        save_objects(f->store, &o);
        reopen(f);

        assert_stored_empty(f);
        objects_free(&o);
}

static void test_transaction_nested_begin(Fixture *f, gconstpointer data) {
        g_assert_cmpint(store_begin(f->store), ==, 0);
        g_assert_cmpint(store_begin(f->store), ==, -EBUSY);
        store_rollback(f->store);
        /* Rolling back with nothing open is harmless. */
        store_rollback(f->store);
        g_assert_cmpint(store_begin(f->store), ==, 0);
        g_assert_cmpint(store_commit(f->store), ==, 0);
        g_assert_cmpint(store_commit(f->store), ==, -EIO);
}

static void test_transaction_visible_to_others_only_after_commit(Fixture *f, gconstpointer data) {
        System *x = make_system(2);

        g_assert_cmpint(store_begin(f->store), ==, 0);
        g_assert_cmpint(store_save_system(f->store, x), ==, 0);
        g_assert_cmpint(raw_int(f->db_path, "SELECT COUNT(*) FROM systems"), ==, 0);
        g_assert_cmpint(store_commit(f->store), ==, 0);
        g_assert_cmpint(raw_int(f->db_path, "SELECT COUNT(*) FROM systems"), ==, 1);
        system_free(x);
}

static void test_next_id_fresh(Fixture *f, gconstpointer data) {
        Model *m = load(f);

        g_assert_cmpuint(m->next_id, ==, 1);
        model_free(m);
}

static void test_next_id_max_rule(Fixture *f, gconstpointer data) {
        Job *x = job_new();
        Model *m;

        /* Stored next id below the largest id: the ids win. */
        x->id = 20;
        g_assert_cmpint(store_save_job(f->store, x), ==, 0);
        g_assert_cmpint(store_save_next_id(f->store, 10), ==, 0);
        m = load(f);
        g_assert_cmpuint(m->next_id, ==, 21);
        model_free(m);

        /* Stored next id above: it wins, also after a reopen. */
        g_assert_cmpint(store_save_next_id(f->store, 100), ==, 0);
        reopen(f);
        m = load(f);
        g_assert_cmpuint(m->next_id, ==, 100);
        model_free(m);

        /* A stale, smaller value never takes the stored one back. */
        g_assert_cmpint(store_save_next_id(f->store, 50), ==, 0);
        m = load(f);
        g_assert_cmpuint(m->next_id, ==, 100);
        model_free(m);

        g_assert_cmpint(store_save_next_id(f->store, (uint64_t) INT64_MAX + 1), ==, -ERANGE);
        job_free(x);
}

static void test_next_id_load_into_used_model(Fixture *f, gconstpointer data) {
        System *x = make_system(2);
        Model *m = model_new(LOCAL_NAME);

        g_assert_cmpint(store_save_system(f->store, x), ==, 0);
        /* A model that already holds that id: the clash is reported, not papered over. */
        g_assert_cmpint(model_add_system(m, make_system(2)), ==, 0);
        g_assert_cmpint(store_load(f->store, m), ==, -EEXIST);
        model_free(m);
        system_free(x);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);

#define ADD(path, setup, fn) g_test_add(path, Fixture, NULL, setup, fn, teardown)
        ADD("/store/delete/every-kind", setup_open, test_delete_every_kind);
        ADD("/store/transaction/commit-reopen", setup_open, test_transaction_commit_reopen);
        ADD("/store/transaction/rollback", setup_open, test_transaction_rollback);
        ADD("/store/transaction/rollback-of-changes", setup_open, test_transaction_rollback_of_changes);
        ADD("/store/transaction/lost-on-close", setup_open, test_transaction_lost_on_close);
        ADD("/store/transaction/nested-begin", setup_open, test_transaction_nested_begin);
        ADD("/store/transaction/isolated-until-commit", setup_open,
            test_transaction_visible_to_others_only_after_commit);
        ADD("/store/next-id/fresh", setup_open, test_next_id_fresh);
        ADD("/store/next-id/max-rule", setup_open, test_next_id_max_rule);
        ADD("/store/load/id-clash", setup_open, test_next_id_load_into_used_model);
#undef ADD

        return g_test_run();
}
