/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Host name lookups for probes; see probe-lookup.h.
 */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "probe-lookup.h"
#include "util/macros.h"

static ProbeLookup *lookup_unref(ProbeLookup *l) {
        if (!l)
                return NULL;

        if (atomic_fetch_sub_explicit(&l->n_ref, 1, memory_order_acq_rel) != 1)
                return NULL;

        if (l->request.ar_result)
                freeaddrinfo(l->request.ar_result);
        if (l->event_fd >= 0)
                close(l->event_fd);
        free(l);
        return NULL;
}

/* Runs on a glibc thread, so it touches nothing but the shared block: it
 * wakes the loop and drops its share, freeing the block when the probe has
 * already let go. If the write fails the probe still ends, at its deadline. */
static void lookup_notify(union sigval value) {
        ProbeLookup *l = value.sival_ptr;
        uint64_t one = 1;
        ssize_t n;

        n = write(l->event_fd, &one, sizeof(one));
        (void) n;
        lookup_unref(l);
}

/*
 * Lets go of the probe's share. A request gai_cancel() took off the queue is
 * never notified, so the notification's share goes too. One that is running or
 * done will still be notified and the notification frees the block then.
 * (When gai_cancel() succeeds, glibc 2.36 never frees its own ~100 bytes of
 * bookkeeping for the request. That is out of reach from here, and still
 * cheaper than letting a queue of dead lookups hold up the next job's.)
 */
ProbeLookup *probe_lookup_release(ProbeLookup *l) {
        if (!l)
                return NULL;

        if (gai_cancel(&l->request) == EAI_CANCELED)
                lookup_unref(l);
        return lookup_unref(l);
}

int probe_lookup_literal(const char *s, uint16_t port, struct addrinfo **ret) {
        const struct addrinfo hints = {
                .ai_family = AF_UNSPEC,
                .ai_socktype = SOCK_STREAM,
                .ai_protocol = IPPROTO_TCP,
                .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
        };
        char service[8];
        int r;

        snprintf(service, sizeof(service), "%u", (unsigned) port);
        r = getaddrinfo(s, service, &hints, ret);
        if (r == 0)
                return 0;
        if (r == EAI_MEMORY)
                return -ENOMEM;
        return -ENOENT;
}

int probe_lookup_start(const char *name, uint16_t port, int family, ProbeLookup **ret) {
        struct sigevent notification = {
                .sigev_notify = SIGEV_THREAD,
                .sigev_notify_function = lookup_notify,
        };
        struct gaicb *list[1];
        size_t n = strlen(name);
        ProbeLookup *l;
        int r;

        l = calloc(1, sizeof(ProbeLookup) + n + 1);
        if (!l)
                return -ENOMEM;

        atomic_init(&l->n_ref, 1);
        memcpy(l->name, name, n + 1);
        snprintf(l->service, sizeof(l->service), "%u", (unsigned) port);
        l->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (l->event_fd < 0) {
                r = negative_errno();
                lookup_unref(l);
                return r;
        }

        l->hints = (struct addrinfo) {
                .ai_family = family,
                .ai_socktype = SOCK_STREAM,
                .ai_protocol = IPPROTO_TCP,
                .ai_flags = AI_NUMERICSERV,
        };
        l->request = (struct gaicb) {
                .ar_name = l->name,
                .ar_service = l->service,
                .ar_request = &l->hints,
        };
        list[0] = &l->request;
        notification.sigev_value.sival_ptr = l;

        /* The notification's share exists before glibc can deliver it. */
        atomic_fetch_add_explicit(&l->n_ref, 1, memory_order_relaxed);

        r = getaddrinfo_a(GAI_NOWAIT, list, 1, &notification);
        if (r != 0) {
                /* Depending on where glibc failed, the request may still be
                 * queued, running or even notified; lookup_release() settles
                 * each case except a lookup glibc runs but cannot notify, whose
                 * block is left to leak rather than be written after free. */
                r = r == EAI_SYSTEM ? negative_errno() : -EAGAIN;
                probe_lookup_release(l);
                return r;
        }

        *ret = l;
        return 0;
}

int probe_lookup_result(ProbeLookup *l, struct addrinfo **ret) {
        uint64_t counter;
        ssize_t n;
        int r;

        /* Level-triggered: the counter is drained whatever the answer, or the loop spins on it. */
        n = read(l->event_fd, &counter, sizeof(counter));
        (void) n;
        r = gai_error(&l->request);
        if (r == 0)
                *ret = TAKE_PTR(l->request.ar_result);
        return r;
}

int probe_lookup_errno(int gai_error) {
        switch (gai_error) {
        case EAI_NONAME:
        case EAI_NODATA:
        case EAI_ADDRFAMILY:
                return -ENOENT;
        case EAI_MEMORY:
                return -ENOMEM;
        default:
                /* EAI_AGAIN, EAI_FAIL, EAI_SYSTEM (whose errno stayed on
                 * glibc's thread): the name service did not answer. */
                return -EHOSTUNREACH;
        }
}
