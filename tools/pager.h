/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Output of the read commands. On a terminal the text is collected first and
 * then shown through a pager when it does not fit on the screen, the way
 * systemctl does; anywhere else it goes straight to stdout.
 */

#include <stdbool.h>
#include <stdio.h>

typedef struct Output {
        FILE *f;                /* where to write; stdout or a memory stream */
        char *buf;
        size_t size;
} Output;

#define OUTPUT_INIT ((Output) {})

/* pager: whether a pager may be used at all (false with --no-pager and --json). */
FILE *output_open(Output *o, bool pager);
/* Shows what was written; returns 0 or a negative errno. */
int output_close(Output *o);
