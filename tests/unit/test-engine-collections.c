/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * engine: collection changes that need no job (verification off, or nothing
 * remote added): what is announced, what is stored, what a refused call
 * leaves alone, DeleteOnUnassociated. The world and its helpers:
 * engine-fixture.h.
 */

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "engine-fixture.h"
#include "util/log.h"

static void test_add_to_synchronous(Fixture *f, gconstpointer data) {
        uint64_t r1 = add_access_point(f, f->peer, LISTEN_ADDRESS, 3260);
        uint64_t r2 = add_access_point(f, f->peer, LISTEN_ADDRESS, 3261);
        uint64_t local2 = add_access_point(f, LOCAL_SYSTEM_ID, "127.0.0.2", 3260);
        const char *remotes[] = { PATH(OBJECT_ACCESS_POINT, r2), PATH(OBJECT_ACCESS_POINT, r1),
                                  PATH(OBJECT_ACCESS_POINT, r2), NULL };
        const char *locals[] = { PATH(OBJECT_ACCESS_POINT, local2), PATH(OBJECT_ACCESS_POINT, f->local1), NULL };
        Collection *c;
        uint64_t j;
        Model *stored;

        notes_clear(f);
        g_assert_cmpint(add_to(f, f->collection, NULL, remotes, PATH(OBJECT_SYSTEM, f->peer), &j), ==, 0);
        g_assert_cmpuint(j, ==, 0);
        g_assert_cmpuint(f->engine->model->jobs.n, ==, 0);

        /* One change on the collection with exactly what changed, one on each new member. */
        g_assert_cmpstr(only_change(f, OBJECT_COLLECTION, f->collection), ==, "RemoteAccessPoints,RemoteSystems");
        g_assert_cmpstr(only_change(f, OBJECT_ACCESS_POINT, r1), ==, "Collections");
        g_assert_cmpstr(only_change(f, OBJECT_ACCESS_POINT, r2), ==, "Collections");
        g_assert_cmpstr(only_change(f, OBJECT_SYSTEM, f->peer), ==, "Collections");
        g_assert_cmpuint(f->notes->len, ==, 4);

        c = collection(f, f->collection);
        g_assert_cmpuint(c->remote_access_points.n, ==, 2);
        g_assert_cmpuint(c->remote_access_points.ids[0], ==, r1);
        g_assert_cmpuint(c->remote_access_points.ids[1], ==, r2);
        g_assert_true(idset_contains(&c->remote_systems, f->peer));
        g_assert_cmpuint(c->job_id, ==, 0);
        stored = stored_model(f);
        g_assert_true(idset_equal(&model_get_collection(stored, f->collection)->remote_access_points,
                                  &c->remote_access_points));
        g_assert_true(idset_equal(&model_get_collection(stored, f->collection)->remote_systems, &c->remote_systems));
        model_free(stored);
        assert_model_is_stored(f);

        /* Again: nothing to do, nothing announced. */
        notes_clear(f);
        g_assert_cmpint(add_to(f, f->collection, NULL, remotes, PATH(OBJECT_SYSTEM, f->peer), &j), ==, 0);
        g_assert_cmpuint(j, ==, 0);
        g_assert_cmpuint(f->notes->len, ==, 0);

        /* Only the new local access point is announced. */
        g_assert_cmpint(add_to(f, f->collection, locals, NULL, NULL, &j), ==, 0);
        g_assert_cmpuint(j, ==, 0);
        g_assert_cmpstr(only_change(f, OBJECT_COLLECTION, f->collection), ==, "LocalAccessPoints");
        g_assert_cmpstr(only_change(f, OBJECT_ACCESS_POINT, local2), ==, "Collections");
        g_assert_cmpuint(f->notes->len, ==, 2);
        assert_model_is_stored(f);

        /* Removing the system takes its access points with it. */
        notes_clear(f);
        g_assert_cmpint(remove_from(f, f->collection, NULL, NULL, PATH(OBJECT_SYSTEM, f->peer)), ==, 0);
        g_assert_cmpstr(only_change(f, OBJECT_COLLECTION, f->collection), ==, "RemoteAccessPoints,RemoteSystems");
        g_assert_cmpstr(only_change(f, OBJECT_ACCESS_POINT, r1), ==, "Collections");
        g_assert_cmpstr(only_change(f, OBJECT_ACCESS_POINT, r2), ==, "Collections");
        g_assert_cmpstr(only_change(f, OBJECT_SYSTEM, f->peer), ==, "Collections");
        g_assert_cmpuint(f->notes->len, ==, 4);
        c = collection(f, f->collection);
        g_assert_cmpuint(c->remote_access_points.n + c->remote_systems.n, ==, 0);
        g_assert_cmpuint(c->local_access_points.n, ==, 2);
        assert_model_is_stored(f);
}

static void test_failed_calls_change_nothing(Fixture *f, gconstpointer data) {
        uint64_t r1 = add_access_point(f, f->peer, LISTEN_ADDRESS, 3260);
        uint64_t other = add_peer(f, "iqn.2024-01.org.example:other");
        uint64_t r_other = add_access_point(f, other, LISTEN_ADDRESS, 3262);
        const char *local_as_remote[] = { PATH(OBJECT_ACCESS_POINT, f->local1), NULL };
        const char *remote_as_local[] = { PATH(OBJECT_ACCESS_POINT, f->local1), PATH(OBJECT_ACCESS_POINT, r1), NULL };
        const char *unknown[] = { PATH(OBJECT_ACCESS_POINT, r1), PATH(OBJECT_ACCESS_POINT, 999), NULL };
        const char *wrong_kind[] = { PATH(OBJECT_COLLECTION, f->collection), NULL };
        const char *of_other[] = { PATH(OBJECT_ACCESS_POINT, r1), PATH(OBJECT_ACCESS_POINT, r_other), NULL };
        const char *r1_only[] = { PATH(OBJECT_ACCESS_POINT, r1), NULL };
        const char *peer = PATH(OBJECT_SYSTEM, f->peer);
        MemberArgs a;
        uint64_t c = 0, j = 0;
        Snapshot before;

        notes_clear(f);
        before = snapshot(f, true);

        assert_failed(f, add_to(f, f->collection, NULL, NULL, NULL, &j), -EINVAL);
        assert_failed(f, add_to(f, f->collection, NULL, local_as_remote, peer, &j), -EINVAL);
        assert_failed(f, add_to(f, f->collection, remote_as_local, NULL, NULL, &j), -EINVAL);
        g_assert_cmpint(add_to(f, f->collection, NULL, unknown, peer, &j), ==, -EINVAL);
        g_assert_nonnull(strstr(f->err.message, "RemoteAccessPoints[1]"));
        repl_error_clear(&f->err);
        assert_failed(f, add_to(f, f->collection, wrong_kind, NULL, NULL, &j), -EINVAL);
        assert_failed(f, add_to(f, f->collection, NULL, of_other, peer, &j), -EINVAL);
        assert_failed(f, add_to(f, f->collection, NULL, r1_only, NULL, &j), -EINVAL);
        assert_failed(f, add_to(f, f->collection, NULL, NULL, LOCAL_SYSTEM_PATH, &j), -EINVAL);
        assert_failed(f, add_to(f, 999, NULL, r1_only, peer, &j), -EINVAL);
        assert_failed(f, remove_from(f, f->collection, NULL, NULL, NULL), -EINVAL);
        assert_failed(f, remove_from(f, f->collection, NULL, of_other, peer), -EINVAL);
        assert_failed(f, remove_from(f, 999, local_as_remote, NULL, NULL), -EINVAL);

        a = members(NULL, r1_only, NULL);
        assert_failed(f, engine_create_collection(f->engine, &f->caller, "new", &a, true, false, &c, &j, &f->err),
                      -EINVAL);
        a = members(remote_as_local, NULL, NULL);
        assert_failed(f, engine_create_collection(f->engine, &f->caller, "new", &a, true, false, &c, &j, &f->err),
                      -EINVAL);
        a = members(NULL, NULL, NULL);
        assert_failed(f, engine_create_collection(f->engine, &f->caller, "bad\001name", &a, true, false, &c, &j,
                                                  &f->err), -EINVAL);

        /* Deleting what a collection holds is refused while it holds it. */
        assert_failed(f, engine_delete_access_point(f->engine, &f->caller, f->local1, &f->err), -EBUSY);

        assert_unchanged(f, &before, true);
        g_assert_cmpuint(f->notes->len, ==, 0);
        snapshot_done(&before);
}

static void test_delete_on_unassociated(Fixture *f, gconstpointer data) {
        uint64_t r1 = add_access_point(f, f->peer, LISTEN_ADDRESS, 3260);
        const char *locals[] = { PATH(OBJECT_ACCESS_POINT, f->local1), NULL };
        const char *remotes[] = { PATH(OBJECT_ACCESS_POINT, r1), NULL };
        uint64_t id, empty, j;

        id = create_collection(f, "doa", locals, true);
        g_assert_cmpint(add_to(f, id, NULL, remotes, PATH(OBJECT_SYSTEM, f->peer), &j), ==, 0);

        /* An access point left: it stays. */
        g_assert_cmpint(remove_from(f, id, locals, NULL, NULL), ==, 0);
        g_assert_nonnull(model_get_collection(f->engine->model, id));

        /* The last one leaves: the collection goes, and everything it held says so. */
        notes_clear(f);
        g_assert_cmpint(remove_from(f, id, NULL, remotes, NULL), ==, 0);
        g_assert_null(model_get_collection(f->engine->model, id));
        g_assert_cmpuint(notes_count(f, NOTE_REMOVED, OBJECT_COLLECTION, id), ==, 1);
        g_assert_cmpuint(notes_count(f, NOTE_CHANGED, OBJECT_COLLECTION, id), ==, 0);
        g_assert_cmpstr(only_change(f, OBJECT_ACCESS_POINT, r1), ==, "Collections");
        /* The system it still held no longer lists it either. */
        g_assert_cmpstr(only_change(f, OBJECT_SYSTEM, f->peer), ==, "Collections");
        g_assert_cmpuint(f->notes->len, ==, 3);
        assert_model_is_stored(f);

        /* An empty collection with the flag survives a call that takes nothing out. */
        empty = create_collection(f, "empty", NULL, true);
        notes_clear(f);
        g_assert_cmpint(remove_from(f, empty, locals, NULL, PATH(OBJECT_SYSTEM, f->peer)), ==, 0);
        g_assert_nonnull(model_get_collection(f->engine->model, empty));
        g_assert_cmpuint(f->notes->len, ==, 0);
        assert_model_is_stored(f);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        /* The engine logs every change at info; keep the TAP output readable. */
        log_set_max_level(g_getenv("TEST_ENGINE_DEBUG") ? LOG_DEBUG : LOG_WARNING);

#define ADD(path, setup_fn, fn) g_test_add(path, Fixture, NULL, setup_fn, fn, teardown)
        ADD("/engine/collections/add-to-synchronous", setup_no_verify, test_add_to_synchronous);
        ADD("/engine/collections/failed-calls-change-nothing", setup_world, test_failed_calls_change_nothing);
        ADD("/engine/collections/delete-on-unassociated", setup_no_verify, test_delete_on_unassociated);
#undef ADD

        return g_test_run();
}
