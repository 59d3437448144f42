# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The image data of the amphora_image module: reading a local file or downloading a URL
with every digest computed on the way (md5, sha256, sha512, one pass), and Glance's images as
its API returns them (RawImage: core attributes and properties, flat). The module itself
decides what to upload, tag and retire."""

from __future__ import annotations

import hashlib
import os
import tempfile

from ansible.module_utils.urls import fetch_url

from ansible_collections.octavia.lbaas.plugins.module_utils.cloud import ModuleError

CHUNK = 1024 * 1024


class Digests:
    def __init__(self):
        self.hashes = dict(md5=hashlib.md5(), sha256=hashlib.sha256(), sha512=hashlib.sha512())
        self.size = 0

    def update(self, chunk):
        self.size += len(chunk)
        for digest in self.hashes.values():
            digest.update(chunk)

    def hex(self):
        return {name: digest.hexdigest() for name, digest in self.hashes.items()}


class RawImage:
    """An image as Glance returns it: core attributes and every property, flat (the SDK
    maps some properties, such as hw_rng_model, to attributes of its own)."""

    ALIASES = dict(hash_algo="os_hash_algo", hash_value="os_hash_value",
                   is_protected="protected")

    def __init__(self, body):
        self.raw = body

    def __getattr__(self, name):
        if name == "raw":
            raise AttributeError(name)
        return self.raw.get(self.ALIASES.get(name, name))


def summary(image):
    return dict(id=image.id, name=image.name)


def props(image):
    return image.raw


def hash_file(path):
    """The Digests of a local file."""
    digests = Digests()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digests.update(chunk)
    return digests


class _DownloadParams:
    """What fetch_url reads from `module.params`, kept apart from the API options."""

    def __init__(self, module, validate_certs):
        self._module = module
        self.params = dict(validate_certs=validate_certs, use_proxy=True, url_username=None,
                           url_password=None, http_agent="octavia.lbaas", force_basic_auth=False,
                           follow_redirects="safe", client_cert=None, client_key=None,
                           use_gssapi=False)

    def __getattr__(self, name):
        return getattr(self._module, name)


def download(module, url, validate_certs, timeout):
    """Download `url` into a file of the module's temporary directory: (path, Digests)."""
    response, info = fetch_url(_DownloadParams(module, validate_certs), url, timeout=timeout)
    if response is None or info.get("status") != 200:
        raise ModuleError("url: download of %s failed: %s" % (url, info.get("msg")),
                          status=info.get("status"))
    fd, path = tempfile.mkstemp(prefix="amphora-image-", suffix=".download", dir=module.tmpdir)
    digests = Digests()
    try:
        with os.fdopen(fd, "wb") as handle:
            for chunk in iter(lambda: response.read(CHUNK), b""):
                digests.update(chunk)
                handle.write(chunk)
    except OSError as exc:
        raise ModuleError("url: download of %s failed: %s" % (url, exc)) from exc
    return path, digests
