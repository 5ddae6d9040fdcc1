/*
 * options.c -- smtpd's command line, and the argv a child is re-executed
 * with.
 *
 * The parent parses the user's command line; children are started with an
 * argv rebuilt from the parsed options (absolute paths, no config file),
 * so a child never depends on the parent's working directory.  Parsing
 * only fills the options and reports the first error: no side effects.
 */
#include <sys/socket.h>

#include <arpa/inet.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "smtpd.h"
#include "xmalloc.h"

#define OPT_ERR(...)	do { snprintf(err, errsz, __VA_ARGS__); return -1; } while (0)

/* opts_set_path - copy a path option, refusing truncation */
static int
opts_set_path(char *dst, size_t size, const char *a, const char *b)
{
	int	n;

	n = snprintf(dst, size, "%s%s", a, b ? b : "");
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* opts_defaults - the compiled-in paths and users */
static void
opts_defaults(struct smtpd_opts *o)
{
	memset(o, 0, sizeof *o);
	opts_set_path(o->conffile, sizeof o->conffile, PATH_SMTPD_CONF, NULL);
	opts_set_path(o->spool, sizeof o->spool, PATH_SMTPD_SPOOL, NULL);
	opts_set_path(o->sock, sizeof o->sock, PATH_SMTPD_RUN, "/smtpd.sock");
	opts_set_path(o->pidfile, sizeof o->pidfile, PATH_SMTPD_RUN,
	    "/smtpd.pid");
	opts_set_path(o->libexec, sizeof o->libexec, PATH_SMTPD_LIBEXEC, NULL);
	opts_set_path(o->chroot, sizeof o->chroot, PATH_SMTPD_CHROOT, NULL);
	opts_set_path(o->user, sizeof o->user, SMTPD_USER, NULL);
	opts_set_path(o->quser, sizeof o->quser, SMTPQ_USER, NULL);
	opts_set_path(o->queue_backend, sizeof o->queue_backend, "fs", NULL);
	opts_set_path(o->scheduler_backend, sizeof o->scheduler_backend,
	    "ramqueue", NULL);
	o->child_fd = -1;
	o->mda_agent_idle = -1;
}

/* opts_rundir - -r DIR: every runtime path under one local directory */
static int
opts_rundir(struct smtpd_opts *o, const char *dir)
{
	if (opts_set_path(o->rundir, sizeof o->rundir, dir, NULL) == -1 ||
	    opts_set_path(o->spool, sizeof o->spool, dir, "/spool") == -1 ||
	    opts_set_path(o->sock, sizeof o->sock, dir, "/smtpd.sock") == -1 ||
	    opts_set_path(o->pidfile, sizeof o->pidfile, dir,
	    "/smtpd.pid") == -1)
		return -1;
	if (!o->conffile_set &&
	    opts_set_path(o->conffile, sizeof o->conffile, dir,
	    "/smtpd.conf") == -1)
		return -1;
	return 0;
}

/* opts_resolver_ok - "IP[:port],...", IPv6 bare or as [IP]:port (what
 * c-ares's ares_set_servers_ports_csv takes) */
static int
opts_resolver_ok(const char *list)
{
	char		 buf[512], *item, *next, *port, *end;
	unsigned char	 bin[16];
	long		 n;

	if (strlcpy(buf, list, sizeof buf) >= sizeof buf)
		return 0;
	for (item = buf; item != NULL; item = next) {
		if ((next = strchr(item, ',')) != NULL)
			*next++ = '\0';
		port = NULL;
		if (item[0] == '[') {
			if ((end = strchr(item, ']')) == NULL || end[1] != ':')
				return 0;
			*end = '\0';
			port = end + 2;
			item++;
		} else if (strchr(item, ':') == strrchr(item, ':') &&
		    (port = strchr(item, ':')) != NULL)
			*port++ = '\0';	/* IPv4:port, not bare IPv6 */
		if (inet_pton(AF_INET, item, bin) != 1 &&
		    inet_pton(AF_INET6, item, bin) != 1)
			return 0;
		if (port != NULL && ((n = strtol(port, &end, 10)) < 1 ||
		    n > 65535 || *end != '\0'))
			return 0;
	}
	return 1;
}

/* opts_override - -o key=value for one runtime path or user */
static int
opts_override(struct smtpd_opts *o, const char *kv, char *err, size_t errsz)
{
	static const struct {
		const char	*key;
		size_t		 off;
		size_t		 size;
		int		 path;
	} keys[] = {
#define K(k, f, p) { k, offsetof(struct smtpd_opts, f), \
		sizeof(((struct smtpd_opts *)0)->f), p }
		K("spool", spool, 1),
		K("socket", sock, 1),
		K("pidfile", pidfile, 1),
		K("libexec", libexec, 1),
		K("chroot", chroot, 1),
		K("user", user, 0),
		K("queue-user", quser, 0),
		K("resolver", resolver, 0),
		K("resolv-conf", resolv_conf, 1),
#undef K
	};
	/* numbers: for tests and side-by-side instances */
	static const struct {
		const char	*key;
		size_t		 off;
		long		 min, max;
		const char	*range;
	} nums[] = {
		/* the MTA's I/O timeout (MTA-24: 300 s) */
		{ "mta-timeout", offsetof(struct smtpd_opts, mta_timeout), 1,
		    3600, "1 to 3600 seconds" },
		/* how long a maildir or mbox delivery agent waits for the
		 * next delivery of its user; 0: a process per delivery */
		{ "mda-agent-idle", offsetof(struct smtpd_opts,
		    mda_agent_idle), 0, 3600, "0 to 3600 seconds" },
		/* the port MX relaying connects to (25) */
		{ "mta-port", offsetof(struct smtpd_opts, mta_port), 1, 65535,
		    "a port, 1 to 65535" },
		/* how long the relay uses a fetched `src` or `relay host`
		 * list before it fetches it again (60 s) */
		{ "mta-list-ttl", offsetof(struct smtpd_opts, mta_list_ttl), 1,
		    86400, "1 to 86400 seconds" },
	};
	const char	*eq, *val;
	char		*ep;
	size_t		 i, klen;
	long		 n;

	if ((eq = strchr(kv, '=')) == NULL)
		OPT_ERR("-o %s: expected key=value", kv);
	klen = (size_t)(eq - kv);
	val = eq + 1;
	for (i = 0; i < sizeof nums / sizeof nums[0]; i++) {
		if (strlen(nums[i].key) != klen ||
		    strncmp(nums[i].key, kv, klen) != 0)
			continue;
		errno = 0;
		n = strtol(val, &ep, 10);
		if (*val < '0' || *val > '9' || *ep != '\0' || errno ||
		    n < nums[i].min || n > nums[i].max)
			OPT_ERR("-o %s: expected %s", kv, nums[i].range);
		*(int *)(void *)((char *)o + nums[i].off) = (int)n;
		return 0;
	}
	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		if (strlen(keys[i].key) != klen ||
		    strncmp(keys[i].key, kv, klen) != 0)
			continue;
		if (*val == '\0')
			OPT_ERR("-o %s: empty value", kv);
		if (keys[i].path && val[0] != '/')
			OPT_ERR("-o %s: path must be absolute", kv);
		if (strcmp(keys[i].key, "resolver") == 0 &&
		    !opts_resolver_ok(val))
			OPT_ERR("-o %s: expected IP[:port][,...] (IPv6 with "
			    "a port as [IP]:port)", kv);
		if (opts_set_path((char *)o + keys[i].off, keys[i].size, val,
		    NULL) == -1)
			OPT_ERR("-o %s: value too long", kv);
		return 0;
	}
	OPT_ERR("-o %.*s: unknown key (spool, socket, pidfile, libexec, "
	    "chroot, user, queue-user, resolver, resolv-conf, mta-timeout, "
	    "mta-port, mda-agent-idle, mta-list-ttl)",
	    (int)klen, kv);
}

/*
 * opts_backend - -B queue=NAME or -B scheduler=NAME (QUEUE-16): the
 * backends linked in.  6.8 runs any other NAME as a helper; this daemon
 * does not host queue or scheduler helpers yet, and says so.
 */
static int
opts_backend(struct smtpd_opts *o, const char *kv, char *err, size_t errsz)
{
	static const char *const queues[] = { "fs", "ram", "null" };
	static const char *const schedulers[] = { "ramqueue" };
	const char *const	*names;
	const char		*val;
	char			*dst;
	size_t			 i, n, dstsz;

	if (strncmp(kv, "queue=", 6) == 0) {
		val = kv + 6;
		names = queues;
		n = sizeof queues / sizeof queues[0];
		dst = o->queue_backend;
		dstsz = sizeof o->queue_backend;
	} else if (strncmp(kv, "scheduler=", 10) == 0) {
		val = kv + 10;
		names = schedulers;
		n = sizeof schedulers / sizeof schedulers[0];
		dst = o->scheduler_backend;
		dstsz = sizeof o->scheduler_backend;
	} else
		OPT_ERR("-B %s: expected queue=NAME or scheduler=NAME", kv);
	for (i = 0; i < n; i++)
		if (strcmp(val, names[i]) == 0)
			return opts_set_path(dst, dstsz, val, NULL);
	OPT_ERR("-B %s: unknown backend (built in: %s%s%s%s%s); helper "
	    "backends are not hosted by this version", kv, names[0],
	    n > 1 ? ", " : "", n > 1 ? names[1] : "", n > 2 ? ", " : "",
	    n > 2 ? names[2] : "");
}

/* opts_pause - -P mda|mta|smtp */
static int
opts_pause(struct smtpd_opts *o, const char *what)
{
	if (strcmp(what, "mda") == 0)
		o->paused |= PAUSE_MDA;
	else if (strcmp(what, "mta") == 0)
		o->paused |= PAUSE_MTA;
	else if (strcmp(what, "smtp") == 0)
		o->paused |= PAUSE_SMTP;
	else
		return -1;
	return 0;
}

int
smtpd_opts_parse(struct smtpd_opts *o, int argc, char **argv, char *err,
    size_t errsz)
{
	const char	*rundir = NULL, *overrides[32];
	char		*resolved;
	unsigned int	 mask;
	int		 ch, i, noverrides = 0;

	opts_defaults(o);
	optind = 1;
	opterr = 0;
	while ((ch = getopt(argc, argv, ":B:dD:f:FhnP:r:o:T:vx:X:")) != -1) {
		switch (ch) {
		case 'B':
			if (opts_backend(o, optarg, err, errsz) == -1)
				return -1;
			break;
		case 'd':
		case 'F':
			o->foreground = ch == 'd' ? 2 : 1;
			break;
		case 'D':
			if (strchr(optarg, '=') == NULL || optarg[0] == '=')
				OPT_ERR("-D %s: expected name=value", optarg);
			if (o->nmacros == MACRO_DEFINE_MAX)
				OPT_ERR("-D: more than %d macros",
				    MACRO_DEFINE_MAX);
			o->macros[o->nmacros++] = optarg;
			break;
		case 'f':
			/* as given: read before any chdir, named in messages */
			if (opts_set_path(o->conffile, sizeof o->conffile,
			    optarg, NULL) == -1)
				OPT_ERR("-f: path too long");
			o->conffile_set = 1;
			break;
		case 'h':
			return 1;
		case 'n':
			o->noaction = 1;
			break;
		case 'o':
			/* applied after -r, whatever the order */
			if (noverrides == (int)(sizeof overrides /
			    sizeof overrides[0]))
				OPT_ERR("-o: too many overrides");
			overrides[noverrides++] = optarg;
			break;
		case 'P':
			if (opts_pause(o, optarg) == -1)
				OPT_ERR("-P %s: expected mda, mta or smtp",
				    optarg);
			break;
		case 'r':
			rundir = optarg;
			break;
		case 'T':
			if ((mask = log_trace_parse(optarg)) == 0)
				OPT_ERR("-T %s: unknown trace subsystem",
				    optarg);
			o->trace |= mask;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'x':
			o->procname = optarg;
			break;
		case 'X':
			o->child_fd = atoi(optarg);
			break;
		case ':':
			OPT_ERR("option -%c needs an argument", optopt);
		default:
			OPT_ERR("unknown option -%c", optopt);
		}
	}
	if (optind != argc)
		OPT_ERR("unexpected argument: %s", argv[optind]);
	if (rundir != NULL) {
		/* children run elsewhere (chroot, daemon's "/"): absolute */
		if ((resolved = realpath(rundir, NULL)) == NULL)
			OPT_ERR("-r %s: %s", rundir, strerror(errno));
		ch = opts_rundir(o, resolved);
		free(resolved);
		if (ch == -1)
			OPT_ERR("-r %s: path too long", rundir);
	}
	for (i = 0; i < noverrides; i++)
		if (opts_override(o, overrides[i], err, errsz) == -1)
			return -1;
	return 0;
}

/* smtpd_opts_child_argv - argv for re-executing ourself as process NAME */
char **
smtpd_opts_child_argv(const struct smtpd_opts *o, const char *name)
{
	char		**av;
	int		  n = 0, i;
	static const char *const tnames[] = {
#define X(t, s) s,
		TRACE_LIST(X)
#undef X
	};

	av = xcalloc(64, sizeof *av);
	av[n++] = xstrdup(o->self);
	av[n++] = xstrdup("-x");
	av[n++] = xstrdup(name);
	av[n++] = xasprintf("-X%d", 3);
	if (o->foreground)
		av[n++] = xstrdup(o->foreground == 2 ? "-d" : "-F");
	for (i = 0; i < o->verbose && i < 4; i++)
		av[n++] = xstrdup("-v");
	for (i = 0; i < TRACE__COUNT; i++)
		if (o->trace & (1u << i))
			av[n++] = xasprintf("-T%s", tnames[i]);
	if (o->paused & PAUSE_MDA)
		av[n++] = xstrdup("-Pmda");
	if (o->paused & PAUSE_MTA)
		av[n++] = xstrdup("-Pmta");
	if (o->paused & PAUSE_SMTP)
		av[n++] = xstrdup("-Psmtp");
	av[n++] = xasprintf("-Bqueue=%s", o->queue_backend);
	av[n++] = xasprintf("-Bscheduler=%s", o->scheduler_backend);
	av[n++] = xasprintf("-ospool=%s", o->spool);
	av[n++] = xasprintf("-osocket=%s", o->sock);
	av[n++] = xasprintf("-opidfile=%s", o->pidfile);
	av[n++] = xasprintf("-olibexec=%s", o->libexec);
	av[n++] = xasprintf("-ochroot=%s", o->chroot);
	av[n++] = xasprintf("-ouser=%s", o->user);
	av[n++] = xasprintf("-oqueue-user=%s", o->quser);
	if (o->resolver[0] != '\0')
		av[n++] = xasprintf("-oresolver=%s", o->resolver);
	if (o->resolv_conf[0] != '\0')
		av[n++] = xasprintf("-oresolv-conf=%s", o->resolv_conf);
	if (o->mta_timeout)
		av[n++] = xasprintf("-omta-timeout=%d", o->mta_timeout);
	if (o->mta_port)
		av[n++] = xasprintf("-omta-port=%d", o->mta_port);
	if (o->mda_agent_idle >= 0)
		av[n++] = xasprintf("-omda-agent-idle=%d", o->mda_agent_idle);
	if (o->mta_list_ttl)
		av[n++] = xasprintf("-omta-list-ttl=%d", o->mta_list_ttl);
	av[n] = NULL;
	return av;
}

void
smtpd_opts_usage(void)
{
	fprintf(stderr,
	    "usage: smtpd [-dFhnv] [-B backend=name] [-D macro=value] [-f file]\n"
	    "             [-P system] [-T trace] [-r rundir] [-o key=value]\n"
	    "  -B queue=fs|ram|null, scheduler=ramqueue\n"
	    "                storage and scheduling backends\n"
	    "  -d            foreground, log to stderr\n"
	    "  -F            foreground, log to syslog\n"
	    "  -f file       configuration file\n"
	    "  -n            check the configuration and exit\n"
	    "  -v            verbose (repeat for more)\n"
	    "  -D name=value define a macro\n"
	    "  -P system     start with mda, mta or smtp paused\n"
	    "  -T subsystem  trace imsg, io, smtp, filters, transfer, bounce,\n"
	    "                scheduler, expand, lookup, stat, rules, mproc,\n"
	    "                tables or all\n"
	    "  -r dir        local run directory: spool, socket, pid file and\n"
	    "                default configuration under dir\n"
	    "  -o key=value  spool, socket, pidfile, libexec, chroot (paths),\n"
	    "                user, queue-user (accounts), resolver (DNS\n"
	    "                servers IP[:port],...), resolv-conf (path),\n"
	    "                mta-timeout (seconds the relay client waits\n"
	    "                for a peer), mta-port (MX relaying's port),\n"
	    "                mda-agent-idle (seconds a local delivery\n"
	    "                agent waits for more, 0: none), mta-list-ttl\n"
	    "                (seconds a fetched src or relay host list\n"
	    "                is used)\n");
}
