"""scripts/fatbin-prune.py on small hand-built ELF files: what it keeps, what it
zeroes, what it leaves alone and what it refuses. (On the real
libonnxruntime_providers_cuda.so of onnxruntime-gpu 1.31.1, NVIDIA's cuobjdump
lists the pruned file's cubins and they are byte-identical to the original's
sm_90a ones: docs/gpu.md.)"""

import importlib.util
import os
import struct

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("fatbin_prune", os.path.join(HERE, "..", "fatbin-prune.py"))
fp = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fp)


def entry(arch, payload_len, fill, kind=2):
    head = bytearray(64)
    struct.pack_into("<HHIQ", head, 0, kind, 0x101, 64, payload_len)
    struct.pack_into("<I", head, 28, arch)
    return bytes(head) + bytes([fill]) * payload_len


def container(*entries):
    body = b"".join(entries)
    return struct.pack("<IHHQ", fp.MAGIC, 1, 16, len(body)) + body


def elf(fatbin):
    """An ELF64 with sections: null, .nv_fatbin (holding `fatbin`), .shstrtab."""
    names = b"\0.nv_fatbin\0.shstrtab\0"
    fat_off = 64
    str_off = fat_off + len(fatbin)
    sh_off = (str_off + len(names) + 7) // 8 * 8
    head = bytearray(64)
    head[:7] = b"\x7fELF\x02\x01\x01"
    struct.pack_into("<Q", head, 0x28, sh_off)
    struct.pack_into("<HHH", head, 0x3A, 64, 3, 2)

    def sh(name, off, size):
        return struct.pack("<IIQQQQIIQQ", name, 1, 0, 0, off, size, 0, 0, 8, 0)

    pad = bytes(sh_off - str_off - len(names))
    return bytearray(bytes(head) + fatbin + names + pad + bytes(64) + sh(1, fat_off, len(fatbin)) + sh(11, str_off, len(names)))


def arches(data):
    start, size = fp.section(data, ".nv_fatbin")
    return [[e[3] for e in fp.entries(data, o + h, o + h + n)] for o, h, n in fp.containers(data, start, start + size)]


def test_only_the_wanted_architecture_stays_where_it_was_and_the_rest_is_zeroed():
    first = container(entry(75, 64, 0x75), entry(90, 128, 0x90), entry(120, 32, 0x12))
    only_new = container(entry(120, 64, 0x13))
    leading = container(entry(90, 48, 0x91), entry(80, 16, 0x80))
    data = elf(first + b"\0" * 8 + only_new + leading)
    before = bytes(data)
    stats = fp.prune(data, 90)
    assert len(data) == len(before)
    assert stats["containers"] == 3 and stats["pruned"] == 2 and stats["left"] == 1
    assert arches(data) == [[90], [120], [90]]
    fp.check(data, 90)
    # The kept entry moved to the front of its container, byte for byte.
    kept = entry(90, 128, 0x90)
    assert bytes(data[64 + 16:64 + 16 + len(kept)]) == kept
    # Everything after it up to the next container is zero.
    assert set(data[64 + 16 + len(kept):64 + len(first)]) == {0}
    # The container without sm_90 is unchanged, and nothing outside .nv_fatbin moved.
    at = 64 + len(first) + 8
    assert bytes(data[at:at + len(only_new)]) == only_new
    end = 64 + len(first) + 8 + len(only_new) + len(leading)
    assert bytes(data[end:]) == before[end:]


def test_a_library_without_the_architecture_is_refused(tmp_path, monkeypatch):
    src, out = tmp_path / "in.so", tmp_path / "out.so"
    src.write_bytes(elf(container(entry(80, 64, 1))))
    monkeypatch.setattr("sys.argv", ["fatbin-prune.py", str(src), str(out), "--arch", "90"])
    with pytest.raises(SystemExit, match="no sm_90 code"):
        fp.main()
    assert not out.exists()


def test_an_empty_misaligned_or_overrunning_entry_is_refused():
    bad = bytearray(container(entry(90, 64, 1)))
    struct.pack_into("<Q", bad, 16 + 8, 60)  # payload size not a multiple of 8
    with pytest.raises(SystemExit, match="8-aligned or overruns"):
        fp.prune(elf(bytes(bad)), 90)
    over = bytearray(container(entry(90, 64, 1)))
    struct.pack_into("<Q", over, 16 + 8, 4096)  # runs past its container
    with pytest.raises(SystemExit, match="8-aligned or overruns"):
        fp.prune(elf(bytes(over)), 90)
    empty = bytearray(container(entry(90, 64, 1)))
    struct.pack_into("<IQ", empty, 16 + 4, 0, 0)  # header and payload sizes 0: would never advance
    with pytest.raises(SystemExit, match="empty"):
        fp.prune(elf(bytes(empty)), 90)


def test_not_an_elf64_file_is_refused():
    with pytest.raises(SystemExit, match="not an ELF64"):
        fp.prune(bytearray(b"MZ" + bytes(100)), 90)
