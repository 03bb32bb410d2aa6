/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The model's storage volumes and synchronizations: their tables and the
 * indexes that spare every lookup a scan — a volume by (access point,
 * target name, LUN), the volumes behind an access point, the
 * synchronizations using a volume and those of a collection.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "model-internal.h"

/* One collection's synchronizations; an entry exists while the set is not empty. */
typedef struct CollectionSynchronizations {
        uint64_t collection_id;
        IdSet synchronizations;
} CollectionSynchronizations;

static void *collection_synchronizations_free(void *p) {
        CollectionSynchronizations *c = p;

        if (c)
                idset_clear(&c->synchronizations);
        free(c);
        return NULL;
}

void model_free_replicas(Model *m) {
        object_table_free(&m->volumes, (void *(*)(void *)) volume_free);
        object_table_free(&m->synchronizations, (void *(*)(void *)) synchronization_free);
        object_table_free(&m->synchronizations_by_collection, collection_synchronizations_free);
        hash_index_clear(&m->volumes_by_lun);
}

Volume *model_get_volume(const Model *m, uint64_t id) {
        return object_table_get(&m->volumes, id);
}

Synchronization *model_get_synchronization(const Model *m, uint64_t id) {
        return object_table_get(&m->synchronizations, id);
}

/* ---- volumes by (access point, target name, LUN) ---- */

typedef struct LunKey {
        uint64_t access_point_id;
        const char *target_name;
        uint16_t lun;
} LunKey;

/* iSCSI names compare without regard to ASCII case (core/validate.c says why). */
static uint64_t lun_hash(const LunKey *k) {
        uint64_t h = hash_bytes(HASH_SEED, &k->access_point_id, sizeof(k->access_point_id));

        h = hash_bytes(h, &k->lun, sizeof(k->lun));
        return hash_string_ascii_nocase(h, k->target_name);
}

static LunKey lun_key_of(const Volume *v) {
        return (LunKey) { v->access_point_id, v->target_name, v->lun };
}

static bool lun_match(const void *item, const void *key) {
        const Volume *v = item;
        const LunKey *k = key;

        return v->access_point_id == k->access_point_id && v->lun == k->lun &&
               strcasecmp(v->target_name, k->target_name) == 0;
}

Volume *model_find_volume_by_lun(const Model *m, uint64_t access_point_id, const char *target_name, uint16_t lun) {
        LunKey k = { access_point_id, target_name ?: "", lun };

        return hash_index_find(&m->volumes_by_lun, lun_hash(&k), lun_match, &k);
}

/* ---- volumes ---- */

static void unindex_volume(Model *m, const Volume *v) {
        LunKey k = lun_key_of(v);
        AccessPoint *a = model_get_access_point(m, v->access_point_id);

        hash_index_remove(&m->volumes_by_lun, lun_hash(&k), v);
        if (a)
                idset_remove(&a->volumes, v->id);
}

int model_add_volume(Model *m, Volume *v) {
        AccessPoint *a = model_get_access_point(m, v->access_point_id);
        LunKey k = lun_key_of(v);
        int r;

        r = object_table_add(&m->volumes, v);
        if (r < 0)
                return r;
        r = hash_index_put(&m->volumes_by_lun, lun_hash(&k), v);
        if (r >= 0 && a)
                r = idset_add(&a->volumes, v->id);
        if (r < 0) {
                unindex_volume(m, v);
                (void) object_table_remove(&m->volumes, v->id);
                return r;
        }
        model_note_id(m, v->id);
        return 0;
}

Volume *model_remove_volume(Model *m, uint64_t id) {
        Volume *v = object_table_remove(&m->volumes, id);

        if (v)
                unindex_volume(m, v);
        return v;
}

/* ---- synchronizations ---- */

static int collection_index_add(Model *m, uint64_t collection_id, uint64_t sync_id) {
        CollectionSynchronizations *c = object_table_get(&m->synchronizations_by_collection, collection_id);
        int r;

        if (!c) {
                c = calloc(1, sizeof(CollectionSynchronizations));
                if (!c)
                        return -ENOMEM;
                c->collection_id = collection_id;
                r = object_table_add(&m->synchronizations_by_collection, c);
                if (r < 0) {
                        free(c);
                        return r;
                }
        }
        r = idset_add(&c->synchronizations, sync_id);
        if (r < 0 && c->synchronizations.n == 0)
                collection_synchronizations_free(object_table_remove(&m->synchronizations_by_collection, collection_id));
        return r;
}

static void collection_index_remove(Model *m, uint64_t collection_id, uint64_t sync_id) {
        CollectionSynchronizations *c = object_table_get(&m->synchronizations_by_collection, collection_id);

        if (!c)
                return;
        idset_remove(&c->synchronizations, sync_id);
        if (c->synchronizations.n == 0)
                collection_synchronizations_free(object_table_remove(&m->synchronizations_by_collection, collection_id));
}

/* Files (or with add false, unfiles) s under its volumes and its collection. */
static int index_synchronization(Model *m, const Synchronization *s, bool add) {
        uint64_t volumes[] = { s->source_volume_id, s->copy_volume_id };

        for (size_t i = 0; i < ELEMENTSOF(volumes); i++) {
                Volume *v = model_get_volume(m, volumes[i]);

                if (!v)
                        continue;       /* not loaded (yet) */
                if (!add)
                        idset_remove(&v->synchronizations, s->id);
                else if (idset_add(&v->synchronizations, s->id) < 0)
                        return -ENOMEM;
        }
        if (!add) {
                collection_index_remove(m, s->collection_id, s->id);
                return 0;
        }
        return collection_index_add(m, s->collection_id, s->id);
}

int model_add_synchronization(Model *m, Synchronization *s) {
        int r;

        r = object_table_add(&m->synchronizations, s);
        if (r < 0)
                return r;
        r = index_synchronization(m, s, true);
        if (r < 0) {
                (void) index_synchronization(m, s, false);
                (void) object_table_remove(&m->synchronizations, s->id);
                return r;
        }
        model_note_id(m, s->id);
        return 0;
}

Synchronization *model_remove_synchronization(Model *m, uint64_t id) {
        Synchronization *s = object_table_remove(&m->synchronizations, id);

        if (s)
                (void) index_synchronization(m, s, false);
        return s;
}

int model_rebuild_replica_indexes(Model *m) {
        MODEL_FOREACH(AccessPoint, a, m->access_points)
                idset_clear(&a->volumes);
        MODEL_FOREACH(Volume, v, m->volumes) {
                AccessPoint *a = model_get_access_point(m, v->access_point_id);

                idset_clear(&v->synchronizations);
                if (a && idset_add(&a->volumes, v->id) < 0)
                        return -ENOMEM;
        }
        object_table_free(&m->synchronizations_by_collection, collection_synchronizations_free);
        MODEL_FOREACH(Synchronization, s, m->synchronizations) {
                int r = index_synchronization(m, s, true);

                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- reverse lookups ---- */

static int copy_or_clear(IdSet *ret, const IdSet *s) {
        if (!s) {
                idset_clear(ret);
                return 0;
        }
        return idset_copy(ret, s);
}

int model_volumes_of_access_point(const Model *m, uint64_t access_point_id, IdSet *ret) {
        AccessPoint *a = model_get_access_point(m, access_point_id);

        return copy_or_clear(ret, a ? &a->volumes : NULL);
}

int model_synchronizations_of_volume(const Model *m, uint64_t volume_id, IdSet *ret) {
        Volume *v = model_get_volume(m, volume_id);

        return copy_or_clear(ret, v ? &v->synchronizations : NULL);
}

int model_synchronizations_of_collection(const Model *m, uint64_t collection_id, IdSet *ret) {
        CollectionSynchronizations *c = object_table_get(&m->synchronizations_by_collection, collection_id);

        return copy_or_clear(ret, c ? &c->synchronizations : NULL);
}

Synchronization *model_find_synchronization_of_volume(const Model *m, uint64_t volume_id, bool as_source) {
        Volume *v = model_get_volume(m, volume_id);

        if (!v)
                return NULL;
        /* A volume takes part in a handful of synchronizations at most: its own set, not the table. */
        for (size_t i = 0; i < v->synchronizations.n; i++) {
                Synchronization *s = model_get_synchronization(m, v->synchronizations.ids[i]);

                if (s && (as_source ? s->source_volume_id : s->copy_volume_id) == volume_id)
                        return s;
        }
        return NULL;
}
