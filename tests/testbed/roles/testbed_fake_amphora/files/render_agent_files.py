"""Print, as JSON, what Octavia's worker gives a new amphora, made by Octavia's own code
from this controller's octavia.conf: the agent configuration (Octavia's template), the
client CA that verifies the controllers, and with --certificate a server certificate and
key issued by Octavia's local certificate generator with the server CA of
[certificates] (CN and DNS name = the amphora ID).

Run by the role testbed_fake_amphora on a controller with Octavia's virtualenv python:
    render_agent_files.py AMPHORA_ID [--config-file /etc/octavia/octavia.conf] [--certificate]
"""

import argparse
import json
import sys
import warnings

warnings.simplefilter("ignore")

from octavia.amphorae.backends.agent import agent_jinja_cfg  # noqa: E402
from octavia.certificates.generator import local  # noqa: E402
from octavia.common import config  # noqa: E402,F401  (registers Octavia's options)
from oslo_config import cfg  # noqa: E402
from oslo_log import log  # noqa: E402


def text(value):
    return value.decode() if isinstance(value, bytes) else value


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("amphora_id")
    parser.add_argument("--config-file", default="/etc/octavia/octavia.conf")
    parser.add_argument("--certificate", action="store_true")
    args = parser.parse_args(argv)
    conf = cfg.CONF
    log.register_options(conf)
    conf(["--config-file", args.config_file], project="octavia")
    out = {
        "config": agent_jinja_cfg.AgentJinjaTemplater().build_agent_config(
            args.amphora_id, conf.controller_worker.loadbalancer_topology),
    }
    with open(conf.controller_worker.client_ca, encoding="utf-8") as handle:
        out["client_ca"] = handle.read()
    if args.certificate:
        pair = local.LocalCertGenerator.generate_cert_key_pair(
            cn=args.amphora_id, validity=conf.certificates.cert_validity_time)
        out["server_pem"] = text(pair.certificate) + text(pair.private_key)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1:])
