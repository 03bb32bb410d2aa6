/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * iscsi-replctl against the daemon on a private bus: listing, showing,
 * adding and deleting systems, access points, secrets (also typed at a
 * prompt) and collections; --json output parsed and compared with the
 * service's properties; the pager and bash completion. Driving the client:
 * cli-fixture.h.
 */

#include <string.h>

#include "cli-fixture.h"

static void test_status(Harness *h, gconstpointer data) {
        g_autofree char *version = harness_get_string(h, IRD_ROOT, IRD_IFACE_SERVICE, "Version");
        g_autofree char *initiator = harness_get_string(h, IRD_ROOT, IRD_IFACE_SERVICE, "InitiatorName");

        g_autofree char *text = CLI_OUT(h, "status");
        g_assert_nonnull(strstr(text, version));
        g_assert_nonnull(strstr(text, initiator));
        g_assert_nonnull(strstr(text, "Verify access points: yes"));

        g_autofree char *json = CLI_OUT(h, "status", "--json");
        g_autoptr(JsonNode) root = parse_json(json);
        JsonObject *o = json_node_get_object(root);
        g_assert_cmpstr(json_object_get_string_member(o, "Path"), ==, IRD_ROOT);
        g_assert_cmpstr(json_object_get_string_member(o, "Version"), ==, version);
        g_assert_cmpstr(json_object_get_string_member(o, "InitiatorName"), ==, initiator);
        g_assert_cmpstr(json_object_get_string_member(o, "LocalSystem"), ==, IRD_LOCAL_SYSTEM);
        g_assert_true(json_object_get_boolean_member(o, "VerifyAccessPoints"));
        JsonArray *sync = json_object_get_array_member(o, "SupportedSynchronousActions");
        g_assert_cmpuint(json_array_get_length(sync), ==, 7);
        g_assert_cmpint(json_array_get_int_element(sync, 0), ==, 9);
}

static void test_systems(Harness *h, gconstpointer data) {
        g_autofree char *peer = CLI_OUT(h, "add-peer", PEER_IQN, "--element-name=site-b");
        g_assert_true(g_str_has_prefix(peer, IRD_ROOT "/system/"));
        g_autofree char *element_name = harness_get_string(h, peer, IRD_IFACE_SYSTEM, "ElementName");
        g_assert_cmpstr(element_name, ==, "site-b");

        g_autofree char *table = CLI_OUT(h, "list-systems");
        g_assert_true(g_str_has_prefix(table, "PATH "));
        g_assert_nonnull(strstr(table, PEER_IQN));
        g_assert_nonnull(strstr(table, "2 systems listed."));

        /* Without the legend: one line per system, the path first, as completion reads it. */
        g_autofree char *bare = CLI_OUT(h, "list-systems", "--no-legend");
        g_auto(GStrv) lines = g_strsplit(bare, "\n", -1);
        g_assert_cmpuint(g_strv_length(lines), ==, 2);
        g_assert_true(g_str_has_prefix(lines[0], IRD_LOCAL_SYSTEM " "));
        g_assert_true(g_str_has_prefix(lines[1], peer));

        g_autofree char *json = CLI_OUT(h, "list-systems", "--json");
        g_autoptr(JsonNode) root = parse_json(json);
        g_assert_cmpuint(json_array_get_length(json_node_get_array(root)), ==, 2);
        JsonObject *o = find_by_path(root, peer);
        g_assert_cmpstr(json_object_get_string_member(o, "Name"), ==, PEER_IQN);
        g_assert_cmpstr(json_object_get_string_member(o, "NameFormat"), ==, "IQN");
        g_assert_cmpstr(json_object_get_string_member(o, "ElementName"), ==, "site-b");
        g_assert_false(json_object_get_boolean_member(o, "IsLocal"));
        g_assert_cmpstr(json_object_get_string_member(o, "Reachable"), ==, "unknown");
        g_assert_cmpint(json_object_get_int_member(o, "LastVerified"), ==, 0);
        assert_json_paths(o, "AccessPoints", NULL);
        JsonObject *local = find_by_path(root, IRD_LOCAL_SYSTEM);
        g_assert_true(json_object_get_boolean_member(local, "IsLocal"));
}

static void test_access_points(Harness *h, gconstpointer data) {
        g_autofree char *peer = CLI_OUT(h, "add-peer", PEER_IQN, "--element-name=site-b");
        g_autofree char *local = CLI_OUT(h, "add-access-point", "local", "127.0.0.1:3261", "--element-name=lan");
        /* The system by its ElementName, the port defaulted. */
        g_autofree char *remote = CLI_OUT(h, "add-access-point", "site-b", "127.0.0.2", "--target-name",
                                          PEER_IQN ":disk", "--portal-group-tag", "3");

        g_autofree char *json = CLI_OUT(h, "list-access-points", "--json");
        g_autoptr(JsonNode) root = parse_json(json);
        JsonObject *l = find_by_path(root, local);
        g_assert_cmpstr(json_object_get_string_member(l, "Name"), ==, "127.0.0.1:3261");
        g_assert_cmpstr(json_object_get_string_member(l, "ElementName"), ==, "lan");
        g_assert_cmpstr(json_object_get_string_member(l, "System"), ==, IRD_LOCAL_SYSTEM);
        g_assert_true(json_object_get_boolean_member(l, "IsLocal"));
        g_assert_cmpint(json_object_get_int_member(l, "Port"), ==, 3261);
        JsonObject *r = find_by_path(root, remote);
        g_assert_cmpstr(json_object_get_string_member(r, "Address"), ==, "127.0.0.2");
        g_assert_cmpint(json_object_get_int_member(r, "Port"), ==, 3260);
        g_assert_cmpstr(json_object_get_string_member(r, "TargetName"), ==, PEER_IQN ":disk");
        g_assert_cmpint(json_object_get_int_member(r, "PortalGroupTag"), ==, 3);
        g_assert_cmpint(json_object_get_int_member(r, "ProtocolIFType"), ==, 4096);
        g_assert_cmpstr(json_object_get_string_member(r, "System"), ==, peer);
        g_assert_cmpstr(json_object_get_string_member(r, "SharedSecret"), ==, "/");

        g_autofree char *table = CLI_OUT(h, "list-access-points");
        g_assert_nonnull(strstr(table, "127.0.0.2:3260"));
        g_assert_nonnull(strstr(table, PEER_IQN ":disk"));
        g_assert_nonnull(strstr(table, "2 access points listed."));

        if (harness_ipv6_loopback_usable()) {
                g_autofree char *v6 = CLI_OUT(h, "add-access-point", PEER_IQN, "[::1]:3262");
                g_autofree char *name = harness_get_string(h, v6, IRD_IFACE_AP, "Name");
                g_assert_cmpstr(name, ==, "[::1]:3262");
        }
}

static void test_show(Harness *h, gconstpointer data) {
        g_autofree char *peer = CLI_OUT(h, "add-peer", PEER_IQN);
        const char *number = strrchr(peer, '/') + 1;

        g_autofree char *text = CLI_OUT(h, "show", number);
        g_autofree char *path_line = g_strdup_printf("Path=%s\n", peer);
        g_assert_true(g_str_has_prefix(text, path_line));
        g_assert_nonnull(strstr(text, "\nName=" PEER_IQN "\n"));
        g_assert_nonnull(strstr(text, "\nIsLocal=no\n"));

        g_autofree char *kind_number = g_strdup_printf("system/%s", number);
        g_autofree char *json = CLI_OUT(h, "show", kind_number, "--json");
        g_autoptr(JsonNode) root = parse_json(json);
        JsonObject *o = json_node_get_object(root);
        g_assert_cmpstr(json_object_get_string_member(o, "Path"), ==, peer);
        g_assert_cmpstr(json_object_get_string_member(o, "NameFormat"), ==, "IQN");

        g_autofree char *local = CLI_OUT(h, "show", "local", "--json");
        g_autoptr(JsonNode) local_root = parse_json(local);
        g_assert_true(json_object_get_boolean_member(json_node_get_object(local_root), "IsLocal"));

        g_autofree char *service = CLI_OUT(h, "show", "service");
        g_assert_nonnull(strstr(service, "LocalSystem=" IRD_LOCAL_SYSTEM "\n"));
}

static void test_json_escaping(Harness *h, gconstpointer data) {
        /* Quotes, a backslash, a tab-free non-ASCII name: all must survive a round trip. */
        const char *name = "Z\xc3\xbcrich \"A\" \\ \xe2\x9c\x93 </script>";
        g_autofree char *option = g_strdup_printf("--element-name=%s", name);
        g_autofree char *peer = CLI_OUT(h, "add-peer", "peer.example", option);

        g_autofree char *json = CLI_OUT(h, "show", peer, "--json");
        g_autoptr(JsonNode) root = parse_json(json);
        g_assert_cmpstr(json_object_get_string_member(json_node_get_object(root), "ElementName"), ==, name);
}

static void test_secrets(Harness *h, gconstpointer data) {
        g_autofree char *peer = CLI_OUT(h, "add-peer", PEER_IQN);
        g_autofree char *ap = CLI_OUT(h, "add-access-point", peer, "127.0.0.2");
        g_autofree char *secret_file = write_temp_file(h, "secret", "twelve-bytes-or-more\n");
        g_autofree char *mutual_file = write_temp_file(h, "mutual", "another-long-secret");
        g_autofree char *secret_option = g_strdup_printf("--secret-file=%s", secret_file);
        g_autofree char *mutual_option = g_strdup_printf("--mutual-secret-file=%s", mutual_file);

        g_autofree char *secret = CLI_OUT(h, "add-secret", "127.0.0.2:3260", "--username", "initiator",
                                          secret_option, "--mutual-username=target", mutual_option);
        g_assert_true(g_str_has_prefix(secret, IRD_ROOT "/secret/"));
        g_autofree char *linked = harness_get_string(h, ap, IRD_IFACE_AP, "SharedSecret");
        g_assert_cmpstr(linked, ==, secret);

        g_autofree char *json = CLI_OUT(h, "show", secret, "--json");
        g_autoptr(JsonNode) root = parse_json(json);
        JsonObject *o = json_node_get_object(root);
        g_assert_cmpstr(json_object_get_string_member(o, "Username"), ==, "initiator");
        g_assert_cmpstr(json_object_get_string_member(o, "MutualUsername"), ==, "target");
        g_assert_cmpstr(json_object_get_string_member(o, "ServiceAccessPoint"), ==, ap);
        g_assert_false(json_object_has_member(o, "Secret"));

        /* Never from the command line, and without a terminal only from a file. */
        g_autoptr(CliResult) inline_secret = CLI(h, "add-secret", ap, "--username=u", "--secret=twelve-bytes-or-more");
        g_assert_cmpint(inline_secret->status, ==, CLI_INVALID);
        g_autoptr(CliResult) no_tty = CLI(h, "add-secret", ap, "--username=u");
        g_assert_cmpint(no_tty->status, ==, CLI_INVALID);
        g_assert_nonnull(strstr(no_tty->err, "--secret-file"));
        /* Too short for RFC 7143: the service says InvalidParameter. */
        g_autofree char *short_file = write_temp_file(h, "short", "short");
        g_autofree char *short_option = g_strdup_printf("--secret-file=%s", short_file);
        g_autoptr(CliResult) too_short = CLI(h, "add-secret", ap, "--username=u", short_option);
        g_assert_cmpint(too_short->status, ==, CLI_INVALID);
}

static void test_secret_prompt(Harness *h, gconstpointer data) {
        g_autofree char *peer = CLI_OUT(h, "add-peer", PEER_IQN);
        g_autofree char *ap = CLI_OUT(h, "add-access-point", peer, "127.0.0.2");
        Pty t = {};

        pty_start(h, &t, (const char *const[]) { "add-secret", ap, "--username=initiator", NULL });
        g_assert_true(pty_read(&t, "Secret for initiator: "));
        pty_write(&t, "prompted-secret-123\n");
        g_assert_true(pty_read(&t, "Repeat the secret: "));
        pty_write(&t, "prompted-secret-123\n");
        g_assert_cmpint(pty_finish(h, &t), ==, CLI_OK);
        /* Typed without echo: the terminal never shows it. */
        g_assert_null(strstr(t.output->str, "prompted-secret"));
        g_assert_nonnull(strstr(t.output->str, IRD_ROOT "/secret/"));
        g_autofree char *linked = harness_get_string(h, ap, IRD_IFACE_AP, "SharedSecret");
        g_assert_true(g_str_has_prefix(linked, IRD_ROOT "/secret/"));
        pty_clear(&t);
}

/* iscsi-replctl(1): entries that differ are invalid input (exit 2), and nothing is added. */
static void test_secret_prompt_mismatch(Harness *h, gconstpointer data) {
        g_autofree char *peer = CLI_OUT(h, "add-peer", PEER_IQN);
        g_autofree char *ap = CLI_OUT(h, "add-access-point", peer, "127.0.0.2");
        g_autofree char *before = harness_snapshot(h);
        g_autofree char *after = NULL, *linked = NULL;
        Pty t = {};

        harness_clear_signals(h);
        pty_start(h, &t, (const char *const[]) { "add-secret", ap, "--username=initiator", NULL });
        g_assert_true(pty_read(&t, "Secret for initiator: "));
        pty_write(&t, "prompted-secret-123\n");
        g_assert_true(pty_read(&t, "Repeat the secret: "));
        pty_write(&t, "prompted-secret-124\n");
        g_assert_cmpint(pty_finish(h, &t), ==, CLI_INVALID);
        g_assert_nonnull(strstr(t.output->str, "differ"));
        g_assert_null(strstr(t.output->str, "prompted-secret"));
        g_assert_null(strstr(t.output->str, IRD_ROOT "/secret/"));

        after = harness_snapshot(h);
        g_assert_cmpstr(after, ==, before);
        g_autoptr(GPtrArray) added = harness_take_signals(h, IRD_ROOT, "org.freedesktop.DBus.ObjectManager",
                                                          "InterfacesAdded");
        g_assert_cmpuint(added->len, ==, 0);
        linked = harness_get_string(h, ap, IRD_IFACE_AP, "SharedSecret");
        g_assert_cmpstr(linked, ==, "/");
        pty_clear(&t);
}

static void test_collections(Harness *h, gconstpointer data) {
        g_autofree char *peer = CLI_OUT(h, "add-peer", PEER_IQN, "--element-name=site-b");
        g_autofree char *local = CLI_OUT(h, "add-access-point", "local", "127.0.0.1", "--element-name=lan");
        g_autofree char *remote = CLI_OUT(h, "add-access-point", "site-b", "127.0.0.2:3260");
        g_autofree char *remote2 = CLI_OUT(h, "add-access-point", "site-b", "127.0.0.5:3260");

        /* Names everywhere; "--system SYS" after the command names the remote system. */
        g_autofree char *collection = CLI_OUT(h, "create-collection", "backup-set", "--local", "lan", "--remote",
                                              "127.0.0.2:3260", "--system", "site-b", "--inactive",
                                              "--delete-on-unassociated");
        g_assert_true(g_str_has_prefix(collection, IRD_ROOT "/collection/"));

        g_autofree char *json = CLI_OUT(h, "list-collections", "--json");
        g_autoptr(JsonNode) root = parse_json(json);
        JsonObject *o = find_by_path(root, collection);
        g_assert_cmpstr(json_object_get_string_member(o, "ElementName"), ==, "backup-set");
        g_assert_false(json_object_get_boolean_member(o, "Active"));
        g_assert_true(json_object_get_boolean_member(o, "DeleteOnUnassociated"));
        g_assert_cmpstr(json_object_get_string_member(o, "Job"), ==, "/");
        assert_json_paths(o, "LocalAccessPoints", (const char *const[]) { local, NULL });
        assert_json_paths(o, "RemoteAccessPoints", (const char *const[]) { remote, NULL });
        assert_json_paths(o, "RemoteSystems", (const char *const[]) { peer, NULL });

        g_autofree char *table = CLI_OUT(h, "list-collections");
        g_assert_nonnull(strstr(table, "backup-set"));
        g_assert_nonnull(strstr(table, "1 collection listed."));

        /* add by the collection's name, the access point by its address alone */
        g_autofree char *added = CLI_OUT(h, "add", "backup-set", "--remote", "127.0.0.5");
        g_assert_cmpstr(added, ==, "");
        g_auto(GStrv) remotes = harness_get_paths(h, collection, IRD_IFACE_COLLECTION, "RemoteAccessPoints");
        harness_assert_strv_paths(remotes, (const char *const[]) { remote, remote2, NULL });

        g_autofree char *modified = CLI_OUT(h, "modify", "backup-set", "--element-name=renamed", "--active=yes",
                                            "--delete-on-unassociated=no");
        g_autofree char *new_name = harness_get_string(h, collection, IRD_IFACE_COLLECTION, "ElementName");
        g_assert_cmpstr(new_name, ==, "renamed");
        g_assert_true(harness_get_boolean(h, collection, IRD_IFACE_COLLECTION, "Active"));
        g_assert_false(harness_get_boolean(h, collection, IRD_IFACE_COLLECTION, "DeleteOnUnassociated"));

        g_autofree char *removed = CLI_OUT(h, "remove", "renamed", "--system=site-b");
        g_auto(GStrv) systems = harness_get_paths(h, collection, IRD_IFACE_COLLECTION, "RemoteSystems");
        harness_assert_strv_paths(systems, NULL);
        g_auto(GStrv) remotes_after = harness_get_paths(h, collection, IRD_IFACE_COLLECTION, "RemoteAccessPoints");
        harness_assert_strv_paths(remotes_after, NULL);

        /* The collection still holds the local access point: in use. */
        g_autoptr(CliResult) in_use = CLI(h, "delete", local);
        g_assert_cmpint(in_use->status, ==, CLI_IN_USE);

        g_autofree char *deleted = CLI_OUT(h, "delete", "renamed");
        g_auto(GStrv) paths = harness_object_paths(h);
        g_assert_false(g_strv_contains((const char *const *) paths, collection));
}

static void test_delete(Harness *h, gconstpointer data) {
        g_autofree char *peer = CLI_OUT(h, "add-peer", PEER_IQN);
        g_autofree char *ap = CLI_OUT(h, "add-access-point", peer, "127.0.0.2");
        g_autofree char *secret_file = write_temp_file(h, "secret", "twelve-bytes-or-more");
        g_autofree char *secret_option = g_strdup_printf("--secret-file=%s", secret_file);
        g_autofree char *secret = CLI_OUT(h, "add-secret", ap, "--username=u", secret_option);

        g_free(CLI_OUT(h, "delete", secret));
        g_free(CLI_OUT(h, "delete", ap));
        g_free(CLI_OUT(h, "delete", PEER_IQN));
        g_auto(GStrv) paths = harness_object_paths(h);
        harness_assert_strv_paths(paths, (const char *const[]) { IRD_LOCAL_SYSTEM, NULL });

        /* This host cannot be deleted; the service says why. */
        g_autoptr(CliResult) local = CLI(h, "delete", "local");
        g_assert_cmpint(local->status, ==, CLI_INVALID);
        g_assert_cmpstr(local->err, !=, "");
}

static void test_pager(Harness *h, gconstpointer data) {
        /* Taller than the 24-line terminal. */
        for (int i = 0; i < 30; i++) {
                g_autofree char *name = g_strdup_printf("peer%d.example", i);
                g_free(harness_add_peer(h, name, NULL));
        }
        const char *const pager_env[] = { "SYSTEMD_PAGER", NULL, "PAGER", "sed -e s/^/paged:/", NULL };
        Pty t = {};

        pty_start_env(h, &t, (const char *const[]) { "list-systems", NULL }, pager_env);
        g_assert_cmpint(pty_finish(h, &t), ==, CLI_OK);
        g_assert_nonnull(strstr(t.output->str, "paged:PATH "));
        g_assert_nonnull(strstr(t.output->str, "paged:31 systems listed."));
        pty_clear(&t);

        pty_start_env(h, &t, (const char *const[]) { "list-systems", "--no-pager", NULL }, pager_env);
        g_assert_cmpint(pty_finish(h, &t), ==, CLI_OK);
        g_assert_null(strstr(t.output->str, "paged:"));
        g_assert_nonnull(strstr(t.output->str, "31 systems listed."));
        pty_clear(&t);

        /* What fits on the screen is shown as it is. */
        pty_start_env(h, &t, (const char *const[]) { "status", NULL }, pager_env);
        g_assert_cmpint(pty_finish(h, &t), ==, CLI_OK);
        g_assert_null(strstr(t.output->str, "paged:"));
        pty_clear(&t);
}

static void test_bash_completion(Harness *h, gconstpointer data) {
        const char *completion = g_getenv("IRD_BASH_COMPLETION");
        const char *framework = "/usr/share/bash-completion/bash_completion";
        g_autoptr(GError) error = NULL;

        g_assert_nonnull(completion);
        if (!g_file_test(framework, G_FILE_TEST_EXISTS)) {
                g_test_skip("bash-completion is not installed");
                return;
        }
        g_autofree char *peer = CLI_OUT(h, "add-peer", PEER_IQN, "--element-name=site-b");
        g_autofree char *collection = CLI_OUT(h, "create-collection", "backup-set");

        /* Completes the words after `line`, as bash would on Tab, and prints the candidates. */
        static const char script[] =
                "source \"$1\"; source \"$2\"\n"
                /* Outside of a real completion compopt complains; nothing here needs it. */
                "compopt() { :; }\n"
                "complete_line() {\n"
                "    COMP_LINE=$1; COMP_POINT=${#COMP_LINE}\n"
                "    read -ra COMP_WORDS <<<\"$COMP_LINE\"\n"
                "    [[ $COMP_LINE == *' ' ]] && COMP_WORDS+=('')\n"
                "    COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=()\n"
                "    _iscsi_replctl iscsi-replctl \"${COMP_WORDS[COMP_CWORD]}\" \"${COMP_WORDS[COMP_CWORD-1]}\"\n"
                "    printf '%s\\n' \"${COMPREPLY[@]}\"\n"
                "}\n"
                "echo '## verbs'; complete_line 'iscsi-replctl list-'\n"
                "echo '## show'; complete_line \"iscsi-replctl --address=$3 show \"\n"
                "echo '## modify'; complete_line \"iscsi-replctl --address $3 modify \"\n"
                "echo '## options'; complete_line \"iscsi-replctl --address=$3 add-secret x --mut\"\n"
                "echo '## replica options'; complete_line \"iscsi-replctl --address=$3 create-replica r --c\"\n"
                "echo '## collection value'; complete_line \"iscsi-replctl --address=$3 create-replica r --collection \"\n"
                "echo '## replica verbs'; complete_line 'iscsi-replctl res'\n";
        g_autofree char *cli_dir = g_path_get_dirname(cli_path());
        g_autofree char *path = g_strdup_printf("%s:%s", cli_dir, g_getenv("PATH"));
        g_autoptr(GSubprocessLauncher) launcher =
                g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE);
        g_subprocess_launcher_setenv(launcher, "PATH", path, TRUE);
        g_autoptr(GSubprocess) bash = g_subprocess_launcher_spawn(launcher, &error, "bash", "-c", script, "bash",
                                                                  framework, completion, h->bus_address, NULL);
        g_assert_no_error(error);
        Pending p = { .process = bash };
        g_subprocess_communicate_utf8_async(bash, NULL, NULL, on_communicated, &p);
        harness_wait_for_flag(h, &p.done);
        g_test_message("completions:\n%s", p.out);
        g_assert_true(g_subprocess_get_if_exited(bash) && g_subprocess_get_exit_status(bash) == 0);

        g_autofree char *show = g_strdup_printf("## show\nlocal\n" IRD_LOCAL_SYSTEM "\n");
        g_assert_nonnull(strstr(p.out, "## verbs\nlist-systems\nlist-access-points\nlist-collections\nlist-jobs\n"));
        g_assert_nonnull(strstr(p.out, show));
        g_assert_nonnull(strstr(p.out, peer));
        g_assert_nonnull(strstr(p.out, "\n" PEER_IQN "\n"));
        g_assert_nonnull(strstr(p.out, "\nsite-b\n"));
        g_autofree char *modify = g_strdup_printf("## modify\n%s\nbackup-set\n## options", collection);
        g_assert_nonnull(strstr(p.out, modify));
        g_assert_nonnull(strstr(p.out, "## options\n--mutual-username=\n--mutual-secret-file=\n"));
        g_assert_nonnull(strstr(p.out, "## replica options\n--clone\n--collection=\n--chunk-size=\n## collection value\n"));
        g_autofree char *collection_value = g_strdup_printf("## collection value\n%s\nbackup-set\n", collection);
        g_assert_nonnull(strstr(p.out, collection_value));
        g_assert_true(g_str_has_suffix(p.out, "## replica verbs\nresume\nresync\n"));
        g_free(p.out);
        g_free(p.err);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);

        harness_add_test("/integration/cli/status", NULL, test_status);
        harness_add_test("/integration/cli/systems", NULL, test_systems);
        harness_add_test("/integration/cli/access-points", NULL, test_access_points);
        harness_add_test("/integration/cli/show", NULL, test_show);
        harness_add_test("/integration/cli/json-escaping", NULL, test_json_escaping);
        harness_add_test("/integration/cli/secrets", NULL, test_secrets);
        harness_add_test("/integration/cli/secret-prompt", NULL, test_secret_prompt);
        harness_add_test("/integration/cli/secret-prompt-mismatch", NULL, test_secret_prompt_mismatch);
        harness_add_test("/integration/cli/collections", &no_verify, test_collections);
        harness_add_test("/integration/cli/delete", NULL, test_delete);
        harness_add_test("/integration/cli/pager", NULL, test_pager);
        harness_add_test("/integration/cli/bash-completion", NULL, test_bash_completion);

        return g_test_run();
}
