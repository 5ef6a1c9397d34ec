// CJPEG: the only place Obscura touches libjpeg(-turbo)'s C API. See obscura_jpeg.c.
#ifndef OBSCURA_JPEG_H
#define OBSCURA_JPEG_H
#include <stddef.h>
#endif
