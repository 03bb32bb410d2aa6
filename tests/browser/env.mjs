// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The world the browser tests run in, all real and all on 127.0.0.0/8: a
// private dbus-daemon, the built iscsi-replicationd on it, tgtd as the peer's
// iSCSI target, the page installed into a temporary DESTDIR, and cockpit-ws
// serving it with a bridge whose system bus is the private one. Everything
// started here is stopped by stopAll(), by its process id (cockpit-ws by its
// own process group, which holds the bridge it spawns).

import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";

export const BUS_NAME = "org.iscsi.ReplicationService";
export const ROOT = "/org/iscsi/ReplicationService";
export const IFACE = BUS_NAME;
export const LOCAL_SYSTEM = ROOT + "/system/local";

const START_DEADLINE_MS = 20000;
const children = [];

export function needEnv(name) {
    const value = process.env[name];
    if (!value)
        throw new Error(`${name} is not set; run the test through meson test`);
    return value;
}

export function makeTmp() {
    const tmp = fs.mkdtempSync("/tmp/ird-browser-");
    // the limited user's bridge must reach the bus socket in here
    fs.chmodSync(tmp, 0o755);
    return tmp;
}

function logFd(tmp, name) {
    return fs.openSync(path.join(tmp, name + ".log"), "a");
}

function track(name, child, group) {
    const entry = { name, child, group, exited: false };
    child.on("exit", () => { entry.exited = true });
    children.push(entry);
    return entry;
}

function start(tmp, name, command, args, options = {}) {
    const log = logFd(tmp, name);
    const child = spawn(command, args, { stdio: ["ignore", log, log, ...(options.extraStdio || [])], ...options });
    fs.closeSync(log);
    return track(name, child, !!options.detached);
}

function exited(entry) {
    return new Promise(resolve => entry.exited ? resolve() : entry.child.once("exit", resolve));
}

// SIGTERM, a grace period, then SIGKILL; newest first.
export async function stopAll() {
    while (children.length) {
        const entry = children.pop();
        if (entry.exited)
            continue;
        const pid = entry.group ? -entry.child.pid : entry.child.pid;
        const signal = entry.name === "tgtd" ? "SIGKILL" : "SIGTERM";
        try {
            process.kill(pid, signal);
        } catch { continue }
        const timer = setTimeout(() => { try { process.kill(pid, "SIGKILL") } catch {} }, 5000);
        await exited(entry);
        clearTimeout(timer);
        if (entry.cleanup)
            entry.cleanup();
    }
}

// Retry CHECK until it returns true, for programs that announce no readiness.
export async function retryUntil(what, check, deadlineMs = START_DEADLINE_MS) {
    const give_up = Date.now() + deadlineMs;
    for (;;) {
        if (await check())
            return;
        if (Date.now() > give_up)
            throw new Error(`${what}: not ready within ${deadlineMs} ms`);
        await new Promise(resolve => setTimeout(resolve, 50));
    }
}

export function freePort(address) {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.once("error", reject);
        server.listen(0, address, () => {
            const { port } = server.address();
            server.close(() => resolve(port));
        });
    });
}

function accepts(address, port) {
    return new Promise(resolve => {
        const socket = net.connect({ host: address, port });
        socket.once("connect", () => { socket.destroy(); resolve(true) });
        socket.once("error", () => resolve(false));
    });
}

export async function startBus(tmp) {
    const config = path.join(tmp, "bus.conf");
    fs.writeFileSync(config, `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=${tmp}/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
`);
    const entry = start(tmp, "dbus-daemon", "dbus-daemon",
                        ["--config-file=" + config, "--nofork", "--print-address=3"], { extraStdio: ["pipe"] });
    const address = await new Promise((resolve, reject) => {
        let text = "";
        entry.child.stdio[3].on("data", chunk => {
            text += chunk;
            if (text.includes("\n"))
                resolve(text.split("\n")[0]);
        });
        entry.child.once("exit", () => reject(new Error("dbus-daemon exited")));
    });
    return address;
}

export async function startDaemon(tmp, busAddress, extraArgs = []) {
    const state = path.join(tmp, "state");
    fs.mkdirSync(state, { mode: 0o700, recursive: true });
    start(tmp, "daemon", needEnv("IRD_DAEMON"),
          ["--address=" + busAddress, "--state-directory=" + state, "--verify-access-points=yes", ...extraArgs]);
    // the name appearing on the bus is the daemon's readiness
    execFileSync("gdbus", ["wait", "--address", busAddress, "--timeout", "20", BUS_NAME]);
}

// Stop the daemon as systemd would (SIGTERM) and wait until it has exited.
export async function stopDaemon() {
    const entry = children.find(c => c.name === "daemon" && !c.exited);
    if (!entry)
        throw new Error("the daemon is not running");
    entry.child.kill("SIGTERM");
    await exited(entry);
    children.splice(children.indexOf(entry), 1);
}

function tgtadm(controlPort, args) {
    execFileSync("tgtadm", ["-C", String(controlPort), "--lld", "iscsi", ...args], { stdio: "ignore" });
}

// tgtd on ADDRESS with the given targets, each with one LUN; ACCOUNTS maps target name -> [user, password].
export async function startTgtd(tmp, address, targets, accounts = {}) {
    const port = await freePort(address);
    let controlPort;
    do
        controlPort = 20000 + Math.floor(Math.random() * 12000);   // tgtd takes at most 32767
    while (fs.existsSync(`/run/tgtd/socket.${controlPort}`));
    const entry = start(tmp, "tgtd", "tgtd", ["-f", "--iscsi", `portal=${address}:${port}`, "--control-port", String(controlPort)]);
    entry.cleanup = () => {
        for (const suffix of ["", ".lock"])
            fs.rmSync(`/run/tgtd/socket.${controlPort}${suffix}`, { force: true });
    };
    // tgtd announces no readiness (no sd_notify, nothing on stdout)
    await retryUntil("tgtd", async () => {
        if (entry.exited)
            throw new Error("tgtd exited; see tgtd.log");
        if (!await accepts(address, port))
            return false;
        try {
            tgtadm(controlPort, ["--op", "show", "--mode", "sys"]);
            return true;
        } catch {
            return false;
        }
    });
    targets.forEach((name, i) => {
        const tid = String(i + 1);
        const disk = path.join(tmp, `disk${tid}.img`);
        fs.writeFileSync(disk, "");
        fs.truncateSync(disk, 8 * 1024 * 1024);
        tgtadm(controlPort, ["--op", "new", "--mode", "target", "--tid", tid, "-T", name]);
        tgtadm(controlPort, ["--op", "new", "--mode", "logicalunit", "--tid", tid, "--lun", "1", "-b", disk]);
        tgtadm(controlPort, ["--op", "bind", "--mode", "target", "--tid", tid, "-I", "ALL"]);
        if (accounts[name]) {
            const [user, password] = accounts[name];
            tgtadm(controlPort, ["--op", "new", "--mode", "account", "--user", user, "--password", password]);
            tgtadm(controlPort, ["--op", "bind", "--mode", "account", "--tid", tid, "--user", user]);
        }
    });
    return port;
}

// A portal that accepts connections and never says a word: a probe of it runs until cancelled.
export function startBlackHole(address) {
    const sockets = new Set();
    const server = net.createServer(socket => {
        sockets.add(socket);
        socket.on("error", () => {});
        socket.on("close", () => sockets.delete(socket));
    });
    return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, address, () => resolve({
            port: server.address().port,
            close: () => {
                sockets.forEach(s => s.destroy());
                server.close();
            },
        }));
    });
}

// Install the page as a distribution would, into TMP/dest; returns the data directory holding cockpit/.
export function installPage(tmp) {
    const dest = path.join(tmp, "dest");
    execFileSync("meson", ["install", "-C", needEnv("IRD_BUILD_ROOT"), "--no-rebuild", "--quiet",
        "--tags", "cockpit", "--destdir", dest], { stdio: ["ignore", "ignore", "inherit"] });
    const datadir = path.join(dest, needEnv("IRD_COCKPIT_DATADIR"));
    if (!fs.existsSync(path.join(datadir, "cockpit", "iscsi-replication", "manifest.json")))
        throw new Error("meson install did not install the page under " + datadir);
    return datadir;
}

// A bridge run as an unprivileged user: the page's limited-access case.
export function limitedBridge(tmp) {
    const script = path.join(tmp, "limited-bridge");
    fs.writeFileSync(script, "#!/bin/sh\n" +
        "exec setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/nonexistent cockpit-bridge\n", { mode: 0o755 });
    return script;
}

// cockpit-ws on 127.0.0.1 with a bridge started directly (no login, no PAM), the page's data dir first.
export async function startCockpitWs(tmp, name, { busAddress, datadir, bridge = "cockpit-bridge" }) {
    const port = await freePort("127.0.0.1");
    const env = {
        PATH: process.env.PATH,
        LANG: "C.UTF-8",
        DBUS_SYSTEM_BUS_ADDRESS: busAddress,
        XDG_DATA_DIRS: `${datadir}:/usr/share`,
    };
    const entry = start(tmp, name, needEnv("IRD_COCKPIT_WS"),
                        ["--no-tls", "--local-session=" + bridge, "--address", "127.0.0.1", "--port", String(port)],
                        { env, detached: true });
    await retryUntil(name, async () => {
        if (entry.exited)
            throw new Error(`${name} exited; see ${name}.log`);
        return accepts("127.0.0.1", port);
    });
    return `http://127.0.0.1:${port}`;
}

// busctl against the private bus; JSON replies parsed.
export function busctl(busAddress, ...args) {
    const out = execFileSync("busctl", ["--address=" + busAddress, "--json=short", ...args], { encoding: "utf-8" });
    return out.trim() ? JSON.parse(out) : null;
}

// busctl expected to fail; returns its error output (the D-Bus error's message).
export function busctlFails(busAddress, ...args) {
    try {
        execFileSync("busctl", ["--address=" + busAddress, ...args], { encoding: "utf-8", stdio: ["ignore", "pipe", "pipe"] });
    } catch (ex) {
        return String(ex.stderr).trim();
    }
    throw new Error("busctl " + args.join(" ") + " succeeded");
}

export function callService(busAddress, method, signature, ...args) {
    return busctl(busAddress, "call", BUS_NAME, ROOT, IFACE, method, signature, ...args.map(String)).data;
}

export function getProperty(busAddress, objectPath, iface, name) {
    return busctl(busAddress, "get-property", BUS_NAME, objectPath, IFACE + iface, name).data;
}
