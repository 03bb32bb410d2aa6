/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A TCP connection to a portal given as an IP literal or a host name, from
 * a bound local address, on sd-event: the data path's way in (volume
 * sessions). A host name is resolved as probes resolve it (probe-lookup.h:
 * asynchronously, off the loop, for the local address's family when there
 * is one), and every address it resolves to is tried in turn until one
 * connects. No deadline of its own: the owner's covers it and frees it.
 */

#include <stdint.h>
#include <sys/socket.h>
#include <systemd/sd-event.h>

#include "core/reason.h"

typedef struct PortalConnect PortalConnect;

/*
 * Called once, never from inside portal_connect_start(): fd is the
 * connected socket, the callee's from now on; or a negative errno with the
 * reason (NameNotResolved, Refused, Unreachable) and one sentence naming
 * the portal by description. The callee may free pc.
 */
typedef void (*portal_connect_callback_t)(PortalConnect *pc, int fd, Reason reason, const char *message,
                                          void *userdata);

/*
 * Starts connecting to address:port, bound to source first when source_len
 * is not 0. description names the portal in messages ("target … at …").
 * -EINVAL for an empty or over-long address, -ENOMEM, sd-event errors.
 */
int portal_connect_start(sd_event *event,
                         const struct sockaddr_storage *source,
                         socklen_t source_len,
                         const char *address,
                         uint16_t port,
                         const char *description,
                         portal_connect_callback_t callback,
                         void *userdata,
                         PortalConnect **ret);

/* Stops at once: a lookup is let go of, a connection in progress closed; NULL is fine. */
PortalConnect *portal_connect_free(PortalConnect *pc);
