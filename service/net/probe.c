/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Verification probes: one small state machine per probe (start → resolve →
 * connect → check → done), driven entirely by the caller's sd-event loop.
 * The check stage is either nothing (a TCP connection suffices) or an iSCSI
 * conversation run by libiscsi's asynchronous API on the same loop: the
 * probe watches libiscsi's descriptor for the events libiscsi asks for,
 * calls iscsi_service(), and acts on what libiscsi's callbacks recorded only
 * after iscsi_service() has returned, because a context must not be
 * destroyed from inside its own callbacks.
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
#include <fcntl.h>
#include <inttypes.h>
#include <iscsi/iscsi.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
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

#include "core/reason.h"
#include "probe.h"
#include "util/log.h"
#include "util/strutil.h"

/* Deadlines are short and reported to users; a millisecond of slack still
 * lets sd-event coalesce the wake-ups of many probes started together. */
#define PROBE_TIMER_ACCURACY_USEC (1 * USEC_PER_MSEC)

#define PROBE_MESSAGE_MAX 1024

/* A numeric address as getnameinfo() writes it, with an IPv6 scope name. */
#define NUMERIC_HOST_MAX (INET6_ADDRSTRLEN + IF_NAMESIZE + 1)

#define PEER_TEXT_MAX (PROBE_ADDRESS_MAX + 16 + 4 + NUMERIC_HOST_MAX)
#define FROM_TEXT_MAX (PROBE_ADDRESS_MAX + 32)

/* RFC 7143's limit for iSCSI names; libiscsi builds "TargetName=…" keys in 255 bytes. */
#define ISCSI_NAME_MAX 223

/* How much of the SendTargets answer a failure message quotes. */
#define OFFERED_TEXT_MAX 600

typedef enum ProbeStage {
        PROBE_STAGE_START,
        PROBE_STAGE_RESOLVE,
        PROBE_STAGE_CONNECT,
        PROBE_STAGE_CHECK,
        PROBE_STAGE_DONE,
} ProbeStage;

/* Where an iSCSI session of the check stage is; each step ends in one libiscsi callback. */
typedef enum IscsiStep {
        ISCSI_STEP_NONE,
        ISCSI_STEP_CONNECT,             /* libiscsi notices the connection it was handed */
        ISCSI_STEP_LOGIN,
        ISCSI_STEP_SEND_TARGETS,        /* discovery session only */
        ISCSI_STEP_LOGOUT,
} IscsiStep;

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
        sd_event_source *io_source;     /* the eventfd while resolving, the socket after, libiscsi's in the check */

        ProbeLookup *lookup;
        bool is_host_name;
        struct addrinfo *addresses;
        const struct addrinfo *next_address;
        const struct addrinfo *current_address; /* the one being connected to */
        struct sockaddr_storage source;
        socklen_t source_len;           /* 0 when unbound */
        int fd;

        /* The iSCSI check; the secrets are wiped when the probe is freed. */
        bool iscsi_check;
        char *initiator_name;
        char *expected_node_name;       /* NULL when none */
        char *username;                 /* NULL when no CHAP */
        char *secret;
        char *mutual_username;          /* NULL when no mutual CHAP */
        char *mutual_secret;

        struct iscsi_context *iscsi;    /* the session in progress, NULL between sessions */
        bool normal_session;            /* false: the discovery session */
        IscsiStep step;
        bool step_done;                 /* recorded by a libiscsi callback, handled after iscsi_service() */
        int step_status;                /* SCSI_STATUS_* of that callback */
        int step_error;                 /* failure while copying the SendTargets answer */
        char **offered;                 /* the SendTargets answer: target names, in the order received */
        /* The address the discovery session reached, where the normal session goes too. */
        struct addrinfo login_address;
        struct sockaddr_storage login_sockaddr;

        /* Message fragments, so every sentence names the portal the same way. */
        char portal[PROBE_ADDRESS_MAX + 16];            /* "host:port", "[v6]:port" */
        char peer[PEER_TEXT_MAX];                       /* portal, plus " at <address>" for names */
        char from[FROM_TEXT_MAX];                       /* " (local address …)" or "" */
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

static void probe_iscsi_close(Probe *p);

static void probe_stop(Probe *p) {
        p->deadline_source = sd_event_source_disable_unref(p->deadline_source);
        p->start_source = sd_event_source_disable_unref(p->start_source);
        /* Before the fds go: epoll must not be left watching a closed number. */
        p->io_source = sd_event_source_disable_unref(p->io_source);
        p->lookup = lookup_release(p->lookup);
        probe_iscsi_close(p);
        closep(&p->fd);
        p->fd = -1;
}

/* Ends the probe; p may be gone when this returns. */
_printf_(4, 5)
static void probe_finish(Probe *p, int error, Reason reason, const char *format, ...) {
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

static const char *probe_iscsi_step_text(const Probe *p, char *buf, size_t size);

static int probe_on_deadline(sd_event_source *s, uint64_t usec, void *userdata) {
        Probe *p = userdata;
        char timeout[32], step[PROBE_ADDRESS_MAX + 64];

        format_timeout(timeout, sizeof(timeout), p->timeout_usec);

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

/* ---- check stage: iSCSI ---- */

/*
 * How libiscsi gets the probe's connection.
 *
 * API.md section 7 wants the verifying connection bound to the local access
 * point's address. libiscsi (1.19, Debian 12) cannot adopt a socket, and the
 * socket iscsi_connect_async() creates cannot be bound to a source address:
 * iscsi_set_bind_interfaces() is SO_BINDTODEVICE, an interface, not an
 * address (on loopback it changes nothing at all). Letting libiscsi open its
 * own unbound connection after our bound TCP check would log in from
 * whatever address routing picks — an initiator-address ACL on the target
 * (tgt's -I) would then judge the wrong address — and every probe would
 * reach the peer twice.
 *
 * So libiscsi speaks over our socket. iscsi_connect_async() creates its
 * socket and starts connecting before it returns; from then on libiscsi
 * knows that socket only by its descriptor number, the one iscsi_get_fd()
 * hands out for event loops. We let it connect to a throwaway listener of
 * our own on loopback, so nothing of it reaches the peer, and dup3() our
 * connected, bound socket onto that number. libiscsi then sees its connect
 * complete (POLLOUT, SO_ERROR 0) and runs the session on our connection,
 * which iscsi_destroy_context() closes. This relies only on libiscsi doing
 * its I/O through that number, which its event-loop API already presumes.
 */

/* A listener on loopback for libiscsi's own connect to land on; "host:port" in portal. */
static int decoy_listener_open(char *portal, size_t size) {
        static const struct {
                int family;
                const char *text;
        } loopbacks[] = {
                { AF_INET, "127.0.0.1" },
                { AF_INET6, "::1" },
        };
        int error = -EAFNOSUPPORT;

        for (size_t i = 0; i < ELEMENTSOF(loopbacks); i++) {
                struct sockaddr_storage ss = { .ss_family = loopbacks[i].family };
                socklen_t len;
                uint16_t port;
                int fd;

                if (loopbacks[i].family == AF_INET) {
                        ((struct sockaddr_in *) &ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
                        len = sizeof(struct sockaddr_in);
                } else {
                        ((struct sockaddr_in6 *) &ss)->sin6_addr = in6addr_loopback;
                        len = sizeof(struct sockaddr_in6);
                }

                fd = socket(loopbacks[i].family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
                if (fd < 0) {
                        error = negative_errno();
                        continue;
                }
                if (bind(fd, (struct sockaddr *) &ss, len) < 0 || listen(fd, 1) < 0 ||
                    getsockname(fd, (struct sockaddr *) &ss, &len) < 0) {
                        error = negative_errno();
                        close(fd);
                        continue;
                }

                port = ntohs(loopbacks[i].family == AF_INET ? ((struct sockaddr_in *) &ss)->sin_port
                                                            : ((struct sockaddr_in6 *) &ss)->sin6_port);
                if (loopbacks[i].family == AF_INET6)
                        snprintf(portal, size, "[%s]:%u", loopbacks[i].text, (unsigned) port);
                else
                        snprintf(portal, size, "%s:%u", loopbacks[i].text, (unsigned) port);
                return fd;
        }
        return error;
}

/*
 * libiscsi keeps the credentials in its context and clears it with a
 * memset() right before free(), a store a compiler may drop. Overwriting
 * them through its own setters first, with values of the full length its
 * buffers hold, replaces every byte a secret occupied.
 */
static void iscsi_forget_credentials(struct iscsi_context *iscsi) {
        char filler[MAX_STRING_SIZE + 1];

        memset(filler, 'x', MAX_STRING_SIZE);
        filler[MAX_STRING_SIZE] = '\0';
        (void) iscsi_set_initiator_username_pwd(iscsi, filler, filler);
        (void) iscsi_set_target_username_pwd(iscsi, filler, filler);
}

/* Ends the current session at once: no logout, the connection is closed. */
static void probe_iscsi_close(Probe *p) {
        struct iscsi_context *iscsi = TAKE_PTR(p->iscsi);

        if (!iscsi)
                return;

        /* The watch goes before the descriptor it watches. */
        p->io_source = sd_event_source_disable_unref(p->io_source);

        /* The callbacks of cancelled requests see p->iscsi != iscsi and record nothing. */
        p->step = ISCSI_STEP_NONE;
        p->step_done = false;
        if (p->username)
                iscsi_forget_credentials(iscsi);
        (void) iscsi_destroy_context(iscsi);
}

/* "the discovery login", "SendTargets", "the login to target iqn.…", … */
static const char *probe_iscsi_step_text(const Probe *p, char *buf, size_t size) {
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

/* Text from the peer or from libiscsi, made safe for a message: printable ASCII, no final period. */
static char *text_sanitize(char *buf, size_t size, const char *s) {
        size_t n = 0;

        for (; s && *s && n + 1 < size; s++)
                buf[n++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
        while (n > 0 && (buf[n - 1] == '.' || buf[n - 1] == ' '))
                n--;
        buf[n] = '\0';
        return buf;
}

static void probe_iscsi_fail_closed(Probe *p) {
        char step[PROBE_ADDRESS_MAX + 64];

        probe_finish(p, -ECONNRESET, REASON_CONNECTION_LOST, "Connection to %s closed during %s%s.",
                     p->peer, probe_iscsi_step_text(p, step, sizeof(step)), p->from);
}

static void probe_iscsi_fail_request(Probe *p, const char *what) {
        char reason[256];

        probe_finish(p, -EPROTO, REASON_PROTOCOL_ERROR, "Cannot start %s with %s%s: %s.", what, p->peer, p->from,
                     text_sanitize(reason, sizeof(reason), iscsi_get_error(p->iscsi)));
}

/*
 * The status of a Login Response (RFC 7143 11.13.5) as text, errno and
 * reason: every rejection is LoginRejected but the one for credentials.
 */
static int login_status_reason(unsigned status, const char **ret_text, Reason *ret_reason) {
        static const struct {
                unsigned status;
                int error;
                const char *text;
        } table[] = {
                { 0x0200, -EPROTO, "initiator error" },
                { 0x0201, -EACCES, "authentication failed" },
                { 0x0202, -EACCES, "not authorized" },
                { 0x0203, -ENOENT, "target not found" },
                { 0x0204, -ENOENT, "target removed" },
                { 0x0205, -EPROTO, "unsupported iSCSI version" },
                { 0x0206, -EPROTO, "too many connections" },
                { 0x0207, -EPROTO, "missing parameter" },
                { 0x0208, -EPROTO, "cannot include the connection in the session" },
                { 0x0209, -EPROTO, "session type not supported" },
                { 0x020a, -EPROTO, "session does not exist" },
                { 0x020b, -EPROTO, "request invalid during login" },
                { 0x0300, -EPROTO, "target error" },
                { 0x0301, -EPROTO, "service unavailable" },
                { 0x0302, -EPROTO, "target out of resources" },
        };

        *ret_reason = status == 0x0201 ? REASON_AUTHENTICATION_FAILED : REASON_LOGIN_REJECTED;
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (table[i].status == status) {
                        *ret_text = table[i].text;
                        return table[i].error;
                }
        *ret_text = NULL;
        return -EPROTO;
}

/*
 * libiscsi reports a failed login only as text: a rejection by the target
 * as "… Status: <text>(<number>)", a failed mutual CHAP check of the
 * target by what was missing or wrong. Anything else is quoted.
 */
static void probe_iscsi_fail_login(Probe *p) {
        const char *text = iscsi_get_error(p->iscsi), *status_text, *reason = NULL;
        char what[PEER_TEXT_MAX + FROM_TEXT_MAX + ISCSI_NAME_MAX + 32], quoted[256];
        Reason reason_code;
        int error = -EPROTO;

        if (p->normal_session)
                snprintf(what, sizeof(what), "Login to target %s at %s%s", p->target_name, p->peer, p->from);
        else
                snprintf(what, sizeof(what), "Discovery login to %s%s", p->peer, p->from);

        status_text = strstr(text, "Status: ");
        if (status_text) {
                const char *open = strrchr(status_text, '(');
                char *end = NULL;
                long status = open ? strtol(open + 1, &end, 10) : -1;

                if (end && end != open + 1 && *end == ')' && status >= 0 && status <= 0xffff) {
                        error = login_status_reason((unsigned) status, &reason, &reason_code);
                        if (reason)
                                probe_finish(p, error, reason_code, "%s rejected: %s.", what, reason);
                        else
                                probe_finish(p, error, reason_code, "%s rejected with status 0x%04lx.", what, status);
                        return;
                }
        }

        /* Only possible when mutual CHAP was asked for: the target did not prove its secret. */
        if (strstr(text, "CHAP_N during SECNEG") || strstr(text, "CHAP_R during SECNEG"))
                reason = "the target did not answer the mutual CHAP challenge";
        else if (strstr(text, "Invalid CHAP_R"))
                reason = "the target's mutual CHAP response is wrong";
        else if (strstr(text, "Wrong CHAP targetname"))
                reason = "the target answered the mutual CHAP challenge as another user";
        if (reason) {
                probe_finish(p, -EACCES, REASON_MUTUAL_AUTHENTICATION_FAILED, "%s failed: %s.", what, reason);
                return;
        }

        probe_finish(p, error, REASON_PROTOCOL_ERROR, "%s failed: %s.", what, text_sanitize(quoted, sizeof(quoted), text));
}

static bool offered_contains(char **offered, const char *name) {
        for (size_t i = 0; offered && offered[i]; i++)
                if (strcasecmp(offered[i], name) == 0)
                        return true;
        return false;
}

/* "it offers: iqn.a, iqn.b", "it offers: iqn.a, … and 7 more", "it offers no targets". */
static void format_offered(char *buf, size_t size, char **offered) {
        size_t n = strv_length(offered), used, shown;

        if (n == 0) {
                snprintf(buf, size, "it offers no targets");
                return;
        }

        used = (size_t) snprintf(buf, size, "it offers: ");
        for (shown = 0; shown < n; shown++) {
                char name[ISCSI_NAME_MAX + 2];
                size_t need;

                text_sanitize(name, sizeof(name), offered[shown]);
                need = strlen(name) + (shown > 0 ? 2 : 0);
                /* Keep room for " and N more". */
                if (used + need + 32 > size)
                        break;
                snprintf(buf + used, size - used, "%s%s", shown > 0 ? ", " : "", name);
                used += need;
        }
        if (shown < n)
                snprintf(buf + used, size - used, "%s%zu more", shown > 0 ? " and " : "", n - shown);
}

/* Whether the expected names are offered; ends the probe when one is not. */
static bool probe_check_offered(Probe *p) {
        char offered[OFFERED_TEXT_MAX];

        if (p->target_name && !offered_contains(p->offered, p->target_name)) {
                format_offered(offered, sizeof(offered), p->offered);
                probe_finish(p, -ENOENT, REASON_TARGET_NOT_OFFERED, "Target %s is not offered by %s%s; %s.",
                             p->target_name, p->peer, p->from, offered);
                return false;
        }
        if (p->expected_node_name && !offered_contains(p->offered, p->expected_node_name)) {
                format_offered(offered, sizeof(offered), p->offered);
                probe_finish(p, -ENOENT, REASON_SYSTEM_NOT_OFFERED, "Target %s (the peer system's Name) is not offered by %s%s; %s.",
                             p->expected_node_name, p->peer, p->from, offered);
                return false;
        }
        return true;
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
                probe_iscsi_fail_closed(p);
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
        probe_finish(p, r, REASON_PROTOCOL_ERROR, "Cannot watch the iSCSI connection to %s%s: %s.", p->peer, p->from, strerror(-r));
}

static void probe_iscsi_succeeded(Probe *p) {
        if (p->normal_session)
                probe_finish(p, 0, REASON_NONE, "Logged in to target %s at %s%s.", p->target_name, p->peer, p->from);
        else
                probe_finish(p, 0, REASON_NONE, "Discovery session with %s%s succeeded; targets offered: %zu.",
                             p->peer, p->from, strv_length(p->offered));
}

/* Acts on what a libiscsi callback recorded: starts the next request or ends the probe. */
static void probe_iscsi_step_done(Probe *p) {
        int status = p->step_status, r = 0;

        p->step_done = false;

        switch (p->step) {
        case ISCSI_STEP_CONNECT:
                if (status != SCSI_STATUS_GOOD) {
                        probe_iscsi_fail_closed(p);
                        return;
                }
                p->step = ISCSI_STEP_LOGIN;
                r = iscsi_login_async(p->iscsi, on_iscsi_login, p);
                break;

        case ISCSI_STEP_LOGIN:
                if (status == SCSI_STATUS_REDIRECT) {
                        char where[PROBE_ADDRESS_MAX + 1];

                        probe_finish(p, -EPROTO, REASON_LOGIN_REJECTED, "%s %s%s redirects logins to %s; redirects are not followed.",
                                     p->normal_session ? "Target" : "Portal",
                                     p->normal_session ? p->target_name : p->peer,
                                     p->from, text_sanitize(where, sizeof(where), iscsi_get_target_address(p->iscsi)));
                        return;
                }
                if (status == SCSI_STATUS_CANCELLED) {
                        probe_iscsi_fail_closed(p);
                        return;
                }
                if (status != SCSI_STATUS_GOOD) {
                        probe_iscsi_fail_login(p);
                        return;
                }
                if (p->normal_session) {
                        p->step = ISCSI_STEP_LOGOUT;
                        r = iscsi_logout_async(p->iscsi, on_iscsi_logout, p);
                } else {
                        p->step = ISCSI_STEP_SEND_TARGETS;
                        r = iscsi_discovery_async(p->iscsi, on_iscsi_send_targets, p);
                }
                break;

        case ISCSI_STEP_SEND_TARGETS: {
                char reason[256];

                if (status == SCSI_STATUS_CANCELLED) {
                        probe_iscsi_fail_closed(p);
                        return;
                }
                if (status != SCSI_STATUS_GOOD) {
                        probe_finish(p, -EPROTO, REASON_PROTOCOL_ERROR, "SendTargets to %s%s failed: %s.", p->peer, p->from,
                                     text_sanitize(reason, sizeof(reason), iscsi_get_error(p->iscsi)));
                        return;
                }
                if (p->step_error < 0) {
                        probe_finish(p, p->step_error, REASON_PROTOCOL_ERROR, "Cannot keep the SendTargets answer of %s%s: %s.",
                                     p->peer, p->from, strerror(-p->step_error));
                        return;
                }
                if (!probe_check_offered(p))
                        return;
                p->step = ISCSI_STEP_LOGOUT;
                r = iscsi_logout_async(p->iscsi, on_iscsi_logout, p);
                break;
        }

        case ISCSI_STEP_LOGOUT:
                if (status != SCSI_STATUS_GOOD) {
                        probe_iscsi_fail_closed(p);
                        return;
                }
                probe_iscsi_close(p);
                if (p->normal_session || !p->target_name) {
                        probe_iscsi_succeeded(p);
                        return;
                }
                /* The credentials are proven by a normal session, on a connection of its own. */
                p->normal_session = true;
                p->next_address = &p->login_address;
                probe_connect_next(p, 0);
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

static int probe_on_iscsi_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Probe *p = userdata;
        int r = 0;

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
                probe_iscsi_fail_closed(p);
        else
                probe_iscsi_watch(p);
        return 0;
}

/* Starts a session of the current kind on the probe's connected socket, which it takes over. */
static void probe_iscsi_begin(Probe *p) {
        _cleanup_close_ int decoy = -1;
        char decoy_portal[INET6_ADDRSTRLEN + 16], step[PROBE_ADDRESS_MAX + 64];
        static const int one = 1;
        int fd, r;

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

        /* One-way CHAP on both sessions. The target proves itself (mutual CHAP)
         * on the normal session only: targets commonly do not authenticate
         * discovery sessions (tgt does not), and libiscsi fails a login
         * whose target skipped the mutual step. */
        if (p->username && iscsi_set_initiator_username_pwd(p->iscsi, p->username, p->secret) < 0)
                goto fail_setup;
        if (p->normal_session && p->mutual_username &&
            iscsi_set_target_username_pwd(p->iscsi, p->mutual_username, p->mutual_secret) < 0)
                goto fail_setup;

        /* See the banner of this section. */
        decoy = decoy_listener_open(decoy_portal, sizeof(decoy_portal));
        if (decoy < 0) {
                r = decoy;
                goto fail;
        }
        if (iscsi_connect_async(p->iscsi, decoy_portal, on_iscsi_connected, p) < 0)
                goto fail_setup;
        fd = iscsi_get_fd(p->iscsi);
        if (fd < 0 || fd == p->fd) {
                r = -EBADF;
                goto fail;
        }
        /* libiscsi sets it on sockets it makes; login PDUs are small and answered one by one. */
        (void) setsockopt(p->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (dup3(p->fd, fd, O_CLOEXEC) < 0) {
                r = negative_errno();
                goto fail;
        }
        closep(&p->fd);
        p->fd = -1;

        probe_iscsi_watch(p);
        return;

fail_setup: {
                char reason[256];

                probe_finish(p, -EPROTO, REASON_PROTOCOL_ERROR, "Cannot start %s with %s%s: %s.",
                             probe_iscsi_step_text(p, step, sizeof(step)), p->peer, p->from,
                             text_sanitize(reason, sizeof(reason), iscsi_get_error(p->iscsi)));
                return;
        }
fail:
        probe_finish(p, r, REASON_PROTOCOL_ERROR, "Cannot start %s with %s%s: %s.",
                     probe_iscsi_step_text(p, step, sizeof(step)), p->peer, p->from, strerror(-r));
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
                probe_finish(p, -EHOSTUNREACH, REASON_UNREACHABLE, "Portal %s has no usable address%s.", p->portal, p->from);
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
                probe_finish(p, error, REASON_UNREACHABLE, "Cannot connect to %s%s: %s.", p->peer, p->from, strerror(-error));
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
static void probe_connect_next(Probe *p, int error) {
        static const int one = 1;
        int r;

        p->stage = PROBE_STAGE_CONNECT;

        while (p->next_address) {
                const struct addrinfo *ai = p->next_address;

                p->next_address = ai->ai_next;
                p->current_address = ai;
                probe_describe_peer(p, ai);

                if (p->source_len > 0 && ai->ai_family != p->source.ss_family) {
                        probe_finish(p, -EADDRNOTAVAIL, REASON_UNREACHABLE, "Portal %s is %s but local address %s is %s.",
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
                                probe_finish(p, -EADDRNOTAVAIL, REASON_UNREACHABLE, "Cannot bind to local address %s to reach %s: %s.",
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
                probe_finish(p, error, REASON_NAME_NOT_RESOLVED, "Cannot resolve the host name of portal %s to an %s address%s: %s.",
                             p->portal, family_name(p->source.ss_family), p->from, reason);
        else
                probe_finish(p, error, REASON_NAME_NOT_RESOLVED, "Cannot resolve the host name of portal %s: %s.", p->portal, reason);
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
                probe_finish(p, r, REASON_NAME_NOT_RESOLVED, "Cannot resolve the host name of portal %s: %s.", p->portal, strerror(-r));
                return;
        }

        r = sd_event_add_io(p->event, &p->io_source, p->lookup->event_fd, EPOLLIN, probe_on_resolved, p);
        if (r < 0)
                probe_finish(p, r, REASON_NAME_NOT_RESOLVED, "Cannot wait for the host name of portal %s: %s.", p->portal, strerror(-r));
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
