#ifndef PGVERIFY_CRC32_FOLD_H
#define PGVERIFY_CRC32_FOLD_H

#include <stddef.h>
#include <stdint.h>

/// Whether this CPU can run `pgv_crc32_fold` (x86-64 with PCLMULQDQ and SSE4.1).
int pgv_crc32_fold_available(void);

/// The CRC-32 of ZIP and gzip (reflected polynomial 0xEDB88320, pre- and post-inverted), continuing
/// from `crc` as zlib's `crc32(crc, data, length)` does. Call only when `pgv_crc32_fold_available()`.
uint32_t pgv_crc32_fold(uint32_t crc, const uint8_t *data, size_t length);

#endif
