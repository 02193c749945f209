// NAME
//   explain.h - policyd --explain: why a request gets the reply it gets
// SYNOPSIS
//   #include "explain/explain.h"
//   int status = explain(config, explain_input_from_text(text), std::cout);
// DESCRIPTION
//   Evaluates one request against the live database with the configured
//   checks, in order, through the daemon's own Pipeline and checks (no
//   second implementation of any of them), and prints for every check
//   whether it is enabled, the statements it ran with their values and
//   answers (rows with column names: the row that matched, the counters
//   and their limits), the rows it would have changed, its decision line
//   and its verdict; then the reply Postfix would get.
//
//   Nothing is changed: the whole evaluation runs inside one transaction
//   that is rolled back. Because a non-transactional table (MyISAM, as
//   policyd 1.x created its tables) would keep its writes, explain first
//   refuses, naming such tables, if the database has any. The explanation
//   holds row locks for the moment it runs, as one request would.
//
//   Returns the exit status: 0 explained, 1 refused (non-transactional
//   tables, database unreachable).
#pragma once

#include <ostream>

#include "config/config.h"
#include "explain/explain_input.h"

namespace policyd {

int explain(const Config& config, const ExplainInput& input, std::ostream& out);

}  // namespace policyd
