# dcn-builder's tests (included from tests/CMakeLists.txt). Sources under tests/builder/.
if(NOT TARGET PkgConfig::CMOCKA)
  pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)
endif()
set(DCN_BUILDER_TESTS ${CMAKE_CURRENT_LIST_DIR}/builder)
get_filename_component(DCN_SOURCE_ROOT ${CMAKE_CURRENT_LIST_DIR}/.. ABSOLUTE)

# Unit: the definition parser (pure, no libostree).
add_executable(test_builder_definition ${DCN_BUILDER_TESTS}/test_definition.c)
target_link_libraries(test_builder_definition PRIVATE builder-definition PkgConfig::CMOCKA)
target_compile_definitions(test_builder_definition PRIVATE DCN_EXAMPLE="${DCN_SOURCE_ROOT}/builder/examples/dcn-edge.yaml")
add_test(NAME unit_builder_definition COMMAND test_builder_definition)

# Unit: the kickstart (builder/kickstart/): which values may go into it,
# the commands of a text, the CA file's certificates, the rendered text.
add_executable(test_builder_kickstart ${DCN_BUILDER_TESTS}/test_kickstart.c)
target_link_libraries(test_builder_kickstart PRIVATE builder-core PkgConfig::CMOCKA)
add_test(NAME unit_builder_kickstart COMMAND test_builder_kickstart)

# Unit: summary.sig lists (merging the signatures of two summaries, builder/publish/sigfile.c).
add_executable(test_builder_sigfile ${DCN_BUILDER_TESTS}/test_sigfile.c)
target_link_libraries(test_builder_sigfile PRIVATE builder-core PkgConfig::CMOCKA)
add_test(NAME unit_builder_sigfile COMMAND test_builder_sigfile)

# Unit: what provision renders (VirtualMachine, Secret, cloud-init, libvirt
# domain) and the blueprint compose/weldr pushes, parsed back and checked.
add_executable(test_build_vm_render ${DCN_BUILDER_TESTS}/test_build_vm_render.c)
target_link_libraries(test_build_vm_render PRIVATE builder-core PkgConfig::CMOCKA)
target_compile_definitions(test_build_vm_render PRIVATE DCN_TEMPLATES="${DCN_SOURCE_ROOT}/manifests/build-vm")
add_test(NAME unit_build_vm_render COMMAND test_build_vm_render)
set_tests_properties(unit_build_vm_render PROPERTIES ENVIRONMENT "ASAN_OPTIONS=detect_leaks=0")

# Unit: the pure parsers of package and push (ldd output, WWW-Authenticate).
add_executable(test_builder_package_push_parsers ${DCN_BUILDER_TESTS}/test_package_push_parsers.c)
target_link_libraries(test_builder_package_push_parsers PRIVATE builder-core PkgConfig::CMOCKA)
add_test(NAME unit_builder_package_push_parsers COMMAND test_builder_package_push_parsers)

# Unit: the one libcurl setup (builder/util/http.c): the size-capped body
# sink and its error, alone and through deploy's /-/status fetch.
add_executable(test_builder_http ${DCN_BUILDER_TESTS}/test_http.c)
target_link_libraries(test_builder_http PRIVATE builder-core PkgConfig::CMOCKA)
add_test(NAME unit_builder_http COMMAND test_builder_http)

# Unit: the pure parts of iso (boot entry edits, kernel argument checks,
# the offline kickstart).
add_executable(test_builder_iso_units ${DCN_BUILDER_TESTS}/test_iso_units.c)
target_link_libraries(test_builder_iso_units PRIVATE builder-core PkgConfig::CMOCKA)
add_test(NAME unit_builder_iso COMMAND test_builder_iso_units)

# Unit: the one-run-at-a-time lock (util/lock) of publish/rollback/prune and package.
add_executable(test_builder_lock ${DCN_BUILDER_TESTS}/test_lock.c)
target_link_libraries(test_builder_lock PRIVATE builder-core PkgConfig::CMOCKA)
add_test(NAME unit_builder_lock COMMAND test_builder_lock)

# Unit: writing a whole buffer (util/fdio) through short writes and EINTR.
add_executable(test_builder_fdio ${DCN_BUILDER_TESTS}/test_fdio.c)
target_link_libraries(test_builder_fdio PRIVATE builder-core PkgConfig::CMOCKA)
add_test(NAME unit_builder_fdio COMMAND test_builder_fdio)

# Unit: progress lines (formats, rate, ETA, when they print, the tty line)
# with an injected clock, and the reading of libostree's delta output.
add_executable(test_builder_progress ${DCN_BUILDER_TESTS}/test_progress.c)
target_link_libraries(test_builder_progress PRIVATE builder-core PkgConfig::CMOCKA)
add_test(NAME unit_builder_progress COMMAND test_builder_progress)

# Unit: what a registry, a composer and a cluster send back, in the shapes
# the fuzz targets found trouble with (tests/fuzz/), and the tarball limits.
add_executable(test_builder_hostile_inputs ${DCN_BUILDER_TESTS}/test_hostile_inputs.c)
target_link_libraries(test_builder_hostile_inputs PRIVATE builder-core PkgConfig::CMOCKA)
add_test(NAME unit_builder_hostile_inputs COMMAND test_builder_hostile_inputs)

# Link: builder-core defines every symbol it uses (the tests above link
# only the objects they pull in). The test builds a program holding every
# object of the library; an undefined symbol fails that link.
add_executable(test_builder_core_links EXCLUDE_FROM_ALL ${DCN_BUILDER_TESTS}/test_core_links.c)
target_link_libraries(test_builder_core_links PRIVATE -Wl,--whole-archive builder-core builder-definition
                      -Wl,--no-whole-archive)
add_test(NAME unit_builder_core_links
         COMMAND ${CMAKE_COMMAND} --build ${CMAKE_BINARY_DIR} --target test_builder_core_links)

# Integration: shell scripts driving dcn-builder, the ostree CLI as the
# client, and dcn-hoster as the server (skipped, 77, in a build without it).
# ASAN_OPTIONS=detect_leaks=0: GLib/libostree keep process-lifetime
# allocations (type system, gpgme, thread pools) that LeakSanitizer reports
# at exit; the builder's own cleanup is g_autoptr throughout.
file(GLOB DCN_BUILDER_INTEGRATION CONFIGURE_DEPENDS ${DCN_BUILDER_TESTS}/test_*.sh)
foreach(script ${DCN_BUILDER_INTEGRATION})
  get_filename_component(tname ${script} NAME_WE)
  string(REGEX REPLACE "^test_" "" tname ${tname})
  set(env "DCN_BUILDER=$<TARGET_FILE:dcn-builder>;DCN_SOURCE_DIR=${DCN_SOURCE_ROOT};DCN_BUILD_DIR=${CMAKE_BINARY_DIR};ASAN_OPTIONS=detect_leaks=0")
  if(TARGET dcn-hoster)
    list(APPEND env "DCN_HOSTER=$<TARGET_FILE:dcn-hoster>")
  endif()
  add_test(NAME builder_${tname} COMMAND bash ${script})
  # 77: the test's tools are not installed (see scripts/deps/test.txt)
  set_tests_properties(builder_${tname} PROPERTIES ENVIRONMENT "${env}" TIMEOUT 600 LABELS "integration;builder"
                       SKIP_RETURN_CODE 77)
endforeach()
# Ten signed publishes under four looping clients, and a publish killed at
# fifteen random points: a few hundred process starts each, which took 56-73 s
# on one CI machine and timed out at 600 s on another whose kernel makes fork
# dear (405 s alone once the tests ran Debian's python3, 243-273 s in CI).
set_tests_properties(builder_publish_under_load_no_failed_pulls builder_publish_sigkill_at_random_points
                     PROPERTIES TIMEOUT 1500)
# The real VM (test_libvirt_real_vm.sh): installs scripts/deps/vm.txt, builds
# the guest image once into ${CMAKE_BINARY_DIR}/vm-cache (about 2 min), boots
# it under software emulation (about 3 min with a cached image). Alone: one
# VM at a time on 2 cores, and other tests would slow it past its timeouts.
set_tests_properties(builder_libvirt_real_vm PROPERTIES TIMEOUT 1200 RUN_SERIAL TRUE LABELS "integration;builder;vm")

# Rollout (tests/rollout/): deploy/undo against a fake kubectl, the manifests'
# structural check, the drain behind a load-balancing proxy, the playbooks.
add_executable(test_deploy_units ${CMAKE_CURRENT_LIST_DIR}/rollout/test_deploy_units.c)
target_link_libraries(test_deploy_units PRIVATE builder-core PkgConfig::CMOCKA)
add_test(NAME unit_deploy COMMAND test_deploy_units)
set_tests_properties(unit_deploy PROPERTIES ENVIRONMENT "ASAN_OPTIONS=detect_leaks=0" LABELS "rollout")
file(GLOB DCN_ROLLOUT_TESTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/rollout/test_*.sh)
foreach(script ${DCN_ROLLOUT_TESTS})
  get_filename_component(tname ${script} NAME_WE)
  string(REGEX REPLACE "^test_" "" tname ${tname})
  set(env "DCN_BUILDER=$<TARGET_FILE:dcn-builder>;DCN_SOURCE_DIR=${DCN_SOURCE_ROOT};ASAN_OPTIONS=detect_leaks=0")
  if(TARGET dcn-hoster)
    list(APPEND env "DCN_HOSTER=$<TARGET_FILE:dcn-hoster>")
  endif()
  add_test(NAME rollout_${tname} COMMAND bash ${script})
  set_tests_properties(rollout_${tname} PROPERTIES ENVIRONMENT "${env}" TIMEOUT 900 SKIP_RETURN_CODE 77
                       LABELS "integration;rollout")
endforeach()

# The documentation (tests/docs/): every dcn-builder/dcn-hoster command in
# README.md and docs/*.md uses stages and flags that exist, every YAML block
# parses and its image definitions pass dcn-builder's own parser; the
# operator guide's definitions run --dry-run for its first and next version
# against the fake kubectl (label docs).
file(GLOB DCN_DOCS_TESTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/docs/test_*.sh)
foreach(script ${DCN_DOCS_TESTS})
  get_filename_component(tname ${script} NAME_WE)
  string(REGEX REPLACE "^test_" "" tname ${tname})
  set(env "DCN_BUILDER=$<TARGET_FILE:dcn-builder>;DCN_SOURCE_DIR=${DCN_SOURCE_ROOT};ASAN_OPTIONS=detect_leaks=0")
  if(TARGET dcn-hoster)
    list(APPEND env "DCN_HOSTER=$<TARGET_FILE:dcn-hoster>")
  endif()
  add_test(NAME docs_${tname} COMMAND bash ${script})
  set_tests_properties(docs_${tname} PROPERTIES ENVIRONMENT "${env}" TIMEOUT 300 SKIP_RETURN_CODE 77
                       LABELS "integration;docs")
endforeach()
