/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* String and time helpers with no knowledge of the model. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macros.h"

/* True when s is valid UTF-8, has no control characters and at most max_bytes bytes. */
bool string_is_safe(const char *s, size_t max_bytes);
bool utf8_is_valid(const char *s);

/* strdup() that accepts NULL (returns a copy of "" for NULL). */
char *strdup_or_empty(const char *s);

/* Replace *p by a copy of s; -ENOMEM leaves *p alone. */
int free_and_strdup(char **p, const char *s);

bool streq_ptr(const char *a, const char *b);
static inline bool isempty(const char *s) {
        return !s || !*s;
}

/* Overwrite and free a buffer that held a secret. */
void erase_and_free(char *s);
static inline void erase_and_freep(char **p) {
        erase_and_free(*p);
}
#define _cleanup_erase_ _cleanup_(erase_and_freep)

/* NULL-terminated string arrays. */
char **strv_free(char **l);
static inline void strv_freep(char ***l) {
        strv_free(*l);
}
#define _cleanup_strv_free_ _cleanup_(strv_freep)
size_t strv_length(char * const *l);
/* One append; each measures the list. To build a list, use a StrvBuilder. */
int strv_push(char ***l, char *value);   /* takes value on success */
int strv_extend(char ***l, const char *value);
char **strv_copy(char * const *l);
char *strv_join(char * const *l, const char *sep);
char **strv_split(const char *s, char sep);

/*
 * Builds a NULL-terminated list by appending. It keeps the list's length and
 * room, so an append costs O(1) amortized where strv_push() measures the list.
 */
typedef struct StrvBuilder {
        char **l;               /* NULL-terminated once anything was added, NULL before */
        size_t n;
        size_t n_allocated;
} StrvBuilder;

#define STRV_BUILDER_INIT ((StrvBuilder) {})

int strv_builder_push(StrvBuilder *b, char *value);     /* takes value on success */
int strv_builder_extend(StrvBuilder *b, const char *value);
/* The list (an empty one when nothing was added; NULL: -ENOMEM); b is empty afterwards. */
char **strv_builder_steal(StrvBuilder *b);
void strv_builder_clear(StrvBuilder *b);

uint64_t now_usec(int clockid);
