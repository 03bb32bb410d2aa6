/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * How model objects are named: "<root>/<kind>/<id>", "/" for none, and
 * "system/local" for this host. Knows strings only, not D-Bus.
 */

#include <stdint.h>

#define SERVICE_ROOT_PATH "/org/iscsi/ReplicationService"
#define LOCAL_SYSTEM_PATH SERVICE_ROOT_PATH "/system/local"
#define NULL_PATH "/"

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
        _OBJECT_KIND_MAX,
        OBJECT_INVALID = -1,
} ObjectKind;

const char *object_kind_to_string(ObjectKind k);     /* "system", "access_point", … */
const char *object_kind_to_noun(ObjectKind k);       /* "peer system", "access point", … for messages */
const char *object_kind_prefix(ObjectKind k);        /* SERVICE_ROOT_PATH "/system" … */

/* Writes the path into buf (at least OBJECT_PATH_MAX bytes). */
#define OBJECT_PATH_MAX 96
char *object_path_format(char buf[static OBJECT_PATH_MAX], ObjectKind kind, uint64_t id);

/*
 * Parses a path. Returns 0 and sets kind/id for "/" (OBJECT_NONE), the root
 * (OBJECT_SERVICE), or one of ours; -EINVAL for any other path, also one
 * below our root with a malformed id.
 */
int object_path_parse(const char *path, ObjectKind *ret_kind, uint64_t *ret_id);
