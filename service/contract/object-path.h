/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * How model objects are named: "<root>/<kind>/<id>", "/" for none, and
 * "system/local" for this host. Knows strings only, not D-Bus. Shared by the
 * service and iscsi-replctl (libcontract).
 */

#include <stddef.h>
#include <stdint.h>

#include "names.h"

/* The local system is the one object that has no number in its path. */
#define LOCAL_SYSTEM_ID UINT64_C(0)

typedef enum ObjectKind {
        OBJECT_NONE,            /* "/" */
        OBJECT_SERVICE,         /* the root */
        OBJECT_SYSTEM,
        OBJECT_ACCESS_POINT,
        OBJECT_COLLECTION,
        OBJECT_SECRET,
        OBJECT_JOB,
        OBJECT_VOLUME,          /* API.md section 10 */
        OBJECT_SYNCHRONIZATION,
        _OBJECT_KIND_MAX,
        OBJECT_INVALID = -1,
} ObjectKind;

const char *object_kind_to_string(ObjectKind k);     /* "system", "access_point", … */
const char *object_kind_to_noun(ObjectKind k);       /* "peer system", "access point", … for messages */
const char *object_kind_prefix(ObjectKind k);        /* SERVICE_ROOT_PATH "/system" … */
const char *object_kind_interface(ObjectKind k);     /* SYSTEM_INTERFACE …; NULL for none */
/* The kind whose object_kind_to_string() is the first n bytes of s, with '-' taken for '_'; OBJECT_INVALID if none. */
ObjectKind object_kind_from_string(const char *s, size_t n);

/* Writes the path into buf (at least OBJECT_PATH_MAX bytes). */
#define OBJECT_PATH_MAX 96
char *object_path_format(char buf[static OBJECT_PATH_MAX], ObjectKind kind, uint64_t id);

/*
 * Parses a path. Returns 0 and sets kind/id for "/" (OBJECT_NONE), the root
 * (OBJECT_SERVICE), or one of ours; -EINVAL for any other path, also one
 * below our root with a malformed id.
 */
int object_path_parse(const char *path, ObjectKind *ret_kind, uint64_t *ret_id);

/*
 * Parses the <id> of a path on its own: decimal, no sign, no leading zero,
 * at least 1 (ids start at 1; system/local has no number). -EINVAL otherwise.
 */
int object_id_parse(const char *s, uint64_t *ret_id);
