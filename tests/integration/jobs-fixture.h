/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What the jobs tests (test-jobs.c, test-jobs-verify.c) share: a scene of
 * one collection and one peer served by a fake iSCSI socket on 127.0.0.2,
 * and the reading of a job's state, its changes and its end.
 */

#include <glib.h>

#include "harness.h"

#define PROPERTIES "org.freedesktop.DBus.Properties"
#define PEER_IQN "iqn.2024-01.org.example:peer"

/* A collection holding one local portal, and a peer with one portal served by `kind`. */
typedef struct Scene {
        HarnessPeer *peer_socket;
        char *local;
        char *peer;
        char *remote;
        char *remote_name;              /* its Name, "127.0.0.2:port" */
        char *collection;
} Scene;

void scene_init(Harness *h, Scene *s, HarnessPeerKind kind);
void scene_clear(Scene *s);
/* AddTo with the scene's remote portal and system; asserts a job started. */
char *scene_start_add(Harness *h, Scene *s);

guint16 job_state(Harness *h, const char *job);
/* RequestStateChange(state) on job; asserts it returned 0 or 4096, and returns that. */
guint32 request_state_change(Harness *h, const char *job, guint16 state);

/*
 * Waits for Completed and checks the ordering the contract promises: the
 * job's final state was announced by PropertiesChanged before Completed,
 * and nothing about the job changed after it. Returns Completed's arguments.
 */
GVariant *wait_completed(Harness *h, const char *job, guint16 final_state);

/* Asserts OperationalStatus holds 17 (Completed) and health. */
void assert_operational_status(Harness *h, const char *job, guint16 health);
