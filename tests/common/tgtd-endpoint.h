/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The VolumeEndpoint for LUN 1 of a Tgtd from tgtd_start(), for the tests
 * and benchmarks that link the service library; a header of its own so that
 * tgtd.h stays free of it for the integration tests, which do not.
 */

#include "net/volume-session.h"
#include "tgtd.h"

static inline VolumeEndpoint tgtd_endpoint(const Tgtd *t, const char *source_address, const char *initiator_name) {
        return (VolumeEndpoint) {
                .source_address = source_address,
                .address = t->address,
                .port = t->port,
                .target_name = t->target_name,
                .lun = 1,
                .initiator_name = initiator_name,
        };
}
