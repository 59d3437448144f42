#!/usr/bin/env bash
# Builds the fake amphora image inside a throwaway container of the test bed's base image
# (run by the role testbed_fake_amphora; /build holds this script and the files below).
# What Octavia's amphora image has for the agent: haproxy, keepalived and ipvsadm from the
# distribution, the amphora-agent from the octavia package in its own venv, the
# amphora-haproxy network namespace at boot, and rsyslog listening on the agent's socket.
# Environment: PACKAGES (Debian), PIP_PACKAGES, installed from /wheelhouse only.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
read -r -a packages <<<"$PACKAGES"
read -r -a pip_packages <<<"$PIP_PACKAGES"

apt-get update -q
apt-get install -y -q --no-install-recommends "${packages[@]}"
python3 -m venv /opt/amphora-agent
/opt/amphora-agent/bin/pip install -q --no-cache-dir --no-index --find-links /wheelhouse \
    -c /build/constraints.txt "${pip_packages[@]}"
ln -sf /opt/amphora-agent/bin/amphora-agent /usr/local/bin/amphora-agent
ln -sf /opt/amphora-agent/bin/amphora-interface /usr/local/bin/amphora-interface

install -d -m 0755 /etc/octavia /etc/octavia/interfaces /var/lib/octavia /var/lib/octavia/certs
install -d -m 0700 /etc/octavia/certs
touch /var/lib/octavia/plugged_interfaces
install -m 0644 /build/amphora-agent.service /build/amphora-netns.service /etc/systemd/system/
install -m 0644 /build/10-octavia-agent.conf /etc/rsyslog.d/
systemctl enable amphora-netns.service amphora-agent.service rsyslog.service

apt-get clean
rm -rf /var/lib/apt/lists/* /root/.cache
echo "fake amphora image built: octavia $(/opt/amphora-agent/bin/pip show octavia | sed -n 's/^Version: //p')"
