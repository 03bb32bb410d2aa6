/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The registry tests' arguments (service-fixture.h). */

#include "service-fixture.h"

GVariant *ap_props(const char *address, guint16 port) {
        GVariantBuilder b;
        g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
        g_variant_builder_add(&b, "{sv}", "Address", g_variant_new_string(address));
        if (port)
                g_variant_builder_add(&b, "{sv}", "Port", g_variant_new_uint16(port));
        return g_variant_builder_end(&b);
}

GVariant *secret_props(const char *username, const char *secret) {
        GVariantBuilder b;
        g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
        if (username)
                g_variant_builder_add(&b, "{sv}", "Username", g_variant_new_string(username));
        if (secret)
                g_variant_builder_add(&b, "{sv}", "Secret", g_variant_new_string(secret));
        return g_variant_builder_end(&b);
}
