/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Integration test fixture: a private bus (dbus-daemon, or dbus-broker with
 * IRD_TEST_BUS=dbus-broker; see harness-bus.c), the built
 * iscsi-replicationd on it with its own state directory, a GDBus client
 * connection that records every signal the service sends, and fake peers
 * (an iSCSI target that answers discovery, a listener that never accepts,
 * a port nobody listens on). Every wait runs the main loop under a
 * watchdog, so a hung test fails within seconds instead of sleeping.
 */

#include <gio/gio.h>
#include <glib.h>
#include <sys/types.h>

#define IRD_BUS_NAME "org.iscsi.ReplicationService"
#define IRD_ROOT "/org/iscsi/ReplicationService"
#define IRD_LOCAL_SYSTEM IRD_ROOT "/system/local"

#define IRD_IFACE_SERVICE "org.iscsi.ReplicationService"
#define IRD_IFACE_SYSTEM "org.iscsi.ReplicationService.ComputerSystem"
#define IRD_IFACE_AP "org.iscsi.ReplicationService.ServiceAccessPoint"
#define IRD_IFACE_COLLECTION "org.iscsi.ReplicationService.RemoteReplicationCollection"
#define IRD_IFACE_SECRET "org.iscsi.ReplicationService.SharedSecret"
#define IRD_IFACE_JOB "org.iscsi.ReplicationService.Job"
#define IRD_IFACE_VOLUME "org.iscsi.ReplicationService.StorageVolume"
#define IRD_IFACE_SYNCHRONIZATION "org.iscsi.ReplicationService.StorageSynchronized"

#define IRD_ERROR_NOT_SUPPORTED "org.iscsi.ReplicationService.Error.NotSupported"
#define IRD_ERROR_UNKNOWN "org.iscsi.ReplicationService.Error.Unknown"
#define IRD_ERROR_TIMEOUT "org.iscsi.ReplicationService.Error.Timeout"
#define IRD_ERROR_FAILED "org.iscsi.ReplicationService.Error.Failed"
#define IRD_ERROR_INVALID_PARAMETER "org.iscsi.ReplicationService.Error.InvalidParameter"
#define IRD_ERROR_IN_USE "org.iscsi.ReplicationService.Error.InUse"
#define IRD_ERROR_INVALID_STATE_TRANSITION "org.iscsi.ReplicationService.Error.InvalidStateTransition"
#define IRD_ERROR_ACCESS_DENIED "org.freedesktop.DBus.Error.AccessDenied"
#define IRD_ERROR_LIMITS_EXCEEDED "org.freedesktop.DBus.Error.LimitsExceeded"
#define IRD_ERROR_INVALID_ARGS "org.freedesktop.DBus.Error.InvalidArgs"

/* Job states (CIM_ConcreteJob.JobState). */
enum {
        IRD_JOB_NEW = 2,
        IRD_JOB_RUNNING = 4,
        IRD_JOB_SUSPENDED = 5,
        IRD_JOB_COMPLETED = 7,
        IRD_JOB_TERMINATED = 8,
        IRD_JOB_KILLED = 9,
        IRD_JOB_EXCEPTION = 10,
};

/* How long any single wait may take before the test is aborted. */
#define HARNESS_WATCHDOG_SECONDS 30

/* Per-test configuration, passed as the GTest fixture data. */
typedef struct HarnessConfig {
        /* Extra daemon arguments, NULL-terminated; NULL for none. */
        const char *const *daemon_args;
} HarnessConfig;

typedef struct HarnessSignal {
        char *sender;
        char *path;
        char *interface;
        char *member;
        GVariant *parameters;
        guint64 received_usec;          /* g_get_monotonic_time() when dispatched */
        guint64 seq;                    /* arrival order, across the whole test */
} HarnessSignal;

typedef struct Harness {
        char *tmpdir;
        char *state_directory;
        char *log_path;
        char *bus_address;
        GSubprocess *bus_process;       /* dbus-daemon, or dbus-broker's launcher */
        int bus_journal_fd;             /* dbus-broker: the journal socket its launcher logs to; else -1 */
        char *bus_log_path;             /* what the bus said, where it does not go to the daemon log */
        GDBusConnection *connection;

        GPtrArray *daemon_args;         /* extra args, owned strings */
        GSubprocess *daemon;
        gboolean daemon_exited;
        char *daemon_owner;             /* unique name owning IRD_BUS_NAME, NULL when none */
        guint name_watch;

        guint signal_subscription;
        GQueue signals;                 /* HarnessSignal*, in arrival order */
        guint64 next_seq;
} Harness;

typedef gboolean (*HarnessSignalPredicate)(const HarnessSignal *s, gpointer user_data);

/* ---- the bus ---- */

typedef enum HarnessBusKind {
        HARNESS_BUS_DAEMON,             /* dbus-daemon (the default) */
        HARNESS_BUS_BROKER,             /* dbus-broker, through dbus-broker-launch */
} HarnessBusKind;

/* Which bus the tests run on: IRD_TEST_BUS=dbus-daemon|dbus-broker (unset: dbus-daemon). */
HarnessBusKind harness_bus_kind(void);
/* "dbus-daemon" or "dbus-broker", for messages. */
const char *harness_bus_name(void);
/*
 * Starts the bus on @TMPDIR@/bus with body (the content of <busconfig>
 * after <listen> and <auth>) and env ("NAME=value", NULL-terminated, may be
 * NULL) added to its environment; sets bus_process and bus_address. With
 * log_stderr, dbus-daemon's stderr (and so that of the services it
 * activates) goes to the daemon log, and dbus-broker's launcher's to the
 * bus log.
 */
void harness_bus_start(Harness *h, const char *body, const char *const *env, gboolean log_stderr);
/* Stops the bus and waits for it. */
void harness_bus_stop(Harness *h);
/* The bus log: what dbus-broker and its launcher said so far ("" for dbus-daemon). */
char *harness_bus_read_log(Harness *h);

/* ---- fixture ---- */

void harness_setup(Harness *h, gconstpointer data);
void harness_teardown(Harness *h, gconstpointer data);

/* Starts the daemon and waits until it owns the bus name. */
void harness_start_daemon(Harness *h);
/* SIGTERM: waits for the exit and asserts a clean exit status 0. */
void harness_stop_daemon(Harness *h);
/* SIGKILL: waits for the process to be gone. */
void harness_kill_daemon(Harness *h);
/* Replaces the extra daemon arguments used by the next start. */
void harness_set_daemon_args(Harness *h, const char *const *args);

/*
 * Starts the daemon like harness_start_daemon(), but returns at once instead
 * of waiting for it to own its name, so a test can watch what happens before
 * that. env adjusts the environment the daemon inherits: "NAME=value" sets,
 * a bare "NAME" removes (NULL-terminated, may be NULL). Without
 * with_state_directory no --state-directory is passed, and the daemon picks
 * its directory itself ($STATE_DIRECTORY or its default).
 */
void harness_spawn_daemon(Harness *h, const char *const *env, gboolean with_state_directory);
/* Waits until the spawned daemon owns its name; fails the test if it exits first. */
void harness_wait_daemon_name(Harness *h);
/*
 * Waits for the daemon to exit on its own and for its name to be released;
 * returns the wait status. The harness forgets the process, so teardown does
 * not count the exit as a crash.
 */
int harness_wait_daemon_exit(Harness *h);
/*
 * Runs the daemon binary with exactly args (no bus or state directory added)
 * and env (as for harness_spawn_daemon()) until it exits, under the
 * watchdog. Returns the wait status; its stdout and stderr go to
 * ret_stdout and ret_stderr (either may be NULL).
 */
int harness_run_daemon(Harness *h, const char *const *args, const char *const *env, char **ret_stdout,
                       char **ret_stderr);

/* The daemon's stderr so far (all runs of this test). */
char *harness_read_log(Harness *h);

/* Runs the main loop until *flag becomes TRUE, aborting after the watchdog. */
void harness_wait_for_flag(Harness *h, const gboolean *flag);

/* ---- calls ---- */

/* Calls and asserts success; returns the reply (never NULL). params is sunk. */
GVariant *harness_call(Harness *h, const char *path, const char *interface, const char *method,
                       GVariant *params);
/* Calls and returns the GError, or NULL on success. */
GError *harness_call_result(Harness *h, const char *path, const char *interface, const char *method,
                            GVariant *params, GVariant **ret_reply);
/* Calls, asserts the remote error name, returns the error message. */
char *harness_call_error(Harness *h, const char *path, const char *interface, const char *method,
                         GVariant *params, const char *error_name);

GVariant *harness_get_property(Harness *h, const char *path, const char *interface, const char *name);
GVariant *harness_get_all(Harness *h, const char *path, const char *interface);
GVariant *harness_get_managed_objects(Harness *h);
char *harness_introspect(Harness *h, const char *path);
/*
 * GetManagedObjects as canonical text (objects, interfaces and properties
 * sorted), without ElapsedTime, which changes whenever it is read; equal
 * snapshots mean equal state.
 */
char *harness_snapshot(Harness *h);
/* Object paths in GetManagedObjects, sorted. */
char **harness_object_paths(Harness *h);

/* Convenience accessors over harness_get_property(). */
char *harness_get_string(Harness *h, const char *path, const char *interface, const char *name);
guint16 harness_get_uint16(Harness *h, const char *path, const char *interface, const char *name);
guint64 harness_get_uint64(Harness *h, const char *path, const char *interface, const char *name);
gboolean harness_get_boolean(Harness *h, const char *path, const char *interface, const char *name);
char **harness_get_paths(Harness *h, const char *path, const char *interface, const char *name);

/* Asserts an "ao" value (or a path list) equals expected exactly, in order. */
void harness_assert_paths(GVariant *ao, const char *const *expected);
void harness_assert_strv_paths(char **actual, const char *const *expected);
/* Sorts paths the way the service does ("sorted by path": byte order). */
void harness_sort_paths(const char **paths, size_t n);

/* ---- domain helpers (all assert success and a synchronous result) ---- */

/* An "ao" value from a NULL-terminated list (NULL for an empty array). */
GVariant *harness_paths(const char *const *paths);
char *harness_add_peer(Harness *h, const char *name, const char *element_name);
char *harness_add_access_point(Harness *h, const char *system, const char *address, guint16 port,
                               const char *target_name);
char *harness_add_secret(Harness *h, const char *access_point, const char *username, const char *secret);
/* Like harness_add_secret(), with the target's credentials for mutual CHAP. */
char *harness_add_mutual_secret(Harness *h, const char *access_point, const char *username, const char *secret,
                                const char *mutual_username, const char *mutual_secret);
/* CreateRemoteReplicationCollection, expecting ReturnValue 0. */
char *harness_create_collection(Harness *h, const char *element_name, const char *const *local_aps,
                                const char *const *remote_aps, const char *remote_system);
/* AddTo / RemoveFrom; returns ReturnValue and the job path (caller frees). */
guint32 harness_add_to_collection(Harness *h, const char *collection, const char *const *local_aps,
                                  const char *const *remote_aps, const char *remote_system, char **ret_job);
guint32 harness_remove_from_collection(Harness *h, const char *collection, const char *const *local_aps,
                                       const char *const *remote_aps, const char *remote_system,
                                       char **ret_job);

/* ---- signals ---- */

/* Round trip to the service, then dispatch every signal received so far. */
void harness_sync(Harness *h);
/* harness_sync(), then forget every recorded signal. */
void harness_clear_signals(Harness *h);
/*
 * Waits for the first recorded signal matching (NULL matches anything) and
 * removes it from the queue; earlier non-matching signals stay queued.
 */
HarnessSignal *harness_wait_signal(Harness *h, const char *path, const char *interface, const char *member,
                                   HarnessSignalPredicate predicate, gpointer user_data);
/* harness_sync(), then removes and returns every matching signal, in order. */
GPtrArray *harness_take_signals(Harness *h, const char *path, const char *interface, const char *member);
/* harness_sync(), then asserts no PropertiesChanged for path is queued. */
void harness_assert_no_properties_changed(Harness *h, const char *path);
void harness_signal_free(HarnessSignal *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HarnessSignal, harness_signal_free)

/* Predicates for harness_wait_signal(). */
gboolean harness_match_interfaces_added(const HarnessSignal *s, gpointer object_path);
gboolean harness_match_interfaces_removed(const HarnessSignal *s, gpointer object_path);
/* PropertiesChanged whose changed dictionary has a JobState equal to GUINT_TO_POINTER(state). */
gboolean harness_match_job_state(const HarnessSignal *s, gpointer state);

/* Waits for the job's Completed signal; returns its parameters (bqs). */
GVariant *harness_wait_job_completed(Harness *h, const char *job);
/* Waits until JobState is running (4), by signal or current value. */
void harness_wait_job_running(Harness *h, const char *job);
/* GetError's MessageID of a failed job; a job without one fails the test. */
char *harness_job_message_id(Harness *h, const char *job);

/* The a{sv} "changed" dict of a PropertiesChanged signal, and its invalidated list. */
GVariant *harness_properties_changed_dict(const HarnessSignal *s);

/* ---- peers ---- */

typedef enum HarnessPeerKind {
        HARNESS_PEER_TARGET,            /* accepts and answers as an iSCSI target */
        HARNESS_PEER_BLACK_HOLE,        /* connects never complete */
        HARNESS_PEER_REFUSING,          /* nothing listens: connection refused */
} HarnessPeerKind;

typedef struct HarnessPeer HarnessPeer;

/*
 * address is an IPv4/IPv6 loopback literal; the port is ephemeral.
 * target_names (NULL-terminated, may be NULL) are the names the fake target
 * announces for SendTargets=All and accepts for normal logins.
 */
HarnessPeer *harness_peer_new(HarnessPeerKind kind, const char *address, const char *const *target_names);
void harness_peer_free(HarnessPeer *p);
/* From now on the fake target demands one-way CHAP with these credentials. */
void harness_peer_require_chap(HarnessPeer *p, const char *username, const char *secret);
/*
 * From now on the fake target demands mutual CHAP on every session, the
 * discovery session too (as istgt's "DiscoveryAuthMethod CHAP Mutual"): the
 * initiator proves username/secret and must challenge the target, which
 * answers as mutual_username with mutual_secret.
 */
void harness_peer_require_mutual_chap(HarnessPeer *p, const char *username, const char *secret,
                                      const char *mutual_username, const char *mutual_secret);

/* Ways real targets differ from the standard, for the fake target to copy. */
typedef enum HarnessPeerQuirk {
        HARNESS_QUIRK_LOGOUT_CLOSES = 1 << 0,   /* a logout is answered by closing the connection */
        HARNESS_QUIRK_LOGOUT_SILENT = 1 << 1,   /* a logout is never answered; the connection stays open */
        /* An immediate Text request is counted as if it were not: its answer's
         * ExpCmdSN is one higher than the CmdSN the next immediate request carries. */
        HARNESS_QUIRK_CMDSN_SLIP = 1 << 2,
        /* The SendTargets answer announces a data segment far beyond any initiator's limit. */
        HARNESS_QUIRK_TEXT_OVERSIZED = 1 << 3,
        /* Each login answer goes out in two pieces a tenth of a second apart: its
         * header with the first four bytes of its data ("Auth"), then the rest. */
        HARNESS_QUIRK_LOGIN_TRICKLE = 1 << 4,
} HarnessPeerQuirk;

/* From now on the fake target has these quirks (a HarnessPeerQuirk mask). */
void harness_peer_set_quirks(HarnessPeer *p, unsigned quirks);
/* Logout requests the fake target has received so far. */
guint harness_peer_logouts(const HarnessPeer *p);
guint16 harness_peer_port(const HarnessPeer *p);
const char *harness_peer_address(const HarnessPeer *p);
/* Connections accepted so far (fake targets only). */
guint harness_peer_connections(const HarnessPeer *p);
/* Source address of the most recently accepted connection, NULL if none. */
char *harness_peer_last_source(const HarnessPeer *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HarnessPeer, harness_peer_free)

/* Whether ::1 can be bound (IPv6 may be disabled in containers). */
gboolean harness_ipv6_loopback_usable(void);

/* ---- unprivileged client ---- */

/*
 * Runs `gdbus call` as uid/gid 65534 against the private bus. Arguments are
 * the children of params (a tuple), passed in GVariant text form. Returns
 * TRUE on success; *ret_output holds stdout+stderr.
 */
gboolean harness_call_as_nobody(Harness *h, const char *path, const char *interface, const char *method,
                                GVariant *params, char **ret_output);

/* ---- custom bus ---- */

/*
 * Like harness_setup(), but on a bus the test configures, and without
 * starting the daemon (the test starts it with harness_start_daemon(), or
 * lets the bus activate it). bus_config is the content of <busconfig> after
 * the <listen> and <auth> elements the harness writes; bus_env ("NAME=value",
 * NULL-terminated, may be NULL) is added to the bus's environment, which the
 * services it activates inherit. "@TMPDIR@" in either is replaced by the
 * test's temporary directory: the socket is @TMPDIR@/bus, the state
 * directory @TMPDIR@/state. The bus's stderr, with that of every service it
 * activates, goes to the daemon log. harness_teardown() undoes it all.
 */
void harness_setup_with_bus_config(Harness *h, const char *bus_config, const char *const *bus_env);
/* Keeps *owner at the unique name owning name on connection, or NULL; the watch's id (g_bus_unwatch_name()). */
guint harness_watch_owner(GDBusConnection *connection, const char *name, char **owner);
/* The bus configuration of harness_setup(), for a test that starts the daemon itself. */
extern const char harness_default_bus_policy[];

/*
 * harness_start_daemon(), with the daemon running as uid/gid and no
 * supplementary groups, the way its unit runs it. The state directory must
 * be the user's.
 */
void harness_start_daemon_as(Harness *h, uid_t uid, gid_t gid);

typedef gboolean (*HarnessCondition)(gpointer user_data);

/* Runs the main loop until cond(user_data) holds, aborting after the watchdog. */
void harness_wait_until(Harness *h, HarnessCondition cond, gpointer user_data, const char *what);

/* Fixture registration shorthand. */
#define harness_add_test(name, config, func) \
        g_test_add(name, Harness, config, harness_setup, func, harness_teardown)
