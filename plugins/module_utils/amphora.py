# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Octavia's amphorae (admin API ``/v2/octavia/amphorae``): input checks, the order of
failovers, the choice of the image Octavia boots, and which amphorae an image roll
replaces.

Everything here is pure (no network): the modules ``amphora`` and ``amphora_info`` do
the API calls through the engine's ``OctaviaApi`` (``module_utils/lbaas_api.py``), and
``tests/unit/plugins/modules/test_amphora.py`` tests these functions without a cloud."""

from __future__ import annotations

from ansible_collections.octavia.lbaas.plugins.module_utils.values import is_uuid

# Paths relative to openstacksdk's load-balancer endpoint (the service root + v2.0).
AMPHORAE = "/octavia/amphorae"

ACTIONS = ("failover", "configure", "image_roll")
# Octavia's amphora roles (octavia-lib constants). The standby (BACKUP) of an
# ACTIVE_STANDBY pair goes first, the MASTER last: traffic keeps flowing through the
# master while its peer is rebuilt, and moves only once, to a fresh standby.
ROLE_RANK = {"BACKUP": 0, "STANDALONE": 1, "MASTER": 2}

# A placeholder target for the image roll in check mode, when the playbook has not
# uploaded the new image yet: no amphora can be running it.
NEW_IMAGE = object()


def role_rank(amphora):
    return ROLE_RANK.get(amphora.get("role") or "", 1)


def failover_order(amphorae):
    """Load balancer by load balancer; inside one, standby before standalone before
    master; then oldest first. Stable for equal keys."""
    return sorted(amphorae, key=lambda a: (a.get("loadbalancer_id") or "", role_rank(a),
                                           a.get("created_at") or "", a.get("id") or ""))


def summary(amphora):
    """The fields of an amphora that the modules report in their steps and diff."""
    return {key: amphora.get(key) for key in ("id", "loadbalancer_id", "role", "status", "image_id")}


def check_params(params, check_mode=False):
    """Every problem of the `amphora` module's input (strings naming the option), empty
    when the input is usable. Pure: runs before any API call."""
    errors = []
    p = params
    action, state = p.get("action"), p.get("state") or "present"
    amp_id, lb_ref = p.get("id"), p.get("loadbalancer")
    roll_only = ("image_tag", "image_owner", "image_id")
    if amp_id is not None and not is_uuid(amp_id):
        errors.append("id: %r is not an amphora ID (a UUID)" % (amp_id,))
    if lb_ref is not None and not str(lb_ref).strip():
        errors.append("loadbalancer: must not be empty")
    if (p.get("timeout") or 0) < 1:
        errors.append("timeout: must be at least 1 second, got %s" % p.get("timeout"))
    if state == "absent":
        if action:
            errors.append("action: not used with state=absent (state=absent deletes the amphora in ERROR given by id)")
        if amp_id is None:
            errors.append("id: required with state=absent (the amphora in ERROR to delete)")
        if lb_ref is not None:
            errors.append("loadbalancer: not used with state=absent; give the amphora's id")
        given = [name for name in roll_only if p.get(name) is not None]
        if given:
            errors.append("%s: only used with action=image_roll" % ", ".join(given))
        return errors
    if not action:
        errors.append("action: required with state=present (one of %s)" % ", ".join(ACTIONS))
        return errors
    if action in ("failover", "configure"):
        if amp_id is None and lb_ref is None:
            errors.append("id, loadbalancer: action=%s needs one of them (one amphora, or every amphora of a "
                          "load balancer)" % action)
        elif amp_id is not None and lb_ref is not None:
            errors.append("id, loadbalancer: give one of them, not both (action=%s)" % action)
        given = [name for name in roll_only if p.get(name) is not None]
        if given:
            errors.append("%s: only used with action=image_roll" % ", ".join(given))
    elif action == "image_roll":
        if amp_id is not None:
            errors.append("id: not used with action=image_roll; limit the roll with loadbalancer, or leave it out "
                          "to roll every amphora")
        tag = p.get("image_tag")
        if tag is not None and not str(tag).strip():
            errors.append("image_tag: must not be empty (the tag Octavia's amp_image_tag selects images by)")
        owner = p.get("image_owner")
        if owner is not None and not str(owner).strip():
            errors.append("image_owner: must not be empty when given (leave it out for any owner)")
        image_id = p.get("image_id")
        if image_id is not None:
            if image_id == "" and not check_mode:
                errors.append("image_id: empty, so the image is not in Glance yet (only a check-mode run of a playbook "
                              "that uploads it first may pass an empty image_id)")
            elif image_id and not is_uuid(image_id):
                errors.append("image_id: %r is not an image ID (a UUID)" % (image_id,))
    return errors


def pick_tagged_image(images, tag, owner_id=None):
    """The image Octavia boots new amphorae from, as its Glance image driver chooses it:
    the newest active image carrying `tag` (and owned by `owner_id` when given).
    Returns (image or None, the other matching images, newest first)."""
    matching = [i for i in images
                if i.get("status") == "active" and tag in (i.get("tags") or [])
                and (not owner_id or i.get("owner") == owner_id)]
    matching.sort(key=lambda i: (i.get("created_at") or "", i.get("id") or ""), reverse=True)
    if not matching:
        return None, []
    return matching[0], matching[1:]


def classify(amphorae, target_image_id, lb_status=None):
    """Sort the amphorae of an image roll into:

    stale    their recorded image differs from `target_image_id` (NEW_IMAGE: every
             amphora with a recorded image), in failover order: they are failed over;
    current  already on the target image;
    unknown  Octavia recorded no image for them (it keeps what the compute driver
             reported when it booted them): not failed over, reported;
    skipped  (amphora, reason): not part of a load balancer (a spare), or their load
             balancer is in ERROR (Octavia refuses to fail over its amphorae).

    `lb_status` maps load balancer ID -> provisioning status (missing: unknown, kept)."""
    lb_status = lb_status or {}
    out = {"stale": [], "current": [], "unknown": [], "skipped": []}
    for amp in amphorae:
        if amp.get("status") == "DELETED":
            continue
        lb_id = amp.get("loadbalancer_id")
        image_id = amp.get("image_id")
        if not lb_id:
            out["skipped"].append((amp, "belongs to no load balancer (a spare amphora)"))
        elif not image_id:
            out["unknown"].append(amp)
        elif target_image_id is not NEW_IMAGE and image_id == target_image_id:
            out["current"].append(amp)
        elif lb_status.get(lb_id) == "ERROR":
            out["skipped"].append((amp, "its load balancer %s is in ERROR (Octavia fails over an amphora only when "
                                        "its load balancer is ACTIVE)" % lb_id))
        else:
            out["stale"].append(amp)
    out["stale"] = failover_order(out["stale"])
    return out


def replacement_of(old, before_ids, after):
    """The amphora that replaced `old` in a failover: in `after` (the load balancer's
    amphorae once it is ACTIVE again) and not in `before_ids`; the one with old's role
    when there are several. None when there is none."""
    new = [a for a in after if a.get("id") not in before_ids and a.get("status") != "DELETED"]
    same_role = [a for a in new if a.get("role") == old.get("role")]
    chosen = same_role or new
    return chosen[0] if chosen else None


def step(action, amphora, **extra):
    """One entry of the module's `steps`."""
    out = {"action": action, "amphora_id": amphora.get("id"), "loadbalancer_id": amphora.get("loadbalancer_id"),
           "role": amphora.get("role"), "image_id": amphora.get("image_id")}
    out.update(extra)
    return out
