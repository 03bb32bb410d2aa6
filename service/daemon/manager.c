/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Start-up and shutdown: the state store, the bus connection and name, the
 * signals that stop the service, readiness notification and idle exit.
 */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "bus/polkit.h"
#include "config.h"
#include "contract/names.h"
#include "manager.h"
#include "util/fileutil.h"
#include "util/log.h"
#include "util/strutil.h"

#define STATE_LOCK_FILE "lock"

static int read_initiator_file(const char *path, char **ret) {
        _cleanup_free_ char *line = NULL;
        size_t n = 0;
        FILE *f = fopen(path, "re");
        int r = -ENOENT;

        if (!f)
                return -errno;
        while (getline(&line, &n, f) > 0) {
                char *v;

                if (strncmp(line, "InitiatorName=", 14) != 0)
                        continue;
                v = line + 14;
                v[strcspn(v, "\r\n \t")] = 0;
                if (*v) {
                        *ret = strdup(v);
                        r = *ret ? 0 : -ENOMEM;
                }
                break;
        }
        fclose(f);
        return r;
}

int manager_find_initiator_name(const char *configured, char **ret) {
        char buf[128];
        sd_id128_t id;

        if (!isempty(configured)) {
                *ret = strdup(configured);
                return *ret ? 0 : -ENOMEM;
        }
        if (read_initiator_file("/etc/iscsi/initiatorname.iscsi", ret) >= 0)
                return 0;
        /* Stable across restarts without writing anything: derived from the machine id. */
        if (sd_id128_get_machine(&id) >= 0)
                snprintf(buf, sizeof(buf), "iqn.2026-11.org.iscsi.replicationd:" SD_ID128_FORMAT_STR,
                         SD_ID128_FORMAT_VAL(id));
        else
                snprintf(buf, sizeof(buf), "iqn.2026-11.org.iscsi.replicationd:unknown");
        *ret = strdup(buf);
        return *ret ? 0 : -ENOMEM;
}

/*
 * One instance per state directory: a second one would keep a stale copy of
 * the model and overwrite what the first stored. The lock is taken before the
 * store is opened and held until the process exits.
 */
static int manager_lock_state_directory(Manager *m) {
        const char *dir = m->options.state_directory;
        _cleanup_free_ char *path = NULL;
        pid_t holder = 0;
        int r;

        r = mkdir_parents(dir, 0700);
        if (r < 0)
                return log_error_errno(r, "Failed to create state directory %s", dir);
        if (asprintf(&path, "%s/%s", dir, STATE_LOCK_FILE) < 0)
                return log_error_errno(-ENOMEM, "Out of memory");

        r = lock_file_take(path, &m->state_lock_fd, &holder);
        if (r == -EWOULDBLOCK) {
                if (holder > 0)
                        log_error("State directory %s is in use by another instance (pid %d); exiting.", dir,
                                  (int) holder);
                else
                        log_error("State directory %s is in use by another instance; exiting.", dir);
                return r;
        }
        if (r < 0)
                return log_error_errno(r, "Failed to lock state directory %s (%s)", dir, path);
        return 0;
}

static void manager_restart_idle_period(Manager *m) {
        if (!m->idle_timer)
                return;
        (void) sd_event_source_set_time_relative(m->idle_timer, m->options.exit_on_idle_usec);
        (void) sd_event_source_set_enabled(m->idle_timer, SD_EVENT_ONESHOT);
}

static int on_idle_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        if (engine_has_running_jobs(m->engine) || polkit_pending_count() > 0) {
                /* Never leave with work in flight or a caller waiting; look again later. */
                sd_event_source_set_time_relative(s, m->options.exit_on_idle_usec);
                return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        }
        log_info("Idle for %g s, exiting.", (double) m->options.exit_on_idle_usec / USEC_PER_SEC);
        return sd_event_exit(sd_event_source_get_event(s), 0);
}

/*
 * Sees every message first. sd-bus synthesizes Local.Disconnected when the
 * bus goes away; a service that stayed would be deaf until it idled out, and
 * activation could not start a fresh one meanwhile. So the loop ends with an
 * error, and the stop marks running jobs interrupted as any stop does.
 */
static int on_bus_message(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;

        if (sd_bus_message_is_signal(message, "org.freedesktop.DBus.Local", "Disconnected")) {
                log_error("Lost the connection to the bus; exiting.");
                m->bus_lost = true;
                return sd_event_exit(m->event, -ECONNRESET);
        }
        manager_restart_idle_period(m);
        return 0;
}

/*
 * Runs after every loop iteration that dispatched something. The end of the
 * last running job starts the idle period anew, as a call does: whoever
 * waited for the job gets a whole period to read its result.
 */
static int on_loop_iteration(sd_event_source *s, void *userdata) {
        Manager *m = userdata;
        bool running = engine_has_running_jobs(m->engine);

        if (m->jobs_were_running && !running)
                manager_restart_idle_period(m);
        m->jobs_were_running = running;
        return 0;
}

static int manager_connect_bus(Manager *m) {
        int r;

        switch (m->options.bus_kind) {
        case BUS_KIND_SYSTEM:
                r = sd_bus_open_system_with_description(&m->bus, "iscsi-replicationd");
                break;
        case BUS_KIND_SESSION:
                r = sd_bus_open_user_with_description(&m->bus, "iscsi-replicationd");
                break;
        default:
                r = sd_bus_new(&m->bus);
                if (r >= 0)
                        r = sd_bus_set_address(m->bus, m->options.bus_address);
                if (r >= 0)
                        r = sd_bus_set_bus_client(m->bus, true);
                if (r >= 0)
                        r = sd_bus_start(m->bus);
                break;
        }
        if (r < 0)
                return log_error_errno(r, "Failed to connect to the bus");

        r = sd_bus_attach_event(m->bus, m->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "Failed to attach the bus to the event loop");

        m->bus_context = (BusContext) {
                .bus = m->bus,
                .engine = m->engine,
                .version = PACKAGE_VERSION,
                .initiator_name = m->initiator_name,
        };
        r = bus_register_objects(&m->bus_context);
        if (r < 0)
                return r;
        engine_set_observer(m->engine, bus_engine_observer(), &m->bus_context);

        r = sd_bus_add_filter(m->bus, NULL, on_bus_message, m);
        if (r < 0)
                return log_error_errno(r, "Failed to watch bus traffic");

        r = sd_bus_request_name(m->bus, SERVICE_BUS_NAME, 0);
        if (r < 0)
                return log_error_errno(r, "Failed to acquire the bus name %s", SERVICE_BUS_NAME);
        return 0;
}

int manager_new(const ManagerOptions *o, Manager **ret) {
        Manager *m;
        char host[256] = "localhost";
        int r;

        m = calloc(1, sizeof(Manager));
        if (!m)
                return log_error_errno(-ENOMEM, "Out of memory");
        m->options = *o;
        m->state_lock_fd = -1;

        r = sd_event_default(&m->event);
        if (r < 0) {
                manager_free(m);
                return log_error_errno(r, "Failed to create the event loop");
        }
        (void) sd_event_set_watchdog(m->event, true);
        (void) sd_event_add_signal(m->event, NULL, SIGTERM, NULL, NULL);
        (void) sd_event_add_signal(m->event, NULL, SIGINT, NULL, NULL);

        r = manager_find_initiator_name(o->initiator_name, &m->initiator_name);
        if (r < 0) {
                manager_free(m);
                return log_error_errno(r, "Failed to determine the initiator name");
        }

        r = manager_lock_state_directory(m);
        if (r < 0) {
                manager_free(m);
                return r;
        }

        (void) gethostname(host, sizeof(host) - 1);
        m->options.config.initiator_name = m->initiator_name;
        r = engine_new(m->event, o->state_directory, host, &m->options.config, &m->engine);
        if (r < 0) {
                manager_free(m);
                return r;
        }

        r = manager_connect_bus(m);
        if (r >= 0)
                r = engine_recover(m->engine);
        if (r < 0) {
                manager_free(m);
                return r;
        }

        if (o->exit_on_idle_usec > 0) {
                r = sd_event_add_time_relative(m->event, &m->idle_timer, CLOCK_MONOTONIC, o->exit_on_idle_usec, 0,
                                               on_idle_timer, m);
                if (r >= 0)
                        r = sd_event_add_post(m->event, &m->idle_watch, on_loop_iteration, m);
                if (r < 0) {
                        manager_free(m);
                        return log_error_errno(r, "Failed to arm the idle timer");
                }
        }

        *ret = m;
        return 0;
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        m->idle_timer = sd_event_source_disable_unref(m->idle_timer);
        m->idle_watch = sd_event_source_disable_unref(m->idle_watch);
        polkit_flush();
        /* What the engine still applies while it is freed has nobody to be announced to. */
        if (m->engine)
                engine_set_observer(m->engine, NULL, NULL);
        bus_unregister_objects(&m->bus_context);
        if (m->bus) {
                (void) sd_bus_flush(m->bus);
                m->bus = sd_bus_flush_close_unref(m->bus);
        }
        engine_free(m->engine);
        /* Only once the store is closed may another instance take the directory. */
        if (m->state_lock_fd >= 0)
                close(m->state_lock_fd);
        sd_event_unref(m->event);
        free(m->initiator_name);
        free(m);
        return NULL;
}

int manager_run(Manager *m) {
        int r;

        log_info("Serving %s, state in %s.", SERVICE_BUS_NAME, m->options.state_directory);
        (void) sd_notify(false, "READY=1\nSTATUS=Serving.");

        r = sd_event_loop(m->event);

        (void) sd_notify(false, "STOPPING=1\nSTATUS=Stopping.");
        if (m->bus_lost) {
                /* Running jobs still end as interrupted and are stored; there is nobody left to tell. */
                engine_set_observer(m->engine, NULL, NULL);
                engine_shutdown(m->engine);
                return r;
        }
        /* Jobs still running end as interrupted before the bus goes away, so clients hear it. */
        engine_shutdown(m->engine);
        bus_flush_signals(&m->bus_context);
        (void) sd_bus_flush(m->bus);
        if (r < 0)
                return log_error_errno(r, "Event loop failed");
        log_info("Stopped.");
        return 0;
}
