# Installing corebpf (`cmake --install build --prefix P`) and packaging it (`cpack -G DEB`):
#   bin/corebpf                               the CLI                        (component runtime)
#   lib/libcorebpf.so.0.1                     with COREBPF_BUILD_SHARED      (component runtime)
#   lib/libcorebpf.a, include/corebpf/        the library and its headers    (component dev)
#   lib/cmake/corebpf/                        find_package(corebpf): corebpf::corebpf (static),
#                                             corebpf::corebpf_shared, corebpf::cli, corebpf_add_bpf()
#   lib/pkgconfig/corebpf.pc                  pkg-config --cflags --libs --static corebpf
#   share/bash-completion/completions/corebpf the CLI's bash completion     (component runtime)
#   share/man/man8/corebpf*.8                 corebpf(8), corebpf-OBJECT(8)  (component runtime)
include(CMakePackageConfigHelpers)

set(COREBPF_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/corebpf)
set_target_properties(corebpf_cli PROPERTIES EXPORT_NAME cli)

install(TARGETS corebpf_cli EXPORT corebpfTargets RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)

# The bash completion and the man pages, written by the CLI from its own grammar (src/cli/cli_docs.cpp)
# whenever the CLI is rebuilt, so a new command is completed and documented without another edit.
set(COREBPF_CLI_DOCS ${PROJECT_BINARY_DIR}/share)
add_custom_command(
  OUTPUT ${COREBPF_CLI_DOCS}/bash-completion/completions/corebpf ${COREBPF_CLI_DOCS}/man/man8/corebpf.8
  COMMAND ${CMAKE_COMMAND} -E rm -rf ${COREBPF_CLI_DOCS}/man/man8
  COMMAND ${CMAKE_COMMAND} -E make_directory ${COREBPF_CLI_DOCS}/bash-completion/completions
  COMMAND sh -c "\"$1\" gen completion bash > \"$2\"" sh $<TARGET_FILE:corebpf_cli>
          ${COREBPF_CLI_DOCS}/bash-completion/completions/corebpf
  COMMAND corebpf_cli gen man ${COREBPF_CLI_DOCS}/man/man8 > /dev/null
  DEPENDS corebpf_cli
  COMMENT "Generating corebpf's bash completion and man pages"
  VERBATIM)
add_custom_target(corebpf_cli_docs ALL DEPENDS ${COREBPF_CLI_DOCS}/bash-completion/completions/corebpf
                                               ${COREBPF_CLI_DOCS}/man/man8/corebpf.8)
install(FILES ${COREBPF_CLI_DOCS}/bash-completion/completions/corebpf
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions COMPONENT runtime)
install(DIRECTORY ${COREBPF_CLI_DOCS}/man/man8 DESTINATION ${CMAKE_INSTALL_MANDIR} COMPONENT runtime)
install(TARGETS corebpf EXPORT corebpfTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev)
if(TARGET corebpf_shared)
  install(TARGETS corebpf_shared EXPORT corebpfTargets
          LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT dev)
endif()
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/corebpf DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev)
install(EXPORT corebpfTargets NAMESPACE corebpf:: DESTINATION ${COREBPF_CMAKE_DIR} COMPONENT dev)

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/corebpfConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/cmake/corebpfConfig.cmake INSTALL_DESTINATION ${COREBPF_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/cmake/corebpfConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/cmake/corebpfConfig.cmake ${PROJECT_BINARY_DIR}/cmake/corebpfConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/CorebpfBpf.cmake
        DESTINATION ${COREBPF_CMAKE_DIR} COMPONENT dev)

configure_file(${PROJECT_SOURCE_DIR}/cmake/corebpf.pc.in ${PROJECT_BINARY_DIR}/cmake/corebpf.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/cmake/corebpf.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)

# Debian packages: corebpf (the CLI, the shared library) and corebpf-dev (everything to build
# with corebpf, including what corebpf_add_bpf() runs: clang and libbpf's BPF headers).
set(CPACK_PACKAGE_NAME corebpf)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "C++20 eBPF CO-RE toolkit: loader, typed skeletons, bpftool-style CLI")
set(CPACK_PACKAGE_CONTACT "corebpf maintainers <corebpf@invalid>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_GENERATOR DEB)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL runtime dev)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME corebpf)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_DEV_PACKAGE_NAME corebpf-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS
    "corebpf (= ${PROJECT_VERSION}), libelf-dev, libfmt-dev, zlib1g-dev, libzstd-dev, liblz4-dev, liblzma-dev, clang, libbpf-dev, pkg-config")
include(CPack)
