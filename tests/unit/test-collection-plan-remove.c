/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/collection-plan: the rules of RemoveFrom, and that planning never
 * changes the model (collection-plan-fixture.h has the model).
 */

#include <errno.h>
#include <glib.h>

#include "collection-plan-fixture.h"

/* ---- RemoveFrom ---- */

static void fill_c(Fixture *f) {
        hold(&f->c->local_access_points, ID_L1);
        hold(&f->c->local_access_points, ID_L2);
        hold(&f->c->remote_systems, ID_A);
        hold(&f->c->remote_systems, ID_B);
        hold(&f->c->remote_access_points, ID_A1);
        hold(&f->c->remote_access_points, ID_A2);
        hold(&f->c->remote_access_points, ID_B1);
}

static void test_remove_all_null(Fixture *f, gconstpointer data) {
        fill_c(f);
        assert_invalid(f, plan_remove(f, f->c, args(NONE, NONE, NULL_PATH)), "RemoteComputerSystem");
        assert_invalid(f, plan_remove(f, f->c, args(NONE, NONE, NULL)), "LocalAccessPoints");
}

static void test_remove_exact_sets(Fixture *f, gconstpointer data) {
        fill_c(f);

        g_assert_cmpint(plan_remove(f, f->c, args(LIST(P_L2, P_L3, P_L2), LIST(P_B1), NULL_PATH)), ==, 0);
        ASSERT_IDS(&f->plan.removed_local, ID_L2);
        ASSERT_IDS(&f->plan.removed_remote, ID_B1);
        ASSERT_NO_IDS(&f->plan.removed_systems);
        ASSERT_NO_IDS(&f->plan.added_local);
        ASSERT_NO_IDS(&f->plan.added_remote);
        ASSERT_NO_IDS(&f->plan.added_systems);
        ASSERT_IDS(&f->plan.result->local_access_points, ID_L1);
        ASSERT_IDS(&f->plan.result->remote_access_points, ID_A1, ID_A2);
        /* Taking B's last access point does not take B. */
        ASSERT_IDS(&f->plan.result->remote_systems, ID_A, ID_B);
        assert_plan_sorted(&f->plan);
        g_assert_true(collection_plan_changes_membership(&f->plan));
        g_assert_false(f->plan.delete_collection);
}

static void test_remove_system_takes_its_access_points(Fixture *f, gconstpointer data) {
        fill_c(f);

        g_assert_cmpint(plan_remove(f, f->c, args(NONE, NONE, P_A)), ==, 0);
        ASSERT_IDS(&f->plan.removed_systems, ID_A);
        ASSERT_IDS(&f->plan.removed_remote, ID_A1, ID_A2);
        ASSERT_NO_IDS(&f->plan.removed_local);
        ASSERT_IDS(&f->plan.result->remote_systems, ID_B);
        ASSERT_IDS(&f->plan.result->remote_access_points, ID_B1);
        ASSERT_IDS(&f->plan.result->local_access_points, ID_L1, ID_L2);

        /* Naming one of them as well changes nothing about the result. */
        g_assert_cmpint(plan_remove(f, f->c, args(NONE, LIST(P_A2), P_A)), ==, 0);
        ASSERT_IDS(&f->plan.removed_remote, ID_A1, ID_A2);
        ASSERT_IDS(&f->plan.removed_systems, ID_A);
}

static void test_remove_rules(Fixture *f, gconstpointer data) {
        fill_c(f);

        assert_invalid(f, plan_remove(f, f->c, args(NONE, LIST(P_B1), P_A)), "RemoteAccessPoints[0]");
        assert_invalid(f, plan_remove(f, f->c, args(LIST(P_A1), NONE, NULL_PATH)), "LocalAccessPoints[0]");
        assert_invalid(f, plan_remove(f, f->c, args(NONE, LIST(P_L1), NULL_PATH)), "RemoteAccessPoints[0]");
        assert_invalid(f, plan_remove(f, f->c, args(NONE, NONE, LOCAL_SYSTEM_PATH)), "RemoteComputerSystem");
}

static void test_remove_non_member(Fixture *f, gconstpointer data) {
        hold(&f->c->local_access_points, ID_L1);
        hold(&f->c->remote_systems, ID_A);
        hold(&f->c->remote_access_points, ID_A1);

        /* Existing objects that are not members: a no-op, also for a system the collection does not hold. */
        g_assert_cmpint(plan_remove(f, f->c, args(LIST(P_L3), LIST(P_A2, P_B1), NULL_PATH)), ==, 0);
        g_assert_false(collection_plan_changes_membership(&f->plan));
        assert_same_collection(f->plan.result, f->c);
        g_assert_cmpint(plan_remove(f, f->c, args(NONE, NONE, P_B)), ==, 0);
        g_assert_false(collection_plan_changes_membership(&f->plan));
        g_assert_cmpint(f->err.error, ==, 0);
}

static void test_remove_delete_on_unassociated(Fixture *f, gconstpointer data) {
        hold(&f->d->local_access_points, ID_L1);
        hold(&f->d->remote_systems, ID_A);
        hold(&f->d->remote_access_points, ID_A1);

        /* One access point left: it stays. */
        g_assert_cmpint(plan_remove(f, f->d, args(LIST(P_L1), NONE, NULL_PATH)), ==, 0);
        g_assert_false(f->plan.delete_collection);
        g_assert_cmpint(plan_remove(f, f->d, args(NONE, LIST(P_A1), NULL_PATH)), ==, 0);
        g_assert_false(f->plan.delete_collection);

        /* The last access points leave, the system still held: it goes. */
        g_assert_cmpint(plan_remove(f, f->d, args(LIST(P_L1), LIST(P_A1), NULL_PATH)), ==, 0);
        g_assert_true(f->plan.delete_collection);
        g_assert_true(collection_plan_changes_membership(&f->plan));
        ASSERT_IDS(&f->plan.removed_local, ID_L1);
        ASSERT_IDS(&f->plan.removed_remote, ID_A1);
        ASSERT_IDS(&f->plan.result->remote_systems, ID_A);

        /* Removing the system takes A1; with L1 gone too, nothing is left. */
        g_assert_cmpint(idset_remove(&f->d->local_access_points, ID_L1), ==, 1);
        g_assert_cmpint(plan_remove(f, f->d, args(NONE, NONE, P_A)), ==, 0);
        g_assert_true(f->plan.delete_collection);
        ASSERT_IDS(&f->plan.removed_remote, ID_A1);
        ASSERT_IDS(&f->plan.removed_systems, ID_A);

        /* Without the flag an emptied collection stays. */
        hold(&f->c->local_access_points, ID_L1);
        g_assert_cmpint(plan_remove(f, f->c, args(LIST(P_L1), NONE, NULL_PATH)), ==, 0);
        g_assert_false(f->plan.delete_collection);
        ASSERT_IDS(&f->plan.removed_local, ID_L1);

        /* Adding never deletes. */
        g_assert_cmpint(plan_add(f, f->d, args(NONE, NONE, P_B), false), ==, 0);
        g_assert_false(f->plan.delete_collection);
}

/*
 * A collection with the flag that holds no access point (created empty, or
 * holding only a system) is not deleted by a call that takes no access point
 * out of it: naming a non-member is a no-op, and the flag acts when the last
 * access point leaves.
 */
static void test_remove_no_op_keeps_empty_collection(Fixture *f, gconstpointer data) {
        g_assert_cmpint(plan_remove(f, f->d, args(LIST(P_L1), NONE, NULL_PATH)), ==, 0);
        g_assert_false(f->plan.delete_collection);
        g_assert_false(collection_plan_changes_membership(&f->plan));
        g_assert_cmpint(plan_remove(f, f->d, args(NONE, NONE, P_B)), ==, 0);
        g_assert_false(f->plan.delete_collection);
        g_assert_false(collection_plan_changes_membership(&f->plan));

        /* Taking the system of a collection that never had an access point keeps it too. */
        hold(&f->d->remote_systems, ID_A);
        g_assert_cmpint(plan_remove(f, f->d, args(NONE, NONE, P_A)), ==, 0);
        ASSERT_IDS(&f->plan.removed_systems, ID_A);
        g_assert_false(f->plan.delete_collection);
}

/* ---- planning is read-only ---- */

static void test_plan_never_modifies_model(Fixture *f, gconstpointer data) {
        Collection *before;
        size_t n_systems = f->m->systems.n, n_aps = f->m->access_points.n, n_cols = f->m->collections.n;
        uint64_t next_id = f->m->next_id;

        hold(&f->c->local_access_points, ID_L1);
        hold(&f->c->remote_systems, ID_A);
        hold(&f->c->remote_access_points, ID_A1);
        f->c->job_id = 99;
        before = collection_copy(f->c);
        g_assert_nonnull(before);

        g_assert_cmpint(plan_add(f, f->c, args(LIST(P_L2, P_L3), LIST(P_A2), P_A), false), ==, 0);
        g_assert_true(f->plan.result != f->c);
        assert_same_collection(f->c, before);
        g_assert_cmpint(plan_add(f, f->c, args(NONE, NONE, P_B), false), ==, 0);
        assert_same_collection(f->c, before);
        g_assert_cmpint(plan_remove(f, f->c, args(LIST(P_L1), NONE, P_A)), ==, 0);
        assert_same_collection(f->c, before);
        /* A failing call, after some arguments were fine, leaves it alone too. */
        g_assert_cmpint(plan_add(f, f->c, args(LIST(P_L2), LIST(P_A2, P_B1), P_A), false), ==, -EINVAL);
        repl_error_clear(&f->err);
        assert_same_collection(f->c, before);

        /* The plan's result is a copy: changing it leaves the collection alone. */
        g_assert_cmpint(plan_add(f, f->c, args(LIST(P_L2), NONE, NULL_PATH), false), ==, 0);
        hold(&f->plan.result->remote_systems, ID_B);
        assert_same_collection(f->c, before);
        g_assert_cmpuint(f->plan.result->job_id, ==, 99);

        g_assert_true(model_get_collection(f->m, ID_C) == f->c);
        g_assert_cmpuint(f->m->systems.n, ==, n_systems);
        g_assert_cmpuint(f->m->access_points.n, ==, n_aps);
        g_assert_cmpuint(f->m->collections.n, ==, n_cols);
        g_assert_cmpuint(f->m->next_id, ==, next_id);
        collection_free(before);
}

static void test_plan_done_is_reusable(Fixture *f, gconstpointer data) {
        CollectionPlan p = COLLECTION_PLAN_INIT;
        MemberArgs a = args(LIST(P_L1), NONE, NULL_PATH);

        /* Done on an empty plan, and twice, is harmless. */
        collection_plan_done(&p);
        collection_plan_done(&p);
        g_assert_false(collection_plan_changes_membership(&p));

        g_assert_cmpint(collection_plan_add(f->m, f->c, &a, false, &p, &f->err), ==, 0);
        g_assert_true(collection_plan_changes_membership(&p));
        collection_plan_done(&p);
        g_assert_null(p.result);
        g_assert_false(collection_plan_changes_membership(&p));
        collection_plan_done(&p);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);

#define ADD(path, fn) g_test_add(path, Fixture, NULL, setup, fn, teardown)
        ADD("/collection-plan/remove/all-null", test_remove_all_null);
        ADD("/collection-plan/remove/exact-sets", test_remove_exact_sets);
        ADD("/collection-plan/remove/system-takes-its-access-points", test_remove_system_takes_its_access_points);
        ADD("/collection-plan/remove/rules", test_remove_rules);
        ADD("/collection-plan/remove/non-member", test_remove_non_member);
        ADD("/collection-plan/remove/delete-on-unassociated", test_remove_delete_on_unassociated);
        ADD("/collection-plan/remove/no-op-keeps-empty-collection", test_remove_no_op_keeps_empty_collection);
        ADD("/collection-plan/plan/never-modifies-model", test_plan_never_modifies_model);
        ADD("/collection-plan/plan/done-is-reusable", test_plan_done_is_reusable);
#undef ADD

        return g_test_run();
}
