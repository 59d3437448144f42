#!/usr/bin/python
# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Operate Octavia amphorae through the admin API: failover, agent configuration,
deletion of amphorae in ERROR, and the rolling image upgrade."""

from __future__ import annotations

DOCUMENTATION = r"""
module: amphora
short_description: Fail over, configure, delete or roll Octavia amphorae onto a new image
description:
  - Operates the amphorae of Octavia's C(amphora) provider through its admin API
    (C(/v2/octavia/amphorae)). Needs a user with Octavia's admin role.
  - "O(action=failover): replaces one amphora (O(id)), or every amphora of a load balancer
    (O(loadbalancer)), one at a time: in an ACTIVE_STANDBY pair the standby (C(BACKUP)) goes
    before the C(MASTER). Before each failover the module waits for the load balancer to be
    ACTIVE, after it for the load balancer to be ACTIVE again, and checks that the amphora
    was replaced (the replacement has a new ID). A failure stops the sequence: nothing after
    it is started."
  - "O(action=configure): pushes the controller's current agent settings to the amphora
    agent (C(PUT /v2/octavia/amphorae/{id}/config)), for one amphora or every amphora of a
    load balancer. Octavia does this asynchronously; the task does not wait."
  - "O(action=image_roll): finds the image Octavia boots new amphorae from as Octavia
    does (the newest active Glance image with O(image_tag), owned by O(image_owner) when
    given; set them like C(amp_image_tag) and C(amp_image_owner_id) in C(octavia.conf)),
    then fails over, one at a time and standby first, only the amphorae whose recorded
    image (C(image_id)) is another one. Amphorae already on it are left alone, so a second
    run changes nothing. Amphorae for which Octavia recorded no image are not failed over
    (they are listed in RV(unknown_image), with a warning). Amphorae of a load balancer
    in ERROR and spare amphorae are skipped (RV(skipped))."
  - "O(state=absent): deletes an amphora in ERROR (Octavia deletes no other); an absent
    amphora is left absent. Any other status fails before any write."
  - Input is checked before any API call; an unknown amphora, load balancer, or a roll
    without a tagged image fails before any failover is started.
  - "In check mode nothing is written: RV(steps) lists what would be done, in order."
author: octavia.lbaas maintainers (@octavia-lbaas)
version_added: 0.1.0
extends_documentation_fragment: [octavia.lbaas.cloud]
attributes:
  check_mode:
    description: Plans the steps and returns them in RV(steps) without any write.
    support: full
  diff_mode:
    description: Returns the amphorae acted on before, and their replacements after.
    support: full
  idempotent:
    description: A second run with the same options makes no write.
    support: partial
    details: >-
      O(action=image_roll) and O(state=absent) are idempotent; O(action=failover) and
      O(action=configure) are actions that run each time.
options:
  action:
    description:
      - What to do with O(state=present). See the description.
    type: str
    choices: [failover, configure, image_roll]
  state:
    description:
      - V(absent) deletes the amphora O(id), which must be in ERROR.
    type: str
    choices: [present, absent]
    default: present
  id:
    description:
      - ID of one amphora (O(action=failover), O(action=configure), O(state=absent)).
    type: str
  loadbalancer:
    description:
      - Load balancer (name or ID) whose amphorae O(action=failover) or
        O(action=configure) act on, all of them.
      - With O(action=image_roll), limits the roll to this load balancer's amphorae;
        without it every amphora of the cloud is considered.
    type: str
  image_tag:
    description:
      - O(action=image_roll) only. Glance tag of the amphora image, Octavia's
        C(amp_image_tag). When not given, V(amphora) (Octavia's default).
    type: str
  image_owner:
    description:
      - O(action=image_roll) only. Project (ID, or name in O(image_owner_domain)) that owns
        the amphora image, Octavia's C(amp_image_owner_id). When not given, images of any
        owner count, as in Octavia with an empty C(amp_image_owner_id).
    type: str
  image_owner_domain:
    description: Domain (name or ID) in which a project name in O(image_owner) is looked up.
    type: str
    default: Default
  image_id:
    description:
      - O(action=image_roll) only, normally not set. The image the amphorae must end up
        on, for a playbook that uploads it in an earlier task (the C(amphora_resources)
        role's fact C(amphora_resources_image_id)).
      - It must be the image that O(image_tag) selects, else the task fails before any
        failover (Octavia would boot the other one). In check mode, where the earlier task
        changed nothing, a mismatch is only a warning, and an empty string stands for a new
        image that is not uploaded yet (every amphora with a recorded image is listed).
    type: str
  timeout:
    description:
      - Seconds for every wait of the task together (a roll of many amphorae needs more).
    type: int
    default: 600
notes:
  - Failovers are disruptive for SINGLE load balancers (the VIP is down while the amphora
    is rebuilt). ACTIVE_STANDBY ones keep serving through the other amphora.
  - Octavia refuses to fail over an amphora whose load balancer is not ACTIVE; for a load
    balancer in ERROR, fail over the whole load balancer (C(octavia.lbaas.loadbalancer)
    with C(failover=true)).
"""

EXAMPLES = r"""
- name: Replace one amphora
  octavia.lbaas.amphora:
    cloud: mycloud
    action: failover
    id: 0b2c3d4e-5f60-4718-9a2b-3c4d5e6f7081

- name: Replace every amphora of a load balancer (standby first)
  octavia.lbaas.amphora:
    cloud: mycloud
    action: failover
    loadbalancer: web

- name: Push the agent configuration to a load balancer's amphorae
  octavia.lbaas.amphora:
    cloud: mycloud
    action: configure
    loadbalancer: web

- name: Delete an amphora left in ERROR
  octavia.lbaas.amphora:
    cloud: mycloud
    id: 1c2d3e4f-5061-4728-8a9b-0c1d2e3f4a5b
    state: absent

- name: What would an image roll do?
  octavia.lbaas.amphora:
    cloud: mycloud
    action: image_roll
    image_tag: amphora
    image_owner: service
  check_mode: true
  register: plan

- name: Roll every amphora onto the tagged image, one at a time
  octavia.lbaas.amphora:
    cloud: mycloud
    action: image_roll
    image_tag: amphora
    image_owner: service
    timeout: 3600
"""

RETURN = r"""
steps:
  description:
    - What the task did (or would do, in check mode), in order.
  returned: always
  type: list
  elements: dict
  contains:
    action:
      description: V(failover), V(configure) or V(delete).
      type: str
    amphora_id:
      description: The amphora acted on.
      type: str
    loadbalancer_id:
      description: Its load balancer.
      type: str
    role:
      description: Its role (STANDALONE, MASTER or BACKUP).
      type: str
    image_id:
      description: The image Octavia recorded for it.
      type: str
    new_amphora_id:
      description: For a failover, the amphora that replaced it (null in check mode).
      type: str
  sample: [{"action": "failover", "amphora_id": "d2ab82f2-6a4e-47d0-8de4-ad518fe02a3e", "role": "BACKUP",
            "loadbalancer_id": "c17bdc40-efc6-4747-84b3-067e0df441f2", "image_id": "5b1c8a4e-0d7f-4c4e-9d55-1f7a3c2b9e10",
            "new_amphora_id": "370629b9-1404-46f4-9e14-affe47026eae"}]
image:
  description: The image the roll aims for (null in check mode when it is not uploaded yet).
  returned: with O(action=image_roll)
  type: dict
  sample: {"id": "dc490cc2-a2a8-4734-9b53-3db15bfbb05e", "name": "amphora-x64-haproxy", "tags": ["amphora"],
           "owner": "f00aac56bc2f4e8d8ddfdf1ad934b94b", "created_at": "2026-11-22T03:56:18Z"}
up_to_date:
  description: IDs of the amphorae already on the image.
  returned: with O(action=image_roll)
  type: list
  elements: str
  sample: ["a83ef795-1f4b-44cf-9c66-02550fa97a89"]
unknown_image:
  description: IDs of the amphorae for which Octavia recorded no image (not failed over).
  returned: with O(action=image_roll)
  type: list
  elements: str
  sample: []
skipped:
  description: Amphorae the roll leaves alone, with the reason.
  returned: with O(action=image_roll)
  type: list
  elements: dict
  sample: [{"amphora_id": "0509bdfe-3b82-4010-9eb2-e1afda5775d7", "reason": "its load balancer ... is in ERROR"}]
actions:
  description: One line per write the task made (or would make in check mode).
  returned: always
  type: list
  elements: str
  sample: ["fail over amphora d2ab82f2-6a4e-47d0-8de4-ad518fe02a3e (BACKUP of load balancer c17bdc40-...)"]
api_calls:
  description: API calls the task made.
  returned: always
  type: dict
  sample: {"writes": 2, "reads": 14}
"""

from ansible_collections.octavia.lbaas.plugins.module_utils.amphora import (
    ACTIONS,
    AMPHORAE,
    NEW_IMAGE,
    check_params,
    classify,
    failover_order,
    pick_tagged_image,
    replacement_of,
    step,
    summary,
)
from ansible_collections.octavia.lbaas.plugins.module_utils.cloud import STATE_OPTION, Deadline, ModuleError
from ansible_collections.octavia.lbaas.plugins.module_utils.identity_lookup import find_project_id
from ansible_collections.octavia.lbaas.plugins.module_utils.lbaas_module import LbaasModule

DEFAULT_TAG = "amphora"
IMAGE_FIELDS = ("id", "name", "tags", "owner", "status", "created_at")


class AmphoraModule(LbaasModule):
    wait_options = False
    argument_spec = dict(
        action=dict(type="str", choices=list(ACTIONS)),
        state=dict(STATE_OPTION),
        id=dict(type="str"),
        loadbalancer=dict(type="str"),
        image_tag=dict(type="str"),
        image_owner=dict(type="str"),
        image_owner_domain=dict(type="str", default="Default"),
        image_id=dict(type="str"),
        timeout=dict(type="int", default=600),
    )

    def __init__(self):
        super().__init__()
        # one budget for every wait of the task (LbaasModule.api reads self.deadline)
        self.deadline = Deadline(self.params["timeout"])
        self.steps = []

    def validate(self):
        errors = check_params(self.params, self.check_mode)
        if errors:
            raise ModuleError("; ".join(errors))

    def fail(self, msg, **result):
        result.setdefault("steps", self.steps)
        super().fail(msg, **result)

    # -- reading -------------------------------------------------------------------------
    def get_amphora(self, amp_id):
        found = self.api.get("%s/%s" % (AMPHORAE, amp_id), missing_ok=True, what="read amphora %s" % amp_id)
        amp = (found or {}).get("amphora")
        return None if not amp or amp.get("status") == "DELETED" else amp

    def lb_amphorae(self, lb_id):
        items = self.api.list(AMPHORAE, "amphorae", {"loadbalancer_id": lb_id})
        return [a for a in items if a.get("loadbalancer_id") == lb_id and a.get("status") != "DELETED"]

    def find_lb(self, ref):
        lb = self.api.find_loadbalancer(ref)
        if lb is None or lb.get("provisioning_status") in ("PENDING_DELETE", "DELETED"):
            raise ModuleError("loadbalancer: load balancer %s not found" % ref)
        return lb

    def targets(self):
        """The amphorae O(id) or O(loadbalancer) names, in failover order."""
        p = self.params
        if p["id"]:
            amp = self.get_amphora(p["id"])
            if amp is None:
                raise ModuleError("id: amphora %s not found (Octavia has no such amphora, or it was deleted)" % p["id"])
            return [amp]
        lb = self.find_lb(p["loadbalancer"])
        amps = self.lb_amphorae(lb["id"])
        if not amps:
            raise ModuleError("loadbalancer: load balancer %s has no amphorae (its provider is %s; only the amphora "
                              "provider has them)" % (p["loadbalancer"], lb.get("provider")))
        return failover_order(amps)

    def check_failover_possible(self, amps, verb="fail over"):
        """Before any write: every amphora belongs to a load balancer that is not in ERROR."""
        statuses = {}
        for amp in amps:
            lb_id = amp.get("loadbalancer_id")
            if not lb_id:
                raise ModuleError("amphora %s belongs to no load balancer (a spare amphora): Octavia's API cannot %s "
                                  "it" % (amp["id"], verb))
            if lb_id not in statuses:
                lb = self.api.get_loadbalancer(lb_id)
                statuses[lb_id] = lb.get("provisioning_status") if lb else None
            if verb == "fail over" and statuses[lb_id] == "ERROR":
                raise ModuleError("load balancer %s of amphora %s is in ERROR: Octavia fails over an amphora only when "
                                  "its load balancer is ACTIVE; fail over the whole load balancer instead "
                                  "(octavia.lbaas.loadbalancer with failover=true)" % (lb_id, amp["id"]))

    # -- one failover ------------------------------------------------------------------------
    def failover_one(self, amp):
        lb_id = amp["loadbalancer_id"]
        what = "fail over amphora %s (%s of load balancer %s)" % (amp["id"], amp.get("role"), lb_id)
        if self.check_mode:
            self.write(what, None)
            self.steps.append(step("failover", amp, new_amphora_id=None))
            return None
        self.api.wait_ready(lb_id, "load balancer %s to be ACTIVE before the failover of amphora %s" % (lb_id, amp["id"]))
        before_ids = {a["id"] for a in self.lb_amphorae(lb_id)}
        self.write(what, self.api.request, "PUT", "%s/%s/failover" % (AMPHORAE, amp["id"]),
                   what="fail over amphora %s" % amp["id"], lb_id=lb_id)
        self.api.wait_ready(lb_id, "the failover of amphora %s" % amp["id"])
        left = self.get_amphora(amp["id"])
        if left is not None:
            raise ModuleError("The failover of amphora %s ended (load balancer %s is ACTIVE again) but the amphora is "
                              "still there (status %s); the controller worker's log has the cause"
                              % (amp["id"], lb_id, left.get("status")))
        new = replacement_of(amp, before_ids, self.lb_amphorae(lb_id))
        self.steps.append(step("failover", amp, new_amphora_id=new["id"] if new else None))
        return new

    # -- the flow --------------------------------------------------------------------------
    def run(self):
        if self.params["state"] == "absent":
            self.delete()
        elif self.params["action"] == "failover":
            self.failover()
        elif self.params["action"] == "configure":
            self.configure()
        else:
            self.image_roll()

    def failover(self):
        amps = self.targets()
        self.check_failover_possible(amps)
        self.before = {"amphorae": [summary(a) for a in amps]}
        after = [self.failover_one(amp) for amp in amps]
        self.after = {"amphorae": [predicted(amp, new) for amp, new in zip(amps, after)]}
        self.finish(steps=self.steps)

    def configure(self):
        amps = self.targets()
        self.check_failover_possible(amps, verb="configure")
        for amp in amps:
            self.write("push the agent configuration to amphora %s" % amp["id"], self.api.request,
                       "PUT", "%s/%s/config" % (AMPHORAE, amp["id"]), what="configure amphora %s" % amp["id"])
            self.steps.append(step("configure", amp))
        self.finish(steps=self.steps)

    def delete(self):
        amp_id = self.params["id"]
        amp = self.get_amphora(amp_id)
        if amp is None:
            self.finish(steps=[])
            return
        if amp.get("status") != "ERROR":
            raise ModuleError("id: amphora %s is %s, not ERROR: Octavia deletes only amphorae in ERROR (use "
                              "action=failover to replace a working one)" % (amp_id, amp.get("status")))
        self.before, self.after = {"amphora": summary(amp)}, {}
        self.write("delete amphora %s (ERROR)" % amp_id, self.api.request, "DELETE", "%s/%s" % (AMPHORAE, amp_id),
                   what="delete amphora %s" % amp_id)
        self.steps.append(step("delete", amp))
        if not self.check_mode:
            self.wait_for("the deletion of amphora %s" % amp_id, lambda: self.get_amphora(amp_id),
                          lambda a: a is None,
                          lambda a: "Octavia could not delete it (it is in ERROR again); the controller worker's log "
                                    "has the cause" if a and a.get("status") == "ERROR" else None)
        self.finish(steps=self.steps)

    # -- the image roll ----------------------------------------------------------------------
    def tagged_image(self, tag, owner_id):
        """The image Octavia's Glance driver would pick: the newest active image with the
        tag (and owner), asked like Octavia asks (sorted by Glance, two at most)."""
        params = {"tag": tag, "status": "active", "sort": "created_at:desc", "limit": 2}
        if owner_id:
            params["owner"] = owner_id
        body = self.api.request("GET", "/images", params=params, service="image",
                                what="list the Glance images tagged %s" % tag)
        return pick_tagged_image(body.get("images") or [], tag, owner_id)

    def roll_target(self, tag, owner_id):
        """-> (target image ID or NEW_IMAGE, image dict or None)."""
        p = self.params
        given = p["image_id"]
        tagged, others = self.tagged_image(tag, owner_id)
        owner_text = " owned by %s" % owner_id if owner_id else ""
        if others and tagged:
            self.ansible.warn("Glance has more than one active image tagged %r%s; Octavia boots the newest, %s"
                              % (tag, owner_text, tagged["id"]))
        image = {k: tagged.get(k) for k in IMAGE_FIELDS} if tagged else None
        if given is None or (tagged and tagged["id"] == given):
            if tagged is None:
                raise ModuleError("image_tag: no active image in Glance is tagged %r%s, so Octavia could not boot a "
                                  "replacement amphora; upload and tag one first (octavia.lbaas.amphora_resources "
                                  "role or amphora_image module). No amphora was failed over." % (tag, owner_text))
            return tagged["id"], image
        if given == "":  # check mode only (validated)
            self.ansible.warn("check mode: the new image is not in Glance yet, so every amphora with a recorded image "
                              "is listed as one to fail over")
            return NEW_IMAGE, None
        now = tagged["id"] if tagged else "no image"
        if self.check_mode:
            self.ansible.warn("check mode: image_id %s is not the image tagged %r%s (that is %s); assuming the tag "
                              "moves to it, as the playbook's upload would do" % (given, tag, owner_text, now))
            return given, {"id": given}
        raise ModuleError("image_id: %s is not the image Glance has tagged %r%s (that is %s): Octavia would boot "
                          "that one. Move the tag first (amphora_image module). No amphora was failed over."
                          % (given, tag, owner_text, now))

    def image_roll(self):
        p = self.params
        tag = p["image_tag"] or DEFAULT_TAG
        lb = self.find_lb(p["loadbalancer"]) if p["loadbalancer"] else None
        owner_id = find_project_id(self.conn, p["image_owner"], p["image_owner_domain"], "image_owner") \
            if p["image_owner"] else None
        target, image = self.roll_target(tag, owner_id)
        if lb:
            amps = self.lb_amphorae(lb["id"])
            lb_status = {lb["id"]: lb.get("provisioning_status")}
        else:
            amps, lbs = self.api.parallel(lambda: self.api.list(AMPHORAE, "amphorae"),
                                          lambda: self.api.list("/lbaas/loadbalancers", "loadbalancers"))
            lb_status = {item["id"]: item.get("provisioning_status") for item in lbs}
        plan = classify(amps, target, lb_status)
        current = [a["id"] for a in plan["current"]]
        skipped = [{"amphora_id": a["id"], "reason": reason} for a, reason in plan["skipped"]]
        if plan["unknown"]:
            self.ansible.warn("Octavia recorded no image for %d amphora(e) (%s); they are not failed over"
                              % (len(plan["unknown"]), ", ".join(a["id"] for a in plan["unknown"])))
        for item in skipped:
            self.ansible.warn("amphora %s skipped: %s" % (item["amphora_id"], item["reason"]))
        self.before = {"amphorae": [summary(a) for a in plan["stale"]]}
        after = []
        for amp in plan["stale"]:
            if not self.check_mode:
                # the plan is a few failovers old: look again (health-manager may have
                # replaced it meanwhile, or its load balancer may have gone to ERROR)
                fresh = self.get_amphora(amp["id"])
                if fresh is None:
                    skipped.append({"amphora_id": amp["id"], "reason": "gone before its turn (replaced meanwhile)"})
                    continue
                if fresh.get("image_id") == target:
                    current.append(fresh["id"])
                    continue
                lb_now = self.api.get_loadbalancer(fresh["loadbalancer_id"]) or {}
                if lb_now.get("provisioning_status") == "ERROR":
                    raise ModuleError("Stopped the image roll: load balancer %s of amphora %s went to ERROR before its "
                                      "turn. Repair it, then run the roll again." % (fresh["loadbalancer_id"], amp["id"]))
                amp = fresh
            after.append(predicted(amp, self.failover_one(amp),
                                   target if target is not NEW_IMAGE else "(the new image)"))
        self.after = {"amphorae": after}
        self.finish(steps=self.steps, image=image, up_to_date=current,
                    unknown_image=[a["id"] for a in plan["unknown"]], skipped=skipped)


def predicted(old, new, image_id=None):
    """The diff's view of an amphora after its failover: the replacement Octavia
    reports, or (check mode) what is known of it before it exists."""
    if new is not None:
        return dict(summary(new), replaces=old["id"])
    return {"id": None, "loadbalancer_id": old.get("loadbalancer_id"), "role": old.get("role"),
            "image_id": image_id, "replaces": old["id"]}


def main():
    AmphoraModule()()


if __name__ == "__main__":
    main()
