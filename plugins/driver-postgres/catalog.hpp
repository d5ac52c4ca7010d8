// The catalog queries behind describe_schema.
#pragma once

#include <array>
#include <string>

namespace pgmcp::postgres {

// The statements that describe the catalog, in the order the host reads
// them: schemas and relations, columns, the rest. Each one's first column is
// the object kind; see catalog.cpp for the columns.
const std::array<std::string, 3> &catalog_queries();

}  // namespace pgmcp::postgres
