/*
 * common_test.c -- unit tests for smtpd/common: the message catalogue and
 * its routes, the message codec (every decoder refuses truncated,
 * oversized and trailing-garbage payloads), the command-line options and
 * the log helpers.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "imsg_codec.h"
#include "log.h"
#include "mproc.h"
#include "smtpd.h"
#include "test.h"
#include "wire.h"

struct smtpd_env	*env;
static struct smtpd_env	test_env;

/* test_names - the catalogue generates names and routes from one list */
static void
test_names(void)
{
	CHECK_STR(proc_name(PROC_DISPATCHER), "dispatcher", "proc_name");
	CHECK(proc_lookup("queue") == PROC_QUEUE, "proc_lookup queue");
	CHECK(proc_lookup("lka") == PROC__COUNT, "proc_lookup unknown");
	CHECK_STR(imsg_name(IMSG_CTL_HELLO), "IMSG_CTL_HELLO", "imsg_name");
	CHECK_STR(imsg_name(0), "IMSG_UNKNOWN", "imsg_name 0");
	CHECK_STR(imsg_name(IMSG__MAX + 5), "IMSG_UNKNOWN", "imsg_name big");
	CHECK(imsg_route_ok(IMSG_CTL_HELLO, PROC_CLIENT, PROC_CONTROL),
	    "route client->control hello");
	CHECK(!imsg_route_ok(IMSG_CTL_HELLO, PROC_QUEUE, PROC_CONTROL),
	    "route queue->control hello refused");
	CHECK(imsg_route_ok(IMSG_PARENT_PEER_FD, PROC_PARENT, PROC_QUEUE),
	    "route ANY receiver");
	CHECK(!imsg_route_ok(IMSG_PARENT_PEER_FD, PROC_PARENT, PROC_CLIENT),
	    "ANY excludes clients");
	CHECK(imsg_route_ok(IMSG_PARENT_CHILD_READY, PROC_CA, PROC_PARENT),
	    "route ANY sender");
	CHECK(!imsg_route_ok(IMSG__MAX, PROC_PARENT, PROC_QUEUE),
	    "route out of range");
}

static struct event_base	*test_evb;
static struct imsg	test_got;
static int		test_ngot;

static void
test_on_any(struct mproc *p, struct imsg *imsg)
{
	test_got = *imsg;
	test_got.data = malloc(imsg->datalen + 1);
	memcpy(test_got.data, imsg->data, imsg->datalen + 1);
	test_ngot++;
	event_base_loopbreak(p->evb);
}

/* test_roundtrip - send through a socketpair, receive with mproc */
static int
test_roundtrip(void (*send)(struct mproc *), uint32_t type)
{
	static const struct imsg_handler h[] = {
		{ IMSG_CTL_PROC_STATUS, PROC_CONTROL, test_on_any },
		{ IMSG_CTL_AGENT_STATUS, PROC_CONTROL, test_on_any },
		{ IMSG_CTL_FAIL, PROC_CONTROL, test_on_any },
		{ IMSG_CTL_OK, PROC_CONTROL, test_on_any },
	};
	struct mproc	*a, *b;
	int		 sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == -1)
		return 0;
	/* the channels get their event base and names as arguments: the
	 * global env is out of reach meanwhile */
	env = NULL;
	a = mproc_new(test_evb, PROC_CONTROL, sv[0], PROC_CLIENT, 0, NULL, 0,
	    NULL);
	send(a);
	b = mproc_new(test_evb, PROC_CLIENT, sv[1], PROC_CONTROL, 0, h,
	    sizeof h / sizeof h[0], NULL);
	free(test_got.data);
	memset(&test_got, 0, sizeof test_got);
	event_base_dispatch(test_evb);
	mproc_free(&a);
	mproc_free(&b);
	env = &test_env;
	return test_got.hdr.type == type;
}

static void
send_proc_status(struct mproc *p)
{
	struct msg_proc_status	s = { PROC_QUEUE, 42, 7, 8, "/spool",
				    "running" };

	msg_send_ctl_proc_status(p, &s);
}

static void
send_fail(struct mproc *p)
{
	msg_send_ctl_fail(p, "permission denied");
}

/* test_codec - encode, decode, then damage the payload every way */
static void
test_codec(void)
{
	struct msg_proc_status	s;
	struct msg_agent_status	a;
	const char		*reason;
	unsigned char		 buf[256];
	size_t			 len, cut;
	int			 bad;

	CHECK(test_roundtrip(send_proc_status, IMSG_CTL_PROC_STATUS),
	    "proc status crosses a socket");
	CHECK(msg_unpack_ctl_proc_status(&test_got, &s) == 0,
	    "proc status decodes");
	CHECK(s.proc == PROC_QUEUE && s.pid == 42 && s.uid == 7 && s.gid == 8,
	    "proc status numbers");
	CHECK_STR(s.root, "/spool", "proc status root");
	CHECK_STR(s.state, "running", "proc status state");

	/* every truncation of the payload is refused */
	len = test_got.datalen;
	memcpy(buf, test_got.data, len);
	bad = 0;
	for (cut = 0; cut < len; cut++) {
		test_got.datalen = cut;
		bad += msg_unpack_ctl_proc_status(&test_got, &s) == 0;
	}
	CHECK(bad == 0, "every truncated proc status refused");
	/* trailing garbage is refused */
	memcpy(test_got.data, buf, len);
	test_got.datalen = len;
	test_got.data = realloc(test_got.data, len + 2);
	memcpy((char *)test_got.data + len, "x", 2);
	test_got.datalen = len + 1;
	CHECK(msg_unpack_ctl_proc_status(&test_got, &s) == -1,
	    "trailing byte refused");
	/* a process id out of range is refused */
	test_got.datalen = len;
	memcpy(test_got.data, buf, len);
	((int32_t *)test_got.data)[0] = 77;
	CHECK(msg_unpack_ctl_proc_status(&test_got, &s) == -1,
	    "unknown process id refused");
	/* wrong decoder on the right bytes: sizes differ, refused */
	memcpy(test_got.data, buf, len);
	CHECK(msg_unpack_ctl_agent_status(&test_got, &a) == -1,
	    "agent decoder refuses proc status");

	CHECK(test_roundtrip(send_fail, IMSG_CTL_FAIL), "fail crosses");
	CHECK(msg_unpack_ctl_fail(&test_got, &reason) == 0 &&
	    strcmp(reason, "permission denied") == 0, "fail reason");
	test_got.datalen = 1;		/* the tag of a NULL string */
	((char *)test_got.data)[0] = 0;
	CHECK(msg_unpack_ctl_fail(&test_got, &reason) == -1,
	    "fail without reason refused");
	((char *)test_got.data)[0] = 'x';
	CHECK(msg_unpack_ctl_fail(&test_got, &reason) == -1,
	    "fail with a bad string tag refused");
	CHECK(msg_unpack_ctl_ok(&test_got) == -1, "ok with payload refused");
	test_got.datalen = 0;
	CHECK(msg_unpack_ctl_ok(&test_got) == 0, "empty ok");
	free(test_got.data);
	test_got.data = NULL;
}

/* test_parse - smtpd_opts_parse on an argv given as a string list */
static int
test_parse(struct smtpd_opts *o, char *err, size_t errsz, ...)
{
	char	*argv[32];
	int	 argc = 0;
	va_list	 ap;

	va_start(ap, errsz);
	argv[argc++] = "smtpd";
	while ((argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	return smtpd_opts_parse(o, argc, argv, err, errsz);
}

static void
test_options(void)
{
	struct smtpd_opts	o;
	char			err[256], **av;
	int			i, found;

	CHECK(test_parse(&o, err, sizeof err, "-d", NULL) == 0 &&
	    o.foreground == 2, "-d");
	CHECK(test_parse(&o, err, sizeof err, NULL) == 0 &&
	    strcmp(o.sock, PATH_SMTPD_RUN "/smtpd.sock") == 0 &&
	    strcmp(o.conffile, PATH_SMTPD_CONF) == 0, "defaults");
	CHECK(test_parse(&o, err, sizeof err, "-o", "socket=/x/s.sock", "-r",
	    "/tmp", NULL) == 0 && strcmp(o.sock, "/x/s.sock") == 0 &&
	    strcmp(o.spool, "/tmp/spool") == 0 &&
	    strcmp(o.conffile, "/tmp/smtpd.conf") == 0,
	    "-o wins over -r whatever the order");
	CHECK(test_parse(&o, err, sizeof err, "-f", "/etc/x.conf", "-r",
	    "/tmp", NULL) == 0 && strcmp(o.conffile, "/etc/x.conf") == 0,
	    "-f wins over -r");
	CHECK(test_parse(&o, err, sizeof err, "-T", "imsg", "-T", "smtp",
	    "-P", "mta", "-v", "-v", "-D", "a=b", NULL) == 0 &&
	    o.trace == (TRACE_IMSG | TRACE_SMTP) && o.paused == PAUSE_MTA &&
	    o.verbose == 2 && o.nmacros == 1, "-T -P -v -D");
	CHECK(test_parse(&o, err, sizeof err, "-T", "nope", NULL) == -1 &&
	    strstr(err, "unknown trace") != NULL, "-T unknown");
	CHECK(test_parse(&o, err, sizeof err, "-r", "regress", NULL) == 0 &&
	    o.rundir[0] == '/' && strstr(o.spool, "/regress/spool") != NULL,
	    "-r relative made absolute");
	CHECK(test_parse(&o, err, sizeof err, "-r", "/nonexistent-dir", NULL) ==
	    -1 && strstr(err, "No such file") != NULL, "-r missing dir");
	CHECK(test_parse(&o, err, sizeof err, "-f", NULL) == -1 &&
	    strstr(err, "needs an argument") != NULL, "-f without argument");
	CHECK(test_parse(&o, err, sizeof err, "-h", NULL) == 1, "-h");

	/* a child's argv carries the options that matter, absolute */
	test_parse(&o, err, sizeof err, "-d", "-T", "imsg", "-P", "smtp", "-r",
	    "/tmp", NULL);
	strcpy(o.self, "/usr/sbin/smtpd");
	av = smtpd_opts_child_argv(&o, "queue");
	CHECK_STR(av[0], "/usr/sbin/smtpd", "child argv[0]");
	CHECK_STR(av[2], "queue", "child name");
	found = 0;
	for (i = 0; av[i]; i++)
		found += strcmp(av[i], "-Timsg") == 0 ||
		    strcmp(av[i], "-Psmtp") == 0 ||
		    strcmp(av[i], "-ospool=/tmp/spool") == 0 ||
		    strcmp(av[i], "-d") == 0;
	CHECK(found == 4, "child argv carries -d -T -P and paths");
	for (i = 0; av[i]; i++)
		free(av[i]);
	free(av);
}

static void
test_log(void)
{
	char	buf[64];

	CHECK_STR(log_quote(buf, sizeof buf, "plain"), "plain", "no quotes");
	CHECK_STR(log_quote(buf, sizeof buf, "two words"), "\"two words\"",
	    "quoted");
	CHECK_STR(log_quote(buf, sizeof buf, "a\"b"), "\"a\\\"b\"",
	    "inner quote escaped");
	CHECK_STR(log_quote(buf, sizeof buf, ""), "\"\"", "empty quoted");
	CHECK(log_trace_parse("all") == TRACE_ALL, "trace all");
	CHECK(log_trace_parse("rules") == TRACE_RULES, "trace rules");
	CHECK(log_trace_parse("bogus") == 0, "trace bogus");
}

/* test_server_name - mailname first, else the canonical host name */
static void
test_server_name(void)
{
	char	dir[] = "/tmp/common_test.XXXXXX", path[64], name[256];
	char	host[256];
	FILE	*fp;

	CHECK(mkdtemp(dir) != NULL, "temporary directory");
	snprintf(path, sizeof path, "%s/mailname", dir);
	fp = fopen(path, "w");
	fputs("mx.test  \nsecond.line\n", fp);
	fclose(fp);
	CHECK(smtpd_server_name(path, name, sizeof name) == 0 &&
	    strcmp(name, "mx.test") == 0, "mailname's first line");
	fp = fopen(path, "w");
	fputs("not a/name\n", fp);
	fclose(fp);
	CHECK(smtpd_server_name(path, name, sizeof name) == 0 &&
	    strcmp(name, "not") != 0 && name[0] != '\0',
	    "an invalid mailname is ignored");
	unlink(path);
	CHECK(smtpd_server_name(path, host, sizeof host) == 0 &&
	    strcmp(host, name) == 0, "no mailname: the host name");
	CHECK(smtpd_server_name(NULL, name, 4) == -1 ||
	    strlen(name) < 4, "short buffer refused, never overrun");
	rmdir(dir);
}

int
main(void)
{
	env = &test_env;
	test_evb = event_base_new();
	log_init(1, 0);
	test_names();
	test_codec();
	test_options();
	test_log();
	test_server_name();
	return test_done();
}
