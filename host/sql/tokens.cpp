#include "sql/tokens.hpp"

#include <pg_query.h>

#include <algorithm>
#include <stdexcept>

namespace pgmcp::sql {

namespace {

// Protocol Buffers wire format, as much as ScanResult needs.
struct Reader {
  const uint8_t *p, *end;
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p == end) throw std::invalid_argument("truncated scan result");
      uint8_t b = *p++;
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    throw std::invalid_argument("malformed scan result");
  }
  void skip(uint32_t wire) {
    if (wire == 0) {
      varint();
    } else if (wire == 2) {
      uint64_t n = varint();
      if (n > static_cast<uint64_t>(end - p)) throw std::invalid_argument("truncated scan result");
      p += n;
    } else if (wire == 5 || wire == 1) {
      size_t n = wire == 5 ? 4 : 8;
      if (n > static_cast<size_t>(end - p)) throw std::invalid_argument("truncated scan result");
      p += n;
    } else {
      throw std::invalid_argument("malformed scan result");
    }
  }
};

Token read_token(Reader r) {
  Token t;
  while (r.p < r.end) {
    uint64_t key = r.varint();
    uint32_t field = static_cast<uint32_t>(key >> 3), wire = static_cast<uint32_t>(key & 7);
    if (wire == 0 && (field == 1 || field == 2 || field == 4)) {
      int32_t v = static_cast<int32_t>(r.varint());
      (field == 1 ? t.start : field == 2 ? t.end : t.kind) = v;
    } else {
      r.skip(wire);
    }
  }
  return t;
}

}  // namespace

std::vector<Token> scan(const std::string &sql) {
  PgQueryScanResult result = pg_query_scan(sql.c_str());
  struct Free {
    PgQueryScanResult &r;
    ~Free() { pg_query_free_scan_result(r); }
  } free_result{result};
  if (result.error != nullptr)
    throw std::invalid_argument(result.error->message != nullptr ? result.error->message
                                                                 : "cannot scan the statement");
  std::vector<Token> out;  // comments left out
  const auto *data = reinterpret_cast<const uint8_t *>(result.pbuf.data);
  Reader r{data, data + result.pbuf.len};
  while (r.p < r.end) {
    uint64_t key = r.varint();
    uint32_t field = static_cast<uint32_t>(key >> 3), wire = static_cast<uint32_t>(key & 7);
    if (field == 2 && wire == 2) {
      uint64_t n = r.varint();
      if (n > static_cast<uint64_t>(r.end - r.p))
        throw std::invalid_argument("truncated scan result");
      Token t = read_token(Reader{r.p, r.p + n});
      if (t.kind != token::kSqlComment && t.kind != token::kCComment) out.push_back(t);
      r.p += n;
    } else {
      r.skip(wire);
    }
  }
  for (const Token &t : out)
    if (t.start < 0 || t.end < t.start || static_cast<size_t>(t.end) > sql.size())
      throw std::invalid_argument("a token outside the statement");
  return out;
}

size_t nesting_bound(const std::vector<Token> &tokens) {
  std::vector<size_t> chain{0};  // per open parenthesis: tokens chained since the last comma
  size_t bound = 0;
  for (const Token &t : tokens) {
    if (t.kind == token::kOpenParen) {
      chain.push_back(0);
    } else if (t.kind == token::kCloseParen) {
      if (chain.size() > 1) chain.pop_back();
      ++chain.back();  // the parenthesised expression is one more operand
    } else if (t.kind == token::kComma || t.kind == token::kSemicolon) {
      chain.back() = 0;
    } else if (t.kind < token::kIdent || t.kind > token::kParam || t.kind == token::kOp) {
      ++chain.back();  // anything but a name or a constant can nest
    }
    bound = std::max(bound, chain.size() + chain.back());
  }
  return bound;
}

std::string inner_statement(const std::string &sql) {
  std::vector<Token> t = scan(sql);
  if (t.empty()) return "";
  size_t i = 0, n = t.size();
  size_t stop = n;  // one past the inner statement's last token
  // A trailing semicolon is not part of the inner statement.
  if (stop > 0 && t[stop - 1].kind == ';') --stop;
  auto skip_parens = [&](size_t at) {
    int depth = 0;
    for (; at < stop; ++at) {
      if (t[at].kind == token::kOpenParen) ++depth;
      if (t[at].kind == token::kCloseParen && --depth == 0) return at + 1;
    }
    return stop;
  };
  if (t[0].kind == token::kExplain) {
    i = 1;
    if (i < stop && t[i].kind == token::kOpenParen) {
      i = skip_parens(i);
    } else {
      // EXPLAIN ANALYZE VERBOSE: keywords, never an identifier's text
      auto word = [&](size_t k) { return sql.substr(t[k].start, t[k].end - t[k].start); };
      while (i < stop) {
        std::string w = word(i);
        for (auto &c : w) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (w != "analyze" && w != "analyse" && w != "verbose") break;
        ++i;
      }
    }
  } else {
    // CREATE ... AS query: the first AS outside parentheses.
    int depth = 0;
    for (; i < stop; ++i) {
      if (t[i].kind == token::kOpenParen) ++depth;
      if (t[i].kind == token::kCloseParen) --depth;
      if (depth == 0 && t[i].kind == token::kAs) break;
    }
    if (i == stop) return "";
    ++i;
    // WITH [NO] DATA at the end belongs to CREATE, not to the query.
    if (stop >= 2 && t[stop - 1].kind == token::kData) {
      size_t w = stop - 2;
      if (t[w].kind == token::kNo && w > 0) --w;
      if (t[w].kind == token::kWith || t[w].kind == token::kWithLa) stop = w;
    }
  }
  if (i >= stop) return "";
  return sql.substr(t[i].start, t[stop - 1].end - t[i].start);
}

}  // namespace pgmcp::sql
