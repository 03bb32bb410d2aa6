/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Fake peers on loopback addresses: a fake iSCSI target that accepts
 * connections and hands each to harness-target.c, a listener whose accept
 * queue is full so connects hang, and a port nobody listens on. See
 * harness.h.
 */

#include "harness-internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct HarnessPeer {
        HarnessPeerKind kind;
        char *address;
        guint16 port;
        int listen_fd;
        int filler_fd;
        int wake_fds[2];
        GThread *thread;
        char **target_names;
        gint connections;
        GMutex lock;
        char *last_source;
        char *chap_username;
        char *chap_secret;
        char *mutual_username;          /* NULL: the target does not demand mutual CHAP */
        char *mutual_secret;
        unsigned quirks;                /* HarnessPeerQuirk */
        gint *logouts;                  /* shared with connection threads, which may outlive the peer */
};

static socklen_t make_sockaddr(const char *address, guint16 port, struct sockaddr_storage *ss) {
        memset(ss, 0, sizeof(*ss));
        if (strchr(address, ':')) {
                struct sockaddr_in6 *sa6 = (struct sockaddr_in6 *) ss;
                sa6->sin6_family = AF_INET6;
                sa6->sin6_port = htons(port);
                g_assert_cmpint(inet_pton(AF_INET6, address, &sa6->sin6_addr), ==, 1);
                return sizeof(*sa6);
        }
        struct sockaddr_in *sa = (struct sockaddr_in *) ss;
        sa->sin_family = AF_INET;
        sa->sin_port = htons(port);
        g_assert_cmpint(inet_pton(AF_INET, address, &sa->sin_addr), ==, 1);
        return sizeof(*sa);
}

static guint16 sockaddr_port(const struct sockaddr_storage *ss) {
        if (ss->ss_family == AF_INET6)
                return ntohs(((const struct sockaddr_in6 *) ss)->sin6_port);
        return ntohs(((const struct sockaddr_in *) ss)->sin_port);
}

static char *sockaddr_address(const struct sockaddr_storage *ss) {
        char buf[INET6_ADDRSTRLEN];
        if (ss->ss_family == AF_INET6)
                inet_ntop(AF_INET6, &((const struct sockaddr_in6 *) ss)->sin6_addr, buf, sizeof(buf));
        else
                inet_ntop(AF_INET, &((const struct sockaddr_in *) ss)->sin_addr, buf, sizeof(buf));
        return g_strdup(buf);
}

/* Binds a TCP socket to address with an ephemeral port. */
static int bind_ephemeral(const char *address, guint16 *ret_port) {
        struct sockaddr_storage ss;
        socklen_t len = make_sockaddr(address, 0, &ss);
        int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        g_assert_cmpint(fd, >=, 0);
        if (bind(fd, (struct sockaddr *) &ss, len) < 0)
                g_error("bind to %s: %s", address, g_strerror(errno));
        len = sizeof(ss);
        g_assert_cmpint(getsockname(fd, (struct sockaddr *) &ss, &len), ==, 0);
        *ret_port = sockaddr_port(&ss);
        return fd;
}

gboolean harness_ipv6_loopback_usable(void) {
        struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
        int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
        gboolean ok;

        if (fd < 0)
                return FALSE;
        ok = bind(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0;
        close(fd);
        return ok;
}

static gpointer target_accept_thread(gpointer data) {
        HarnessPeer *p = data;

        for (;;) {
                struct pollfd fds[2] = {
                        { .fd = p->listen_fd, .events = POLLIN },
                        { .fd = p->wake_fds[0], .events = POLLIN },
                };
                if (poll(fds, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (fds[1].revents)
                        break;
                struct sockaddr_storage ss;
                socklen_t len = sizeof(ss);
                int fd = accept4(p->listen_fd, (struct sockaddr *) &ss, &len, SOCK_CLOEXEC);
                if (fd < 0)
                        continue;

                g_mutex_lock(&p->lock);
                g_free(p->last_source);
                p->last_source = sockaddr_address(&ss);
                g_mutex_unlock(&p->lock);
                g_atomic_int_inc(&p->connections);

                /* A stuck client must not keep a thread forever. */
                struct timeval tv = { .tv_sec = 10 };
                (void) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

                TargetConnection *c = g_new0(TargetConnection, 1);
                c->fd = fd;
                c->target_names = g_strdupv(p->target_names);
                g_mutex_lock(&p->lock);
                c->chap_username = g_strdup(p->chap_username);
                c->chap_secret = g_strdup(p->chap_secret);
                c->mutual_username = g_strdup(p->mutual_username);
                c->mutual_secret = g_strdup(p->mutual_secret);
                c->quirks = p->quirks;
                g_mutex_unlock(&p->lock);
                c->logouts = g_atomic_rc_box_acquire(p->logouts);
                c->portal = strchr(p->address, ':') ? g_strdup_printf("[%s]:%u,1", p->address, p->port)
                                                    : g_strdup_printf("%s:%u,1", p->address, p->port);
                harness_target_serve(c);
        }
        return NULL;
}

HarnessPeer *harness_peer_new(HarnessPeerKind kind, const char *address, const char *const *target_names) {
        HarnessPeer *p = g_new0(HarnessPeer, 1);

        p->kind = kind;
        p->address = g_strdup(address);
        p->listen_fd = -1;
        p->filler_fd = -1;
        p->wake_fds[0] = p->wake_fds[1] = -1;
        p->target_names = g_strdupv((char **) target_names);
        p->logouts = g_atomic_rc_box_new0(gint);
        g_mutex_init(&p->lock);

        switch (kind) {
        case HARNESS_PEER_REFUSING: {
                /* A port that was just ours and is now closed: nobody listens there. */
                int fd = bind_ephemeral(address, &p->port);
                close(fd);
                break;
        }
        case HARNESS_PEER_BLACK_HOLE: {
                /*
                 * Linux admits backlog + 1 connections to the accept queue
                 * and drops SYNs once it is full, so with backlog 0 and one
                 * never-accepted connection in the queue every later connect
                 * hangs in SYN_SENT until the client gives up.
                 */
                p->listen_fd = bind_ephemeral(address, &p->port);
                g_assert_cmpint(listen(p->listen_fd, 0), ==, 0);
                struct sockaddr_storage ss;
                socklen_t len = make_sockaddr(address, p->port, &ss);
                p->filler_fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
                g_assert_cmpint(p->filler_fd, >=, 0);
                if (connect(p->filler_fd, (struct sockaddr *) &ss, len) < 0)
                        g_error("filling the black hole's accept queue: %s", g_strerror(errno));
                break;
        }
        case HARNESS_PEER_TARGET:
                p->listen_fd = bind_ephemeral(address, &p->port);
                g_assert_cmpint(listen(p->listen_fd, 64), ==, 0);
                g_assert_cmpint(pipe2(p->wake_fds, O_CLOEXEC), ==, 0);
                p->thread = g_thread_new("target-accept", target_accept_thread, p);
                break;
        }
        return p;
}

void harness_peer_free(HarnessPeer *p) {
        if (!p)
                return;
        if (p->thread) {
                (void) write(p->wake_fds[1], "x", 1);
                g_thread_join(p->thread);
        }
        if (p->wake_fds[0] >= 0)
                close(p->wake_fds[0]);
        if (p->wake_fds[1] >= 0)
                close(p->wake_fds[1]);
        if (p->filler_fd >= 0)
                close(p->filler_fd);
        if (p->listen_fd >= 0)
                close(p->listen_fd);
        g_strfreev(p->target_names);
        g_free(p->last_source);
        g_free(p->chap_username);
        g_free(p->chap_secret);
        g_free(p->mutual_username);
        g_free(p->mutual_secret);
        g_atomic_rc_box_release(p->logouts);
        g_mutex_clear(&p->lock);
        g_free(p->address);
        g_free(p);
}

/* Replaces a pair of credentials the accept thread copies for each new connection. */
static void set_credentials(HarnessPeer *p, char **username_slot, char **secret_slot, const char *username,
                            const char *secret) {
        g_mutex_lock(&p->lock);
        g_free(*username_slot);
        g_free(*secret_slot);
        *username_slot = g_strdup(username);
        *secret_slot = g_strdup(secret);
        g_mutex_unlock(&p->lock);
}

void harness_peer_require_chap(HarnessPeer *p, const char *username, const char *secret) {
        set_credentials(p, &p->chap_username, &p->chap_secret, username, secret);
}

void harness_peer_require_mutual_chap(HarnessPeer *p, const char *username, const char *secret,
                                      const char *mutual_username, const char *mutual_secret) {
        harness_peer_require_chap(p, username, secret);
        set_credentials(p, &p->mutual_username, &p->mutual_secret, mutual_username, mutual_secret);
}

void harness_peer_set_quirks(HarnessPeer *p, unsigned quirks) {
        g_mutex_lock(&p->lock);
        p->quirks = quirks;
        g_mutex_unlock(&p->lock);
}

guint harness_peer_logouts(const HarnessPeer *p) {
        return (guint) g_atomic_int_get(p->logouts);
}

guint16 harness_peer_port(const HarnessPeer *p) {
        return p->port;
}

const char *harness_peer_address(const HarnessPeer *p) {
        return p->address;
}

guint harness_peer_connections(const HarnessPeer *p) {
        return (guint) g_atomic_int_get(&p->connections);
}

char *harness_peer_last_source(const HarnessPeer *p) {
        HarnessPeer *mp = (HarnessPeer *) p;
        char *s;

        g_mutex_lock(&mp->lock);
        s = g_strdup(mp->last_source);
        g_mutex_unlock(&mp->lock);
        return s;
}
