/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * String validation (the 255-byte/UTF-8/no-control rule the contract sets
 * for every string property), string arrays and clocks.
 */

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "strutil.h"

/* C1 controls (U+0080–U+009F) are valid UTF-8 but not safe text; only string_is_safe() refuses them. */
static bool utf8_scan(const char *s, bool allow_c1) {
        const unsigned char *p = (const unsigned char *) s;

        while (*p) {
                unsigned n;
                uint32_t cp;

                if (*p < 0x80) {
                        p++;
                        continue;
                } else if ((*p & 0xE0) == 0xC0) {
                        n = 1;
                        cp = *p & 0x1F;
                } else if ((*p & 0xF0) == 0xE0) {
                        n = 2;
                        cp = *p & 0x0F;
                } else if ((*p & 0xF8) == 0xF0) {
                        n = 3;
                        cp = *p & 0x07;
                } else
                        return false;

                for (unsigned i = 1; i <= n; i++) {
                        if ((p[i] & 0xC0) != 0x80)
                                return false;
                        cp = (cp << 6) | (p[i] & 0x3F);
                }

                /* Overlong forms, surrogates and values past U+10FFFF are invalid. */
                if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
                    (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
                        return false;

                if (!allow_c1 && cp >= 0x80 && cp < 0xA0)
                        return false;

                p += n + 1;
        }

        return true;
}

bool utf8_is_valid(const char *s) {
        return utf8_scan(s, true);
}

bool string_is_safe(const char *s, size_t max_bytes) {
        if (!s)
                return false;
        if (strlen(s) > max_bytes)
                return false;
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                if (*p < 0x20 || *p == 0x7F)
                        return false;
        return utf8_scan(s, false);
}

char *strdup_or_empty(const char *s) {
        return strdup(s ? s : "");
}

int free_and_strdup(char **p, const char *s) {
        char *c = strdup_or_empty(s);

        if (!c)
                return -ENOMEM;
        free(*p);
        *p = c;
        return 0;
}

bool streq_ptr(const char *a, const char *b) {
        if (!a || !b)
                return a == b;
        return strcmp(a, b) == 0;
}

void erase_and_free(char *s) {
        if (!s)
                return;
        explicit_bzero(s, strlen(s));
        free(s);
}

char **strv_free(char **l) {
        if (!l)
                return NULL;
        for (char **i = l; *i; i++)
                free(*i);
        free(l);
        return NULL;
}

size_t strv_length(char * const *l) {
        size_t n = 0;

        if (l)
                while (l[n])
                        n++;
        return n;
}

int strv_push(char ***l, char *value) {
        size_t n = strv_length(*l);
        char **c = realloc(*l, sizeof(char *) * (n + 2));

        if (!c)
                return -ENOMEM;
        c[n] = value;
        c[n + 1] = NULL;
        *l = c;
        return 0;
}

int strv_extend(char ***l, const char *value) {
        char *c = strdup(value);

        if (!c)
                return -ENOMEM;
        if (strv_push(l, c) < 0) {
                free(c);
                return -ENOMEM;
        }
        return 0;
}

int strv_builder_push(StrvBuilder *b, char *value) {
        /* Room for one more entry and the NULL after it. */
        if (b->n + 2 > b->n_allocated) {
                size_t a = MAX(b->n + 2, b->n_allocated * 2);
                char **l = reallocarray(b->l, a, sizeof(char *));

                if (!l)
                        return -ENOMEM;
                b->l = l;
                b->n_allocated = a;
        }
        b->l[b->n++] = value;
        b->l[b->n] = NULL;
        return 0;
}

int strv_builder_extend(StrvBuilder *b, const char *value) {
        char *c = strdup(value);

        if (!c)
                return -ENOMEM;
        if (strv_builder_push(b, c) < 0) {
                free(c);
                return -ENOMEM;
        }
        return 0;
}

char **strv_builder_steal(StrvBuilder *b) {
        char **l = b->l ?: calloc(1, sizeof(char *));

        *b = STRV_BUILDER_INIT;
        return l;
}

void strv_builder_clear(StrvBuilder *b) {
        strv_free(b->l);
        *b = STRV_BUILDER_INIT;
}

char **strv_copy(char * const *l) {
        size_t n = strv_length(l);
        char **c = calloc(n + 1, sizeof(char *));

        if (!c)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                c[i] = strdup(l[i]);
                if (!c[i])
                        return strv_free(c);
        }
        return c;
}

char *strv_join(char * const *l, const char *sep) {
        size_t n = 0, k = strlen(sep);
        char *r, *p;

        for (char * const *i = l; i && *i; i++)
                n += strlen(*i) + k;
        r = p = malloc(n + 1);
        if (!r)
                return NULL;
        for (char * const *i = l; i && *i; i++) {
                if (i != l)
                        p = stpcpy(p, sep);
                p = stpcpy(p, *i);
        }
        *p = 0;
        return r;
}

char **strv_split(const char *s, char sep) {
        _cleanup_(strv_builder_clear) StrvBuilder l = STRV_BUILDER_INIT;
        const char *b = s;

        if (!s || !*s)
                return strv_builder_steal(&l);
        for (const char *p = s;; p++) {
                if (*p == sep || *p == 0) {
                        char *w = strndup(b, p - b);

                        if (!w || strv_builder_push(&l, w) < 0) {
                                free(w);
                                return NULL;
                        }
                        if (*p == 0)
                                break;
                        b = p + 1;
                }
        }
        return strv_builder_steal(&l);
}

uint64_t now_usec(int clockid) {
        struct timespec ts;

        clock_gettime(clockid, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / NSEC_PER_USEC;
}
