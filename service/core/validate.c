/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The value rules of the contract that need no bus. Every message names the
 * argument; a value is quoted in a message only once it is known to be safe
 * to send (valid UTF-8, no control characters, bounded in length), because
 * the message travels in a D-Bus string.
 *
 * Case: iSCSI names are matched without regard to ASCII case. RFC 3722's
 * stringprep profile folds them to lowercase before comparison, so
 * "IQN.2001-04.COM.EXAMPLE" is the same name as "iqn.2001-04.com.example",
 * and RFC 3720's own EUI and NAA examples use uppercase hex digits. Host
 * names are case-insensitive anyway (RFC 4343). The name is stored as given.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "util/strutil.h"
#include "validate.h"

/* RFC 3720 3.2.6.1 / RFC 7143 4.2.7.1: an iSCSI name is at most 223 bytes. */
#define ISCSI_NAME_MAX 223
#define HOSTNAME_MAX 253
#define HOSTNAME_LABEL_MAX 63

static const char * const name_format_names[_NAME_FORMAT_MAX] = {
        [NAME_FORMAT_IQN] = "IQN",
        [NAME_FORMAT_EUI] = "EUI",
        [NAME_FORMAT_NAA] = "NAA",
        [NAME_FORMAT_HOSTNAME] = "HostName",
};

const char *name_format_to_string(NameFormat f) {
        return f >= 0 && f < _NAME_FORMAT_MAX ? name_format_names[f] : NULL;
}

static bool ascii_is_digit(char c) {
        return c >= '0' && c <= '9';
}

static bool ascii_is_alpha(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool ascii_is_hex(char c) {
        return ascii_is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static char ascii_tolower(char c) {
        return c >= 'A' && c <= 'Z' ? (char) (c - 'A' + 'a') : c;
}

int validate_string_property(const char *value, const char *arg, ReplError *e) {
        size_t n;

        /* An optional property that was not given; whether it is required is the caller's rule. */
        if (!value)
                return 0;
        if (string_is_safe(value, STRING_PROPERTY_MAX))
                return 0;

        n = strlen(value);
        if (n > STRING_PROPERTY_MAX)
                return repl_error_set(e, -EINVAL, "%s is %zu bytes long; at most %d are allowed.",
                                      arg, n, STRING_PROPERTY_MAX);
        if (!utf8_is_valid(value))
                return repl_error_set(e, -EINVAL, "%s is not valid UTF-8.", arg);
        return repl_error_set(e, -EINVAL, "%s contains a control character.", arg);
}

int validate_secret_access_point(const char *access_point_path, bool access_point_is_local, ReplError *e) {
        if (!access_point_is_local)
                return 0;
        return repl_error_set(e, -EINVAL,
                              "ServiceAccessPoint %s is an access point of this host; a shared secret belongs to a "
                              "remote access point.",
                              access_point_path);
}

static bool all_hex(const char *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (!ascii_is_hex(s[i]))
                        return false;
        return s[n] == 0;
}

/*
 * The naming-authority text after "iqn.…:" — anything printable but a space,
 * and not nothing: a bare trailing colon is far likelier a truncated paste
 * than a name someone chose.
 */
static bool iqn_suffix_is_valid(const char *s) {
        if (!*s)
                return false;
        for (; *s; s++)
                if (*s == ' ')
                        return false;
        /* The caller checked UTF-8 and control characters already. */
        return true;
}

/* "iqn." yyyy-mm "." reversed.domain [":" suffix], the prefix already skipped. */
static bool iqn_body_is_valid(const char *s) {
        size_t label = 0;
        int month;

        for (size_t i = 0; i < 4; i++)
                if (!ascii_is_digit(s[i]))
                        return false;
        if (s[4] != '-' || !ascii_is_digit(s[5]) || !ascii_is_digit(s[6]) || s[7] != '.')
                return false;
        month = (s[5] - '0') * 10 + (s[6] - '0');
        if (month < 1 || month > 12)
                return false;

        for (s += 8;; s++) {
                if (*s == 0 || *s == ':' || *s == '.') {
                        /* Every domain label holds at least one character. */
                        if (label == 0)
                                return false;
                        if (*s == 0)
                                return true;
                        if (*s == ':')
                                return iqn_suffix_is_valid(s + 1);
                        label = 0;
                } else if (ascii_is_alpha(*s) || ascii_is_digit(*s) || *s == '-')
                        label++;
                else
                        return false;
        }
}

/*
 * RFC 1123 2.1: labels of letters, digits and hyphens, 1–63 long, no hyphen
 * at either end, at most 253 in all. A trailing dot is refused so that one
 * host has one spelling. The last label must not be all digits: RFC 1123
 * notes that a host name never has the dotted-decimal form, which is what
 * keeps "300.1.1.1" or "1.2.3" from passing as a name.
 */
static bool hostname_is_valid(const char *s) {
        const char *label = s;
        bool numeric = true;
        size_t n = strlen(s);

        if (n == 0 || n > HOSTNAME_MAX)
                return false;

        for (const char *p = s;; p++) {
                if (*p == '.' || *p == 0) {
                        size_t l = (size_t) (p - label);

                        if (l == 0 || l > HOSTNAME_LABEL_MAX || label[0] == '-' || p[-1] == '-')
                                return false;
                        if (*p == 0)
                                return !numeric;
                        label = p + 1;
                        numeric = true;
                } else if (ascii_is_digit(*p))
                        ;
                else if (ascii_is_alpha(*p) || *p == '-')
                        numeric = false;
                else
                        return false;
        }
}

int name_format_from_name(const char *name, const char *arg, NameFormat *ret, ReplError *e) {
        NameFormat f;
        size_t n;
        int r;

        r = validate_string_property(name, arg, e);
        if (r < 0)
                return r;
        if (isempty(name))
                return repl_error_set(e, -EINVAL, "%s must not be empty.", arg);

        n = strlen(name);
        if (strncasecmp(name, "iqn.", 4) == 0) {
                if (!iqn_body_is_valid(name + 4))
                        return repl_error_set(e, -EINVAL,
                                              "%s '%s' is not a valid iqn. name; expected iqn.yyyy-mm.reversed.domain[:identifier].",
                                              arg, name);
                f = NAME_FORMAT_IQN;
        } else if (strncasecmp(name, "eui.", 4) == 0) {
                if (!all_hex(name + 4, 16))
                        return repl_error_set(e, -EINVAL,
                                              "%s '%s' is not a valid eui. name; expected eui. and 16 hex digits.",
                                              arg, name);
                f = NAME_FORMAT_EUI;
        } else if (strncasecmp(name, "naa.", 4) == 0) {
                if (!all_hex(name + 4, 16) && !all_hex(name + 4, 32))
                        return repl_error_set(e, -EINVAL,
                                              "%s '%s' is not a valid naa. name; expected naa. and 16 or 32 hex digits.",
                                              arg, name);
                f = NAME_FORMAT_NAA;
        } else if (hostname_is_valid(name))
                f = NAME_FORMAT_HOSTNAME;
        else
                return repl_error_set(e, -EINVAL,
                                      "%s '%s' is neither an iSCSI name (iqn., eui., naa.) nor a host name.",
                                      arg, name);

        if (f != NAME_FORMAT_HOSTNAME && n > ISCSI_NAME_MAX)
                return repl_error_set(e, -EINVAL, "%s is %zu bytes long; an iSCSI name has at most %d.",
                                      arg, n, ISCSI_NAME_MAX);

        *ret = f;
        return 0;
}

uint16_t address_type_to_protocol_if_type(AddressType t) {
        switch (t) {
        case ADDRESS_IPV4:
                return 4096;
        case ADDRESS_IPV6:
                return 4097;
        case ADDRESS_HOSTNAME:
        default:
                return 1;
        }
}

int address_classify(const char *address, const char *arg, AddressType *ret, ReplError *e) {
        struct in6_addr a6;
        struct in_addr a4;
        int r;

        r = validate_string_property(address, arg, e);
        if (r < 0)
                return r;
        if (isempty(address))
                return repl_error_set(e, -EINVAL, "%s must not be empty.", arg);

        if (inet_pton(AF_INET, address, &a4) == 1) {
                *ret = ADDRESS_IPV4;
                return 0;
        }
        if (inet_pton(AF_INET6, address, &a6) == 1) {
                *ret = ADDRESS_IPV6;
                return 0;
        }

        /* Say exactly what is wrong with the two IPv6 spellings people copy from URLs and ip(8). */
        if (address[0] == '[')
                return repl_error_set(e, -EINVAL, "%s '%s' must be given without brackets.", arg, address);
        if (strchr(address, '%') && strchr(address, ':'))
                return repl_error_set(e, -EINVAL, "%s '%s' has a zone index, which is not supported.",
                                      arg, address);

        if (!hostname_is_valid(address))
                return repl_error_set(e, -EINVAL,
                                      "%s '%s' is neither an IPv4 or IPv6 address nor a host name.", arg, address);

        *ret = ADDRESS_HOSTNAME;
        return 0;
}

int address_check_local(const char *address, const char *arg, ReplError *e) {
        _cleanup_close_ int fd = -1;
        union {
                struct sockaddr sa;
                struct sockaddr_in in;
                struct sockaddr_in6 in6;
        } sa = {};
        socklen_t salen;
        AddressType t = ADDRESS_HOSTNAME;
        int r;

        r = address_classify(address, arg, &t, e);
        if (r < 0)
                return r;

        switch (t) {
        case ADDRESS_IPV4:
                sa.in.sin_family = AF_INET;
                (void) inet_pton(AF_INET, address, &sa.in.sin_addr);
                salen = sizeof(sa.in);
                /* bind() takes these without owning them, which proves nothing about this host. */
                if (sa.in.sin_addr.s_addr == htonl(INADDR_ANY) ||
                    sa.in.sin_addr.s_addr == htonl(INADDR_BROADCAST) ||
                    IN_MULTICAST(ntohl(sa.in.sin_addr.s_addr)))
                        return repl_error_set(e, -EINVAL,
                                              "%s %s is not a unicast address; a local access point needs one.",
                                              arg, address);
                break;
        case ADDRESS_IPV6:
                sa.in6.sin6_family = AF_INET6;
                (void) inet_pton(AF_INET6, address, &sa.in6.sin6_addr);
                salen = sizeof(sa.in6);
                if (IN6_IS_ADDR_UNSPECIFIED(&sa.in6.sin6_addr) || IN6_IS_ADDR_MULTICAST(&sa.in6.sin6_addr))
                        return repl_error_set(e, -EINVAL,
                                              "%s %s is not a unicast address; a local access point needs one.",
                                              arg, address);
                /* Without a zone index the kernel cannot tell which link is meant. */
                if (IN6_IS_ADDR_LINKLOCAL(&sa.in6.sin6_addr))
                        return repl_error_set(e, -EINVAL,
                                              "%s %s is link-local; a local access point needs an address with a scope beyond the link.",
                                              arg, address);
                break;
        case ADDRESS_HOSTNAME:
        default:
                return repl_error_set(e, -EINVAL,
                                      "%s '%s' is a host name; a local access point needs an IP address.",
                                      arg, address);
        }

        fd = socket(sa.sa.sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                /* No IPv6 in this kernel: then no IPv6 address is ours either. */
                if (errno == EAFNOSUPPORT)
                        return repl_error_set(e, -EADDRNOTAVAIL, "%s %s is not an address of this host.",
                                              arg, address);
                r = negative_errno();
                return repl_error_set(e, r, "Cannot check whether %s %s belongs to this host: %s",
                                      arg, address, strerror(-r));
        }

        /* Port 0 and no IP_FREEBIND: the kernel accepts only an address configured here. */
        if (bind(fd, &sa.sa, salen) < 0) {
                r = negative_errno();
                if (r == -EADDRNOTAVAIL)
                        return repl_error_set(e, r, "%s %s is not an address of this host.", arg, address);
                return repl_error_set(e, r, "Cannot check whether %s %s belongs to this host: %s",
                                      arg, address, strerror(-r));
        }

        return 0;
}

int address_normalize(const char *address, char **ret) {
        char buf[INET6_ADDRSTRLEN];
        unsigned char raw[sizeof(struct in6_addr)];
        AddressType t = ADDRESS_HOSTNAME;
        char *s;
        int r;

        r = address_classify(address, "Address", &t, NULL);
        if (r < 0)
                return r;

        switch (t) {
        case ADDRESS_IPV4:
        case ADDRESS_IPV6: {
                int family = t == ADDRESS_IPV4 ? AF_INET : AF_INET6;

                if (inet_pton(family, address, raw) != 1 || !inet_ntop(family, raw, buf, sizeof(buf)))
                        return -EINVAL;
                s = strdup(buf);
                break;
        }
        case ADDRESS_HOSTNAME:
        default:
                s = strdup(address);
                if (s)
                        for (char *p = s; *p; p++)
                                *p = ascii_tolower(*p);
                break;
        }
        if (!s)
                return -ENOMEM;

        *ret = s;
        return 0;
}

char *portal_name_format(char buf[static PORTAL_NAME_MAX], const char *address, uint16_t port) {
        /* Neither IPv4 literals nor host names contain a colon; only IPv6 needs brackets. */
        if (strchr(address, ':'))
                snprintf(buf, PORTAL_NAME_MAX, "[%s]:%u", address, (unsigned) port);
        else
                snprintf(buf, PORTAL_NAME_MAX, "%s:%u", address, (unsigned) port);
        return buf;
}

int validate_target_name(const char *target_name, ReplError *e) {
        NameFormat f;
        int r;

        r = validate_string_property(target_name, "TargetName", e);
        if (r < 0 || isempty(target_name))
                return r;
        r = name_format_from_name(target_name, "TargetName", &f, e);
        if (r < 0)
                return r;
        if (f == NAME_FORMAT_HOSTNAME)
                return repl_error_set(e, -EINVAL, "TargetName '%s' is not an iSCSI name (iqn., eui. or naa.).",
                                      target_name);
        return 0;
}

int validate_access_point_spec(const AccessPointSpec *spec, bool local, AddressType *ret_type, ReplError *e) {
        AddressType type;
        int r;

        if (isempty(spec->address))
                return repl_error_set(e, -EINVAL, "Property Address is required.");
        r = validate_string_property(spec->address, "Address", e);
        if (r < 0)
                return r;
        r = address_classify(spec->address, "Address", &type, e);
        if (r < 0)
                return r;
        if (spec->port == 0)
                return repl_error_set(e, -EINVAL, "Port 0 is not a valid TCP port.");
        r = validate_target_name(spec->target_name, e);
        if (r < 0)
                return r;
        r = validate_string_property(spec->element_name, "ElementName", e);
        if (r < 0)
                return r;
        if (local) {
                if (type == ADDRESS_HOSTNAME)
                        return repl_error_set(e, -EINVAL,
                                              "Address '%s' is a host name; an access point of this host needs an IP address.",
                                              spec->address);
                r = address_check_local(spec->address, "Address", e);
                if (r < 0)
                        return r;
        }
        if (ret_type)
                *ret_type = type;
        return 0;
}

/* Never echoes the secret itself in a message. */
static int validate_secret_bytes(const char *secret, const char *arg, ReplError *e) {
        size_t l = strlen(secret);

        if (l < SECRET_MIN || l > SECRET_MAX)
                return repl_error_set(e, -EINVAL, "%s is %zu bytes long; it must be %d to %d bytes.", arg, l,
                                      SECRET_MIN, SECRET_MAX);
        if (!utf8_is_valid(secret))
                return repl_error_set(e, -EINVAL, "%s is not valid UTF-8.", arg);
        return 0;
}

int validate_secret_spec(const SecretSpec *spec, ReplError *e) {
        int r;

        if (isempty(spec->username))
                return repl_error_set(e, -EINVAL, "Property Username is required.");
        r = validate_string_property(spec->username, "Username", e);
        if (r < 0)
                return r;
        if (!spec->secret)
                return repl_error_set(e, -EINVAL, "Property Secret is required.");
        r = validate_secret_bytes(spec->secret, "Secret", e);
        if (r < 0)
                return r;
        r = validate_string_property(spec->mutual_username, "MutualUsername", e);
        if (r < 0)
                return r;
        if (isempty(spec->mutual_username) != isempty(spec->mutual_secret))
                return repl_error_set(e, -EINVAL, "MutualUsername and MutualSecret must be given together.");
        if (!isempty(spec->mutual_secret))
                return validate_secret_bytes(spec->mutual_secret, "MutualSecret", e);
        return 0;
}


int validate_peer_system(const char *name, const char *element_name, NameFormat *ret_format, ReplError *e) {
        int r;

        r = validate_string_property(name, "Name", e);
        if (r >= 0)
                r = name_format_from_name(name, "Name", ret_format, e);
        if (r >= 0)
                r = validate_string_property(element_name, "ElementName", e);
        return r;
}
