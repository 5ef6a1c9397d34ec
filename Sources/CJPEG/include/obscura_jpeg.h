// CJPEG: the only place Obscura touches libjpeg(-turbo)'s C API.
//
// Why this shim exists: libjpeg reports errors by calling `error_exit`, which must not return,
// so the setjmp/longjmp that catches them has to live in C (Swift cannot catch a longjmp).
// It also turns libjpeg's corrupt-data warnings into failures, owns the reusable
// jpeg_decompress_struct / jpeg_compress_struct, the fixed-buffer destination manager and the
// row-pointer bookkeeping of raw (planar YUV) data, and exposes all of it as fixed-arity
// functions with plain integer and pointer arguments that Swift imports directly.
// Every exported symbol is prefixed `obscura_jpeg_`.
#ifndef OBSCURA_JPEG_H
#define OBSCURA_JPEG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// MARK: Status codes (the result of every fallible call)

typedef int32_t obscura_jpeg_status;

#define OBSCURA_JPEG_STATUS_OK 0
/// Zero bytes of input.
#define OBSCURA_JPEG_STATUS_EMPTY 1
/// The input does not start with a JPEG SOI marker.
#define OBSCURA_JPEG_STATUS_NOT_JPEG 2
/// The data ended before the image did (libjpeg's "Premature end of JPEG file").
#define OBSCURA_JPEG_STATUS_TRUNCATED 3
/// Corrupt structure or entropy-coded data (libjpeg errors and corrupt-data warnings).
#define OBSCURA_JPEG_STATUS_CORRUPT 4
/// A valid JPEG that libjpeg or this shim cannot handle (12-bit, lossless, too many components).
#define OBSCURA_JPEG_STATUS_UNSUPPORTED 5
/// A resource limit was hit: working memory, or too many progressive scans.
#define OBSCURA_JPEG_STATUS_LIMIT_EXCEEDED 6
/// The encoder's caller-provided output buffer is too small for the compressed image.
#define OBSCURA_JPEG_STATUS_OUTPUT_TOO_SMALL 7
/// The shim was called with arguments it cannot honour (a programming error upstream).
#define OBSCURA_JPEG_STATUS_INVALID_ARGUMENT 8
/// Any other libjpeg failure (out of memory at creation, internal state errors).
#define OBSCURA_JPEG_STATUS_FAILED 9

// MARK: Colour spaces as declared by the JPEG (libjpeg's J_COLOR_SPACE, narrowed)

#define OBSCURA_JPEG_COLOR_UNKNOWN 0
#define OBSCURA_JPEG_COLOR_GRAYSCALE 1
#define OBSCURA_JPEG_COLOR_YCBCR 2
#define OBSCURA_JPEG_COLOR_RGB 3
#define OBSCURA_JPEG_COLOR_CMYK 4
#define OBSCURA_JPEG_COLOR_YCCK 5

/// What a JPEG's header declares, read without decoding any pixels.
typedef struct obscura_jpeg_header {
    int32_t width;
    int32_t height;
    int32_t components;
    /// One of OBSCURA_JPEG_COLOR_*.
    int32_t color_space;
    /// 1 for progressive JPEGs, 0 for sequential.
    int32_t progressive;
    /// Sampling factors of the first three components (0 where a component is absent).
    int32_t luma_horizontal_sampling;
    int32_t luma_vertical_sampling;
    int32_t blue_horizontal_sampling;
    int32_t blue_vertical_sampling;
    int32_t red_horizontal_sampling;
    int32_t red_vertical_sampling;
} obscura_jpeg_header;

/// The geometry of a decode once scale and output mode are chosen.
typedef struct obscura_jpeg_output {
    /// Scaled image size.
    int32_t width;
    int32_t height;
    /// Planes the decode will write: 1 (grey) or 3 (Y, Cb, Cr).
    int32_t plane_count;
    /// Samples and rows of the luma plane and of each chroma plane.
    int32_t luma_width;
    int32_t luma_height;
    int32_t chroma_width;
    int32_t chroma_height;
    /// Bytes libjpeg writes per row (whole DCT blocks) in the luma and chroma planes; a plane
    /// whose stride is at least this is decoded in place, otherwise through scratch rows.
    int32_t luma_padded_width;
    int32_t chroma_padded_width;
} obscura_jpeg_output;

// MARK: Decoder

/// One libjpeg decompressor, reused across frames. Not thread-safe: one per thread of use.
typedef struct obscura_jpeg_decoder obscura_jpeg_decoder;

/// Creates a decoder. `maximum_memory` caps libjpeg's working memory in bytes (0 means
/// libjpeg's default, no cap); `maximum_scans` rejects progressive JPEGs with more scans than
/// that (0 means no limit). Returns NULL when out of memory.
obscura_jpeg_decoder *obscura_jpeg_decoder_create(size_t maximum_memory, int32_t maximum_scans);
void obscura_jpeg_decoder_destroy(obscura_jpeg_decoder *decoder);

/// Reads the header of the JPEG in `data`. On success the decoder holds the header and
/// expects `obscura_jpeg_decoder_prepare` (or `obscura_jpeg_decoder_abort`) next. The bytes
/// must stay valid until the decode finishes or is aborted.
obscura_jpeg_status obscura_jpeg_decoder_read_header(obscura_jpeg_decoder *decoder, const uint8_t *data, size_t size,
                                                     obscura_jpeg_header *header);

/// Chooses the scale (`scale_eighths`: 8, 4, 2 or 1 for 1/1, 1/2, 1/4, 1/8) and the output:
/// `gray_only` nonzero decodes luma only (chroma is entropy-decoded but never transformed);
/// zero decodes every component as raw, not upsampled, planes. Fills `output` with the sizes
/// the planes must have. Allocates nothing, so the caller can still back out.
obscura_jpeg_status obscura_jpeg_decoder_prepare(obscura_jpeg_decoder *decoder, int32_t scale_eighths, int32_t gray_only,
                                                 obscura_jpeg_output *output);

/// Decodes the prepared image into the given planes (Cb and Cr are ignored for one-plane
/// output). Each plane must hold the rows and samples `prepare` reported at the given stride.
obscura_jpeg_status obscura_jpeg_decoder_read_planes(obscura_jpeg_decoder *decoder,
                                                     uint8_t *luma, size_t luma_stride,
                                                     uint8_t *blue, size_t blue_stride,
                                                     uint8_t *red, size_t red_stride);

/// Abandons the current image (after the header was read but the caller will not decode it).
/// The decoder is ready for the next image afterwards. Safe to call in any state.
void obscura_jpeg_decoder_abort(obscura_jpeg_decoder *decoder);

/// The message of the last failure (libjpeg's text, or the shim's), for error descriptions.
const char *obscura_jpeg_decoder_message(const obscura_jpeg_decoder *decoder);

/// Cumulative counts of libjpeg warnings: those that mean corrupt data (each of which failed
/// its decode) and the harmless rest (unknown JFIF revision and the like).
uint64_t obscura_jpeg_decoder_corrupt_warnings(const obscura_jpeg_decoder *decoder);
uint64_t obscura_jpeg_decoder_other_warnings(const obscura_jpeg_decoder *decoder);

// MARK: Encoder

/// Chroma subsampling of an encode: the raw planes given must already be sampled this way.
#define OBSCURA_JPEG_SUBSAMPLING_GRAY 0
#define OBSCURA_JPEG_SUBSAMPLING_420 1
#define OBSCURA_JPEG_SUBSAMPLING_422 2

/// One libjpeg compressor, reused across frames. Not thread-safe: one per thread of use.
typedef struct obscura_jpeg_encoder obscura_jpeg_encoder;

/// Creates an encoder; returns NULL when out of memory.
obscura_jpeg_encoder *obscura_jpeg_encoder_create(void);
void obscura_jpeg_encoder_destroy(obscura_jpeg_encoder *encoder);

/// Compresses raw planes (luma `width` x `height`; chroma halved as `subsampling` says, odd
/// sizes rounded up) into `output`, a caller-owned buffer of `capacity` bytes, and stores the
/// JPEG's length in `written`. `accurate_dct` nonzero uses libjpeg's slow integer DCT,
/// otherwise the fast one. Returns OBSCURA_JPEG_STATUS_OUTPUT_TOO_SMALL, never a partial
/// JPEG, when the buffer is too small.
obscura_jpeg_status obscura_jpeg_encoder_encode(obscura_jpeg_encoder *encoder,
                                                int32_t width, int32_t height, int32_t subsampling,
                                                int32_t quality, int32_t accurate_dct,
                                                const uint8_t *luma, size_t luma_stride,
                                                const uint8_t *blue, size_t blue_stride,
                                                const uint8_t *red, size_t red_stride,
                                                uint8_t *output, size_t capacity, size_t *written);

const char *obscura_jpeg_encoder_message(const obscura_jpeg_encoder *encoder);

// MARK: Coefficient-domain transcoder (obscura_jpeg_transcode.c)
//
// Reads a JPEG's quantised DCT coefficients without decoding pixels (jpeg_read_coefficients),
// lets the caller edit the blocks in place, and writes them out again with the same quantisation
// tables (jpeg_copy_critical_parameters + jpeg_write_coefficients), as jpegtran does. Blocks the
// caller does not touch come out with identical coefficients, so they decode to identical pixels.

/// Components the transcoder accepts (Y, Cb, Cr and, for CMYK/YCCK, K).
#define OBSCURA_JPEG_MAX_EDIT_COMPONENTS 4

/// One component's block grid as stored in the coefficient arrays.
typedef struct obscura_jpeg_component_blocks {
    int32_t horizontal_sampling;
    int32_t vertical_sampling;
    /// Blocks that hold image data (libjpeg's width_in_blocks / height_in_blocks). The arrays are
    /// padded to whole MCUs, but the writer codes padding blocks as copies of the last real DC.
    int32_t width_in_blocks;
    int32_t height_in_blocks;
    /// The quantisation step of the DC coefficient (entry 0 of the component's table).
    int32_t dc_quantizer;
} obscura_jpeg_component_blocks;

/// What `obscura_jpeg_transcoder_read` found: the header and every component's block grid.
typedef struct obscura_jpeg_coefficients {
    obscura_jpeg_header header;
    int32_t max_horizontal_sampling;
    int32_t max_vertical_sampling;
    obscura_jpeg_component_blocks component[OBSCURA_JPEG_MAX_EDIT_COMPONENTS];
} obscura_jpeg_coefficients;

/// One libjpeg decompressor and one compressor, reused across frames (one per camera). Not
/// thread-safe: one per thread of use.
typedef struct obscura_jpeg_transcoder obscura_jpeg_transcoder;

/// Creates a transcoder; the limits mean what they mean for `obscura_jpeg_decoder_create`.
/// Returns NULL when out of memory.
obscura_jpeg_transcoder *obscura_jpeg_transcoder_create(size_t maximum_memory, int32_t maximum_scans);
void obscura_jpeg_transcoder_destroy(obscura_jpeg_transcoder *transcoder);

/// Reads the JPEG in `data` down to its quantised coefficients (entropy decoding only) and
/// fills `coefficients`. A JPEG wider or taller than `maximum_dimension` is rejected with
/// OBSCURA_JPEG_STATUS_UNSUPPORTED after its header, before any coefficient memory is taken
/// (`coefficients->header` then still holds its size). The bytes must stay valid until
/// `obscura_jpeg_transcoder_write` or `obscura_jpeg_transcoder_abort` returns.
obscura_jpeg_status obscura_jpeg_transcoder_read(obscura_jpeg_transcoder *transcoder, const uint8_t *data, size_t size,
                                                 int32_t maximum_dimension, obscura_jpeg_coefficients *coefficients);

/// The same read in two steps, the second also decoding the image's luma (grey for a greyscale
/// JPEG; RGB JPEGs are converted) into `luma` from the same entropy decode, so a caller that
/// needs pixels for analysis and coefficients for the rewrite decodes the data once. After
/// `read_header` succeeds the caller learns the size, sizes the plane, and must call
/// `read_decoding_luma` (or abort). `luma` holds `height` rows of `width` samples at `luma_stride`.
obscura_jpeg_status obscura_jpeg_transcoder_read_header(obscura_jpeg_transcoder *transcoder, const uint8_t *data, size_t size,
                                                        int32_t maximum_dimension, obscura_jpeg_coefficients *coefficients);
obscura_jpeg_status obscura_jpeg_transcoder_read_decoding_luma(obscura_jpeg_transcoder *transcoder,
                                                               uint8_t *luma, size_t luma_stride,
                                                               obscura_jpeg_coefficients *coefficients);

/// The blocks of one row of one component of the image just read: `width_in_blocks` blocks of
/// 64 coefficients each, in natural (row-major, not zigzag) order, writable. NULL when nothing
/// was read or the component or row is out of range. Valid until the next write or abort.
int16_t *obscura_jpeg_transcoder_block_row(obscura_jpeg_transcoder *transcoder, int32_t component, int32_t row);

/// Writes the (edited) coefficients as a baseline JPEG into `output`, a caller-owned buffer of
/// `capacity` bytes, and stores its length in `written`. Same quantisation tables, standard
/// Huffman tables, no APPn or COM markers copied (an EXIF thumbnail would be an unredacted copy
/// of the image). OBSCURA_JPEG_STATUS_OUTPUT_TOO_SMALL, never a partial JPEG, when the buffer is
/// too small. The transcoder is ready for the next image afterwards, whatever the outcome.
obscura_jpeg_status obscura_jpeg_transcoder_write(obscura_jpeg_transcoder *transcoder,
                                                  uint8_t *output, size_t capacity, size_t *written);

/// Abandons the image just read. Safe to call in any state.
void obscura_jpeg_transcoder_abort(obscura_jpeg_transcoder *transcoder);

const char *obscura_jpeg_transcoder_message(const obscura_jpeg_transcoder *transcoder);
uint64_t obscura_jpeg_transcoder_corrupt_warnings(const obscura_jpeg_transcoder *transcoder);
uint64_t obscura_jpeg_transcoder_other_warnings(const obscura_jpeg_transcoder *transcoder);

#ifdef __cplusplus
}
#endif

#endif
