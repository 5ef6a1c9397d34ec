#include "obscura_v4l2.h"
