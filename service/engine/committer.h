/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The committer: the only code that begins, commits or rolls back a store
 * transaction (change.h explains group commit). change.c calls the first
 * three; the engine calls the rest.
 */

#include "change.h"

/* Changes in one group at most; the next change commits the group first. */
#define COMMITTER_GROUP_MAX 256

int committer_new(Engine *e);
void committer_free(Engine *e);

/* Opens the group's transaction if needed, then a savepoint for one change. */
int committer_open(Engine *e);
/* Keeps a submitted change (taken) for the group's commit. */
int committer_queue(Engine *e, Change *ch);
/* Takes back the change just queued (its savepoint could not be released). */
void committer_unqueue(Engine *e, Change *ch);
/* Undoes the open savepoint; if SQLite dropped the whole transaction, the group fails. */
void committer_undo(Engine *e);
