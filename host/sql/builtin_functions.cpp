#include "sql/builtin_functions.hpp"

#include <algorithm>
#include <string>

namespace pgmcp::sql {

// Read from PostgreSQL 15's pg_proc, not from its flags alone: a STABLE or
// even IMMUTABLE-looking function can read files or run SQL text. Every name
// below was checked against the documentation of its function.
const std::vector<DeniedFunction> &builtin_denied_functions() {
  static const std::vector<DeniedFunction> list = [] {
    std::vector<DeniedFunction> d;
    auto add = [&](const char *why, std::initializer_list<const char *> names, bool prefix) {
      for (const char *n : names) d.push_back({n, prefix, why});
    };
    add("sleeps", {"pg_sleep", "pg_sleep_for", "pg_sleep_until"}, false);
    add("reads or lists files on the database server",
        {"pg_read_file", "pg_read_file_old", "pg_read_binary_file", "pg_stat_file",
         "pg_current_logfile"},
        false);
    add("reads or lists files on the database server", {"pg_ls_"}, true);
    add("reads or writes large objects", {"loread", "lowrite"}, false);
    add("reads or writes large objects", {"lo_"}, true);
    add("runs SQL passed as text",
        {"ts_stat", "ts_rewrite", "query_to_xml", "query_to_xmlschema", "cursor_to_xml",
         "cursor_to_xmlschema", "table_to_xml", "table_to_xmlschema", "schema_to_xml",
         "schema_to_xmlschema", "database_to_xml", "database_to_xmlschema"},
        false);
    add("runs SQL passed as text",
        {"query_to_xml_", "table_to_xml_", "schema_to_xml_", "database_to_xml_"}, true);
    add("signals other backends or controls the server",
        {"pg_cancel_backend", "pg_terminate_backend", "pg_reload_conf", "pg_rotate_logfile",
         "pg_rotate_logfile_old", "pg_log_backend_memory_contexts", "pg_promote", "pg_switch_wal",
         "pg_create_restore_point", "pg_backup_start", "pg_backup_stop", "pg_wal_replay_pause",
         "pg_wal_replay_resume", "pg_import_system_collations", "pg_export_snapshot", "pg_nextoid",
         "pg_extension_config_dump"},
        false);
    add("controls replication",
        {"pg_replication_slot_advance", "pg_drop_replication_slot", "pg_logical_emit_message",
         "pg_create_physical_replication_slot", "pg_create_logical_replication_slot",
         "pg_copy_physical_replication_slot", "pg_copy_logical_replication_slot"},
        false);
    add("controls replication", {"pg_replication_origin_", "pg_logical_slot_"}, true);
    add("changes settings", {"set_config"}, false);
    add("takes advisory locks that outlive the call", {"pg_advisory_", "pg_try_advisory_"}, true);
    add("sends notifications", {"pg_notify"}, false);
    add("advances a sequence outside the transaction", {"nextval", "setval"}, false);
    add("assigns a transaction id, which a rollback does not give back",
        {"txid_current", "pg_current_xact_id"}, false);
    add("exposes other sessions' queries", {"pg_stat_get_activity", "pg_stat_get_backend_activity"},
        false);
    add("resets statistics", {"pg_stat_reset"}, true);
    add("changes index storage permanently, even in a read-only transaction",
        {"brin_summarize_new_values", "brin_summarize_range", "brin_desummarize_range",
         "gin_clean_pending_list"},
        false);
    add("exposes the server's configuration files",
        {"pg_hba_file_rules", "pg_show_all_file_settings", "pg_ident_file_mappings", "pg_config"},
        false);
    add("is an internal upgrade function", {"binary_upgrade_"}, true);
    return d;
  }();
  return list;
}

const char *builtin_denied(std::string_view name) {
  for (const auto &e : builtin_denied_functions()) {
    std::string_view n(e.name);
    if (e.prefix ? name.substr(0, n.size()) == n : name == n) return e.why;
  }
  return nullptr;
}

bool builtin_known(std::string_view name) {
  static const char *const names[] = {
#include "sql/builtin_functions_pg15.inc"
  };
  return std::binary_search(std::begin(names), std::end(names), name,
                            [](std::string_view a, std::string_view b) { return a < b; });
}

const std::vector<DeniedCatalogColumn> &denied_catalog_columns() {
  static const char *const queries = "shows other sessions' query text";
  static const char *const values = "holds values sampled from tables";
  static const char *const secrets = "holds passwords or connection secrets";
  static const char *const files = "shows the server's configuration files";
  static const char *const settings =
      "holds per-database and per-role settings, where applications keep secrets";
  static const std::vector<DeniedCatalogColumn> list = {
      {"pg_stat_activity", "query", queries},
      {"pg_stat_statements", "query", queries},
      {"pg_stats", "most_common_vals", values},
      {"pg_stats", "histogram_bounds", values},
      {"pg_stats", "most_common_elems", values},
      {"pg_stats_ext", "most_common_vals", values},
      {"pg_stats_ext_exprs", "most_common_vals", values},
      {"pg_stats_ext_exprs", "histogram_bounds", values},
      {"pg_stats_ext_exprs", "most_common_elems", values},
      {"pg_statistic", "stavalues1", values},
      {"pg_statistic", "stavalues2", values},
      {"pg_statistic", "stavalues3", values},
      {"pg_statistic", "stavalues4", values},
      {"pg_statistic", "stavalues5", values},
      {"pg_statistic_ext_data", "stxdmcv", values},
      {"pg_statistic_ext_data", "stxdexpr", values},
      {"pg_largeobject", "data", "holds large objects' contents"},
      {"pg_authid", "rolpassword", secrets},
      {"pg_shadow", "passwd", secrets},
      {"pg_user_mapping", "umoptions", secrets},
      {"pg_user_mappings", "umoptions", secrets},
      {"_pg_user_mappings", "umoptions", secrets},
      {"user_mapping_options", "option_value", secrets},
      {"pg_subscription", "subconninfo", secrets},
      // ALTER DATABASE/ROLE ... SET: where applications keep keys and
      // tenant secrets in custom settings
      {"pg_db_role_setting", "setconfig", settings},
      {"pg_roles", "rolconfig", settings},
      {"pg_user", "useconfig", settings},
      {"pg_shadow", "useconfig", settings},
      {"pg_hba_file_rules", nullptr, files},
      {"pg_file_settings", nullptr, files},
      {"pg_ident_file_mappings", nullptr, files},
  };
  return list;
}

const char *secret_setting(std::string_view lower) {
  if (lower.find('.') != std::string_view::npos)
    return "is a custom setting, where applications keep keys and tenant secrets (set with "
           "ALTER DATABASE or ALTER ROLE ... SET)";
  static const char *const commands[] = {"primary_conninfo",        "ssl_passphrase_command",
                                         "archive_command",         "restore_command",
                                         "archive_cleanup_command", "recovery_end_command"};
  for (const char *c : commands)
    if (lower == c) return "can hold a password or credentials";
  return nullptr;
}

bool trusted_extension_view(std::string_view extension, std::string_view view) {
  return extension == "pg_stat_statements" &&
         (view == "pg_stat_statements" || view == "pg_stat_statements_info");
}

}  // namespace pgmcp::sql
