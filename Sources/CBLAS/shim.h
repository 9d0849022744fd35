// The C boundary of ConsentRec: OpenBLAS's CBLAS interface (with its thread-pool controls)
// and the LAPACKE C interface to LAPACK. Only the Linalg target imports this module.
#ifndef CONSENTREC_CBLAS_SHIM_H
#define CONSENTREC_CBLAS_SHIM_H
#include <cblas.h>
#include <lapacke.h>
#endif
