/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Host name lookups for probes and for the data path's connections
 * (portal-connect.h), with glibc's getaddrinfo_a(): its helper
 * threads do the lookup; the only code of ours that runs off the loop is the
 * completion notification, which writes to an eventfd the loop watches and
 * drops its reference on the request block.
 */

#include <netdb.h>
#include <stdatomic.h>
#include <stdint.h>

/*
 * One getaddrinfo_a() request. glibc writes the answer into the gaicb from a
 * helper thread and afterwards runs lookup_notify() on yet another thread, at
 * a moment the loop cannot know. So the block is shared by two owners, the
 * probe and the pending notification, and whichever lets go last frees it:
 * a probe freed mid-lookup never leaves glibc or the notification pointing
 * at freed memory or at a closed (possibly reused) eventfd number.
 */
typedef struct ProbeLookup {
        atomic_uint n_ref;
        int event_fd;
        struct gaicb request;
        struct addrinfo hints;
        char service[8];
        char name[];
} ProbeLookup;

/*
 * An IP literal needs no lookup: 0 and its address in *ret (no name service
 * is asked), -ENOENT for anything else, which may be a host name; -ENOMEM.
 */
int probe_lookup_literal(const char *s, uint16_t port, struct addrinfo **ret);

/* Starts resolving name (port, family as for getaddrinfo()); the loop watches ret's event_fd. */
int probe_lookup_start(const char *name, uint16_t port, int family, ProbeLookup **ret);
/* Lets go of the probe's share of a lookup, cancelling it when glibc has not begun; NULL is fine. */
ProbeLookup *probe_lookup_release(ProbeLookup *l);

/*
 * After l's event_fd was readable: EAI_INPROGRESS while glibc is not done
 * (keep waiting), else the getaddrinfo() result code; on 0 the addresses
 * move to *ret (the caller frees them with freeaddrinfo()). The caller lets
 * go of l once the answer is not EAI_INPROGRESS.
 */
int probe_lookup_result(ProbeLookup *l, struct addrinfo **ret);
/* The errno for a failed lookup's result code: -ENOENT no such name, -ENOMEM, else -EHOSTUNREACH. */
int probe_lookup_errno(int gai_error);
