/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Starting the daemon's tests without it (daemon-fixture.h). */

#include <sys/wait.h>

#include "daemon-fixture.h"

/*
 * The private bus of harness_setup(), for tests that start the daemon
 * themselves. Receiving is allowed explicitly, which dbus-broker needs.
 */
static const char bus_policy[] =
        "  <policy context=\"default\">\n"
        "    <allow user=\"*\"/>\n"
        "    <allow own=\"*\"/>\n"
        "    <allow send_destination=\"*\"/>\n"
        "    <allow receive_sender=\"*\"/>\n"
        "  </policy>\n";

void setup_without_daemon(Harness *h, gconstpointer data) {
        const HarnessConfig *config = data;

        harness_setup_with_bus_config(h, bus_policy, NULL);
        if (config)
                harness_set_daemon_args(h, config->daemon_args);
}

gboolean exited_with(int status, int code) {
        return WIFEXITED(status) && WEXITSTATUS(status) == code;
}
