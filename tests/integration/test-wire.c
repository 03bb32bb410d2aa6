/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Malformed strings on the wire (API.md section 8a): a method call whose
 * string argument is not valid UTF-8, or holds a Unicode noncharacter, is
 * refused by the bus library before the service sees it, with InvalidArgs or
 * InconsistentMessage, and changes nothing. GDBus will not build such a
 * message, so these tests speak the protocol on raw sockets: GDBus builds a
 * well-formed message with a placeholder, and the placeholder's bytes are
 * swapped for the bad ones in the serialized message.
 *
 * dbus-daemon itself drops a client that sends invalid UTF-8, so sd-bus's own
 * refusal is pinned on a connection where nothing validates first: the test
 * plays the bus (the few driver calls the service makes) on a socket of its
 * own. Pinned so that a change of bus library, or of its validation, is
 * noticed.
 */

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "harness.h"

#define PLACEHOLDER "@@@"
#define DRIVER "org.freedesktop.DBus"
#define SERVICE_UNIQUE_NAME ":1.1"
#define CLIENT_UNIQUE_NAME ":1.2"

typedef struct BadString {
        const char *what;
        const char *bytes;      /* as long as PLACEHOLDER */
        gboolean valid_utf8;    /* dbus-daemon passes it on */
} BadString;

static const BadString bad_strings[] = {
        { "the noncharacter U+FFFE", "\xef\xbf\xbe", TRUE },
        { "the noncharacter U+FFFF", "\xef\xbf\xbf", TRUE },
        { "the noncharacter U+FDD0", "\xef\xb7\x90", TRUE },
        { "invalid UTF-8 (0xff)", "a\xff" "b", FALSE },
        { "a truncated sequence", "ab\xe2", FALSE },
        { "a UTF-16 surrogate (U+D800)", "\xed\xa0\x80", FALSE },
};

/* ---- raw sockets ---- */

static void write_all(int fd, const void *data, size_t n) {
        const guint8 *p = data;

        while (n > 0) {
                ssize_t k = write(fd, p, n);
                if (k < 0 && errno == EINTR)
                        continue;
                g_assert_cmpint(k, >, 0);
                p += k;
                n -= (size_t) k;
        }
}

/* FALSE at the end of the stream; a peer that says nothing for long fails the test. */
static gboolean read_all(int fd, void *data, size_t n) {
        guint8 *p = data;

        while (n > 0) {
                ssize_t k = read(fd, p, n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0 && errno == EAGAIN)
                        g_error("nothing came on the socket for 10 s");
                if (k <= 0)
                        return FALSE;
                p += k;
                n -= (size_t) k;
        }
        return TRUE;
}

static char *read_line(int fd) {
        GString *line = g_string_new(NULL);
        char c;

        while (read_all(fd, &c, 1) && c != '\n')
                if (c != '\r')
                        g_string_append_c(line, c);
        return g_string_free(line, FALSE);
}

static void set_read_timeout(int fd) {
        struct timeval timeout = { .tv_sec = 10 };
        g_assert_cmpint(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)), ==, 0);
}

static socklen_t unix_address(const char *address, struct sockaddr_un *sa) {
        const char *path = strstr(address, "path=");

        g_assert_true(g_str_has_prefix(address, "unix:") && path);
        path += strlen("path=");
        size_t len = strcspn(path, ",");
        g_assert_cmpuint(len, <, sizeof(sa->sun_path));
        *sa = (struct sockaddr_un) { .sun_family = AF_UNIX };
        memcpy(sa->sun_path, path, len);
        return sizeof(*sa);
}

/* Sends m with the next serial, the placeholder (if any) replaced by bad_bytes. Returns the serial. */
static guint32 send_message(int fd, guint32 *serial, GDBusMessage *m, const char *bad_bytes) {
        g_autoptr(GError) error = NULL;
        gsize size = 0;

        g_dbus_message_set_serial(m, ++*serial);
        g_autofree guchar *blob = g_dbus_message_to_blob(m, &size, G_DBUS_CAPABILITY_FLAGS_NONE, &error);
        g_assert_no_error(error);
        if (bad_bytes) {
                guchar *at = memmem(blob, size, PLACEHOLDER, strlen(PLACEHOLDER));
                g_assert_nonnull(at);
                g_assert_null(memmem(at + 1, size - (gsize) (at + 1 - blob), PLACEHOLDER, strlen(PLACEHOLDER)));
                g_assert_cmpuint(strlen(bad_bytes), ==, strlen(PLACEHOLDER));
                memcpy(at, bad_bytes, strlen(bad_bytes));
        }
        write_all(fd, blob, size);
        return *serial;
}

/* The next message, NULL when the other side closed the connection. */
static GDBusMessage *read_message(int fd) {
        g_autoptr(GError) error = NULL;
        guchar header[16];

        if (!read_all(fd, header, sizeof(header)))
                return NULL;
        gssize need = g_dbus_message_bytes_needed(header, sizeof(header), &error);
        g_assert_no_error(error);
        g_autofree guchar *blob = g_malloc((gsize) need);
        memcpy(blob, header, sizeof(header));
        if (!read_all(fd, blob + sizeof(header), (gsize) need - sizeof(header)))
                return NULL;
        GDBusMessage *m = g_dbus_message_new_from_blob(blob, (gsize) need, G_DBUS_CAPABILITY_FLAGS_NONE, &error);
        g_assert_no_error(error);
        return m;
}

static GDBusMessage *add_peer_message(const char *name) {
        GDBusMessage *m = g_dbus_message_new_method_call(IRD_BUS_NAME, IRD_ROOT, IRD_IFACE_SERVICE, "AddPeerSystem");
        GVariantBuilder props;

        g_variant_builder_init(&props, G_VARIANT_TYPE("a{sv}"));
        g_variant_builder_add(&props, "{sv}", "ElementName", g_variant_new_string("raw"));
        g_dbus_message_set_body(m, g_variant_new("(sa{sv})", name, &props));
        return m;
}

static void assert_refused(const BadString *b, GDBusMessage *reply, const char *service) {
        g_assert_nonnull(reply);
        g_assert_cmpint(g_dbus_message_get_message_type(reply), ==, G_DBUS_MESSAGE_TYPE_ERROR);
        const char *error_name = g_dbus_message_get_error_name(reply);
        g_test_message("%s: %s from %s", b->what, error_name, g_dbus_message_get_sender(reply));
        g_assert_true(g_str_equal(error_name, "org.freedesktop.DBus.Error.InvalidArgs") ||
                      g_str_equal(error_name, "org.freedesktop.DBus.Error.InconsistentMessage"));
        /* The service's bus library refused it, not the bus. */
        g_assert_cmpstr(g_dbus_message_get_sender(reply), ==, service);
}

/* ---- as a client of the real bus ---- */

typedef struct Client {
        int fd;
        guint32 serial;
} Client;

static void client_connect(Client *c, const char *address) {
        struct sockaddr_un sa;
        socklen_t len = unix_address(address, &sa);

        c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        g_assert_cmpint(c->fd, >=, 0);
        set_read_timeout(c->fd);
        g_assert_cmpint(connect(c->fd, (struct sockaddr *) &sa, len), ==, 0);

        g_autofree char *uid = g_strdup_printf("%u", (unsigned) getuid());
        g_autoptr(GString) auth = g_string_new("AUTH EXTERNAL ");
        for (const char *p = uid; *p; p++)
                g_string_append_printf(auth, "%02x", (unsigned) *p);
        g_string_append(auth, "\r\n");
        write_all(c->fd, "", 1);
        write_all(c->fd, auth->str, auth->len);
        g_autofree char *ok = read_line(c->fd);
        g_assert_true(g_str_has_prefix(ok, "OK "));
        write_all(c->fd, "BEGIN\r\n", 7);

        g_autoptr(GDBusMessage) hello = g_dbus_message_new_method_call(DRIVER, "/org/freedesktop/DBus", DRIVER, "Hello");
        guint32 serial = send_message(c->fd, &c->serial, hello, NULL);
        for (;;) {
                g_autoptr(GDBusMessage) m = read_message(c->fd);
                g_assert_nonnull(m);
                if (g_dbus_message_get_reply_serial(m) == serial) {
                        g_assert_cmpint(g_dbus_message_get_message_type(m), ==, G_DBUS_MESSAGE_TYPE_METHOD_RETURN);
                        break;
                }
        }
}

/* The reply to serial, skipping signals; NULL when the bus closed the connection. */
static GDBusMessage *client_wait_reply(Client *c, guint32 serial) {
        for (;;) {
                GDBusMessage *m = read_message(c->fd);
                if (!m || g_dbus_message_get_reply_serial(m) == serial)
                        return m;
                g_object_unref(m);
        }
}

/*
 * Through dbus-daemon: noncharacters reach the service, whose bus library
 * refuses them; invalid UTF-8 is dropped by whichever validates first (the
 * bus, by closing the sender's connection). Either way nothing changes and
 * the service keeps serving.
 */
static void test_through_bus(Harness *h, gconstpointer data) {
        g_autofree char *before = harness_snapshot(h);

        for (size_t i = 0; i < G_N_ELEMENTS(bad_strings); i++) {
                const BadString *b = &bad_strings[i];
                g_autofree char *name = g_strdup_printf("n%zu" PLACEHOLDER ".example.org", i);
                g_autoptr(GDBusMessage) call = add_peer_message(name);
                Client c = { .fd = -1 };

                client_connect(&c, h->bus_address);
                g_autoptr(GDBusMessage) reply = client_wait_reply(&c, send_message(c.fd, &c.serial, call, b->bytes));
                if (b->valid_utf8 || reply)
                        assert_refused(b, reply, h->daemon_owner);
                else
                        g_test_message("%s: the bus closed the connection", b->what);
                close(c.fd);
        }

        g_autofree char *after = harness_snapshot(h);
        g_assert_cmpstr(after, ==, before);
        g_free(harness_add_peer(h, "after.example.org", NULL));
}

/* ---- playing the bus ---- */

typedef struct FakeBus {
        int listen_fd;
        int fd;                 /* the service's connection */
        guint32 serial;
        char *address;
} FakeBus;

static void fake_bus_listen(FakeBus *b, Harness *h) {
        struct sockaddr_un sa;

        b->address = g_strdup_printf("unix:path=%s/fake-bus", h->tmpdir);
        socklen_t len = unix_address(b->address, &sa);
        b->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        g_assert_cmpint(b->listen_fd, >=, 0);
        g_assert_cmpint(bind(b->listen_fd, (struct sockaddr *) &sa, len), ==, 0);
        g_assert_cmpint(listen(b->listen_fd, 1), ==, 0);
}

/* The server's side of SASL EXTERNAL, one answer per line, as the specification has it. */
static void fake_bus_accept(FakeBus *b) {
        char nul;

        b->fd = accept4(b->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        g_assert_cmpint(b->fd, >=, 0);
        set_read_timeout(b->fd);
        g_assert_true(read_all(b->fd, &nul, 1));
        g_assert_cmpint(nul, ==, 0);
        for (;;) {
                g_autofree char *line = read_line(b->fd);
                const char *answer;

                if (g_str_equal(line, "BEGIN"))
                        return;
                if (g_str_equal(line, "AUTH EXTERNAL"))
                        answer = "DATA\r\n";
                else if (g_str_has_prefix(line, "AUTH EXTERNAL ") || g_str_has_prefix(line, "DATA"))
                        answer = "OK 0123456789abcdef0123456789abcdef\r\n";
                else if (g_str_equal(line, "NEGOTIATE_UNIX_FD"))
                        answer = "AGREE_UNIX_FD\r\n";
                else
                        g_error("unexpected SASL line from the service: %s", line);
                write_all(b->fd, answer, strlen(answer));
        }
}

static GVariant *driver_answer(GDBusMessage *call, const char **ret_error) {
        const char *member = g_dbus_message_get_member(call);

        *ret_error = NULL;
        if (g_str_equal(member, "Hello"))
                return g_variant_new("(s)", SERVICE_UNIQUE_NAME);
        if (g_str_equal(member, "RequestName"))
                return g_variant_new("(u)", 1);         /* primary owner */
        if (g_str_equal(member, "AddMatch") || g_str_equal(member, "RemoveMatch"))
                return NULL;
        *ret_error = "org.freedesktop.DBus.Error.UnknownMethod";
        return NULL;
}

/* Answers the service's calls to the bus driver until the reply to serial arrives, and returns it. */
static GDBusMessage *fake_bus_serve(FakeBus *b, guint32 serial) {
        for (;;) {
                g_autoptr(GDBusMessage) m = read_message(b->fd);
                const char *error_name;

                g_assert_nonnull(m);
                if (serial && g_dbus_message_get_reply_serial(m) == serial)
                        return g_steal_pointer(&m);
                if (g_dbus_message_get_message_type(m) != G_DBUS_MESSAGE_TYPE_METHOD_CALL ||
                    g_strcmp0(g_dbus_message_get_destination(m), DRIVER) != 0)
                        continue;

                GVariant *body = driver_answer(m, &error_name);
                g_autoptr(GDBusMessage) reply = error_name ?
                        g_dbus_message_new_method_error_literal(m, error_name, "not on this bus") :
                        g_dbus_message_new_method_reply(m);
                if (body)
                        g_dbus_message_set_body(reply, body);
                g_dbus_message_set_sender(reply, DRIVER);
                g_dbus_message_set_destination(reply, SERVICE_UNIQUE_NAME);
                (void) send_message(b->fd, &b->serial, reply, NULL);
                if (!serial && g_str_equal(g_dbus_message_get_member(m), "RequestName"))
                        return NULL;
        }
}

static guint32 fake_bus_call(FakeBus *b, GDBusMessage *call, const char *bad_bytes) {
        g_dbus_message_set_sender(call, CLIENT_UNIQUE_NAME);
        g_dbus_message_set_destination(call, SERVICE_UNIQUE_NAME);
        return send_message(b->fd, &b->serial, call, bad_bytes);
}

/*
 * sd-bus's own refusal, with nothing validating before it: the service's
 * bus library answers every bad string with InvalidArgs or
 * InconsistentMessage, and a good call on the same connection works.
 */
static void test_sd_bus_refuses(Harness *h, gconstpointer data) {
        g_autofree char *before = harness_snapshot(h);
        FakeBus b = { .listen_fd = -1, .fd = -1 };

        harness_stop_daemon(h);
        fake_bus_listen(&b, h);
        g_autofree char *real_address = g_steal_pointer(&h->bus_address);
        h->bus_address = g_strdup(b.address);
        harness_spawn_daemon(h, NULL, TRUE);
        fake_bus_accept(&b);
        g_assert_null(fake_bus_serve(&b, 0));   /* until the service owns its name */

        for (size_t i = 0; i < G_N_ELEMENTS(bad_strings); i++) {
                const BadString *bad = &bad_strings[i];
                g_autofree char *name = g_strdup_printf("n%zu" PLACEHOLDER ".example.org", i);
                g_autoptr(GDBusMessage) call = add_peer_message(name);
                g_autoptr(GDBusMessage) reply = fake_bus_serve(&b, fake_bus_call(&b, call, bad->bytes));

                assert_refused(bad, reply, NULL);
        }

        /* A good call on the same connection is answered normally. */
        g_autoptr(GDBusMessage) get = g_dbus_message_new_method_call(IRD_BUS_NAME, IRD_ROOT,
                                                                     "org.freedesktop.DBus.Properties", "Get");
        g_dbus_message_set_body(get, g_variant_new("(ss)", IRD_IFACE_SERVICE, "LocalSystem"));
        g_autoptr(GDBusMessage) got = fake_bus_serve(&b, fake_bus_call(&b, get, NULL));
        g_assert_cmpint(g_dbus_message_get_message_type(got), ==, G_DBUS_MESSAGE_TYPE_METHOD_RETURN);

        /* Back on the real bus: nothing of it was stored. */
        g_subprocess_send_signal(h->daemon, SIGTERM);
        close(b.fd);
        int status = harness_wait_daemon_exit(h);
        g_assert_true(WIFEXITED(status));
        close(b.listen_fd);
        g_free(h->bus_address);
        h->bus_address = g_steal_pointer(&real_address);
        harness_start_daemon(h);
        g_autofree char *after = harness_snapshot(h);
        g_assert_cmpstr(after, ==, before);
        g_free(b.address);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);

        harness_add_test("/integration/wire/malformed-strings/through-bus", NULL, test_through_bus);
        harness_add_test("/integration/wire/malformed-strings/sd-bus-refuses", NULL, test_sd_bus_refuses);

        return g_test_run();
}
