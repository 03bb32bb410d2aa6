/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* How values of the service are shown: states, times, reasons. */

const _ = cockpit.gettext;

export const JOB_STATES = {
    2: _("New"),
    3: _("Starting"),
    4: _("Running"),
    5: _("Suspended"),
    6: _("Shutting down"),
    7: _("Completed"),
    8: _("Terminated"),
    9: _("Killed"),
    10: _("Exception"),
};

export function jobStateText(state) {
    return JOB_STATES[state] || cockpit.format(_("State $0"), state);
}

/* Microseconds since the epoch (0: never) as a local date and time. */
export function formatTimestamp(usec) {
    if (!usec)
        return _("Never");
    return new Date(usec / 1000).toLocaleString();
}

export function formatDuration(seconds) {
    seconds = Math.max(0, Math.round(seconds));
    if (seconds < 60)
        return cockpit.format(cockpit.ngettext("$0 second", "$0 seconds", seconds), seconds);
    const minutes = Math.round(seconds / 60);
    if (minutes < 60)
        return cockpit.format(cockpit.ngettext("$0 minute", "$0 minutes", minutes), minutes);
    const hours = Math.round(minutes / 60);
    return cockpit.format(cockpit.ngettext("$0 hour", "$0 hours", hours), hours);
}

/* Time left of a job whose ExpectedEndTime is END_USEC, on the host's clock. */
export function remainingText(endUsec, clockOffsetMs) {
    if (!endUsec)
        return _("Unknown");
    const left = (endUsec / 1000 - (Date.now() + clockOffsetMs)) / 1000;
    if (left <= 0)
        return _("Finishing");
    return cockpit.format(_("$0 left"), formatDuration(left));
}

export const REACHABLE = {
    yes: { text: _("Reachable"), color: "green" },
    no: { text: _("Unreachable"), color: "red" },
    unknown: { text: _("Not verified"), color: "" },
};

export function reachable(value) {
    return REACHABLE[value] || REACHABLE.unknown;
}

/*
 * The obvious next step after a failed probe, by its MessageID (never by the
 * wording of the description). ACTION names what the page offers.
 */
const NEXT_STEPS = {
    AuthenticationFailed: { action: "secret", hint: _("The target wants CHAP credentials that match: set the CHAP secret.") },
    MutualAuthenticationFailed: { action: "secret", hint: _("The target's answer to the mutual CHAP challenge is wrong: check the mutual secret.") },
    Timeout: { action: "verify", hint: _("The portal did not answer in time: check that it is up, then verify again.") },
    Unreachable: { action: "verify", hint: _("There is no route to the portal: check the address and the network, then verify again.") },
    Refused: { action: "verify", hint: _("Nothing listens on the portal's port: check the port and that the target runs, then verify again.") },
    ConnectionLost: { action: "verify", hint: _("The peer closed the connection: verify again.") },
    NameNotResolved: { action: null, hint: _("The host name does not resolve: check the name or use an address.") },
    LoginRejected: { action: null, hint: _("The target refused the login: check the target name and its access list for this initiator.") },
    TargetNotOffered: { action: null, hint: _("The target does not offer this target name: check the access point's target name.") },
    SystemNotOffered: { action: null, hint: _("The target does not offer the peer system's iSCSI name.") },
    ProtocolError: { action: null, hint: _("The peer does not speak iSCSI as expected: check the port.") },
};

export function nextStep(messageId) {
    return NEXT_STEPS[messageId] || null;
}

export function displayName(proxy) {
    if (!proxy)
        return _("(gone)");
    return proxy.ElementName || proxy.Name || proxy.path;
}
