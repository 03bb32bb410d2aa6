/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The engine tests' world (engine-fixture.h). */

#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "engine-fixture.h"
#include "util/log.h"
#include "util/strutil.h"

/* ---- what the observer saw ---- */

static void note_free(gpointer p) {
        Note *n = p;

        g_free(n->properties);
        g_free(n->error_description);
        g_free(n->affected);
        g_free(n);
}

static Note *note_new(Fixture *f, NoteType type, ObjectKind kind, uint64_t id) {
        Note *n = g_new0(Note, 1);

        n->type = type;
        n->kind = kind;
        n->id = id;
        n->realtime = now_usec(CLOCK_REALTIME);
        n->monotonic = now_usec(CLOCK_MONOTONIC);
        g_ptr_array_add(f->notes, n);
        return n;
}

static void on_object_added(ObjectKind kind, uint64_t id, void *userdata) {
        Fixture *f = userdata;

        /* The bus layer reads the new object's properties at once. */
        g_assert_true(model_has(f->engine->model, kind, id));
        note_new(f, NOTE_ADDED, kind, id);
}

static void on_object_removed(ObjectKind kind, uint64_t id, void *userdata) {
        Fixture *f = userdata;

        g_assert_true(model_has(f->engine->model, kind, id));
        note_new(f, NOTE_REMOVED, kind, id);
}

static void on_properties_changed(ObjectKind kind, uint64_t id, const char * const *properties, void *userdata) {
        Fixture *f = userdata;
        Note *n;

        g_assert_nonnull(properties);
        g_assert_nonnull(properties[0]);
        g_assert_true(model_has(f->engine->model, kind, id));
        n = note_new(f, NOTE_CHANGED, kind, id);
        n->properties = g_strjoinv(",", (char **) properties);
}

static void on_job_completed(const Job *j, void *userdata) {
        Fixture *f = userdata;
        Note *n;

        g_assert_true(model_get_job(f->engine->model, j->id) == j);
        g_assert_true(job_state_is_finished(j->state));
        n = note_new(f, NOTE_COMPLETED, OBJECT_JOB, j->id);
        n->state = j->state;
        n->time_of_last_state_change = j->time_of_last_state_change;
        n->error_code = j->error_code;
        n->error_description = g_strdup(j->error_description);
        n->affected = g_strjoinv(",", j->affected_elements);
}

static const EngineObserver observer = {
        .object_added = on_object_added,
        .object_removed = on_object_removed,
        .properties_changed = on_properties_changed,
        .job_completed = on_job_completed,
};

unsigned notes_count(Fixture *f, NoteType type, ObjectKind kind, uint64_t id) {
        unsigned n = 0;

        for (guint i = 0; i < f->notes->len; i++) {
                const Note *x = f->notes->pdata[i];

                if (x->type == type && x->kind == kind && (id == ANY_ID || x->id == id))
                        n++;
        }
        return n;
}

const Note *notes_find(Fixture *f, NoteType type, ObjectKind kind, uint64_t id, unsigned nth) {
        for (guint i = 0; i < f->notes->len; i++) {
                const Note *x = f->notes->pdata[i];

                if (x->type == type && x->kind == kind && x->id == id && nth-- == 0)
                        return x;
        }
        return NULL;
}

guint notes_index(Fixture *f, const Note *n) {
        for (guint i = 0; i < f->notes->len; i++)
                if (f->notes->pdata[i] == n)
                        return i;
        g_assert_not_reached();
}

/* The only property change of an object, as "A,B". */
const char *only_change(Fixture *f, ObjectKind kind, uint64_t id) {
        g_assert_cmpuint(notes_count(f, NOTE_CHANGED, kind, id), ==, 1);
        return notes_find(f, NOTE_CHANGED, kind, id, 0)->properties;
}

void notes_clear(Fixture *f) {
        g_ptr_array_set_size(f->notes, 0);
}

/* ---- the event loop ---- */

typedef struct Wait {
        Fixture *f;
        wait_condition_t done;
} Wait;

static bool wait_done(void *userdata, uint64_t arg) {
        Wait *w = userdata;

        return w->done(w->f, arg);
}

void run_until(Fixture *f, wait_condition_t done, uint64_t arg, const char *what) {
        loop_run_until(f->event, wait_done, &(Wait) { f, done }, arg, what);
}

bool job_has_completed(Fixture *f, uint64_t id) {
        return notes_count(f, NOTE_COMPLETED, OBJECT_JOB, id) > 0;
}

bool job_was_removed(Fixture *f, uint64_t id) {
        return notes_count(f, NOTE_REMOVED, OBJECT_JOB, id) > 0;
}

bool job_is_running(Fixture *f, uint64_t id) {
        Job *j = model_get_job(f->engine->model, id);

        return j && j->state != JOB_STATE_NEW;
}

void wait_completed(Fixture *f, uint64_t job) {
        run_until(f, job_has_completed, job, "job completion");
}

/* Whatever is ready now, without waiting for anything that is not. */
void run_pending(Fixture *f) {
        for (unsigned i = 0; i < 100; i++) {
                int r = sd_event_run(f->event, 0);

                g_assert_cmpint(r, >=, 0);
                if (r == 0)
                        return;
        }
        g_assert_not_reached();
}

/* ---- peers on loopback ---- */

static int connect_nonblocking(const char *address, uint16_t port) {
        struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
        int fd;

        g_assert_cmpint(inet_pton(AF_INET, address, &sin.sin_addr), ==, 1);
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        g_assert_cmpint(fd, >=, 0);
        if (connect(fd, (struct sockaddr *) &sin, sizeof(sin)) < 0)
                g_assert_cmpint(errno, ==, EINPROGRESS);
        return fd;
}

static void peers_start(Fixture *f) {
        struct pollfd p;

        f->listen_fd = socket_on(LISTEN_ADDRESS, &f->listen_port);
        g_assert_cmpint(listen(f->listen_fd, 64), ==, 0);

        /* Bound, so the port stays ours, but not listening: a SYN gets a reset. */
        f->refuse_fd = socket_on(REFUSE_ADDRESS, &f->refuse_port);

        f->hang_fd = socket_on(HANG_ADDRESS, &f->hang_port);
        g_assert_cmpint(listen(f->hang_fd, 0), ==, 0);
        /* The first connection fills the queue; wait until it is in it, so the
         * following SYNs are dropped rather than raced. */
        f->hang_fillers[0] = connect_nonblocking(HANG_ADDRESS, f->hang_port);
        p = (struct pollfd) { .fd = f->hang_fillers[0], .events = POLLOUT };
        g_assert_cmpint(poll(&p, 1, 5000), ==, 1);
        for (size_t i = 1; i < ELEMENTSOF(f->hang_fillers); i++)
                f->hang_fillers[i] = connect_nonblocking(HANG_ADDRESS, f->hang_port);
}

static void peers_stop(Fixture *f) {
        closep(&f->listen_fd);
        closep(&f->refuse_fd);
        closep(&f->hang_fd);
        for (size_t i = 0; i < ELEMENTSOF(f->hang_fillers); i++)
                closep(&f->hang_fillers[i]);
}

/* ---- the state directory seen from outside ---- */

static void dump_ids(GString *s, const char *name, const IdSet *ids) {
        g_string_append_printf(s, " %s=[", name);
        for (size_t i = 0; i < ids->n; i++)
                g_string_append_printf(s, "%s%" PRIu64, i ? "," : "", ids->ids[i]);
        g_string_append(s, "]");
}

/*
 * Everything a caller could see of the objects (not how reachable they were
 * found, which a verification records whether or not it commits) and,
 * optionally, of the jobs; one line each, in id order.
 */
char *model_dump(const Model *m, bool with_jobs) {
        GString *s = g_string_new(NULL);

        MODEL_FOREACH(System, x, m->systems)
                g_string_append_printf(s, "system %" PRIu64 " name=%s element=%s\n", x->id, x->name, x->element_name);
        MODEL_FOREACH(AccessPoint, x, m->access_points)
                g_string_append_printf(s, "ap %" PRIu64 " system=%" PRIu64 " %s:%u target=%s tag=%u secret=%" PRIu64
                                       " element=%s\n",
                                       x->id, x->system_id, x->address, x->port, x->target_name, x->portal_group_tag,
                                       x->secret_id, x->element_name);
        MODEL_FOREACH(SharedSecret, x, m->secrets)
                g_string_append_printf(s, "secret %" PRIu64 " ap=%" PRIu64 " user=%s secret=%s mutual=%s/%s\n", x->id,
                                       x->access_point_id, x->username, x->secret, x->mutual_username, x->mutual_secret);
        MODEL_FOREACH(Collection, x, m->collections) {
                g_string_append_printf(s, "collection %" PRIu64 " element=%s active=%d doa=%d", x->id,
                                       x->element_name, x->active, x->delete_on_unassociated);
                dump_ids(s, "local", &x->local_access_points);
                dump_ids(s, "remote", &x->remote_access_points);
                dump_ids(s, "systems", &x->remote_systems);
                g_string_append(s, "\n");
        }
        if (with_jobs)
                MODEL_FOREACH(Job, x, m->jobs) {
                        g_autofree char *affected = g_strjoinv(",", x->affected_elements);

                        g_string_append_printf(s, "job %" PRIu64 " %s state=%d code=%u desc=%s affected=%s\n", x->id,
                                               x->name, x->state, x->error_code, x->error_description, affected);
                }
        return g_string_free(s, FALSE);
}

/* The state as the next start of the service would load it. */
Model *stored_model(Fixture *f) {
        return stored_model_of(f->dir, LOCAL_NAME);
}

static char *stored_dump(Fixture *f, bool with_jobs) {
        Model *m = stored_model(f);
        char *s = model_dump(m, with_jobs);

        model_free(m);
        return s;
}

Snapshot snapshot(Fixture *f, bool with_jobs) {
        return (Snapshot) {
                .model = model_dump(f->engine->model, with_jobs),
                .store = stored_dump(f, with_jobs),
        };
}

void snapshot_done(Snapshot *s) {
        g_free(s->model);
        g_free(s->store);
}

void assert_unchanged(Fixture *f, const Snapshot *before, bool with_jobs) {
        Snapshot now = snapshot(f, with_jobs);

        g_assert_cmpstr(now.model, ==, before->model);
        g_assert_cmpstr(now.store, ==, before->store);
        snapshot_done(&now);
}

/* Model and store agree (what was committed is what is in memory). */
void assert_model_is_stored(Fixture *f) {
        Snapshot now = snapshot(f, true);

        g_assert_cmpstr(now.model, ==, now.store);
        snapshot_done(&now);
}

/* ---- fixture ---- */

void engine_open(Fixture *f) {
        g_assert_null(f->engine);
        g_assert_cmpint(engine_new(f->event, f->dir, LOCAL_NAME, &f->config, &f->engine), ==, 0);
        engine_set_observer(f->engine, &observer, f);
        g_assert_cmpint(engine_recover(f->engine), ==, 0);
}

void engine_close(Fixture *f) {
        f->engine = engine_free(f->engine);
}

static void setup(Fixture *f, gconstpointer data) {
        GError *error = NULL;

        f->dir = g_dir_make_tmp("test-engine-XXXXXX", &error);
        g_assert_no_error(error);
        g_assert_cmpint(sd_event_new(&f->event), >=, 0);
        f->config = SERVICE_CONFIG_INIT;
        f->notes = g_ptr_array_new_with_free_func(note_free);
        f->caller = (Caller) { .uid = 1000, .owner = ":1.42 (uid 1000)" };
        f->err = REPL_ERROR_INIT;
        f->listen_fd = f->refuse_fd = f->hang_fd = -1;
        for (size_t i = 0; i < ELEMENTSOF(f->hang_fillers); i++)
                f->hang_fillers[i] = -1;
        peers_start(f);
}

void teardown(Fixture *f, gconstpointer data) {
        engine_close(f);
        peers_stop(f);
        g_ptr_array_unref(f->notes);
        sd_event_unref(f->event);
        state_dir_remove(f->dir);
        g_free(f->dir);
}

/* ---- calling the engine ---- */

void assert_failed(Fixture *f, int r, int expected) {
        g_assert_cmpint(r, ==, expected);
        g_assert_cmpint(f->err.error, ==, expected);
        g_assert_cmpstr(f->err.message, !=, "");
        repl_error_clear(&f->err);
}

/*
 * Commits the group the calls before queued, as the event loop's next turn
 * would; only then are their objects in the model and announced.
 */
void flush(Fixture *f) {
        g_assert_cmpint(engine_flush(f->engine), ==, 0);
}

uint64_t add_peer(Fixture *f, const char *name) {
        uint64_t id = 0;

        g_assert_cmpint(engine_add_peer_system(f->engine, &f->caller, name, "", &id, &f->err), ==, 0);
        flush(f);
        g_assert_nonnull(model_get_system(f->engine->model, id));
        return id;
}

uint64_t add_access_point(Fixture *f, uint64_t system, const char *address, uint16_t port) {
        AccessPointSpec spec = { .address = address, .port = port, .target_name = "", .element_name = "" };
        uint64_t id = 0;

        g_assert_cmpint(engine_add_access_point(f->engine, &f->caller, PATH(OBJECT_SYSTEM, system), &spec, &id,
                                                &f->err), ==, 0);
        flush(f);
        g_assert_nonnull(model_get_access_point(f->engine->model, id));
        return id;
}

/* A collection without remote access points never needs a job. */
uint64_t create_collection(Fixture *f, const char *name, const char * const *locals, bool doa) {
        MemberArgs a = members(locals, NULL, NULL);
        uint64_t id = 0, job_id = UINT64_MAX;

        g_assert_cmpint(engine_create_collection(f->engine, &f->caller, name, &a, true, doa, &id, &job_id, &f->err), ==,
                        0);
        g_assert_cmpuint(job_id, ==, 0);
        flush(f);
        g_assert_nonnull(model_get_collection(f->engine->model, id));
        return id;
}

/* A call that succeeds is committed before it returns, so the test sees its effect. */
int add_to(Fixture *f, uint64_t collection, const char * const *locals, const char * const *remotes,
           const char *system, uint64_t *ret_job) {
        MemberArgs a = members(locals, remotes, system);
        int r;

        *ret_job = UINT64_MAX;          /* proves the engine writes it */
        r = engine_add_to_collection(f->engine, &f->caller, PATH(OBJECT_COLLECTION, collection), &a, ret_job, &f->err);
        if (r == 0)
                flush(f);
        return r;
}

int remove_from(Fixture *f, uint64_t collection, const char * const *locals, const char * const *remotes,
                const char *system) {
        MemberArgs a = members(locals, remotes, system);
        int r;

        r = engine_remove_from_collection(f->engine, &f->caller, PATH(OBJECT_COLLECTION, collection), &a, &f->err);
        if (r == 0)
                flush(f);
        return r;
}

/* Starts a job that adds one remote access point of the peer to the collection. */
uint64_t start_add_job(Fixture *f, uint64_t collection, uint64_t remote) {
        const char *remotes[] = { PATH(OBJECT_ACCESS_POINT, remote), NULL };
        uint64_t id = 0;

        g_assert_cmpint(add_to(f, collection, NULL, remotes, PATH(OBJECT_SYSTEM, f->peer), &id), ==, 0);
        g_assert_cmpuint(id, !=, 0);
        g_assert_cmpuint(id, !=, UINT64_MAX);
        g_assert_nonnull(model_get_job(f->engine->model, id));
        g_assert_cmpint(model_get_job(f->engine->model, id)->state, ==, JOB_STATE_NEW);
        return id;
}

/* Starts Verify of an access point (or GetPeerSystems when ap is 0) for caller; its job is in the model. */
uint64_t start_job(Fixture *f, const Caller *caller, uint64_t ap) {
        uint64_t id = 0;

        if (ap)
                g_assert_cmpint(engine_verify_access_point(f->engine, caller, ap, &id, &f->err), ==, 0);
        else
                g_assert_cmpint(engine_probe_peer_systems(f->engine, caller, &id, &f->err), ==, 0);
        flush(f);
        g_assert_nonnull(model_get_job(f->engine->model, id));
        return id;
}

/* RequestStateChange; whatever it ends is committed before it returns. */
void request_state(Fixture *f, uint64_t id, uint16_t requested) {
        g_assert_cmpint(engine_job_request_state_change(f->engine, &f->caller, id, requested, &f->err), ==, 0);
        flush(f);
}

Job *job(Fixture *f, uint64_t id) {
        Job *j = model_get_job(f->engine->model, id);

        g_assert_nonnull(j);
        return j;
}

Collection *collection(Fixture *f, uint64_t id) {
        Collection *c = model_get_collection(f->engine->model, id);

        g_assert_nonnull(c);
        return c;
}

/* This host with one access point, one peer, one collection holding the local access point. */
static void world_init(Fixture *f) {
        engine_open(f);
        f->local1 = add_access_point(f, LOCAL_SYSTEM_ID, "127.0.0.1", 3260);
        f->peer = add_peer(f, PEER_NAME);
        f->collection = create_collection(f, "c", (const char * const[]) { PATH(OBJECT_ACCESS_POINT, f->local1), NULL },
                                          false);
        notes_clear(f);
}

void setup_world(Fixture *f, gconstpointer data) {
        setup(f, data);
        world_init(f);
}

void setup_no_verify(Fixture *f, gconstpointer data) {
        setup(f, data);
        f->config.verify_access_points = false;
        world_init(f);
}

void setup_short_probes(Fixture *f, gconstpointer data) {
        setup(f, data);
        f->config.probe_timeout_usec = 300 * USEC_PER_MSEC;
        world_init(f);
}

void setup_one_running_job(Fixture *f, gconstpointer data) {
        setup(f, data);
        f->config.max_running_jobs = 1;
        world_init(f);
}

void setup_one_job_per_user(Fixture *f, gconstpointer data) {
        setup(f, data);
        f->config.max_running_jobs_per_user = 1;
        world_init(f);
}

void setup_one_finished_job(Fixture *f, gconstpointer data) {
        setup(f, data);
        f->config.max_finished_jobs = 1;
        world_init(f);
}

void setup_quick_removal(Fixture *f, gconstpointer data) {
        setup(f, data);
        f->config.job_time_before_removal_usec = 100 * USEC_PER_MSEC;
        world_init(f);
}

/* Longer than any wait may take: only the start and the end of a job may carry progress. */
void setup_slow_progress(Fixture *f, gconstpointer data) {
        setup(f, data);
        f->config.progress_interval_usec = 2 * WATCHDOG_USEC;
        world_init(f);
}

void setup_empty(Fixture *f, gconstpointer data) {
        setup(f, data);
        engine_open(f);
}
