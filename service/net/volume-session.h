/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A normal iSCSI session to one logical unit, on sd-event: a TCP connection
 * (by address or host name) bound to the local access point's address, a login (CHAP, mutual CHAP as
 * for probes), INQUIRY (the LUN must be a direct-access block device) and
 * READ CAPACITY 16 (block size, number of blocks). Once ready it carries
 * READ16, WRITE16 and SYNCHRONIZE CACHE16, as many at once as the caller
 * issues. Used by the replica data path (copy.h) and to register volumes.
 */

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "core/reason.h"

/* Used when volume_session_open() is given a timeout of 0. */
#define VOLUME_SESSION_TIMEOUT_DEFAULT_USEC (UINT64_C(10) * UINT64_C(1000000))

/* The longest address, source address or iSCSI name accepted, in bytes. */
#define VOLUME_SESSION_NAME_MAX 255

typedef struct VolumeSession VolumeSession;

/*
 * Where the LUN is and who logs in. Strings are copied by
 * volume_session_open(); "" and NULL mean "none". The portal's address is
 * an IP literal or a host name, resolved when the session opens as probes
 * resolve it (portal-connect.h), within the session's deadline; the source
 * address is an IP literal. The credentials
 * are kept in memory wiped when the session is freed and appear in no
 * message.
 */
typedef struct VolumeEndpoint {
        const char *source_address;     /* local access point's address to bind to; NULL: unbound */
        const char *address;
        uint16_t port;
        const char *target_name;
        uint16_t lun;
        const char *initiator_name;
        const char *username;           /* CHAP, both or neither */
        const char *secret;
        const char *mutual_username;    /* mutual CHAP, both or neither, only with username */
        const char *mutual_secret;
} VolumeEndpoint;

/*
 * Called once when the session is ready (error 0; block size and size are
 * known), or when it could not be opened; and, after being ready, once more
 * if the connection is lost (-ECONNRESET, REASON_CONNECTION_LOST). After a
 * failure the session is dead: only volume_session_free() is left. message
 * names the portal and target, never a secret. Never called from inside
 * volume_session_open() or from a command's callback; the callee may free
 * the session.
 */
typedef void (*volume_session_callback_t)(VolumeSession *s, int error, Reason reason, const char *message, void *userdata);

/*
 * One command in flight; the caller owns the memory (typically inside its
 * own buffer slot, found back with container_of) and keeps it valid until
 * done is called. done runs from inside the session's event handling, so it
 * must not free the session; it is never called after the session failed
 * or was freed. error: 0; -EIO the target answered with an error status (the
 * session's last_error says which); -ECONNRESET the command was lost with the
 * connection; -ETIMEDOUT libiscsi's timeout.
 */
typedef struct VolumeIo VolumeIo;
typedef void (*volume_io_done_t)(VolumeIo *io, int error);
struct VolumeIo {
        VolumeSession *session;
        volume_io_done_t done;
        struct scsi_iovec iov;
};

int volume_session_open(sd_event *event,
                        const VolumeEndpoint *endpoint,
                        uint64_t timeout_usec,
                        volume_session_callback_t callback,
                        void *userdata,
                        VolumeSession **ret);

/* Closes the connection at once (no logout); NULL is fine. Commands in flight are dropped silently. */
VolumeSession *volume_session_free(VolumeSession *s);
static inline void volume_session_freep(VolumeSession **s) {
        volume_session_free(*s);
}

bool volume_session_is_ready(const VolumeSession *s);
uint32_t volume_session_block_size(const VolumeSession *s);
uint64_t volume_session_n_blocks(const VolumeSession *s);
/* "portal 127.0.0.2:3260 target iqn…" for messages. */
const char *volume_session_describe(const VolumeSession *s);
/* The sense or error text of the last failed command, sanitized; "" when none. */
const char *volume_session_last_error(const VolumeSession *s);

/*
 * Queue a command; n_blocks blocks at lba, buf holding n_blocks × block
 * size bytes. -EINVAL out of range or not ready, -ENOMEM.
 */
int volume_session_read(VolumeSession *s, VolumeIo *io, uint64_t lba, uint32_t n_blocks, void *buf, volume_io_done_t done);
int volume_session_write(VolumeSession *s, VolumeIo *io, uint64_t lba, uint32_t n_blocks, void *buf, volume_io_done_t done);
/* SYNCHRONIZE CACHE16 of the whole LUN: every write completed before it is durable when done reports 0. */
int volume_session_sync(VolumeSession *s, VolumeIo *io, volume_io_done_t done);
