// CRC-32 by carry-less multiplication: 64-byte blocks are folded four lanes at a time, then the
// 128-bit remainder is reduced to 32 bits (Barrett), following the method of Intel's white paper
// "Fast CRC Computation for Generic Polynomials Using PCLMULQDQ Instruction" (Gopal et al., 2009)
// for the bit-reflected polynomial. Several times faster than a table-driven CRC on long entries.
#include "crc32_fold.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

// Folding constants for P(x) = 0x104C11DB7 in the bit-reflected domain: x^(4·128±32) mod P for
// the four-lane fold, x^(128±32) mod P for the single-lane fold, x^64 mod P for 64 -> 32 bits, and
// P' and mu = floor(x^64 / P) for the Barrett step.
static const uint64_t fold_by_four[2] = {0x154442bd4ULL, 0x1c6e41596ULL};
static const uint64_t fold_by_one[2] = {0x1751997d0ULL, 0x0ccaa009eULL};
static const uint64_t reduce_to_32 = 0x163cd6124ULL;
static const uint64_t barrett[2] = {0x1db710641ULL, 0x1f7011641ULL};

int pgv_crc32_fold_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
}

// One fold step: lane·k (low and high halves apart) moved 128 bits further, plus the next data.
__attribute__((target("pclmul,sse4.1")))
static inline __m128i fold(__m128i lane, __m128i k, __m128i next) {
    __m128i low = _mm_clmulepi64_si128(lane, k, 0x00);
    __m128i high = _mm_clmulepi64_si128(lane, k, 0x11);
    return _mm_xor_si128(_mm_xor_si128(low, high), next);
}

// The raw (not inverted) CRC register after `length` bytes; `length` is at least 64.
__attribute__((target("pclmul,sse4.1")))
static uint32_t fold_blocks(uint32_t state, const uint8_t *data, size_t length) {
    __m128i a = _mm_loadu_si128((const __m128i *)(data + 0));
    __m128i b = _mm_loadu_si128((const __m128i *)(data + 16));
    __m128i c = _mm_loadu_si128((const __m128i *)(data + 32));
    __m128i d = _mm_loadu_si128((const __m128i *)(data + 48));
    a = _mm_xor_si128(a, _mm_cvtsi32_si128((int)state));
    data += 64;
    length -= 64;

    __m128i k = _mm_loadu_si128((const __m128i *)fold_by_four);
    for (; length >= 64; data += 64, length -= 64) {
        a = fold(a, k, _mm_loadu_si128((const __m128i *)(data + 0)));
        b = fold(b, k, _mm_loadu_si128((const __m128i *)(data + 16)));
        c = fold(c, k, _mm_loadu_si128((const __m128i *)(data + 32)));
        d = fold(d, k, _mm_loadu_si128((const __m128i *)(data + 48)));
    }

    // Four lanes into one, then any remaining 16-byte blocks.
    k = _mm_loadu_si128((const __m128i *)fold_by_one);
    __m128i x = fold(a, k, b);
    x = fold(x, k, c);
    x = fold(x, k, d);
    for (; length >= 16; data += 16, length -= 16) {
        x = fold(x, k, _mm_loadu_si128((const __m128i *)data));
    }

    // 128 -> 64 bits: the low half times x^(128-32) mod P, added to the high half.
    const __m128i low32 = _mm_setr_epi32(-1, 0, -1, 0);
    x = _mm_xor_si128(_mm_srli_si128(x, 8), _mm_clmulepi64_si128(x, k, 0x10));
    // 64 -> 32 bits.
    __m128i r = _mm_cvtsi64_si128((long long)reduce_to_32);
    x = _mm_xor_si128(_mm_srli_si128(x, 4), _mm_clmulepi64_si128(_mm_and_si128(x, low32), r, 0x00));
    // Barrett reduction: q = floor(x·mu / x^64), remainder = x - q·P.
    __m128i p = _mm_loadu_si128((const __m128i *)barrett);
    __m128i q = _mm_and_si128(_mm_clmulepi64_si128(_mm_and_si128(x, low32), p, 0x10), low32);
    x = _mm_xor_si128(x, _mm_clmulepi64_si128(q, p, 0x00));
    state = (uint32_t)_mm_extract_epi32(x, 1);

    // The last 0-15 bytes bit by bit.
    while (length--) {
        state ^= *data++;
        for (int bit = 0; bit < 8; bit++) state = (state >> 1) ^ (0xEDB88320u & (0u - (state & 1u)));
    }
    return state;
}

uint32_t pgv_crc32_fold(uint32_t crc, const uint8_t *data, size_t length) {
    uint32_t state = ~crc;
    if (length >= 64) return ~fold_blocks(state, data, length);
    while (length--) {
        state ^= *data++;
        for (int bit = 0; bit < 8; bit++) state = (state >> 1) ^ (0xEDB88320u & (0u - (state & 1u)));
    }
    return ~state;
}

#else

int pgv_crc32_fold_available(void) { return 0; }

uint32_t pgv_crc32_fold(uint32_t crc, const uint8_t *data, size_t length) {
    uint32_t state = ~crc;
    while (length--) {
        state ^= *data++;
        for (int bit = 0; bit < 8; bit++) state = (state >> 1) ^ (0xEDB88320u & (0u - (state & 1u)));
    }
    return ~state;
}

#endif
