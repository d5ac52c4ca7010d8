// Long file: the one table of every configuration key, with its text, so that
// the reference and the parser cannot drift apart.
#include "config/keys.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <set>
#include <stdexcept>
#include <type_traits>

namespace pgmcp::config {

namespace {

long long whole_number(const std::string &value, long long min, long long max) {
  char *end = nullptr;
  errno = 0;
  long long n = std::strtoll(value.c_str(), &end, 10);
  if (value.empty() || errno != 0 || *end != '\0' || n < min || n > max) {
    throw std::invalid_argument("'" + value + "' is not a whole number from " +
                                std::to_string(min) + " to " + std::to_string(max));
  }
  return n;
}

bool boolean(const std::string &value) {
  if (value == "true" || value == "yes" || value == "on" || value == "1") return true;
  if (value == "false" || value == "no" || value == "off" || value == "0") return false;
  throw std::invalid_argument("'" + value + "' is not a boolean (true or false)");
}

// Where a key's value lives, for the table below.
#define SETTING(field) \
  [](KeyTarget at) -> auto & { return at.settings->field; }
#define INSTANCE(field) \
  [](KeyTarget at) -> auto & { return at.instance->field; }
#define DATABASE(field) \
  [](KeyTarget at) -> auto & { return at.instance->database.field; }
#define LLM(field) \
  [](KeyTarget at) -> auto & { return at.instance->llm.field; }

struct Kind {
  std::string accepts;
  std::function<void(KeyTarget, const std::string &)> set;
  std::function<std::string(KeyTarget)> get;
};

std::string join(const std::vector<std::string> &items, const char *sep = ", ") {
  std::string s;
  for (const auto &x : items) s += (s.empty() ? "" : sep) + x;
  return s;
}

template <class R>
Kind whole(R ref, long long min, long long max) {
  return {"a whole number from " + std::to_string(min) + " to " + std::to_string(max),
          [ref, min, max](KeyTarget t, const std::string &v) {
            using T = std::remove_reference_t<decltype(ref(t))>;
            ref(t) = static_cast<T>(whole_number(v, min, max));
          },
          [ref](KeyTarget t) { return std::to_string(ref(t)); }};
}

template <class R>
Kind flag(R ref) {
  return {"true or false", [ref](KeyTarget t, const std::string &v) { ref(t) = boolean(v); },
          [ref](KeyTarget t) { return std::string(ref(t) ? "true" : "false"); }};
}

template <class R>
Kind text(R ref, std::string accepts = "text") {
  return {std::move(accepts), [ref](KeyTarget t, const std::string &v) { ref(t) = v; },
          [ref](KeyTarget t) { return ref(t); }};
}

template <class R>
Kind list(R ref, std::string what) {
  return {"a comma-separated list of " + what,
          [ref](KeyTarget t, const std::string &v) { ref(t) = split_list(v); },
          [ref](KeyTarget t) { return join(ref(t)); }};
}

// One of a few words, each standing for a value.
template <class R, class T>
Kind choice(R ref, std::string what, std::vector<std::pair<std::string, T>> options) {
  std::string accepts;
  for (std::size_t i = 0; i < options.size(); ++i)
    accepts += (i == 0 ? "" : i + 1 == options.size() ? " or " : ", ") + options[i].first;
  return {accepts,
          [ref, options, accepts, what](KeyTarget t, const std::string &v) {
            for (const auto &o : options)
              if (o.first == v) {
                ref(t) = o.second;
                return;
              }
            throw std::invalid_argument("'" + v + "' is not " + what + " (" + accepts + ")");
          },
          [ref, options](KeyTarget t) {
            for (const auto &o : options)
              if (o.second == ref(t)) return o.first;
            return std::string();
          }};
}

template <class R>
Kind endpoint(R ref) {
  return {"host:port or [ipv6]:port",
          [ref](KeyTarget t, const std::string &v) { ref(t) = parse_endpoint(v); },
          [ref](KeyTarget t) { return ref(t).text(); }};
}

struct Table {
  std::vector<Key> keys;

  void add(const std::string &section, const std::string &name, Kind kind, std::string help,
           bool restart, std::string default_text = "") {
    keys.push_back({section, name, false, std::move(kind.accepts), std::move(help), restart,
                    std::move(kind.set), std::move(kind.get), std::move(default_text)});
  }
  void add_instance(const std::string &kind_name, const std::string &name, Kind kind,
                    std::string help, std::string default_text = "") {
    keys.push_back({kind_name, name, true, std::move(kind.accepts), std::move(help), false,
                    std::move(kind.set), std::move(kind.get), std::move(default_text)});
  }
};

constexpr bool kRestart = true, kReload = false;

Table make_table() {
  Table t;
  using log::Format;
  using log::Level;
  // [server]
  t.add("server", "transport",
        choice(SETTING(transport), "a transport",
               std::vector<std::pair<std::string, Transport>>{{"stdio", Transport::stdio},
                                                              {"http", Transport::http}}),
        "How clients connect: one client on standard input and output, or Streamable HTTP.",
        kRestart);
  t.add("server", "plugin_dir", text(SETTING(plugin_dir), "a folder"),
        "Where plugins are loaded from; a relative path is relative to the configuration file.",
        kRestart, "../lib/pg-mcp/plugins beside the executable");
  t.add("server", "log_level",
        choice(SETTING(log_level), "a log level",
               std::vector<std::pair<std::string, Level>>{{"trace", Level::trace},
                                                          {"debug", Level::debug},
                                                          {"info", Level::info},
                                                          {"warning", Level::warning},
                                                          {"error", Level::error}}),
        "The least severe log line written.", kReload);
  t.add("server", "log_format",
        choice(SETTING(log_format), "a log format",
               std::vector<std::pair<std::string, Format>>{{"text", Format::text},
                                                           {"json", Format::json}}),
        "Log lines as text or as one JSON object each; logs always go to standard error.", kReload);
  t.add("server", "request_state_key", text(SETTING(request_state_key), "a secret"),
        "The secret (32 characters or more, e.g. ${PGMCP_STATE_KEY}) that seals the "
        "2026-07-28 input-required flow's requestState, so that any instance with the same "
        "secret can continue a round another started. Unset: a random key per process.",
        kRestart);
  t.add("server", "request_state_key_file", text(SETTING(request_state_key_file), "a file"),
        "The same secret read from a file (its whole content, surrounding blanks left out); "
        "relative to the configuration file. At most one of the two.",
        kRestart);
  t.add("server", "audit_file", text(SETTING(audit_file), "a file"),
        "Also append every audit record (one per statement a client sent) to this file, one JSON "
        "object per line, whatever log_level says; on standard error they appear at info. "
        "Relative to the configuration file; reopened on reload, for log rotation.",
        kReload);
  t.add("server", "shutdown_timeout_s", whole(SETTING(shutdown_timeout_s), 1, 600),
        "On SIGTERM or SIGINT: how long running statements may take to end after they are "
        "cancelled.",
        kReload);
  // [http]
  t.add("http", "listen", endpoint(SETTING(http_listen)),
        "The address the HTTP transport listens on.", kRestart);
  t.add("http", "path",
        {"a URL path",
         [](KeyTarget k, const std::string &v) {
           if (v.empty() || v.front() != '/' || v.find_first_of(" ?#") != std::string::npos)
             throw std::invalid_argument("'" + v + "' is not a URL path (e.g. /mcp)");
           k.settings->http_path = v;
         },
         [](KeyTarget k) { return k.settings->http_path; }},
        "The MCP endpoint.", kRestart);
  t.add("http", "allowed_origins", list(SETTING(http_allowed_origins), "origins"),
        "Origin values allowed besides loopback ones (https://app.example.com); * allows any.",
        kRestart, "(loopback only)");
  t.add("http", "allowed_hosts", list(SETTING(http_allowed_hosts), "host names"),
        "Host header values allowed besides loopback names while bound to loopback.", kRestart,
        "(loopback names)");
  t.add("http", "max_body_bytes", whole(SETTING(http_max_body_bytes), 1024, 1LL << 30),
        "A larger request gets 413.", kRestart);
  t.add("http", "session_idle_timeout_s", whole(SETTING(http_session_idle_timeout_s), 1, 604800),
        "A legacy session idle this long, with no open stream, ends.", kRestart);
  t.add("http", "max_sessions", whole(SETTING(http_max_sessions), 1, 10000000),
        "Legacy sessions at once; past it, initialize gets 503.", kRestart);
  t.add("http", "max_threads", whole(SETTING(http_max_threads), 4, 10000),
        "Workers running requests; waiting and idle connections and open event streams hold "
        "none.",
        kRestart);
  t.add("http", "max_queued", whole(SETTING(http_max_queued), 1, 1000000),
        "Complete requests waiting for a worker; past it, 503 with Retry-After.", kRestart);
  t.add("http", "max_connections", whole(SETTING(http_max_connections), 8, 1000000),
        "Open connections in all; past it, 503 with Retry-After. Capped to fit the open-file "
        "limit.",
        kRestart);
  t.add("http", "max_connections_per_client",
        whole(SETTING(http_max_connections_per_client), 1, 1000000),
        "Open connections per peer address; past it, 503 with Retry-After.", kRestart);
  t.add("http", "header_timeout_ms", whole(SETTING(http_header_timeout_ms), 100, 3600000),
        "A request's head must arrive within this: 408.", kRestart);
  t.add("http", "body_timeout_ms", whole(SETTING(http_body_timeout_ms), 100, 3600000),
        "A request's body must arrive within this after its head: 408.", kRestart);
  t.add("http", "idle_timeout_ms", whole(SETTING(http_idle_timeout_ms), 100, 3600000),
        "A kept-alive connection with no request is closed after this.", kRestart);
  t.add("http", "write_timeout_ms", whole(SETTING(http_write_timeout_ms), 100, 3600000),
        "A response (or one event) the client does not take within this is abandoned and the "
        "connection cut (docs/operations.md).",
        kRestart);
  t.add("http", "tls_cert", text(SETTING(http_tls_cert), "a PEM file"),
        "With tls_key: serve HTTPS. Relative to the configuration file.", kRestart);
  t.add("http", "tls_key", text(SETTING(http_tls_key), "a PEM file"),
        "With tls_cert: the private key.", kRestart);
  // [auth]
  t.add("auth", "mode",
        choice(SETTING(auth.mode), "an auth mode",
               std::vector<std::pair<std::string, AuthMode>>{
                   {"none", AuthMode::none}, {"bearer", AuthMode::bearer}, {"jwt", AuthMode::jwt}}),
        "How HTTP clients authenticate: none (loopback only), static bearer tokens, or JWTs of "
        "an OAuth 2.1 authorization server (docs/protocol.md).",
        kRestart);
  t.add("auth", "tokens", list(SETTING(auth.tokens), "subject:token or token entries"),
        "bearer: the accepted tokens; put them in ${ENV}.", kRestart);
  t.add("auth", "issuer", text(SETTING(auth.issuer), "a URL"), "jwt: the required iss.", kRestart);
  t.add("auth", "audience", list(SETTING(auth.audiences), "audiences"), "jwt: accepted aud values.",
        kRestart, "resource");
  t.add("auth", "jwks_file", text(SETTING(auth.jwks_file), "a file"),
        "jwt: the signing keys, from a file (exactly one of jwks_file and jwks_url).", kRestart);
  t.add("auth", "jwks_url", text(SETTING(auth.jwks_url), "a URL"),
        "jwt: the signing keys, fetched and cached.", kRestart);
  t.add("auth", "resource", text(SETTING(auth.resource), "a URL"),
        "jwt: this server's canonical URL (protected-resource metadata, default audience).",
        kRestart);
  t.add("auth", "authorization_servers", list(SETTING(auth.authorization_servers), "URLs"),
        "jwt: listed in the protected-resource metadata.", kRestart, "issuer");
  t.add("auth", "required_scopes", list(SETTING(auth.required_scopes), "scopes"),
        "jwt: scopes every token must carry.", kRestart);
  t.add("auth", "leeway_s", whole(SETTING(auth.leeway_s), 0, 3600),
        "jwt: clock skew allowed on exp and nbf.", kRestart);
  // [observability]
  t.add("observability", "listen",
        {"host:port, or empty",
         [](KeyTarget k, const std::string &v) {
           if (v.empty())
             k.settings->observability_listen.reset();
           else
             k.settings->observability_listen = parse_endpoint(v);
         },
         [](KeyTarget k) {
           return k.settings->observability_listen ? k.settings->observability_listen->text()
                                                   : std::string();
         }},
        "/metrics, /health and /ready; empty turns them off. A port already taken is logged and "
        "MCP is served regardless.",
        kRestart);
  // [tools]
  t.add("tools", "query.llm", text(SETTING(query.llm), "an [llm.NAME]"),
        "The LLM the query tool asks (docs/llm.md).", kReload,
        std::string("the only [llm.NAME], else ") + kClientModel);
  t.add("tools", "query.max_attempts", whole(SETTING(query.max_attempts), 1, 10),
        "SQL generations per question, repairs included.", kReload);
  t.add("tools", "query.verify", flag(SETTING(query.verify)),
        "Ask the LLM whether the first rows answer the question.", kReload);
  t.add("tools", "query.min_confidence", whole(SETTING(query.min_confidence), 0, 100),
        "With verify: below this, regenerate.", kReload);
  t.add("tools", "query.context_budget_tokens",
        whole(SETTING(query.context_budget_tokens), 200, 1000000),
        "Schema context size; larger catalogs are cut to what the question needs.", kReload);
  t.add("tools", "query.max_question_chars", whole(SETTING(query.max_question_chars), 10, 100000),
        "Longer questions are refused.", kReload);
  t.add("tools", "query.vocabulary_file", text(SETTING(query.vocabulary_file), "a JSON file"),
        "The operator's terms, acronyms and example questions with their SQL (docs/llm.md): "
        "used to find tables and in the prompt. Each example must pass the policy of its "
        "database, or pg-mcp refuses to start.",
        kReload);

  // Plugin instances.
  const std::string kPlugin = "The plugin id, as pg-mcp --list-plugins shows it (required).";
  t.add_instance("rate_limiter", "plugin", text(INSTANCE(plugin), "a plugin id"), kPlugin);
  t.add_instance("database", "plugin", text(INSTANCE(plugin), "a plugin id"), kPlugin);
  t.add_instance("database", "rate_limiter", text(INSTANCE(rate_limiter), "a [rate_limiter.NAME]"),
                 "Limits the statements run on this database, per client.");
  t.add_instance("database", "description", text(INSTANCE(description)),
                 "For people, and for choosing a database.");
  t.add_instance("database", "pool_min", whole(DATABASE(pool_min), 0, 1000),
                 "Connections opened at start.");
  t.add_instance("database", "pool_max", whole(DATABASE(pool_max), 1, 1000),
                 "Connections at most.");
  t.add_instance("database", "acquire_timeout_ms", whole(DATABASE(acquire_timeout_ms), 1, 600000),
                 "Wait this long for a free connection, then fail clearly.");
  t.add_instance("database", "statement_timeout_ms",
                 whole(DATABASE(statement_timeout_ms), 1, 86400000),
                 "Per statement (SET LOCAL), and on the connection as a backstop; a server that "
                 "does not answer at all is given up at this plus a grace.");
  t.add_instance("database", "role", text(DATABASE(role), "a role"),
                 "SET LOCAL ROLE for every statement: a reader role, as pg-mcp --grants NAME "
                 "makes (docs/security.md).");
  t.add_instance("database", "search_path", text(DATABASE(search_path), "a search path"),
                 "SET LOCAL search_path for every statement.");
  t.add_instance("database", "max_rows", whole(DATABASE(max_rows), 1, 10000000),
                 "Rows returned at most (a call may ask for fewer).");
  t.add_instance("database", "max_result_bytes", whole(DATABASE(max_result_bytes), 1024, 1LL << 31),
                 "Bytes of a tool result that carries rows at most: the whole message, rows "
                 "twice (structured and as a table) and what surrounds them.");
  t.add_instance("database", "row_guard", flag(DATABASE(row_guard)),
                 "PostgreSQL stops a row of a plain query longer than max_result_bytes before "
                 "sending it (docs/operations.md).");
  t.add_instance("database", "allow_explain_analyze", flag(DATABASE(allow_explain_analyze)),
                 "Let explain_query run the query (read-only, rolled back).");
  t.add_instance("database", "allow_explain", flag(DATABASE(allow_explain)),
                 "The SQL policy passes EXPLAIN of a statement that itself passes.");
  t.add_instance("database", "allow_write", flag(DATABASE(allow_write)),
                 "The SQL policy passes writes and table DDL; they run BEGIN READ WRITE ... "
                 "COMMIT.");
  t.add_instance("database", "blocked_tables", list(DATABASE(blocked_tables), "names"),
                 "name or schema.name: never read, through any path; inheritance relatives and "
                 "partitions too.");
  t.add_instance("database", "blocked_columns", list(DATABASE(blocked_columns), "columns"),
                 "column (any table), table.column or schema.table.column: never read.");
  t.add_instance("database", "blocked_functions", list(DATABASE(blocked_functions), "names"),
                 "name, schema.name or schema.*: refused even if allowed.");
  t.add_instance("database", "allowed_functions", list(DATABASE(allowed_functions), "names"),
                 "name, schema.name or schema.*: functions that may run besides the built-ins "
                 "classified safe, or a denied built-in lifted knowingly.");
  t.add_instance("database", "allowed_tables", list(DATABASE(allowed_tables), "names"),
                 "name, schema.name or schema.*: foreign tables that may be read, and catalog "
                 "relations whose refused columns are lifted.");
  t.add_instance("database", "allowed_columns", list(DATABASE(allowed_columns), "columns"),
                 "relation.column: one refused catalog column lifted.");
  t.add_instance("database", "allowed_settings", list(DATABASE(allowed_settings), "names"),
                 "name or prefix.*: settings a statement may read by name (current_setting, SHOW) "
                 "although they may hold secrets: custom settings, primary_conninfo, the "
                 "archive and restore commands.");
  t.add_instance("database", "schema_ttl_s", whole(DATABASE(schema_ttl_s), 1, 604800),
                 "The schema cache refreshes when older.");
  t.add_instance(
      "database", "schema_load",
      choice(DATABASE(schema_at_startup), "a schema_load mode",
             std::vector<std::pair<std::string, bool>>{{"lazy", false}, {"startup", true}}),
      "startup: load the schema in the background right after start, so that the first call "
      "finds it; lazy: at first use.");
  t.add_instance("database", "sample_values", flag(DATABASE(sample_values)),
                 "Let the query tool find tables by, and show its model, the most common values "
                 "of text columns with at most 50 distinct values, from PostgreSQL's statistics "
                 "(pg_stats: no table is scanned, only columns the role may read, never a "
                 "blocked column). Off: the values are data.");
  t.add_instance("database", "rate_limit_wait_ms", whole(DATABASE(rate_limit_wait_ms), 0, 600000),
                 "How long a call may wait for the rate limiter.");
  t.add_instance(
      "database", "replicas",
      {"space-separated connection URIs",
       [](KeyTarget at, const std::string &v) {
         std::vector<std::string> uris;
         std::size_t i = 0;
         while (i < v.size()) {
           std::size_t start = v.find_first_not_of(" \t", i);
           if (start == std::string::npos) break;
           std::size_t end = v.find_first_of(" \t", start);
           if (end == std::string::npos) end = v.size();
           std::string uri = v.substr(start, end - start);
           if (uri.find("://") == std::string::npos)
             throw std::invalid_argument(  // not quoted: it may hold a password
                 "entry " + std::to_string(uris.size() + 1) +
                 " is not a connection URI (postgresql://user@host:port/db); key=value "
                 "strings hold spaces and cannot be listed here");
           uris.push_back(std::move(uri));
           i = end;
         }
         if (uris.size() > 16) throw std::invalid_argument("at most 16 replicas");
         at.instance->database.replicas = std::move(uris);
       },
       // never the URIs themselves: they may hold passwords
       [](KeyTarget at) {
         auto n = at.instance->database.replicas.size();
         return n == 0 ? std::string() : std::to_string(n) + " replica(s)";
       }},
      "Read replicas, each given to the driver in place of dsn (the section's other keys "
      "apply to it too). Reads go to the healthy ones, writes and the host's catalog reads to "
      "the primary; with none healthy, reads go to the primary (docs/deployment.md).");
  t.add_instance("database", "replica_balance",
                 choice(DATABASE(replica_least_busy), "a replica_balance mode",
                        std::vector<std::pair<std::string, bool>>{{"least_busy", true},
                                                                  {"round_robin", false}}),
                 "least_busy: the healthy replica running the fewest statements (ties in turn); "
                 "round_robin: each in turn.");
  t.add_instance("database", "replica_check_ms", whole(DATABASE(replica_check_ms), 100, 600000),
                 "How often each replica is checked: it answers, is a standby, and how far its "
                 "replay lags.");
  t.add_instance("database", "replica_max_lag_ms", whole(DATABASE(replica_max_lag_ms), 0, 86400000),
                 "A replica whose replay lags more gets no reads until it catches up; 0: no "
                 "limit. Lag is measured as in PostgreSQL's monitoring docs: 0 when everything "
                 "received is replayed, else the time since the last replayed transaction.");
  t.add_instance("llm", "plugin", text(INSTANCE(plugin), "a plugin id"), kPlugin);
  t.add_instance("llm", "rate_limiter", text(INSTANCE(rate_limiter), "a [rate_limiter.NAME]"),
                 "Limits the calls to this provider, per client.");
  t.add_instance("llm", "description", text(INSTANCE(description)), "For people.");
  t.add_instance("llm", "max_retries", whole(LLM(max_retries), 0, 10),
                 "Retries of timeouts, connection errors, 429 and 5xx (docs/llm.md).");
  t.add_instance("llm", "retry_base_ms", whole(LLM(retry_base_ms), 0, 600000),
                 "Backoff: full jitter up to this times 2^attempt.");
  t.add_instance("llm", "retry_max_ms", whole(LLM(retry_max_ms), 0, 600000),
                 "The cap of one wait, and of a Retry-After.");
  t.add_instance("llm", "breaker_failures", whole(LLM(breaker_failures), 1, 1000),
                 "Consecutive failed calls that open the provider's circuit.");
  t.add_instance("llm", "breaker_reset_s", whole(LLM(breaker_reset_s), 1, 86400),
                 "How long the circuit stays open before one trial call.");
  t.add_instance("llm", "rate_limit_wait_ms", whole(LLM(rate_limit_wait_ms), 0, 600000),
                 "How long a call may wait for the rate limiter.");
  return t;
}

#undef SETTING
#undef INSTANCE
#undef DATABASE
#undef LLM

const char *section_help(const std::string &section, bool instance) {
  if (instance) {
    if (section == "rate_limiter")
      return "A rate limiter other sections name. Its other keys belong to its plugin "
             "(docs/plugins.md lists those of the bundled ones).";
    if (section == "database")
      return "A PostgreSQL database to serve. Its other keys belong to the driver plugin "
             "(docs/databases.md: dsn, connect_timeout_s, application_name, pooler, "
             "statement_cache).";
    return "An LLM provider for the query tool. Its other keys belong to the provider plugin "
           "(docs/llm.md).";
  }
  if (section == "server") return "The process.";
  if (section == "http") return "The Streamable HTTP transport (server.transport = http).";
  if (section == "auth") return "Authentication of HTTP clients.";
  if (section == "observability") return "Metrics and health endpoints.";
  return "The tools pg-mcp offers.";
}

// Markdown table cells: no line breaks, pipes escaped.
std::string cell(std::string s) {
  std::string out;
  for (char c : s) {
    if (c == '|')
      out += "\\|";
    else
      out += c;
  }
  return out;
}

}  // namespace

const std::vector<Key> &keys() {
  static const std::vector<Key> table = make_table().keys;
  return table;
}

const Key *find_key(std::string_view section, std::string_view name, bool instance) {
  for (const auto &k : keys())
    if (k.instance == instance && k.section == section && k.name == name) return &k;
  return nullptr;
}

std::vector<std::string> fixed_sections() {
  std::vector<std::string> out;
  for (const auto &k : keys())
    if (!k.instance && std::find(out.begin(), out.end(), k.section) == out.end())
      out.push_back(k.section);
  return out;
}

std::vector<std::string> instance_kinds() {
  std::vector<std::string> out;
  for (const auto &k : keys())
    if (k.instance && std::find(out.begin(), out.end(), k.section) == out.end())
      out.push_back(k.section);
  return out;
}

std::string key_names(std::string_view section, bool instance) {
  std::vector<std::string> names;
  for (const auto &k : keys())
    if (k.instance == instance && k.section == section) names.push_back(k.name);
  return join(names);
}

std::string default_of(const Key &key) {
  if (!key.default_text.empty()) return key.default_text;
  Settings s;
  InstanceSpec spec;
  return key.get({&s, &spec});
}

std::vector<std::string> restart_keys_changed(const Settings &a, const Settings &b) {
  std::vector<std::string> out;
  for (const auto &k : keys()) {
    if (k.instance || !k.restart) continue;
    if (k.get({const_cast<Settings *>(&a), nullptr}) !=
        k.get({const_cast<Settings *>(&b), nullptr}))
      out.push_back(k.full_name());
  }
  return out;
}

std::string reference_markdown() {
  std::string out = R"(# Configuration reference

<!-- Generated by `pg-mcp --config-reference` from the host's key table
     (host/config/keys.cpp); CI checks that this file is current. Edit the
     table, then run: build/release/bin/pg-mcp --config-reference > docs/configuration.md -->

pg-mcp reads one file, INI (`*.ini`, `*.conf`, `*.cfg`) or JSON (`*.json`),
given with `--config FILE`. Both formats have the same keys: a JSON object
nests where INI uses a dotted section name, so `[rate_limiter.default]` with
`rate = 10/min` is `{"rate_limiter": {"default": {"rate": "10/min"}}}`. In
JSON, numbers and booleans may be written bare; a list (`["a", "b"]`) is the
same as the INI value `a,b`.

`pg-mcp --check-config --config FILE` validates a file without starting the
server: it exits 0 when the file is valid, its plugins load and every plugin
accepts its section; otherwise 1, with one line per problem naming the file,
the line (INI) and the key.

## INI syntax

- `[section]` headers; `key = value` lines; `;` or `#` starts a comment at the
  start of a line or after white space (`rate = 10/min ; ten a minute`). A `;`
  inside a value (`a;b`) is kept.
- `"quoted values"` keep everything, comment characters included; `\"` and
  `\\` are the only escapes.
- Keys are case-sensitive. A key set twice, or a section repeated, is an
  error.

## Environment variables

`${NAME}` anywhere in a value is replaced by the environment variable `NAME`;
an unset variable is an error. `${NAME:-default}` uses `default` when `NAME`
is unset or empty. `$${` stands for a literal `${`. Error messages name the
variable, never its value.

## Reloading

SIGHUP reads the file again. When it is valid, new calls use its databases,
policies, limits and LLMs, and sessions stay; a file that fails validation
changes nothing. Keys marked *restart* keep their running value until the
process restarts (a reload logs which ones changed).
)";
  auto table = [&](const std::string &section, bool instance) {
    out += "\n## `[" + section + (instance ? ".NAME" : "") + "]`\n\n";
    out += std::string(section_help(section, instance)) + "\n\n";
    out += "| key | accepts | default | meaning |\n| --- | --- | --- | --- |\n";
    for (const auto &k : keys()) {
      if (k.instance != instance || k.section != section) continue;
      // A computed default is a value; a described one is words.
      std::string d = default_of(k);
      if (!d.empty() && k.default_text.empty()) d = "`" + cell(d) + "`";
      out += "| `" + k.name + "` | " + cell(k.accepts) + " | " + cell(d) + " | " + cell(k.help) +
             (k.restart ? " *restart*" : "") + " |\n";
    }
  };
  for (const auto &s : fixed_sections()) table(s, false);
  out += R"(
## Plugin instances

`[rate_limiter.NAME]`, `[database.NAME]` and `[llm.NAME]` each create one
object from a plugin. NAME is letters, digits, `_` and `-`. The keys below
are the host's; every other key in the section belongs to the plugin, which
validates it and rejects keys it does not know.
)";
  for (const auto &s : instance_kinds()) table(s, true);
  return out;
}

std::string help_summary() {
  std::string out =
      "Configuration keys (pg-mcp --config-reference prints what each accepts and means):\n";
  auto line = [&](const std::string &title, const std::string &names) {
    std::string text = "  " + title;
    size_t col = text.size();
    auto items = split_list(names);
    for (size_t i = 0; i < items.size(); ++i) {
      std::string item = (i == 0 ? " " : ", ") + items[i];
      if (col + item.size() > 79) {
        text += ",\n    " + items[i];
        col = 4 + items[i].size();
      } else {
        text += item;
        col += item.size();
      }
    }
    out += text + "\n";
  };
  for (const auto &s : fixed_sections()) line("[" + s + "]", key_names(s, false));
  for (const auto &s : instance_kinds())
    line("[" + s + ".NAME]", key_names(s, true) + ", and the plugin's own keys");
  return out;
}

}  // namespace pgmcp::config
