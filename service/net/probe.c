/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Verification probes: one small state machine per probe (start → resolve →
 * connect → check → done), driven entirely by the caller's sd-event loop.
 *
 * Host names are resolved by glibc's getaddrinfo_a(), whose own helper
 * threads do the lookup; the only code of ours that runs off the loop is the
 * completion notification, which writes to an eventfd the loop watches and
 * drops its reference on the request block. Every resolved address is tried
 * in turn until one connects; one deadline covers resolution and all
 * attempts. Whatever ends a probe first — deadline, failure, success — tears
 * everything down before the single callback, so the callee may free it.
 */

#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>

#include "probe.h"
#include "util/log.h"
#include "util/strutil.h"

/* Deadlines are short and reported to users; a millisecond of slack still
 * lets sd-event coalesce the wake-ups of many probes started together. */
#define PROBE_TIMER_ACCURACY_USEC (1 * USEC_PER_MSEC)

#define PROBE_MESSAGE_MAX 1024

/* A numeric address as getnameinfo() writes it, with an IPv6 scope name. */
#define NUMERIC_HOST_MAX (INET6_ADDRSTRLEN + IF_NAMESIZE + 1)

typedef enum ProbeStage {
        PROBE_STAGE_START,
        PROBE_STAGE_RESOLVE,
        PROBE_STAGE_CONNECT,
        PROBE_STAGE_CHECK,
        PROBE_STAGE_DONE,
} ProbeStage;

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

struct Probe {
        sd_event *event;
        probe_callback_t callback;
        void *userdata;

        char *address;
        char *source_address;           /* NULL when unbound */
        char *target_name;              /* NULL when none; for the check stage */
        uint16_t port;
        uint64_t timeout_usec;

        ProbeStage stage;
        sd_event_source *deadline_source;
        sd_event_source *start_source;
        sd_event_source *io_source;     /* the eventfd while resolving, the socket after */

        ProbeLookup *lookup;
        bool is_host_name;
        struct addrinfo *addresses;
        const struct addrinfo *next_address;
        struct sockaddr_storage source;
        socklen_t source_len;           /* 0 when unbound */
        int fd;

        /* Message fragments, so every sentence names the portal the same way. */
        char portal[PROBE_ADDRESS_MAX + 16];            /* "host:port", "[v6]:port" */
        char peer[PROBE_ADDRESS_MAX + 16 + 4 + NUMERIC_HOST_MAX];       /* portal, plus " at <address>" for names */
        char from[PROBE_ADDRESS_MAX + 32];              /* " (local address …)" or "" */
};

static void probe_connect_next(Probe *p, int error);

/* ---- host name lookups ---- */

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
static ProbeLookup *lookup_release(ProbeLookup *l) {
        if (!l)
                return NULL;

        if (gai_cancel(&l->request) == EAI_CANCELED)
                lookup_unref(l);
        return lookup_unref(l);
}

static int lookup_start(const char *name, uint16_t port, int family, ProbeLookup **ret) {
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
                lookup_release(l);
                return r;
        }

        *ret = l;
        return 0;
}

/* ---- formatting ---- */

static const char *family_name(int family) {
        return family == AF_INET6 ? "IPv6" : family == AF_INET ? "IPv4" : "non-IP";
}

static void format_timeout(char *buf, size_t size, uint64_t usec) {
        if (usec % USEC_PER_SEC == 0)
                snprintf(buf, size, "%" PRIu64 " s", usec / USEC_PER_SEC);
        else if (usec < USEC_PER_SEC)
                snprintf(buf, size, "%" PRIu64 " ms", (usec + USEC_PER_MSEC / 2) / USEC_PER_MSEC);
        else
                snprintf(buf, size, "%.1f s", (double) usec / (double) USEC_PER_SEC);
}

static void probe_describe_peer(Probe *p, const struct addrinfo *ai) {
        char host[NUMERIC_HOST_MAX];

        if (!p->is_host_name ||
            getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof(host), NULL, 0, NI_NUMERICHOST) != 0) {
                snprintf(p->peer, sizeof(p->peer), "%s", p->portal);
                return;
        }

        snprintf(p->peer, sizeof(p->peer), "%s at %s", p->portal, host);
}

/* ---- completion ---- */

static void probe_stop(Probe *p) {
        p->deadline_source = sd_event_source_disable_unref(p->deadline_source);
        p->start_source = sd_event_source_disable_unref(p->start_source);
        /* Before the fds go: epoll must not be left watching a closed number. */
        p->io_source = sd_event_source_disable_unref(p->io_source);
        p->lookup = lookup_release(p->lookup);
        closep(&p->fd);
        p->fd = -1;
}

/* Ends the probe; p may be gone when this returns. */
_printf_(3, 4)
static void probe_finish(Probe *p, int error, const char *format, ...) {
        char message[PROBE_MESSAGE_MAX];
        va_list ap;

        va_start(ap, format);
        vsnprintf(message, sizeof(message), format, ap);
        va_end(ap);

        probe_stop(p);
        p->stage = PROBE_STAGE_DONE;

        log_debug("Probe of %s finished: %s", p->portal, message);
        p->callback(p, error, message, p->userdata);
}

static int probe_on_deadline(sd_event_source *s, uint64_t usec, void *userdata) {
        Probe *p = userdata;
        char timeout[32];

        format_timeout(timeout, sizeof(timeout), p->timeout_usec);

        if (p->stage == PROBE_STAGE_RESOLVE)
                probe_finish(p, -ETIMEDOUT, "The host name of portal %s did not resolve within %s%s.",
                             p->portal, timeout, p->from);
        else
                probe_finish(p, -ETIMEDOUT, "No answer from %s within %s%s.",
                             p->peer, timeout, p->from);
        return 0;
}

/* ---- check stage ---- */

/*
 * Everything after the TCP handshake. fd is connected and owned by the probe;
 * this stage owns p->io_source for its own I/O and ends with probe_finish().
 * Today a connection is the whole check.
 */
static void probe_check(Probe *p, int fd) {
        p->stage = PROBE_STAGE_CHECK;
        probe_finish(p, 0, "Connected to %s%s.", p->peer, p->from);
}

/* ---- connect stage ---- */

static void probe_fail_connect(Probe *p, int error) {
        switch (error) {
        case 0:
                probe_finish(p, -EHOSTUNREACH, "Portal %s has no usable address%s.", p->portal, p->from);
                break;
        case -ECONNREFUSED:
                probe_finish(p, error, "Connection to %s refused%s.", p->peer, p->from);
                break;
        case -ECONNRESET:
                probe_finish(p, error, "Connection to %s reset%s.", p->peer, p->from);
                break;
        case -ETIMEDOUT:
                /* The kernel gave up retrying before our deadline did. */
                probe_finish(p, error, "No answer from %s%s.", p->peer, p->from);
                break;
        default:
                probe_finish(p, error, "Cannot connect to %s%s: %s.", p->peer, p->from, strerror(-error));
        }
}

static int probe_on_connected(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Probe *p = userdata;
        socklen_t len = sizeof(int);
        int error = 0;

        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) < 0)
                error = errno;

        if (error == 0) {
                probe_check(p, p->fd);
                return 0;
        }

        p->io_source = sd_event_source_disable_unref(p->io_source);
        closep(&p->fd);
        p->fd = -1;
        probe_connect_next(p, -error);
        return 0;
}

/*
 * Tries the remaining addresses in order; error is the last attempt's
 * failure, reported when none is left. Local-side failures (binding, family)
 * end the probe at once, since another address of the same name would not
 * fare better.
 */
static void probe_connect_next(Probe *p, int error) {
        static const int one = 1;
        int r;

        p->stage = PROBE_STAGE_CONNECT;

        while (p->next_address) {
                const struct addrinfo *ai = p->next_address;

                p->next_address = ai->ai_next;
                probe_describe_peer(p, ai);

                if (p->source_len > 0 && ai->ai_family != p->source.ss_family) {
                        probe_finish(p, -EADDRNOTAVAIL, "Portal %s is %s but local address %s is %s.",
                                     p->peer, family_name(ai->ai_family),
                                     p->source_address, family_name(p->source.ss_family));
                        return;
                }

                p->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
                if (p->fd < 0) {
                        /* E.g. IPv6 disabled: another address may still work. */
                        error = negative_errno();
                        continue;
                }

                if (p->source_len > 0) {
                        /* Leave the port to connect(), so bound probes do not each
                         * pin an ephemeral port for every destination. */
                        (void) setsockopt(p->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));

                        if (bind(p->fd, (const struct sockaddr *) &p->source, p->source_len) < 0) {
                                error = errno;
                                probe_finish(p, -EADDRNOTAVAIL, "Cannot bind to local address %s to reach %s: %s.",
                                             p->source_address, p->peer, strerror(error));
                                return;
                        }
                }

                /* Even on loopback, where connect() may finish at once, the
                 * answer goes through the loop so the callback never runs
                 * from inside probe_start(). */
                if (connect(p->fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
                        error = negative_errno();
                        closep(&p->fd);
                        p->fd = -1;
                        continue;
                }

                r = sd_event_add_io(p->event, &p->io_source, p->fd, EPOLLOUT, probe_on_connected, p);
                if (r < 0) {
                        probe_finish(p, r, "Cannot watch the connection to %s%s: %s.",
                                     p->peer, p->from, strerror(-r));
                        return;
                }
                return;
        }

        probe_fail_connect(p, error);
}

/* ---- resolve stage ---- */

static void probe_fail_resolve(Probe *p, int gai_error) {
        const char *reason = gai_strerror(gai_error);
        int error;

        switch (gai_error) {
        case EAI_NONAME:
        case EAI_NODATA:
        case EAI_ADDRFAMILY:
                error = -ENOENT;
                break;
        case EAI_MEMORY:
                error = -ENOMEM;
                break;
        default:
                /* EAI_AGAIN, EAI_FAIL, EAI_SYSTEM (whose errno stayed on
                 * glibc's thread): the name service did not answer. */
                error = -EHOSTUNREACH;
        }

        if (p->source_len > 0)
                probe_finish(p, error, "Cannot resolve the host name of portal %s to an %s address%s: %s.",
                             p->portal, family_name(p->source.ss_family), p->from, reason);
        else
                probe_finish(p, error, "Cannot resolve the host name of portal %s: %s.", p->portal, reason);
}

static int probe_on_resolved(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Probe *p = userdata;
        ProbeLookup *l = p->lookup;
        uint64_t counter;
        ssize_t n;
        int r;

        n = read(fd, &counter, sizeof(counter));
        (void) n;

        r = gai_error(&l->request);
        if (r == EAI_INPROGRESS)
                return 0;

        p->io_source = sd_event_source_disable_unref(p->io_source);
        if (r == 0)
                p->addresses = TAKE_PTR(l->request.ar_result);
        p->lookup = lookup_release(l);

        if (r != 0) {
                probe_fail_resolve(p, r);
                return 0;
        }

        p->next_address = p->addresses;
        probe_connect_next(p, 0);
        return 0;
}

static void probe_resolve(Probe *p) {
        int family = p->source_len > 0 ? p->source.ss_family : AF_UNSPEC;
        int r;

        p->stage = PROBE_STAGE_RESOLVE;

        r = lookup_start(p->address, p->port, family, &p->lookup);
        if (r < 0) {
                probe_finish(p, r, "Cannot resolve the host name of portal %s: %s.", p->portal, strerror(-r));
                return;
        }

        r = sd_event_add_io(p->event, &p->io_source, p->lookup->event_fd, EPOLLIN, probe_on_resolved, p);
        if (r < 0)
                probe_finish(p, r, "Cannot wait for the host name of portal %s: %s.", p->portal, strerror(-r));
}

/* ---- start ---- */

/* 0 and a list for an IP literal (no name service is asked), -ENOENT for
 * anything else, which may be a host name. */
static int parse_ip_literal(const char *s, uint16_t port, struct addrinfo **ret) {
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

static int probe_on_start(sd_event_source *s, void *userdata) {
        Probe *p = userdata;
        int r;

        p->start_source = sd_event_source_disable_unref(p->start_source);

        r = parse_ip_literal(p->address, p->port, &p->addresses);
        if (r == -ENOENT) {
                p->is_host_name = true;
                probe_resolve(p);
                return 0;
        }
        if (r < 0) {
                probe_finish(p, r, "Cannot probe portal %s: %s.", p->portal, strerror(-r));
                return 0;
        }

        p->next_address = p->addresses;
        probe_connect_next(p, 0);
        return 0;
}

static int parse_source_address(const char *s, struct sockaddr_storage *ret, socklen_t *ret_len) {
        struct addrinfo *ai = NULL;
        int r;

        r = parse_ip_literal(s, 0, &ai);
        if (r == -ENOENT)
                return -EINVAL;
        if (r < 0)
                return r;

        if (ai->ai_addrlen > sizeof(*ret)) {
                freeaddrinfo(ai);
                return -EINVAL;
        }
        memset(ret, 0, sizeof(*ret));
        memcpy(ret, ai->ai_addr, ai->ai_addrlen);
        *ret_len = ai->ai_addrlen;
        freeaddrinfo(ai);
        return 0;
}

/**
 * probe_start() - start verifying one portal
 * @event: the loop every stage runs on; the probe keeps a reference
 * @target: where to connect and from where; its strings are copied
 * @timeout_usec: deadline for all stages together, from now; 0 for the default
 * @callback: called exactly once when the probe ends, never from in here
 * @userdata: passed to @callback
 * @ret: the running probe, written only on success
 *
 * Return: 0, or -EINVAL for arguments no network could fix, -ENOMEM, or an
 * sd-event error. All other failures arrive through @callback.
 */
int probe_start(sd_event *event,
                const ProbeTarget *target,
                uint64_t timeout_usec,
                probe_callback_t callback,
                void *userdata,
                Probe **ret) {
        _cleanup_(probe_freep) Probe *p = NULL;
        uint64_t now, deadline;
        int r;

        if (!event || !target || !callback || !ret)
                return -EINVAL;
        if (isempty(target->address) || strlen(target->address) > PROBE_ADDRESS_MAX || target->port == 0)
                return -EINVAL;
        if (!isempty(target->source_address) && strlen(target->source_address) > PROBE_ADDRESS_MAX)
                return -EINVAL;
        if (!isempty(target->target_name) && strlen(target->target_name) > PROBE_ADDRESS_MAX)
                return -EINVAL;

        p = calloc(1, sizeof(Probe));
        if (!p)
                return -ENOMEM;
        p->fd = -1;
        p->event = sd_event_ref(event);
        p->callback = callback;
        p->userdata = userdata;
        p->port = target->port;
        p->timeout_usec = timeout_usec > 0 ? timeout_usec : PROBE_TIMEOUT_DEFAULT_USEC;

        p->address = strdup(target->address);
        if (!p->address)
                return -ENOMEM;
        if (!isempty(target->source_address)) {
                p->source_address = strdup(target->source_address);
                if (!p->source_address)
                        return -ENOMEM;
        }
        if (!isempty(target->target_name)) {
                p->target_name = strdup(target->target_name);
                if (!p->target_name)
                        return -ENOMEM;
        }

        if (p->source_address) {
                r = parse_source_address(p->source_address, &p->source, &p->source_len);
                if (r < 0)
                        return r;
                snprintf(p->from, sizeof(p->from), " (local address %s)", p->source_address);
        }

        /* A colon can only come from an IPv6 literal; bracket it so the port stays readable. */
        if (strchr(p->address, ':'))
                snprintf(p->portal, sizeof(p->portal), "[%s]:%u", p->address, (unsigned) p->port);
        else
                snprintf(p->portal, sizeof(p->portal), "%s:%u", p->address, (unsigned) p->port);
        snprintf(p->peer, sizeof(p->peer), "%s", p->portal);

        now = now_usec(CLOCK_MONOTONIC);
        deadline = p->timeout_usec < UINT64_MAX - 1 - now ? now + p->timeout_usec : UINT64_MAX - 1;
        r = sd_event_add_time(event, &p->deadline_source, CLOCK_MONOTONIC, deadline,
                              PROBE_TIMER_ACCURACY_USEC, probe_on_deadline, p);
        if (r < 0)
                return r;

        r = sd_event_add_defer(event, &p->start_source, probe_on_start, p);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(p);
        return 0;
}

/**
 * probe_free() - abort and free a probe
 * @p: the probe, running or finished, or NULL
 *
 * A running probe stops at once: its socket is closed, a pending lookup is
 * cancelled or left to glibc to finish, and the callback is not called.
 * Safe from inside the probe's own callback.
 *
 * Return: NULL
 */
Probe *probe_free(Probe *p) {
        if (!p)
                return NULL;

        probe_stop(p);
        if (p->addresses)
                freeaddrinfo(p->addresses);
        free(p->address);
        free(p->source_address);
        free(p->target_name);
        sd_event_unref(p->event);
        free(p);
        return NULL;
}
