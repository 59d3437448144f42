"""octavia.lbaas.amphora, amphora_info and playbooks/amphora_image_roll.yml against the
deployed Octavia (real API, worker, RabbitMQ and MariaDB; noop compute, network and
amphora drivers).

What the noop drivers mean for these tests, and what the tests do about it:

* A failover runs Octavia's real failover flow: the old amphora record is marked
  DELETED and a new one (new ID, same role) is created; no VM boots.
* The noop compute driver reports no image for the amphorae it "boots", so Octavia
  records ``image_id: null`` for every amphora (octavia/compute/drivers/noop_driver:
  ``get_amphora`` returns an Amphora without image_id, and the worker's
  UpdateAmphoraInfo copies that). Switching the test bed to the Glance image driver would
  not change this: only the Nova compute driver asks the image driver for an ID. So the
  image roll test writes into Octavia's database the image ID that Nova would have
  reported for an amphora booted from the old (or new) image, and says so where it does.
* Noop drivers never fail, so no amphora ends in ERROR by itself: the delete test puts a
  replaced amphora's record back as ERROR, which is what a failover that failed leaves.
* Amphora statistics come from heartbeats (health-manager writes listener_statistics);
  no amphora sends any here, so the stats test writes one row as health-manager would.

Which API calls a task made is read from octavia-api's own request log (see
octavia_api_log.py): check mode and bad input must show no write at all. Everything the
file creates is deleted at the end, also when a test fails."""

from __future__ import annotations

import json
import pathlib
import subprocess
import time
import uuid

import pytest

from lb_helpers import Cleanup, delete_lb, octavia_db, settled_lb
from octavia_api_log import Window, controllers
from playbook import ROOT, run_playbook

PLAYBOOK = ROOT / "tests" / "integration" / "playbooks" / "amphora.yml"
ROLL = ROOT / "playbooks" / "amphora_image_roll.yml"
SERIES = "octavia_lbaas_tag"   # property the amphora_image module marks its images with
NO_SUCH_AMPHORA = "6f1b7c1e-0000-4000-8000-00000000dead"


# -- helpers -------------------------------------------------------------------------------
def assert_ok(run):
    assert run.rc == 0, run.failed_messages() or run.stderr[-3000:]


def results(run, name):
    """The per-item results of a looped task."""
    for play in run.plays:
        for task in play["tasks"]:
            if task["task"]["name"].split(" : ", 1)[-1] == name:
                res = task["hosts"]["localhost"]
                return res.get("results", [res])
    raise AssertionError(f"task {name!r} not in the run")


def writes(window):
    return [f"{r.method} {r.path}" for r in window.writes]


class World:
    """The test's load balancers and everything else it makes, shared by the tests of
    this file (they run in order)."""

    def __init__(self, cloud, facts):
        self.cloud = cloud
        self.facts = facts
        self.cloud_name = facts["testbed_cloud_name"]
        self.prefix = f"lbaas-test-{uuid.uuid4().hex[:8]}"
        self.single_name = f"{self.prefix}-single"
        self.pair_name = f"{self.prefix}-pair"
        self.tag = f"{self.prefix}-amp"
        self.lbs = {}
        self.network = self.subnet = self.profile = self.flavor = self.listener = None
        self.stats_rows = []       # (listener_id, amphora_id) rows the test wrote
        self.made_error = []       # amphora IDs whose record the test set to ERROR
        self.replaced_single = None  # the single load balancer's amphora replaced by a failover
        self.db = octavia_db(facts)

    # -- Octavia's view --------------------------------------------------------------
    def amphorae(self, lb_name):
        body = self.cloud.load_balancer.get("/octavia/amphorae",
                                            params={"loadbalancer_id": self.lbs[lb_name]}).json()
        return sorted(body["amphorae"], key=lambda a: a["role"])

    def amphora(self, amp_id):
        resp = self.cloud.load_balancer.get(f"/octavia/amphorae/{amp_id}")
        return resp.json()["amphora"] if resp.status_code == 200 else None

    def lb_status(self, lb_name):
        return self.cloud.load_balancer.get_load_balancer(self.lbs[lb_name]).provisioning_status

    def sql(self, query, *args):
        with self.db.cursor() as cur:
            cur.execute(query, args)
            return cur.fetchall()

    def ours(self):
        """Our objects' IDs and names, to tell our API requests from other tests'."""
        found = {self.prefix, NO_SUCH_AMPHORA, *self.lbs, *self.lbs.values()}
        if self.lbs:
            marks = ", ".join(["%s"] * len(self.lbs))
            found |= {row[0] for row in self.sql(f"SELECT id FROM amphora WHERE load_balancer_id IN ({marks})",
                                                 *self.lbs.values())}
        return found

    # -- running things ------------------------------------------------------------------
    def play(self, amp_runs=(), info_runs=(), check=False, diff=False, ignore_errors=False):
        extra = {"cloud_name": self.cloud_name, "amp_runs": list(amp_runs), "info_runs": list(info_runs),
                 "amp_ignore_errors": ignore_errors}
        with Window(self.ours) as window:
            run = run_playbook(PLAYBOOK, extra_vars=extra, check=check, diff=diff)
        return run, window

    def wait_lb(self, lb_id, timeout=120):
        return settled_lb(self.cloud, lb_id, timeout).provisioning_status

    # -- cleanup -----------------------------------------------------------------------------
    def cleanup(self):
        cleanup = Cleanup()
        attempt = cleanup.attempt

        lb_api = self.cloud.load_balancer
        for name, lb_id in self.lbs.items():
            attempt(f"load balancer {name}", self.delete_lb, lb_id)
        for listener_id, amp_id in self.stats_rows:
            attempt("statistics row", self.sql, "DELETE FROM listener_statistics WHERE listener_id=%s AND amphora_id=%s",
                    listener_id, amp_id)
        for amp_id in self.made_error:  # what the test made ERROR goes back to what it was
            attempt("amphora record", self.sql, "UPDATE amphora SET status='DELETED' WHERE id=%s AND status='ERROR'",
                    amp_id)
        if self.flavor:
            attempt("octavia flavor", lb_api.delete_flavor, self.flavor.id, ignore_missing=True)
        if self.profile:
            attempt("flavor profile", lb_api.delete_flavor_profile, self.profile.id, ignore_missing=True)
        if self.subnet:
            attempt("subnet", self.cloud.network.delete_subnet, self.subnet, ignore_missing=True)
        if self.network:
            attempt("network", self.cloud.network.delete_network, self.network, ignore_missing=True)
        for image in self.images():
            attempt(f"image {image.id}", self.cloud.image.delete_image, image.id, ignore_missing=True)
        for flavor in self.nova_flavors():
            attempt(f"nova flavor {flavor.name}", self.cloud.compute.delete_flavor, flavor.id, ignore_missing=True)
        self.db.close()
        return cleanup.errors

    def delete_lb(self, lb_id, timeout=120):
        delete_lb(self.cloud, lb_id, timeout)

    def images(self):
        return [i for i in self.cloud.image.images() if (i.properties or {}).get(SERIES) == self.tag]

    def nova_flavors(self):
        return [f for f in self.cloud.compute.flavors(is_public=None) if f.name == self.prefix]

    def leftovers(self):
        left = [f"load balancer {n}" for n, i in self.lbs.items()
                if (lb := self.cloud.load_balancer.find_load_balancer(i, ignore_missing=True))
                and lb.provisioning_status != "DELETED"]
        left += [f"image {i.id}" for i in self.images()]
        left += [f"nova flavor {f.id}" for f in self.nova_flavors()]
        if self.flavor and self.cloud.load_balancer.find_flavor(self.flavor.id, ignore_missing=True):
            left.append("octavia flavor")
        if self.network and self.cloud.network.find_network(self.network.id, ignore_missing=True):
            left.append("network")
        return left


@pytest.fixture(scope="module")
def world(cloud, testbed_facts):
    w = World(cloud, testbed_facts)
    try:
        lb_api = cloud.load_balancer
        w.network = cloud.network.create_network(name=f"{w.prefix}-net")
        w.subnet = cloud.network.create_subnet(name=f"{w.prefix}-vip", network_id=w.network.id, ip_version=4,
                                               cidr="10.253.0.0/24")
        # an Octavia flavor for an ACTIVE_STANDBY pair (MASTER + BACKUP amphorae)
        w.profile = lb_api.create_flavor_profile(name=f"{w.prefix}-as", provider_name="amphora",
                                                 flavor_data=json.dumps({"loadbalancer_topology": "ACTIVE_STANDBY"}))
        w.flavor = lb_api.create_flavor(name=f"{w.prefix}-as", flavor_profile_id=w.profile.id, enabled=True)
        single = lb_api.create_load_balancer(name=w.single_name, vip_subnet_id=w.subnet.id)
        w.lbs[w.single_name] = single.id
        pair = lb_api.create_load_balancer(name=w.pair_name, vip_subnet_id=w.subnet.id, flavor_id=w.flavor.id)
        w.lbs[w.pair_name] = pair.id
        assert w.wait_lb(single.id) == "ACTIVE"
        assert w.wait_lb(pair.id) == "ACTIVE"
        w.listener = lb_api.create_listener(name=f"{w.prefix}-http", load_balancer_id=single.id, protocol="HTTP",
                                            protocol_port=80)
        assert w.wait_lb(single.id) == "ACTIVE"
        yield w
    finally:
        errors = w.cleanup()
        left = w.leftovers()
        assert not errors, errors
        assert not left, f"left behind: {left}"


# -- amphora_info -----------------------------------------------------------------------------------
def test_info_by_load_balancer_id_and_filters_with_stats(world):
    single = world.amphorae(world.single_name)
    backup, master = sorted(world.amphorae(world.pair_name), key=lambda a: a["role"] != "BACKUP")
    assert [a["role"] for a in single] == ["STANDALONE"]
    assert (backup["role"], master["role"]) == ("BACKUP", "MASTER")
    # health-manager would write this row from the amphora's heartbeat; no amphora VM runs here
    world.sql("INSERT INTO listener_statistics (listener_id, amphora_id, bytes_in, bytes_out, active_connections, "
              "total_connections, request_errors) VALUES (%s, %s, 1234, 5678, 3, 42, 1)",
              world.listener.id, single[0]["id"])
    world.stats_rows.append((world.listener.id, single[0]["id"]))

    run, window = world.play(info_runs=[
        {"loadbalancer": world.pair_name},                                   # by name
        {"loadbalancer": world.lbs[world.single_name], "stats": True},       # by ID, with stats
        {"id": backup["id"], "stats": True},
        {"loadbalancer": world.pair_name, "filters": {"role": "MASTER"}},
        {"id": NO_SUCH_AMPHORA},
        {"loadbalancer": f"{world.prefix}-no-such-lb"},
    ])
    assert_ok(run)
    by_name, by_id, one, masters, none, no_lb = results(run, "Amphora info")
    assert [a["id"] for a in by_name["amphorae"]] == [backup["id"], master["id"]]   # standby first
    assert [a["id"] for a in by_id["amphorae"]] == [single[0]["id"]]
    stats = by_id["amphorae"][0]["stats"]
    assert len(stats) == 1 and stats[0]["listener_id"] == world.listener.id
    assert (stats[0]["bytes_in"], stats[0]["bytes_out"], stats[0]["total_connections"]) == (1234, 5678, 42)
    assert [a["id"] for a in one["amphorae"]] == [backup["id"]] and one["amphorae"][0]["stats"] is None
    assert [a["id"] for a in masters["amphorae"]] == [master["id"]]
    assert none["amphorae"] == [] and no_lb["amphorae"] == []
    assert all(r["changed"] is False for r in (by_name, by_id, one, masters, none, no_lb))
    assert window.writes == [], window.show(window.writes)


# -- bad input -------------------------------------------------------------------------------------
def test_bad_inputs_fail_with_a_clear_message_before_any_write(world):
    single = world.amphorae(world.single_name)[0]
    pair = world.amphorae(world.pair_name)
    pair_lb = world.pair_name
    cases = [
        ({"action": "failover", "id": NO_SUCH_AMPHORA}, f"id: amphora {NO_SUCH_AMPHORA} not found"),
        ({"action": "configure", "id": NO_SUCH_AMPHORA}, f"id: amphora {NO_SUCH_AMPHORA} not found"),
        ({"action": "failover", "id": "not-an-id"}, "id: 'not-an-id' is not an amphora ID"),
        ({"action": "failover"}, "id, loadbalancer: action=failover needs one of them"),
        ({"action": "failover", "id": single["id"], "loadbalancer": pair_lb}, "give one of them, not both"),
        ({"action": "failover", "loadbalancer": f"{world.prefix}-no-such-lb"},
         f"loadbalancer: load balancer {world.prefix}-no-such-lb not found"),
        ({"state": "absent", "id": single["id"]}, f"amphora {single['id']} is ALLOCATED, not ERROR"),
        ({"state": "absent", "id": single["id"], "action": "failover"}, "action: not used with state=absent"),
        ({"action": "image_roll", "loadbalancer": pair_lb, "image_tag": f"{world.prefix}-no-image"},
         f"image_tag: no active image in Glance is tagged '{world.prefix}-no-image'"),
        ({"action": "image_roll", "id": single["id"]}, "id: not used with action=image_roll"),
        ({"action": "image_roll", "loadbalancer": pair_lb, "image_id": ""}, "image_id: empty"),
        ({"action": "failover", "id": single["id"], "image_tag": "amphora"}, "image_tag: only used with action=image_roll"),
        ({"action": "failover", "id": single["id"], "timeout": 0}, "timeout: must be more than 0"),
        ({}, "action: required with state=present"),
    ]
    run, window = world.play(amp_runs=[case for case, _fragment in cases], ignore_errors=True)
    got = results(run, "Amphora")
    assert len(got) == len(cases)
    for (case, fragment), result in zip(cases, got):
        assert result.get("failed") is True, (case, result)
        assert fragment in result["msg"], (case, result["msg"])
        assert result["changed"] is False and result["steps"] == [], (case, result)
    assert window.writes == [], window.show(window.writes)
    # nothing was replaced
    assert world.amphorae(world.single_name)[0]["id"] == single["id"]
    assert {a["id"] for a in world.amphorae(world.pair_name)} == {a["id"] for a in pair}


# -- failover --------------------------------------------------------------------------------------
def test_failover_of_one_amphora_check_mode_then_for_real(world):
    old = world.amphorae(world.single_name)[0]
    check, window = world.play(amp_runs=[{"action": "failover", "id": old["id"]}], check=True, diff=True)
    assert_ok(check)
    (result,) = results(check, "Amphora")
    assert result["changed"] is True
    assert [(s["action"], s["amphora_id"], s["new_amphora_id"]) for s in result["steps"]] == \
        [("failover", old["id"], None)]
    assert result["diff"]["before"]["amphorae"][0]["id"] == old["id"]
    assert result["diff"]["after"]["amphorae"][0] == {"id": None, "replaces": old["id"], "role": "STANDALONE",
                                                      "loadbalancer_id": world.lbs[world.single_name],
                                                      "image_id": None}
    assert result["api_calls"]["writes"] == 0
    assert window.writes == [], window.show(window.writes)
    assert world.amphorae(world.single_name)[0]["id"] == old["id"]

    run, window = world.play(amp_runs=[{"action": "failover", "id": old["id"], "timeout": 300}])
    assert_ok(run)
    (result,) = results(run, "Amphora")
    (now,) = world.amphorae(world.single_name)
    assert result["changed"] is True
    assert now["id"] != old["id"] and now["role"] == "STANDALONE"
    assert result["steps"][0]["new_amphora_id"] == now["id"]
    assert world.amphora(old["id"]) is None          # the old one is gone from the API
    assert world.lb_status(world.single_name) == "ACTIVE"
    assert writes(window) == [f"PUT /v2.0/octavia/amphorae/{old['id']}/failover"], window.show(window.writes)
    assert window.conflicts == [], window.show(window.conflicts)
    world.replaced_single = old["id"]


def test_failover_of_a_load_balancer_goes_standby_first_one_at_a_time(world):
    backup, master = sorted(world.amphorae(world.pair_name), key=lambda a: a["role"] != "BACKUP")
    assert (backup["role"], master["role"]) == ("BACKUP", "MASTER")
    run, window = world.play(amp_runs=[{"action": "failover", "loadbalancer": world.pair_name}])
    assert_ok(run)
    (result,) = results(run, "Amphora")
    assert [(s["amphora_id"], s["role"]) for s in result["steps"]] == [(backup["id"], "BACKUP"), (master["id"], "MASTER")]
    now = {a["role"]: a["id"] for a in world.amphorae(world.pair_name)}
    assert set(now) == {"BACKUP", "MASTER"}
    assert not {backup["id"], master["id"]} & set(now.values())      # both replaced
    assert [s["new_amphora_id"] for s in result["steps"]] == [now["BACKUP"], now["MASTER"]]
    assert world.lb_status(world.pair_name) == "ACTIVE"
    # the standby's failover, then the master's; no 409: the module waited for ACTIVE in between
    assert writes(window) == [f"PUT /v2.0/octavia/amphorae/{backup['id']}/failover",
                              f"PUT /v2.0/octavia/amphorae/{master['id']}/failover"], window.show(window.writes)
    assert window.conflicts == [], window.show(window.conflicts)
    puts = [i for i, r in enumerate(window.requests) if r.write]
    between = window.requests[puts[0] + 1:puts[1]]
    assert any(r.method == "GET" and r.path.endswith(f"/lbaas/loadbalancers/{world.lbs[world.pair_name]}")
               for r in between), window.show()


# -- agent configuration -------------------------------------------------------------------------------
def worker_log_since(epoch):
    text = ""
    for name in controllers():
        proc = subprocess.run(["podman", "exec", name, "journalctl", "-u", "octavia-worker", "--no-pager", "-o", "cat",
                               f"--since=@{int(epoch) - 1}"], capture_output=True, text=True, check=False)
        text += proc.stdout
    return text


def test_configure_pushes_the_agent_configuration(world):
    amps = world.amphorae(world.pair_name)
    ids = [a["id"] for a in sorted(amps, key=lambda a: a["role"] != "BACKUP")]
    check, window = world.play(amp_runs=[{"action": "configure", "loadbalancer": world.pair_name}], check=True)
    assert_ok(check)
    (result,) = results(check, "Amphora")
    assert result["changed"] is True and [s["amphora_id"] for s in result["steps"]] == ids
    assert window.writes == [], window.show(window.writes)

    start = time.time()
    run, window = world.play(amp_runs=[{"action": "configure", "loadbalancer": world.pair_name}])
    assert_ok(run)
    (result,) = results(run, "Amphora")
    assert result["changed"] is True and [s["action"] for s in result["steps"]] == ["configure", "configure"]
    assert writes(window) == [f"PUT /v2.0/octavia/amphorae/{i}/config" for i in ids], window.show(window.writes)
    # Octavia's worker ran the update flow for each (asynchronously: give it a moment)
    end = time.monotonic() + 60
    while True:
        log = worker_log_since(start)
        done = [i for i in ids if f"Finished amphora agent configuration update, amphora's id was: {i}" in log]
        if done == ids or time.monotonic() > end:
            break
        time.sleep(1)
    assert done == ids, log[-3000:]
    assert {a["id"] for a in world.amphorae(world.pair_name)} == set(ids)   # nothing replaced


# -- deleting an amphora in ERROR ----------------------------------------------------------------------
def test_delete_only_an_amphora_in_error(world):
    amp_id = world.replaced_single
    # What a failed failover leaves: the old amphora in ERROR. Noop drivers never fail, so
    # the test puts the replaced amphora's record (DELETED) back to ERROR.
    world.sql("UPDATE amphora SET status='ERROR' WHERE id=%s AND status='DELETED'", amp_id)
    world.made_error.append(amp_id)
    assert world.amphora(amp_id)["status"] == "ERROR"

    check, window = world.play(amp_runs=[{"state": "absent", "id": amp_id}], check=True, diff=True)
    assert_ok(check)
    (result,) = results(check, "Amphora")
    assert result["changed"] is True and result["diff"]["before"]["amphora"]["id"] == amp_id
    assert window.writes == [], window.show(window.writes)
    assert world.amphora(amp_id)["status"] == "ERROR"

    run, window = world.play(amp_runs=[{"state": "absent", "id": amp_id}, {"state": "absent", "id": amp_id}])
    assert_ok(run)
    first, again = results(run, "Amphora")
    assert first["changed"] is True and [s["action"] for s in first["steps"]] == ["delete"]
    assert again["changed"] is False and again["steps"] == []
    assert writes(window) == [f"DELETE /v2.0/octavia/amphorae/{amp_id}"], window.show(window.writes)
    assert world.amphora(amp_id) is None
    assert world.sql("SELECT status FROM amphora WHERE id=%s", amp_id) == (("DELETED",),)
    assert world.lb_status(world.single_name) == "ACTIVE"


# -- the image roll (playbooks/amphora_image_roll.yml) ------------------------------------------------------
def test_image_roll_playbook(world, tmp_path):
    """Upload + tag an "old" image, record it on our amphorae, then roll onto a "new" one."""
    old_file = tmp_path / "amphora-old.qcow2"
    new_file = tmp_path / "amphora-new.qcow2"
    old_file.write_bytes(pathlib.Path(world.facts["testbed_amphora_image"]).read_bytes())  # the placeholder
    new_file.write_bytes(old_file.read_bytes() + b"\x01")     # other content, other checksum
    lbs = [world.single_name, world.pair_name]
    base = {
        "octavia_cloud": world.cloud_name,
        "amphora_resources_image_name": world.prefix,
        "amphora_resources_image_tag": world.tag,
        "amphora_resources_flavor_name": world.prefix,
        "amphora_resources_secrets_dir": str(tmp_path / "secrets"),
        "amphora_image_roll_loadbalancers": lbs,
        "amphora_image_roll_timeout": 300,
    }

    def roll(image_file, check=False):
        with Window(world.ours) as window:
            run = run_playbook(ROLL, extra_vars=dict(base, amphora_resources_image_file=str(image_file)), check=check)
        assert_ok(run)
        return run, results(run, "Fail over the listed load balancers' amphorae that are not on the tagged image"), \
            window

    # 1. The "old" image. Octavia recorded no image for our amphorae (noop compute): the
    #    roll fails over none of them and lists them.
    run, per_lb, window = roll(old_file)
    (old_image,) = world.images()
    assert old_image.tags == [world.tag]
    ids_before = {name: [a["id"] for a in world.amphorae(name)] for name in lbs}
    assert [r["changed"] for r in per_lb] == [False, False]
    assert sorted(sum((r["unknown_image"] for r in per_lb), [])) == sorted(sum(ids_before.values(), []))
    assert all(r["steps"] == [] for r in per_lb)
    assert window.writes == [], window.show(window.writes)

    # What Nova would have recorded had it booted our amphorae from the old image.
    every = sum(ids_before.values(), [])
    world.sql("UPDATE amphora SET image_id=%s WHERE id IN (%s)" % ("%s", ", ".join(["%s"] * len(every))),
              old_image.id, *every)
    pair_order = [a["id"] for a in sorted(world.amphorae(world.pair_name), key=lambda a: a["role"] != "BACKUP")]
    expected_order = ids_before[world.single_name] + pair_order

    # 2. Check mode with the "new" image: nothing uploaded, nothing failed over; the roll
    #    lists every amphora on the old image, standby before master.
    run, per_lb, window = roll(new_file, check=True)
    assert [s["amphora_id"] for r in per_lb for s in r["steps"]] == expected_order
    assert all(r["changed"] for r in per_lb)
    assert window.writes == [], window.show(window.writes)
    assert [i.id for i in world.images()] == [old_image.id]
    assert {name: [a["id"] for a in world.amphorae(name)] for name in lbs} == ids_before

    # 3. For real: the new image is uploaded and tagged, every amphora on the old image is
    #    replaced, one at a time, standby first, with no 409 (the module waited for ACTIVE).
    run, per_lb, window = roll(new_file)
    new_image = next(i for i in world.images() if i.id != old_image.id)
    assert new_image.tags == [world.tag] and world.cloud.image.get_image(old_image.id).tags == []
    steps = [s for r in per_lb for s in r["steps"]]
    assert [s["amphora_id"] for s in steps] == expected_order
    assert all(s["image_id"] == old_image.id for s in steps)
    assert writes(window) == [f"PUT /v2.0/octavia/amphorae/{i}/failover" for i in expected_order], \
        window.show(window.writes)
    assert window.conflicts == [], window.show(window.conflicts)
    now = {name: [a["id"] for a in world.amphorae(name)] for name in lbs}
    assert not set(sum(now.values(), [])) & set(every)                      # all replaced
    assert sorted(s["new_amphora_id"] for s in steps) == sorted(sum(now.values(), []))
    assert all(world.lb_status(name) == "ACTIVE" for name in lbs)
    assert all(r["image"]["id"] == new_image.id for r in per_lb)

    # 4. What Nova would record for the replacements booted from the tagged (new) image;
    #    then a second run changes nothing and writes nothing.
    replacements = sum(now.values(), [])
    world.sql("UPDATE amphora SET image_id=%s WHERE id IN (%s)" % ("%s", ", ".join(["%s"] * len(replacements))),
              new_image.id, *replacements)
    run, per_lb, window = roll(new_file)
    assert run.changed() == 0, run.changed_tasks()
    assert sorted(sum((r["up_to_date"] for r in per_lb), [])) == sorted(replacements)
    assert window.writes == [], window.show(window.writes)

    # 5. Only what differs is replaced: the pair's master back on the old image.
    master = next(a for a in world.amphorae(world.pair_name) if a["role"] == "MASTER")
    backup = next(a for a in world.amphorae(world.pair_name) if a["role"] == "BACKUP")
    world.sql("UPDATE amphora SET image_id=%s WHERE id=%s", old_image.id, master["id"])
    owner = world.cloud.identity.find_project("service", ignore_missing=False).id
    run, window = world.play(amp_runs=[
        # a mismatching image_id fails before any failover
        {"action": "image_roll", "loadbalancer": world.pair_name, "image_tag": world.tag, "image_owner": owner,
         "image_id": old_image.id},
        {"action": "image_roll", "loadbalancer": world.pair_name, "image_tag": world.tag, "image_owner": "service"},
    ], ignore_errors=True)
    mismatch, selective = results(run, "Amphora")
    assert mismatch.get("failed") and f"image_id: {old_image.id} is not the image Glance has tagged" in mismatch["msg"]
    assert selective.get("failed") is not True, selective
    assert [s["amphora_id"] for s in selective["steps"]] == [master["id"]]
    assert selective["up_to_date"] == [backup["id"]]
    assert writes(window) == [f"PUT /v2.0/octavia/amphorae/{master['id']}/failover"], window.show(window.writes)
    assert {a["role"]: a["id"] for a in world.amphorae(world.pair_name)}["BACKUP"] == backup["id"]
