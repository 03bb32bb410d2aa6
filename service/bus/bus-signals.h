/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The signals the service sends about its objects, held until the end of
 * the dispatch of the event loop that caused them (API.md section 8a):
 * InterfacesAdded, InterfacesRemoved, PropertiesChanged and a job's
 * Completed are queued in the order the engine reports them and sent by a
 * defer source that runs before anything else the loop has pending, or at
 * once by bus_signals_flush(), which handlers call before they reply.
 *
 * Within one batch:
 *  - all changes to one object go out as one PropertiesChanged naming every
 *    changed property, at the place of the object's last change, so that
 *    whatever the batch announced before that change has been sent first;
 *  - values are read when the batch is sent: an object added and then
 *    changed is announced by InterfacesAdded with its latest values and then
 *    PropertiesChanged (kept, so that a job's final state is always in a
 *    PropertiesChanged before its Completed);
 *  - a change never moves past the object's Completed: a job's final
 *    PropertiesChanged stays before it;
 *  - an object removed drops its pending PropertiesChanged; but when its
 *    InterfacesAdded or Completed is still queued, everything queued is sent
 *    first, while the object can still be read.
 */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "contract/object-path.h"

typedef struct BusSignals BusSignals;

/* The bus must be attached to its event loop. */
int bus_signals_new(sd_bus *bus, BusSignals **ret);
/* Drops what is still queued. */
BusSignals *bus_signals_free(BusSignals *s);

void bus_signals_added(BusSignals *s, ObjectKind kind, uint64_t id);
void bus_signals_removed(BusSignals *s, ObjectKind kind, uint64_t id);
/* properties: NULL-terminated names on the object's own interface. */
void bus_signals_changed(BusSignals *s, ObjectKind kind, uint64_t id, const char * const *properties);
void bus_signals_completed(BusSignals *s, uint64_t job_id, bool success, uint16_t error_code, const char *message);

/* Sends everything queued, in order. */
void bus_signals_flush(BusSignals *s);
