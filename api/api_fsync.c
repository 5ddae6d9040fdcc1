/*
 * api_fsync.c -- fsync many files at once (see api_fsync.h).
 *
 * The pool: one job at a time (fds, errs, n), an index the threads and
 * the caller take items from under the lock, a count of items still
 * running; workers sleep on `work` between jobs, the caller on `done`
 * until the count is zero.  Must never let a worker touch a job after
 * api_fsync_all has returned (the count guarantees it) nor take a
 * signal meant for the host's event loop (workers block them all).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "api_fsync.h"

static struct {
	pthread_mutex_t	 mu;
	pthread_cond_t	 work, done;
	size_t		 nthreads;
	int		 broken;	/* a thread could not be made */
	const int	*fds;
	int		*errs;
	size_t		 n, next, running;
} api_fsync = {
	.mu = PTHREAD_MUTEX_INITIALIZER,
	.work = PTHREAD_COND_INITIALIZER,
	.done = PTHREAD_COND_INITIALIZER,
};

/* api_fsync_one - the item I of the job, lock held on entry and exit */
static void
api_fsync_one(size_t i)
{
	const int	*fds = api_fsync.fds;
	int		*errs = api_fsync.errs;
	int		 err;

	if (fds[i] != -1) {
		pthread_mutex_unlock(&api_fsync.mu);
		err = fsync(fds[i]) == -1 ? errno : 0;
		pthread_mutex_lock(&api_fsync.mu);
		errs[i] = err;
	}
	if (--api_fsync.running == 0)
		pthread_cond_signal(&api_fsync.done);
}

static void *
api_fsync_worker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&api_fsync.mu);
	for (;;) {
		while (api_fsync.next >= api_fsync.n)
			pthread_cond_wait(&api_fsync.work, &api_fsync.mu);
		api_fsync_one(api_fsync.next++);
	}
	return NULL;
}

/* api_fsync_grow - up to WANT workers (lock held); 0 when none can be
 * made */
static size_t
api_fsync_grow(size_t want)
{
	pthread_attr_t	attr;
	pthread_t	tid;
	sigset_t	all, old;

	if (want > API_FSYNC_THREADS)
		want = API_FSYNC_THREADS;
	if (api_fsync.broken || api_fsync.nthreads >= want)
		return api_fsync.nthreads;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	while (api_fsync.nthreads < want) {
		if (pthread_create(&tid, &attr, api_fsync_worker, NULL) != 0) {
			api_fsync.broken = 1;
			break;
		}
		api_fsync.nthreads++;
	}
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return api_fsync.nthreads;
}

size_t
api_fsync_all(const int *fds, size_t n, int *errs)
{
	size_t	i, todo = 0, failed = 0;

	for (i = 0; i < n; i++)
		todo += fds[i] != -1;
	pthread_mutex_lock(&api_fsync.mu);
	if (todo > 1 && api_fsync_grow(todo - 1) > 0) {
		api_fsync.fds = fds;
		api_fsync.errs = errs;
		api_fsync.running = n;
		api_fsync.next = 0;
		api_fsync.n = n;
		for (i = 1; i < todo && i <= api_fsync.nthreads; i++)
			pthread_cond_signal(&api_fsync.work);
		while (api_fsync.next < api_fsync.n)
			api_fsync_one(api_fsync.next++);
		while (api_fsync.running > 0)
			pthread_cond_wait(&api_fsync.done, &api_fsync.mu);
		api_fsync.n = api_fsync.next = 0;
		api_fsync.fds = NULL;
		api_fsync.errs = NULL;
	} else
		for (i = 0; i < n; i++)
			if (fds[i] != -1)
				errs[i] = fsync(fds[i]) == -1 ? errno : 0;
	pthread_mutex_unlock(&api_fsync.mu);
	for (i = 0; i < n; i++)
		failed += fds[i] != -1 && errs[i] != 0;
	return failed;
}
