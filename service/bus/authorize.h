/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Authorization of mutating calls: the one function the bus handlers ask.
 * Today: uid 0 is allowed, and the starter of a job may control it; every
 * other caller is refused. Reading needs no authorization.
 */

#include <stdint.h>
#include <systemd/sd-bus.h>

#include "engine/engine.h"

typedef enum BusAction {
        BUS_ACTION_MANAGE_COLLECTIONS,
        BUS_ACTION_MANAGE_PEERS,
        BUS_ACTION_MANAGE_SECRETS,
        BUS_ACTION_MANAGE_JOBS,
        _BUS_ACTION_MAX,
} BusAction;

#define BUS_OWNER_MAX 128

const char *bus_action_to_id(BusAction a);     /* "org.iscsi.replication.manage-collections" … */

/* Who is calling: euid and "<unique name> (uid N)". */
int bus_get_caller(sd_bus_message *m, Caller *ret, char owner[static BUS_OWNER_MAX], sd_bus_error *error);

/*
 * Returns 1 when the caller may go on (and fills ret_caller), a negative
 * errno with error set when not. job_owner_uid: for job methods the uid
 * that started the job (it needs no further authorization), else UINT32_MAX.
 */
int bus_authorize(sd_bus_message *m, BusAction action, uint32_t job_owner_uid,
                  Caller *ret_caller, char owner[static BUS_OWNER_MAX], sd_bus_error *error);
