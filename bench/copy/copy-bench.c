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
 *     rate counts from the first chunk, after the logins). The limit is a
 *     quarter of the first cycle's rate, so that it, not the machine, sets
 *     the pace: at half, a busy machine (or a disk) could not always keep
 *     up, and the figure measured that instead of the token bucket.
 *
 * Like with like, so that the figures are the data path's:
 *
 *   - The backing files are in RAM (a directory under /dev/shm), as the
 *     source is for iscsi-perf, which reads it from the page cache. On disk
 *     the first cycle measures how fast the machine's disk makes 1 GiB
 *     durable (each SYNCHRONIZE CACHE is an fdatasync() in tgtd), which on
 *     a virtual disk can be slower than the whole data path; --on-disk
 *     measures that instead.
 *   - Both targets take data in PDUs as large as libiscsi takes them from
 *     the target (MaxRecvDataSegmentLength 262144): iscsi-perf's reads come
 *     in 256 KiB Data-In PDUs, and tgt's default of 8 KiB for Data-Out would
 *     cost the copy's writes 32 times the PDUs. The first cycle at tgt's
 *     default is printed as well, for information.
 *   - Each first cycle writes to a provisioned copy (allocated, zeroed
 *     before the cycle), as the read pass reads pages that exist.
 *   - Three rounds of read pass, first cycle and unchanged cycle, after
 *     one first cycle that is not counted (measure_warm_up() says why); each
 *     figure is the median of the rounds' ratios. The CPU time all
 *     processes of a phase used per GiB (this one, both tgtd, iscsi-perf)
 *     is printed too: on a shared machine, rates move with the load, CPU
 *     time much less.
 *
 * --profile first|unchanged|read runs one phase alone and prints its
 * loop iterations and CPU time per MiB, for the figures that do not move
 * with the load: run it under callgrind (--toggle-collect=profiled_cycle)
 * or perf stat (system calls), with --on-disk and TMPDIR in /dev/shm: the
 * in-RAM mode runs everything in a forked child, which those would miss.
 *
 * Needs root and tgt; exits 77 otherwise. Traffic stays on 127.0.0.91/92/93.
 * Run on a release build: build-release/bench/copy/copy-bench [--size-mib N]
 * [--big-size-mib N] [--perf-seconds N] [--rounds N] [--on-disk]; --help
 * lists the tuning options. bench/run can run it and append its table (it
 * prints nothing else on stdout).
 */

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "copy-bench.h"
#include "util/macros.h"

/* Tuning under test (--buffers, --batch, --chunk-kib); iscsi-perf reads with the same size and depth. */
unsigned n_buffers = COPY_BUFFERS_DEFAULT, confirm_batch = COPY_CONFIRM_BATCH_DEFAULT;
uint32_t chunk_size = COPY_CHUNK_SIZE_DEFAULT;

static int previous_hash(uint64_t chunk, CopyHash *ret, void *userdata) {
        Cycle *c = userdata;

        if (chunk >= c->n_chunks || !c->known[chunk])
                return 0;
        *ret = c->hashes[chunk];
        return 1;
}

/* The table lives in memory here: unconfirmed at once, released at once. */
static void on_unconfirm(Copy *copy, uint64_t ticket, const uint64_t *chunks, size_t n, void *userdata) {
        Cycle *c = userdata;

        for (size_t i = 0; i < n; i++)
                if (chunks[i] < c->n_chunks)
                        c->known[chunks[i]] = false;
        copy_release(copy, ticket);
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
double run_cycle(Cycle *c, const Tgtd *source, const Tgtd *target, uint64_t bandwidth_limit, uint64_t first_chunk) {
        VolumeEndpoint s = endpoint(source), t = endpoint(target);
        CopyParameters p = {
                .previous_hash = previous_hash,
                .unconfirm = on_unconfirm,
                .confirmed = on_confirmed,
                .done = on_done,
                .userdata = c,
                .bandwidth_limit = bandwidth_limit,
                .first_chunk = first_chunk,
                .n_buffers = n_buffers,
                .chunk_size = chunk_size,
                .confirm_batch = confirm_batch,
        };
        Copy *copy = NULL;
        gint64 start = g_get_monotonic_time();
        int r;

        c->done = false;
        c->loop_iterations = 0;
        r = copy_start(c->event, &s, &t, &p, &copy);
        if (r < 0)
                g_error("copy_start: %s", strerror(-r));
        for (; !c->done; c->loop_iterations++)
                if (sd_event_run(c->event, UINT64_MAX) < 0)
                        g_error("sd_event_run failed");
        if (c->error < 0)
                g_error("cycle failed: %s", c->message);
        return (double) (g_get_monotonic_time() - start) / G_USEC_PER_SEC;
}

void cycle_init(Cycle *c, uint64_t size) {
        *c = (Cycle) { .n_chunks = size / chunk_size };
        c->hashes = g_new0(CopyHash, c->n_chunks);
        c->known = g_new0(bool, c->n_chunks);
        if (sd_event_new(&c->event) < 0)
                g_error("sd_event_new failed");
}

void cycle_done(Cycle *c) {
        sd_event_unref(c->event);
        g_free(c->hashes);
        g_free(c->known);
        g_free(c->message);
}

/* CPU seconds in user and in system mode (all threads) a process has used so far; pid 0: this one. */
void cpu_times(GPid pid, double *ret_user, double *ret_system) {
        g_autofree char *path = pid > 0 ? g_strdup_printf("/proc/%d/stat", (int) pid) : g_strdup("/proc/self/stat");
        g_autofree char *text = NULL;
        unsigned long utime = 0, stime = 0;
        const char *p;

        if (!g_file_get_contents(path, &text, NULL, NULL) || !(p = strrchr(text, ')')))
                g_error("cannot read %s", path);
        /* After the command's name: the state (field 3) … utime (14), stime (15). */
        if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
                g_error("cannot parse %s", path);
        *ret_user = (double) utime / (double) sysconf(_SC_CLK_TCK);
        *ret_system = (double) stime / (double) sysconf(_SC_CLK_TCK);
}

double cpu_seconds(GPid pid) {
        double user, system;

        cpu_times(pid, &user, &system);
        return user + system;
}

/* CPU seconds of this process and two targets so far. */
static double cpu_seconds_of(const Tgtd *a, const Tgtd *b) {
        return cpu_seconds(0) + cpu_seconds(a->pid) + cpu_seconds(b->pid);
}

/* Sets an iSCSI parameter of t's target 1, for sessions that log in from now on. */
static void tgtd_set_parameter(const Tgtd *t, const char *name, unsigned value) {
        g_autofree char *control = g_strdup_printf("%u", t->control_port), *v = g_strdup_printf("%u", value);
        const char *argv[] = { "tgtadm", "-C", control, "--lld", "iscsi", "--op", "update", "--mode", "target",
                               "--tid", "1", "--name", name, "--value", v, NULL };
        int status;

        if (!g_spawn_sync(NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, &status, NULL) ||
            !g_spawn_check_wait_status(status, NULL))
                g_error("tgtadm could not set %s to %u", name, value);
}

Tgtd *target_start(const char *address, const char *name, uint64_t size, bool large_segments) {
        Tgtd *t = tgtd_start(address, name, size);

        if (large_segments)
                tgtd_set_parameter(t, "MaxRecvDataSegmentLength", SEGMENT_LENGTH);
        return t;
}

/* Non-repeating data (xorshift), so nothing downstream can shortcut zeros. */
void fill(const char *path, uint64_t size) {
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

/*
 * iscsi-perf reading the LUN with the copy's request size and depth for
 * seconds s; bytes per second, and the CPU seconds per GiB it and t used.
 */
double iscsi_perf(const Tgtd *t, unsigned seconds, double *ret_client_cpu, double *ret_target_cpu) {
        g_autofree char *url = g_strdup_printf("iscsi://%s:%u/%s/1", t->address, t->port, t->target_name);
        g_autofree char *blocks = g_strdup_printf("%u", chunk_size / 512);
        g_autofree char *depth = g_strdup_printf("%u", n_buffers);
        const char *argv[] = { "iscsi-perf", "-i", INITIATOR, "-m", depth, "-b", blocks, url, NULL };
        g_autoptr(GString) out = g_string_new(NULL);
        const char *last;
        char buf[4096];
        GPid pid;
        int fd;
        gint64 stop;
        ssize_t n;
        double target_cpu, client_cpu, rate;

        if (!g_spawn_async_with_pipes(NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD |
                                      G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &pid, NULL, &fd, NULL, NULL))
                g_error("cannot run iscsi-perf (libiscsi-bin)");
        (void) fcntl(fd, F_SETFL, O_NONBLOCK);
        target_cpu = cpu_seconds(t->pid);
        stop = g_get_monotonic_time() + (gint64) seconds * G_USEC_PER_SEC;
        /* It runs until interrupted and prints a running average every second. */
        while (g_get_monotonic_time() < stop) {
                while ((n = read(fd, buf, sizeof(buf))) > 0)
                        g_string_append_len(out, buf, n);
                g_usleep(100 * 1000);
        }
        /* iscsi-perf's own time counts from its start, tgtd's from the same moment. */
        client_cpu = cpu_seconds(pid);
        target_cpu = cpu_seconds(t->pid) - target_cpu;
        (void) kill(pid, SIGKILL);
        (void) waitpid(pid, NULL, 0);
        while ((n = read(fd, buf, sizeof(buf))) > 0)
                g_string_append_len(out, buf, n);
        close(fd);

        last = g_strrstr(out->str, "iops average ");
        if (!last)
                g_error("iscsi-perf printed no average");
        rate = g_ascii_strtod(last + strlen("iops average "), NULL) * chunk_size;
        *ret_client_cpu = client_cpu / (rate * seconds / GIB);
        *ret_target_cpu = target_cpu / (rate * seconds / GIB);
        return rate;
}

/* In a fresh process: one unchanged-source cycle over sparse volumes of size bytes; peak RSS in KiB. */
static long rss_child(uint64_t size) {
        g_autoptr(Tgtd) source = tgtd_start(LOCAL_ADDRESS, SOURCE_TARGET, size);
        g_autoptr(Tgtd) target = tgtd_start(REMOTE_ADDRESS, COPY_TARGET, size);
        g_autofree uint8_t *zeros = g_malloc0(chunk_size);
        struct rusage ru;
        CopyHash zero;
        Cycle c;

        /* The copy holds what a sparse source holds: every chunk's hash is that of zeros. */
        cycle_init(&c, size);
        copy_hash_chunk(zeros, chunk_size, &zero);
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

#define ROUNDS_MAX 9

/* One round's phases; CPU seconds per GiB. */
typedef struct Round {
        double read_bps, read_cpu;      /* iscsi-perf */
        double first_s, first_cpu;
        double unchanged_s, unchanged_cpu;
} Round;

typedef struct Figures {
        double size;                    /* bytes of the volume */
        Round rounds[ROUNDS_MAX];
        unsigned n_rounds;
        double warm_up_s, warm_up_cpu;    /* the untimed first cycle of measure_warm_up() */
        double default_segments_s, default_segments_cpu;
        uint64_t limit;
        double limited_s, limited_rate;
        long rss_small, rss_big;        /* KiB */
} Figures;

/* One cycle of c from source to target; seconds, and CPU seconds per GiB scanned of this process and both targets. */
static double timed_cycle(Cycle *c, const Tgtd *source, const Tgtd *target, double size, double *ret_cpu) {
        double cpu = cpu_seconds_of(source, target), seconds = run_cycle(c, source, target, 0, 0);

        *ret_cpu = (cpu_seconds_of(source, target) - cpu) / (size / GIB);
        return seconds;
}

/* The first cycle to a fresh copy target at tgt's default PDU size, for information. */
static void measure_default_segments(Figures *f, const Tgtd *source, uint64_t size) {
        g_autoptr(Tgtd) target = target_start(DEFAULT_SEGMENTS_ADDRESS, COPY_TARGET, size, false);
        Cycle c;

        cycle_init(&c, size);
        fprintf(stderr, "copy-bench: first cycle at tgt's default MaxRecvDataSegmentLength\n");
        f->default_segments_s = timed_cycle(&c, source, target, f->size, &f->default_segments_cpu);
        cycle_done(&c);
}

/*
 * Empties the copy for another first cycle and provisions it, as a copy
 * volume would be (a sparse file in RAM would make tgtd allocate and clear
 * each page as the cycle writes it, which the read pass, reading pages
 * that exist, does not pay). tgtd keeps the file open meanwhile.
 */
void provision(const char *path, uint64_t size) {
        int fd = open(path, O_WRONLY | O_CLOEXEC);

        if (fd < 0 || fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, (off_t) size) < 0 ||
            fallocate(fd, 0, 0, (off_t) size) < 0)
                g_error("cannot provision %s: %m", path);
        close(fd);
}

/*
 * A first cycle before the rounds, not counted. A tgtd that has not yet
 * taken writes spends its first gibibyte growing and faulting in the memory
 * of its command buffers: 2.85 CPU s for the copy's target in a first round
 * against 1.6 in the next ones, which made the first round the slowest by
 * far, while the read pass of that round met a source target no colder for
 * reading. A copy target in use is warm, and the floor is measured warm.
 */
static void measure_warm_up(Figures *f, Cycle *c, const Tgtd *source, const Tgtd *target, uint64_t size) {
        provision(target->backing_file, size);
        memset(c->known, 0, c->n_chunks * sizeof(bool));
        fprintf(stderr, "copy-bench: warm-up cycle, not counted\n");
        f->warm_up_s = timed_cycle(c, source, target, (double) size, &f->warm_up_cpu);
}

/*
 * One round: the read pass, a first cycle to an emptied copy, an unchanged
 * cycle, one right after the other. The figures are the median of the
 * rounds' ratios: other work on the machine comes and goes, and a ratio of
 * phases close in time suffers less from it than the best of each phase.
 */
static void measure_round(Round *r, Cycle *c, const Tgtd *source, const Tgtd *target, uint64_t size, unsigned perf_seconds) {
        double client_cpu, target_cpu;

        fprintf(stderr, "copy-bench: iscsi-perf for %u s\n", perf_seconds);
        r->read_bps = iscsi_perf(source, perf_seconds, &client_cpu, &target_cpu);
        r->read_cpu = client_cpu + target_cpu;
        provision(target->backing_file, size);
        memset(c->known, 0, c->n_chunks * sizeof(bool));
        fprintf(stderr, "copy-bench: first cycle\n");
        r->first_s = timed_cycle(c, source, target, (double) size, &r->first_cpu);
        fprintf(stderr, "copy-bench: unchanged cycle\n");
        r->unchanged_s = timed_cycle(c, source, target, (double) size, &r->unchanged_cpu);
        if (c->progress.bytes_transferred != 0)
                g_error("the unchanged cycle wrote %" PRIu64 " bytes", c->progress.bytes_transferred);
}

static double first_rate(const Figures *f, const Round *r) {
        return f->size / r->first_s;
}

/* The round's figures: first cycle ÷ read, read ÷ unchanged cycle (as time), and their CPU ratios. */
static double first_ratio(const Figures *f, const Round *r) {
        return (f->size / r->first_s) / r->read_bps;
}

static double unchanged_ratio(const Figures *f, const Round *r) {
        return r->read_bps / (f->size / r->unchanged_s);
}

static double first_cpu_ratio(const Figures *f, const Round *r) {
        return r->first_cpu / r->read_cpu;
}

static double unchanged_cpu_ratio(const Figures *f, const Round *r) {
        return r->unchanged_cpu / r->read_cpu;
}

static int compare_doubles(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;

        return (x > y) - (x < y);
}

static double median(const Figures *f, double (*figure)(const Figures *f, const Round *r)) {
        double v[ROUNDS_MAX];

        for (unsigned i = 0; i < f->n_rounds; i++)
                v[i] = figure(f, &f->rounds[i]);
        qsort(v, f->n_rounds, sizeof(double), compare_doubles);
        return f->n_rounds % 2 ? v[f->n_rounds / 2] : (v[f->n_rounds / 2 - 1] + v[f->n_rounds / 2]) / 2;
}

static void measure_throughput(Figures *f, uint64_t size, unsigned perf_seconds, unsigned rounds) {
        g_autoptr(Tgtd) source = target_start(LOCAL_ADDRESS, SOURCE_TARGET, size, true);
        g_autoptr(Tgtd) target = target_start(REMOTE_ADDRESS, COPY_TARGET, size, true);
        uint64_t first_chunk;
        Cycle c;

        fprintf(stderr, "copy-bench: filling %" PRIu64 " MiB\n", size / MIB);
        fill(source->backing_file, size);
        cycle_init(&c, size);
        measure_warm_up(f, &c, source, target, size);
        f->n_rounds = MIN(rounds, ROUNDS_MAX);
        for (unsigned i = 0; i < f->n_rounds; i++)
                measure_round(&f->rounds[i], &c, source, target, size, perf_seconds);

        /*
         * A quarter of the first cycle's rate, so that the limit and not the
         * machine sets the pace even when other work slows it, over the last
         * 5 s worth of chunks (a resumed cycle).
         */
        f->limit = (uint64_t) (median(f, first_rate) / 4);
        first_chunk = c.n_chunks - MIN(c.n_chunks, MAX(f->limit * 5 / chunk_size, (uint64_t) 1));
        memset(c.known, 0, c.n_chunks * sizeof(bool));
        fprintf(stderr, "copy-bench: limited cycle at %" PRIu64 " B/s from chunk %" PRIu64 "\n", f->limit, first_chunk);
        f->limited_s = run_cycle(&c, source, target, f->limit, first_chunk);
        f->limited_rate = (double) c.progress.rate;
        cycle_done(&c);

        measure_default_segments(f, source, size);
}

static void print_figures(const Figures *f, gint64 size_mib, gint64 big_mib) {
        printf("| figure | measured | goal |\n|---|---|---|\n");
        printf("| first cycle of %" G_GINT64_FORMAT " MiB ÷ iscsi-perf reading the source | %.2f | ≥ 0.5 |\n", size_mib,
               median(f, first_ratio));
        printf("| unchanged-source cycle ÷ pure read pass (time) | %.2f | ≤ 1.3 |\n", median(f, unchanged_ratio));
        printf("| resident memory, %" G_GINT64_FORMAT " MiB ÷ %" G_GINT64_FORMAT " MiB volume | %.2f | ≤ 1.1 |\n", big_mib,
               size_mib, (double) f->rss_big / (double) f->rss_small);
        printf("| rate under BandwidthLimit ÷ the limit | %.3f | 0.9–1.0 |\n", f->limited_rate / (double) f->limit);
        printf("\nmedian of %u rounds; CPU time of all processes of a phase ÷ the read pass's: first cycle %.2f, "
               "unchanged %.2f\n", f->n_rounds, median(f, first_cpu_ratio), median(f, unchanged_cpu_ratio));
        for (unsigned i = 0; i < f->n_rounds; i++) {
                const Round *r = &f->rounds[i];

                printf("raw round %u: read %.0f MB/s %.2f CPU s/GiB, first cycle %.2f s (%.0f MB/s) %.2f CPU s/GiB, "
                       "unchanged %.2f s (%.0f MB/s) %.2f CPU s/GiB\n",
                       i + 1, r->read_bps / 1e6, r->read_cpu, r->first_s, f->size / r->first_s / 1e6, r->first_cpu,
                       r->unchanged_s, f->size / r->unchanged_s / 1e6, r->unchanged_cpu);
        }
        printf("raw: warm-up first cycle, not counted: %.2f s (%.0f MB/s) %.2f CPU s/GiB\n", f->warm_up_s,
               f->size / f->warm_up_s / 1e6, f->warm_up_cpu);
        printf("raw: limited %.2f s at %" PRIu64 " B/s, max RSS %ld / %ld KiB; %d CPUs\n", f->limited_s, f->limit,
               f->rss_small, f->rss_big, (int) sysconf(_SC_NPROCESSORS_ONLN));
        printf("raw: first cycle to a copy target at tgt's default 8 KiB PDUs: %.2f s (%.0f MB/s), %.2f CPU s/GiB\n",
               f->default_segments_s, f->size / f->default_segments_s / 1e6, f->default_segments_cpu);
}

/* Removes dir and the files in it. */
static void remove_directory(const char *dir) {
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        const char *name;

        while (d && (name = g_dir_read_name(d))) {
                g_autofree char *path = g_build_filename(dir, name, NULL);

                (void) g_unlink(path);
        }
        (void) g_rmdir(dir);
}

/*
 * Makes a directory in RAM for the backing files (TMPDIR, which the tgtd
 * helper and the memory measurement's children use) and forks: returns -1
 * in the child, which goes on; in the parent, the child's exit status once
 * it ended, however, and the directory removed.
 */
static int in_ram_directory(void) {
        g_autofree char *dir = g_strdup("/dev/shm/copy-bench-XXXXXX");
        int status = 0;
        pid_t pid;

        if (!g_mkdtemp(dir))
                g_error("cannot make a directory in /dev/shm: %m");
        g_setenv("TMPDIR", dir, TRUE);
        fflush(NULL);
        pid = fork();
        if (pid < 0)
                g_error("fork: %m");
        if (pid == 0)
                return -1;
        (void) waitpid(pid, &status, 0);
        remove_directory(dir);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int main(int argc, char *argv[]) {
        gint64 size_mib = 1024, big_mib = 4096, perf_seconds = 4, rounds = 3;
        gint buffers = 0, batch = 0, chunk_kib = 0;
        gboolean skip_memory = FALSE, on_disk = FALSE;
        g_autofree char *profile_kind = NULL;
        const GOptionEntry options[] = {
                { "size-mib", 0, 0, G_OPTION_ARG_INT64, &size_mib, "volume size for throughput and memory", "N" },
                { "big-size-mib", 0, 0, G_OPTION_ARG_INT64, &big_mib, "the larger volume of the memory figure", "N" },
                { "perf-seconds", 0, 0, G_OPTION_ARG_INT64, &perf_seconds, "how long iscsi-perf reads in a round", "N" },
                { "rounds", 0, 0, G_OPTION_ARG_INT64, &rounds,
                  "rounds of read, first and unchanged cycle (at most 9); the median counts", "N" },
                { "buffers", 0, 0, G_OPTION_ARG_INT, &buffers, "chunk buffers of a cycle (default 16)", "N" },
                { "batch", 0, 0, G_OPTION_ARG_INT, &batch, "chunks per confirmation (default 64)", "N" },
                { "chunk-kib", 0, 0, G_OPTION_ARG_INT, &chunk_kib, "chunk size in KiB (default 1024)", "N" },
                { "skip-memory", 0, 0, G_OPTION_ARG_NONE, &skip_memory, "leave out the memory figure", NULL },
                { "on-disk", 0, 0, G_OPTION_ARG_NONE, &on_disk, "backing files in $TMPDIR, not in RAM", NULL },
                { "profile", 0, 0, G_OPTION_ARG_STRING, &profile_kind,
                  "only one phase (first, unchanged or read) of --size-mib, for callgrind, perf or strace", "KIND" },
                {},
        };
        g_autoptr(GOptionContext) context = g_option_context_new("- replica data path figures");
        Figures f = { .rss_small = 1, .rss_big = 1 };
        int r;

        if (argc == 3 && strcmp(argv[1], "--rss-child") == 0) {
                printf("%ld\n", rss_child(g_ascii_strtoull(argv[2], NULL, 10)));
                return 0;
        }
        g_option_context_add_main_entries(context, options, NULL);
        if (!g_option_context_parse(context, &argc, &argv, NULL))
                return 2;
        if (buffers > 0)
                n_buffers = (unsigned) buffers;
        if (batch > 0)
                confirm_batch = (unsigned) batch;
        if (chunk_kib > 0)
                chunk_size = (uint32_t) chunk_kib * 1024;
        if (geteuid() != 0 || !g_find_program_in_path("tgtd") || !g_find_program_in_path("iscsi-perf")) {
                fprintf(stderr, "copy-bench: needs root, tgt and libiscsi-bin\n");
                return 77;
        }
        if (!on_disk && (r = in_ram_directory()) >= 0)
                return r;

        if (profile_kind)
                return copy_bench_profile(profile_kind, (uint64_t) size_mib * MIB, (unsigned) perf_seconds);
        f.size = (double) size_mib * MIB;
        measure_throughput(&f, (uint64_t) size_mib * MIB, (unsigned) perf_seconds, (unsigned) MAX(rounds, 1));
        if (!skip_memory) {
                fprintf(stderr, "copy-bench: memory at %" G_GINT64_FORMAT " and %" G_GINT64_FORMAT " MiB\n", size_mib, big_mib);
                f.rss_small = measure_rss(argv[0], (uint64_t) size_mib * MIB);
                f.rss_big = measure_rss(argv[0], (uint64_t) big_mib * MIB);
        }
        print_figures(&f, size_mib, big_mib);
        return 0;
}
