/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The signals the service sends about its objects, batched over one turn of
 * the event loop (API.md section 8a) as the committer batches changes
 * (engine/change.h): InterfacesAdded, InterfacesRemoved, PropertiesChanged
 * and a job's Completed are queued in the order the engine reports them and
 * sent, in that order, when the first of these comes:
 *  - a group of changes ends (before the replies that wait for it);
 *  - the loop has nothing else to do (a defer source of lower priority than
 *    the committer's);
 *  - a message arrives on the bus (before it is handled, so that no reply,
 *    Peer.Ping's included, overtakes what was announced before it);
 *  - a reply is about to go out (bus_reply_when_stored()), or someone calls
 *    bus_signals_flush();
 *  - the batch holds MAX_QUEUED signals.
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

#include "bus-util.h"
#include "contract/object-path.h"

/* ctx's bus must be attached to its event loop; ctx is what the property getters are given. */
int bus_signals_new(BusContext *ctx, BusSignals **ret);
/* Drops what is still queued. */
BusSignals *bus_signals_free(BusSignals *s);

void bus_signals_added(BusSignals *s, ObjectKind kind, uint64_t id);
void bus_signals_removed(BusSignals *s, ObjectKind kind, uint64_t id);
/* properties: NULL-terminated names on the object's own interface. */
void bus_signals_changed(BusSignals *s, ObjectKind kind, uint64_t id, const char * const *properties);
void bus_signals_completed(BusSignals *s, uint64_t job_id, bool success, uint16_t error_code, const char *message);

/* Sends everything queued, in order. */
void bus_signals_flush(BusSignals *s);
