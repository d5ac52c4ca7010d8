// The catalog queries behind describe_schema.
#pragma once

namespace pgmcp::postgres {

// Each query's first column is the object kind; see catalog.cpp for the columns.
extern const char *const kCatalogQuery;

}  // namespace pgmcp::postgres
