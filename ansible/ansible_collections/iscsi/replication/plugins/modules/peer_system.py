#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to iscsi-replicationd
# GNU Lesser General Public License v2.1+ (see https://www.gnu.org/licenses/lgpl-2.1.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: peer_system
short_description: Register a remote computer system with iscsi-replicationd
version_added: 0.1.0
description:
  - Registers a peer system (a remote host, by iSCSI node name or host name) with the replication service, or
    removes it. The peer is identified by C(name).
  - A peer's C(ElementName) cannot be changed once registered (the service has no method for it); a different
    C(element_name) for an existing peer fails the task.
options:
  name:
    description:
      - The peer's iSCSI node name (C(iqn.), C(eui.), C(naa.)) or host name. Its C(NameFormat) follows from it.
    type: str
    required: true
  element_name:
    description:
      - A user-friendly name for the peer. Left as it is when not given.
    type: str
  state:
    description:
      - C(present) registers the peer; C(absent) deletes it (fails with C(InUse) while a collection holds it).
extends_documentation_fragment:
  - iscsi.replication.service
  - iscsi.replication.service.state
attributes:
  check_mode:
    description: Nothing is changed; C(changed) says whether the peer would be added or deleted.
  diff_mode:
    description: C(before) and C(after) hold the peer's C(Name) and C(ElementName), empty when it does not exist.
author:
  - iscsi-replicationd contributors
'''

EXAMPLES = r'''
- name: Register the replication partner
  iscsi.replication.peer_system:
    name: iqn.2026-11.org.example.peer
    element_name: peer in the second room

- name: Forget a peer on a private bus
  iscsi.replication.peer_system:
    name: old-peer.example.org
    state: absent
    bus_address: unix:path=/run/test/bus
'''

RETURN = r'''
path:
  description: The peer's object path; empty when it does not exist (after C(absent), or in check mode before creation).
  returned: always
  type: str
  sample: /org/iscsi/ReplicationService/system/3
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.iscsi.replication.plugins.module_utils.replication import (
    ROOT_PATH, SERVICE_IFACE, STATE_SPEC, SYSTEM_IFACE, argument_spec, dbus_properties, ensure_object, run_ensure)


def view(props):
    if not props:
        return {}
    return dict(name=props.get('Name'), element_name=props.get('ElementName'))


def refuse_rename(module, path, props):
    wanted = module.params['element_name']
    if wanted is not None and wanted != props.get('ElementName'):
        module.fail_json(msg='peer %s is called "%s"; the service cannot rename a peer (delete and add it again)'
                         % (module.params['name'], props.get('ElementName')), path=path)


def add(module, service, planned):
    params = module.params
    props = dbus_properties(('ElementName', 's', params['element_name']))
    path = service.call(ROOT_PATH, SERVICE_IFACE, 'AddPeerSystem', '(sa{sv})', (params['name'], props), '(uo)')[1]
    return path, service.objects_by_path(SYSTEM_IFACE).get(path, planned)


def ensure(module, service):
    params = module.params
    planned = dict(Name=params['name'], ElementName=params['element_name'] or '')
    return ensure_object(module, service, service.find_system(params['name']), SYSTEM_IFACE, planned,
                         refuse=refuse_rename,
                         create=lambda: add(module, service, planned), view=view)


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(
            name=dict(type='str', required=True),
            element_name=dict(type='str'),
            state=STATE_SPEC,
        ),
        supports_check_mode=True,
    )
    if module.params['name'] == 'local':
        module.fail_json(msg='"local" names this host, which is not a peer system')
    run_ensure(module, ensure)


if __name__ == '__main__':
    main()
