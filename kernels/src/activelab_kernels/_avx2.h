/* The AVX2 kernels of _linear.c for float32 pools: two ymm registers per row of logits
 * (16 class lanes), then the measure of 8 rows at a time with the rows in the lanes.
 * Compiled for AVX2 + FMA whatever the build flags, called only when the processor has
 * both. */
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2,fma")))

AVX2 static inline __m256 exp256_ps(__m256 x) /* x <= 0 */
{
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.0f)), _mm256_setzero_ps());
    __m256 k = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(k, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500E-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507E-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073E-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894E-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459E-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201E-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    __m256i two_k = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(k),
                                                       _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(two_k));
}

AVX2 static inline __m256 log256_ps(__m256 x) /* x >= 1 */
{
    const __m256 one = _mm256_set1_ps(1.0f);
    __m256i bits = _mm256_castps_si256(x);
    __m256 e = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_srli_epi32(bits, 23),
                                                   _mm256_set1_epi32(127)));
    __m256 m = _mm256_castsi256_ps(_mm256_or_si256(
        _mm256_and_si256(bits, _mm256_set1_epi32(0x007FFFFF)), _mm256_set1_epi32(0x3F800000)));
    __m256 big = _mm256_cmp_ps(m, _mm256_set1_ps(1.41421356f), _CMP_GT_OQ);
    m = _mm256_blendv_ps(m, _mm256_mul_ps(m, _mm256_set1_ps(0.5f)), big);
    e = _mm256_add_ps(e, _mm256_and_ps(big, one));
    __m256 z = _mm256_div_ps(_mm256_sub_ps(m, one), _mm256_add_ps(m, one));
    __m256 z2 = _mm256_mul_ps(z, z);
    __m256 p = _mm256_set1_ps(1.0f / 11.0f);
    p = _mm256_fmadd_ps(p, z2, _mm256_set1_ps(1.0f / 9.0f));
    p = _mm256_fmadd_ps(p, z2, _mm256_set1_ps(1.0f / 7.0f));
    p = _mm256_fmadd_ps(p, z2, _mm256_set1_ps(1.0f / 5.0f));
    p = _mm256_fmadd_ps(p, z2, _mm256_set1_ps(1.0f / 3.0f));
    p = _mm256_fmadd_ps(p, z2, one);
    return _mm256_fmadd_ps(e, _mm256_set1_ps(0.693147180559945309f),
                           _mm256_mul_ps(_mm256_add_ps(z, z), p));
}

/* The measure of 8 rows from a tile of their logits (row r at tile + 16 r). */
AVX2 static inline __attribute__((always_inline)) void
measure256_tile(const float *tile, int n_classes, int measure, double *out, int n_rows)
{
    const __m256i col = _mm256_setr_epi32(0, 16, 32, 48, 64, 80, 96, 112);
    __m256 z[16];
    for (int c = 0; c < n_classes; c++)
        z[c] = _mm256_i32gather_ps(tile + c, col, 4);
    __m256 best = z[0], second = _mm256_set1_ps(-INFINITY);
    for (int c = 1; c < n_classes; c++) {
        second = _mm256_max_ps(second, _mm256_min_ps(best, z[c]));
        best = _mm256_max_ps(best, z[c]);
    }
    __m256 s = _mm256_setzero_ps(), t = _mm256_setzero_ps();
    for (int c = 0; c < n_classes; c++) {
        __m256 u = _mm256_sub_ps(z[c], best);
        __m256 e = exp256_ps(u);
        s = _mm256_add_ps(s, e);
        t = _mm256_fmadd_ps(e, u, t);
    }
    const __m256 one = _mm256_set1_ps(1.0f);
    __m256 v;
    if (measure == ENTROPY)
        v = _mm256_sub_ps(log256_ps(s), _mm256_div_ps(t, s));
    else if (measure == MARGIN)
        v = _mm256_div_ps(_mm256_sub_ps(exp256_ps(_mm256_sub_ps(second, best)), one), s);
    else
        v = _mm256_sub_ps(one, _mm256_div_ps(one, s));
    double values[8];
    _mm256_storeu_pd(values, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
    _mm256_storeu_pd(values + 4, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
    memcpy(out, values, sizeof(double) * (size_t)n_rows);
}

AVX2 static inline void logits256_row(const float *x, int64_t d, const float *W, __m256 b0,
                                      __m256 b1, float *dst)
{
    __m256 a0 = b0, a1 = b1;
    for (int64_t f = 0; f < d; f++) {
        __m256 xv = _mm256_set1_ps(x[f]);
        a0 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(W + 16 * f), a0);
        a1 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(W + 16 * f + 8), a1);
    }
    _mm256_store_ps(dst, a0);
    _mm256_store_ps(dst + 8, a1);
}

#define ROW2(k) (rows ? rows[i + (k)] : start + i + (k))

AVX2 static inline __attribute__((always_inline)) void
score256_f32_as(const float *X, int64_t d, const int64_t *rows, int64_t start, int64_t m,
                const float *W, const float *b, int n_classes, int measure, double *out)
{
    __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
    float tile[128] __attribute__((aligned(32)));
    int64_t i = 0;
    for (; i + 8 <= m; i += 8) {
        for (int g = 0; g < 8; g += 4) {
            const float *x0 = X + ROW2(g) * d, *x1 = X + ROW2(g + 1) * d;
            const float *x2 = X + ROW2(g + 2) * d, *x3 = X + ROW2(g + 3) * d;
            __m256 a00 = b0, a01 = b1, a10 = b0, a11 = b1, a20 = b0, a21 = b1, a30 = b0,
                   a31 = b1;
            for (int64_t f = 0; f < d; f++) {
                __m256 w0 = _mm256_loadu_ps(W + 16 * f), w1 = _mm256_loadu_ps(W + 16 * f + 8);
                __m256 s0 = _mm256_set1_ps(x0[f]), s1 = _mm256_set1_ps(x1[f]);
                __m256 s2 = _mm256_set1_ps(x2[f]), s3 = _mm256_set1_ps(x3[f]);
                a00 = _mm256_fmadd_ps(s0, w0, a00);
                a01 = _mm256_fmadd_ps(s0, w1, a01);
                a10 = _mm256_fmadd_ps(s1, w0, a10);
                a11 = _mm256_fmadd_ps(s1, w1, a11);
                a20 = _mm256_fmadd_ps(s2, w0, a20);
                a21 = _mm256_fmadd_ps(s2, w1, a21);
                a30 = _mm256_fmadd_ps(s3, w0, a30);
                a31 = _mm256_fmadd_ps(s3, w1, a31);
            }
            float *t = tile + 16 * g;
            _mm256_store_ps(t, a00);
            _mm256_store_ps(t + 8, a01);
            _mm256_store_ps(t + 16, a10);
            _mm256_store_ps(t + 24, a11);
            _mm256_store_ps(t + 32, a20);
            _mm256_store_ps(t + 40, a21);
            _mm256_store_ps(t + 48, a30);
            _mm256_store_ps(t + 56, a31);
        }
        measure256_tile(tile, n_classes, measure, out + i, 8);
    }
    if (i < m) {
        int n_left = (int)(m - i);
        for (int r = 0; r < 8; r++) /* the rows past the end repeat the last one */
            logits256_row(X + ROW2(r < n_left ? r : n_left - 1) * d, d, W, b0, b1,
                          tile + 16 * r);
        measure256_tile(tile, n_classes, measure, out + i, n_left);
    }
}

AVX2 static void score256_f32(const float *X, int64_t d, const int64_t *rows, int64_t start,
                              int64_t m, const float *W, const float *b, int n_classes,
                              int measure, double *out)
{
    if (measure == ENTROPY)
        score256_f32_as(X, d, rows, start, m, W, b, n_classes, ENTROPY, out);
    else if (measure == MARGIN)
        score256_f32_as(X, d, rows, start, m, W, b, n_classes, MARGIN, out);
    else
        score256_f32_as(X, d, rows, start, m, W, b, n_classes, LEAST_CONFIDENT, out);
}
#undef ROW2
