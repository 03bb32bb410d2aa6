/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The store's fault hook: each kind fails exactly the occurrence it was armed
 * for, once, through the store's real error paths, and what failed is not in
 * the file when it is opened again. (What the engine makes of such failures
 * is test-engine-fault's business.)
 */

#include <errno.h>
#include <glib.h>

#include "store-fixture.h"

/* The ids of the stored peer systems, as "2,3". */
static char *stored_systems(Fixture *f) {
        Model *m = load(f);
        GString *s = g_string_new(NULL);

        MODEL_FOREACH(System, x, m->systems)
                if (x->id != LOCAL_SYSTEM_ID)
                        g_string_append_printf(s, "%s%" G_GUINT64_FORMAT, s->len ? "," : "", x->id);
        model_free(m);
        return g_string_free(s, FALSE);
}

/* One transaction saving systems first..first+n-1; its result. */
static int transaction(Fixture *f, uint64_t first, unsigned n) {
        int r = store_begin(f->store);

        for (unsigned i = 0; r >= 0 && i < n; i++)
                r = save_peer_system(f->store, first + i);
        if (r >= 0)
                r = store_commit(f->store);
        if (r < 0)
                store_rollback(f->store);
        return r;
}

static void assert_stored(Fixture *f, const char *expected) {
        g_autofree char *now = stored_systems(f);
        g_autofree char *after_restart = NULL;

        g_assert_cmpstr(now, ==, expected);
        reopen(f);
        after_restart = stored_systems(f);
        g_assert_cmpstr(after_restart, ==, expected);
}

static void test_write(Fixture *f, gconstpointer data) {
        g_assert_cmpint(store_fault_arm(f->store, STORE_FAULT_WRITE, 3), ==, 0);
        g_assert_cmpint(transaction(f, 2, 2), ==, 0);
        /* The third write fails and takes its transaction's first write with it. */
        g_assert_cmpint(transaction(f, 4, 2), ==, -EIO);
        assert_stored(f, "2,3");
        /* Once only. */
        g_assert_cmpint(transaction(f, 6, 1), ==, 0);
        assert_stored(f, "2,3,6");
}

static void test_commit(Fixture *f, gconstpointer data) {
        g_assert_cmpint(store_fault_arm(f->store, STORE_FAULT_COMMIT, 2), ==, 0);
        g_assert_cmpint(transaction(f, 2, 1), ==, 0);
        g_assert_cmpint(transaction(f, 3, 2), ==, -EIO);
        assert_stored(f, "2");
        g_assert_cmpint(transaction(f, 5, 1), ==, 0);
        assert_stored(f, "2,5");
}

static void test_sync(Fixture *f, gconstpointer data) {
        g_autofree char *after_failure = NULL;

        g_assert_cmpint(store_fault_arm(f->store, STORE_FAULT_SYNC, 1), ==, 0);
        /* The log could not be made durable: SQLite abandons the commit. */
        g_assert_cmpint(transaction(f, 2, 2), ==, -EIO);
        after_failure = stored_systems(f);
        g_assert_cmpstr(after_failure, ==, "");
        g_assert_cmpint(transaction(f, 4, 1), ==, 0);
        assert_stored(f, "4");
}

static void test_sync_one_store_at_a_time(Fixture *f, gconstpointer data) {
        Store *other = NULL;

        g_assert_cmpint(store_open(f->dir, &other), ==, 0);
        g_assert_cmpint(store_fault_arm(f->store, STORE_FAULT_SYNC, 1), ==, 0);
        g_assert_cmpint(store_fault_arm(other, STORE_FAULT_SYNC, 1), ==, -EBUSY);
        /* Disarming gives the log its own methods back. */
        g_assert_cmpint(store_fault_arm(f->store, STORE_FAULT_NONE, 0), ==, 0);
        g_assert_cmpint(transaction(f, 2, 1), ==, 0);
        g_assert_cmpint(store_fault_arm(other, STORE_FAULT_SYNC, 1), ==, 0);
        store_close(other);
        g_assert_cmpint(transaction(f, 3, 1), ==, 0);
        assert_stored(f, "2,3");
}

static void test_disarm(Fixture *f, gconstpointer data) {
        g_assert_cmpint(store_fault_arm(f->store, STORE_FAULT_COMMIT, 1), ==, 0);
        g_assert_cmpint(store_fault_arm(f->store, STORE_FAULT_NONE, 0), ==, 0);
        g_assert_cmpint(transaction(f, 2, 1), ==, 0);
        g_assert_cmpint(store_fault_arm(f->store, STORE_FAULT_WRITE, 0), ==, -EINVAL);
        g_assert_cmpint(store_fault_arm(f->store, _STORE_FAULT_MAX, 1), ==, -EINVAL);
        assert_stored(f, "2");
}

static void test_parse(Fixture *f, gconstpointer data) {
        static const char * const bad[] = {
                "", "commit", "commit:", "commit:0", "commit:-1", "commit:1x", "commit: 1", "none:1",
                "sync:99999999999", "write:+1", ":1", "Commit:1",
        };
        StoreFault kind = STORE_FAULT_NONE;
        unsigned nth = 0;

        g_assert_cmpint(store_fault_parse("write:12", &kind, &nth), ==, 0);
        g_assert_cmpint(kind, ==, STORE_FAULT_WRITE);
        g_assert_cmpuint(nth, ==, 12);
        g_assert_cmpint(store_fault_parse("commit:1", &kind, &nth), ==, 0);
        g_assert_cmpint(kind, ==, STORE_FAULT_COMMIT);
        g_assert_cmpint(store_fault_parse("sync:3", &kind, &nth), ==, 0);
        g_assert_cmpint(kind, ==, STORE_FAULT_SYNC);
        g_assert_cmpuint(nth, ==, 3);
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                kind = STORE_FAULT_NONE;
                g_assert_cmpint(store_fault_parse(bad[i], &kind, &nth), ==, -EINVAL);
                g_assert_cmpint(kind, ==, STORE_FAULT_NONE);
        }
        g_assert_cmpint(store_fault_parse(NULL, &kind, &nth), ==, -EINVAL);
}

#define ADD(path, fn) g_test_add(path, Fixture, NULL, setup_open, fn, teardown)

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        ADD("/store/fault/write", test_write);
        ADD("/store/fault/commit", test_commit);
        ADD("/store/fault/sync", test_sync);
        ADD("/store/fault/sync-one-store-at-a-time", test_sync_one_store_at_a_time);
        ADD("/store/fault/disarm", test_disarm);
        ADD("/store/fault/parse", test_parse);
        return g_test_run();
}
