/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What the parts of a probe share: the Probe itself, its stages, and the
 * functions one part calls in another. probe.c runs the stages up to a
 * connected socket and ends probes; probe-iscsi.c drives the iSCSI check on
 * that socket with libiscsi; probe-verdict.c judges what the target and
 * libiscsi answered. Not for use outside service/net.
 */

#include <iscsi/iscsi.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/reason.h"
#include "probe-lookup.h"
#include "probe.h"
#include "util/macros.h"

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

/* How much of libiscsi's own error text a message quotes. */
#define ISCSI_ERROR_TEXT_MAX 256

/*
 * How long a logout may stay unanswered once the session did its work. A
 * target answers a logout at once or never; the verdict does not wait on it
 * (API.md section 7), but the peer gets a moment to close cleanly.
 */
#define PROBE_LOGOUT_WAIT_USEC (500 * USEC_PER_MSEC)

/* How much of a login response is looked at for the authentication method the target picked. */
#define LOGIN_PEEK_MAX 2048

/* An iSCSI PDU's basic header segment (RFC 7143 11.2.1). */
#define LOGIN_BHS_SIZE 48

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
        bool auth_method_seen;          /* the discovery target's AuthMethod answer was looked at */
        bool login_peek_waiting;        /* part of that answer is in; waiting, edge-triggered, for the rest */
        sd_event_source *logout_timer;  /* how long an unanswered logout is waited for */
        char iscsi_error_before[ISCSI_ERROR_TEXT_MAX]; /* libiscsi's error text when the step began */
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

/* probe.c */

/* Ends the probe: tears everything down, then calls back; p may be gone when this returns. */
_printf_(4, 5)
void probe_finish(Probe *p, int error, Reason reason, const char *format, ...);
/* Connects to the next address left, or reports error (the last attempt's) when none is. */
void probe_connect_next(Probe *p, int error);

/* probe-iscsi.c */

/* Starts a session of the current kind on p->fd, which it takes over. */
void probe_iscsi_begin(Probe *p);
/* Ends the current session at once: no logout, the connection is closed. */
void probe_iscsi_close(Probe *p);
/* "the discovery login", "SendTargets", "the login to target iqn.…", … */
const char *probe_iscsi_step_text(const Probe *p, char *buf, size_t size);
/* Whether the current step is a logout after which, whatever happens, the probe succeeds. */
bool probe_iscsi_is_last_logout(const Probe *p);
/* The session's logout is over, answered or not (why says how when not); the verdict stands. */
void probe_iscsi_logout_done(Probe *p, const char *why);

/* probe-verdict.c */

/* Remembers libiscsi's error text as a step begins, so a failure quotes only what is new. */
void probe_iscsi_mark_error(Probe *p);
/* libiscsi's own account of the current step's failure, sanitized, or NULL when it gave none. */
const char *probe_iscsi_error_text(const Probe *p, char *buf, size_t size);
/* The connection ended before the step did; says who ended it. A logout is forgiven. */
void probe_iscsi_fail_connection(Probe *p);
/* libiscsi would not start the request what. */
void probe_iscsi_fail_request(Probe *p, const char *what);
/* The login failed: rejected by the target, or the target failed our mutual CHAP check. */
void probe_iscsi_fail_login(Probe *p);
/* Whether the expected names are offered; ends the probe when one is not. */
bool probe_check_offered(Probe *p);
