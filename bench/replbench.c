/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The load client behind bench/run: drives org.iscsi.ReplicationService on
 * one bus connection with a given number of calls in flight and prints what
 * it measured as "key value" lines. It times; bench/run turns the numbers
 * into ratios. Not part of the test suite.
 *
 *   replbench ADDRESS ping N INFLIGHT
 *   replbench ADDRESS prepare                        bench peer, access points, 64 collections
 *   replbench ADDRESS toggle N INFLIGHT AP COLL...   AddTo/RemoveFrom of AP, one collection per slot
 *   replbench ADDRESS populate FROM TO INFLIGHT LOCAL_AP  peers FROM..TO-1, 9 access points and a
 *                                                    collection of 11 members each
 *   replbench ADDRESS gmo N                          GetManagedObjects N times, one after another
 *   replbench - fsync DIR N                          4 KiB pwrite + fdatasync N times in DIR
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-bus.h>

#define SERVICE "org.iscsi.ReplicationService"
#define ROOT "/org/iscsi/ReplicationService"
#define MAX_SLOTS 256
#define ACCESS_POINTS_PER_PEER 9

static uint64_t now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

static int compare_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

        return x < y ? -1 : x > y;
}

static uint64_t median(uint64_t *v, size_t n) {
        if (n == 0)
                return 0;
        qsort(v, n, sizeof(uint64_t), compare_u64);
        return v[n / 2];
}

static void die(const char *what, int r) {
        fprintf(stderr, "replbench: %s: %s\n", what, strerror(r < 0 ? -r : r));
        exit(EXIT_FAILURE);
}

static void die_reply(const char *what, sd_bus_message *reply, size_t in_flight) {
        const sd_bus_error *e = sd_bus_message_get_error(reply);

        fprintf(stderr, "replbench: %s failed: %s: %s (%zu in flight)\n", what, e ? e->name : "?", e ? e->message : "?",
                in_flight);
        exit(EXIT_FAILURE);
}

/* Calls in flight: each slot issues its next call when the previous one is answered. */
typedef struct Run Run;
typedef int (*issue_t)(Run *run, size_t slot);

struct Run {
        sd_bus *bus;
        issue_t issue;
        size_t total, issued, done, in_flight;
        size_t capacity;                /* calls at most (latencies' size) */
        uint64_t *latencies;            /* of the calls that count (record == true) */
        size_t n_latencies;
        uint64_t sent_at[MAX_SLOTS];
        bool record[MAX_SLOTS];
        /* per-workload state */
        char **paths;                   /* toggle: collections; populate: unused */
        size_t n_paths;
        const char *ap;
        unsigned phase[MAX_SLOTS];      /* toggle: 0 AddTo next, 1 RemoveFrom next */
        unsigned peer[MAX_SLOTS], step[MAX_SLOTS];
        char *peer_path[MAX_SLOTS];
        char *ap_paths[MAX_SLOTS][ACCESS_POINTS_PER_PEER];
        unsigned next_peer, end_peer;
        const char *local_ap;
};

static int on_reply(sd_bus_message *reply, void *userdata, sd_bus_error *error);
static Run *current_run;

static int run_call_async(Run *run, size_t slot, sd_bus_message *m, bool record) {
        int r;

        run->sent_at[slot] = now_usec();
        run->record[slot] = record;
        r = sd_bus_call_async(run->bus, NULL, m, on_reply, (void *) (uintptr_t) (slot + 1), UINT64_MAX);
        sd_bus_message_unref(m);
        if (r < 0)
                die("sending a call", r);
        run->issued++;
        run->in_flight++;
        return 0;
}

static void slot_after_reply(Run *run, size_t slot, sd_bus_message *reply);

static int on_reply(sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Run *run = current_run;
        size_t slot = (uintptr_t) userdata - 1;

        if (sd_bus_message_is_method_error(reply, NULL))
                die_reply(sd_bus_message_get_member(reply) ?: "a call", reply, run->in_flight);
        if (run->record[slot])
                run->latencies[run->n_latencies++] = now_usec() - run->sent_at[slot];
        run->in_flight--;
        run->done++;
        slot_after_reply(run, slot, reply);
        if (run->issued < run->total)
                run->issue(run, slot);
        return 0;
}

static double run_all(Run *run, size_t in_flight) {
        uint64_t start;
        int r;

        current_run = run;
        run->latencies = calloc((run->capacity ?: run->total) + 1, sizeof(uint64_t));
        if (!run->latencies)
                die("allocating", -ENOMEM);
        start = now_usec();
        for (size_t s = 0; s < in_flight && run->issued < run->total; s++)
                run->issue(run, s);
        while (run->in_flight > 0) {
                r = sd_bus_process(run->bus, NULL);
                if (r < 0)
                        die("processing the bus", r);
                if (r > 0)
                        continue;
                r = sd_bus_wait(run->bus, UINT64_MAX);
                if (r < 0)
                        die("waiting on the bus", r);
        }
        return (double) (now_usec() - start) / 1e6;
}

static sd_bus_message *new_call(sd_bus *bus, const char *path, const char *interface, const char *member) {
        sd_bus_message *m = NULL;
        int r = sd_bus_message_new_method_call(bus, &m, SERVICE, path, interface, member);

        if (r < 0)
                die("creating a call", r);
        return m;
}

/* ---- ping ---- */

static int issue_ping(Run *run, size_t slot) {
        return run_call_async(run, slot, new_call(run->bus, ROOT, "org.freedesktop.DBus.Peer", "Ping"), true);
}

/* ---- toggle: AddTo / RemoveFrom of one remote access point ---- */

static int issue_toggle(Run *run, size_t slot) {
        bool add = run->phase[slot] == 0;
        sd_bus_message *m = new_call(run->bus, ROOT, SERVICE,
                                     add ? "AddToRemoteReplicationCollection" : "RemoveFromRemoteReplicationCollection");
        int r;

        r = sd_bus_message_append(m, "aoaooo", 0, 1, run->ap, "/", run->paths[slot % run->n_paths]);
        if (r < 0)
                die("building a call", r);
        run->phase[slot] = !run->phase[slot];
        return run_call_async(run, slot, m, add);
}

/* ---- populate: a peer, its access points, a collection of them ---- */

static char *read_reply_path(sd_bus_message *reply) {
        const char *p;
        uint32_t rv;
        char *c;
        int r;

        r = sd_bus_message_read(reply, "uo", &rv, &p);
        if (r < 0)
                die("reading a reply", r);
        c = strdup(p);
        if (!c)
                die("allocating", -ENOMEM);
        return c;
}

static void append_properties(sd_bus_message *m, unsigned peer, unsigned k) {
        char address[32], target[96];
        int r;

        snprintf(address, sizeof(address), "127.64.%u.%u", peer / 250, peer % 250 + 1);
        snprintf(target, sizeof(target), "iqn.2026-11.org.example:peer%u.disk%u", peer, k);
        r = sd_bus_message_append(m, "a{sv}", 3, "Address", "s", address, "Port", "q", (uint16_t) (3260 + k),
                                  "TargetName", "s", target);
        if (r < 0)
                die("building a call", r);
}

static int issue_populate(Run *run, size_t slot) {
        unsigned step = run->step[slot], peer = run->peer[slot];
        sd_bus_message *m;
        int r = 0;

        if (step == 0) {
                char name[64];

                if (run->next_peer >= run->end_peer)
                        return 0;       /* every peer is started; this slot is done */
                peer = run->peer[slot] = run->next_peer++;
                snprintf(name, sizeof(name), "peer%u.bench.example", peer);
                m = new_call(run->bus, ROOT, SERVICE, "AddPeerSystem");
                r = sd_bus_message_append(m, "sa{sv}", name, 0);
        } else if (step <= ACCESS_POINTS_PER_PEER) {
                m = new_call(run->bus, ROOT, SERVICE, "AddServiceAccessPoint");
                r = sd_bus_message_append(m, "o", run->peer_path[slot]);
                if (r >= 0)
                        append_properties(m, peer, step);
        } else {
                char name[64];

                snprintf(name, sizeof(name), "bench-%u", peer);
                m = new_call(run->bus, ROOT, SERVICE, "CreateRemoteReplicationCollection");
                r = sd_bus_message_append(m, "s", name);
                if (r >= 0)
                        r = sd_bus_message_append(m, "ao", 1, run->local_ap);
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'a', "o");
                for (unsigned k = 0; r >= 0 && k < ACCESS_POINTS_PER_PEER; k++)
                        r = sd_bus_message_append(m, "o", run->ap_paths[slot][k]);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                if (r >= 0)
                        r = sd_bus_message_append(m, "obb", run->peer_path[slot], true, false);
        }
        if (r < 0)
                die("building a call", r);
        return run_call_async(run, slot, m, true);
}

static void populate_after_reply(Run *run, size_t slot, sd_bus_message *reply) {
        unsigned step = run->step[slot];

        if (step == 0)
                run->peer_path[slot] = read_reply_path(reply);
        else if (step <= ACCESS_POINTS_PER_PEER)
                run->ap_paths[slot][step - 1] = read_reply_path(reply);
        if (step <= ACCESS_POINTS_PER_PEER) {
                run->step[slot]++;
                return;
        }
        free(run->peer_path[slot]);
        for (unsigned k = 0; k < ACCESS_POINTS_PER_PEER; k++)
                free(run->ap_paths[slot][k]);
        /* The chain of this peer is done; the slot takes the next peer (run->total stops it). */
        run->step[slot] = 0;
}

static void slot_after_reply(Run *run, size_t slot, sd_bus_message *reply) {
        if (run->issue == issue_populate)
                populate_after_reply(run, slot, reply);
}

/* ---- synchronous helpers ---- */

static char *call_for_path(sd_bus *bus, sd_bus_message *m, const char *what) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        char *p;
        int r;

        r = sd_bus_call(bus, m, UINT64_MAX, &error, &reply);
        sd_bus_message_unref(m);
        if (r < 0) {
                fprintf(stderr, "replbench: %s failed: %s: %s\n", what, error.name, error.message);
                exit(EXIT_FAILURE);
        }
        p = read_reply_path(reply);
        sd_bus_message_unref(reply);
        return p;
}

static int cmd_prepare(sd_bus *bus) {
        sd_bus_message *m;
        char *peer, *ap, *local;
        int r;

        m = new_call(bus, ROOT, SERVICE, "AddPeerSystem");
        r = sd_bus_message_append(m, "sa{sv}", "toggle.bench.example", 0);
        if (r < 0)
                die("building a call", r);
        peer = call_for_path(bus, m, "AddPeerSystem");

        m = new_call(bus, ROOT, SERVICE, "AddServiceAccessPoint");
        r = sd_bus_message_append(m, "oa{sv}", peer, 1, "Address", "s", "127.63.0.1");
        if (r < 0)
                die("building a call", r);
        ap = call_for_path(bus, m, "AddServiceAccessPoint");

        m = new_call(bus, ROOT, SERVICE, "AddServiceAccessPoint");
        r = sd_bus_message_append(m, "oa{sv}", ROOT "/system/local", 1, "Address", "s", "127.0.0.1");
        if (r < 0)
                die("building a call", r);
        local = call_for_path(bus, m, "AddServiceAccessPoint");

        printf("peer %s\ntoggle_ap %s\nlocal_ap %s\n", peer, ap, local);
        for (unsigned i = 0; i < 64; i++) {
                char name[32];

                snprintf(name, sizeof(name), "toggle-%u", i);
                m = new_call(bus, ROOT, SERVICE, "CreateRemoteReplicationCollection");
                r = sd_bus_message_append(m, "saoaoobb", name, 0, 1, ap, peer, true, false);
                if (r < 0)
                        die("building a call", r);
                sd_bus_error error = SD_BUS_ERROR_NULL;
                sd_bus_message *reply = NULL;
                const char *job, *coll;
                uint32_t rv;

                r = sd_bus_call(bus, m, UINT64_MAX, &error, &reply);
                sd_bus_message_unref(m);
                if (r < 0) {
                        fprintf(stderr, "replbench: Create failed: %s: %s\n", error.name, error.message);
                        return EXIT_FAILURE;
                }
                r = sd_bus_message_read(reply, "uoo", &rv, &job, &coll);
                if (r < 0)
                        die("reading a reply", r);
                printf("collection %s\n", coll);
                sd_bus_message_unref(reply);
        }
        free(peer);
        free(ap);
        free(local);
        return EXIT_SUCCESS;
}

static int cmd_gmo(sd_bus *bus, unsigned n) {
        uint64_t *t = calloc(n, sizeof(uint64_t));

        if (!t)
                die("allocating", -ENOMEM);
        for (unsigned i = 0; i < n; i++) {
                sd_bus_error error = SD_BUS_ERROR_NULL;
                sd_bus_message *reply = NULL;
                uint64_t start = now_usec();
                int r;

                r = sd_bus_call_method(bus, SERVICE, ROOT, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects",
                                       &error, &reply, "");
                t[i] = now_usec() - start;
                if (r < 0) {
                        printf("gmo_error %s\n", error.name);
                        return EXIT_FAILURE;
                }
                sd_bus_message_unref(reply);
        }
        printf("gmo_p50_us %" PRIu64 "\n", median(t, n));
        free(t);
        return EXIT_SUCCESS;
}

static int cmd_fsync(const char *dir, unsigned n) {
        char path[4096], block[4096];
        uint64_t *t = calloc(n, sizeof(uint64_t));
        int fd;

        if (!t)
                die("allocating", -ENOMEM);
        snprintf(path, sizeof(path), "%s/bench-fsync", dir);
        fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                die(path, -errno);
        memset(block, 'x', sizeof(block));
        for (unsigned i = 0; i < n; i++) {
                uint64_t start = now_usec();

                if (pwrite(fd, block, sizeof(block), (off_t) (i % 16) * 4096) != (ssize_t) sizeof(block) ||
                    fdatasync(fd) < 0)
                        die("pwrite/fdatasync", -errno);
                t[i] = now_usec() - start;
        }
        close(fd);
        unlink(path);
        printf("fsync_p50_us %" PRIu64 "\n", median(t, n));
        free(t);
        return EXIT_SUCCESS;
}

static void print_run(const char *name, Run *run, double seconds) {
        printf("%s_calls %zu\n%s_seconds %.6f\n%s_per_sec %.1f\n%s_p50_us %" PRIu64 "\n", name, run->done, name,
               seconds, name, (double) run->done / seconds, name, median(run->latencies, run->n_latencies));
}

static unsigned parse_unsigned(const char *s) {
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno != 0 || end == s || *end || v > 10000000)
                die(s, -EINVAL);
        return (unsigned) v;
}

int main(int argc, char *argv[]) {
        sd_bus *bus = NULL;
        Run run = {};
        double seconds;
        int r;

        if (argc < 3) {
                fprintf(stderr, "usage: see the comment at the top of bench/replbench.c\n");
                return EXIT_FAILURE;
        }
        if (strcmp(argv[2], "fsync") == 0 && argc == 5)
                return cmd_fsync(argv[3], parse_unsigned(argv[4]));

        r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_address(bus, argv[1]);
        if (r >= 0)
                r = sd_bus_set_bus_client(bus, true);
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r < 0)
                die("connecting to the bus", r);
        run.bus = bus;

        if (strcmp(argv[2], "prepare") == 0)
                return cmd_prepare(bus);
        if (strcmp(argv[2], "gmo") == 0 && argc == 4)
                return cmd_gmo(bus, parse_unsigned(argv[3]));
        if (argc < 5) {
                fprintf(stderr, "replbench: bad arguments\n");
                return EXIT_FAILURE;
        }
        /* populate FROM TO INFLIGHT LOCAL_AP; the others CMD N INFLIGHT … */
        size_t in_flight = parse_unsigned(argv[strcmp(argv[2], "populate") == 0 ? 5 : 4]);
        if (in_flight == 0 || in_flight > MAX_SLOTS)
                die("in flight", -EINVAL);

        if (strcmp(argv[2], "ping") == 0) {
                run.issue = issue_ping;
                run.total = parse_unsigned(argv[3]);
                seconds = run_all(&run, in_flight);
                print_run("ping", &run, seconds);
        } else if (strcmp(argv[2], "toggle") == 0 && argc >= 7) {
                run.issue = issue_toggle;
                run.total = parse_unsigned(argv[3]);
                run.ap = argv[5];
                run.paths = argv + 6;
                run.n_paths = (size_t) argc - 6;
                if (run.n_paths < in_flight)
                        die("fewer collections than calls in flight", -EINVAL);
                seconds = run_all(&run, in_flight);
                print_run("toggle", &run, seconds);
        } else if (strcmp(argv[2], "populate") == 0 && argc == 7) {
                run.issue = issue_populate;
                run.next_peer = parse_unsigned(argv[3]);
                run.end_peer = parse_unsigned(argv[4]);
                run.local_ap = argv[6];
                /* Chains end by themselves when no peer is left to start. */
                run.capacity = (size_t) (run.end_peer - run.next_peer) * (ACCESS_POINTS_PER_PEER + 2);
                run.total = SIZE_MAX;
                if (in_flight > run.end_peer - run.next_peer)
                        in_flight = run.end_peer - run.next_peer;
                seconds = run_all(&run, in_flight);
                print_run("populate", &run, seconds);
        } else {
                fprintf(stderr, "replbench: unknown command %s\n", argv[2]);
                return EXIT_FAILURE;
        }
        sd_bus_flush_close_unref(bus);
        free(run.latencies);
        return EXIT_SUCCESS;
}
