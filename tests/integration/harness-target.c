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

/* What one connection has negotiated so far. */
typedef struct Session {
        TargetConnection *c;
        guint32 stat_sn;
        gboolean normal_session;
        gboolean authenticated;
        guint8 chap_id;
        guint8 challenge[16];
        char *chap_name;
        char *chap_response;
        GByteArray *mutual_challenge;   /* the initiator's challenge to us, for mutual CHAP */
        int mutual_id;
        char *session_target;
} Session;

/* One PDU from the initiator and the answer being built for it. */
typedef struct Exchange {
        const guint8 *bhs;
        char **keys;                    /* its data segment's "key=value" pairs */
        guint32 cmd_sn;
        guint32 next_cmd_sn;            /* the ExpCmdSN that acknowledges it */
        guint8 reply[BHS_SIZE];
        GString *out;                   /* the answer's keys */
        guint8 status_class;            /* a login answer's status; 0 is success */
        guint8 status_detail;
} Exchange;

#define LOGIN_AUTHENTICATION_FAILURE 1
#define LOGIN_NOT_FOUND 3

static void login_refuse(Exchange *x, guint8 detail) {
        x->status_class = 2;
        x->status_detail = detail;
}

/* Sets the answer's ExpCmdSN and a MaxCmdSN a window of eight beyond the request. */
static void reply_set_window(Exchange *x, guint32 exp_cmd_sn) {
        put_be32(x->reply + 28, exp_cmd_sn);
        put_be32(x->reply + 32, x->cmd_sn + 8);
}

/* CHAP_A: offers MD5 with a fresh identifier and challenge. */
static void login_offer_chap(Session *s, Exchange *x, const char *value) {
        g_auto(GStrv) algorithms = g_strsplit(value, ",", -1);

        if (!s->c->chap_username || !g_strv_contains((const char *const *) algorithms, "5")) {
                login_refuse(x, LOGIN_AUTHENTICATION_FAILURE);
                return;
        }
        s->chap_id = (guint8) g_random_int_range(0, 256);
        for (size_t k = 0; k < sizeof(s->challenge); k++)
                s->challenge[k] = (guint8) g_random_int_range(0, 256);
        g_autofree char *id_text = g_strdup_printf("%u", s->chap_id);
        g_autoptr(GString) hex = g_string_new("0x");
        for (size_t k = 0; k < sizeof(s->challenge); k++)
                g_string_append_printf(hex, "%02x", s->challenge[k]);
        append_key(x->out, "CHAP_A", "5");
        append_key(x->out, "CHAP_I", id_text);
        append_key(x->out, "CHAP_C", hex->str);
}

static void login_key(Session *s, Exchange *x, const char *key, const char *value) {
        TargetConnection *c = s->c;

        if (g_str_equal(key, "SessionType"))
                s->normal_session = g_str_equal(value, "Normal");
        else if (g_str_equal(key, "TargetName")) {
                g_free(s->session_target);
                s->session_target = g_strdup(value);
        } else if (g_str_equal(key, "AuthMethod")) {
                g_auto(GStrv) offered = g_strsplit(value, ",", -1);
                const char *want = c->chap_username ? "CHAP" : "None";
                if (!g_strv_contains((const char *const *) offered, want))
                        login_refuse(x, LOGIN_AUTHENTICATION_FAILURE);
                append_key(x->out, key, want);
        } else if (g_str_equal(key, "CHAP_A"))
                login_offer_chap(s, x, value);
        else if (g_str_equal(key, "CHAP_N")) {
                g_free(s->chap_name);
                s->chap_name = g_strdup(value);
        } else if (g_str_equal(key, "CHAP_R")) {
                g_free(s->chap_response);
                s->chap_response = g_ascii_strdown(value, -1);
        } else if (g_str_equal(key, "CHAP_I") && c->mutual_username)
                s->mutual_id = atoi(value);
        else if (g_str_equal(key, "CHAP_C") && c->mutual_username) {
                g_byte_array_set_size(s->mutual_challenge, 0);
                if (!chap_challenge_parse(value, s->mutual_challenge))
                        login_refuse(x, LOGIN_AUTHENTICATION_FAILURE);
        } else if (g_str_equal(key, "CHAP_I") || g_str_equal(key, "CHAP_C"))
                /* Mutual CHAP is not offered by this target. */
                login_refuse(x, LOGIN_AUTHENTICATION_FAILURE);
        else if (!g_str_equal(key, "InitiatorName") && !g_str_equal(key, "InitiatorAlias")) {
                g_autofree char *v = choose_value(value);
                append_key(x->out, key, v);
        }
}

/* Checks a CHAP_R that came, and answers the initiator's challenge when mutual CHAP is demanded. */
static void login_check_chap(Session *s, Exchange *x) {
        TargetConnection *c = s->c;

        if (!c->chap_username || !s->chap_response)
                return;
        g_autofree char *expected = chap_expected_response(s->chap_id, c->chap_secret, s->challenge,
                                                           sizeof(s->challenge));
        if (g_strcmp0(s->chap_name, c->chap_username) == 0 && g_str_equal(s->chap_response, expected))
                s->authenticated = TRUE;
        else
                login_refuse(x, LOGIN_AUTHENTICATION_FAILURE);
        g_clear_pointer(&s->chap_response, g_free);
        if (!s->authenticated || !c->mutual_username)
                return;
        /* A target that demands mutual CHAP refuses an initiator that does not challenge it. */
        if (s->mutual_id < 0 || s->mutual_challenge->len == 0) {
                s->authenticated = FALSE;
                login_refuse(x, LOGIN_AUTHENTICATION_FAILURE);
                return;
        }
        g_autofree char *answer = chap_expected_response((guint8) s->mutual_id, c->mutual_secret,
                                                         s->mutual_challenge->data, s->mutual_challenge->len);
        append_key(x->out, "CHAP_N", c->mutual_username);
        append_key(x->out, "CHAP_R", answer);
}

static gboolean answer_login(Session *s, Exchange *x) {
        TargetConnection *c = s->c;
        guint8 flags = x->bhs[1];
        gboolean transit = flags & 0x80;
        guint8 csg = (flags >> 2) & 3, nsg = flags & 3;

        for (size_t i = 0; x->keys[i]; i++) {
                char *eq = strchr(x->keys[i], '=');
                if (!eq)
                        continue;
                *eq = '\0';
                login_key(s, x, x->keys[i], eq + 1);
        }
        login_check_chap(s, x);
        /* Nobody leaves the security stage without having authenticated. */
        if (!s->authenticated && csg != 0)
                login_refuse(x, LOGIN_AUTHENTICATION_FAILURE);
        if (!s->authenticated)
                transit = FALSE;
        if (s->normal_session &&
            (!s->session_target || !c->target_names ||
             !g_strv_contains((const char *const *) c->target_names, s->session_target)))
                login_refuse(x, LOGIN_NOT_FOUND);

        x->reply[0] = 0x23;
        x->reply[1] = transit ? (0x80 | (csg << 2) | nsg) : (csg << 2);
        memcpy(x->reply + 8, x->bhs + 8, 6); /* ISID */
        if (transit && nsg == 3)
                x->reply[15] = 1; /* TSIH */
        reply_set_window(x, x->cmd_sn);
        x->reply[36] = x->status_class;
        x->reply[37] = x->status_detail;
        const GString *data = x->status_class ? NULL : x->out;
        gboolean sent = (c->quirks & HARNESS_QUIRK_LOGIN_TRICKLE) ? send_pdu_trickled(c->fd, x->reply, data)
                                                                  : send_pdu(c->fd, x->reply, data);
        return sent && !x->status_class;
}

static gboolean answer_text(Session *s, Exchange *x) {
        TargetConnection *c = s->c;

        x->reply[0] = 0x24;
        x->reply[1] = 0x80;
        put_be32(x->reply + 20, 0xffffffff);
        if (c->quirks & HARNESS_QUIRK_TEXT_OVERSIZED) {
                /* The header alone, announcing 16 MiB - 1; the connection stays open. */
                x->reply[5] = x->reply[6] = x->reply[7] = 0xff;
                reply_set_window(x, x->next_cmd_sn);
                return write_full(c->fd, x->reply, BHS_SIZE);
        }
        for (size_t i = 0; x->keys[i]; i++)
                if (g_str_has_prefix(x->keys[i], "SendTargets="))
                        for (size_t j = 0; c->target_names && c->target_names[j]; j++) {
                                append_key(x->out, "TargetName", c->target_names[j]);
                                append_key(x->out, "TargetAddress", c->portal);
                        }
        reply_set_window(x, (c->quirks & HARNESS_QUIRK_CMDSN_SLIP) ? x->cmd_sn + 1 : x->next_cmd_sn);
        return send_pdu(c->fd, x->reply, x->out);
}

static gboolean answer_nop(Session *s, Exchange *x) {
        /* A NOP-Out with the reserved task tag asks for no answer. */
        if (get_be32(x->bhs + 16) == 0xffffffff)
                return TRUE;
        x->reply[0] = 0x20;
        x->reply[1] = 0x80;
        put_be32(x->reply + 20, 0xffffffff);
        reply_set_window(x, x->next_cmd_sn);
        return send_pdu(s->c->fd, x->reply, NULL);
}

/* Returns whether to keep the connection open: only a target that never answers a logout does. */
static gboolean answer_logout(Session *s, Exchange *x) {
        TargetConnection *c = s->c;

        g_atomic_int_inc(c->logouts);
        if (c->quirks & HARNESS_QUIRK_LOGOUT_CLOSES)
                return FALSE;
        if (c->quirks & HARNESS_QUIRK_LOGOUT_SILENT)
                return TRUE;    /* until the initiator gives up and closes */
        x->reply[0] = 0x26;
        x->reply[1] = 0x80;
        reply_set_window(x, x->next_cmd_sn);
        (void) send_pdu(c->fd, x->reply, NULL);
        return FALSE;
}

/* Answers one PDU; FALSE closes the connection. */
static gboolean answer(Session *s, Exchange *x) {
        switch (x->bhs[0] & 0x3f) {
        case ISCSI_OP_LOGIN:
                return answer_login(s, x);
        case ISCSI_OP_TEXT:
                return answer_text(s, x);
        case ISCSI_OP_NOP_OUT:
                return answer_nop(s, x);
        case ISCSI_OP_LOGOUT:
                return answer_logout(s, x);
        default:
                return FALSE;
        }
}

/* Reads one PDU's header and its AHS and data, padded; the data segment's keys go to ret_keys. */
static gboolean read_pdu(int fd, guint8 bhs[BHS_SIZE], char ***ret_keys) {
        if (!read_full(fd, bhs, BHS_SIZE))
                return FALSE;
        size_t ahs = (size_t) bhs[4] * 4;
        size_t dlen = ((size_t) bhs[5] << 16) | ((size_t) bhs[6] << 8) | bhs[7];
        size_t padded = ahs + dlen + (4 - dlen % 4) % 4;
        g_autofree guint8 *payload = g_malloc(padded + 1);
        if (padded > 0 && !read_full(fd, payload, padded))
                return FALSE;
        *ret_keys = parse_keys(payload + ahs, dlen);
        return TRUE;
}

static void target_connection_free(TargetConnection *c) {
        close(c->fd);
        g_strfreev(c->target_names);
        g_free(c->portal);
        g_free(c->chap_username);
        g_free(c->chap_secret);
        g_free(c->mutual_username);
        g_free(c->mutual_secret);
        g_atomic_rc_box_release(c->logouts);
        g_free(c);
}

static gpointer target_connection_thread(gpointer data) {
        TargetConnection *c = data;
        Session s = {
                .c = c,
                .stat_sn = 1,
                /* RFC 7143: SessionType defaults to Normal. */
                .normal_session = TRUE,
                .authenticated = !c->chap_username,
                .mutual_challenge = g_byte_array_new(),
                .mutual_id = -1,
        };

        for (;;) {
                guint8 bhs[BHS_SIZE];
                g_auto(GStrv) keys = NULL;

                if (!read_pdu(c->fd, bhs, &keys))
                        break;
                g_autoptr(GString) out = g_string_new(NULL);
                Exchange x = { .bhs = bhs, .keys = keys, .cmd_sn = get_be32(bhs + 24), .out = out };
                /* Immediate commands do not advance CmdSN (RFC 7143 3.2.2.1). */
                x.next_cmd_sn = (bhs[0] & 0x40) ? x.cmd_sn : x.cmd_sn + 1;
                memcpy(x.reply + 16, bhs + 16, 4); /* Initiator Task Tag */
                put_be32(x.reply + 24, s.stat_sn++);
                if (!answer(&s, &x))
                        break;
        }

        g_free(s.chap_name);
        g_free(s.chap_response);
        g_byte_array_unref(s.mutual_challenge);
        g_free(s.session_target);
        target_connection_free(c);
        return NULL;
}

void harness_target_serve(TargetConnection *c) {
        g_thread_unref(g_thread_new("target-connection", target_connection_thread, c));
}
