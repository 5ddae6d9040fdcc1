/*
 * diskrate.c -- the disk's durable-write rate, the physical bound the
 * benchmark prints beside every queueing figure (make bench).
 *
 * Each thread repeats what a queue must do to keep one small file:
 * create a temporary file, write SIZE bytes, fsync it, rename it into
 * place, fsync the directory.  Reported as one JSON line of durable
 * writes per second over all threads.  Used only by bench/bench.py;
 * it writes only below DIR and removes what it made.
 *
 *   diskrate -d DIR [-t threads] [-s seconds] [-b bytes]
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct dr_thread {
	pthread_t	tid;
	int		id;
	long		ops;
	int		failed;
};

static const char	*dr_dir;
static size_t		 dr_bytes = 4096;
static double		 dr_seconds = 3;
static char		*dr_buf;

static double
dr_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* dr_one - one durable file: 0, or -1 with errno */
static int
dr_one(int dirfd, int id, long n)
{
	char	tmp[64], dst[64];
	int	fd;

	snprintf(tmp, sizeof tmp, "t%d.%ld.tmp", id, n);
	snprintf(dst, sizeof dst, "f%d.%ld", id, n % 64);
	if ((fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600)) ==
	    -1)
		return -1;
	if (write(fd, dr_buf, dr_bytes) != (ssize_t)dr_bytes ||
	    fsync(fd) == -1) {
		close(fd);
		return -1;
	}
	close(fd);
	if (renameat(dirfd, tmp, dirfd, dst) == -1 || fsync(dirfd) == -1)
		return -1;
	return 0;
}

static void *
dr_run(void *arg)
{
	struct dr_thread	*t = arg;
	double			 end = dr_now() + dr_seconds;
	int			 dirfd;

	if ((dirfd = open(dr_dir, O_RDONLY | O_DIRECTORY)) == -1) {
		t->failed = errno;
		return NULL;
	}
	while (dr_now() < end) {
		if (dr_one(dirfd, t->id, t->ops) == -1) {
			t->failed = errno;
			break;
		}
		t->ops++;
	}
	close(dirfd);
	return NULL;
}

static void
dr_cleanup(int nthreads)
{
	char	path[4096];
	int	i, j;

	for (i = 0; i < nthreads; i++)
		for (j = 0; j < 64; j++) {
			snprintf(path, sizeof path, "%s/f%d.%d", dr_dir, i, j);
			unlink(path);
		}
}

int
main(int argc, char *argv[])
{
	struct dr_thread	*th;
	double			 t0, secs;
	long			 ops = 0;
	int			 ch, i, nthreads = 1, failed = 0;

	while ((ch = getopt(argc, argv, "b:d:s:t:")) != -1) {
		switch (ch) {
		case 'b': dr_bytes = (size_t)strtoul(optarg, NULL, 10); break;
		case 'd': dr_dir = optarg; break;
		case 's': dr_seconds = strtod(optarg, NULL); break;
		case 't': nthreads = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: diskrate -d dir [-t threads] "
			    "[-s seconds] [-b bytes]\n");
			return 2;
		}
	}
	if (dr_dir == NULL || nthreads < 1 || nthreads > 256 ||
	    dr_seconds <= 0 || dr_seconds > 600 || dr_bytes > 1 << 24) {
		fprintf(stderr, "diskrate: bad arguments\n");
		return 2;
	}
	if ((dr_buf = malloc(dr_bytes + 1)) == NULL ||
	    (th = calloc((size_t)nthreads, sizeof *th)) == NULL)
		return 2;
	memset(dr_buf, 'x', dr_bytes);
	t0 = dr_now();
	for (i = 0; i < nthreads; i++) {
		th[i].id = i;
		pthread_create(&th[i].tid, NULL, dr_run, &th[i]);
	}
	for (i = 0; i < nthreads; i++) {
		pthread_join(th[i].tid, NULL);
		ops += th[i].ops;
		if (th[i].failed && !failed)
			failed = th[i].failed;
	}
	secs = dr_now() - t0;
	dr_cleanup(nthreads);
	printf("{\"threads\":%d,\"bytes\":%zu,\"ops\":%ld,\"elapsed_s\":%.3f,"
	    "\"rate\":%.1f,\"error\":\"%s\"}\n", nthreads, dr_bytes, ops, secs,
	    secs > 0 ? (double)ops / secs : 0.0, failed ? strerror(failed) :
	    "");
	return failed ? 1 : 0;
}
