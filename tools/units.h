/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Sizes, rates and durations as a user types and reads them: "64K",
 * "10MiB", "90s", "5min" in; "1.5 GiB", "85.0 MiB/s", "2:05" out. Pure
 * functions (no bus, no terminal), so the client's unit tests can feed them
 * fixed values.
 */

#include <stddef.h>
#include <stdint.h>

/*
 * A byte count: decimal digits, then optionally B, K, M, G or T (powers of
 * 1024), the letter alone or with "iB" ("64K", "64KiB"). -EINVAL for
 * anything else, -ERANGE when it does not fit in 64 bits.
 */
int parse_size(const char *s, uint64_t *ret_bytes);

/*
 * A duration in microseconds: decimal digits, then optionally us, ms, s,
 * min, h or d; a bare number is seconds. -EINVAL, -ERANGE as parse_size().
 */
int parse_duration(const char *s, uint64_t *ret_usec);

/* Room for any of the formats below. */
#define UNITS_TEXT_MAX 32

/* "512 B", "1.5 KiB", "85.0 MiB", … (one decimal from KiB up). Returns buf. */
char *format_bytes(char buf[static UNITS_TEXT_MAX], uint64_t bytes);
/* format_bytes() with "/s". Returns buf. */
char *format_rate(char buf[static UNITS_TEXT_MAX], uint64_t bytes_per_second);
/* A time left, rounded up to whole seconds: "0:42", "12:05", "1:02:03". Returns buf. */
char *format_time_left(char buf[static UNITS_TEXT_MAX], uint64_t usec);
