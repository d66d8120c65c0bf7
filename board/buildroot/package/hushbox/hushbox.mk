################################################################################
#
# hushbox
#
################################################################################

# Built from the repository this external tree lives in (board/buildroot/),
# so nothing is downloaded by Buildroot itself and no hash file applies; the
# npm packages are fetched by npm, checked against the integrity hashes in
# package-lock.json.
# The image's version (scripts/version.sh: $HUSHBOX_RELEASE_VERSION or git
# describe --dirty), the same the os-release stamp and the bundle carry.
HUSHBOX_VERSION = $(shell $(BR2_EXTERNAL_HUSHBOX_PATH)/scripts/version.sh)
HUSHBOX_SITE = $(BR2_EXTERNAL_HUSHBOX_PATH)/../..
HUSHBOX_SITE_METHOD = local
HUSHBOX_LICENSE = MIT
HUSHBOX_SUBDIR = native
# What a developer's checkout holds besides the sources: never copied in.
HUSHBOX_OVERRIDE_SRCDIR_RSYNC_EXCLUSIONS = \
	--exclude node_modules --exclude build --exclude dist
HUSHBOX_DEPENDENCIES = alsa-lib host-nodejs host-pkgconf libsndfile libsoxr nodejs

# npm runs on the build machine with Buildroot's Node.js; it must not
# run install scripts (nothing here needs one) and never builds for the host.
HUSHBOX_NPM = $(NPM) --no-audit --no-fund --ignore-scripts

# node-addon-api (a header-only dependency) must be present before CMake
# configures the addon.
define HUSHBOX_NPM_CI
	cd $(@D) && $(HUSHBOX_NPM) ci
endef
HUSHBOX_PRE_CONFIGURE_HOOKS += HUSHBOX_NPM_CI

# The addon is built by CMake against Buildroot's Node.js headers (not
# through cmake-js, which would fetch the host's); the tests stay off.
HUSHBOX_CONF_OPTS = \
	-DHUSHBOX_BUILD_TESTS=OFF \
	-DHUSHBOX_NODE_INCLUDE_DIR=$(STAGING_DIR)/usr/include/node \
	-DHUSHBOX_NODE_ADDON_API_DIR=$(@D)/node_modules/node-addon-api

# The engine's jack backend, when the image has JACK (jack2); without it the
# backend says it is missing.
ifeq ($(BR2_PACKAGE_JACK2),y)
HUSHBOX_DEPENDENCIES += jack2
HUSHBOX_CONF_OPTS += -DHUSHBOX_REQUIRE_JACK=ON
else
HUSHBOX_CONF_OPTS += -DHUSHBOX_REQUIRE_JACK=OFF
endif

define HUSHBOX_BUILD_SUPERVISOR
	cd $(@D) && $(HOST_DIR)/bin/node node_modules/typescript/bin/tsc \
		-p tsconfig.build.json
endef
HUSHBOX_POST_BUILD_HOOKS += HUSHBOX_BUILD_SUPERVISOR

HUSHBOX_APP_DIR = $(TARGET_DIR)/usr/lib/hushbox

# The supervisor finds its addon under build/native/Release and the engine
# as /usr/bin/hushbox-engine (src/paths.ts).
define HUSHBOX_INSTALL_TARGET_CMDS
	rm -rf $(HUSHBOX_APP_DIR)
	mkdir -p $(HUSHBOX_APP_DIR)/build/native/Release $(HUSHBOX_APP_DIR)/src/web
	cp -a $(@D)/bin $(@D)/dist $(@D)/package.json $(@D)/package-lock.json \
		$(HUSHBOX_APP_DIR)/
	cp -a $(@D)/src/web/public $(HUSHBOX_APP_DIR)/src/web/
	cd $(HUSHBOX_APP_DIR) && $(HUSHBOX_NPM) ci --omit=dev
	$(INSTALL) -D -m 0755 $(HUSHBOX_BUILDDIR)/Release/hushbox.node \
		$(HUSHBOX_APP_DIR)/build/native/Release/hushbox.node
	$(INSTALL) -D -m 0755 $(HUSHBOX_BUILDDIR)/hushbox-engine \
		$(TARGET_DIR)/usr/bin/hushbox-engine
	ln -sf ../lib/hushbox/bin/hushbox.js $(TARGET_DIR)/usr/bin/hushbox
	$(INSTALL) -D -m 0644 $(call qstrip,$(BR2_PACKAGE_HUSHBOX_RAUC_KEYRING)) \
		$(TARGET_DIR)/etc/rauc/keyring.pem
	$(INSTALL) -D -m 0644 $(HUSHBOX_RAUC_SYSTEM_CONF) \
		$(TARGET_DIR)/etc/rauc/system.conf
endef

HUSHBOX_RAUC_SYSTEM_CONF = $(HUSHBOX_SITE)/ota/system-$(strip \
	$(if $(BR2_PACKAGE_HUSHBOX_RAUC_RPI4),rpi4) \
	$(if $(BR2_PACKAGE_HUSHBOX_RAUC_RPI5),rpi5) \
	$(if $(BR2_PACKAGE_HUSHBOX_RAUC_X86_64),x86_64)).conf

# The unit itself comes from the shared rootfs/ overlay.
define HUSHBOX_INSTALL_INIT_SYSTEMD
	mkdir -p $(TARGET_DIR)/usr/lib/systemd/system-preset
	echo "enable hushbox.service" \
		> $(TARGET_DIR)/usr/lib/systemd/system-preset/50-hushbox.preset
endef

$(eval $(cmake-package))
