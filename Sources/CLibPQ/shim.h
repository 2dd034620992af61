#ifndef GRIDLOOP_CLIBPQ_SHIM_H
#define GRIDLOOP_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
