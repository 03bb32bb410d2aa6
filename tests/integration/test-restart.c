/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Persistence across restarts (API.md sections 1 and 6): the state a client
 * saw is the state it sees after the daemon comes back, whether it was
 * stopped or killed; ids are never reused; a job that was running when the
 * daemon went away is reported as interrupted and left nothing behind.
 */

#include <string.h>

#include "harness-calls.h"
#include "harness.h"

static const char *const no_verify_args[] = { "--verify-access-points=no", NULL };
static const HarnessConfig no_verify = { .daemon_args = no_verify_args };
static const char *const slow_args[] = { "--probe-timeout=60", NULL };
static const HarnessConfig slow = { .daemon_args = slow_args };
static const char *const quick_args[] = { "--probe-timeout=0.5", NULL };
static const HarnessConfig quick = { .daemon_args = quick_args };

static guint64 path_id(const char *path) {
        const char *slash = strrchr(path, '/');
        g_assert_nonnull(slash);
        guint64 id = 0;
        g_assert_true(g_ascii_string_to_unsigned(slash + 1, 10, 1, G_MAXUINT64, &id, NULL));
        return id;
}

/* The largest id among GetManagedObjects paths below prefix (0 when none). */
static guint64 max_id(Harness *h, const char *prefix) {
        g_auto(GStrv) paths = harness_object_paths(h);
        guint64 max = 0;
        for (size_t i = 0; paths[i]; i++)
                if (g_str_has_prefix(paths[i], prefix) && !g_str_equal(paths[i], IRD_LOCAL_SYSTEM))
                        max = MAX(max, path_id(paths[i]));
        return max;
}

/* Builds a varied state: peers, portals, a secret, collections with members and flags. */
static void populate(Harness *h) {
        g_autofree char *l1 = harness_add_access_point(h, IRD_LOCAL_SYSTEM, "127.0.0.1", 3260, NULL);
        g_autofree char *l2 = harness_add_access_point(h, IRD_LOCAL_SYSTEM, "127.0.0.3", 3261, NULL);
        g_autofree char *a = harness_add_peer(h, "iqn.2024-01.org.example:a", "Peer A");
        g_autofree char *b = harness_add_peer(h, "b.example.org", NULL);
        g_autofree char *a1 = harness_add_access_point(h, a, "127.0.0.10", 3260, "iqn.2024-01.org.example:a:t1");
        g_autofree char *a2 = harness_add_access_point(h, a, "::1", 3262, NULL);
        g_autofree char *b1 = harness_add_access_point(h, b, "storage.example.org", 0, NULL);
        g_autofree char *s = harness_add_secret(h, a1, "chap-user", "chap-secret-0123");
        g_autofree char *unbound = harness_add_secret(h, "/", "spare", "spare-secret-0123");
        const char *locals[] = { l1, l2, NULL };
        const char *remotes[] = { a1, a2, NULL };
        g_autofree char *c1 = harness_create_collection(h, "first", locals, remotes, a);
        g_autofree char *c2 = harness_create_collection(h, "", NULL, NULL, NULL);
        g_autoptr(GVariant) r = harness_call(
                h, c2, IRD_IFACE_COLLECTION, "Modify",
                g_variant_new_parsed("({'Active': <false>, 'DeleteOnUnassociated': <true>, 'ElementName': <'two'>},)"));
        const char *b_portals[] = { b1, NULL };
        g_assert_cmpuint(harness_add_to_collection(h, c2, NULL, b_portals, b, NULL), ==, 0);
}

static void test_state_survives_kill(Harness *h, gconstpointer data) {
        populate(h);
        g_autofree char *before = harness_snapshot(h);

        harness_kill_daemon(h);
        harness_start_daemon(h);
        g_autofree char *after_kill = harness_snapshot(h);
        g_assert_cmpstr(before, ==, after_kill);

        harness_stop_daemon(h);
        harness_start_daemon(h);
        g_autofree char *after_stop = harness_snapshot(h);
        g_assert_cmpstr(before, ==, after_stop);

        /* Associations came back as objects that work, not just as listed paths. */
        g_auto(GStrv) paths = harness_object_paths(h);
        for (size_t i = 0; paths[i]; i++)
                if (g_str_has_prefix(paths[i], IRD_ROOT "/system/") && !g_str_equal(paths[i], IRD_LOCAL_SYSTEM)) {
                        g_auto(GStrv) cols = harness_get_paths(h, paths[i], IRD_IFACE_SYSTEM, "Collections");
                        if (g_strv_length(cols) > 0) {
                                g_autofree char *m = harness_call_error(h, paths[i], IRD_IFACE_SYSTEM, "Delete",
                                                                        NULL, IRD_ERROR_IN_USE);
                        }
                }
}

static void test_ids_never_reused(Harness *h, gconstpointer data) {
        static const char *const kinds[] = { "system", "access_point", "collection", "secret" };
        g_autofree char *peer = harness_add_peer(h, "peer.example.org", NULL);
        g_autofree char *ap = harness_add_access_point(h, peer, "127.0.0.2", 0, NULL);
        g_autofree char *secret = harness_add_secret(h, ap, "user", "0123456789abcdef");
        g_autofree char *collection = harness_create_collection(h, "c", NULL, NULL, NULL);
        guint64 seen[G_N_ELEMENTS(kinds)];
        seen[0] = path_id(peer);
        seen[1] = path_id(ap);
        seen[2] = path_id(collection);
        seen[3] = path_id(secret);

        /* Delete the newest of each kind: its id must stay used. */
        g_autoptr(GVariant) r1 = harness_call(h, collection, IRD_IFACE_COLLECTION, "Delete", NULL);
        g_autoptr(GVariant) r2 = harness_call(h, secret, IRD_IFACE_SECRET, "Delete", NULL);
        g_autoptr(GVariant) r3 = harness_call(h, ap, IRD_IFACE_AP, "Delete", NULL);
        g_autoptr(GVariant) r4 = harness_call(h, peer, IRD_IFACE_SYSTEM, "Delete", NULL);

        /* Within one run… */
        g_autofree char *c_again = harness_create_collection(h, "c", NULL, NULL, NULL);
        g_assert_cmpuint(path_id(c_again), >, seen[2]);
        seen[2] = path_id(c_again);
        g_autoptr(GVariant) r5 = harness_call(h, c_again, IRD_IFACE_COLLECTION, "Delete", NULL);
        g_assert_cmpuint(max_id(h, IRD_ROOT "/collection/"), ==, 0);

        /* …and across a crash and a clean restart. */
        for (int round = 0; round < 2; round++) {
                if (round == 0)
                        harness_kill_daemon(h);
                else
                        harness_stop_daemon(h);
                harness_start_daemon(h);

                g_autofree char *p = harness_add_peer(h, "peer.example.org", NULL);
                g_autofree char *a = harness_add_access_point(h, p, "127.0.0.2", 0, NULL);
                g_autofree char *s = harness_add_secret(h, a, "user", "0123456789abcdef");
                g_autofree char *c = harness_create_collection(h, "c", NULL, NULL, NULL);
                const char *fresh[] = { p, a, c, s };
                for (size_t k = 0; k < G_N_ELEMENTS(kinds); k++) {
                        g_test_message("%s: id %" G_GUINT64_FORMAT " after %" G_GUINT64_FORMAT, kinds[k],
                                       path_id(fresh[k]), seen[k]);
                        g_assert_cmpuint(path_id(fresh[k]), >, seen[k]);
                        seen[k] = path_id(fresh[k]);
                }
                g_autoptr(GVariant) d1 = harness_call(h, c, IRD_IFACE_COLLECTION, "Delete", NULL);
                g_autoptr(GVariant) d2 = harness_call(h, p, IRD_IFACE_SYSTEM, "Delete", NULL);
        }
}

/* ------------------------------------------------------------------------ */

/*
 * Ids come from one counter for every kind, so each kind must save it: here
 * each kind in turn is the newest object, is deleted (so no row remembers its
 * id), and the daemon goes away before anything else is created.
 */
typedef enum NewestKind {
        NEWEST_SYSTEM,
        NEWEST_ACCESS_POINT,
        NEWEST_SECRET,
        NEWEST_COLLECTION,
        NEWEST_JOB,
        _NEWEST_MAX,
} NewestKind;

static const char *const newest_names[_NEWEST_MAX] = { "system", "access point", "secret", "collection", "job" };

/* Creates an object of the kind (the newest object now) and deletes it again; returns its id. */
static guint64 create_and_delete(Harness *h, NewestKind kind, const char *peer, const char *ap) {
        g_autofree char *path = NULL;
        g_autoptr(GVariant) deleted = NULL;
        const char *iface = NULL;

        switch (kind) {
        case NEWEST_SYSTEM:
                path = harness_add_peer(h, "newest.example.org", NULL);
                iface = IRD_IFACE_SYSTEM;
                break;
        case NEWEST_ACCESS_POINT:
                path = harness_add_access_point(h, peer, "127.0.0.2", 3270, NULL);
                iface = IRD_IFACE_AP;
                break;
        case NEWEST_SECRET:
                path = harness_add_secret(h, "/", "user", "0123456789abcdef");
                iface = IRD_IFACE_SECRET;
                break;
        case NEWEST_COLLECTION:
                path = harness_create_collection(h, "newest", NULL, NULL, NULL);
                iface = IRD_IFACE_COLLECTION;
                break;
        case NEWEST_JOB: {
                g_autoptr(GVariant) reply = harness_call(h, ap, IRD_IFACE_AP, "Verify", NULL);
                g_autoptr(GVariant) done = NULL;

                g_variant_get(reply, "(uo)", NULL, &path);
                done = harness_wait_job_completed(h, path);
                iface = IRD_IFACE_JOB;
                break;
        }
        default:
                g_assert_not_reached();
        }
        deleted = harness_call(h, path, iface, "Delete", NULL);
        return path_id(path);
}

static void test_ids_never_reused_each_kind(Harness *h, gconstpointer data) {
        g_autoptr(HarnessPeer) refusing = harness_peer_new(HARNESS_PEER_REFUSING, "127.0.0.4", NULL);
        g_autofree char *peer = harness_add_peer(h, "peer.example.org", NULL);
        g_autofree char *ap = harness_add_access_point(h, peer, harness_peer_address(refusing),
                                                       harness_peer_port(refusing), NULL);

        for (NewestKind kind = 0; kind < _NEWEST_MAX; kind++) {
                guint64 newest = create_and_delete(h, kind, peer, ap);
                g_autofree char *next = NULL;

                g_assert_cmpuint(newest, ==, MAX(max_id(h, IRD_ROOT "/"), newest));
                if (kind % 2 == 0)
                        harness_kill_daemon(h);
                else
                        harness_stop_daemon(h);
                harness_start_daemon(h);
                next = harness_add_secret(h, "/", "probe", "0123456789abcdef");
                g_test_message("newest %s had id %" G_GUINT64_FORMAT "; next id after restart %" G_GUINT64_FORMAT,
                               newest_names[kind], newest, path_id(next));
                g_assert_cmpuint(path_id(next), >, newest);
                g_autoptr(GVariant) d = harness_call(h, next, IRD_IFACE_SECRET, "Delete", NULL);
        }
}

typedef struct Interrupted {
        HarnessPeer *hole;
        char *peer;
        char *remote;
        char *local;
        char *collection;
        char *collection_state;
} Interrupted;

/* Starts an AddTo job that hangs on a black-holed portal; returns the job. */
static char *start_hanging_job(Harness *h, Interrupted *t) {
        t->hole = harness_peer_new(HARNESS_PEER_BLACK_HOLE, "127.0.0.2", NULL);
        t->peer = harness_add_peer(h, "peer.example.org", NULL);
        t->remote = harness_add_access_point(h, t->peer, "127.0.0.2", harness_peer_port(t->hole), NULL);
        t->local = harness_add_access_point(h, IRD_LOCAL_SYSTEM, "127.0.0.1", 3260, NULL);
        const char *locals[] = { t->local, NULL };
        t->collection = harness_create_collection(h, "c", locals, NULL, NULL);
        t->collection_state = collection_state(h, t->collection);

        const char *remotes[] = { t->remote, NULL };
        char *job = NULL;
        g_assert_cmpuint(harness_add_to_collection(h, t->collection, NULL, remotes, t->peer, &job), ==, 4096);
        harness_wait_job_running(h, job);
        return job;
}

static void interrupted_clear(Interrupted *t) {
        harness_peer_free(t->hole);
        g_free(t->peer);
        g_free(t->remote);
        g_free(t->local);
        g_free(t->collection);
        g_free(t->collection_state);
}

static void assert_interrupted(Harness *h, const char *job) {
        g_auto(GStrv) paths = harness_object_paths(h);
        g_assert_true(g_strv_contains((const char *const *) paths, job));
        g_assert_cmpuint(harness_get_uint16(h, job, IRD_IFACE_JOB, "JobState"), ==, IRD_JOB_EXCEPTION);
        g_autofree char *description = harness_get_string(h, job, IRD_IFACE_JOB, "ErrorDescription");
        g_test_message("ErrorDescription: %s", description);
        g_autofree char *lower = g_ascii_strdown(description, -1);
        g_assert_nonnull(strstr(lower, "interrupted"));
        g_assert_cmpuint(harness_get_uint16(h, job, IRD_IFACE_JOB, "ErrorCode"), !=, 0);
        g_autoptr(GVariant) status = harness_get_property(h, job, IRD_IFACE_JOB, "OperationalStatus");
        gsize n;
        const guint16 *values = g_variant_get_fixed_array(status, &n, sizeof(guint16));
        gboolean completed = FALSE, error = FALSE;
        for (gsize i = 0; i < n; i++) {
                completed |= values[i] == 17;
                error |= values[i] == 6;
        }
        g_assert_true(completed && error);
        g_autoptr(GVariant) reply = harness_call(h, job, IRD_IFACE_JOB, "GetError", NULL);
        g_autoptr(GVariant) error_dict = g_variant_get_child_value(reply, 0);
        g_assert_cmpuint(g_variant_n_children(error_dict), >, 0);
        g_autofree char *message_id = harness_job_message_id(h, job);
        g_assert_cmpstr(message_id, ==, "Interrupted");
        /* A finished job: no state change, but Delete works. */
        g_autofree char *m = harness_call_error(h, job, IRD_IFACE_JOB, "RequestStateChange",
                                                g_variant_new("(qt)", 4, (guint64) 0),
                                                IRD_ERROR_INVALID_STATE_TRANSITION);
}

static void test_running_job_killed(Harness *h, gconstpointer data) {
        Interrupted t = { 0 };
        g_autofree char *job = start_hanging_job(h, &t);

        harness_kill_daemon(h);
        harness_start_daemon(h);

        assert_interrupted(h, job);
        g_autofree char *state = collection_state(h, t.collection);
        g_assert_cmpstr(state, ==, t.collection_state);
        g_autofree char *busy = harness_get_string(h, t.collection, IRD_IFACE_COLLECTION, "Job");
        g_assert_cmpstr(busy, ==, "/");
        g_auto(GStrv) cols = harness_get_paths(h, t.remote, IRD_IFACE_AP, "Collections");
        g_assert_cmpuint(g_strv_length(cols), ==, 0);

        /* The collection is usable again. */
        g_autoptr(GVariant) r = harness_call(h, t.collection, IRD_IFACE_COLLECTION, "Modify",
                                             g_variant_new_parsed("({'ElementName': <'after'>},)"));
        interrupted_clear(&t);
}

static void test_running_job_stopped(Harness *h, gconstpointer data) {
        Interrupted t = { 0 };
        g_autofree char *job = start_hanging_job(h, &t);

        /* A clean stop with a job in flight still exits 0. */
        harness_stop_daemon(h);
        harness_start_daemon(h);

        assert_interrupted(h, job);
        g_autofree char *state = collection_state(h, t.collection);
        g_assert_cmpstr(state, ==, t.collection_state);
        interrupted_clear(&t);
}

static void request_state(Harness *h, const char *job, guint16 requested, guint16 expected_state) {
        g_autoptr(GVariant) reply = harness_call(h, job, IRD_IFACE_JOB, "RequestStateChange",
                                                 g_variant_new("(qt)", requested, (guint64) 0));
        guint32 rv;

        g_variant_get(reply, "(u)", &rv);
        g_assert_cmpuint(rv, ==, 0);
        g_assert_cmpuint(harness_get_uint16(h, job, IRD_IFACE_JOB, "JobState"), ==, expected_state);
}

/* After the restart the job is interrupted, and its description says in which state the service left it. */
static void assert_interrupted_while(Harness *h, const char *job, const char *state) {
        g_autofree char *description = NULL;
        g_autofree char *expected = g_strdup_printf("while the job was %s;", state);

        assert_interrupted(h, job);
        description = harness_get_string(h, job, IRD_IFACE_JOB, "ErrorDescription");
        if (!strstr(description, expected))
                g_error("ErrorDescription \"%s\" lacks \"%s\"", description, expected);
}

/*
 * Suspend and resume are stored before the reply (API.md section 8a). A
 * hanging job is suspended (and resumed), the daemon is killed right after
 * the reply (or stopped), and after the restart the job is interrupted in
 * the state that was stored last: it does not run again (it holds no
 * connection to take up), and nothing of it was committed.
 */
static void suspend_then_restart(Harness *h, gboolean resume, gboolean kill, const char *stored) {
        Interrupted t = { 0 };
        g_autofree char *job = start_hanging_job(h, &t);

        request_state(h, job, 3, 5);
        if (resume)
                request_state(h, job, 2, 4);
        if (kill)
                harness_kill_daemon(h);
        else
                harness_stop_daemon(h);
        harness_start_daemon(h);
        assert_interrupted_while(h, job, stored);
        g_autofree char *state = collection_state(h, t.collection);
        g_assert_cmpstr(state, ==, t.collection_state);
        interrupted_clear(&t);
}

static void test_suspended_job_killed(Harness *h, gconstpointer data) {
        suspend_then_restart(h, FALSE, TRUE, "suspended");
}

static void test_resumed_job_killed(Harness *h, gconstpointer data) {
        suspend_then_restart(h, TRUE, TRUE, "running");
}

static void test_suspended_job_stopped(Harness *h, gconstpointer data) {
        suspend_then_restart(h, FALSE, FALSE, "suspended");
}

static void test_interrupted_create(Harness *h, gconstpointer data) {
        g_autoptr(HarnessPeer) hole = harness_peer_new(HARNESS_PEER_BLACK_HOLE, "127.0.0.2", NULL);
        g_autofree char *peer = harness_add_peer(h, "peer.example.org", NULL);
        g_autofree char *remote = harness_add_access_point(h, peer, "127.0.0.2", harness_peer_port(hole), NULL);
        const char *remotes[] = { remote, NULL };
        g_autoptr(GVariant) reply = harness_call(
                h, IRD_ROOT, IRD_IFACE_SERVICE, "CreateRemoteReplicationCollection",
                g_variant_new("(s@ao@aoobb)", "never", harness_paths(NULL), harness_paths(remotes), peer, TRUE,
                              FALSE));
        guint32 rv;
        const char *job;
        g_variant_get(reply, "(u&o@o)", &rv, &job, NULL);
        g_assert_cmpuint(rv, ==, 4096);
        g_autofree char *job_path = g_strdup(job);
        harness_wait_job_running(h, job_path);

        harness_kill_daemon(h);
        harness_start_daemon(h);

        assert_interrupted(h, job_path);
        g_assert_cmpuint(max_id(h, IRD_ROOT "/collection/"), ==, 0);
}

static void test_finished_jobs_listed(Harness *h, gconstpointer data) {
        g_autoptr(HarnessPeer) refusing = harness_peer_new(HARNESS_PEER_REFUSING, "127.0.0.2", NULL);
        g_autoptr(HarnessPeer) target = harness_peer_new(HARNESS_PEER_TARGET, "127.0.0.4", NULL);
        g_autofree char *peer = harness_add_peer(h, "peer.example.org", NULL);
        g_autofree char *bad = harness_add_access_point(h, peer, "127.0.0.2", harness_peer_port(refusing), NULL);
        g_autofree char *good = harness_add_access_point(h, peer, "127.0.0.4", harness_peer_port(target), NULL);
        char *jobs[2];
        const char *aps[] = { bad, good };

        for (int i = 0; i < 2; i++) {
                g_autoptr(GVariant) reply = harness_call(h, aps[i], IRD_IFACE_AP, "Verify", NULL);
                g_variant_get(reply, "(uo)", NULL, &jobs[i]);
                g_autoptr(GVariant) done = harness_wait_job_completed(h, jobs[i]);
        }
        g_autofree char *before = harness_snapshot(h);

        harness_kill_daemon(h);
        harness_start_daemon(h);
        g_autofree char *after_kill = harness_snapshot(h);
        g_assert_cmpstr(before, ==, after_kill);

        harness_stop_daemon(h);
        harness_start_daemon(h);
        g_autofree char *after_stop = harness_snapshot(h);
        g_assert_cmpstr(before, ==, after_stop);

        g_assert_cmpuint(harness_get_uint16(h, jobs[0], IRD_IFACE_JOB, "JobState"), ==, IRD_JOB_EXCEPTION);
        g_assert_cmpuint(harness_get_uint16(h, jobs[1], IRD_IFACE_JOB, "JobState"), ==, IRD_JOB_COMPLETED);
        g_autofree char *reachable = harness_get_string(h, good, IRD_IFACE_AP, "Reachable");
        g_assert_cmpstr(reachable, ==, "yes");
        /* The reasons are stored too. */
        g_autofree char *last_error_id = harness_get_string(h, bad, IRD_IFACE_AP, "LastErrorID");
        g_assert_cmpstr(last_error_id, ==, "Refused");
        g_autofree char *message_id = harness_job_message_id(h, jobs[0]);
        g_assert_cmpstr(message_id, ==, "Refused");

        /* New jobs continue the numbering. */
        g_autoptr(GVariant) reply = harness_call(h, good, IRD_IFACE_AP, "Verify", NULL);
        const char *next;
        g_variant_get(reply, "(u&o)", NULL, &next);
        g_assert_cmpuint(path_id(next), >, path_id(jobs[1]));
        g_autoptr(GVariant) done = harness_wait_job_completed(h, next);
        for (int i = 0; i < 2; i++)
                g_free(jobs[i]);
}

static void test_sigterm_clean(Harness *h, gconstpointer data) {
        harness_stop_daemon(h);
        g_assert_false(g_test_failed());
        harness_start_daemon(h);
        harness_stop_daemon(h);
        harness_start_daemon(h);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);

        harness_add_test("/integration/restart/state-survives", &no_verify, test_state_survives_kill);
        harness_add_test("/integration/restart/ids-never-reused", NULL, test_ids_never_reused);
        harness_add_test("/integration/restart/ids-never-reused-each-kind", &no_verify, test_ids_never_reused_each_kind);
        harness_add_test("/integration/restart/running-job-killed", &slow, test_running_job_killed);
        harness_add_test("/integration/restart/running-job-stopped", &slow, test_running_job_stopped);
        harness_add_test("/integration/restart/interrupted-create", &slow, test_interrupted_create);
        harness_add_test("/integration/restart/suspended-job-killed", &slow, test_suspended_job_killed);
        harness_add_test("/integration/restart/suspended-job-stopped", &slow, test_suspended_job_stopped);
        harness_add_test("/integration/restart/resumed-job-killed", &slow, test_resumed_job_killed);
        harness_add_test("/integration/restart/finished-jobs-listed", &quick, test_finished_jobs_listed);
        harness_add_test("/integration/restart/sigterm-exit-0", NULL, test_sigterm_clean);

        return g_test_run();
}
