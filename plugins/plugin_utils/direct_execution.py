# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Run an octavia.lbaas cloud module inside Ansible's worker process.

Those modules (the load-balancer modules, and the cloud-side modules the deployment roles
call: built on CloudModule, or, for pki_certificates and rabbitmq_account, on ansible's
AnsibleModule by that name) only talk HTTP to the cloud or write the deploy host's
files. When the task runs on the controller itself (connection ``local``, the controller's own Python, no become, no async),
starting a module process costs more than most of their work: Ansible builds the AnsiballZ payload (0.2 s here), a new Python imports ansible's module utilities
from a zip (0.25 s), plus three shell commands for the temporary directory. A per-LB
playbook pays that for every task. Here the module's own code runs in the worker instead,
through the same AnsibleModule (argument validation, check mode, diff, no_log), with the
two hooks ansible-core keeps for this (`_load_params` and `_record_module_result`, the
ones ansible.netcommon's direct execution overrides too). Its result is encoded and parsed
exactly as a module process's output would be, so a task's result does not depend on the
path it took.

Everything else, and any task where a variable sets ``octavia_lbaas_direct_execution:
false``, runs the module the normal way.

A playbook logs in to keystone once, not per task. A worker ends with its task, and so
would its login: the keystone token (keystoneauth's auth state: token, expiry, catalog) of
each set of connection options is kept in a file of Ansible's local temporary directory
(``ansible-local-*``, mode 0700, made by ansible-playbook and removed when it exits), mode
0600, named by a hash of the options and the task's ``OS_*`` environment. The next task
with the same options restores it instead of logging in; keystoneauth logs in again when
the token is about to expire, and when the cloud answers 401.

openstacksdk is still imported in each worker (0.3 s), not once in ansible-playbook's own
process (Ansible loads the action class there before it forks): measured on site.yml, a
parent holding openstacksdk made every worker of the play slower, the controllers' tasks
too, by more than the import saved (docs/performance.md).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import io
import json
import os
import sys
import tempfile

from ansible import constants as C
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.json import Direction, get_module_encoder
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.plugins.action.normal import ActionModule as NormalAction
from ansible.utils.display import Display
from ansible.utils.vars import merge_hash
from ansible.vars.clean import remove_internal_keys

display = Display()

SWITCH = "octavia_lbaas_direct_execution"
PROFILE = "legacy"  # the serialization profile of every octavia.lbaas module
CLOUD = "ansible_collections.octavia.lbaas.plugins.module_utils.cloud"


def _cloud():
    """module_utils/cloud.py, imported in the worker only: it imports openstacksdk, which
    a task that runs as a module process must not pay for, nor ansible-playbook's process
    (see above)."""
    return importlib.import_module(CLOUD)


def _module_class(args, recorded):
    """An AnsibleModule that takes its parameters from the action and hands its result
    back instead of printing it."""

    class DirectExecutionModule(AnsibleModule):
        def _load_params(self):
            self.params = args

        def _record_module_result(self, o):
            recorded.append(o)

    return DirectExecutionModule


@contextlib.contextmanager
def direct_module_class(module, args, recorded):
    """While the module's main() runs, the AnsibleModule it builds takes `args` and records
    its result in `recorded`: CloudModule's class for the modules built on it, and the
    module's own `AnsibleModule` name for those that build ansible's class themselves
    (pki_certificates, rabbitmq_account: no cloud connection)."""
    cloud = _cloud()
    direct_class = _module_class(args, recorded)
    previous = cloud.CloudModule.ansible_module_class
    own_class = getattr(module, "AnsibleModule", None)
    cloud.CloudModule.ansible_module_class = direct_class
    if own_class is AnsibleModule:
        module.AnsibleModule = direct_class
    try:
        yield
    finally:
        cloud.CloudModule.ansible_module_class = previous
        if own_class is AnsibleModule:
            module.AnsibleModule = own_class


class AuthCache:
    """The keystone tokens of this ansible-playbook run, shared by its workers through
    files in `directory` (one per set of connection options, see the top of this file)."""

    PREFIX = "octavia-lbaas-auth-"

    def __init__(self, args, directory=None):
        options = {name: args.get(name) for name in sorted(_cloud().CONNECTION_SPEC)}
        environment = {name: value for name, value in os.environ.items() if name.startswith("OS_")}
        key = json.dumps([options, environment], sort_keys=True, default=str)
        self.directory = directory or C.DEFAULT_LOCAL_TMP
        self.path = os.path.join(self.directory, self.PREFIX + hashlib.sha256(key.encode()).hexdigest()[:32])
        self.connections = []
        self.restored = None

    @staticmethod
    def _plugin(conn):
        auth = getattr(getattr(conn, "session", None), "auth", None)
        return auth if hasattr(auth, "get_auth_state") and hasattr(auth, "set_auth_state") else None

    def restore(self, conn):
        """Give a new connection the token an earlier task kept, if any."""
        self.connections.append(conn)
        plugin = self._plugin(conn)
        if plugin is None:
            return
        try:
            with open(self.path, encoding="utf-8") as stream:
                state = stream.read()
            plugin.set_auth_state(state)
            self.restored = state
        except (OSError, ValueError, KeyError, TypeError):
            self.restored = None  # none kept yet, or unreadable: the connection logs in

    def save(self):
        """Keep the token of this task's connection for the next tasks (when it changed)."""
        for conn in self.connections:
            plugin = self._plugin(conn)
            try:
                state = plugin.get_auth_state() if plugin is not None else None
            except Exception:  # pylint: disable=broad-except
                state = None  # a plugin without a token to keep
            if not state or state == self.restored or not os.path.isdir(self.directory):
                continue
            temporary = None
            try:
                descriptor, temporary = tempfile.mkstemp(prefix=self.PREFIX, dir=self.directory)
                with os.fdopen(descriptor, "w", encoding="utf-8") as stream:  # mkstemp: mode 0600
                    stream.write(state)
                os.replace(temporary, self.path)
            except OSError:
                if temporary:  # the next task logs in again
                    with contextlib.suppress(OSError):
                        os.unlink(temporary)


@contextlib.contextmanager
def _environ(changes):
    saved = {name: os.environ.get(name) for name in changes}
    os.environ.update({str(name): str(value) for name, value in changes.items()})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class DirectExecutionAction(NormalAction):
    """The action of every octavia.lbaas cloud module (plugins/action/*.py): a module
    process is ansible.builtin.normal's run, unchanged."""

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        reason = self._not_direct(task_vars)
        if reason:
            display.vvv("octavia.lbaas: %s runs as a module process (%s)" % (self._task.action, reason))
            return super().run(tmp, task_vars)
        display.vvv("octavia.lbaas: %s runs inside Ansible's worker (direct execution)" % self._task.action)
        # ActionBase's checks (check mode, async support), without normal's module process
        result = ActionBase.run(self, tmp, task_vars)
        return merge_hash(result, self._run_direct(task_vars))

    # -- which path ----------------------------------------------------------------------
    def _not_direct(self, task_vars):
        """Why this task must run as a module process, or None."""
        use_vars = task_vars
        if self._task.delegate_to:
            use_vars = task_vars.get("ansible_delegated_vars", {}).get(self._task.delegate_to, {})
        switch = use_vars.get(SWITCH, True)
        if not boolean(self._templar.template(switch), strict=False):
            return "%s is false" % SWITCH
        if not hasattr(AnsibleModule, "_record_module_result"):
            return "this ansible-core has no result hook for it (2.19.1 added it)"
        if getattr(self._connection, "transport", None) != "local":
            return "the connection is not local"
        if self._task.async_val:
            return "async"
        if self._play_context.become:
            return "become"
        interpreter = use_vars.get("ansible_python_interpreter")
        interpreter = self._templar.template(interpreter) if interpreter else None
        # Only the very interpreter that runs Ansible: another one (a venv with another
        # openstacksdk, interpreter discovery) would import other libraries.
        if not interpreter or os.path.abspath(str(interpreter)) != os.path.abspath(sys.executable):
            return "ansible_python_interpreter is not Ansible's own Python (%s)" % sys.executable
        return None

    # -- direct execution ----------------------------------------------------------------
    def _run_direct(self, task_vars):
        context = self._shared_loader_obj.module_loader.find_plugin_with_context(
            self._task.action, collection_list=self._task.collections)
        module = importlib.import_module(context.plugin_resolved_name)
        cloud = _cloud()

        module_args = dict(self._task.args)
        self._update_module_args(context.resolved_fqcn, module_args, task_vars)
        # What the module process would decode: plain values (no data tags, vaulted
        # values decrypted), through the same encoder Ansible uses to send them.
        args = json.loads(json.dumps(module_args, cls=get_module_encoder(PROFILE, Direction.CONTROLLER_TO_MODULE)))

        # The task's `environment` (OS_CLOUD, OS_CLIENT_CONFIG_FILE, proxies...) is what a
        # module process would start with: set it for the call, then put the worker's back.
        environment = {}
        self._compute_environment_string(raw_environment_out=environment)

        recorded = []
        captured = io.StringIO()
        previous_cache = cloud.CloudModule.auth_cache
        try:
            # openstacksdk and keystoneauth may print (warnings); a module process's output
            # would not reach the terminal either
            with _environ(environment), direct_module_class(module, args, recorded), \
                    contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
                cloud.CloudModule.auth_cache = auth_cache = AuthCache(args)
                try:
                    module.main()
                finally:
                    auth_cache.save()
        except SystemExit:
            pass  # exit_json / fail_json
        finally:
            cloud.CloudModule.auth_cache = previous_cache

        if not recorded:
            return {"failed": True, "msg": "%s returned no result" % context.resolved_fqcn,
                    "module_stdout": captured.getvalue()}
        # Encoded and parsed as a module process's output is, so both paths give one result.
        text = json.dumps(recorded[-1], cls=get_module_encoder(PROFILE, Direction.MODULE_TO_CONTROLLER))
        data = self._parse_returned_data({"stdout": text, "stderr": captured.getvalue(), "rc": 0}, PROFILE)
        remove_internal_keys(data)
        if data.get("failed") and captured.getvalue():
            data["module_stderr"] = captured.getvalue()
        return data
