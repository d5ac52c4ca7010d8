// Builds schema-cache catalogs by hand for the tests, fuzzers and benchmarks
// of the SQL policy, which need the catalog's facts without a database.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "db/schema.hpp"

namespace pgmcp::testing {

// The facts of a small catalog: app.users (id, email, password), app.secrets
// and its inheritance child, app.staff with dropped columns, a view, a
// foreign and a TOAST table, pg_stat_activity; built-in and user functions,
// an operator, an aggregate and a domain over user functions.
// OIDs of the facts below.
constexpr uint32_t kUsers = 16400, kSecrets = 16410, kSecretsChild = 16411, kStaff = 16420,
                   kUserView = 16430, kActivity = 12222, kForeign = 16440, kToast = 16450;
constexpr uint32_t kNow = 1299, kSleep = 2626, kActivityFn = 2022, kUnknownBuiltin = 9999,
                   kUserFn = 16500, kUserFn2 = 16501, kUserAgg = 16502, kUserOp = 16600,
                   kSortedOp = 16601, kDomain = 16700, kCurrentSetting = 2077, kBaseType = 16720,
                   kBaseArray = 16721;

inline std::shared_ptr<pgmcp::db::Catalog> policy_catalog() {
  auto c = std::make_shared<pgmcp::db::Catalog>();
  c->loaded_at = std::chrono::steady_clock::now();
  auto &f = c->facts;
  auto rel = [&](uint32_t oid, std::string schema, std::string name, char kind,
                 std::vector<std::string> cols, bool builtin = false) {
    pgmcp::db::PolicyFacts::Rel r;
    r.schema = std::move(schema);
    r.name = std::move(name);
    r.kind = kind;
    r.builtin = builtin;
    r.columns = std::move(cols);
    f.relations[oid] = std::move(r);
  };
  rel(kUsers, "app", "users", 'r', {"id", "email", "password"});
  rel(kSecrets, "app", "secrets", 'r', {"id", "value"});
  rel(kSecretsChild, "app", "secrets_archive", 'r', {"id", "value", "archived_at"});
  f.relations[kSecretsChild].parents = {kSecrets};
  f.relations[kSecrets].children = {kSecretsChild};
  // dropped columns at attnums 2 and 4
  rel(kStaff, "app", "staff", 'r', {"id", "", "name", "", "salary", "ssn"});
  rel(kUserView, "app", "user_logins", 'v', {"id", "pw"});
  rel(kForeign, "app", "remote", 'f', {"id"});
  rel(kToast, "pg_toast", "pg_toast_2619", 't', {});
  std::vector<std::string> activity(22, "x");
  activity[16] = "state";  // attnum 17
  activity[20] = "query";  // attnum 21
  rel(kActivity, "pg_catalog", "pg_stat_activity", 'v', activity, true);
  auto fn = [&](uint32_t oid, std::string schema, std::string name, bool builtin) {
    f.functions[oid] = {std::move(schema), std::move(name), "", builtin};
  };
  fn(kNow, "pg_catalog", "now", true);
  fn(kSleep, "pg_catalog", "pg_sleep", true);
  fn(kActivityFn, "pg_catalog", "pg_stat_get_activity", true);
  fn(kUnknownBuiltin, "pg_catalog", "pg_something_new", true);
  fn(kCurrentSetting, "pg_catalog", "current_setting", true);
  fn(kUserFn, "app", "f", false);
  fn(kUserFn2, "app", "g", false);
  fn(kUserAgg, "app", "agg", false);
  f.operator_function[kUserOp] = kUserFn2;
  // an operator over a built-in function whose btree class compares with app.f
  f.operator_function[kSortedOp] = kNow;
  f.operator_support[kSortedOp] = {kUserFn};
  f.aggregate_functions[kUserAgg] = {kUserFn2};
  f.type_functions[kDomain] = {kUserFn};
  f.type_types[kDomain] = {23};
  // a type whose I/O is built in but whose default btree class compares with
  // app.g, and an array of it
  f.type_functions[kBaseType] = {};
  f.type_compare[kBaseType] = {kUserFn2};
  f.type_functions[kBaseArray] = {};
  f.type_types[kBaseArray] = {kBaseType};
  return c;
}

}  // namespace pgmcp::testing
