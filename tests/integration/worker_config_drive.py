"""Print, as JSON, what Octavia's worker hands Nova when it boots an amphora: the
personality files and the user_data of the server create call, made by Octavia's own v2
worker tasks from the octavia.conf given.

GenerateServerPEMTask issues the amphora's server certificate with the server CA of
[certificates] (CN = the amphora ID, key encrypted with server_certs_key_passphrase, as
the worker keeps it), then CertComputeCreate builds the agent configuration, the rsyslog
configuration and the cloud-init user_data and calls the compute driver's build(). The
compute driver is the noop one; its build() is wrapped to keep what it was given, which
is what the Nova driver would pass on to Nova as files= and userdata= (config_drive=True).

Run with the python of a venv that has octavia installed (not the test venv):
    worker_config_drive.py OCTAVIA_CONF AMPHORA_ID
Output: {"files": {path: content}, "user_data": "...", "build_args": {...}}
"""

import json
import sys
import warnings

warnings.simplefilter("ignore")

# octavia.common.config registers Octavia's options when imported.
from octavia.common import config  # noqa: E402,F401 # pylint: disable=unused-import
from octavia.controller.worker.v2.tasks import cert_task, compute_tasks  # noqa: E402
from oslo_config import cfg  # noqa: E402
from oslo_log import log  # noqa: E402


def main(conf_file, amphora_id):
    conf = cfg.CONF
    log.register_options(conf)
    conf(["--config-file", conf_file], project="octavia")
    if conf.controller_worker.compute_driver != "compute_noop_driver":
        raise SystemExit("worker_config_drive.py needs [controller_worker] compute_driver = compute_noop_driver")

    server_pem = cert_task.GenerateServerPEMTask().execute(amphora_id)

    task = compute_tasks.CertComputeCreate()
    seen = {}

    def keep(**kwargs):
        seen.update(kwargs)
        return "compute-id-of-" + amphora_id

    task.compute.build = keep
    task.execute(amphora_id, server_pem, server_group_id=None)

    files = seen.get("config_drive_files") or {}
    json.dump({
        "files": {path: (body.decode() if isinstance(body, bytes) else body) for path, body in files.items()},
        "user_data": seen.get("user_data"),
        "build_args": {k: v for k, v in seen.items() if k not in ("config_drive_files", "user_data")},
    }, sys.stdout, default=str)


if __name__ == "__main__":
    main(*sys.argv[1:3])
