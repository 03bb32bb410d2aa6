/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A relay in front of an iSCSI target that can hold a SYNCHRONIZE CACHE (see iscsi-relay.h). */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "iscsi-relay.h"

#define RELAY_LINKS_MAX 32
#define RELAY_BUFFER 65536
#define BHS_SIZE 48
#define OPCODE_SCSI_COMMAND 0x01
#define SYNCHRONIZE_CACHE_10 0x35
#define SYNCHRONIZE_CACHE_16 0x91

/* The initiator's stream, cut into PDUs. */
typedef struct Stream {
        guint8 bhs[BHS_SIZE];
        size_t have;                    /* bytes of the current basic header segment */
        guint64 body_left;              /* bytes of the current PDU after it */
        gboolean held;                  /* from here on nothing is passed */
} Stream;

typedef struct Link {
        int client, server;             /* -1: closed */
        Stream up;
} Link;

struct IscsiRelay {
        int listener;
        guint16 port;
        struct sockaddr_in target;
        int wake[2];                    /* a byte on wake[1] stops the thread */
        GThread *thread;
        gint armed;                     /* atomic: hold the next SYNCHRONIZE CACHE */
        gboolean held;                  /* main thread: a SYNCHRONIZE CACHE is held */
        Link links[RELAY_LINKS_MAX];
};

static gboolean on_held(gpointer data) {
        ((IscsiRelay *) data)->held = TRUE;
        return G_SOURCE_REMOVE;
}

static gboolean is_sync(const guint8 *bhs) {
        return (bhs[0] & 0x3f) == OPCODE_SCSI_COMMAND &&
               (bhs[32] == SYNCHRONIZE_CACHE_10 || bhs[32] == SYNCHRONIZE_CACHE_16);
}

/* What of in (n bytes) may go on to the target, into out (n + BHS_SIZE bytes); holds a SYNCHRONIZE CACHE when armed. */
static size_t cut(IscsiRelay *r, Stream *s, const guint8 *in, size_t n, guint8 *out) {
        size_t o = 0;

        for (size_t i = 0; i < n && !s->held;) {
                size_t k;

                if (s->body_left > 0) {
                        k = (size_t) MIN((guint64) (n - i), s->body_left);
                        memcpy(out + o, in + i, k);
                        o += k;
                        i += k;
                        s->body_left -= k;
                        continue;
                }
                /* A header goes on only once it is whole: until then it is unknown whether it is the one to hold. */
                k = MIN(BHS_SIZE - s->have, n - i);
                memcpy(s->bhs + s->have, in + i, k);
                s->have += k;
                i += k;
                if (s->have < BHS_SIZE)
                        break;
                s->have = 0;
                if (is_sync(s->bhs) && g_atomic_int_compare_and_exchange(&r->armed, 1, 0)) {
                        s->held = TRUE;
                        g_idle_add(on_held, r);
                        break;
                }
                memcpy(out + o, s->bhs, BHS_SIZE);
                o += BHS_SIZE;
                s->body_left = (guint64) s->bhs[4] * 4 +
                               ((((guint64) s->bhs[5] << 16 | (guint64) s->bhs[6] << 8 | s->bhs[7]) + 3) & ~(guint64) 3);
        }
        return o;
}

static gboolean send_all(int fd, const guint8 *p, size_t n) {
        while (n > 0) {
                ssize_t k = send(fd, p, n, MSG_NOSIGNAL);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return FALSE;
                p += k;
                n -= (size_t) k;
        }
        return TRUE;
}

static void link_close(Link *l) {
        if (l->client >= 0)
                close(l->client);
        if (l->server >= 0)
                close(l->server);
        *l = (Link) { .client = -1, .server = -1 };
}

static void set_nodelay(int fd) {
        int one = 1;

        (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void relay_accept(IscsiRelay *r) {
        int client = accept4(r->listener, NULL, NULL, SOCK_CLOEXEC), server;

        if (client < 0)
                return;
        server = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (server < 0 || connect(server, (struct sockaddr *) &r->target, sizeof(r->target)) < 0) {
                if (server >= 0)
                        close(server);
                close(client);
                return;
        }
        set_nodelay(client);
        set_nodelay(server);
        for (size_t i = 0; i < RELAY_LINKS_MAX; i++)
                if (r->links[i].client < 0) {
                        r->links[i] = (Link) { .client = client, .server = server };
                        return;
                }
        close(server);
        close(client);
}

/* Moves what one side sent to the other; from the initiator, through cut(). */
static void relay_pass(IscsiRelay *r, Link *l, gboolean up, guint8 *buf, guint8 *out) {
        ssize_t n = read(up ? l->client : l->server, buf, RELAY_BUFFER);
        size_t k;

        if (n < 0 && errno == EINTR)
                return;
        if (n <= 0) {
                link_close(l);
                return;
        }
        if (!up) {
                if (!send_all(l->client, buf, (size_t) n))
                        link_close(l);
                return;
        }
        k = cut(r, &l->up, buf, (size_t) n, out);
        if (k > 0 && !send_all(l->server, out, k))
                link_close(l);
}

static gpointer relay_run(gpointer data) {
        IscsiRelay *r = data;
        g_autofree guint8 *buf = g_malloc(RELAY_BUFFER), *out = g_malloc(RELAY_BUFFER + BHS_SIZE);

        for (;;) {
                struct pollfd fds[2 + 2 * RELAY_LINKS_MAX];
                size_t which[2 + 2 * RELAY_LINKS_MAX], n = 2;

                fds[0] = (struct pollfd) { .fd = r->wake[0], .events = POLLIN };
                fds[1] = (struct pollfd) { .fd = r->listener, .events = POLLIN };
                for (size_t i = 0; i < RELAY_LINKS_MAX; i++) {
                        if (r->links[i].client < 0)
                                continue;
                        which[n] = i;
                        fds[n++] = (struct pollfd) { .fd = r->links[i].client, .events = POLLIN };
                        which[n] = i;
                        fds[n++] = (struct pollfd) { .fd = r->links[i].server, .events = POLLIN };
                }
                if (poll(fds, n, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        g_error("relay: poll: %s", g_strerror(errno));
                }
                if (fds[0].revents)
                        return NULL;
                if (fds[1].revents & POLLIN)
                        relay_accept(r);
                for (size_t i = 2; i < n; i++) {
                        Link *l = &r->links[which[i]];
                        gboolean up = (i % 2) == 0;

                        /* A link closed by its other half in this round is skipped. */
                        if (fds[i].revents && l->client >= 0)
                                relay_pass(r, l, up, buf, out);
                }
        }
}

IscsiRelay *iscsi_relay_new(const char *address, const char *target_address, guint16 target_port) {
        IscsiRelay *r = g_new0(IscsiRelay, 1);
        struct sockaddr_in a = { .sin_family = AF_INET };
        socklen_t len = sizeof(a);
        int one = 1;

        g_assert_true(g_str_has_prefix(address, "127.") && g_str_has_prefix(target_address, "127."));
        for (size_t i = 0; i < RELAY_LINKS_MAX; i++)
                r->links[i] = (Link) { .client = -1, .server = -1 };
        r->target = (struct sockaddr_in) { .sin_family = AF_INET, .sin_port = htons(target_port) };
        g_assert_cmpint(inet_pton(AF_INET, target_address, &r->target.sin_addr), ==, 1);
        g_assert_cmpint(inet_pton(AF_INET, address, &a.sin_addr), ==, 1);
        r->listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        g_assert_cmpint(r->listener, >=, 0);
        g_assert_cmpint(setsockopt(r->listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), ==, 0);
        g_assert_cmpint(bind(r->listener, (struct sockaddr *) &a, sizeof(a)), ==, 0);
        g_assert_cmpint(listen(r->listener, 16), ==, 0);
        g_assert_cmpint(getsockname(r->listener, (struct sockaddr *) &a, &len), ==, 0);
        r->port = ntohs(a.sin_port);
        g_assert_cmpint(pipe2(r->wake, O_CLOEXEC), ==, 0);
        r->thread = g_thread_new("iscsi-relay", relay_run, r);
        return r;
}

void iscsi_relay_free(IscsiRelay *r) {
        if (!r)
                return;
        g_assert_cmpint(write(r->wake[1], "x", 1), ==, 1);
        g_thread_join(r->thread);
        while (g_idle_remove_by_data(r))
                ;
        for (size_t i = 0; i < RELAY_LINKS_MAX; i++)
                link_close(&r->links[i]);
        close(r->listener);
        close(r->wake[0]);
        close(r->wake[1]);
        g_free(r);
}

guint16 iscsi_relay_port(const IscsiRelay *r) {
        return r->port;
}

void iscsi_relay_hold_sync(IscsiRelay *r) {
        r->held = FALSE;
        g_atomic_int_set(&r->armed, 1);
}

void iscsi_relay_wait_held(IscsiRelay *r, Harness *h) {
        harness_wait_for_flag(h, &r->held);
}
