#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to iscsi-replicationd
# GNU Lesser General Public License v2.1+ (see https://www.gnu.org/licenses/lgpl-2.1.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: info
short_description: Read what iscsi-replicationd holds
version_added: 0.1.0
description:
  - Returns every peer system, access point, shared secret (user names only), collection and job of the
    replication service, each as a dict of all its D-Bus properties (with their D-Bus names) plus C(path).
  - With C(wait=true) (the default), jobs running when the module starts are waited for first (up to
    C(wait_timeout) seconds), so that what it returns has settled.
extends_documentation_fragment:
  - iscsi.replication.service
attributes:
  check_mode:
    support: full
    description: The module changes nothing; it runs the same in check mode.
  diff_mode:
    support: none
    description: It changes nothing, so there is nothing to show.
author:
  - iscsi-replicationd contributors
'''

EXAMPLES = r'''
- name: What does the service hold?
  iscsi.replication.info:
  register: replication

- name: Collections that are switched off
  ansible.builtin.debug:
    msg: "{{ replication.collections | rejectattr('Active') | map(attribute='ElementName') | list }}"

- name: Failed verification jobs and why
  ansible.builtin.debug:
    msg: "{{ replication.jobs | selectattr('JobState', 'equalto', 10) | map(attribute='ErrorDescription') | list }}"
'''

RETURN = r'''
service:
  description: The service object's properties (C(Version), C(InitiatorName), C(VerifyAccessPoints), ...).
  returned: always
  type: dict
  sample: {"Version": "0.1.0", "VerifyAccessPoints": true, "path": "/org/iscsi/ReplicationService"}
local_system:
  description: This host's C(ComputerSystem) object.
  returned: always
  type: dict
peer_systems:
  description: Every peer system (C(Name), C(NameFormat), C(ElementName), C(AccessPoints), C(Collections),
    C(Reachable), ...), sorted by path.
  returned: always
  type: list
  elements: dict
  sample: [{"Name": "iqn.2026-11.org.example.peer", "NameFormat": "IQN", "Reachable": "yes",
            "path": "/org/iscsi/ReplicationService/system/1"}]
access_points:
  description: Every access point, local and remote (C(Name), C(System), C(Address), C(Port), C(TargetName),
    C(SharedSecret), C(Reachable), C(LastError), ...).
  returned: always
  type: list
  elements: dict
shared_secrets:
  description: Every shared secret's C(Username), C(MutualUsername) and C(ServiceAccessPoint); secrets are
    write-only and never returned.
  returned: always
  type: list
  elements: dict
collections:
  description: Every collection (C(ElementName), C(Active), C(LocalAccessPoints), C(RemoteAccessPoints),
    C(RemoteSystems), C(Job), ...).
  returned: always
  type: list
  elements: dict
jobs:
  description: Every job the service keeps (C(Name), C(JobState), C(ErrorCode), C(ErrorDescription),
    C(AffectedElements), ...).
  returned: always
  type: list
  elements: dict
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.iscsi.replication.plugins.module_utils.replication import (
    ACCESS_POINT_IFACE, COLLECTION_IFACE, JOB_IFACE, ROOT_PATH, SECRET_IFACE, SERVICE_IFACE, SYSTEM_IFACE,
    ServiceError, WaitTimeout, argument_spec, connect, fail_service_error)


def with_path(path, props):
    entry = dict(props)
    entry['path'] = path
    return entry


def gather(service):
    service_props = service.call(ROOT_PATH, 'org.freedesktop.DBus.Properties', 'GetAll', '(s)', (SERVICE_IFACE,),
                                 '(a{sv})')[0]
    systems = [with_path(path, props) for path, props in service.objects(SYSTEM_IFACE)]
    local = [entry for entry in systems if entry.get('IsLocal')]
    return dict(
        changed=False,
        service=with_path(ROOT_PATH, service_props),
        local_system=local[0] if local else {},
        peer_systems=[entry for entry in systems if not entry.get('IsLocal')],
        access_points=[with_path(path, props) for path, props in service.objects(ACCESS_POINT_IFACE)],
        shared_secrets=[with_path(path, props) for path, props in service.objects(SECRET_IFACE)],
        collections=[with_path(path, props) for path, props in service.objects(COLLECTION_IFACE)],
        jobs=[with_path(path, props) for path, props in service.objects(JOB_IFACE)],
    )


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    service = connect(module)
    try:
        if module.params['wait']:
            service.wait_for_running_jobs(module.params['wait_timeout'])
        result = gather(service)
    except ServiceError as error:
        fail_service_error(module, error)
    except WaitTimeout as error:
        module.fail_json(msg=str(error))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
