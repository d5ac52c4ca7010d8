#include "pipeline/words.hpp"

#include <algorithm>
#include <cctype>
#include <set>

namespace pgmcp::pipeline {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

void each_word(const std::string &text, const std::function<void(const std::string &)> &fn) {
  std::string w;
  for (char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c)) != 0) {
      w += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (!w.empty()) {
      fn(w);
      w.clear();
    }
  }
  if (!w.empty()) fn(w);
}

bool ends_with(const std::string &s, const std::string &tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

std::vector<std::string> question_words(const std::string &text) {
  static const std::set<std::string> stop = {
      "the",       "a",        "an",    "of",     "in",      "on",         "for",    "to",
      "and",       "or",       "by",    "with",   "what",    "which",      "who",    "how",
      "many",      "much",     "is",    "are",    "was",     "were",       "per",    "each",
      "all",       "show",     "me",    "list",   "give",    "find",       "from",   "that",
      "this",      "their",    "there", "do",     "does",    "did",        "have",   "has",
      "most",      "top",      "last",  "first",  "than",    "more",       "less",   "be",
      "it",        "its",      "at",    "please", "among",   "them",       "they",   "those",
      "these",     "whose",    "when",  "where",  "not",     "any",        "number", "name",
      "names",     "between",  "only",  "also",   "been",    "being",      "into",   "over",
      "under",     "out",      "state", "total",  "average", "percentage", "ratio",  "count",
      "calculate", "indicate", "value", "values", "least",   "highest",    "lowest", "times",
      "people"};
  std::vector<std::string> out;
  each_word(text, [&](const std::string &w) {
    bool number =
        std::all_of(w.begin(), w.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
    if (w.size() >= 2 && !number && stop.count(w) == 0 &&
        std::find(out.begin(), out.end(), w) == out.end())
      out.push_back(w);
  });
  return out;
}

// An identifier's words as people read it: split at anything that is not a
// letter or digit, between letters and digits, and at case changes
// ("CustomerID" -> customer, id; "eye_colour_id" -> eye, colour, id).
std::vector<std::string> name_words(const std::string &name) {
  std::vector<std::string> out;
  std::string w;
  auto flush = [&] {
    if (!w.empty()) out.push_back(lower(w));
    w.clear();
  };
  for (size_t i = 0; i < name.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(name[i]);
    if (std::isalnum(c) == 0) {
      flush();
      continue;
    }
    if (!w.empty()) {
      unsigned char prev = static_cast<unsigned char>(w.back());
      bool digit_change = (std::isdigit(prev) != 0) != (std::isdigit(c) != 0);
      bool lower_to_upper = std::islower(prev) != 0 && std::isupper(c) != 0;
      // "IDNumber": a capital followed by a lower-case letter starts a word
      bool acronym_end = std::isupper(prev) != 0 && std::isupper(c) != 0 && i + 1 < name.size() &&
                         std::islower(static_cast<unsigned char>(name[i + 1])) != 0;
      if (digit_change || lower_to_upper || acronym_end) flush();
    }
    w += static_cast<char>(c);
  }
  flush();
  return out;
}

// A word's stem, enough to read plurals and simple endings alike:
// businesses, business; countries, country; heroes, hero; races, race.
std::string stem(std::string w) {
  auto cut = [&](size_t n) { w.resize(w.size() - n); };
  if (w.size() > 4 && ends_with(w, "ies")) {
    cut(3);
    w += 'y';
  } else if (w.size() > 4 &&
             (ends_with(w, "sses") || ends_with(w, "ches") || ends_with(w, "shes") ||
              ends_with(w, "xes") || ends_with(w, "zes") || ends_with(w, "oes"))) {
    cut(2);
  } else if (w.size() > 3 && w.back() == 's' && w[w.size() - 2] != 's' && w[w.size() - 2] != 'u' &&
             w[w.size() - 2] != 'i') {
    cut(1);
  }
  if (w.size() > 5 && ends_with(w, "ing")) cut(3);
  if (w.size() > 4 && ends_with(w, "ed")) cut(2);
  if (w.size() > 3 && w.back() == 'e') cut(1);
  return w;
}

}  // namespace pgmcp::pipeline
