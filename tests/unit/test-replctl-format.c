/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tools/units and tools/progress: what iscsi-replctl reads from its command line and prints for jobs. */

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "progress.h"
#include "units.h"

#define KIB UINT64_C(1024)
#define MIB (KIB * 1024)
#define GIB (MIB * 1024)
#define USEC UINT64_C(1000000)

static void test_parse_size(void) {
        static const struct {
                const char *text;
                uint64_t bytes;
        } good[] = {
                { "0", 0 }, { "1", 1 }, { "512B", 512 }, { "64K", 64 * KIB }, { "64KiB", 64 * KIB },
                { "1M", MIB }, { "16MiB", 16 * MIB }, { "10G", 10 * GIB }, { "2GiB", 2 * GIB },
                { "1T", 1024 * GIB }, { "18446744073709551615", UINT64_MAX }, { "16777215T", UINT64_C(16777215) << 40 },
        };
        /* One spelling per unit, no sign, no space, no fraction: what the man page promises, nothing looser. */
        static const char *const bad[] = {
                "", "K", "-1", "+1", " 1", "1 ", "1 M", "1.5M", "1m", "1k", "1KB", "1Mi", "1MiBs", "0x10", "1P",
        };
        static const char *const too_big[] = { "18446744073709551616", "16777216T", "99999999999999999999K" };

        for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
                uint64_t v = 7;

                if (parse_size(good[i].text, &v) != 0)
                        g_error("size \"%s\" refused", good[i].text);
                g_assert_cmpuint(v, ==, good[i].bytes);
        }
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                uint64_t v = 7;

                if (parse_size(bad[i], &v) != -EINVAL)
                        g_error("size \"%s\" not refused as invalid", bad[i]);
                g_assert_cmpuint(v, ==, 7);
        }
        for (size_t i = 0; i < G_N_ELEMENTS(too_big); i++) {
                uint64_t v = 7;

                g_assert_cmpint(parse_size(too_big[i], &v), ==, -ERANGE);
                g_assert_cmpuint(v, ==, 7);
        }
        g_assert_cmpint(parse_size(NULL, &(uint64_t) { 0 }), ==, -EINVAL);
}

static void test_parse_duration(void) {
        static const struct {
                const char *text;
                uint64_t usec;
        } good[] = {
                { "0", 0 }, { "300", 300 * USEC }, { "90s", 90 * USEC }, { "250ms", 250000 }, { "17us", 17 },
                { "5min", 300 * USEC }, { "2h", 7200 * USEC }, { "1d", 86400 * USEC },
        };
        static const char *const bad[] = { "", "s", "-5", "1.5", "5m", "5 min", "5sec", "1w", "min5" };
        uint64_t v = 7;

        for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
                if (parse_duration(good[i].text, &v) != 0)
                        g_error("duration \"%s\" refused", good[i].text);
                g_assert_cmpuint(v, ==, good[i].usec);
        }
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                v = 7;
                if (parse_duration(bad[i], &v) != -EINVAL)
                        g_error("duration \"%s\" not refused as invalid", bad[i]);
                g_assert_cmpuint(v, ==, 7);
        }
        /* The seconds fit, the microseconds they stand for do not. */
        g_assert_cmpint(parse_duration("18446744073709", &v), ==, 0);
        g_assert_cmpint(parse_duration("18446744073710", &v), ==, -ERANGE);
        g_assert_cmpint(parse_duration("213503982335d", &v), ==, -ERANGE);
}

static void test_format_bytes(void) {
        static const struct {
                uint64_t bytes;
                const char *text;
        } cases[] = {
                { 0, "0 B" }, { 1, "1 B" }, { 1023, "1023 B" }, { 1024, "1.0 KiB" }, { 1536, "1.5 KiB" },
                { 64 * KIB, "64.0 KiB" }, { MIB - 1, "1.0 MiB" }, { MIB - 60, "1023.9 KiB" },
                { 85 * MIB + 512 * KIB, "85.5 MiB" }, { GIB, "1.0 GiB" }, { 3 * GIB / 2, "1.5 GiB" },
                { 1024 * GIB, "1.0 TiB" }, { UINT64_MAX, "16.0 EiB" },
        };
        char buf[UNITS_TEXT_MAX];

        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
                g_assert_cmpstr(format_bytes(buf, cases[i].bytes), ==, cases[i].text);
        g_assert_cmpstr(format_rate(buf, 0), ==, "0 B/s");
        g_assert_cmpstr(format_rate(buf, 85 * MIB), ==, "85.0 MiB/s");
        g_assert_cmpstr(format_rate(buf, UINT64_MAX), ==, "16.0 EiB/s");
}

static void test_format_time_left(void) {
        static const struct {
                uint64_t usec;
                const char *text;
        } cases[] = {
                { 0, "0:00" }, { 1, "0:01" }, { USEC, "0:01" }, { USEC + 1, "0:02" }, { 42 * USEC, "0:42" },
                { 125 * USEC, "2:05" }, { 3599 * USEC, "59:59" }, { 3600 * USEC, "1:00:00" },
                { 3723 * USEC, "1:02:03" }, { 100 * 3600 * USEC, "100:00:00" },
        };
        char buf[UNITS_TEXT_MAX];

        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
                g_assert_cmpstr(format_time_left(buf, cases[i].usec), ==, cases[i].text);
        /* The longest there is still fits. */
        g_assert_cmpuint(strlen(format_time_left(buf, UINT64_MAX)), <, UNITS_TEXT_MAX);
}

static void test_bar_plain_job(void) {
        ProgressView v = { .percent = 0, .status = "Probing 127.0.0.2:3260" };
        g_autofree char *empty = progress_bar_line(&v, 200);
        g_assert_cmpstr(empty, ==, "[>.......................]   0% Probing 127.0.0.2:3260");

        v.percent = 50;
        g_autofree char *half = progress_bar_line(&v, 200);
        g_assert_cmpstr(half, ==, "[############>...........]  50% Probing 127.0.0.2:3260");

        /* Above 100 is 100: a full bar, no arrow. */
        v.percent = 250;
        g_autofree char *full = progress_bar_line(&v, 200);
        g_assert_cmpstr(full, ==, "[########################] 100% Probing 127.0.0.2:3260");

        g_autofree char *numbers = progress_numbers(&v);
        g_assert_cmpstr(numbers, ==, "100%");
}

static void test_bar_replica_job(void) {
        ProgressView v = {
                .percent = 42,
                .status = "Copying",
                .transfer = true,
                .bytes = 3 * GIB / 2,
                .rate = 85 * MIB,
                .time_left_usec = 125 * USEC,
        };
        g_autofree char *line = progress_bar_line(&v, 200);
        g_assert_cmpstr(line, ==, "[##########>.............]  42% 1.5 GiB sent, 85.0 MiB/s, 2:05 left, Copying");
        g_autofree char *numbers = progress_numbers(&v);
        g_assert_cmpstr(numbers, ==, "42%, 1.5 GiB sent, 85.0 MiB/s, 2:05 left");

        /* No estimate yet: no time left rather than a made-up one. */
        v.time_left_usec = 0;
        v.bytes = 0;
        v.rate = 0;
        g_autofree char *starting = progress_bar_line(&v, 200);
        g_assert_cmpstr(starting, ==, "[##########>.............]  42% 0 B sent, 0 B/s, Copying");
        g_autofree char *starting_numbers = progress_numbers(&v);
        g_assert_cmpstr(starting_numbers, ==, "42%, 0 B sent, 0 B/s");
}

static void test_bar_fits_terminal(void) {
        ProgressView v = {
                .percent = 42,
                .status = "Copying chunk 4711 of 10240 from the source",
                .transfer = true,
                .bytes = 3 * GIB / 2,
                .rate = 85 * MIB,
                .time_left_usec = 125 * USEC,
        };

        /* Never as wide as the terminal (it would wrap); the status is cut before the numbers. */
        g_autofree char *narrow = progress_bar_line(&v, 60);
        g_assert_cmpstr(narrow, ==, "[##########>.............]  42% 1.5 GiB sent, 85.0 MiB/s, 2");
        g_assert_cmpuint(g_utf8_strlen(narrow, -1), ==, 59);

        /* Cut by characters, not bytes: a multi-byte status stays valid UTF-8. */
        v.transfer = false;
        v.status = "Kopiere Blöcke über die Leitung";
        g_autofree char *cut = progress_bar_line(&v, 45);
        g_assert_true(g_utf8_validate(cut, -1, NULL));
        g_assert_cmpuint(g_utf8_strlen(cut, -1), ==, 44);
        g_assert_cmpstr(cut, ==, "[##########>.............]  42% Kopiere Blöc");

        /* Unknown width (0 or 1 column): the whole line. */
        g_autofree char *whole = progress_bar_line(&v, 0);
        g_assert_cmpstr(whole, ==, "[##########>.............]  42% Kopiere Blöcke über die Leitung");
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);

        g_test_add_func("/replctl/parse-size", test_parse_size);
        g_test_add_func("/replctl/parse-duration", test_parse_duration);
        g_test_add_func("/replctl/format-bytes", test_format_bytes);
        g_test_add_func("/replctl/format-time-left", test_format_time_left);
        g_test_add_func("/replctl/progress/plain-job", test_bar_plain_job);
        g_test_add_func("/replctl/progress/replica-job", test_bar_replica_job);
        g_test_add_func("/replctl/progress/fits-terminal", test_bar_fits_terminal);

        return g_test_run();
}
