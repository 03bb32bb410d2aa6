/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * What polkit grants, against the real polkitd: a rule for a group lets its
 * members make every mutating call; whoever started a job controls it
 * without asking again; a daemon running as the service's user, as
 * installed, may still ask polkit about its callers; and the actions
 * polkitd reads from the shipped .policy are the contract's. The fixture:
 * polkit-fixture.h.
 */

#include "polkit-fixture.h"

#include <pwd.h>
#include <string.h>
#include <unistd.h>

static void test_group_rule_grants(Fixture *f, gconstpointer data) {
        SKIP_UNLESS_READY(f);
        g_auto(Seeds) s = { 0 };

        polkitd_start(f);
        seed(f, &s);
        g_autoptr(GPtrArray) calls = mutating_calls(&s);

        /* Without the rule the first call is refused… */
        const Call *first = calls->pdata[0];
        g_auto(CallResult) refused = { 0 };
        call_service_as(f, NOBODY_UID, NOBODY_GID, FALSE, first->path, first->interface, first->method,
                        first->params, &refused);
        assert_refused(first, &refused, ERROR_INTERACTIVE);

        /* nobody's own group, granted only our actions, and only for this test. */
        grant_to_nobody_group(f, NULL);
        polkitd_restart(f);

        /* …and with it every call succeeds, without any authentication. */
        run_permitted(f, NOBODY_UID, NOBODY_GID, calls);
        assert_sequence_done(f, &s);
        g_autofree char *log = harness_read_log(&f->h);
        g_assert_nonnull(strstr(log, "uid=65534"));
}

/* nobody starts a job that keeps running (a probe of the black hole); returns the job. */
static char *start_job_as_nobody(Fixture *f, const Seeds *s) {
        g_autoptr(GError) error = NULL;
        g_auto(CallResult) started = { 0 };

        call_service_as(f, NOBODY_UID, NOBODY_GID, FALSE, s->probe_ap, IRD_IFACE_AP, "Verify", NULL, &started);
        if (!started.ok)
                g_error("nobody could not start a job with manage-peers granted: %s", started.output);
        g_autoptr(GVariant) reply = g_variant_parse(G_VARIANT_TYPE("(uo)"), started.output, NULL, NULL, &error);
        g_assert_no_error(error);
        char *job = NULL;
        guint32 rv;
        g_variant_get(reply, "(uo)", &rv, &job);
        g_assert_cmpuint(rv, ==, 4096);
        harness_wait_job_running(&f->h, job);
        g_autoptr(GVariant) starter = harness_get_property(&f->h, job, IRD_IFACE_JOB, "StartedByUID");
        g_assert_cmpuint(g_variant_get_uint32(starter), ==, NOBODY_UID);
        return job;
}

/*
 * Whoever started a job controls it without asking polkit again; anyone else
 * needs manage-jobs. The rule grants nobody's group manage-peers only, so a
 * job control call that reached polkit would be challenged.
 */
static void test_job_starter(Fixture *f, gconstpointer data) {
        SKIP_UNLESS_READY(f);
        g_auto(Seeds) s = { 0 };
        Harness *h = &f->h;
        uid_t other_uid;
        gid_t other_gid;

        other_user(&other_uid, &other_gid);
        grant_to_nobody_group(f, ACTION_PEERS);
        polkitd_start(f);
        seed(f, &s);
        g_autofree char *job = start_job_as_nobody(f, &s);

        /* Another user is asked about through polkit, which wants a password for manage-jobs. */
        const char *const methods[] = { "RequestStateChange", "Delete" };
        for (size_t i = 0; i < G_N_ELEMENTS(methods); i++) {
                g_auto(CallResult) other = { 0 };
                Call c = { .path = job, .interface = IRD_IFACE_JOB, .method = methods[i], .action = ACTION_JOBS };

                call_service_as(f, other_uid, other_gid, FALSE, job, IRD_IFACE_JOB, methods[i],
                                i == 0 ? g_variant_new("(qt)", 3, G_GUINT64_CONSTANT(0)) : NULL, &other);
                assert_refused(&c, &other, ERROR_INTERACTIVE);
        }
        g_assert_cmpuint(harness_get_uint16(h, job, IRD_IFACE_JOB, "JobState"), ==, IRD_JOB_RUNNING);

        /* The starter suspends, resumes and ends it, and deletes it, with no rule for manage-jobs. */
        const guint16 states[] = { 3, 2, 4 };
        for (size_t i = 0; i < G_N_ELEMENTS(states); i++) {
                g_auto(CallResult) own = { 0 };

                call_service_as(f, NOBODY_UID, NOBODY_GID, FALSE, job, IRD_IFACE_JOB, "RequestStateChange",
                                g_variant_new("(qt)", states[i], G_GUINT64_CONSTANT(0)), &own);
                if (!own.ok)
                        g_error("the job's starter could not request state %u: %s", states[i], own.output);
        }
        g_autoptr(GVariant) completed = harness_wait_job_completed(h, job);
        g_assert_cmpuint(harness_get_uint16(h, job, IRD_IFACE_JOB, "JobState"), ==, IRD_JOB_TERMINATED);
        g_auto(CallResult) deleted = { 0 };
        call_service_as(f, NOBODY_UID, NOBODY_GID, FALSE, job, IRD_IFACE_JOB, "Delete", NULL, &deleted);
        if (!deleted.ok)
                g_error("the job's starter could not delete it: %s", deleted.output);
        g_auto(GStrv) paths = harness_object_paths(h);
        g_assert_false(g_strv_contains((const char *const *) paths, job));
}

/*
 * As installed, the daemon is not root: polkit answers a caller that asks
 * about someone else only when it is root or the action's owner, which the
 * policy's org.freedesktop.policykit.owner annotation makes the service user.
 */
static void test_service_user(Fixture *f, gconstpointer data) {
        SKIP_UNLESS_READY(f);
        Harness *h = &f->h;
        uid_t other_uid;
        gid_t other_gid;

        struct passwd *pw = getpwnam(SERVICE_USER);
        g_assert_nonnull(pw);
        uid_t service_uid = pw->pw_uid;
        gid_t service_gid = pw->pw_gid;
        other_user(&other_uid, &other_gid);
        grant_to_nobody_group(f, NULL);
        polkitd_start(f);

        /* StateDirectory= hands the unit's user its directory; here the test does. */
        g_assert_cmpint(chown(h->state_directory, service_uid, service_gid), ==, 0);
        harness_start_daemon_as(h, service_uid, service_gid);

        /* The bus policy let that user own the name. */
        g_autoptr(GVariant) owner_uid = bus_driver_call(f, "GetConnectionUnixUser",
                                                        g_variant_new("(s)", h->daemon_owner), "(u)");
        guint32 uid;
        g_variant_get(owner_uid, "(u)", &uid);
        g_assert_cmpuint(uid, ==, service_uid);

        /* Granted by the rule: polkit answered the service about another user. */
        g_auto(CallResult) granted = { 0 };
        call_service_as(f, NOBODY_UID, NOBODY_GID, FALSE, IRD_ROOT, IRD_IFACE_SERVICE, "AddPeerSystem",
                        g_variant_new("(sa{sv})", "iqn.2026-11.org.example:by-nobody", NULL),
                        &granted);
        if (!granted.ok)
                g_error("a granted caller was refused by a daemon running as %s: %s", SERVICE_USER, granted.output);

        /* Not granted: polkit's own default, a challenge, not a failure to ask. */
        g_auto(CallResult) challenged = { 0 };
        call_service_as(f, other_uid, other_gid, FALSE, IRD_ROOT, IRD_IFACE_SERVICE, "AddPeerSystem",
                        g_variant_new("(sa{sv})", "iqn.2026-11.org.example:by-daemon", NULL),
                        &challenged);
        g_assert_false(challenged.ok);
        g_assert_cmpstr(challenged.error_name, ==, ERROR_INTERACTIVE);

        /* root needs no polkit, whoever the daemon runs as. */
        g_autofree char *peer = harness_add_peer(h, "iqn.2026-11.org.example:by-root", NULL);
        g_assert_nonnull(peer);
}

/* PolkitImplicitAuthorization: what <allow_*> says in the .policy. */
enum {
        IMPLICIT_AUTH_ADMIN = 2,
        IMPLICIT_AUTH_ADMIN_KEEP = 4,
};

/* API.md sections 9 and 10: every action with its defaults (any / inactive / active), and no other. */
static void test_actions_as_documented(Fixture *f, gconstpointer data) {
        static const struct {
                const char *id;
                guint32 any, inactive, active;
        } expected[] = {
                { ACTION_COLLECTIONS, IMPLICIT_AUTH_ADMIN, IMPLICIT_AUTH_ADMIN, IMPLICIT_AUTH_ADMIN_KEEP },
                { ACTION_PEERS, IMPLICIT_AUTH_ADMIN, IMPLICIT_AUTH_ADMIN, IMPLICIT_AUTH_ADMIN_KEEP },
                { ACTION_SECRETS, IMPLICIT_AUTH_ADMIN, IMPLICIT_AUTH_ADMIN, IMPLICIT_AUTH_ADMIN },
                { ACTION_JOBS, IMPLICIT_AUTH_ADMIN, IMPLICIT_AUTH_ADMIN, IMPLICIT_AUTH_ADMIN_KEEP },
                { ACTION_REPLICAS, IMPLICIT_AUTH_ADMIN, IMPLICIT_AUTH_ADMIN, IMPLICIT_AUTH_ADMIN_KEEP },
        };
        SKIP_UNLESS_READY(f);
        g_autoptr(GError) error = NULL;
        guint found = 0;

        polkitd_start(f);
        g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
                f->h.connection, POLKIT_NAME, "/org/freedesktop/PolicyKit1/Authority",
                "org.freedesktop.PolicyKit1.Authority", "EnumerateActions", g_variant_new("(s)", "C"),
                G_VARIANT_TYPE("(a(ssssssuuua{ss}))"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
        g_assert_no_error(error);

        g_autoptr(GVariantIter) actions = NULL;
        g_variant_get(reply, "(a(ssssssuuua{ss}))", &actions);
        const char *id, *description, *message, *vendor, *vendor_url, *icon;
        guint32 any, inactive, active;
        GVariantIter *annotations;
        while (g_variant_iter_next(actions, "(&s&s&s&s&s&suuua{ss})", &id, &description, &message, &vendor,
                                   &vendor_url, &icon, &any, &inactive, &active, &annotations)) {
                g_autoptr(GVariantIter) owned_annotations = annotations;
                const char *key, *value, *owner = NULL;
                gsize i;

                if (!g_str_has_prefix(id, ACTION_PREFIX))
                        continue;
                for (i = 0; i < G_N_ELEMENTS(expected); i++)
                        if (g_str_equal(expected[i].id, id))
                                break;
                if (i == G_N_ELEMENTS(expected))
                        g_error("the policy has action %s, which the contract does not name", id);
                found++;
                if (any != expected[i].any || inactive != expected[i].inactive || active != expected[i].active)
                        g_error("%s: defaults %u/%u/%u, contract says %u/%u/%u", id, any, inactive, active,
                                expected[i].any, expected[i].inactive, expected[i].active);
                g_assert_cmpstr(vendor, ==, "iscsi-replicationd");
                /* What an authentication dialog shows: one sentence that names the matter. */
                g_assert_cmpuint(strlen(description), >, 10);
                g_assert_true(g_str_has_prefix(message, "Authentication is required to "));
                while (g_variant_iter_next(owned_annotations, "{&s&s}", &key, &value))
                        if (g_str_equal(key, "org.freedesktop.policykit.owner"))
                                owner = value;
                g_assert_cmpstr(owner, ==, "unix-user:" SERVICE_USER);
        }
        g_assert_cmpuint(found, ==, G_N_ELEMENTS(expected));
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);

        polkit_add_test("/polkit/rules/group-granted", &with_daemon, test_group_rule_grants);
        polkit_add_test("/polkit/jobs/starter-needs-no-authorization", &with_daemon, test_job_starter);
        polkit_add_test("/polkit/service-user/asks-for-others", &bus_only, test_service_user);
        polkit_add_test("/polkit/actions/as-documented", &bus_only, test_actions_as_documented);

        return polkit_tests_run();
}
