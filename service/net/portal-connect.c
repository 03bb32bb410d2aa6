/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Connections to a portal by address or host name; see portal-connect.h.
 * Three steps on the loop — start (an IP literal needs no lookup), resolve
 * (probe-lookup.c), connect (each address in turn) — and one callback.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "iscsi-connection.h"
#include "portal-connect.h"
#include "probe-lookup.h"
#include "util/macros.h"

#define PORTAL_ADDRESS_MAX 255
#define MESSAGE_MAX 1024

struct PortalConnect {
        sd_event *event;
        portal_connect_callback_t callback;
        void *userdata;

        struct sockaddr_storage source;
        socklen_t source_len;
        uint16_t port;
        char *address;
        char *description;

        sd_event_source *start_source, *io_source;
        ProbeLookup *lookup;
        struct addrinfo *addresses;
        const struct addrinfo *next_address;
        int fd;
        int last_error;                 /* of the last address tried */
};

static void portal_connect_stop(PortalConnect *pc) {
        pc->start_source = sd_event_source_disable_unref(pc->start_source);
        /* The watch goes before the descriptor it watches. */
        pc->io_source = sd_event_source_disable_unref(pc->io_source);
        pc->lookup = probe_lookup_release(pc->lookup);
        if (pc->addresses)
                freeaddrinfo(TAKE_PTR(pc->addresses));
        pc->next_address = NULL;
        closep(&pc->fd);
        pc->fd = -1;
}

/* Ends with a failure; pc may be gone afterwards. */
_printf_(4, 5)
static void portal_connect_fail(PortalConnect *pc, int error, Reason reason, const char *format, ...) {
        char message[MESSAGE_MAX];
        va_list ap;

        va_start(ap, format);
        vsnprintf(message, sizeof(message), format, ap);
        va_end(ap);
        portal_connect_stop(pc);
        pc->callback(pc, error, reason, message, pc->userdata);
}

static void portal_connect_next(PortalConnect *pc);

static int on_connected(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        PortalConnect *pc = userdata;
        socklen_t len = sizeof(int);
        int error = 0;

        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) < 0)
                error = errno;
        pc->io_source = sd_event_source_disable_unref(pc->io_source);
        if (error == 0) {
                int connected = TAKE_FD(pc->fd);

                portal_connect_stop(pc);
                pc->callback(pc, connected, REASON_NONE, "", pc->userdata);
                return 0;
        }
        closep(&pc->fd);
        pc->fd = -1;
        pc->last_error = -error;
        portal_connect_next(pc);
        return 0;
}

/*
 * Tries the remaining addresses in order. A local address that cannot be
 * bound ends it at once: another address of the same name would not fare
 * better.
 */
static void portal_connect_next(PortalConnect *pc) {
        int r, bind_error;

        while (pc->next_address) {
                const struct addrinfo *ai = pc->next_address;

                pc->next_address = ai->ai_next;
                r = iscsi_connection_connect_bound(&pc->source, pc->source_len, ai->ai_addr, ai->ai_addrlen,
                                                   &bind_error);
                if (bind_error != 0) {
                        portal_connect_fail(pc, r, REASON_UNREACHABLE, "Cannot bind to the local address to reach %s: %s.",
                                            pc->description, strerror(bind_error));
                        return;
                }
                if (r < 0) {
                        pc->last_error = r;
                        continue;
                }
                pc->fd = r;
                r = sd_event_add_io(pc->event, &pc->io_source, pc->fd, EPOLLOUT, on_connected, pc);
                if (r < 0)
                        portal_connect_fail(pc, r, REASON_UNREACHABLE, "Cannot watch the connection to %s: %s.",
                                            pc->description, strerror(-r));
                return;
        }

        if (pc->last_error == -ECONNREFUSED)
                portal_connect_fail(pc, pc->last_error, REASON_REFUSED, "Connection to %s refused.", pc->description);
        else if (pc->last_error < 0)
                portal_connect_fail(pc, pc->last_error, REASON_UNREACHABLE, "Cannot connect to %s: %s.", pc->description,
                                    strerror(-pc->last_error));
        else
                portal_connect_fail(pc, -EHOSTUNREACH, REASON_UNREACHABLE, "%s has no usable address.", pc->description);
}

static int on_resolved(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        PortalConnect *pc = userdata;
        int r;

        r = probe_lookup_result(pc->lookup, &pc->addresses);
        if (r == EAI_INPROGRESS)
                return 0;
        pc->io_source = sd_event_source_disable_unref(pc->io_source);
        pc->lookup = probe_lookup_release(pc->lookup);
        if (r != 0) {
                portal_connect_fail(pc, probe_lookup_errno(r), REASON_NAME_NOT_RESOLVED,
                                    "Cannot resolve the host name of %s: %s.", pc->description, gai_strerror(r));
                return 0;
        }
        pc->next_address = pc->addresses;
        portal_connect_next(pc);
        return 0;
}

static int on_start(sd_event_source *source, void *userdata) {
        PortalConnect *pc = userdata;
        int r;

        pc->start_source = sd_event_source_disable_unref(pc->start_source);
        r = probe_lookup_literal(pc->address, pc->port, &pc->addresses);
        if (r == 0) {
                pc->next_address = pc->addresses;
                portal_connect_next(pc);
                return 0;
        }
        if (r == -ENOENT)
                /* A host name: resolved for the local address's family, so that every answer can be bound to. */
                r = probe_lookup_start(pc->address, pc->port, pc->source_len > 0 ? pc->source.ss_family : AF_UNSPEC,
                                       &pc->lookup);
        if (r >= 0)
                r = sd_event_add_io(pc->event, &pc->io_source, pc->lookup->event_fd, EPOLLIN, on_resolved, pc);
        if (r < 0)
                portal_connect_fail(pc, r, REASON_NAME_NOT_RESOLVED, "Cannot resolve the host name of %s: %s.",
                                    pc->description, strerror(-r));
        return 0;
}

int portal_connect_start(sd_event *event,
                         const struct sockaddr_storage *source,
                         socklen_t source_len,
                         const char *address,
                         uint16_t port,
                         const char *description,
                         portal_connect_callback_t callback,
                         void *userdata,
                         PortalConnect **ret) {
        PortalConnect *pc;
        int r;

        if (!event || !address || !*address || strlen(address) > PORTAL_ADDRESS_MAX || !description || !callback ||
            !ret || source_len > sizeof(pc->source))
                return -EINVAL;
        pc = calloc(1, sizeof(PortalConnect));
        if (!pc)
                return -ENOMEM;
        pc->fd = -1;
        pc->event = sd_event_ref(event);
        pc->callback = callback;
        pc->userdata = userdata;
        pc->port = port;
        if (source_len > 0)
                memcpy(&pc->source, source, source_len);
        pc->source_len = source_len;
        pc->address = strdup(address);
        pc->description = strdup(description);
        if (!pc->address || !pc->description) {
                portal_connect_free(pc);
                return -ENOMEM;
        }
        r = sd_event_add_defer(event, &pc->start_source, on_start, pc);
        if (r < 0) {
                portal_connect_free(pc);
                return r;
        }
        *ret = pc;
        return 0;
}

PortalConnect *portal_connect_free(PortalConnect *pc) {
        if (!pc)
                return NULL;
        portal_connect_stop(pc);
        free(pc->address);
        free(pc->description);
        sd_event_unref(pc->event);
        free(pc);
        return NULL;
}
