/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Value rules of the contract that need no bus: string properties, node
 * names and their NameFormat, portal addresses, the portal's display name.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

#define STRING_PROPERTY_MAX 255
#define SECRET_MIN 12
#define SECRET_MAX 255

typedef enum NameFormat {
        NAME_FORMAT_IQN,
        NAME_FORMAT_EUI,
        NAME_FORMAT_NAA,
        NAME_FORMAT_HOSTNAME,
        _NAME_FORMAT_MAX,
} NameFormat;

typedef enum AddressType {
        ADDRESS_IPV4,
        ADDRESS_IPV6,
        ADDRESS_HOSTNAME,
} AddressType;

/* What AddServiceAccessPoint and AddSharedSecret are given. */
typedef struct AccessPointSpec {
        const char *address;
        uint16_t port;
        const char *target_name;
        uint16_t portal_group_tag;
        const char *element_name;
} AccessPointSpec;

typedef struct SecretSpec {
        const char *username;
        const char *secret;
        const char *mutual_username;
        const char *mutual_secret;
} SecretSpec;

/* "IQN", "EUI", "NAA", "HostName" */
const char *name_format_to_string(NameFormat f);

/*
 * Classifies a system name: iqn.YYYY-MM.reversed.domain[:anything],
 * eui. + 16 hex digits, naa. + 16 or 32 hex digits, else an RFC 1123 host
 * name. -EINVAL (with a message naming argument arg) when it is none of them.
 */
int name_format_from_name(const char *name, const char *arg, NameFormat *ret, ReplError *e);

/* The string-property rule: ≤255 bytes, UTF-8, no control characters. */
int validate_string_property(const char *value, const char *arg, ReplError *e);
/* AddPeerSystem's arguments: Name (whose format it returns) and ElementName. */
int validate_peer_system(const char *name, const char *element_name, NameFormat *ret_format, ReplError *e);

/*
 * A shared secret authenticates this host to a peer's portal, so it belongs
 * to a remote access point (or to none): -EINVAL naming access_point_path
 * when the access point it would belong to is one of this host's.
 */
int validate_secret_access_point(const char *access_point_path, bool access_point_is_local, ReplError *e);

/* A TargetName: empty, or a string property that is an iSCSI name (iqn., eui. or naa.); -EINVAL otherwise. */
int validate_target_name(const char *target_name, ReplError *e);

/* IPv4 literal, IPv6 literal (no brackets, no zone), or host name. -EINVAL otherwise. */
int address_classify(const char *address, const char *arg, AddressType *ret, ReplError *e);

/* CIM ProtocolIFType: 4096 IPv4, 4097 IPv6, 1 host name (Other). */
uint16_t address_type_to_protocol_if_type(AddressType t);

/* 0 when a socket can bind to the IP literal on this host, -EADDRNOTAVAIL (with message) otherwise. */
int address_check_local(const char *address, const char *arg, ReplError *e);

/* Canonical text form of an IP literal (so "::1" and "0:0::1" compare equal); host names are lowercased. */
int address_normalize(const char *address, char **ret);

/* "address:port", "[v6]:port" */
#define PORTAL_NAME_MAX 300
char *portal_name_format(char buf[static PORTAL_NAME_MAX], const char *address, uint16_t port);

/*
 * The value rules of a new access point: Address required, a string
 * property, an IP literal or host name; Port not 0; TargetName empty or an
 * iSCSI name; ElementName a string property. For this host's access points
 * (local) the address must be an IP literal a socket can bind to. The
 * address's type goes to ret_type unless it is NULL.
 */
int validate_access_point_spec(const AccessPointSpec *spec, bool local, AddressType *ret_type, ReplError *e);

/*
 * The value rules of a shared secret: Username required; Secret and
 * MutualSecret SECRET_MIN to SECRET_MAX bytes of UTF-8; the mutual pair
 * given together or not at all. Messages never contain a secret.
 */
int validate_secret_spec(const SecretSpec *spec, ReplError *e);

