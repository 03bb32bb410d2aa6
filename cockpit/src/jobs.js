/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The jobs panel, as Cockpit's storaged page shows jobs: what runs, its
 * status line verbatim, its progress, the time left on the host's clock, a
 * Cancel button; finished jobs with their result and GetError's reason.
 */

import { h, button, label, td, table, emptyRow, card } from "./dom.js";
import { isJobFinished } from "./client.js";
import { jobStateText, remainingText, formatTimestamp, nextStep } from "./format.js";
import { secretDialog, verifyAccessPoint } from "./peers.js";
import { confirmDialog } from "./dialog.js";

const _ = cockpit.gettext;

const STATE_COLORS = { 7: "green", 8: "orange", 9: "orange", 10: "red" };

/* CIM_ConcreteJob.RequestStateChange: 4 Terminate, no timeout. */
const REQUEST_TERMINATE = 4;

function cancelJob(ctx, job) {
    return ctx.client.call(job.path, ".Job", "RequestStateChange", "qt", [REQUEST_TERMINATE, 0])
            .catch(ex => ctx.showError(cockpit.format(_("Cancelling $0"), job.Name), ex));
}

function progress(job) {
    const percent = Math.min(100, job.PercentComplete || 0);
    const bar = h("div", { class: "pf-v5-c-progress__indicator" });
    bar.style.setProperty("width", percent + "%");
    return h("div", { class: "pf-v5-c-progress pf-m-sm" },
             h("div", { class: "pf-v5-c-progress__status", "aria-hidden": "true" },
               h("span", { class: "pf-v5-c-progress__measure" }, percent + "%")),
             h("div", {
                 class: "pf-v5-c-progress__bar",
                 role: "progressbar",
                 "aria-valuemin": 0,
                 "aria-valuemax": 100,
                 "aria-valuenow": percent,
                 "aria-label": cockpit.format(_("Progress of $0"), job.Name),
             }, bar));
}

/* The reason of a finished job and the next step it suggests. */
function outcome(ctx, job) {
    const error = ctx.client.jobErrors[job.path];
    if (job.JobState === 7 && !job.ErrorCode)
        return h("span", { class: "ird-muted" }, _("Done"));
    if (!error)
        return h("span", { class: "ird-muted" }, job.ErrorDescription);
    const messageId = error.MessageID || "";
    const step = nextStep(messageId);
    const source = ctx.client.get("accessPoints", error.ErrorSource);
    let action = null;
    if (step && source && !source.IsLocal && step.action === "secret")
        action = button(_("Set CHAP secret"), () => secretDialog(ctx, source), { variant: "link", disabled: !ctx.canChange, "data-action": "next-step" });
    else if (step && source && !source.IsLocal && step.action === "verify")
        action = button(_("Verify again"), () => verifyAccessPoint(ctx, source), { variant: "link", disabled: !ctx.canChange, "data-action": "next-step" });
    return h("div", { class: "ird-last-error" },
             messageId && label(messageId, "red", { "data-field": "MessageID" }),
             h("span", { "data-field": "ErrorDescription" }, " ", error.ErrorDescription || job.ErrorDescription),
             step && h("div", { class: "ird-hint" }, step.hint), action);
}

/* What the job works on (or, once finished, what it made or found), by the names the page shows elsewhere. */
function affected(ctx, job) {
    return (job.AffectedElements || []).map(path => {
        const proxy = ctx.client.get("accessPoints", path) || ctx.client.get("collections", path) || ctx.client.get("systems", path);
        if (!proxy)
            return null;
        return proxy.ElementName || proxy.Name;
    }).filter(Boolean).join(", ");
}

function jobRow(ctx, job) {
    const finished = isJobFinished(job);
    const state = label(jobStateText(job.JobState), STATE_COLORS[job.JobState] || "blue", { "data-field": "JobState" });
    let actions;
    if (!finished) {
        actions = button(_("Cancel"), () => cancelJob(ctx, job),
                         { disabled: !job.Cancelable || !ctx.canChange, "data-action": "cancel" });
    } else {
        actions = button(_("Remove"), () => confirmDialog(cockpit.format(_("Remove the finished job $0?"), job.Name), _("Its result is no longer shown."), _("Remove"),
                                                          () => ctx.client.call(job.path, ".Job", "Delete", "", [])),
                         { variant: "link", disabled: !ctx.canChange, "data-action": "remove" });
    }
    return h("tr", { class: "pf-v5-c-table__tr", "data-path": job.path, "data-state": job.JobState },
             td(_("Job"), h("span", { class: "ird-name" }, job.Name),
                h("div", { "data-field": "AffectedElements" }, affected(ctx, job)),
                h("div", { class: "ird-muted" }, formatTimestamp(job.TimeSubmitted))),
             td(_("State"), state),
             td(_("Status"), h("span", { "data-field": "JobStatus" }, job.JobStatus)),
             td(_("Progress"), finished ? (job.JobState === 7 ? progress(job) : "—") : progress(job)),
             td(_("Time left"), finished ? "—" : h("span", { "data-field": "remaining" }, remainingText(job.ExpectedEndTime, ctx.clockOffset))),
             td(_("Result"), finished ? outcome(ctx, job) : ""),
             td(_("Actions"), actions));
}

export function renderJobs(ctx) {
    /* running first, then the newest */
    const jobs = ctx.client.list("jobs").sort((a, b) =>
        (isJobFinished(a) - isJobFinished(b)) || (b.TimeSubmitted - a.TimeSubmitted));
    const headers = [_("Job"), _("State"), _("Status"), _("Progress"), _("Time left"), _("Result"), _("Actions")];
    const body = jobs.length
        ? h("tbody", { class: "pf-v5-c-table__tbody" }, jobs.map(job => jobRow(ctx, job)))
        : emptyRow(headers.length, _("No jobs"));
    return card(_("Jobs"), [], table(_("Jobs"), headers, body, { id: "jobs" }));
}
