"""A config drive laid out as Nova's (nova.virt.configdrive / InstanceMetadata) carries
a server's metadata: an ISO 9660 volume labelled config-2 with openstack/<version>/
meta_data.json, user_data, network_data.json and vendor_data*.json, and the personality
files under openstack/content/, referenced from meta_data.json's "files"."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import uuid

# The dated versions cloud-init knows; Nova writes each of them and "latest".
VERSIONS = ["2012-08-10", "2013-04-04", "2013-10-17", "2015-10-15", "2016-06-30",
            "2016-10-06", "2017-02-22", "2018-08-27", "latest"]


def make_config_drive(iso: pathlib.Path, *, server_id: str, name: str, files: dict,
                      user_data: str | None, mac: str, workdir: pathlib.Path) -> pathlib.Path:
    """Write the config drive ISO of a server with these personality files and user_data,
    on one port with MAC `mac` on a network with DHCP (Nova's ipv4_dhcp network type)."""
    root = workdir / "config-drive"
    if root.exists():
        shutil.rmtree(root)
    content = root / "openstack" / "content"
    content.mkdir(parents=True)
    entries = []
    for index, (path, body) in enumerate(files.items()):
        name_on_drive = f"{index:04x}"
        (content / name_on_drive).write_text(body)
        entries.append({"path": path, "content_path": f"/content/{name_on_drive}"})
    meta = {
        "uuid": server_id,
        "name": name,
        "hostname": name,
        "launch_index": 0,
        "availability_zone": "nova",
        "project_id": uuid.uuid4().hex,
        "meta": {},
        "files": entries,
        "random_seed": os.urandom(64).hex(),
        "devices": [],
    }
    port_id = str(uuid.uuid4())
    network = {
        "links": [{"id": f"tap{port_id[:11]}", "vif_id": port_id, "type": "ovs",
                   "mtu": 1500, "ethernet_mac_address": mac}],
        "networks": [{"id": "network0", "type": "ipv4_dhcp", "link": f"tap{port_id[:11]}",
                      "network_id": str(uuid.uuid4())}],
        "services": [],
    }
    for version in VERSIONS:
        directory = root / "openstack" / version
        directory.mkdir()
        (directory / "meta_data.json").write_text(json.dumps(meta))
        (directory / "network_data.json").write_text(json.dumps(network))
        (directory / "vendor_data.json").write_text("{}")
        (directory / "vendor_data2.json").write_text("{}")
        if user_data is not None:
            (directory / "user_data").write_text(user_data)
    subprocess.run(["genisoimage", "-o", str(iso), "-ldots", "-allow-lowercase", "-allow-multidot",
                    "-l", "-quiet", "-J", "-r", "-V", "config-2", str(root)], check=True)
    return iso
