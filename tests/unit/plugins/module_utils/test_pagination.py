"""Issue 13 item 9: listings follow the API's own `next` links to the end, within the
task's time budget, and stop with an error when a page comes back again.

Glance caps a page at its api_limit_max, so a page shorter than the limit asked for is
not the last one; the test cloud's Glance cannot be reconfigured for that, and no real
API hands out a `next` link that loops, so both are stand-ins here (a page server)."""

from __future__ import annotations

import json

import pytest

from ansible_collections.octavia.lbaas.plugins.module_utils import lbaas_api
from ansible_collections.octavia.lbaas.plugins.module_utils.cloud import Deadline, ModuleError
from ansible_collections.octavia.lbaas.plugins.modules import amphora_image


class Response:
    def __init__(self, body):
        self.status_code = 200
        self.body = body
        self.content = json.dumps(body).encode()
        self.text = self.content.decode()

    def json(self):
        return self.body


class Glance:
    """Glance with api_limit_max = 3: at most 3 images a page, whatever the limit asked."""

    def __init__(self, count):
        self.images = [{"id": "img-%03d" % i, "owner": "svc"} for i in range(count)]
        self.calls = 0

    def get(self, path, params=None):
        self.calls += 1
        start = 0
        if params.get("marker"):
            start = [i["id"] for i in self.images].index(params["marker"]) + 1
        page = self.images[start:start + min(3, params["limit"])]
        body = {"images": page}
        if start + 3 < len(self.images):
            body["next"] = "/v2/images?marker=%s" % page[-1]["id"]
        return Response(body)


def test_glance_short_pages_are_followed_to_the_end():
    module = amphora_image.AmphoraImage.__new__(amphora_image.AmphoraImage)
    glance = Glance(10)
    module._conn = type("Conn", (), {"image": glance})()    # pylint: disable=protected-access
    found = module.list_images("svc")
    assert [i.id for i in found] == [i["id"] for i in glance.images]
    assert glance.calls == 4


class Octavia:
    """An API whose `next` link never ends (distinct pages) or comes back (a loop); it
    gives up after 20000 pages so that a client without a deadline ends too."""

    def __init__(self, loop):
        self.loop = loop
        self.calls = 0

    def request(self, path, method, **kwargs):
        self.calls += 1
        if self.calls > 20000:      # a client that never stops would hang the test: end it here
            return Response({"pools": [], "pools_links": []})
        nxt = "/lbaas/pools?marker=1" if self.loop else "/lbaas/pools?marker=%d" % self.calls
        return Response({"pools": [{"id": str(self.calls)}], "pools_links": [{"rel": "next", "href": nxt}]})


def test_a_next_link_that_comes_back_ends_the_listing():
    api = lbaas_api.OctaviaApi(type("Conn", (), {"load_balancer": Octavia(loop=True)})(), Deadline(60), sleep=lambda s: None)
    with pytest.raises(ModuleError, match="does not move on"):
        api.list("/lbaas/pools", "pools")


def test_a_listing_that_never_ends_stops_at_the_deadline():
    octavia = Octavia(loop=False)
    api = lbaas_api.OctaviaApi(type("Conn", (), {"load_balancer": octavia})(), Deadline(0), sleep=lambda s: None)
    with pytest.raises(ModuleError, match="Timed out after"):
        api.list("/lbaas/pools", "pools")
    assert octavia.calls < 20000
