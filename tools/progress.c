/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The progress bar and line of iscsi-replctl's job output. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "progress.h"
#include "units.h"

static unsigned clamped_percent(const ProgressView *v) {
        return v->percent > 100 ? 100 : v->percent;
}

/* "1.5 GiB sent, 85.0 MiB/s[, 2:05 left]"; the caller checked v->transfer. */
static char *transfer_text(const ProgressView *v) {
        char bytes[UNITS_TEXT_MAX], rate[UNITS_TEXT_MAX], left[UNITS_TEXT_MAX];
        char *s = NULL;

        if (asprintf(&s, "%s sent, %s%s%s%s", format_bytes(bytes, v->bytes), format_rate(rate, v->rate),
                     v->time_left_usec > 0 ? ", " : "",
                     v->time_left_usec > 0 ? format_time_left(left, v->time_left_usec) : "",
                     v->time_left_usec > 0 ? " left" : "") < 0)
                return NULL;
        return s;
}

/* Ends s after width code points. */
static void cut_to_width(char *s, size_t width) {
        size_t w = 0;

        for (char *p = s; *p; p++)
                if (((unsigned char) *p & 0xC0) != 0x80 && w++ == width) {
                        *p = 0;
                        return;
                }
}

char *progress_bar_line(const ProgressView *v, unsigned columns) {
        unsigned percent = clamped_percent(v), filled = percent * PROGRESS_BAR_WIDTH / 100;
        char bar[PROGRESS_BAR_WIDTH + 1];
        char *transfer = NULL, *line = NULL;

        for (unsigned i = 0; i < PROGRESS_BAR_WIDTH; i++)
                bar[i] = i < filled ? '#' : (i == filled && percent < 100 ? '>' : '.');
        bar[PROGRESS_BAR_WIDTH] = 0;
        if (v->transfer && !(transfer = transfer_text(v)))
                return NULL;
        /* The numbers before the status: when the line is cut, the status goes first. */
        if (asprintf(&line, "[%s] %3u%% %s%s%s", bar, percent, transfer ? transfer : "", transfer ? ", " : "",
                     v->status ? v->status : "") < 0)
                line = NULL;
        free(transfer);
        if (line && columns > 1)
                cut_to_width(line, columns - 1);
        return line;
}

char *progress_numbers(const ProgressView *v) {
        char *transfer = NULL, *s = NULL;

        if (v->transfer && !(transfer = transfer_text(v)))
                return NULL;
        if (asprintf(&s, "%u%%%s%s", clamped_percent(v), transfer ? ", " : "", transfer ? transfer : "") < 0)
                s = NULL;
        free(transfer);
        return s;
}
