/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Caller identity from the bus, and who is allowed without asking polkit. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "authorize.h"
#include "caller-cache.h"
#include "contract/object-path.h"
#include "errors.h"
#include "polkit.h"

static const char * const action_ids[_BUS_ACTION_MAX] = {
        [BUS_ACTION_MANAGE_COLLECTIONS] = "org.iscsi.replication.manage-collections",
        [BUS_ACTION_MANAGE_PEERS] = "org.iscsi.replication.manage-peers",
        [BUS_ACTION_MANAGE_SECRETS] = "org.iscsi.replication.manage-secrets",
        [BUS_ACTION_MANAGE_JOBS] = "org.iscsi.replication.manage-jobs",
        [BUS_ACTION_MANAGE_REPLICAS] = "org.iscsi.replication.manage-replicas",
};

const char *bus_action_to_id(BusAction a) {
        return a >= 0 && a < _BUS_ACTION_MAX ? action_ids[a] : NULL;
}

int bus_get_caller(sd_bus_message *m, Caller *ret, char owner[static BUS_OWNER_MAX], sd_bus_error *error) {
        uint32_t uid;
        int r;

        r = caller_cache_get_uid(sd_bus_message_get_bus(m), sd_bus_message_get_sender(m), &uid);
        if (r < 0)
                return bus_error_setf_errno(error, -EACCES, "The caller's identity could not be determined.");

        snprintf(owner, BUS_OWNER_MAX, "%s (uid %" PRIu32 ")", sd_bus_message_get_sender(m), uid);
        *ret = (Caller) { .uid = uid, .owner = owner };
        return 0;
}

int bus_authorize(sd_bus_message *m, BusAction action, const char * const *details, uint32_t job_owner_uid,
                  Caller *ret_caller, char owner[static BUS_OWNER_MAX], sd_bus_error *error) {
        const char *all[16];
        const char *path = sd_bus_message_get_path(m);
        ObjectKind kind;
        uint64_t id;
        size_t k = 0;
        Caller c;
        int r;

        r = bus_get_caller(m, &c, owner, error);
        if (r < 0)
                return r;
        if (c.uid == 0 || (action == BUS_ACTION_MANAGE_JOBS && c.uid == job_owner_uid)) {
                *ret_caller = c;
                return 1;
        }

        /* Rules can match on what is being changed, not only on the action. */
        all[k++] = "method";
        all[k++] = sd_bus_message_get_member(m);
        if (object_path_parse(path, &kind, &id) >= 0 && kind != OBJECT_SERVICE && kind != OBJECT_NONE) {
                all[k++] = object_kind_to_string(kind);
                all[k++] = path;
        }
        for (const char * const *d = details; d && d[0] && d[1] && k + 2 < ELEMENTSOF(all); d += 2) {
                all[k++] = d[0];
                all[k++] = d[1];
        }
        all[k] = NULL;

        r = polkit_check_async(m, bus_action_to_id(action), all, error);
        if (r <= 0)
                return r;
        *ret_caller = c;
        return 1;
}
