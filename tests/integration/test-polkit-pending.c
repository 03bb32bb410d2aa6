/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * While polkit thinks, against the real polkitd held by a rule: the service
 * serves everyone else meanwhile, and never asks polkit about root. The
 * fixture: polkit-fixture.h.
 */

#include "polkit-fixture.h"

#include <string.h>

typedef struct PendingCall {
        GSubprocess *proc;
        gboolean done;
        gboolean ok;
        char *output;
} PendingCall;

static void pending_call_clear(PendingCall *p) {
        g_clear_object(&p->proc);
        g_free(p->output);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(PendingCall, pending_call_clear)

static void on_pending_call_done(GObject *source, GAsyncResult *result, gpointer user_data) {
        PendingCall *p = user_data;
        g_autoptr(GError) error = NULL;
        GSubprocess *proc = G_SUBPROCESS(source);

        g_subprocess_communicate_utf8_finish(proc, result, &p->output, NULL, &error);
        g_assert_no_error(error);
        p->ok = g_subprocess_get_if_exited(proc) && g_subprocess_get_exit_status(proc) == 0;
        p->done = TRUE;
}

typedef struct HoldWait {
        Fixture *f;
        PendingCall *pending;
} HoldWait;

static gboolean held_or_answered(gpointer user_data) {
        HoldWait *w = user_data;
        return w->f->held || w->pending->done;
}

static gboolean pending_done(gpointer user_data) {
        return ((PendingCall *) user_data)->done;
}

/*
 * polkit answers a collection Modify only when the test says so: the rule
 * calls the test and waits for the reply, then says yes. The authorization
 * is pending for exactly as long as the test needs, with no clock involved,
 * and polkitd answers nothing else meanwhile (a rule runs to completion).
 */
static void write_hold_rule(Fixture *f) {
        g_autofree char *gdbus = g_find_program_in_path("gdbus");
        g_assert_nonnull(gdbus);
        for (const char *p = f->h.bus_address; *p; p++)
                g_assert_true(*p != '"' && *p != '\\');

        g_autofree char *rules = g_strdup_printf(
                "polkit.addRule(function(action, subject) {\n"
                "        if (action.id == \"" ACTION_COLLECTIONS "\" && action.lookup(\"method\") == \"Modify\") {\n"
                "                polkit.spawn([\"%s\", \"call\", \"--address=%s\", \"--dest=%s\",\n"
                "                              \"--object-path=" HOLD_PATH "\", \"--method=" HOLD_INTERFACE ".Wait\",\n"
                "                              action.lookup(\"method\") + \" \" + action.lookup(\"collection\")]);\n"
                "                return polkit.Result.YES;\n"
                "        }\n"
                "});\n",
                gdbus, f->h.bus_address, g_dbus_connection_get_unique_name(f->h.connection));
        write_rules(f, rules);
}

/* nobody renames the collection; returns once polkit holds the authorization. */
static void start_held_modify(Fixture *f, const char *collection, const char *new_name, PendingCall *ret) {
        ret->proc = spawn_call_as(f, NOBODY_UID, NOBODY_GID, FALSE, IRD_BUS_NAME, collection, IRD_IFACE_COLLECTION,
                                  "Modify",
                                  g_variant_new("(@a{sv})",
                                                dict_of("ElementName", g_variant_new_string(new_name), NULL)));
        g_subprocess_communicate_utf8_async(ret->proc, NULL, NULL, on_pending_call_done, ret);

        HoldWait w = { f, ret };
        harness_wait_until(&f->h, held_or_answered, &w, "polkit to hold the caller's authorization");
        if (!f->held)
                g_error("the call was answered without waiting for polkit: %s", ret->output);
        /* The rule saw the details the service passes for rules to match on. */
        g_autofree char *detail = g_strdup_printf("Modify %s", collection);
        g_assert_cmpstr(f->held_detail, ==, detail);
        g_clear_pointer(&f->held_detail, g_free);
}

/*
 * polkitd gives up on a rule's helper after a while and kills it; the
 * helper still being there shows polkit has been holding all along, so
 * whatever completed meanwhile did not wait for polkit.
 */
static void assert_still_held(Fixture *f, const PendingCall *pending) {
        g_assert_nonnull(f->held);
        g_autoptr(GVariant) reply = bus_driver_call(f, "NameHasOwner", g_variant_new("(s)", f->held_sender), "(b)");
        gboolean alive;
        g_variant_get(reply, "(b)", &alive);
        g_assert_true(alive);
        g_assert_false(pending->done);
}

static void release_held(Fixture *f, PendingCall *pending) {
        g_dbus_method_invocation_return_value(f->held, NULL);
        f->held = NULL;
        harness_wait_until(&f->h, pending_done, pending, "the held caller's answer");
}

static void test_pending_serves_others(Fixture *f, gconstpointer data) {
        SKIP_UNLESS_READY(f);
        uid_t other_uid;
        gid_t other_gid;

        other_user(&other_uid, &other_gid);
        write_hold_rule(f);
        polkitd_start(f);
        g_autofree char *collection = harness_create_collection(&f->h, "before", NULL, NULL, "/");
        harness_clear_signals(&f->h);

        g_auto(PendingCall) first = { 0 };
        start_held_modify(f, collection, "after", &first);

        /* root is served while polkit thinks. */
        g_autofree char *peer = harness_add_peer(&f->h, "iqn.2026-11.org.example:while-pending", NULL);
        /* So is a reader under another uid. */
        g_auto(CallResult) read = { 0 };
        call_service_as(f, other_uid, other_gid, FALSE, IRD_ROOT, "org.freedesktop.DBus.ObjectManager",
                        "GetManagedObjects", NULL, &read);
        if (!read.ok)
                g_error("a read by uid %u failed while an authorization was pending: %s", (unsigned) other_uid,
                        read.output);
        g_assert_nonnull(strstr(read.output, peer));

        /* The first caller still waits, and nothing of its call has happened. */
        assert_still_held(f, &first);
        g_autofree char *name = harness_get_string(&f->h, collection, IRD_IFACE_COLLECTION, "ElementName");
        g_assert_cmpstr(name, ==, "before");

        release_held(f, &first);
        if (!first.ok)
                g_error("the held call failed after polkit said yes: %s", first.output);
        g_autoptr(HarnessSignal) changed = harness_wait_signal(&f->h, collection, "org.freedesktop.DBus.Properties",
                                                               "PropertiesChanged", NULL, NULL);
        g_autoptr(GVariant) dict = harness_properties_changed_dict(changed);
        const char *value = NULL;
        g_assert_true(g_variant_lookup(dict, "ElementName", "&s", &value));
        g_assert_cmpstr(value, ==, "after");
}

/*
 * polkit itself allows uid 0 whatever the rules say, so only a polkitd that
 * cannot answer shows that the service does not ask it for root: while it is
 * held, root makes every mutating call.
 */
static void test_root_never_asks(Fixture *f, gconstpointer data) {
        SKIP_UNLESS_READY(f);
        g_auto(Seeds) s = { 0 };

        write_hold_rule(f);
        polkitd_start(f);
        seed(f, &s);
        g_autoptr(GPtrArray) calls = mutating_calls(&s);

        g_auto(PendingCall) held = { 0 };
        start_held_modify(f, s.collection, "held", &held);

        run_permitted(f, 0, 0, calls);
        assert_still_held(f, &held);
        assert_sequence_done(f, &s);

        /*
         * Meanwhile root deleted the collection the held call is about: on
         * its second pass the call finds no object, and says so (the bus
         * library's own answer for a path that names nothing).
         */
        release_held(f, &held);
        g_assert_false(held.ok);
        g_autofree char *error_name = error_name_from_output(held.output);
        g_test_message("held call on a deleted collection: %s", held.output);
        g_assert_cmpstr(error_name, ==, "org.freedesktop.DBus.Error.UnknownObject");
        harness_sync(&f->h);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);

        polkit_add_test("/polkit/root/never-asks", &with_daemon, test_root_never_asks);
        polkit_add_test("/polkit/pending/others-served", &with_daemon, test_pending_serves_others);

        return polkit_tests_run();
}
