# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""octavia.lbaas.flavor_info runs inside Ansible's worker when the task runs on the controller
(plugins/plugin_utils/direct_execution.py), as a module process otherwise."""

from __future__ import annotations

from ansible_collections.octavia.lbaas.plugins.plugin_utils.direct_execution import DirectExecutionAction


class ActionModule(DirectExecutionAction):
    pass
