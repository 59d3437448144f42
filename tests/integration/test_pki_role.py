"""Role octavia.lbaas.pki, driven through real ansible-playbook runs on localhost.

No test cloud is needed. One PKI is built once (first and second run); every other
scenario works on its own copy of it, or on a directory of its own, and the independent
runs go in parallel to keep the whole file well under a minute.
"""

from __future__ import annotations

import concurrent.futures
import datetime
import hashlib
import json
import pathlib
import shutil
import stat
import subprocess
import sys

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from playbook import ROOT, run_playbook

PLAYBOOK = ROOT / "tests" / "integration" / "playbooks" / "pki.yml"
# RSA 2048 CA keys instead of the default 4096 keep key generation fast; the tests check
# that the configured size is the one used.
FAST = {"pki_ca_key_size": 2048, "pki_client_key_size": 2048}
CA_FILES = [
    "server_ca/root.crt", "server_ca/root.key", "server_ca/issuing.crt",
    "server_ca/issuing.key", "server_ca/chain.pem",
    "client_ca/root.crt", "client_ca/root.key", "client_ca/issuing.crt",
    "client_ca/issuing.key", "client_ca/chain.pem",
    "secrets/passphrases.yml",
]
CLIENT_FILES = ["client/client.crt", "client/client.key", "client/client.pem"]
SECRET_FILES = [f for f in CA_FILES + CLIENT_FILES if f.endswith(".key")] + [
    "client/client.pem", "secrets/passphrases.yml"]
PUBLIC_FILES = [f for f in CA_FILES + CLIENT_FILES if f.endswith((".crt", "chain.pem"))]


def pki(pki_dir, *, check=False, **extra):
    return run_playbook(PLAYBOOK, extra_vars={"pki_dir": str(pki_dir), **FAST, **extra},
                        check=check, timeout=600)


def snapshot(directory: pathlib.Path) -> dict:
    """Every file under directory: relative path -> (sha256, mode)."""
    return {
        str(p.relative_to(directory)): (hashlib.sha256(p.read_bytes()).hexdigest(),
                                        stat.S_IMODE(p.stat().st_mode))
        for p in sorted(directory.rglob("*")) if p.is_file()
    }


def passphrases(pki_dir: pathlib.Path) -> dict:
    return yaml.safe_load((pki_dir / "secrets" / "passphrases.yml").read_text())


def load_key(path: pathlib.Path, passphrase: str | None):
    return serialization.load_pem_private_key(
        path.read_bytes(), None if passphrase is None else passphrase.encode())


def load_cert(path: pathlib.Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def openssl_verify(*args) -> subprocess.CompletedProcess:
    return subprocess.run(["openssl", "verify", *map(str, args)], capture_output=True,
                          text=True, check=False)


def messages(run) -> str:
    return "\n".join(run.failed_messages())


def expire_server_root(pki_dir: pathlib.Path) -> None:
    """Replace server_ca/root.crt by the same CA (same key and subject) expired a day ago,
    and remove the issuing CA certificate so that a run would have to sign a new one."""
    root = load_cert(pki_dir / "server_ca" / "root.crt")
    key = load_key(pki_dir / "server_ca" / "root.key", passphrases(pki_dir)["server_ca_root"])
    now = datetime.datetime.now(datetime.timezone.utc)
    expired = (
        x509.CertificateBuilder()
        .subject_name(root.subject).issuer_name(root.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=400))
        .not_valid_after(now - datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    (pki_dir / "server_ca" / "root.crt").write_bytes(expired.public_bytes(serialization.Encoding.PEM))
    (pki_dir / "server_ca" / "issuing.crt").unlink()


BAD_INPUTS = {
    "pki_ca_key_type": {"pki_ca_key_type": "DSA"},            # argument_specs choices
    "pki_ca_key_size": {"pki_ca_key_size": 1024},             # RSA below 2048
    "pki_client_key_size": {"pki_client_key_size": 1536},
    "pki_ca_root_days": {"pki_ca_root_days": 0},              # lifetime <= 0
    "pki_client_cert_days": {"pki_client_cert_days": -5},
    "pki_client_cert_renew_days": {"pki_client_cert_renew_days": 730},  # would renew every run
    "pki_renew_ca": {"pki_renew_ca": ["server_ca"]},
    "pki_server_ca_issuing_key_passphrase": {"pki_server_ca_issuing_key_passphrase": "short"},
}
# Cases run on a copy of the built PKI: name -> (how to spoil the copy, role inputs)
BROKEN_STATE = {
    "expired": (expire_server_root, {}),
    "conflict": (None, {"pki_server_ca_issuing_key_passphrase": "not-the-stored-one"}),
    "lost": (lambda d: (d / "secrets" / "passphrases.yml").unlink(), {}),
    "fail_on_expiry": (None, {"pki_expiry_warning_days": 800, "pki_fail_on_expiry": True}),
    # a CA key is never replaced because a setting changed
    "ca_key_size_changed": (None, {"pki_ca_key_size": 3072}),
}
ECC = {"pki_ca_key_type": "ECC", "pki_client_key_type": "ECC"}


def run_must_fail(tmp: pathlib.Path, label: str, cases: dict):
    """Every case (name -> role inputs) is a host of one must-fail run: name -> message."""
    inventory = tmp / f"must_fail_{label}.json"
    inventory.write_text(json.dumps({"all": {"hosts": {
        name: {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
               **FAST, **inputs}
        for name, inputs in cases.items()}}}))
    run = run_playbook(PLAYBOOK.with_name("pki_must_fail.yml"), "-i", str(inventory),
                       timeout=600)
    found = {}
    for play in run.plays:
        for task in play["tasks"]:
            if task["task"]["name"] == "Record the failure":
                for host, res in task["hosts"].items():
                    found[host] = res["ansible_facts"]["pki_failure"]
    return run, found


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Start every scenario at once; each test waits only for the runs it looks at."""
    tmp = tmp_path_factory.mktemp("pki")
    base = tmp / "base"
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=8)

    def build_base():
        first = pki(base)
        second = pki(base)
        return {"first": first, "second": second, "snapshot": snapshot(base)}

    def renew():
        base_future.result()
        directory = tmp / "renew"
        shutil.copytree(base, directory)
        before = snapshot(directory)
        run = pki(directory, pki_renew_client_cert=True, pki_expiry_warning_days=2000)
        return {"dir": directory, "before": before, "run": run, "after": snapshot(directory)}

    def bad_inputs():
        """Bad inputs, each on a directory of its own; needs no built PKI."""
        return run_must_fail(tmp, "inputs", {
            f"bad_{var}": {"pki_dir": str(tmp / f"bad-{var}"), **inputs}
            for var, inputs in BAD_INPUTS.items()})

    def broken_state():
        """Spoilt copies of the built PKI; then the expired copy is repaired with
        pki_renew_ca."""
        base_future.result()
        cases, before = {}, {}
        for name, (spoil, inputs) in BROKEN_STATE.items():
            directory = tmp / name
            shutil.copytree(base, directory)
            if spoil:
                spoil(directory)
            before[name] = snapshot(directory)
            cases[name] = {"pki_dir": str(directory), **inputs}
        run, found = run_must_fail(tmp, "state", cases)
        after = {name: snapshot(tmp / name) for name in BROKEN_STATE}
        renewed = pki(tmp / "expired", pki_renew_ca=["server_ca_root"])
        return {"run": run, "messages": found, "before": before, "after": after,
                "renewed": renewed}

    def ecc():
        directory = tmp / "ecc"
        return {"dir": directory, "first": pki(directory, **ECC), "second": pki(directory, **ECC)}

    base_future = pool.submit(build_base)
    futures = {
        "ecc": pool.submit(ecc),
        "base": base_future,
        "check_fresh": pool.submit(lambda: pki(tmp / "fresh", check=True)),
        "check_existing": pool.submit(lambda: (base_future.result(), pki(base, check=True))[1]),
        # Client renewal; 2000 warning days reach both issuing CAs (1825 days) but not the
        # roots (3650), and not the client certificate this run renews.
        "renew": pool.submit(renew),
        "bad_inputs": pool.submit(bad_inputs),
        "broken_state": pool.submit(broken_state),
    }
    yield {"tmp": tmp, **futures}
    pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(scope="module")
def built(runs):
    """The PKI after the first two runs: (directory, results)."""
    return runs["tmp"] / "base", runs["base"].result()


@pytest.fixture(scope="module")
def must_fail(runs):
    """The must-fail runs: messages by case, and the snapshots of the spoilt copies."""
    inputs_run, inputs_messages = runs["bad_inputs"].result()
    state = runs["broken_state"].result()
    return {**state, "runs": [inputs_run, state["run"]],
            "messages": {**inputs_messages, **state["messages"]}}


# --- idempotence and check mode ---------------------------------------------------------

def test_first_run_creates_and_second_run_changes_nothing(built):
    res = built[1]
    assert res["first"].rc == 0, messages(res["first"]) or res["first"].stderr[-2000:]
    assert res["first"].changed() > 0
    assert res["second"].rc == 0, messages(res["second"])
    assert res["second"].changed() == 0, res["second"].changed_tasks()


def test_check_mode_on_existing_pki_changes_nothing(runs, built):
    directory, res = built
    run = runs["check_existing"].result()
    assert run.rc == 0, messages(run)
    assert run.changed() == 0, run.changed_tasks()
    assert snapshot(directory) == res["snapshot"]


def test_check_mode_on_fresh_dir_writes_nothing(runs):
    run = runs["check_fresh"].result()
    assert run.rc == 0, messages(run) or run.stderr[-2000:]
    assert run.changed() > 0          # it reports what it would create ...
    assert not (runs["tmp"] / "fresh").exists()   # ... and creates nothing


# --- the files ------------------------------------------------------------------------

def test_layout_and_modes(built):
    directory = built[0]
    for rel in SECRET_FILES:
        assert stat.S_IMODE((directory / rel).stat().st_mode) == 0o600, rel
    for rel in PUBLIC_FILES:
        assert stat.S_IMODE((directory / rel).stat().st_mode) == 0o644, rel
    assert stat.S_IMODE((directory / "secrets").stat().st_mode) == 0o700
    # every private key on disk is one of the 0600 files above
    assert {str(p.relative_to(directory)) for p in directory.rglob("*.key")} <= set(SECRET_FILES)


def test_cas_are_cas_with_configured_keys_and_lifetimes(built):
    directory = built[0]
    now = datetime.datetime.now(datetime.timezone.utc)
    for ca, days, pathlen in [("server_ca/root", 3650, 1), ("server_ca/issuing", 1825, 0),
                              ("client_ca/root", 3650, 1), ("client_ca/issuing", 1825, 0)]:
        cert = load_cert(directory / f"{ca}.crt")
        bc = cert.extensions.get_extension_for_class(x509.BasicConstraints)
        assert bc.critical and bc.value.ca and bc.value.path_length == pathlen, ca
        assert cert.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign, ca
        lifetime = (cert.not_valid_after_utc - now).days
        assert days - 2 <= lifetime <= days, (ca, lifetime)
        assert cert.public_key().key_size == 2048, ca   # the pki_ca_key_size given
    # issuing CAs are signed by their root, roots by themselves
    for side in ("server_ca", "client_ca"):
        root, issuing = (load_cert(directory / side / f"{n}.crt") for n in ("root", "issuing"))
        assert root.issuer == root.subject and issuing.issuer == root.subject
        issuing.verify_directly_issued_by(root)


def test_issuing_key_needs_its_passphrase(built):
    directory = built[0]
    secrets = passphrases(directory)
    assert set(secrets) == {"server_ca_root", "server_ca_issuing", "client_ca_root",
                            "client_ca_issuing"}
    assert len(set(secrets.values())) == 4 and all(len(v) >= 32 for v in secrets.values())
    for name, rel in [("server_ca_issuing", "server_ca/issuing.key"),
                      ("server_ca_root", "server_ca/root.key"),
                      ("client_ca_root", "client_ca/root.key"),
                      ("client_ca_issuing", "client_ca/issuing.key")]:
        with pytest.raises(TypeError):        # encrypted: no passphrase, no key
            load_key(directory / rel, None)
        with pytest.raises(ValueError):
            load_key(directory / rel, "wrong passphrase")
        load_key(directory / rel, secrets[name])


def test_amphora_certificate_signed_by_the_issuing_ca_verifies(built, tmp_path):
    """What Octavia does with [certificates] ca_certificate/ca_private_key/passphrase,
    checked the way controllers check amphorae ([haproxy_amphora] server_ca)."""
    directory = built[0]
    issuing = load_cert(directory / "server_ca" / "issuing.crt")
    ca_key = load_key(directory / "server_ca" / "issuing.key",
                      passphrases(directory)["server_ca_issuing"])
    amp_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.datetime.now(datetime.timezone.utc)
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "amphora-1")]))
        .issuer_name(issuing.subject).public_key(amp_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    leaf_path = tmp_path / "amphora.pem"
    leaf_path.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    res = openssl_verify("-CAfile", directory / "server_ca" / "root.crt",
                         "-untrusted", directory / "server_ca" / "issuing.crt", leaf_path)
    assert res.returncode == 0, res.stdout + res.stderr
    res = openssl_verify("-CAfile", directory / "server_ca" / "chain.pem", leaf_path)
    assert res.returncode == 0, res.stdout + res.stderr
    # the client CA must not vouch for amphorae
    res = openssl_verify("-CAfile", directory / "client_ca" / "chain.pem", leaf_path)
    assert res.returncode != 0


def test_client_certificate_and_bundle(built):
    directory = built[0]
    client = load_cert(directory / "client" / "client.crt")
    eku = client.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    usage = client.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.key_encipherment and not usage.key_cert_sign
    assert not client.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    for args in (["-CAfile", directory / "client_ca" / "root.crt",
                  "-untrusted", directory / "client_ca" / "issuing.crt"],
                 ["-CAfile", directory / "client_ca" / "chain.pem"]):
        res = openssl_verify("-purpose", "sslclient", *args, directory / "client" / "client.crt")
        assert res.returncode == 0, res.stdout + res.stderr
    res = openssl_verify("-CAfile", directory / "server_ca" / "chain.pem",
                         directory / "client" / "client.crt")
    assert res.returncode != 0
    # client.pem: the client certificate and its unencrypted key, nothing else
    bundle = (directory / "client" / "client.pem").read_bytes()
    assert bundle.count(b"-----BEGIN CERTIFICATE-----") == 1
    assert x509.load_pem_x509_certificate(bundle) == client
    key = serialization.load_pem_private_key(bundle, None)
    assert key.public_key().public_numbers() == client.public_key().public_numbers()
    assert load_key(directory / "client" / "client.key", None).private_numbers() == \
        key.private_numbers()
    # chains: issuing CA first, then root
    for side in ("server_ca", "client_ca"):
        chain = x509.load_pem_x509_certificates((directory / side / "chain.pem").read_bytes())
        assert chain == [load_cert(directory / side / "issuing.crt"),
                         load_cert(directory / side / "root.crt")]


def test_facts_and_no_secret_in_output(built):
    directory, res = built
    first = res["first"]
    facts = {}
    for play in first.plays:
        for task in play["tasks"]:
            facts.update(task["hosts"]["localhost"].get("ansible_facts", {}))
    files = facts["pki_files"]
    for key, path in files.items():
        if key != "dir":
            assert pathlib.Path(path).is_file(), (key, path)
    assert files["server_ca_key"] == str(directory / "server_ca" / "issuing.key")
    assert facts["pki_octavia_options"] == {
        "certificates": {"ca_certificate": str(directory / "server_ca" / "issuing.crt"),
                         "ca_private_key": str(directory / "server_ca" / "issuing.key")},
        "haproxy_amphora": {"server_ca": str(directory / "server_ca" / "chain.pem"),
                            "client_cert": str(directory / "client" / "client.pem")},
        "controller_worker": {"client_ca": str(directory / "client_ca" / "chain.pem")},
    }
    # the passphrase fact is set, but no_log keeps it (and every other secret) out of logs
    assert "pki_server_ca_key_passphrase" not in facts
    names = [t["task"]["name"] for p in first.plays for t in p["tasks"]]
    assert any("pki_server_ca_key_passphrase" in n for n in names)
    output = json.dumps(first.plays) + first.stderr
    for secret in passphrases(directory).values():
        assert secret not in output
    client_key = (directory / "client" / "client.key").read_text().splitlines()[1]
    assert client_key not in output


def test_ecc_keys(runs):
    res = runs["ecc"].result()
    directory = res["dir"]
    assert res["first"].rc == 0, messages(res["first"])
    assert res["second"].rc == 0 and res["second"].changed() == 0, res["second"].changed_tasks()
    secrets = passphrases(directory)
    for name, rel, curve in [("server_ca_root", "server_ca/root.key", "secp384r1"),
                             ("server_ca_issuing", "server_ca/issuing.key", "secp384r1"),
                             (None, "client/client.key", "secp384r1")]:
        key = load_key(directory / rel, secrets[name] if name else None)
        assert key.curve.name == curve, rel
    usage = load_cert(directory / "client" / "client.crt").extensions.get_extension_for_class(
        x509.KeyUsage).value
    assert usage.digital_signature and not usage.key_encipherment   # no RSA key transport
    res = openssl_verify("-purpose", "sslclient", "-CAfile", directory / "client_ca" / "chain.pem",
                         directory / "client" / "client.crt")
    assert res.returncode == 0, res.stdout + res.stderr
    res = openssl_verify("-CAfile", directory / "server_ca" / "chain.pem",
                         directory / "server_ca" / "issuing.crt")
    assert res.returncode == 0, res.stdout + res.stderr


# --- renewal and expiry -------------------------------------------------------------------

def test_client_renewal_keeps_every_ca_file(runs):
    res = runs["renew"].result()
    run, before, after, directory = res["run"], res["before"], res["after"], res["dir"]
    assert run.rc == 0, messages(run)
    assert run.changed() > 0
    for rel in CA_FILES:
        assert after[rel] == before[rel], f"{rel} changed on client renewal"
    for rel in CLIENT_FILES:
        assert after[rel][0] != before[rel][0], f"{rel} was not renewed"
        assert after[rel][1] == before[rel][1]
    res = openssl_verify("-purpose", "sslclient", "-CAfile", directory / "client_ca" / "chain.pem",
                         directory / "client" / "client.crt")
    assert res.returncode == 0, res.stdout + res.stderr
    # the expiry warning names the issuing CAs (1825 days < 2000), not the roots, and not
    # the client certificate this run renewed
    warnings = [r["msg"] for p in run.plays for t in p["tasks"]
                for r in t["hosts"]["localhost"].get("results", [])
                if str(r.get("msg", "")).startswith("WARNING")]
    assert len(warnings) == 2, warnings
    assert any(str(directory / "server_ca" / "issuing.crt") in w for w in warnings)
    assert any(str(directory / "client_ca" / "issuing.crt") in w for w in warnings)


def test_fail_on_expiry_names_the_certificate(runs, must_fail):
    text = must_fail["messages"]["fail_on_expiry"]
    assert "pki_fail_on_expiry" in text
    assert str(runs["tmp"] / "fail_on_expiry" / "client" / "client.crt") in text
    assert "root.crt" not in text and "issuing.crt" not in text
    assert must_fail["after"]["fail_on_expiry"] == must_fail["before"]["fail_on_expiry"]


def test_expired_ca_fails_before_signing_and_can_be_renewed(runs, must_fail):
    directory = runs["tmp"] / "expired"
    text = must_fail["messages"]["expired"]
    assert "Expired CA certificate" in text
    assert str(directory / "server_ca" / "root.crt") in text
    assert "pki_renew_ca" in text
    # nothing was written: the issuing CA it would have signed is still missing
    before, after_failed = must_fail["before"]["expired"], must_fail["after"]["expired"]
    assert after_failed == before
    assert "server_ca/issuing.crt" not in after_failed

    # pki_renew_ca re-issues the root with its key; the issuing CA is signed again
    renewed = must_fail["renewed"]
    assert renewed.rc == 0, messages(renewed)
    after = snapshot(directory)
    assert after["server_ca/root.key"] == before["server_ca/root.key"]
    root = load_cert(directory / "server_ca" / "root.crt")
    assert root.not_valid_after_utc > datetime.datetime.now(datetime.timezone.utc)
    for rel in [f for f in CA_FILES if f.startswith("client_ca/")] + CLIENT_FILES:
        assert after[rel] == before[rel], rel
    verify = openssl_verify("-CAfile", directory / "server_ca" / "root.crt",
                            directory / "server_ca" / "issuing.crt")
    assert verify.returncode == 0, verify.stdout + verify.stderr


# --- bad input and bad state ----------------------------------------------------------

def test_every_must_fail_case_failed(must_fail):
    """One failure per case, each from inside the role (the rescue recorded it)."""
    assert set(must_fail["messages"]) == {f"bad_{v}" for v in BAD_INPUTS} | set(BROKEN_STATE)
    for run in must_fail["runs"]:
        assert run.rc == 0, run.stderr[-2000:]


@pytest.mark.parametrize("variable", list(BAD_INPUTS))
def test_bad_input_fails_naming_the_variable(runs, must_fail, variable):
    assert variable in must_fail["messages"].get(f"bad_{variable}", ""), must_fail["messages"]
    assert not (runs["tmp"] / f"bad-{variable}").exists()


def test_passphrase_contradicting_the_stored_one_fails(runs, must_fail):
    text = must_fail["messages"]["conflict"]
    assert "pki_server_ca_issuing_key_passphrase" in text
    assert str(runs["tmp"] / "conflict" / "server_ca" / "issuing.key") in text
    assert must_fail["after"]["conflict"] == must_fail["before"]["conflict"]


def test_changed_ca_key_size_fails_instead_of_a_new_ca(runs, must_fail):
    text = must_fail["messages"]["ca_key_size_changed"]
    assert str(runs["tmp"] / "ca_key_size_changed" / "server_ca" / "root.key") in text
    assert "3072" in text
    assert must_fail["after"]["ca_key_size_changed"] == must_fail["before"]["ca_key_size_changed"]


def test_lost_passphrase_file_fails_instead_of_replacing_the_cas(runs, must_fail):
    text = must_fail["messages"]["lost"]
    assert "passphrases.yml" in text and "server_ca/root.key" in text
    assert must_fail["after"]["lost"] == must_fail["before"]["lost"]
