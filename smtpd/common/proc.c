/*
 * proc.c -- the life of a child process, common to every role.
 *
 * A child is smtpd re-executed as `smtpd -x NAME`; its channel to the
 * parent is fd 3.  Here it names itself, chroots and drops to its user
 * when started as root (a role that asks, once its configuration is in
 * and before it reports ready), receives its channels to the others,
 * reports ready, and runs its libevent loop until the parent closes
 * its channel.  Which
 * processes talk to which is the one table proc_pairs below; the parent
 * wires exactly those pairs.  Losing the parent ends the child quietly;
 * the parent alone decides, and logs, when a death ends the daemon.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "conf.h"
#include "imsg_codec.h"
#include "log.h"
#include "mproc.h"
#include "proc.h"
#include "smtpd.h"
#include "xmalloc.h"

/* every pair of processes that talk directly (the parent talks to all) */
static const struct proc_pair {
	enum proc_id	a;
	enum proc_id	b;
} proc_pairs[] = {
	{ PROC_CONTROL,   PROC_LOOKUP },
	{ PROC_CONTROL,   PROC_QUEUE },
	{ PROC_CONTROL,   PROC_SCHEDULER },
	{ PROC_CONTROL,   PROC_DISPATCHER },
	{ PROC_LOOKUP,    PROC_QUEUE },
	{ PROC_LOOKUP,    PROC_DISPATCHER },
	{ PROC_QUEUE,     PROC_SCHEDULER },
	{ PROC_QUEUE,     PROC_DISPATCHER },
	{ PROC_DISPATCHER, PROC_CA },
};

static struct {
	void		(*on_config)(void);
	void		(*on_start)(void);
	int		  npeers;	/* channels still expected */
	int		  ready;
	unsigned char	 *conf;		/* configuration being received */
	size_t		  conflen;
	int		  conf_done;
	char		  root[PATH_MAX];
	char		  state[32];
	int		  drop_late;	/* the role calls proc_child_drop */
	int		  dropped;
	void		(*on_stop)(void);
} proc_child;

int
proc_pair_next(size_t *i, enum proc_id *a, enum proc_id *b)
{
	if (*i >= sizeof proc_pairs / sizeof proc_pairs[0])
		return 0;
	*a = proc_pairs[*i].a;
	*b = proc_pairs[*i].b;
	(*i)++;
	return 1;
}

int
proc_peer_expected(enum proc_id self, enum proc_id peer)
{
	size_t	i;

	for (i = 0; i < sizeof proc_pairs / sizeof proc_pairs[0]; i++)
		if ((proc_pairs[i].a == self && proc_pairs[i].b == peer) ||
		    (proc_pairs[i].b == self && proc_pairs[i].a == peer))
			return 1;
	return 0;
}

/* proc_count_peers - how many channels besides the parent's we expect */
static int
proc_count_peers(enum proc_id self)
{
	int	id, n = 0;

	for (id = PROC_CHILD_FIRST; id <= PROC_CHILD_LAST; id++)
		n += proc_peer_expected(self, (enum proc_id)id);
	return n;
}

/*
 * proc_sanitizer_report - in a sanitizer build, open the report file
 * that ASAN_OPTIONS' log_path names (as the runtime would, PATH.smtpd.PID)
 * before the chroot hides it, and hand it to the runtime: a chrooted
 * process's report (even a warning) was lost, and the runtime died of
 * not finding the file.  Nothing in other builds.
 */
#if defined(__SANITIZE_ADDRESS__)
void	__sanitizer_set_report_fd(void *);

static void
proc_sanitizer_report(void)
{
	const char	*opts = getenv("ASAN_OPTIONS"), *p;
	char		 path[PATH_MAX];
	size_t		 n;
	int		 fd;

	if (opts == NULL || (p = strstr(opts, "log_path=")) == NULL)
		return;
	p += strlen("log_path=");
	n = strcspn(p, ":");
	if ((size_t)snprintf(path, sizeof path, "%.*s.smtpd.%ld", (int)n, p,
	    (long)getpid()) >= sizeof path)
		return;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0644)) == -1)
		return;
	__sanitizer_set_report_fd((void *)(intptr_t)fd);
}
#else
static void
proc_sanitizer_report(void)
{
}
#endif

/* proc_drop_privileges - chroot and setuid to the role's account */
static void
proc_drop_privileges(enum proc_id id)
{
	const char	*user, *root;
	struct passwd	*pw;

	user = id == PROC_QUEUE ? env->opts.quser : env->opts.user;
	if (id == PROC_QUEUE)
		root = env->opts.spool;
	else if (id == PROC_LOOKUP)
		root = NULL;		/* needs the system's files */
	else
		root = env->opts.chroot;

	if ((pw = getpwnam(user)) == NULL)
		fatalx("unknown user %s", user);
	if (root != NULL) {
		proc_sanitizer_report();
		if (chroot(root) == -1)
			fatal("chroot %s", root);
		if (chdir("/") == -1)
			fatal("chdir /");
	}
	if (setgroups(1, &pw->pw_gid) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1)
		fatal("cannot drop privileges to %s", user);
	strlcpy(proc_child.root, root ? root : "/", sizeof proc_child.root);
}

/* proc_on_lost - a channel closed: the parent's means stop */
static void
proc_on_lost(struct mproc *p, const char *why)
{
	/*
	 * The parent closing our channel is the order to stop.  A sibling's
	 * channel closing means that sibling died: the parent sees it too,
	 * names it in the log and stops the daemon.  Leaving before that
	 * would only blur who died first.
	 */
	if (p->peer == PROC_PARENT) {
		log_debug("%s: parent closed the channel, exiting",
		    proc_name(env->proc));
		if (proc_child.on_stop == NULL)
			exit(0);
		proc_child.on_stop();	/* exits once it is done */
		return;
	}
	log_debug("%s: lost %s (%s)", proc_name(env->proc),
	    proc_name(p->peer), why);
}

/* proc_report_ready - channels up and configuration in: tell the parent */
static void
proc_report_ready(void)
{
	if (proc_child.npeers != 0 || !proc_child.conf_done)
		return;
	proc_child.ready = 1;
	msg_send_parent_child_ready(env->peers[PROC_PARENT],
	    &(struct msg_parent_child_ready){ .uid = geteuid(),
	    .gid = getegid(), .root = proc_child.root,
	    .state = proc_child.state });
}

void
proc_on_peer_fd(struct mproc *p, struct imsg *imsg)
{
	struct msg_parent_peer_fd	m;
	enum proc_id			peer;

	if (msg_unpack_parent_peer_fd(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	peer = m.peer;
	if (!proc_peer_expected(env->proc, peer) || env->peers[peer] != NULL)
		fatalx("%s: unexpected channel to %s from parent",
		    proc_name(env->proc), proc_name(peer));
	env->peers[peer] = mproc_new(env->evb, env->proc, m.fd, peer, 1,
	    p->handlers, p->nhandlers, proc_on_lost);
	proc_child.npeers--;
	proc_report_ready();
}

void
proc_on_conf_data(struct mproc *p, struct imsg *imsg)
{
	struct msg_parent_conf_data	m;
	const void			*data;
	size_t				 len;

	if (msg_unpack_parent_conf_data(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	data = m.data;
	len = m.data_len;
	if (proc_child.conf_done || len > CONF_TRANSFER_MAX - proc_child.conflen)
		fatalx("%s: configuration from parent out of bounds",
		    proc_name(env->proc));
	proc_child.conf = xreallocarray(proc_child.conf,
	    proc_child.conflen + len, 1);
	memcpy(proc_child.conf + proc_child.conflen, data, len);
	proc_child.conflen += len;
}

void
proc_on_conf_end(struct mproc *p, struct imsg *imsg)
{
	struct msg_parent_conf_end	m;
	size_t				total;

	if (msg_unpack_parent_conf_end(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	total = m.total;
	if (proc_child.conf_done || total != proc_child.conflen)
		fatalx("%s: configuration from parent: %zu bytes announced, "
		    "%zu received", proc_name(env->proc), total,
		    proc_child.conflen);
	env->conf = conf_deserialize(proc_child.conf, proc_child.conflen);
	if (env->conf == NULL)
		fatalx("%s: configuration from parent does not parse",
		    proc_name(env->proc));
	log_debug("%s: configuration received bytes=%zu", proc_name(env->proc),
	    proc_child.conflen);
	free(proc_child.conf);
	proc_child.conf = NULL;
	proc_child.conf_done = 1;
	if (proc_child.on_config)
		proc_child.on_config();
	proc_child_drop();	/* never ready while still privileged */
	proc_report_ready();
}

void
proc_on_start(struct mproc *p, struct imsg *imsg)
{
	struct msg_parent_start	m;

	if (msg_unpack_parent_start(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	if (!proc_child.ready)
		fatalx("%s: start before all channels were up",
		    proc_name(env->proc));
	proc_set_state("running");
	log_debug("%s: running", proc_name(env->proc));
	if (proc_child.on_start)
		proc_child.on_start();
}

void
proc_set_state(const char *state)
{
	strlcpy(proc_child.state, state, sizeof proc_child.state);
}

void
proc_child_init(enum proc_id id, const struct imsg_handler *handlers,
    size_t nhandlers, void (*on_config)(void), void (*on_start)(void))
{
	struct stat	st;
	int		fd = env->opts.child_fd;

	env->proc = id;
	log_init(env->opts.foreground == 2, env->opts.verbose);
	log_setproc(proc_name(id));
	log_settrace(env->opts.trace);
	if (fd < 0 || fstat(fd, &st) == -1 || !S_ISSOCK(st.st_mode))
		fatalx("-x %s is for smtpd's own use: no channel to the "
		    "parent on fd %d", proc_name(id), fd);
	proctitle_set(proc_name(id));

	strlcpy(proc_child.root, "/", sizeof proc_child.root);
	env->privsep = geteuid() == 0;
	/* before chroot: /etc/mail/mailname and the resolver are outside */
	if (smtpd_server_name(PATH_MAILNAME, env->servername,
	    sizeof env->servername) == -1)
		strlcpy(env->servername, "localhost", sizeof env->servername);
	if (!proc_child.drop_late)
		proc_child_drop();
	proc_set_state("starting");

	/*
	 * Only the parent stops us, by closing our channel: a signal sent to
	 * the whole process group (^C, timeout(1), systemd's stop) reaches
	 * the parent, which shuts the children down in order.
	 */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	if ((env->evb = event_base_new()) == NULL)
		fatalx("%s: event_base_new", proc_name(id));

	proc_child.on_config = on_config;
	proc_child.on_start = on_start;
	proc_child.npeers = proc_count_peers(id);
	env->peers[PROC_PARENT] = mproc_new(env->evb, id, fd, PROC_PARENT, 1,
	    handlers, nhandlers, proc_on_lost);
}

void
proc_child_drop_late(void)
{
	proc_child.drop_late = 1;
}

void
proc_child_drop(void)
{
	if (env->privsep && !proc_child.dropped)
		proc_drop_privileges(env->proc);
	proc_child.dropped = 1;
}

void
proc_child_on_stop(void (*on_stop)(void))
{
	proc_child.on_stop = on_stop;
}

void
proc_child_loop(void)
{
	event_base_dispatch(env->evb);
	exit(0);
}
