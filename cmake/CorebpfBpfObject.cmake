# Compiling the kernel side of BPF programs: used by the tests (tests/bpf), the examples and the
# benchmarks.
#
# corebpf_bpf_object(NAME SOURCE [VMLINUX] [CLANG compiler] [CFLAGS flags...])
#   Compiles SOURCE with `clang -g -O2 -target bpf -c` into ${CMAKE_CURRENT_BINARY_DIR}/NAME.bpf.o
#   and adds the target NAME_bpf (part of ALL) building it; the object's path is the target's
#   BPF_OBJECT property. Targets that read the object add_dependencies() on NAME_bpf.
#   VMLINUX: the source includes "vmlinux.h", made by our own CLI from the running kernel's BTF
#   (the way users make it), so CO-RE objects are compiled once against this kernel's layouts.
#   The default compiler is the newest clang found (ENUM64, signed enums and TYPE_MATCHES
#   relocations need clang >= 15); CLANG picks another, e.g. clang-14 for old-compiler output.
find_program(COREBPF_BPF_OBJECT_CLANG NAMES clang-16 clang-15 clang REQUIRED)

set(COREBPF_VMLINUX_H_DIR ${PROJECT_BINARY_DIR}/vmlinux)
add_custom_command(
  OUTPUT ${COREBPF_VMLINUX_H_DIR}/vmlinux.h
  COMMAND ${CMAKE_COMMAND} -E make_directory ${COREBPF_VMLINUX_H_DIR}
  COMMAND $<TARGET_FILE:corebpf_cli> btf dump file /sys/kernel/btf/vmlinux format c > ${COREBPF_VMLINUX_H_DIR}/vmlinux.h
  DEPENDS corebpf_cli
  COMMENT "Generating vmlinux.h from /sys/kernel/btf/vmlinux"
  VERBATIM)
add_custom_target(corebpf_vmlinux_h DEPENDS ${COREBPF_VMLINUX_H_DIR}/vmlinux.h)

function(corebpf_bpf_object name source)
  cmake_parse_arguments(ARG "VMLINUX" "CLANG" "CFLAGS" ${ARGN})
  set(compiler ${COREBPF_BPF_OBJECT_CLANG})
  if(ARG_CLANG)
    set(compiler ${ARG_CLANG})
  endif()
  get_filename_component(source_path ${source} ABSOLUTE)
  set(object ${CMAKE_CURRENT_BINARY_DIR}/${name}.bpf.o)
  # <linux/types.h> includes <asm/types.h>, which Debian keeps under the multiarch directory.
  set(include_flags -I/usr/include/${CMAKE_LIBRARY_ARCHITECTURE})
  set(extra_depends)
  if(ARG_VMLINUX)
    # vmlinux.h replaces the uapi headers, so the multiarch directory stays out.
    set(include_flags -I${COREBPF_VMLINUX_H_DIR})
    set(extra_depends ${COREBPF_VMLINUX_H_DIR}/vmlinux.h)
  endif()
  add_custom_command(
    OUTPUT ${object}
    COMMAND ${compiler} -g -O2 -target bpf -D__TARGET_ARCH_x86 ${include_flags} ${ARG_CFLAGS}
            -MD -MF ${object}.d -c ${source_path} -o ${object}
    DEPENDS ${source_path} ${extra_depends}
    DEPFILE ${object}.d
    COMMENT "Compiling BPF object ${name}.bpf.o"
    VERBATIM)
  add_custom_target(${name}_bpf ALL DEPENDS ${object})
  if(ARG_VMLINUX)
    add_dependencies(${name}_bpf corebpf_vmlinux_h)
  endif()
  set_target_properties(${name}_bpf PROPERTIES BPF_OBJECT ${object})
endfunction()
