/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The model's tables by kind, for code that handles every kind alike (the engine's changes). */

#include <errno.h>

#include "model.h"

int model_add_object(Model *m, ObjectKind kind, void *object) {
        switch (kind) {
        case OBJECT_SYSTEM:
                return model_add_system(m, object);
        case OBJECT_ACCESS_POINT:
                return model_add_access_point(m, object);
        case OBJECT_SECRET:
                return model_add_secret(m, object);
        case OBJECT_COLLECTION:
                return model_add_collection(m, object);
        case OBJECT_JOB:
                return model_add_job(m, object);
        case OBJECT_VOLUME:
                return model_add_volume(m, object);
        case OBJECT_SYNCHRONIZATION:
                return model_add_synchronization(m, object);
        default:
                return -EINVAL;
        }
}

void *model_remove_object(Model *m, ObjectKind kind, uint64_t id) {
        switch (kind) {
        case OBJECT_SYSTEM:
                return model_remove_system(m, id);
        case OBJECT_ACCESS_POINT:
                return model_remove_access_point(m, id);
        case OBJECT_SECRET:
                return model_remove_secret(m, id);
        case OBJECT_COLLECTION:
                return model_remove_collection(m, id);
        case OBJECT_JOB:
                return model_remove_job(m, id);
        case OBJECT_VOLUME:
                return model_remove_volume(m, id);
        case OBJECT_SYNCHRONIZATION:
                return model_remove_synchronization(m, id);
        default:
                return NULL;
        }
}
