#!/usr/bin/env bash
# Install Debian's Chromium (for the headless-browser map tests) and CJK fonts (so Chinese
# names render in screenshots and the static PNG). Needs root and apt-get; otherwise it
# says so and exits 0, and the browser tests skip with that reason.
set -u
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || need+=(fonts-noto-cjk)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "note: ${need[*]} not installed (needs root and apt-get); browser tests will be skipped"
  exit 0
fi
apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null \
  || echo "note: could not install ${need[*]}; browser tests will be skipped"
exit 0
