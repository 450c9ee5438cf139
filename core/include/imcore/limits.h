/* imcore: build-time limits. Override with -D at configure time, e.g.
 * -DIMC_MAX_BODY_BYTES=131072; every parser enforces these. */
#ifndef IMCORE_LIMITS_H
#define IMCORE_LIMITS_H

#ifndef IMC_MAX_BODY_BYTES
#define IMC_MAX_BODY_BYTES 65536 /* plaintext body */
#endif
#ifndef IMC_MAX_RECIPIENTS
#define IMC_MAX_RECIPIENTS 1024 /* devices per envelope */
#endif
#ifndef IMC_MAX_DEVICES_PER_HANDLE
#define IMC_MAX_DEVICES_PER_HANDLE 64
#endif
#ifndef IMC_MAX_HANDLE_BYTES
#define IMC_MAX_HANDLE_BYTES 255
#endif
#ifndef IMC_REPLAY_SLOTS
#define IMC_REPLAY_SLOTS 4096 /* message ids a replay cache remembers; power of 2, >= 8 */
#endif

#ifndef IMC_MAX_CLOCK_SKEW_MS
#define IMC_MAX_CLOCK_SKEW_MS (15 * 60 * 1000) /* how far ahead of the device a timestamp may be */
#endif

#if IMC_MAX_HANDLE_BYTES > 255
#error "handles are length-prefixed by one byte"
#endif
#if IMC_MAX_RECIPIENTS > 65535
#error "recipient counts are two bytes on the wire"
#endif
#if (IMC_REPLAY_SLOTS & (IMC_REPLAY_SLOTS - 1)) != 0 || IMC_REPLAY_SLOTS < 8
#error "IMC_REPLAY_SLOTS must be a power of two, at least 8"
#endif
#if IMC_MAX_BODY_BYTES > 16 * 1024 * 1024
#error "body lengths must stay far below the 32-bit length field and the AEAD limits"
#endif

#endif
