#!/usr/bin/env bash
# Rebuilds sensor.bpf.o from sensor.bpf.c. The object is committed so that
# `cargo build` needs no clang; run this after editing the C source and commit
# both. Needs clang, libbpf headers and bpftool (installed with apt if missing)
# and the running kernel's BTF for vmlinux.h.
set -euo pipefail
cd "$(dirname "$0")"

need=()
command -v clang >/dev/null || need+=(clang llvm)
[ -f /usr/include/bpf/bpf_helpers.h ] || need+=(libbpf-dev)
command -v bpftool >/dev/null || need+=(bpftool)
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}"
fi

# vmlinux.h is generated, not committed: CO-RE relocations make the object
# portable across kernels with BTF, whichever kernel the header came from.
bpftool btf dump file /sys/kernel/btf/vmlinux format c > vmlinux.h

arch_inc=/usr/include/$(uname -m)-linux-gnu
clang -O2 -g -target bpf -D__TARGET_ARCH_x86 -I. -I"$arch_inc" \
    -Wall -Wno-unused-function -c sensor.bpf.c -o sensor.bpf.o
# Keep the BTF (needed for CO-RE and tp_btf) but drop DWARF to keep the
# committed object small.
llvm-strip -g sensor.bpf.o 2>/dev/null || llvm-strip --strip-debug sensor.bpf.o
ls -l sensor.bpf.o
