/*
 * Uncertainty of a linear softmax model, row by row, without leaving registers.
 *
 * For each row x of a dense C-contiguous pool (float32 or float64) the kernel forms the
 * logits z = x W + b of up to 16 classes, then one of
 *   entropy          -sum_c p_c log p_c = log s - (sum_c e_c u_c) / s,
 *   margin           -(p_best - p_second) = (e_second - 1) / s,
 *   least confident  1 - p_best = 1 - 1 / s,
 * where u_c = z_c - max z, e_c = exp(u_c) and s = sum_c e_c, and writes it as a double.
 * Nothing of size rows x classes is stored.  W is (n_features, 16), the classes past
 * n_classes padded with zeros.  Four rows are in flight at once so that the products
 * overlap.  On a processor with AVX-512 the kernels in _avx512.h run (one register per
 * row of float32 logits), with AVX2 those of _avx2.h (float32 pools); elsewhere the
 * portable C loops below, which are slower than numpy and are there for correctness only
 * (activelab then keeps its numpy path).
 *
 * exp() is a Cody-Waite reduction and a polynomial (relative error about 2 ulp in
 * float32, 1e-15 in float64); the values agree with numpy's to ~1e-6 (float32 pools)
 * and ~1e-13 (float64), which is why the caller re-scores the items near a query's
 * cut-off with numpy before choosing.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define NC 16 /* class lanes */
#define NR 4  /* rows in flight */

enum { ENTROPY = 0, MARGIN = 1, LEAST_CONFIDENT = 2 };

#if defined(__GNUC__) && defined(__x86_64__)
#define HAVE_AVX512_BUILD 1
#endif

static inline float exp_f32(float x) /* for x <= 0 */
{
    x = x < -87.0f ? -87.0f : x;
    x = x > 0.0f ? 0.0f : x;
    const float shift = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer */
    float k = (x * 1.44269504088896341f + shift) - shift;
    float r = x - k * 0.693359375f;
    r = r - k * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * (r * r) + (r + 1.0f);
    int32_t bits = ((int32_t)k + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

static inline double exp_f64(double x) /* for x <= 0 */
{
    x = x < -708.0 ? -708.0 : x;
    x = x > 0.0 ? 0.0 : x;
    const double shift = 6755399441055744.0; /* 1.5 * 2^52 */
    double k = (x * 1.4426950408889634 + shift) - shift;
    double r = x - k * 6.93147180369123816490e-01;
    r = r - k * 1.90821492927058770002e-10;
    double p = 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    int64_t bits = ((int64_t)k + 1023) << 52;
    double scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

#define DEFINE_KERNEL(REAL, SUFFIX, EXP)                                                    \
    static inline double measure_##SUFFIX(const REAL *z, int n_classes, int measure)       \
    {                                                                                      \
        REAL best = z[0], second = -INFINITY;                                              \
        for (int c = 1; c < n_classes; c++) {                                              \
            REAL v = z[c];                                                                 \
            if (v > best) {                                                                \
                second = best;                                                             \
                best = v;                                                                  \
            } else if (v > second) {                                                       \
                second = v;                                                                \
            }                                                                              \
        }                                                                                  \
        REAL s = 0, t = 0;                                                                 \
        for (int c = 0; c < NC; c++) {                                                     \
            REAL u = z[c] - best;                                                          \
            REAL e = EXP(u);                                                               \
            e = c < n_classes ? e : (REAL)0;                                               \
            s += e;                                                                        \
            t += e * (c < n_classes ? u : (REAL)0);                                        \
        }                                                                                  \
        if (measure == ENTROPY)                                                            \
            return log((double)s) - (double)t / (double)s;                                 \
        if (measure == MARGIN)                                                             \
            return ((double)EXP(second - best) - 1.0) / (double)s;                         \
        return 1.0 - 1.0 / (double)s;                                                      \
    }                                                                                      \
                                                                                           \
    static void score_##SUFFIX(const REAL *X, int64_t d, const int64_t *rows,       \
                                      int64_t start, int64_t m, const REAL *W,             \
                                      const REAL *b, int n_classes, int measure,           \
                                      double *out)                                         \
    {                                                                                      \
        int64_t i = 0;                                                                     \
        for (; i + NR <= m; i += NR) {                                                     \
            REAL z[NR][NC];                                                                \
            const REAL *x[NR];                                                             \
            for (int r = 0; r < NR; r++) {                                                 \
                int64_t row = rows ? rows[i + r] : start + i + r;                          \
                x[r] = X + row * d;                                                        \
                for (int c = 0; c < NC; c++)                                               \
                    z[r][c] = b[c];                                                        \
            }                                                                              \
            for (int64_t f = 0; f < d; f++) {                                              \
                const REAL *w = W + f * NC;                                                \
                for (int r = 0; r < NR; r++) {                                             \
                    REAL xv = x[r][f];                                                     \
                    for (int c = 0; c < NC; c++)                                           \
                        z[r][c] += xv * w[c];                                              \
                }                                                                          \
            }                                                                              \
            for (int r = 0; r < NR; r++)                                                   \
                out[i + r] = measure_##SUFFIX(z[r], n_classes, measure);                   \
        }                                                                                  \
        for (; i < m; i++) {                                                               \
            REAL z[NC];                                                                    \
            int64_t row = rows ? rows[i] : start + i;                                      \
            const REAL *x = X + row * d;                                                   \
            for (int c = 0; c < NC; c++)                                                   \
                z[c] = b[c];                                                               \
            for (int64_t f = 0; f < d; f++)                                                \
                for (int c = 0; c < NC; c++)                                               \
                    z[c] += x[f] * W[f * NC + c];                                          \
            out[i] = measure_##SUFFIX(z, n_classes, measure);                              \
        }                                                                                  \
    }

DEFINE_KERNEL(float, f32, exp_f32)
DEFINE_KERNEL(double, f64, exp_f64)

#ifdef HAVE_AVX512_BUILD
#include "_avx2.h"
#include "_avx512.h"
#endif

enum { PORTABLE = 0, USE_AVX2 = 1, USE_AVX512 = 2 };
static const char *SIMD_NAMES[] = {"portable", "avx2", "avx512"};

/* The best instruction set this processor runs. */
static int best_simd(void)
{
#ifdef HAVE_AVX512_BUILD
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq"))
        return USE_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return USE_AVX2;
#endif
    return PORTABLE;
}

static int simd_level = PORTABLE;

static int get_buffer(PyObject *obj, Py_buffer *view, int writable, const char *name)
{
    int flags = PyBUF_C_CONTIGUOUS | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, view, flags) < 0) {
        PyErr_Format(PyExc_TypeError, "%s must be a C-contiguous%s buffer", name,
                     writable ? " writable" : "");
        return -1;
    }
    return 0;
}

PyDoc_STRVAR(score_doc,
"score(X, n_features, itemsize, rows, start, m, W, b, n_classes, measure, out)\n\n"
"Write the uncertainty of m rows of X into out (float64).  rows is an int64 buffer of\n"
"row numbers or None (rows start .. start + m - 1).  The caller checks every argument;\n"
"this function only checks that the buffers are large enough.  The GIL is released.");

static PyObject *score(PyObject *self, PyObject *args)
{
    PyObject *X_obj, *rows_obj, *W_obj, *b_obj, *out_obj;
    Py_ssize_t d, itemsize, start, m;
    int n_classes, measure;
    if (!PyArg_ParseTuple(args, "OnnOnnOOiiO", &X_obj, &d, &itemsize, &rows_obj, &start, &m,
                          &W_obj, &b_obj, &n_classes, &measure, &out_obj))
        return NULL;
    if ((itemsize != 4 && itemsize != 8) || n_classes < 2 || n_classes > NC || measure < 0 ||
        measure > 2 || d < 1 || m < 0 || start < 0) {
        PyErr_SetString(PyExc_ValueError, "score: bad itemsize, n_classes, measure or sizes");
        return NULL;
    }
    Py_buffer X, rows = {0}, W, b, out;
    if (get_buffer(X_obj, &X, 0, "X") < 0)
        return NULL;
    int ok = 0, have_rows = rows_obj != Py_None;
    if (have_rows && get_buffer(rows_obj, &rows, 0, "rows") < 0)
        goto release_X;
    if (get_buffer(W_obj, &W, 0, "W") < 0)
        goto release_rows;
    if (get_buffer(b_obj, &b, 0, "b") < 0)
        goto release_W;
    if (get_buffer(out_obj, &out, 1, "out") < 0)
        goto release_b;
    Py_ssize_t n_base = X.len / (d * itemsize);
    if (W.len < d * NC * itemsize || b.len < NC * itemsize || out.len < m * 8 ||
        (have_rows && rows.len < m * 8) || (!have_rows && start + m > n_base)) {
        PyErr_SetString(PyExc_ValueError, "score: a buffer is smaller than the sizes given");
        goto release_out;
    }
    if (have_rows) { /* every row number must fall inside X */
        const int64_t *r = (const int64_t *)rows.buf;
        for (Py_ssize_t i = 0; i < m; i++)
            if (r[i] < 0 || r[i] >= n_base) {
                PyErr_SetString(PyExc_IndexError, "score: a row number is outside X");
                goto release_out;
            }
    }
    const int64_t *row_numbers = have_rows ? (const int64_t *)rows.buf : NULL;
    Py_BEGIN_ALLOW_THREADS
#ifdef HAVE_AVX512_BUILD
    if (simd_level == USE_AVX512 && itemsize == 4)
        score512_f32((const float *)X.buf, d, row_numbers, start, m, (const float *)W.buf,
                     (const float *)b.buf, n_classes, measure, (double *)out.buf);
    else if (simd_level == USE_AVX512)
        score512_f64((const double *)X.buf, d, row_numbers, start, m, (const double *)W.buf,
                     (const double *)b.buf, n_classes, measure, (double *)out.buf);
    else if (simd_level == USE_AVX2 && itemsize == 4)
        score256_f32((const float *)X.buf, d, row_numbers, start, m, (const float *)W.buf,
                     (const float *)b.buf, n_classes, measure, (double *)out.buf);
    else
#endif
    if (itemsize == 4)
        score_f32((const float *)X.buf, d, have_rows ? (const int64_t *)rows.buf : NULL, start,
                  m, (const float *)W.buf, (const float *)b.buf, n_classes, measure,
                  (double *)out.buf);
    else
        score_f64((const double *)X.buf, d, have_rows ? (const int64_t *)rows.buf : NULL, start,
                  m, (const double *)W.buf, (const double *)b.buf, n_classes, measure,
                  (double *)out.buf);
    Py_END_ALLOW_THREADS
    ok = 1;
release_out:
    PyBuffer_Release(&out);
release_b:
    PyBuffer_Release(&b);
release_W:
    PyBuffer_Release(&W);
release_rows:
    if (have_rows)
        PyBuffer_Release(&rows);
release_X:
    PyBuffer_Release(&X);
    if (!ok)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *simd(PyObject *self, PyObject *args)
{
    return PyUnicode_FromString(SIMD_NAMES[simd_level]);
}

static PyObject *set_simd(PyObject *self, PyObject *args)
{
    const char *name;
    if (!PyArg_ParseTuple(args, "s", &name))
        return NULL;
    for (int level = PORTABLE; level <= best_simd(); level++)
        if (strcmp(name, SIMD_NAMES[level]) == 0) {
            simd_level = level;
            Py_RETURN_NONE;
        }
    PyErr_Format(PyExc_ValueError, "set_simd: %s is not available here", name);
    return NULL;
}

static PyMethodDef methods[] = {
    {"score", score, METH_VARARGS, score_doc},
    {"simd", simd, METH_NOARGS,
     "The instruction set the kernels use: avx512, avx2 (float32 pools) or portable."},
    {"set_simd", set_simd, METH_VARARGS,
     "Choose the kernels: 'avx512' or 'avx2' (when the processor has them) or 'portable'."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_linear", "Fused uncertainty of linear softmax models.", -1, methods,
};

PyMODINIT_FUNC PyInit__linear(void)
{
    simd_level = best_simd();
    return PyModule_Create(&module);
}
