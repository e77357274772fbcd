#!/usr/bin/env bash
# The Debian package: `cpack -G DEB` in the build tree; its control data (name, section, maintainer,
# run-time dependencies from dpkg-shlibdeps plus openmpi-bin); unpacked with `dpkg -x` into a
# throw-away root (no system install), its rfmseg-gen and rfmseg run the demo on small data: the
# result passes `rfmseg verify` and is bit-identical to the build tree's.
# usage: see lib.sh
source "$(dirname "$0")/lib.sh"

for tool in cpack dpkg-deb dpkg-shlibdeps file; do
  if ! command -v "$tool" > /dev/null; then
    echo "SKIP: no $tool (Debian: apt-get install dpkg-dev file; scripts/test.sh does this)" >&2
    exit 77
  fi
done

build_tree_reference

step "cpack -G DEB"
if ! cpack -G DEB --config "$BUILD/CPackConfig.cmake" -B "$WORK/pkg" > "$WORK/cpack.log" 2>&1; then
  cat "$WORK/cpack.log" >&2
  fail "cpack -G DEB failed"
  finish
fi
debs=("$WORK"/pkg/*.deb)
if [[ ${#debs[@]} -ne 1 || ! -s ${debs[0]} ]]; then
  fail "cpack made no single .deb: ${debs[*]}"
  finish
fi
deb=${debs[0]}
pass "built $(basename "$deb") ($(du -k "$deb" | cut -f1) kB)"
field() { dpkg-deb -f "$deb" "$1"; }
[[ $(field Package) == rfmseg && $(field Version) == "$VERSION" && $(field Section) == science ]] \
  && pass "Package $(field Package), Version $(field Version), Section $(field Section), Maintainer $(field Maintainer)" \
  || fail "control: Package '$(field Package)', Version '$(field Version)', Section '$(field Section)'"
depends=$(field Depends)
missing=()
for dep in openmpi-bin libhdf5-openmpi libboost-program-options libopenmpi libc6 libstdc++6; do
  grep -q "$dep" <<< "$depends" || missing+=("$dep")
done
if ((${#missing[@]} == 0)); then pass "Depends: $depends"; else fail "Depends lacks ${missing[*]}: $depends"; fi
contents=$(dpkg-deb -c "$deb")
for f in ./usr/bin/rfmseg ./usr/bin/rfmseg-gen ./usr/share/rfmseg/jobs/segment.sbatch \
         "./usr/share/modulefiles/rfmseg/$VERSION.lua"; do
  grep -q " $f\$" <<< "$contents" || fail "the package lacks $f"
done
grep -q 'local root = "/usr"' < <(dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/share/modulefiles/rfmseg/$VERSION.lua") \
  && pass "the packaged modulefile's root is /usr" || fail "the packaged modulefile's root is not /usr"

step "dpkg -x into a throw-away root"
root=$WORK/root
dpkg -x "$deb" "$root"
check_installed_run deb "$root/usr/bin/rfmseg" "$root/usr/bin/rfmseg-gen" "$root/usr/share/rfmseg/configs/demo.ini"

finish
