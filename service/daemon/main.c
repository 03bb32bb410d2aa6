/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* iscsi-replicationd: command line, then the manager. */

#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "config.h"
#include "daemon/manager.h"
#include "util/log.h"
#include "util/strutil.h"

#define LARGE_BLOCK_SIZE (1024 * 1024)

static void help(void) {
        printf("Usage: iscsi-replicationd [OPTIONS]\n\n"
               "Remote replication connectivity for iSCSI portals, on D-Bus as org.iscsi.ReplicationService.\n\n"
               "  -h --help                          Show this help\n"
               "     --version                       Show the version\n"
               "     --system                        Serve on the system bus (default)\n"
               "     --session                       Serve on the session bus\n"
               "     --address=ADDRESS               Serve on the bus at ADDRESS\n"
               "     --state-directory=DIR           Keep state in DIR (default: $STATE_DIRECTORY or %s)\n"
               "     --exit-on-idle=SECONDS          Exit after SECONDS without calls or jobs (0: never)\n"
               "     --probe-timeout=SECONDS         Deadline of one verification probe (default 10)\n"
               "     --verify-access-points=BOOL     Verify new remote access points with a job (default yes)\n"
               "     --initiator-name=IQN            iSCSI initiator name used when connecting out\n"
               "     --job-time-before-removal=SECONDS  How long finished jobs stay (default 300)\n"
               "     --max-finished-jobs=N           Finished jobs kept at most (default 1024)\n"
               "     --max-running-jobs=N            Running jobs at most (default 64)\n"
               "     --max-running-jobs-per-user=N   Running jobs per user at most (default 16)\n"
               "     --max-array-entries=N           Entries in one array argument at most (default 1024)\n"
               "     --max-peer-systems=N            Peer systems at most (default 2000)\n"
               "     --max-access-points=N           Access points at most, local and remote (default 20000)\n"
               "     --max-collections=N             Collections at most (default 2000)\n"
               "     --max-collection-members=N      Members of one collection at most (default 4096)\n"
               "     --max-volumes=N                 Storage volumes at most (default 1000)\n"
               "     --max-synchronizations=N        Synchronizations at most (default 256)\n"
               "     --max-running-cycles=N          Replica cycles running at once at most (default 8)\n"
               "     --max-message-size=BYTES        The bus's message limit; larger replies fail (default 33554432)\n"
               "     --log-level=LEVEL               err, warning, notice, info or debug (default info)\n",
               DEFAULT_STATE_DIRECTORY);
}

static int parse_seconds(const char *s, uint64_t *ret) {
        char *end;
        double d;

        errno = 0;
        d = strtod(s, &end);
        if (errno != 0 || end == s || *end != 0 || !isfinite(d) || d < 0 || d > 1e9)
                return -EINVAL;
        *ret = (uint64_t) (d * (double) USEC_PER_SEC + 0.5);
        return 0;
}

static int parse_size(const char *s, size_t *ret) {
        char *end;
        unsigned long long v;

        /* strtoull() skips blanks and takes a sign, so " -1" would wrap to a huge limit. */
        if (!(s[0] >= '0' && s[0] <= '9'))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0 || *end != 0)
                return -EINVAL;
        *ret = (size_t) v;
        return 0;
}

static int parse_bool(const char *s, bool *ret) {
        if (!strcmp(s, "yes") || !strcmp(s, "true") || !strcmp(s, "1") || !strcmp(s, "on"))
                *ret = true;
        else if (!strcmp(s, "no") || !strcmp(s, "false") || !strcmp(s, "0") || !strcmp(s, "off"))
                *ret = false;
        else
                return -EINVAL;
        return 0;
}

static int parse_log_level(const char *s) {
        static const char * const names[] = {
                [LOG_ERR] = "err", [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
                [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
        };

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (names[i] && strcmp(names[i], s) == 0)
                        return (int) i;
        return -EINVAL;
}

enum {
        ARG_VERSION = 0x100,
        ARG_SYSTEM,
        ARG_SESSION,
        ARG_ADDRESS,
        ARG_STATE_DIRECTORY,
        ARG_EXIT_ON_IDLE,
        ARG_PROBE_TIMEOUT,
        ARG_VERIFY,
        ARG_INITIATOR_NAME,
        ARG_TIME_BEFORE_REMOVAL,
        ARG_MAX_FINISHED,
        ARG_MAX_RUNNING,
        ARG_MAX_RUNNING_PER_USER,
        ARG_MAX_ARRAY,
        ARG_MAX_PEERS,
        ARG_MAX_ACCESS_POINTS,
        ARG_MAX_COLLECTIONS,
        ARG_MAX_MEMBERS,
        ARG_MAX_MESSAGE_SIZE,
        ARG_MAX_VOLUMES,
        ARG_MAX_SYNCHRONIZATIONS,
        ARG_MAX_RUNNING_CYCLES,
        ARG_LOG_LEVEL,
};

static int parse_argv(int argc, char *argv[], ManagerOptions *o) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "system", no_argument, NULL, ARG_SYSTEM },
                { "session", no_argument, NULL, ARG_SESSION },
                { "address", required_argument, NULL, ARG_ADDRESS },
                { "state-directory", required_argument, NULL, ARG_STATE_DIRECTORY },
                { "exit-on-idle", required_argument, NULL, ARG_EXIT_ON_IDLE },
                { "probe-timeout", required_argument, NULL, ARG_PROBE_TIMEOUT },
                { "verify-access-points", required_argument, NULL, ARG_VERIFY },
                { "initiator-name", required_argument, NULL, ARG_INITIATOR_NAME },
                { "job-time-before-removal", required_argument, NULL, ARG_TIME_BEFORE_REMOVAL },
                { "max-finished-jobs", required_argument, NULL, ARG_MAX_FINISHED },
                { "max-running-jobs", required_argument, NULL, ARG_MAX_RUNNING },
                { "max-running-jobs-per-user", required_argument, NULL, ARG_MAX_RUNNING_PER_USER },
                { "max-array-entries", required_argument, NULL, ARG_MAX_ARRAY },
                { "max-peer-systems", required_argument, NULL, ARG_MAX_PEERS },
                { "max-access-points", required_argument, NULL, ARG_MAX_ACCESS_POINTS },
                { "max-collections", required_argument, NULL, ARG_MAX_COLLECTIONS },
                { "max-collection-members", required_argument, NULL, ARG_MAX_MEMBERS },
                { "max-message-size", required_argument, NULL, ARG_MAX_MESSAGE_SIZE },
                { "max-volumes", required_argument, NULL, ARG_MAX_VOLUMES },
                { "max-synchronizations", required_argument, NULL, ARG_MAX_SYNCHRONIZATIONS },
                { "max-running-cycles", required_argument, NULL, ARG_MAX_RUNNING_CYCLES },
                { "log-level", required_argument, NULL, ARG_LOG_LEVEL },
                {}
        };
        int c, r = 0;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("iscsi-replicationd %s\n", PACKAGE_VERSION);
                        return 0;
                case ARG_SYSTEM:
                        o->bus_kind = BUS_KIND_SYSTEM;
                        break;
                case ARG_SESSION:
                        o->bus_kind = BUS_KIND_SESSION;
                        break;
                case ARG_ADDRESS:
                        o->bus_kind = BUS_KIND_ADDRESS;
                        o->bus_address = optarg;
                        break;
                case ARG_STATE_DIRECTORY:
                        o->state_directory = optarg;
                        break;
                case ARG_EXIT_ON_IDLE:
                        r = parse_seconds(optarg, &o->exit_on_idle_usec);
                        break;
                case ARG_PROBE_TIMEOUT:
                        r = parse_seconds(optarg, &o->config.probe_timeout_usec);
                        if (r >= 0 && o->config.probe_timeout_usec == 0)
                                r = -EINVAL;
                        break;
                case ARG_VERIFY:
                        r = parse_bool(optarg, &o->config.verify_access_points);
                        break;
                case ARG_INITIATOR_NAME:
                        o->initiator_name = optarg;
                        break;
                case ARG_TIME_BEFORE_REMOVAL:
                        r = parse_seconds(optarg, &o->config.job_time_before_removal_usec);
                        break;
                case ARG_MAX_FINISHED:
                        r = parse_size(optarg, &o->config.max_finished_jobs);
                        break;
                case ARG_MAX_RUNNING:
                        r = parse_size(optarg, &o->config.max_running_jobs);
                        break;
                case ARG_MAX_RUNNING_PER_USER:
                        r = parse_size(optarg, &o->config.max_running_jobs_per_user);
                        break;
                case ARG_MAX_ARRAY:
                        r = parse_size(optarg, &o->config.max_array_entries);
                        break;
                case ARG_MAX_PEERS:
                        r = parse_size(optarg, &o->config.max_peer_systems);
                        break;
                case ARG_MAX_ACCESS_POINTS:
                        r = parse_size(optarg, &o->config.max_access_points);
                        break;
                case ARG_MAX_COLLECTIONS:
                        r = parse_size(optarg, &o->config.max_collections);
                        break;
                case ARG_MAX_MEMBERS:
                        r = parse_size(optarg, &o->config.max_collection_members);
                        break;
                case ARG_MAX_MESSAGE_SIZE:
                        r = parse_size(optarg, &o->config.max_message_size);
                        break;
                case ARG_MAX_VOLUMES:
                        r = parse_size(optarg, &o->config.max_volumes);
                        break;
                case ARG_MAX_SYNCHRONIZATIONS:
                        r = parse_size(optarg, &o->config.max_synchronizations);
                        break;
                case ARG_MAX_RUNNING_CYCLES:
                        r = parse_size(optarg, &o->config.max_running_cycles);
                        break;
                case ARG_LOG_LEVEL:
                        r = parse_log_level(optarg);
                        if (r >= 0) {
                                log_set_max_level(r);
                                r = 0;
                        }
                        break;
                default:
                        return -EINVAL;
                }
                if (r < 0) {
                        log_error("Invalid value for --%s: %s", options[c - ARG_VERSION + 1].name, optarg);
                        return -EINVAL;
                }
        }
        if (optind < argc) {
                log_error("Unexpected argument: %s", argv[optind]);
                return -EINVAL;
        }
        return 1;
}

#ifdef IRD_STORE_FAULT_VARIABLE
/*
 * Compiled only into the daemon built for the integration tests
 * (tests/integration/meson.build): arms the store fault that variable names,
 * e.g. "commit:1", once the daemon is up, so the count starts with the first
 * call it serves. The installed daemon has no such code.
 */
static int arm_store_fault(Manager *m) {
        const char *spec = getenv(IRD_STORE_FAULT_VARIABLE);
        StoreFault kind;
        unsigned nth;
        int r;

        if (isempty(spec))
                return 0;
        r = store_fault_parse(spec, &kind, &nth);
        if (r >= 0)
                r = store_fault_arm(m->engine->store, kind, nth);
        if (r < 0)
                return log_error_errno(r, "Failed to arm the store fault %s=%s", IRD_STORE_FAULT_VARIABLE, spec);
        log_info("Store fault %s armed.", spec);
        return 0;
}
#endif

int main(int argc, char *argv[]) {
        ManagerOptions o = {
                .bus_kind = BUS_KIND_SYSTEM,
                .config = SERVICE_CONFIG_INIT,
        };
        Manager *m = NULL;
        sigset_t mask;
        int r;

        r = parse_argv(argc, argv, &o);
        if (r <= 0)
                return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
        if (!o.state_directory) {
                const char *e = getenv("STATE_DIRECTORY");

                /* systemd may list several directories separated by ':'; the first is ours. */
                o.state_directory = !isempty(e) ? strndupa(e, strcspn(e, ":")) : DEFAULT_STATE_DIRECTORY;
        }

        /*
         * Blocks from 1 MiB up (a GetManagedObjects reply runs to megabytes)
         * are mapped and unmapped. glibc's default would raise this threshold
         * to the largest block freed, after which each large reply is built
         * in the heap and stays resident when the reply is gone.
         */
        (void) mallopt(M_MMAP_THRESHOLD, LARGE_BLOCK_SIZE);

        /* CHAP secrets live in this process's memory: no core dumps, no ptrace by the same user. */
        (void) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

        /* Signals are handled by the event loop; block them before any thread could see them. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_IGN);

        r = manager_new(&o, &m);
        if (r < 0)
                return EXIT_FAILURE;
#ifdef IRD_STORE_FAULT_VARIABLE
        if (arm_store_fault(m) < 0) {
                manager_free(m);
                return EXIT_FAILURE;
        }
#endif
        r = manager_run(m);
        manager_free(m);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
