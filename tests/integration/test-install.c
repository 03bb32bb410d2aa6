/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The install as a user does it (issue 8, item 1): `meson install` of this
 * build into a fresh DESTDIR. Each file that systemd, dbus-daemon or polkitd
 * reads lands in a directory that reader uses, whatever the prefix; the
 * activation file names a unit that the install itself created, so D-Bus
 * activation works without `systemctl enable`; and systemd accepts the unit.
 */

#include <ftw.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define IRD_BUS_NAME "org.iscsi.ReplicationService"

static char *destdir;
static GPtrArray *installed;    /* paths as installed on the target system: files and symlinks */

static const char *need_env(const char *name) {
        const char *v = g_getenv(name);

        if (!v)
                g_error("%s is not set; run the tests through meson test", name);
        return v;
}

static void run_tool(const char *const *argv, char **ret_stdout, char **ret_stderr, int *ret_status) {
        g_autoptr(GError) error = NULL;

        g_assert_true(g_spawn_sync(NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, ret_stdout, ret_stderr,
                                   ret_status, &error));
        g_assert_no_error(error);
}

static int collect_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        if (flag == FTW_F || flag == FTW_SL)
                g_ptr_array_add(installed, g_strdup(path + strlen(destdir)));
        return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) remove(path);
        return 0;
}

static void install_into_destdir(void) {
        g_autoptr(GError) error = NULL;
        g_autofree char *out = NULL, *err = NULL;
        int status;

        destdir = g_dir_make_tmp("ird-install-XXXXXX", &error);
        g_assert_no_error(error);
        const char *const argv[] = { "meson", "install", "-C", need_env("IRD_BUILD_ROOT"), "--no-rebuild", "--quiet",
                                     "--destdir", destdir, NULL };
        run_tool(argv, &out, &err, &status);
        if (!g_spawn_check_wait_status(status, NULL))
                g_error("meson install failed:\n%s%s", out, err);

        installed = g_ptr_array_new_with_free_func(g_free);
        g_assert_cmpint(nftw(destdir, collect_entry, 16, FTW_PHYS), ==, 0);
        for (guint i = 0; i < installed->len; i++)
                g_test_message("installed %s", (const char *) installed->pdata[i]);
}

/* The one installed path ending in suffix. */
static const char *installed_path(const char *suffix) {
        const char *found = NULL;

        for (guint i = 0; i < installed->len; i++)
                if (g_str_has_suffix(installed->pdata[i], suffix)) {
                        if (found)
                                g_error("installed twice: %s and %s", found, (const char *) installed->pdata[i]);
                        found = installed->pdata[i];
                }
        if (!found)
                g_error("nothing installed ends in %s", suffix);
        return found;
}

static char *in_destdir(const char *path) {
        return g_strconcat(destdir, path, NULL);
}

static void assert_dir_among(const char *path, const char *const *dirs, const char *reader) {
        g_autofree char *dir = g_path_get_dirname(path);

        if (!g_strv_contains(dirs, dir)) {
                g_autofree char *list = g_strjoinv(" ", (char **) dirs);
                g_error("%s is installed in %s, where %s does not look (it reads %s)", path, dir, reader, list);
        }
}

/* ---- activation ---- */

/* systemd's own list of unit directories. */
static char **systemd_unit_paths(void) {
        g_autofree char *out = NULL;
        int status;

        const char *const argv[] = { "systemd-analyze", "unit-paths", NULL };
        run_tool(argv, &out, NULL, &status);
        g_assert_true(g_spawn_check_wait_status(status, NULL));
        g_strstrip(out);
        return g_strsplit(out, "\n", -1);
}

static char *unit_exec_start(const char *unit_text) {
        g_autoptr(GRegex) re = g_regex_new("^ExecStart=(\\S+)", G_REGEX_MULTILINE, 0, NULL);
        g_autoptr(GMatchInfo) match = NULL;

        if (!g_regex_match(re, unit_text, 0, &match))
                g_error("no ExecStart= in the unit");
        return g_match_info_fetch(match, 1);
}

static void test_activation_names_installed_unit(void) {
        g_autoptr(GError) error = NULL;
        /* dbus-daemon's <standard_system_servicedirs/>. */
        const char *const dbus_service_dirs[] = { "/usr/local/share/dbus-1/system-services",
                                                  "/usr/share/dbus-1/system-services", "/lib/dbus-1/system-services",
                                                  NULL };
        const char *activation = installed_path("/dbus-1/system-services/" IRD_BUS_NAME ".service");
        assert_dir_among(activation, dbus_service_dirs, "dbus-daemon");

        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autofree char *activation_file = in_destdir(activation);
        g_assert_true(g_key_file_load_from_file(kf, activation_file, G_KEY_FILE_NONE, &error));
        g_assert_no_error(error);
        g_autofree char *name = g_key_file_get_string(kf, "D-BUS Service", "Name", &error);
        g_assert_no_error(error);
        g_assert_cmpstr(name, ==, IRD_BUS_NAME);
        g_autofree char *unit_name = g_key_file_get_string(kf, "D-BUS Service", "SystemdService", &error);
        g_assert_no_error(error);

        /* The unit it names is a file (or a symlink to one) that this install created, where systemd looks. */
        g_autofree char *suffix = g_strconcat("/", unit_name, NULL);
        const char *unit = installed_path(suffix);
        g_auto(GStrv) unit_dirs = systemd_unit_paths();
        assert_dir_among(unit, (const char *const *) unit_dirs, "systemd");
        g_autofree char *unit_file = in_destdir(unit);
        g_autofree char *unit_text = NULL;
        g_assert_true(g_file_get_contents(unit_file, &unit_text, NULL, &error));
        g_assert_no_error(error);
        g_assert_nonnull(strstr(unit_text, "\nBusName=" IRD_BUS_NAME "\n"));

        /* The unit needs no enabling: nothing for `systemctl enable` to do. */
        g_assert_null(strstr(unit_text, "[Install]"));

        /* systemd accepts it. */
        g_autofree char *exec_start = unit_exec_start(unit_text);
        g_autofree char *exec_in_destdir = in_destdir(exec_start);
        g_assert_true(g_file_test(exec_in_destdir, G_FILE_TEST_IS_EXECUTABLE));
        g_autofree char *out = NULL, *err = NULL;
        int status;
        const char *const argv[] = { "systemd-analyze", "verify", "--man=no", unit_file, NULL };
        run_tool(argv, &out, &err, &status);
        g_test_message("systemd-analyze verify: %s%s", out, err);
        g_auto(GStrv) lines = g_strsplit(err, "\n", -1);
        for (size_t i = 0; lines[i]; i++) {
                if (!*lines[i])
                        continue;
                g_autofree char *lower = g_ascii_strdown(lines[i], -1);
                /* Only what installing does not do: the user comes from sysusers, and the binary is in DESTDIR. */
                if (strstr(lower, "iscsi-replication") && strstr(lower, "user"))
                        continue;
                if (strstr(lines[i], exec_start) && strstr(lower, "not executable"))
                        continue;
                g_error("systemd-analyze verify complained: %s", lines[i]);
        }
}

/* ---- files read from fixed directories ---- */

/* The directories dbus-daemon's system.conf includes bus policies from. */
static char **dbus_policy_dirs(void) {
        g_autoptr(GError) error = NULL;
        const char *conf = "/usr/share/dbus-1/system.conf";
        g_autofree char *text = NULL;
        g_autoptr(GPtrArray) dirs = g_ptr_array_new();
        g_autoptr(GRegex) re = g_regex_new("<includedir>([^<]+)</includedir>", 0, 0, NULL);
        g_autoptr(GMatchInfo) match = NULL;

        g_assert_true(g_file_get_contents(conf, &text, NULL, &error));
        g_assert_no_error(error);
        for (g_regex_match(re, text, 0, &match); g_match_info_matches(match); g_match_info_next(match, NULL)) {
                g_autofree char *dir = g_match_info_fetch(match, 1);
                g_ptr_array_add(dirs, g_path_is_absolute(dir) ? g_strdup(dir)
                                                                : g_build_filename("/usr/share/dbus-1", dir, NULL));
        }
        g_assert_cmpuint(dirs->len, >, 0);
        g_ptr_array_add(dirs, NULL);
        return (char **) g_ptr_array_free(g_steal_pointer(&dirs), FALSE);
}

static void test_fixed_directories(void) {
        g_auto(GStrv) policy_dirs = dbus_policy_dirs();
        /* polkitd reads actions from one directory; systemd-sysusers from these. */
        const char *const polkit_dirs[] = { "/usr/share/polkit-1/actions", NULL };
        const char *const sysusers_dirs[] = { "/etc/sysusers.d", "/run/sysusers.d", "/usr/local/lib/sysusers.d",
                                              "/usr/lib/sysusers.d", NULL };

        assert_dir_among(installed_path("/" IRD_BUS_NAME ".conf"), (const char *const *) policy_dirs, "dbus-daemon");
        assert_dir_among(installed_path("/org.iscsi.replication.policy"), polkit_dirs, "polkitd");
        assert_dir_among(installed_path("/sysusers.d/iscsi-replicationd.conf"), sysusers_dirs, "systemd-sysusers");

        /* The daemon and the client follow the prefix. */
        const char *prefix = need_env("IRD_PREFIX");
        g_autofree char *daemon = g_strconcat(prefix, "/", need_env("IRD_LIBEXECDIR"), "/iscsi-replicationd", NULL);
        g_autofree char *client = g_strconcat(prefix, "/", need_env("IRD_BINDIR"), "/iscsi-replctl", NULL);
        g_assert_true(g_ptr_array_find_with_equal_func(installed, daemon, g_str_equal, NULL));
        g_assert_true(g_ptr_array_find_with_equal_func(installed, client, g_str_equal, NULL));
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);

        install_into_destdir();
        g_test_add_func("/install/activation/names-installed-unit", test_activation_names_installed_unit);
        g_test_add_func("/install/fixed-directories", test_fixed_directories);
        int r = g_test_run();

        (void) nftw(destdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        g_ptr_array_unref(installed);
        g_free(destdir);
        return r;
}
