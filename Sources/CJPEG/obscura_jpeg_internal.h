// Private to CJPEG: the error manager shared by the decoder and the encoder.
//
// Why it exists: libjpeg's error_exit must not return, so both halves of the shim install this
// manager, arm `jump` with setjmp at each entry point, and get back a status code and a message
// instead of a process exit. It also decides which libjpeg warnings mean corrupt data.
#ifndef OBSCURA_JPEG_INTERNAL_H
#define OBSCURA_JPEG_INTERNAL_H

#include <setjmp.h>
#include <stdio.h> // jpeglib.h uses FILE without including stdio.h
#include <jpeglib.h>

#include "obscura_jpeg.h"

typedef struct obscura_jpeg_error_manager {
    struct jpeg_error_mgr base; // first, so a j_common_ptr's err can be cast to this
    jmp_buf jump;
    obscura_jpeg_status status;
    uint64_t corrupt_warnings;
    uint64_t other_warnings;
    char message[JMSG_LENGTH_MAX];
} obscura_jpeg_error_manager;

/// Installs the handlers on `manager` and returns the pointer to store in `cinfo->err`.
struct jpeg_error_mgr *obscura_jpeg_error_manager_install(obscura_jpeg_error_manager *manager);

/// Records a failure raised by the shim itself and jumps back to the armed setjmp.
void obscura_jpeg_fail(j_common_ptr info, obscura_jpeg_status status, const char *message);

/// Clears the per-image failure state before a new entry point runs.
void obscura_jpeg_error_manager_reset(obscura_jpeg_error_manager *manager);

#endif
