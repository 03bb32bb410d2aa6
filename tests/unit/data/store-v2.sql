-- A schema version 2 state.db as store_save_*() of version 2 wrote it (commit f0de6ff):
-- one object of each kind; dumped with sqlite3's .dump. test-store-replica migrates it to the current version.
-- The CHAP secret is test data.
PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE meta (        singleton INTEGER PRIMARY KEY NOT NULL CHECK (singleton = 0),        next_id INTEGER NOT NULL);
INSERT INTO meta VALUES(0,8);
CREATE TABLE systems (        id INTEGER PRIMARY KEY NOT NULL CHECK (id <> 0),        name TEXT NOT NULL,        element_name TEXT NOT NULL,        reachable TEXT NOT NULL CHECK (reachable IN ('unknown', 'yes', 'no')),        last_verified INTEGER NOT NULL);
INSERT INTO systems VALUES(2,'iqn.2024-01.org.example:peer','Peer','yes',1700000000000000);
CREATE TABLE access_points (        id INTEGER PRIMARY KEY NOT NULL,        system_id INTEGER NOT NULL,        element_name TEXT NOT NULL,        address TEXT NOT NULL,        port INTEGER NOT NULL CHECK (port BETWEEN 0 AND 65535),        target_name TEXT NOT NULL,        portal_group_tag INTEGER NOT NULL CHECK (portal_group_tag BETWEEN 0 AND 65535),        secret_id INTEGER NOT NULL,        reachable TEXT NOT NULL CHECK (reachable IN ('unknown', 'yes', 'no')),        last_verified INTEGER NOT NULL,        last_error TEXT NOT NULL, last_error_id TEXT NOT NULL DEFAULT '');
INSERT INTO access_points VALUES(3,0,'Local portal','127.0.0.1',3260,'iqn.2024-01.org.example:source',0,0,'unknown',0,'','');
INSERT INTO access_points VALUES(4,2,'','127.0.0.2',3261,'iqn.2024-01.org.example:copy',0,5,'no',0,'Connection refused.','Refused');
CREATE TABLE secrets (        id INTEGER PRIMARY KEY NOT NULL,        access_point_id INTEGER NOT NULL,        username TEXT NOT NULL,        secret TEXT NOT NULL,        mutual_username TEXT NOT NULL,        mutual_secret TEXT NOT NULL);
INSERT INTO secrets VALUES(5,4,'chap-user','chap-secret-0123','','');
CREATE TABLE collections (        id INTEGER PRIMARY KEY NOT NULL,        element_name TEXT NOT NULL,        active INTEGER NOT NULL CHECK (active IN (0, 1)),        delete_on_unassociated INTEGER NOT NULL CHECK (delete_on_unassociated IN (0, 1)));
INSERT INTO collections VALUES(6,'Replication',1,0);
CREATE TABLE collection_members (        collection_id INTEGER NOT NULL REFERENCES collections (id) ON DELETE CASCADE,        kind TEXT NOT NULL CHECK (kind IN ('local', 'remote', 'system')),        member_id INTEGER NOT NULL,        PRIMARY KEY (collection_id, kind, member_id)) WITHOUT ROWID;
INSERT INTO collection_members VALUES(6,'local',3);
INSERT INTO collection_members VALUES(6,'remote',4);
INSERT INTO collection_members VALUES(6,'system',2);
CREATE TABLE jobs (        id INTEGER PRIMARY KEY NOT NULL,        name TEXT NOT NULL,        state INTEGER NOT NULL CHECK (state IN (2, 4, 5, 7, 8, 9, 10)),        status TEXT NOT NULL,        percent_complete INTEGER NOT NULL CHECK (percent_complete BETWEEN 0 AND 4294967295),        expected_end_time INTEGER NOT NULL,        time_submitted INTEGER NOT NULL,        start_time INTEGER NOT NULL,        time_of_last_state_change INTEGER NOT NULL,        delete_on_completion INTEGER NOT NULL CHECK (delete_on_completion IN (0, 1)),        time_before_removal INTEGER NOT NULL,        error_code INTEGER NOT NULL CHECK (error_code BETWEEN 0 AND 65535),        error_description TEXT NOT NULL,        error_source TEXT NOT NULL,        error_type INTEGER NOT NULL CHECK (error_type BETWEEN 0 AND 65535),        started_by_uid INTEGER NOT NULL CHECK (started_by_uid BETWEEN 0 AND 4294967295),        owner TEXT NOT NULL,        affected_elements TEXT NOT NULL,        collection_id INTEGER NOT NULL, message_id TEXT NOT NULL DEFAULT '');
INSERT INTO jobs VALUES(7,'Verify',7,'',0,0,1700000000000001,0,0,1,300000000,0,'','/',0,0,'','/org/iscsi/ReplicationService/access_point/4',0,'');
COMMIT;
PRAGMA user_version = 2;
