"""The pure parts of the amphora modules (plugins/module_utils/amphora.py): input checks,
failover order, Octavia's choice of the tagged image, which amphorae an image roll
replaces, and finding the replacement after a failover. No cloud."""

from __future__ import annotations

import pytest
import yaml

from ansible_collections.octavia.lbaas.plugins.module_utils import amphora as amp
from ansible_collections.octavia.lbaas.plugins.modules import amphora as amphora_module
from ansible_collections.octavia.lbaas.plugins.modules import amphora_info as amphora_info_module

from doc_checks import compare_options as _compare

AMP_ID = "0b2c3d4e-5f60-4718-9a2b-3c4d5e6f7081"
OLD = "11111111-1111-4111-8111-111111111111"
NEW = "22222222-2222-4222-8222-222222222222"


def params(**given):
    base = dict(action=None, state="present", id=None, loadbalancer=None, image_tag=None, image_owner=None,
                image_owner_domain="Default", image_id=None, timeout=600)
    base.update(given)
    return base


def a(ident, lb="lb-1", role="STANDALONE", image=OLD, status="ALLOCATED", created="2026-11-22T08:00:00"):
    return {"id": ident, "loadbalancer_id": lb, "role": role, "image_id": image, "status": status,
            "created_at": created}


# -- input checks -------------------------------------------------------------------------
@pytest.mark.parametrize("given", [
    dict(action="failover", id=AMP_ID),
    dict(action="failover", loadbalancer="web"),
    dict(action="configure", id=AMP_ID),
    dict(action="configure", loadbalancer="web"),
    dict(action="image_roll"),
    dict(action="image_roll", loadbalancer="web", image_tag="amphora", image_owner="service"),
    dict(action="image_roll", image_id=NEW),
    dict(state="absent", id=AMP_ID),
])
def test_valid_inputs(given):
    assert amp.check_params(params(**given)) == []


@pytest.mark.parametrize("given, fragments", [
    (dict(), ["action: required"]),
    (dict(action="failover"), ["id, loadbalancer: action=failover needs one of them"]),
    (dict(action="configure"), ["id, loadbalancer: action=configure needs one of them"]),
    (dict(action="failover", id=AMP_ID, loadbalancer="web"), ["give one of them, not both"]),
    (dict(action="failover", id="not-a-uuid"), ["id: 'not-a-uuid' is not an amphora ID"]),
    (dict(action="failover", loadbalancer="  "), ["loadbalancer: must not be empty"]),
    (dict(action="failover", id=AMP_ID, image_tag="amphora"), ["image_tag: only used with action=image_roll"]),
    (dict(action="configure", id=AMP_ID, image_owner="x", image_id=NEW),
     ["image_owner, image_id: only used with action=image_roll"]),
    (dict(action="failover", id=AMP_ID, timeout=0), ["timeout: must be at least 1 second"]),
    (dict(action="image_roll", id=AMP_ID), ["id: not used with action=image_roll"]),
    (dict(action="image_roll", image_tag=" "), ["image_tag: must not be empty"]),
    (dict(action="image_roll", image_owner=""), ["image_owner: must not be empty"]),
    (dict(action="image_roll", image_id=""), ["image_id: empty"]),
    (dict(action="image_roll", image_id="abc"), ["image_id: 'abc' is not an image ID"]),
    (dict(state="absent"), ["id: required with state=absent"]),
    (dict(state="absent", id=AMP_ID, action="failover"), ["action: not used with state=absent"]),
    (dict(state="absent", id=AMP_ID, loadbalancer="web"), ["loadbalancer: not used with state=absent"]),
    (dict(state="absent", id=AMP_ID, image_tag="amphora"), ["image_tag: only used with action=image_roll"]),
    # every problem at once, each naming its option
    (dict(action="failover", id="x", loadbalancer="web", timeout=-1),
     ["id: 'x' is not", "timeout: must be", "give one of them, not both"]),
])
def test_invalid_inputs_name_the_option(given, fragments):
    errors = amp.check_params(params(**given))
    assert len(errors) == len(fragments), errors
    for fragment in fragments:
        assert any(fragment in e for e in errors), (fragment, errors)


def test_empty_image_id_is_for_check_mode_only():
    assert amp.check_params(params(action="image_roll", image_id=""), check_mode=True) == []
    assert amp.check_params(params(action="image_roll", image_id=""), check_mode=False)


# -- failover order -------------------------------------------------------------------------
def test_standby_goes_before_master_and_load_balancers_stay_together():
    amphorae = [a("m1", "lb-b", "MASTER"), a("s1", "lb-a"), a("b1", "lb-b", "BACKUP"),
                a("m0", "lb-a", "MASTER"), a("b0", "lb-a", "BACKUP")]
    assert [x["id"] for x in amp.failover_order(amphorae)] == ["b0", "s1", "m0", "b1", "m1"]


def test_failover_order_oldest_first_for_equal_roles_and_missing_roles_as_standalone():
    amphorae = [a("late", created="2026-11-22T09:00:00"), a("early", created="2026-11-22T07:00:00"),
                a("norole", role=None, created="2026-11-22T08:00:00"), a("master", role="MASTER")]
    assert [x["id"] for x in amp.failover_order(amphorae)] == ["early", "norole", "late", "master"]


# -- the tagged image --------------------------------------------------------------------------
def img(ident, created, tags=("amphora",), owner="svc", status="active"):
    return {"id": ident, "created_at": created, "tags": list(tags), "owner": owner, "status": status}


def test_newest_active_tagged_image_of_the_owner_wins():
    images = [img("old", "2026-01-01T00:00:00Z"), img("new", "2026-03-01T00:00:00Z"),
              img("queued", "2026-04-01T00:00:00Z", status="queued"),
              img("other-owner", "2026-05-01T00:00:00Z", owner="someone"),
              img("other-tag", "2026-06-01T00:00:00Z", tags=("x",))]
    chosen, others = amp.pick_tagged_image(images, "amphora", "svc")
    assert chosen["id"] == "new"
    assert [i["id"] for i in others] == ["old"]


def test_without_owner_any_owner_counts_like_octavia():
    images = [img("mine", "2026-01-01T00:00:00Z"), img("theirs", "2026-02-01T00:00:00Z", owner="someone")]
    assert amp.pick_tagged_image(images, "amphora")[0]["id"] == "theirs"


def test_no_tagged_image():
    assert amp.pick_tagged_image([img("x", "2026-01-01T00:00:00Z", tags=("other",))], "amphora") == (None, [])
    assert amp.pick_tagged_image([], "amphora") == (None, [])


# -- which amphorae a roll replaces --------------------------------------------------------------
def test_classify_only_other_images_are_stale_in_failover_order():
    amphorae = [a("m", "lb-1", "MASTER", OLD), a("b", "lb-1", "BACKUP", OLD), a("cur", "lb-2", image=NEW),
                a("unk", "lb-2", image=None), a("spare", None, None, OLD), a("gone", status="DELETED")]
    plan = amp.classify(amphorae, NEW, {"lb-1": "ACTIVE", "lb-2": "ACTIVE"})
    assert [x["id"] for x in plan["stale"]] == ["b", "m"]
    assert [x["id"] for x in plan["current"]] == ["cur"]
    assert [x["id"] for x in plan["unknown"]] == ["unk"]
    assert [(x["id"], "spare" in reason) for x, reason in plan["skipped"]] == [("spare", True)]


def test_classify_nothing_stale_when_all_are_current():
    plan = amp.classify([a("x", image=NEW), a("y", role="MASTER", image=NEW)], NEW)
    assert plan["stale"] == [] and len(plan["current"]) == 2


def test_classify_skips_amphorae_of_a_load_balancer_in_error():
    plan = amp.classify([a("x", "lb-bad"), a("y", "lb-ok"), a("z", "lb-bad", image=NEW)], NEW,
                        {"lb-bad": "ERROR", "lb-ok": "ACTIVE"})
    assert [x["id"] for x in plan["stale"]] == ["y"]
    assert [x["id"] for x in plan["current"]] == ["z"]   # already current: nothing to skip
    assert [(x["id"], "ERROR" in reason) for x, reason in plan["skipped"]] == [("x", True)]


def test_classify_for_a_new_image_not_uploaded_yet():
    plan = amp.classify([a("x", image=NEW), a("y", image=OLD), a("z", image=None)], amp.NEW_IMAGE)
    assert [x["id"] for x in plan["stale"]] == ["x", "y"]
    assert [x["id"] for x in plan["unknown"]] == ["z"]


# -- the replacement of a failed-over amphora ---------------------------------------------------------
def test_replacement_is_the_new_amphora_with_the_same_role():
    old = a("b-old", role="BACKUP")
    after = [a("m", role="MASTER"), a("b-new", role="BACKUP")]
    assert amp.replacement_of(old, {"b-old", "m"}, after)["id"] == "b-new"


def test_replacement_falls_back_to_any_new_amphora_and_none_when_there_is_none():
    old = a("b-old", role="BACKUP")
    assert amp.replacement_of(old, {"b-old"}, [a("n", role="MASTER")])["id"] == "n"
    assert amp.replacement_of(old, {"b-old", "m"}, [a("m", role="MASTER")]) is None
    assert amp.replacement_of(old, {"b-old"}, [a("d", status="DELETED")]) is None


def test_step_and_summary_report_the_amphora():
    record = a("x", "lb-1", "BACKUP", OLD)
    assert amp.step("failover", record, new_amphora_id="y") == {
        "action": "failover", "amphora_id": "x", "loadbalancer_id": "lb-1", "role": "BACKUP", "image_id": OLD,
        "new_amphora_id": "y"}
    assert amp.summary(record) == {"id": "x", "loadbalancer_id": "lb-1", "role": "BACKUP", "status": "ALLOCATED",
                                   "image_id": OLD}


def test_check_mode_diff_predicts_a_replacement_without_id():
    old = a("x", "lb-1", "BACKUP", OLD)
    assert amphora_module.predicted(old, None, NEW) == {"id": None, "loadbalancer_id": "lb-1", "role": "BACKUP",
                                                        "image_id": NEW, "replaces": "x"}
    assert amphora_module.predicted(old, a("y", "lb-1", "BACKUP", None))["replaces"] == "x"


# -- documentation agrees with the argument specs ---------------------------------------------------
@pytest.mark.parametrize("module, cls", [(amphora_module, amphora_module.AmphoraModule),
                                         (amphora_info_module, amphora_info_module.AmphoraInfoModule)])
def test_documentation_matches_the_argument_spec(module, cls):
    doc = yaml.safe_load(module.DOCUMENTATION)
    assert _compare(doc["options"], cls.argument_spec) == []
    examples = yaml.safe_load(module.EXAMPLES)
    name = "octavia.lbaas.%s" % doc["module"]
    assert examples and all(name in task for task in examples)
    for task in examples:
        assert set(task[name]) <= set(cls.argument_spec) | {"cloud"}
    returned = yaml.safe_load(module.RETURN)
    assert "api_calls" in returned
    assert all(v.get("description") and v.get("type") and v.get("returned") for v in returned.values())
