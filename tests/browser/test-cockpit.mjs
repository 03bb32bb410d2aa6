// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The Cockpit page in a real browser against the real service: what exists
// is shown, a change made with busctl appears without a reload, a collection
// made through the page gets a remote access point by a job that runs to
// completion, Cancel terminates a running job (whose button a redraw keeps),
// errors are shown by name, the page works dark and narrow, a limited user
// gets it read-only, and what was made can be deleted again.
// Screenshots of each state go to IRD_SCREENSHOT_DIR (meson-logs/browser).
// TAP output.

import fs from "node:fs";
import * as env from "./env.mjs";
import * as b from "./browser.mjs";

const { IFACE, LOCAL_SYSTEM } = env;
const TARGET = "iqn.2026-11.org.example:peer.disk1";
const CHAP_TARGET = "iqn.2026-11.org.example:peer.chap";
const CHAP_USER = "browser-user";
const CHAP_SECRET = "browser-chap-secret-4711";

// a probe of the black hole outlives every wait of the test; no idle exit behind the test's back
const DAEMON_ARGS = ["--probe-timeout=60", "--exit-on-idle=0"];

const cases = [];
function test(name, fn) {
    cases.push({ name, fn });
}

const s = {};   // what the cases share: addresses, object paths, the browser, the page

function subnet() {
    // a /24 of its own inside 127.0.0.0/8, so that parallel runs do not meet
    const x = 100 + Math.floor(Math.random() * 100);
    const y = 1 + Math.floor(Math.random() * 250);
    return n => `127.${x}.${y}.${n}`;
}

async function setup() {
    const ip = subnet();
    s.ip = ip;
    s.tmp = env.makeTmp();
    s.bus = await env.startBus(s.tmp);
    await env.startDaemon(s.tmp, s.bus, DAEMON_ARGS);
    s.tgtPort = await env.startTgtd(s.tmp, ip(2), [TARGET, CHAP_TARGET], { [CHAP_TARGET]: [CHAP_USER, CHAP_SECRET] });
    s.hole = await env.startBlackHole(ip(3));
    s.datadir = env.installPage(s.tmp);
    s.ws = await env.startCockpitWs(s.tmp, "cockpit-ws", { busAddress: s.bus, datadir: s.datadir });

    s.peer = env.callService(s.bus, "AddPeerSystem", "sa{sv}", "peer.example.org", 1, "ElementName", "s", "peer")[1];
    s.localAp = addAccessPoint(LOCAL_SYSTEM, ip(1));
    s.remoteAp = addAccessPoint(s.peer, ip(2), s.tgtPort, TARGET);
    s.browser = await b.launch();
}

function addAccessPoint(system, address, port, target) {
    const props = [["Address", "s", address]];
    if (port)
        props.push(["Port", "q", port]);
    if (target)
        props.push(["TargetName", "s", target]);
    return env.callService(s.bus, "AddServiceAccessPoint", "oa{sv}", system, props.length, ...props.flat())[1];
}

function jobProperty(job, name) {
    return env.getProperty(s.bus, job, ".Job", name);
}

const row = path => `tr[data-path="${path}"]`;

test("the page shows the systems and access points that exist", async () => {
    s.page = await b.openPage(s.browser, s.ws);
    const page = s.page;
    await b.waitFor(page, `#systems ${row(s.peer)}`);
    await b.waitForText(page, `#systems ${row(s.peer)}`, "peer.example.org");
    await b.waitForText(page, `#systems ${row(LOCAL_SYSTEM)}`, "This host");
    const local = await b.text(page, row(s.localAp));
    if (!local.includes(`${s.ip(1)}:3260`))
        throw new Error("local access point row: " + local);
    const remote = await b.text(page, row(s.remoteAp));
    for (const want of [`${s.ip(2)}:${s.tgtPort}`, TARGET, "Not verified", "Never"]) {
        if (!remote.includes(want))
            throw new Error(`remote access point row lacks "${want}": ${remote}`);
    }
    await b.waitForText(page, "#collections", "No collections");
    await b.waitForText(page, "#jobs", "No jobs");
    await b.screenshot(page, "01-overview");
    b.assertNoScriptErrors(page);
});

test("a change made with busctl appears without a reload", async () => {
    const page = s.page;
    const second = env.callService(s.bus, "AddPeerSystem", "sa{sv}", "second.example.org", 1, "ElementName", "s", "second")[1];
    await b.waitForText(page, `#systems ${row(second)}`, "second.example.org");
    const ap = addAccessPoint(second, s.ip(9), 3261);
    await b.waitForText(page, `${row(second)} + tr ${row(ap)}`, `${s.ip(9)}:3261`);
    await b.screenshot(page, "02-added-with-busctl");
    env.busctl(s.bus, "call", env.BUS_NAME, ap, IFACE + ".ServiceAccessPoint", "Delete");
    env.busctl(s.bus, "call", env.BUS_NAME, second, IFACE + ".ComputerSystem", "Delete");
    await b.waitFor(page, row(second), { hidden: true });
    await b.assertNotReloaded(page);
    b.assertNoScriptErrors(page);
});

test("a peer system and an access point are added and deleted through the page", async () => {
    const page = s.page;
    await b.click(page, "button[data-action=add-peer]");
    await b.fillDialog(page, { Name: "third.example.org", ElementName: "third" });
    await b.submitDialog(page);
    await b.dialogClosed(page);
    await b.waitFor(page, '#systems tr[data-name="third.example.org"]');
    const third = await b.pathOf(page, '#systems tr[data-name="third.example.org"]');
    if (env.getProperty(s.bus, third, ".ComputerSystem", "ElementName") !== "third")
        throw new Error("the peer's ElementName was not set");

    await b.click(page, `${row(third)} button[data-action=add-access-point]`);
    await b.fillDialog(page, { Address: s.ip(7), Port: "3262", TargetName: "iqn.2026-11.org.example:third.disk" });
    await b.submitDialog(page);
    await b.dialogClosed(page);
    const name = `${s.ip(7)}:3262`;
    await b.waitFor(page, `${row(third)} + tr tr[data-name="${name}"]`);
    const ap = await b.pathOf(page, `tr[data-name="${name}"]`);
    if (env.getProperty(s.bus, ap, ".ServiceAccessPoint", "System") !== third ||
        env.getProperty(s.bus, ap, ".ServiceAccessPoint", "TargetName") !== "iqn.2026-11.org.example:third.disk")
        throw new Error("the access point was not added to the peer as typed");
    await b.screenshot(page, "03-added-through-page");

    for (const path of [ap, third]) {
        await b.click(page, `${row(path)} button[data-action=delete]`);
        await b.submitDialog(page);
        await b.dialogClosed(page);
        await b.waitFor(page, row(path), { hidden: true });
    }
    const left = env.callService(s.bus, "GetPeerSystems", "q", 0)[2];
    if (left.includes(third))
        throw new Error("the service still has the deleted peer");
    b.assertNoScriptErrors(page);
});

test("a collection created through the page gets a remote access point by a job that completes", async () => {
    const page = s.page;
    await b.click(page, "button[data-action=create-collection]");
    await b.fillDialog(page, { ElementName: "backup-set", LocalAccessPoints: [s.localAp] });
    await b.submitDialog(page);
    await b.dialogClosed(page);
    await b.waitFor(page, '#collections tr[data-name="backup-set"]');
    s.collection = await b.pathOf(page, '#collections tr[data-name="backup-set"]');
    await b.waitFor(page, `${row(s.collection)} li[data-member="${s.localAp}"]`);

    await b.click(page, `${row(s.collection)} button[data-action=add-members]`);
    await b.fillDialog(page, { RemoteComputerSystem: s.peer, RemoteAccessPoints: [s.remoteAp] });
    await b.submitDialog(page);
    await b.dialogClosed(page);
    await b.waitFor(page, "#jobs tr[data-state]");
    const job = await b.pathOf(page, "#jobs tr[data-state]");
    await b.waitFor(page, `#jobs ${row(job)}[data-state="7"]`);
    const shown = await b.text(page, `${row(job)} [data-field=JobStatus]`);
    if (shown !== jobProperty(job, "JobStatus"))
        throw new Error(`JobStatus shown "${shown}", the service says "${jobProperty(job, "JobStatus")}"`);
    await b.waitForText(page, `${row(job)} [data-field=JobState]`, "Completed");
    await b.waitForText(page, row(job), "AddToRemoteReplicationCollection");
    await b.waitFor(page, `${row(job)} [role=progressbar][aria-valuenow="100"]`);
    await b.waitFor(page, `${row(s.collection)} li[data-member="${s.remoteAp}"]`);
    await b.waitFor(page, `${row(s.collection)} li[data-member="${s.peer}"]`);
    await b.screenshot(page, "04-collection-job-completed");
    b.assertNoScriptErrors(page);
});

test("a collection is modified and loses members through the page", async () => {
    const page = s.page;
    const c = s.collection;
    await b.click(page, `${row(c)} button[data-action=modify]`);
    await b.fillDialog(page, { ElementName: "backup-main", Active: false, DeleteOnUnassociated: true });
    await b.submitDialog(page);
    await b.dialogClosed(page);
    await b.waitFor(page, `#collections tr[data-name="backup-main"]`);
    const iface = ".RemoteReplicationCollection";
    if (env.getProperty(s.bus, c, iface, "Active") !== false || env.getProperty(s.bus, c, iface, "DeleteOnUnassociated") !== true)
        throw new Error("Active/DeleteOnUnassociated were not changed");

    await b.click(page, `${row(c)} button[data-action=remove-members]`);
    await b.fillDialog(page, { RemoteSystems: [s.peer], RemoteAccessPoints: [s.remoteAp] });
    await b.submitDialog(page);
    await b.dialogClosed(page);
    await b.waitFor(page, `${row(c)} li[data-member="${s.remoteAp}"]`, { hidden: true });
    await b.waitFor(page, `${row(c)} li[data-member="${s.peer}"]`, { hidden: true });
    if (env.getProperty(s.bus, c, iface, "RemoteAccessPoints").length || env.getProperty(s.bus, c, iface, "RemoteSystems").length)
        throw new Error("the service's collection still has remote members");
    await b.waitFor(page, `${row(c)} li[data-member="${s.localAp}"]`);
    b.assertNoScriptErrors(page);
});

test("Cancel terminates a running job", async () => {
    const page = s.page;
    const ap = addAccessPoint(s.peer, s.ip(3), s.hole.port);
    s.holeAp = ap;
    await b.click(page, `${row(ap)} button[data-action=verify]`);
    await b.waitFor(page, `#jobs tr[data-state="4"] button[data-action=cancel]:not([disabled])`);
    const job = await b.pathOf(page, '#jobs tr[data-state="4"]');
    const label = await b.text(page, `${row(job)} button[data-action=cancel]`);
    if (label !== "Cancel")
        throw new Error(`the button says "${label}"`);
    await b.screenshot(page, "05-job-running");
    // a redraw (for a peer added with busctl) keeps the running job's row and its button: a click on it cannot miss
    const cancel = `${row(job)} button[data-action=cancel]`;
    await page.evaluate(sel => { window.irdCancelButton = document.querySelector(sel) }, cancel);
    const extra = env.callService(s.bus, "AddPeerSystem", "sa{sv}", "redraw.example.org", 0)[1];
    await b.waitForText(page, `#systems ${row(extra)}`, "redraw.example.org");
    if (!await page.evaluate(sel => window.irdCancelButton === document.querySelector(sel), cancel))
        throw new Error("a redraw replaced the running job's Cancel button");
    env.busctl(s.bus, "call", env.BUS_NAME, extra, IFACE + ".ComputerSystem", "Delete");
    await b.waitFor(page, row(extra), { hidden: true });
    await b.click(page, cancel);
    await b.waitFor(page, `#jobs ${row(job)}[data-state="8"]`);
    await b.waitForText(page, `${row(job)} [data-field=JobState]`, "Terminated");
    if (jobProperty(job, "JobState") !== 8)
        throw new Error("the service's job is not Terminated");
    await b.screenshot(page, "06-job-cancelled");
    b.assertNoScriptErrors(page);
});

test("a collection's running job shows in its row, which waits for it", async () => {
    const page = s.page;
    const c = s.collection;
    await b.click(page, `${row(c)} button[data-action=add-members]`);
    await b.fillDialog(page, { RemoteComputerSystem: s.peer, RemoteAccessPoints: [s.holeAp] });
    await b.submitDialog(page);
    await b.dialogClosed(page);
    const job = env.getProperty(s.bus, c, ".RemoteReplicationCollection", "Job");
    if (job === "/")
        throw new Error("adding the silent portal started no job");
    await b.waitForText(page, `${row(c)} .ird-job-status`, jobProperty(job, "JobStatus"));
    await b.waitForText(page, `${row(c)} [data-field=AffectedElements], ${row(job)} [data-field=AffectedElements]`, "backup-main");
    for (const action of ["add-members", "remove-members", "modify", "delete"])
        await b.waitFor(page, `${row(c)} button[data-action=${action}][disabled]`);
    await b.screenshot(page, "07-collection-job-running");
    await b.click(page, `${row(job)} button[data-action=cancel]`);
    await b.waitFor(page, `#jobs ${row(job)}[data-state="8"]`);
    await b.waitForText(page, `${row(c)} td[data-label=Job]`, "Idle");
    await b.waitFor(page, `${row(c)} button[data-action=modify]:not([disabled])`);
    if (await b.exists(page, `${row(c)} li[data-member="${s.holeAp}"]`))
        throw new Error("the cancelled job's access point is shown as a member");
    b.assertNoScriptErrors(page);
});

test("time left is counted on the host's clock, whatever the browser's says", async () => {
    // the page's own module, in the page, with the real cockpit.js
    const shown = await s.page.evaluate(async () => {
        const format = await import("./format.js");
        const inTwoMinutes = (Date.now() + 120 * 1000) * 1000;
        return {
            same: format.remainingText(inTwoMinutes, 0),
            hostAhead: format.remainingText(inTwoMinutes, 60 * 1000),
            hostBehind: format.remainingText(inTwoMinutes, -60 * 60 * 1000),
            past: format.remainingText(inTwoMinutes, 10 * 60 * 1000),
            unknown: format.remainingText(0, 0),
        };
    });
    const want = { same: "2 minutes left", hostAhead: "1 minute left", hostBehind: "1 hour left", past: "Finishing", unknown: "Unknown" };
    for (const [key, text] of Object.entries(want)) {
        if (shown[key] !== text)
            throw new Error(`${key}: "${shown[key]}", not "${text}"`);
    }
});

test("a redraw keeps the rows that stay, in the new order, with the new text and handlers", async () => {
    // the page's own module, in the page
    const got = await s.page.evaluate(async () => {
        const { h, patch } = await import("./dom.js");
        const root = document.createElement("div");
        const clicks = [];
        const draw = (paths, tag) => paths.map(p => h("tr", { "data-path": p, class: tag },
                                                        h("td", {}, h("button", { onclick: () => clicks.push(tag + p) }, tag + p))));
        patch(root, draw(["/a", "/b"], "first"));
        const [a, b] = root.querySelectorAll("tr");
        const button = a.querySelector("button");
        patch(root, draw(["/c", "/b", "/a"], "second"));
        button.click();
        const rows = [...root.querySelectorAll("tr")];
        const out = {
            order: rows.map(r => r.dataset.path).join(" "),
            kept: rows[2] === a && rows[1] === b && rows[2].querySelector("button") === button,
            text: button.textContent,
            class: a.className,
            clicks: clicks.join(" "),
        };
        patch(root, draw(["/b"], "third"));
        out.left = root.childNodes.length === 1 && root.firstChild === b ? b.className : "replaced";
        return out;
    });
    const want = { order: "/c /b /a", kept: true, text: "second/a", class: "second", clicks: "second/a", left: "third" };
    for (const [key, value] of Object.entries(want)) {
        if (got[key] !== value)
            throw new Error(`${key}: ${JSON.stringify(got[key])}, not ${JSON.stringify(value)}`);
    }
});

test("a refused call shows the D-Bus error's name and the service's sentence in the dialog", async () => {
    const page = s.page;
    const expected = env.busctlFails(s.bus, "call", env.BUS_NAME, env.ROOT, IFACE, "AddPeerSystem", "sa{sv}", "peer.example.org", "0")
            .replace(/^Call failed: /, "");
    await b.click(page, "button[data-action=add-peer]");
    await b.fillDialog(page, { Name: "peer.example.org" });
    await b.submitDialog(page);
    await b.waitFor(page, ".pf-v5-c-modal-box .pf-v5-c-alert.pf-m-danger");
    const title = await b.text(page, ".pf-v5-c-modal-box .pf-v5-c-alert [data-field=alert-title]");
    const description = await b.text(page, ".pf-v5-c-modal-box .pf-v5-c-alert__description");
    if (title !== "InvalidParameter")
        throw new Error("alert title: " + title);
    if (description !== expected)
        throw new Error(`alert says "${description}", the service "${expected}"`);
    await b.screenshot(page, "08-error-in-dialog");
    await b.click(page, ".pf-v5-c-modal-box__footer .pf-m-link");
    await b.dialogClosed(page);
    b.assertNoScriptErrors(page);
});

// Runs the verification of AP through the page and waits for the job to end in STATE.
async function verifyThroughPage(page, ap, state) {
    const before = await b.pathsOf(page, "#jobs tr[data-path]");
    await b.click(page, `${row(ap)} button[data-action=verify]`);
    const handle = await page.waitForFunction(known => {
        const fresh = [...document.querySelectorAll("#jobs tr[data-path]")].find(r => !known.includes(r.dataset.path));
        return fresh ? fresh.dataset.path : false;
    }, { timeout: b.WAIT_MS }, before);
    const job = await handle.jsonValue();
    await b.waitFor(page, `#jobs ${row(job)}[data-state="${state}"]`);
    return job;
}

function jobError(job) {
    const reply = env.busctl(s.bus, "call", env.BUS_NAME, job, IFACE + ".Job", "GetError").data[0];
    const out = {};
    for (const [key, value] of Object.entries(reply))
        out[key] = value.data;
    return out;
}

test("a failed probe shows its error, its reason and the next step", async () => {
    const page = s.page;
    const refusedPort = await env.freePort(s.ip(4));
    const ap = addAccessPoint(s.peer, s.ip(4), refusedPort);
    const job = await verifyThroughPage(page, ap, 10);
    const error = jobError(job);
    await b.waitForText(page, `${row(job)} [data-field=ErrorDescription]`, error.ErrorDescription);
    await b.waitForText(page, `${row(job)} [data-field=JobState]`, "Exception");
    const lastError = env.getProperty(s.bus, ap, ".ServiceAccessPoint", "LastError");
    await b.waitForText(page, `${row(ap)} [data-field=LastError]`, lastError);
    if (error.MessageID !== "Refused")
        throw new Error("the service's MessageID: " + error.MessageID);
    await b.waitForText(page, `${row(job)} [data-field=MessageID]`, "Refused");
    await b.waitForText(page, `${row(ap)} [data-field=LastErrorID]`, "Refused");
    await b.waitForText(page, `${row(job)} button[data-action=next-step]`, "Verify again");
    await b.waitForText(page, `${row(ap)} button[data-action=next-step]`, "Verify again");
    await b.screenshot(page, "09-probe-refused");
    b.assertNoScriptErrors(page);
});

test("a CHAP login failure leads to setting the secret, after which verification succeeds", async () => {
    const page = s.page;
    const ap = addAccessPoint(s.peer, s.ip(2), s.tgtPort, CHAP_TARGET);
    const failed = await verifyThroughPage(page, ap, 10);
    const error = jobError(failed);
    if (error.MessageID !== "AuthenticationFailed")
        throw new Error("the service's MessageID: " + error.MessageID);
    await b.waitForText(page, `${row(failed)} [data-field=MessageID]`, "AuthenticationFailed");
    await b.waitForText(page, `${row(ap)} [data-field=LastErrorID]`, "AuthenticationFailed");
    await b.waitForText(page, `${row(ap)} button[data-action=next-step]`, "Set CHAP secret");
    await b.waitForText(page, `${row(failed)} button[data-action=next-step]`, "Set CHAP secret");
    await b.screenshot(page, "10-chap-failed");
    // the obvious next step, offered by the failed job
    await b.click(page, `${row(failed)} button[data-action=next-step]`);
    await b.fillDialog(page, { Username: CHAP_USER, Secret: CHAP_SECRET });
    const typed = await page.$eval("#dialog-field-Secret", el => el.type);
    if (typed !== "password")
        throw new Error("the secret field is not write-only: " + typed);
    await b.submitDialog(page);
    await b.dialogClosed(page);
    await b.waitForText(page, row(ap), CHAP_USER);
    await verifyThroughPage(page, ap, 7);
    await b.waitForText(page, `${row(ap)} [data-field=Reachable]`, "Reachable");
    if (await b.exists(page, `${row(ap)} [data-field=LastError]`))
        throw new Error("the last error is still shown after a successful verification");
    b.assertNoScriptErrors(page);
});

test("dark mode and a narrow window", async () => {
    const page = await b.openPage(s.browser, s.ws, { width: 400, height: 900 });
    await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: "dark" }]);
    await page.waitForFunction(() => document.documentElement.classList.contains("pf-v5-theme-dark"), { timeout: b.WAIT_MS });
    const look = await page.evaluate(() => {
        const rgb = getComputedStyle(document.body).backgroundColor.match(/\d+/g).map(Number);
        const td = document.querySelector("#collections td");
        return {
            luminance: (0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]) / 255,
            cell: getComputedStyle(td).display,
            overflow: document.documentElement.scrollWidth - window.innerWidth,
        };
    });
    if (look.luminance > 0.3)
        throw new Error("the background is not dark: " + look.luminance);
    if (look.cell === "table-cell")
        throw new Error("the tables are not stacked on a narrow window");
    if (look.overflow > 0)
        throw new Error(`the page is ${look.overflow}px wider than the window`);
    await b.screenshot(page, "11-dark-narrow");
    b.assertNoScriptErrors(page);
    await page.close();
});

test("a limited user sees the data read-only with the actions disabled", async () => {
    const ws = await env.startCockpitWs(s.tmp, "cockpit-ws-limited",
                                        { busAddress: s.bus, datadir: s.datadir, bridge: env.limitedBridge(s.tmp) });
    const page = await b.openPage(s.browser, ws);
    await b.waitFor(page, "#limited-access");
    await b.waitFor(page, `#collections ${row(s.collection)}`);
    await b.waitFor(page, `#systems ${row(s.remoteAp)}`);
    const buttons = await page.evaluate(() => [...document.querySelectorAll("button[data-action]")]
            .map(el => ({ action: el.dataset.action, disabled: el.disabled })));
    if (buttons.length < 5)
        throw new Error("too few actions on the page: " + buttons.length);
    const enabled = buttons.filter(x => !x.disabled);
    if (enabled.length)
        throw new Error("enabled for a limited user: " + enabled.map(x => x.action).join(", "));
    await b.screenshot(page, "12-limited-user");
    b.assertNoScriptErrors(page);
    await page.close();
});

test("the page follows the service through a restart (idle exit, then activation)", async () => {
    const page = s.page;
    await env.stopDaemon();
    // nothing changes while the service is gone: the page says so and keeps what it knows
    await b.waitFor(page, "#service-stopped");
    await b.waitFor(page, `#systems ${row(s.remoteAp)}`);
    await b.screenshot(page, "13-service-stopped");
    // opened while nobody owns the name (and this bus cannot start it), the page says so instead of loading for ever
    const fresh = await b.openPage(s.browser, s.ws);
    await b.waitForText(fresh, "#service-unavailable", "not installed, or D-Bus could not start it");
    await b.waitForText(fresh, "#systems", "No systems");
    await b.screenshot(fresh, "14-service-unavailable");
    b.assertNoScriptErrors(fresh);
    await fresh.close();
    await env.startDaemon(s.tmp, s.bus, DAEMON_ARGS);
    await b.waitFor(page, "#service-stopped", { hidden: true });
    await b.waitFor(page, `#systems ${row(s.remoteAp)}`);
    await b.waitFor(page, `#collections ${row(s.collection)}`);
    const after = env.callService(s.bus, "AddPeerSystem", "sa{sv}", "after-restart.example.org", 0)[1];
    await b.waitForText(page, `#systems ${row(after)}`, "after-restart.example.org");
    await b.assertNotReloaded(page);
    b.assertNoScriptErrors(page);
});

test("a collection is deleted and a finished job removed through the page", async () => {
    const page = s.page;
    await b.click(page, `${row(s.collection)} button[data-action=delete]`);
    await b.submitDialog(page);
    await b.dialogClosed(page);
    await b.waitFor(page, row(s.collection), { hidden: true });
    await b.waitForText(page, "#collections", "No collections");

    const job = await b.pathOf(page, '#jobs tr[data-state="7"]');
    await b.click(page, `${row(job)} button[data-action=remove]`);
    await b.submitDialog(page);
    await b.dialogClosed(page);
    await b.waitFor(page, row(job), { hidden: true });
    const objects = env.busctl(s.bus, "call", env.BUS_NAME, env.ROOT, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects").data[0];
    if (s.collection in objects || job in objects)
        throw new Error("the service still has the deleted collection or job");
    await b.assertNotReloaded(page);
    b.assertNoScriptErrors(page);
});

async function main() {
    if (process.getuid() !== 0) {
        console.log("1..0 # SKIP needs root: tgtd, and a bridge run as another user");
        return 0;
    }
    console.log(`1..${cases.length}`);
    b.clearScreenshots();
    let failed = 0;
    try {
        await setup();
    } catch (ex) {
        console.log("Bail out! setting up: " + ex.message);
        for (const log of fs.readdirSync(s.tmp || "/nonexistent").filter(f => f.endsWith(".log")))
            console.log(`# ${log}:\n` + fs.readFileSync(`${s.tmp}/${log}`, "utf-8").replace(/^/gm, "#   "));
        return 1;
    }
    for (const [i, c] of cases.entries()) {
        try {
            await c.fn();
            console.log(`ok ${i + 1} - ${c.name}`);
        } catch (ex) {
            failed++;
            console.log(`not ok ${i + 1} - ${c.name}`);
            console.log(String(ex.stack || ex).replace(/^/gm, "# "));
            if (s.page) {
                // the next case starts from a fresh page, not from a dialog this one left open
                await b.screenshot(s.page, `failed-${i + 1}`).catch(() => {});
                await s.page.close().catch(() => {});
                s.page = await b.openPage(s.browser, s.ws).catch(() => null);
            }
        }
    }
    return failed ? 1 : 0;
}

let cleaned = null;
function cleanup() {
    if (!cleaned) {
        cleaned = (async () => {
            if (s.browser)
                await Promise.race([s.browser.close(), new Promise(resolve => setTimeout(resolve, 5000))]).catch(() => {});
            if (s.browser && s.browser.process())
                s.browser.process().kill("SIGKILL");
            if (s.hole)
                s.hole.close();
            await env.stopAll();
            if (s.tmp)
                fs.rmSync(s.tmp, { recursive: true, force: true });
        })();
    }
    return cleaned;
}

// Stop everything before meson's timeout does, and when meson stops the test.
const WATCHDOG_MS = 240 * 1000;
const watchdog = setTimeout(async () => {
    console.log(`Bail out! the test did not finish within ${WATCHDOG_MS / 1000} s`);
    await cleanup();
    process.exit(1);
}, WATCHDOG_MS);
for (const signal of ["SIGTERM", "SIGINT"]) {
    process.on(signal, async () => {
        console.log(`Bail out! ${signal}`);
        await cleanup();
        process.exit(1);
    });
}

let status = 1;
try {
    status = await main();
} finally {
    await cleanup();
    clearTimeout(watchdog);
}
process.exitCode = status;
