/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The store's side of fault injection (store.h declares what tests call):
 * one armed fault per Store, counted down at the places where SQLite writes
 * a row, commits, and syncs the write-ahead log.
 */

#include <sqlite3.h>
#include <stdbool.h>

#include "store.h"

typedef struct StoreFaultPlan {
        StoreFault kind;
        unsigned countdown;     /* occurrences of kind still to pass before one fails */
} StoreFaultPlan;

int store_fault_plan_arm(StoreFaultPlan *p, sqlite3 *db, StoreFault kind, unsigned nth);
void store_fault_plan_disarm(StoreFaultPlan *p, sqlite3 *db);
/* True when this occurrence of kind is the one to fail; the plan is then spent. */
bool store_fault_plan_hit(StoreFaultPlan *p, StoreFault kind);
