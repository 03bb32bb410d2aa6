# -*- coding: utf-8 -*-
# Copyright: contributors to iscsi-replicationd
# GNU Lesser General Public License v2.1+ (see https://www.gnu.org/licenses/lgpl-2.1.txt)
"""The one D-Bus client every module of iscsi.replication uses.

It speaks to org.iscsi.ReplicationService through GLib's Gio (PyGObject):
explicit GVariant signatures put exactly the contract's wire types on the
bus (q for ports, ao for references, a{sv} for properties), and the job's
Completed signal is waited for on a main context with a deadline, so no
module ever polls.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import traceback

try:
    import gi
    gi.require_version('Gio', '2.0')
    gi.require_version('GLib', '2.0')
    from gi.repository import Gio, GLib
    HAS_GIO = True
    GIO_IMPORT_ERROR = None
except (ImportError, ValueError):
    HAS_GIO = False
    GIO_IMPORT_ERROR = traceback.format_exc()

from ansible.module_utils.basic import missing_required_lib

BUS_NAME = 'org.iscsi.ReplicationService'
ROOT_PATH = '/org/iscsi/ReplicationService'
LOCAL_SYSTEM = ROOT_PATH + '/system/local'
NULL_PATH = '/'

SERVICE_IFACE = BUS_NAME
SYSTEM_IFACE = BUS_NAME + '.ComputerSystem'
ACCESS_POINT_IFACE = BUS_NAME + '.ServiceAccessPoint'
SECRET_IFACE = BUS_NAME + '.SharedSecret'
COLLECTION_IFACE = BUS_NAME + '.RemoteReplicationCollection'
JOB_IFACE = BUS_NAME + '.Job'
OBJECT_MANAGER_IFACE = 'org.freedesktop.DBus.ObjectManager'

RETURN_JOB_STARTED = 4096
JOB_COMPLETED = 7
JOB_FINISHED_STATES = (7, 8, 9, 10)
IN_USE_ERROR = BUS_NAME + '.Error.InUse'

LIBRARY_HINT = ('PyGObject with GLib\'s Gio (Debian/Ubuntu: python3-gi; '
                'Fedora/RHEL: python3-gobject)')

COMMON_ARGUMENT_SPEC = dict(
    bus_address=dict(type='str'),
    wait=dict(type='bool', default=True),
    wait_timeout=dict(type='int', default=60),
)


def argument_spec(**specific):
    """The module's own options plus bus_address, wait and wait_timeout."""
    spec = dict(COMMON_ARGUMENT_SPEC)
    spec.update(specific)
    return spec


def access_point_spec():
    """The options that name an access point: its peer system, address, port and target name."""
    return dict(system=dict(type='str', required=True), address=dict(type='str', required=True),
                port=dict(type='int', default=3260), target_name=dict(type='str', default=''))


STATE_SPEC = dict(type='str', default='present', choices=['present', 'absent'])


class ServiceError(Exception):
    """A D-Bus error reply: its name and its message."""

    def __init__(self, name, message):
        super(ServiceError, self).__init__('%s: %s' % (name, message))
        self.name = name
        self.message = message


class JobFailed(Exception):
    """A job that ended in anything but 7 Completed."""

    def __init__(self, job, error):
        super(JobFailed, self).__init__(error.get('ErrorDescription') or 'the job failed')
        self.job = job
        self.error_code = int(error.get('ErrorCode', 0))
        self.message_id = error.get('MessageID', '')
        self.description = error.get('ErrorDescription', '')


class WaitTimeout(Exception):
    """wait_timeout passed before a job finished."""


def _service_error(error):
    name = Gio.DBusError.get_remote_error(error)
    if name is None:
        return ServiceError('org.freedesktop.DBus.Error.Failed', error.message)
    # PyGObject hands out a copy of the GError, so Gio.DBusError.strip_remote_error() cannot help:
    # take GDBus's "GDBus.Error:NAME: " off the message here.
    message = error.message
    prefix = 'GDBus.Error:%s: ' % name
    if message.startswith(prefix):
        message = message[len(prefix):]
    return ServiceError(name, message)


class Service(object):
    """A connection to the service on the system bus or on bus_address."""

    def __init__(self, bus_address=None, timeout=60):
        self.timeout_ms = max(1, int(timeout)) * 1000
        self.context = GLib.MainContext.default()
        self._completed = {}
        try:
            if bus_address:
                flags = (Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
                         Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION)
                self.bus = Gio.DBusConnection.new_for_address_sync(bus_address, flags, None, None)
            else:
                self.bus = Gio.bus_get_sync(Gio.BusType.SYSTEM, None)
        except GLib.Error as error:
            raise ServiceError('org.freedesktop.DBus.Error.NoServer',
                               'cannot connect to the bus %s: %s' % (bus_address or '(system bus)', error.message))
        # Subscribed before any call, so that no job's Completed can be missed.
        self.bus.signal_subscribe(BUS_NAME, JOB_IFACE, 'Completed', None, None,
                                  Gio.DBusSignalFlags.NONE, self._on_completed)

    def _on_completed(self, connection, sender, path, iface, member, params):
        self._completed[path] = params.unpack()

    # ------------------------------------------------------------------ calls

    def call(self, path, iface, method, signature=None, args=None, reply=None):
        """Call method and return its out arguments as a tuple of Python values."""
        parameters = GLib.Variant(signature, args) if signature else None
        reply_type = GLib.VariantType.new(reply) if reply else None
        try:
            result = self.bus.call_sync(BUS_NAME, path, iface, method, parameters, reply_type,
                                        Gio.DBusCallFlags.NONE, self.timeout_ms, None)
        except GLib.Error as error:
            raise _service_error(error)
        return result.unpack() if result is not None else ()

    def get(self, path, iface, name):
        return self.call(path, 'org.freedesktop.DBus.Properties', 'Get', '(ss)', (iface, name), '(v)')[0]

    def managed_objects(self):
        """{path: {interface: {property: value}}} of every object below the root."""
        return self.call(ROOT_PATH, OBJECT_MANAGER_IFACE, 'GetManagedObjects', reply='(a{oa{sa{sv}}})')[0]

    def objects(self, iface):
        """[(path, properties)] of the objects implementing iface, sorted by path."""
        found = []
        for path, ifaces in self.managed_objects().items():
            if iface in ifaces:
                found.append((path, dict(ifaces[iface])))
        return sorted(found, key=lambda item: _path_key(item[0]))

    def objects_by_path(self, iface):
        return dict(self.objects(iface))

    # ---------------------------------------------------------------- lookups

    def find_system(self, name):
        """(path, properties) of the peer called name, or of this host for 'local'; None."""
        for path, props in self.objects(SYSTEM_IFACE):
            if name == 'local' and props.get('IsLocal'):
                return path, props
            if name != 'local' and not props.get('IsLocal') and props.get('Name') == name:
                return path, props
        return None

    def find_access_point(self, system_path, address, port, target_name):
        for path, props in self.objects(ACCESS_POINT_IFACE):
            if (props.get('System') == system_path and props.get('Address') == address and
                    props.get('Port') == port and props.get('TargetName') == target_name):
                return path, props
        return None

    def find_named_access_point(self, params):
        """(system, access point) named by params system, address, port and target_name; each
        (path, properties) or None."""
        system = self.find_system(params['system'])
        if not system:
            return None, None
        return system, self.find_access_point(system[0], params['address'], params['port'], params['target_name'])

    def find_collection(self, name):
        """(path, properties) of the collection whose ElementName is name, or None."""
        found = [item for item in self.objects(COLLECTION_IFACE) if item[1].get('ElementName') == name]
        if len(found) > 1:
            raise ValueError('more than one collection is called "%s": %s'
                             % (name, ', '.join(path for path, props in found)))
        return found[0] if found else None

    # ------------------------------------------------------------------- jobs

    def job_outcome(self, job):
        """None while job runs; {} after success; its GetError dict after a failure."""
        if job in self._completed:
            success = self._completed[job][0]
        else:
            state = self.get(job, JOB_IFACE, 'JobState')
            if state not in JOB_FINISHED_STATES:
                return None
            success = state == JOB_COMPLETED
        if success:
            return {}
        error = dict(self.call(job, JOB_IFACE, 'GetError', reply='(a{sv})')[0])
        error.setdefault('MessageID', '')
        error.setdefault('ErrorDescription', 'the job failed')
        error.setdefault('ErrorCode', 0)
        return error

    def wait_for_job(self, job, timeout):
        """Wait on the job's Completed signal; raise JobFailed or WaitTimeout."""
        timed_out = []

        def expire():
            timed_out.append(True)
            return False

        timer = GLib.timeout_add(max(1, int(timeout)) * 1000, expire)
        try:
            while True:
                outcome = self.job_outcome(job)
                if outcome is not None:
                    break
                while job not in self._completed and not timed_out:
                    self.context.iteration(True)
                if timed_out and job not in self._completed:
                    raise WaitTimeout('job %s did not finish within %d seconds' % (job, timeout))
        finally:
            if not timed_out:
                GLib.source_remove(timer)
        if outcome:
            raise JobFailed(job, outcome)

    def call_job(self, wait, timeout, path, iface, method, signature, args, reply):
        """Call a method that may start a job and follow the job when wait is set.

        Returns (out arguments, job path or '/'). A service answering InUse
        because a job is changing the object is waited out when wait is set.
        """
        out = self._call_waiting_in_use(wait, timeout, path, iface, method, signature, args, reply)
        job = out[1] if out and out[0] == RETURN_JOB_STARTED else NULL_PATH
        if job != NULL_PATH and wait:
            self.wait_for_job(job, timeout)
        return out, job

    def _call_waiting_in_use(self, wait, timeout, path, iface, method, signature, args, reply):
        try:
            return self.call(path, iface, method, signature, args, reply)
        except ServiceError as error:
            if not wait or error.name != IN_USE_ERROR:
                raise
            running = self.running_jobs()
            if not running:
                raise
        for job in running:
            try:
                self.wait_for_job(job, timeout)
            except JobFailed:
                pass
        return self.call(path, iface, method, signature, args, reply)

    def running_jobs(self):
        return [path for path, props in self.objects(JOB_IFACE)
                if props.get('JobState') not in JOB_FINISHED_STATES]

    def wait_for_running_jobs(self, timeout):
        for job in self.running_jobs():
            try:
                self.wait_for_job(job, timeout)
            except JobFailed:
                pass


def dbus_properties(*entries):
    """An a{sv} argument from (name, signature, value) entries; None values are left out."""
    return dict((name, GLib.Variant(signature, value))
                for name, signature, value in entries if value is not None)


def _path_key(path):
    """Sort object paths by kind, then numerically by id."""
    head, _, tail = path.rpartition('/')
    return (head, int(tail) if tail.isdigit() else -1, tail)


def connect(module):
    """The Service for the module's bus_address, or fail_json naming the missing library."""
    if not HAS_GIO:
        module.fail_json(msg=missing_required_lib(LIBRARY_HINT), exception=GIO_IMPORT_ERROR)
    try:
        return Service(module.params['bus_address'], module.params['wait_timeout'])
    except ServiceError as error:
        fail_service_error(module, error)


def fail_service_error(module, error, **result):
    """Fail the task with the D-Bus error's name and message."""
    module.fail_json(msg='%s: %s' % (error.name, error.message),
                     error_name=error.name, error_message=error.message, **result)


def run_ensure(module, ensure):
    """Connects, runs ensure(module, service) and exits with its result; a refused call fails the task."""
    service = connect(module)
    try:
        result = ensure(module, service)
    except ServiceError as error:
        fail_service_error(module, error)
    module.exit_json(**result)


def delete_object(module, service, result, path, iface):
    """Records in result that the object at path goes, and deletes it unless in check mode."""
    result.update(changed=True, path='')
    if not module.check_mode:
        service.call(path, iface, 'Delete')


def ensure_object(module, service, found, iface, planned, refuse, create, view):
    """Brings one object that can be added and deleted, but not changed, to the task's state.

    found is its (path, properties) or None; refuse(module, path, properties) fails the task when the options ask for
    a change; planned is the properties a new object would have; create() adds it: (path, properties).
    The result holds changed, path and the diff of view(properties)."""
    path, before = found if found else ('', None)
    result = dict(changed=False, path=path)
    if module.params['state'] == 'absent':
        after = None
        if found:
            delete_object(module, service, result, path, iface)
    elif found:
        after = before
        refuse(module, path, before)
    else:
        result['changed'] = True
        after = planned
        if not module.check_mode:
            result['path'], after = create()
    return with_diff(module, result, before, after, view)


def with_diff(module, result, before, after, view):
    """result, with the diff of view(before) and view(after) when the task asks for one."""
    if module._diff:
        result['diff'] = dict(before=view(before), after=view(after))
    return result


def fail_job(module, failure, **result):
    """Fail the task with a job's ErrorDescription, job path, error_code and message_id."""
    module.fail_json(msg=failure.description or 'job %s failed' % failure.job,
                     job=failure.job, error_code=failure.error_code,
                     message_id=failure.message_id, **result)


def check_port(module, port):
    if port is not None and not 0 < port < 65536:
        module.fail_json(msg='port %d is not a TCP port (1-65535)' % port)


def split_portal(text, default_port=3260):
    """ADDRESS, ADDRESS:PORT, [IPV6] or [IPV6]:PORT -> (address, port)."""
    text = text.strip()
    if text.startswith('['):
        address, _, rest = text[1:].partition(']')
        port = rest[1:] if rest.startswith(':') else ''
    elif text.count(':') == 1:
        address, port = text.split(':')
    else:
        address, port = text, ''
    if port and not port.isdigit():
        raise ValueError('"%s" is not ADDRESS or ADDRESS:PORT' % text)
    return address, int(port) if port else default_port


def portal_name(address, port):
    if ':' in address:
        return '[%s]:%d' % (address, port)
    return '%s:%d' % (address, port)
