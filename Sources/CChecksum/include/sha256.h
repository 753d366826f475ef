#ifndef PGVERIFY_SHA256_H
#define PGVERIFY_SHA256_H

#include <stddef.h>
#include <stdint.h>

/// SHA-256 (FIPS 180-4) in streaming form: init, update with any number of buffers, final.
typedef struct {
    uint32_t state[8];
    uint64_t length;     // bytes hashed so far
    uint8_t block[64];   // a partial block waiting for more input
    size_t filled;
} pgv_sha256_context;

void pgv_sha256_init(pgv_sha256_context *context);
void pgv_sha256_update(pgv_sha256_context *context, const uint8_t *data, size_t length);
void pgv_sha256_final(pgv_sha256_context *context, uint8_t digest[32]);

#endif
