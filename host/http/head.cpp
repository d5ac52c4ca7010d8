#include "http/head.hpp"

#include <cctype>
#include <string>

namespace pgmcp::http::head {

// Where a head ends in `data` (the offset after the blank line), or npos.
std::size_t head_end(std::string_view data) {
  for (std::size_t i = 0; i < data.size(); ++i) {
    if (data[i] != '\n') continue;
    if (i + 1 < data.size() && data[i + 1] == '\n') return i + 2;
    if (i + 2 < data.size() && data[i + 1] == '\r' && data[i + 2] == '\n') return i + 3;
  }
  return std::string_view::npos;
}

namespace {

bool iequals_prefix(std::string_view line, std::string_view name) {
  if (line.size() < name.size()) return false;
  for (std::size_t i = 0; i < name.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(line[i])) != name[i]) return false;
  return true;
}

}  // namespace

BodyHint body_hint(std::string_view head) {
  BodyHint hint;
  bool seen_length = false;
  std::size_t pos = 0;
  while (pos < head.size()) {
    std::size_t eol = head.find('\n', pos);
    if (eol == std::string_view::npos) eol = head.size();
    std::string_view line = head.substr(pos, eol - pos);
    pos = eol + 1;
    if (iequals_prefix(line, "transfer-encoding:") || iequals_prefix(line, "expect:")) {
      hint.unknown = true;
    } else if (iequals_prefix(line, "content-length:")) {
      if (seen_length) hint.unknown = true;  // two lengths: the worker refuses it
      seen_length = true;
      std::string_view v = line.substr(15);
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
      while (!v.empty() && (v.back() == '\r' || v.back() == ' ' || v.back() == '\t'))
        v.remove_suffix(1);
      if (v.empty() || v.size() > 18 || v.find_first_not_of("0123456789") != v.npos) {
        hint.unknown = true;  // the worker answers 400
      } else {
        hint.length = std::stoull(std::string(v));
      }
    }
  }
  return hint;
}

Arrived assess(std::string_view data) {
  std::size_t end = head_end(data);
  if (end == std::string_view::npos)
    return data.size() >= kPeekBytes ? Arrived::head_too_large : Arrived::part_of_head;
  BodyHint hint = body_hint(data.substr(0, end));
  if (hint.unknown || end + hint.length <= data.size()) return Arrived::whole;
  if (end + hint.length > kPeekBytes) return Arrived::head_of_large_body;
  return Arrived::head_and_part_of_body;
}

}  // namespace pgmcp::http::head
