/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The a{sv} arguments that test-service.c, test-access-points.c and
 * test-secrets.c build for AddServiceAccessPoint and AddSharedSecret.
 */

#include <glib.h>

/* {"Address": address, "Port": port}; no Port when port is 0. */
GVariant *ap_props(const char *address, guint16 port);

/* {"Username": username, "Secret": secret}; either left out when NULL. */
GVariant *secret_props(const char *username, const char *secret);
