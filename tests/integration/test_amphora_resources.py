"""octavia.lbaas.amphora_resources and its modules (amphora_flavor, amphora_image, keypair)
against the real test cloud: converge, idempotence, check mode, --diff, image rotation,
download from an URL, bad input. Every test uses names of its own and deletes what it
created (also when it fails), then checks that it is gone."""

from __future__ import annotations

import hashlib
import http.server
import threading

import openstack
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from placeholder_qcow2 import tiny_qcow2
from playbook import ROOT, run_playbook

PLAYBOOKS = ROOT / "tests" / "integration" / "playbooks"
ROLE = PLAYBOOKS / "amphora_resources.yml"
SERIES = "octavia_lbaas_tag"


# -- helpers -------------------------------------------------------------------------------
def image_file(path, variant):
    """A valid tiny qcow2; `variant` (bytes) appended after the last cluster makes the
    content (and so the hashes) differ while qemu-img still reads the image."""
    data = tiny_qcow2(salt=variant)
    path.write_bytes(data)
    return path, data


def digest(data, algo="sha256"):
    return hashlib.new(algo, data).hexdigest()


def series(cloud, owner_id, tag):
    """The module's images of this owner and tag (what the role manages)."""
    return sorted((i for i in cloud.image.images(owner=owner_id)
                   if (i.properties or {}).get(SERIES) == tag),
                  key=lambda i: i.created_at)


def find_flavor(cloud, name):
    return next((f for f in cloud.compute.flavors(is_public=None) if f.name == name), None)


def task_result(run, name, host="localhost"):
    for play in run.plays:
        for task in play["tasks"]:
            if task["task"]["name"].split(" : ", 1)[-1] == name:
                return task["hosts"][host]
    raise AssertionError(f"task {name!r} not in the run: {run.changed_tasks()}")


def facts(run):
    return task_result(run, "Set the amphora_resources facts")["ansible_facts"]


def role_vars(cloud_name, name, tmp_path, **extra):
    base = {
        "amphora_resources_cloud": cloud_name,
        "amphora_resources_flavor_name": name,
        "amphora_resources_image_name": name,
        "amphora_resources_image_tag": name,
        "amphora_resources_secrets_dir": str(tmp_path / "secrets"),
    }
    base.update(extra)
    return base


def assert_ok(run):
    assert run.rc == 0, run.failed_messages() or run.stderr[-3000:]


class Leftovers:
    """Everything a test may have created, deleted at the end whatever happened."""

    def __init__(self, cloud, service_id):
        self.cloud = cloud
        self.service_id = service_id
        self.flavors, self.tags, self.keypairs, self.users = set(), set(), set(), set()

    def cleanup(self):
        errors = []
        for name, user_id in self.keypairs:
            try:
                self.cloud.compute.delete_keypair(name, ignore_missing=True, user_id=user_id)
            except openstack.exceptions.SDKException as exc:
                errors.append(f"keypair {name}: {exc}")
        for tag in self.tags:
            for image in series(self.cloud, self.service_id, tag):
                try:
                    self.cloud.image.delete_image(image.id, ignore_missing=True)
                except openstack.exceptions.SDKException as exc:
                    errors.append(f"image {image.id}: {exc}")
        for name in self.flavors:
            flavor = find_flavor(self.cloud, name)
            if flavor:
                try:
                    self.cloud.compute.delete_flavor(flavor.id, ignore_missing=True)
                except openstack.exceptions.SDKException as exc:
                    errors.append(f"flavor {name}: {exc}")
        for user_id in self.users:
            try:
                self.cloud.identity.delete_user(user_id, ignore_missing=True)
            except openstack.exceptions.SDKException as exc:
                errors.append(f"user {user_id}: {exc}")
        return errors

    def remaining(self):
        left = [f"flavor {n}" for n in self.flavors if find_flavor(self.cloud, n)]
        left += [f"image {i.id}" for t in self.tags for i in series(self.cloud, self.service_id, t)]
        for name, user_id in self.keypairs:
            try:
                self.cloud.compute.get_keypair(name, user_id=user_id)
                left.append(f"keypair {name}")
            except openstack.exceptions.NotFoundException:
                pass
        return left


@pytest.fixture
def service_id(cloud):
    return cloud.identity.find_project("service", ignore_missing=False).id


@pytest.fixture
def leftovers(cloud, service_id):
    track = Leftovers(cloud, service_id)
    yield track
    errors = track.cleanup()
    assert not errors, errors
    assert not track.remaining(), track.remaining()


@pytest.fixture
def cloud_name(testbed_facts):
    return testbed_facts["testbed_cloud_name"]


@pytest.fixture
def http_dir(tmp_path):
    """Serve a directory on 127.0.0.1 (a free port) for the URL case; counts GETs."""
    root = tmp_path / "www"
    root.mkdir()
    hits = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def do_GET(self):  # noqa: N802 - http.server's name
            hits.append(self.path)
            super().do_GET()

        def log_message(self, *args):  # keep pytest output clean
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.timeout = 5
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


# -- the role ------------------------------------------------------------------------------
def test_role_check_converge_idempotent(cloud, cloud_name, service_id, leftovers,
                                        unique_name, tmp_path):
    name = unique_name
    leftovers.flavors.add(name)
    leftovers.tags.add(name)
    leftovers.keypairs.add((name, None))
    path, data = image_file(tmp_path / "amphora.qcow2", b"")
    extra = role_vars(cloud_name, name, tmp_path,
                      amphora_resources_image_file=str(path),
                      amphora_resources_image_checksum="sha256:" + digest(data),
                      amphora_resources_keypair_enabled=True,
                      amphora_resources_keypair_name=name)

    # Check mode on fresh names: reports the changes, creates nothing.
    check = run_playbook(ROLE, extra_vars=extra, check=True)
    assert_ok(check)
    assert check.changed() > 0
    assert find_flavor(cloud, name) is None
    assert series(cloud, service_id, name) == []
    with pytest.raises(openstack.exceptions.NotFoundException):
        cloud.compute.get_keypair(name)
    assert not (tmp_path / "secrets" / "amphora_ssh_key").exists()

    # Converge, with --diff.
    first = run_playbook(ROLE, extra_vars=extra, diff=True)
    assert_ok(first)
    assert first.changed() > 0
    assert sorted(first.changed_tasks()) == sorted(check.changed_tasks())
    image_diff = task_result(first, "Upload, tag and rotate the amphora image")["diff"]
    assert image_diff["before"]["current"] is None
    assert image_diff["after"]["current"]["sha256"] == digest(data)
    flavor_diff = task_result(first, "Create the amphora flavor and share it with the "
                                     "service project")["diff"]
    assert flavor_diff["before"] == {}
    assert flavor_diff["after"]["vcpus"] == 1

    out = facts(first)
    flavor = cloud.compute.get_flavor(out["amphora_resources_flavor_id"], get_extra_specs=True)
    assert flavor.name == name and not flavor.is_public
    assert (flavor.vcpus, flavor.ram, flavor.disk) == (1, 1024, 3)
    assert flavor.extra_specs == {"hw_rng:allowed": "True"}
    assert [a["tenant_id"] for a in cloud.compute.get_flavor_access(flavor)] == [service_id]

    images = series(cloud, service_id, name)
    assert [i.id for i in images] == [out["amphora_resources_image_id"]]
    image = images[0]
    assert image.status == "active"
    assert image.tags == [name]
    assert image.owner == service_id == out["amphora_resources_image_owner_id"]
    assert image.visibility == "private"
    assert image.checksum == digest(data, "md5")
    assert (image.hash_algo, image.hash_value) == ("sha512", digest(data, "sha512"))
    assert image.properties["hw_architecture"] == "x86_64"
    assert image.hw_rng_model == "virtio"
    assert out["amphora_resources_image_tag"] == name

    assert out["amphora_resources_keypair_name"] == name
    keypair = cloud.compute.get_keypair(name)
    key_file = tmp_path / "secrets" / "amphora_ssh_key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    private = serialization.load_ssh_private_key(key_file.read_bytes(), password=None)
    public = private.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                               serialization.PublicFormat.OpenSSH).decode()
    assert keypair.public_key.split()[:2] == public.split()[:2]
    assert "PRIVATE" not in first.stderr + str(first.plays)

    # Second run: nothing changes, nothing is uploaded.
    second = run_playbook(ROLE, extra_vars=extra, diff=True)
    assert_ok(second)
    assert second.changed() == 0, second.changed_tasks()
    assert [i.id for i in series(cloud, service_id, name)] == [image.id]
    assert facts(second)["amphora_resources_flavor_id"] == flavor.id
    assert facts(second)["amphora_resources_image_id"] == image.id


def test_image_module_rotates_the_tag(cloud, cloud_name, service_id, leftovers, unique_name,
                                      tmp_path, http_dir):
    tag = unique_name
    leftovers.tags.add(tag)
    playbook = PLAYBOOKS / "amphora_image.yml"
    base = {"cloud_name": cloud_name, "image_tag": tag, "image_owner": "service",
            "image_keep_previous": 1}
    ids = {}
    for variant in (b"A", b"B"):
        path = image_file(tmp_path / f"{variant.decode()}.qcow2", variant * 4096)[0]
        run = run_playbook(playbook, extra_vars=dict(base, image_file=str(path)))
        assert_ok(run)
        ids[variant] = task_result(run, "Amphora image")["image"]["id"]

    images = {i.id: i for i in series(cloud, service_id, tag)}
    assert set(images) == {ids[b"A"], ids[b"B"]}
    assert images[ids[b"B"]].tags == [tag]
    assert images[ids[b"A"]].tags == []
    assert images[ids[b"A"]].properties.get("octavia_lbaas_retired_at")

    # C comes from an URL (downloaded by the module, verified before the upload).
    www, base_url, hits = http_dir
    data_c = image_file(www / "c.qcow2", b"C" * 4096)[1]
    url_vars = dict(base, image_url=f"{base_url}/c.qcow2",
                    image_checksum="sha512:" + digest(data_c, "sha512"))
    run = run_playbook(playbook, extra_vars=url_vars)
    assert_ok(run)
    assert hits == ["/c.qcow2"]
    result = task_result(run, "Amphora image")
    ids[b"C"] = result["image"]["id"]
    assert result["uploaded"] is True
    assert [i["id"] for i in result["untagged"]] == [ids[b"B"]]
    assert [i["id"] for i in result["deleted"]] == [ids[b"A"]]
    assert [i["id"] for i in result["previous"]] == [ids[b"B"]]

    images = {i.id: i for i in series(cloud, service_id, tag)}
    assert set(images) == {ids[b"B"], ids[b"C"]}, "A is deleted, B kept untagged"
    assert images[ids[b"C"]].tags == [tag]
    assert images[ids[b"B"]].tags == []
    assert images[ids[b"C"]].hash_value == digest(data_c, "sha512")

    # Same URL and checksum again: recognised without a download, nothing changes.
    again = run_playbook(playbook, extra_vars=url_vars)
    assert_ok(again)
    assert again.changed() == 0, again.changed_tasks()
    assert hits == ["/c.qcow2"]


def test_role_rejects_bad_input_before_creating_anything(cloud, cloud_name, service_id,
                                                         leftovers, unique_name, tmp_path):
    name = unique_name
    leftovers.flavors.add(name)
    leftovers.tags.add(name)
    path, data = image_file(tmp_path / "amphora.qcow2", b"")
    cases = [
        (dict(amphora_resources_image_file=str(tmp_path / "missing.qcow2")),
         ["amphora_resources_image_file", "does not exist"]),
        (dict(amphora_resources_image_file=str(path),
              amphora_resources_image_checksum="sha256:" + digest(data + b"x")),
         ["checksum:", digest(data), "nothing was uploaded"]),
        (dict(amphora_resources_image_file=str(path),
              amphora_resources_flavor_extra_specs={"bad key!": "1"}),
         ["amphora_resources_flavor_extra_specs", "bad key!"]),
    ]
    for extra, expected in cases:
        run = run_playbook(ROLE, extra_vars=role_vars(cloud_name, name, tmp_path, **extra))
        assert run.rc != 0
        messages = " ".join(run.failed_messages())
        for text in expected:
            assert text in messages, (text, messages)
        assert find_flavor(cloud, name) is None, f"{expected[0]}: a flavor was created"
        assert series(cloud, service_id, name) == [], f"{expected[0]}: an image was created"


def test_role_uploads_the_built_image_with_its_agent_version(cloud, cloud_name, service_id,
                                                             leftovers, unique_name, tmp_path):
    """With the facts amphora_image_build publishes (its image file, checksum and agent
    release), the role uploads that file, checks it against the manifest's checksum and
    tags the image with the property octavia_agent_version; a wrong checksum uploads nothing."""
    name = unique_name
    leftovers.flavors.add(name)
    leftovers.tags.add(name)
    path, data = image_file(tmp_path / "amphora.qcow2", b"built")
    built = {"amphora_image_build_file": str(path),
             "amphora_image_build_checksum": "sha256:" + digest(data),
             "amphora_image_build_octavia_version": "19.0.0"}

    bad = run_playbook(ROLE, extra_vars=role_vars(
        cloud_name, name, tmp_path, **{**built, "amphora_image_build_checksum": "sha256:" + digest(b"other")}))
    assert bad.rc != 0
    assert "nothing was uploaded" in " ".join(bad.failed_messages())
    assert series(cloud, service_id, name) == []

    run = run_playbook(ROLE, extra_vars=role_vars(cloud_name, name, tmp_path, **built))
    assert_ok(run)
    images = series(cloud, service_id, name)
    assert [i.id for i in images] == [facts(run)["amphora_resources_image_id"]]
    assert images[0].properties["octavia_agent_version"] == "19.0.0"
    assert images[0].properties["hw_architecture"] == "x86_64"

    again = run_playbook(ROLE, extra_vars=role_vars(cloud_name, name, tmp_path, **built))
    assert_ok(again)
    assert again.changed() == 0, again.changed_tasks()

    # an operator's own image (another file) carries no agent release it was not given
    own, own_data = image_file(tmp_path / "own.qcow2", b"own")
    mine = run_playbook(ROLE, extra_vars=role_vars(cloud_name, name, tmp_path, **built,
                                                   amphora_resources_image_file=str(own)))
    assert_ok(mine)
    current = cloud.image.get_image(facts(mine)["amphora_resources_image_id"])
    assert current.checksum == digest(own_data, "md5")
    assert "octavia_agent_version" not in current.properties


# -- the modules on their own ------------------------------------------------------------------
def test_flavor_module_refuses_resize_and_recreates(cloud, cloud_name, service_id, leftovers,
                                                    unique_name):
    name = unique_name
    leftovers.flavors.add(name)
    playbook = PLAYBOOKS / "amphora_flavor.yml"
    base = {"cloud_name": cloud_name, "flavor_name": name, "flavor_projects": ["service"]}

    bad = run_playbook(playbook, extra_vars=dict(base, flavor_extra_specs={"nonamespace": "1"}))
    assert bad.rc != 0
    assert "extra_specs: key 'nonamespace'" in " ".join(bad.failed_messages())
    assert find_flavor(cloud, name) is None

    assert_ok(run_playbook(playbook, extra_vars=base))
    old = find_flavor(cloud, name)

    resize = run_playbook(playbook, extra_vars=dict(base, flavor_vcpus=2))
    assert resize.rc != 0
    message = " ".join(resize.failed_messages())
    assert "vcpus 1 -> 2" in message and "recreate: true" in message
    assert find_flavor(cloud, name).id == old.id

    recreate = run_playbook(playbook, extra_vars=dict(base, flavor_vcpus=2, flavor_recreate=True))
    assert_ok(recreate)
    new = find_flavor(cloud, name)
    assert new.id != old.id and new.vcpus == 2
    assert [a["tenant_id"] for a in cloud.compute.get_flavor_access(new)] == [service_id]

    gone = run_playbook(playbook, extra_vars=dict(base, flavor_state="absent"))
    assert_ok(gone)
    assert gone.changed() == 1
    assert find_flavor(cloud, name) is None


def test_image_module_absent_only_deletes_its_own_images(
        cloud, cloud_name, service_id, leftovers, unique_name, tmp_path):
    tag = unique_name
    leftovers.tags.add(tag)
    path = image_file(tmp_path / "a.qcow2", b"")[0]
    playbook = PLAYBOOKS / "amphora_image.yml"
    base = {"cloud_name": cloud_name, "image_tag": tag, "image_owner": "service"}
    foreign = cloud.image.create_image(
        name=tag, data=tiny_qcow2(), disk_format="qcow2", container_format="bare",
        tags=[tag], owner=service_id, allow_duplicates=True)
    try:
        assert_ok(run_playbook(playbook, extra_vars=dict(base, image_file=str(path))))
        assert len(series(cloud, service_id, tag)) == 1
        gone = run_playbook(playbook, extra_vars=dict(base, image_state="absent"))
        assert_ok(gone)
        assert gone.changed() == 1
        assert series(cloud, service_id, tag) == []
        assert cloud.image.get_image(foreign.id).tags == [tag], "not ours: untouched"
    finally:
        cloud.image.delete_image(foreign.id, ignore_missing=True)


def test_keypair_module_for_another_user(cloud, cloud_name, leftovers, unique_name):
    name = unique_name
    user = cloud.identity.create_user(name=name, domain_id="default", password=name)
    leftovers.users.add(user.id)
    leftovers.keypairs.add((name, user.id))
    playbook = PLAYBOOKS / "keypair.yml"

    def public_key():
        key = ed25519.Ed25519PrivateKey.generate().public_key()
        return key.public_bytes(serialization.Encoding.OpenSSH,
                                serialization.PublicFormat.OpenSSH).decode() + " test"

    first_key, second_key = public_key(), public_key()
    base = {"cloud_name": cloud_name, "keypair_name": name, "keypair_user": name,
            "keypair_public_key": first_key}
    assert run_playbook(playbook, extra_vars=base).changed() == 1
    keypair = cloud.compute.get_keypair(name, user_id=user.id)
    assert keypair.public_key.split()[:2] == first_key.split()[:2]
    with pytest.raises(openstack.exceptions.NotFoundException):
        cloud.compute.get_keypair(name)  # the admin user has none of that name
    assert run_playbook(playbook, extra_vars=base).changed() == 0

    other = run_playbook(playbook, extra_vars=dict(base, keypair_public_key=second_key))
    assert other.rc != 0
    assert "replace: true" in " ".join(other.failed_messages())
    replaced = run_playbook(playbook, extra_vars=dict(base, keypair_public_key=second_key,
                                                      keypair_replace=True))
    assert_ok(replaced)
    assert replaced.changed() == 1
    assert (cloud.compute.get_keypair(name, user_id=user.id).public_key.split()[:2]
            == second_key.split()[:2])

    gone = run_playbook(playbook, extra_vars=dict(base, keypair_state="absent"))
    assert_ok(gone)
    assert gone.changed() == 1
    with pytest.raises(openstack.exceptions.NotFoundException):
        cloud.compute.get_keypair(name, user_id=user.id)


def test_keypair_module_keeps_a_generated_key_in_a_file_only(cloud, cloud_name, leftovers, unique_name, tmp_path):
    """Issue 13 item 2: a generated private key is never in the result (nor in -v output);
    it goes to private_key_file, mode 0600, before Nova gets the public key, and a
    replacement writes the new key before it deletes the old keypair."""
    name = unique_name
    leftovers.keypairs.add((name, None))
    playbook = PLAYBOOKS / "keypair.yml"
    base = {"cloud_name": cloud_name, "keypair_name": name}
    # without a file to keep it in, no key is generated and nothing is created
    refused = run_playbook(playbook, "-v", extra_vars=base)
    assert refused.rc != 0
    assert "private_key_file: needed to generate a key" in " ".join(refused.failed_messages())
    assert task_result(refused, "Keypair").get("changed") is not True
    with pytest.raises(openstack.exceptions.NotFoundException):
        cloud.compute.get_keypair(name)

    key_file = tmp_path / "keys" / "amphora_ssh"
    first = run_playbook(playbook, "-v", extra_vars=dict(base, keypair_private_key_file=str(key_file)))
    assert_ok(first)
    result = task_result(first, "Keypair")
    assert "private_key" not in result and "PRIVATE KEY" not in first.stdout + first.stderr
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in key_file.parent.iterdir()) == ["amphora_ssh"]   # no temporary file left
    private = serialization.load_ssh_private_key(key_file.read_bytes(), password=None)
    public = private.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                               serialization.PublicFormat.OpenSSH).decode()
    assert cloud.compute.get_keypair(name).public_key.split()[:2] == public.split()[:2]
    second = run_playbook(playbook, extra_vars=dict(base, keypair_private_key_file=str(key_file)))
    assert_ok(second)
    assert second.changed() == 0

    # the file is lost: replace generates a new key, on disk before the old keypair goes
    key_file.unlink()
    replaced = run_playbook(playbook, extra_vars=dict(base, keypair_private_key_file=str(key_file),
                                                      keypair_replace=True))
    assert_ok(replaced)
    new_private = serialization.load_ssh_private_key(key_file.read_bytes(), password=None)
    new_public = new_private.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                                       serialization.PublicFormat.OpenSSH).decode()
    assert new_public.split()[1] != public.split()[1]
    assert cloud.compute.get_keypair(name).public_key.split()[:2] == new_public.split()[:2]
