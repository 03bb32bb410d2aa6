/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * engine: peers, access points and shared secrets as they are added, checked
 * and stored, and everything kept across a reopening of the state directory.
 * The world and its helpers: engine-fixture.h.
 */

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "engine-fixture.h"
#include "util/log.h"

static void test_add_peer(Fixture *f, gconstpointer data) {
        uint64_t id = 0;
        System *s;
        Snapshot before;
        Model *stored;

        g_assert_cmpint(engine_add_peer_system(f->engine, &f->caller, PEER_NAME, "Peer", &id, &f->err), ==, 0);
        g_assert_cmpuint(id, !=, LOCAL_SYSTEM_ID);
        /* Not in the model, not announced, until its group is committed. */
        g_assert_null(model_get_system(f->engine->model, id));
        g_assert_cmpuint(f->notes->len, ==, 0);
        flush(f);
        s = model_get_system(f->engine->model, id);
        g_assert_nonnull(s);
        g_assert_cmpstr(s->name, ==, PEER_NAME);
        g_assert_cmpstr(s->element_name, ==, "Peer");
        g_assert_cmpuint(f->notes->len, ==, 1);
        g_assert_cmpuint(notes_count(f, NOTE_ADDED, OBJECT_SYSTEM, s->id), ==, 1);

        stored = stored_model(f);
        g_assert_cmpuint(stored->systems.n, ==, 2);
        g_assert_cmpstr(model_get_system(stored, s->id)->name, ==, PEER_NAME);
        g_assert_cmpstr(model_get_system(stored, s->id)->element_name, ==, "Peer");
        g_assert_cmpuint(stored->next_id, >, s->id);
        model_free(stored);
        assert_model_is_stored(f);

        /* The same name again, also in other case, is a conflict; nothing changes. */
        notes_clear(f);
        before = snapshot(f, true);
        assert_failed(f, engine_add_peer_system(f->engine, &f->caller, PEER_NAME, "", NULL, &f->err), -EEXIST);
        assert_failed(f, engine_add_peer_system(f->engine, &f->caller, "IQN.2024-01.ORG.EXAMPLE:PEER", "", NULL, &f->err),
                      -EEXIST);
        assert_failed(f, engine_add_peer_system(f->engine, &f->caller, "not a name!", "", NULL, &f->err), -EINVAL);
        assert_failed(f, engine_add_peer_system(f->engine, &f->caller, "", "", NULL, &f->err), -EINVAL);
        assert_failed(f, engine_add_peer_system(f->engine, &f->caller, "peer2.example.org", "bad\nname", NULL, &f->err),
                      -EINVAL);
        assert_unchanged(f, &before, true);
        g_assert_cmpuint(f->notes->len, ==, 0);
        snapshot_done(&before);
}

static void test_add_access_points(Fixture *f, gconstpointer data) {
        AccessPointSpec spec = { .address = "127.0.0.1", .port = 3260, .target_name = "", .element_name = "portal" };
        uint64_t id = 0, peer, remote;
        AccessPoint *a;
        Snapshot before;
        Model *stored;

        g_assert_cmpint(engine_add_access_point(f->engine, &f->caller, LOCAL_SYSTEM_PATH, &spec, &id, &f->err), ==, 0);
        flush(f);
        a = model_get_access_point(f->engine->model, id);
        g_assert_nonnull(a);
        g_assert_true(access_point_is_local(a));
        g_assert_cmpuint(notes_count(f, NOTE_ADDED, OBJECT_ACCESS_POINT, a->id), ==, 1);
        g_assert_cmpstr(only_change(f, OBJECT_SYSTEM, LOCAL_SYSTEM_ID), ==, "AccessPoints");
        g_assert_cmpuint(f->notes->len, ==, 2);

        peer = add_peer(f, PEER_NAME);
        notes_clear(f);
        spec = (AccessPointSpec) { .address = "Portal.Example.ORG", .port = 3261,
                                   .target_name = "iqn.2024-01.org.example:target", .portal_group_tag = 7 };
        g_assert_cmpint(engine_add_access_point(f->engine, &f->caller, PATH(OBJECT_SYSTEM, peer), &spec, &remote,
                                                &f->err), ==, 0);
        flush(f);
        g_assert_cmpstr(only_change(f, OBJECT_SYSTEM, peer), ==, "AccessPoints");

        stored = stored_model(f);
        g_assert_cmpuint(stored->access_points.n, ==, 2);
        g_assert_cmpstr(model_get_access_point(stored, remote)->address, ==, "portal.example.org");
        g_assert_cmpuint(model_get_access_point(stored, remote)->port, ==, 3261);
        g_assert_cmpuint(model_get_access_point(stored, remote)->portal_group_tag, ==, 7);
        g_assert_cmpuint(model_get_access_point(stored, remote)->system_id, ==, peer);
        model_free(stored);
        assert_model_is_stored(f);

        /* Every failure leaves model and store as they were, and announces nothing. */
        notes_clear(f);
        before = snapshot(f, true);

        spec = (AccessPointSpec) { .address = "192.0.2.1", .port = 3260 };
        g_assert_cmpint(engine_add_access_point(f->engine, &f->caller, LOCAL_SYSTEM_PATH, &spec, NULL, &f->err), ==,
                        -EADDRNOTAVAIL);
        g_assert_nonnull(strstr(f->err.message, "192.0.2.1"));
        repl_error_clear(&f->err);

        spec = (AccessPointSpec) { .address = "localhost", .port = 3260 };
        assert_failed(f, engine_add_access_point(f->engine, &f->caller, LOCAL_SYSTEM_PATH, &spec, NULL, &f->err),
                      -EINVAL);
        spec = (AccessPointSpec) { .address = "127.0.0.1", .port = 0 };
        assert_failed(f, engine_add_access_point(f->engine, &f->caller, LOCAL_SYSTEM_PATH, &spec, NULL, &f->err),
                      -EINVAL);
        spec = (AccessPointSpec) { .address = "", .port = 3260 };
        assert_failed(f, engine_add_access_point(f->engine, &f->caller, LOCAL_SYSTEM_PATH, &spec, NULL, &f->err),
                      -EINVAL);
        spec = (AccessPointSpec) { .address = "127.0.0.1", .port = 3260, .target_name = "not-an-iscsi-name" };
        assert_failed(f, engine_add_access_point(f->engine, &f->caller, LOCAL_SYSTEM_PATH, &spec, NULL, &f->err),
                      -EINVAL);
        /* The same portal and target twice on one system; the address in another spelling too. */
        spec = (AccessPointSpec) { .address = "127.0.0.1", .port = 3260 };
        assert_failed(f, engine_add_access_point(f->engine, &f->caller, LOCAL_SYSTEM_PATH, &spec, NULL, &f->err),
                      -EEXIST);
        spec = (AccessPointSpec) { .address = "portal.example.org", .port = 3261,
                                   .target_name = "iqn.2024-01.org.example:target" };
        assert_failed(f, engine_add_access_point(f->engine, &f->caller, PATH(OBJECT_SYSTEM, peer), &spec, NULL,
                                                 &f->err), -EEXIST);
        /* References that name no system. */
        spec = (AccessPointSpec) { .address = "127.0.0.2", .port = 3260 };
        assert_failed(f, engine_add_access_point(f->engine, &f->caller, PATH(OBJECT_SYSTEM, 999), &spec, NULL, &f->err),
                      -EINVAL);
        assert_failed(f, engine_add_access_point(f->engine, &f->caller, PATH(OBJECT_ACCESS_POINT, remote), &spec, NULL,
                                                 &f->err), -EINVAL);
        assert_failed(f, engine_add_access_point(f->engine, &f->caller, NULL_PATH, &spec, NULL, &f->err), -EINVAL);

        assert_unchanged(f, &before, true);
        g_assert_cmpuint(f->notes->len, ==, 0);
        snapshot_done(&before);
}

static void test_add_secrets(Fixture *f, gconstpointer data) {
        SecretSpec spec = { .username = "alice", .secret = "0123456789a" };        /* 11 bytes */
        const char *ap_path;
        SharedSecret *s;
        uint64_t id = 0, ap, local, first, second;
        Snapshot before;
        Model *stored;

        ap = add_access_point(f, add_peer(f, PEER_NAME), LISTEN_ADDRESS, 3260);
        local = add_access_point(f, LOCAL_SYSTEM_ID, "127.0.0.1", 3260);
        ap_path = PATH(OBJECT_ACCESS_POINT, ap);
        notes_clear(f);

        before = snapshot(f, true);
        g_assert_cmpint(engine_add_secret(f->engine, &f->caller, ap_path, &spec, &id, &f->err), ==, -EINVAL);
        /* The message tells the length, never the secret. */
        g_assert_null(strstr(f->err.message, spec.secret));
        g_assert_nonnull(strstr(f->err.message, "11"));
        repl_error_clear(&f->err);
        g_assert_cmpuint(id, ==, 0);

        spec = (SecretSpec) { .username = "", .secret = "0123456789ab" };
        assert_failed(f, engine_add_secret(f->engine, &f->caller, ap_path, &spec, NULL, &f->err), -EINVAL);
        spec = (SecretSpec) { .username = "alice", .secret = "0123456789ab", .mutual_username = "bob" };
        assert_failed(f, engine_add_secret(f->engine, &f->caller, ap_path, &spec, NULL, &f->err), -EINVAL);
        spec = (SecretSpec) { .username = "alice", .secret = "0123456789ab", .mutual_username = "bob",
                              .mutual_secret = "short" };
        assert_failed(f, engine_add_secret(f->engine, &f->caller, ap_path, &spec, NULL, &f->err), -EINVAL);
        spec = (SecretSpec) { .username = "alice", .secret = "0123456789ab" };
        assert_failed(f, engine_add_secret(f->engine, &f->caller, PATH(OBJECT_ACCESS_POINT, 999), &spec, NULL,
                                           &f->err), -EINVAL);
        /* A secret authenticates this host to a peer: never one of this host's own portals. */
        assert_failed(f, engine_add_secret(f->engine, &f->caller, PATH(OBJECT_ACCESS_POINT, local), &spec, NULL,
                                           &f->err), -EINVAL);
        assert_unchanged(f, &before, true);
        g_assert_cmpuint(f->notes->len, ==, 0);
        snapshot_done(&before);

        /* 12 bytes is the least RFC 7143 allows. */
        g_assert_cmpint(engine_add_secret(f->engine, &f->caller, ap_path, &spec, &first, &f->err), ==, 0);
        flush(f);
        s = model_get_secret(f->engine->model, first);
        g_assert_nonnull(s);
        g_assert_cmpuint(s->access_point_id, ==, ap);
        g_assert_cmpuint(model_get_access_point(f->engine->model, ap)->secret_id, ==, first);
        g_assert_cmpuint(notes_count(f, NOTE_ADDED, OBJECT_SECRET, first), ==, 1);
        g_assert_cmpstr(only_change(f, OBJECT_ACCESS_POINT, ap), ==, "SharedSecret");
        assert_model_is_stored(f);

        /* A second secret for the access point replaces the first. */
        notes_clear(f);
        spec = (SecretSpec) { .username = "carol", .secret = "abcdefghijklmnop", .mutual_username = "dave",
                              .mutual_secret = "ponmlkjihgfedcba" };
        g_assert_cmpint(engine_add_secret(f->engine, &f->caller, ap_path, &spec, &second, &f->err), ==, 0);
        flush(f);
        g_assert_cmpuint(notes_count(f, NOTE_REMOVED, OBJECT_SECRET, first), ==, 1);
        g_assert_cmpuint(notes_count(f, NOTE_ADDED, OBJECT_SECRET, second), ==, 1);
        g_assert_null(model_get_secret(f->engine->model, first));
        g_assert_cmpuint(model_get_access_point(f->engine->model, ap)->secret_id, ==, second);
        stored = stored_model(f);
        g_assert_cmpuint(stored->secrets.n, ==, 1);
        g_assert_cmpstr(model_get_secret(stored, second)->mutual_secret, ==, "ponmlkjihgfedcba");
        g_assert_cmpuint(model_get_access_point(stored, ap)->secret_id, ==, second);
        model_free(stored);
        assert_model_is_stored(f);

        /* A secret bound to no access point. */
        spec = (SecretSpec) { .username = "erin", .secret = "0123456789ab" };
        g_assert_cmpint(engine_add_secret(f->engine, &f->caller, NULL_PATH, &spec, &id, &f->err), ==, 0);
        flush(f);
        s = model_get_secret(f->engine->model, id);
        g_assert_nonnull(s);
        g_assert_cmpuint(s->access_point_id, ==, 0);
        assert_model_is_stored(f);
}

static void test_reopen_keeps_everything(Fixture *f, gconstpointer data) {
        uint64_t peer = add_peer(f, PEER_NAME);
        uint64_t ap = add_access_point(f, peer, LISTEN_ADDRESS, 3260);
        SecretSpec spec = { .username = "alice", .secret = "0123456789ab" };
        g_autofree char *dump = NULL, *again = NULL;
        uint64_t next_id, secret;

        g_assert_cmpint(engine_add_secret(f->engine, &f->caller, PATH(OBJECT_ACCESS_POINT, ap), &spec, &secret,
                                          &f->err), ==, 0);
        flush(f);
        create_collection(f, "c", NULL, true);
        dump = model_dump(f->engine->model, true);
        next_id = f->engine->model->next_id;
        engine_close(f);

        engine_open(f);
        again = model_dump(f->engine->model, true);
        g_assert_cmpstr(again, ==, dump);
        /* Ids are never handed out twice. */
        g_assert_cmpuint(f->engine->model->next_id, >=, next_id);
        g_assert_cmpuint(add_peer(f, "iqn.2024-01.org.example:next"), >=, next_id);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        /* The engine logs every change at info; keep the TAP output readable. */
        log_set_max_level(g_getenv("TEST_ENGINE_DEBUG") ? LOG_DEBUG : LOG_WARNING);

#define ADD(path, setup_fn, fn) g_test_add(path, Fixture, NULL, setup_fn, fn, teardown)
        ADD("/engine/peers/add", setup_empty, test_add_peer);
        ADD("/engine/access-points/add", setup_empty, test_add_access_points);
        ADD("/engine/secrets/add", setup_empty, test_add_secrets);
        ADD("/engine/store/reopen-keeps-everything", setup_empty, test_reopen_keeps_everything);
#undef ADD

        return g_test_run();
}
