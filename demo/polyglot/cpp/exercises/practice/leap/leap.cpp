#include "leap.h"

namespace leap {
bool is_leap_year(int) { return false; }
}  // namespace leap
