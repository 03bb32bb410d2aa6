#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to iscsi-replicationd
# GNU Lesser General Public License v2.1+ (see https://www.gnu.org/licenses/lgpl-2.1.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: collection
short_description: Manage a remote replication collection of iscsi-replicationd
version_added: 0.1.0
description:
  - Creates, changes or deletes a remote replication collection, which says which local access points replicate
    to which remote access points and peer systems. The collection is identified by its name (C(ElementName)).
  - Adding remote access points starts a job on the service that verifies each of them from each local access
    point (an iSCSI login); the change is committed only when every probe succeeds. The module follows the job
    to its end; a failed job fails the task with the job's C(ErrorDescription) in C(msg), and returns C(job),
    C(error_code) and C(message_id).
  - Members are named as in the other modules; they must be registered first (M(iscsi.replication.access_point),
    M(iscsi.replication.peer_system)).
options:
  name:
    description: The collection's C(ElementName); the collection's identity.
    type: str
    required: true
  local_access_points:
    description:
      - Local access points, each C(ADDRESS) or C(ADDRESS:PORT) (C([IPV6]:PORT) for IPv6); the port defaults
        to 3260.
      - Not given means none wanted (with C(members=exact), all are removed).
    type: list
    elements: str
    default: []
  remote_access_points:
    description: Remote access points; the peer system of each one joins the collection too.
    type: list
    elements: dict
    default: []
    suboptions:
      system:
        description: The peer's C(name) of M(iscsi.replication.peer_system).
        type: str
        required: true
      address:
        description: The access point's address.
        type: str
        required: true
      port:
        description: The access point's port.
        type: int
        default: 3260
      target_name:
        description: The access point's target name.
        type: str
        default: ''
  remote_systems:
    description: Peer systems (by name) that belong to the collection.
    type: list
    elements: str
    default: []
  members:
    description:
      - C(present) adds the members that are missing and leaves others alone.
      - C(exact) also removes every member not listed (removing a peer removes its access points).
    type: str
    choices: [present, exact]
    default: present
  active:
    description: Whether replication to the remote systems is enabled. New collections default to C(true).
    type: bool
  delete_on_unassociated:
    description:
      - Whether the service deletes the collection when its last access point leaves. New collections default
        to C(false).
    type: bool
  state:
    description: C(present) creates or updates the collection; C(absent) deletes it.
extends_documentation_fragment:
  - iscsi.replication.service
  - iscsi.replication.service.state
attributes:
  check_mode:
    description: No changing call is made; C(changed) and the diff say what would happen. No job is started.
  diff_mode:
    description: C(before) and C(after) hold the name, flags and members (as they are given in the options).
author:
  - iscsi-replicationd contributors
'''

EXAMPLES = r'''
- name: Replicate from this host's portal to the partner's disk
  iscsi.replication.collection:
    name: backup-set
    local_access_points:
      - 192.0.2.1
    remote_access_points:
      - system: iqn.2026-11.org.example.peer
        address: 192.0.2.10
        target_name: iqn.2026-11.org.example.peer:disk1
    members: exact
    active: true

- name: Pause replication, keep the members
  iscsi.replication.collection:
    name: backup-set
    active: false

- name: Delete it
  iscsi.replication.collection:
    name: backup-set
    state: absent
'''

RETURN = r'''
path:
  description: The collection's object path; empty when it does not exist.
  returned: always
  type: str
  sample: /org/iscsi/ReplicationService/collection/12
job:
  description:
    - The object path of the last job the task started, C(/) when none was needed.
    - On a failed job, the job that failed.
  returned: always
  type: str
  sample: /org/iscsi/ReplicationService/job/13
error_code:
  description: The CIM code of the failed job (3 Timeout, 4 Failed, ...).
  returned: failure of a job
  type: int
  sample: 4
message_id:
  description:
    - The stable reason of the failed job (C(Refused), C(TargetNotOffered), C(AuthenticationFailed), ...);
      branch on this, not on C(msg). Empty when the service does not report one.
  returned: failure of a job
  type: str
  sample: TargetNotOffered
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.iscsi.replication.plugins.module_utils.replication import (
    STATE_SPEC, JobFailed, ServiceError, WaitTimeout, access_point_spec, argument_spec, check_port, connect,
    fail_job, fail_service_error, split_portal)
from ansible_collections.iscsi.replication.plugins.module_utils.collection_plan import Members, NotRegistered, Planner


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(
            name=dict(type='str', required=True),
            local_access_points=dict(type='list', elements='str', default=[]),
            remote_access_points=dict(type='list', elements='dict', default=[], options=access_point_spec()),
            remote_systems=dict(type='list', elements='str', default=[]),
            members=dict(type='str', default='present', choices=['present', 'exact']),
            active=dict(type='bool'),
            delete_on_unassociated=dict(type='bool'),
            state=STATE_SPEC,
        ),
        supports_check_mode=True,
    )
    try:
        wanted = Members.from_params(module.params, split_portal)
    except ValueError as error:
        module.fail_json(msg=str(error))
    for point in wanted.remote:
        check_port(module, point[2])
    service = connect(module)
    planner = Planner(module, service, wanted)
    try:
        result = planner.run()
    except ServiceError as error:
        fail_service_error(module, error, path=planner.path, job=planner.job)
    except JobFailed as failure:
        fail_job(module, failure, path=planner.path)
    except (NotRegistered, ValueError) as error:
        module.fail_json(msg=str(error), path=planner.path)
    except WaitTimeout as error:
        module.fail_json(msg=str(error), path=planner.path, job=planner.job)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
