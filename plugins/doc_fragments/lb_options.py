# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The options of the load-balancer modules, one variable per module (LOADBALANCER, LISTENER,
POOL, MEMBER, HEALTH_MONITOR, L7POLICY, L7RULE and their _INFO; FLAVOR_PROFILE, FLAVOR,
AVAILABILITY_ZONE_PROFILE, AVAILABILITY_ZONE, QUOTA, PROVIDER_INFO,
FLAVOR_INFO, AVAILABILITY_ZONE_INFO), rendered when Ansible reads
them from the module's argument spec and the engine's field docs
(plugins/plugin_utils/lbaas_docs.py): an Octavia field is documented once, in its Field,
whichever modules take it."""

from __future__ import annotations

from ansible_collections.octavia.lbaas.plugins.plugin_utils.lbaas_docs import options_fragments


@options_fragments
class ModuleDocFragment:
    """Holds the variables options_fragments() sets."""
