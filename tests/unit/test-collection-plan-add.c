/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/collection-plan: resolving member references, and the rules of
 * Create and AddTo — which arguments are refused, and what an accepted call
 * changes (collection-plan-fixture.h has the model).
 */

#include <errno.h>
#include <glib.h>

#include "collection-plan-fixture.h"

/* ---- reference resolution ---- */

static void test_resolve_found(Fixture *f, gconstpointer data) {
        System *s = NULL;
        AccessPoint *a = NULL;
        Collection *c = NULL;

        g_assert_cmpint(model_resolve_system(f->m, LOCAL_SYSTEM_PATH, "System", &s, &f->err), ==, 0);
        g_assert_cmpuint(s->id, ==, LOCAL_SYSTEM_ID);
        g_assert_cmpint(model_resolve_system(f->m, P_B, "System", &s, &f->err), ==, 0);
        g_assert_cmpuint(s->id, ==, ID_B);
        g_assert_cmpint(model_resolve_access_point(f->m, P_A2, "X", &a, &f->err), ==, 0);
        g_assert_true(a == model_get_access_point(f->m, ID_A2));
        g_assert_cmpint(model_resolve_collection(f->m, P_D, "X", &c, &f->err), ==, 0);
        g_assert_true(c == f->d);
        g_assert_cmpint(f->err.error, ==, 0);
}

static void test_resolve_errors(Fixture *f, gconstpointer data) {
        static const char * const bad_access_points[] = {
                AP(999),                                /* well formed, no such object */
                AP(0),                                  /* ids start at 1 */
                AP(01),                                 /* leading zero */
                AP(1x),
                AP(-1),
                SERVICE_ROOT_PATH "/access_point/",
                SERVICE_ROOT_PATH "/access_point",
                SERVICE_ROOT_PATH "/access_point/1/2",
                SERVICE_ROOT_PATH "/accesspoint/1",
                SERVICE_ROOT_PATH,                      /* the service, not an access point */
                "/org/example/access_point/1",
                "",
                NULL_PATH,
                P_C,                                    /* wrong kind */
                P_A,
                LOCAL_SYSTEM_PATH,
                SERVICE_ROOT_PATH "/secret/50",
                SERVICE_ROOT_PATH "/job/60",
        };
        AccessPoint *a = NULL;
        System *s = NULL;
        Collection *c = NULL;

        for (size_t i = 0; i < ELEMENTSOF(bad_access_points); i++) {
                g_assert_cmpint(model_resolve_access_point(f->m, bad_access_points[i], "SomeArgument", &a, &f->err),
                                ==, -EINVAL);
                if (!strstr(f->err.message, "SomeArgument"))
                        g_error("%s: message \"%s\" does not name the argument", bad_access_points[i], f->err.message);
                g_assert_null(a);
                repl_error_clear(&f->err);
        }

        /* NULL is no path at all. */
        g_assert_cmpint(model_resolve_access_point(f->m, NULL, "SomeArgument", &a, &f->err), ==, -EINVAL);
        g_assert_null(a);
        repl_error_clear(&f->err);

        /* The message says what was wrong. */
        g_assert_cmpint(model_resolve_access_point(f->m, P_C, "LocalAccessPoints[1]", &a, &f->err), ==, -EINVAL);
        g_assert_nonnull(strstr(f->err.message, "LocalAccessPoints[1]"));
        g_assert_nonnull(strstr(f->err.message, P_C));
        g_assert_nonnull(strstr(f->err.message, "is a collection, not an access point"));
        repl_error_clear(&f->err);
        g_assert_cmpint(model_resolve_access_point(f->m, NULL_PATH, "LocalAccessPoints[0]", &a, &f->err), ==, -EINVAL);
        g_assert_nonnull(strstr(f->err.message, "\"/\""));
        repl_error_clear(&f->err);
        g_assert_cmpint(model_resolve_access_point(f->m, AP(999), "RemoteAccessPoints[3]", &a, &f->err), ==, -EINVAL);
        g_assert_nonnull(strstr(f->err.message, "RemoteAccessPoints[3] " AP(999)));
        repl_error_clear(&f->err);

        g_assert_cmpint(model_resolve_system(f->m, P_A1, "System", &s, &f->err), ==, -EINVAL);
        g_assert_nonnull(strstr(f->err.message, "System " P_A1 " is an access point, not a computer system"));
        g_assert_null(s);
        repl_error_clear(&f->err);
        g_assert_cmpint(model_resolve_system(f->m, SYS(12), "System", &s, &f->err), ==, -EINVAL);
        g_assert_null(s);
        repl_error_clear(&f->err);
        g_assert_cmpint(model_resolve_collection(f->m, COL(42), "ConnectivityCollection", &c, &f->err), ==, -EINVAL);
        g_assert_nonnull(strstr(f->err.message, "ConnectivityCollection"));
        repl_error_clear(&f->err);
        g_assert_cmpint(model_resolve_collection(f->m, P_L1, "ConnectivityCollection", &c, &f->err), ==, -EINVAL);
        g_assert_null(c);
        repl_error_clear(&f->err);

        /* The first failure wins, so a caller reports the root cause. */
        g_assert_cmpint(model_resolve_collection(f->m, COL(42), "First", &c, &f->err), ==, -EINVAL);
        g_assert_cmpint(model_resolve_collection(f->m, COL(43), "Second", &c, &f->err), ==, -EINVAL);
        g_assert_nonnull(strstr(f->err.message, "First"));
        g_assert_null(strstr(f->err.message, "Second"));

        /* Without an error buffer the errno still comes back. */
        g_assert_cmpint(model_resolve_system(f->m, SYS(12), "System", &s, NULL), ==, -EINVAL);
}

/* ---- AddTo / Create: argument rules ---- */

static void test_add_all_null(Fixture *f, gconstpointer data) {
        assert_invalid(f, plan_add(f, f->c, args(NONE, NONE, NULL_PATH), false), "LocalAccessPoints");
        g_assert_cmpint(plan_add(f, f->c, args(NONE, NONE, NULL), false), ==, -EINVAL);
        g_assert_nonnull(strstr(f->err.message, "RemoteAccessPoints"));
        g_assert_nonnull(strstr(f->err.message, "RemoteComputerSystem"));
        repl_error_clear(&f->err);
        g_assert_null(f->plan.result);

        /* The same call on a collection that holds members is still a request for nothing. */
        hold(&f->c->local_access_points, ID_L1);
        assert_invalid(f, plan_add(f, f->c, args(NONE, NONE, NULL_PATH), false), "RemoteComputerSystem");
}

static void test_create_empty(Fixture *f, gconstpointer data) {
        Collection *fresh = collection_new();

        g_assert_nonnull(fresh);
        fresh->delete_on_unassociated = true;
        g_assert_cmpint(plan_add(f, fresh, args(NONE, NONE, NULL_PATH), true), ==, 0);
        g_assert_cmpint(f->err.error, ==, 0);
        g_assert_nonnull(f->plan.result);
        g_assert_true(f->plan.result != fresh);
        assert_same_collection(f->plan.result, fresh);
        g_assert_false(collection_plan_changes_membership(&f->plan));
        g_assert_false(f->plan.delete_collection);

        g_assert_cmpint(plan_add(f, fresh, args(NONE, NONE, NULL), true), ==, 0);
        g_assert_false(collection_plan_changes_membership(&f->plan));
        collection_free(fresh);
}

static void test_create_members(Fixture *f, gconstpointer data) {
        Collection *fresh = collection_new();

        g_assert_nonnull(fresh);
        g_assert_cmpint(plan_add(f, fresh, args(LIST(P_L2, P_L1), LIST(P_A2, P_A1), P_A), true), ==, 0);
        ASSERT_IDS(&f->plan.result->local_access_points, ID_L1, ID_L2);
        ASSERT_IDS(&f->plan.result->remote_access_points, ID_A1, ID_A2);
        ASSERT_IDS(&f->plan.result->remote_systems, ID_A);
        ASSERT_IDS(&f->plan.added_local, ID_L1, ID_L2);
        ASSERT_IDS(&f->plan.added_remote, ID_A1, ID_A2);
        ASSERT_IDS(&f->plan.added_systems, ID_A);
        g_assert_true(collection_plan_changes_membership(&f->plan));

        /* A new collection holds no system yet, so a remote access point needs one named. */
        assert_invalid(f, plan_add(f, fresh, args(NONE, LIST(P_A1), NULL_PATH), true), "RemoteAccessPoints[0]");
        g_assert_cmpuint(fresh->local_access_points.n + fresh->remote_access_points.n + fresh->remote_systems.n, ==, 0);
        collection_free(fresh);
}

static void test_add_local_as_remote(Fixture *f, gconstpointer data) {
        assert_invalid(f, plan_add(f, f->c, args(NONE, LIST(P_L1), P_A), false), "RemoteAccessPoints[0]");
        assert_invalid(f, plan_add(f, f->c, args(NONE, LIST(P_A1, P_L2), P_A), false), "RemoteAccessPoints[1]");
        g_assert_cmpint(plan_add(f, f->c, args(NONE, LIST(P_A1, P_L2), P_A), false), ==, -EINVAL);
        g_assert_nonnull(strstr(f->err.message, P_L2));
        g_assert_nonnull(strstr(f->err.message, "this host"));
}

static void test_add_remote_as_local(Fixture *f, gconstpointer data) {
        assert_invalid(f, plan_add(f, f->c, args(LIST(P_A1), NONE, NULL_PATH), false), "LocalAccessPoints[0]");
        assert_invalid(f, plan_add(f, f->c, args(LIST(P_L1, P_B1), NONE, NULL_PATH), false), "LocalAccessPoints[1]");
        g_assert_cmpint(plan_add(f, f->c, args(LIST(P_L1, P_B1), NONE, NULL_PATH), false), ==, -EINVAL);
        g_assert_nonnull(strstr(f->err.message, P_B1));
        g_assert_nonnull(strstr(f->err.message, "peer system"));
}

static void test_add_bad_references(Fixture *f, gconstpointer data) {
        static const char * const bad[] = {
                AP(999),
                SERVICE_ROOT_PATH "/access_point/007",
                SERVICE_ROOT_PATH "/access_point/x",
                "/not/ours",
                NULL_PATH,
                P_C,
                P_A,
                LOCAL_SYSTEM_PATH,
                SERVICE_ROOT_PATH,
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                const char *locals[] = { P_L1, bad[i] };
                const char *remotes[] = { P_A1, P_A2, bad[i] };

                assert_invalid(f, plan_add(f, f->c, args(locals, 2, NONE, NULL_PATH), false), "LocalAccessPoints[1]");
                assert_invalid(f, plan_add(f, f->c, args(NONE, remotes, 3, P_A), false), "RemoteAccessPoints[2]");
                /* In a create call too, and also for removal. */
                assert_invalid(f, plan_add(f, f->c, args(locals, 2, NONE, NULL_PATH), true), "LocalAccessPoints[1]");
                assert_invalid(f, plan_remove(f, f->c, args(locals, 2, NONE, NULL_PATH)), "LocalAccessPoints[1]");
                assert_invalid(f, plan_remove(f, f->c, args(NONE, remotes, 3, P_A)), "RemoteAccessPoints[2]");
        }
}

static void test_add_bad_system(Fixture *f, gconstpointer data) {
        static const char * const bad[] = {
                LOCAL_SYSTEM_PATH,
                SYS(12),
                SYS(0),
                P_A1,
                P_C,
                SERVICE_ROOT_PATH,
                "/elsewhere",
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                assert_invalid(f, plan_add(f, f->c, args(NONE, NONE, bad[i]), false), "RemoteComputerSystem");
                assert_invalid(f, plan_add(f, f->c, args(LIST(P_L1), NONE, bad[i]), true), "RemoteComputerSystem");
                assert_invalid(f, plan_remove(f, f->c, args(LIST(P_L1), NONE, bad[i])), "RemoteComputerSystem");
        }

        /* This host is named as such. */
        g_assert_cmpint(plan_add(f, f->c, args(NONE, NONE, LOCAL_SYSTEM_PATH), false), ==, -EINVAL);
        g_assert_nonnull(strstr(f->err.message, "this host"));
}

static void test_add_remote_of_other_system(Fixture *f, gconstpointer data) {
        assert_invalid(f, plan_add(f, f->c, args(NONE, LIST(P_B1), P_A), false), "RemoteAccessPoints[0]");
        g_assert_cmpint(plan_add(f, f->c, args(NONE, LIST(P_A1, P_B1), P_A), false), ==, -EINVAL);
        g_assert_nonnull(strstr(f->err.message, "RemoteAccessPoints[1]"));
        g_assert_nonnull(strstr(f->err.message, P_B));
        g_assert_nonnull(strstr(f->err.message, P_A));
        repl_error_clear(&f->err);

        /* Holding B does not help when A is named. */
        hold(&f->c->remote_systems, ID_B);
        assert_invalid(f, plan_add(f, f->c, args(NONE, LIST(P_B1), P_A), false), "RemoteAccessPoints[0]");
}

static void test_add_remote_needs_held_system(Fixture *f, gconstpointer data) {
        assert_invalid(f, plan_add(f, f->c, args(NONE, LIST(P_A1), NULL_PATH), false), "RemoteAccessPoints[0]");
        g_assert_cmpint(plan_add(f, f->c, args(NONE, LIST(P_A1), NULL), false), ==, -EINVAL);
        g_assert_nonnull(strstr(f->err.message, P_A));
        g_assert_nonnull(strstr(f->err.message, "RemoteComputerSystem"));
        repl_error_clear(&f->err);

        /* Once the collection holds A, A's access points may come without naming it. */
        hold(&f->c->remote_systems, ID_A);
        g_assert_cmpint(plan_add(f, f->c, args(NONE, LIST(P_A2), NULL_PATH), false), ==, 0);
        ASSERT_IDS(&f->plan.added_remote, ID_A2);
        ASSERT_NO_IDS(&f->plan.added_systems);
        ASSERT_IDS(&f->plan.result->remote_systems, ID_A);

        /* But not B's. */
        assert_invalid(f, plan_add(f, f->c, args(NONE, LIST(P_A1, P_B1), NULL_PATH), false), "RemoteAccessPoints[1]");
}

/* ---- AddTo: what changes ---- */

static void test_add_system_only(Fixture *f, gconstpointer data) {
        hold(&f->c->local_access_points, ID_L1);
        g_assert_cmpint(plan_add(f, f->c, args(NONE, NONE, P_B), false), ==, 0);
        ASSERT_IDS(&f->plan.added_systems, ID_B);
        ASSERT_NO_IDS(&f->plan.added_local);
        ASSERT_NO_IDS(&f->plan.added_remote);
        ASSERT_IDS(&f->plan.result->remote_systems, ID_B);
        ASSERT_IDS(&f->plan.result->local_access_points, ID_L1);
        ASSERT_NO_IDS(&f->plan.result->remote_access_points);
        g_assert_true(collection_plan_changes_membership(&f->plan));
        g_assert_false(f->plan.delete_collection);
}

static void test_add_exact_sets(Fixture *f, gconstpointer data) {
        hold(&f->c->local_access_points, ID_L2);
        hold(&f->c->remote_systems, ID_A);
        hold(&f->c->remote_access_points, ID_A1);

        g_assert_cmpint(plan_add(f, f->c, args(LIST(P_L3, P_L2, P_L1), LIST(P_A2, P_A1), P_A), false), ==, 0);
        ASSERT_IDS(&f->plan.added_local, ID_L1, ID_L3);
        ASSERT_IDS(&f->plan.added_remote, ID_A2);
        ASSERT_NO_IDS(&f->plan.added_systems);
        ASSERT_NO_IDS(&f->plan.removed_local);
        ASSERT_NO_IDS(&f->plan.removed_remote);
        ASSERT_NO_IDS(&f->plan.removed_systems);
        ASSERT_IDS(&f->plan.result->local_access_points, ID_L1, ID_L2, ID_L3);
        ASSERT_IDS(&f->plan.result->remote_access_points, ID_A1, ID_A2);
        ASSERT_IDS(&f->plan.result->remote_systems, ID_A);
        assert_plan_sorted(&f->plan);
        g_assert_true(collection_plan_changes_membership(&f->plan));

        /* The result is the collection with the same identity and settings. */
        g_assert_cmpuint(f->plan.result->id, ==, ID_C);
        g_assert_cmpstr(f->plan.result->element_name, ==, "c");
        g_assert_true(f->plan.result->active);
}

static void test_add_second_system(Fixture *f, gconstpointer data) {
        hold(&f->c->remote_systems, ID_A);
        hold(&f->c->remote_access_points, ID_A1);

        g_assert_cmpint(plan_add(f, f->c, args(NONE, LIST(P_B1), P_B), false), ==, 0);
        ASSERT_IDS(&f->plan.added_systems, ID_B);
        ASSERT_IDS(&f->plan.added_remote, ID_B1);
        ASSERT_IDS(&f->plan.result->remote_systems, ID_A, ID_B);
        ASSERT_IDS(&f->plan.result->remote_access_points, ID_A1, ID_B1);
}

static void test_add_duplicates_count_once(Fixture *f, gconstpointer data) {
        g_assert_cmpint(plan_add(f, f->c, args(LIST(P_L1, P_L1, P_L2, P_L1), LIST(P_A1, P_A1), P_A), false), ==, 0);
        ASSERT_IDS(&f->plan.added_local, ID_L1, ID_L2);
        ASSERT_IDS(&f->plan.added_remote, ID_A1);
        ASSERT_IDS(&f->plan.added_systems, ID_A);
        ASSERT_IDS(&f->plan.result->local_access_points, ID_L1, ID_L2);
        ASSERT_IDS(&f->plan.result->remote_access_points, ID_A1);
}

static void test_add_idempotent(Fixture *f, gconstpointer data) {
        hold(&f->c->local_access_points, ID_L1);
        hold(&f->c->remote_systems, ID_A);
        hold(&f->c->remote_access_points, ID_A1);

        g_assert_cmpint(plan_add(f, f->c, args(LIST(P_L1), LIST(P_A1), P_A), false), ==, 0);
        g_assert_false(collection_plan_changes_membership(&f->plan));
        assert_same_collection(f->plan.result, f->c);

        g_assert_cmpint(plan_add(f, f->c, args(LIST(P_L1, P_L1), NONE, NULL_PATH), false), ==, 0);
        g_assert_false(collection_plan_changes_membership(&f->plan));
        g_assert_cmpint(plan_add(f, f->c, args(NONE, LIST(P_A1), NULL_PATH), false), ==, 0);
        g_assert_false(collection_plan_changes_membership(&f->plan));
        g_assert_cmpint(plan_add(f, f->c, args(NONE, NONE, P_A), false), ==, 0);
        g_assert_false(collection_plan_changes_membership(&f->plan));
        g_assert_cmpint(f->err.error, ==, 0);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);

#define ADD(path, fn) g_test_add(path, Fixture, NULL, setup, fn, teardown)
        ADD("/collection-plan/resolve/found", test_resolve_found);
        ADD("/collection-plan/resolve/errors", test_resolve_errors);
        ADD("/collection-plan/add/all-null", test_add_all_null);
        ADD("/collection-plan/create/empty", test_create_empty);
        ADD("/collection-plan/create/members", test_create_members);
        ADD("/collection-plan/add/local-as-remote", test_add_local_as_remote);
        ADD("/collection-plan/add/remote-as-local", test_add_remote_as_local);
        ADD("/collection-plan/add/bad-references", test_add_bad_references);
        ADD("/collection-plan/add/bad-system", test_add_bad_system);
        ADD("/collection-plan/add/remote-of-other-system", test_add_remote_of_other_system);
        ADD("/collection-plan/add/remote-needs-held-system", test_add_remote_needs_held_system);
        ADD("/collection-plan/add/system-only", test_add_system_only);
        ADD("/collection-plan/add/exact-sets", test_add_exact_sets);
        ADD("/collection-plan/add/second-system", test_add_second_system);
        ADD("/collection-plan/add/duplicates-count-once", test_add_duplicates_count_once);
        ADD("/collection-plan/add/idempotent", test_add_idempotent);
#undef ADD

        return g_test_run();
}
