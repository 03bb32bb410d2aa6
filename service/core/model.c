/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The model's tables and objects: lookup by binary search over ids,
 * constructors and destructors, reverse associations, job states.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "model-internal.h"
#include "util/strutil.h"

static const char * const reachability_names[_REACHABLE_MAX] = {
        [REACHABLE_UNKNOWN] = "unknown",
        [REACHABLE_YES] = "yes",
        [REACHABLE_NO] = "no",
};

const char *reachability_to_string(Reachability r) {
        return r >= 0 && r < _REACHABLE_MAX ? reachability_names[r] : "unknown";
}

int reachability_from_string(const char *s) {
        for (int i = 0; i < _REACHABLE_MAX; i++)
                if (streq_ptr(s, reachability_names[i]))
                        return i;
        return -EINVAL;
}

bool job_state_is_finished(JobState s) {
        return s == JOB_STATE_COMPLETED || s == JOB_STATE_TERMINATED || s == JOB_STATE_KILLED ||
               s == JOB_STATE_EXCEPTION;
}

const char *job_state_to_string(JobState s) {
        switch (s) {
        case JOB_STATE_NEW:        return "new";
        case JOB_STATE_RUNNING:    return "running";
        case JOB_STATE_SUSPENDED:  return "suspended";
        case JOB_STATE_COMPLETED:  return "completed";
        case JOB_STATE_TERMINATED: return "terminated";
        case JOB_STATE_KILLED:     return "killed";
        case JOB_STATE_EXCEPTION:  return "exception";
        }
        return "unknown";
}

size_t job_operational_status(const Job *j, uint16_t ret[static 2]) {
        switch (j->state) {
        case JOB_STATE_NEW:
                ret[0] = 8;             /* Starting */
                return 1;
        case JOB_STATE_RUNNING:
                ret[0] = 2;             /* OK */
                return 1;
        case JOB_STATE_SUSPENDED:
                ret[0] = 2;             /* OK */
                ret[1] = 10;            /* Stopped */
                return 2;
        case JOB_STATE_COMPLETED:
                ret[0] = 2;             /* OK */
                ret[1] = 17;            /* Completed */
                return 2;
        default:
                ret[0] = 6;             /* Error */
                ret[1] = 17;            /* Completed */
                return 2;
        }
}

int job_plan_state_change(const Job *j, uint16_t requested, JobState *ret_state, ReplError *e) {
        JobState next;

        switch (requested) {
        case 2: /* Start: resume a suspended job */
                if (j->state != JOB_STATE_SUSPENDED)
                        return repl_error_set(e, -EBADRQC, "Job %" PRIu64 " is %s and cannot be started.",
                                              j->id, job_state_to_string(j->state));
                next = JOB_STATE_RUNNING;
                break;
        case 3: /* Suspend */
                if (j->state != JOB_STATE_RUNNING && j->state != JOB_STATE_NEW)
                        return repl_error_set(e, -EBADRQC, "Job %" PRIu64 " is %s and cannot be suspended.",
                                              j->id, job_state_to_string(j->state));
                next = JOB_STATE_SUSPENDED;
                break;
        case 4: /* Terminate */
        case 5: /* Kill */
                if (job_state_is_finished(j->state))
                        return repl_error_set(e, -EBADRQC, "Job %" PRIu64 " is %s already.",
                                              j->id, job_state_to_string(j->state));
                next = requested == 4 ? JOB_STATE_TERMINATED : JOB_STATE_KILLED;
                break;
        case 6: /* Service */
                return repl_error_set(e, -EOPNOTSUPP, "RequestedState 6 (Service) is not supported.");
        default:
                return repl_error_set(e, -EINVAL, "RequestedState %u is not a job state that can be requested.",
                                      requested);
        }

        *ret_state = next;
        return 0;
}

System *system_new(void) {
        System *s = calloc(1, sizeof(System));

        if (!s)
                return NULL;
        s->name = strdup("");
        s->element_name = strdup("");
        if (!s->name || !s->element_name)
                return system_free(s);
        return s;
}

System *system_free(System *s) {
        if (!s)
                return NULL;
        idset_clear(&s->access_points);
        idset_clear(&s->collections);
        free(s->name);
        free(s->element_name);
        free(s);
        return NULL;
}

AccessPoint *access_point_new(void) {
        AccessPoint *a = calloc(1, sizeof(AccessPoint));

        if (!a)
                return NULL;
        a->port = 3260;
        a->element_name = strdup("");
        a->address = strdup("");
        a->target_name = strdup("");
        a->last_error = strdup("");
        if (!a->element_name || !a->address || !a->target_name || !a->last_error)
                return access_point_free(a);
        return a;
}

AccessPoint *access_point_free(AccessPoint *a) {
        if (!a)
                return NULL;
        idset_clear(&a->collections);
        idset_clear(&a->volumes);
        free(a->element_name);
        free(a->address);
        free(a->target_name);
        free(a->last_error);
        free(a);
        return NULL;
}

SharedSecret *secret_new(void) {
        SharedSecret *s = calloc(1, sizeof(SharedSecret));

        if (!s)
                return NULL;
        s->username = strdup("");
        s->secret = strdup("");
        s->mutual_username = strdup("");
        s->mutual_secret = strdup("");
        if (!s->username || !s->secret || !s->mutual_username || !s->mutual_secret)
                return secret_free(s);
        return s;
}

SharedSecret *secret_free(SharedSecret *s) {
        if (!s)
                return NULL;
        free(s->username);
        erase_and_free(s->secret);
        free(s->mutual_username);
        erase_and_free(s->mutual_secret);
        free(s);
        return NULL;
}

Collection *collection_new(void) {
        Collection *c = calloc(1, sizeof(Collection));

        if (!c)
                return NULL;
        c->element_name = strdup("");
        if (!c->element_name)
                return collection_free(c);
        return c;
}

Collection *collection_free(Collection *c) {
        if (!c)
                return NULL;
        free(c->element_name);
        idset_clear(&c->local_access_points);
        idset_clear(&c->remote_access_points);
        idset_clear(&c->remote_systems);
        free(c);
        return NULL;
}

Collection *collection_copy(const Collection *c) {
        Collection *n = collection_new();

        if (!n)
                return NULL;
        n->id = c->id;
        n->active = c->active;
        n->delete_on_unassociated = c->delete_on_unassociated;
        n->job_id = c->job_id;
        if (free_and_strdup(&n->element_name, c->element_name) < 0 ||
            idset_copy(&n->local_access_points, &c->local_access_points) < 0 ||
            idset_copy(&n->remote_access_points, &c->remote_access_points) < 0 ||
            idset_copy(&n->remote_systems, &c->remote_systems) < 0)
                return collection_free(n);
        return n;
}

Job *job_new(void) {
        Job *j = calloc(1, sizeof(Job));

        if (!j)
                return NULL;
        j->state = JOB_STATE_NEW;
        j->delete_on_completion = true;
        j->time_before_removal = 300 * USEC_PER_SEC;
        j->name = strdup("");
        j->status = strdup("");
        j->error_description = strdup("");
        j->error_source = strdup(NULL_PATH);
        j->owner = strdup("");
        j->affected_elements = calloc(1, sizeof(char *));
        if (!j->name || !j->status || !j->error_description || !j->error_source || !j->owner ||
            !j->affected_elements)
                return job_free(j);
        return j;
}

Job *job_free(Job *j) {
        if (!j)
                return NULL;
        free(j->name);
        free(j->status);
        free(j->error_description);
        free(j->error_source);
        free(j->owner);
        strv_free(j->affected_elements);
        free(j);
        return NULL;
}

Model *model_new(const char *local_name) {
        Model *m = calloc(1, sizeof(Model));
        System *local;

        if (!m)
                return NULL;
        m->next_id = 1;
        local = system_new();
        if (!local || free_and_strdup(&local->name, local_name) < 0 ||
            free_and_strdup(&local->element_name, local_name) < 0 || model_add_system(m, local) < 0) {
                system_free(local);
                return model_free(m);
        }
        local->id = LOCAL_SYSTEM_ID;
        local->reachable = REACHABLE_YES;
        return m;
}

Model *model_free(Model *m) {
        if (!m)
                return NULL;
        object_table_free(&m->systems, (void *(*)(void *)) system_free);
        object_table_free(&m->access_points, (void *(*)(void *)) access_point_free);
        object_table_free(&m->secrets, (void *(*)(void *)) secret_free);
        object_table_free(&m->collections, (void *(*)(void *)) collection_free);
        object_table_free(&m->jobs, (void *(*)(void *)) job_free);
        model_free_replicas(m);
        hash_index_clear(&m->peers_by_name);
        hash_index_clear(&m->access_points_by_portal);
        free(m);
        return NULL;
}

uint64_t model_allocate_id(Model *m) {
        return m->next_id++;
}

System *model_get_system(const Model *m, uint64_t id) { return object_table_get(&m->systems, id); }
AccessPoint *model_get_access_point(const Model *m, uint64_t id) { return object_table_get(&m->access_points, id); }
SharedSecret *model_get_secret(const Model *m, uint64_t id) { return object_table_get(&m->secrets, id); }
Collection *model_get_collection(const Model *m, uint64_t id) { return object_table_get(&m->collections, id); }
Job *model_get_job(const Model *m, uint64_t id) { return object_table_get(&m->jobs, id); }

void model_note_id(Model *m, uint64_t id) {
        if (id >= m->next_id)
                m->next_id = id + 1;
}

#define DEFINE_MODEL_ADD_REMOVE(type, name, table)                              \
        int model_add_##name(Model *m, type *p) {                               \
                int r = object_table_add(&m->table, p);                                \
                if (r >= 0)                                                     \
                        model_note_id(m, p->id);                                \
                return r;                                                       \
        }                                                                       \
        type *model_remove_##name(Model *m, uint64_t id) {                      \
                return object_table_remove(&m->table, id);                             \
        }

DEFINE_MODEL_ADD_REMOVE(SharedSecret, secret, secrets)
DEFINE_MODEL_ADD_REMOVE(Job, job, jobs)

/* ---- indexes ---- */

static uint64_t peer_name_hash(const char *name) {
        return hash_string_ascii_nocase(HASH_SEED, name);
}

static bool peer_name_match(const void *item, const void *key) {
        return strcasecmp(((const System *) item)->name, key) == 0;
}

typedef struct PortalKey {
        uint64_t system_id;
        const char *address;
        uint16_t port;
        const char *target_name;
} PortalKey;

static uint64_t portal_hash(const PortalKey *k) {
        uint64_t h = hash_bytes(HASH_SEED, &k->system_id, sizeof(k->system_id));

        h = hash_bytes(h, &k->port, sizeof(k->port));
        h = hash_bytes(h, k->address, strlen(k->address) + 1);
        return hash_bytes(h, k->target_name, strlen(k->target_name));
}

static PortalKey portal_key_of(const AccessPoint *a) {
        return (PortalKey) { a->system_id, a->address, a->port, a->target_name };
}

static bool portal_match(const void *item, const void *key) {
        const AccessPoint *a = item;
        const PortalKey *k = key;

        return a->system_id == k->system_id && a->port == k->port && strcmp(a->address, k->address) == 0 &&
               strcmp(a->target_name, k->target_name) == 0;
}

System *model_find_peer_by_name(const Model *m, const char *name) {
        return hash_index_find(&m->peers_by_name, peer_name_hash(name), peer_name_match, name);
}

AccessPoint *model_find_access_point_by_portal(const Model *m, uint64_t system_id, const char *address, uint16_t port,
                                               const char *target_name) {
        PortalKey k = { system_id, address, port, target_name ?: "" };

        return hash_index_find(&m->access_points_by_portal, portal_hash(&k), portal_match, &k);
}

int model_add_system(Model *m, System *s) {
        int r;

        /* The local system is added before its id is final and is never looked up by name. */
        if (s->id != LOCAL_SYSTEM_ID) {
                r = hash_index_put(&m->peers_by_name, peer_name_hash(s->name), s);
                if (r < 0)
                        return r;
        }
        r = object_table_add(&m->systems, s);
        if (r < 0) {
                if (s->id != LOCAL_SYSTEM_ID)
                        hash_index_remove(&m->peers_by_name, peer_name_hash(s->name), s);
                return r;
        }
        model_note_id(m, s->id);
        return 0;
}

System *model_remove_system(Model *m, uint64_t id) {
        System *s = object_table_remove(&m->systems, id);

        if (s && s->id != LOCAL_SYSTEM_ID)
                hash_index_remove(&m->peers_by_name, peer_name_hash(s->name), s);
        return s;
}

int model_add_access_point(Model *m, AccessPoint *a) {
        System *s = model_get_system(m, a->system_id);
        PortalKey k = portal_key_of(a);
        int r;

        r = hash_index_put(&m->access_points_by_portal, portal_hash(&k), a);
        if (r < 0)
                return r;
        r = object_table_add(&m->access_points, a);
        if (r >= 0 && s)
                r = idset_add(&s->access_points, a->id);
        if (r < 0) {
                hash_index_remove(&m->access_points_by_portal, portal_hash(&k), a);
                (void) object_table_remove(&m->access_points, a->id);
                return r;
        }
        model_note_id(m, a->id);
        return 0;
}

AccessPoint *model_remove_access_point(Model *m, uint64_t id) {
        AccessPoint *a = object_table_remove(&m->access_points, id);
        System *s;

        if (!a)
                return NULL;
        PortalKey k = portal_key_of(a);
        hash_index_remove(&m->access_points_by_portal, portal_hash(&k), a);
        s = model_get_system(m, a->system_id);
        if (s)
                idset_remove(&s->access_points, id);
        return a;
}

static IdSet *access_point_collections(const Model *m, uint64_t id) {
        AccessPoint *a = model_get_access_point(m, id);

        return a ? &a->collections : NULL;
}

static IdSet *system_collections(const Model *m, uint64_t id) {
        System *s = model_get_system(m, id);

        return s ? &s->collections : NULL;
}

/* Files (or with add false, unfiles) collection c under each of its members. */
static int index_members(const Model *m, const Collection *c, bool add) {
        const struct {
                const IdSet *members;
                IdSet *(*index_of)(const Model *m, uint64_t id);
        } kinds[] = {
                { &c->local_access_points, access_point_collections },
                { &c->remote_access_points, access_point_collections },
                { &c->remote_systems, system_collections },
        };

        for (size_t k = 0; k < ELEMENTSOF(kinds); k++)
                for (size_t i = 0; i < kinds[k].members->n; i++) {
                        IdSet *set = kinds[k].index_of(m, kinds[k].members->ids[i]);

                        if (!set)
                                continue;       /* a member that is not loaded (yet) */
                        if (!add)
                                idset_remove(set, c->id);
                        else if (idset_add(set, c->id) < 0)
                                return -ENOMEM;
                }
        return 0;
}

int model_add_collection(Model *m, Collection *c) {
        int r;

        r = object_table_add(&m->collections, c);
        if (r < 0)
                return r;
        r = index_members(m, c, true);
        if (r < 0) {
                (void) index_members(m, c, false);
                (void) object_table_remove(&m->collections, c->id);
                return r;
        }
        model_note_id(m, c->id);
        return 0;
}

Collection *model_remove_collection(Model *m, uint64_t id) {
        Collection *c = object_table_remove(&m->collections, id);

        if (c)
                (void) index_members(m, c, false);
        return c;
}

int model_rebuild_indexes(Model *m) {
        MODEL_FOREACH(System, s, m->systems)
                idset_clear(&s->collections);
        MODEL_FOREACH(AccessPoint, a, m->access_points)
                idset_clear(&a->collections);
        MODEL_FOREACH(Collection, c, m->collections) {
                int r = index_members(m, c, true);

                if (r < 0)
                        return r;
        }
        return model_rebuild_replica_indexes(m);
}

int model_collections_of_access_point(const Model *m, uint64_t id, IdSet *ret) {
        IdSet *s = access_point_collections(m, id);

        if (!s) {
                idset_clear(ret);
                return 0;
        }
        return idset_copy(ret, s);
}

int model_collections_of_system(const Model *m, uint64_t id, IdSet *ret) {
        IdSet *s = system_collections(m, id);

        if (!s) {
                idset_clear(ret);
                return 0;
        }
        return idset_copy(ret, s);
}

int model_access_points_of_system(const Model *m, uint64_t system_id, IdSet *ret) {
        System *s = model_get_system(m, system_id);

        if (!s) {
                idset_clear(ret);
                return 0;
        }
        return idset_copy(ret, &s->access_points);
}

size_t model_count_running_jobs(const Model *m, bool by_uid, uint32_t uid) {
        size_t n = 0;

        MODEL_FOREACH(Job, j, m->jobs)
                if (!job_state_is_finished(j->state) && (!by_uid || j->started_by_uid == uid))
                        n++;
        return n;
}
