// C++ base classes for "pgmcp.driver/1" plugins.
#ifndef PGMCP_CPP_DRIVER_HPP
#define PGMCP_CPP_DRIVER_HPP

#include "pgmcp/cpp/plugin.hpp"
#include "pgmcp/driver.h"

#include <cstddef>
#include <memory>

namespace pgmcp::sdk {

// The host's row sink; each call returns true to go on, false to stop fetching.
class RowSink {
 public:
  explicit RowSink(const pgmcp_row_sink *s) : s_(s) {}
  bool columns(const pgmcp_column *cols, std::size_t count) const {
    return s_->columns(s_->ctx, cols, count, sizeof(pgmcp_column)) == 0;
  }
  bool rows(const pgmcp_value *values, std::size_t row_count) const {
    return s_->rows(s_->ctx, values, row_count) == 0;
  }
  void complete(const char *command_tag) const { s_->complete(s_->ctx, command_tag); }
  // Whether the host takes the server's analysis (ABI 1.1 and later).
  bool takes_analysis() const {
    return PGMCP_HAS_FIELD(pgmcp_row_sink, s_->struct_size, analyzed) && s_->analyzed != nullptr;
  }
  // Hands the server's analysis to the host; true when the statement may run.
  bool analyzed(const char *analysis, std::size_t len) const {
    return s_->analyzed(s_->ctx, analysis, len) == 0;
  }

 private:
  const pgmcp_row_sink *s_;
};

// The text the host wants analysed before sql runs, or nullptr (ABI 1.1 and later).
inline const char *analyze_sql(const pgmcp_statement &s) {
  return PGMCP_HAS_FIELD(pgmcp_statement, s.struct_size, analyze_sql) ? s.analyze_sql : nullptr;
}

class SchemaSink {
 public:
  explicit SchemaSink(const pgmcp_schema_sink *s) : s_(s) {}
  // Returns true to go on. Sets struct_size itself.
  bool object(pgmcp_schema_object o) const {
    o.struct_size = sizeof(pgmcp_schema_object);
    return s_->object(s_->ctx, &o) == 0;
  }

 private:
  const pgmcp_schema_sink *s_;
};

// One connection. execute/describe_schema run on the owning thread; cancel()
// may be called from any thread while they run.
class Connection {
 public:
  virtual ~Connection() = default;
  virtual bool healthy() = 0;
  virtual void execute(const pgmcp_statement &statement, const RowSink &sink) = 0;
  virtual void cancel() = 0;
  virtual void describe_schema(const SchemaSink &sink) = 0;
};

// One configured database; the constructor takes a `const Config &`.
// connect() may be called concurrently.
class Database {
 public:
  virtual ~Database() = default;
  virtual std::unique_ptr<Connection> connect() = 0;
};

template <class T>
struct DriverCapability {
  static constexpr const char *id = PGMCP_DRIVER_V1;

  static const void *table() {
    static const pgmcp_driver_v1 t = {sizeof(pgmcp_driver_v1),
                                      &create,
                                      &destroy,
                                      &connect,
                                      &disconnect,
                                      &healthy,
                                      &execute,
                                      &cancel,
                                      &describe_schema};
    return &t;
  }

 private:
  static Database *db(pgmcp_database *p) { return reinterpret_cast<Database *>(p); }
  static Connection *conn(pgmcp_connection *p) { return reinterpret_cast<Connection *>(p); }

  static pgmcp_status PGMCP_CALL create(const pgmcp_host *host, const pgmcp_config *config,
                                        pgmcp_database **out, pgmcp_error *err) noexcept {
    return guard(err, [&] {
      Database *instance = new T(Config(host, config));
      *out = reinterpret_cast<pgmcp_database *>(instance);
    });
  }
  static void PGMCP_CALL destroy(pgmcp_database *p) noexcept { delete db(p); }
  static pgmcp_status PGMCP_CALL connect(pgmcp_database *p, pgmcp_connection **out,
                                         pgmcp_error *err) noexcept {
    return guard(err,
                 [&] { *out = reinterpret_cast<pgmcp_connection *>(db(p)->connect().release()); });
  }
  static void PGMCP_CALL disconnect(pgmcp_connection *c) noexcept { delete conn(c); }
  static int32_t PGMCP_CALL healthy(pgmcp_connection *c) noexcept {
    try {
      return conn(c)->healthy() ? 1 : 0;
    } catch (...) {
      return 0;
    }
  }
  static pgmcp_status PGMCP_CALL execute(pgmcp_connection *c, const pgmcp_statement *stmt,
                                         const pgmcp_row_sink *sink, pgmcp_error *err) noexcept {
    return guard(err, [&] { conn(c)->execute(*stmt, RowSink(sink)); });
  }
  static pgmcp_status PGMCP_CALL cancel(pgmcp_connection *c, pgmcp_error *err) noexcept {
    return guard(err, [&] { conn(c)->cancel(); });
  }
  static pgmcp_status PGMCP_CALL describe_schema(pgmcp_connection *c, const pgmcp_schema_sink *sink,
                                                 pgmcp_error *err) noexcept {
    return guard(err, [&] { conn(c)->describe_schema(SchemaSink(sink)); });
  }
};

}  // namespace pgmcp::sdk

#endif  // PGMCP_CPP_DRIVER_HPP
