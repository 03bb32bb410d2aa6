/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What the files of iscsi-replctl share: the options as parsed (arg_*,
 * set in iscsi-replctl.c only), the calls and name resolution every command
 * uses (cli-calls.c), and the commands themselves (verbs-read.c,
 * verbs-change.c, verbs-replica.c), which the command line dispatches to.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "bus-connect.h"
#include "objects.h"
#include "table.h"

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
        OPT_LUN = 1u << 14,
        OPT_SYNC_TYPE = 1u << 15,       /* --mirror or --clone */
        OPT_SOURCE = 1u << 16,
        OPT_TARGET = 1u << 17,
        OPT_COLLECTION = 1u << 18,
        OPT_INTERVAL = 1u << 19,
        OPT_BANDWIDTH = 1u << 20,
        OPT_CHUNK_SIZE = 1u << 21,
};

/* CIM values of CreateElementReplica and ModifyReplicaSynchronization (API.md section 10). */
#define SYNC_TYPE_MIRROR 6
#define SYNC_TYPE_CLONE 8
#define SYNC_MODE_ASYNCHRONOUS 3
#define SYNC_OPERATION_DETACH 8
#define SYNC_OPERATION_RESYNC 14
#define SYNC_OPERATION_RESUME 16
#define SYNC_OPERATION_SUSPEND 22

extern BusKind arg_bus;
extern const char *arg_address;
extern const char *arg_host;
extern bool arg_json;
extern bool arg_legend;
extern bool arg_pager;
extern bool arg_ask_password;
extern bool arg_wait;
extern unsigned arg_given;
extern const char *arg_element_name;
extern const char *arg_target_name;
extern uint16_t arg_portal_group_tag;
extern const char *arg_username;
extern const char *arg_mutual_username;
extern const char *arg_secret_file;
extern const char *arg_mutual_secret_file;
extern char **arg_local;
extern char **arg_remote;
extern const char *arg_member_system;
extern int arg_active;
extern int arg_delete_on_unassociated;
extern uint16_t arg_lun;
extern uint16_t arg_sync_type;
extern const char *arg_source;
extern const char *arg_target;
extern const char *arg_collection;
extern uint64_t arg_interval;
extern uint64_t arg_bandwidth;
extern uint32_t arg_chunk_size;

/* Resolves --local, --remote and --system into the three member arguments. */
typedef struct Members {
        const char **local;
        const char **remote;
        size_t n_local, n_remote;
        const char *system;
} Members;

/* ---- the command line ---- */

void print_help(void);          /* help.c */

/* ---- calls and name resolution (cli-calls.c) ---- */

int call_authorized(sd_bus *bus, sd_bus_message *m, const char *what, sd_bus_message **ret_reply);
int new_call(sd_bus *bus, sd_bus_message **ret, const char *path, const char *interface, const char *member);
int append_failed(int r);
int call_with_job(sd_bus *bus, sd_bus_message *m, const char *what, sd_bus_message **ret_reply, char ***ret_affected);
int call_print_created(sd_bus *bus, sd_bus_message *m, const char *what);
int call_with_job_following(sd_bus *bus, sd_bus_message *m, const char *what, const char *follow, char **ret_created,
                            sd_bus_message **ret_reply, char ***ret_affected);
int fetch_objects(sd_bus *bus, ObjectList *ret);
int fetch_properties(sd_bus *bus, const char *path, const char *interface, PropertyList *ret);
int resolve(const ObjectList *l, unsigned kinds, const char *name, ObjectFilter filter, const void *userdata, const char **ret_path);
int fetch_and_resolve(sd_bus *bus, ObjectList *l, unsigned kinds, const char *name, const char **ret_path);
void members_done(Members *m);
int resolve_members(const ObjectList *l, Members *ret);
int append_members(sd_bus_message *m, const Members *members);

/* ---- output shared by the commands (verbs-read.c) ---- */

/* A timestamp as local time, "-" for 0; NULL when out of memory. */
char *format_timestamp(uint64_t usec);
/* A table cell for a string property: "-" when empty. */
const char *cell(const Object *o, const char *name);
/* Adds one object's row to the table; -ENOMEM. */
typedef int (*RowFunction)(Table *t, const ObjectList *l, const Object *o);
/* list-*: the objects of kind as a table (or JSON with --json). Returns an exit status. */
int list_objects(sd_bus *bus, ObjectKind kind, size_t n_columns, const char *const *headers, RowFunction row);

/* ---- commands: (bus, arguments after the command, their number) → exit status ---- */

int verb_status(sd_bus *bus, char **args, size_t n_args);
int verb_list_systems(sd_bus *bus, char **args, size_t n_args);
int verb_list_access_points(sd_bus *bus, char **args, size_t n_args);
int verb_list_collections(sd_bus *bus, char **args, size_t n_args);
int verb_list_jobs(sd_bus *bus, char **args, size_t n_args);
int verb_show(sd_bus *bus, char **args, size_t n_args);
int verb_job(sd_bus *bus, char **args, size_t n_args);
int verb_add_peer(sd_bus *bus, char **args, size_t n_args);
int verb_add_access_point(sd_bus *bus, char **args, size_t n_args);
int verb_add_secret(sd_bus *bus, char **args, size_t n_args);
int verb_create_collection(sd_bus *bus, char **args, size_t n_args);
int verb_add(sd_bus *bus, char **args, size_t n_args);
int verb_remove(sd_bus *bus, char **args, size_t n_args);
int verb_modify(sd_bus *bus, char **args, size_t n_args);
int verb_delete(sd_bus *bus, char **args, size_t n_args);
int verb_verify(sd_bus *bus, char **args, size_t n_args);
int verb_probe_peers(sd_bus *bus, char **args, size_t n_args);
int verb_cancel(sd_bus *bus, char **args, size_t n_args);
int verb_wait(sd_bus *bus, char **args, size_t n_args);
int verb_list_volumes(sd_bus *bus, char **args, size_t n_args);
int verb_list_replicas(sd_bus *bus, char **args, size_t n_args);
int verb_add_volume(sd_bus *bus, char **args, size_t n_args);
int verb_create_replica(sd_bus *bus, char **args, size_t n_args);
int verb_suspend(sd_bus *bus, char **args, size_t n_args);
int verb_resume(sd_bus *bus, char **args, size_t n_args);
int verb_resync(sd_bus *bus, char **args, size_t n_args);
int verb_detach(sd_bus *bus, char **args, size_t n_args);
int verb_compare(sd_bus *bus, char **args, size_t n_args);
/* modify on a synchronization (verb_modify hands over after resolving the name). */
int modify_synchronization(sd_bus *bus, const char *path);
