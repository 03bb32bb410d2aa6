/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * iscsi-replctl: the command-line client of org.iscsi.ReplicationService.
 * Command line → verb → (resolve names, call, wait for the job) → output.
 * Exit statuses are in replctl.h and iscsi-replctl(1).
 */

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

/* Options that only some verbs take; each verb lists the ones it accepts. */
enum {
        OPT_ELEMENT_NAME = 1u << 0,
        OPT_TARGET_NAME = 1u << 1,
        OPT_PORTAL_GROUP_TAG = 1u << 2,
        OPT_USERNAME = 1u << 3,
        OPT_MUTUAL_USERNAME = 1u << 4,
        OPT_SECRET_FILE = 1u << 5,
        OPT_MUTUAL_SECRET_FILE = 1u << 6,
        OPT_LOCAL = 1u << 7,
        OPT_REMOTE = 1u << 8,
        OPT_MEMBER_SYSTEM = 1u << 9,
        OPT_INACTIVE = 1u << 10,
        OPT_DELETE_ON_UNASSOCIATED = 1u << 11,
        OPT_ACTIVE = 1u << 12,
        OPT_JSON = 1u << 13,
};

static BusKind arg_bus = BUS_SYSTEM;
static const char *arg_address;
static const char *arg_host;
static bool arg_json;
static bool arg_legend = true;
static bool arg_pager = true;
static bool arg_ask_password = true;
static bool arg_wait = true;
static unsigned arg_given;
static const char *arg_element_name;
static const char *arg_target_name;
static uint16_t arg_portal_group_tag;
static const char *arg_username;
static const char *arg_mutual_username;
static const char *arg_secret_file;
static const char *arg_mutual_secret_file;
static char **arg_local;
static char **arg_remote;
static const char *arg_member_system;
static int arg_active = -1;
static int arg_delete_on_unassociated = -1;

typedef int (*VerbFunction)(sd_bus *bus, char **args, size_t n_args);

typedef struct Verb {
        const char *name;
        size_t min_args, max_args;
        unsigned options;
        VerbFunction run;
} Verb;

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
static int call_authorized(sd_bus *bus, sd_bus_message *m, const char *what, sd_bus_message **ret_reply) {
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

static int new_call(sd_bus *bus, sd_bus_message **ret, const char *path, const char *interface, const char *member) {
        int r = sd_bus_message_new_method_call(bus, ret, SERVICE_BUS_NAME, path, interface, member);

        return r < 0 ? report_bus_error("create a message", NULL, r) : EXIT_OK;
}

static int append_failed(int r) {
        return report_bus_error("build the call", NULL, r);
}

/*
 * Calls a method that answers (u ReturnValue, o Job, …) and, when it started
 * a job, waits for it — subscribed before the call so that nothing the job
 * does is missed. On success either *ret_reply is the reply positioned after
 * Job (finished at once), or *ret_affected holds the job's AffectedElements
 * (finished as a job), or both are NULL (--no-wait: the job path was printed).
 */
static int call_with_job(sd_bus *bus, sd_bus_message *m, const char *what, sd_bus_message **ret_reply,
                         char ***ret_affected) {
        _cleanup_(job_watch_done) JobWatch w = JOB_WATCH_INIT;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *job;
        uint32_t rv;
        int r, status;

        *ret_reply = NULL;
        if (ret_affected)
                *ret_affected = NULL;
        if (arg_wait) {
                r = job_watch_begin(&w, bus);
                if (r < 0)
                        return report_bus_error("subscribe to job signals", NULL, r);
        }
        status = call_authorized(bus, m, what, &reply);
        if (status != EXIT_OK)
                return status;
        r = sd_bus_message_read(reply, "uo", &rv, &job);
        if (r < 0)
                return report_bus_error("parse the reply", NULL, r);
        if (rv == CIM_JOB_STARTED) {
                if (!arg_wait) {
                        puts(job);
                        return EXIT_OK;
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

/* Reads "uo" where the object is the created one, and prints its path. */
static int print_created(sd_bus_message *reply, const char *what) {
        const char *path;
        uint32_t rv;
        int r;

        r = sd_bus_message_read(reply, "uo", &rv, &path);
        if (r < 0)
                return report_bus_error(what, NULL, r);
        puts(path);
        return EXIT_OK;
}

static int fetch_objects(sd_bus *bus, ObjectList *ret) {
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

static int fetch_properties(sd_bus *bus, const char *path, const char *interface, PropertyList *ret) {
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

static int resolve(const ObjectList *l, unsigned kinds, const char *name, ObjectFilter filter, const void *userdata,
                   const char **ret_path) {
        const Object *o;

        if (object_resolve(l, kinds, name, filter, userdata, &o) < 0)
                return EXIT_INVALID;
        *ret_path = o->path;
        return EXIT_OK;
}

/* Resolves --local, --remote and --system into the three member arguments. */
typedef struct Members {
        const char **local;
        const char **remote;
        size_t n_local, n_remote;
        const char *system;
} Members;

static void members_done(Members *m) {
        free(m->local);
        free(m->remote);
}

static int resolve_members(const ObjectList *l, Members *ret) {
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

static int append_members(sd_bus_message *m, const Members *members) {
        int r;

        r = append_paths(m, members->local, members->n_local);
        if (r >= 0)
                r = append_paths(m, members->remote, members->n_remote);
        if (r >= 0)
                r = sd_bus_message_append(m, "o", members->system);
        return r;
}

/* ------------------------------------------------------------------------ */
/* output helpers */

static char *format_timestamp(uint64_t usec) {
        char buf[64], *s = NULL;
        time_t t = (time_t) (usec / USEC_PER_SEC);
        struct tm tm;

        if (usec == 0)
                return strdup("-");
        if (!localtime_r(&t, &tm) || strftime(buf, sizeof(buf), "%a %Y-%m-%d %H:%M:%S %Z", &tm) == 0)
                return NULL;
        return asprintf(&s, "%s", buf) < 0 ? NULL : s;
}

static char *format_duration(uint64_t usec) {
        char *s = NULL;
        uint64_t sec = usec / USEC_PER_SEC;

        if (sec >= 3600)
                return asprintf(&s, "%" PRIu64 "h %" PRIu64 "min %" PRIu64 "s", sec / 3600, sec / 60 % 60, sec % 60) < 0 ? NULL : s;
        if (sec >= 60)
                return asprintf(&s, "%" PRIu64 "min %" PRIu64 "s", sec / 60, sec % 60) < 0 ? NULL : s;
        return asprintf(&s, "%.3fs", (double) usec / (double) USEC_PER_SEC) < 0 ? NULL : s;
}

static void print_field(FILE *f, int width, const char *label, const char *value) {
        fprintf(f, "%*s: %s\n", width, label, value ? value : "-");
}

static void print_field_take(FILE *f, int width, const char *label, char *value) {
        print_field(f, width, label, value);
        free(value);
}

/* "local" for this host, else the system's Name; the path when the system is unknown. */
static const char *system_label(const ObjectList *l, const char *path) {
        const Object *o;

        if (!path || strcmp(path, "/") == 0)
                return NULL;
        if (strcmp(path, LOCAL_SYSTEM_PATH) == 0)
                return "local";
        o = object_list_find(l, path);
        return o ? object_display_name(o) : path;
}

/* The display names of the objects in an "ao" property, comma-separated; NULL for none. */
static char *names_of(const ObjectList *l, const Value *paths, bool systems) {
        _cleanup_strv_free_ char **names = NULL;

        for (size_t i = 0; i < value_array_length(paths); i++) {
                const char *p = value_array_string(paths, i);
                const Object *o = p ? object_list_find(l, p) : NULL;
                const char *name = systems ? system_label(l, p) : (o && *object_display_name(o) ? object_display_name(o) : p);

                if (name && strv_extend(&names, name) < 0)
                        return NULL;
        }
        return names ? strv_join(names, ",") : NULL;
}

static char *format_count(size_t n, const char *part_name, size_t part) {
        char *s = NULL;

        if (part_name && part > 0)
                return asprintf(&s, "%zu (%zu %s)", n, part, part_name) < 0 ? NULL : s;
        return asprintf(&s, "%zu", n) < 0 ? NULL : s;
}

static void json_object_with_path(JsonWriter *j, const char *path, const PropertyList *props) {
        json_begin_object(j);
        json_key(j, "Path");
        json_string(j, path);
        property_list_to_json(props, j);
        json_end_object(j);
}

static int finish_output(Output *o, JsonWriter *j) {
        if (j && !json_finish(j)) {
                fputs("Failed to write JSON: nesting too deep.\n", stderr);
                (void) output_close(o);
                return EXIT_GENERIC;
        }
        if (output_close(o) < 0) {
                fputs("Failed to write the output.\n", stderr);
                return EXIT_GENERIC;
        }
        return EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* read verbs */

static int verb_status(sd_bus *bus, char **args, size_t n_args) {
        _cleanup_(property_list_clear) PropertyList props = {};
        _cleanup_(object_list_clear) ObjectList l = {};
        Output out;
        FILE *f;
        int status;

        status = fetch_properties(bus, SERVICE_ROOT_PATH, SERVICE_INTERFACE, &props);
        if (status != EXIT_OK)
                return status;
        if (arg_json) {
                f = output_open(&out, arg_pager);
                JsonWriter j = JSON_WRITER_INIT(f);
                json_object_with_path(&j, SERVICE_ROOT_PATH, &props);
                return finish_output(&out, &j);
        }

        status = fetch_objects(bus, &l);
        if (status != EXIT_OK)
                return status;
        size_t local_aps = 0, running = 0;
        for (size_t i = 0; i < l.n; i++) {
                if (l.items[i].kind == OBJECT_ACCESS_POINT && property_list_get_bool(&l.items[i].props, "IsLocal", false))
                        local_aps++;
                if (l.items[i].kind == OBJECT_JOB &&
                    !job_state_is_finished((unsigned) property_list_get_unsigned(&l.items[i].props, "JobState", 0)))
                        running++;
        }

        f = output_open(&out, arg_pager);
        print_field(f, 20, "Version", property_list_get_string(&props, "Version"));
        print_field(f, 20, "Local system", property_list_get_string(&props, "LocalSystem"));
        print_field(f, 20, "Initiator name", property_list_get_string(&props, "InitiatorName"));
        print_field(f, 20, "Verify access points",
                    property_list_get_bool(&props, "VerifyAccessPoints", false) ? "yes" : "no");
        print_field_take(f, 20, "Peer systems",
                         format_count(object_list_count(&l, OBJECT_SYSTEM) - (object_list_find(&l, LOCAL_SYSTEM_PATH) ? 1 : 0), NULL, 0));
        print_field_take(f, 20, "Access points", format_count(object_list_count(&l, OBJECT_ACCESS_POINT), "local", local_aps));
        print_field_take(f, 20, "Collections", format_count(object_list_count(&l, OBJECT_COLLECTION), NULL, 0));
        print_field_take(f, 20, "Shared secrets", format_count(object_list_count(&l, OBJECT_SECRET), NULL, 0));
        print_field_take(f, 20, "Jobs", format_count(object_list_count(&l, OBJECT_JOB), "running", running));
        return finish_output(&out, NULL);
}

/* A cell for a string property: "-" when empty. */
static const char *cell(const Object *o, const char *name) {
        const char *s = property_list_get_string(&o->props, name);

        return s && *s ? s : "-";
}

typedef int (*RowFunction)(Table *t, const ObjectList *l, const Object *o);

static int list_objects(sd_bus *bus, ObjectKind kind, size_t n_columns, const char *const *headers, RowFunction row) {
        _cleanup_(object_list_clear) ObjectList l = {};
        _cleanup_(table_freep) Table *t = NULL;
        Output out;
        FILE *f;
        int status;

        status = fetch_objects(bus, &l);
        if (status != EXIT_OK)
                return status;

        if (arg_json) {
                f = output_open(&out, arg_pager);
                JsonWriter j = JSON_WRITER_INIT(f);
                json_begin_array(&j);
                for (size_t i = 0; i < l.n; i++)
                        if (l.items[i].kind == kind)
                                json_object_with_path(&j, l.items[i].path, &l.items[i].props);
                json_end_array(&j);
                return finish_output(&out, &j);
        }

        t = table_new(n_columns, headers);
        if (!t)
                return report_bus_error("build the table", NULL, -ENOMEM);
        for (size_t i = 0; i < l.n; i++)
                if (l.items[i].kind == kind && row(t, &l, &l.items[i]) < 0)
                        return report_bus_error("build the table", NULL, -ENOMEM);

        f = output_open(&out, arg_pager);
        table_print(t, f, arg_legend);
        if (arg_legend)
                fprintf(f, "\n%zu %s listed.\n", table_rows(t),
                        table_rows(t) == 1 ? kind_words(kind)->noun : kind_words(kind)->plural);
        return finish_output(&out, NULL);
}

static int system_row(Table *t, const ObjectList *l, const Object *o) {
        char *aps = NULL;
        int r;

        if (asprintf(&aps, "%zu", value_array_length(property_list_get(&o->props, "AccessPoints"))) < 0)
                return -ENOMEM;
        r = table_add_cell(t, o->path);
        if (r >= 0)
                r = table_add_cell(t, cell(o, "Name"));
        if (r >= 0)
                r = table_add_cell(t, cell(o, "NameFormat"));
        if (r >= 0)
                r = table_add_cell(t, cell(o, "Reachable"));
        if (r >= 0)
                r = table_add_cell_take(t, TAKE_PTR(aps));
        if (r >= 0)
                r = table_add_cell(t, cell(o, "ElementName"));
        free(aps);
        return r;
}

static int verb_list_systems(sd_bus *bus, char **args, size_t n_args) {
        static const char *const headers[] = { "PATH", "NAME", "FORMAT", "REACHABLE", "APS", "DESCRIPTION" };

        return list_objects(bus, OBJECT_SYSTEM, ELEMENTSOF(headers), headers, system_row);
}

static int access_point_row(Table *t, const ObjectList *l, const Object *o) {
        const char *secret = property_list_get_string(&o->props, "SharedSecret");
        int r;

        r = table_add_cell(t, o->path);
        if (r >= 0)
                r = table_add_cell(t, cell(o, "Name"));
        if (r >= 0)
                r = table_add_cell(t, system_label(l, property_list_get_string(&o->props, "System")));
        if (r >= 0)
                r = table_add_cell(t, cell(o, "TargetName"));
        if (r >= 0)
                r = table_add_cell(t, cell(o, "Reachable"));
        if (r >= 0)
                r = table_add_cell(t, secret && strcmp(secret, "/") != 0 ? "yes" : "no");
        if (r >= 0)
                r = table_add_cell(t, cell(o, "ElementName"));
        return r;
}

static int verb_list_access_points(sd_bus *bus, char **args, size_t n_args) {
        static const char *const headers[] = { "PATH", "NAME", "SYSTEM", "TARGET", "REACHABLE", "SECRET", "DESCRIPTION" };

        return list_objects(bus, OBJECT_ACCESS_POINT, ELEMENTSOF(headers), headers, access_point_row);
}

static int collection_row(Table *t, const ObjectList *l, const Object *o) {
        const char *job = property_list_get_string(&o->props, "Job");
        int r;

        r = table_add_cell(t, o->path);
        if (r >= 0)
                r = table_add_cell(t, cell(o, "ElementName"));
        if (r >= 0)
                r = table_add_cell(t, property_list_get_bool(&o->props, "Active", false) ? "yes" : "no");
        if (r >= 0)
                r = table_add_cell_take(t, names_of(l, property_list_get(&o->props, "LocalAccessPoints"), false));
        if (r >= 0)
                r = table_add_cell_take(t, names_of(l, property_list_get(&o->props, "RemoteAccessPoints"), false));
        if (r >= 0)
                r = table_add_cell_take(t, names_of(l, property_list_get(&o->props, "RemoteSystems"), true));
        if (r >= 0)
                r = table_add_cell(t, job && strcmp(job, "/") != 0 ? job : NULL);
        return r;
}

static int verb_list_collections(sd_bus *bus, char **args, size_t n_args) {
        static const char *const headers[] = { "PATH", "NAME", "ACTIVE", "LOCAL", "REMOTE", "SYSTEMS", "JOB" };

        return list_objects(bus, OBJECT_COLLECTION, ELEMENTSOF(headers), headers, collection_row);
}

static int job_row(Table *t, const ObjectList *l, const Object *o) {
        char *percent = NULL;
        int r;

        if (asprintf(&percent, "%" PRIu64 "%%", property_list_get_unsigned(&o->props, "PercentComplete", 0)) < 0)
                return -ENOMEM;
        r = table_add_cell(t, o->path);
        if (r >= 0)
                r = table_add_cell(t, cell(o, "Name"));
        if (r >= 0)
                r = table_add_cell(t, job_state_to_string((unsigned) property_list_get_unsigned(&o->props, "JobState", 0)));
        if (r >= 0)
                r = table_add_cell_take(t, TAKE_PTR(percent));
        if (r >= 0)
                r = table_add_cell(t, cell(o, "JobStatus"));
        free(percent);
        return r;
}

static int verb_list_jobs(sd_bus *bus, char **args, size_t n_args) {
        static const char *const headers[] = { "PATH", "NAME", "STATE", "PERCENT", "STATUS" };

        return list_objects(bus, OBJECT_JOB, ELEMENTSOF(headers), headers, job_row);
}

static int verb_show(sd_bus *bus, char **args, size_t n_args) {
        _cleanup_(property_list_clear) PropertyList service = {};
        _cleanup_(object_list_clear) ObjectList l = {};
        const PropertyList *props;
        const char *path;
        Output out;
        FILE *f;
        int status;

        if (strcmp(args[0], SERVICE_ROOT_PATH) == 0 || strcmp(args[0], "service") == 0) {
                status = fetch_properties(bus, SERVICE_ROOT_PATH, SERVICE_INTERFACE, &service);
                if (status != EXIT_OK)
                        return status;
                path = SERVICE_ROOT_PATH;
                props = &service;
        } else {
                const Object *o;

                status = fetch_objects(bus, &l);
                if (status != EXIT_OK)
                        return status;
                if (object_resolve(&l, KIND_MASK_ANY, args[0], NULL, NULL, &o) < 0)
                        return EXIT_INVALID;
                path = o->path;
                props = &o->props;
        }

        f = output_open(&out, arg_pager);
        if (arg_json) {
                JsonWriter j = JSON_WRITER_INIT(f);
                json_object_with_path(&j, path, props);
                return finish_output(&out, &j);
        }
        fprintf(f, "Path=%s\n", path);
        for (size_t i = 0; i < props->n; i++) {
                _cleanup_free_ char *text = value_to_text(props->items[i].value);
                fprintf(f, "%s=%s\n", props->items[i].name, text ? text : "");
        }
        return finish_output(&out, NULL);
}

static int verb_job(sd_bus *bus, char **args, size_t n_args) {
        _cleanup_(object_list_clear) ObjectList l = {};
        const PropertyList *p;
        const Object *o;
        Output out;
        FILE *f;
        unsigned state;
        int status;

        status = fetch_objects(bus, &l);
        if (status != EXIT_OK)
                return status;
        if (object_resolve(&l, KIND_MASK(OBJECT_JOB), args[0], NULL, NULL, &o) < 0)
                return EXIT_INVALID;
        p = &o->props;

        f = output_open(&out, arg_pager);
        if (arg_json) {
                JsonWriter j = JSON_WRITER_INIT(f);
                json_object_with_path(&j, o->path, p);
                return finish_output(&out, &j);
        }

        state = (unsigned) property_list_get_unsigned(p, "JobState", 0);
        print_field(f, 12, "Job", o->path);
        print_field(f, 12, "Name", cell(o, "Name"));
        {
                char *s = NULL;
                print_field_take(f, 12, "State", asprintf(&s, "%s (%u)", job_state_to_string(state), state) < 0 ? NULL : s);
        }
        print_field(f, 12, "Status", cell(o, "JobStatus"));
        {
                char *s = NULL;
                print_field_take(f, 12, "Progress",
                                 asprintf(&s, "%" PRIu64 "%%", property_list_get_unsigned(p, "PercentComplete", 0)) < 0 ? NULL : s);
        }
        print_field_take(f, 12, "Submitted", format_timestamp(property_list_get_unsigned(p, "TimeSubmitted", 0)));
        print_field_take(f, 12, "Started", format_timestamp(property_list_get_unsigned(p, "StartTime", 0)));
        if (job_state_is_finished(state))
                print_field_take(f, 12, "Finished", format_timestamp(property_list_get_unsigned(p, "TimeOfLastStateChange", 0)));
        print_field_take(f, 12, "Elapsed", format_duration(property_list_get_unsigned(p, "ElapsedTime", 0)));
        if (property_list_get_unsigned(p, "ErrorCode", 0) != 0) {
                char *s = NULL;
                print_field_take(f, 12, "Error",
                                 asprintf(&s, "%s (CIM code %" PRIu64 ")", cell(o, "ErrorDescription"),
                                          property_list_get_unsigned(p, "ErrorCode", 0)) < 0 ? NULL : s);
        }
        print_field_take(f, 12, "Affected", value_to_text(property_list_get(p, "AffectedElements")));
        print_field(f, 12, "Owner", cell(o, "Owner"));
        return finish_output(&out, NULL);
}

/* ------------------------------------------------------------------------ */
/* changing verbs */

static int append_string_entry(sd_bus_message *m, const char *key, const char *value) {
        return sd_bus_message_append(m, "{sv}", key, "s", value);
}

static int verb_add_peer(sd_bus *bus, char **args, size_t n_args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        int r, status;

        status = new_call(bus, &m, SERVICE_ROOT_PATH, SERVICE_INTERFACE, "AddPeerSystem");
        if (status != EXIT_OK)
                return status;
        r = sd_bus_message_append(m, "s", args[0]);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0 && arg_element_name)
                r = append_string_entry(m, "ElementName", arg_element_name);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r < 0)
                return append_failed(r);
        status = call_authorized(bus, m, "add the peer system", &reply);
        if (status != EXIT_OK)
                return status;
        return print_created(reply, "add the peer system");
}

/* Splits ADDRESS[:PORT]; IPv6 needs brackets to carry a port ("[fd00::1]:3260"). */
static int parse_address_port(const char *s, char **ret_address, uint16_t *ret_port, bool *ret_has_port) {
        const char *colon, *end;
        char *address;

        *ret_has_port = false;
        if (s[0] == '[') {
                end = strchr(s, ']');
                if (!end || end == s + 1)
                        return -EINVAL;
                colon = end[1] == ':' ? end + 1 : NULL;
                if (!colon && end[1] != 0)
                        return -EINVAL;
                address = strndup(s + 1, (size_t) (end - s - 1));
        } else {
                colon = strchr(s, ':');
                /* More than one colon and no brackets: an IPv6 address without a port. */
                if (colon && strchr(colon + 1, ':'))
                        colon = NULL;
                address = colon ? strndup(s, (size_t) (colon - s)) : strdup(s);
        }
        if (!address)
                return -ENOMEM;
        if (!*address) {
                free(address);
                return -EINVAL;
        }
        if (colon) {
                char *e;
                unsigned long port;

                errno = 0;
                port = strtoul(colon + 1, &e, 10);
                if (errno != 0 || e == colon + 1 || *e != 0 || port == 0 || port > 65535 || colon[1] == '-' ||
                    colon[1] == '+') {
                        free(address);
                        return -EINVAL;
                }
                *ret_port = (uint16_t) port;
                *ret_has_port = true;
        }
        *ret_address = address;
        return 0;
}

static int verb_add_access_point(sd_bus *bus, char **args, size_t n_args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(object_list_clear) ObjectList l = {};
        _cleanup_free_ char *address = NULL;
        const char *system;
        uint16_t port = 0;
        bool has_port;
        int r, status;

        if (parse_address_port(args[1], &address, &port, &has_port) < 0) {
                fprintf(stderr, "Invalid address \"%s\": expected ADDRESS, ADDRESS:PORT or [IPv6]:PORT.\n", args[1]);
                return EXIT_INVALID;
        }
        status = fetch_objects(bus, &l);
        if (status != EXIT_OK)
                return status;
        status = resolve(&l, KIND_MASK(OBJECT_SYSTEM), args[0], NULL, NULL, &system);
        if (status != EXIT_OK)
                return status;

        status = new_call(bus, &m, SERVICE_ROOT_PATH, SERVICE_INTERFACE, "AddServiceAccessPoint");
        if (status != EXIT_OK)
                return status;
        r = sd_bus_message_append(m, "o", system);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0)
                r = append_string_entry(m, "Address", address);
        if (r >= 0 && has_port)
                r = sd_bus_message_append(m, "{sv}", "Port", "q", port);
        if (r >= 0 && arg_target_name)
                r = append_string_entry(m, "TargetName", arg_target_name);
        if (r >= 0 && (arg_given & OPT_PORTAL_GROUP_TAG))
                r = sd_bus_message_append(m, "{sv}", "PortalGroupTag", "q", arg_portal_group_tag);
        if (r >= 0 && arg_element_name)
                r = append_string_entry(m, "ElementName", arg_element_name);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r < 0)
                return append_failed(r);
        status = call_authorized(bus, m, "add the access point", &reply);
        if (status != EXIT_OK)
                return status;
        return print_created(reply, "add the access point");
}

/* The secret from file, or asked twice on the terminal; never from the command line. */
static int get_secret(const char *file, const char *what, const char *username, char **ret) {
        _cleanup_erase_ char *first = NULL, *second = NULL;
        _cleanup_free_ char *prompt = NULL, *again = NULL;
        int r;

        if (file) {
                r = read_secret_file(file, ret);
                if (r < 0) {
                        fprintf(stderr, "Failed to read the %s from %s: %s\n", what, file,
                                r == -EBADMSG ? "it contains a NUL byte" : strerror(-r));
                        return EXIT_INVALID;
                }
                return EXIT_OK;
        }
        if (!arg_ask_password || !isatty(STDIN_FILENO)) {
                fprintf(stderr, "No terminal to ask for the %s on; pass it with --%s-file=PATH.\n", what,
                        strcmp(what, "secret") == 0 ? "secret" : "mutual-secret");
                return EXIT_INVALID;
        }
        if (asprintf(&prompt, "%c%s for %s: ", what[0] - 'a' + 'A', what + 1, username) < 0 ||
            asprintf(&again, "Repeat the %s: ", what) < 0)
                return report_bus_error("ask for the secret", NULL, -ENOMEM);
        r = terminal_read_secret(prompt, &first);
        if (r >= 0)
                r = terminal_read_secret(again, &second);
        if (r < 0) {
                fprintf(stderr, "No %s entered%s.\n", what, r == -ECANCELED ? "" : ": the terminal failed");
                return EXIT_INVALID;
        }
        if (strcmp(first, second) != 0) {
                fprintf(stderr, "The two entries of the %s differ.\n", what);
                return EXIT_INVALID;
        }
        *ret = TAKE_PTR(first);
        return EXIT_OK;
}

static int verb_add_secret(sd_bus *bus, char **args, size_t n_args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(object_list_clear) ObjectList l = {};
        _cleanup_erase_ char *secret = NULL, *mutual = NULL;
        const char *access_point = "/";
        int r, status;

        if (!arg_username) {
                fputs("add-secret needs --username=NAME.\n", stderr);
                return EXIT_INVALID;
        }
        if (arg_mutual_secret_file && !arg_mutual_username) {
                fputs("--mutual-secret-file needs --mutual-username.\n", stderr);
                return EXIT_INVALID;
        }
        if (strcmp(args[0], "/") != 0) {
                status = fetch_objects(bus, &l);
                if (status != EXIT_OK)
                        return status;
                status = resolve(&l, KIND_MASK(OBJECT_ACCESS_POINT), args[0], NULL, NULL, &access_point);
                if (status != EXIT_OK)
                        return status;
        }
        status = get_secret(arg_secret_file, "secret", arg_username, &secret);
        if (status != EXIT_OK)
                return status;
        if (arg_mutual_username) {
                status = get_secret(arg_mutual_secret_file, "mutual secret", arg_mutual_username, &mutual);
                if (status != EXIT_OK)
                        return status;
        }

        status = new_call(bus, &m, SERVICE_ROOT_PATH, SERVICE_INTERFACE, "AddSharedSecret");
        if (status != EXIT_OK)
                return status;
        /* sd-bus erases a sensitive message's memory when it frees it. */
        r = sd_bus_message_sensitive(m);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0)
                r = append_string_entry(m, "Username", arg_username);
        if (r >= 0)
                r = append_string_entry(m, "Secret", secret);
        if (r >= 0 && arg_mutual_username)
                r = append_string_entry(m, "MutualUsername", arg_mutual_username);
        if (r >= 0 && mutual)
                r = append_string_entry(m, "MutualSecret", mutual);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_append(m, "o", access_point);
        if (r < 0)
                return append_failed(r);
        status = call_authorized(bus, m, "add the shared secret", &reply);
        if (status != EXIT_OK)
                return status;
        return print_created(reply, "add the shared secret");
}

static int verb_create_collection(sd_bus *bus, char **args, size_t n_args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(object_list_clear) ObjectList l = {};
        _cleanup_(members_done) Members members = {};
        _cleanup_strv_free_ char **affected = NULL;
        const char *collection;
        int r, status;

        status = fetch_objects(bus, &l);
        if (status != EXIT_OK)
                return status;
        status = resolve_members(&l, &members);
        if (status != EXIT_OK)
                return status;

        status = new_call(bus, &m, SERVICE_ROOT_PATH, SERVICE_INTERFACE, "CreateRemoteReplicationCollection");
        if (status != EXIT_OK)
                return status;
        r = sd_bus_message_append(m, "s", args[0]);
        if (r >= 0)
                r = append_members(m, &members);
        if (r >= 0)
                r = sd_bus_message_append(m, "bb", !(arg_given & OPT_INACTIVE), arg_delete_on_unassociated > 0);
        if (r < 0)
                return append_failed(r);

        status = call_with_job(bus, m, "create the collection", &reply, &affected);
        if (status != EXIT_OK)
                return status;
        if (reply) {
                r = sd_bus_message_read(reply, "o", &collection);
                if (r < 0)
                        return report_bus_error("parse the reply", NULL, r);
                puts(collection);
        } else if (affected && affected[0])
                puts(affected[0]);
        return EXIT_OK;
}

static int change_members(sd_bus *bus, char **args, const char *method, const char *what) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(object_list_clear) ObjectList l = {};
        _cleanup_(members_done) Members members = {};
        const char *collection;
        int r, status;

        if (!arg_local && !arg_remote && !arg_member_system) {
                fputs("Name what to change with --local, --remote or --system.\n", stderr);
                return EXIT_INVALID;
        }
        status = fetch_objects(bus, &l);
        if (status != EXIT_OK)
                return status;
        status = resolve(&l, KIND_MASK(OBJECT_COLLECTION), args[0], NULL, NULL, &collection);
        if (status != EXIT_OK)
                return status;
        status = resolve_members(&l, &members);
        if (status != EXIT_OK)
                return status;

        status = new_call(bus, &m, SERVICE_ROOT_PATH, SERVICE_INTERFACE, method);
        if (status != EXIT_OK)
                return status;
        r = append_members(m, &members);
        if (r >= 0)
                r = sd_bus_message_append(m, "o", collection);
        if (r < 0)
                return append_failed(r);
        return call_with_job(bus, m, what, &reply, NULL);
}

static int verb_add(sd_bus *bus, char **args, size_t n_args) {
        return change_members(bus, args, "AddToRemoteReplicationCollection", "add to the collection");
}

static int verb_remove(sd_bus *bus, char **args, size_t n_args) {
        return change_members(bus, args, "RemoveFromRemoteReplicationCollection", "remove from the collection");
}

static int verb_modify(sd_bus *bus, char **args, size_t n_args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(object_list_clear) ObjectList l = {};
        const char *collection;
        int r, status;

        if (!arg_element_name && arg_active < 0 && arg_delete_on_unassociated < 0) {
                fputs("Name a change: --element-name=, --active= or --delete-on-unassociated=.\n", stderr);
                return EXIT_INVALID;
        }
        status = fetch_objects(bus, &l);
        if (status != EXIT_OK)
                return status;
        status = resolve(&l, KIND_MASK(OBJECT_COLLECTION), args[0], NULL, NULL, &collection);
        if (status != EXIT_OK)
                return status;

        status = new_call(bus, &m, collection, COLLECTION_INTERFACE, "Modify");
        if (status != EXIT_OK)
                return status;
        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0 && arg_element_name)
                r = append_string_entry(m, "ElementName", arg_element_name);
        if (r >= 0 && arg_active >= 0)
                r = sd_bus_message_append(m, "{sv}", "Active", "b", arg_active);
        if (r >= 0 && arg_delete_on_unassociated >= 0)
                r = sd_bus_message_append(m, "{sv}", "DeleteOnUnassociated", "b", arg_delete_on_unassociated);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r < 0)
                return append_failed(r);
        return call_authorized(bus, m, "modify the collection", &reply);
}

static int verb_delete(sd_bus *bus, char **args, size_t n_args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(object_list_clear) ObjectList l = {};
        _cleanup_free_ char *what = NULL;
        const Object *o;
        int status;

        status = fetch_objects(bus, &l);
        if (status != EXIT_OK)
                return status;
        if (object_resolve(&l, KIND_MASK_ANY, args[0], NULL, NULL, &o) < 0)
                return EXIT_INVALID;
        if (asprintf(&what, "delete %s", o->path) < 0)
                return report_bus_error("delete", NULL, -ENOMEM);
        status = new_call(bus, &m, o->path, object_kind_interface(o->kind), "Delete");
        if (status != EXIT_OK)
                return status;
        return call_authorized(bus, m, what, &reply);
}

static int verb_verify(sd_bus *bus, char **args, size_t n_args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(object_list_clear) ObjectList l = {};
        const char *access_point;
        int status;

        status = fetch_objects(bus, &l);
        if (status != EXIT_OK)
                return status;
        status = resolve(&l, KIND_MASK(OBJECT_ACCESS_POINT), args[0], NULL, NULL, &access_point);
        if (status != EXIT_OK)
                return status;
        status = new_call(bus, &m, access_point, ACCESS_POINT_INTERFACE, "Verify");
        if (status != EXIT_OK)
                return status;
        return call_with_job(bus, m, "verify the access point", &reply, NULL);
}

static int verb_probe_peers(sd_bus *bus, char **args, size_t n_args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_strv_free_ char **affected = NULL;
        _cleanup_strv_free_ char **systems = NULL;
        int r, status;

        status = new_call(bus, &m, SERVICE_ROOT_PATH, SERVICE_INTERFACE, "GetPeerSystems");
        if (status != EXIT_OK)
                return status;
        /* Options 2: only the peers that answer now, found by a job that probes them. */
        r = sd_bus_message_append(m, "q", (uint16_t) 2);
        if (r < 0)
                return append_failed(r);
        status = call_with_job(bus, m, "probe the peer systems", &reply, &affected);
        if (status != EXIT_OK)
                return status;
        if (reply) {
                r = sd_bus_message_read_strv(reply, &systems);
                if (r < 0)
                        return report_bus_error("parse the reply", NULL, r);
        }
        for (char **i = reply ? systems : affected; i && *i; i++)
                puts(*i);
        return EXIT_OK;
}

static int resolve_job(sd_bus *bus, const char *name, char **ret_path) {
        _cleanup_(object_list_clear) ObjectList l = {};
        const char *path;
        int status;

        status = fetch_objects(bus, &l);
        if (status != EXIT_OK)
                return status;
        status = resolve(&l, KIND_MASK(OBJECT_JOB), name, NULL, NULL, &path);
        if (status != EXIT_OK)
                return status;
        *ret_path = strdup(path);
        return *ret_path ? EXIT_OK : report_bus_error("resolve the job", NULL, -ENOMEM);
}

static int verb_cancel(sd_bus *bus, char **args, size_t n_args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_free_ char *job = NULL;
        int r, status;

        status = resolve_job(bus, args[0], &job);
        if (status != EXIT_OK)
                return status;
        status = new_call(bus, &m, job, JOB_INTERFACE, "RequestStateChange");
        if (status != EXIT_OK)
                return status;
        r = sd_bus_message_append(m, "qt", (uint16_t) 4, (uint64_t) 0);
        if (r < 0)
                return append_failed(r);
        return call_authorized(bus, m, "cancel the job", &reply);
}

static int verb_wait(sd_bus *bus, char **args, size_t n_args) {
        _cleanup_(job_watch_done) JobWatch w = JOB_WATCH_INIT;
        _cleanup_free_ char *job = NULL;
        int r, status;

        status = resolve_job(bus, args[0], &job);
        if (status != EXIT_OK)
                return status;
        r = job_watch_begin(&w, bus);
        if (r < 0)
                return report_bus_error("subscribe to job signals", NULL, r);
        return job_watch_wait(&w, job);
}

/* ------------------------------------------------------------------------ */
/* command line */

static const Verb verbs[] = {
        { "status", 0, 0, OPT_JSON, verb_status },
        { "list-systems", 0, 0, OPT_JSON, verb_list_systems },
        { "list-access-points", 0, 0, OPT_JSON, verb_list_access_points },
        { "list-collections", 0, 0, OPT_JSON, verb_list_collections },
        { "list-jobs", 0, 0, OPT_JSON, verb_list_jobs },
        { "show", 1, 1, OPT_JSON, verb_show },
        { "job", 1, 1, OPT_JSON, verb_job },
        { "add-peer", 1, 1, OPT_ELEMENT_NAME, verb_add_peer },
        { "add-access-point", 2, 2, OPT_TARGET_NAME | OPT_PORTAL_GROUP_TAG | OPT_ELEMENT_NAME, verb_add_access_point },
        { "add-secret", 1, 1, OPT_USERNAME | OPT_MUTUAL_USERNAME | OPT_SECRET_FILE | OPT_MUTUAL_SECRET_FILE,
          verb_add_secret },
        { "create-collection", 1, 1,
          OPT_LOCAL | OPT_REMOTE | OPT_MEMBER_SYSTEM | OPT_INACTIVE | OPT_DELETE_ON_UNASSOCIATED,
          verb_create_collection },
        { "add", 1, 1, OPT_LOCAL | OPT_REMOTE | OPT_MEMBER_SYSTEM, verb_add },
        { "remove", 1, 1, OPT_LOCAL | OPT_REMOTE | OPT_MEMBER_SYSTEM, verb_remove },
        { "modify", 1, 1, OPT_ELEMENT_NAME | OPT_ACTIVE | OPT_DELETE_ON_UNASSOCIATED, verb_modify },
        { "delete", 1, 1, 0, verb_delete },
        { "verify", 1, 1, 0, verb_verify },
        { "probe-peers", 0, 0, 0, verb_probe_peers },
        { "cancel", 1, 1, 0, verb_cancel },
        { "wait", 1, 1, 0, verb_wait },
};

static void help(void) {
        printf("Usage: iscsi-replctl [OPTIONS…] COMMAND …\n\n"
               "Manage iSCSI remote replication connectivity (org.iscsi.ReplicationService).\n\n"
               "Show:\n"
               "  status                         Show the service and what it holds\n"
               "  list-systems                   List this host and the peer systems\n"
               "  list-access-points             List iSCSI portals\n"
               "  list-collections               List replication collections\n"
               "  list-jobs                      List jobs\n"
               "  show OBJECT                    Show every property of an object\n"
               "  job JOB                        Show the state of a job\n\n"
               "Change:\n"
               "  add-peer NAME                  Register a peer system\n"
               "  add-access-point SYSTEM ADDRESS[:PORT]\n"
               "                                 Register a portal of SYSTEM (\"local\": this host)\n"
               "  add-secret ACCESS_POINT --username=NAME\n"
               "                                 Store CHAP credentials (secret asked, or --secret-file)\n"
               "  create-collection NAME         Create a collection (members as with add)\n"
               "  add COLLECTION                 Add --local/--remote access points, --system\n"
               "  remove COLLECTION              Remove --local/--remote access points, --system\n"
               "  modify COLLECTION              Change --element-name=, --active=, --delete-on-unassociated=\n"
               "  delete OBJECT                  Delete a system, access point, collection, secret or job\n"
               "  verify ACCESS_POINT            Probe an access point now\n"
               "  probe-peers                    Probe every peer now; list those that answer\n\n"
               "Jobs:\n"
               "  cancel JOB                     Ask a running job to terminate\n"
               "  wait JOB                       Wait for a job to finish, showing progress\n\n"
               "Options:\n"
               "  -h --help                      Show this help\n"
               "     --version                   Show the version\n"
               "     --system                    Talk to the service on the system bus (default)\n"
               "     --session                   Talk to the service on the session bus\n"
               "     --address=ADDRESS           Talk to the service on the bus at ADDRESS\n"
               "  -H --host=[USER@]HOST          Talk to the service on HOST, over ssh\n"
               "     --json                      Print one JSON document (status, list-*, show, job)\n"
               "     --no-legend                 Omit table headers and footers\n"
               "     --no-pager                  Do not pipe output into a pager\n"
               "     --no-ask-password           Do not ask for passwords or secrets\n"
               "     --no-wait                   Print the job path instead of waiting for the job\n"
               "     --element-name=NAME         A descriptive name (add-peer, add-access-point, modify)\n"
               "     --target-name=IQN           The iSCSI target behind the portal\n"
               "     --portal-group-tag=N        The portal's target portal group tag\n"
               "     --username=NAME             CHAP user name\n"
               "     --mutual-username=NAME      CHAP user name for mutual authentication\n"
               "     --secret-file=PATH          Read the CHAP secret from PATH\n"
               "     --mutual-secret-file=PATH   Read the mutual CHAP secret from PATH\n"
               "     --local=ACCESS_POINT        A local access point (repeatable)\n"
               "     --remote=ACCESS_POINT       A remote access point (repeatable)\n"
               "     --system=SYSTEM             The remote system (after the command)\n"
               "     --inactive                  Create the collection inactive\n"
               "     --delete-on-unassociated[=yes|no]\n"
               "                                 Delete the collection when its last access point leaves\n"
               "     --active=yes|no             Enable or disable replication of a collection\n\n"
               "OBJECT is a path, KIND/NUMBER (system/2), a number, \"local\", or a unique\n"
               "Name or ElementName. See iscsi-replctl(1) for the exit statuses.\n");
}

enum {
        ARG_VERSION = 0x100,
        ARG_SYSTEM,
        ARG_SESSION,
        ARG_ADDRESS,
        ARG_JSON,
        ARG_NO_LEGEND,
        ARG_NO_PAGER,
        ARG_NO_ASK_PASSWORD,
        ARG_NO_WAIT,
        ARG_ELEMENT_NAME,
        ARG_TARGET_NAME,
        ARG_PORTAL_GROUP_TAG,
        ARG_USERNAME,
        ARG_MUTUAL_USERNAME,
        ARG_SECRET_FILE,
        ARG_MUTUAL_SECRET_FILE,
        ARG_LOCAL,
        ARG_REMOTE,
        ARG_INACTIVE,
        ARG_DELETE_ON_UNASSOCIATED,
        ARG_ACTIVE,
};

/* Options whose value may follow as the next argument; the verb finder must skip that value. */
static bool option_takes_separate_value(const char *arg) {
        static const char *const with_value[] = {
                "--address", "--host", "-H", "--element-name", "--target-name", "--portal-group-tag",
                "--username", "--mutual-username", "--secret-file", "--mutual-secret-file",
                "--local", "--remote", "--active",
        };

        for (size_t i = 0; i < ELEMENTSOF(with_value); i++)
                if (strcmp(arg, with_value[i]) == 0)
                        return true;
        return false;
}

static const Verb *find_verb(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (strcmp(verbs[i].name, name) == 0)
                        return &verbs[i];
        return NULL;
}

/*
 * "--system" alone selects the system bus, but after create-collection, add
 * and remove "--system SYS" names the remote system. getopt cannot tell the
 * two apart, so "--system SYS" after such a verb becomes "--system=SYS"
 * before parsing. Returns a new argv that reuses the old one's strings; the
 * strings made here are also in *ret_made, for freeing.
 */
static char **rewrite_system_option(int argc, char *argv[], char ***ret_made) {
        char **out = calloc((size_t) argc + 1, sizeof(char *));
        int verb = -1, n = 0;

        if (!out)
                return NULL;
        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--") == 0) {
                        verb = i + 1 < argc ? i + 1 : -1;
                        break;
                }
                if (argv[i][0] == '-' && argv[i][1] != 0) {
                        if (option_takes_separate_value(argv[i]))
                                i++;
                        continue;
                }
                verb = i;
                break;
        }

        bool takes_system = verb > 0 && (strcmp(argv[verb], "create-collection") == 0 ||
                                         strcmp(argv[verb], "add") == 0 || strcmp(argv[verb], "remove") == 0);
        bool options_end = false;
        for (int i = 0; i < argc; i++) {
                if (strcmp(argv[i], "--") == 0)
                        options_end = true;
                if (takes_system && !options_end && i > verb && strcmp(argv[i], "--system") == 0 && i + 1 < argc &&
                    argv[i + 1][0] != '-') {
                        if (asprintf(&out[n], "--system=%s", argv[i + 1]) < 0 || strv_push(ret_made, out[n]) < 0) {
                                free(out);
                                return NULL;
                        }
                        n++;
                        i++;
                        continue;
                }
                out[n++] = argv[i];
        }
        out[n] = NULL;
        return out;
}

static int parse_yes_no(const char *s, const char *option) {
        if (strcmp(s, "yes") == 0 || strcmp(s, "true") == 0 || strcmp(s, "1") == 0 || strcmp(s, "on") == 0)
                return 1;
        if (strcmp(s, "no") == 0 || strcmp(s, "false") == 0 || strcmp(s, "0") == 0 || strcmp(s, "off") == 0)
                return 0;
        fprintf(stderr, "Invalid value for %s: \"%s\" (expected yes or no).\n", option, s);
        return -EINVAL;
}

/* Explains why getopt refused an option (c is its '?' or ':'); arg is the argument the option was in. */
static void report_bad_option(int c, const char *arg) {
        bool is_long = strncmp(arg, "--", 2) == 0;
        int n = (int) strcspn(arg, "=");

        /* For a long option, optopt is 0 when the name is unknown, its value when only the argument is wrong. */
        if (c == ':' && is_long)
                fprintf(stderr, "Option \"%.*s\" needs a value; see --help.\n", n, arg);
        else if (c == ':')
                fprintf(stderr, "Option \"-%c\" needs a value; see --help.\n", optopt);
        else if (is_long && optopt != 0)
                fprintf(stderr, "Option \"%.*s\" takes no value; see --help.\n", n, arg);
        else if (is_long)
                fprintf(stderr, "Unknown option \"%.*s\"; see --help.\n", n, arg);
        else
                fprintf(stderr, "Unknown option \"-%c\"; see --help.\n", optopt);
}

/* Returns 1 to go on, 0 to exit successfully (--help, --version), or -EXIT_INVALID. */
static int parse_argv(int argc, char *argv[]) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "system", optional_argument, NULL, ARG_SYSTEM },
                { "session", no_argument, NULL, ARG_SESSION },
                { "address", required_argument, NULL, ARG_ADDRESS },
                { "host", required_argument, NULL, 'H' },
                { "json", no_argument, NULL, ARG_JSON },
                { "no-legend", no_argument, NULL, ARG_NO_LEGEND },
                { "no-pager", no_argument, NULL, ARG_NO_PAGER },
                { "no-ask-password", no_argument, NULL, ARG_NO_ASK_PASSWORD },
                { "no-wait", no_argument, NULL, ARG_NO_WAIT },
                { "element-name", required_argument, NULL, ARG_ELEMENT_NAME },
                { "target-name", required_argument, NULL, ARG_TARGET_NAME },
                { "portal-group-tag", required_argument, NULL, ARG_PORTAL_GROUP_TAG },
                { "username", required_argument, NULL, ARG_USERNAME },
                { "mutual-username", required_argument, NULL, ARG_MUTUAL_USERNAME },
                { "secret-file", required_argument, NULL, ARG_SECRET_FILE },
                { "mutual-secret-file", required_argument, NULL, ARG_MUTUAL_SECRET_FILE },
                { "local", required_argument, NULL, ARG_LOCAL },
                { "remote", required_argument, NULL, ARG_REMOTE },
                { "inactive", no_argument, NULL, ARG_INACTIVE },
                { "delete-on-unassociated", optional_argument, NULL, ARG_DELETE_ON_UNASSOCIATED },
                { "active", required_argument, NULL, ARG_ACTIVE },
                {}
        };
        int c, r;

        /* getopt's own messages name the problem but not the way out; ours say --help. */
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":hH:", options, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("iscsi-replctl %s\n", PACKAGE_VERSION);
                        return 0;
                case ARG_SYSTEM:
                        if (optarg) {
                                arg_member_system = optarg;
                                arg_given |= OPT_MEMBER_SYSTEM;
                        } else
                                arg_bus = BUS_SYSTEM;
                        break;
                case ARG_SESSION:
                        arg_bus = BUS_SESSION;
                        break;
                case ARG_ADDRESS:
                        arg_bus = BUS_ADDRESS;
                        arg_address = optarg;
                        break;
                case 'H':
                        arg_bus = BUS_REMOTE;
                        arg_host = optarg;
                        break;
                case ARG_JSON:
                        arg_json = true;
                        arg_given |= OPT_JSON;
                        break;
                case ARG_NO_LEGEND:
                        arg_legend = false;
                        break;
                case ARG_NO_PAGER:
                        arg_pager = false;
                        break;
                case ARG_NO_ASK_PASSWORD:
                        arg_ask_password = false;
                        break;
                case ARG_NO_WAIT:
                        arg_wait = false;
                        break;
                case ARG_ELEMENT_NAME:
                        arg_element_name = optarg;
                        arg_given |= OPT_ELEMENT_NAME;
                        break;
                case ARG_TARGET_NAME:
                        arg_target_name = optarg;
                        arg_given |= OPT_TARGET_NAME;
                        break;
                case ARG_PORTAL_GROUP_TAG: {
                        char *end;
                        unsigned long v;

                        errno = 0;
                        v = strtoul(optarg, &end, 10);
                        if (errno != 0 || end == optarg || *end != 0 || v > UINT16_MAX || optarg[0] == '-') {
                                fprintf(stderr, "Invalid portal group tag \"%s\" (expected 0…65535).\n", optarg);
                                return -EXIT_INVALID;
                        }
                        arg_portal_group_tag = (uint16_t) v;
                        arg_given |= OPT_PORTAL_GROUP_TAG;
                        break;
                }
                case ARG_USERNAME:
                        arg_username = optarg;
                        arg_given |= OPT_USERNAME;
                        break;
                case ARG_MUTUAL_USERNAME:
                        arg_mutual_username = optarg;
                        arg_given |= OPT_MUTUAL_USERNAME;
                        break;
                case ARG_SECRET_FILE:
                        arg_secret_file = optarg;
                        arg_given |= OPT_SECRET_FILE;
                        break;
                case ARG_MUTUAL_SECRET_FILE:
                        arg_mutual_secret_file = optarg;
                        arg_given |= OPT_MUTUAL_SECRET_FILE;
                        break;
                case ARG_LOCAL:
                        if (strv_extend(&arg_local, optarg) < 0)
                                return -EXIT_GENERIC;
                        arg_given |= OPT_LOCAL;
                        break;
                case ARG_REMOTE:
                        if (strv_extend(&arg_remote, optarg) < 0)
                                return -EXIT_GENERIC;
                        arg_given |= OPT_REMOTE;
                        break;
                case ARG_INACTIVE:
                        arg_given |= OPT_INACTIVE;
                        break;
                case ARG_DELETE_ON_UNASSOCIATED:
                        r = optarg ? parse_yes_no(optarg, "--delete-on-unassociated") : 1;
                        if (r < 0)
                                return -EXIT_INVALID;
                        arg_delete_on_unassociated = r;
                        arg_given |= OPT_DELETE_ON_UNASSOCIATED;
                        break;
                case ARG_ACTIVE:
                        r = parse_yes_no(optarg, "--active");
                        if (r < 0)
                                return -EXIT_INVALID;
                        arg_active = r;
                        arg_given |= OPT_ACTIVE;
                        break;
                case '?':
                case ':':
                        report_bad_option(c, argv[optind - 1]);
                        return -EXIT_INVALID;
                default:
                        return -EXIT_GENERIC;
                }
        }
        return 1;
}

/* The names of options given that verb does not take, for the error message. */
static void report_foreign_options(const Verb *verb, unsigned foreign) {
        static const struct {
                unsigned bit;
                const char *name;
        } names[] = {
                { OPT_ELEMENT_NAME, "--element-name" },
                { OPT_TARGET_NAME, "--target-name" },
                { OPT_PORTAL_GROUP_TAG, "--portal-group-tag" },
                { OPT_USERNAME, "--username" },
                { OPT_MUTUAL_USERNAME, "--mutual-username" },
                { OPT_SECRET_FILE, "--secret-file" },
                { OPT_MUTUAL_SECRET_FILE, "--mutual-secret-file" },
                { OPT_LOCAL, "--local" },
                { OPT_REMOTE, "--remote" },
                { OPT_MEMBER_SYSTEM, "--system=SYSTEM" },
                { OPT_INACTIVE, "--inactive" },
                { OPT_DELETE_ON_UNASSOCIATED, "--delete-on-unassociated" },
                { OPT_ACTIVE, "--active" },
                { OPT_JSON, "--json" },
        };

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (foreign & names[i].bit)
                        fprintf(stderr, "%s does not apply to %s.\n", names[i].name, verb->name);
}

int main(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_free_ char **args = NULL;
        _cleanup_strv_free_ char **made = NULL;
        const Verb *verb;
        size_t n_args;
        int r, status;

        args = rewrite_system_option(argc, argv, &made);
        if (!args) {
                fputs("Out of memory.\n", stderr);
                return EXIT_GENERIC;
        }
        r = parse_argv((int) strv_length(args), args);
        if (r <= 0) {
                status = -r;
                goto finish;
        }

        if (optind >= (int) strv_length(args)) {
                fputs("No command given; see --help.\n", stderr);
                status = EXIT_INVALID;
                goto finish;
        }
        verb = find_verb(args[optind]);
        if (!verb) {
                fprintf(stderr, "Unknown command \"%s\"; see --help.\n", args[optind]);
                status = EXIT_INVALID;
                goto finish;
        }
        n_args = strv_length(args) - (size_t) optind - 1;
        if (n_args < verb->min_args || n_args > verb->max_args) {
                fprintf(stderr, "%s takes %s%zu argument%s; see --help.\n", verb->name,
                        n_args < verb->min_args ? "" : "at most ", n_args < verb->min_args ? verb->min_args : verb->max_args,
                        (n_args < verb->min_args ? verb->min_args : verb->max_args) == 1 ? "" : "s");
                status = EXIT_INVALID;
                goto finish;
        }
        if (arg_given & ~verb->options) {
                report_foreign_options(verb, arg_given & ~verb->options);
                status = EXIT_INVALID;
                goto finish;
        }

        status = bus_connect(&(BusTarget) { .kind = arg_bus, .address = arg_address, .host = arg_host }, &bus);
        if (status != EXIT_OK)
                goto finish;
        status = verb->run(bus, args + optind + 1, n_args);

finish:
        arg_local = strv_free(arg_local);
        arg_remote = strv_free(arg_remote);
        return status;
}
