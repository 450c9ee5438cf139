/* imcore: the end-to-end encryption core of a large messaging service.
 * Umbrella header. */
#ifndef IMCORE_IMCORE_H
#define IMCORE_IMCORE_H

#include "imcore/backend.h"
#include "imcore/crypto.h"
#include "imcore/dir.h"
#include "imcore/dircache.h"
#include "imcore/dirkt.h"
#include "imcore/keys.h"
#include "imcore/kt.h"
#include "imcore/limits.h"
#include "imcore/msg.h"
#include "imcore/recipe.h"
#include "imcore/replay.h"
#include "imcore/rng.h"
#include "imcore/status.h"
#include "imcore/suite.h"
#include "imcore/util.h"
#include "imcore/wire.h"

#endif
