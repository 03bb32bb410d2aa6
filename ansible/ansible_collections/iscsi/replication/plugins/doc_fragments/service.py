# -*- coding: utf-8 -*-
# Copyright: contributors to iscsi-replicationd
# GNU Lesser General Public License v2.1+ (see https://www.gnu.org/licenses/lgpl-2.1.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # The options every module of the collection takes: where the service is and how long to wait for it.
    DOCUMENTATION = r'''
options:
  bus_address:
    description:
      - The D-Bus address of the bus the service is on, for example C(unix:path=/run/test/bus).
      - When not set, the system bus, where the installed service runs.
    type: str
  wait:
    description:
      - Wait for jobs. A job this task starts is followed to its end, and a call the service refuses with
        C(org.iscsi.ReplicationService.Error.InUse) because a job is changing the object is retried once the
        running jobs have finished.
      - When false, a started job is returned (in C(job)) without waiting, and C(InUse) fails the task.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for a job, and for each D-Bus call.
    type: int
    default: 60
requirements:
  - PyGObject with GLib's Gio on the managed host (Debian/Ubuntu C(python3-gi), Fedora/RHEL C(python3-gobject)).
  - iscsi-replicationd on the managed host (or reachable at C(bus_address)).
notes:
  - Changing calls need the polkit authorizations of the service; as root they are always allowed.
'''

    # The modules that change an object (extends_documentation_fragment iscsi.replication.service.state): the
    # type of state and the check and diff support; each module says what they mean for its object.
    STATE = r'''
options:
  state:
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
'''

    # The options that name an access point (iscsi.replication.service.access_point).
    ACCESS_POINT = r'''
options:
  system:
    description: The C(name) of M(iscsi.replication.peer_system) of the peer whose access point this is.
    type: str
    required: true
  address:
    description: The access point's address.
    type: str
    required: true
  port:
    description: The access point's TCP port.
    type: int
    default: 3260
  target_name:
    description: The access point's target name; empty for none.
    type: str
    default: ''
'''
