#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to iscsi-replicationd
# GNU Lesser General Public License v2.1+ (see https://www.gnu.org/licenses/lgpl-2.1.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: access_point
short_description: Register an iSCSI network portal of this host or of a peer with iscsi-replicationd
version_added: 0.1.0
description:
  - Registers a service access point (an iSCSI network portal) of this host (C(system=local)) or of a registered
    peer system, or removes it.
  - An access point is identified by C(system), C(address), C(port) and C(target_name).
  - Its C(ElementName) and C(PortalGroupTag) cannot be changed once registered (the service has no method for
    it); different values for an existing access point fail the task.
options:
  system:
    description:
      - C(local) for this host, else the C(name) of M(iscsi.replication.peer_system) of a registered peer.
  address:
    description:
      - IPv4 or IPv6 literal; for a peer also a host name. For C(local), an address of this host.
  port:
    description: TCP port of the portal.
  target_name:
    description: The iSCSI target node name behind the portal; empty for none.
  portal_group_tag:
    description: The portal group tag. Left to the service's default when not given.
    type: int
  element_name:
    description: A user-friendly name. Left as it is when not given.
    type: str
  state:
    description:
      - C(present) registers the access point; C(absent) deletes it (and its shared secret). Deleting fails
        with C(InUse) while a collection holds it.
extends_documentation_fragment:
  - iscsi.replication.service
  - iscsi.replication.service.state
  - iscsi.replication.service.access_point
attributes:
  check_mode:
    description: Nothing is changed; C(changed) says whether the access point would be added or deleted.
  diff_mode:
    description: C(before) and C(after) hold the access point's identity and names, empty when it does not exist.
author:
  - iscsi-replicationd contributors
'''

EXAMPLES = r'''
- name: The portal this host replicates from
  iscsi.replication.access_point:
    system: local
    address: 192.0.2.1

- name: The partner's portal and the target behind it
  iscsi.replication.access_point:
    system: iqn.2026-11.org.example.peer
    address: 192.0.2.10
    port: 3260
    target_name: iqn.2026-11.org.example.peer:disk1
    element_name: partner disk 1
'''

RETURN = r'''
path:
  description: The access point's object path; empty when it does not exist.
  returned: always
  type: str
  sample: /org/iscsi/ReplicationService/access_point/7
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.iscsi.replication.plugins.module_utils.replication import (
    ACCESS_POINT_IFACE, ROOT_PATH, SERVICE_IFACE, STATE_SPEC, access_point_spec, argument_spec, check_port,
    dbus_properties, ensure_object, run_ensure)


def view(system, props):
    if not props:
        return {}
    return dict(system=system, address=props.get('Address'), port=props.get('Port'),
                target_name=props.get('TargetName'), element_name=props.get('ElementName'),
                portal_group_tag=props.get('PortalGroupTag'))


def refuse_changes(module, path, props):
    params = module.params
    for option, prop in (('element_name', 'ElementName'), ('portal_group_tag', 'PortalGroupTag')):
        if params[option] is not None and params[option] != props.get(prop):
            module.fail_json(msg='access point %s has %s %r; the service cannot change it (delete and add it again)'
                             % (path, prop, props.get(prop)), path=path)


def add(module, service, system_path):
    params = module.params
    props = dbus_properties(('Address', 's', params['address']), ('Port', 'q', params['port']),
                            ('TargetName', 's', params['target_name']),
                            ('PortalGroupTag', 'q', params['portal_group_tag']),
                            ('ElementName', 's', params['element_name']))
    path = service.call(ROOT_PATH, SERVICE_IFACE, 'AddServiceAccessPoint', '(oa{sv})',
                        (system_path, props), '(uo)')[1]
    return path, service.objects_by_path(ACCESS_POINT_IFACE).get(path)


def ensure(module, service):
    params = module.params
    system, found = service.find_named_access_point(params)
    if not system and params['state'] == 'present' and not module.check_mode:
        module.fail_json(msg='no peer system is called "%s" (register it with iscsi.replication.peer_system)'
                         % params['system'])
    planned = dict(Address=params['address'], Port=params['port'], TargetName=params['target_name'],
                   ElementName=params['element_name'] or '', PortalGroupTag=params['portal_group_tag'])
    return ensure_object(module, service, found, ACCESS_POINT_IFACE, planned,
                         refuse=refuse_changes,
                         create=lambda: add(module, service, system[0]),
                         view=lambda props: view(params['system'], props))


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(
            portal_group_tag=dict(type='int'),
            element_name=dict(type='str'),
            state=STATE_SPEC,
            **access_point_spec()
        ),
        supports_check_mode=True,
    )
    check_port(module, module.params['port'])
    if module.params['portal_group_tag'] is not None and not 0 <= module.params['portal_group_tag'] < 65536:
        module.fail_json(msg='portal_group_tag must be 0-65535')
    run_ensure(module, ensure)


if __name__ == '__main__':
    main()
