#include "obscura_jpeg.h"
