/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * What a caller polkit does not authorize gets, against the real polkitd:
 * every mutating call refused with the error that says why (a challenge the
 * caller did not allow, no agent to answer one, a rule's plain no, no
 * polkit at all), nothing changed, and every read still answered. The
 * fixture: polkit-fixture.h.
 */

#include "polkit-fixture.h"

#include <string.h>

/* Refusals without polkit must not wait for anything; this bounds a whole client process run. */
#define REFUSED_AT_ONCE_USEC G_USEC_PER_SEC

/*
 * Makes every call as nobody, with the allow-interactive-authorization flag
 * or without, each refused with error_name; returns the slowest refusal's
 * time, client process included.
 */
static gint64 assert_nobody_refused(Fixture *f, GPtrArray *calls, gboolean interactive, const char *error_name) {
        gint64 slowest = 0;

        for (guint i = 0; i < calls->len; i++) {
                const Call *c = calls->pdata[i];
                g_auto(CallResult) r = { 0 };

                call_service_as(f, NOBODY_UID, NOBODY_GID, interactive, c->path, c->interface, c->method, c->params,
                                &r);
                assert_refused(c, &r, error_name);
                slowest = MAX(slowest, r.elapsed_usec);
        }
        return slowest;
}

static void test_unprivileged_refused(Fixture *f, gconstpointer data) {
        SKIP_UNLESS_READY(f);
        g_auto(Seeds) s = { 0 };

        polkitd_start(f);
        seed(f, &s);
        g_autoptr(GPtrArray) calls = mutating_calls(&s);
        g_autofree char *before = harness_snapshot(&f->h);

        /* polkit would ask for a password, but the caller did not allow it to. */
        assert_nobody_refused(f, calls, FALSE, ERROR_INTERACTIVE);
        /* Allowed to ask, but there is no agent to ask with. */
        assert_nobody_refused(f, calls, TRUE, IRD_ERROR_ACCESS_DENIED);

        /* A job property is not polkit's to decide (a setter cannot wait): only root and the starter. */
        g_auto(CallResult) set = { 0 };
        call_service_as(f, NOBODY_UID, NOBODY_GID, TRUE, s.job, "org.freedesktop.DBus.Properties", "Set",
                        g_variant_new("(ssv)", IRD_IFACE_JOB, "DeleteOnCompletion", g_variant_new_boolean(TRUE)),
                        &set);
        g_assert_false(set.ok);
        g_assert_cmpstr(set.error_name, ==, IRD_ERROR_ACCESS_DENIED);

        g_autofree char *after = harness_snapshot(&f->h);
        g_assert_cmpstr(after, ==, before);
        g_assert_cmpuint(harness_get_uint16(&f->h, s.job, IRD_IFACE_JOB, "JobState"), ==, IRD_JOB_RUNNING);
}

static void test_unprivileged_reads(Fixture *f, gconstpointer data) {
        SKIP_UNLESS_READY(f);
        g_auto(Seeds) s = { 0 };

        polkitd_start(f);
        seed(f, &s);
        g_autofree char *before = harness_snapshot(&f->h);

        struct {
                const char *path, *interface, *method;
                GVariant *params;
                const char *expect;     /* a path the answer must contain */
        } reads[] = {
                { IRD_ROOT, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", NULL, s.collection },
                { IRD_ROOT, IRD_IFACE_SERVICE, "GetPeerSystems", g_variant_new("(q)", 0), s.spare_peer },
                { IRD_ROOT, IRD_IFACE_SERVICE, "GetServiceAccessPoints", g_variant_new("(o)", s.peer), s.probe_ap },
                { IRD_ROOT, "org.freedesktop.DBus.Properties", "Get",
                  g_variant_new("(ss)", IRD_IFACE_SERVICE, "LocalSystem"), IRD_LOCAL_SYSTEM },
                { s.collection, "org.freedesktop.DBus.Properties", "GetAll", g_variant_new("(s)", IRD_IFACE_COLLECTION),
                  "'c1'" },
                { s.remote_ap, "org.freedesktop.DBus.Properties", "Get", g_variant_new("(ss)", IRD_IFACE_AP, "SharedSecret"),
                  s.secret },
                { s.job, "org.freedesktop.DBus.Properties", "GetAll", g_variant_new("(s)", IRD_IFACE_JOB), s.probe_ap },
                { s.job, IRD_IFACE_JOB, "GetError", NULL, "{}" },
        };
        for (size_t i = 0; i < G_N_ELEMENTS(reads); i++) {
                g_auto(CallResult) r = { 0 };

                /* With the flag too: reading never involves polkit, so there is nothing to ask. */
                call_service_as(f, NOBODY_UID, NOBODY_GID, TRUE, reads[i].path, reads[i].interface, reads[i].method,
                                reads[i].params, &r);
                if (!r.ok)
                        g_error("nobody: %s.%s on %s failed: %s", reads[i].interface, reads[i].method, reads[i].path,
                                r.output);
                g_assert_nonnull(strstr(r.output, reads[i].expect));
        }

        g_autofree char *after = harness_snapshot(&f->h);
        g_assert_cmpstr(after, ==, before);
}

static void test_rule_says_no(Fixture *f, gconstpointer data) {
        SKIP_UNLESS_READY(f);
        g_auto(Seeds) s = { 0 };

        write_rules(f,
                    "polkit.addRule(function(action, subject) {\n"
                    "        if (action.id.indexOf(\"" ACTION_PREFIX "\") == 0)\n"
                    "                return polkit.Result.NO;\n"
                    "});\n");
        polkitd_start(f);
        seed(f, &s);
        g_autoptr(GPtrArray) calls = mutating_calls(&s);
        g_autofree char *before = harness_snapshot(&f->h);

        /* A plain no is no challenge: AccessDenied, whether or not the caller allowed interaction. */
        assert_nobody_refused(f, calls, FALSE, IRD_ERROR_ACCESS_DENIED);

        g_autofree char *after = harness_snapshot(&f->h);
        g_assert_cmpstr(after, ==, before);
}

static void test_polkit_absent(Fixture *f, gconstpointer data) {
        SKIP_UNLESS_READY(f);
        g_auto(Seeds) s = { 0 };

        /* polkit was there and went away: nothing may be cached from when it ran. */
        polkitd_start(f);
        polkitd_stop(f);

        seed(f, &s);
        g_autoptr(GPtrArray) calls = mutating_calls(&s);
        g_autofree char *before = harness_snapshot(&f->h);

        gint64 slowest = assert_nobody_refused(f, calls, FALSE, IRD_ERROR_ACCESS_DENIED);
        slowest = MAX(slowest, assert_nobody_refused(f, calls, TRUE, IRD_ERROR_ACCESS_DENIED));
        g_test_message("slowest refusal without polkit, client process included: %" G_GINT64_FORMAT " ms",
                       slowest / 1000);
        g_assert_cmpint(slowest, <, REFUSED_AT_ONCE_USEC);

        g_autofree char *after = harness_snapshot(&f->h);
        g_assert_cmpstr(after, ==, before);

        run_permitted(f, 0, 0, calls);
        assert_sequence_done(f, &s);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);

        polkit_add_test("/polkit/unprivileged/refused", &with_daemon, test_unprivileged_refused);
        polkit_add_test("/polkit/unprivileged/reads", &with_daemon, test_unprivileged_reads);
        polkit_add_test("/polkit/rules/no-is-access-denied", &with_daemon, test_rule_says_no);
        polkit_add_test("/polkit/absent/refused-at-once", &with_daemon, test_polkit_absent);

        return polkit_tests_run();
}
