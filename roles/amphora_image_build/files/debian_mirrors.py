"""Print, as JSON, the Debian mirror and security mirror this host's apt uses for a
suite: {"mirror": URI or "", "security": URI or ""}. Reads /etc/apt/sources.list,
/etc/apt/sources.list.d/*.list (one-line format) and *.sources (deb822).
Usage: python3 debian_mirrors.py SUITE"""

import glob
import json
import sys


def one_line_entries(path):
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            words = line.split("#", 1)[0].split()
            if len(words) < 3 or words[0] != "deb":
                continue
            if words[1].startswith("["):  # options: [arch=amd64 signed-by=...]
                while words and not words[1].endswith("]"):
                    words.pop(1)
                words.pop(1)
            if len(words) >= 3:
                yield words[1], [words[2]]


def deb822_entries(path):
    with open(path, encoding="utf-8") as handle:
        stanzas = handle.read().split("\n\n")
    for stanza in stanzas:
        fields = {}
        for line in stanza.splitlines():
            if line.startswith("#") or ":" not in line or line[:1].isspace():
                continue
            key, value = line.split(":", 1)
            fields[key.strip().lower()] = value.split()
        if "deb" not in fields.get("types", []) or fields.get("enabled", ["yes"])[0] == "no":
            continue
        for uri in fields.get("uris", []):
            yield uri, fields.get("suites", [])


def main(suite):
    entries = []
    paths = ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list"))
    for path in paths:
        try:
            entries += list(one_line_entries(path))
        except OSError:
            pass
    for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
        entries += list(deb822_entries(path))
    mirror = next((uri for uri, suites in entries if suite in suites), "")
    security = next((uri for uri, suites in entries if suite + "-security" in suites), "")
    json.dump({"mirror": mirror.rstrip("/"), "security": security.rstrip("/")}, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
