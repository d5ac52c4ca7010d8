// What the operator's vocabulary (config/vocabulary.hpp) says about one
// question: the terms it uses and the closest example questions, for the
// prompt, and the relations they point at, for schema linking.
#pragma once

#include <string>
#include <vector>

#include "config/vocabulary.hpp"
#include "pipeline/databases.hpp"

namespace pgmcp::pipeline {

struct Guidance {
  // For the model: the definitions of the terms the question uses and the
  // closest examples with their SQL; empty when there are none.
  std::string prompt;
  // Lower-case relation names (schema.table or table) the terms and the
  // examples' SQL point at: shown before anything the words rank.
  std::vector<std::string> relations;
  // The definitions of the terms used, read as more words of the question.
  std::string linking_words;
};

// vocabulary may be null. Terms match as whole words, any case, plurals
// alike ("ARR", "ARRs", "annual recurring revenue"); examples rank by the
// question words they share (at most max_examples, each sharing at least
// one). Only entries for `database` or for every database count.
Guidance guidance(const config::Vocabulary *vocabulary, const std::string &database,
                  const std::string &question, std::size_t max_examples = 3);

// Checks every example's SQL against the policy of each database it applies
// to: the text stage always, the server's analysis too where the database
// answers (nothing runs). Returns one line per refusal, naming the example,
// the database and the rule; empty when all pass.
std::vector<std::string> check_examples(const config::Vocabulary &vocabulary,
                                        const Databases &databases);

}  // namespace pgmcp::pipeline
