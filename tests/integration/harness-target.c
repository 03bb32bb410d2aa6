/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * A minimal iSCSI target (RFC 7143): enough of Login, Text (SendTargets),
 * NOP and Logout for a discovery session and a normal session, without
 * authentication, with one-way CHAP (RFC 1994, MD5) or with mutual CHAP,
 * and with the quirks of HarnessPeerQuirk. Each connection runs in its own
 * thread so a slow client never holds up another probe. See harness.h.
 */

#include "harness-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* CHAP_R as the initiator must compute it: MD5(id || secret || challenge), "0x" + hex. */
static char *chap_expected_response(guint8 id, const char *secret, const guint8 *challenge, size_t len) {
        g_autoptr(GChecksum) md5 = g_checksum_new(G_CHECKSUM_MD5);
        g_checksum_update(md5, &id, 1);
        g_checksum_update(md5, (const guchar *) secret, strlen(secret));
        g_checksum_update(md5, challenge, len);
        return g_strconcat("0x", g_checksum_get_string(md5), NULL);
}

#define BHS_SIZE 48
#define ISCSI_OP_NOP_OUT 0x00
#define ISCSI_OP_LOGIN 0x03
#define ISCSI_OP_TEXT 0x04
#define ISCSI_OP_LOGOUT 0x06

static gboolean read_full(int fd, void *buf, size_t n) {
        guint8 *p = buf;
        while (n > 0) {
                ssize_t r = read(fd, p, n);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        return FALSE;
                p += r;
                n -= (size_t) r;
        }
        return TRUE;
}

static gboolean write_full(int fd, const void *buf, size_t n) {
        const guint8 *p = buf;
        while (n > 0) {
                ssize_t r = send(fd, p, n, MSG_NOSIGNAL);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        return FALSE;
                p += r;
                n -= (size_t) r;
        }
        return TRUE;
}

static guint32 get_be32(const guint8 *p) {
        return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

static void put_be32(guint8 *p, guint32 v) {
        p[0] = v >> 24;
        p[1] = v >> 16;
        p[2] = v >> 8;
        p[3] = v;
}

/* Sets the BHS's DataSegmentLength. */
static void set_data_length(guint8 bhs[BHS_SIZE], size_t len) {
        bhs[5] = len >> 16;
        bhs[6] = len >> 8;
        bhs[7] = len;
}

/* Pads a data segment of len bytes to a multiple of four. */
static gboolean write_padding(int fd, size_t len) {
        static const guint8 zeros[4] = { 0 };

        return write_full(fd, zeros, (4 - len % 4) % 4);
}

static gboolean send_pdu(int fd, guint8 bhs[BHS_SIZE], const GString *data) {
        size_t len = data ? data->len : 0;

        set_data_length(bhs, len);
        if (!write_full(fd, bhs, BHS_SIZE))
                return FALSE;
        if (len > 0 && !write_full(fd, data->str, len))
                return FALSE;
        return write_padding(fd, len);
}

/* As send_pdu(), but the header and the first bytes of the data go first, the rest after a pause. */
static gboolean send_pdu_trickled(int fd, guint8 bhs[BHS_SIZE], const GString *data) {
        size_t len = data ? data->len : 0, head = MIN(len, 4);
        g_autofree guint8 *first = g_malloc(BHS_SIZE + head);

        if (len == 0)
                return send_pdu(fd, bhs, data);
        set_data_length(bhs, len);
        memcpy(first, bhs, BHS_SIZE);
        memcpy(first + BHS_SIZE, data->str, head);
        if (!write_full(fd, first, BHS_SIZE + head))
                return FALSE;
        /* A slow sender: the initiator gets to see the first piece alone. */
        g_usleep(100 * G_TIME_SPAN_MILLISECOND);
        if (!write_full(fd, data->str + head, len - head))
                return FALSE;
        return write_padding(fd, len);
}

static void append_key(GString *out, const char *key, const char *value) {
        g_string_append_printf(out, "%s=%s", key, value);
        g_string_append_c(out, '\0');
}

/* Parses "key=value\0…" into a list of "key=value" strings. */
static char **parse_keys(const guint8 *data, size_t len) {
        g_autoptr(GStrvBuilder) b = g_strv_builder_new();
        size_t start = 0;

        for (size_t i = 0; i <= len; i++)
                if (i == len || data[i] == '\0') {
                        if (i > start) {
                                g_autofree char *key = g_strndup((const char *) data + start, i - start);
                                g_strv_builder_add(b, key);
                        }
                        start = i + 1;
                }
        return g_strv_builder_end(b);
}

/* The bytes of a CHAP_C value ("0x" + hex); FALSE when it is not one. */
static gboolean chap_challenge_parse(const char *value, GByteArray *ret) {
        if (!g_str_has_prefix(value, "0x") || strlen(value) % 2 != 0 || strlen(value) < 4)
                return FALSE;
        for (const char *c = value + 2; *c; c += 2) {
                int hi = g_ascii_xdigit_value(c[0]), lo = g_ascii_xdigit_value(c[1]);
                if (hi < 0 || lo < 0)
                        return FALSE;
                guint8 b = (guint8) (hi << 4 | lo);
                g_byte_array_append(ret, &b, 1);
        }
        return TRUE;
}

/* Picks our answer for a negotiated list: "None" when offered, else the first choice. */
static char *choose_value(const char *list) {
        g_auto(GStrv) choices = g_strsplit(list, ",", -1);
        for (size_t i = 0; choices[i]; i++)
                if (g_str_equal(choices[i], "None"))
                        return g_strdup("None");
        return g_strdup(choices[0] ? choices[0] : "");
}

static gpointer target_connection_thread(gpointer data) {
        TargetConnection *c = data;
        guint32 stat_sn = 1;
        /* RFC 7143: SessionType defaults to Normal. */
        gboolean normal_session = TRUE;
        gboolean authenticated = !c->chap_username;
        guint8 chap_id = 0;
        guint8 challenge[16];
        g_autofree char *chap_name = NULL, *chap_response = NULL;
        /* The initiator's challenge to us, for mutual CHAP. */
        g_autoptr(GByteArray) mutual_challenge = g_byte_array_new();
        int mutual_id = -1;
        g_autofree char *session_target = NULL;
        g_autofree guint8 *payload = NULL;

        for (;;) {
                guint8 bhs[BHS_SIZE], reply[BHS_SIZE] = { 0 };
                g_autoptr(GString) out = g_string_new(NULL);

                if (!read_full(c->fd, bhs, BHS_SIZE))
                        break;
                size_t ahs = (size_t) bhs[4] * 4;
                size_t dlen = ((size_t) bhs[5] << 16) | ((size_t) bhs[6] << 8) | bhs[7];
                size_t padded = ahs + dlen + (4 - dlen % 4) % 4;
                g_free(payload);
                payload = g_malloc(padded + 1);
                if (padded > 0 && !read_full(c->fd, payload, padded))
                        break;
                g_auto(GStrv) keys = parse_keys(payload + ahs, dlen);

                guint8 opcode = bhs[0] & 0x3f;
                guint32 cmd_sn = get_be32(bhs + 24);
                /* Immediate commands do not advance CmdSN (RFC 7143 3.2.2.1). */
                guint32 next_cmd_sn = (bhs[0] & 0x40) ? cmd_sn : cmd_sn + 1;
                memcpy(reply + 16, bhs + 16, 4); /* Initiator Task Tag */
                put_be32(reply + 24, stat_sn++);

                if (opcode == ISCSI_OP_LOGIN) {
                        guint8 flags = bhs[1];
                        gboolean transit = flags & 0x80;
                        guint8 csg = (flags >> 2) & 3, nsg = flags & 3;
                        guint8 status_class = 0, status_detail = 0;

                        for (size_t i = 0; keys[i]; i++) {
                                char *eq = strchr(keys[i], '=');
                                if (!eq)
                                        continue;
                                *eq = '\0';
                                const char *key = keys[i], *value = eq + 1;
                                if (g_str_equal(key, "SessionType"))
                                        normal_session = g_str_equal(value, "Normal");
                                else if (g_str_equal(key, "TargetName")) {
                                        g_free(session_target);
                                        session_target = g_strdup(value);
                                } else if (g_str_equal(key, "AuthMethod")) {
                                        g_auto(GStrv) offered = g_strsplit(value, ",", -1);
                                        const char *want = c->chap_username ? "CHAP" : "None";
                                        if (!g_strv_contains((const char *const *) offered, want)) {
                                                status_class = 2;
                                                status_detail = 1; /* Authentication Failure */
                                        }
                                        append_key(out, key, want);
                                } else if (g_str_equal(key, "CHAP_A")) {
                                        g_auto(GStrv) algorithms = g_strsplit(value, ",", -1);
                                        if (!c->chap_username ||
                                            !g_strv_contains((const char *const *) algorithms, "5")) {
                                                status_class = 2;
                                                status_detail = 1;
                                                continue;
                                        }
                                        chap_id = (guint8) g_random_int_range(0, 256);
                                        for (size_t k = 0; k < sizeof(challenge); k++)
                                                challenge[k] = (guint8) g_random_int_range(0, 256);
                                        g_autofree char *id_text = g_strdup_printf("%u", chap_id);
                                        g_autoptr(GString) hex = g_string_new("0x");
                                        for (size_t k = 0; k < sizeof(challenge); k++)
                                                g_string_append_printf(hex, "%02x", challenge[k]);
                                        append_key(out, "CHAP_A", "5");
                                        append_key(out, "CHAP_I", id_text);
                                        append_key(out, "CHAP_C", hex->str);
                                } else if (g_str_equal(key, "CHAP_N")) {
                                        g_free(chap_name);
                                        chap_name = g_strdup(value);
                                } else if (g_str_equal(key, "CHAP_R")) {
                                        g_free(chap_response);
                                        chap_response = g_ascii_strdown(value, -1);
                                } else if (g_str_equal(key, "CHAP_I") && c->mutual_username) {
                                        mutual_id = atoi(value);
                                } else if (g_str_equal(key, "CHAP_C") && c->mutual_username) {
                                        g_byte_array_set_size(mutual_challenge, 0);
                                        if (!chap_challenge_parse(value, mutual_challenge)) {
                                                status_class = 2;
                                                status_detail = 1;
                                        }
                                } else if (g_str_equal(key, "CHAP_I") || g_str_equal(key, "CHAP_C")) {
                                        /* Mutual CHAP is not offered by this target. */
                                        status_class = 2;
                                        status_detail = 1;
                                } else if (!g_str_equal(key, "InitiatorName") &&
                                           !g_str_equal(key, "InitiatorAlias")) {
                                        g_autofree char *v = choose_value(value);
                                        append_key(out, key, v);
                                }
                        }
                        if (c->chap_username && chap_response) {
                                g_autofree char *expected = chap_expected_response(chap_id, c->chap_secret,
                                                                                   challenge, sizeof(challenge));
                                if (g_strcmp0(chap_name, c->chap_username) == 0 &&
                                    g_str_equal(chap_response, expected))
                                        authenticated = TRUE;
                                else {
                                        status_class = 2;
                                        status_detail = 1;
                                }
                                g_clear_pointer(&chap_response, g_free);
                                /* A target that demands mutual CHAP refuses an initiator that does not challenge it. */
                                if (authenticated && c->mutual_username) {
                                        if (mutual_id < 0 || mutual_challenge->len == 0) {
                                                authenticated = FALSE;
                                                status_class = 2;
                                                status_detail = 1;
                                        } else {
                                                g_autofree char *answer = chap_expected_response(
                                                        (guint8) mutual_id, c->mutual_secret, mutual_challenge->data,
                                                        mutual_challenge->len);
                                                append_key(out, "CHAP_N", c->mutual_username);
                                                append_key(out, "CHAP_R", answer);
                                        }
                                }
                        }
                        /* Nobody leaves the security stage without having authenticated. */
                        if (!authenticated && csg != 0) {
                                status_class = 2;
                                status_detail = 1;
                        }
                        if (!authenticated)
                                transit = FALSE;
                        if (normal_session &&
                            (!session_target || !c->target_names ||
                             !g_strv_contains((const char *const *) c->target_names, session_target))) {
                                status_class = 2;
                                status_detail = 3; /* Not Found */
                        }

                        reply[0] = 0x23;
                        reply[1] = transit ? (0x80 | (csg << 2) | nsg) : (csg << 2);
                        memcpy(reply + 8, bhs + 8, 6); /* ISID */
                        if (transit && nsg == 3)
                                reply[15] = 1; /* TSIH */
                        put_be32(reply + 28, cmd_sn);
                        put_be32(reply + 32, cmd_sn + 8);
                        reply[36] = status_class;
                        reply[37] = status_detail;
                        gboolean sent = (c->quirks & HARNESS_QUIRK_LOGIN_TRICKLE)
                                                ? send_pdu_trickled(c->fd, reply, status_class ? NULL : out)
                                                : send_pdu(c->fd, reply, status_class ? NULL : out);
                        if (!sent || status_class)
                                break;
                } else if (opcode == ISCSI_OP_TEXT && (c->quirks & HARNESS_QUIRK_TEXT_OVERSIZED)) {
                        /* The header alone, announcing 16 MiB - 1; the connection stays open. */
                        reply[0] = 0x24;
                        reply[1] = 0x80;
                        reply[5] = reply[6] = reply[7] = 0xff;
                        put_be32(reply + 20, 0xffffffff);
                        put_be32(reply + 28, next_cmd_sn);
                        put_be32(reply + 32, cmd_sn + 8);
                        if (!write_full(c->fd, reply, BHS_SIZE))
                                break;
                } else if (opcode == ISCSI_OP_TEXT) {
                        for (size_t i = 0; keys[i]; i++)
                                if (g_str_has_prefix(keys[i], "SendTargets="))
                                        for (size_t j = 0; c->target_names && c->target_names[j]; j++) {
                                                append_key(out, "TargetName", c->target_names[j]);
                                                append_key(out, "TargetAddress", c->portal);
                                        }
                        reply[0] = 0x24;
                        reply[1] = 0x80;
                        put_be32(reply + 20, 0xffffffff);
                        put_be32(reply + 28, (c->quirks & HARNESS_QUIRK_CMDSN_SLIP) ? cmd_sn + 1 : next_cmd_sn);
                        put_be32(reply + 32, cmd_sn + 8);
                        if (!send_pdu(c->fd, reply, out))
                                break;
                } else if (opcode == ISCSI_OP_NOP_OUT) {
                        if (get_be32(bhs + 16) == 0xffffffff)
                                continue;
                        reply[0] = 0x20;
                        reply[1] = 0x80;
                        put_be32(reply + 20, 0xffffffff);
                        put_be32(reply + 28, next_cmd_sn);
                        put_be32(reply + 32, cmd_sn + 8);
                        if (!send_pdu(c->fd, reply, NULL))
                                break;
                } else if (opcode == ISCSI_OP_LOGOUT) {
                        g_atomic_int_inc(c->logouts);
                        if (c->quirks & HARNESS_QUIRK_LOGOUT_CLOSES)
                                break;
                        if (c->quirks & HARNESS_QUIRK_LOGOUT_SILENT)
                                continue;       /* until the initiator gives up and closes */
                        reply[0] = 0x26;
                        reply[1] = 0x80;
                        put_be32(reply + 28, next_cmd_sn);
                        put_be32(reply + 32, cmd_sn + 8);
                        (void) send_pdu(c->fd, reply, NULL);
                        break;
                } else
                        break;
        }

        close(c->fd);
        g_strfreev(c->target_names);
        g_free(c->portal);
        g_free(c->chap_username);
        g_free(c->chap_secret);
        g_free(c->mutual_username);
        g_free(c->mutual_secret);
        g_atomic_rc_box_release(c->logouts);
        g_free(c);
        return NULL;
}

void harness_target_serve(TargetConnection *c) {
        g_thread_unref(g_thread_new("target-connection", target_connection_thread, c));
}
