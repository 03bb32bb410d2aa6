/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * iscsi-replctl against the daemon on a private bus: the volume and replica
 * commands (API.md section 10), against a stand-in for the replica
 * interfaces (replica-standin.h). Driving the client: cli-fixture.h.
 */

#include <string.h>

#include "cli-fixture.h"
#include "replica-standin.h"

static void test_replica_usage(Harness *h, gconstpointer data) {
        static const struct {
                const char *args[8];
                const char *message;
        } cases[] = {
                { { "add-volume", "lan" }, "add-volume needs --lun=N.\n" },
                { { "add-volume", "lan", "--lun=65536" }, "Invalid LUN \"65536\" (expected 0…65535).\n" },
                { { "add-volume", "lan", "--lun", "-1" }, "Invalid LUN \"-1\" (expected 0…65535).\n" },
                { { "create-replica", "r" }, "create-replica needs --mirror (kept in sync) or --clone (one copy).\n" },
                { { "create-replica", "r", "--mirror", "--clone" }, "--mirror and --clone exclude each other.\n" },
                { { "create-replica", "r", "--clone", "--source=a", "--collection=c" },
                  "create-replica needs --source=VOLUME, --target=VOLUME and --collection=COLLECTION.\n" },
                { { "create-replica", "r", "--mirror", "--chunk-size=1.5M" },
                  "Invalid value for --chunk-size: \"1.5M\" (expected a number of bytes, or with K, M, G or T).\n" },
                { { "create-replica", "r", "--mirror", "--chunk-size", "4G" },
                  "Invalid value for --chunk-size: \"4G\" (too large).\n" },
                { { "create-replica", "r", "--mirror", "--interval=5m" },
                  "Invalid value for --interval: \"5m\" (expected seconds, or a number with ms, s, min, h or d).\n" },
                { { "create-replica", "r", "--mirror", "--bandwidth=fast" },
                  "Invalid value for --bandwidth: \"fast\" (expected a number of bytes, or with K, M, G or T).\n" },
                { { "create-replica", "r", "--mirror", "--lun=1" }, "--lun does not apply to create-replica.\n" },
                { { "suspend", "r", "--bandwidth=1M" }, "--bandwidth does not apply to suspend.\n" },
                { { "resync", "r", "--mirror" }, "--mirror/--clone does not apply to resync.\n" },
                { { "add-volume", "lan", "--lun=0", "--collection=c" }, "--collection does not apply to add-volume.\n" },
                { { "modify", "backup-set", "--bandwidth=1M" },
                  "--bandwidth and --interval apply to replicas, not to collections.\n" },
                { { "create-replica", "r", "--mirror", "--source=volume/1", "--target=volume/2", "--collection=c" },
                  "No object " IRD_ROOT "/volume/1 exists.\n" },
                { { "detach", "7" }, NULL },
        };

        g_free(CLI_OUT(h, "add-access-point", "local", "127.0.0.1", "--element-name=lan"));
        g_autofree char *collection = CLI_OUT(h, "create-collection", "backup-set", "--local=lan");
        g_autofree char *before = harness_snapshot(h);

        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(CliResult) r = cli_runv(h, cases[i].args);

                if (r->status != CLI_INVALID)
                        g_error("case %zu (%s): exit %d, expected %d", i, cases[i].args[0], r->status, CLI_INVALID);
                if (cases[i].message)
                        g_assert_cmpstr(r->err, ==, cases[i].message);
                else
                        g_assert_cmpstr(r->err, !=, "");
                g_assert_cmpstr(r->out, ==, "");
        }
        /* A name of the wrong kind says which kind was meant. */
        g_autoptr(CliResult) wrong_kind = CLI(h, "compare", collection);
        g_assert_cmpint(wrong_kind->status, ==, CLI_INVALID);
        g_autofree char *expected = g_strdup_printf("%s is a collection, where a replica is expected.\n", collection);
        g_assert_cmpstr(wrong_kind->err, ==, expected);
        g_autofree char *after = harness_snapshot(h);
        g_assert_cmpstr(after, ==, before);

        g_autofree char *help = CLI_OUT(h, "--help");
        g_assert_nonnull(strstr(help, "create-replica NAME --mirror|--clone"));
}

static void test_replica_lists(Harness *h, gconstpointer data) {
        g_autofree char *volumes = CLI_OUT(h, "list-volumes");
        g_assert_true(g_str_has_prefix(volumes, "PATH NAME ACCESS POINT TARGET LUN SIZE LOCAL"));
        g_assert_true(g_str_has_suffix(volumes, "\n0 volumes listed."));
        g_autofree char *replicas = CLI_OUT(h, "list-replicas");
        g_assert_true(g_str_has_prefix(replicas, "PATH NAME TYPE STATE PROGRESS SOURCE COPY LAST SYNC"));
        g_assert_true(g_str_has_suffix(replicas, "\n0 replicas listed."));
        g_autofree char *json = CLI_OUT(h, "list-replicas", "--json");
        g_assert_cmpstr(json, ==, "[]");
        g_autofree char *bare = CLI_OUT(h, "list-volumes", "--no-legend");
        g_assert_cmpstr(bare, ==, "");

        g_autofree char *status = CLI_OUT(h, "status");
        g_assert_nonnull(strstr(status, "            Volumes: 0\n"));
        g_assert_nonnull(strstr(status, "           Replicas: 0\n"));
}

/*
 * Against a service without the replica methods, the client says what is
 * missing and that the service may be older, instead of only sd-bus's words.
 * Once the service implements AddStorageVolume there is nothing to check.
 */
static void test_replica_service_without(Harness *h, gconstpointer data) {
        g_autofree char *introspection = harness_introspect(h, IRD_ROOT);
        if (strstr(introspection, "\"AddStorageVolume\"")) {
                g_test_skip("the service implements the replica methods");
                return;
        }
        g_free(CLI_OUT(h, "add-access-point", "local", "127.0.0.1", "--element-name=lan"));

        g_autoptr(CliResult) r = CLI(h, "add-volume", "lan", "--lun=0");
        g_assert_cmpint(r->status, ==, CLI_INVALID);
        g_assert_true(g_str_has_prefix(r->err, "Failed to add the volume: the service does not offer this call ("));
        g_assert_nonnull(strstr(r->err, "AddStorageVolume"));
        g_assert_true(g_str_has_suffix(r->err, "). It may be older than iscsi-replctl.\n"));
        g_assert_cmpstr(r->out, ==, "");
}

/*
 * A replica job's progress carries what its synchronization has sent, at
 * what rate, and the time the job expects to need. Against the stand-in
 * until the daemon serves replicas (replica-standin.h).
 */
static void test_replica_progress(Harness *h, gconstpointer data) {
        harness_stop_daemon(h);
        g_autoptr(ReplicaStandin) standin = replica_standin_new(h->bus_address);

        g_autoptr(CliResult) r = CLI(h, "resync", "db-mirror");
        g_assert_cmpint(r->status, ==, CLI_OK);
        g_assert_cmpstr(replica_standin_job_method(standin), ==, "ModifyReplicaSynchronization");
        g_autofree char *args = g_variant_print(replica_standin_job_arguments(standin), FALSE);
        g_assert_cmpstr(args, ==, "(14, '" STANDIN_SYNCHRONIZATION "', {})");
        g_assert_cmpstr(r->out, ==, "");
        /* While running: the numbers and a time left (the clock moved on a little since the call). */
        const char *running = strstr(r->err, STANDIN_JOB ": running, 42%, 1.5 GiB sent, 85.0 MiB/s, ");
        g_assert_nonnull(running);
        g_assert_true(g_str_has_prefix(running + strlen(STANDIN_JOB ": running, 42%, 1.5 GiB sent, 85.0 MiB/s, "),
                                       "2:0"));
        g_assert_nonnull(strstr(running, " left, Copying\n"));
        /* Finished: no time left any more. */
        g_assert_nonnull(strstr(r->err, STANDIN_JOB ": completed, 100%, 1.5 GiB sent, 85.0 MiB/s, Copying\n"));
}

/* create-replica sends what was typed, in the contract's units, and prints the replica once its cycle ended. */
static void test_replica_create(Harness *h, gconstpointer data) {
        harness_stop_daemon(h);
        g_autoptr(ReplicaStandin) standin = replica_standin_new(h->bus_address);

        g_autoptr(CliResult) r = CLI(h, "create-replica", "db-mirror", "--mirror", "--source=db", "--target", "db-copy",
                                     "--collection=backup-set", "--interval=10min", "--bandwidth=50M",
                                     "--chunk-size", "4M");
        g_assert_cmpint(r->status, ==, CLI_OK);
        g_assert_cmpstr(r->out, ==, STANDIN_SYNCHRONIZATION "\n");
        /* The synchronization the reply named is followed from the start. */
        g_assert_nonnull(strstr(r->err, STANDIN_JOB ": running, 42%, 1.5 GiB sent, 85.0 MiB/s, "));

        g_assert_cmpstr(replica_standin_job_method(standin), ==, "CreateElementReplica");
        GVariant *args = replica_standin_job_arguments(standin);
        g_autoptr(GVariant) settings = NULL;
        const char *name, *source, *target, *collection;
        guint16 type, mode;
        g_variant_get(args, "(&sqq&o&o&o@a{sv})", &name, &type, &mode, &source, &target, &collection, &settings);
        g_assert_cmpstr(name, ==, "db-mirror");
        g_assert_cmpuint(type, ==, 6);
        g_assert_cmpuint(mode, ==, 3);
        g_assert_cmpstr(source, ==, STANDIN_SOURCE);
        g_assert_cmpstr(target, ==, STANDIN_TARGET);
        g_assert_cmpstr(collection, ==, STANDIN_COLLECTION);
        g_autofree char *text = g_variant_print(settings, TRUE);
        g_assert_cmpstr(text, ==,
                        "{'CycleInterval': <uint64 600000000>, 'BandwidthLimit': <uint64 52428800>, "
                        "'ChunkSize': <uint32 4194304>}");
}

/* The lists name a replica's volumes, and modify and delete treat a replica as the contract says. */
static void test_replica_objects(Harness *h, gconstpointer data) {
        harness_stop_daemon(h);
        g_autoptr(ReplicaStandin) standin = replica_standin_new(h->bus_address);

        g_autofree char *volumes = CLI_OUT(h, "list-volumes", "--no-legend");
        g_auto(GStrv) volume_rows = g_strsplit(volumes, "\n", -1);
        g_assert_cmpuint(g_strv_length(volume_rows), ==, 2);
        g_assert_true(g_regex_match_simple("^" STANDIN_SOURCE " +db +- +iqn.2026-11.org.example:disk +1 +1.0 GiB +yes$",
                                           volume_rows[0], 0, 0));
        g_assert_true(g_regex_match_simple("^" STANDIN_TARGET " +db-copy +.* +2 +1.0 GiB +no$", volume_rows[1], 0, 0));

        g_autofree char *replicas = CLI_OUT(h, "list-replicas");
        g_assert_true(g_regex_match_simple("\n" STANDIN_SYNCHRONIZATION
                                           " +db-mirror +mirror +synchronized +synchronizing 42% +db +db-copy +-\n",
                                           replicas, 0, 0));
        g_assert_true(g_str_has_suffix(replicas, "\n1 replica listed."));

        g_autoptr(CliResult) deleted = CLI(h, "delete", "db-mirror");
        g_assert_cmpint(deleted->status, ==, CLI_INVALID);
        g_assert_cmpstr(deleted->err, ==,
                        "A replica is not deleted but detached: iscsi-replctl detach " STANDIN_SYNCHRONIZATION "\n");

        g_free(CLI_OUT(h, "modify", "db-mirror", "--bandwidth=0", "--interval=0", "--element-name=db-mirror-2"));
        GVariant *modify = replica_standin_modify_arguments(standin);
        g_assert_nonnull(modify);
        g_autofree char *text = g_variant_print(modify, TRUE);
        g_assert_cmpstr(text, ==,
                        "({'ElementName': <'db-mirror-2'>, 'BandwidthLimit': <uint64 0>, 'CycleInterval': <uint64 0>},)");
        g_autoptr(CliResult) flags = CLI(h, "modify", "db-mirror", "--active=no");
        g_assert_cmpint(flags->status, ==, CLI_INVALID);
        g_assert_cmpstr(flags->err, ==, "--active and --delete-on-unassociated apply to collections, not to replicas.\n");
}

/* add-volume prints the volume its job found, compare says when the copy is equal; neither shows bytes sent. */
static void test_replica_volume_and_compare(Harness *h, gconstpointer data) {
        harness_stop_daemon(h);
        g_autoptr(ReplicaStandin) standin = replica_standin_new(h->bus_address);

        g_autoptr(CliResult) added = CLI(h, "add-volume", "127.0.0.1:3260", "--lun=7",
                                         "--target-name=iqn.2026-11.org.example:t", "--element-name=db");
        g_assert_cmpint(added->status, ==, CLI_OK);
        g_assert_cmpstr(added->out, ==, STANDIN_SOURCE "\n");
        g_assert_cmpstr(replica_standin_job_method(standin), ==, "AddStorageVolume");
        g_autofree char *args = g_variant_print(replica_standin_job_arguments(standin), TRUE);
        g_assert_cmpstr(args, ==,
                        "(objectpath '" STANDIN_ACCESS_POINT "', {'LUN': <uint16 7>, "
                        "'TargetName': <'iqn.2026-11.org.example:t'>, 'ElementName': <'db'>})");
        g_assert_nonnull(strstr(added->err, STANDIN_JOB ": running, 42%, Copying\n"));
        g_assert_null(strstr(added->err, "sent"));

        /* The stand-in's one job has ended: the client sees that at once and reports the result. */
        g_autoptr(CliResult) compared = CLI(h, "compare", "db-mirror");
        g_assert_cmpint(compared->status, ==, CLI_OK);
        g_assert_cmpstr(compared->out, ==, "The copy equals the source.\n");
        g_assert_cmpstr(replica_standin_job_method(standin), ==, "Compare");
        g_assert_null(strstr(compared->err, "sent"));
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);

        harness_add_test("/integration/cli/replicas/usage", NULL, test_replica_usage);
        harness_add_test("/integration/cli/replicas/lists", NULL, test_replica_lists);
        harness_add_test("/integration/cli/replicas/service-without", NULL, test_replica_service_without);
        harness_add_test("/integration/cli/replicas/progress", NULL, test_replica_progress);
        harness_add_test("/integration/cli/replicas/create", NULL, test_replica_create);
        harness_add_test("/integration/cli/replicas/objects", NULL, test_replica_objects);
        harness_add_test("/integration/cli/replicas/volume-and-compare", NULL, test_replica_volume_and_compare);

        return g_test_run();
}
