/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* iscsi-replctl: calling the service (with authorization, waiting for jobs) and resolving the names users type. */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "config.h"
#include "bus-connect.h"
#include "bus-value.h"
#include "cli.h"
#include "job-watch.h"
#include "json-writer.h"
#include "objects.h"
#include "pager.h"
#include "polkit-agent.h"
#include "replctl.h"
#include "table.h"
#include "terminal.h"
#include "util/strutil.h"

/* A user answering a polkit prompt needs longer than the default 25 s. */
#define INTERACTIVE_CALL_TIMEOUT_USEC (300 * USEC_PER_SEC)

/* ------------------------------------------------------------------------ */
/* calls */

static bool interactive_authorization(void) {
        return arg_ask_password && isatty(STDIN_FILENO);
}

/*
 * An agent on this machine can answer only for a service on this machine
 * (not over --host), and root is allowed without polkit being asked.
 */
static bool polkit_agent_useful(void) {
        return interactive_authorization() && arg_bus != BUS_REMOTE && geteuid() != 0;
}

/* Calls m, which may need authorization. Returns an exit status; on 0 *ret_reply is the reply. */
int call_authorized(sd_bus *bus, sd_bus_message *m, const char *what, sd_bus_message **ret_reply) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        bool interactive = interactive_authorization();
        pid_t agent = 0;
        int r;

        r = sd_bus_message_set_allow_interactive_authorization(m, interactive);
        if (r < 0)
                return report_bus_error(what, NULL, r);
        if (polkit_agent_useful())
                (void) polkit_agent_open(&agent);
        r = sd_bus_call(bus, m, interactive ? INTERACTIVE_CALL_TIMEOUT_USEC : 0, &error, &reply);
        polkit_agent_close(&agent);
        if (r < 0) {
                int status = report_bus_error(what, &error, r);
                sd_bus_error_free(&error);
                return status;
        }
        *ret_reply = reply;
        return EXIT_OK;
}

int new_call(sd_bus *bus, sd_bus_message **ret, const char *path, const char *interface, const char *member) {
        int r = sd_bus_message_new_method_call(bus, ret, SERVICE_BUS_NAME, path, interface, member);

        return r < 0 ? report_bus_error("create a message", NULL, r) : EXIT_OK;
}

int append_failed(int r) {
        return report_bus_error("build the call", NULL, r);
}

/*
 * Calls a method that answers (u ReturnValue, o Job, …) and, when it started
 * a job, waits for it — subscribed before the call so that nothing the job
 * does is missed. On success either *ret_reply is the reply positioned after
 * Job (finished at once), or *ret_affected holds the job's AffectedElements
 * (finished as a job), or both are NULL (--no-wait: the job path was printed).
 */
int call_with_job(sd_bus *bus, sd_bus_message *m, const char *what, sd_bus_message **ret_reply,
                         char ***ret_affected) {
        return call_with_job_following(bus, m, what, NULL, NULL, ret_reply, ret_affected);
}

/*
 * call_with_job() for a replica job, whose progress also shows what the
 * synchronization sends: follow names it, or, when NULL and ret_created is
 * given, the reply does after Job (CreateElementReplica), and *ret_created
 * is then set to it, also with --no-wait.
 */
int call_with_job_following(sd_bus *bus, sd_bus_message *m, const char *what, const char *follow, char **ret_created,
                            sd_bus_message **ret_reply, char ***ret_affected) {
        _cleanup_(job_watch_done) JobWatch w = JOB_WATCH_INIT;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *job, *created = NULL;
        uint32_t rv;
        int r, status;

        *ret_reply = NULL;
        if (ret_affected)
                *ret_affected = NULL;
        if (ret_created)
                *ret_created = NULL;
        if (arg_wait) {
                r = job_watch_begin(&w, bus);
                if (r >= 0 && follow)
                        r = job_watch_follow(&w, follow);
                if (r < 0)
                        return report_bus_error("subscribe to job signals", NULL, r);
        }
        status = call_authorized(bus, m, what, &reply);
        if (status != EXIT_OK)
                return status;
        r = sd_bus_message_read(reply, "uo", &rv, &job);
        if (r >= 0 && ret_created)
                r = sd_bus_message_read(reply, "o", &created);
        if (r < 0)
                return report_bus_error("parse the reply", NULL, r);
        if (created && !(*ret_created = strdup(created)))
                return report_bus_error("parse the reply", NULL, -ENOMEM);
        if (rv == CIM_JOB_STARTED) {
                if (!arg_wait) {
                        puts(job);
                        return EXIT_OK;
                }
                if (!follow && created && strcmp(created, NULL_PATH) != 0) {
                        r = job_watch_follow(&w, created);
                        if (r < 0)
                                return report_bus_error("subscribe to the replica's signals", NULL, r);
                }
                status = job_watch_wait(&w, job);
                if (status == EXIT_OK && ret_affected)
                        *ret_affected = TAKE_PTR(w.affected);
                return status;
        }
        if (rv != CIM_COMPLETED) {
                fprintf(stderr, "Failed to %s: the service answered ReturnValue %" PRIu32 ".\n", what, rv);
                return EXIT_GENERIC;
        }
        *ret_reply = TAKE_PTR(reply);
        return EXIT_OK;
}

/* Calls a method that answers "uo" with the object it created, and prints that object's path. */
int call_print_created(sd_bus *bus, sd_bus_message *m, const char *what) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *path;
        uint32_t rv;
        int r, status;

        status = call_authorized(bus, m, what, &reply);
        if (status != EXIT_OK)
                return status;
        r = sd_bus_message_read(reply, "uo", &rv, &path);
        if (r < 0)
                return report_bus_error(what, NULL, r);
        puts(path);
        return EXIT_OK;
}

int fetch_objects(sd_bus *bus, ObjectList *ret) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r, status;

        r = object_list_fetch(bus, ret, &error);
        if (r < 0) {
                status = report_bus_error("list the service's objects", &error, r);
                sd_bus_error_free(&error);
                return status;
        }
        return EXIT_OK;
}

int fetch_properties(sd_bus *bus, const char *path, const char *interface, PropertyList *ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r, status;

        r = sd_bus_call_method(bus, SERVICE_BUS_NAME, path, "org.freedesktop.DBus.Properties", "GetAll", &error, &reply,
                               "s", interface);
        if (r < 0) {
                status = report_bus_error("read the properties", &error, r);
                sd_bus_error_free(&error);
                return status;
        }
        r = property_list_read(reply, ret);
        if (r < 0)
                return report_bus_error("parse the properties", NULL, r);
        return EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* name resolution */

typedef struct AccessPointFilter {
        bool local;
        const char *system;     /* when set, only access points of this system */
} AccessPointFilter;

static bool filter_access_point(const Object *o, const void *userdata) {
        const AccessPointFilter *f = userdata;

        if (property_list_get_bool(&o->props, "IsLocal", false) != f->local)
                return false;
        return !f->system || streq_ptr(property_list_get_string(&o->props, "System"), f->system);
}

static bool filter_peer_system(const Object *o, const void *userdata) {
        return !property_list_get_bool(&o->props, "IsLocal", false);
}

int resolve(const ObjectList *l, unsigned kinds, const char *name, ObjectFilter filter, const void *userdata,
                   const char **ret_path) {
        const Object *o;

        if (object_resolve(l, kinds, name, filter, userdata, &o) < 0)
                return EXIT_INVALID;
        *ret_path = o->path;
        return EXIT_OK;
}

/* The usual start of a verb on one object: the path points into l, which the caller owns. */
int fetch_and_resolve(sd_bus *bus, ObjectList *l, unsigned kinds, const char *name, const char **ret_path) {
        int status;

        status = fetch_objects(bus, l);
        if (status != EXIT_OK)
                return status;
        return resolve(l, kinds, name, NULL, NULL, ret_path);
}

void members_done(Members *m) {
        free(m->local);
        free(m->remote);
}

int resolve_members(const ObjectList *l, Members *ret) {
        AccessPointFilter local = { .local = true }, remote = { .local = false };
        int status;

        ret->system = "/";
        if (arg_member_system) {
                status = resolve(l, KIND_MASK(OBJECT_SYSTEM), arg_member_system, filter_peer_system, NULL, &ret->system);
                if (status != EXIT_OK)
                        return status;
                remote.system = ret->system;
        }
        ret->local = calloc(strv_length(arg_local) + 1, sizeof(char *));
        ret->remote = calloc(strv_length(arg_remote) + 1, sizeof(char *));
        if (!ret->local || !ret->remote)
                return report_bus_error("resolve names", NULL, -ENOMEM);
        for (char **i = arg_local; i && *i; i++) {
                status = resolve(l, KIND_MASK(OBJECT_ACCESS_POINT), *i, filter_access_point, &local,
                                 &ret->local[ret->n_local]);
                if (status != EXIT_OK)
                        return status;
                ret->n_local++;
        }
        for (char **i = arg_remote; i && *i; i++) {
                status = resolve(l, KIND_MASK(OBJECT_ACCESS_POINT), *i, filter_access_point, &remote,
                                 &ret->remote[ret->n_remote]);
                if (status != EXIT_OK)
                        return status;
                ret->n_remote++;
        }
        return EXIT_OK;
}

static int append_paths(sd_bus_message *m, const char *const *paths, size_t n) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "o");
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = sd_bus_message_append(m, "o", paths[i]);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

int append_members(sd_bus_message *m, const Members *members) {
        int r;

        r = append_paths(m, members->local, members->n_local);
        if (r >= 0)
                r = append_paths(m, members->remote, members->n_remote);
        if (r >= 0)
                r = sd_bus_message_append(m, "o", members->system);
        return r;
}
