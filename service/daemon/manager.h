/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The manager owns the event loop, the bus connection and the engine, and
 * runs the service until it is told to stop or has been idle long enough.
 */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "bus/bus-util.h"
#include "core/config.h"
#include "engine/engine.h"

typedef enum BusKind {
        BUS_KIND_SYSTEM,
        BUS_KIND_SESSION,
        BUS_KIND_ADDRESS,
} BusKind;

typedef struct ManagerOptions {
        BusKind bus_kind;
        const char *bus_address;
        const char *state_directory;
        const char *initiator_name;
        uint64_t exit_on_idle_usec;     /* 0: never */
        ServiceConfig config;
} ManagerOptions;

typedef struct Manager {
        sd_event *event;
        sd_bus *bus;
        Engine *engine;
        BusContext bus_context;
        ManagerOptions options;
        char *initiator_name;
        int state_lock_fd;              /* flock() on the state directory's lock file; -1 until taken */
        sd_event_source *idle_timer;
        sd_event_source *idle_watch;    /* notices the end of the last running job */
        bool jobs_were_running;
        bool bus_lost;                  /* the bus went away: the loop ends, the exit status is failure */
} Manager;

int manager_new(const ManagerOptions *o, Manager **ret);
Manager *manager_free(Manager *m);
int manager_run(Manager *m);

/* The initiator name: configured, else /etc/iscsi/initiatorname.iscsi, else derived from the machine id. */
int manager_find_initiator_name(const char *configured, char **ret);
