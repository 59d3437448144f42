"""The reference tree shared by the unit tests, the integration tests and the benchmark:
1 load balancer; listeners HTTP 80, HTTP 8080 and TCP 9000; pools web, api and tcp with
10 members and a health monitor each; 2 L7 policies with one rule each on HTTP 80.
One definition, so that what the benchmark measures is what the tests prove."""

from __future__ import annotations

import copy


def members(block, count=10, port=80, start=1, prefix=None):
    """`count` members 10.0.<block>.<start...> (past .255 the address moves up a byte);
    with `prefix`, each gets a name (openstack.cloud's lb_member needs one)."""
    out = []
    for i in range(start, start + count):
        address = f"10.0.{block}.{i}" if i < 256 else f"10.{block}.{i // 256}.{i % 256}"
        member = {"address": address, "protocol_port": port}
        if prefix:
            member["name"] = f"{prefix}-{address}-{port}"
        out.append(member)
    return out


def http_monitor(**extra):
    return dict({"type": "HTTP", "delay": 5, "probe_timeout": 3, "max_retries": 3, "url_path": "/health"}, **extra)


def reference_tree(insert_headers=True):
    """listeners and pools of the reference tree, as a user writes them in a task."""
    http80 = {"protocol": "HTTP", "protocol_port": 80, "default_pool": "web",
              "l7policies": [
                  {"name": "api", "action": "REDIRECT_TO_POOL", "redirect_pool": "api",
                   "rules": [{"type": "PATH", "compare_type": "STARTS_WITH", "value": "/api"}]},
                  {"name": "legacy", "action": "REDIRECT_TO_URL", "redirect_url": "https://www.example.com/new",
                   "rules": [{"type": "HEADER", "compare_type": "EQUAL_TO", "rule_key": "X-Legacy", "value": "1"}]},
              ]}
    if insert_headers:
        http80["insert_headers"] = {"X-Forwarded-For": True}
    return copy.deepcopy({
        "listeners": [
            http80,
            {"protocol": "HTTP", "protocol_port": 8080, "default_pool": "api"},
            {"protocol": "TCP", "protocol_port": 9000, "default_pool": "tcp"},
        ],
        "pools": [
            {"name": "web", "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN", "members": members(1),
             "healthmonitor": http_monitor()},
            {"name": "api", "protocol": "HTTP", "lb_algorithm": "LEAST_CONNECTIONS", "members": members(2),
             "healthmonitor": http_monitor(url_path="/api/health")},
            {"name": "tcp", "protocol": "TCP", "lb_algorithm": "SOURCE_IP", "members": members(3, port=9000),
             "healthmonitor": {"type": "TCP", "delay": 5, "probe_timeout": 3, "max_retries": 3}},
        ],
    })
