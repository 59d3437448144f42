"""Issue 13, item 10: a timeout of 0 or below is refused before any API call, naming the
option (it used to start a wait that had already expired, or a socket that could not wait)."""

from __future__ import annotations

import pytest

from ansible_collections.octavia.lbaas.plugins.modules import amphora_agent_info, listener, loadbalancer, member

from lbaas_data import tree


@pytest.mark.parametrize("module, args, option", [
    (loadbalancer, dict(tree(), timeout=0), "timeout"),
    (loadbalancer, dict(tree(), timeout=-5), "timeout"),
    (loadbalancer, {"name": "web", "state": "absent", "timeout": 0}, "timeout"),
    (listener, {"loadbalancer": "web", "protocol": "HTTP", "protocol_port": 80, "timeout": -1}, "timeout"),
    (member, {"loadbalancer": "web", "pool": "web", "address": "10.0.0.1", "protocol_port": 80, "api_timeout": 0},
     "api_timeout"),
    (amphora_agent_info, {"amphora_id": "11111111-2222-3333-4444-555555555555", "timeout": 0}, "timeout"),
])
def test_timeout_not_above_zero_is_refused_before_any_call(run_module, fake, module, args, option):
    result = run_module(module, args, expect_fail=True)
    assert result["msg"].startswith("%s: must be more than 0 (seconds)" % option), result["msg"]
    assert fake.log == []
    assert result.get("changed") is not True


def test_a_positive_timeout_still_works(run_module, fake):
    result = run_module(loadbalancer, dict(tree(), timeout=1))
    assert result["changed"] is True
