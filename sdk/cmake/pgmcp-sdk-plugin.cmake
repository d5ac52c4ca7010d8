# pgmcp_add_plugin(NAME source...)
#
# Builds a pg-mcp plugin: a MODULE library named NAME.so, compiled against the
# SDK only, with hidden visibility, a linker version script that exports just
# pgmcp_plugin_entry, and -z defs so a missing symbol fails at link time rather
# than at load time. Install it with
#   install(TARGETS NAME LIBRARY DESTINATION ${PGMCP_PLUGIN_INSTALL_DIR})
include_guard(GLOBAL)

if(NOT DEFINED PGMCP_PLUGIN_INSTALL_DIR)
  set(PGMCP_PLUGIN_INSTALL_DIR "lib/pg-mcp/plugins")
endif()

function(pgmcp_add_plugin name)
  if(NOT ARGN)
    message(FATAL_ERROR "pgmcp_add_plugin(${name}): no sources given")
  endif()
  set(map "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/pgmcp-plugin.map")
  add_library(${name} MODULE ${ARGN})
  target_link_libraries(${name} PRIVATE pgmcp::sdk)
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    OUTPUT_NAME "${name}"
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LINK_DEPENDS "${map}")
  target_link_options(${name} PRIVATE "LINKER:--version-script=${map}" "LINKER:-z,defs")
endfunction()
