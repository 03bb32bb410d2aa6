/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* iscsi-replctl: the commands that read (status, lists, show, job) and how they print. */

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

/* ------------------------------------------------------------------------ */
/* output helpers */

char *format_timestamp(uint64_t usec) {
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
        _cleanup_(strv_builder_clear) StrvBuilder names = STRV_BUILDER_INIT;

        for (size_t i = 0; i < value_array_length(paths); i++) {
                const char *p = value_array_string(paths, i);
                const Object *o = p ? object_list_find(l, p) : NULL;
                const char *name = systems ? system_label(l, p) : (o && *object_display_name(o) ? object_display_name(o) : p);

                if (name && strv_builder_extend(&names, name) < 0)
                        return NULL;
        }
        return names.n > 0 ? strv_join(names.l, ",") : NULL;
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

int verb_status(sd_bus *bus, char **args, size_t n_args) {
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
        print_field_take(f, 20, "Volumes", format_count(object_list_count(&l, OBJECT_VOLUME), NULL, 0));
        print_field_take(f, 20, "Replicas", format_count(object_list_count(&l, OBJECT_SYNCHRONIZATION), NULL, 0));
        print_field_take(f, 20, "Jobs", format_count(object_list_count(&l, OBJECT_JOB), "running", running));
        return finish_output(&out, NULL);
}

/* A cell for a string property: "-" when empty. */
const char *cell(const Object *o, const char *name) {
        const char *s = property_list_get_string(&o->props, name);

        return s && *s ? s : "-";
}

int list_objects(sd_bus *bus, ObjectKind kind, size_t n_columns, const char *const *headers, RowFunction row) {
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

int verb_list_systems(sd_bus *bus, char **args, size_t n_args) {
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

int verb_list_access_points(sd_bus *bus, char **args, size_t n_args) {
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

int verb_list_collections(sd_bus *bus, char **args, size_t n_args) {
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

int verb_list_jobs(sd_bus *bus, char **args, size_t n_args) {
        static const char *const headers[] = { "PATH", "NAME", "STATE", "PERCENT", "STATUS" };

        return list_objects(bus, OBJECT_JOB, ELEMENTSOF(headers), headers, job_row);
}

int verb_show(sd_bus *bus, char **args, size_t n_args) {
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

int verb_job(sd_bus *bus, char **args, size_t n_args) {
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
