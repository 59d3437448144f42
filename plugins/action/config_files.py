# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""octavia.lbaas.config_files: renders the templates and reads the source files of every
entry on the deploy host (as the template and copy actions do), then sends all contents
in one module run. The module's arguments (the contents) never come back in the result,
and the module never logs them to the host's journal."""

from __future__ import annotations

import os

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase
from ansible.template import trust_as_template
from jinja2.defaults import (
    BLOCK_END_STRING,
    BLOCK_START_STRING,
    COMMENT_END_STRING,
    COMMENT_START_STRING,
    VARIABLE_END_STRING,
    VARIABLE_START_STRING,
)

try:
    from ansible._internal._templating import _template_vars
except ImportError:     # pragma: no cover - older ansible-core: requires_ansible says >= 2.19
    _template_vars = None

MODULE = "octavia.lbaas.config_files"
# the template action's defaults, so that a file renders byte for byte as with it
OVERRIDES = dict(block_start_string=BLOCK_START_STRING, block_end_string=BLOCK_END_STRING,
                 variable_start_string=VARIABLE_START_STRING, variable_end_string=VARIABLE_END_STRING,
                 comment_start_string=COMMENT_START_STRING, comment_end_string=COMMENT_END_STRING,
                 trim_blocks=True, lstrip_blocks=False, newline_sequence="\n")


class ActionModule(ActionBase):

    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        files = self._task.args.get("files")
        if not isinstance(files, list) or not all(isinstance(f, dict) for f in files):
            raise AnsibleActionFail("files must be a list of dictionaries")
        unknown = set(self._task.args) - {"files"}
        if unknown:
            raise AnsibleActionFail("unknown options: %s" % ", ".join(sorted(unknown)))
        entries = [self._entry(dict(spec), task_vars) for spec in files]
        result.update(self._execute_module(module_name=MODULE, module_args={"files": entries}, task_vars=task_vars))
        # the arguments hold every content, secrets included
        result.pop("invocation", None)
        return result

    def _update_module_args(self, module_name, module_args, task_vars, ignore_unknown_opts=False):
        super()._update_module_args(module_name, module_args, task_vars, ignore_unknown_opts=ignore_unknown_opts)
        # the module would log its arguments (the contents) to the host's journal
        module_args["_ansible_no_log"] = True

    def _entry(self, spec, task_vars):
        path = spec.get("path")
        sources = [key for key in ("content", "template", "src") if spec.get(key) is not None]
        if spec.get("state", "file") != "file":
            if sources:
                raise AnsibleActionFail("%s: %s is for state file only" % (path, sources[0]))
            spec.pop("vars", None)
            return spec
        if len(sources) != 1:
            raise AnsibleActionFail("%s: give exactly one of content, template and src" % path)
        extra = spec.pop("vars", None) or {}
        if not isinstance(extra, dict):
            raise AnsibleActionFail("%s: vars must be a dictionary" % path)
        if "template" in sources:
            spec["content"] = self._render(spec.pop("template"), path, dict(task_vars, **extra))
        elif "src" in sources:
            try:
                source = self._find_needle("files", spec.pop("src"))
            except AnsibleError as exc:
                raise AnsibleActionFail(to_text(exc)) from None
            with open(source, "rb") as handle:
                spec["content"] = to_text(handle.read(), errors="surrogate_or_strict")
        return spec

    def _render(self, template, dest, variables):
        """The template action's rendering (same search path, template variables, options)."""
        try:
            source = self._find_needle("templates", template)
        except AnsibleError as exc:
            raise AnsibleActionFail(to_text(exc)) from None
        data = trust_as_template(self._loader.get_text_file_contents(source))
        searchpath = list(variables.get("ansible_search_path", [])) + [self._loader._basedir, os.path.dirname(source)]
        searchpath = [p for base in searchpath for p in (os.path.join(base, "templates"), base)]
        if _template_vars is not None:
            variables.update(_template_vars.generate_ansible_template_vars(
                path=template, fullpath=source, dest_path=dest,
                include_ansible_managed="ansible_managed" not in variables))
        templar = self._templar.copy_with_new_env(searchpath=searchpath, available_variables=variables)
        rendered = templar.template(data, escape_backslashes=False, overrides=OVERRIDES)
        return "" if rendered is None else rendered
