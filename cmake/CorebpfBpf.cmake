# Compiling the kernel side of BPF programs and generating their C++ skeletons: installed with
# corebpf (lib/cmake/corebpf, loaded by find_package(corebpf)) and used by this repository's own
# tests, examples and benchmarks (one mechanism).
#
# corebpf_add_bpf(TARGET SOURCES x.bpf.c... [VMLINUX file.h | BTF file]
#                 [INCLUDE_DIRECTORIES dirs...] [COMPILE_DEFINITIONS defs...] [TYPES type...]
#                 [BTF_ARCHIVE dir-or-file...])
#   Compiles each x.bpf.c with `clang -g -O2 -target bpf -D__TARGET_ARCH_<arch>` into
#   ${CMAKE_CURRENT_BINARY_DIR}/x.bpf.o, generates x.skel.hpp next to it with
#   `corebpf gen skeleton`, and defines TARGET as an INTERFACE library carrying that directory:
#   target_link_libraries(app PRIVATE TARGET corebpf::corebpf) and `#include "x.skel.hpp"`.
#   Rebuilt when a source or a header it includes changes. The sources may include "vmlinux.h":
#   by default made once per build tree from the running kernel's BTF (/sys/kernel/btf/vmlinux),
#   from the BTF file given with BTF, or the header given with VMLINUX. TYPES: more types for the
#   skeletons (`gen skeleton ... type T`), such as a ring buffer's record; each object must have them.
#   BTF_ARCHIVE: kernels' BTF (archive directories, or <release>.btf files) whose parts the
#   objects' CO-RE relocations need are embedded in the skeletons, for kernels without BTF.
#
# corebpf_bpf_object(NAME SOURCE [VMLINUX] [SKELETON] [CLANG compiler] [CFLAGS flags...])
#   This repository's test objects: compiles SOURCE into ${CMAKE_CURRENT_BINARY_DIR}/NAME.bpf.o
#   (the same compile step) and adds the target NAME_bpf whose BPF_OBJECT property is the path.
#   SKELETON: also NAME.skel.hpp and the INTERFACE target NAME_skel carrying it, as corebpf_add_bpf.
#   CLANG picks another compiler (clang-14 for old-compiler output), CFLAGS adds flags.
#
# The default compiler is the newest clang found (ENUM64, signed enums and TYPE_MATCHES
# relocations need clang >= 15); set COREBPF_BPF_OBJECT_CLANG to choose another.
include_guard(GLOBAL)

find_program(COREBPF_BPF_OBJECT_CLANG NAMES clang-16 clang-15 clang REQUIRED)

# The corebpf CLI: this build's when corebpf is being built, the installed one otherwise.
if(TARGET corebpf_cli)
  set(_corebpf_cli corebpf_cli)
else()
  set(_corebpf_cli corebpf::cli)
endif()

if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|i.86)$")
  set(_corebpf_bpf_arch x86)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
  set(_corebpf_bpf_arch arm64)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^arm")
  set(_corebpf_bpf_arch arm)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(ppc64|ppc64le|powerpc64)")
  set(_corebpf_bpf_arch powerpc)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^s390")
  set(_corebpf_bpf_arch s390)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^riscv")
  set(_corebpf_bpf_arch riscv)
else()
  set(_corebpf_bpf_arch ${CMAKE_SYSTEM_PROCESSOR})
endif()

# vmlinux.h of the running kernel, once per build tree (the target is global).
set(COREBPF_VMLINUX_H_DIR ${CMAKE_BINARY_DIR}/corebpf-vmlinux)
if(NOT TARGET corebpf_vmlinux_h)
  add_custom_command(
    OUTPUT ${COREBPF_VMLINUX_H_DIR}/vmlinux.h
    COMMAND ${CMAKE_COMMAND} -E make_directory ${COREBPF_VMLINUX_H_DIR}
    COMMAND ${_corebpf_cli} btf dump file /sys/kernel/btf/vmlinux format c > ${COREBPF_VMLINUX_H_DIR}/vmlinux.h
    DEPENDS ${_corebpf_cli}
    COMMENT "Generating vmlinux.h from /sys/kernel/btf/vmlinux"
    VERBATIM)
  add_custom_target(corebpf_vmlinux_h DEPENDS ${COREBPF_VMLINUX_H_DIR}/vmlinux.h)
endif()

# Compiles `source` into `object`; `vmlinux_dir` holds the vmlinux.h it may include.
function(_corebpf_compile_bpf object source compiler vmlinux_dir vmlinux_depends)
  cmake_parse_arguments(ARG "" "" "FLAGS" ${ARGN})
  get_filename_component(source_path ${source} ABSOLUTE)
  # <linux/types.h> includes <asm/types.h>, which Debian keeps under the multiarch directory
  # (searched last: the BPF target has no multiarch directory of its own).
  set(include_flags -I${vmlinux_dir})
  if(CMAKE_LIBRARY_ARCHITECTURE)
    list(APPEND include_flags -idirafter /usr/include/${CMAKE_LIBRARY_ARCHITECTURE})
  endif()
  get_filename_component(object_name ${object} NAME)
  add_custom_command(
    OUTPUT ${object}
    COMMAND ${compiler} -g -O2 -target bpf -D__TARGET_ARCH_${_corebpf_bpf_arch} ${include_flags} ${ARG_FLAGS}
            -MD -MF ${object}.d -c ${source_path} -o ${object}
    DEPENDS ${source_path} ${vmlinux_depends}
    DEPFILE ${object}.d
    COMMENT "Compiling BPF object ${object_name}"
    VERBATIM)
endfunction()

# Generates `header` from `object`; the other arguments go to `gen skeleton` (type T...).
function(_corebpf_skeleton object header)
  get_filename_component(header_name ${header} NAME)
  add_custom_command(
    OUTPUT ${header}
    COMMAND ${_corebpf_cli} gen skeleton ${object} ${ARGN} > ${header}.tmp
    COMMAND ${CMAKE_COMMAND} -E rename ${header}.tmp ${header}
    DEPENDS ${object} ${_corebpf_cli} ${_corebpf_skeleton_depends}
    COMMENT "Generating skeleton ${header_name}"
    VERBATIM)
endfunction()

function(corebpf_add_bpf target)
  cmake_parse_arguments(ARG "" "VMLINUX;BTF;CLANG" "SOURCES;INCLUDE_DIRECTORIES;COMPILE_DEFINITIONS;CFLAGS;TYPES;BTF_ARCHIVE"
                        ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "corebpf_add_bpf(${target}): no SOURCES")
  endif()
  if(ARG_VMLINUX AND ARG_BTF)
    message(FATAL_ERROR "corebpf_add_bpf(${target}): VMLINUX and BTF exclude each other")
  endif()
  set(compiler ${COREBPF_BPF_OBJECT_CLANG})
  if(ARG_CLANG)
    set(compiler ${ARG_CLANG})
  endif()
  set(output_dir ${CMAKE_CURRENT_BINARY_DIR})
  # Where "vmlinux.h" comes from.
  set(vmlinux_dir ${COREBPF_VMLINUX_H_DIR})
  set(vmlinux_depends ${COREBPF_VMLINUX_H_DIR}/vmlinux.h)
  set(vmlinux_target corebpf_vmlinux_h)
  if(ARG_VMLINUX OR ARG_BTF)
    set(vmlinux_dir ${output_dir}/${target}-vmlinux)
    set(vmlinux_depends ${vmlinux_dir}/vmlinux.h)
    set(vmlinux_target)
    if(ARG_VMLINUX)
      get_filename_component(given ${ARG_VMLINUX} ABSOLUTE)
      add_custom_command(OUTPUT ${vmlinux_dir}/vmlinux.h
                         COMMAND ${CMAKE_COMMAND} -E make_directory ${vmlinux_dir}
                         COMMAND ${CMAKE_COMMAND} -E copy ${given} ${vmlinux_dir}/vmlinux.h
                         DEPENDS ${given} VERBATIM)
    else()
      get_filename_component(given ${ARG_BTF} ABSOLUTE)
      add_custom_command(OUTPUT ${vmlinux_dir}/vmlinux.h
                         COMMAND ${CMAKE_COMMAND} -E make_directory ${vmlinux_dir}
                         COMMAND ${_corebpf_cli} btf dump file ${given} format c > ${vmlinux_dir}/vmlinux.h
                         DEPENDS ${given} ${_corebpf_cli}
                         COMMENT "Generating vmlinux.h from ${ARG_BTF}" VERBATIM)
    endif()
  endif()
  set(flags ${ARG_CFLAGS})
  foreach(dir IN LISTS ARG_INCLUDE_DIRECTORIES)
    get_filename_component(dir ${dir} ABSOLUTE)
    list(APPEND flags -I${dir})
  endforeach()
  foreach(definition IN LISTS ARG_COMPILE_DEFINITIONS)
    list(APPEND flags -D${definition})
  endforeach()
  set(type_args)
  foreach(type IN LISTS ARG_TYPES)
    list(APPEND type_args type ${type})
  endforeach()
  # Read by _corebpf_skeleton: an archive given as a file is a dependency of the skeletons.
  set(_corebpf_skeleton_depends)
  foreach(archive IN LISTS ARG_BTF_ARCHIVE)
    get_filename_component(archive ${archive} ABSOLUTE)
    list(APPEND type_args btf_archive ${archive})
    if(NOT IS_DIRECTORY ${archive})
      list(APPEND _corebpf_skeleton_depends ${archive})
    endif()
  endforeach()
  set(outputs)
  set(objects)
  foreach(source IN LISTS ARG_SOURCES)
    get_filename_component(file_name ${source} NAME)
    string(REGEX REPLACE "\\.bpf\\.c$|\\.c$" "" stem ${file_name})
    set(object ${output_dir}/${stem}.bpf.o)
    set(header ${output_dir}/${stem}.skel.hpp)
    _corebpf_compile_bpf(${object} ${source} ${compiler} ${vmlinux_dir} "${vmlinux_depends}" FLAGS ${flags})
    _corebpf_skeleton(${object} ${header} ${type_args})
    list(APPEND outputs ${object} ${header})
    list(APPEND objects ${object})
    set_property(GLOBAL APPEND PROPERTY COREBPF_BPF_OBJECTS ${object})
  endforeach()
  add_custom_target(${target}_gen ALL DEPENDS ${outputs})
  if(vmlinux_target)
    add_dependencies(${target}_gen ${vmlinux_target})
  endif()
  set_target_properties(${target}_gen PROPERTIES BPF_OBJECTS "${objects}")
  add_library(${target} INTERFACE)
  target_include_directories(${target} INTERFACE ${output_dir})
  add_dependencies(${target} ${target}_gen)
endfunction()

function(corebpf_bpf_object name source)
  cmake_parse_arguments(ARG "VMLINUX;SKELETON" "CLANG" "CFLAGS" ${ARGN})
  set(compiler ${COREBPF_BPF_OBJECT_CLANG})
  if(ARG_CLANG)
    set(compiler ${ARG_CLANG})
  endif()
  set(object ${CMAKE_CURRENT_BINARY_DIR}/${name}.bpf.o)
  set(vmlinux_depends)
  if(ARG_VMLINUX)
    set(vmlinux_depends ${COREBPF_VMLINUX_H_DIR}/vmlinux.h)
  endif()
  _corebpf_compile_bpf(${object} ${source} ${compiler} ${COREBPF_VMLINUX_H_DIR} "${vmlinux_depends}" FLAGS ${ARG_CFLAGS})
  add_custom_target(${name}_bpf ALL DEPENDS ${object})
  if(ARG_VMLINUX)
    add_dependencies(${name}_bpf corebpf_vmlinux_h)
  endif()
  set_target_properties(${name}_bpf PROPERTIES BPF_OBJECT ${object})
  if(ARG_SKELETON)
    set(header ${CMAKE_CURRENT_BINARY_DIR}/${name}.skel.hpp)
    _corebpf_skeleton(${object} ${header})
    add_custom_target(${name}_skel_gen ALL DEPENDS ${header})
    add_library(${name}_skel INTERFACE)
    target_include_directories(${name}_skel INTERFACE ${CMAKE_CURRENT_BINARY_DIR})
    add_dependencies(${name}_skel ${name}_skel_gen)
  endif()
  # Every object of the repository, for the test that generates and compiles their skeletons.
  set_property(GLOBAL APPEND PROPERTY COREBPF_BPF_OBJECTS ${object})
  set_property(GLOBAL APPEND PROPERTY COREBPF_BPF_OBJECT_TARGETS ${name}_bpf)
endfunction()
