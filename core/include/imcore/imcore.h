/* imcore: the end-to-end encryption core of a large messaging service.
 * Umbrella header. */
#ifndef IMCORE_IMCORE_H
#define IMCORE_IMCORE_H

#include "imcore/backend.h"
#include "imcore/crypto.h"
#include "imcore/rng.h"
#include "imcore/status.h"
#include "imcore/suite.h"
#include "imcore/util.h"

#endif
