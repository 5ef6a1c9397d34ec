// CV4L2: the only place Obscura touches libv4l2 and the V4L2 ioctls. See obscura_v4l2.c.
#ifndef OBSCURA_V4L2_H
#define OBSCURA_V4L2_H
#include <linux/videodev2.h>
#endif
