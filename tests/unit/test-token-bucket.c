/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * util/token-bucket: the rate is never exceeded from the start, waits are
 * exact, the burst caps what idle time earns, and a new rate applies at once.
 */

#include <glib.h>

#include "util/macros.h"
#include "util/token-bucket.h"

static void test_unlimited(void) {
        TokenBucket b;

        token_bucket_init(&b, 0, 1024, 0);
        for (int i = 0; i < 100; i++)
                g_assert_cmpuint(token_bucket_take(&b, UINT64_C(1) << 40, 0), ==, 0);
}

static void test_starts_empty(void) {
        TokenBucket b;

        /* 1 MiB/s, 64 KiB chunks: the first chunk waits 62.5 ms. */
        token_bucket_init(&b, 1024 * 1024, 64 * 1024, 1000);
        g_assert_cmpuint(token_bucket_take(&b, 64 * 1024, 1000), ==, 62500);
        g_assert_cmpuint(token_bucket_take(&b, 64 * 1024, 1000 + 62499), ==, 1);
        g_assert_cmpuint(token_bucket_take(&b, 64 * 1024, 1000 + 62500), ==, 0);
        g_assert_cmpuint(token_bucket_take(&b, 64 * 1024, 1000 + 62500), ==, 62500);
}

static void test_rate_never_exceeded(void) {
        const uint64_t rate = 3 * 1000 * 1000, chunk = 65536;
        uint64_t now = 0, sent = 0;
        TokenBucket b;

        token_bucket_init(&b, rate, chunk, now);
        /* Greedy sender: takes whenever allowed, sleeps exactly as told. */
        while (now < 10 * USEC_PER_SEC) {
                uint64_t wait = token_bucket_take(&b, chunk, now);

                if (wait == 0) {
                        sent += chunk;
                        g_assert_cmpuint(sent, <=, rate * now / USEC_PER_SEC + chunk);
                } else
                        now += wait;
        }
        /* And not much below it either: the waits are exact. */
        g_assert_cmpuint(sent, >=, rate * 10 - chunk);
}

static void test_burst_caps_idle_time(void) {
        TokenBucket b;

        token_bucket_init(&b, 1000, 4000, 0);
        /* A long idle time earns at most the burst. */
        g_assert_cmpuint(token_bucket_take(&b, 4000, 3600 * USEC_PER_SEC), ==, 0);
        g_assert_cmpuint(token_bucket_take(&b, 1000, 3600 * USEC_PER_SEC), ==, USEC_PER_SEC);
        /* More than the burst is charged as the burst, so it can still pass. */
        g_assert_cmpuint(token_bucket_take(&b, 1 << 20, 3604 * USEC_PER_SEC), ==, 0);
}

static void test_set_rate(void) {
        TokenBucket b;

        token_bucket_init(&b, 1000, 1000, 0);
        token_bucket_set_rate(&b, 2000, 0);
        g_assert_cmpuint(token_bucket_take(&b, 1000, 0), ==, USEC_PER_SEC / 2);
        token_bucket_set_rate(&b, 0, 0);
        g_assert_cmpuint(token_bucket_take(&b, 1000, 0), ==, 0);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/token-bucket/unlimited", test_unlimited);
        g_test_add_func("/token-bucket/starts-empty", test_starts_empty);
        g_test_add_func("/token-bucket/rate-never-exceeded", test_rate_never_exceeded);
        g_test_add_func("/token-bucket/burst-caps-idle-time", test_burst_caps_idle_time);
        g_test_add_func("/token-bucket/set-rate", test_set_rate);
        return g_test_run();
}
