#ifndef VEM_CZLIB_SHIM_H
#define VEM_CZLIB_SHIM_H

// The C binding over zlib (Debian package zlib1g-dev). Only VEMBatch imports it.
#include <zlib.h>

/// `inflateInit2` is a macro in zlib.h; Swift cannot call macros, so this wraps it.
/// windowBits 15 + 32: a 32 KiB window and automatic zlib/gzip header detection.
static inline int vem_inflate_init_auto(z_streamp stream) {
    return inflateInit2(stream, 15 + 32);
}

#endif
