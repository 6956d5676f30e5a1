#!/bin/bash
# Installs the built library into a scratch prefix, then builds and runs a tiny
# outside program against the installed copy: once through pkg-config and once
# through CMake's find_package(focal), shared and static; then a program that
# uses only the losses, against libfocal_loss, which must not bring OpenBLAS,
# libspng, TurboJPEG, cJSON, zlib or oneDNN.
# Usage: install_consumer.sh BUILD_DIR
set -u
build=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
ok() { echo "ok: $1"; passed=$((passed + 1)); }
bad() { echo "FAILED: $1"; failed=$((failed + 1)); }

if cmake --install "$build" --prefix "$work/prefix" >"$work/install.log" 2>&1; then
    ok "cmake --install"
else
    cat "$work/install.log"; bad "cmake --install"
fi
pc=$(find "$work/prefix" -name focal.pc | head -1)
[ -n "$pc" ] && ok "focal.pc installed" || bad "focal.pc installed"
[ -f "$work/prefix/include/focal.h" ] && ok "focal.h installed" || bad "focal.h installed"
libdir=$(dirname "$(dirname "$pc")")

mkdir -p "$work/app"
cat >"$work/app/app.c" <<'C'
#include <stdio.h>
#include FOCAL_HEADER
int main(void)
{
    struct focal_loss l;
    focal_loss_init(&l, FOCAL_LOSS_SIGMOID_FOCAL);
    float x[2] = {0.0f, 0.0f}, y[2] = {1.0f, 0.0f}, g[2];
    double loss;
    if (focal_sigmoid_loss(&l, 1, 2, x, y, g, NULL, &loss) != FOCAL_OK) {
        fprintf(stderr, "%s\n", focal_last_error());
        return 1;
    }
    printf("%s %.6f %.6f\n", focal_version(), loss, g[0]);
    return 0;
}
C
# focal γ=2 at logit 0: loss 0.25·ln 2 per element; gradient −0.2982868 / 2 elements
want="0.1.0 0.173287 -0.149143"

export PKG_CONFIG_PATH="$libdir/pkgconfig"
if cc -std=c11 '-DFOCAL_HEADER=<focal.h>' "$work/app/app.c" -o "$work/app/app_pc" $(pkg-config --cflags --libs focal) 2>"$work/pc.log"; then
    got=$(LD_LIBRARY_PATH="$libdir" "$work/app/app_pc")
    [ "$got" = "$want" ] && ok "pkg-config build runs: $got" || bad "pkg-config build prints '$got', expected '$want'"
else
    cat "$work/pc.log"; bad "pkg-config build"
fi

cat >"$work/app/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.16)
project(focal_consumer C)
find_package(focal 0.1 REQUIRED)
add_executable(app_shared app.c)
target_link_libraries(app_shared PRIVATE focal::focal)
add_executable(app_static app.c)
target_link_libraries(app_static PRIVATE focal::focal_static)
add_executable(app_loss app.c)
target_link_libraries(app_loss PRIVATE focal::loss)
add_executable(app_loss_static app.c)
target_link_libraries(app_loss_static PRIVATE focal::loss_static)
target_compile_definitions(app_shared PRIVATE "FOCAL_HEADER=<focal.h>")
target_compile_definitions(app_static PRIVATE "FOCAL_HEADER=<focal.h>")
target_compile_definitions(app_loss PRIVATE "FOCAL_HEADER=<focal/loss.h>")
target_compile_definitions(app_loss_static PRIVATE "FOCAL_HEADER=<focal/loss.h>")
CM
if cmake -S "$work/app" -B "$work/app/build" -DCMAKE_PREFIX_PATH="$work/prefix" >"$work/cm.log" 2>&1 &&
   cmake --build "$work/app/build" >>"$work/cm.log" 2>&1; then
    ok "find_package(focal) build"
    for v in shared static loss loss_static; do
        got=$("$work/app/build/app_$v")
        [ "$got" = "$want" ] && ok "find_package $v runs: $got" || bad "find_package $v prints '$got', expected '$want'"
    done
else
    cat "$work/cm.log"; bad "find_package(focal) build"
fi

# The losses alone: pkg-config's focal-loss, and what each program and library needs at run time.
heavy='openblas|spng|turbojpeg|cjson|libz\.|dnnl'
if cc -std=c11 '-DFOCAL_HEADER=<focal/loss.h>' "$work/app/app.c" -o "$work/app/app_loss_pc" \
    $(pkg-config --cflags --libs focal-loss) 2>"$work/pcl.log"; then
    got=$(LD_LIBRARY_PATH="$libdir" "$work/app/app_loss_pc")
    [ "$got" = "$want" ] && ok "pkg-config focal-loss build runs: $got" || bad "focal-loss build prints '$got', expected '$want'"
else
    cat "$work/pcl.log"; bad "pkg-config focal-loss build"
fi
libs=$(pkg-config --libs focal | grep -o -- '-l[^ ]*' | tr '\n' ' ')
[ "$libs" = "-lfocal " ] && ok "pkg-config --libs focal links -lfocal alone" || bad "pkg-config --libs focal links '$libs'"
for f in "$work/app/app_loss_pc" "$work/app/build/app_loss" "$work/app/build/app_loss_static" \
         "$libdir/libfocal_loss.so" "$work/app/app_pc"; do
    needed=$(readelf -d "$f" 2>/dev/null | grep NEEDED | grep -E "$heavy" | sed 's/.*\[//; s/\]//' | tr '\n' ' ')
    [ -n "$(readelf -d "$f" 2>/dev/null | grep NEEDED)" ] || { bad "$(basename "$f"): readelf shows no NEEDED entries"; continue; }
    [ -z "$needed" ] && ok "$(basename "$f") needs none of OpenBLAS, libspng, TurboJPEG, cJSON, zlib, oneDNN" ||
        bad "$(basename "$f") needs $needed"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
