/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What model.c and model-replica.c share and nothing else sees. */

#include "model.h"

/* Raises next_id past an id that entered the model. */
void model_note_id(Model *m, uint64_t id);

/* model-replica.c's part of model_free() and model_rebuild_indexes(). */
void model_free_replicas(Model *m);
int model_rebuild_replica_indexes(Model *m);
