#!/usr/bin/python
# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Several files and directories of a host made as wanted, in one module run."""

from __future__ import annotations

DOCUMENTATION = r"""
module: config_files
short_description: Write a set of files and directories on a host in one run, only what differs
description:
  - Makes each entry of O(files) as wanted (content, owner, group, mode; a directory; or
    absent) and touches only what differs, in one module run. A role that writes a dozen
    files pays one round trip to the host instead of two or three per file (a template or
    copy task stats the file, compares checksums, then runs the file module).
  - The action plugin renders O(files[].template) (from the role's C(templates/), with
    the task's variables and O(files[].vars)) and reads O(files[].src) (from the role's
    C(files/)) on the deploy host, as the template and copy modules do, then sends all
    contents in one module run. The module compares them with the files on the host and
    writes a changed file atomically (a temporary file in the same directory, renamed over
    it), after O(files[].validate) accepted it.
  - Returns the paths it changed (RV(changed_paths)), so that a task can tell which
    services have to restart.
  - Contents of entries with O(files[].secret) never appear in the output, the diff
    included; the module's arguments (the contents) are never returned.
author: octavia.lbaas maintainers (@octavia-lbaas)
version_added: 0.1.0
attributes:
  action:
    description: Runs an action plugin on the deploy host first.
    support: full
  check_mode:
    support: full
  diff_mode:
    support: full
    details: One diff per changed file; the content of a secret file is not shown.
  platform:
    platforms: posix
extends_documentation_fragment: [ansible.builtin.action_common_attributes]
options:
  files:
    description: The files and directories, made in this order.
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description: Absolute path on the host.
        type: path
        required: true
      state:
        description:
          - V(file) writes the content, V(directory) makes a directory (with its parents),
            V(absent) removes a file (never a directory).
        type: str
        choices: [file, directory, absent]
        default: file
      content:
        description:
          - Content of the file (V(file) only). Exactly one of O(files[].content),
            O(files[].template) and O(files[].src) for a file.
        type: str
      template:
        description:
          - A Jinja2 template, looked up like the template module's C(src) (the role's
            C(templates/) first), rendered on the deploy host with the task's variables
            and O(files[].vars). Handled by the action plugin.
        type: str
      src:
        description:
          - A file on the deploy host, looked up like the copy module's C(src) (the role's
            C(files/) first), sent as it is (UTF-8 text). Handled by the action plugin.
        type: str
      vars:
        description: More variables for O(files[].template) (for example C(item)).
        type: dict
        default: {}
      owner:
        description: Owner (name). Not given, a new file belongs to the connecting user and an existing one keeps its owner.
        type: str
      group:
        description: Group (name). Not given, as for O(files[].owner).
        type: str
      mode:
        description: Octal mode as a string, for example V("0640"). Not given, a new file gets the umask's and an existing one keeps its own.
        type: str
      secret:
        description:
          - The content holds secrets (passwords, keys). The diff shows that the file
            changes, never its content.
        type: bool
        default: false
      validate:
        description:
          - Command that checks a new content before it replaces the file, C(%s) standing
            for the temporary file (as the template module's C(validate)). Runs only when
            the content changes, and in check mode too.
        type: str
notes:
  - Only text files. Symbolic links at O(files[].path) are replaced, not followed.
"""

EXAMPLES = r"""
- name: Write the units and the configuration, restart when one changed
  octavia.lbaas.config_files:
    files:
      - {path: /etc/example, state: directory, owner: root, group: example, mode: "0750"}
      - {path: /etc/example/example.conf, template: example.conf.j2, group: example, mode: "0640", secret: true}
      - path: /etc/systemd/system/example.service
        template: example.service.j2
        vars: {name: example}
        mode: "0644"
      - {path: /etc/systemd/system/example-old.service, state: absent}
  register: example_files
  notify: Restart example
"""

RETURN = r"""
changed_paths:
  description: The paths that were (in check mode, would be) created, written, changed in owner, group or mode, or removed, in order.
  returned: always
  type: list
  elements: str
  sample: [/etc/example/example.conf]
"""

import grp
import os
import pwd
import stat
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_text

HIDDEN = "(content not shown: the file holds secrets)\n"


class Entry:
    """One file or directory: what is there, what is wanted, and the change."""

    def __init__(self, module, spec):
        self.module = module
        self.spec = spec
        self.path = spec["path"]
        self.reasons = []

    def fail(self, msg):
        self.module.fail_json(msg="%s: %s" % (self.path, msg), changed_paths=[])

    def ids(self):
        uid = gid = -1
        try:
            if self.spec.get("owner"):
                uid = pwd.getpwnam(self.spec["owner"]).pw_uid
            if self.spec.get("group"):
                gid = grp.getgrnam(self.spec["group"]).gr_gid
        except KeyError as exc:
            if not self.module.check_mode:
                self.fail("unknown owner or group %s" % exc)
            # check mode on a fresh host: the user the run would create does not exist yet
            uid = gid = None
        return uid, gid

    def mode(self):
        mode = self.spec.get("mode")
        if mode is None:
            return None
        try:
            return int(str(mode), 8)
        except ValueError:
            self.fail("mode %r is not an octal number" % mode)

    def attributes(self, st):
        """The owner, group and mode changes an existing path `st` needs."""
        uid, gid = self.ids()
        mode = self.mode()
        todo = {}
        if uid is None or (uid != -1 and st.st_uid != uid):
            todo["owner"] = uid
        if gid is None or (gid != -1 and st.st_gid != gid):
            todo["group"] = gid
        if mode is not None and stat.S_IMODE(st.st_mode) != mode:
            todo["mode"] = mode
        return todo

    def apply_attributes(self, path, todo):
        if self.module.check_mode:
            return
        uid = todo.get("owner", -1)
        gid = todo.get("group", -1)
        if uid != -1 or gid != -1:
            os.lchown(path, uid, gid)
        if "mode" in todo:
            os.chmod(path, todo["mode"])

    def run(self):
        state = self.spec["state"]
        try:
            st = os.lstat(self.path)
        except FileNotFoundError:
            st = None
        if state == "absent":
            return self.absent(st)
        if state == "directory":
            return self.directory(st)
        return self.file(st)

    def absent(self, st):
        if st is None:
            return None
        if stat.S_ISDIR(st.st_mode):
            self.fail("is a directory; state absent removes files only")
        if not self.module.check_mode:
            os.unlink(self.path)
        return {"before_header": self.path, "after_header": self.path + " (absent)", "before": "", "after": ""}

    def directory(self, st):
        if st is not None and not stat.S_ISDIR(st.st_mode):
            self.fail("exists and is not a directory")
        if st is None:
            if not self.module.check_mode:
                os.makedirs(self.path)
                self.apply_attributes(self.path, self.attributes(os.lstat(self.path)))
            return {"before_header": self.path, "after_header": self.path + " (directory created)", "before": "", "after": ""}
        todo = self.attributes(st)
        if not todo:
            return None
        self.apply_attributes(self.path, todo)
        return self.attribute_diff(st, todo)

    def attribute_diff(self, st, todo):
        def show(values):
            return "".join("%s: %s\n" % (k, values[k]) for k in ("owner", "group", "mode") if k in values)
        before = {"owner": st.st_uid, "group": st.st_gid, "mode": "%04o" % stat.S_IMODE(st.st_mode)}
        after = {"owner": self.spec.get("owner"), "group": self.spec.get("group"), "mode": self.spec.get("mode")}
        return {"before_header": self.path + " (attributes)", "after_header": self.path + " (attributes)",
                "before": show({k: before[k] for k in todo}), "after": show({k: after[k] for k in todo})}

    def file(self, st):
        content = self.spec.get("content")
        if content is None:
            self.fail("a file needs content (template and src need the action plugin: call the module by its name)")
        want = to_bytes(content, errors="surrogate_or_strict")
        if st is not None and stat.S_ISDIR(st.st_mode):
            self.fail("is a directory")
        have = None
        if st is not None and stat.S_ISREG(st.st_mode):
            with open(self.path, "rb") as handle:
                have = handle.read()
        if have == want:
            todo = self.attributes(st)
            if not todo:
                return None
            self.apply_attributes(self.path, todo)
            return self.attribute_diff(st, todo)
        self.write(want, st)
        if self.spec["secret"]:
            before, after = ("" if have is None else HIDDEN), HIDDEN
        else:
            before = "" if have is None else to_text(have, errors="surrogate_or_replace")
            after = content
        return {"before_header": self.path, "after_header": self.path, "before": before, "after": after}

    def write(self, want, st):
        """Write `want` to a temporary file next to the path, validate it, rename it over."""
        if self.module.check_mode and not self.spec.get("validate"):
            return
        directory = os.path.dirname(self.path) or "/"
        if self.module.check_mode or not os.path.isdir(directory):
            if not self.module.check_mode:
                self.fail("directory %s does not exist" % directory)
            directory = None        # check mode: validate a copy in the temporary directory
        fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(self.path), dir=directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(want)
                handle.flush()
                os.fsync(handle.fileno())
            if self.spec.get("validate"):
                self.validate(tmp)
            if self.module.check_mode:
                return
            # a new file: the umask's mode, unless given; an existing one keeps its attributes
            if st is not None and stat.S_ISREG(st.st_mode):
                os.chmod(tmp, stat.S_IMODE(st.st_mode))
                os.lchown(tmp, st.st_uid, st.st_gid)
            else:
                umask = os.umask(0)
                os.umask(umask)
                os.chmod(tmp, 0o666 & ~umask)
            self.apply_attributes(tmp, self.attributes(os.lstat(tmp)))
            os.rename(tmp, self.path)
            tmp = None
        finally:
            if tmp is not None and os.path.exists(tmp):
                os.unlink(tmp)

    def validate(self, tmp):
        command = self.spec["validate"]
        if "%s" not in command:
            self.fail("validate must contain %%s: %s" % command)
        rc, out, err = self.module.run_command(command % tmp)
        if rc != 0:
            self.fail("validate (%s) refused the new content: %s" % (command, (err or out).strip()))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            files=dict(type="list", elements="dict", required=True, options=dict(
                path=dict(type="path", required=True),
                state=dict(type="str", choices=["file", "directory", "absent"], default="file"),
                content=dict(type="str"),
                template=dict(type="str"),
                src=dict(type="str"),
                vars=dict(type="dict", default={}),
                owner=dict(type="str"),
                group=dict(type="str"),
                mode=dict(type="str"),
                secret=dict(type="bool", default=False),
                validate=dict(type="str"),
            )),
        ),
        supports_check_mode=True,
    )
    changed_paths = []
    diffs = []
    for spec in module.params["files"]:
        if not os.path.isabs(spec["path"]):
            module.fail_json(msg="%s: the path must be absolute" % spec["path"], changed_paths=[])
        if spec.get("template") is not None or spec.get("src") is not None:
            module.fail_json(msg="%s: template and src are read by the action plugin; "
                                 "call the module as octavia.lbaas.config_files" % spec["path"], changed_paths=[])
        diff = Entry(module, spec).run()
        if diff is not None:
            changed_paths.append(spec["path"])
            diffs.append(diff)
    result = {"changed": bool(changed_paths), "changed_paths": changed_paths}
    if module._diff:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
