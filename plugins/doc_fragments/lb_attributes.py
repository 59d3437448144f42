# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Attributes shared by the load-balancer modules of octavia.lbaas."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
attributes:
  check_mode:
    description: Plans every API call and reports the same C(changed) as a real run, without making any write.
    support: full
  diff_mode:
    description: Returns the managed objects before and after the task (the predicted state in check mode).
    support: full
  idempotent:
    description: A second run with the same options reads the current state and makes no write.
    support: full
  action_group:
    description: Use C(group/octavia.lbaas.octavia) in C(module_defaults) to set the connection options once.
    support: full
    membership:
      - octavia.lbaas.octavia
"""

    INFO = r"""
attributes:
  check_mode:
    description: Only reads; runs the same in check mode.
    support: full
  diff_mode:
    description: Nothing changes, so there is no diff.
    support: N/A
  action_group:
    description: Use C(group/octavia.lbaas.octavia) in C(module_defaults) to set the connection options once.
    support: full
    membership:
      - octavia.lbaas.octavia
"""
