/* The AVX-512 kernels of _linear.c: the logits of each row in one zmm register (float32)
 * or two (float64), stored in a small tile, then the measure of 16 (or 8) rows at a time
 * with the rows in the lanes.  Compiled for AVX-512F/DQ whatever the build flags and
 * called only when the processor has them. */
#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f,avx512dq,fma")))

AVX512 static inline __m512 exp512_ps(__m512 x) /* x <= 0 */
{
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.0f)), _mm512_setzero_ps());
    __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(k, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_scalef_ps(p, k);
}

AVX512 static inline __m512d exp512_pd(__m512d x) /* x <= 0 */
{
    x = _mm512_min_pd(_mm512_max_pd(x, _mm512_set1_pd(-708.0)), _mm512_setzero_pd());
    __m512d k = _mm512_roundscale_pd(_mm512_mul_pd(x, _mm512_set1_pd(1.4426950408889634)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512d r = _mm512_fnmadd_pd(k, _mm512_set1_pd(6.93147180369123816490e-01), x);
    r = _mm512_fnmadd_pd(k, _mm512_set1_pd(1.90821492927058770002e-10), r);
    static const double coef[] = {1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0,
                                  1.0 / 40320.0,    1.0 / 5040.0,    1.0 / 720.0,
                                  1.0 / 120.0,      1.0 / 24.0,      1.0 / 6.0,
                                  0.5,              1.0,             1.0};
    __m512d p = _mm512_set1_pd(coef[0]);
    for (int j = 1; j < 12; j++)
        p = _mm512_fmadd_pd(p, r, _mm512_set1_pd(coef[j]));
    return _mm512_scalef_pd(p, k);
}

#define ROW(k) (rows ? rows[i + (k)] : start + i + (k))

AVX512 static inline __m512 log512_ps(__m512 x) /* x >= 1 */
{
    const __m512 one = _mm512_set1_ps(1.0f);
    __m512 e = _mm512_getexp_ps(x);
    __m512 m = _mm512_getmant_ps(x, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_src);
    __mmask16 big = _mm512_cmp_ps_mask(m, _mm512_set1_ps(1.41421356f), _CMP_GT_OQ);
    m = _mm512_mask_mul_ps(m, big, m, _mm512_set1_ps(0.5f));
    e = _mm512_mask_add_ps(e, big, e, one);
    __m512 z = _mm512_div_ps(_mm512_sub_ps(m, one), _mm512_add_ps(m, one));
    __m512 z2 = _mm512_mul_ps(z, z);
    __m512 p = _mm512_set1_ps(1.0f / 11.0f);
    p = _mm512_fmadd_ps(p, z2, _mm512_set1_ps(1.0f / 9.0f));
    p = _mm512_fmadd_ps(p, z2, _mm512_set1_ps(1.0f / 7.0f));
    p = _mm512_fmadd_ps(p, z2, _mm512_set1_ps(1.0f / 5.0f));
    p = _mm512_fmadd_ps(p, z2, _mm512_set1_ps(1.0f / 3.0f));
    p = _mm512_fmadd_ps(p, z2, one);
    return _mm512_fmadd_ps(e, _mm512_set1_ps(0.693147180559945309f),
                           _mm512_mul_ps(_mm512_add_ps(z, z), p));
}

/* The measure of 16 rows at once from a tile of their logits (row r at tile + 16 r):
 * each class's column is gathered into one register, so the softmax runs down the
 * classes with the rows in the lanes. */
AVX512 static inline __attribute__((always_inline)) void
measure512_tile(const float *tile, int n_classes, int measure, double *out, int n_rows)
{
    const __m512i col = _mm512_mullo_epi32(
        _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
        _mm512_set1_epi32(16));
    __m512 z[16];
    for (int c = 0; c < n_classes; c++)
        z[c] = _mm512_i32gather_ps(col, tile + c, 4);
    __m512 best = z[0], second = _mm512_set1_ps(-INFINITY);
    for (int c = 1; c < n_classes; c++) {
        second = _mm512_max_ps(second, _mm512_min_ps(best, z[c]));
        best = _mm512_max_ps(best, z[c]);
    }
    __m512 s = _mm512_setzero_ps(), t = _mm512_setzero_ps();
    for (int c = 0; c < n_classes; c++) {
        __m512 u = _mm512_sub_ps(z[c], best);
        __m512 e = exp512_ps(u);
        s = _mm512_add_ps(s, e);
        t = _mm512_fmadd_ps(e, u, t);
    }
    const __m512 one = _mm512_set1_ps(1.0f);
    __m512 v;
    if (measure == ENTROPY)
        v = _mm512_sub_ps(log512_ps(s), _mm512_div_ps(t, s));
    else if (measure == MARGIN)
        v = _mm512_div_ps(_mm512_sub_ps(exp512_ps(_mm512_sub_ps(second, best)), one), s);
    else
        v = _mm512_sub_ps(one, _mm512_div_ps(one, s));
    __m512d lo = _mm512_cvtps_pd(_mm512_castps512_ps256(v));
    __m512d hi = _mm512_cvtps_pd(_mm512_extractf32x8_ps(v, 1));
    __mmask8 m_lo = (__mmask8)(n_rows >= 8 ? 0xFF : (1u << n_rows) - 1);
    __mmask8 m_hi = (__mmask8)(n_rows <= 8 ? 0 : (n_rows >= 16 ? 0xFF : (1u << (n_rows - 8)) - 1));
    _mm512_mask_storeu_pd(out, m_lo, lo);
    _mm512_mask_storeu_pd(out + 8, m_hi, hi);
}

AVX512 static inline __m512 logits512_row(const float *x, int64_t d, const float *W, __m512 bias)
{
    __m512 a = bias;
    for (int64_t f = 0; f < d; f++)
        a = _mm512_fmadd_ps(_mm512_set1_ps(x[f]), _mm512_loadu_ps(W + 16 * f), a);
    return a;
}

AVX512 static inline __attribute__((always_inline)) void
score512_f32_as(const float *X, int64_t d, const int64_t *rows, int64_t start, int64_t m,
                const float *W, const float *b, int n_classes, int measure, double *out)
{
    __m512 bias = _mm512_loadu_ps(b);
    float tile[256] __attribute__((aligned(64)));
    int64_t i = 0;
    for (; i + 16 <= m; i += 16) {
        for (int g = 0; g < 16; g += 4) {
            const float *x0 = X + ROW(g) * d, *x1 = X + ROW(g + 1) * d;
            const float *x2 = X + ROW(g + 2) * d, *x3 = X + ROW(g + 3) * d;
            __m512 a0 = bias, a1 = bias, a2 = bias, a3 = bias;
            for (int64_t f = 0; f < d; f++) {
                __m512 w = _mm512_loadu_ps(W + 16 * f);
                a0 = _mm512_fmadd_ps(_mm512_set1_ps(x0[f]), w, a0);
                a1 = _mm512_fmadd_ps(_mm512_set1_ps(x1[f]), w, a1);
                a2 = _mm512_fmadd_ps(_mm512_set1_ps(x2[f]), w, a2);
                a3 = _mm512_fmadd_ps(_mm512_set1_ps(x3[f]), w, a3);
            }
            _mm512_store_ps(tile + 16 * g, a0);
            _mm512_store_ps(tile + 16 * (g + 1), a1);
            _mm512_store_ps(tile + 16 * (g + 2), a2);
            _mm512_store_ps(tile + 16 * (g + 3), a3);
        }
        measure512_tile(tile, n_classes, measure, out + i, 16);
    }
    if (i < m) {
        int n_left = (int)(m - i);
        for (int r = 0; r < 16; r++) /* the rows past the end repeat the last one */
            _mm512_store_ps(tile + 16 * r,
                            logits512_row(X + ROW(r < n_left ? r : n_left - 1) * d, d, W, bias));
        measure512_tile(tile, n_classes, measure, out + i, n_left);
    }
}

/* One copy of the loop per measure, so that the measure's branches fold away. */
AVX512 static void score512_f32(const float *X, int64_t d, const int64_t *rows, int64_t start,
                                int64_t m, const float *W, const float *b, int n_classes,
                                int measure, double *out)
{
    if (measure == ENTROPY)
        score512_f32_as(X, d, rows, start, m, W, b, n_classes, ENTROPY, out);
    else if (measure == MARGIN)
        score512_f32_as(X, d, rows, start, m, W, b, n_classes, MARGIN, out);
    else
        score512_f32_as(X, d, rows, start, m, W, b, n_classes, LEAST_CONFIDENT, out);
}

AVX512 static inline __m512d log512_pd(__m512d x) /* x >= 1 */
{
    const __m512d one = _mm512_set1_pd(1.0);
    __m512d e = _mm512_getexp_pd(x);
    __m512d m = _mm512_getmant_pd(x, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_src);
    __mmask8 big = _mm512_cmp_pd_mask(m, _mm512_set1_pd(1.4142135623730951), _CMP_GT_OQ);
    m = _mm512_mask_mul_pd(m, big, m, _mm512_set1_pd(0.5));
    e = _mm512_mask_add_pd(e, big, e, one);
    __m512d z = _mm512_div_pd(_mm512_sub_pd(m, one), _mm512_add_pd(m, one));
    __m512d z2 = _mm512_mul_pd(z, z);
    __m512d p = _mm512_set1_pd(1.0 / 23.0);
    for (int j = 21; j >= 1; j -= 2)
        p = _mm512_fmadd_pd(p, z2, _mm512_set1_pd(1.0 / j));
    return _mm512_fmadd_pd(e, _mm512_set1_pd(0.6931471805599453094),
                           _mm512_mul_pd(_mm512_add_pd(z, z), p));
}

/* The measure of 8 rows at once from a tile of their float64 logits (row r at tile + 16 r). */
AVX512 static inline __attribute__((always_inline)) void
measure512_tile_pd(const double *tile, int n_classes, int measure, double *out, int n_rows)
{
    const __m256i col = _mm256_setr_epi32(0, 16, 32, 48, 64, 80, 96, 112);
    __m512d z[16];
    for (int c = 0; c < n_classes; c++)
        z[c] = _mm512_i32gather_pd(col, tile + c, 8);
    __m512d best = z[0], second = _mm512_set1_pd(-INFINITY);
    for (int c = 1; c < n_classes; c++) {
        second = _mm512_max_pd(second, _mm512_min_pd(best, z[c]));
        best = _mm512_max_pd(best, z[c]);
    }
    __m512d s = _mm512_setzero_pd(), t = _mm512_setzero_pd();
    for (int c = 0; c < n_classes; c++) {
        __m512d u = _mm512_sub_pd(z[c], best);
        __m512d e = exp512_pd(u);
        s = _mm512_add_pd(s, e);
        t = _mm512_fmadd_pd(e, u, t);
    }
    const __m512d one = _mm512_set1_pd(1.0);
    __m512d v;
    if (measure == ENTROPY)
        v = _mm512_sub_pd(log512_pd(s), _mm512_div_pd(t, s));
    else if (measure == MARGIN)
        v = _mm512_div_pd(_mm512_sub_pd(exp512_pd(_mm512_sub_pd(second, best)), one), s);
    else
        v = _mm512_sub_pd(one, _mm512_div_pd(one, s));
    _mm512_mask_storeu_pd(out, (__mmask8)(n_rows >= 8 ? 0xFF : (1u << n_rows) - 1), v);
}

/* Logits of 4 rows into the tile: one register per row when the classes fit in 8 lanes. */
#define LOGITS4_PD(TWO)                                                                    \
    do {                                                                                   \
        const double *x0 = X + ROW(g) * d, *x1 = X + ROW(g + 1) * d;                       \
        const double *x2 = X + ROW(g + 2) * d, *x3 = X + ROW(g + 3) * d;                   \
        __m512d a00 = b0, a10 = b0, a20 = b0, a30 = b0;                                     \
        __m512d a01 = b1, a11 = b1, a21 = b1, a31 = b1;                                     \
        for (int64_t f = 0; f < d; f++) {                                                  \
            __m512d w0 = _mm512_loadu_pd(W + 16 * f);                                      \
            __m512d s0 = _mm512_set1_pd(x0[f]), s1 = _mm512_set1_pd(x1[f]);                \
            __m512d s2 = _mm512_set1_pd(x2[f]), s3 = _mm512_set1_pd(x3[f]);                \
            a00 = _mm512_fmadd_pd(s0, w0, a00);                                            \
            a10 = _mm512_fmadd_pd(s1, w0, a10);                                            \
            a20 = _mm512_fmadd_pd(s2, w0, a20);                                            \
            a30 = _mm512_fmadd_pd(s3, w0, a30);                                            \
            if (TWO) {                                                                     \
                __m512d w1 = _mm512_loadu_pd(W + 16 * f + 8);                              \
                a01 = _mm512_fmadd_pd(s0, w1, a01);                                        \
                a11 = _mm512_fmadd_pd(s1, w1, a11);                                        \
                a21 = _mm512_fmadd_pd(s2, w1, a21);                                        \
                a31 = _mm512_fmadd_pd(s3, w1, a31);                                        \
            }                                                                              \
        }                                                                                  \
        double *t = tile + 16 * g;                                                         \
        _mm512_store_pd(t, a00);                                                           \
        _mm512_store_pd(t + 16, a10);                                                      \
        _mm512_store_pd(t + 32, a20);                                                      \
        _mm512_store_pd(t + 48, a30);                                                      \
        _mm512_store_pd(t + 8, a01);                                                       \
        _mm512_store_pd(t + 24, a11);                                                      \
        _mm512_store_pd(t + 40, a21);                                                      \
        _mm512_store_pd(t + 56, a31);                                                      \
    } while (0)

AVX512 static inline __attribute__((always_inline)) void
score512_f64_as(const double *X, int64_t d, const int64_t *rows, int64_t start, int64_t m,
                const double *W, const double *b, int n_classes, int measure, double *out)
{
    __m512d b0 = _mm512_loadu_pd(b), b1 = _mm512_loadu_pd(b + 8);
    double tile[128] __attribute__((aligned(64)));
    int two = n_classes > 8;
    int64_t i = 0;
    for (; i + 8 <= m; i += 8) {
        for (int g = 0; g < 8; g += 4) {
            if (two)
                LOGITS4_PD(1);
            else
                LOGITS4_PD(0);
        }
        measure512_tile_pd(tile, n_classes, measure, out + i, 8);
    }
    if (i < m) {
        int n_left = (int)(m - i);
        for (int r = 0; r < 8; r++) { /* the rows past the end repeat the last one */
            const double *x0 = X + ROW(r < n_left ? r : n_left - 1) * d;
            __m512d a0 = b0, a1 = b1;
            for (int64_t f = 0; f < d; f++) {
                __m512d s0 = _mm512_set1_pd(x0[f]);
                a0 = _mm512_fmadd_pd(s0, _mm512_loadu_pd(W + 16 * f), a0);
                a1 = _mm512_fmadd_pd(s0, _mm512_loadu_pd(W + 16 * f + 8), a1);
            }
            _mm512_store_pd(tile + 16 * r, a0);
            _mm512_store_pd(tile + 16 * r + 8, a1);
        }
        measure512_tile_pd(tile, n_classes, measure, out + i, n_left);
    }
}
#undef LOGITS4_PD

AVX512 static void score512_f64(const double *X, int64_t d, const int64_t *rows, int64_t start,
                                int64_t m, const double *W, const double *b, int n_classes,
                                int measure, double *out)
{
    if (measure == ENTROPY)
        score512_f64_as(X, d, rows, start, m, W, b, n_classes, ENTROPY, out);
    else if (measure == MARGIN)
        score512_f64_as(X, d, rows, start, m, W, b, n_classes, MARGIN, out);
    else
        score512_f64_as(X, d, rows, start, m, W, b, n_classes, LEAST_CONFIDENT, out);
}

#undef ROW
