/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Token bucket; see token-bucket.h.
 */

#include "macros.h"
#include "token-bucket.h"

#define SCALE USEC_PER_SEC

static void token_bucket_refill(TokenBucket *b, uint64_t now_usec) {
        uint64_t elapsed, full = b->burst * SCALE;

        if (now_usec <= b->last_usec)
                return;
        elapsed = now_usec - b->last_usec;
        b->last_usec = now_usec;
        if (b->rate == 0)
                return;
        /* Filling from empty to full takes burst/rate seconds; more time adds nothing, and no product overflows. */
        if (elapsed >= full / b->rate + 1) {
                b->tokens_scaled = full;
                return;
        }
        b->tokens_scaled = MIN(full, b->tokens_scaled + elapsed * b->rate);
}

void token_bucket_init(TokenBucket *b, uint64_t rate, uint64_t burst, uint64_t now_usec) {
        *b = (TokenBucket) {
                .rate = rate,
                .burst = MAX(burst, (uint64_t) 1),
                .last_usec = now_usec,
        };
}

void token_bucket_set_rate(TokenBucket *b, uint64_t rate, uint64_t now_usec) {
        token_bucket_refill(b, now_usec);
        b->rate = rate;
}

uint64_t token_bucket_take(TokenBucket *b, uint64_t n, uint64_t now_usec) {
        uint64_t need;

        if (b->rate == 0)
                return 0;
        token_bucket_refill(b, now_usec);
        need = MIN(n, b->burst) * SCALE;
        if (b->tokens_scaled >= need) {
                b->tokens_scaled -= need;
                return 0;
        }
        return (need - b->tokens_scaled + b->rate - 1) / b->rate;
}
