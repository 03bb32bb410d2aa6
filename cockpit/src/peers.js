/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Peer systems, this host, and their access points (iSCSI portals). */

import { h, button, label, td, table, emptyRow, card } from "./dom.js";
import { LOCAL_SYSTEM, NULL_PATH, variant } from "./client.js";
import { formatTimestamp, reachable, nextStep, displayName } from "./format.js";
import { openDialog, confirmDialog } from "./dialog.js";

const _ = cockpit.gettext;

function pathId(path) {
    return parseInt(path.substring(path.lastIndexOf("/") + 1), 10) || 0;
}

export function byPath(a, b) {
    return pathId(a.path) - pathId(b.path);
}

/* a{sv} from the dialog's values: only the fields that were filled in. */
function properties(values, types) {
    const props = {};
    for (const [name, type] of Object.entries(types)) {
        const value = values[name];
        if (value === undefined || value === "")
            continue;
        props[name] = variant(type, type === "q" ? Number(value) : value);
    }
    return props;
}

function checkPort(values, field) {
    const text = String(values[field] ?? "").trim();
    if (text === "")
        return;
    if (!/^[0-9]+$/.test(text) || Number(text) < 1 || Number(text) > 65535)
        throw { name: "InvalidPort", message: _("The port must be a number from 1 to 65535.") };
    values[field] = text;
}

export function addPeerDialog(ctx) {
    openDialog({
        title: _("Add peer system"),
        submitLabel: _("Add"),
        fields: [
            { name: "Name", label: _("iSCSI name or host name"), type: "text", placeholder: "iqn.2026-11.org.example:peer" },
            { name: "ElementName", label: _("Display name"), type: "text" },
        ],
        action: values => ctx.client.call(ctx.root, "", "AddPeerSystem", "sa{sv}",
                                          [values.Name.trim(), properties(values, { ElementName: "s" })]),
    });
}

export function addAccessPointDialog(ctx, systemPath) {
    const systems = ctx.client.list("systems").sort(byPath)
            .map(s => ({ value: s.path, label: s.IsLocal ? _("This host") : displayName(s) }));
    openDialog({
        title: _("Add access point"),
        submitLabel: _("Add"),
        fields: [
            { name: "System", label: _("System"), type: "select", options: systems, value: systemPath || LOCAL_SYSTEM },
            { name: "Address", label: _("Address"), type: "text", placeholder: "192.0.2.10" },
            { name: "Port", label: _("Port"), type: "number", value: "3260" },
            { name: "TargetName", label: _("Target name"), type: "text", help: _("Optional: the iSCSI target behind the portal") },
            { name: "ElementName", label: _("Display name"), type: "text" },
        ],
        action: values => {
            checkPort(values, "Port");
            const props = properties(values, { Address: "s", Port: "q", TargetName: "s", ElementName: "s" });
            return ctx.client.call(ctx.root, "", "AddServiceAccessPoint", "oa{sv}", [values.System, props]);
        },
    });
}

export function secretDialog(ctx, accessPoint) {
    const replacing = accessPoint.SharedSecret && accessPoint.SharedSecret !== NULL_PATH;
    openDialog({
        title: cockpit.format(replacing ? _("Replace CHAP secret of $0") : _("Set CHAP secret of $0"), accessPoint.Name),
        submitLabel: replacing ? _("Replace") : _("Set"),
        body: h("p", { class: "ird-muted" }, _("Secrets are write-only: the service never shows them again.")),
        fields: [
            { name: "Username", label: _("User name"), type: "text" },
            { name: "Secret", label: _("Secret"), type: "password", help: _("12 to 255 characters") },
            { name: "MutualUsername", label: _("Mutual user name"), type: "text", help: _("Only for mutual CHAP") },
            { name: "MutualSecret", label: _("Mutual secret"), type: "password" },
        ],
        action: values => ctx.client.call(ctx.root, "", "AddSharedSecret", "a{sv}o",
                                          [properties(values, { Username: "s", Secret: "s", MutualUsername: "s", MutualSecret: "s" }),
                                              accessPoint.path]),
    });
}

export function verifyAccessPoint(ctx, accessPoint) {
    return ctx.client.call(accessPoint.path, ".ServiceAccessPoint", "Verify", "", [])
            .catch(ex => ctx.showError(cockpit.format(_("Verifying $0"), accessPoint.Name), ex));
}

function deleteObject(ctx, proxy, suffix, what) {
    confirmDialog(cockpit.format(_("Delete $0?"), what), _("This cannot be undone."), _("Delete"),
                  () => ctx.client.call(proxy.path, suffix, "Delete", "", []));
}

/* The last probe's failure, its reason, and the obvious next step. */
function lastErrorCell(ctx, ap) {
    if (!ap.LastError && !ap.LastErrorID)
        return "";
    const step = nextStep(ap.LastErrorID);
    let action = null;
    if (step && step.action === "secret" && !ap.IsLocal)
        action = button(_("Set CHAP secret"), () => secretDialog(ctx, ap), { variant: "link", disabled: !ctx.canChange, "data-action": "next-step" });
    else if (step && step.action === "verify" && !ap.IsLocal)
        action = button(_("Verify again"), () => verifyAccessPoint(ctx, ap), { variant: "link", disabled: !ctx.canChange, "data-action": "next-step" });
    return h("div", { class: "ird-last-error" },
             ap.LastErrorID && label(ap.LastErrorID, "red", { "data-field": "LastErrorID" }),
             h("span", { "data-field": "LastError" }, " ", ap.LastError),
             step && h("div", { class: "ird-hint" }, step.hint), action);
}

function accessPointRow(ctx, ap) {
    const secret = ctx.client.get("secrets", ap.SharedSecret);
    const r = reachable(ap.Reachable);
    const remote = !ap.IsLocal;
    return h("tr", { class: "pf-v5-c-table__tr", "data-path": ap.path, "data-name": ap.Name },
             td(_("Portal"), h("span", { class: "ird-name" }, ap.Name), ap.ElementName && h("div", { class: "ird-muted" }, ap.ElementName)),
             td(_("Target"), ap.TargetName || "—"),
             td(_("Status"), remote ? label(r.text, r.color, { "data-field": "Reachable" }) : _("Local")),
             td(_("Last verified"), remote ? formatTimestamp(ap.LastVerified) : "—"),
             td(_("Last error"), lastErrorCell(ctx, ap)),
             td(_("CHAP"), secret ? secret.Username : (remote ? _("None") : "—")),
             td(_("Actions"), h("div", { class: "ird-actions" },
                                remote && button(_("Verify"), () => verifyAccessPoint(ctx, ap), { disabled: !ctx.canChange, "data-action": "verify" }),
                                remote && button(secret ? _("Replace CHAP secret") : _("Set CHAP secret"), () => secretDialog(ctx, ap),
                                                 { disabled: !ctx.canChange, "data-action": "secret" }),
                                button(_("Delete"), () => deleteObject(ctx, ap, ".ServiceAccessPoint", ap.Name),
                                       { variant: "link", disabled: !ctx.canChange, "data-action": "delete" }))));
}

function accessPointTable(ctx, system) {
    const aps = (system.AccessPoints || []).map(p => ctx.client.get("accessPoints", p)).filter(Boolean).sort(byPath);
    const headers = [_("Portal"), _("Target"), _("Status"), _("Last verified"), _("Last error"), _("CHAP"), _("Actions")];
    const body = aps.length
        ? h("tbody", { class: "pf-v5-c-table__tbody" }, aps.map(ap => accessPointRow(ctx, ap)))
        : emptyRow(headers.length, _("No access points"));
    return table(cockpit.format(_("Access points of $0"), displayName(system)), headers, body, { class: "pf-v5-c-table pf-m-compact pf-m-grid-lg ird-nested" });
}

function systemRows(ctx, system) {
    const expanded = !ctx.collapsed.has(system.path);
    const local = system.IsLocal;
    const r = reachable(system.Reachable);
    const toggle = h("button", {
        type: "button",
        class: "pf-v5-c-button pf-m-plain" + (expanded ? " pf-m-expanded" : ""),
        "aria-expanded": expanded ? "true" : "false",
        "aria-label": cockpit.format(_("Access points of $0"), displayName(system)),
        onclick: () => ctx.toggle(system.path),
    }, h("span", { class: "ird-toggle-icon" }, expanded ? "▾" : "▸"));
    const main = h("tr", { class: "pf-v5-c-table__tr", "data-path": system.path, "data-name": system.Name },
                   h("td", { class: "pf-v5-c-table__td pf-v5-c-table__toggle" }, toggle),
                   td(_("Name"), h("span", { class: "ird-name" }, local ? _("This host") : system.Name),
                      h("div", { class: "ird-muted" }, local ? system.Name : system.ElementName)),
                   td(_("Format"), system.NameFormat),
                   td(_("Status"), local ? _("Local") : label(r.text, r.color, { "data-field": "Reachable" })),
                   td(_("Last verified"), local ? "—" : formatTimestamp(system.LastVerified)),
                   td(_("Access points"), String((system.AccessPoints || []).length)),
                   td(_("Actions"), h("div", { class: "ird-actions" },
                                      button(_("Add access point"), () => addAccessPointDialog(ctx, system.path),
                                             { disabled: !ctx.canChange, "data-action": "add-access-point" }),
                                      !local && button(_("Delete"), () => deleteObject(ctx, system, ".ComputerSystem", system.Name),
                                                       { variant: "link", disabled: !ctx.canChange, "data-action": "delete" }))));
    const detail = expanded && h("tr", { class: "pf-v5-c-table__tr pf-v5-c-table__expandable-row pf-m-expanded" },
                                 h("td", { class: "pf-v5-c-table__td", colspan: 7 },
                                   h("div", { class: "pf-v5-c-table__expandable-row-content" }, accessPointTable(ctx, system))));
    return h("tbody", { class: "pf-v5-c-table__tbody" + (expanded ? " pf-m-expanded" : "") }, main, detail);
}

export function renderPeers(ctx) {
    const systems = ctx.client.list("systems").sort((a, b) => (b.IsLocal - a.IsLocal) || byPath(a, b));
    const headers = [h("th", { class: "pf-v5-c-table__th", scope: "col" }, h("span", { class: "pf-v5-screen-reader" }, _("Details"))),
        _("Name"), _("Format"), _("Status"), _("Last verified"), _("Access points"), _("Actions")];
    const rows = systems.length ? systems.map(s => systemRows(ctx, s)) : emptyRow(headers.length, _("No systems"));
    return card(_("Systems and access points"),
                [button(_("Add peer system"), () => addPeerDialog(ctx), { variant: "primary", disabled: !ctx.canChange, "data-action": "add-peer" }),
                    button(_("Add access point"), () => addAccessPointDialog(ctx), { disabled: !ctx.canChange, "data-action": "add-access-point" })],
                table(_("Systems"), headers, rows, { id: "systems" }));
}
