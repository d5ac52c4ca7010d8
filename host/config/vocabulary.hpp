// The operator's vocabulary for the query tool: terms and acronyms the schema
// does not define (with what they mean and the tables and columns they
// concern), and example questions with the SQL that answers them. Read from
// the JSON file [tools] query.vocabulary_file names; docs/llm.md shows the
// format.
#pragma once

#include <string>
#include <vector>

namespace pgmcp::config {

struct Term {
  std::string term;                  // "ARR"
  std::vector<std::string> also;     // other spellings: "annual recurring revenue"
  std::string means;                 // the definition, for the model
  std::string database;              // empty: every database
  std::vector<std::string> tables;   // schema.table or table
  std::vector<std::string> columns;  // schema.table.column or table.column
};

struct Example {
  std::string question, sql;
  std::string database;  // empty: every database
};

struct Vocabulary {
  std::string path;  // where it was read from, for messages
  std::vector<Term> terms;
  std::vector<Example> examples;
  bool empty() const { return terms.empty() && examples.empty(); }
};

// Reads and validates a vocabulary file. Throws std::invalid_argument saying
// what is wrong and where ("terms[2].tables[0]: ..."), one problem at a time.
Vocabulary load_vocabulary(const std::string &path);

// The same, from text (path is only for messages).
Vocabulary parse_vocabulary(const std::string &text, const std::string &path);

}  // namespace pgmcp::config
