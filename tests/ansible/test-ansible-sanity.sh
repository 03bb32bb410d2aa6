#!/usr/bin/env bash
# The collection as Ansible's own tools see it: ansible-test sanity (the tests
# that run offline), ansible-doc of every module, and ansible-galaxy building a
# tarball that installs and is found again.
#
# ansible-test runs most sanity tests in a virtual environment with pinned
# requirements that it installs from PyPI; without network those cannot run
# (ansible-doc, import, pep8, pylint, runtime-metadata, validate-modules,
# yamllint). Every other one runs here; ansible-doc is run directly below.
set -euo pipefail

collection=${IRD_COLLECTION:?IRD_COLLECTION names the collection directory}
offline_tests=(
        action-plugin-docs changelog compile empty-init future-import-boilerplate ignores line-endings
        metaclass-boilerplate no-assert no-basestring no-dict-iteritems no-dict-iterkeys no-dict-itervalues
        no-get-exception no-illegal-filenames no-main-display no-smart-quotes no-unicode-literals
        replace-urlopen shebang symlinks use-argspec-type-path use-compat-six
)
modules=(peer_system access_point shared_secret collection info)

tmp=$(mktemp -d /tmp/ird-ansible-sanity.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export HOME=$tmp ANSIBLE_LOCAL_TEMP=$tmp/ansible-local ANSIBLE_CONFIG=$tmp/no-ansible.cfg
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false

# ansible-test writes its results into the tree it tests: give it a copy.
mkdir -p "$tmp/src/ansible_collections/iscsi"
cp -a "$collection" "$tmp/src/ansible_collections/iscsi/replication"
rm -rf "$tmp/src/ansible_collections/iscsi/replication/tests/output"

echo "# ansible-test sanity: ${offline_tests[*]}"
test_args=()
for t in "${offline_tests[@]}"; do
        test_args+=(--test "$t")
done
(cd "$tmp/src/ansible_collections/iscsi/replication" &&
        ansible-test sanity --color no --python "$(/usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')" \
                "${test_args[@]}")

echo "# ansible-doc"
for m in "${modules[@]}"; do
        doc=$(ANSIBLE_COLLECTIONS_PATH=$tmp/src ansible-doc "iscsi.replication.$m")
        for section in OPTIONS ATTRIBUTES EXAMPLES 'RETURN VALUES'; do
                if ! grep -q "^$section" <<<"$doc"; then
                        echo "ansible-doc iscsi.replication.$m has no $section section" >&2
                        exit 1
                fi
        done
        for option in bus_address wait wait_timeout; do
                grep -q "^[-=] $option\$" <<<"$doc" || { echo "iscsi.replication.$m lacks $option" >&2; exit 1; }
        done
done
ANSIBLE_COLLECTIONS_PATH=$tmp/src ansible-doc -l iscsi.replication | sort >"$tmp/listed"
printf 'iscsi.replication.%s\n' "${modules[@]}" | sort >"$tmp/expected"
diff -u "$tmp/expected" <(awk '{ print $1 }' "$tmp/listed")

echo "# ansible-galaxy collection build and install"
ansible-galaxy collection build --output-path "$tmp/dist" "$tmp/src/ansible_collections/iscsi/replication"
tarball=$(ls "$tmp"/dist/iscsi-replication-*.tar.gz)
ansible-galaxy collection install --offline -p "$tmp/installed" "$tarball"
ANSIBLE_COLLECTIONS_PATH=$tmp/installed ansible-galaxy collection list iscsi.replication | grep -q '^iscsi.replication'
ANSIBLE_COLLECTIONS_PATH=$tmp/installed ansible-doc iscsi.replication.collection >/dev/null
echo "ok"
