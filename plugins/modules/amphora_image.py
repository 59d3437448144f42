#!/usr/bin/python
# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Amphora image in Glance: verified upload, content-hash idempotence, tag rotation."""

from __future__ import annotations

DOCUMENTATION = r"""
module: amphora_image
short_description: Upload the Octavia amphora image to Glance and rotate its tag
description:
  - Uploads an amphora image from a local file or an URL, tags it with O(tag) (what
    Octavia's C(amp_image_tag) selects) and makes it owned by O(owner) (C(amp_image_owner_id)).
  - "B(Verification): the data is hashed locally and checked against O(checksum) before
    anything is uploaded; a wrong checksum fails the task and creates nothing. After the
    upload Glance's own MD5 and SHA-512 must match the local ones, else the new image is
    deleted again."
  - "B(Idempotence): every image this module uploads carries the properties
    C(octavia_lbaas_tag) (the series: O(tag)) and C(octavia_lbaas_sha256) (the SHA-256 of
    its data). An image of the series with the same content is reused: a re-run changes
    nothing and uploads nothing. With a O(checksum), a known image is recognised without
    reading the data (no download, no hashing of a local file)."
  - "B(Rotation): when a new image is uploaded (or an older one of the series is chosen
    again), the tag moves to it; the image that had it loses the tag and gets the property
    C(octavia_lbaas_retired_at) (UTC time). The O(keep_previous) most recently retired images
    are kept; older ones of the series are deleted. Images without the module's properties
    (or of another owner or tag) are never changed or deleted. Images of the series that
    never became active (a failed earlier upload) are deleted."
  - The data of an URL is downloaded to a temporary file by the module itself (http, https,
    or file), also in check mode when it must be verified.
  - Only the properties in O(properties) are set; other properties of the image are kept.
author: octavia.lbaas maintainers (@octavia-lbaas)
version_added: 0.1.0
extends_documentation_fragment: [octavia.lbaas.cloud]
options:
  name:
    description: Name of the uploaded image; changing it renames the current image.
    type: str
    default: amphora-x64-haproxy
  state:
    description:
      - V(present) makes the image of O(filename) or O(url) the tagged one.
      - V(absent) deletes every image of the series (the module's images of O(owner) and O(tag)).
    type: str
    choices: [present, absent]
    default: present
  filename:
    description: Image file on the host running the module.
    type: path
  url:
    description:
      - URL of the image (V(https://), V(http://) or V(file://)). Requires O(checksum) unless
        it is a V(file://) URL.
    type: str
  checksum:
    description:
      - Expected digest of the data, V(sha256:<hex>) or V(sha512:<hex>), checked before
        anything is uploaded. MD5 is refused (it does not protect against a forged image).
    type: str
  url_timeout:
    description: Timeout in seconds of each network read of the download.
    type: int
    default: 60
  url_validate_certs:
    description: Verify the TLS certificate of an V(https://) O(url).
    type: bool
    default: true
  disk_format:
    description: Disk format of the image.
    type: str
    default: qcow2
    choices: [qcow2, raw, vmdk, vdi, vhd, vhdx, iso, ploop, aki, ari, ami]
  container_format:
    description: Container format of the image.
    type: str
    default: bare
    choices: [bare, ovf, ova, docker, aki, ari, ami, compressed]
  visibility:
    description: Visibility of the image.
    type: str
    default: private
    choices: [private, shared, community, public]
  owner:
    description:
      - Project (ID, or name inside O(owner_domain)) that owns the images; Octavia's
        C(amp_image_owner_id). Default is the authenticated project.
    type: str
  owner_domain:
    description: Domain (name or ID) in which the name O(owner) is looked up.
    type: str
    default: Default
  tag:
    description: Tag of the current image, and the name of the series.
    type: str
    default: amphora
  properties:
    description:
      - Image properties such as C(hw_architecture) or C(hw_rng_model). Values must be
        strings. Core attributes (C(name), C(visibility), C(min_disk), ...) and the
        module's own C(octavia_lbaas_*) properties are refused.
    type: dict
    default: {}
  keep_previous:
    description: How many retired (untagged) images of the series to keep.
    type: int
    default: 1
"""

EXAMPLES = r"""
- name: Upload the amphora image built on the deploy host
  octavia.lbaas.amphora_image:
    cloud: mycloud
    filename: /srv/images/amphora-x64-haproxy.qcow2
    owner: service
    tag: amphora
    properties:
      hw_architecture: x86_64
      hw_rng_model: virtio
  register: image

- name: Or download it (verified before upload)
  octavia.lbaas.amphora_image:
    cloud: mycloud
    url: https://images.example.com/amphora-x64-haproxy-2025.1.qcow2
    checksum: sha256:0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0
    owner: service
    keep_previous: 2
"""

RETURN = r"""
image:
  description:
    - The current (tagged) image. In check mode, when it would be uploaded, the predicted
      image without an ID.
  returned: when O(state=present)
  type: dict
  contains:
    id:
      description: Image ID (null in check mode when it would be uploaded).
      type: str
      sample: 7d2c1f7e-2f4b-4d45-9c0b-6f1a9e8b7c6d
    name:
      description: Name.
      type: str
      sample: amphora-x64-haproxy
    tags:
      description: Tags.
      type: list
      elements: str
      sample: [amphora]
    owner:
      description: ID of the owning project.
      type: str
      sample: 0d8e2c5b3f8a4a7c9b1e2d3f4a5b6c7d
    status:
      description: Glance status.
      type: str
      sample: active
    visibility:
      description: Visibility.
      type: str
      sample: private
    checksum:
      description: MD5 of the data, as Glance computed it.
      type: str
      sample: 9a0364b9e99bb480dd25e1f0284c8555
    os_hash_algo:
      description: Algorithm of RV(image.os_hash_value).
      type: str
      sample: sha512
    os_hash_value:
      description: Digest of the data, as Glance computed it.
      type: str
      sample: 1f40fc92da241694750979ee6cf582f2d5d7d28e18335de05abc54d0560e0f53...
    sha256:
      description: SHA-256 of the data (property C(octavia_lbaas_sha256)).
      type: str
      sample: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
    size:
      description: Size in bytes.
      type: int
      sample: 327680000
    disk_format:
      description: Disk format.
      type: str
      sample: qcow2
    container_format:
      description: Container format.
      type: str
      sample: bare
uploaded:
  description: Whether data was uploaded (or would be, in check mode).
  returned: always
  type: bool
  sample: true
owner_id:
  description: ID of the owning project (O(owner) resolved).
  returned: always
  type: str
  sample: 0d8e2c5b3f8a4a7c9b1e2d3f4a5b6c7d
previous:
  description: Retired images of the series that are kept, most recently retired first.
  returned: always
  type: list
  elements: dict
  sample: [{"id": "5b1c...", "name": "amphora-x64-haproxy"}]
untagged:
  description: Images whose tag this run removed (moved to the current image).
  returned: always
  type: list
  elements: dict
  sample: [{"id": "5b1c...", "name": "amphora-x64-haproxy"}]
deleted:
  description: Images of the series this run deleted.
  returned: always
  type: list
  elements: dict
  sample: [{"id": "3a9d...", "name": "amphora-x64-haproxy"}]
"""

import datetime
import os
import re
import time
import urllib.parse

from ansible_collections.octavia.lbaas.plugins.module_utils.cloud import STATE_OPTION, CloudModule, ModuleError
from ansible_collections.octavia.lbaas.plugins.module_utils.glance_image import RawImage, download, hash_file, props, summary
from ansible_collections.octavia.lbaas.plugins.module_utils.identity_lookup import find_project_id

SERIES = "octavia_lbaas_tag"
SHA256 = "octavia_lbaas_sha256"
RETIRED = "octavia_lbaas_retired_at"
CHECKSUM = re.compile(r"^(sha256|sha512):([0-9a-fA-F]+)$")
DIGEST_LENGTH = dict(md5=32, sha256=64, sha512=128)
CORE = frozenset((
    "id", "name", "status", "visibility", "owner", "tags", "disk_format", "container_format",
    "checksum", "size", "virtual_size", "min_disk", "min_ram", "protected", "os_hidden",
    "os_hash_algo", "os_hash_value", "locations", "direct_url", "created_at", "updated_at",
    "self", "file", "schema", "stores"))
PROPERTY_KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,255}$")


class AmphoraImage(CloudModule):
    argument_spec = dict(
        name=dict(type="str", default="amphora-x64-haproxy"),
        state=dict(STATE_OPTION),
        filename=dict(type="path"),
        url=dict(type="str"),
        checksum=dict(type="str"),
        url_timeout=dict(type="int", default=60),
        url_validate_certs=dict(type="bool", default=True),
        disk_format=dict(type="str", default="qcow2",
                         choices=["qcow2", "raw", "vmdk", "vdi", "vhd", "vhdx", "iso", "ploop",
                                  "aki", "ari", "ami"]),
        container_format=dict(type="str", default="bare",
                              choices=["bare", "ovf", "ova", "docker", "aki", "ari", "ami",
                                       "compressed"]),
        visibility=dict(type="str", default="private",
                        choices=["private", "shared", "community", "public"]),
        owner=dict(type="str"),
        owner_domain=dict(type="str", default="Default"),
        tag=dict(type="str", default="amphora"),
        properties=dict(type="dict", default={}),
        keep_previous=dict(type="int", default=1),
    )
    module_kwargs = dict(mutually_exclusive=[("filename", "url")],
                         required_if=[("state", "present", ("filename", "url"), True)])

    # -- input -----------------------------------------------------------------------
    def validate(self):
        p = self.params
        self.local_path = None     # data on this host (given file, file:// URL or download)
        self.expected = None       # (algorithm, hex) from `checksum`
        if not p["tag"].strip() or len(p["tag"]) > 255:
            raise ModuleError("tag: must be 1 to 255 characters, got %r" % p["tag"])
        if p["keep_previous"] < 0:
            raise ModuleError("keep_previous: must be 0 or more, got %d" % p["keep_previous"])
        if p["state"] == "absent":
            return
        if not p["name"].strip():
            raise ModuleError("name: must not be empty")
        if p["checksum"]:
            match = CHECKSUM.match(p["checksum"].strip())
            if not match or len(match.group(2)) != DIGEST_LENGTH[match.group(1)]:
                raise ModuleError("checksum: expected 'sha256:<64 hex>' or 'sha512:<128 hex>' (MD5 can be "
                                  "forged and is not accepted), got %r" % p["checksum"])
            self.expected = (match.group(1), match.group(2).lower())
        for key, value in p["properties"].items():
            if not PROPERTY_KEY.match(str(key)):
                raise ModuleError("properties: %r is not a valid property name" % (key,))
            if key in CORE:
                raise ModuleError("properties: %r is an image attribute, not a property; the "
                                  "module sets it (or it is not supported)" % key)
            if key.startswith("octavia_lbaas_"):
                raise ModuleError("properties: %r is reserved for the module's own bookkeeping"
                                  % key)
            if not isinstance(value, str):
                raise ModuleError("properties: value of %r must be a string, got %s %r (quote it "
                                  "in YAML)" % (key, type(value).__name__, value))
        if p["filename"]:
            self.local_path = self.readable(p["filename"], "filename")
        else:
            parsed = urllib.parse.urlparse(p["url"])
            if parsed.scheme == "file":
                self.local_path = self.readable(urllib.parse.unquote(parsed.path), "url")
            elif parsed.scheme in ("http", "https"):
                if not parsed.netloc:
                    raise ModuleError("url: %r has no host" % p["url"])
                if not self.expected:
                    raise ModuleError("checksum: required with an %s url (the download is "
                                      "verified against it before upload)" % parsed.scheme)
            else:
                raise ModuleError("url: scheme %r is not supported (https, http or file), got %r"
                                  % (parsed.scheme, p["url"]))

    @staticmethod
    def readable(path, option):
        if not os.path.isfile(path):
            raise ModuleError("%s: %s does not exist or is not a file" % (option, path))
        if not os.access(path, os.R_OK):
            raise ModuleError("%s: %s is not readable" % (option, path))
        return path

    # -- data ------------------------------------------------------------------------
    def download(self):
        self.local_path, digests = download(self.ansible, self.params["url"], self.params["url_validate_certs"],
                                            self.params["url_timeout"])
        return digests

    def verify(self, digests):
        hexes = digests.hex()
        if self.expected and hexes[self.expected[0]] != self.expected[1]:
            raise ModuleError(
                "checksum: the data of %s has %s %s, not %s as given in checksum; nothing "
                "was uploaded" % (self.params["filename"] or self.params["url"],
                                  self.expected[0], hexes[self.expected[0]], self.expected[1]))
        return hexes

    # -- images ------------------------------------------------------------------------
    def series(self, owner_id):
        """The module's images of this owner and tag (never anyone else's)."""
        tag = self.params["tag"]
        return [image for image in self.list_images(owner_id)
                if image.owner == owner_id and props(image).get(SERIES) == tag
                and props(image).get(SHA256)]

    def glance(self, method, path, **kwargs):
        response = getattr(self.conn.image, method)(path, **kwargs)
        if response.status_code >= 400:
            raise ModuleError("Glance refused %s %s: HTTP %s %s" % (
                method.upper(), path, response.status_code, response.text[:500]))
        return response

    # Pages are followed until Glance gives no `next` link (a page shorter than the limit
    # asked for is not the end: Glance caps the limit at its api_limit_max), within a time
    # budget, and a marker that does not move on ends the listing with an error.
    PAGE_LIMIT = 200
    LIST_SECONDS = 300

    def list_images(self, owner_id):
        images, marker, seen = [], None, set()
        deadline = time.monotonic() + self.LIST_SECONDS
        while True:
            params = dict(owner=owner_id, visibility="all", limit=self.PAGE_LIMIT)
            if marker:
                params["marker"] = marker
            body = self.glance("get", "/images", params=params).json()
            batch = body.get("images", [])
            images.extend(RawImage(item) for item in batch)
            if not body.get("next") or not batch:
                return images
            marker = batch[-1]["id"]
            if marker in seen:
                raise ModuleError("Glance's image list does not move on (page after %s again)" % marker)
            seen.add(marker)
            if time.monotonic() > deadline:
                raise ModuleError("Listing the images of %s took more than %d s (%d images so far)"
                                  % (owner_id, self.LIST_SECONDS, len(images)))

    def get_raw(self, image_id):
        return RawImage(self.glance("get", "/images/%s" % image_id).json())

    def same_content(self, image, hexes):
        """Whether `image` holds the data described by `hexes` (a subset of md5/sha256/sha512)."""
        checks = []
        if "sha256" in hexes:
            checks.append(props(image).get(SHA256) == hexes["sha256"])
        if "sha512" in hexes and image.hash_algo == "sha512":
            checks.append(image.hash_value == hexes["sha512"])
        if "md5" in hexes and image.checksum:
            checks.append(image.checksum == hexes["md5"])
        return bool(checks) and all(checks)

    def view(self, image):
        return dict(id=image.id, name=image.name, tags=sorted(image.tags or []), owner=image.owner,
                    status=image.status, visibility=image.visibility, checksum=image.checksum,
                    os_hash_algo=image.hash_algo, os_hash_value=image.hash_value,
                    sha256=props(image).get(SHA256), size=image.size,
                    disk_format=image.disk_format, container_format=image.container_format)

    def patch(self, image_id, ops):
        self.glance("patch", "/images/%s" % image_id, json=ops,
                    headers={"Content-Type": "application/openstack-images-v2.1-json-patch"})

    def state_view(self, current, previous):
        return dict(current=(dict(id=current.id, name=current.name,
                                  sha256=props(current).get(SHA256)) if current else None),
                    previous=[image.id for image in previous])

    # -- the flow ----------------------------------------------------------------------
    def run(self):
        p = self.params
        if p["owner"]:
            owner_id = find_project_id(self.conn, p["owner"], p["owner_domain"], "owner")
        else:
            owner_id = self.conn.current_project_id
        images = self.series(owner_id)
        tag = p["tag"]
        tagged = [image for image in images if tag in (image.tags or [])]
        usable = [image for image in images if image.status in ("active", "deactivated")]
        self.before = self.state_view(
            max(tagged, key=lambda image: image.created_at or "") if tagged else None,
            [image for image in usable if tag not in (image.tags or [])])
        result = dict(owner_id=owner_id, uploaded=False, previous=[], untagged=[], deleted=[])

        if p["state"] == "absent":
            for image in images:
                self.delete(image, result)
            self.after = dict(current=None, previous=[])
            self.exit(**result)
            return

        # Which data? Known content (an image of the series with the given checksum) is
        # recognised without reading the URL or the file (hundreds of MB: a second or more
        # on every run); the data is read, and verified, only when it is to be uploaded.
        hexes, digests = None, None
        if self.expected:
            hexes = {self.expected[0]: self.expected[1]}
        elif self.local_path:
            digests = hash_file(self.local_path)
            hexes = self.verify(digests)
        newest_first = sorted(usable, key=lambda image: image.created_at or "", reverse=True)
        match = next((image for image in newest_first
                      if image.status == "active" and self.same_content(image, hexes)), None)
        if match is None and digests is None:
            digests = hash_file(self.local_path) if self.local_path else self.download()
            hexes = self.verify(digests)
            match = next((image for image in newest_first
                          if image.status == "active" and self.same_content(image, hexes)), None)

        if match is not None:
            current = self.adopt(match)
        else:
            current = self.upload(owner_id, hexes, result)

        # Retire every other tagged image of the series, then prune.
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        retired_at = {image.id: props(image).get(RETIRED) or "" for image in images}
        current_id = current.id if current is not None else None
        for image in tagged:
            if image.id == current_id:
                continue
            self.write("untag image %s" % image.id, self.retire, image, now)
            result["untagged"].append(summary(image))
            retired_at[image.id] = now
        retired = [image for image in usable if current_id is None or image.id != current_id]
        retired.sort(key=lambda image: (retired_at[image.id], image.created_at or ""),
                     reverse=True)
        keep, drop = retired[:p["keep_previous"]], retired[p["keep_previous"]:]
        for image in images:
            if image.status not in ("active", "deactivated"):
                drop.append(image)   # a failed earlier upload of the series
        for image in drop:
            self.delete(image, result)
        result["previous"] = [summary(image) for image in keep]

        if current is not None:
            view = self.view(current)
        else:
            view = dict(id=None, name=p["name"], tags=[tag], owner=owner_id, status="active",
                        visibility=p["visibility"], checksum=hexes.get("md5"),
                        os_hash_algo="sha512", os_hash_value=hexes.get("sha512"),
                        sha256=hexes.get("sha256"), size=digests.size if digests else None,
                        disk_format=p["disk_format"], container_format=p["container_format"])
        self.after = dict(current=dict(id=view["id"], name=view["name"], sha256=view["sha256"]),
                          previous=[image.id for image in keep])
        self.exit(image=view, **result)

    def adopt(self, image):
        """Make the existing image `image` the current one: tag it, update what may change."""
        p = self.params
        ops = []
        if image.name != p["name"]:
            ops.append(dict(op="replace", path="/name", value=p["name"]))
        if image.visibility != p["visibility"]:
            ops.append(dict(op="replace", path="/visibility", value=p["visibility"]))
        have = props(image)
        for key, value in sorted(p["properties"].items()):
            if have.get(key) != value:
                ops.append(dict(op="add", path="/%s" % key, value=value))
        if RETIRED in have:
            ops.append(dict(op="remove", path="/%s" % RETIRED))
        if image.disk_format != p["disk_format"] or image.container_format != p["container_format"]:
            raise ModuleError(
                "disk_format: image %s has this content but disk_format %s/container_format %s "
                "(Glance cannot change them on an active image); delete it or keep its formats"
                % (image.id, image.disk_format, image.container_format))
        if ops:
            self.write("update image %s (%s)" % (image.id, ", ".join(o["path"][1:] for o in ops)),
                       self.patch, image.id, ops)
        retag = p["tag"] not in (image.tags or [])
        if retag:
            self.write("tag image %s" % image.id, self.conn.image.add_tag, image.id, p["tag"])
        if (ops or retag) and not self.check_mode:
            return self.get_raw(image.id)
        if ops or retag:  # check mode: predict
            image.raw.update(name=p["name"], visibility=p["visibility"],
                             tags=sorted(set(image.tags or []) | {p["tag"]}))
        return image

    def upload(self, owner_id, hexes, result):
        p = self.params
        properties = dict(p["properties"])
        properties[SERIES] = p["tag"]
        properties[SHA256] = hexes["sha256"]
        size = os.path.getsize(self.local_path)
        result["uploaded"] = True
        created = self.write("upload image %s (%d bytes)" % (p["name"], size), self._upload,
                             owner_id, properties, hexes, size)
        return created

    def _upload(self, owner_id, properties, hexes, size):
        p = self.params
        with open(self.local_path, "rb") as handle:
            image = self.conn.image.create_image(
                p["name"], data=handle, size=size, md5=hexes["md5"], sha256=hexes["sha256"],
                disk_format=p["disk_format"], container_format=p["container_format"],
                tags=[p["tag"]], allow_duplicates=True, disable_vendor_agent=False,
                validate_checksum=False, visibility=p["visibility"], owner=owner_id,
                **properties)
        image = self.get_raw(image.id)
        problems = []
        if image.status != "active":
            problems.append("status is %s" % image.status)
        if image.checksum and image.checksum != hexes["md5"]:
            problems.append("Glance MD5 %s != %s" % (image.checksum, hexes["md5"]))
        if image.hash_algo == "sha512" and image.hash_value != hexes["sha512"]:
            problems.append("Glance SHA-512 differs from the local one")
        if problems:
            self.conn.image.delete_image(image.id, ignore_missing=True)
            raise ModuleError("Upload of %s went wrong (%s); the new image was deleted"
                              % (self.local_path, "; ".join(problems)), writes=self.writes)
        return image

    def retire(self, image, when):
        self.conn.image.remove_tag(image.id, self.params["tag"])
        self.patch(image.id, [dict(op="add", path="/%s" % RETIRED, value=when)])

    def delete(self, image, result):
        if image.is_protected:
            self.ansible.warn("Image %s (%s) is protected; not deleting it" % (image.id, image.name))
            return
        self.write("delete image %s" % image.id, self.conn.image.delete_image, image.id,
                   ignore_missing=True)
        result["deleted"].append(summary(image))


def main():
    AmphoraImage()()


if __name__ == "__main__":
    main()
