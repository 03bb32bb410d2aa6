/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fault injection into the store, for tests (store.h says who arms it). Each
 * kind fails where the real failure would: a row write before SQLite runs the
 * statement, as when the statement cannot get the disk space; a commit
 * through SQLite's commit hook, which turns COMMIT into a rollback just as a
 * failed commit does; a sync inside SQLite's own I/O, where the open
 * write-ahead-log file gets a copy of its methods whose xSync reports
 * SQLITE_IOERR_FSYNC, so SQLite abandons the commit it could not make
 * durable.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store-fault.h"
#include "util/macros.h"

static const char * const fault_names[_STORE_FAULT_MAX] = {
        [STORE_FAULT_NONE] = "none",
        [STORE_FAULT_WRITE] = "write",
        [STORE_FAULT_COMMIT] = "commit",
        [STORE_FAULT_SYNC] = "sync",
};

/*
 * The write-ahead log whose xSync is replaced. A methods table is shared by
 * every file of its type, so the shim is a copy hung on one file; one sync
 * fault can be armed in a process at a time.
 */
static struct {
        sqlite3_file *file;
        const sqlite3_io_methods *real;
        sqlite3_io_methods shim;
        StoreFaultPlan *plan;
} wal_sync;

/**
 * store_fault_plan_hit() - count one occurrence of a fault's kind
 * @p:    the store's plan
 * @kind: what is about to happen: a row write, a commit or a sync
 *
 * Return: true when this occurrence is the one to fail; the plan is then spent.
 */
bool store_fault_plan_hit(StoreFaultPlan *p, StoreFault kind) {
        if (p->kind != kind)
                return false;
        if (p->countdown > 0) {
                p->countdown--;
                return false;
        }
        p->kind = STORE_FAULT_NONE;
        return true;
}

static int wal_sync_fail(sqlite3_file *f, int flags) {
        if (store_fault_plan_hit(wal_sync.plan, STORE_FAULT_SYNC))
                return SQLITE_IOERR_FSYNC;
        return wal_sync.real->xSync(f, flags);
}

static int commit_fail(void *userdata) {
        /* Non-zero turns the COMMIT into a rollback. */
        return store_fault_plan_hit(userdata, STORE_FAULT_COMMIT);
}

static int wal_sync_attach(StoreFaultPlan *p, sqlite3 *db) {
        sqlite3_file *f = NULL;

        if (wal_sync.file)
                return -EBUSY;
        if (sqlite3_file_control(db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &f) != SQLITE_OK || !f || !f->pMethods)
                return -ENXIO;  /* no write-ahead log open */
        wal_sync.real = f->pMethods;
        wal_sync.shim = *f->pMethods;
        wal_sync.shim.xSync = wal_sync_fail;
        wal_sync.plan = p;
        wal_sync.file = f;
        f->pMethods = &wal_sync.shim;
        return 0;
}

/**
 * store_fault_plan_disarm() - forget the armed fault
 * @p:  the store's plan
 * @db: its connection, or NULL
 *
 * Removes the commit hook and gives the write-ahead log its own methods back.
 */
void store_fault_plan_disarm(StoreFaultPlan *p, sqlite3 *db) {
        if (db)
                sqlite3_commit_hook(db, NULL, NULL);
        if (wal_sync.plan == p) {
                wal_sync.file->pMethods = wal_sync.real;
                memset(&wal_sync, 0, sizeof(wal_sync));
        }
        *p = (StoreFaultPlan) { .kind = STORE_FAULT_NONE };
}

/**
 * store_fault_plan_arm() - arm a fault, replacing the one armed before
 * @p:    the store's plan
 * @db:   its connection
 * @kind: what fails; STORE_FAULT_NONE only disarms
 * @nth:  which occurrence, 1 for the next
 *
 * Return: 0; -EINVAL; -EBUSY when another store has a sync fault armed;
 * -ENXIO when no write-ahead log is open.
 */
int store_fault_plan_arm(StoreFaultPlan *p, sqlite3 *db, StoreFault kind, unsigned nth) {
        int r;

        if ((unsigned) kind >= _STORE_FAULT_MAX || (kind != STORE_FAULT_NONE && nth == 0))
                return -EINVAL;
        store_fault_plan_disarm(p, db);
        if (kind == STORE_FAULT_COMMIT)
                sqlite3_commit_hook(db, commit_fail, p);
        else if (kind == STORE_FAULT_SYNC) {
                r = wal_sync_attach(p, db);
                if (r < 0)
                        return r;
        }
        if (kind != STORE_FAULT_NONE)
                *p = (StoreFaultPlan) { .kind = kind, .countdown = nth - 1 };
        return 0;
}

/**
 * store_fault_parse() - read a fault from its text form
 * @spec:     "write:N", "commit:N" or "sync:N", N >= 1
 * @ret_kind: the kind, written only on success
 * @ret_nth:  N, written only on success
 *
 * Return: 0 or -EINVAL.
 */
int store_fault_parse(const char *spec, StoreFault *ret_kind, unsigned *ret_nth) {
        const char *colon = spec ? strchr(spec, ':') : NULL;
        unsigned long n;
        char *end;

        if (!colon || colon[1] < '1' || colon[1] > '9')
                return -EINVAL;
        errno = 0;
        n = strtoul(colon + 1, &end, 10);
        if (errno != 0 || *end != '\0' || n > UINT32_MAX)
                return -EINVAL;
        for (StoreFault k = STORE_FAULT_WRITE; k < _STORE_FAULT_MAX; k++)
                if (strlen(fault_names[k]) == (size_t) (colon - spec) &&
                    strncmp(spec, fault_names[k], colon - spec) == 0) {
                        *ret_kind = k;
                        *ret_nth = (unsigned) n;
                        return 0;
                }
        return -EINVAL;
}
