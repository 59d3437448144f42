# Copyright: contributors to octavia.lbaas
# Apache License 2.0 (see LICENSE)
"""Test-bed connection: containers.podman.podman with pipelining.

The stock podman connection runs `podman exec` without `--interactive`, so a module
cannot be fed on stdin and every task costs a temporary directory, a copy, a chmod, the
run and a cleanup: four `podman exec` calls of about 0.25 s each on our machines. With
`-i` the module arrives on stdin like over SSH with pipelining, which is how real
controllers are reached, and a task costs one call. Everything else (file transfer
through the container's mounted root, options) is the stock plugin's."""

from __future__ import annotations

DOCUMENTATION = r"""
name: podman_pipelined
short_description: Run tasks in podman containers, with pipelining (octavia.lbaas test bed)
description:
  - The C(containers.podman.podman) connection, with C(podman exec --interactive) so that
    Ansible's pipelining works; used by the octavia.lbaas test bed only.
options:
  remote_addr:
    description: The ID or name of the container.
    default: inventory_hostname
    vars:
      - name: inventory_hostname
      - name: ansible_host
      - name: ansible_podman_host
  remote_user:
    description: The user in the container (default the container's).
    vars:
      - name: ansible_user
  podman_extra_args:
    description: Extra arguments to podman itself (before the subcommand).
    default: ''
    vars:
      - name: ansible_podman_extra_args
    env:
      - name: ANSIBLE_PODMAN_EXTRA_ARGS
  podman_executable:
    description: The podman executable.
    default: podman
    vars:
      - name: ansible_podman_executable
    env:
      - name: ANSIBLE_PODMAN_EXECUTABLE
  pipelining:
    description: Send modules on stdin instead of copying them into the container.
    default: true
    type: boolean
    vars:
      - name: ansible_pipelining
    env:
      - name: ANSIBLE_PIPELINING
    ini:
      - section: defaults
        key: pipelining
"""

import shlex

from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.connection import ConnectionBase

from ansible_collections.containers.podman.plugins.connection.podman import Connection as PodmanConnection


class Connection(PodmanConnection):
    transport = "podman_pipelined"
    has_pipelining = True

    def exec_command(self, cmd, in_data=None, sudoable=False):
        if not self._connected:
            self._connect()
        ConnectionBase.exec_command(self, cmd, in_data=in_data, sudoable=sudoable)
        args = ["exec", "--interactive"] if in_data else ["exec"]
        if self.user:
            args.extend(("--user", self.user))
        return self._podman(args, shlex.split(to_native(cmd, errors="surrogate_or_strict")), in_data)
