// Error handling shared by the decoder and the encoder (see obscura_jpeg_internal.h).
//
// libjpeg calls error_exit for fatal errors and emit_message(-1) for warnings. Fatal errors
// must not return, so both end in longjmp back to the shim's entry point. Warnings that mean
// the data is corrupt are promoted to failures, because a truncated or damaged frame decoded to
// grey-filled or smeared pixels would pass through the pipeline as if it were real.
#include <string.h>

#include "obscura_jpeg_internal.h"
#include <jerror.h>

static obscura_jpeg_status obscura_jpeg_classify_error(int code) {
    switch (code) {
    case JERR_INPUT_EMPTY:
        return OBSCURA_JPEG_STATUS_EMPTY;
    case JERR_NO_SOI:
        return OBSCURA_JPEG_STATUS_NOT_JPEG;
    case JERR_INPUT_EOF:
        return OBSCURA_JPEG_STATUS_TRUNCATED;
    case JERR_BAD_PRECISION:
    case JERR_SOF_UNSUPPORTED:
    case JERR_NOT_COMPILED:
    case JERR_ARITH_NOTIMPL:
    case JERR_CONVERSION_NOTIMPL:
    case JERR_COMPONENT_COUNT:
    case JERR_IMAGE_TOO_BIG:
    case JERR_WIDTH_OVERFLOW:
        return OBSCURA_JPEG_STATUS_UNSUPPORTED;
    case JERR_OUT_OF_MEMORY:
    case JERR_NO_BACKING_STORE:
        return OBSCURA_JPEG_STATUS_LIMIT_EXCEEDED;
    default:
        return OBSCURA_JPEG_STATUS_CORRUPT;
    }
}

/// Warnings after which the pixels cannot be trusted. The rest (unknown JFIF revision, unknown
/// Adobe transform code and similar) describe metadata and are only counted.
static int obscura_jpeg_warning_means_corrupt(int code) {
    switch (code) {
    case JWRN_JPEG_EOF:
    case JWRN_HIT_MARKER:
    case JWRN_EXTRANEOUS_DATA:
    case JWRN_HUFF_BAD_CODE:
    case JWRN_ARITH_BAD_CODE:
    case JWRN_MUST_RESYNC:
    case JWRN_NOT_SEQUENTIAL:
    case JWRN_BOGUS_PROGRESSION:
    case JWRN_TOO_MUCH_DATA:
        return 1;
    default:
        return 0;
    }
}

static void obscura_jpeg_error_exit(j_common_ptr info) {
    obscura_jpeg_error_manager *manager = (obscura_jpeg_error_manager *)info->err;
    // A status set by the shim itself (output too small, scan limit) wins over the code.
    if (manager->status == OBSCURA_JPEG_STATUS_OK) {
        manager->status = obscura_jpeg_classify_error(info->err->msg_code);
        info->err->format_message(info, manager->message);
    }
    longjmp(manager->jump, 1);
}

static void obscura_jpeg_emit_message(j_common_ptr info, int level) {
    if (level >= 0) return; // trace messages: never printed, never counted
    obscura_jpeg_error_manager *manager = (obscura_jpeg_error_manager *)info->err;
    int code = info->err->msg_code;
    if (!obscura_jpeg_warning_means_corrupt(code)) {
        manager->other_warnings += 1;
        return;
    }
    manager->corrupt_warnings += 1;
    manager->status = code == JWRN_JPEG_EOF ? OBSCURA_JPEG_STATUS_TRUNCATED : OBSCURA_JPEG_STATUS_CORRUPT;
    info->err->format_message(info, manager->message);
    // Stop at the first sign of corruption, as TurboJPEG's TJFLAG_STOPONWARNING does: decoding
    // the rest would only spend time on pixels that will be thrown away.
    longjmp(manager->jump, 1);
}

static void obscura_jpeg_output_message(j_common_ptr info) {
    // libjpeg's default prints to stderr; the caller reports errors through typed Swift errors.
    (void)info;
}

struct jpeg_error_mgr *obscura_jpeg_error_manager_install(obscura_jpeg_error_manager *manager) {
    struct jpeg_error_mgr *base = jpeg_std_error(&manager->base);
    base->error_exit = obscura_jpeg_error_exit;
    base->emit_message = obscura_jpeg_emit_message;
    base->output_message = obscura_jpeg_output_message;
    manager->status = OBSCURA_JPEG_STATUS_OK;
    manager->corrupt_warnings = 0;
    manager->other_warnings = 0;
    strcpy(manager->message, "no error");
    return base;
}

void obscura_jpeg_error_manager_reset(obscura_jpeg_error_manager *manager) {
    manager->status = OBSCURA_JPEG_STATUS_OK;
    manager->base.msg_code = 0;
    manager->base.num_warnings = 0;
}

void obscura_jpeg_fail(j_common_ptr info, obscura_jpeg_status status, const char *message) {
    obscura_jpeg_error_manager *manager = (obscura_jpeg_error_manager *)info->err;
    manager->status = status;
    strncpy(manager->message, message, JMSG_LENGTH_MAX - 1);
    manager->message[JMSG_LENGTH_MAX - 1] = '\0';
    longjmp(manager->jump, 1);
}
