// Everything in CV4L2 is static inline in include/obscura_v4l2.h; this file exists because a
// SwiftPM C target needs at least one source file.
#include "obscura_v4l2.h"
