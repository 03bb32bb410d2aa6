/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The collection-plan tests' model and assertions (collection-plan-fixture.h). */

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "collection-plan-fixture.h"

/* ---- building the model ---- */

static void add_system(Model *m, uint64_t id, const char *name) {
        System *s = system_new();

        g_assert_nonnull(s);
        s->id = id;
        g_assert_cmpint(free_and_strdup(&s->name, name), ==, 0);
        g_assert_cmpint(model_add_system(m, s), ==, 0);
}

static void add_access_point(Model *m, uint64_t id, uint64_t system_id, const char *address) {
        AccessPoint *a = access_point_new();

        g_assert_nonnull(a);
        a->id = id;
        a->system_id = system_id;
        g_assert_cmpint(free_and_strdup(&a->address, address), ==, 0);
        g_assert_cmpint(model_add_access_point(m, a), ==, 0);
}

static Collection *add_collection(Model *m, uint64_t id, bool delete_on_unassociated) {
        Collection *c = collection_new();

        g_assert_nonnull(c);
        c->id = id;
        c->active = true;
        c->delete_on_unassociated = delete_on_unassociated;
        g_assert_cmpint(free_and_strdup(&c->element_name, "c"), ==, 0);
        g_assert_cmpint(model_add_collection(m, c), ==, 0);
        return c;
}

void hold(IdSet *s, uint64_t id) {
        g_assert_cmpint(idset_add(s, id), >=, 0);
}

void setup(Fixture *f, gconstpointer data) {
        SharedSecret *secret;
        Job *j;

        f->m = model_new("iqn.2024-01.org.example:host");
        g_assert_nonnull(f->m);

        add_access_point(f->m, ID_L1, LOCAL_SYSTEM_ID, "127.0.0.1");
        add_access_point(f->m, ID_L2, LOCAL_SYSTEM_ID, "127.0.0.2");
        add_access_point(f->m, ID_L3, LOCAL_SYSTEM_ID, "127.0.0.3");
        add_system(f->m, ID_A, "iqn.2024-01.org.example:a");
        add_system(f->m, ID_B, "iqn.2024-01.org.example:b");
        add_access_point(f->m, ID_A1, ID_A, "192.0.2.10");
        add_access_point(f->m, ID_A2, ID_A, "192.0.2.11");
        add_access_point(f->m, ID_B1, ID_B, "192.0.2.20");
        f->c = add_collection(f->m, ID_C, false);
        f->d = add_collection(f->m, ID_D, true);

        /* Objects of the other kinds, so that "wrong kind" has something real to name. */
        secret = secret_new();
        g_assert_nonnull(secret);
        secret->id = ID_SECRET;
        g_assert_cmpint(model_add_secret(f->m, secret), ==, 0);
        j = job_new();
        g_assert_nonnull(j);
        j->id = ID_JOB;
        g_assert_cmpint(model_add_job(f->m, j), ==, 0);

        f->plan = COLLECTION_PLAN_INIT;
        f->err = REPL_ERROR_INIT;
}

void teardown(Fixture *f, gconstpointer data) {
        collection_plan_done(&f->plan);
        model_free(f->m);
}

/* ---- assertions ---- */

void assert_ids(const IdSet *s, const uint64_t *expected, size_t n) {
        g_assert_cmpuint(s->n, ==, n);
        for (size_t i = 0; i < n; i++)
                g_assert_cmpuint(s->ids[i], ==, expected[i]);
}

static void assert_sorted(const IdSet *s) {
        for (size_t i = 1; i < s->n; i++)
                g_assert_cmpuint(s->ids[i - 1], <, s->ids[i]);
}

void assert_plan_sorted(const CollectionPlan *p) {
        assert_sorted(&p->result->local_access_points);
        assert_sorted(&p->result->remote_access_points);
        assert_sorted(&p->result->remote_systems);
        assert_sorted(&p->added_local);
        assert_sorted(&p->added_remote);
        assert_sorted(&p->added_systems);
        assert_sorted(&p->removed_local);
        assert_sorted(&p->removed_remote);
        assert_sorted(&p->removed_systems);
}

void assert_same_collection(const Collection *a, const Collection *b) {
        g_assert_cmpuint(a->id, ==, b->id);
        g_assert_cmpstr(a->element_name, ==, b->element_name);
        g_assert_cmpint(a->active, ==, b->active);
        g_assert_cmpint(a->delete_on_unassociated, ==, b->delete_on_unassociated);
        g_assert_cmpuint(a->job_id, ==, b->job_id);
        g_assert_true(idset_equal(&a->local_access_points, &b->local_access_points));
        g_assert_true(idset_equal(&a->remote_access_points, &b->remote_access_points));
        g_assert_true(idset_equal(&a->remote_systems, &b->remote_systems));
}

void assert_invalid(Fixture *f, int r, const char *arg) {
        g_assert_cmpint(r, ==, -EINVAL);
        g_assert_cmpint(f->err.error, ==, -EINVAL);
        if (!strstr(f->err.message, arg))
                g_error("message \"%s\" does not name %s", f->err.message, arg);
        g_assert_null(f->plan.result);
        g_assert_false(collection_plan_changes_membership(&f->plan));
        repl_error_clear(&f->err);
}

/* ---- calling the planner ---- */

MemberArgs args(const char * const *locals, size_t n_local, const char * const *remotes, size_t n_remote,
                const char *system) {
        return (MemberArgs) {
                .local_paths = locals,
                .n_local = n_local,
                .remote_paths = remotes,
                .n_remote = n_remote,
                .system_path = system,
        };
}
int plan_add(Fixture *f, const Collection *c, MemberArgs a, bool create) {
        collection_plan_done(&f->plan);
        return collection_plan_add(f->m, c, &a, create, &f->plan, &f->err);
}

int plan_remove(Fixture *f, const Collection *c, MemberArgs a) {
        collection_plan_done(&f->plan);
        return collection_plan_remove(f->m, c, &a, &f->plan, &f->err);
}
