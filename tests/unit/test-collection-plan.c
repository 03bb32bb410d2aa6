/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/collection-plan: the membership rules of Create/AddTo/RemoveFrom
 * (API.md section 3) against a model built by hand, so every rule is checked
 * without a store, a loop or a bus.
 *
 * The model of every test: this host with local access points L1..L3, peer A
 * with remote access points A1 and A2, peer B with B1, and collections C
 * (empty) and D (DeleteOnUnassociated, empty). Ids are spread out so that
 * the kinds cannot be confused by accident.
 */

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "core/collection-plan.h"
#include "util/strutil.h"

enum {
        ID_L1 = 1,
        ID_L2 = 2,
        ID_L3 = 3,
        ID_A = 10,
        ID_B = 11,
        ID_A1 = 20,
        ID_A2 = 21,
        ID_B1 = 30,
        ID_C = 40,
        ID_D = 41,
        ID_SECRET = 50,
        ID_JOB = 60,
};

#define AP(n) SERVICE_ROOT_PATH "/access_point/" #n
#define SYS(n) SERVICE_ROOT_PATH "/system/" #n
#define COL(n) SERVICE_ROOT_PATH "/collection/" #n

#define P_L1 AP(1)
#define P_L2 AP(2)
#define P_L3 AP(3)
#define P_A SYS(10)
#define P_B SYS(11)
#define P_A1 AP(20)
#define P_A2 AP(21)
#define P_B1 AP(30)
#define P_C COL(40)
#define P_D COL(41)

typedef struct Fixture {
        Model *m;
        Collection *c;          /* owned by the model */
        Collection *d;          /* owned by the model, DeleteOnUnassociated */
        CollectionPlan plan;
        ReplError err;
} Fixture;

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

static void hold(IdSet *s, uint64_t id) {
        g_assert_cmpint(idset_add(s, id), >=, 0);
}

static void setup(Fixture *f, gconstpointer data) {
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

static void teardown(Fixture *f, gconstpointer data) {
        collection_plan_done(&f->plan);
        model_free(f->m);
}

/* ---- assertions ---- */

static void assert_ids(const IdSet *s, const uint64_t *expected, size_t n) {
        g_assert_cmpuint(s->n, ==, n);
        for (size_t i = 0; i < n; i++)
                g_assert_cmpuint(s->ids[i], ==, expected[i]);
}

#define ASSERT_IDS(set, ...)                                                             \
        do {                                                                             \
                const uint64_t _expected_[] = { __VA_ARGS__ };                           \
                assert_ids((set), _expected_, ELEMENTSOF(_expected_));                   \
        } while (0)

#define ASSERT_NO_IDS(set) g_assert_cmpuint((set)->n, ==, 0)

static void assert_sorted(const IdSet *s) {
        for (size_t i = 1; i < s->n; i++)
                g_assert_cmpuint(s->ids[i - 1], <, s->ids[i]);
}

static void assert_plan_sorted(const CollectionPlan *p) {
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

static void assert_same_collection(const Collection *a, const Collection *b) {
        g_assert_cmpuint(a->id, ==, b->id);
        g_assert_cmpstr(a->element_name, ==, b->element_name);
        g_assert_cmpint(a->active, ==, b->active);
        g_assert_cmpint(a->delete_on_unassociated, ==, b->delete_on_unassociated);
        g_assert_cmpuint(a->job_id, ==, b->job_id);
        g_assert_true(idset_equal(&a->local_access_points, &b->local_access_points));
        g_assert_true(idset_equal(&a->remote_access_points, &b->remote_access_points));
        g_assert_true(idset_equal(&a->remote_systems, &b->remote_systems));
}

/* A failure is -EINVAL with one sentence that names the argument, and no plan. */
static void assert_invalid(Fixture *f, int r, const char *arg) {
        g_assert_cmpint(r, ==, -EINVAL);
        g_assert_cmpint(f->err.error, ==, -EINVAL);
        if (!strstr(f->err.message, arg))
                g_error("message \"%s\" does not name %s", f->err.message, arg);
        g_assert_null(f->plan.result);
        g_assert_false(collection_plan_changes_membership(&f->plan));
        repl_error_clear(&f->err);
}

/* ---- calling the planner ---- */

static MemberArgs args(const char * const *locals, size_t n_local, const char * const *remotes, size_t n_remote,
                       const char *system) {
        return (MemberArgs) {
                .local_paths = locals,
                .n_local = n_local,
                .remote_paths = remotes,
                .n_remote = n_remote,
                .system_path = system,
        };
}

#define LIST(...) ((const char * const[]) { __VA_ARGS__ }), ELEMENTSOF(((const char * const[]) { __VA_ARGS__ }))
#define NONE NULL, 0

static int plan_add(Fixture *f, const Collection *c, MemberArgs a, bool create) {
        collection_plan_done(&f->plan);
        return collection_plan_add(f->m, c, &a, create, &f->plan, &f->err);
}

static int plan_remove(Fixture *f, const Collection *c, MemberArgs a) {
        collection_plan_done(&f->plan);
        return collection_plan_remove(f->m, c, &a, &f->plan, &f->err);
}

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
