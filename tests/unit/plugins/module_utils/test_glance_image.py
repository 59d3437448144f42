"""plugins/module_utils/glance_image.py: the image data of amphora_image (digests in one
pass, a local file's digests)."""

from __future__ import annotations

import hashlib

from ansible_collections.octavia.lbaas.plugins.module_utils.glance_image import Digests, RawImage, hash_file


def test_digests_of_chunks_match_hashlib():
    digests = Digests()
    for chunk in (b"abc", b"", b"def" * 1000):
        digests.update(chunk)
    data = b"abc" + b"def" * 1000
    assert digests.size == len(data)
    assert digests.hex() == {name: hashlib.new(name, data).hexdigest()
                             for name in ("md5", "sha256", "sha512")}


def test_hash_file(tmp_path):
    path = tmp_path / "image.qcow2"
    path.write_bytes(b"x" * 3000000)     # more than one chunk
    digests = hash_file(str(path))
    assert digests.size == 3000000 and digests.hex()["sha256"] == hashlib.sha256(b"x" * 3000000).hexdigest()


def test_raw_image_reads_properties_flat():
    image = RawImage({"id": "i", "os_hash_algo": "sha512", "hw_rng_model": "virtio"})
    assert (image.id, image.hash_algo, image.hw_rng_model, image.owner) == ("i", "sha512", "virtio", None)
