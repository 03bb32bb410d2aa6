/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A stand-in for the replica part of the service (API.md section 10) that
 * the daemon does not implement yet, so that iscsi-replctl's following of a
 * replica job can be tested now: on the test's bus it owns the service's
 * name (stop the daemon first) and serves one synchronization, the
 * ModifyReplicaSynchronization method, and the job a resync starts, with
 * the signals the contract promises. The job completes once the client has
 * read the job's properties. To be replaced by the daemon's own objects
 * when it implements them.
 */

#include <gio/gio.h>

#define STANDIN_SYNCHRONIZATION "/org/iscsi/ReplicationService/synchronization/1"
#define STANDIN_JOB "/org/iscsi/ReplicationService/job/1"
/* What the synchronization reports while the job runs. */
#define STANDIN_BYTES_TRANSFERRED (G_GUINT64_CONSTANT(3) << 29)       /* 1.5 GiB */
#define STANDIN_RATE (G_GUINT64_CONSTANT(85) << 20)                   /* 85 MiB/s */
#define STANDIN_SECONDS_LEFT 125

typedef struct ReplicaStandin ReplicaStandin;

ReplicaStandin *replica_standin_new(const char *bus_address);
void replica_standin_free(ReplicaStandin *s);
/* The Operation of the last ModifyReplicaSynchronization call; 0 before any. */
guint16 replica_standin_operation(const ReplicaStandin *s);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(ReplicaStandin, replica_standin_free)
