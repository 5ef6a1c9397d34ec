// CV4L2: the only place Obscura touches libv4l2 and the V4L2 ioctls.
//
// Swift cannot call C variadic functions (v4l2_open, v4l2_ioctl) and cannot import function-like
// macros (the VIDIOC_* codes are built with _IOWR, the pixel formats with v4l2_fourcc). So each
// one is re-exported here under an `obscura_v4l2_` name, as a fixed-arity `static inline`
// function or a `static const` value, and Swift sees only these. Plain integer #defines from
// videodev2.h (V4L2_CAP_*, V4L2_BUF_FLAG_*, V4L2_CTRL_FLAG_*) import into Swift as they are and
// are not repeated here.
#ifndef OBSCURA_V4L2_H
#define OBSCURA_V4L2_H

#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <libv4l2.h>
#include <linux/videodev2.h>

// ---- libv4l2 calls -------------------------------------------------------------------------

// v4l2_open is variadic (it forwards an optional mode like open(2)); Swift cannot call that.
// Devices are never created, so no mode is passed.
static inline int obscura_v4l2_open(const char *path, int flags) {
    return v4l2_open(path, flags);
}

// Not variadic, but wrapped so that every libv4l2 call Swift makes goes through this header.
static inline int obscura_v4l2_close(int fd) {
    return v4l2_close(fd);
}

// v4l2_ioctl is variadic (ioctl's third argument); every V4L2 request takes one pointer.
static inline int obscura_v4l2_ioctl(int fd, unsigned long request, void *argument) {
    return v4l2_ioctl(fd, request, argument);
}

// libv4l2 must see the mapping of buffers it may emulate (format conversion), so buffers are
// mapped through it rather than with mmap(2). Wrapped for the same one-door reason as close.
static inline void *obscura_v4l2_mmap(void *start, size_t length, int protection, int flags,
                                      int fd, int64_t offset) {
    return v4l2_mmap(start, length, protection, flags, fd, offset);
}

static inline int obscura_v4l2_munmap(void *start, size_t length) {
    return v4l2_munmap(start, length);
}

// MAP_FAILED is a cast macro ((void *) -1) that Swift does not import.
static inline int obscura_v4l2_is_map_failed(void *address) {
    return address == MAP_FAILED;
}

// ---- ioctl request codes (built by _IOR/_IOW/_IOWR, function-like macros) -------------------

static const unsigned long obscura_v4l2_VIDIOC_QUERYCAP = VIDIOC_QUERYCAP;
static const unsigned long obscura_v4l2_VIDIOC_ENUM_FMT = VIDIOC_ENUM_FMT;
static const unsigned long obscura_v4l2_VIDIOC_G_FMT = VIDIOC_G_FMT;
static const unsigned long obscura_v4l2_VIDIOC_S_FMT = VIDIOC_S_FMT;
static const unsigned long obscura_v4l2_VIDIOC_TRY_FMT = VIDIOC_TRY_FMT;
static const unsigned long obscura_v4l2_VIDIOC_REQBUFS = VIDIOC_REQBUFS;
static const unsigned long obscura_v4l2_VIDIOC_QUERYBUF = VIDIOC_QUERYBUF;
static const unsigned long obscura_v4l2_VIDIOC_QBUF = VIDIOC_QBUF;
static const unsigned long obscura_v4l2_VIDIOC_DQBUF = VIDIOC_DQBUF;
static const unsigned long obscura_v4l2_VIDIOC_STREAMON = VIDIOC_STREAMON;
static const unsigned long obscura_v4l2_VIDIOC_STREAMOFF = VIDIOC_STREAMOFF;
static const unsigned long obscura_v4l2_VIDIOC_G_PARM = VIDIOC_G_PARM;
static const unsigned long obscura_v4l2_VIDIOC_S_PARM = VIDIOC_S_PARM;
static const unsigned long obscura_v4l2_VIDIOC_G_CTRL = VIDIOC_G_CTRL;
static const unsigned long obscura_v4l2_VIDIOC_S_CTRL = VIDIOC_S_CTRL;
static const unsigned long obscura_v4l2_VIDIOC_QUERYCTRL = VIDIOC_QUERYCTRL;
static const unsigned long obscura_v4l2_VIDIOC_QUERY_EXT_CTRL = VIDIOC_QUERY_EXT_CTRL;
static const unsigned long obscura_v4l2_VIDIOC_QUERYMENU = VIDIOC_QUERYMENU;
static const unsigned long obscura_v4l2_VIDIOC_G_EXT_CTRLS = VIDIOC_G_EXT_CTRLS;
static const unsigned long obscura_v4l2_VIDIOC_S_EXT_CTRLS = VIDIOC_S_EXT_CTRLS;
static const unsigned long obscura_v4l2_VIDIOC_ENUM_FRAMESIZES = VIDIOC_ENUM_FRAMESIZES;
static const unsigned long obscura_v4l2_VIDIOC_ENUM_FRAMEINTERVALS = VIDIOC_ENUM_FRAMEINTERVALS;
static const unsigned long obscura_v4l2_VIDIOC_ENUMINPUT = VIDIOC_ENUMINPUT;
static const unsigned long obscura_v4l2_VIDIOC_G_INPUT = VIDIOC_G_INPUT;
static const unsigned long obscura_v4l2_VIDIOC_S_INPUT = VIDIOC_S_INPUT;

// ---- pixel formats (v4l2_fourcc is a function-like macro) ------------------------------------

static const uint32_t obscura_v4l2_PIX_FMT_YUYV = V4L2_PIX_FMT_YUYV;
static const uint32_t obscura_v4l2_PIX_FMT_NV12 = V4L2_PIX_FMT_NV12;
static const uint32_t obscura_v4l2_PIX_FMT_GREY = V4L2_PIX_FMT_GREY;
static const uint32_t obscura_v4l2_PIX_FMT_YUV420 = V4L2_PIX_FMT_YUV420;
static const uint32_t obscura_v4l2_PIX_FMT_YUV422P = V4L2_PIX_FMT_YUV422P;
static const uint32_t obscura_v4l2_PIX_FMT_MJPEG = V4L2_PIX_FMT_MJPEG;
static const uint32_t obscura_v4l2_PIX_FMT_JPEG = V4L2_PIX_FMT_JPEG;

// ---- control ids (sums and ors of other macros; kept here so the values are the kernel's) ----

static const uint32_t obscura_v4l2_CID_BRIGHTNESS = V4L2_CID_BRIGHTNESS;
static const uint32_t obscura_v4l2_CID_CONTRAST = V4L2_CID_CONTRAST;
static const uint32_t obscura_v4l2_CID_SATURATION = V4L2_CID_SATURATION;
static const uint32_t obscura_v4l2_CID_AUTO_WHITE_BALANCE = V4L2_CID_AUTO_WHITE_BALANCE;
static const uint32_t obscura_v4l2_CID_WHITE_BALANCE_TEMPERATURE = V4L2_CID_WHITE_BALANCE_TEMPERATURE;
static const uint32_t obscura_v4l2_CID_POWER_LINE_FREQUENCY = V4L2_CID_POWER_LINE_FREQUENCY;
static const uint32_t obscura_v4l2_CID_EXPOSURE = V4L2_CID_EXPOSURE;
static const uint32_t obscura_v4l2_CID_EXPOSURE_AUTO = V4L2_CID_EXPOSURE_AUTO;
static const uint32_t obscura_v4l2_CID_EXPOSURE_ABSOLUTE = V4L2_CID_EXPOSURE_ABSOLUTE;

// ID2WHICH is a function-like macro; extended control calls need the class of the control.
static inline uint32_t obscura_v4l2_ctrl_class(uint32_t control_id) {
    return V4L2_CTRL_ID2WHICH(control_id);
}

#endif
