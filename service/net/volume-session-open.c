/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Opening a volume session (volume-session-internal.h): connect to the
 * portal, bound to the source address, as probes do; hand the socket to
 * libiscsi; log in; INQUIRY (a direct-access block device); READ CAPACITY
 * 16; ready. Every step records its outcome with session_record(), under
 * one deadline for the whole opening.
 */

#include <errno.h>
#include <string.h>

#include "iscsi-connection.h"
#include "volume-session-internal.h"

/* Peripheral device type of a direct-access block device (SBC). */
#define DEVICE_TYPE_DIRECT_ACCESS 0x00

/* Each pending unit attention condition is reported once; a LUN has only a few. */
#define UNIT_ATTENTION_RETRIES 8

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

int session_open_start(VolumeSession *s, uint64_t timeout_usec) {
        int r;

        r = sd_event_add_time_relative(s->event, &s->deadline_source, CLOCK_MONOTONIC,
                                       timeout_usec ?: VOLUME_SESSION_TIMEOUT_DEFAULT_USEC, USEC_PER_MSEC,
                                       session_on_deadline, s);
        if (r < 0)
                return r;
        return sd_event_add_defer(s->event, &s->start_source, session_on_start, s);
}
