/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Verification against targets that are not tgt (API.md section 7): the
 * harness's fake target, taught the ways real targets differ. A logout that
 * is answered by a close, never answered, or not even sent because the
 * target miscounted CmdSN does not fail a probe whose sessions did their
 * work; a target that asks for CHAP on discovery gets it, mutual when the
 * secret has a mutual part; a system's node name is offered as the base of
 * a target name; a connection that ends early says who ended it. And,
 * since an unanswered logout gives a test time to act, a job whose final
 * commit fails ends as StorageFailed.
 */

#include <sqlite3.h>
#include <string.h>

#include "harness.h"

#define INITIATOR "iqn.2026-01.org.example.quirks:initiator"
#define TARGET "iqn.2026-01.org.example.quirks:disk1"

#define CHAP_USER "quirks-user"
#define CHAP_SECRET "quirks-chap-secret-4711"
#define MUTUAL_USER "quirks-target"
#define MUTUAL_SECRET "quirks-mutual-secret-0815"

/* A probe gets 5 s; a logout is waited for half a second. */
static const char *const default_args[] = { "--initiator-name=" INITIATOR, "--probe-timeout=5", NULL };
static const HarnessConfig defaults = { .daemon_args = default_args };

/* What a Verify job ended with. */
typedef struct Verdict {
        gboolean success;
        guint16 code;
        char *message_id;               /* GetError's MessageID, "" on success */
        char *description;              /* ErrorDescription */
        char *last_error_id;            /* the access point's LastErrorID */
        char *last_error;               /* the access point's LastError */
        char *reachable;
        guint64 elapsed_usec;
} Verdict;

static void verdict_clear(Verdict *v) {
        g_free(v->message_id);
        g_free(v->description);
        g_free(v->last_error_id);
        g_free(v->last_error);
        g_free(v->reachable);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Verdict, verdict_clear)

static Verdict verify(Harness *h, const char *ap) {
        gint64 started = g_get_monotonic_time();
        g_autoptr(GVariant) reply = harness_call(h, ap, IRD_IFACE_AP, "Verify", NULL);
        const char *job, *message;
        Verdict v = {};

        g_variant_get(reply, "(u&o)", NULL, &job);
        g_autoptr(GVariant) done = harness_wait_job_completed(h, job);
        v.elapsed_usec = (guint64) (g_get_monotonic_time() - started);
        g_variant_get(done, "(bq&s)", &v.success, &v.code, &message);
        g_test_message("Verify %s: %s %u %s (%.3f s)", ap, v.success ? "completed" : "failed", v.code, message,
                       (double) v.elapsed_usec / G_USEC_PER_SEC);
        v.message_id = v.success ? g_strdup("") : harness_job_message_id(h, job);
        v.description = harness_get_string(h, job, IRD_IFACE_JOB, "ErrorDescription");
        v.last_error_id = harness_get_string(h, ap, IRD_IFACE_AP, "LastErrorID");
        v.last_error = harness_get_string(h, ap, IRD_IFACE_AP, "LastError");
        v.reachable = harness_get_string(h, ap, IRD_IFACE_AP, "Reachable");
        return v;
}

static void assert_verified(const Verdict *v) {
        g_assert_true(v->success);
        g_assert_cmpuint(v->code, ==, 0);
        g_assert_cmpstr(v->last_error_id, ==, "");
        g_assert_cmpstr(v->last_error, ==, "");
        g_assert_cmpstr(v->reachable, ==, "yes");
}

static void assert_failed(const Verdict *v, const char *reason) {
        g_assert_false(v->success);
        g_assert_cmpuint(v->code, ==, 4);
        g_assert_cmpstr(v->message_id, ==, reason);
        g_assert_cmpstr(v->last_error_id, ==, reason);
        g_assert_cmpstr(v->reachable, ==, "no");
        /* The job says which access point; the access point says what happened to it. */
        g_assert_nonnull(strstr(v->description, v->last_error));
}

/* A fake target at address offering TARGET, with quirks, and an access point naming TARGET on it. */
static HarnessPeer *quirky_target(Harness *h, const char *address, unsigned quirks, char **ret_ap) {
        const char *names[] = { TARGET, NULL };
        HarnessPeer *target = harness_peer_new(HARNESS_PEER_TARGET, address, names);
        g_autofree char *peer = harness_add_peer(h, "quirky.example.org", NULL);

        harness_peer_set_quirks(target, quirks);
        *ret_ap = harness_add_access_point(h, peer, address, harness_peer_port(target), TARGET);
        return target;
}

/* ---- logouts ---- */

/* Both sessions' logouts are answered by a close: the probe has its verdict already. */
static void test_logout_closes(Harness *h, gconstpointer data) {
        g_autofree char *ap = NULL;
        g_autoptr(HarnessPeer) target = quirky_target(h, "127.0.0.81", HARNESS_QUIRK_LOGOUT_CLOSES, &ap);

        g_auto(Verdict) v = verify(h, ap);
        assert_verified(&v);
        /* The discovery session's and the normal session's. */
        g_assert_cmpuint(harness_peer_logouts(target), ==, 2);
        g_assert_cmpuint(harness_peer_connections(target), ==, 2);
}

/* Logouts are never answered: each is waited for briefly, not until the probe's deadline. */
static void test_logout_unanswered(Harness *h, gconstpointer data) {
        g_autofree char *ap = NULL;
        g_autoptr(HarnessPeer) target = quirky_target(h, "127.0.0.82", HARNESS_QUIRK_LOGOUT_SILENT, &ap);

        g_auto(Verdict) v = verify(h, ap);
        assert_verified(&v);
        g_assert_cmpuint(harness_peer_logouts(target), ==, 2);
        /* Two logouts of half a second each, well within the 5 s deadline. */
        g_assert_cmpuint(v.elapsed_usec, >=, 2 * 500 * 1000);
        g_assert_cmpuint(v.elapsed_usec, <, 3 * G_USEC_PER_SEC);
}

/*
 * The target counts the immediate SendTargets request as non-immediate and
 * then expects a higher CmdSN than the logout carries; libiscsi refuses to
 * send that logout. The discovery session did its work; the normal session
 * (no Text request, so no slip) logs out as usual.
 */
static void test_cmdsn_slip(Harness *h, gconstpointer data) {
        g_autofree char *ap = NULL;
        g_autoptr(HarnessPeer) target = quirky_target(h, "127.0.0.83", HARNESS_QUIRK_CMDSN_SLIP, &ap);

        g_auto(Verdict) v = verify(h, ap);
        assert_verified(&v);
        g_assert_cmpuint(harness_peer_logouts(target), ==, 1);
        g_assert_cmpuint(harness_peer_connections(target), ==, 2);
}

/* A logout forgiven is no excuse for a failed session: the target still has to offer the name. */
static void test_logout_quirk_keeps_verdict(Harness *h, gconstpointer data) {
        const char *names[] = { "iqn.2026-01.org.example.quirks:other", NULL };
        g_autoptr(HarnessPeer) target = harness_peer_new(HARNESS_PEER_TARGET, "127.0.0.84", names);
        g_autofree char *peer = harness_add_peer(h, "quirky.example.org", NULL);
        g_autofree char *ap = harness_add_access_point(h, peer, "127.0.0.84", harness_peer_port(target), TARGET);

        harness_peer_set_quirks(target, HARNESS_QUIRK_CMDSN_SLIP | HARNESS_QUIRK_LOGOUT_SILENT);
        g_auto(Verdict) v = verify(h, ap);
        assert_failed(&v, "TargetNotOffered");
}

/* ---- who ended a connection ---- */

/*
 * libiscsi gives up a connection over an answer it cannot take: the probe
 * fails as a protocol error, says our side ended the connection and quotes
 * libiscsi's reason.
 */
static void test_initiator_ends_connection(Harness *h, gconstpointer data) {
        g_autofree char *ap = NULL;
        g_autoptr(HarnessPeer) target = quirky_target(h, "127.0.0.87", HARNESS_QUIRK_TEXT_OVERSIZED, &ap);

        g_auto(Verdict) v = verify(h, ap);
        assert_failed(&v, "ProtocolError");
        g_autofree char *expected = g_strdup_printf("The initiator library ended the connection to 127.0.0.87:%u "
                                                    "during SendTargets: Invalid data size received from target",
                                                    harness_peer_port(target));
        g_assert_true(g_str_has_prefix(v.last_error, expected));
}

/* ---- the job's final commit ---- */

/*
 * Another process (an administrator's sqlite3 shell, say) holds the store's
 * write lock when the job is about to commit: the job ends as an exception
 * with MessageID StorageFailed, and nothing of it was committed.
 */
static void test_store_locked_at_commit(Harness *h, gconstpointer data) {
        const char *names[] = { TARGET, NULL };
        g_autoptr(HarnessPeer) target = harness_peer_new(HARNESS_PEER_TARGET, "127.0.0.89", names);
        g_autofree char *peer = harness_add_peer(h, "quirky.example.org", NULL);
        g_autofree char *ap = harness_add_access_point(h, peer, "127.0.0.89", harness_peer_port(target), NULL);
        g_autofree char *local = harness_add_access_point(h, IRD_LOCAL_SYSTEM, "127.0.0.90", 3260, NULL);
        const char *locals[] = { local, NULL }, *remotes[] = { ap, NULL };
        g_autofree char *collection = harness_create_collection(h, "locked", locals, NULL, NULL);
        g_autofree char *db_path = g_build_filename(h->state_directory, "state.db", NULL);
        g_autofree char *job = NULL;
        sqlite3 *db = NULL;

        /* The probe waits half a second for its logout; the lock is taken before it ends. */
        harness_peer_set_quirks(target, HARNESS_QUIRK_LOGOUT_SILENT);
        g_assert_cmpuint(harness_add_to_collection(h, collection, NULL, remotes, peer, &job), ==, 4096);
        g_assert_cmpint(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE, NULL), ==, SQLITE_OK);
        g_assert_cmpint(sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL), ==, SQLITE_OK);

        g_autoptr(GVariant) done = harness_wait_job_completed(h, job);
        g_assert_cmpint(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), ==, SQLITE_OK);
        g_assert_cmpint(sqlite3_close(db), ==, SQLITE_OK);

        gboolean success;
        guint16 code;
        g_variant_get(done, "(bq&s)", &success, &code, NULL);
        g_assert_false(success);
        g_assert_cmpuint(code, ==, 4);
        g_assert_cmpuint(harness_get_uint16(h, job, IRD_IFACE_JOB, "JobState"), ==, IRD_JOB_EXCEPTION);
        g_autofree char *message_id = harness_job_message_id(h, job);
        g_assert_cmpstr(message_id, ==, "StorageFailed");
        g_auto(GStrv) members = harness_get_paths(h, collection, IRD_IFACE_COLLECTION, "RemoteAccessPoints");
        g_assert_cmpuint(g_strv_length(members), ==, 0);
}

/* ---- discovery CHAP ---- */

/*
 * The target demands mutual CHAP on discovery too: the discovery login
 * offers CHAP, and since the target picks it, challenges the target. A wrong
 * answer from the target fails the discovery login; so does a secret
 * without a mutual part or no secret at all.
 */
static void test_discovery_mutual_chap(Harness *h, gconstpointer data) {
        g_autofree char *ap = NULL;
        g_autoptr(HarnessPeer) target = quirky_target(h, "127.0.0.85", 0, &ap);

        harness_peer_require_mutual_chap(target, CHAP_USER, CHAP_SECRET, MUTUAL_USER, MUTUAL_SECRET);

        g_auto(Verdict) none = verify(h, ap);
        assert_failed(&none, "AuthenticationFailed");
        g_assert_nonnull(strstr(none.last_error, "Discovery login to 127.0.0.85:"));

        g_autofree char *one_way = harness_add_secret(h, ap, CHAP_USER, CHAP_SECRET);
        g_auto(Verdict) v1 = verify(h, ap);
        assert_failed(&v1, "AuthenticationFailed");
        g_assert_nonnull(strstr(v1.last_error, "Discovery login to 127.0.0.85:"));

        g_autofree char *wrong = harness_add_mutual_secret(h, ap, CHAP_USER, CHAP_SECRET, MUTUAL_USER,
                                                           "quirks-not-the-target-0");
        g_auto(Verdict) v2 = verify(h, ap);
        assert_failed(&v2, "MutualAuthenticationFailed");
        g_autofree char *expected = g_strdup_printf("Discovery login to 127.0.0.85:%u failed: the target's mutual "
                                                    "CHAP response is wrong.", harness_peer_port(target));
        g_assert_cmpstr(v2.last_error, ==, expected);

        g_autofree char *right = harness_add_mutual_secret(h, ap, CHAP_USER, CHAP_SECRET, MUTUAL_USER,
                                                           MUTUAL_SECRET);
        g_auto(Verdict) v3 = verify(h, ap);
        assert_verified(&v3);
        g_assert_cmpuint(harness_peer_logouts(target), ==, 2);

        /* No secret reached the log or the bus. */
        g_autofree char *log = harness_read_log(h);
        g_assert_null(strstr(log, CHAP_SECRET));
        g_assert_null(strstr(log, MUTUAL_SECRET));
}

/*
 * The same target, sending each login answer in two pieces: the discovery
 * login's first answer is judged when all of it is in, not by its first
 * piece, so the target is challenged and its answer checked.
 */
static void test_discovery_mutual_chap_trickled(Harness *h, gconstpointer data) {
        g_autofree char *ap = NULL;
        g_autoptr(HarnessPeer) target = quirky_target(h, "127.0.0.88", HARNESS_QUIRK_LOGIN_TRICKLE, &ap);

        harness_peer_require_mutual_chap(target, CHAP_USER, CHAP_SECRET, MUTUAL_USER, MUTUAL_SECRET);

        g_autofree char *wrong = harness_add_mutual_secret(h, ap, CHAP_USER, CHAP_SECRET, MUTUAL_USER,
                                                           "quirks-not-the-target-0");
        g_auto(Verdict) v1 = verify(h, ap);
        assert_failed(&v1, "MutualAuthenticationFailed");

        g_autofree char *right = harness_add_mutual_secret(h, ap, CHAP_USER, CHAP_SECRET, MUTUAL_USER,
                                                           MUTUAL_SECRET);
        g_auto(Verdict) v2 = verify(h, ap);
        assert_verified(&v2);
}

/* ---- names ---- */

/*
 * A peer registered under its node's base name: its targets are named under
 * it ("<name>:disk1"), which is enough. A name that merely begins with the
 * same letters is not.
 */
static void test_node_name_prefix(Harness *h, gconstpointer data) {
        const char *names[] = { "iqn.2026-11.org.example.peer:disk1", NULL };
        g_autoptr(HarnessPeer) target = harness_peer_new(HARNESS_PEER_TARGET, "127.0.0.86", names);
        g_autofree char *base = harness_add_peer(h, "iqn.2026-11.org.example.peer", NULL);
        g_autofree char *ap = harness_add_access_point(h, base, "127.0.0.86", harness_peer_port(target), NULL);
        g_autofree char *shorter = harness_add_peer(h, "iqn.2026-11.org.example.pee", NULL);
        g_autofree char *ap2 = harness_add_access_point(h, shorter, "127.0.0.86", harness_peer_port(target), NULL);

        g_auto(Verdict) v = verify(h, ap);
        assert_verified(&v);

        g_auto(Verdict) v2 = verify(h, ap2);
        assert_failed(&v2, "SystemNotOffered");
        g_assert_nonnull(strstr(v2.last_error, "iqn.2026-11.org.example.pee (the peer system's Name)"));
        g_assert_nonnull(strstr(v2.last_error, "it offers: iqn.2026-11.org.example.peer:disk1."));
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);

        harness_add_test("/integration/quirks/logout-closes", &defaults, test_logout_closes);
        harness_add_test("/integration/quirks/logout-unanswered", &defaults, test_logout_unanswered);
        harness_add_test("/integration/quirks/cmdsn-slip", &defaults, test_cmdsn_slip);
        harness_add_test("/integration/quirks/logout-quirk-keeps-verdict", &defaults, test_logout_quirk_keeps_verdict);
        harness_add_test("/integration/quirks/initiator-ends-connection", &defaults, test_initiator_ends_connection);
        harness_add_test("/integration/quirks/store-locked-at-commit", &defaults, test_store_locked_at_commit);
        harness_add_test("/integration/quirks/discovery-mutual-chap", &defaults, test_discovery_mutual_chap);
        harness_add_test("/integration/quirks/discovery-mutual-chap-trickled", &defaults,
                         test_discovery_mutual_chap_trickled);
        harness_add_test("/integration/quirks/node-name-prefix", &defaults, test_node_name_prefix);

        return g_test_run();
}
