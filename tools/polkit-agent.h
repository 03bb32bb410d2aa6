/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A polkit text agent (pkttyagent) for the duration of one call, so that a
 * user on a terminal can authenticate when the service asks polkit, as
 * systemd's tools do. It registers as the fallback agent: a desktop agent,
 * when one runs, keeps precedence.
 */

#include <sys/types.h>

/* Starts the agent and waits until it has registered. Returns 0 (*ret_pid 0 when none could start). */
int polkit_agent_open(pid_t *ret_pid);
/* Stops the agent started by polkit_agent_open() and reaps it; sets *pid to 0. */
void polkit_agent_close(pid_t *pid);
