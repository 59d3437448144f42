#!/bin/sh
# Clear podman's runtime state when it outlived the processes it describes.
#
# Podman keeps container states, network address leases, netns mounts and locks under
# /run and /dev/shm, which a real reboot empties. Machines restored from a snapshot keep
# those files but not the processes: podman then reports dead containers as running,
# refuses to start them ("container state improper", "ip address already allocated")
# and `podman exec` fails with "cannot exec in a stopped container". When no container
# process is alive at all, emptying that runtime state is exactly what a reboot would
# have done; podman then sees every container as created and starts it with its disk
# intact. Prints "clean", "reset" or an error (exit 1).
set -eu

conmon_alive() {
    [ "$1" -gt 0 ] 2>/dev/null || return 1
    [ "$(cat "/proc/$1/comm" 2>/dev/null)" = conmon ]
}

stale=""
podman ps -a --format '{{.ID}} {{.State}}' > /tmp/.podman-states.$$ || {
    rm -f /tmp/.podman-states.$$; echo "podman ps failed" >&2; exit 1; }
while read -r id state; do
    case "$state" in
        Created|Exited*|Configured|created|exited|configured) continue ;;
    esac
    pid=$(podman inspect --format '{{.State.ConmonPid}}' "$id" 2>/dev/null || echo 0)
    conmon_alive "$pid" || stale="$stale $id"
done < /tmp/.podman-states.$$
rm -f /tmp/.podman-states.$$

if [ -z "$stale" ]; then
    echo clean
    exit 0
fi

# Some container still has a live monitor: this is not a restored machine but a crashed
# container, and wiping the runtime state would orphan the live ones.
for comm in /proc/[0-9]*/comm; do
    if [ "$(cat "$comm" 2>/dev/null)" = conmon ]; then
        echo "containers$stale are recorded as running but are dead, while other" \
             "containers are alive; stop them all (podman stop -a) and retry" >&2
        exit 1
    fi
done

for ns in /run/netns/netns-*; do
    [ -e "$ns" ] || continue
    umount "$ns" 2>/dev/null || true
    rm -f "$ns"
done
rm -rf /run/libpod /run/containers/storage /run/containers/networks /run/runc \
       /dev/shm/libpod_lock
echo reset
