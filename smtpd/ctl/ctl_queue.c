/*
 * ctl_queue.c -- smtpctl's queue verbs and counters: show queue, show
 * envelope, show message, show stats, schedule, remove, pause and
 * resume (of an agent, or of envelopes) (CTL-01/03/04/05/12/13/16/17).
 *
 * Runs in smtpctl, the invoking user's process; smtpctl.c owns the
 * connection, the command table and the exit status, this file the
 * requests, the answers' handlers and what is printed.  show queue is
 * a loop of requests, one chunk each, printed as it arrives: nothing
 * here holds more than one chunk, whatever the size of the queue.  An
 * id is refused here, before anything is sent, when it is neither 8 nor
 * 16 hex digits (nor "all" where that is allowed).  Answers are checked
 * (the codec) and bounded: a daemon that sends too much text is cut
 * off with an error, never a crash.
 */
#include <arpa/inet.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "envelope_show.h"
#include "imsg_codec.h"
#include "mailaddr.h"
#include "smtpd.h"

/* the most text one command collects (show stats, show envelope) */
#define CTL_QUEUE_TEXT_MAX	(1024 * 1024)

static struct {
	uint64_t	 next;		/* show queue: where the next chunk
					   starts, 0 at the end */
	uint32_t	 msgid;		/* show queue MSGID */
	char		*text;		/* collected text */
	size_t		 textlen;
	int		 text_cut;
	int		 have_count;
	uint64_t	 count;
	int		 all;
	int		 op;
	int		 msgfd;		/* show message */
} ctlq = { .msgfd = -1 };

/* ctl_queue_parse_id - ID as typed, or "all" when ALL_OK; -1 said why */
static int
ctl_queue_parse_id(const char *s, int all_ok, uint64_t *id, int *all)
{
	*all = 0;
	*id = 0;
	if (all_ok && strcmp(s, "all") == 0) {
		*all = 1;
		return 0;
	}
	if (envelope_show_parse_id(s, id) == 0)
		return 0;
	fprintf(stderr, "smtpctl: invalid id: %.64s (a message id is 8 hex "
	    "digits, an envelope id 16%s)\n", s, all_ok ? ", or all" : "");
	return -1;
}

void
ctl_queue_on_lines(struct mproc *p, struct imsg *imsg)
{
	struct msg_ctl_queue_lines	m;

	if (msg_unpack_ctl_queue_lines(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	fputs(m.lines, stdout);
	ctlq.next = m.next;
}

void
ctl_queue_on_text(struct mproc *p, struct imsg *imsg)
{
	struct msg_ctl_text	 m;
	size_t			 len;
	char			*t;

	if (msg_unpack_ctl_text(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	len = strlen(m.text);
	if (ctlq.textlen + len > CTL_QUEUE_TEXT_MAX ||
	    (t = realloc(ctlq.text, ctlq.textlen + len + 1)) == NULL) {
		ctlq.text_cut = 1;
		return;
	}
	memcpy(t + ctlq.textlen, m.text, len + 1);
	ctlq.text = t;
	ctlq.textlen += len;
}

void
ctl_queue_on_count(struct mproc *p, struct imsg *imsg)
{
	struct msg_ctl_count	m;

	if (msg_unpack_ctl_count(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	ctlq.have_count = 1;
	ctlq.count = m.n;
}

void
ctl_queue_on_message_fd(struct mproc *p, struct imsg *imsg)
{
	struct msg_ctl_message_fd	m;

	if (msg_unpack_ctl_message_fd(imsg, &m) == -1) {
		mproc_bad_payload(p, imsg);
		return;
	}
	if (ctlq.msgfd != -1)
		close(ctlq.msgfd);
	ctlq.msgfd = m.fd;
}

int
ctl_queue_send_show_queue(struct mproc *p, char **args)
{
	uint64_t	id = 0;
	int		all;

	if (args[0] != NULL) {
		if (ctl_queue_parse_id(args[0], 0, &id, &all) == -1)
			return -1;
		if (id > UINT32_MAX) {
			fprintf(stderr, "smtpctl: show queue takes a message "
			    "id (8 hex digits)\n");
			return -1;
		}
		ctlq.msgid = (uint32_t)id;
	}
	if (p == NULL)
		return 0;
	return msg_send_ctl_show_queue(p, &(struct msg_ctl_show_queue){
	    .from = 0, .msgid = ctlq.msgid });
}

int
ctl_queue_again_show_queue(struct mproc *p)
{
	if (ctlq.next == 0)
		return 0;
	if (msg_send_ctl_show_queue(p, &(struct msg_ctl_show_queue){
	    .from = ctlq.next, .msgid = ctlq.msgid }) == -1)
		return -1;
	ctlq.next = 0;
	return 1;
}

int
ctl_queue_send_show_envelope(struct mproc *p, char **args)
{
	uint64_t	id;
	int		all;

	if (ctl_queue_parse_id(args[0], 0, &id, &all) == -1)
		return -1;
	if (id <= UINT32_MAX) {
		fprintf(stderr, "smtpctl: show envelope takes an envelope id "
		    "(16 hex digits)\n");
		return -1;
	}
	if (p == NULL)
		return 0;
	return msg_send_ctl_show_envelope(p, &(struct msg_ctl_show_envelope){
	    .evpid = id });
}

int
ctl_queue_send_show_message(struct mproc *p, char **args)
{
	uint64_t	id;
	int		all;

	if (ctl_queue_parse_id(args[0], 0, &id, &all) == -1)
		return -1;
	if (p == NULL)
		return 0;
	/* an envelope names its message */
	return msg_send_ctl_show_message(p, &(struct msg_ctl_show_message){
	    .msgid = id > UINT32_MAX ? (uint32_t)(id >> 32) : (uint32_t)id });
}

int
ctl_queue_send_show_stats(struct mproc *p, char **args)
{
	if (p == NULL)
		return 0;
	return msg_send_ctl_show_stats(p, &(struct msg_ctl_show_stats){ 0 });
}

/* ctl_queue_send_mta - a relay verb OP (route ID for resume; FROM and
 * DOMAIN for pause and resume mta from/for) */
static int
ctl_queue_send_mta(struct mproc *p, uint32_t op, uint64_t id,
    const char *from, const char *domain)
{
	if (p == NULL)
		return 0;
	return msg_send_ctl_mta_admin(p,
	    &(struct msg_ctl_mta_admin){ .op = op, .id = id, .from = from,
		.domain = domain });
}

/*
 * ctl_queue_mta_block_args - ARGS are "from ADDR for DOMAIN", ADDR a
 * numeric IPv4 or IPv6 address, DOMAIN a name (or an address literal)
 * of at most 255 bytes; 0, or -1 with the reason printed
 */
static int
ctl_queue_mta_block_args(char **args)
{
	struct in6_addr	 a6;
	struct in_addr	 a4;

	if (strcmp(args[0], "from") != 0 || strcmp(args[2], "for") != 0) {
		fprintf(stderr, "smtpctl: expected from ADDR for DOMAIN\n");
		return -1;
	}
	if (inet_pton(AF_INET, args[1], &a4) != 1 &&
	    inet_pton(AF_INET6, args[1], &a6) != 1) {
		fprintf(stderr, "smtpctl: %s: not an IPv4 or IPv6 address\n",
		    args[1]);
		return -1;
	}
	if (!mailaddr_domain_ok(args[3])) {
		fprintf(stderr, "smtpctl: %s: not a domain\n", args[3]);
		return -1;
	}
	return 0;
}

/* ctl_queue_send_pause_mta_from - the relay connects from ADDR to
 * DOMAIN's hosts no more, until resumed (MTA-22, CTL-15) */
int
ctl_queue_send_pause_mta_from(struct mproc *p, char **args)
{
	if (ctl_queue_mta_block_args(args) == -1)
		return -1;
	return ctl_queue_send_mta(p, MTA_ADMIN_BLOCK, 0, args[1], args[3]);
}

/* ctl_queue_send_resume_mta_from - what pause mta from/for stopped */
int
ctl_queue_send_resume_mta_from(struct mproc *p, char **args)
{
	if (ctl_queue_mta_block_args(args) == -1)
		return -1;
	return ctl_queue_send_mta(p, MTA_ADMIN_UNBLOCK, 0, args[1], args[3]);
}

/* ctl_queue_send_show_mta - `show mta paused` (CTL-11) */
int
ctl_queue_send_show_mta(struct mproc *p, char **args)
{
	if (strcmp(args[0], "paused") != 0) {
		fprintf(stderr, "smtpctl: show mta %s: only show mta paused\n",
		    args[0]);
		return -1;
	}
	return ctl_queue_send_mta(p, MTA_ADMIN_SHOW_BLOCKS, 0, "", "");
}

/* ctl_queue_send_show_hoststats - the relay's last outcome per domain */
int
ctl_queue_send_show_hoststats(struct mproc *p, char **args)
{
	return ctl_queue_send_mta(p, MTA_ADMIN_HOSTSTATS, 0, "", "");
}

/* ctl_queue_send_show_hosts - the next-hop addresses the relay knows */
int
ctl_queue_send_show_hosts(struct mproc *p, char **args)
{
	return ctl_queue_send_mta(p, MTA_ADMIN_HOSTS, 0, "", "");
}

/* ctl_queue_send_show_relays - the relay's routes at work */
int
ctl_queue_send_show_relays(struct mproc *p, char **args)
{
	return ctl_queue_send_mta(p, MTA_ADMIN_RELAYS, 0, "", "");
}

/* ctl_queue_send_show_routes - the relay's routes and their hosts */
int
ctl_queue_send_show_routes(struct mproc *p, char **args)
{
	return ctl_queue_send_mta(p, MTA_ADMIN_ROUTES, 0, "", "");
}

/* ctl_queue_send_resume_route - a route's hosts set aside no more */
int
ctl_queue_send_resume_route(struct mproc *p, char **args)
{
	char			*end;
	unsigned long long	 id;

	errno = 0;
	id = strtoull(args[0], &end, 10);
	if (args[0][0] < '0' || args[0][0] > '9' || *end != '\0' ||
	    errno != 0 || id == 0) {
		fprintf(stderr, "smtpctl: %s: not a route number\n", args[0]);
		return -1;
	}
	return ctl_queue_send_mta(p, MTA_ADMIN_RESUME_ROUTE, (uint64_t)id,
	    "", "");
}

/* ctl_queue_send_change - OP on ARGS[0], an id or all */
static int
ctl_queue_send_change(struct mproc *p, char **args, int op)
{
	uint64_t	id;

	if (ctl_queue_parse_id(args[0], 1, &id, &ctlq.all) == -1)
		return -1;
	ctlq.op = op;
	if (p == NULL)
		return 0;
	return msg_send_ctl_change_envelopes(p,
	    &(struct msg_ctl_change_envelopes){ .op = op, .id = id,
	    .all = ctlq.all });
}

int
ctl_queue_send_schedule(struct mproc *p, char **args)
{
	return ctl_queue_send_change(p, args, CHANGE_SCHEDULE);
}

int
ctl_queue_send_remove(struct mproc *p, char **args)
{
	return ctl_queue_send_change(p, args, CHANGE_REMOVE);
}

int
ctl_queue_send_suspend(struct mproc *p, char **args)
{
	return ctl_queue_send_change(p, args, CHANGE_SUSPEND);
}

int
ctl_queue_send_release(struct mproc *p, char **args)
{
	return ctl_queue_send_change(p, args, CHANGE_RESUME);
}

/* ctl_queue_send_agent - pause or resume mda, mta or smtp */
static int
ctl_queue_send_agent(struct mproc *p, char **args, int pause)
{
	uint32_t	what;

	if (strcmp(args[0], "mda") == 0)
		what = PAUSE_MDA;
	else if (strcmp(args[0], "mta") == 0)
		what = PAUSE_MTA;
	else if (strcmp(args[0], "smtp") == 0)
		what = PAUSE_SMTP;
	else {
		fprintf(stderr, "smtpctl: %s what? mda, mta, smtp, or "
		    "envelope ID|all\n", pause ? "pause" : "resume");
		return -1;
	}
	if (p == NULL)
		return 0;
	return msg_send_ctl_pause(p, &(struct msg_ctl_pause){ .what = what,
	    .pause = pause });
}

int
ctl_queue_send_pause(struct mproc *p, char **args)
{
	return ctl_queue_send_agent(p, args, 1);
}

int
ctl_queue_send_resume(struct mproc *p, char **args)
{
	return ctl_queue_send_agent(p, args, 0);
}

int
ctl_queue_done_show_queue(void)
{
	return fflush(stdout) == 0 ? 0 : 1;
}

/* ctl_queue_done_text - the collected text as it came (show envelope) */
int
ctl_queue_done_text(void)
{
	int	status = 0;

	if (ctlq.text_cut) {
		fprintf(stderr, "smtpctl: answer too long\n");
		status = 1;
	} else if (ctlq.text != NULL)
		fputs(ctlq.text, stdout);
	free(ctlq.text);
	ctlq.text = NULL;
	return status;
}

static int
ctl_queue_cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ctl_queue_stat - the value of counter KEY among the "key=value" lines
 * received so far: 0 and *v, or -1 when absent */
int
ctl_queue_stat(const char *key, long long *v)
{
	const char	*s;
	size_t		 klen = strlen(key);

	for (s = ctlq.text; s != NULL && *s != '\0';
	    s = strchr(s, '\n') ? strchr(s, '\n') + 1 : NULL) {
		if (strncmp(s, key, klen) == 0 && s[klen] == '=') {
			*v = strtoll(s + klen + 1, NULL, 10);
			return 0;
		}
	}
	return -1;
}

/* ctl_queue_done_show_stats - every process's key=value lines, sorted,
 * and the uptime for humans */
int
ctl_queue_done_show_stats(void)
{
	char		**lines = NULL, *s, *save = NULL;
	size_t		 n = 0, i;
	long long	 up = -1;

	if (ctlq.text_cut || ctlq.text == NULL ||
	    (lines = calloc(ctlq.textlen / 2 + 1, sizeof *lines)) == NULL) {
		(void)ctl_queue_done_text();
		fprintf(stderr, "smtpctl: no usable counters\n");
		return 1;
	}
	for (s = strtok_r(ctlq.text, "\n", &save); s != NULL;
	    s = strtok_r(NULL, "\n", &save)) {
		lines[n++] = s;
		if (strncmp(s, "uptime=", 7) == 0)
			up = strtoll(s + 7, NULL, 10);
	}
	qsort(lines, n, sizeof *lines, ctl_queue_cmp_line);
	for (i = 0; i < n; i++) {
		printf("%s\n", lines[i]);
		if (up >= 0 && strncmp(lines[i], "uptime=", 7) == 0)
			printf("uptime.human=%lldd%lldh%lldm%llds\n",
			    up / 86400, up / 3600 % 24, up / 60 % 60, up % 60);
	}
	free(lines);
	free(ctlq.text);
	ctlq.text = NULL;
	return 0;
}

/* ctl_queue_done_show_message - the body, copied from its descriptor */
int
ctl_queue_done_show_message(void)
{
	char	buf[65536];
	ssize_t	n;
	int	status = 0;

	if (ctlq.msgfd == -1) {
		fprintf(stderr, "smtpctl: malformed answer from smtpd\n");
		return 1;
	}
	fflush(stdout);
	while ((n = read(ctlq.msgfd, buf, sizeof buf)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 || fwrite(buf, 1, (size_t)n, stdout) != (size_t)n) {
			fprintf(stderr, "smtpctl: copying the message: %s\n",
			    strerror(errno));
			status = 1;
			break;
		}
	}
	close(ctlq.msgfd);
	ctlq.msgfd = -1;
	return fflush(stdout) == 0 ? status : 1;
}

/* ctl_queue_done_change - what schedule, remove, pause and resume did */
int
ctl_queue_done_change(void)
{
	static const char *const done[] = { "", "scheduled", "removed",
	    "paused", "resumed" };

	if (!ctlq.have_count) {
		fprintf(stderr, "smtpctl: malformed answer from smtpd\n");
		return 1;
	}
	if (ctlq.all)
		printf("%llu message(s) %s\n", (unsigned long long)ctlq.count,
		    done[ctlq.op]);
	else
		printf("command succeeded\n");
	return 0;
}

int
ctl_queue_done_ok(void)
{
	printf("command succeeded\n");
	return 0;
}
