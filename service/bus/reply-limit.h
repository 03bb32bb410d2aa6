/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * GetManagedObjects is the one reply that grows with everything the service
 * holds. A message larger than the bus's limit costs the sender its
 * connection, so before sd-bus builds that reply a filter bounds its size
 * from the model and answers LimitsExceeded when it would not fit.
 */

#include <stddef.h>
#include <systemd/sd-bus.h>

#include "bus-util.h"

/* An upper bound of the GetManagedObjects reply's size in bytes, from the model. */
size_t bus_managed_objects_size_bound(const Model *m);

/* Installs the filter on ctx->bus. */
int bus_install_reply_limit(BusContext *ctx);
