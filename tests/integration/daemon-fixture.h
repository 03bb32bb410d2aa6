/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What the daemon-as-a-service tests (test-daemon.c, test-daemon-state.c,
 * test-daemon-log.c) share: a private bus without the daemon, for tests
 * that start it themselves, and the reading of its exit status.
 */

#include <glib.h>

#include "harness.h"

#define PROPERTIES "org.freedesktop.DBus.Properties"
#define PEER_IQN "iqn.2024-01.org.example:peer"

/*
 * The private bus of harness_setup() without the daemon; data is a
 * HarnessConfig whose daemon_args the test's own start will use, or NULL.
 */
void setup_without_daemon(Harness *h, gconstpointer data);

#define add_test_without_daemon(name, config, func) \
        g_test_add(name, Harness, config, setup_without_daemon, func, harness_teardown)

/* Whether a wait status is an exit with code. */
gboolean exited_with(int status, int code);
