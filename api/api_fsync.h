/*
 * api_fsync.h -- fsync many files at once, for a queue backend's group
 * commit.
 *
 * A disk (above all a virtual one) completes many fsyncs side by side
 * about as fast as one: issued one after the other, a batch of n
 * messages with three files each costs 3n flush latencies; issued
 * together, about one.  api_fsync_all hands the descriptors to a few
 * worker threads (made on first use, all signals blocked, never exiting)
 * and works along with them; it returns once every fsync has returned,
 * so a caller that answers only afterwards never answers before its
 * data is on stable storage.  Callers may be several threads of one
 * host at once (the queue's loop and its commit thread): each waits for
 * its own descriptors only; the threads touch nothing but the
 * descriptors given.
 * Without threads (creation failed) it fsyncs one after the other.
 */
#ifndef API_FSYNC_H
#define API_FSYNC_H

#include <stddef.h>

#define API_FSYNC_THREADS	16	/* at most, beside the caller */

/* api_fsync_all - fsync FDS[0..N); ERRS[i] is 0 or fsync's errno for
 * FDS[i] (an FDS[i] of -1 is skipped, its ERRS[i] left as is); the
 * number of failures */
size_t	api_fsync_all(const int *fds, size_t n, int *errs);

#endif
