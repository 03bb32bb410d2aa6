#!/usr/bin/python3
# Copyright: contributors to iscsi-replicationd
# SPDX-License-Identifier: LGPL-2.1-or-later
"""ansible-playbook with the iscsi.replication collection against the built daemon on a private bus,
with a real tgtd as the partner's target: changed then unchanged, check mode, diff, a failing
verification, members: exact, absent, and no secret in the output at -vvv."""

import json
import os
import socket
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import testenv  # noqa: E402

LOCAL_ADDRESS = '127.0.0.150'
PEER_ADDRESS = '127.0.0.151'
SILENT_ADDRESS = '127.0.0.152'
PEER_NAME = 'partner.example.test'
TARGET = 'iqn.2026-11.org.example.partner:disk1'
OTHER_TARGET = 'iqn.2026-11.org.example.partner:disk2'
CHAP_USER = 'replication'
CHAP_SECRET = 'Ansible-CHAP-Secret-4711'
recap = testenv.recap


class Playbooks(unittest.TestCase):

    def setUp(self):
        self.env, self.tgtd = testenv.partner_env(self, PEER_ADDRESS, TARGET, CHAP_USER, CHAP_SECRET)
        self.tgtd.add_target(OTHER_TARGET)
        self.host = testenv.Host(self.env, 'host')
        self.inventory = os.path.join(self.env.dir, 'inventory.ini')
        with open(self.inventory, 'w') as out:
            out.write('[replicators]\nhost ansible_connection=local\n\n[replicators:vars]\n')
            testenv.write_vars(out, (('bus_address', self.host.bus_address), ('peer_name', PEER_NAME),
                                     ('peer_address', PEER_ADDRESS), ('peer_port', self.tgtd.port),
                                     ('target_name', TARGET), ('other_target_name', OTHER_TARGET),
                                     ('local_address', LOCAL_ADDRESS), ('chap_user', CHAP_USER),
                                     ('chap_secret', CHAP_SECRET)))

    def play(self, playbook, *args, expect_rc=0, extra_env=None):
        rc, output = self.env.playbook(playbook, self.inventory, *args, extra_env=extra_env)
        self.assertEqual(rc, expect_rc, output)
        return output, recap(output)['host']

    def test_changed_then_unchanged(self):
        output, counts = self.play('site.yml')
        self.assertEqual(counts['changed'], 5, output)
        collections = self.host.of_kind('RemoteReplicationCollection')
        self.assertEqual(len(collections), 1)
        collection = list(collections.values())[0]
        self.assertEqual(collection['ElementName'], 'backup-set')
        self.assertEqual(len(collection['RemoteAccessPoints']), 1)
        self.assertTrue(collection['Active'])
        # the verification job ran against tgtd and succeeded, with the CHAP secret the play stored
        jobs = self.host.of_kind('Job')
        self.assertEqual([job['JobState'] for job in jobs.values()], [7])
        before = self.host.objects()
        output, counts = self.play('site.yml')
        self.assertEqual(counts['changed'], 0, output)
        self.assertEqual(self.host.objects(), before)

    def test_check_mode_changes_nothing(self):
        before = self.host.objects()
        output, counts = self.play('site.yml', '--check')
        self.assertEqual(counts['changed'], 5, output)
        self.assertEqual(self.host.objects(), before)
        self.play('site.yml')
        before = self.host.objects()
        output, counts = self.play('site.yml', '--check')
        self.assertEqual(counts['changed'], 0, output)
        # a change that would be made is reported, and still not made
        output, counts = self.play('exact.yml', '--check', '--diff')
        self.assertEqual(counts['changed'], 2, output)
        self.assertIn('+            "target_name": "%s"' % OTHER_TARGET, output)
        self.assertEqual(self.host.objects(), before)

    def test_diff(self):
        self.play('site.yml')
        # start over with the same members, so that the diff shows a whole new collection
        for path in self.host.of_kind('RemoteReplicationCollection'):
            self.host.call(path, testenv.BUS_NAME + '.RemoteReplicationCollection', 'Delete')
        output, counts = self.play('diff.yml', '--diff')
        self.assertEqual(counts['changed'], 2, output)
        self.assertIn('+    "name": "backup-set"', output)
        self.assertIn('-    "active": false,', output)
        self.assertIn('+    "active": true,', output)

    def test_failing_verification(self):
        self.play('site.yml')
        before = self.host.of_kind('RemoteReplicationCollection')
        result_file = os.path.join(self.env.dir, 'failed-job.json')
        output, counts = self.play('verify-fails.yml', '-e', 'result_file=' + result_file)
        self.assertEqual(counts['failed'], 0, output)    # ignored, and asserted on by the play
        self.assertIn('...ignoring', output)
        self.assertEqual(self.host.of_kind('RemoteReplicationCollection'), before)
        with open(result_file) as result:
            failed = json.load(result)
        error = self.host.call(failed['job'], testenv.BUS_NAME + '.Job', 'GetError', reply='(a{sv})')[0]
        self.assertEqual(failed['message_id'], error.get('MessageID', ''))
        if 'MessageID' in error:
            self.assertEqual(failed['message_id'], 'TargetNotOffered')

    def test_members_exact(self):
        self.play('site.yml')
        points = self.host.of_kind('ServiceAccessPoint')
        output, counts = self.play('exact.yml')
        self.assertEqual(counts['changed'], 2, output)
        collection = list(self.host.of_kind('RemoteReplicationCollection').values())[0]
        remote = [self.host.of_kind('ServiceAccessPoint')[path]['TargetName']
                  for path in collection['RemoteAccessPoints']]
        self.assertEqual(remote, [OTHER_TARGET])
        self.assertEqual(len(collection['LocalAccessPoints']), 1)
        self.assertEqual(len(collection['RemoteSystems']), 1)
        self.assertEqual(len(self.host.of_kind('ServiceAccessPoint')), len(points) + 1)
        output, counts = self.play('exact.yml', '-e', 'expect_change=false')
        self.assertEqual(counts['changed'], 0, output)

    def test_absent(self):
        self.play('site.yml')
        output, counts = self.play('absent.yml')
        self.assertEqual(counts['changed'], 4, output)
        objects = self.host.objects()
        kinds = sorted(iface.rsplit('.', 1)[1] for ifaces in objects.values() for iface in ifaces
                       if iface.startswith(testenv.BUS_NAME))
        self.assertEqual(kinds, ['ComputerSystem', 'Job'])   # this host, and the finished job
        output, counts = self.play('absent.yml')
        self.assertEqual(counts['changed'], 0, output)

    def test_no_secret_in_output(self):
        output, counts = self.play('site.yml', '-vvv', '--diff')
        self.assertEqual(counts['changed'], 5, output)
        self.assertNotIn(CHAP_SECRET, output)
        self.assertIn('VALUE_SPECIFIED_IN_NO_LOG_PARAMETER', output)    # the -vvv invocation was shown
        self.assertNotIn(CHAP_SECRET, self.host.log())

    def test_service_errors(self):
        self.play('site.yml')
        before = self.host.objects()
        output, counts = self.play('errors.yml')
        self.assertEqual(counts['failed'], 0, output)    # ignored, and asserted on by the play
        self.assertEqual(output.count('...ignoring'), 4, output)
        self.assertEqual(self.host.objects(), before)
        self.assertNotIn('tooShort1', output)

    def test_no_wait(self):
        self.play('site.yml')
        # a portal that accepts connections and never says a word: the probe runs to its timeout
        silent = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.addCleanup(silent.close)
        silent.bind((SILENT_ADDRESS, 0))
        silent.listen(8)
        output, counts = self.play('nowait.yml', '-e', 'silent_address=%s silent_port=%d'
                                   % (SILENT_ADDRESS, silent.getsockname()[1]))
        self.assertEqual(counts['changed'], 3, output)

    def test_missing_library(self):
        hidden = os.path.join(self.env.dir, 'no-gi')
        os.mkdir(hidden)
        with open(os.path.join(hidden, 'gi.py'), 'w') as out:
            out.write('raise ImportError("PyGObject is hidden from this test")\n')
        output, counts = self.play('missing-library.yml', extra_env=dict(PYTHONPATH=hidden))
        self.assertEqual(counts['ok'], 2, output)
        self.assertEqual(len(self.host.of_kind('ComputerSystem')), 1)    # only this host


if __name__ == '__main__':
    unittest.main(verbosity=2)
