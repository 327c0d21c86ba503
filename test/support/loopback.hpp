// The loopback peers moved to peers/ (a library that nettrace-dial and the
// benchmarks use too); this keeps the tests' #include "support/loopback.hpp"
// working until they name peers/loopback.hpp themselves.
#pragma once

#include "../../peers/loopback.hpp"
