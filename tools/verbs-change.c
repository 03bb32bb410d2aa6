/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* iscsi-replctl: the commands that change something or follow a job. */

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
/* changing verbs */

static int append_string_entry(sd_bus_message *m, const char *key, const char *value) {
        return sd_bus_message_append(m, "{sv}", key, "s", value);
}

int verb_add_peer(sd_bus *bus, char **args, size_t n_args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
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
        return call_print_created(bus, m, "add the peer system");
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

int verb_add_access_point(sd_bus *bus, char **args, size_t n_args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
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
        status = fetch_and_resolve(bus, &l, KIND_MASK(OBJECT_SYSTEM), args[0], &system);
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
        return call_print_created(bus, m, "add the access point");
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

int verb_add_secret(sd_bus *bus, char **args, size_t n_args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
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
                status = fetch_and_resolve(bus, &l, KIND_MASK(OBJECT_ACCESS_POINT), args[0], &access_point);
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
        return call_print_created(bus, m, "add the shared secret");
}

int verb_create_collection(sd_bus *bus, char **args, size_t n_args) {
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
        status = fetch_and_resolve(bus, &l, KIND_MASK(OBJECT_COLLECTION), args[0], &collection);
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

int verb_add(sd_bus *bus, char **args, size_t n_args) {
        return change_members(bus, args, "AddToRemoteReplicationCollection", "add to the collection");
}

int verb_remove(sd_bus *bus, char **args, size_t n_args) {
        return change_members(bus, args, "RemoveFromRemoteReplicationCollection", "remove from the collection");
}

int verb_modify(sd_bus *bus, char **args, size_t n_args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(object_list_clear) ObjectList l = {};
        const char *path;
        int r, status;

        if (!(arg_given & (OPT_ELEMENT_NAME | OPT_ACTIVE | OPT_DELETE_ON_UNASSOCIATED | OPT_BANDWIDTH | OPT_INTERVAL))) {
                fputs("Name a change: --element-name=, --active= or --delete-on-unassociated= (collections), "
                      "--element-name=, --bandwidth= or --interval= (replicas).\n", stderr);
                return EXIT_INVALID;
        }
        status = fetch_and_resolve(bus, &l, KIND_MASK(OBJECT_COLLECTION) | KIND_MASK(OBJECT_SYNCHRONIZATION), args[0],
                                   &path);
        if (status != EXIT_OK)
                return status;
        if (object_list_find(&l, path)->kind == OBJECT_SYNCHRONIZATION)
                return modify_synchronization(bus, path);
        if (arg_given & (OPT_BANDWIDTH | OPT_INTERVAL)) {
                fputs("--bandwidth and --interval apply to replicas, not to collections.\n", stderr);
                return EXIT_INVALID;
        }

        status = new_call(bus, &m, path, COLLECTION_INTERFACE, "Modify");
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

int verb_delete(sd_bus *bus, char **args, size_t n_args) {
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
        if (o->kind == OBJECT_SYNCHRONIZATION) {
                fprintf(stderr, "A replica is not deleted but detached: iscsi-replctl detach %s\n", o->path);
                return EXIT_INVALID;
        }
        if (asprintf(&what, "delete %s", o->path) < 0)
                return report_bus_error("delete", NULL, -ENOMEM);
        status = new_call(bus, &m, o->path, object_kind_interface(o->kind), "Delete");
        if (status != EXIT_OK)
                return status;
        return call_authorized(bus, m, what, &reply);
}

int verb_verify(sd_bus *bus, char **args, size_t n_args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(object_list_clear) ObjectList l = {};
        const char *access_point;
        int status;

        status = fetch_and_resolve(bus, &l, KIND_MASK(OBJECT_ACCESS_POINT), args[0], &access_point);
        if (status != EXIT_OK)
                return status;
        status = new_call(bus, &m, access_point, ACCESS_POINT_INTERFACE, "Verify");
        if (status != EXIT_OK)
                return status;
        return call_with_job(bus, m, "verify the access point", &reply, NULL);
}

int verb_probe_peers(sd_bus *bus, char **args, size_t n_args) {
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

        status = fetch_and_resolve(bus, &l, KIND_MASK(OBJECT_JOB), name, &path);
        if (status != EXIT_OK)
                return status;
        *ret_path = strdup(path);
        return *ret_path ? EXIT_OK : report_bus_error("resolve the job", NULL, -ENOMEM);
}

int verb_cancel(sd_bus *bus, char **args, size_t n_args) {
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

int verb_wait(sd_bus *bus, char **args, size_t n_args) {
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
