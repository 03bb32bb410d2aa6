/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The names of the failure reasons; see reason.h.
 */

#include <errno.h>

#include "model.h"
#include "reason.h"
#include "util/strutil.h"

static const char * const reason_names[_REASON_MAX] = {
        [REASON_NONE] = "",
        [REASON_TIMEOUT] = "Timeout",
        [REASON_NAME_NOT_RESOLVED] = "NameNotResolved",
        [REASON_UNREACHABLE] = "Unreachable",
        [REASON_REFUSED] = "Refused",
        [REASON_CONNECTION_LOST] = "ConnectionLost",
        [REASON_AUTHENTICATION_FAILED] = "AuthenticationFailed",
        [REASON_MUTUAL_AUTHENTICATION_FAILED] = "MutualAuthenticationFailed",
        [REASON_LOGIN_REJECTED] = "LoginRejected",
        [REASON_TARGET_NOT_OFFERED] = "TargetNotOffered",
        [REASON_SYSTEM_NOT_OFFERED] = "SystemNotOffered",
        [REASON_PROTOCOL_ERROR] = "ProtocolError",
        [REASON_INTERRUPTED] = "Interrupted",
        [REASON_TERMINATED] = "Terminated",
        [REASON_KILLED] = "Killed",
        [REASON_STORAGE_FAILED] = "StorageFailed",
        [REASON_VOLUME_UNSUITABLE] = "VolumeUnsuitable",
        [REASON_IO_FAILED] = "IOFailed",
        [REASON_SOURCE_LOST] = "SourceLost",
        [REASON_COPY_TARGET_LOST] = "CopyTargetLost",
        [REASON_VOLUME_CHANGED] = "VolumeChanged",
        [REASON_SUSPENDED] = "Suspended",
        [REASON_REPLICA_DIFFERS] = "ReplicaDiffers",
};

const char *reason_to_string(Reason r) {
        return r >= 0 && r < _REASON_MAX ? reason_names[r] : "";
}

int reason_from_string(const char *s) {
        for (int i = 0; i < _REASON_MAX; i++)
                if (streq_ptr(s, reason_names[i]))
                        return i;
        return -EINVAL;
}

uint16_t reason_probe_cim_code(Reason r) {
        return r == REASON_TIMEOUT ? CIM_TIMEOUT : CIM_FAILED;
}
