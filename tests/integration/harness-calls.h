/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Calling the service in the integration tests, beside harness.h: building
 * a{sv} arguments, asserting that a call the service turns away changes
 * nothing a client could see, and a few readings of its objects.
 */

#include <glib.h>

#include "harness.h"

/* An a{sv} of key, value pairs, NULL-terminated; the values' floating references are taken. */
GVariant *dict_of(const char *key, GVariant *value, ...) G_GNUC_NULL_TERMINATED;

/*
 * Asserts the call fails with error_name and that no object, property or
 * signal changed: the service's state before and after is the same, and
 * nothing was emitted.
 */
void assert_fails_unchanged(Harness *h, const char *path, const char *interface, const char *method,
                            GVariant *params, const char *error_name);

/* The size of the GetManagedObjects reply as sent, or 0 with *ret_error set to the error's name. */
gsize managed_objects_size(Harness *h, char **ret_error);

/* A collection's properties other than Job, printed: the membership a failed job must leave alone. */
char *collection_state(Harness *h, const char *collection);
