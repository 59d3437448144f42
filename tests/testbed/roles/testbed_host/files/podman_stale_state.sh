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
# intact. When some are dead and others alive (a session started one container by hand on
# a restored machine), the live ones are stopped first if they are all the test bed's own
# (label io.octavia-lbaas.testbed); a stranger's live container is never touched.
# Prints "clean", "reset" or an error (exit 1).
set -eu

conmon_alive() {
    [ "$1" -gt 0 ] 2>/dev/null || return 1
    [ "$(cat "/proc/$1/comm" 2>/dev/null)" = conmon ]
}

stale=""
alive=""
podman ps -a --format '{{.ID}} {{.State}}' > /tmp/.podman-states.$$ || {
    rm -f /tmp/.podman-states.$$; echo "podman ps failed" >&2; exit 1; }
while read -r id state; do
    case "$state" in
        Created|Exited*|Configured|created|exited|configured) continue ;;
    esac
    pid=$(podman inspect --format '{{.State.ConmonPid}}' "$id" 2>/dev/null || echo 0)
    if conmon_alive "$pid"; then alive="$alive $id"; else stale="$stale $id"; fi
done < /tmp/.podman-states.$$
rm -f /tmp/.podman-states.$$

if [ -z "$stale" ]; then
    echo clean
    exit 0
fi

# Some container still has a live monitor. Ours are stopped (a restart keeps their disks);
# anyone else's would be orphaned by wiping the runtime state: refuse.
for id in $alive; do
    if [ "$(podman inspect --format '{{index .Config.Labels "io.octavia-lbaas.testbed"}}' "$id" 2>/dev/null)" != 1 ]; then
        echo "containers$stale are recorded as running but are dead, while container $id" \
             "(not the test bed's) is alive; stop them all (podman stop -a) and retry" >&2
        exit 1
    fi
done
for id in $alive; do
    podman stop --time 20 "$id" >/dev/null
done
# a stopped container's conmon exits a moment after `podman stop` returns
conmon_running() {
    for comm in /proc/[0-9]*/comm; do
        [ "$(cat "$comm" 2>/dev/null)" = conmon ] && return 0
    done
    return 1
}
tries=0
while conmon_running; do
    tries=$((tries + 1))
    if [ "$tries" -gt 15 ]; then
        echo "containers$stale are recorded as running but are dead, and a container" \
             "monitor (conmon) is still alive${alive:+ after stopping$alive}; stop it and retry" >&2
        exit 1
    fi
    sleep 1
done

for ns in /run/netns/netns-*; do
    [ -e "$ns" ] || continue
    umount "$ns" 2>/dev/null || true
    rm -f "$ns"
done
rm -rf /run/libpod /run/containers/storage /run/containers/networks /run/runc \
       /dev/shm/libpod_lock
echo reset
