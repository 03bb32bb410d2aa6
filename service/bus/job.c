/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.iscsi.ReplicationService.Job objects: CIM_ConcreteJob on the bus. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "authorize.h"
#include "bus-util.h"
#include "errors.h"
#include "util/strutil.h"

static int property_get(sd_bus *bus, const char *path, const char *interface, const char *property,
                        sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Job *j = bus_object_of(userdata, path, OBJECT_JOB);

        if (!j)
                return -ENOENT;
        if (strcmp(property, "InstanceID") == 0) {
                char buf[32];

                snprintf(buf, sizeof(buf), "%" PRIu64, j->id);
                return sd_bus_message_append(reply, "s", buf);
        }
        if (strcmp(property, "Name") == 0)
                return sd_bus_message_append(reply, "s", j->name);
        if (strcmp(property, "JobState") == 0)
                return sd_bus_message_append(reply, "q", (uint16_t) j->state);
        if (strcmp(property, "OperationalStatus") == 0) {
                uint16_t v[2];
                size_t n = job_operational_status(j, v);

                return sd_bus_message_append_array(reply, 'q', v, n * sizeof(uint16_t));
        }
        if (strcmp(property, "JobStatus") == 0)
                return sd_bus_message_append(reply, "s", j->status);
        if (strcmp(property, "PercentComplete") == 0)
                return sd_bus_message_append(reply, "q", (uint16_t) j->percent_complete);
        if (strcmp(property, "ExpectedEndTime") == 0)
                return sd_bus_message_append(reply, "t", j->expected_end_time);
        if (strcmp(property, "TimeSubmitted") == 0)
                return sd_bus_message_append(reply, "t", j->time_submitted);
        if (strcmp(property, "StartTime") == 0)
                return sd_bus_message_append(reply, "t", j->start_time);
        if (strcmp(property, "TimeOfLastStateChange") == 0)
                return sd_bus_message_append(reply, "t", j->time_of_last_state_change);
        if (strcmp(property, "ElapsedTime") == 0) {
                uint64_t end = job_state_is_finished(j->state) ? j->time_of_last_state_change : now_usec(CLOCK_REALTIME);

                return sd_bus_message_append(reply, "t", j->start_time > 0 && end > j->start_time ? end - j->start_time : 0);
        }
        if (strcmp(property, "DeleteOnCompletion") == 0)
                return sd_bus_message_append(reply, "b", j->delete_on_completion);
        if (strcmp(property, "TimeBeforeRemoval") == 0)
                return sd_bus_message_append(reply, "t", j->time_before_removal);
        if (strcmp(property, "ErrorCode") == 0)
                return sd_bus_message_append(reply, "q", j->error_code);
        if (strcmp(property, "ErrorDescription") == 0)
                return sd_bus_message_append(reply, "s", j->error_description);
        if (strcmp(property, "StartedByUID") == 0)
                return sd_bus_message_append(reply, "u", j->started_by_uid);
        if (strcmp(property, "Owner") == 0)
                return sd_bus_message_append(reply, "s", j->owner);
        if (strcmp(property, "Cancelable") == 0)
                return sd_bus_message_append(reply, "b", !job_state_is_finished(j->state));
        if (strcmp(property, "AffectedElements") == 0)
                return bus_append_strv_paths(reply, j->affected_elements);
        return -ENOENT;
}

static int job_authorize(sd_bus_message *m, BusContext *ctx, Job **ret_job, Caller *c, char owner[static BUS_OWNER_MAX],
                         sd_bus_error *error) {
        Job *j = bus_object_of(ctx, sd_bus_message_get_path(m), OBJECT_JOB);
        int r;

        if (!j)
                return bus_error_setf_errno(error, -ENOENT, "The job does not exist.");
        r = bus_authorize(m, BUS_ACTION_MANAGE_JOBS, NULL, j->started_by_uid, c, owner, error);
        if (r <= 0)
                return r;
        /* The job may have gone while polkit was asked; look it up again. */
        j = bus_object_of(ctx, sd_bus_message_get_path(m), OBJECT_JOB);
        if (!j)
                return bus_error_setf_errno(error, -ENOENT, "The job does not exist.");
        *ret_job = j;
        return 1;
}

static int property_set(sd_bus *bus, const char *path, const char *interface, const char *property,
                        sd_bus_message *value, void *userdata, sd_bus_error *error) {
        BusContext *ctx = userdata;
        ReplError err = REPL_ERROR_INIT;
        char owner[BUS_OWNER_MAX];
        sd_bus_message *m = sd_bus_get_current_message(bus);
        Job *j = NULL;
        Caller c;
        int r;

        /*
         * sd-bus answers a Set as soon as the setter returns, so a setter cannot
         * wait for polkit: only root and the job's starter may write these.
         */
        j = bus_object_of(ctx, path, OBJECT_JOB);
        if (!j)
                return bus_error_setf_errno(error, -ENOENT, "The job does not exist.");
        r = bus_get_caller(m, &c, owner, error);
        if (r < 0)
                return r;
        if (c.uid != 0 && c.uid != j->started_by_uid)
                return bus_error_setf_errno(error, -EACCES, "Only root and the job's starter may change %s.", property);
        if (strcmp(property, "DeleteOnCompletion") == 0) {
                int b;

                r = sd_bus_message_read(value, "b", &b);
                if (r < 0)
                        return r;
                r = engine_job_set_delete_on_completion(ctx->engine, &c, j->id, b, &err);
        } else if (strcmp(property, "TimeBeforeRemoval") == 0) {
                uint64_t t;

                r = sd_bus_message_read(value, "t", &t);
                if (r < 0)
                        return r;
                r = engine_job_set_time_before_removal(ctx->engine, &c, j->id, t, &err);
        } else
                return -ENOENT;
        if (r < 0)
                return bus_error_set_repl(error, &err);
        /* sd-bus answers a Set when the setter returns: the change must be stored by then. */
        r = engine_flush(ctx->engine);
        if (r < 0)
                return bus_error_setf_errno(error, -EIO, "The change could not be stored; nothing was changed.");
        /* And its signals sent: the group may have ended before, with nothing left to flush. */
        bus_flush_signals(ctx);
        return 1;
}

static int method_request_state_change(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        BusContext *ctx = userdata;
        ReplError err = REPL_ERROR_INIT;
        char owner[BUS_OWNER_MAX];
        uint16_t requested;
        uint64_t timeout;
        Job *j = NULL;
        Caller c;
        int r;

        r = sd_bus_message_read(m, "qt", &requested, &timeout);
        if (r < 0)
                return r;
        r = job_authorize(m, ctx, &j, &c, owner, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1;       /* polkit was asked; the call runs again with its answer */
        if (timeout != 0)
                return bus_error_setf_errno(error, -EOPNOTSUPP,
                                            "TimeoutPeriod %" PRIu64 " cannot be honoured; state changes happen at once, pass 0.",
                                            timeout);
        r = engine_job_request_state_change(ctx->engine, &c, j->id, requested, &err);
        if (r < 0)
                return bus_error_set_repl(error, &err);
        return bus_reply_method_return_when_stored(ctx, m, "u", (uint32_t) CIM_OK);
}

static int method_get_error(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Job *j = bus_object_of(userdata, sd_bus_message_get_path(m), OBJECT_JOB);
        int r;

        if (!j)
                return bus_error_setf_errno(error, -ENOENT, "The job does not exist.");
        r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r >= 0 && job_state_is_finished(j->state) && j->state != JOB_STATE_COMPLETED) {
                char p[OBJECT_PATH_MAX];
                const char *source = isempty(j->error_source) || strcmp(j->error_source, NULL_PATH) == 0 ?
                        object_path_format(p, OBJECT_JOB, j->id) : j->error_source;

                r = sd_bus_message_append(reply, "{sv}{sv}{sv}{sv}{sv}",
                                          "ErrorCode", "q", j->error_code,
                                          "ErrorDescription", "s", j->error_description,
                                          "ErrorSource", "o", source,
                                          "ErrorType", "q", j->error_type,
                                          "MessageID", "s", reason_to_string(j->error_reason));
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_delete(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        BusContext *ctx = userdata;
        ReplError err = REPL_ERROR_INIT;
        char owner[BUS_OWNER_MAX];
        Job *j = NULL;
        Caller c;
        int r;

        r = job_authorize(m, ctx, &j, &c, owner, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1;       /* polkit was asked; the call runs again with its answer */
        r = engine_job_delete(ctx->engine, &c, j->id, &err);
        if (r < 0)
                return bus_error_set_repl(error, &err);
        return bus_reply_method_return_when_stored(ctx, m, NULL);
}

const sd_bus_vtable bus_job_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("InstanceID", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Name", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("JobState", "q", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("OperationalStatus", "aq", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("JobStatus", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("PercentComplete", "q", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("ExpectedEndTime", "t", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("TimeSubmitted", "t", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("StartTime", "t", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("TimeOfLastStateChange", "t", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("ElapsedTime", "t", property_get, 0, 0),
        SD_BUS_WRITABLE_PROPERTY("DeleteOnCompletion", "b", property_get, property_set, 0,
                                 SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE | SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_WRITABLE_PROPERTY("TimeBeforeRemoval", "t", property_get, property_set, 0,
                                 SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE | SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_PROPERTY("ErrorCode", "q", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("ErrorDescription", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("StartedByUID", "u", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Owner", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Cancelable", "b", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("AffectedElements", "ao", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD_WITH_NAMES("RequestStateChange", "qt", SD_BUS_PARAM(RequestedState) SD_BUS_PARAM(TimeoutPeriod),
                                 "u", SD_BUS_PARAM(ReturnValue), method_request_state_change, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("GetError", "", , "a{sv}", SD_BUS_PARAM(Error), method_get_error,
                                 SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Delete", "", "", method_delete, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_NAMES("Completed", "bqs", SD_BUS_PARAM(Success) SD_BUS_PARAM(ErrorCode) SD_BUS_PARAM(Message), 0),
        SD_BUS_VTABLE_END,
};
