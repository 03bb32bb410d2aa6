/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What copy-bench.c (the figures) and copy-profile.c (--profile, one phase
 * alone) share: the targets, a cycle driven to its end, CPU time, iscsi-perf.
 */

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "net/copy.h"
#include "tgtd-endpoint.h"

#define LOCAL_ADDRESS "127.0.0.91"
#define REMOTE_ADDRESS "127.0.0.92"
#define DEFAULT_SEGMENTS_ADDRESS "127.0.0.93"  /* the copy target at tgt's default PDU size */
#define INITIATOR "iqn.2026-11.org.example.bench:copy"
#define SOURCE_TARGET "iqn.2026-11.org.example.bench:source"
#define COPY_TARGET "iqn.2026-11.org.example.bench:copy"
#define MIB (UINT64_C(1024) * 1024)
#define GIB (1024.0 * 1024.0 * 1024.0)
/* What libiscsi declares it takes per Data-In PDU; the targets are told to take as much. */
#define SEGMENT_LENGTH 262144u

/* Tuning under test (--buffers, --batch, --chunk-kib); iscsi-perf reads with the same size and depth. */
extern unsigned n_buffers, confirm_batch;
extern uint32_t chunk_size;

typedef struct Cycle {
        sd_event *event;
        CopyHash *hashes;               /* the caller's table; NULL entries via known */
        bool *known;
        uint64_t n_chunks;
        bool done;
        uint64_t loop_iterations;       /* of the last cycle */
        int error;
        char *message;
        CopyProgress progress;
} Cycle;

/* One cycle to its end; seconds it took. */
double run_cycle(Cycle *c, const Tgtd *source, const Tgtd *target, uint64_t bandwidth_limit, uint64_t first_chunk);
void cycle_init(Cycle *c, uint64_t size);
void cycle_done(Cycle *c);

/* CPU seconds in user and in system mode (all threads) a process has used so far; pid 0: this one. */
void cpu_times(GPid pid, double *ret_user, double *ret_system);
double cpu_seconds(GPid pid);

/* A tgtd serving size bytes; large_segments: it takes data in PDUs as large as libiscsi takes them. */
Tgtd *target_start(const char *address, const char *name, uint64_t size, bool large_segments);
/* Non-repeating data (xorshift), so nothing downstream can shortcut zeros. */
void fill(const char *path, uint64_t size);
/* Empties the copy's backing file and allocates it again, as a provisioned volume. */
void provision(const char *path, uint64_t size);
/* iscsi-perf reading t for seconds s; bytes per second, and the CPU seconds per GiB it and t used. */
double iscsi_perf(const Tgtd *t, unsigned seconds, double *ret_client_cpu, double *ret_target_cpu);

/* copy-profile.c: --profile KIND; the exit status. */
int copy_bench_profile(const char *kind, uint64_t size, unsigned perf_seconds);
