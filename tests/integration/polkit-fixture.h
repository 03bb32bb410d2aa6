/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Authorization and system integration against the real components, shared
 * by test-polkit-refusals, -grants, -pending and test-units: a private
 * dbus-daemon configured like the system bus and including the project's
 * bus policy, the real polkitd on it with the project's actions installed,
 * the built daemon, and callers running under unprivileged uids.
 *
 * The cases need root: they install the .policy into polkit's actions
 * directory and rules into /etc/polkit-1/rules.d, create the service's user
 * from the project's sysusers file when the machine lacks it, and run callers
 * as other users. A supervising parent process (polkit-supervisor.c) undoes
 * all of that, and ends whatever process the tests left behind, however the
 * tests end — an assertion aborts the test process, so a fixture teardown
 * alone could not promise that.
 */

#include <gio/gio.h>
#include <glib.h>
#include <sys/types.h>

#include "harness-calls.h"
#include "harness.h"

#define POLKIT_ACTIONS_DIR "/usr/share/polkit-1/actions"
#define POLKIT_RULES_DIR "/etc/polkit-1/rules.d"
#define POLICY_INSTALL_PATH POLKIT_ACTIONS_DIR "/org.iscsi.replication.policy"
/* Sorts before the distribution's rules, so ours decide for our actions. */
#define RULES_PATH POLKIT_RULES_DIR "/10-iscsi-replicationd-test.rules"

#define POLKIT_NAME "org.freedesktop.PolicyKit1"
#define ERROR_INTERACTIVE "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired"

#define ACTION_PREFIX "org.iscsi.replication."
#define ACTION_COLLECTIONS ACTION_PREFIX "manage-collections"
#define ACTION_PEERS ACTION_PREFIX "manage-peers"
#define ACTION_SECRETS ACTION_PREFIX "manage-secrets"
#define ACTION_JOBS ACTION_PREFIX "manage-jobs"
#define ACTION_REPLICAS ACTION_PREFIX "manage-replicas"

/* A rule calls this object of the test while it holds an authorization (test-polkit-pending). */
#define HOLD_PATH "/org/iscsi/test/PolkitHold"
#define HOLD_INTERFACE "org.iscsi.test.PolkitHold"

/* The service's own user, as units/iscsi-replicationd.sysusers creates it. */
#define SERVICE_USER "iscsi-replication"

#define NOBODY_UID 65534
#define NOBODY_GID 65534

/* ---- the fixture ---- */

typedef struct FixtureConfig {
        gboolean start_daemon;
        gboolean with_service_dir;      /* a <servicedir> for bus activation */
} FixtureConfig;

extern const FixtureConfig with_daemon;
extern const FixtureConfig bus_only;
extern const FixtureConfig with_service_dir;

typedef struct Fixture {
        Harness h;
        gboolean skipped;

        char *service_dir;

        const char *polkitd_path;
        char *polkitd_log;
        GSubprocess *polkitd;
        gboolean polkitd_exited;
        char *polkit_owner;
        guint polkit_watch;
        gboolean rules_written;

        GDBusNodeInfo *hold_info;
        guint hold_registration;
        GDBusMethodInvocation *held;
        char *held_detail;
        char *held_sender;      /* the rule's helper, waiting for our reply */

        HarnessPeer *refusing;
        HarnessPeer *black_hole;
} Fixture;

void fixture_setup(Fixture *f, gconstpointer data);
void fixture_teardown(Fixture *f, gconstpointer data);

#define polkit_add_test(name, config, func) g_test_add(name, Fixture, config, fixture_setup, func, fixture_teardown)

/* Without root the fixture skips the test, and the test returns at once. */
#define SKIP_UNLESS_READY(f)            \
        do {                            \
                if ((f)->skipped)       \
                        return;         \
        } while (0)

/* The variable's value; aborts when it is unset, as outside meson test. */
const char *need_env(const char *name);

/* Runs the registered tests: under the supervisor as root, plainly (all skipping) otherwise. */
int polkit_tests_run(void);

/* ---- polkitd and its rules ---- */

/* Starts the real polkitd on the private bus and waits until it owns its name. */
void polkitd_start(Fixture *f);
void polkitd_stop(Fixture *f);
/* polkitd watches its rules directories, but only a restart says when a change has been read. */
void polkitd_restart(Fixture *f);

/* Writes the rules file (removed when the test ends); polkitd reads it when it next starts. */
void write_rules(Fixture *f, const char *rules);
/* A rule granting nobody's group action, or every action of ours when action is NULL. */
void grant_to_nobody_group(Fixture *f, const char *action);

/* ---- callers under other uids ---- */

/* A second unprivileged user, neither root nor nobody. */
void other_user(uid_t *ret_uid, gid_t *ret_gid);

typedef struct CallResult {
        gboolean ok;
        char *output;
        char *error_name;       /* the D-Bus error, NULL on success */
        gint64 elapsed_usec;
} CallResult;

void call_result_clear(CallResult *r);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(CallResult, call_result_clear)

/*
 * `gdbus call` as uid/gid (no supplementary groups), with or without the
 * allow-interactive-authorization flag. Arguments are the children of params
 * in GVariant text form; its floating reference is taken.
 */
GSubprocess *spawn_call_as(Fixture *f, uid_t uid, gid_t gid, gboolean interactive, const char *dest,
                           const char *path, const char *interface, const char *method, GVariant *params);
void call_as(Fixture *f, uid_t uid, gid_t gid, gboolean interactive, const char *dest, const char *path,
             const char *interface, const char *method, GVariant *params, CallResult *ret);
void call_service_as(Fixture *f, uid_t uid, gid_t gid, gboolean interactive, const char *path,
                     const char *interface, const char *method, GVariant *params, CallResult *ret);
/* The D-Bus error name in gdbus's output. */
char *error_name_from_output(const char *output);

/* A call to the bus itself on the test's connection, which must succeed; reply_type NULL: any. */
GVariant *bus_driver_call(Fixture *f, const char *method, GVariant *params, const char *reply_type);

/* ---- the objects and the calls ---- */

typedef struct Seeds {
        char *peer;             /* a peer system with access points */
        char *spare_peer;       /* a peer system nothing refers to */
        char *local_ap;
        char *remote_ap;        /* on peer, has secret; connections to it are refused */
        char *spare_ap;         /* on peer, nothing refers to it */
        char *probe_ap;         /* on peer, a black hole: verifying it keeps a job running */
        char *secret;
        char *collection;
        char *job;              /* started by root, running */
} Seeds;

void seeds_clear(Seeds *s);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Seeds, seeds_clear)

/* Root builds a small world with one object of every kind and a running job. */
void seed(Fixture *f, Seeds *s);

typedef struct Call {
        char *path;
        const char *interface;
        const char *method;
        GVariant *params;
        const char *action;     /* the polkit action guarding it (API.md section 9) */
} Call;

/*
 * Every mutating method once, with arguments that are all valid and in an
 * order in which all of them succeed for a caller who is allowed: the same
 * list shows refusal (nothing changes) and permission (everything happens).
 */
GPtrArray *mutating_calls(const Seeds *s);

/* The call failed with error_name, and the refusal names the call's action. */
void assert_refused(const Call *c, const CallResult *r, const char *error_name);
/* Makes every call as uid/gid (0: root, on the test's own connection); each succeeds as the API promises. */
void run_permitted(Fixture *f, uid_t uid, gid_t gid, GPtrArray *calls);
/* What the permitted sequence leaves behind. */
void assert_sequence_done(Fixture *f, const Seeds *s);
