#!/usr/bin/env python3
"""Keep one GPU architecture's kernels in a CUDA shared library.

Usage: scripts/fatbin-prune.py IN OUT [--arch 90]

Used by scripts/gpu-pack.sh. The device machine that runs the CUDA check
(scripts/gpu-check.sh) reaches no package registry and takes at most 64 MiB per
call, and onnxruntime-gpu's libonnxruntime_providers_cuda.so is 284 MB, most of
it machine code (SASS) for sm_75, 80, 86, 89, 90 and 120. A GPU runs only SASS
of its own major architecture (an H100/H200 is sm_90) and the library carries no
PTX, so every other architecture's code is dead weight on that machine.

The library's `.nv_fatbin` section is a run of fatbin containers, each
referenced by its start address from `.nvFatBinSegment`:

  container: u32 magic 0xBA55ED50, u16 version, u16 header size, u64 size of
             the entries that follow
  entry:     u16 kind (2 = ELF cubin, 1 = PTX), u16 version, u32 header size,
             u64 payload size, ..., u32 arch at byte 28 (75, 80, 90, ...)

In every container that holds an entry of the wanted architecture, the other
entries are dropped: the kept ones move to the front, the container's size is
set to theirs, and the freed bytes become zeros (so the file keeps its size and
every address, and compresses to what is kept). Containers without such an entry
are left as they are: on that GPU they were unusable before and stay so. Nothing
else in the file changes. The result is what the CUDA runtime would have picked
from the original on that GPU.
"""
import argparse
import struct
import sys

MAGIC = 0xBA55ED50


def section(data, wanted):
    """(offset, size) of the ELF64 section named `wanted`."""
    if data[:4] != b"\x7fELF" or data[4] != 2:
        sys.exit("fatbin-prune: not an ELF64 file")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    heads = [struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize) for i in range(shnum)]
    strtab = heads[shstrndx][4]
    for name, _, _, _, off, size in heads:
        end = data.index(b"\0", strtab + name)
        if data[strtab + name:end].decode() == wanted:
            return off, size
    sys.exit(f"fatbin-prune: no {wanted} section")


def entries(data, start, end):
    """[(offset, length, kind, arch)] of the entries between start and end."""
    out, p = [], start
    while p < end:
        kind, _, hsize, psize = struct.unpack_from("<HHIQ", data, p)
        arch, = struct.unpack_from("<I", data, p + 28)
        if hsize == 0 or hsize % 8 or psize % 8 or p + hsize + psize > end:
            sys.exit(f"fatbin-prune: entry at {p:#x} is empty, not 8-aligned or overruns its container")
        out.append((p, hsize + psize, kind, arch))
        p += hsize + psize
    return out


def containers(data, start, end):
    """Yield (offset, header size, entries size) of each container in the section."""
    o = start
    while o + 16 <= end:
        magic, _, hsize, size = struct.unpack_from("<IHHQ", data, o)
        if magic != MAGIC:
            o += 8  # padding between containers
            continue
        yield o, hsize, size
        o += hsize + size


def prune(data, arch):
    """Prune `data` (a bytearray) in place; return counts for the report."""
    start, size = section(data, ".nv_fatbin")
    end = start + size
    stats = {"containers": 0, "pruned": 0, "left": 0, "kept_bytes": 0, "dropped_bytes": 0}
    for o, hsize, csize in list(containers(data, start, end)):
        stats["containers"] += 1
        body = o + hsize
        ents = entries(data, body, body + csize)
        keep = [e for e in ents if e[3] == arch]
        if not keep:
            stats["left"] += 1
            continue
        kept = b"".join(bytes(data[p:p + n]) for p, n, _, _ in keep)
        data[body:body + len(kept)] = kept
        data[body + len(kept):body + csize] = bytes(csize - len(kept))
        struct.pack_into("<Q", data, o + 8, len(kept))
        stats["pruned"] += 1
        stats["kept_bytes"] += len(kept)
        stats["dropped_bytes"] += csize - len(kept)
    return stats


def check(data, arch):
    """Every container that has an entry of `arch` has only such entries."""
    start, size = section(data, ".nv_fatbin")
    for o, hsize, csize in containers(data, start, start + size):
        archs = {e[3] for e in entries(data, o + hsize, o + hsize + csize)}
        if arch in archs and archs != {arch}:
            sys.exit(f"fatbin-prune: container at {o:#x} still holds {sorted(archs)}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--arch", type=int, default=90, help="SASS architecture to keep (90 = H100/H200)")
    args = ap.parse_args()
    data = bytearray(open(args.input, "rb").read())
    stats = prune(data, args.arch)
    if stats["pruned"] == 0:
        sys.exit(f"fatbin-prune: no sm_{args.arch} code in {args.input}")
    check(data, args.arch)
    with open(args.output, "wb") as f:
        f.write(data)
    mib = 1 << 20
    print(f"fatbin-prune: sm_{args.arch}: {stats['pruned']} of {stats['containers']} containers pruned "
          f"({stats['left']} without sm_{args.arch} left as they were); kept {stats['kept_bytes'] / mib:.1f} MiB, "
          f"zeroed {stats['dropped_bytes'] / mib:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
