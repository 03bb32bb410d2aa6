/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* contract/object-path: how model objects are named on the bus, and back (the service's and the client's). */

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "contract/object-path.h"

#define ROOT SERVICE_ROOT_PATH

static const ObjectKind numbered_kinds[] = {
        OBJECT_SYSTEM, OBJECT_ACCESS_POINT, OBJECT_COLLECTION, OBJECT_SECRET, OBJECT_JOB,
        OBJECT_VOLUME, OBJECT_SYNCHRONIZATION,
};

static void test_format(void) {
        char buf[OBJECT_PATH_MAX];

        g_assert_cmpstr(object_path_format(buf, OBJECT_SYSTEM, 1), ==, ROOT "/system/1");
        g_assert_cmpstr(object_path_format(buf, OBJECT_ACCESS_POINT, 42), ==, ROOT "/access_point/42");
        g_assert_cmpstr(object_path_format(buf, OBJECT_COLLECTION, 7), ==, ROOT "/collection/7");
        g_assert_cmpstr(object_path_format(buf, OBJECT_SECRET, 3), ==, ROOT "/secret/3");
        g_assert_cmpstr(object_path_format(buf, OBJECT_JOB, 10), ==, ROOT "/job/10");
        g_assert_cmpstr(object_path_format(buf, OBJECT_VOLUME, 11), ==, ROOT "/volume/11");
        g_assert_cmpstr(object_path_format(buf, OBJECT_SYNCHRONIZATION, 12), ==, ROOT "/synchronization/12");
        g_assert_cmpstr(object_path_format(buf, OBJECT_JOB, UINT64_MAX), ==,
                        ROOT "/job/18446744073709551615");
        g_assert_true(object_path_format(buf, OBJECT_JOB, 1) == buf);
        g_assert_cmpstr(object_path_format(buf, OBJECT_VOLUME, 5), ==, ROOT "/volume/5");
        g_assert_cmpstr(object_path_format(buf, OBJECT_SYNCHRONIZATION, 12), ==, ROOT "/synchronization/12");
}

static void test_format_special(void) {
        char buf[OBJECT_PATH_MAX];

        g_assert_cmpstr(object_path_format(buf, OBJECT_SYSTEM, LOCAL_SYSTEM_ID), ==, LOCAL_SYSTEM_PATH);
        g_assert_cmpstr(LOCAL_SYSTEM_PATH, ==, "/org/iscsi/ReplicationService/system/local");
        g_assert_cmpstr(object_path_format(buf, OBJECT_NONE, 0), ==, "/");
        g_assert_cmpstr(object_path_format(buf, OBJECT_NONE, 5), ==, "/");
        g_assert_cmpstr(object_path_format(buf, OBJECT_SERVICE, 0), ==, "/org/iscsi/ReplicationService");
        g_assert_cmpstr(object_path_format(buf, OBJECT_INVALID, 1), ==, "/");
        g_assert_cmpstr(object_path_format(buf, _OBJECT_KIND_MAX, 1), ==, "/");
}

static void test_round_trip(void) {
        const uint64_t ids[] = { 1, 2, 9, 10, 99, 100, 12345, UINT64_C(4294967296), UINT64_MAX - 1, UINT64_MAX };

        for (size_t k = 0; k < G_N_ELEMENTS(numbered_kinds); k++)
                for (size_t i = 0; i < G_N_ELEMENTS(ids); i++) {
                        char buf[OBJECT_PATH_MAX];
                        ObjectKind kind = OBJECT_INVALID;
                        uint64_t id = 0;

                        object_path_format(buf, numbered_kinds[k], ids[i]);
                        g_assert_true(g_str_has_prefix(buf, object_kind_prefix(numbered_kinds[k])));
                        g_assert_cmpint(object_path_parse(buf, &kind, &id), ==, 0);
                        g_assert_cmpint(kind, ==, numbered_kinds[k]);
                        g_assert_cmpuint(id, ==, ids[i]);
                }
}

static void test_parse_null_and_root(void) {
        ObjectKind kind = OBJECT_INVALID;
        uint64_t id = 99;

        g_assert_cmpint(object_path_parse("/", &kind, &id), ==, 0);
        g_assert_cmpint(kind, ==, OBJECT_NONE);
        g_assert_cmpuint(id, ==, 0);

        id = 99;
        g_assert_cmpint(object_path_parse(ROOT, &kind, &id), ==, 0);
        g_assert_cmpint(kind, ==, OBJECT_SERVICE);
        g_assert_cmpuint(id, ==, 0);
}

static void test_parse_local_system(void) {
        char buf[OBJECT_PATH_MAX];
        ObjectKind kind = OBJECT_INVALID;
        uint64_t id = 99;

        g_assert_cmpint(object_path_parse(LOCAL_SYSTEM_PATH, &kind, &id), ==, 0);
        g_assert_cmpint(kind, ==, OBJECT_SYSTEM);
        g_assert_cmpuint(id, ==, LOCAL_SYSTEM_ID);

        /* Round trip through the formatter as well. */
        kind = OBJECT_INVALID;
        g_assert_cmpint(object_path_parse(object_path_format(buf, OBJECT_SYSTEM, LOCAL_SYSTEM_ID), &kind, &id), ==, 0);
        g_assert_cmpint(kind, ==, OBJECT_SYSTEM);
        g_assert_cmpuint(id, ==, LOCAL_SYSTEM_ID);
}

static void test_parse_reject(void) {
        const char *bad[] = {
                ROOT "/collection/0",
                ROOT "/collection/01",
                ROOT "/collection/00",
                ROOT "/collection/-1",
                ROOT "/collection/+1",
                ROOT "/collection/ 1",
                ROOT "/collection/1 ",
                ROOT "/collection/abc",
                ROOT "/collection/1a",
                ROOT "/collection/0x1",
                ROOT "/collection/",
                ROOT "/collection",
                ROOT "/collection/1/",
                ROOT "/collection/1/2",
                ROOT "/collection/18446744073709551616",        /* 2^64 */
                ROOT "/collection/18446744073709551620",
                ROOT "/collection/99999999999999999999",
                ROOT "/collection/184467440737095516150",
                ROOT "/Collection/1",
                ROOT "/collectionX/1",
                ROOT "/system/0",
                ROOT "/system/local/",
                ROOT "/system/Local",
                ROOT "/access_point/local",
                ROOT "/job/local",
                ROOT "/volume/0",
                ROOT "/volume/local",
                ROOT "/volumes/1",
                ROOT "/synchronization/01",
                ROOT "/synchronization",
                ROOT "/sync/1",
                ROOT "/StorageVolume/1",
                ROOT "/service/1",
                ROOT "/none/1",
                ROOT "/",
                ROOT "X/system/1",
                "/org/iscsi/ReplicationServic/system/1",
                "/other/path",
                "/org/iscsi",
                "//",
                "",
                "collection/1",
        };

        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                ObjectKind kind = OBJECT_INVALID;
                uint64_t id = 99;

                if (object_path_parse(bad[i], &kind, &id) != -EINVAL)
                        g_error("'%s' accepted as %s %" G_GUINT64_FORMAT, bad[i], object_kind_to_string(kind), id);
                /* Outputs are written only on success. */
                g_assert_cmpint(kind, ==, OBJECT_INVALID);
                g_assert_cmpuint(id, ==, 99);
        }

        {
                ObjectKind kind;
                uint64_t id;

                g_assert_cmpint(object_path_parse(NULL, &kind, &id), ==, -EINVAL);
        }
}

static void test_parse_max(void) {
        ObjectKind kind;
        uint64_t id;

        g_assert_cmpint(object_path_parse(ROOT "/secret/18446744073709551615", &kind, &id), ==, 0);
        g_assert_cmpint(kind, ==, OBJECT_SECRET);
        g_assert_cmpuint(id, ==, UINT64_MAX);

        g_assert_cmpint(object_path_parse(ROOT "/access_point/18446744073709551614", &kind, &id), ==, 0);
        g_assert_cmpuint(id, ==, UINT64_MAX - 1);
}

static void test_kind_strings(void) {
        g_assert_cmpstr(object_kind_to_string(OBJECT_SYSTEM), ==, "system");
        g_assert_cmpstr(object_kind_to_string(OBJECT_ACCESS_POINT), ==, "access_point");
        g_assert_cmpstr(object_kind_to_string(OBJECT_COLLECTION), ==, "collection");
        g_assert_cmpstr(object_kind_to_string(OBJECT_SECRET), ==, "secret");
        g_assert_cmpstr(object_kind_to_string(OBJECT_JOB), ==, "job");
        g_assert_cmpstr(object_kind_to_string(OBJECT_VOLUME), ==, "volume");
        g_assert_cmpstr(object_kind_to_string(OBJECT_SYNCHRONIZATION), ==, "synchronization");
        g_assert_cmpstr(object_kind_to_string(OBJECT_INVALID), ==, "invalid");
        g_assert_cmpstr(object_kind_to_string(_OBJECT_KIND_MAX), ==, "invalid");

        for (ObjectKind k = OBJECT_NONE; k < _OBJECT_KIND_MAX; k++) {
                g_assert_nonnull(object_kind_to_string(k));
                g_assert_nonnull(object_kind_to_noun(k));
        }
        g_assert_cmpstr(object_kind_to_noun(OBJECT_ACCESS_POINT), ==, "access point");
        g_assert_cmpstr(object_kind_to_noun(OBJECT_VOLUME), ==, "storage volume");
        g_assert_cmpstr(object_kind_to_noun(OBJECT_SYNCHRONIZATION), ==, "synchronization");
        g_assert_cmpstr(object_kind_to_noun(OBJECT_INVALID), ==, "object");

        for (size_t k = 0; k < G_N_ELEMENTS(numbered_kinds); k++) {
                g_autofree char *expected = g_strconcat(ROOT "/", object_kind_to_string(numbered_kinds[k]), NULL);

                g_assert_cmpstr(object_kind_prefix(numbered_kinds[k]), ==, expected);
        }
        g_assert_null(object_kind_prefix(OBJECT_NONE));
        g_assert_null(object_kind_prefix(OBJECT_SERVICE));
        g_assert_null(object_kind_prefix(OBJECT_INVALID));
}

static void test_id_parse(void) {
        static const struct {
                const char *text;
                uint64_t id;
        } good[] = {
                { "1", 1 }, { "9", 9 }, { "10", 10 }, { "4294967296", UINT64_C(4294967296) },
                { "18446744073709551615", UINT64_MAX },
        };
        /* Ids start at 1 and have one spelling: what the service hands out, also in the client. */
        static const char *const bad[] = {
                "0", "00", "01", "007", "", "-1", "+1", " 1", "1 ", "1a", "0x1", "1/", "18446744073709551616",
                "99999999999999999999",
        };

        for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
                uint64_t id = 0;

                g_assert_cmpint(object_id_parse(good[i].text, &id), ==, 0);
                g_assert_cmpuint(id, ==, good[i].id);
        }
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                uint64_t id = 99;

                if (object_id_parse(bad[i], &id) != -EINVAL)
                        g_error("id '%s' accepted as %" G_GUINT64_FORMAT, bad[i], id);
                g_assert_cmpuint(id, ==, 99);
        }
        {
                uint64_t id = 99;

                g_assert_cmpint(object_id_parse(NULL, &id), ==, -EINVAL);
        }
}

static void test_kind_from_string(void) {
        static const char with_tail[] = "access-point/3";

        for (size_t k = 0; k < G_N_ELEMENTS(numbered_kinds); k++) {
                const char *name = object_kind_to_string(numbered_kinds[k]);

                g_assert_cmpint(object_kind_from_string(name, strlen(name)), ==, numbered_kinds[k]);
        }
        /* What a user types: '-' for '_', and only the part before the slash counts. */
        g_assert_cmpint(object_kind_from_string("access-point", 12), ==, OBJECT_ACCESS_POINT);
        g_assert_cmpint(object_kind_from_string(with_tail, 12), ==, OBJECT_ACCESS_POINT);
        g_assert_cmpint(object_kind_from_string("access", 6), ==, OBJECT_INVALID);
        g_assert_cmpint(object_kind_from_string("jobs", 4), ==, OBJECT_INVALID);
        g_assert_cmpint(object_kind_from_string("synchronization", 15), ==, OBJECT_SYNCHRONIZATION);
        g_assert_cmpint(object_kind_from_string("sync", 4), ==, OBJECT_INVALID);
        g_assert_cmpint(object_kind_from_string("Job", 3), ==, OBJECT_INVALID);
        g_assert_cmpint(object_kind_from_string("job", 0), ==, OBJECT_INVALID);
        /* The root and "/" are no kind a name can give. */
        g_assert_cmpint(object_kind_from_string("service", 7), ==, OBJECT_INVALID);
        g_assert_cmpint(object_kind_from_string("none", 4), ==, OBJECT_INVALID);
}

static void test_kind_interface(void) {
        g_assert_cmpstr(object_kind_interface(OBJECT_SERVICE), ==, "org.iscsi.ReplicationService");
        g_assert_cmpstr(object_kind_interface(OBJECT_SYSTEM), ==, "org.iscsi.ReplicationService.ComputerSystem");
        g_assert_cmpstr(object_kind_interface(OBJECT_ACCESS_POINT), ==,
                        "org.iscsi.ReplicationService.ServiceAccessPoint");
        g_assert_cmpstr(object_kind_interface(OBJECT_COLLECTION), ==,
                        "org.iscsi.ReplicationService.RemoteReplicationCollection");
        g_assert_cmpstr(object_kind_interface(OBJECT_SECRET), ==, "org.iscsi.ReplicationService.SharedSecret");
        g_assert_cmpstr(object_kind_interface(OBJECT_JOB), ==, "org.iscsi.ReplicationService.Job");
        g_assert_cmpstr(object_kind_interface(OBJECT_VOLUME), ==, "org.iscsi.ReplicationService.StorageVolume");
        g_assert_cmpstr(object_kind_interface(OBJECT_SYNCHRONIZATION), ==,
                        "org.iscsi.ReplicationService.StorageSynchronized");
        g_assert_null(object_kind_interface(OBJECT_NONE));
        g_assert_null(object_kind_interface(OBJECT_INVALID));
        g_assert_null(object_kind_interface(_OBJECT_KIND_MAX));
        g_assert_cmpstr(SERVICE_BUS_NAME, ==, "org.iscsi.ReplicationService");
        g_assert_cmpstr(JOB_PATH_PREFIX, ==, object_kind_prefix(OBJECT_JOB));
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);

        g_test_add_func("/object-path/format", test_format);
        g_test_add_func("/object-path/format/special", test_format_special);
        g_test_add_func("/object-path/round-trip", test_round_trip);
        g_test_add_func("/object-path/parse/null-and-root", test_parse_null_and_root);
        g_test_add_func("/object-path/parse/local-system", test_parse_local_system);
        g_test_add_func("/object-path/parse/reject", test_parse_reject);
        g_test_add_func("/object-path/parse/max", test_parse_max);
        g_test_add_func("/object-path/kind-strings", test_kind_strings);
        g_test_add_func("/object-path/id-parse", test_id_parse);
        g_test_add_func("/object-path/kind-from-string", test_kind_from_string);
        g_test_add_func("/object-path/kind-interface", test_kind_interface);

        return g_test_run();
}
