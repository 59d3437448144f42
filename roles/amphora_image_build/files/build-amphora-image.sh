#!/usr/bin/env bash
# Builds a bootable Debian amphora disk image (qcow2) with debootstrap, as root, on the
# deploy host. Run by the role amphora_image_build; everything it needs arrives in the
# environment (below) and in $WORK, where it leaves:
#   amphora.qcow2      the image
#   octavia-version    the octavia version installed in the image's agent venv, as read
#                      back from the finished root file system
#   packages.txt       versions of the Debian packages that matter (kernel, haproxy, ...)
#   sdist.sha256       sha256 of the octavia sdist lvs-masquerade.sh was taken from
# Nothing is left mounted or attached when it exits, whether it succeeded or not.
#
# Environment:
#   WORK SUITE MIRROR SECURITY_MIRROR (empty: no security/updates sources) PACKAGES KERNEL
#   DISK_SIZE CMDLINE OCTAVIA_VERSION PIP_PACKAGES PIP_FIND_LINKS_DIR (empty: use the
#   index) PIP_INDEX_URL (empty: pip's default) SDIST (empty: download it) DEB_CACHE
#   CA_BUNDLE BUILD_KEY COMPRESS (true: zlib-compressed qcow2)
set -euo pipefail
umask 022
: "${WORK:?}" "${SUITE:?}" "${MIRROR:?}" "${PACKAGES:?}" "${KERNEL:?}" "${DISK_SIZE:?}"
: "${OCTAVIA_VERSION:?}" "${PIP_PACKAGES:?}" "${DEB_CACHE:?}" "${BUILD_KEY:?}"
SECURITY_MIRROR=${SECURITY_MIRROR:-} PIP_FIND_LINKS_DIR=${PIP_FIND_LINKS_DIR:-}
PIP_INDEX_URL=${PIP_INDEX_URL:-} SDIST=${SDIST:-} CMDLINE=${CMDLINE:-}
CA_BUNDLE=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
FILES=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

ROOT=$WORK/root
RAW=$WORK/disk.raw
VENV=/opt/amphora-agent
LOOP=""
T0=$SECONDS
step() { printf '[%4ds] %s\n' $((SECONDS - T0)) "$*"; }

cleanup() {
    set +e
    if mountpoint -q "$ROOT"; then
        umount -R "$ROOT" 2>/dev/null || umount -R -l "$ROOT"
    fi
    if [[ -n $LOOP ]]; then
        partx -d "$LOOP" 2>/dev/null
        losetup -d "$LOOP" 2>/dev/null
    fi
    return 0
}
trap cleanup EXIT

# A chroot with no trace of the host's environment (pip's find-links and constraints,
# proxies, locale): only what is set here.
in_root() {
    env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
        DEBIAN_FRONTEND=noninteractive "${CHROOT_ENV[@]}" chroot "$ROOT" "$@"
}
CHROOT_ENV=()

read -r -a packages <<<"$PACKAGES"
read -r -a pip_packages <<<"$PIP_PACKAGES"
mkdir -p "$ROOT" "$DEB_CACHE/debootstrap" "$DEB_CACHE/apt/partial"

# --- Disk: one bootable MBR partition (BIOS boot, as Nova/libvirt boot by default) --------
step "disk: $DISK_SIZE, msdos label, one ext4 partition"
truncate -s "$DISK_SIZE" "$RAW"
printf 'label: dos\nstart=2048, type=83, bootable\n' | sfdisk -q "$RAW"
LOOP=$(losetup --show -f -P "$RAW")
PART=${LOOP}p1
# The kernel makes the partition's device (a moment later without udev); a kernel without
# MBR support (CONFIG_MSDOS_PARTITION off, as on our build machines) gets it from partx.
for _ in $(seq 1 20); do [[ -b $PART ]] && break; sleep 0.1; done
[[ -b $PART ]] || partx -a "$LOOP"
for _ in $(seq 1 50); do [[ -b $PART ]] && break; sleep 0.1; done
[[ -b $PART ]] || { echo "partition device $PART did not appear" >&2; exit 1; }
mkfs.ext4 -q -L amphora-root -m 1 "$PART"
UUID=$(blkid -s UUID -o value "$PART")
mount "$PART" "$ROOT"

# --- Base system ------------------------------------------------------------------------
# Documentation, manuals and translations are never installed (copyright files stay).
mkdir -p "$ROOT/etc/dpkg/dpkg.cfg.d"
install -m 0644 "$FILES/dpkg-slim.cfg" "$ROOT/etc/dpkg/dpkg.cfg.d/90-amphora-slim"
step "debootstrap $SUITE (minbase)"
if ! debootstrap --variant=minbase --cache-dir="$DEB_CACHE/debootstrap" --components=main \
        "$SUITE" "$ROOT" "$MIRROR" >"$WORK/debootstrap.log" 2>&1; then
    echo "debootstrap failed; last lines of its log:" >&2
    tail -n 40 "$WORK/debootstrap.log" >&2
    exit 1
fi

{
    echo "deb $MIRROR $SUITE main"
    if [[ -n $SECURITY_MIRROR ]]; then
        echo "deb $MIRROR $SUITE-updates main"
        echo "deb $SECURITY_MIRROR $SUITE-security main"
    fi
} >"$ROOT/etc/apt/sources.list"
printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\nAcquire::Languages "none";\n' \
    >"$ROOT/etc/apt/apt.conf.d/90-amphora"
# No service starts inside the chroot.
printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
chmod 0755 "$ROOT/usr/sbin/policy-rc.d"

mount -t proc proc "$ROOT/proc"
mount -t sysfs sysfs "$ROOT/sys"
mount --bind /dev "$ROOT/dev"
mount --bind /dev/pts "$ROOT/dev/pts"
mount --bind "$DEB_CACHE/apt" "$ROOT/var/cache/apt/archives"

# grub-pc asks where to install itself; the script installs it below.
in_root debconf-set-selections <<'DEBCONF'
grub-pc grub-pc/install_devices multiselect
grub-pc grub-pc/install_devices_empty boolean true
DEBCONF
# No initramfs trigger per package: one run once the kernel is in.
step "apt: ${#packages[@]} packages and $KERNEL"
in_root apt-get update -q >"$WORK/apt.log" 2>&1 || { tail -n 40 "$WORK/apt.log" >&2; exit 1; }
if ! in_root apt-get install -y -q --no-install-recommends "${packages[@]}" "$KERNEL" \
        >>"$WORK/apt.log" 2>&1; then
    echo "apt-get install failed; last lines of its log:" >&2
    tail -n 40 "$WORK/apt.log" >&2
    exit 1
fi

# --- The amphora-agent in its own venv, pinned ---------------------------------------------
step "venv $VENV: ${pip_packages[*]}"
install -m 0644 "$WORK/constraints.txt" "$ROOT/root/constraints.txt"
pip_source=()
if [[ -n $PIP_FIND_LINKS_DIR ]]; then
    mkdir -p "$ROOT/mnt/wheels"
    mount --bind -o ro "$PIP_FIND_LINKS_DIR" "$ROOT/mnt/wheels"
    pip_source=(--no-index --find-links /mnt/wheels)
fi
# The index (for the agent without a wheelhouse, and for the sdist) is reached with the
# host's CA bundle, which the image does not keep.
install -m 0644 "$CA_BUNDLE" "$ROOT/root/build-ca.pem"
CHROOT_ENV=(PIP_CERT=/root/build-ca.pem SSL_CERT_FILE=/root/build-ca.pem
            REQUESTS_CA_BUNDLE=/root/build-ca.pem PIP_DISABLE_PIP_VERSION_CHECK=1
            PIP_NO_CACHE_DIR=1 PIP_DEFAULT_TIMEOUT=120 PIP_NO_INPUT=1)
[[ -n $PIP_INDEX_URL ]] && CHROOT_ENV+=(PIP_INDEX_URL="$PIP_INDEX_URL")
in_root python3 -m venv "$VENV"
if ! in_root "$VENV/bin/pip" install -q "${pip_source[@]}" -c /root/constraints.txt \
        "${pip_packages[@]}" >"$WORK/pip.log" 2>&1; then
    echo "pip install failed; last lines of its log:" >&2
    tail -n 40 "$WORK/pip.log" >&2
    exit 1
fi
for tool in amphora-agent amphora-interface amphora-health-checker haproxy-vrrp-check prometheus-proxy; do
    ln -sf "$VENV/bin/$tool" "$ROOT/usr/local/bin/$tool"
done

# lvs-masquerade.sh (UDP/SCTP listeners) ships only in octavia's sdist, not in the wheel.
step "lvs-masquerade.sh from the octavia $OCTAVIA_VERSION sdist"
mkdir -p "$ROOT/root/sdist"
if [[ -n $SDIST ]]; then
    install -m 0644 "$SDIST" "$ROOT/root/sdist/"
else
    in_root "$VENV/bin/pip" download -q --no-deps --no-binary :all: -d /root/sdist \
        "octavia==$OCTAVIA_VERSION" >>"$WORK/pip.log" 2>&1 \
        || { echo "could not download the octavia sdist:" >&2; tail -n 20 "$WORK/pip.log" >&2; exit 1; }
fi
sdist=$(find "$ROOT/root/sdist" -maxdepth 1 -name "octavia-$OCTAVIA_VERSION.tar.gz" -print -quit)
[[ -n $sdist ]] || { echo "no octavia-$OCTAVIA_VERSION.tar.gz sdist" >&2; exit 1; }
sha256sum "$sdist" | cut -d' ' -f1 >"$WORK/sdist.sha256"
tar -xzf "$sdist" -O "octavia-$OCTAVIA_VERSION/elements/amphora-agent/static/usr/local/bin/lvs-masquerade.sh" \
    >"$ROOT/usr/local/bin/lvs-masquerade.sh"
chmod 0755 "$ROOT/usr/local/bin/lvs-masquerade.sh"
[[ -s $ROOT/usr/local/bin/lvs-masquerade.sh ]] || { echo "lvs-masquerade.sh not found in $sdist" >&2; exit 1; }
rm -rf "$ROOT/root/sdist" "$ROOT/root/build-ca.pem" "$ROOT/root/constraints.txt"
CHROOT_ENV=()
if [[ -n $PIP_FIND_LINKS_DIR ]]; then umount "$ROOT/mnt/wheels"; rmdir "$ROOT/mnt/wheels"; fi

# --- What the agent expects on an amphora -------------------------------------------------
step "agent files, units, cloud-init, sysctl"
install -d -m 0755 "$ROOT/etc/octavia" "$ROOT/etc/octavia/interfaces" "$ROOT/var/lib/octavia" \
    "$ROOT/var/lib/octavia/certs" "$ROOT/var/lib/dhclient" "$ROOT/var/lib/haproxy"
install -d -m 0700 "$ROOT/etc/octavia/certs"
: >"$ROOT/var/lib/octavia/plugged_interfaces"
# haproxy -c is run with this file next to each listener's config (Debian: nogroup).
printf 'global\n    group nogroup\n' >"$ROOT/var/lib/octavia/haproxy-default-user-group.conf"
printf 'frontend check\n    mode tcp\n    bind 127.0.0.1:9\n' >"$ROOT/root/haproxy-check.cfg"
in_root haproxy -c -q -f /var/lib/octavia/haproxy-default-user-group.conf -f /root/haproxy-check.cfg \
    || { echo "haproxy rejects /var/lib/octavia/haproxy-default-user-group.conf" >&2; exit 1; }
rm -f "$ROOT/root/haproxy-check.cfg"
install -m 0644 "$FILES/amphora-agent.service" "$ROOT/etc/systemd/system/amphora-agent.service"
install -m 0644 "$FILES/10-octavia-agent.conf" "$ROOT/etc/rsyslog.d/10-octavia-agent.conf"
install -m 0644 "$FILES/90-amphora-sysctl.conf" "$ROOT/etc/sysctl.d/90-amphora.conf"
install -m 0644 "$FILES/90-amphora-cloud.cfg" "$ROOT/etc/cloud/cloud.cfg.d/90-amphora.cfg"
install -m 0755 "$FILES/dhclient-no-resolv-conf" "$ROOT/etc/dhcp/dhclient-enter-hooks.d/amphora-no-resolv-conf"
# The amphora-haproxy namespace unit is the agent's own (rendered by this octavia's code,
# exactly what the agent would write itself). It has no [Install] section: the agent's
# unit pulls it in (Wants=), so the namespace exists before the agent answers.
in_root "$VENV/bin/python" -c \
    'from octavia.amphorae.backends.agent.api_server import util; util.install_netns_systemd_service()'
# That unit's last step (amphora-interface up all) is a Python process that costs about as
# much CPU as the agent's own start; both start together at boot, and on one emulated vCPU
# the agent answered only when both had finished. It yields the CPU instead: the same
# commands run, at the lowest priority (a drop-in, which the agent's rewrites of the unit
# leave alone).
mkdir -p "$ROOT/etc/systemd/system/amphora-netns.service.d"
printf '# octavia.lbaas amphora_image_build: the agent starts first.\n[Service]\nNice=19\nCPUWeight=1\n' \
    >"$ROOT/etc/systemd/system/amphora-netns.service.d/50-yield-to-agent.conf"
in_root systemctl enable -q amphora-agent.service rsyslog.service
# No SSH server in the image: cloud-init has no host keys to make.
if [[ ! -x $ROOT/usr/sbin/sshd ]]; then
    printf '# No openssh-server in this image.\nssh_genkeytypes: []\nssh_deletekeys: false\n' \
        >"$ROOT/etc/cloud/cloud.cfg.d/91-amphora-no-ssh.cfg"
fi
# Nothing runs apt on an amphora: its timers stay off.
in_root systemctl mask -q apt-daily.timer apt-daily-upgrade.timer
# cloud-init's config and final stages stay off (90-amphora.cfg says what the two stages
# that run do): nothing in them is for an amphora, and each is a Python process that
# competed with the agent's start for the one emulated vCPU (tens of seconds under TCG).
in_root systemctl mask -q cloud-config.service cloud-final.service
# The listeners' haproxy and keepalived are units the agent writes; the distribution's
# own instances stay off.
in_root systemctl disable -q haproxy.service keepalived.service 2>/dev/null || true

# --- Boot: fstab, kernel command line, grub on the MBR -------------------------------------
step "grub (BIOS) on $LOOP, root UUID=$UUID"
printf 'UUID=%s / ext4 defaults,errors=remount-ro 0 1\n' "$UUID" >"$ROOT/etc/fstab"
echo amphora >"$ROOT/etc/hostname"
printf '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n' >"$ROOT/etc/hosts"
in_root grub-install --target=i386-pc --modules="part_msdos ext2" "$LOOP" >"$WORK/grub.log" 2>&1 \
    || { cat "$WORK/grub.log" >&2; exit 1; }
# grub.cfg is written here rather than by update-grub, which would name the build host's
# loop device as the root (no udev, so no /dev/disk/by-uuid for grub-mkconfig to find).
# /vmlinuz and /initrd.img are the links Debian's kernel package keeps to the newest kernel.
cat >"$ROOT/boot/grub/grub.cfg" <<GRUB
# Written by octavia.lbaas amphora_image_build (build $BUILD_KEY)
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
set timeout=0
insmod part_msdos
insmod ext2
search --no-floppy --fs-uuid --set=root $UUID
menuentry "Octavia amphora (Debian $SUITE)" {
    linux /vmlinuz root=UUID=$UUID ro $CMDLINE
    initrd /initrd.img
}
GRUB
[[ -e $ROOT/vmlinuz && -e $ROOT/initrd.img ]] || { echo "no /vmlinuz or /initrd.img in the image" >&2; exit 1; }

# --- Read back what was built ---------------------------------------------------------------
in_root "$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("octavia"))' \
    >"$WORK/octavia-version"
# shellcheck disable=SC2016 # dpkg-query's own format, not the shell's
in_root dpkg-query -W -f '${Package} ${Version}\n' "$KERNEL" haproxy keepalived cloud-init \
    ipvsadm iptables nftables isc-dhcp-client rsyslog systemd grub-pc python3 >"$WORK/packages.txt"
installed=$(cat "$WORK/octavia-version")
[[ $installed == "$OCTAVIA_VERSION" ]] || { echo "the image's venv has octavia $installed, not $OCTAVIA_VERSION" >&2; exit 1; }
printf 'OCTAVIA_VERSION=%s\nBUILD_KEY=%s\n' "$OCTAVIA_VERSION" "$BUILD_KEY" >"$ROOT/etc/octavia-amphora-image"

# --- Slim down, generalise ------------------------------------------------------------------
step "clean up and generalise"
umount "$ROOT/var/cache/apt/archives"
in_root apt-get clean
rm -f "$ROOT/usr/sbin/policy-rc.d"
rm -rf "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/cache/apt/*.bin "$ROOT"/var/cache/debconf/*-old \
    "$ROOT"/var/lib/dpkg/*-old "$ROOT"/root/.cache "$ROOT"/tmp/* "$ROOT"/var/tmp/*
find "$ROOT/usr/share/doc" -mindepth 1 ! -name copyright ! -type d -delete 2>/dev/null || true
find "$ROOT/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
rm -rf "$ROOT"/usr/share/man/* "$ROOT"/usr/share/info/* "$ROOT"/usr/share/lintian
find "$ROOT/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} + 2>/dev/null || true
find "$ROOT/var/log" -type f -delete
# Every amphora gets its own identity on first boot (machine-id, SSH host keys if any).
: >"$ROOT/etc/machine-id"
rm -f "$ROOT/var/lib/dbus/machine-id" "$ROOT"/etc/ssh/ssh_host_*
in_root cloud-init clean --logs >/dev/null 2>&1 || true

step "unmount, trim, convert to qcow2"
umount "$ROOT/dev/pts" "$ROOT/dev" "$ROOT/sys" "$ROOT/proc"
# Blocks of deleted files (package lists, downloads) would otherwise travel in the image:
# zero the free space so that qemu-img leaves it out.
dd if=/dev/zero of="$ROOT/zero.fill" bs=4M status=none 2>/dev/null || true
rm -f "$ROOT/zero.fill"
umount "$ROOT"
e2fsck -fy "$PART" >/dev/null 2>&1 || [[ $? -le 1 ]]
partx -d "$LOOP" 2>/dev/null || true
losetup -d "$LOOP"
LOOP=""
compress=()
[[ ${COMPRESS:-true} == true ]] && compress=(-c)
qemu-img convert "${compress[@]}" -O qcow2 "$RAW" "$WORK/amphora.qcow2"
rm -f "$RAW"
step "done: $(du -m "$WORK/amphora.qcow2" | cut -f1) MiB, octavia $installed"
