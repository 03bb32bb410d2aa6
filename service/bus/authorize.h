/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Authorization of mutating calls: the one function the bus handlers ask.
 * uid 0 is allowed, the starter of a job may control it, everyone else is
 * asked about through polkit (bus/polkit.c), asynchronously. Reading needs no
 * authorization.
 */

#include <stdint.h>
#include <systemd/sd-bus.h>

#include "engine/engine.h"

typedef enum BusAction {
        BUS_ACTION_MANAGE_COLLECTIONS,
        BUS_ACTION_MANAGE_PEERS,
        BUS_ACTION_MANAGE_SECRETS,
        BUS_ACTION_MANAGE_JOBS,
        BUS_ACTION_MANAGE_REPLICAS,
        _BUS_ACTION_MAX,
} BusAction;

#define BUS_OWNER_MAX 128

const char *bus_action_to_id(BusAction a);     /* "org.iscsi.replication.manage-collections" … */

/* Who is calling: euid and "<unique name> (uid N)". */
int bus_get_caller(sd_bus_message *m, Caller *ret, char owner[static BUS_OWNER_MAX], sd_bus_error *error);

/*
 * Returns 1 when the caller may go on (and fills ret_caller); 0 when polkit
 * has been asked and the handler must return 0 at once (it runs again when
 * the answer is there); a negative errno with error set when refused.
 * job_owner_uid: for job methods the uid that started the job (it needs no
 * further authorization), else UINT32_MAX. details: extra key/value pairs for
 * polkit rules (NULL-terminated, may be NULL); the method name and the object
 * the method is called on are always passed.
 */
int bus_authorize(sd_bus_message *m, BusAction action, const char * const *details, uint32_t job_owner_uid,
                  Caller *ret_caller, char owner[static BUS_OWNER_MAX], sd_bus_error *error);
