/*
 * api_fsync.c -- fsync many files at once (see api_fsync.h).
 *
 * The pool: jobs (fds, errs, n) on a list, each on its caller's stack;
 * an index per job the threads and its caller take items from under the
 * lock, a count of its items still running.  Workers take from the
 * oldest job that has items left and sleep on `work` when none has; a
 * caller works on its own job, then sleeps on its job's `done` until
 * the count is zero, and unlinks it.  Several callers (threads of one
 * host) may have jobs at once.  Must never let a worker touch a job
 * after api_fsync_all has returned (the count guarantees it) nor take a
 * signal meant for the host's event loop (workers block them all).
 */
#include <sys/queue.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "api_fsync.h"

struct api_fsync_job {
	TAILQ_ENTRY(api_fsync_job) entry;
	const int	*fds;
	int		*errs;
	size_t		 n, next, running;
	pthread_cond_t	 done;
};

static struct {
	pthread_mutex_t	 mu;
	pthread_cond_t	 work;
	size_t		 nthreads;
	int		 broken;	/* a thread could not be made */
	TAILQ_HEAD(, api_fsync_job) jobs;	/* with items left */
} api_fsync = {
	.mu = PTHREAD_MUTEX_INITIALIZER,
	.work = PTHREAD_COND_INITIALIZER,
	.jobs = TAILQ_HEAD_INITIALIZER(api_fsync.jobs),
};

/* api_fsync_take - the next item of J (lock held on entry and exit); a
 * job whose items are all taken leaves the list */
static void
api_fsync_take(struct api_fsync_job *j)
{
	size_t	i = j->next++;
	int	err;

	if (j->next == j->n)
		TAILQ_REMOVE(&api_fsync.jobs, j, entry);
	if (j->fds[i] != -1) {
		pthread_mutex_unlock(&api_fsync.mu);
		err = fsync(j->fds[i]) == -1 ? errno : 0;
		pthread_mutex_lock(&api_fsync.mu);
		j->errs[i] = err;
	}
	if (--j->running == 0)
		pthread_cond_signal(&j->done);
}

static void *
api_fsync_worker(void *arg)
{
	struct api_fsync_job	*j;

	(void)arg;
	pthread_mutex_lock(&api_fsync.mu);
	for (;;) {
		while ((j = TAILQ_FIRST(&api_fsync.jobs)) == NULL)
			pthread_cond_wait(&api_fsync.work, &api_fsync.mu);
		api_fsync_take(j);
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
	struct api_fsync_job	 j;
	size_t			 i, todo = 0, failed = 0;
	int			 pooled = 0;

	for (i = 0; i < n; i++)
		todo += fds[i] != -1;
	if (todo > 1) {
		pthread_mutex_lock(&api_fsync.mu);
		if (api_fsync_grow(todo - 1) > 0) {
			pooled = 1;
			j.fds = fds;
			j.errs = errs;
			j.n = j.running = n;
			j.next = 0;
			pthread_cond_init(&j.done, NULL);
			TAILQ_INSERT_TAIL(&api_fsync.jobs, &j, entry);
			for (i = 1; i < todo && i <= api_fsync.nthreads; i++)
				pthread_cond_signal(&api_fsync.work);
			while (j.next < j.n)
				api_fsync_take(&j);
			while (j.running > 0)
				pthread_cond_wait(&j.done, &api_fsync.mu);
			pthread_cond_destroy(&j.done);
		}
		pthread_mutex_unlock(&api_fsync.mu);
	}
	if (!pooled)
		for (i = 0; i < n; i++)
			if (fds[i] != -1)
				errs[i] = fsync(fds[i]) == -1 ? errno : 0;
	for (i = 0; i < n; i++)
		failed += fds[i] != -1 && errs[i] != 0;
	return failed;
}
