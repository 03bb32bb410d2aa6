/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Starting the daemon's tests without it (daemon-fixture.h). */

#include <sys/wait.h>

#include "daemon-fixture.h"

void setup_without_daemon(Harness *h, gconstpointer data) {
        const HarnessConfig *config = data;

        harness_setup_with_bus_config(h, harness_default_bus_policy, NULL);
        if (config)
                harness_set_daemon_args(h, config->daemon_args);
}

gboolean exited_with(int status, int code) {
        return WIFEXITED(status) && WEXITSTATUS(status) == code;
}
