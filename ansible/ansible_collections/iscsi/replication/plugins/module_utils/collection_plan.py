# -*- coding: utf-8 -*-
# Copyright: contributors to iscsi-replicationd
# GNU Lesser General Public License v2.1+ (see https://www.gnu.org/licenses/lgpl-2.1.txt)
"""What iscsi.replication.collection wants, what the service has, and the calls between them.

Members are compared by the names a playbook uses (address and port, peer name
and portal), never by object path, so that the diff reads like the task.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.iscsi.replication.plugins.module_utils.replication import (
    ACCESS_POINT_IFACE, COLLECTION_IFACE, JOB_IFACE, LOCAL_SYSTEM, NULL_PATH, ROOT_PATH, SERVICE_IFACE,
    SYSTEM_IFACE, dbus_properties, portal_name)

SIGNATURE_MEMBERS = '(aoaooo)'


class NotRegistered(Exception):
    """A member named in the task that the service does not know (or knows twice)."""


class Members(object):
    """local: {(address, port)}; remote: {(system, address, port, target)}; systems: {name}."""

    def __init__(self, local=(), remote=(), systems=()):
        self.local = set(local)
        self.remote = set(remote)
        self.systems = set(systems) | set(point[0] for point in self.remote)

    @classmethod
    def from_params(cls, params, split_portal):
        local = [split_portal(text) for text in params['local_access_points']]
        remote = [(p['system'], p['address'], p['port'], p['target_name'])
                  for p in params['remote_access_points']]
        return cls(local, remote, params['remote_systems'])

    def union(self, other):
        return Members(self.local | other.local, self.remote | other.remote, self.systems | other.systems)

    def view(self):
        return dict(
            local_access_points=sorted(portal_name(address, port) for address, port in self.local),
            remote_access_points=[dict(system=s, address=a, port=p, target_name=t)
                                  for s, a, p, t in sorted(self.remote)],
            remote_systems=sorted(self.systems),
        )


class Planner(object):
    """Brings one collection to the state the module's parameters describe."""

    def __init__(self, module, service, wanted):
        self.module = module
        self.params = module.params
        self.service = service
        self.wanted = wanted
        self.path = ''
        self.job = NULL_PATH
        self.warnings = []
        self.systems = {}
        self.points = {}

    # ------------------------------------------------------------ the service's objects

    def _index(self):
        objects = self.service.managed_objects()
        for path, ifaces in objects.items():
            if SYSTEM_IFACE in ifaces:
                self.systems[path] = ifaces[SYSTEM_IFACE]
            if ACCESS_POINT_IFACE in ifaces:
                self.points[path] = ifaces[ACCESS_POINT_IFACE]

    def system_path(self, name):
        for path, props in self.systems.items():
            if not props.get('IsLocal') and props.get('Name') == name:
                return path
        return None

    def local_point_path(self, address, port):
        """The local access point at address:port; one without a target name when there are several."""
        found = [path for path, props in self.points.items()
                 if props.get('System') == LOCAL_SYSTEM and props.get('Address') == address and
                 props.get('Port') == port]
        if len(found) > 1:
            found = [path for path in found if self.points[path].get('TargetName') == '']
            if len(found) != 1:
                raise NotRegistered('more than one local access point is %s' % portal_name(address, port))
        return found[0] if found else None

    def remote_point_path(self, key):
        system = self.system_path(key[0])
        for path, props in self.points.items():
            if (system and props.get('System') == system and props.get('Address') == key[1] and
                    props.get('Port') == key[2] and props.get('TargetName') == key[3]):
                return path
        return None

    def members_of(self, props):
        """The collection's members, named as a playbook names them."""
        local = [(self.points[p]['Address'], self.points[p]['Port']) for p in props['LocalAccessPoints']]
        remote = []
        for path in props['RemoteAccessPoints']:
            point = self.points[path]
            remote.append((self.systems[point['System']]['Name'], point['Address'], point['Port'],
                           point['TargetName']))
        members = Members(local, remote)
        members.systems |= set(self.systems[p]['Name'] for p in props['RemoteSystems'])
        return members

    def resolve(self, members):
        """Object paths of members: (local, {system: [remote]}, systems); unknown names fail."""
        missing = []
        local = []
        for address, port in sorted(members.local):
            path = self.local_point_path(address, port)
            local.append(path) if path else missing.append('local access point %s' % portal_name(address, port))
        remote = {}
        for key in sorted(members.remote):
            path = self.remote_point_path(key)
            if path:
                remote.setdefault(self.system_path(key[0]), []).append(path)
            else:
                missing.append('access point %s (target name "%s") of system "%s"'
                               % (portal_name(key[1], key[2]), key[3], key[0]))
        systems = []
        for name in sorted(members.systems):
            path = self.system_path(name)
            systems.append(path) if path else missing.append('peer system "%s"' % name)
        if missing:
            raise NotRegistered('not registered with the service: ' + ', '.join(missing))
        return local, remote, systems

    # -------------------------------------------------------------------- planning

    def run(self):
        self._index()
        found = self.service.find_collection(self.params['name'])
        self.path, current = found if found else ('', None)
        before = self.view(current, self.members_of(current) if current else None)
        after = self.planned(current)
        result = dict(changed=before != after)
        if result['changed'] and not self.module.check_mode:
            self.apply(current)
        result.update(path=self.path, job=self.job)
        if self.warnings:
            result['warnings'] = self.warnings
        if self.module._diff:
            result['diff'] = dict(before=before, after=after)
        return result

    def view(self, props, members):
        if props is None:
            return {}
        view = dict(name=props['ElementName'], active=props['Active'],
                    delete_on_unassociated=props['DeleteOnUnassociated'])
        view.update(members.view())
        return view

    def planned(self, current):
        if self.params['state'] == 'absent':
            return {}
        props = dict(ElementName=self.params['name'], Active=True, DeleteOnUnassociated=False)
        members = self.wanted
        if current:
            props.update(current)
            if self.params['members'] == 'present':
                members = self.members_of(current).union(self.wanted)
        for option, prop in (('active', 'Active'), ('delete_on_unassociated', 'DeleteOnUnassociated')):
            if self.params[option] is not None:
                props[prop] = self.params[option]
        self.planned_props = props
        return self.view(props, members)

    # -------------------------------------------------------------------- changing

    def call(self, path, iface, method, signature=None, args=None, reply=None):
        out, job = self.service.call_job(self.params['wait'], self.params['wait_timeout'], path, iface, method,
                                         signature, args, reply)
        if job != NULL_PATH:
            self.job = job
        return out, job

    def apply(self, current):
        if self.params['state'] == 'absent':
            self.call(self.path, COLLECTION_IFACE, 'Delete')
            self.path = ''
            return
        local, remote, systems = self.resolve(self.wanted)
        steps = []
        if current is None:
            first = self.create(local, remote, systems)
            if first is None:
                return
            remote.pop(first, None)
            steps = self.additions([], remote, [s for s in systems if s != first])
        else:
            self.modify(current)
            have = set(current['LocalAccessPoints']), set(current['RemoteAccessPoints']), \
                set(current['RemoteSystems'])
            steps = self.additions([p for p in local if p not in have[0]],
                                   dict((s, [p for p in ps if p not in have[1]]) for s, ps in remote.items()),
                                   [s for s in systems if s not in have[2]])
            if self.params['members'] == 'exact':
                steps += self.removals(current, local, remote, systems)
        for number, (method, args) in enumerate(steps, start=1):
            _, job = self.call(ROOT_PATH, SERVICE_IFACE, method, SIGNATURE_MEMBERS, args + (self.path,), '(uo)')
            if job != NULL_PATH and not self.params['wait'] and number < len(steps):
                # the collection is busy until the job ends: the next call would be refused (InUse)
                self.warnings.append('job %s is running; a later run applies the rest' % job)
                return

    def create(self, local, remote, systems):
        """Create with the local access points and the first peer's; that peer's path, or None when the job
        that creates it runs unwatched."""
        first = sorted(remote)[0] if remote else None
        args = (self.params['name'], local, remote.get(first, []), first or NULL_PATH,
                self.planned_props['Active'], self.planned_props['DeleteOnUnassociated'])
        out, job = self.call(ROOT_PATH, SERVICE_IFACE, 'CreateRemoteReplicationCollection', '(saoaoobb)', args,
                             '(uoo)')
        if job != NULL_PATH and not self.params['wait']:
            if len(remote) > 1 or any(system != first for system in systems):
                self.warnings.append('job %s is creating the collection; a later run adds the rest' % job)
            return None
        self.path = out[2] if job == NULL_PATH else self.service.get(job, JOB_IFACE, 'AffectedElements')[0]
        return first or NULL_PATH

    def additions(self, local, remote, systems):
        steps = []
        if local:
            steps.append(('AddToRemoteReplicationCollection', (local, [], NULL_PATH)))
        for system in sorted(remote):
            if remote[system]:
                steps.append(('AddToRemoteReplicationCollection', ([], remote[system], system)))
        covered = set(s for s, ps in remote.items() if ps)
        for system in systems:
            if system not in covered:
                steps.append(('AddToRemoteReplicationCollection', ([], [], system)))
        return steps

    def removals(self, current, local, remote, systems):
        wanted_remote = set(p for ps in remote.values() for p in ps)
        extra_systems = [s for s in current['RemoteSystems'] if s not in systems]
        extra_local = [p for p in current['LocalAccessPoints'] if p not in local]
        extra_remote = [p for p in current['RemoteAccessPoints']
                        if p not in wanted_remote and self.points[p]['System'] not in extra_systems]
        steps = []
        if extra_local or extra_remote:
            steps.append(('RemoveFromRemoteReplicationCollection', (extra_local, extra_remote, NULL_PATH)))
        for system in extra_systems:
            steps.append(('RemoveFromRemoteReplicationCollection', ([], [], system)))
        return steps

    def modify(self, current):
        changes = [(prop, 'b', self.planned_props[prop]) for prop in ('Active', 'DeleteOnUnassociated')
                   if self.planned_props[prop] != current[prop]]
        if changes:
            self.call(self.path, COLLECTION_IFACE, 'Modify', '(a{sv})', (dbus_properties(*changes),))
