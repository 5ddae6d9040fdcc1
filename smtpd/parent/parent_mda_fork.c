/*
 * parent_mda_fork.c -- the parent starts local deliveries for the
 * dispatcher, and reports how they ended.
 *
 * Only the parent may become another user, so the dispatcher's mda agent
 * asks it (IMSG_PARENT_FORK_MDA with the envelope).  The parent checks
 * the envelope, finds the action by name in its own configuration (the
 * command or path comes from there, never from the dispatcher), takes
 * the account lookup found in the action's userbase (uid, gid, home:
 * system or virtual users), refuses root, builds the delivery
 * (parent_mda.c) and starts it: the program's stdin is a pipe whose write
 * end goes back to the dispatcher (IMSG_PARENT_FORK_MDA_RESULT), its
 * stdout and stderr a pipe read here, on the event loop, for the one line
 * that says why it failed.  When the process is reaped (SIGCHLD) its
 * status becomes the outcome (IMSG_DISPATCHER_MDA_DONE).  A delivery
 * that runs longer than PARENT_MDA_TIMEOUT is killed: a temporary
 * failure.  Nothing here waits: reads are nonblocking, reaping is on
 * SIGCHLD.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "api_tree.h"
#include "conf.h"
#include "envelope.h"
#include "imsg_codec.h"
#include "log.h"
#include "mproc.h"
#include "parent.h"
#include "parent_mda.h"
#include "smtpd.h"
#include "xmalloc.h"

struct parent_mda {
	uint64_t	 id;
	pid_t		 pid;
	int		 errfd;
	struct event	*ev_err;
	struct event	*ev_timeout;
	char		 err[PARENT_MDA_ERR_MAX];
	size_t		 errlen;
	int		 timed_out;
};

static struct tree	parent_mdas;	/* pid -> delivery */

/* parent_mda_done - the outcome to the dispatcher; none once we stop
 * (its channel is closed): the envelope stays queued and is tried again
 * at the next start, as after a crash */
static void
parent_mda_done(uint64_t id, int status, const char *error)
{
	struct mproc	*p = env->peers[PROC_DISPATCHER];

	/* a delivery that ends while the daemon stops: nobody to tell;
	 * the queue still has the envelope and tries it at the next start */
	if (p == NULL || p->closed) {
		log_debug("parent: delivery %016llx ended during shutdown",
		    (unsigned long long)id);
		return;
	}
	msg_send_dispatcher_mda_done(p,
	    &(struct msg_dispatcher_mda_done){ .id = id, .status = status,
		.error = error });
}

/* parent_mda_finished - the outcome of delivery ID (agents' too) */
void
parent_mda_finished(uint64_t id, int status, const char *error)
{
	parent_mda_done(id, status, error);
}

/* parent_mda_read_output - what a delivery program printed on *FD,
 * nonblocking, its last CAP - 1 bytes kept in BUF (*LEN); at its end
 * the event EV is removed and *FD closed (-1) */
void
parent_mda_read_output(int *fd, struct event *ev, char *buf, size_t cap,
    size_t *len)
{
	char	chunk[512];
	ssize_t	n;
	size_t	keep, off;

	while (*fd != -1) {
		n = read(*fd, chunk, sizeof chunk);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n <= 0) {
			event_del(ev);
			close(*fd);
			*fd = -1;
			return;
		}
		off = 0;
		if ((size_t)n > cap - 1) {	/* its end only */
			off = (size_t)n - (cap - 1);
			n = (ssize_t)(cap - 1);
		}
		if (*len + (size_t)n > cap - 1) {
			keep = cap - 1 - (size_t)n;
			memmove(buf, buf + *len - keep, keep);
			*len = keep;
		}
		memcpy(buf + *len, chunk + off, (size_t)n);
		*len += (size_t)n;
	}
}

/* parent_mda_read_err - what the program printed */
static void
parent_mda_read_err(struct parent_mda *m)
{
	parent_mda_read_output(&m->errfd, m->ev_err, m->err, sizeof m->err,
	    &m->errlen);
}

static void
parent_mda_on_err(evutil_socket_t fd, short ev, void *arg)
{
	parent_mda_read_err(arg);
}

static void
parent_mda_on_timeout(evutil_socket_t fd, short ev, void *arg)
{
	struct parent_mda	*m = arg;

	log_warnx("parent: delivery pid=%ld still running after %ds, killed",
	    (long)m->pid, PARENT_MDA_TIMEOUT);
	m->timed_out = 1;
	kill(m->pid, SIGKILL);
}

static void
parent_mda_free(struct parent_mda *m)
{
	if (m->errfd != -1)
		close(m->errfd);
	if (m->ev_err != NULL)
		event_free(m->ev_err);
	if (m->ev_timeout != NULL)
		event_free(m->ev_timeout);
	free(m);
}

/* parent_mda_reaped - PID was a delivery: report it; 0, or -1 if not ours */
int
parent_mda_reaped(pid_t pid, int wstatus)
{
	struct parent_mda	*m;
	char			 error[ENVELOPE_ERRORLINE_SIZE];
	int			 status;

	if ((m = api_tree_pop(&parent_mdas, (uint64_t)pid)) == NULL)
		return -1;
	parent_mda_read_err(m);
	m->err[m->errlen] = '\0';
	if (m->timed_out) {
		status = DELIVERY_TEMPFAIL;
		snprintf(error, sizeof error, "delivery timed out after %ds",
		    PARENT_MDA_TIMEOUT);
	} else
		status = parent_mda_status(wstatus, m->err, m->errlen, error,
		    sizeof error);
	parent_mda_done(m->id, status, error);
	parent_mda_free(m);
	return 0;
}

/*
 * parent_mda_libexec - where the delivery programs are: the libexec
 * directory when it holds them, else the libexec/ beside our own binary
 * (a build tree run in place: make run, the tests)
 */
static const char *
parent_mda_libexec(void)
{
	static char	dir[PATH_MAX];
	char		path[PATH_MAX + 32], *slash;

	if (dir[0] != '\0')
		return dir;
	strlcpy(dir, env->opts.libexec, sizeof dir);
	snprintf(path, sizeof path, "%s/mail.maildir", dir);
	if (access(path, X_OK) == 0)
		return dir;
	strlcpy(path, env->opts.self, sizeof path);
	if ((slash = strrchr(path, '/')) != NULL) {
		*slash = '\0';
		strlcat(path, "/libexec", sizeof path);
		if (access(path, X_OK) == 0)
			strlcpy(dir, path, sizeof dir);
	}
	log_debug("parent: delivery programs in %s", dir);
	return dir;
}

/* parent_mda_wrapper - the command of the action's wrapper, or NULL */
static const char *
parent_mda_wrapper(const struct conf_action *a)
{
	size_t	i;

	if (a->wrapper == NULL)
		return NULL;
	for (i = 0; i < env->conf->nwrappers; i++)
		if (strcmp(env->conf->wrappers[i]->name, a->wrapper) == 0)
			return env->conf->wrappers[i]->command;
	return NULL;
}

/*
 * parent_mda_embedded_maildir - the built-in configuration delivers to
 * RUNDIR/Maildir, which the parent made for the delivery account; the
 * run directory may sit where that account cannot pass (root's home, any
 * 0700 tree), so the delivery enters it while still root and works
 * relative to it ("."): nothing else becomes reachable to it
 */
static void
parent_mda_embedded_maildir(const struct conf_action *a,
    struct parent_mda_exec *x)
{
	char	path[PATH_MAX];

	if (parent_config_embedded() == NULL ||
	    a->method != CONF_METHOD_MAILDIR || x->argc < 1)
		return;
	if ((size_t)snprintf(path, sizeof path, "%s/Maildir",
	    env->opts.rundir) >= sizeof path ||
	    strcmp(x->argv[x->argc - 1], path) != 0)
		return;
	strlcpy(x->cwd, path, sizeof x->cwd);
	x->cwd_first = 1;
	x->argv[x->argc - 1] = (char *)".";
}

/* parent_mda_start - checks, then the process; -1 with ERR on failure,
 * STATUS saying whether trying again may help */
static int
parent_mda_start(uint64_t id, const struct msg_parent_fork_mda *ui,
    struct envelope *e, int *status, char *err, size_t errsz)
{
	struct passwd			 user;
	const struct conf_action	*a;
	static struct parent_mda_exec	 x;
	struct parent_mda_params	 pp;
	struct parent_mda_child		 child;
	struct parent_mda		*m;
	struct passwd			*pw;
	struct timeval			 tv = { PARENT_MDA_TIMEOUT, 0 };
	char				 mbox[PATH_MAX], unique[64];
	int				 e2 = 0, r, fd;

	*status = DELIVERY_PERMFAIL;
	if ((a = conf_action_find(env->conf, e->dispatcher)) == NULL) {
		snprintf(err, errsz, "no action named %s", e->dispatcher);
		*status = DELIVERY_TEMPFAIL;	/* config changed? keep it */
		return -1;
	}
	if (env->privsep) {
		/* the account lookup found in the action's userbase */
		memset(&user, 0, sizeof user);
		user.pw_name = e->mda_user;
		user.pw_uid = (uid_t)ui->uid;
		user.pw_gid = (gid_t)ui->gid;
		user.pw_dir = (char *)ui->home;
		user.pw_shell = (char *)"/bin/sh";
		pw = &user;
	} else if ((pw = getpwuid(geteuid())) == NULL) {
		*status = DELIVERY_TEMPFAIL;
		snprintf(err, errsz, "cannot find our own account");
		return -1;
	}
	memset(&pp, 0, sizeof pp);
	pp.libexec = parent_mda_libexec();
	pp.wrapper = parent_mda_wrapper(a);
	pp.delim = env->conf->sub_addr_delim;
	/* one name per envelope: a repeat after a crash finds the first */
	snprintf(unique, sizeof unique, "%lld.E%016llx",
	    (long long)e->creation, (unsigned long long)id);
	pp.unique = unique;
	pp.size = ui->size;
	if (parent_mda_prepare(a, e, pw, &pp, &x, err, errsz) == -1)
		return -1;
	*status = DELIVERY_TEMPFAIL;
	parent_mda_embedded_maildir(a, &x);
	if (a->method == CONF_METHOD_MBOX && env->privsep) {
		snprintf(mbox, sizeof mbox, "%s/%s", PARENT_MDA_SPOOL,
		    pw->pw_name);
		if (parent_mda_mbox_prepare(mbox, pw->pw_uid, pw->pw_gid, err,
		    errsz) == -1)
			return -1;
	}
	/* a maildir or mbox delivery goes to its user's long-lived agent
	 * (the programs of an alias's or .forward's targets do not) */
	if ((a->method == CONF_METHOD_MAILDIR ||
	    a->method == CONF_METHOD_MBOX) && e->mda_exec[0] == '\0' &&
	    x.reach[0] == '\0' && parent_mda_agent_enabled()) {
		if (parent_mda_agent_deliver(id, &x, pp.size, &fd, err,
		    errsz) == -1)
			return -1;
		msg_send_parent_fork_mda_result(env->peers[PROC_DISPATCHER],
		    &(struct msg_parent_fork_mda_result){ .id = id,
			.fd = fd });
		return 0;
	}
	/* opened while root: the user may not reach the libexec directory
	 * (a build tree in root's home); it needs only to execute the file */
	if ((x.exec_fd = open(x.path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errsz, "%.*s: %s", (int)(errsz / 2), x.path,
		    strerror(errno));
		return -1;
	}
	x.has_exec_fd = 1;
	r = parent_mda_spawn(&x, -1, &child, err, errsz);
	close(x.exec_fd);
	if (r == -1)
		return -1;
	m = xcalloc(1, sizeof *m);
	m->id = id;
	m->pid = child.pid;
	m->errfd = child.err_fd;
	if (fcntl(m->errfd, F_SETFL, O_NONBLOCK) == -1 ||
	    (m->ev_err = event_new(env->evb, m->errfd, EV_READ | EV_PERSIST,
	    parent_mda_on_err, m)) == NULL ||
	    (m->ev_timeout = evtimer_new(env->evb, parent_mda_on_timeout,
	    m)) == NULL)
		fatal("parent: delivery events");
	event_add(m->ev_err, NULL);
	evtimer_add(m->ev_timeout, &tv);
	api_tree_set(&parent_mdas, (uint64_t)m->pid, m, &e2);
	if (e2)
		fatalx("parent: out of memory");
	msg_send_parent_fork_mda_result(env->peers[PROC_DISPATCHER],
	    &(struct msg_parent_fork_mda_result){ .id = id,
		.fd = child.in_fd });
	return 0;
}

void
parent_on_fork_mda(struct mproc *p, struct imsg *imsg)
{
	struct msg_parent_fork_mda	 m;
	struct envelope			*e;
	char				 err[ENVELOPE_ERRORLINE_SIZE];
	int				 status;

	if (msg_unpack_parent_fork_mda(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	e = envelope_new();
	if (envelope_load(e, m.envelope, m.envelope_len, err,
	    sizeof err) == -1 || e->type != ENVELOPE_MDA)
		/* the dispatcher parsed it before us: ours disagree */
		fatalx("parent: the dispatcher sent an unusable envelope");
	if (parent_mda_start(m.id, &m, e, &status, err, sizeof err) == -1) {
		log_warnx("parent: delivery for %s not started: %s",
		    e->mda_user, err);
		parent_mda_done(m.id, status, err);
	}
	envelope_free(&e);
}
