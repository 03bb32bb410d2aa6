/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Volume sessions: see volume-session.h. One state machine per session
 * (connect → login → INQUIRY → READ CAPACITY 16 → ready), driven by the
 * caller's sd-event loop through libiscsi's asynchronous API. libiscsi calls
 * back from inside iscsi_service(), where its context must not be destroyed;
 * so the outcome of opening (and a lost connection) is only recorded there
 * and delivered after iscsi_service() has returned.
 */

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "iscsi-connection.h"
#include "portal-connect.h"
#include "util/log.h"
#include "util/strutil.h"
#include "volume-session.h"

#define MESSAGE_MAX 1024
#define DESCRIPTION_MAX (3 * VOLUME_SESSION_NAME_MAX + 64)

/* Peripheral device type of a direct-access block device (SBC). */
#define DEVICE_TYPE_DIRECT_ACCESS 0x00

/* Each pending unit attention condition is reported once; a LUN has only a few. */
#define UNIT_ATTENTION_RETRIES 8

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
        char outcome_message[MESSAGE_MAX];

        uint32_t block_size;
        uint64_t n_blocks;
        unsigned unit_attentions;

        char description[DESCRIPTION_MAX];
        char last_error[256];
};

static void session_stop(VolumeSession *s) {
        struct iscsi_context *iscsi = TAKE_PTR(s->iscsi);

        s->deadline_source = sd_event_source_disable_unref(s->deadline_source);
        s->start_source = sd_event_source_disable_unref(s->start_source);
        s->connect = portal_connect_free(s->connect);
        /* The watch goes before the descriptor it watches. */
        s->io_source = sd_event_source_disable_unref(s->io_source);
        if (iscsi) {
                s->closing = true;
                if (s->username)
                        iscsi_connection_forget_credentials(iscsi);
                (void) iscsi_destroy_context(iscsi);
        }
        closep(&s->fd);
        s->fd = -1;
}

_printf_(4, 5)
static void session_record(VolumeSession *s, int error, Reason reason, const char *format, ...) {
        va_list ap;

        if (s->outcome_pending)
                return;
        s->outcome_pending = true;
        s->outcome_error = error;
        s->outcome_reason = reason;
        va_start(ap, format);
        vsnprintf(s->outcome_message, sizeof(s->outcome_message), format, ap);
        va_end(ap);
}

/* Delivers the recorded outcome; s may be gone afterwards. */
static void session_deliver(VolumeSession *s) {
        if (!s->outcome_pending)
                return;
        s->outcome_pending = false;
        if (s->outcome_error < 0) {
                session_stop(s);
                s->state = VOLUME_SESSION_FAILED;
        } else
                s->deadline_source = sd_event_source_disable_unref(s->deadline_source);

        log_debug("Volume session to %s: %s%s%s", s->description, reason_to_string(s->outcome_reason),
                  s->outcome_error < 0 ? ": " : "", s->outcome_message);
        s->callback(s, s->outcome_error, s->outcome_reason, s->outcome_message, s->userdata);
}

static void session_fail_closed(VolumeSession *s) {
        if (s->state == VOLUME_SESSION_READY)
                session_record(s, -ECONNRESET, REASON_CONNECTION_LOST, "Connection to %s lost.", s->description);
        else
                session_record(s, -ECONNRESET, REASON_CONNECTION_LOST, "Connection to %s closed while opening the session.",
                               s->description);
}

/* ---- opening ---- */

static void session_fail_login(VolumeSession *s) {
        const char *text = iscsi_get_error(s->iscsi), *known = NULL;
        char quoted[256];
        unsigned status;
        Reason reason;
        int error;

        if (iscsi_connection_error_status(text, &status)) {
                error = iscsi_connection_login_status(status, &known, &reason);
                session_record(s, error, reason, "Login to %s rejected: %s.", s->description,
                               known ?: "unknown status");
                return;
        }
        if (strstr(text, "CHAP"))
                session_record(s, -EACCES, REASON_MUTUAL_AUTHENTICATION_FAILED,
                               "Login to %s failed: the target did not prove the mutual CHAP secret.", s->description);
        else
                session_record(s, -EPROTO, REASON_PROTOCOL_ERROR, "Login to %s failed: %s.", s->description,
                               iscsi_connection_sanitize(quoted, sizeof(quoted), text));
}

static void session_fail_command(VolumeSession *s, const char *what, struct scsi_task *task, int status) {
        char quoted[256];

        if (status == SCSI_STATUS_CANCELLED) {
                session_fail_closed(s);
                return;
        }
        if (status == SCSI_STATUS_CHECK_CONDITION && task)
                session_record(s, -EIO, REASON_IO_FAILED, "%s of %s failed: %s.", what, s->description,
                               scsi_sense_key_str(task->sense.key));
        else
                session_record(s, -EIO, REASON_IO_FAILED, "%s of %s failed: %s.", what, s->description,
                               iscsi_connection_sanitize(quoted, sizeof(quoted), iscsi_get_error(s->iscsi)));
}

static void on_read_capacity(struct iscsi_context *iscsi, int status, void *data, void *userdata) {
        VolumeSession *s = userdata;
        struct scsi_task *task = data;
        struct scsi_readcapacity16 *rc;

        if (s->closing || s->iscsi != iscsi)
                goto done;
        /* The first command after a login reports the "power on" of the new nexus; asking again clears it. */
        if (status == SCSI_STATUS_CHECK_CONDITION && task->sense.key == SCSI_SENSE_UNIT_ATTENTION &&
            s->unit_attentions++ < UNIT_ATTENTION_RETRIES) {
                if (!iscsi_readcapacity16_task(iscsi, s->lun, on_read_capacity, s))
                        session_record(s, -ENOMEM, REASON_PROTOCOL_ERROR, "Cannot send READ CAPACITY 16 to %s.", s->description);
                goto done;
        }
        if (status != SCSI_STATUS_GOOD) {
                session_fail_command(s, "READ CAPACITY 16", task, status);
                goto done;
        }
        rc = scsi_datain_unmarshall(task);
        if (!rc || rc->block_length == 0 || rc->block_length % 512 != 0 || rc->returned_lba == UINT64_MAX) {
                session_record(s, -EPROTO, REASON_VOLUME_UNSUITABLE, "%s reports no usable capacity.", s->description);
                goto done;
        }
        s->block_size = rc->block_length;
        s->n_blocks = rc->returned_lba + 1;
        s->state = VOLUME_SESSION_READY;
        session_record(s, 0, REASON_NONE, "%s: %" PRIu64 " blocks of %" PRIu32 " bytes.", s->description,
                       s->n_blocks, s->block_size);
done:
        if (task)
                scsi_free_scsi_task(task);
}

static void on_inquiry(struct iscsi_context *iscsi, int status, void *data, void *userdata) {
        VolumeSession *s = userdata;
        struct scsi_task *task = data;
        struct scsi_inquiry_standard *inq;

        if (s->closing || s->iscsi != iscsi)
                goto done;
        if (status != SCSI_STATUS_GOOD) {
                session_fail_command(s, "INQUIRY", task, status);
                goto done;
        }
        inq = scsi_datain_unmarshall(task);
        if (!inq) {
                session_record(s, -EPROTO, REASON_PROTOCOL_ERROR, "INQUIRY of %s returned nothing readable.", s->description);
                goto done;
        }
        if (inq->qualifier != 0 || inq->device_type != DEVICE_TYPE_DIRECT_ACCESS) {
                session_record(s, -ENODEV, REASON_VOLUME_UNSUITABLE,
                               "%s is not a direct-access block device (qualifier %d, device type 0x%02x).",
                               s->description, inq->qualifier, (unsigned) inq->device_type);
                goto done;
        }
        s->state = VOLUME_SESSION_SIZING;
        if (!iscsi_readcapacity16_task(iscsi, s->lun, on_read_capacity, s))
                session_record(s, -ENOMEM, REASON_PROTOCOL_ERROR, "Cannot send READ CAPACITY 16 to %s.", s->description);
done:
        if (task)
                scsi_free_scsi_task(task);
}

static void on_login(struct iscsi_context *iscsi, int status, void *data, void *userdata) {
        VolumeSession *s = userdata;

        if (s->closing || s->iscsi != iscsi)
                return;
        if (status == SCSI_STATUS_CANCELLED) {
                session_fail_closed(s);
                return;
        }
        if (status != SCSI_STATUS_GOOD) {
                session_fail_login(s);
                return;
        }
        s->state = VOLUME_SESSION_INQUIRING;
        if (!iscsi_inquiry_task(iscsi, s->lun, 0, 0, 255, on_inquiry, s))
                session_record(s, -ENOMEM, REASON_PROTOCOL_ERROR, "Cannot send INQUIRY to %s.", s->description);
}

static void on_connected(struct iscsi_context *iscsi, int status, void *data, void *userdata) {
        VolumeSession *s = userdata;

        if (s->closing || s->iscsi != iscsi)
                return;
        if (status != SCSI_STATUS_GOOD) {
                session_fail_closed(s);
                return;
        }
        s->state = VOLUME_SESSION_LOGGING_IN;
        if (iscsi_login_async(iscsi, on_login, s) < 0)
                session_record(s, -EPROTO, REASON_PROTOCOL_ERROR, "Cannot start the login to %s.", s->description);
}

/* ---- driving libiscsi ---- */

static int session_on_io(sd_event_source *source, int fd, uint32_t revents, void *userdata);

/* Watches what libiscsi wants now; its descriptor may differ after any iscsi_service(). */
static void session_watch(VolumeSession *s) {
        int fd = iscsi_get_fd(s->iscsi), events = iscsi_which_events(s->iscsi), r;
        uint32_t mask = (events & POLLIN ? EPOLLIN : 0) | (events & POLLOUT ? EPOLLOUT : 0);

        /* Reconnecting is off, so no descriptor or nothing to wait for means the connection is gone. */
        if (fd < 0 || mask == 0) {
                session_fail_closed(s);
                return;
        }
        if (s->io_source && sd_event_source_get_io_fd(s->io_source) != fd) {
                r = sd_event_source_set_io_fd(s->io_source, fd);
                if (r < 0)
                        goto fail;
        }
        if (s->io_source)
                r = sd_event_source_set_io_events(s->io_source, mask);
        else
                r = sd_event_add_io(s->event, &s->io_source, fd, mask, session_on_io, s);
        if (r >= 0)
                return;
fail:
        session_record(s, r, REASON_PROTOCOL_ERROR, "Cannot watch the connection to %s: %s.", s->description, strerror(-r));
}

/* On a ready session a send that would block leaves the rest queued: no need to wait for EPOLLOUT. */
static bool session_has_output(VolumeSession *s) {
        return s->state == VOLUME_SESSION_READY && s->iscsi && (iscsi_which_events(s->iscsi) & POLLOUT);
}

static int session_on_io(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        VolumeSession *s = userdata;
        int r = 0;

        /* Read first: a response the target sent just before closing still counts. */
        if (revents & EPOLLIN)
                r = iscsi_service(s->iscsi, POLLIN);
        /* What reading queued (the next commands, the Data-Out an R2T asked for) leaves now, not a loop later. */
        if (r >= 0 && s->iscsi && ((revents & EPOLLOUT) || session_has_output(s)))
                r = iscsi_connection_send(s->iscsi);
        if (r >= 0 && s->iscsi && (revents & (EPOLLERR | EPOLLHUP)))
                r = iscsi_service(s->iscsi, (revents & EPOLLERR ? POLLERR : 0) | (revents & EPOLLHUP ? POLLHUP : 0));

        if (r < 0)
                session_fail_closed(s);
        else if (!s->outcome_pending || s->outcome_error >= 0)
                session_watch(s);
        session_deliver(s);
        return 0;
}

/* Sends the commands queued from outside the loop's I/O handler (volume_session_read() …). */
static void session_flush(VolumeSession *s) {
        if (s->state == VOLUME_SESSION_READY && s->iscsi && !s->outcome_pending)
                session_watch(s);
}

static int session_on_deadline(sd_event_source *source, uint64_t usec, void *userdata) {
        VolumeSession *s = userdata;

        s->outcome_pending = false;
        session_record(s, -ETIMEDOUT, REASON_TIMEOUT, "No answer from %s in time while opening the session.", s->description);
        session_deliver(s);
        return 0;
}

static void session_begin_iscsi(VolumeSession *s) {
        char quoted[256];
        int r;

        s->iscsi = iscsi_create_context(s->initiator_name);
        if (!s->iscsi) {
                session_record(s, -ENOMEM, REASON_PROTOCOL_ERROR, "Cannot start a session with %s: out of memory.", s->description);
                return;
        }
        /* libiscsi logs through stderr when LIBISCSI_DEBUG is set; nothing of it may reach our log. */
        iscsi_set_log_level(s->iscsi, 0);
        /* A reconnect would open an unbound connection and may sleep; a lost connection fails the session. */
        iscsi_set_noautoreconnect(s->iscsi, 1);
        iscsi_set_reconnect_max_retries(s->iscsi, 0);
        if (iscsi_set_session_type(s->iscsi, ISCSI_SESSION_NORMAL) < 0 ||
            iscsi_set_header_digest(s->iscsi, ISCSI_HEADER_DIGEST_NONE) < 0 ||
            iscsi_set_targetname(s->iscsi, s->target_name) < 0 ||
            (s->username && iscsi_set_initiator_username_pwd(s->iscsi, s->username, s->secret) < 0) ||
            (s->mutual_username && iscsi_set_target_username_pwd(s->iscsi, s->mutual_username, s->mutual_secret) < 0)) {
                session_record(s, -EPROTO, REASON_PROTOCOL_ERROR, "Cannot start a session with %s: %s.", s->description,
                               iscsi_connection_sanitize(quoted, sizeof(quoted), iscsi_get_error(s->iscsi)));
                return;
        }
        r = iscsi_connection_adopt(s->iscsi, &s->fd, on_connected, s);
        if (r < 0) {
                session_record(s, r, REASON_PROTOCOL_ERROR, "Cannot start a session with %s: %s.", s->description, strerror(-r));
                return;
        }
        session_watch(s);
}

static void session_on_portal(PortalConnect *pc, int fd, Reason reason, const char *message, void *userdata) {
        VolumeSession *s = userdata;

        s->connect = portal_connect_free(s->connect);
        if (fd < 0)
                session_record(s, fd, reason, "%s", message);
        else {
                s->fd = fd;
                session_begin_iscsi(s);
        }
        session_deliver(s);
}

/* The portal's address may be a host name: resolved and connected to as a probe would, bound to the source. */
static int session_on_start(sd_event_source *source, void *userdata) {
        VolumeSession *s = userdata;
        int r;

        s->start_source = sd_event_source_disable_unref(s->start_source);
        r = portal_connect_start(s->event, &s->source, s->source_len, s->address, s->port, s->description,
                                 session_on_portal, s, &s->connect);
        if (r < 0) {
                session_record(s, r, REASON_UNREACHABLE, "Cannot connect to %s: %s.", s->description, strerror(-r));
                session_deliver(s);
        }
        return 0;
}

/* ---- commands ---- */

static void on_command(struct iscsi_context *iscsi, int status, void *data, void *userdata) {
        VolumeIo *io = userdata;
        struct scsi_task *task = data;
        VolumeSession *s = io->session;
        int error = 0;

        if (!s->closing && s->iscsi == iscsi) {
                if (status == SCSI_STATUS_CANCELLED)
                        error = -ECONNRESET;
                else if (status == SCSI_STATUS_TIMEOUT)
                        error = -ETIMEDOUT;
                else if (status != SCSI_STATUS_GOOD) {
                        error = -EIO;
                        if (status == SCSI_STATUS_CHECK_CONDITION && task)
                                snprintf(s->last_error, sizeof(s->last_error), "%s (ASC/ASCQ 0x%04x)",
                                         scsi_sense_key_str(task->sense.key), (unsigned) task->sense.ascq);
                        else
                                iscsi_connection_sanitize(s->last_error, sizeof(s->last_error), iscsi_get_error(iscsi));
                }
        }
        if (task)
                scsi_free_scsi_task(task);
        if (!s->closing && s->iscsi == iscsi)
                io->done(io, error);
}

static int session_check_range(const VolumeSession *s, uint64_t lba, uint32_t n_blocks) {
        if (s->state != VOLUME_SESSION_READY || s->outcome_pending || !s->iscsi)
                return -EINVAL;
        if (n_blocks == 0 || lba >= s->n_blocks || n_blocks > s->n_blocks - lba ||
            (uint64_t) n_blocks * s->block_size > UINT32_MAX)
                return -EINVAL;
        return 0;
}

int volume_session_read(VolumeSession *s, VolumeIo *io, uint64_t lba, uint32_t n_blocks, void *buf, volume_io_done_t done) {
        uint32_t length = n_blocks * s->block_size;
        int r = session_check_range(s, lba, n_blocks);

        if (r < 0)
                return r;
        *io = (VolumeIo) { .session = s, .done = done, .iov = { .iov_base = buf, .iov_len = length } };
        /* Straight into the caller's buffer: no copy, no allocation per chunk. */
        if (!iscsi_read16_iov_task(s->iscsi, s->lun, lba, length, (int) s->block_size, 0, 0, 0, 0, 0,
                                   on_command, io, &io->iov, 1))
                return -ENOMEM;
        session_flush(s);
        return 0;
}

int volume_session_write(VolumeSession *s, VolumeIo *io, uint64_t lba, uint32_t n_blocks, void *buf, volume_io_done_t done) {
        uint32_t length = n_blocks * s->block_size;
        int r = session_check_range(s, lba, n_blocks);

        if (r < 0)
                return r;
        *io = (VolumeIo) { .session = s, .done = done, .iov = { .iov_base = buf, .iov_len = length } };
        if (!iscsi_write16_iov_task(s->iscsi, s->lun, lba, NULL, length, (int) s->block_size, 0, 0, 0, 0, 0,
                                    on_command, io, &io->iov, 1))
                return -ENOMEM;
        session_flush(s);
        return 0;
}

int volume_session_sync(VolumeSession *s, VolumeIo *io, volume_io_done_t done) {
        if (s->state != VOLUME_SESSION_READY || s->outcome_pending || !s->iscsi)
                return -EINVAL;
        *io = (VolumeIo) { .session = s, .done = done };
        /* Range 0 means to the end of the LUN (SBC-3); IMMED off: the status says it is durable. */
        if (!iscsi_synchronizecache16_task(s->iscsi, s->lun, 0, 0, 0, 0, on_command, io))
                return -ENOMEM;
        session_flush(s);
        return 0;
}

/* ---- lifecycle ---- */

static int strdup_if_set(const char *in, char **ret) {
        *ret = NULL;
        if (!in || !*in)
                return 0;
        if (strlen(in) > VOLUME_SESSION_NAME_MAX)
                return -EINVAL;
        *ret = strdup(in);
        return *ret ? 0 : -ENOMEM;
}

static int session_copy_endpoint(VolumeSession *s, const VolumeEndpoint *e) {
        int r;

        if (!e->address || !*e->address || e->port == 0 || !e->target_name || !*e->target_name ||
            !e->initiator_name || !*e->initiator_name)
                return -EINVAL;
        if (!isempty(e->username) != !isempty(e->secret) ||
            !isempty(e->mutual_username) != !isempty(e->mutual_secret) ||
            (!isempty(e->mutual_username) && isempty(e->username)))
                return -EINVAL;
        if (!isempty(e->source_address)) {
                r = iscsi_connection_parse_address(e->source_address, 0, &s->source, &s->source_len);
                if (r < 0)
                        return r;
        }
        if ((r = strdup_if_set(e->address, &s->address)) < 0 ||
            (r = strdup_if_set(e->target_name, &s->target_name)) < 0 ||
            (r = strdup_if_set(e->initiator_name, &s->initiator_name)) < 0 ||
            (r = strdup_if_set(e->username, &s->username)) < 0 ||
            (r = strdup_if_set(e->secret, &s->secret)) < 0 ||
            (r = strdup_if_set(e->mutual_username, &s->mutual_username)) < 0 ||
            (r = strdup_if_set(e->mutual_secret, &s->mutual_secret)) < 0)
                return r;
        s->port = e->port;
        s->lun = e->lun;
        snprintf(s->description, sizeof(s->description), "target %s LUN %u at %s%s%s:%u%s%s%s", e->target_name,
                 (unsigned) e->lun, strchr(e->address, ':') ? "[" : "", e->address, strchr(e->address, ':') ? "]" : "",
                 (unsigned) e->port, s->source_len ? " (local address " : "", s->source_len ? e->source_address : "",
                 s->source_len ? ")" : "");
        return 0;
}

/**
 * volume_session_open() - log in to a LUN and learn its size
 * @event: the loop; the session keeps a reference
 * @endpoint: where and as whom; strings copied
 * @timeout_usec: deadline for connecting, login, INQUIRY and READ CAPACITY; 0 the default
 * @callback: see volume_session_callback_t; never called from in here
 * @userdata: for @callback
 * @ret: the session, written on success only
 *
 * Return: 0, -EINVAL for an endpoint no network could fix (missing or
 * over-long strings, a local address that is not an IP literal, half
 * credentials),
 * -ENOMEM or sd-event errors. Everything else arrives through @callback.
 */
int volume_session_open(sd_event *event,
                        const VolumeEndpoint *endpoint,
                        uint64_t timeout_usec,
                        volume_session_callback_t callback,
                        void *userdata,
                        VolumeSession **ret) {
        _cleanup_(volume_session_freep) VolumeSession *s = NULL;
        int r;

        if (!event || !endpoint || !callback || !ret)
                return -EINVAL;
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->fd = -1;
        s->event = sd_event_ref(event);
        s->callback = callback;
        s->userdata = userdata;

        r = session_copy_endpoint(s, endpoint);
        if (r < 0)
                return r;

        r = sd_event_add_time_relative(event, &s->deadline_source, CLOCK_MONOTONIC,
                                       timeout_usec ?: VOLUME_SESSION_TIMEOUT_DEFAULT_USEC, USEC_PER_MSEC,
                                       session_on_deadline, s);
        if (r < 0)
                return r;
        r = sd_event_add_defer(event, &s->start_source, session_on_start, s);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

static void free_secret(char *p) {
        if (!p)
                return;
        explicit_bzero(p, strlen(p));
        free(p);
}

VolumeSession *volume_session_free(VolumeSession *s) {
        if (!s)
                return NULL;
        session_stop(s);
        free(s->address);
        free(s->target_name);
        free(s->initiator_name);
        free_secret(s->username);
        free_secret(s->secret);
        free_secret(s->mutual_username);
        free_secret(s->mutual_secret);
        sd_event_unref(s->event);
        free(s);
        return NULL;
}

bool volume_session_is_ready(const VolumeSession *s) {
        return s && s->state == VOLUME_SESSION_READY;
}

uint32_t volume_session_block_size(const VolumeSession *s) {
        return s->block_size;
}

uint64_t volume_session_n_blocks(const VolumeSession *s) {
        return s->n_blocks;
}

const char *volume_session_describe(const VolumeSession *s) {
        return s->description;
}

const char *volume_session_last_error(const VolumeSession *s) {
        return s->last_error;
}
