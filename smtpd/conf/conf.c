/*
 * conf.c -- loading, freeing and shipping a configuration.
 *
 * conf_load() runs in parent (and for `smtpd -n`): it sets up the parser
 * over a file or a buffer and returns the immutable struct smtpd_conf.
 * conf_serialize() turns a configuration into the canonical text of
 * conf_dump() minus the secrets the receiving process must not hold;
 * conf_deserialize() parses that text back in trusted mode (no file,
 * interface or helper checks, since the receiver may be chrooted).
 * The arena holding every allocation of a configuration lives here too.
 * Nothing here fatals on the contents of the text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_int.h"
#include "log.h"
#include "xmalloc.h"

#define CONF_ARENA_CHUNK	16384

struct conf_chunk {
	struct conf_chunk	*next;
	size_t			 used;
	size_t			 size;
	max_align_t		 data[];
};

struct conf_arena {
	struct conf_chunk	*head;
};

/*
 * The built-in configuration of smtpd -r DIR (make run): mail for any
 * local part at a local name goes to one Maildir under DIR, delivered
 * as one account.  The parent defines its macros: smtpd_port (2525),
 * smtpd_maildir (DIR/Maildir, quoted) and smtpd_mailuser; -D overrides.
 */
const char conf_default_text[] =
	"# built-in configuration of smtpd -r DIR\n"
	"listen on 127.0.0.1 port $smtpd_port\n"
	"action \"local\" maildir $smtpd_maildir virtual "
	    "{ \"@\" = $smtpd_mailuser }\n"
	"action \"relay\" relay\n"
	"match from local for local action \"local\"\n"
	"match from local for any action \"relay\"\n";

/* conf_arena_new - an empty arena */
struct conf_arena *
conf_arena_new(void)
{
	return xcalloc(1, sizeof(struct conf_arena));
}

/* conf_arena_free - release every allocation at once */
void
conf_arena_free(struct conf_arena **ap)
{
	struct conf_chunk	*c;

	if (*ap == NULL)
		return;
	while ((c = (*ap)->head) != NULL) {
		(*ap)->head = c->next;
		free(c);
	}
	free(*ap);
	*ap = NULL;
}

/* conf_alloc - SIZE zeroed bytes owned by the arena */
void *
conf_alloc(struct conf_arena *a, size_t size)
{
	struct conf_chunk	*c = a->head;
	size_t			 al = sizeof(max_align_t), need, csize;
	void			*ptr;

	size = (size + al - 1) / al * al;
	if (size == 0)
		size = al;
	if (c == NULL || c->size - c->used < size) {
		need = size > CONF_ARENA_CHUNK ? size : CONF_ARENA_CHUNK;
		csize = sizeof(*c) + need;
		c = xcalloc(1, csize);
		c->size = need;
		c->next = a->head;
		a->head = c;
	}
	ptr = (char *)c->data + c->used;
	c->used += size;
	return ptr;
}

/* conf_strndup - copy of the first N bytes of S */
char *
conf_strndup(struct conf_arena *a, const char *s, size_t n)
{
	char	*d = conf_alloc(a, n + 1);

	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

/* conf_strdup - copy of S, NULL stays NULL */
char *
conf_strdup(struct conf_arena *a, const char *s)
{
	if (s == NULL)
		return NULL;
	return conf_strndup(a, s, strlen(s));
}

/* conf_push - append PTR to the array *ARRAYP of *N pointers */
void
conf_push(struct conf_arena *a, void *arrayp, size_t *n, void *ptr)
{
	void	***arr = arrayp;
	void	**na;
	size_t	 cap;

	/* capacity doubles from 4: grow when n is 0 or a power of two >= 4 */
	if (*n == 0 || (*n >= 4 && (*n & (*n - 1)) == 0)) {
		cap = *n == 0 ? 4 : *n * 2;
		na = conf_alloc(a, cap * sizeof(*na));
		if (*n > 0)
			memcpy(na, *arr, *n * sizeof(*na));
		*arr = na;
	}
	(*arr)[(*n)++] = ptr;
}

/* conf_defaults - a configuration with every default set */
static struct smtpd_conf *
conf_defaults(void)
{
	struct smtpd_conf	*c;

	c = xcalloc(1, sizeof(*c));
	c->arena = conf_arena_new();
	conf_option_defaults(c);
	return c;
}

/* conf_run - parse the pushed input; the configuration or NULL */
static struct smtpd_conf *
conf_run(const char *path, const char *name, const char *text, size_t len,
    const char *const *macros, int nmacros, FILE *errors, int trusted,
    const char *libexec)
{
	struct conf_parser	 p;
	struct smtpd_conf	*conf;
	const char		*eq;
	char			*mname;
	volatile int		 ok = 0;
	int			 i;

	memset(&p, 0, sizeof(p));
	p.conf = conf_defaults();
	p.a = p.conf->arena;
	p.errors = errors;
	p.trusted = trusted;
	p.libexec = libexec;
	conf_lex_init(&p);
	if (setjmp(p.abort) == 0) {
		for (i = 0; i < nmacros; i++) {
			if ((eq = strchr(macros[i], '=')) == NULL ||
			    eq == macros[i]) {
				conf_error(&p, 0, "invalid macro definition: "
				    "%s", macros[i]);
				continue;
			}
			mname = conf_strndup(p.a, macros[i],
			    (size_t)(eq - macros[i]));
			conf_macro_define(&p, mname, eq + 1, 1);
		}
		if (path != NULL)
			conf_lex_push_file(&p, path, 0);
		else
			conf_lex_push_buffer(&p, name, text, len);
		ok = conf_parse(&p) == 0 && p.nerrors == 0;
		/* smtpd -v (the log's verbosity) reports unused macros */
		if (!trusted && log_getverbose() > 0)
			conf_macro_report_unused(&p);
	}
	conf_lex_done(&p);
	conf_table_close_all(&p);
	conf = p.conf;
	if (!ok)
		conf_free(&conf);
	return conf;
}

struct smtpd_conf *
conf_load(const char *path, const char *const *macros, int nmacros,
    FILE *errors, const char *libexec)
{
	return conf_run(path, path, NULL, 0, macros, nmacros, errors, 0,
	    libexec);
}

struct smtpd_conf *
conf_load_string(const char *name, const char *text, size_t len,
    const char *const *macros, int nmacros, FILE *errors,
    const char *libexec)
{
	return conf_run(NULL, name, text, len, macros, nmacros, errors, 0,
	    libexec);
}

/* conf_free - release a configuration and everything it holds */
void
conf_free(struct smtpd_conf **confp)
{
	if (*confp == NULL)
		return;
	conf_arena_free(&(*confp)->arena);
	free(*confp);
	*confp = NULL;
}

struct conf_table *
conf_table_find(const struct smtpd_conf *c, const char *name)
{
	size_t	i;

	for (i = 0; i < c->ntables; i++)
		if (strcmp(c->tables[i]->name, name) == 0)
			return c->tables[i];
	return NULL;
}

struct conf_action *
conf_action_find(const struct smtpd_conf *c, const char *name)
{
	size_t	i;

	for (i = 0; i < c->nactions; i++)
		if (strcmp(c->actions[i]->name, name) == 0)
			return c->actions[i];
	return NULL;
}

/*
 * conf_serialize - the text another process rebuilds its copy from.
 * The format is the canonical dump (lossless for everything the daemon
 * uses) with secrets left out as conf_dump_redacted() decides.
 */
int
conf_serialize(const struct smtpd_conf *c, int for_proc,
    unsigned char **buf, size_t *len)
{
	FILE	*fp;
	char	*text = NULL;
	size_t	 size = 0;

	if ((fp = open_memstream(&text, &size)) == NULL)
		return -1;
	conf_dump_redacted(fp, c, for_proc);
	if (fclose(fp) != 0) {
		free(text);
		return -1;
	}
	*buf = (unsigned char *)text;
	*len = size;
	return 0;
}

/* conf_deserialize - configuration from conf_serialize(), or NULL */
struct smtpd_conf *
conf_deserialize(const unsigned char *buf, size_t len)
{
	struct smtpd_conf	*c;
	FILE			*errors;
	char			*text = NULL;
	size_t			 textlen = 0;

	/* in memory: the receiver may be chrooted, with no /dev/null */
	if ((errors = open_memstream(&text, &textlen)) == NULL)
		return NULL;
	c = conf_run(NULL, "(serialized)", (const char *)buf, len, NULL, 0,
	    errors, 1, NULL);
	fclose(errors);
	if (c == NULL && text != NULL && textlen > 0)
		log_warnx("configuration from parent: %.*s", (int)strcspn(text,
		    "\n"), text);
	free(text);
	if (c != NULL)
		c->redacted = 1;
	return c;
}
