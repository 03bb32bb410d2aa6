/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A token bucket: at most rate bytes per second on average, with bursts of
 * at most burst bytes. It starts empty, so over any interval from its start
 * no more than rate × elapsed bytes pass: a limit is never exceeded, even
 * over a short copy. Time is given by the caller (CLOCK_MONOTONIC µs), so
 * this knows no clock and no event loop.
 */

#include <stdint.h>

typedef struct TokenBucket {
        uint64_t rate;          /* bytes per second; 0 unlimited */
        uint64_t burst;         /* bytes */
        uint64_t tokens_scaled; /* bytes × 10⁶: a µs of tokens is exact at any rate */
        uint64_t last_usec;
} TokenBucket;

void token_bucket_init(TokenBucket *b, uint64_t rate, uint64_t burst, uint64_t now_usec);

/* A new rate from now on; what was earned so far is kept, up to the burst. */
void token_bucket_set_rate(TokenBucket *b, uint64_t rate, uint64_t now_usec);

/*
 * Takes n bytes' worth when the bucket holds them and returns 0; otherwise
 * takes nothing and returns how many µs from now it will hold them (at
 * least 1). n above the burst is treated as the burst, so it still passes.
 * Always 0 when unlimited.
 */
uint64_t token_bucket_take(TokenBucket *b, uint64_t n, uint64_t now_usec);
