/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Formatting and parsing of object paths; the id syntax is decimal from 1, no sign, no leading zero. */

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "object-path.h"

static const char * const kind_names[_OBJECT_KIND_MAX] = {
        [OBJECT_NONE] = "none",
        [OBJECT_SERVICE] = "service",
        [OBJECT_SYSTEM] = "system",
        [OBJECT_ACCESS_POINT] = "access_point",
        [OBJECT_COLLECTION] = "collection",
        [OBJECT_SECRET] = "secret",
        [OBJECT_JOB] = "job",
        [OBJECT_VOLUME] = "volume",
        [OBJECT_SYNCHRONIZATION] = "synchronization",
};

static const char * const kind_nouns[_OBJECT_KIND_MAX] = {
        [OBJECT_NONE] = "nothing",
        [OBJECT_SERVICE] = "service",
        [OBJECT_SYSTEM] = "computer system",
        [OBJECT_ACCESS_POINT] = "access point",
        [OBJECT_COLLECTION] = "collection",
        [OBJECT_SECRET] = "shared secret",
        [OBJECT_JOB] = "job",
        [OBJECT_VOLUME] = "storage volume",
        [OBJECT_SYNCHRONIZATION] = "synchronization",
};

static const char * const kind_prefixes[_OBJECT_KIND_MAX] = {
        [OBJECT_SYSTEM] = SYSTEM_PATH_PREFIX,
        [OBJECT_ACCESS_POINT] = ACCESS_POINT_PATH_PREFIX,
        [OBJECT_COLLECTION] = COLLECTION_PATH_PREFIX,
        [OBJECT_SECRET] = SECRET_PATH_PREFIX,
        [OBJECT_JOB] = JOB_PATH_PREFIX,
        [OBJECT_VOLUME] = VOLUME_PATH_PREFIX,
        [OBJECT_SYNCHRONIZATION] = SYNCHRONIZATION_PATH_PREFIX,
};

static const char * const kind_interfaces[_OBJECT_KIND_MAX] = {
        [OBJECT_SERVICE] = SERVICE_INTERFACE,
        [OBJECT_SYSTEM] = SYSTEM_INTERFACE,
        [OBJECT_ACCESS_POINT] = ACCESS_POINT_INTERFACE,
        [OBJECT_COLLECTION] = COLLECTION_INTERFACE,
        [OBJECT_SECRET] = SECRET_INTERFACE,
        [OBJECT_JOB] = JOB_INTERFACE,
        [OBJECT_VOLUME] = VOLUME_INTERFACE,
        [OBJECT_SYNCHRONIZATION] = SYNCHRONIZATION_INTERFACE,
};

const char *object_kind_to_string(ObjectKind k) {
        return k >= 0 && k < _OBJECT_KIND_MAX ? kind_names[k] : "invalid";
}

const char *object_kind_to_noun(ObjectKind k) {
        return k >= 0 && k < _OBJECT_KIND_MAX ? kind_nouns[k] : "object";
}

const char *object_kind_prefix(ObjectKind k) {
        return k >= 0 && k < _OBJECT_KIND_MAX ? kind_prefixes[k] : NULL;
}

const char *object_kind_interface(ObjectKind k) {
        return k >= 0 && k < _OBJECT_KIND_MAX ? kind_interfaces[k] : NULL;
}

ObjectKind object_kind_from_string(const char *s, size_t n) {
        for (ObjectKind k = OBJECT_SYSTEM; k < _OBJECT_KIND_MAX; k++) {
                const char *name = kind_names[k];
                bool same = strlen(name) == n;

                for (size_t i = 0; same && i < n; i++)
                        same = s[i] == name[i] || (s[i] == '-' && name[i] == '_');
                if (same)
                        return k;
        }
        return OBJECT_INVALID;
}

/* Lengths of the prefixes, so that formatting a path copies bytes instead of parsing a format. */
static const size_t kind_prefix_lengths[_OBJECT_KIND_MAX] = {
        [OBJECT_SYSTEM] = sizeof(SYSTEM_PATH_PREFIX) - 1,
        [OBJECT_ACCESS_POINT] = sizeof(ACCESS_POINT_PATH_PREFIX) - 1,
        [OBJECT_COLLECTION] = sizeof(COLLECTION_PATH_PREFIX) - 1,
        [OBJECT_SECRET] = sizeof(SECRET_PATH_PREFIX) - 1,
        [OBJECT_JOB] = sizeof(JOB_PATH_PREFIX) - 1,
        [OBJECT_VOLUME] = sizeof(VOLUME_PATH_PREFIX) - 1,
        [OBJECT_SYNCHRONIZATION] = sizeof(SYNCHRONIZATION_PATH_PREFIX) - 1,
};

/* The longest prefix, a slash and the 20 digits of UINT64_MAX fit. */
_Static_assert(sizeof(SYNCHRONIZATION_PATH_PREFIX) + 1 + 20 <= OBJECT_PATH_MAX, "a path must fit OBJECT_PATH_MAX");

/*
 * Member lists, signals and GetManagedObjects format paths by the thousand,
 * so this copies the prefix and writes the digits itself rather than going
 * through snprintf().
 */
char *object_path_format(char buf[static OBJECT_PATH_MAX], ObjectKind kind, uint64_t id) {
        char digits[20];
        size_t l, n = 0;

        /* An out-of-range kind names nothing rather than reading past the table. */
        if (kind <= OBJECT_NONE || kind >= _OBJECT_KIND_MAX || !kind_prefixes[kind]) {
                strcpy(buf, kind == OBJECT_SERVICE ? SERVICE_ROOT_PATH : NULL_PATH);
                return buf;
        }
        if (kind == OBJECT_SYSTEM && id == LOCAL_SYSTEM_ID) {
                strcpy(buf, LOCAL_SYSTEM_PATH);
                return buf;
        }
        do {
                digits[n++] = (char) ('0' + id % 10);
                id /= 10;
        } while (id > 0);
        l = kind_prefix_lengths[kind];
        memcpy(buf, kind_prefixes[kind], l);
        buf[l++] = '/';
        while (n > 0)
                buf[l++] = digits[--n];
        buf[l] = 0;
        return buf;
}

int object_id_parse(const char *s, uint64_t *ret) {
        uint64_t v = 0;

        if (!s || !*s || (s[0] == '0' && s[1]))
                return -EINVAL;
        for (; *s; s++) {
                if (*s < '0' || *s > '9')
                        return -EINVAL;
                if (v > (UINT64_MAX - (uint64_t) (*s - '0')) / 10)
                        return -EINVAL;
                v = v * 10 + (uint64_t) (*s - '0');
        }
        if (v == 0)
                return -EINVAL;
        *ret = v;
        return 0;
}

int object_path_parse(const char *path, ObjectKind *ret_kind, uint64_t *ret_id) {
        if (!path)
                return -EINVAL;
        if (strcmp(path, NULL_PATH) == 0) {
                *ret_kind = OBJECT_NONE;
                *ret_id = 0;
                return 0;
        }
        if (strcmp(path, SERVICE_ROOT_PATH) == 0) {
                *ret_kind = OBJECT_SERVICE;
                *ret_id = 0;
                return 0;
        }
        if (strcmp(path, LOCAL_SYSTEM_PATH) == 0) {
                *ret_kind = OBJECT_SYSTEM;
                *ret_id = LOCAL_SYSTEM_ID;
                return 0;
        }
        for (ObjectKind k = OBJECT_SYSTEM; k < _OBJECT_KIND_MAX; k++) {
                size_t l = strlen(kind_prefixes[k]);
                uint64_t id;

                if (strncmp(path, kind_prefixes[k], l) != 0 || path[l] != '/')
                        continue;
                if (object_id_parse(path + l + 1, &id) < 0)
                        return -EINVAL;
                *ret_kind = k;
                *ret_id = id;
                return 0;
        }
        return -EINVAL;
}
