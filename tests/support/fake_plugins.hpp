// In-process stand-ins for a database driver and an LLM provider, filled
// through the same C tables a plugin library returns, so that the host code
// under test (db::Database, db::SchemaCache, llm::Client, the tools) is the
// code that ships. Tests script what the "plugin" answers.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "config/settings.hpp"
#include "core/context.hpp"
#include "pgmcp/driver.h"
#include "pgmcp/llm.h"
#include "plugins/host_services.hpp"
#include "plugins/instances.hpp"

namespace pgmcp::testing {

// A capability table whose create refuses (instances are made by the tests
// themselves) and whose destroy does nothing.
template <class Table, class Handle>
Table fake_table() {
  Table t{};
  t.struct_size = sizeof t;
  t.create = [](const pgmcp_host *, const pgmcp_config *, Handle **,
                pgmcp_error *) -> pgmcp_status { return PGMCP_ERR_UNSUPPORTED; };
  t.destroy = [](Handle *) {};
  return t;
}

// ------------------------------------------------------------------ driver

struct FakeResult {
  std::vector<std::pair<std::string, std::string>> columns;  // name, type name
  std::vector<std::vector<std::optional<std::string>>> rows;
  pgmcp_status status = PGMCP_OK;
  std::string error;                                        // with a failing status
  std::vector<std::pair<std::string, std::string>> fields;  // sqlstate, hint, ...
};

class FakeDriver {
 public:
  // What a statement returns; by default one empty result.
  std::function<FakeResult(const std::string &sql)> answer = [](const std::string &) {
    return FakeResult{};
  };
  // Catalog objects describe_schema sends.
  std::vector<pgmcp_schema_object> schema;
  // When set, execute waits until its statement is cancelled (or released).
  std::atomic<bool> hang{false};
  std::atomic<int> connects{0}, executes{0}, cancels{0}, disconnects{0};
  std::vector<std::string> statements;  // every sql executed, in order
  std::mutex mutex;

  void release() {
    hang = false;
    cv_.notify_all();
  }

  std::shared_ptr<plugins::DatabaseInstance> instance(const std::string &name = "fake") {
    auto config = std::make_unique<pgmcp_config>();
    config->name = "database." + name;
    return std::make_shared<plugins::DatabaseInstance>(nullptr, table(), std::move(config),
                                                       reinterpret_cast<pgmcp_database *>(this));
  }

  // A [database.NAME] for db::Database.
  static config::InstanceSpec spec(const std::string &name = "fake") {
    config::InstanceSpec s;
    s.kind = "database";
    s.name = name;
    s.plugin = "fake";
    s.database.acquire_timeout_ms = 200;
    return s;
  }

 private:
  struct Conn {
    FakeDriver *driver;
    std::atomic<bool> cancelled{false};
  };
  std::condition_variable cv_;

  static FakeDriver &self(pgmcp_database *db) { return *reinterpret_cast<FakeDriver *>(db); }

  static pgmcp_driver_v1 table() {
    auto t = fake_table<pgmcp_driver_v1, pgmcp_database>();
    t.connect = [](pgmcp_database *db, pgmcp_connection **out, pgmcp_error *) -> pgmcp_status {
      ++self(db).connects;
      *out = reinterpret_cast<pgmcp_connection *>(new Conn{&self(db)});
      return PGMCP_OK;
    };
    t.disconnect = [](pgmcp_connection *c) {
      auto *conn = reinterpret_cast<Conn *>(c);
      ++conn->driver->disconnects;
      delete conn;
    };
    t.healthy = [](pgmcp_connection *) -> int32_t { return 1; };
    t.execute = [](pgmcp_connection *c, const pgmcp_statement *stmt, const pgmcp_row_sink *sink,
                   pgmcp_error *err) -> pgmcp_status {
      auto *conn = reinterpret_cast<Conn *>(c);
      FakeDriver &d = *conn->driver;
      ++d.executes;
      {
        std::unique_lock lock(d.mutex);
        d.statements.push_back(stmt->sql);
        d.cv_.wait(lock, [&] { return !d.hang.load() || conn->cancelled.load(); });
      }
      if (conn->cancelled.exchange(false)) {
        error_set(err, "canceling statement due to user request");
        return PGMCP_ERR_CANCELLED;
      }
      FakeResult r = d.answer(stmt->sql);
      if (r.status != PGMCP_OK) {
        error_set(err, r.error.c_str());
        for (auto &[k, v] : r.fields) err->fields.emplace_back(k, v);
        return r.status;
      }
      std::vector<pgmcp_column> cols;
      for (auto &[name, type] : r.columns)
        cols.push_back({sizeof(pgmcp_column), name.c_str(), 0, type.c_str()});
      if (sink->columns(sink->ctx, cols.data(), cols.size(), sizeof(pgmcp_column)) != 0)
        return PGMCP_OK;
      for (auto &row : r.rows) {
        std::vector<pgmcp_value> values;
        for (auto &v : row)
          values.push_back(v ? pgmcp_value{v->data(), v->size(), 0} : pgmcp_value{nullptr, 0, 1});
        if (sink->rows(sink->ctx, values.data(), 1) != 0) return PGMCP_OK;
      }
      sink->complete(sink->ctx, "SELECT");
      return PGMCP_OK;
    };
    t.cancel = [](pgmcp_connection *c, pgmcp_error *) -> pgmcp_status {
      auto *conn = reinterpret_cast<Conn *>(c);
      ++conn->driver->cancels;
      {
        std::lock_guard lock(conn->driver->mutex);
        conn->cancelled = true;
      }
      conn->driver->cv_.notify_all();
      return PGMCP_OK;
    };
    t.describe_schema = [](pgmcp_connection *c, const pgmcp_schema_sink *sink,
                           pgmcp_error *) -> pgmcp_status {
      for (const auto &o : reinterpret_cast<Conn *>(c)->driver->schema)
        if (sink->object(sink->ctx, &o) != 0) break;
      return PGMCP_OK;
    };
    return t;
  }

  static void error_set(pgmcp_error *err, const char *message) {
    if (err != nullptr) err->message = message;
  }
};

// A schema object for FakeDriver::schema; strings must outlive it (literals).
inline pgmcp_schema_object object(pgmcp_object_kind kind, const char *schema, const char *name,
                                  const char *table = nullptr, const char *type = nullptr) {
  pgmcp_schema_object o{};
  o.struct_size = sizeof o;
  o.kind = kind;
  o.schema = schema;
  o.name = name;
  o.table = table;
  o.type = type;
  o.estimated_rows = -1;
  return o;
}

// --------------------------------------------------------------------- LLM

class FakeLlm {
 public:
  // Answers one call: text, or a failure status. The request's last message
  // is given.
  struct Reply {
    pgmcp_status status = PGMCP_OK;
    std::string text;
    std::string error;
    long long retry_after_ms = -1;
  };
  std::function<Reply(const std::string &last_message, const pgmcp_llm_request &req)> answer =
      [](const std::string &, const pgmcp_llm_request &) {
        return Reply{PGMCP_OK, "ok", "", -1};
      };
  std::atomic<int> calls{0};

  std::shared_ptr<plugins::LlmInstance> instance(const std::string &name = "fake") {
    auto config = std::make_unique<pgmcp_config>();
    config->name = "llm." + name;
    return std::make_shared<plugins::LlmInstance>(nullptr, table(), std::move(config),
                                                  reinterpret_cast<pgmcp_llm *>(this));
  }

 private:
  static pgmcp_llm_v1 table() {
    auto t = fake_table<pgmcp_llm_v1, pgmcp_llm>();
    t.complete = [](pgmcp_llm *llm, const pgmcp_llm_request *req, const pgmcp_llm_sink *out,
                    pgmcp_error *err) -> pgmcp_status {
      auto &self = *reinterpret_cast<FakeLlm *>(llm);
      ++self.calls;
      const char *base = reinterpret_cast<const char *>(req->messages);
      const auto *last = reinterpret_cast<const pgmcp_llm_message *>(
          base + (req->message_count - 1) * req->message_struct_size);
      Reply r = self.answer(last->text != nullptr ? last->text : "", *req);
      if (r.status != PGMCP_OK) {
        err->message = r.error;
        if (r.retry_after_ms >= 0)
          err->fields.emplace_back("retry_after_ms", std::to_string(r.retry_after_ms));
        return r.status;
      }
      out->append_text(out->ctx, r.text.data(), r.text.size());
      out->set_usage(out->ctx, 10, 5);
      out->set_model(out->ctx, "fake-1");
      return PGMCP_OK;
    };
    return t;
  }
};

// A sink that appends the answer's text to *text and ignores the rest.
inline pgmcp_llm_sink text_sink(std::string *text) {
  return {sizeof(pgmcp_llm_sink),
          text,
          [](void *c, const char *d, size_t n) { static_cast<std::string *>(c)->append(d, n); },
          [](void *, uint64_t, uint64_t) {},
          [](void *, const char *) {},
          [](void *, const char *) {}};
}

// ---------------------------------------------------------------- requests

// A request context for tests: records progress and log lines; the client
// answers client_request through `client`.
class FakeContext final : public core::RequestContext {
 public:
  std::atomic<bool> cancel{false};
  std::string who = "tester";
  std::string version = "2025-11-25";
  json capabilities = json::object();
  std::function<json(std::string_view method, const json &params)> client;
  std::vector<std::string> stages;
  std::vector<std::function<void()>> cancel_callbacks;

  bool cancelled() const override { return cancel.load(); }
  void on_cancel(std::function<void()> fn) override { cancel_callbacks.push_back(std::move(fn)); }
  void progress(double, std::optional<double>, std::string_view message) override {
    stages.emplace_back(message);
  }
  void log(log::Level, std::string_view, const json &) override {}
  const std::string &subject() const override { return who; }
  const std::string &protocol_version() const override { return version; }
  const json &client_capabilities() const override { return capabilities; }
  json client_request(std::string_view method, const json &params,
                      std::chrono::milliseconds) override {
    if (!client) throw std::runtime_error("no client in this test");
    return client(method, params);
  }
};

}  // namespace pgmcp::testing
