/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The page: three sections on one page, as Cockpit's Storage page has them —
 * systems with their access points, collections, jobs — redrawn from the
 * proxies whenever a signal changes something, onto the nodes already shown
 * (dom.js's patch), so that what stays the same is not replaced.
 */

import { h, patch, alert } from "./dom.js";
import { createClient, describeError, measureClockOffset, ROOT } from "./client.js";
import { renderPeers } from "./peers.js";
import { renderCollections } from "./collections.js";
import { renderJobs } from "./jobs.js";
import { followTheme } from "./theme.js";

const _ = cockpit.gettext;

const ctx = {
    root: ROOT,
    canChange: false,
    clockOffset: 0,
    collapsed: new Set(),
    alerts: [],
    client: null,
    toggle: null,
    showError: null,
};

const sections = {
    notices: document.getElementById("notices"),
    peers: document.getElementById("peers"),
    collections: document.getElementById("collections-section"),
    jobs: document.getElementById("jobs-section"),
};

let scheduled = false;
let loaded = false;

function notices() {
    const out = [];
    if (ctx.client.closed) {
        out.push(h("div", { id: "service-unavailable" },
                   alert("danger", _("The replication service is not available"), ctx.client.closed)));
    } else if (!ctx.client.running) {
        out.push(h("div", { id: "service-stopped" },
                   alert("info", _("The replication service is not running"),
                         _("It stops when idle and starts again for the next change; what is shown is what it last reported."))));
    }
    if (ctx.permission.allowed === false) {
        out.push(h("div", { id: "limited-access" },
                   alert("info", _("Read-only: you have limited access"),
                         _("Changing replication settings needs administrative access. Turn it on in the top bar to add, change or delete anything here."))));
    }
    ctx.alerts.forEach((a, i) => out.push(alert("danger", a.title, a.text, () => {
        ctx.alerts.splice(i, 1);
        schedule();
    })));
    return out;
}

function render() {
    scheduled = false;
    ctx.canChange = ctx.permission.allowed === true && !ctx.client.closed;
    patch(sections.notices, notices());
    if (!loaded)
        return;
    patch(sections.peers, renderPeers(ctx));
    patch(sections.collections, renderCollections(ctx));
    patch(sections.jobs, renderJobs(ctx));
    document.body.setAttribute("data-loaded", "true");
}

/* Coalesce the many signals of one change into one redraw. */
function schedule() {
    if (!scheduled) {
        scheduled = true;
        window.requestAnimationFrame(render);
    }
}

ctx.toggle = path => {
    if (ctx.collapsed.has(path))
        ctx.collapsed.delete(path);
    else
        ctx.collapsed.add(path);
    schedule();
};

ctx.showError = (title, ex) => {
    const { name, message } = describeError(ex);
    ctx.alerts.push({ title: cockpit.format("$0: $1", title, name), text: message });
    schedule();
};

function connect() {
    ctx.client = createClient(schedule);
    ctx.client.ready
            .catch(ex => console.warn("watching the service:", ex.message))
            .finally(() => {
                loaded = true;
                schedule();
            });
}

function init() {
    cockpit.translate();
    followTheme();
    ctx.permission = cockpit.permission({ admin: true });
    ctx.permission.addEventListener("changed", schedule);
    connect();
    measureClockOffset().then(offset => {
        ctx.clockOffset = offset;
        schedule();
    });
    schedule();
}

init();
