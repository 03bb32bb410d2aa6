/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Connecting to the chosen bus, and explaining a bus or a service that cannot be reached. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bus-connect.h"
#include "contract/names.h"
#include "replctl.h"

/* Where sd-bus looks when no variable names the system bus. */
#define DEFAULT_SYSTEM_BUS_ADDRESS "unix:path=/run/dbus/system_bus_socket"

static BusTarget connected = { .kind = BUS_SYSTEM };

/* The address sd-bus uses for the system or session bus, or NULL when it has none. */
static char *default_address(BusKind kind) {
        const char *e;
        char *s = NULL;

        if (kind == BUS_SYSTEM) {
                e = getenv("DBUS_SYSTEM_BUS_ADDRESS");
                return strdup(e && *e ? e : DEFAULT_SYSTEM_BUS_ADDRESS);
        }
        e = getenv("DBUS_SESSION_BUS_ADDRESS");
        if (e && *e)
                return strdup(e);
        e = getenv("XDG_RUNTIME_DIR");
        if (e && *e && asprintf(&s, "unix:path=%s/bus", e) >= 0)
                return s;
        return NULL;
}

/* "the system bus (unix:path=…)", "the bus at …", …; the caller frees it. */
static char *describe_bus(const BusTarget *t) {
        char *address = NULL, *s = NULL;
        int r = -1;

        switch (t->kind) {
        case BUS_SYSTEM:
        case BUS_SESSION:
                address = default_address(t->kind);
                r = asprintf(&s, "the %s bus (%s)", t->kind == BUS_SYSTEM ? "system" : "session",
                             address ? address : "no address: neither DBUS_SESSION_BUS_ADDRESS nor XDG_RUNTIME_DIR is set");
                break;
        case BUS_ADDRESS:
                r = asprintf(&s, "the bus at %s", t->address);
                break;
        case BUS_REMOTE:
                r = asprintf(&s, "the system bus of %s (over ssh)", t->host);
                break;
        }
        free(address);
        return r < 0 ? NULL : s;
}

static const char *connect_hint(BusKind kind) {
        switch (kind) {
        case BUS_SYSTEM:
                return "Is the D-Bus system bus running (systemctl status dbus)? "
                       "DBUS_SYSTEM_BUS_ADDRESS names another one.";
        case BUS_SESSION:
                return "Is a session bus running for this user? DBUS_SESSION_BUS_ADDRESS names it. "
                       "The service normally runs on the system bus (--system).";
        case BUS_ADDRESS:
                return "Check the address, and that a bus listens there and lets this user connect.";
        case BUS_REMOTE:
                break;
        }
        return "";
}

static void print_connect_hint(FILE *f, const BusTarget *t) {
        if (t->kind == BUS_REMOTE)
                fprintf(f, "Check that \"ssh %s\" logs in without a prompt and that systemd-stdio-bridge is installed there.\n",
                        t->host);
        else
                fprintf(f, "%s\n", connect_hint(t->kind));
}

static int open_bus(const BusTarget *t, sd_bus **ret) {
        sd_bus *bus = NULL;
        int r;

        switch (t->kind) {
        case BUS_SYSTEM:
                return sd_bus_open_system(ret);
        case BUS_SESSION:
                return sd_bus_open_user(ret);
        case BUS_REMOTE:
                return sd_bus_open_system_remote(ret, t->host);
        case BUS_ADDRESS:
                r = sd_bus_new(&bus);
                if (r >= 0)
                        r = sd_bus_set_address(bus, t->address);
                if (r >= 0)
                        r = sd_bus_set_bus_client(bus, true);
                if (r >= 0)
                        r = sd_bus_start(bus);
                if (r < 0) {
                        sd_bus_unref(bus);
                        return r;
                }
                *ret = bus;
                return 0;
        }
        return -EINVAL;
}

static void explain_connect_failure(FILE *f, const BusTarget *t, int r) {
        char *bus = describe_bus(t);

        fprintf(f, "Failed to connect to %s: %s.\n", bus ? bus : "the bus", strerror(r < 0 ? -r : r));
        print_connect_hint(f, t);
        free(bus);
}

int bus_connect(const BusTarget *target, sd_bus **ret) {
        int r;

        connected = *target;
        r = open_bus(target, ret);
        if (r < 0) {
                explain_connect_failure(stderr, target, r);
                return EXIT_GENERIC;
        }
        return EXIT_OK;
}

bool bus_errno_is_disconnect(int r) {
        r = r < 0 ? -r : r;
        return r == ENOTCONN || r == ECONNRESET || r == ECONNREFUSED;
}

void bus_explain_disconnect(FILE *f, int r) {
        explain_connect_failure(f, &connected, r);
}

/* The bus tried to start the service and failed (dbus-daemon: Spawn.*; systemd's errors; dbus-broker's words). */
static bool activation_failed(const sd_bus_error *e) {
        return strncmp(e->name, "org.freedesktop.DBus.Error.Spawn.", strlen("org.freedesktop.DBus.Error.Spawn.")) == 0 ||
               strncmp(e->name, "org.freedesktop.systemd1.", strlen("org.freedesktop.systemd1.")) == 0 ||
               (sd_bus_error_has_name(e, SD_BUS_ERROR_NAME_HAS_NO_OWNER) && e->message &&
                strstr(e->message, "activate"));
}

bool bus_error_is_service_missing(const sd_bus_error *error) {
        if (!sd_bus_error_is_set(error))
                return false;
        return sd_bus_error_has_names(error, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER) ||
               activation_failed(error);
}

static const char *missing_hint(BusKind kind, bool failed) {
        switch (kind) {
        case BUS_SYSTEM:
        case BUS_REMOTE:
                return failed ? "See \"systemctl status iscsi-replicationd\" and \"journalctl -u iscsi-replicationd\"."
                              : "Check that iscsi-replicationd is installed: the system bus starts it through the "
                                "activation file " SERVICE_BUS_NAME ".service in its system-services directory "
                                "(/usr/share/dbus-1/system-services).";
        case BUS_SESSION:
                return "Start it there with \"iscsi-replicationd --session\", or use --system.";
        case BUS_ADDRESS:
                return "Start it there with \"iscsi-replicationd --address=ADDRESS\", or name the bus it serves.";
        }
        return "";
}

void bus_explain_service_missing(FILE *f, const sd_bus_error *error) {
        char *bus = describe_bus(&connected);
        bool failed = activation_failed(error);
        const char *detail = error->message && *error->message ? error->message : error->name;

        if (failed)
                fprintf(f, "%s could not start " SERVICE_BUS_NAME ": %s\n", bus ? bus : "The bus", detail);
        else
                fprintf(f, SERVICE_BUS_NAME " is not running on %s, and that bus cannot start it (%s).\n",
                        bus ? bus : "the bus", detail);
        fprintf(f, "%s\n", missing_hint(connected.kind, failed));
        free(bus);
}
