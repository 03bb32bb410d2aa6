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
#include "cli.h"
#include "job-watch.h"
#include "json-writer.h"
#include "objects.h"
#include "pager.h"
#include "polkit-agent.h"
#include "replctl.h"
#include "table.h"
#include "terminal.h"
#include "units.h"
#include "util/strutil.h"

/* The options as parsed; cli.h declares them for the commands. */
BusKind arg_bus = BUS_SYSTEM;
const char *arg_address;
const char *arg_host;
bool arg_json;
bool arg_legend = true;
bool arg_pager = true;
bool arg_ask_password = true;
bool arg_wait = true;
unsigned arg_given;
const char *arg_element_name;
const char *arg_target_name;
uint16_t arg_portal_group_tag;
const char *arg_username;
const char *arg_mutual_username;
const char *arg_secret_file;
const char *arg_mutual_secret_file;
char **arg_local;
char **arg_remote;
const char *arg_member_system;
int arg_active = -1;
int arg_delete_on_unassociated = -1;
uint16_t arg_lun;
uint16_t arg_sync_type;
const char *arg_source;
const char *arg_target;
const char *arg_collection;
uint64_t arg_interval;
uint64_t arg_bandwidth;
uint32_t arg_chunk_size;

typedef int (*VerbFunction)(sd_bus *bus, char **args, size_t n_args);

typedef struct Verb {
        const char *name;
        size_t min_args, max_args;
        unsigned options;
        VerbFunction run;
} Verb;

/* ------------------------------------------------------------------------ */
/* command line */

static const Verb verbs[] = {
        { "status", 0, 0, OPT_JSON, verb_status },
        { "list-systems", 0, 0, OPT_JSON, verb_list_systems },
        { "list-access-points", 0, 0, OPT_JSON, verb_list_access_points },
        { "list-collections", 0, 0, OPT_JSON, verb_list_collections },
        { "list-jobs", 0, 0, OPT_JSON, verb_list_jobs },
        { "list-volumes", 0, 0, OPT_JSON, verb_list_volumes },
        { "list-replicas", 0, 0, OPT_JSON, verb_list_replicas },
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
        { "modify", 1, 1, OPT_ELEMENT_NAME | OPT_ACTIVE | OPT_DELETE_ON_UNASSOCIATED | OPT_BANDWIDTH | OPT_INTERVAL,
          verb_modify },
        { "delete", 1, 1, 0, verb_delete },
        { "verify", 1, 1, 0, verb_verify },
        { "probe-peers", 0, 0, 0, verb_probe_peers },
        { "cancel", 1, 1, 0, verb_cancel },
        { "wait", 1, 1, 0, verb_wait },
        { "add-volume", 1, 1, OPT_LUN | OPT_TARGET_NAME | OPT_ELEMENT_NAME, verb_add_volume },
        { "create-replica", 1, 1,
          OPT_SYNC_TYPE | OPT_SOURCE | OPT_TARGET | OPT_COLLECTION | OPT_INTERVAL | OPT_BANDWIDTH | OPT_CHUNK_SIZE,
          verb_create_replica },
        { "suspend", 1, 1, 0, verb_suspend },
        { "resume", 1, 1, 0, verb_resume },
        { "resync", 1, 1, 0, verb_resync },
        { "detach", 1, 1, 0, verb_detach },
        { "compare", 1, 1, 0, verb_compare },
};

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
        ARG_LUN,
        ARG_MIRROR,
        ARG_CLONE,
        ARG_SOURCE,
        ARG_TARGET,
        ARG_COLLECTION,
        ARG_INTERVAL,
        ARG_BANDWIDTH,
        ARG_CHUNK_SIZE,
};

/* Options whose value may follow as the next argument; the verb finder must skip that value. */
static bool option_takes_separate_value(const char *arg) {
        static const char *const with_value[] = {
                "--address", "--host", "-H", "--element-name", "--target-name", "--portal-group-tag",
                "--username", "--mutual-username", "--secret-file", "--mutual-secret-file",
                "--local", "--remote", "--active", "--lun", "--source", "--target", "--collection", "--interval",
                "--bandwidth", "--chunk-size",
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

static int parse_u16(const char *s, const char *what, uint16_t *ret) {
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno != 0 || end == s || *end != 0 || v > UINT16_MAX || s[0] == '-' || s[0] == '+') {
                fprintf(stderr, "Invalid %s \"%s\" (expected 0…65535).\n", what, s);
                return -EINVAL;
        }
        *ret = (uint16_t) v;
        return 0;
}

static int parse_size_option(const char *s, const char *option, uint64_t max, uint64_t *ret) {
        int r = parse_size(s, ret);

        if (r == 0 && *ret > max)
                r = -ERANGE;
        if (r < 0)
                fprintf(stderr, "Invalid value for %s: \"%s\" (%s).\n", option, s,
                        r == -ERANGE ? "too large" : "expected a number of bytes, or with K, M, G or T");
        return r;
}

/* The options of the volume and replica verbs; c is in ARG_LUN…ARG_CHUNK_SIZE. */
static int parse_replica_option(int c, const char *value) {
        static const unsigned bits[] = {
                [ARG_LUN - ARG_LUN] = OPT_LUN, [ARG_MIRROR - ARG_LUN] = OPT_SYNC_TYPE,
                [ARG_CLONE - ARG_LUN] = OPT_SYNC_TYPE, [ARG_SOURCE - ARG_LUN] = OPT_SOURCE,
                [ARG_TARGET - ARG_LUN] = OPT_TARGET, [ARG_COLLECTION - ARG_LUN] = OPT_COLLECTION,
                [ARG_INTERVAL - ARG_LUN] = OPT_INTERVAL, [ARG_BANDWIDTH - ARG_LUN] = OPT_BANDWIDTH,
                [ARG_CHUNK_SIZE - ARG_LUN] = OPT_CHUNK_SIZE,
        };
        uint64_t v;
        int r = 0;

        switch (c) {
        case ARG_LUN:
                r = parse_u16(value, "LUN", &arg_lun);
                break;
        case ARG_MIRROR:
        case ARG_CLONE: {
                uint16_t type = c == ARG_MIRROR ? SYNC_TYPE_MIRROR : SYNC_TYPE_CLONE;

                if (arg_sync_type != 0 && arg_sync_type != type) {
                        fputs("--mirror and --clone exclude each other.\n", stderr);
                        return -EINVAL;
                }
                arg_sync_type = type;
                break;
        }
        case ARG_SOURCE:
                arg_source = value;
                break;
        case ARG_TARGET:
                arg_target = value;
                break;
        case ARG_COLLECTION:
                arg_collection = value;
                break;
        case ARG_INTERVAL:
                r = parse_duration(value, &arg_interval);
                if (r < 0)
                        fprintf(stderr, "Invalid value for --interval: \"%s\" (%s).\n", value,
                                r == -ERANGE ? "too large" : "expected seconds, or a number with ms, s, min, h or d");
                break;
        case ARG_BANDWIDTH:
                r = parse_size_option(value, "--bandwidth", UINT64_MAX, &arg_bandwidth);
                break;
        case ARG_CHUNK_SIZE:
                r = parse_size_option(value, "--chunk-size", UINT32_MAX, &v);
                arg_chunk_size = (uint32_t) v;
                break;
        default:
                return -EINVAL;
        }
        if (r < 0)
                return r;
        arg_given |= bits[c - ARG_LUN];
        return 0;
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
                { "lun", required_argument, NULL, ARG_LUN },
                { "mirror", no_argument, NULL, ARG_MIRROR },
                { "clone", no_argument, NULL, ARG_CLONE },
                { "source", required_argument, NULL, ARG_SOURCE },
                { "target", required_argument, NULL, ARG_TARGET },
                { "collection", required_argument, NULL, ARG_COLLECTION },
                { "interval", required_argument, NULL, ARG_INTERVAL },
                { "bandwidth", required_argument, NULL, ARG_BANDWIDTH },
                { "chunk-size", required_argument, NULL, ARG_CHUNK_SIZE },
                {}
        };
        int c, r;

        /* getopt's own messages name the problem but not the way out; ours say --help. */
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":hH:", options, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        print_help();
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
                case ARG_PORTAL_GROUP_TAG:
                        if (parse_u16(optarg, "portal group tag", &arg_portal_group_tag) < 0)
                                return -EXIT_INVALID;
                        arg_given |= OPT_PORTAL_GROUP_TAG;
                        break;
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
                case ARG_LUN:
                case ARG_MIRROR:
                case ARG_CLONE:
                case ARG_SOURCE:
                case ARG_TARGET:
                case ARG_COLLECTION:
                case ARG_INTERVAL:
                case ARG_BANDWIDTH:
                case ARG_CHUNK_SIZE:
                        if (parse_replica_option(c, optarg) < 0)
                                return -EXIT_INVALID;
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
                { OPT_LUN, "--lun" },
                { OPT_SYNC_TYPE, "--mirror/--clone" },
                { OPT_SOURCE, "--source" },
                { OPT_TARGET, "--target" },
                { OPT_COLLECTION, "--collection" },
                { OPT_INTERVAL, "--interval" },
                { OPT_BANDWIDTH, "--bandwidth" },
                { OPT_CHUNK_SIZE, "--chunk-size" },
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
