// OpenMPI's communicators, datatypes and operations are macros over global objects, which Swift
// cannot import: each one the Cluster module uses is wrapped in a static inline function.
#include <mpi.h>

static inline MPI_Comm cmpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype cmpi_byte(void) { return MPI_BYTE; }
static inline MPI_Datatype cmpi_int32(void) { return MPI_INT32_T; }
static inline MPI_Datatype cmpi_int64(void) { return MPI_INT64_T; }
static inline int cmpi_success(void) { return MPI_SUCCESS; }
