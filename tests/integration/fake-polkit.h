/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A recording stand-in for polkit's authority on the private bus. Beside the
 * tests against the real polkitd (test-polkit-refusals, -grants and
 * -pending), it shows what the service asks, which the real one cannot: the
 * flags of each CheckAuthorization, where 1 means the caller allowed
 * interactive authorization. It serves from a thread of its own, so a test
 * may block in a call to the service while the service asks it.
 */

#include <glib.h>

typedef struct FakePolkit FakePolkit;

/* Owns org.freedesktop.PolicyKit1 on the bus at address; answers every check with `authorized`. */
FakePolkit *fake_polkit_start(const char *bus_address, gboolean authorized);
/* Releases the name and stops the thread. */
void fake_polkit_stop(FakePolkit *p);
/* Every CheckAuthorization so far, one "ACTION FLAGS" line each, in order; the record is then emptied. */
char *fake_polkit_take_checks(FakePolkit *p);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(FakePolkit, fake_polkit_stop)
