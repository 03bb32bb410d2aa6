/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Volume sessions: see volume-session.h. One state machine per session
 * (connect → login → INQUIRY → READ CAPACITY 16 → ready, in
 * volume-session-open.c), driven by the caller's sd-event loop through
 * libiscsi's asynchronous API; here, the driving, the commands of a ready
 * session and the session's life. libiscsi calls back from inside
 * iscsi_service(), where its context must not be destroyed; so the outcome
 * of opening (and a lost connection) is only recorded there and delivered
 * after iscsi_service() has returned.
 */

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "iscsi-connection.h"
#include "util/log.h"
#include "util/strutil.h"
#include "volume-session-internal.h"

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

void session_record(VolumeSession *s, int error, Reason reason, const char *format, ...) {
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

void session_deliver(VolumeSession *s) {
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

void session_fail_closed(VolumeSession *s) {
        if (s->state == VOLUME_SESSION_READY)
                session_record(s, -ECONNRESET, REASON_CONNECTION_LOST, "Connection to %s lost.", s->description);
        else
                session_record(s, -ECONNRESET, REASON_CONNECTION_LOST, "Connection to %s closed while opening the session.",
                               s->description);
}

/* ---- driving libiscsi ---- */

static int session_on_io(sd_event_source *source, int fd, uint32_t revents, void *userdata);

void session_watch(VolumeSession *s) {
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

        r = session_open_start(s, timeout_usec);
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
