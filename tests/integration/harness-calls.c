/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Calling the service in the integration tests (harness-calls.h). */

#include <stdarg.h>

#include "harness-calls.h"

GVariant *dict_of(const char *key, GVariant *value, ...) {
        GVariantBuilder b;
        va_list ap;

        g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
        va_start(ap, value);
        while (key) {
                g_variant_builder_add(&b, "{sv}", key, value);
                key = va_arg(ap, const char *);
                if (key)
                        value = va_arg(ap, GVariant *);
        }
        va_end(ap);
        return g_variant_builder_end(&b);
}

void assert_fails_unchanged(Harness *h, const char *path, const char *interface, const char *method,
                            GVariant *params, const char *error_name) {
        g_autofree char *before = harness_snapshot(h);
        harness_clear_signals(h);
        g_autofree char *message = harness_call_error(h, path, interface, method, params, error_name);
        g_test_message("%s: %s", method, message);
        g_autofree char *after = harness_snapshot(h);
        g_assert_cmpstr(before, ==, after);
        g_autoptr(GPtrArray) sigs = harness_take_signals(h, NULL, NULL, NULL);
        if (sigs->len > 0) {
                HarnessSignal *s = sigs->pdata[0];
                g_error("failed %s sent %s.%s on %s", method, s->interface, s->member, s->path);
        }
}
