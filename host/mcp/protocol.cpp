#include "mcp/protocol.hpp"

#include <algorithm>

namespace pgmcp::mcp {

const std::vector<std::string> &supported_versions() {
  static const std::vector<std::string> v = {"2026-07-28", "2025-11-25", "2025-06-18",
                                             "2025-03-26"};
  return v;
}

bool is_modern_version(std::string_view v) { return v == kModernVersion; }

bool is_legacy_version(std::string_view v) {
  return v == "2025-11-25" || v == "2025-06-18" || v == "2025-03-26";
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

}  // namespace pgmcp::mcp
