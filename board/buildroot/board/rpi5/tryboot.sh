#!/bin/sh
# RAUC custom bootloader backend for the Raspberry Pi 5's firmware tryboot
# (system.conf: bootloader=custom, bootloader-custom-backend).
#
# autoboot.txt on the config partition names the committed boot partition
# ([all] boot_partition: 2 = slot A, 3 = slot B) and the one a tryboot
# starts ([tryboot]). Making the other slot primary arms a tryboot for the
# next reboot (systemd passes /run/systemd/reboot-param, "0 tryboot", to the
# firmware); the firmware clears the flag as it uses it, so a slot that
# hangs or reboots before it is marked good gets exactly one try and the
# committed slot boots again. Marking the running slot good commits it.
#
#   tryboot.sh get-primary | get-current | get-state SLOT
#   tryboot.sh set-primary SLOT | set-state SLOT good|bad
set -eu

dt="${HUSHBOX_TRYBOOT_DT:-/proc/device-tree/chosen/bootloader}"
reboot_param="${HUSHBOX_TRYBOOT_REBOOT_PARAM:-/run/systemd/reboot-param}"
config_dev="${HUSHBOX_TRYBOOT_CONFIG_DEV:-/dev/disk/by-partlabel/config}"
config_dir="${HUSHBOX_TRYBOOT_CONFIG_DIR:-}"
cmdline_file="${HUSHBOX_TRYBOOT_CMDLINE:-/proc/cmdline}"

die() {
	echo "rauc-tryboot: $*" >&2
	exit 1
}
part_of() {
	case "$1" in
	A) echo 2 ;;
	B) echo 3 ;;
	*) die "unknown slot '$1' (expected A or B)" ;;
	esac
}
slot_of() {
	case "$1" in
	2) echo A ;;
	3) echo B ;;
	*) die "boot partition '$1' is neither slot A (2) nor slot B (3)" ;;
	esac
}
other() {
	if [ "$1" = A ]; then echo B; else echo A; fi
}

# The config partition is mounted only while autoboot.txt is read or written.
open_config() {
	[ -z "$config_dir" ] || return 0
	config_dir="$(mktemp -d /run/rauc-tryboot.XXXXXX)"
	mount -t vfat -o sync "$config_dev" "$config_dir" || die "cannot mount $config_dev"
	trap 'umount "$config_dir"; rmdir "$config_dir"' EXIT
}
section_value() {
	sed -n "/^\[$1\]/,/^\[/s/^boot_partition=//p" "$config_dir/autoboot.txt" | head -n 1
}
committed() {
	value="$(section_value all)"
	[ -n "$value" ] || die "autoboot.txt names no [all] boot_partition"
	echo "$value"
}
write_autoboot() {
	printf '[all]\ntryboot_a_b=1\nboot_partition=%s\n[tryboot]\nboot_partition=%s\n' "$1" "$2" \
		>"$config_dir/autoboot.txt.new"
	sync
	mv "$config_dir/autoboot.txt.new" "$config_dir/autoboot.txt"
	sync
}
tryboot_armed() {
	[ -f "$reboot_param" ] && grep -q tryboot "$reboot_param"
}
disarm() {
	if tryboot_armed; then rm -f "$reboot_param"; fi
}
current() {
	if [ -r "$dt/partition" ]; then
		slot_of "$(printf '%d' "0x$(od -An -tx1 "$dt/partition" | tr -d ' \n')")"
		return
	fi
	read -r cmdline <"$cmdline_file"
	for word in $cmdline; do
		case "$word" in rauc.slot=*)
			echo "${word#rauc.slot=}"
			return
			;;
		esac
	done
	die "cannot tell the running slot (no $dt/partition, no rauc.slot= on the command line)"
}

command="${1:-}"
case "$command" in
get-primary)
	open_config
	if tryboot_armed; then
		slot_of "$(section_value tryboot)"
	else
		slot_of "$(committed)"
	fi
	;;
set-primary)
	slot="${2:?set-primary SLOT}"
	part="$(part_of "$slot")"
	open_config
	if [ "$part" = "$(committed)" ]; then
		disarm
	else
		write_autoboot "$(committed)" "$part"
		mkdir -p "$(dirname "$reboot_param")"
		echo "0 tryboot" >"$reboot_param"
	fi
	;;
get-state)
	slot="${2:?get-state SLOT}"
	part="$(part_of "$slot")"
	open_config
	if [ "$part" = "$(committed)" ]; then echo good; else echo bad; fi
	;;
set-state)
	slot="${2:?set-state SLOT good|bad}"
	state="${3:?set-state SLOT good|bad}"
	part="$(part_of "$slot")"
	open_config
	case "$state" in
	good)
		if [ "$part" = "$(committed)" ]; then
			exit 0
		fi
		[ "$(current)" = "$slot" ] || die "slot $slot is not running: only the running slot can be marked good"
		write_autoboot "$part" "$(part_of "$(other "$slot")")"
		disarm
		;;
	bad)
		if [ "$part" = "$(committed)" ]; then
			write_autoboot "$(part_of "$(other "$slot")")" "$part"
		fi
		disarm
		;;
	*) die "unknown state '$state' (expected good or bad)" ;;
	esac
	;;
get-current)
	current
	;;
*)
	die "unknown command '$command' (get-primary, set-primary, get-state, set-state, get-current)"
	;;
esac
