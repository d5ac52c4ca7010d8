#include "llm_http.hpp"

#include <Poco/DateTimeParser.h>
#include <Poco/Exception.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLException.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/StreamCopier.h>
#include <Poco/Timestamp.h>
#include <Poco/URI.h>

#include <sys/socket.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

namespace pgmcp::llmhttp {

using sdk::Error;

Common read_common(const sdk::Config &config, const std::string &default_base_url,
                   std::initializer_list<const char *> own) {
  Common c;
  std::vector<std::string> known = {"base_url", "timeout_ms", "tls_verify", "ca_file"};
  for (const char *k : own) known.emplace_back(k);
  std::string unknown;
  config.each([&](std::string_view key, std::string_view value) {
    if (key.substr(0, 7) == "header.") {
      if (key.size() == 7) unknown = std::string(key);
      c.extra_headers.emplace_back(std::string(key.substr(7)), std::string(value));
      return;
    }
    bool ok = false;
    for (const auto &k : known) ok = ok || key == k;
    if (!ok && unknown.empty()) unknown = std::string(key);
  });
  if (!unknown.empty()) {
    std::string list;
    for (const auto &k : known) list += (list.empty() ? "" : ", ") + k;
    throw config.fail(unknown.c_str(), "is not a known key (known: " + list + ", header.NAME)");
  }
  c.base_url = config.get_or("base_url", default_base_url);
  while (!c.base_url.empty() && c.base_url.back() == '/') c.base_url.pop_back();
  try {
    Poco::URI uri(c.base_url);
    c.scheme = uri.getScheme();
    c.host = uri.getHost();
    c.port = uri.getPort();
    c.path = uri.getPath();
  } catch (const Poco::Exception &e) {
    throw config.fail("base_url", "is not a URL: " + e.displayText());
  }
  if ((c.scheme != "http" && c.scheme != "https") || c.host.empty())
    throw config.fail("base_url", "must be an http:// or https:// URL with a host");
  c.timeout_ms = config.get_int("timeout_ms", 60000, 100, 3600000);
  c.tls_verify = config.get_bool("tls_verify", true);
  c.ca_file = config.get_or("ca_file", "");
  return c;
}

std::string scrub(const Common &c, std::string s) {
  for (const auto &secret : c.secrets) {
    if (secret.size() < 4) continue;
    for (size_t at = s.find(secret); at != std::string::npos; at = s.find(secret, at))
      s.replace(at, secret.size(), "***");
  }
  return s;
}

namespace {

Poco::Net::Context::Ptr tls_context(const Common &c) {
  static std::once_flag once;
  std::call_once(once, [] { Poco::Net::initializeSSL(); });
  auto mode = c.tls_verify ? Poco::Net::Context::VERIFY_RELAXED : Poco::Net::Context::VERIFY_NONE;
  // Default CAs from OpenSSL's store, plus ca_file when given.
  return new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, "", "", c.ca_file, mode, 9,
                                true, "HIGH:!aNULL:!MD5");
}

// Watches one request in flight: once the MCP call behind it is cancelled, it
// shuts the connection's socket down, so the read blocked on the provider's
// answer returns at once instead of at the timeout, and the provider sees the
// connection close (it may stop generating). shutdown(2) on the descriptor is
// safe beside a blocked read in another thread; the TLS state is not touched.
class CancelWatch {
 public:
  CancelWatch(const sdk::LlmRequest &req, int fd) : req_(req), fd_(fd) {
    if (req.call() != nullptr && fd >= 0) thread_ = std::thread([this] { run(); });
  }
  ~CancelWatch() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();
  }
  CancelWatch(const CancelWatch &) = delete;
  CancelWatch &operator=(const CancelWatch &) = delete;

  bool fired() const {
    std::lock_guard lock(mutex_);
    return fired_;
  }

 private:
  void run() {
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, std::chrono::milliseconds(20), [this] { return done_; })) {
      if (req_.cancelled()) {
        fired_ = true;
        ::shutdown(fd_, SHUT_RDWR);
        return;
      }
    }
  }

  const sdk::LlmRequest &req_;
  int fd_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool done_ = false;
  bool fired_ = false;
  std::thread thread_;
};

struct Response {
  int status = 0;
  std::string body;
  std::string retry_after;  // the Retry-After header, if any
};

Response post_json(const Common &c, const std::string &suffix, const Headers &headers,
                   const std::string &body, long long timeout_ms, const sdk::LlmRequest &req) {
  const Error cancelled(PGMCP_ERR_CANCELLED, "the request was cancelled");
  if (req.cancelled()) throw cancelled;
  std::unique_ptr<Poco::Net::HTTPClientSession> session;
  std::optional<CancelWatch> watch;  // destroyed before the session
  auto was_cancelled = [&] { return watch.has_value() && watch->fired(); };
  try {
    if (c.scheme == "https")
      session = std::make_unique<Poco::Net::HTTPSClientSession>(c.host, c.port, tls_context(c));
    else
      session = std::make_unique<Poco::Net::HTTPClientSession>(c.host, c.port);
    session->setTimeout(Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(timeout_ms) * 1000));
    Poco::Net::HTTPRequest http(Poco::Net::HTTPRequest::HTTP_POST, c.path + suffix,
                                Poco::Net::HTTPMessage::HTTP_1_1);
    http.setContentType("application/json");
    http.setContentLength(static_cast<std::streamsize>(body.size()));
    http.set("Accept", "application/json");
    http.set("User-Agent", "pg-mcp");
    for (const auto &[k, v] : c.extra_headers) http.set(k, v);
    for (const auto &[k, v] : headers) http.set(k, v);
    std::ostream &request_body = session->sendRequest(http);  // connects
    watch.emplace(req, static_cast<int>(session->socket().impl()->sockfd()));
    request_body << body;
    Poco::Net::HTTPResponse response;
    std::istream &in = session->receiveResponse(response);
    Response r;
    r.status = static_cast<int>(response.getStatus());
    r.retry_after = response.get("Retry-After", "");
    std::ostringstream out;
    Poco::StreamCopier::copyStream(in, out);
    r.body = out.str();
    if (was_cancelled()) throw cancelled;  // a body cut short by the shutdown
    return r;
  } catch (const Poco::TimeoutException &) {
    if (was_cancelled()) throw cancelled;
    throw Error(PGMCP_ERR_TIMEOUT,
                "no answer from " + c.base_url + " within " + std::to_string(timeout_ms) + " ms");
  } catch (const Poco::Net::SSLException &e) {
    if (was_cancelled()) throw cancelled;
    throw Error(PGMCP_ERR_REMOTE,
                scrub(c, "TLS with " + c.base_url + " failed: " + e.displayText() +
                             " (is the certificate trusted? see ca_file)"));
  } catch (const Poco::Exception &e) {
    if (was_cancelled()) throw cancelled;
    throw Error(PGMCP_ERR_UNAVAILABLE,
                scrub(c, "cannot reach " + c.base_url + ": " + e.displayText()));
  }
}

}  // namespace

std::string string_field(const nlohmann::json &j, const char *key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

std::uint64_t count_field(const nlohmann::json &j, const char *key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_unsigned() ? it->get<std::uint64_t>() : 0;
}

long long retry_after_ms(const std::string &value) {
  if (value.empty()) return -1;
  char *end = nullptr;
  double seconds = std::strtod(value.c_str(), &end);
  if (end != value.c_str() && *end == '\0' && seconds >= 0)
    return static_cast<long long>(seconds * 1000);
  try {
    int tz = 0;
    Poco::DateTime when = Poco::DateTimeParser::parse(value, tz);
    long long ms =
        (when.timestamp().epochMicroseconds() - Poco::Timestamp().epochMicroseconds()) / 1000;
    return ms < 0 ? 0 : ms;
  } catch (const Poco::Exception &) {
    return -1;
  }
}

namespace {

std::string provider_message(const std::string &body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("error")) {
    const auto &e = j["error"];
    if (e.is_object() && e.contains("message") && e["message"].is_string())
      return e["message"].get<std::string>();
    if (e.is_string()) return e.get<std::string>();
  }
  std::string s = body.substr(0, 300);
  for (char &ch : s)
    if (ch == '\n' || ch == '\r') ch = ' ';
  return s;
}

[[noreturn]] void fail(const Common &c, const std::string &provider, const Response &r) {
  std::string what = scrub(
      c, provider + " answered HTTP " + std::to_string(r.status) + ": " + provider_message(r.body));
  if (r.status == 429) {
    Error e(PGMCP_ERR_RATE_LIMITED, what);
    long long ms = retry_after_ms(r.retry_after);
    if (ms >= 0) e.with("retry_after_ms", std::to_string(ms));
    throw e;
  }
  if (r.status >= 500 || r.status == 408) throw Error(PGMCP_ERR_UNAVAILABLE, what);
  Error e(PGMCP_ERR_REMOTE, what);
  e.with("http_status", std::to_string(r.status));
  throw e;
}

nlohmann::json parse_body(const Common &c, const std::string &provider, const Response &r) {
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (!j.is_object())
    throw Error(PGMCP_ERR_REMOTE,
                scrub(c, provider + " answered HTTP " + std::to_string(r.status) +
                             " with a body that is not a JSON object: " + r.body.substr(0, 120)));
  return j;
}

}  // namespace

nlohmann::json conversation(const sdk::LlmRequest &req) {
  nlohmann::json messages = nlohmann::json::array();
  for (std::size_t i = 0; i < req.size(); ++i)
    messages.push_back({{"role", req.role(i) == PGMCP_LLM_ASSISTANT ? "assistant" : "user"},
                        {"content", req.text(i)}});
  return messages;
}

nlohmann::json call(const Common &c, const std::string &provider, const std::string &suffix,
                    const Headers &headers, const nlohmann::json &body,
                    const sdk::LlmRequest &req) {
  long long timeout = req.timeout_ms() > 0 ? req.timeout_ms() : c.timeout_ms;
  Response r = post_json(c, suffix, headers, body.dump(), timeout, req);
  if (r.status < 200 || r.status >= 300) fail(c, provider, r);
  return parse_body(c, provider, r);
}

}  // namespace pgmcp::llmhttp
