# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""A value as oslo.config reads it back: `$` is oslo.config's interpolation (``$name``
or ``${name}`` is replaced by another option's value), so a literal one is written
``$$``; a line break would end the value and start a new option (a password could then
inject ``[DEFAULT] debug = true`` or worse), so it is refused."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError


def oslo_value(value, name="value"):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if "\n" in text or "\r" in text:
        raise AnsibleFilterError("oslo_value: %s has a line break, which would start a new option in the "
                                 "configuration file; it cannot be written there" % name)
    return text.replace("$", "$$")


class FilterModule:
    def filters(self):
        return {"oslo_value": oslo_value}
