/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/validate: the value rules of the contract. Addresses are loopback or
 * documentation addresses (RFC 5737, RFC 3849), so nothing leaves the host.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/validate.h"

static char *repeat(char c, size_t n) {
        char *s = g_malloc(n + 1);

        memset(s, c, n);
        s[n] = 0;
        return s;
}

/* ---- string properties ---- */

static void test_string_property_accepts(void) {
        g_autofree char *max = repeat('x', STRING_PROPERTY_MAX);
        const char *good[] = { "", "collection one", "Grüße aus Köln", "日本語", "emoji \xf0\x9f\x98\x80", max };

        for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
                ReplError e = REPL_ERROR_INIT;

                g_assert_cmpint(validate_string_property(good[i], "ElementName", &e), ==, 0);
                g_assert_cmpint(e.error, ==, 0);
        }
}

static void test_string_property_too_long(void) {
        g_autofree char *s256 = repeat('x', STRING_PROPERTY_MAX + 1);
        g_autofree char *s300 = repeat('y', 300);
        ReplError e = REPL_ERROR_INIT;

        g_assert_cmpint(validate_string_property(s256, "ElementName", &e), ==, -EINVAL);
        g_assert_cmpint(e.error, ==, -EINVAL);
        g_assert_cmpstr(e.message, ==, "ElementName is 256 bytes long; at most 255 are allowed.");

        repl_error_clear(&e);
        g_assert_cmpint(validate_string_property(s300, "ElementName", &e), ==, -EINVAL);
        g_assert_cmpstr(e.message, ==, "ElementName is 300 bytes long; at most 255 are allowed.");
}

static void test_string_property_not_utf8(void) {
        const char *bad[] = {
                "\xff",
                "abc\xc3",              /* truncated sequence */
                "\xc0\xaf",             /* overlong '/' */
                "\xed\xa0\x80",         /* surrogate U+D800 */
                "\xf4\x90\x80\x80",     /* past U+10FFFF */
        };

        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                ReplError e = REPL_ERROR_INIT;

                g_assert_cmpint(validate_string_property(bad[i], "Username", &e), ==, -EINVAL);
                g_assert_cmpstr(e.message, ==, "Username is not valid UTF-8.");
        }
}

static void test_string_property_control(void) {
        const char *bad[] = { "a\tb", "line\n", "\x01", "del\x7f", "next line \xc2\x85", "\xc2\x9f" };

        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                ReplError e = REPL_ERROR_INIT;

                g_assert_cmpint(validate_string_property(bad[i], "ElementName", &e), ==, -EINVAL);
                g_assert_cmpstr(e.message, ==, "ElementName contains a control character.");
        }
}

static void test_string_property_absent(void) {
        ReplError e = REPL_ERROR_INIT;

        /* Not given is not malformed; required properties are checked by the caller. */
        g_assert_cmpint(validate_string_property(NULL, "ElementName", &e), ==, 0);
        g_assert_cmpint(e.error, ==, 0);
}

static void test_string_property_first_error_wins(void) {
        ReplError e = REPL_ERROR_INIT;

        g_assert_cmpint(validate_string_property("\x01", "First", &e), ==, -EINVAL);
        g_assert_cmpint(validate_string_property("\xff", "Second", &e), ==, -EINVAL);
        g_assert_cmpstr(e.message, ==, "First contains a control character.");

        /* Callers that only want the verdict pass no error. */
        g_assert_cmpint(validate_string_property("\xff", "Third", NULL), ==, -EINVAL);
}

/* ---- NameFormat ---- */

static void assert_name(const char *name, NameFormat expected) {
        ReplError e = REPL_ERROR_INIT;
        NameFormat f = _NAME_FORMAT_MAX;

        if (name_format_from_name(name, "Name", &f, &e) < 0)
                g_error("'%s' refused: %s", name, e.message);
        g_assert_cmpint(f, ==, expected);
        g_assert_cmpint(e.error, ==, 0);
}

static void assert_bad_name(const char *name) {
        ReplError e = REPL_ERROR_INIT;
        NameFormat f = _NAME_FORMAT_MAX;

        if (name_format_from_name(name, "Name", &f, &e) != -EINVAL)
                g_error("'%s' accepted as %s", name, name_format_to_string(f));
        g_assert_cmpint(f, ==, _NAME_FORMAT_MAX);       /* untouched on failure */
        g_assert_cmpint(e.error, ==, -EINVAL);
        g_assert_true(g_str_has_prefix(e.message, "Name "));
}

static void test_name_format_iqn(void) {
        g_autofree char *pad = NULL, *max = NULL, *over = NULL;
        const char *good[] = {
                "iqn.2001-04.com.example",
                "iqn.2001-04.com.example:storage:diskarrays-sn-a8675309",
                "iqn.2001-04.com.example:storage.tape1.sys1.xyz",
                "iqn.2003-01.org.linux-iscsi.host1.x8664:sn.0123456789ab",
                "iqn.1994-05.com.redhat:5f3a2b1c9d0e",
                "iqn.1991-05.com.microsoft:win-host.corp.example.com",
                "iqn.2004-10.com.ubuntu:01:9d8f7e6a5b4c",
                "iqn.2005-12.x",
                "iqn.2001-04.com.example:ünïcode",
        };
        const char *bad[] = {
                "iqn.",
                "iqn.2001-04",
                "iqn.2001-04.",
                "iqn.2001-4.com.example",
                "iqn.01-04.com.example",
                "iqn.20010-04.com.example",
                "iqn.2001/04.com.example",
                "iqn.2001-00.com.example",
                "iqn.2001-13.com.example",
                "iqn.2001-04com.example",
                "iqn.2001-04..com.example",
                "iqn.2001-04.com..example",
                "iqn.2001-04.com.example.",
                "iqn.2001-04.com.example:",
                "iqn.2001-04.com.example:with space",
                "iqn.2001-04.com_example",
                "iqn.2001-04.com.example/x",
                "iqn.2001-04.:x",
        };

        for (size_t i = 0; i < G_N_ELEMENTS(good); i++)
                assert_name(good[i], NAME_FORMAT_IQN);
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
                assert_bad_name(bad[i]);

        /* RFC 3720 limits an iSCSI name to 223 bytes. */
        pad = repeat('x', 223 - strlen("iqn.2001-04.com.example:"));
        max = g_strconcat("iqn.2001-04.com.example:", pad, NULL);
        g_assert_cmpuint(strlen(max), ==, 223);
        assert_name(max, NAME_FORMAT_IQN);
        over = g_strconcat(max, "x", NULL);
        assert_bad_name(over);
}

static void test_name_format_iqn_message(void) {
        ReplError e = REPL_ERROR_INIT;
        NameFormat f;

        g_assert_cmpint(name_format_from_name("iqn.2001-13.com.example", "Name", &f, &e), ==, -EINVAL);
        g_assert_cmpstr(e.message, ==,
                        "Name 'iqn.2001-13.com.example' is not a valid iqn. name; "
                        "expected iqn.yyyy-mm.reversed.domain[:identifier].");
}

static void test_name_format_eui(void) {
        assert_name("eui.02004567A425678D", NAME_FORMAT_EUI);
        assert_name("eui.0123456789abcdef", NAME_FORMAT_EUI);

        assert_bad_name("eui.");
        assert_bad_name("eui.02004567A425678");        /* 15 digits */
        assert_bad_name("eui.02004567A425678DD");      /* 17 digits */
        assert_bad_name("eui.02004567A425678G");
        assert_bad_name("eui.02004567A425678D:x");
        assert_bad_name("eui.0x004567A425678D");
}

static void test_name_format_naa(void) {
        assert_name("naa.52004567BA64678D", NAME_FORMAT_NAA);
        assert_name("naa.62004567BA64678D0123456789ABCDEF", NAME_FORMAT_NAA);
        assert_name("naa.6001405abcdef0123456789abcdef012", NAME_FORMAT_NAA);

        assert_bad_name("naa.");
        assert_bad_name("naa.52004567BA64678");               /* 15 */
        assert_bad_name("naa.52004567BA64678D01234567");      /* 24 */
        assert_bad_name("naa.62004567BA64678D0123456789ABCDE");   /* 31 */
        assert_bad_name("naa.62004567BA64678D0123456789ABCDEF0"); /* 33 */
        assert_bad_name("naa.52004567BA64678Z");
}

static void test_name_format_case(void) {
        /* RFC 3722 folds iSCSI names to lowercase, so case does not change the verdict. */
        assert_name("IQN.2001-04.COM.EXAMPLE:Storage", NAME_FORMAT_IQN);
        assert_name("Iqn.2001-04.com.Example", NAME_FORMAT_IQN);
        assert_name("EUI.02004567a425678d", NAME_FORMAT_EUI);
        assert_name("NaA.52004567ba64678d", NAME_FORMAT_NAA);
        assert_name("Storage-1.Example.COM", NAME_FORMAT_HOSTNAME);
}

static void test_name_format_hostname(void) {
        g_autofree char *label63 = repeat('a', 63), *label64 = repeat('a', 64);
        g_autofree char *name253 = NULL, *name254 = NULL;
        g_autofree char *l63_dot = NULL, *l64_dot = NULL;
        const char *good[] = {
                "localhost", "peer1", "a", "1peer", "storage-1.example.com", "x--y.example",
                "3com.example", "host.123a", "iqn", "eui", "naa-1.example",
        };
        const char *bad[] = {
                "-peer", "peer-", "a..b", ".a", "a.", "a_b", "x y", "peer.-x.example", "peer.x-.example",
                "1.2.3", "300.1.1.1", "192.0.2.1", "127.0.0.1", "12345", "::1", "[::1]", "host:3260",
                "höst.example", "host/x", "*.example",
        };

        for (size_t i = 0; i < G_N_ELEMENTS(good); i++)
                assert_name(good[i], NAME_FORMAT_HOSTNAME);
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
                assert_bad_name(bad[i]);

        assert_name(label63, NAME_FORMAT_HOSTNAME);
        assert_bad_name(label64);
        l63_dot = g_strconcat(label63, ".example", NULL);
        assert_name(l63_dot, NAME_FORMAT_HOSTNAME);
        l64_dot = g_strconcat(label64, ".example", NULL);
        assert_bad_name(l64_dot);

        /* Four 63-byte labels and three dots make 255; trim to exactly 253 and 254. */
        name253 = g_strjoin(".", label63, label63, label63, label63, NULL);
        name253[253] = 0;
        g_assert_cmpuint(strlen(name253), ==, 253);
        assert_name(name253, NAME_FORMAT_HOSTNAME);
        name254 = g_strjoin(".", label63, label63, label63, label63, NULL);
        name254[254] = 0;
        assert_bad_name(name254);
}

static void test_name_format_message(void) {
        ReplError e = REPL_ERROR_INIT;
        NameFormat f;

        g_assert_cmpint(name_format_from_name("x y", "Name", &f, &e), ==, -EINVAL);
        g_assert_cmpstr(e.message, ==, "Name 'x y' is neither an iSCSI name (iqn., eui., naa.) nor a host name.");

        repl_error_clear(&e);
        g_assert_cmpint(name_format_from_name("", "Name", &f, &e), ==, -EINVAL);
        g_assert_cmpstr(e.message, ==, "Name must not be empty.");

        /* A value that is not safe text is described, never echoed. */
        repl_error_clear(&e);
        g_assert_cmpint(name_format_from_name("peer\n", "Name", &f, &e), ==, -EINVAL);
        g_assert_cmpstr(e.message, ==, "Name contains a control character.");
        repl_error_clear(&e);
        g_assert_cmpint(name_format_from_name("peer\xff", "Name", &f, &e), ==, -EINVAL);
        g_assert_cmpstr(e.message, ==, "Name is not valid UTF-8.");
        repl_error_clear(&e);
        g_assert_cmpint(name_format_from_name(NULL, "Name", &f, &e), ==, -EINVAL);
        g_assert_cmpstr(e.message, ==, "Name must not be empty.");
}

static void test_name_format_to_string(void) {
        g_assert_cmpstr(name_format_to_string(NAME_FORMAT_IQN), ==, "IQN");
        g_assert_cmpstr(name_format_to_string(NAME_FORMAT_EUI), ==, "EUI");
        g_assert_cmpstr(name_format_to_string(NAME_FORMAT_NAA), ==, "NAA");
        g_assert_cmpstr(name_format_to_string(NAME_FORMAT_HOSTNAME), ==, "HostName");
        g_assert_null(name_format_to_string(_NAME_FORMAT_MAX));
        g_assert_null(name_format_to_string((NameFormat) -1));
}

/* ---- addresses ---- */

/* Not an AddressType, so a write on failure would show. */
#define ADDRESS_TYPE_UNSET ((AddressType) 77)

static void assert_address(const char *address, AddressType expected) {
        ReplError e = REPL_ERROR_INIT;
        AddressType t = ADDRESS_TYPE_UNSET;

        if (address_classify(address, "Address", &t, &e) < 0)
                g_error("'%s' refused: %s", address, e.message);
        g_assert_cmpint(t, ==, expected);
}

static void assert_bad_address(const char *address) {
        ReplError e = REPL_ERROR_INIT;
        AddressType t = ADDRESS_TYPE_UNSET;

        if (address_classify(address, "Address", &t, &e) != -EINVAL)
                g_error("'%s' accepted as %d", address, t);
        g_assert_cmpint(t, ==, ADDRESS_TYPE_UNSET);
        g_assert_true(g_str_has_prefix(e.message, "Address "));
}

static void test_address_classify(void) {
        const char *v4[] = { "127.0.0.1", "192.0.2.1", "0.0.0.0", "255.255.255.255", "10.1.2.3" };
        const char *v6[] = {
                "::1", "::", "0:0::1", "2001:db8::1", "2001:DB8:0:0:0:0:0:1", "fe80::1",
                "::ffff:127.0.0.1", "fd00::2",
        };
        const char *host[] = { "localhost", "peer.example.com", "PEER.EXAMPLE.COM", "storage-1", "1.2.3.x" };
        const char *bad[] = {
                "", "300.1.1.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.04", "256.0.0.1", "1.2.3.4 ",
                " 1.2.3.4", "0x7f.0.0.1", "[::1]", "[2001:db8::1]:3260", "fe80::1%lo", "fe80::1%1",
                "::1::", "2001:db8::g", "1:2:3:4:5:6:7:8:9", "host:3260", "a b", "-host", "host.",
                "127.0.0.1:3260", "h\xc3\xb6st",
        };

        for (size_t i = 0; i < G_N_ELEMENTS(v4); i++)
                assert_address(v4[i], ADDRESS_IPV4);
        for (size_t i = 0; i < G_N_ELEMENTS(v6); i++)
                assert_address(v6[i], ADDRESS_IPV6);
        for (size_t i = 0; i < G_N_ELEMENTS(host); i++)
                assert_address(host[i], ADDRESS_HOSTNAME);
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
                assert_bad_address(bad[i]);
}

static void test_address_classify_messages(void) {
        ReplError e = REPL_ERROR_INIT;
        AddressType t;

        g_assert_cmpint(address_classify("[::1]", "Address", &t, &e), ==, -EINVAL);
        g_assert_cmpstr(e.message, ==, "Address '[::1]' must be given without brackets.");

        repl_error_clear(&e);
        g_assert_cmpint(address_classify("fe80::1%eth0", "Address", &t, &e), ==, -EINVAL);
        g_assert_cmpstr(e.message, ==, "Address 'fe80::1%eth0' has a zone index, which is not supported.");

        repl_error_clear(&e);
        g_assert_cmpint(address_classify("300.1.1.1", "Address", &t, &e), ==, -EINVAL);
        g_assert_cmpstr(e.message, ==, "Address '300.1.1.1' is neither an IPv4 or IPv6 address nor a host name.");

        repl_error_clear(&e);
        g_assert_cmpint(address_classify("", "Address", &t, &e), ==, -EINVAL);
        g_assert_cmpstr(e.message, ==, "Address must not be empty.");

        repl_error_clear(&e);
        g_assert_cmpint(address_classify(NULL, "Address", &t, &e), ==, -EINVAL);
        g_assert_cmpstr(e.message, ==, "Address must not be empty.");
}

static void test_address_protocol_if_type(void) {
        g_assert_cmpuint(address_type_to_protocol_if_type(ADDRESS_IPV4), ==, 4096);
        g_assert_cmpuint(address_type_to_protocol_if_type(ADDRESS_IPV6), ==, 4097);
        g_assert_cmpuint(address_type_to_protocol_if_type(ADDRESS_HOSTNAME), ==, 1);
}

static void assert_normalized(const char *address, const char *expected) {
        g_autofree char *n = NULL;

        g_assert_cmpint(address_normalize(address, &n), ==, 0);
        g_assert_cmpstr(n, ==, expected);
}

static void test_address_normalize(void) {
        char *n = NULL;

        assert_normalized("127.0.0.1", "127.0.0.1");
        assert_normalized("::1", "::1");
        assert_normalized("0:0::1", "::1");
        assert_normalized("0:0:0:0:0:0:0:1", "::1");
        assert_normalized("2001:DB8:0:0::1", "2001:db8::1");
        assert_normalized("::FFFF:127.0.0.1", "::ffff:127.0.0.1");
        assert_normalized("Peer.Example.COM", "peer.example.com");
        assert_normalized("localhost", "localhost");

        g_assert_cmpint(address_normalize("[::1]", &n), ==, -EINVAL);
        g_assert_cmpint(address_normalize("300.1.1.1", &n), ==, -EINVAL);
        g_assert_cmpint(address_normalize("", &n), ==, -EINVAL);
        g_assert_null(n);
}

/* Whether this host has ::1 at all; a kernel without IPv6 cannot run the IPv6 half. */
static bool have_ipv6_loopback(void) {
        struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
        int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        bool ok;

        if (fd < 0)
                return false;
        ok = bind(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0;
        close(fd);
        return ok;
}

static void test_address_check_local_loopback(void) {
        ReplError e = REPL_ERROR_INIT;

        g_assert_cmpint(address_check_local("127.0.0.1", "Address", &e), ==, 0);
        g_assert_cmpint(address_check_local("127.0.0.2", "Address", &e), ==, 0);
        g_assert_cmpint(e.error, ==, 0);

        if (!have_ipv6_loopback()) {
                g_test_skip("no IPv6 loopback address on this host");
                return;
        }
        g_assert_cmpint(address_check_local("::1", "Address", &e), ==, 0);
        g_assert_cmpint(address_check_local("0:0::1", "Address", &e), ==, 0);
        g_assert_cmpint(e.error, ==, 0);
}

static void test_address_check_local_not_local(void) {
        ReplError e = REPL_ERROR_INIT;

        g_assert_cmpint(address_check_local("192.0.2.1", "Address", &e), ==, -EADDRNOTAVAIL);
        g_assert_cmpint(e.error, ==, -EADDRNOTAVAIL);
        g_assert_cmpstr(e.message, ==, "Address 192.0.2.1 is not an address of this host.");

        /* Also without IPv6 in the kernel the verdict is the same. */
        repl_error_clear(&e);
        g_assert_cmpint(address_check_local("2001:db8::1", "Address", &e), ==, -EADDRNOTAVAIL);
        g_assert_cmpstr(e.message, ==, "Address 2001:db8::1 is not an address of this host.");
}

static void test_address_check_local_hostname(void) {
        ReplError e = REPL_ERROR_INIT;

        g_assert_cmpint(address_check_local("localhost", "Address", &e), ==, -EINVAL);
        g_assert_cmpstr(e.message, ==, "Address 'localhost' is a host name; a local access point needs an IP address.");

        repl_error_clear(&e);
        g_assert_cmpint(address_check_local("1.2.3", "Address", &e), ==, -EINVAL);
        repl_error_clear(&e);
        g_assert_cmpint(address_check_local("", "Address", &e), ==, -EINVAL);
}

static void test_address_check_local_not_unicast(void) {
        /* bind() accepts these without the host owning them, so they must be refused before it. */
        const char *bad[] = { "0.0.0.0", "255.255.255.255", "224.0.0.1", "239.1.2.3", "::", "ff02::1", "fe80::1" };

        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                ReplError e = REPL_ERROR_INIT;

                g_assert_cmpint(address_check_local(bad[i], "Address", &e), ==, -EINVAL);
                g_assert_true(g_str_has_prefix(e.message, "Address "));
        }
}

static void test_portal_name(void) {
        char buf[PORTAL_NAME_MAX];
        g_autofree char *longest = repeat('f', STRING_PROPERTY_MAX);
        g_autofree char *expected = NULL;

        g_assert_cmpstr(portal_name_format(buf, "127.0.0.1", 3260), ==, "127.0.0.1:3260");
        g_assert_cmpstr(portal_name_format(buf, "::1", 3260), ==, "[::1]:3260");
        g_assert_cmpstr(portal_name_format(buf, "2001:db8::1", 860), ==, "[2001:db8::1]:860");
        g_assert_cmpstr(portal_name_format(buf, "peer.example.com", 0), ==, "peer.example.com:0");
        g_assert_cmpstr(portal_name_format(buf, "host", 65535), ==, "host:65535");
        g_assert_true(portal_name_format(buf, "::1", 1) == buf);

        /* The longest string property still fits, brackets and port included. */
        longest[4] = ':';
        expected = g_strconcat("[", longest, "]:65535", NULL);
        g_assert_cmpstr(portal_name_format(buf, longest, 65535), ==, expected);
}

static void test_secret_access_point(void) {
        ReplError e = REPL_ERROR_INIT;

        g_assert_cmpint(validate_secret_access_point("/org/iscsi/ReplicationService/access_point/7", false, &e), ==, 0);
        g_assert_cmpint(e.error, ==, 0);

        g_assert_cmpint(validate_secret_access_point("/org/iscsi/ReplicationService/access_point/3", true, &e), ==,
                        -EINVAL);
        g_assert_nonnull(strstr(e.message, "/org/iscsi/ReplicationService/access_point/3"));
        g_assert_nonnull(strstr(e.message, "remote access point"));
        repl_error_clear(&e);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);

        g_test_add_func("/validate/string-property/accepts", test_string_property_accepts);
        g_test_add_func("/validate/string-property/too-long", test_string_property_too_long);
        g_test_add_func("/validate/string-property/not-utf8", test_string_property_not_utf8);
        g_test_add_func("/validate/string-property/control", test_string_property_control);
        g_test_add_func("/validate/string-property/absent", test_string_property_absent);
        g_test_add_func("/validate/string-property/first-error-wins", test_string_property_first_error_wins);
        g_test_add_func("/validate/name-format/iqn", test_name_format_iqn);
        g_test_add_func("/validate/name-format/iqn-message", test_name_format_iqn_message);
        g_test_add_func("/validate/name-format/eui", test_name_format_eui);
        g_test_add_func("/validate/name-format/naa", test_name_format_naa);
        g_test_add_func("/validate/name-format/case", test_name_format_case);
        g_test_add_func("/validate/name-format/hostname", test_name_format_hostname);
        g_test_add_func("/validate/name-format/message", test_name_format_message);
        g_test_add_func("/validate/name-format/to-string", test_name_format_to_string);
        g_test_add_func("/validate/address/classify", test_address_classify);
        g_test_add_func("/validate/address/classify-messages", test_address_classify_messages);
        g_test_add_func("/validate/address/protocol-if-type", test_address_protocol_if_type);
        g_test_add_func("/validate/address/normalize", test_address_normalize);
        g_test_add_func("/validate/address/check-local/loopback", test_address_check_local_loopback);
        g_test_add_func("/validate/address/check-local/not-local", test_address_check_local_not_local);
        g_test_add_func("/validate/address/check-local/hostname", test_address_check_local_hostname);
        g_test_add_func("/validate/address/check-local/not-unicast", test_address_check_local_not_unicast);
        g_test_add_func("/validate/portal-name", test_portal_name);
        g_test_add_func("/validate/secret-access-point", test_secret_access_point);

        return g_test_run();
}
