/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The stable reasons a job or a probe fails for (API.md sections 6 and 7):
 * GetError's MessageID and an access point's LastErrorID. This is the one
 * list of their names; clients branch on them, so a name never changes once
 * released. The CIM code belongs to the reason too, so the two cannot
 * disagree.
 */

#include <stdint.h>

typedef enum Reason {
        REASON_NONE,                            /* "": success, or nothing failed yet */
        /* A probe's verdict (section 7). */
        REASON_TIMEOUT,
        REASON_NAME_NOT_RESOLVED,
        REASON_UNREACHABLE,
        REASON_REFUSED,
        REASON_CONNECTION_LOST,
        REASON_AUTHENTICATION_FAILED,
        REASON_MUTUAL_AUTHENTICATION_FAILED,
        REASON_LOGIN_REJECTED,
        REASON_TARGET_NOT_OFFERED,
        REASON_SYSTEM_NOT_OFFERED,
        REASON_PROTOCOL_ERROR,
        /* How a job ended without a probe's verdict (section 6). */
        REASON_INTERRUPTED,
        REASON_TERMINATED,
        REASON_KILLED,
        REASON_STORAGE_FAILED,
        /* The replica data path (section 10). */
        REASON_VOLUME_UNSUITABLE,               /* not a direct-access block device, or a copy too small */
        REASON_IO_FAILED,                       /* a READ, WRITE or SYNCHRONIZE CACHE ended in an error status */
        REASON_SOURCE_LOST,                     /* the source's session was lost or could not be opened */
        REASON_COPY_TARGET_LOST,                /* the copy's session was lost or could not be opened */
        REASON_VOLUME_CHANGED,                  /* a volume's block size or size is not what was registered */
        REASON_SUSPENDED,                       /* the cycle stopped for Suspend */
        REASON_REPLICA_DIFFERS,                 /* Compare found chunks that differ */
        _REASON_MAX,
} Reason;

/* The MessageID: "" for REASON_NONE, "Timeout", "NameNotResolved", … */
const char *reason_to_string(Reason r);

/* The Reason of a MessageID ("" is REASON_NONE), or -EINVAL. */
int reason_from_string(const char *s);

/* The CIM ErrorCode of a failed probe with this reason: 3 for Timeout, 4 otherwise. */
uint16_t reason_probe_cim_code(Reason r);
