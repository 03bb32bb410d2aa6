/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What the two parts of a volume session share: the VolumeSession itself
 * and the functions one part calls in the other. volume-session-open.c runs
 * the opening (connect → login → INQUIRY → READ CAPACITY 16 → ready);
 * volume-session.c drives libiscsi on the caller's loop, carries the
 * commands of a ready session, delivers outcomes and ends sessions. Not for
 * use outside service/net.
 */

#include <iscsi/iscsi.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <systemd/sd-event.h>

#include "core/reason.h"
#include "portal-connect.h"
#include "util/macros.h"
#include "volume-session.h"

#define VOLUME_SESSION_MESSAGE_MAX 1024
#define VOLUME_SESSION_DESCRIPTION_MAX (3 * VOLUME_SESSION_NAME_MAX + 64)

typedef enum VolumeSessionState {
        VOLUME_SESSION_CONNECTING,
        VOLUME_SESSION_LOGGING_IN,
        VOLUME_SESSION_INQUIRING,
        VOLUME_SESSION_SIZING,
        VOLUME_SESSION_READY,
        VOLUME_SESSION_FAILED,
} VolumeSessionState;

struct VolumeSession {
        sd_event *event;
        volume_session_callback_t callback;
        void *userdata;

        char *target_name;
        char *initiator_name;
        char *username;                 /* NULL without CHAP; wiped when freed */
        char *secret;
        char *mutual_username;
        char *mutual_secret;
        uint16_t lun;

        char *address;                  /* an IP literal or a host name */
        uint16_t port;
        struct sockaddr_storage source;
        socklen_t source_len;
        PortalConnect *connect;
        int fd;                         /* ours until libiscsi adopts it */

        VolumeSessionState state;
        struct iscsi_context *iscsi;
        sd_event_source *io_source;
        sd_event_source *deadline_source;
        sd_event_source *start_source;
        bool closing;                   /* being freed: libiscsi's cancellations call no one */

        /* An outcome recorded inside a libiscsi callback, delivered after iscsi_service(). */
        bool outcome_pending;
        int outcome_error;
        Reason outcome_reason;
        char outcome_message[VOLUME_SESSION_MESSAGE_MAX];

        uint32_t block_size;
        uint64_t n_blocks;
        unsigned unit_attentions;

        char description[VOLUME_SESSION_DESCRIPTION_MAX];
        char last_error[256];
};

/*
 * Records the outcome of opening, or of a lost connection, to be delivered
 * by session_deliver(); the first one recorded wins. Safe inside libiscsi's
 * callbacks.
 */
_printf_(4, 5)
void session_record(VolumeSession *s, int error, Reason reason, const char *format, ...);
/* Delivers the recorded outcome; s may be gone afterwards. */
void session_deliver(VolumeSession *s);
/* Records the connection's loss, or its closing while the session opens. */
void session_fail_closed(VolumeSession *s);
/* Watches what libiscsi wants now; its descriptor may differ after any iscsi_service(). */
void session_watch(VolumeSession *s);

/* Arms the opening's deadline and starts connecting on the loop's next turn (volume-session-open.c). */
int session_open_start(VolumeSession *s, uint64_t timeout_usec);
