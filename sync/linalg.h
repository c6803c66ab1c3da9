/*
 * linalg.h: the dense linear algebra the clock solver (clocks.c) and the search for changes of
 * rate (rates.c) share: normal equations of a few dozen unknowns, solved by Cholesky. Internal
 * to sync/.
 */
#ifndef VXS_SYNC_LINALG_H
#define VXS_SYNC_LINALG_H

#include <stdbool.h>
#include <stddef.h>

/* vxsi_cholesky factors the symmetric positive definite m x m matrix A = L L^T into L (lower
 * part); false when A is not positive definite. */
bool vxsi_cholesky(double *L, const double *A, size_t m);

/* vxsi_chol_solve solves L L^T x = b in place (b becomes x). */
void vxsi_chol_solve(const double *L, double *b, size_t m);

#endif
