# Cross-building the engine for the Raspberry Pi's CPU (aarch64) with
# Debian's g++-aarch64-linux-gnu, against Debian's arm64 libraries
# (multiarch: libasound2-dev:arm64, libsoxr-dev:arm64, libsndfile1-dev:arm64).
#   cmake -S native -B build/native-aarch64 -DCMAKE_TOOLCHAIN_FILE=native/cmake/aarch64-linux-gnu.cmake
# Code is tuned for the Pi 4's Cortex-A72 (as Buildroot's BR2_cortex_a72
# does); HUSHBOX_AARCH64_CPU picks another (cortex-a76 for the Pi 5).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

if(NOT HUSHBOX_AARCH64_CPU)
  set(HUSHBOX_AARCH64_CPU cortex-a72)
endif()
set(CMAKE_C_FLAGS_INIT "-mcpu=${HUSHBOX_AARCH64_CPU}")
set(CMAKE_CXX_FLAGS_INIT "-mcpu=${HUSHBOX_AARCH64_CPU}")

# Headers and libraries: the cross toolchain's sysroot, then Debian's arm64 multiarch folders.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu /usr/lib/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# pkg-config answers for the arm64 .pc files only, never the build machine's.
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "")

# ctest and try_run run aarch64 binaries under user-mode QEMU. With libc6:arm64
# (multiarch) beside the cross toolchain's libc, the loader would mix the two
# and fork() hangs in the child: /lib (QEMU maps it to the toolchain's) first.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64;-L;/usr/aarch64-linux-gnu;-E;LD_LIBRARY_PATH=/lib)
