/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Starting and stopping pkttyagent around an authorizing call. */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "polkit-agent.h"
#include "util/macros.h"

/* An agent that has not registered by then is not going to; the call goes on without it. */
#define AGENT_READY_TIMEOUT_MSEC 10000

int polkit_agent_open(pid_t *ret_pid) {
        int fds[2];
        pid_t pid;

        *ret_pid = 0;
        if (pipe2(fds, O_CLOEXEC) < 0)
                return -errno;

        pid = fork();
        if (pid < 0) {
                int r = -errno;
                close(fds[0]);
                close(fds[1]);
                return r;
        }
        if (pid == 0) {
                sigset_t none;
                char fd_text[16];
                /* The only descriptor the agent inherits besides stdio: where it says it is ready. */
                int notify = fcntl(fds[1], F_DUPFD, 3);

                if (notify < 0)
                        _exit(EXIT_FAILURE);
                /* Our blocked signals (SIGINT for job cancelling) must not stay blocked in the agent. */
                sigemptyset(&none);
                (void) sigprocmask(SIG_SETMASK, &none, NULL);
                (void) signal(SIGPIPE, SIG_DFL);
                snprintf(fd_text, sizeof(fd_text), "%d", notify);
                execlp("pkttyagent", "pkttyagent", "--notify-fd", fd_text, "--fallback", (char *) NULL);
                _exit(127);
        }

        close(fds[1]);
        /* pkttyagent closes the notify descriptor once registered; exiting closes it too. */
        for (;;) {
                struct pollfd p = { .fd = fds[0], .events = POLLIN };
                int n = poll(&p, 1, AGENT_READY_TIMEOUT_MSEC);

                if (n < 0 && errno == EINTR)
                        continue;
                break;
        }
        close(fds[0]);
        *ret_pid = pid;
        return 0;
}

void polkit_agent_close(pid_t *pid) {
        if (*pid <= 0)
                return;
        (void) kill(*pid, SIGTERM);
        while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
                ;
        *pid = 0;
}
