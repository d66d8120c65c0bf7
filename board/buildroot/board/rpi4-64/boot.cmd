# hushbox, Raspberry Pi 4: A/B root selection with boot counting, as RAUC's
# U-Boot integration expects. RAUC on the box sets BOOT_ORDER ("A B" or
# "B A") and refills BOOT_x_LEFT when a slot is marked good; each boot spends
# one try of the first slot in BOOT_ORDER that has tries left, so a slot that
# never comes up is given up after three tries and the other one boots.

test -n "${BOOT_ORDER}" || setenv BOOT_ORDER "A B"
test -n "${BOOT_A_LEFT}" || setenv BOOT_A_LEFT 3
test -n "${BOOT_B_LEFT}" || setenv BOOT_B_LEFT 3

setenv hushbox_slot
for BOOT_SLOT in "${BOOT_ORDER}"; do
	if test -n "${hushbox_slot}"; then
		echo "hushbox: slot ${hushbox_slot} chosen"
	elif test "x${BOOT_SLOT}" = "xA"; then
		if test ${BOOT_A_LEFT} -gt 0; then
			setexpr BOOT_A_LEFT ${BOOT_A_LEFT} - 1
			setenv hushbox_slot A
			setenv hushbox_part 2
		fi
	elif test "x${BOOT_SLOT}" = "xB"; then
		if test ${BOOT_B_LEFT} -gt 0; then
			setexpr BOOT_B_LEFT ${BOOT_B_LEFT} - 1
			setenv hushbox_slot B
			setenv hushbox_part 3
		fi
	fi
done

if test -z "${hushbox_slot}"; then
	echo "hushbox: no slot has tries left; giving both three again"
	setenv BOOT_A_LEFT 3
	setenv BOOT_B_LEFT 3
	saveenv
	reset
fi

# The try is spent before the kernel runs: a hang costs it too.
saveenv
echo "hushbox: booting slot ${hushbox_slot} (A: ${BOOT_A_LEFT} left, B: ${BOOT_B_LEFT} left)"
setenv bootargs "root=/dev/mmcblk0p${hushbox_part} rootfstype=ext4 rootwait ro rauc.slot=${hushbox_slot} console=tty1 quiet"
load mmc 0:${hushbox_part} ${kernel_addr_r} boot/Image
booti ${kernel_addr_r} - ${fdt_addr}
echo "hushbox: slot ${hushbox_slot} did not start"
reset
