#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to iscsi-replicationd
# GNU Lesser General Public License v2.1+ (see https://www.gnu.org/licenses/lgpl-2.1.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: shared_secret
short_description: Set the CHAP credentials iscsi-replicationd uses for a remote access point
version_added: 0.1.0
description:
  - Stores CHAP credentials (and mutual CHAP credentials) for a remote access point, or deletes them.
  - The access point is named as in M(iscsi.replication.access_point), by C(system), C(address), C(port) and
    C(target_name).
  - Secrets are write-only on the bus, so the module cannot compare them. With C(update_secret=on_create) it
    changes nothing while the access point has a secret with the same usernames; with C(update_secret=always)
    it replaces the secret on every run and reports a change.
  - Secrets never appear in the task's output, also not at C(-vvv).
options:
  username:
    description: The CHAP user name. Required when C(state=present).
    type: str
  secret:
    description: The CHAP secret, 12 to 255 bytes. Required when C(state=present).
    type: str
  mutual_username:
    description: The user name the target answers mutual CHAP with; empty for no mutual CHAP.
    type: str
    default: ''
  mutual_secret:
    description: The secret the target proves itself with (mutual CHAP).
    type: str
  update_secret:
    description:
      - C(on_create) changes the secret only when the access point has none, or one with another C(username)
        or C(mutual_username).
      - C(always) replaces the secret and reports a change.
    type: str
    choices: [on_create, always]
    default: on_create
  state:
    description: C(present) stores the credentials; C(absent) deletes the access point's secret.
extends_documentation_fragment:
  - iscsi.replication.service
  - iscsi.replication.service.state
  - iscsi.replication.service.access_point
attributes:
  check_mode:
    description: Nothing is changed; C(changed) says whether the secret would be stored or deleted.
  diff_mode:
    description: C(before) and C(after) hold the user names, never a secret.
author:
  - iscsi-replicationd contributors
'''

EXAMPLES = r'''
- name: CHAP for the partner's portal, from the vault
  iscsi.replication.shared_secret:
    system: iqn.2026-11.org.example.peer
    address: 192.0.2.10
    target_name: iqn.2026-11.org.example.peer:disk1
    username: replication
    secret: "{{ vault_chap_secret }}"

- name: Rotate the secret (reports a change on every run)
  iscsi.replication.shared_secret:
    system: iqn.2026-11.org.example.peer
    address: 192.0.2.10
    target_name: iqn.2026-11.org.example.peer:disk1
    username: replication
    secret: "{{ vault_new_chap_secret }}"
    mutual_username: peer
    mutual_secret: "{{ vault_mutual_secret }}"
    update_secret: always
'''

RETURN = r'''
path:
  description: The shared secret's object path; empty when the access point has none.
  returned: always
  type: str
  sample: /org/iscsi/ReplicationService/secret/9
access_point:
  description: The access point's object path; empty when it does not exist (only possible in check mode).
  returned: always
  type: str
  sample: /org/iscsi/ReplicationService/access_point/7
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.iscsi.replication.plugins.module_utils.replication import (
    NULL_PATH, ROOT_PATH, SECRET_IFACE, SERVICE_IFACE, STATE_SPEC, access_point_spec, argument_spec, check_port,
    dbus_properties, delete_object, run_ensure, with_diff)


def view(props):
    if not props:
        return {}
    return dict(username=props.get('Username'), mutual_username=props.get('MutualUsername'))


def find_access_point(module, service):
    params = module.params
    found = service.find_named_access_point(params)[1]
    if not found and not (module.check_mode or params['state'] == 'absent'):
        module.fail_json(msg='no access point %s:%d with target name "%s" is registered for system "%s"'
                         % (params['address'], params['port'], params['target_name'], params['system']))
    return found


def current_secret(service, access_point):
    if not access_point or access_point[1].get('SharedSecret', NULL_PATH) == NULL_PATH:
        return '', None
    path = access_point[1]['SharedSecret']
    return path, service.objects_by_path(SECRET_IFACE).get(path)


def wanted_change(params, before):
    if params['update_secret'] == 'always' or not before:
        return True
    return (before.get('Username') != params['username'] or
            before.get('MutualUsername') != params['mutual_username'])


def store(service, params, access_point_path):
    props = dbus_properties(('Username', 's', params['username']), ('Secret', 's', params['secret']),
                            ('MutualUsername', 's', params['mutual_username'] or None),
                            ('MutualSecret', 's', params['mutual_secret']))
    return service.call(ROOT_PATH, SERVICE_IFACE, 'AddSharedSecret', '(a{sv}o)',
                        (props, access_point_path), '(uo)')[1]


def ensure(module, service):
    params = module.params
    access_point = find_access_point(module, service)
    path, before = current_secret(service, access_point)
    result = dict(changed=False, path=path, access_point=access_point[0] if access_point else '')

    if params['state'] == 'absent':
        after = None
        if before:
            delete_object(module, service, result, path, SECRET_IFACE)
    elif wanted_change(params, before):
        result['changed'] = True
        after = dict(Username=params['username'], MutualUsername=params['mutual_username'])
        if not module.check_mode:
            result['path'] = store(service, params, access_point[0])
    else:
        after = before
    return with_diff(module, result, before, after, view)


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(
            username=dict(type='str'),
            secret=dict(type='str', no_log=True),
            mutual_username=dict(type='str', default=''),
            mutual_secret=dict(type='str', no_log=True),
            update_secret=dict(type='str', default='on_create', choices=['on_create', 'always'], no_log=False),
            state=STATE_SPEC,
            **access_point_spec()
        ),
        required_if=[('state', 'present', ('username', 'secret'))],
        required_by={'mutual_secret': 'mutual_username'},
        supports_check_mode=True,
    )
    check_port(module, module.params['port'])
    if module.params['mutual_username'] and not module.params['mutual_secret'] and \
            module.params['state'] == 'present':
        module.fail_json(msg='mutual_username needs mutual_secret')
    run_ensure(module, ensure)


if __name__ == '__main__':
    main()
