/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * engine: every change the service makes, without a bus. An observer records
 * what the bus layer would announce; a second view of the state directory
 * (a fresh model loaded from the store, or a second engine) shows what was
 * committed. Jobs run on a private sd-event loop against loopback peers:
 *
 *   - listening: a socket in listen(), which the kernel completes handshakes for;
 *   - refusing:  a bound socket that does not listen, so a SYN gets a reset;
 *   - hanging:   a listener with a full accept queue (backlog 0 and one
 *                unaccepted connection), where Linux drops further SYNs, so
 *                a connect neither succeeds nor fails — an unresponsive portal.
 *
 * Nothing leaves 127.0.0.0/8. Waits run the loop until the awaited
 * notification arrives, under a watchdog, and never sleep.
 *
 * Changes are committed in groups: the helpers commit the pending group with
 * engine_flush() after each call that succeeds, as the loop's next turn
 * would, so that a test sees the call's effect (test-committer.c tests the
 * grouping itself).
 */

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "engine/engine.h"
#include "util/log.h"
#include "util/strutil.h"

/* A hung wait fails after this long instead of blocking the whole run. */
#define WATCHDOG_USEC (10 * USEC_PER_SEC)

#define LOCAL_NAME "iqn.2024-01.org.example:host"
#define PEER_NAME "iqn.2024-01.org.example:peer"

#define LISTEN_ADDRESS "127.0.0.2"
#define REFUSE_ADDRESS "127.0.0.3"
#define HANG_ADDRESS "127.0.0.4"

#define PATH(kind, id) object_path_format((char[OBJECT_PATH_MAX]) {}, (kind), (id))

/* ---- what the observer saw ---- */

typedef enum NoteType {
        NOTE_ADDED,
        NOTE_REMOVED,
        NOTE_CHANGED,
        NOTE_COMPLETED,
} NoteType;

typedef struct Note {
        NoteType type;
        ObjectKind kind;
        uint64_t id;
        char *properties;               /* NOTE_CHANGED: names joined by ',' */
        uint64_t realtime;              /* when it was seen, CLOCK_REALTIME µs */
        uint64_t monotonic;             /* CLOCK_MONOTONIC µs */
        /* NOTE_COMPLETED: the job as it was announced */
        JobState state;
        uint64_t time_of_last_state_change;
        uint16_t error_code;
        char *error_description;
        char *affected;                 /* joined by ',' */
} Note;

static void note_free(gpointer p) {
        Note *n = p;

        g_free(n->properties);
        g_free(n->error_description);
        g_free(n->affected);
        g_free(n);
}

typedef struct Fixture {
        char *dir;
        sd_event *event;
        ServiceConfig config;
        Engine *engine;
        GPtrArray *notes;
        Caller caller;
        ReplError err;
        bool watchdog_fired;

        /* the world most tests start from */
        uint64_t local1;                /* 127.0.0.1:3260 on this host */
        uint64_t peer;
        uint64_t collection;            /* holds local1 */

        int listen_fd, refuse_fd, hang_fd, hang_fillers[3];
        uint16_t listen_port, refuse_port, hang_port;
} Fixture;

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

static bool model_has(const Model *m, ObjectKind kind, uint64_t id) {
        switch (kind) {
        case OBJECT_SYSTEM:
                return model_get_system(m, id);
        case OBJECT_ACCESS_POINT:
                return model_get_access_point(m, id);
        case OBJECT_SECRET:
                return model_get_secret(m, id);
        case OBJECT_COLLECTION:
                return model_get_collection(m, id);
        case OBJECT_JOB:
                return model_get_job(m, id);
        default:
                return false;
        }
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

#define ANY_ID UINT64_MAX

static unsigned notes_count(Fixture *f, NoteType type, ObjectKind kind, uint64_t id) {
        unsigned n = 0;

        for (guint i = 0; i < f->notes->len; i++) {
                const Note *x = f->notes->pdata[i];

                if (x->type == type && x->kind == kind && (id == ANY_ID || x->id == id))
                        n++;
        }
        return n;
}

static const Note *notes_find(Fixture *f, NoteType type, ObjectKind kind, uint64_t id, unsigned nth) {
        for (guint i = 0; i < f->notes->len; i++) {
                const Note *x = f->notes->pdata[i];

                if (x->type == type && x->kind == kind && x->id == id && nth-- == 0)
                        return x;
        }
        return NULL;
}

static guint notes_index(Fixture *f, const Note *n) {
        for (guint i = 0; i < f->notes->len; i++)
                if (f->notes->pdata[i] == n)
                        return i;
        g_assert_not_reached();
}

/* The only property change of an object, as "A,B". */
static const char *only_change(Fixture *f, ObjectKind kind, uint64_t id) {
        g_assert_cmpuint(notes_count(f, NOTE_CHANGED, kind, id), ==, 1);
        return notes_find(f, NOTE_CHANGED, kind, id, 0)->properties;
}

static void notes_clear(Fixture *f) {
        g_ptr_array_set_size(f->notes, 0);
}

/* ---- the event loop ---- */

static int on_watchdog(sd_event_source *s, uint64_t usec, void *userdata) {
        Fixture *f = userdata;

        f->watchdog_fired = true;
        return 0;
}

typedef bool (*wait_condition_t)(Fixture *f, uint64_t arg);

static void run_until(Fixture *f, wait_condition_t done, uint64_t arg, const char *what) {
        sd_event_source *watchdog = NULL;

        f->watchdog_fired = false;
        g_assert_cmpint(sd_event_add_time(f->event, &watchdog, CLOCK_MONOTONIC, now_usec(CLOCK_MONOTONIC) + WATCHDOG_USEC,
                                          0, on_watchdog, f), >=, 0);
        while (!done(f, arg)) {
                g_assert_cmpint(sd_event_run(f->event, UINT64_MAX), >=, 0);
                if (f->watchdog_fired)
                        g_error("watchdog: %s did not happen within %u s", what,
                                (unsigned) (WATCHDOG_USEC / USEC_PER_SEC));
        }
        sd_event_source_disable_unref(watchdog);
}

static bool job_has_completed(Fixture *f, uint64_t id) {
        return notes_count(f, NOTE_COMPLETED, OBJECT_JOB, id) > 0;
}

static bool job_was_removed(Fixture *f, uint64_t id) {
        return notes_count(f, NOTE_REMOVED, OBJECT_JOB, id) > 0;
}

static bool job_is_running(Fixture *f, uint64_t id) {
        Job *j = model_get_job(f->engine->model, id);

        return j && j->state != JOB_STATE_NEW;
}

static void wait_completed(Fixture *f, uint64_t job) {
        run_until(f, job_has_completed, job, "job completion");
}

/* Whatever is ready now, without waiting for anything that is not. */
static void run_pending(Fixture *f) {
        for (unsigned i = 0; i < 100; i++) {
                int r = sd_event_run(f->event, 0);

                g_assert_cmpint(r, >=, 0);
                if (r == 0)
                        return;
        }
        g_assert_not_reached();
}

/* ---- peers on loopback ---- */

static int socket_on(const char *address, uint16_t *ret_port) {
        struct sockaddr_in sin = { .sin_family = AF_INET };
        socklen_t len = sizeof(sin);
        int fd;

        g_assert_cmpint(inet_pton(AF_INET, address, &sin.sin_addr), ==, 1);
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(bind(fd, (struct sockaddr *) &sin, sizeof(sin)), ==, 0);
        g_assert_cmpint(getsockname(fd, (struct sockaddr *) &sin, &len), ==, 0);
        *ret_port = ntohs(sin.sin_port);
        return fd;
}

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
static char *model_dump(const Model *m, bool with_jobs) {
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
static Model *stored_model(Fixture *f) {
        Store *store = NULL;
        Model *m;

        g_assert_cmpint(store_open(f->dir, &store), ==, 0);
        m = model_new(LOCAL_NAME);
        g_assert_nonnull(m);
        g_assert_cmpint(store_load(store, m), ==, 0);
        store_close(store);
        return m;
}

static char *stored_dump(Fixture *f, bool with_jobs) {
        Model *m = stored_model(f);
        char *s = model_dump(m, with_jobs);

        model_free(m);
        return s;
}

/* What the engine holds and what the store holds, taken together. */
typedef struct Snapshot {
        char *model;
        char *store;
} Snapshot;

static Snapshot snapshot(Fixture *f, bool with_jobs) {
        return (Snapshot) {
                .model = model_dump(f->engine->model, with_jobs),
                .store = stored_dump(f, with_jobs),
        };
}

static void snapshot_done(Snapshot *s) {
        g_free(s->model);
        g_free(s->store);
}

static void assert_unchanged(Fixture *f, const Snapshot *before, bool with_jobs) {
        Snapshot now = snapshot(f, with_jobs);

        g_assert_cmpstr(now.model, ==, before->model);
        g_assert_cmpstr(now.store, ==, before->store);
        snapshot_done(&now);
}

/* Model and store agree (what was committed is what is in memory). */
static void assert_model_is_stored(Fixture *f) {
        Snapshot now = snapshot(f, true);

        g_assert_cmpstr(now.model, ==, now.store);
        snapshot_done(&now);
}

/* ---- fixture ---- */

static void rm_rf(const char *dir) {
        DIR *d = opendir(dir);
        struct dirent *de;

        g_assert_nonnull(d);
        while ((de = readdir(d))) {
                g_autofree char *p = NULL;

                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                p = g_build_filename(dir, de->d_name, NULL);
                g_assert_cmpint(g_unlink(p), ==, 0);
        }
        closedir(d);
        g_assert_cmpint(g_rmdir(dir), ==, 0);
}

static void engine_open(Fixture *f) {
        g_assert_null(f->engine);
        g_assert_cmpint(engine_new(f->event, f->dir, LOCAL_NAME, &f->config, &f->engine), ==, 0);
        engine_set_observer(f->engine, &observer, f);
        g_assert_cmpint(engine_recover(f->engine), ==, 0);
}

static void engine_close(Fixture *f) {
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

static void teardown(Fixture *f, gconstpointer data) {
        engine_close(f);
        peers_stop(f);
        g_ptr_array_unref(f->notes);
        sd_event_unref(f->event);
        rm_rf(f->dir);
        g_free(f->dir);
}

/* ---- calling the engine ---- */

static void assert_failed(Fixture *f, int r, int expected) {
        g_assert_cmpint(r, ==, expected);
        g_assert_cmpint(f->err.error, ==, expected);
        g_assert_cmpstr(f->err.message, !=, "");
        repl_error_clear(&f->err);
}

/*
 * Commits the group the calls before queued, as the event loop's next turn
 * would; only then are their objects in the model and announced.
 */
static void flush(Fixture *f) {
        g_assert_cmpint(engine_flush(f->engine), ==, 0);
}

static uint64_t add_peer(Fixture *f, const char *name) {
        uint64_t id = 0;

        g_assert_cmpint(engine_add_peer_system(f->engine, &f->caller, name, "", &id, &f->err), ==, 0);
        flush(f);
        g_assert_nonnull(model_get_system(f->engine->model, id));
        return id;
}

static uint64_t add_access_point(Fixture *f, uint64_t system, const char *address, uint16_t port) {
        AccessPointSpec spec = { .address = address, .port = port, .target_name = "", .element_name = "" };
        uint64_t id = 0;

        g_assert_cmpint(engine_add_access_point(f->engine, &f->caller, PATH(OBJECT_SYSTEM, system), &spec, &id,
                                                &f->err), ==, 0);
        flush(f);
        g_assert_nonnull(model_get_access_point(f->engine->model, id));
        return id;
}

static MemberArgs members(const char * const *locals, const char * const *remotes, const char *system) {
        return (MemberArgs) {
                .local_paths = locals,
                .n_local = locals ? g_strv_length((char **) locals) : 0,
                .remote_paths = remotes,
                .n_remote = remotes ? g_strv_length((char **) remotes) : 0,
                .system_path = system ? system : NULL_PATH,
        };
}

/* A collection without remote access points never needs a job. */
static uint64_t create_collection(Fixture *f, const char *name, const char * const *locals, bool doa) {
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
static int add_to(Fixture *f, uint64_t collection, const char * const *locals, const char * const *remotes,
                  const char *system, uint64_t *ret_job) {
        MemberArgs a = members(locals, remotes, system);
        int r;

        *ret_job = UINT64_MAX;          /* proves the engine writes it */
        r = engine_add_to_collection(f->engine, &f->caller, PATH(OBJECT_COLLECTION, collection), &a, ret_job, &f->err);
        if (r == 0)
                flush(f);
        return r;
}

static int remove_from(Fixture *f, uint64_t collection, const char * const *locals, const char * const *remotes,
                       const char *system) {
        MemberArgs a = members(locals, remotes, system);
        int r;

        r = engine_remove_from_collection(f->engine, &f->caller, PATH(OBJECT_COLLECTION, collection), &a, &f->err);
        if (r == 0)
                flush(f);
        return r;
}

/* Starts a job that adds one remote access point of the peer to the collection. */
static uint64_t start_add_job(Fixture *f, uint64_t collection, uint64_t remote) {
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
static uint64_t start_job(Fixture *f, const Caller *caller, uint64_t ap) {
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
static void request_state(Fixture *f, uint64_t id, uint16_t requested) {
        g_assert_cmpint(engine_job_request_state_change(f->engine, &f->caller, id, requested, &f->err), ==, 0);
        flush(f);
}

static Job *job(Fixture *f, uint64_t id) {
        Job *j = model_get_job(f->engine->model, id);

        g_assert_nonnull(j);
        return j;
}

static Collection *collection(Fixture *f, uint64_t id) {
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

static void setup_world(Fixture *f, gconstpointer data) {
        setup(f, data);
        world_init(f);
}

static void setup_no_verify(Fixture *f, gconstpointer data) {
        setup(f, data);
        f->config.verify_access_points = false;
        world_init(f);
}

static void setup_short_probes(Fixture *f, gconstpointer data) {
        setup(f, data);
        f->config.probe_timeout_usec = 300 * USEC_PER_MSEC;
        world_init(f);
}

static void setup_one_running_job(Fixture *f, gconstpointer data) {
        setup(f, data);
        f->config.max_running_jobs = 1;
        world_init(f);
}

static void setup_one_job_per_user(Fixture *f, gconstpointer data) {
        setup(f, data);
        f->config.max_running_jobs_per_user = 1;
        world_init(f);
}

static void setup_one_finished_job(Fixture *f, gconstpointer data) {
        setup(f, data);
        f->config.max_finished_jobs = 1;
        world_init(f);
}

static void setup_quick_removal(Fixture *f, gconstpointer data) {
        setup(f, data);
        f->config.job_time_before_removal_usec = 100 * USEC_PER_MSEC;
        world_init(f);
}

/* Longer than any wait may take: only the start and the end of a job may carry progress. */
static void setup_slow_progress(Fixture *f, gconstpointer data) {
        setup(f, data);
        f->config.progress_interval_usec = 2 * WATCHDOG_USEC;
        world_init(f);
}

static void setup_empty(Fixture *f, gconstpointer data) {
        setup(f, data);
        engine_open(f);
}

/* ---- peers, access points, secrets ---- */

static void test_add_peer(Fixture *f, gconstpointer data) {
        uint64_t id = 0;
        System *s;
        Snapshot before;
        Model *stored;

        g_assert_cmpint(engine_add_peer_system(f->engine, &f->caller, PEER_NAME, "Peer", &id, &f->err), ==, 0);
        g_assert_cmpuint(id, !=, LOCAL_SYSTEM_ID);
        /* Not in the model, not announced, until its group is committed. */
        g_assert_null(model_get_system(f->engine->model, id));
        g_assert_cmpuint(f->notes->len, ==, 0);
        flush(f);
        s = model_get_system(f->engine->model, id);
        g_assert_nonnull(s);
        g_assert_cmpstr(s->name, ==, PEER_NAME);
        g_assert_cmpstr(s->element_name, ==, "Peer");
        g_assert_cmpuint(f->notes->len, ==, 1);
        g_assert_cmpuint(notes_count(f, NOTE_ADDED, OBJECT_SYSTEM, s->id), ==, 1);

        stored = stored_model(f);
        g_assert_cmpuint(stored->systems.n, ==, 2);
        g_assert_cmpstr(model_get_system(stored, s->id)->name, ==, PEER_NAME);
        g_assert_cmpstr(model_get_system(stored, s->id)->element_name, ==, "Peer");
        g_assert_cmpuint(stored->next_id, >, s->id);
        model_free(stored);
        assert_model_is_stored(f);

        /* The same name again, also in other case, is a conflict; nothing changes. */
        notes_clear(f);
        before = snapshot(f, true);
        assert_failed(f, engine_add_peer_system(f->engine, &f->caller, PEER_NAME, "", NULL, &f->err), -EEXIST);
        assert_failed(f, engine_add_peer_system(f->engine, &f->caller, "IQN.2024-01.ORG.EXAMPLE:PEER", "", NULL, &f->err),
                      -EEXIST);
        assert_failed(f, engine_add_peer_system(f->engine, &f->caller, "not a name!", "", NULL, &f->err), -EINVAL);
        assert_failed(f, engine_add_peer_system(f->engine, &f->caller, "", "", NULL, &f->err), -EINVAL);
        assert_failed(f, engine_add_peer_system(f->engine, &f->caller, "peer2.example.org", "bad\nname", NULL, &f->err),
                      -EINVAL);
        assert_unchanged(f, &before, true);
        g_assert_cmpuint(f->notes->len, ==, 0);
        snapshot_done(&before);
}

static void test_add_access_points(Fixture *f, gconstpointer data) {
        AccessPointSpec spec = { .address = "127.0.0.1", .port = 3260, .target_name = "", .element_name = "portal" };
        uint64_t id = 0, peer, remote;
        AccessPoint *a;
        Snapshot before;
        Model *stored;

        g_assert_cmpint(engine_add_access_point(f->engine, &f->caller, LOCAL_SYSTEM_PATH, &spec, &id, &f->err), ==, 0);
        flush(f);
        a = model_get_access_point(f->engine->model, id);
        g_assert_nonnull(a);
        g_assert_true(access_point_is_local(a));
        g_assert_cmpuint(notes_count(f, NOTE_ADDED, OBJECT_ACCESS_POINT, a->id), ==, 1);
        g_assert_cmpstr(only_change(f, OBJECT_SYSTEM, LOCAL_SYSTEM_ID), ==, "AccessPoints");
        g_assert_cmpuint(f->notes->len, ==, 2);

        peer = add_peer(f, PEER_NAME);
        notes_clear(f);
        spec = (AccessPointSpec) { .address = "Portal.Example.ORG", .port = 3261,
                                   .target_name = "iqn.2024-01.org.example:target", .portal_group_tag = 7 };
        g_assert_cmpint(engine_add_access_point(f->engine, &f->caller, PATH(OBJECT_SYSTEM, peer), &spec, &remote,
                                                &f->err), ==, 0);
        flush(f);
        g_assert_cmpstr(only_change(f, OBJECT_SYSTEM, peer), ==, "AccessPoints");

        stored = stored_model(f);
        g_assert_cmpuint(stored->access_points.n, ==, 2);
        g_assert_cmpstr(model_get_access_point(stored, remote)->address, ==, "portal.example.org");
        g_assert_cmpuint(model_get_access_point(stored, remote)->port, ==, 3261);
        g_assert_cmpuint(model_get_access_point(stored, remote)->portal_group_tag, ==, 7);
        g_assert_cmpuint(model_get_access_point(stored, remote)->system_id, ==, peer);
        model_free(stored);
        assert_model_is_stored(f);

        /* Every failure leaves model and store as they were, and announces nothing. */
        notes_clear(f);
        before = snapshot(f, true);

        spec = (AccessPointSpec) { .address = "192.0.2.1", .port = 3260 };
        g_assert_cmpint(engine_add_access_point(f->engine, &f->caller, LOCAL_SYSTEM_PATH, &spec, NULL, &f->err), ==,
                        -EADDRNOTAVAIL);
        g_assert_nonnull(strstr(f->err.message, "192.0.2.1"));
        repl_error_clear(&f->err);

        spec = (AccessPointSpec) { .address = "localhost", .port = 3260 };
        assert_failed(f, engine_add_access_point(f->engine, &f->caller, LOCAL_SYSTEM_PATH, &spec, NULL, &f->err),
                      -EINVAL);
        spec = (AccessPointSpec) { .address = "127.0.0.1", .port = 0 };
        assert_failed(f, engine_add_access_point(f->engine, &f->caller, LOCAL_SYSTEM_PATH, &spec, NULL, &f->err),
                      -EINVAL);
        spec = (AccessPointSpec) { .address = "", .port = 3260 };
        assert_failed(f, engine_add_access_point(f->engine, &f->caller, LOCAL_SYSTEM_PATH, &spec, NULL, &f->err),
                      -EINVAL);
        spec = (AccessPointSpec) { .address = "127.0.0.1", .port = 3260, .target_name = "not-an-iscsi-name" };
        assert_failed(f, engine_add_access_point(f->engine, &f->caller, LOCAL_SYSTEM_PATH, &spec, NULL, &f->err),
                      -EINVAL);
        /* The same portal and target twice on one system; the address in another spelling too. */
        spec = (AccessPointSpec) { .address = "127.0.0.1", .port = 3260 };
        assert_failed(f, engine_add_access_point(f->engine, &f->caller, LOCAL_SYSTEM_PATH, &spec, NULL, &f->err),
                      -EEXIST);
        spec = (AccessPointSpec) { .address = "portal.example.org", .port = 3261,
                                   .target_name = "iqn.2024-01.org.example:target" };
        assert_failed(f, engine_add_access_point(f->engine, &f->caller, PATH(OBJECT_SYSTEM, peer), &spec, NULL,
                                                 &f->err), -EEXIST);
        /* References that name no system. */
        spec = (AccessPointSpec) { .address = "127.0.0.2", .port = 3260 };
        assert_failed(f, engine_add_access_point(f->engine, &f->caller, PATH(OBJECT_SYSTEM, 999), &spec, NULL, &f->err),
                      -EINVAL);
        assert_failed(f, engine_add_access_point(f->engine, &f->caller, PATH(OBJECT_ACCESS_POINT, remote), &spec, NULL,
                                                 &f->err), -EINVAL);
        assert_failed(f, engine_add_access_point(f->engine, &f->caller, NULL_PATH, &spec, NULL, &f->err), -EINVAL);

        assert_unchanged(f, &before, true);
        g_assert_cmpuint(f->notes->len, ==, 0);
        snapshot_done(&before);
}

static void test_add_secrets(Fixture *f, gconstpointer data) {
        SecretSpec spec = { .username = "alice", .secret = "0123456789a" };        /* 11 bytes */
        const char *ap_path;
        SharedSecret *s;
        uint64_t id = 0, ap, local, first, second;
        Snapshot before;
        Model *stored;

        ap = add_access_point(f, add_peer(f, PEER_NAME), LISTEN_ADDRESS, 3260);
        local = add_access_point(f, LOCAL_SYSTEM_ID, "127.0.0.1", 3260);
        ap_path = PATH(OBJECT_ACCESS_POINT, ap);
        notes_clear(f);

        before = snapshot(f, true);
        g_assert_cmpint(engine_add_secret(f->engine, &f->caller, ap_path, &spec, &id, &f->err), ==, -EINVAL);
        /* The message tells the length, never the secret. */
        g_assert_null(strstr(f->err.message, spec.secret));
        g_assert_nonnull(strstr(f->err.message, "11"));
        repl_error_clear(&f->err);
        g_assert_cmpuint(id, ==, 0);

        spec = (SecretSpec) { .username = "", .secret = "0123456789ab" };
        assert_failed(f, engine_add_secret(f->engine, &f->caller, ap_path, &spec, NULL, &f->err), -EINVAL);
        spec = (SecretSpec) { .username = "alice", .secret = "0123456789ab", .mutual_username = "bob" };
        assert_failed(f, engine_add_secret(f->engine, &f->caller, ap_path, &spec, NULL, &f->err), -EINVAL);
        spec = (SecretSpec) { .username = "alice", .secret = "0123456789ab", .mutual_username = "bob",
                              .mutual_secret = "short" };
        assert_failed(f, engine_add_secret(f->engine, &f->caller, ap_path, &spec, NULL, &f->err), -EINVAL);
        spec = (SecretSpec) { .username = "alice", .secret = "0123456789ab" };
        assert_failed(f, engine_add_secret(f->engine, &f->caller, PATH(OBJECT_ACCESS_POINT, 999), &spec, NULL,
                                           &f->err), -EINVAL);
        /* A secret authenticates this host to a peer: never one of this host's own portals. */
        assert_failed(f, engine_add_secret(f->engine, &f->caller, PATH(OBJECT_ACCESS_POINT, local), &spec, NULL,
                                           &f->err), -EINVAL);
        assert_unchanged(f, &before, true);
        g_assert_cmpuint(f->notes->len, ==, 0);
        snapshot_done(&before);

        /* 12 bytes is the least RFC 7143 allows. */
        g_assert_cmpint(engine_add_secret(f->engine, &f->caller, ap_path, &spec, &first, &f->err), ==, 0);
        flush(f);
        s = model_get_secret(f->engine->model, first);
        g_assert_nonnull(s);
        g_assert_cmpuint(s->access_point_id, ==, ap);
        g_assert_cmpuint(model_get_access_point(f->engine->model, ap)->secret_id, ==, first);
        g_assert_cmpuint(notes_count(f, NOTE_ADDED, OBJECT_SECRET, first), ==, 1);
        g_assert_cmpstr(only_change(f, OBJECT_ACCESS_POINT, ap), ==, "SharedSecret");
        assert_model_is_stored(f);

        /* A second secret for the access point replaces the first. */
        notes_clear(f);
        spec = (SecretSpec) { .username = "carol", .secret = "abcdefghijklmnop", .mutual_username = "dave",
                              .mutual_secret = "ponmlkjihgfedcba" };
        g_assert_cmpint(engine_add_secret(f->engine, &f->caller, ap_path, &spec, &second, &f->err), ==, 0);
        flush(f);
        g_assert_cmpuint(notes_count(f, NOTE_REMOVED, OBJECT_SECRET, first), ==, 1);
        g_assert_cmpuint(notes_count(f, NOTE_ADDED, OBJECT_SECRET, second), ==, 1);
        g_assert_null(model_get_secret(f->engine->model, first));
        g_assert_cmpuint(model_get_access_point(f->engine->model, ap)->secret_id, ==, second);
        stored = stored_model(f);
        g_assert_cmpuint(stored->secrets.n, ==, 1);
        g_assert_cmpstr(model_get_secret(stored, second)->mutual_secret, ==, "ponmlkjihgfedcba");
        g_assert_cmpuint(model_get_access_point(stored, ap)->secret_id, ==, second);
        model_free(stored);
        assert_model_is_stored(f);

        /* A secret bound to no access point. */
        spec = (SecretSpec) { .username = "erin", .secret = "0123456789ab" };
        g_assert_cmpint(engine_add_secret(f->engine, &f->caller, NULL_PATH, &spec, &id, &f->err), ==, 0);
        flush(f);
        s = model_get_secret(f->engine->model, id);
        g_assert_nonnull(s);
        g_assert_cmpuint(s->access_point_id, ==, 0);
        assert_model_is_stored(f);
}

/* ---- synchronous collection changes ---- */

static void test_add_to_synchronous(Fixture *f, gconstpointer data) {
        uint64_t r1 = add_access_point(f, f->peer, LISTEN_ADDRESS, 3260);
        uint64_t r2 = add_access_point(f, f->peer, LISTEN_ADDRESS, 3261);
        uint64_t local2 = add_access_point(f, LOCAL_SYSTEM_ID, "127.0.0.2", 3260);
        const char *remotes[] = { PATH(OBJECT_ACCESS_POINT, r2), PATH(OBJECT_ACCESS_POINT, r1),
                                  PATH(OBJECT_ACCESS_POINT, r2), NULL };
        const char *locals[] = { PATH(OBJECT_ACCESS_POINT, local2), PATH(OBJECT_ACCESS_POINT, f->local1), NULL };
        Collection *c;
        uint64_t j;
        Model *stored;

        notes_clear(f);
        g_assert_cmpint(add_to(f, f->collection, NULL, remotes, PATH(OBJECT_SYSTEM, f->peer), &j), ==, 0);
        g_assert_cmpuint(j, ==, 0);
        g_assert_cmpuint(f->engine->model->jobs.n, ==, 0);

        /* One change on the collection with exactly what changed, one on each new member. */
        g_assert_cmpstr(only_change(f, OBJECT_COLLECTION, f->collection), ==, "RemoteAccessPoints,RemoteSystems");
        g_assert_cmpstr(only_change(f, OBJECT_ACCESS_POINT, r1), ==, "Collections");
        g_assert_cmpstr(only_change(f, OBJECT_ACCESS_POINT, r2), ==, "Collections");
        g_assert_cmpstr(only_change(f, OBJECT_SYSTEM, f->peer), ==, "Collections");
        g_assert_cmpuint(f->notes->len, ==, 4);

        c = collection(f, f->collection);
        g_assert_cmpuint(c->remote_access_points.n, ==, 2);
        g_assert_cmpuint(c->remote_access_points.ids[0], ==, r1);
        g_assert_cmpuint(c->remote_access_points.ids[1], ==, r2);
        g_assert_true(idset_contains(&c->remote_systems, f->peer));
        g_assert_cmpuint(c->job_id, ==, 0);
        stored = stored_model(f);
        g_assert_true(idset_equal(&model_get_collection(stored, f->collection)->remote_access_points,
                                  &c->remote_access_points));
        g_assert_true(idset_equal(&model_get_collection(stored, f->collection)->remote_systems, &c->remote_systems));
        model_free(stored);
        assert_model_is_stored(f);

        /* Again: nothing to do, nothing announced. */
        notes_clear(f);
        g_assert_cmpint(add_to(f, f->collection, NULL, remotes, PATH(OBJECT_SYSTEM, f->peer), &j), ==, 0);
        g_assert_cmpuint(j, ==, 0);
        g_assert_cmpuint(f->notes->len, ==, 0);

        /* Only the new local access point is announced. */
        g_assert_cmpint(add_to(f, f->collection, locals, NULL, NULL, &j), ==, 0);
        g_assert_cmpuint(j, ==, 0);
        g_assert_cmpstr(only_change(f, OBJECT_COLLECTION, f->collection), ==, "LocalAccessPoints");
        g_assert_cmpstr(only_change(f, OBJECT_ACCESS_POINT, local2), ==, "Collections");
        g_assert_cmpuint(f->notes->len, ==, 2);
        assert_model_is_stored(f);

        /* Removing the system takes its access points with it. */
        notes_clear(f);
        g_assert_cmpint(remove_from(f, f->collection, NULL, NULL, PATH(OBJECT_SYSTEM, f->peer)), ==, 0);
        g_assert_cmpstr(only_change(f, OBJECT_COLLECTION, f->collection), ==, "RemoteAccessPoints,RemoteSystems");
        g_assert_cmpstr(only_change(f, OBJECT_ACCESS_POINT, r1), ==, "Collections");
        g_assert_cmpstr(only_change(f, OBJECT_ACCESS_POINT, r2), ==, "Collections");
        g_assert_cmpstr(only_change(f, OBJECT_SYSTEM, f->peer), ==, "Collections");
        g_assert_cmpuint(f->notes->len, ==, 4);
        c = collection(f, f->collection);
        g_assert_cmpuint(c->remote_access_points.n + c->remote_systems.n, ==, 0);
        g_assert_cmpuint(c->local_access_points.n, ==, 2);
        assert_model_is_stored(f);
}

static void test_failed_calls_change_nothing(Fixture *f, gconstpointer data) {
        uint64_t r1 = add_access_point(f, f->peer, LISTEN_ADDRESS, 3260);
        uint64_t other = add_peer(f, "iqn.2024-01.org.example:other");
        uint64_t r_other = add_access_point(f, other, LISTEN_ADDRESS, 3262);
        const char *local_as_remote[] = { PATH(OBJECT_ACCESS_POINT, f->local1), NULL };
        const char *remote_as_local[] = { PATH(OBJECT_ACCESS_POINT, f->local1), PATH(OBJECT_ACCESS_POINT, r1), NULL };
        const char *unknown[] = { PATH(OBJECT_ACCESS_POINT, r1), PATH(OBJECT_ACCESS_POINT, 999), NULL };
        const char *wrong_kind[] = { PATH(OBJECT_COLLECTION, f->collection), NULL };
        const char *of_other[] = { PATH(OBJECT_ACCESS_POINT, r1), PATH(OBJECT_ACCESS_POINT, r_other), NULL };
        const char *r1_only[] = { PATH(OBJECT_ACCESS_POINT, r1), NULL };
        const char *peer = PATH(OBJECT_SYSTEM, f->peer);
        MemberArgs a;
        uint64_t c = 0, j = 0;
        Snapshot before;

        notes_clear(f);
        before = snapshot(f, true);

        assert_failed(f, add_to(f, f->collection, NULL, NULL, NULL, &j), -EINVAL);
        assert_failed(f, add_to(f, f->collection, NULL, local_as_remote, peer, &j), -EINVAL);
        assert_failed(f, add_to(f, f->collection, remote_as_local, NULL, NULL, &j), -EINVAL);
        g_assert_cmpint(add_to(f, f->collection, NULL, unknown, peer, &j), ==, -EINVAL);
        g_assert_nonnull(strstr(f->err.message, "RemoteAccessPoints[1]"));
        repl_error_clear(&f->err);
        assert_failed(f, add_to(f, f->collection, wrong_kind, NULL, NULL, &j), -EINVAL);
        assert_failed(f, add_to(f, f->collection, NULL, of_other, peer, &j), -EINVAL);
        assert_failed(f, add_to(f, f->collection, NULL, r1_only, NULL, &j), -EINVAL);
        assert_failed(f, add_to(f, f->collection, NULL, NULL, LOCAL_SYSTEM_PATH, &j), -EINVAL);
        assert_failed(f, add_to(f, 999, NULL, r1_only, peer, &j), -EINVAL);
        assert_failed(f, remove_from(f, f->collection, NULL, NULL, NULL), -EINVAL);
        assert_failed(f, remove_from(f, f->collection, NULL, of_other, peer), -EINVAL);
        assert_failed(f, remove_from(f, 999, local_as_remote, NULL, NULL), -EINVAL);

        a = members(NULL, r1_only, NULL);
        assert_failed(f, engine_create_collection(f->engine, &f->caller, "new", &a, true, false, &c, &j, &f->err),
                      -EINVAL);
        a = members(remote_as_local, NULL, NULL);
        assert_failed(f, engine_create_collection(f->engine, &f->caller, "new", &a, true, false, &c, &j, &f->err),
                      -EINVAL);
        a = members(NULL, NULL, NULL);
        assert_failed(f, engine_create_collection(f->engine, &f->caller, "bad\001name", &a, true, false, &c, &j,
                                                  &f->err), -EINVAL);

        /* Deleting what a collection holds is refused while it holds it. */
        assert_failed(f, engine_delete_access_point(f->engine, &f->caller, f->local1, &f->err), -EBUSY);

        assert_unchanged(f, &before, true);
        g_assert_cmpuint(f->notes->len, ==, 0);
        snapshot_done(&before);
}

static void test_delete_on_unassociated(Fixture *f, gconstpointer data) {
        uint64_t r1 = add_access_point(f, f->peer, LISTEN_ADDRESS, 3260);
        const char *locals[] = { PATH(OBJECT_ACCESS_POINT, f->local1), NULL };
        const char *remotes[] = { PATH(OBJECT_ACCESS_POINT, r1), NULL };
        uint64_t id, empty, j;

        id = create_collection(f, "doa", locals, true);
        g_assert_cmpint(add_to(f, id, NULL, remotes, PATH(OBJECT_SYSTEM, f->peer), &j), ==, 0);

        /* An access point left: it stays. */
        g_assert_cmpint(remove_from(f, id, locals, NULL, NULL), ==, 0);
        g_assert_nonnull(model_get_collection(f->engine->model, id));

        /* The last one leaves: the collection goes, and everything it held says so. */
        notes_clear(f);
        g_assert_cmpint(remove_from(f, id, NULL, remotes, NULL), ==, 0);
        g_assert_null(model_get_collection(f->engine->model, id));
        g_assert_cmpuint(notes_count(f, NOTE_REMOVED, OBJECT_COLLECTION, id), ==, 1);
        g_assert_cmpuint(notes_count(f, NOTE_CHANGED, OBJECT_COLLECTION, id), ==, 0);
        g_assert_cmpstr(only_change(f, OBJECT_ACCESS_POINT, r1), ==, "Collections");
        /* The system it still held no longer lists it either. */
        g_assert_cmpstr(only_change(f, OBJECT_SYSTEM, f->peer), ==, "Collections");
        g_assert_cmpuint(f->notes->len, ==, 3);
        assert_model_is_stored(f);

        /* An empty collection with the flag survives a call that takes nothing out. */
        empty = create_collection(f, "empty", NULL, true);
        notes_clear(f);
        g_assert_cmpint(remove_from(f, empty, locals, NULL, PATH(OBJECT_SYSTEM, f->peer)), ==, 0);
        g_assert_nonnull(model_get_collection(f->engine->model, empty));
        g_assert_cmpuint(f->notes->len, ==, 0);
        assert_model_is_stored(f);
}

/* ---- jobs ---- */

static void test_job_verified_add(Fixture *f, gconstpointer data) {
        uint64_t remote = add_access_point(f, f->peer, LISTEN_ADDRESS, f->listen_port);
        g_autofree char *affected = NULL;
        const Note *done, *final;
        uint64_t id;
        Model *stored;
        Job *j;

        notes_clear(f);
        id = start_add_job(f, f->collection, remote);
        j = job(f, id);
        g_assert_cmpstr(j->name, ==, "AddToRemoteReplicationCollection");
        g_assert_cmpuint(j->started_by_uid, ==, 1000);
        g_assert_cmpstr(j->owner, ==, f->caller.owner);
        g_assert_cmpuint(notes_count(f, NOTE_ADDED, OBJECT_JOB, id), ==, 1);
        g_assert_cmpstr(only_change(f, OBJECT_COLLECTION, f->collection), ==, "Job");
        g_assert_cmpuint(collection(f, f->collection)->job_id, ==, id);
        /* Nothing of the call is in place yet, and the job is on record. */
        g_assert_false(idset_contains(&collection(f, f->collection)->remote_access_points, remote));
        stored = stored_model(f);
        g_assert_nonnull(model_get_job(stored, id));
        g_assert_cmpint(model_get_job(stored, id)->state, ==, JOB_STATE_NEW);
        g_assert_false(idset_contains(&model_get_collection(stored, f->collection)->remote_access_points, remote));
        model_free(stored);

        /* While it runs, the collection is not to be changed by anyone else. */
        g_assert_cmpint(remove_from(f, f->collection, (const char * const[]) { PATH(OBJECT_ACCESS_POINT, f->local1), NULL },
                                    NULL, NULL), ==, -EBUSY);
        repl_error_clear(&f->err);
        assert_failed(f, engine_delete_collection(f->engine, &f->caller, f->collection, &f->err), -EBUSY);
        assert_failed(f, engine_delete_access_point(f->engine, &f->caller, remote, &f->err), -EBUSY);
        assert_failed(f, engine_delete_system(f->engine, &f->caller, f->peer, &f->err), -EBUSY);

        notes_clear(f);
        wait_completed(f, id);
        j = job(f, id);
        g_assert_cmpint(j->state, ==, JOB_STATE_COMPLETED);
        g_assert_cmpuint(j->error_code, ==, 0);
        g_assert_cmpuint(j->percent_complete, ==, 100);
        affected = g_strjoinv(",", j->affected_elements);
        g_assert_cmpstr(affected, ==, PATH(OBJECT_COLLECTION, f->collection));

        /* The completion is announced after the job's last change, which carries the state. */
        done = notes_find(f, NOTE_COMPLETED, OBJECT_JOB, id, 0);
        g_assert_cmpint(done->state, ==, JOB_STATE_COMPLETED);
        g_assert_cmpstr(done->affected, ==, PATH(OBJECT_COLLECTION, f->collection));
        final = notes_find(f, NOTE_CHANGED, OBJECT_JOB, id, notes_count(f, NOTE_CHANGED, OBJECT_JOB, id) - 1);
        g_assert_nonnull(strstr(final->properties, "JobState"));
        g_assert_nonnull(strstr(final->properties, "AffectedElements"));
        g_assert_cmpuint(notes_index(f, final), <, notes_index(f, done));

        /* The change is in place and announced: membership once, then the job slot. */
        g_assert_true(idset_contains(&collection(f, f->collection)->remote_access_points, remote));
        g_assert_true(idset_contains(&collection(f, f->collection)->remote_systems, f->peer));
        g_assert_cmpuint(collection(f, f->collection)->job_id, ==, 0);
        g_assert_cmpuint(notes_count(f, NOTE_CHANGED, OBJECT_COLLECTION, f->collection), ==, 2);
        g_assert_cmpstr(notes_find(f, NOTE_CHANGED, OBJECT_COLLECTION, f->collection, 0)->properties, ==,
                        "RemoteAccessPoints,RemoteSystems");
        g_assert_cmpstr(notes_find(f, NOTE_CHANGED, OBJECT_COLLECTION, f->collection, 1)->properties, ==, "Job");
        g_assert_cmpuint(notes_count(f, NOTE_CHANGED, OBJECT_SYSTEM, f->peer), >=, 1);
        g_assert_nonnull(strstr(notes_find(f, NOTE_CHANGED, OBJECT_ACCESS_POINT, remote, 0)->properties, "Reachable"));
        g_assert_cmpint(model_get_access_point(f->engine->model, remote)->reachable, ==, REACHABLE_YES);

        /* Committed: a restart would load the membership and the finished job. */
        stored = stored_model(f);
        g_assert_true(idset_contains(&model_get_collection(stored, f->collection)->remote_access_points, remote));
        g_assert_true(idset_contains(&model_get_collection(stored, f->collection)->remote_systems, f->peer));
        g_assert_cmpint(model_get_job(stored, id)->state, ==, JOB_STATE_COMPLETED);
        g_assert_cmpint(model_get_access_point(stored, remote)->reachable, ==, REACHABLE_YES);
        model_free(stored);
        assert_model_is_stored(f);

        /* A finished job accepts no state change. */
        assert_failed(f, engine_job_request_state_change(f->engine, &f->caller, id, 4, &f->err), -EBADRQC);
        assert_failed(f, engine_job_request_state_change(f->engine, &f->caller, id, 2, &f->err), -EBADRQC);
}

static void test_job_verified_create(Fixture *f, gconstpointer data) {
        uint64_t remote = add_access_point(f, f->peer, LISTEN_ADDRESS, f->listen_port);
        const char *locals[] = { PATH(OBJECT_ACCESS_POINT, f->local1), NULL };
        const char *remotes[] = { PATH(OBJECT_ACCESS_POINT, remote), NULL };
        MemberArgs a = members(locals, remotes, PATH(OBJECT_SYSTEM, f->peer));
        size_t n_collections = f->engine->model->collections.n;
        uint64_t c = UINT64_MAX, id = 0;
        const char *created;
        Job *j;

        g_assert_cmpint(engine_create_collection(f->engine, &f->caller, "", &a, true, false, &c, &id, &f->err), ==, 0);
        g_assert_cmpuint(id, !=, 0);
        /* With a job, the collection gets its id only when the job commits it. */
        g_assert_cmpuint(c, ==, 0);
        flush(f);
        j = job(f, id);
        g_assert_cmpstr(j->name, ==, "CreateRemoteReplicationCollection");
        /* The collection does not exist until the job has verified its peer. */
        g_assert_cmpuint(f->engine->model->collections.n, ==, n_collections);
        g_assert_cmpuint(notes_count(f, NOTE_ADDED, OBJECT_COLLECTION, ANY_ID), ==, 0);

        wait_completed(f, id);
        j = job(f, id);
        g_assert_cmpint(j->state, ==, JOB_STATE_COMPLETED);
        g_assert_cmpuint(f->engine->model->collections.n, ==, n_collections + 1);
        g_assert_cmpuint(strv_length(j->affected_elements), ==, 1);
        created = j->affected_elements[0];
        MODEL_FOREACH(Collection, x, f->engine->model->collections)
                if (x->id != f->collection) {
                        g_assert_cmpstr(created, ==, PATH(OBJECT_COLLECTION, x->id));
                        g_assert_cmpuint(notes_count(f, NOTE_ADDED, OBJECT_COLLECTION, x->id), ==, 1);
                        g_assert_true(idset_contains(&x->remote_access_points, remote));
                        g_assert_true(idset_contains(&x->local_access_points, f->local1));
                        g_assert_cmpuint(x->job_id, ==, 0);
                        g_autofree char *name = g_strdup_printf("collection-%" PRIu64, x->id);

                        g_assert_cmpstr(x->element_name, ==, name);
                }
        assert_model_is_stored(f);
}

static void assert_job_failed_nothing_committed(Fixture *f, uint64_t id, uint64_t remote, const Snapshot *before) {
        Collection *c = collection(f, f->collection);

        g_assert_false(idset_contains(&c->remote_access_points, remote));
        g_assert_false(idset_contains(&c->remote_systems, f->peer));
        g_assert_cmpuint(c->job_id, ==, 0);
        /* The collection as it was, in memory and in the store; the job's record agrees. */
        assert_unchanged(f, before, false);
        assert_model_is_stored(f);
        /* Taken by the job and given back; its membership was never announced as changed. */
        g_assert_cmpuint(notes_count(f, NOTE_CHANGED, OBJECT_COLLECTION, f->collection), ==, 2);
        g_assert_cmpstr(notes_find(f, NOTE_CHANGED, OBJECT_COLLECTION, f->collection, 0)->properties, ==, "Job");
        g_assert_cmpstr(notes_find(f, NOTE_CHANGED, OBJECT_COLLECTION, f->collection, 1)->properties, ==, "Job");
        g_assert_cmpuint(notes_count(f, NOTE_CHANGED, OBJECT_ACCESS_POINT, f->local1), ==, 0);
        g_assert_cmpuint(notes_count(f, NOTE_ADDED, OBJECT_COLLECTION, ANY_ID), ==, 0);
}

static void test_job_refused(Fixture *f, gconstpointer data) {
        uint64_t remote = add_access_point(f, f->peer, REFUSE_ADDRESS, f->refuse_port);
        Snapshot before = snapshot(f, false);
        uint64_t id;
        Job *j;

        notes_clear(f);
        id = start_add_job(f, f->collection, remote);
        wait_completed(f, id);

        j = job(f, id);
        g_assert_cmpint(j->state, ==, JOB_STATE_EXCEPTION);
        g_assert_cmpuint(j->error_code, ==, CIM_FAILED);
        g_assert_cmpuint(j->error_type, ==, CIM_ERROR_TYPE_COMMUNICATIONS);
        g_assert_cmpstr(j->error_source, ==, PATH(OBJECT_ACCESS_POINT, remote));
        /* The description names the pair that failed. */
        g_assert_nonnull(strstr(j->error_description, PATH(OBJECT_ACCESS_POINT, remote)));
        g_assert_nonnull(strstr(j->error_description, PATH(OBJECT_ACCESS_POINT, f->local1)));
        g_assert_nonnull(strstr(j->error_description, "refused"));
        g_assert_cmpuint(notes_find(f, NOTE_COMPLETED, OBJECT_JOB, id, 0)->error_code, ==, CIM_FAILED);

        /* The verdict is recorded on the access point, but the membership is not. */
        g_assert_cmpint(model_get_access_point(f->engine->model, remote)->reachable, ==, REACHABLE_NO);
        assert_job_failed_nothing_committed(f, id, remote, &before);
        snapshot_done(&before);
}

static void test_job_timeout(Fixture *f, gconstpointer data) {
        uint64_t remote = add_access_point(f, f->peer, HANG_ADDRESS, f->hang_port);
        Snapshot before = snapshot(f, false);
        uint64_t id, started, elapsed;
        Job *j;

        notes_clear(f);
        started = now_usec(CLOCK_MONOTONIC);
        id = start_add_job(f, f->collection, remote);
        wait_completed(f, id);
        elapsed = notes_find(f, NOTE_COMPLETED, OBJECT_JOB, id, 0)->monotonic - started;

        j = job(f, id);
        g_assert_cmpint(j->state, ==, JOB_STATE_EXCEPTION);
        g_assert_cmpuint(j->error_code, ==, CIM_TIMEOUT);
        g_assert_nonnull(strstr(j->error_description, PATH(OBJECT_ACCESS_POINT, remote)));
        g_assert_cmpuint(elapsed, >=, 300 * USEC_PER_MSEC);
        g_assert_cmpuint(elapsed, <, 1300 * USEC_PER_MSEC);
        assert_job_failed_nothing_committed(f, id, remote, &before);
        snapshot_done(&before);
}

static void test_job_terminate(Fixture *f, gconstpointer data) {
        uint64_t remote = add_access_point(f, f->peer, HANG_ADDRESS, f->hang_port);
        Snapshot before = snapshot(f, false);
        uint64_t id;
        Job *j;

        notes_clear(f);
        id = start_add_job(f, f->collection, remote);
        run_until(f, job_is_running, id, "job start");
        g_assert_cmpint(job(f, id)->state, ==, JOB_STATE_RUNNING);
        /* The probe is out: the hanging peer answers nothing, so only the request ends the job. */
        run_pending(f);
        g_assert_false(job_has_completed(f, id));

        request_state(f, id, 4);
        /* Ends at once, not at the probe's deadline. */
        g_assert_true(job_has_completed(f, id));
        j = job(f, id);
        g_assert_cmpint(j->state, ==, JOB_STATE_TERMINATED);
        g_assert_cmpint(notes_find(f, NOTE_COMPLETED, OBJECT_JOB, id, 0)->state, ==, JOB_STATE_TERMINATED);
        g_assert_nonnull(strstr(j->error_description, "Terminated"));
        assert_job_failed_nothing_committed(f, id, remote, &before);
        g_assert_cmpint(model_get_job(f->engine->model, id)->state, ==, JOB_STATE_TERMINATED);

        /* Nothing of the probe fires later. */
        notes_clear(f);
        run_pending(f);
        g_assert_cmpuint(f->notes->len, ==, 0);
        assert_failed(f, engine_job_request_state_change(f->engine, &f->caller, id, 4, &f->err), -EBADRQC);
        assert_failed(f, engine_job_request_state_change(f->engine, &f->caller, id, 5, &f->err), -EBADRQC);
        snapshot_done(&before);
}

static void test_job_kill(Fixture *f, gconstpointer data) {
        uint64_t remote = add_access_point(f, f->peer, HANG_ADDRESS, f->hang_port);
        uint64_t id = start_add_job(f, f->collection, remote);

        /* Even before it ran. */
        request_state(f, id, 5);
        g_assert_cmpint(job(f, id)->state, ==, JOB_STATE_KILLED);
        g_assert_true(job_has_completed(f, id));
        run_pending(f);
        g_assert_cmpint(job(f, id)->state, ==, JOB_STATE_KILLED);
        g_assert_false(idset_contains(&collection(f, f->collection)->remote_access_points, remote));
        assert_model_is_stored(f);
}

static void test_job_suspend_resume(Fixture *f, gconstpointer data) {
        uint64_t remote = add_access_point(f, f->peer, LISTEN_ADDRESS, f->listen_port);
        uint64_t id = start_add_job(f, f->collection, remote);
        Model *stored;

        /* Suspended before it started, it does not start. */
        notes_clear(f);
        request_state(f, id, 3);
        g_assert_cmpint(job(f, id)->state, ==, JOB_STATE_SUSPENDED);
        g_assert_nonnull(strstr(only_change(f, OBJECT_JOB, id), "JobState"));
        run_pending(f);
        g_assert_cmpint(job(f, id)->state, ==, JOB_STATE_SUSPENDED);
        g_assert_false(job_has_completed(f, id));
        g_assert_false(idset_contains(&collection(f, f->collection)->remote_access_points, remote));

        /* A suspended job is neither suspended again nor does it block on a second resume. */
        assert_failed(f, engine_job_request_state_change(f->engine, &f->caller, id, 3, &f->err), -EBADRQC);
        assert_failed(f, engine_job_request_state_change(f->engine, &f->caller, id, 6, &f->err), -EOPNOTSUPP);
        assert_failed(f, engine_job_request_state_change(f->engine, &f->caller, id, 99, &f->err), -EINVAL);
        assert_failed(f, engine_job_request_state_change(f->engine, &f->caller, 999, 2, &f->err), -ENOENT);

        notes_clear(f);
        request_state(f, id, 2);
        g_assert_cmpint(job(f, id)->state, ==, JOB_STATE_RUNNING);
        /* It never ran before, so this is its start. */
        g_assert_cmpuint(job(f, id)->start_time, >, 0);
        g_assert_nonnull(strstr(notes_find(f, NOTE_CHANGED, OBJECT_JOB, id, 0)->properties, "StartTime"));
        assert_failed(f, engine_job_request_state_change(f->engine, &f->caller, id, 2, &f->err), -EBADRQC);
        wait_completed(f, id);
        g_assert_cmpint(job(f, id)->state, ==, JOB_STATE_COMPLETED);
        g_assert_true(idset_contains(&collection(f, f->collection)->remote_access_points, remote));
        stored = stored_model(f);
        g_assert_true(idset_contains(&model_get_collection(stored, f->collection)->remote_access_points, remote));
        model_free(stored);
}

static void test_job_suspend_running_probe(Fixture *f, gconstpointer data) {
        uint64_t remote = add_access_point(f, f->peer, HANG_ADDRESS, f->hang_port);
        uint64_t id = start_add_job(f, f->collection, remote);
        const Note *change;
        uint64_t start_time;

        run_until(f, job_is_running, id, "job start");
        run_pending(f);

        /* Suspending drops the probe in flight; the job holds its collection still. */
        request_state(f, id, 3);
        g_assert_cmpint(job(f, id)->state, ==, JOB_STATE_SUSPENDED);
        g_assert_cmpuint(collection(f, f->collection)->job_id, ==, id);
        g_assert_true(engine_has_running_jobs(f->engine));
        run_pending(f);
        g_assert_false(job_has_completed(f, id));

        notes_clear(f);
        start_time = job(f, id)->start_time;
        g_assert_cmpuint(start_time, >, 0);
        request_state(f, id, 2);
        g_assert_cmpint(job(f, id)->state, ==, JOB_STATE_RUNNING);
        /* Resuming is not starting: StartTime stays, and is not announced. */
        g_assert_cmpuint(job(f, id)->start_time, ==, start_time);
        change = notes_find(f, NOTE_CHANGED, OBJECT_JOB, id, 0);
        g_assert_nonnull(change);
        g_assert_nonnull(strstr(change->properties, "JobState"));
        g_assert_null(strstr(change->properties, "StartTime"));
        run_pending(f);
        g_assert_false(job_has_completed(f, id));

        request_state(f, id, 4);
        g_assert_cmpint(job(f, id)->state, ==, JOB_STATE_TERMINATED);
        g_assert_false(engine_has_running_jobs(f->engine));
        g_assert_false(idset_contains(&collection(f, f->collection)->remote_access_points, remote));
        assert_model_is_stored(f);
}

static void test_job_limit_total(Fixture *f, gconstpointer data) {
        uint64_t hanging = add_access_point(f, f->peer, HANG_ADDRESS, f->hang_port);
        uint64_t listening = add_access_point(f, f->peer, LISTEN_ADDRESS, f->listen_port);
        uint64_t second = create_collection(f, "second", NULL, false);
        const char *remotes[] = { PATH(OBJECT_ACCESS_POINT, listening), NULL };
        uint64_t first_job, j = 0, c = 0;
        Snapshot before;
        MemberArgs a;

        first_job = start_add_job(f, f->collection, hanging);

        notes_clear(f);
        before = snapshot(f, true);
        assert_failed(f, add_to(f, second, NULL, remotes, PATH(OBJECT_SYSTEM, f->peer), &j), -EDQUOT);
        assert_failed(f, engine_verify_access_point(f->engine, &f->caller, listening, &j, &f->err), -EDQUOT);
        assert_failed(f, engine_probe_peer_systems(f->engine, &f->caller, &j, &f->err), -EDQUOT);
        a = members(NULL, remotes, PATH(OBJECT_SYSTEM, f->peer));
        assert_failed(f, engine_create_collection(f->engine, &f->caller, "third", &a, true, false, &c, &j, &f->err),
                      -EDQUOT);
        /* The collection of the running job is busy before any limit counts. */
        assert_failed(f, add_to(f, f->collection, NULL, remotes, PATH(OBJECT_SYSTEM, f->peer), &j), -EBUSY);
        assert_unchanged(f, &before, true);
        g_assert_cmpuint(f->notes->len, ==, 0);
        snapshot_done(&before);

        /* Changes that need no job are not limited. */
        g_assert_cmpint(add_to(f, second, (const char * const[]) { PATH(OBJECT_ACCESS_POINT, f->local1), NULL }, NULL,
                               NULL, &j), ==, 0);
        g_assert_cmpuint(j, ==, 0);

        /* Once the first has ended, the next may start. */
        request_state(f, first_job, 4);
        g_assert_cmpint(add_to(f, second, NULL, remotes, PATH(OBJECT_SYSTEM, f->peer), &j), ==, 0);
        g_assert_cmpuint(j, !=, 0);
        wait_completed(f, j);
        g_assert_true(idset_contains(&collection(f, second)->remote_access_points, listening));
}

static void test_job_limit_per_user(Fixture *f, gconstpointer data) {
        uint64_t hanging = add_access_point(f, f->peer, HANG_ADDRESS, f->hang_port);
        uint64_t listening = add_access_point(f, f->peer, LISTEN_ADDRESS, f->listen_port);
        Caller other = { .uid = 1001, .owner = ":1.43 (uid 1001)" };
        uint64_t j = 0;

        start_add_job(f, f->collection, hanging);
        assert_failed(f, engine_verify_access_point(f->engine, &f->caller, listening, &j, &f->err), -EDQUOT);
        j = start_job(f, &other, listening);
        g_assert_cmpuint(job(f, j)->started_by_uid, ==, 1001);
        wait_completed(f, j);
        g_assert_cmpint(job(f, j)->state, ==, JOB_STATE_COMPLETED);
}

static void test_job_verified_from_each_local(Fixture *f, gconstpointer data) {
        uint64_t local2 = add_access_point(f, LOCAL_SYSTEM_ID, "127.0.0.5", 3260);
        uint64_t remote = add_access_point(f, f->peer, LISTEN_ADDRESS, f->listen_port);
        const char *locals[] = { PATH(OBJECT_ACCESS_POINT, local2), NULL };
        const char *remotes[] = { PATH(OBJECT_ACCESS_POINT, remote), NULL };
        uint64_t id;

        /* The new local access point is part of the same call: the probe runs from both. */
        g_assert_cmpint(add_to(f, f->collection, locals, remotes, PATH(OBJECT_SYSTEM, f->peer), &id), ==, 0);
        g_assert_cmpuint(id, !=, 0);
        g_assert_nonnull(job(f, id));
        wait_completed(f, id);
        g_assert_cmpint(job(f, id)->state, ==, JOB_STATE_COMPLETED);
        g_assert_true(idset_contains(&collection(f, f->collection)->local_access_points, local2));
        g_assert_true(idset_contains(&collection(f, f->collection)->remote_access_points, remote));
        g_assert_cmpstr(notes_find(f, NOTE_CHANGED, OBJECT_COLLECTION, f->collection, 1)->properties, ==,
                        "LocalAccessPoints,RemoteAccessPoints,RemoteSystems");
        /* Two probes, each verdict recorded. */
        g_assert_cmpuint(notes_count(f, NOTE_CHANGED, OBJECT_ACCESS_POINT, remote), >=, 2);
        assert_model_is_stored(f);
}

static bool note_is_progress(const Note *n) {
        return n->type == NOTE_CHANGED && n->kind == OBJECT_JOB &&
               (strstr(n->properties, "PercentComplete") || strstr(n->properties, "ExpectedEndTime"));
}

/*
 * Many probes that all succeed at once: between the announcement of the start
 * and the final one, PercentComplete and ExpectedEndTime are sent at most once
 * per progress interval, and the final announcement carries 100.
 */
static void test_job_progress_rate_limited(Fixture *f, gconstpointer data) {
        enum { N_PORTALS = 24 };
        const uint64_t interval = f->engine->config.progress_interval_usec;
        const char *remotes[N_PORTALS + 1] = {};
        int fds[N_PORTALS];
        uint64_t id, last_emit = 0;
        unsigned intermediate = 0;
        const Note *final = NULL;

        for (size_t i = 0; i < N_PORTALS; i++) {
                uint16_t port;

                fds[i] = socket_on(LISTEN_ADDRESS, &port);
                g_assert_cmpint(listen(fds[i], 8), ==, 0);
                remotes[i] = g_strdup(PATH(OBJECT_ACCESS_POINT, add_access_point(f, f->peer, LISTEN_ADDRESS, port)));
        }
        notes_clear(f);
        g_assert_cmpint(add_to(f, f->collection, NULL, remotes, PATH(OBJECT_SYSTEM, f->peer), &id), ==, 0);
        g_assert_nonnull(job(f, id));
        wait_completed(f, id);
        g_assert_cmpint(job(f, id)->state, ==, JOB_STATE_COMPLETED);
        g_assert_cmpuint(job(f, id)->percent_complete, ==, 100);

        for (guint i = 0; i < f->notes->len; i++) {
                const Note *n = f->notes->pdata[i];

                if (n->type != NOTE_CHANGED || n->kind != OBJECT_JOB || n->id != id)
                        continue;
                if (strstr(n->properties, "JobState")) {
                        /* The start and the end are state changes and carry the progress as it is then. */
                        if (note_is_progress(n))
                                final = n;
                } else if (note_is_progress(n)) {
                        g_test_message("progress %s at %" PRIu64 " us", n->properties, n->monotonic);
                        g_assert_cmpuint(n->monotonic, >=, last_emit + interval);
                        intermediate++;
                } else
                        continue;
                last_emit = n->monotonic;
        }
        g_assert_nonnull(final);
        g_assert_nonnull(strstr(final->properties, "PercentComplete"));
        g_assert_nonnull(strstr(final->properties, "JobState"));
        g_assert_true(final == notes_find(f, NOTE_CHANGED, OBJECT_JOB, id,
                                          notes_count(f, NOTE_CHANGED, OBJECT_JOB, id) - 1));
        /* The job took less than one interval, so nothing came between start and end. */
        g_assert_cmpuint(intermediate, ==, 0);

        for (size_t i = 0; i < N_PORTALS; i++) {
                g_free((char *) remotes[i]);
                close(fds[i]);
        }
}

static void test_job_verify_access_points(Fixture *f, gconstpointer data) {
        uint64_t refusing = add_access_point(f, f->peer, REFUSE_ADDRESS, f->refuse_port);
        Model *stored;
        uint64_t id;

        /* An access point of this host is verified by binding to its address. */
        id = start_job(f, &f->caller, f->local1);
        g_assert_cmpstr(job(f, id)->name, ==, "Verify");
        wait_completed(f, id);
        g_assert_cmpint(job(f, id)->state, ==, JOB_STATE_COMPLETED);

        /* A failed verification is a finding: recorded on the access point and stored. */
        id = start_job(f, &f->caller, refusing);
        wait_completed(f, id);
        g_assert_cmpint(job(f, id)->state, ==, JOB_STATE_EXCEPTION);
        g_assert_cmpuint(job(f, id)->error_code, ==, CIM_FAILED);
        g_assert_cmpint(model_get_access_point(f->engine->model, refusing)->reachable, ==, REACHABLE_NO);
        g_assert_cmpstr(model_get_access_point(f->engine->model, refusing)->last_error, !=, "");
        g_assert_cmpint(model_get_system(f->engine->model, f->peer)->reachable, ==, REACHABLE_NO);
        stored = stored_model(f);
        g_assert_cmpint(model_get_access_point(stored, refusing)->reachable, ==, REACHABLE_NO);
        g_assert_cmpstr(model_get_access_point(stored, refusing)->last_error, ==,
                        model_get_access_point(f->engine->model, refusing)->last_error);
        g_assert_cmpint(model_get_system(stored, f->peer)->reachable, ==, REACHABLE_NO);
        model_free(stored);

        assert_failed(f, engine_verify_access_point(f->engine, &f->caller, 999, &id, &f->err), -ENOENT);
}

static void test_job_probe_peers(Fixture *f, gconstpointer data) {
        uint64_t silent = add_peer(f, "iqn.2024-01.org.example:silent");
        uint64_t idle = add_peer(f, "iqn.2024-01.org.example:idle");
        g_autofree char *affected = NULL;
        uint64_t id;
        Job *j;

        add_access_point(f, f->peer, REFUSE_ADDRESS, f->refuse_port);
        add_access_point(f, f->peer, LISTEN_ADDRESS, f->listen_port);
        add_access_point(f, silent, REFUSE_ADDRESS, f->refuse_port);
        (void) idle;            /* no access point: nothing to ask */

        id = start_job(f, &f->caller, 0);
        g_assert_cmpstr(job(f, id)->name, ==, "GetPeerSystems");
        wait_completed(f, id);

        /* A peer answers when any of its access points does; a refusal is a finding, not a failure. */
        j = job(f, id);
        g_assert_cmpint(j->state, ==, JOB_STATE_COMPLETED);
        affected = g_strjoinv(",", j->affected_elements);
        g_assert_cmpstr(affected, ==, PATH(OBJECT_SYSTEM, f->peer));
        g_assert_cmpint(model_get_system(f->engine->model, f->peer)->reachable, ==, REACHABLE_YES);
        g_assert_cmpint(model_get_system(f->engine->model, silent)->reachable, ==, REACHABLE_NO);
        g_assert_cmpint(model_get_system(f->engine->model, idle)->reachable, ==, REACHABLE_UNKNOWN);
        assert_model_is_stored(f);
}

/*
 * Many peers in four kinds: a listening and a refusing access point, only a
 * refusing one, two listening ones, none. The answer lists each peer with a
 * listening access point once, in the model's order, and nothing else.
 */
static void test_job_probe_many_peers(Fixture *f, gconstpointer data) {
        enum { N_PEERS = 60 };
        g_autoptr(GPtrArray) expected = g_ptr_array_new_with_free_func(g_free);
        g_autofree char *affected = NULL, *want = NULL;
        uint16_t second_port;
        int second_fd;
        uint64_t id;
        Job *j;

        second_fd = socket_on(LISTEN_ADDRESS, &second_port);
        g_assert_cmpint(listen(second_fd, 64), ==, 0);
        for (unsigned i = 0; i < N_PEERS; i++) {
                g_autofree char *name = g_strdup_printf("iqn.2024-01.org.example:peer%u", i);
                uint64_t peer = add_peer(f, name);

                switch (i % 4) {
                case 0:
                        add_access_point(f, peer, REFUSE_ADDRESS, f->refuse_port);
                        add_access_point(f, peer, LISTEN_ADDRESS, f->listen_port);
                        break;
                case 1:
                        add_access_point(f, peer, REFUSE_ADDRESS, f->refuse_port);
                        break;
                case 2:
                        add_access_point(f, peer, LISTEN_ADDRESS, second_port);
                        add_access_point(f, peer, LISTEN_ADDRESS, f->listen_port);
                        break;
                default:
                        break;
                }
                if (i % 2 == 0)
                        g_ptr_array_add(expected, g_strdup(PATH(OBJECT_SYSTEM, peer)));
        }
        g_ptr_array_add(expected, NULL);

        id = start_job(f, &f->caller, 0);
        wait_completed(f, id);

        j = job(f, id);
        g_assert_cmpint(j->state, ==, JOB_STATE_COMPLETED);
        affected = g_strjoinv(",", j->affected_elements);
        want = g_strjoinv(",", (char **) expected->pdata);
        g_assert_cmpstr(affected, ==, want);
        assert_model_is_stored(f);
        close(second_fd);
}

/* Starts Verify of a listening peer's access point, to be kept after it ends. */
static uint64_t run_kept_verify_job(Fixture *f, uint64_t ap) {
        uint64_t id = start_job(f, &f->caller, ap);

        g_assert_cmpint(engine_job_set_delete_on_completion(f->engine, &f->caller, id, false, &f->err), ==, 0);
        flush(f);
        g_assert_cmpstr(only_change(f, OBJECT_JOB, id), ==, "DeleteOnCompletion");
        wait_completed(f, id);
        g_assert_cmpint(job(f, id)->state, ==, JOB_STATE_COMPLETED);
        return id;
}

static void test_job_retention(Fixture *f, gconstpointer data) {
        uint64_t ap = add_access_point(f, f->peer, LISTEN_ADDRESS, f->listen_port);
        uint64_t first, second;
        Model *stored;

        notes_clear(f);
        first = run_kept_verify_job(f, ap);
        g_assert_nonnull(model_get_job(f->engine->model, first));
        g_assert_cmpuint(notes_count(f, NOTE_REMOVED, OBJECT_JOB, ANY_ID), ==, 0);

        notes_clear(f);
        second = run_kept_verify_job(f, ap);
        /* The completion queued the removal of the oldest; it commits with the next group. */
        flush(f);
        /* Beyond the limit, the oldest goes, whatever DeleteOnCompletion says. */
        g_assert_null(model_get_job(f->engine->model, first));
        g_assert_nonnull(model_get_job(f->engine->model, second));
        g_assert_cmpuint(f->engine->model->jobs.n, ==, 1);
        g_assert_cmpuint(notes_count(f, NOTE_REMOVED, OBJECT_JOB, first), ==, 1);
        g_assert_cmpuint(notes_count(f, NOTE_REMOVED, OBJECT_JOB, ANY_ID), ==, 1);
        /* Removed after the newest job's completion was announced. */
        g_assert_cmpuint(notes_index(f, notes_find(f, NOTE_COMPLETED, OBJECT_JOB, second, 0)), <,
                         notes_index(f, notes_find(f, NOTE_REMOVED, OBJECT_JOB, first, 0)));

        stored = stored_model(f);
        g_assert_cmpuint(stored->jobs.n, ==, 1);
        g_assert_nonnull(model_get_job(stored, second));
        model_free(stored);
        assert_model_is_stored(f);
}

/*
 * Two jobs end in one group while the limit is one finished job: the oldest
 * finished jobs go, the newest stays. The removals commit after the group
 * that set them off, so a job whose removal is pending must not count.
 */
static void test_job_retention_same_group(Fixture *f, gconstpointer data) {
        uint64_t local2 = add_access_point(f, LOCAL_SYSTEM_ID, "127.0.0.5", 3260);
        uint64_t first, second, third;

        first = run_kept_verify_job(f, f->local1);
        /* Verify of this host's access points ends on the job's first run: both in one turn. */
        second = start_job(f, &f->caller, f->local1);
        third = start_job(f, &f->caller, local2);
        notes_clear(f);
        run_until(f, job_has_completed, third, "job completion");
        g_assert_true(job_has_completed(f, second));
        flush(f);

        g_assert_cmpuint(notes_count(f, NOTE_REMOVED, OBJECT_JOB, first), ==, 1);
        g_assert_cmpuint(notes_count(f, NOTE_REMOVED, OBJECT_JOB, second), ==, 1);
        g_assert_cmpuint(notes_count(f, NOTE_REMOVED, OBJECT_JOB, third), ==, 0);
        g_assert_nonnull(model_get_job(f->engine->model, third));
        g_assert_cmpuint(f->engine->model->jobs.n, ==, 1);
        assert_model_is_stored(f);
}

static void test_job_time_before_removal(Fixture *f, gconstpointer data) {
        uint64_t ap = add_access_point(f, f->peer, LISTEN_ADDRESS, f->listen_port);
        const Note *done, *removed;
        uint64_t id = start_job(f, &f->caller, ap);
        Job *j = job(f, id);
        Model *stored;

        g_assert_true(j->delete_on_completion);
        g_assert_cmpuint(j->time_before_removal, ==, 100 * USEC_PER_MSEC);
        wait_completed(f, id);
        g_assert_nonnull(model_get_job(f->engine->model, id));
        done = notes_find(f, NOTE_COMPLETED, OBJECT_JOB, id, 0);

        run_until(f, job_was_removed, id, "job removal");
        removed = notes_find(f, NOTE_REMOVED, OBJECT_JOB, id, 0);
        /* TimeBeforeRemoval counts from the end of the job. */
        g_assert_cmpuint(removed->realtime, >=, done->time_of_last_state_change + 100 * USEC_PER_MSEC);
        g_assert_null(model_get_job(f->engine->model, id));
        stored = stored_model(f);
        g_assert_null(model_get_job(stored, id));
        model_free(stored);
}

static void test_job_kept_without_delete_on_completion(Fixture *f, gconstpointer data) {
        uint64_t ap = add_access_point(f, f->peer, LISTEN_ADDRESS, f->listen_port);
        uint64_t id = run_kept_verify_job(f, ap);

        /* Past its time it stays, until deleted. */
        g_assert_cmpint(engine_job_set_time_before_removal(f->engine, &f->caller, id, 0, &f->err), ==, 0);
        flush(f);
        run_pending(f);
        g_assert_nonnull(model_get_job(f->engine->model, id));
        g_assert_cmpuint(notes_count(f, NOTE_REMOVED, OBJECT_JOB, id), ==, 0);

        /* Setting the flag again lets the elapsed time count at once. */
        g_assert_cmpint(engine_job_set_delete_on_completion(f->engine, &f->caller, id, true, &f->err), ==, 0);
        flush(f);
        run_until(f, job_was_removed, id, "job removal");
        g_assert_null(model_get_job(f->engine->model, id));
        assert_model_is_stored(f);
}

static void test_job_delete(Fixture *f, gconstpointer data) {
        uint64_t hanging = add_access_point(f, f->peer, HANG_ADDRESS, f->hang_port);
        uint64_t id = start_add_job(f, f->collection, hanging);

        assert_failed(f, engine_job_delete(f->engine, &f->caller, id, &f->err), -EBADRQC);
        request_state(f, id, 4);
        notes_clear(f);
        g_assert_cmpint(engine_job_delete(f->engine, &f->caller, id, &f->err), ==, 0);
        flush(f);
        g_assert_null(model_get_job(f->engine->model, id));
        g_assert_cmpuint(notes_count(f, NOTE_REMOVED, OBJECT_JOB, id), ==, 1);
        assert_failed(f, engine_job_delete(f->engine, &f->caller, id, &f->err), -ENOENT);
        assert_model_is_stored(f);
}

static void test_job_shutdown(Fixture *f, gconstpointer data) {
        uint64_t remote = add_access_point(f, f->peer, HANG_ADDRESS, f->hang_port);
        Snapshot before = snapshot(f, false);
        uint64_t id;
        Job *j;

        id = start_add_job(f, f->collection, remote);
        run_until(f, job_is_running, id, "job start");
        run_pending(f);

        notes_clear(f);
        engine_shutdown(f->engine);
        g_assert_true(job_has_completed(f, id));
        j = job(f, id);
        g_assert_cmpint(j->state, ==, JOB_STATE_EXCEPTION);
        g_assert_nonnull(strstr(j->error_description, "Interrupted"));
        g_assert_false(engine_has_running_jobs(f->engine));
        /* Stopping removes nothing; a restart still lists it. */
        g_assert_cmpuint(notes_count(f, NOTE_REMOVED, OBJECT_JOB, ANY_ID), ==, 0);
        assert_unchanged(f, &before, false);
        engine_close(f);

        notes_clear(f);
        engine_open(f);
        j = job(f, id);
        g_assert_cmpint(j->state, ==, JOB_STATE_EXCEPTION);
        g_assert_cmpuint(j->error_code, ==, CIM_FAILED);
        g_assert_nonnull(strstr(j->error_description, "Interrupted"));
        g_assert_false(idset_contains(&collection(f, f->collection)->remote_access_points, remote));
        g_assert_cmpuint(collection(f, f->collection)->job_id, ==, 0);
        g_assert_false(engine_has_running_jobs(f->engine));
        assert_unchanged(f, &before, false);
        assert_model_is_stored(f);
        snapshot_done(&before);
}

/* A service that died with a job running finds it running in the store; recovery closes it. */
static void test_job_recover_after_crash(Fixture *f, gconstpointer data) {
        uint64_t remote = add_access_point(f, f->peer, HANG_ADDRESS, f->hang_port);
        Snapshot before = snapshot(f, false);
        uint64_t id;
        Model *stored;
        Job *j;

        id = start_add_job(f, f->collection, remote);
        run_until(f, job_is_running, id, "job start");
        engine_close(f);

        stored = stored_model(f);
        g_assert_false(job_state_is_finished(model_get_job(stored, id)->state));
        model_free(stored);

        notes_clear(f);
        engine_open(f);
        j = job(f, id);
        g_assert_cmpint(j->state, ==, JOB_STATE_EXCEPTION);
        g_assert_nonnull(strstr(j->error_description, "Interrupted"));
        g_assert_false(engine_has_running_jobs(f->engine));
        assert_failed(f, engine_job_request_state_change(f->engine, &f->caller, id, 4, &f->err), -EBADRQC);
        assert_unchanged(f, &before, false);
        assert_model_is_stored(f);
        snapshot_done(&before);
}

/* ---- reopening ---- */

static void test_reopen_keeps_everything(Fixture *f, gconstpointer data) {
        uint64_t peer = add_peer(f, PEER_NAME);
        uint64_t ap = add_access_point(f, peer, LISTEN_ADDRESS, 3260);
        SecretSpec spec = { .username = "alice", .secret = "0123456789ab" };
        g_autofree char *dump = NULL, *again = NULL;
        uint64_t next_id, secret;

        g_assert_cmpint(engine_add_secret(f->engine, &f->caller, PATH(OBJECT_ACCESS_POINT, ap), &spec, &secret,
                                          &f->err), ==, 0);
        flush(f);
        create_collection(f, "c", NULL, true);
        dump = model_dump(f->engine->model, true);
        next_id = f->engine->model->next_id;
        engine_close(f);

        engine_open(f);
        again = model_dump(f->engine->model, true);
        g_assert_cmpstr(again, ==, dump);
        /* Ids are never handed out twice. */
        g_assert_cmpuint(f->engine->model->next_id, >=, next_id);
        g_assert_cmpuint(add_peer(f, "iqn.2024-01.org.example:next"), >=, next_id);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        /* The engine logs every change at info; keep the TAP output readable. */
        log_set_max_level(g_getenv("TEST_ENGINE_DEBUG") ? LOG_DEBUG : LOG_WARNING);

#define ADD(path, setup_fn, fn) g_test_add(path, Fixture, NULL, setup_fn, fn, teardown)
        ADD("/engine/peers/add", setup_empty, test_add_peer);
        ADD("/engine/access-points/add", setup_empty, test_add_access_points);
        ADD("/engine/secrets/add", setup_empty, test_add_secrets);
        ADD("/engine/collections/add-to-synchronous", setup_no_verify, test_add_to_synchronous);
        ADD("/engine/collections/failed-calls-change-nothing", setup_world, test_failed_calls_change_nothing);
        ADD("/engine/collections/delete-on-unassociated", setup_no_verify, test_delete_on_unassociated);
        ADD("/engine/jobs/verified-add", setup_world, test_job_verified_add);
        ADD("/engine/jobs/verified-create", setup_world, test_job_verified_create);
        ADD("/engine/jobs/verified-from-each-local", setup_world, test_job_verified_from_each_local);
        ADD("/engine/jobs/verify-access-points", setup_world, test_job_verify_access_points);
        ADD("/engine/jobs/progress-rate-limited", setup_slow_progress, test_job_progress_rate_limited);
        ADD("/engine/jobs/probe-peers", setup_world, test_job_probe_peers);
        ADD("/engine/jobs/probe-many-peers", setup_world, test_job_probe_many_peers);
        ADD("/engine/jobs/refused", setup_world, test_job_refused);
        ADD("/engine/jobs/timeout", setup_short_probes, test_job_timeout);
        ADD("/engine/jobs/terminate", setup_world, test_job_terminate);
        ADD("/engine/jobs/kill", setup_world, test_job_kill);
        ADD("/engine/jobs/suspend-resume", setup_world, test_job_suspend_resume);
        ADD("/engine/jobs/suspend-running-probe", setup_world, test_job_suspend_running_probe);
        ADD("/engine/jobs/limit-total", setup_one_running_job, test_job_limit_total);
        ADD("/engine/jobs/limit-per-user", setup_one_job_per_user, test_job_limit_per_user);
        ADD("/engine/jobs/retention", setup_one_finished_job, test_job_retention);
        ADD("/engine/jobs/retention-same-group", setup_one_finished_job, test_job_retention_same_group);
        ADD("/engine/jobs/time-before-removal", setup_quick_removal, test_job_time_before_removal);
        ADD("/engine/jobs/kept-without-delete-on-completion", setup_world, test_job_kept_without_delete_on_completion);
        ADD("/engine/jobs/delete", setup_world, test_job_delete);
        ADD("/engine/jobs/shutdown", setup_world, test_job_shutdown);
        ADD("/engine/jobs/recover-after-crash", setup_world, test_job_recover_after_crash);
        ADD("/engine/store/reopen-keeps-everything", setup_empty, test_reopen_keeps_everything);
#undef ADD

        return g_test_run();
}
