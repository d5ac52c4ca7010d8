// The "redis" plugin: one rate limit shared by every pg-mcp of a fleet, kept
// in Redis. Each decision is one atomic server-side script (GCRA: the key
// holds the theoretical arrival time of the next unit, in the server's clock,
// so instances' clocks do not matter), keyed per limiter and per host key
// (database or LLM, and client subject), expiring once idle.
//
//   [rate_limiter.NAME]
//   plugin         = redis
//   rate           = 100/min    ; N/s, N/min or N/h (required)
//   burst          = 100        ; units a key may spend at once (default: N of the rate)
//   host           = 127.0.0.1
//   port           = 6379
//   user           =            ; ACL user (Redis 6+); empty: the default user
//   password       =            ; AUTH; use ${VAR} rather than writing it here
//   database       = 0          ; SELECT
//   tls            = false      ; TLS to Redis; tls_verify, tls_ca_file as for HTTPS
//   pool_size      = 8          ; connections kept, at most
//   timeout_ms     = 250        ; connect, send and receive, each
//   retry_ms       = 1000       ; after a failure, how long calls skip Redis
//   on_unavailable = deny       ; allow: let calls through unlimited while Redis is down
//   key_prefix     = pgmcp
#include <Poco/DigestEngine.h>
#include <Poco/Exception.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/SHA1Engine.h>

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "pgmcp/cpp/ratelimit.hpp"
#include "resp.hpp"

namespace {

using pgmcp::sdk::Config;
using pgmcp::sdk::Error;
using pgmcp::sdk::Grant;
using Clock = std::chrono::steady_clock;

// GCRA in one step. KEYS[1]: the key. ARGV: microseconds per unit, burst,
// cost, the longest wait the caller accepts (microseconds). Returns
// {1, wait} when granted after `wait` microseconds (the grant is reserved
// now), {0, wait} when the grant would take longer than the caller accepts
// (nothing consumed).
const char *const kScript = R"LUA(
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local max_wait = tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local next_tat = tat + cost * interval
local wait = next_tat - burst * interval - now
if wait > max_wait then return {0, math.ceil(wait)} end
if wait < 0 then wait = 0 end
redis.call('SET', KEYS[1], string.format('%.0f', next_tat), 'PX',
           math.ceil((next_tat - now) / 1000) + 1000)
return {1, math.ceil(wait)}
)LUA";

enum class WhenDown { allow, deny };

struct Settings {
  double rate_per_second = 1;
  long long burst = 1;
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string user, password;
  int database = 0;
  bool tls = false, tls_verify = true;
  std::string tls_ca_file;
  int pool_size = 8;
  int timeout_ms = 250;
  int retry_ms = 1000;
  WhenDown when_down = WhenDown::deny;
  std::string key_prefix = "pgmcp";
  std::string name;  // rate_limiter.NAME
};

Settings read_settings(const Config &config) {
  config.allow_only({"rate", "burst", "host", "port", "user", "password", "database", "tls",
                     "tls_verify", "tls_ca_file", "pool_size", "timeout_ms", "retry_ms",
                     "on_unavailable", "key_prefix"});
  Settings s;
  std::string rate = config.require("rate");
  try {
    s.rate_per_second = pgmcp::sdk::parse_rate(rate);
  } catch (const std::invalid_argument &e) {
    throw config.fail("rate", std::string("= ") + e.what());
  }
  long long n =
      std::max(1LL, static_cast<long long>(std::ceil(std::strtod(rate.c_str(), nullptr))));
  s.burst = config.get_int("burst", n, 1, 1000000000);
  s.host = config.get_or("host", s.host);
  s.port = static_cast<int>(config.get_int("port", 6379, 1, 65535));
  s.user = config.get_or("user", "");
  s.password = config.get_or("password", "");
  if (!s.user.empty() && s.password.empty())
    throw config.fail("user", "needs a password (an ACL user logs in with AUTH user password)");
  s.database = static_cast<int>(config.get_int("database", 0, 0, 1000000));
  s.tls = config.get_bool("tls", false);
  s.tls_verify = config.get_bool("tls_verify", true);
  s.tls_ca_file = config.get_or("tls_ca_file", "");
  s.pool_size = static_cast<int>(config.get_int("pool_size", 8, 1, 1024));
  s.timeout_ms = static_cast<int>(config.get_int("timeout_ms", 250, 1, 60000));
  s.retry_ms = static_cast<int>(config.get_int("retry_ms", 1000, 0, 3600000));
  std::string when = config.get_or("on_unavailable", "deny");
  if (when == "allow")
    s.when_down = WhenDown::allow;
  else if (when == "deny")
    s.when_down = WhenDown::deny;
  else
    throw config.fail("on_unavailable", "= '" + when + "': write allow or deny");
  s.key_prefix = config.get_or("key_prefix", "pgmcp");
  s.name = config.name();  // "rate_limiter.NAME": the NAME
  if (auto dot = s.name.find('.'); dot != std::string::npos) s.name = s.name.substr(dot + 1);
  return s;
}

// Redis could not decide: not reachable, too slow, or it refused us.
struct Unavailable {
  std::string why;
};

// One connection to Redis: a socket (TLS or not) and the reply reader on it.
class Connection {
 public:
  explicit Connection(Poco::Net::StreamSocket socket)
      : socket_(std::move(socket)), reader_([this](char *buf, std::size_t n) {
          int got = socket_.receiveBytes(buf, static_cast<int>(n));
          return got > 0 ? static_cast<std::size_t>(got) : 0;
        }) {}

  // Sends one command and reads its reply; Redis's error replies come back
  // as replies of type '-'.
  pgmcp::resp::Reply call(const std::vector<std::string> &args) {
    std::string out = pgmcp::resp::encode(args);
    for (std::size_t sent = 0; sent < out.size();) {
      int n = socket_.sendBytes(out.data() + sent, static_cast<int>(out.size() - sent));
      if (n <= 0) throw Unavailable{"the connection closed while sending"};
      sent += static_cast<std::size_t>(n);
    }
    return reader_.read();
  }

 private:
  Poco::Net::StreamSocket socket_;
  pgmcp::resp::Reader reader_;
};

class RedisLimiter final : public pgmcp::sdk::RateLimiter {
 public:
  explicit RedisLimiter(const Config &config) : s_(read_settings(config)) {
    Poco::SHA1Engine sha;
    sha.update(std::string(kScript));
    sha_ = Poco::DigestEngine::digestToHex(sha.digest());
    where_ = "Redis at " + s_.host + ":" + std::to_string(s_.port);
  }

  Grant try_acquire(std::string_view key, std::uint32_t cost) override {
    return decide(key, cost, std::chrono::milliseconds(0));
  }

  Grant acquire(std::string_view key, std::uint32_t cost,
                std::chrono::milliseconds max_wait) override {
    return decide(key, cost, max_wait);
  }

 private:
  Grant decide(std::string_view key, std::uint32_t cost, std::chrono::milliseconds max_wait) {
    if (cost > s_.burst)
      throw Error(PGMCP_ERR_INVALID_ARGUMENT, "a cost of " + std::to_string(cost) +
                                                  " is more than burst " +
                                                  std::to_string(s_.burst) + " ever allows");
    Grant g;
    try {
      double interval = 1e6 / s_.rate_per_second;
      auto [granted, wait_us] = run(s_.key_prefix + ":" + s_.name + ":" + std::string(key),
                                    interval, cost, max_wait.count() * 1000);
      g.granted = granted;
      if (!granted) {
        g.retry_after = std::chrono::microseconds(std::max(1LL, wait_us - max_wait.count() * 1000));
        return g;
      }
      if (wait_us > 0) {
        std::this_thread::sleep_for(std::chrono::microseconds(wait_us));
        g.waited = std::chrono::microseconds(wait_us);
      }
      return g;
    } catch (const Unavailable &u) {
      if (s_.when_down == WhenDown::allow) {
        g.granted = true;
        g.unenforced = true;
        return g;
      }
      throw Error(PGMCP_ERR_UNAVAILABLE,
                  where_ + " cannot decide (" + u.why +
                      "); on_unavailable = deny refuses calls until it answers. Try again later.");
    }
  }

  // One decision on Redis: {granted, wait in microseconds}. Throws Unavailable.
  std::pair<bool, long long> run(const std::string &key, double interval, std::uint32_t cost,
                                 long long max_wait_us) {
    {
      std::lock_guard lock(mutex_);
      if (Clock::now() < down_until_) throw Unavailable{"unreachable: " + last_error_};
    }
    std::unique_ptr<Connection> c = take();
    try {
      pgmcp::resp::Reply reply = eval(*c, key, interval, cost, max_wait_us);
      if (reply.type == '-') throw Unavailable{"Redis answered: " + reply.text};
      if (reply.type != '*' || reply.items.size() != 2 || reply.items[0].type != ':' ||
          reply.items[1].type != ':')
        throw Unavailable{"the script's answer is not two integers"};
      give_back(std::move(c));
      return {reply.items[0].number == 1, reply.items[1].number};
    } catch (const Unavailable &u) {
      drop(u.why);
      throw;
    } catch (const std::exception &e) {
      drop(what(e));
      throw Unavailable{what(e)};
    }
  }

  static std::string what(const std::exception &e) {
    if (auto *p = dynamic_cast<const Poco::Exception *>(&e)) return p->displayText();
    return e.what();
  }

  pgmcp::resp::Reply eval(Connection &c, const std::string &key, double interval,
                          std::uint32_t cost, long long max_wait_us) {
    char interval_text[64];
    std::snprintf(interval_text, sizeof interval_text, "%.6f", interval);
    auto command = [&](const std::string &verb, const std::string &body) {
      return std::vector<std::string>{verb,
                                      body,
                                      "1",
                                      key,
                                      interval_text,
                                      std::to_string(s_.burst),
                                      std::to_string(cost),
                                      std::to_string(max_wait_us)};
    };
    pgmcp::resp::Reply r = c.call(command("EVALSHA", sha_));
    // A restarted or flushed Redis has forgotten the script: send it whole.
    if (r.type == '-' && r.text.rfind("NOSCRIPT", 0) == 0) r = c.call(command("EVAL", kScript));
    return r;
  }

  // A connection from the pool, or a new one while fewer than pool_size are
  // out; otherwise waits up to timeout_ms for one to come back.
  std::unique_ptr<Connection> take() {
    std::unique_lock lock(mutex_);
    auto deadline = Clock::now() + std::chrono::milliseconds(s_.timeout_ms);
    while (idle_.empty() && out_ >= s_.pool_size) {
      if (returned_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
          out_ >= s_.pool_size)
        throw Unavailable{"all " + std::to_string(s_.pool_size) +
                          " connections (pool_size) stayed busy for " +
                          std::to_string(s_.timeout_ms) + " ms"};
    }
    ++out_;
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return c;
    }
    lock.unlock();
    std::string why;
    try {
      return connect();
    } catch (const Unavailable &u) {
      why = u.why;
    } catch (const std::exception &e) {  // Poco's and the protocol's
      why = what(e);
    }
    lock.lock();
    --out_;
    returned_.notify_one();
    lock.unlock();
    mark_down(why);
    throw Unavailable{why};
  }

  void give_back(std::unique_ptr<Connection> c) {
    std::lock_guard lock(mutex_);
    --out_;
    idle_.push_back(std::move(c));
    if (!reachable_) {
      reachable_ = true;
      pgmcp::sdk::Host::log(PGMCP_LOG_INFO,
                            "rate limiter '" + s_.name + "': " + where_ + " answers again");
    }
    returned_.notify_one();
  }

  // A connection that failed is dropped (its state is unknown).
  void drop(const std::string &why) {
    {
      std::lock_guard lock(mutex_);
      --out_;
      returned_.notify_one();
    }
    mark_down(why);
  }

  // Calls skip Redis for retry_ms, so that they do not each wait a timeout.
  void mark_down(const std::string &why) {
    std::lock_guard lock(mutex_);
    last_error_ = why;
    down_until_ = Clock::now() + std::chrono::milliseconds(s_.retry_ms);
    idle_.clear();
    if (reachable_) {
      reachable_ = false;
      pgmcp::sdk::Host::log(PGMCP_LOG_WARNING,
                            "rate limiter '" + s_.name + "': " + where_ + " cannot decide: " + why +
                                (s_.when_down == WhenDown::allow
                                     ? "; on_unavailable = allow lets calls through unlimited"
                                     : "; on_unavailable = deny refuses calls") +
                                " until it answers");
    }
  }

  std::unique_ptr<Connection> connect() {
    Poco::Timespan timeout(static_cast<Poco::Timespan::TimeDiff>(s_.timeout_ms) * 1000);
    Poco::Net::SocketAddress address(s_.host, static_cast<Poco::UInt16>(s_.port));
    Poco::Net::StreamSocket socket;
    if (s_.tls) {
      Poco::Net::SecureStreamSocket secure(tls_context());
      secure.setPeerHostName(s_.host);
      secure.connect(address, timeout);
      socket = secure;
    } else {
      socket.connect(address, timeout);
    }
    socket.setNoDelay(true);
    socket.setReceiveTimeout(timeout);
    socket.setSendTimeout(timeout);
    auto c = std::make_unique<Connection>(socket);
    if (!s_.password.empty()) {
      std::vector<std::string> auth{"AUTH"};
      if (!s_.user.empty()) auth.push_back(s_.user);
      auth.push_back(s_.password);
      // Redis's own words ("WRONGPASS invalid username-password pair"), never the password.
      if (auto r = c->call(auth); r.type == '-') throw Unavailable{"AUTH failed: " + r.text};
    }
    if (s_.database != 0) {
      if (auto r = c->call({"SELECT", std::to_string(s_.database)}); r.type == '-')
        throw Unavailable{"SELECT " + std::to_string(s_.database) + " failed: " + r.text};
    }
    return c;
  }

  Poco::Net::Context::Ptr tls_context() {
    std::lock_guard lock(mutex_);
    if (!tls_) {
      auto mode =
          s_.tls_verify ? Poco::Net::Context::VERIFY_RELAXED : Poco::Net::Context::VERIFY_NONE;
      tls_ = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, "", "", s_.tls_ca_file,
                                    mode, 9, s_.tls_ca_file.empty(), "HIGH:!aNULL:!MD5");
    }
    return tls_;
  }

  const Settings s_;
  std::string sha_, where_;
  std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<Connection>> idle_;
  int out_ = 0;
  bool reachable_ = true;
  Clock::time_point down_until_{};
  std::string last_error_;
  Poco::Net::Context::Ptr tls_;
};

}  // namespace

PGMCP_PLUGIN("redis", "1.0.0", "Rate limiter shared by a fleet, kept in Redis (GCRA per key)",
             pgmcp::sdk::RateLimiterCapability<RedisLimiter>)
