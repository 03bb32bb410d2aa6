/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the unit tests of the service library share whatever their fixture (unit-util.h). */

#include <arpa/inet.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "unit-util.h"
#include "util/log.h"

/* Whether m holds the object of that kind and id. */
bool model_has(const Model *m, ObjectKind kind, uint64_t id) {
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

/* The state in dir as the next start of the service would load it; the caller frees it. */
Model *stored_model_of(const char *dir, const char *local_name) {
        Store *store = NULL;
        Model *m = model_new(local_name);

        g_assert_nonnull(m);
        g_assert_cmpint(store_open(dir, &store), ==, 0);
        g_assert_cmpint(store_load(store, m), ==, 0);
        store_close(store);
        return m;
}

/* Removes a state directory and the files in it (the store keeps no subdirectories). */
void state_dir_remove(const char *dir) {
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        const char *name;

        g_assert_nonnull(d);
        while ((name = g_dir_read_name(d))) {
                g_autofree char *p = g_build_filename(dir, name, NULL);

                g_assert_cmpint(g_unlink(p), ==, 0);
        }
        g_assert_cmpint(g_rmdir(dir), ==, 0);
}

/* The members of a collection call; locals and remotes NULL-terminated or NULL, system NULL for none. */
MemberArgs members(const char * const *locals, const char * const *remotes, const char *system) {
        return (MemberArgs) {
                .local_paths = locals,
                .n_local = locals ? g_strv_length((char **) locals) : 0,
                .remote_paths = remotes,
                .n_remote = remotes ? g_strv_length((char **) remotes) : 0,
                .system_path = system ? system : NULL_PATH,
        };
}

static int on_watchdog(sd_event_source *s, uint64_t usec, void *userdata) {
        *(bool *) userdata = true;
        return 0;
}

/* Runs the loop until done(userdata, arg); fails the test, naming what, after WATCHDOG_USEC. */
void loop_run_until(sd_event *event, loop_condition_t done, void *userdata, uint64_t arg, const char *what) {
        sd_event_source *watchdog = NULL;
        bool fired = false;

        g_assert_cmpint(sd_event_add_time_relative(event, &watchdog, CLOCK_MONOTONIC, WATCHDOG_USEC, 0, on_watchdog,
                                                   &fired), >=, 0);
        while (!done(userdata, arg)) {
                g_assert_cmpint(sd_event_run(event, UINT64_MAX), >=, 0);
                if (fired)
                        g_error("watchdog: %s did not happen within %u s", what,
                                (unsigned) (WATCHDOG_USEC / USEC_PER_SEC));
        }
        sd_event_source_disable_unref(watchdog);
}

/* A TCP socket bound to address on a port of the kernel's choosing, not yet listening. */
int socket_on(const char *address, uint16_t *ret_port) {
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
