// Decoder half of the shim: header reading, DCT-scaled raw (planar YUV) and grey-only decodes
// into caller-owned planes, with one jpeg_decompress_struct reused for every frame.
//
// Why in C: every libjpeg call that can fail must run under an armed setjmp, and raw-data
// decoding needs arrays of row pointers rebuilt for each MCU row; both are natural here and
// awkward (or impossible, for longjmp) in Swift.
#include <stdlib.h>
#include <string.h>

// jpegint.h (for cinfo->idct) is needed by the scaled 4:2:0 raw decode below; the same
// internals TurboJPEG itself uses for tjDecompressToYUVPlanes.
#define JPEG_INTERNALS
#include "obscura_jpeg_internal.h"

/// Row pointers per component per jpeg_read_raw_data call: v_samp_factor (at most 4) times
/// the scaled DCT size (at most 8).
#define OBSCURA_JPEG_MAX_GROUP_ROWS 32
#define OBSCURA_JPEG_MAX_PLANES 3

enum { STATE_IDLE = 0, STATE_HEADER_READ = 1, STATE_PREPARED = 2 };

struct obscura_jpeg_decoder {
    struct jpeg_decompress_struct info;
    obscura_jpeg_error_manager error;
    struct jpeg_progress_mgr progress;
    int32_t maximum_scans;
    int32_t state;
    int32_t gray_only;
    int32_t scale_eighths;
    obscura_jpeg_output output;
    // Scratch rows for MCU padding: rows past the bottom of a plane (and, when a stride is too
    // narrow for whole blocks, every row) land here. Grown when a larger image arrives, never
    // shrunk, so steady-state decoding allocates nothing here.
    JSAMPLE *scratch;
    size_t scratch_capacity;
    JSAMPROW rows[OBSCURA_JPEG_MAX_PLANES][OBSCURA_JPEG_MAX_GROUP_ROWS];
};

static void obscura_jpeg_decoder_progress(j_common_ptr common) {
    j_decompress_ptr info = (j_decompress_ptr)common;
    obscura_jpeg_decoder *decoder = (obscura_jpeg_decoder *)info->client_data;
    // A progressive JPEG can declare thousands of tiny scans, each a full pass over the
    // coefficients: bounded here as TurboJPEG's TJFLAG_LIMITSCANS does.
    if (decoder->maximum_scans > 0 && info->input_scan_number > decoder->maximum_scans) {
        char message[JMSG_LENGTH_MAX];
        snprintf(message, sizeof message, "JPEG has more than %d scans", (int)decoder->maximum_scans);
        obscura_jpeg_fail(common, OBSCURA_JPEG_STATUS_LIMIT_EXCEEDED, message);
    }
}

obscura_jpeg_decoder *obscura_jpeg_decoder_create(size_t maximum_memory, int32_t maximum_scans) {
    obscura_jpeg_decoder *decoder = calloc(1, sizeof *decoder);
    if (decoder == NULL) return NULL;
    decoder->info.err = obscura_jpeg_error_manager_install(&decoder->error);
    if (setjmp(decoder->error.jump)) {
        jpeg_destroy_decompress(&decoder->info);
        free(decoder);
        return NULL;
    }
    jpeg_create_decompress(&decoder->info);
    decoder->info.client_data = decoder;
    decoder->info.mem->max_memory_to_use = (long)maximum_memory;
    decoder->maximum_scans = maximum_scans;
    decoder->progress.progress_monitor = obscura_jpeg_decoder_progress;
    decoder->info.progress = &decoder->progress;
    decoder->state = STATE_IDLE;
    return decoder;
}

void obscura_jpeg_decoder_destroy(obscura_jpeg_decoder *decoder) {
    if (decoder == NULL) return;
    jpeg_destroy_decompress(&decoder->info);
    free(decoder->scratch);
    free(decoder);
}

void obscura_jpeg_decoder_abort(obscura_jpeg_decoder *decoder) {
    if (decoder == NULL) return;
    // jpeg_abort_decompress keeps the object (and its permanent allocations: source manager,
    // tables) for the next image and frees only what the image used.
    jpeg_abort_decompress(&decoder->info);
    decoder->state = STATE_IDLE;
}

static obscura_jpeg_status obscura_jpeg_decoder_failed(obscura_jpeg_decoder *decoder) {
    jpeg_abort_decompress(&decoder->info);
    decoder->state = STATE_IDLE;
    return decoder->error.status == OBSCURA_JPEG_STATUS_OK ? OBSCURA_JPEG_STATUS_FAILED : decoder->error.status;
}

static obscura_jpeg_status obscura_jpeg_decoder_reject(obscura_jpeg_decoder *decoder, obscura_jpeg_status status,
                                                       const char *message) {
    jpeg_abort_decompress(&decoder->info);
    decoder->state = STATE_IDLE;
    decoder->error.status = status;
    strncpy(decoder->error.message, message, JMSG_LENGTH_MAX - 1);
    decoder->error.message[JMSG_LENGTH_MAX - 1] = '\0';
    return status;
}

static int32_t obscura_jpeg_color_space(J_COLOR_SPACE space) {
    switch (space) {
    case JCS_GRAYSCALE: return OBSCURA_JPEG_COLOR_GRAYSCALE;
    case JCS_YCbCr: return OBSCURA_JPEG_COLOR_YCBCR;
    case JCS_RGB: return OBSCURA_JPEG_COLOR_RGB;
    case JCS_CMYK: return OBSCURA_JPEG_COLOR_CMYK;
    case JCS_YCCK: return OBSCURA_JPEG_COLOR_YCCK;
    default: return OBSCURA_JPEG_COLOR_UNKNOWN;
    }
}

obscura_jpeg_status obscura_jpeg_decoder_read_header(obscura_jpeg_decoder *decoder, const uint8_t *data, size_t size,
                                                     obscura_jpeg_header *header) {
    if (decoder == NULL || header == NULL) return OBSCURA_JPEG_STATUS_INVALID_ARGUMENT;
    if (decoder->state != STATE_IDLE) obscura_jpeg_decoder_abort(decoder);
    obscura_jpeg_error_manager_reset(&decoder->error);
    memset(header, 0, sizeof *header);
    if (data == NULL || size == 0) {
        return obscura_jpeg_decoder_reject(decoder, OBSCURA_JPEG_STATUS_EMPTY, "empty input");
    }
    if (setjmp(decoder->error.jump)) return obscura_jpeg_decoder_failed(decoder);

    // jpeg_mem_src allocates its manager once (permanent pool) and only re-points it after.
    jpeg_mem_src(&decoder->info, data, (unsigned long)size);
    jpeg_read_header(&decoder->info, TRUE);

    struct jpeg_decompress_struct *info = &decoder->info;
    header->width = (int32_t)info->image_width;
    header->height = (int32_t)info->image_height;
    header->components = info->num_components;
    header->color_space = obscura_jpeg_color_space(info->jpeg_color_space);
    header->progressive = info->progressive_mode ? 1 : 0;
    if (info->num_components >= 1) {
        header->luma_horizontal_sampling = info->comp_info[0].h_samp_factor;
        header->luma_vertical_sampling = info->comp_info[0].v_samp_factor;
    }
    if (info->num_components >= 3) {
        header->blue_horizontal_sampling = info->comp_info[1].h_samp_factor;
        header->blue_vertical_sampling = info->comp_info[1].v_samp_factor;
        header->red_horizontal_sampling = info->comp_info[2].h_samp_factor;
        header->red_vertical_sampling = info->comp_info[2].v_samp_factor;
    }
    decoder->state = STATE_HEADER_READ;
    return OBSCURA_JPEG_STATUS_OK;
}

static int32_t obscura_jpeg_divide_round_up(long numerator, long denominator) {
    return (int32_t)((numerator + denominator - 1) / denominator);
}

obscura_jpeg_status obscura_jpeg_decoder_prepare(obscura_jpeg_decoder *decoder, int32_t scale_eighths, int32_t gray_only,
                                                 obscura_jpeg_output *output) {
    if (decoder == NULL || output == NULL) return OBSCURA_JPEG_STATUS_INVALID_ARGUMENT;
    if (decoder->state != STATE_HEADER_READ) {
        return obscura_jpeg_decoder_reject(decoder, OBSCURA_JPEG_STATUS_INVALID_ARGUMENT, "prepare called before read_header");
    }
    if (scale_eighths != 8 && scale_eighths != 4 && scale_eighths != 2 && scale_eighths != 1) {
        return obscura_jpeg_decoder_reject(decoder, OBSCURA_JPEG_STATUS_INVALID_ARGUMENT, "scale must be 8, 4, 2 or 1 eighths");
    }
    struct jpeg_decompress_struct *info = &decoder->info;
    if (!gray_only && info->num_components != 1 && info->num_components != 3) {
        return obscura_jpeg_decoder_reject(decoder, OBSCURA_JPEG_STATUS_UNSUPPORTED, "raw decode needs 1 or 3 components");
    }
    for (int component = 0; component < info->num_components && !gray_only; component++) {
        if (info->comp_info[component].v_samp_factor * scale_eighths > OBSCURA_JPEG_MAX_GROUP_ROWS) {
            return obscura_jpeg_decoder_reject(decoder, OBSCURA_JPEG_STATUS_UNSUPPORTED, "sampling factors too large");
        }
    }
    if (setjmp(decoder->error.jump)) return obscura_jpeg_decoder_failed(decoder);

    info->scale_num = (unsigned int)scale_eighths;
    info->scale_denom = 8;
    // The accurate integer IDCT, as TurboJPEG decodes by default; the scaled 4:2:0 path below
    // also relies on every component using the same (ISLOW-format) multiplier tables.
    info->dct_method = JDCT_ISLOW;
    info->raw_data_out = gray_only ? FALSE : TRUE;
    if (gray_only) info->out_color_space = JCS_GRAYSCALE;
    jpeg_calc_output_dimensions(info);

    memset(output, 0, sizeof *output);
    output->width = (int32_t)info->output_width;
    output->height = (int32_t)info->output_height;
    if (gray_only || info->num_components == 1) {
        output->plane_count = 1;
        output->luma_width = output->width;
        output->luma_height = output->height;
        output->luma_padded_width = gray_only ? output->width
            : (int32_t)info->comp_info[0].width_in_blocks * scale_eighths;
    } else {
        // Plane sizes at the requested scale for every component (libjpeg's own formula for
        // downsampled_width, but with the same DCT size for all; see read_planes).
        jpeg_component_info *luma = &info->comp_info[0];
        jpeg_component_info *chroma = &info->comp_info[1];
        long max_h = info->max_h_samp_factor, max_v = info->max_v_samp_factor;
        output->plane_count = 3;
        output->luma_width = obscura_jpeg_divide_round_up((long)info->image_width * luma->h_samp_factor * scale_eighths, max_h * DCTSIZE);
        output->luma_height = obscura_jpeg_divide_round_up((long)info->image_height * luma->v_samp_factor * scale_eighths, max_v * DCTSIZE);
        output->chroma_width = obscura_jpeg_divide_round_up((long)info->image_width * chroma->h_samp_factor * scale_eighths, max_h * DCTSIZE);
        output->chroma_height = obscura_jpeg_divide_round_up((long)info->image_height * chroma->v_samp_factor * scale_eighths, max_v * DCTSIZE);
        output->luma_padded_width = (int32_t)luma->width_in_blocks * scale_eighths;
        output->chroma_padded_width = (int32_t)chroma->width_in_blocks * scale_eighths;
        if (info->comp_info[2].h_samp_factor != chroma->h_samp_factor ||
            info->comp_info[2].v_samp_factor != chroma->v_samp_factor) {
            return obscura_jpeg_decoder_reject(decoder, OBSCURA_JPEG_STATUS_UNSUPPORTED, "Cb and Cr are sampled differently");
        }
    }
    decoder->output = *output;
    decoder->gray_only = gray_only ? 1 : 0;
    decoder->scale_eighths = scale_eighths;
    decoder->state = STATE_PREPARED;
    return OBSCURA_JPEG_STATUS_OK;
}

/// libjpeg-turbo's jpeg_calc_output_dimensions "scales up the chroma components via IDCT
/// scaling rather than upsampling": at 1/2 scale a 4:2:0 JPEG's chroma is transformed at 8x8,
/// giving chroma at luma resolution. For planar output we want chroma still subsampled, so,
/// exactly as TurboJPEG's tjDecompressToYUVPlanes does, every component is switched back to
/// the luma component's (reduced) transform after jpeg_start_decompress chose the methods.
/// Correct because dct_method is JDCT_ISLOW: the reduced transforms and the 8x8 one share the
/// multiplier-table format, so the tables built for the chroma components fit either.
static void obscura_jpeg_use_uniform_dct_size(j_decompress_ptr info) {
    int size = info->min_DCT_scaled_size;
    int reference = -1;
    for (int component = 0; component < info->num_components; component++) {
        if (info->comp_info[component].DCT_scaled_size == size) { reference = component; break; }
    }
    if (reference < 0) {
        obscura_jpeg_fail((j_common_ptr)info, OBSCURA_JPEG_STATUS_UNSUPPORTED, "no component at the requested DCT scale");
    }
    for (int component = 0; component < info->num_components; component++) {
        jpeg_component_info *compptr = &info->comp_info[component];
        if (compptr->DCT_scaled_size == size) continue;
        compptr->DCT_scaled_size = size;
        compptr->MCU_sample_width = compptr->MCU_width * size;
        info->idct->inverse_DCT[component] = info->idct->inverse_DCT[reference];
    }
}

static void obscura_jpeg_decoder_reserve_scratch(obscura_jpeg_decoder *decoder, size_t bytes) {
    if (bytes <= decoder->scratch_capacity) return;
    JSAMPLE *grown = realloc(decoder->scratch, bytes);
    if (grown == NULL) {
        obscura_jpeg_fail((j_common_ptr)&decoder->info, OBSCURA_JPEG_STATUS_LIMIT_EXCEEDED, "out of memory for scratch rows");
    }
    decoder->scratch = grown;
    decoder->scratch_capacity = bytes;
}

static void obscura_jpeg_decoder_read_raw(obscura_jpeg_decoder *decoder, uint8_t *const planes[3], const size_t strides[3]) {
    struct jpeg_decompress_struct *info = &decoder->info;
    const obscura_jpeg_output *output = &decoder->output;
    int plane_count = output->plane_count;
    int size = decoder->scale_eighths;
    int group_rows = info->max_v_samp_factor * size;

    int widths[3], heights[3], padded[3], rows_per_group[3], direct[3];
    size_t scratch_offset[3], scratch_bytes = 0;
    for (int plane = 0; plane < plane_count; plane++) {
        jpeg_component_info *compptr = &info->comp_info[plane];
        widths[plane] = plane == 0 ? output->luma_width : output->chroma_width;
        heights[plane] = plane == 0 ? output->luma_height : output->chroma_height;
        padded[plane] = plane == 0 ? output->luma_padded_width : output->chroma_padded_width;
        rows_per_group[plane] = compptr->v_samp_factor * size;
        // Whole blocks fit in the stride: decode in place; only rows past the plane's bottom
        // (the MCU padding of the last row group) go to scratch.
        direct[plane] = strides[plane] >= (size_t)padded[plane];
        scratch_offset[plane] = scratch_bytes;
        scratch_bytes += (size_t)rows_per_group[plane] * (size_t)padded[plane];
    }
    obscura_jpeg_decoder_reserve_scratch(decoder, scratch_bytes);

    if (size != info->min_DCT_scaled_size) {
        obscura_jpeg_fail((j_common_ptr)info, OBSCURA_JPEG_STATUS_FAILED, "unexpected DCT scale");
    }
    obscura_jpeg_use_uniform_dct_size(info);

    JSAMPARRAY arrays[OBSCURA_JPEG_MAX_PLANES];
    for (int plane = 0; plane < plane_count; plane++) arrays[plane] = decoder->rows[plane];
    while (info->output_scanline < info->output_height) {
        int group = (int)(info->output_scanline / (JDIMENSION)group_rows);
        for (int plane = 0; plane < plane_count; plane++) {
            int first_row = group * rows_per_group[plane];
            JSAMPLE *scratch = decoder->scratch + scratch_offset[plane];
            for (int row = 0; row < rows_per_group[plane]; row++) {
                int plane_row = first_row + row;
                decoder->rows[plane][row] = direct[plane] && plane_row < heights[plane]
                    ? planes[plane] + (size_t)plane_row * strides[plane]
                    : scratch + (size_t)row * (size_t)padded[plane];
            }
        }
        if (jpeg_read_raw_data(info, arrays, (JDIMENSION)group_rows) == 0) {
            obscura_jpeg_fail((j_common_ptr)info, OBSCURA_JPEG_STATUS_TRUNCATED, "decoder suspended: data ended");
        }
        for (int plane = 0; plane < plane_count; plane++) {
            if (direct[plane]) continue;
            int first_row = group * rows_per_group[plane];
            JSAMPLE *scratch = decoder->scratch + scratch_offset[plane];
            for (int row = 0; row < rows_per_group[plane] && first_row + row < heights[plane]; row++) {
                memcpy(planes[plane] + (size_t)(first_row + row) * strides[plane],
                       scratch + (size_t)row * (size_t)padded[plane], (size_t)widths[plane]);
            }
        }
    }
}

static void obscura_jpeg_decoder_read_gray(obscura_jpeg_decoder *decoder, uint8_t *luma, size_t stride) {
    struct jpeg_decompress_struct *info = &decoder->info;
    // With out_color_space = JCS_GRAYSCALE libjpeg marks the chroma components as not needed
    // and skips their IDCT and upsampling; scanlines are exactly output_width wide.
    while (info->output_scanline < info->output_height) {
        JDIMENSION first = info->output_scanline;
        JDIMENSION count = info->output_height - first;
        if (count > OBSCURA_JPEG_MAX_GROUP_ROWS) count = OBSCURA_JPEG_MAX_GROUP_ROWS;
        for (JDIMENSION row = 0; row < count; row++) decoder->rows[0][row] = luma + (size_t)(first + row) * stride;
        if (jpeg_read_scanlines(info, decoder->rows[0], count) == 0) {
            obscura_jpeg_fail((j_common_ptr)info, OBSCURA_JPEG_STATUS_TRUNCATED, "decoder suspended: data ended");
        }
    }
}

obscura_jpeg_status obscura_jpeg_decoder_read_planes(obscura_jpeg_decoder *decoder,
                                                     uint8_t *luma, size_t luma_stride,
                                                     uint8_t *blue, size_t blue_stride,
                                                     uint8_t *red, size_t red_stride) {
    if (decoder == NULL) return OBSCURA_JPEG_STATUS_INVALID_ARGUMENT;
    if (decoder->state != STATE_PREPARED) {
        return obscura_jpeg_decoder_reject(decoder, OBSCURA_JPEG_STATUS_INVALID_ARGUMENT, "read_planes called before prepare");
    }
    const obscura_jpeg_output *output = &decoder->output;
    if (luma == NULL || luma_stride < (size_t)output->luma_width ||
        (output->plane_count == 3 && (blue == NULL || red == NULL || blue_stride < (size_t)output->chroma_width ||
                                      red_stride < (size_t)output->chroma_width))) {
        return obscura_jpeg_decoder_reject(decoder, OBSCURA_JPEG_STATUS_INVALID_ARGUMENT, "planes missing or narrower than the image");
    }
    if (setjmp(decoder->error.jump)) return obscura_jpeg_decoder_failed(decoder);

    jpeg_start_decompress(&decoder->info);
    if (decoder->gray_only) {
        obscura_jpeg_decoder_read_gray(decoder, luma, luma_stride);
    } else {
        uint8_t *const planes[3] = { luma, blue, red };
        const size_t strides[3] = { luma_stride, blue_stride, red_stride };
        obscura_jpeg_decoder_read_raw(decoder, planes, strides);
    }
    jpeg_finish_decompress(&decoder->info);
    decoder->state = STATE_IDLE;
    return OBSCURA_JPEG_STATUS_OK;
}

const char *obscura_jpeg_decoder_message(const obscura_jpeg_decoder *decoder) {
    return decoder == NULL ? "no decoder" : decoder->error.message;
}

uint64_t obscura_jpeg_decoder_corrupt_warnings(const obscura_jpeg_decoder *decoder) {
    return decoder == NULL ? 0 : decoder->error.corrupt_warnings;
}

uint64_t obscura_jpeg_decoder_other_warnings(const obscura_jpeg_decoder *decoder) {
    return decoder == NULL ? 0 : decoder->error.other_warnings;
}
