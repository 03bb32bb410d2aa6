/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Figures of the replica data path (issue 12), each a ratio against a floor
 * measured in the same run, printed as a table:
 *
 *   - a full first cycle of a volume between two tgtd targets on loopback
 *     ÷ iscsi-perf (libiscsi-bin) reading the same source LUN with the same
 *     request size and depth: goal ≥ 0.5 (a copy reads and writes, on the
 *     same cores);
 *   - a cycle over the unchanged source ÷ that pure read pass: goal ≤ 1.3
 *     (as time, i.e. read rate ÷ cycle rate);
 *   - the peak resident memory of a cycle over a 4 GiB volume ÷ over a
 *     1 GiB one (sparse backing files, each in a fresh process): goal ≤ 1.1;
 *   - the rate a bandwidth limit lets through ÷ the limit: goal 0.9–1.0
 *     (the lower side, which the unit test leaves to this bench; the
 *     rate counts from the first chunk, after the logins).
 *
 * Needs root and tgt; exits 77 otherwise. Traffic stays on 127.0.0.91/92.
 * Run on a release build: build-release/bench/copy/copy-bench [--size-mib N]
 * [--big-size-mib N] [--perf-seconds N]. bench/run can run it and append
 * its table (it prints nothing else on stdout).
 */

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "net/copy.h"
#include "tgtd-endpoint.h"
#include "util/macros.h"

#define LOCAL_ADDRESS "127.0.0.91"
#define REMOTE_ADDRESS "127.0.0.92"
#define INITIATOR "iqn.2026-11.org.example.bench:copy"
#define SOURCE_TARGET "iqn.2026-11.org.example.bench:source"
#define COPY_TARGET "iqn.2026-11.org.example.bench:copy"
#define MIB (UINT64_C(1024) * 1024)

/* Tuning under test (--buffers, --batch); 0 the defaults. */
static unsigned n_buffers, confirm_batch;

typedef struct Cycle {
        sd_event *event;
        CopyHash *hashes;               /* the caller's table; NULL entries via known */
        bool *known;
        uint64_t n_chunks;
        bool done;
        int error;
        char *message;
        CopyProgress progress;
} Cycle;

static bool previous_hash(uint64_t chunk, CopyHash *ret, void *userdata) {
        Cycle *c = userdata;

        if (chunk >= c->n_chunks || !c->known[chunk])
                return false;
        *ret = c->hashes[chunk];
        return true;
}

static void on_confirmed(Copy *copy, const uint64_t *chunks, const CopyHash *hashes, size_t n, uint64_t resume, void *userdata) {
        Cycle *c = userdata;

        for (size_t i = 0; i < n; i++)
                if (chunks[i] < c->n_chunks) {
                        c->hashes[chunks[i]] = hashes[i];
                        c->known[chunks[i]] = true;
                }
}

static void on_done(Copy *copy, int error, Reason reason, const char *message, void *userdata) {
        Cycle *c = userdata;

        c->done = true;
        c->error = error;
        g_free(c->message);
        c->message = g_strdup(message);
        copy_get_progress(copy, &c->progress);
        copy_free(copy);
}

static VolumeEndpoint endpoint(const Tgtd *t) {
        return tgtd_endpoint(t, LOCAL_ADDRESS, INITIATOR);
}

/* One cycle to its end; seconds it took. */
static double run_cycle(Cycle *c, const Tgtd *source, const Tgtd *target, uint64_t bandwidth_limit, uint64_t first_chunk) {
        VolumeEndpoint s = endpoint(source), t = endpoint(target);
        CopyParameters p = {
                .previous_hash = previous_hash,
                .confirmed = on_confirmed,
                .done = on_done,
                .userdata = c,
                .bandwidth_limit = bandwidth_limit,
                .first_chunk = first_chunk,
                .n_buffers = n_buffers,
                .confirm_batch = confirm_batch,
        };
        Copy *copy = NULL;
        gint64 start = g_get_monotonic_time();
        int r;

        c->done = false;
        r = copy_start(c->event, &s, &t, &p, &copy);
        if (r < 0)
                g_error("copy_start: %s", strerror(-r));
        while (!c->done)
                if (sd_event_run(c->event, UINT64_MAX) < 0)
                        g_error("sd_event_run failed");
        if (c->error < 0)
                g_error("cycle failed: %s", c->message);
        return (double) (g_get_monotonic_time() - start) / G_USEC_PER_SEC;
}

static void cycle_init(Cycle *c, uint64_t size) {
        *c = (Cycle) { .n_chunks = size / COPY_CHUNK_SIZE_DEFAULT };
        c->hashes = g_new0(CopyHash, c->n_chunks);
        c->known = g_new0(bool, c->n_chunks);
        if (sd_event_new(&c->event) < 0)
                g_error("sd_event_new failed");
}

static void cycle_done(Cycle *c) {
        sd_event_unref(c->event);
        g_free(c->hashes);
        g_free(c->known);
        g_free(c->message);
}

/* Non-repeating data (xorshift), so nothing downstream can shortcut zeros. */
static void fill(const char *path, uint64_t size) {
        g_autofree uint64_t *buf = g_malloc(MIB);
        uint64_t x = 0x9e3779b97f4a7c15u;
        int fd = open(path, O_WRONLY | O_CLOEXEC);

        if (fd < 0)
                g_error("open %s: %m", path);
        for (uint64_t off = 0; off < size; off += MIB) {
                for (size_t i = 0; i < MIB / sizeof(uint64_t); i++) {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        buf[i] = x;
                }
                if (pwrite(fd, buf, MIB, (off_t) off) != (ssize_t) MIB)
                        g_error("pwrite %s: %m", path);
        }
        close(fd);
}

/* iscsi-perf reading the LUN with the copy's request size and depth for seconds s; bytes per second. */
static double iscsi_perf(const Tgtd *t, unsigned seconds) {
        g_autofree char *url = g_strdup_printf("iscsi://%s:%u/%s/1", t->address, t->port, t->target_name);
        g_autofree char *blocks = g_strdup_printf("%u", COPY_CHUNK_SIZE_DEFAULT / 512);
        g_autofree char *depth = g_strdup_printf("%u", COPY_BUFFERS_DEFAULT);
        const char *argv[] = { "iscsi-perf", "-i", INITIATOR, "-m", depth, "-b", blocks, url, NULL };
        g_autoptr(GString) out = g_string_new(NULL);
        const char *last;
        char buf[4096];
        GPid pid;
        int fd;
        gint64 stop;
        ssize_t n;

        if (!g_spawn_async_with_pipes(NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD |
                                      G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &pid, NULL, &fd, NULL, NULL))
                g_error("cannot run iscsi-perf (libiscsi-bin)");
        (void) fcntl(fd, F_SETFL, O_NONBLOCK);
        stop = g_get_monotonic_time() + (gint64) seconds * G_USEC_PER_SEC;
        /* It runs until interrupted and prints a running average every second. */
        while (g_get_monotonic_time() < stop) {
                while ((n = read(fd, buf, sizeof(buf))) > 0)
                        g_string_append_len(out, buf, n);
                g_usleep(100 * 1000);
        }
        (void) kill(pid, SIGKILL);
        (void) waitpid(pid, NULL, 0);
        while ((n = read(fd, buf, sizeof(buf))) > 0)
                g_string_append_len(out, buf, n);
        close(fd);

        last = g_strrstr(out->str, "iops average ");
        if (!last)
                g_error("iscsi-perf printed no average");
        return g_ascii_strtod(last + strlen("iops average "), NULL) * COPY_CHUNK_SIZE_DEFAULT;
}

/* In a fresh process: one unchanged-source cycle over sparse volumes of size bytes; peak RSS in KiB. */
static long rss_child(uint64_t size) {
        g_autoptr(Tgtd) source = tgtd_start(LOCAL_ADDRESS, SOURCE_TARGET, size);
        g_autoptr(Tgtd) target = tgtd_start(REMOTE_ADDRESS, COPY_TARGET, size);
        g_autofree uint8_t *zeros = g_malloc0(COPY_CHUNK_SIZE_DEFAULT);
        struct rusage ru;
        CopyHash zero;
        Cycle c;

        /* The copy holds what a sparse source holds: every chunk's hash is that of zeros. */
        cycle_init(&c, size);
        copy_hash_chunk(zeros, COPY_CHUNK_SIZE_DEFAULT, &zero);
        for (uint64_t i = 0; i < c.n_chunks; i++) {
                c.hashes[i] = zero;
                c.known[i] = true;
        }
        (void) run_cycle(&c, source, target, 0, 0);
        if (c.progress.bytes_transferred != 0 || c.progress.bytes_scanned != size)
                g_error("the sparse cycle wrote %" PRIu64 " bytes", c.progress.bytes_transferred);
        cycle_done(&c);
        getrusage(RUSAGE_SELF, &ru);
        return ru.ru_maxrss;
}

static long measure_rss(const char *self, uint64_t size) {
        g_autofree char *arg = g_strdup_printf("%" PRIu64, size);
        g_autofree char *out = NULL;
        const char *argv[] = { self, "--rss-child", arg, NULL };
        int status;

        if (!g_spawn_sync(NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, NULL, &status, NULL) ||
            !g_spawn_check_wait_status(status, NULL))
                g_error("the memory measurement of %s bytes failed", arg);
        return strtol(out, NULL, 10);
}

int main(int argc, char *argv[]) {
        gint64 size_mib = 1024, big_mib = 4096, perf_seconds = 10;
        gint buffers = 0, batch = 0;
        gboolean skip_memory = FALSE;
        const GOptionEntry options[] = {
                { "size-mib", 0, 0, G_OPTION_ARG_INT64, &size_mib, "volume size for throughput and memory", "N" },
                { "big-size-mib", 0, 0, G_OPTION_ARG_INT64, &big_mib, "the larger volume of the memory figure", "N" },
                { "perf-seconds", 0, 0, G_OPTION_ARG_INT64, &perf_seconds, "how long iscsi-perf reads", "N" },
                { "buffers", 0, 0, G_OPTION_ARG_INT, &buffers, "chunk buffers of a cycle (default 16)", "N" },
                { "batch", 0, 0, G_OPTION_ARG_INT, &batch, "chunks per confirmation (default 64)", "N" },
                { "skip-memory", 0, 0, G_OPTION_ARG_NONE, &skip_memory, "leave out the memory figure", NULL },
                {},
        };
        g_autoptr(GOptionContext) context = g_option_context_new("- replica data path figures");
        double read_bps, first_s, unchanged_s, limited_s, limited_rate, size;
        uint64_t limit, first_chunk;
        long rss_small, rss_big;
        Cycle c;

        if (argc == 3 && strcmp(argv[1], "--rss-child") == 0) {
                printf("%ld\n", rss_child(g_ascii_strtoull(argv[2], NULL, 10)));
                return 0;
        }
        g_option_context_add_main_entries(context, options, NULL);
        if (!g_option_context_parse(context, &argc, &argv, NULL))
                return 2;
        n_buffers = (unsigned) MAX(buffers, 0);
        confirm_batch = (unsigned) MAX(batch, 0);
        if (geteuid() != 0 || !g_find_program_in_path("tgtd") || !g_find_program_in_path("iscsi-perf")) {
                fprintf(stderr, "copy-bench: needs root, tgt and libiscsi-bin\n");
                return 77;
        }

        size = (double) size_mib * MIB;
        {
                g_autoptr(Tgtd) source = tgtd_start(LOCAL_ADDRESS, SOURCE_TARGET, (uint64_t) size_mib * MIB);
                g_autoptr(Tgtd) target = tgtd_start(REMOTE_ADDRESS, COPY_TARGET, (uint64_t) size_mib * MIB);

                fprintf(stderr, "copy-bench: filling %" G_GINT64_FORMAT " MiB\n", size_mib);
                fill(source->backing_file, (uint64_t) size_mib * MIB);
                fprintf(stderr, "copy-bench: iscsi-perf for %" G_GINT64_FORMAT " s\n", perf_seconds);
                read_bps = iscsi_perf(source, (unsigned) perf_seconds);

                cycle_init(&c, (uint64_t) size_mib * MIB);
                fprintf(stderr, "copy-bench: first cycle\n");
                first_s = run_cycle(&c, source, target, 0, 0);
                fprintf(stderr, "copy-bench: unchanged cycle\n");
                unchanged_s = run_cycle(&c, source, target, 0, 0);
                if (c.progress.bytes_transferred != 0)
                        g_error("the unchanged cycle wrote %" PRIu64 " bytes", c.progress.bytes_transferred);

                /* Half the first cycle's rate, over the last 5 s worth of chunks (a resumed cycle). */
                limit = (uint64_t) (size / first_s / 2);
                first_chunk = c.n_chunks - MIN(c.n_chunks, MAX(limit * 5 / COPY_CHUNK_SIZE_DEFAULT, (uint64_t) 1));
                memset(c.known, 0, c.n_chunks * sizeof(bool));
                fprintf(stderr, "copy-bench: limited cycle at %" PRIu64 " B/s from chunk %" PRIu64 "\n", limit, first_chunk);
                limited_s = run_cycle(&c, source, target, limit, first_chunk);
                limited_rate = (double) c.progress.rate;
                cycle_done(&c);
        }
        fprintf(stderr, "copy-bench: memory at %" G_GINT64_FORMAT " and %" G_GINT64_FORMAT " MiB\n", size_mib, big_mib);
        rss_small = skip_memory ? 1 : measure_rss(argv[0], (uint64_t) size_mib * MIB);
        rss_big = skip_memory ? 1 : measure_rss(argv[0], (uint64_t) big_mib * MIB);

        printf("| figure | measured | goal |\n|---|---|---|\n");
        printf("| first cycle of %" G_GINT64_FORMAT " MiB ÷ iscsi-perf reading the source | %.2f | ≥ 0.5 |\n", size_mib,
               (size / first_s) / read_bps);
        printf("| unchanged-source cycle ÷ pure read pass (time) | %.2f | ≤ 1.3 |\n", read_bps / (size / unchanged_s));
        printf("| resident memory, %" G_GINT64_FORMAT " MiB ÷ %" G_GINT64_FORMAT " MiB volume | %.2f | ≤ 1.1 |\n", big_mib,
               size_mib, (double) rss_big / (double) rss_small);
        printf("| rate under BandwidthLimit ÷ the limit | %.3f | 0.9–1.0 |\n", limited_rate / (double) limit);
        printf("\nraw: read %.0f MB/s, first cycle %.2f s (%.0f MB/s), unchanged %.2f s (%.0f MB/s), limited %.2f s at "
               "%" PRIu64 " B/s, max RSS %ld / %ld KiB; %d CPUs\n",
               read_bps / 1e6, first_s, size / first_s / 1e6, unchanged_s, size / unchanged_s / 1e6, limited_s, limit,
               rss_small, rss_big, (int) sysconf(_SC_NPROCESSORS_ONLN));
        return 0;
}
