/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The service object's replica methods (API.md section 10), kept apart from
 * service.c; they are entries of the same interface, listed in its vtable.
 */

#include <systemd/sd-bus.h>

int bus_method_add_storage_volume(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_method_create_element_replica(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_method_modify_replica_synchronization(sd_bus_message *m, void *userdata, sd_bus_error *error);
