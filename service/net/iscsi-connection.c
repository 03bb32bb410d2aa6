/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Bound connections for libiscsi; see iscsi-connection.h.
 *
 * libiscsi's asynchronous connect cannot be bound to a source address:
 * iscsi_set_bind_interfaces() is SO_BINDTODEVICE, an interface, not an
 * address (on loopback it changes nothing at all). Letting libiscsi open its
 * own unbound connection would log in from whatever address routing picks,
 * and an initiator-address ACL on the target (tgt's -I) would then judge
 * the wrong address.
 *
 * So libiscsi speaks over our socket. iscsi_connect_async() creates its
 * socket and starts connecting before it returns; from then on libiscsi
 * knows that socket only by its descriptor number, the one iscsi_get_fd()
 * hands out for event loops. We let it connect to a throwaway listener of
 * our own on loopback, so nothing of it reaches the peer, and dup3() our
 * connected, bound socket onto that number. libiscsi then sees its connect
 * complete (POLLOUT, SO_ERROR 0) and runs the session on our connection,
 * which iscsi_destroy_context() closes. This relies only on libiscsi doing
 * its I/O through that number, which its event-loop API already presumes.
 */

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iscsi-connection.h"
#include "util/macros.h"

int iscsi_connection_parse_address(const char *s, uint16_t port, struct sockaddr_storage *ret, socklen_t *ret_len) {
        const struct addrinfo hints = {
                .ai_family = AF_UNSPEC,
                .ai_socktype = SOCK_STREAM,
                .ai_protocol = IPPROTO_TCP,
                .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
        };
        struct addrinfo *ai = NULL;
        char service[8];
        int r;

        if (!s || !*s)
                return -EINVAL;
        snprintf(service, sizeof(service), "%u", (unsigned) port);
        r = getaddrinfo(s, service, &hints, &ai);
        if (r == EAI_MEMORY)
                return -ENOMEM;
        if (r != 0)
                return -EINVAL;
        if (ai->ai_addrlen > sizeof(*ret)) {
                freeaddrinfo(ai);
                return -EINVAL;
        }
        memset(ret, 0, sizeof(*ret));
        memcpy(ret, ai->ai_addr, ai->ai_addrlen);
        *ret_len = ai->ai_addrlen;
        freeaddrinfo(ai);
        return 0;
}

int iscsi_connection_connect_bound(const struct sockaddr_storage *source, socklen_t source_len,
                                   const struct sockaddr *destination, socklen_t destination_len,
                                   int *ret_bind_error) {
        static const int one = 1;
        _cleanup_close_ int fd = -1;

        *ret_bind_error = 0;
        if (source_len > 0 && source->ss_family != destination->sa_family) {
                *ret_bind_error = EAFNOSUPPORT;
                return -EADDRNOTAVAIL;
        }

        fd = socket(destination->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
        if (fd < 0)
                return negative_errno();

        if (source_len > 0) {
                /* Leave the port to connect(), so bound connections do not each
                 * pin an ephemeral port for every destination. */
                (void) setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
                if (bind(fd, (const struct sockaddr *) source, source_len) < 0) {
                        *ret_bind_error = errno;
                        return -EADDRNOTAVAIL;
                }
        }

        /* Even on loopback, where connect() may finish at once, the caller
         * hears of it through its loop. */
        if (connect(fd, destination, destination_len) < 0 && errno != EINPROGRESS)
                return negative_errno();
        return TAKE_FD(fd);
}

/* A listener on loopback for libiscsi's own connect to land on; "host:port" in portal. */
static int decoy_listener_open(char *portal, size_t size) {
        static const struct {
                int family;
                const char *text;
        } loopbacks[] = {
                { AF_INET, "127.0.0.1" },
                { AF_INET6, "::1" },
        };
        int error = -EAFNOSUPPORT;

        for (size_t i = 0; i < ELEMENTSOF(loopbacks); i++) {
                struct sockaddr_storage ss = { .ss_family = loopbacks[i].family };
                socklen_t len;
                uint16_t port;
                int fd;

                if (loopbacks[i].family == AF_INET) {
                        ((struct sockaddr_in *) &ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
                        len = sizeof(struct sockaddr_in);
                } else {
                        ((struct sockaddr_in6 *) &ss)->sin6_addr = in6addr_loopback;
                        len = sizeof(struct sockaddr_in6);
                }

                fd = socket(loopbacks[i].family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
                if (fd < 0) {
                        error = negative_errno();
                        continue;
                }
                if (bind(fd, (struct sockaddr *) &ss, len) < 0 || listen(fd, 1) < 0 ||
                    getsockname(fd, (struct sockaddr *) &ss, &len) < 0) {
                        error = negative_errno();
                        close(fd);
                        continue;
                }

                port = ntohs(loopbacks[i].family == AF_INET ? ((struct sockaddr_in *) &ss)->sin_port
                                                            : ((struct sockaddr_in6 *) &ss)->sin6_port);
                if (loopbacks[i].family == AF_INET6)
                        snprintf(portal, size, "[%s]:%u", loopbacks[i].text, (unsigned) port);
                else
                        snprintf(portal, size, "%s:%u", loopbacks[i].text, (unsigned) port);
                return fd;
        }
        return error;
}

int iscsi_connection_adopt(struct iscsi_context *iscsi, int *fd, iscsi_command_cb callback, void *userdata) {
        _cleanup_close_ int decoy = -1;
        char decoy_portal[INET6_ADDRSTRLEN + 16];
        static const int one = 1;
        int libiscsi_fd;

        decoy = decoy_listener_open(decoy_portal, sizeof(decoy_portal));
        if (decoy < 0)
                return decoy;
        if (iscsi_connect_async(iscsi, decoy_portal, callback, userdata) < 0)
                return -EPROTO;
        libiscsi_fd = iscsi_get_fd(iscsi);
        if (libiscsi_fd < 0 || libiscsi_fd == *fd)
                return -EBADF;
        /* libiscsi sets it on sockets it makes; small PDUs are answered one by one. */
        (void) setsockopt(*fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (dup3(*fd, libiscsi_fd, O_CLOEXEC) < 0)
                return negative_errno();
        closep(fd);
        *fd = -1;
        return 0;
}

static void connection_cork(int fd, bool on) {
        int value = on;

        (void) setsockopt(fd, IPPROTO_TCP, TCP_CORK, &value, sizeof(value));
}

int iscsi_connection_send(struct iscsi_context *iscsi) {
        int fd = iscsi_get_fd(iscsi), r;

        connection_cork(fd, true);
        r = iscsi_service(iscsi, POLLOUT);
        connection_cork(fd, false);
        return r;
}

/*
 * libiscsi keeps the credentials in its context and clears it with a
 * memset() right before free(), a store a compiler may drop. Overwriting
 * them through its own setters first, with values of the full length its
 * buffers hold, replaces every byte a secret occupied.
 */
void iscsi_connection_forget_credentials(struct iscsi_context *iscsi) {
        char filler[MAX_STRING_SIZE + 1];

        memset(filler, 'x', MAX_STRING_SIZE);
        filler[MAX_STRING_SIZE] = '\0';
        (void) iscsi_set_initiator_username_pwd(iscsi, filler, filler);
        (void) iscsi_set_target_username_pwd(iscsi, filler, filler);
}

bool iscsi_connection_error_status(const char *text, unsigned *ret_status) {
        const char *status_text = text ? strstr(text, "Status: ") : NULL;
        const char *open;
        char *end = NULL;
        long status;

        if (!status_text)
                return false;
        open = strrchr(status_text, '(');
        status = open ? strtol(open + 1, &end, 10) : -1;
        if (!end || end == open + 1 || *end != ')' || status < 0 || status > 0xffff)
                return false;
        *ret_status = (unsigned) status;
        return true;
}

int iscsi_connection_login_status(unsigned status, const char **ret_text, Reason *ret_reason) {
        static const struct {
                unsigned status;
                int error;
                const char *text;
        } table[] = {
                { 0x0200, -EPROTO, "initiator error" },
                { 0x0201, -EACCES, "authentication failed" },
                { 0x0202, -EACCES, "not authorized" },
                { 0x0203, -ENOENT, "target not found" },
                { 0x0204, -ENOENT, "target removed" },
                { 0x0205, -EPROTO, "unsupported iSCSI version" },
                { 0x0206, -EPROTO, "too many connections" },
                { 0x0207, -EPROTO, "missing parameter" },
                { 0x0208, -EPROTO, "cannot include the connection in the session" },
                { 0x0209, -EPROTO, "session type not supported" },
                { 0x020a, -EPROTO, "session does not exist" },
                { 0x020b, -EPROTO, "request invalid during login" },
                { 0x0300, -EPROTO, "target error" },
                { 0x0301, -EPROTO, "service unavailable" },
                { 0x0302, -EPROTO, "target out of resources" },
        };

        *ret_reason = status == 0x0201 ? REASON_AUTHENTICATION_FAILED : REASON_LOGIN_REJECTED;
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (table[i].status == status) {
                        *ret_text = table[i].text;
                        return table[i].error;
                }
        *ret_text = NULL;
        return -EPROTO;
}

char *iscsi_connection_sanitize(char *buf, size_t size, const char *s) {
        size_t n = 0;

        for (; s && *s && n + 1 < size; s++)
                buf[n++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
        while (n > 0 && (buf[n - 1] == '.' || buf[n - 1] == ' '))
                n--;
        buf[n] = '\0';
        return buf;
}
