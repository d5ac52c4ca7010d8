#include "mcp/protocol.hpp"

#include <algorithm>

namespace pgmcp::mcp {

const std::vector<std::string> &supported_versions() {
  static const std::vector<std::string> v = {"2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26",
                                             "2024-11-05"};
  return v;
}

Revision revision(std::string_view version) {
  Revision r;
  if (version == "2024-11-05" || version == "2025-03-26") {
    r.batches = true;
    r.titles = false;
    r.structured_content = false;
  }
  if (version == "2024-11-05") {
    r.tool_annotations = false;
    r.completions = false;
  }
  return r;
}

bool is_modern_version(std::string_view v) { return v == kModernVersion; }

bool is_legacy_version(std::string_view v) {
  return v == "2025-11-25" || v == "2025-06-18" || v == "2025-03-26" || v == "2024-11-05";
}

json error_response(const json &id, int code, std::string_view message, const json &data) {
  json err = {{"code", code}, {"message", message}};
  if (!data.is_null()) err["data"] = data;
  return {{"jsonrpc", "2.0"}, {"id", id}, {"error", std::move(err)}};
}

json error_response(const json &id, const ProtocolError &e) {
  return error_response(id, e.code(), e.what(), e.data());
}

json result_response(const json &id, json result) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
}

json notification(std::string_view method, json params) {
  json n = {{"jsonrpc", "2.0"}, {"method", method}};
  if (!params.is_null()) n["params"] = std::move(params);
  return n;
}

bool legacy_only_method(std::string_view method) {
  return method == "initialize" || method == "ping" || method == "logging/setLevel" ||
         method == "resources/subscribe" || method == "resources/unsubscribe";
}

bool modern_only_method(std::string_view method) { return method == "subscriptions/listen"; }

const std::vector<std::string> &log_levels() {
  static const std::vector<std::string> levels = {"debug", "info",     "notice", "warning",
                                                  "error", "critical", "alert",  "emergency"};
  return levels;
}

int log_level_index(std::string_view name) {
  const auto &l = log_levels();
  auto it = std::find(l.begin(), l.end(), name);
  return it == l.end() ? -1 : static_cast<int>(it - l.begin());
}

json reply_id(const json &doc) {
  if (!doc.is_object()) return nullptr;
  auto id = doc.find("id");
  return id != doc.end() && (id->is_string() || id->is_number_integer()) ? *id : json(nullptr);
}

Message classify(const json &doc) {
  if (!doc.is_object()) {
    if (doc.is_array()) {
      throw ProtocolError(code::invalid_request,
                          "Invalid Request: JSON-RPC batches are not supported; send one message "
                          "at a time");
    }
    throw ProtocolError(code::invalid_request, "Invalid Request: a message is a JSON object");
  }
  auto jv = doc.find("jsonrpc");
  if (jv == doc.end() || !jv->is_string() || *jv != "2.0") {
    throw ProtocolError(code::invalid_request, "Invalid Request: \"jsonrpc\" must be \"2.0\"");
  }
  Message m{};
  m.doc = &doc;
  auto id = doc.find("id");
  bool has_id = id != doc.end();
  if (has_id && !(id->is_string() || id->is_number_integer())) {
    throw ProtocolError(code::invalid_request,
                        "Invalid Request: \"id\" must be a string or an integer");
  }
  auto method = doc.find("method");
  if (method != doc.end()) {
    if (!method->is_string() || method->get_ref<const std::string &>().empty()) {
      throw ProtocolError(code::invalid_request,
                          "Invalid Request: \"method\" must be a non-empty string");
    }
    m.method = method->get<std::string>();
    auto params = doc.find("params");
    if (params != doc.end()) {
      if (!params->is_object() && !params->is_array()) {
        throw ProtocolError(code::invalid_request,
                            "Invalid Request: \"params\" must be an object or an array");
      }
      m.params = &*params;
    }
    m.kind = has_id ? Message::Kind::request : Message::Kind::notification;
    if (has_id) m.id = *id;
    return m;
  }
  if (has_id && (doc.contains("result") || doc.contains("error"))) {
    m.kind = Message::Kind::response;
    m.id = *id;
    return m;
  }
  throw ProtocolError(code::invalid_request,
                      "Invalid Request: neither a request, a notification nor a response");
}

namespace {

// _meta's revision, capabilities and log level, checked. Throws ProtocolError.
ModernMeta read_meta(const json &meta, const json &version) {
  ModernMeta out;
  if (!version.is_string() || !is_modern_version(version.get<std::string>())) {
    std::string requested = version.is_string() ? version.get<std::string>() : version.dump();
    throw ProtocolError(code::unsupported_version, "Unsupported protocol version",
                        {{"supported", supported_versions()}, {"requested", requested}},
                        ErrorKind::bad_request);
  }
  out.protocol_version = version.get<std::string>();
  auto caps = meta.find(kMetaClientCapabilities);
  if (caps == meta.end() || !caps->is_object()) {
    throw ProtocolError(code::invalid_params,
                        std::string("Invalid params: _meta must carry \"") +
                            kMetaClientCapabilities + "\" (an object) in revision " +
                            out.protocol_version,
                        nullptr, ErrorKind::bad_request);
  }
  out.client_capabilities = *caps;
  if (auto level = meta.find(kMetaLogLevel); level != meta.end()) {
    int idx = level->is_string() ? log_level_index(level->get<std::string>()) : -1;
    if (idx < 0) {
      throw ProtocolError(code::invalid_params,
                          "Invalid params: unknown log level " + level->dump(), nullptr,
                          ErrorKind::bad_request);
    }
    out.log_level = idx;
  }
  return out;
}

}  // namespace

Incoming::Incoming(json doc) : doc_(std::make_unique<json>(std::move(doc))) {
  m_ = classify(*doc_);
  if (m_.params == nullptr || !m_.params->is_object()) return;
  auto meta = m_.params->find("_meta");
  if (meta == m_.params->end() || !meta->is_object()) return;
  if (auto t = meta->find("progressToken");
      t != meta->end() && (t->is_string() || t->is_number_integer()))
    progress_token_ = *t;
  auto version = meta->find(kMetaProtocolVersion);
  if (version == meta->end()) return;
  declared_ = version->is_string() ? version->get<std::string>() : version->dump();
  try {
    meta_ = read_meta(*meta, *version);
  } catch (const ProtocolError &e) {
    meta_error_ = e;
  }
}

const json &Incoming::params() const {
  static const json empty = json::object();
  return m_.params != nullptr && m_.params->is_object() ? *m_.params : empty;
}

const std::optional<ModernMeta> &Incoming::meta() const {
  if (meta_error_) throw *meta_error_;
  return meta_;
}

}  // namespace pgmcp::mcp
