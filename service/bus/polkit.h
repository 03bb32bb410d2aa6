/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Asynchronous polkit CheckAuthorization for a bus caller. The first call
 * for a message sends the query and returns 0; the message is held and, when
 * polkit answers, put back into the bus's read queue, so the handler runs
 * again from the start, looks everything up again and this time gets the
 * verdict. Nothing but the message is kept across the wait.
 */

#include <stdbool.h>
#include <systemd/sd-bus.h>

/*
 * 1: allowed; 0: the answer is pending (return 0 from the handler, send no
 * reply); negative errno with error set: refused (-EACCES), or interactive
 * authentication needed but not allowed by the caller (-EKEYREJECTED).
 * details: NULL-terminated key, value, key, value … list passed to polkit.
 */
int polkit_check_async(sd_bus_message *m, const char *action, const char * const *details, sd_bus_error *error);

/* Queries still waiting for polkit (the service is not idle while there are any). */
unsigned polkit_pending_count(void);

/* Drops every query (at shutdown). */
void polkit_flush(void);
