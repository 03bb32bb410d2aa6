/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The write-ahead log's room: the store gives the log its full size in
 * written zeros when it opens and after a secret's deletion empties it, so a
 * commit overwrites blocks the file already has instead of growing the file
 * (which costs its sync a second write, of the file's size and blocks). The
 * zeros must never be taken for data: a store killed with frames in the log
 * opens again with exactly what was committed.
 */

#include <errno.h>
#include <glib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store-fixture.h"
#include "unit-util.h"

/* SQLite's default wal_autocheckpoint of 1000 pages of 4 KiB, each with its frame header, after the log's header. */
#define RESERVED_SIZE (32 + 1000 * (24 + 4096))

static char *wal_path(Fixture *f) {
        return g_strconcat(f->db_path, "-wal", NULL);
}

static struct stat wal_stat(Fixture *f) {
        g_autofree char *wal = wal_path(f);
        struct stat st;

        g_assert_cmpint(stat(wal, &st), ==, 0);
        return st;
}

/* The log has its room, every byte of it on disk: a hole would be allocated by the first commit's sync. */
static void assert_reserved(Fixture *f) {
        struct stat st = wal_stat(f);

        g_assert_cmpint(st.st_size, >=, RESERVED_SIZE);
        g_assert_cmpint((int64_t) st.st_blocks * 512, >=, RESERVED_SIZE);
}

static void save_systems(Store *s, uint64_t first, unsigned n) {
        for (uint64_t id = first; id < first + n; id++) {
                g_assert_cmpint(store_begin(s), ==, 0);
                g_assert_cmpint(save_peer_system(s, id), ==, 0);
                g_assert_cmpint(store_commit(s), ==, 0);
        }
}

static unsigned stored_peers(Fixture *f) {
        Model *m = stored_model_of(f->dir, LOCAL_NAME);
        unsigned n = 0;

        MODEL_FOREACH(System, x, m->systems)
                n += x->id != LOCAL_SYSTEM_ID;
        model_free(m);
        return n;
}

static void test_reserved_at_open(Fixture *f, gconstpointer data) {
        g_autofree char *wal = wal_path(f);

        assert_reserved(f);

        /* So is the log of a file that already exists. */
        f->store = store_close(f->store);
        g_assert_false(g_file_test(wal, G_FILE_TEST_EXISTS));
        g_assert_cmpint(store_open(f->dir, &f->store), ==, 0);
        assert_reserved(f);
}

/* Hundreds of commits, each its own sync, and the log's file never changes size. */
static void test_commits_overwrite(Fixture *f, gconstpointer data) {
        struct stat before = wal_stat(f), after;

        save_systems(f->store, 2, 300);
        after = wal_stat(f);
        g_assert_cmpint(after.st_size, ==, before.st_size);
        g_assert_cmpint(after.st_blocks, ==, before.st_blocks);
        g_assert_cmpuint(stored_peers(f), ==, 300);
}

/* A process that dies with committed frames in a reserved log leaves exactly those to the next open. */
static void test_killed_with_frames_in_log(Fixture *f, gconstpointer data) {
        int status = 0;
        pid_t pid;

        f->store = store_close(f->store);
        pid = fork();
        g_assert_cmpint(pid, >=, 0);
        if (pid == 0) {
                Store *s = NULL;

                if (store_open(f->dir, &s) < 0)
                        _exit(2);
                save_systems(s, 2, 5);
                _exit(0);       /* never closed: no checkpoint, the frames stay in the log */
        }
        g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
        g_assert_true(WIFEXITED(status));
        g_assert_cmpint(WEXITSTATUS(status), ==, 0);
        assert_reserved(f);

        g_assert_cmpuint(stored_peers(f), ==, 5);
        g_assert_cmpint(store_open(f->dir, &f->store), ==, 0);
        save_systems(f->store, 7, 1);
        g_assert_cmpuint(stored_peers(f), ==, 6);
}

/* Deleting a secret cuts the log to nothing; it gets its room back before the next commit. */
static void test_reserved_after_secret_deleted(Fixture *f, gconstpointer data) {
        SharedSecret *x = secret_new();

        g_assert_nonnull(x);
        x->id = 9;
        set_string(&x->secret, "log-room-GGGGGGGG");
        g_assert_cmpint(store_save_secret(f->store, x), ==, 0);
        g_assert_cmpint(store_delete_secret(f->store, 9), ==, 0);
        assert_reserved(f);
        secret_free(x);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, Fixture, NULL, setup_open, fn, teardown)
        ADD("/store/log/reserved-at-open", test_reserved_at_open);
        ADD("/store/log/commits-overwrite", test_commits_overwrite);
        ADD("/store/log/killed-with-frames-in-log", test_killed_with_frames_in_log);
        ADD("/store/log/reserved-after-secret-deleted", test_reserved_after_secret_deleted);
        return g_test_run();
}
