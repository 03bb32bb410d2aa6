/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A stand-in for the replica part of the service (API.md section 10) that
 * the daemon does not implement yet, so that iscsi-replctl's following of a
 * replica job can be tested now: on the test's bus it owns the service's
 * name (stop the daemon first) and serves an access point (127.0.0.1:3260), two volumes (db, local; db-copy,
 * remote), a collection (backup-set) and a synchronization (db-mirror), the
 * AddStorageVolume, CreateElementReplica and ModifyReplicaSynchronization
 * methods, the synchronization's Modify and Compare, and the one job any of
 * them starts, with the signals the contract promises. The job completes once the client has
 * read the job's properties. To be replaced by the daemon's own objects
 * when it implements them.
 */

#include <gio/gio.h>

#define STANDIN_ACCESS_POINT "/org/iscsi/ReplicationService/access_point/1"
#define STANDIN_SOURCE "/org/iscsi/ReplicationService/volume/1"
#define STANDIN_TARGET "/org/iscsi/ReplicationService/volume/2"
#define STANDIN_COLLECTION "/org/iscsi/ReplicationService/collection/1"
#define STANDIN_SYNCHRONIZATION "/org/iscsi/ReplicationService/synchronization/1"
#define STANDIN_JOB "/org/iscsi/ReplicationService/job/1"
/* What the synchronization reports while the job runs. */
#define STANDIN_BYTES_TRANSFERRED (G_GUINT64_CONSTANT(3) << 29)       /* 1.5 GiB */
#define STANDIN_RATE (G_GUINT64_CONSTANT(85) << 20)                   /* 85 MiB/s */
#define STANDIN_SECONDS_LEFT 125
/* Both volumes: 512-byte blocks, 1 GiB. */
#define STANDIN_VOLUME_BLOCKS (G_GUINT64_CONSTANT(1) << 21)

typedef struct ReplicaStandin ReplicaStandin;

ReplicaStandin *replica_standin_new(const char *bus_address);
void replica_standin_free(ReplicaStandin *s);
/* The method that started the job, and its arguments; NULL before any. */
const char *replica_standin_job_method(const ReplicaStandin *s);
GVariant *replica_standin_job_arguments(const ReplicaStandin *s);
/* The arguments of the last Modify call on the synchronization, (a{sv}); NULL before any. */
GVariant *replica_standin_modify_arguments(const ReplicaStandin *s);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(ReplicaStandin, replica_standin_free)
