// Transcoder half of the shim: a JPEG's quantised DCT coefficients read without decoding pixels,
// edited in place by the caller, and written back with the same quantisation (jpegtran's
// jpeg_read_coefficients / jpeg_copy_critical_parameters / jpeg_write_coefficients), with one
// decompressor and one compressor reused for every frame.
//
// Why in C: every libjpeg call that can fail must run under an armed setjmp; the coefficient
// arrays are libjpeg virtual arrays reached through access_virt_barray (which can also raise);
// and the fixed-buffer destination is a set of C callbacks. Swift only sees rows of blocks.
#include <stdlib.h>
#include <string.h>

// jpegint.h, for cinfo->entropy in the luma decode below (as the decoder uses cinfo->idct).
#define JPEG_INTERNALS
#include "obscura_jpeg_internal.h"

#define OBSCURA_JPEG_TRANSCODE_SPILL_BYTES 64

// Swift reads blocks as Int16; libjpeg's JCOEF must be the same size.
typedef char obscura_jpeg_jcoef_is_16_bits[sizeof(JCOEF) == sizeof(int16_t) ? 1 : -1];

enum { TRANSCODER_IDLE = 0, TRANSCODER_HEADER = 1, TRANSCODER_READ = 2 };

struct obscura_jpeg_transcoder {
    struct jpeg_decompress_struct source;
    struct jpeg_compress_struct target;
    // One manager for both objects: every entry point arms its jump, whichever object raises.
    obscura_jpeg_error_manager error;
    struct jpeg_progress_mgr progress;
    struct jpeg_destination_mgr destination;
    int32_t maximum_scans;
    int state;
    jvirt_barray_ptr *coefficients;
    int32_t component_count;
    JDIMENSION height_in_blocks[OBSCURA_JPEG_MAX_EDIT_COMPONENTS];
    uint8_t *output;
    size_t capacity;
    size_t written;
    // As in the encoder: libjpeg asks for more room as soon as the buffer is full, even when no
    // byte follows, so an image that fits exactly lands its last call here. Any byte written
    // into the spill area means the caller's buffer was too small.
    JOCTET spill[OBSCURA_JPEG_TRANSCODE_SPILL_BYTES];
    int spilled;
};

// MARK: Fixed-buffer destination (never reallocates, unlike jpeg_mem_dest)

static void obscura_jpeg_transcode_destination_init(j_compress_ptr info) {
    obscura_jpeg_transcoder *transcoder = (obscura_jpeg_transcoder *)info->client_data;
    transcoder->destination.next_output_byte = transcoder->output;
    transcoder->destination.free_in_buffer = transcoder->capacity;
    transcoder->spilled = 0;
}

static boolean obscura_jpeg_transcode_destination_empty(j_compress_ptr info) {
    obscura_jpeg_transcoder *transcoder = (obscura_jpeg_transcoder *)info->client_data;
    if (!transcoder->spilled) {
        transcoder->spilled = 1;
        transcoder->destination.next_output_byte = transcoder->spill;
        transcoder->destination.free_in_buffer = OBSCURA_JPEG_TRANSCODE_SPILL_BYTES;
        return TRUE;
    }
    obscura_jpeg_fail((j_common_ptr)info, OBSCURA_JPEG_STATUS_OUTPUT_TOO_SMALL, "output buffer too small");
    return FALSE; // not reached: obscura_jpeg_fail jumps
}

static void obscura_jpeg_transcode_destination_term(j_compress_ptr info) {
    obscura_jpeg_transcoder *transcoder = (obscura_jpeg_transcoder *)info->client_data;
    if (transcoder->spilled) {
        if (transcoder->destination.free_in_buffer < OBSCURA_JPEG_TRANSCODE_SPILL_BYTES) {
            obscura_jpeg_fail((j_common_ptr)info, OBSCURA_JPEG_STATUS_OUTPUT_TOO_SMALL, "output buffer too small");
        }
        transcoder->written = transcoder->capacity;
    } else {
        transcoder->written = transcoder->capacity - transcoder->destination.free_in_buffer;
    }
}

static void obscura_jpeg_transcode_progress(j_common_ptr common) {
    j_decompress_ptr info = (j_decompress_ptr)common;
    obscura_jpeg_transcoder *transcoder = (obscura_jpeg_transcoder *)info->client_data;
    // Progressive "scan bombs": bounded as in the decoder (TurboJPEG's TJFLAG_LIMITSCANS).
    if (transcoder->maximum_scans > 0 && info->input_scan_number > transcoder->maximum_scans) {
        char message[JMSG_LENGTH_MAX];
        snprintf(message, sizeof message, "JPEG has more than %d scans", (int)transcoder->maximum_scans);
        obscura_jpeg_fail(common, OBSCURA_JPEG_STATUS_LIMIT_EXCEEDED, message);
    }
}

// MARK: Life cycle

obscura_jpeg_transcoder *obscura_jpeg_transcoder_create(size_t maximum_memory, int32_t maximum_scans) {
    obscura_jpeg_transcoder *transcoder = calloc(1, sizeof *transcoder);
    if (transcoder == NULL) return NULL;
    struct jpeg_error_mgr *error = obscura_jpeg_error_manager_install(&transcoder->error);
    transcoder->source.err = error;
    transcoder->target.err = error;
    volatile int created = 0; // read after a longjmp
    if (setjmp(transcoder->error.jump)) {
        if (created >= 1) jpeg_destroy_decompress(&transcoder->source);
        if (created >= 2) jpeg_destroy_compress(&transcoder->target);
        free(transcoder);
        return NULL;
    }
    jpeg_create_decompress(&transcoder->source);
    created = 1;
    jpeg_create_compress(&transcoder->target);
    created = 2;
    transcoder->source.client_data = transcoder;
    transcoder->target.client_data = transcoder;
    transcoder->source.mem->max_memory_to_use = (long)maximum_memory;
    transcoder->maximum_scans = maximum_scans;
    transcoder->progress.progress_monitor = obscura_jpeg_transcode_progress;
    transcoder->source.progress = &transcoder->progress;
    transcoder->destination.init_destination = obscura_jpeg_transcode_destination_init;
    transcoder->destination.empty_output_buffer = obscura_jpeg_transcode_destination_empty;
    transcoder->destination.term_destination = obscura_jpeg_transcode_destination_term;
    transcoder->target.dest = &transcoder->destination;
    transcoder->state = TRANSCODER_IDLE;
    return transcoder;
}

void obscura_jpeg_transcoder_destroy(obscura_jpeg_transcoder *transcoder) {
    if (transcoder == NULL) return;
    jpeg_destroy_compress(&transcoder->target);
    jpeg_destroy_decompress(&transcoder->source);
    free(transcoder);
}

void obscura_jpeg_transcoder_abort(obscura_jpeg_transcoder *transcoder) {
    if (transcoder == NULL) return;
    // Both keep their permanent allocations (source manager, tables) for the next image and
    // free only the image's pools, coefficient arrays included.
    jpeg_abort_compress(&transcoder->target);
    jpeg_abort_decompress(&transcoder->source);
    transcoder->coefficients = NULL;
    transcoder->component_count = 0;
    transcoder->state = TRANSCODER_IDLE;
}

static obscura_jpeg_status obscura_jpeg_transcoder_failed(obscura_jpeg_transcoder *transcoder) {
    obscura_jpeg_transcoder_abort(transcoder);
    return transcoder->error.status == OBSCURA_JPEG_STATUS_OK ? OBSCURA_JPEG_STATUS_FAILED : transcoder->error.status;
}

static obscura_jpeg_status obscura_jpeg_transcoder_reject(obscura_jpeg_transcoder *transcoder, obscura_jpeg_status status,
                                                          const char *message) {
    obscura_jpeg_transcoder_abort(transcoder);
    transcoder->error.status = status;
    strncpy(transcoder->error.message, message, JMSG_LENGTH_MAX - 1);
    transcoder->error.message[JMSG_LENGTH_MAX - 1] = '\0';
    return status;
}

static int32_t obscura_jpeg_transcode_color_space(J_COLOR_SPACE space) {
    switch (space) {
    case JCS_GRAYSCALE: return OBSCURA_JPEG_COLOR_GRAYSCALE;
    case JCS_YCbCr: return OBSCURA_JPEG_COLOR_YCBCR;
    case JCS_RGB: return OBSCURA_JPEG_COLOR_RGB;
    case JCS_CMYK: return OBSCURA_JPEG_COLOR_CMYK;
    case JCS_YCCK: return OBSCURA_JPEG_COLOR_YCCK;
    default: return OBSCURA_JPEG_COLOR_UNKNOWN;
    }
}

// MARK: Reading

/// Reads the header into `coefficients->header` and rejects what the transcoder cannot take.
static void obscura_jpeg_transcoder_header(obscura_jpeg_transcoder *transcoder, const uint8_t *data, size_t size,
                                           int32_t maximum_dimension, obscura_jpeg_coefficients *coefficients) {
    struct jpeg_decompress_struct *info = &transcoder->source;
    // jpeg_mem_src allocates its manager once (permanent pool) and only re-points it after.
    jpeg_mem_src(info, data, (unsigned long)size);
    jpeg_read_header(info, TRUE);

    obscura_jpeg_header *header = &coefficients->header;
    header->width = (int32_t)info->image_width;
    header->height = (int32_t)info->image_height;
    header->components = info->num_components;
    header->color_space = obscura_jpeg_transcode_color_space(info->jpeg_color_space);
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
    if (maximum_dimension > 0 &&
        (info->image_width > (JDIMENSION)maximum_dimension || info->image_height > (JDIMENSION)maximum_dimension)) {
        obscura_jpeg_fail((j_common_ptr)info, OBSCURA_JPEG_STATUS_UNSUPPORTED, "image larger than the dimension limit");
    }
    if (info->num_components < 1 || info->num_components > OBSCURA_JPEG_MAX_EDIT_COMPONENTS) {
        obscura_jpeg_fail((j_common_ptr)info, OBSCURA_JPEG_STATUS_UNSUPPORTED, "more than 4 components");
    }
    if (info->data_precision != 8) {
        obscura_jpeg_fail((j_common_ptr)info, OBSCURA_JPEG_STATUS_UNSUPPORTED, "not an 8-bit JPEG");
    }
}

/// Decodes the luma (or grey) samples out of the coefficients buffered-image mode has read, into
/// `luma`: one entropy decode serves both the analysis and the rewrite.
static void obscura_jpeg_transcoder_decode_luma(obscura_jpeg_transcoder *transcoder, uint8_t *luma, size_t stride) {
    struct jpeg_decompress_struct *info = &transcoder->source;
    if (stride < (size_t)info->image_width) {
        obscura_jpeg_fail((j_common_ptr)info, OBSCURA_JPEG_STATUS_INVALID_ARGUMENT, "luma stride narrower than the image");
    }
    info->buffered_image = TRUE;
    // Grey output marks the chroma components as not needed, so only luma is transformed.
    info->out_color_space = JCS_GRAYSCALE;
    info->dct_method = JDCT_ISLOW; // as the decoder: TurboJPEG's default, the same pixels
    jpeg_start_decompress(info);
    // The sequential Huffman decoder stores the coefficients only of components the output
    // needs (jdhuff's dc_needed/ac_needed, from component_needed, set per scan in its
    // start_pass): with grey output the chroma would come back zero and the rewrite grey. So
    // every component is marked needed while the input is consumed, and the first scan's
    // start_pass (run inside jpeg_start_decompress, before any entropy-coded byte was read) is
    // run again to see it; the output side was set up before and sees the original flags again
    // when the output pass starts. Progressive and arithmetic decoders store every component.
    boolean needed[MAX_COMPONENTS];
    int sequential_huffman = !info->progressive_mode && !info->arith_code;
    for (int component = 0; component < info->num_components; component++) {
        needed[component] = info->comp_info[component].component_needed;
        info->comp_info[component].component_needed = TRUE;
    }
    if (sequential_huffman) (*info->entropy->start_pass)(info);
    int status;
    do {
        status = jpeg_consume_input(info);
        if (status == JPEG_SUSPENDED) {
            obscura_jpeg_fail((j_common_ptr)info, OBSCURA_JPEG_STATUS_TRUNCATED, "decoder suspended: data ended");
        }
    } while (status != JPEG_REACHED_EOI);
    for (int component = 0; component < info->num_components; component++) {
        info->comp_info[component].component_needed = needed[component];
    }
    // Every scan is in: one output pass over the final coefficients (no block smoothing, which
    // only applies while coefficients are still missing).
    jpeg_start_output(info, info->input_scan_number);
    JSAMPROW rows[16];
    while (info->output_scanline < info->output_height) {
        JDIMENSION first = info->output_scanline;
        JDIMENSION count = info->output_height - first;
        if (count > 16) count = 16;
        for (JDIMENSION row = 0; row < count; row++) rows[row] = luma + (size_t)(first + row) * stride;
        if (jpeg_read_scanlines(info, rows, count) == 0) {
            obscura_jpeg_fail((j_common_ptr)info, OBSCURA_JPEG_STATUS_TRUNCATED, "decoder suspended: data ended");
        }
    }
    jpeg_finish_output(info);
}

/// Reads (or, after a buffered-image decode, fetches) the coefficient arrays and describes them.
static void obscura_jpeg_transcoder_coefficients(obscura_jpeg_transcoder *transcoder, obscura_jpeg_coefficients *coefficients) {
    struct jpeg_decompress_struct *info = &transcoder->source;
    // Entropy decoding only (unless the luma decode already did it): the whole image's
    // coefficients land in virtual arrays of the image pool (in memory; past max_memory_to_use
    // libjpeg fails for want of a backing store).
    jvirt_barray_ptr *arrays = jpeg_read_coefficients(info);
    if (arrays == NULL) {
        obscura_jpeg_fail((j_common_ptr)info, OBSCURA_JPEG_STATUS_TRUNCATED, "decoder suspended: data ended");
    }
    coefficients->max_horizontal_sampling = info->max_h_samp_factor;
    coefficients->max_vertical_sampling = info->max_v_samp_factor;
    for (int component = 0; component < info->num_components; component++) {
        jpeg_component_info *compptr = &info->comp_info[component];
        obscura_jpeg_component_blocks *blocks = &coefficients->component[component];
        blocks->horizontal_sampling = compptr->h_samp_factor;
        blocks->vertical_sampling = compptr->v_samp_factor;
        blocks->width_in_blocks = (int32_t)compptr->width_in_blocks;
        blocks->height_in_blocks = (int32_t)compptr->height_in_blocks;
        // The table latched when the component's first scan began; before that (a component in
        // no scan) the slot's table, which jpeg_copy_critical_parameters will also use.
        JQUANT_TBL *table = compptr->quant_table;
        if (table == NULL && compptr->quant_tbl_no >= 0 && compptr->quant_tbl_no < NUM_QUANT_TBLS) {
            table = info->quant_tbl_ptrs[compptr->quant_tbl_no];
        }
        if (table == NULL) {
            obscura_jpeg_fail((j_common_ptr)info, OBSCURA_JPEG_STATUS_CORRUPT, "component without a quantisation table");
        }
        blocks->dc_quantizer = table->quantval[0];
        transcoder->height_in_blocks[component] = compptr->height_in_blocks;
    }
    transcoder->coefficients = arrays;
    transcoder->component_count = info->num_components;
    transcoder->state = TRANSCODER_READ;
}

static obscura_jpeg_status obscura_jpeg_transcoder_begin(obscura_jpeg_transcoder *transcoder, const uint8_t *data, size_t size,
                                                         obscura_jpeg_coefficients *coefficients) {
    if (transcoder->state != TRANSCODER_IDLE) obscura_jpeg_transcoder_abort(transcoder);
    obscura_jpeg_error_manager_reset(&transcoder->error);
    memset(coefficients, 0, sizeof *coefficients);
    // A previous image's buffered-image mode must not carry over.
    transcoder->source.buffered_image = FALSE;
    if (data == NULL || size == 0) {
        return obscura_jpeg_transcoder_reject(transcoder, OBSCURA_JPEG_STATUS_EMPTY, "empty input");
    }
    return OBSCURA_JPEG_STATUS_OK;
}

obscura_jpeg_status obscura_jpeg_transcoder_read(obscura_jpeg_transcoder *transcoder, const uint8_t *data, size_t size,
                                                 int32_t maximum_dimension, obscura_jpeg_coefficients *coefficients) {
    if (transcoder == NULL || coefficients == NULL) return OBSCURA_JPEG_STATUS_INVALID_ARGUMENT;
    obscura_jpeg_status status = obscura_jpeg_transcoder_begin(transcoder, data, size, coefficients);
    if (status != OBSCURA_JPEG_STATUS_OK) return status;
    if (setjmp(transcoder->error.jump)) return obscura_jpeg_transcoder_failed(transcoder);
    obscura_jpeg_transcoder_header(transcoder, data, size, maximum_dimension, coefficients);
    obscura_jpeg_transcoder_coefficients(transcoder, coefficients);
    return OBSCURA_JPEG_STATUS_OK;
}

obscura_jpeg_status obscura_jpeg_transcoder_read_header(obscura_jpeg_transcoder *transcoder, const uint8_t *data, size_t size,
                                                        int32_t maximum_dimension, obscura_jpeg_coefficients *coefficients) {
    if (transcoder == NULL || coefficients == NULL) return OBSCURA_JPEG_STATUS_INVALID_ARGUMENT;
    obscura_jpeg_status status = obscura_jpeg_transcoder_begin(transcoder, data, size, coefficients);
    if (status != OBSCURA_JPEG_STATUS_OK) return status;
    if (setjmp(transcoder->error.jump)) return obscura_jpeg_transcoder_failed(transcoder);
    obscura_jpeg_transcoder_header(transcoder, data, size, maximum_dimension, coefficients);
    transcoder->state = TRANSCODER_HEADER;
    return OBSCURA_JPEG_STATUS_OK;
}

obscura_jpeg_status obscura_jpeg_transcoder_read_decoding_luma(obscura_jpeg_transcoder *transcoder,
                                                               uint8_t *luma, size_t luma_stride,
                                                               obscura_jpeg_coefficients *coefficients) {
    if (transcoder == NULL || coefficients == NULL) return OBSCURA_JPEG_STATUS_INVALID_ARGUMENT;
    if (transcoder->state != TRANSCODER_HEADER) {
        return obscura_jpeg_transcoder_reject(transcoder, OBSCURA_JPEG_STATUS_INVALID_ARGUMENT, "read_decoding_luma called before read_header");
    }
    if (luma == NULL) {
        return obscura_jpeg_transcoder_reject(transcoder, OBSCURA_JPEG_STATUS_INVALID_ARGUMENT, "no luma plane");
    }
    if (setjmp(transcoder->error.jump)) return obscura_jpeg_transcoder_failed(transcoder);
    obscura_jpeg_transcoder_decode_luma(transcoder, luma, luma_stride);
    obscura_jpeg_transcoder_coefficients(transcoder, coefficients);
    return OBSCURA_JPEG_STATUS_OK;
}

int16_t *obscura_jpeg_transcoder_block_row(obscura_jpeg_transcoder *transcoder, int32_t component, int32_t row) {
    if (transcoder == NULL || transcoder->state != TRANSCODER_READ) return NULL;
    if (component < 0 || component >= transcoder->component_count) return NULL;
    if (row < 0 || (JDIMENSION)row >= transcoder->height_in_blocks[component]) return NULL;
    // With the arrays in memory this is pointer arithmetic, but it raises on a bad access, so
    // it still runs under a jump; the image stays readable afterwards.
    if (setjmp(transcoder->error.jump)) return NULL;
    JBLOCKARRAY rows = (*transcoder->source.mem->access_virt_barray)(
        (j_common_ptr)&transcoder->source, transcoder->coefficients[component], (JDIMENSION)row, 1, TRUE);
    return (int16_t *)rows[0][0];
}

// MARK: Writing

obscura_jpeg_status obscura_jpeg_transcoder_write(obscura_jpeg_transcoder *transcoder,
                                                  uint8_t *output, size_t capacity, size_t *written) {
    if (transcoder == NULL || written == NULL) return OBSCURA_JPEG_STATUS_INVALID_ARGUMENT;
    *written = 0;
    if (transcoder->state != TRANSCODER_READ) {
        return obscura_jpeg_transcoder_reject(transcoder, OBSCURA_JPEG_STATUS_INVALID_ARGUMENT, "write called before read");
    }
    if (output == NULL || capacity == 0) {
        return obscura_jpeg_transcoder_reject(transcoder, OBSCURA_JPEG_STATUS_OUTPUT_TOO_SMALL, "output buffer too small");
    }
    obscura_jpeg_error_manager_reset(&transcoder->error);
    if (setjmp(transcoder->error.jump)) return obscura_jpeg_transcoder_failed(transcoder);

    transcoder->output = output;
    transcoder->capacity = capacity;
    transcoder->written = 0;
    struct jpeg_compress_struct *target = &transcoder->target;
    // Size, components, sampling and the quantisation tables; jpeg_set_defaults inside it
    // allocates the tables only on the first call (permanent pool), so reuse is free. Nothing
    // else of the source is copied: no APPn (EXIF, thumbnails) and no COM markers.
    jpeg_copy_critical_parameters(&transcoder->source, target);
    // Standard Huffman tables (one pass); optimised tables would need a second pass over the
    // coefficients for a few percent of size.
    target->optimize_coding = FALSE;
    jpeg_write_coefficients(target, transcoder->coefficients);
    jpeg_finish_compress(target);
    // The source reached its EOI inside jpeg_read_coefficients; this only releases the image.
    jpeg_finish_decompress(&transcoder->source);
    transcoder->coefficients = NULL;
    transcoder->component_count = 0;
    transcoder->state = TRANSCODER_IDLE;
    *written = transcoder->written;
    return OBSCURA_JPEG_STATUS_OK;
}

const char *obscura_jpeg_transcoder_message(const obscura_jpeg_transcoder *transcoder) {
    return transcoder == NULL ? "no transcoder" : transcoder->error.message;
}

uint64_t obscura_jpeg_transcoder_corrupt_warnings(const obscura_jpeg_transcoder *transcoder) {
    return transcoder == NULL ? 0 : transcoder->error.corrupt_warnings;
}

uint64_t obscura_jpeg_transcoder_other_warnings(const obscura_jpeg_transcoder *transcoder) {
    return transcoder == NULL ? 0 : transcoder->error.other_warnings;
}
