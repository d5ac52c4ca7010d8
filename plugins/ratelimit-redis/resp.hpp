// A minimal client side of RESP2, the Redis protocol: commands out as arrays
// of bulk strings, replies in (simple strings, errors, integers, bulk strings,
// arrays), read from any byte source. Poco 1.11's Redis client cannot run
// over TLS (it owns its socket), so the plugin speaks the protocol itself.
// The reader trusts nothing it is sent: lengths, nesting and numbers are
// bounded, and a malformed reply is an exception, never a crash.
#pragma once

#include <cstddef>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace pgmcp::resp {

struct Reply {
  char type = 0;  // '+' simple string, '-' error, ':' integer, '$' bulk, '*' array
  bool null = false;
  std::string text;          // '+', '-', '$'
  long long number = 0;      // ':'
  std::vector<Reply> items;  // '*'
};

// A reply that breaks the protocol or the reader's bounds.
class ProtocolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One command as RESP: *N, then $len and the bytes of each argument.
inline std::string encode(const std::vector<std::string> &args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (const auto &a : args) out += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  return out;
}

class Reader {
 public:
  // Fills buf with up to n bytes; returns how many (0: the peer closed).
  using Source = std::function<std::size_t(char *buf, std::size_t n)>;
  explicit Reader(Source source) : source_(std::move(source)) {}

  Reply read() { return read(0); }

 private:
  static constexpr std::size_t kMaxBulk = 1 << 20;
  static constexpr long long kMaxItems = 4096;
  static constexpr int kMaxDepth = 8;

  Reply read(int depth) {
    if (depth > kMaxDepth) throw ProtocolError("a reply nested deeper than 8 arrays");
    std::string l = line();
    if (l.empty()) throw ProtocolError("an empty reply line");
    Reply r;
    r.type = l[0];
    std::string rest = l.substr(1);
    switch (r.type) {
      case '+':
      case '-':
        r.text = rest;
        return r;
      case ':':
        r.number = integer(rest);
        return r;
      case '$': {
        long long n = integer(rest);
        if (n == -1) {
          r.null = true;
          return r;
        }
        if (n < 0 || static_cast<unsigned long long>(n) > kMaxBulk)
          throw ProtocolError("a bulk string of " + rest + " bytes");
        r.text = take(static_cast<std::size_t>(n));
        if (take(2) != "\r\n") throw ProtocolError("a bulk string not ended by CRLF");
        return r;
      }
      case '*': {
        long long n = integer(rest);
        if (n == -1) {
          r.null = true;
          return r;
        }
        if (n < 0 || n > kMaxItems) throw ProtocolError("an array of " + rest + " items");
        for (long long i = 0; i < n; ++i) r.items.push_back(read(depth + 1));
        return r;
      }
      default:
        throw ProtocolError("a reply of unknown type '" + std::string(1, r.type) + "'");
    }
  }

  static long long integer(const std::string &s) {
    if (s.empty() || s.size() > 20)
      throw ProtocolError("'" + s.substr(0, 24) + "' is not a number");
    std::size_t i = s[0] == '-' ? 1 : 0;
    if (i == s.size()) throw ProtocolError("'-' is not a number");
    long long v = 0;
    for (; i < s.size(); ++i) {
      if (s[i] < '0' || s[i] > '9') throw ProtocolError("'" + s + "' is not a number");
      if (v > (9223372036854775807LL - (s[i] - '0')) / 10)
        throw ProtocolError("'" + s + "' is out of range");
      v = v * 10 + (s[i] - '0');
    }
    return s[0] == '-' ? -v : v;
  }

  bool fill() {
    if (pos_ > 0 && pos_ == buf_.size()) {
      buf_.clear();
      pos_ = 0;
    }
    char chunk[4096];
    std::size_t n = source_(chunk, sizeof chunk);
    if (n == 0) return false;
    buf_.append(chunk, n);
    return true;
  }

  std::string line() {
    for (;;) {
      std::size_t end = buf_.find("\r\n", pos_);
      if (end != std::string::npos) {
        std::string l = buf_.substr(pos_, end - pos_);
        pos_ = end + 2;
        return l;
      }
      if (buf_.size() - pos_ > 64 * 1024) throw ProtocolError("a reply line longer than 64 KiB");
      if (!fill()) throw ProtocolError("the connection closed in the middle of a reply");
    }
  }

  std::string take(std::size_t n) {
    while (buf_.size() - pos_ < n)
      if (!fill()) throw ProtocolError("the connection closed in the middle of a reply");
    std::string out = buf_.substr(pos_, n);
    pos_ += n;
    return out;
  }

  Source source_;
  std::string buf_;
  std::size_t pos_ = 0;
};

}  // namespace pgmcp::resp
