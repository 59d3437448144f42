#!/usr/bin/env bash
# Remove the cgroup directories a stopped container left behind (cgroup v1, podman's
# cgroupfs manager: /sys/fs/cgroup/<controller>/libpod_parent/libpod-<id>).
#
# Why: when a session ends, its processes are killed without `podman stop`; systemd,
# libvirt and QEMU inside the container had made child cgroups that nobody removes. The
# next `podman start` of the same container (same id, same path) then fails in runc with
#   failed to write "a *:* rwm": .../devices.allow: invalid argument
# because the kernel refuses to widen the device list of a cgroup that has children.
# A cgroup directory with no process in it can be removed with rmdir, children first.
# Prints the directories it removed; exits 0 when the container is running (nothing to do).
set -euo pipefail
name=$1
id=$(podman inspect --format '{{.Id}}' "$name" 2>/dev/null) || exit 0   # not created yet
state=$(podman inspect --format '{{.State.Status}}' "$name")
[ "$state" = running ] && exit 0
shopt -s nullglob
for top in /sys/fs/cgroup/*/libpod_parent/libpod-"$id" /sys/fs/cgroup/*/machine.slice/libpod-"$id".scope; do
  # -depth: children before their parent; a directory that still holds a process stays
  # (rmdir fails on it) and podman's own error then says so
  find "$top" -depth -type d -print0 | while IFS= read -r -d '' dir; do
    rmdir "$dir" 2>/dev/null && echo "$dir"
  done
done
exit 0
