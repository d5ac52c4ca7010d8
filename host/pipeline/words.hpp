// Words as the query tool's schema linking reads them: a question's words,
// an identifier's words (split at '_', case changes and digits), and stems
// that read plurals and simple endings alike.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace pgmcp::pipeline {

std::string lower(std::string s);
bool ends_with(const std::string &s, const std::string &tail);

// Calls fn(word) for each run of letters and digits in text, in lower case.
void each_word(const std::string &text, const std::function<void(const std::string &)> &fn);

// The question's words: letters and digits, lower case, without the words
// every question has and without bare numbers; each once.
std::vector<std::string> question_words(const std::string &text);

// An identifier's words as people read it: "CustomerID" -> customer, id;
// "eye_colour_id" -> eye, colour, id.
std::vector<std::string> name_words(const std::string &name);

// A word's stem: businesses, business; countries, country; races, race.
std::string stem(std::string w);

}  // namespace pgmcp::pipeline
