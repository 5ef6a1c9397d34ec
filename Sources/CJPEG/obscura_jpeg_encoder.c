// Encoder half of the shim: raw (planar YUV or grey) frames to baseline JPEG, written into a
// caller-provided fixed buffer, with one jpeg_compress_struct reused for every frame.
//
// Why in C: libjpeg errors (and our "buffer full") must unwind with longjmp, and the
// destination manager is a set of C callbacks. The fixed buffer replaces jpeg_mem_dest, which
// would realloc a growing buffer for every frame.
#include <stdlib.h>
#include <string.h>

#include "obscura_jpeg_internal.h"

#define OBSCURA_JPEG_MAX_GROUP_ROWS 16 // v_samp_factor (at most 2 here) times DCTSIZE
#define OBSCURA_JPEG_SPILL_BYTES 64

struct obscura_jpeg_encoder {
    struct jpeg_compress_struct info;
    obscura_jpeg_error_manager error;
    struct jpeg_destination_mgr destination;
    uint8_t *output;
    size_t capacity;
    size_t written;
    // libjpeg asks for a new buffer as soon as the current one is full, even if no byte would
    // follow; this spill area lets an image that fits exactly succeed. Any byte written into it
    // means the caller's buffer was too small.
    JOCTET spill[OBSCURA_JPEG_SPILL_BYTES];
    int spilled;
    // Edge rows padded to whole blocks (replicated last column and last row), used only for
    // odd sizes and the last row group. Grown on demand, never shrunk.
    JSAMPLE *scratch;
    size_t scratch_capacity;
    JSAMPROW rows[3][OBSCURA_JPEG_MAX_GROUP_ROWS];
};

static void obscura_jpeg_destination_init(j_compress_ptr info) {
    obscura_jpeg_encoder *encoder = (obscura_jpeg_encoder *)info->client_data;
    encoder->destination.next_output_byte = encoder->output;
    encoder->destination.free_in_buffer = encoder->capacity;
    encoder->spilled = 0;
}

static boolean obscura_jpeg_destination_empty(j_compress_ptr info) {
    obscura_jpeg_encoder *encoder = (obscura_jpeg_encoder *)info->client_data;
    if (!encoder->spilled) {
        encoder->spilled = 1;
        encoder->destination.next_output_byte = encoder->spill;
        encoder->destination.free_in_buffer = OBSCURA_JPEG_SPILL_BYTES;
        return TRUE;
    }
    obscura_jpeg_fail((j_common_ptr)info, OBSCURA_JPEG_STATUS_OUTPUT_TOO_SMALL, "output buffer too small");
    return FALSE; // not reached: obscura_jpeg_fail jumps
}

static void obscura_jpeg_destination_term(j_compress_ptr info) {
    obscura_jpeg_encoder *encoder = (obscura_jpeg_encoder *)info->client_data;
    if (encoder->spilled) {
        if (encoder->destination.free_in_buffer < OBSCURA_JPEG_SPILL_BYTES) {
            obscura_jpeg_fail((j_common_ptr)info, OBSCURA_JPEG_STATUS_OUTPUT_TOO_SMALL, "output buffer too small");
        }
        encoder->written = encoder->capacity;
    } else {
        encoder->written = encoder->capacity - encoder->destination.free_in_buffer;
    }
}

obscura_jpeg_encoder *obscura_jpeg_encoder_create(void) {
    obscura_jpeg_encoder *encoder = calloc(1, sizeof *encoder);
    if (encoder == NULL) return NULL;
    encoder->info.err = obscura_jpeg_error_manager_install(&encoder->error);
    if (setjmp(encoder->error.jump)) {
        jpeg_destroy_compress(&encoder->info);
        free(encoder);
        return NULL;
    }
    jpeg_create_compress(&encoder->info);
    encoder->info.client_data = encoder;
    encoder->destination.init_destination = obscura_jpeg_destination_init;
    encoder->destination.empty_output_buffer = obscura_jpeg_destination_empty;
    encoder->destination.term_destination = obscura_jpeg_destination_term;
    encoder->info.dest = &encoder->destination;
    return encoder;
}

void obscura_jpeg_encoder_destroy(obscura_jpeg_encoder *encoder) {
    if (encoder == NULL) return;
    jpeg_destroy_compress(&encoder->info);
    free(encoder->scratch);
    free(encoder);
}

static obscura_jpeg_status obscura_jpeg_encoder_reject(obscura_jpeg_encoder *encoder, obscura_jpeg_status status,
                                                       const char *message) {
    encoder->error.status = status;
    strncpy(encoder->error.message, message, JMSG_LENGTH_MAX - 1);
    encoder->error.message[JMSG_LENGTH_MAX - 1] = '\0';
    return status;
}

obscura_jpeg_status obscura_jpeg_encoder_encode(obscura_jpeg_encoder *encoder,
                                                int32_t width, int32_t height, int32_t subsampling,
                                                int32_t quality, int32_t accurate_dct,
                                                const uint8_t *luma, size_t luma_stride,
                                                const uint8_t *blue, size_t blue_stride,
                                                const uint8_t *red, size_t red_stride,
                                                uint8_t *output, size_t capacity, size_t *written) {
    if (encoder == NULL || written == NULL) return OBSCURA_JPEG_STATUS_INVALID_ARGUMENT;
    obscura_jpeg_error_manager_reset(&encoder->error);
    *written = 0;
    int gray = subsampling == OBSCURA_JPEG_SUBSAMPLING_GRAY;
    if (width < 1 || height < 1 || width > JPEG_MAX_DIMENSION || height > JPEG_MAX_DIMENSION ||
        quality < 1 || quality > 100 || luma == NULL || output == NULL || capacity == 0 ||
        (subsampling != OBSCURA_JPEG_SUBSAMPLING_GRAY && subsampling != OBSCURA_JPEG_SUBSAMPLING_420 &&
         subsampling != OBSCURA_JPEG_SUBSAMPLING_422) ||
        (!gray && (blue == NULL || red == NULL))) {
        return obscura_jpeg_encoder_reject(encoder, OBSCURA_JPEG_STATUS_INVALID_ARGUMENT, "invalid encode arguments");
    }
    if (setjmp(encoder->error.jump)) {
        jpeg_abort_compress(&encoder->info);
        return encoder->error.status == OBSCURA_JPEG_STATUS_OK ? OBSCURA_JPEG_STATUS_FAILED : encoder->error.status;
    }

    struct jpeg_compress_struct *info = &encoder->info;
    encoder->output = output;
    encoder->capacity = capacity;
    encoder->written = 0;

    info->image_width = (JDIMENSION)width;
    info->image_height = (JDIMENSION)height;
    info->input_components = gray ? 1 : 3;
    info->in_color_space = gray ? JCS_GRAYSCALE : JCS_YCbCr;
    // jpeg_set_defaults allocates its tables only on the first call (permanent pool); later
    // calls just reset the parameters, so redoing it per frame costs no allocation.
    jpeg_set_defaults(info);
    jpeg_set_colorspace(info, gray ? JCS_GRAYSCALE : JCS_YCbCr);
    jpeg_set_quality(info, quality, TRUE);
    info->dct_method = accurate_dct ? JDCT_ISLOW : JDCT_IFAST;
    info->raw_data_in = TRUE;
    if (!gray) {
        info->comp_info[0].h_samp_factor = 2;
        info->comp_info[0].v_samp_factor = subsampling == OBSCURA_JPEG_SUBSAMPLING_420 ? 2 : 1;
        for (int component = 1; component < 3; component++) {
            info->comp_info[component].h_samp_factor = 1;
            info->comp_info[component].v_samp_factor = 1;
        }
    }
    jpeg_start_compress(info, TRUE);

    const uint8_t *const planes[3] = { luma, blue, red };
    const size_t strides[3] = { luma_stride, blue_stride, red_stride };
    int plane_count = info->num_components;
    int max_h = info->max_h_samp_factor, max_v = info->max_v_samp_factor;
    int group_rows = max_v * DCTSIZE;
    int widths[3], heights[3], padded[3], rows_per_group[3], whole_blocks[3];
    size_t scratch_offset[3], scratch_bytes = 0;
    for (int plane = 0; plane < plane_count; plane++) {
        jpeg_component_info *compptr = &info->comp_info[plane];
        widths[plane] = (width * compptr->h_samp_factor + max_h - 1) / max_h;
        heights[plane] = (height * compptr->v_samp_factor + max_v - 1) / max_v;
        padded[plane] = (int)compptr->width_in_blocks * DCTSIZE;
        rows_per_group[plane] = compptr->v_samp_factor * DCTSIZE;
        whole_blocks[plane] = widths[plane] == padded[plane];
        if (strides[plane] < (size_t)widths[plane]) {
            obscura_jpeg_fail((j_common_ptr)info, OBSCURA_JPEG_STATUS_INVALID_ARGUMENT, "plane stride narrower than the image");
        }
        scratch_offset[plane] = scratch_bytes;
        scratch_bytes += (size_t)rows_per_group[plane] * (size_t)padded[plane];
    }
    if (scratch_bytes > encoder->scratch_capacity) {
        JSAMPLE *grown = realloc(encoder->scratch, scratch_bytes);
        if (grown == NULL) obscura_jpeg_fail((j_common_ptr)info, OBSCURA_JPEG_STATUS_FAILED, "out of memory for scratch rows");
        encoder->scratch = grown;
        encoder->scratch_capacity = scratch_bytes;
    }

    JSAMPARRAY arrays[3] = { encoder->rows[0], encoder->rows[1], encoder->rows[2] };
    while (info->next_scanline < info->image_height) {
        int group = (int)(info->next_scanline / (JDIMENSION)group_rows);
        for (int plane = 0; plane < plane_count; plane++) {
            int first_row = group * rows_per_group[plane];
            JSAMPLE *scratch = encoder->scratch + scratch_offset[plane];
            for (int row = 0; row < rows_per_group[plane]; row++) {
                int plane_row = first_row + row;
                if (whole_blocks[plane] && plane_row < heights[plane]) {
                    // libjpeg only reads through these pointers in raw mode.
                    encoder->rows[plane][row] = (JSAMPROW)(planes[plane] + (size_t)plane_row * strides[plane]);
                    continue;
                }
                // Pad to whole blocks by repeating the last column and the last row, as
                // libjpeg's own preprocessing does, so the padding adds no false edges.
                int source_row = plane_row < heights[plane] ? plane_row : heights[plane] - 1;
                JSAMPLE *target = scratch + (size_t)row * (size_t)padded[plane];
                const uint8_t *source = planes[plane] + (size_t)source_row * strides[plane];
                memcpy(target, source, (size_t)widths[plane]);
                memset(target + widths[plane], source[widths[plane] - 1], (size_t)(padded[plane] - widths[plane]));
                encoder->rows[plane][row] = target;
            }
        }
        if (jpeg_write_raw_data(info, arrays, (JDIMENSION)group_rows) == 0) {
            obscura_jpeg_fail((j_common_ptr)info, OBSCURA_JPEG_STATUS_FAILED, "encoder suspended");
        }
    }
    jpeg_finish_compress(info);
    *written = encoder->written;
    return OBSCURA_JPEG_STATUS_OK;
}

const char *obscura_jpeg_encoder_message(const obscura_jpeg_encoder *encoder) {
    return encoder == NULL ? "no encoder" : encoder->error.message;
}
