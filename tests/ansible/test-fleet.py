#!/usr/bin/python3
# Copyright: contributors to iscsi-replicationd
# SPDX-License-Identifier: LGPL-2.1-or-later
"""One playbook over an inventory of three hosts, each its own iscsi-replicationd on its own
private bus, run with forks; one of them is reached over ssh (a real sshd on a loopback address).
The fan-out is Ansible's own, as on a real fleet."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import testenv  # noqa: E402

PEER_ADDRESS = '127.0.0.153'
SSH_ADDRESS = '127.0.0.155'
PEER_NAME = 'partner.example.test'
TARGET = 'iqn.2026-11.org.example.partner:disk1'
CHAP_USER = 'replication'
CHAP_SECRET = 'Fleet-CHAP-Secret-0815'
HOSTS = (('alpha', '127.0.0.156'), ('beta', '127.0.0.157'), ('gamma', '127.0.0.158'))


recap = testenv.recap

class Fleet(unittest.TestCase):

    def setUp(self):
        self.env, self.tgtd = testenv.partner_env(self, PEER_ADDRESS, TARGET, CHAP_USER, CHAP_SECRET)
        self.sshd = testenv.Sshd(self.env, SSH_ADDRESS)
        self.hosts = dict((name, testenv.Host(self.env, name)) for name, _ in HOSTS)
        self.inventory = os.path.join(self.env.dir, 'fleet.ini')
        with open(self.inventory, 'w') as out:
            out.write('[replicators]\n')
            for name, local_address in HOSTS:
                connection = self.sshd.inventory_vars() if name == 'gamma' else 'ansible_connection=local'
                out.write('%s %s bus_address=%s local_address=%s\n'
                          % (name, connection, self.hosts[name].bus_address, local_address))
            out.write('\n[replicators:vars]\n')
            testenv.write_vars(out, (('peer_name', PEER_NAME), ('peer_address', PEER_ADDRESS),
                                     ('peer_port', self.tgtd.port), ('target_name', TARGET),
                                     ('chap_user', CHAP_USER), ('chap_secret', CHAP_SECRET)))

    def test_one_play_three_hosts(self):
        rc, output = self.env.playbook('site.yml', self.inventory, '--forks', '3')
        self.assertEqual(rc, 0, output)
        counts = recap(output)
        self.assertEqual(sorted(counts), [name for name, _ in HOSTS], output)
        for name, local_address in HOSTS:
            self.assertEqual(counts[name]['changed'], 5, output)
            host = self.hosts[name]
            points = host.of_kind('ServiceAccessPoint')
            collections = list(host.of_kind('RemoteReplicationCollection').values())
            self.assertEqual(len(collections), 1, name)
            local = [points[path]['Address'] for path in collections[0]['LocalAccessPoints']]
            self.assertEqual(local, [local_address], name)
            self.assertEqual([job['JobState'] for job in host.of_kind('Job').values()], [7], name)
        # gamma was managed over ssh, with the throwaway key
        self.assertRegex(self.sshd.log(), r'Accepted publickey for root from 127\.0\.0\.\d+ port \d+ ssh2: ED25519')

        rc, output = self.env.playbook('site.yml', self.inventory, '--forks', '3')
        self.assertEqual(rc, 0, output)
        for name, counts in recap(output).items():
            self.assertEqual(counts['changed'], 0, '%s: %s' % (name, output))


if __name__ == '__main__':
    unittest.main(verbosity=2)
