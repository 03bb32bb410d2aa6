/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * copy-bench --profile first|unchanged|read: one phase alone, for the
 * figures that do not move with the machine's load (see copy-bench.c and
 * bench/run --copy-profile).
 */

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "copy-bench.h"

/* The hashes of the source's chunks, from its backing file, as an earlier cycle would have confirmed them. */
static void hash_backing_file(Cycle *c, const char *path) {
        g_autofree uint8_t *buf = g_malloc(chunk_size);
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        if (fd < 0)
                g_error("open %s: %m", path);
        for (uint64_t i = 0; i < c->n_chunks; i++) {
                if (pread(fd, buf, chunk_size, (off_t) (i * chunk_size)) != (ssize_t) chunk_size)
                        g_error("pread %s: %m", path);
                copy_hash_chunk(buf, chunk_size, &c->hashes[i]);
                c->known[i] = true;
        }
        close(fd);
}

/* Not inlined: callgrind --toggle-collect=profiled_cycle counts this cycle and nothing else. */
static G_GNUC_NO_INLINE double profiled_cycle(Cycle *c, const Tgtd *source, const Tgtd *target) {
        return run_cycle(c, source, target, 0, 0);
}

/* CPU seconds so far of this process (user and system mode apart) and of both targets. */
typedef struct CpuSplit {
        double self_user, self_system, source, target;
} CpuSplit;

static void cpu_split_sample(CpuSplit *s, const Tgtd *source, const Tgtd *target) {
        cpu_times(0, &s->self_user, &s->self_system);
        s->source = cpu_seconds(source->pid);
        s->target = target ? cpu_seconds(target->pid) : 0;
}

static void cpu_split_print(const CpuSplit *before, const CpuSplit *after, double mib) {
        printf("CPU ms per MiB: this process %.3f user + %.3f system, source tgtd %.3f, copy tgtd %.3f\n",
               (after->self_user - before->self_user) * 1e3 / mib, (after->self_system - before->self_system) * 1e3 / mib,
               (after->source - before->source) * 1e3 / mib, (after->target - before->target) * 1e3 / mib);
}

/*
 * --profile first|unchanged|read: only that one phase, for the figures
 * that do not move with the machine's load (callgrind's instructions, the
 * system calls perf or strace count, the loop's iterations, CPU time, each
 * per MiB). "unchanged" takes the previous hashes from the source's backing
 * file, so that no first cycle runs in the same process; "read" is the
 * floor, iscsi-perf for --perf-seconds.
 */
static void profile_read(const Tgtd *source, unsigned perf_seconds) {
        double client_cpu, target_cpu, rate = iscsi_perf(source, perf_seconds, &client_cpu, &target_cpu);

        printf("read pass: %.0f MB/s; CPU ms per MiB: iscsi-perf %.3f, source tgtd %.3f\n", rate / 1e6,
               client_cpu * 1e3 / 1024, target_cpu * 1e3 / 1024);
}

static void profile_cycle(const Tgtd *source, const Tgtd *target, uint64_t size, bool unchanged) {
        double seconds, mib = (double) size / MIB;
        CpuSplit before, after;
        Cycle c;

        cycle_init(&c, size);
        if (unchanged)
                hash_backing_file(&c, source->backing_file);
        else
                provision(target->backing_file, size);
        cpu_split_sample(&before, source, target);
        seconds = profiled_cycle(&c, source, target);
        cpu_split_sample(&after, source, target);
        if (c.progress.bytes_transferred != (unchanged ? 0 : size))
                g_error("the cycle wrote %" PRIu64 " bytes", c.progress.bytes_transferred);
        printf("%s cycle of %.0f MiB: %.3f s, %" PRIu64 " loop iterations (%.2f per MiB), %" PRIu64 " bytes written\n",
               unchanged ? "unchanged" : "first", mib, seconds, c.loop_iterations, (double) c.loop_iterations / mib,
               c.progress.bytes_transferred);
        cpu_split_print(&before, &after, mib);
        cycle_done(&c);
}

int copy_bench_profile(const char *kind, uint64_t size, unsigned perf_seconds) {
        g_autoptr(Tgtd) source = NULL, target = NULL;

        if (strcmp(kind, "first") != 0 && strcmp(kind, "unchanged") != 0 && strcmp(kind, "read") != 0) {
                fprintf(stderr, "copy-bench: --profile takes first, unchanged or read\n");
                return 2;
        }
        source = target_start(LOCAL_ADDRESS, SOURCE_TARGET, size, true);
        target = target_start(REMOTE_ADDRESS, COPY_TARGET, size, true);
        fill(source->backing_file, size);
        if (strcmp(kind, "read") == 0)
                profile_read(source, perf_seconds);
        else
                profile_cycle(source, target, size, strcmp(kind, "unchanged") == 0);
        return 0;
}
