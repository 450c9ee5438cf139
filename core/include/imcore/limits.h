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
#ifndef IMC_REPLAY_MAX_SENDERS
#define IMC_REPLAY_MAX_SENDERS 4096 /* sender devices a replay state tracks (docs/replay.md) */
#endif
#ifndef IMC_REPLAY_WINDOW
/* Message ids a replay state remembers per sender device. 120: a full
 * record (16 + 120 * 16 bytes) stays inside one LMDB leaf node on 4 KiB
 * pages, two senders a page (docs/replay.md, "Footprint"). */
#define IMC_REPLAY_WINDOW 120
#endif
#ifndef IMC_MAX_MESSAGE_AGE_MS
#define IMC_MAX_MESSAGE_AGE_MS (30ull * 24 * 3600 * 1000) /* older messages are refused */
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
#if IMC_REPLAY_MAX_SENDERS < 1 || IMC_REPLAY_WINDOW < 1
#error "a replay state needs at least one sender and a window of one"
#endif
#if IMC_MAX_BODY_BYTES > 16 * 1024 * 1024
#error "body lengths must stay far below the 32-bit length field and the AEAD limits"
#endif

#endif
