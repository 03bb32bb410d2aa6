# Copyright: contributors to iscsi-replicationd
# SPDX-License-Identifier: LGPL-2.1-or-later
"""What the Ansible tests start: a private bus, the built daemon, a tgtd peer, an sshd.

Everything lives in one temporary directory and is stopped when the test
ends, also when it fails. Traffic stays on 127.0.0.0/8. Readiness is waited
for on events (the bus prints its address, `gdbus wait` returns when the
daemon owns its name, sshd logs that it listens) except for tgtd, which
announces nothing and is polled, bounded.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from gi.repository import Gio, GLib

BUS_NAME = 'org.iscsi.ReplicationService'
ROOT_PATH = '/org/iscsi/ReplicationService'
INITIATOR = 'iqn.2026-11.org.example.ansible-test:initiator'
TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS_PATH = os.path.join(TOP, 'ansible')
PLAYBOOKS = os.path.join(TOP, 'tests', 'ansible', 'playbooks')
START_TIMEOUT = 30
TGTD_START_SECONDS = 10


RECAP = re.compile(r'^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)', re.M)


def recap(output):
    """{host: {'ok': n, 'changed': n, 'unreachable': n, 'failed': n}} from ansible-playbook's PLAY RECAP."""
    return dict((m.group(1), dict(ok=int(m.group(2)), changed=int(m.group(3)), unreachable=int(m.group(4)),
                                  failed=int(m.group(5)))) for m in RECAP.finditer(output))


def partner_env(test, address, target, chap_user, chap_secret):
    """Skips TEST unless it runs as root; else an Env (closed when TEST ends) and a tgtd on ADDRESS
    offering TARGET behind CHAP_USER/CHAP_SECRET: (env, tgtd)."""
    if os.geteuid() != 0:
        test.skipTest('tgtd needs root')
    env = Env()
    test.addCleanup(env.close)
    tgtd = Tgtd(env, address)
    tid = tgtd.add_target(target)
    tgtd.add_account(tid, chap_user, chap_secret)
    return env, tgtd


def write_vars(out, pairs):
    """Writes each (key, value) of PAIRS as an inventory variable line."""
    for key, value in pairs:
        out.write("%s='%s'\n" % (key, value))


def _die_with_parent():
    # A test that crashes must not leave a daemon behind.
    import ctypes
    ctypes.CDLL('libc.so.6', use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def free_port(address):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((address, 0))
        return sock.getsockname()[1]


def port_accepts(address, port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex((address, port)) == 0


class Processes(object):
    """Children to stop at the end, newest first."""

    def __init__(self):
        self.children = []

    def spawn(self, argv, **kwargs):
        child = subprocess.Popen(argv, preexec_fn=_die_with_parent, **kwargs)
        self.children.append(child)
        return child

    def stop(self, child, grace=5):
        if child.poll() is None:
            child.terminate()
            try:
                child.wait(grace)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()

    def stop_all(self):
        while self.children:
            self.stop(self.children.pop())


class Host(object):
    """One managed host: its private bus and its own iscsi-replicationd with its own state."""

    def __init__(self, env, name, daemon_args=()):
        self.name = name
        self.dir = os.path.join(env.dir, name)
        os.mkdir(self.dir)
        self.bus_address = env.start_bus(self.dir)
        state = os.path.join(self.dir, 'state')
        os.mkdir(state, 0o700)
        self.daemon_log = open(os.path.join(self.dir, 'daemon.log'), 'w')
        env.cleanups.append(self.daemon_log.close)
        env.processes.spawn([os.environ['IRD_DAEMON'], '--address=' + self.bus_address,
                             '--state-directory=' + state, '--initiator-name=' + INITIATOR,
                             '--probe-timeout=5', '--exit-on-idle=0'] + list(daemon_args),
                            stdout=self.daemon_log, stderr=subprocess.STDOUT)
        # gdbus wait returns as soon as the name has an owner (NameOwnerChanged), or fails at the timeout.
        subprocess.run(['gdbus', 'wait', '--address', self.bus_address, '--timeout', str(START_TIMEOUT),
                        BUS_NAME], check=True)
        self.bus = Gio.DBusConnection.new_for_address_sync(
            self.bus_address,
            Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION,
            None, None)

    def call(self, path, iface, method, signature=None, args=None, reply=None):
        params = GLib.Variant(signature, args) if signature else None
        result = self.bus.call_sync(BUS_NAME, path, iface, method, params,
                                    GLib.VariantType.new(reply) if reply else None,
                                    Gio.DBusCallFlags.NONE, 30000, None)
        return result.unpack()

    def objects(self):
        """{path: {interface: properties}}, the service's whole state as a client sees it."""
        return self.call(ROOT_PATH, 'org.freedesktop.DBus.ObjectManager', 'GetManagedObjects',
                         reply='(a{oa{sa{sv}}})')[0]

    def of_kind(self, iface_suffix):
        iface = BUS_NAME + '.' + iface_suffix
        return dict((path, ifaces[iface]) for path, ifaces in self.objects().items() if iface in ifaces)

    def log(self):
        self.daemon_log.flush()
        with open(self.daemon_log.name) as log:
            return log.read()


class Tgtd(object):
    """A real iSCSI target on its own loopback address, port and control port."""

    def __init__(self, env, address):
        self.env = env
        self.address = address
        self.backing = os.path.join(env.dir, 'lun-%s.img' % address)
        with open(self.backing, 'wb') as backing:
            backing.truncate(1024 * 1024)
        self.next_tid = 1
        for _ in range(5):
            if self._spawn():
                return
        raise RuntimeError('tgtd did not start on %s' % address)

    def _spawn(self):
        self.port = free_port(self.address)
        self.control_port = 20000 + int.from_bytes(os.urandom(2), 'little') % 12000  # tgtd takes up to 32767
        if os.path.exists(self.socket_path()):
            return False
        self.log = open(os.path.join(self.env.dir, 'tgtd-%d.log' % self.control_port), 'w')
        self.env.cleanups.append(self.log.close)
        self.child = self.env.processes.spawn(
            ['tgtd', '-f', '--iscsi', 'portal=%s:%d' % (self.address, self.port),
             '--control-port', str(self.control_port)], stdout=self.log, stderr=subprocess.STDOUT)
        give_up = time.monotonic() + TGTD_START_SECONDS
        while time.monotonic() < give_up:
            if self.child.poll() is not None:
                return False       # the port or the control port was taken meanwhile
            if port_accepts(self.address, self.port) and self.adm('--op show --mode sys'):
                self.env.cleanups.append(self.stop)
                return True
            # tgtd announces no readiness (no sd_notify, nothing on stdout): poll, bounded by give_up.
            time.sleep(0.02)
        self.env.processes.stop(self.child)
        return False

    def socket_path(self):
        return '/run/tgtd/socket.%d' % self.control_port

    def adm(self, args):
        return subprocess.run(['tgtadm', '-C', str(self.control_port), '--lld', 'iscsi'] + args.split(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0

    def add_target(self, name):
        tid = self.next_tid
        self.next_tid += 1
        for args in ('--op new --mode target --tid %d -T %s' % (tid, name),
                     '--op new --mode logicalunit --tid %d --lun 1 -b %s' % (tid, self.backing),
                     '--op bind --mode target --tid %d -I ALL' % tid):
            assert self.adm(args), args
        return tid

    def add_account(self, tid, user, password):
        assert self.adm('--op new --mode account --user %s --password %s' % (user, password))
        assert self.adm('--op bind --mode account --tid %d --user %s' % (tid, user))

    def stop(self):
        # SIGKILL: tgtd ignores SIGTERM while it has targets
        if self.child.poll() is None:
            self.child.kill()
            self.child.wait()
        for path in (self.socket_path(), self.socket_path() + '.lock'):
            if os.path.exists(path):
                os.unlink(path)


class Env(object):
    """A temporary directory and everything started in it."""

    def __init__(self):
        for tool in ('IRD_DAEMON',):
            if tool not in os.environ:
                raise RuntimeError('%s is not set (run the test through meson)' % tool)
        self.dir = tempfile.mkdtemp(prefix='ird-ansible-')
        os.chmod(self.dir, 0o755)
        self.processes = Processes()
        self.cleanups = []

    def close(self):
        self.processes.stop_all()
        while self.cleanups:
            self.cleanups.pop()()
        shutil.rmtree(self.dir, ignore_errors=True)

    def start_bus(self, directory):
        config = os.path.join(directory, 'bus.conf')
        with open(config, 'w') as out:
            out.write('''<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=%s/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
''' % directory)
        read_end, write_end = os.pipe()
        self.processes.spawn(['dbus-daemon', '--config-file=' + config, '--nofork',
                              '--print-address=%d' % write_end], pass_fds=(write_end,),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(write_end)
        with os.fdopen(read_end) as pipe:
            address = pipe.readline().strip()     # blocks until the bus listens
        if not address:
            raise RuntimeError('dbus-daemon did not print its address')
        return address

    def ansible_env(self, extra=None):
        env = dict(os.environ)
        env.update(ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_PATH, ANSIBLE_COLLECTIONS_SCAN_SYS_PATH='false',
                   ANSIBLE_HOST_KEY_CHECKING='false', ANSIBLE_RETRY_FILES_ENABLED='false',
                   ANSIBLE_LOCAL_TEMP=os.path.join(self.dir, 'ansible-local'),
                   ANSIBLE_REMOTE_TEMP=os.path.join(self.dir, 'ansible-remote'),
                   ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0', ANSIBLE_PYTHON_INTERPRETER='/usr/bin/python3',
                   ANSIBLE_CONFIG=os.path.join(self.dir, 'no-ansible.cfg'),
                   # no ControlPersist: no ssh master may outlive the run
                   ANSIBLE_SSH_ARGS='-o ControlMaster=no',
                   HOME=self.dir)
        env.update(extra or {})
        return env

    def playbook(self, playbook, inventory, *args, extra_env=None):
        """Run ansible-playbook; returns (exit status, output)."""
        argv = ['ansible-playbook', '-i', inventory, os.path.join(PLAYBOOKS, playbook)] + list(args)
        run = subprocess.run(argv, env=self.ansible_env(extra_env), stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, timeout=600)
        return run.returncode, run.stdout


class Sshd(object):
    """openssh's sshd on a loopback address and a free port, with a throwaway host key and a
    throwaway client key that may log in as the current user; nothing outside the temporary
    directory is used but the privilege separation directory sshd insists on."""

    def __init__(self, env, address):
        self.env = env
        self.address = address
        self.dir = os.path.join(env.dir, 'sshd')
        os.mkdir(self.dir, 0o700)
        self.host_key = os.path.join(self.dir, 'host_key')
        self.client_key = os.path.join(self.dir, 'client_key')
        for key in (self.host_key, self.client_key):
            subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'ird-ansible-test', '-f', key],
                           check=True)
        shutil.copy(self.client_key + '.pub', os.path.join(self.dir, 'authorized_keys'))
        if not os.path.isdir('/run/sshd'):
            os.mkdir('/run/sshd', 0o755)
            env.cleanups.append(lambda: os.rmdir('/run/sshd'))
        for _ in range(5):
            if self._spawn():
                break
        else:
            raise RuntimeError('sshd did not start on %s' % address)
        with open(self.host_key + '.pub') as public:
            key_type, key = public.read().split()[:2]
        self.known_hosts = os.path.join(self.dir, 'known_hosts')
        with open(self.known_hosts, 'w') as out:
            out.write('[%s]:%d %s %s\n' % (address, self.port, key_type, key))

    def _spawn(self):
        self.port = free_port(self.address)
        config = os.path.join(self.dir, 'sshd_config')
        with open(config, 'w') as out:
            out.write('\n'.join([
                'ListenAddress %s:%d' % (self.address, self.port),
                'HostKey ' + self.host_key,
                'AuthorizedKeysFile ' + os.path.join(self.dir, 'authorized_keys'),
                'PidFile none',
                'UsePAM no',
                'StrictModes no',              # the keys live under /tmp, which everyone may write to
                'PasswordAuthentication no',
                'KbdInteractiveAuthentication no',
                'PermitRootLogin prohibit-password',
                'AllowTcpForwarding no',
                'X11Forwarding no',
                'LogLevel VERBOSE',
                'Subsystem sftp internal-sftp',
                '']))
        self.child = self.env.processes.spawn(['/usr/sbin/sshd', '-D', '-e', '-f', config],
                                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.log_lines = []
        # sshd says when it listens; read its log until it does, or until it exits.
        for line in self.child.stderr:
            self.log_lines.append(line)
            if line.startswith('Server listening on %s port %d' % (self.address, self.port)):
                self._keep_reading()
                return True
        self.child.wait()
        return False

    def _keep_reading(self):
        import threading
        reader = threading.Thread(target=lambda: self.log_lines.extend(self.child.stderr), daemon=True)
        reader.start()
        self.env.cleanups.append(lambda: reader.join(5))

    def log(self):
        return ''.join(self.log_lines)

    def inventory_vars(self):
        return ('ansible_connection=ssh ansible_host=%s ansible_port=%d ansible_user=%s '
                'ansible_ssh_private_key_file=%s '
                'ansible_ssh_common_args="-o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes '
                '-o BatchMode=yes"'
                % (self.address, self.port, os.environ.get('USER', 'root') if os.geteuid() else 'root',
                   self.client_key, self.known_hosts))
