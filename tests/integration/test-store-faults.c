/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * A change the store cannot take is refused and changes nothing (API.md:
 * Error.Failed for a storage error). The daemon here is the test build that
 * arms the store fault named by IRD_STORE_FAULT (store.h): the store fails
 * its log sync, a commit or a row write where a broken disk would. Each call
 * must get Error.Failed, emit no signal, leave GetManagedObjects as it was,
 * and a restart without the fault must load that same state. A job whose
 * final commit fails ends in Exception with MessageID StorageFailed.
 * (test-engine-fault goes through every kind of change and every write of
 * each; this checks the way out through the bus.)
 */

#include <string.h>

#include "harness.h"

static const char *const no_verify_args[] = { "--verify-access-points=no", NULL };
static const HarnessConfig no_verify = { .daemon_args = no_verify_args };

typedef struct World {
        HarnessPeer *refusing;
        char *local, *peer, *remote, *secret, *collection, *job;
} World;

static void world_init(Harness *h, World *w) {
        const char *locals[2] = {};

        w->refusing = harness_peer_new(HARNESS_PEER_REFUSING, "127.0.0.4", NULL);
        w->local = harness_add_access_point(h, IRD_LOCAL_SYSTEM, "127.0.0.1", 3260, NULL);
        w->peer = harness_add_peer(h, "iqn.2024-01.org.example:peer", NULL);
        w->remote = harness_add_access_point(h, w->peer, harness_peer_address(w->refusing),
                                             harness_peer_port(w->refusing), NULL);
        w->secret = harness_add_secret(h, w->remote, "user", "0123456789abcdef");
        locals[0] = w->local;
        w->collection = harness_create_collection(h, "c", locals, NULL, NULL);

        /* A finished job, for the job's own changes. */
        g_autoptr(GVariant) reply = harness_call(h, w->remote, IRD_IFACE_AP, "Verify", NULL);
        g_variant_get(reply, "(uo)", NULL, &w->job);
        g_autoptr(GVariant) done = harness_wait_job_completed(h, w->job);
}

static void world_clear(World *w) {
        harness_peer_free(w->refusing);
        g_free(w->local);
        g_free(w->peer);
        g_free(w->remote);
        g_free(w->secret);
        g_free(w->collection);
        g_free(w->job);
}

/* Restarts the daemon with the fault armed (NULL: none). */
static void restart_with_fault(Harness *h, const char *fault) {
        g_autofree char *variable = fault ? g_strdup_printf("IRD_STORE_FAULT=%s", fault) : NULL;
        const char *const env[] = { fault ? variable : "IRD_STORE_FAULT", NULL };

        harness_stop_daemon(h);
        harness_spawn_daemon(h, env, TRUE);
        harness_wait_daemon_name(h);
}

static GVariant *add_peer_params(const World *w) {
        return g_variant_new_parsed("('iqn.2024-01.org.example:other', @a{sv} {})");
}

static GVariant *add_access_point_params(const World *w) {
        return g_variant_new_parsed("(%o, @a{sv} {'Address': <'127.0.0.9'>})", w->peer);
}

static GVariant *add_secret_params(const World *w) {
        return g_variant_new_parsed("(@a{sv} {'Username': <'u2'>, 'Secret': <'0123456789abcdef'>}, %o)", w->remote);
}

static GVariant *create_collection_params(const World *w) {
        return g_variant_new_parsed("('new', @ao [], @ao [], @o '/', true, false)");
}

/* Calls method on path and checks that it failed for the store and changed nothing, then and after a restart. */
static void check_refused(Harness *h, const char *fault, const char *path, const char *interface, const char *method,
                          GVariant *params) {
        g_autofree char *before = NULL, *after = NULL, *restarted = NULL, *message = NULL, *log = NULL;

        g_test_message("%s.%s with the store failing %s", interface, method, fault);
        before = harness_snapshot(h);
        restart_with_fault(h, fault);
        harness_clear_signals(h);
        message = harness_call_error(h, path, interface, method, params, IRD_ERROR_FAILED);
        g_test_message("refused: %s", message);
        /* The service's words, never SQLite's. */
        g_assert_null(strstr(message, "I/O"));
        g_assert_null(strstr(message, "constraint"));
        g_autoptr(GPtrArray) signals = harness_take_signals(h, NULL, NULL, NULL);
        g_assert_cmpuint(signals->len, ==, 0);
        after = harness_snapshot(h);
        g_assert_cmpstr(after, ==, before);

        restart_with_fault(h, NULL);
        restarted = harness_snapshot(h);
        g_assert_cmpstr(restarted, ==, before);
        /* The fault was armed and was what failed the call. */
        log = harness_read_log(h);
        g_assert_nonnull(strstr(log, "failed to"));
}

static void test_adds(Harness *h, gconstpointer data) {
        World w = {};

        world_init(h, &w);
        check_refused(h, "sync:1", IRD_ROOT, IRD_IFACE_SERVICE, "AddPeerSystem", add_peer_params(&w));
        check_refused(h, "write:1", IRD_ROOT, IRD_IFACE_SERVICE, "AddServiceAccessPoint", add_access_point_params(&w));
        check_refused(h, "commit:1", IRD_ROOT, IRD_IFACE_SERVICE, "AddSharedSecret", add_secret_params(&w));
        check_refused(h, "write:2", IRD_ROOT, IRD_IFACE_SERVICE, "CreateRemoteReplicationCollection",
                      create_collection_params(&w));
        world_clear(&w);
}

static void test_modify_and_delete(Harness *h, gconstpointer data) {
        World w = {};

        world_init(h, &w);
        check_refused(h, "commit:1", w.collection, IRD_IFACE_COLLECTION, "Modify",
                      g_variant_new_parsed("(@a{sv} {'ElementName': <'renamed'>},)"));
        check_refused(h, "write:1", IRD_ROOT, IRD_IFACE_SERVICE, "RemoveFromRemoteReplicationCollection",
                      g_variant_new("(^ao@aoo&o)", (const char *const[]) { w.local, NULL },
                                    g_variant_new_array(G_VARIANT_TYPE_OBJECT_PATH, NULL, 0), "/", w.collection));
        check_refused(h, "sync:1", w.peer, IRD_IFACE_SYSTEM, "Delete", NULL);
        check_refused(h, "write:2", w.remote, IRD_IFACE_AP, "Delete", NULL);
        check_refused(h, "commit:1", w.secret, IRD_IFACE_SECRET, "Delete", NULL);
        check_refused(h, "sync:1", w.collection, IRD_IFACE_COLLECTION, "Delete", NULL);
        check_refused(h, "commit:1", w.job, IRD_IFACE_JOB, "Delete", NULL);
        check_refused(h, "write:1", w.job, "org.freedesktop.DBus.Properties", "Set",
                      g_variant_new("(ssv)", IRD_IFACE_JOB, "DeleteOnCompletion",
                                    g_variant_new_boolean(!harness_get_boolean(h, w.job, IRD_IFACE_JOB,
                                                                               "DeleteOnCompletion"))));
        world_clear(&w);
}

/* The job's start is the first commit, its end the second: that one fails. */
static void test_job_final_commit(Harness *h, gconstpointer data) {
        World w = {};
        g_autofree char *job = NULL, *description = NULL, *message_id = NULL, *listed = NULL, *restarted = NULL;
        guint16 code;
        gboolean success;

        world_init(h, &w);
        restart_with_fault(h, "commit:2");
        g_autoptr(GVariant) reply = harness_call(h, w.remote, IRD_IFACE_AP, "Verify", NULL);
        g_variant_get(reply, "(uo)", NULL, &job);
        g_autoptr(GVariant) done = harness_wait_job_completed(h, job);
        g_variant_get(done, "(bqs)", &success, &code, NULL);
        g_assert_false(success);
        g_assert_cmpuint(code, ==, 4);
        g_assert_cmpuint(harness_get_uint16(h, job, IRD_IFACE_JOB, "JobState"), ==, IRD_JOB_EXCEPTION);
        g_assert_cmpuint(harness_get_uint16(h, job, IRD_IFACE_JOB, "ErrorCode"), ==, 4);
        description = harness_get_string(h, job, IRD_IFACE_JOB, "ErrorDescription");
        g_assert_cmpstr(description, ==, "The result could not be stored; nothing was committed.");
        message_id = harness_job_message_id(h, job);
        g_assert_cmpstr(message_id, ==, "StorageFailed");

        /* The Exception itself was stored: a restart lists the job as it is now. */
        listed = harness_snapshot(h);
        restart_with_fault(h, NULL);
        restarted = harness_snapshot(h);
        g_assert_cmpstr(restarted, ==, listed);
        world_clear(&w);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);

        harness_add_test("/integration/store-faults/adds", &no_verify, test_adds);
        harness_add_test("/integration/store-faults/modify-and-delete", &no_verify, test_modify_and_delete);
        harness_add_test("/integration/store-faults/job-final-commit", &no_verify, test_job_final_commit);

        return g_test_run();
}
