#!/usr/bin/env python3
"""Writes a BPF C file with thousands of distinct CO-RE relocations over real kernel structs, for
measuring relocation speed (each relocation is a different field, so no result is reused).

Usage: many_relocations.py CORE_BPF_CLI BTF STRUCTS FIELDS > many.bpf.c
  then: clang-16 -g -O2 -target bpf -I<dir of vmlinux.h> -c many.bpf.c -o many.bpf.o
Reads `CORE_BPF_CLI btf dump file BTF` (raw format); picks STRUCTS uniquely named structs with at
least 6 named non-bitfield members and emits, per struct, one program with FIELDS
bpf_core_field_offset() relocations plus a field_exists and a type_size.
"""
import re
import subprocess
import sys

cli, btf, struct_count, field_count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
raw = subprocess.run([cli, "btf", "dump", "file", btf], capture_output=True, text=True, check=True).stdout
structs, current = {}, None
for line in raw.splitlines():
    if line.startswith("["):
        m = re.match(r"\[(\d+)\] (\w+) '([^']*)'", line)
        current = {"kind": m[2], "name": m[3], "members": []} if m[2] == "STRUCT" else None
        if current and current["name"] != "(anon)":
            structs.setdefault(current["name"], []).append(current)
    elif current is not None and line.startswith("\t'"):
        m = re.match(r"\t'([^']*)' type_id=\d+ bits_offset=\d+( bitfield_size=\d+)?", line)
        if m and m[1] != "(anon)" and not m[2]:
            current["members"].append(m[1])
chosen = [v[0] for k, v in sorted(structs.items()) if len(v) == 1 and len(v[0]["members"]) >= 6][:struct_count]
print('#include "vmlinux.h"\n#include <bpf/bpf_helpers.h>\n#include <bpf/bpf_core_read.h>')
count = 0
for i, s in enumerate(chosen):
    members = s["members"][:field_count]
    print(f'SEC("raw_tp/x") int p{i}(void *ctx) {{\n  struct {s["name"]} *p = (void *)((__u64 *)ctx)[0];\n  long r = 0;')
    for m in members:
        print(f"  r += bpf_core_field_offset(p->{m});")
    print(f"  r += bpf_core_field_exists(p->{members[0]});\n  r += bpf_core_type_size(struct {s['name']});")
    print("  return r;\n}")
    count += len(members) + 2
print('char LICENSE[] SEC("license") = "GPL";')
print(f"{count} relocations over {len(chosen)} structs", file=sys.stderr)
