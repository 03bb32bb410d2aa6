/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a probe makes of the answers to its iSCSI check: a login rejected
 * and why, the names a target offers against the ones expected, a
 * connection that ended early and who ended it, libiscsi's own error text.
 * Each failure ends the probe with its errno, its reason (API.md section 7)
 * and one sentence naming the portal.
 */

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "iscsi-connection.h"
#include "probe-internal.h"
#include "util/strutil.h"

/* Remembers libiscsi's error text as a step begins, so a failure quotes only what is new. */
void probe_iscsi_mark_error(Probe *p) {
        snprintf(p->iscsi_error_before, sizeof(p->iscsi_error_before), "%s", iscsi_get_error(p->iscsi) ?: "");
}

/*
 * libiscsi's own account of the current step's failure, sanitized, or NULL
 * when it gave none: its error text outlives the error, so text that was
 * there when the step began says nothing about this failure, and neither
 * does the note that it will not reconnect (we told it not to).
 */
const char *probe_iscsi_error_text(const Probe *p, char *buf, size_t size) {
        const char *text = iscsi_get_error(p->iscsi);

        if (isempty(text) || strncmp(text, p->iscsi_error_before, sizeof(p->iscsi_error_before) - 1) == 0 ||
            strstr(text, "Can not reconnect"))
                return NULL;
        iscsi_connection_sanitize(buf, size, text);
        return isempty(buf) ? NULL : buf;
}

/*
 * Whether the peer closed or reset the connection (0 or -ECONNRESET), or
 * it is still open from the peer's side as far as the kernel knows (1).
 */
static int probe_iscsi_peer_state(const Probe *p) {
        struct pollfd pfd = { .fd = iscsi_get_fd(p->iscsi), .events = POLLIN | POLLRDHUP };
        socklen_t len = sizeof(int);
        int error = 0;

        if (pfd.fd < 0)
                return 1;
        if (getsockopt(pfd.fd, SOL_SOCKET, SO_ERROR, &error, &len) == 0 && (error == ECONNRESET || error == EPIPE))
                return -ECONNRESET;
        if (poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)))
                return 0;
        return 1;
}

/*
 * The connection ended before the step did: closed or reset by the peer, or
 * given up by libiscsi (ours), which then says why. A logout is forgiven
 * either way (API.md section 7).
 */
void probe_iscsi_fail_connection(Probe *p) {
        char step[PROBE_ADDRESS_MAX + 64], text[ISCSI_ERROR_TEXT_MAX];
        const char *why = probe_iscsi_error_text(p, text, sizeof(text));
        int state = probe_iscsi_peer_state(p);

        if (p->step == ISCSI_STEP_LOGOUT) {
                probe_iscsi_logout_done(p, state == 1 ? (why ?: "the initiator library ended the connection")
                                                      : "the peer closed the connection");
                return;
        }

        probe_iscsi_step_text(p, step, sizeof(step));
        if (state < 0)
                probe_finish(p, -ECONNRESET, REASON_CONNECTION_LOST, "Connection to %s reset by the peer during %s%s.",
                             p->peer, step, p->from);
        else if (state == 0)
                probe_finish(p, -ECONNRESET, REASON_CONNECTION_LOST, "Connection to %s closed by the peer during %s%s.",
                             p->peer, step, p->from);
        else if (why)
                probe_finish(p, -EPROTO, REASON_PROTOCOL_ERROR,
                             "The initiator library ended the connection to %s during %s%s: %s.",
                             p->peer, step, p->from, why);
        else
                probe_finish(p, -EPROTO, REASON_PROTOCOL_ERROR,
                             "The initiator library ended the connection to %s during %s%s.",
                             p->peer, step, p->from);
}

void probe_iscsi_fail_request(Probe *p, const char *what) {
        char reason[ISCSI_ERROR_TEXT_MAX];

        probe_finish(p, -EPROTO, REASON_PROTOCOL_ERROR, "Cannot start %s with %s%s: %s.", what, p->peer, p->from,
                     iscsi_connection_sanitize(reason, sizeof(reason), iscsi_get_error(p->iscsi)));
}

/*
 * libiscsi reports a failed login only as text: a rejection by the target
 * as "… Status: <text>(<number>)", a failed mutual CHAP check of the
 * target by what was missing or wrong. Anything else is quoted.
 */
void probe_iscsi_fail_login(Probe *p) {
        const char *text = iscsi_get_error(p->iscsi), *reason = NULL;
        char what[PEER_TEXT_MAX + FROM_TEXT_MAX + ISCSI_NAME_MAX + 32], quoted[256];
        Reason reason_code;
        unsigned status;
        int error = -EPROTO;

        if (p->normal_session)
                snprintf(what, sizeof(what), "Login to target %s at %s%s", p->target_name, p->peer, p->from);
        else
                snprintf(what, sizeof(what), "Discovery login to %s%s", p->peer, p->from);

        if (iscsi_connection_error_status(text, &status)) {
                error = iscsi_connection_login_status(status, &reason, &reason_code);
                if (reason)
                        probe_finish(p, error, reason_code, "%s rejected: %s.", what, reason);
                else
                        probe_finish(p, error, reason_code, "%s rejected with status 0x%04x.", what, status);
                return;
        }

        /* Only possible when mutual CHAP was asked for: the target did not prove its secret. */
        if (strstr(text, "CHAP_N during SECNEG") || strstr(text, "CHAP_R during SECNEG"))
                reason = "the target did not answer the mutual CHAP challenge";
        else if (strstr(text, "Invalid CHAP_R"))
                reason = "the target's mutual CHAP response is wrong";
        else if (strstr(text, "Wrong CHAP targetname"))
                reason = "the target answered the mutual CHAP challenge as another user";
        if (reason) {
                probe_finish(p, -EACCES, REASON_MUTUAL_AUTHENTICATION_FAILED, "%s failed: %s.", what, reason);
                return;
        }

        probe_finish(p, error, REASON_PROTOCOL_ERROR,
                     "%s failed: %s.", what, iscsi_connection_sanitize(quoted, sizeof(quoted), text));
}

static bool offered_contains(char **offered, const char *name) {
        for (size_t i = 0; offered && offered[i]; i++)
                if (strcasecmp(offered[i], name) == 0)
                        return true;
        return false;
}

/* A system's node name is offered as itself or as the base of a target name: "<name>:…". */
static bool offered_contains_node(char **offered, const char *node_name) {
        size_t n = strlen(node_name);

        for (size_t i = 0; offered && offered[i]; i++)
                if (strncasecmp(offered[i], node_name, n) == 0 && (offered[i][n] == '\0' || offered[i][n] == ':'))
                        return true;
        return false;
}

/* "it offers: iqn.a, iqn.b", "it offers: iqn.a, … and 7 more", "it offers no targets". */
static void format_offered(char *buf, size_t size, char **offered) {
        size_t n = strv_length(offered), used, shown;

        if (n == 0) {
                snprintf(buf, size, "it offers no targets");
                return;
        }

        used = (size_t) snprintf(buf, size, "it offers: ");
        for (shown = 0; shown < n; shown++) {
                char name[ISCSI_NAME_MAX + 2];
                size_t need;

                iscsi_connection_sanitize(name, sizeof(name), offered[shown]);
                need = strlen(name) + (shown > 0 ? 2 : 0);
                /* Keep room for " and N more". */
                if (used + need + 32 > size)
                        break;
                snprintf(buf + used, size - used, "%s%s", shown > 0 ? ", " : "", name);
                used += need;
        }
        if (shown < n)
                snprintf(buf + used, size - used, "%s%zu more", shown > 0 ? " and " : "", n - shown);
}

/* Whether the expected names are offered; ends the probe when one is not. */
bool probe_check_offered(Probe *p) {
        char offered[OFFERED_TEXT_MAX];

        if (p->target_name && !offered_contains(p->offered, p->target_name)) {
                format_offered(offered, sizeof(offered), p->offered);
                probe_finish(p, -ENOENT, REASON_TARGET_NOT_OFFERED, "Target %s is not offered by %s%s; %s.",
                             p->target_name, p->peer, p->from, offered);
                return false;
        }
        if (p->expected_node_name && !offered_contains_node(p->offered, p->expected_node_name)) {
                format_offered(offered, sizeof(offered), p->offered);
                probe_finish(p, -ENOENT, REASON_SYSTEM_NOT_OFFERED,
                             "Neither %s (the peer system's Name) nor a target named under it is offered by %s%s; %s.",
                             p->expected_node_name, p->peer, p->from, offered);
                return false;
        }
        return true;
}
