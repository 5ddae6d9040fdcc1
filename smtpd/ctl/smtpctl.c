/*
 * smtpctl.c -- the administration tool: sends one request over the
 * control socket and prints the answer.
 *
 * Runs as the invoking user, outside the daemon.  It speaks the same imsg
 * catalogue as the daemon (imsg.h) through the same codec, checks that
 * the daemon's replies are well formed, and exits non-zero with a message
 * on any failure: no answer, a refusal, or a malformed reply.  Arguments
 * the daemon would refuse (an over-long table name or key, an unknown
 * service) are refused here, before anything is sent.  Whatever happens,
 * it frees what it took before it exits.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "imsg_codec.h"
#include "log.h"
#include "mproc.h"
#include "smtpd.h"
#include "table.h"
#include "ctl.h"

struct smtpd_env	*env;

static struct smtpd_env	smtpctl_env;

#define CTL_TIMEOUT	30	/* seconds to wait for the daemon */

struct ctl_status_row {
	struct msg_ctl_proc_status	s;
	char				root[PATH_MAX];
	char				state[32];
};

struct ctl_command;

static struct {
	const struct ctl_command *cmd;
	const char		*sock;
	struct event_base	*evb;
	int			 done;
	int			 failed;
	int			 got_hello;
	struct event		*ev_timeout;
	int			(*again)(struct mproc *);	/* of cmd */
	struct ctl_status_row	 rows[PROC__COUNT];
	int			 nrows;
	int			 have_result;
	int			 result;		/* 1, 0 */
	int			 have_value;
	char			 value[16384];
} ctl;

/* ctl_usage - the synopsis and the commands, then exit with STATUS */
static void
ctl_usage(int status)
{
	fprintf(stderr, "usage: smtpctl [-hv] [-s socket] command "
	    "[argument ...]\n"
	    "commands:\n"
	    "  show status                    the processes of the running\n"
	    "                                 daemon and their state\n"
	    "  table lookup NAME SERVICE KEY  value of KEY in table NAME\n"
	    "  table check NAME SERVICE KEY   whether KEY matches table NAME\n"
	    "  table fetch NAME SERVICE       next value of table NAME\n"
	    "  update table NAME              reload table NAME\n"
	    "  show queue [MSGID]             every queued envelope\n"
	    "  show envelope EVPID            a queued envelope\n"
	    "  show message ID                a queued message\n"
	    "  show stats                     the daemon's counters\n"
	    "  show hoststats                 the relay's last outcome per\n"
	    "                                 domain: domain|time|status\n"
	    "  show routes                    the relay's routes and the\n"
	    "                                 health of their hosts\n"
	    "  resume route ID                its hosts set aside no more\n"
	    "  show hosts                     the next-hop addresses known\n"
	    "  show relays                    the routes at work and their\n"
	    "                                 connectors\n"
	    "  pause mta from ADDR for DOMAIN no relaying from the src\n"
	    "                                 address ADDR to DOMAIN\n"
	    "  resume mta from ADDR for DOMAIN  relaying from it again\n"
	    "  show mta paused                what pause mta from/for holds\n"
	    "  schedule ID|all                try again now\n"
	    "  remove ID|all                  delete, without a bounce\n"
	    "  pause mda|mta|smtp             stop an agent\n"
	    "  resume mda|mta|smtp            let it work again\n"
	    "  pause envelope ID|all          hold envelopes\n"
	    "  resume envelope ID|all         release them\n"
	    "  encrypt [STRING]               a crypt(3) hash of STRING, or\n"
	    "                                 of each line of stdin\n");
	exit(status);
}

/* ctl_finish - stop waiting; a failure is remembered for the exit code */
static void
ctl_finish(int failed)
{
	ctl.done = 1;
	ctl.failed = failed;
	event_base_loopexit(ctl.evb, NULL);
}

static void
ctl_on_ok(struct mproc *p, struct imsg *imsg)
{
	struct msg_ctl_ok	m;

	if (msg_unpack_ctl_ok(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	struct timeval		tv = { CTL_TIMEOUT, 0 };
	int			r;

	if (!ctl.got_hello) {
		ctl.got_hello = 1;
		return;
	}
	/* a command of several requests: the next one */
	if (ctl.again != NULL && (r = ctl.again(p)) != 0) {
		if (r == -1) {
			fprintf(stderr, "smtpctl: cannot send the request\n");
			ctl_finish(1);
		} else
			evtimer_add(ctl.ev_timeout, &tv);
		return;
	}
	ctl_finish(0);
}

static void
ctl_on_fail(struct mproc *p, struct imsg *imsg)
{
	struct msg_ctl_fail	m;

	if (msg_unpack_ctl_fail(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	fprintf(stderr, "smtpctl: %s\n", m.reason);
	ctl_finish(1);
}

static void
ctl_on_proc_status(struct mproc *p, struct imsg *imsg)
{
	struct ctl_status_row		*row;
	struct msg_ctl_proc_status	 s;

	if (msg_unpack_ctl_proc_status(imsg, &s) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	if (ctl.nrows == PROC__COUNT)
		return;
	row = &ctl.rows[ctl.nrows++];
	row->s = s;
	strlcpy(row->root, s.root, sizeof row->root);
	strlcpy(row->state, s.state, sizeof row->state);
}

static void
ctl_on_table_result(struct mproc *p, struct imsg *imsg)
{
	struct msg_ctl_table_result	res;

	/* errors come as IMSG_CTL_FAIL; a result is found or not found */
	if (msg_unpack_ctl_table_result(imsg, &res) == -1 || res.r == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	ctl.have_result = 1;
	ctl.result = res.r;
	ctl.have_value = res.value != NULL;
	if (res.value != NULL)
		strlcpy(ctl.value, res.value, sizeof ctl.value);
}

static const struct imsg_handler ctl_handlers[] = {
	{ IMSG_CTL_OK,           PROC_CONTROL, ctl_on_ok },
	{ IMSG_CTL_FAIL,         PROC_CONTROL, ctl_on_fail },
	{ IMSG_CTL_PROC_STATUS,  PROC_CONTROL, ctl_on_proc_status },
	{ IMSG_CTL_TABLE_RESULT, PROC_CONTROL, ctl_on_table_result },
	{ IMSG_CTL_QUEUE_LINES,  PROC_CONTROL, ctl_queue_on_lines },
	{ IMSG_CTL_TEXT,         PROC_CONTROL, ctl_queue_on_text },
	{ IMSG_CTL_COUNT,        PROC_CONTROL, ctl_queue_on_count },
	{ IMSG_CTL_MESSAGE_FD,   PROC_CONTROL, ctl_queue_on_message_fd },
};

static void
ctl_on_lost(struct mproc *p, const char *why)
{
	if (!ctl.done) {
		fprintf(stderr, "smtpctl: connection to smtpd lost: %s\n", why);
		ctl_finish(1);
	}
}

static void
ctl_on_timeout(evutil_socket_t fd, short ev, void *arg)
{
	fprintf(stderr, "smtpctl: no answer from smtpd in %ds\n", CTL_TIMEOUT);
	ctl_finish(1);
}

/* ctl_connect - the control socket, or exit with the reason */
static int
ctl_connect(const char *path)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof sun.sun_path) >=
	    sizeof sun.sun_path) {
		fprintf(stderr, "smtpctl: socket path too long: %s\n", path);
		exit(1);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		fprintf(stderr, "smtpctl: %s: %s (is smtpd running?)\n", path,
		    strerror(errno));
		exit(1);
	}
	return fd;
}

static const char *
ctl_username(uid_t uid, char *buf, size_t size)
{
	struct passwd	*pw;

	if ((pw = getpwuid(uid)) != NULL)
		return pw->pw_name;
	snprintf(buf, size, "%lu", (unsigned long)uid);
	return buf;
}

static void
ctl_print_status(void)
{
	char	ubuf[32];
	int	i;

	static const struct {
		const char	*name, *key;
	} agents[] = {
		{ "MDA", "mda.paused" }, { "MTA", "mta.paused" },
		{ "SMTP", "smtp.paused" },
	};
	long long	paused;
	size_t		j;

	/* the agents as OpenSMTPD prints them (CTL-06), then the processes */
	for (j = 0; j < sizeof agents / sizeof agents[0]; j++)
		if (ctl_queue_stat(agents[j].key, &paused) == 0)
			printf("%s %s\n", agents[j].name, paused ? "paused" :
			    "running");
	printf("%-12s %7s  %-10s %-24s %s\n", "PROCESS", "PID", "USER",
	    "ROOT", "STATE");
	for (i = 0; i < ctl.nrows; i++)
		printf("%-12s %7d  %-10s %-24s %s\n",
		    proc_name((enum proc_id)ctl.rows[i].s.proc),
		    ctl.rows[i].s.pid,
		    ctl_username(ctl.rows[i].s.uid, ubuf, sizeof ubuf),
		    ctl.rows[i].root, ctl.rows[i].state);
}

/* ctl_print_table - a table answer: value or verdict; the exit status */
static int
ctl_print_table(int op)
{
	if (!ctl.have_result ||
	    (ctl.result == 1 && op != TABLE_OP_CHECK && !ctl.have_value)) {
		fprintf(stderr, "smtpctl: malformed answer from smtpd\n");
		return 2;
	}
	if (ctl.result == 1) {
		printf("%s\n", op == TABLE_OP_CHECK ? "found" : ctl.value);
		return 0;
	}
	printf("%s\n", op == TABLE_OP_FETCH ? "empty" : "not found");
	return 1;
}

/* ctl_check_arg - a table name or key the daemon would take, or why not */
static int
ctl_check_arg(const char *what, const char *s, size_t max)
{
	size_t	len = strlen(s);

	if (len < max)
		return 0;
	fprintf(stderr, "smtpctl: %s too long: %zu bytes, at most %zu\n",
	    what, len, max - 1);
	return -1;
}

/* ctl_check_table_args - NAME SERVICE [KEY] of the table verbs */
static int
ctl_check_table_args(char **args, int with_key)
{
	if (ctl_check_arg("table name", args[0], TABLE_NAME_MAX) == -1 ||
	    (with_key && ctl_check_arg("key", args[2], TABLE_KEY_MAX) == -1))
		return -1;
	if (table_service_from_name(args[1]) == K_NONE) {
		fprintf(stderr, "smtpctl: unknown table service: %.64s\n",
		    args[1]);
		return -1;
	}
	return 0;
}

static int
ctl_send_table_query(struct mproc *p, int op, char **args)
{
	if (ctl_check_table_args(args, op != TABLE_OP_FETCH) == -1)
		return -1;
	if (p == NULL)
		return 0;
	return msg_send_ctl_table_query(p, &(struct msg_ctl_table_query){
	    .op = op, .table = args[0], .service = args[1],
	    .key = op == TABLE_OP_FETCH ? NULL : args[2] });
}

static int
ctl_send_show_status(struct mproc *p, char **args)
{
	if (p == NULL)
		return 0;
	return msg_send_ctl_show_status(p, &(struct msg_ctl_show_status){ 0 });
}

static int
ctl_send_lookup(struct mproc *p, char **args)
{
	return ctl_send_table_query(p, TABLE_OP_LOOKUP, args);
}

static int
ctl_send_check(struct mproc *p, char **args)
{
	return ctl_send_table_query(p, TABLE_OP_CHECK, args);
}

static int
ctl_send_fetch(struct mproc *p, char **args)
{
	return ctl_send_table_query(p, TABLE_OP_FETCH, args);
}

static int
ctl_send_update_table(struct mproc *p, char **args)
{
	if (ctl_check_arg("table name", args[0], TABLE_NAME_MAX) == -1)
		return -1;
	if (p == NULL)
		return 0;
	return msg_send_ctl_update_table(p, &(struct msg_ctl_update_table){
	    .table = args[0] });
}

/* ctl_again_show_status - after the processes, the agents' pause states
 * from the counters */
static int
ctl_again_show_status(struct mproc *p)
{
	static int	asked;

	if (asked)
		return 0;
	asked = 1;
	return ctl_queue_send_show_stats(p, NULL) == -1 ? -1 : 1;
}

static int
ctl_done_show_status(void)
{
	ctl_print_status();
	return 0;
}

static int
ctl_done_lookup(void)
{
	return ctl_print_table(TABLE_OP_LOOKUP);
}

static int
ctl_done_check(void)
{
	return ctl_print_table(TABLE_OP_CHECK);
}

static int
ctl_done_fetch(void)
{
	return ctl_print_table(TABLE_OP_FETCH);
}

static int
ctl_done_update(void)
{
	printf("command succeeded\n");
	return 0;
}

/* the commands: fixed words (the second may be NULL), then nargs
 * arguments; a command with the same words and more arguments follows
 * the one with fewer */
static const struct ctl_command {
	const char	*words[2];
	int		 nargs;
	int		 fail_status;	/* exit status when refused */
	/* send - check the arguments; then, given a channel, send the
	 * request: 0, or -1 with the reason printed */
	int		(*send)(struct mproc *, char **);
	int		(*done)(void);
	/* again - after an answer, the next request of the command: 1
	 * sent, 0 none (the command is over), -1 failed; may be NULL */
	int		(*again)(struct mproc *);
} ctl_commands[] = {
	{ { "show", "status" },   0, 1, ctl_send_show_status,
	    ctl_done_show_status, ctl_again_show_status },
	{ { "table", "lookup" },  3, 2, ctl_send_lookup, ctl_done_lookup, NULL },
	{ { "table", "check" },   3, 2, ctl_send_check, ctl_done_check, NULL },
	{ { "table", "fetch" },   2, 2, ctl_send_fetch, ctl_done_fetch, NULL },
	{ { "update", "table" },  1, 1, ctl_send_update_table,
	    ctl_done_update, NULL },
	{ { "show", "queue" },    0, 1, ctl_queue_send_show_queue,
	    ctl_queue_done_show_queue, ctl_queue_again_show_queue },
	{ { "show", "queue" },    1, 1, ctl_queue_send_show_queue,
	    ctl_queue_done_show_queue, ctl_queue_again_show_queue },
	{ { "show", "envelope" }, 1, 1, ctl_queue_send_show_envelope,
	    ctl_queue_done_text, NULL },
	{ { "show", "message" },  1, 1, ctl_queue_send_show_message,
	    ctl_queue_done_show_message, NULL },
	{ { "show", "stats" },    0, 1, ctl_queue_send_show_stats,
	    ctl_queue_done_show_stats, NULL },
	{ { "show", "hoststats" }, 0, 1, ctl_queue_send_show_hoststats,
	    ctl_queue_done_text, NULL },
	{ { "show", "routes" },   0, 1, ctl_queue_send_show_routes,
	    ctl_queue_done_text, NULL },
	{ { "show", "hosts" },    0, 1, ctl_queue_send_show_hosts,
	    ctl_queue_done_text, NULL },
	{ { "show", "relays" },   0, 1, ctl_queue_send_show_relays,
	    ctl_queue_done_text, NULL },
	{ { "resume", "route" },  1, 1, ctl_queue_send_resume_route,
	    ctl_queue_done_ok, NULL },
	{ { "pause", "mta" },     4, 1, ctl_queue_send_pause_mta_from,
	    ctl_queue_done_ok, NULL },
	{ { "resume", "mta" },    4, 1, ctl_queue_send_resume_mta_from,
	    ctl_queue_done_ok, NULL },
	{ { "show", "mta" },      1, 1, ctl_queue_send_show_mta,
	    ctl_queue_done_text, NULL },
	{ { "schedule", NULL },   1, 1, ctl_queue_send_schedule,
	    ctl_queue_done_change, NULL },
	{ { "remove", NULL },     1, 1, ctl_queue_send_remove,
	    ctl_queue_done_change, NULL },
	{ { "pause", "envelope" }, 1, 1, ctl_queue_send_suspend,
	    ctl_queue_done_change, NULL },
	{ { "resume", "envelope" }, 1, 1, ctl_queue_send_release,
	    ctl_queue_done_change, NULL },
	{ { "pause", NULL },      1, 1, ctl_queue_send_pause,
	    ctl_queue_done_ok, NULL },
	{ { "resume", NULL },     1, 1, ctl_queue_send_resume,
	    ctl_queue_done_ok, NULL },
};

/* ctl_command_find - the command the words name, or usage */
/* ctl_word_is - WORD names KEY: equal, or with ABBREV a prefix of it */
static int
ctl_word_is(const char *word, const char *key, int abbrev)
{
	if (!abbrev)
		return strcmp(word, key) == 0;
	return word[0] != '\0' && strncmp(word, key, strlen(word)) == 0;
}

/* ctl_command_match - the commands ARGV names (words and argument
 * count), exactly or, with ABBREV, by prefixes of its words (CTL-26:
 * "sh ro" for "show routes"); the first, and *N how many */
static const struct ctl_command *
ctl_command_match(int argc, char **argv, int abbrev, size_t *n)
{
	const struct ctl_command	*c, *first = NULL;
	size_t				 i;

	*n = 0;
	for (i = 0; i < sizeof ctl_commands / sizeof ctl_commands[0]; i++) {
		c = &ctl_commands[i];
		if (c->words[1] == NULL ? argc == 1 + c->nargs &&
		    ctl_word_is(argv[0], c->words[0], abbrev) :
		    argc == 2 + c->nargs &&
		    ctl_word_is(argv[0], c->words[0], abbrev) &&
		    ctl_word_is(argv[1], c->words[1], abbrev)) {
			if (first == NULL)
				first = c;
			(*n)++;
		}
	}
	return first;
}

static const struct ctl_command *
ctl_command_find(int argc, char **argv)
{
	const struct ctl_command	*c;
	size_t				 n;

	if ((c = ctl_command_match(argc, argv, 0, &n)) != NULL)
		return c;
	/* one command the words begin: that one */
	if ((c = ctl_command_match(argc, argv, 1, &n)) != NULL && n == 1)
		return c;
	fprintf(stderr, "smtpctl: %s command:", n > 1 ? "ambiguous" :
	    "unknown");
	while (argc-- > 0)
		fprintf(stderr, " %s", *argv++);
	fprintf(stderr, "\n");
	ctl_usage(1);
	return NULL;
}

/* the programs one binary serves, chosen by the name it is run as */
static const struct {
	const char	 *name;
	int		(*main)(int, char **);
} ctl_programs[] = {
	{ "makemap", makemap_main },
	{ "sendmail", sendmail_main },
	{ "send-mail", sendmail_main },
	{ "mailq", mailq_main },
	{ "newaliases", newaliases_main },
};

int
main(int argc, char *argv[])
{
	const char	*prog;
	size_t		 i;

	prog = argc > 0 ? strrchr(argv[0], '/') : NULL;
	prog = prog ? prog + 1 : (argc > 0 ? argv[0] : "smtpctl");
	for (i = 0; i < sizeof ctl_programs / sizeof ctl_programs[0]; i++)
		if (strcmp(prog, ctl_programs[i].name) == 0)
			return ctl_programs[i].main(argc, argv);
	return ctl_main(argc, argv);
}

/* ctl_main - smtpctl itself (mailq runs `show queue` through it) */
int
ctl_main(int argc, char *argv[])
{
	struct mproc	*p;
	struct event	*ev_timeout;
	struct timeval	 tv = { CTL_TIMEOUT, 0 };
	int		 ch, status;
	char		**args;

	env = &smtpctl_env;
	env->proc = PROC_CLIENT;
	log_init(1, 0);
	log_setproc("smtpctl");
	ctl.sock = PATH_SMTPD_RUN "/smtpd.sock";
	optind = 0;	/* glibc: start afresh (mailq comes after sendmail's) */
	while ((ch = getopt(argc, argv, "hs:v")) != -1) {
		switch (ch) {
		case 'h':
			printf("smtpctl %s\n", SMTPD_VERSION);
			fflush(stdout);
			ctl_usage(0);
			break;
		case 's':
			ctl.sock = optarg;
			break;
		case 'v':
			log_setverbose(1);
			break;
		default:
			ctl_usage(1);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		ctl_usage(1);
	if (strcmp(argv[0], "encrypt") == 0)	/* no daemon needed */
		return ctl_encrypt(argc - 1, argv + 1);

	ctl.cmd = ctl_command_find(argc, argv);
	args = argv + (ctl.cmd->words[1] != NULL ? 2 : 1);
	if (ctl.cmd->send(NULL, args) == -1)
		return ctl.cmd->fail_status;

	if ((ctl.evb = event_base_new()) == NULL ||
	    (ev_timeout = evtimer_new(ctl.evb, ctl_on_timeout, NULL)) == NULL)
		fatalx("cannot set up an event loop");
	ctl.ev_timeout = ev_timeout;
	ctl.again = ctl.cmd->again;
	p = mproc_new(ctl.evb, PROC_CLIENT, ctl_connect(ctl.sock),
	    PROC_CONTROL, 0, ctl_handlers,
	    sizeof ctl_handlers / sizeof ctl_handlers[0], ctl_on_lost);
	if (msg_send_ctl_hello(p, &(struct msg_ctl_hello){
	    .version = IMSG_VERSION }) == -1 || ctl.cmd->send(p, args) == -1) {
		fprintf(stderr, "smtpctl: cannot send the request\n");
		ctl.failed = 1;
	} else {
		evtimer_add(ev_timeout, &tv);
		event_base_dispatch(ctl.evb);
	}
	status = ctl.failed ? ctl.cmd->fail_status : ctl.cmd->done();
	mproc_free(&p);
	event_free(ev_timeout);
	event_base_free(ctl.evb);
	return status;
}
