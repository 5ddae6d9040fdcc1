/*
 * parent_mda_test.c -- unit tests for smtpd/parent/parent_mda.c, the
 * launcher of local deliveries: the %{...} expander (every variable,
 * modifier and substring form, and the injection attempts it refuses),
 * parent_mda_prepare for each method, the exit status mapping, the
 * mbox file checks and parent_mda_spawn.  Spawn as another user needs
 * root: as an ordinary user the child runs as the caller and the part
 * that checks the uid change is reported as not run.  Every wait is
 * bounded; the only process signalled is the child we forked, by pid.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "envelope.h"
#include "imsg.h"
#include "../../smtpd/parent/parent_mda.h"
#include "smtpd.h"
#include "test.h"

struct smtpd_env	*env;

static struct envelope	evp;
static char		out[PARENT_MDA_FORMAT_MAX], err[256];

static void
set_addr(struct mailaddr *ma, const char *user, const char *domain)
{
	snprintf(ma->user, sizeof(ma->user), "%s", user);
	snprintf(ma->domain, sizeof(ma->domain), "%s", domain);
}

static void
reset_envelope(void)
{
	memset(&evp, 0, sizeof(evp));
	set_addr(&evp.sender, "Alice+news", "Client.Example");
	set_addr(&evp.rcpt, "Bob+Tag", "Example.ORG");
	set_addr(&evp.dest, "bob", "example.org");
	snprintf(evp.mda_subaddress, sizeof(evp.mda_subaddress), "Tag");
}

static int
fmt(const char *f, enum parent_mda_ctx ctx, const char *mda)
{
	struct parent_mda_vars	v = { &evp, "vmail", "/home/vmail", mda,
				      '+' };

	out[0] = err[0] = '\0';
	return parent_mda_format(out, sizeof(out), f, &v, ctx, err,
	    sizeof(err));
}

static const struct {
	const char	*fmt;
	const char	*want;
} format_ok[] = {
	{ "%{sender}", "Alice+news@Client.Example" },
	{ "%{sender.user}", "Alice+news" },
	{ "%{sender.domain}", "Client.Example" },
	{ "%{rcpt}", "Bob+Tag@Example.ORG" },
	{ "%{rcpt.user}", "Bob+Tag" },
	{ "%{rcpt.domain}", "Example.ORG" },
	{ "%{dest}", "bob@example.org" },
	{ "%{dest.user}", "bob" },
	{ "%{dest.domain}", "example.org" },
	{ "%{user.username}", "vmail" },
	{ "%{user.directory}", "/home/vmail" },
	{ "%{mbox.from}", "Alice+news@Client.Example" },
	{ "%{rcpt:lowercase}", "bob+tag@example.org" },
	{ "%{rcpt.domain:uppercase}", "EXAMPLE.ORG" },
	{ "%{rcpt:strip}", "Bob@Example.ORG" },
	{ "%{rcpt.user:strip}", "Bob" },
	{ "%{rcpt.user:strip|lowercase}", "bob" },
	{ "%{rcpt.user:lowercase:strip}", "bob" },
	{ "%{rcpt.user[0]}", "B" },
	{ "%{rcpt.user[1:]}", "ob+Tag" },
	{ "%{rcpt.user[-3:]}", "Tag" },
	{ "%{rcpt.user[0:2]}", "Bob" },
	{ "%{rcpt.user[0:-5]}", "Bob" },
	{ "%{rcpt.user[0:-6]}", "Bo" },
	{ "%{rcpt.user[99]}", "" },
	{ "%{rcpt.user[-99:1]}", "Bo" },
	{ "%{dest.domain[0]:uppercase}", "E" },
	{ "/var/vmail/%{dest.domain}/%{dest.user}",
	    "/var/vmail/example.org/bob" },
	{ "%{user.directory}/Maildir/%{rcpt.user:strip|lowercase}",
	    "/home/vmail/Maildir/bob" },
	{ "100% literal", "100% literal" },
};

/* test_format - the table, then sanitising and every refusal */
static void
test_format(void)
{
	size_t	i;
	char	name[128];

	reset_envelope();
	for (i = 0; i < sizeof(format_ok) / sizeof(format_ok[0]); i++) {
		snprintf(name, sizeof(name), "format %s", format_ok[i].fmt);
		CHECK(fmt(format_ok[i].fmt, PARENT_MDA_CTX_COMMAND, NULL) == 0 &&
		    strcmp(out, format_ok[i].want) == 0, name);
	}
	CHECK(fmt("%{mda} | logger", PARENT_MDA_CTX_COMMAND, "procmail -d x")
	    == 0 && strcmp(out, "procmail -d x | logger") == 0,
	    "%{mda} in a wrapper");
	CHECK(fmt("%{mda}", PARENT_MDA_CTX_COMMAND, NULL) == -1 &&
	    strstr(err, "unknown") != NULL, "%{mda} outside a wrapper refused");

	/* MDA-11: risky bytes of outside values become ':' */
	set_addr(&evp.rcpt, "a+t?g", "ex.org");
	CHECK(fmt("/m/%{rcpt.user}", PARENT_MDA_CTX_PATH, NULL) == 0 &&
	    strcmp(out, "/m/a+t:g") == 0, "a+t?g becomes a+t:g");
	set_addr(&evp.rcpt, "x/y", "ex.org");
	CHECK(fmt("/m/%{rcpt.user}", PARENT_MDA_CTX_PATH, NULL) == 0 &&
	    strcmp(out, "/m/x:y") == 0, "'/' of a value becomes ':'");
	CHECK(fmt("/m/%{rcpt.user:raw}", PARENT_MDA_CTX_PATH, NULL) == -1,
	    "raw '/' refused in a path");
	set_addr(&evp.rcpt, "..", "ex.org");
	CHECK(fmt("/m/%{rcpt.user}", PARENT_MDA_CTX_PATH, NULL) == -1 &&
	    strstr(err, "refused") != NULL, "\"..\" refused in a path");
	set_addr(&evp.rcpt, "a..b", "ex.org");
	CHECK(fmt("/m/%{rcpt.user}", PARENT_MDA_CTX_PATH, NULL) == -1,
	    "\"a..b\" refused in a path");
	set_addr(&evp.rcpt, ".", "ex.org");
	CHECK(fmt("/m/.%{rcpt.user}", PARENT_MDA_CTX_PATH, NULL) == -1,
	    "\".\" value refused in a path");
	set_addr(&evp.rcpt, "x", "ex.org");
	set_addr(&evp.dest, ".", "ex.org");
	CHECK(fmt("/m/%{dest.user}%{dest.user}", PARENT_MDA_CTX_PATH, NULL)
	    == -1, "\".\" values side by side refused");
	CHECK(fmt("/m/../x", PARENT_MDA_CTX_PATH, NULL) == -1,
	    "a \"..\" component refused in a path");
	CHECK(fmt("/m/.x./y", PARENT_MDA_CTX_PATH, NULL) == 0,
	    "dots that are no \"..\" component pass");
	reset_envelope();
	set_addr(&evp.rcpt, "a;rm${IFS}-rf`x`$(y)|z&", "ex.org");
	CHECK(fmt("deliver %{rcpt.user}", PARENT_MDA_CTX_COMMAND, NULL) == 0 &&
	    strcmp(out, "deliver a:rm::IFS:-rf:x:::y::z:") == 0,
	    "shell metacharacters become ':' in a command");
	CHECK(fmt("deliver %{rcpt.user:raw}", PARENT_MDA_CTX_COMMAND, NULL)
	    == -1 && strstr(err, "metacharacter") != NULL,
	    "raw shell metacharacter refused in a command");
	set_addr(&evp.rcpt, "-oQ/tmp", "ex.org");
	CHECK(fmt("sendmail %{rcpt.user}", PARENT_MDA_CTX_COMMAND, NULL) == -1,
	    "leading '-' refused in a command");
	set_addr(&evp.rcpt, "ok.user", "ex.org");
	CHECK(fmt("x %{rcpt.user:raw}", PARENT_MDA_CTX_COMMAND, NULL) == 0 &&
	    strcmp(out, "x ok.user") == 0, "a harmless raw value passes");
	memset(&evp.sender, 0, sizeof(evp.sender));
	CHECK(fmt("/m/%{sender.user}", PARENT_MDA_CTX_PATH, NULL) == -1,
	    "empty outside value refused in a path");
	CHECK(fmt("%{mbox.from}", PARENT_MDA_CTX_COMMAND, NULL) == 0 &&
	    strcmp(out, "MAILER-DAEMON") == 0, "mbox.from of <>");
	CHECK(fmt("[%{sender}]", PARENT_MDA_CTX_COMMAND, NULL) == 0 &&
	    strcmp(out, "[]") == 0, "sender of <> is empty");

	reset_envelope();
	CHECK(fmt("%{nosuch}", PARENT_MDA_CTX_PATH, NULL) == -1 &&
	    strstr(err, "unknown") != NULL, "unknown variable");
	CHECK(fmt("%{rcpt.user", PARENT_MDA_CTX_PATH, NULL) == -1,
	    "unterminated %{");
	CHECK(fmt("%{}", PARENT_MDA_CTX_PATH, NULL) == -1, "empty %{}");
	CHECK(fmt("%{rcpt[x]}", PARENT_MDA_CTX_PATH, NULL) == -1,
	    "bad substring");
	CHECK(fmt("%{rcpt[1:2}", PARENT_MDA_CTX_PATH, NULL) == -1,
	    "unterminated substring");
	CHECK(fmt("%{rcpt:shout}", PARENT_MDA_CTX_PATH, NULL) == -1 &&
	    strstr(err, "modifier") != NULL, "unknown modifier");
	CHECK(fmt("%{rcpt}junk}", PARENT_MDA_CTX_PATH, NULL) == 0,
	    "a '}' outside a token is text");
	CHECK(fmt("%{rcptx}", PARENT_MDA_CTX_PATH, NULL) == -1,
	    "variable with a trailing suffix");
	CHECK(fmt("a\nb", PARENT_MDA_CTX_COMMAND, NULL) == -1,
	    "control character in the format");
	{
		char	big[PARENT_MDA_FORMAT_MAX + 10];
		char	small[8];
		struct parent_mda_vars v = { &evp, "u", "/h", NULL, '+' };

		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		CHECK(fmt(big, PARENT_MDA_CTX_PATH, NULL) == -1 &&
		    strstr(err, "too long") != NULL, "expansion too long");
		CHECK(parent_mda_format(small, sizeof(small), "%{rcpt}", &v,
		    PARENT_MDA_CTX_PATH, err, sizeof(err)) == -1,
		    "value longer than the buffer");
	}
}

static const char *
env_get(const struct parent_mda_exec *x, const char *name)
{
	size_t	n = strlen(name);

	for (int i = 0; x->envp[i] != NULL; i++)
		if (strncmp(x->envp[i], name, n) == 0 && x->envp[i][n] == '=')
			return x->envp[i] + n + 1;
	return NULL;
}

static int
argv_is(const struct parent_mda_exec *x, const char *const *want)
{
	int	i;

	for (i = 0; want[i] != NULL; i++)
		if (x->argv[i] == NULL || strcmp(x->argv[i], want[i]) != 0)
			return 0;
	return x->argv[i] == NULL;
}

/* test_prepare - each method's argv, the environment, root refused */
static void
test_prepare(void)
{
	static struct parent_mda_exec	x;
	struct conf_action		a;
	struct passwd			pw;
	struct parent_mda_params	pp = { .libexec = "/usr/libexec/smtpd" };
	char				name[] = "bob", dir[] = "/home/bob";
	char				shell[] = "/bin/bash";

	reset_envelope();
	memset(&pw, 0, sizeof(pw));
	pw.pw_name = name;
	pw.pw_dir = dir;
	pw.pw_shell = shell;
	pw.pw_uid = 1001;
	pw.pw_gid = 1002;
	memset(&a, 0, sizeof(a));
	a.name = (char *)"local";

	a.method = CONF_METHOD_MAILDIR;
	CHECK(parent_mda_prepare(&a, &evp, &pw, &pp, &x, err, sizeof(err))
	    == 0 && strcmp(x.path, "/usr/libexec/smtpd/mail.maildir") == 0 &&
	    argv_is(&x, (const char *[]){ "mail.maildir", "--",
	    "/home/bob/Maildir", NULL }), "maildir default ~/Maildir");
	CHECK(x.uid == 1001 && x.gid == 1002 && strcmp(x.cwd, "/home/bob")
	    == 0 && strcmp(x.user, "bob") == 0, "maildir ids and directory");
	CHECK_STR(env_get(&x, "HOME"), "/home/bob", "env HOME");
	CHECK_STR(env_get(&x, "USER"), "bob", "env USER");
	CHECK_STR(env_get(&x, "LOGNAME"), "bob", "env LOGNAME");
	CHECK_STR(env_get(&x, "SHELL"), "/bin/sh", "env SHELL");
	CHECK_STR(env_get(&x, "PATH"), "/usr/bin:/bin", "env PATH");
	CHECK_STR(env_get(&x, "SENDER"), "Alice+news@Client.Example",
	    "env SENDER");
	CHECK_STR(env_get(&x, "RECIPIENT"), "bob@example.org",
	    "env RECIPIENT");
	CHECK_STR(env_get(&x, "ORIGINAL_RECIPIENT"), "Bob+Tag@Example.ORG",
	    "env ORIGINAL_RECIPIENT");
	CHECK_STR(env_get(&x, "LOCAL"), "bob", "env LOCAL");
	CHECK_STR(env_get(&x, "DOMAIN"), "example.org", "env DOMAIN");
	CHECK_STR(env_get(&x, "EXTENSION"), "Tag", "env EXTENSION");

	a.path = (char *)"~/Mail/%{rcpt.user:strip|lowercase}";
	a.junk = 1;
	CHECK(parent_mda_prepare(&a, &evp, &pw, &pp, &x, err, sizeof(err))
	    == 0 && argv_is(&x, (const char *[]){ "mail.maildir", "-j", "--",
	    "/home/bob/Mail/bob", NULL }), "maildir ~/ path, junk");
	a.path = (char *)"/var/vmail/%{dest.domain}/%{dest.user}";
	a.junk = 0;
	CHECK(parent_mda_prepare(&a, &evp, &pw, &pp, &x, err, sizeof(err))
	    == 0 && argv_is(&x, (const char *[]){ "mail.maildir", "--",
	    "/var/vmail/example.org/bob", NULL }), "maildir absolute path");
	pp.unique = "1700000000.E0123456789abcdef";
	CHECK(parent_mda_prepare(&a, &evp, &pw, &pp, &x, err, sizeof(err))
	    == 0 && argv_is(&x, (const char *[]){ "mail.maildir", "-u",
	    "1700000000.E0123456789abcdef", "--",
	    "/var/vmail/example.org/bob", NULL }),
	    "maildir: one file name per delivery (-u)");
	{
		static struct parent_mda_exec	ax;

		CHECK(parent_mda_agent_exec(&x, &ax) == 0 &&
		    strcmp(ax.path, x.path) == 0 && argv_is(&ax,
		    (const char *[]){ "mail.maildir", "-A", NULL }) &&
		    ax.uid == 1001 && ax.gid == 1002 &&
		    strcmp(ax.cwd, x.cwd) == 0 && strcmp(ax.user, "bob") == 0,
		    "agent: the same program and user, -A alone");
		CHECK_STR(env_get(&ax, "HOME"), "/home/bob", "agent env HOME");
		CHECK_STR(env_get(&ax, "PATH"), "/usr/bin:/bin",
		    "agent env PATH");
		CHECK(env_get(&ax, "SENDER") == NULL &&
		    env_get(&ax, "RECIPIENT") == NULL &&
		    env_get(&ax, "EXTENSION") == NULL && ax.envc == 5,
		    "agent env: the user's only, nothing of one envelope");
	}
	pp.unique = NULL;
	pp.size = 4242;
	CHECK(parent_mda_prepare(&a, &evp, &pw, &pp, &x, err, sizeof(err))
	    == 0 && env_get(&x, "SMTPD_MESSAGE_SIZE") != NULL &&
	    strcmp(env_get(&x, "SMTPD_MESSAGE_SIZE"), "4242") == 0,
	    "the size the program must read is in its environment");
	pp.size = 0;
	a.path = (char *)"Maildir";
	CHECK(parent_mda_prepare(&a, &evp, &pw, &pp, &x, err, sizeof(err))
	    == 0 && strcmp(x.argv[2], "/home/bob/Maildir") == 0,
	    "maildir relative path under home");
	set_addr(&evp.dest, "..", "example.org");
	a.path = (char *)"/var/vmail/%{dest.user}";
	CHECK(parent_mda_prepare(&a, &evp, &pw, &pp, &x, err, sizeof(err))
	    == -1 && strstr(err, "refused") != NULL, "maildir .. refused");
	reset_envelope();

	a.method = CONF_METHOD_MBOX;
	a.path = NULL;
	CHECK(parent_mda_prepare(&a, &evp, &pw, &pp, &x, err, sizeof(err))
	    == 0 && strcmp(x.path, "/usr/libexec/smtpd/mail.mboxfile") == 0 &&
	    argv_is(&x, (const char *[]){ "mail.mboxfile", "-f",
	    "Alice+news@Client.Example", "-o", "--", "/var/mail/bob", NULL }),
	    "mbox argv (-o: a repeated delivery not appended twice)");
	memset(&evp.sender, 0, sizeof(evp.sender));
	pp.spool = "/tmp/spool";
	CHECK(parent_mda_prepare(&a, &evp, &pw, &pp, &x, err, sizeof(err))
	    == 0 && argv_is(&x, (const char *[]){ "mail.mboxfile", "-f",
	    "MAILER-DAEMON", "-o", "--", "/tmp/spool/bob", NULL }) &&
	    env_get(&x, "SENDER") != NULL && *env_get(&x, "SENDER") == '\0',
	    "mbox of a bounce: MAILER-DAEMON, empty SENDER");
	reset_envelope();

	a.method = CONF_METHOD_LMTP;
	a.path = (char *)"unix:/run/dovecot/lmtp";
	CHECK(parent_mda_prepare(&a, &evp, &pw, &pp, &x, err, sizeof(err))
	    == 0 && argv_is(&x, (const char *[]){ "mail.lmtp", "-d",
	    "unix:/run/dovecot/lmtp", "-f", "Alice+news@Client.Example", "-u",
	    "--", "bob@example.org", NULL }), "lmtp argv, local user");
	a.rcpt_to = 1;
	CHECK(parent_mda_prepare(&a, &evp, &pw, &pp, &x, err, sizeof(err))
	    == 0 && x.argv[5] != NULL && strcmp(x.argv[5], "-r") == 0,
	    "lmtp rcpt-to: -r");
	a.path = NULL;
	CHECK(parent_mda_prepare(&a, &evp, &pw, &pp, &x, err, sizeof(err))
	    == -1, "lmtp without destination refused");

	a.method = CONF_METHOD_MDA;
	a.path = (char *)"/usr/bin/procmail -a %{rcpt.user:strip}";
	CHECK(parent_mda_prepare(&a, &evp, &pw, &pp, &x, err, sizeof(err))
	    == 0 && strcmp(x.path, "/bin/sh") == 0 && argv_is(&x,
	    (const char *[]){ "sh", "-c", "/usr/bin/procmail -a Bob", NULL }),
	    "mda: /bin/sh -c command");
	pp.wrapper = "/usr/bin/logwrap %{user.username} %{mda}";
	CHECK(parent_mda_prepare(&a, &evp, &pw, &pp, &x, err, sizeof(err))
	    == 0 && strcmp(x.argv[2],
	    "/usr/bin/logwrap bob /usr/bin/procmail -a Bob") == 0,
	    "mda wrapper around the command");
	pp.wrapper = NULL;
	snprintf(evp.mda_exec, sizeof(evp.mda_exec), "/usr/bin/vacation bob");
	CHECK(parent_mda_prepare(&a, &evp, &pw, &pp, &x, err, sizeof(err))
	    == 0 && strcmp(x.argv[2], "/usr/bin/vacation bob") == 0,
	    "mda: an alias |command as it is");
	a.method = CONF_METHOD_MAILDIR;
	CHECK(parent_mda_prepare(&a, &evp, &pw, &pp, &x, err, sizeof(err))
	    == 0 && strcmp(x.path, "/bin/sh") == 0 && argv_is(&x,
	    (const char *[]){ "sh", "-c", "/usr/bin/vacation bob", NULL }),
	    "maildir action: an alias or .forward |command still runs");
	snprintf(evp.mda_exec, sizeof(evp.mda_exec), "/usr/libexec/smtpd/"
	    "mail.mboxfile -f %%{mbox.from} '/home/bob/my box'");
	CHECK(parent_mda_prepare(&a, &evp, &pw, &pp, &x, err, sizeof(err))
	    == 0 && argv_is(&x, (const char *[]){ "sh", "-c",
	    "/proc/self/fd/4/mail.mboxfile -f Alice+news@Client.Example "
	    "'/home/bob/my box'", NULL }) &&
	    strcmp(x.reach, "/usr/libexec/smtpd") == 0,
	    "a /file target: %{mbox.from} expanded, our libexec directory "
	    "reached through fd 4 (opened by the child as root)");
	snprintf(evp.mda_exec, sizeof(evp.mda_exec), "cat %%{nosuch}");
	CHECK(parent_mda_prepare(&a, &evp, &pw, &pp, &x, err, sizeof(err))
	    == -1 && strstr(err, "nosuch") != NULL,
	    "an unknown %{} in a |command: refused");
	a.method = CONF_METHOD_MDA;
	evp.mda_exec[0] = '\0';
	set_addr(&evp.rcpt, "x`reboot`", "e.org");
	a.path = (char *)"deliver %{rcpt.user:raw}";
	CHECK(parent_mda_prepare(&a, &evp, &pw, &pp, &x, err, sizeof(err))
	    == -1, "mda: raw injection refused");
	reset_envelope();

	a.method = CONF_METHOD_RELAY;
	CHECK(parent_mda_prepare(&a, &evp, &pw, &pp, &x, err, sizeof(err))
	    == -1, "relay action refused");
	a.method = CONF_METHOD_MAILDIR;
	a.path = NULL;
	pw.pw_uid = 0;
	CHECK(parent_mda_prepare(&a, &evp, &pw, &pp, &x, err, sizeof(err))
	    == -1 && strstr(err, "not allowed") != NULL, "root refused");
}

/* test_status - the wait status and output mapping */
static void
test_status(void)
{
	char	line[128];
	int	r;

	r = parent_mda_status(0 << 8, "", 0, line, sizeof(line));
	CHECK(r == DELIVERY_OK, "exit 0 delivered");
	r = parent_mda_status(EX_TEMPFAIL << 8, "a\nquota exceeded\n", 17,
	    line, sizeof(line));
	CHECK(r == DELIVERY_TEMPFAIL && strcmp(line, "quota exceeded") == 0,
	    "75 temporary, last line");
	CHECK(parent_mda_status(EX_OSERR << 8, NULL, 0, line, sizeof(line))
	    == DELIVERY_TEMPFAIL && strcmp(line, "exited with status 71") == 0,
	    "71 temporary, default line");
	CHECK(parent_mda_status(1 << 8, "x", 1, line, sizeof(line)) ==
	    DELIVERY_PERMFAIL, "1 permanent");
	CHECK(parent_mda_status(EX_NOUSER << 8, "no\x01user\x1b[0m", 11, line,
	    sizeof(line)) == DELIVERY_PERMFAIL && strcmp(line,
	    "no?user?[0m") == 0, "67 permanent, control bytes cleaned");
	CHECK(parent_mda_status(EX_CANTCREAT << 8, "", 0, line, sizeof(line))
	    == DELIVERY_PERMFAIL, "73 permanent");
	CHECK(parent_mda_status(2 << 8, "", 0, line, sizeof(line)) ==
	    DELIVERY_TEMPFAIL, "unknown code 2 temporary");
	CHECK(parent_mda_status(127 << 8, "", 0, line, sizeof(line)) ==
	    DELIVERY_TEMPFAIL, "127 temporary");
	CHECK(parent_mda_status(9, "", 0, line, sizeof(line)) ==
	    DELIVERY_TEMPFAIL && strcmp(line, "terminated by signal 9") == 0,
	    "killed: temporary");
	{
		char	longl[3000];

		memset(longl, 'x', sizeof(longl));
		CHECK(parent_mda_status(EX_DATAERR << 8, longl, sizeof(longl),
		    line, sizeof(line)) == DELIVERY_PERMFAIL &&
		    strlen(line) == sizeof(line) - 1, "long line cut");
	}
}

/* test_mbox_prepare - created owned, or refused */
static void
test_mbox_prepare(const char *dir)
{
	char		p[512], q[512];
	struct stat	st;
	uid_t		uid = getuid();

	snprintf(p, sizeof(p), "%s/alice", dir);
	CHECK(parent_mda_mbox_prepare(p, uid, getgid(), err, sizeof(err)) == 0
	    && lstat(p, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == uid &&
	    (st.st_mode & 0777) == 0600, "mbox created 0600");
	CHECK(parent_mda_mbox_prepare(p, uid, getgid(), err, sizeof(err)) == 0,
	    "mbox existing ok");
	CHECK(parent_mda_mbox_prepare(p, uid + 1, getgid(), err, sizeof(err))
	    == -1 && strstr(err, "owned") != NULL, "mbox wrong owner refused");
	snprintf(q, sizeof(q), "%s/link", dir);
	CHECK(symlink(p, q) == 0 && parent_mda_mbox_prepare(q, uid, getgid(),
	    err, sizeof(err)) == -1 && strstr(err, "symbolic") != NULL,
	    "mbox symlink refused");
	snprintf(q, sizeof(q), "%s/hard", dir);
	CHECK(link(p, q) == 0 && parent_mda_mbox_prepare(q, uid, getgid(),
	    err, sizeof(err)) == -1 && strstr(err, "hard links") != NULL,
	    "mbox hard link refused");
	snprintf(q, sizeof(q), "%s/dir", dir);
	CHECK(mkdir(q, 0700) == 0 && parent_mda_mbox_prepare(q, uid, getgid(),
	    err, sizeof(err)) == -1, "mbox directory refused");
	snprintf(q, sizeof(q), "%s/fifo", dir);
	CHECK(mkfifo(q, 0600) == 0 && parent_mda_mbox_prepare(q, uid, getgid(),
	    err, sizeof(err)) == -1 && strstr(err, "regular") != NULL,
	    "mbox fifo refused, without blocking");
	if (geteuid() == 0 && getpwnam("nobody") != NULL) {
		struct passwd	*nb = getpwnam("nobody");

		snprintf(q, sizeof(q), "%s/nobody", dir);
		CHECK(parent_mda_mbox_prepare(q, nb->pw_uid, nb->pw_gid, err,
		    sizeof(err)) == 0 && lstat(q, &st) == 0 &&
		    st.st_uid == nb->pw_uid && st.st_gid == nb->pw_gid,
		    "mbox created for another user, owned by them");
		CHECK(parent_mda_mbox_prepare(q, uid, getgid(), err,
		    sizeof(err)) == -1, "mbox of another user refused");
	} else
		test_not_run("mbox created for another user needs root");
	snprintf(q, sizeof(q), "%s/nodir/x", dir);
	CHECK(parent_mda_mbox_prepare(q, uid, getgid(), err, sizeof(err)) ==
	    -1, "mbox in a missing directory refused");
}

/* read_all - the child's output until EOF, at most 5 s */
static size_t
read_all(int fd, char *buf, size_t bufsz)
{
	struct pollfd	pfd = { fd, POLLIN, 0 };
	size_t		len = 0;
	time_t		end = time(NULL) + 5;
	ssize_t		n;

	while (len + 1 < bufsz && time(NULL) < end) {
		if (poll(&pfd, 1, 1000) <= 0)
			continue;
		n = read(fd, buf + len, bufsz - 1 - len);
		if (n == 0)
			break;
		if (n == -1 && errno != EAGAIN && errno != EINTR)
			break;
		if (n > 0)
			len += (size_t)n;
	}
	buf[len] = '\0';
	return len;
}

/* reap - waitpid of our own child, at most 5 s, then SIGKILL it */
static int
reap(pid_t pid)
{
	int	ws, i;
	struct timespec	ts = { 0, 20000000 };

	for (i = 0; i < 250; i++) {
		if (waitpid(pid, &ws, WNOHANG) == pid)
			return ws;
		nanosleep(&ts, NULL);
	}
	if (pid > 1)
		kill(pid, SIGKILL);
	waitpid(pid, &ws, 0);
	return -1;
}

/* test_spawn - the child runs as the user, in its directory, with
 * the message on stdin and only fds 0-2 open */
static void
test_spawn(const char *dir)
{
	static struct parent_mda_exec	x;
	struct parent_mda_child		c;
	struct conf_action		a;
	struct parent_mda_params	pp = { .libexec = "/nonexistent" };
	struct passwd			pw, *nobody;
	char				buf[4096], line[256], want[256];
	char				name[64], home[512];
	int				ws, r, fds[2];

	reset_envelope();
	memset(&a, 0, sizeof(a));
	a.method = CONF_METHOD_MDA;
	a.path = (char *)"echo uid=$(id -u) gid=$(id -g) groups=$(id -G) "
	    "cwd=$(pwd) "
	    "ext=$EXTENSION; ls /proc/self/fd | tr '\\n' ' '; echo; "
	    "grep -E '^Sig(Blk|Ign)' /proc/self/status | tr '\\t\\n' '  '; "
	    "echo; cat; echo 'last line'; exit 75";
	memset(&pw, 0, sizeof(pw));
	nobody = getpwnam("nobody");
	if (geteuid() == 0 && nobody != NULL) {
		snprintf(name, sizeof(name), "%s", nobody->pw_name);
		pw.pw_uid = nobody->pw_uid;
		pw.pw_gid = nobody->pw_gid;
		chmod(dir, 0755);
	} else {
		if (geteuid() == 0)
			test_not_run("spawn as another user: no account "
			    "\"nobody\"");
		else
			test_not_run("spawn as another user needs root: the "
			    "child runs as the caller");
		snprintf(name, sizeof(name), "%s", "self");
		pw.pw_uid = getuid();
		pw.pw_gid = getgid();
	}
	if (pw.pw_uid == 0)
		return;
	snprintf(home, sizeof(home), "%s", dir);
	pw.pw_name = name;
	pw.pw_dir = home;
	CHECK(parent_mda_prepare(&a, &evp, &pw, &pp, &x, err, sizeof(err))
	    == 0, "spawn: prepare");
	/* a signal ignored and one blocked here must not reach the child */
	signal(SIGUSR1, SIG_IGN);
	{
		sigset_t	m;

		sigemptyset(&m);
		sigaddset(&m, SIGUSR2);
		sigprocmask(SIG_BLOCK, &m, NULL);
	}
	r = parent_mda_spawn(&x, -1, &c, err, sizeof(err));
	CHECK(r == 0 && c.pid > 1 && c.in_fd >= 0 && c.err_fd >= 0,
	    "spawn: started");
	if (r != 0 || c.pid <= 1)
		return;
	CHECK((fcntl(c.err_fd, F_GETFL) & O_NONBLOCK) != 0 &&
	    (fcntl(c.in_fd, F_GETFL) & O_NONBLOCK) != 0,
	    "spawn: parent ends nonblocking");
	CHECK(write(c.in_fd, "Return-Path: <a@b>\nhello\n", 25) == 25,
	    "spawn: message written");
	close(c.in_fd);
	read_all(c.err_fd, buf, sizeof(buf));
	close(c.err_fd);
	ws = reap(c.pid);
	if (geteuid() == 0)
		/* nobody is in no other group: the caller's are dropped */
		snprintf(want, sizeof(want), "uid=%lu gid=%lu groups=%lu "
		    "cwd=%s ext=Tag\n", (unsigned long)pw.pw_uid,
		    (unsigned long)pw.pw_gid, (unsigned long)pw.pw_gid, dir);
	else
		snprintf(want, sizeof(want), "uid=%lu gid=%lu groups=",
		    (unsigned long)pw.pw_uid, (unsigned long)pw.pw_gid);
	CHECK(strncmp(buf, want, strlen(want)) == 0, "spawn: runs as the user "
	    "in the home directory with the environment");
	if (strncmp(buf, want, strlen(want)) != 0)
		printf("# got: %s# want: %s", buf, want);
	CHECK(strstr(buf, "\n0 1 2 3 \n") != NULL,
	    "spawn: only 0-2 open (3: ls's own)");
	CHECK(strstr(buf, "SigBlk: 0000000000000000") != NULL &&
	    strstr(buf, "SigIgn: 0000000000000000") != NULL,
	    "spawn: signal mask and dispositions reset");
	CHECK(strstr(buf, "Return-Path: <a@b>\nhello\nlast line\n") != NULL,
	    "spawn: the message on stdin");
	CHECK(parent_mda_status(ws, buf, strlen(buf), line, sizeof(line)) ==
	    DELIVERY_TEMPFAIL && strcmp(line, "last line") == 0,
	    "spawn: status and last line");
	signal(SIGUSR1, SIG_DFL);

	/* the caller's own stdin fd */
	a.path = (char *)"cat";
	CHECK(parent_mda_prepare(&a, &evp, &pw, &pp, &x, err, sizeof(err))
	    == 0 && pipe(fds) == 0, "spawn: given stdin prepared");
	r = parent_mda_spawn(&x, fds[0], &c, err, sizeof(err));
	CHECK(r == 0 && c.in_fd == -1, "spawn: given stdin, no pipe");
	if (r == 0) {
		(void)write(fds[1], "given\n", 6);
		close(fds[1]);
		read_all(c.err_fd, buf, sizeof(buf));
		close(c.err_fd);
		ws = reap(c.pid);
		CHECK(strcmp(buf, "given\n") == 0 && WIFEXITED(ws) &&
		    WEXITSTATUS(ws) == 0, "spawn: reads the given stdin");
	}

	/* a program that is not there: a temporary failure with a line */
	a.method = CONF_METHOD_MAILDIR;
	a.path = NULL;
	CHECK(parent_mda_prepare(&a, &evp, &pw, &pp, &x, err, sizeof(err))
	    == 0, "spawn: missing program prepared");
	r = parent_mda_spawn(&x, -1, &c, err, sizeof(err));
	if (r == 0) {
		close(c.in_fd);
		read_all(c.err_fd, buf, sizeof(buf));
		close(c.err_fd);
		ws = reap(c.pid);
		CHECK(parent_mda_status(ws, buf, strlen(buf), line,
		    sizeof(line)) == DELIVERY_TEMPFAIL && strstr(line,
		    "/nonexistent/mail.maildir") != NULL,
		    "spawn: missing program is a temporary failure");
	} else
		CHECK(0, "spawn: missing program started");

	x.uid = 0;
	CHECK(parent_mda_spawn(&x, -1, &c, err, sizeof(err)) == -1 &&
	    c.pid == -1 && strstr(err, "root") != NULL, "spawn: uid 0 refused");
}

int
main(void)
{
	char	dir[] = "/tmp/parent_mda_test.XXXXXX";
	char	cmd[128];

	test_format();
	test_prepare();
	test_status();
	if (mkdtemp(dir) == NULL) {
		CHECK(0, "mkdtemp");
		return test_done();
	}
	test_mbox_prepare(dir);
	test_spawn(dir);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		CHECK(0, "cleanup");
	return test_done();
}
