/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What every iSCSI conversation of the service needs before and around a
 * libiscsi session: a TCP socket bound to the local access point's address,
 * handed to libiscsi (which cannot bind to an address itself), and the
 * credentials wiped from libiscsi's context before it is freed. Shared by
 * the verification probes and the replica data path, so both log in from
 * the same address the same way.
 */

#include <iscsi/iscsi.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/reason.h"

/*
 * Parses an IP literal (v4, or v6 with an optional %scope) and port into
 * ret/ret_len. -EINVAL when s is not an IP literal, -ENOMEM.
 */
int iscsi_connection_parse_address(const char *s, uint16_t port, struct sockaddr_storage *ret, socklen_t *ret_len);

/*
 * Opens a non-blocking TCP socket, bound to source first when source_len is
 * not 0 (the port is left to connect()), and starts connecting it to
 * destination. Returns the socket, connecting or connected: the caller waits
 * for EPOLLOUT and reads SO_ERROR. When the source cannot be bound (or is of
 * another family) it returns -EADDRNOTAVAIL and sets *ret_bind_error to the
 * errno why; otherwise *ret_bind_error is 0 and a failure is the negative
 * errno of socket() or connect().
 */
int iscsi_connection_connect_bound(const struct sockaddr_storage *source, socklen_t source_len,
                                   const struct sockaddr *destination, socklen_t destination_len,
                                   int *ret_bind_error);

/*
 * Makes iscsi run its session over fd, a connected TCP socket, which it
 * takes over on success (*fd becomes -1; iscsi_destroy_context() closes it).
 * callback is the one of iscsi_connect_async(): it reports the connection
 * as complete on the next iscsi_service(). Negative errno on failure; then
 * *fd is untouched and iscsi_get_error() may say more.
 */
int iscsi_connection_adopt(struct iscsi_context *iscsi, int *fd, iscsi_command_cb callback, void *userdata);

/*
 * Sends what libiscsi has queued on an adopted connection, corked: it
 * sends each PDU with two system calls, header and data, on a TCP_NODELAY
 * socket, and a target that takes 8 KiB per PDU (tgt's and LIO's default
 * MaxRecvDataSegmentLength) would get a 1 MiB write as 128 pairs of small
 * segments, each a trip through the stack and a wake-up on the other side.
 * Corked, what one call sends leaves in full segments, and uncorking at
 * the end sends the rest at once, so nothing waits. Returns what
 * iscsi_service() returns.
 */
int iscsi_connection_send(struct iscsi_context *iscsi);

/* Overwrites every credential byte libiscsi holds, before its context is freed. */
void iscsi_connection_forget_credentials(struct iscsi_context *iscsi);

/* The Login Response status in libiscsi's text for a rejected login ("… Status: <text>(<number>)"). */
bool iscsi_connection_error_status(const char *text, unsigned *ret_status);

/*
 * The meaning of a Login Response status (RFC 7143 11.13.5) as errno,
 * reason and text (NULL when the status is not a known one): every
 * rejection is LoginRejected but the one for credentials.
 */
int iscsi_connection_login_status(unsigned status, const char **ret_text, Reason *ret_reason);

/* Text from a peer or from libiscsi, made safe for a message: printable ASCII, no final period. */
char *iscsi_connection_sanitize(char *buf, size_t size, const char *s);
