#!/usr/bin/env python3
"""Generates the skeleton of every BPF object of the repository and compiles each one with every
C++ compiler given, -std=c++20 -Wall -Wextra -Wpedantic -Werror, from a file that uses the
generated class (so its members are instantiated, not only declared).

Objects the object model refuses to open (a test object with an unknown section) must fail to
generate with a message naming the object; everything else must generate and compile."""
import argparse
import concurrent.futures
import os
import re
import subprocess
import sys

USE = """#include "{header}"
#include <utility>
// Instantiate what a user touches: open, load, attach, detach, and the class's special members.
[[maybe_unused]] static void use_{name}() {{
  auto skel = {name}::Skeleton::open();
  auto moved = std::move(skel);
  skel = std::move(moved);
  skel.load();
  skel.attach();
  skel.detach();
  (void){name}::Skeleton::elf_bytes();
  (void)skel.object();
}}
"""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cli", required=True)
    parser.add_argument("--include", required=True)
    parser.add_argument("--objects", required=True, help="file listing the objects, one a line")
    parser.add_argument("--out", required=True)
    parser.add_argument("--compiler", action="append", default=[])
    parser.add_argument("--expect-refused", action="append", default=[], help="object file names")
    parser.add_argument("-j", type=int, default=2)
    args = parser.parse_args()
    if not args.compiler:
        print("no C++ compiler given (g++-12 and clang++-14 are expected)", file=sys.stderr)
        return 1
    os.makedirs(args.out, exist_ok=True)
    with open(args.objects) as f:
        objects = sorted({line.strip() for line in f if line.strip()})
    if len(objects) < 10:
        print(f"only {len(objects)} objects listed in {args.objects}", file=sys.stderr)
        return 1

    failures = []
    jobs = []
    for obj in objects:
        base = os.path.basename(obj)
        stem = base.split(".")[0]
        header = os.path.join(args.out, stem + ".skel.hpp")
        gen = subprocess.run([args.cli, "gen", "skeleton", obj], capture_output=True)
        if base in args.expect_refused:
            if gen.returncode == 0 or base.encode() not in gen.stderr:
                failures.append(f"{base}: expected an error naming the object, got rc {gen.returncode}: "
                                f"{gen.stderr.decode()}")
            continue
        if gen.returncode != 0:
            failures.append(f"{base}: gen skeleton failed: {gen.stderr.decode()}")
            continue
        with open(header, "wb") as f:
            f.write(gen.stdout)
        # As skeleton_name(): non-identifier characters become '_', a leading digit gets one.
        name = re.sub(r"[^A-Za-z0-9_]", "_", stem)
        if name[0].isdigit():
            name = "_" + name
        source = os.path.join(args.out, stem + ".use.cpp")
        with open(source, "w") as f:
            f.write(USE.format(header=os.path.basename(header), name=name))
        for compiler in args.compiler:
            jobs.append((base, compiler, source))

    def compile_one(job):
        base, compiler, source = job
        command = [compiler, "-std=c++20", "-Wall", "-Wextra", "-Wpedantic", "-Werror", "-fsyntax-only",
                   "-I", args.include, source]
        result = subprocess.run(command, capture_output=True, text=True)
        return job, result

    with concurrent.futures.ThreadPoolExecutor(max_workers=args.j) as pool:
        for (base, compiler, _), result in pool.map(compile_one, jobs):
            status = "ok" if result.returncode == 0 else "FAILED"
            print(f"{base}: {os.path.basename(compiler)} {status}")
            if result.returncode != 0:
                failures.append(f"{base}: {compiler}:\n{result.stderr[:4000]}")
    print(f"{len(objects)} objects, {len(jobs)} compilations, {len(failures)} failures")
    for failure in failures:
        print(failure, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
