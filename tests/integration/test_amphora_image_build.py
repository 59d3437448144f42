"""Role octavia.lbaas.amphora_image_build: the image is built (or found in the cache), holds
what the amphora-agent needs, and boots for real.

The boot: QEMU with TCG emulation (the machines' KVM cannot boot stock kernels), 1 GiB,
from a copy-on-write overlay of the cached image, with a config drive laid out as Nova's
that carries exactly what Octavia 19's worker sends (made by Octavia's own worker tasks,
tests/integration/worker_config_drive.py, with a PKI made by the pki role). User-mode
networking forwards 127.0.0.1:<port> to the guest's 9443 and its 10.0.2.2 is this host,
where the agent's heartbeats arrive. Checked: the serial console shows the agent starting
with the controllers' octavia; the agent answers over mTLS with the client certificate and
serves the certificate Octavia issued for this amphora; it refuses a client without a
certificate and one with a certificate of another CA; a heartbeat arrives and Octavia's
own code decodes it with the configured key, naming this amphora; cloud-init ran its local
and network stages and not the config and final ones, which the image masks.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import pathlib
import shutil
import socket
import ssl
import subprocess
import time
import uuid

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from config_drive import make_config_drive
from playbook import ROOT, run_playbook

IMAGE_PLAYBOOK = ROOT / "playbooks" / "amphora_image.yml"
PKI_PLAYBOOK = ROOT / "tests" / "integration" / "playbooks" / "pki.yml"
RENDER = ROOT / "tests" / "integration" / "worker_config_drive.py"
CACHE = pathlib.Path(os.environ.get("XDG_CACHE_HOME", pathlib.Path.home() / ".cache")) / "octavia-lbaas"
WHEELHOUSE = CACHE / "wheelhouse"
# The controllers' release: the controller role's default (what site.yml deploys).
OCTAVIA_VERSION = yaml.safe_load((ROOT / "roles/controller/defaults/main.yml").read_text())["controller_octavia_version"]
CONSTRAINTS = ROOT / "roles" / "controller" / "files" / f"constraints-octavia-{OCTAVIA_VERSION}.txt"
BOOT_TIMEOUT = 480      # seconds from QEMU's start until the agent answers (TCG, loaded host)
HEARTBEAT_TIMEOUT = 90


def pip_env():
    """The host's pip settings (find-links, constraints, config files) stay out."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update({"PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    if os.environ.get("PIP_CERT"):
        env["PIP_CERT"] = os.environ["PIP_CERT"]
    return env


def image_vars():
    """The test bed's wheelhouse when it is there (as the aio inventory would set it)."""
    return {"amphora_image_build_pip_find_links": str(WHEELHOUSE)} if WHEELHOUSE.is_dir() else {}


def built_facts(run):
    for result in run.results():
        if "amphora_image_build_file" in result.get("ansible_facts", {}):
            return result["ansible_facts"]
    raise AssertionError(f"no amphora_image_build facts in the run: {run.failed_messages()}")


def sha256_of(path: pathlib.Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def free_port(kind=socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# -- fixtures --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def image():
    """Build the image, or take it from the cache; a second run must find it."""
    start = time.monotonic()
    first = run_playbook(IMAGE_PLAYBOOK, extra_vars=image_vars(), timeout=2400)
    first_s = time.monotonic() - start
    assert first.rc == 0, "\n".join(first.failed_messages()) or first.stderr[-3000:]
    start = time.monotonic()
    second = run_playbook(IMAGE_PLAYBOOK, extra_vars=image_vars(), timeout=600)
    second_s = time.monotonic() - start
    assert second.rc == 0, "\n".join(second.failed_messages())
    print(f"\namphora image: first run {first_s:.1f} s ({first.changed()} changed), "
          f"second run {second_s:.1f} s ({second.changed()} changed)")
    facts = built_facts(second)
    return {"facts": facts, "first": first, "second": second,
            "manifest": json.loads(pathlib.Path(facts["amphora_image_build_manifest"]).read_text())}


@pytest.fixture(scope="module")
def octavia_python():
    """A venv with the controllers' octavia (from the wheelhouse, else the index), to run
    Octavia's own worker code. Kept in the cache, keyed by the constraints."""
    key = hashlib.sha256(CONSTRAINTS.read_bytes()).hexdigest()[:16]
    venv = CACHE / f"octavia-tools-{OCTAVIA_VERSION}-{key}"
    python = venv / "bin" / "python"
    if not (venv / ".complete").exists():
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run(["python3", "-m", "venv", str(venv)], check=True)
        source = ["--no-index", "--find-links", str(WHEELHOUSE)] if WHEELHOUSE.is_dir() else []
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", *source, "-c", str(CONSTRAINTS),
                        f"octavia=={OCTAVIA_VERSION}"], check=True, env=pip_env(), timeout=900)
        (venv / ".complete").touch()
    return python


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    pki_dir = tmp_path_factory.mktemp("pki")
    run = run_playbook(PKI_PLAYBOOK, extra_vars={"pki_dir": str(pki_dir), "pki_ca_key_size": 2048,
                                                 "pki_client_key_size": 2048}, timeout=600)
    assert run.rc == 0, "\n".join(run.failed_messages())
    passphrases = yaml.safe_load((pki_dir / "secrets" / "passphrases.yml").read_text())
    return {"dir": pki_dir, "server_ca_passphrase": passphrases["server_ca_issuing"]}


def test_failed_build_leaves_nothing_behind(tmp_path):
    """A build that fails half-way (here: apt cannot find the kernel package, after the
    disk is partitioned, attached, mounted and debootstrapped) leaves no image under a
    final name, no build directory, no mount and no loop device."""
    out = tmp_path / "images"
    run = run_playbook(IMAGE_PLAYBOOK, extra_vars={
        **image_vars(), "amphora_image_build_dir": str(out),
        "amphora_image_build_kernel_package": "octavia-lbaas-no-such-kernel"}, timeout=1200)
    assert run.rc != 0
    failed = [r for r in run.results() if r.get("failed")]
    assert failed and "apt-get install failed" in failed[0].get("stderr", ""), failed
    assert "octavia-lbaas-no-such-kernel" in failed[0]["stderr"]
    assert sorted(p.name for p in out.iterdir()) == ["debs"], list(out.iterdir())
    mounts = pathlib.Path("/proc/self/mountinfo").read_text()
    assert str(out) not in mounts
    loops = subprocess.run(["losetup", "-a"], capture_output=True, text=True, check=True).stdout
    assert str(out) not in loops, loops


# -- the image on disk -----------------------------------------------------------------------
def test_build_is_cached_and_versioned(image):
    facts, manifest = image["facts"], image["manifest"]
    assert image["second"].changed() == 0, image["second"].changed_tasks()
    path = pathlib.Path(facts["amphora_image_build_file"])
    assert path.is_file() and path.suffix == ".qcow2"
    assert facts["amphora_image_build_octavia_version"] == OCTAVIA_VERSION
    assert manifest["octavia_version"] == OCTAVIA_VERSION
    assert manifest["build_key"][:12] in path.name
    assert manifest["size"] == path.stat().st_size
    assert sha256_of(path) == manifest["sha256"] == facts["amphora_image_build_sha256"]
    assert facts["amphora_image_build_checksum"] == "sha256:" + manifest["sha256"]
    info = json.loads(subprocess.run(["qemu-img", "info", "--output=json", str(path)], check=True,
                                     capture_output=True, text=True).stdout)
    assert info["format"] == "qcow2" and "backing-filename" not in info
    assert info["virtual-size"] == 2 * 1024 ** 3


def test_image_holds_what_the_agent_needs(image, tmp_path):
    """Open the image (a raw copy on a loop device) and look at its files."""
    path = pathlib.Path(image["facts"]["amphora_image_build_file"])
    raw = tmp_path / "disk.raw"
    mnt = tmp_path / "root"
    mnt.mkdir()
    subprocess.run(["qemu-img", "convert", "-O", "raw", str(path), str(raw)], check=True)
    loop = subprocess.run(["losetup", "--show", "-f", "-r", str(raw)], check=True,
                          capture_output=True, text=True).stdout.strip()
    try:
        if not pathlib.Path(loop + "p1").exists():
            subprocess.run(["partx", "-a", loop], check=True)
        for _attempt in range(50):
            if pathlib.Path(loop + "p1").exists():
                break
            time.sleep(0.1)
        subprocess.run(["mount", "-o", "ro,noload", loop + "p1", str(mnt)], check=True)
        try:
            site = next((mnt / "opt/amphora-agent/lib").glob("python3*/site-packages"))
            assert (site / f"octavia-{OCTAVIA_VERSION}.dist-info").is_dir()
            assert [p.name for p in site.glob("octavia-*.dist-info")] == [f"octavia-{OCTAVIA_VERSION}.dist-info"]
            assert list(site.glob("pyroute2-*.dist-info")), "pyroute2 is missing from the agent's venv"
            for tool in ("amphora-agent", "amphora-interface", "haproxy-vrrp-check", "amphora-health-checker"):
                assert os.readlink(mnt / "usr/local/bin" / tool) == f"/opt/amphora-agent/bin/{tool}"
            masq = mnt / "usr/local/bin/lvs-masquerade.sh"
            assert masq.is_file() and masq.stat().st_mode & 0o111
            assert (mnt / "var/lib/octavia/plugged_interfaces").is_file()
            assert "group nogroup" in (mnt / "var/lib/octavia/haproxy-default-user-group.conf").read_text()
            assert (mnt / "etc/octavia/interfaces").is_dir()
            for binary in ("sbin/dhclient", "usr/sbin/haproxy", "usr/sbin/keepalived", "usr/sbin/ipvsadm",
                           "usr/sbin/nft", "usr/sbin/iptables", "usr/sbin/rsyslogd", "usr/bin/cloud-init"):
                assert (mnt / binary).exists(), binary
            wants = mnt / "etc/systemd/system/multi-user.target.wants"
            for unit in ("amphora-agent.service", "rsyslog.service"):
                assert (wants / unit).is_symlink(), unit
            assert not (wants / "haproxy.service").exists()
            # the agent's own namespace unit (no [Install]), pulled in by the agent's unit
            netns = (mnt / "usr/lib/systemd/system/amphora-netns.service").read_text()
            assert "ip netns add amphora-haproxy" in netns
            agent_unit = (mnt / "etc/systemd/system/amphora-agent.service").read_text()
            assert "Wants=amphora-netns.service" in agent_unit
            # ...which yields the CPU to the agent at boot (its amphora-interface is Python)
            dropin = (mnt / "etc/systemd/system/amphora-netns.service.d/50-yield-to-agent.conf").read_text()
            assert "Nice=19" in dropin and "CPUWeight=1" in dropin
            # the agent starts after cloud-init's network stage (write_files, with the
            # deprecated user_data_config_drive)
            assert "cloud-init.service" in next(line for line in agent_unit.splitlines() if line.startswith("After="))
            cloud = yaml.safe_load((mnt / "etc/cloud/cloud.cfg.d/90-amphora.cfg").read_text())
            assert cloud["datasource_list"][:2] == ["ConfigDrive", "NoCloud"]
            # cloud-init: the local and network stages run (config drive files, hostname,
            # network; write_files, disk growth, timezone); the config and final stages
            # (runcmd's restarts of rsyslog and the agent, which start after the network
            # stage anyway) are masked: their Python processes delayed the agent's start
            assert {"write-files", "growpart", "resizefs", "set_hostname", "timezone"} <= set(cloud["cloud_init_modules"])
            system = mnt / "etc/systemd/system"
            for unit in ("cloud-config.service", "cloud-final.service"):
                assert os.readlink(system / unit) == "/dev/null", unit
            for unit in ("cloud-init-local.service", "cloud-init.service"):
                assert (system / "cloud-init.target.wants" / unit).is_symlink(), unit
                assert not (system / unit).exists(), unit
            grub = (mnt / "boot/grub/grub.cfg").read_text()
            assert "console=ttyS0" in grub and "root=UUID=" in grub
            assert (mnt / "vmlinuz").exists() and (mnt / "initrd.img").exists()
            # small: no package lists, no documentation beyond licences, no manuals
            assert not list((mnt / "var/lib/apt/lists").glob("*Packages*"))
            docs = [p for p in (mnt / "usr/share/doc").rglob("*") if p.is_file() and p.name != "copyright"]
            assert docs == [], docs[:10]
            assert not any((mnt / "usr/share/man").iterdir())
            assert (mnt / "etc/machine-id").read_text() == ""
            assert not list((mnt / "etc/ssh").glob("ssh_host_*")) if (mnt / "etc/ssh").exists() else True
        finally:
            subprocess.run(["umount", str(mnt)], check=False)
    finally:
        subprocess.run(["partx", "-d", loop], check=False, capture_output=True)
        subprocess.run(["losetup", "-d", loop], check=False)


# -- the boot ---------------------------------------------------------------------------------
def octavia_conf(path, pki, heartbeat_port, heartbeat_key):
    d = pki["dir"]
    path.write_text(f"""[DEFAULT]
debug = False
[controller_worker]
client_ca = {d}/client_ca/chain.pem
compute_driver = compute_noop_driver
loadbalancer_topology = SINGLE
[certificates]
cert_generator = local_cert_generator
ca_certificate = {d}/server_ca/issuing.crt
ca_private_key = {d}/server_ca/issuing.key
ca_private_key_passphrase = {pki["server_ca_passphrase"]}
server_certs_key_passphrase = {uuid.uuid4().hex}
[health_manager]
controller_ip_port_list = 10.0.2.2:{heartbeat_port}
heartbeat_key = {heartbeat_key}
heartbeat_interval = 3
""")
    path.chmod(0o600)
    return path


def tls_get(port, amphora_id, context, path="/", timeout=10):
    """One HTTPS request to the forwarded agent port; returns (status, body, peer cert)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as raw:
        with context.wrap_socket(raw, server_hostname=amphora_id) as conn:
            peer = conn.getpeercert(binary_form=True)
            if not peer:
                raise ConnectionError("no TLS session")
            conn.sendall(f"GET {path} HTTP/1.1\r\nHost: {amphora_id}\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while chunk := conn.recv(65536):
                data += chunk
    head, _sep, body = data.partition(b"\r\n\r\n")
    if not head:
        raise ConnectionError("no HTTP answer")
    status = int(head.split()[1])
    if b"transfer-encoding: chunked" in head.lower():
        out, rest = b"", body
        while rest:
            size, _sep, rest = rest.partition(b"\r\n")
            n = int(size, 16)
            if n == 0:
                break
            out, rest = out + rest[:n], rest[n + 2:]
        body = out
    return status, body, peer


def other_ca_client(tmp_path):
    """A client certificate from a CA the amphora does not trust."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "not-octavia")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    pem = tmp_path / "other-client.pem"
    pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM) + key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    pem.chmod(0o600)
    return pem


def refused(port, amphora_id, context):
    """True when the agent does not answer this client with HTTP."""
    try:
        tls_get(port, amphora_id, context, timeout=15)
    except (ssl.SSLError, ValueError, OSError):
        return True
    return False


@pytest.mark.skipif(os.environ.get("OCTAVIA_LBAAS_STANDALONE_BOOT") != "1",
                    reason="4-5 min of TCG boot that test_real_amphorae.py repeats through Nova (the same "
                           "image, Octavia's own config drive, the agent over mTLS); run it for image work "
                           "without a cloud: OCTAVIA_LBAAS_STANDALONE_BOOT=1 (and _VCPUS=2 to compare vCPU counts)")
def test_image_boots_and_agent_answers_over_mtls(image, pki, octavia_python, tmp_path):
    cached = pathlib.Path(image["facts"]["amphora_image_build_file"])
    cached_sha = image["manifest"]["sha256"]
    amphora_id = str(uuid.uuid4())
    heartbeat_key = uuid.uuid4().hex
    agent_port = free_port()

    # the heartbeat receiver: the guest's 10.0.2.2 is this host's 127.0.0.1
    heartbeats = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    heartbeats.bind(("127.0.0.1", 0))
    heartbeat_port = heartbeats.getsockname()[1]

    conf = octavia_conf(tmp_path / "octavia.conf", pki, heartbeat_port, heartbeat_key)
    render = subprocess.run([str(octavia_python), str(RENDER), str(conf), amphora_id],
                            capture_output=True, text=True, timeout=300, check=False)
    assert render.returncode == 0, render.stderr[-3000:]
    payload = json.loads(render.stdout)
    assert sorted(payload["files"]) == ["/etc/octavia/amphora-agent.conf", "/etc/octavia/certs/client_ca.pem",
                                        "/etc/octavia/certs/server.pem", "/etc/rsyslog.d/10-rsyslog.conf"]
    assert f"amphora_id = {amphora_id}" in payload["files"]["/etc/octavia/amphora-agent.conf"]
    assert payload["user_data"].startswith("#cloud-config")

    mac = "fa:16:3e:%02x:%02x:%02x" % tuple(os.urandom(3))
    iso = make_config_drive(tmp_path / "config-drive.iso", server_id=str(uuid.uuid4()),
                            name=f"amphora-{amphora_id}", files=payload["files"],
                            user_data=payload["user_data"], mac=mac, workdir=tmp_path)
    overlay = tmp_path / "overlay.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", str(cached), str(overlay)],
                   check=True)
    serial = tmp_path / "serial.log"
    cmd = ["qemu-system-x86_64", "-accel", "tcg", "-machine", "pc", "-m", "1024", "-smp", os.environ.get("OCTAVIA_LBAAS_STANDALONE_BOOT_VCPUS", "1"),
           "-nodefaults", "-no-user-config", "-display", "none", "-vga", "none", "-no-reboot",
           "-serial", f"file:{serial}",
           "-drive", f"file={overlay},if=virtio,format=qcow2",
           "-drive", f"file={iso},media=cdrom,if=ide,readonly=on",
           "-netdev", f"user,id=mgmt,hostfwd=tcp:127.0.0.1:{agent_port}-:9443",
           "-device", f"virtio-net-pci,netdev=mgmt,mac={mac}"]

    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.load_verify_locations(str(pki["dir"] / "server_ca" / "chain.pem"))
    client.load_cert_chain(str(pki["dir"] / "client" / "client.pem"))

    def console():
        text = serial.read_text(errors="replace") if serial.exists() else ""
        return "\n--- guest serial console (last 120 lines) ---\n" + "\n".join(text.splitlines()[-120:])

    started = time.monotonic()
    qemu = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        answered = None
        agent_start = None
        marker = f"amphora-agent: starting octavia-{OCTAVIA_VERSION}.dist-info"
        deadline = started + BOOT_TIMEOUT
        while time.monotonic() < deadline:
            if agent_start is None and serial.exists() and marker in serial.read_text(errors="replace"):
                agent_start = time.monotonic() - started
            if qemu.poll() is not None:
                pytest.fail(f"QEMU exited with {qemu.returncode}: {qemu.stderr.read().decode()[-2000:]}{console()}")
            try:
                answered = tls_get(agent_port, amphora_id, client, timeout=5)
                break
            except (OSError, ValueError, ssl.SSLError):
                time.sleep(1)
        boot_to_agent = time.monotonic() - started
        assert answered is not None, f"the agent did not answer within {BOOT_TIMEOUT} s{console()}"
        print(f"\nboot to agent (QEMU start until GET / answers over mTLS, TCG): {boot_to_agent:.1f} s; "
              f"the agent's unit started at {agent_start or float('nan'):.1f} s")

        status, body, peer = answered
        assert status == 200 and json.loads(body) == {"api_version": "1.0"}, (status, body, console())
        # the agent serves the certificate Octavia issued for this amphora (config drive)
        cert = x509.load_der_x509_certificate(peer)
        assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == amphora_id

        status, body, _peer = tls_get(agent_port, amphora_id, client, "/1.0/info")
        info = json.loads(body)
        assert status == 200, (status, body)
        assert info["api_version"] == "1.0"
        # cloud-init took the hostname from the config drive's meta_data.json
        assert info["hostname"] == f"amphora-{amphora_id}", info
        assert info["haproxy_version"] and info["keepalived_version"] and info["ipvsadm_version"], info

        # the octavia the agent runs, as the guest itself reports it at the agent's start
        log = serial.read_text(errors="replace")
        assert marker in log, console()

        # mTLS: no client certificate, or one of another CA, gets no answer
        anonymous = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        anonymous.load_verify_locations(str(pki["dir"] / "server_ca" / "chain.pem"))
        assert refused(agent_port, amphora_id, anonymous), "the agent answered a client without a certificate"
        stranger = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        stranger.load_verify_locations(str(pki["dir"] / "server_ca" / "chain.pem"))
        stranger.load_cert_chain(str(other_ca_client(tmp_path)))
        assert refused(agent_port, amphora_id, stranger), "the agent answered a client of another CA"
        # ...while the right client still gets one
        assert tls_get(agent_port, amphora_id, client)[0] == 200

        # a heartbeat from the agent, signed with the configured key, naming this amphora
        heartbeats.settimeout(HEARTBEAT_TIMEOUT)
        try:
            packet, _sender = heartbeats.recvfrom(65535)
        except TimeoutError:
            pytest.fail(f"no heartbeat on 127.0.0.1:{heartbeat_port} within {HEARTBEAT_TIMEOUT} s{console()}")
        decode = subprocess.run(
            [str(octavia_python), "-c",
             "import json, sys; from octavia.amphorae.backends.health_daemon import status_message as s; "
             "print(json.dumps(s.unwrap_envelope(sys.stdin.buffer.read(), sys.argv[1])))", heartbeat_key],
            input=packet, capture_output=True, timeout=120, check=False)
        assert decode.returncode == 0, decode.stderr.decode()[-2000:]
        assert json.loads(decode.stdout)["id"] == amphora_id

        # cloud-init ran its local and network stages (the files, the certificate and the
        # hostname above came from the config drive through them) and none of the masked
        # ones: by now (the agent up, a heartbeat sent) the config stage used to be running
        log = serial.read_text(errors="replace")
        assert "running 'init-local'" in log and "running 'init'" in log, console()
        assert "running 'modules:" not in log, f"cloud-init's config or final stage ran{console()}"
    finally:
        qemu.terminate()
        try:
            qemu.wait(timeout=15)
        except subprocess.TimeoutExpired:
            qemu.kill()
            qemu.wait(timeout=15)
        heartbeats.close()
    # the cached image is only ever a backing file
    assert sha256_of(cached) == cached_sha
