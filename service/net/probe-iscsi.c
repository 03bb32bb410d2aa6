/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The iSCSI check of a probe: libiscsi's asynchronous API on the probe's
 * loop, over the probe's own connected socket. The probe watches libiscsi's
 * descriptor for the events libiscsi asks for, calls iscsi_service(), and
 * acts on what libiscsi's callbacks recorded only after iscsi_service() has
 * returned, because a context must not be destroyed from inside its own
 * callbacks. Each session is login, then SendTargets (discovery) or nothing
 * (normal), then a logout that decides nothing.
 */

#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "iscsi-connection.h"
#include "probe-internal.h"
#include "util/log.h"
#include "util/strutil.h"

/* ---- check stage: iSCSI ---- */

/*
 * The probe's connection is bound to the local access point's address
 * (API.md section 7), which libiscsi cannot do itself: it is handed over
 * by iscsi_connection_adopt(), see net/iscsi-connection.c.
 */

/* Ends the current session at once: no logout, the connection is closed. */
void probe_iscsi_close(Probe *p) {
        struct iscsi_context *iscsi = TAKE_PTR(p->iscsi);

        if (!iscsi)
                return;

        /* The watch goes before the descriptor it watches. */
        p->io_source = sd_event_source_disable_unref(p->io_source);
        p->logout_timer = sd_event_source_disable_unref(p->logout_timer);

        /* The callbacks of cancelled requests see p->iscsi != iscsi and record nothing. */
        p->step = ISCSI_STEP_NONE;
        p->step_done = false;
        if (p->username)
                iscsi_connection_forget_credentials(iscsi);
        (void) iscsi_destroy_context(iscsi);
}

/* "the discovery login", "SendTargets", "the login to target iqn.…", … */
const char *probe_iscsi_step_text(const Probe *p, char *buf, size_t size) {
        switch (p->step) {
        case ISCSI_STEP_SEND_TARGETS:
                snprintf(buf, size, "SendTargets");
                break;
        case ISCSI_STEP_LOGOUT:
                if (p->normal_session)
                        snprintf(buf, size, "the logout from target %s", p->target_name);
                else
                        snprintf(buf, size, "the discovery logout");
                break;
        default:
                if (p->normal_session)
                        snprintf(buf, size, "the login to target %s", p->target_name);
                else
                        snprintf(buf, size, "the discovery login");
        }
        return buf;
}

/* ---- libiscsi callbacks: they only record, see the banner ---- */

static void probe_iscsi_record(Probe *p, struct iscsi_context *iscsi, IscsiStep step, int status) {
        if (p->iscsi != iscsi || p->step != step || p->step_done)
                return;
        p->step_done = true;
        p->step_status = status;
}

static void on_iscsi_connected(struct iscsi_context *iscsi, int status, void *data, void *userdata) {
        probe_iscsi_record(userdata, iscsi, ISCSI_STEP_CONNECT, status);
}

static void on_iscsi_login(struct iscsi_context *iscsi, int status, void *data, void *userdata) {
        probe_iscsi_record(userdata, iscsi, ISCSI_STEP_LOGIN, status);
}

static void on_iscsi_logout(struct iscsi_context *iscsi, int status, void *data, void *userdata) {
        probe_iscsi_record(userdata, iscsi, ISCSI_STEP_LOGOUT, status);
}

/* The answer is freed when this returns, so the names are copied now. */
static void on_iscsi_send_targets(struct iscsi_context *iscsi, int status, void *data, void *userdata) {
        Probe *p = userdata;
        size_t n = 0;

        if (p->iscsi != iscsi || p->step != ISCSI_STEP_SEND_TARGETS || p->step_done)
                return;

        if (status == SCSI_STATUS_GOOD) {
                /* libiscsi lists the targets newest first; keep the peer's order. */
                for (const struct iscsi_discovery_address *a = data; a; a = a->next)
                        n++;
                p->offered = calloc(n + 1, sizeof(char *));
                if (!p->offered)
                        p->step_error = -ENOMEM;
                for (const struct iscsi_discovery_address *a = data; p->offered && a; a = a->next) {
                        p->offered[--n] = strdup(a->target_name ? a->target_name : "");
                        if (!p->offered[n])
                                p->step_error = -ENOMEM;
                }
        }
        probe_iscsi_record(p, iscsi, ISCSI_STEP_SEND_TARGETS, status);
}

/* ---- driving libiscsi ---- */

static int probe_on_iscsi_io(sd_event_source *s, int fd, uint32_t revents, void *userdata);

/* Watches what libiscsi wants now; its descriptor may differ after any iscsi_service(). */
static void probe_iscsi_watch(Probe *p) {
        int fd = iscsi_get_fd(p->iscsi), events = iscsi_which_events(p->iscsi), r;
        uint32_t mask = (events & POLLIN ? EPOLLIN : 0) | (events & POLLOUT ? EPOLLOUT : 0);

        /* Reconnecting is off, so no descriptor or nothing to wait for means the connection is gone. */
        if (fd < 0 || mask == 0) {
                probe_iscsi_fail_connection(p);
                return;
        }

        if (p->io_source && sd_event_source_get_io_fd(p->io_source) != fd) {
                r = sd_event_source_set_io_fd(p->io_source, fd);
                if (r < 0)
                        goto fail;
        }
        if (p->io_source)
                r = sd_event_source_set_io_events(p->io_source, mask);
        else
                r = sd_event_add_io(p->event, &p->io_source, fd, mask, probe_on_iscsi_io, p);
        if (r >= 0)
                return;
fail:
        probe_finish(p, r, REASON_PROTOCOL_ERROR,
                     "Cannot watch the iSCSI connection to %s%s: %s.", p->peer, p->from, strerror(-r));
}

static void probe_iscsi_succeeded(Probe *p) {
        if (p->normal_session)
                probe_finish(p, 0, REASON_NONE, "Logged in to target %s at %s%s.", p->target_name, p->peer, p->from);
        else
                probe_finish(p, 0, REASON_NONE, "Discovery session with %s%s succeeded; targets offered: %zu.",
                             p->peer, p->from, strv_length(p->offered));
}

/* Whether the current step is a logout after which, whatever happens, the probe succeeds. */
bool probe_iscsi_is_last_logout(const Probe *p) {
        return p->iscsi && p->step == ISCSI_STEP_LOGOUT && (p->normal_session || !p->target_name);
}

/*
 * The session did its work; its logout is over, answered or not (why says
 * how when it was not). The connection is closed, and the verdict stands:
 * the probe succeeds or goes on to the normal session.
 */
void probe_iscsi_logout_done(Probe *p, const char *why) {
        char step[PROBE_ADDRESS_MAX + 64];

        if (why)
                log_debug("Probe of %s: %s ended without an answer (%s); the connection is closed.", p->portal,
                          probe_iscsi_step_text(p, step, sizeof(step)), why);
        probe_iscsi_close(p);
        if (p->normal_session || !p->target_name) {
                probe_iscsi_succeeded(p);
                return;
        }
        /* The credentials are proven by a normal session, on a connection of its own. */
        p->normal_session = true;
        p->next_address = &p->login_address;
        probe_connect_next(p, 0);
}

static int probe_on_logout_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        probe_iscsi_logout_done(userdata, "no answer in time");
        return 0;
}

/* Sends the logout; a logout libiscsi will not even send is over at once. */
static void probe_iscsi_logout(Probe *p) {
        int r;

        p->step = ISCSI_STEP_LOGOUT;
        probe_iscsi_mark_error(p);
        if (iscsi_logout_async(p->iscsi, on_iscsi_logout, p) < 0) {
                char text[ISCSI_ERROR_TEXT_MAX];

                probe_iscsi_logout_done(p, probe_iscsi_error_text(p, text, sizeof(text)) ?: "not sent");
                return;
        }
        r = sd_event_add_time_relative(p->event, &p->logout_timer, CLOCK_MONOTONIC, PROBE_LOGOUT_WAIT_USEC,
                                       PROBE_TIMER_ACCURACY_USEC, probe_on_logout_timer, p);
        if (r < 0) {
                probe_iscsi_logout_done(p, "cannot wait for it");
                return;
        }
        probe_iscsi_watch(p);
}

/* Acts on what a libiscsi callback recorded: starts the next request or ends the probe. */
static void probe_iscsi_step_done(Probe *p) {
        int status = p->step_status, r = 0;

        p->step_done = false;

        switch (p->step) {
        case ISCSI_STEP_CONNECT:
                if (status != SCSI_STATUS_GOOD) {
                        probe_iscsi_fail_connection(p);
                        return;
                }
                p->step = ISCSI_STEP_LOGIN;
                probe_iscsi_mark_error(p);
                r = iscsi_login_async(p->iscsi, on_iscsi_login, p);
                break;

        case ISCSI_STEP_LOGIN:
                if (status == SCSI_STATUS_REDIRECT) {
                        char where[PROBE_ADDRESS_MAX + 1];

                        probe_finish(p, -EPROTO, REASON_LOGIN_REJECTED,
                                     "%s %s%s redirects logins to %s; redirects are not followed.",
                                     p->normal_session ? "Target" : "Portal",
                                     p->normal_session ? p->target_name : p->peer,
                                     p->from,
                                     iscsi_connection_sanitize(where, sizeof(where), iscsi_get_target_address(p->iscsi)));
                        return;
                }
                if (status == SCSI_STATUS_CANCELLED) {
                        probe_iscsi_fail_connection(p);
                        return;
                }
                if (status != SCSI_STATUS_GOOD) {
                        probe_iscsi_fail_login(p);
                        return;
                }
                if (p->normal_session) {
                        probe_iscsi_logout(p);
                        return;
                }
                p->step = ISCSI_STEP_SEND_TARGETS;
                probe_iscsi_mark_error(p);
                r = iscsi_discovery_async(p->iscsi, on_iscsi_send_targets, p);
                break;

        case ISCSI_STEP_SEND_TARGETS: {
                char reason[256];

                if (status == SCSI_STATUS_CANCELLED) {
                        probe_iscsi_fail_connection(p);
                        return;
                }
                if (status != SCSI_STATUS_GOOD) {
                        probe_finish(p, -EPROTO, REASON_PROTOCOL_ERROR,
                                     "SendTargets to %s%s failed: %s.", p->peer, p->from,
                                     iscsi_connection_sanitize(reason, sizeof(reason), iscsi_get_error(p->iscsi)));
                        return;
                }
                if (p->step_error < 0) {
                        probe_finish(p, p->step_error, REASON_PROTOCOL_ERROR,
                                     "Cannot keep the SendTargets answer of %s%s: %s.",
                                     p->peer, p->from, strerror(-p->step_error));
                        return;
                }
                if (!probe_check_offered(p))
                        return;
                probe_iscsi_logout(p);
                return;
        }

        case ISCSI_STEP_LOGOUT:
                if (status == SCSI_STATUS_GOOD) {
                        probe_iscsi_logout_done(p, NULL);
                } else {
                        char text[ISCSI_ERROR_TEXT_MAX];

                        probe_iscsi_logout_done(p, probe_iscsi_error_text(p, text, sizeof(text)) ?: "it failed");
                }
                return;

        case ISCSI_STEP_NONE:
                return;
        }

        if (r < 0) {
                char step[PROBE_ADDRESS_MAX + 64];

                probe_iscsi_fail_request(p, probe_iscsi_step_text(p, step, sizeof(step)));
                return;
        }
        probe_iscsi_watch(p);
}

/*
 * Discovery CHAP follows the target (API.md section 7): we offer CHAP and
 * the target picks it or not, but libiscsi fails a login whose target
 * skipped a mutual step it was told to expect. So with a mutual secret, the
 * discovery login looks at the target's first answer before libiscsi reads
 * it, and only when the target picked CHAP is libiscsi told to challenge it
 * too. libiscsi sends that challenge with its CHAP response, two round
 * trips later, and reads the setting only then.
 *
 * TCP may hand over an answer in pieces (a target commonly writes the
 * header and the data apart), and libiscsi reads whatever is there. So the
 * answer is judged only once all of it is in view; until then libiscsi
 * reads nothing and the connection is watched edge-triggered, for more.
 */
static size_t login_pdu_size(const uint8_t *pdu) {
        size_t ahs = (size_t) pdu[4] * 4, data = (size_t) pdu[5] << 16 | (size_t) pdu[6] << 8 | pdu[7];

        return LOGIN_BHS_SIZE + ahs + (data + 3) / 4 * 4;
}

/*
 * The value of KEY in a login PDU's text: NUL-separated key=value pairs after
 * the header and any additional header segments. NULL when KEY is not there
 * as a whole key (a longer key ending in KEY does not count).
 */
static const char *login_pdu_value(const uint8_t *pdu, size_t size, const char *key) {
        size_t start = LOGIN_BHS_SIZE + (size_t) pdu[4] * 4, key_len = strlen(key);
        const char *text = (const char *) pdu;

        for (size_t i = start; i < size;) {
                const char *end = memchr(text + i, '\0', size - i);
                size_t len = end ? (size_t) (end - (text + i)) : size - i;

                if (end && len > key_len && memcmp(text + i, key, key_len) == 0 && text[i + key_len] == '=')
                        return text + i + key_len + 1;
                i += len + 1;
        }
        return NULL;
}

/* Returns false while the answer in view is incomplete and more of it may come. */
static bool probe_iscsi_follow_auth_method(Probe *p, int fd, uint32_t revents) {
        uint8_t buf[LOGIN_PEEK_MAX];
        const char *method;
        size_t size;
        ssize_t n;

        if (p->normal_session || p->auth_method_seen || !p->mutual_username || p->step != ISCSI_STEP_LOGIN)
                return true;

        n = recv(fd, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT);
        if (n <= 0)
                return true;    /* nothing, or an error that libiscsi will meet */
        size = (size_t) n >= LOGIN_BHS_SIZE ? login_pdu_size(buf) : SIZE_MAX;
        if ((size_t) n < size) {
                if ((size_t) n < sizeof(buf) && !(revents & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
                        return false;
                p->auth_method_seen = true;     /* it will never be whole here: libiscsi judges alone */
                return true;
        }
        method = login_pdu_value(buf, size, "AuthMethod");
        if (!method)
                return true;    /* not in this answer: then libiscsi judges the login alone */
        p->auth_method_seen = true;
        if (strcmp(method, "CHAP") == 0)
                (void) iscsi_set_target_username_pwd(p->iscsi, p->mutual_username, p->mutual_secret);
        return true;
}

/* Sleeps until more of a login answer arrives or the target stops sending. */
static void probe_iscsi_await_rest(Probe *p) {
        int r;

        if (p->login_peek_waiting)
                return;         /* already armed: only a new edge wakes us */
        r = sd_event_source_set_io_events(p->io_source, EPOLLIN | EPOLLRDHUP | EPOLLET);
        if (r < 0) {
                probe_finish(p, r, REASON_PROTOCOL_ERROR, "Cannot watch the iSCSI connection to %s%s: %s.",
                             p->peer, p->from, strerror(-r));
                return;
        }
        p->login_peek_waiting = true;
}

static int probe_on_iscsi_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Probe *p = userdata;
        int r = 0;

        if ((revents & EPOLLIN) && !probe_iscsi_follow_auth_method(p, fd, revents)) {
                probe_iscsi_await_rest(p);
                return 0;
        }
        p->login_peek_waiting = false;

        /* libiscsi looks at POLLERR and POLLHUP before it reads, which would
         * lose a login response the target sent just before closing (as a
         * rejecting target does). So it reads first, and hears of the
         * hang-up only when nothing was decided by then. */
        if (revents & EPOLLIN)
                r = iscsi_service(p->iscsi, POLLIN);
        if (r >= 0 && !p->step_done && (revents & EPOLLOUT))
                r = iscsi_service(p->iscsi, POLLOUT);
        if (r >= 0 && !p->step_done && (revents & (EPOLLERR | EPOLLHUP)))
                r = iscsi_service(p->iscsi, (revents & EPOLLERR ? POLLERR : 0) | (revents & EPOLLHUP ? POLLHUP : 0));

        if (p->step_done)
                probe_iscsi_step_done(p);
        else if (r < 0)
                probe_iscsi_fail_connection(p);
        else
                probe_iscsi_watch(p);
        return 0;
}

/* Starts a session of the current kind on the probe's connected socket, which it takes over. */
void probe_iscsi_begin(Probe *p) {
        char step[PROBE_ADDRESS_MAX + 64];
        int r;

        p->iscsi = iscsi_create_context(p->initiator_name);
        if (!p->iscsi) {
                probe_finish(p, -ENOMEM, REASON_PROTOCOL_ERROR, "Cannot start %s with %s%s: out of memory.",
                             probe_iscsi_step_text(p, step, sizeof(step)), p->peer, p->from);
                return;
        }
        p->step = ISCSI_STEP_CONNECT;
        p->step_done = false;

        /* libiscsi logs through stderr when LIBISCSI_DEBUG is set; nothing of it may reach our log. */
        iscsi_set_log_level(p->iscsi, 0);
        /* A reconnect would open an unbound connection and may sleep; a lost connection fails the probe. */
        iscsi_set_noautoreconnect(p->iscsi, 1);
        iscsi_set_reconnect_max_retries(p->iscsi, 0);

        if (iscsi_set_session_type(p->iscsi, p->normal_session ? ISCSI_SESSION_NORMAL : ISCSI_SESSION_DISCOVERY) < 0 ||
            iscsi_set_header_digest(p->iscsi, ISCSI_HEADER_DIGEST_NONE) < 0 ||
            (p->normal_session && iscsi_set_targetname(p->iscsi, p->target_name) < 0))
                goto fail_setup;

        /* CHAP is offered on both sessions. The target proves itself (mutual
         * CHAP) on the normal session, and on the discovery session when it
         * asks for CHAP there (probe_iscsi_follow_auth_method()): targets
         * commonly do not authenticate discovery sessions (tgt does not). */
        if (p->username && iscsi_set_initiator_username_pwd(p->iscsi, p->username, p->secret) < 0)
                goto fail_setup;
        if (p->normal_session && p->mutual_username &&
            iscsi_set_target_username_pwd(p->iscsi, p->mutual_username, p->mutual_secret) < 0)
                goto fail_setup;

        r = iscsi_connection_adopt(p->iscsi, &p->fd, on_iscsi_connected, p);
        if (r == -EPROTO)
                goto fail_setup;
        if (r < 0)
                goto fail;

        probe_iscsi_watch(p);
        return;

fail_setup: {
                char reason[256];

                probe_finish(p, -EPROTO, REASON_PROTOCOL_ERROR, "Cannot start %s with %s%s: %s.",
                             probe_iscsi_step_text(p, step, sizeof(step)), p->peer, p->from,
                             iscsi_connection_sanitize(reason, sizeof(reason), iscsi_get_error(p->iscsi)));
                return;
        }
fail:
        probe_finish(p, r, REASON_PROTOCOL_ERROR, "Cannot start %s with %s%s: %s.",
                     probe_iscsi_step_text(p, step, sizeof(step)), p->peer, p->from, strerror(-r));
}
