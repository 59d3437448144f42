# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""What playbooks/health_check.yml reads on a controller, printed as one JSON object:
the octavia.conf settings the health check compares (health-manager address and port,
heartbeat timing, amphora driver, certificate paths) and every certificate of the
files octavia.conf names (controller client certificate, client CA, server CA chain,
signing CA), with its expiry. Private keys are skipped, never printed.

Run with the Python of Octavia's virtualenv, which has the cryptography package:
    /opt/octavia/bin/python3 health_check_controller.py /etc/octavia/octavia.conf DAYS
A certificate that expires within DAYS days (default 30) is listed in "problems".
"""

import configparser
import datetime
import json
import re
import sys

PEM_CERT = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)
SETTINGS = [
    ("health_manager", "bind_ip"), ("health_manager", "bind_port"),
    ("health_manager", "heartbeat_interval"), ("health_manager", "heartbeat_timeout"),
    ("health_manager", "health_check_interval"), ("health_manager", "failover_threshold"),
    ("health_manager", "controller_ip_port_list"),
    ("controller_worker", "amphora_driver"), ("controller_worker", "compute_driver"),
    ("haproxy_amphora", "bind_port"),
]
# (label, section, option): the certificate files a controller uses.
CERT_FILES = [
    ("controller client certificate", "haproxy_amphora", "client_cert"),
    ("server CA chain (verifies the amphorae)", "haproxy_amphora", "server_ca"),
    ("client CA (given to the amphorae)", "controller_worker", "client_ca"),
    ("server CA (signs amphora certificates)", "certificates", "ca_certificate"),
]


def certificates(path, now):
    from cryptography import x509  # pylint: disable=import-outside-toplevel

    out = []
    with open(path, "rb") as handle:
        data = handle.read()
    for pem in PEM_CERT.findall(data):
        cert = x509.load_pem_x509_certificate(pem)
        not_after = getattr(cert, "not_valid_after_utc", None)
        if not_after is None:  # cryptography < 42
            not_after = cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)
        try:
            is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        except x509.ExtensionNotFound:
            is_ca = False
        out.append({
            "subject": cert.subject.rfc4514_string(),
            "issuer": cert.issuer.rfc4514_string(),
            "ca": is_ca,
            "not_after": not_after.isoformat(),
            "days_left": round((not_after - now).total_seconds() / 86400, 1),
        })
    return out


def expiry_problem(item, cert, days):
    where = "%s (%s, %s)" % (cert["subject"], item["path"], item["option"])
    if cert["days_left"] <= 0:
        return "certificate %s expired on %s UTC" % (where, cert["not_after"])
    if cert["days_left"] <= days:
        return ("certificate %s expires in %s days (%s UTC), within health_check_cert_days (%s)"
                % (where, cert["days_left"], cert["not_after"], days))
    return None


def main(conf_path, days):
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        with open(conf_path, encoding="utf-8") as handle:
            parser.read_file(handle, source=conf_path)
    except (OSError, configparser.Error) as exc:
        json.dump({"error": "cannot read %s: %s" % (conf_path, exc)}, sys.stdout)
        return
    now = datetime.datetime.now(datetime.timezone.utc)
    settings = {}
    for section, option in SETTINGS:
        if parser.has_option(section, option):
            settings.setdefault(section, {})[option] = parser.get(section, option).strip()
    files, problems = [], []
    for label, section, option in CERT_FILES:
        item = {"label": label, "option": "[%s] %s" % (section, option), "path": None,
                "certificates": [], "error": None}
        if not parser.has_option(section, option):
            item["error"] = "octavia.conf has no [%s] %s" % (section, option)
        else:
            item["path"] = parser.get(section, option).strip()
            try:
                item["certificates"] = certificates(item["path"], now)
                if not item["certificates"]:
                    item["error"] = "%s (%s) holds no certificate" % (item["path"], item["option"])
            except (OSError, ValueError) as exc:
                item["error"] = "cannot read %s (%s): %s" % (item["path"], item["option"], exc)
        if item["error"]:
            problems.append(item["error"])
        for cert in item["certificates"]:
            problem = expiry_problem(item, cert, days)
            if problem:
                problems.append(problem)
        files.append(item)
    json.dump({"settings": settings, "certificate_files": files, "problems": problems}, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/etc/octavia/octavia.conf",
         int(sys.argv[2]) if len(sys.argv) > 2 else 30)
