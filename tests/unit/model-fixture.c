/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The model tests' objects (model-fixture.h). */

#include <glib.h>

#include "model-fixture.h"
#include "util/strutil.h"

System *new_system(uint64_t id, const char *name) {
        System *s = system_new();

        g_assert_nonnull(s);
        s->id = id;
        g_assert_cmpint(free_and_strdup(&s->name, name), ==, 0);
        return s;
}

AccessPoint *new_access_point(uint64_t id, uint64_t system_id) {
        AccessPoint *a = access_point_new();

        g_assert_nonnull(a);
        a->id = id;
        a->system_id = system_id;
        return a;
}

Collection *new_collection(uint64_t id) {
        Collection *c = collection_new();

        g_assert_nonnull(c);
        c->id = id;
        return c;
}

Job *new_job(uint64_t id, JobState state, uint32_t uid) {
        Job *j = job_new();

        g_assert_nonnull(j);
        j->id = id;
        j->state = state;
        j->started_by_uid = uid;
        return j;
}

void assert_idset(const IdSet *s, const uint64_t *expected, size_t n) {
        g_assert_cmpuint(s->n, ==, n);
        for (size_t i = 0; i < n; i++)
                g_assert_cmpuint(s->ids[i], ==, expected[i]);
}
