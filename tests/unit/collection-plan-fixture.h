/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What the tests of core/collection-plan (test-collection-plan-*.c) share:
 * the membership rules of Create/AddTo/RemoveFrom (API.md section 3) are
 * checked against a model built by hand, without a store, a loop or a bus.
 *
 * The model of every test: this host with local access points L1..L3, peer A
 * with remote access points A1 and A2, peer B with B1, and collections C
 * (empty) and D (DeleteOnUnassociated, empty). Ids are spread out so that
 * the kinds cannot be confused by accident.
 */

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

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

/* The model of every test, and no plan yet. */
void setup(Fixture *f, gconstpointer data);
void teardown(Fixture *f, gconstpointer data);
/* Adds id to a member set. */
void hold(IdSet *s, uint64_t id);

void assert_ids(const IdSet *s, const uint64_t *expected, size_t n);
#define ASSERT_IDS(set, ...)                                                             \
        do {                                                                             \
                const uint64_t _expected_[] = { __VA_ARGS__ };                           \
                assert_ids((set), _expected_, ELEMENTSOF(_expected_));                   \
        } while (0)

#define ASSERT_NO_IDS(set) g_assert_cmpuint((set)->n, ==, 0)

/* Every set of the plan is sorted. */
void assert_plan_sorted(const CollectionPlan *p);
void assert_same_collection(const Collection *a, const Collection *b);
/* A failure is -EINVAL with one sentence that names the argument, and no plan. */
void assert_invalid(Fixture *f, int r, const char *arg);

MemberArgs args(const char * const *locals, size_t n_local, const char * const *remotes, size_t n_remote,
                const char *system);

#define LIST(...) ((const char * const[]) { __VA_ARGS__ }), ELEMENTSOF(((const char * const[]) { __VA_ARGS__ }))
#define NONE NULL, 0

/* The plan of an AddTo (or a Create) on c, into f->plan and f->err. */
int plan_add(Fixture *f, const Collection *c, MemberArgs a, bool create);
int plan_remove(Fixture *f, const Collection *c, MemberArgs a);
