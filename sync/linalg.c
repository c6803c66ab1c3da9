/*
 * linalg.c: see linalg.h.
 */
#include "linalg.h"

#include <math.h>

bool vxsi_cholesky(double *L, const double *A, size_t m) {
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j <= i; j++) {
            double v = A[i * m + j];
            for (size_t k = 0; k < j; k++) v -= L[i * m + k] * L[j * m + k];
            if (i == j) {
                if (!(v > 0)) return false;
                L[i * m + i] = sqrt(v);
            } else {
                L[i * m + j] = v / L[j * m + j];
            }
        }
    return true;
}

void vxsi_chol_solve(const double *L, double *b, size_t m) {
    for (size_t i = 0; i < m; i++) {
        double v = b[i];
        for (size_t k = 0; k < i; k++) v -= L[i * m + k] * b[k];
        b[i] = v / L[i * m + i];
    }
    for (size_t i = m; i-- > 0;) {
        double v = b[i];
        for (size_t k = i + 1; k < m; k++) v -= L[k * m + i] * b[k];
        b[i] = v / L[i * m + i];
    }
}
