/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Verification probes: one small state machine per probe (start → resolve →
 * connect → check → done), driven entirely by the caller's sd-event loop.
 * The check stage is either nothing (a TCP connection suffices) or an iSCSI
 * conversation run by libiscsi on the same loop (probe-iscsi.c, judged by
 * probe-verdict.c).
 *
 * Host names are resolved by probe-lookup.c, off the loop. Every resolved
 * address is tried in turn until one connects; one deadline covers
 * resolution and all attempts. Whatever ends a probe first — deadline, failure, success — tears
 * everything down before the single callback, so the callee may free it.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#include "iscsi-connection.h"
#include "probe-internal.h"
#include "util/log.h"
#include "util/strutil.h"

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
        p->logout_timer = sd_event_source_disable_unref(p->logout_timer);
        p->lookup = probe_lookup_release(p->lookup);
        probe_iscsi_close(p);
        closep(&p->fd);
        p->fd = -1;
}

/* Ends the probe; p may be gone when this returns. */
_printf_(4, 5)
void probe_finish(Probe *p, int error, Reason reason, const char *format, ...) {
        char message[PROBE_MESSAGE_MAX];
        va_list ap;

        va_start(ap, format);
        vsnprintf(message, sizeof(message), format, ap);
        va_end(ap);

        probe_stop(p);
        p->stage = PROBE_STAGE_DONE;

        log_debug("Probe of %s finished: %s%s%s", p->portal, reason_to_string(reason), error < 0 ? ": " : "", message);
        p->callback(p, error, reason, message, p->userdata);
}

static int probe_on_deadline(sd_event_source *s, uint64_t usec, void *userdata) {
        Probe *p = userdata;
        char timeout[32], step[PROBE_ADDRESS_MAX + 64];

        format_timeout(timeout, sizeof(timeout), p->timeout_usec);

        /* Everything that proves the portal is done; only the courtesy of a logout is missing. */
        if (probe_iscsi_is_last_logout(p)) {
                probe_iscsi_logout_done(p, "the deadline passed");
                return 0;
        }

        if (p->stage == PROBE_STAGE_RESOLVE)
                probe_finish(p, -ETIMEDOUT, REASON_TIMEOUT, "The host name of portal %s did not resolve within %s%s.",
                             p->portal, timeout, p->from);
        else if (p->stage == PROBE_STAGE_CHECK && p->iscsi)
                probe_finish(p, -ETIMEDOUT, REASON_TIMEOUT, "No answer to %s from %s within %s%s.",
                             probe_iscsi_step_text(p, step, sizeof(step)), p->peer, timeout, p->from);
        else
                probe_finish(p, -ETIMEDOUT, REASON_TIMEOUT, "No answer from %s within %s%s.",
                             p->peer, timeout, p->from);
        return 0;
}

/* ---- check stage ---- */

/*
 * Everything after the TCP handshake. p->fd is connected, owned by the probe
 * and no longer watched; this stage owns p->io_source for its own I/O and
 * ends with probe_finish().
 */
static void probe_check(Probe *p) {
        p->stage = PROBE_STAGE_CHECK;

        if (!p->iscsi_check) {
                probe_finish(p, 0, REASON_NONE, "Connected to %s%s.", p->peer, p->from);
                return;
        }

        if (!p->normal_session && p->current_address &&
            p->current_address->ai_addrlen <= sizeof(p->login_sockaddr)) {
                memcpy(&p->login_sockaddr, p->current_address->ai_addr, p->current_address->ai_addrlen);
                p->login_address = (struct addrinfo) {
                        .ai_family = p->current_address->ai_family,
                        .ai_socktype = p->current_address->ai_socktype,
                        .ai_protocol = p->current_address->ai_protocol,
                        .ai_addrlen = p->current_address->ai_addrlen,
                        .ai_addr = (struct sockaddr *) &p->login_sockaddr,
                };
        }

        probe_iscsi_begin(p);
}

/* ---- connect stage ---- */

static void probe_fail_connect(Probe *p, int error) {
        switch (error) {
        case 0:
                probe_finish(p, -EHOSTUNREACH, REASON_UNREACHABLE,
                             "Portal %s has no usable address%s.", p->portal, p->from);
                break;
        case -ECONNREFUSED:
                probe_finish(p, error, REASON_REFUSED, "Connection to %s refused%s.", p->peer, p->from);
                break;
        case -ECONNRESET:
                probe_finish(p, error, REASON_CONNECTION_LOST, "Connection to %s reset%s.", p->peer, p->from);
                break;
        case -ETIMEDOUT:
                /* The kernel gave up retrying before our deadline did. */
                probe_finish(p, error, REASON_TIMEOUT, "No answer from %s%s.", p->peer, p->from);
                break;
        default:
                probe_finish(p, error, REASON_UNREACHABLE,
                             "Cannot connect to %s%s: %s.", p->peer, p->from, strerror(-error));
        }
}

static int probe_on_connected(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Probe *p = userdata;
        socklen_t len = sizeof(int);
        int error = 0;

        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) < 0)
                error = errno;

        p->io_source = sd_event_source_disable_unref(p->io_source);
        if (error == 0) {
                probe_check(p);
                return 0;
        }

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
void probe_connect_next(Probe *p, int error) {
        int r, bind_error;

        p->stage = PROBE_STAGE_CONNECT;

        while (p->next_address) {
                const struct addrinfo *ai = p->next_address;

                p->next_address = ai->ai_next;
                p->current_address = ai;
                probe_describe_peer(p, ai);

                if (p->source_len > 0 && ai->ai_family != p->source.ss_family) {
                        probe_finish(p, -EADDRNOTAVAIL, REASON_UNREACHABLE,
                                     "Portal %s is %s but local address %s is %s.",
                                     p->peer, family_name(ai->ai_family),
                                     p->source_address, family_name(p->source.ss_family));
                        return;
                }

                r = iscsi_connection_connect_bound(&p->source, p->source_len, ai->ai_addr, ai->ai_addrlen, &bind_error);
                if (bind_error != 0) {
                        probe_finish(p, -EADDRNOTAVAIL, REASON_UNREACHABLE,
                                     "Cannot bind to local address %s to reach %s: %s.",
                                     p->source_address, p->peer, strerror(bind_error));
                        return;
                }
                if (r < 0) {
                        /* E.g. IPv6 disabled, or the connection refused at once: another address may still work. */
                        error = r;
                        continue;
                }
                p->fd = r;

                r = sd_event_add_io(p->event, &p->io_source, p->fd, EPOLLOUT, probe_on_connected, p);
                if (r < 0) {
                        probe_finish(p, r, REASON_UNREACHABLE, "Cannot watch the connection to %s%s: %s.",
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
        int error = probe_lookup_errno(gai_error);

        if (p->source_len > 0)
                probe_finish(p, error, REASON_NAME_NOT_RESOLVED,
                             "Cannot resolve the host name of portal %s to an %s address%s: %s.",
                             p->portal, family_name(p->source.ss_family), p->from, reason);
        else
                probe_finish(p, error, REASON_NAME_NOT_RESOLVED,
                             "Cannot resolve the host name of portal %s: %s.", p->portal, reason);
}

static int probe_on_resolved(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Probe *p = userdata;
        int r;

        r = probe_lookup_result(p->lookup, &p->addresses);
        if (r == EAI_INPROGRESS)
                return 0;

        p->io_source = sd_event_source_disable_unref(p->io_source);
        p->lookup = probe_lookup_release(p->lookup);

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

        r = probe_lookup_start(p->address, p->port, family, &p->lookup);
        if (r < 0) {
                probe_finish(p, r, REASON_NAME_NOT_RESOLVED,
                             "Cannot resolve the host name of portal %s: %s.", p->portal, strerror(-r));
                return;
        }

        r = sd_event_add_io(p->event, &p->io_source, p->lookup->event_fd, EPOLLIN, probe_on_resolved, p);
        if (r < 0)
                probe_finish(p, r, REASON_NAME_NOT_RESOLVED,
                             "Cannot wait for the host name of portal %s: %s.", p->portal, strerror(-r));
}

/* ---- start ---- */

static int probe_on_start(sd_event_source *s, void *userdata) {
        Probe *p = userdata;
        int r;

        p->start_source = sd_event_source_disable_unref(p->start_source);

        r = probe_lookup_literal(p->address, p->port, &p->addresses);
        if (r == -ENOENT) {
                p->is_host_name = true;
                probe_resolve(p);
                return 0;
        }
        if (r < 0) {
                probe_finish(p, r, REASON_UNREACHABLE, "Cannot probe portal %s: %s.", p->portal, strerror(-r));
                return 0;
        }

        p->next_address = p->addresses;
        probe_connect_next(p, 0);
        return 0;
}

/* A copy of s in *ret, or NULL there when s is empty. */
static int strdup_if_set(const char *s, char **ret) {
        if (isempty(s)) {
                *ret = NULL;
                return 0;
        }
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

static bool length_ok(const char *s, size_t max) {
        return isempty(s) || strlen(s) <= max;
}

/* What the iSCSI check needs: a name to log in as, credentials in pairs, limits libiscsi can hold. */
static int probe_check_credentials(const ProbeTarget *t) {
        if (isempty(t->initiator_name) || !length_ok(t->initiator_name, ISCSI_NAME_MAX) ||
            !length_ok(t->target_name, ISCSI_NAME_MAX) || !length_ok(t->expected_node_name, ISCSI_NAME_MAX))
                return -EINVAL;
        if (isempty(t->username) != isempty(t->secret) ||
            isempty(t->mutual_username) != isempty(t->mutual_secret) ||
            (!isempty(t->mutual_username) && isempty(t->username)))
                return -EINVAL;
        if (!length_ok(t->username, MAX_STRING_SIZE) || !length_ok(t->secret, MAX_STRING_SIZE) ||
            !length_ok(t->mutual_username, MAX_STRING_SIZE) || !length_ok(t->mutual_secret, MAX_STRING_SIZE))
                return -EINVAL;
        return 0;
}


/**
 * probe_start() - start verifying one portal
 * @event: the loop every stage runs on; the probe keeps a reference
 * @target: where to connect and from where, and with iscsi_check what to
 *          verify and with which credentials; its strings are copied
 * @timeout_usec: deadline for all stages together (both iSCSI sessions
 *                included), from now; 0 for the default
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
        if (target->iscsi_check) {
                r = probe_check_credentials(target);
                if (r < 0)
                        return r;
        }

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
        if (target->iscsi_check) {
                p->iscsi_check = true;
                if (strdup_if_set(target->initiator_name, &p->initiator_name) < 0 ||
                    strdup_if_set(target->expected_node_name, &p->expected_node_name) < 0 ||
                    strdup_if_set(target->username, &p->username) < 0 ||
                    strdup_if_set(target->secret, &p->secret) < 0 ||
                    strdup_if_set(target->mutual_username, &p->mutual_username) < 0 ||
                    strdup_if_set(target->mutual_secret, &p->mutual_secret) < 0)
                        return -ENOMEM;
        }

        if (p->source_address) {
                r = iscsi_connection_parse_address(p->source_address, 0, &p->source, &p->source_len);
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
 * A running probe stops at once: its socket or iSCSI session is closed
 * (without a logout), a pending lookup is cancelled or left to glibc to
 * finish, and the callback is not called. Its copies of the credentials,
 * and libiscsi's, are overwritten before they are freed.
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
        free(p->initiator_name);
        free(p->expected_node_name);
        free(p->username);
        erase_and_free(p->secret);
        free(p->mutual_username);
        erase_and_free(p->mutual_secret);
        strv_free(p->offered);
        sd_event_unref(p->event);
        free(p);
        return NULL;
}

