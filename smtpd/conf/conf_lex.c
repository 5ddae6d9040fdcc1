/*
 * conf_lex.c -- tokens of smtpd.conf: words, quoted strings, punctuation,
 * newlines; macros ($name) and include files.
 *
 * Runs wherever a configuration is parsed (parent, smtpd -n, and every
 * process rebuilding its copy from conf_deserialize()).  Input is
 * untrusted text: each file is checked whole before use (NUL bytes,
 * invalid UTF-8, over-long lines are refused), every token is bounded by
 * CONF_TOKEN_MAX, include and macro nesting are bounded, and a macro that
 * expands to itself is refused.  It never calls fatal(); errors go
 * through conf_syntax()/conf_fatal(), which unwind to the parser.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf_int.h"
#include "xmalloc.h"

struct conf_macro {
	struct conf_macro	*next;		/* in definition order */
	struct conf_macro	*chain;		/* same hash bucket */
	char			*name;
	char			*value;
	int			 cmdline;
	int			 active;	/* being expanded now */
	int			 used;		/* expanded at least once */
	const char		*file;		/* where defined (arena) */
	int			 line;
};

struct conf_src {
	struct conf_src		*prev;
	char			*name;		/* for messages; in the arena */
	char			*real;		/* realpath of a file, or NULL */
	char			*buf;
	size_t			 len;
	size_t			 pos;
	int			 line;
	struct conf_macro	*macro;		/* expansion of this macro */
	int			 depth;		/* macro nesting */
	int			 ended;		/* final blank returned */
};

static int	conf_lex_getc(struct conf_parser *, int *);

static const char *const conf_reserved[] = {
	"action", "admd", "alias", "any", "auth", "auth-optional", "backup",
	"bounce", "bypass", "ca", "cert", "chain", "chroot", "ciphers",
	"commit", "compression", "connect", "data", "data-line", "dhe",
	"disconnect", "domain", "ehlo", "encryption", "expand-only", "fcrdns",
	"filter", "for", "forward-only", "from", "group", "helo", "helo-src",
	"host", "hostname", "hostnames", "include", "inet4", "inet6", "junk",
	"key", "limit", "listen", "lmtp", "local", "mail-from", "maildir",
	"mask-src", "masquerade", "match", "max-deferred",
	"max-message-size", "mbox", "mda", "mta", "mx", "no-dsn",
	"no-verify", "noop", "on", "phase", "pki", "port", "proc",
	"proc-exec", "protocols", "proxy-v2", "queue", "quit", "rcpt-to",
	"rdns", "received-auth", "recipient", "regex", "reject", "relay",
	"report", "rewrite", "rset", "scheduler", "senders", "smtp",
	"smtp-in", "smtp-out", "smtps", "socket", "src", "srs",
	"sub-addr-delim", "table", "tag", "tagged", "tls", "tls-require",
	"ttl", "user", "userbase", "verify", "virtual", "warn-interval",
	"wrapper", NULL
};

/* conf_is_reserved - is WORD a keyword of the modern grammar */
int
conf_is_reserved(const char *word)
{
	size_t	i;

	for (i = 0; conf_reserved[i] != NULL; i++)
		if (strcmp(conf_reserved[i], word) == 0)
			return 1;
	return 0;
}

/* conf_lex_check_text - refuse NUL, invalid UTF-8 and over-long lines */
static void
conf_lex_check_text(struct conf_parser *p, const char *name,
    const unsigned char *s, size_t len)
{
	size_t	i, linestart = 0;
	int	line = 1, n, k;

	for (i = 0; i < len; i++) {
		if (s[i] == '\n') {
			line++;
			linestart = i + 1;
			continue;
		}
		if (i - linestart >= CONF_LINE_MAX)
			conf_fatal(p, "%s:%d: line longer than %d bytes", name,
			    line, CONF_LINE_MAX);
		if (s[i] == '\0')
			conf_fatal(p, "%s:%d: NUL byte in configuration", name,
			    line);
		if (s[i] < 0x80)
			continue;
		if (s[i] >= 0xc2 && s[i] <= 0xdf)
			n = 1;
		else if (s[i] >= 0xe0 && s[i] <= 0xef)
			n = 2;
		else if (s[i] >= 0xf0 && s[i] <= 0xf4)
			n = 3;
		else
			n = -1;
		if (n > 0 && i + n < len) {
			for (k = 1; k <= n; k++)
				if ((s[i + k] & 0xc0) != 0x80)
					n = -1;
		} else
			n = -1;
		if (n < 0)
			conf_fatal(p, "%s:%d: invalid UTF-8 byte 0x%02x", name,
			    line, s[i]);
		i += n;
	}
}

/* conf_lex_error - a lexical error: the rest of the line is dropped */
static void __attribute__((format(printf, 2, 3), noreturn))
conf_lex_error(struct conf_parser *p, const char *fmt, ...)
{
	char	msg[256];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p->lex_error = 1;
	conf_syntax(p, "%s", msg);
}

/* conf_lex_skip_line - drop characters up to the end of the line */
void
conf_lex_skip_line(struct conf_parser *p)
{
	int	c, line;

	p->have_ahead = 0;
	p->lex_error = 0;
	do
		c = conf_lex_getc(p, &line);
	while (c != EOF && c != '\n');
	p->tok.type = c == EOF ? T_EOF : T_NL;
}

/* conf_lex_push - make a source the current input */
static void
conf_lex_push(struct conf_parser *p, struct conf_src *src)
{
	src->prev = p->src;
	p->src = src;
}

/* conf_lex_pop - drop the current source */
static void
conf_lex_pop(struct conf_parser *p)
{
	struct conf_src	*src = p->src;

	if (src == NULL)
		return;
	p->src = src->prev;
	if (src->macro)
		src->macro->active = 0;
	else
		p->nsrc_files--;
	free(src->real);
	free(src->buf);
	free(src);
}

/*
 * conf_lex_push_owned - make BUF (LEN bytes, malloc'd, NUL-terminated)
 * the input named NAME.  The source is pushed before the text is
 * checked, so a refused text is freed with the other sources.
 */
static struct conf_src *
conf_lex_push_owned(struct conf_parser *p, const char *name, char *buf,
    size_t len, const char *real)
{
	struct conf_src	*src;

	src = xcalloc(1, sizeof(*src));
	src->name = conf_strdup(p->a, name);	/* tokens outlive the source */
	src->buf = buf;
	src->len = len;
	src->line = 1;
	src->real = real ? xstrdup(real) : NULL;
	p->nsrc_files++;
	conf_lex_push(p, src);
	conf_lex_check_text(p, name, (const unsigned char *)buf, len);
	return src;
}

/* conf_lex_push_buffer - parse TEXT as the file NAME */
void
conf_lex_push_buffer(struct conf_parser *p, const char *name,
    const char *text, size_t len)
{
	char	*buf;

	if (len > CONF_FILE_MAX)
		conf_fatal(p, "%s: configuration larger than %d bytes", name,
		    CONF_FILE_MAX);
	buf = xmalloc(len + 1);
	memcpy(buf, text, len);
	buf[len] = '\0';
	conf_lex_push_owned(p, name, buf, len, NULL);
}

/* conf_lex_refuse - an unusable file: an error at the include LINE, or
 * the end of the parse for the main file (line 0) */
static int __attribute__((format(printf, 3, 4)))
conf_lex_refuse(struct conf_parser *p, int line, const char *fmt, ...)
{
	char	msg[PATH_MAX + 256];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line == 0)
		conf_fatal(p, "%s", msg);
	conf_error(p, line, "%s", msg);
	return -1;
}

/* conf_lex_read - the whole of the regular file open on FD, or NULL */
static char *
conf_lex_read(int fd, size_t size, size_t *lenp)
{
	char	*buf;
	size_t	 n = 0;
	ssize_t	 r;

	buf = xmalloc(size + 1);
	while (n < size) {
		if ((r = read(fd, buf + n, size - n)) == -1) {
			if (errno == EINTR)
				continue;
			free(buf);
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*lenp = n;
	return buf;
}

/*
 * conf_lex_push_file - open PATH (an include at LINE when line > 0).
 * The file is opened non-blocking and must be a regular file: a FIFO or
 * a device would block the parse (and the daemon's start) for ever.
 */
int
conf_lex_push_file(struct conf_parser *p, const char *path, int line)
{
	struct conf_src	*s;
	struct stat	 st;
	char		 real[PATH_MAX], *buf;
	size_t		 n;
	int		 fd, saved;

	if (p->nsrc_files >= CONF_INCLUDE_DEPTH) {
		conf_error(p, line, "includes nested deeper than %d",
		    CONF_INCLUDE_DEPTH);
		return -1;
	}
	if (realpath(path, real) == NULL ||
	    (fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1) {
		if (line > 0)
			return conf_lex_refuse(p, line, "cannot open include "
			    "file %s: %s", path, strerror(errno));
		return conf_lex_refuse(p, line, "%s: %s", path,
		    strerror(errno));
	}
	for (s = p->src; s != NULL; s = s->prev)
		if (s->real != NULL && strcmp(s->real, real) == 0) {
			close(fd);
			conf_error(p, line, "recursive include of %s", path);
			return -1;
		}
	if (fstat(fd, &st) == -1) {
		saved = errno;
		close(fd);
		return conf_lex_refuse(p, line, "%s: %s", path,
		    strerror(saved));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return conf_lex_refuse(p, line, "%s: not a regular file",
		    path);
	}
	if (st.st_size > CONF_FILE_MAX) {
		close(fd);
		return conf_lex_refuse(p, line, "%s: larger than %d bytes",
		    path, CONF_FILE_MAX);
	}
	buf = conf_lex_read(fd, (size_t)st.st_size, &n);
	saved = errno;
	close(fd);
	if (buf == NULL)
		return conf_lex_refuse(p, line, "%s: %s", path,
		    strerror(saved));
	conf_lex_push_owned(p, path, buf, n, real);
	return 0;
}

/* conf_macro_hash - FNV-1a of NAME */
static size_t
conf_macro_hash(const char *name)
{
	size_t	h = 2166136261u;

	while (*name)
		h = (h ^ (unsigned char)*name++) * 16777619u;
	return h;
}

/* conf_macro_find - a macro by name */
static struct conf_macro *
conf_macro_find(struct conf_parser *p, const char *name)
{
	struct conf_macro	*m;

	if (p->macro_nhash == 0)
		return NULL;
	m = p->macro_hash[conf_macro_hash(name) & (p->macro_nhash - 1)];
	for (; m != NULL; m = m->chain)
		if (strcmp(m->name, name) == 0)
			return m;
	return NULL;
}

/* conf_macro_rehash - twice as many chains, so that each stays short */
static void
conf_macro_rehash(struct conf_parser *p)
{
	struct conf_macro	*m;
	size_t			 n = p->macro_nhash ? p->macro_nhash * 2 : 64;
	size_t			 h;

	free(p->macro_hash);
	p->macro_hash = xcalloc(n, sizeof(*p->macro_hash));
	p->macro_nhash = n;
	for (m = p->macros; m != NULL; m = m->next) {
		h = conf_macro_hash(m->name) & (n - 1);
		m->chain = p->macro_hash[h];
		p->macro_hash[h] = m;
	}
}

/*
 * conf_macro_define - NAME = VALUE; -D definitions win over the file's.
 * Macros are kept in definition order and found through a hash table,
 * so that defining n macros costs O(n), not O(n^2).
 */
int
conf_macro_define(struct conf_parser *p, const char *name,
    const char *value, int cmdline)
{
	struct conf_macro	*m;
	size_t			 h;

	if ((m = conf_macro_find(p, name)) != NULL) {
		if (m->cmdline && !cmdline)
			return 0;
		if (m->active)
			return -1;
		free(m->value);
		m->value = xstrdup(value);
		m->cmdline = cmdline;
		return 0;
	}
	m = xcalloc(1, sizeof(*m));
	m->name = xstrdup(name);
	m->value = xstrdup(value);
	m->cmdline = cmdline;
	m->file = p->stmt_file;
	m->line = p->stmt_line;
	if (p->macros_last != NULL)
		p->macros_last->next = m;
	else
		p->macros = m;
	p->macros_last = m;
	if (++p->nmacros > p->macro_nhash)
		conf_macro_rehash(p);
	else {
		h = conf_macro_hash(name) & (p->macro_nhash - 1);
		m->chain = p->macro_hash[h];
		p->macro_hash[h] = m;
	}
	return 0;
}

/*
 * conf_macro_report_unused - warn about every macro never expanded, in
 * the order they were defined (OpenSMTPD does this with -v)
 */
void
conf_macro_report_unused(struct conf_parser *p)
{
	struct conf_macro	*m;

	for (m = p->macros; m != NULL; m = m->next) {
		if (m->used || p->errors == NULL)
			continue;
		if (m->cmdline)
			fprintf(p->errors, "warning: macro '%s' (-D) not "
			    "used\n", m->name);
		else
			fprintf(p->errors, "%s:%d: warning: macro '%s' not "
			    "used\n", m->file, m->line, m->name);
	}
}

/* conf_lex_expand - push the value of macro NAME as input */
static void
conf_lex_expand(struct conf_parser *p, const char *name)
{
	struct conf_macro	*m;
	struct conf_src		*src;
	int			 depth;

	if ((m = conf_macro_find(p, name)) == NULL)
		conf_lex_error(p, "macro '%s' not defined", name);
	if (m->active)
		conf_lex_error(p, "macro '%s' expands to itself", name);
	m->used = 1;
	depth = p->src->macro ? p->src->depth + 1 : 1;
	if (depth > CONF_MACRO_DEPTH)
		conf_lex_error(p, "macros nested deeper than %d",
		    CONF_MACRO_DEPTH);
	/* nested macros can double at each level: bound the whole text
	 * they produce, and give up the parse once it is exceeded */
	p->macro_expanded += strlen(m->value);
	if (p->macro_expanded > CONF_EXPAND_MAX)
		conf_fatal(p, "%s:%d: macros expand to more than %d bytes "
		    "(while expanding '%s')", p->src->name, p->src->line,
		    CONF_EXPAND_MAX, name);
	src = xcalloc(1, sizeof(*src));
	src->name = p->src->name;
	src->buf = xstrdup(m->value);
	src->len = strlen(m->value);
	src->line = p->src->line;
	src->macro = m;
	src->depth = depth;
	m->active = 1;
	conf_lex_push(p, src);
}

/*
 * conf_lex_getc - next character; backslash-newline joins lines, the end
 * of a macro reads as a blank and the end of an include as a newline
 */
static int
conf_lex_getc(struct conf_parser *p, int *line)
{
	struct conf_src	*src;
	int		 c;

	for (;;) {
		if ((src = p->src) == NULL)
			return EOF;
		*line = src->line;
		if (src->pos >= src->len) {
			if (src->macro) {
				/* stay active until the blank is read, so that
				 * "$a" at the end of a's own value is caught */
				if (src->ended) {
					conf_lex_pop(p);
					continue;
				}
				src->ended = 1;
				return ' ';
			}
			if (src->prev == NULL)
				return EOF;
			conf_lex_pop(p);
			return '\n';
		}
		c = (unsigned char)src->buf[src->pos++];
		if (c == '\\' && src->pos < src->len &&
		    src->buf[src->pos] == '\n') {
			src->pos++;
			src->line++;
			continue;
		}
		if (c == '\n' && src->macro == NULL)
			src->line++;
		return c;
	}
}

/* conf_lex_ungetc - give back the last character of the current source */
static void
conf_lex_ungetc(struct conf_parser *p, int c)
{
	struct conf_src	*src = p->src;

	if (c == EOF || src == NULL || src->pos == 0 ||
	    (unsigned char)src->buf[src->pos - 1] != c)
		return;		/* a synthetic separator: nothing to undo */
	src->pos--;
	if (c == '\n' && src->macro == NULL)
		src->line--;
}

/* conf_lex_wordchar - may C continue an unquoted word */
static int
conf_lex_wordchar(int c)
{
	if (c == EOF || c == ' ' || c == '\t' || c == '\n' || c == '\r')
		return 0;
	return strchr("(){}<>!=,", c) == NULL;
}

/* conf_lex_quoted - the rest of a string opened by QUOTE */
static void
conf_lex_quoted(struct conf_parser *p, struct conf_tok *t, int quote)
{
	int	c, next, line;

	t->len = 0;
	for (;;) {
		c = conf_lex_getc(p, &line);
		if (c == EOF || c == '\n') {
			conf_lex_ungetc(p, c);
			conf_lex_error(p, "unterminated quoted string");
		}
		if (c == quote)
			break;
		if (c == '\\') {
			next = conf_lex_getc(p, &line);
			if (next == quote || next == ' ' || next == '\t')
				c = next;
			else
				conf_lex_ungetc(p, next);
		}
		if (t->len >= CONF_TOKEN_MAX)
			conf_lex_error(p, "string longer than %d bytes",
			    CONF_TOKEN_MAX);
		t->s[t->len++] = (char)c;
	}
	t->s[t->len] = '\0';
	t->type = T_QSTR;
}

/* conf_lex_token - read one token into T */
static void
conf_lex_token(struct conf_parser *p, struct conf_tok *t)
{
	char	name[64];
	size_t	n;
	int	c, line;

again:
	do
		c = conf_lex_getc(p, &line);
	while (c == ' ' || c == '\t' || c == '\r');
	t->file = p->src ? p->src->name : p->lastfile;
	t->line = p->src ? line : p->lastline;
	p->lastfile = t->file;
	p->lastline = t->line;
	t->len = 0;
	t->s[0] = '\0';
	if (c == '#') {
		while ((c = conf_lex_getc(p, &line)) != EOF && c != '\n')
			;
	}
	switch (c) {
	case EOF:	t->type = T_EOF; return;
	case '\n':	t->type = T_NL; return;
	case '{':	t->type = T_LBRACE; return;
	case '}':	t->type = T_RBRACE; return;
	case '<':	t->type = T_LT; return;
	case '>':	t->type = T_GT; return;
	case '!':	t->type = T_BANG; return;
	case ',':	t->type = T_COMMA; return;
	case '=':
		if ((c = conf_lex_getc(p, &line)) == '>') {
			t->type = T_ARROW;
			return;
		}
		conf_lex_ungetc(p, c);
		t->type = T_EQ;
		return;
	case '"':
	case '\'':
		conf_lex_quoted(p, t, c);
		return;
	case '$':
		for (n = 0; n < sizeof(name) - 1; n++) {
			c = conf_lex_getc(p, &line);
			if (c == EOF || !(c == '_' || (c >= '0' && c <= '9') ||
			    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
				conf_lex_ungetc(p, c);
				break;
			}
			name[n] = (char)c;
		}
		name[n] = '\0';
		if (n == 0)
			conf_lex_error(p, "'$' not followed by a macro name");
		conf_lex_expand(p, name);
		goto again;
	}
	if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z') || c == '_' || c == ':' || c == '-')) {
		if (c == '/' || c == '@' || c == '*' || c == '~' || c == '.' ||
		    c == '[')
			conf_lex_error(p, "unexpected '%c': a value starting with "
			    "'%c' must be quoted", c, c);
		if (c > 0x20 && c < 0x7f)
			conf_lex_error(p, "unexpected character '%c'", c);
		conf_lex_error(p, "unexpected byte 0x%02x", c);
	}
	for (;;) {
		if (t->len >= CONF_TOKEN_MAX)
			conf_lex_error(p, "word longer than %d bytes",
			    CONF_TOKEN_MAX);
		t->s[t->len++] = (char)c;
		c = conf_lex_getc(p, &line);
		if (!conf_lex_wordchar(c)) {
			conf_lex_ungetc(p, c);
			break;
		}
	}
	t->s[t->len] = '\0';
	t->type = T_WORD;
}

/* conf_peek - the next token, not consumed */
struct conf_tok *
conf_peek(struct conf_parser *p)
{
	if (!p->have_ahead) {
		p->ahead.s = p->aheadbuf;
		conf_lex_token(p, &p->ahead);
		p->have_ahead = 1;
	}
	return &p->ahead;
}

/* conf_next - consume and return the next token */
struct conf_tok *
conf_next(struct conf_parser *p)
{
	char	*tmp;

	if (p->have_ahead) {
		tmp = p->tokbuf;
		p->tok = p->ahead;
		p->tokbuf = p->aheadbuf;
		p->aheadbuf = tmp;
		p->have_ahead = 0;
		return &p->tok;
	}
	p->tok.s = p->tokbuf;
	p->tok.type = T_WORD;	/* mid-statement until the token is read */
	conf_lex_token(p, &p->tok);
	return &p->tok;
}

/* conf_lex_init - empty lexer state */
void
conf_lex_init(struct conf_parser *p)
{
	p->tokbuf = xmalloc(CONF_TOKEN_MAX + 1);
	p->aheadbuf = xmalloc(CONF_TOKEN_MAX + 1);
	p->tokbuf[0] = p->aheadbuf[0] = '\0';
	p->tok.s = p->tokbuf;
	p->tok.type = T_NL;
	p->lastfile = "";
}

/* conf_lex_done - release sources and macros */
void
conf_lex_done(struct conf_parser *p)
{
	struct conf_macro	*m;

	while (p->src != NULL)
		conf_lex_pop(p);
	while ((m = p->macros) != NULL) {
		p->macros = m->next;
		free(m->name);
		free(m->value);
		free(m);
	}
	p->macros_last = NULL;
	free(p->macro_hash);
	p->macro_hash = NULL;
	p->macro_nhash = p->nmacros = 0;
	free(p->tokbuf);
	free(p->aheadbuf);
	p->tokbuf = p->aheadbuf = NULL;
}
