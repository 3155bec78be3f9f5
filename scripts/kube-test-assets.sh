#!/usr/bin/env bash
# Prints a directory holding kube-apiserver and etcd for the e2e suite (envtest style).
# Honours KUBEBUILDER_ASSETS; otherwise builds kube-apiserver once from Debian's
# `kubernetes` source package and caches it under ~/.cache/ferry/kube-assets.
set -euo pipefail

if [[ -n "${KUBEBUILDER_ASSETS:-}" && -x "${KUBEBUILDER_ASSETS}/kube-apiserver" ]]; then
  echo "$KUBEBUILDER_ASSETS"
  exit 0
fi

cache="${XDG_CACHE_HOME:-$HOME/.cache}/ferry/kube-assets"
sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi

need_apt_update=1
apt_install() {
  if [[ $need_apt_update -eq 1 ]]; then $sudo apt-get update -qq >&2; need_apt_update=0; fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >&2
}

if ! command -v etcd >/dev/null 2>&1; then apt_install etcd-server; fi
mkdir -p "$cache"
# One build at a time: a concurrent caller waits here, then finds the cached binary.
exec 9>"$cache/.build.lock"
flock 9
ln -sf "$(command -v etcd)" "$cache/etcd"

# Kubernetes 1.20 vendors modern-go/reflect2 1.0.1, which segfaults (mapiterinit) when built with
# Go >= 1.18 as Debian's is; the build swaps in Debian's reflect2 >= 1.0.2. The marker file tells a
# patched binary from one cached by an earlier version of this script.
marker="$cache/kube-apiserver.reflect2-fixed"
if [[ ! -x "$cache/kube-apiserver" || ! -f "$marker" ]]; then
  echo "building kube-apiserver from Debian's kubernetes source package (about 6 minutes, once)" >&2
  if ! grep -rqs '^Types: deb-src' /etc/apt/sources.list.d/ 2>/dev/null; then
    sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
      | $sudo tee /etc/apt/sources.list.d/debian-src.sources >/dev/null
    need_apt_update=1
  fi
  apt_install golang-go rsync jq dpkg-dev golang-github-modern-go-reflect2-dev
  work="$(mktemp -d /tmp/ferry-kube-build.XXXXXX)"
  (
    cd "$work"
    apt-get source -qq kubernetes >&2
    src="$(find . -maxdepth 1 -type d -name 'kubernetes-*' | head -n1)"
    cd "$src"
    reflect2=/usr/share/gocode/src/github.com/modern-go/reflect2
    if [[ -d vendor/github.com/modern-go/reflect2 && -f "$reflect2/go_above_118.go" ]]; then
      rm -rf vendor/github.com/modern-go/reflect2
      mkdir -p vendor/github.com/modern-go/reflect2
      # Same import path and API; -mod=vendor builds take the files as they are.
      find "$reflect2" -maxdepth 1 -type f \( -name '*.go' -o -name '*.s' \) ! -name '*_test.go' -exec cp {} vendor/github.com/modern-go/reflect2/ \;
    fi
    # The vendored tree builds offline; GOFLAGS keeps go from reaching the network.
    GOFLAGS=-mod=vendor GOPROXY=off make WHAT=cmd/kube-apiserver >&2
    cp "$(find _output -type f -name kube-apiserver | head -n1)" "$cache/kube-apiserver.tmp"
  )
  mv "$cache/kube-apiserver.tmp" "$cache/kube-apiserver"
  touch "$marker"
  rm -rf "$work"
fi

echo "$cache"
