/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Parsing and printing of sizes, rates and durations for iscsi-replctl. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "units.h"
#include "util/macros.h"

typedef struct Unit {
        const char *suffix;
        uint64_t factor;
} Unit;

/* Digits, then a suffix from the table; the number is multiplied by the suffix's factor. */
static int parse_with_units(const char *s, const Unit *units, size_t n_units, uint64_t *ret) {
        uint64_t v = 0;
        const char *p = s;

        if (!s || *s < '0' || *s > '9')
                return -EINVAL;
        for (; *p >= '0' && *p <= '9'; p++) {
                if (v > (UINT64_MAX - (uint64_t) (*p - '0')) / 10)
                        return -ERANGE;
                v = v * 10 + (uint64_t) (*p - '0');
        }
        for (size_t i = 0; i < n_units; i++) {
                if (strcmp(p, units[i].suffix) != 0)
                        continue;
                if (v > UINT64_MAX / units[i].factor)
                        return -ERANGE;
                *ret = v * units[i].factor;
                return 0;
        }
        return -EINVAL;
}

int parse_size(const char *s, uint64_t *ret_bytes) {
        static const Unit units[] = {
                { "", 1 }, { "B", 1 },
                { "K", UINT64_C(1) << 10 }, { "KiB", UINT64_C(1) << 10 },
                { "M", UINT64_C(1) << 20 }, { "MiB", UINT64_C(1) << 20 },
                { "G", UINT64_C(1) << 30 }, { "GiB", UINT64_C(1) << 30 },
                { "T", UINT64_C(1) << 40 }, { "TiB", UINT64_C(1) << 40 },
        };

        return parse_with_units(s, units, ELEMENTSOF(units), ret_bytes);
}

int parse_duration(const char *s, uint64_t *ret_usec) {
        static const Unit units[] = {
                { "", USEC_PER_SEC }, { "s", USEC_PER_SEC },
                { "us", 1 }, { "ms", USEC_PER_MSEC },
                { "min", 60 * USEC_PER_SEC }, { "h", 3600 * USEC_PER_SEC }, { "d", 86400 * USEC_PER_SEC },
        };

        return parse_with_units(s, units, ELEMENTSOF(units), ret_usec);
}

char *format_bytes(char buf[static UNITS_TEXT_MAX], uint64_t bytes) {
        static const char *const names[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
        double v = (double) bytes;
        size_t i = 0;

        if (bytes < 1024) {
                snprintf(buf, UNITS_TEXT_MAX, "%" PRIu64 " B", bytes);
                return buf;
        }
        v /= 1024;
        /* Go up while the value would print as 1024.0 or more in this unit. */
        while (v >= 1023.95 && i + 1 < ELEMENTSOF(names)) {
                v /= 1024;
                i++;
        }
        snprintf(buf, UNITS_TEXT_MAX, "%.1f %s", v, names[i]);
        return buf;
}

char *format_rate(char buf[static UNITS_TEXT_MAX], uint64_t bytes_per_second) {
        format_bytes(buf, bytes_per_second);
        strncat(buf, "/s", UNITS_TEXT_MAX - strlen(buf) - 1);
        return buf;
}

char *format_time_left(char buf[static UNITS_TEXT_MAX], uint64_t usec) {
        uint64_t sec = usec / USEC_PER_SEC + (usec % USEC_PER_SEC != 0);

        if (sec >= 3600)
                snprintf(buf, UNITS_TEXT_MAX, "%" PRIu64 ":%02u:%02u", sec / 3600, (unsigned) (sec / 60 % 60),
                         (unsigned) (sec % 60));
        else
                snprintf(buf, UNITS_TEXT_MAX, "%u:%02u", (unsigned) (sec / 60), (unsigned) (sec % 60));
        return buf;
}
