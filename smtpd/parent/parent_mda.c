/*
 * parent_mda.c -- the launcher of local deliveries (MDA-01..MDA-11,
 * MDA-15, MDA-16, MDA-18): the %{...} expander, what to run for one
 * envelope, the fork+exec as the user, and how the child's end reads.
 *
 * Runs in the parent (root).  prepare, format and status are pure;
 * spawn forks and never waits; mbox_prepare touches one file with
 * O_NOFOLLOW.  Injection policy (MDA-11): a value that comes from
 * outside (sender, rcpt, dest, mbox.from) has every byte outside
 * [A-Za-z0-9-_.+=@,] (and below 0x80) replaced by ':' unless :raw;
 * then, in a path, a value holding ".." (or '/', when raw) or empty
 * is refused, and in a command a value starting with '-' (or holding
 * a shell metacharacter, when raw) is refused: values are never
 * quoted for the shell, they are refused.  The environment (SENDER,
 * RECIPIENT...) carries them unchanged.  Values from the passwd entry
 * and the config (user.*, mda) are inserted as they are.  A control
 * character from any source is refused.  It must never start a
 * delivery as root, log, exit or block.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <paths.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "conf.h"
#include "envelope.h"
#include "imsg.h"
#include "parent_mda.h"

#define PARENT_MDA_TOKEN_MAX	64	/* the text between %{ and } */
#define PARENT_MDA_GROUPS_MAX	256

/* the bytes an outside value keeps without :raw */
#define PARENT_MDA_SAFE		"-_.+=@,"

static void
parent_mda_err(char *err, size_t errsz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* parent_mda_err - the one-line reason */
static void
parent_mda_err(char *err, size_t errsz, const char *fmt, ...)
{
	va_list	ap;

	if (errsz == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
}

/* parent_mda_addr - "user@domain", "" for the null sender */
static void
parent_mda_addr(const struct mailaddr *ma, char *buf, size_t bufsz)
{
	if (ma->user[0] == '\0' && ma->domain[0] == '\0')
		buf[0] = '\0';
	else if (ma->domain[0] == '\0')
		(void)snprintf(buf, bufsz, "%s", ma->user);
	else
		(void)snprintf(buf, bufsz, "%s@%s", ma->user, ma->domain);
}

/* parent_mda_value - the raw value of variable NAME into BUF; *REMOTE
 * says whether outside input chose it.  0, or -1 unknown */
static int
parent_mda_value(const struct parent_mda_vars *v, const char *name,
    char *buf, size_t bufsz, int *remote)
{
	static const char	*const part[] = { "sender", "rcpt", "dest" };
	const struct mailaddr	*ma[3];
	const char		*dot;
	size_t			 i, n;

	ma[0] = &v->evp->sender;
	ma[1] = &v->evp->rcpt;
	ma[2] = &v->evp->dest;
	*remote = 1;
	for (i = 0; i < 3; i++) {
		n = strlen(part[i]);
		if (strncmp(name, part[i], n) != 0)
			continue;
		dot = name + n;
		if (*dot == '\0')
			parent_mda_addr(ma[i], buf, bufsz);
		else if (strcmp(dot, ".user") == 0)
			(void)snprintf(buf, bufsz, "%s", ma[i]->user);
		else if (strcmp(dot, ".domain") == 0)
			(void)snprintf(buf, bufsz, "%s", ma[i]->domain);
		else
			return -1;
		return 0;
	}
	if (strcmp(name, "mbox.from") == 0) {
		parent_mda_addr(ma[0], buf, bufsz);
		if (buf[0] == '\0')
			(void)snprintf(buf, bufsz, "MAILER-DAEMON");
		return 0;
	}
	*remote = 0;
	if (strcmp(name, "user.username") == 0 && v->username != NULL)
		(void)snprintf(buf, bufsz, "%s", v->username);
	else if (strcmp(name, "user.directory") == 0 && v->directory != NULL)
		(void)snprintf(buf, bufsz, "%s", v->directory);
	else if (strcmp(name, "mda") == 0 && v->mda != NULL)
		(void)snprintf(buf, bufsz, "%s", v->mda);
	else
		return -1;
	return 0;
}

/* parent_mda_strip - drop the sub-address tag: from DELIM up to the
 * '@' (or the end) */
static void
parent_mda_strip(char *s, char delim)
{
	char	*d, *at;

	at = strrchr(s, '@');
	d = strchr(s, delim);
	if (d == NULL || (at != NULL && d > at))
		return;
	if (at == NULL)
		*d = '\0';
	else
		memmove(d, at, strlen(at) + 1);
}

/* parent_mda_slice - keep bytes [BEG..END] (inclusive, negative from
 * the end, clamped); HASEND 0: [BEG] one byte, 2: [BEG:] to the end */
static void
parent_mda_slice(char *s, long beg, long end, int hasend)
{
	long	len = (long)strlen(s);

	if (beg < 0)
		beg += len;
	if (hasend == 0)
		end = beg;
	else if (hasend == 2)
		end = len - 1;
	else if (end < 0)
		end += len;
	if (beg < 0)
		beg = 0;
	if (end > len - 1)
		end = len - 1;
	if (beg > end || beg >= len) {
		s[0] = '\0';
		return;
	}
	memmove(s, s + beg, (size_t)(end - beg + 1));
	s[end - beg + 1] = '\0';
}

/* parent_mda_parse_slice - "[n]", "[n:]", "[n:m]" at *P; 0 or -1 */
static int
parent_mda_parse_slice(const char **p, long *beg, long *end, int *hasend)
{
	char	*e;

	*beg = strtol(*p + 1, &e, 10);
	if (e == *p + 1 || *beg < -PARENT_MDA_FORMAT_MAX ||
	    *beg > PARENT_MDA_FORMAT_MAX)
		return -1;
	*hasend = 0;
	if (*e == ':') {
		const char	*s = e + 1;

		if (*s == ']')
			*hasend = 2, e = (char *)s;
		else {
			*end = strtol(s, &e, 10);
			if (e == s || *end < -PARENT_MDA_FORMAT_MAX ||
			    *end > PARENT_MDA_FORMAT_MAX)
				return -1;
			*hasend = 1;
		}
	}
	if (*e != ']')
		return -1;
	*p = e + 1;
	return 0;
}

/* parent_mda_check - the injection policy on one finished value */
static int
parent_mda_check(const char *name, const char *val, int remote, int raw,
    enum parent_mda_ctx ctx, char *err, size_t errsz)
{
	const unsigned char	*p;

	for (p = (const unsigned char *)val; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f) {
			parent_mda_err(err, errsz, "%%{%s}: control character "
			    "refused", name);
			return -1;
		}
	if (!remote)
		return 0;
	if (ctx == PARENT_MDA_CTX_PATH) {
		if (val[0] == '\0' || strcmp(val, ".") == 0 ||
		    strstr(val, "..") != NULL ||
		    strchr(val, '/') != NULL) {
			parent_mda_err(err, errsz, "%%{%s}: \"%s\" refused in "
			    "a path", name, val);
			return -1;
		}
		return 0;
	}
	if (val[0] == '-') {
		parent_mda_err(err, errsz, "%%{%s}: \"%s\" refused in a "
		    "command (leading '-')", name, val);
		return -1;
	}
	for (p = (const unsigned char *)val; raw && *p != '\0'; p++)
		if (!isalnum(*p) && *p < 0x80 &&
		    strchr(PARENT_MDA_SAFE "/:", *p) == NULL) {
			parent_mda_err(err, errsz, "%%{%s}: shell "
			    "metacharacter '%c' refused in a command", name,
			    *p);
			return -1;
		}
	return 0;
}

/* parent_mda_modify - apply the modifiers MODS ("a|b" or "a:b") */
static int
parent_mda_modify(char *val, const char *mods, int *raw,
    char *err, size_t errsz)
{
	char	 m[PARENT_MDA_TOKEN_MAX], *s, *tok, *last;

	(void)snprintf(m, sizeof(m), "%s", mods);
	for (s = m; (tok = strtok_r(s, "|:", &last)) != NULL; s = NULL) {
		if (strcmp(tok, "lowercase") == 0)
			for (char *c = val; *c; c++)
				*c = (char)tolower((unsigned char)*c);
		else if (strcmp(tok, "uppercase") == 0)
			for (char *c = val; *c; c++)
				*c = (char)toupper((unsigned char)*c);
		else if (strcmp(tok, "strip") == 0)
			continue;	/* done before the substring */
		else if (strcmp(tok, "raw") == 0)
			*raw = 1;
		else {
			parent_mda_err(err, errsz, "unknown modifier \"%s\"",
			    tok);
			return -1;
		}
	}
	return 0;
}

/* parent_mda_token - one %{TOKEN} into VAL; 0 or -1 */
static int
parent_mda_token(const char *token, const struct parent_mda_vars *v,
    enum parent_mda_ctx ctx, char *val, size_t valsz, char *err,
    size_t errsz)
{
	char		 name[PARENT_MDA_TOKEN_MAX];
	const char	*p = token, *mods = "";
	long		 beg = 0, end = 0;
	int		 hasend = -1, remote, raw = 0;
	size_t		 n;

	n = strcspn(p, "[:");
	(void)snprintf(name, sizeof(name), "%.*s", (int)n, p);
	p += n;
	if (*p == '[' && parent_mda_parse_slice(&p, &beg, &end, &hasend)) {
		parent_mda_err(err, errsz, "%%{%s}: bad substring", token);
		return -1;
	}
	if (*p == ':')
		mods = p + 1;
	else if (*p != '\0') {
		parent_mda_err(err, errsz, "%%{%s}: bad syntax", token);
		return -1;
	}
	if (parent_mda_value(v, name, val, valsz, &remote) == -1) {
		parent_mda_err(err, errsz, "unknown format %%{%s}", name);
		return -1;
	}
	/* strip first, on the whole value; then the substring */
	if (strstr(mods, "strip") != NULL)
		parent_mda_strip(val, v->delim ? v->delim : '+');
	if (hasend != -1)
		parent_mda_slice(val, beg, end, hasend);
	if (parent_mda_modify(val, mods, &raw, err, errsz) == -1)
		return -1;
	if (remote && !raw)
		for (unsigned char *c = (unsigned char *)val; *c; c++)
			if (!isalnum(*c) && *c < 0x80 &&
			    strchr(PARENT_MDA_SAFE, *c) == NULL)
				*c = ':';
	return parent_mda_check(name, val, remote, raw, ctx, err, errsz);
}

/* parent_mda_dotdot - PATH has a ".." component */
static int
parent_mda_dotdot(const char *path)
{
	const char	*p;

	for (p = path; (p = strstr(p, "..")) != NULL; p += 2)
		if ((p == path || p[-1] == '/') && (p[2] == '\0' ||
		    p[2] == '/'))
			return 1;
	return 0;
}

/* parent_mda_format - expand every %{...} of FMT */
int
parent_mda_format(char *dst, size_t dstsz, const char *fmt,
    const struct parent_mda_vars *v, enum parent_mda_ctx ctx, char *err,
    size_t errsz)
{
	char		 token[PARENT_MDA_TOKEN_MAX], val[PARENT_MDA_FORMAT_MAX];
	const char	*p, *close;
	size_t		 len = 0, n;

	if (dstsz == 0)
		return -1;
	for (p = fmt; *p != '\0'; ) {
		if (p[0] != '%' || p[1] != '{') {
			if ((unsigned char)*p < 0x20 || *p == 0x7f) {
				parent_mda_err(err, errsz, "control character "
				    "in format");
				return -1;
			}
			val[0] = *p++;
			val[1] = '\0';
		} else {
			if ((close = strchr(p + 2, '}')) == NULL) {
				parent_mda_err(err, errsz, "unterminated %%{");
				return -1;
			}
			n = (size_t)(close - (p + 2));
			if (n == 0 || n >= sizeof(token)) {
				parent_mda_err(err, errsz, "bad format token");
				return -1;
			}
			memcpy(token, p + 2, n);
			token[n] = '\0';
			if (parent_mda_token(token, v, ctx, val, sizeof(val),
			    err, errsz) == -1)
				return -1;
			p = close + 1;
		}
		n = strlen(val);
		if (len + n >= dstsz) {
			parent_mda_err(err, errsz, "expansion too long");
			return -1;
		}
		memcpy(dst + len, val, n);
		len += n;
	}
	dst[len] = '\0';
	/* values next to each other or to a literal '.' may still make
	 * a ".." component: a path never has one */
	if (ctx == PARENT_MDA_CTX_PATH && parent_mda_dotdot(dst)) {
		parent_mda_err(err, errsz, "\"..\" refused in a path");
		return -1;
	}
	return 0;
}

/* parent_mda_add - one string into the arena, pointed at by *SLOT */
static int
parent_mda_add(struct parent_mda_exec *x, char **slot, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
parent_mda_add(struct parent_mda_exec *x, char **slot, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(x->arena + x->used, sizeof(x->arena) - x->used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(x->arena) - x->used)
		return -1;
	*slot = x->arena + x->used;
	x->used += (size_t)n + 1;
	return 0;
}

static int
parent_mda_arg(struct parent_mda_exec *x, const char *s)
{
	if (x->argc >= PARENT_MDA_ARGV_MAX ||
	    parent_mda_add(x, &x->argv[x->argc], "%s", s) == -1)
		return -1;
	x->argv[++x->argc] = NULL;
	return 0;
}

static int
parent_mda_env(struct parent_mda_exec *x, const char *name, const char *val)
{
	if (x->envc >= PARENT_MDA_ENV_MAX ||
	    parent_mda_add(x, &x->envp[x->envc], "%s=%s", name, val) == -1)
		return -1;
	x->envp[++x->envc] = NULL;
	return 0;
}

/* parent_mda_environ - HOME USER LOGNAME SHELL PATH SENDER RECIPIENT
 * ORIGINAL_RECIPIENT LOCAL DOMAIN [EXTENSION] (MDA-07) */
static int
parent_mda_environ(struct parent_mda_exec *x, const struct envelope *evp,
    const struct passwd *pw)
{
	char	sender[MAILADDR_TEXT_SIZE], rcpt[MAILADDR_TEXT_SIZE];
	char	dest[MAILADDR_TEXT_SIZE];

	parent_mda_addr(&evp->sender, sender, sizeof(sender));
	parent_mda_addr(&evp->rcpt, rcpt, sizeof(rcpt));
	parent_mda_addr(&evp->dest, dest, sizeof(dest));
	if (parent_mda_env(x, "HOME", pw->pw_dir) == -1 ||
	    parent_mda_env(x, "USER", pw->pw_name) == -1 ||
	    parent_mda_env(x, "LOGNAME", pw->pw_name) == -1 ||
	    parent_mda_env(x, "SHELL", PARENT_MDA_SHELL) == -1 ||
	    parent_mda_env(x, "PATH", _PATH_DEFPATH) == -1 ||
	    parent_mda_env(x, "SENDER", sender) == -1 ||
	    parent_mda_env(x, "RECIPIENT", dest) == -1 ||
	    parent_mda_env(x, "ORIGINAL_RECIPIENT", rcpt) == -1 ||
	    parent_mda_env(x, "LOCAL", evp->dest.user) == -1 ||
	    parent_mda_env(x, "DOMAIN", evp->dest.domain) == -1)
		return -1;
	if (evp->mda_subaddress[0] != '\0' &&
	    parent_mda_env(x, "EXTENSION", evp->mda_subaddress) == -1)
		return -1;
	return 0;
}

/* parent_mda_program - X->path = LIBEXEC/NAME, argv[0] = NAME */
static int
parent_mda_program(struct parent_mda_exec *x, const char *libexec,
    const char *name)
{
	if ((size_t)snprintf(x->path, sizeof(x->path), "%s/%s", libexec,
	    name) >= sizeof(x->path))
		return -1;
	return parent_mda_arg(x, name);
}

/* parent_mda_home_path - "~/x", "~" or "x" under HOME; "/x" as is */
static int
parent_mda_home_path(char *dst, size_t dstsz, const char *path,
    const char *home)
{
	if (path[0] == '/')
		return snprintf(dst, dstsz, "%s", path) < (int)dstsz ? 0 : -1;
	if (path[0] == '~' && (path[1] == '/' || path[1] == '\0'))
		path += path[1] == '/' ? 2 : 1;
	return snprintf(dst, dstsz, "%s%s%s", home, *path ? "/" : "",
	    path) < (int)dstsz ? 0 : -1;
}

/* the inputs of one method's argv */
struct parent_mda_job {
	const struct conf_action	*a;
	const struct envelope		*evp;
	const struct passwd		*pw;
	const struct parent_mda_params	*pp;
	const struct parent_mda_vars	*v;
	char				*err;
	size_t				 errsz;
};

/* parent_mda_maildir - mail.maildir [-j] -- PATH (MDA-02..04) */
static int
parent_mda_maildir(const struct parent_mda_job *j, struct parent_mda_exec *x)
{
	char	buf[PARENT_MDA_FORMAT_MAX], path[PARENT_MDA_FORMAT_MAX];

	if (parent_mda_format(buf, sizeof(buf), j->a->path ? j->a->path :
	    "~/Maildir", j->v, PARENT_MDA_CTX_PATH, j->err, j->errsz) == -1)
		return -1;
	if (parent_mda_home_path(path, sizeof(path), buf, j->pw->pw_dir) == -1 ||
	    parent_mda_program(x, j->pp->libexec, "mail.maildir") == -1 ||
	    (j->a->junk && parent_mda_arg(x, "-j") == -1) ||
	    (j->pp->unique != NULL && (parent_mda_arg(x, "-u") == -1 ||
	    parent_mda_arg(x, j->pp->unique) == -1)) ||
	    parent_mda_arg(x, "--") == -1 || parent_mda_arg(x, path) == -1)
		return -2;
	return 0;
}

/* parent_mda_mbox - mail.mboxfile -f SENDER -o -- SPOOL/USER (MDA-01;
 * -o: a repeat of a delivery the mailbox already ends with is not
 * appended again) */
static int
parent_mda_mbox(const struct parent_mda_job *j, struct parent_mda_exec *x)
{
	char	from[MAILADDR_TEXT_SIZE], path[PATH_MAX];

	parent_mda_addr(&j->evp->sender, from, sizeof(from));
	if (from[0] == '\0')
		(void)snprintf(from, sizeof(from), "MAILER-DAEMON");
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", j->pp->spool ?
	    j->pp->spool : PARENT_MDA_SPOOL, j->pw->pw_name) >= sizeof(path) ||
	    parent_mda_program(x, j->pp->libexec, "mail.mboxfile") == -1 ||
	    parent_mda_arg(x, "-f") == -1 || parent_mda_arg(x, from) == -1 ||
	    parent_mda_arg(x, "-o") == -1 ||
	    parent_mda_arg(x, "--") == -1 || parent_mda_arg(x, path) == -1)
		return -2;
	return 0;
}

/* parent_mda_lmtp - mail.lmtp -d DEST -f SENDER -r|-u -- RCPT (MDA-05) */
static int
parent_mda_lmtp(const struct parent_mda_job *j, struct parent_mda_exec *x)
{
	char	dest[PARENT_MDA_FORMAT_MAX], from[MAILADDR_TEXT_SIZE];
	char	rcpt[MAILADDR_TEXT_SIZE];

	if (j->a->path == NULL) {
		parent_mda_err(j->err, j->errsz, "lmtp action without a "
		    "destination");
		return -1;
	}
	if (parent_mda_format(dest, sizeof(dest), j->a->path, j->v,
	    PARENT_MDA_CTX_PATH, j->err, j->errsz) == -1)
		return -1;
	parent_mda_addr(&j->evp->sender, from, sizeof(from));
	parent_mda_addr(&j->evp->dest, rcpt, sizeof(rcpt));
	if (parent_mda_program(x, j->pp->libexec, "mail.lmtp") == -1 ||
	    parent_mda_arg(x, "-d") == -1 || parent_mda_arg(x, dest) == -1 ||
	    parent_mda_arg(x, "-f") == -1 || parent_mda_arg(x, from) == -1 ||
	    parent_mda_arg(x, j->a->rcpt_to ? "-r" : "-u") == -1 ||
	    parent_mda_arg(x, "--") == -1 || parent_mda_arg(x, rcpt) == -1)
		return -2;
	return 0;
}

/*
 * parent_mda_reach - a command that starts with our libexec directory (a
 * /file target's mail.mboxfile, lookup_expand.c) reaches it through a
 * descriptor the child opens as root: the user may not be able to walk
 * to it (a build tree in root's home).  *RUN rewritten into BUF.
 */
static int
parent_mda_reach(const struct parent_mda_job *j, struct parent_mda_exec *x,
    const char **run, char *buf, size_t bufsz)
{
	const char	*lx = j->pp->libexec;
	size_t		 n;

	x->reach[0] = '\0';
	if (lx == NULL || (n = strlen(lx)) == 0 || strncmp(*run, lx, n) != 0 ||
	    (*run)[n] != '/' || strlen(lx) >= sizeof x->reach)
		return 0;
	if ((size_t)snprintf(buf, bufsz, "/proc/self/fd/4%s", *run + n) >=
	    bufsz)
		return -1;
	(void)strlcpy(x->reach, lx, sizeof x->reach);
	*run = buf;
	return 0;
}

/* parent_mda_command - /bin/sh -c COMMAND, or the wrapper around it
 * (MDA-06, MDA-08); an alias or .forward |command or /file (the
 * envelope's mda_exec) is expanded as an mda command is */
static int
parent_mda_command(const struct parent_mda_job *j, struct parent_mda_exec *x)
{
	char			cmd[PARENT_MDA_FORMAT_MAX];
	char			wrapped[PARENT_MDA_FORMAT_MAX];
	char			reached[PARENT_MDA_FORMAT_MAX];
	struct parent_mda_vars	wv;
	const char		*run = cmd;

	if (j->evp->mda_exec[0] != '\0') {
		if (parent_mda_format(cmd, sizeof(cmd), j->evp->mda_exec, j->v,
		    PARENT_MDA_CTX_COMMAND, j->err, j->errsz) == -1)
			return -1;
	} else if (j->a->path == NULL) {
		parent_mda_err(j->err, j->errsz, "mda action without a "
		    "command");
		return -1;
	} else if (parent_mda_format(cmd, sizeof(cmd), j->a->path, j->v,
	    PARENT_MDA_CTX_COMMAND, j->err, j->errsz) == -1)
		return -1;
	if (j->pp->wrapper != NULL) {
		wv = *j->v;
		wv.mda = cmd;
		if (parent_mda_format(wrapped, sizeof(wrapped), j->pp->wrapper,
		    &wv, PARENT_MDA_CTX_COMMAND, j->err, j->errsz) == -1)
			return -1;
		run = wrapped;
	}
	if (parent_mda_reach(j, x, &run, reached, sizeof reached) == -1)
		return -2;
	if ((size_t)snprintf(x->path, sizeof(x->path), "%s",
	    PARENT_MDA_SHELL) >= sizeof(x->path) ||
	    parent_mda_arg(x, "sh") == -1 || parent_mda_arg(x, "-c") == -1 ||
	    parent_mda_arg(x, run) == -1)
		return -2;
	return 0;
}

/* parent_mda_method - the program and its arguments for the action:
 * 0, or -1 with ERR set */
static int
parent_mda_method(const struct parent_mda_job *j, struct parent_mda_exec *x)
{
	int	r;

	/* an alias's or a .forward's target overrides the action's method */
	switch (j->evp->mda_exec[0] != '\0' ? CONF_METHOD_MDA :
	    j->a->method) {
	case CONF_METHOD_MAILDIR:
		r = parent_mda_maildir(j, x);
		break;
	case CONF_METHOD_MBOX:
		r = parent_mda_mbox(j, x);
		break;
	case CONF_METHOD_LMTP:
		r = parent_mda_lmtp(j, x);
		break;
	case CONF_METHOD_MDA:
		r = parent_mda_command(j, x);
		break;
	default:
		parent_mda_err(j->err, j->errsz, "action %s is not a local "
		    "delivery", j->a->name ? j->a->name : "?");
		return -1;
	}
	if (r == -2)
		parent_mda_err(j->err, j->errsz, "delivery command too long");
	return r == 0 ? 0 : -1;
}

/* parent_mda_prepare - argv, envp, directory and ids of one delivery */
int
parent_mda_prepare(const struct conf_action *a, const struct envelope *evp,
    const struct passwd *pw, const struct parent_mda_params *pp,
    struct parent_mda_exec *x, char *err, size_t errsz)
{
	struct parent_mda_vars	v;
	char			size[24];
	struct parent_mda_job	j = { a, evp, pw, pp, &v, err, errsz };

	if (errsz > 0)
		err[0] = '\0';
	memset(x, 0, sizeof(*x));
	if (pw->pw_uid == 0) {
		parent_mda_err(err, errsz, "MDA not allowed to deliver to: %s",
		    pw->pw_name);
		return -1;
	}
	if (pp->libexec == NULL || pw->pw_dir == NULL || pw->pw_name == NULL) {
		parent_mda_err(err, errsz, "incomplete delivery parameters");
		return -1;
	}
	x->uid = pw->pw_uid;
	x->gid = pw->pw_gid;
	if ((size_t)snprintf(x->user, sizeof(x->user), "%s", pw->pw_name) >=
	    sizeof(x->user)) {
		parent_mda_err(err, errsz, "user name too long");
		return -1;
	}
	if (pw->pw_dir[0] != '/' || (size_t)snprintf(x->cwd, sizeof(x->cwd),
	    "%s", pw->pw_dir) >= sizeof(x->cwd))
		(void)snprintf(x->cwd, sizeof(x->cwd), "/");
	memset(&v, 0, sizeof(v));
	v.evp = evp;
	v.username = pw->pw_name;
	v.directory = pw->pw_dir;
	v.delim = pp->delim ? pp->delim : '+';
	if (parent_mda_method(&j, x) == -1)
		return -1;
	(void)snprintf(size, sizeof(size), "%llu", pp->size);
	if (parent_mda_environ(x, evp, pw) == -1 || (pp->size > 0 &&
	    parent_mda_env(x, "SMTPD_MESSAGE_SIZE", size) == -1)) {
		parent_mda_err(err, errsz, "delivery environment too long");
		return -1;
	}
	return 0;
}

/* parent_mda_agent_exec - the long-lived agent of X's user: X's
 * program with -A, the same user, directory and descriptors, and only
 * the environment that is the user's (not one envelope's) */
int
parent_mda_agent_exec(const struct parent_mda_exec *x,
    struct parent_mda_exec *ax)
{
	static const char	*const keep[] = {
		"HOME=", "USER=", "LOGNAME=", "SHELL=", "PATH="
	};
	size_t			 i;
	int			 e;

	memset(ax, 0, sizeof(*ax));
	if (x->argc < 1)
		return -1;
	memcpy(ax->path, x->path, sizeof(ax->path));
	memcpy(ax->cwd, x->cwd, sizeof(ax->cwd));
	memcpy(ax->reach, x->reach, sizeof(ax->reach));
	memcpy(ax->user, x->user, sizeof(ax->user));
	ax->cwd_first = x->cwd_first;
	ax->has_exec_fd = x->has_exec_fd;
	ax->exec_fd = x->exec_fd;
	ax->uid = x->uid;
	ax->gid = x->gid;
	if (parent_mda_arg(ax, x->argv[0]) == -1 ||
	    parent_mda_arg(ax, "-A") == -1)
		return -1;
	for (e = 0; e < x->envc; e++) {
		for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
			if (strncmp(x->envp[e], keep[i], strlen(keep[i])) == 0)
				break;
		if (i == sizeof(keep) / sizeof(keep[0]))
			continue;
		if (ax->envc >= PARENT_MDA_ENV_MAX ||
		    parent_mda_add(ax, &ax->envp[ax->envc], "%s",
		    x->envp[e]) == -1)
			return -1;
		ax->envp[++ax->envc] = NULL;
	}
	return 0;
}

/*
 * parent_mda_sig_default - SIG_DFL for a signal the C library keeps for
 * itself (32, 33 with glibc): signal() refuses them, yet an ignored one
 * is inherited across exec (make(1) ignores them, for one).  The
 * kernel's own call, where its structure is known.
 */
static void
parent_mda_sig_default(int sig)
{
#if defined(__linux__) && (defined(__x86_64__) || defined(__aarch64__))
	struct {
		void		(*handler)(int);
		unsigned long	  flags;
		void		(*restorer)(void);
		unsigned long	  mask;
	} k = { SIG_DFL, 0, NULL, 0 };

	(void)syscall(SYS_rt_sigaction, sig, &k, NULL, sizeof(k.mask));
#else
	(void)sig;
#endif
}

/* parent_mda_child - in the child: become the user, wire the fds and
 * exec; never returns.  Only the process's own state is touched. */
static void __attribute__((noreturn))
parent_mda_child(const struct parent_mda_exec *x, int in, int out,
    const gid_t *groups, int ngroups)
{
	sigset_t	 mask;
	const char	*what;
	int		 sig, prog = -1, dir, low;

	(void)setsid();
	for (sig = 1; sig < NSIG; sig++)
		if (signal(sig, SIG_DFL) == SIG_ERR && errno == EINVAL)
			parent_mda_sig_default(sig);
	sigemptyset(&mask);
	(void)sigprocmask(SIG_SETMASK, &mask, NULL);
	/* out of the way of 0-3 before dup2 */
	if ((in <= 3 && (in = fcntl(in, F_DUPFD, 4)) == -1) ||
	    (out <= 3 && (out = fcntl(out, F_DUPFD, 4)) == -1) ||
	    (x->has_exec_fd && (prog = fcntl(x->exec_fd, F_DUPFD, 4)) ==
	    -1) || dup2(in, 0) == -1 || dup2(out, 1) == -1 ||
	    dup2(out, 2) == -1 || (x->has_exec_fd && (dup2(prog, 3) == -1 ||
	    fcntl(3, F_SETFD, FD_CLOEXEC) == -1))) {
		what = "dup2";
		goto fail;
	}
	if (x->reach[0] != '\0' && ((dir = open(x->reach, O_PATH |
	    O_DIRECTORY)) == -1 || (dir != 4 && dup2(dir, 4) == -1))) {
		what = x->reach;
		goto fail;
	}
	low = x->reach[0] != '\0' ? 5 : x->has_exec_fd ? 4 : 3;
	if (close_range(low, ~0U, 0) == -1)
		for (int fd = low; fd < 65536; fd++)
			(void)close(fd);
	/* a directory only the parent can reach (make run's Maildir in a
	 * 0700 tree): entered first, the delivery then works below it */
	if (x->cwd_first && chdir(x->cwd) == -1) {
		what = "chdir";
		goto fail;
	}
	what = "set user";
	if (geteuid() == 0) {
		if (setgroups((size_t)ngroups, groups) == -1 ||
		    setresgid(x->gid, x->gid, x->gid) == -1 ||
		    setresuid(x->uid, x->uid, x->uid) == -1)
			goto fail;
	} else if (getuid() != x->uid || geteuid() != x->uid) {
		errno = EPERM;
		goto fail;
	}
	if (getuid() == 0 || geteuid() == 0 || getgid() != x->gid) {
		errno = EPERM;
		goto fail;
	}
	(void)umask(077);
	if (!x->cwd_first && chdir(x->cwd) == -1 && chdir("/") == -1) {
		what = "chdir";
		goto fail;
	}
	if (x->has_exec_fd)
		fexecve(3, x->argv, x->envp);
	else
		execve(x->path, x->argv, x->envp);
	what = x->path;
fail:
	dprintf(2, "delivery: %s: %s\n", what, strerror(errno));
	_exit(EX_TEMPFAIL);
}

/* parent_mda_spawn - fork and exec as the user, never waiting */
int
parent_mda_spawn(const struct parent_mda_exec *x, int stdin_fd,
    struct parent_mda_child *c, char *err, size_t errsz)
{
	gid_t	groups[PARENT_MDA_GROUPS_MAX];
	int	ngroups = PARENT_MDA_GROUPS_MAX, in[2] = { -1, -1 }, out[2];
	pid_t	pid;

	c->pid = -1;
	c->in_fd = c->err_fd = -1;
	if (x->uid == 0 || x->argc == 0) {
		parent_mda_err(err, errsz, "refused: %s", x->uid == 0 ?
		    "a delivery never runs as root" : "nothing to run");
		if (stdin_fd >= 0)
			close(stdin_fd);
		return -1;
	}
	if (getgrouplist(x->user, x->gid, groups, &ngroups) == -1) {
		groups[0] = x->gid;
		ngroups = 1;
	}
	if (stdin_fd >= 0)
		in[0] = stdin_fd;
	else if (pipe2(in, O_CLOEXEC) == -1)
		goto fail;
	if (pipe2(out, O_CLOEXEC) == -1)
		goto fail;
	if ((pid = fork()) == -1) {
		close(out[0]);
		close(out[1]);
		goto fail;
	}
	if (pid == 0)
		parent_mda_child(x, in[0], out[1], groups, ngroups);
	close(in[0]);
	close(out[1]);
	if ((in[1] != -1 && fcntl(in[1], F_SETFL, O_NONBLOCK) == -1) ||
	    fcntl(out[0], F_SETFL, O_NONBLOCK) == -1)
		parent_mda_err(err, errsz, "fcntl: %s", strerror(errno));
	c->pid = pid;
	c->in_fd = in[1];
	c->err_fd = out[0];
	return 0;
fail:
	parent_mda_err(err, errsz, "cannot start the delivery: %s",
	    strerror(errno));
	if (in[0] != -1)
		close(in[0]);
	if (in[1] != -1)
		close(in[1]);
	return -1;
}

/* parent_mda_last_line - the last non-blank line of OUT, cleaned:
 * control and non-ASCII bytes as '?', cut to fit */
int
parent_mda_last_line(const char *out, size_t len, char *line, size_t linesz)
{
	size_t	end = len, beg, i, n = 0;

	while (end > 0 && isspace((unsigned char)out[end - 1]))
		end--;
	if (end == 0)
		return 0;
	for (beg = end; beg > 0 && out[beg - 1] != '\n'; beg--)
		;
	while (beg < end && isspace((unsigned char)out[beg]))
		beg++;
	for (i = beg; i < end && n + 1 < linesz; i++) {
		unsigned char	c = (unsigned char)out[i];

		line[n++] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
	}
	line[n] = '\0';
	return 1;
}

/* parent_mda_status - the outcome of a finished delivery (MDA-06,
 * MDA-18): 0 delivered; 71, 74, 75 and signals temporary; 1 and the
 * other sysexits (64-78) permanent; any other code temporary */
int
parent_mda_status(int ws, const char *out, size_t outlen, char *line,
    size_t linesz)
{
	int	code, r;
	char	text[PARENT_MDA_ERR_MAX];

	if (WIFEXITED(ws)) {
		code = WEXITSTATUS(ws);
		if (code == EX_OK)
			r = DELIVERY_OK;
		else if (code == EX_OSERR || code == EX_IOERR ||
		    code == EX_TEMPFAIL)
			r = DELIVERY_TEMPFAIL;
		else if (code == 1 || (code >= EX__BASE && code <= EX__MAX))
			r = DELIVERY_PERMFAIL;
		else
			r = DELIVERY_TEMPFAIL;
		(void)snprintf(text, sizeof(text), code == 0 ? "delivered" :
		    "exited with status %d", code);
	} else if (WIFSIGNALED(ws)) {
		r = DELIVERY_TEMPFAIL;
		(void)snprintf(text, sizeof(text), "terminated by signal %d",
		    WTERMSIG(ws));
	} else {
		r = DELIVERY_TEMPFAIL;
		(void)snprintf(text, sizeof(text), "unexpected wait status");
	}
	if (linesz == 0)
		return r;
	if (r == DELIVERY_OK || out == NULL ||
	    !parent_mda_last_line(out, outlen, line, linesz))
		(void)snprintf(line, linesz, "%s", text);
	return r;
}

/* parent_mda_mbox_prepare - /var/mail/USER exists, is safe, is USER's */
int
parent_mda_mbox_prepare(const char *path, uid_t uid, gid_t gid, char *err,
    size_t errsz)
{
	struct stat	st;
	int		fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd != -1) {
		if (fchown(fd, uid, gid) == -1) {
			parent_mda_err(err, errsz, "%s: chown: %s", path,
			    strerror(errno));
			close(fd);
			(void)unlink(path);
			return -1;
		}
		close(fd);
		return 0;
	}
	if (errno != EEXIST) {
		parent_mda_err(err, errsz, "%s: %s", path, strerror(errno));
		return -1;
	}
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1) {
		parent_mda_err(err, errsz, "%s: %s", path, errno == ELOOP ?
		    "a symbolic link" : strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		parent_mda_err(err, errsz, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	if (!S_ISREG(st.st_mode))
		parent_mda_err(err, errsz, "%s: not a regular file", path);
	else if (st.st_nlink != 1)
		parent_mda_err(err, errsz, "%s: has %lu hard links", path,
		    (unsigned long)st.st_nlink);
	else if (st.st_uid != uid)
		parent_mda_err(err, errsz, "%s: owned by uid %lu, not %lu",
		    path, (unsigned long)st.st_uid, (unsigned long)uid);
	else
		return 0;
	return -1;
}
