/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A small replica world on real targets (API.md section 10): two tgtd, one
 * serving the source LUN on the local access point's address, one the copy
 * on a peer's; the two access points, a collection holding both, and the
 * two volumes registered through AddStorageVolume. Each tgtd serves its
 * target's LUN 1 from a sparse file.
 */

#include "harness.h"
#include "tgtd.h"

typedef struct ReplicaFixture {
        Tgtd *source_tgtd, *copy_tgtd;
        char *peer;
        char *local_ap, *remote_ap;
        char *collection;
        char *source, *copy;            /* the two volumes */
} ReplicaFixture;

/*
 * Builds the world with tgtd on source_address and copy_address (127.0.0.x),
 * LUNs of size bytes. FALSE (the test skipped) when tgtd cannot run here.
 */
gboolean replica_fixture_init(ReplicaFixture *f, Harness *h, const char *source_address, const char *copy_address,
                              guint64 size);
/* The two halves of replica_fixture_init(): the tgtd (FALSE: skipped), then the objects, the copy's access point at copy_portal:copy_port. */
gboolean replica_fixture_start_targets(ReplicaFixture *f, const char *source_address, const char *copy_address,
                                       guint64 size);
void replica_fixture_register(ReplicaFixture *f, Harness *h, const char *copy_portal, guint16 copy_port);
void replica_fixture_clear(ReplicaFixture *f);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(ReplicaFixture, replica_fixture_clear)

/*
 * AddStorageVolume of LUN 1 of target_name (NULL: the access point's) behind
 * access_point; waits for its job and returns the new volume.
 */
char *replica_fixture_add_volume(Harness *h, const char *access_point, const char *target_name,
                                 const char *element_name);

/* CreateElementReplica of source to copy over the fixture's collection; returns the synchronization, *ret_job its job. */
char *replica_fixture_create(Harness *h, const ReplicaFixture *f, guint16 sync_type, char **ret_job);
