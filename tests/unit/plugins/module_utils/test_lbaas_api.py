"""The API client: call counting, 409/503 retries with jittered backoff inside the
deadline, waits on the load balancer's provisioning status."""

from __future__ import annotations

import pytest

from ansible_collections.octavia.lbaas.plugins.module_utils import lbaas_api
from ansible_collections.octavia.lbaas.plugins.module_utils.cloud import Deadline, ModuleError

from fake_octavia import FakeResponse
from lbaas_data import UUID_A, UUID_B, UUID_C, build


class Clock:
    """A fake sleep that records the delays (and never sleeps)."""

    def __init__(self):
        self.sleeps = []

    def __call__(self, seconds):
        self.sleeps.append(seconds)


@pytest.fixture
def api(fake):
    clock = Clock()
    client = lbaas_api.OctaviaApi(fake, Deadline(60), sleep=clock)
    client.clock = clock
    return client


def test_calls_are_counted(api, fake):
    lb_id = build(fake)
    api.get_loadbalancer(lb_id)
    api.request("PUT", "/lbaas/loadbalancers/%s" % lb_id, {"loadbalancer": {"description": "x"}})
    assert api.calls() == {"writes": 1, "reads": 1}
    assert len(fake.log) == 2


@pytest.mark.parametrize("status, fault", [
    (409, "Load Balancer abc is immutable and cannot be updated."),
    (409, "Invalid state PENDING_UPDATE of loadbalancer resource abc"),
    (503, "Project busy.  Unable to lock the project.  Please try again."),
])
def test_transient_answers_are_retried(api, fake, status, fault):
    lb_id = build(fake)
    fake.inject = [("PUT", status, fault), ("PUT", status, fault)]
    api.request("PUT", "/lbaas/loadbalancers/%s" % lb_id, {"loadbalancer": {"description": "x"}}, lb_id=lb_id)
    assert api.writes == 3
    assert fake.lbs[lb_id]["description"] == "x"
    backoffs = list(api.clock.sleeps)
    assert len(backoffs) == 2 and 0.25 <= backoffs[0] <= 0.5 and 0.5 <= backoffs[1] <= 1.0   # jittered, growing


def test_permanent_conflict_fails_at_once(api, fake):
    lb_id = build(fake)
    with pytest.raises(ModuleError) as err:
        api.request("POST", "/lbaas/listeners", {"listener": {"loadbalancer_id": lb_id, "protocol": "TCP",
                                                              "protocol_port": 80}}, what="create listener TCP:80")
    assert "already using protocol HTTP and protocol_port 80" in err.value.msg
    assert "create listener TCP:80" in err.value.msg and "HTTP 409" in err.value.msg
    assert api.writes == 1 and api.clock.sleeps == []


def test_retries_stop_at_the_deadline(fake):
    lb_id = build(fake)
    fake.inject = [("PUT", 503, "busy")] * 50
    api = lbaas_api.OctaviaApi(fake, Deadline(0), sleep=Clock())
    with pytest.raises(ModuleError, match="HTTP 503"):
        api.request("PUT", "/lbaas/loadbalancers/%s" % lb_id, {"loadbalancer": {"description": "x"}})
    assert api.writes == 1


def test_wait_polls_fast_then_backs_off(fake):
    fake.pending_polls = 8
    lb_id = build(fake)
    fake._touch(lb_id)
    clock = Clock()
    api = lbaas_api.OctaviaApi(fake, Deadline(60), sleep=clock)
    lb = api.wait_ready(lb_id, "a test")
    assert lb["provisioning_status"] == "ACTIVE"
    assert clock.sleeps[0] == 0.2
    assert clock.sleeps == sorted(clock.sleeps) and max(clock.sleeps) <= 1.0
    assert api.reads == 9


def test_wait_fails_on_error_with_the_status_tree(api, fake):
    lb_id = build(fake)
    fake.lbs[lb_id]["provisioning_status"] = "ERROR"
    with pytest.raises(ModuleError) as err:
        api.wait_ready(lb_id, "create listener HTTP:81")
    assert "went to ERROR after create listener HTTP:81" in err.value.msg
    assert err.value.extra["status_tree"]["loadbalancer"]["id"] == lb_id


def test_wait_times_out_within_the_task_timeout(fake):
    fake.pending_polls = 10 ** 6
    lb_id = build(fake)
    fake._touch(lb_id)
    api = lbaas_api.OctaviaApi(fake, Deadline(0), sleep=Clock())
    with pytest.raises(ModuleError, match="Timed out after 0 s"):
        api.wait_ready(lb_id)


def test_wait_for_deletion(api, fake):
    lb_id = build(fake)
    api.request("DELETE", "/lbaas/loadbalancers/%s" % lb_id, params={"cascade": "true"})
    assert api.wait_ready(lb_id, "delete", gone_ok=True) is None
    assert lb_id not in fake.lbs


def test_find_loadbalancer(api, fake):
    lb_id = build(fake)
    assert api.find_loadbalancer("web")["id"] == lb_id
    assert api.find_loadbalancer(lb_id)["id"] == lb_id
    assert api.find_loadbalancer("nope") is None
    build(fake)
    with pytest.raises(ModuleError, match="2 load balancers are named web"):
        api.find_loadbalancer("web")


def test_lists_follow_next_links():
    pages = {
        "/lbaas/pools": {"pools": [{"id": "1"}], "pools_links": [{"rel": "next", "href": "https://o/v2/lbaas/pools?marker=1"}]},
        "https://o/v2/lbaas/pools?marker=1": {"pools": [{"id": "2"}], "pools_links": [{"rel": "previous", "href": "x"}]},
    }

    class Proxy:
        def request(self, url, method, **kwargs):
            return FakeResponse(200, pages[url])

    class Conn:
        load_balancer = Proxy()

    api = lbaas_api.OctaviaApi(Conn(), Deadline(5))
    assert [p["id"] for p in api.list("/lbaas/pools", "pools")] == ["1", "2"]
    assert api.reads == 2


def test_neutron_and_flavor_lookups(api, fake):
    fake.neutron["subnets"]["x"] = {"id": UUID_A, "name": "public"}
    fake.flavors["f"] = {"id": UUID_B, "name": "small"}
    assert api.find_neutron("subnet", "public", "vip_subnet") == UUID_A
    assert api.find_neutron("subnet", UUID_C, "vip_subnet") == UUID_C        # an ID costs no call
    assert api.find_flavor("small") == UUID_B
    with pytest.raises(ModuleError, match="vip_network: network nope not found"):
        api.find_neutron("network", "nope", "vip_network")
    assert api.reads == 3
