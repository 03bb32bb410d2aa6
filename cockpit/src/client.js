/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The connection to org.iscsi.ReplicationService: one ObjectManager watch on
 * the root, a proxies collection per interface (none of them watching on its
 * own), and the job errors fetched once per finished job.
 * Everything after the first load arrives through signals.
 */

const _ = cockpit.gettext;

export const BUS_NAME = "org.iscsi.ReplicationService";
export const ROOT = "/org/iscsi/ReplicationService";
export const LOCAL_SYSTEM = ROOT + "/system/local";
export const NULL_PATH = "/";

const KINDS = {
    systems: "ComputerSystem",
    accessPoints: "ServiceAccessPoint",
    collections: "RemoteReplicationCollection",
    secrets: "SharedSecret",
    jobs: "Job",
};

export const JOB_FINISHED_STATES = [7, 8, 9, 10];

export function isJobFinished(job) {
    return JOB_FINISHED_STATES.includes(job.JobState);
}

function unwrapVariants(dict) {
    const out = {};
    for (const [key, value] of Object.entries(dict || {}))
        out[key] = value && typeof value === "object" && "v" in value ? value.v : value;
    return out;
}

/*
 * createClient(onchange): onchange(kind) is called after every change, with
 * kind one of KINDS' keys, "errors", "owner" or "closed".
 */
export function createClient(onchange) {
    const dbus = cockpit.dbus(BUS_NAME, { superuser: "try" });
    const client = {
        dbus,
        closed: null,           /* why, once the connection is gone */
        jobErrors: {},          /* job path -> GetError's dictionary */
    };
    const errorRequests = new Set();

    client.fetchJobError = function fetchJobError(path) {
        if (errorRequests.has(path))
            return;
        errorRequests.add(path);
        dbus.call(path, BUS_NAME + ".Job", "GetError", [])
                .then(([error]) => {
                    client.jobErrors[path] = unwrapVariants(error);
                    onchange("errors");
                })
                .catch(ex => {
                    /* gone before we asked: nothing to show */
                    errorRequests.delete(path);
                    console.warn("GetError", path, ex.message);
                });
    };

    for (const [kind, name] of Object.entries(KINDS)) {
        const proxies = dbus.proxies(BUS_NAME + "." + name, ROOT, { watch: false });
        client[kind] = proxies;
        const notify = (event, proxy) => {
            if (kind === "jobs" && proxy.valid && isJobFinished(proxy))
                client.fetchJobError(proxy.path);
            if (event.type === "removed" && kind === "jobs") {
                delete client.jobErrors[proxy.path];
                errorRequests.delete(proxy.path);
            }
            onchange(kind);
        };
        proxies.addEventListener("added", notify);
        proxies.addEventListener("changed", notify);
        proxies.addEventListener("removed", notify);
    }

    /* The single watch: GetManagedObjects once, then the ObjectManager's and properties' signals. */
    client.ready = dbus.watch({ path_namespace: ROOT });

    /*
     * The service exits when idle and is started again by the next call.
     * While it is gone nothing can change, so what is shown stays true; the
     * bridge reads a new instance's objects by itself.
     */
    client.running = true;
    dbus.addEventListener("owner", (event, owner) => {
        client.running = !!owner;
        onchange("owner");
    });

    dbus.addEventListener("close", (event, options) => {
        if (options.problem === "not-found")
            client.closed = _("The service is not installed, or D-Bus could not start it.");
        else
            client.closed = options.message || cockpit.message(options.problem ? options : { problem: "disconnected" });
        onchange("closed");
    });

    /* Call METHOD on PATH's interface SUFFIX ("" for the service object) with an explicit signature. */
    client.call = function call(path, suffix, method, signature, args) {
        return dbus.call(path, BUS_NAME + suffix, method, args, { type: signature, flags: "i" });
    };

    client.list = function list(kind) {
        return Object.values(client[kind]).filter(p => p && p.valid);
    };

    client.get = function get(kind, path) {
        const proxy = client[kind][path];
        return proxy && proxy.valid ? proxy : null;
    };

    return client;
}

/* What a method call's failure says: the error name's last part and the service's sentence. */
export function describeError(ex) {
    const name = ex && (ex.name || ex.problem) ? String(ex.name || ex.problem) : "Failed";
    return {
        name: name.substring(name.lastIndexOf(".") + 1),
        message: ex && ex.message ? ex.message : cockpit.message(ex),
    };
}

/*
 * Milliseconds to add to the browser's clock to get the host's, as Cockpit's
 * storaged page does for job end times: the host says its time once.
 */
export function measureClockOffset() {
    return cockpit.spawn(["date", "+%s%3N"], { err: "ignore" })
            .then(out => {
                const host = parseInt(out, 10);
                return Number.isFinite(host) ? host - Date.now() : 0;
            })
            .catch(() => 0);
}

export function variant(type, value) {
    return cockpit.variant(type, value);
}
