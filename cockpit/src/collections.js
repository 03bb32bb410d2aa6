/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Remote replication collections: members, settings, and the job changing one. */

import { h, button, label, td, table, emptyRow, card } from "./dom.js";
import { NULL_PATH, variant } from "./client.js";
import { displayName } from "./format.js";
import { openDialog, confirmDialog } from "./dialog.js";
import { byPath } from "./peers.js";

const _ = cockpit.gettext;

function accessPointOptions(ctx, local) {
    return ctx.client.list("accessPoints").filter(ap => !!ap.IsLocal === local).sort(byPath)
            .map(ap => {
                const system = ctx.client.get("systems", ap.System);
                const where = local ? "" : " — " + displayName(system);
                return { value: ap.path, label: ap.Name + (ap.TargetName ? " " + ap.TargetName : "") + where };
            });
}

function peerOptions(ctx) {
    return [{ value: NULL_PATH, label: _("None") }].concat(
        ctx.client.list("systems").filter(s => !s.IsLocal).sort(byPath)
                .map(s => ({ value: s.path, label: displayName(s) })));
}

function memberFields(ctx, collection) {
    const have = new Set(collection ? [...collection.LocalAccessPoints, ...collection.RemoteAccessPoints] : []);
    const notYet = option => !have.has(option.value);
    return [
        { name: "LocalAccessPoints", label: _("Local access points"), type: "checklist", options: accessPointOptions(ctx, true).filter(notYet) },
        { name: "RemoteComputerSystem", label: _("Remote system"), type: "select", options: peerOptions(ctx), value: NULL_PATH },
        { name: "RemoteAccessPoints", label: _("Remote access points"), type: "checklist", options: accessPointOptions(ctx, false).filter(notYet) },
    ];
}

export function createCollectionDialog(ctx) {
    openDialog({
        title: _("Create collection"),
        submitLabel: _("Create"),
        fields: [
            { name: "ElementName", label: _("Name"), type: "text", help: _("Empty: the service names it") },
            ...memberFields(ctx, null),
            { name: "Active", label: _("Active"), type: "checkbox", value: true },
            { name: "DeleteOnUnassociated", label: _("Delete when the last access point leaves"), type: "checkbox", value: false },
        ],
        action: v => ctx.client.call(ctx.root, "", "CreateRemoteReplicationCollection", "saoaoobb",
                                     [v.ElementName.trim(), v.LocalAccessPoints, v.RemoteAccessPoints, v.RemoteComputerSystem,
                                         v.Active, v.DeleteOnUnassociated]),
    });
}

export function addMembersDialog(ctx, collection) {
    openDialog({
        title: cockpit.format(_("Add to $0"), collection.ElementName),
        submitLabel: _("Add"),
        body: h("p", { class: "ird-muted" }, _("New remote access points are verified by a job before they are added; follow it in the jobs panel.")),
        fields: memberFields(ctx, collection),
        action: v => ctx.client.call(ctx.root, "", "AddToRemoteReplicationCollection", "aoaooo",
                                     [v.LocalAccessPoints, v.RemoteAccessPoints, v.RemoteComputerSystem, collection.path]),
    });
}

function memberOptions(ctx, paths, kind) {
    return paths.map(p => {
        const proxy = ctx.client.get(kind, p);
        return { value: p, label: proxy ? (kind === "systems" ? displayName(proxy) : proxy.Name) : p };
    });
}

export function removeMembersDialog(ctx, collection) {
    openDialog({
        title: cockpit.format(_("Remove from $0"), collection.ElementName),
        submitLabel: _("Remove"),
        variant: "danger",
        fields: [
            { name: "LocalAccessPoints", label: _("Local access points"), type: "checklist", options: memberOptions(ctx, collection.LocalAccessPoints, "accessPoints") },
            { name: "RemoteSystems", label: _("Remote systems"), type: "checklist", options: memberOptions(ctx, collection.RemoteSystems, "systems") },
            { name: "RemoteAccessPoints", label: _("Remote access points"), type: "checklist", options: memberOptions(ctx, collection.RemoteAccessPoints, "accessPoints") },
        ],
        /* RemoveFromRemoteReplicationCollection takes one remote system per call */
        action: v => {
            const systems = v.RemoteSystems.length ? v.RemoteSystems : [NULL_PATH];
            return systems.reduce((previous, system, i) => previous.then(() =>
                ctx.client.call(ctx.root, "", "RemoveFromRemoteReplicationCollection", "aoaooo",
                                [i === 0 ? v.LocalAccessPoints : [], i === 0 ? v.RemoteAccessPoints : [], system, collection.path])),
                                  Promise.resolve());
        },
    });
}

export function modifyDialog(ctx, collection) {
    openDialog({
        title: cockpit.format(_("Modify $0"), collection.ElementName),
        submitLabel: _("Save"),
        fields: [
            { name: "ElementName", label: _("Name"), type: "text", value: collection.ElementName },
            { name: "Active", label: _("Active"), type: "checkbox", value: collection.Active },
            { name: "DeleteOnUnassociated", label: _("Delete when the last access point leaves"), type: "checkbox", value: collection.DeleteOnUnassociated },
        ],
        action: v => {
            const props = {};
            if (v.ElementName !== collection.ElementName)
                props.ElementName = variant("s", v.ElementName);
            if (v.Active !== collection.Active)
                props.Active = variant("b", v.Active);
            if (v.DeleteOnUnassociated !== collection.DeleteOnUnassociated)
                props.DeleteOnUnassociated = variant("b", v.DeleteOnUnassociated);
            return ctx.client.call(collection.path, ".RemoteReplicationCollection", "Modify", "a{sv}", [props]);
        },
    });
}

function memberList(ctx, paths, kind) {
    if (!paths || paths.length === 0)
        return h("span", { class: "ird-muted" }, "—");
    return h("ul", { class: "ird-members" }, paths.map(p => {
        const proxy = ctx.client.get(kind, p);
        return h("li", { "data-member": p }, proxy ? (kind === "systems" ? displayName(proxy) : proxy.Name) : p);
    }));
}

function jobCell(ctx, collection) {
    const job = ctx.client.get("jobs", collection.Job);
    if (!job)
        return h("span", { class: "ird-muted" }, _("Idle"));
    return h("div", {}, label(job.Name, "blue"), h("div", { class: "ird-job-status" }, job.JobStatus));
}

function collectionRow(ctx, c) {
    const busy = c.Job && c.Job !== NULL_PATH;
    const disabled = !ctx.canChange || busy;
    return h("tr", { class: "pf-v5-c-table__tr", "data-path": c.path, "data-name": c.ElementName },
             td(_("Name"), h("span", { class: "ird-name" }, c.ElementName)),
             td(_("Active"), c.Active ? _("Yes") : _("No")),
             td(_("Local access points"), memberList(ctx, c.LocalAccessPoints, "accessPoints")),
             td(_("Remote access points"), memberList(ctx, c.RemoteAccessPoints, "accessPoints")),
             td(_("Remote systems"), memberList(ctx, c.RemoteSystems, "systems")),
             td(_("Job"), jobCell(ctx, c)),
             td(_("Actions"), h("div", { class: "ird-actions" },
                                button(_("Add members"), () => addMembersDialog(ctx, c), { disabled, "data-action": "add-members" }),
                                button(_("Remove members"), () => removeMembersDialog(ctx, c), { disabled, "data-action": "remove-members" }),
                                button(_("Modify"), () => modifyDialog(ctx, c), { disabled, "data-action": "modify" }),
                                button(_("Delete"), () => confirmDialog(cockpit.format(_("Delete $0?"), c.ElementName), _("This cannot be undone."), _("Delete"),
                                                                        () => ctx.client.call(c.path, ".RemoteReplicationCollection", "Delete", "", [])),
                                       { variant: "link", disabled, "data-action": "delete" }))));
}

export function renderCollections(ctx) {
    const collections = ctx.client.list("collections").sort(byPath);
    const headers = [_("Name"), _("Active"), _("Local access points"), _("Remote access points"), _("Remote systems"), _("Job"), _("Actions")];
    const body = collections.length
        ? h("tbody", { class: "pf-v5-c-table__tbody" }, collections.map(c => collectionRow(ctx, c)))
        : emptyRow(headers.length, _("No collections"));
    return card(_("Collections"),
                [button(_("Create collection"), () => createCollectionDialog(ctx), { variant: "primary", disabled: !ctx.canChange, "data-action": "create-collection" })],
                table(_("Collections"), headers, body, { id: "collections" }));
}
