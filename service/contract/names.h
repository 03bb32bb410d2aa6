/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The names of the D-Bus contract (API.md sections 1, 2 and 10): the bus name,
 * object paths, interfaces and error names. The service and iscsi-replctl
 * both take them from here, so they cannot disagree. Strings only: no
 * D-Bus library, no SQLite.
 */

#define SERVICE_BUS_NAME "org.iscsi.ReplicationService"

#define SERVICE_ROOT_PATH "/org/iscsi/ReplicationService"
#define LOCAL_SYSTEM_PATH SERVICE_ROOT_PATH "/system/local"
/* The NULL reference. */
#define NULL_PATH "/"

/* Objects of a kind live at "<prefix>/<id>", ids decimal from 1 (object-path.h). */
#define SYSTEM_PATH_PREFIX SERVICE_ROOT_PATH "/system"
#define ACCESS_POINT_PATH_PREFIX SERVICE_ROOT_PATH "/access_point"
#define COLLECTION_PATH_PREFIX SERVICE_ROOT_PATH "/collection"
#define SECRET_PATH_PREFIX SERVICE_ROOT_PATH "/secret"
#define JOB_PATH_PREFIX SERVICE_ROOT_PATH "/job"
#define VOLUME_PATH_PREFIX SERVICE_ROOT_PATH "/volume"
#define SYNCHRONIZATION_PATH_PREFIX SERVICE_ROOT_PATH "/synchronization"

#define SERVICE_INTERFACE "org.iscsi.ReplicationService"
#define SYSTEM_INTERFACE "org.iscsi.ReplicationService.ComputerSystem"
#define ACCESS_POINT_INTERFACE "org.iscsi.ReplicationService.ServiceAccessPoint"
#define COLLECTION_INTERFACE "org.iscsi.ReplicationService.RemoteReplicationCollection"
#define SECRET_INTERFACE "org.iscsi.ReplicationService.SharedSecret"
#define JOB_INTERFACE "org.iscsi.ReplicationService.Job"
#define VOLUME_INTERFACE "org.iscsi.ReplicationService.StorageVolume"
#define SYNCHRONIZATION_INTERFACE "org.iscsi.ReplicationService.StorageSynchronized"

/* The service's own errors; which errno each stands for is decided in service/bus/errors.c only. */
#define BUS_ERROR_NOT_SUPPORTED "org.iscsi.ReplicationService.Error.NotSupported"
#define BUS_ERROR_UNKNOWN "org.iscsi.ReplicationService.Error.Unknown"
#define BUS_ERROR_TIMEOUT "org.iscsi.ReplicationService.Error.Timeout"
#define BUS_ERROR_FAILED "org.iscsi.ReplicationService.Error.Failed"
#define BUS_ERROR_INVALID_PARAMETER "org.iscsi.ReplicationService.Error.InvalidParameter"
#define BUS_ERROR_IN_USE "org.iscsi.ReplicationService.Error.InUse"
#define BUS_ERROR_INVALID_STATE_TRANSITION "org.iscsi.ReplicationService.Error.InvalidStateTransition"
